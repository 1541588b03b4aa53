#!/usr/bin/python3
# kmsd_cases.py - the cases of kmsd's TLS, hostile, protocol and
# durability suites, on top of kmip_raw.py.
#
# usage: kmsd_cases.py CASE... --port N --certs DIR [--log FILE]
#
# Every case prints "ok: ..." lines and raises Failed with a sentence when
# kmsd does not behave as promised; the exit status is 0 only when every
# case named passed.  Cases that attack kmsd end by checking that it still
# answers a well-formed request.
import argparse
import os
import random
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kmip_raw import *  # noqa: E402,F401,F403

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


# ---------------------------------------------------------------- TLS

def refused(a, what, **kw):
    """A TLS peer kmsd must refuse before any KMIP is read."""
    try:
        c = Conn(a.port, a.certs, **kw)
    except (ssl.SSLError, ConnectionError) as e:
        expect(True, "%s: refused in the handshake (%s)" % (what, e))
        return
    # TLS 1.3: the client's handshake ends before the server has checked
    # its certificate; the refusal arrives as an alert on the first read.
    try:
        c.send(request((1, 4), [(OP_DISCOVER, b"", None)]))
        c.s.settimeout(10)
        data = c.s.recv(8)
    except socket.timeout:
        raise Failed("%s: kmsd neither answered nor closed" % what)
    except (ssl.SSLError, ConnectionError) as e:
        expect(True, "%s: refused at the first read (%s)" % (what, e))
        return
    finally:
        c.close()
    expect(not data, "%s: closed without a KMIP answer" % what)


@case
def tls_no_cert(a):
    refused(a, "a peer without a client certificate", who=None)


@case
def tls_rogue(a):
    refused(a, "a certificate from another CA", who="rogue")


@case
def tls_expired(a):
    refused(a, "an expired certificate", who="expired")


@case
def tls_plaintext(a):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    s.sendall(request((1, 4), [(OP_DISCOVER, b"", None)]))
    got = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except ConnectionError:
        pass
    except socket.timeout:
        raise Failed("plaintext KMIP: kmsd neither answered nor closed")
    s.close()
    expect(not got.startswith(b"\x42"), "plaintext KMIP on the TLS port is "
           "not answered in KMIP (%d bytes of TLS alert)" % len(got))


@case
def tls_cbc_suite(a):
    # What PyKMIP's client and server offer with RSA certificates.
    c = Conn(a.port, a.certs, ciphers="AES128-SHA256")
    expect(c.s.cipher()[0] == "AES128-SHA256",
           "TLS 1.2 with only AES128-SHA256 offered is accepted")
    expect(c.one((1, 2), OP_DISCOVER, b"").ok(), "and served")
    c.close()


@case
def good(a):
    c = Conn(a.port, a.certs)
    it = c.one((1, 4), OP_DISCOVER, b"")
    expect(it.ok(), "a client of the right CA is served (%s)" %
           c.s.version())
    c.close()


# ---------------------------------------------------------------- hostile

def refusal(r, what):
    expect(len(r.items) == 1 and r.items[0].reason == INVALID_MESSAGE and
           r.items[0].op is None, "%s: Invalid Message, no Operation (%s)" %
           (what, r.items[0].message if r.items else "-"))


@case
def huge_length(a):
    for hdr in ("42007801fffffff8", "42007801ffffffff"):
        c = Conn(a.port, a.certs)
        c.send(bytes.fromhex(hdr))
        refusal(c.recv_msg(), "length 0x%s" % hdr[8:])
        expect(c.closed(), "and the connection is closed")
        c.close()
    still_serving(a)


@case
def deep_nesting(a):
    n = 10000
    body = b"".join(struct.pack(">I", T_REQ_PAYLOAD)[1:] + bytes([STRUCT]) +
                    struct.pack(">I", 8 * (n - 1 - d)) for d in range(n))
    c = Conn(a.port, a.certs)
    refusal(c.call(item(T_REQ_MESSAGE, STRUCT, body)),
            "Structures nested %d deep" % n)
    expect(c.one((1, 4), OP_DISCOVER, b"").ok(),
           "the same connection is still served")
    c.close()


