/*
 * seed.h - the seed document's three data flows, step by step, as data.
 *
 * The texts are the seed's own words (../shared/seed/encryption-key-
 * management.txt); trace events carry (flow, step) and `keyflow trace`
 * prints these titles next to what each actor reported.
 */
#ifndef KF_SEED_H
#define KF_SEED_H

struct seed_step {
	const char	*flow;		/* "pool", "backup", "restore" */
	unsigned	 step;		/* 1-based, as the seed numbers it */
	const char	*actor;		/* who performs it */
	const char	*text;		/* the seed's sentence */
};

/* NULL when (flow, step) is not a seed step. */
const struct seed_step *seed_step(const char *flow, unsigned step);
/* Number of steps in a flow (0 for an unknown flow). */
unsigned seed_steps(const char *flow);
/* "Storage Pool Creation", "Backup", "Restore". */
const char *seed_flow_title(const char *flow);

#endif
