#!/usr/bin/env bash
# netcut.sh - the network between the client and the MediaAgent is cut in
# the middle of a backup.
#
# Two network namespaces of this run, joined by a veth pair: clientd runs
# in kfclPID (10.200.X.1), mediaagentd and commserved in kfmaPID
# (10.200.X.2), with keyflow beside them.  PostgreSQL is reached over its
# unix socket, which network namespaces do not separate, so only the
# client<->MediaAgent and client<->CommServe paths cross the veth.  The
# client's side of the link is slowed with a token bucket (where the
# kernel has tbf) so the backup is surely mid-stream when the link goes
# down (`ip link set ... down`).
#
# What a user must see: the job ends failed within NC_BOUND seconds
# (CommServe misses the client's heartbeats for about 5 s, fails the job
# and tells the MediaAgent to discard it), no container of it is committed
# on the MediaAgent, and once the link is back (after CommServe forgot the
# client) the client registers again by itself, a new backup succeeds, a
# backup made before the cut restores byte for byte, and clientd too gives
# the cut job up within NC_BOUND seconds.  Needs root (namespaces): exits 77 otherwise.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1

NC_BOUND=${NC_BOUND:-90}	# seconds the cut job may take to end failed

if [ "$(id -u)" -ne 0 ]; then
	kf_log "SKIP: network namespaces need root"
	exit 77
fi
if ! command -v ip >/dev/null; then
	kf_log "SKIP: no ip(8) (iproute2)"
	exit 77
fi

NS_CL=kfcl$$			# the client's namespace
NS_MA=kfma$$			# the MediaAgent's and CommServe's
VE_CL=kfc$$			# the veth end in NS_CL
VE_MA=kfm$$			# the veth end in NS_MA
NET=10.200.$(($$ % 250 + 1))	# only inside the two namespaces
NS_MADE=()			# namespaces to delete at exit

nc_ns_down() {
	local ns
	for ns in "${NS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	NS_MADE=()
}

# Daemons stop first (lib.sh's kf_stop_all), then the namespaces go, then
# lib.sh's own exit (logs, database, work directory).
nc_exit() {
	local rc=$?
	set +e
	kf_stop_all || rc=1
	nc_ns_down
	(exit $rc)
	kf_exit
}

# A suite killed outright cannot run its trap: delete the namespaces once
# this shell is gone (the daemons in them are killed by lib.sh's watchdog).
nc_ns_watchdog() {
	setsid bash -c '
		start() {
			sed -e "s/^.*) //" /proc/$1/stat 2>/dev/null |
			    cut -d" " -f20
		}
		born=$(start $1)
		while [ -n "$born" ] && [ "$(start $1)" = "$born" ]; do
			sleep 1
		done
		sleep 2
		shift
		for ns in "$@"; do
			ip netns del "$ns" 2>/dev/null
		done
	' kf-netcut-watchdog "$$" "$NS_CL" "$NS_MA" </dev/null >/dev/null 2>&1 &
}

kf_setup
trap nc_exit EXIT

ip netns add "$NS_CL" || kf_fail "ip netns add $NS_CL"
NS_MADE+=("$NS_CL")
ip netns add "$NS_MA" || kf_fail "ip netns add $NS_MA"
NS_MADE+=("$NS_MA")
nc_ns_watchdog
ip link add "$VE_CL" type veth peer name "$VE_MA" ||
    kf_fail "cannot make a veth pair"
ip link set "$VE_CL" netns "$NS_CL"
ip link set "$VE_MA" netns "$NS_MA"
ip -n "$NS_CL" addr add "$NET.1/24" dev "$VE_CL"
ip -n "$NS_MA" addr add "$NET.2/24" dev "$VE_MA"
for ns in "$NS_CL" "$NS_MA"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_CL" link set "$VE_CL" up
ip -n "$NS_MA" link set "$VE_MA" up
kf_log "namespaces $NS_CL ($NET.1) and $NS_MA ($NET.2) joined by $VE_CL-$VE_MA"

# Each program runs in its namespace through a shim that execs
# `ip netns exec` (the daemon keeps the shim's PID, so lib.sh's process
# handling works unchanged).
REAL_BIN=$KF_BIN_DIR
nc_shim() {
	mkdir -p "$KF_WORK/bin/$1"
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$3" \
	    "$REAL_BIN/$1/$2" >"$KF_WORK/bin/$1/$2"
	chmod 0755 "$KF_WORK/bin/$1/$2"
}
nc_shim commserve commserved "$NS_MA"
nc_shim mediaagent mediaagentd "$NS_MA"
nc_shim cli keyflow "$NS_MA"
nc_shim client clientd "$NS_CL"
KF_BIN_DIR=$KF_WORK/bin

