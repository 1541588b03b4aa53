# kmip_lib.bash - what the KMIP backend suites (kmip_*.sh) share; sourced
# after lib.sh.  Not a suite itself (tests.cmake only runs *.sh).

# kmip_backup_restore POOL: a tree backed up into POOL and restored equal;
# KMIP_SRC is the tree, KMIP_BJOB the backup job, KF_JOB the restore job.
kmip_backup_restore() {
	KMIP_SRC=$KF_WORK/src-$1
	kf_make_tree "$KMIP_SRC" "$(kf_marker)" $((3 * 1024 * 1024)) 50
	kf_backup local "$1" "$KMIP_SRC"
	KMIP_BJOB=$KF_JOB
	kf_restore "$KMIP_BJOB" "$KF_WORK/out-$1"
	kf_treecmp "$KMIP_SRC" "$KF_WORK/out-$1$KMIP_SRC"
}

# kmip_trace_has JSON-EXPR: the last `keyflow --json trace` output (j)
# makes EXPR true.
kmip_trace_has() {
	[ "$(kf_json "$1")" = true ]
}

# kmip_text FLOW STEP [ACTOR]: all that the trace says for one step.
kmip_text() {
	printf '"".join(e["action"] + (e.get("detail") or "") for e in j if e["flow"] == "%s" and e["step"] == %s%s)' \
	    "$1" "$2" "${3:+ and e[\"actor\"] == \"$3\"}"
}

# kmip_kms_down KMS STOP START: with the KMS stopped by command STOP, pool
# creation fails naming KMS and why, and leaves no pool; a restore of
# KMIP_BJOB fails the same way; once START brought the KMS back, the
# restore works.
kmip_kms_down() {
	local kms=$1 before out=$KF_WORK/out-down
	kf_cli_ok --json pool list
	before=$(kf_json '[p["name"] for p in j]')
	$2
	kf_cli_fails pool create down1 --mediaagent ma1 --kms "$kms"
	kf_assert_grep "$KF_ERR" "KMS $kms: KMIP server .*: cannot connect" \
	    "pool create names the KMS and why"
	kf_assert_grep "$KF_ERR" 'ERR_KMS' "pool create fails with ERR_KMS"
	kf_cli_ok --json pool list
	kf_assert_eq "$(kf_json '[p["name"] for p in j]')" "$before" \
	    "no new pool after the failed creation"
	kf_cli_fails restore "$KMIP_BJOB" --to "$out"
	kf_assert_grep "$KF_ERR" "KMS $kms: KMIP server .*: cannot connect" \
	    "restore names the KMS and why"
	$3
	kf_restore "$KMIP_BJOB" "$out"
	kf_treecmp "$KMIP_SRC" "$out$KMIP_SRC"
}
