#!/usr/bin/env bash
# discard_backlog.sh - a MediaAgent that was away while hundreds of backups
# failed comes back: CommServe must send it the discard of every one of
# their containers, not only the first batch, and pace them (batches of at
# most 256, one a second) so neither daemon is flooded or stalled.
#
# The backlog is made cheaply: with the MediaAgent stopped, 601 failed
# backup rows of pool1 are inserted in the database (discarded_at NULL),
# and their committed containers are faked on the MediaAgent's storage
# (job-N.kfc for all but the last 20, job-N.kfi for every other one; the
# MediaAgent's discard removes them by name and accepts a missing one).
# One job in the middle cannot be discarded (a directory stands where its
# container is): the MediaAgent answers ERROR, and CommServe neither
# resends it in a loop nor stops the sweep there; it retries it at the
# next registration, when the obstacle is gone.
#
# Within 60 s of the MediaAgent's restart the 600 others are recorded
# discarded and none of their files is left outside the quarantine; both
# daemons are alive and a backup and restore still work.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/fault_lib.bash" || exit 1
kf_setup
kf_stack pool1
pool=$(kf_ma_root ma1)/pool1
N=601				# rows inserted; one of them is stuck
NOFILES=20			# the last ones have no container at all

# db_val SQL: one value from the suite's database.
db_val() {
	kf_psql -d "$KF_DB" -t -A -c "$1"
}

# undiscarded: how many of the backlog's jobs (but the stuck one) wait.
undiscarded() {
	db_val "SELECT count(*) FROM jobs WHERE id BETWEEN $first AND $last
	    AND id <> $stuck AND discarded_at IS NULL"
}

# all_confirmed: every discard of the backlog (but the stuck one) recorded.
all_confirmed() {
	[ "$(undiscarded)" -eq 0 ]
}

# backlog_files: the backlog's container files outside the quarantine.
backlog_files() {
	find "$pool" -path '*/.quarantine' -prune -o -name 'job-*.kf[ci]' \
	    -print | sed -nE 's,.*/job-([0-9]+)\.kf[ci]$,\1,p' |
	    awk -v a="$first" -v b="$last" -v s="$stuck" \
	    '$1 >= a && $1 <= b && $1 != s' | wc -l
}

no_backlog_files() {
	[ "$(backlog_files)" -eq 0 ]
}

# stuck_confirmed: the stuck job's discard is recorded.
stuck_confirmed() {
	[ -n "$(db_val "SELECT discarded_at FROM jobs WHERE id = $stuck")" ]
}

kf_stop mediaagent-ma1
ids=$(db_val "INSERT INTO jobs (type, state, client_id, pool_id,
    key_set_id, ended_at, error_code, error)
    SELECT 1, 3, c.id, p.id, p.key_set_id, now(), 14,
        'discard_backlog: failed while its MediaAgent was away'
    FROM clients c, storage_pools p, generate_series(1, $N)
    WHERE c.name = 'local' AND p.name = 'pool1' RETURNING id")
mapfile -t idv <<<"$ids"
kf_assert_eq "${#idv[@]}" "$N" "backlog rows inserted"
first=${idv[0]}
last=${idv[$((N - 1))]}
stuck=${idv[300]}
mkdir -p "$pool"
for ((i = 0; i < N - NOFILES; i++)); do
	id=${idv[$i]}
	[ "$id" != "$stuck" ] || continue
	printf 'fake container of job %s\n' "$id" >"$pool/job-$id.kfc"
	[ $((i % 2)) -ne 0 ] || : >"$pool/job-$id.kfi"
done
mkdir "$pool/job-$stuck.kfc"
kf_assert_eq "$(backlog_files)" $((N - 1 - NOFILES + (N - NOFILES) / 2)) \
    "container files made"

# The MediaAgent registers again: the whole backlog goes, batch by batch.
t0=$SECONDS
fault_start_ma ma-r1
kf_wait_for 60 "all $((N - 1)) discards confirmed" "${KF_PID[ma-r1]}" \
    all_confirmed
kf_log "$((N - 1)) discards confirmed in $((SECONDS - t0)) s"
kf_wait_for 10 "the backlog's files removed" "" no_backlog_files
kf_assert_grep "${KF_LOG[commserve]}" \
    "MediaAgent ma1: discarding the containers of $N failed or interrupted"
kf_wait_log commserve 'MediaAgent ma1: every pending discard sent' 1 10
kf_assert_alive commserve ma-r1

# Paced: several batches, none above 256.
batches=$(grep -oE 'MediaAgent ma1: discard batch of [0-9]+' \
    "${KF_LOG[commserve]}" | awk '{ print $NF }')
[ "$(wc -l <<<"$batches")" -ge 3 ] ||
    kf_fail "$N discards went in fewer than 3 batches: $batches"
for b in $batches; do
	[ "$b" -le 256 ] || kf_fail "a batch of $b discards (at most 256)"
done

# The stuck job was asked for once, answered ERROR, and stays pending.
sleep 2
kf_assert_eq "$(kf_log_count ma-r1 \
    "job $stuck: cannot remove $pool/job-$stuck.kfc")" 1 \
    "discard attempts of job $stuck (ERROR answers are not resent at once)"
kf_assert_grep "${KF_LOG[commserve]}" \
    "error from ma1: job $stuck: cannot remove its container"
kf_assert_eq "$(db_val "SELECT discarded_at IS NULL FROM jobs
    WHERE id = $stuck")" t "job $stuck pending after its ERROR"

# At the next registration it is sent again, and now it goes.
rmdir "$pool/job-$stuck.kfc"
kf_stop ma-r1
fault_start_ma ma-r2
kf_wait_for 20 "job $stuck's discard confirmed" "${KF_PID[ma-r2]}" \
    stuck_confirmed
kf_assert_eq "$(kf_log_count commserve 'discarding the containers of')" 2 \
    "sweeps started (one per registration with discards pending)"

kf_roundtrip local pool1
kf_assert_alive commserve ma-r2 client-local
