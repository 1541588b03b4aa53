/*
 * util.h - small helpers: time, big-endian integers, file system, hex
 * digits, error sentences into a caller's buffer.
 */
#ifndef KF_UTIL_H
#define KF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

int64_t	util_now_us(void);		/* wall clock, microseconds */
int64_t	util_mono_ms(void);		/* monotonic, milliseconds */

void	be16_put(uint8_t *p, uint16_t v);
void	be32_put(uint8_t *p, uint32_t v);
void	be64_put(uint8_t *p, uint64_t v);
uint16_t be16_get(const uint8_t *p);
uint32_t be32_get(const uint8_t *p);
uint64_t be64_get(const uint8_t *p);

/* mkdir -p with mode for created directories. */
int	util_mkdir_p(const char *path, unsigned mode);
/* fsync a directory by path. */
int	util_fsync_dir(const char *path);
/* write(2) all of buf, retrying on EINTR and short writes. */
int	util_write_all(int fd, const void *buf, size_t len);
/* pread(2) exactly len bytes; -1 on error or short read (errno EIO). */
int	util_pread_all(int fd, void *buf, size_t len, uint64_t off);
/*
 * Write a small file atomically: temp file in the same directory, fsync,
 * rename, fsync directory.  mode applies to the new file.
 */
int	util_write_file_atomic(const char *path, const void *buf, size_t len,
	    unsigned mode);
/* Read a whole small file (at most max bytes) into a malloc'd buffer. */
int	util_read_file(const char *path, size_t max, uint8_t **buf,
	    size_t *len);
/* Format bytes as "12.3 MiB". */
const char *util_human_bytes(uint64_t bytes, char *buf, size_t cap);

/* The value 0..15 of one hex digit (either case); -1 for any other c. */
int	util_hexval(int c);
/*
 * Decode exactly hexlen hex digits (no prefix, no spaces) into buf, which
 * holds cap bytes; *len gets hexlen / 2.  -1 (and *len 0) for an odd
 * length, a non-hex character or more than cap bytes.
 */
int	util_hex_decode(const char *hex, size_t hexlen, uint8_t *buf,
	    size_t cap, size_t *len);

/*
 * Format a sentence into the caller's err buffer of cap bytes (nothing when
 * err is NULL or cap 0) and return -1, so that a failing function can
 * `return util_errf(err, cap, "...", ...);`.
 */
int	util_errf(char *err, size_t cap, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* util_errf with a va_list, for wrappers that set more than the text. */
int	util_verrf(char *err, size_t cap, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));

/* Signals: SIGTERM/SIGINT set the flag util_stop; SIGPIPE ignored. */
extern volatile int util_stop;
void	util_signals(void);

#endif
