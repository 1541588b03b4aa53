/*
 * cmd_curve.c - CURVE for the operator's command line.
 *
 * With --curve-dir (or KEYFLOW_CURVE_DIR) every request to CommServe goes
 * over a CURVE-encrypted connection authenticated with this operator's
 * key pair, which CommServe lets in only when its curve.pub is in
 * CommServe's trust directory.  "keyflow keygen DIR" makes such a pair
 * (for the CLI or for any daemon) without a CommServe, so that scripts
 * such as ./run can collect every public key before the daemons start.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crypto.h"
#include "curve.h"

int
cli_curve_setup(struct cli *c)
{
	struct curve_conf	cf;
	char			err[512];

	memset(&cf, 0, sizeof(cf));
	cf.dir = c->curve_dir;
	cf.commserve_key = c->commserve_key;
	cf.commserve = c->endpoint;
	cf.quiet = 1;
	if (curve_setup(&cf, c->zctx, err, sizeof(err)) == -1) {
		cli_fail("CURVE: %s", err);
		return -1;
	}
	return 0;
}

int
cmd_keygen(struct cli *c, const struct cli_args *a)
{
	char	pub[CURVE_Z85_LEN + 1], sec[CURVE_Z85_LEN + 1], err[512];
	int	rc;

	(void)c;
	rc = curve_keypair_load(a->pos[0], 1, pub, sec, err, sizeof(err));
	crypto_wipe(sec, sizeof(sec));
	if (rc == -1)
		return cli_fail("%s", err);
	printf("%s\n", pub);
	return CLI_EXIT_OK;
}