def batch(n):
    bi = st(T_BATCH_ITEM, enum(T_OPERATION, OP_DISCOVER), st(T_REQ_PAYLOAD))
    h = st(T_REQ_HEADER, pv(1, 4), integer(T_BATCH_COUNT, n))
    return item(T_REQ_MESSAGE, STRUCT, h + bi * n)


@case
def batch_100k(a):
    msg = batch(100000)
    c = Conn(a.port, a.certs)
    c.send(msg[:65536])		# kmsd refuses on the header alone
    refusal(c.recv_msg(), "a batch of 100,000 items (%d bytes)" % len(msg))
    expect(c.closed(), "and the connection is closed")
    c.close()
    c = Conn(a.port, a.certs)
    refusal(c.call(batch(2000)), "a batch of 2,000 items within 1 MiB")
    expect(c.one((1, 4), OP_DISCOVER, b"").ok(),
           "the same connection is still served")
    c.close()


@case
def many_items(a):
    payload = text(T_UID, "") * 70000
    c = Conn(a.port, a.certs)
    refusal(c.call(request((1, 4), [(OP_GET, payload, None)])),
            "70,000 items in one message")
    expect(c.one((1, 4), OP_DISCOVER, b"").ok(),
           "the same connection is still served")
    c.close()


@case
def garbage(a):
    c = Conn(a.port, a.certs)
    c.send(b"\x13" + os.urandom(4095))
    expect(c.closed(), "garbage after the handshake: connection closed")
    c.close()
    c = Conn(a.port, a.certs)
    refusal(c.call(bytes.fromhex("4200780100000040") + os.urandom(64)),
            "a KMIP header around random bytes")
    expect(c.one((1, 4), OP_DISCOVER, b"").ok(),
           "the same connection is still served")
    c.close()
    c = Conn(a.port, a.certs)
    c.send(bytes.fromhex("4200780100001000") + os.urandom(100))
    c.close()
    still_serving(a)


@case
def unknown_op(a):
    c = Conn(a.port, a.certs)
    it = c.one((1, 4), 0x2C, b"")
    expect(not it.ok() and it.reason == OPERATION_NOT_SUPPORTED and
           it.op is None, "a 2.0 operation in a 1.4 request: Operation Not "
           "Supported, not echoed")
    it = c.one((1, 4), 0x23, b"")
    expect(not it.ok() and it.reason == OPERATION_NOT_SUPPORTED and
           it.op == 0x23, "MAC: Operation Not Supported")
    c.close()


@case
def idle(a):
    c = Conn(a.port, a.certs)
    t = time.monotonic()
    expect(c.closed(wait=15), "an idle connection is closed")
    expect(time.monotonic() - t < 10, "within the idle timeout")
    c.close()


@case
def conn_flood(a):
    conns, closed = [], 0
    for _ in range(a.max_conns + 4):
        try:
            conns.append(Conn(a.port, a.certs))
        except (ssl.SSLError, ConnectionError):
            closed += 1
    time.sleep(0.5)
    for c in conns:
        try:
            c.send(request((1, 4), [(OP_DISCOVER, b"", None)]))
            c.recv_msg()
        except (ssl.SSLError, ConnectionError, EOFError, OSError):
            closed += 1
    expect(closed == 4, "with %d allowed, %d of %d connections were "
           "closed" % (a.max_conns, closed, a.max_conns + 4))
    for c in conns:
        c.close()
    time.sleep(0.5)
    still_serving(a)


# ---------------------------------------------------------------- protocol

