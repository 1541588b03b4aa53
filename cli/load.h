/*
 * load.h - keyflow load: drive a running stack with many clients and
 * report throughput, latency, seed step times and daemon costs.
 *
 * cmd_load.c parses the flags and runs the phases (pool, data set, load
 * clients, run, report, clean up); load_clients.c registers the load
 * clients and starts and stops their clientd processes; load_run.c is the
 * loop that submits jobs, follows them and draws the progress line;
 * load_stats.c holds the pure arithmetic (percentiles, per-step times from
 * trace events, /proc parsing) and the daemon sampling; load_report.c
 * prints the report as text, JSON and CSV; load_svg.c draws it.
 */
#ifndef KF_LOAD_H
#define KF_LOAD_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

#define LOAD_CLIENTS_MAX	256		/* --clients */
#define LOAD_JOBS_MAX		1000000		/* --jobs per client */
#define LOAD_FILES_MAX		100000		/* --files */
#define LOAD_STREAMS_MAX	64		/* --streams */
#define LOAD_SIZE_MAX		(1ULL << 40)	/* --size: 1 TiB */
#define LOAD_DURATION_MAX	(7 * 86400)	/* --duration: a week */
#define LOAD_DAEMONS_MAX	(LOAD_CLIENTS_MAX + 16)	/* sampled processes */
#define LOAD_ERRS_MAX		32		/* distinct error codes */
#define LOAD_NAME_MAX		64		/* a load client's name */

/* What the user asked for. */
struct load_conf {
	unsigned	 clients;	/* --clients: concurrent clients */
	uint64_t	 jobs;		/* --jobs per client; 0: until duration */
	uint64_t	 size;		/* --size: bytes of the data set */
	unsigned	 files;		/* --files: the data set's file count */
	unsigned	 streams;	/* --streams; 0: not sent (default 1) */
	int		 restore;	/* --restore: restore and compare each */
	int64_t		 duration_ms;	/* --duration; 0: none */
	const char	*pool;		/* --pool: storage pool to back up to */
	const char	*csv;		/* --csv FILE, or NULL */
	const char	*plot;		/* --plot FILE.svg, or NULL */
};

/* Daemon roles whose CPU and memory the time series tracks. */
enum load_role {
	ROLE_COMMSERVE,			/* commserved */
	ROLE_MEDIAAGENT,		/* every mediaagentd of the stack */
	ROLE_KMS,			/* kmsd */
	ROLE_CLIENT,			/* the clientd processes load started */
	ROLE_N
};

/* One finished job, backup or restore. */
struct load_job {
	uint64_t	 id;		/* CommServe's job id */
	int		 type;		/* KF__JOB_TYPE__* */
	int		 state;		/* KF__JOB_STATE__*, final */
	int		 client;	/* index of the load client */
	uint64_t	 bytes;		/* file bytes moved */
	int64_t		 started_us;	/* CommServe's start time */
	int64_t		 ended_us;	/* CommServe's end time */
	int		 mismatch;	/* restore: bytes differ from source */
};

/* A growing set of numbers and its order statistics. */
struct load_vals {
	double		*v;		/* the values */
	size_t		 n;		/* how many */
	size_t		 cap;		/* allocated */
	int		 sorted;	/* v is in ascending order */
};

/* Seed step times of one backup job, microseconds; -1 when unknown. */
enum load_step {
	STEP_DEK,			/* backup steps 1-3 at CommServe */
	STEP_UNWRAP,			/* the client unseals the DEK */
	STEP_TRANSFER,			/* steps 4-6: encrypt, send, write */
	STEP_COMMIT,			/* MediaAgent done to job committed */
	STEP_N
};

/* A process whose CPU time and memory we sample. */
struct load_daemon {
	pid_t		 pid;		/* its process id */
	enum load_role	 role;		/* what it is */
	char		 name[LOAD_NAME_MAX + 16];	/* label in reports */
	uint64_t	 ticks0;	/* CPU ticks at the first sample */
	uint64_t	 ticks;		/* CPU ticks at the last sample */
	uint64_t	 ticks_prev;	/* CPU ticks one sample earlier */
	uint64_t	 rss_kb;	/* resident set at the last sample */
	uint64_t	 rss_peak_kb;	/* largest resident set seen */
	int		 gone;		/* it exited while we watched */
};

/* One second of the time series. */
struct load_sample {
	double		 t_s;		/* seconds since the run began */
	uint64_t	 backup_bytes;	/* backup bytes so far, running included */
	uint64_t	 restore_bytes;	/* restore bytes so far */
	double		 backup_mbs;	/* backup MB/s over the last interval */
	double		 restore_mbs;	/* restore MB/s over the last interval */
	uint64_t	 jobs_done;	/* jobs finished so far */
	uint64_t	 errors;	/* errors so far */
	unsigned	 running;	/* jobs running now */
	double		 cpu_pct[ROLE_N];	/* CPU over the interval, % */
	uint64_t	 rss_kb[ROLE_N];	/* resident memory now, summed */
};

