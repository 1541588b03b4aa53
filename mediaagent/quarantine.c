/*
 * quarantine.c - partial containers left by a crashed MediaAgent.
 *
 * A container carries a ".partial" suffix until commit renames it into
 * place, so a MediaAgent killed mid-backup leaves job-<id>.kfc.partial and
 * job-<id>.kfi.partial behind.  Nothing restores from such a file, but an
 * operator could mistake it for data and it holds space, and a file of the
 * same job would block a new stream (the writer refuses existing files).
 *
 * The MediaAgent does not know its pools' mount paths until CommServe
 * announces jobs, so the clean-up happens twice.  At start every partial
 * container under --root (at most QUARANTINE_DEPTH directories deep, never
 * following a symbolic link) is moved into <root>/.quarantine/, where an
 * operator can look at it and delete it; a file on another file system than
 * the root is removed instead.  When a backup job is announced, stale
 * partial files of that job under its mount path (which may lie outside the
 * root) are removed: no stream of this process can own them, since the job
 * was not known here.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "log.h"
#include "mediaagent.h"

#define QUARANTINE_DIR		".quarantine"
#define QUARANTINE_DEPTH	4	/* directory levels below the root */
#define QUARANTINE_TRIES	100	/* name suffixes tried on a clash */

/* One start-up scan. */
struct qscan {
	const char	*root;		/* --root, as configured */
	int		 qfd;		/* <root>/.quarantine, -1 until needed */
	unsigned	 moved;		/* files moved into the quarantine */
	unsigned	 removed;	/* files removed (other file system) */
	unsigned	 failed;	/* files that could be neither */
};

/* "job-<digits>.kfc.partial" or "job-<digits>.kfi.partial". */
int
quarantine_name_partial(const char *name)
{
	const char	*p;

	if (strncmp(name, "job-", 4) != 0)
		return 0;
	for (p = name + 4; *p >= '0' && *p <= '9'; p++)
		;
	if (p == name + 4 || p - (name + 4) > 20)
		return 0;
	return strcmp(p, ".kfc.partial") == 0 ||
	    strcmp(p, ".kfi.partial") == 0;
}

static int
qdir_open(struct qscan *q)
{
	char	path[PATH_MAX];

	if (q->qfd != -1)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", q->root, QUARANTINE_DIR) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	q->qfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return q->qfd == -1 ? -1 : 0;
}

/*
 * Move rel (a path relative to the root, of the file name in dfd) into the
 * quarantine under rel with '/' turned into '%', plus ".N" on a clash.
 */
static void
quarantine_move(struct qscan *q, int dfd, const char *name, const char *rel)
{
	char		 flat[NAME_MAX + 1], qname[NAME_MAX + 1];
	size_t		 i;
	unsigned	 n;
	int		 e = 0;

	if (snprintf(flat, sizeof(flat), "%s", rel) >= (int)sizeof(flat))
		snprintf(flat, sizeof(flat), "%s", name);
	for (i = 0; flat[i] != '\0'; i++)
		if (flat[i] == '/')
			flat[i] = '%';
	if (qdir_open(q) == -1) {
		e = errno;
		goto remove;
	}
	for (n = 0; n < QUARANTINE_TRIES; n++) {
		if (n == 0)
			snprintf(qname, sizeof(qname), "%s", flat);
		else if (snprintf(qname, sizeof(qname), "%s.%u", flat, n) >=
		    (int)sizeof(qname))
			break;
		if (linkat(dfd, name, q->qfd, qname, 0) == 0) {
			if (unlinkat(dfd, name, 0) == -1) {
				log_warn("quarantine: cannot remove %s/%s after "
				    "linking it into %s", q->root, rel,
				    QUARANTINE_DIR);
				q->failed++;
				return;
			}
			log_warnx("quarantined %s/%s, a partial container of a "
			    "job that never committed: now %s/%s/%s", q->root,
			    rel, q->root, QUARANTINE_DIR, qname);
			q->moved++;
			return;
		}
		if (errno != EEXIST) {
			e = errno;
			break;
		}
	}
remove:
	/* Another file system (EXDEV) or no quarantine: never keep it. */
	if (unlinkat(dfd, name, 0) == -1) {
		log_warn("quarantine: cannot remove the partial container "
		    "%s/%s", q->root, rel);
		q->failed++;
		return;
	}
	log_warnx("removed %s/%s, a partial container of a job that never "
	    "committed (not quarantined: %s)", q->root, rel,
	    e ? strerror(e) : "too many name clashes");
	q->removed++;
}

