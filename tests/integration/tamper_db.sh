#!/usr/bin/env bash
# tamper_db.sh - a tampered CommServe database never yields wrong
# plaintext.  Three backups (jobs A and B in pool p1, job C in pool p2, all
# on the built-in KMS) and, when kmsd is built, a backup D in a pool whose
# master key lives on kmsd; then, with psql on the suite's database:
#   - A's and B's encrypted DEKs swapped, C given A's, A moved to p2's key
#     set: the restore fails with ERR_CRYPTO and a sentence saying the DEK
#     does not open (a tampered or swapped row);
#   - one byte of p1's encrypted KEK, IV or tag altered: ERR_CRYPTO, the
#     KEK does not open under its master key;
#   - p1's key set pointed at p2's master key (id and scrambled key):
#     ERR_KMS, the scrambled master key does not open (its AAD binds the
#     key set id); the id alone relabelled: a clear error or the right
#     bytes, never others;
#   - on kmsd, the key set's master key id changed to another kmsd pool's
#     key: ERR_CRYPTO, the KEK does not open under that key; to an id kmsd
#     does not know: ERR_KMS;
#   - B's catalog copied onto A: the restore fails clearly.
# Every failed restore is recorded as a failed job with the same code, the
# destination holds no file or only byte-identical ones, and once the rows
# are put back every restore is byte for byte again.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack p1
kf_cli_ok pool create p2 --mediaagent ma1

# ---------------------------------------------------------------- helpers

sql() {
	kf_psql -d "$KF_DB" -At -c "$1" || kf_fail "SQL failed: $1"
}

declare -A SRC=()	# backup job -> its source tree

# backup NAME POOL: a small tree backed up into POOL; sets KF_JOB.
backup() {
	local src=$KF_WORK/src-$1
	kf_make_tree "$src" "$(kf_marker)" $((384 * 1024)) 24
	printf '%s\n' "job $1 only" >"$src/whose.txt"
	kf_backup local "$2" "$src"
	SRC[$KF_JOB]=$src
}

ntry=0

# restore_ok JOB: restored byte for byte.
restore_ok() {
	local out
	ntry=$((ntry + 1))
	out=$KF_WORK/out-$ntry
	kf_restore "$1" "$out"
	kf_treecmp "${SRC[$1]}" "$out${SRC[$1]}"
}

# no_wrong_plaintext OUT: every file under OUT is byte-identical to the
# file of the same path in a backed-up tree.
no_wrong_plaintext() {
	local res
	res=$(python3 - "$1" <<'PY'
import filecmp, os, sys
out, n, bad = sys.argv[1], 0, []
for d, _, files in os.walk(out):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p):
            continue
        orig = "/" + os.path.relpath(p, out)
        n += 1
        if not (os.path.isfile(orig) and filecmp.cmp(p, orig, shallow=False)):
            bad.append(orig)
print("%d files, %d differing: %s" % (n, len(bad), " ".join(bad[:5])))
sys.exit(1 if bad else 0)
PY
	) || kf_fail "a failed restore wrote wrong plaintext: $res"
	kf_log "destination after the failed restore: $res"
}

# restore_fails JOB CODE REGEXP WHAT: the restore fails with CODE and a
# sentence matching REGEXP, is recorded as a failed job with CODE, and
# writes no wrong plaintext.
restore_fails() {
	local out rjob
	ntry=$((ntry + 1))
	out=$KF_WORK/out-$ntry
	kf_cli_fails restore "$1" --to "$out"
	kf_assert_grep "$KF_BOTH" "\\($2\\)\$" "$4: fails with $2"
	kf_assert_grep "$KF_BOTH" "$3" "$4: the error says why"
	rjob=$(grep -oE 'restore job [0-9]+' "$KF_BOTH" | head -n 1 |
	    grep -oE '[0-9]+$') || kf_fail "$4: the error names no restore job"
	kf_cli_ok --json job "$rjob"
	kf_assert_eq "$(kf_json 'j["state"]')" failed "$4: restore job state"
	kf_assert_eq "$(kf_json 'j["error_code"]')" "$2" "$4: recorded code"
	sleep 0.5	# anything the client might still write would land now
	no_wrong_plaintext "$out"
	kf_assert_alive commserve mediaagent-ma1 client-local
}

ks_of() {
	sql "SELECT key_set_id FROM jobs WHERE id = $1"
}

# save TABLE COLUMNS WHERE: keep the rows' values; put_back restores them.
save() {
	sql "DROP TABLE IF EXISTS kf_saved_$1;
	    CREATE TABLE kf_saved_$1 AS SELECT id, $2 FROM $1 WHERE $3"
}

