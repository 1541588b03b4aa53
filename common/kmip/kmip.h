/*
 * kmip.h - KMIP messages (1.0-1.4 and 2.0) for AES symmetric keys, shared
 * by the kmsd server and CommServe's KMIP client.
 *
 * Both sides use the same structs: a server decodes a request into a
 * struct kmip_msg, fills a response kmip_msg and encodes it; a client does
 * the reverse.  Encoding is strict: a field, operation or result reason
 * newer than the message's protocol version is refused with an error (a
 * field that a newer version dropped, such as 1.x's Template-Attribute in a
 * 2.0 Create response, is left out), field order is the specification's,
 * and 1.x attributes travel as Attribute{Name, Value} while 2.0's travel as
 * an Attributes structure of the attribute items themselves.  Decoding is
 * tolerant: fields in any order, unknown fields ignored, Attribute Index
 * present or absent, 2.0 Unique Identifiers as Text, Enumeration or
 * Integer, 1.x or 2.0 attribute forms in either version.  A batch item whose
 * payload cannot be read keeps its own error (item->err), so a server can
 * still answer the rest of the batch.
 *
 * Tags and values below are KMIP 1.2/2.1's (see /work/shared/KMIP.md).
 */
#ifndef KF_KMIP_H
#define KF_KMIP_H

#include <stddef.h>
#include <stdint.h>

#include "ttlv.h"

/* Protocol versions, ordered: KMIP_VER(1, 4) < KMIP_VER(2, 0). */
#define KMIP_VER(maj, min)	((uint32_t)(maj) << 16 | (uint32_t)(min))
#define KMIP_VER_MAJOR(v)	((int32_t)((v) >> 16))
#define KMIP_VER_MINOR(v)	((int32_t)((v) & 0xffff))
#define KMIP_1_0	KMIP_VER(1, 0)
#define KMIP_1_1	KMIP_VER(1, 1)
#define KMIP_1_2	KMIP_VER(1, 2)
#define KMIP_1_3	KMIP_VER(1, 3)
#define KMIP_1_4	KMIP_VER(1, 4)
#define KMIP_2_0	KMIP_VER(2, 0)
#define KMIP_PORT	5696
#define KMIP_MAX_BATCH	1024		/* batch items per message */

