#!/usr/bin/env python3
"""tcp_relay.py - a TCP relay on 127.0.0.1 for the integration suites.

usage: tcp_relay.py LISTEN_PORT TARGET_PORT [--record FILE] [--drop N]

Every connection accepted on LISTEN_PORT is joined to a new connection to
TARGET_PORT and bytes are pumped both ways until either side closes.
--record FILE appends every byte, both directions, to FILE (what an
eavesdropper on the link would see); --drop N closes the N-th accepted
connection at once instead of relaying it (a link that fails at one
precise moment).  Prints "relay ready" once it listens.
"""
import argparse
import socket
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen", type=int)
    ap.add_argument("target", type=int)
    ap.add_argument("--record")
    ap.add_argument("--drop", type=int, default=0)
    args = ap.parse_args()
    lock = threading.Lock()
    out = open(args.record, "ab", buffering=0) if args.record else None

    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if out is not None:
                    with lock:
                        out.write(d)
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.listen))
    srv.listen(16)
    print("relay ready", flush=True)
    n = 0
    while True:
        c, _ = srv.accept()
        n += 1
        if n == args.drop:
            print("relay: dropping connection %d" % n, flush=True)
            c.close()
            continue
        u = socket.create_connection(("127.0.0.1", args.target))
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main()
