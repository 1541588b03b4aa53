/*
 * ttlv_dump.c - a readable dump of a TTLV tree for debugging, one item per
 * line: name, tag, type and value.  Values of items that carry secrets (Key
 * Material, Key, Password, Credential Value, Data, a wrapped Key Value) are
 * replaced by their length, and long byte strings are cut; still, dumps are
 * for a developer's terminal, not for logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip.h"
#include "util.h"

#define DUMP_MAX_BYTES	32	/* byte string bytes shown before "..." */

const char *
ttlv_type_name(enum ttlv_type t)
{
	switch (t) {
	case TTLV_STRUCT:
		return "Structure";
	case TTLV_INT:
		return "Integer";
	case TTLV_LONG:
		return "Long Integer";
	case TTLV_BIGINT:
		return "Big Integer";
	case TTLV_ENUM:
		return "Enumeration";
	case TTLV_BOOL:
		return "Boolean";
	case TTLV_TEXT:
		return "Text String";
	case TTLV_BYTES:
		return "Byte String";
	case TTLV_DATETIME:
		return "Date-Time";
	case TTLV_INTERVAL:
		return "Interval";
	case TTLV_DATETIME_EXT:
		return "Date-Time Extended";
	default:
		return "unknown type";
	}
}

static int
secret_tag(uint32_t tag)
{
	switch (tag) {
	case KMIP_TAG_KEY_MATERIAL:
	case KMIP_TAG_KEY:
	case KMIP_TAG_KEY_VALUE:
	case KMIP_TAG_PASSWORD:
	case KMIP_TAG_CREDENTIAL_VALUE:
	case KMIP_TAG_DATA:
	case KMIP_TAG_SERVER_HASHED_PASSWORD:
		return 1;
	default:
		return 0;
	}
}

static void
dump_bytes(FILE *fp, const struct ttlv *it)
{
	size_t	i;

	if (secret_tag(it->tag)) {
		fprintf(fp, "<%zu bytes redacted>", it->v.s.len);
		return;
	}
	fprintf(fp, "(%zu) ", it->v.s.len);
	for (i = 0; i < it->v.s.len && i < DUMP_MAX_BYTES; i++)
		fprintf(fp, "%02x", it->v.s.p[i]);
	if (it->v.s.len > DUMP_MAX_BYTES)
		fputs("...", fp);
}

static void
dump_item(FILE *fp, const struct ttlv *it, int depth)
{
	const struct ttlv	*c;
	const char		*name = ttlv_tag_name(it->tag);

	fprintf(fp, "%*s%s (0x%06X) %s", depth * 2, "", name ? name : "?",
	    (unsigned)it->tag, ttlv_type_name(it->type));
	switch (it->type) {
	case TTLV_STRUCT:
		fputc('\n', fp);
		for (c = it->child; c != NULL; c = c->next)
			dump_item(fp, c, depth + 1);
		return;
	case TTLV_INT:
		fprintf(fp, " %d", it->v.i);
		break;
	case TTLV_ENUM:
		fprintf(fp, " 0x%08X", it->v.e);
		break;
	case TTLV_INTERVAL:
		fprintf(fp, " %us", it->v.e);
		break;
	case TTLV_LONG:
	case TTLV_DATETIME:
	case TTLV_DATETIME_EXT:
		fprintf(fp, " %lld", (long long)it->v.l);
		break;
	case TTLV_BOOL:
		fputs(it->v.b ? " true" : " false", fp);
		break;
	case TTLV_TEXT:
		if (secret_tag(it->tag))
			fprintf(fp, " <%zu bytes redacted>", it->v.s.len);
		else
			fprintf(fp, " \"%s\"", (const char *)it->v.s.p);
		break;
	default:
		fputc(' ', fp);
		dump_bytes(fp, it);
		break;
	}
	fputc('\n', fp);
}

void
ttlv_dump(FILE *fp, const struct ttlv *it)
{
	if (it != NULL)
		dump_item(fp, it, 0);
}

char *
ttlv_dump_string(const struct ttlv *it)
{
	char	*s = NULL;
	size_t	 n = 0;
	FILE	*fp;

	if ((fp = open_memstream(&s, &n)) == NULL)
		return NULL;
	ttlv_dump(fp, it);
	if (fclose(fp) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

int
ttlv_hex_parse(const char *text, uint8_t **buf, size_t *len)
{
	const char	*s;
	uint8_t		*b;
	size_t		 n = 0;
	int		 hi = -1, v;

	*buf = NULL;
	*len = 0;
	if ((b = malloc(strlen(text) / 2 + 1)) == NULL)
		return -1;
	for (s = text; *s != '\0'; s++) {
		if (*s == '#') {
			while (s[1] != '\0' && s[1] != '\n')
				s++;
			continue;
		}
		if (*s == '|' || *s == ' ' || *s == '\t' || *s == '\n' ||
		    *s == '\r')
			continue;
		if ((v = util_hexval((unsigned char)*s)) == -1)
			goto fail;
		if (hi == -1)
			hi = v;
		else {
			b[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi != -1)
		goto fail;
	*buf = b;
	*len = n;
	return 0;
 fail:
	free(b);
	return -1;
}

int
ttlv_hex_read_file(const char *path, uint8_t **buf, size_t *len)
{
	uint8_t	*text, *t;
	size_t	 tlen;
	int	 rc;

	*buf = NULL;
	*len = 0;
	if (util_read_file(path, 4 << 20, &text, &tlen) == -1)
		return -1;
	if ((t = realloc(text, tlen + 1)) == NULL) {
		free(text);
		return -1;
	}
	t[tlen] = '\0';
	rc = ttlv_hex_parse((const char *)t, buf, len);
	free(t);
	return rc;
}