/* Tags (KMIP.md section 4). */
enum kmip_tag {
	KMIP_TAG_ACTIVATION_DATE = 0x420001,
	KMIP_TAG_APP_SPECIFIC_INFO = 0x420004,
	KMIP_TAG_ASYNC_CORRELATION_VALUE = 0x420006,
	KMIP_TAG_ASYNC_INDICATOR = 0x420007,
	KMIP_TAG_ATTRIBUTE = 0x420008,
	KMIP_TAG_ATTRIBUTE_INDEX = 0x420009,
	KMIP_TAG_ATTRIBUTE_NAME = 0x42000A,
	KMIP_TAG_ATTRIBUTE_VALUE = 0x42000B,
	KMIP_TAG_AUTHENTICATION = 0x42000C,
	KMIP_TAG_BATCH_COUNT = 0x42000D,
	KMIP_TAG_BATCH_ERROR_OPTION = 0x42000E,
	KMIP_TAG_BATCH_ITEM = 0x42000F,
	KMIP_TAG_BATCH_ORDER_OPTION = 0x420010,
	KMIP_TAG_BLOCK_CIPHER_MODE = 0x420011,
	KMIP_TAG_COMPROMISE_OCCURRENCE_DATE = 0x420021,
	KMIP_TAG_COMPROMISE_DATE = 0x420020,
	KMIP_TAG_CREDENTIAL = 0x420023,
	KMIP_TAG_CREDENTIAL_TYPE = 0x420024,
	KMIP_TAG_CREDENTIAL_VALUE = 0x420025,
	KMIP_TAG_CRYPTO_ALGORITHM = 0x420028,
	KMIP_TAG_CRYPTO_LENGTH = 0x42002A,
	KMIP_TAG_CRYPTO_PARAMETERS = 0x42002B,
	KMIP_TAG_CRYPTO_USAGE_MASK = 0x42002C,
	KMIP_TAG_CUSTOM_ATTRIBUTE = 0x42002D,
	KMIP_TAG_DEACTIVATION_DATE = 0x42002F,
	KMIP_TAG_DESTROY_DATE = 0x420033,
	KMIP_TAG_ENCRYPTION_KEY_INFO = 0x420036,
	KMIP_TAG_HASHING_ALGORITHM = 0x420038,
	KMIP_TAG_INITIAL_DATE = 0x420039,
	KMIP_TAG_IV_COUNTER_NONCE = 0x42003D,
	KMIP_TAG_KEY = 0x42003F,
	KMIP_TAG_KEY_BLOCK = 0x420040,
	KMIP_TAG_KEY_COMPRESSION_TYPE = 0x420041,
	KMIP_TAG_KEY_FORMAT_TYPE = 0x420042,
	KMIP_TAG_KEY_MATERIAL = 0x420043,
	KMIP_TAG_KEY_VALUE = 0x420045,
	KMIP_TAG_KEY_WRAPPING_DATA = 0x420046,
	KMIP_TAG_KEY_WRAPPING_SPEC = 0x420047,
	KMIP_TAG_LAST_CHANGE_DATE = 0x420048,
	KMIP_TAG_LINK = 0x42004A,
	KMIP_TAG_MAXIMUM_ITEMS = 0x42004F,
	KMIP_TAG_MAX_RESPONSE_SIZE = 0x420050,
	KMIP_TAG_MESSAGE_EXTENSION = 0x420051,
	KMIP_TAG_NAME = 0x420053,
	KMIP_TAG_NAME_TYPE = 0x420054,
	KMIP_TAG_NAME_VALUE = 0x420055,
	KMIP_TAG_OBJECT_GROUP = 0x420056,
	KMIP_TAG_OBJECT_TYPE = 0x420057,
	KMIP_TAG_OPERATION = 0x42005C,
	KMIP_TAG_OPERATION_POLICY_NAME = 0x42005D,
	KMIP_TAG_PADDING_METHOD = 0x42005F,
	KMIP_TAG_PROTOCOL_VERSION = 0x420069,
	KMIP_TAG_PROTOCOL_VERSION_MAJOR = 0x42006A,
	KMIP_TAG_PROTOCOL_VERSION_MINOR = 0x42006B,
	KMIP_TAG_QUERY_FUNCTION = 0x420074,
	KMIP_TAG_REQUEST_HEADER = 0x420077,
	KMIP_TAG_REQUEST_MESSAGE = 0x420078,
	KMIP_TAG_REQUEST_PAYLOAD = 0x420079,
	KMIP_TAG_RESPONSE_HEADER = 0x42007A,
	KMIP_TAG_RESPONSE_MESSAGE = 0x42007B,
	KMIP_TAG_RESPONSE_PAYLOAD = 0x42007C,
	KMIP_TAG_RESULT_MESSAGE = 0x42007D,
	KMIP_TAG_RESULT_REASON = 0x42007E,
	KMIP_TAG_RESULT_STATUS = 0x42007F,
	KMIP_TAG_REVOCATION_MESSAGE = 0x420080,
	KMIP_TAG_REVOCATION_REASON = 0x420081,
	KMIP_TAG_REVOCATION_REASON_CODE = 0x420082,
	KMIP_TAG_KEY_ROLE_TYPE = 0x420083,
	KMIP_TAG_SERVER_INFORMATION = 0x420088,
	KMIP_TAG_STATE = 0x42008D,
	KMIP_TAG_STORAGE_STATUS_MASK = 0x42008E,
	KMIP_TAG_SYMMETRIC_KEY = 0x42008F,
	KMIP_TAG_TEMPLATE = 0x420090,
	KMIP_TAG_TEMPLATE_ATTRIBUTE = 0x420091,
	KMIP_TAG_TIME_STAMP = 0x420092,
	KMIP_TAG_UNIQUE_BATCH_ITEM_ID = 0x420093,
	KMIP_TAG_UNIQUE_IDENTIFIER = 0x420094,
	KMIP_TAG_USERNAME = 0x420099,
	KMIP_TAG_VENDOR_IDENTIFICATION = 0x42009D,
	KMIP_TAG_WRAPPING_METHOD = 0x42009E,
	KMIP_TAG_PASSWORD = 0x4200A1,
	KMIP_TAG_FRESH = 0x4200A8,
	KMIP_TAG_OBJECT_GROUP_MEMBER = 0x4200AC,
	KMIP_TAG_DIGITAL_SIGNATURE_ALGORITHM = 0x4200AE,
	KMIP_TAG_ORIGINAL_CREATION_DATE = 0x4200BC,
	KMIP_TAG_DATA = 0x4200C2,
	KMIP_TAG_RANDOM_IV = 0x4200C5,
	KMIP_TAG_ATTESTATION_TYPE = 0x4200C7,
	KMIP_TAG_NONCE = 0x4200C8,
	KMIP_TAG_IV_LENGTH = 0x4200CD,
	KMIP_TAG_TAG_LENGTH = 0x4200CE,
	KMIP_TAG_FIXED_FIELD_LENGTH = 0x4200CF,
	KMIP_TAG_COUNTER_LENGTH = 0x4200D0,
	KMIP_TAG_INITIAL_COUNTER_VALUE = 0x4200D1,
	KMIP_TAG_INVOCATION_FIELD_LENGTH = 0x4200D2,
	KMIP_TAG_ATTESTATION_CAPABLE = 0x4200D3,
	KMIP_TAG_OFFSET_ITEMS = 0x4200D4,
	KMIP_TAG_LOCATED_ITEMS = 0x4200D5,
	KMIP_TAG_CORRELATION_VALUE = 0x4200D6,
	KMIP_TAG_INIT_INDICATOR = 0x4200D7,
	KMIP_TAG_FINAL_INDICATOR = 0x4200D8,
	KMIP_TAG_AE_ADDITIONAL_DATA = 0x4200FE,
	KMIP_TAG_AE_TAG = 0x4200FF,
	KMIP_TAG_CLIENT_CORRELATION_VALUE = 0x420105,
	KMIP_TAG_SERVER_CORRELATION_VALUE = 0x420106,
	KMIP_TAG_ATTRIBUTES = 0x420125,
	KMIP_TAG_ATTRIBUTE_REFERENCE = 0x42013B,
	KMIP_TAG_EPHEMERAL = 0x420154,
	KMIP_TAG_SERVER_HASHED_PASSWORD = 0x420155,
	KMIP_TAG_PROTECTION_STORAGE_MASKS = 0x42015F
};

