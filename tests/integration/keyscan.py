#!/usr/bin/env python3
"""keyscan.py - prove that key material is stored nowhere it should not be.

usage: keyscan.py KEYS FILE...
       keyscan.py --plant NAME FORM KEYS SRC DST
       keyscan.py --forms

KEYS holds lines "NAME HEX" (kf-keyprobe's output, or any secret's bytes
in hex: a password, a key file) or "NAME z85:TEXT" (a CURVE secret key).  Every FILE is searched for every key as
raw bytes, as lower- and upper-case hex (also with ':' or ' ' between the
bytes, as OpenSSL and hex dumps print them), as base64 and base64url at
each of the three byte alignments it can have inside a longer encoded
string (so a key logged as part of a larger blob is found too), in
PostgreSQL's bytea escape format, and in ZeroMQ's Z85 (the text form of
CURVE keys) when its length is a multiple of 4.  Prints each finding; exits 1 if there
is any, 0 if none, 2 on a usage error or a KEYS file without keys.

--plant copies SRC to DST with key NAME written in FORM (one of --forms)
into the middle of SRC's middle line: a test's self-check that the scan
catches what it looks for.
"""
import base64
import sys


def b64_inner(k, shift, alt):
    """The part of an encoding of k that does not depend on what comes
    before or after k, when k starts shift bytes (0..2) into a 3-byte
    group of a longer base64 string."""
    enc = base64.urlsafe_b64encode if alt else base64.b64encode
    s = enc(b"\0" * shift + k)
    first = -(-8 * shift // 6)          # characters touching the prefix
    last = (8 * (shift + len(k))) // 6  # characters made of key bits only
    return s[first:last]


Z85 = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
       ".-:+=^!/*?&<>()[]{}@%$#")


def z85(k):
    """ZeroMQ RFC 32 Z85 of k (len(k) a multiple of 4)."""
    out = []
    for i in range(0, len(k), 4):
        v = int.from_bytes(k[i:i + 4], "big")
        out.append("".join(Z85[v // 85 ** p % 85] for p in range(4, -1, -1)))
    return "".join(out).encode()


def z85_decode(s):
    """The bytes of Z85 text s (for KEYS lines given as z85:TEXT)."""
    out = b""
    for i in range(0, len(s), 5):
        v = 0
        for c in s[i:i + 5]:
            v = v * 85 + Z85.index(c)
        out += v.to_bytes(4, "big")
    return out


def forms(k):
    """Every encoding a key might be stored or logged in."""
    hx = k.hex()
    f = {
        "raw bytes": k,
        "hex": hx.encode(),
        "upper-case hex": hx.upper().encode(),
        "colon hex": ":".join(hx[i:i + 2] for i in
                              range(0, len(hx), 2)).encode(),
        "spaced hex": " ".join(hx[i:i + 2] for i in
                               range(0, len(hx), 2)).encode(),
        "bytea escape": "".join("\\%03o" % b for b in k).encode(),
    }
    for shift in range(3):
        suffix = "" if shift == 0 else " (offset %d)" % shift
        f["base64" + suffix] = b64_inner(k, shift, False)
        f["base64url" + suffix] = b64_inner(k, shift, True)
    f["upper-case colon hex"] = f["colon hex"].upper()
    if len(k) % 4 == 0:
        f["z85"] = z85(k)
    return f


def load_keys(path):
    keys = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            if parts[0] in keys:
                raise SystemExit("keyscan: key %s named twice in %s" %
                                 (parts[0], path))
            keys[parts[0]] = (z85_decode(parts[1][4:])
                              if parts[1].startswith("z85:")
                              else bytes.fromhex(parts[1]))
    for name, k in keys.items():
        # Shorter secrets would be found by chance, and prove nothing.
        if len(k) < 12:
            raise SystemExit("keyscan: key %s has only %d bytes" %
                             (name, len(k)))
    return keys


def plant(name, form, keyfile, src, dst):
    keys = load_keys(keyfile)
    needle = forms(keys[name])[form]
    lines = open(src, "rb").read().split(b"\n")
    i = len(lines) // 2
    mid = len(lines[i]) // 2
    lines[i] = lines[i][:mid] + b"x" + needle + b"x" + lines[i][mid:]
    with open(dst, "wb") as f:
        f.write(b"\n".join(lines))
    return 0


def scan(keyfile, paths):
    keys = load_keys(keyfile)
    if not keys:
        print("keyscan: no keys in %s" % keyfile, file=sys.stderr)
        return 2
    found = 0
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        for name, k in sorted(keys.items()):
            for form, needle in forms(k).items():
                if needle in data:
                    print("%s key found as %s in %s" % (name, form, path))
                    found += 1
    return 1 if found else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--forms":
        print("\n".join(forms(b"\0" * 32)))
        return 0
    if len(argv) == 7 and argv[1] == "--plant":
        return plant(*argv[2:])
    if len(argv) < 3 or argv[1].startswith("--"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    return scan(argv[1], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
