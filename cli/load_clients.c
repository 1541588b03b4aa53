/*
 * load_clients.c - the clients keyflow load backs up: registered with
 * CommServe under names of their own ("load<N>-<run>", a fresh run id each
 * time so runs never collide) and random network passwords, each with its
 * own clientd process started here.
 *
 * clientd is $KEYFLOW_CLIENTD, else the one next to the keyflow binary (or
 * ../client/clientd in a build tree), else the first on PATH.  Each gets
 * CommServe's endpoint as a flag and the rest of our environment.  When
 * this keyflow speaks CURVE (--curve-dir or KEYFLOW_CURVE_DIR), each load
 * client gets a key pair of its own in the scratch directory, made here
 * before its clientd starts, and its public key is put into CommServe's
 * trust directory ($KEYFLOW_CURVE_TRUST, which must then be set and
 * writable) so that CommServe lets it in; the keys leave with the run.  The
 * password files live in the scratch directory (0600); passwords are wiped
 * from memory once sent.
 *
 * A clientd runs in its own session, so the Ctrl-C meant for keyflow does
 * not reach it half-way; keyflow stops it (SIGTERM, then SIGKILL after
 * 5 s), and should keyflow itself be killed the kernel sends the clientd a
 * SIGTERM (PR_SET_PDEATHSIG): no load client outlives its load run.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "curve.h"
#include "load.h"
#include "util.h"

#define PW_BYTES	24		/* random bytes, sent as hex */
#define READY_MS	30000		/* all clients connected within */
#define STOP_MS		5000		/* SIGTERM to SIGKILL */
#define LIST_LIMIT	10000		/* CLIENT_LIST rows */

/* One load client. */
struct load_client {
	char		 name[LOAD_NAME_MAX];	/* its registered name */
	char		 pwfile[PATH_MAX];	/* its password file */
	char		 log[PATH_MAX];		/* clientd's output */
	char		 curve_dir[PATH_MAX - 256];	/* own CURVE keys, or "" */
	char		 trusted[PATH_MAX];	/* our copy in the trust dir */
	pid_t		 pid;			/* clientd, 0 when not running */
	int		 connected;		/* CommServe lists it connected */
};

struct load_clients {
	struct cli		*c;		/* the CLI, for requests */
	char			 scratch[PATH_MAX - 512];	/* scratch dir */
	char			 clientd[PATH_MAX];	/* the program */
	unsigned		 n;		/* how many clients */
	struct load_client	*cl;		/* the clients */
};

/* dir/name is an executable file: copy it to out. */
static int
try_exec(const char *dir, const char *name, char *out, size_t cap)
{
	char		path[PATH_MAX], real[PATH_MAX];
	struct stat	st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -1;
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(path, X_OK) == -1)
		return -1;
	if (realpath(path, real) == NULL)
		return -1;
	snprintf(out, cap, "%s", real);
	return 0;
}

static int
find_clientd(char *out, size_t cap)
{
	char		 self[PATH_MAX], *slash, *path, *dir, *save = NULL;
	const char	*env;
	ssize_t		 n;
	int		 rc = -1;

	if ((env = getenv("KEYFLOW_CLIENTD")) != NULL && *env != '\0') {
		if (access(env, X_OK) == -1)
			return cli_fail("KEYFLOW_CLIENTD=%s is not an "
			    "executable program", env), -1;
		snprintf(out, cap, "%s", env);
		return 0;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (try_exec(self, "clientd", out, cap) == 0 ||
			    try_exec(self, "../client/clientd", out, cap) == 0)
				return 0;
		}
	}
	if ((env = getenv("PATH")) == NULL || (path = strdup(env)) == NULL)
		return cli_fail("no clientd next to keyflow, and no PATH to "
		    "search; set KEYFLOW_CLIENTD"), -1;
	for (dir = strtok_r(path, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save))
		if (*dir != '\0' && try_exec(dir, "clientd", out, cap) == 0) {
			rc = 0;
			break;
		}
	free(path);
	if (rc == -1)
		cli_fail("clientd not found next to keyflow, nor on PATH; set "
		    "KEYFLOW_CLIENTD to the program");
	return rc;
}

