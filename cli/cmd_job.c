/*
 * cmd_job.c - keyflow backup, restore, jobs and job.
 *
 * backup and restore start a job at CommServe (which runs the seed's
 * Backup or Restore flow with the client and the MediaAgent), then, unless
 * --no-wait, follow it to the end (job_wait.c) and print a summary.  The
 * last stdout line of a started job is its id alone, so scripts can take
 * it with `tail -n 1`; with --json the output is the final JobInfo object.
 * The exit status is 0 only when the job completed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "cli.h"
#include "conf.h"
#include "util.h"

#define LIMIT_MAX	100000	/* jobs --limit */

const char *
job_type_name(int type)
{
	switch (type) {
	case KF__JOB_TYPE__JOB_BACKUP:
		return "backup";
	case KF__JOB_TYPE__JOB_RESTORE:
		return "restore";
	default:
		return "unknown";
	}
}

const char *
job_state_name(int state)
{
	switch (state) {
	case KF__JOB_STATE__JOB_RUNNING:
		return "running";
	case KF__JOB_STATE__JOB_COMPLETED:
		return "completed";
	case KF__JOB_STATE__JOB_FAILED:
		return "failed";
	case KF__JOB_STATE__JOB_INTERRUPTED:
		return "interrupted";
	default:
		return "unknown";
	}
}

/* Run time: until the end, or until now for a running job. */
static int64_t
job_duration_us(const Kf__JobInfo *ji)
{
	int64_t	end;

	end = ji->has_ended_us && ji->ended_us != 0 ? ji->ended_us :
	    (ji->state == KF__JOB_STATE__JOB_RUNNING ? util_now_us() : 0);
	/* Both positive when subtracted: no overflow on hostile values. */
	if (ji->started_us <= 0 || end < ji->started_us)
		return -1;
	return end - ji->started_us;
}

/* "message (ERR_NAME)", or NULL when the job has no error. */
static const char *
job_error(const Kf__JobInfo *ji, char *buf, size_t cap)
{
	if (ji->error == NULL && !ji->has_error_code)
		return NULL;
	if (ji->has_error_code)
		snprintf(buf, cap, "%s (%s)", ji->error ? ji->error :
		    "no message", wire_err_name(ji->error_code));
	else
		snprintf(buf, cap, "%s", ji->error);
	return buf;
}

void
job_json(struct json *j, const void *item)
{
	const Kf__JobInfo	*ji = item;
	int64_t			 d = job_duration_us(ji);

	json_obj_begin(j);
	json_ku64(j, "id", ji->id);
	json_kstr(j, "type", job_type_name(ji->type));
	json_kstr(j, "state", job_state_name(ji->state));
	json_kstr(j, "client", ji->client);
	json_kstr(j, "pool", ji->pool);
	if (ji->has_backup_job)
		json_ku64(j, "backup_job", ji->backup_job);
	json_kstr(j, "mediaagent", ji->mediaagent);
	json_ku64(j, "files", ji->files);
	json_ku64(j, "bytes", ji->bytes);
	if (ji->has_files_total)
		json_ku64(j, "files_total", ji->files_total);
	if (ji->has_bytes_total)
		json_ku64(j, "bytes_total", ji->bytes_total);
	if (ji->has_stream_bytes)
		json_ku64(j, "stream_bytes", ji->stream_bytes);
	if (ji->has_chunks)
		json_ku64(j, "chunks", ji->chunks);
	if (ji->has_chunk_size)
		json_ku64(j, "chunk_size", ji->chunk_size);
	if (ji->has_streams)
		json_ku64(j, "streams", ji->streams);
	json_ktime(j, "started", ji->started_us);
	if (ji->has_ended_us)
		json_ktime(j, "ended", ji->ended_us);
	if (d >= 0)
		json_ki64(j, "duration_us", d);
	if (ji->has_error_code)
		json_kstr(j, "error_code", wire_err_name(ji->error_code));
	json_kstr(j, "error", ji->error);
	json_obj_end(j);
}

