// SPDX-License-Identifier: GPL-2.0
/*
 * ctnetlink requests and events for ftpxd.
 *
 * The expectation is built by libnetfilter_conntrack (nfexp_nlmsg_build),
 * which in 1.0.9 leaves out CTA_EXPECT_CLASS, CTA_EXPECT_FN and
 * CTA_EXPECT_NAT even when they are set; they are appended here with
 * libmnl. On create the kernel takes timeout and max_expected from the
 * master helper's policy for the class, so CTA_EXPECT_TIMEOUT is not sent.
 * The class is only honoured together with CTA_EXPECT_HELP_NAME.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/time.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "ctnl.h"

#define CT_BUF	16384
/* room for the largest request built here (an IPv6 expectation with its
 * NAT tuple is under 400 bytes), and for one answer: a conntrack entry
 * comes in at most NLMSG_DEFAULT_SIZE, an error with CAP_ACK is small */
#define REQ_MAX		1024
#define RX_SLOT		8192
#define EV_SLOT		4096
#define TX_LIMIT	(FTPX_CTNL_BATCH * REQ_MAX)
/* the answers of a whole batch queue up before ftpxd reads them: a found
 * entry takes a page-sized skb each, more than the default buffer holds
 * for 64 of them */
#define RCVBUF		(4 << 20)

/* enum ip_conntrack_dir is not in the uapi headers */
#define DIR_ORIGINAL	0

int ftpx_ctnl_open(struct ftpx_ctnl *c)
{
	int one = 1, size = RCVBUF;

	memset(c, 0, sizeof(*c));
	/* a batch may overflow its limit by one message: twice the room */
	c->tx = calloc(2, TX_LIMIT);
	c->rx = malloc((size_t)FTPX_CTNL_BATCH * RX_SLOT);
	c->b = c->tx ? mnl_nlmsg_batch_start(c->tx, TX_LIMIT) : NULL;
	if (!c->rx || !c->b) {
		snprintf(c->err, sizeof(c->err), "ctnetlink: out of memory");
		ftpx_ctnl_close(c);
		return -1;
	}
	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl || mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(c->err, sizeof(c->err), "ctnetlink: %s",
			 strerror(errno));
		ftpx_ctnl_close(c);
		return -1;
	}
	if (setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVBUF,
			   &size, sizeof(size));
	/* the kernel's reason for a refusal comes as extack text */
	mnl_socket_setsockopt(c->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(c->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	/* requests are synchronous in a single-threaded daemon: a kernel that
	 * never answers must cost one request, not the event loop */
	{
		struct timeval tv = { .tv_sec = 5 };

		setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVTIMEO,
			   &tv, sizeof(tv));
	}
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);
	return 0;
}

void ftpx_ctnl_close(struct ftpx_ctnl *c)
{
	if (c->nl)
		mnl_socket_close(c->nl);
	c->nl = NULL;
	if (c->b)
		mnl_nlmsg_batch_stop(c->b);
	c->b = NULL;
	free(c->tx);
	free(c->rx);
	c->tx = c->rx = NULL;
}

/* ---- parsing -------------------------------------------------------- */

static int ip_cb(const struct nlattr *a, void *data)
{
	struct ftpx_tuple *t = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_IP_V4_SRC:
	case CTA_IP_V4_DST:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		t->family = AF_INET;
		memcpy(mnl_attr_get_type(a) == CTA_IP_V4_SRC ? t->src : t->dst,
		       mnl_attr_get_payload(a), 4);
		break;
	case CTA_IP_V6_SRC:
	case CTA_IP_V6_DST:
		if (mnl_attr_validate2(a, MNL_TYPE_BINARY, 16) < 0)
			return MNL_CB_ERROR;
		t->family = AF_INET6;
		memcpy(mnl_attr_get_type(a) == CTA_IP_V6_SRC ? t->src : t->dst,
		       mnl_attr_get_payload(a), 16);
		break;
	}
	return MNL_CB_OK;
}

