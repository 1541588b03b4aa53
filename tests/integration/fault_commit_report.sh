#!/usr/bin/env bash
# fault_commit_report.sh - a backup's container is committed on the
# MediaAgent, but the job never gets its catalog: the MediaAgent dies
# between its commit and its report (ma.after_commit_before_report), or
# CommServe dies just before it handles that report
# (backup.before_container_committed).  The database then says the job
# failed (or, CommServe restarted, interrupted), so the committed container
# must go: when the MediaAgent registers again CommServe resends the
# discard, the MediaAgent removes job-N.kfc and job-N.kfi and confirms,
# and CommServe records the confirmation (jobs.discarded_at) so that a
# later registration sends nothing more.  Earlier backups still restore
# byte for byte and a new backup succeeds.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
. "$(dirname "$0")/fault_backends.bash" || exit 1
kf_setup
kf_stack pool1
root=$(kf_ma_root ma1)
cs=commserve			# the harness label of the running commserved

# cr_committed JOB: both files of JOB's committed container exist.
cr_committed() {
	[ -f "$root/pool1/job-$1.kfc" ] && [ -f "$root/pool1/job-$1.kfi" ]
}

# cr_gone JOB: neither file of JOB's committed container exists.
cr_gone() {
	[ -z "$(find "$root" -name "job-$1.kf[ci]" -print -quit)" ]
}

# cr_assert_discarded JOB LABEL: after MediaAgent LABEL registered, JOB's
# container disappears, the MediaAgent says so and CommServe records it.
cr_assert_discarded() {
	kf_wait_for 20 "job $1's committed container removed" "" cr_gone "$1"
	kf_assert_grep "${KF_LOG[$2]}" \
	    "job $1: removed $root/pool1/job-$1.kfc, committed here but discarded by CommServe"
	fb_wait_discarded "$1" "CommServe records job $1's discard"
	kf_assert_grep "${KF_LOG[$cs]}" \
	    "job $1: MediaAgent ma1 confirmed its container is discarded"
	kf_cli_fails restore "$1" --to "$KF_WORK/never-$1"
	kf_assert_grep "$KF_BOTH" 'ERR_STATE'
}

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((3 * 1024 * 1024)) 20
kf_backup local pool1 "$src"
good=$KF_JOB
[ -z "$(fb_discarded_at "$good")" ] ||
    kf_fail "a completed backup is marked discarded"

mkdir "$KF_WORK/big"
kf_random_file "$KF_WORK/big/big.bin" $((6 * 1024 * 1024))

# 1. The MediaAgent commits, then dies before reporting.  CommServe fails
# the job; its discard finds no MediaAgent; the container stays until the
# MediaAgent is back.
kf_stop mediaagent-ma1
fault_spawn_with ma.after_commit_before_report fault_start_ma ma-f1
t0=$SECONDS
kf_cli_fails backup local pool1 "$KF_WORK/big"
fault_elapsed_ok "$t0" "the backup failing after the MediaAgent died"
job1=$(fault_failed_job)
fault_wait_crash ma-f1 ma.after_commit_before_report
fault_assert_failed "$job1" 'MediaAgent ma1'
cr_committed "$job1" ||
    kf_fail "job $job1's container was not committed before the crash"
[ -z "$(fb_discarded_at "$job1")" ] ||
    kf_fail "job $job1 is marked discarded while its container exists"
fault_start_ma ma-r1
cr_assert_discarded "$job1" ma-r1

# The confirmation holds: the next registration resends nothing.
kf_stop ma-r1
n=$(kf_log_count "$cs" 'discarding the containers of')
r=$(kf_log_count "$cs" 'MediaAgent ma1 registered')
fault_start_ma ma-r2
kf_wait_log "$cs" 'MediaAgent ma1 registered' $((r + 1)) 10
sleep 1
kf_assert_eq "$(kf_log_count "$cs" 'discarding the containers of')" "$n" \
    "discards resent after the MediaAgent confirmed them"
kf_assert_no_grep "${KF_LOG[ma-r2]}" "job $job1: removed" \
    "the MediaAgent was asked to discard job $job1 twice"

# 2. CommServe dies as the MediaAgent's commit report arrives; the
# MediaAgent stays up and keeps the committed container of a job that is
# interrupted once CommServe restarts.  Its re-registration discards it.
kf_stop commserve
fault_spawn_with backup.before_container_committed fault_start_cs cs-f2
fault_backup_start local pool1 "$KF_WORK/big"
[ "$KF_RC" -ne 0 ] || kf_fail "a backup completed through a crashed CommServe"
fault_wait_crash cs-f2 backup.before_container_committed
job2=$(kf_psql -d "$KF_DB" -t -A -c "SELECT max(id) FROM jobs")
kf_wait_log ma-r2 "job $job2: committed [0-9]+ chunks" 1 10
cr_committed "$job2" ||
    kf_fail "job $job2's container was not committed before CommServe died"
fault_start_cs cs-r2
cs=cs-r2
kf_assert_eq "$(fault_job_state "$job2")" interrupted "state of job $job2"
cr_assert_discarded "$job2" ma-r2

# 3. Earlier data restores; a new backup succeeds and keeps its container.
fb_restore_equal "$good" "$src"
kf_roundtrip local pool1
cr_committed "$KF_BJOB" || kf_fail "the new backup has no container"
[ -z "$(fb_discarded_at "$KF_BJOB")" ] ||
    kf_fail "the new backup is marked discarded"
