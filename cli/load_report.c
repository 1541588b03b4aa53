/*
 * load_report.c - what keyflow load prints: a report for people (text),
 * one JSON document for machines (--json), and the per-second time series
 * as CSV (--csv FILE).
 *
 * Throughput is decimal MB/s (bytes per microsecond), sizes are binary
 * (MiB).  JSON numbers are integers with their unit in the key
 * ("latency_us", "bytes_per_s", "cpu_ms", "rss_peak_bytes"), so no
 * precision is lost in a float; a figure with no data is null.  The CSV
 * has one header line and one row per sampled second, columns in a fixed
 * order (see csv_header), so a spreadsheet or a plot script can rely on
 * them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "util.h"

/* "0.85 ms", "123.4 ms", "2.35 s", or "-" when unknown. */
static const char *
fmt_us(double us, char *buf, size_t cap)
{
	if (isnan(us) || us < 0)
		snprintf(buf, cap, "-");
	else if (us < 10000)
		snprintf(buf, cap, "%.2f ms", us / 1000);
	else if (us < 1000000)
		snprintf(buf, cap, "%.1f ms", us / 1000);
	else
		snprintf(buf, cap, "%.2f s", us / 1e6);
	return buf;
}

static double
mbs(uint64_t bytes, int64_t us)
{
	return us > 0 ? (double)bytes / (double)us : 0;
}

static double
per_s(uint64_t n, int64_t us)
{
	return us > 0 ? (double)n * 1e6 / (double)us : 0;
}

static void
latency_line(FILE *f, const char *what, struct load_vals *v)
{
	char	a[32], b[32], c[32], d[32], e[32];

	if (v->n == 0) {
		fprintf(f, "%-16s -\n", what);
		return;
	}
	fprintf(f, "%-16s p50 %s, p95 %s, p99 %s, max %s (mean %s, %zu "
	    "jobs)\n", what, fmt_us(load_vals_pct(v, 50), a, sizeof(a)),
	    fmt_us(load_vals_pct(v, 95), b, sizeof(b)),
	    fmt_us(load_vals_pct(v, 99), c, sizeof(c)),
	    fmt_us(load_vals_max(v), d, sizeof(d)),
	    fmt_us(load_vals_mean(v), e, sizeof(e)), v->n);
}

static void
steps_table(FILE *f, struct load_result *r)
{
	static const char *const h[] = { "STEP", ">JOBS", ">P50", ">P95",
	    ">P99", ">MEAN", "SEED STEPS" };
	static const char *const what[STEP_N] = {
		"backup 1-3: DEK generated, wrapped, stored, sealed, sent",
		"client unseals the DEK",
		"backup 4-6: encrypt, send, write and fsync",
		"MediaAgent commit to job committed at CommServe"
	};
	struct table	*t = table_new(7, h);
	char		 b[32];
	int		 k;

	fprintf(f, "\nseed step times (from the trace events of %llu "
	    "backups):\n", (unsigned long long)r->traced);
	for (k = 0; k < STEP_N; k++) {
		table_add(t, load_step_name(k));
		table_addf(t, "%zu", r->steps[k].n);
		table_add(t, fmt_us(load_vals_pct(&r->steps[k], 50), b,
		    sizeof(b)));
		table_add(t, fmt_us(load_vals_pct(&r->steps[k], 95), b,
		    sizeof(b)));
		table_add(t, fmt_us(load_vals_pct(&r->steps[k], 99), b,
		    sizeof(b)));
		table_add(t, fmt_us(load_vals_mean(&r->steps[k]), b,
		    sizeof(b)));
		table_add(t, r->steps[k].n == 0 && k == STEP_UNWRAP ?
		    "no client event recorded; counted in data_transfer" :
		    what[k]);
	}
	table_print(t, f);
	table_free(&t);
}

static void
daemons_table(FILE *f, const struct load_result *r)
{
	static const char *const h[] = { "DAEMON", ">PID", ">CPU",
	    ">CPU %", ">RSS PEAK", ">RSS END" };
	struct table	*t;
	char		 b[32];
	long		 hz = sysconf(_SC_CLK_TCK);
	double		 cpu;
	int		 i;

	if (r->ndaemons == 0)
		return;
	if (hz <= 0)
		hz = 100;
	t = table_new(6, h);
	fprintf(f, "\ndaemons (CPU time and memory during the run):\n");
	for (i = 0; i < r->ndaemons; i++) {
		cpu = (double)(r->daemons[i].ticks - r->daemons[i].ticks0) /
		    (double)hz;
		table_addf(t, "%s%s", r->daemons[i].name,
		    r->daemons[i].gone ? " (exited)" : "");
		table_addf(t, "%ld", (long)r->daemons[i].pid);
		table_addf(t, "%.2f s", cpu);
		table_addf(t, "%.1f", r->wall_us > 0 ?
		    100 * cpu * 1e6 / (double)r->wall_us : 0);
		table_add(t, util_human_bytes(r->daemons[i].rss_peak_kb * 1024,
		    b, sizeof(b)));
		table_add(t, util_human_bytes(r->daemons[i].rss_kb * 1024, b,
		    sizeof(b)));
	}
	table_print(t, f);
	table_free(&t);
}