static int proto_cb(const struct nlattr *a, void *data)
{
	struct ftpx_tuple *t = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_PROTO_NUM:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			return MNL_CB_ERROR;
		t->proto = mnl_attr_get_u8(a);
		break;
	case CTA_PROTO_SRC_PORT:
	case CTA_PROTO_DST_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		if (mnl_attr_get_type(a) == CTA_PROTO_SRC_PORT)
			t->sport = ntohs(mnl_attr_get_u16(a));
		else
			t->dport = ntohs(mnl_attr_get_u16(a));
		break;
	}
	return MNL_CB_OK;
}

static int tuple_cb(const struct nlattr *a, void *data)
{
	switch (mnl_attr_get_type(a)) {
	case CTA_TUPLE_IP:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(a, ip_cb, data);
	case CTA_TUPLE_PROTO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(a, proto_cb, data);
	}
	return MNL_CB_OK;
}

static int parse_tuple(const struct nlattr *a, struct ftpx_tuple *t)
{
	memset(t, 0, sizeof(*t));
	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 ||
	    mnl_attr_parse_nested(a, tuple_cb, t) < 0 || !t->family)
		return -1;
	return 0;
}

static int help_cb(const struct nlattr *a, void *data)
{
	struct ftpx_ct *ct = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_HELP_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		snprintf(ct->helper, sizeof(ct->helper), "%s",
			 mnl_attr_get_str(a));
		break;
	case CTA_HELP_INFO:
		/* a shorter payload is another helper's or an older ABI */
		if (mnl_attr_get_payload_len(a) < sizeof(ct->info))
			break;
		memcpy(&ct->info, mnl_attr_get_payload(a), sizeof(ct->info));
		ct->has_info = 1;
		break;
	}
	return MNL_CB_OK;
}

static int ct_attr_cb(const struct nlattr *a, void *data)
{
	struct ftpx_ct *ct = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_TUPLE_ORIG:
		return parse_tuple(a, &ct->orig) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	case CTA_TUPLE_REPLY:
		return parse_tuple(a, &ct->reply) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	case CTA_STATUS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		ct->status = ntohl(mnl_attr_get_u32(a));
		break;
	case CTA_ZONE:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		ct->zone = ntohs(mnl_attr_get_u16(a));
		break;
	case CTA_HELP:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(a, help_cb, ct);
	}
	return MNL_CB_OK;
}

int ftpx_ct_parse(const struct nlmsghdr *nlh, struct ftpx_ct *out)
{
	memset(out, 0, sizeof(*out));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), ct_attr_cb, out) < 0 ||
	    !out->orig.family || !out->reply.family)
		return -1;
	return 0;
}

static int exp_attr_cb(const struct nlattr *a, void *data)
{
	struct ftpx_exp *e = data;

	switch (mnl_attr_get_type(a)) {
	case CTA_EXPECT_MASTER:
		return parse_tuple(a, &e->master) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	case CTA_EXPECT_TUPLE:
		return parse_tuple(a, &e->tuple) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	case CTA_EXPECT_TIMEOUT:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		e->timeout = ntohl(mnl_attr_get_u32(a));
		break;
	case CTA_EXPECT_CLASS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		e->class = ntohl(mnl_attr_get_u32(a));
		e->has_class = 1;
		break;
	case CTA_EXPECT_HELP_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		snprintf(e->helper, sizeof(e->helper), "%s",
			 mnl_attr_get_str(a));
		break;
	}
	return MNL_CB_OK;
}

int ftpx_exp_parse(const struct nlmsghdr *nlh, struct ftpx_exp *out)
{
	memset(out, 0, sizeof(*out));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), exp_attr_cb, out) < 0 ||
	    !out->tuple.family)
		return -1;
	return 0;
}

/* ---- requests ------------------------------------------------------- */

static struct nlmsghdr *put_hdr(char *buf, uint16_t type, uint16_t flags,
				uint32_t seq, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static void put_tuple(struct nlmsghdr *nlh, int type,
		      const struct ftpx_tuple *t)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type), *ip, *pr;

	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (t->family == AF_INET) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, t->src);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, t->dst);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, t->src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, t->dst);
	}
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, n);
}

