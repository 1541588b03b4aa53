#!/usr/bin/env bash
# fault_restore_kill.sh - every daemon dies during a RESTORE.
#
#   clientd      at a fault point after 3 chunks, and by kill -9 mid-file
#   mediaagentd  at a fault point after serving 3 chunks, and by kill -9
#   commserved   at restore.after_dek, and by kill -9 while data flows
#   kmsd         kill -9 before a restore (it retries 3 times, then fails
#                with ERR_KMS naming the KMS), kmsd back within the retry
#                window (the same restore succeeds), kill -9 amid a loop of
#                restores (each one whole or failed with ERR_KMS)
#   PostgreSQL   the private cluster stopped in immediate mode (SIGQUIT to
#                the postmaster) while data flows, started again
#
# After each: the restore job is failed or interrupted with a sentence
# (never left running); the destination holds no final-named file with
# wrong bytes (an interrupted file exists at most under its temporary name
# ".NAME.kf-XXXXXX"); the backups made before restore byte for byte; and at
# the end a new backup and restore succeed.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
. "$(dirname "$0")/fault_backends.bash" || exit 1
fb_setup
pw=$(kf_pwfile local)
CS=commserve			# harness label of the running commserved
MA=mediaagent-ma1		# ... mediaagentd
CL=client-local			# ... clientd

# ---- the backups every case must leave restorable.
src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((3 * 1024 * 1024)) 20
kf_backup local p1 "$src"
good=$KF_JOB
mkdir "$KF_WORK/big"
kf_random_file "$KF_WORK/big/big.bin" $((12 * 1024 * 1024))
kf_backup local p1 "$KF_WORK/big"
big=$KF_JOB
mkdir "$KF_WORK/huge"
truncate -s 512M "$KF_WORK/huge/huge.bin"
printf 'tail\n' >>"$KF_WORK/huge/huge.bin"
kf_backup local p1 "$KF_WORK/huge"
huge=$KF_JOB

# rk_intact: the small backups restore byte for byte.
rk_intact() {
	fb_restore_equal "$good" "$src"
	fb_restore_equal "$big" "$KF_WORK/big"
}

# rk_temp NAME: 0 if NAME is a restore temporary (".NAME.kf-XXXXXX").
rk_temp() {
	[[ $1 =~ ^\..+\.kf-[A-Za-z0-9]{6}$ ]]
}

