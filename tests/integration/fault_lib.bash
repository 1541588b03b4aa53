# fault_lib.bash - helpers shared by the fault_*.sh suites (sourced after
# lib.sh; not a suite itself, hence not named *.sh).
#
# The suites crash daemons on purpose: with a deterministic fault point
# (KEYFLOW_FAULT=name[:N] makes the daemon log "fault point NAME reached:
# exiting" and _exit(99) there, see common/fault.h) or with a real kill -9.
# What a user must see afterwards: the job failed (or, for a CommServe that
# died, interrupted) with a sentence, within seconds; no container of it
# that could pass for a backup; every earlier backup restorable byte for
# byte; and a new backup that succeeds.

FAULT_JOB_BOUND=${FAULT_JOB_BOUND:-30}	# seconds a dead peer may take to fail a job

# fault_spawn_with FAULT FN ARGS...: run a kf_start_* function with
# KEYFLOW_FAULT=FAULT in its daemon's environment only.
fault_spawn_with() {
	local fault=$1
	shift
	export KEYFLOW_FAULT=$fault
	"$@"
	unset KEYFLOW_FAULT
}

# fault_wait_crash LABEL POINT: LABEL exits 99 having logged POINT.
fault_wait_crash() {
	kf_wait_exit "$1" "$FAULT_JOB_BOUND"
	kf_assert_eq "$KF_EXIT" 99 "exit status of $1 at fault point $2"
	kf_assert_grep "${KF_LOG[$1]}" "fault point $2 reached: exiting"
}

# fault_failed_job: the id of the job the last kf_cli said failed.
fault_failed_job() {
	local id
	id=$(sed -nE 's/^keyflow: [a-z]+ job ([0-9]+) (failed|interrupted).*/\1/p' \
	    "$KF_BOTH" | head -n 1)
	[ -n "$id" ] || { cat "$KF_BOTH" >&2; kf_fail "no failed job id"; }
	echo "$id"
}

# fault_job_state JOB: prints the job's state.
fault_job_state() {
	kf_cli_ok --json job "$1"
	kf_json 'j["state"]'
}

# fault_wait_state JOB STATE [SECONDS]: until the job is in STATE.
fault_wait_state() {
	local i=0 st
	while :; do
		st=$(fault_job_state "$1")
		[ "$st" = "$2" ] && return 0
		i=$((i + 1))
		[ $i -lt $((${3:-$FAULT_JOB_BOUND} * 4)) ] ||
		    kf_fail "job $1 is $st, not $2, after ${3:-$FAULT_JOB_BOUND}s"
		sleep 0.25
	done
}

# fault_assert_failed JOB REGEXP: failed, with an error matching REGEXP.
fault_assert_failed() {
	kf_cli_ok --json job "$1"
	kf_assert_eq "$(kf_json 'j["state"]')" failed "state of job $1"
	kf_json 'j.get("error_code", "") + ": " + j.get("error", "")' \
	    >"$KF_WORK/fault.err"
	kf_assert_grep -i "$KF_WORK/fault.err" "$2" "job $1's error"
	kf_log "job $1 failed: $(cat "$KF_WORK/fault.err")"
}

# fault_client_told CLIENT JOB: clientd CLIENT (its daemon label) logs,
# within 10 s, that CommServe ended JOB because MediaAgent ma1 was lost
# (JOB_CANCEL): it stops the job at once instead of waiting 60 s for the
# dead MediaAgent to answer.
fault_client_told() {
	kf_wait_for 10 "$1 stopping job $2, which CommServe ended" "" \
	    grep -q "job $2: CommServe ended it (MediaAgent ma1 disconnected" \
	    "${KF_LOG[$1]}"
}

# fault_assert_no_container JOB [MA]: no committed container of JOB on
# the MediaAgent, and (within a few seconds) no partial one outside the
# quarantine either.
fault_assert_no_container() {
	local root i=0
	root=$(kf_ma_root "${2:-ma1}")
	if [ -n "$(find "$root" -name "job-$1.kf[ci]" -print -quit)" ]; then
		find "$root" -name "job-$1.*" >&2
		kf_fail "a committed container of failed job $1 is on the MediaAgent"
	fi
	while [ -n "$(find "$root" -path "$root/.quarantine" -prune -o \
	    -name "job-$1.kf[ci].partial" -print -quit)" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || kf_fail "partial files of job $1 still in place"
		sleep 0.1
	done
}

# fault_restore_equal JOB SRC: JOB restores SRC byte for byte.
fault_restore_equal() {
	local out
	out=$(mktemp -d "$KF_WORK/restore.XXXXXX")
	kf_restore "$1" "$out"
	kf_treecmp "$2" "$out$2"
}

# fault_restore_across_kmsd CS JOB DEST SRC: with kmsd down, restore JOB
# into DEST; once CommServe (daemon CS) logs its first failed KMS attempt,
# start kmsd again.  The retries must carry the restore, which must equal
# the tree SRC.
fault_restore_across_kmsd() {
	local cs=$1 job=$2 dest=$3 src=$4 n cli
	n=$(kf_log_count "$cs" 'attempt 1 of 3 failed')
	( kf_cli restore "$job" --to "$dest"; exit $KF_RC ) &
	cli=$!
	kf_wait_log "$cs" 'attempt 1 of 3 failed' $((n + 1)) 20
	kf_start_kmsd
	wait "$cli" ||
	    kf_fail "restore across a kmsd restart failed: $(cat "$KF_BOTH")"
	kf_assert_grep "${KF_LOG[$cs]}" \
	    'KMS kms1: connected at attempt [23] of 3'
	kf_treecmp "$src" "$dest$src"
}

# fault_elapsed_ok T0 WHAT: no more than FAULT_JOB_BOUND seconds since T0.
fault_elapsed_ok() {
	local dt=$((SECONDS - $1))
	[ $dt -le "$FAULT_JOB_BOUND" ] ||
	    kf_fail "$2 took ${dt}s (bound ${FAULT_JOB_BOUND}s)"
	kf_log "$2 within ${dt}s"
}

# fault_wait_stream JOB MA: until MA logs that JOB's stream is open.
fault_wait_stream() {
	kf_wait_log "mediaagent-${2:-ma1}" "job $1: stream opened" 1 20
}

# fault_start_ma LABEL: mediaagentd ma1 again, on its first endpoint and
# root (kf_start_mediaagent ma1 must have run), under a new LABEL.
fault_start_ma() {
	kf_spawn "$1" mediaagentd --name ma1 --commserve "$KF_CS_EP" \
	    --listen "${KF_MA_EP[ma1]}" --root "$(kf_ma_root ma1)" -v
	kf_wait_ready "$1"
}

# fault_start_cs LABEL: commserved again on the suite's endpoints, state
# directory and database, under a new LABEL.
fault_start_cs() {
	kf_spawn "$1" commserved --listen "$KF_CS_EP" --events "$KF_EV_EP" \
	    --db "$KF_DB" --state-dir "$KF_WORK/cs" -v
	kf_wait_ready "$1"
}

# fault_backup_start ARGS...: keyflow backup ARGS, retried while the
# client or MediaAgent has not yet registered with a restarted CommServe.
# Status in KF_RC as kf_cli leaves it.
fault_backup_start() {
	local i
	for ((i = 0; i < 60; i++)); do
		kf_cli backup "$@"
		grep -q 'is not connected to CommServe' "$KF_BOTH" || return 0
		sleep 0.25
	done
}

# fault_last_job: the highest job id CommServe knows.
fault_last_job() {
	kf_cli_ok --json jobs
	kf_json 'max(x["id"] for x in j)'
}
