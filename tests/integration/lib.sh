# lib.sh - the integration-test harness, sourced by every suite.
#
# A suite is a bash script that sources this file, calls kf_setup, starts
# the daemons it needs and asserts what a user would check.  Each suite gets
# its own database on the session's PostgreSQL cluster (the ctest "pg"
# fixture, whose conninfo file is $KF_TEST_PG_CONNINFO_FILE), its own work
# directory and its own free loopback ports, so suites run in parallel.
# Daemons log to $KF_WORK/logs/NAME.log; on failure the tail of every log is
# printed.  At exit every daemon is stopped (SIGTERM, then SIGKILL after
# 5 s), the database dropped and the work directory removed, and a daemon
# that crashed, exited non-zero on SIGTERM or reported a sanitizer error
# fails the suite.
#
# Every link runs over ZeroMQ CURVE unless KF_CURVE=0 (in the environment,
# or set by a suite before kf_setup): each daemon started through kf_spawn
# gets its own key directory under $KF_WORK/curve, its public key copied
# into the shared trust directory first, and CommServe's key; the CLI and
# kf-poke get a key pair of their own through the exported KEYFLOW_CURVE_*
# variables, so hostile cases arrive as an authenticated peer.
#
# Environment (set by tests.cmake): KF_BIN_DIR (the build directory),
# KF_TEST_PG_CONNINFO_FILE, KF_SRC_DIR; optional KF_READY_TIMEOUT (s),
# KF_KEEP=1 to keep the work directory for a post-mortem, and KF_CURVE=0
# for plaintext links.

set -euo pipefail

: "${KF_BIN_DIR:?KF_BIN_DIR must name the build directory}"
: "${KF_SRC_DIR:?KF_SRC_DIR must name the source directory}"

# A user's sourced .keyflow/env must not reach the daemons.
for _v in $(compgen -v KEYFLOW_ || true); do
	unset "$_v"
done
unset _v

KF_SUITE=$(basename "$0" .sh)
KF_CURVE=${KF_CURVE:-1}		# 1: CURVE on every link
KF_CURVE_DIR=""			# keys, trust directory, server key list
KF_READY_TIMEOUT=${KF_READY_TIMEOUT:-60}
KF_STOP_TIMEOUT=5
KF_WORK=""
KF_DB=""
KF_DBNAME=""
KF_PG_BASE=""
KF_CS_EP=""
KF_EV_EP=""
KF_CERTS=""			# kmsd's and CommServe's TLS files (kf_certs)
KF_KMS_ADDR=""			# kmsd's KMIP address (kf_start_kmsd)
declare -A KF_PID=()		# daemon name -> PID
declare -A KF_LOG=()		# daemon name -> log file
declare -A KF_MA_EP=()		# MediaAgent name -> data endpoint
KF_ORDER=()			# daemon names in start order
KF_OUT=""			# stdout of the last kf_cli call
KF_ERR=""			# stderr of the last kf_cli call
KF_BOTH=""			# both of them
KF_RC=0				# exit status of the last kf_cli call

kf_log() {
	printf '%s: %s\n' "$KF_SUITE" "$*" >&2
}

# kf_fail MSG: the suite fails here (the EXIT trap dumps the logs).
kf_fail() {
	printf '%s: FAIL: %s\n' "$KF_SUITE" "$*" >&2
	exit 1
}

# ------------------------------------------------------------ binaries

kf_bin() {
	local sub
	case "$1" in
	commserved) sub=commserve ;;
	mediaagentd) sub=mediaagent ;;
	clientd) sub=client ;;
	kmsd) sub=kms ;;
	keyflow) sub=cli ;;
	kf-*) sub=tests/tools ;;
	*) sub=. ;;
	esac
	if [ -x "$KF_BIN_DIR/$sub/$1" ]; then
		echo "$KF_BIN_DIR/$sub/$1"
	elif [ -x "$KF_BIN_DIR/$1" ]; then
		echo "$KF_BIN_DIR/$1"
	else
		kf_fail "$1 is not built (looked in $KF_BIN_DIR/$sub)"
	fi
}

