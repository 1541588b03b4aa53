#!/usr/bin/env bash
# fault_commserve_kill.sh - commserved dies during a backup: at the fault
# point just before it commits the job, and by a real kill -9 while a
# 1 GiB file streams.  After a restart the job is reported interrupted
# (never left running, never completed), cannot be restored, the backup
# made before still restores byte for byte, and a new backup succeeds once
# the client and MediaAgent have registered again by themselves.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
kf_setup
kf_stack pool1

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((3 * 1024 * 1024)) 20
kf_backup local pool1 "$src"
good=$KF_JOB

# 1. CommServe exits after both sides reported, before the commit.
mkdir "$KF_WORK/big"
kf_random_file "$KF_WORK/big/big.bin" $((12 * 1024 * 1024))
kf_stop commserve
fault_spawn_with backup.before_commit fault_start_cs cs-f1
fault_backup_start local pool1 "$KF_WORK/big"
[ "$KF_RC" -ne 0 ] || kf_fail "a backup completed through a crashed CommServe"
fault_wait_crash cs-f1 backup.before_commit
fault_start_cs cs-r1
kf_assert_grep "${KF_LOG[cs-r1]}" '1 jobs left running by a previous CommServe are now marked interrupted'
job=$(fault_last_job)
kf_assert_eq "$(fault_job_state "$job")" interrupted "state of job $job"
kf_cli_fails restore "$job" --to "$KF_WORK/never"
kf_assert_grep "$KF_BOTH" 'ERR_STATE'

# 2. kill -9 of CommServe while the data flows.
truncate -s 1G "$KF_WORK/big/huge.bin"
fault_backup_start local pool1 "$KF_WORK/big" --no-wait
[ "$KF_RC" -eq 0 ] || { cat "$KF_BOTH" >&2; kf_fail "backup did not start"; }
job=$(kf_job_id)
kf_wait_log mediaagent-ma1 "job $job: stream opened" 1 20
kill -KILL "${KF_PID[cs-r1]}"
kf_wait_exit cs-r1 10
kf_assert_eq "$KF_EXIT" 137 "commserved's status after kill -9"
fault_start_cs cs-r2
rm -f "$KF_WORK/big/huge.bin"
kf_assert_eq "$(fault_job_state "$job")" interrupted "state of job $job"
kf_cli_ok jobs
kf_assert_no_grep "$KF_OUT" 'running' "a job is still listed running"

# 3. Earlier data restores; a new backup succeeds.
for ((i = 0; i < 60; i++)); do
	kf_cli restore "$good" --to "$KF_WORK/out"
	grep -q 'is not connected to CommServe' "$KF_BOTH" || break
	sleep 0.25
done
[ "$KF_RC" -eq 0 ] || { cat "$KF_BOTH" >&2; kf_fail "restore of job $good failed"; }
kf_treecmp "$src" "$KF_WORK/out$src"
kf_roundtrip local pool1
