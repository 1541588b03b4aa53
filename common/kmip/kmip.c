/*
 * kmip.c - KMIP names and version rules: tag, operation and result reason
 * names for error sentences and dumps, the protocol version that introduced
 * each operation and result reason (so nothing newer than a message's
 * version is sent), the mapping of 2.0 result reasons onto 1.x ones, and
 * small copy helpers for the message structs.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "kmip.h"

/* A number and its name in the specification. */
struct name {
	uint32_t	 v;		/* tag or enumeration value */
	const char	*s;		/* the specification's name */
};

static const struct name tag_names[] = {
	{ 0x420001, "Activation Date" },
	{ 0x420004, "Application Specific Information" },
	{ 0x420006, "Asynchronous Correlation Value" },
	{ 0x420007, "Asynchronous Indicator" },
	{ 0x420008, "Attribute" },
	{ 0x420009, "Attribute Index" },
	{ 0x42000A, "Attribute Name" },
	{ 0x42000B, "Attribute Value" },
	{ 0x42000C, "Authentication" },
	{ 0x42000D, "Batch Count" },
	{ 0x42000E, "Batch Error Continuation Option" },
	{ 0x42000F, "Batch Item" },
	{ 0x420010, "Batch Order Option" },
	{ 0x420011, "Block Cipher Mode" },
	{ 0x420020, "Compromise Date" },
	{ 0x420021, "Compromise Occurrence Date" },
	{ 0x420023, "Credential" },
	{ 0x420024, "Credential Type" },
	{ 0x420025, "Credential Value" },
	{ 0x420028, "Cryptographic Algorithm" },
	{ 0x42002A, "Cryptographic Length" },
	{ 0x42002B, "Cryptographic Parameters" },
	{ 0x42002C, "Cryptographic Usage Mask" },
	{ 0x42002D, "Custom Attribute" },
	{ 0x42002F, "Deactivation Date" },
	{ 0x420033, "Destroy Date" },
	{ 0x420036, "Encryption Key Information" },
	{ 0x420038, "Hashing Algorithm" },
	{ 0x420039, "Initial Date" },
	{ 0x42003D, "IV/Counter/Nonce" },
	{ 0x42003F, "Key" },
	{ 0x420040, "Key Block" },
	{ 0x420041, "Key Compression Type" },
	{ 0x420042, "Key Format Type" },
	{ 0x420043, "Key Material" },
	{ 0x420045, "Key Value" },
	{ 0x420046, "Key Wrapping Data" },
	{ 0x420047, "Key Wrapping Specification" },
	{ 0x420048, "Last Change Date" },
	{ 0x42004A, "Link" },
	{ 0x42004F, "Maximum Items" },
	{ 0x420050, "Maximum Response Size" },
	{ 0x420051, "Message Extension" },
	{ 0x420053, "Name" },
	{ 0x420054, "Name Type" },
	{ 0x420055, "Name Value" },
	{ 0x420056, "Object Group" },
	{ 0x420057, "Object Type" },
	{ 0x42005C, "Operation" },
	{ 0x42005D, "Operation Policy Name" },
	{ 0x42005F, "Padding Method" },
	{ 0x420069, "Protocol Version" },
	{ 0x42006A, "Protocol Version Major" },
	{ 0x42006B, "Protocol Version Minor" },
	{ 0x420074, "Query Function" },
	{ 0x420077, "Request Header" },
	{ 0x420078, "Request Message" },
	{ 0x420079, "Request Payload" },
	{ 0x42007A, "Response Header" },
	{ 0x42007B, "Response Message" },
	{ 0x42007C, "Response Payload" },
	{ 0x42007D, "Result Message" },
	{ 0x42007E, "Result Reason" },
	{ 0x42007F, "Result Status" },
	{ 0x420080, "Revocation Message" },
	{ 0x420081, "Revocation Reason" },
	{ 0x420082, "Revocation Reason Code" },
	{ 0x420083, "Key Role Type" },
	{ 0x420088, "Server Information" },
	{ 0x42008D, "State" },
	{ 0x42008E, "Storage Status Mask" },
	{ 0x42008F, "Symmetric Key" },
	{ 0x420090, "Template" },
	{ 0x420091, "Template-Attribute" },
	{ 0x420092, "Time Stamp" },
	{ 0x420093, "Unique Batch Item ID" },
	{ 0x420094, "Unique Identifier" },
	{ 0x420099, "Username" },
	{ 0x42009D, "Vendor Identification" },
	{ 0x42009E, "Wrapping Method" },
	{ 0x4200A1, "Password" },
	{ 0x4200A8, "Fresh" },
	{ 0x4200AC, "Object Group Member" },
	{ 0x4200AE, "Digital Signature Algorithm" },
	{ 0x4200BC, "Original Creation Date" },
	{ 0x4200C2, "Data" },
	{ 0x4200C5, "Random IV" },
	{ 0x4200C7, "Attestation Type" },
	{ 0x4200C8, "Nonce" },
	{ 0x4200CD, "IV Length" },
	{ 0x4200CE, "Tag Length" },
	{ 0x4200CF, "Fixed Field Length" },
	{ 0x4200D0, "Counter Length" },
	{ 0x4200D1, "Initial Counter Value" },
	{ 0x4200D2, "Invocation Field Length" },
	{ 0x4200D3, "Attestation Capable Indicator" },
	{ 0x4200D4, "Offset Items" },
	{ 0x4200D5, "Located Items" },
	{ 0x4200D6, "Correlation Value" },
	{ 0x4200D7, "Init Indicator" },
	{ 0x4200D8, "Final Indicator" },
	{ 0x4200FE, "Authenticated Encryption Additional Data" },
	{ 0x4200FF, "Authenticated Encryption Tag" },
	{ 0x420105, "Client Correlation Value" },
	{ 0x420106, "Server Correlation Value" },
	{ 0x420125, "Attributes" },
	{ 0x42013B, "Attribute Reference" },
	{ 0x420154, "Ephemeral" },
	{ 0x420155, "Server Hashed Password" },
	{ 0x42015F, "Protection Storage Masks" },
};

