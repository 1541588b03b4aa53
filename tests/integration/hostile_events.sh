#!/usr/bin/env bash
# hostile_events.sh - anyone can publish to CommServe's trace-event
# endpoint: garbage there (bad topics, wrong frame counts, undecodable or
# oversized bodies, partial events) is rejected with a log line, CommServe
# keeps serving, and a backup's trace is still complete and in order.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

before=$(kf_log_count commserve 'reject')
"$(kf_bin kf-poke)" --pub --endpoint "$KF_EV_EP" --count 3 ||
    kf_fail "kf-poke --pub failed"
# 3 rounds of at least 4 messages that no parser may accept.
kf_wait_log commserve 'reject' $((before + 12)) 20
kf_assert_alive commserve

kf_roundtrip local pool1
kf_cli_ok --json trace "$KF_BJOB"
kf_assert_eq "$(kf_json '[e["step"] for e in j if e["flow"] == "backup"] == sorted(e["step"] for e in j if e["flow"] == "backup")')" \
    true "backup trace in step order"
kf_assert_eq "$(kf_json 'sorted({e["step"] for e in j if e["flow"] == "backup"})')" \
    "[1, 2, 3, 4, 5, 6]" "traced backup steps"
kf_assert_eq "$(kf_json 'sorted({(e["step"], e["actor"]) for e in j if e["flow"] == "backup"})[0]')" \
    "(1, 'commserve')" "step 1's actor"
kf_cli_ok --json trace "$KF_RJOB"
kf_assert_eq "$(kf_json 'sorted({e["step"] for e in j if e["flow"] == "restore"})')" \
    "[1, 2, 3, 4, 5, 6, 7]" "traced restore steps"
kf_assert_no_grep "$KF_OUT" 'kf-poke' "a forged event in a job's trace"
