#!/bin/bash
# curve_pin.sh - a MediaAgent name is pinned to the CURVE key it first
# registered with (commserve/peers.c), the way SSH pins host keys.
#
# With CURVE on (even under KF_CURVE=0): MediaAgent ma1's first
# registration pins its key A, shown by keyflow mediaagent list; a second
# mediaagentd with another key B that CommServe trusts, registering as
# ma1, is refused with ERR_AUTH and a sentence naming both keys and the
# unpin command, in CommServe's log and its own; ma1's row (endpoint, key)
# is unchanged and backups through ma1 still run and restore identical;
# after keyflow mediaagent unpin ma1 the key-B MediaAgent registers, the
# name is pinned to B, and the key-A registration is dropped and refused
# in turn; unpin of an unknown name fails with ERR_NOT_FOUND.

source "$(dirname "$0")/lib.sh"

KF_CURVE=1
kf_setup
kf_stack pool1

# kf_logged NAME STRING: NAME's log holds STRING (fixed: Z85 is full of
# regexp characters).
kf_logged() {
	grep -qF -- "$2" "${KF_LOG[$1]}"
}

# ma1_row: keyflow --json mediaagent list, then ma1's endpoint and key.
ma1_row() {
	kf_cli_ok --json mediaagent list
	kf_json '[(m["data_endpoint"], m["curve_key"]) for m in j
	    if m["name"] == "ma1"]'
}

key_a=$(cat "$KF_CURVE_DIR/mediaagent-ma1/curve.pub")
ep_a=${KF_MA_EP[ma1]}
short_a="${key_a:0:8}…"

# ---- 1. the first registration pins key A
kf_assert_eq "$(ma1_row)" "[('$ep_a', '$key_a')]" "ma1 after its first HELLO"
kf_cli_ok mediaagent list
grep '^ma1 ' "$KF_OUT" | grep -qF -- "$short_a" ||
    kf_fail "the table does not show ma1's key as $short_a: $(cat "$KF_OUT")"
kf_assert_grep "$KF_OUT" '^NAME +ENDPOINT +CONNECTED +LAST SEEN +CURVE KEY'
! grep -qF -- "$key_a" "$KF_OUT" || kf_fail "the table shows the whole key"
kf_roundtrip local pool1
kf_log "ma1 pinned to $short_a; backup $KF_BJOB and restore $KF_RJOB"

# ---- 2. another trusted key claiming the name ma1
key_b=$(kf_curve_keygen "$KF_WORK/key-b")
short_b="${key_b:0:8}…"
kf_curve_trust impostor "$KF_WORK/key-b"
ep_b="tcp://127.0.0.1:$(kf_free_port)"
mkdir -p "$KF_WORK/ma-b"
# spawn_b LABEL: mediaagentd "ma1" with key B on its own endpoint and root.
spawn_b() {
	kf_spawn "$1" mediaagentd --name ma1 --commserve "$KF_CS_EP" \
	    --listen "$ep_b" --root "$KF_WORK/ma-b" \
	    --curve-dir "$KF_WORK/key-b" -v
}
spawn_b ma-b
refusal="MediaAgent ma1 is pinned to CURVE key $short_a; this connection\
 authenticated with $short_b; if ma1's key was replaced on purpose, run:\
 keyflow mediaagent unpin ma1"
kf_wait_for 15 "CommServe refuses key B as ma1" "" kf_logged commserve \
    "$refusal"
kf_wait_for 15 "the key-B MediaAgent is told why" "" kf_logged ma-b \
    "CommServe answered ERR_AUTH: $refusal"
kf_assert_no_grep "${KF_LOG[ma-b]}" 'registered with CommServe' \
    "the key-B MediaAgent registered as ma1"
kf_assert_eq "$(ma1_row)" "[('$ep_a', '$key_a')]" \
    "ma1's row after the refused HELLO"
kf_assert_eq "$(kf_json '[m["connected"] for m in j]')" "[True]" \
    "ma1 is still connected"
kf_roundtrip local pool1
kf_assert_no_grep "${KF_LOG[ma-b]}" "job $KF_BJOB" \
    "the refused MediaAgent saw the backup"
kf_assert_alive commserve mediaagent-ma1 ma-b
# It keeps trying; CommServe answers each try but warns once a minute.
b_refusals() {
	[ "$(grep -c 'hello refused: MediaAgent ma1 is pinned' \
	    "${KF_LOG[commserve]}")" -ge 2 ]
}
kf_wait_for 15 "key B trying again" "" b_refusals
kf_assert_eq "$(grep -c 'warning: MediaAgent ma1 is pinned' \
    "${KF_LOG[commserve]}")" 1 "CommServe's warnings while key B retries"
kf_log "key B as ma1 refused; ma1 still serves (backup $KF_BJOB," \
    "restore $KF_RJOB)"

# ---- 3. the operator unpins: the next registration pins its key
kf_cli_ok mediaagent unpin ma1
kf_assert_grep "$KF_OUT" "^MediaAgent ma1 is no longer pinned to CURVE key" \
    "unpin says what it did"
grep -qF -- "$key_a" "$KF_OUT" || kf_fail "unpin does not name the old key"
kf_wait_for 15 "CommServe logs the unpin" "" kf_logged commserve \
    "operator unpinned MediaAgent ma1 (was pinned to $key_a)"
# mediaagentd says HELLO again every 3 s; one that gave up is restarted.
if ! kf_alive "${KF_PID[ma-b]}"; then
	kf_stop ma-b || true
	spawn_b ma-b2
	b=ma-b2
else
	b=ma-b
fi
kf_wait_for 20 "the key-B MediaAgent registers as ma1" "${KF_PID[$b]}" \
    kf_logged "$b" "registered with CommServe as ma1"
kf_assert_eq "$(ma1_row)" "[('$ep_b', '$key_b')]" "ma1 after the unpin"
kf_wait_for 15 "ma1's key-A registration is dropped" "" kf_logged commserve \
    "MediaAgent ma1 is now pinned to CURVE key $short_b: its registration\
 under key $short_a is dropped"
kf_wait_for 20 "the key-A MediaAgent meets the new pin" "" kf_logged \
    commserve "MediaAgent ma1 is pinned to CURVE key $short_b; this\
 connection authenticated with $short_a;"
kf_assert_eq "$(ma1_row)" "[('$ep_b', '$key_b')]" \
    "ma1 after key A tried again"
kf_log "after unpin, key B registered and is pinned; key A is refused"

# ---- 4. unpin of a name CommServe does not know
kf_cli_fails mediaagent unpin no-such-ma
kf_assert_grep "$KF_ERR" \
    '^keyflow: no MediaAgent named no-such-ma .*\(ERR_NOT_FOUND\)$'
kf_assert_alive commserve mediaagent-ma1 "$b"