static const struct name op_names[] = {
	{ 0x01, "Create" }, { 0x02, "Create Key Pair" }, { 0x03, "Register" },
	{ 0x04, "Re-key" }, { 0x05, "Derive Key" }, { 0x06, "Certify" },
	{ 0x07, "Re-certify" }, { 0x08, "Locate" }, { 0x09, "Check" },
	{ 0x0A, "Get" }, { 0x0B, "Get Attributes" },
	{ 0x0C, "Get Attribute List" }, { 0x0D, "Add Attribute" },
	{ 0x0E, "Modify Attribute" }, { 0x0F, "Delete Attribute" },
	{ 0x10, "Obtain Lease" }, { 0x11, "Get Usage Allocation" },
	{ 0x12, "Activate" }, { 0x13, "Revoke" }, { 0x14, "Destroy" },
	{ 0x15, "Archive" }, { 0x16, "Recover" }, { 0x17, "Validate" },
	{ 0x18, "Query" }, { 0x19, "Cancel" }, { 0x1A, "Poll" },
	{ 0x1B, "Notify" }, { 0x1C, "Put" }, { 0x1D, "Re-key Key Pair" },
	{ 0x1E, "Discover Versions" }, { 0x1F, "Encrypt" },
	{ 0x20, "Decrypt" }, { 0x21, "Sign" }, { 0x22, "Signature Verify" },
	{ 0x23, "MAC" }, { 0x24, "MAC Verify" }, { 0x25, "RNG Retrieve" },
	{ 0x26, "RNG Seed" }, { 0x27, "Hash" }, { 0x28, "Create Split Key" },
	{ 0x29, "Join Split Key" }, { 0x2A, "Import" }, { 0x2B, "Export" },
};

static const struct name reason_names[] = {
	{ 0x01, "Item Not Found" }, { 0x02, "Response Too Large" },
	{ 0x03, "Authentication Not Successful" },
	{ 0x04, "Invalid Message" }, { 0x05, "Operation Not Supported" },
	{ 0x06, "Missing Data" }, { 0x07, "Invalid Field" },
	{ 0x08, "Feature Not Supported" },
	{ 0x09, "Operation Canceled By Requester" },
	{ 0x0A, "Cryptographic Failure" }, { 0x0B, "Illegal Operation" },
	{ 0x0C, "Permission Denied" }, { 0x0D, "Object Archived" },
	{ 0x0E, "Index Out of Bounds" },
	{ 0x0F, "Application Namespace Not Supported" },
	{ 0x10, "Key Format Type Not Supported" },
	{ 0x11, "Key Compression Type Not Supported" },
	{ 0x12, "Encoding Option Error" }, { 0x13, "Key Value Not Present" },
	{ 0x14, "Attestation Required" }, { 0x15, "Attestation Failed" },
	{ 0x16, "Sensitive" }, { 0x17, "Not Extractable" },
	{ 0x18, "Object Already Exists" },
	{ 0x24, "Bad Cryptographic Parameters" },
	{ 0x36, "Object Destroyed" }, { 0x37, "Object Not Found" },
	{ 0x39, "Not Authorised" },
	{ 0x3F, "Unsupported Protocol Version" },
	{ 0x43, "Wrong Key Lifecycle State" },
	{ 0x100, "General Failure" },
};

