#!/usr/bin/env bash
# kms_down.sh - the KMS (kmsd, registered as KMIP KMS kms1) dies by
# kill -9 while a storage pool on it is in use.
#
# 1. With the KEK cached (--kek-cache 300, the designed behaviour): a
#    backup still succeeds while kmsd is down, since CommServe holds the
#    pool's KEK in locked memory; a restore does not, because restores
#    always ask the KMS (seed restore step 2) and fail with ERR_KMS.
# 2. With the cache expired (--kek-cache 1): a backup fails with ERR_KMS
#    and a sentence naming the KMS, a restore fails with ERR_KMS after
#    CommServe's bounded retries (3 attempts, logged); once kmsd is back
#    on the same store and certificates, the restores are byte for byte
#    and a backup succeeds.  A kmsd that comes back while a restore is
#    retrying is picked up by that same restore.
# 3. kill -9 of kmsd while pools are being created in a loop: every pool
#    `keyflow pool list` shows is whole (a backup into it restores byte for
#    byte once kmsd is back); the ones that failed left no row.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1

kf_need_kmsd
kf_setup

CS=commserve			# the harness label of the running commserved

# kd_start_cs LABEL KEK_CACHE_S: commserved on the suite's endpoints and
# state, with that KEK cache lifetime.
kd_start_cs() {
	mkdir -p -m 0700 "$KF_WORK/cs"
	kf_spawn "$1" commserved --listen "$KF_CS_EP" --events "$KF_EV_EP" \
	    --db "$KF_DB" --state-dir "$KF_WORK/cs" --kek-cache "$2" -v
	kf_wait_ready "$1"
	CS=$1
}

# kd_kill9 LABEL: a real kill -9, reaped, so the harness does not count
# the exit against the suite.
kd_kill9() {
	kill -KILL "${KF_PID[$1]}"
	kf_wait_exit "$1" 10
	kf_assert_eq "$KF_EXIT" 137 "status of $1 after kill -9"
	kf_log "$1 killed with SIGKILL"
}

# kd_wait_peers: until client local and MediaAgent ma1 are registered
# with the current commserved.
kd_peers_up() {
	kf_cli --json client list
	[ $KF_RC -eq 0 ] && [ "$(kf_json '[c["connected"] for c in j if c["name"] == "local"] == [True]')" = true ] || return 1
	kf_cli --json mediaagent list
	[ $KF_RC -eq 0 ] && [ "$(kf_json '[m["connected"] for m in j if m["name"] == "ma1"] == [True]')" = true ]
}
kd_wait_peers() {
	kf_wait_for 30 "client and MediaAgent registered" "" kd_peers_up
}

# kd_fails_kms WHAT: the last command failed with ERR_KMS naming kms1.
kd_fails_kms() {
	kf_assert_grep "$KF_BOTH" 'ERR_KMS' "$1 fails with ERR_KMS"
	kf_assert_grep "$KF_BOTH" 'KMS kms1' "$1 names the KMS"
}

# ---- the stack: CommServe with a long KEK cache, kmsd as kms1, pool p1.
kd_start_cs commserve 300
kf_start_mediaagent ma1
kf_add_client local "pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
kf_start_client local "$(kf_pwfile local)"
kf_start_kmsd
kf_kms_add kms1
kf_cli_ok pool create p1 --mediaagent ma1 --kms kms1

src1=$KF_WORK/src1
kf_make_tree "$src1" "$(kf_marker)" $((2 * 1024 * 1024)) 20
kf_backup local p1 "$src1"
job1=$KF_JOB

# ---- 1. KEK cached: backups go on without the KMS, restores do not.
kd_kill9 kmsd
src2=$KF_WORK/src2
kf_make_tree "$src2" "$(kf_marker)" $((1024 * 1024)) 10
kf_backup local p1 "$src2"
job2=$KF_JOB
kf_log "backup job $job2 succeeded with kmsd down: the KEK was cached (by design)"
kf_cli_ok --json trace "$job2"
kf_assert_eq "$(kf_json 'any("cache" in (e["action"] + (e.get("detail") or "")) for e in j if e["flow"] == "backup" and e["step"] == 2)')" \
    true "backup step 2 says the KEK came from the cache"