/* Operation. */
enum kmip_op {
	KMIP_OP_CREATE = 0x01,
	KMIP_OP_REGISTER = 0x03,
	KMIP_OP_LOCATE = 0x08,
	KMIP_OP_GET = 0x0A,
	KMIP_OP_GET_ATTRIBUTES = 0x0B,
	KMIP_OP_ACTIVATE = 0x12,
	KMIP_OP_REVOKE = 0x13,
	KMIP_OP_DESTROY = 0x14,
	KMIP_OP_QUERY = 0x18,
	KMIP_OP_DISCOVER_VERSIONS = 0x1E,	/* 1.1 */
	KMIP_OP_ENCRYPT = 0x1F,			/* 1.2 */
	KMIP_OP_DECRYPT = 0x20,			/* 1.2 */
	KMIP_OP_MAC = 0x23			/* 1.2; no keyflow peer offers it */
};

#define KMIP_OBJ_SYMMETRIC_KEY	0x02
#define KMIP_OBJ_TEMPLATE	0x06
#define KMIP_OBJ_SECRET_DATA	0x07

#define KMIP_STATUS_SUCCESS	0x00
#define KMIP_STATUS_FAILED	0x01
#define KMIP_STATUS_PENDING	0x02
#define KMIP_STATUS_UNDONE	0x03

