/*
 * log.h - one line per event on stderr, OpenBSD style.
 *
 * Every line is "<time> <daemon>[<pid>] <level>: <message>".  log_warn appends
 * strerror(errno).  fatal/fatalx are for startup and broken invariants only;
 * a misbehaving peer never reaches them.  Never pass key material here.
 */
#ifndef KF_LOG_H
#define KF_LOG_H

#include <stdarg.h>

/* log_init: name printed on every line; verbose > 0 enables log_debug. */
void	log_init(const char *name, int verbose);
void	log_set_verbose(int verbose);
int	log_get_verbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug_(const char *func, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...)	log_debug_(__func__, __VA_ARGS__)

#endif