static void
errors_table(FILE *f, const struct load_result *r)
{
	static const char *const h[] = { "CODE", ">COUNT", "FIRST MESSAGE" };
	struct table	*t;
	int		 i;

	if (r->nerrs == 0) {
		fprintf(f, "\nerrors: none\n");
		return;
	}
	t = table_new(3, h);
	fprintf(f, "\nerrors by code:\n");
	for (i = 0; i < r->nerrs; i++) {
		table_add(t, r->errs[i].code);
		table_addf(t, "%llu", (unsigned long long)r->errs[i].n);
		table_add(t, r->errs[i].example);
	}
	table_print(t, f);
	table_free(&t);
}

void
load_report_text(FILE *f, struct load_result *r)
{
	const struct load_conf	*c = r->conf;
	char			 h[32], h2[32];

	fprintf(f, "keyflow load: %u client%s", c->clients,
	    c->clients == 1 ? "" : "s");
	if (c->jobs > 0)
		fprintf(f, " x %llu backup%s", (unsigned long long)c->jobs,
		    c->jobs == 1 ? "" : "s");
	else
		fprintf(f, " backing up");
	fprintf(f, " of %s in %u file%s%s, pool %s",
	    util_human_bytes(c->size, h, sizeof(h)), c->files,
	    c->files == 1 ? "" : "s",
	    c->restore ? ", each restored and compared" : "", c->pool);
	if (c->streams > 0)
		fprintf(f, ", %u streams", c->streams);
	if (c->duration_ms > 0)
		fprintf(f, ", for at most %lld s",
		    (long long)(c->duration_ms / 1000));
	fprintf(f, "\n%-16s %.2f s%s\n", "wall time", r->wall_us / 1e6,
	    r->interrupted ? " (interrupted)" : "");
	fprintf(f, "%-16s %llu completed, %llu failed, %s, %.1f MB/s, "
	    "%.2f jobs/s\n", "backups", (unsigned long long)r->b_completed,
	    (unsigned long long)r->b_failed,
	    util_human_bytes(r->b_bytes, h, sizeof(h)),
	    mbs(r->b_bytes, r->wall_us), per_s(r->b_completed, r->wall_us));
	if (r->rate_b.n > 0)
		fprintf(f, "%-16s p50 %.1f MB/s, mean %.1f MB/s, slowest "
		    "%.1f MB/s\n", "per-job rate", load_vals_pct(&r->rate_b,
		    50) / 1e6, load_vals_mean(&r->rate_b) / 1e6,
		    load_vals_pct(&r->rate_b, 1e-9) / 1e6);
	latency_line(f, "backup latency", &r->lat_b);
	if (c->restore) {
		fprintf(f, "%-16s %llu completed and equal, %llu failed, %llu "
		    "differed, %s, %.1f MB/s\n", "restores",
		    (unsigned long long)r->r_completed,
		    (unsigned long long)r->r_failed,
		    (unsigned long long)r->r_mismatch,
		    util_human_bytes(r->r_bytes, h2, sizeof(h2)),
		    mbs(r->r_bytes, r->wall_us));
		latency_line(f, "restore latency", &r->lat_r);
	}
	if (r->unfinished > 0)
		fprintf(f, "%-16s %u jobs were still running at the end\n",
		    "unfinished", r->unfinished);
	steps_table(f, r);
	daemons_table(f, r);
	errors_table(f, r);
}

/* JSON ---------------------------------------------------------------- */

static void
json_kdbl_int(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (isnan(v) || v < 0)
		json_null(j);
	else
		json_u64(j, (uint64_t)(v + 0.5));
}

static void
json_stats(struct json *j, const char *key, struct load_vals *v)
{
	json_key(j, key);
	if (v->n == 0) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_ku64(j, "n", v->n);
	json_kdbl_int(j, "min", load_vals_pct(v, 1e-9));
	json_kdbl_int(j, "p50", load_vals_pct(v, 50));
	json_kdbl_int(j, "p95", load_vals_pct(v, 95));
	json_kdbl_int(j, "p99", load_vals_pct(v, 99));
	json_kdbl_int(j, "max", load_vals_max(v));
	json_kdbl_int(j, "mean", load_vals_mean(v));
	json_obj_end(j);
}

static void
json_conf(struct json *j, const struct load_conf *c)
{
	json_key(j, "config");
	json_obj_begin(j);
	json_ku64(j, "clients", c->clients);
	json_ku64(j, "jobs_per_client", c->jobs);
	json_ku64(j, "size", c->size);
	json_ku64(j, "files", c->files);
	json_ku64(j, "streams", c->streams ? c->streams : 1);
	json_kbool(j, "restore", c->restore);
	json_ki64(j, "duration_ms", c->duration_ms);
	json_kstr(j, "pool", c->pool);
	json_obj_end(j);
}