static void
job_row(struct table *t, const void *item)
{
	const Kf__JobInfo	*ji = item;
	char			 buf[1100];

	table_addf(t, "%llu", (unsigned long long)ji->id);
	table_add(t, job_type_name(ji->type));
	table_add(t, job_state_name(ji->state));
	table_add(t, ji->client);
	table_add(t, ji->pool);
	table_addf(t, "%llu", (unsigned long long)ji->files);
	table_add(t, out_bytes(ji->bytes, buf, sizeof(buf)));
	table_add(t, out_time(ji->started_us, buf, sizeof(buf)));
	table_add(t, out_duration(job_duration_us(ji), buf, sizeof(buf)));
	table_add(t, job_error(ji, buf, sizeof(buf)));
}

/*
 * "backup job 12 completed: 3 files, 1234567 bytes (1.2 MiB) in 2.5 s, ..."
 * on stdout; a failure is an error, so it goes to stderr.
 */
static void
job_summary(const Kf__JobInfo *ji, int64_t watched_us)
{
	char	h[32], rate[32], err[1100];
	int64_t	d = job_duration_us(ji);

	if (d < 0)
		d = watched_us;
	if (ji->state == KF__JOB_STATE__JOB_COMPLETED)
		printf("%s job %llu completed: %llu files, %llu bytes (%s) in "
		    "%.1f s, %s\n", job_type_name(ji->type),
		    (unsigned long long)ji->id, (unsigned long long)ji->files,
		    (unsigned long long)ji->bytes,
		    util_human_bytes(ji->bytes, h, sizeof(h)), d / 1e6,
		    out_rate(ji->bytes, d, rate, sizeof(rate)));
	else if (ji->state == KF__JOB_STATE__JOB_FAILED)
		out_line(stderr, "keyflow: %s job %llu failed: %s",
		    job_type_name(ji->type), (unsigned long long)ji->id,
		    job_error(ji, err, sizeof(err)) ? err : "no reason given");
	else if (ji->state == KF__JOB_STATE__JOB_INTERRUPTED)
		out_line(stderr, "keyflow: %s job %llu interrupted%s%s",
		    job_type_name(ji->type), (unsigned long long)ji->id,
		    job_error(ji, err, sizeof(err)) ? ": " : "",
		    job_error(ji, err, sizeof(err)) ? err : "");
	else
		printf("%s job %llu is %s\n", job_type_name(ji->type),
		    (unsigned long long)ji->id, job_state_name(ji->state));
}

/*
 * A job was started (info is its JOB_INFO): follow it unless no_wait,
 * then print the result.  Exit 0 only if it completed (or, with no_wait,
 * was accepted).
 */
static int
job_started(struct cli *c, struct wire_msg *info, int no_wait)
{
	const Kf__JobInfo	*ji;
	int64_t			 t0 = util_mono_ms();
	int			 followed = 0, rc;

	ji = (const Kf__JobInfo *)info->body;
	if (!no_wait) {
		followed = job_follow(c, info) == 0;
		ji = (const Kf__JobInfo *)info->body;
	} else if (!c->json && ji->has_backup_job)
		out_line(stdout, "%s job %llu started: client %s, from backup "
		    "job %llu", job_type_name(ji->type),
		    (unsigned long long)ji->id, ji->client,
		    (unsigned long long)ji->backup_job);
	else if (!c->json)
		out_line(stdout, "%s job %llu started: client %s, pool %s",
		    job_type_name(ji->type), (unsigned long long)ji->id,
		    ji->client, ji->pool);
	if (c->json)
		out_json_item(job_json, ji);
	else {
		if (followed)
			job_summary(ji, (util_mono_ms() - t0) * 1000);
		printf("%llu\n", (unsigned long long)ji->id);
	}
	if (no_wait)
		rc = CLI_EXIT_OK;
	else
		rc = followed && ji->state == KF__JOB_STATE__JOB_COMPLETED ?
		    CLI_EXIT_OK : CLI_EXIT_FAIL;
	wire_msg_clear(info);
	return rc;
}

