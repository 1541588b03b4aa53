#!/usr/bin/env bash
# kmsd_pykmip.sh - a KMIP client that no one here wrote, PyKMIP's (Debian
# python3-pykmip), against kmsd at KMIP 1.2, 1.4 and 2.0: create, activate,
# get, encrypt and decrypt (CBC everywhere, GCM from 1.4; the key Get
# returns opens what Encrypt made), locate, get attributes, register,
# revoke, destroy, and the refusals (another identity, a Pre-Active or
# Deactivated key, an Active key destroyed, a destroyed key fetched).
# Then kmsd restarts and still holds every object.
. "$(dirname "$0")/lib.sh"
. "$KF_SRC_DIR/tests/interop/kms_lib.sh"

kms_setup
"$KMS_PY" -c 'import kmip.pie.client' 2>/dev/null ||
    kf_fail "$KMS_PY cannot import kmip: install python3-pykmip"
kms_start kms

for v in 1.2 1.4 2.0; do
	out=$KF_WORK/pykmip-$v.out
	if ! "$KMS_PY" "$KMS_INTEROP/pykmip_client.py" \
	    --port "${KMS_PORT[kms]}" --certs "$KMS_CERTS" --version "$v" \
	    >"$out" 2>&1; then
		cat "$out" >&2
		kf_fail "PyKMIP at KMIP $v"
	fi
	kf_assert_grep "$out" "^PASS: PyKMIP at KMIP $v\$"
	kf_log "PyKMIP at KMIP $v: $(grep -c '^ok:' "$out") checks passed"
done

log=${KF_LOG[kms]}
# One audit line per operation, with the identity and the outcome.
kf_assert_grep "$log" \
    'audit: conn [0-9]+ subject="CN=other,O=keyflow" op=Get uid=[0-9a-f-]{36} result="Permission Denied"'
kf_assert_grep "$log" \
    'audit: conn [0-9]+ subject="CN=commserve,O=keyflow" op=Create uid=[0-9a-f-]{36} result=Success AES-256'
kf_assert_grep "$log" 'TLSv1\.[23] .* as "CN=commserve,O=keyflow"'

# Every object survives a restart; nothing is unreadable.
objects=$(ls "$(kms_store kms)" | grep -c '\.kmo$')
[ "$objects" -ge 9 ] || kf_fail "only $objects objects in the store"
kf_stop kms || kf_fail "kmsd did not stop cleanly on SIGTERM"
kf_assert_grep "$log" 'info: stopped$'
kms_start kms
kf_assert_grep "$log" \
    "store .*: $objects objects loaded, 0 unreadable files skipped"
"$KMS_PY" "$KMS_INTEROP/pykmip_client.py" --port "${KMS_PORT[kms]}" \
    --certs "$KMS_CERTS" --version 1.4 >"$KF_WORK/again.out" 2>&1 || {
	cat "$KF_WORK/again.out" >&2
	kf_fail "PyKMIP after a restart"
}
