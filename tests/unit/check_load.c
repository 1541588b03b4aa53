/*
 * check_load.c - unit tests for keyflow load's arithmetic and output:
 * nearest-rank percentiles, seed step times from trace events, /proc
 * parsing, errors by code, and the shape of the CSV time series, the JSON
 * report and the SVG chart.
 *
 * The load sources come from cli_core, the library keyflow is linked
 * from, so the test runs exactly the code keyflow runs.  The CSV and SVG are
 * written to memory (open_memstream) and checked for what a reader relies
 * on: a header and one row per sample with the header's column count; two
 * charts with the ids "throughput" and "latency", balanced elements, and
 * no "nan" or "inf" where a number belongs.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "load.h"
#include "check_main.h"

#define TEST_TIMEOUT	60

/* Percentiles ---------------------------------------------------------- */

START_TEST(pct_one_to_hundred)
{
	struct load_vals	v;
	int			i;

	memset(&v, 0, sizeof(v));
	/* Shuffled input: the set sorts itself. */
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(load_vals_add(&v, (double)((i * 37) % 100 +
		    1)), 0);
	ck_assert_double_eq(load_vals_pct(&v, 50), 50);
	ck_assert_double_eq(load_vals_pct(&v, 95), 95);
	ck_assert_double_eq(load_vals_pct(&v, 99), 99);
	ck_assert_double_eq(load_vals_pct(&v, 100), 100);
	ck_assert_double_eq(load_vals_max(&v), 100);
	ck_assert_double_eq(load_vals_pct(&v, 1e-9), 1);
	ck_assert_double_eq(load_vals_mean(&v), 50.5);
	/* Adding after a sort sorts again. */
	ck_assert_int_eq(load_vals_add(&v, 0.5), 0);
	ck_assert_double_eq(load_vals_pct(&v, 1e-9), 0.5);
	load_vals_clear(&v);
	ck_assert_ptr_null(v.v);
	ck_assert_uint_eq(v.n, 0);
}
END_TEST

START_TEST(pct_nearest_rank)
{
	struct load_vals	v;

	memset(&v, 0, sizeof(v));
	/* 10 values: p95 and p99 are the largest, p50 the 5th. */
	for (int i = 10; i >= 1; i--)
		load_vals_add(&v, i * 10.0);
	ck_assert_double_eq(load_vals_pct(&v, 50), 50);
	ck_assert_double_eq(load_vals_pct(&v, 51), 60);
	ck_assert_double_eq(load_vals_pct(&v, 90), 90);
	ck_assert_double_eq(load_vals_pct(&v, 95), 100);
	ck_assert_double_eq(load_vals_pct(&v, 99), 100);
	load_vals_clear(&v);
}
END_TEST

START_TEST(pct_limits)
{
	struct load_vals	v;

	memset(&v, 0, sizeof(v));
	ck_assert(isnan(load_vals_pct(&v, 50)));
	ck_assert(isnan(load_vals_mean(&v)));
	ck_assert(isnan(load_vals_max(&v)));
	load_vals_add(&v, 7);
	ck_assert_double_eq(load_vals_pct(&v, 1e-9), 7);
	ck_assert_double_eq(load_vals_pct(&v, 50), 7);
	ck_assert_double_eq(load_vals_pct(&v, 99), 7);
	ck_assert(isnan(load_vals_pct(&v, 0)));
	ck_assert(isnan(load_vals_pct(&v, -1)));
	ck_assert(isnan(load_vals_pct(&v, 100.5)));
	ck_assert(isnan(load_vals_pct(&v, NAN)));
	load_vals_clear(&v);
	/* Many values: the set grows. */
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(load_vals_add(&v, i), 0);
	ck_assert_double_eq(load_vals_pct(&v, 99), 98999);
	load_vals_clear(&v);
}
END_TEST

/* Step times ------------------------------------------------------------ */

