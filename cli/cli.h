/*
 * cli.h - the keyflow operator command line.
 *
 * main.c parses the global options, finds the command in its table, does
 * the generic checks (known command, option names, values, positional
 * arity) once, and hands the handler a struct cli_args.  Handlers build one
 * protobuf request, send it with cli_request() and print the reply through
 * output.c: human tables and sentences, or one JSON document with --json.
 * Results go to stdout, progress and errors to stderr.  Exit status: 0 on
 * success, 1 on failure, 2 on a usage error.
 */
#ifndef KF_CLI_H
#define KF_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wire.h"

#define CLI_EXIT_OK		0
#define CLI_EXIT_FAIL		1
#define CLI_EXIT_USAGE		2

#define CLI_OPTS_MAX		16	/* options per command */
#define CLI_DEFAULT_ENDPOINT	"tcp://127.0.0.1:8400"
#define CLI_DEFAULT_TIMEOUT	10	/* seconds */
#define CLI_TIMEOUT_MAX		86400	/* seconds */
#define CLI_PATH_MAX		4096	/* longest path we send */

struct json;
struct table;

/* Global state shared by every command. */
struct cli {
	void		*zctx;		/* ZeroMQ context for all requests */
	const char	*endpoint;	/* CommServe ROUTER endpoint */
	int		 json;		/* --json: one JSON document out */
	unsigned	 timeout_s;	/* --timeout: reply wait bound */
	const struct cli_command *cmd;	/* running command, for usage errors */
	const char	*curve_dir;	/* --curve-dir: CURVE keys, or NULL */
	const char	*commserve_key;	/* --commserve-key: Z85 or file */
	void		*sock;		/* DEALER kept between requests, or NULL */
};

enum cli_optkind {
	CLI_FLAG,			/* --name */
	CLI_VALUE,			/* --name VALUE, at most once */
	CLI_LIST			/* --name VALUE, repeatable */
};

/* One option a command accepts. */
struct cli_optdef {
	const char	*name;		/* long name without "--"; NULL ends */
	enum cli_optkind kind;		/* flag, single value or list */
	int		 required;	/* 1 if the command needs it */
};

/* A command's parsed arguments (strings point into argv). */
struct cli_args {
	int		 npos;		/* number of positional arguments */
	char		**pos;		/* positional arguments */
	const struct cli_optdef *defs;	/* the command's option table */
	int		 count[CLI_OPTS_MAX];	/* times each was given */
	const char	*value[CLI_OPTS_MAX];	/* CLI_VALUE: its value */
	char		**list[CLI_OPTS_MAX];	/* CLI_LIST: all its values */
};

/* One row of the command table in main.c. */
struct cli_command {
	const char	*group;		/* first word: "pool", "backup" */
	const char	*verb;		/* second word, or NULL */
	int		(*fn)(struct cli *, const struct cli_args *);
	int		 minpos;	/* fewest positional arguments */
	int		 maxpos;	/* most positional arguments, -1: any */
	const struct cli_optdef *opts;	/* accepted options, NULL-ended */
	const char	*usage;		/* synopsis after "keyflow " */
	const char	*usage2;	/* a second synopsis, or NULL */
	const char	*help;		/* one-line description */
};

/* Why a request failed. */
enum cli_fail {
	CLI_FAIL_NONE,			/* it did not */
	CLI_FAIL_REPLY,			/* CommServe answered ERROR */
	CLI_FAIL_TIMEOUT,		/* no reply within the timeout */
	CLI_FAIL_LOCAL,			/* socket, send or decode failure */
	CLI_FAIL_STOPPED		/* interrupted by SIGINT/SIGTERM */
};

/* The details of a failed request. */
struct cli_error {
	enum cli_fail	 why;		/* class of failure */
	kf_err_t	 code;		/* KfErr from CommServe or wire.c */
	char		 msg[1024];	/* sentence to show the operator */
};

