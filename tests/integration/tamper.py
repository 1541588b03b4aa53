#!/usr/bin/env python3
"""tamper.py - damage a MediaAgent container the way bit rot or an attacker
would (see common/container.h for the layout).

usage: tamper.py [--fix-crc] [--mode MODE] CONTAINER.kfc INDEX.kfi CHUNK
                 [OTHER.kfc OTHER.kfi]

MODE (default ciphertext) says what happens to chunk CHUNK:
  ciphertext  flip a byte in the middle of its ciphertext
  header      flip a byte of its frame header (the chunk index field)
  nonce       flip the last byte of its GCM nonce
  tag         flip the first byte of its GCM tag
  index       flip a byte of its offset in the index file
  truncate    cut the container 100 bytes into the chunk's ciphertext
  cut         drop the chunk and every one after it, cleanly: container
              and index shortened, the chunk before flagged last (CRCs
              recomputed), as if the stream had ended there
  swap        swap the chunk with the next one (same size), each frame's
              index and nonce rewritten to its new place, CRCs recomputed:
              only GCM (and the digest over the tags) can tell
  splice      replace the chunk with chunk CHUNK of OTHER (another job's
              container, same size), its job id rewritten, CRCs recomputed

Without --fix-crc a flipped byte leaves the frame's CRC-32C wrong, as after
bit rot: the MediaAgent's own check must catch it.  With --fix-crc the CRCs
are recomputed, as a deliberate attacker would.  Prints the file offset of
the first damaged byte.
"""
import os
import struct
import sys

FRAME_HDR = 64
INDEX_HDR = 32
FLAG_LAST = 1


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_TABLE = _table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class Container:
    """A container and its index, read whole (test containers are small)."""

    def __init__(self, kfc, kfi):
        self.kfc, self.kfi = kfc, kfi
        with open(kfi, "rb") as f:
            self.idx = bytearray(f.read())
        with open(kfc, "rb") as f:
            self.data = bytearray(f.read())
        magic, _, self.job, self.chunks, self.stream = struct.unpack(
            ">4sIQQQ", self.idx[:INDEX_HDR])
        if magic != b"KFI1":
            raise ValueError("%s is not an index" % kfi)

    def offset(self, i):
        if not 0 <= i < self.chunks:
            raise ValueError("chunk %d of %d" % (i, self.chunks))
        return struct.unpack_from(">Q", self.idx, INDEX_HDR + 8 * i)[0]

    def frame(self, i):
        """(offset, header bytearray, length) of chunk i, checked."""
        off = self.offset(i)
        hdr = bytearray(self.data[off:off + FRAME_HDR])
        magic, _, job, index, length = struct.unpack(">4sIQQI", hdr[:28])
        if magic != b"KFF1" or job != self.job or index != i:
            raise ValueError("frame %d does not match its index" % i)
        return off, hdr, length

    def put_header(self, off, hdr, fix):
        if fix:
            length = struct.unpack_from(">I", hdr, 24)[0]
            ct = self.data[off + FRAME_HDR:off + FRAME_HDR + length]
            struct.pack_into(">I", hdr, 28, crc32c(ct))
            struct.pack_into(">I", hdr, 60, crc32c(bytes(hdr[:60])))
        self.data[off:off + FRAME_HDR] = hdr

    def save(self):
        for path, buf in ((self.kfc, self.data), (self.kfi, self.idx)):
            with open(path, "r+b") as f:
                f.write(buf)
                f.truncate(len(buf))
                f.flush()
                os.fsync(f.fileno())


def flip(c, i, where, fix):
    off, hdr, length = c.frame(i)
    if where == "ciphertext":
        pos = off + FRAME_HDR + length // 2
        c.data[pos] ^= 0x01
        c.put_header(off, hdr, fix)
        return pos
    rel = {"header": 23, "nonce": 43, "tag": 44}[where]
    hdr[rel] ^= 0x01
    c.put_header(off, hdr, fix)
    return off + rel


def cut(c, i):
    if i < 1:
        raise ValueError("cut needs a chunk before the cut")
    off = c.offset(i)
    poff, phdr, _ = c.frame(i - 1)
    struct.pack_into(">I", phdr, 4, FLAG_LAST)
    c.put_header(poff, phdr, True)
    del c.data[off:]
    del c.idx[INDEX_HDR + 8 * i:]
    struct.pack_into(">QQ", c.idx, 16, i, len(c.data) - FRAME_HDR * i)
    return off


def swap(c, i, fix):
    a_off, a_hdr, a_len = c.frame(i)
    b_off, b_hdr, b_len = c.frame(i + 1)
    if a_len != b_len:
        raise ValueError("chunks %d and %d differ in size" % (i, i + 1))
    a = c.data[a_off + FRAME_HDR:a_off + FRAME_HDR + a_len]
    b = c.data[b_off + FRAME_HDR:b_off + FRAME_HDR + b_len]
    c.data[a_off + FRAME_HDR:a_off + FRAME_HDR + a_len] = b
    c.data[b_off + FRAME_HDR:b_off + FRAME_HDR + b_len] = a
    # Each frame keeps its flags and tag; its index and nonce now claim
    # the place it sits in (the nonce is 0x00000000 || index).
    for hdr, place in ((b_hdr, i), (a_hdr, i + 1)):
        struct.pack_into(">Q", hdr, 16, place)
        struct.pack_into(">IQ", hdr, 32, 0, place)
    c.put_header(a_off, b_hdr, fix)
    c.put_header(b_off, a_hdr, fix)
    return a_off


def splice(c, other, i, fix):
    off, hdr, length = c.frame(i)
    o_off, o_hdr, o_len = other.frame(i)
    if o_len != length:
        raise ValueError("chunk %d differs in size between the jobs" % i)
    c.data[off + FRAME_HDR:off + FRAME_HDR + length] = \
        other.data[o_off + FRAME_HDR:o_off + FRAME_HDR + o_len]
    struct.pack_into(">Q", o_hdr, 8, c.job)
    c.put_header(off, o_hdr, fix)
    return off


def main(argv):
    args, fix, mode = [], False, "ciphertext"
    it = iter(argv[1:])
    for a in it:
        if a == "--fix-crc":
            fix = True
        elif a == "--mode":
            mode = next(it, "")
        else:
            args.append(a)
    if len(args) not in (3, 5) or (mode == "splice") != (len(args) == 5):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    c = Container(args[0], args[1])
    chunk = int(args[2])
    if mode in ("ciphertext", "header", "nonce", "tag"):
        pos = flip(c, chunk, mode, fix)
    elif mode == "index":
        pos = INDEX_HDR + 8 * chunk + 6
        c.offset(chunk)
        c.idx[pos] ^= 0x01
    elif mode == "truncate":
        pos = c.frame(chunk)[0] + FRAME_HDR + 100
        del c.data[pos:]
    elif mode == "cut":
        pos = cut(c, chunk)
    elif mode == "swap":
        pos = swap(c, chunk, fix)
    elif mode == "splice":
        pos = splice(c, Container(args[3], args[4]), chunk, fix)
    else:
        print("tamper: unknown mode %s" % mode, file=sys.stderr)
        return 2
    c.save()
    print(pos)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ValueError as e:
        print("tamper: %s" % e, file=sys.stderr)
        sys.exit(1)
