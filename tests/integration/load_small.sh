#!/usr/bin/env bash
# load_small.sh - keyflow load on a small configuration: 2 clients x 5
# backups of 3 MiB in 4 files, each restored and compared.  The report's
# totals must match the CommServe database, two of its backups (one per
# client) restored again by hand must be the same data set, the SVG must be
# XML with its two charts, the CSV a header and a row per second, and no
# load clientd may be left running, after the run and after a Ctrl-C in
# the middle of one.  Bad flags get a usage error before anything starts;
# a job with --streams 2 runs and restores.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack

# load's scratch directory goes under TMPDIR: here, so we can see it go.
export TMPDIR=$KF_WORK/tmp
mkdir -p "$TMPDIR"
# With CURVE on, load puts its clients' keys into CommServe's trust
# directory, as an operator running it against such a stack would.
if [ "$KF_CURVE" != 0 ]; then
	export KEYFLOW_CURVE_TRUST=$KF_CURVE_DIR/trust
fi

# load_clientds: the PIDs of load's clientd processes on our CommServe.
load_clientds() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null |
		    grep -qE -- "clientd --name load[0-9]+-[0-9a-f]+ .*--commserve $KF_CS_EP( |$)" &&
		    echo "${p#/proc/}"
	done
	return 0
}

assert_no_clientd() {
	local left
	left=$(load_clientds)
	[ -z "$left" ] || kf_fail "load clientd still running after $1: $left"
	[ -z "$(ls -A "$TMPDIR")" ] ||
	    kf_fail "scratch data left after $1: $(ls -A "$TMPDIR")"
}

# ---- bad flags: usage errors (exit 2), nothing started
for bad in "--clients 0" "--clients 9999" "--jobs x" "--size 3Q" \
    "--files 0" "--streams 65" "--duration 5w" "--pool bad/name" \
    "--jobs 1 --bogus" ""; do
	# shellcheck disable=SC2086
	kf_cli load $bad
	kf_assert_eq "$KF_RC" 2 "keyflow load $bad exit status"
	kf_assert_grep "$KF_ERR" '^keyflow: load: ' "keyflow load $bad says why"
	kf_assert_grep "$KF_ERR" '^usage: keyflow load ' "and shows the usage"
done
kf_cli load --jobs 1 --plot "$KF_WORK/no/such/dir/x.svg"
kf_assert_eq "$KF_RC" 1 "an unwritable --plot fails"
kf_assert_grep "$KF_ERR" 'no/such/dir/x.svg' "the error names the file"
kf_cli_ok load --help
kf_assert_grep "$KF_OUT" 'keyflow load \[--clients N\]' "--help shows usage"
assert_no_clientd "refused runs"

# ---- the small run
csv=$KF_WORK/load.csv
svg=$KF_WORK/load.svg
size=$((3 * 1024 * 1024))
kf_cli_ok load --clients 2 --jobs 5 --size 3MiB --files 4 --restore \
    --json --csv "$csv" --plot "$svg"
wall_us=$(kf_json 'j["wall_us"]')
assert_no_clientd "the run"
kf_assert_eq "$(kf_json 'j["backups"]["completed"]')" 10 "backups completed"
kf_assert_eq "$(kf_json 'j["backups"]["failed"]')" 0 "backups failed"
kf_assert_eq "$(kf_json 'j["backups"]["bytes"]')" $((10 * size)) \
    "backup bytes"
kf_assert_eq "$(kf_json 'j["restores"]["completed"]')" 10 \
    "restores completed and equal"
kf_assert_eq "$(kf_json 'j["restores"]["mismatched"]')" 0 \
    "restores that differed"
kf_assert_eq "$(kf_json 'j["jobs_completed"]')" 20 "jobs completed"
kf_assert_eq "$(kf_json 'j["errors"]')" "{}" "errors by code"
kf_assert_eq "$(kf_json 'j["backups"]["latency_us"]["n"]')" 10 \
    "latencies measured"
kf_assert_eq "$(kf_json 'j["backups"]["latency_us"]["p50"] <= '\
'j["backups"]["latency_us"]["p95"] <= j["backups"]["latency_us"]["p99"] '\
'<= j["backups"]["latency_us"]["max"]')" true "percentiles in order"
for step in dek_issue data_transfer commit; do
	kf_assert_eq "$(kf_json "j['steps_us']['$step']['n']")" 10 \
	    "$step timed from the traces of every backup"
done
kf_assert_eq "$(kf_json 'sorted(set(d["role"] for d in j["daemons"]))')" \
    "['clientd', 'commserved', 'mediaagentd']" "daemons sampled"
kf_assert_eq "$(kf_json 'sum(d["role"] == "clientd" for d in j["daemons"])')" \
    2 "one clientd per load client"
kf_assert_eq "$(kf_json '[d["pid"] for d in j["daemons"] if '\
'd["role"] == "commserved"]')" "[${KF_PID[commserve]}]" \
    "the commserved sampled is this suite's"
kf_assert_eq "$(kf_json 'all(d["rss_peak_bytes"] > 0 for d in j["daemons"])')" \
    true "every daemon's memory measured"

# The report's totals are the database's.
q() {
	kf_psql -d "$KF_DB" -At -c "$1"
}
kf_assert_eq "$(q "SELECT count(*), sum(j.bytes) FROM jobs j JOIN clients c
    ON c.id = j.client_id WHERE c.name LIKE 'load%' AND j.type = 1 AND
    j.state = 2")" "10|$((10 * size))" "completed backups in the database"
