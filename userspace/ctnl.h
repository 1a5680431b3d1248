/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctnetlink for ftpxd: look up control connections, create the hint
 * expectations (both in batches), and follow expectation events (with a dump to resync after
 * a restart or a lost event). Replies and events are parsed here with
 * libmnl, each attribute validated before it is read.
 */
#ifndef FTPX_CTNL_H
#define FTPX_CTNL_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "../nf_ftpx/uapi_nf_ftpx.h"

#define FTPX_HELPER		"ftpx"
#define FTPX_CLASS_HINT		2	/* the helper's "ftpx-hint" policy */
#define FTPX_EXPECTFN		"nat-follow-master"

struct ftpx_tuple {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	uint8_t proto;
	uint16_t sport, dport;	/* host order */
};

struct ftpx_ct {
	struct ftpx_tuple orig, reply;
	uint32_t status;
	uint16_t zone;
	char helper[32];	/* empty: none */
	int has_info;
	struct ftpx_help_info info;
};

struct ftpx_exp {
	struct ftpx_tuple master, tuple;
	uint32_t timeout;	/* seconds left */
	uint32_t class;
	int has_class;
	char helper[32];
};

/* Requests go out in batches: built one after another in one buffer, sent
 * with one sendmsg, answered each by its own ACK or error (matched by
 * sequence number), so a batch of hints costs two round trips, not two
 * per hint. */
#define FTPX_CTNL_BATCH		64
#define FTPX_CTNL_ERR		256

struct ftpx_nlreq {
	struct ftpx_ct *ct;	/* conntrack lookup: the entry goes here */
	int error;		/* 0, or the errno of the refusal */
	int done;
	char err[FTPX_CTNL_ERR];	/* the error with the kernel's reason */
};

struct ftpx_ctnl {
	struct mnl_socket *nl;
	uint32_t seq, portid;
	char err[FTPX_CTNL_ERR];	/* last error with the kernel's reason */
	char *tx, *rx;		/* batch buffers */
	struct mnl_nlmsg_batch *b;
	uint32_t seq0;		/* of the batch's first request */
	int n;			/* requests in the batch */
	struct ftpx_nlreq req[FTPX_CTNL_BATCH];
};

int ftpx_ctnl_open(struct ftpx_ctnl *c);
void ftpx_ctnl_close(struct ftpx_ctnl *c);

/* A batch: ftpx_ctnl_begin, then up to FTPX_CTNL_BATCH requests (each
 * add returns its index in c->req, or -1 when the batch is full), then
 * ftpx_ctnl_commit, after which every c->req[i] holds its answer. The
 * commit returns 0, or -errno when the batch could not be sent or its
 * answers stopped coming (the requests left carry that error). */
void ftpx_ctnl_begin(struct ftpx_ctnl *c);
/* The conntrack entry one of whose tuples (the reply one with @reply) is
 * @t (TCP) goes to @out; none: error ENOENT. */
int ftpx_ctnl_add_ct_get(struct ftpx_ctnl *c, const struct ftpx_tuple *t,
			 int reply, struct ftpx_ct *out);
/* Expect a TCP connection from @m's client to the address it connected to,
 * on @port, class "ftpx-hint", helper "ftpx"; when @m is NATed the data
 * connection follows it (DNAT to the server's real address, same port). */
int ftpx_ctnl_add_exp(struct ftpx_ctnl *c, const struct ftpx_ct *m,
		      uint16_t port);
int ftpx_ctnl_commit(struct ftpx_ctnl *c);

/* Is the entry NATed (source or destination)? */
int ftpx_ct_nat(const struct ftpx_ct *ct);

/* Dump every expectation; cb returns 0 to go on. */
int ftpx_exp_dump(struct ftpx_ctnl *c, int (*cb)(const struct ftpx_exp *e,
						 void *data), void *data);

/* Expectation events (new, destroy) on their own socket. */
int ftpx_ctev_open(struct mnl_socket **nl, unsigned int rcvbuf);
/* Read what is queued (non-blocking). cb(type, exp): type 1 new,
 * 2 destroy. Returns 0 when drained, -ENOBUFS when events were lost (the
 * caller resyncs with a dump), other -errno on failure. */
int ftpx_ctev_read(struct mnl_socket *nl, void (*cb)(int type,
		   const struct ftpx_exp *e, void *data), void *data);

/* Parsers, exposed for the unit tests. */
int ftpx_ct_parse(const struct nlmsghdr *nlh, struct ftpx_ct *out);
int ftpx_exp_parse(const struct nlmsghdr *nlh, struct ftpx_exp *out);
/* Builds the whole IPCTNL_MSG_EXP_NEW request into @buf. */
struct nlmsghdr *ftpx_exp_build(char *buf, uint32_t seq,
				const struct ftpx_ct *m, uint16_t port);

#endif
