// SPDX-License-Identifier: GPL-2.0
/*
 * Client side of the nf_ftpx generic netlink family, used by ftpxctl and
 * ftpxd. Every attribute the kernel sends is validated before it is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>

#include "genl.h"

static const char *const stat_names[FTPX_STAT_MAX] = {
	[FTPX_STAT_SESSIONS] = "sessions",
	[FTPX_STAT_LINES] = "lines",
	[FTPX_STAT_EXPECTS] = "expects",
	[FTPX_STAT_EXPECT_FAIL] = "expect_fail",
	[FTPX_STAT_REFUSED_BOUNCE] = "refused_bounce",
	[FTPX_STAT_REFUSED_LOWPORT] = "refused_lowport",
	[FTPX_STAT_REFUSED_BAD] = "refused_bad",
	[FTPX_STAT_REWRITES] = "rewrites",
	[FTPX_STAT_REWRITE_FAIL] = "rewrite_fail",
	[FTPX_STAT_SPLIT_LINES] = "split_lines",
	[FTPX_STAT_LONG_LINES] = "long_lines",
	[FTPX_STAT_TLS_EXPLICIT] = "tls_explicit",
	[FTPX_STAT_TLS_IMPLICIT] = "tls_implicit",
	[FTPX_STAT_TLS_CLEARED] = "tls_cleared",
	[FTPX_STAT_GATE_EXPECTS] = "gate_expects",
	[FTPX_STAT_GATE_REFUSED] = "gate_refused",
	[FTPX_STAT_GATE_COVERED] = "gate_covered",
	[FTPX_STAT_TLS_ADOPTED] = "tls_adopted",
	[FTPX_STAT_RETRANS] = "retrans",
	[FTPX_STAT_OOO] = "out_of_order",
	[FTPX_STAT_NOMEM] = "nomem",
};

const char *ftpx_stat_name(int i)
{
	return i >= 0 && i < FTPX_STAT_MAX && stat_names[i] ? stat_names[i] : "?";
}

const char *ftpx_mode_name(int m)
{
	static const char *const n[] = { "plain", "explicit-tls",
					 "implicit-tls", "cleared" };

	return m >= 0 && m < FTPX_MODE_MAX ? n[m] : "?";
}

int ftpx_parse_addr(const char *s, int *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

int ftpx_parse_prefix(const char *s, struct ftpx_prefix_cfg *p)
{
	char buf[INET6_ADDRSTRLEN + 5], *slash, *end;
	long len;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (ftpx_parse_addr(buf, &p->family, p->addr))
		return -1;
	len = p->family == AF_INET ? 32 : 128;
	if (slash) {
		long max = len;

		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || len < 0 || len > max)
			return -1;
	}
	p->len = (uint8_t)len;
	return 0;
}

static struct nlmsghdr *msg_start(struct ftpx_genl *g, char *buf,
				  uint16_t type, uint16_t flags, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++g->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = FTPX_GENL_VERSION;
	return nlh;
}

struct tx {
	struct ftpx_genl *g;
	mnl_cb_t cb;
	void *data;
};

static int err_attr_cb(const struct nlattr *a, void *data)
{
	struct ftpx_genl *g = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(g->err, sizeof(g->err), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: keep the kernel's extack reason next to the errno. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct ftpx_genl *g = ((struct tx *)data)->g;
	unsigned int off = sizeof(*e);
	char reason[sizeof(g->err)];

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return MNL_CB_ERROR;
	if (e->error == 0)
		return MNL_CB_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	g->err[0] = 0;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, off, err_attr_cb, g);
	memcpy(reason, g->err, sizeof(reason));
	snprintf(g->err, sizeof(g->err), "%.40s%s%.200s", strerror(-e->error),
		 reason[0] ? ": " : "", reason);
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tx *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

/* Send, then read replies until the ACK; errors keep the extack text. */
static int transact(struct ftpx_genl *g, struct nlmsghdr *nlh,
		    mnl_cb_t cb, void *data)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
	};
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	struct tx t = { g, cb, data };
	int ret;

	g->err[0] = 0;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0) {
		snprintf(g->err, sizeof(g->err), "send: %s", strerror(errno));
		return -1;
	}
	do {
		ret = mnl_socket_recvfrom(g->nl, buf, sizeof(buf));
		if (ret < 0) {
			snprintf(g->err, sizeof(g->err), "recv: %s",
				 strerror(errno));
			return -1;
		}
		ret = mnl_cb_run2(buf, ret, nlh->nlmsg_seq, g->portid,
				  data_cb, &t, ctl, NLMSG_MIN_TYPE);
	} while (ret > 0);
	if (ret < 0 && !g->err[0])
		snprintf(g->err, sizeof(g->err), "%s", strerror(errno));
	return ret < 0 ? -1 : 0;
}

