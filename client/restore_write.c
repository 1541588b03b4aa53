/*
 * restore_write.c - writing restored files safely under the destination.
 *
 * Nothing here follows a symlink inside the tree being restored: every
 * parent directory is opened component by component with openat and
 * O_DIRECTORY|O_NOFOLLOW from the destination directory (created when
 * missing), so a restored symlink "a -> /etc" cannot make "a/x" land in
 * /etc.  A regular file is written to a temporary name in its directory
 * (".<name>.kf-XXXXXX", O_CREAT|O_EXCL, 0600); its SHA-256, computed from
 * the same plaintext by the restore's opener thread (restore.c) while this
 * thread writes, is compared with the catalog's, the file gets its mode
 * and mtime, and only then is it renamed into place, with RENAME_NOREPLACE
 * unless overwriting was asked for.  Symlinks go through a temporary name
 * too.  Directories get their mode and mtime at the very end, deepest
 * first, so writing their children does not disturb them.  A failure
 * leaves no temporary file.
 *
 * Durability: writeback of a large file starts while it is written
 * (sync_file_range), and a flusher thread runs syncfs on the destination's
 * filesystem every RW_KICK_BYTES written (on its own descriptor, so it
 * cannot consume a writeback error the final syncfs must see): the disk
 * works while the restore goes on.  The final syncfs, after the last
 * rename and directory time, covers everything; the job is reported done
 * only once it has returned without error (and no background one failed).
 *
 * With no destination (keyflow verify --decrypt) the writer only checks:
 * every file's SHA-256 is still compared and nothing is written anywhere.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "util.h"

#define RW_TMP_TRIES	64	/* temporary names tried */
#define RW_FLUSH_BYTES	(8 * 1024 * 1024) /* start writeback this often */
#define RW_TMP_STEM	(NAME_MAX - 12)	/* bytes of the name in a temp name */
#ifndef RW_KICK_BYTES
#define RW_KICK_BYTES	(64 * 1024 * 1024) /* background syncfs this often */
#endif

/* The thread that syncs the destination's filesystem in the background. */
struct rflusher {
	pthread_t	 thread;	/* the flusher */
	pthread_mutex_t	 mu;		/* guards want, stop, err, syncs */
	pthread_cond_t	 cv;		/* want or stop was set */
	int		 fd;		/* its own descriptor of the destination */
	int		 want;		/* a syncfs is asked for */
	int		 stop;		/* finish and exit */
	int		 err;		/* errno of a failed syncfs, or 0 */
	unsigned	 syncs;		/* syncfs calls made */
};

struct rwriter {
	struct job	*job;		/* errors */
	const char	*dest;		/* destination, for sentences */
	int		 verify_only;	/* no destination: hash, write nothing */
	int		 destfd;	/* the destination directory */
	int		 overwrite;	/* replace existing files */
	char		*pdir;		/* cached parent directory path */
	size_t		 pdirlen;	/* its length */
	int		 pfd;		/* and its descriptor, or -1 */
	const struct restore_entry *cur; /* regular file being written */
	int		 tmpfd;		/* its temporary file, or -1 */
	int		 tmpdir;	/* directory holding it (dup), or -1 */
	char		 tmp[NAME_MAX + 1]; /* its temporary name */
	const char	*leaf;		/* its final name in tmpdir */
	uint64_t	 written;	/* bytes written to it */
	uint64_t	 flushed;	/* of which writeback was started */
	uint64_t	 unkicked;	/* bytes written since the last kick */
	struct rflusher	*fl;		/* background syncfs, or NULL */
	const struct restore_entry **dirs; /* directories restored */
	size_t		 ndirs;		/* in stream order */
	size_t		 capdirs;	/* allocated */
};

static void *
rw_flusher(void *arg)
{
	struct rflusher	*fl = arg;
	int		 err;

	(void)pthread_setname_np(pthread_self(), "kf-rflusher");
	pthread_mutex_lock(&fl->mu);
	for (;;) {
		while (!fl->want && !fl->stop)
			pthread_cond_wait(&fl->cv, &fl->mu);
		if (fl->stop)
			break;
		fl->want = 0;
		pthread_mutex_unlock(&fl->mu);
		err = syncfs(fl->fd) == -1 ? errno : 0;
		pthread_mutex_lock(&fl->mu);
		fl->syncs++;
		if (err != 0 && fl->err == 0)
			fl->err = err;
	}
	pthread_mutex_unlock(&fl->mu);
	return NULL;
}

