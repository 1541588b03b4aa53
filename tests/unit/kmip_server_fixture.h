/*
 * kmip_server_fixture.h - the scripted KMIP test server of the
 * check_kmip_client suite (kmip_server_fixture.c): certificates per test
 * run, a mutual-TLS fake server that misbehaves on demand, and clients
 * configured for it.
 */
#ifndef KF_KMIP_SERVER_FIXTURE_H
#define KF_KMIP_SERVER_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "crypto.h"
#include "kmip/client.h"

#define FAKE_UID	"fake-key-1"

extern char	dir[64];		/* certificates, per test run */
extern uint8_t	fake_key[KF_KEY_LEN];	/* the one key the fake serves */

/* How the fake server behaves and what it saw. */
struct fake {
	SSL_CTX		*ctx;		/* server TLS context */
	int		 lfd;		/* listening socket */
	int		 port;		/* its port */
	pthread_t	 th;		/* server thread */
	atomic_int	 stop;		/* ask the thread to end */
	uint32_t	 versions[8];	/* Discover Versions answer */
	size_t		 nversions;	/* entries in versions */
	uint32_t	 max_version;	/* newer messages: Invalid Message */
	int		 no_discover;	/* DV: Operation Not Supported */
	int		 close_after;	/* close after every answer */
	int		 hangup_on;	/* read request N, close, no answer */
	int		 silent;	/* never answer */
	int		 refuse_create;	/* Create: Permission Denied */
	atomic_int	 conns;		/* connections accepted */
	atomic_int	 requests;	/* requests read */
	atomic_int	 creates;	/* Creates answered */
	atomic_int	 corr_seen;	/* requests with a Correlation Value */
	atomic_int	 corr_early;	/* ... in a message before 1.4 */
	char		 last_corr[64];	/* the last Correlation Value */
	char		 name[128];	/* the last Create's Name */
	int32_t		 usage;		/* the last Create's usage mask */
};

/* Certificates into a fresh dir and a fresh fake_key; their removal. */
void	setup(void);
void	teardown(void);
/* A fake presenting certificate cert ("server" or "badname"), not started. */
struct fake	*fake_start(const char *, uint32_t);
/* Start f's server thread. */
void	fake_go(struct fake *);
/* Stop the thread, free f and clear *fp. */
void	fake_stop(struct fake **);
/* A client of f (host "127.0.0.1" unless given); NULL with err set. */
struct kmip_client *client_for(const struct fake *, const char *,
	    const char *, const char *, int, char *, size_t);
/* Start f's thread and connect a default client to it. */
struct kmip_client *go(struct fake *, int);

#endif /* KF_KMIP_SERVER_FIXTURE_H */
