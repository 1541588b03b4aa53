#!/usr/bin/env bash
# tamper_container.sh - damage anywhere in a stored container is found and
# never restored as data.  For a backup of many 4 KiB chunks, each of: a
# flipped byte in a frame header, a nonce, the ciphertext, a tag or the
# index (with and without the CRCs forged to match), the container
# truncated or cleanly cut short, two chunks swapped with their headers
# rewritten to match, and a chunk copied in from another job's container:
#   - `keyflow verify` (no keys) reports it whenever the keyless checks can
#     see it, naming the job (and the chunk when one frame is at fault);
#   - `keyflow verify --decrypt` and `keyflow restore` fail with the right
#     code and an error naming the job and the chunk (and the file where
#     the damage lies within one);
#   - the restore target holds no file whose bytes differ from the original
#     and no temporary file; files before the damage may be there, intact.
# An undamaged backup verifies both ways, and the --decrypt check is a
# restore job that wrote nothing.
. "$(dirname "$0")/lib.sh" || exit 1
kf_setup
kf_stack pool1

src=$KF_WORK/src
mkdir -p "$src"
printf 'alpha\n' >"$src/a.txt"
kf_random_file "$src/b.bin" 13000
kf_random_file "$src/c.bin" 30000
printf 'delta\n' >"$src/d.txt"
chunk=3
TAMPER=$KF_SRC_DIR/tests/integration/tamper.py

backup() {
	kf_backup local pool1 "$src" --chunk-size 4096
	kfc=$(find "$(kf_ma_root ma1)" -name "job-$KF_JOB.kfc")
	[ -n "$kfc" ] || kf_fail "no container job-$KF_JOB.kfc on the MediaAgent"
}

# names FILE JOB [CHUNK]: the last output names the job and the chunk.
names() {
	kf_assert_grep "$KF_BOTH" "(^|[^0-9])$2([^0-9]|$)" "the error names job $2"
	if [ -n "${3:-}" ]; then
		kf_assert_grep "$KF_BOTH" "chunk $3([^0-9]|$)" \
		    "the error names chunk $3"
	fi
}

# intact OUT: every file restored under OUT is byte-identical to its
# original, and at least one file is missing (the restore stopped).
intact() {
	local out=$1 f n=0
	while IFS= read -r -d '' f; do
		case "$f" in
		"$out$src"/*) ;;
		*) kf_fail "restore left $f, which is no file of the backup" ;;
		esac
		cmp -s "$f" "${f#"$out"}" ||
		    kf_fail "restored ${f#"$out"} differs from the original"
		n=$((n + 1))
	done < <(find "$out" -type f -print0)
	[ "$n" -lt 4 ] || kf_fail "all 4 files restored from a damaged container"
	kf_log "$n intact files restored before the damage"
}

# tamper_case CODE VCHUNK RCHUNK [--file] TAMPER-ARGS...: back up, damage
# chunk $chunk with tamper.py, then check verify, verify --decrypt and
# restore.  CODE is the error code of the decrypting paths; VCHUNK is what
# keyless verify finds ("ok": nothing, "job": the job without a chunk, or
# a chunk number); RCHUNK is the chunk the restore names ("-": none).
tamper_case() {
	local code=$1 vchunk=$2 rchunk=$3 file=0 bjob out
	shift 3
	if [ "$1" = --file ]; then
		file=1
		shift
	fi
	backup
	bjob=$KF_JOB
	kf_log "case: $* on chunk $chunk of job $bjob"
	python3 "$TAMPER" "$@" "$kfc" "${kfc%.kfc}.kfi" "$chunk" \
	    ${donor:+"$donor" "${donor%.kfc}.kfi"} >/dev/null ||
	    kf_fail "tamper.py $* failed"

	case "$vchunk" in
	ok)
		kf_cli_ok verify "$bjob"
		kf_assert_grep "$KF_OUT" "every frame sound" "keyless verify passes"
		;;
	*)
		kf_cli_fails verify "$bjob"
		kf_assert_grep "$KF_BOTH" "\\(ERR_INTEGRITY\\)$" "verify's code"
		names "$KF_BOTH" "$bjob" "${vchunk#job}"
		;;
	esac

	kf_cli_fails verify "$bjob" --decrypt
	kf_assert_grep "$KF_BOTH" "\\($code\\)$" "verify --decrypt's code"
	names "$KF_BOTH" "$bjob" "${rchunk#-}"

	out=$KF_WORK/out-$bjob
	mkdir "$out"
	kf_cli_fails restore "$bjob" --to "$out"
	kf_assert_grep "$KF_BOTH" "\\($code\\)$" "restore's code"
	names "$KF_BOTH" "$bjob" "${rchunk#-}"
	if [ $file = 1 ]; then
		kf_assert_grep "$KF_BOTH" "restoring ${src#/}/[a-d]\\.(txt|bin)" \
		    "the error names the file"
	fi
	intact "$out"
}

# An undamaged backup verifies both ways; --decrypt writes nothing.
backup
good=$KF_JOB
kf_cli_ok verify "$good"
kf_assert_grep "$KF_OUT" "^backup job $good verified without keys: [0-9]+ chunks" \
    "keyless verify of an intact backup"
nchunks=$(sed -nE 's/.*without keys: ([0-9]+) chunks.*/\1/p' "$KF_OUT")
[ "$nchunks" -ge 10 ] || kf_fail "only $nchunks chunks: use a bigger tree"
kf_cli_ok verify "$good" --decrypt
kf_assert_grep "$KF_OUT" "verified with its key: 5 files, 43012 bytes .*, $nchunks chunks; nothing was written" \
    "verify --decrypt of an intact backup"
vjob=$(kf_job_id)
kf_cli_ok --json job "$vjob"
kf_assert_eq "$(kf_json '(j["type"], j["state"], j["backup_job"])')" \
    "('restore', 'completed', $good)" "the --decrypt job"
kf_cli_fails verify 999999
kf_assert_grep "$KF_BOTH" "\\(ERR_NOT_FOUND\\)$" "verify of no job"
kf_cli verify "$good" --client local
kf_assert_eq "$KF_RC" 2 "--client without --decrypt is a usage error"
donor=""
cp "$kfc" "$KF_WORK/donor.kfc"
cp "${kfc%.kfc}.kfi" "$KF_WORK/donor.kfi"

tamper_case ERR_INTEGRITY $chunk $chunk --file --mode header
tamper_case ERR_INTEGRITY $chunk $chunk --file --mode nonce
tamper_case ERR_CRYPTO $chunk $chunk --file --mode nonce --fix-crc
tamper_case ERR_INTEGRITY $chunk $chunk --file --mode ciphertext
tamper_case ERR_CRYPTO ok $chunk --file --mode ciphertext --fix-crc
tamper_case ERR_INTEGRITY $chunk $chunk --file --mode tag
tamper_case ERR_CRYPTO job $chunk --file --mode tag --fix-crc
# A displaced offset makes the chunk before it the wrong size first.
tamper_case ERR_INTEGRITY "($((chunk - 1))|$chunk)" "($((chunk - 1))|$chunk)" \
    --mode index
tamper_case ERR_INTEGRITY job - --mode truncate
tamper_case ERR_INTEGRITY job $((chunk - 1)) --file --mode cut
tamper_case ERR_CRYPTO job $chunk --file --mode swap --fix-crc
donor=$KF_WORK/donor.kfc
tamper_case ERR_CRYPTO job $chunk --file --mode splice --fix-crc
donor=""

kf_assert_alive commserve mediaagent-ma1 client-local
# Untouched backups still verify and restore.
kf_cli_ok verify "$good"
kf_roundtrip local pool1