@case
def versions(a):
    c = Conn(a.port, a.certs)
    r = c.call(request((1, 0), [(OP_QUERY, enum(0x420074, 1), None)]))
    ops = find_all(r.items[0].payload, T_OPERATION)
    expect(r.version == (1, 0) and r.items[0].ok() and OP_CREATE in ops and
           OP_ENCRYPT not in ops and OP_DISCOVER not in ops,
           "a 1.0 Query lists only 1.0 operations")
    expect(r.header_tags == [T_PV, T_TIME_STAMP, T_BATCH_COUNT],
           "the response header is Protocol Version, Time Stamp, Batch "
           "Count")
    expect(abs(r.time_stamp - time.time()) < 60, "the Time Stamp is now")
    r = c.call(request((1, 7), [(OP_DISCOVER, b"", None)]))
    expect(r.version == (1, 4) and r.items[0].ok(),
           "Discover Versions at 1.7 is answered at 1.4")
    r = c.call(request((1, 7), [(OP_CREATE, p_create(), None)]))
    expect(r.version == (1, 4) and r.items[0].reason == INVALID_MESSAGE,
           "Create at 1.7: Invalid Message, answered at 1.4")
    r = c.call(request((2, 1), [(OP_CREATE, p_create(), None)]))
    expect(r.version == (2, 0) and
           r.items[0].reason == UNSUPPORTED_PROTOCOL_VERSION,
           "Create at 2.1: Unsupported Protocol Version, answered at 2.0")
    r = c.call(request((3, 0), [(OP_DISCOVER, b"", None)]))
    expect(r.version == (2, 0) and r.items[0].op is None and
           r.items[0].reason == UNSUPPORTED_PROTOCOL_VERSION,
           "a 3.0 message: answered at 2.0 without an Operation")
    r = c.call(request((0, 9), [(OP_DISCOVER, b"", None)]))
    expect(r.version == (1, 0) and r.items[0].reason == INVALID_MESSAGE,
           "a 0.9 message: Invalid Message at 1.0")
    it = c.one((1, 1), OP_ENCRYPT, p_encrypt_cbc("x", b"0" * 16))
    expect(it.reason == OPERATION_NOT_SUPPORTED and it.op is None,
           "Encrypt in a 1.1 message: Operation Not Supported")
    c.close()


@case
def batches(a):
    c = Conn(a.port, a.certs)
    v = (1, 4)
    r = c.call(request(v, [(OP_CREATE, p_create("batch-%d" % os.getpid()),
                            b"\x01"),
                           (OP_ACTIVATE, b"", b"\x02"),
                           (OP_GET, b"", b"\x03")]))
    expect([i.batch_id for i in r.items] == [b"\x01", b"\x02", b"\x03"] and
           all(i.ok() for i in r.items),
           "Create, Activate, Get through the ID Placeholder, ids echoed")
    expect(len(key_material(r.items[2].payload)) == 32, "Get returns the key")
    missing = p_uid("00000000-0000-4000-8000-000000000000")
    r = c.call(request(v, [(OP_GET, missing, b"a"), (OP_DISCOVER, b"", b"b")]))
    expect(r.count == 1 and len(r.items) == 1 and not r.items[0].ok(),
           "default Stop: the batch ends at the first failure")
    r = c.call(request(v, [(OP_GET, missing, b"a"), (OP_DISCOVER, b"", b"b")],
                       batch_error=1))
    expect(len(r.items) == 2 and r.items[1].ok(),
           "Continue: every item is answered")
    r = c.call(request(v, [(OP_DISCOVER, b"", b"a"),
                           (OP_DISCOVER, b"", b"b")], batch_error=3))
    expect(r.items[0].reason == 0x08, "Undo: Feature Not Supported")
    it = c.one(v, OP_GET, b"")
    expect(it.reason == 0x06, "Get without a Unique Identifier or "
           "placeholder: Missing Data")
    c.close()


def new_key(c, v=(1, 4), name=None, corr=None):
    it = c.one(v, OP_CREATE, p_create(name, v), corr=corr)
    if not it.ok():
        raise Failed("Create failed: %s" % it)
    uid = find(it.payload, T_UID)
    it = c.one(v, OP_ACTIVATE, p_uid(uid))
    if not it.ok():
        raise Failed("Activate failed: %s" % it)
    return uid