static Kf__TraceEvent *
ev(const char *flow, unsigned step, const char *actor, int64_t ts)
{
	static Kf__TraceEvent	pool[16];
	static int		n;
	Kf__TraceEvent		*e = &pool[n++ % 16];

	kf__trace_event__init(e);
	e->trace_id = "job/1";
	e->flow = (char *)flow;
	e->step = step;
	e->actor = (char *)actor;
	e->action = "did it";
	e->ts_us = ts;
	return e;
}

START_TEST(steps_full)
{
	const Kf__TraceEvent	*e[8];
	int64_t			 st[STEP_N];

	/* Out of order, with a restore event that must not count. */
	e[0] = ev("backup", 6, "mediaagent", 5000);
	e[1] = ev("backup", 1, "commserve", 1100);
	e[2] = ev("backup", 3, "commserve", 1500);
	e[3] = ev("backup", 3, "client", 1700);
	e[4] = ev("restore", 6, "mediaagent", 9000);
	e[5] = ev("backup", 4, "client", 4000);
	load_steps_of(e, 6, 1000, 5600, st);
	ck_assert_int_eq(st[STEP_DEK], 500);
	ck_assert_int_eq(st[STEP_UNWRAP], 200);
	ck_assert_int_eq(st[STEP_TRANSFER], 3300);
	ck_assert_int_eq(st[STEP_COMMIT], 600);
}
END_TEST

START_TEST(steps_missing)
{
	const Kf__TraceEvent	*e[4];
	int64_t			 st[STEP_N];

	/* No client unseal event: transfer runs from CommServe's step 3. */
	e[0] = ev("backup", 3, "commserve", 1500);
	e[1] = ev("backup", 6, "mediaagent", 4500);
	load_steps_of(e, 2, 1000, 5000, st);
	ck_assert_int_eq(st[STEP_DEK], 500);
	ck_assert_int_eq(st[STEP_UNWRAP], -1);
	ck_assert_int_eq(st[STEP_TRANSFER], 3000);
	ck_assert_int_eq(st[STEP_COMMIT], 500);
	/* Nothing at all, and a job that never ended. */
	load_steps_of(e, 0, 1000, 0, st);
	for (int k = 0; k < STEP_N; k++)
		ck_assert_int_eq(st[k], -1);
	/* Time running backwards is unknown, not negative. */
	e[0] = ev("backup", 3, "commserve", 900);
	e[1] = ev("backup", 6, "mediaagent", 800);
	load_steps_of(e, 2, 1000, 700, st);
	for (int k = 0; k < STEP_N; k++)
		ck_assert_int_eq(st[k], -1);
}
END_TEST

/* /proc ----------------------------------------------------------------- */

static const char stat_line[] = "4242 (odd) name) S 1 4242 4242 0 -1 "
    "4194560 1234 0 0 0 250 75 0 0 20 0 3 0 12345 1000000 2500 "
    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

START_TEST(proc_stat)
{
	uint64_t	t = 0;
	char		buf[sizeof(stat_line)];
	size_t		n, len = strlen(stat_line);

	ck_assert_int_eq(load_proc_parse_stat(stat_line, &t), 0);
	ck_assert_uint_eq(t, 325);
	/* Every truncation before stime's end is refused. */
	for (n = 0; n < len; n++) {
		memcpy(buf, stat_line, n);
		buf[n] = '\0';
		t = 99;
		if (load_proc_parse_stat(buf, &t) == 0)
			ck_assert_msg(n > (size_t)(strstr(stat_line, " 75 ") +
			    3 - stat_line), "accepted a cut at %zu", n);
		else
			ck_assert_uint_eq(t, 99);
	}
	ck_assert_int_eq(load_proc_parse_stat("1 (x) S a b", &t), -1);
	ck_assert_int_eq(load_proc_parse_stat("no parens", &t), -1);
}
END_TEST

