/*
 * fuzz_ttlv.c - libFuzzer target for the KMIP codec (common/kmip/): the
 * streaming length helper, the TTLV decoder, and the request and response
 * parsers, all fed the same bytes.
 *
 * Beyond "no crash, no over-read, no leak" (ASan and UBSan are on), it
 * checks two properties and aborts when either breaks:
 *  - whatever the TTLV decoder accepts re-encodes to exactly the input
 *    (the decoder is strict, so there is one encoding per tree), and a
 *    refusal always comes with a sentence;
 *  - a message that decodes and re-encodes is a fixed point: decoding our
 *    own encoding succeeds and encodes to the same bytes again.
 *
 * Build with clang (tests/fuzz/CMakeLists.txt) and run, e.g.:
 *   ./fuzz_ttlv -max_total_time=60 corpus/ttlv
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Decode as a message, re-encode, and check the re-encoding is stable. */
static void
fuzz_message(const uint8_t *data, size_t size, int response)
{
	struct kmip_err	 err;
	struct kmip_msg	*m = NULL, *m2 = NULL;
	uint8_t		*a = NULL, *b = NULL;
	size_t		 alen, blen;

	memset(&err, 0, sizeof(err));
	if (kmip_msg_decode(data, size, response, NULL, &m, &err) == -1) {
		if (err.msg[0] == '\0' || m != NULL)
			abort();
		return;
	}
	if (kmip_msg_encode(m, &a, &alen, &err) == 0) {
		if (kmip_msg_decode(a, alen, response, NULL, &m2, &err) == -1 ||
		    kmip_msg_encode(m2, &b, &blen, &err) == -1 ||
		    blen != alen || memcmp(a, b, alen) != 0)
			abort();
	}
	free(a);
	free(b);
	kmip_msg_free(&m2);
	kmip_msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmip_err	 err;
	struct ttlv	*t = NULL;
	uint8_t		*out;
	size_t		 olen, need;
	char		*dump;

	memset(&err, 0, sizeof(err));
	if (size >= TTLV_HDR_LEN)
		(void)ttlv_frame_need(data, NULL, &need, &err);
	memset(&err, 0, sizeof(err));
	if (ttlv_decode(data, size, NULL, &t, &err) == 0) {
		if (ttlv_encode(t, &out, &olen, &err) == -1 || olen != size ||
		    memcmp(out, data, size) != 0)
			abort();
		free(out);
		if ((dump = ttlv_dump_string(t)) != NULL)
			free(dump);
		ttlv_free(&t);
	} else if (err.msg[0] == '\0' || t != NULL)
		abort();
	fuzz_message(data, size, 0);
	fuzz_message(data, size, 1);
	return 0;
}
