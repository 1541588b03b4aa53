#!/usr/bin/python3
"""gen_pykmip.py - encode KMIP messages with PyKMIP's own encoder classes.

Writes one pykmip-gen-<name>.hex file per message into this directory.
check_kmip_msg.c builds the same messages with keyflow's encoder and
compares byte for byte, then decodes PyKMIP's bytes; so the unit test needs
no Python at run time.  Regenerate (Debian's python3-pykmip, PyKMIP 0.10,
under /usr/bin/python3; it does not run on Python 3.12+) with:

    /usr/bin/python3 tests/unit/data/kmip/gen_pykmip.py

The values below are mirrored in check_kmip_msg.c (the "gen_*" builders):
change both together.  Attributes are listed in keyflow's encoding order
(common/kmip/msg_attr.c), which PyKMIP's client also uses for the ones it
sends.
"""
import os
import sys

from kmip.core import enums, objects, attributes, misc, primitives, utils
from kmip.core import secrets
from kmip.core.factories.attributes import AttributeFactory
from kmip.core.messages import contents, messages, payloads

HERE = os.path.dirname(os.path.abspath(__file__))
E = enums
V = {
    "1.2": (E.KMIPVersion.KMIP_1_2, 1, 2),
    "1.4": (E.KMIPVersion.KMIP_1_4, 1, 4),
    "2.0": (E.KMIPVersion.KMIP_2_0, 2, 0),
}
TS = 0x5F5E1000                       # 2020-09-13 12:26:40 UTC
UID = "3f1b9c2e-0d4a-4c57-9e61-2b7f0a8d5c11"
KEY = bytes(range(0x20, 0x40))        # 32-byte AES key
DATA = bytes(range(0x40, 0x60))       # 32-byte KEK to encrypt
IV16 = bytes(range(0x10))
IV12 = bytes(range(0xA0, 0xAC))
AAD = b"pool:1"
TAG = bytes(range(0xE0, 0xF0))
CT48 = bytes(range(0x60, 0x90))
NAME = "keyflow pool pool1 master key"
af = AttributeFactory()


def attr(kind, value):
    return af.create_attribute(kind, value)