START_TEST(proc_rss)
{
	uint64_t	r = 0;

	ck_assert_int_eq(load_proc_parse_rss("Name:\tx\nVmPeak:\t 9 kB\n"
	    "VmRSS:\t   15292 kB\nThreads: 3\n", &r), 0);
	ck_assert_uint_eq(r, 15292);
	ck_assert_int_eq(load_proc_parse_rss("VmRSS:\t12 kB", &r), 0);
	ck_assert_uint_eq(r, 12);
	r = 5;
	ck_assert_int_eq(load_proc_parse_rss("Name:\tzombie\nState: Z\n", &r),
	    -1);
	ck_assert_int_eq(load_proc_parse_rss("VmRSS:\tlots kB\n", &r), -1);
	ck_assert_int_eq(load_proc_parse_rss("VmRSS:\t12 MB\n", &r), -1);
	ck_assert_int_eq(load_proc_parse_rss("", &r), -1);
	ck_assert_uint_eq(r, 5);
}
END_TEST

/* Which daemons belong to the stack: endpoints in argv or environment. */
START_TEST(endpoints)
{
	static const char argv1[] = "commserved\0--listen\0tcp://127.0.0.1:"
	    "8400\0--events\0tcp://127.0.0.1:8401\0-v";
	static const char argv2[] = "mediaagentd\0--commserve=tcp://*:8400";
	static const char env[] = "HOME=/root\0KEYFLOW_CS_EVENTS=tcp://"
	    "127.0.0.1:9401\0KEYFLOW_CS_LISTEN=tcp://0.0.0.0:9400";
	char	ev[64];

	ck_assert(load_ep_match("tcp://127.0.0.1:8400", "tcp://127.0.0.1:8400"));
	ck_assert(load_ep_match("tcp://*:8400", "tcp://127.0.0.1:8400"));
	ck_assert(!load_ep_match("tcp://127.0.0.1:84001", "tcp://127.0.0.1:8400"));
	ck_assert(!load_ep_match("tcp://127.0.0.1:840", "tcp://127.0.0.1:8400"));
	ck_assert(!load_ep_match("127.0.0.1:8400", "tcp://127.0.0.1:8400"));
	ck_assert(!load_ep_match("tcp://h:", "tcp://h:"  "1"));
	ck_assert(load_ep_match("ipc:///run/cs", "ipc:///run/cs"));
	ck_assert(!load_ep_match("ipc:///run/cs2", "ipc:///run/cs"));

	ev[0] = '\0';
	ck_assert(load_list_names(argv1, sizeof(argv1), "tcp://127.0.0.1:8400",
	    "--events", ev, sizeof(ev)));
	ck_assert_str_eq(ev, "tcp://127.0.0.1:8401");
	ck_assert(!load_list_names(argv1, sizeof(argv1), "tcp://127.0.0.1:8402",
	    NULL, NULL, 0));
	ck_assert(load_list_names(argv2, sizeof(argv2), "tcp://127.0.0.1:8400",
	    NULL, NULL, 0));
	ev[0] = '\0';
	ck_assert(load_list_names(env, sizeof(env), "tcp://127.0.0.1:9400",
	    "KEYFLOW_CS_EVENTS", ev, sizeof(ev)));
	ck_assert_str_eq(ev, "tcp://127.0.0.1:9401");
}
END_TEST

/* The real /proc: this test process samples itself. */
START_TEST(proc_self)
{
	struct load_daemon	d;
	struct load_sample	s;
	volatile double		x = 0;

	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	d.pid = getpid();
	d.role = ROLE_CLIENT;
	load_daemons_sample(&d, 1, 0, NULL);
	ck_assert(!d.gone);
	ck_assert_uint_gt(d.rss_kb, 0);
	for (long i = 0; i < 50000000; i++)
		x += i;
	ck_assert(x > 0);
	load_daemons_sample(&d, 1, 1, &s);
	ck_assert_uint_ge(d.ticks, d.ticks0);
	ck_assert_uint_eq(s.rss_kb[ROLE_CLIENT], d.rss_kb);
	ck_assert(s.cpu_pct[ROLE_CLIENT] >= 0);
	d.pid = 0x7ffffff0;	/* no such process */
	load_daemons_sample(&d, 1, 1, &s);
	ck_assert(d.gone);
}
END_TEST

/* Errors and reports --------------------------------------------------- */

