# kms_lib.sh - what kmsd's integration suites share, on top of lib.sh.
#
# Sourced by tests/integration/kmsd_*.sh right after lib.sh.  kmsd needs
# no database, so kms_setup stands in for kf_setup: a work directory, the
# EXIT trap (kf_exit: stop every daemon, dump logs on failure), the
# watchdog, and the test certificates, which tests/certs.sh makes once per
# build directory (under a lock, so parallel suites share one set).
# kms_start runs a kmsd on a free loopback port with its own store; at exit
# the harness stops it with SIGTERM and fails the suite unless it exits 0
# with no sanitizer report.  It lives here rather than in
# tests/integration/, where every *.sh is registered as a suite.

KMS_PY=/usr/bin/python3		# Debian's: it has python3-pykmip
KMS_INTEROP=$KF_SRC_DIR/tests/interop
KMS_CERTS=""
declare -A KMS_PORT=()		# kmsd name -> port

kms_setup() {
	trap kf_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	KF_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kf-$KF_SUITE.XXXXXX")
	chmod 0711 "$KF_WORK"
	mkdir -p "$KF_WORK/logs"
	: >"$KF_WORK/pids"
	kf_start_watchdog
	[ -x "$KMS_PY" ] || kf_fail "$KMS_PY is missing"
	KMS_CERTS=$KF_BIN_DIR/testcerts
	flock "$KF_BIN_DIR/testcerts.lock" "$KF_SRC_DIR/tests/certs.sh" \
	    "$KMS_CERTS" || kf_fail "tests/certs.sh $KMS_CERTS failed"
}

# kms_store NAME: the store directory of kmsd NAME.
kms_store() {
	echo "$KF_WORK/$1.store"
}

# kms_start NAME [ARGS...]: kmsd NAME (again, on the same port and store
# after a kill), until it logs "ready" once more.
kms_start() {
	local name=$1 n
	shift
	KMS_PORT[$name]=${KMS_PORT[$name]:-$(kf_free_port)}
	n=0
	if [ -n "${KF_LOG[$name]:-}" ]; then
		n=$(kf_log_count "$name" 'ready: KMIP')
	fi
	KF_PID[$name]=""
	kf_spawn "$name" kmsd --listen "127.0.0.1:${KMS_PORT[$name]}" \
	    --ca "$KMS_CERTS/ca.pem" --cert "$KMS_CERTS/server.pem" \
	    --key "$KMS_CERTS/server.key" --store "$(kms_store "$name")" \
	    -v "$@"
	kf_wait_for "$KF_READY_TIMEOUT" "$name ready" "${KF_PID[$name]}" \
	    kf_log_has "$name" 'ready: KMIP' $((n + 1))
}

# kms_kill9 NAME: kill -9, as a crash or a power cut would.
kms_kill9() {
	local pid=${KF_PID[$1]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	KF_PID[$1]=done
}

# kms_cases NAME CASE... [ARGS...]: kmsd_cases.py against kmsd NAME; its
# output goes to the suite's log, and a failed case fails the suite.
kms_cases() {
	local name=$1 out
	shift
	out=$KF_WORK/cases.out
	if ! "$KMS_PY" "$KMS_INTEROP/kmsd_cases.py" "$@" \
	    --port "${KMS_PORT[$name]}" --certs "$KMS_CERTS" >"$out" 2>&1; then
		cat "$out" >&2
		kf_fail "kmsd_cases.py $*"
	fi
	sed -e "s/^/$KF_SUITE: /" "$out" >&2
}

# kms_spawn_py NAME SCRIPT ARGS...: a python helper the harness stops at
# exit like a daemon (it must exit 0 on SIGTERM).
kms_spawn_py() {
	local name=$1
	shift
	KF_LOG[$name]="$KF_WORK/logs/$name.log"
	"$KMS_PY" "$@" </dev/null >>"${KF_LOG[$name]}" 2>&1 &
	KF_PID[$name]=$!
	KF_ORDER+=("$name")
	echo "$! $(kf_starttime $!)" >>"$KF_WORK/pids"
}

# kms_peak_rss_kb NAME: the largest resident set kmsd NAME has had.
kms_peak_rss_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/${KF_PID[$1]}/status"
}

# kms_lines_at_least FILE N: FILE has N lines or more.
kms_lines_at_least() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}