/* Ask the flusher for a syncfs (one pending request at most). */
static void
rw_kick(struct rwriter *rw)
{
	rw->unkicked = 0;
	if (rw->fl == NULL)
		return;
	pthread_mutex_lock(&rw->fl->mu);
	rw->fl->want = 1;
	pthread_cond_signal(&rw->fl->cv);
	pthread_mutex_unlock(&rw->fl->mu);
}

/*
 * Stop the flusher and free it: the errno of a syncfs of its that failed,
 * else 0; *syncs is how many it made.
 */
static int
rw_flusher_stop(struct rwriter *rw, unsigned *syncs)
{
	struct rflusher	*fl = rw->fl;
	int		 err;

	*syncs = 0;
	if (fl == NULL)
		return 0;
	pthread_mutex_lock(&fl->mu);
	fl->stop = 1;
	pthread_cond_signal(&fl->cv);
	pthread_mutex_unlock(&fl->mu);
	pthread_join(fl->thread, NULL);
	err = fl->err;
	*syncs = fl->syncs;
	pthread_cond_destroy(&fl->cv);
	pthread_mutex_destroy(&fl->mu);
	close(fl->fd);
	free(fl);
	rw->fl = NULL;
	return err;
}

/* Start the flusher; without one, only the final syncfs runs. */
static void
rw_flusher_start(struct rwriter *rw)
{
	struct rflusher	*fl;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return;
	/* A new open file: its own errseq cursor for syncfs errors. */
	fl->fd = openat(rw->destfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fl->fd == -1) {
		free(fl);
		return;
	}
	pthread_mutex_init(&fl->mu, NULL);
	pthread_cond_init(&fl->cv, NULL);
	if (pthread_create(&fl->thread, NULL, rw_flusher, fl) != 0) {
		pthread_cond_destroy(&fl->cv);
		pthread_mutex_destroy(&fl->mu);
		close(fl->fd);
		free(fl);
		return;
	}
	rw->fl = fl;
}

struct rwriter *
rw_new(struct job *j, const char *dest, int overwrite)
{
	struct rwriter	*rw;

	if ((rw = calloc(1, sizeof(*rw))) == NULL) {
		job_fail(j, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		return NULL;
	}
	rw->job = j;
	rw->dest = dest;
	rw->overwrite = overwrite;
	rw->pfd = rw->tmpfd = rw->tmpdir = rw->destfd = -1;
	if ((rw->verify_only = dest == NULL))
		return rw;
	rw->destfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rw->destfd == -1) {
		job_fail(j, KF__KF_ERR__ERR_IO, "cannot open destination "
		    "directory %s: %s", dest, strerror(errno));
		free(rw);
		return NULL;
	}
	rw_flusher_start(rw);
	return rw;
}

/* Remove the temporary file of a file or symlink not renamed into place. */
static void
rw_discard(struct rwriter *rw)
{
	if (rw->tmpfd != -1) {
		close(rw->tmpfd);
		rw->tmpfd = -1;
	}
	if (rw->tmpdir != -1) {
		if (unlinkat(rw->tmpdir, rw->tmp, 0) == -1 && errno != ENOENT)
			log_warn("cannot remove temporary file %s", rw->tmp);
		close(rw->tmpdir);
		rw->tmpdir = -1;
	}
	rw->cur = NULL;
}

void
rw_free(struct rwriter **rwp)
{
	struct rwriter	*rw;
	unsigned	 syncs;

	if (rwp == NULL || (rw = *rwp) == NULL)
		return;
	(void)rw_flusher_stop(rw, &syncs);
	rw_discard(rw);
	if (rw->pfd != -1)
		close(rw->pfd);
	if (rw->destfd != -1)
		close(rw->destfd);
	free(rw->pdir);
	free(rw->dirs);
	free(rw);
	*rwp = NULL;
}

static int
rw_io_fail(struct rwriter *rw, const char *what, const char *path)
{
	return job_fail(rw->job, errno == ENOSPC || errno == EDQUOT ?
	    KF__KF_ERR__ERR_NO_SPACE : KF__KF_ERR__ERR_IO, "%s %s/%s: %s",
	    what, rw->dest, path, strerror(errno));
}

