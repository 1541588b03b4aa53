#!/usr/bin/env bash
# kmip_pykmip_server.sh - CommServe's KMIP backend against a KMIP server no
# one here wrote: PyKMIP's (Debian python3-pykmip).  A storage pool whose
# master key lives on PyKMIP (seed pool steps 2-3 as KMIP Create, Activate
# and Encrypt), a backup, and a restore that Gets the master key back (seed
# restore step 2), byte for byte.  PyKMIP's own client then confirms the key
# is an Active AES-256 key named after the pool.  Refusals a user would hit
# are checked too: a correlation value PyKMIP rejects, an encrypted client
# key, a CA that does not sign the server.  With PyKMIP stopped, pool
# creation fails with a clear error and leaves no pool, and a restore fails
# clearly, then works once PyKMIP is back.  A connection dropped before
# step 3 leaves no key behind on the KMS either.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/kmip_lib.bash" || exit 1

PY=/usr/bin/python3
if ! "$PY" -c 'import kmip.services.server' 2>/dev/null; then
	kf_log "SKIP: PyKMIP (python3-pykmip) is not installed"
	exit 77
fi
kf_setup

PK_DIR=$KF_WORK/pykmip
PK_PORT=$(kf_free_port)
PK_PID=""
PK_LOG=$KF_WORK/logs/pykmip.log

# pk_start: PyKMIP's server on PK_PORT, its objects in PK_DIR/db.sqlite
# (kept across restarts).  It is stopped with SIGINT (on SIGTERM it waits
# for its accept timeout), so it is managed here, not by kf_spawn.
pk_start() {
	mkdir -p "$PK_DIR/policies"
	cat >"$PK_DIR/server.conf" <<-EOF
	[server]
	hostname=127.0.0.1
	port=$PK_PORT
	certificate_path=$KF_CERTS/server.pem
	key_path=$KF_CERTS/server.key
	ca_path=$KF_CERTS/ca.pem
	auth_suite=TLS1.2
	policy_path=$PK_DIR/policies
	enable_tls_client_auth=True
	logging_level=INFO
	database_path=$PK_DIR/db.sqlite
	EOF
	local before
	before=$(pk_starts)
	setsid "$PY" /usr/bin/pykmip-server -f "$PK_DIR/server.conf" \
	    -l "$PK_LOG" </dev/null >>"$PK_LOG" 2>&1 &
	PK_PID=$!
	echo "$PK_PID $(kf_starttime "$PK_PID")" >>"$KF_WORK/pids"
	kf_wait_for 30 "PyKMIP server ready" "$PK_PID" pk_started "$before"
	kf_log "PyKMIP server on 127.0.0.1:$PK_PORT (pid $PK_PID)"
}

# pk_starts: how many times PyKMIP's log says it started serving.
pk_starts() {
	local n
	n=$(grep -c 'Starting connection service' "$PK_LOG" 2>/dev/null) ||
	    true
	echo "${n:-0}"
}

pk_started() {
	[ "$(pk_starts)" -gt "$1" ]
}

pk_stop() {
	local i=0
	[ -n "$PK_PID" ] || return 0
	kill -INT "$PK_PID" 2>/dev/null || true
	while kf_alive "$PK_PID" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kf_alive "$PK_PID" && kill -KILL "$PK_PID" 2>/dev/null
	wait "$PK_PID" 2>/dev/null || true
	PK_PID=""
}

# On exit: PyKMIP first (its log with the others on failure), then lib.sh.
pk_exit() {
	local rc=$?
	pk_stop
	if [ $rc -ne 0 ] && [ -s "$PK_LOG" ]; then
		printf '\n---- PyKMIP server (%s), last 30 lines ----\n' \
		    "$PK_LOG" >&2
		grep -v '^\s' "$PK_LOG" | tail -n 30 >&2
	fi
	(exit $rc)
	kf_exit
}
trap pk_exit EXIT

