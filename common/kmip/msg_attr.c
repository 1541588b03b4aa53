/*
 * msg_attr.c - attributes, Cryptographic Parameters and the Symmetric Key
 * object, in both attribute encodings.
 *
 * KMIP 1.x carries an attribute as Attribute {Attribute Name (the
 * specification's string), Attribute Index?, Attribute Value}, inside a
 * Template-Attribute or directly in a payload.  KMIP 2.0 carries the
 * attribute items themselves, with their own tags, inside an Attributes
 * structure, and custom attributes as Attribute {Vendor Identification,
 * Attribute Name, Attribute Value}, where vendor "x" / "y" stands for 1.x's
 * "x-" / "y-" names.  One table (attr_defs) gives each known attribute its
 * name, tag, kind, field and versions, and drives both encodings.
 *
 * Decoding is tolerant: either encoding in either version, Attribute Index
 * ignored, the first instance of an attribute kept, an unknown attribute
 * recorded in a->unsupported and otherwise skipped.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "msg_int.h"

#define V_ANY	UINT32_MAX

/* How an attribute's value is encoded and where it lives. */
enum attr_kind {
	AK_TEXT, AK_ENUM, AK_INT, AK_DATE, AK_BOOL, AK_NAME, AK_CPARAMS
};

/* One known attribute. */
struct attr_def {
	const char	*name;		/* 1.x Attribute Name */
	uint32_t	 tag;		/* 2.0 tag */
	uint64_t	 bit;		/* KMIP_A_* */
	enum attr_kind	 kind;		/* value encoding */
	size_t		 off;		/* field in struct kmip_attrs */
	uint32_t	 minver;	/* first version that has it */
	uint32_t	 maxver;	/* last version that has it */
};

#define A(f)	offsetof(struct kmip_attrs, f)
/* Encoding order: PyKMIP's client order for the ones it sends. */
static const struct attr_def attr_defs[] = {
	{ "Unique Identifier", KMIP_TAG_UNIQUE_IDENTIFIER, KMIP_A_UID,
	    AK_TEXT, A(uid), KMIP_1_0, V_ANY },
	{ "Object Type", KMIP_TAG_OBJECT_TYPE, KMIP_A_OBJECT_TYPE, AK_ENUM,
	    A(object_type), KMIP_1_0, V_ANY },
	{ "Operation Policy Name", KMIP_TAG_OPERATION_POLICY_NAME,
	    KMIP_A_POLICY_NAME, AK_TEXT, A(policy_name), KMIP_1_0, KMIP_1_4 },
	{ "Cryptographic Algorithm", KMIP_TAG_CRYPTO_ALGORITHM, KMIP_A_ALG,
	    AK_ENUM, A(alg), KMIP_1_0, V_ANY },
	{ "Cryptographic Length", KMIP_TAG_CRYPTO_LENGTH, KMIP_A_LENGTH,
	    AK_INT, A(length), KMIP_1_0, V_ANY },
	{ "Cryptographic Parameters", KMIP_TAG_CRYPTO_PARAMETERS,
	    KMIP_A_CPARAMS, AK_CPARAMS, A(cparams), KMIP_1_0, V_ANY },
	{ "Cryptographic Usage Mask", KMIP_TAG_CRYPTO_USAGE_MASK,
	    KMIP_A_USAGE_MASK, AK_INT, A(usage_mask), KMIP_1_0, V_ANY },
	{ "Name", KMIP_TAG_NAME, KMIP_A_NAME, AK_NAME, A(name), KMIP_1_0,
	    V_ANY },
	{ "State", KMIP_TAG_STATE, KMIP_A_STATE, AK_ENUM, A(state), KMIP_1_0,
	    V_ANY },
	{ "Initial Date", KMIP_TAG_INITIAL_DATE, KMIP_A_INITIAL_DATE, AK_DATE,
	    A(initial_date), KMIP_1_0, V_ANY },
	{ "Activation Date", KMIP_TAG_ACTIVATION_DATE, KMIP_A_ACTIVATION_DATE,
	    AK_DATE, A(activation_date), KMIP_1_0, V_ANY },
	{ "Deactivation Date", KMIP_TAG_DEACTIVATION_DATE,
	    KMIP_A_DEACTIVATION_DATE, AK_DATE, A(deactivation_date), KMIP_1_0,
	    V_ANY },
	{ "Destroy Date", KMIP_TAG_DESTROY_DATE, KMIP_A_DESTROY_DATE, AK_DATE,
	    A(destroy_date), KMIP_1_0, V_ANY },
	{ "Compromise Occurrence Date", KMIP_TAG_COMPROMISE_OCCURRENCE_DATE,
	    KMIP_A_COMPROMISE_OCCURRENCE_DATE, AK_DATE,
	    A(compromise_occurrence_date), KMIP_1_0, V_ANY },
	{ "Compromise Date", KMIP_TAG_COMPROMISE_DATE, KMIP_A_COMPROMISE_DATE,
	    AK_DATE, A(compromise_date), KMIP_1_0, V_ANY },
	{ "Last Change Date", KMIP_TAG_LAST_CHANGE_DATE,
	    KMIP_A_LAST_CHANGE_DATE, AK_DATE, A(last_change_date), KMIP_1_0,
	    V_ANY },
	{ "Original Creation Date", KMIP_TAG_ORIGINAL_CREATION_DATE,
	    KMIP_A_ORIGINAL_CREATION_DATE, AK_DATE, A(original_creation_date),
	    KMIP_1_2, V_ANY },
	{ "Object Group", KMIP_TAG_OBJECT_GROUP, KMIP_A_OBJECT_GROUP, AK_TEXT,
	    A(object_group), KMIP_1_0, V_ANY },
	{ "Fresh", KMIP_TAG_FRESH, KMIP_A_FRESH, AK_BOOL, A(fresh), KMIP_1_1,
	    V_ANY },
};
#undef A

