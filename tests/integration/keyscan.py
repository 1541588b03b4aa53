#!/usr/bin/env python3
"""keyscan.py - prove that key material is stored nowhere it should not be.

usage: keyscan.py KEYS FILE...

KEYS holds lines "NAME HEX" (kf-keyprobe's output).  Every FILE is searched
for every key as raw bytes, as lower- and upper-case hex, as base64 and
base64url (with or without padding) and in PostgreSQL's bytea escape
format.  Prints each finding; exits 1 if there is any, 0 if none, 2 on a
usage error or a KEYS file without keys.
"""
import base64
import sys


def forms(k):
    """Every encoding a key might be stored or logged in."""
    return {
        "raw bytes": k,
        "hex": k.hex().encode(),
        "upper-case hex": k.hex().upper().encode(),
        "base64": base64.b64encode(k).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(k).rstrip(b"="),
        "bytea escape": "".join("\\%03o" % b for b in k).encode(),
    }


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    keys = {}
    for line in open(argv[1]):
        parts = line.split()
        if len(parts) == 2:
            keys[parts[0]] = bytes.fromhex(parts[1])
    if not keys:
        print("keyscan: no keys in %s" % argv[1], file=sys.stderr)
        return 2
    found = 0
    for path in argv[2:]:
        with open(path, "rb") as f:
            data = f.read()
        for name, k in sorted(keys.items()):
            for form, needle in forms(k).items():
                if needle in data:
                    print("%s key found as %s in %s" % (name, form, path))
                    found += 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
