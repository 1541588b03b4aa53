#!/usr/bin/python3
# kmip_raw.py - a byte-level KMIP client for kmsd's hostile, TLS, protocol
# and durability suites.
#
# usage: kmip_raw.py CASE --port N --certs DIR [--log FILE] [--pid PID]
#
# PyKMIP (pykmip_client.py) shows that a real third-party client works;
# this one builds TTLV by hand so that it can send what no client library
# would: absurd lengths, deep nesting, huge batches, garbage, other
# protocol versions, Client Correlation Values, TLS peers without the
# right certificate.  Each CASE checks kmsd's answer and exits 0 when it
# is what the protocol promises (1 with a sentence otherwise).  Only the
# standard library is used (ssl, socket), so any python3 runs it.
import argparse
import os
import socket
import ssl
import struct
import sys
import threading
import time

# Tags and values (KMIP 1.2 / 2.0; see /work/shared/KMIP.md).
T_ATTRIBUTE = 0x420008
T_ATTR_NAME = 0x42000A
T_ATTR_VALUE = 0x42000B
T_BATCH_COUNT = 0x42000D
T_BATCH_ERROR = 0x42000E
T_BATCH_ITEM = 0x42000F
T_BLOCK_MODE = 0x420011
T_ALG = 0x420028
T_LENGTH = 0x42002A
T_CPARAMS = 0x42002B
T_USAGE = 0x42002C
T_IV = 0x42003D
T_KEY_BLOCK = 0x420040
T_KEY_FORMAT = 0x420042
T_KEY_MATERIAL = 0x420043
T_KEY_VALUE = 0x420045
T_MAX_RESPONSE = 0x420050
T_NAME = 0x420053
T_NAME_TYPE = 0x420054
T_NAME_VALUE = 0x420055
T_OBJECT_TYPE = 0x420057
T_OPERATION = 0x42005C
T_PADDING = 0x42005F
T_PV = 0x420069
T_PV_MAJOR = 0x42006A
T_PV_MINOR = 0x42006B
T_REQ_HEADER = 0x420077
T_REQ_MESSAGE = 0x420078
T_REQ_PAYLOAD = 0x420079
T_RESP_HEADER = 0x42007A
T_RESP_MESSAGE = 0x42007B
T_RESP_PAYLOAD = 0x42007C
T_RESULT_MESSAGE = 0x42007D
T_RESULT_REASON = 0x42007E
T_RESULT_STATUS = 0x42007F
T_STATE = 0x42008D
T_SYM_KEY = 0x42008F
T_TEMPLATE_ATTR = 0x420091
T_TIME_STAMP = 0x420092
T_BATCH_ID = 0x420093
T_UID = 0x420094
T_DATA = 0x4200C2
T_TAG_LENGTH = 0x4200CE
T_CLIENT_CORR = 0x420105
T_ATTRIBUTES = 0x420125

STRUCT, INT, ENUM, BOOL, TEXT, BYTES, DATETIME = 1, 2, 5, 6, 7, 8, 9

OP_CREATE, OP_REGISTER, OP_GET, OP_ACTIVATE = 0x01, 0x03, 0x0A, 0x12
OP_QUERY, OP_DISCOVER, OP_ENCRYPT = 0x18, 0x1E, 0x1F

INVALID_MESSAGE = 0x04
OPERATION_NOT_SUPPORTED = 0x05
RESPONSE_TOO_LARGE = 0x02
UNSUPPORTED_PROTOCOL_VERSION = 0x3F


class Failed(Exception):
    pass


# ---------------------------------------------------------------- TTLV

def item(tag, typ, value):
    pad = (8 - len(value) % 8) % 8
    return struct.pack(">I", tag)[1:] + bytes([typ]) + \
        struct.pack(">I", len(value)) + value + b"\0" * pad


def st(tag, *children):
    return item(tag, STRUCT, b"".join(children))


def integer(tag, v):
    return item(tag, INT, struct.pack(">i", v))


