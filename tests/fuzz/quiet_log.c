/*
 * quiet_log.c - common/log.h for fuzz targets whose code logs a line per
 * input (kmsd's audit lines): formats nothing, writes nothing, so the
 * fuzzer's own output stays readable and fast.  fatal and fatalx abort,
 * which libFuzzer reports as a crash: code under fuzzing must never call
 * them on input.
 */
#include <stdlib.h>

#include "log.h"

static int	verbose;

void
log_init(const char *name, int v)
{
	verbose = v;
}

void
log_set_verbose(int v)
{
	verbose = v;
}

int
log_get_verbose(void)
{
	return verbose;
}

void
log_warn(const char *fmt, ...)
{
}

void
log_warnx(const char *fmt, ...)
{
}

void
log_info(const char *fmt, ...)
{
}

void
log_debug_(const char *func, const char *fmt, ...)
{
}

void
fatal(const char *fmt, ...)
{
	abort();
}

void
fatalx(const char *fmt, ...)
{
	abort();
}
