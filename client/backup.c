/*
 * backup.c - a backup job, from its order to JOB_DONE.
 *
 * The file list is collected first (walk.c), so progress knows the totals.
 * Then each entry becomes a stream record (stream.h): a header, then for a
 * regular file its bytes, hashed with SHA-256 while they are read.  The
 * stream goes through backup_send.c, which seals and sends its chunks to
 * the MediaAgent, on the order's number of data streams (connections),
 * 1 by default.  Reading, framing and hashing run in a reader thread of
 * their own (with prefetch.c warming the cache ahead of it), so the disk,
 * SHA-256, sealing and the network overlap.  The reader never touches the
 * job (its sockets, its error): it keeps its error in struct backup and
 * aborts the pipeline; the job thread, which sends, reports progress and
 * the first error.  When the MediaAgent has closed the stream, the
 * catalog (one entry per record, with its stream offset and hash) goes to
 * CommServe in batches, and JOB_DONE reports the totals and the digest
 * CommServe compares with the MediaAgent's own report.
 *
 * A file whose size changes while it is read still gets exactly the size
 * its header announced (cut short, or padded with zeros), with a warning:
 * the stream must stay parseable, and the catalog's hash matches what was
 * stored.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "client.h"
#include "fault.h"
#include "log.h"
#include "trace.h"

#define BACKUP_READAHEAD	(32u * 1024 * 1024) /* kept ahead of reads */
#define BACKUP_READAHEAD_STEP	(8u * 1024 * 1024) /* asked for at once */

struct backup {
	struct job	*job;		/* ids, keys, sockets, errors */
	const Kf__BackupOrder *order;	/* what CommServe asked for */
	struct walk_list list;		/* entries in stream order */
	struct sender	*snd;		/* chunking, sealing, sending */
	void		*ma[CLIENT_STREAMS_MAX]; /* data streams; [0] is job->ma */
	unsigned	 streams;	/* connections in ma */
	struct stream_entry *se;	/* header being encoded */
	uint8_t		*hdr;		/* STREAM_HDR_MAX bytes */
	_Atomic uint64_t records;	/* records streamed */
	_Atomic uint64_t bytes;		/* file bytes streamed */
	char		 abs[KF_PATH_MAX + 2]; /* "/" + path being read */
	struct prefetch	*pf;		/* warms the cache ahead of the reader */
	pthread_t	 reader;	/* runs backup_stream */
	uint64_t	 read_us;	/* reader: time in read(2) */
	uint64_t	 hash_us;	/* reader: time in SHA-256 */
	uint64_t	 space_us;	/* reader: waiting for a free chunk */
	kf_err_t	 rerr;		/* the reader's error, or ERR_NONE */
	char		 rerrmsg[CLIENT_ERRMSG]; /* and its sentence */
};

/*
 * The reader thread's failure: kept for the job thread (which alone
 * touches the job), and the pipeline aborted.  Always -1.
 */
