#!/usr/bin/env bash
# backup_memory_bound.sh - a backup's memory follows from its window, not
# from the size of the data or the speed of the MediaAgent: a 2 GiB file
# (sparse, with random blocks at the start, the middle and the end) goes
# through a MediaAgent slowed down by its test-only KEYFLOW_MA_DELAY_US,
# so the client could run far ahead of it.  clientd's peak RSS (VmHWM)
# must stay under 32 MiB plus its chunk pool (window + 4 chunks of 1 MiB),
# the MediaAgent's under 32 MiB plus two windows of chunks; the backup
# must restore byte for byte.  Needs about 4.5 GiB free (the container
# and the restored copy are not sparse); exits 77 (skipped) without.  In a
# sanitizer build the bounds are not checked (RSS means nothing there).
. "$(dirname "$0")/lib.sh" || exit 1

MIB=$((1024 * 1024))
SIZE=$((2048 * MIB))
WINDOW=8			# the client's default window (CLIENT_WINDOW)
CHUNK=$MIB			# the default chunk size
CLIENT_BOUND=$((32 * MIB + (WINDOW + 4) * CHUNK))
MA_BOUND=$((32 * MIB + 2 * WINDOW * CHUNK))
NEED_KB=$((4608 * 1024))	# 4.5 GiB

kf_setup
avail=$(df -Pk "$KF_WORK" | awk 'NR == 2 { print $4 }')
if [ "${avail:-0}" -lt "$NEED_KB" ]; then
	echo "SKIP: backup_memory_bound needs 4.5 GiB free under $KF_WORK" \
	    "(a 2 GiB container and its 2 GiB restored copy); only" \
	    "$((avail / 1024)) MiB are free" >&2
	exit 77
fi

kf_start_commserve
# 1.5 ms per chunk: about 650 MB/s at most, slower than the client.
KEYFLOW_MA_DELAY_US=1500 kf_start_mediaagent ma1
kf_add_client local "pw-$(head -c 12 /dev/urandom | od -An -tx1 |
    tr -d ' \n')"
kf_start_client local "$(kf_pwfile local)"
kf_cli_ok pool create pool1 --mediaagent ma1

src=$KF_WORK/src
mkdir "$src"
truncate -s "$SIZE" "$src/big.sparse"
for at in 0 1023 2047; do
	dd if=/dev/urandom of="$src/big.sparse" bs=$MIB count=1 seek=$at \
	    conv=notrunc status=none
done
kf_random_file "$src/small.bin" $((3 * MIB + 12345))

# VmHWM of a daemon, in bytes.
hwm() {
	local kb
	kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/${KF_PID[$1]}/status")
	echo $((kb * 1024))
}

t0=$(date +%s)
kf_backup local pool1 "$src"
bjob=$KF_JOB
t1=$(date +%s)
kf_log "backed up $((SIZE / MIB)) MiB through the slowed MediaAgent in" \
    "$((t1 - t0)) s"
kf_cli_ok --json job "$bjob"
kf_assert_eq "$(kf_json 'j["state"]')" completed "backup job state"
# The delay was really in force: 2,051 chunks at 1.5 ms each.
kf_assert_grep "${KF_LOG[mediaagent-ma1]}" "TEST ONLY: KEYFLOW_MA_DELAY_US" \
    "the MediaAgent did not say it runs slowed down"
[ $((t1 - t0)) -ge 3 ] ||
    kf_fail "the backup took $((t1 - t0)) s: the MediaAgent was not slowed"

client_hwm=$(hwm client-local)
ma_hwm=$(hwm mediaagent-ma1)
kf_log "peak RSS: clientd $((client_hwm / MIB)) MiB (bound" \
    "$((CLIENT_BOUND / MIB))), mediaagentd $((ma_hwm / MIB)) MiB (bound" \
    "$((MA_BOUND / MIB)))"
# AddressSanitizer's shadow memory and quarantine of freed blocks make
# RSS meaningless: a sanitized build checks the run, not the bounds.
if kf_sanitized; then
	kf_log "sanitizer build: RSS bounds not checked"
	CLIENT_BOUND=$((1 << 40))
	MA_BOUND=$((1 << 40))
fi
[ "$client_hwm" -le "$CLIENT_BOUND" ] ||
    kf_fail "clientd peaked at $((client_hwm / MIB)) MiB, over" \
    "$((CLIENT_BOUND / MIB)) MiB: the backup is not bounded by its window"
[ "$ma_hwm" -le "$MA_BOUND" ] ||
    kf_fail "mediaagentd peaked at $((ma_hwm / MIB)) MiB, over" \
    "$((MA_BOUND / MIB)) MiB"

out=$KF_WORK/out
mkdir "$out"
kf_restore "$bjob" "$out"
cmp "$src/big.sparse" "$out$src/big.sparse" ||
    kf_fail "the 2 GiB file did not restore byte for byte"
cmp "$src/small.bin" "$out$src/small.bin" ||
    kf_fail "the small file did not restore byte for byte"
kf_log "2 GiB restored identical"

# Stopping clientd in the middle of a backup aborts its pipeline with
# chunks in every stage (being read, sealed, inside ZeroMQ): it must exit
# at once and cleanly (under ASan: without a leak or a use after free),
# and the MediaAgent must drop the partial container.
kf_cli_ok backup local pool1 "$src" --no-wait
sjob=$(kf_job_id)
kf_wait_log mediaagent-ma1 "job $sjob: stream opened" 1 30
sleep 1
kf_stop client-local || kf_fail "clientd did not stop cleanly mid-backup"
kf_assert_grep "${KF_LOG[client-local]}" "job $sjob failed: .*client stopped" \
    "the stopped backup did not fail with the reason"
kf_wait_log mediaagent-ma1 "job $sjob: stream aborted" 1 30
no_files() {
	[ -z "$(find "$(kf_ma_root ma1)" -name "job-$sjob.*")" ]
}
kf_wait_for 10 "the partial container of job $sjob removed" "" no_files
kf_log "a backup stopped mid-stream ended cleanly"