START_TEST(errors_by_code)
{
	struct load_result	r;
	char			code[32];
	int			i;

	memset(&r, 0, sizeof(r));
	load_err_add(&r, "ERR_TIMEOUT", "first");
	load_err_add(&r, "ERR_TIMEOUT", "second");
	load_err_add(&r, "RESTORE_MISMATCH", NULL);
	ck_assert_int_eq(r.nerrs, 2);
	ck_assert_uint_eq(r.errs[0].n, 2);
	ck_assert_str_eq(r.errs[0].example, "first");
	ck_assert_uint_eq(r.nerrors, 3);
	for (i = 0; i < 2 * LOAD_ERRS_MAX; i++) {
		snprintf(code, sizeof(code), "CODE_%d", i);
		load_err_add(&r, code, "x");
	}
	ck_assert_int_eq(r.nerrs, LOAD_ERRS_MAX);
	ck_assert_uint_eq(r.nerrors, 3 + 2 * LOAD_ERRS_MAX);
	ck_assert_str_eq(r.errs[LOAD_ERRS_MAX - 1].code, "OTHER");
}
END_TEST

static struct load_conf		conf;
static struct load_result	res;

/* A result as a run of 3 s with 20 backups would leave. */
static void
setup_result(void)
{
	struct load_sample	s;
	int			i;

	memset(&conf, 0, sizeof(conf));
	memset(&res, 0, sizeof(res));
	conf.clients = 2;
	conf.jobs = 10;
	conf.size = 3 << 20;
	conf.files = 4;
	conf.restore = 1;
	conf.pool = "load";
	res.conf = &conf;
	res.wall_us = 3200000;
	for (i = 0; i < 3; i++) {
		memset(&s, 0, sizeof(s));
		s.t_s = i + 1.0;
		s.backup_bytes = (uint64_t)(i + 1) * 20000000;
		s.backup_mbs = 20.0 + i;
		s.restore_mbs = 10.0;
		s.jobs_done = (uint64_t)(i + 1) * 7;
		s.cpu_pct[ROLE_COMMSERVE] = 12.5;
		s.rss_kb[ROLE_MEDIAAGENT] = 4096;
		ck_assert_int_eq(load_sample_add(&res, &s), 0);
	}
	for (i = 0; i < 20; i++) {
		load_vals_add(&res.lat_b, 20000 + i * 1500);
		load_vals_add(&res.rate_b, 1e8);
		load_vals_add(&res.steps[STEP_DEK], 3000 + i);
	}
	res.b_submitted = res.b_completed = 20;
	res.b_bytes = 20 * (uint64_t)conf.size;
	res.traced = 20;
	load_err_add(&res, "ERR_TIMEOUT", "CommServe did not answer");
}

static void
teardown_result(void)
{
	load_result_clear(&res);
}

/* Render into memory with fn; the caller frees. */
static char *
render(int (*fn)(FILE *, struct load_result *), int *rc)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	*rc = fn(f, &res);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

static int
csv_fn(FILE *f, struct load_result *r)
{
	return load_report_csv(f, r);
}

static int
count_char(const char *s, char c)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

START_TEST(csv_shape)
{
	char	*buf, *line, *save = NULL;
	int	 rc, rows = 0, cols = -1;

	buf = render(csv_fn, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(strncmp(buf, "t_s,backup_bytes,", 17) == 0);
	ck_assert_ptr_nonnull(strstr(buf, ",commserved_cpu_pct,"));
	ck_assert_ptr_nonnull(strstr(buf, ",clientd_rss_kb\n"));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), rows++) {
		if (cols == -1)
			cols = count_char(line, ',');
		ck_assert_int_eq(count_char(line, ','), cols);
		ck_assert_ptr_null(strstr(line, "nan"));
	}
	ck_assert_int_eq(cols, 8 + 2 * ROLE_N - 1);
	ck_assert_int_eq(rows, 1 + 3);	/* header and one row per sample */
	free(buf);
	/* No samples: the header alone. */
	res.nsamples = 0;
	buf = render(csv_fn, &rc);
	ck_assert_int_eq(count_char(buf, '\n'), 1);
	free(buf);
}
END_TEST

