#!/usr/bin/env bash
# restore_durable.sh - what the restore pipeline guarantees while it hashes
# in one thread and writes in another, and syncs in the background:
#   - a tree with a file larger than the background-sync step (64 MiB) is
#     restored byte for byte, names, modes and times equal; clientd syncs
#     the destination's filesystem while writing and once at the end, and
#     logs that final sync before it reports the job done;
#   - a catalog SHA-256 altered for a small file, the empty file, or the
#     file that spans many chunks: the restore fails with a sentence naming
#     the file, the file does not stand under its name, and no temporary
#     file is left behind; files before it in the stream are intact.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

sql() {
	kf_psql -d "$KF_DB" -At -c "$1" || kf_fail "SQL failed: $1"
}

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((72 * 1024 * 1024)) 120
kf_backup local pool1 "$src"
bjob=$KF_JOB

# ------------------------------------------------------------ durable
out=$KF_WORK/out
mkdir "$out"
kf_restore "$bjob" "$out"
rjob=$KF_JOB
kf_treecmp "$src" "$out$src"
log=${KF_LOG[client-local]}
synced=$(grep -nE 'synced its filesystem \(and [1-9][0-9]* times while' \
    "$log" | tail -n 1 | cut -d: -f1)
[ -n "$synced" ] || kf_fail "no final sync after background syncs in $log"
done_at=$(grep -nE "job $rjob: restore completed" "$log" | tail -n 1 |
    cut -d: -f1)
[ -n "$done_at" ] || kf_fail "job $rjob is not logged as completed"
[ "$synced" -lt "$done_at" ] ||
    kf_fail "job $rjob was reported done before its final sync"

# ------------------------------------------------------------ hashes
# tamper PATH: PATH's catalog SHA-256 is replaced; the restore must fail.
n=0
tamper() {
	local rel=${src#/}/$1 dest old
	n=$((n + 1))
	dest=$KF_WORK/bad-$n
	mkdir "$dest"
	old=$(sql "SELECT encode(sha256, 'hex') FROM job_files WHERE
	    job_id = $bjob AND path = convert_to('$rel', 'UTF8')")
	[ -n "$old" ] || kf_fail "no catalog row for $rel"
	sql "UPDATE job_files SET sha256 = decode(repeat('ab', 32), 'hex')
	    WHERE job_id = $bjob AND path = convert_to('$rel', 'UTF8')"
	kf_cli_fails restore "$bjob" --to "$dest"
	kf_assert_grep "$KF_BOTH" "SHA-256 mismatch" \
	    "the restore names the hash mismatch ($1)"
	kf_assert_grep "$KF_BOTH" "$(basename "$1")" \
	    "the error names the file ($1)"
	[ ! -e "$dest$src/$1" ] && [ ! -L "$dest$src/$1" ] ||
	    kf_fail "$1 stands under its name with a wrong hash"
	if find "$dest" -name '.*.kf-*' | grep -q .; then
		find "$dest" -name '.*.kf-*' >&2
		kf_fail "temporary files left behind ($1)"
	fi
	sql "UPDATE job_files SET sha256 = decode('$old', 'hex')
	    WHERE job_id = $bjob AND path = convert_to('$rel', 'UTF8')"
}

tamper small/f0042.txt
# Whatever the stream order, what was restored before the failure is exact.
for f in "$KF_WORK"/bad-1"$src"/small/*; do
	[ -f "$f" ] || continue
	cmp -s "$f" "$src/small/${f##*/}" || kf_fail "${f##*/} restored wrong"
done
tamper empty
tamper big.bin

# Rows put back: the restore is exact again.
out2=$KF_WORK/out2
mkdir "$out2"
kf_restore "$bjob" "$out2"
kf_treecmp "$src" "$out2$src"
