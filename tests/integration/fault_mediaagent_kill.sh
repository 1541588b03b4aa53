#!/usr/bin/env bash
# fault_mediaagent_kill.sh - mediaagentd dies during a backup: after chunk
# 3, after the last chunk but before commit, after commit but before it
# reports to CommServe, and by a real kill -9 mid-stream.  Each time the
# job ends failed within seconds naming the MediaAgent; a restarted
# MediaAgent moves the partial files it finds into <root>/.quarantine;
# nothing of the failed job can be restored; the backup made before still
# restores byte for byte and a new backup succeeds.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
kf_setup
kf_stack pool1
root=$(kf_ma_root ma1)

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((3 * 1024 * 1024)) 20
kf_backup local pool1 "$src"
good=$KF_JOB

mkdir "$KF_WORK/big"
kf_random_file "$KF_WORK/big/big.bin" $((12 * 1024 * 1024))
kf_stop mediaagent-ma1
n=0
for point in ma.after_chunk:3 ma.before_commit ma.after_commit_before_report
do
	n=$((n + 1))
	fault_spawn_with "$point" fault_start_ma "ma-f$n"
	t0=$SECONDS
	kf_cli_fails backup local pool1 "$KF_WORK/big"
	fault_elapsed_ok "$t0" "the backup failing at $point"
	job=$(fault_failed_job)
	fault_wait_crash "ma-f$n" "${point%%:*}"
	fault_assert_failed "$job" 'MediaAgent ma1'
	fault_start_ma "ma-r$n"
	if [ "$point" = ma.after_commit_before_report ]; then
		# The container was committed before the crash; CommServe's
		# discard found no MediaAgent.  It must still never restore.
		kf_cli_fails restore "$job" --to "$KF_WORK/never"
		kf_assert_grep "$KF_BOTH" 'ERR_STATE'
		[ ! -e "$KF_WORK/never" ] || [ -z "$(ls -A "$KF_WORK/never")" ] ||
		    kf_fail "a failed backup restored files"
	else
		kf_assert_grep "${KF_LOG[ma-r$n]}" \
		    "quarantined $root/pool1/job-$job.kfc.partial"
		[ -f "$root/.quarantine/pool1%job-$job.kfc.partial" ] ||
		    kf_fail "job $job's partial container is not in quarantine"
		fault_assert_no_container "$job"
	fi
	kf_stop "ma-r$n"
done

# kill -9 while a 1 GiB file streams.
fault_start_ma ma-k
truncate -s 1G "$KF_WORK/big/huge.bin"
kf_cli_ok backup local pool1 "$KF_WORK/big" --no-wait
job=$(kf_job_id)
kf_wait_log ma-k "job $job: stream opened" 1 20
t0=$SECONDS
kill -KILL "${KF_PID[ma-k]}"
kf_wait_exit ma-k 10
rm -f "$KF_WORK/big/huge.bin"
fault_wait_state "$job" failed
fault_elapsed_ok "$t0" "the backup failing after kill -9 of mediaagentd"
fault_assert_failed "$job" 'MediaAgent ma1'
fault_client_told client-local "$job"
fault_start_ma ma-final
fault_assert_no_container "$job"

fault_restore_equal "$good" "$src"
kf_roundtrip local pool1
