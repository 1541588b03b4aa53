# shellcheck shell=bash
# bench/lib.sh - what bench/limits, bench/backup and bench/peers share:
# options and sizes, the seeded data sets, timing, dropping the page cache,
# a private keyflow stack, CPU accounting of its daemons, and the tables.
#
# Sourced, never run.  Everything a bench keeps between its runs lives in
# $BENCH_DIR (KF_BENCH_DIR, default /var/tmp/keyflow-bench):
#   limits.env     the machine's limits, written by bench/limits
#   results.env    keyflow's figures, written by bench/backup (KF_*),
#                  bench/memory (MEMORY_*) and bench/control (CONTROL_*)
#   data/          the data sets, made once per (size, files, seed)
#   work/          restore targets and repositories, emptied after use
# Each .env file is shell-readable KEY=VALUE lines, so one bench computes its
# ratios from another's figures of the same run on the same machine.
#
# The data sets are the same bytes on every run and machine: the "file" set
# is one file of SIZE bytes of an AES-256-CTR keystream under a key derived
# from the seed; the "tree" set is FILES files (default 20,000) in 200
# directories whose sizes are drawn from a log-normal distribution by a
# seeded generator, clamped to 1 KiB .. 4 MiB and scaled to sum to SIZE,
# filled from the same kind of keystream (so nothing compresses or
# deduplicates).

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=${KF_BUILD_DIR:-$BENCH_ROOT/build}
BENCH_DIR=${KF_BENCH_DIR:-/var/tmp/keyflow-bench}
BENCH_NAME=${BENCH_NAME:-bench}

# Defaults; bench_parse_common changes them.
BENCH_SIZE_STR=1G
BENCH_FILES=20000
BENCH_SEED=1
BENCH_ONLY="file tree"

# Settings of a user's shell must not leak into the daemons we start.
for v in $(compgen -v KEYFLOW_ || true); do
	unset "$v"
done

bench_say() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
bench_die() { bench_say "$*"; exit 1; }

# bench_size SIZE: bytes, from a number with an optional K, M or G suffix.
bench_size() {
	local n=${1%[KkMmGg]} u=${1: -1}
	case "$n" in
	''|*[!0-9]*) return 1 ;;
	esac
	case "$u" in
	K|k) echo $((n * 1024)) ;;
	M|m) echo $((n * 1024 * 1024)) ;;
	G|g) echo $((n * 1024 * 1024 * 1024)) ;;
	*) echo "$n" ;;
	esac
}

# bench_parse_common ARG...: the options every data bench takes; sets
# BENCH_REST to the arguments it did not know.
BENCH_COMMON_USAGE='[--size SIZE] [--files N] [--seed S] [--only file|tree]'
bench_parse_common() {
	BENCH_REST=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--size) BENCH_SIZE_STR=${2:?--size needs a value}; shift 2 ;;
		--files) BENCH_FILES=${2:?--files needs a value}; shift 2 ;;
		--seed) BENCH_SEED=${2:?--seed needs a value}; shift 2 ;;
		--only)
			case "${2:-}" in
			file|tree) BENCH_ONLY=$2 ;;
			*) bench_die "--only takes file or tree" ;;
			esac
			shift 2
			;;
		*) BENCH_REST+=("$1"); shift ;;
		esac
	done
	BENCH_SIZE=$(bench_size "$BENCH_SIZE_STR") ||
	    bench_die "--size $BENCH_SIZE_STR: a number of bytes, or K, M, G"
	[ "$BENCH_SIZE" -ge 1048576 ] || bench_die "--size: at least 1M"
	case "$BENCH_FILES" in
	''|*[!0-9]*) bench_die "--files: a number" ;;
	esac
	[ "$BENCH_FILES" -ge 1 ] && [ "$BENCH_FILES" -le 1000000 ] ||
	    bench_die "--files: 1 to 1000000"
	[ $((BENCH_SIZE / BENCH_FILES)) -ge 1024 ] ||
	    bench_die "--size / --files must be at least 1 KiB a file"
	case "$BENCH_SEED" in
	''|*[!0-9]*) bench_die "--seed: a number" ;;
	esac
}

# ------------------------------------------------------------- numbers

bench_now() { echo "$EPOCHREALTIME"; }

# bench_elapsed T0: seconds since T0 (from bench_now), 3 decimals.
bench_elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

# bench_mbps BYTES SECONDS: 10^6 bytes per second, 1 decimal.
bench_mbps() {
	awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 1e-9;
	    printf "%.1f", n / s / 1e6 }'
}

