#!/usr/bin/env bash
# kmip_kmsd.sh - CommServe's KMIP backend against kmsd, keyflow's own KMIP
# server, with the Client Correlation Value on: the storage pool's master
# key is created, activated and used to encrypt the KEK on kmsd (seed pool
# steps 2-3), a backup and a restore that Gets it back (restore step 2) run
# byte for byte, and `keyflow trace` shows kmsd's own steps next to
# CommServe's, joined by the trace id kmsd read from the correlation value.
# Certificates kmsd must refuse (another CA's, an expired one) are refused
# with a sentence.  With kmsd stopped, pool creation fails clearly and
# leaves no pool, a restore fails clearly, and works once kmsd is back.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/kmip_lib.bash" || exit 1

kf_need_kmsd
kf_setup

# kmsd traces its steps; a restart keeps its address, store and certificates.
kms_start() {
	kf_start_kmsd --events "$KF_EV_EP"
}

kms_stop() {
	kf_stop kmsd || kf_fail "kmsd did not stop cleanly"
}

kf_stack
kms_start

# ---- certificates kmsd refuses, each refusal a sentence.
kf_cli_fails kms add kms1 --kmip "$KF_KMS_ADDR" --ca "$KF_CERTS/ca.pem" \
    --cert "$KF_CERTS/rogue.pem" --key "$KF_CERTS/rogue.key"
kf_assert_grep "$KF_ERR" 'KMS kms1 not added: KMIP server .*: the server refused our client certificate \(.*unknown ca\)' \
    "another CA's certificate: refused, naming the server and why"
kf_cli_fails kms add kms1 --kmip "$KF_KMS_ADDR" --ca "$KF_CERTS/ca.pem" \
    --cert "$KF_CERTS/expired.pem" --key "$KF_CERTS/expired.key"
kf_assert_grep "$KF_ERR" 'KMS kms1 not added: KMIP server .*: the server refused our client certificate \(.*certificate expired\)' \
    "an expired certificate: refused, naming the server and why"
kf_cli_fails kms add kms1 --kmip "localhost:1" --ca "$KF_CERTS/ca.pem" \
    --cert "$KF_CERTS/commserve.pem" --key "$KF_CERTS/commserve.key"
kf_assert_grep "$KF_ERR" 'cannot connect' "nothing listening"

kf_kms_add kms1
kf_assert_grep "$KF_OUT" 'KMIP 2\.0; Client Correlation Value sent' \
    "kmsd negotiates KMIP 2.0 and takes the correlation value"
kf_cli_ok --json kms list
kf_assert_eq "$(kf_json '[(k["name"], k.get("address"), k.get("send_correlation")) for k in j if k["kind"] == "kmip"]')" \
    "[('kms1', '$KF_KMS_ADDR', True)]" "kms list shows kmsd"

# ---- seed pool creation on kmsd; kmsd's own steps join the trace.
kf_cli_ok --json pool create p1 --mediaagent ma1 --kms kms1
uid=$(kf_json 'j["master_key_id"]')
ks=$(kf_json 'j["key_set_id"]')
row=$(kf_psql -d "$KF_DB" -At -c "SELECT kek_mode, length(kek_ct), \
    length(kek_tag) > 0, scrambled_mk IS NULL FROM key_sets \
    WHERE id = $ks")
kf_assert_eq "$row" "GCM|32|t|t" "key set row (mode|ct|tag|no mk)"
pool_trace_complete() {
	kf_cli_ok --json trace --pool p1
	kmip_trace_has '{(e["step"], e["actor"]) for e in j} >= {(1, "commserve"), (2, "commserve"), (2, "kms"), (3, "commserve"), (3, "kms"), (4, "commserve")}'
}
kf_wait_for 15 "kmsd's pool steps in the trace" "" pool_trace_complete
kf_assert_eq "$(kf_json "'$uid' in $(kmip_text pool 2 kms)")" true \
    "kmsd's step 2 names the key it created"
kf_assert_eq "$(kf_json "'Encrypt' in $(kmip_text pool 3 commserve)")" \
    true "CommServe's step 3 is a KMIP Encrypt"
kf_cli_ok trace --pool p1
sed 's/^/    /' "$KF_OUT" >&2

# ---- backup and restore; restore step 2 is served by kmsd, traced by it.
kmip_backup_restore p1
rjob=$KF_JOB
restore_trace_complete() {
	kf_cli_ok --json trace "$rjob"
	kmip_trace_has '{(e["step"], e["actor"]) for e in j if e["flow"] == "restore"} >= {(2, "commserve"), (2, "kms")}'
}
kf_wait_for 15 "kmsd's restore step in the trace" "" restore_trace_complete
kf_assert_eq "$(kf_json "'$uid' in $(kmip_text restore 2 kms)")" true \
    "kmsd's restore step 2 names the master key"

# ---- kmsd down, and back (its store keeps the key).
kmip_kms_down kms1 kms_stop kms_start
kf_roundtrip local p1
