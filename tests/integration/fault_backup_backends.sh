#!/usr/bin/env bash
# fault_backup_backends.sh - CommServe's backends die in the middle of a
# running backup (a 512 MiB file streaming), outside the soak:
#
#   1. PostgreSQL stopped in immediate mode (SIGQUIT to the postmaster)
#      and kept down until the stream ends: the commit cannot happen, so
#      the job fails with ERR_DB ("cannot commit the job"), recorded once
#      the database is back.  Only then is the MediaAgent told to discard
#      the container (a commit whose answer was lost might have completed
#      the job), and its confirmation is recorded.
#   2. PostgreSQL stopped in immediate mode and started again at once,
#      while the data still flows: the job completes with its catalog (and
#      restores byte for byte) or fails with ERR_DB and leaves no container.
#   3. kmsd killed with kill -9 mid-stream: CommServe holds the KEK it got
#      at the start, so the job completes; once kmsd is back it restores
#      byte for byte.
#
# Each time the job ends (never stuck running, never completed without
# its catalog) and, without restarting commserved, the backup made before
# restores byte for byte and a new backup succeeds.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
. "$(dirname "$0")/fault_backends.bash" || exit 1
fb_setup
root=$(kf_ma_root ma1)

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((2 * 1024 * 1024)) 20
kf_backup local p1 "$src"
good=$KF_JOB

mkdir "$KF_WORK/big"
truncate -s 512M "$KF_WORK/big/big.bin"
printf 'the end\n' >>"$KF_WORK/big/big.bin"

# bb_start: the big backup, not waited for; its id in BB_JOB once the
# MediaAgent has opened its stream.
bb_start() {
	fb_cli backup local p1 "$KF_WORK/big" --no-wait
	[ "$KF_RC" -eq 0 ] || { cat "$KF_BOTH" >&2; kf_fail "no backup"; }
	BB_JOB=$(kf_job_id)
	fault_wait_stream "$BB_JOB"
}

# bb_after: the stack serves without a restart of commserved.
bb_after() {
	fb_no_orphans
	fault_restore_equal "$good" "$src"
	kf_roundtrip local p1
	kf_assert_alive commserve
}

# ---- 1. PostgreSQL down for the end of the stream.
bb_start
t0=$SECONDS
f=$(kf_log_count commserve "job $BB_JOB failed")
fb_pg_immediate
# CommServe answers for a running backup from memory; a job it no longer
# runs needs the database, which is down: ERR_DB, not a wrong answer.
kf_cli --json job "$BB_JOB"
if [ "$KF_RC" -eq 0 ]; then
	kf_assert_eq "$(kf_json 'j["state"]')" running \
	    "a running job answered from memory without a database"
else
	kf_assert_grep "$KF_BOTH" 'ERR_DB' "keyflow job without a database"
fi
kf_cli_fails job "$good"
kf_assert_grep "$KF_BOTH" 'ERR_DB' "a finished job without a database"
kf_wait_log commserve "job $BB_JOB failed: cannot commit the job" $((f + 1)) 60
kf_assert_grep "${KF_LOG[commserve]}" \
    "job $BB_JOB: cannot record the failure yet"
# The container stays until the failure is recorded.
[ -f "$root/p1/job-$BB_JOB.kfc" ] ||
    kf_fail "job $BB_JOB's container went before its failure was recorded"
kf_assert_alive commserve mediaagent-ma1 client-local
fb_pg_start
fb_assert_ended "$BB_JOB" failed 'ERR_DB.*cannot commit the job'
fault_elapsed_ok "$t0" "the backup failing across the database outage"
fault_assert_no_container "$BB_JOB"
fb_wait_discarded "$BB_JOB" "the discard of job $BB_JOB confirmed"
kf_cli_fails restore "$BB_JOB" --to "$KF_WORK/never1"
kf_assert_grep "$KF_BOTH" 'ERR_STATE'
bb_after

# ---- 2. PostgreSQL stopped and started again while the data flows.
bb_start
fb_pg_immediate
fb_pg_start
st=$(fb_wait_ended "$BB_JOB")
if [ "$st" = completed ]; then
	kf_log "job $BB_JOB completed: the database was back for its commit"
	fault_restore_equal "$BB_JOB" "$KF_WORK/big"
else
	fb_assert_ended "$BB_JOB" failed 'ERR_DB'
	fault_assert_no_container "$BB_JOB"
fi
bb_after

# ---- 3. kill -9 of kmsd while the data flows.
bb_start
fb_kill9 kmsd
fb_assert_ended "$BB_JOB" completed ''
kf_start_kmsd
fault_restore_equal "$BB_JOB" "$KF_WORK/big"
bb_after