@case
def forms(a):
    """The variants real peers send, and key formats."""
    c = Conn(a.port, a.certs)
    placeholder = enum(T_UID, 1)
    r = c.call(request((2, 0), [
        (OP_CREATE, p_create("forms-%d" % os.getpid(), (2, 0)), b"1"),
        (OP_ACTIVATE, placeholder, b"2")]))
    expect(all(i.ok() for i in r.items), "2.0: a Unique Identifier given as "
           "the ID Placeholder enumeration (kmip-go's form)")
    uid = find(r.items[0].payload, T_UID)
    indexed = st(T_TEMPLATE_ATTR, st(
        T_ATTRIBUTE, text(T_ATTR_NAME, "Cryptographic Algorithm"),
        integer(0x420009, 0), enum(T_ATTR_VALUE, 3)), st(
        T_ATTRIBUTE, text(T_ATTR_NAME, "Cryptographic Length"),
        integer(0x420009, 0), integer(T_ATTR_VALUE, 128)), attr1(
        "Cryptographic Usage Mask", integer(T_ATTR_VALUE, 12)))
    it = c.one((1, 4), OP_CREATE, enum(T_OBJECT_TYPE, 2) + indexed)
    expect(it.ok(), "1.4: attributes with an Attribute Index")
    it = c.one((1, 4), OP_GET, p_uid(uid) + enum(T_KEY_FORMAT, 7))
    kb = find(find(it.payload, T_SYM_KEY), T_KEY_BLOCK)
    km = find(find(kb, T_KEY_VALUE), T_KEY_MATERIAL)
    expect(it.ok() and find(kb, T_KEY_FORMAT) == 7 and
           len(find(km, 0x42003F)) == 32,
           "Get in Transparent Symmetric Key format")
    it = c.one((1, 4), OP_GET, p_uid(uid) + enum(T_KEY_FORMAT, 2))
    expect(it.reason == 0x10, "Get in Opaque format: Key Format Type Not "
           "Supported")
    it = c.one((1, 4), OP_CREATE, p_create(length=512))
    expect(it.reason == 0x07, "Create of a 512-bit AES key: Invalid Field")
    it = c.one((1, 4), OP_CREATE, enum(T_OBJECT_TYPE, 2) +
               st(T_TEMPLATE_ATTR, attr1("State", enum(T_ATTR_VALUE, 2))))
    expect(it.reason == 0x07, "a client setting State: Invalid Field")
    c.close()


@case
def max_response(a):
    c = Conn(a.port, a.certs)
    uid = new_key(c)
    it = c.one((1, 4), OP_GET, p_uid(uid), max_resp=64)
    expect(it.reason == RESPONSE_TOO_LARGE and not it.payload,
           "Get with Maximum Response Size 64: Response Too Large, no key")
    c.close()


@case
def events(a):
    c = Conn(a.port, a.certs)
    uid = new_key(c, name="gold master key %d" % os.getpid(),
                  corr="pool/gold")
    it = c.one((1, 4), OP_ENCRYPT, p_encrypt_cbc(uid, b"k" * 32),
               corr="pool/gold")
    expect(it.ok(), "Encrypt with Client Correlation Value pool/gold")
    it = c.one((1, 4), OP_GET, p_uid(uid), corr="job/42")
    expect(it.ok(), "Get with Client Correlation Value job/42")
    it = c.one((2, 0), OP_GET, p_uid(uid), corr="not a trace id")
    expect(it.ok(), "Get with a Client Correlation Value that is no trace "
           "id")
    print("uid %s" % uid, flush=True)
    c.close()


@case
def concurrent(a):
    """16 clients of two identities at once; each sees only its keys."""
    errors = []

    def worker(n):
        who = "commserve" if n % 2 else "other"
        try:
            c = Conn(a.port, a.certs, who=who, timeout=30)
            for i in range(10):
                uid = new_key(c, name="cc-%d-%d-%d" % (os.getpid(), n, i))
                data = os.urandom(32)
                it = c.one((1, 4), OP_ENCRYPT, p_encrypt_cbc(uid, data))
                ct, iv = find(it.payload, T_DATA), find(it.payload, T_IV)
                cp = st(T_CPARAMS, enum(T_BLOCK_MODE, 1), enum(T_PADDING, 3))
                it = c.one((1, 4), 0x20, p_uid(uid) + cp + byts(T_DATA, ct) +
                           byts(T_IV, iv))
                if not it.ok() or find(it.payload, T_DATA) != data:
                    raise Failed("round trip of client %d: %s" % (n, it))
                loc = c.one((1, 4), 0x08, attr1("Name", st(
                    T_ATTR_VALUE, text(T_NAME_VALUE, "cc-%d-%d-%d" % (
                        os.getpid(), n ^ 1, i)), enum(T_NAME_TYPE, 1))))
                if find_all(loc.payload, T_UID):
                    raise Failed("client %d located another identity's "
                                 "key" % n)
            c.close()
        except Exception as e:		# reported by the main thread
            errors.append("%s: %s" % (e.__class__.__name__, e))

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    expect(not errors, "16 concurrent clients: 160 keys made, used and "
           "kept apart%s" % ("" if not errors else ": " + errors[0]))


