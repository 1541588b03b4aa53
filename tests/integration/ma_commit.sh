#!/usr/bin/env bash
# ma_commit.sh - the MediaAgent commits containers on its committer threads
# (mediaagent/commit.c) while its event loop keeps serving:
#   1. while a slow backup streams, 40 small backups from 8 clients at
#      once commit and complete, and so does the slow one; all restore
#      byte for byte;
#   2. a commit that fails (a file already holds the container's final
#      name when the stream closes) fails that job with the reason, never
#      replaces that file, leaves no partial behind, and the MediaAgent
#      goes on serving.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_start_commserve
# 3 ms per chunk: a 96 MiB file streams for about 0.3 s, long enough for
# the others to commit meanwhile and to place a file in case 2.
KEYFLOW_MA_DELAY_US=3000 kf_start_mediaagent ma1
for n in 1 2 3 4 5 6 7 8; do
	kf_add_client "c$n" "pw-c$n-$(head -c 8 /dev/urandom | od -An -tx1 |
	    tr -d ' \n')"
	kf_start_client "c$n" "$(kf_pwfile "c$n")"
done
kf_cli_ok pool create pool1 --mediaagent ma1
mount=$(kf_ma_root ma1)/pool1

src=$KF_WORK/src
mkdir -p "$src"
head -c $((96 * 1024 * 1024)) /dev/urandom >"$src/big"
for n in 1 2 3 4 5; do
	head -c $((n * 3000)) /dev/urandom >"$src/small$n"
done

# bg_backup TAG CLIENT PATH: a backup in the background, output in TAG.out.
bg_backup() {
	"$(kf_bin keyflow)" --commserve "$KF_CS_EP" backup "$2" pool1 "$3" \
	    >"$KF_WORK/$1.out" 2>&1 &
	BG_PIDS+=($!)
	BG_TAGS+=("$1")
}
# bg_wait: every background backup must succeed.
bg_wait() {
	local i
	for i in "${!BG_PIDS[@]}"; do
		wait "${BG_PIDS[$i]}" || { cat "$KF_WORK/${BG_TAGS[$i]}.out" >&2
			kf_fail "backup ${BG_TAGS[$i]} failed"; }
	done
	BG_PIDS=()
	BG_TAGS=()
}
job_of() {
	tail -n 1 "$KF_WORK/$1.out"
}
BG_PIDS=()
BG_TAGS=()

# 1. Small jobs commit while a slow one streams.
bg_backup big c1 "$src/big"
kf_wait_log mediaagent-ma1 "stream opened by client c1" 1 20
for round in 1 2 3 4 5; do
	for n in 2 3 4 5 6 7 8; do
		bg_backup "s$round-$n" "c$n" "$src/small$round"
	done
done
bg_wait
kf_cli_ok --json jobs --limit 100
kf_assert_eq "$(kf_json 'sum(1 for x in j if x["state"] == "completed")')" \
    36 "completed backups"
for round in 1 5; do
	for n in 2 8; do
		out=$KF_WORK/r-$round-$n
		mkdir "$out"
		kf_restore "$(job_of "s$round-$n")" "$out"
		cmp "$src/small$round" "$out$src/small$round" ||
		    kf_fail "small backup $round/$n restored different bytes"
	done
done
out=$KF_WORK/r-big
mkdir "$out"
kf_restore "$(job_of big)" "$out"
cmp "$src/big" "$out$src/big" || kf_fail "the slow backup restored wrong"
kf_log "35 small backups committed while a slow one streamed; all restore"

# 2. A commit that fails.  The job id is the next one; put a file under
# its final container name while its stream runs.
bg_backup doomed c1 "$src/big"
kf_wait_for 20 "the doomed backup's stream" "" kf_log_has mediaagent-ma1 \
    "stream opened by client c1" 2
doomed=$(sed -nE 's/.*job ([0-9]+): stream opened by client c1.*/\1/p' \
    "${KF_LOG[mediaagent-ma1]}" | tail -n 1)
echo "not a container" >"$mount/job-$doomed.kfc"
rc=0
wait "${BG_PIDS[0]}" || rc=$?
BG_PIDS=()
BG_TAGS=()
[ $rc -ne 0 ] || kf_fail "the backup into an occupied name succeeded"
kf_assert_grep "$KF_WORK/doomed.out" \
    "committing the container under .* failed: File exists" \
    "the job says why its commit failed"
# CommServe discards a failed job's files; it may have done so already.
if [ -e "$mount/job-$doomed.kfc" ]; then
	kf_assert_eq "$(cat "$mount/job-$doomed.kfc")" "not a container" \
	    "the file that held the name was not replaced"
fi
[ ! -e "$mount/job-$doomed.kfi" ] || kf_fail "an index was committed"
ls "$mount" | grep -q "job-$doomed\..*\.partial" &&
    kf_fail "partial files of job $doomed were left behind"
kf_cli_ok --json job "$doomed"
kf_assert_eq "$(kf_json 'j["state"]')" failed "the doomed job's state"
rm -f "$mount/job-$doomed.kfc"
kf_assert_alive mediaagent-ma1
bg_backup after c2 "$src/small2"
bg_wait
kf_log "a failed commit failed its job only"

kf_exit