/* Result Reason: 1.x values, then the 2.0 ones kmsd uses. */
enum kmip_reason {
	KMIP_REASON_ITEM_NOT_FOUND = 0x01,
	KMIP_REASON_RESPONSE_TOO_LARGE = 0x02,
	KMIP_REASON_AUTH_NOT_SUCCESSFUL = 0x03,
	KMIP_REASON_INVALID_MESSAGE = 0x04,
	KMIP_REASON_OPERATION_NOT_SUPPORTED = 0x05,
	KMIP_REASON_MISSING_DATA = 0x06,
	KMIP_REASON_INVALID_FIELD = 0x07,
	KMIP_REASON_FEATURE_NOT_SUPPORTED = 0x08,
	KMIP_REASON_CANCELED = 0x09,
	KMIP_REASON_CRYPTOGRAPHIC_FAILURE = 0x0A,
	KMIP_REASON_ILLEGAL_OPERATION = 0x0B,
	KMIP_REASON_PERMISSION_DENIED = 0x0C,
	KMIP_REASON_OBJECT_ARCHIVED = 0x0D,
	KMIP_REASON_INDEX_OUT_OF_BOUNDS = 0x0E,
	KMIP_REASON_NAMESPACE_NOT_SUPPORTED = 0x0F,
	KMIP_REASON_KEY_FORMAT_NOT_SUPPORTED = 0x10,
	KMIP_REASON_KEY_COMPRESSION_NOT_SUPPORTED = 0x11,
	KMIP_REASON_ENCODING_OPTION_ERROR = 0x12,	/* 1.1 */
	KMIP_REASON_KEY_VALUE_NOT_PRESENT = 0x13,	/* 1.2 */
	KMIP_REASON_ATTESTATION_REQUIRED = 0x14,	/* 1.2 */
	KMIP_REASON_ATTESTATION_FAILED = 0x15,		/* 1.2 */
	KMIP_REASON_SENSITIVE = 0x16,			/* 1.4 */
	KMIP_REASON_NOT_EXTRACTABLE = 0x17,		/* 1.4 */
	KMIP_REASON_OBJECT_ALREADY_EXISTS = 0x18,	/* 1.4 */
	KMIP_REASON_BAD_CRYPTO_PARAMETERS = 0x24,	/* 2.0 */
	KMIP_REASON_OBJECT_DESTROYED = 0x36,		/* 2.0 */
	KMIP_REASON_OBJECT_NOT_FOUND = 0x37,		/* 2.0 */
	KMIP_REASON_NOT_AUTHORISED = 0x39,		/* 2.0 */
	KMIP_REASON_UNSUPPORTED_PROTOCOL_VERSION = 0x3F, /* 2.0 */
	KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE = 0x43,	/* 2.0 */
	KMIP_REASON_GENERAL_FAILURE = 0x100
};

#define KMIP_ALG_3DES		0x02
#define KMIP_ALG_AES		0x03

#define KMIP_MODE_CBC		0x01
#define KMIP_MODE_ECB		0x02
#define KMIP_MODE_CTR		0x06
#define KMIP_MODE_GCM		0x09
#define KMIP_MODE_AES_KEY_WRAP_PADDING	0x0C
#define KMIP_MODE_NIST_KEY_WRAP	0x0D
#define KMIP_MODE_AEAD		0x12	/* 1.4 */

#define KMIP_PAD_NONE		0x01
#define KMIP_PAD_PKCS5		0x03

#define KMIP_KEYFMT_RAW		0x01
#define KMIP_KEYFMT_OPAQUE	0x02
#define KMIP_KEYFMT_TRANSPARENT_SYMMETRIC	0x07
#define KMIP_KEYFMT_PKCS12	0x16	/* 1.4 */

#define KMIP_STATE_PRE_ACTIVE	0x01
#define KMIP_STATE_ACTIVE	0x02
#define KMIP_STATE_DEACTIVATED	0x03
#define KMIP_STATE_COMPROMISED	0x04
#define KMIP_STATE_DESTROYED	0x05
#define KMIP_STATE_DESTROYED_COMPROMISED	0x06

#define KMIP_NAME_TEXT		0x01	/* Uninterpreted Text String */
#define KMIP_NAME_URI		0x02