static const struct name objtype_names[] = {
	{ 0x01, "Certificate" }, { 0x02, "Symmetric Key" },
	{ 0x03, "Public Key" }, { 0x04, "Private Key" }, { 0x05, "Split Key" },
	{ 0x06, "Template" }, { 0x07, "Secret Data" },
	{ 0x08, "Opaque Object" }, { 0x09, "PGP Key" },
	{ 0x0A, "Certificate Request" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *
lookup(const struct name *t, size_t n, uint32_t v)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].s;
	return NULL;
}

const char *
ttlv_tag_name(uint32_t tag)
{
	return lookup(tag_names, NELEM(tag_names), tag);
}

const char *
kmip_op_name(uint32_t op)
{
	const char	*s = lookup(op_names, NELEM(op_names), op);

	return s ? s : "unknown";
}

const char *
kmip_objtype_name(uint32_t type)
{
	const char	*s = lookup(objtype_names, NELEM(objtype_names), type);

	return s ? s : "unknown";
}

const char *
kmip_reason_name(uint32_t reason)
{
	const char	*s = lookup(reason_names, NELEM(reason_names), reason);

	return s ? s : "unknown";
}

const char *
kmip_ver_str(uint32_t version, char *buf, size_t cap)
{
	snprintf(buf, cap, "%d.%d", KMIP_VER_MAJOR(version),
	    KMIP_VER_MINOR(version));
	return buf;
}

uint32_t
kmip_op_version(uint32_t op)
{
	if (op >= 0x01 && op <= 0x1C)
		return KMIP_1_0;
	if (op == 0x1D || op == 0x1E)
		return KMIP_1_1;
	if (op >= 0x1F && op <= 0x29)
		return KMIP_1_2;
	if (op == 0x2A || op == 0x2B)
		return KMIP_1_4;
	return KMIP_2_0;
}

uint32_t
kmip_reason_version(uint32_t reason)
{
	if ((reason >= 0x01 && reason <= 0x11) || reason == 0x100)
		return KMIP_1_0;
	if (reason == 0x12)
		return KMIP_1_1;
	if (reason >= 0x13 && reason <= 0x15)
		return KMIP_1_2;
	if (reason >= 0x16 && reason <= 0x18)
		return KMIP_1_4;
	return KMIP_2_0;
}

/*
 * A 1.x peer must never see a 2.0-only reason; these are what a 1.x
 * server would have said in the same situation (KMIP 1.2 section 11).
 */
uint32_t
kmip_reason_for_version(uint32_t reason, uint32_t version)
{
	if (kmip_reason_version(reason) <= version)
		return reason;
	switch (reason) {
	case KMIP_REASON_OBJECT_NOT_FOUND:
	case KMIP_REASON_OBJECT_DESTROYED:
		return KMIP_REASON_ITEM_NOT_FOUND;
	case KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE:
	case KMIP_REASON_NOT_AUTHORISED:
		return KMIP_REASON_PERMISSION_DENIED;
	case KMIP_REASON_BAD_CRYPTO_PARAMETERS:
		return KMIP_REASON_INVALID_FIELD;
	case KMIP_REASON_UNSUPPORTED_PROTOCOL_VERSION:
		return KMIP_REASON_INVALID_MESSAGE;
	case KMIP_REASON_OBJECT_ALREADY_EXISTS:
		return KMIP_REASON_INVALID_FIELD;
	case KMIP_REASON_SENSITIVE:
	case KMIP_REASON_NOT_EXTRACTABLE:
		return KMIP_REASON_PERMISSION_DENIED;
	case KMIP_REASON_KEY_VALUE_NOT_PRESENT:
		return KMIP_REASON_ITEM_NOT_FOUND;
	default:
		return KMIP_REASON_GENERAL_FAILURE;
	}
}

int
kmip_set_str(char **dst, const char *src)
{
	char	*s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

void
kmip_bytes_clear(struct kmip_bytes *b)
{
	if (b->p != NULL) {
		crypto_wipe(b->p, b->len);
		free(b->p);
	}
	b->p = NULL;
	b->len = 0;
}

int
kmip_bytes_set(struct kmip_bytes *b, const void *p, size_t len)
{
	uint8_t	*n;

	if (p == NULL) {
		kmip_bytes_clear(b);
		return 0;
	}
	/* One spare byte so that an empty value is still present. */
	if ((n = malloc(len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(n, p, len);
	kmip_bytes_clear(b);
	b->p = n;
	b->len = len;
	return 0;
}
