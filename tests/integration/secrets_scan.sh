#!/usr/bin/env bash
# secrets_scan.sh - no key material, password or network key in any log
# line, trace event, error message or command output of a full run.
#
# The run: kmsd as the KMS of pool pk next to built-in pool pb, two
# clients, three backups, a restore, a wrong-password clientd, a restore
# that fails at the client (an existing file) and one that fails at
# CommServe (a tampered KEK), every listing and trace command, with
# PostgreSQL logging each statement of the suite's database and its
# parameters.  Then every key the run used is collected - each backup
# job's master key, KEK and DEK and each pool's (kf-keyprobe; kmsd's by a
# KMIP Get), each client's network key, both clients' passwords and the
# wrong one, CommServe's local key file, kmsd's root key, the TLS private
# keys of CommServe and kmsd, and with CURVE on every process's CURVE
# secret key - and searched, in raw bytes, hex, base64, base64url, Z85 and
# more (keyscan.py), in: every daemon's log, the suite's
# part of PostgreSQL's log, job_events, a dump of the whole database,
# every CLI output, kmsd's store, CommServe's state directory and the
# CURVE key directories (but the key files themselves) and the
# MediaAgent's storage.  A self-check plants
# keys in scratch copies of a log, in several encodings, and the scan must
# find each.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/kmip_lib.bash" || exit 1

kf_need_kmsd
kf_setup
SCAN=$KF_SRC_DIR/tests/integration/keyscan.py
KEYS=$KF_WORK/keys
CLI_LOG=$KF_WORK/cli-transcript.txt
: >"$CLI_LOG"

# Every keyflow command's output goes to the transcript as well.
eval "$(declare -f kf_cli | sed '1s/^kf_cli /kf_cli_one /')"
kf_cli() {
	kf_cli_one "$@"
	{ printf '$ keyflow %s\n' "$*"; cat "$KF_BOTH"; } >>"$CLI_LOG"
}

# PostgreSQL logs every statement of this database with its parameters:
# a key sent to the database in the clear would be in its log.
PG_LOG=$(dirname "$KF_TEST_PG_CONNINFO_FILE")/pg.log
[ -r "$PG_LOG" ] || kf_fail "no PostgreSQL log at $PG_LOG"
pg_off=$(stat -L -c %s "$PG_LOG")
kf_psql -d "$KF_DB" -c "ALTER DATABASE \"$KF_DBNAME\" SET log_statement = 'all';
    ALTER DATABASE \"$KF_DBNAME\" SET log_parameter_max_length = -1" ||
    kf_fail "cannot turn on statement logging"

# ---------------------------------------------------------------- the run
kf_start_commserve
kf_start_mediaagent ma1
kf_start_kmsd --events "$KF_EV_EP"
kf_kms_add kms1
kf_cli_ok pool create pk --mediaagent ma1 --kms kms1
kf_cli_ok pool create pb --mediaagent ma1

