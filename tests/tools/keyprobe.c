/*
 * keyprobe.c - kf-keyprobe, a test tool: prints the plaintext keys behind
 * a backup job (master key, KEK, DEK), behind a storage pool (master key,
 * KEK) and a client's network key, opened the way CommServe opens them, so
 * that tests can search the database, the MediaAgent's storage and every
 * log for them.  It needs what only the CommServe host has: the database,
 * the local key file and, for a pool on a KMIP server, the certificate and
 * key the KMS row names (the master key is fetched with a KMIP Get).
 *
 * usage: kf-keyprobe --db CONNINFO --state-dir DIR [--job ID]
 *	      [--pool NAME] [--client NAME]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "log.h"

static void
print_key(const char *label, const uint8_t *k)
{
	char	hex[2 * KF_KEY_LEN + 1];

	crypto_hex(k, KF_KEY_LEN, hex);
	printf("%s %s\n", label, hex);
}

/* The master key and the KEK of key set id, as a restore opens them. */
static int
open_key_set(struct cs *cs, int64_t id, struct db_key_set *ks,
    uint8_t mk[KF_KEY_LEN], uint8_t kek[KF_KEY_LEN])
{
	const struct kms_backend *be;
	struct db_kms		  kms;
	char			  err[512];

	if (db_key_set_get(cs->db, id, ks) != DB_OK ||
	    db_kms_get(cs->db, ks->kms_id, &kms) != DB_OK) {
		fprintf(stderr, "kf-keyprobe: key set %lld: %s\n",
		    (long long)id, db_errmsg(cs->db));
		return -1;
	}
	if ((be = kms_backend_for(&kms)) == NULL ||
	    be->get_master(cs, &kms, "probe", ks, mk, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "kf-keyprobe: key set %lld: master key: %s\n",
		    (long long)id, be == NULL ? "unknown KMS kind" : err);
		return -1;
	}
	if (keys_decrypt_kek(ks, mk, kek) == -1) {
		fprintf(stderr, "kf-keyprobe: key set %lld: the KEK does not "
		    "open\n", (long long)id);
		crypto_wipe(mk, KF_KEY_LEN);
		return -1;
	}
	return 0;
}

static int
probe_job(struct cs *cs, int64_t id)
{
	struct db_job		  job;
	struct db_key_set	  ks;
	uint8_t			  mk[KF_KEY_LEN], kek[KF_KEY_LEN];
	uint8_t			  dek[KF_KEY_LEN];
	int			  rc = -1;

	if (db_job_get(cs->db, id, &job) != DB_OK) {
		fprintf(stderr, "kf-keyprobe: job %lld: %s\n", (long long)id,
		    db_errmsg(cs->db));
		return -1;
	}
	if (open_key_set(cs, job.key_set_id, &ks, mk, kek) == -1)
		return -1;
	if (keys_unwrap_dek(kek, job.id, job.client_id, ks.id,
	    &job.dek_wrapped, dek) == -1) {
		fprintf(stderr, "kf-keyprobe: job %lld: its DEK does not "
		    "open\n", (long long)id);
		goto fail;
	}
	print_key("master", mk);
	print_key("kek", kek);
	print_key("dek", dek);
	rc = 0;
fail:
	crypto_wipe(mk, sizeof(mk));
	crypto_wipe(kek, sizeof(kek));
	crypto_wipe(dek, sizeof(dek));
	return rc;
}

static int
probe_pool(struct cs *cs, const char *name)
{
	struct db_pool		pool;
	struct db_key_set	ks;
	uint8_t			mk[KF_KEY_LEN], kek[KF_KEY_LEN];

	if (db_pool_find(cs->db, name, &pool) != DB_OK) {
		fprintf(stderr, "kf-keyprobe: no pool %s\n", name);
		return -1;
	}
	if (open_key_set(cs, pool.key_set_id, &ks, mk, kek) == -1)
		return -1;
	print_key("master", mk);
	print_key("kek", kek);
	crypto_wipe(mk, sizeof(mk));
	crypto_wipe(kek, sizeof(kek));
	return 0;
}

static int
probe_client(struct cs *cs, const char *name)
{
	struct db_client	c;
	uint8_t			nk[KF_KEY_LEN];

	if (db_client_find(cs->db, name, &c) != DB_OK ||
	    keys_unwrap_network_key(cs, &c, nk) == -1) {
		fprintf(stderr, "kf-keyprobe: client %s: no network key\n",
		    name);
		return -1;
	}
	print_key("nk", nk);
	crypto_wipe(nk, sizeof(nk));
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "job", required_argument, NULL, 'j' },
		{ "client", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct cs	 cs;
	const char	*conninfo = NULL, *state = NULL, *client = NULL;
	const char	*pool = NULL;
	long long	 job = 0;
	char		 err[512];
	int		 ch, rc = 0;

	memset(&cs, 0, sizeof(cs));
	log_init("kf-keyprobe", 0);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			conninfo = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'j':
			job = atoll(optarg);
			break;
		case 'c':
			client = optarg;
			break;
		case 'p':
			pool = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (conninfo == NULL || state == NULL || (job <= 0 && client == NULL &&
	    pool == NULL))
		goto usage;
	if (localkey_load(state, cs.local_key) == -1)
		return 1;
	if ((cs.db = db_open(conninfo, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kf-keyprobe: %s\n", err);
		return 1;
	}
	if (job > 0 && probe_job(&cs, job) == -1)
		rc = 1;
	if (pool != NULL && probe_pool(&cs, pool) == -1)
		rc = 1;
	if (client != NULL && probe_client(&cs, client) == -1)
		rc = 1;
	db_close(&cs.db);
	crypto_wipe(cs.local_key, sizeof(cs.local_key));
	return rc;
usage:
	fprintf(stderr, "usage: kf-keyprobe --db CONNINFO --state-dir DIR "
	    "[--job ID] [--pool NAME] [--client NAME]\n");
	return 2;
}
