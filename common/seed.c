/*
 * seed.c - the seed document's data flows as a table (see seed.h).
 */
#include <string.h>

#include "seed.h"

static const struct seed_step steps[] = {
	{ "pool", 1, "commserve",
	  "Software generates KEK for the storage pool." },
	{ "pool", 2, "kms",
	  "Software sends request to the KMS to generate master key, and then "
	  "the KMS generates master key." },
	{ "pool", 3, "kms",
	  "KMS encrypts KEK using master key, and then sends encrypted KEK and "
	  "master key ID to the software." },
	{ "pool", 4, "commserve",
	  "Software stores master key ID and encrypted KEK in the CommServe "
	  "database. (For built-in KMS, scrambled master key is also stored in "
	  "the CommServe database)." },
	{ "backup", 1, "commserve",
	  "Software generates data encryption key (DEK) for the client." },
	{ "backup", 2, "commserve",
	  "Software encrypts DEK using KEK, and then stores encrypted DEK in "
	  "the CommServe database." },
	{ "backup", 3, "commserve",
	  "CommServe sends DEK to the client. The software protects DEK over "
	  "the network using client network password." },
	{ "backup", 4, "client", "Client encrypts backup data using DEK." },
	{ "backup", 5, "client", "Client sends encrypted data to the MediaAgent." },
	{ "backup", 6, "mediaagent",
	  "The MediaAgent writes encrypted data to the target backup storage." },
	{ "restore", 1, "commserve",
	  "The CommServe server fetches the encrypted KEK and the encrypted DEK "
	  "from the CommServe database." },
	{ "restore", 2, "commserve",
	  "The CommServe server fetches the master key from KMS." },
	{ "restore", 3, "commserve",
	  "The CommServe server decrypts KEK using master key." },
	{ "restore", 4, "commserve",
	  "The CommServe server decrypts DEK using KEK." },
	{ "restore", 5, "commserve",
	  "The CommServe server sends DEK to client. The software protects DEK "
	  "over the network using client network password." },
	{ "restore", 6, "mediaagent",
	  "The MediaAgent sends encrypted data to the client." },
	{ "restore", 7, "client", "The client decrypts data using DEK." },
};

static const struct {
	const char	*flow;
	const char	*title;
} flows[] = {
	{ "pool", "Storage Pool Creation" },
	{ "backup", "Backup" },
	{ "restore", "Restore" },
};

const struct seed_step *
seed_step(const char *flow, unsigned step)
{
	size_t	i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(steps[i].flow, flow) == 0 && steps[i].step == step)
			return &steps[i];
	return NULL;
}

unsigned
seed_steps(const char *flow)
{
	size_t		i;
	unsigned	n = 0;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(steps[i].flow, flow) == 0)
			n++;
	return n;
}

const char *
seed_flow_title(const char *flow)
{
	size_t	i;

	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		if (strcmp(flows[i].flow, flow) == 0)
			return flows[i].title;
	return NULL;
}
