/*
 * msg_int.h - private interface between msg.c (messages), msg_payload.c
 * (per-operation payloads) and msg_attr.c (attributes, Cryptographic
 * Parameters, the Symmetric Key object).  Not for use outside common/kmip.
 */
#ifndef KF_KMIP_MSG_INT_H
#define KF_KMIP_MSG_INT_H

#include "kmip.h"

/* How 1.x attributes are carried; 2.0 always uses Attributes. */
enum attr_style {
	ATTR_TEMPLATE,		/* Template-Attribute {Attribute*} */
	ATTR_BARE		/* Attribute* directly in the payload */
};

/* "needs KMIP 1.4 (message is 1.2)": refuse a field newer than version. */
int	msg_need_version(uint32_t need, uint32_t version, const char *what,
	    struct kmip_err *err);

/* Protocol Version {Major, Minor} <-> KMIP_VER(); majors/minors 0..65535. */
void	pv_encode(struct ttlv *parent, uint32_t version);
int	pv_decode(const struct ttlv *pv, uint32_t *version,
	    struct kmip_err *err);

/* msg_attr.c */
/* 1 when a has anything to encode. */
int	attrs_present(const struct kmip_attrs *a);
int	attrs_encode(const struct kmip_attrs *a, uint32_t version,
	    enum attr_style style, struct ttlv *parent, struct kmip_err *err);
/* Read Template-Attribute, Attributes and bare Attribute items of s. */
int	attrs_decode(const struct ttlv *s, struct kmip_attrs *a,
	    struct kmip_err *err);
/* Fill the Cryptographic Parameters structure s (already added). */
int	cparams_encode(const struct kmip_cparams *cp, uint32_t version,
	    struct ttlv *s, struct kmip_err *err);
int	cparams_decode(const struct ttlv *s, struct kmip_cparams *cp,
	    struct kmip_err *err);
int	key_encode(const struct kmip_key *k, struct ttlv *parent,
	    struct kmip_err *err);
/* Decode a Symmetric Key structure; sets KMIP_P_WRAPPED_KEY in *has. */
int	key_decode(const struct ttlv *s, struct kmip_key *k, uint32_t *has,
	    struct kmip_err *err);
/* Get Attributes request: Attribute Name* (1.x) / Attribute Reference*. */
int	want_encode(const struct kmip_payload *p, uint32_t version,
	    struct ttlv *parent, struct kmip_err *err);
int	want_decode(const struct ttlv *s, struct kmip_payload *p,
	    struct kmip_err *err);

#endif