pw() {
	echo "pw-$1-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}
PW_LOCAL=$(pw local)
PW_OTHER=$(pw other)
PW_BAD=$(pw bad)
kf_add_client local "$PW_LOCAL"
kf_add_client other "$PW_OTHER"
kf_start_client local "$(kf_pwfile local)"

# The wrong password: clientd is turned away, saying so.
kf_write_password "$KF_WORK/bad.password" "$PW_BAD"
kf_spawn_client other "$KF_WORK/bad.password" client-bad
kf_wait_exit client-bad 30
[ "$KF_EXIT" -ne 0 ] || kf_fail "clientd with a wrong password exited 0"
kf_assert_grep "${KF_LOG[client-bad]}" 'wrong network password' \
    "clientd says why it stopped"
kf_start_client other "$(kf_pwfile other)"

kmip_backup_restore pk
JOBS=("$KMIP_BJOB")
src=$KF_WORK/src-pb
kf_make_tree "$src" "$(kf_marker)" $((1024 * 1024)) 40
kf_backup local pb "$src"
JOBS+=("$KF_JOB")
kf_backup other pb "$src"
JOBS+=("$KF_JOB")

# A restore that fails at the client, with the DEK in hand.
out=$KF_WORK/out-existing
mkdir -p "$out$src"
printf 'keep me\n' >"$out$src/empty"
kf_cli_fails restore "${JOBS[1]}" --to "$out"
# A restore that fails at CommServe: the KEK does not open.
ks=$(kf_psql -d "$KF_DB" -At -c \
    "SELECT key_set_id FROM jobs WHERE id = ${JOBS[0]}")
flip_kek() {
	kf_psql -d "$KF_DB" -c "UPDATE key_sets SET kek_ct =
	    set_byte(kek_ct, 3, get_byte(kek_ct, 3) # 1) WHERE id = $ks" ||
	    kf_fail "cannot alter the KEK"
}
flip_kek
kf_cli_fails restore "${JOBS[0]}" --to "$KF_WORK/out-tampered"
kf_assert_grep "$KF_ERR" 'ERR_CRYPTO' "a tampered KEK: ERR_CRYPTO"
flip_kek

# Everything an operator would look at.
kf_cli_ok jobs
kf_cli_ok --json jobs
for j in $(kf_json '" ".join(str(x["id"]) for x in j)'); do
	kf_cli_ok job "$j"
	kf_cli_ok --json job "$j"
	kf_cli_ok trace "$j"
	kf_cli_ok --json trace "$j"
done
for p in pk pb; do
	kf_cli_ok trace --pool "$p"
	kf_cli_ok --json trace --pool "$p"
done
for c in "pool list" "kms list" "client list"; do
	# shellcheck disable=SC2086
	kf_cli_ok $c
	# shellcheck disable=SC2086
	kf_cli_ok --json $c
done

# ---------------------------------------------------------------- the keys
probe() {
	local prefix=$1
	shift
	"$(kf_bin kf-keyprobe)" --db "$KF_DB" --state-dir "$KF_WORK/cs" "$@" \
	    >"$KF_WORK/probe.out" 2>"$KF_WORK/probe.err" || {
		cat "$KF_WORK/probe.err" >&2
		kf_fail "kf-keyprobe $* failed"
	}
	sed "s/^/$prefix-/" "$KF_WORK/probe.out" >>"$KEYS"
}
# secret NAME FILE: a secret's bytes, from a file.
secret() {
	printf '%s %s\n' "$1" "$(od -An -v -tx1 <"$2" | tr -d ' \n')" >>"$KEYS"
}
: >"$KEYS"
for j in "${JOBS[@]}"; do
	probe "job$j" --job "$j"
done
for p in pk pb; do
	probe "pool-$p" --pool "$p"
done
for c in local other; do
	probe "$c" --client "$c"
done
printf '%s' "$PW_LOCAL" >"$KF_WORK/s.pw-local"
printf '%s' "$PW_OTHER" >"$KF_WORK/s.pw-other"
printf '%s' "$PW_BAD" >"$KF_WORK/s.pw-bad"
for s in pw-local pw-other pw-bad; do
	secret "$s" "$KF_WORK/s.$s"
done
secret localkey "$KF_WORK/cs/commserve.key"
secret kmsd-rootkey "$KF_WORK/kms/root.key"
for k in commserve server; do
	openssl pkey -in "$KF_CERTS/$k.key" -outform DER \
	    -out "$KF_WORK/s.tls-$k" 2>/dev/null ||
	    kf_fail "cannot read the TLS key $k.key"
	secret "tls-$k" "$KF_WORK/s.tls-$k"
done
# Every CURVE secret key (Z85 in each curve.key); none with KF_CURVE=0.
ncurve=0
if [ "$KF_CURVE" != 0 ]; then
	for f in "$KF_CURVE_DIR"/*/curve.key; do
		k=$(sed -n 's/^secret-key = //p' "$f")
		[ ${#k} -eq 40 ] || kf_fail "no CURVE secret key in $f"
		printf 'curve-%s z85:%s\n' "$(basename "$(dirname "$f")")" \
		    "$k" >>"$KEYS"
		ncurve=$((ncurve + 1))
	done
	# CommServe, the CLI, ma1, kmsd and three clientd.
	kf_assert_eq "$ncurve" 7 "CURVE key pairs"
fi
nkeys=$(wc -l <"$KEYS")
# 3 jobs x 3, 2 pools x 2, 2 clients, 3 passwords, 2 key files, 2 TLS
# keys, and the CURVE secret keys
kf_assert_eq "$nkeys" $((22 + ncurve)) "keys collected"
kf_assert_eq "$(grep -c -E '^job[0-9]+-(master|kek|dek) [0-9a-f]{64}$' \
    "$KEYS")" 9 "256-bit job keys"
grep -q "^pool-pk-master $(sed -n "s/^job${JOBS[0]}-master //p" "$KEYS")$" \
    "$KEYS" || kf_fail "kmsd's master key of pk differs between probes"

# ---------------------------------------------------------------- the scan
# Daemons stopped, so their last words are in their logs too.
sleep 1		# trace events still on their way to job_events
kf_stop_all || kf_fail "a daemon did not stop cleanly"
tail -c +$((pg_off + 1)) "$PG_LOG" >"$KF_WORK/pg-part.log"
# The statement log does show bytea parameters: the wrapped DEK of a job
# must be in it, or the PostgreSQL part of the scan proves nothing.
wrapped=$(kf_psql -d "$KF_DB" -At -c \
    "SELECT encode(dek_wrapped, 'hex') FROM jobs WHERE id = ${JOBS[2]}")
[ ${#wrapped} -ge 64 ] || kf_fail "no wrapped DEK for job ${JOBS[2]}"
grep -qF "$wrapped" "$KF_WORK/pg-part.log" ||
    kf_fail "PostgreSQL's log does not show statement parameters"
kf_psql -d "$KF_DB" -c "\\copy (SELECT * FROM job_events) TO '$KF_WORK/job_events.txt'" ||
    kf_fail "cannot copy job_events out"
[ "$(wc -l <"$KF_WORK/job_events.txt")" -ge 20 ] ||
    kf_fail "job_events holds few events"
"$(kf_pg_tool pg_dump)" --data-only -d "$KF_DB" -f "$KF_WORK/dump.sql" ||
    kf_fail "pg_dump failed"

files=("$KF_WORK"/logs/*.log "$KF_WORK/pg-part.log" \
    "$KF_WORK/job_events.txt" "$KF_WORK/dump.sql" "$CLI_LOG")
while IFS= read -r -d '' f; do
	files+=("$f")
done < <(find "$KF_WORK/kms" "$KF_WORK/cs" "$(kf_ma_root ma1)" \
    ${KF_CURVE_DIR:+"$KF_CURVE_DIR"} -type f \
    ! -name root.key ! -name commserve.key ! -name curve.key -print0)
for d in commserve mediaagent-ma1 kmsd client-local client-other \
    client-bad; do
	[ -s "${KF_LOG[$d]}" ] || kf_fail "$d wrote no log"
done
[ -s "$KF_WORK/pg-part.log" ] || kf_fail "PostgreSQL logged nothing"
kf_log "scanning ${#files[@]} files for $nkeys keys in" \
    "$(python3 "$SCAN" --forms | wc -l) encodings"
python3 "$SCAN" "$KEYS" "${files[@]}" || kf_fail "key material found (above)"
for s in "$PW_LOCAL" "$PW_OTHER" "$PW_BAD"; do
	if grep -rlF -- "$s" "${files[@]}"; then
		kf_fail "a password appears in the files above"
	fi
done

# ---------------------------------------------------------------- self-check
# The scan must see a key in each encoding, wherever in a line it is.
log=$KF_WORK/logs/commserve.log
n=0
while read -r key form; do
	n=$((n + 1))
	python3 "$SCAN" --plant "$key" "$form" "$KEYS" "$log" \
	    "$KF_WORK/planted-$n.log" || kf_fail "cannot plant $key"
	rc=0
	python3 "$SCAN" "$KEYS" "$KF_WORK/planted-$n.log" \
	    >"$KF_WORK/planted-$n.out" || rc=$?
	kf_assert_eq "$rc" 1 "keyscan's status with $key planted as $form"
	grep -qF "$key key found as $form in" "$KF_WORK/planted-$n.out" ||
	    kf_fail "the scan did not name the planted $key ($form)"
done <<EOF
job${JOBS[1]}-dek hex
job${JOBS[0]}-kek upper-case hex
pool-pk-master base64
local-nk base64url (offset 1)
localkey base64 (offset 2)
kmsd-rootkey raw bytes
pw-bad hex
tls-commserve colon hex
EOF
# With CURVE on, the same for a CURVE secret key in its own text form.
if [ "$KF_CURVE" != 0 ]; then
	n=$((n + 1))
	python3 "$SCAN" --plant curve-commserve z85 "$KEYS" "$log" \
	    "$KF_WORK/planted-$n.log" || kf_fail "cannot plant a CURVE key"
	rc=0
	python3 "$SCAN" "$KEYS" "$KF_WORK/planted-$n.log" \
	    >"$KF_WORK/planted-$n.out" || rc=$?
	kf_assert_eq "$rc" 1 "keyscan's status with a CURVE key planted"
	grep -qF "curve-commserve key found as z85 in" \
	    "$KF_WORK/planted-$n.out" ||
	    kf_fail "the scan did not find the planted CURVE key"
fi
kf_log "self-check: $n planted keys found"
