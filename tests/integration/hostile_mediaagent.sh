#!/usr/bin/env bash
# hostile_mediaagent.sh - the MediaAgent's data endpoint, which any client
# on the network can reach, answers every malformed message with ERROR and
# the right code, keeps serving, and a full backup and restore through it
# succeed afterwards.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

# The data socket's ZMQ_MAXMSGSIZE makes ZeroMQ drop a peer that sends a
# frame over the payload limit before the MediaAgent sees it: no reply.
kf_poke_all "${KF_MA_EP[ma1]}" mediaagent-ma1 oversized-payload
[ "$(kf_log_count mediaagent-ma1 'reject|refus')" -ge 7 ] ||
    kf_fail "the MediaAgent did not log the 7 rejected messages"
kf_assert_alive commserve mediaagent-ma1 client-local
kf_roundtrip local pool1
# Data requests with forged tokens are refused: for the committed backup
# (its container exists), for the finished restore, for a job that never
# was.
for job in "$KF_BJOB" "$KF_RJOB" 999999; do
	kf_poke "${KF_MA_EP[ma1]}" stream-open-bogus --job "$job"
	kf_poke "${KF_MA_EP[ma1]}" chunk-read-bogus --job "$job"
	kf_poke "${KF_MA_EP[ma1]}" chunk-put-bogus --job "$job"
done
kf_roundtrip local pool1
kf_assert_alive mediaagent-ma1
