#!/bin/sh
#
# pg.sh - a private, throwaway PostgreSQL 15 cluster for ./run and the tests.
#
#   pg.sh start DIR [--watch PID|NAME]   create (once) and start; print conninfo
#   pg.sh stop DIR                       fast shutdown (SIGINT, then SIGKILL)
#   pg.sh destroy DIR                    stop and remove everything
#   pg.sh watchdog DIR PID               destroy DIR once PID has died
#
# The cluster lives in DIR/data, logs to DIR/pg.log and listens on a unix
# socket only (listen_addresses = ''), so runs never clash on ports.  The
# socket directory is DIR itself when that is short enough, otherwise a
# mktemp -d /tmp/kfpg.XXXXXX directory (unix socket paths are limited to
# 107 bytes); DIR/sockdir records which.  DIR/conninfo holds the libpq
# conninfo of the `keyflow` database; `start` prints it too.  (As root,
# when user postgres cannot reach DIR, say under /root, data, log and
# socket live in a /tmp/kfpg.XXXXXX directory named by DIR/pghome.)
#
# fsync and synchronous_commit keep their defaults (on): later tests kill
# the server and check that committed work survived.  Only initdb runs with
# --no-sync, which is safe because nothing of value exists yet.
#
# As root, initdb, the server and createdb run as the `postgres` user (the
# server refuses root, and pg_ctl refuses root even to stop, so we stop by
# the PID in postmaster.pid).  As any other user they run directly.
#
# A test run killed with SIGKILL cannot clean up after itself, so `start
# --watch X` also backgrounds `pg.sh watchdog DIR PID`, detached from the
# caller's terminal and pipes, where PID is X itself if numeric, else the
# nearest ancestor process whose name is X (ctest uses `--watch ctest`).
# When that process dies the watchdog destroys the cluster; `destroy` ends
# the watchdog it started.
set -eu
SELF=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")

PGPORT_FIXED=5432
START_TIMEOUT=30
STOP_TIMEOUT=10

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: pg.sh start DIR [--watch PID|NAME] | stop DIR | destroy DIR |" \
	    "watchdog DIR PID" >&2
	exit 2
}

# The server binaries: pg_config (from libpq-dev) points at the client
# tools, not at the server, on Debian.
find_bindir() {
	if [ -n "${KF_PG_BINDIR:-}" ]; then
		echo "$KF_PG_BINDIR"
		return
	fi
	for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin \
	    /usr/pgsql-15/bin; do
		if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
			echo "$d"
			return
		fi
	done
	die "no PostgreSQL server binaries found (install postgresql-15," \
	    "or set KF_PG_BINDIR)"
}

# Run a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# alive PID: the process exists and is not a zombie.  kill -0 is not enough:
# PID 1 may reap dead processes late (TOOLCHAIN.md).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) ||
	    return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# starttime PID: field 22 of /proc/PID/stat, to notice a reused PID.
starttime() {
	sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# The postmaster's PID, if DIR/data/postmaster.pid names a live postgres.
server_pid() {
	pidfile="$DATA/postmaster.pid"
	[ -r "$pidfile" ] || return 1
	pid=$(head -n 1 "$pidfile")
	case "$pid" in
	''|*[!0-9]*) return 1 ;;
	esac
	alive "$pid" || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	case "$comm" in
	postgres*|postmaster*) echo "$pid" ;;
	*) return 1 ;;
	esac
}

