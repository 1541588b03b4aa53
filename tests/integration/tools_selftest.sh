#!/usr/bin/env bash
# tools_selftest.sh - the suites' own checkers must be able to fail.
# treecmp.py, which every restore check relies on, must see each kind of
# difference: a missing or extra file, content, size, mode, mtime (to the
# nanosecond), type and symlink target.  keyscan.py must find a key in each
# encoding.  tamper.py's CRC-32C must be the standard one.  No daemons.
. "$(dirname "$0")/lib.sh" || exit 1
umask 022

T=$(mktemp -d "${TMPDIR:-/tmp}/kf-treecmp.XXXXXX")
trap 'rm -rf "$T"' EXIT
TREECMP="$KF_SRC_DIR/tests/integration/treecmp.py"

make_tree() {
	mkdir -p "$1/sub dir/ünï"
	printf 'hello\n' >"$1/a.txt"
	printf 'abc' >"$1/sub dir/ünï/b"
	: >"$1/empty"
	ln -s a.txt "$1/link"
	touch -h -d '2020-01-02 03:04:05.123456789' "$1/a.txt" "$1/link" \
	    "$1/sub dir/ünï/b" "$1/empty" "$1/sub dir/ünï" "$1/sub dir" "$1"
}

# expect_diff WHAT PATTERN: after a change to $T/b, treecmp must fail and
# name the difference.
expect_diff() {
	local out rc=0
	out=$(python3 "$TREECMP" "$T/a" "$T/b") || rc=$?
	[ $rc -eq 1 ] || kf_fail "$1: treecmp exited $rc, not 1: $out"
	grep -qE -- "$2" <<<"$out" || kf_fail "$1: no /$2/ in: $out"
	rm -rf "$T/b"
	cp -a "$T/a" "$T/b"
}

make_tree "$T/a"
cp -a "$T/a" "$T/b"
out=$(python3 "$TREECMP" "$T/a" "$T/b") || kf_fail "equal trees differ: $out"
kf_assert_eq "$out" \
    "trees equal: 3 files, 9 bytes (3 directories, 1 symlinks)" "summary"

rm "$T/b/a.txt"
expect_diff "missing file" '^missing: a.txt$'
printf x >"$T/b/extra"
expect_diff "extra file" '^unexpected: extra$'
printf 'abd' >"$T/b/sub dir/ünï/b"
touch -d '2020-01-02 03:04:05.123456789' "$T/b/sub dir/ünï/b"
expect_diff "content" '^content: sub dir/ünï/b$'
printf 'hello!\n' >"$T/b/a.txt"
touch -d '2020-01-02 03:04:05.123456789' "$T/b/a.txt"
expect_diff "size" '^size: a.txt: 6 != 7$'
chmod 0600 "$T/b/a.txt"
expect_diff "mode" '^mode: a.txt: 0644 != 0600$'
touch -d '2020-01-02 03:04:05.123456788' "$T/b/a.txt"
expect_diff "mtime ns" '^mtime: a.txt: '
touch -h -d '2020-01-02 03:04:06' "$T/b/link"
expect_diff "symlink mtime" '^mtime: link: '
rm "$T/b/link" && ln -s empty "$T/b/link"
touch -h -d '2020-01-02 03:04:05.123456789' "$T/b/link"
expect_diff "symlink target" "^link target: link: b'a.txt' != b'empty'$"
rm "$T/b/empty" && mkdir "$T/b/empty"
expect_diff "type" '^type: empty: file != directory$'
chmod 0700 "$T/b"
expect_diff "top mode" '^mode: \(top\): '
out=$(python3 "$TREECMP" --no-root-meta "$T/a" "$T/b") ||
    kf_fail "--no-root-meta still compares the top: $out"
rc=0
python3 "$TREECMP" "$T/a" "$T/nonexistent" >/dev/null 2>&1 || rc=$?
kf_assert_eq "$rc" 2 "a missing tree is a usage error"

# keyscan.py: nothing in a clean file; each encoding of a key found.
KEYSCAN="$KF_SRC_DIR/tests/integration/keyscan.py"
key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e0f
printf 'dek %s\n' "$key" >"$T/keys"
printf 'nothing to see\n' >"$T/clean"
python3 "$KEYSCAN" "$T/keys" "$T/clean" || kf_fail "keyscan: false positive"
python3 - "$key" "$T" <<'PY'
import base64, sys
k = bytes.fromhex(sys.argv[1])
for name, data in [("raw", k), ("hex", k.hex().encode()),
                   ("HEX", k.hex().upper().encode()),
                   ("b64", base64.b64encode(k)),
                   ("b64url", base64.urlsafe_b64encode(k)),
                   ("bytea", "".join("\\%03o" % b for b in k).encode())]:
    with open("%s/enc-%s" % (sys.argv[2], name), "wb") as f:
        f.write(b"prefix " + data + b" suffix\n")
PY
for e in raw hex HEX b64 b64url bytea; do
	rc=0
	python3 "$KEYSCAN" "$T/keys" "$T/clean" "$T/enc-$e" >/dev/null || rc=$?
	kf_assert_eq "$rc" 1 "keyscan on a key in $e"
done

# tamper.py: the CRC-32C check value.
PYTHONDONTWRITEBYTECODE=1 python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import tamper
assert tamper.crc32c(b"123456789") == 0xE3069283' \
    "$KF_SRC_DIR/tests/integration" || kf_fail "tamper.py: wrong CRC-32C"
kf_log PASS
