/*
 * fuzz_proto.c - libFuzzer target for the protobuf-c unpack of every
 * message body keyflow receives: each type in wire.c's table, the step
 * commserved's, mediaagentd's and clientd's dispatchers run on a peer's
 * bytes before any handler sees them.
 *
 * Input: byte 0 is the message type (a MsgType value; one wire.c does not
 * know picks a known one by its rank instead), the rest is the body.  Beyond "no crash, no over-read, no
 * leak", it aborts when an unpacked message fails protobuf-c's own check
 * (a required field missing, a string NULL: what handlers rely on), or
 * when packing it again writes other than the size protobuf-c announced.
 * It does not ask for a round trip to the same bytes: protobuf-c accepts
 * input it will not re-encode (unknown fields, a field number 0, repeated
 * scalars packed or not, a field given twice).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct wire_type	*types[256];
static size_t			 ntypes;

/* Every message type wire.c knows, in the order of the MsgType enum. */
static void
setup(void)
{
	const ProtobufCEnumDescriptor	*d = &kf__msg_type__descriptor;
	const struct wire_type		*t;
	unsigned			 i;

	if (ntypes > 0)
		return;
	for (i = 0; i < d->n_values && ntypes < 256; i++)
		if ((t = wire_type_lookup((uint32_t)d->values[i].value)) !=
		    NULL)
			types[ntypes++] = t;
	if (ntypes == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct wire_type	*t;
	ProtobufCMessage	*m;
	uint8_t			*out;
	size_t			 len;

	if (size < 1)
		return 0;
	setup();
	if ((t = wire_type_lookup(data[0])) == NULL)
		t = types[data[0] % ntypes];
	m = protobuf_c_message_unpack(t->desc, NULL, size - 1, data + 1);
	if (m == NULL)
		return 0;
	if (m->descriptor != t->desc || !protobuf_c_message_check(m))
		abort();
	len = protobuf_c_message_get_packed_size(m);
	if ((out = malloc(len + 1)) == NULL)
		abort();
	if (protobuf_c_message_pack(m, out) != len)
		abort();
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