/* One Cryptographic Parameters field. */
struct cp_def {
	uint32_t	 tag;		/* field tag */
	uint32_t	 bit;		/* KMIP_CP_* */
	enum ttlv_type	 type;		/* Enumeration, Integer or Boolean */
	size_t		 off;		/* field in struct kmip_cparams */
	uint32_t	 minver;	/* first version that has it */
};

#define C(f)	offsetof(struct kmip_cparams, f)
/* KMIP 1.2 table order, which is the encoding order. */
static const struct cp_def cp_defs[] = {
	{ KMIP_TAG_BLOCK_CIPHER_MODE, KMIP_CP_MODE, TTLV_ENUM, C(mode),
	    KMIP_1_0 },
	{ KMIP_TAG_PADDING_METHOD, KMIP_CP_PADDING, TTLV_ENUM, C(padding),
	    KMIP_1_0 },
	{ KMIP_TAG_HASHING_ALGORITHM, KMIP_CP_HASHING, TTLV_ENUM, C(hashing),
	    KMIP_1_0 },
	{ KMIP_TAG_KEY_ROLE_TYPE, KMIP_CP_KEY_ROLE, TTLV_ENUM, C(key_role),
	    KMIP_1_0 },
	{ KMIP_TAG_DIGITAL_SIGNATURE_ALGORITHM, KMIP_CP_DSA, TTLV_ENUM, C(dsa),
	    KMIP_1_2 },
	{ KMIP_TAG_CRYPTO_ALGORITHM, KMIP_CP_ALG, TTLV_ENUM, C(alg), KMIP_1_2 },
	{ KMIP_TAG_RANDOM_IV, KMIP_CP_RANDOM_IV, TTLV_BOOL, C(random_iv),
	    KMIP_1_2 },
	{ KMIP_TAG_IV_LENGTH, KMIP_CP_IV_LEN, TTLV_INT, C(iv_len), KMIP_1_2 },
	{ KMIP_TAG_TAG_LENGTH, KMIP_CP_TAG_LEN, TTLV_INT, C(tag_len),
	    KMIP_1_2 },
	{ KMIP_TAG_FIXED_FIELD_LENGTH, KMIP_CP_FIXED_LEN, TTLV_INT,
	    C(fixed_len), KMIP_1_2 },
	{ KMIP_TAG_INVOCATION_FIELD_LENGTH, KMIP_CP_INVOCATION_LEN, TTLV_INT,
	    C(invocation_len), KMIP_1_2 },
	{ KMIP_TAG_COUNTER_LENGTH, KMIP_CP_COUNTER_LEN, TTLV_INT,
	    C(counter_len), KMIP_1_2 },
	{ KMIP_TAG_INITIAL_COUNTER_VALUE, KMIP_CP_INITIAL_COUNTER, TTLV_INT,
	    C(initial_counter), KMIP_1_2 },
};
#undef C

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define FIELD(base, off, type)	((type *)((char *)(base) + (off)))

