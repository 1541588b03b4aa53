#!/usr/bin/env bash
# pool_create.sh - the seed's storage pool creation: a pool is created on a
# registered MediaAgent and listed; a second pool of the same name and a
# pool on an unknown MediaAgent are refused with clear errors and leave
# nothing behind; the trace shows all four seed steps.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_start_commserve
kf_start_mediaagent ma1

kf_cli_ok pool create pool1 --mediaagent ma1
kf_cli_ok --json pool list
kf_assert_eq "$(kf_json '[p["name"] for p in j]')" "['pool1']" \
    "pool list"
kf_assert_eq "$(kf_json 'j[0]["mediaagent"]')" ma1 "pool's MediaAgent"
master=$(kf_json 'j[0]["master_key_id"]')
[ -n "$master" ] || kf_fail "pool1 has no master key id"
kf_cli_ok pool list
kf_assert_grep "$KF_OUT" 'pool1' "plain pool list names pool1"

# The same name again: refused, and pool1 is untouched.
kf_cli_fails pool create pool1 --mediaagent ma1
kf_assert_grep "$KF_BOTH" 'pool1.*\(ERR_EXISTS\)$' "duplicate pool error"
kf_cli_ok --json pool list
kf_assert_eq "$(kf_json 'len(j)')" 1 "pools after the duplicate"
kf_assert_eq "$(kf_json 'j[0]["master_key_id"]')" "$master" \
    "pool1's master key after the duplicate"

# A MediaAgent that never registered: refused, no pool.
kf_cli_fails pool create pool2 --mediaagent nosuchma
kf_assert_grep "$KF_BOTH" 'nosuchma.*\(ERR_NOT_FOUND\)$' "unknown MediaAgent error"
kf_cli_ok --json pool list
kf_assert_eq "$(kf_json '[p["name"] for p in j]')" "['pool1']" \
    "pools after the unknown MediaAgent"

# Names that could not be a directory on the MediaAgent.
kf_cli_fails pool create ../escape --mediaagent ma1
kf_assert_grep "$KF_BOTH" '\(ERR_INVALID\)$' "a pool name with a slash"
kf_cli pool create "" --mediaagent ma1
[ "$KF_RC" -ne 0 ] || kf_fail "a pool with an empty name was created"
kf_cli_ok --json pool list
kf_assert_eq "$(kf_json 'len(j)')" 1 "pools after the bad names"

# The trace: seed steps 1-4 of pool creation, in order, by their actors.
kf_cli_ok --json trace --pool pool1
kf_assert_eq "$(kf_json 'sorted({e["step"] for e in j if e["flow"] == "pool"})')" \
    "[1, 2, 3, 4]" "traced pool creation steps"
kf_cli_ok trace --pool pool1
for s in 'generates KEK' 'generate master key' 'encrypts KEK using master key' \
    'stores master key ID'; do
	kf_assert_grep "$KF_OUT" "$s" "trace --pool shows \"$s\""
done
kf_assert_alive commserve mediaagent-ma1
