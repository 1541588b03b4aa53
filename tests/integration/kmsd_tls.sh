#!/usr/bin/env bash
# kmsd_tls.sh - who may talk to kmsd.  A peer without a client
# certificate, with one from another CA, with an expired one, or speaking
# KMIP in plaintext is refused during the TLS handshake, before any KMIP is
# parsed, and kmsd says why in its log; a client of the right CA is served,
# also when it offers only the AES-CBC-SHA256 suite of PyKMIP-era peers.
# Then the configuration checks: --help, missing or bad files, an
# encrypted server key, a root key others can read.
. "$(dirname "$0")/lib.sh"
. "$KF_SRC_DIR/tests/interop/kms_lib.sh"

kms_setup
kms_start kms
log=${KF_LOG[kms]}

kms_cases kms good tls-no-cert tls-rogue tls-expired tls-plaintext \
    tls-cbc-suite good
kf_assert_grep "$log" 'TLS handshake failed: .*peer did not return a certificate'
kf_assert_grep "$log" 'refused: the client certificate does not verify \(unable to get local issuer certificate\)'
kf_assert_grep "$log" 'refused: the client certificate does not verify \(certificate has expired\)'
kf_assert_grep "$log" 'TLS handshake failed: .*(wrong version number|http request)'
kf_assert_grep "$log" 'TLSv1\.2 AES128-SHA256 as "CN=commserve,O=keyflow"'
# No refused peer got as far as an audited KMIP operation.
audited=$(grep -c 'audit: ' "$log" || true)
[ "$audited" -eq 3 ] ||
    kf_fail "expected 3 audited operations (the good clients), got $audited"
kf_assert_alive kms

# ---------------------------------------------------------- configuration
kmsd=$(kf_bin kmsd)
c=$KMS_CERTS
"$kmsd" --help >"$KF_WORK/help" 2>&1 || kf_fail "kmsd --help failed"
kf_assert_grep "$KF_WORK/help" '^usage: kmsd '
for flag in --listen --ca --cert --key --store --root-key --events \
    --max-message --max-connections --idle-timeout KEYFLOW_KMS_LISTEN \
    KEYFLOW_KMS_CA KEYFLOW_KMS_SERVER_CERT KEYFLOW_KMS_SERVER_KEY \
    KEYFLOW_KMS_STORE KEYFLOW_KMS_ROOT_KEY KEYFLOW_EVENTS; do
	grep -q -- "$flag" "$KF_WORK/help" || kf_fail "--help omits $flag"
done

# config_fails PATTERN ARGS...: kmsd -n must exit 1 saying PATTERN.
config_fails() {
	local pat=$1 rc=0
	shift
	timeout 20 "$kmsd" -n "$@" </dev/null >"$KF_WORK/n.out" 2>&1 || rc=$?
	[ $rc -eq 1 ] || {
		cat "$KF_WORK/n.out" >&2
		kf_fail "kmsd -n $* exited $rc, not 1"
	}
	kf_assert_grep "$KF_WORK/n.out" "$pat"
	kf_log "refused as it should: $(tail -n 1 "$KF_WORK/n.out")"
}

tls=(--ca "$c/ca.pem" --cert "$c/server.pem" --key "$c/server.key")
store=(--store "$KF_WORK/n.store")
"$kmsd" -n "${tls[@]}" "${store[@]}" >"$KF_WORK/n.out" 2>&1 ||
    kf_fail "kmsd -n refused a good configuration: $(cat "$KF_WORK/n.out")"
kf_assert_grep "$KF_WORK/n.out" 'configuration OK'
[ ! -e "$KF_WORK/n.store" ] || kf_fail "kmsd -n created the store"
config_fails 'needs --ca, --cert and --key' "${store[@]}"
config_fails 'is not HOST:PORT' "${tls[@]}" "${store[@]}" --listen nowhere
config_fails '--ca /nonexistent is not a readable file' --ca /nonexistent \
    --cert "$c/server.pem" --key "$c/server.key" "${store[@]}"
config_fails 'does not belong to the certificate' --ca "$c/ca.pem" \
    --cert "$c/server.pem" --key "$c/other.key" "${store[@]}"
config_fails '--max-message "1" is not a size' "${tls[@]}" "${store[@]}" \
    --max-message 1
config_fails '--events "nowhere" is not a ZeroMQ endpoint' "${tls[@]}" \
    "${store[@]}" --events nowhere
KEYFLOW_KMS_LISTEN=bad: config_fails 'is not HOST:PORT' "${tls[@]}" \
    "${store[@]}"
# An encrypted key must fail at once, never prompt for a passphrase.
openssl pkey -in "$c/server.key" -aes256 -passout pass:secret \
    -out "$KF_WORK/enc.key" 2>/dev/null
config_fails 'cannot load an unencrypted PEM private key' --ca "$c/ca.pem" \
    --cert "$c/server.pem" --key "$KF_WORK/enc.key" "${store[@]}"
# A root key that group or others can read is refused.
head -c 32 /dev/urandom >"$KF_WORK/loose.key"
chmod 0644 "$KF_WORK/loose.key"
config_fails 'group and others must have no access' "${tls[@]}" \
    "${store[@]}" --root-key "$KF_WORK/loose.key"
head -c 31 /dev/urandom >"$KF_WORK/short.key"
chmod 0600 "$KF_WORK/short.key"
config_fails 'holds 31 bytes, not 32' "${tls[@]}" "${store[@]}" \
    --root-key "$KF_WORK/short.key"
