#!/usr/bin/env bash
# restore_refuses_existing.sh - a restore never overwrites an existing file
# unless asked: the job fails, the error names the file, and the file keeps
# its bytes, mode and mtime; with --overwrite the same restore succeeds.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((2 * 1024 * 1024)) 50
kf_backup local pool1 "$src"
bjob=$KF_JOB

out=$KF_WORK/out
victim="with space/a file with spaces.txt"
mkdir -p "$(dirname "$out$src/$victim")"
printf 'precious local edits\n' >"$out$src/$victim"
chmod 0640 "$out$src/$victim"
touch -d '2022-02-02 02:02:02.5' "$out$src/$victim"
cp -a "$out$src/$victim" "$KF_WORK/victim.orig"
before=$(stat -c '%a %s %Y %y' "$out$src/$victim")

kf_cli_fails restore "$bjob" --to "$out"
kf_assert_grep "$KF_BOTH" 'a file with spaces\.txt' \
    "the error names the existing file"
cmp "$KF_WORK/victim.orig" "$out$src/$victim" ||
    kf_fail "the existing file was changed"
kf_assert_eq "$(stat -c '%a %s %Y %y' "$out$src/$victim")" "$before" \
    "the existing file's metadata"
kf_cli_ok --json jobs
kf_assert_eq "$(kf_json '[x["state"] for x in j if x["type"] == "restore"]')" \
    "['failed']" "the restore job's state"

kf_restore "$bjob" "$out" --overwrite
kf_treecmp "$src" "$out$src"
