/*
 * walk.c - the list of what a backup job will stream, collected before the
 * first byte is sent so that progress reports know the totals.
 *
 * Each requested path must be absolute.  It is lstat'ed (a symlink is backed
 * up as a symlink, never followed), and directories are walked with
 * openat/fdopendir and O_NOFOLLOW, children in strcmp order, a directory's
 * record before its children's.  Regular files, directories and symlinks
 * are recorded; sockets, FIFOs and devices are skipped with a log line.  A
 * record's path is the absolute path without its leading '/', and must pass
 * stream_path_valid.  Overlapping requests ("/a" and "/a/b") are streamed
 * once.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"

#define WALK_STOP_EVERY	1024	/* entries between shutdown checks */

struct walk {
	struct job	*job;		/* for errors and stop */
	struct walk_list *list;		/* the list being built */
	char		 path[KF_PATH_MAX + 2]; /* "/" + current path */
	size_t		 len;		/* bytes used in path */
};

void
walk_list_clear(struct walk_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
walk_add(struct walk *w, int dirfd, const char *name, const struct stat *st)
{
	struct walk_list	*l = w->list;
	struct walk_entry	*e, *v;
	const char		*abs = w->path, *rel = w->path + 1;
	char			 target[KF_PATH_MAX + 1];
	ssize_t			 n;
	size_t			 cap;

	if (stream_path_valid(rel, w->len - 1) != 0)
		return job_fail(w->job, KF__KF_ERR__ERR_INVALID, "cannot back "
		    "up %s: the path is not one keyflow can store (empty, \".\" "
		    "or \"..\" component, or too long)", abs);
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 256;
		if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
			return job_fail(w->job, KF__KF_ERR__ERR_INTERNAL,
			    "out of memory listing %s", abs);
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	if (S_ISREG(st->st_mode)) {
		e->type = STREAM_REGULAR;
		e->size = (uint64_t)st->st_size;
	} else if (S_ISDIR(st->st_mode))
		e->type = STREAM_DIRECTORY;
	else {
		e->type = STREAM_SYMLINK;
		n = readlinkat(dirfd, name, target, sizeof(target));
		if (n == -1 && errno == ENOENT)
			return 0;		/* vanished: not backed up */
		if (n == -1)
			return job_fail(w->job, KF__KF_ERR__ERR_IO,
			    "cannot read symlink %s: %s", abs,
			    strerror(errno));
		if (n == 0 || (size_t)n > KF_PATH_MAX)
			return job_fail(w->job, KF__KF_ERR__ERR_INVALID,
			    "cannot back up symlink %s: its target is longer "
			    "than %d bytes", abs, KF_PATH_MAX);
		if ((e->link = strndup(target, (size_t)n)) == NULL)
			return job_fail(w->job, KF__KF_ERR__ERR_INTERNAL,
			    "out of memory listing %s", abs);
	}
	e->mode = st->st_mode & 07777;
	e->mtime_sec = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	if ((e->path = strndup(rel, w->len - 1)) == NULL) {
		free(e->link);
		return job_fail(w->job, KF__KF_ERR__ERR_INTERNAL,
		    "out of memory listing %s", abs);
	}
	l->bytes += e->size;
	l->n++;
	if (l->n % WALK_STOP_EVERY == 0 && job_stopped(w->job))
		return -1;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted; *np set. */
static int
walk_names(struct walk *w, DIR *d, char ***namesp, size_t *np)
{
	struct dirent	*de;
	char		**names = NULL, **v;
	size_t		 n = 0, cap = 0;

	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((v = reallocarray(names, cap, sizeof(*v))) == NULL)
				goto fail;
			names = v;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto fail;
		n++;
	}
	if (errno != 0) {
		job_fail(w->job, KF__KF_ERR__ERR_IO, "cannot read directory "
		    "%s: %s", w->path, strerror(errno));
		goto fail_quiet;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	*namesp = names;
	*np = n;
	return 0;
fail:
	job_fail(w->job, KF__KF_ERR__ERR_INTERNAL, "out of memory listing %s",
	    w->path);
fail_quiet:
	while (n > 0)
		free(names[--n]);
	free(names);
	return -1;
}

/* Walk the directory open on fd (consumed), whose path is in w->path. */
static int
walk_dir(struct walk *w, int fd)
{
	struct stat	 st;
	DIR		*d;
	char		**names = NULL;
	size_t		 n = 0, i, nlen, saved = w->len;
	int		 cfd, rc = -1;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return job_fail(w->job, KF__KF_ERR__ERR_IO, "cannot read "
		    "directory %s: %s", w->path, strerror(errno));
	}
	if (walk_names(w, d, &names, &n) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		nlen = strlen(names[i]);
		if (saved + 1 + nlen > KF_PATH_MAX + 1) {
			job_fail(w->job, KF__KF_ERR__ERR_INVALID, "cannot back "
			    "up %s/%s: the path is longer than %d bytes",
			    w->path, names[i], KF_PATH_MAX);
			goto fail;
		}
		w->len = saved;
		if (saved > 1)
			w->path[w->len++] = '/';
		memcpy(w->path + w->len, names[i], nlen + 1);
		w->len += nlen;
		if (fstatat(dirfd(d), names[i], &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* deleted meanwhile */
			job_fail(w->job, KF__KF_ERR__ERR_IO, "cannot stat %s: "
			    "%s", w->path, strerror(errno));
			goto fail;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
		    !S_ISLNK(st.st_mode)) {
			log_info("job %llu: skipping %s: not a regular file, "
			    "directory or symlink",
			    (unsigned long long)w->job->id, w->path);
			continue;
		}
		if (walk_add(w, dirfd(d), names[i], &st) == -1)
			goto fail;
		if (!S_ISDIR(st.st_mode))
			continue;
		cfd = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (cfd == -1) {
			job_fail(w->job, KF__KF_ERR__ERR_IO, "cannot open "
			    "directory %s: %s", w->path, strerror(errno));
			goto fail;
		}
		if (walk_dir(w, cfd) == -1)
			goto fail;
	}
	rc = 0;
fail:
	w->len = saved;
	w->path[saved] = '\0';
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/*
 * Copy an absolute request into w->path with repeated and trailing '/'
 * removed ("/" stays "/").
 */
static int
walk_normalize(struct walk *w, const char *req)
{
	const char	*p;
	size_t		 n = 0;

	if (req[0] != '/')
		return job_fail(w->job, KF__KF_ERR__ERR_INVALID, "cannot back "
		    "up \"%s\": backup paths must be absolute", req);
	for (p = req; *p != '\0'; p++) {
		if (*p == '/' && n > 0 && w->path[n - 1] == '/')
			continue;
		if (n == KF_PATH_MAX + 1)
			return job_fail(w->job, KF__KF_ERR__ERR_INVALID,
			    "cannot back up %s: the path is longer than %d "
			    "bytes", req, KF_PATH_MAX);
		w->path[n++] = *p;
	}
	if (n > 1 && w->path[n - 1] == '/')
		n--;
	w->path[n] = '\0';
	w->len = n;
	if (n > 1 && stream_path_valid(w->path + 1, n - 1) != 0)
		return job_fail(w->job, KF__KF_ERR__ERR_INVALID, "cannot back "
		    "up %s: \".\" and \"..\" are not allowed in backup paths",
		    w->path);
	return 0;
}

/* Walk one normalized absolute path. */
static int
walk_top(struct walk *w, const char *path)
{
	struct stat	 st;
	int		 fd;

	w->len = strlen(path);
	memcpy(w->path, path, w->len + 1);
	if (lstat(w->path, &st) == -1)
		return job_fail(w->job, errno == ENOENT ?
		    KF__KF_ERR__ERR_NOT_FOUND : KF__KF_ERR__ERR_IO,
		    "cannot back up %s: %s", w->path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	    !S_ISLNK(st.st_mode))
		return job_fail(w->job, KF__KF_ERR__ERR_INVALID, "cannot back "
		    "up %s: not a regular file, directory or symlink", w->path);
	/* "/" itself has no record; its children do. */
	if (w->len > 1 && walk_add(w, AT_FDCWD, w->path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if ((fd = open(w->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return job_fail(w->job, KF__KF_ERR__ERR_IO, "cannot open "
		    "directory %s: %s", w->path, strerror(errno));
	return walk_dir(w, fd);
}

/* 1 when path is under (or equals) dir, both normalized absolute. */
static int
walk_under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/*
 * The requests, normalized and sorted: a directory sorts before anything
 * inside it, so a request inside an earlier one is simply dropped.
 */
int
walk_collect(struct job *j, char **paths, size_t npaths,
    struct walk_list *list)
{
	struct walk	*w;
	char		**req = NULL;
	size_t		 i, k, nreq = 0;
	int		 rc = -1;

	memset(list, 0, sizeof(*list));
	if (npaths == 0)
		return job_fail(j, KF__KF_ERR__ERR_INVALID, "the backup order "
		    "names no paths");
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (req = calloc(npaths, sizeof(*req))) == NULL) {
		job_fail(j, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto fail;
	}
	w->job = j;
	w->list = list;
	for (nreq = 0; nreq < npaths; nreq++) {
		if (walk_normalize(w, paths[nreq]) == -1)
			goto fail;
		if ((req[nreq] = strdup(w->path)) == NULL) {
			job_fail(j, KF__KF_ERR__ERR_INTERNAL, "out of memory");
			goto fail;
		}
	}
	qsort(req, nreq, sizeof(*req), name_cmp);
	for (i = 0; i < nreq; i++) {
		for (k = 0; k < i; k++)
			if (req[k] != NULL && walk_under(req[i], req[k]))
				break;
		if (k < i) {
			log_info("job %llu: %s is already inside %s",
			    (unsigned long long)j->id, req[i], req[k]);
			free(req[i]);
			req[i] = NULL;
			continue;
		}
		if (walk_top(w, req[i]) == -1)
			goto fail;
	}
	rc = 0;
fail:
	for (i = 0; i < nreq; i++)
		free(req[i]);
	free(req);
	free(w);
	if (rc == -1)
		walk_list_clear(list);
	return rc;
}
