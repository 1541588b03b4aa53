/*
 * cmd_load.c - keyflow load: put a running stack under load and report.
 *
 * The phases, each undone on the way out whatever happens (an error,
 * Ctrl-C, SIGTERM): check the flags; find or create the storage pool; make
 * a scratch directory with the data set (random bytes, so nothing
 * compresses, split into --files files); register the load clients and
 * start their clientd processes (load_clients.c); run the jobs
 * (load_run.c); stop the clientd processes and remove the scratch
 * directory; print the report (load_report.c), the CSV time series and the
 * SVG chart (load_svg.c).  The exit status is 0 only when every job
 * completed (and every restore compared equal).
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "load.h"
#include "util.h"

#define GEN_BUF		(1024 * 1024)	/* data set write size */
#define DEFAULT_POOL	"load"
#define DEFAULT_SIZE	(1024 * 1024)

/* What a run holds that must be undone. */
struct load_state {
	char			 scratch[PATH_MAX];	/* "" until made */
	char			**paths;	/* the data set's files */
	unsigned		 npaths;	/* how many */
	struct load_clients	*lc;		/* the load clients */
	FILE			*csv;		/* --csv, open from the start */
	FILE			*plot;		/* --plot */
	const char		*csv_path;	/* removed if never written */
	const char		*plot_path;	/* removed if never written */
};

/* "90", "90s", "15m", "2h": milliseconds, or -1. */
static int64_t
parse_duration(const char *s)
{
	uint64_t	v;
	char		num[32];
	size_t		n = strlen(s);
	int64_t		mult = 1000;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's':
		num[--n] = '\0';
		break;
	case 'm':
		mult = 60 * 1000;
		num[--n] = '\0';
		break;
	case 'h':
		mult = 3600 * 1000;
		num[--n] = '\0';
		break;
	}
	if (conf_parse_u64(num, 1, LOAD_DURATION_MAX, &v) == -1 ||
	    (int64_t)v * mult > (int64_t)LOAD_DURATION_MAX * 1000)
		return -1;
	return (int64_t)v * mult;
}

/* A number option in [min, max], or def when absent; -1: usage error. */
static int
num_opt(struct cli *c, const struct cli_args *a, const char *name,
    uint64_t min, uint64_t max, uint64_t def, uint64_t *out)
{
	const char	*v = cli_opt(a, name);

	*out = def;
	if (v == NULL)
		return 0;
	if (conf_parse_u64(v, min, max, out) == -1)
		return cli_usage_error(c, "--%s must be a whole number from "
		    "%llu to %llu, not '%s'", name, (unsigned long long)min,
		    (unsigned long long)max, v), -1;
	return 0;
}

static int
parse_conf(struct cli *c, const struct cli_args *a, struct load_conf *conf)
{
	const char	*v;
	uint64_t	 n;

	memset(conf, 0, sizeof(*conf));
	if (num_opt(c, a, "clients", 1, LOAD_CLIENTS_MAX, 1, &n) == -1)
		return -1;
	conf->clients = (unsigned)n;
	if (num_opt(c, a, "jobs", 1, LOAD_JOBS_MAX, 0, &conf->jobs) == -1)
		return -1;
	if (num_opt(c, a, "files", 1, LOAD_FILES_MAX, 1, &n) == -1)
		return -1;
	conf->files = (unsigned)n;
	if (num_opt(c, a, "streams", 1, LOAD_STREAMS_MAX, 0, &n) == -1)
		return -1;
	conf->streams = (unsigned)n;
	conf->size = DEFAULT_SIZE;
	if ((v = cli_opt(a, "size")) != NULL &&
	    conf_parse_size(v, 1, LOAD_SIZE_MAX, &conf->size) == -1)
		return cli_usage_error(c, "--size must be a size from 1 byte "
		    "to 1T, like 3MiB, 512K or 1048576, not '%s'", v), -1;
	if ((v = cli_opt(a, "duration")) != NULL &&
	    (conf->duration_ms = parse_duration(v)) == -1)
		return cli_usage_error(c, "--duration must be a time like 90, "
		    "90s, 15m or 2h (at most a week), not '%s'", v), -1;
	if (conf->jobs == 0 && conf->duration_ms == 0)
		return cli_usage_error(c, "give --jobs M (per client), "
		    "--duration T, or both"), -1;
	conf->restore = cli_flag(a, "restore");
	conf->pool = cli_opt(a, "pool") ? cli_opt(a, "pool") : DEFAULT_POOL;
	if (!conf_name_valid(conf->pool, 255))
		return cli_usage_error(c, "--pool '%s' is not a pool name "
		    "(letters, digits, '-', '_', '.')", conf->pool), -1;
	conf->csv = cli_opt(a, "csv");
	conf->plot = cli_opt(a, "plot");
	if ((conf->csv != NULL && conf->csv[0] == '\0') ||
	    (conf->plot != NULL && conf->plot[0] == '\0'))
		return cli_usage_error(c, "--csv and --plot need a file "
		    "name"), -1;
	if (conf->csv != NULL && conf->plot != NULL &&
	    strcmp(conf->csv, conf->plot) == 0)
		return cli_usage_error(c, "--csv and --plot name the same "
		    "file"), -1;
	return 0;
}

