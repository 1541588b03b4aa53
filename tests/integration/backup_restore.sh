#!/usr/bin/env bash
# backup_restore.sh - the seed's backup and restore flows end to end: a
# tree with a 50 MiB random file, 1,000 small files and every odd kind of
# entry is backed up and restored byte for byte with modes and mtimes; the
# MediaAgent holds no plaintext; the job's master key, KEK and DEK appear
# nowhere in the database (in hex, base64 or raw) nor in any log; the CLI
# shows the jobs and their traces.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

marker=$(kf_marker)
src=$KF_WORK/src
kf_make_tree "$src" "$marker" $((50 * 1024 * 1024)) 1000

kf_backup local pool1 "$src"
bjob=$KF_JOB
kf_cli_ok --json job "$bjob"
kf_assert_eq "$(kf_json 'j["state"]')" completed "backup job state"
kf_assert_eq "$(kf_json 'j["type"]')" backup "backup job type"
nfiles=$(find "$src" -type f | wc -l)
kf_assert_eq "$(kf_json 'j["files"] >= '"$nfiles")" true \
    "backup counted at least the $nfiles regular files"

out=$KF_WORK/out
mkdir "$out"
kf_restore "$bjob" "$out"
rjob=$KF_JOB
[ "$rjob" != "$bjob" ] || kf_fail "the restore reused the backup's job id"
kf_treecmp "$src" "$out$src"

# The MediaAgent only ever saw ciphertext.
kf_no_plaintext "$(kf_ma_root ma1)" "$marker"
kf_no_plaintext "$(kf_ma_root ma1)" "Quarterly"
[ -n "$(find "$(kf_ma_root ma1)" -type f -size +50M)" ] ||
    kf_fail "no container of the backup's size on the MediaAgent"

# Keys: nowhere in the database, in no encoding; nowhere in any log.
"$(kf_bin kf-keyprobe)" --db "$KF_DB" --state-dir "$KF_WORK/cs" \
    --job "$bjob" >"$KF_WORK/keys" || kf_fail "kf-keyprobe failed"
for k in master kek dek; do
	grep -qE "^$k [0-9a-f]{64}$" "$KF_WORK/keys" ||
	    kf_fail "kf-keyprobe printed no 256-bit $k key"
done
"$(kf_pg_tool pg_dump)" --data-only -d "$KF_DB" -f "$KF_WORK/dump.sql" \
    2>"$KF_WORK/pg_dump.err" || { cat "$KF_WORK/pg_dump.err" >&2
    kf_fail "pg_dump failed"; }
[ -s "$KF_WORK/dump.sql" ] || kf_fail "empty database dump"
grep -q 'job' "$KF_WORK/dump.sql" || kf_fail "the dump holds no jobs?"
python3 "$KF_SRC_DIR/tests/integration/keyscan.py" "$KF_WORK/keys" \
    "$KF_WORK/dump.sql" "$KF_WORK"/logs/*.log ||
    kf_fail "key material found (above)"
# The raw bytes once more with grep, as an operator would check.  grep -f
# reads one pattern per line, so this only works for a key without a
# newline byte (keyscan.py above covers every key).
for k in master kek dek; do
	sed -n "s/^$k //p" "$KF_WORK/keys" | python3 -c 'import sys
sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' \
	    >"$KF_WORK/raw-$k"
	[ "$(LC_ALL=C tr -dc '\n' <"$KF_WORK/raw-$k" | wc -c)" -eq 0 ] || continue
	n=$(LC_ALL=C grep -c -a -F -f "$KF_WORK/raw-$k" "$KF_WORK/dump.sql" ||
	    true)
	kf_assert_eq "$n" 0 "lines of the dump holding the raw $k key"
done

# The CLI shows both jobs and their traces.
kf_cli_ok jobs
kf_assert_grep "$KF_OUT" "(^|[^0-9])$bjob([^0-9]|$)" "jobs lists the backup"
kf_assert_grep "$KF_OUT" "(^|[^0-9])$rjob([^0-9]|$)" "jobs lists the restore"
kf_cli_ok job "$bjob"
kf_assert_grep -i "$KF_OUT" 'completed' "job shows the backup completed"
kf_cli_ok --json trace "$bjob"
kf_assert_eq "$(kf_json 'sorted({e["step"] for e in j if e["flow"] == "backup"})')" \
    "[1, 2, 3, 4, 5, 6]" "traced backup steps"
kf_cli_ok --json trace "$rjob"
kf_assert_eq "$(kf_json 'sorted({e["step"] for e in j if e["flow"] == "restore"})')" \
    "[1, 2, 3, 4, 5, 6, 7]" "traced restore steps"
kf_cli_ok trace "$bjob"
kf_assert_grep "$KF_OUT" 'MediaAgent writes encrypted data' \
    "trace prints the seed's step text"
