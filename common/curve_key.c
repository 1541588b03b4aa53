/*
 * curve_key.c - CURVE key files, trust directories and the ZAP decision
 * (see curve.h).  Nothing here touches a socket, so all of it is unit
 * tested (tests/unit/check_curve.c).
 *
 * curve.key holds both keys of a pair as Z85 text, one "name = value" line
 * each, and must be a regular file of ours with mode 0600 or stricter: a
 * key file anyone else could read is refused rather than used, the way
 * ssh refuses an unprotected identity.  curve.pub holds the public key
 * alone and is what an administrator copies into other daemons' trust
 * directories.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "crypto.h"
#include "curve.h"
#include "log.h"
#include "util.h"

#define KEYFILE_MAX	1024		/* bytes of a curve.key */
#define PUBFILE_MAX	1024		/* bytes of a .pub file */
#define NOTED_MAX	256		/* bad trust files remembered */

struct curve_trust {
	char		 dir[PATH_MAX];	/* the directory read */
	uint8_t		(*keys)[CURVE_BIN_LEN];	/* trusted keys */
	int		 nkeys;		/* how many */
	char		**noted;	/* bad files already warned about */
	int		 nnoted;	/* how many */
	struct timespec	 mtime;		/* the directory's, at the last load */
};

/* The Z85 alphabet (ZeroMQ RFC 32). */
static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ".-:+=^!/*?&<>()[]{}@%$#";

static int
z85_decode(const char *s, uint8_t out[CURVE_BIN_LEN])
{
	size_t	i;

	if (s == NULL || strlen(s) != CURVE_Z85_LEN)
		return -1;
	for (i = 0; i < CURVE_Z85_LEN; i++)
		if (s[i] == '\0' || strchr(z85_chars, s[i]) == NULL)
			return -1;
	return zmq_z85_decode(out, s) == NULL ? -1 : 0;
}

int
curve_z85_valid(const char *s)
{
	uint8_t	k[CURVE_BIN_LEN];

	return z85_decode(s, k) == 0;
}

/* Trim spaces at both ends, in place. */
static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Parse "public-key = Z85" and "secret-key = Z85" lines ('#' comments and
 * blank lines allowed) out of buf, which is modified.
 */
static int
parse_keyfile(char *buf, char pub[CURVE_Z85_LEN + 1],
    char sec[CURVE_Z85_LEN + 1])
{
	char	*line, *next, *eq, *name, *val;
	int	 havepub = 0, havesec = 0;

	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL)
			return -1;
		*eq = '\0';
		name = trim(line);
		val = trim(eq + 1);
		if (!curve_z85_valid(val))
			return -1;
		if (strcmp(name, "public-key") == 0 && !havepub) {
			memcpy(pub, val, CURVE_Z85_LEN + 1);
			havepub = 1;
		} else if (strcmp(name, "secret-key") == 0 && !havesec) {
			memcpy(sec, val, CURVE_Z85_LEN + 1);
			havesec = 1;
		} else
			return -1;
	}
	return havepub && havesec ? 0 : -1;
}

/* Write curve.pub (0644) unless it already holds pub. */
static int
write_pub(const char *dir, const char *pub, char *err, size_t errcap)
{
	char	 path[PATH_MAX], line[CURVE_Z85_LEN + 2];
	uint8_t	*buf = NULL;
	size_t	 len;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    CURVE_PUB_FILE) >= sizeof(path))
		return util_errf(err, errcap, "%s: path too long", dir);
	snprintf(line, sizeof(line), "%s\n", pub);
	if (util_read_file(path, PUBFILE_MAX, &buf, &len) == 0 &&
	    len == strlen(line) && memcmp(buf, line, len) == 0) {
		free(buf);
		return 0;
	}
	free(buf);
	if (util_write_file_atomic(path, line, strlen(line), 0644) == -1)
		return util_errf(err, errcap, "cannot write %s: %s", path,
		    strerror(errno));
	log_info("wrote the CURVE public key to %s", path);
	return 0;
}

/* A new pair in path (which does not exist yet). */
static int
create_pair(const char *path, char pub[CURVE_Z85_LEN + 1],
    char sec[CURVE_Z85_LEN + 1], char *err, size_t errcap)
{
	char	buf[256];
	int	n, rc;

	if (zmq_curve_keypair(pub, sec) == -1)
		return util_errf(err, errcap, "cannot make a CURVE key pair: "
		    "%s (is libzmq built with libsodium?)",
		    zmq_strerror(errno));
	n = snprintf(buf, sizeof(buf), "# keyflow CURVE key pair: keep this "
	    "file secret (mode 0600)\npublic-key = %s\nsecret-key = %s\n",
	    pub, sec);
	rc = util_write_file_atomic(path, buf, (size_t)n, 0600);
	crypto_wipe(buf, sizeof(buf));
	if (rc == -1)
		return util_errf(err, errcap, "cannot write %s: %s", path,
		    strerror(errno));
	log_info("created a CURVE key pair in %s", path);
	return 0;
}

