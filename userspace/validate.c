// SPDX-License-Identifier: GPL-2.0
/*
 * Validation: a hint only describes what the server host believes; the
 * router believes its own conntrack table. The control connection must be
 * there (looked up by exactly the tuple the server sees, i.e. the entry's
 * reply direction), carry helper "ftpx", and be encrypted (a cleartext
 * session is handled by the helper itself, and a hint must not widen it);
 * the sender must be allowed to speak for that server; the port must be
 * within the server's allowance.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "ftpxd.h"

static int same_addr(int family, const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, family == AF_INET ? 4 : 16);
}

static int agent_allowed(const struct ftpx_conf_server *s,
			 const struct ftpxd_src *src)
{
	int i;

	if (src->kind != FTPXD_SRC_UDP || !s || !s->n_agents)
		return 1;
	for (i = 0; i < s->n_agents; i++)
		if (s->agents[i].family == src->family &&
		    same_addr(src->family, s->agents[i].addr, src->addr))
			return 1;
	return 0;
}

int ftpxd_validate_hint(struct ftpxd *d, const struct ftpx_hint *h,
			const struct ftpxd_src *src, struct ftpx_tuple *t,
			char *detail, size_t len)
{
	int family = h->family == 4 ? AF_INET : AF_INET6;
	const struct ftpx_conf_server *srv;

	detail[0] = 0;
	if (h->flags & FTPX_HINT_F_UNMAPPED) {
		snprintf(detail, len, "%u control connections in the listener's process",
			 h->candidates);
		return FTPX_V_UNMAPPED;
	}
	srv = ftpx_conf_find(&d->conf, family, h->server);
	if (!agent_allowed(srv, src)) {
		snprintf(detail, len, "sender is not among the server's agents");
		return FTPX_V_AGENT;
	}

	/* the server's view: from it, to the client */
	memset(t, 0, sizeof(*t));
	t->family = family;
	t->proto = IPPROTO_TCP;
	memcpy(t->src, h->server, 16);
	memcpy(t->dst, h->client, 16);
	t->sport = h->sport;
	t->dport = h->cport;
	return FTPXD_V_PENDING;
}

int ftpxd_validate_ct(struct ftpxd *d, const struct ftpx_hint *h,
		      const struct ftpx_ct *ct, int error, const char *err,
		      char *detail, size_t len)
{
	int family = h->family == 4 ? AF_INET : AF_INET6;
	const struct ftpx_conf_server *srv;
	const struct ftpx_ranges *allow;

	detail[0] = 0;
	if (error == ENOENT) {
		snprintf(detail, len, "no such connection in conntrack");
		return FTPX_V_NO_CONNTRACK;
	}
	if (error) {
		snprintf(detail, len, "conntrack lookup: %.100s", err);
		return FTPX_V_NO_CONNTRACK;
	}
	if (strcmp(ct->helper, FTPX_HELPER)) {
		snprintf(detail, len, "helper is \"%s\"",
			 ct->helper[0] ? ct->helper : "(none)");
		return FTPX_V_NOT_FTPX;
	}
	if (!ct->has_info || ct->info.version != 1) {
		snprintf(detail, len, "no ftpx session info (version %u)",
			 ct->has_info ? ct->info.version : 0);
		return FTPX_V_NOT_FTPX;
	}
	if (ct->info.mode != FTPX_MODE_EXPLICIT &&
	    ct->info.mode != FTPX_MODE_IMPLICIT) {
		snprintf(detail, len, "session is %s: the helper reads it",
			 ftpx_mode_name(ct->info.mode));
		return FTPX_V_NOT_ENCRYPTED;
	}
	/* the lookup matched one of the entry's tuples; it must be the
	 * reply one, TCP, and the family the hint claims */
	if (ct->reply.family != family || ct->reply.proto != IPPROTO_TCP ||
	    !same_addr(family, ct->reply.src, h->server) ||
	    !same_addr(family, ct->reply.dst, h->client) ||
	    ct->reply.sport != h->sport || ct->reply.dport != h->cport) {
		snprintf(detail, len, "conntrack entry has the hint's tuple as its original direction");
		return FTPX_V_MISMATCH;
	}
	srv = ftpx_conf_find(&d->conf, family, h->server);
	allow = srv && srv->has_ports ? &srv->ports : &d->conf.ports;
	if (!ftpx_ranges_has(allow, h->port)) {
		char r[128];

		ftpx_ranges_fmt(allow, r, sizeof(r));
		snprintf(detail, len, "port %u not in %s", h->port, r);
		return FTPX_V_PORT;
	}
	return FTPX_V_ACCEPTED;
}