/* Walk dfd (rel from the root; "" for the root), closing dfd. */
static void
quarantine_walk(struct qscan *q, int dfd, const char *rel, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 sub[PATH_MAX];
	int		 fd;

	if ((d = fdopendir(dfd)) == NULL) {
		log_warn("quarantine: cannot read %s/%s", q->root, rel);
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (depth == 0 && strcmp(de->d_name, QUARANTINE_DIR) == 0))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
		    de->d_name) >= (int)sizeof(sub))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISREG(st.st_mode) &&
		    quarantine_name_partial(de->d_name))
			quarantine_move(q, dirfd(d), de->d_name, sub);
		else if (S_ISDIR(st.st_mode) && depth < QUARANTINE_DEPTH) {
			fd = openat(dirfd(d), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd == -1)
				log_warn("quarantine: cannot open %s/%s",
				    q->root, sub);
			else
				quarantine_walk(q, fd, sub, depth + 1);
		}
	}
	closedir(d);
}

/*
 * At start: move every partial container under root into the quarantine.
 * Returns the number of files that could be neither moved nor removed.
 */
int
quarantine_scan(const char *root)
{
	struct qscan	q;
	int		fd;

	memset(&q, 0, sizeof(q));
	q.root = root;
	q.qfd = -1;
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("quarantine: cannot open the mount root %s", root);
		return -1;
	}
	quarantine_walk(&q, fd, "", 0);
	if (q.qfd != -1)
		close(q.qfd);
	if (q.moved + q.removed + q.failed > 0)
		log_warnx("start-up scan of %s: %u partial containers "
		    "quarantined, %u removed, %u left (see above)", root,
		    q.moved, q.removed, q.failed);
	else
		log_debug("start-up scan of %s: no partial containers", root);
	return (int)q.failed;
}

/* Remove a job's two files (partial or committed); why ends the log line. */
static int
remove_job_files(const char *mount, uint64_t job, int partial,
    const char *why)
{
	char	path[PATH_MAX];
	int	idx, rc = 0;

	for (idx = 0; idx <= 1; idx++) {
		if (container_path(path, sizeof(path), mount, job, partial,
		    idx) == -1)
			return -1;
		if (unlink(path) == 0)
			log_warnx("job %llu: removed %s, %s",
			    (unsigned long long)job, path, why);
		else if (errno != ENOENT) {
			log_warn("job %llu: cannot remove %s",
			    (unsigned long long)job, path);
			rc = -1;
		}
	}
	return rc;
}

/*
 * A backup job was just announced: its partial files under mount, if any,
 * were left by an earlier life of this MediaAgent.  Returns 0, or -1 if
 * one exists and cannot be removed (the stream will then fail to open).
 */
int
quarantine_stale_job(const char *mount, uint64_t job)
{
	return remove_job_files(mount, job, 1, "a stale partial container "
	    "left by an earlier run");
}

/*
 * CommServe failed a backup whose container this MediaAgent had already
 * committed (the client died before reporting, say): the job will never be
 * in the catalog, so its container must not look like a backup.  Returns 0,
 * or -1 if a file exists and cannot be removed.
 */
int
quarantine_discard_committed(const char *mount, uint64_t job)
{
	return remove_job_files(mount, job, 0, "committed here but discarded "
	    "by CommServe");
}
