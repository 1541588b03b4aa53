#!/bin/bash
# curve.sh - ZeroMQ CURVE on every link (common/curve.h).
#
# With CURVE on (this suite turns it on even under KF_CURVE=0): a backup
# and a restore work; a peer with a key that is not in the trust directory
# gets no answer from CommServe or the MediaAgent, each daemon logs the
# refusal with the key and keeps serving; a plaintext (NULL mechanism)
# peer gets no answer either, and is logged; a MediaAgent whose HELLO claims a key other
# than the one it proved is refused with ERR_AUTH; a client whose key is
# added to the trust directory later gets in without any restart, and so
# do kmsd's trace events once its key is trusted; and the
# client-MediaAgent TCP stream, captured by a relay in the middle, never
# carries the ZMTP plaintext metadata or the client's name.

source "$(dirname "$0")/lib.sh"

KF_CURVE=1
kf_setup
kf_stack pool1
for d in commserve mediaagent-ma1 client-local; do
	kf_assert_grep "${KF_LOG[$d]}" 'CURVE on: public key' \
	    "$d did not turn CURVE on"
done

# ---- 1. backup and restore over CURVE
kf_roundtrip local pool1
kf_log "backup $KF_BJOB and restore $KF_RJOB over CURVE"

# kf_logged NAME STRING: NAME's log holds STRING (fixed, not a regexp:
# Z85 is full of regexp characters).
kf_logged() {
	grep -qF -- "$2" "${KF_LOG[$1]}"
}

POKE=$(kf_bin kf-poke)
MA_EP=${KF_MA_EP[ma1]}

# ---- 2. a key the daemons do not trust
stranger=$(kf_curve_keygen "$KF_WORK/stranger")
kf_cli --curve-dir "$KF_WORK/stranger" --timeout 3 pool list
[ $KF_RC -eq 1 ] || kf_fail "an untrusted key got an answer from CommServe"
kf_assert_grep "$KF_ERR" 'did not answer'
kf_wait_for 10 "CommServe logs the refusal" "" kf_logged commserve \
    "refused a CURVE connection from 127.0.0.1 with key $stranger"
KEYFLOW_CURVE_DIR=$KF_WORK/stranger "$POKE" --endpoint "$MA_EP" \
    --case valid-ping --no-reply --timeout 2000 >/dev/null ||
    kf_fail "an untrusted key got an answer from the MediaAgent"
kf_wait_for 10 "the MediaAgent logs the refusal" "" kf_logged \
    mediaagent-ma1 "with key $stranger: key not in the trust directory"
kf_assert_alive commserve mediaagent-ma1
kf_cli_ok pool list
kf_poke "$MA_EP" valid-ping
kf_log "an untrusted key is refused and logged; both daemons still serve"

# ---- 3. plaintext peers
KF_RC=0
env -u KEYFLOW_CURVE_DIR -u KEYFLOW_COMMSERVE_KEY "$(kf_bin keyflow)" \
    --commserve "$KF_CS_EP" --timeout 3 pool list >"$KF_OUT" 2>"$KF_ERR" ||
    KF_RC=$?
[ $KF_RC -eq 1 ] || kf_fail "a plaintext CLI got an answer (status $KF_RC)"
for ep in "$KF_CS_EP" "$MA_EP" "$KF_EV_EP"; do
	case "$ep" in
	"$KF_EV_EP")
		env -u KEYFLOW_CURVE_DIR -u KEYFLOW_COMMSERVE_KEY "$POKE" \
		    --pub --endpoint "$ep" --count 3 >/dev/null ||
		    kf_fail "kf-poke --pub failed" ;;
	*)
		env -u KEYFLOW_CURVE_DIR -u KEYFLOW_COMMSERVE_KEY "$POKE" \
		    --endpoint "$ep" --case valid-ping --no-reply \
		    --timeout 2000 >/dev/null ||
		    kf_fail "a plaintext peer got an answer from $ep" ;;
	esac
done
kf_assert_no_grep "${KF_LOG[commserve]}" 'rogue|malformed trace' \
    "a plaintext publisher's events reached CommServe"
# libzmq refuses them before any ZAP request: a socket monitor logs it,
# as a mismatch, or as a handshake cut short when the peer saw it first.
for d in commserve mediaagent-ma1; do
	kf_wait_for 10 "$d logs a peer without CURVE" "" grep -qE \
	    'on tcp://[^ ]+: the peer does not use CURVE|on tcp://[^ ]+ ended during its handshake' \
	    "${KF_LOG[$d]}"
done
kf_assert_alive commserve mediaagent-ma1
kf_cli_ok pool list
kf_log "plaintext peers get nothing; the daemons still serve"

# ---- 4. a MediaAgent that claims a key it does not hold
out=$("$POKE" --endpoint "$KF_CS_EP" --ma-hello "$stranger" --timeout 5000) ||
    kf_fail "no answer to a HELLO with a foreign key: $out"
case "$out" in
"ERROR ERR_AUTH:"*) ;;
*) kf_fail "a HELLO claiming another key was answered: $out" ;;
esac
kf_wait_for 10 "CommServe logs the false claim" "" kf_logged commserve \
    "HELLO advertises CURVE key $stranger"
# The same HELLO with the key it does hold is welcome: the check is the
# key, not the message.
out=$("$POKE" --endpoint "$KF_CS_EP" --ma-hello self --timeout 5000) ||
    kf_fail "no answer to a HELLO with its own key: $out"
kf_assert_eq "$out" WELCOME "a HELLO with the peer's own key"
kf_log "a MediaAgent claiming a key it does not hold gets ERR_AUTH"