def enum(tag, v):
    return item(tag, ENUM, struct.pack(">I", v))


def text(tag, s):
    return item(tag, TEXT, s.encode())


def byts(tag, b):
    return item(tag, BYTES, b)


def pv(major, minor):
    return st(T_PV, integer(T_PV_MAJOR, major), integer(T_PV_MINOR, minor))


def attr1(name, value):
    return st(T_ATTRIBUTE, text(T_ATTR_NAME, name), value)


def request(version, items, corr=None, batch_error=None, max_resp=None):
    """items: (op, payload bytes, batch id or None)."""
    h = [pv(*version)]
    if max_resp is not None:
        h.append(integer(T_MAX_RESPONSE, max_resp))
    if corr is not None:
        h.append(text(T_CLIENT_CORR, corr))
    if batch_error is not None:
        h.append(enum(T_BATCH_ERROR, batch_error))
    h.append(integer(T_BATCH_COUNT, len(items)))
    body = [st(T_REQ_HEADER, *h)]
    for op, payload, bid in items:
        parts = [enum(T_OPERATION, op)]
        if bid is not None:
            parts.append(byts(T_BATCH_ID, bid))
        parts.append(st(T_REQ_PAYLOAD, payload))
        body.append(st(T_BATCH_ITEM, *parts))
    return st(T_REQ_MESSAGE, *body)


def decode(buf, off=0, end=None, depth=0):
    """A list of (tag, type, value); Structures hold lists."""
    end = len(buf) if end is None else end
    out = []
    if depth > 40:
        raise Failed("response nested too deep")
    while off < end:
        if end - off < 8:
            raise Failed("truncated TTLV header in the response")
        tag = int.from_bytes(buf[off:off + 3], "big")
        typ = buf[off + 3]
        n = int.from_bytes(buf[off + 4:off + 8], "big")
        v = off + 8
        if v + n > end:
            raise Failed("a TTLV length in the response runs past its end")
        raw = bytes(buf[v:v + n])
        if typ == STRUCT:
            val = decode(buf, v, v + n, depth + 1)
        elif typ in (INT, ENUM):
            val = struct.unpack(">i" if typ == INT else ">I", raw[:4])[0]
        elif typ in (3, DATETIME, BOOL):
            val = struct.unpack(">q", raw)[0]
        elif typ == TEXT:
            val = raw.decode()
        else:
            val = raw
        out.append((tag, typ, val))
        off = v + n + (8 - n % 8) % 8
    return out


def find(items, tag):
    for t, _, v in items:
        if t == tag:
            return v
    return None


def find_all(items, tag):
    return [v for t, _, v in items if t == tag]


class Response:
    def __init__(self, raw):
        top = decode(raw)
        if len(top) != 1 or top[0][0] != T_RESP_MESSAGE:
            raise Failed("the answer is not a KMIP Response Message")
        self.raw = raw
        msg = top[0][2]
        h = find(msg, T_RESP_HEADER)
        p = find(h, T_PV)
        self.version = (find(p, T_PV_MAJOR), find(p, T_PV_MINOR))
        self.time_stamp = find(h, T_TIME_STAMP)
        self.count = find(h, T_BATCH_COUNT)
        self.header_tags = [t for t, _, _ in h]
        self.items = [Item(bi) for bi in find_all(msg, T_BATCH_ITEM)]


class Item:
    def __init__(self, bi):
        self.op = find(bi, T_OPERATION)
        self.batch_id = find(bi, T_BATCH_ID)
        self.status = find(bi, T_RESULT_STATUS)
        self.reason = find(bi, T_RESULT_REASON)
        self.message = find(bi, T_RESULT_MESSAGE)
        self.payload = find(bi, T_RESP_PAYLOAD) or []

    def ok(self):
        return self.status == 0

    def __str__(self):
        return "op=%s status=%s reason=%s message=%r" % (
            self.op, self.status, self.reason, self.message)


# ---------------------------------------------------------------- payloads

