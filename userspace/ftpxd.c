// SPDX-License-Identifier: GPL-2.0
/*
 * ftpxd: turns hints about FTPS passive ports into exact conntrack
 * expectations on the router, and keeps the nf_ftpx module's per-server
 * settings in line with its config file. One thread, one epoll loop.
 *
 * Exit status: 0 stopped by SIGTERM or SIGINT (or --check passed), 1 bad
 * configuration or a failure to start, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "ftpxd.h"

enum { TAG_SIG = 1, TAG_UDP, TAG_UNIX, TAG_EV, TAG_TIMER, TAG_CLIENT = 16 };

void ftpxd_log(const struct ftpxd *d, int level, const char *fmt, ...)
{
	static const char *const lv[] = { "warning: ", "", "debug: " };
	char line[1024];
	va_list ap;
	int n;

	if (level > d->verbose)
		return;
	n = snprintf(line, sizeof(line), "ftpxd: %s",
		     lv[level < 0 ? 0 : level > 2 ? 2 : level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ftpxd [OPTION]...\n"
"Create exact conntrack expectations for FTPS data connections from hints\n"
"sent by ftpx-agent or `ftpxctl hint`, and push per-server settings to the\n"
"nf_ftpx module. Runs in the foreground; SIGHUP reloads the config.\n\n"
"  -c, --config FILE   configuration file (default %s)\n"
"  -l, --local         local mode: watch this host's FTP server's passive\n"
"                      listeners (as \"local = yes\")\n"
"  -t, --check         check the configuration and exit\n"
"  -v, --verbose       log every accepted hint and more (repeat: debug)\n"
"  -q, --quiet         log warnings and errors only\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n\n"
"Exit status: 0 stopped by SIGTERM/SIGINT or --check passed, 1 bad\n"
"configuration or failure to start, 2 usage error.\n",
		FTPX_DEFAULT_CONF);
}

static void ep_set(struct ftpxd *d, int fd, uint32_t tag, int add)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (fd >= 0)
		epoll_ctl(d->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev);
}

static int same_sockaddr(const struct ftpx_sockaddr *a,
			 const struct ftpx_sockaddr *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, 16);
}

static int watch_start(struct ftpxd *d, const struct ftpx_conf *c)
{
	struct itimerspec its = { 0 };

	if (ftpx_watch_open(&d->watch, c->ctrl_ports, c->n_ctrl_ports) < 0)
		return -1;
	d->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer < 0) {
		ftpx_watch_close(&d->watch);
		return -1;
	}
	its.it_interval.tv_sec = c->poll_ms / 1000;
	its.it_interval.tv_nsec = (long)(c->poll_ms % 1000) * 1000000;
	its.it_value.tv_nsec = 1;	/* first scan at once */
	timerfd_settime(d->timer, 0, &its, NULL);
	ep_set(d, d->timer, TAG_TIMER, 1);
	d->watching = 1;
	return 0;
}

static void watch_stop(struct ftpxd *d)
{
	if (!d->watching)
		return;
	ep_set(d, d->timer, TAG_TIMER, 0);
	close(d->timer);
	d->timer = -1;
	ftpx_watch_close(&d->watch);
	d->watching = 0;
}

/* Load the config file and everything it names; on any failure keep what
 * runs and say why. */