kf_cli_fails restore "$job1" --to "$KF_WORK/never1"
kd_fails_kms "restore with kmsd down"
kf_assert_grep "$KF_BOTH" 'cannot connect' "the restore says why"

# ---- 2. KEK cache of 1 s: backups need the KMS too.
kf_start_kmsd
kf_stop commserve || kf_fail "commserved did not stop cleanly"
kd_start_cs cs-short 1
kd_wait_peers
sleep 1.5
kd_kill9 kmsd
t0=$SECONDS
kf_cli_fails backup local p1 "$src2"
kd_fails_kms "backup with kmsd down and no cached KEK"
kf_assert_grep "$KF_BOTH" 'cannot obtain the KEK of pool p1 from KMS kms1' \
    "the backup says what it could not get"
bjob=$(sed -nE 's/.*job ([0-9]+).*/\1/p' "$KF_BOTH" | head -n 1)
[ -n "$bjob" ] && fault_assert_failed "$bjob" 'ERR_KMS.*KMS kms1'
before=$(kf_log_count "$CS" 'attempt [0-9] of 3 failed')
kf_cli_fails restore "$job1" --to "$KF_WORK/never2"
kd_fails_kms "restore with kmsd down"
kf_assert_grep "$KF_BOTH" 'cannot connect.*\(3 attempts over [0-9]+ ms\)' \
    "the restore says it retried"
fault_elapsed_ok "$t0" "two KMS failures"
kf_assert_eq "$(($(kf_log_count "$CS" 'attempt [0-9] of 3 failed') - before))" \
    3 "each KMS attempt of the restore is logged"
kf_assert_grep "${KF_LOG[$CS]}" 'attempt 1 of 3 failed after [0-9]+ ms, retrying in 200 ms'
kf_assert_grep "${KF_LOG[$CS]}" 'attempt 2 of 3 failed after [0-9]+ ms, retrying in 800 ms'
kf_assert_grep "${KF_LOG[$CS]}" 'attempt 3 of 3 failed after [0-9]+ ms, giving up'

# A restore started while kmsd is down, kmsd back during its retries: the
# retries carry it (attempt 3 comes about 1 s after the first).
fault_restore_across_kmsd "$CS" "$job1" "$KF_WORK/out-retry" "$src1"

# kmsd back: everything works again without restarting commserved.
fault_restore_equal "$job1" "$src1"
fault_restore_equal "$job2" "$src2"
sleep 1.5
kf_backup local p1 "$src2"
fault_restore_equal "$KF_JOB" "$src2"

# ---- 3. kill -9 of kmsd during a loop of pool creations.
kf_cli_ok --json pool list
npools=$(kf_json 'len(j)')
(
	for i in $(seq 1 40); do
		"$(kf_bin keyflow)" --commserve "$KF_CS_EP" pool create \
		    "loop$i" --mediaagent ma1 --kms kms1 >/dev/null 2>&1 || true
	done
) &
loop=$!
kf_wait_for 30 "the first pools of the loop" "" \
    kf_log_has "$CS" 'created storage pool loop' 3
sleep 0.0$((RANDOM % 10))
kd_kill9 kmsd
wait "$loop"
kf_start_kmsd
kf_cli_ok --json pool list
kf_json '"\n".join(p["name"] for p in j)' >"$KF_WORK/pools"
made=$(($(wc -l <"$KF_WORK/pools") - npools))
kf_log "$made of 40 pools created before and after kmsd was killed"
[ "$made" -ge 1 ] && [ "$made" -lt 40 ] ||
    kf_fail "the kill did not land during the loop ($made pools)"
small=$KF_WORK/small
kf_make_tree "$small" "$(kf_marker)" 4096 3
while read -r p; do
	sleep 1.1	# the KEK cache (1 s) has expired: the KMS is asked
	kf_backup local "$p" "$small"
	fault_restore_equal "$KF_JOB" "$small"
done < <(grep '^loop' "$KF_WORK/pools")
kf_log "every pool in the list backs up and restores"