/* Errors seen, counted by code name. */
struct load_err {
	char		 code[32];	/* "ERR_TIMEOUT", "RESTORE_MISMATCH" */
	uint64_t	 n;		/* how many times */
	char		 example[160];	/* the first message of that code */
};

/* Everything a report shows. */
struct load_result {
	const struct load_conf *conf;	/* the configuration run */
	int64_t		 wall_us;	/* from the first submission to the end */
	int		 interrupted;	/* stopped by a signal */
	unsigned	 unfinished;	/* jobs still running at the end */
	uint64_t	 b_submitted;	/* backups asked for */
	uint64_t	 b_completed;	/* backups completed */
	uint64_t	 b_failed;	/* backups failed, interrupted, refused */
	uint64_t	 b_bytes;	/* bytes of completed backups */
	uint64_t	 r_submitted;	/* restores asked for */
	uint64_t	 r_completed;	/* restores completed and equal */
	uint64_t	 r_failed;	/* restores failed or refused */
	uint64_t	 r_mismatch;	/* restores whose bytes differ */
	uint64_t	 r_bytes;	/* bytes of completed restores */
	struct load_vals lat_b;		/* backup latency, us */
	struct load_vals lat_r;		/* restore latency, us */
	struct load_vals rate_b;	/* per backup job, bytes/s */
	struct load_vals steps[STEP_N];	/* per step, us */
	uint64_t	 traced;	/* backups whose trace was read */
	struct load_sample *samples;	/* the time series */
	size_t		 nsamples;	/* its length */
	size_t		 capsamples;	/* allocated */
	struct load_daemon *daemons;	/* sampled processes */
	int		 ndaemons;	/* how many */
	struct load_err	 errs[LOAD_ERRS_MAX];	/* errors by code */
	int		 nerrs;		/* distinct codes */
	uint64_t	 nerrors;	/* all errors */
};

/* cmd_load.c */
int	cmd_load(struct cli *, const struct cli_args *);

/* load_clients.c: the load clients and their clientd processes. */
struct load_clients;

struct load_clients *load_clients_new(struct cli *, const char *scratch,
	    unsigned n);
int	load_clients_start(struct load_clients *);
const char *load_clients_name(const struct load_clients *, unsigned i);
pid_t	load_clients_pid(const struct load_clients *, unsigned i);
/* 0 while every clientd runs; -1 with a message when one exited. */
int	load_clients_check(struct load_clients *);
void	load_clients_stop(struct load_clients *);
void	load_clients_free(struct load_clients **);

/* load_run.c: submit, follow, restore, compare, sample. */
int	load_rmtree(const char *path);
void	load_nap(int ms);
int	load_run(struct cli *, const struct load_conf *, struct load_clients *,
	    const char *scratch, char *const *paths, unsigned npaths,
	    struct load_result *);

/* load_stats.c */
int	load_vals_add(struct load_vals *, double);
double	load_vals_pct(struct load_vals *, double p);	/* NAN when empty */
double	load_vals_mean(const struct load_vals *);	/* NAN when empty */
double	load_vals_max(struct load_vals *);		/* NAN when empty */
void	load_vals_clear(struct load_vals *);
void	load_steps_of(const Kf__TraceEvent *const *, size_t n,
	    int64_t started_us, int64_t ended_us, int64_t out[STEP_N]);
const char *load_step_name(enum load_step);
const char *load_role_name(enum load_role);
int	load_proc_parse_stat(const char *buf, uint64_t *ticks);
int	load_proc_parse_rss(const char *status, uint64_t *rss_kb);
int	load_ep_match(const char *v, const char *ep);
int	load_list_names(const char *buf, size_t len, const char *ep,
	    const char *next_of, char *out, size_t cap);
int	load_daemons_find(const char *cs_endpoint, struct load_daemon *,
	    int max);
void	load_daemons_sample(struct load_daemon *, int n, double dt_s,
	    struct load_sample *);
void	load_err_add(struct load_result *, const char *code,
	    const char *msg);
int	load_sample_add(struct load_result *, const struct load_sample *);
void	load_result_clear(struct load_result *);

/* load_report.c */
void	load_report_text(FILE *, struct load_result *);
int	load_report_json(FILE *, struct load_result *);
int	load_report_csv(FILE *, const struct load_result *);

/* load_svg.c */
int	load_svg(FILE *, struct load_result *);

#endif