# rk_dest_ok DEST: every file under DEST with a final name equals its
# original (DEST + original absolute path); temporaries are counted.
rk_dest_ok() {
	local f rel n=0 m=0
	[ -d "$1" ] || { kf_log "$1 was never created"; return 0; }
	while IFS= read -r -d '' f; do
		if rk_temp "$(basename "$f")"; then
			n=$((n + 1))
			continue
		fi
		rel=${f#"$1"}
		[ -f "$rel" ] || kf_fail "restored $f has no original $rel"
		cmp -s "$f" "$rel" ||
		    kf_fail "$f has its final name but not its original's bytes"
		m=$((m + 1))
	done < <(find "$1" -type f -print0)
	RK_TEMPS=$n
	kf_log "$1: $m whole files, $n temporaries"
}

# rk_wait_temp DEST: until a temporary appears under DEST (the client is
# writing a file).
rk_has_temp() {
	[ -n "$(find "$1" -name '.*.kf-*' -print -quit 2>/dev/null)" ]
}
rk_wait_temp() {
	kf_wait_for 30 "a temporary file under $1" "" rk_has_temp "$1"
}

# rk_start_bg JOB DEST: a restore that does not wait; its id in RK_JOB.
rk_start_bg() {
	fb_cli restore "$1" --to "$2" --no-wait
	[ "$KF_RC" -eq 0 ] || { cat "$KF_BOTH" >&2; kf_fail "no restore"; }
	RK_JOB=$(kf_job_id)
}

# rk_dest: a fresh destination in d.
n=0
rk_dest() {
	n=$((n + 1))
	d=$KF_WORK/d$n
}

# rk_fault_case LABEL POINT ERROR: daemon LABEL is armed to exit at POINT
# after 3 chunks; a restore of big.bin fails within the bound with ERROR,
# LABEL exited there, and big.bin has no final name.
rk_fault_case() {
	local t0=$SECONDS job
	rk_dest
	kf_cli_fails restore "$big" --to "$d"
	fault_elapsed_ok "$t0" "the restore failing after $1 crashed"
	job=$(fault_failed_job)
	fault_wait_crash "$1" "$2"
	fault_assert_failed "$job" "$3"
	rk_dest_ok "$d"
	[ ! -e "$d$KF_WORK/big/big.bin" ] ||
	    kf_fail "big.bin has its final name after 3 of 12 chunks"
}

# ---- 1. clientd exits after writing 3 of big.bin's 12 chunks.
kf_stop "$CL"
fault_spawn_with client.restore_after_chunk:3 kf_start_client local "$pw" client-f1
rk_fault_case client-f1 client.restore_after_chunk 'client local disconnected'
[ "$RK_TEMPS" -ge 1 ] || kf_fail "the crash did not land in big.bin"
CL=client-r1
kf_start_client local "$pw" "$CL"
rk_intact

# ---- 2. kill -9 of clientd while huge.bin is written.
rk_dest
rk_start_bg "$huge" "$d"
rk_wait_temp "$d"
fb_kill9 "$CL"
fb_assert_ended "$RK_JOB" failed 'client local disconnected'
rk_dest_ok "$d"
rm -rf "$d"
CL=client-r2
kf_start_client local "$pw" "$CL"
rk_intact

# ---- 3. mediaagentd exits after serving 3 chunks.
kf_stop "$MA"
fault_spawn_with ma.serve_after_chunk:3 fault_start_ma ma-f3
rk_fault_case ma-f3 ma.serve_after_chunk 'MediaAgent ma1'
MA=ma-r3
fault_start_ma "$MA"
rk_intact

# ---- 4. kill -9 of mediaagentd while huge.bin is served.
rk_dest
rk_start_bg "$huge" "$d"
rk_wait_temp "$d"
fb_kill9 "$MA"
fb_assert_ended "$RK_JOB" failed 'MediaAgent ma1'
# Told by CommServe, the client removes its temporary at once.
fault_client_told "$CL" "$RK_JOB"
kf_wait_for 10 "the client removing its temporary under $d" "" \
    eval '! rk_has_temp "$d"'
rk_dest_ok "$d"
[ ! -e "$d$KF_WORK/huge/huge.bin" ] ||
    kf_fail "huge.bin has its final name after the MediaAgent died"
MA=ma-r4
fault_start_ma "$MA"
rk_intact

# ---- 5. commserved exits with the DEK unwrapped, before the order.
rk_dest
kf_stop "$CS"
fault_spawn_with restore.after_dek fault_start_cs cs-f5
fb_cli restore "$big" --to "$d"
[ "$KF_RC" -ne 0 ] || kf_fail "a restore completed through a crashed CommServe"
fault_wait_crash cs-f5 restore.after_dek
CS=cs-r5
fault_start_cs "$CS"
job=$(fault_last_job)
fb_assert_ended "$job" interrupted 'commserved restarted'
[ ! -e "$d" ] || [ -z "$(ls -A "$d")" ] ||
    kf_fail "a restore that never reached the client wrote files"
rk_intact

# ---- 6. kill -9 of commserved while huge.bin is written.  The client
# and MediaAgent may finish the data; the job is interrupted all the same.
rk_dest
rk_start_bg "$huge" "$d"
rk_wait_temp "$d"
fb_kill9 "$CS"
CS=cs-r6
fault_start_cs "$CS"
fb_assert_ended "$RK_JOB" interrupted 'commserved restarted'
rk_dest_ok "$d"
rk_intact
kf_cli_ok --json jobs
kf_assert_eq "$(kf_json '[x["id"] for x in j if x["state"] == "running"]')" \
    "[]" "jobs still running after the CommServe restart"

# ---- 7a. kmsd killed before a restore: 3 attempts, then ERR_KMS.
rk_dest
fb_kill9 kmsd
kf_cli_fails restore "$good" --to "$d"
kf_assert_grep "$KF_BOTH" 'ERR_KMS' "restore with kmsd down"
kf_assert_grep "$KF_BOTH" 'KMS kms1.*\(3 attempts over [0-9]+ ms\)' \
    "the restore names the KMS and says it retried"
job=$(sed -nE 's/.*restore job ([0-9]+).*/\1/p' "$KF_BOTH" | head -n 1)
[ -n "$job" ] || kf_fail "the failure names no job"
fb_assert_ended "$job" failed 'ERR_KMS.*KMS kms1'
[ ! -e "$d" ] || [ -z "$(ls -A "$d")" ] ||
    kf_fail "a restore without its key wrote files"

# ---- 7b. kmsd back within the retry window: the same restore succeeds.
rk_dest
fault_restore_across_kmsd "$CS" "$good" "$d" "$src"

# ---- 7c. kill -9 of kmsd amid a loop of restores: each restore is whole,
# or failed with ERR_KMS and wrote nothing.  The loop goes on until two
# restores have run after the kill.
c=$(kf_log_count "$CS" 'restore job [0-9]+ completed')
(
	after=0
	for ((i = 1; i <= 60 && after < 2; i++)); do
		[ ! -e "$KF_WORK/killed" ] || after=$((after + 1))
		rc=0
		"$(kf_bin keyflow)" --commserve "$KF_CS_EP" restore "$good" \
		    --to "$KF_WORK/loop$i" >"$KF_WORK/loop$i.out" 2>&1 || rc=$?
		echo "$rc" >"$KF_WORK/loop$i.rc"
	done
) &
loop=$!
kf_wait_log "$CS" 'restore job [0-9]+ completed' $((c + 2)) 60
sleep 0.$((RANDOM % 3))$((RANDOM % 10))
fb_kill9 kmsd
touch "$KF_WORK/killed"
wait "$loop"
ok=0
bad=0
for ((i = 1; i <= 60; i++)); do
	[ -e "$KF_WORK/loop$i.rc" ] || break
	if [ "$(cat "$KF_WORK/loop$i.rc")" = 0 ]; then
		kf_treecmp "$src" "$KF_WORK/loop$i$src"
		ok=$((ok + 1))
		continue
	fi
	kf_assert_grep "$KF_WORK/loop$i.out" 'ERR_KMS' "loop restore $i"
	job=$(sed -nE 's/.*restore job ([0-9]+).*/\1/p' "$KF_WORK/loop$i.out" |
	    head -n 1)
	[ -z "$job" ] || fb_assert_ended "$job" failed 'ERR_KMS'
	[ ! -e "$KF_WORK/loop$i" ] || [ -z "$(ls -A "$KF_WORK/loop$i")" ] ||
	    kf_fail "failed loop restore $i wrote files"
	bad=$((bad + 1))
done
kf_log "restores amid kill -9 of kmsd: $ok whole, $bad failed with ERR_KMS"
[ "$ok" -ge 2 ] && [ "$bad" -ge 1 ] ||
    kf_fail "the kill did not land during the loop ($ok whole, $bad failed)"
kf_start_kmsd
rk_intact

# ---- 8. PostgreSQL stopped in immediate mode while huge.bin is written.
# The client's report cannot be recorded: the job fails with ERR_DB once
# the database is back, without restarting commserved.
rk_dest
rk_start_bg "$huge" "$d"
rk_wait_temp "$d"
f=$(kf_log_count "$CS" "job $RK_JOB failed")
fb_pg_immediate
kf_wait_log "$CS" "job $RK_JOB failed" $((f + 1)) 60
kf_cli_fails job "$RK_JOB"
kf_assert_grep "$KF_BOTH" 'ERR_DB' "keyflow job without a database"
fb_pg_start
fb_assert_ended "$RK_JOB" failed 'ERR_DB'
rk_dest_ok "$d"
kf_assert_alive "$CS"

# ---- every earlier backup restores; a new backup and restore succeed.
rk_intact
fb_restore_equal "$huge" "$KF_WORK/huge"
kf_roundtrip local p1
