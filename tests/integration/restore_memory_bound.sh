#!/usr/bin/env bash
# restore_memory_bound.sh - a large restore streams through bounded memory:
# a backup of a 1 GiB random file (and a few small files around it) is
# restored byte for byte while clientd's and mediaagentd's peak RSS grow by
# no more than their windows allow (CLIENT_RESTORE_SLOTS chunks in flight on
# the client, MA_SEND_BUFS send buffers and one copy buffer on the
# MediaAgent, each 1 MiB with the default chunk size, plus slack), whatever
# the size of the backup.  Then the same backup is damaged in the middle of
# its stream, twice: bit rot (the MediaAgent's CRC refuses the chunk while
# the client is far ahead in the stream) and a forged chunk whose CRCs were
# fixed (the client's GCM tag refuses it).  Each restore fails naming the
# job and the chunk, and leaves nothing under the big file's final name nor
# any temporary file.
#
# Needs about 4 GiB free under $TMPDIR; without it the suite says so and
# exits 77 (skipped).  In a sanitizer build the RSS bound is not checked.
. "$(dirname "$0")/lib.sh" || exit 1

big=$((1024 * 1024 * 1024))
need=$((4 * big / 1024))			# KiB: source, container, restores
avail=$(df -Pk "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }')
if [ "${avail:-0}" -lt "$need" ]; then
	kf_log "SKIP: needs $((need / 1024)) MiB free under ${TMPDIR:-/tmp}," \
	    "has $((avail / 1024)) MiB"
	exit 77
fi

kf_setup
kf_stack pool1

# Peak RSS may grow by this much during a restore (KiB): 16 chunks in flight
# on either side, plus the MediaAgent's copy buffer, plus 16 MiB of slack
# for the allocator, ZeroMQ and the stack.  A restore that held the stream
# in memory would need 1 GiB.
bound=$(((16 + 16 + 16) * 1024))
# AddressSanitizer keeps freed memory in quarantine: RSS says nothing there.
if kf_sanitized; then
	kf_log "sanitizer build: peak RSS is not checked, the rest is"
	bound=$((1 << 40))
fi

src=$KF_WORK/src
mkdir -p "$src"
printf 'before the big file\n' >"$src/a.txt"
kf_random_file "$src/big.bin" "$big"
printf 'after the big file\n' >"$src/z.txt"
kf_backup local pool1 "$src"
bjob=$KF_JOB
kfc=$(find "$(kf_ma_root ma1)" -name "job-$bjob.kfc")
[ -n "$kfc" ] || kf_fail "no container job-$bjob.kfc on the MediaAgent"
nchunks=$((($(stat -c %s "${kfc%.kfc}.kfi") - 32) / 8))
[ "$nchunks" -ge 1024 ] || kf_fail "only $nchunks chunks for 1 GiB"

# rss PID FIELD: VmRSS or VmHWM of a daemon, in KiB.
rss() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# The peak from here on: clear_refs 5 resets VmHWM to the current RSS.
reset_peak() {
	local d
	for d in client-local mediaagent-ma1; do
		echo 5 >"/proc/${KF_PID[$d]}/clear_refs" ||
		    kf_fail "cannot reset the peak RSS of $d"
	done
}

out=$KF_WORK/out
mkdir "$out"
declare -A before=()
for d in client-local mediaagent-ma1; do
	before[$d]=$(rss "${KF_PID[$d]}" VmRSS)
done
reset_peak
t0=$(date +%s%N)
kf_restore "$bjob" "$out"
t1=$(date +%s%N)
kf_log "restored 1 GiB in $(((t1 - t0) / 1000000)) ms"
for d in client-local mediaagent-ma1; do
	peak=$(rss "${KF_PID[$d]}" VmHWM)
	kf_log "$d: RSS ${before[$d]} KiB before the restore, peak $peak KiB"
	[ $((peak - before[$d])) -le "$bound" ] ||
	    kf_fail "$d's peak RSS grew by $((peak - before[$d])) KiB during" \
	    "the restore, more than the $bound KiB its window allows"
done
cmp "$src/big.bin" "$out$src/big.bin" ||
    kf_fail "the restored 1 GiB file differs from the original"
kf_treecmp "$src" "$out$src"
rm -rf "$out"

# tamper MODE CODE: damage the middle chunk, restore, check the refusal.
tamper() {
	local mid=$((nchunks / 2)) o=$KF_WORK/out-$2
	python3 "$KF_SRC_DIR/tests/integration/tamper.py" $1 "$kfc" \
	    "${kfc%.kfc}.kfi" "$mid" >/dev/null || kf_fail "tamper.py failed"
	mkdir "$o"
	reset_peak
	kf_cli_fails restore "$bjob" --to "$o"
	kf_assert_grep "$KF_BOTH" "\\($2\\)$" "the error code"
	kf_assert_grep -i "$KF_BOTH" "chunk $mid([^0-9]|$)" \
	    "the error names chunk $mid"
	kf_assert_grep "$KF_BOTH" "(^|[^0-9])$bjob([^0-9]|$)" \
	    "the error names job $bjob"
	kf_assert_grep "$KF_BOTH" "restoring ${src#/}/big\\.bin" \
	    "the error names the file"
	[ ! -e "$o$src/big.bin" ] ||
	    kf_fail "big.bin was restored from a damaged stream ($1)"
	[ -z "$(find "$o" -name '.*.kf-*')" ] ||
	    kf_fail "a temporary file was left behind: $(find "$o" \
	    -name '.*.kf-*')"
	[ -e "$o$src/a.txt" ] ||
	    kf_fail "a.txt, before the damage, was not restored"
	[ ! -e "$o$src/z.txt" ] ||
	    kf_fail "z.txt, after the damage, was restored"
	for d in client-local mediaagent-ma1; do
		peak=$(rss "${KF_PID[$d]}" VmHWM)
		[ $((peak - before[$d])) -le "$bound" ] ||
		    kf_fail "$d's peak RSS grew by $((peak - before[$d]))" \
		    "KiB in a failed restore"
	done
	kf_cli_ok --json jobs
	kf_assert_eq "$(kf_json 'max((x["id"], x["state"]) for x in j if x.get("backup_job") == '"$bjob"')[1]')" \
	    failed "the damaged restore's job state"
}

# Bit rot: the MediaAgent refuses the chunk it was about to stream.
tamper "" ERR_INTEGRITY
# Undo it (the same byte flipped back) and forge instead: the tag refuses.
python3 "$KF_SRC_DIR/tests/integration/tamper.py" "$kfc" "${kfc%.kfc}.kfi" \
    $((nchunks / 2)) >/dev/null || kf_fail "tamper.py failed"
tamper --fix-crc ERR_CRYPTO
kf_assert_alive commserve mediaagent-ma1 client-local
