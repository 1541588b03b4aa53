/*
 * restore.c - a restore job, from its order to JOB_DONE.
 *
 * The backup's catalog comes from CommServe (restore_catalog.c); the
 * requested paths select entries (a path selects itself and everything
 * under it; none selects all).  The selected records' byte ranges in the
 * stream give the chunks to fetch from the MediaAgent (fetch.c), which are
 * opened with the DEK and fed to the stream parser from each record's
 * offset.  Every record header must agree with its catalog entry, and the
 * files are written by restore_write.c.  A whole-backup restore also reads
 * the end record, so a stream that stops short or runs on is caught.
 *
 * The data flows through three threads: the job's thread receives chunks
 * (it alone touches the job's sockets, so it also sends the progress
 * reports), the opener decrypts them (fetch.c) and hashes each selected
 * file's data where its catalog entry places it (restore_hash), and the
 * writer here parses and writes, and compares each file's hash with the
 * catalog before renaming it into place.  The two see the same plaintext
 * bytes: the writer renames only a file whose record the parser found at
 * the catalog's offset, with the catalog's header and size, ending at the
 * catalog's end, so its data are exactly the bytes the opener hashed.
 * While they run only the writer records job errors; the job thread's own
 * go through fetch_error once the writer has stopped, so every error names
 * the file being restored when it happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "client.h"
#include "fault.h"
#include "log.h"
#include "trace.h"
#include "util.h"

/* A selected file's SHA-256, from the opener thread to the writer. */
struct restore_sum {
	uint8_t		 md[KF_SHA256_LEN]; /* of the file's data in the stream */
	int		 ready;		/* md is complete */
};

struct restore {
	struct job	*job;		/* ids, keys, sockets, errors */
	const Kf__RestoreOrder *order;	/* what CommServe asked for */
	struct restore_entry *cat;	/* the whole catalog */
	size_t		 ncat;		/* its entries */
	struct restore_entry **sel;	/* selected records, stream order */
	size_t		 nsel;		/* selected (with the end record) */
	struct restore_entry endrec;	/* the end record, whole restores */
	struct fetch_range *ranges;	/* chunks to fetch */
	size_t		 nranges;	/* runs in ranges */
	struct rwriter	*rw;		/* the files being written */
	struct fetch	*fetch;		/* the chunks being read */
	struct stream_parser *parser;	/* records out of the chunks */
	size_t		 cur;		/* selected record being restored */
	int		 active;	/* the parser is inside sel[cur] */
	int		 rec_done;	/* sel[cur] has ended */
	int		 saw_end;	/* the end record was parsed */
	atomic_uint_fast64_t files;	/* records restored (writer thread) */
	atomic_uint_fast64_t bytes;	/* file bytes restored (writer thread) */
	int64_t		 started_ms;	/* when the data started to flow */
	int64_t		 data_ms;	/* and how long it took */
	uint64_t	 files_total;	/* records selected */
	uint64_t	 bytes_total;	/* file bytes selected */
	struct restore_sum *sums;	/* per selected record (opener) */
	size_t		 hcur;		/* selected record being hashed */
	struct sha256_ctx *hsha;	/* its hash so far, or NULL */
	int		 hfail;		/* hashing failed: no more sums */
};

static const char *
restore_cur_path(const struct restore *r)
{
	if (r->cur < r->nsel && r->sel[r->cur]->type != STREAM_END)
		return r->sel[r->cur]->path;
	return "(end of stream)";
}

static int
restore_on_header(void *arg, const struct stream_entry *e, uint64_t off)
{
	struct restore			*r = arg;
	const struct restore_entry	*c = r->sel[r->cur];

	if (c->type == STREAM_END) {
		job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY, "the stream of "
		    "backup job %llu has a record for %s after the last "
		    "catalog entry", (unsigned long long)r->order->backup_job,
		    e->path);
		return 1;
	}
	if (off != c->offset || e->type != c->type ||
	    strcmp(e->path, c->path) != 0 || e->size != c->size ||
	    e->mode != c->mode || e->mtime_sec != c->mtime_sec ||
	    e->mtime_nsec != c->mtime_nsec ||
	    (c->type == STREAM_SYMLINK && strcmp(e->link, c->link) != 0)) {
		job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY, "the stream of "
		    "backup job %llu holds %s at offset %llu where catalog "
		    "entry %llu says %s", (unsigned long long)
		    r->order->backup_job, e->path, (unsigned long long)off,
		    (unsigned long long)c->index, c->path);
		return 1;
	}
	if (c->type == STREAM_REGULAR && rw_file_begin(r->rw, c) == -1)
		return 1;
	return 0;
}