#define KMIP_REVOKE_UNSPECIFIED	0x01
#define KMIP_REVOKE_KEY_COMPROMISE	0x02
#define KMIP_REVOKE_CA_COMPROMISE	0x03
#define KMIP_REVOKE_AFFILIATION_CHANGED	0x04
#define KMIP_REVOKE_SUPERSEDED	0x05
#define KMIP_REVOKE_CESSATION	0x06
#define KMIP_REVOKE_PRIVILEGE_WITHDRAWN	0x07

#define KMIP_QUERY_OPERATIONS	0x01
#define KMIP_QUERY_OBJECTS	0x02
#define KMIP_QUERY_SERVER_INFO	0x03

#define KMIP_BATCH_CONTINUE	0x01
#define KMIP_BATCH_STOP		0x02
#define KMIP_BATCH_UNDO		0x03

/* Cryptographic Usage Mask bits. */
#define KMIP_USAGE_ENCRYPT	0x04
#define KMIP_USAGE_DECRYPT	0x08
#define KMIP_USAGE_WRAP_KEY	0x10
#define KMIP_USAGE_UNWRAP_KEY	0x20

#define KMIP_STORAGE_ONLINE	0x01
#define KMIP_STORAGE_ARCHIVAL	0x02

/* 2.0 Unique Identifier as an Enumeration: the ID Placeholder. */
#define KMIP_UID_ID_PLACEHOLDER	0x01

/* A byte string; present when p != NULL (len may be 0). */
struct kmip_bytes {
	uint8_t		*p;		/* malloc'd, wiped when freed */
	size_t		 len;		/* byte count */
};

/* Cryptographic Parameters; has says which fields are present. */
struct kmip_cparams {
	uint32_t	has;		/* KMIP_CP_* */
	uint32_t	mode;		/* Block Cipher Mode */
	uint32_t	padding;	/* Padding Method */
	uint32_t	hashing;	/* Hashing Algorithm */
	uint32_t	key_role;	/* Key Role Type */
	uint32_t	dsa;		/* Digital Signature Algorithm (1.2) */
	uint32_t	alg;		/* Cryptographic Algorithm (1.2) */
	int		random_iv;	/* Random IV (1.2) */
	int32_t		iv_len;		/* IV Length, bits (1.2) */
	int32_t		tag_len;	/* Tag Length, bytes (1.2) */
	int32_t		fixed_len;	/* Fixed Field Length (1.2) */
	int32_t		invocation_len;	/* Invocation Field Length (1.2) */
	int32_t		counter_len;	/* Counter Length (1.2) */
	int32_t		initial_counter; /* Initial Counter Value (1.2) */
};
#define KMIP_CP_MODE		0x0001
#define KMIP_CP_PADDING		0x0002
#define KMIP_CP_HASHING		0x0004
#define KMIP_CP_KEY_ROLE	0x0008
#define KMIP_CP_DSA		0x0010
#define KMIP_CP_ALG		0x0020
#define KMIP_CP_RANDOM_IV	0x0040
#define KMIP_CP_IV_LEN		0x0080
#define KMIP_CP_TAG_LEN		0x0100
#define KMIP_CP_FIXED_LEN	0x0200
#define KMIP_CP_INVOCATION_LEN	0x0400
#define KMIP_CP_COUNTER_LEN	0x0800
#define KMIP_CP_INITIAL_COUNTER	0x1000

/* A custom attribute: 1.x "x-foo" is 2.0 Vendor Attribute {"x", "foo"}. */
struct kmip_custom {
	char		*name;		/* 1.x form, "x-..." or "y-..." */
	struct ttlv	*value;		/* the value item (tag ignored) */
};

