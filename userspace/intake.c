// SPDX-License-Identifier: GPL-2.0
/*
 * Intake: hints arrive over UDP from agents (authenticated with the
 * pre-shared key, checked for freshness and replay) or over the local Unix
 * socket (SOCK_SEQPACKET; the peer's credentials stand in for the MAC:
 * hints only from uid 0, status for anyone). The socket is world-writable
 * on purpose: a refused local peer is counted and told why instead of
 * failing at connect() unseen.
 *
 * Nothing is sent back to a network sender whose message failed
 * authentication or freshness: no oracle for forgers, and no reflection
 * towards a spoofed source.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ftpxd.h"

int ftpxd_udp_open(const struct ftpx_sockaddr *a, char *err, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, one = 1;

	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->addr, 16);
		sl = sizeof(*s6);
	}
	fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "udp socket: %s", strerror(errno));
		return -1;
	}
	/* no SO_REUSEADDR: a second ftpxd on the same port must fail, not
	 * share it; bind even before the address is up (boot ordering) */
	setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		char a_s[80];

		ftpx_fmt_ep(a_s, sizeof(a_s), a->family, a->addr, a->port);
		snprintf(err, len, "udp bind %s: %s", a_s, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int ftpxd_unix_open(const char *path, char *err, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, len, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "unix socket: %s", strerror(errno));
		return -1;
	}
	/* a socket left by a killed ftpxd is removed; a live one is not */
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, len, "%s exists and is not a socket", path);
			close(fd);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
					  sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, len, "%s: another ftpxd is running", path);
			close(fd);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 16) < 0) {
		snprintf(err, len, "unix socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void src_name(const struct ftpxd_src *s, char *buf, size_t len)
{
	switch (s->kind) {
	case FTPXD_SRC_UDP:
		ftpx_fmt_ep(buf, len, s->family, s->addr, s->port);
		break;
	case FTPXD_SRC_UNIX:
		snprintf(buf, len, "unix:uid=%u,pid=%d", (unsigned int)s->uid,
			 (int)s->pid);
		break;
	default:
		snprintf(buf, len, "local");
	}
}

static void record(struct ftpxd *d, const struct ftpxd_src *s, int verdict,
		   const char *what, const char *detail)
{
	struct ftpxd_recent *r = &d->recent[d->recent_next];
	char sn[64];

	d->recent_next = (d->recent_next + 1) % FTPXD_RECENT;
	if (verdict >= 0 && verdict < FTPX_V_MAX)
		d->verdicts[verdict]++;
	src_name(s, sn, sizeof(sn));
	r->when_us = ftpx_now_us();
	r->verdict = (uint8_t)verdict;
	snprintf(r->src, sizeof(r->src), "%s", sn);
	snprintf(r->what, sizeof(r->what), "%s", what);
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	ftpxd_log(d, verdict ? 0 : 1, "hint from %s %s: %s%s%s", sn, what,
		  ftpx_verdict_name(verdict), *detail ? ": " : "", detail);
}

static void hint_what(const struct ftpx_hint *h, char *buf, size_t len)
{
	int fam = h->family == 4 ? AF_INET : AF_INET6;
	char c[64], s[64];

	if (h->flags & FTPX_HINT_F_UNMAPPED) {
		ftpx_fmt_ep(s, sizeof(s), fam, h->server, h->port);
		snprintf(buf, len, "listener %s (unmapped, %u candidates)", s,
			 h->candidates);
		return;
	}
	ftpx_fmt_ep(c, sizeof(c), fam, h->client, h->cport);
	ftpx_fmt_ep(s, sizeof(s), fam, h->server, h->sport);
	snprintf(buf, len, "port %u for %s->%s", h->port, c, s);
}

void ftpxd_hints(struct ftpxd *d, struct ftpxd_job *j, int n)
{
	struct ftpx_ctnl *c = &d->ct;
	struct ftpx_tuple t;
	char what[160];
	int i;

	/* every lookup of the batch in one send */
	ftpx_ctnl_begin(c);
	for (i = 0; i < n; i++) {
		if (j[i].v != FTPXD_V_PENDING)
			continue;
		memset(&j[i].res, 0, sizeof(j[i].res));
		j[i].v = ftpxd_validate_hint(d, &j[i].hint, &j[i].src, &t,
					     j[i].res.detail,
					     sizeof(j[i].res.detail));
		if (j[i].v == FTPXD_V_PENDING)
			j[i].req = ftpx_ctnl_add_ct_get(c, &t, 1, &j[i].ct);
	}
	ftpx_ctnl_commit(c);
	for (i = 0; i < n; i++)
		if (j[i].v == FTPXD_V_PENDING)
			j[i].v = ftpxd_validate_ct(d, &j[i].hint, &j[i].ct,
						   c->req[j[i].req].error,
						   c->req[j[i].req].err,
						   j[i].res.detail,
						   sizeof(j[i].res.detail));
	/* then every expectation in one send */
	ftpx_ctnl_begin(c);
	for (i = 0; i < n; i++)
		if (j[i].v == FTPX_V_ACCEPTED)
			j[i].req = ftpx_ctnl_add_exp(c, &j[i].ct, j[i].hint.port);
	ftpx_ctnl_commit(c);
	for (i = 0; i < n; i++) {
		int ret;

		if (j[i].v == FTPX_V_ACCEPTED) {
			ret = ftpxd_push_done(d, j[i].req, &j[i].ct,
					      j[i].res.detail,
					      sizeof(j[i].res.detail));
			if (ret < 0) {
				j[i].v = FTPX_V_KERNEL;
				j[i].res.err = -ret;
			}
		}
		j[i].res.verdict = (uint8_t)j[i].v;
		if (!j[i].what)
			hint_what(&j[i].hint, what, sizeof(what));
		record(d, &j[i].src, j[i].v, j[i].what ? j[i].what : what,
		       j[i].res.detail);
	}
}

int ftpxd_hint(struct ftpxd *d, const struct ftpx_hint *h,
	       const struct ftpxd_src *src, struct ftpx_result *res)
{
	struct ftpxd_job j = { .src = *src, .hint = *h,
			       .v = FTPXD_V_PENDING };

	ftpxd_hints(d, &j, 1);
	*res = j.res;
	return j.v;
}

/* A message that did not get as far as a verdict on its content. */
static void refuse_early(struct ftpxd *d, const struct ftpxd_src *s, int v,
			 const char *detail)
{
	record(d, s, v, "message", detail);
}

/* A UDP message in @j up to the verdict on its content: its sender, then
 * the header, MAC, freshness and fields; refusals so far are kept in @j
 * (counted and logged later, in order with the rest of the batch). */
static void udp_take(struct ftpxd *d, struct ftpxd_job *j, const uint8_t *buf,
		     size_t n, int trunc, const struct sockaddr_storage *ss,
		     struct ftpx_hdr *h)
{
	int v;

	memset(j, 0, sizeof(*j));
	j->src.kind = FTPXD_SRC_UDP;
	j->v = FTPXD_V_PENDING;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		j->src.family = AF_INET;
		memcpy(j->src.addr, &s4->sin_addr, 4);
		j->src.port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		j->src.family = AF_INET6;
		memcpy(j->src.addr, &s6->sin6_addr, 16);
		j->src.port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			j->src.family = AF_INET;
			memmove(j->src.addr, j->src.addr + 12, 4);
			memset(j->src.addr + 4, 0, 12);
		}
	}
	j->what = "message";
	if (trunc || ftpx_wire_hdr(buf, n, h) || h->type != FTPX_MSG_HINT) {
		j->v = FTPX_V_MALFORMED;
		snprintf(j->res.detail, sizeof(j->res.detail),
			 "not a version 1 hint");
		return;
	}
	if (!d->klen || ftpx_wire_verify(buf, n, d->key, d->klen)) {
		j->v = FTPX_V_BAD_MAC;
		snprintf(j->res.detail, sizeof(j->res.detail),
			 "HMAC does not verify with our key");
		return;
	}
	v = ftpx_replay_check(&d->replay, h->ts_us, h->nonce, ftpx_now_us());
	if (v) {
		long long skew = (long long)(h->ts_us - ftpx_now_us());

		if (v == FTPX_V_STALE)
			snprintf(j->res.detail, sizeof(j->res.detail),
				 "timestamp off by %+lld s (window %u s)",
				 skew / 1000000, d->conf.window_s);
		else
			snprintf(j->res.detail, sizeof(j->res.detail),
				 "timestamp and nonce seen before");
		j->v = v;
		return;
	}
	/* authentic: worth an answer from here on */
	j->answer = 1;
	v = ftpx_wire_get_hint(buf, n, &j->hint);
	if (v) {
		j->v = v;
		j->res.verdict = FTPX_V_MALFORMED;
		snprintf(j->res.detail, sizeof(j->res.detail),
			 "bad field (family, flags, port)");
		return;
	}
	j->what = NULL;
}