/* A path we pass on: not empty, bounded, absolute when must_abs. */
static int
check_path(struct cli *c, const char *what, const char *p, int must_abs)
{
	if (p[0] == '\0')
		return cli_usage_error(c, "%s must not be empty", what);
	if (strlen(p) > CLI_PATH_MAX)
		return cli_usage_error(c, "%s is longer than %d bytes", what,
		    CLI_PATH_MAX);
	if (must_abs && p[0] != '/')
		return cli_usage_error(c, "%s '%s' is not absolute: it names "
		    "a place on the client machine, not here, so give it in "
		    "full (like /srv/data)", what, p);
	return 0;
}

int
cmd_backup(struct cli *c, const struct cli_args *a)
{
	Kf__BackupStart	 req = KF__BACKUP_START__INIT;
	struct wire_msg	 m;
	const char	*cs = cli_opt(a, "chunk-size");
	const char	*ns = cli_opt(a, "streams");
	uint64_t	 chunk;
	unsigned long	 streams;
	char		*end;
	int		 i;

	if (a->pos[0][0] == '\0' || a->pos[1][0] == '\0')
		return cli_usage_error(c, "CLIENT and POOL must not be empty");
	for (i = 2; i < a->npos; i++)
		if (check_path(c, "PATH", a->pos[i], 1) != 0)
			return CLI_EXIT_USAGE;
	if (cs != NULL) {
		if (conf_parse_size(cs, KF_CHUNK_MIN, KF_CHUNK_MAX,
		    &chunk) == -1)
			return cli_usage_error(c, "--chunk-size '%s' must be "
			    "a size from 4K to 16M (like 1M or 262144)", cs);
		req.has_chunk_size = 1;
		req.chunk_size = (uint32_t)chunk;
	}
	if (ns != NULL) {
		/* The range (1..16) is CommServe's to check and explain. */
		errno = 0;
		streams = strtoul(ns, &end, 10);
		if (ns[0] < '0' || ns[0] > '9' || *end != '\0' ||
		    errno != 0 || streams > UINT32_MAX)
			return cli_usage_error(c, "--streams '%s' must be a "
			    "number of data streams, 1 to 16", ns);
		req.has_streams = 1;
		req.streams = (uint32_t)streams;
	}
	req.client = a->pos[0];
	req.pool = a->pos[1];
	req.n_paths = a->npos - 2;
	req.paths = a->pos + 2;
	if (cli_request(c, KF__MSG_TYPE__BACKUP_START, &req.base,
	    KF__MSG_TYPE__JOB_INFO, &m) == -1)
		return CLI_EXIT_FAIL;
	return job_started(c, &m, cli_flag(a, "no-wait"));
}

int
cmd_restore(struct cli *c, const struct cli_args *a)
{
	Kf__RestoreStart	 req = KF__RESTORE_START__INIT;
	struct wire_msg		 m;
	char			**paths;
	int			 i, n;

	if (cli_parse_id(c, "JOB", a->pos[0], &req.backup_job) == -1)
		return CLI_EXIT_USAGE;
	req.dest_dir = (char *)cli_opt(a, "to");
	if (check_path(c, "--to DIR", req.dest_dir, 1) != 0)
		return CLI_EXIT_USAGE;
	paths = cli_optlist(a, "path", &n);
	for (i = 0; i < n; i++)
		if (check_path(c, "--path", paths[i], 0) != 0)
			return CLI_EXIT_USAGE;
	req.client = (char *)cli_opt(a, "client");
	if (req.client != NULL && req.client[0] == '\0')
		return cli_usage_error(c, "--client must not be empty");
	req.n_paths = n;
	req.paths = paths;
	req.has_overwrite = 1;
	req.overwrite = cli_flag(a, "overwrite");
	if (cli_request(c, KF__MSG_TYPE__RESTORE_START, &req.base,
	    KF__MSG_TYPE__JOB_INFO, &m) == -1)
		return CLI_EXIT_FAIL;
	return job_started(c, &m, cli_flag(a, "no-wait"));
}