# ---- 5. a client trusted later, without restarts
kf_add_client late "pw-late-$(head -c 8 /dev/urandom | od -An -tx1 |
    tr -d ' \n')"
late=$(kf_curve_keygen "$KF_WORK/late-keys")
kf_spawn client-late clientd --name late --password-file \
    "$(kf_pwfile late)" --commserve "$KF_CS_EP" \
    --curve-dir "$KF_WORK/late-keys" -v
kf_wait_for 15 "CommServe refuses the late client's key" "" kf_logged \
    commserve "with key $late"
sleep 1
kf_assert_no_grep "${KF_LOG[client-late]}" 'registered' \
    "an untrusted client registered"
cp "$KF_WORK/late-keys/curve.pub" "$KF_CURVE_DIR/trust/late.pub"
kf_wait_ready client-late
kf_assert_alive commserve mediaagent-ma1 client-local
mkdir -p "$KF_WORK/late-src"
kf_random_file "$KF_WORK/late-src/file" 100000
kf_backup late pool1 "$KF_WORK/late-src"
kf_log "a client let in by copying its curve.pub backs up (job $KF_JOB)"

# ---- 6. kmsd's trace events, its key trusted later, without restarts
# (a PUB socket libzmq would never reconnect after CommServe's refusal)
if [ -x "$KF_BIN_DIR/kms/kmsd" ]; then
	kkey=$(kf_curve_keygen "$KF_WORK/kmsd-late")
	kf_start_kmsd --events "$KF_EV_EP" --curve-dir "$KF_WORK/kmsd-late"
	kf_wait_for 15 "CommServe refuses kmsd's key" "" kf_logged commserve \
	    "with key $kkey"
	kf_wait_for 10 "kmsd logs the refusal" "" kf_logged kmsd \
	    "refused this daemon's CURVE key"
	kf_kms_add kms1
	kf_cli_ok pool create kp1 --mediaagent ma1 --kms kms1
	kf_cli_ok --json trace --pool kp1
	kf_assert_eq "$(kf_json 'sorted({e["actor"] for e in j})')" \
	    "['commserve']" "pool kp1's trace while kmsd's key is not trusted"
	cp "$KF_WORK/kmsd-late/curve.pub" "$KF_CURVE_DIR/trust/kmsd-late.pub"
	kf_wait_for 15 "kmsd let in" "" kf_logged kmsd \
	    "accepts this daemon's CURVE key now"
	kf_cli_ok pool create kp2 --mediaagent ma1 --kms kms1
	kms_steps() {
		kf_cli_ok --json trace --pool kp2
		[ "$(kf_json 'sorted({e["step"] for e in j if e["actor"] == "kms"})')" = "[2, 3]" ]
	}
	kf_wait_for 10 "kmsd's steps 2 and 3 in pool kp2's trace" "" kms_steps
	kf_assert_alive kmsd commserve
	kf_log "kmsd's trace events arrive once its key is trusted"
else
	kf_log "SKIP case 6: kmsd is not built"
fi

# ---- 7. what the client-MediaAgent stream carries
# A relay between the client and MediaAgent ma2 (whose advertised data
# endpoint is the relay) writes every byte, both ways, to wire.cap.
ma2_port=$(kf_free_port)
relay_port=$(kf_free_port)
: >"$KF_WORK/wire.cap"
python3 "$KF_SRC_DIR/tests/integration/tcp_relay.py" "$relay_port" \
    "$ma2_port" --record "$KF_WORK/wire.cap" \
    </dev/null >"$KF_WORK/logs/relay.log" 2>&1 &
relay=$!
echo "$relay $(kf_starttime $relay)" >>"$KF_WORK/pids"
kf_wait_for 10 "relay ready" "$relay" grep -q 'relay ready' \
    "$KF_WORK/logs/relay.log"
mkdir -p "$(kf_ma_root ma2)"
kf_spawn mediaagent-ma2 mediaagentd --name ma2 --commserve "$KF_CS_EP" \
    --listen "tcp://127.0.0.1:$ma2_port" \
    --endpoint "tcp://127.0.0.1:$relay_port" --root "$(kf_ma_root ma2)" -v
kf_wait_ready mediaagent-ma2
wname="wire-$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n')"
kf_add_client "$wname" "pw-$wname"
kf_start_client "$wname" "$(kf_pwfile "$wname")"
kf_cli_ok pool create pool2 --mediaagent ma2
marker=$(kf_marker)
src=$KF_WORK/wire-src/$marker
mkdir -p "$src"
kf_random_file "$src/data.bin" $((1024 * 1024))
printf '%s\n' "$marker" >"$src/marker.txt"
kf_backup "$wname" pool2 "$src"
kf_restore "$KF_JOB" "$KF_WORK/wire-out"
kf_treecmp "$src" "$KF_WORK/wire-out$src"
kill "$relay" 2>/dev/null || true
wait "$relay" 2>/dev/null || true
bytes=$(stat -c %s "$KF_WORK/wire.cap")
[ "$bytes" -gt $((2 * 1024 * 1024)) ] ||
    kf_fail "the relay saw only $bytes bytes: the data did not go through it"
grep -qaF CURVE "$KF_WORK/wire.cap" ||
    kf_fail "no CURVE greeting on the client-MediaAgent stream"
for s in Socket-Type DEALER "$wname" "$marker"; do
	if grep -qaF -- "$s" "$KF_WORK/wire.cap"; then
		kf_fail "\"$s\" travelled in plaintext between client and" \
		    "MediaAgent"
	fi
done
kf_log "client-MediaAgent stream: $bytes bytes, CURVE greeting, no" \
    "plaintext metadata, client name or path"
