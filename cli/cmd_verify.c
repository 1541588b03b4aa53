/*
 * cmd_verify.c - keyflow verify JOB [--decrypt [--client NAME]].
 *
 * Without --decrypt no key is used: the MediaAgent holding the backup
 * checks every frame of its container (CRCs, headers, order, lengths) and
 * CommServe compares the result with what the backup committed; the answer
 * is one VERIFY_RESULT.  With --decrypt CommServe starts a restore job that
 * writes nothing: the client opens every chunk with the job's DEK and
 * checks every record against the catalog and every file's SHA-256.  That
 * job is followed like a restore, and its id is the last stdout line.
 * Damage is reported on stderr with the job and the chunk it is in; the
 * exit status is 0 only when everything checked out.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

/* A keyless check reads the whole container: CommServe gives it 60 s. */
#define VERIFY_WAIT_S	75

static void
result_json(struct json *j, const void *item)
{
	const Kf__VerifyResult	*vr = item;

	json_obj_begin(j);
	json_ku64(j, "backup_job", vr->backup_job);
	json_kbool(j, "decrypt", 0);
	json_kbool(j, "ok", vr->ok);
	json_ku64(j, "chunks", vr->chunks);
	if (vr->has_files)
		json_ku64(j, "files", vr->files);
	if (vr->has_bytes)
		json_ku64(j, "stream_bytes", vr->bytes);
	if (vr->has_code)
		json_kstr(j, "error_code", wire_err_name(vr->code));
	json_kstr(j, "error", vr->error);
	json_obj_end(j);
}

static int
verify_keyless(struct cli *c, Kf__VerifyStart *req)
{
	const Kf__VerifyResult	*vr;
	struct wire_msg		 m;
	unsigned		 saved = c->timeout_s;
	char			 h[32];
	int			 rc;

	if (c->timeout_s < VERIFY_WAIT_S)
		c->timeout_s = VERIFY_WAIT_S;
	rc = cli_request(c, KF__MSG_TYPE__VERIFY_START, &req->base,
	    KF__MSG_TYPE__VERIFY_RESULT, &m);
	c->timeout_s = saved;
	if (rc == -1)
		return CLI_EXIT_FAIL;
	vr = (const Kf__VerifyResult *)m.body;
	if (c->json)
		out_json_item(result_json, vr);
	else if (vr->ok)
		printf("backup job %llu verified without keys: %llu chunks, "
		    "%llu bytes (%s), every frame sound\n",
		    (unsigned long long)vr->backup_job,
		    (unsigned long long)vr->chunks,
		    (unsigned long long)vr->bytes,
		    util_human_bytes(vr->bytes, h, sizeof(h)));
	if (!vr->ok && !c->json)
		out_line(stderr, "keyflow: %s (%s)", vr->error ? vr->error :
		    "the container is damaged", wire_err_name(vr->has_code ?
		    vr->code : KF__KF_ERR__ERR_INTEGRITY));
	rc = vr->ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	wire_msg_clear(&m);
	return rc;
}

/* The backup's chunk count, for the summary; 0 if CommServe will not say. */
static uint64_t
backup_chunks(struct cli *c, uint64_t job)
{
	Kf__JobGet		 req = KF__JOB_GET__INIT;
	const Kf__JobInfo	*ji;
	struct cli_error	 e;
	struct wire_msg		 m;
	uint64_t		 n = 0;

	req.job = job;
	if (cli_request_quiet(c, KF__MSG_TYPE__JOB_GET, &req.base,
	    KF__MSG_TYPE__JOB_INFO, &m, &e) == -1)
		return 0;
	ji = (const Kf__JobInfo *)m.body;
	if (ji->has_chunks)
		n = ji->chunks;
	wire_msg_clear(&m);
	return n;
}

static int
verify_decrypt(struct cli *c, Kf__VerifyStart *req)
{
	const Kf__JobInfo	*ji;
	struct wire_msg		 m;
	char			 h[32];
	int			 followed, rc;

	if (cli_request(c, KF__MSG_TYPE__VERIFY_START, &req->base,
	    KF__MSG_TYPE__JOB_INFO, &m) == -1)
		return CLI_EXIT_FAIL;
	followed = job_follow(c, &m) == 0;
	ji = (const Kf__JobInfo *)m.body;
	rc = followed && ji->state == KF__JOB_STATE__JOB_COMPLETED ?
	    CLI_EXIT_OK : CLI_EXIT_FAIL;
	if (c->json)
		out_json_item(job_json, ji);
	else if (rc == CLI_EXIT_OK)
		printf("backup job %llu verified with its key: %llu files, "
		    "%llu bytes (%s), %llu chunks; nothing was written\n",
		    (unsigned long long)req->backup_job,
		    (unsigned long long)ji->files,
		    (unsigned long long)ji->bytes,
		    util_human_bytes(ji->bytes, h, sizeof(h)),
		    (unsigned long long)backup_chunks(c, req->backup_job));
	else if (followed)
		out_line(stderr, "keyflow: verify job %llu of backup job %llu "
		    "%s: %s (%s)", (unsigned long long)ji->id,
		    (unsigned long long)req->backup_job,
		    job_state_name(ji->state), ji->error ? ji->error :
		    "no reason given", wire_err_name(ji->has_error_code ?
		    ji->error_code : KF__KF_ERR__ERR_INTERNAL));
	if (!c->json)
		printf("%llu\n", (unsigned long long)ji->id);
	wire_msg_clear(&m);
	return rc;
}

int
cmd_verify(struct cli *c, const struct cli_args *a)
{
	Kf__VerifyStart	 req = KF__VERIFY_START__INIT;

	if (cli_parse_id(c, "JOB", a->pos[0], &req.backup_job) == -1)
		return CLI_EXIT_USAGE;
	req.client = (char *)cli_opt(a, "client");
	if (req.client != NULL && req.client[0] == '\0')
		return cli_usage_error(c, "--client must not be empty");
	if (req.client != NULL && !cli_flag(a, "decrypt"))
		return cli_usage_error(c, "--client needs --decrypt: the "
		    "keyless check runs on the MediaAgent");
	if (!cli_flag(a, "decrypt"))
		return verify_keyless(c, &req);
	req.has_decrypt = 1;
	req.decrypt = 1;
	return verify_decrypt(c, &req);
}