/* Open an output file now, so a bad path fails before any load. */
static FILE *
open_out(const char *path, const char *what)
{
	FILE	*f;

	if (path == NULL)
		return NULL;
	if ((f = fopen(path, "w")) == NULL)
		cli_fail("%s %s: %s", what, path, strerror(errno));
	return f;
}

/* The pool exists, or is created on the first connected MediaAgent. */
static int
ensure_pool(struct cli *c, const char *pool)
{
	Kf__ListRequest			 lr = KF__LIST_REQUEST__INIT;
	Kf__PoolCreate			 pc = KF__POOL_CREATE__INIT;
	const Kf__PoolListReply		*pl;
	const Kf__MediaAgentListReply	*ml;
	struct wire_msg			 m;
	size_t				 i;
	int				 found = 0;
	char				 ma[256] = "";

	lr.has_limit = 1;
	lr.limit = 10000;
	if (cli_request(c, KF__MSG_TYPE__POOL_LIST, &lr.base,
	    KF__MSG_TYPE__POOL_LIST_REPLY, &m) == -1)
		return -1;
	pl = (const Kf__PoolListReply *)m.body;
	for (i = 0; i < pl->n_pools; i++)
		if (strcmp(pl->pools[i]->name, pool) == 0)
			found = 1;
	wire_msg_clear(&m);
	if (found)
		return 0;
	if (cli_request(c, KF__MSG_TYPE__MA_LIST, &lr.base,
	    KF__MSG_TYPE__MA_LIST_REPLY, &m) == -1)
		return -1;
	ml = (const Kf__MediaAgentListReply *)m.body;
	for (i = 0; i < ml->n_mediaagents && ma[0] == '\0'; i++)
		if (ml->mediaagents[i]->connected)
			snprintf(ma, sizeof(ma), "%s",
			    ml->mediaagents[i]->name);
	wire_msg_clear(&m);
	if (ma[0] == '\0')
		return cli_fail("storage pool %s does not exist, and no "
		    "MediaAgent is connected to create it on", pool), -1;
	pc.name = (char *)pool;
	pc.mediaagent = ma;
	if (cli_request(c, KF__MSG_TYPE__POOL_CREATE, &pc.base,
	    KF__MSG_TYPE__POOL_INFO, &m) == -1)
		return -1;
	wire_msg_clear(&m);
	fprintf(stderr, "keyflow: created storage pool %s on MediaAgent %s "
	    "(built-in KMS)\n", pool, ma);
	return 0;
}

/* One file of random bytes. */
static int
write_random(const char *path, uint64_t size, uint8_t *buf)
{
	uint64_t	left = size;
	size_t		n;
	int		fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	while (left > 0 && !util_stop) {
		n = left > GEN_BUF ? GEN_BUF : (size_t)left;
		if (crypto_random(buf, n) == -1 ||
		    util_write_all(fd, buf, n) == -1) {
			close(fd);
			return -1;
		}
		left -= n;
	}
	return close(fd) == -1 || util_stop ? -1 : 0;
}