# pk_client PYTHON: run PYTHON with c, a PyKMIP client (KMIP 1.2) logged in
# with CommServe's certificate (PyKMIP objects belong to the CN that made
# them).
pk_client() {
	"$PY" - "$PK_PORT" "$KF_CERTS" "$1" <<'PY'
import sys
from kmip.core import enums
from kmip.pie.client import ProxyKmipClient
port, certs, code = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = ProxyKmipClient(hostname="127.0.0.1", port=port,
                    cert=certs + "/commserve.pem", key=certs + "/commserve.key",
                    ca=certs + "/ca.pem", config_file="/dev/null",
                    kmip_version=enums.KMIPVersion.KMIP_1_2)
with c:
    exec(code)
PY
}

# pk_attrs UID: "State Length Name" of a key as PyKMIP's client sees it.
pk_attrs() {
	pk_client "
uid, attrs = c.get_attributes('$1', ['State', 'Cryptographic Length',
                                     'Cryptographic Algorithm', 'Name'])
v = {a.attribute_name.value: a.attribute_value for a in attrs}
print(v['State'].value.name, v['Cryptographic Algorithm'].value.name,
      v['Cryptographic Length'].value, v['Name'].name_value.value)"
}

# ca.pem, server.pem (127.0.0.1), commserve.pem (CN commserve), rogue-ca.pem.
kf_certs
kf_stack
pk_start
ADDR=127.0.0.1:$PK_PORT

# ---- registering the KMS: refusals first, each with its reason.
# PyKMIP refuses a request header with a Client Correlation Value, and kms
# add finds out before storing anything.
kf_cli_fails kms add pykmip --kmip "$ADDR" --ca "$KF_CERTS/ca.pem" \
    --cert "$KF_CERTS/commserve.pem" --key "$KF_CERTS/commserve.key"
kf_assert_grep "$KF_ERR" 'no-correlation' \
    "kms add suggests --no-correlation for PyKMIP"
# An encrypted client key (the seed: "the certificate used must not be
# encrypted").
openssl pkey -in "$KF_CERTS/commserve.key" -aes256 -passout pass:secret \
    -out "$KF_WORK/commserve-enc.key" 2>/dev/null || kf_fail "openssl pkey"
kf_cli_fails kms add pykmip --kmip "$ADDR" --ca "$KF_CERTS/ca.pem" \
    --cert "$KF_CERTS/commserve.pem" --key "$KF_WORK/commserve-enc.key" \
    --no-correlation
kf_assert_grep "$KF_ERR" 'is encrypted' "encrypted key named as such"
# A CA that did not sign the server's certificate.
kf_cli_fails kms add pykmip --kmip "$ADDR" --ca "$KF_CERTS/rogue-ca.pem" \
    --cert "$KF_CERTS/commserve.pem" --key "$KF_CERTS/commserve.key" \
    --no-correlation
kf_assert_grep "$KF_ERR" 'does not verify' "untrusted server certificate"
# A file commserved cannot read.
kf_cli_fails kms add pykmip --kmip "$ADDR" --ca "$KF_CERTS/nope.pem" \
    --cert "$KF_CERTS/commserve.pem" --key "$KF_CERTS/commserve.key" \
    --no-correlation
kf_assert_grep "$KF_ERR" 'cannot read' "unreadable CA file"
kf_cli_ok --json kms list
kf_assert_eq "$(kf_json '[k["name"] for k in j]')" "['builtin']" \
    "no KMS stored by the refused adds"

kf_kms_add pykmip "$ADDR" --no-correlation
kf_assert_grep "$KF_OUT" 'KMIP 2\.0' "PyKMIP 0.10 negotiates KMIP 2.0"
kf_cli_ok --json kms list
kf_assert_eq "$(kf_json '[(k["name"], k.get("address"), k.get("send_correlation")) for k in j if k["kind"] == "kmip"]')" \
    "[('pykmip', '$ADDR', False)]" "kms list shows PyKMIP"
kf_cli_ok kms list
kf_assert_grep "$KF_OUT" "pykmip +kmip +$ADDR +not sent" "kms list table"

# ---- seed pool creation with the master key on PyKMIP.
kf_cli_ok --json pool create p1 --mediaagent ma1 --kms pykmip
kf_assert_eq "$(kf_json 'j["kms"]')" pykmip "pool p1's KMS"
uid=$(kf_json 'j["master_key_id"]')
ks=$(kf_json 'j["key_set_id"]')
[ -n "$uid" ] || kf_fail "no master key id"
kf_assert_eq "$(pk_attrs "$uid")" \
    "ACTIVE AES 256 keyflow storage pool p1 master key" \
    "the master key as PyKMIP's own client sees it"
