/*
 * kf-poke.h - private interface of kf-poke between its main program
 * (kf-poke.c: the generic senders, reply checking, the rogue publisher and
 * the churn mode) and its case table (kf-poke-cases.c: the hostile-values
 * builders and poke_cases[], one row per --case).
 */
#ifndef KF_POKE_H
#define KF_POKE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define POKE_TIMEOUT_MS		5000	/* default --timeout, and the AUTH wait */

/* What a case accepts as the right answer. */
enum poke_expect {
	EXPECT_CODE,			/* ERROR with exactly this code */
	EXPECT_ANY_ERROR,		/* ERROR with any code */
	EXPECT_ANY_REPLY,		/* any well-formed reply */
	EXPECT_NONE			/* no reply (a message without one) */
};

/* One crafted request and the answer it must get. */
struct poke_case {
	const char	*name;		/* --case NAME */
	int		(*send)(void *sock, const struct poke_case *c); /* writes it */
	enum poke_expect how;		/* which answers are right */
	kf_err_t	 expect;	/* the code, for EXPECT_CODE */
	const char	*what;		/* for --help */
	kf_err_t	 alt;		/* another right code, or 0 */
	uint32_t	 arg;		/* message type, for shared senders */
	const void	*spec;		/* the values the sender uses */
	const char	*group;		/* --group runs all cases of it */
};

/* A string field added to a packed body by hand, as it may carry a NUL. */
struct raw_str {
	unsigned	 num;		/* field number; 0: none */
	const char	*data;		/* the bytes */
	size_t		 len;		/* their count, NULs included */
};

/* HELLO and AUTH. */
struct hello_spec {
	const char	*role, *name;	/* "@big": 64 KiB */
	size_t		 noncelen;	/* client_nonce bytes; -1: none */
	size_t		 prooflen;	/* AUTH after the CHALLENGE, or 0 */
	struct raw_str	 raw;		/* appended after packing */
};

/* kf-poke.c */
extern uint64_t	poke_job;	/* the job id the data-path cases name (--job) */
uint8_t	*poke_pack(const ProtobufCMessage *, size_t *);
int	 poke_send_typed(void *, uint32_t, const void *, size_t, const void *,
	    size_t, const void *, size_t);
int	 poke_send_garbage(void *, const struct poke_case *);
int	 poke_send_empty_frame(void *, const struct poke_case *);
int	 poke_send_unknown_type(void *, const struct poke_case *);
int	 poke_send_frames_4(void *, const struct poke_case *);
int	 poke_send_type_only(void *, const struct poke_case *);
int	 poke_send_ping(void *, const struct poke_case *);
int	 poke_send_truncated(void *, const struct poke_case *);
int	 poke_send_oversized(void *, const struct poke_case *);
int	 poke_send_oversized_payload(void *, const struct poke_case *);
int	 poke_send_chunk_put_bogus(void *, const struct poke_case *);
int	 poke_send_stream_open_bogus(void *, const struct poke_case *);
int	 poke_send_chunk_read_bogus(void *, const struct poke_case *);

/* kf-poke-cases.c */
extern const struct poke_case	poke_cases[];	/* every --case, in --help order */
extern const size_t		poke_ncases;	/* rows of poke_cases[] */
int	 poke_send_hello(void *, const struct poke_case *);

#endif /* KF_POKE_H */
