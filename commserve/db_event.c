/*
 * db_event.c - trace events in the job events table.
 *
 * Events are sentences from other daemons, so their free text is made
 * valid UTF-8 before it is stored.  CommServe collects them in a small
 * batch (events.c) and stores a batch with one multi-row INSERT: one round
 * trip and one commit for many events, instead of one of each per event,
 * which is what lets small jobs run at hundreds a second.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"

#define EVENT_COLS	10

static const char sql_event_head[] =
    "INSERT INTO job_events (trace_id, job_id, flow, step, actor, action, "
    "peer, bytes, ts, detail) VALUES ";
static const char sql_events_get[] =
    "SELECT trace_id, coalesce(job_id, 0), flow, step, actor, action, peer, "
    "bytes, " DB_US("ts") ", detail FROM job_events "
    "WHERE trace_id = $1 ORDER BY step, ts, id";

/* The free text of one event, made valid UTF-8. */
struct event_text {
	char	action[DB_TEXT_MAX];	/* what was done */
	char	peer[DB_NAME_MAX];	/* to whom */
	char	detail[DB_TEXT_MAX];	/* anything else */
};

/* A fixed-size field of free text from a peer, made valid UTF-8. */
static int
clean_field(struct db *db, char *buf, const char *field, size_t cap,
    const char *what)
{
	if (strnlen(field, cap) >= cap) {
		db_seterr(db, "%s is longer than %zu bytes", what, cap - 1);
		return -1;
	}
	db_text_clean(buf, cap, field);
	return 0;
}

/* The ten parameters of one event; its text goes into t, which a must
 * not outlive. */
static int
event_args(struct db *db, const struct db_event *ev, struct event_text *t,
    struct db_arg a[EVENT_COLS])
{
	if (clean_field(db, t->action, ev->action, sizeof(t->action),
	    "action") ||
	    clean_field(db, t->peer, ev->peer, sizeof(t->peer), "peer") ||
	    clean_field(db, t->detail, ev->detail, sizeof(t->detail),
	    "detail") ||
	    DB_ARG_FIELD(db, &a[0], ev->trace_id, "trace id") ||
	    DB_ARG_FIELD(db, &a[2], ev->flow, "flow") ||
	    DB_ARG_FIELD(db, &a[4], ev->actor, "actor") ||
	    db_arg_u64(db, &a[7], ev->bytes, "event size"))
		return -1;
	db_arg_id(&a[1], ev->job_id);
	db_arg_i64(&a[3], ev->step);
	db_arg_text(&a[5], t->action);
	db_arg_text(&a[6], t->peer);
	db_arg_i64(&a[8], ev->ts_us);
	db_arg_text(&a[9], t->detail);
	return 0;
}

/* "INSERT ... VALUES ($1, ...), ($11, ...)" for n rows, malloc'ed. */
static char *
insert_sql(size_t n)
{
	char	*sql, *p;
	size_t	 cap, i;
	int	 k, b;

	cap = sizeof(sql_event_head) + n * 160;
	if ((sql = malloc(cap)) == NULL)
		return NULL;
	p = sql + snprintf(sql, cap, "%s", sql_event_head);
	for (i = 0; i < n; i++) {
		b = (int)(i * EVENT_COLS);
		k = snprintf(p, cap - (size_t)(p - sql),
		    "%s($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, "
		    DB_TS("$%d") ", $%d)", i ? ", " : "",
		    b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8,
		    b + 9, b + 10);
		if (k < 0 || (size_t)k >= cap - (size_t)(p - sql)) {
			free(sql);
			return NULL;
		}
		p += k;
	}
	return sql;
}

int
db_events_add(struct db *db, const struct db_event *evs, size_t n)
{
	struct event_text	*t = NULL;
	struct db_arg		*a = NULL;
	char			*sql = NULL;
	size_t			 i;
	int			 rc = DB_ERROR;

	if (n == 0)
		return DB_OK;
	if (n > DB_EVENTS_BATCH_MAX) {
		db_seterr(db, "%zu events in one batch; at most %d", n,
		    DB_EVENTS_BATCH_MAX);
		return DB_ERROR;
	}
	if ((t = calloc(n, sizeof(*t))) == NULL ||
	    (a = calloc(n * EVENT_COLS, sizeof(*a))) == NULL ||
	    (sql = insert_sql(n)) == NULL) {
		db_seterr(db, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (event_args(db, &evs[i], &t[i], &a[i * EVENT_COLS]) == -1)
			goto fail;
	rc = db_exec(db, sql, (int)(n * EVENT_COLS), a, 0, NULL, NULL, NULL);
fail:
	free(sql);
	free(a);
	free(t);
	return rc;
}

int
db_event_add(struct db *db, const struct db_event *ev)
{
	return db_events_add(db, ev, 1);
}

struct event_list {
	void	(*cb)(void *, const struct db_event *);	/* the caller's */
	void	*arg;					/* its argument */
};

static int
each_event(struct db *db, const struct db_row *r, void *ctx)
{
	struct event_list	*l = ctx;
	struct db_event		*ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		db_seterr(db, "out of memory");
		return -1;
	}
	if (DB_COL_STR(r, 0, ev->trace_id) == -1 ||
	    db_col_i64(r, 1, &ev->job_id) == -1 ||
	    DB_COL_STR(r, 2, ev->flow) == -1 ||
	    db_col_u32(r, 3, &ev->step) == -1 ||
	    DB_COL_STR(r, 4, ev->actor) == -1 ||
	    DB_COL_STR(r, 5, ev->action) == -1 ||
	    DB_COL_STR(r, 6, ev->peer) == -1 ||
	    db_col_u64(r, 7, &ev->bytes) == -1 ||
	    db_col_i64(r, 8, &ev->ts_us) == -1 ||
	    DB_COL_STR(r, 9, ev->detail) == -1) {
		free(ev);
		return -1;
	}
	l->cb(l->arg, ev);
	free(ev);
	return 0;
}

int
db_events_get(struct db *db, const char *trace_id,
    void (*cb)(void *, const struct db_event *), void *arg)
{
	struct event_list	l = { cb, arg };
	struct db_arg		a;

	db_arg_text(&a, trace_id);
	return db_exec(db, sql_events_get, 1, &a, 10, each_event, &l, NULL);
}
