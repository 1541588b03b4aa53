/*
 * curve.h - ZeroMQ CURVE encryption and authentication of every keyflow
 * link (ZMTP 3 CURVE, RFC 26; ZAP, RFC 27).
 *
 * Each process has a key pair in its key directory (curve.key, 0600, and
 * curve.pub, the public key alone).  Sockets that bind become CURVE
 * servers; a ZAP handler thread in the daemon's ZeroMQ context lets a
 * client in only when its public key is one of the *.pub files of the
 * trust directory, and tells the daemon which key it was through the
 * message property "User-Id" (wire_recv copies it to wire_msg.peer_key).
 * Sockets that connect become CURVE clients of the server key registered
 * for their endpoint with curve_peer_set().  With no key directory
 * configured, CURVE is off and every socket is plaintext, as before.
 *
 * curve_key.c holds the pure parts (key files, trust directory, the ZAP
 * decision); curve.c the process-wide state, socket options and the ZAP
 * thread.
 */
#ifndef KF_CURVE_H
#define KF_CURVE_H

#include <stddef.h>
#include <stdint.h>

#define CURVE_Z85_LEN	40		/* a key as Z85 text */
#define CURVE_BIN_LEN	32		/* a key as bytes */
#define CURVE_KEY_FILE	"curve.key"	/* secret and public key, 0600 */
#define CURVE_PUB_FILE	"curve.pub"	/* public key alone, 0644 */
#define CURVE_TRUST_MAX	4096		/* keys read from a trust directory */
#define CURVE_ZAP_DOMAIN "keyflow"
#define CURVE_ZAP_OK	200		/* ZAP status codes (RFC 27) */
#define CURVE_ZAP_DENY	400
#define CURVE_ZAP_ERROR	500

/* ---- curve_key.c: key files and the trust decision (no ZeroMQ state) */

/* 1 if s is exactly one Z85 key (40 characters that decode to 32 bytes). */
int	curve_z85_valid(const char *s);

/*
 * Load the key pair in dir, or with create create the directory (0700) and
 * a new pair when dir holds none.  Refuses, with a sentence in err, a
 * curve.key that is not a regular file of ours, is readable by group or
 * others, holds no valid Z85 keys or a public key that does not belong to
 * its secret key.  curve.pub is rewritten when missing or stale.  sec must
 * be wiped by the caller.
 */
int	curve_keypair_load(const char *dir, int create,
	    char pub[CURVE_Z85_LEN + 1], char sec[CURVE_Z85_LEN + 1],
	    char *err, size_t errcap);

/*
 * A server key given as Z85 text or as the path of a file holding one (a
 * curve.pub): 0 with out filled, or -1 with err set.
 */
int	curve_key_arg(const char *arg, char out[CURVE_Z85_LEN + 1],
	    char *err, size_t errcap);

/* The public keys of the *.pub files of one directory. */
struct curve_trust;

struct curve_trust *curve_trust_new(const char *dir);
/*
 * (Re)read the directory.  Files that are not one valid key are skipped
 * with a warning (only the first time each is seen, with loud).  Returns
 * the number of keys, or -1 when the directory cannot be read.
 */
int	curve_trust_load(struct curve_trust *, int loud);
int	curve_trust_count(const struct curve_trust *);
/* 1 when the directory changed (a file added or removed) since the load. */
int	curve_trust_changed(const struct curve_trust *);
void	curve_trust_free(struct curve_trust **);

/*
 * The ZAP decision for one request, a pure function: CURVE_ZAP_OK with
 * user_id set to the client's key in Z85 when mechanism is CURVE and the
 * 32-byte credential is a trusted key; otherwise CURVE_ZAP_DENY with *why
 * a short reason.  user_id is set whenever the credential is a key.
 */
int	curve_zap_decide(const struct curve_trust *, const char *mechanism,
	    const uint8_t *cred, size_t credlen,
	    char user_id[CURVE_Z85_LEN + 1], const char **why);

/* ---- curve.c: the process-wide setting */

/* How a program was configured (flags and KEYFLOW_CURVE_* variables). */
struct curve_conf {
	const char	*dir;		/* --curve-dir: own keys; NULL: off */
	const char	*trust;		/* --curve-trust: allowed peers */
	const char	*commserve_key;	/* --commserve-key: Z85 or file */
	const char	*commserve;	/* CommServe endpoint we connect to */
	const char	*events;	/* its event endpoint, or NULL */
	int		 serves;	/* 1 if the program binds sockets */
	int		 quiet;		/* 1: no "CURVE on" line (the CLI) */
};

/* Check a configuration without touching anything: 0 or -1 with err. */
int	curve_conf_check(const struct curve_conf *, char *err, size_t errcap);

/*
 * Apply a checked configuration: load or create the key pair, register
 * CommServe's key for its endpoints, and for a program that serves start
 * the ZAP handler in zctx (before any socket binds).  0 when done or when
 * CURVE is off; -1 with err set.
 */
int	curve_setup(const struct curve_conf *, void *zctx, char *err,
	    size_t errcap);

/* 1 when CURVE is on in this process. */
int	curve_enabled(void);
/* This process's public key in Z85, or NULL when CURVE is off. */
const char *curve_public_key(void);

/*
 * The server key for an endpoint this process will connect to (a
 * MediaAgent's, learned from a job order).  0, or -1 for a bad key.
 */
int	curve_peer_set(const char *endpoint, const char *z85);
/* CommServe's key, for its endpoints and for trace publishers. */
int	curve_commserve_set(const char *endpoint, const char *z85);

/*
 * Make sock a CURVE server (bind) or client of endpoint's registered key
 * (connect), before it binds or connects.  0 when done or CURVE is off;
 * -1 with a log line, e.g. when no key is known for the endpoint.
 */
int	curve_apply(void *sock, const char *endpoint, int bind);
/* The same for a socket that connects to CommServe's event endpoint. */
int	curve_apply_commserve(void *sock, const char *endpoint);

/* Stop the ZAP handler and wipe the secret key (before zmq_ctx_term). */
void	curve_shutdown(void);

#endif
