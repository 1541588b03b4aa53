#!/usr/bin/env bash
# kmsd_hostile.sh - hostile KMIP from an authenticated peer.  A TTLV
# length of 2^32-1 (and 2^32-8), Structures nested 10,000 deep, a batch of
# 100,000 items (and one of 2,000 within the size limit), 70,000 items in
# one message, garbage after a valid handshake, a KMIP header around
# random bytes, a truncated message, unknown operations, an idle
# connection, more connections than allowed: each is refused cleanly (an
# Invalid Message answer where the stream still frames, a closed
# connection where it does not), kmsd keeps serving, and its memory stays
# bounded: its peak resident set stays under 100 MB.
. "$(dirname "$0")/lib.sh"
. "$KF_SRC_DIR/tests/interop/kms_lib.sh"

RSS_LIMIT_KB=$((100 * 1024))

kms_setup
kms_start kms --idle-timeout 3 --max-connections 8
log=${KF_LOG[kms]}

kms_cases kms huge-length deep-nesting batch-100k many-items garbage \
    unknown-op good
kms_cases kms idle conn-flood --max-conns 8
kf_assert_alive kms

kf_assert_grep "$log" 'closing: message of 4294967296 bytes exceeds the limit of 1048576 bytes'
kf_assert_grep "$log" 'closing: message of 3200072 bytes exceeds the limit'
kf_assert_grep "$log" 'result="Invalid Message" message=".*nests Structures deeper than'
kf_assert_grep "$log" 'result="Invalid Message" message=".*Batch Count is 2000'
kf_assert_grep "$log" 'result="Invalid Message" message="message has more than 65536 items'
kf_assert_grep "$log" 'closing: the peer sent 0x13[0-9A-F]{4} where a KMIP message tag was expected'
kf_assert_grep "$log" 'reading a 4104-byte request: closed by the peer'
kf_assert_grep "$log" 'idle for 3s, closing'
kf_assert_grep "$log" 'refusing a connection from 127\.0\.0\.1:[0-9]+: 8 clients are already served'

peak=$(kms_peak_rss_kb kms)
kf_log "kmsd's peak resident set: ${peak} kB"
[ "$peak" -lt "$RSS_LIMIT_KB" ] ||
    kf_fail "kmsd's peak resident set was ${peak} kB (limit $RSS_LIMIT_KB kB)"
