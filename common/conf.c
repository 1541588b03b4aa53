/*
 * conf.c - configuration helpers (see conf.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"

const char *
conf_env(const char *name, const char *def)
{
	const char	*v = getenv(name);

	return (v != NULL && *v != '\0') ? v : def;
}

int
conf_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
conf_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;
	unsigned		 shift = 0;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end != '\0') {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end != '\0')
			return -1;
	}
	if (shift > 0 && v > (UINT64_MAX >> shift))
		return -1;
	v <<= shift;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "HOST:PORT" with a host and a port of 0..65535 or "*" (bind to any). */
static int
tcp_hostport_valid(const char *s)
{
	const char	*colon = strrchr(s, ':');
	uint64_t	 port;

	if (colon == NULL || colon == s)
		return -1;
	if (strcmp(colon + 1, "*") == 0)
		return 0;
	return conf_parse_u64(colon + 1, 0, 65535, &port);
}

int
conf_name_valid(const char *s, size_t max)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

int
conf_endpoint_valid(const char *s)
{
	if (s == NULL)
		return -1;
	if (strncmp(s, "tcp://", 6) == 0 && tcp_hostport_valid(s + 6) == 0)
		return 0;
	if (strncmp(s, "ipc://", 6) == 0 && s[6] != '\0')
		return 0;
	if (strncmp(s, "inproc://", 9) == 0 && s[9] != '\0')
		return 0;
	return -1;
}

long
conf_read_secret(const char *path, uint8_t *buf, size_t cap)
{
	struct stat	st;
	ssize_t		n;
	size_t		len = 0;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("cannot open secret file %s", path);
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("secret file %s is readable by group or others; "
		    "chmod 600 it", path);
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("cannot read secret file %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len == cap) {
		char	extra;

		if (read(fd, &extra, 1) == 1) {
			log_warnx("secret file %s is longer than %zu bytes",
			    path, cap);
			goto fail;
		}
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		log_warnx("secret file %s is empty", path);
		crypto_wipe(buf, cap);
		return -1;
	}
	return (long)len;
fail:
	close(fd);
	crypto_wipe(buf, cap);
	return -1;
}
