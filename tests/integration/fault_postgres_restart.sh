#!/usr/bin/env bash
# fault_postgres_restart.sh - the CommServe database goes away and comes
# back.  The shared test cluster serves every suite, so this suite runs
# commserved on a private cluster of its own (tests/pg.sh).  With it
# stopped, `keyflow jobs` fails with a clear ERR_DB sentence and commserved
# keeps running; once it is started again requests work without
# restarting commserved, earlier backups restore and a new backup succeeds.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
kf_setup
pgdir=$(mktemp -d /tmp/kfpgf.XXXXXX)
pgsh="$KF_SRC_DIR/tests/pg.sh"
fault_pg_exit() {
	local rc=$?
	set +e
	"$pgsh" destroy "$pgdir" >/dev/null 2>&1
	rm -rf "$pgdir"
	(exit $rc)
	kf_exit
}
trap fault_pg_exit EXIT
KF_DB=$("$pgsh" start "$pgdir" --watch $$ | tail -n 1) ||
    kf_fail "cannot start a private PostgreSQL cluster in $pgdir"
kf_stack pool1

src=$KF_WORK/src
kf_make_tree "$src" "$(kf_marker)" $((2 * 1024 * 1024)) 20
kf_backup local pool1 "$src"
good=$KF_JOB

"$pgsh" stop "$pgdir" >/dev/null || kf_fail "cannot stop the private cluster"
kf_cli_fails jobs --limit 10
kf_assert_grep "$KF_BOTH" 'ERR_DB' "keyflow jobs without a database"
kf_cli_fails pool list
kf_assert_grep "$KF_BOTH" 'ERR_DB' "keyflow pool list without a database"
kf_cli_fails backup local pool1 "$src"
kf_assert_grep "$KF_BOTH" 'ERR_DB' "keyflow backup without a database"
kf_assert_alive commserve mediaagent-ma1 client-local

"$pgsh" start "$pgdir" >/dev/null || kf_fail "cannot restart the cluster"
t0=$SECONDS
for ((i = 0; i < 40; i++)); do
	kf_cli jobs
	[ "$KF_RC" -ne 0 ] || break
	sleep 0.25
done
[ "$KF_RC" -eq 0 ] || { cat "$KF_BOTH" >&2; kf_fail "jobs still fail"; }
fault_elapsed_ok "$t0" "requests working again after the database restart"
kf_assert_grep "$KF_OUT" "(^|[^0-9])$good([^0-9]|$)" "jobs lists the backup"
fault_restore_equal "$good" "$src"
kf_roundtrip local pool1
kf_assert_alive commserve