/* @data: a char[FTPX_CTNL_ERR] for the kernel's extack text */
static int err_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(data, FTPX_CTNL_ERR, "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

struct tx {
	struct ftpx_ctnl *c;
	mnl_cb_t cb;
	void *data;
	int error;
};

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct tx *t = data;
	unsigned int off = sizeof(*e);
	char reason[sizeof(t->c->err)];

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return MNL_CB_ERROR;
	if (e->error == 0)
		return MNL_CB_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	t->c->err[0] = 0;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, off, err_attr_cb, t->c->err);
	memcpy(reason, t->c->err, sizeof(reason));
	snprintf(t->c->err, sizeof(t->c->err), "%.60s%s%.180s",
		 strerror(-e->error), reason[0] ? ": " : "", reason);
	t->error = -e->error;
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tx *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

/* Send one request, run cb on each reply until the ACK or DONE. Returns
 * 0 or -errno. */
static int transact(struct ftpx_ctnl *c, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	struct tx t = { c, cb, data, 0 };
	char *buf;
	int ret;

	c->err[0] = 0;
	/* a dump ends with NLMSG_DONE; anything else with its ACK */
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0) {
		snprintf(c->err, sizeof(c->err), "send: %s", strerror(errno));
		return -errno;
	}
	buf = malloc(CT_BUF);
	if (!buf)
		return -ENOMEM;
	do {
		ret = mnl_socket_recvfrom(c->nl, buf, CT_BUF);
		if (ret < 0) {
			t.error = errno;
			snprintf(c->err, sizeof(c->err), "recv: %s",
				 strerror(errno));
			break;
		}
		ret = mnl_cb_run2(buf, ret, nlh->nlmsg_seq, c->portid,
				  data_cb, &t, ctl, NLMSG_MIN_TYPE);
		/* the late answer to a request that timed out: not ours */
		if (ret < 0 && errno == EPROTO && !t.error)
			ret = 1;
	} while (ret > 0);
	free(buf);
	if (ret < 0 && !t.error) {
		t.error = errno ? errno : EPROTO;
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "%s",
				 strerror(t.error));
	}
	return ret < 0 ? -t.error : 0;
}

static void set_tuple(struct nf_conntrack *o, int family, const uint8_t *src,
		      const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	nfct_set_attr_u8(o, ATTR_L3PROTO, (uint8_t)family);
	if (family == AF_INET) {
		nfct_set_attr(o, ATTR_IPV4_SRC, src);
		nfct_set_attr(o, ATTR_IPV4_DST, dst);
	} else {
		nfct_set_attr(o, ATTR_IPV6_SRC, src);
		nfct_set_attr(o, ATTR_IPV6_DST, dst);
	}
	nfct_set_attr_u8(o, ATTR_L4PROTO, IPPROTO_TCP);
	nfct_set_attr_u16(o, ATTR_PORT_SRC, htons(sport));
	nfct_set_attr_u16(o, ATTR_PORT_DST, htons(dport));
}