def p_create(name=None, version=(1, 4), mask=0x0C, length=256):
    attrs = [(T_ALG, "Cryptographic Algorithm", enum, 3),
             (T_LENGTH, "Cryptographic Length", integer, length),
             (T_USAGE, "Cryptographic Usage Mask", integer, mask)]
    if version[0] >= 2:
        body = [fn(tag, v) for tag, _, fn, v in attrs]
        if name:
            body.append(st(T_NAME, text(T_NAME_VALUE, name),
                           enum(T_NAME_TYPE, 1)))
        box = st(T_ATTRIBUTES, *body)
    else:
        body = [attr1(nm, fn(T_ATTR_VALUE, v)) for _, nm, fn, v in attrs]
        if name:
            body.append(attr1("Name", st(T_ATTR_VALUE,
                                         text(T_NAME_VALUE, name),
                                         enum(T_NAME_TYPE, 1))))
        box = st(T_TEMPLATE_ATTR, *body)
    return enum(T_OBJECT_TYPE, 2) + box


def p_register(material, version=(1, 4), mask=0x0C):
    attrs = attr1("Cryptographic Usage Mask", integer(T_ATTR_VALUE, mask))
    box = st(T_ATTRIBUTES, integer(T_USAGE, mask)) if version[0] >= 2 \
        else st(T_TEMPLATE_ATTR, attrs)
    key = st(T_SYM_KEY, st(T_KEY_BLOCK, enum(T_KEY_FORMAT, 1),
                           st(T_KEY_VALUE, byts(T_KEY_MATERIAL, material)),
                           enum(T_ALG, 3),
                           integer(T_LENGTH, len(material) * 8)))
    return enum(T_OBJECT_TYPE, 2) + box + key


def p_uid(uid=None):
    return text(T_UID, uid) if uid is not None else b""


def p_encrypt_cbc(uid, data):
    cp = st(T_CPARAMS, enum(T_BLOCK_MODE, 1), enum(T_PADDING, 3),
            enum(T_ALG, 3))
    return text(T_UID, uid) + cp + byts(T_DATA, data)


def key_material(payload):
    kb = find(find(payload, T_SYM_KEY), T_KEY_BLOCK)
    return find(find(kb, T_KEY_VALUE), T_KEY_MATERIAL)


# ---------------------------------------------------------------- TLS

class Conn:
    def __init__(self, port, certs, who="commserve", timeout=10,
                 ciphers=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
        if who is not None:
            ctx.load_cert_chain(os.path.join(certs, who + ".pem"),
                                os.path.join(certs, who + ".key"))
        if ciphers is not None:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers(ciphers)
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")

    def send(self, data):
        self.s.sendall(data)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            b = self.s.recv(n - len(buf))
            if not b:
                raise EOFError("closed after %d of %d bytes" % (len(buf), n))
            buf += b
        return bytes(buf)

    def recv_msg(self):
        h = self.recv_exact(8)
        n = int.from_bytes(h[4:8], "big")
        if n > 16 << 20:
            raise Failed("kmsd announced a %d-byte response" % n)
        return Response(h + self.recv_exact(n))

    def call(self, data):
        self.send(data)
        return self.recv_msg()

    def one(self, version, op, payload, **kw):
        r = self.call(request(version, [(op, payload, None)], **kw))
        if len(r.items) != 1:
            raise Failed("expected one batch item, got %d" % len(r.items))
        return r.items[0]

    def closed(self, wait=10):
        """True when the peer closes (EOF or reset) within wait seconds."""
        self.s.settimeout(wait)
        try:
            while True:
                b = self.s.recv(65536)
                if not b:
                    return True
        except (ConnectionError, ssl.SSLError, OSError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def expect(cond, what):
    if not cond:
        raise Failed(what)
    print("ok: %s" % what, flush=True)


def still_serving(a):
    c = Conn(a.port, a.certs)
    it = c.one((1, 4), OP_DISCOVER, b"")
    c.close()
    expect(it.ok(), "kmsd still answers Discover Versions")
