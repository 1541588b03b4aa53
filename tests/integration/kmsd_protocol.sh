#!/usr/bin/env bash
# kmsd_protocol.sh - KMIP as kmsd speaks it, from a byte-level client:
# each request answered in its own version (1.0 up to 2.0; other versions
# as KMIP.md says), a response header of Protocol Version, Time Stamp and
# Batch Count only, batches with Unique Batch Item IDs echoed, the ID
# Placeholder, Stop and Continue, Maximum Response Size; sixteen clients of
# two identities at once; trace events on the ZeroMQ PUB socket carrying
# the Client Correlation Value as trace id (and none for a value that is
# not one); and SIGTERM with a request half sent: it is answered, then
# kmsd exits 0.
. "$(dirname "$0")/lib.sh"
. "$KF_SRC_DIR/tests/interop/kms_lib.sh"

kms_setup
evport=$(kf_free_port)
events=$KF_WORK/events.tsv
: >"$events"
kms_spawn_py events "$KMS_INTEROP/zmq_sub.py" --port "$evport" --out "$events"
kf_wait_ready events
kms_start kms --events "tcp://127.0.0.1:$evport"
log=${KF_LOG[kms]}

kms_cases kms versions batches forms max-response concurrent events
uid=$(sed -n 's/^uid //p' "$KF_WORK/cases.out")
[ -n "$uid" ] || kf_fail "the events case printed no key id"

# Seed pool step 2 and 3 and restore step 2, by kms, with the trace ids
# the Client Correlation Values gave; nothing for "not a trace id".
kf_wait_for 10 "three trace events" "" kms_lines_at_least "$events" 3
tab=$'\t'
kf_assert_grep "$events" "^pool/gold${tab}pool${tab}2${tab}kms${tab}created AES-256 master key $uid \\(gold master key [0-9]+\\) for CN=commserve,O=keyflow\$"
kf_assert_grep "$events" "^pool/gold${tab}pool${tab}3${tab}kms${tab}encrypted 32 bytes with master key $uid \\(AES-CBC\\)\$"
kf_assert_grep "$events" "^job/42${tab}restore${tab}2${tab}kms${tab}returned master key $uid to CN=commserve,O=keyflow\$"
sleep 1
[ "$(wc -l <"$events")" -eq 3 ] ||
    kf_fail "expected exactly 3 trace events: $(cat "$events")"

# SIGTERM with a request in flight.
KF_EXIT=0
"$KMS_PY" "$KMS_INTEROP/kmsd_cases.py" inflight --pid "${KF_PID[kms]}" \
    --port "${KMS_PORT[kms]}" --certs "$KMS_CERTS" >"$KF_WORK/inflight.out" 2>&1 || {
	cat "$KF_WORK/inflight.out" >&2
	kf_fail "the in-flight case failed"
}
kf_wait_exit kms 20
[ "$KF_EXIT" -eq 0 ] || kf_fail "kmsd exited $KF_EXIT on SIGTERM"
kf_check_sanitizer kms || kf_fail "kmsd reported a sanitizer error"
kf_assert_grep "$log" 'stopping: waiting for 1 connection to finish'
kf_assert_grep "$log" 'op=Create uid=[0-9a-f-]{36} result=Success AES-256 name="inflight-'
kf_assert_grep "$log" 'info: stopped$'