/* The attributes of a managed object that this codec knows. */
struct kmip_attrs {
	uint64_t	 has;		/* KMIP_A_* */
	char		*uid;		/* Unique Identifier */
	char		*name;		/* Name: Name Value */
	uint32_t	 name_type;	/* Name: Name Type */
	uint32_t	 object_type;	/* Object Type */
	uint32_t	 alg;		/* Cryptographic Algorithm */
	int32_t		 length;	/* Cryptographic Length, bits */
	int32_t		 usage_mask;	/* Cryptographic Usage Mask */
	struct kmip_cparams cparams;	/* Cryptographic Parameters */
	uint32_t	 state;		/* State */
	int64_t		 initial_date;	/* Initial Date */
	int64_t		 activation_date; /* Activation Date */
	int64_t		 deactivation_date; /* Deactivation Date */
	int64_t		 destroy_date;	/* Destroy Date */
	int64_t		 compromise_occurrence_date; /* ... Occurrence Date */
	int64_t		 compromise_date; /* Compromise Date */
	int64_t		 last_change_date; /* Last Change Date */
	int64_t		 original_creation_date; /* Original Creation Date */
	char		*policy_name;	/* Operation Policy Name (1.x) */
	char		*object_group;	/* Object Group */
	int		 fresh;		/* Fresh (1.1) */
	struct kmip_custom *custom;	/* custom attributes */
	size_t		 ncustom;	/* entries in custom */
	char		*unsupported;	/* decode: first unknown attribute */
};
#define KMIP_A_UID		0x00001
#define KMIP_A_NAME		0x00002
#define KMIP_A_OBJECT_TYPE	0x00004
#define KMIP_A_ALG		0x00008
#define KMIP_A_LENGTH		0x00010
#define KMIP_A_USAGE_MASK	0x00020
#define KMIP_A_CPARAMS		0x00040
#define KMIP_A_STATE		0x00080
#define KMIP_A_INITIAL_DATE	0x00100
#define KMIP_A_ACTIVATION_DATE	0x00200
#define KMIP_A_DEACTIVATION_DATE 0x00400
#define KMIP_A_DESTROY_DATE	0x00800
#define KMIP_A_COMPROMISE_OCCURRENCE_DATE 0x01000
#define KMIP_A_COMPROMISE_DATE	0x02000
#define KMIP_A_LAST_CHANGE_DATE	0x04000
#define KMIP_A_ORIGINAL_CREATION_DATE 0x08000
#define KMIP_A_POLICY_NAME	0x10000
#define KMIP_A_OBJECT_GROUP	0x20000
#define KMIP_A_FRESH		0x40000

/* A Symmetric Key object (Register request, Get response). */
struct kmip_key {
	uint32_t	 format;	/* Key Format Type (Raw, Transparent) */
	uint32_t	 alg;		/* Key Block's Cryptographic Alg. */
	int32_t		 length;	/* Key Block's Cryptographic Length */
	struct kmip_bytes material;	/* plaintext key; wiped when freed */
};

/*
 * One operation's request or response payload: the union of the fields of
 * every supported operation (KMIP.md section 7).  Which fields an
 * operation uses is in msg_payload.c's table; has says which optional
 * scalars are present; strings and lists are present when non-NULL.
 */