/* Read path, a key file that must be ours and private. */
static int
read_pair(const char *path, char pub[CURVE_Z85_LEN + 1],
    char sec[CURVE_Z85_LEN + 1], char *err, size_t errcap)
{
	struct stat	st;
	char		buf[KEYFILE_MAX + 1], derived[CURVE_Z85_LEN + 1];
	ssize_t		n;
	int		fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return util_errf(err, errcap, "cannot open %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		util_errf(err, errcap, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		util_errf(err, errcap, "%s is not a regular file", path);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		util_errf(err, errcap, "%s belongs to uid %u, not to this "
		    "process (uid %u): refusing a key file someone else "
		    "controls", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		util_errf(err, errcap, "%s is accessible by group or others "
		    "(mode %04o): the secret key may be known; make a new "
		    "pair, or chmod 600 it if it never left this machine",
		    path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if ((n = read(fd, buf, sizeof(buf))) == -1) {
		util_errf(err, errcap, "cannot read %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (n > KEYFILE_MAX) {
		util_errf(err, errcap, "%s is larger than a key file (%d "
		    "bytes)", path, KEYFILE_MAX);
		goto fail;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n) != NULL ||
	    parse_keyfile(buf, pub, sec) == -1) {
		util_errf(err, errcap, "%s is not a CURVE key file: it needs "
		    "\"public-key = Z85\" and \"secret-key = Z85\" lines of 40 "
		    "Z85 characters each", path);
		goto fail;
	}
	if (zmq_curve_public(derived, sec) == -1 ||
	    strcmp(derived, pub) != 0) {
		util_errf(err, errcap, "%s: the public key does not belong to "
		    "the secret key", path);
		goto fail;
	}
	rc = 0;
fail:
	crypto_wipe(buf, sizeof(buf));
	close(fd);
	if (rc == -1)
		crypto_wipe(sec, CURVE_Z85_LEN + 1);
	return rc;
}

int
curve_keypair_load(const char *dir, int create, char pub[CURVE_Z85_LEN + 1],
    char sec[CURVE_Z85_LEN + 1], char *err, size_t errcap)
{
	char		path[PATH_MAX];
	struct stat	st;

	if (dir == NULL || *dir == '\0')
		return util_errf(err, errcap, "no CURVE key directory");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    CURVE_KEY_FILE) >= sizeof(path))
		return util_errf(err, errcap, "%s: path too long", dir);
	if (lstat(path, &st) == -1) {
		if (errno != ENOENT || !create)
			return util_errf(err, errcap, "no CURVE key in %s: %s",
			    path, strerror(errno));
		if (util_mkdir_p(dir, 0700) == -1)
			return util_errf(err, errcap, "cannot create the key "
			    "directory %s: %s", dir, strerror(errno));
		if (create_pair(path, pub, sec, err, errcap) == -1)
			return -1;
	} else if (read_pair(path, pub, sec, err, errcap) == -1)
		return -1;
	if (write_pub(dir, pub, err, errcap) == -1) {
		crypto_wipe(sec, CURVE_Z85_LEN + 1);
		return -1;
	}
	return 0;
}

/*
 * The first key of a .pub-style text: the first line that is not blank
 * or a '#' comment, which must be one Z85 key and nothing else.
 */
static int
first_key(char *buf, char out[CURVE_Z85_LEN + 1])
{
	char	*line, *next;

	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if (!curve_z85_valid(line))
			return -1;
		memcpy(out, line, CURVE_Z85_LEN + 1);
		return 0;
	}
	return -1;
}

int
curve_key_arg(const char *arg, char out[CURVE_Z85_LEN + 1], char *err,
    size_t errcap)
{
	uint8_t	*buf = NULL;
	size_t	 len;
	int	 rc;

	if (arg == NULL || *arg == '\0')
		return util_errf(err, errcap, "empty CURVE key");
	if (curve_z85_valid(arg)) {
		memcpy(out, arg, CURVE_Z85_LEN + 1);
		return 0;
	}
	if (util_read_file(arg, PUBFILE_MAX, &buf, &len) == -1) {
		if (errno == ENOENT && strlen(arg) == CURVE_Z85_LEN)
			return util_errf(err, errcap, "\"%s\" is not a valid "
			    "Z85 CURVE key (nor a file)", arg);
		return util_errf(err, errcap, "\"%s\" is neither a Z85 key "
		    "(40 characters) nor a readable key file: %s", arg,
		    strerror(errno));
	}
	rc = memchr(buf, '\0', len) == NULL ? first_key((char *)buf, out) :
	    -1;
	free(buf);
	if (rc == -1)
		return util_errf(err, errcap, "%s does not hold a Z85 CURVE "
		    "public key", arg);
	return 0;
}