static int
count_str(const char *s, const char *needle)
{
	int	n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static void
assert_svg_shape(const char *svg)
{
	ck_assert(strncmp(svg, "<?xml version=\"1.0\"", 19) == 0);
	ck_assert_ptr_nonnull(strstr(svg, "<svg xmlns=\"http://www.w3.org/"
	    "2000/svg\""));
	ck_assert_int_eq(count_str(svg, "<g id=\"throughput\">"), 1);
	ck_assert_int_eq(count_str(svg, "<g id=\"latency\">"), 1);
	ck_assert_int_eq(count_str(svg, "<g"), count_str(svg, "</g>"));
	ck_assert_int_eq(count_str(svg, "<text"), count_str(svg, "</text>"));
	ck_assert_int_eq(count_str(svg, "<svg"), 1);
	ck_assert(strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0);
	ck_assert_ptr_null(strstr(svg, "nan"));
	ck_assert_ptr_null(strstr(svg, "inf"));
	/* Self-contained: nothing fetched from elsewhere. */
	ck_assert_ptr_null(strstr(svg, "href"));
	ck_assert_ptr_null(strstr(svg, "<script"));
}

START_TEST(svg_shape)
{
	char	*svg;
	int	 rc;

	svg = render(load_svg, &rc);
	ck_assert_int_eq(rc, 0);
	assert_svg_shape(svg);
	/* Axis labels with units, the CDF and the percentile marks. */
	ck_assert_ptr_nonnull(strstr(svg, "throughput (MB/s)"));
	ck_assert_ptr_nonnull(strstr(svg, "time since start (s)"));
	ck_assert_ptr_nonnull(strstr(svg, "job latency (ms)"));
	ck_assert_ptr_nonnull(strstr(svg, "p99 48.5 ms"));
	ck_assert_int_eq(count_str(svg, "<polyline"), 3);
	ck_assert_int_gt(count_str(svg, "<rect"), 3);
	free(svg);
}
END_TEST

START_TEST(svg_empty)
{
	char	*svg;
	int	 rc;

	res.nsamples = 0;
	load_vals_clear(&res.lat_b);
	svg = render(load_svg, &rc);
	ck_assert_int_eq(rc, 0);
	assert_svg_shape(svg);
	ck_assert_ptr_nonnull(strstr(svg, "no samples"));
	ck_assert_ptr_nonnull(strstr(svg, "no completed backups"));
	free(svg);
}
END_TEST

START_TEST(json_shape)
{
	char	*js;
	int	 rc;

	js = render(load_report_json, &rc);
	ck_assert_int_eq(rc, 0);	/* the writer saw a balanced document */
	ck_assert_ptr_nonnull(strstr(js, "\"jobs_completed\": 20"));
	ck_assert_ptr_nonnull(strstr(js, "\"p50\": 33500"));
	ck_assert_ptr_nonnull(strstr(js, "\"key_unwrap\": null"));
	ck_assert_ptr_nonnull(strstr(js, "\"ERR_TIMEOUT\": 1"));
	ck_assert_ptr_null(strstr(js, "nan"));
	free(js);
}
END_TEST

static Suite *
load_suite(void)
{
	Suite	*s = suite_create("load");
	TCase	*tc;

	tc = tcase_create("stats");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, pct_one_to_hundred);
	tcase_add_test(tc, pct_nearest_rank);
	tcase_add_test(tc, steps_full);
	tcase_add_test(tc, steps_missing);
	tcase_add_test(tc, proc_rss);
	tcase_add_test(tc, proc_self);
	tcase_add_test(tc, endpoints);
	tcase_add_test(tc, errors_by_code);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_checked_fixture(tc, setup_result, teardown_result);
	tcase_add_test(tc, csv_shape);
	tcase_add_test(tc, svg_shape);
	tcase_add_test(tc, svg_empty);
	tcase_add_test(tc, json_shape);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, pct_limits);
	tcase_add_test(tc, proc_stat);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(load_suite(), NULL);
}