# Every daemon listens on all of its namespace's addresses: keyflow and the
# MediaAgent reach CommServe on loopback, the client over the veth.
cs_port=$(kf_free_port)
ev_port=$(kf_free_port)
ma_port=$(kf_free_port)
KF_CS_EP=tcp://127.0.0.1:$cs_port
CS_REMOTE=tcp://$NET.2:$cs_port

mkdir -p -m 0700 "$KF_WORK/cs"
kf_spawn commserve commserved --listen "tcp://*:$cs_port" \
    --events "tcp://*:$ev_port" --events-public "tcp://$NET.2:$ev_port" \
    --db "$KF_DB" --state-dir "$KF_WORK/cs" -v
kf_wait_ready commserve
mkdir -p "$(kf_ma_root ma1)"
kf_spawn mediaagent-ma1 mediaagentd --name ma1 --commserve "$KF_CS_EP" \
    --listen "tcp://*:$ma_port" --endpoint "tcp://$NET.2:$ma_port" \
    --root "$(kf_ma_root ma1)" -v
kf_wait_ready mediaagent-ma1
kf_add_client local "pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
kf_spawn client-local clientd --name local --password-file \
    "$(kf_pwfile local)" --commserve "$CS_REMOTE" -v
kf_wait_ready client-local
kf_cli_ok pool create pool1 --mediaagent ma1

# A backup made before the cut, across the veth.
src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((2 * 1024 * 1024)) 20
kf_backup local pool1 "$src"
good=$KF_JOB

# Slow the client's side so the next backup streams for a while.
big=$KF_WORK/big
mkdir "$big"
if tc -n "$NS_CL" qdisc add dev "$VE_CL" root tbf rate 40mbit \
    burst 64kb latency 200ms 2>/dev/null; then
	kf_log "client link limited to 40 Mbit/s"
	kf_random_file "$big/data.bin" $((64 * 1024 * 1024))
else
	kf_log "no tbf qdisc here: a 1 GiB file instead of a slow link"
	truncate -s 1G "$big/data.bin"
fi

# ---- the cut.
kf_cli_ok backup local pool1 "$big" --no-wait
job=$(kf_job_id)
fault_wait_stream "$job" ma1
sleep 1
kf_assert_eq "$(fault_job_state "$job")" running "job $job before the cut"
ip -n "$NS_CL" link set "$VE_CL" down
t0=$SECONDS
tcut=$SECONDS
kf_log "link $VE_CL down during backup job $job"
fault_wait_state "$job" failed "$NC_BOUND"
dt=$((SECONDS - t0))
[ $dt -le "$NC_BOUND" ] || kf_fail "job $job took ${dt}s to fail"
kf_log "backup job $job failed ${dt}s after the cut (bound ${NC_BOUND}s)"
fault_assert_failed "$job" 'ERR_(UNAVAILABLE|TIMEOUT).*client local'
fault_assert_no_container "$job"
kf_cli_fails restore "$job" --to "$KF_WORK/never"
kf_assert_grep "$KF_BOTH" 'ERR_STATE' "a failed backup cannot be restored"

# Long enough that CommServe forgets the client: it must register again.
kf_wait_log commserve 'client local is gone \(no heartbeat\)' 1 30

# ---- the link back: the client returns by itself and serves again.
tc -n "$NS_CL" qdisc del dev "$VE_CL" root 2>/dev/null || true
ip -n "$NS_CL" link set "$VE_CL" up
t0=$SECONDS
client_back() {
	kf_cli --json client list
	[ $KF_RC -eq 0 ] &&
	    [ "$(kf_json '[c["connected"] for c in j if c["name"] == "local"] == [True]')" = true ]
}
kf_wait_for 60 "client local registered again" "" client_back
kf_log "client back $((SECONDS - t0))s after the link came up"
kf_assert_alive client-local mediaagent-ma1 commserve
fault_restore_equal "$good" "$src"
kf_roundtrip local pool1
fault_assert_no_container "$job"

# The client gives the cut job up by itself too: its MediaAgent timeout is
# 60 s, and the MediaAgent, which discarded the job, refuses what arrives
# once the link is back.
left=$((NC_BOUND - (SECONDS - tcut)))
[ $left -gt 0 ] || left=1
kf_wait_log client-local "job $job failed" 1 "$left"
kf_log "clientd gave job $job up $((SECONDS - tcut))s after the cut:" \
    "$(grep "job $job failed" "${KF_LOG[client-local]}" | head -n 1 |
    sed 's/^.*warning: //')"
fault_assert_no_container "$job"
kf_cli_ok jobs
kf_assert_no_grep "$KF_OUT" 'running' "a job is still listed running"
