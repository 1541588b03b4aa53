/*
 * fault.c - deterministic fault points (see fault.h).
 *
 * KEYFLOW_FAULT is operator (test) input: a value that does not parse as
 * "name" or "name:N", with N a decimal number, arms nothing.  The variable
 * is read at every call rather than cached, so a test may arm a point in a
 * child it forks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"

#define FAULT_NAME_MAX	64	/* bytes of a fault point's name */

int
fault_match(const char *spec, const char *name, uint64_t n)
{
	const char		*colon;
	char			*end;
	size_t			 len;
	unsigned long long	 want;

	if (spec == NULL || name == NULL)
		return 0;
	if ((colon = strchr(spec, ':')) == NULL)
		len = strlen(spec);
	else
		len = (size_t)(colon - spec);
	if (len == 0 || len > FAULT_NAME_MAX || strlen(name) != len ||
	    memcmp(spec, name, len) != 0)
		return 0;
	if (colon == NULL)
		return 1;
	if (colon[1] < '0' || colon[1] > '9')
		return 0;
	errno = 0;
	want = strtoull(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return want == n;
}

void
fault_point(const char *name, uint64_t n)
{
	const char	*spec;

	if ((spec = getenv(FAULT_ENV)) == NULL || *spec == '\0' ||
	    !fault_match(spec, name, n))
		return;
	log_warnx("fault point %s reached: exiting", name);
	_exit(FAULT_EXIT);
}
