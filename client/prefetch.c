/*
 * prefetch.c - warm the page cache ahead of a backup's reader.
 *
 * With a cold cache, a tree of many small files is read one synchronous
 * disk request at a time: the reader opens a file, waits for its bytes,
 * hashes them, and only then asks for the next file.  This thread walks
 * the same file list a little ahead of the reader (PREFETCH_FILES entries
 * and PREFETCH_BYTES bytes at most) and, for each regular file, opens it
 * and asks the kernel to start reading its first PREFETCH_FILE_MAX bytes
 * (posix_fadvise WILLNEED), so the disk has many requests in flight and
 * the reader finds the bytes cached.  Large files need no help: the
 * reader keeps its own readahead going within a file.
 *
 * Only the page cache grows, not the process; a file that cannot be
 * opened is skipped silently (the reader reports it).  The thread reads
 * nothing but the entries' paths and types, which do not change while a
 * backup runs.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"

#define PREFETCH_FILES		256		/* entries ahead of the reader */
#define PREFETCH_BYTES		(64u << 20)	/* bytes asked for ahead */
#define PREFETCH_FILE_MAX	(4u << 20)	/* bytes asked for per file */

struct prefetch {
	const struct walk_list *list;	/* the backup's entries */
	pthread_t	 thread;	/* walks ahead */
	pthread_mutex_t	 mtx;		/* guards the fields below */
	pthread_cond_t	 cv;		/* the reader moved, or stop */
	size_t		 reader;	/* entry the reader is at */
	uint64_t	*ahead;		/* bytes asked for, per entry */
	uint64_t	 inflight;	/* sum of ahead[reader..] */
	size_t		 next;		/* next entry to prefetch */
	int		 stop;		/* the backup is over */
};

/* Open one file and ask for its first bytes; the bytes asked for. */
static uint64_t
prefetch_one(const struct walk_entry *e)
{
	char		 abs[KF_PATH_MAX + 2];
	struct stat	 st;
	uint64_t	 len = 0;
	int		 fd;

	snprintf(abs, sizeof(abs), "/%s", e->path);
	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		len = (uint64_t)st.st_size < PREFETCH_FILE_MAX ?
		    (uint64_t)st.st_size : PREFETCH_FILE_MAX;
		(void)posix_fadvise(fd, 0, (off_t)len, POSIX_FADV_WILLNEED);
	}
	close(fd);
	return len;
}

static void *
prefetch_main(void *arg)
{
	struct prefetch		*p = arg;
	const struct walk_entry	*e;
	uint64_t		 len;
	size_t			 i;

	pthread_mutex_lock(&p->mtx);
	while (!p->stop && p->next < p->list->n) {
		if (p->next >= p->reader + PREFETCH_FILES ||
		    p->inflight >= PREFETCH_BYTES) {
			pthread_cond_wait(&p->cv, &p->mtx);
			continue;
		}
		i = p->next++;
		if (i < p->reader)
			continue;		/* the reader got there first */
		e = &p->list->v[i];
		if (e->type != STREAM_REGULAR)
			continue;
		pthread_mutex_unlock(&p->mtx);
		len = prefetch_one(e);
		pthread_mutex_lock(&p->mtx);
		if (i >= p->reader) {
			p->ahead[i] = len;
			p->inflight += len;
		}
	}
	pthread_mutex_unlock(&p->mtx);
	return NULL;
}

/* A running prefetcher over list, or NULL (then the backup goes without). */
struct prefetch *
prefetch_start(const struct walk_list *list)
{
	struct prefetch	*p;

	if (list->n < 2 || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->ahead = calloc(list->n, sizeof(*p->ahead))) == NULL) {
		free(p);
		return NULL;
	}
	p->list = list;
	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->thread, NULL, prefetch_main, p) != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mtx);
		free(p->ahead);
		free(p);
		return NULL;
	}
	return p;
}

/* The reader is now at entry i: what lies behind it no longer counts. */
void
prefetch_at(struct prefetch *p, size_t i)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mtx);
	while (p->reader < i && p->reader < p->list->n) {
		p->inflight -= p->ahead[p->reader];
		p->ahead[p->reader] = 0;
		p->reader++;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
}

void
prefetch_stop(struct prefetch **pp)
{
	struct prefetch	*p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	pthread_mutex_lock(&p->mtx);
	p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mtx);
	free(p->ahead);
	free(p);
	*pp = NULL;
}