@case
def inflight(a):
    """SIGTERM while a request is half sent: it is still answered."""
    c = Conn(a.port, a.certs)
    msg = request((1, 4), [(OP_CREATE, p_create("inflight-%d" %
                                                os.getpid()), None)])
    c.send(msg[:40])
    time.sleep(0.3)
    os.kill(a.pid, 15)
    time.sleep(0.5)
    c.send(msg[40:])
    it = c.recv_msg().items[0]
    expect(it.ok(), "a request in flight at SIGTERM is answered")
    expect(c.closed(), "then the connection is closed")
    c.close()
    try:
        Conn(a.port, a.certs, timeout=3).one((1, 4), OP_DISCOVER, b"")
        raise Failed("kmsd still accepts connections after SIGTERM")
    except (ConnectionError, ssl.SSLError, EOFError, socket.timeout):
        expect(True, "no new connection is served after SIGTERM")


# ---------------------------------------------------------------- durability

@case
def stream(a):
    """Register, Create, Activate without end; log each acknowledged op."""
    out = open(a.log, "a", buffering=1)
    lock = threading.Lock()
    done = [0]

    def worker(n):
        try:
            c = Conn(a.port, a.certs, timeout=30)
            i = 0
            while True:
                i += 1
                key = os.urandom(32)
                it = c.one((1, 4), OP_REGISTER, p_register(key))
                if not it.ok():
                    raise Failed("Register: %s" % it)
                with lock:
                    out.write("R %s %s\n" % (find(it.payload, T_UID),
                                             key.hex()))
                    done[0] += 1
                it = c.one((2, 0), OP_CREATE,
                           p_create("dur-%d-%d-%d" % (os.getpid(), n, i),
                                    (2, 0)))
                if not it.ok():
                    raise Failed("Create: %s" % it)
                uid = find(it.payload, T_UID)
                with lock:
                    out.write("C %s\n" % uid)
                it = c.one((1, 4), OP_ACTIVATE, p_uid(uid))
                if not it.ok():
                    raise Failed("Activate: %s" % it)
                with lock:
                    out.write("A %s\n" % uid)
                    done[0] += 2
        except (ssl.SSLError, ConnectionError, EOFError, OSError):
            return		# kmsd was killed: expected

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.close()
    print("ok: %d operations acknowledged before kmsd went away" % done[0],
          flush=True)


@case
def verify(a):
    reg, created, active = {}, set(), set()
    for line in open(a.log):
        f = line.split()
        if f[0] == "R":
            reg[f[1]] = bytes.fromhex(f[2])
        elif f[0] == "C":
            created.add(f[1])
        elif f[0] == "A":
            active.add(f[1])
    c = Conn(a.port, a.certs)
    for uid, key in reg.items():
        it = c.one((1, 4), OP_GET, p_uid(uid))
        if not it.ok() or key_material(it.payload) != key:
            raise Failed("registered key %s: %s" % (uid, it))
    expect(True, "all %d acknowledged Registers return their key" % len(reg))
    for uid in created:
        it = c.one((1, 4), OP_GET, p_uid(uid))
        if not it.ok() or len(key_material(it.payload)) != 32:
            raise Failed("created key %s: %s" % (uid, it))
        st_it = c.one((1, 4), 0x0B, p_uid(uid) +
                      text(T_ATTR_NAME, "State"))
        state = find(find(st_it.payload, T_ATTRIBUTE) or [], T_ATTR_VALUE)
        if uid in active and state != 2:
            raise Failed("activated key %s is in state %s" % (uid, state))
    expect(True, "all %d acknowledged Creates exist, %d of them Active" %
           (len(created), len(active)))
    c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases", nargs="+", choices=sorted(CASES))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--certs", required=True)
    ap.add_argument("--log")
    ap.add_argument("--max-conns", type=int, default=8)
    ap.add_argument("--pid", type=int)
    a = ap.parse_args()
    for name in a.cases:
        try:
            CASES[name](a)
        except (Failed, EOFError, OSError, ssl.SSLError) as e:
            print("FAIL: %s: %s: %s" % (name, e.__class__.__name__, e),
                  flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