void ftpxd_udp_read(struct ftpxd *d)
{
	/* one batch: what one wakeup reads, bounded to let other sources in */
	static struct ftpxd_job jobs[FTPX_CTNL_BATCH];
	static uint8_t in[FTPX_CTNL_BATCH][2048];
	static uint8_t out[FTPX_CTNL_BATCH][FTPX_RESULT_LEN];
	struct sockaddr_storage ss[FTPX_CTNL_BATCH];
	struct mmsghdr mm[FTPX_CTNL_BATCH], om[FTPX_CTNL_BATCH];
	struct iovec iov[FTPX_CTNL_BATCH], oiov[FTPX_CTNL_BATCH];
	uint64_t nonce[FTPX_CTNL_BATCH];
	int n, i, k, no = 0;

	memset(mm, 0, sizeof(mm));
	for (i = 0; i < FTPX_CTNL_BATCH; i++) {
		iov[i].iov_base = in[i];
		iov[i].iov_len = sizeof(in[i]);
		mm[i].msg_hdr.msg_name = &ss[i];
		mm[i].msg_hdr.msg_namelen = sizeof(ss[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	/* MSG_TRUNC: a datagram's real length, to refuse an oversized one */
	n = recvmmsg(d->udp, mm, FTPX_CTNL_BATCH, MSG_DONTWAIT | MSG_TRUNC,
		     NULL);
	if (n <= 0)
		return;	/* EAGAIN, or an ICMP error for a result */
	for (i = 0; i < n; i++) {
		struct ftpx_hdr h = { 0 };
		size_t len = mm[i].msg_len;

		d->received++;
		udp_take(d, &jobs[i], in[i], len,
			 len > sizeof(in[i]) ||
			 (mm[i].msg_hdr.msg_flags & MSG_TRUNC), &ss[i], &h);
		nonce[i] = h.nonce;
	}
	ftpxd_hints(d, jobs, n);
	memset(om, 0, sizeof(om));
	for (i = 0; i < n; i++) {
		struct ftpx_hdr rh = { .ts_us = ftpx_now_us(),
				       .nonce = ftpx_nonce() };

		if (!jobs[i].answer)
			continue;	/* no oracle, no reflection */
		jobs[i].res.nonce = nonce[i];
		oiov[no].iov_base = out[no];
		oiov[no].iov_len = ftpx_wire_result(out[no], &rh, &jobs[i].res,
						    d->key, d->klen);
		om[no].msg_hdr.msg_name = &ss[i];
		om[no].msg_hdr.msg_namelen = mm[i].msg_hdr.msg_namelen;
		om[no].msg_hdr.msg_iov = &oiov[no];
		om[no].msg_hdr.msg_iovlen = 1;
		no++;
	}
	/* a result that cannot go out is dropped, as the agent retries */
	for (i = 0; i < no; i += k > 0 ? k : 1)
		k = sendmmsg(d->udp, om + i, (unsigned int)(no - i),
			     MSG_DONTWAIT);
}

void ftpxd_unix_accept(struct ftpxd *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fd, i;

	for (;;) {
		fd = accept4(d->unx, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
			close(fd);
			continue;
		}
		for (i = 0; i < FTPXD_MAX_CLIENTS && d->clients[i] >= 0; i++)
			;
		if (i == FTPXD_MAX_CLIENTS) {
			/* idle peers must not lock ftpxctl out: the oldest
			 * slots make room, in turn */
			i = (int)(d->evict++ % FTPXD_MAX_CLIENTS);
			ftpxd_log(d, 0, "%d local clients: closing the one of pid %d",
				  FTPXD_MAX_CLIENTS, (int)d->client_pid[i]);
			epoll_ctl(d->ep, EPOLL_CTL_DEL, d->clients[i], NULL);
			close(d->clients[i]);
			d->clients[i] = -1;
		}
		d->clients[i] = fd;
		d->client_uid[i] = cr.uid;
		d->client_pid[i] = cr.pid;
		/* slot in the event data: 16.. are clients */
		ev.data.u32 = 16 + (uint32_t)i;
		epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static void send_status(struct ftpxd *d, int fd)
{
	size_t cap = FTPX_WIRE_MAX, tl;
	uint8_t *buf = malloc(cap);
	struct ftpx_hdr h = { .ts_us = ftpx_now_us(), .nonce = ftpx_nonce() };

	if (!buf)
		return;
	/* the status-request encoder writes the header; retype it */
	ftpx_wire_status_req(buf, &h);
	ftpxd_status_text(d, (char *)buf + FTPX_WIRE_HDR,
			  cap - FTPX_WIRE_HDR - FTPX_WIRE_MAC);
	tl = strlen((char *)buf + FTPX_WIRE_HDR) + FTPX_WIRE_HDR + FTPX_WIRE_MAC;
	buf[5] = FTPX_MSG_STATUS;
	buf[6] = (uint8_t)(tl >> 8);
	buf[7] = (uint8_t)tl;
	memset(buf + tl - FTPX_WIRE_MAC, 0, FTPX_WIRE_MAC);
	send(fd, buf, tl, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(buf);
}

int ftpxd_unix_read(struct ftpxd *d, int slot)
{
	int fd = d->clients[slot];
	struct ftpxd_src src = { .kind = FTPXD_SRC_UNIX,
				 .uid = d->client_uid[slot],
				 .pid = d->client_pid[slot] };
	uint8_t buf[1024], out[FTPX_RESULT_LEN];
	struct ftpx_result res;
	struct ftpx_hint hint;
	struct ftpx_hdr h = { 0 };	/* a malformed message has no nonce */
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		close(fd);
		d->clients[slot] = -1;
		return -1;
	}
	memset(&res, 0, sizeof(res));
	if (n > (ssize_t)sizeof(buf) || ftpx_wire_hdr(buf, (size_t)n, &h)) {
		res.verdict = FTPX_V_MALFORMED;
		snprintf(res.detail, sizeof(res.detail), "not a version 1 message");
		refuse_early(d, &src, FTPX_V_MALFORMED, res.detail);
	} else if (h.type == FTPX_MSG_STATUS_REQ) {
		send_status(d, fd);
		return 0;
	} else if (h.type != FTPX_MSG_HINT ||
		   ftpx_wire_get_hint(buf, (size_t)n, &hint)) {
		res.verdict = FTPX_V_MALFORMED;
		snprintf(res.detail, sizeof(res.detail), "bad hint");
		refuse_early(d, &src, FTPX_V_MALFORMED, res.detail);
	} else if (src.uid != 0) {
		res.verdict = FTPX_V_NOT_ROOT;
		snprintf(res.detail, sizeof(res.detail),
			 "local peer uid %u is not root", (unsigned int)src.uid);
		d->received++;
		refuse_early(d, &src, FTPX_V_NOT_ROOT, res.detail);
	} else {
		d->received++;
		ftpxd_hint(d, &hint, &src, &res);
	}
	res.nonce = h.nonce;
	{
		struct ftpx_hdr rh = { .ts_us = ftpx_now_us(),
				       .nonce = ftpx_nonce() };
		size_t len = ftpx_wire_result(out, &rh, &res, NULL, 0);

		send(fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	return 0;
}

static size_t app(char *buf, size_t len, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t app(char *buf, size_t len, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off >= len)
		return off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
	return n < 0 ? off : off + (size_t)n;
}

void ftpxd_status_text(struct ftpxd *d, char *buf, size_t len)
{
	uint64_t now = ftpx_now_us();
	unsigned long long refused = 0;
	char a[80], r[256];
	size_t o = 0;
	unsigned int i;

	for (i = 1; i < FTPX_V_MAX; i++)
		refused += d->verdicts[i];
	o = app(buf, len, o, "version %s\npid %d\nuptime_s %llu\n",
		FTPXD_VERSION, (int)getpid(),
		(unsigned long long)((now - d->start_us) / 1000000));
	o = app(buf, len, o, "config %s\nconfig_age_s %llu\nreloads %llu\nreload_failed %llu\nreload_error %s\n",
		d->conf_path,
		(unsigned long long)((now - d->conf_us) / 1000000),
		d->reloads, d->reload_failed,
		d->reload_err[0] ? d->reload_err : "-");
	if (d->udp >= 0)
		ftpx_fmt_ep(a, sizeof(a), d->conf.listen.family,
			    d->conf.listen.addr, d->conf.listen.port);
	else
		snprintf(a, sizeof(a), "-");
	ftpx_ranges_fmt(&d->conf.ports, r, sizeof(r));
	o = app(buf, len, o, "udp %s\nsocket %s\nlocal %s\nwindow_s %u\nhint_ports %s\nservers %d\n",
		a, d->conf.socket, d->watching ? "yes" : "no",
		d->conf.window_s, r, d->conf.n_servers);
	o = app(buf, len, o, "received %llu\naccepted %llu\nrefused %llu\n",
		d->received, d->verdicts[0], refused);
	for (i = 1; i < FTPX_V_MAX; i++)
		o = app(buf, len, o, "refused:%s %llu\n", ftpx_verdict_name(i),
			d->verdicts[i]);
	o = app(buf, len, o, "pending %zu\nconsumed %llu\nexpired %llu\nenobufs %llu\nresyncs %llu\n",
		d->n_pend, d->consumed, d->expired, d->enobufs, d->resyncs);
	if (d->lat_n)
		o = app(buf, len, o, "latency_ms last %.2f avg %.2f max %.2f n %llu\n",
			d->lat_last_ms, d->lat_sum_ms / d->lat_n,
			d->lat_max_ms, d->lat_n);
	if (d->watching)
		o = app(buf, len, o, "watch scans %lu found %lu ignored %lu errors %lu full_walks %lu fast_walks %lu\n",
			d->watch.scans, d->watch.found, d->watch.ignored,
			d->watch.errors, d->watch.full_walks, d->watch.fast_walks);
	o = app(buf, len, o, "recent:\n");
	for (i = 0; i < FTPXD_RECENT; i++) {
		const struct ftpxd_recent *e =
			&d->recent[(d->recent_next + i) % FTPXD_RECENT];
		time_t t;
		struct tm tm;
		char ts[32];

		if (!e->when_us)
			continue;
		t = (time_t)(e->when_us / 1000000);
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		o = app(buf, len, o, "  %s %s %s %s%s%s\n", ts, e->src,
			ftpx_verdict_name(e->verdict), e->what,
			e->detail[0] ? ": " : "", e->detail);
	}
}