static int
restore_on_data(void *arg, const uint8_t *buf, size_t len)
{
	struct restore	*r = arg;

	return rw_file_write(r->rw, buf, len) == -1 ? 1 : 0;
}

static int
restore_on_record_end(void *arg, const struct stream_entry *e)
{
	struct restore			*r = arg;
	const struct restore_entry	*c = r->sel[r->cur];
	int				 rc;

	if (c->type == STREAM_REGULAR) {
		if (stream_parser_offset(r->parser) != c->end) {
			job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY, "the "
			    "record of %s does not end where its catalog "
			    "entry says", c->path);
			return 1;
		}
		rc = rw_file_end(r->rw, r->sums[r->cur].ready ?
		    r->sums[r->cur].md : NULL);
	} else if (c->type == STREAM_SYMLINK)
		rc = rw_symlink(r->rw, c);
	else
		rc = rw_dir(r->rw, c);
	if (rc == -1)
		return 1;
	r->rec_done = 1;
	r->files++;
	r->bytes += c->size;
	return job_stopped(r->job);
}

static int
restore_on_end(void *arg, uint64_t off)
{
	struct restore	*r = arg;

	if (r->sel[r->cur]->type != STREAM_END) {
		job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY, "the stream of "
		    "backup job %llu ends at offset %llu, before %s",
		    (unsigned long long)r->order->backup_job,
		    (unsigned long long)off, restore_cur_path(r));
		return 1;
	}
	r->saw_end = 1;
	return 0;
}

/*
 * The opener thread's part (fetch_on_open): hash the data of the selected
 * regular files that chunk idx holds, [end - size, end) of each record,
 * and publish each complete hash in sums[] before the chunk goes on to the
 * writer.  Chunks come in order, and a file's chunks are all fetched.
 */
static void
restore_hash(void *arg, uint64_t idx, const uint8_t *p, size_t len)
{
	struct restore			*r = arg;
	const struct restore_entry	*e;
	uint64_t			 cbase, cend, ds, lo, hi;

	cbase = idx * r->order->chunk_size;
	cend = cbase + len;
	while (!r->hfail && r->hcur < r->nsel) {
		e = r->sel[r->hcur];
		if (e->type == STREAM_END)
			break;
		if (e->type != STREAM_REGULAR) {
			r->hcur++;
			continue;
		}
		ds = e->end - e->size;
		if (e->size > 0 && ds >= cend)
			break;		/* in a later chunk */
		if (r->hsha == NULL && (r->hsha = sha256_new()) == NULL)
			goto fail;
		lo = ds > cbase ? ds : cbase;
		hi = e->end < cend ? e->end : cend;
		if (lo < hi && sha256_update(r->hsha, p + (lo - cbase),
		    (size_t)(hi - lo)) == -1)
			goto fail;
		if (e->end > cend)
			break;		/* continues in the next chunk */
		if (sha256_final(r->hsha, r->sums[r->hcur].md) == -1)
			goto fail;
		sha256_free(&r->hsha);
		r->sums[r->hcur].ready = 1;
		r->hcur++;
	}
	return;
fail:
	/* The writer finds no hash for this file and fails the job. */
	sha256_free(&r->hsha);
	r->hfail = 1;
}

/* Strip leading and trailing '/' from a requested path into buf. */
static int
restore_request(struct restore *r, const char *req, char *buf, size_t cap)
{
	size_t	 len;

	while (*req == '/')
		req++;
	len = strlen(req);
	while (len > 0 && req[len - 1] == '/')
		len--;
	if (len >= cap || (len > 0 && stream_path_valid(req, len) != 0))
		return job_fail(r->job, KF__KF_ERR__ERR_INVALID, "cannot "
		    "restore \"%s\": not a valid path (no \".\" or \"..\")",
		    req);
	memcpy(buf, req, len);
	buf[len] = '\0';
	return 0;
}

