#!/usr/bin/env bash
# hostile_churn.sh - 5,000 DEALER connections opened and dropped at
# CommServe and at the MediaAgent (half after a HELLO that is never
# completed): both keep serving, their RSS grows by less than 50 MB, and a
# backup and restore succeed afterwards.
. "$(dirname "$0")/lib.sh" || exit 1
# Under ASan, freed memory waits in a 256 MB quarantine and would count as
# growth: keep it small so RSS measures what the daemons hold.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
kf_setup
kf_stack pool1
kf_roundtrip local pool1

cs_pid=${KF_PID[commserve]}
ma_pid=${KF_PID[mediaagent-ma1]}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cs0=$(rss "$cs_pid"); ma0=$(rss "$ma_pid")

start=$(date +%s)
for ep in "$KF_CS_EP" "${KF_MA_EP[ma1]}"; do
	timeout 300 "$(kf_bin kf-poke)" --churn 5000 --endpoint "$ep" \
	    >>"$KF_WORK/churn.out" 2>&1 || { cat "$KF_WORK/churn.out" >&2
	    kf_fail "churn against $ep did not finish in 300 s"; }
done
kf_log "churn took $(( $(date +%s) - start )) s"
kf_assert_alive commserve mediaagent-ma1 client-local
kf_poke "$KF_CS_EP" valid-ping
kf_poke "${KF_MA_EP[ma1]}" valid-ping
# Unauthenticated peers expire; the real client stays registered.
sleep 12
cs1=$(rss "$cs_pid"); ma1=$(rss "$ma_pid")
kf_log "RSS commserve ${cs0} -> ${cs1} kB, mediaagent ${ma0} -> ${ma1} kB"
[ $((cs1 - cs0)) -lt 51200 ] || kf_fail "commserve grew $((cs1 - cs0)) kB"
[ $((ma1 - ma0)) -lt 51200 ] || kf_fail "mediaagent grew $((ma1 - ma0)) kB"
kf_cli_ok --json client list
kf_assert_eq "$(kf_json '[c["connected"] for c in j]')" "[True]" \
    "client local still connected"
kf_roundtrip local pool1
kf_assert_alive commserve mediaagent-ma1 client-local