/* main.c */
const char *cli_opt(const struct cli_args *, const char *name);
int	cli_flag(const struct cli_args *, const char *name);
char	**cli_optlist(const struct cli_args *, const char *name, int *n);
int	cli_usage_error(struct cli *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	cli_parse_id(struct cli *, const char *what, const char *s,
	    uint64_t *out);

/* request.c */
int	cli_send(struct cli *, uint32_t type, const ProtobufCMessage *body,
	    struct cli_error *);
int	cli_await(struct cli *, uint32_t expect, struct wire_msg *reply,
	    struct cli_error *);
int	cli_request_quiet(struct cli *, uint32_t type,
	    const ProtobufCMessage *body, uint32_t expect,
	    struct wire_msg *reply, struct cli_error *);
/* Close the socket kept between requests (before the context goes). */
void	cli_disconnect(struct cli *);
int	cli_request(struct cli *, uint32_t type, const ProtobufCMessage *body,
	    uint32_t expect, struct wire_msg *reply);
void	cli_report(const struct cli *, const struct cli_error *);

/* How a list command shows its reply (see cli_list). */
struct cli_list_view {
	uint32_t	 type;		/* request type (body: ListRequest) */
	uint32_t	 expect;	/* reply type, one repeated field */
	const char	*empty;		/* printed when the list is empty */
	int		 ncols;		/* table columns */
	const char	*headers[12];	/* column headers, '>' right-aligns */
	void		(*json)(struct json *, const void *item);
	void		(*row)(struct table *, const void *item);
};

int	cli_list(struct cli *, const struct cli_list_view *, uint32_t limit);

/* cmd_pool.c */
int	cmd_pool_create(struct cli *, const struct cli_args *);
int	cmd_pool_list(struct cli *, const struct cli_args *);

/* cmd_client.c */
int	cmd_client_add(struct cli *, const struct cli_args *);
int	cmd_client_list(struct cli *, const struct cli_args *);
int	cmd_ma_list(struct cli *, const struct cli_args *);
int	cmd_ma_unpin(struct cli *, const struct cli_args *);

/* cmd_kms.c */
int	cmd_kms_add(struct cli *, const struct cli_args *);
int	cmd_kms_list(struct cli *, const struct cli_args *);

/* cmd_job.c */
int	cmd_backup(struct cli *, const struct cli_args *);
int	cmd_restore(struct cli *, const struct cli_args *);
int	cmd_jobs(struct cli *, const struct cli_args *);
int	cmd_job(struct cli *, const struct cli_args *);
const char *job_type_name(int);
const char *job_state_name(int);
void	job_json(struct json *, const void *item);

/* job_wait.c */
int	job_follow(struct cli *, struct wire_msg *info);

/* cmd_verify.c */
int	cmd_verify(struct cli *, const struct cli_args *);

/* cmd_curve.c */
int	cmd_keygen(struct cli *, const struct cli_args *);
int	cli_curve_setup(struct cli *);

/* cmd_trace.c */
int	cmd_trace(struct cli *, const struct cli_args *);

/* output.c: a small streaming JSON writer. */
#define JSON_DEPTH_MAX		16

struct json {
	FILE		*f;		/* where the document goes */
	int		 depth;		/* open objects and arrays */
	int		 count[JSON_DEPTH_MAX];	/* members written per level */
	char		 kind[JSON_DEPTH_MAX];	/* '{' or '[' per level */
	int		 after_key;	/* a key was written, value pending */
	int		 bad;		/* misuse seen (unbalanced, depth) */
};

void	json_init(struct json *, FILE *);
void	json_obj_begin(struct json *);
void	json_obj_end(struct json *);
void	json_arr_begin(struct json *);
void	json_arr_end(struct json *);
void	json_key(struct json *, const char *);
void	json_str(struct json *, const char *);	/* NULL writes null */
void	json_strn(struct json *, const void *, size_t);
void	json_u64(struct json *, uint64_t);
void	json_i64(struct json *, int64_t);
void	json_bool(struct json *, int);
void	json_null(struct json *);
/* key + value shorthands; json_kstr skips a NULL value. */
void	json_kstr(struct json *, const char *key, const char *);
void	json_ku64(struct json *, const char *key, uint64_t);
void	json_ki64(struct json *, const char *key, int64_t);
void	json_kbool(struct json *, const char *key, int);
/* key_us (the number) and key (local ISO-8601); skipped when us == 0. */
void	json_ktime(struct json *, const char *key, int64_t us);
/* Finish the document with a newline; -1 if it was not well formed. */
int	json_finish(struct json *);
void	out_json_item(void (*)(struct json *, const void *), const void *);

/* output.c: human output. */
int	utf8_valid_len(const unsigned char *s, size_t n);
void	out_clean(FILE *, const char *);
char	*out_clean_dup(const char *);
void	out_line(FILE *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const char *out_time(int64_t us, char *buf, size_t cap);
const char *out_duration(int64_t us, char *buf, size_t cap);
const char *out_bytes(uint64_t bytes, char *buf, size_t cap);
const char *out_rate(uint64_t bytes, int64_t us, char *buf, size_t cap);
void	out_kv(const char *key, const char *value);
int	out_finish(void);

struct table;

/* Headers starting with '>' are right-aligned (the '>' is not shown). */
struct table *table_new(int ncols, const char *const *headers);
void	table_add(struct table *, const char *cell);	/* NULL shows "-" */
void	table_addf(struct table *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	table_print(const struct table *, FILE *);
void	table_free(struct table **);

#endif