static int reload(struct ftpxd *d, int initial, int force_local)
{
	struct ftpx_conf *nc = malloc(sizeof(*nc));
	uint8_t key[FTPX_KEY_MAX] = { 0 };
	struct ftpx_replay rp = { 0 };
	int klen = 0, udp = -1, unx = -1, ret = -1;
	char err[512];

	if (!nc) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	ftpx_conf_defaults(nc);
	if (ftpx_conf_load(d->conf_path, nc, err, sizeof(err)) < 0)
		goto fail;
	if (force_local)
		nc->local = 1;
	if (nc->listen.family) {
		klen = ftpx_key_load(nc->key_file, key, err, sizeof(err));
		if (klen < 0)
			goto fail;
		if (initial || !same_sockaddr(&nc->listen, &d->conf.listen)) {
			udp = ftpxd_udp_open(&nc->listen, err, sizeof(err));
			if (udp < 0)
				goto fail;
		}
	}
	if (initial || strcmp(nc->socket, d->conf.socket)) {
		unx = ftpxd_unix_open(nc->socket, err, sizeof(err));
		if (unx < 0)
			goto fail;
	}
	if (initial || nc->window_s != d->conf.window_s ||
	    nc->replay_cache != d->conf.replay_cache) {
		if (ftpx_replay_init(&rp, nc->replay_cache, nc->window_s) < 0) {
			snprintf(err, sizeof(err), "replay cache: out of memory");
			goto fail;
		}
	}
	if (ftpxd_push_servers(d, initial ? NULL : &d->conf, nc, err,
			       sizeof(err)) < 0)
		goto fail;

	/* commit */
	if (udp >= 0 || !nc->listen.family) {
		if (d->udp >= 0) {
			ep_set(d, d->udp, TAG_UDP, 0);
			close(d->udp);
		}
		d->udp = udp;
		ep_set(d, d->udp, TAG_UDP, 1);
		udp = -1;
	}
	if (unx >= 0) {
		if (d->unx >= 0) {
			ep_set(d, d->unx, TAG_UNIX, 0);
			close(d->unx);
			unlink(d->conf.socket);
		}
		d->unx = unx;
		ep_set(d, d->unx, TAG_UNIX, 1);
		unx = -1;
	}
	if (rp.ring) {
		/* a fresh cache knows nothing seen before it: refuse
		 * everything older than itself, at start (nothing captured
		 * before a restart replays) as after a changed window */
		rp.floor_us = ftpx_now_us() - 1;
		ftpx_replay_free(&d->replay);
		d->replay = rp;
		/* moved: the cache's memory is d->replay's now */
		memset(&rp, 0, sizeof(rp));
	}
	if (initial || nc->rcvbuf != d->conf.rcvbuf) {
		int size = (int)nc->rcvbuf, fd = mnl_socket_get_fd(d->ev);

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
			       sizeof(size)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	memcpy(d->key, key, sizeof(key));
	d->klen = klen > 0 ? klen : 0;
	if (d->watching && (!nc->local || nc->poll_ms != d->conf.poll_ms ||
			    nc->n_ctrl_ports != d->conf.n_ctrl_ports ||
			    memcmp(nc->ctrl_ports, d->conf.ctrl_ports,
				   sizeof(nc->ctrl_ports))))
		watch_stop(d);
	d->conf = *nc;
	if (d->conf.local && !d->watching && watch_start(d, &d->conf) < 0)
		ftpxd_log(d, 0, "local mode: cannot watch listeners: %s",
			  strerror(errno));
	d->conf_us = ftpx_now_us();
	d->reload_err[0] = 0;
	if (!initial)
		d->reloads++;
	ftpxd_log(d, 1, "%s %s: %d servers, udp %s, local %s",
		  initial ? "started with" : "reloaded", d->conf_path,
		  d->conf.n_servers, d->udp >= 0 ? "on" : "off",
		  d->watching ? "on" : "off");
	ret = 0;
	goto out;
fail:
	if (!initial) {
		d->reload_failed++;
		snprintf(d->reload_err, sizeof(d->reload_err), "%s", err);
		ftpxd_log(d, 0, "reload refused, old configuration stays: %s",
			  err);
	} else {
		fprintf(stderr, "ftpxd: %s\n", err);
	}
out:
	if (udp >= 0)
		close(udp);
	if (unx >= 0) {
		close(unx);
		unlink(nc->socket);
	}
	ftpx_replay_free(&rp);
	free(nc);
	return ret;
}

static void local_found(const struct ftpx_found *f, void *data)
{
	struct ftpxd *d = data;
	struct ftpxd_src src = { .kind = FTPXD_SRC_LOCAL,
				 .seen_ns = f->seen_ns };
	struct ftpx_result res;
	struct ftpx_hint h;
	double ms;

	ftpx_found_hint(f, &h);
	h.age_us = (uint32_t)((ftpx_mono_ns() - f->seen_ns) / 1000);
	d->received++;
	if (ftpxd_hint(d, &h, &src, &res) != FTPX_V_ACCEPTED)
		return;
	ms = (double)(ftpx_mono_ns() - f->seen_ns) / 1e6;
	d->lat_last_ms = ms;
	d->lat_sum_ms += ms;
	d->lat_n++;
	if (ms > d->lat_max_ms)
		d->lat_max_ms = ms;
	ftpxd_log(d, 1, "local hint for port %u: listener seen -> expectation present in %.2f ms",
		  h.port, ms);
}

static int run(struct ftpxd *d)
{
	struct epoll_event evs[16];
	int n, i;

	for (;;) {
		/* the log lines of one wakeup go out together, before the
		 * next wait */
		fflush(stderr);
		n = epoll_wait(d->ep, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ftpxd_log(d, 0, "epoll: %s", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			uint32_t tag = evs[i].data.u32;

			switch (tag) {
			case TAG_SIG: {
				struct signalfd_siginfo si;

				while (read(d->sig, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						reload(d, 0, 0);
						continue;
					}
					ftpxd_log(d, 1, "signal %u: stopping",
						  si.ssi_signo);
					return 0;
				}
				break;
			}
			case TAG_UDP:
				ftpxd_udp_read(d);
				break;
			case TAG_UNIX:
				ftpxd_unix_accept(d);
				break;
			case TAG_EV: {
				int r = ftpx_ctev_read(d->ev, ftpxd_exp_event, d);

				if (r == -ENOBUFS) {
					/* events were lost: the kernel's table
					 * is the truth, read it again */
					d->enobufs++;
					ftpxd_log(d, 0, "expectation events lost (ENOBUFS): resync");
					ftpxd_resync(d);
					ftpx_ctev_read(d->ev, ftpxd_exp_event, d);
				} else if (r < 0) {
					ftpxd_log(d, 0, "expectation events: %s",
						  strerror(-r));
				}
				break;
			}
			case TAG_TIMER: {
				uint64_t ticks;

				if (read(d->timer, &ticks, sizeof(ticks)) < 0 &&
				    errno == EAGAIN)
					break;
				if (ftpx_watch_scan(&d->watch, local_found, d) < 0)
					ftpxd_log(d, 2, "listener scan: %s",
						  strerror(errno));
				break;
			}
			default:
				if (tag >= TAG_CLIENT &&
				    tag < TAG_CLIENT + FTPXD_MAX_CLIENTS &&
				    d->clients[tag - TAG_CLIENT] >= 0)
					ftpxd_unix_read(d, (int)(tag - TAG_CLIENT));
			}
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "local", no_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct ftpxd d;
	int c, check = 0, local = 0, i, ret;
	sigset_t mask;

	/* flushed by run() after each wakeup: one write for the lines of a
	 * batch of hints */
	setvbuf(stderr, NULL, _IOFBF, 1 << 16);
	d.conf_path = FTPX_DEFAULT_CONF;
	d.verbose = 1;
	while ((c = getopt_long(argc, argv, "c:ltvqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 'l':
			local = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			d.verbose++;
			break;
		case 'q':
			d.verbose = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ftpxd %s (hint format %d)\n", FTPXD_VERSION,
			       FTPX_WIRE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ftpxd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check) {
		struct ftpx_conf *cf = malloc(sizeof(*cf));
		uint8_t key[FTPX_KEY_MAX];
		char err[512];

		if (!cf)
			return 1;
		ftpx_conf_defaults(cf);
		ret = ftpx_conf_load(d.conf_path, cf, err, sizeof(err));
		if (!ret && cf->listen.family &&
		    ftpx_key_load(cf->key_file, key, err, sizeof(err)) < 0)
			ret = -1;
		if (ret)
			fprintf(stderr, "ftpxd: %s\n", err);
		else
			printf("%s: ok (%d servers)\n", d.conf_path, cf->n_servers);
		free(cf);
		return ret ? 1 : 0;
	}

	d.udp = d.unx = d.timer = d.ep = d.sig = -1;
	for (i = 0; i < FTPXD_MAX_CLIENTS; i++)
		d.clients[i] = -1;
	d.start_us = ftpx_now_us();
	ftpx_wire_init();
	/* a peer closing while we answer must not kill us */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sig = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (d.sig < 0 || d.ep < 0) {
		fprintf(stderr, "ftpxd: %s\n", strerror(errno));
		return 1;
	}
	ep_set(&d, d.sig, TAG_SIG, 1);
	if (ftpx_ctnl_open(&d.ct) < 0) {
		fprintf(stderr, "ftpxd: %s\n", d.ct.err);
		return 1;
	}
	/* subscribe before the first dump so nothing falls in between */
	ret = ftpx_ctev_open(&d.ev, 8u << 20);
	if (ret < 0) {
		fprintf(stderr, "ftpxd: expectation events: %s\n", strerror(-ret));
		return 1;
	}
	if (reload(&d, 1, local) < 0)
		return 1;
	ep_set(&d, mnl_socket_get_fd(d.ev), TAG_EV, 1);
	/* a restart finds the kernel's expectations where it left them */
	ftpxd_resync(&d);
	d.resyncs = 0;

	ret = run(&d);

	watch_stop(&d);
	if (d.unx >= 0) {
		close(d.unx);
		unlink(d.conf.socket);
	}
	if (d.udp >= 0)
		close(d.udp);
	mnl_socket_close(d.ev);
	ftpx_ctnl_close(&d.ct);
	ftpx_replay_free(&d.replay);
	free(d.pend);
	return ret;
}
