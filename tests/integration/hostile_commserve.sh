#!/usr/bin/env bash
# hostile_commserve.sh - CommServe's ROUTER answers every malformed message
# (garbage, an unknown type, wrong frame counts, a truncated protobuf,
# frames over the size limits) with ERROR and the right code, keeps
# serving, and a full backup and restore succeed afterwards.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

kf_poke_all "$KF_CS_EP" commserve
# An operator can see the attack: one log line per rejected message.
[ "$(kf_log_count commserve 'reject|refus')" -ge 8 ] ||
    kf_fail "commserve did not log the 8 rejected messages"
# Several at once, as from many peers.
pokes=()
for i in 1 2 3 4; do
	for c in garbage truncated-protobuf unknown-type; do
		"$(kf_bin kf-poke)" --endpoint "$KF_CS_EP" --case "$c" \
		    >>"$KF_WORK/pokes.out" 2>&1 &
		pokes+=($!)
	done
done
for p in "${pokes[@]}"; do
	wait "$p" || { cat "$KF_WORK/pokes.out" >&2
	    kf_fail "a concurrent kf-poke got no (or the wrong) reply"; }
done
kf_assert_alive commserve mediaagent-ma1 client-local

kf_cli_ok --json mediaagent list
kf_assert_eq "$(kf_json '[m["connected"] for m in j]')" \
    "[True]" "ma1 still registered"
kf_roundtrip local pool1