# bench_ratio A B: A/B with 2 decimals, "-" when either is missing.
bench_ratio() {
	case "$1:$2" in
	:*|*:|-:*|*:-) echo - ; return ;;
	esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-";
	    else printf "%.2f", a / b }'
}

# bench_min A B: the smaller, "-" when either is missing.
bench_min() {
	case "$1:$2" in
	:*|*:|-:*|*:-) echo - ; return ;;
	esac
	awk -v a="$1" -v b="$2" 'BEGIN { m = (a < b) ? a : b; print m }'
}

# bench_human BYTES: "1.0 GiB", "256 MiB".
bench_human() {
	awk -v n="$1" 'BEGIN {
	    if (n >= 1073741824) printf "%.1f GiB", n / 1073741824;
	    else if (n >= 1048576) printf "%.0f MiB", n / 1048576;
	    else printf "%.0f KiB", n / 1024 }'
}

# bench_field LINE KEY: the value of KEY=VALUE among LINE's words.
bench_field() {
	local w
	for w in $1; do
		case "$w" in
		"$2"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	return 1
}

# bench_env_get FILE KEY: a value from a KEY=VALUE file ("" if absent).
bench_env_get() {
	[ -r "$1" ] || return 0
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# bench_env_put FILE KEY VALUE: replace or add one line, atomically.
bench_env_put() {
	local f=$1 tmp
	tmp=$(mktemp "$f.XXXXXX")
	{ [ -r "$f" ] && grep -v "^$2=" "$f" || true; } >"$tmp"
	printf '%s=%s\n' "$2" "$3" >>"$tmp"
	mv "$tmp" "$f"
}

# bench_env_drop FILE REGEX: remove the lines whose key matches REGEX
# (an extended regular expression anchored at the key's start), so a bench
# can forget its own old figures and keep every other bench's.
bench_env_drop() {
	local f=$1 tmp
	[ -e "$f" ] || return 0
	tmp=$(mktemp "$f.XXXXXX")
	grep -Ev "^($2)" "$f" >"$tmp" || true
	mv "$tmp" "$f"
}

# ---------------------------------------------------------- page cache

# Whether we may drop the page cache: root, and /proc/sys writable.
# Decided here, once, so a call in a subshell cannot lose the answer.
BENCH_DROP_OK=no
if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/drop_caches ]; then
	BENCH_DROP_OK=yes
fi
BENCH_DROP_SAID=""

# bench_drop_caches: sync, then drop the page cache when we may; otherwise
# say (once) that the figures may be warm.
bench_drop_caches() {
	sync
	if [ "$BENCH_DROP_OK" = yes ] &&
	    echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
		return 0
	fi
	BENCH_DROP_OK=no
	[ -z "$BENCH_DROP_SAID" ] || return 0
	BENCH_DROP_SAID=yes
	bench_say "cannot drop the page cache (not root, or" \
	    "/proc/sys/vm/drop_caches is read-only): reads may come" \
	    "from memory and flatter the figures"
}

bench_cache_note() {
	if [ "$BENCH_DROP_OK" = yes ]; then
		echo "page cache dropped before each measured step"
	else
		echo "page cache NOT dropped (warm reads possible)"
	fi
}

# -------------------------------------------------------------- data sets

# bench_keystream SEED TAG: endless pseudo-random bytes, the same for the
# same SEED and TAG everywhere.
bench_keystream() {
	openssl enc -aes-256-ctr -nosalt -pbkdf2 -iter 1 \
	    -pass "pass:keyflow-bench-$1-$2" </dev/zero 2>/dev/null
}

# bench_data_file: make (once) the "file" data set; sets DATA_FILE_DIR (the
# directory to back up) and DATA_FILE (the one file in it).
bench_data_file() {
	local d="$BENCH_DIR/data/file-$BENCH_SIZE-s$BENCH_SEED"
	DATA_FILE_DIR=$d/src
	DATA_FILE=$d/src/random.bin
	[ -e "$d/done" ] && return 0
	bench_say "making the file data set: $(bench_human "$BENCH_SIZE")" \
	    "in $d"
	rm -rf "$d"
	mkdir -p "$d/src"
	{ bench_keystream "$BENCH_SEED" file || true; } |
	    head -c "$BENCH_SIZE" >"$DATA_FILE"
	[ "$(stat -c %s "$DATA_FILE")" -eq "$BENCH_SIZE" ] ||
	    bench_die "could not write $DATA_FILE"
	touch -d '2025-01-01 00:00:00' "$DATA_FILE"
	touch "$d/done"
}

