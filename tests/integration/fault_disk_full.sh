#!/usr/bin/env bash
# fault_disk_full.sh - the MediaAgent's storage fills up.  A pool whose
# mount path is a 20 MiB tmpfs takes a small backup, then a 64 MiB backup
# fails with "no space" (ERR_NO_SPACE); the small backup still restores
# byte for byte, the tmpfs has its space back (df), and the MediaAgent
# keeps serving.  Needs root for the tmpfs mount: otherwise exit 77
# (skipped).
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
if [ "$(id -u)" != 0 ]; then
	echo "fault_disk_full: SKIP: mounting a tmpfs needs root" >&2
	exit 77
fi
kf_setup
full=$KF_WORK/full
mkdir "$full"
if ! mount -t tmpfs -o size=20m,mode=0700 tmpfs "$full" 2>"$KF_WORK/mount.err"; then
	echo "fault_disk_full: SKIP: cannot mount a tmpfs: $(cat "$KF_WORK/mount.err")" >&2
	trap - EXIT
	rm -rf "$KF_WORK"
	exit 77
fi
fault_disk_exit() {
	local rc=$?
	set +e
	kf_stop_all >/dev/null 2>&1
	umount "$full" 2>/dev/null || umount -l "$full"
	(exit $rc)
	kf_exit
}
trap fault_disk_exit EXIT

kf_stack
kf_cli_ok pool create tiny --mediaagent ma1 --mount "$full/pool"
used() { df -k --output=used "$full" | tail -n 1 | tr -d ' '; }

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((2 * 1024 * 1024)) 20
kf_backup local tiny "$src"
good=$KF_JOB
before=$(used)

mkdir "$KF_WORK/big"
kf_random_file "$KF_WORK/big/big.bin" $((64 * 1024 * 1024))
t0=$SECONDS
kf_cli_fails backup local tiny "$KF_WORK/big"
fault_elapsed_ok "$t0" "the backup failing on a full disk"
kf_assert_grep -i "$KF_BOTH" 'no space.*ERR_NO_SPACE'
job=$(fault_failed_job)
fault_assert_failed "$job" 'no space'
for ((i = 0; i < 50; i++)); do
	[ -z "$(find "$full" -name "job-$job.*" -print -quit)" ] && break
	sleep 0.1
done
[ -z "$(find "$full" -name "job-$job.*" -print -quit)" ] ||
    kf_fail "files of failed job $job remain: $(find "$full" -name "job-$job.*")"
after=$(used)
[ "$after" -le $((before + 256)) ] ||
    kf_fail "the tmpfs did not get its space back: ${before} KiB used before, ${after} KiB after"
kf_log "tmpfs used: ${before} KiB before the failed job, ${after} KiB after"

kf_assert_alive mediaagent-ma1 commserve client-local
fault_restore_equal "$good" "$src"
kf_backup local tiny "$src"
