# fault_backends.bash - what the suites that kill CommServe's backends
# (PostgreSQL, kmsd) share; sourced after lib.sh and fault_lib.bash, before
# kf_setup.  Not a suite itself (not named *.sh).
#
# fb_private_pg gives the suite a PostgreSQL cluster of its own
# (tests/pg.sh), since the shared test cluster serves every suite and must
# not be stopped.  fb_setup does all of it: the stack, kmsd (lib.sh's
# kf_start_kmsd, which a suite calls again to restart it) and pool p1 on
# KMS kms1.

# fb_setup: kf_setup, a private cluster, the stack (CommServe, MediaAgent
# ma1, client local), kmsd as kms1 and pool p1 on it.  Exits 77 (skip)
# when kmsd is not built.
fb_setup() {
	kf_need_kmsd
	kf_setup
	fb_private_pg
	kf_stack
	kf_start_kmsd
	kf_kms_add kms1
	kf_cli_ok pool create p1 --mediaagent ma1 --kms kms1
}

# fb_private_pg: a private cluster, its conninfo in KF_DB, destroyed at
# exit.  Call right after kf_setup.
fb_private_pg() {
	FB_PGDIR=$(mktemp -d /tmp/kfpgb.XXXXXX)
	FB_PGSH="$KF_SRC_DIR/tests/pg.sh"
	trap fb_exit EXIT
	KF_DB=$("$FB_PGSH" start "$FB_PGDIR" --watch $$ | tail -n 1) ||
	    kf_fail "cannot start a private PostgreSQL cluster in $FB_PGDIR"
}

fb_exit() {
	local rc=$?
	set +e
	"$FB_PGSH" destroy "$FB_PGDIR" >/dev/null 2>&1
	rm -rf "$FB_PGDIR"
	(exit $rc)
	kf_exit
}

# fb_pg_immediate: immediate shutdown, as pg_ctl stop -m immediate does it
# (SIGQUIT to the postmaster: no checkpoint, crash recovery at the next
# start).  pg_ctl itself refuses to run as root.
fb_pg_immediate() {
	local data=$FB_PGDIR/data pid
	[ ! -s "$FB_PGDIR/pghome" ] || data=$(cat "$FB_PGDIR/pghome")/data
	pid=$(head -n 1 "$data/postmaster.pid") ||
	    kf_fail "no postmaster.pid in $data"
	kill -QUIT "$pid"
	kf_wait_for 20 "the postmaster exits" "" kf_dead "$pid"
	kf_log "PostgreSQL stopped in immediate mode"
}

# fb_pg_start: the private cluster again (after crash recovery).
fb_pg_start() {
	"$FB_PGSH" start "$FB_PGDIR" >/dev/null ||
	    kf_fail "cannot restart the private cluster"
	kf_log "PostgreSQL started again"
}

# fb_kill9 LABEL: a real kill -9, reaped, so that the harness does not
# count the exit against the suite.
fb_kill9() {
	kill -KILL "${KF_PID[$1]}"
	kf_wait_exit "$1" 10
	kf_assert_eq "$KF_EXIT" 137 "status of $1 after kill -9"
	kf_log "$1 killed with SIGKILL"
}

# fb_cli ARGS...: kf_cli, retried while a restarted CommServe does not yet
# know the client or the MediaAgent.
fb_cli() {
	local i
	for ((i = 0; i < 80; i++)); do
		kf_cli "$@"
		grep -q 'is not connected to CommServe' "$KF_BOTH" || return 0
		sleep 0.25
	done
}

# fb_restore_equal JOB SRC: JOB restores SRC byte for byte (retried while
# a restarted CommServe does not yet know the client or MediaAgent).
fb_restore_equal() {
	local out
	out=$(mktemp -d "$KF_WORK/ok.XXXXXX")
	fb_cli restore "$1" --to "$out"
	[ "$KF_RC" -eq 0 ] || {
		cat "$KF_BOTH" >&2
		kf_fail "restore of job $1 failed"
	}
	kf_treecmp "$2" "$out$2"
	rm -rf "$out"
}

# fb_discarded_at JOB: when the MediaAgent confirmed that JOB's container
# is discarded (jobs.discarded_at); empty while it has not.
fb_discarded_at() {
	kf_psql -d "$KF_DB" -t -A -c \
	    "SELECT coalesce(discarded_at::text, '') FROM jobs WHERE id = $1"
}

# fb_wait_discarded JOB WHAT: until the discard of JOB is confirmed (the
# query runs again at every try), at most 10 s.
fb_is_discarded() {
	[ -n "$(fb_discarded_at "$1")" ]
}
fb_wait_discarded() {
	kf_wait_for 10 "$2" "" fb_is_discarded "$1"
}

# fb_wait_ended JOB: until JOB is no longer running (the database may be
# away for a while); its state printed.
fb_wait_ended() {
	local i st
	for ((i = 0; i < FAULT_JOB_BOUND * 4; i++)); do
		kf_cli --json job "$1"
		if [ "$KF_RC" -eq 0 ]; then
			st=$(kf_json 'j["state"]')
			[ "$st" = running ] || { echo "$st"; return 0; }
		fi
		sleep 0.25
	done
	kf_fail "job $1 still running after ${FAULT_JOB_BOUND}s"
}

# fb_assert_ended JOB STATES ERROR: JOB ended in one of STATES (a regexp)
# with an error matching ERROR.
fb_assert_ended() {
	local st
	st=$(fb_wait_ended "$1")
	[[ $st =~ ^($2)$ ]] || kf_fail "job $1 is $st, not $2"
	kf_cli_ok --json job "$1"
	kf_json 'j.get("error_code", "") + ": " + j.get("error", "")' \
	    >"$KF_WORK/fb.err"
	kf_assert_grep -i "$KF_WORK/fb.err" "$3" "job $1's error"
	kf_log "job $1 $st: $(cat "$KF_WORK/fb.err")"
}

# fb_no_orphans: no completed backup lacks its catalog, and no job row is
# left running (with no job in flight).
fb_no_orphans() {
	local n
	n=$(kf_psql -d "$KF_DB" -t -A -c "SELECT count(*) FROM jobs j
	    WHERE j.type = 1 AND j.state = 2 AND NOT EXISTS
	    (SELECT 1 FROM job_files f WHERE f.job_id = j.id)")
	kf_assert_eq "$n" 0 "completed backups without a catalog"
	n=$(kf_psql -d "$KF_DB" -t -A -c \
	    "SELECT count(*) FROM jobs WHERE state = 1")
	kf_assert_eq "$n" 0 "jobs left running"
}
