/*
 * commit.c - the MediaAgent's committer threads: container commits off the
 * event loop.
 *
 * Committing a container waits on the disk: both files fdatasync'ed, two
 * renames, the directory fsync'ed (common/container.c).  Done in the event
 * loop, each commit stalled every other job's chunks and acknowledgements
 * for its whole duration, and commits of concurrent jobs ran one after
 * another although the filesystem journals concurrent syncs together.  So
 * store_close hands the job's container writer to one of MA_COMMITTERS
 * threads and returns; the thread commits and queues the result; the event
 * loop, woken by the done queue's eventfd, finishes the job
 * (store_committed: report to CommServe, STREAM_CLOSED to the client).
 *
 * While a commit is in flight the job is MA_JOB_COMMITTING: its writer
 * belongs to the committer (job->cw is NULL), it is neither expired nor
 * evicted, and a CONTAINER_DISCARD for it waits for the commit to end.
 * Only the committer touches the writer; only the event loop touches the
 * job.  At shutdown the queued commits are finished before the jobs go.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "log.h"
#include "mediaagent.h"
#include "pipeline.h"

/* One commit, from store_close to store_committed. */
struct ma_commit {
	uint64_t	 job;		/* the job's id */
	struct container_writer *cw;	/* the committer's while queued */
	uint64_t	 bytes;		/* stream bytes the commit checks */
	uint8_t		 peer[WIRE_PEER_MAX]; /* the connection that closed */
	size_t		 peerlen;	/* bytes of peer */
	uint8_t		 digest[KF_SHA256_LEN]; /* the stream digest */
	int		 rc;		/* container_commit: 0 or -1 */
	int		 err;		/* its errno on -1 */
};

static void *
committer_main(void *arg)
{
	struct ma		*ma = arg;
	struct ma_commit	*c;
	void			*item;

	while (queue_pop(ma->commit_todo, &item, -1) == QUEUE_ITEM) {
		c = item;
		errno = 0;
		c->rc = container_commit(c->cw, c->bytes);
		c->err = errno;
		if (queue_push(ma->commit_done, c) == -1) {
			/* Only at an abort, which commit_stop never does. */
			log_warnx("job %llu: commit result lost",
			    (unsigned long long)c->job);
			container_writer_free(&c->cw);
			free(c);
		}
	}
	return NULL;
}

int
commit_start(struct ma *ma)
{
	sigset_t	 all, old;
	int		 e;

	if ((ma->commit_todo = queue_new(MA_JOBS_MAX, 0)) == NULL ||
	    (ma->commit_done = queue_new(MA_JOBS_MAX, 1)) == NULL)
		return -1;
	/* Signals are the event loop's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (ma->ncommitters = 0; ma->ncommitters < MA_COMMITTERS;
	    ma->ncommitters++) {
		e = pthread_create(&ma->committers[ma->ncommitters], NULL,
		    committer_main, ma);
		if (e != 0) {
			errno = e;
			log_warn("cannot start a committer thread");
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ma->ncommitters > 0 ? 0 : -1;
}

int
commit_fd(const struct ma *ma)
{
	return queue_fd(ma->commit_done);
}

/* Hand job's container to a committer; the job waits in COMMITTING. */
int
commit_submit(struct ma *ma, struct ma_job *job, const struct wire_msg *m,
    const uint8_t digest[KF_SHA256_LEN])
{
	struct ma_commit	*c;

	if (m->peerlen > sizeof(c->peer) || (c = calloc(1, sizeof(*c))) ==
	    NULL)
		return -1;
	c->job = job->id;
	c->cw = job->cw;
	c->bytes = job->stream_bytes;
	memcpy(c->peer, m->peer, m->peerlen);
	c->peerlen = m->peerlen;
	memcpy(c->digest, digest, KF_SHA256_LEN);
	if (queue_push(ma->commit_todo, c) == -1) {
		free(c);
		return -1;
	}
	job->cw = NULL;
	job->state = MA_JOB_COMMITTING;
	return 0;
}

/* Finish every commit the committers are done with. */
void
commit_finish(struct ma *ma)
{
	struct ma_commit	*c;
	struct ma_job		*job;
	void			*item;

	while (queue_pop(ma->commit_done, &item, 0) == QUEUE_ITEM) {
		c = item;
		job = session_job(ma, c->job);
		if (job == NULL || job->state != MA_JOB_COMMITTING) {
			/* Cannot happen: such a job is never forgotten. */
			log_warnx("job %llu: committed, but the job is gone",
			    (unsigned long long)c->job);
			container_writer_free(&c->cw);
		} else
			store_committed(ma, job, &c->cw, c->rc, c->err,
			    c->peer, c->peerlen, c->digest);
		free(c);
	}
}

/* Let the queued commits end, finish them, and stop the threads. */
void
commit_stop(struct ma *ma)
{
	size_t	i;

	if (ma->commit_todo == NULL)
		return;
	queue_close(ma->commit_todo);
	for (i = 0; i < ma->ncommitters; i++)
		pthread_join(ma->committers[i], NULL);
	ma->ncommitters = 0;
	if (ma->commit_done != NULL) {
		commit_finish(ma);
		queue_free(&ma->commit_done);
	}
	queue_free(&ma->commit_todo);
}
