// SPDX-License-Identifier: GPL-2.0
/*
 * Passive-listener watcher: sock_diag dumps through libmnl, and the
 * listener -> process -> control connection mapping through /proc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "watch.h"
#include "wire.h"

#define DUMP_BUF	65536

/* TCP states as the kernel numbers them (include/net/tcp_states.h) */
enum { ST_ESTABLISHED = 1, ST_LISTEN = 10 };

uint64_t ftpx_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void ftpx_fmt_ep(char *buf, size_t len, int family, const uint8_t *addr,
		 uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

int ftpx_watch_open(struct ftpx_watch *w, const uint16_t *ports, int n)
{
	memset(w, 0, sizeof(*w));
	if (n > FTPX_WATCH_MAX_PORTS) {
		errno = EINVAL;
		return -1;
	}
	memcpy(w->ports, ports, n * sizeof(*ports));
	w->n_ports = n;
	w->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!w->nl)
		return -1;
	if (mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(w->nl);
		w->nl = NULL;
		return -1;
	}
	w->portid = mnl_socket_get_portid(w->nl);
	w->seq = (uint32_t)time(NULL);
	return 0;
}

void ftpx_watch_close(struct ftpx_watch *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w->known);
	free(w->ctrl);
	memset(w, 0, sizeof(*w));
}

/* ---- sock_diag dumps ------------------------------------------------ */

struct sk_list {
	struct ftpx_sk *v;
	size_t n, cap;
	int intr;		/* the dump was interrupted: redo it */
	const struct ftpx_watch *w;
	int ctrl_only;		/* keep only local ports in w->ports */
};

static int is_ctrl_port(const struct ftpx_watch *w, uint16_t port)
{
	int i;

	for (i = 0; i < w->n_ports; i++)
		if (w->ports[i] == port)
			return 1;
	return 0;
}

static void fold_addr(int *family, uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };

	if (*family == AF_INET6 && !memcmp(a, mapped, 12)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		*family = AF_INET;
	}
}

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct sk_list *l = data;
	struct ftpx_sk *s;
	int lfam, rfam;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		l->intr = 1;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_ERROR;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return MNL_CB_OK;
	if (l->ctrl_only && !is_ctrl_port(l->w, ntohs(m->id.idiag_sport)))
		return MNL_CB_OK;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ftpx_sk *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return MNL_CB_ERROR;
		l->v = v;
		l->cap = cap;
	}
	s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	lfam = rfam = m->idiag_family;
	memcpy(s->laddr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	memcpy(s->raddr, m->id.idiag_dst, m->idiag_family == AF_INET ? 4 : 16);
	fold_addr(&lfam, s->laddr);
	fold_addr(&rfam, s->raddr);
	/* a listener on :: has no v4-mapped local address to fold */
	s->family = lfam == AF_INET || rfam == AF_INET ? AF_INET : AF_INET6;
	s->lport = ntohs(m->id.idiag_sport);
	s->rport = ntohs(m->id.idiag_dport);
	s->inode = m->idiag_inode;
	return MNL_CB_OK;
}

static int dump_one(struct ftpx_watch *w, int family, uint32_t states,
		    struct sk_list *l)
{
	char *buf = malloc(DUMP_BUF);
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	uint32_t seq;
	int ret;

	if (!buf)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = ++w->seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = states;
	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0) {
		free(buf);
		return -1;
	}
	do {
		ret = mnl_socket_recvfrom(w->nl, buf, DUMP_BUF);
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, ret, seq, w->portid, diag_cb, l);
	} while (ret > 0);
	free(buf);
	return ret < 0 ? -1 : 0;
}

static int dump(struct ftpx_watch *w, uint32_t states, int ctrl_only,
		struct sk_list *l)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		l->n = 0;
		l->intr = 0;
		l->w = w;
		l->ctrl_only = ctrl_only;
		if (dump_one(w, AF_INET, states, l) < 0 ||
		    dump_one(w, AF_INET6, states, l) < 0)
			return -1;
		if (!l->intr)
			return 0;
	}
	errno = EINTR;
	return -1;
}