struct kmip_payload {
	uint32_t	 has;		/* KMIP_P_* */
	char		*uid;		/* Unique Identifier (Text) */
	uint32_t	 uid_enum;	/* 2.0 UID as an Enumeration */
	int32_t		 uid_index;	/* 2.0 UID as an Integer */
	uint32_t	 object_type;	/* Object Type (0: absent) */
	struct kmip_attrs attrs;	/* Template-Attribute / Attributes */
	struct kmip_key	 key;		/* Symmetric Key (KMIP_P_KEY) */
	uint32_t	 key_format;	/* Get: Key Format Type wanted */
	uint32_t	 key_compression; /* Get: Key Compression Type */
	struct kmip_cparams cparams;	/* Encrypt/Decrypt (KMIP_P_CPARAMS) */
	struct kmip_bytes data;		/* Data */
	struct kmip_bytes iv;		/* IV/Counter/Nonce */
	struct kmip_bytes aad;		/* Authenticated Encryption AAD (1.4) */
	struct kmip_bytes tag;		/* Authenticated Encryption Tag (1.4) */
	uint32_t	 revoke_code;	/* Revocation Reason Code */
	char		*revoke_msg;	/* Revocation Message */
	int64_t		 compromise_date; /* Compromise Occurrence Date */
	int32_t		 max_items;	/* Locate: Maximum Items */
	int32_t		 offset_items;	/* Locate: Offset Items (1.3) */
	uint32_t	 storage_mask;	/* Locate: Storage Status Mask */
	uint32_t	 group_member;	/* Locate: Object Group Member (1.1) */
	int32_t		 located_items;	/* Locate: Located Items (1.3) */
	char		**uids;		/* Locate response: identifiers */
	size_t		 nuids;		/* entries in uids */
	uint64_t	 want;		/* Get Attributes: KMIP_A_* asked */
	char		**want_custom;	/* Get Attributes: custom names */
	size_t		 nwant_custom;	/* entries in want_custom */
	size_t		 nwant;		/* Get Attributes: names given */
	uint32_t	*funcs;		/* Query: Query Functions */
	size_t		 nfuncs;	/* entries in funcs */
	uint32_t	*ops;		/* Query response: Operations */
	size_t		 nops;		/* entries in ops */
	uint32_t	*objtypes;	/* Query response: Object Types */
	size_t		 nobjtypes;	/* entries in objtypes */
	char		*vendor;	/* Query response: Vendor Id */
	uint32_t	*versions;	/* Discover Versions: KMIP_VER()s */
	size_t		 nversions;	/* entries in versions */
};
#define KMIP_P_UID_ENUM		0x00001
#define KMIP_P_UID_INDEX	0x00002
#define KMIP_P_ATTRS		0x00004	/* attributes were present */
#define KMIP_P_KEY		0x00008
#define KMIP_P_KEY_FORMAT	0x00010
#define KMIP_P_KEY_COMPRESSION	0x00020
#define KMIP_P_WRAP_SPEC	0x00040	/* decode: Key Wrapping Spec. given */
#define KMIP_P_CPARAMS		0x00080
#define KMIP_P_REVOKE		0x00100
#define KMIP_P_COMPROMISE_DATE	0x00200
#define KMIP_P_MAX_ITEMS	0x00400
#define KMIP_P_OFFSET_ITEMS	0x00800
#define KMIP_P_STORAGE_MASK	0x01000
#define KMIP_P_GROUP_MEMBER	0x02000
#define KMIP_P_LOCATED_ITEMS	0x04000
#define KMIP_P_STREAMING	0x08000	/* decode: 1.3 streaming fields */
#define KMIP_P_WRAPPED_KEY	0x10000	/* decode: key came wrapped */

/* One batch item, request or response. */
struct kmip_item {
	uint32_t	 op;		/* Operation (0: absent in response) */
	struct kmip_bytes batch_id;	/* Unique Batch Item ID */
	int		 ephemeral;	/* 2.0 Ephemeral (request) */
	uint32_t	 status;	/* Result Status (response) */
	uint32_t	 reason;	/* Result Reason (0: absent) */
	char		*message;	/* Result Message */
	int		 has_payload;	/* payload present / to be sent */
	struct kmip_payload p;		/* the payload */
	struct kmip_err	 err;		/* decode: why p is unusable */
};

/* A request or response message. */
struct kmip_msg {
	int		 response;	/* 1 response, 0 request */
	uint32_t	 version;	/* Protocol Version, KMIP_VER() */
	uint32_t	 has;		/* KMIP_H_* */
	int32_t		 max_response_size; /* Maximum Response Size */
	char		*client_corr;	/* Client Correlation Value (1.4) */
	char		*server_corr;	/* Server Correlation Value (1.4) */
	int64_t		 time_stamp;	/* Time Stamp, POSIX seconds */
	int		 async;		/* Asynchronous Indicator */
	uint32_t	 batch_error;	/* Batch Error Continuation Option */
	int		 batch_order;	/* Batch Order Option */
	struct kmip_item **items;	/* batch items */
	size_t		 nitems;	/* entries in items */
};
#define KMIP_H_MAX_RESPONSE_SIZE 0x01
#define KMIP_H_TIME_STAMP	0x02
#define KMIP_H_ASYNC		0x04
#define KMIP_H_BATCH_ERROR	0x08
#define KMIP_H_BATCH_ORDER	0x10
#define KMIP_H_AUTHENTICATION	0x20	/* decode: credentials were sent */

