#!/usr/bin/env python3
"""gentree.py - the benchmarks' "tree" data set (bench/lib.sh makes it).

usage: gentree.py DIR TOTAL FILES SEED  < keystream

Writes FILES files under DIR (which must exist), in 20 directories of 10
subdirectories each, whose sizes sum to exactly TOTAL bytes.  Sizes are
drawn by a generator seeded with SEED from a log-normal distribution
(median 16 KiB, sigma 1.6: many small files, a few of several MiB),
clamped to 1 KiB .. 4 MiB, then scaled until they sum to TOTAL; the bytes
come from standard input (a seeded keystream), so the same arguments give
the same tree everywhere.  Every file and directory gets the same fixed
modification time.  Prints "N files, B bytes, smallest S, largest L,
median M" on stdout.
"""
import os
import random
import sys

MIN = 1024
MAX = 4 << 20
MTIME = 1735689600  # 2025-01-01 00:00:00 UTC
BLOCK = 1 << 20


def sizes_for(total, n, seed):
    """n sizes in [MIN, MAX] summing to total (when that is possible)."""
    if total < n * MIN or total > n * MAX:
        sys.exit("gentree.py: %d files cannot hold %d bytes" % (n, total))
    rng = random.Random(seed)
    raw = [min(max(rng.lognormvariate(9.7, 1.6), MIN), MAX)
           for _ in range(n)]
    # Scale towards the total; clamping moves the sum, so repeat.
    for _ in range(50):
        s = sum(raw)
        if abs(s - total) < n:
            break
        f = total / s
        raw = [min(max(x * f, MIN), MAX) for x in raw]
    sizes = [int(x) for x in raw]
    # Hand the last bytes out (or take them back) one file at a time.
    diff = total - sum(sizes)
    i = 0
    while diff != 0:
        j = rng.randrange(n) if i > 4 * n else i % n
        if diff > 0 and sizes[j] < MAX:
            d = min(diff, MAX - sizes[j])
            sizes[j] += d
            diff -= d
        elif diff < 0 and sizes[j] > MIN:
            d = min(-diff, sizes[j] - MIN)
            sizes[j] -= d
            diff += d
        i += 1
    return sizes


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: gentree.py DIR TOTAL FILES SEED < keystream")
    top, total, n, seed = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                           int(sys.argv[4]))
    sizes = sizes_for(total, n, seed)
    src = sys.stdin.buffer
    dirs = set()
    for i, size in enumerate(sizes):
        d = os.path.join(top, "d%02d" % (i % 20), "e%d" % (i // 20 % 10))
        if d not in dirs:
            os.makedirs(d, exist_ok=True)
            dirs.add(d)
        path = os.path.join(d, "f%06d.bin" % i)
        with open(path, "wb") as f:
            left = size
            while left > 0:
                b = src.read(min(left, BLOCK))
                if not b:
                    sys.exit("gentree.py: the keystream ended early")
                f.write(b)
                left -= len(b)
        os.utime(path, (MTIME, MTIME))
    for d in sorted(dirs, reverse=True):
        os.utime(d, (MTIME, MTIME))
        os.utime(os.path.dirname(d), (MTIME, MTIME))
    s = sorted(sizes)
    print("%d files, %d bytes, smallest %d, largest %d, median %d" %
          (n, sum(s), s[0], s[-1], s[n // 2]))


if __name__ == "__main__":
    main()