struct nlmsghdr *ftpx_exp_build(char *buf, uint32_t seq,
				const struct ftpx_ct *m, uint16_t port)
{
	static const uint8_t ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct ftpx_tuple *o = &m->orig, *r = &m->reply;
	struct nf_conntrack *master, *exp_t, *mask;
	struct nlmsghdr *nlh = NULL;
	struct nf_expect *exp;
	int family = o->family;

	master = nfct_new();
	exp_t = nfct_new();
	mask = nfct_new();
	exp = nfexp_new();
	if (!master || !exp_t || !mask || !exp)
		goto out;
	set_tuple(master, family, o->src, o->dst, o->sport, o->dport);
	/* from the client, any source port, to where it sent the control
	 * connection (the public address on a DNAT router), on @port */
	set_tuple(exp_t, family, o->src, o->dst, 0, port);
	set_tuple(mask, family, ones, ones, 0, 0xffff);
	nfexp_set_attr(exp, ATTR_EXP_MASTER, master);
	nfexp_set_attr(exp, ATTR_EXP_EXPECTED, exp_t);
	nfexp_set_attr(exp, ATTR_EXP_MASK, mask);
	/* the data connection gets helper "ftpx" like the helper's own
	 * expectations, so `ct helper "ftpx"` rules admit it */
	nfexp_set_attr(exp, ATTR_EXP_HELPER_NAME, FTPX_HELPER);
	if (m->zone)
		nfexp_set_attr_u16(exp, ATTR_EXP_ZONE, m->zone);

	nlh = put_hdr(buf, NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_NEW,
		      NLM_F_CREATE, seq, family);
	if (nfexp_nlmsg_build(nlh, exp) < 0) {
		nlh = NULL;
		goto out;
	}
	/* what 1.0.9 drops: appended by hand */
	mnl_attr_put_u32(nlh, CTA_EXPECT_CLASS, htonl(FTPX_CLASS_HINT));
	if (ftpx_ct_nat(m)) {
		struct ftpx_tuple nat = {
			.family = family,
			.proto = IPPROTO_TCP,
			/* the port the server listens on: the source port
			 * of the NAT tuple (the kernel keeps src.u there) */
			.sport = port,
		};
		struct nlattr *n;

		/* the server's real address, as the master's reply has it */
		memcpy(nat.src, r->src, 16);
		memcpy(nat.dst, r->dst, 16);
		mnl_attr_put_strz(nlh, CTA_EXPECT_FN, FTPX_EXPECTFN);
		n = mnl_attr_nest_start(nlh, CTA_EXPECT_NAT);
		/* the data connection goes the master's original way */
		mnl_attr_put_u32(nlh, CTA_EXPECT_NAT_DIR, htonl(DIR_ORIGINAL));
		put_tuple(nlh, CTA_EXPECT_NAT_TUPLE, &nat);
		mnl_attr_nest_end(nlh, n);
	}
out:
	if (exp)
		nfexp_destroy(exp);
	if (master)
		nfct_destroy(master);
	if (exp_t)
		nfct_destroy(exp_t);
	if (mask)
		nfct_destroy(mask);
	return nlh;
}

int ftpx_ct_nat(const struct ftpx_ct *ct)
{
	return !!(ct->status & IPS_NAT_MASK);
}

/* ---- batches -------------------------------------------------------- */

void ftpx_ctnl_begin(struct ftpx_ctnl *c)
{
	mnl_nlmsg_batch_reset(c->b);
	c->n = 0;
	c->seq0 = c->seq + 1;
}

/* The next request's slot and a zeroed buffer for it (libmnl 1.0.4
 * leaves attribute padding as it finds it); NULL when the batch is full. */
static struct ftpx_nlreq *next_req(struct ftpx_ctnl *c, char **buf)
{
	struct ftpx_nlreq *r;

	if (c->n == FTPX_CTNL_BATCH)
		return NULL;
	r = &c->req[c->n];
	memset(r, 0, sizeof(*r));
	*buf = mnl_nlmsg_batch_current(c->b);
	memset(*buf, 0, REQ_MAX);
	return r;
}

int ftpx_ctnl_add_ct_get(struct ftpx_ctnl *c, const struct ftpx_tuple *t,
			 int reply, struct ftpx_ct *out)
{
	struct ftpx_nlreq *r;
	struct nlmsghdr *nlh;
	char *buf;

	r = next_req(c, &buf);
	if (!r)
		return -1;
	nlh = put_hdr(buf, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET,
		      NLM_F_ACK, ++c->seq, t->family);
	put_tuple(nlh, reply ? CTA_TUPLE_REPLY : CTA_TUPLE_ORIG, t);
	memset(out, 0, sizeof(*out));
	r->ct = out;
	mnl_nlmsg_batch_next(c->b);
	return c->n++;
}

