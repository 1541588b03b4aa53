#!/usr/bin/env bash
# hostile_impersonation.sh - a second clientd registering as an existing
# client with a wrong password gets ERR_AUTH and does not disturb the real
# client: backups for that client still run on the real one.  A peer that
# says HELLO as the client and then sends job messages with a guessed
# token for a running job gets ERR_AUTH.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1
kf_roundtrip local pool1

# An impostor clientd: same name, wrong password, its own state.
kf_write_password "$KF_WORK/impostor.pw" "not-the-password"
kf_spawn_client local "$KF_WORK/impostor.pw" client-impostor
kf_wait_exit client-impostor 20
kf_assert_eq "$KF_EXIT" 1 "the impostor gives up with status 1"
kf_assert_grep "$KF_WORK/logs/client-impostor.log" \
    'refused client local: wrong network password'
kf_check_sanitizer client-impostor || kf_fail "impostor: sanitizer report"
kf_cli_ok --json client list
kf_assert_eq "$(kf_json '[c["connected"] for c in j]')" "[True]" \
    "the real client is still connected"
[ "$(kf_json 'j[0].get("failed_auths", 0)')" -ge 1 ] ||
    kf_fail "the failed attempt is not shown to the operator"
kf_roundtrip local pool1
kf_assert_grep "$KF_WORK/logs/client-local.log" "job $KF_BJOB: backup completed"
kf_assert_no_grep "$KF_WORK/logs/client-impostor.log" "job $KF_BJOB"

# A running backup (the real client paused), then forged job messages.
src=$KF_WORK/big; mkdir -p "$src"
kf_random_file "$src/f" $((64 * 1024 * 1024))
kf_cli_ok backup local pool1 "$src" --no-wait
job=$(kf_job_id)
cpid=${KF_PID[client-local]}
kill -STOP "$cpid"
for c in done-token fail-token batch-absurd cg-token hello-then-done; do
	kf_poke "$KF_CS_EP" "$c" --job "$job"
done
kill -CONT "$cpid"
kf_assert_alive commserve mediaagent-ma1 client-local
kf_roundtrip local pool1