/*
 * The directory that holds path, opened without following any symlink and
 * created where missing; *leafp points at the last component.  The
 * descriptor belongs to rw (a one-entry cache): do not close it.
 */
static int
rw_parent(struct rwriter *rw, const char *path, const char **leafp)
{
	const char	*slash = strrchr(path, '/'), *p, *q = path;
	char		 comp[NAME_MAX + 1];
	size_t		 len;
	int		 fd, nfd;

	*leafp = slash != NULL ? slash + 1 : path;
	if (slash == NULL)
		return rw->destfd;
	len = (size_t)(slash - path);
	if (rw->pfd != -1 && rw->pdirlen == len &&
	    memcmp(rw->pdir, path, len) == 0)
		return rw->pfd;
	if (rw->pfd != -1) {
		close(rw->pfd);
		rw->pfd = -1;
	}
	free(rw->pdir);
	if ((rw->pdir = strndup(path, len)) == NULL) {
		job_fail(rw->job, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		return -1;
	}
	rw->pdirlen = len;
	fd = rw->destfd;
	for (p = path; p < slash; p = q + 1) {
		q = memchr(p, '/', (size_t)(slash - p) + 1);
		if ((size_t)(q - p) > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, (size_t)(q - p));
		comp[q - p] = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT) {
			if (mkdirat(fd, comp, 0755) == -1 && errno != EEXIST)
				goto fail;
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd == -1)
			goto fail;
		if (fd != rw->destfd)
			close(fd);
		fd = nfd;
	}
	rw->pfd = fd;
	return fd;
fail:
	if (errno == ELOOP || errno == ENOTDIR)
		job_fail(rw->job, KF__KF_ERR__ERR_INVALID, "cannot restore "
		    "%s/%s: %.*s is not a directory (a symlink or file is in "
		    "the way; restore never follows symlinks)", rw->dest, path,
		    (int)(q - path), path);
	else
		rw_io_fail(rw, "cannot create the directories of", path);
	if (fd != rw->destfd)
		close(fd);
	free(rw->pdir);
	rw->pdir = NULL;
	return -1;
}

/* Refuse to replace what exists, unless overwriting; never a directory. */
static int
rw_check_existing(struct rwriter *rw, int dirfd, const char *leaf,
    const char *path)
{
	struct stat	 st;

	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 :
		    rw_io_fail(rw, "cannot stat", path);
	if (!rw->overwrite)
		return job_fail(rw->job, KF__KF_ERR__ERR_INVALID, "refusing "
		    "to overwrite existing file %s/%s (use --overwrite)",
		    rw->dest, path);
	if (S_ISDIR(st.st_mode))
		return job_fail(rw->job, KF__KF_ERR__ERR_INVALID, "refusing "
		    "to replace directory %s/%s with a file", rw->dest, path);
	return 0;
}

