#!/bin/sh
#
# make_corpus.sh - regenerate the seed corpora of fuzz_proto, fuzz_wire,
# fuzz_stream and fuzz_container (tests/fuzz/corpus/<name>/) with
# make_corpus.c, from encodings made by keyflow's own code.  The ttlv seeds
# are KMIP test vectors and stay as they are; fuzz_kmsreq's seeds are the
# request messages among them.
#
#   tests/fuzz/make_corpus.sh [BUILD_DIR]
#
# BUILD_DIR (default build-fuzz, or $KF_FUZZ_BUILD_DIR) is configured with
# clang when it does not exist yet; make_corpus is built there.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
BUILD=${1:-${KF_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}}

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	CC=${CC:-clang-14} cmake -S "$ROOT" -B "$BUILD" -G Ninja \
	    -DKF_SANITIZE=ON >/dev/null
fi
ninja -C "$BUILD" make_corpus >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kf-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ASAN_OPTIONS=detect_leaks=1 "$BUILD/tests/fuzz/make_corpus" "$tmp"
for d in proto wire stream container; do
	rm -rf "$ROOT/tests/fuzz/corpus/$d"
	cp -R "$tmp/$d" "$ROOT/tests/fuzz/corpus/$d"
	echo "corpus/$d: $(ls "$tmp/$d" | wc -l) files," \
	    "$(cat "$tmp/$d"/* | wc -c) bytes"
done
rm -rf "$ROOT/tests/fuzz/corpus/kmsreq"
mkdir "$ROOT/tests/fuzz/corpus/kmsreq"
cp "$ROOT"/tests/fuzz/corpus/ttlv/*-req* "$ROOT/tests/fuzz/corpus/kmsreq/"
echo "corpus/kmsreq: $(ls "$ROOT/tests/fuzz/corpus/kmsreq" | wc -l) files"