# bench_data_tree: make (once) the "tree" data set; sets DATA_TREE_DIR.
bench_data_tree() {
	local d="$BENCH_DIR/data/tree-$BENCH_SIZE-n$BENCH_FILES-s$BENCH_SEED"
	DATA_TREE_DIR=$d/src
	[ -e "$d/done" ] && return 0
	bench_say "making the tree data set: $BENCH_FILES files," \
	    "$(bench_human "$BENCH_SIZE") in $d"
	rm -rf "$d"
	mkdir -p "$d/src"
	{ bench_keystream "$BENCH_SEED" tree || true; } |
	    python3 "$BENCH_ROOT/bench/gentree.py" "$d/src" "$BENCH_SIZE" \
	    "$BENCH_FILES" "$BENCH_SEED" >"$d/sizes.txt" ||
	    bench_die "could not make the tree data set in $d"
	touch "$d/done"
}

# bench_datasets: make every data set that --only asks for.
bench_datasets() {
	local k
	mkdir -p "$BENCH_DIR/data"
	for k in $BENCH_ONLY; do
		"bench_data_$k"
	done
}

# bench_src KIND: the directory to back up for KIND (file or tree).
bench_src() {
	case "$1" in
	file) echo "$DATA_FILE_DIR" ;;
	tree) echo "$DATA_TREE_DIR" ;;
	esac
}

# bench_compare KIND ORIGINAL RESTORED: the restored data must be the same
# bytes (and, for a tree, the same names, modes and times); dies loudly.
bench_compare() {
	local out
	case "$1" in
	file)
		cmp "$DATA_FILE" "$3/${DATA_FILE##*/}" ||
		    bench_die "RESTORE IS WRONG: $3/${DATA_FILE##*/} differs" \
		    "from $DATA_FILE"
		;;
	tree)
		out=$(python3 "$BENCH_ROOT/tests/integration/treecmp.py" \
		    --no-root-meta "$2" "$3" 2>&1) ||
		    bench_die "RESTORE IS WRONG: $3 differs from $2:"$'\n'"$out"
		;;
	esac
}

# ------------------------------------------------------------------ build

# bench_build TARGET...: configure $BUILD as RelWithDebInfo if it is not
# configured yet, refuse a Debug or sanitizer build, then ninja TARGETs.
bench_build() {
	local type san
	if [ ! -f "$BUILD/build.ninja" ]; then
		mkdir -p "$BUILD"
		cmake -S "$BENCH_ROOT" -B "$BUILD" -G Ninja \
		    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/configure.log" \
		    2>&1 || { cat "$BUILD/configure.log" >&2;
		    bench_die "cmake configure of $BUILD failed"; }
	fi
	type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
	san=$(sed -n 's/^KF_SANITIZE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
	# An empty cache entry means the project's default, RelWithDebInfo.
	case "$type" in
	''|RelWithDebInfo|Release) ;;
	*) bench_die "$BUILD is a '$type' build; benchmarks need" \
	    "RelWithDebInfo: set KF_BUILD_DIR to another directory" ;;
	esac
	case "$san" in
	ON|on|1|TRUE|true) bench_die "$BUILD has KF_SANITIZE on; benchmarks" \
	    "need a plain build: set KF_BUILD_DIR to another directory" ;;
	esac
	ninja -C "$BUILD" "$@" >"$BUILD/bench-ninja.log" 2>&1 || {
		tail -n 40 "$BUILD/bench-ninja.log" >&2
		bench_die "ninja -C $BUILD $* failed"
	}
}

# ------------------------------------------------------------------ stack

BENCH_STACK=""
# bench_stack_up DIR: a private keyflow stack, the one `./run up` starts
# (PostgreSQL, kmsd, commserved, mediaagentd ma1, clientd local), with its
# state in DIR; sources DIR/env so `keyflow` reaches it.
bench_stack_up() {
	BENCH_STACK=$1
	mkdir -p "$(dirname "$BENCH_STACK")"
	KF_STATE_DIR=$BENCH_STACK KF_BUILD_DIR=$BUILD "$BENCH_ROOT/run" up \
	    >"$BENCH_DIR/run-up.log" 2>&1 || {
		tail -n 40 "$BENCH_DIR/run-up.log" >&2
		BENCH_STACK=""
		bench_die "./run up failed (log: $BENCH_DIR/run-up.log)"
	}
	# shellcheck disable=SC1091
	. "$BENCH_STACK/env"
}

# bench_stack_down: stop what bench_stack_up started (idempotent).
bench_stack_down() {
	[ -n "$BENCH_STACK" ] || return 0
	KF_STATE_DIR=$BENCH_STACK "$BENCH_ROOT/run" down >/dev/null 2>&1 || true
	BENCH_STACK=""
}

