/*
 * localkey.c - CommServe's local key file.
 *
 * The seed's built-in KMS stores the master key "scrambled" in the
 * CommServe database.  keyflow scrambles with AES-256-GCM under a key that
 * never enters the database: 32 random bytes in <state-dir>/commserve.key,
 * mode 0600, created on first start.  Client network keys are wrapped under
 * it too.  Losing this file makes built-in pools unrestorable, exactly as
 * losing the scrambling secret would in the product: back it up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commserve.h"
#include "log.h"
#include "util.h"

#define LOCALKEY_FILE	"commserve.key"

int
localkey_load(const char *state_dir, uint8_t key[KF_KEY_LEN])
{
	char		 path[1024];
	uint8_t		*buf = NULL;
	size_t		 len;
	struct stat	 st;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, LOCALKEY_FILE) >=
	    (int)sizeof(path)) {
		log_warnx("state directory path too long");
		return -1;
	}
	if (util_mkdir_p(state_dir, 0700) == -1) {
		log_warn("cannot create %s", state_dir);
		return -1;
	}
	if (stat(path, &st) == -1) {
		if (errno != ENOENT) {
			log_warn("%s", path);
			return -1;
		}
		if (crypto_random(key, KF_KEY_LEN) == -1 ||
		    util_write_file_atomic(path, key, KF_KEY_LEN, 0600) == -1) {
			log_warn("cannot create the local key %s", path);
			return -1;
		}
		log_info("created the local key %s (back it up: built-in KMS "
		    "master keys cannot be opened without it)", path);
		return 0;
	}
	if ((st.st_mode & 077) != 0)
		log_warnx("%s is readable by group or others; chmod 600 it",
		    path);
	if (util_read_file(path, 64, &buf, &len) == -1) {
		log_warn("cannot read the local key %s", path);
		return -1;
	}
	if (len != KF_KEY_LEN) {
		log_warnx("%s holds %zu bytes, not %d: not a keyflow local key",
		    path, len, KF_KEY_LEN);
		crypto_wipe(buf, len);
		free(buf);
		return -1;
	}
	memcpy(key, buf, KF_KEY_LEN);
	crypto_wipe(buf, len);
	free(buf);
	return 0;
}

void
localkey_aad(uint8_t *aad, size_t *len, const char *label, const void *id,
    size_t idlen)
{
	size_t	n = strlen(label);

	memcpy(aad, label, n);
	aad[n] = 0;
	memcpy(aad + n + 1, id, idlen);
	*len = n + 1 + idlen;
}
