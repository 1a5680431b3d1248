// SPDX-License-Identifier: GPL-2.0
/*
 * ftpx-agent: runs beside an unmodified FTPS server (vsftpd, proftpd,
 * pure-ftpd), watches its passive listeners and tells ftpxd on the router
 * which client may connect to which port, over UDP, authenticated with a
 * pre-shared key. A hint without an answer is sent again (fresh timestamp
 * and nonce each time) with exponential backoff while its listener exists,
 * so a restarted or briefly unreachable ftpxd is caught up with.
 *
 * Exit status: 0 stopped by SIGTERM or SIGINT, 1 bad configuration or a
 * failure to start, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "conf.h"
#include "watch.h"
#include "wire.h"

#define AGENT_VERSION	"0.1.0"
#define MAX_SENT	1024
#define NONCES		4

struct agent_conf {
	struct ftpx_sockaddr server;
	char key_file[256];
	int n_ports;
	uint16_t ports[FTPX_WATCH_MAX_PORTS];
	unsigned int poll_ms, retry_ms, retry_max_ms, give_up_s;
};

struct sent {
	uint32_t inode;
	struct ftpx_hint h;
	uint64_t seen_ns, next_ns;
	uint64_t first_ns, last_ns;	/* first and latest send */
	unsigned int backoff_ms;
	uint64_t nonces[NONCES];	/* of the last sends */
	unsigned int attempts;
};

struct agent {
	struct agent_conf c;
	const char *conf_path;
	uint8_t key[FTPX_KEY_MAX];
	int klen, verbose, fd, unreachable;
	struct ftpx_watch w;
	struct sent *sent;
	int n_sent;
	unsigned long long hints, accepted, refused, retries, given_up;
};