/* The scratch directory and the data set in it. */
static int
make_data(struct load_state *s, const struct load_conf *conf)
{
	const char	*tmp = getenv("TMPDIR");
	struct statvfs	 vfs;
	uint64_t	 each, extra;
	uint8_t		*buf = NULL;
	char		 path[PATH_MAX];
	unsigned	 i;
	int		 rc = -1;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	snprintf(s->scratch, sizeof(s->scratch), "%s/keyflow-load.XXXXXX",
	    tmp);
	if (mkdtemp(s->scratch) == NULL) {
		cli_fail("cannot make a scratch directory in %s: %s", tmp,
		    strerror(errno));
		s->scratch[0] = '\0';
		return -1;
	}
	if (statvfs(s->scratch, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < conf->size *
	    (conf->restore ? 2 : 1) + 64 * 1024 * 1024)
		return cli_fail("%s has too little free space for a %llu-byte "
		    "data set%s", tmp, (unsigned long long)conf->size,
		    conf->restore ? " and its restores" : ""), -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/data", s->scratch) >=
	    sizeof(path) - 16) {
		cli_fail("the scratch directory's path is too long");
		goto done;
	}
	if (mkdir(path, 0700) == -1 ||
	    (s->paths = calloc(conf->files, sizeof(*s->paths))) == NULL ||
	    (buf = malloc(GEN_BUF)) == NULL) {
		cli_fail("cannot prepare the data set: %s", strerror(errno));
		goto done;
	}
	each = conf->size / conf->files;
	extra = conf->size % conf->files;
	for (i = 0; i < conf->files; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/data/f%06u.bin",
		    s->scratch, i) >= sizeof(path)) {
			cli_fail("the scratch directory's path is too long");
			goto done;
		}
		if ((s->paths[i] = strdup(path)) == NULL) {
			cli_fail("out of memory");
			goto done;
		}
		s->npaths++;
		if (write_random(path, each + (i < extra), buf) == -1) {
			if (util_stop)
				cli_fail("interrupted while writing the data "
				    "set");
			else
				cli_fail("cannot write %s: %s", path,
				    strerror(errno));
			goto done;
		}
	}
	rc = 0;
done:
	free(buf);
	return rc;
}

static void
state_clear(struct load_state *s)
{
	unsigned	i;

	load_clients_free(&s->lc);
	if (s->scratch[0] != '\0' && load_rmtree(s->scratch) == -1)
		fprintf(stderr, "keyflow: could not remove %s: %s\n",
		    s->scratch, strerror(errno));
	for (i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	/*
	 * A report file still open here means the run failed before the
	 * report was written: remove the partial file, so that no
	 * half-written CSV or plot is left behind.
	 */
	if (s->csv != NULL) {
		fclose(s->csv);
		(void)unlink(s->csv_path);
	}
	if (s->plot != NULL) {
		fclose(s->plot);
		(void)unlink(s->plot_path);
	}
	memset(s, 0, sizeof(*s));
}

/* Write a report into an already open file; -1 with a message. */
static int
finish_file(FILE **fp, const char *path, int rc)
{
	if (rc == 0 && (fflush(*fp) == EOF || ferror(*fp)))
		rc = -1;
	if (fclose(*fp) == EOF)
		rc = -1;
	*fp = NULL;
	if (rc == -1)
		cli_fail("cannot write %s: %s", path, strerror(errno));
	return rc;
}

static int
report(struct cli *c, struct load_state *s, const struct load_conf *conf,
    struct load_result *res)
{
	int	rc = 0;

	if (c->json)
		rc = load_report_json(stdout, res);
	else
		load_report_text(stdout, res);
	if (s->csv != NULL && finish_file(&s->csv, conf->csv,
	    load_report_csv(s->csv, res)) == -1)
		rc = -1;
	if (s->plot != NULL && finish_file(&s->plot, conf->plot,
	    load_svg(s->plot, res)) == -1)
		rc = -1;
	return rc;
}

int
cmd_load(struct cli *c, const struct cli_args *a)
{
	struct load_conf	conf;
	struct load_state	s;
	struct load_result	res;
	int			rc = CLI_EXIT_FAIL, ran;

	memset(&s, 0, sizeof(s));
	memset(&res, 0, sizeof(res));
	if (parse_conf(c, a, &conf) == -1)
		return CLI_EXIT_USAGE;
	s.csv_path = conf.csv;
	s.plot_path = conf.plot;
	if ((conf.csv != NULL &&
	    (s.csv = open_out(conf.csv, "--csv")) == NULL) ||
	    (conf.plot != NULL &&
	    (s.plot = open_out(conf.plot, "--plot")) == NULL))
		goto done;
	util_signals();
	if (ensure_pool(c, conf.pool) == -1 || make_data(&s, &conf) == -1 ||
	    (s.lc = load_clients_new(c, s.scratch, conf.clients)) == NULL ||
	    load_clients_start(s.lc) == -1)
		goto done;
	ran = load_run(c, &conf, s.lc, s.scratch, s.paths, s.npaths, &res);
	/* Clean up before reporting: nothing of ours runs past this. */
	load_clients_stop(s.lc);
	if (s.scratch[0] != '\0' && load_rmtree(s.scratch) == 0)
		s.scratch[0] = '\0';
	if (report(c, &s, &conf, &res) == -1 || ran == -1)
		goto done;
	if (res.interrupted)
		cli_fail("interrupted; %u jobs were still running",
		    res.unfinished);
	else if (res.nerrors == 0 && res.unfinished == 0)
		rc = CLI_EXIT_OK;
done:
	state_clear(&s);
	load_result_clear(&res);
	return rc;
}