static const struct attr_def *
def_by_name(const char *name)
{
	size_t	i;

	for (i = 0; i < NELEM(attr_defs); i++)
		if (strcmp(attr_defs[i].name, name) == 0)
			return &attr_defs[i];
	return NULL;
}

static const struct attr_def *
def_by_tag(uint32_t tag)
{
	size_t	i;

	for (i = 0; i < NELEM(attr_defs); i++)
		if (attr_defs[i].tag == tag)
			return &attr_defs[i];
	return NULL;
}

uint64_t
kmip_attr_bit(const char *name)
{
	const struct attr_def	*d = name ? def_by_name(name) : NULL;

	return d ? d->bit : 0;
}

/* 1.x custom attribute names: "x-..." (client) and "y-..." (server). */
static int
is_custom(const char *name)
{
	return (name[0] == 'x' || name[0] == 'y') && name[1] == '-' &&
	    name[2] != '\0';
}

int
cparams_encode(const struct kmip_cparams *cp, uint32_t version,
    struct ttlv *s, struct kmip_err *err)
{
	const struct cp_def	*d;
	size_t			 i;

	for (i = 0; i < NELEM(cp_defs); i++) {
		d = &cp_defs[i];
		if (!(cp->has & d->bit))
			continue;
		if (msg_need_version(d->minver, version,
		    ttlv_tag_name(d->tag), err) == -1)
			return -1;
		if (d->type == TTLV_ENUM)
			ttlv_add_enum(s, d->tag, *FIELD(cp, d->off,
			    const uint32_t));
		else if (d->type == TTLV_INT)
			ttlv_add_int(s, d->tag, *FIELD(cp, d->off,
			    const int32_t));
		else
			ttlv_add_bool(s, d->tag, *FIELD(cp, d->off, const int));
	}
	if ((cp->has & KMIP_CP_MODE) && cp->mode == KMIP_MODE_AEAD)
		return msg_need_version(KMIP_1_4, version,
		    "Block Cipher Mode AEAD", err);
	return 0;
}

int
cparams_decode(const struct ttlv *s, struct kmip_cparams *cp,
    struct kmip_err *err)
{
	const struct cp_def	*d;
	size_t			 i;
	int			 r;

	memset(cp, 0, sizeof(*cp));
	if (ttlv_check_type(s, TTLV_STRUCT, err) == -1)
		return -1;
	for (i = 0; i < NELEM(cp_defs); i++) {
		d = &cp_defs[i];
		if (d->type == TTLV_ENUM)
			r = ttlv_find_enum(s, d->tag, FIELD(cp, d->off,
			    uint32_t), err);
		else if (d->type == TTLV_INT)
			r = ttlv_find_int(s, d->tag, FIELD(cp, d->off,
			    int32_t), err);
		else
			r = ttlv_find_bool(s, d->tag, FIELD(cp, d->off, int),
			    err);
		if (r == -1)
			return -1;
		if (r == 1)
			cp->has |= d->bit;
	}
	return 0;
}