/* ---- /proc mapping -------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int has_inode(const uint32_t *v, size_t n, uint32_t ino)
{
	return bsearch(&ino, v, n, sizeof(*v), cmp_u32) != NULL;
}

struct pending {
	struct ftpx_found f;
	uint32_t cand[16];	/* control inodes, deduplicated */
	int n_cand;
	int owned;
};

static void add_cand(struct pending *p, uint32_t ino)
{
	int i;

	for (i = 0; i < p->n_cand; i++)
		if (p->cand[i] == ino)
			return;
	if (p->n_cand < (int)(sizeof(p->cand) / sizeof(p->cand[0])))
		p->cand[p->n_cand] = ino;
	p->n_cand++;	/* counts past the array: "more than 16" */
}

static uint32_t sock_inode(int dfd, const char *name)
{
	char link[64];
	ssize_t n;
	unsigned long ino;

	n = readlinkat(dfd, name, link, sizeof(link) - 1);
	if (n <= 8)
		return 0;
	link[n] = 0;
	if (strncmp(link, "socket:[", 8) || sscanf(link + 8, "%lu", &ino) != 1)
		return 0;
	return (uint32_t)ino;
}

/* ---- control socket owners, cached -----------------------------------
 * Finding a socket's process means reading every /proc/PID/fd: slow on a
 * busy host, slower than the client's round trip under emulation. The
 * owners of each control connection are found once, while the session
 * logs in, and a new listener is first looked for in those processes only.
 */

static struct ftpx_ctrl_ent *cache_find(struct ftpx_watch *w, uint32_t ino)
{
	size_t i;

	for (i = 0; i < w->n_ctrl; i++)
		if (w->ctrl[i].inode == ino)
			return &w->ctrl[i];
	return NULL;
}

static void cache_holder(struct ftpx_watch *w, uint32_t ino, uint32_t pid)
{
	struct ftpx_ctrl_ent *e = cache_find(w, ino);
	int i;

	if (!e) {
		if (w->n_ctrl == w->cap_ctrl) {
			size_t cap = w->cap_ctrl ? w->cap_ctrl * 2 : 64;
			struct ftpx_ctrl_ent *v = realloc(w->ctrl, cap * sizeof(*v));

			if (!v)
				return;
			w->ctrl = v;
			w->cap_ctrl = cap;
		}
		e = &w->ctrl[w->n_ctrl++];
		memset(e, 0, sizeof(*e));
		e->inode = ino;
	}
	for (i = 0; i < e->npids; i++)
		if (e->pids[i] == pid)
			return;
	if (e->npids < FTPX_CTRL_PIDS)
		e->pids[e->npids++] = pid;
}

/* Forget connections that are gone; returns how many current ones are not
 * in the cache. */
static size_t cache_sync(struct ftpx_watch *w, const uint32_t *ctl, size_t nc)
{
	size_t i, unknown = 0;

	for (i = 0; i < w->n_ctrl; i++)
		if (!has_inode(ctl, nc, w->ctrl[i].inode))
			w->ctrl[i--] = w->ctrl[--w->n_ctrl];
	for (i = 0; i < nc; i++)
		if (!cache_find(w, ctl[i]))
			unknown++;
	return unknown;
}

struct walk {
	struct ftpx_watch *w;
	struct pending *p;
	size_t np, owned;
	const uint32_t *lst, *ctl;	/* sorted */
	size_t nl, nc;
};

/* Read one process's fds: remember it as a holder of the control sockets
 * it has, and as the owner of any new listener it has. */