int ftpx_ctnl_add_exp(struct ftpx_ctnl *c, const struct ftpx_ct *m,
		      uint16_t port)
{
	struct ftpx_nlreq *r;
	struct nlmsghdr *nlh;
	char *buf;

	r = next_req(c, &buf);
	if (!r)
		return -1;
	nlh = ftpx_exp_build(buf, ++c->seq, m, port);
	if (!nlh || nlh->nlmsg_len > REQ_MAX) {
		/* answered already: nothing of it is sent */
		r->done = 1;
		r->error = ENOMEM;
		snprintf(r->err, sizeof(r->err), "cannot build the request");
		return c->n++;
	}
	nlh->nlmsg_flags |= NLM_F_ACK;
	mnl_nlmsg_batch_next(c->b);
	return c->n++;
}

static void req_fail(struct ftpx_nlreq *r, int error, const char *what)
{
	r->done = 1;
	r->error = error;
	snprintf(r->err, sizeof(r->err), "%s%s%s", what, *what ? ": " : "",
		 strerror(error));
}

/* An ACK (error 0) or a refusal with the kernel's extack text. */
static void req_answer(struct ftpx_nlreq *r, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*e);
	char reason[FTPX_CTNL_ERR] = "";

	r->done = 1;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		req_fail(r, EPROTO, "");
		return;
	}
	if (e->error == 0)
		return;	/* an error seen in the reply before it stays */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, off, err_attr_cb, reason);
	snprintf(r->err, sizeof(r->err), "%.60s%s%.180s", strerror(-e->error),
		 reason[0] ? ": " : "", reason);
	r->error = -e->error;
}

/* One datagram of answers; returns how many requests it completed. */
static int take_answers(struct ftpx_ctnl *c, const char *buf, int len)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	int done = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		uint32_t i = nlh->nlmsg_seq - c->seq0;
		struct ftpx_nlreq *r;

		/* an answer to an earlier batch that timed out: not ours */
		if (i >= (uint32_t)c->n || nlh->nlmsg_pid != c->portid)
			continue;
		r = &c->req[i];
		if (r->done)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			req_answer(r, nlh);
			done++;
		} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && r->ct &&
			   ftpx_ct_parse(nlh, r->ct) < 0) {
			r->error = EPROTO;
			snprintf(r->err, sizeof(r->err), "%s", strerror(EPROTO));
		}
	}
	return done;
}

/* An answer larger than its slot (none should be): its request fails
 * rather than waiting for the timeout. */
static int truncated(struct ftpx_ctnl *c, const char *buf, unsigned int len)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	uint32_t i;

	if (len < sizeof(*nlh))
		return 0;
	i = nlh->nlmsg_seq - c->seq0;
	if (i >= (uint32_t)c->n || c->req[i].done)
		return 0;
	req_fail(&c->req[i], EMSGSIZE, "recv");
	return 1;
}

int ftpx_ctnl_commit(struct ftpx_ctnl *c)
{
	struct mmsghdr mm[FTPX_CTNL_BATCH];
	struct iovec iov[FTPX_CTNL_BATCH];
	int fd = mnl_socket_get_fd(c->nl), pending = 0, lost = 0, i, k;

	for (i = 0; i < c->n; i++)
		pending += !c->req[i].done;
	if (!pending)
		return 0;
	if (mnl_socket_sendto(c->nl, mnl_nlmsg_batch_head(c->b),
			      mnl_nlmsg_batch_size(c->b)) < 0) {
		k = errno;
		for (i = 0; i < c->n; i++)
			if (!c->req[i].done)
				req_fail(&c->req[i], k, "send");
		return -k;
	}
	for (i = 0; i < FTPX_CTNL_BATCH; i++) {
		iov[i].iov_base = c->rx + (size_t)i * RX_SLOT;
		iov[i].iov_len = RX_SLOT;
	}
	while (pending > 0) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < FTPX_CTNL_BATCH; i++) {
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		/* the kernel has answered the whole batch before sendmsg
		 * returned; SO_RCVTIMEO bounds the wait if it has not */
		k = recvmmsg(fd, mm, FTPX_CTNL_BATCH,
			     lost ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == ENOBUFS && !lost) {
			/* some answers were dropped: take what is queued,
			 * the rest will not come */
			lost = ENOBUFS;
			continue;
		}
		if (k <= 0) {
			k = lost ? lost : errno;
			break;
		}
		for (i = 0; i < k; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				pending -= truncated(c, iov[i].iov_base,
						     mm[i].msg_len);
			else
				pending -= take_answers(c, iov[i].iov_base,
							(int)mm[i].msg_len);
		}
		k = 0;
	}
	if (pending) {
		for (i = 0; i < c->n; i++)
			if (!c->req[i].done)
				req_fail(&c->req[i], k ? k : EPROTO, "recv");
		return -(k ? k : EPROTO);
	}
	return 0;
}

