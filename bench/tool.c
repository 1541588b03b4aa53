/*
 * tool.c - helpers of the benchmark tools (bench/CMakeLists.txt): the
 * monotonic clock they time with and the sizes they take on the command
 * line.  A bad argument ends the tool with exit status 2, as a usage error.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "tool.h"

/* Seconds on the monotonic clock. */
double
tool_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A size: bytes, or with a K, M or G suffix (powers of 1024); zero only
 * when allow_zero.
 */
uint64_t
tool_size(const char *s, int allow_zero)
{
	char			*end;
	unsigned long long	 v;
	int			 shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		errx(2, "\"%s\" is not a size", s);
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		errx(2, "\"%s\" is not a size (bytes, or K, M, G)", s);
	}
	if (shift != 0)
		end++;
	if (*end != '\0' || v > (UINT64_MAX >> shift) ||
	    (v == 0 && !allow_zero))
		errx(2, "\"%s\" is not a size (bytes, or K, M, G)", s);
	return (uint64_t)v << shift;
}