# kf_sanitized: true when the programs under test are a sanitizer build
# (ASan links statically with clang, so ldd does not show it: ask CMake).
kf_sanitized() {
	grep -q '^KF_SANITIZE:BOOL=ON' "$KF_BIN_DIR/CMakeCache.txt" 2>/dev/null
}

kf_pg_tool() {
	local d
	for d in "$(pg_config --bindir 2>/dev/null || true)" \
	    /usr/lib/postgresql/15/bin; do
		if [ -n "$d" ] && [ -x "$d/$1" ]; then
			echo "$d/$1"
			return
		fi
	done
	command -v "$1" || kf_fail "$1 not found"
}

# ------------------------------------------------------------ processes

# kf_alive PID: running and not a zombie (kill -0 is fooled by PID 1
# reaping late).
kf_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) ||
	    return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# kf_free_port: one free loopback TCP port.
kf_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# kf_spawn NAME PROGRAM ARGS...: start a daemon in the background (with
# CURVE on, with its keys: see kf_curve_env).
kf_spawn() {
	local name=$1 prog env=()
	prog=$(kf_bin "$2")
	# Suites without kf_setup (kmsd's) have no CURVE keys to give.
	[ "$KF_CURVE" = 0 ] || [ -z "$KF_CURVE_DIR" ] ||
	    kf_curve_env "$name" "$2" "${@:3}"
	shift 2
	[ -z "${KF_PID[$name]:-}" ] || kf_fail "daemon $name started twice"
	KF_LOG[$name]="$KF_WORK/logs/$name.log"
	env "${env[@]}" "$prog" "$@" </dev/null >>"${KF_LOG[$name]}" 2>&1 &
	KF_PID[$name]=$!
	KF_ORDER+=("$name")
	echo "$! $(kf_starttime $!)" >>"$KF_WORK/pids"
}

# ---------------------------------------------------------------- CURVE

# kf_curve_keygen DIR: a key pair in DIR unless one is there; prints the
# public key.
kf_curve_keygen() {
	"$(kf_bin keyflow)" keygen "$1" 2>/dev/null ||
	    kf_fail "keyflow keygen $1 failed"
}

# kf_curve_trust NAME DIR: let the key pair in DIR connect (its curve.pub
# into the trust directory as NAME.pub).
kf_curve_trust() {
	cp "$2/curve.pub" "$KF_CURVE_DIR/trust/$1.pub"
}

# kf_curve_setup: the trust directory, CommServe's key pair (made now so
# that every client knows it before CommServe starts) and the CLI's, which
# the suite's shell exports for keyflow and kf-poke.
kf_curve_setup() {
	KF_CURVE_DIR=$KF_WORK/curve
	mkdir -p -m 0700 "$KF_CURVE_DIR/trust"
	: >"$KF_CURVE_DIR/servers"
	kf_curve_keygen "$KF_CURVE_DIR/commserve" >/dev/null
	kf_curve_keygen "$KF_CURVE_DIR/cli" >/dev/null
	kf_curve_trust cli "$KF_CURVE_DIR/cli"
	export KEYFLOW_CURVE_DIR=$KF_CURVE_DIR/cli
	export KEYFLOW_COMMSERVE_KEY=$KF_CURVE_DIR/commserve/curve.pub
	export KF_CURVE_SERVERS=$KF_CURVE_DIR/servers
}

