#!/usr/bin/env bash
# ma_connection_reuse.sh - clientd keeps the connection a cleanly finished
# job left to its MediaAgent and the next job to that MediaAgent uses it
# (client/sockpool.c), instead of a new TCP connection and CURVE handshake
# per job, and that this never costs a job:
#   1. backups and restores one after another run over one connection,
#      the same one (same client port) from the first job to the last;
#   2. the MediaAgent killed -9 and restarted on the same endpoint: the
#      kept connection reconnects and the next backup and restore succeed;
#   3. a failed job closes its connection and the next job opens a fresh
#      one; a --streams 3 backup closes its three;
#   4. rounds of 6 concurrent backups never hold more than 6 connections,
#      and all complete and restore identical.
. "$(dirname "$0")/lib.sh" || exit 1
command -v ss >/dev/null || { echo "ss (iproute2) is not installed" >&2
	exit 77; }
kf_setup
kf_stack pool1

ep=${KF_MA_EP[ma1]}
port=${ep##*:}

# The client ports of the established connections the MediaAgent accepted.
ma_peers() {
	ss -Htn state established "( sport = :$port )" |
	    awk '{ n = split($4, a, ":"); print a[n] }' | sort -n
}
ma_conn_count() {
	ma_peers | grep -c . || true
}
# Wait for the connection count to settle at $1 (closes are asynchronous).
ma_conns_are() {
	local want=$1 i
	for i in $(seq 50); do
		[ "$(ma_conn_count)" -eq "$want" ] && return 0
		sleep 0.1
	done
	kf_fail "$(ma_conn_count) connections to the MediaAgent, not $want:" \
	    "$(ma_peers | tr '\n' ' ')"
}

small=$KF_WORK/small
mkdir -p "$small"
kf_random_file "$small/one" 4096

# 1. One connection for jobs in sequence.
kf_backup local pool1 "$small/one"
ma_conns_are 1
first=$(ma_peers)
kf_log "first job's connection: client port $first"
kf_roundtrip local pool1
for i in 1 2 3; do
	kf_backup local pool1 "$small/one"
done
kf_roundtrip local pool1
ma_conns_are 1
kf_assert_eq "$(ma_peers)" "$first" \
    "the connection after 9 jobs is the first job's"

# 2. The MediaAgent restarts on the same endpoint: the kept connection
# reconnects under it.
kill -9 "${KF_PID[mediaagent-ma1]}"
wait "${KF_PID[mediaagent-ma1]}" 2>/dev/null || true
KF_PID[mediaagent-ma1]=
ma_conns_are 0
kf_spawn mediaagent-ma1 mediaagentd --name ma1 --commserve "$KF_CS_EP" \
    --listen "$ep" --root "$(kf_ma_root ma1)" -v
kf_wait_ready mediaagent-ma1
kf_wait_log mediaagent-ma1 "registered with CommServe" 2 20
kf_roundtrip local pool1
ma_conns_are 1

# 3. A failed job does not leave its connection for the next; a job with
# several streams closes all of them.
kf_cli_fails backup local pool1 "$KF_WORK/no-such-path"
kf_roundtrip local pool1
ma_conns_are 1
head -c $((6 * 1024 * 1024)) /dev/urandom >"$KF_WORK/six"
kf_backup local pool1 "$KF_WORK/six" --chunk-size 1M --streams 3
ma_conns_are 0
kf_roundtrip local pool1
ma_conns_are 1

# 4. Concurrent jobs: one connection each at most, none leaked.
for round in 1 2 3; do
	pids=()
	for i in 1 2 3 4 5 6; do
		"$(kf_bin keyflow)" --commserve "$KF_CS_EP" backup local \
		    pool1 "$small/one" >"$KF_WORK/c$round-$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "$KF_WORK/c$round-$((i + 1)).out" >&2
			kf_fail "concurrent backup $((i + 1)) of round $round" \
			    "failed"; }
	done
	n=$(ma_conn_count)
	[ "$n" -ge 1 ] && [ "$n" -le 6 ] ||
	    kf_fail "round $round: $n connections to the MediaAgent"
	kf_log "round $round: 6 concurrent backups, $n connections kept"
done
for i in 1 2 3 4 5 6; do
	job=$(tail -n 1 "$KF_WORK/c3-$i.out")
	out=$KF_WORK/r$i
	mkdir "$out"
	kf_restore "$job" "$out"
	cmp "$small/one" "$out$small/one" ||
	    kf_fail "concurrent backup $i restored different bytes"
done
kf_exit
