/*
 * util.c - time, big-endian integers, file-system helpers, hex decoding,
 * error sentences into a caller's buffer, and signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

volatile int	util_stop;

int64_t
util_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void
be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, v >> 32);
	be32_put(p + 4, (uint32_t)v);
}

uint16_t
be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint64_t
be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

int
util_mkdir_p(const char *path, unsigned mode)
{
	char	buf[PATH_MAX];
	char	*p;
	size_t	len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
util_fsync_dir(const char *path)
{
	int	fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
util_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int
util_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		n = pread(fd, p, len, (off_t)off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int
util_write_file_atomic(const char *path, const void *buf, size_t len,
    unsigned mode)
{
	char	 tmp[PATH_MAX], dir[PATH_MAX];
	char	*slash;
	int	 fd = -1, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp) || strlen(path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1 || util_write_all(fd, buf, len) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return util_fsync_dir(dir);
fail:
	n = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = n;
	return -1;
}

int
util_read_file(const char *path, size_t max, uint8_t **bufp, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf = NULL;
	int		 fd, saved;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL)
		goto fail;
	if (util_pread_all(fd, buf, st.st_size, 0) == -1)
		goto fail;
	buf[st.st_size] = '\0';
	close(fd);
	*bufp = buf;
	*lenp = st.st_size;
	return 0;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

const char *
util_human_bytes(uint64_t bytes, char *buf, size_t cap)
{
	static const char	*units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double			 v = (double)bytes;
	unsigned		 u = 0;

	/* Past 1023.95 "%.1f" would print "1024.0": take the next unit. */
	while (u < 4 && (u == 0 ? v >= 1024 : v >= 1023.95)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	return buf;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_hex_decode(const char *hex, size_t hexlen, uint8_t *buf, size_t cap,
    size_t *len)
{
	size_t	i;
	int	hi, lo;

	*len = 0;
	if (hexlen % 2 != 0 || hexlen / 2 > cap)
		return -1;
	for (i = 0; i < hexlen / 2; i++) {
		hi = util_hexval((unsigned char)hex[2 * i]);
		lo = util_hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = hexlen / 2;
	return 0;
}

int
util_verrf(char *err, size_t cap, const char *fmt, va_list ap)
{
	if (err != NULL && cap > 0)
		vsnprintf(err, cap, fmt, ap);
	return -1;
}

int
util_errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	util_verrf(err, cap, fmt, ap);
	va_end(ap);
	return -1;
}

static void
on_stop(int sig)
{
	(void)sig;
	util_stop = 1;
}

void
util_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}