# What CommServe stored: GCM (KMIP 2.0), PyKMIP's 16-byte IV, the tag.
row=$(kf_psql -d "$KF_DB" -At -c "SELECT kek_mode, length(kek_ct), \
    length(kek_iv), length(kek_tag), scrambled_mk IS NULL \
    FROM key_sets WHERE id = $ks")
kf_assert_eq "$row" "GCM|32|16|16|t" "key set row (mode|ct|iv|tag|no mk)"
kf_cli_ok trace --pool p1
sed 's/^/    /' "$KF_OUT" >&2
kf_cli_ok --json trace --pool p1
kf_assert_eq "$(kf_json 'sorted(e["step"] for e in j)')" "[1, 2, 3, 4]" \
    "traced pool steps"
kf_assert_eq "$(kf_json '[e["actor"] for e in j if e["step"] in (2, 3)]')" \
    "['commserve', 'commserve']" "steps 2-3 traced by CommServe itself"
t2=$(kmip_text pool 2)
t3=$(kmip_text pool 3)
kf_assert_eq "$(kf_json "all(w in $t2 for w in ('Create', 'Activate', '$uid'))")" \
    true "step 2 names Create, Activate and the key"
kf_assert_eq "$(kf_json "all(w in $t3 for w in ('Encrypt', 'GCM'))")" \
    true "step 3 names Encrypt and GCM"

# ---- backup and restore through the KMIP master key.
kmip_backup_restore p1
kf_cli_ok --json trace "$KF_JOB"
kf_assert_eq "$(kf_json "'KMIP Get' in $(kmip_text restore 2)")" true \
    "restore step 2 is a KMIP Get"

# ---- PyKMIP down, and back (its sqlite store keeps the key).
kmip_kms_down pykmip pk_stop pk_start

# ---- a connection that fails between step 2 and step 3: nothing stays.
# KMS pkrelay reaches PyKMIP through a TCP relay that passes connection 1
# (kms add), 2 (step 2: Discover Versions, Create, Activate) and 4 on (the
# cleanup), and drops connection 3 (step 3's Encrypt) on accept.
RELAY_PORT=$(kf_free_port)
"$PY" "$KF_SRC_DIR/tests/integration/tcp_relay.py" "$RELAY_PORT" "$PK_PORT" \
    --drop 3 </dev/null >"$KF_WORK/logs/relay.log" 2>&1 &
RELAY_PID=$!
echo "$RELAY_PID $(kf_starttime "$RELAY_PID")" >>"$KF_WORK/pids"
kf_wait_for 10 "relay ready" "$RELAY_PID" grep -q 'relay ready' \
    "$KF_WORK/logs/relay.log"
kf_kms_add pkrelay "127.0.0.1:$RELAY_PORT" --no-correlation
kf_cli_fails pool create p3 --mediaagent ma1 --kms pkrelay
kill "$RELAY_PID" 2>/dev/null || true
wait "$RELAY_PID" 2>/dev/null || true
kf_assert_grep "$KF_WORK/logs/relay.log" 'dropping connection 3' \
    "the relay dropped step 3's connection"
kf_assert_grep "$KF_ERR" 'KMS pkrelay: .*was revoked and destroyed on the KMS' \
    "the step 2 key was removed again"
left=$(sed -n 's/.*master key \([^ ]*\) was revoked.*/\1/p' "$KF_ERR")
[ -n "$left" ] || kf_fail "no master key id in the error"
pk_client "
try:
    c.get('$left')
except Exception as e:
    print('gone:', e)
else:
    print('still there')" >"$KF_WORK/left.out" 2>&1
kf_assert_grep "$KF_WORK/left.out" '^gone:' "key $left is gone from PyKMIP"
kf_cli_ok --json pool list
kf_assert_eq "$(kf_json '[p["name"] for p in j]')" "['p1']" \
    "no pool p3 after the failed creation"

# The stack still serves.
kf_roundtrip local p1
