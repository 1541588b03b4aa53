#!/usr/bin/env bash
# backup_streams.sh - several data streams per backup job (--streams N):
# a mixed tree (a 40 MiB random file, 1,000 small files, every odd kind
# of entry) backed up with --streams 4 restores byte for byte; it is one
# job (in the job list and its trace) whose MediaAgent wrote one
# sequential container, through a reorder buffer that never held more
# than 4 streams x the window of chunks, with clientd's peak RSS within
# its 4 windows; --streams 0 and 17 are refused with a sentence; a
# MediaAgent slowed down per chunk still gets every chunk in order; a
# clientd dying, one of the job's four TCP connections aborted (ss -K),
# and a MediaAgent dying, each in the middle of a 4-stream job, fail the
# whole job within seconds with no container left that could pass for a
# backup; and a new 4-stream backup succeeds.  Needs root for ss -K.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1

MIB=$((1024 * 1024))
WINDOW=8			# the client's default window (CLIENT_WINDOW)

kf_setup
kf_stack pool1
pw=$(kf_pwfile local)

marker=$(kf_marker)
src=$KF_WORK/src
kf_make_tree "$src" "$marker" $((40 * MIB)) 1000

# 1. Refusals: out of range, and not a number.
for n in 0 17; do
	kf_cli_fails backup local pool1 "$src" --streams "$n"
	kf_assert_grep "$KF_BOTH" "$n data streams asked; a backup job runs 1 to 16 streams" \
	    "--streams $n refused with a sentence"
	kf_assert_grep "$KF_BOTH" 'ERR_INVALID|invalid' "--streams $n is ERR_INVALID"
done
kf_cli backup local pool1 "$src" --streams four
kf_assert_eq "$KF_RC" 2 "keyflow backup --streams four exits as a usage error"
kf_assert_grep "$KF_BOTH" "must be a number of data streams" \
    "--streams four refused by the CLI"
kf_cli_ok backup --help
kf_assert_grep "$KF_OUT" '\[--streams N\]' "backup --help shows --streams"

# 2. Four streams: one job, one container, restored byte for byte.
njobs_before=$(kf_cli_ok --json jobs >/dev/null; kf_json 'len(j)')
kf_backup local pool1 "$src" --streams 4
bjob=$KF_JOB
kf_cli_ok --json job "$bjob"
kf_assert_eq "$(kf_json 'j["state"]')" completed "4-stream backup state"
kf_assert_eq "$(kf_json 'j["streams"]')" 4 "the job records its 4 streams"
kf_assert_eq "$(kf_json 'j["chunk_size"]')" 1048576 "the job's chunk size"
kf_cli_ok job "$bjob"
kf_assert_grep "$KF_OUT" '^data streams: +4$' "keyflow job shows 4 streams"
kf_assert_eq "$(kf_psql -d "$KF_DB" -At -c "SELECT streams FROM jobs WHERE id = $bjob")" 4 \
    "jobs.streams in the database"
kf_cli_ok --json jobs
kf_assert_eq "$(kf_json 'len(j)')" $((njobs_before + 1)) \
    "jobs after one 4-stream backup"
kf_assert_grep "${KF_LOG[commserve]}" "backup job $bjob started: .*4 data streams" \
    "CommServe ran the job with 4 streams"
kf_assert_grep "${KF_LOG[mediaagent-ma1]}" \
    "job $bjob: stream opened by client local .*\(4 data streams\)" \
    "the MediaAgent took 4 streams"
[ "$(kf_log_count mediaagent-ma1 "job $bjob: stream opened")" -eq 1 ] ||
    kf_fail "job $bjob's stream opened more than once"
peak=$(sed -nE "s/.*job $bjob: 4 data streams; at most ([0-9]+) chunks waited.*/\1/p" \
    "${KF_LOG[mediaagent-ma1]}")
[ -n "$peak" ] || kf_fail "the MediaAgent did not report its reorder peak"
[ "$peak" -le $((4 * WINDOW)) ] ||
    kf_fail "$peak chunks waited in the reorder buffer, over 4 x $WINDOW"
kf_log "job $bjob: at most $peak chunks waited for their turn"
kf_cli_ok --json trace "$bjob"
kf_assert_eq "$(kf_json 'sorted({e["step"] for e in j if e["flow"] == "backup"})')" \
    "[1, 2, 3, 4, 5, 6]" "traced backup steps"
kf_assert_eq "$(kf_json 'len([e for e in j if e["flow"] == "backup" and e["step"] == 6])')" \
    1 "the MediaAgent wrote one container"
kf_cli_ok trace "$bjob"
kf_assert_grep "$KF_OUT" 'over 4 data streams' "the trace names the 4 streams"
kf_assert_eq "$(find "$(kf_ma_root ma1)" -name "job-$bjob.kfc" | wc -l)" 1 \
    "containers of job $bjob"
kf_no_plaintext "$(kf_ma_root ma1)" "$marker"
out=$KF_WORK/out
mkdir "$out"
kf_restore "$bjob" "$out"
kf_treecmp "$src" "$out$src"
kf_cli_ok verify "$bjob"