# kf_curve_env NAME PROGRAM ARGS...: fill the caller's env array with the
# KEYFLOW_CURVE_* settings for daemon NAME, making and trusting its key
# pair (a MediaAgent's is that of its --name, mediaagent-NAME, whatever
# its label).  A MediaAgent's endpoints go to the server key list kf-poke
# reads.
kf_curve_env() {
	local name=$1 prog=$2 dir i j
	shift 2
	dir=$KF_CURVE_DIR/$name
	case "$prog" in
	commserved)
		env=(KEYFLOW_CURVE_DIR="$KF_CURVE_DIR/commserve"
		    KEYFLOW_CURVE_TRUST="$KF_CURVE_DIR/trust")
		return ;;
	mediaagentd)
		# CommServe pins a MediaAgent name to its key: a MediaAgent
		# restarted under another label keeps its name's key pair.
		for ((i = 1; i < $#; i++)); do
			j=$((i + 1))
			[ "${!i}" != --name ] ||
			    dir=$KF_CURVE_DIR/mediaagent-${!j}
		done
		name=${dir##*/} ;;
	clientd|kmsd) ;;
	*) return ;;
	esac
	kf_curve_keygen "$dir" >/dev/null
	kf_curve_trust "$name" "$dir"
	env=(KEYFLOW_CURVE_DIR="$dir"
	    KEYFLOW_COMMSERVE_KEY="$KF_CURVE_DIR/commserve/curve.pub")
	[ "$prog" = mediaagentd ] || return 0
	env+=(KEYFLOW_CURVE_TRUST="$KF_CURVE_DIR/trust")
	for ((i = 1; i < $#; i++)); do
		case "${!i}" in
		--listen|--endpoint)
			j=$((i + 1))
			echo "${!j} $(cat "$dir/curve.pub")" \
			    >>"$KF_CURVE_DIR/servers" ;;
		esac
	done
}

# kf_starttime PID: field 22 of /proc/PID/stat, to notice a reused PID.
kf_starttime() {
	sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# A suite killed outright (ctest's timeout sends SIGKILL) cannot clean up:
# this detached watchdog kills its daemons and removes its work directory
# once the suite's shell is gone.  The database goes with the cluster.
kf_start_watchdog() {
	setsid bash -c '
		alive() {
			st=$(sed -e "s/^.*) //" /proc/$1/stat 2>/dev/null |
			    cut -d" " -f1)
			[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
		}
		start() {
			sed -e "s/^.*) //" /proc/$1/stat 2>/dev/null |
			    cut -d" " -f20
		}
		born=$(start $1)
		while alive $1 && [ "$(start $1)" = "$born" ]; do
			sleep 1
		done
		[ -d "$2" ] || exit 0
		while read -r pid t; do
			[ "$(start $pid)" = "$t" ] && kill -KILL $pid
		done <"$2/pids"
		rm -rf "$2"
	' kf-watchdog "$$" "$KF_WORK" </dev/null >/dev/null 2>&1 &
}

# kf_wait_for SECONDS WHAT PID CMD...: poll CMD every 0.1 s until it
# succeeds; fail when SECONDS pass, or when PID (if not empty) dies first.
kf_wait_for() {
	local limit=$1 what=$2 pid=$3 i=0
	shift 3
	until "$@"; do
		if [ -n "$pid" ] && ! kf_alive "$pid"; then
			kf_fail "$what: the process died first"
		fi
		i=$((i + 1))
		[ $i -lt $((limit * 10)) ] || kf_fail "$what: not within ${limit}s"
		sleep 0.1
	done
}

# kf_wait_ready NAME: until NAME logs "ready"; fails if it dies first.
kf_wait_ready() {
	kf_wait_for "$KF_READY_TIMEOUT" "$1 ready" "${KF_PID[$1]}" \
	    grep -qw ready "${KF_LOG[$1]}"
}

# kf_wait_exit NAME [TIMEOUT]: wait for NAME to exit by itself; its exit
# status goes to KF_EXIT.
kf_wait_exit() {
	local pid=${KF_PID[$1]}
	kf_wait_for "${2:-30}" "$1 exits" "" kf_dead "$pid"
	KF_EXIT=0
	wait "$pid" || KF_EXIT=$?
	KF_PID[$1]=done
}

kf_dead() {
	! kf_alive "$1"
}

kf_assert_alive() {
	local name
	for name in "$@"; do
		kf_alive "${KF_PID[$name]:-0}" || kf_fail "$name is not running"
	done
}

# kf_stop NAME: SIGTERM, SIGKILL after KF_STOP_TIMEOUT.  Returns 1 (with a
# log line) unless NAME stopped on SIGTERM with status 0 and its log holds
# no sanitizer report.
kf_stop() {
	local name=$1 pid=${KF_PID[$1]:-} i=0 rc=0
	case "$pid" in
	''|done) return 0 ;;
	esac
	KF_PID[$name]=done
	if kf_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		while kf_alive "$pid"; do
			i=$((i + 1))
			if [ $i -ge $((KF_STOP_TIMEOUT * 10)) ]; then
				kill -KILL "$pid" 2>/dev/null || true
				wait "$pid" 2>/dev/null || true
				kf_log "FAIL: $name ignored SIGTERM for" \
				    "${KF_STOP_TIMEOUT}s and was killed"
				return 1
			fi
			sleep 0.1
		done
	fi
	wait "$pid" 2>/dev/null || rc=$?
	if [ $rc -ne 0 ]; then
		kf_log "FAIL: $name exited with status $rc"
		return 1
	fi
	kf_check_sanitizer "$name"
}

kf_check_sanitizer() {
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "${KF_LOG[$1]}" 2>/dev/null; then
		kf_log "FAIL: $1 reported a sanitizer error (see its log)"
		return 1
	fi
}

# kf_stop_all: every daemon, in reverse start order; 1 if any did not stop
# cleanly.
kf_stop_all() {
	local i rc=0
	for ((i = ${#KF_ORDER[@]} - 1; i >= 0; i--)); do
		kf_stop "${KF_ORDER[$i]}" || rc=1
	done
	return $rc
}

kf_dump_logs() {
	local name
	for name in "${KF_ORDER[@]}"; do
		printf '\n---- %s (%s), last 40 lines ----\n' "$name" \
		    "${KF_LOG[$name]}" >&2
		tail -n 40 "${KF_LOG[$name]}" >&2 2>/dev/null || true
	done
	if [ -n "$KF_BOTH" ] && [ -s "$KF_BOTH" ]; then
		printf '\n---- output of the last keyflow command ----\n' >&2
		tail -n 20 "$KF_BOTH" >&2
	fi
}

# The EXIT trap: stop everything, dump logs on failure, drop the database,
# remove the work directory.  A daemon failing to stop cleanly turns a
# passing suite into a failing one.
kf_exit() {
	local rc=$?
	trap - EXIT
	set +e
	kf_stop_all || rc=1
	if [ $rc -ne 0 ]; then
		kf_dump_logs
	fi
	if [ -n "$KF_DBNAME" ]; then
		kf_psql -d "$KF_PG_BASE" -c \
		    "DROP DATABASE IF EXISTS \"$KF_DBNAME\" WITH (FORCE)" \
		    >/dev/null 2>&1
	fi
	if [ -n "$KF_WORK" ] && [ -d "$KF_WORK" ]; then
		if [ "${KF_KEEP:-0}" = 1 ]; then
			kf_log "work directory kept: $KF_WORK"
		else
			rm -rf "$KF_WORK"
		fi
	fi
	if [ $rc -eq 0 ]; then
		kf_log "PASS"
	else
		kf_log "FAIL (status $rc)"
	fi
	exit $rc
}

# ---------------------------------------------------------------- setup

kf_psql() {
	"$(kf_pg_tool psql)" -X -q -v ON_ERROR_STOP=1 "$@"
}

# kf_setup: a private database, a work directory, free ports, the traps.
kf_setup() {
	: "${KF_TEST_PG_CONNINFO_FILE:?set by the pg fixture}"
	[ -s "$KF_TEST_PG_CONNINFO_FILE" ] ||
	    kf_fail "no PostgreSQL conninfo in $KF_TEST_PG_CONNINFO_FILE" \
	    "(is the pg fixture running?)"
	trap kf_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Short: unix socket and PostgreSQL paths stay well under limits.
	# World-traversable, since root-run tests may hand paths to other
	# users' tools.
	KF_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kf-$KF_SUITE.XXXXXX")
	chmod 0711 "$KF_WORK"
	mkdir -p "$KF_WORK/logs"
	: >"$KF_WORK/pids"
	kf_start_watchdog
	KF_OUT=$KF_WORK/cli.out
	KF_ERR=$KF_WORK/cli.err
	KF_BOTH=$KF_WORK/cli.both

	KF_PG_BASE=$(cat "$KF_TEST_PG_CONNINFO_FILE")
	KF_DBNAME="kf_$(printf '%s' "$KF_SUITE" | tr -c 'a-z0-9_' _)_$$"
	kf_psql -d "$KF_PG_BASE" -c "CREATE DATABASE \"$KF_DBNAME\"" \
	    >/dev/null || kf_fail "cannot create database $KF_DBNAME"
	# In a keyword=value conninfo the last value of a keyword wins.
	KF_DB="$KF_PG_BASE dbname=$KF_DBNAME"

	KF_CS_EP="tcp://127.0.0.1:$(kf_free_port)"
	KF_EV_EP="tcp://127.0.0.1:$(kf_free_port)"
	while [ "$KF_EV_EP" = "$KF_CS_EP" ]; do
		KF_EV_EP="tcp://127.0.0.1:$(kf_free_port)"
	done
	if [ "$KF_CURVE" != 0 ]; then
		kf_curve_setup
		kf_log "CURVE on every link (KF_CURVE=0 for plaintext)"
	fi
}

# ---------------------------------------------------------------- daemons

kf_start_commserve() {
	mkdir -p -m 0700 "$KF_WORK/cs"
	kf_spawn commserve commserved --listen "$KF_CS_EP" \
	    --events "$KF_EV_EP" --db "$KF_DB" --state-dir "$KF_WORK/cs" -v
	kf_wait_ready commserve
}

# kf_ma_root NAME: the MediaAgent's storage root.
kf_ma_root() {
	echo "$KF_WORK/ma-$1"
}

kf_start_mediaagent() {
	local name=$1 ep
	ep="tcp://127.0.0.1:$(kf_free_port)"
	KF_MA_EP[$name]=$ep
	mkdir -p "$(kf_ma_root "$name")"
	kf_spawn "mediaagent-$name" mediaagentd --name "$name" \
	    --commserve "$KF_CS_EP" --listen "$ep" --root "$(kf_ma_root "$name")" -v
	kf_wait_ready "mediaagent-$name"
}

# kf_certs: the TLS certificates of tests/certs.sh (ca.pem, server.pem for
# 127.0.0.1, commserve.pem, rogue and expired ones) in KF_CERTS, made once.
kf_certs() {
	[ -z "${KF_CERTS:-}" ] || return 0
	KF_CERTS=$KF_WORK/certs
	"$KF_SRC_DIR/tests/certs.sh" "$KF_CERTS" >/dev/null ||
	    kf_fail "tests/certs.sh failed"
}

# kf_need_kmsd: skip the suite (exit 77) when kmsd is not built.
kf_need_kmsd() {
	[ ! -x "$KF_BIN_DIR/kms/kmsd" ] || return 0
	kf_log "SKIP: kmsd is not built"
	exit 77
}

# kf_start_kmsd [ARG...]: kmsd (daemon kmsd) on KF_KMS_ADDR with the
# kf_certs server certificate and its store in $KF_WORK/kms, ARGs added
# (--events "$KF_EV_EP" to have it trace).  The first call picks the
# address; a restart keeps address, store and certificates, and since kmsd
# appends to its log, waits for one more "ready" line.
kf_start_kmsd() {
	local n=0
	kf_certs
	[ -n "${KF_KMS_ADDR:-}" ] || KF_KMS_ADDR=127.0.0.1:$(kf_free_port)
	[ -z "${KF_LOG[kmsd]:-}" ] || n=$(kf_log_count kmsd '\bready\b')
	KF_PID[kmsd]=""
	kf_spawn kmsd kmsd --listen "$KF_KMS_ADDR" --ca "$KF_CERTS/ca.pem" \
	    --cert "$KF_CERTS/server.pem" --key "$KF_CERTS/server.key" \
	    --store "$KF_WORK/kms" "$@" -v
	kf_wait_for "$KF_READY_TIMEOUT" "kmsd ready" "${KF_PID[kmsd]}" \
	    kf_log_has kmsd '\bready\b' $((n + 1))
}

# kf_kms_add NAME [ADDR [ARG...]]: the KMIP server at ADDR (kmsd's by
# default) registered as KMS NAME, CommServe presenting commserve.pem;
# ARGs go to `keyflow kms add` (--no-correlation).
kf_kms_add() {
	kf_certs
	kf_cli_ok kms add "$1" --kmip "${2:-$KF_KMS_ADDR}" \
	    --ca "$KF_CERTS/ca.pem" --cert "$KF_CERTS/commserve.pem" \
	    --key "$KF_CERTS/commserve.key" "${@:3}"
}

# kf_pwfile NAME: where kf_add_client keeps NAME's password.
kf_pwfile() {
	echo "$KF_WORK/$1.password"
}

# kf_write_password FILE PW: a 0600 password file.
kf_write_password() {
	(umask 077 && printf '%s\n' "$2" >"$1")
}

# kf_add_client NAME PW: register the client with CommServe.
kf_add_client() {
	kf_write_password "$(kf_pwfile "$1")" "$2"
	kf_cli_ok client add "$1" --password-file "$(kf_pwfile "$1")"
}

# kf_start_client NAME PWFILE [LABEL]: clientd, waiting until it
# registered.  LABEL (default client-NAME) names it in the harness, for a
# second clientd of the same client.
kf_start_client() {
	kf_spawn_client "$@"
	kf_wait_ready "${3:-client-$1}"
}

kf_spawn_client() {
	kf_spawn "${3:-client-$1}" clientd --name "$1" --password-file "$2" \
	    --commserve "$KF_CS_EP" -v
}

# kf_stack [POOL]: CommServe, MediaAgent ma1, client "local" with clientd,
# and when named a storage pool on ma1.
kf_stack() {
	kf_start_commserve
	kf_start_mediaagent ma1
	kf_add_client local "pw-$(head -c 12 /dev/urandom | od -An -tx1 |
	    tr -d ' \n')"
	kf_start_client local "$(kf_pwfile local)"
	if [ $# -gt 0 ]; then
		kf_cli_ok pool create "$1" --mediaagent ma1
	fi
}

# ---------------------------------------------------------------- the CLI

# kf_cli ARGS...: keyflow against this suite's CommServe; stdout in
# $KF_OUT, stderr in $KF_ERR, both in $KF_BOTH, status in $KF_RC.  Never
# fails by itself.
kf_cli() {
	KF_RC=0
	"$(kf_bin keyflow)" --commserve "$KF_CS_EP" "$@" >"$KF_OUT" \
	    2>"$KF_ERR" || KF_RC=$?
	cat "$KF_OUT" "$KF_ERR" >"$KF_BOTH"
}

# kf_cli_ok ARGS...: the command must succeed.
kf_cli_ok() {
	kf_cli "$@"
	if [ $KF_RC -ne 0 ]; then
		cat "$KF_BOTH" >&2
		kf_fail "keyflow $* exited $KF_RC"
	fi
}

# kf_cli_fails ARGS...: the command must exit 1 and say why with a
# stable code: "keyflow: MESSAGE (ERR_CODE)" on stderr, or for a job that
# ran and failed "TYPE job N failed: MESSAGE (ERR_CODE)" on stdout.
kf_cli_fails() {
	kf_cli "$@"
	if [ $KF_RC -ne 1 ]; then
		cat "$KF_BOTH" >&2
		kf_fail "keyflow $* exited $KF_RC, not 1"
	fi
	grep -qE '^(keyflow: |[a-z]+ job [0-9]+ failed: ).*\(ERR_[A-Z_]+\)$' \
	    "$KF_BOTH" || {
		cat "$KF_BOTH" >&2
		kf_fail "keyflow $* failed without a message ending in" \
		    "(ERR_CODE)"
	}
	kf_log "keyflow $1 $2 failed as it should: $(grep -E \
	    '\(ERR_[A-Z_]+\)$' "$KF_BOTH" | head -n 1)"
}

# kf_job_id: the job id a job command printed (its last stdout line).
kf_job_id() {
	local id
	id=$(tail -n 1 "$KF_OUT")
	case "$id" in
	''|*[!0-9]*) cat "$KF_OUT" >&2; kf_fail "no job id on the last line" ;;
	esac
	echo "$id"
}

# kf_backup CLIENT POOL PATH...: run a backup, set KF_JOB to its id.
kf_backup() {
	kf_cli_ok backup "$@"
	KF_JOB=$(kf_job_id)
}

# kf_restore JOB DEST [ARGS...]: run a restore, set KF_JOB to its id.
kf_restore() {
	kf_cli_ok restore "$1" --to "$2" "${@:3}"
	KF_JOB=$(kf_job_id)
}

# kf_poke ENDPOINT CASE [ARGS...]: one hostile message; kf-poke checks
# the answer.
kf_poke() {
	local out
	out=$("$(kf_bin kf-poke)" --endpoint "$1" --case "$2" --timeout 5000 \
	    "${@:3}" 2>&1) || kf_fail "kf-poke $2 at $1: $out"
	kf_log "kf-poke $out"
}

# ---------------------------------------------------------------- data

# kf_random_file PATH BYTES
kf_random_file() {
	head -c "$2" /dev/urandom >"$1"
}

# kf_treecmp EXPECTED ACTUAL: the trees must be equal.
kf_treecmp() {
	local out
	out=$(python3 "$KF_SRC_DIR/tests/integration/treecmp.py" "$@") || {
		printf '%s\n' "$out" >&2
		kf_fail "restored tree differs from the original"
	}
	kf_log "$out"
}

# kf_no_plaintext DIR STRING: STRING occurs in no file under DIR.
kf_no_plaintext() {
	if grep -rlaF -- "$2" "$1" >&2; then
		kf_fail "plaintext marker found under $1 (files above)"
	fi
}

# ---------------------------------------------------------------- asserts

kf_assert_eq() {
	[ "$1" = "$2" ] || kf_fail "${3:-values differ}: '$1' != '$2'"
}

# kf_assert_grep [-i] FILE PATTERN [MSG]: an extended regexp occurs in
# FILE (-i: ignoring case).
kf_assert_grep() {
	local flags=-qE
	if [ "$1" = -i ]; then
		flags=-qiE
		shift
	fi
	grep "$flags" -- "$2" "$1" || {
		printf -- '---- %s ----\n' "$1" >&2
		head -c 4000 "$1" >&2
		kf_fail "${3:-expected /$2/ in $1}"
	}
}

kf_assert_no_grep() {
	if grep -qE -- "$2" "$1"; then
		grep -E -- "$2" "$1" | head -n 5 >&2
		kf_fail "${3:-unexpected /$2/ in $1}"
	fi
}

# kf_json EXPR: evaluate a Python expression over the last keyflow --json
# output (bound to j) and print the result.
kf_json() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
print(r if not isinstance(r, bool) else str(r).lower())' "$KF_OUT" "$1" ||
	    kf_fail "cannot evaluate $1 over the JSON output"
}

# kf_log_count NAME REGEXP: matching lines in a daemon's log so far.
kf_log_count() {
	grep -cE -- "$2" "${KF_LOG[$1]}" 2>/dev/null || true
}

# kf_wait_log NAME REGEXP MIN [TIMEOUT]: until at least MIN lines match.
kf_wait_log() {
	kf_wait_for "${4:-10}" "$1 logs /$2/ ${3}x" "" kf_log_has "$1" "$2" "$3"
}

kf_log_has() {
	[ "$(kf_log_count "$1" "$2")" -ge "$3" ]
}

# kf_make_tree DIR MARKER BIG_BYTES SMALL_FILES: a tree like a user's: one
# large random file, many small files (every third one holding MARKER), an
# empty file, a symlink, names with spaces and in UTF-8, odd modes, an old
# mtime with nanoseconds, nested directories.
kf_make_tree() {
	local d=$1 marker=$2 i
	mkdir -p "$d/small" "$d/docs/deep/er" "$d/with space"
	kf_random_file "$d/big.bin" "$3"
	python3 - "$d/small" "$4" "$marker" <<'PY'
import os, sys
d, n, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    body = ("file %d\n" % i) * (i % 7 + 1)
    if i % 3 == 0:
        body += marker + "\n"
    with open(os.path.join(d, "f%04d.txt" % i), "w") as f:
        f.write(body)
PY
	printf 'top secret\n%s\n' "$marker" >"$d/docs/deep/er/secret.txt"
	printf 'spaces\n%s\n' "$marker" >"$d/with space/a file with spaces.txt"
	printf 'utf-8\n%s\n' "$marker" >"$d/docs/Ünïcödé-文件-😀.txt"
	: >"$d/empty"
	ln -s docs/deep/er/secret.txt "$d/link-to-secret"
	ln -s /nonexistent/target "$d/dangling"
	chmod 0600 "$d/docs/deep/er/secret.txt"
	chmod 0751 "$d/docs/deep"
	chmod 0755 "$d/small/f0001.txt"
	touch -d '2019-03-04 05:06:07.891011121' "$d/docs/Ünïcödé-文件-😀.txt"
}

# kf_marker: a string that occurs nowhere by chance.
kf_marker() {
	echo "KF-MARKER-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

# kf_roundtrip CLIENT POOL: a small tree backed up and restored equal; the
# proof that a stack still serves.  Sets KF_BJOB and KF_RJOB.
kf_roundtrip() {
	local src out
	src=$(mktemp -d "$KF_WORK/rt-src.XXXXXX")
	out=$(mktemp -d "$KF_WORK/rt-out.XXXXXX")
	kf_make_tree "$src/t" "$(kf_marker)" $((1536 * 1024)) 30
	kf_backup "$1" "$2" "$src/t"
	KF_BJOB=$KF_JOB
	kf_restore "$KF_BJOB" "$out"
	KF_RJOB=$KF_JOB
	kf_treecmp "$src/t" "$out$src/t"
}

# kf_poke_all ENDPOINT DAEMON [DROPPED...]: every hostile case of kf-poke,
# each answered as the protocol says (DROPPED cases: the daemon cuts the
# connection without a reply, as ZeroMQ does for a frame over the socket's
# ZMQ_MAXMSGSIZE), DAEMON alive after each; then a valid request is still
# answered.
kf_poke_all() {
	local ep=$1 daemon=$2 c flags
	shift 2
	for c in garbage empty-frame unknown-type frames-4 \
	    empty-body-type-only truncated-protobuf oversized \
	    oversized-payload; do
		flags=()
		case " $* " in *" $c "*) flags=(--no-reply --timeout 2000) ;; esac
		kf_poke "$ep" "$c" "${flags[@]}"
		kf_assert_alive "$daemon"
	done
	kf_poke "$ep" valid-ping
}
