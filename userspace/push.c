// SPDX-License-Identifier: GPL-2.0
/*
 * Push: what ftpxd writes into the kernel. Hint expectations through
 * ctnetlink (added to a batch by intake.c, answered here), per-server settings through the module's genl family; and
 * the mirror of pending hint expectations kept from ctnetlink events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ftpxd.h"

int ftpxd_push_done(struct ftpxd *d, int req, const struct ftpx_ct *ct,
		    char *detail, size_t len)
{
	const struct ftpx_nlreq *r = &d->ct.req[req];

	if (r->error) {
		snprintf(detail, len, "%.120s", r->err);
		return -r->error;
	}
	snprintf(detail, len, "%s", ftpx_ct_nat(ct) ?
		 "expectation created, NAT follows the master" :
		 "expectation created");
	return 0;
}

/* ---- server table --------------------------------------------------- */

struct klist {
	int n;
	struct ftpx_server_cfg s[FTPX_MAX_SERVERS];
};

static void klist_cb(const struct ftpx_server_cfg *s, void *data)
{
	struct klist *k = data;

	if (k->n < FTPX_MAX_SERVERS)
		k->s[k->n++] = *s;
}

static int same_server(const struct ftpx_server_cfg *a,
		       const struct ftpx_server_cfg *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

static int in_conf(const struct ftpx_conf *c, const struct ftpx_server_cfg *s)
{
	int i;

	for (i = 0; c && i < c->n_servers; i++)
		if (c->servers[i].kernel && same_server(&c->servers[i].k, s))
			return 1;
	return 0;
}

static int in_klist(const struct klist *k, const struct ftpx_server_cfg *s)
{
	int i;

	for (i = 0; i < k->n; i++)
		if (same_server(&k->s[i], s))
			return 1;
	return 0;
}

static void server_name(const struct ftpx_server_cfg *s, char *buf,
			size_t len)
{
	inet_ntop(s->family, s->addr, buf, (socklen_t)len);
}

/* Put back what the kernel had before we started changing it. */
static void rollback(struct ftpx_genl *g, const struct klist *before,
		     const struct ftpx_conf *nc)
{
	int i;

	for (i = 0; i < nc->n_servers; i++)
		if (nc->servers[i].kernel &&
		    !in_klist(before, &nc->servers[i].k))
			ftpx_genl_del_server(g, nc->servers[i].k.family,
					     nc->servers[i].k.addr);
	for (i = 0; i < before->n; i++)
		ftpx_genl_set_server(g, &before->s[i]);
}

int ftpxd_push_servers(struct ftpxd *d, const struct ftpx_conf *old,
		       const struct ftpx_conf *nc, char *err, size_t len)
{
	struct klist *before;
	struct ftpx_genl g;
	int i, want = 0, ret = -1;
	char a[INET6_ADDRSTRLEN];

	for (i = 0; i < nc->n_servers; i++)
		want |= nc->servers[i].kernel;
	for (i = 0; old && i < old->n_servers; i++)
		want |= old->servers[i].kernel;
	if (ftpx_genl_open(&g) < 0) {
		ftpx_genl_close(&g);	/* the socket may be open */
		if (!want) {
			ftpxd_log(d, 1, "no server settings to push (%s)", g.err);
			return 0;
		}
		snprintf(err, len, "%s", g.err);
		return -1;
	}
	before = calloc(1, sizeof(*before));
	if (!before) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	if (ftpx_genl_servers(&g, klist_cb, before) < 0) {
		snprintf(err, len, "reading the module's servers: %s", g.err);
		goto out;
	}
	for (i = 0; i < nc->n_servers; i++) {
		const struct ftpx_conf_server *s = &nc->servers[i];

		if (!s->kernel)
			continue;
		if (ftpx_genl_set_server(&g, &s->k) < 0) {
			server_name(&s->k, a, sizeof(a));
			snprintf(err, len, "server %s refused by the module: %s",
				 a, g.err);
			rollback(&g, before, nc);
			goto out;
		}
	}
	for (i = 0; i < before->n; i++) {
		const struct ftpx_server_cfg *k = &before->s[i];

		if (in_conf(nc, k))
			continue;
		/* sync-servers: the file is the whole truth; otherwise only
		 * entries this daemon pushed before are ours to remove */
		if (!nc->sync_servers && !in_conf(old, k))
			continue;
		if (ftpx_genl_del_server(&g, k->family, k->addr) < 0 &&
		    errno != ENOENT) {
			server_name(k, a, sizeof(a));
			snprintf(err, len, "removing server %s: %s", a, g.err);
			rollback(&g, before, nc);
			goto out;
		}
	}
	ret = 0;
out:
	free(before);
	ftpx_genl_close(&g);
	return ret;
}

/* ---- pending hint expectations -------------------------------------- */

static int ours(const struct ftpx_exp *e)
{
	return e->has_class && e->class == FTPX_CLASS_HINT &&
	       !strcmp(e->helper, FTPX_HELPER);
}

static long find_pending(struct ftpxd *d, const struct ftpx_tuple *t)
{
	size_t i;

	for (i = 0; i < d->n_pend; i++) {
		const struct ftpx_tuple *p = &d->pend[i].t;

		if (p->family == t->family && p->dport == t->dport &&
		    !memcmp(p->src, t->src, 16) && !memcmp(p->dst, t->dst, 16))
			return (long)i;
	}
	return -1;
}

static void add_pending(struct ftpxd *d, const struct ftpx_tuple *t,
			uint64_t since)
{
	if (find_pending(d, t) >= 0)
		return;
	if (d->n_pend == d->cap_pend) {
		size_t cap = d->cap_pend ? d->cap_pend * 2 : 64;
		struct ftpxd_pending *p;

		/* bounded by the kernel's own limits per session; a sanity
		 * cap keeps a confused mirror from growing without end */
		if (cap > 65536)
			return;
		p = realloc(d->pend, cap * sizeof(*p));
		if (!p)
			return;
		d->pend = p;
		d->cap_pend = cap;
	}
	d->pend[d->n_pend].t = *t;
	d->pend[d->n_pend].since_us = since;
	d->n_pend++;
}

void ftpxd_exp_event(int type, const struct ftpx_exp *e, void *data)
{
	struct ftpxd *d = data;
	long i;

	if (!ours(e))
		return;
	if (type == 1) {
		add_pending(d, &e->tuple, ftpx_now_us());
		return;
	}
	i = find_pending(d, &e->tuple);
	if (i >= 0)
		d->pend[i] = d->pend[--d->n_pend];
	/* destroyed with time left: a data connection took it (or its
	 * control connection ended); with none left: it timed out */
	if (e->timeout)
		d->consumed++;
	else
		d->expired++;
}

static int resync_cb(const struct ftpx_exp *e, void *data)
{
	if (ours(e))
		add_pending(data, &e->tuple, 0);
	return 0;
}

void ftpxd_resync(struct ftpxd *d)
{
	int ret;

	d->n_pend = 0;
	d->resyncs++;
	ret = ftpx_exp_dump(&d->ct, resync_cb, d);
	if (ret < 0)
		ftpxd_log(d, 0, "resync: expectation dump failed: %s", d->ct.err);
	else
		ftpxd_log(d, 2, "resync: %zu pending hint expectations",
			  d->n_pend);
}