/* Mark the catalog entries the requested paths name; 0 when all do. */
static int
restore_select(struct restore *r)
{
	const Kf__RestoreOrder	*o = r->order;
	char			 req[KF_PATH_MAX + 1];
	uint8_t			*mark = NULL;
	size_t			 i, k, len, found;
	int			 rc = -1, all = o->n_paths == 0;

	if ((mark = calloc(r->ncat + 1, 1)) == NULL ||
	    (r->sel = calloc(r->ncat + 1, sizeof(*r->sel))) == NULL ||
	    (r->sums = calloc(r->ncat + 1, sizeof(*r->sums))) == NULL) {
		job_fail(r->job, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto fail;
	}
	for (k = 0; k < o->n_paths && !all; k++) {
		if (restore_request(r, o->paths[k], req, sizeof(req)) == -1)
			goto fail;
		if ((len = strlen(req)) == 0)
			all = 1;
		for (i = 0, found = 0; i < r->ncat && !all; i++) {
			if (strncmp(r->cat[i].path, req, len) == 0 &&
			    (r->cat[i].path[len] == '\0' ||
			    r->cat[i].path[len] == '/')) {
				mark[i] = 1;
				found++;
			}
		}
		if (!all && found == 0) {
			job_fail(r->job, KF__KF_ERR__ERR_NOT_FOUND, "%s is not "
			    "in backup job %llu", o->paths[k],
			    (unsigned long long)o->backup_job);
			goto fail;
		}
	}
	for (i = 0; i < r->ncat; i++) {
		if (!all && !mark[i])
			continue;
		r->sel[r->nsel++] = &r->cat[i];
		r->files_total++;
		r->bytes_total += r->cat[i].size;
	}
	if (o->n_paths == 0) {
		/* The whole stream: through its end record. */
		r->endrec.type = STREAM_END;
		r->endrec.offset = r->ncat ? r->cat[r->ncat - 1].end : 0;
		r->endrec.end = UINT64_MAX;
		r->sel[r->nsel++] = &r->endrec;
	}
	rc = 0;
fail:
	free(mark);
	return rc;
}

/* The runs of chunks that hold the selected records. */
static int
restore_ranges(struct restore *r)
{
	const Kf__RestoreOrder		*o = r->order;
	const struct restore_entry	*e;
	struct fetch_range		*last;
	uint64_t			 cs = o->chunk_size, first, lastc;
	size_t				 i;

	if (o->chunks == 0 || o->chunks > UINT64_MAX / cs)
		return job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY, "backup job "
		    "%llu has %llu chunks", (unsigned long long)o->backup_job,
		    (unsigned long long)o->chunks);
	if ((r->ranges = calloc(r->nsel, sizeof(*r->ranges))) == NULL)
		return job_fail(r->job, KF__KF_ERR__ERR_INTERNAL, "out of "
		    "memory");
	for (i = 0; i < r->nsel; i++) {
		e = r->sel[i];
		if (e->type == STREAM_END ?
		    e->offset + STREAM_HDR_FIXED > o->chunks * cs :
		    e->end > o->chunks * cs)
			return job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY,
			    "catalog entry for %s lies beyond the %llu chunks "
			    "of backup job %llu", e->type == STREAM_END ?
			    "the end of the stream" : e->path,
			    (unsigned long long)o->chunks,
			    (unsigned long long)o->backup_job);
		first = e->offset / cs;
		lastc = e->type == STREAM_END ? o->chunks - 1 :
		    (e->end - 1) / cs;
		last = r->nranges ? &r->ranges[r->nranges - 1] : NULL;
		if (last != NULL && first <= last->first + last->count) {
			if (lastc + 1 > last->first + last->count)
				last->count = lastc + 1 - last->first;
			continue;
		}
		r->ranges[r->nranges].first = first;
		r->ranges[r->nranges].count = lastc + 1 - first;
		r->nranges++;
	}
	return 0;
}

static int
restore_feed(struct restore *r, const uint8_t *p, size_t len)
{
	if (stream_parser_feed(r->parser, p, len) == 0)
		return 0;
	return job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY, "the stream of "
	    "backup job %llu is malformed at offset %llu (%s): %s",
	    (unsigned long long)r->order->backup_job,
	    (unsigned long long)stream_parser_offset(r->parser),
	    restore_cur_path(r), stream_parser_strerror(r->parser));
}

/* Feed the selected records' bytes of one chunk to the parser. */
static int
restore_chunk(struct restore *r, uint64_t idx, const uint8_t *p, size_t len)
{
	const struct restore_entry	*e;
	uint64_t			 cbase, cend, pos, stop;

	cbase = idx * r->order->chunk_size;
	cend = cbase + len;
	pos = cbase;
	while (r->cur < r->nsel) {
		e = r->sel[r->cur];
		if (!r->active) {
			if (e->offset >= cend)
				break;
			if (e->offset < pos)
				return job_fail(r->job,
				    KF__KF_ERR__ERR_INTERNAL, "record %s was "
				    "skipped", restore_cur_path(r));
			stream_parser_reset(r->parser, e->offset);
			r->active = 1;
			r->rec_done = 0;
			pos = e->offset;
		}
		stop = e->end < cend ? e->end : cend;
		if (restore_feed(r, p + (pos - cbase), stop - pos) == -1)
			return -1;
		pos = stop;
		if (e->type == STREAM_END || pos < e->end)
			break;		/* continues in the next chunk */
		if (!r->rec_done)
			return job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY,
			    "the record of %s in backup job %llu does not end "
			    "where its catalog entry says", e->path,
			    (unsigned long long)r->order->backup_job);
		r->active = 0;
		r->cur++;
	}
	fault_point("client.restore_after_chunk", fetch_chunks(r->fetch));
	return 0;
}