static void alog(const struct agent *a, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void alog(const struct agent *a, int level, const char *fmt, ...)
{
	static const char *const lv[] = { "warning: ", "", "debug: " };
	va_list ap;

	if (level > a->verbose)
		return;
	fprintf(stderr, "ftpx-agent: %s", lv[level < 0 ? 0 : level > 2 ? 2 : level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ftpx-agent [OPTION]...\n"
"Watch this host's FTP server for passive listeners and send ftpxd a hint\n"
"for each: client, control connection and data port. Runs in the\n"
"foreground; SIGHUP reloads the key (and the config file).\n\n"
"  -s, --server ADDR[:PORT]  ftpxd's UDP address (port default %d)\n"
"  -k, --key-file FILE       pre-shared key (default /etc/ftpx/hint.key)\n"
"  -p, --control-ports LIST  the FTP server's control ports (default 21,990)\n"
"  -i, --poll-ms N           listener scan interval in ms (default 10)\n"
"  -c, --config FILE         read the [agent] section of FILE first\n"
"  -v, --verbose             log every hint (repeat: debug)\n"
"  -q, --quiet               log warnings and errors only\n"
"  -h, --help                show this help\n"
"  -V, --version             show the version\n\n"
"Exit status: 0 stopped by SIGTERM/SIGINT, 1 bad configuration or failure\n"
"to start, 2 usage error.\n", FTPX_DEFAULT_UDP_PORT);
}

static int conf_cb(const char *sect, const char *arg, const char *k,
		   const char *v, void *data, char *err, size_t errlen)
{
	struct agent_conf *c = data;
	int n;

	(void)arg;
	if (strcmp(sect, "agent") || !*k)
		return 0;	/* other sections belong to ftpxd */
	if (!strcmp(k, "server")) {
		if (ftpx_sockaddr_parse(v, FTPX_DEFAULT_UDP_PORT, &c->server))
			goto bad;
	} else if (!strcmp(k, "key-file")) {
		if (strlen(v) >= sizeof(c->key_file))
			goto bad;
		strcpy(c->key_file, v);
	} else if (!strcmp(k, "control-ports")) {
		n = ftpx_ports_parse(v, c->ports, FTPX_WATCH_MAX_PORTS);
		if (n < 0)
			goto bad;
		c->n_ports = n;
	} else if (!strcmp(k, "poll-ms")) {
		if (ftpx_parse_uint(v, 1, 10000, &c->poll_ms))
			goto bad;
	} else if (!strcmp(k, "retry-ms")) {
		if (ftpx_parse_uint(v, 10, 60000, &c->retry_ms))
			goto bad;
	} else if (!strcmp(k, "retry-max-ms")) {
		if (ftpx_parse_uint(v, 10, 600000, &c->retry_max_ms))
			goto bad;
	} else if (!strcmp(k, "give-up-s")) {
		if (ftpx_parse_uint(v, 1, 86400, &c->give_up_s))
			goto bad;
	} else {
		snprintf(err, errlen, "unknown key \"%s\" in [agent]", k);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "[agent] %s: bad value \"%s\"", k, v);
	return -1;
}

static void conf_defaults(struct agent_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->key_file, sizeof(c->key_file), "/etc/ftpx/hint.key");
	c->n_ports = 2;
	c->ports[0] = 21;
	c->ports[1] = 990;
	c->poll_ms = 10;
	c->retry_ms = 100;
	c->retry_max_ms = 2000;
	c->give_up_s = 60;
}

static int open_udp(const struct ftpx_sockaddr *s)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd;

	if (s->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(s->port);
		memcpy(&s4->sin_addr, s->addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(s->port);
		memcpy(&s6->sin6_addr, s->addr, 16);
		sl = sizeof(*s6);
	}
	fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* connected: only ftpxd's address can answer, and an ICMP port
	 * unreachable shows up as ECONNREFUSED */
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void describe(const struct ftpx_hint *h, char *buf, size_t len)
{
	int fam = h->family == 4 ? AF_INET : AF_INET6;
	char c[64], s[64];

	if (h->flags & FTPX_HINT_F_UNMAPPED) {
		ftpx_fmt_ep(s, sizeof(s), fam, h->server, h->port);
		snprintf(buf, len, "listener %s (pid %u): %u control connections, unmapped",
			 s, h->pid, h->candidates);
		return;
	}
	ftpx_fmt_ep(c, sizeof(c), fam, h->client, h->cport);
	ftpx_fmt_ep(s, sizeof(s), fam, h->server, h->sport);
	snprintf(buf, len, "port %u for %s->%s (pid %u)", h->port, c, s, h->pid);
}

static void send_hint(struct agent *a, struct sent *s)
{
	struct ftpx_hdr hdr = { .ts_us = ftpx_now_us(), .nonce = ftpx_nonce() };
	uint8_t buf[FTPX_HINT_LEN];
	uint64_t now = ftpx_mono_ns();
	size_t len;

	s->h.attempt = (uint16_t)(s->attempts > 0xffff ? 0xffff : s->attempts);
	if (!s->attempts)
		s->first_ns = now;
	s->last_ns = now;
	s->h.age_us = (uint32_t)((now - s->seen_ns) / 1000);
	memmove(s->nonces + 1, s->nonces, sizeof(s->nonces) - sizeof(s->nonces[0]));
	s->nonces[0] = hdr.nonce;
	len = ftpx_wire_hint(buf, &hdr, &s->h, a->key, a->klen);
	if (s->attempts++)
		a->retries++;
	if (send(a->fd, buf, len, 0) < 0) {
		if (!a->unreachable)
			alog(a, 0, "ftpxd unreachable (%s): retrying with backoff",
			     strerror(errno));
		a->unreachable = 1;
	}
	s->next_ns = now + (uint64_t)s->backoff_ms * 1000000;
	s->backoff_ms *= 2;
	if (s->backoff_ms > a->c.retry_max_ms)
		s->backoff_ms = a->c.retry_max_ms;
}

static void drop_sent(struct agent *a, int i)
{
	a->sent[i] = a->sent[--a->n_sent];
}

static void found(const struct ftpx_found *f, void *data)
{
	struct agent *a = data;
	struct sent *s;
	char what[160];

	if (a->n_sent >= MAX_SENT) {
		alog(a, 0, "too many unanswered hints; dropping the oldest");
		drop_sent(a, 0);
	}
	s = &a->sent[a->n_sent++];
	memset(s, 0, sizeof(*s));
	s->inode = f->lst.inode;
	s->seen_ns = f->seen_ns;
	s->backoff_ms = a->c.retry_ms;
	ftpx_found_hint(f, &s->h);
	a->hints++;
	describe(&s->h, what, sizeof(what));
	alog(a, 2, "listener seen: %s", what);
	send_hint(a, s);
}

static void read_results(struct agent *a)
{
	uint8_t buf[512];
	struct ftpx_result r;
	struct ftpx_hdr h;
	uint64_t now;
	int n, i, j;

	for (;;) {
		n = (int)recv(a->fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0) {
			if (errno == ECONNREFUSED && !a->unreachable) {
				alog(a, 0, "ftpxd unreachable (%s): retrying with backoff",
				     strerror(errno));
				a->unreachable = 1;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;	/* a queued ICMP error: read on */
		}
		if (n > (int)sizeof(buf) || ftpx_wire_hdr(buf, n, &h) ||
		    h.type != FTPX_MSG_RESULT ||
		    ftpx_wire_verify(buf, n, a->key, a->klen) ||
		    ftpx_wire_get_result(buf, n, &r)) {
			alog(a, 0, "ignoring an answer that does not verify");
			continue;
		}
		if (a->unreachable)
			alog(a, 0, "ftpxd answers again");
		a->unreachable = 0;
		for (i = 0; i < a->n_sent; i++) {
			struct sent *s = &a->sent[i];
			char what[160];
			double ms;

			for (j = 0; j < NONCES && s->nonces[j] != r.nonce; j++)
				;
			if (j == NONCES)
				continue;
			now = ftpx_mono_ns();
			ms = (double)(now - s->seen_ns) / 1e6;
			describe(&s->h, what, sizeof(what));
			if (r.verdict == FTPX_V_ACCEPTED) {
				a->accepted++;
				alog(a, 1, "hint %s: accepted in %.2f ms (listener seen -> expectation present; mapping %.2f ms, last send -> answer %.2f ms, %u sends)",
				     what, ms, (double)(s->first_ns - s->seen_ns) / 1e6,
				     (double)(now - s->last_ns) / 1e6, s->attempts);
			} else {
				a->refused++;
				alog(a, 0, "hint %s: refused: %s%s%s", what,
				     ftpx_verdict_name(r.verdict),
				     r.detail[0] ? ": " : "", r.detail);
			}
			drop_sent(a, i);
			break;
		}
	}
}

static void tick(struct agent *a)
{
	uint64_t now;
	int i;

	if (ftpx_watch_scan(&a->w, found, a) < 0)
		alog(a, 2, "listener scan: %s", strerror(errno));
	now = ftpx_mono_ns();
	for (i = 0; i < a->n_sent; i++) {
		struct sent *s = &a->sent[i];
		char what[160];

		if (!ftpx_watch_alive(&a->w, s->inode)) {
			/* accepted or refused without our hearing it, or the
			 * client never came: nothing left to announce */
			describe(&s->h, what, sizeof(what));
			alog(a, 2, "listener gone before an answer: %s", what);
			drop_sent(a, i--);
			continue;
		}
		if (now - s->seen_ns > (uint64_t)a->c.give_up_s * 1000000000ULL) {
			describe(&s->h, what, sizeof(what));
			alog(a, 0, "giving up on hint %s after %u sends", what,
			     s->attempts);
			a->given_up++;
			drop_sent(a, i--);
			continue;
		}
		if (now >= s->next_ns)
			send_hint(a, s);
	}
}

static int load(struct agent *a, struct agent_conf *c, const struct agent_conf *cli,
		const unsigned int *cli_set, uint8_t *key, int *klen)
{
	char err[512];

	conf_defaults(c);
	if (a->conf_path) {
		char *text = ftpx_read_file(a->conf_path, err, sizeof(err));

		if (!text || ftpx_ini_parse(text, a->conf_path, conf_cb, c,
					    err, sizeof(err)) < 0) {
			free(text);
			alog(a, 0, "%s", err);
			return -1;
		}
		free(text);
	}
	/* command line options win over the file */
	if (cli_set[0])
		c->server = cli->server;
	if (cli_set[1])
		strcpy(c->key_file, cli->key_file);
	if (cli_set[2]) {
		c->n_ports = cli->n_ports;
		memcpy(c->ports, cli->ports, sizeof(c->ports));
	}
	if (cli_set[3])
		c->poll_ms = cli->poll_ms;
	if (!c->server.family) {
		alog(a, 0, "no ftpxd address: use --server or \"server =\" in [agent]");
		return -1;
	}
	*klen = ftpx_key_load(c->key_file, key, err, sizeof(err));
	if (*klen < 0) {
		alog(a, 0, "%s", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "control-ports", required_argument, NULL, 'p' },
		{ "poll-ms", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct agent a;
	struct agent_conf cli;
	unsigned int cli_set[4] = { 0 };
	struct itimerspec its = { 0 };
	struct pollfd pf[3];
	int c, n, sig, timer;
	char what[64];
	sigset_t mask;

	a.verbose = 1;
	conf_defaults(&cli);
	while ((c = getopt_long(argc, argv, "s:k:p:i:c:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (ftpx_sockaddr_parse(optarg, FTPX_DEFAULT_UDP_PORT,
						&cli.server)) {
				fprintf(stderr, "ftpx-agent: --server \"%s\": expected ADDR[:PORT] or [V6ADDR]:PORT\n", optarg);
				return 2;
			}
			cli_set[0] = 1;
			break;
		case 'k':
			snprintf(cli.key_file, sizeof(cli.key_file), "%s", optarg);
			cli_set[1] = 1;
			break;
		case 'p':
			n = ftpx_ports_parse(optarg, cli.ports, FTPX_WATCH_MAX_PORTS);
			if (n < 0) {
				fprintf(stderr, "ftpx-agent: --control-ports \"%s\": 1 to %d ports\n",
					optarg, FTPX_WATCH_MAX_PORTS);
				return 2;
			}
			cli.n_ports = n;
			cli_set[2] = 1;
			break;
		case 'i':
			if (ftpx_parse_uint(optarg, 1, 10000, &cli.poll_ms)) {
				fprintf(stderr, "ftpx-agent: --poll-ms: 1-10000\n");
				return 2;
			}
			cli_set[3] = 1;
			break;
		case 'c':
			a.conf_path = optarg;
			break;
		case 'v':
			a.verbose++;
			break;
		case 'q':
			a.verbose = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ftpx-agent %s (hint format %d)\n", AGENT_VERSION,
			       FTPX_WIRE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ftpx-agent: unexpected argument \"%s\"\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (load(&a, &a.c, &cli, cli_set, a.key, &a.klen) < 0)
		return 1;
	ftpx_wire_init();
	a.sent = calloc(MAX_SENT, sizeof(*a.sent));
	a.fd = open_udp(&a.c.server);
	if (!a.sent || a.fd < 0) {
		alog(&a, 0, "udp socket: %s", strerror(errno));
		return 1;
	}
	if (ftpx_watch_open(&a.w, a.c.ports, a.c.n_ports) < 0) {
		alog(&a, 0, "sock_diag: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sig < 0 || timer < 0) {
		alog(&a, 0, "%s", strerror(errno));
		return 1;
	}
	its.it_interval.tv_sec = a.c.poll_ms / 1000;
	its.it_interval.tv_nsec = (long)(a.c.poll_ms % 1000) * 1000000;
	its.it_value.tv_nsec = 1;
	timerfd_settime(timer, 0, &its, NULL);
	ftpx_fmt_ep(what, sizeof(what), a.c.server.family, a.c.server.addr,
		    a.c.server.port);
	alog(&a, 1, "started: ftpxd at %s, scanning every %u ms", what,
	     a.c.poll_ms);

	pf[0] = (struct pollfd){ .fd = sig, .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = timer, .events = POLLIN };
	pf[2] = (struct pollfd){ .fd = a.fd, .events = POLLIN };
	for (;;) {
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			alog(&a, 0, "poll: %s", strerror(errno));
			return 1;
		}
		if (pf[0].revents) {
			struct signalfd_siginfo si;

			while (read(sig, &si, sizeof(si)) == sizeof(si)) {
				struct agent_conf nc;
				uint8_t key[FTPX_KEY_MAX];
				int klen;

				if (si.ssi_signo != SIGHUP) {
					alog(&a, 1, "signal %u: stopping (%llu hints, %llu accepted, %llu refused, %llu retries, %llu given up; %lu scans, /proc walks %lu full %lu cached)",
					     si.ssi_signo, a.hints, a.accepted,
					     a.refused, a.retries, a.given_up,
					     a.w.scans, a.w.full_walks,
					     a.w.fast_walks);
					return 0;
				}
				/* the key and the timings; the address and
				 * ports are fixed for the process's life */
				if (load(&a, &nc, &cli, cli_set, key, &klen) < 0) {
					alog(&a, 0, "reload refused, keeping the old settings");
					continue;
				}
				memcpy(a.key, key, sizeof(key));
				a.klen = klen;
				a.c.retry_ms = nc.retry_ms;
				a.c.retry_max_ms = nc.retry_max_ms;
				a.c.give_up_s = nc.give_up_s;
				alog(&a, 1, "reloaded the key");
			}
		}
		if (pf[1].revents) {
			uint64_t ticks;

			if (read(timer, &ticks, sizeof(ticks)) == sizeof(ticks))
				tick(&a);
		}
		if (pf[2].revents)
			read_results(&a);
	}
}