# bench_stack_logs: the last lines of each of the stack's logs, on stderr
# (for a bench that failed).
bench_stack_logs() {
	local f
	[ -n "$BENCH_STACK" ] || return 0
	for f in "$BENCH_STACK"/logs/*.log; do
		[ -e "$f" ] || continue
		printf '\n---- %s, last 15 lines ----\n' "${f##*/}" >&2
		tail -n 15 "$f" >&2
	done
}

# bench_stack_pid NAME: the PID of a daemon the stack runs (commserve,
# kmsd, mediaagent-ma1, client-local).
bench_stack_pid() {
	local pid _prog
	read -r pid _prog <"$BENCH_STACK/run/$1.pid" 2>/dev/null || return 1
	echo "$pid"
}

# bench_pg_pids: the stack's PostgreSQL server and its backends.
bench_pg_pids() {
	local pf pm home
	pf=$BENCH_STACK/pg/data/postmaster.pid
	if [ -r "$BENCH_STACK/pg/pghome" ]; then
		home=$(cat "$BENCH_STACK/pg/pghome")
		pf=$home/data/postmaster.pid
	fi
	pm=$(head -n 1 "$pf" 2>/dev/null) || return 0
	[ -n "$pm" ] || return 0
	echo "$pm"
	awk -v p="$pm" '{ sub(/^.*\) /, ""); if ($2 == p) print FILENAME }' \
	    /proc/[0-9]*/stat 2>/dev/null | sed 's|/proc/||; s|/stat||'
}

# bench_cpu_ticks PID...: user+system clock ticks of those processes.
bench_cpu_ticks() {
	local p t=0 st f
	for p in "$@"; do
		st=$(sed -e 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		# After "pid (comm) " come fields 3 (state) onwards: 14 and
		# 15, utime and stime, are f[11] and f[12].
		read -ra f <<<"$st"
		t=$((t + f[11] + f[12]))
	done
	echo "$t"
}

# bench_cpu_snapshot: "name=ticks ..." for each actor of the stack.
bench_cpu_snapshot() {
	local n
	for n in client-local mediaagent-ma1 commserve kmsd; do
		printf '%s=%s ' "$n" \
		    "$(bench_cpu_ticks "$(bench_stack_pid "$n")")"
	done
	# shellcheck disable=SC2046
	printf 'postgres=%s\n' "$(bench_cpu_ticks $(bench_pg_pids))"
}

# bench_label NAME: the program behind a stack actor's name (client-local
# is clientd, mediaagent-ma1 mediaagentd, commserve commserved).
bench_label() {
	case "$1" in
	client-*) echo clientd ;;
	mediaagent-*) echo mediaagentd ;;
	commserve) echo commserved ;;
	*) echo "$1" ;;
	esac
}

# bench_job_seconds JOB: a completed job's own run time, CommServe's start
# to its commit (without the CLI's start and its polling interval, up to
# 250 ms), 3 decimals; fails when the job did not complete.
bench_job_seconds() {
	keyflow --json job "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
if j.get("state") != "completed":
    sys.exit("job %s is %s, not completed" % (j.get("id"), j.get("state")))
print("%.3f" % ((j["ended_us"] - j["started_us"]) / 1e6))'
}

# bench_cpu_report BEFORE AFTER WALL: one line of CPU seconds per actor
# over a step of WALL seconds ("clientd 2.31s (95%)").
bench_cpu_report() {
	local hz n b a out="" label
	hz=$(getconf CLK_TCK)
	for n in client-local mediaagent-ma1 commserve kmsd postgres; do
		b=$(bench_field "$1" "$n") || b=0
		a=$(bench_field "$2" "$n") || a=0
		label=$(bench_label "$n")
		out+=$(awk -v d=$((a - b)) -v hz="$hz" -v w="$3" -v l="$label" \
		    'BEGIN { printf "%s %.2fs (%.0f%%)  ", l, d / hz,
		    (w > 0 ? 100 * d / hz / w : 0) }')
	done
	echo "${out%  }"
}

# --------------------------------------------------------------- tables

# bench_row COLUMN...: one row of a table, first column wide.
bench_row() {
	printf '%-28s' "$1"
	shift
	printf ' %12s' "$@"
	printf '\n'
}

# bench_rule [WIDTH]: a line of WIDTH (93) dashes under or over a table.
bench_rule() {
	printf '%0*d\n' "${1:-93}" 0 | tr 0 -
}

# bench_header TITLE...: what, where and when, above a table.
bench_header() {
	printf '\n== %s ==\n' "$*"
	printf '%s, %s cores, %s, load %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	    "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}