/* Encode attribute d of a as an item with tag under parent. */
static int
value_encode(const struct kmip_attrs *a, const struct attr_def *d,
    uint32_t version, uint32_t tag, struct ttlv *parent, struct kmip_err *err)
{
	struct ttlv	*s;

	switch (d->kind) {
	case AK_TEXT:
		if (*FIELD(a, d->off, char *const) == NULL) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "attribute %s is marked present but has no value",
			    d->name);
			return -1;
		}
		ttlv_add_text(parent, tag, *FIELD(a, d->off, char *const));
		return 0;
	case AK_ENUM:
		ttlv_add_enum(parent, tag, *FIELD(a, d->off, const uint32_t));
		return 0;
	case AK_INT:
		ttlv_add_int(parent, tag, *FIELD(a, d->off, const int32_t));
		return 0;
	case AK_DATE:
		ttlv_add_datetime(parent, tag, *FIELD(a, d->off,
		    const int64_t));
		return 0;
	case AK_BOOL:
		ttlv_add_bool(parent, tag, *FIELD(a, d->off, const int));
		return 0;
	case AK_NAME:
		if (a->name == NULL) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "attribute Name is marked present but empty");
			return -1;
		}
		s = ttlv_add_struct(parent, tag);
		ttlv_add_text(s, KMIP_TAG_NAME_VALUE, a->name);
		ttlv_add_enum(s, KMIP_TAG_NAME_TYPE,
		    a->name_type ? a->name_type : KMIP_NAME_TEXT);
		return 0;
	case AK_CPARAMS:
		s = ttlv_add_struct(parent, tag);
		return s ? cparams_encode(&a->cparams, version, s, err) : 0;
	}
	return 0;
}

/* Encode one custom attribute in the version's form. */
static int
custom_encode(const struct kmip_custom *c, uint32_t version,
    struct ttlv *box, struct kmip_err *err)
{
	struct ttlv	*at, *v;
	const char	*dash;

	if (c->name == NULL || c->value == NULL ||
	    (dash = strchr(c->name, '-')) == NULL || dash == c->name ||
	    dash[1] == '\0' || (version < KMIP_2_0 && !is_custom(c->name))) {
		kmip_err_set(err, KMIP_REASON_INVALID_FIELD, "custom "
		    "attribute \"%s\" needs a name of the form x-NAME or "
		    "y-NAME", c->name ? c->name : "");
		return -1;
	}
	at = ttlv_add_struct(box, KMIP_TAG_ATTRIBUTE);
	if (version >= KMIP_2_0) {
		ttlv_add_textn(at, KMIP_TAG_VENDOR_IDENTIFICATION, c->name,
		    (size_t)(dash - c->name));
		ttlv_add_text(at, KMIP_TAG_ATTRIBUTE_NAME, dash + 1);
	} else
		ttlv_add_text(at, KMIP_TAG_ATTRIBUTE_NAME, c->name);
	v = ttlv_dup(c->value, KMIP_TAG_ATTRIBUTE_VALUE);
	ttlv_adopt(at, &v);
	return 0;
}

int
attrs_present(const struct kmip_attrs *a)
{
	return a->has != 0 || a->ncustom != 0;
}

int
attrs_encode(const struct kmip_attrs *a, uint32_t version,
    enum attr_style style, struct ttlv *parent, struct kmip_err *err)
{
	const struct attr_def	*d;
	struct ttlv		*box, *at;
	size_t			 i;

	if (version >= KMIP_2_0)
		box = ttlv_add_struct(parent, KMIP_TAG_ATTRIBUTES);
	else if (style == ATTR_TEMPLATE)
		box = ttlv_add_struct(parent, KMIP_TAG_TEMPLATE_ATTRIBUTE);
	else
		box = parent;
	for (i = 0; i < NELEM(attr_defs); i++) {
		d = &attr_defs[i];
		if (!(a->has & d->bit) || version > d->maxver)
			continue;
		if (msg_need_version(d->minver, version, d->name, err) == -1)
			return -1;
		if (version >= KMIP_2_0) {
			if (value_encode(a, d, version, d->tag, box, err) == -1)
				return -1;
			continue;
		}
		at = ttlv_add_struct(box, KMIP_TAG_ATTRIBUTE);
		ttlv_add_text(at, KMIP_TAG_ATTRIBUTE_NAME, d->name);
		if (value_encode(a, d, version, KMIP_TAG_ATTRIBUTE_VALUE, at,
		    err) == -1)
			return -1;
	}
	for (i = 0; i < a->ncustom; i++)
		if (custom_encode(&a->custom[i], version, box, err) == -1)
			return -1;
	return 0;
}

