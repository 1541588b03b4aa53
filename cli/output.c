/*
 * output.c - everything keyflow prints: a small streaming JSON writer for
 * --json, aligned tables and "key: value" lines for people, and the
 * formatting of times, durations, sizes and rates.
 *
 * Strings reach us from the network, and names (file names above all) may
 * be any bytes.  The JSON writer therefore escapes quotes, backslashes,
 * control characters and every byte that is not part of a valid UTF-8
 * sequence (as \u00XX), so the document is always valid JSON.  Human
 * output escapes control characters and invalid bytes as \xNN so that a
 * hostile name cannot move the cursor or rewrite the terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"

/*
 * Length of the valid UTF-8 sequence at s (1-4), or 0 when s[0] does not
 * start one (stray continuation byte, overlong form, surrogate, beyond
 * U+10FFFF, or cut short by n).
 */
int
utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xbf;
	int		len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < (size_t)len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* JSON ---------------------------------------------------------------- */

void
json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

static void
json_indent(struct json *j)
{
	int	i;

	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator and indentation before a value or a key. */
static void
json_pre(struct json *j, int is_key)
{
	char	kind;

	if (j->after_key) {
		if (is_key)
			j->bad = 1;
		j->after_key = 0;
		return;
	}
	if (j->depth == 0) {
		if (is_key)
			j->bad = 1;
		return;
	}
	kind = j->kind[j->depth - 1];
	if ((kind == '{') != is_key)
		j->bad = 1;	/* value without key, or key in an array */
	if (j->count[j->depth - 1]++ > 0)
		fputc(',', j->f);
	json_indent(j);
}

static void
json_open(struct json *j, char kind)
{
	json_pre(j, 0);
	fputc(kind, j->f);
	if (j->depth >= JSON_DEPTH_MAX) {
		j->bad = 1;
		return;
	}
	j->kind[j->depth] = kind;
	j->count[j->depth] = 0;
	j->depth++;
}

static void
json_close(struct json *j, char kind)
{
	if (j->depth == 0 || j->after_key ||
	    j->kind[j->depth - 1] != kind) {
		j->bad = 1;
		return;
	}
	j->depth--;
	if (j->count[j->depth] > 0)
		json_indent(j);
	fputc(kind == '{' ? '}' : ']', j->f);
}

void
json_obj_begin(struct json *j)
{
	json_open(j, '{');
}

void
json_obj_end(struct json *j)
{
	json_close(j, '{');
}

void
json_arr_begin(struct json *j)
{
	json_open(j, '[');
}

void
json_arr_end(struct json *j)
{
	json_close(j, '[');
}

/* A quoted, escaped string of any bytes. */
static void
json_quote(FILE *f, const unsigned char *s, size_t n)
{
	size_t	i = 0;
	int	len;

	fputc('"', f);
	while (i < n) {
		unsigned char	c = s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
				break;
			}
			if ((len = utf8_valid_len(s + i, n - i)) == 0) {
				/* Not UTF-8: keep the byte's value visible. */
				fprintf(f, "\\u%04x", c);
				break;
			}
			fwrite(s + i, 1, len, f);
			i += len;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

void
json_key(struct json *j, const char *key)
{
	json_pre(j, 1);
	json_quote(j->f, (const unsigned char *)key, strlen(key));
	fputs(": ", j->f);
	j->after_key = 1;
}

void
json_strn(struct json *j, const void *s, size_t n)
{
	json_pre(j, 0);
	json_quote(j->f, s, n);
}

void
json_str(struct json *j, const char *s)
{
	if (s == NULL)
		json_null(j);
	else
		json_strn(j, s, strlen(s));
}

void
json_u64(struct json *j, uint64_t v)
{
	json_pre(j, 0);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void
json_i64(struct json *j, int64_t v)
{
	json_pre(j, 0);
	fprintf(j->f, "%lld", (long long)v);
}

void
json_bool(struct json *j, int v)
{
	json_pre(j, 0);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j)
{
	json_pre(j, 0);
	fputs("null", j->f);
}

void
json_kstr(struct json *j, const char *key, const char *v)
{
	if (v == NULL)
		return;
	json_key(j, key);
	json_str(j, v);
}

void
json_ku64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void
json_ki64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_i64(j, v);
}

void
json_kbool(struct json *j, const char *key, int v)
{
	json_key(j, key);
	json_bool(j, v);
}

void
json_ktime(struct json *j, const char *key, int64_t us)
{
	char	name[64], buf[64];

	if (us == 0)
		return;
	snprintf(name, sizeof(name), "%s_us", key);
	json_ki64(j, name, us);
	json_kstr(j, key, out_time(us, buf, sizeof(buf)));
}

int
json_finish(struct json *j)
{
	fputc('\n', j->f);
	if (j->bad || j->depth != 0 || j->after_key)
		return -1;
	return 0;
}

/* One object (fn writes it) as the whole document on stdout. */
void
out_json_item(void (*fn)(struct json *, const void *), const void *item)
{
	struct json	j;

	json_init(&j, stdout);
	fn(&j, item);
	json_finish(&j);
}

/* Human output -------------------------------------------------------- */

/* Append the terminal-safe form of s to f. */
void
out_clean(FILE *f, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = strlen(str), i = 0;
	int			 len;

	while (i < n) {
		len = utf8_valid_len(s + i, n - i);
		/* C0, DEL, C1 (U+0080-U+009F) and invalid bytes. */
		if (len == 0 || (len == 1 && (s[i] < 0x20 || s[i] == 0x7f)) ||
		    (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			if (len == 0)
				len = 1;
			while (len-- > 0)
				fprintf(f, "\\x%02x", s[i++]);
			continue;
		}
		fwrite(s + i, 1, len, f);
		i += len;
	}
}

/* The terminal-safe form of s, malloc'd; NULL on allocation failure. */
char *
out_clean_dup(const char *s)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	out_clean(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* printf to f, made terminal-safe as a whole, then a newline. */
void
out_line(FILE *f, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("keyflow: out of memory\n", stderr);
		return;
	}
	out_clean(f, s);
	fputc('\n', f);
	free(s);
}

/* Local ISO-8601 with the UTC offset, e.g. 2024-05-01T12:34:56+02:00. */
const char *
out_time(int64_t us, char *buf, size_t cap)
{
	struct tm	tm;
	time_t		t;
	char		date[48], zone[16];
	size_t		zl;

	if (us == 0) {
		snprintf(buf, cap, "-");
		return buf;
	}
	t = (time_t)(us / 1000000);
	if (us < 0 && us % 1000000 != 0)
		t--;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    (zl = strftime(zone, sizeof(zone), "%z", &tm)) != 5) {
		snprintf(buf, cap, "@%lld", (long long)us);
		return buf;
	}
	snprintf(buf, cap, "%s%.3s:%s", date, zone, zone + 3);
	return buf;
}

const char *
out_duration(int64_t us, char *buf, size_t cap)
{
	long long	s;

	if (us < 0)
		snprintf(buf, cap, "-");
	else if (us < 1000000)
		snprintf(buf, cap, "%lld ms", (long long)(us / 1000));
	else if (us < 60 * 1000000LL)
		snprintf(buf, cap, "%.1f s", us / 1e6);
	else if ((s = us / 1000000) < 3600)
		snprintf(buf, cap, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, cap, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, cap, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

/* Exact and human: "1234567 (1.2 MiB)"; small sizes just "512". */
const char *
out_bytes(uint64_t bytes, char *buf, size_t cap)
{
	char	h[32];

	if (bytes < 1024)
		snprintf(buf, cap, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, cap, "%llu (%s)", (unsigned long long)bytes,
		    util_human_bytes(bytes, h, sizeof(h)));
	return buf;
}

/* Decimal megabytes per second; bytes per microsecond is exactly MB/s. */
const char *
out_rate(uint64_t bytes, int64_t us, char *buf, size_t cap)
{
	if (us <= 0)
		snprintf(buf, cap, "- MB/s");
	else
		snprintf(buf, cap, "%.1f MB/s", (double)bytes / (double)us);
	return buf;
}

/* One "key: value" line on stdout, values made terminal-safe. */
void
out_kv(const char *key, const char *value)
{
	int	n;

	n = printf("%s:", key);
	printf("%*s", n < 16 ? 16 - n : 1, "");
	out_clean(stdout, value != NULL ? value : "-");
	putchar('\n');
}

/* Flush stdout; -1 (with a message) if anything failed to be written. */
int
out_finish(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "keyflow: cannot write the output\n");
		return -1;
	}
	return 0;
}

/* Tables -------------------------------------------------------------- */

struct table {
	int		 ncols;		/* columns per row */
	char		**hdr;		/* header texts */
	int		*right;		/* 1: right-align (numbers) */
	char		**cells;	/* row-major, terminal-safe copies */
	size_t		 ncells;	/* cells added so far */
	size_t		 cap;		/* cells allocated */
	int		 nomem;		/* an allocation failed */
};

struct table *
table_new(int ncols, const char *const *headers)
{
	struct table	*t;
	const char	*h;
	int		 i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	t->hdr = calloc(ncols, sizeof(*t->hdr));
	t->right = calloc(ncols, sizeof(*t->right));
	if (t->hdr == NULL || t->right == NULL) {
		table_free(&t);
		return NULL;
	}
	for (i = 0; i < ncols; i++) {
		h = headers[i];
		if (h[0] == '>') {
			t->right[i] = 1;
			h++;
		}
		t->hdr[i] = (char *)h;
	}
	return t;
}

void
table_add(struct table *t, const char *cell)
{
	char	**n;
	size_t	  ncap;

	if (t == NULL)
		return;
	if (t->ncells == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		if ((n = reallocarray(t->cells, ncap, sizeof(*n))) == NULL) {
			t->nomem = 1;
			return;
		}
		t->cells = n;
		t->cap = ncap;
	}
	if ((t->cells[t->ncells] = out_clean_dup(cell ? cell : "-")) == NULL) {
		t->nomem = 1;
		return;
	}
	t->ncells++;
}

void
table_addf(struct table *t, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_add(t, buf);
}

/* Display width: code points (the cells are valid UTF-8 by now). */
static int
width(const char *s)
{
	int	w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
print_row(const struct table *t, FILE *f, char *const *row, const int *w)
{
	int	i, pad;

	for (i = 0; i < t->ncols; i++) {
		pad = w[i] - width(row[i]);
		if (i > 0)
			fputs("  ", f);
		if (t->right[i])
			fprintf(f, "%*s%s", pad, "", row[i]);
		else if (i < t->ncols - 1)
			fprintf(f, "%s%*s", row[i], pad, "");
		else
			fputs(row[i], f);
	}
	fputc('\n', f);
}

int
table_print(const struct table *t, FILE *f)
{
	int	*w;
	size_t	 r, nrows;
	int	 i;

	if (t == NULL || t->nomem ||
	    (w = calloc(t->ncols, sizeof(*w))) == NULL) {
		fprintf(stderr, "keyflow: out of memory\n");
		return -1;
	}
	nrows = t->ncells / t->ncols;
	for (i = 0; i < t->ncols; i++) {
		w[i] = width(t->hdr[i]);
		for (r = 0; r < nrows; r++)
			if (width(t->cells[r * t->ncols + i]) > w[i])
				w[i] = width(t->cells[r * t->ncols + i]);
	}
	print_row(t, f, t->hdr, w);
	for (r = 0; r < nrows; r++)
		print_row(t, f, t->cells + r * t->ncols, w);
	free(w);
	return 0;
}

void
table_free(struct table **tp)
{
	struct table	*t;
	size_t		 i;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->hdr);
	free(t->right);
	free(t);
	*tp = NULL;
}