int
cmd_jobs(struct cli *c, const struct cli_args *a)
{
	static const struct cli_list_view view = {
		KF__MSG_TYPE__JOB_LIST, KF__MSG_TYPE__JOB_LIST_REPLY,
		"no jobs", 10,
		{ ">ID", "TYPE", "STATE", "CLIENT", "POOL", ">FILES",
		  ">BYTES", "STARTED", ">DURATION", "ERROR" },
		job_json, job_row
	};
	const char	*l = cli_opt(a, "limit");
	uint64_t	 limit = 0;

	if (l != NULL && conf_parse_u64(l, 1, LIMIT_MAX, &limit) == -1)
		return cli_usage_error(c, "--limit must be a number from 1 to "
		    "%d, not '%s'", LIMIT_MAX, l);
	return cli_list(c, &view, (uint32_t)limit);
}

/* Optional counters: the number, or "-" when CommServe did not say. */
static const char *
opt_u64(int has, uint64_t v, char *buf, size_t cap)
{
	if (!has)
		return "-";
	snprintf(buf, cap, "%llu", (unsigned long long)v);
	return buf;
}

int
cmd_job(struct cli *c, const struct cli_args *a)
{
	Kf__JobGet		 req = KF__JOB_GET__INIT;
	const Kf__JobInfo	*ji;
	struct wire_msg		 m;
	char			 b[1100];
	int64_t			 d;

	if (cli_parse_id(c, "ID", a->pos[0], &req.job) == -1)
		return CLI_EXIT_USAGE;
	if (cli_request(c, KF__MSG_TYPE__JOB_GET, &req.base,
	    KF__MSG_TYPE__JOB_INFO, &m) == -1)
		return CLI_EXIT_FAIL;
	ji = (const Kf__JobInfo *)m.body;
	if (c->json) {
		out_json_item(job_json, ji);
		wire_msg_clear(&m);
		return CLI_EXIT_OK;
	}
	d = job_duration_us(ji);
	out_kv("id", opt_u64(1, ji->id, b, sizeof(b)));
	out_kv("type", job_type_name(ji->type));
	out_kv("state", job_state_name(ji->state));
	out_kv("client", ji->client);
	out_kv("pool", ji->pool);
	out_kv("backup job", opt_u64(ji->has_backup_job, ji->backup_job, b,
	    sizeof(b)));
	out_kv("mediaagent", ji->mediaagent);
	out_kv("files", opt_u64(1, ji->files, b, sizeof(b)));
	out_kv("files total", opt_u64(ji->has_files_total, ji->files_total, b,
	    sizeof(b)));
	out_kv("bytes", out_bytes(ji->bytes, b, sizeof(b)));
	out_kv("bytes total", ji->has_bytes_total ?
	    out_bytes(ji->bytes_total, b, sizeof(b)) : NULL);
	out_kv("stream bytes", ji->has_stream_bytes ?
	    out_bytes(ji->stream_bytes, b, sizeof(b)) : NULL);
	out_kv("chunks", opt_u64(ji->has_chunks, ji->chunks, b, sizeof(b)));
	out_kv("chunk size", ji->has_chunk_size ?
	    out_bytes(ji->chunk_size, b, sizeof(b)) : NULL);
	out_kv("data streams", opt_u64(ji->has_streams, ji->streams, b,
	    sizeof(b)));
	out_kv("started", out_time(ji->started_us, b, sizeof(b)));
	out_kv("ended", out_time(ji->has_ended_us ? ji->ended_us : 0, b,
	    sizeof(b)));
	out_kv("duration", out_duration(d, b, sizeof(b)));
	out_kv("rate", d > 0 ? out_rate(ji->bytes, d, b, sizeof(b)) : NULL);
	out_kv("error", job_error(ji, b, sizeof(b)));
	wire_msg_clear(&m);
	return CLI_EXIT_OK;
}