static void visit_pid(struct walk *k, uint32_t pid)
{
	uint32_t mine_l[16], mine_c[16];
	int nml = 0, nmc = 0, i, j, m;
	struct dirent *fe;
	char path[64];
	DIR *fd;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	fd = opendir(path);
	if (!fd)
		return;	/* gone, or a kernel thread */
	while ((fe = readdir(fd))) {
		uint32_t ino;

		if (fe->d_name[0] == '.')
			continue;
		ino = sock_inode(dirfd(fd), fe->d_name);
		if (!ino)
			continue;
		if (has_inode(k->lst, k->nl, ino)) {
			if (nml < 16)
				mine_l[nml++] = ino;
		} else if (has_inode(k->ctl, k->nc, ino)) {
			if (nmc < 16)
				mine_c[nmc++] = ino;
		}
	}
	closedir(fd);
	for (i = 0; i < nmc; i++)
		cache_holder(k->w, mine_c[i], pid);
	for (i = 0; i < nml; i++) {
		for (j = 0; j < (int)k->np; j++) {
			struct pending *p = &k->p[j];

			if (p->f.lst.inode != mine_l[i])
				continue;
			if (!p->owned) {
				p->f.pid = pid;
				p->owned = 1;
				k->owned++;
			}
			for (m = 0; m < nmc; m++)
				add_cand(p, mine_c[m]);
		}
	}
}

static void walk_all(struct walk *k)
{
	struct dirent *de;
	DIR *proc;

	k->w->full_walks++;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		visit_pid(k, (uint32_t)strtoul(de->d_name, NULL, 10));
	}
	closedir(proc);
}

/* Only the processes known to hold control connections. */
static void walk_cached(struct walk *k)
{
	uint32_t done[256];
	size_t i, nd = 0, j;
	int n;

	k->w->fast_walks++;
	for (i = 0; i < k->w->n_ctrl; i++) {
		const struct ftpx_ctrl_ent *e = &k->w->ctrl[i];

		for (n = 0; n < e->npids; n++) {
			for (j = 0; j < nd && done[j] != e->pids[n]; j++)
				;
			if (j < nd)
				continue;
			if (nd < sizeof(done) / sizeof(done[0]))
				done[nd++] = e->pids[n];
			visit_pid(k, e->pids[n]);
		}
	}
}

static const struct ftpx_sk *find_sk(const struct sk_list *l, uint32_t ino)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].inode == ino)
			return &l->v[i];
	return NULL;
}

static int addr_any(const uint8_t *a)
{
	int i;

	for (i = 0; i < 16; i++)
		if (a[i])
			return 0;
	return 1;
}

/* A listener bound to one address belongs to the control connections on
 * that address: narrow the candidates when that leaves any. */
static void narrow(struct pending *p, const struct sk_list *ctrl)
{
	uint32_t keep[16];
	int i, n = 0;

	if (addr_any(p->f.lst.laddr) || p->n_cand > 16)
		return;
	for (i = 0; i < p->n_cand; i++) {
		const struct ftpx_sk *c = find_sk(ctrl, p->cand[i]);

		if (c && c->family == p->f.lst.family &&
		    !memcmp(c->laddr, p->f.lst.laddr, 16))
			keep[n++] = p->cand[i];
	}
	if (n) {
		memcpy(p->cand, keep, n * sizeof(keep[0]));
		p->n_cand = n;
	}
}

/* Dump the control connections and bring the owner cache up to date;
 * @ctli gets their sorted inodes. Returns how many are not in the cache,
 * or -1. */
static long ctrl_refresh(struct ftpx_watch *w, struct sk_list *ctl,
			 uint32_t **ctli)
{
	size_t i;

	*ctli = NULL;
	if (dump(w, 1U << ST_ESTABLISHED, 1, ctl) < 0)
		return -1;
	*ctli = malloc((ctl->n + 1) * sizeof(**ctli));
	if (!*ctli)
		return -1;
	for (i = 0; i < ctl->n; i++)
		(*ctli)[i] = ctl->v[i].inode;
	qsort(*ctli, ctl->n, sizeof(**ctli), cmp_u32);
	return (long)cache_sync(w, *ctli, ctl->n);
}