struct load_clients *
load_clients_new(struct cli *c, const char *scratch, unsigned n)
{
	struct load_clients	*lc;
	uint8_t			 run[3];
	unsigned		 i;

	if ((lc = calloc(1, sizeof(*lc))) == NULL ||
	    (lc->cl = calloc(n, sizeof(*lc->cl))) == NULL) {
		free(lc);
		cli_fail("out of memory");
		return NULL;
	}
	lc->c = c;
	lc->n = n;
	if ((size_t)snprintf(lc->scratch, sizeof(lc->scratch), "%s",
	    scratch) >= sizeof(lc->scratch)) {
		cli_fail("the scratch directory's path is too long");
		load_clients_free(&lc);
		return NULL;
	}
	if (find_clientd(lc->clientd, sizeof(lc->clientd)) == -1 ||
	    crypto_random(run, sizeof(run)) == -1) {
		load_clients_free(&lc);
		return NULL;
	}
	for (i = 0; i < n; i++)
		snprintf(lc->cl[i].name, sizeof(lc->cl[i].name),
		    "load%u-%02x%02x%02x", i + 1, run[0], run[1], run[2]);
	return lc;
}

const char *
load_clients_name(const struct load_clients *lc, unsigned i)
{
	return lc->cl[i].name;
}

pid_t
load_clients_pid(const struct load_clients *lc, unsigned i)
{
	return lc->cl[i].pid;
}