put_back() {
	local set="" c
	for c in ${2//,/ }; do
		set+="${set:+, }$c = s.$c"
	done
	sql "UPDATE $1 t SET $set FROM kf_saved_$1 s WHERE t.id = s.id"
}

# flip TABLE COLUMN ID BYTE: xor one byte of a bytea.
flip() {
	sql "UPDATE $1 SET $2 = set_byte($2, $4, get_byte($2, $4) # 1)
	    WHERE id = $3"
}

# ---------------------------------------------------------------- backups

backup A p1
A=$KF_JOB
backup B p1
B=$KF_JOB
backup C p2
C=$KF_JOB
KSA=$(ks_of "$A")
KSC=$(ks_of "$C")
kf_assert_eq "$(ks_of "$B")" "$KSA" "A and B share p1's key set"
[ "$KSC" != "$KSA" ] || kf_fail "p2 has p1's key set"

# ---- DEKs swapped between two jobs of one pool; another pool's DEK.
save jobs "dek_wrapped, key_set_id" "id IN ($A, $B, $C)"
sql "UPDATE jobs t SET dek_wrapped = s.dek_wrapped FROM kf_saved_jobs s
    WHERE (t.id, s.id) IN (($A, $B), ($B, $A), ($C, $A))"
dek_msg="the encrypted DEK of backup job %s does not open under its pool's KEK \(a tampered or swapped database row\)"
for j in "$A" "$B" "$C"; do
	# shellcheck disable=SC2059
	restore_fails "$j" ERR_CRYPTO "$(printf "$dek_msg" "$j")" \
	    "job $j with another job's DEK"
done
put_back jobs "dek_wrapped"
# A's row pointed at p2's key set: its KEK opens, A's DEK does not.
sql "UPDATE jobs SET key_set_id = $KSC WHERE id = $A"
# shellcheck disable=SC2059
restore_fails "$A" ERR_CRYPTO "$(printf "$dek_msg" "$A")" \
    "job A moved to p2's key set"
put_back jobs "key_set_id"
restore_ok "$A"
restore_ok "$B"

# ---- one byte of p1's encrypted KEK, its IV, its tag.
save key_sets "master_key_id, kek_ct, kek_iv, kek_tag, scrambled_mk" \
    "id IN ($KSA, $KSC)"
mkid=$(sql "SELECT master_key_id FROM key_sets WHERE id = $KSA")
kek_msg="the encrypted KEK of key set $KSA does not open under master key $mkid \(tampered row or wrong key\)"
for col in "kek_ct 17" "kek_iv 0" "kek_tag 15"; do
	# shellcheck disable=SC2086
	flip key_sets ${col% *} "$KSA" ${col#* }
	restore_fails "$A" ERR_CRYPTO "$kek_msg" "p1's ${col% *} altered"
	put_back key_sets "kek_ct, kek_iv, kek_tag"
done
restore_ok "$A"

# ---- p1's key set pointed at p2's built-in master key.  The built-in
# KMS keeps the master key scrambled in the key set's own row, under an
# AAD that names the key set: p2's does not open in p1's row.
mkid2=$(sql "SELECT master_key_id FROM key_sets WHERE id = $KSC")
sql "UPDATE key_sets SET master_key_id = '$mkid2', scrambled_mk =
    (SELECT scrambled_mk FROM key_sets WHERE id = $KSC) WHERE id = $KSA"
restore_fails "$A" ERR_KMS "built-in KMS: the scrambled master key $mkid2 does not open under this CommServe's local key \(wrong state directory, or a tampered row\)" \
    "p1's key set given p2's master key"
# A scrambled master key with a flipped byte: the same.
put_back key_sets "master_key_id, scrambled_mk"
flip key_sets scrambled_mk "$KSA" 20
restore_fails "$A" ERR_KMS "scrambled master key $mkid does not open" \
    "p1's scrambled master key altered"
put_back key_sets "scrambled_mk"
# The id alone relabelled: the scrambled master key's AAD binds its own
# id, so the row no longer opens.
sql "UPDATE key_sets SET master_key_id = '$mkid2' WHERE id = $KSA"
restore_fails "$A" ERR_KMS 'scrambled master key .* does not open' \
    "p1's master key id relabelled"
put_back key_sets "master_key_id"
restore_ok "$A"
restore_ok "$C"

# ---- B's catalog copied onto A: A's stream does not match it.
sql "CREATE TABLE kf_saved_files AS SELECT * FROM job_files
    WHERE job_id = $A;
    DELETE FROM job_files WHERE job_id = $A;
    INSERT INTO job_files SELECT $A, idx, path, type, mode, mtime_sec,
    mtime_nsec, size, stream_offset, sha256, link FROM job_files
    WHERE job_id = $B"
ntry=$((ntry + 1))
kf_cli_fails restore "$A" --to "$KF_WORK/out-$ntry"
no_wrong_plaintext "$KF_WORK/out-$ntry"
[ -z "$(find "$KF_WORK/out-$ntry" -path "*${SRC[$B]}*" -type f \
    2>/dev/null)" ] || kf_fail "B's files were restored from A's job"
sql "DELETE FROM job_files WHERE job_id = $A;
    INSERT INTO job_files SELECT * FROM kf_saved_files"
restore_ok "$A"

# ---------------------------------------------------------------- kmsd
if [ ! -x "$KF_BIN_DIR/kms/kmsd" ]; then
	kf_log "kmsd is not built: its master key ids are not tampered with"
	exit 0
fi
kf_start_kmsd --events "$KF_EV_EP"
kf_kms_add kms1
kf_cli_ok pool create k1 --mediaagent ma1 --kms kms1
kf_cli_ok pool create k2 --mediaagent ma1 --kms kms1
backup D k1
D=$KF_JOB
backup E k2
E=$KF_JOB
KSD=$(ks_of "$D")
KSE=$(ks_of "$E")
save key_sets "master_key_id" "id IN ($KSD)"
kmid=$(sql "SELECT master_key_id FROM key_sets WHERE id = $KSE")
sql "UPDATE key_sets SET master_key_id = '$kmid' WHERE id = $KSD"
restore_fails "$D" ERR_CRYPTO "the encrypted KEK of key set $KSD does not open under master key $kmid \(tampered row or wrong key\)" \
    "k1's key set naming k2's master key on kmsd"
sql "UPDATE key_sets SET master_key_id = 'no-such-key-$$' WHERE id = $KSD"
restore_fails "$D" ERR_KMS "KMS kms1: .*no-such-key-$$|KMS kms1: .*[Nn]ot [Ff]ound" \
    "k1's key set naming a key kmsd does not have"
put_back key_sets "master_key_id"
restore_ok "$D"
restore_ok "$E"
kf_assert_alive commserve mediaagent-ma1 client-local kmsd