static int family_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, CTRL_ATTR_MAX) < 0)
		return MNL_CB_OK;
	if (type == CTRL_ATTR_FAMILY_ID && mnl_attr_validate(a, MNL_TYPE_U16) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1] = {};
	uint16_t *id = data;

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, tb);
	if (tb[CTRL_ATTR_FAMILY_ID])
		*id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return MNL_CB_OK;
}

int ftpx_genl_open(struct ftpx_genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(g, 0, sizeof(*g));
	g->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!g->nl || mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(g->err, sizeof(g->err), "netlink: %s", strerror(errno));
		return -1;
	}
	g->portid = mnl_socket_get_portid(g->nl);
	{
		int one = 1;

		/* extack: the kernel says why it refused */
		mnl_socket_setsockopt(g->nl, NETLINK_EXT_ACK, &one, sizeof(one));
		mnl_socket_setsockopt(g->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	}
	g->seq = (uint32_t)time(NULL);
	nlh = msg_start(g, buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, FTPX_GENL_NAME);
	if (transact(g, nlh, family_cb, &g->family_id) < 0 || !g->family_id) {
		snprintf(g->err, sizeof(g->err),
			 "generic netlink family \"%s\" not found: is nf_ftpx loaded?",
			 FTPX_GENL_NAME);
		return -1;
	}
	return 0;
}

void ftpx_genl_close(struct ftpx_genl *g)
{
	if (g->nl)
		mnl_socket_close(g->nl);
	g->nl = NULL;
}

static int stats_attr_cb(const struct nlattr *a, void *data)
{
	uint64_t *out = data;
	int type = mnl_attr_get_type(a);

	if (type < 1 || type > FTPX_STAT_MAX)
		return MNL_CB_OK;	/* a newer module: skip what we don't know */
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return MNL_CB_ERROR;
	out[type - 1] = mnl_attr_get_u64(a);
	return MNL_CB_OK;
}

static int stats_top_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) != FTPX_A_STATS)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return MNL_CB_ERROR;
	return mnl_attr_parse_nested(a, stats_attr_cb, data);
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), stats_top_cb,
			      data);
}

int ftpx_genl_stats(struct ftpx_genl *g, uint64_t out[FTPX_STAT_MAX])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	memset(out, 0, sizeof(uint64_t) * FTPX_STAT_MAX);
	return transact(g, msg_start(g, buf, g->family_id, 0,
				     FTPX_CMD_GET_STATS), stats_cb, out);
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

int ftpx_genl_set_server(struct ftpx_genl *g, const struct ftpx_server_cfg *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg_start(g, buf, g->family_id, 0,
					 FTPX_CMD_SET_SERVER);
	struct nlattr *nest, *pl;
	int i;

	nest = mnl_attr_nest_start(nlh, FTPX_A_SERVER);
	mnl_attr_put(nlh, FTPX_S_ADDR, alen(s->family), s->addr);
	if (s->pasv_min) {
		mnl_attr_put_u16(nlh, FTPX_S_PASV_MIN, s->pasv_min);
		mnl_attr_put_u16(nlh, FTPX_S_PASV_MAX, s->pasv_max);
	}
	if (s->has_masq)
		mnl_attr_put(nlh, FTPX_S_MASQ, alen(s->family), s->masq);
	if (s->n_internal) {
		pl = mnl_attr_nest_start(nlh, FTPX_S_INTERNAL);
		for (i = 0; i < s->n_internal; i++) {
			const struct ftpx_prefix_cfg *p = &s->internal[i];
			struct nlattr *e = mnl_attr_nest_start(nlh, i + 1);
			uint8_t b[17];

			memcpy(b, p->addr, alen(p->family));
			b[alen(p->family)] = p->len;
			mnl_attr_put(nlh, FTPX_P_PREFIX, alen(p->family) + 1, b);
			mnl_attr_nest_end(nlh, e);
		}
		mnl_attr_nest_end(nlh, pl);
	}
	mnl_attr_nest_end(nlh, nest);
	return transact(g, nlh, NULL, NULL);
}