/* Decode item v as the value of attribute d. */
static int
value_decode(struct kmip_attrs *a, const struct attr_def *d,
    const struct ttlv *v, struct kmip_err *err)
{
	static const enum ttlv_type kind_type[] = {
		TTLV_TEXT, TTLV_ENUM, TTLV_INT, TTLV_DATETIME, TTLV_BOOL,
		TTLV_STRUCT, TTLV_STRUCT
	};
	int	r;

	if (a->has & d->bit)
		return 0;		/* the first instance wins */
	if (!(d->kind == AK_DATE && v->type == TTLV_DATETIME_EXT) &&
	    ttlv_check_type(v, kind_type[d->kind], err) == -1)
		return -1;
	switch (d->kind) {
	case AK_TEXT:
		if ((*FIELD(a, d->off, char *) = strdup((char *)v->v.s.p)) ==
		    NULL)
			goto oom;
		break;
	case AK_ENUM:
		*FIELD(a, d->off, uint32_t) = v->v.e;
		break;
	case AK_INT:
		*FIELD(a, d->off, int32_t) = v->v.i;
		break;
	case AK_DATE:
		*FIELD(a, d->off, int64_t) = v->type == TTLV_DATETIME ?
		    v->v.l : v->v.l / 1000000;
		break;
	case AK_BOOL:
		*FIELD(a, d->off, int) = v->v.b;
		break;
	case AK_NAME:
		a->name_type = KMIP_NAME_TEXT;
		if ((r = ttlv_find_text(v, KMIP_TAG_NAME_VALUE, &a->name,
		    err)) == -1 || ttlv_find_enum(v, KMIP_TAG_NAME_TYPE,
		    &a->name_type, err) == -1)
			return -1;
		if (r == 0) {
			kmip_err_set(err, KMIP_REASON_INVALID_FIELD,
			    "Name attribute without a Name Value");
			return -1;
		}
		break;
	case AK_CPARAMS:
		if (cparams_decode(v, &a->cparams, err) == -1)
			return -1;
		break;
	}
	a->has |= d->bit;
	return 0;
 oom:
	kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
	    "out of memory reading attribute %s", d->name);
	return -1;
}

/* 2.0 vendor attribute {vendor, name} as its 1.x name "vendor-name". */
static char *
vendor_name(const char *vendor, const char *name)
{
	size_t	 n = strlen(vendor) + strlen(name) + 2;
	char	*s;

	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s-%s", vendor, name);
	return s;
}

/* Remember the first attribute this codec does not know. */
static int
note_unsupported(struct kmip_attrs *a, const char *name, uint32_t tag)
{
	char	buf[32];

	if (a->unsupported != NULL)
		return 0;
	if (name == NULL) {
		snprintf(buf, sizeof(buf), "tag 0x%06X", (unsigned)tag);
		name = buf;
	}
	return kmip_set_str(&a->unsupported, name);
}

/* Decode a 1.x Attribute, or a 2.0 vendor Attribute, structure. */
static int
attr1_decode(const struct ttlv *at, struct kmip_attrs *a,
    struct kmip_err *err)
{
	const struct attr_def	*d;
	const struct ttlv	*v;
	char			*name = NULL, *vendor = NULL, *full = NULL;
	int			 r, rc = -1;

	if (ttlv_check_type(at, TTLV_STRUCT, err) == -1)
		return -1;
	if ((r = ttlv_find_text(at, KMIP_TAG_ATTRIBUTE_NAME, &name, err)) ==
	    -1 || ttlv_find_text(at, KMIP_TAG_VENDOR_IDENTIFICATION, &vendor,
	    err) == -1)
		goto fail;
	if (r == 0 || (v = ttlv_find(at, KMIP_TAG_ATTRIBUTE_VALUE)) == NULL) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE, "an Attribute "
		    "needs an Attribute Name and an Attribute Value");
		goto fail;
	}
	if (vendor != NULL && vendor[0] != '\0') {
		if ((full = vendor_name(vendor, name)) == NULL ||
		    kmip_attrs_add_custom(a, full, v) == -1)
			goto oom;
	} else if ((d = def_by_name(name)) != NULL) {
		if (value_decode(a, d, v, err) == -1)
			goto fail;
	} else if (is_custom(name)) {
		if (kmip_attrs_add_custom(a, name, v) == -1)
			goto oom;
	} else if (note_unsupported(a, name, 0) == -1)
		goto oom;
	rc = 0;
	goto fail;
 oom:
	kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
	    "out of memory reading an attribute");
 fail:
	free(name);
	free(vendor);
	free(full);
	return rc;
}