static void
json_daemons(struct json *j, const struct load_result *r)
{
	long	hz = sysconf(_SC_CLK_TCK);
	int	i;

	if (hz <= 0)
		hz = 100;
	json_key(j, "daemons");
	json_arr_begin(j);
	for (i = 0; i < r->ndaemons; i++) {
		json_obj_begin(j);
		json_kstr(j, "name", r->daemons[i].name);
		json_kstr(j, "role", load_role_name(r->daemons[i].role));
		json_ki64(j, "pid", r->daemons[i].pid);
		json_ku64(j, "cpu_ms", (r->daemons[i].ticks -
		    r->daemons[i].ticks0) * 1000 / (uint64_t)hz);
		json_ku64(j, "rss_peak_bytes", r->daemons[i].rss_peak_kb * 1024);
		json_ku64(j, "rss_end_bytes", r->daemons[i].rss_kb * 1024);
		json_kbool(j, "exited", r->daemons[i].gone);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void
json_errors(struct json *j, const struct load_result *r)
{
	int	i;

	json_key(j, "errors");
	json_obj_begin(j);
	for (i = 0; i < r->nerrs; i++)
		json_ku64(j, r->errs[i].code, r->errs[i].n);
	json_obj_end(j);
	json_key(j, "error_examples");
	json_obj_begin(j);
	for (i = 0; i < r->nerrs; i++)
		json_kstr(j, r->errs[i].code, r->errs[i].example);
	json_obj_end(j);
}

int
load_report_json(FILE *f, struct load_result *r)
{
	struct json	j;
	int		k;

	json_init(&j, f);
	json_obj_begin(&j);
	json_conf(&j, r->conf);
	json_ki64(&j, "wall_us", r->wall_us);
	json_kbool(&j, "interrupted", r->interrupted);
	json_ku64(&j, "unfinished", r->unfinished);
	json_ku64(&j, "jobs_completed", r->b_completed + r->r_completed);
	json_ku64(&j, "bytes", r->b_bytes + r->r_bytes);
	json_key(&j, "backups");
	json_obj_begin(&j);
	json_ku64(&j, "submitted", r->b_submitted);
	json_ku64(&j, "completed", r->b_completed);
	json_ku64(&j, "failed", r->b_failed);
	json_ku64(&j, "bytes", r->b_bytes);
	json_kdbl_int(&j, "bytes_per_s", mbs(r->b_bytes, r->wall_us) * 1e6);
	json_kdbl_int(&j, "jobs_per_ks", per_s(r->b_completed, r->wall_us) *
	    1000);
	json_stats(&j, "latency_us", &r->lat_b);
	json_stats(&j, "job_bytes_per_s", &r->rate_b);
	json_obj_end(&j);
	json_key(&j, "restores");
	json_obj_begin(&j);
	json_ku64(&j, "submitted", r->r_submitted);
	json_ku64(&j, "completed", r->r_completed);
	json_ku64(&j, "failed", r->r_failed);
	json_ku64(&j, "mismatched", r->r_mismatch);
	json_ku64(&j, "bytes", r->r_bytes);
	json_kdbl_int(&j, "bytes_per_s", mbs(r->r_bytes, r->wall_us) * 1e6);
	json_stats(&j, "latency_us", &r->lat_r);
	json_obj_end(&j);
	json_ku64(&j, "traced", r->traced);
	json_key(&j, "steps_us");
	json_obj_begin(&j);
	for (k = 0; k < STEP_N; k++)
		json_stats(&j, load_step_name(k), &r->steps[k]);
	json_obj_end(&j);
	json_daemons(&j, r);
	json_errors(&j, r);
	json_ku64(&j, "samples", r->nsamples);
	json_obj_end(&j);
	return json_finish(&j);
}

/* CSV ----------------------------------------------------------------- */

static void
csv_header(FILE *f)
{
	int	k;

	fprintf(f, "t_s,backup_bytes,restore_bytes,backup_mb_s,"
	    "restore_mb_s,jobs_done,errors,running");
	for (k = 0; k < ROLE_N; k++)
		fprintf(f, ",%s_cpu_pct,%s_rss_kb", load_role_name(k),
		    load_role_name(k));
	fputc('\n', f);
}

int
load_report_csv(FILE *f, const struct load_result *r)
{
	const struct load_sample	*s;
	size_t				 i;
	int				 k;

	csv_header(f);
	for (i = 0; i < r->nsamples; i++) {
		s = &r->samples[i];
		fprintf(f, "%.3f,%llu,%llu,%.3f,%.3f,%llu,%llu,%u", s->t_s,
		    (unsigned long long)s->backup_bytes,
		    (unsigned long long)s->restore_bytes, s->backup_mbs,
		    s->restore_mbs, (unsigned long long)s->jobs_done,
		    (unsigned long long)s->errors, s->running);
		for (k = 0; k < ROLE_N; k++)
			fprintf(f, ",%.1f,%llu", s->cpu_pct[k],
			    (unsigned long long)s->rss_kb[k]);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}
