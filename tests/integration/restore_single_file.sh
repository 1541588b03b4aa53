#!/usr/bin/env bash
# restore_single_file.sh - restoring one file with --path brings back that
# file alone (bytes, mode and mtime equal), however large the backup, and
# nothing else.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((3 * 1024 * 1024)) 200
kf_backup local pool1 "$src"
bjob=$KF_JOB

# A file in the middle of the stream, in a subdirectory with UTF-8 siblings.
want="docs/deep/er/secret.txt"
out=$KF_WORK/out
mkdir "$out"
kf_restore "$bjob" "$out" --path "${src#/}/$want"
[ -f "$out$src/$want" ] || kf_fail "$want was not restored"
cmp "$src/$want" "$out$src/$want" || kf_fail "$want restored with other bytes"
kf_assert_eq "$(stat -c '%a %Y.%y' "$out$src/$want")" \
    "$(stat -c '%a %Y.%y' "$src/$want")" "mode and mtime of $want"
got=$(cd "$out" && find . -type f -o -type l | sort)
kf_assert_eq "$got" "./${src#/}/$want" "the only file restored"

# A large file spanning several chunks, alone.
out2=$KF_WORK/out2
mkdir "$out2"
kf_restore "$bjob" "$out2" --path "${src#/}/big.bin"
cmp "$src/big.bin" "$out2$src/big.bin" || kf_fail "big.bin differs"
got=$(cd "$out2" && find . -type f -o -type l | sort)
kf_assert_eq "$got" "./${src#/}/big.bin" "the only file restored"

# A path the backup does not hold: a clear error.
mkdir "$KF_WORK/out3"
kf_cli_fails restore "$bjob" --to "$KF_WORK/out3" --path "${src#/}/no/such/file"
kf_assert_grep "$KF_BOTH" 'no/such/file' "the error names the missing path"
