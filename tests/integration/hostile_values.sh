#!/usr/bin/env bash
# hostile_values.sh - well-formed messages with absurd values (relative
# paths, "..", 64 KiB names, a NUL inside a string, 2^63 and 2^64-1 ids,
# 10,000 paths, forged tokens, wrong nonce and proof lengths) are each
# answered by CommServe and the MediaAgent with ERROR and a sensible code;
# both keep serving, and a backup and restore succeed afterwards.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

# A finished backup and restore for the cases that name a real job.
kf_roundtrip local pool1

# kf_group ENDPOINT GROUP [ARGS...]: every case of the group must pass.
kf_group() {
	local out
	out=$("$(kf_bin kf-poke)" --endpoint "$1" --group "$2" --timeout 5000 \
	    "${@:3}" 2>&1) || { printf '%s\n' "$out" >&2
	    kf_fail "kf-poke --group $2 at $1 failed"; }
	kf_log "$out"
}

kf_group "$KF_CS_EP" cs
# Job cases: the finished backup, the restore, and a job that never was.
for job in "$KF_BJOB" "$KF_RJOB" 999999; do
	kf_poke "$KF_CS_EP" cg-token --job "$job"
	kf_poke "$KF_CS_EP" done-token --job "$job"
	kf_poke "$KF_CS_EP" fail-token --job "$job"
	kf_poke "$KF_CS_EP" fail-no-token --job "$job"
	kf_poke "$KF_CS_EP" batch-absurd --job "$job"
	kf_poke "$KF_CS_EP" progress-token --job "$job"
	kf_poke "$KF_CS_EP" hello-then-done --job "$job"
done
kf_poke "$KF_CS_EP" rs-of-job --job "$KF_RJOB"
kf_poke "$KF_CS_EP" rs-relative --job "$KF_BJOB"
for job in "$KF_BJOB" "$KF_RJOB" 999999; do
	kf_group "${KF_MA_EP[ma1]}" ma --job "$job"
done
kf_assert_alive commserve mediaagent-ma1 client-local

# Nothing was created by the refused requests.
kf_cli_ok --json pool list
kf_assert_eq "$(kf_json '[p["name"] for p in j]')" "['pool1']" \
    "only pool1 exists"
kf_cli_ok --json jobs
kf_assert_eq "$(kf_json 'len(j)')" 2 "only the two real jobs exist"
# The client the NUL-cut names pointed at is still registered and serves.
kf_cli_ok --json client list
kf_assert_eq "$(kf_json '[c["connected"] for c in j]')" "[True]" \
    "client local still connected"
kf_roundtrip local pool1
kf_assert_alive commserve mediaagent-ma1 client-local
