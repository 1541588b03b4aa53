#!/usr/bin/env python3
"""tamper.py - flip one byte of one chunk's ciphertext in a MediaAgent
container (see common/container.h for the layout).

usage: tamper.py [--fix-crc] CONTAINER.kfc INDEX.kfi CHUNK

Without --fix-crc the frame's CRC-32C no longer matches, as after bit rot:
the MediaAgent's own check must catch it.  With --fix-crc the CRCs are
recomputed, as a deliberate attacker would: only the GCM tag can catch it.
Prints the file offset of the flipped byte.
"""
import struct
import sys

FRAME_HDR = 64
INDEX_HDR = 32


def crc32c(data, crc=0):
    table = crc32c.table
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


crc32c.table = _table()


def main(argv):
    fix = "--fix-crc" in argv
    args = [a for a in argv[1:] if a != "--fix-crc"]
    if len(args) != 3:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    kfc, kfi, chunk = args[0], args[1], int(args[2])
    assert crc32c(b"123456789") == 0xE3069283
    with open(kfi, "rb") as f:
        idx = f.read()
    magic, _, job, chunks, _ = struct.unpack(">4sIQQQ", idx[:INDEX_HDR])
    if magic != b"KFI1" or chunk >= chunks:
        print("tamper: bad index or chunk %d of %d" % (chunk, chunks),
              file=sys.stderr)
        return 1
    (off,) = struct.unpack(">Q", idx[INDEX_HDR + 8 * chunk:
                                      INDEX_HDR + 8 * chunk + 8])
    with open(kfc, "r+b") as f:
        f.seek(off)
        hdr = bytearray(f.read(FRAME_HDR))
        fmagic, _, fjob, findex, length = struct.unpack(">4sIQQI", hdr[:28])
        if fmagic != b"KFF1" or fjob != job or findex != chunk:
            print("tamper: frame header does not match", file=sys.stderr)
            return 1
        ct = bytearray(f.read(length))
        pos = length // 2
        ct[pos] ^= 0x01
        f.seek(off + FRAME_HDR + pos)
        f.write(ct[pos:pos + 1])
        if fix:
            hdr[28:32] = struct.pack(">I", crc32c(ct))
            hdr[60:64] = struct.pack(">I", crc32c(bytes(hdr[:60])))
            f.seek(off)
            f.write(hdr)
    print(off + FRAME_HDR + pos)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
