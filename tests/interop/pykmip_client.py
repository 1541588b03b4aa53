#!/usr/bin/python3
# pykmip_client.py - PyKMIP's client (Debian python3-pykmip) against kmsd.
#
# usage: /usr/bin/python3 pykmip_client.py --port N --certs DIR --version V
#
# A third-party KMIP client drives every operation kmsd serves, at one
# protocol version, and checks what a user of a KMS relies on: the key Get
# returns is the key Encrypt used (checked here with the `cryptography`
# package, not only by a server round trip), GCM tags verify and tampering
# is caught, objects are private to the certificate that made them, and
# each refusal carries the Result Reason KMIP prescribes for the version.
# Exit status 0 only when every check passed; each check prints one line.
#
# DIR is what tests/certs.sh makes: ca.pem, commserve.{pem,key} (the
# owner) and other.{pem,key} (a second identity).
import argparse
import logging
import os
import sys

from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kmip.core import enums
from kmip.core import exceptions as core_exceptions
from kmip.core.messages import payloads
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

VERSIONS = {
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}
R = enums.ResultReason
MASK = [enums.CryptographicUsageMask.ENCRYPT,
        enums.CryptographicUsageMask.DECRYPT]
CBC = {"cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
       "block_cipher_mode": enums.BlockCipherMode.CBC,
       "padding_method": enums.PaddingMethod.PKCS5}


class Failed(Exception):
    pass


def ok(what):
    print("ok: %s" % what, flush=True)


def check(cond, what):
    if not cond:
        raise Failed(what)
    ok(what)


def refused(reason, what, fn, *args, **kwargs):
    """fn must fail with the Result Reason reason."""
    try:
        fn(*args, **kwargs)
    except (pie_exceptions.KmipOperationFailure,
            core_exceptions.OperationFailure) as e:
        if e.reason != reason:
            raise Failed("%s: refused with %s, not %s (%s)" %
                         (what, e.reason, reason, e))
        ok("%s refused: %s" % (what, reason.name))
        return
    raise Failed("%s: was not refused" % what)