struct curve_trust *
curve_trust_new(const char *dir)
{
	struct curve_trust	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s", dir) >=
	    sizeof(t->dir)) {
		free(t);
		return NULL;
	}
	return t;
}

/* 1 the first time a bad file name is seen (so it is warned about once). */
static int
note_once(struct curve_trust *t, const char *name)
{
	char	**n;
	int	  i;

	for (i = 0; i < t->nnoted; i++)
		if (strcmp(t->noted[i], name) == 0)
			return 0;
	if (t->nnoted >= NOTED_MAX)
		return 0;
	if ((n = realloc(t->noted, (t->nnoted + 1) * sizeof(*n))) == NULL)
		return 1;
	t->noted = n;
	if ((t->noted[t->nnoted] = strdup(name)) != NULL)
		t->nnoted++;
	return 1;
}

/* One trust file's key, or -1 (with a warning the first time). */
static int
trust_file(struct curve_trust *t, const char *name, int loud,
    uint8_t key[CURVE_BIN_LEN])
{
	char	 path[PATH_MAX], z85[CURVE_Z85_LEN + 1];
	uint8_t	*buf = NULL;
	size_t	 len;
	int	 rc = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->dir, name) >=
	    sizeof(path))
		goto fail;
	if (util_read_file(path, PUBFILE_MAX, &buf, &len) == -1)
		goto fail;
	if (memchr(buf, '\0', len) != NULL ||
	    first_key((char *)buf, z85) == -1 || z85_decode(z85, key) == -1)
		goto fail;
	rc = 0;
fail:
	free(buf);
	if (rc == -1 && note_once(t, name) && loud)
		log_warnx("CURVE trust: %s is not a public key file (one Z85 "
		    "key of 40 characters); ignored", path);
	return rc;
}

int
curve_trust_load(struct curve_trust *t, int loud)
{
	uint8_t		(*keys)[CURVE_BIN_LEN] = NULL;
	uint8_t		 key[CURVE_BIN_LEN];
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	size_t		 len;
	int		 n = 0, cap = 0;

	if ((d = opendir(t->dir)) == NULL) {
		if (loud)
			log_warn("CURVE trust directory %s", t->dir);
		return -1;
	}
	if (fstat(dirfd(d), &st) == 0)
		t->mtime = st.st_mtim;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 5 ||
		    strcmp(de->d_name + len - 4, ".pub") != 0)
			continue;
		if (trust_file(t, de->d_name, loud, key) == -1)
			continue;
		if (n >= CURVE_TRUST_MAX) {
			if (note_once(t, "\n(limit)") && loud)
				log_warnx("CURVE trust: more than %d keys in "
				    "%s; the rest are ignored",
				    CURVE_TRUST_MAX, t->dir);
			break;
		}
		if (n == cap) {
			void	*p;

			cap = cap ? cap * 2 : 16;
			if ((p = realloc(keys, cap * sizeof(*keys))) == NULL) {
				free(keys);
				closedir(d);
				return -1;
			}
			keys = p;
		}
		memcpy(keys[n++], key, CURVE_BIN_LEN);
	}
	closedir(d);
	free(t->keys);
	t->keys = keys;
	t->nkeys = n;
	return n;
}

int
curve_trust_changed(const struct curve_trust *t)
{
	struct stat	st;

	if (t == NULL || stat(t->dir, &st) == -1)
		return 0;
	return st.st_mtim.tv_sec != t->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != t->mtime.tv_nsec;
}

int
curve_trust_count(const struct curve_trust *t)
{
	return t != NULL ? t->nkeys : 0;
}

void
curve_trust_free(struct curve_trust **tp)
{
	struct curve_trust	*t = *tp;
	int			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nnoted; i++)
		free(t->noted[i]);
	free(t->noted);
	free(t->keys);
	free(t);
	*tp = NULL;
}

int
curve_zap_decide(const struct curve_trust *t, const char *mechanism,
    const uint8_t *cred, size_t credlen, char user_id[CURVE_Z85_LEN + 1],
    const char **why)
{
	int	i;

	user_id[0] = '\0';
	if (mechanism == NULL || strcmp(mechanism, "CURVE") != 0) {
		*why = "only CURVE peers are accepted";
		return CURVE_ZAP_DENY;
	}
	if (cred == NULL || credlen != CURVE_BIN_LEN) {
		*why = "malformed CURVE credential";
		return CURVE_ZAP_DENY;
	}
	if (zmq_z85_encode(user_id, cred, CURVE_BIN_LEN) == NULL) {
		user_id[0] = '\0';
		*why = "malformed CURVE credential";
		return CURVE_ZAP_DENY;
	}
	for (i = 0; t != NULL && i < t->nkeys; i++)
		if (memcmp(t->keys[i], cred, CURVE_BIN_LEN) == 0) {
			*why = "trusted key";
			return CURVE_ZAP_OK;
		}
	*why = "key not in the trust directory";
	return CURVE_ZAP_DENY;
}
