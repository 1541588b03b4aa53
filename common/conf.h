/*
 * conf.h - configuration helpers shared by the daemons: defaults are
 * overridden by KEYFLOW_* environment variables, which are overridden by
 * flags.  Each daemon keeps its own struct <daemon>_conf and validates it in
 * one function.
 */
#ifndef KF_CONF_H
#define KF_CONF_H

#include <stddef.h>
#include <stdint.h>

/* getenv(name) if set and non-empty, else def. */
const char *conf_env(const char *name, const char *def);

/* Parse an unsigned decimal in [min, max]; 0 or -1. */
int	conf_parse_u64(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);
/* Parse a size with an optional K/M/G/T suffix (powers of 1024). */
int	conf_parse_size(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);
/*
 * 1 when s is a name of a pool, client, MediaAgent or KMS: 1..max letters,
 * digits, '-', '_' or '.', and not "." or "..".  One rule for every daemon.
 */
int	conf_name_valid(const char *s, size_t max);

/* 0 if s looks like a ZeroMQ tcp:// or ipc:// endpoint. */
int	conf_endpoint_valid(const char *s);

/*
 * Read a secret (password) file: at most cap bytes, trailing newlines
 * removed, refusing an empty secret.  Returns its length or -1 with a log
 * line.  Warns when the file is readable by group or others.
 */
long	conf_read_secret(const char *path, uint8_t *buf, size_t cap);

#endif