class Run:
    def __init__(self, args):
        self.v = VERSIONS[args.version]
        self.v2 = self.v == enums.KMIPVersion.KMIP_2_0
        self.tag = "%s-%d" % (args.version, os.getpid())
        self.args = args
        self.c = self.client("commserve")
        self.other = self.client("other")

    def client(self, who):
        d = self.args.certs
        c = ProxyKmipClient(hostname="127.0.0.1", port=self.args.port,
                            cert=os.path.join(d, who + ".pem"),
                            key=os.path.join(d, who + ".key"),
                            ca=os.path.join(d, "ca.pem"),
                            kmip_version=self.v)
        c.open()
        return c

    def state_reason(self, reason_1x):
        """The reason for a refused lifecycle transition."""
        return R.WRONG_KEY_LIFECYCLE_STATE if self.v2 else reason_1x

    def attrs(self, uid, names):
        got, attrs = self.c.get_attributes(uid, names)
        check(got == uid, "Get Attributes names the object")
        out = {}
        for a in attrs:
            v = a.attribute_value
            out[a.attribute_name.value] = getattr(v, "value", v)
        return out

    def state(self, uid):
        return self.attrs(uid, ["State"]).get("State")

    def locate(self, client, name):
        f = client.attribute_factory.create_attribute(
            enums.AttributeType.NAME, name)
        return client.locate(attributes=[f])

    def meta(self):
        res = self.c.proxy.discover_versions()
        got = [(p.major, p.minor) for p in res.protocol_versions]
        check(got == [(2, 0), (1, 4), (1, 3), (1, 2), (1, 1), (1, 0)],
              "Discover Versions lists 2.0 down to 1.0: %s" % got)
        res = self.c.proxy.query(query_functions=[
            enums.QueryFunction.QUERY_OPERATIONS,
            enums.QueryFunction.QUERY_OBJECTS])
        ops = set(res.operations or [])
        check({enums.Operation.CREATE, enums.Operation.ENCRYPT,
               enums.Operation.LOCATE} <= ops,
              "Query lists Create, Encrypt and Locate")
        check(list(res.object_types or []) ==
              [enums.ObjectType.SYMMETRIC_KEY],
              "Query lists Symmetric Key as the only object type")

    def lifecycle(self):
        name = "kmsd-interop-%s" % self.tag
        uid = self.c.create(enums.CryptographicAlgorithm.AES, 256,
                            name=name, cryptographic_usage_mask=MASK)
        ok("Create AES-256 %s -> %s" % (name, uid))
        check(self.state(uid) == enums.State.PRE_ACTIVE,
              "a new key is Pre-Active")
        a = self.attrs(uid, ["Cryptographic Algorithm",
                             "Cryptographic Length", "Name",
                             "Cryptographic Usage Mask"])
        check(a.get("Cryptographic Length") == 256,
              "Get Attributes: length 256")
        check(a.get("Cryptographic Usage Mask") == 0x0C,
              "Get Attributes: usage mask Encrypt|Decrypt")
        check(self.locate(self.c, name) == [uid], "Locate by Name")
        refused(self.state_reason(R.ILLEGAL_OPERATION),
                "Encrypt with a Pre-Active key", self.c.encrypt, b"x" * 16,
                uid=uid, cryptographic_parameters=CBC)
        refused(R.ITEM_NOT_FOUND, "Get of an unknown id", self.c.get,
                "00000000-0000-4000-8000-000000000000")

        # Another identity sees nothing and may touch nothing.
        refused(R.PERMISSION_DENIED, "Get by another identity",
                self.other.get, uid)
        refused(R.PERMISSION_DENIED, "Activate by another identity",
                self.other.activate, uid)
        check(self.locate(self.other, name) == [],
              "Locate by another identity finds nothing")

        self.c.activate(uid)
        check(self.state(uid) == enums.State.ACTIVE, "Activate -> Active")
        refused(self.state_reason(R.PERMISSION_DENIED), "Activate twice",
                self.c.activate, uid)
        refused(self.state_reason(R.PERMISSION_DENIED),
                "Destroy of an Active key", self.c.destroy, uid)
        key = self.c.get(uid)
        check(len(key.value) == 32 and
              key.cryptographic_algorithm ==
              enums.CryptographicAlgorithm.AES,
              "Get returns 32 bytes of AES key material")
        self.cbc(uid, key.value)
        if self.v >= enums.KMIPVersion.KMIP_1_4:
            self.gcm(uid, key.value)
        else:
            params = dict(CBC, block_cipher_mode=enums.BlockCipherMode.GCM,
                          padding_method=enums.PaddingMethod.NONE,
                          tag_length=16)
            refused(R.FEATURE_NOT_SUPPORTED, "GCM below KMIP 1.4",
                    self.c.encrypt, b"k" * 32, uid=uid,
                    cryptographic_parameters=params)
        refused(R.PERMISSION_DENIED, "Encrypt by another identity",
                self.other.encrypt, b"x" * 16, uid=uid,
                cryptographic_parameters=CBC)

        ct, iv = self.c.encrypt(b"kept for later", uid=uid,
                                cryptographic_parameters=CBC)
        self.c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION,
                      uid, revocation_message="interop test")
        check(self.state(uid) == enums.State.DEACTIVATED,
              "Revoke (cessation) -> Deactivated")
        refused(self.state_reason(R.ILLEGAL_OPERATION),
                "Encrypt with a Deactivated key", self.c.encrypt, b"x" * 16,
                uid=uid, cryptographic_parameters=CBC)
        check(self.c.decrypt(ct, uid=uid, cryptographic_parameters=CBC,
                             iv_counter_nonce=iv) == b"kept for later",
              "a Deactivated key still decrypts")
        self.c.destroy(uid)
        check(self.state(uid) == enums.State.DESTROYED, "Destroy -> Destroyed")
        refused(R.OBJECT_DESTROYED if self.v2 else R.ITEM_NOT_FOUND,
                "Get of a destroyed key", self.c.get, uid)
        check(self.locate(self.c, name) == [],
              "Locate skips destroyed keys")

    def cbc(self, uid, key):
        data = b"a KEK is 32 bytes: 0123456789abc"
        ct, iv = self.c.encrypt(data, uid=uid,
                                cryptographic_parameters=dict(CBC,
                                                              random_iv=True))
        check(len(ct) == 48 and iv is not None and len(iv) == 16,
              "Encrypt AES-CBC-PKCS5: 48 bytes and a server IV")
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        un = sym_padding.PKCS7(128).unpadder()
        plain = un.update(dec.update(ct) + dec.finalize()) + un.finalize()
        check(plain == data, "the Get key decrypts kmsd's CBC ciphertext")
        check(self.c.decrypt(ct, uid=uid, cryptographic_parameters=CBC,
                             iv_counter_nonce=iv) == data,
              "Decrypt AES-CBC round trip")
        myiv = bytes(range(16))
        nopad = dict(CBC, padding_method=enums.PaddingMethod.NONE)
        ct2, iv2 = self.c.encrypt(data, uid=uid,
                                  cryptographic_parameters=nopad,
                                  iv_counter_nonce=myiv)
        enc = Cipher(algorithms.AES(key), modes.CBC(myiv)).encryptor()
        check(iv2 is None and ct2 == enc.update(data) + enc.finalize(),
              "Encrypt AES-CBC without padding, client IV, matches")
        refused(R.BAD_CRYPTOGRAPHIC_PARAMETERS if self.v2 else
                R.INVALID_FIELD,
                "CBC without padding on unaligned data", self.c.encrypt,
                b"17 bytes of data!", uid=uid,
                cryptographic_parameters=nopad)

    def gcm_request(self, op, uid, data, iv=None, aad=None, tag=None):
        params = self.c._build_cryptographic_parameters({
            "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
            "block_cipher_mode": enums.BlockCipherMode.GCM,
            "tag_length": 16})
        if op == enums.Operation.ENCRYPT:
            p = payloads.EncryptRequestPayload(
                unique_identifier=uid, cryptographic_parameters=params,
                data=data, iv_counter_nonce=iv, auth_additional_data=aad)
        else:
            p = payloads.DecryptRequestPayload(
                unique_identifier=uid, cryptographic_parameters=params,
                data=data, iv_counter_nonce=iv, auth_additional_data=aad,
                auth_tag=tag)
        return self.c.proxy.send_request_payload(op, p)

    def gcm(self, uid, key):
        kek = os.urandom(32)
        aad = b"pool/interop"
        r = self.gcm_request(enums.Operation.ENCRYPT, uid, kek, aad=aad)
        check(r.iv_counter_nonce is not None and
              len(r.iv_counter_nonce) == 12 and len(r.auth_tag) == 16,
              "Encrypt AES-GCM: server IV of 12 bytes and a 16-byte tag")
        plain = AESGCM(key).decrypt(r.iv_counter_nonce, r.data + r.auth_tag,
                                    aad)
        check(plain == kek, "the Get key opens kmsd's GCM ciphertext")
        d = self.gcm_request(enums.Operation.DECRYPT, uid, r.data,
                             iv=r.iv_counter_nonce, aad=aad, tag=r.auth_tag)
        check(d.data == kek, "Decrypt AES-GCM round trip")
        bad = bytes([r.auth_tag[0] ^ 1]) + r.auth_tag[1:]
        refused(R.CRYPTOGRAPHIC_FAILURE, "Decrypt with an altered tag",
                self.gcm_request, enums.Operation.DECRYPT, uid, r.data,
                iv=r.iv_counter_nonce, aad=aad, tag=bad)
        nonce = os.urandom(12)
        r = self.gcm_request(enums.Operation.ENCRYPT, uid, kek, iv=nonce)
        check(r.iv_counter_nonce is None and
              r.data + r.auth_tag == AESGCM(key).encrypt(nonce, kek, None),
              "Encrypt AES-GCM with a client IV matches")

    def register(self):
        material = os.urandom(16)
        key = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128,
                                   material, masks=MASK,
                                   name="kmsd-reg-%s" % self.tag)
        uid = self.c.register(key)
        ok("Register AES-128 -> %s" % uid)
        got = self.c.get(uid)
        check(got.value == material and got.cryptographic_length == 128,
              "Get returns the registered material")
        # PyKMIP's create() always adds Encrypt|Decrypt; register() does not.
        uid2 = self.c.register(objects.SymmetricKey(
            enums.CryptographicAlgorithm.AES, 256, os.urandom(32),
            masks=[enums.CryptographicUsageMask.DECRYPT]))
        self.c.activate(uid2)
        refused(R.PERMISSION_DENIED, "Encrypt without the Encrypt usage bit",
                self.c.encrypt, b"x" * 16, uid=uid2,
                cryptographic_parameters=CBC)
        self.c.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, uid2)
        check(self.state(uid2) == enums.State.COMPROMISED,
              "Revoke (key compromise) -> Compromised")
        self.c.destroy(uid2)
        check(self.state(uid2) == enums.State.DESTROYED_COMPROMISED,
              "Destroy of a compromised key -> Destroyed Compromised")
        self.c.destroy(uid)
        ok("Destroy of a Pre-Active key")

    def close(self):
        self.c.close()
        self.other.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--certs", required=True)
    ap.add_argument("--version", choices=sorted(VERSIONS), required=True)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    run = Run(args)
    try:
        run.meta()
        run.lifecycle()
        run.register()
    except Failed as e:
        print("FAIL (KMIP %s): %s" % (args.version, e), flush=True)
        return 1
    finally:
        run.close()
    print("PASS: PyKMIP at KMIP %s" % args.version, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