kf_assert_eq "$(q "SELECT count(*), sum(j.bytes) FROM jobs j JOIN clients c
    ON c.id = j.client_id WHERE c.name LIKE 'load%' AND j.type = 2 AND
    j.state = 2")" "10|$((10 * size))" "completed restores in the database"
kf_assert_eq "$(q "SELECT count(*) FROM jobs WHERE state <> 2")" 0 \
    "no job failed"
kf_assert_eq "$(q "SELECT count(DISTINCT j.client_id) FROM jobs j JOIN
    clients c ON c.id = j.client_id WHERE c.name LIKE 'load%'")" 2 \
    "jobs from both load clients"

# A backup of each load client, restored again through client local: the
# same data set, 4 files of 3 MiB in all.
i=0
for id in $(q "SELECT min(j.id) FROM jobs j JOIN clients c ON
    c.id = j.client_id WHERE c.name LIKE 'load%' AND j.type = 1 GROUP BY
    c.name ORDER BY c.name"); do
	i=$((i + 1))
	mkdir "$KF_WORK/again$i"
	kf_restore "$id" "$KF_WORK/again$i" --client local
done
kf_assert_eq "$i" 2 "a backup of each load client"
out=$(python3 "$KF_SRC_DIR/tests/integration/treecmp.py" --no-root-meta \
    --no-dir-mtime "$KF_WORK/again1" "$KF_WORK/again2") ||
    kf_fail "two load clients' backups differ: $out"
kf_assert_eq "${out%% (*}" "trees equal: 4 files, $size bytes" \
    "the restored data set"

# The SVG is XML with both charts; the CSV a header and a row a second.
python3 - "$svg" <<'PY' || kf_fail "the SVG is not what a browser needs"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
ids = [g.get("id") for g in root.iter(ns + "g") if g.get("id")]
assert ids == ["throughput", "latency"], ids
for g in root.iter(ns + "g"):
    if g.get("id") == "throughput":
        assert g.find(ns + "polyline") is not None, "no throughput line"
    if g.get("id") == "latency":
        assert len(g.findall(ns + "rect")) >= 2, "no histogram bars"
        assert g.find(ns + "polyline") is not None, "no CDF"
texts = " ".join(t.text or "" for t in root.iter(ns + "text"))
for label in ("MB/s", "time since start (s)", "job latency (ms)", "p99"):
    assert label in texts, label
PY
python3 - "$csv" "$wall_us" <<'PY' ||
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
wall = int(sys.argv[2]) / 1e6
head, body = rows[0], rows[1:]
assert head[:3] == ["t_s", "backup_bytes", "restore_bytes"], head
assert "commserved_cpu_pct" in head and "clientd_rss_kb" in head, head
assert all(len(r) == len(head) for r in body), "ragged rows"
# One row a second, and a last one for the part second at the end; a
# stalled second is covered by the next row, never by a burst of rows.
t = [float(r[0]) for r in body]
assert len(body) <= int(wall) + 1, (len(body), wall)
assert t == sorted(t) and abs(t[-1] - wall) <= 0.25, (t, wall)
gaps = [b - a for a, b in zip(t, t[1:])]
assert all(g >= 0.9 for g in gaps[:-1]), gaps
if all(g < 1.5 for g in gaps):
    assert len(body) >= int(wall), (len(body), wall)
assert int(body[-1][1]) == 10 * 3 * 1024 * 1024, body[-1]
PY
	kf_fail "the CSV is not one row per second"

# ---- several data streams per job: a --streams 2 run backs up and
# restores equal, and CommServe ran its job with two streams
kf_cli_ok load --jobs 1 --size 3MiB --files 4 --streams 2 --restore --json
kf_assert_eq "$(kf_json 'j["backups"]["completed"]')" 1 \
    "--streams 2: backups completed"
kf_assert_eq "$(kf_json 'j["restores"]["completed"]')" 1 \
    "--streams 2: restores completed and equal"
kf_assert_eq "$(kf_json 'j["errors"]')" "{}" "--streams 2: errors by code"
kf_assert_grep "${KF_LOG[commserve]}" 'started: .*, 2 data streams' \
    "CommServe ran the load job with 2 streams"
assert_no_clientd "the --streams 2 run"

# ---- Ctrl-C in the middle: keyflow stops, cleans up, says so
kf_log "keyflow load, interrupted"
"$(kf_bin keyflow)" --commserve "$KF_CS_EP" load --clients 2 --jobs 10000 \
    --size 1MiB --restore >"$KF_WORK/int.out" 2>"$KF_WORK/int.err" &
lpid=$!
has_clientds() {
	[ -n "$(load_clientds)" ]
}
kf_wait_for 30 "load clientd processes started" "$lpid" has_clientds
kf_wait_for 30 "a first progress line" "$lpid" \
    grep -q '^load: ' "$KF_WORK/int.err"
kill -INT "$lpid"
kf_wait_for 20 "keyflow load stops on SIGINT" "" kf_dead "$lpid"
rc=0
wait "$lpid" || rc=$?
kf_assert_eq "$rc" 1 "exit status after Ctrl-C"
kf_assert_grep "$KF_WORK/int.err" 'keyflow: interrupted' \
    "it says it was interrupted"
kf_assert_grep "$KF_WORK/int.out" '^wall time .*\(interrupted\)' \
    "and reports what it did"
assert_no_clientd "SIGINT"

# The stack still serves.
kf_cli_ok pool create pool2 --mediaagent ma1
kf_roundtrip local pool2
