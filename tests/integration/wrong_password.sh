#!/usr/bin/env bash
# wrong_password.sh - a client with the wrong network password gets a clear
# error and no key: clientd exits non-zero saying so, CommServe counts the
# failed attempt, a backup for that client fails clearly, the client with
# the right password keeps working, and no password reaches any log.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_start_commserve
kf_start_mediaagent ma1
kf_cli_ok pool create pool1 --mediaagent ma1

good_pw="right-$(kf_marker)"
bad_pw="wrong-$(kf_marker)"
kf_add_client victim "$good_pw"
kf_write_password "$KF_WORK/bad.password" "$bad_pw"

kf_spawn_client victim "$KF_WORK/bad.password"
kf_wait_exit client-victim 30
[ "$KF_EXIT" -ne 0 ] || kf_fail "clientd with a wrong password exited 0"
kf_assert_grep "${KF_LOG[client-victim]}" 'wrong network password' \
    "clientd says why it stopped"
kf_assert_no_grep "${KF_LOG[client-victim]}" '(^|[^a-z])ready' \
    "clientd claimed to be ready"

kf_cli_ok --json client list
kf_assert_eq "$(kf_json '[c.get("failed_auths", 0) >= 1 for c in j if c["name"] == "victim"]')" \
    "[True]" "failed_auths of victim"
kf_assert_eq "$(kf_json '[c["connected"] for c in j if c["name"] == "victim"]')" \
    "[False]" "victim is not connected"

# A name CommServe does not know gets nothing either.
kf_spawn_client ghost "$KF_WORK/bad.password"
kf_wait_exit client-ghost 30
[ "$KF_EXIT" -ne 0 ] || kf_fail "clientd of an unknown client exited 0"

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" 65536 10
kf_cli_fails backup victim pool1 "$src"
kf_assert_grep "$KF_BOTH" 'victim' "the backup error names the client"

# The right password on another client works meanwhile.
kf_add_client good "other-$(kf_marker)"
kf_start_client good "$(kf_pwfile good)"
kf_backup good pool1 "$src"
mkdir "$KF_WORK/out"
kf_restore "$KF_JOB" "$KF_WORK/out"
kf_treecmp "$src" "$KF_WORK/out$src"

# And the victim, given its right password, is served again.
kf_start_client victim "$(kf_pwfile victim)" client-victim2
kf_backup victim pool1 "$src"

for f in "$KF_WORK"/logs/*.log; do
	if grep -qF -e "$good_pw" -e "$bad_pw" "$f"; then
		kf_fail "a password appears in $f"
	fi
done
kf_assert_alive commserve mediaagent-ma1 client-good client-victim2