/* Decode the children of a 2.0 Attributes structure. */
static int
attrs2_decode(const struct ttlv *box, struct kmip_attrs *a,
    struct kmip_err *err)
{
	const struct attr_def	*d;
	const struct ttlv	*c;

	if (ttlv_check_type(box, TTLV_STRUCT, err) == -1)
		return -1;
	for (c = box->child; c != NULL; c = c->next) {
		if (c->tag == KMIP_TAG_ATTRIBUTE) {
			if (attr1_decode(c, a, err) == -1)
				return -1;
		} else if ((d = def_by_tag(c->tag)) != NULL) {
			if (value_decode(a, d, c, err) == -1)
				return -1;
		} else if (note_unsupported(a, ttlv_tag_name(c->tag),
		    c->tag) == -1) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "out of memory reading attributes");
			return -1;
		}
	}
	return 0;
}

int
attrs_decode(const struct ttlv *s, struct kmip_attrs *a,
    struct kmip_err *err)
{
	const struct ttlv	*c, *at;

	for (c = s->child; c != NULL; c = c->next) {
		if (c->tag == KMIP_TAG_ATTRIBUTE) {
			if (attr1_decode(c, a, err) == -1)
				return -1;
		} else if (c->tag == KMIP_TAG_ATTRIBUTES) {
			if (attrs2_decode(c, a, err) == -1)
				return -1;
		} else if (c->tag == KMIP_TAG_TEMPLATE_ATTRIBUTE) {
			if (ttlv_check_type(c, TTLV_STRUCT, err) == -1)
				return -1;
			/* Template Names (references) are ignored. */
			for (at = c->child; at != NULL; at = at->next)
				if (at->tag == KMIP_TAG_ATTRIBUTE &&
				    attr1_decode(at, a, err) == -1)
					return -1;
		}
	}
	return 0;
}

int
kmip_attrs_add_custom(struct kmip_attrs *a, const char *name,
    const struct ttlv *value)
{
	struct kmip_custom	*n;
	struct ttlv		*v;
	char			*s;

	if ((v = ttlv_dup(value, KMIP_TAG_ATTRIBUTE_VALUE)) == NULL)
		return -1;
	if ((s = strdup(name)) == NULL ||
	    (n = reallocarray(a->custom, a->ncustom + 1, sizeof(*n))) ==
	    NULL) {
		free(s);
		ttlv_free(&v);
		return -1;
	}
	a->custom = n;
	a->custom[a->ncustom].name = s;
	a->custom[a->ncustom].value = v;
	a->ncustom++;
	return 0;
}

void
kmip_attrs_clear(struct kmip_attrs *a)
{
	size_t	i;

	free(a->uid);
	free(a->name);
	free(a->policy_name);
	free(a->object_group);
	free(a->unsupported);
	for (i = 0; i < a->ncustom; i++) {
		free(a->custom[i].name);
		ttlv_free(&a->custom[i].value);
	}
	free(a->custom);
	memset(a, 0, sizeof(*a));
}

/*
 * Get Attributes request names: 1.x Attribute Name (Text), 2.0 Attribute
 * Reference (an Enumeration holding the attribute's tag, or a Structure
 * {Vendor Identification, Attribute Name} for a custom one).
 */
int
want_encode(const struct kmip_payload *p, uint32_t version,
    struct ttlv *parent, struct kmip_err *err)
{
	const struct attr_def	*d;
	struct ttlv		*ref;
	const char		*name, *dash;
	size_t			 i;