int ftpx_genl_del_server(struct ftpx_genl *g, int family, const uint8_t *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg_start(g, buf, g->family_id, 0,
					 FTPX_CMD_DEL_SERVER);
	struct nlattr *nest = mnl_attr_nest_start(nlh, FTPX_A_SERVER);

	mnl_attr_put(nlh, FTPX_S_ADDR, alen(family), addr);
	mnl_attr_nest_end(nlh, nest);
	return transact(g, nlh, NULL, NULL);
}

int ftpx_genl_flush(struct ftpx_genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return transact(g, msg_start(g, buf, g->family_id, 0, FTPX_CMD_FLUSH),
			NULL, NULL);
}

struct servers_ctx {
	void (*cb)(const struct ftpx_server_cfg *, void *);
	void *data;
	struct ftpx_server_cfg cur;
};

static int prefix_cb(const struct nlattr *a, void *data)
{
	struct servers_ctx *c = data;
	struct ftpx_prefix_cfg *p;
	size_t n;

	if (mnl_attr_get_type(a) != FTPX_P_PREFIX)
		return MNL_CB_OK;
	n = mnl_attr_get_payload_len(a);
	if ((n != 5 && n != 17) || c->cur.n_internal >= FTPX_MAX_INTERNAL)
		return MNL_CB_ERROR;
	p = &c->cur.internal[c->cur.n_internal++];
	p->family = n == 5 ? AF_INET : AF_INET6;
	memcpy(p->addr, mnl_attr_get_payload(a), n - 1);
	p->len = ((const uint8_t *)mnl_attr_get_payload(a))[n - 1];
	return MNL_CB_OK;
}

static int prefix_list_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return MNL_CB_ERROR;
	return mnl_attr_parse_nested(a, prefix_cb, data);
}

static int server_attr_cb(const struct nlattr *a, void *data)
{
	struct servers_ctx *c = data;
	size_t n = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case FTPX_S_ADDR:
		if (n != 4 && n != 16)
			return MNL_CB_ERROR;
		c->cur.family = n == 4 ? AF_INET : AF_INET6;
		memcpy(c->cur.addr, mnl_attr_get_payload(a), n);
		break;
	case FTPX_S_PASV_MIN:
	case FTPX_S_PASV_MAX:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		if (mnl_attr_get_type(a) == FTPX_S_PASV_MIN)
			c->cur.pasv_min = mnl_attr_get_u16(a);
		else
			c->cur.pasv_max = mnl_attr_get_u16(a);
		break;
	case FTPX_S_MASQ:
		if (n != 4 && n != 16)
			return MNL_CB_ERROR;
		c->cur.has_masq = 1;
		memcpy(c->cur.masq, mnl_attr_get_payload(a), n);
		break;
	case FTPX_S_INTERNAL:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		return mnl_attr_parse_nested(a, prefix_list_cb, c);
	}
	return MNL_CB_OK;
}

static int servers_top_cb(const struct nlattr *a, void *data)
{
	struct servers_ctx *c = data;

	if (mnl_attr_get_type(a) != FTPX_A_SERVER)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return MNL_CB_ERROR;
	memset(&c->cur, 0, sizeof(c->cur));
	if (mnl_attr_parse_nested(a, server_attr_cb, c) < 0)
		return MNL_CB_ERROR;
	c->cb(&c->cur, c->data);
	return MNL_CB_OK;
}

static int servers_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), servers_top_cb,
			      data);
}

int ftpx_genl_servers(struct ftpx_genl *g,
		      void (*cb)(const struct ftpx_server_cfg *, void *),
		      void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct servers_ctx c = { .cb = cb, .data = data };

	return transact(g, msg_start(g, buf, g->family_id, 0,
				     FTPX_CMD_GET_SERVERS), servers_cb, &c);
}