/* msg.c */
struct kmip_msg	*kmip_msg_new(int response, uint32_t version);
void		 kmip_msg_free(struct kmip_msg **mp);
/* Append an item for op; NULL on failure.  Pointers stay valid. */
struct kmip_item *kmip_msg_add(struct kmip_msg *m, uint32_t op);
/*
 * Encode m into a malloc'd *buf.  m->version must be 1.0-1.4 or 2.0 (a
 * server answering a 1.5 or 2.1 request picks 1.4 or 2.0).  A response
 * without a Time Stamp gets the current time.  Refuses anything
 * m->version cannot carry (a failed item may still echo whatever
 * Operation the peer sent), a failed item without Result Reason, and a
 * multi-item request without Unique Batch Item IDs.
 */
int	kmip_msg_encode(const struct kmip_msg *m, uint8_t **buf, size_t *len,
	    struct kmip_err *err);
/*
 * Decode a request (response = 0) or response message that fills buf
 * exactly.  Any 1.x or 2.x version is read (later minors with 1.4 / 2.0
 * rules); other majors are refused.  On a message-level error *mp is NULL
 * and err->version holds the protocol version when it could be read, so a
 * server can answer in it.  A batch item whose operation is unsupported or
 * whose payload is unusable has item->err.reason set (and has_payload 0);
 * the others decode normally.  lim NULL means the defaults.
 */
int	kmip_msg_decode(const uint8_t *buf, size_t len, int response,
	    const struct ttlv_limits *lim, struct kmip_msg **mp,
	    struct kmip_err *err);
/*
 * Server helper: mark a response item Operation Failed with reason (mapped
 * to a 1.x reason when version predates it, see kmip_reason_for_version)
 * and a formatted Result Message; its payload is dropped.  0, or -1 when
 * out of memory (the item is still marked failed).
 */
int	kmip_item_fail(struct kmip_item *it, uint32_t version,
	    uint32_t reason, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* msg_payload.c */
int	kmip_payload_encode(uint32_t op, int response, uint32_t version,
	    const struct kmip_payload *p, struct ttlv *parent,
	    struct kmip_err *err);
int	kmip_payload_decode(uint32_t op, int response, uint32_t version,
	    const struct ttlv *payload, struct kmip_payload *p,
	    struct kmip_err *err);
void	kmip_payload_clear(struct kmip_payload *p);
/* 1 when this codec knows op's payloads. */
int	kmip_op_supported(uint32_t op);

/* msg_attr.c */
void	kmip_attrs_clear(struct kmip_attrs *a);
/* KMIP_A_* bit for a 1.x attribute name, 0 if unknown. */
uint64_t kmip_attr_bit(const char *name);
/* Add a custom attribute ("x-..." / "y-..."), copying value. */
int	kmip_attrs_add_custom(struct kmip_attrs *a, const char *name,
	    const struct ttlv *value);
void	kmip_key_clear(struct kmip_key *k);

/* kmip.c */
/* Copy helpers: 0, or -1 out of memory.  NULL src clears dst. */
int	kmip_set_str(char **dst, const char *src);
int	kmip_bytes_set(struct kmip_bytes *b, const void *p, size_t len);
void	kmip_bytes_clear(struct kmip_bytes *b);
/* The first protocol version that defines op / reason. */
uint32_t kmip_op_version(uint32_t op);
uint32_t kmip_reason_version(uint32_t reason);
/* reason, or the closest 1.x reason when version predates it. */
uint32_t kmip_reason_for_version(uint32_t reason, uint32_t version);
/* "Create", "Item Not Found", ...; "unknown" when not known. */
const char *kmip_op_name(uint32_t op);
const char *kmip_reason_name(uint32_t reason);
const char *kmip_objtype_name(uint32_t type);
/* "1.4" into buf (at least 16 bytes). */
const char *kmip_ver_str(uint32_t version, char *buf, size_t cap);

#endif
