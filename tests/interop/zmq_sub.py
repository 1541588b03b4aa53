#!/usr/bin/python3
# zmq_sub.py - a ZeroMQ SUB socket in plain Python, to catch the trace
# events a daemon publishes (its PUB socket connects here).
#
# usage: zmq_sub.py --port N --out FILE
#
# Binds 127.0.0.1:N, speaks ZMTP 3.0 (NULL mechanism, as libzmq's PUB
# does), subscribes to "trace" and writes each keyflow TraceEvent (proto/
# keyflow.proto) as one tab-separated line: trace_id, flow, step, actor,
# action.  pyzmq is not needed, nor installed here.  SIGTERM ends it with
# status 0.
import argparse
import signal
import socket
import struct
import sys

TOPIC = b"trace"


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError
        buf += b
    return buf


def frame(s):
    """(flags, body) of the next frame."""
    flags = recv_exact(s, 1)[0]
    if flags & 0x02:
        n = struct.unpack(">Q", recv_exact(s, 8))[0]
    else:
        n = recv_exact(s, 1)[0]
    if n > 1 << 20:
        raise EOFError
    return flags, recv_exact(s, n)


def send_frame(s, flags, body):
    s.sendall(bytes([flags, len(body)]) + body)


def varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def trace_event(b):
    """The fields of a TraceEvent, by number."""
    f, i = {}, 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n].decode(errors="replace"), i + n
        else:
            break
        f[num] = v
    return f


def serve(conn, out):
    greeting = b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + \
        b"NULL".ljust(20, b"\0") + b"\0" + b"\0" * 31
    conn.sendall(greeting)
    recv_exact(conn, 64)
    ready = bytes([5]) + b"READY" + bytes([11]) + b"Socket-Type" + \
        struct.pack(">I", 3) + b"SUB"
    send_frame(conn, 0x04, ready)
    send_frame(conn, 0x00, b"\x01" + TOPIC)
    parts = []
    while True:
        flags, body = frame(conn)
        if flags & 0x04:
            continue		# READY, PING: commands
        parts.append(body)
        if flags & 0x01:
            continue
        if len(parts) == 2 and parts[0] == TOPIC:
            e = trace_event(parts[1])
            out.write("%s\t%s\t%s\t%s\t%s\n" % (
                e.get(1, ""), e.get(2, ""), e.get(3, ""), e.get(4, ""),
                e.get(5, "")))
            out.flush()
        parts = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(4)
    out = open(a.out, "a")
    print("ready: listening on 127.0.0.1:%d" % a.port, flush=True)
    while True:
        conn, _ = ls.accept()
        try:
            serve(conn, out)
        except (EOFError, OSError):
            pass
        conn.close()


if __name__ == "__main__":
    main()