# clientd's memory: 4 windows of 1 MiB chunks, plus its usual 32 MiB.
hwm=$(awk '/^VmHWM:/ { print $2 * 1024 }' "/proc/${KF_PID[client-local]}/status")
bound=$((32 * MIB + (4 * WINDOW + 4) * MIB))
kf_log "clientd peak RSS $((hwm / MIB)) MiB (bound $((bound / MIB)))"
if ! kf_sanitized; then
	[ "$hwm" -le "$bound" ] || kf_fail "clientd peaked at" \
	    "$((hwm / MIB)) MiB with 4 streams, over $((bound / MIB)) MiB"
fi

# 3. A slow MediaAgent: chunks wait on the client (the windows), the
# reorder buffer stays within its bound, two streams and sixteen work.
kf_stop mediaagent-ma1
KEYFLOW_MA_DELAY_US=2000 fault_start_ma ma-slow
for n in 2 16; do
	kf_backup local pool1 "$src" --streams "$n"
	j=$KF_JOB
	peak=$(sed -nE "s/.*job $j: $n data streams; at most ([0-9]+) chunks waited.*/\1/p" \
	    "${KF_LOG[ma-slow]}")
	[ -n "$peak" ] && [ "$peak" -le $((n * WINDOW)) ] ||
	    kf_fail "job $j: reorder peak '$peak' over $n x $WINDOW"
	o=$(mktemp -d "$KF_WORK/restore.XXXXXX")
	kf_restore "$j" "$o"
	kf_treecmp "$src" "$o$src"
	kf_log "--streams $n through a slowed MediaAgent: peak $peak, restored"
done
kf_stop ma-slow

# 4. clientd dies after chunk 9 of a 4-stream job: the whole job fails.
fault_start_ma ma-2
mkdir "$KF_WORK/big"
kf_random_file "$KF_WORK/big/big.bin" $((24 * MIB))
kf_stop client-local
fault_spawn_with client.after_chunk:9 kf_start_client local "$pw" client-f1
t0=$SECONDS
kf_cli_fails backup local pool1 "$KF_WORK/big" --streams 4
fault_elapsed_ok "$t0" "the 4-stream backup failing after the client crashed"
job=$(fault_failed_job)
fault_wait_crash client-f1 client.after_chunk
fault_assert_failed "$job" 'client local disconnected'
fault_assert_no_container "$job"
kf_start_client local "$pw" client-2

# 4b. One of the four TCP connections is aborted (ss -K) in the middle
# of a job through a slowed MediaAgent: the whole job fails.
if [ "$(id -u)" -eq 0 ] && command -v ss >/dev/null; then
	kf_stop ma-2
	KEYFLOW_MA_DELAY_US=20000 fault_start_ma ma-slow2
	kf_random_file "$KF_WORK/big/big2.bin" $((160 * MIB))
	kf_cli_ok backup local pool1 "$KF_WORK/big" --streams 4 --no-wait
	job=$(kf_job_id)
	kf_wait_log ma-slow2 "job $job: stream opened" 1 20
	sleep 1
	port=${KF_MA_EP[ma1]##*:}
	sport=$(ss -tnpH state established "( dport = :$port )" |
	    grep "pid=${KF_PID[client-2]}," | awk '{ print $3 }' | head -n 1)
	sport=${sport##*:}
	[ -n "$sport" ] || kf_fail "no connection of clientd to the MediaAgent"
	t0=$SECONDS
	ss -K state established "( dport = :$port and sport = :$sport )" >/dev/null ||
	    kf_fail "ss -K could not abort the connection"
	fault_wait_state "$job" failed
	fault_elapsed_ok "$t0" "the job failing after one of its streams was cut"
	# clientd sees the connection drop (or, if the reconnected connection
	# spoke first, the MediaAgent refuses it: it cannot resume a stream).
	fault_assert_failed "$job" \
	    'data stream [1-4] of 4 dropped|no stream opened by this connection'
	fault_assert_no_container "$job"
	rm -f "$KF_WORK/big/big2.bin"
	kf_stop ma-slow2
	fault_start_ma ma-4
else
	kf_log "SKIP: cutting one connection (ss -K) needs root"
	kf_stop ma-2
	fault_start_ma ma-4
fi

# 5. The MediaAgent dies after writing chunk 9 of a 4-stream job.
kf_stop ma-4
fault_spawn_with ma.after_chunk:9 fault_start_ma ma-f1
t0=$SECONDS
kf_cli_fails backup local pool1 "$KF_WORK/big" --streams 4
fault_elapsed_ok "$t0" "the 4-stream backup failing after the MediaAgent crashed"
job=$(fault_failed_job)
fault_wait_crash ma-f1 ma.after_chunk
fault_start_ma ma-3
fault_wait_state "$job" failed
fault_assert_no_container "$job"
kf_cli_fails restore "$job" --to "$KF_WORK/nothing"
kf_log "failed job $job is not restorable"

# 6. The stack still serves: a new 4-stream backup restores.
fault_restore_equal "$bjob" "$src"
kf_backup local pool1 "$KF_WORK/big" --streams 4
fault_restore_equal "$KF_JOB" "$KF_WORK/big"