int ftpx_watch_scan(struct ftpx_watch *w,
		    void (*cb)(const struct ftpx_found *f, void *data),
		    void *data)
{
	struct sk_list lst = { 0 }, ctl = { 0 };
	uint32_t *cur = NULL, *newi = NULL, *ctli = NULL;
	struct pending *p = NULL;
	struct walk k = { .w = w };
	size_t i, np = 0;
	uint64_t now = ftpx_mono_ns();
	long unknown;
	int ret = -1;

	w->scans++;
	if (dump(w, 1U << ST_LISTEN, 0, &lst) < 0)
		goto out;
	cur = malloc((lst.n + 1) * sizeof(*cur));
	p = calloc(lst.n + 1, sizeof(*p));
	newi = malloc((lst.n + 1) * sizeof(*newi));
	if (!cur || !p || !newi)
		goto out;
	for (i = 0; i < lst.n; i++) {
		const struct ftpx_sk *s = &lst.v[i];

		cur[i] = s->inode;
		if (is_ctrl_port(w, s->lport) ||
		    has_inode(w->known, w->n_known, s->inode))
			continue;
		p[np].f.lst = *s;
		p[np].f.seen_ns = now;
		newi[np++] = s->inode;
	}
	qsort(cur, lst.n, sizeof(*cur), cmp_u32);
	free(w->known);
	w->known = cur;
	w->n_known = lst.n;
	cur = NULL;
	ret = 0;

	if (!np) {
		/* learn new sessions' processes before their first PASV */
		if (w->scans % FTPX_CTRL_REFRESH == 1 &&
		    ctrl_refresh(w, &ctl, &ctli) > 0) {
			k.ctl = ctli;
			k.nc = ctl.n;
			walk_all(&k);
		}
		goto out;
	}

	unknown = ctrl_refresh(w, &ctl, &ctli);
	if (unknown < 0) {
		ret = -1;
		/* forget them so that the next scan tries again */
		for (i = 0; i < np; i++) {
			size_t j;

			for (j = 0; j < w->n_known; j++)
				if (w->known[j] == newi[i])
					w->known[j] = 0;
		}
		qsort(w->known, w->n_known, sizeof(*w->known), cmp_u32);
		goto out;
	}
	qsort(newi, np, sizeof(*newi), cmp_u32);
	k.p = p;
	k.np = np;
	k.lst = newi;
	k.nl = np;
	k.ctl = ctli;
	k.nc = ctl.n;
	if (!unknown)
		walk_cached(&k);
	if (k.owned < np) {
		/* a new session, or a listener in a process we did not know:
		 * start over with every process */
		for (i = 0; i < np; i++) {
			p[i].owned = 0;
			p[i].n_cand = 0;
		}
		k.owned = 0;
		walk_all(&k);
	}

	for (i = 0; i < np; i++) {
		const struct ftpx_sk *c;

		if (!p[i].owned || !p[i].n_cand) {
			/* not an FTP session's listener (or gone already) */
			w->ignored++;
			continue;
		}
		narrow(&p[i], &ctl);
		p[i].f.n_ctrl = p[i].n_cand;
		if (p[i].n_cand == 1) {
			c = find_sk(&ctl, p[i].cand[0]);
			if (!c) {
				w->ignored++;
				continue;
			}
			p[i].f.ctrl = *c;
		}
		w->found++;
		cb(&p[i].f, data);
	}
out:
	if (ret < 0)
		w->errors++;
	free(lst.v);
	free(ctl.v);
	free(cur);
	free(newi);
	free(ctli);
	free(p);
	return ret;
}

int ftpx_watch_alive(const struct ftpx_watch *w, uint32_t inode)
{
	return has_inode(w->known, w->n_known, inode);
}

void ftpx_found_hint(const struct ftpx_found *f, struct ftpx_hint *h)
{
	memset(h, 0, sizeof(*h));
	h->port = f->lst.lport;
	h->pid = f->pid;
	if (f->n_ctrl == 1) {
		const struct ftpx_sk *c = &f->ctrl;

		h->family = c->family == AF_INET ? 4 : 6;
		memcpy(h->client, c->raddr, 16);
		memcpy(h->server, c->laddr, 16);
		h->cport = c->rport;
		h->sport = c->lport;
		h->candidates = 1;
		return;
	}
	/* say what we know and that we do not know the rest */
	h->flags = FTPX_HINT_F_UNMAPPED;
	h->family = f->lst.family == AF_INET ? 4 : 6;
	memcpy(h->server, f->lst.laddr, 16);
	h->candidates = f->n_ctrl > 0xffff ? 0xffff : (uint16_t)f->n_ctrl;
}
