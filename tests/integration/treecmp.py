#!/usr/bin/env python3
"""treecmp.py - compare two directory trees the way a restore must match.

usage: treecmp.py [--no-root-meta] [--no-dir-mtime] EXPECTED ACTUAL

For every path under either tree it compares the type, the permission bits
(07777), the modification time to the nanosecond, the size, the bytes of
regular files and the target of symlinks.  Symlinks are never followed.
Owners are not compared (a restore by another user cannot keep them).

Prints one line per difference and exits 1 if there is any; otherwise
prints "trees equal: N files, B bytes (D directories, L symlinks)" and
exits 0.  Exit 2 on a usage error or an unreadable tree.

--no-root-meta skips the mode and mtime of the two top directories
themselves; --no-dir-mtime skips directory mtimes altogether.
"""
import os
import stat
import sys

MAX_REPORTED = 50
BLOCK = 1 << 20

TYPES = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "char device",
    stat.S_IFBLK: "block device",
}


def walk(top):
    """Map each relative path (bytes; "." for top) to its lstat result."""
    entries = {b".": os.lstat(top)}

    def onerror(err):
        raise err

    topb = os.fsencode(top)
    for dirpath, dirnames, filenames in os.walk(topb, onerror=onerror):
        rel = os.path.relpath(dirpath, topb)
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            entries[os.path.normpath(os.path.join(rel, name))] = os.lstat(path)
    return entries


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            ba = fa.read(BLOCK)
            bb = fb.read(BLOCK)
            if ba != bb:
                return False
            if not ba:
                return True


def show(path):
    return os.fsdecode(path) if path != b"." else "(top)"


def compare(exp_top, act_top, root_meta=True, dir_mtime=True):
    """Return (differences, summary counts)."""
    exp = walk(exp_top)
    act = walk(act_top)
    diffs = []
    counts = {"files": 0, "bytes": 0, "dirs": 0, "links": 0}

    for path in sorted(set(exp) | set(act)):
        name = show(path)
        if path not in act:
            diffs.append("missing: %s" % name)
            continue
        if path not in exp:
            diffs.append("unexpected: %s" % name)
            continue
        e, a = exp[path], act[path]
        et, at = stat.S_IFMT(e.st_mode), stat.S_IFMT(a.st_mode)
        if et != at:
            diffs.append("type: %s: %s != %s" % (name,
                         TYPES.get(et, oct(et)), TYPES.get(at, oct(at))))
            continue
        meta = root_meta or path != b"."
        if meta and et != stat.S_IFLNK and \
                stat.S_IMODE(e.st_mode) != stat.S_IMODE(a.st_mode):
            diffs.append("mode: %s: %04o != %04o" % (name,
                         stat.S_IMODE(e.st_mode), stat.S_IMODE(a.st_mode)))
        if meta and (dir_mtime or et != stat.S_IFDIR) and \
                e.st_mtime_ns != a.st_mtime_ns:
            diffs.append("mtime: %s: %d != %d (ns)" % (name, e.st_mtime_ns,
                                                       a.st_mtime_ns))
        ep = os.path.join(os.fsencode(exp_top), path)
        ap = os.path.join(os.fsencode(act_top), path)
        if et == stat.S_IFREG:
            counts["files"] += 1
            counts["bytes"] += e.st_size
            if e.st_size != a.st_size:
                diffs.append("size: %s: %d != %d" % (name, e.st_size,
                                                     a.st_size))
            elif not same_bytes(ep, ap):
                diffs.append("content: %s" % name)
        elif et == stat.S_IFDIR:
            counts["dirs"] += 1
        elif et == stat.S_IFLNK:
            counts["links"] += 1
            lt, la = os.readlink(ep), os.readlink(ap)
            if lt != la:
                diffs.append("link target: %s: %r != %r" % (name, lt, la))
    return diffs, counts


def main(argv):
    opts = {"root_meta": True, "dir_mtime": True}
    args = []
    for a in argv[1:]:
        if a == "--no-root-meta":
            opts["root_meta"] = False
        elif a == "--no-dir-mtime":
            opts["dir_mtime"] = False
        elif a.startswith("-"):
            print(__doc__.strip().splitlines()[2], file=sys.stderr)
            return 2
        else:
            args.append(a)
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    for t in args:
        if not os.path.isdir(t) or os.path.islink(t):
            print("treecmp: %s is not a directory" % t, file=sys.stderr)
            return 2
    try:
        diffs, n = compare(args[0], args[1], **opts)
    except OSError as e:
        print("treecmp: %s" % e, file=sys.stderr)
        return 2
    if diffs:
        for d in diffs[:MAX_REPORTED]:
            print(d)
        if len(diffs) > MAX_REPORTED:
            print("... and %d more differences" % (len(diffs) - MAX_REPORTED))
        print("trees differ: %d differences between %s and %s" %
              (len(diffs), args[0], args[1]))
        return 1
    print("trees equal: %d files, %d bytes (%d directories, %d symlinks)" %
          (n["files"], n["bytes"], n["dirs"], n["links"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