struct dump_ctx {
	int (*cb)(const struct ftpx_exp *e, void *data);
	void *data;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct ftpx_exp e;

	if (ftpx_exp_parse(nlh, &e) < 0)
		return MNL_CB_OK;	/* not ours to judge: skip it */
	return d->cb(&e, d->data) ? MNL_CB_STOP : MNL_CB_OK;
}

int ftpx_exp_dump(struct ftpx_ctnl *c, int (*cb)(const struct ftpx_exp *e,
						 void *data), void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct dump_ctx d = { cb, data };
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = put_hdr(buf, NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_GET,
		      NLM_F_DUMP, ++c->seq, AF_UNSPEC);
	return transact(c, nlh, dump_cb, &d);
}

/* ---- events --------------------------------------------------------- */

int ftpx_ctev_open(struct mnl_socket **out, unsigned int rcvbuf)
{
	unsigned int groups[] = { NFNLGRP_CONNTRACK_EXP_NEW,
				  NFNLGRP_CONNTRACK_EXP_DESTROY };
	struct mnl_socket *nl;
	int fd, size = (int)rcvbuf;
	size_t i;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP,
					  &groups[i], sizeof(groups[i])) < 0)
			goto fail;
	fd = mnl_socket_get_fd(nl);
	/* bursts (a gate range opening) must not overflow a default buffer;
	 * FORCE needs CAP_NET_ADMIN, plain RCVBUF is capped by rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*out = nl;
	return 0;
fail:
	i = errno;
	mnl_socket_close(nl);
	return -(int)i;
}

struct ev_ctx {
	void (*cb)(int type, const struct ftpx_exp *e, void *data);
	void *data;
};

static int ev_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_ctx *x = data;
	struct ftpx_exp e;
	int type;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK_EXP)
		return MNL_CB_OK;
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case IPCTNL_MSG_EXP_NEW:
		type = 1;
		break;
	case IPCTNL_MSG_EXP_DELETE:
		type = 2;
		break;
	default:
		return MNL_CB_OK;
	}
	if (ftpx_exp_parse(nlh, &e) == 0)
		x->cb(type, &e, x->data);
	return MNL_CB_OK;
}

int ftpx_ctev_read(struct mnl_socket *nl, void (*cb)(int type,
		   const struct ftpx_exp *e, void *data), void *data)
{
	/* one event per datagram, and each hint makes one or two: read them
	 * FTPX_CTNL_BATCH at a time; an event fits its slot many times */
	static char buf[FTPX_CTNL_BATCH][EV_SLOT];
	struct mmsghdr mm[FTPX_CTNL_BATCH];
	struct iovec iov[FTPX_CTNL_BATCH];
	struct ev_ctx x = { cb, data };
	int fd = mnl_socket_get_fd(nl), i, k, ret = 0;

	for (i = 0; i < FTPX_CTNL_BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
	}
	for (;;) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < FTPX_CTNL_BATCH; i++) {
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		k = recvmmsg(fd, mm, FTPX_CTNL_BATCH, MSG_DONTWAIT, NULL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			ret = errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
			break;
		}
		for (i = 0; i < k; i++) {
			/* a cut event is a lost one: the caller resyncs */
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				ret = -ENOBUFS;
				continue;
			}
			/* events carry seq 0 and portid 0; a malformed
			 * batch is dropped whole, the next read goes on */
			mnl_cb_run(buf[i], mm[i].msg_len, 0, 0, ev_cb, &x);
		}
		if (ret < 0)
			break;
		if (k < FTPX_CTNL_BATCH)
			break;	/* drained */
	}
	return ret;
}