static int
rfail(struct backup *b, kf_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
rfail(struct backup *b, kf_err_t code, const char *fmt, ...)
{
	va_list	ap;

	if (b->rerr == KF__KF_ERR__ERR_NONE) {
		b->rerr = code;
		va_start(ap, fmt);
		vsnprintf(b->rerrmsg, sizeof(b->rerrmsg), fmt, ap);
		va_end(ap);
	}
	sender_abort(b->snd);
	return -1;
}

/* The reader's check for shutdown; the job thread reports progress. */
static int
backup_stopped(struct backup *b)
{
	const char	*why;
	kf_err_t	 code;

	if ((why = job_stop_reason(b->job, &code)) == NULL)
		return 0;
	return rfail(b, code, "%s", why);
}

/* Append a record header for e and note its catalog index and offset. */
static int
backup_header(struct backup *b, struct walk_entry *e)
{
	struct stream_entry	*se = b->se;
	long			 n;

	memset(se, 0, offsetof(struct stream_entry, path));
	se->type = e->type;
	se->mode = e->mode;
	se->mtime_sec = e->mtime_sec;
	se->mtime_nsec = e->mtime_nsec;
	se->size = e->type == STREAM_REGULAR ? e->size : 0;
	se->path_len = (uint16_t)strlen(e->path);
	memcpy(se->path, e->path, se->path_len + 1);
	se->link_len = 0;
	se->link[0] = '\0';
	if (e->link != NULL) {
		se->link_len = (uint16_t)strlen(e->link);
		memcpy(se->link, e->link, se->link_len + 1);
	}
	if ((n = stream_encode_header(se, b->hdr, STREAM_HDR_MAX)) < 0)
		return rfail(b, KF__KF_ERR__ERR_INVALID, "cannot back "
		    "up /%s: its record header cannot be encoded", e->path);
	e->offset = sender_offset(b->snd);
	e->index = atomic_fetch_add(&b->records, 1) + 1;
	return sender_write(b->snd, b->hdr, (size_t)n);
}

/*
 * Ask the kernel to start reading BACKUP_READAHEAD bytes ahead whenever
 * the reader crosses into a new BACKUP_READAHEAD_STEP, so that with a
 * cold cache the disk works while the reader hashes.  Only the page
 * cache grows, not the process.
 */
static void
backup_readahead(int fd, uint64_t pos, size_t want)
{
	uint64_t	step = BACKUP_READAHEAD_STEP;

	if (pos / step == (pos + want) / step && pos != 0)
		return;
	(void)posix_fadvise(fd, (off_t)((pos + want) / step * step +
	    BACKUP_READAHEAD - step), (off_t)step, POSIX_FADV_WILLNEED);
	if (pos == 0)
		(void)posix_fadvise(fd, 0, BACKUP_READAHEAD,
		    POSIX_FADV_WILLNEED);
}

/* The file's bytes, exactly e->size of them, hashed on the way. */
static int
backup_data(struct backup *b, struct walk_entry *e, int fd,
    struct sha256_ctx *sha)
{
	uint64_t	 left = e->size, t, t1;
	uint8_t		*p;
	size_t		 avail, want;
	ssize_t		 r;
	int		 shrunk = 0;
	char		 c;

	while (left > 0) {
		t = sender_now_us();
		if (backup_stopped(b) == -1 ||
		    sender_space(b->snd, &p, &avail) == -1)
			return -1;
		want = left < avail ? (size_t)left : avail;
		backup_readahead(fd, e->size - left, want);
		r = 0;
		t1 = sender_now_us();
		b->space_us += t1 - t;
		while (!shrunk && (r = read(fd, p, want)) == -1 &&
		    errno == EINTR)
			;
		t = sender_now_us();
		b->read_us += t - t1;
		if (r == -1)
			return rfail(b, KF__KF_ERR__ERR_IO, "read error "
			    "in %s: %s", b->abs, strerror(errno));
		if (r == 0 && !shrunk) {
			log_warnx("job %llu: %s shrank while being read; "
			    "padding it with zeros to the %llu bytes first "
			    "seen", (unsigned long long)b->job->id, b->abs,
			    (unsigned long long)e->size);
			shrunk = 1;
		}
		if (shrunk) {
			memset(p, 0, want);
			r = (ssize_t)want;
		}
		if (sha256_update(sha, p, (size_t)r) == -1)
			return rfail(b, KF__KF_ERR__ERR_CRYPTO,
			    "SHA-256 of %s failed", b->abs);
		b->hash_us += sender_now_us() - t;
		sender_commit(b->snd, (size_t)r);
		left -= (uint64_t)r;
		atomic_fetch_add(&b->bytes, (uint64_t)r);
	}
	if (!shrunk && read(fd, &c, 1) == 1)
		log_warnx("job %llu: %s grew while being read; stored its "
		    "first %llu bytes", (unsigned long long)b->job->id, b->abs,
		    (unsigned long long)e->size);
	return 0;
}

static int
backup_file(struct backup *b, struct walk_entry *e)
{
	struct sha256_ctx	*sha = NULL;
	struct stat		 st;
	int			 fd, rc = -1;

	snprintf(b->abs, sizeof(b->abs), "/%s", e->path);
	/* O_NONBLOCK: a FIFO swapped in since the walk must not hang us. */
	fd = open(b->abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		log_warnx("job %llu: %s was deleted before it was read; not "
		    "backed up", (unsigned long long)b->job->id, b->abs);
		return 0;
	}
	if (fd == -1)
		return rfail(b, KF__KF_ERR__ERR_IO, "cannot open file "
		    "%s: %s", b->abs, strerror(errno));
	if (fstat(fd, &st) == -1) {
		rfail(b, KF__KF_ERR__ERR_IO, "cannot stat file %s: %s",
		    b->abs, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("job %llu: %s is no longer a regular file; not "
		    "backed up", (unsigned long long)b->job->id, b->abs);
		rc = 0;
		goto fail;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* The header carries what the open file is now. */
	e->size = (uint64_t)st.st_size;
	e->mode = st.st_mode & 07777;
	e->mtime_sec = st.st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	if ((sha = sha256_new()) == NULL) {
		rfail(b, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto fail;
	}
	if (backup_header(b, e) == -1 || backup_data(b, e, fd, sha) == -1)
		goto fail;
	if (sha256_final(sha, e->sha256) == -1) {
		rfail(b, KF__KF_ERR__ERR_CRYPTO, "SHA-256 of %s failed",
		    b->abs);
		goto fail;
	}
	rc = 0;
fail:
	sha256_free(&sha);
	close(fd);
	return rc;
}

/* Every record, then the end record. */
static int
backup_stream(struct backup *b)
{
	struct walk_entry	*e;
	size_t			 i;
	long			 n;

	for (i = 0; i < b->list.n; i++) {
		e = &b->list.v[i];
		prefetch_at(b->pf, i);
		if (e->type == STREAM_REGULAR) {
			if (backup_file(b, e) == -1)
				return -1;
		} else if (backup_header(b, e) == -1)
			return -1;
		if (backup_stopped(b) == -1)
			return -1;
	}
	memset(b->se, 0, offsetof(struct stream_entry, path));
	b->se->type = STREAM_END;
	b->se->path[0] = b->se->link[0] = '\0';
	if ((n = stream_encode_header(b->se, b->hdr, STREAM_HDR_MAX)) < 0)
		return rfail(b, KF__KF_ERR__ERR_INTERNAL, "cannot "
		    "encode the end record");
	if (sender_write(b->snd, b->hdr, (size_t)n) == -1)
		return -1;
	return sender_end(b->snd);
}

/* The reader thread: the whole stream, or an aborted pipeline. */
static void *
backup_reader(void *arg)
{
	struct backup	*b = arg;

	if (backup_stream(b) == -1)
		sender_abort(b->snd);
	return NULL;
}

/* Run by the job thread while it sends: progress and shutdown. */
static int
backup_tick(void *arg)
{
	struct backup	*b = arg;

	job_progress(b->job, atomic_load(&b->records),
	    atomic_load(&b->bytes), b->list.n, b->list.bytes, 0);
	return job_stopped(b->job) ? -1 : 0;
}

/*
 * Read and frame in the reader thread, seal in the sender's, send here.
 * The first error wins: the reader's if it stopped the pipeline.
 */
static int
backup_pipeline(struct backup *b)
{
	int	rc;

	b->pf = prefetch_start(&b->list);
	if (pthread_create(&b->reader, NULL, backup_reader, b) != 0) {
		prefetch_stop(&b->pf);
		return job_fail(b->job, KF__KF_ERR__ERR_INTERNAL, "cannot "
		    "start the reader thread");
	}
	rc = sender_pump(b->snd, backup_tick, b);
	pthread_join(b->reader, NULL);
	prefetch_stop(&b->pf);
	if (b->rerr != KF__KF_ERR__ERR_NONE) {
		job_fail(b->job, b->rerr, "%s", b->rerrmsg);
		return -1;
	}
	if (rc == -1 && b->job->err == KF__KF_ERR__ERR_NONE)
		job_fail(b->job, KF__KF_ERR__ERR_INTERNAL, "the backup "
		    "pipeline stopped without a reason");
	return rc;
}

static Kf__FileType
backup_file_type(enum stream_type t)
{
	if (t == STREAM_DIRECTORY)
		return KF__FILE_TYPE__FT_DIRECTORY;
	if (t == STREAM_SYMLINK)
		return KF__FILE_TYPE__FT_SYMLINK;
	return KF__FILE_TYPE__FT_REGULAR;
}

static int
backup_batch_send(struct backup *b, Kf__CatalogEntry **ptrs, size_t n)
{
	Kf__CatalogBatch	 batch = KF__CATALOG_BATCH__INIT;
	struct wire_msg		 m;
	int			 rc;

	batch.job = b->job->id;
	batch.token.data = b->job->token;
	batch.token.len = KF_TOKEN_LEN;
	batch.n_entries = n;
	batch.entries = ptrs;
	rc = job_call(b->job, b->job->cs, KF__MSG_TYPE__CATALOG_BATCH,
	    &batch.base, KF__MSG_TYPE__OK, CLIENT_CS_TIMEOUT_MS, &m,
	    "CommServe (CATALOG_BATCH)");
	job_msg_clear(&m);
	return rc;
}

/* The catalog, CLIENT_CATALOG_BATCH entries per CATALOG_BATCH. */
static int
backup_catalog(struct backup *b)
{
	Kf__CatalogEntry	*ents, **ptrs, *ce;
	struct walk_entry	*e;
	size_t			 i, n = 0;
	int			 rc = -1;

	ents = calloc(CLIENT_CATALOG_BATCH, sizeof(*ents));
	ptrs = calloc(CLIENT_CATALOG_BATCH, sizeof(*ptrs));
	if (ents == NULL || ptrs == NULL) {
		job_fail(b->job, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto fail;
	}
	for (i = 0; i < b->list.n; i++) {
		e = &b->list.v[i];
		if (e->index == 0)
			continue;		/* vanished, not streamed */
		ce = &ents[n];
		kf__catalog_entry__init(ce);
		ce->index = e->index;
		ce->path.data = (uint8_t *)e->path;
		ce->path.len = strlen(e->path);
		ce->type = backup_file_type(e->type);
		ce->mode = e->mode;
		ce->mtime_sec = e->mtime_sec;
		ce->mtime_nsec = e->mtime_nsec;
		ce->size = e->type == STREAM_REGULAR ? e->size : 0;
		ce->offset = e->offset;
		if (e->type == STREAM_REGULAR) {
			ce->has_sha256 = 1;
			ce->sha256.data = e->sha256;
			ce->sha256.len = KF_SHA256_LEN;
		}
		if (e->link != NULL) {
			ce->has_link_target = 1;
			ce->link_target.data = (uint8_t *)e->link;
			ce->link_target.len = strlen(e->link);
		}
		ptrs[n++] = ce;
		if (n == CLIENT_CATALOG_BATCH) {
			if (backup_batch_send(b, ptrs, n) == -1)
				goto fail;
			n = 0;
		}
	}
	if (n > 0 && backup_batch_send(b, ptrs, n) == -1)
		goto fail;
	rc = 0;
fail:
	free(ents);
	free(ptrs);
	return rc;
}

/*
 * Open data stream k of the job: a DEALER of its own to the MediaAgent,
 * then STREAM_OPEN with the job's token (and, with several streams, which
 * one it is, how many there are and each one's window).
 */
static int
backup_open_stream(struct backup *b, unsigned k)
{
	Kf__StreamOpen	 so = KF__STREAM_OPEN__INIT;
	struct job	*j = b->job;
	struct wire_msg	 m;
	char		 what[128];
	int		 rc;

	/* Stream 0 may be the idle connection a job before left (jobs.c). */
	if (k == 0 && j->ma != NULL)
		b->ma[0] = j->ma;
	else
		b->ma[k] = wire_socket(j->client->zctx, ZMQ_DEALER,
		    b->order->mediaagent_endpoint, 0);
	if (k == 0)
		j->ma = b->ma[0];	/* the job's: kept or closed with it */
	if (b->ma[k] == NULL)
		return job_fail(j, KF__KF_ERR__ERR_UNAVAILABLE, "cannot "
		    "connect to MediaAgent %s", b->order->mediaagent_endpoint);
	so.job = j->id;
	so.token.data = j->token;
	so.token.len = KF_TOKEN_LEN;
	so.client = (char *)j->client->conf->name;
	if (b->streams > 1) {
		so.has_stream = so.has_streams = so.has_window = 1;
		so.stream = k;
		so.streams = b->streams;
		so.window = sender_window();
	}
	snprintf(what, sizeof(what), "MediaAgent %s (STREAM_OPEN, data stream "
	    "%u of %u)", b->order->mediaagent_endpoint, k + 1, b->streams);
	rc = job_call(j, b->ma[k], KF__MSG_TYPE__STREAM_OPEN, &so.base,
	    KF__MSG_TYPE__OK, CLIENT_MA_TIMEOUT_MS, &m, what);
	job_msg_clear(&m);
	return rc;
}

/* The order's data streams, each opened on a connection of its own. */
static int
backup_open_streams(struct backup *b)
{
	unsigned	k;

	b->streams = b->order->has_streams ? b->order->streams : 1;
	if (b->streams < 1 || b->streams > CLIENT_STREAMS_MAX)
		return job_fail(b->job, KF__KF_ERR__ERR_INVALID, "the order "
		    "asks for %u data streams; a job has 1 to %d",
		    b->order->streams, CLIENT_STREAMS_MAX);
	for (k = 0; k < b->streams; k++)
		if (backup_open_stream(b, k) == -1)
			return -1;
	return 0;
}

static int
backup_finish(struct backup *b)
{
	Kf__JobDone	 d = KF__JOB_DONE__INIT;
	struct job	*j = b->job;
	uint8_t		 digest[KF_SHA256_LEN];
	uint64_t	 chunks, sbytes;
	char		 hex[2 * KF_SHA256_LEN + 1];

	if (sender_finish(b->snd, &chunks, &sbytes, digest) == -1)
		return -1;
	log_debug("job %llu: the reader spent %llu ms in read(2), %llu ms "
	    "in SHA-256 and %llu ms waiting for a free chunk buffer",
	    (unsigned long long)j->id, (unsigned long long)b->read_us / 1000,
	    (unsigned long long)b->hash_us / 1000,
	    (unsigned long long)b->space_us / 1000);
	trace_step(j->client->trace, j->trace_id, "backup", 4, NULL, sbytes,
	    "encrypted %llu chunks (%llu bytes) with the job's DEK "
	    "(AES-256-GCM)", (unsigned long long)chunks,
	    (unsigned long long)sbytes);
	trace_step(j->client->trace, j->trace_id, "backup", 5,
	    b->order->mediaagent_endpoint, sbytes, "sent %llu chunks (%llu "
	    "bytes) to MediaAgent %s over %u data stream%s",
	    (unsigned long long)chunks, (unsigned long long)sbytes,
	    b->order->mediaagent_endpoint, b->streams,
	    b->streams == 1 ? "" : "s");
	job_progress(j, atomic_load(&b->records), atomic_load(&b->bytes),
	    b->list.n, b->list.bytes, 1);
	if (backup_catalog(b) == -1)
		return -1;
	d.files = atomic_load(&b->records);
	d.bytes = atomic_load(&b->bytes);
	d.has_chunks = d.has_stream_bytes = d.has_digest = 1;
	d.chunks = chunks;
	d.stream_bytes = sbytes;
	d.digest.data = digest;
	d.digest.len = sizeof(digest);
	fault_point("client.before_done", j->id);
	if (job_done(j, &d) == -1)
		return -1;
	crypto_hex(digest, sizeof(digest), hex);
	log_info("job %llu: backed up %llu entries, %llu file bytes in %llu "
	    "chunks, digest %s", (unsigned long long)j->id,
	    (unsigned long long)atomic_load(&b->records),
	    (unsigned long long)atomic_load(&b->bytes),
	    (unsigned long long)chunks, hex);
	return 0;
}

int
backup_run(struct job *j)
{
	struct backup	*b;
	unsigned	 k;
	int		 rc = -1;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->se = malloc(sizeof(*b->se))) == NULL ||
	    (b->hdr = malloc(STREAM_HDR_MAX)) == NULL) {
		job_fail(j, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto fail;
	}
	b->job = j;
	b->order = (const Kf__BackupOrder *)j->order;
	if (job_check_order(j, b->order->chunk_size,
	    b->order->mediaagent_endpoint) == -1 ||
	    walk_collect(j, b->order->paths, b->order->n_paths,
	    &b->list) == -1)
		goto fail;
	log_info("job %llu: backing up %zu entries (%llu bytes) to "
	    "MediaAgent %s", (unsigned long long)j->id, b->list.n,
	    (unsigned long long)b->list.bytes, b->order->mediaagent_endpoint);
	job_progress(j, 0, 0, b->list.n, b->list.bytes, 1);
	if (backup_open_streams(b) == -1)
		goto fail;
	if ((b->snd = sender_new(j, b->ma, b->streams,
	    b->order->mediaagent_endpoint, b->order->chunk_size)) == NULL) {
		job_fail(j, KF__KF_ERR__ERR_INTERNAL, "out of memory for a "
		    "%u-byte chunk", b->order->chunk_size);
		goto fail;
	}
	if (backup_pipeline(b) == -1 || backup_finish(b) == -1)
		goto fail;
	rc = 0;
fail:
	if (b != NULL) {
		/* After the reader: it writes into the sender's slots. */
		sender_free(&b->snd);
		/*
		 * ma[0] is the job's, kept for the next job after a clean
		 * end, unless it was one of several streams (it was watched
		 * by a monitor then, and many-stream jobs are few and big).
		 */
		for (k = b->streams > 1 ? 0 : 1; k < CLIENT_STREAMS_MAX; k++)
			if (b->ma[k] != NULL)
				zmq_close(b->ma[k]);
		if (b->streams > 1 && b->ma[0] != NULL)
			j->ma = NULL;	/* was ma[0], just closed */
		walk_list_clear(&b->list);
		free(b->se);
		free(b->hdr);
		free(b);
	}
	return rc;
}
