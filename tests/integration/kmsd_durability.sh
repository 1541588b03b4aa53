#!/usr/bin/env bash
# kmsd_durability.sh - kill -9 of kmsd at a random moment of a stream of
# Registers, Creates and Activates from four clients at once, three times
# over; after each restart every operation that was acknowledged is there
# (Get returns the registered material, created keys exist, activated
# ones are Active) and no object file is unreadable.  Then a store that
# was damaged on disk (a flipped byte, a truncated file, a stray file, an
# unfinished write) loads with the damage reported and skipped, and a
# wrong root key is refused outright.
. "$(dirname "$0")/lib.sh"
. "$KF_SRC_DIR/tests/interop/kms_lib.sh"

kms_setup
kms_start kms
log=${KF_LOG[kms]}
store=$(kms_store kms)
acked=$KF_WORK/acked.log
: >"$acked"

# last_load: kmsd's most recent "N objects loaded" line.
last_load() {
	grep 'objects loaded' "$log" | tail -n 1
}

for round in 1 2 3; do
	"$KMS_PY" "$KMS_INTEROP/kmsd_cases.py" stream --log "$acked" \
	    --port "${KMS_PORT[kms]}" --certs "$KMS_CERTS" \
	    >"$KF_WORK/stream.out" 2>&1 &
	client=$!
	# Somewhere between 0.5 and 3 s into the stream.
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + r % 250 / 100 }')"
	kms_kill9 kms
	kf_wait_for 30 "the stream client notices" "" kf_dead "$client"
	wait "$client" || kf_fail "the stream client failed: $(cat "$KF_WORK/stream.out")"
	kf_log "round $round: $(grep '^ok' "$KF_WORK/stream.out")"
	kms_start kms
	last_load | grep -qE ': [0-9]+ objects loaded, 0 unreadable files' ||
	    kf_fail "after a kill -9: $(last_load)"
	kms_cases kms verify --log "$acked"
	if ls "$store" | grep -q '\.tmp\.'; then
		kf_fail "temporary files remain after a restart: $(ls "$store")"
	fi
done
n=$(grep -c '^[RC] ' "$acked")
[ "$n" -ge 20 ] || kf_fail "only $n objects were acknowledged in 3 rounds"
loaded=$(last_load | sed -E 's/.*: ([0-9]+) objects loaded.*/\1/')
[ "$loaded" -ge "$n" ] ||
    kf_fail "$loaded objects loaded, but $n were acknowledged"

# ------------------------------------------------------- damage on disk
kf_stop kms || kf_fail "kmsd did not stop cleanly"
files=("$store"/*.kmo)
python3 - "${files[0]}" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(b)
PY
truncate -s 40 "${files[1]}"
echo junk >"$store/00000000-0000-4000-8000-000000000000.kmo"
echo partial >"${files[2]}.tmp.4242"
kms_start kms
kf_assert_grep "$log" "skipping corrupt object file $(basename "${files[0]}"): integrity check failed"
kf_assert_grep "$log" "skipping corrupt object file $(basename "${files[1]}")"
kf_assert_grep "$log" "skipping corrupt object file 00000000-0000-4000-8000-000000000000.kmo"
kf_assert_grep "$log" "removed $(basename "${files[2]}").tmp.4242, left by an interrupted write"
last_load | grep -q ": $((loaded - 2)) objects loaded, 3 unreadable files" ||
    kf_fail "after the damage: $(last_load)"
kms_cases kms good

# ------------------------------------------------------- wrong root key
kf_stop kms || kf_fail "kmsd did not stop cleanly"
(umask 077 && head -c 32 /dev/urandom >"$KF_WORK/wrong.key")
KF_PID[kms]=""
kf_spawn kms kmsd --listen "127.0.0.1:${KMS_PORT[kms]}" \
    --ca "$KMS_CERTS/ca.pem" --cert "$KMS_CERTS/server.pem" \
    --key "$KMS_CERTS/server.key" --store "$store" \
    --root-key "$KF_WORK/wrong.key"
kf_wait_exit kms
[ "$KF_EXIT" -eq 1 ] || kf_fail "kmsd with a wrong root key exited $KF_EXIT"
kf_assert_grep "$log" 'the root key is not the one store .* was written with'
