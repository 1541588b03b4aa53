#!/usr/bin/env bash
# fault_client_kill.sh - clientd dies in the middle of a backup: once at a
# deterministic fault point (after chunk 3 of a 12 MiB file), once by a
# real kill -9 while a 1 GiB file streams.  Each time the job ends failed
# within seconds with a sentence naming the client, no container of it
# stays on the MediaAgent, the backup made before still restores byte for
# byte, and after clientd is restarted a new backup succeeds.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
kf_setup
kf_stack pool1
pw=$(kf_pwfile local)

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((3 * 1024 * 1024)) 20
kf_backup local pool1 "$src"
good=$KF_JOB

# 1. The client exits after sending chunk 3 (simulated crash).
mkdir "$KF_WORK/big"
kf_random_file "$KF_WORK/big/big.bin" $((12 * 1024 * 1024))
kf_stop client-local
fault_spawn_with client.after_chunk:3 kf_start_client local "$pw" client-f1
t0=$SECONDS
kf_cli_fails backup local pool1 "$KF_WORK/big"
fault_elapsed_ok "$t0" "the backup failing after the client crashed"
job=$(fault_failed_job)
fault_wait_crash client-f1 client.after_chunk
fault_assert_failed "$job" 'client local disconnected'
fault_assert_no_container "$job"

# 2. kill -9 while a large file streams.
kf_start_client local "$pw" client-2
truncate -s 1G "$KF_WORK/big/huge.bin"
kf_cli_ok backup local pool1 "$KF_WORK/big" --no-wait
job=$(kf_job_id)
fault_wait_stream "$job"
t0=$SECONDS
kill -KILL "${KF_PID[client-2]}"
kf_wait_exit client-2 10
kf_assert_eq "$KF_EXIT" 137 "clientd's status after kill -9"
rm -f "$KF_WORK/big/huge.bin"
fault_wait_state "$job" failed
fault_elapsed_ok "$t0" "the backup failing after kill -9 of clientd"
fault_assert_failed "$job" 'client local disconnected'
fault_assert_no_container "$job"

# 3. The earlier backup restores; a new backup succeeds.
kf_start_client local "$pw" client-3
fault_restore_equal "$good" "$src"
kf_roundtrip local pool1