# Quote a libpq conninfo value.
cq() {
	printf "'%s'" "$(printf '%s' "$1" | sed -e "s/[\\\\']/\\\\&/g")"
}

# Quote a postgresql.conf string value.
confq() {
	printf "'%s'" "$(printf '%s' "$1" | sed -e "s/'/''/g")"
}

setpaths() {
	[ -n "$1" ] || usage
	mkdir -p "$1" || die "cannot create $1"
	DIR=$(cd "$1" && pwd -P)
	PGHOME=$DIR
	if [ -s "$DIR/pghome" ]; then
		PGHOME=$(cat "$DIR/pghome")
	fi
	DATA="$PGHOME/data"
	LOG="$PGHOME/pg.log"
}

# As root, the server runs as postgres, which may not reach DIR (a checkout
# under /root, mode 0700): then its files live in a /tmp/kfpg.XXXXXX
# directory recorded in DIR/pghome, and DIR/pg.log links to its log.
choose_home() {
	if [ "$PGHOME" != "$DIR" ] && [ -d "$PGHOME" ]; then
		return
	fi
	rm -f "$DIR/pghome"
	PGHOME=$DIR
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$DIR"
		if ! runuser -u postgres -- test -w "$DIR" -a -x "$DIR"; then
			PGHOME=$(mktemp -d /tmp/kfpg.XXXXXX) ||
			    die "mktemp failed"
			chown postgres "$PGHOME"
			echo "$PGHOME" > "$DIR/pghome"
			ln -sfn "$PGHOME/pg.log" "$DIR/pg.log"
			# The socket goes there too: it is short.
			echo "$PGHOME" > "$DIR/sockdir"
		fi
	fi
	DATA="$PGHOME/data"
	LOG="$PGHOME/pg.log"
}

# Pick (and record) the socket directory.
sockdir() {
	if [ -s "$DIR/sockdir" ]; then
		s=$(cat "$DIR/sockdir")
		if [ -d "$s" ]; then
			echo "$s"
			return
		fi
	fi
	# ".s.PGSQL.5432.lock" is the longest name in it; sun_path is 108.
	if [ $(( ${#DIR} + 20 )) -lt 100 ]; then
		s="$DIR"
	else
		s=$(mktemp -d /tmp/kfpg.XXXXXX) || die "mktemp failed"
	fi
	echo "$s" > "$DIR/sockdir"
	echo "$s"
}

tail_log() {
	if [ -r "$LOG" ]; then
		echo "pg.sh: last lines of $LOG:" >&2
		tail -n 25 "$LOG" >&2
	fi
}

# Find the process to watch: a PID, or the nearest ancestor named NAME.
watch_target() {
	case "$1" in
	''|*[!0-9]*) ;;
	*) echo "$1"; return ;;
	esac
	p=$$
	while [ "$p" -gt 1 ]; do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ]; then
			echo "$p"
			return
		fi
		p=$(sed -e 's/^.*) //' "/proc/$p/stat" 2>/dev/null |
		    cut -d' ' -f2) || return 1
		[ -n "$p" ] || return 1
	done
	return 1
}

kill_watchdog() {
	[ -r "$DIR/watchdog.pid" ] || return 0
	w=$(cat "$DIR/watchdog.pid")
	rm -f "$DIR/watchdog.pid"
	case "$w" in
	''|*[!0-9]*) return 0 ;;
	esac
	[ "$w" != "$$" ] || return 0
	# Only the watchdog we started: a shell running "pg.sh watchdog".
	if alive "$w" && tr '\0' ' ' < "/proc/$w/cmdline" 2>/dev/null |
	    grep -q "pg.sh watchdog "; then
		kill -TERM "$w" 2>/dev/null || true
	fi
}

start_watchdog() {
	if ! target=$(watch_target "$1"); then
		echo "pg.sh: --watch $1: no such process among our" \
		    "ancestors; no watchdog" >&2
		return 0
	fi
	kill_watchdog
	setsid "$SELF" watchdog "$DIR" "$target" </dev/null >/dev/null 2>&1 &
	echo $! > "$DIR/watchdog.pid"
}

cmd_start() {
	setpaths "${1:-}"
	watch=""
	if [ $# -ge 2 ]; then
		if [ "$2" != --watch ] || [ $# -ne 3 ]; then
			usage
		fi
		watch=$3
	fi
	BIN=$(find_bindir)
	choose_home
	SOCK=$(sockdir)
	# First, so that a caller killed while we start leaves nothing.
	if [ -n "$watch" ]; then
		start_watchdog "$watch"
	fi
	CONNINFO="host=$(cq "$SOCK") port=$PGPORT_FIXED user=postgres dbname=keyflow"

	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$SOCK"
	fi

	if ! server_pid > /dev/null; then
		if [ ! -s "$DATA/PG_VERSION" ]; then
			rm -rf "$DATA"
			as_owner "$BIN/initdb" -D "$DATA" --no-sync \
			    --auth=trust -U postgres -E UTF8 --locale=C \
			    > "$DIR/initdb.log" 2>&1 || {
				cat "$DIR/initdb.log" >&2
				die "initdb failed"
			}
			echo "include_if_exists 'keyflow.conf'" \
			    >> "$DATA/postgresql.conf"
		fi
		{
			echo "# written by tests/pg.sh at every start"
			echo "listen_addresses = ''"
			echo "port = $PGPORT_FIXED"
			echo "unix_socket_directories = $(confq "$SOCK")"
			echo "fsync = on"
			echo "synchronous_commit = on"
			echo "max_connections = 100"
			echo "log_min_messages = warning"
		} > "$PGHOME/keyflow.conf.new"
		if [ "$(id -u)" -eq 0 ]; then
			chown postgres "$PGHOME/keyflow.conf.new"
		fi
		as_owner cp "$PGHOME/keyflow.conf.new" "$DATA/keyflow.conf"
		rm -f "$PGHOME/keyflow.conf.new"
		if [ "$(id -u)" -eq 0 ]; then
			touch "$LOG"
			chown postgres "$LOG"
		fi
		if ! as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w \
		    -t "$START_TIMEOUT" start > "$DIR/pg_ctl.log" 2>&1; then
			cat "$DIR/pg_ctl.log" >&2
			tail_log
			die "the server did not come up (pg_ctl waits ${START_TIMEOUT}s)"
		fi
	fi
	server_pid > /dev/null || {
		tail_log
		die "the server is not running after start"
	}

	# The database, once.
	i=0
	until as_owner "$BIN/pg_isready" -q -h "$SOCK" -p $PGPORT_FIXED; do
		i=$((i + 1))
		if [ $i -ge $((START_TIMEOUT * 10)) ]; then
			tail_log
			die "the server does not accept connections"
		fi
		sleep 0.1
	done
	have=$(as_owner "$BIN/psql" -X -q -t -A -h "$SOCK" -p $PGPORT_FIXED \
	    -U postgres -d postgres \
	    -c "SELECT 1 FROM pg_database WHERE datname = 'keyflow'") || {
		tail_log
		die "cannot query the server through $SOCK"
	}
	if [ "$have" != 1 ]; then
		as_owner "$BIN/createdb" -h "$SOCK" -p $PGPORT_FIXED \
		    -U postgres keyflow || die "createdb keyflow failed"
	fi

	echo "$CONNINFO" > "$DIR/conninfo.new"
	mv "$DIR/conninfo.new" "$DIR/conninfo"
	echo "$CONNINFO"
}

cmd_stop() {
	setpaths "${1:-}"
	pid=$(server_pid) || return 0
	kill -INT "$pid" 2>/dev/null || true
	i=0
	while alive "$pid"; do
		i=$((i + 1))
		if [ $i -ge $((STOP_TIMEOUT * 10)) ]; then
			echo "pg.sh: server $pid ignored SIGINT for" \
			    "${STOP_TIMEOUT}s; sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	# After SIGKILL the backends notice the postmaster's death and exit.
	i=0
	while alive "$pid" && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

cmd_destroy() {
	[ -n "${1:-}" ] || usage
	[ -d "$1" ] || return 0
	cmd_stop "$1"
	kill_watchdog
	for f in "$DIR/sockdir" "$DIR/pghome"; do
		[ -s "$f" ] || continue
		s=$(cat "$f")
		case "$s" in
		/tmp/kfpg.*) rm -rf "$s" ;;
		esac
	done
	rm -rf "$DATA" "$LOG" "$DIR/pg.log" "$DIR/conninfo" "$DIR/sockdir" \
	    "$DIR/pghome" \
	    "$DIR/initdb.log" "$DIR/pg_ctl.log" "$PGHOME/keyflow.conf.new" \
	    "$DIR/conninfo.new" "$DIR"/.s.PGSQL.*
	rmdir "$DIR" 2>/dev/null || true
}

cmd_watchdog() {
	[ $# -eq 2 ] || usage
	case "$2" in
	''|*[!0-9]*) usage ;;
	esac
	born=$(starttime "$2") || born=""
	while alive "$2" && [ "$(starttime "$2")" = "$born" ]; do
		sleep 1
	done
	cmd_destroy "$1"
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case "$cmd" in
start) cmd_start "$@" ;;
stop) [ $# -eq 1 ] || usage; cmd_stop "$1" ;;
destroy) [ $# -eq 1 ] || usage; cmd_destroy "$1" ;;
watchdog) cmd_watchdog "$@" ;;
*) usage ;;
esac