/*
 * The writer thread: opened chunks, in order, through the stream parser
 * into files (restore_write.c).  The only thread that records a job error
 * while the pipeline runs.
 */
static void *
restore_writer(void *arg)
{
	struct restore	*r = arg;
	uint8_t		*plain = NULL;
	uint64_t	 idx = 0;
	size_t		 len = 0;
	void		*c;
	int		 rc;

	(void)pthread_setname_np(pthread_self(), "kf-rwriter");
	while ((rc = fetch_take(r->fetch, &c, &idx, &plain, &len)) == 1) {
		rc = restore_chunk(r, idx, plain, len);
		fetch_give(r->fetch, c);
		if (rc == -1)
			break;
	}
	if (rc == -1 && r->job->err == KF__KF_ERR__ERR_NONE)
		job_fail(r->job, KF__KF_ERR__ERR_CRYPTO, "chunk %llu of backup "
		    "job %llu failed authentication with the job's DEK "
		    "(tampered or corrupted ciphertext), restoring %s",
		    (unsigned long long)idx,
		    (unsigned long long)r->order->backup_job,
		    restore_cur_path(r));
	if (rc == -1)
		fetch_abort(r->fetch);
	else
		fetch_writer_done(r->fetch);
	return NULL;
}

/* The job thread's progress reports while the pipeline runs. */
static void
restore_tick(void *arg)
{
	struct restore	*r = arg;

	job_progress(r->job, r->files, r->bytes, r->files_total,
	    r->bytes_total, 0);
}

/*
 * Fetch, open and write every selected record: the job thread receives,
 * one thread opens, one writes (see fetch.c).
 */
static int
restore_data(struct restore *r)
{
	pthread_t	 writer;
	const char	*msg;
	kf_err_t	 code;
	int		 rc;

	if (fetch_start(r->fetch) == -1 ||
	    pthread_create(&writer, NULL, restore_writer, r) != 0)
		return job_fail(r->job, KF__KF_ERR__ERR_INTERNAL, "cannot start "
		    "the restore threads");
	r->started_ms = util_mono_ms();
	rc = fetch_run(r->fetch, restore_tick, r);
	pthread_join(writer, NULL);
	r->data_ms = util_mono_ms() - r->started_ms;
	if (r->job->err != KF__KF_ERR__ERR_NONE)
		return -1;
	if ((msg = fetch_error(r->fetch, &code)) != NULL)
		return job_fail(r->job, code, "%s, restoring %s", msg,
		    restore_cur_path(r));
	if (rc == -1)
		return job_fail(r->job, KF__KF_ERR__ERR_INTERNAL, "the restore "
		    "stopped without a reason (a bug)");
	if (r->cur < r->nsel && !(r->sel[r->cur]->type == STREAM_END &&
	    r->saw_end && stream_parser_done(r->parser)))
		return job_fail(r->job, KF__KF_ERR__ERR_INTEGRITY, "the stream "
		    "of backup job %llu ends before %s is complete",
		    (unsigned long long)r->order->backup_job,
		    restore_cur_path(r));
	return 0;
}

/* keyflow verify --decrypt: everything is checked, nothing written. */
static int
restore_verify_only(const Kf__RestoreOrder *o)
{
	return o->has_verify_only && o->verify_only;
}

static int
restore_check_order(struct job *j, const Kf__RestoreOrder *o)
{
	if (job_check_order(j, o->chunk_size, o->mediaagent_endpoint) == -1)
		return -1;
	if (restore_verify_only(o))
		return 0;
	if (o->dest_dir[0] != '/' || strlen(o->dest_dir) > KF_PATH_MAX)
		return job_fail(j, KF__KF_ERR__ERR_INVALID, "destination "
		    "\"%s\" is not an absolute path", o->dest_dir);
	if (util_mkdir_p(o->dest_dir, 0755) == -1)
		return job_fail(j, KF__KF_ERR__ERR_IO, "cannot create "
		    "destination directory %s: %s", o->dest_dir,
		    strerror(errno));
	return 0;
}

