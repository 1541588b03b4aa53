/*
 * disk_write.c - kf-diskbench: the machine's own sequential disk rates,
 * for bench/limits to compare keyflow against.
 *
 *   kf-diskbench write FILE SIZE [INTERVAL]
 *	writes SIZE bytes to FILE (created, truncated) in 1 MiB blocks, with
 *	an fdatasync after every INTERVAL bytes (0 or absent: none) and a
 *	final fdatasync before the clock stops: the MediaAgent's policy for
 *	a container (store.c, container_sync).
 *   kf-diskbench read FILE
 *	reads FILE to its end in 1 MiB blocks (drop the page cache first to
 *	measure the disk rather than memory).
 *
 * It prints one line, "bytes=N seconds=S mbps=R" (R in 10^6 bytes per
 * second), for a script to parse.  The blocks hold random bytes, so a
 * compressing file system cannot flatter the figure.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "tool.h"

#define BLOCK	(1024 * 1024)

static void
report(uint64_t bytes, double secs)
{
	if (secs <= 0)
		secs = 1e-9;
	printf("bytes=%llu seconds=%.3f mbps=%.1f\n",
	    (unsigned long long)bytes, secs, bytes / secs / 1e6);
}

static void
do_write(const char *path, uint64_t size, uint64_t interval)
{
	uint8_t		*buf;
	uint64_t	 done = 0, unsynced = 0;
	size_t		 n;
	ssize_t		 w;
	double		 t0;
	int		 fd;

	if ((buf = malloc(BLOCK)) == NULL)
		err(1, "malloc");
	if (RAND_bytes(buf, BLOCK) != 1)
		errx(1, "RAND_bytes failed");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		err(1, "%s", path);
	t0 = tool_now();
	while (done < size) {
		n = size - done < BLOCK ? (size_t)(size - done) : BLOCK;
		/* Vary each block so no layer can deduplicate them. */
		memcpy(buf, &done, sizeof(done));
		if ((w = write(fd, buf, n)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "write %s", path);
		}
		done += (uint64_t)w;
		unsynced += (uint64_t)w;
		if (interval > 0 && unsynced >= interval) {
			if (fdatasync(fd) == -1)
				err(1, "fdatasync %s", path);
			unsynced = 0;
		}
	}
	if (fdatasync(fd) == -1)
		err(1, "fdatasync %s", path);
	report(done, tool_now() - t0);
	if (close(fd) == -1)
		err(1, "close %s", path);
	free(buf);
}

static void
do_read(const char *path)
{
	uint8_t		*buf;
	uint64_t	 done = 0;
	ssize_t		 r;
	double		 t0;
	int		 fd;

	if ((buf = malloc(BLOCK)) == NULL)
		err(1, "malloc");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", path);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	t0 = tool_now();
	for (;;) {
		if ((r = read(fd, buf, BLOCK)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "read %s", path);
		}
		if (r == 0)
			break;
		done += (uint64_t)r;
	}
	report(done, tool_now() - t0);
	close(fd);
	free(buf);
}

int
main(int argc, char *argv[])
{
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "write") == 0)
		do_write(argv[2], tool_size(argv[3], 0),
		    argc == 5 ? tool_size(argv[4], 1) : 0);
	else if (argc == 3 && strcmp(argv[1], "read") == 0)
		do_read(argv[2]);
	else {
		fprintf(stderr, "usage: kf-diskbench write FILE SIZE "
		    "[INTERVAL]\n       kf-diskbench read FILE\n");
		return 2;
	}
	return 0;
}
