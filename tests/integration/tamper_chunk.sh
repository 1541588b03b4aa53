#!/usr/bin/env bash
# tamper_chunk.sh - one flipped byte in a stored chunk is caught: by the
# MediaAgent's CRC when the byte simply rotted, by the client's GCM tag
# when an attacker also fixed the CRCs.  Either way the restore fails, the
# error names the job and the chunk, and no file with the damaged content
# is left in the restore directory (not even a partial temporary file).
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

src=$KF_WORK/src
mkdir -p "$src"
printf 'small file\n' >"$src/small.txt"
kf_random_file "$src/big.bin" $((3 * 1024 * 1024 + 12345))
chunk=2

# tamper_and_restore MODE CODE: back up, damage chunk $chunk, restore; the
# restore must fail with CODE.
tamper_and_restore() {
	local mode=$1 code=$2 bjob kfc out
	kf_backup local pool1 "$src"
	bjob=$KF_JOB
	kfc=$(find "$(kf_ma_root ma1)" -name "job-$bjob.kfc")
	[ -n "$kfc" ] || kf_fail "no container job-$bjob.kfc on the MediaAgent"
	python3 "$KF_SRC_DIR/tests/integration/tamper.py" $mode "$kfc" \
	    "${kfc%.kfc}.kfi" "$chunk" >/dev/null || kf_fail "tamper.py failed"

	out=$KF_WORK/out-$bjob
	mkdir "$out"
	kf_cli_fails restore "$bjob" --to "$out"
	kf_assert_grep "$KF_BOTH" "\\($code\\)$" "the error code"
	kf_assert_grep -i "$KF_BOTH" "chunk $chunk([^0-9]|$)" \
	    "the error names chunk $chunk"
	kf_assert_grep "$KF_BOTH" "(^|[^0-9])$bjob([^0-9]|$)" \
	    "the error names job $bjob"
	# Nothing of big.bin under out, whole or in part, by any name.
	if [ -e "$out$src/big.bin" ]; then
		kf_fail "big.bin was restored from a damaged chunk"
	fi
	head -c 4096 "$src/big.bin" >"$KF_WORK/big.head"
	find "$out" -type f -size +4095c | while read -r f; do
		if cmp -s -n 4096 "$f" "$KF_WORK/big.head"; then
			kf_fail "$f holds big.bin's data"
		fi
	done
	kf_cli_ok --json jobs
	kf_assert_eq "$(kf_json '[x["state"] for x in j if x.get("backup_job") == '"$bjob"']')" \
	    "['failed']" "the restore job of $bjob"
}

tamper_and_restore "" ERR_INTEGRITY
tamper_and_restore --fix-crc ERR_CRYPTO
kf_assert_alive commserve mediaagent-ma1 client-local

# Undamaged backups still restore.
kf_roundtrip local pool1