/* ".<leaf>.kf-XXXXXX" with six fresh random characters. */
static int
rw_tmpname(struct rwriter *rw, const char *leaf)
{
	static const char	 al[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t			 r[6];
	char			 sfx[7];
	size_t			 i;

	if (crypto_random(r, sizeof(r)) == -1)
		return -1;
	for (i = 0; i < sizeof(r); i++)
		sfx[i] = al[r[i] % (sizeof(al) - 1)];
	sfx[6] = '\0';
	snprintf(rw->tmp, sizeof(rw->tmp), ".%.*s.kf-%s", RW_TMP_STEM, leaf,
	    sfx);
	return 0;
}

/* Rename the temporary into place, refusing to replace unless asked. */
static int
rw_rename(struct rwriter *rw, const char *path)
{
	int	 rc;

	if (rw->overwrite)
		rc = renameat(rw->tmpdir, rw->tmp, rw->tmpdir, rw->leaf);
	else {
		rc = renameat2(rw->tmpdir, rw->tmp, rw->tmpdir, rw->leaf,
		    RENAME_NOREPLACE);
		if (rc == -1 && errno == EINVAL) {
			/* No RENAME_NOREPLACE here: link() never replaces. */
			rc = linkat(rw->tmpdir, rw->tmp, rw->tmpdir, rw->leaf,
			    0);
			if (rc == 0)
				(void)unlinkat(rw->tmpdir, rw->tmp, 0);
		}
	}
	if (rc == 0) {
		close(rw->tmpdir);
		rw->tmpdir = -1;
		return 0;
	}
	if (errno == EEXIST)
		return job_fail(rw->job, KF__KF_ERR__ERR_INVALID, "refusing "
		    "to overwrite existing file %s/%s (use --overwrite)",
		    rw->dest, path);
	return rw_io_fail(rw, "cannot rename into place", path);
}

/* times[] for futimens/utimensat: atime untouched, mtime from e. */
static void
rw_times(const struct restore_entry *e, struct timespec ts[2])
{
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = e->mtime_sec;
	ts[1].tv_nsec = e->mtime_nsec;
}

/*
 * Create e's temporary next to where it belongs: an empty regular file
 * open in rw->tmpfd, or the symlink itself.  Sets tmpdir, tmp and leaf.
 */
static int
rw_create_tmp(struct rwriter *rw, const struct restore_entry *e)
{
	int	 dirfd, i, rc = -1;

	if ((dirfd = rw_parent(rw, e->path, &rw->leaf)) == -1 ||
	    rw_check_existing(rw, dirfd, rw->leaf, e->path) == -1)
		return -1;
	if ((rw->tmpdir = dup(dirfd)) == -1)
		return rw_io_fail(rw, "cannot restore", e->path);
	for (i = 0; i < RW_TMP_TRIES; i++) {
		if (rw_tmpname(rw, rw->leaf) == -1)
			break;
		if (e->type == STREAM_SYMLINK)
			rc = symlinkat(e->link, rw->tmpdir, rw->tmp);
		else
			rc = rw->tmpfd = openat(rw->tmpdir, rw->tmp, O_WRONLY |
			    O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (rc != -1 || errno != EEXIST)
			break;
	}
	if (rc == -1) {
		rw_io_fail(rw, "cannot create a temporary name for", e->path);
		close(rw->tmpdir);
		rw->tmpdir = -1;
		return -1;
	}
	return 0;
}

int
rw_file_begin(struct rwriter *rw, const struct restore_entry *e)
{
	if (!rw->verify_only && rw_create_tmp(rw, e) == -1)
		return -1;
	rw->written = rw->flushed = 0;
	rw->cur = e;
	return 0;
}

int
rw_file_write(struct rwriter *rw, const uint8_t *buf, size_t len)
{
	if (rw->cur == NULL)
		return job_fail(rw->job, KF__KF_ERR__ERR_INTERNAL, "file data "
		    "outside a file");
	if (!rw->verify_only && util_write_all(rw->tmpfd, buf, len) == -1) {
		rw_io_fail(rw, "cannot write", rw->cur->path);
		rw_discard(rw);
		return -1;
	}
	rw->written += len;
	/*
	 * Start writing back what is written so far, without waiting: the
	 * disk works while the restore goes on, and the syncfs at the end
	 * finds little left.  A hint; errors show at that syncfs.
	 */
	if (!rw->verify_only && rw->written - rw->flushed >= RW_FLUSH_BYTES) {
		(void)sync_file_range(rw->tmpfd, (off_t)rw->flushed,
		    (off_t)(rw->written - rw->flushed), SYNC_FILE_RANGE_WRITE);
		rw->flushed = rw->written;
	}
	if (!rw->verify_only && (rw->unkicked += len) >= RW_KICK_BYTES)
		rw_kick(rw);
	return 0;
}

/*
 * md is the SHA-256 of the bytes written (NULL: it could not be computed).
 * Check the length and the hash, set mode and mtime, rename into place.
 */
int
rw_file_end(struct rwriter *rw, const uint8_t *md)
{
	const struct restore_entry	*e = rw->cur;
	struct timespec			 ts[2];
	int				 fd;

	if (e == NULL)
		return job_fail(rw->job, KF__KF_ERR__ERR_INTERNAL, "end of a "
		    "file that was not begun");
	if (md == NULL || rw->written != e->size) {
		rw_discard(rw);
		return job_fail(rw->job, KF__KF_ERR__ERR_CRYPTO, "file %s: "
		    "SHA-256 failed (%llu of %llu bytes)", e->path,
		    (unsigned long long)rw->written,
		    (unsigned long long)e->size);
	}
	if (crypto_memeq(md, e->sha256, KF_SHA256_LEN) != 0) {
		job_fail(rw->job, KF__KF_ERR__ERR_INTEGRITY, "file %s: SHA-256 "
		    "mismatch", e->path);
		rw_discard(rw);
		return -1;
	}
	if (rw->verify_only) {
		rw_discard(rw);
		return 0;
	}
	rw_times(e, ts);
	if (fchmod(rw->tmpfd, e->mode) == -1 ||
	    futimens(rw->tmpfd, ts) == -1) {
		rw_io_fail(rw, "cannot set mode and time of", e->path);
		rw_discard(rw);
		return -1;
	}
	fd = rw->tmpfd;
	rw->tmpfd = -1;
	if (close(fd) == -1) {
		rw_io_fail(rw, "cannot write", e->path);
		rw_discard(rw);
		return -1;
	}
	if (rw_rename(rw, e->path) == -1) {
		rw_discard(rw);
		return -1;
	}
	rw->cur = NULL;
	return 0;
}

int
rw_symlink(struct rwriter *rw, const struct restore_entry *e)
{
	struct timespec	 ts[2];

	if (rw->verify_only)
		return 0;
	if (rw_create_tmp(rw, e) == -1)
		return -1;
	rw_times(e, ts);
	if (utimensat(rw->tmpdir, rw->tmp, ts, AT_SYMLINK_NOFOLLOW) == -1) {
		rw_io_fail(rw, "cannot set the time of symlink", e->path);
		rw_discard(rw);
		return -1;
	}
	if (rw_rename(rw, e->path) == -1) {
		rw_discard(rw);
		return -1;
	}
	return 0;
}

/* Create the directory now; its mode and mtime come in rw_finish. */
int
rw_dir(struct rwriter *rw, const struct restore_entry *e)
{
	const struct restore_entry	**v;
	struct stat			 st;
	const char			*leaf;
	size_t				 cap;
	int				 dirfd;

	if (rw->verify_only)
		return 0;
	if ((dirfd = rw_parent(rw, e->path, &leaf)) == -1)
		return -1;
	if (mkdirat(dirfd, leaf, 0700) == -1) {
		if (errno != EEXIST)
			return rw_io_fail(rw, "cannot create directory",
			    e->path);
		if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1)
			return rw_io_fail(rw, "cannot stat", e->path);
		if (!S_ISDIR(st.st_mode))
			return job_fail(rw->job, KF__KF_ERR__ERR_INVALID,
			    "refusing to replace existing file %s/%s with a "
			    "directory", rw->dest, e->path);
	}
	if (rw->ndirs == rw->capdirs) {
		cap = rw->capdirs ? rw->capdirs * 2 : 64;
		if ((v = reallocarray(rw->dirs, cap, sizeof(*v))) == NULL)
			return job_fail(rw->job, KF__KF_ERR__ERR_INTERNAL,
			    "out of memory");
		rw->dirs = v;
		rw->capdirs = cap;
	}
	rw->dirs[rw->ndirs++] = e;
	return 0;
}

/*
 * Directory modes and times, in reverse stream order: a directory's record
 * comes before its children's, so each is done after everything inside it.
 * Then one syncfs for everything written.
 */
int
rw_finish(struct rwriter *rw)
{
	const struct restore_entry	*e;
	struct timespec			 ts[2];
	const char			*leaf;
	size_t				 i;
	unsigned			 syncs;
	int				 dirfd, fd, err;

	if (rw->verify_only)
		return 0;
	for (i = rw->ndirs; i-- > 0; ) {
		e = rw->dirs[i];
		if ((dirfd = rw_parent(rw, e->path, &leaf)) == -1)
			return -1;
		fd = openat(dirfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1)
			return rw_io_fail(rw, "cannot open directory", e->path);
		rw_times(e, ts);
		if (fchmod(fd, e->mode) == -1 || futimens(fd, ts) == -1) {
			rw_io_fail(rw, "cannot set mode and time of", e->path);
			close(fd);
			return -1;
		}
		close(fd);
	}
	/* Every write and rename is done: the last syncfs covers them all. */
	if ((err = rw_flusher_stop(rw, &syncs)) != 0) {
		errno = err;
		return rw_io_fail(rw, "cannot sync", "");
	}
	if (syncfs(rw->destfd) == -1)
		return rw_io_fail(rw, "cannot sync", "");
	log_info("restore to %s: synced its filesystem (and %u times while "
	    "writing)", rw->dest, syncs);
	return 0;
}