	for (i = 0; i < NELEM(attr_defs); i++) {
		d = &attr_defs[i];
		if (!(p->want & d->bit) || version > d->maxver)
			continue;
		if (msg_need_version(d->minver, version, d->name, err) == -1)
			return -1;
		if (version >= KMIP_2_0)
			ttlv_add_enum(parent, KMIP_TAG_ATTRIBUTE_REFERENCE,
			    d->tag);
		else
			ttlv_add_text(parent, KMIP_TAG_ATTRIBUTE_NAME, d->name);
	}
	for (i = 0; i < p->nwant_custom; i++) {
		name = p->want_custom[i];
		if (name == NULL || !is_custom(name)) {
			kmip_err_set(err, KMIP_REASON_INVALID_FIELD, "custom "
			    "attribute \"%s\" needs a name of the form x-NAME "
			    "or y-NAME", name ? name : "");
			return -1;
		}
		if (version < KMIP_2_0) {
			ttlv_add_text(parent, KMIP_TAG_ATTRIBUTE_NAME, name);
			continue;
		}
		dash = strchr(name, '-');
		ref = ttlv_add_struct(parent, KMIP_TAG_ATTRIBUTE_REFERENCE);
		ttlv_add_textn(ref, KMIP_TAG_VENDOR_IDENTIFICATION, name,
		    (size_t)(dash - name));
		ttlv_add_text(ref, KMIP_TAG_ATTRIBUTE_NAME, dash + 1);
	}
	return 0;
}

/* Record one requested attribute by name (1.x form). */
static int
want_name(struct kmip_payload *p, const char *name)
{
	const struct attr_def	*d;
	char			**n;

	p->nwant++;
	if ((d = def_by_name(name)) != NULL) {
		p->want |= d->bit;
		return 0;
	}
	if (!is_custom(name))
		return 0;		/* unknown: simply not returned */
	if ((n = reallocarray(p->want_custom, p->nwant_custom + 1,
	    sizeof(*n))) == NULL)
		return -1;
	p->want_custom = n;
	if ((n[p->nwant_custom] = strdup(name)) == NULL)
		return -1;
	p->nwant_custom++;
	return 0;
}

int
want_decode(const struct ttlv *s, struct kmip_payload *p,
    struct kmip_err *err)
{
	const struct attr_def	*d;
	const struct ttlv	*c;
	char			*vendor = NULL, *name = NULL, *full = NULL;
	int			 rc = -1;

	for (c = s->child; c != NULL; c = c->next) {
		if (c->tag == KMIP_TAG_ATTRIBUTE_NAME) {
			if (ttlv_check_type(c, TTLV_TEXT, err) == -1)
				goto fail;
			if (want_name(p, (const char *)c->v.s.p) == -1)
				goto oom;
		} else if (c->tag == KMIP_TAG_ATTRIBUTE_REFERENCE &&
		    c->type == TTLV_ENUM) {
			p->nwant++;
			if ((d = def_by_tag(c->v.e)) != NULL)
				p->want |= d->bit;
		} else if (c->tag == KMIP_TAG_ATTRIBUTE_REFERENCE) {
			if (ttlv_check_type(c, TTLV_STRUCT, err) == -1 ||
			    ttlv_find_text(c, KMIP_TAG_VENDOR_IDENTIFICATION,
			    &vendor, err) != 1 || ttlv_find_text(c,
			    KMIP_TAG_ATTRIBUTE_NAME, &name, err) != 1) {
				kmip_err_set(err, KMIP_REASON_INVALID_FIELD,
				    "an Attribute Reference structure needs a "
				    "Vendor Identification and an Attribute "
				    "Name");
				goto fail;
			}
			/* An empty vendor names a standard attribute. */
			if (vendor[0] == '\0' ? want_name(p, name) == -1 :
			    ((full = vendor_name(vendor, name)) == NULL ||
			    want_name(p, full) == -1))
				goto oom;
			free(vendor);
			free(name);
			free(full);
			vendor = name = full = NULL;
		}
	}
	rc = 0;
	goto fail;
 oom:
	kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
	    "out of memory reading attribute names");
 fail:
	free(vendor);
	free(name);
	free(full);
	return rc;
}
