/*
 * fuzz_kmsreq.c - libFuzzer target for kmsd's request handling after TLS:
 * dispatch_message (kms/dispatch.c), which decodes one KMIP request
 * message, runs the generic checks and every operation handler on it, and
 * encodes the response.  It is what kms/conn.c calls with the bytes a
 * client sent once the TTLV header has framed them, so the input is one
 * request message as it arrives.
 *
 * The daemon around it is real but small: a store on tmpfs (/dev/shm, else
 * $TMPDIR) with its own root key, a client identity, no TLS and no trace
 * publisher.  An input that created objects gets a fresh store afterwards,
 * so each input runs against an empty store and a crash reproduces from
 * its input alone.  The daemon's log lines (an audit line per item) are
 * not under test and are dropped (quiet_log.c).
 *
 * Beyond "no crash, no over-read, no leak", it aborts when kmsd does not
 * answer, or answers with bytes that are not a KMIP response message.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "kms.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char		 base[PATH_MAX - 64];
static char		 storedir[PATH_MAX], rootkey[PATH_MAX];
static struct kms_conf	 conf;
static struct kmsd	 k;
static struct kms_conn	 c;

/* Remove every file of the store directory, then the directory. */
static void
wipe_store(void)
{
	char		 p[PATH_MAX + 256];
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(storedir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", storedir, de->d_name);
		(void)unlink(p);
	}
	closedir(d);
	(void)rmdir(storedir);
}

static void
open_store(void)
{
	store_free(&k.store);
	wipe_store();
	if ((k.store = store_open(storedir, rootkey)) == NULL)
		abort();
}

static void
cleanup(void)
{
	store_free(&k.store);
	wipe_store();
	(void)unlink(rootkey);
	(void)rmdir(base);
}

static void
setup(void)
{
	const char	*tmp;

	if (k.store != NULL)
		return;
	tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(base, sizeof(base), "%s/kf-fuzz-kmsreq-%d", tmp,
	    (int)getpid());
	snprintf(storedir, sizeof(storedir), "%s/store", base);
	snprintf(rootkey, sizeof(rootkey), "%s/root.key", base);
	if (mkdir(base, 0700) == -1 && errno != EEXIST)
		abort();
	conf.max_message = 1024 * 1024;
	conf.max_conns = 1;
	conf.idle_timeout = 1;
	k.conf = &conf;
	pthread_mutex_init(&k.lock, NULL);
	pthread_cond_init(&k.idle, NULL);
	c.k = &k;
	c.fd = -1;
	c.id = 1;
	snprintf(c.peer, sizeof(c.peer), "127.0.0.1:5696");
	snprintf(c.subject, sizeof(c.subject), "CN=fuzz,O=keyflow");
	open_store();
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmip_msg	*m = NULL;
	struct kmip_err	 err;
	uint8_t		*out = NULL;
	size_t		 outlen = 0;

	setup();
	if (dispatch_message(&c, data, size, &out, &outlen) == -1 ||
	    out == NULL)
		abort();
	memset(&err, 0, sizeof(err));
	if (kmip_msg_decode(out, outlen, 1, NULL, &m, &err) == -1)
		abort();
	kmip_msg_free(&m);
	free(out);
	if (store_count(k.store) > 0)
		open_store();
	return 0;
}