def key_attrs(name=True):
    a = [attr(E.AttributeType.CRYPTOGRAPHIC_ALGORITHM,
              E.CryptographicAlgorithm.AES),
         attr(E.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
         attr(E.AttributeType.CRYPTOGRAPHIC_USAGE_MASK, [
             E.CryptographicUsageMask.ENCRYPT,
             E.CryptographicUsageMask.DECRYPT,
             E.CryptographicUsageMask.WRAP_KEY,
             E.CryptographicUsageMask.UNWRAP_KEY])]
    if name:
        a.append(attr(E.AttributeType.NAME, attributes.Name.create(
            NAME, E.NameType.UNINTERPRETED_TEXT_STRING)))
    return a


def request(ver, items, ts=True):
    kv, major, minor = V[ver]
    hdr = messages.RequestHeader(
        protocol_version=contents.ProtocolVersion(major, minor),
        time_stamp=contents.TimeStamp(TS) if ts else None,
        batch_count=contents.BatchCount(len(items)))
    bis = []
    for i, (op, pl) in enumerate(items):
        bid = None
        if len(items) > 1:
            bid = contents.UniqueBatchItemID(bytes([i + 1]))
        bis.append(messages.RequestBatchItem(
            operation=contents.Operation(op), unique_batch_item_id=bid,
            request_payload=pl))
    return messages.RequestMessage(request_header=hdr, batch_items=bis), kv


def response(ver, items):
    kv, major, minor = V[ver]
    hdr = messages.ResponseHeader(
        protocol_version=contents.ProtocolVersion(major, minor),
        time_stamp=contents.TimeStamp(TS),
        batch_count=contents.BatchCount(len(items)))
    bis = []
    for op, pl, failure in items:
        kw = {"result_status": contents.ResultStatus(
            E.ResultStatus.SUCCESS)}
        if failure:
            kw = {"result_status": contents.ResultStatus(
                E.ResultStatus.OPERATION_FAILED),
                "result_reason": contents.ResultReason(failure[0]),
                "result_message": contents.ResultMessage(failure[1])}
        bis.append(messages.ResponseBatchItem(
            operation=contents.Operation(op), response_payload=pl, **kw))
    return messages.ResponseMessage(response_header=hdr,
                                    batch_items=bis), kv


def cparams_cbc():
    return attributes.CryptographicParameters(
        block_cipher_mode=E.BlockCipherMode.CBC,
        padding_method=E.PaddingMethod.PKCS5,
        cryptographic_algorithm=E.CryptographicAlgorithm.AES)


def cparams_gcm():
    return attributes.CryptographicParameters(
        block_cipher_mode=E.BlockCipherMode.GCM,
        cryptographic_algorithm=E.CryptographicAlgorithm.AES,
        iv_length=96, tag_length=16)


def symkey():
    return secrets.SymmetricKey(objects.KeyBlock(
        key_format_type=misc.KeyFormatType(E.KeyFormatType.RAW),
        key_value=objects.KeyValue(objects.KeyMaterial(KEY)),
        cryptographic_algorithm=attributes.CryptographicAlgorithm(
            E.CryptographicAlgorithm.AES),
        cryptographic_length=attributes.CryptographicLength(256)))


def messages_to_write():
    O = E.Operation
    yield "create-activate-req-1.2", request("1.2", [
        (O.CREATE, payloads.CreateRequestPayload(
            object_type=E.ObjectType.SYMMETRIC_KEY,
            template_attribute=objects.TemplateAttribute(
                attributes=key_attrs()))),
        (O.ACTIVATE, payloads.ActivateRequestPayload())])
    for ver in ("1.4", "2.0"):
        yield "create-req-" + ver, request(ver, [
            (O.CREATE, payloads.CreateRequestPayload(
                object_type=E.ObjectType.SYMMETRIC_KEY,
                template_attribute=objects.TemplateAttribute(
                    attributes=key_attrs())))])
        yield "create-resp-" + ver, response(ver, [
            (O.CREATE, payloads.CreateResponsePayload(
                object_type=E.ObjectType.SYMMETRIC_KEY,
                unique_identifier=UID), None)])
    yield "encrypt-cbc-req-1.2", request("1.2", [
        (O.ENCRYPT, payloads.EncryptRequestPayload(
            unique_identifier=UID, cryptographic_parameters=cparams_cbc(),
            data=DATA, iv_counter_nonce=IV16))])
    yield "encrypt-cbc-resp-1.2", response("1.2", [
        (O.ENCRYPT, payloads.EncryptResponsePayload(
            unique_identifier=UID, data=CT48), None)])
    for ver in ("1.4", "2.0"):
        yield "encrypt-gcm-req-" + ver, request(ver, [
            (O.ENCRYPT, payloads.EncryptRequestPayload(
                unique_identifier=UID,
                cryptographic_parameters=cparams_gcm(), data=DATA,
                iv_counter_nonce=IV12, auth_additional_data=AAD))])
        yield "encrypt-gcm-resp-" + ver, response(ver, [
            (O.ENCRYPT, payloads.EncryptResponsePayload(
                unique_identifier=UID, data=DATA, auth_tag=TAG), None)])
    yield "decrypt-gcm-req-1.4", request("1.4", [
        (O.DECRYPT, payloads.DecryptRequestPayload(
            unique_identifier=UID, cryptographic_parameters=cparams_gcm(),
            data=DATA, iv_counter_nonce=IV12, auth_additional_data=AAD,
            auth_tag=TAG))])
    yield "decrypt-resp-1.4", response("1.4", [
        (O.DECRYPT, payloads.DecryptResponsePayload(
            unique_identifier=UID, data=DATA), None)])
    for ver in ("1.2", "2.0"):
        yield "get-req-" + ver, request(ver, [
            (O.GET, payloads.GetRequestPayload(unique_identifier=UID))])
        yield "get-resp-" + ver, response(ver, [
            (O.GET, payloads.GetResponsePayload(
                object_type=E.ObjectType.SYMMETRIC_KEY,
                unique_identifier=UID, secret=symkey()), None)])
    yield "get-fail-resp-1.2", response("1.2", [
        (O.GET, None, (E.ResultReason.ITEM_NOT_FOUND,
                       "Could not locate object: 42"))])
    for ver in ("1.2", "2.0"):
        yield "locate-req-" + ver, request(ver, [
            (O.LOCATE, payloads.LocateRequestPayload(
                maximum_items=2, attributes=[
                    attr(E.AttributeType.OBJECT_TYPE,
                         E.ObjectType.SYMMETRIC_KEY),
                    attr(E.AttributeType.NAME, attributes.Name.create(
                        NAME, E.NameType.UNINTERPRETED_TEXT_STRING))]))])
        yield "locate-resp-" + ver, response(ver, [
            (O.LOCATE, payloads.LocateResponsePayload(
                unique_identifiers=[UID, "2"]), None)])
        yield "getattrs-req-" + ver, request(ver, [
            (O.GET_ATTRIBUTES, payloads.GetAttributesRequestPayload(
                unique_identifier=UID, attribute_names=[
                    "Cryptographic Algorithm", "Name", "State"]))])
        yield "getattrs-resp-" + ver, response(ver, [
            (O.GET_ATTRIBUTES, payloads.GetAttributesResponsePayload(
                unique_identifier=UID, attributes=key_attrs() + [
                    attr(E.AttributeType.STATE, E.State.ACTIVE)]), None)])
    yield "revoke-destroy-req-1.2", request("1.2", [
        (O.REVOKE, payloads.RevokeRequestPayload(
            unique_identifier=attributes.UniqueIdentifier(UID),
            revocation_reason=objects.RevocationReason(
                code=E.RevocationReasonCode.CESSATION_OF_OPERATION,
                message="pool deleted"))),
        (O.DESTROY, payloads.DestroyRequestPayload(
            unique_identifier=attributes.UniqueIdentifier(UID)))])
    yield "register-req-1.2", request("1.2", [
        (O.REGISTER, payloads.RegisterRequestPayload(
            object_type=E.ObjectType.SYMMETRIC_KEY,
            template_attribute=objects.TemplateAttribute(
                attributes=key_attrs(name=False)),
            managed_object=symkey()))])
    yield "discover-req-1.2", request("1.2", [
        (O.DISCOVER_VERSIONS, payloads.DiscoverVersionsRequestPayload(
            protocol_versions=[contents.ProtocolVersion(2, 0),
                               contents.ProtocolVersion(1, 4),
                               contents.ProtocolVersion(1, 2)]))],
        ts=False)
    yield "discover-resp-1.2", response("1.2", [
        (O.DISCOVER_VERSIONS, payloads.DiscoverVersionsResponsePayload(
            protocol_versions=[contents.ProtocolVersion(1, 4),
                               contents.ProtocolVersion(1, 2)]), None)])
    yield "query-req-1.2", request("1.2", [
        (O.QUERY, payloads.QueryRequestPayload(query_functions=[
            E.QueryFunction.QUERY_OPERATIONS,
            E.QueryFunction.QUERY_OBJECTS]))])
    yield "query-resp-1.2", response("1.2", [
        (O.QUERY, payloads.QueryResponsePayload(
            operations=[O.CREATE, O.GET, O.ENCRYPT],
            object_types=[E.ObjectType.SYMMETRIC_KEY],
            vendor_identification="keyflow"), None)])


def main():
    for name, (msg, kv) in messages_to_write():
        buf = utils.BytearrayStream()
        msg.write(buf, kmip_version=kv)
        b = bytes(buf.buffer)
        path = os.path.join(HERE, "pykmip-gen-%s.hex" % name)
        with open(path, "w") as f:
            f.write("# pykmip-gen-%s: written by gen_pykmip.py with PyKMIP "
                    "%s's encoder.\n" % (name, kmip_version()))
            for i in range(0, len(b), 16):
                f.write(" ".join("%02x" % x for x in b[i:i + 16]) + "\n")
        print("%-28s %4d bytes" % (name, len(b)))


def kmip_version():
    import kmip
    return kmip.__version__


if __name__ == "__main__":
    sys.exit(main())