/* A random password into a 0600 file and to CommServe. */
static int
register_client(struct load_clients *lc, struct load_client *cl)
{
	Kf__ClientAdd	 req = KF__CLIENT_ADD__INIT;
	struct wire_msg	 m;
	uint8_t		 raw[PW_BYTES];
	char		 hex[2 * PW_BYTES + 2];
	size_t		 i;
	int		 fd, rc = -1;

	snprintf(cl->pwfile, sizeof(cl->pwfile), "%s/%s.password",
	    lc->scratch, cl->name);
	if (crypto_random(raw, sizeof(raw)) == -1)
		return cli_fail("no random bytes for a password"), -1;
	for (i = 0; i < PW_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[2 * PW_BYTES] = '\n';
	if ((fd = open(cl->pwfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		cli_fail("%s: %s", cl->pwfile, strerror(errno));
		goto done;
	}
	if (util_write_all(fd, hex, 2 * PW_BYTES + 1) == -1) {
		cli_fail("%s: %s", cl->pwfile, strerror(errno));
		close(fd);
		goto done;
	}
	close(fd);
	req.name = cl->name;
	req.password.data = (uint8_t *)hex;
	req.password.len = 2 * PW_BYTES;
	if (cli_request(lc->c, KF__MSG_TYPE__CLIENT_ADD, &req.base,
	    KF__MSG_TYPE__CLIENT_INFO, &m) == -1) {
		cli_fail("cannot register load client %s", cl->name);
		goto done;
	}
	wire_msg_clear(&m);
	rc = 0;
done:
	crypto_wipe(raw, sizeof(raw));
	crypto_wipe(hex, sizeof(hex));
	return rc;
}

/* In the child: never returns. */
static void __attribute__((noreturn))
child_exec(struct load_clients *lc, struct load_client *cl, pid_t parent)
{
	char	*argv[12] = { lc->clientd, "--name", cl->name,
		    "--password-file", cl->pwfile, "--commserve",
		    (char *)lc->c->endpoint, NULL };
	int	 fd, n = 7;

	if (cl->curve_dir[0] != '\0') {
		argv[n++] = "--curve-dir";
		argv[n++] = cl->curve_dir;
		if (lc->c->commserve_key != NULL) {
			argv[n++] = "--commserve-key";
			argv[n++] = (char *)lc->c->commserve_key;
		}
		argv[n] = NULL;
	}

	(void)setsid();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);	/* keyflow died before we got here */
	if ((fd = open(cl->log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* Our settings are flags; the operator's own keys are not its. */
	(void)unsetenv("KEYFLOW_CURVE_DIR");
	(void)unsetenv("KEYFLOW_CURVE_TRUST");
	(void)unsetenv("KEYFLOW_CLIENT_NAME");
	(void)unsetenv("KEYFLOW_PASSWORD_FILE");
	execv(lc->clientd, argv);
	fprintf(stderr, "keyflow load: cannot run %s: %s\n", lc->clientd,
	    strerror(errno));
	_exit(127);
}

static int	curve_trust(struct load_clients *, struct load_client *);

static int
spawn(struct load_clients *lc, struct load_client *cl)
{
	pid_t	pid, parent = getpid();

	snprintf(cl->log, sizeof(cl->log), "%s/%s.log", lc->scratch,
	    cl->name);
	if (curve_enabled() && curve_trust(lc, cl) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == -1)
		return cli_fail("fork: %s", strerror(errno)), -1;
	if (pid == 0)
		child_exec(lc, cl, parent);
	cl->pid = pid;
	return 0;
}

/* Print the end of a clientd's log to stderr. */
static void
log_tail(const struct load_client *cl)
{
	char	buf[2048];
	FILE	*f;
	long	 sz;
	size_t	 n;

	if ((f = fopen(cl->log, "r")) == NULL)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0)
		(void)fseek(f, sz > (long)sizeof(buf) - 1 ?
		    sz - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	fprintf(stderr, "---- end of clientd %s's log ----\n", cl->name);
	out_clean(stderr, buf);
	fprintf(stderr, "\n----\n");
}

int
load_clients_check(struct load_clients *lc)
{
	unsigned	i;
	int		st;

	for (i = 0; i < lc->n; i++) {
		if (lc->cl[i].pid <= 0)
			continue;
		if (waitpid(lc->cl[i].pid, &st, WNOHANG) != lc->cl[i].pid)
			continue;
		lc->cl[i].pid = 0;
		log_tail(&lc->cl[i]);
		if (WIFSIGNALED(st))
			cli_fail("clientd %s was killed by signal %d",
			    lc->cl[i].name, WTERMSIG(st));
		else
			cli_fail("clientd %s exited with status %d",
			    lc->cl[i].name, WEXITSTATUS(st));
		return -1;
	}
	return 0;
}

/*
 * With CURVE on: a key pair for the client, its public key into
 * CommServe's trust directory as <name>.pub.
 */
static int
curve_trust(struct load_clients *lc, struct load_client *cl)
{
	const char	*trust = getenv("KEYFLOW_CURVE_TRUST");
	char		 pub[CURVE_Z85_LEN + 1], sec[CURVE_Z85_LEN + 1];
	char		 err[512], line[CURVE_Z85_LEN + 2];
	int		 fd, rc = -1;

	if (trust == NULL || *trust == '\0')
		return cli_fail("CURVE is on: set KEYFLOW_CURVE_TRUST to "
		    "CommServe's trust directory, so that the load clients' "
		    "keys can be let in"), -1;
	snprintf(cl->curve_dir, sizeof(cl->curve_dir), "%s/curve-%s",
	    lc->scratch, cl->name);
	if (curve_keypair_load(cl->curve_dir, 1, pub, sec, err,
	    sizeof(err)) == -1) {
		crypto_wipe(sec, sizeof(sec));
		return cli_fail("CURVE keys for %s: %s", cl->name, err), -1;
	}
	crypto_wipe(sec, sizeof(sec));
	snprintf(line, sizeof(line), "%s\n", pub);
	if ((size_t)snprintf(cl->trusted, sizeof(cl->trusted), "%s/%s.pub",
	    trust, cl->name) >= sizeof(cl->trusted)) {
		cl->trusted[0] = '\0';
		return cli_fail("KEYFLOW_CURVE_TRUST is too long"), -1;
	}
	if ((fd = open(cl->trusted, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1) {
		cli_fail("cannot trust %s's key: %s: %s", cl->name,
		    cl->trusted, strerror(errno));
		cl->trusted[0] = '\0';
		return -1;
	}
	if (util_write_all(fd, line, strlen(line)) == 0)
		rc = 0;
	else
		cli_fail("%s: %s", cl->trusted, strerror(errno));
	close(fd);
	return rc;
}

/* 1 when every client is connected, 0 if not yet, -1 on an error. */
static int
all_connected(struct load_clients *lc)
{
	Kf__ListRequest		 req = KF__LIST_REQUEST__INIT;
	const Kf__ClientListReply *r;
	struct cli_error	 e;
	struct wire_msg		 m;
	unsigned		 i, ok = 0;
	size_t			 k;

	req.has_limit = 1;
	req.limit = LIST_LIMIT;
	if (cli_request_quiet(lc->c, KF__MSG_TYPE__CLIENT_LIST, &req.base,
	    KF__MSG_TYPE__CLIENT_LIST_REPLY, &m, &e) == -1) {
		if (e.why == CLI_FAIL_TIMEOUT)
			return 0;
		cli_report(lc->c, &e);
		return -1;
	}
	r = (const Kf__ClientListReply *)m.body;
	for (i = 0; i < lc->n; i++) {
		for (k = 0; k < r->n_clients; k++)
			if (strcmp(r->clients[k]->name, lc->cl[i].name) == 0)
				break;
		lc->cl[i].connected = k < r->n_clients &&
		    r->clients[k]->connected;
		ok += lc->cl[i].connected;
	}
	wire_msg_clear(&m);
	return ok == lc->n;
}

/* Register every client, start its clientd, wait until all connected. */
int
load_clients_start(struct load_clients *lc)
{
	int64_t		deadline;
	unsigned	i;
	int		r;

	for (i = 0; i < lc->n && !util_stop; i++)
		if (register_client(lc, &lc->cl[i]) == -1 ||
		    spawn(lc, &lc->cl[i]) == -1)
			return -1;
	deadline = util_mono_ms() + READY_MS;
	while (!util_stop) {
		if (load_clients_check(lc) == -1)
			return -1;
		if ((r = all_connected(lc)) != 0)
			return r == 1 ? 0 : -1;
		if (util_mono_ms() > deadline) {
			for (i = 0; i < lc->n; i++)
				if (!lc->cl[i].connected) {
					log_tail(&lc->cl[i]);
					break;
				}
			return cli_fail("load clients not connected to "
			    "CommServe within %d s", READY_MS / 1000), -1;
		}
		load_nap(100);
	}
	return cli_fail("interrupted while starting the load clients"), -1;
}

/* SIGTERM every clientd, SIGKILL what still runs after STOP_MS. */
void
load_clients_stop(struct load_clients *lc)
{
	struct timespec	ts = { 0, 50 * 1000000L };
	int64_t		deadline;
	unsigned	i, left;
	pid_t		r;
	int		st;

	if (lc == NULL)
		return;
	for (i = 0; i < lc->n; i++)
		if (lc->cl[i].pid > 0)
			(void)kill(lc->cl[i].pid, SIGTERM);
	deadline = util_mono_ms() + STOP_MS;
	do {
		left = 0;
		for (i = 0; i < lc->n; i++) {
			if (lc->cl[i].pid <= 0)
				continue;
			r = waitpid(lc->cl[i].pid, &st, WNOHANG);
			if (r == lc->cl[i].pid || (r == -1 && errno == ECHILD))
				lc->cl[i].pid = 0;
			else
				left++;
		}
		if (left > 0)
			(void)nanosleep(&ts, NULL);
	} while (left > 0 && util_mono_ms() < deadline);
	for (i = 0; i < lc->n; i++) {
		if (lc->cl[i].pid > 0) {
			fprintf(stderr, "keyflow: clientd %s ignored SIGTERM; "
			    "killing it\n", lc->cl[i].name);
			(void)kill(lc->cl[i].pid, SIGKILL);
			(void)waitpid(lc->cl[i].pid, &st, 0);
			lc->cl[i].pid = 0;
		}
		if (lc->cl[i].trusted[0] != '\0') {
			(void)unlink(lc->cl[i].trusted);
			lc->cl[i].trusted[0] = '\0';
		}
	}
}

void
load_clients_free(struct load_clients **lcp)
{
	struct load_clients	*lc;

	if (lcp == NULL || (lc = *lcp) == NULL)
		return;
	load_clients_stop(lc);
	free(lc->cl);
	free(lc);
	*lcp = NULL;
}