static int
restore_prepare(struct restore *r)
{
	static const struct stream_parser_cb cb = {
		restore_on_header, restore_on_data, restore_on_record_end,
		restore_on_end
	};
	struct job	*j = r->job;

	if (restore_check_order(j, r->order) == -1 ||
	    catalog_fetch(j, r->order, &r->cat, &r->ncat) == -1 ||
	    restore_select(r) == -1 || restore_ranges(r) == -1)
		return -1;
	if ((r->rw = rw_new(j, restore_verify_only(r->order) ? NULL :
	    r->order->dest_dir, r->order->overwrite)) == NULL)
		return -1;
	/* The idle connection a job before left (jobs.c), or a new one. */
	if (j->ma == NULL)
		j->ma = wire_socket(j->client->zctx, ZMQ_DEALER,
		    r->order->mediaagent_endpoint, 0);
	if (j->ma == NULL)
		return job_fail(j, KF__KF_ERR__ERR_UNAVAILABLE, "cannot "
		    "connect to MediaAgent %s", r->order->mediaagent_endpoint);
	if ((r->fetch = fetch_new(j, j->ma, r->order, r->ranges,
	    r->nranges)) == NULL ||
	    (r->parser = stream_parser_new(&cb, r, 0)) == NULL)
		return job_fail(j, KF__KF_ERR__ERR_INTERNAL, "out of memory");
	fetch_on_open(r->fetch, restore_hash, r);
	return 0;
}

/* Where the time went: each stage's busy time against the wall clock. */
static void
restore_stats(const struct restore *r)
{
	uint64_t	 us[FETCH_STAGES];

	fetch_busy(r->fetch, us);
	log_info("job %llu: data in %lld ms (then %lld ms to sync); busy: "
	    "receive %llu ms, decrypt and hash %llu ms, write %llu ms",
	    (unsigned long long)r->job->id, (long long)r->data_ms,
	    (long long)(util_mono_ms() - r->started_ms - r->data_ms),
	    (unsigned long long)us[0] / 1000, (unsigned long long)us[1] / 1000,
	    (unsigned long long)us[2] / 1000);
}

static int
restore_finish(struct restore *r)
{
	Kf__JobDone	 d = KF__JOB_DONE__INIT;
	struct job	*j = r->job;
	uint64_t	 n = fetch_chunks(r->fetch), b = fetch_bytes(r->fetch);
	const char	*done = "wrote", *to = " to ", *dest = r->order->dest_dir;

	if (restore_verify_only(r->order)) {
		done = "verified";
		to = ", writing nothing";
		dest = "";
	}
	if (rw_finish(r->rw) == -1)
		return -1;
	restore_stats(r);
	job_progress(j, r->files, r->bytes, r->files_total, r->bytes_total, 1);
	trace_step(j->client->trace, j->trace_id, "restore", 7, NULL, b,
	    "decrypted %llu chunks (%llu bytes) with the job's DEK and "
	    "verified every tag and each file's SHA-256; %s %llu files%s%s",
	    (unsigned long long)n, (unsigned long long)b, done,
	    (unsigned long long)r->files, to, dest);
	d.files = r->files;
	d.bytes = r->bytes;
	if (job_done(j, &d) == -1)
		return -1;
	log_info("job %llu: %s %llu entries (%llu bytes) of backup job %llu%s%s",
	    (unsigned long long)j->id, done, (unsigned long long)r->files,
	    (unsigned long long)r->bytes,
	    (unsigned long long)r->order->backup_job, to, dest);
	return 0;
}

int
restore_run(struct job *j)
{
	struct restore	*r;
	int		 rc = -1;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return job_fail(j, KF__KF_ERR__ERR_INTERNAL, "out of memory");
	r->job = j;
	r->order = (const Kf__RestoreOrder *)j->order;
	if (restore_prepare(r) == -1)
		goto fail;
	log_info("job %llu: restoring %llu entries (%llu bytes) of backup job "
	    "%llu to %s from %zu chunk runs", (unsigned long long)j->id,
	    (unsigned long long)r->files_total,
	    (unsigned long long)r->bytes_total,
	    (unsigned long long)r->order->backup_job,
	    restore_verify_only(r->order) ? "nowhere (verify only)" :
	    r->order->dest_dir, r->nranges);
	job_progress(j, 0, 0, r->files_total, r->bytes_total, 1);
	if (restore_data(r) == -1 || restore_finish(r) == -1)
		goto fail;
	rc = 0;
fail:
	stream_parser_free(&r->parser);
	fetch_free(&r->fetch);
	rw_free(&r->rw);
	free(r->ranges);
	free(r->sel);
	free(r->sums);
	sha256_free(&r->hsha);
	catalog_free(&r->cat, r->ncat);
	free(r);
	return rc;
}
