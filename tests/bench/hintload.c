// SPDX-License-Identifier: GPL-2.0
/*
 * Hint load for ftpxd: signed hints over UDP, as ftpx-agent sends them, for
 * one live FTPS control connection, with a varying data port.
 *
 *   hintload latency SERVER:PORT KEYFILE CLIENT CPORT SRV SPORT COUNT
 *       one hint at a time; per hint the time from send() to ftpxd's
 *       verdict (ftpxd answers once ctnetlink has acknowledged the
 *       expectation); prints "lat_us N" lines, then "accepted N refused N"
 *   hintload rate SERVER:PORT KEYFILE CLIENT CPORT SRV SPORT SECONDS WINDOW
 *       keep WINDOW hints in flight for SECONDS (refilled with one sendmmsg,
 *       answers taken with one recvmmsg); prints "sent N", "accepted N",
 *       "refused N", "lost N", "seconds S", "rate R" (accepted per second)
 *   hintload echo-server ADDR:PORT
 *       answer every datagram with itself (the floor: the same UDP round
 *       trip with no work behind it)
 *   hintload echo SERVER:PORT COUNT
 *       round trips of a hint-sized datagram; prints "lat_us N" lines
 *
 * CLIENT/SRV are IPv4 addresses as the server sees the control connection;
 * data ports cycle through 20000-59999.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "wire.h"

static uint8_t key[FTPX_KEY_MAX];
static int klen;

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int parse_ep(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *c = strrchr(s, ':');

	if (!c || c - s >= (int)sizeof(host))
		return -1;
	memcpy(host, s, c - s);
	host[c - s] = 0;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(c + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int udp_to(const char *ep)
{
	struct sockaddr_in sa;
	int fd, sz = 4 << 20;

	if (parse_ep(ep, &sa)) {
		fprintf(stderr, "hintload: bad address %s\n", ep);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("hintload: connect");
		exit(2);
	}
	return fd;
}

static struct ftpx_hint hint;
static unsigned int next_port;

static uint64_t send_hint(int fd)
{
	struct ftpx_hdr hdr = { .ts_us = ftpx_now_us(), .nonce = ftpx_nonce() };
	uint8_t buf[FTPX_HINT_LEN];
	size_t len;

	hint.port = 20000 + next_port++ % 40000;
	len = ftpx_wire_hint(buf, &hdr, &hint, key, klen);
	if (send(fd, buf, len, 0) < 0 && errno != ENOBUFS) {
		perror("hintload: send");
		exit(1);
	}
	return hdr.nonce;
}

/* Read one verdict; -1 on timeout. */
static int get_result(int fd, int timeout_ms, uint64_t *nonce)
{
	uint8_t buf[FTPX_WIRE_MAX];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ftpx_result r;
	struct ftpx_hdr h;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0 || ftpx_wire_hdr(buf, n, &h) ||
	    ftpx_wire_verify(buf, n, key, klen) ||
	    ftpx_wire_get_result(buf, n, &r))
		return FTPX_V_MALFORMED;
	if (nonce)
		*nonce = r.nonce;
	if (r.verdict != FTPX_V_ACCEPTED)
		fprintf(stderr, "refused: %s %s\n", ftpx_verdict_name(r.verdict),
			r.detail);
	return r.verdict;
}

static void set_hint(char **a)
{
	char err[128];

	klen = ftpx_key_load(a[1], key, err, sizeof(err));
	if (klen < 0) {
		fprintf(stderr, "hintload: %s\n", err);
		exit(2);
	}
	hint.family = 4;
	hint.candidates = 1;
	if (inet_pton(AF_INET, a[2], hint.client) != 1 ||
	    inet_pton(AF_INET, a[4], hint.server) != 1) {
		fprintf(stderr, "hintload: bad address\n");
		exit(2);
	}
	hint.cport = atoi(a[3]);
	hint.sport = atoi(a[5]);
}

static int do_latency(char **a, int count)
{
	int fd = udp_to(a[0]), i, acc = 0, ref = 0, v;

	set_hint(a);
	for (i = 0; i < count; i++) {
		uint64_t want = send_hint(fd), got = 0;
		double t0 = mono();

		do
			v = get_result(fd, 2000, &got);
		while (v >= 0 && got != want);
		if (v == FTPX_V_ACCEPTED) {
			acc++;
			printf("lat_us %.1f\n", (mono() - t0) * 1e6);
		} else {
			ref++;
		}
	}
	printf("accepted %d refused %d\n", acc, ref);
	return acc ? 0 : 1;
}

/* A verdict from a received result; -1 if it is not one. */
static int verdict_of(const uint8_t *buf, size_t n)
{
	struct ftpx_result r;
	struct ftpx_hdr h;

	if (ftpx_wire_hdr(buf, n, &h) || ftpx_wire_verify(buf, n, key, klen) ||
	    ftpx_wire_get_result(buf, n, &r))
		return FTPX_V_MALFORMED;
	if (r.verdict != FTPX_V_ACCEPTED)
		fprintf(stderr, "refused: %s %s\n", ftpx_verdict_name(r.verdict),
			r.detail);
	return r.verdict;
}

#define RATE_MAX	256

/* The window is refilled with one sendmmsg and the answers queued are
 * taken with one recvmmsg: the generator's own system calls must not be
 * what limits the rate it measures. */
static int do_rate(char **a, double secs, int window)
{
	static uint8_t out[RATE_MAX][FTPX_HINT_LEN], in[RATE_MAX][FTPX_WIRE_MAX];
	struct mmsghdr om[RATE_MAX], im[RATE_MAX];
	struct iovec oiov[RATE_MAX], iiov[RATE_MAX];
	int fd = udp_to(a[0]), inflight = 0, v, i, k;
	long acc = 0, ref = 0, sent = 0;
	double t0, t, stop;

	if (window < 1 || window > RATE_MAX) {
		fprintf(stderr, "hintload: window 1-%d\n", RATE_MAX);
		return 2;
	}
	set_hint(a);
	memset(om, 0, sizeof(om));
	for (i = 0; i < RATE_MAX; i++) {
		oiov[i].iov_base = out[i];
		om[i].msg_hdr.msg_iov = &oiov[i];
		om[i].msg_hdr.msg_iovlen = 1;
		iiov[i].iov_base = in[i];
		iiov[i].iov_len = sizeof(in[i]);
	}
	t0 = mono();
	stop = t0 + secs;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		t = mono();
		/* after the time is up only the last window's answers */
		if (t >= stop + (inflight ? 0.5 : 0))
			break;
		for (k = 0; t < stop && inflight + k < window; k++) {
			struct ftpx_hdr hdr = { .ts_us = ftpx_now_us(),
						.nonce = ftpx_nonce() };

			hint.port = 20000 + next_port++ % 40000;
			oiov[k].iov_len = ftpx_wire_hint(out[k], &hdr, &hint,
							 key, klen);
		}
		for (i = 0; i < k; ) {
			int r = sendmmsg(fd, om + i, (unsigned int)(k - i), 0);

			if (r < 0 && errno != ENOBUFS) {
				perror("hintload: sendmmsg");
				return 1;
			}
			i += r > 0 ? r : 1;	/* ENOBUFS: that one is lost */
		}
		inflight += k;
		sent += k;
		if (poll(&p, 1, t >= stop ? 500 : 1000) <= 0) {
			/* lost datagrams: stop waiting for them */
			inflight = 0;
			if (t >= stop)
				break;
			continue;
		}
		memset(im, 0, sizeof(im));
		for (i = 0; i < RATE_MAX; i++) {
			im[i].msg_hdr.msg_iov = &iiov[i];
			im[i].msg_hdr.msg_iovlen = 1;
		}
		k = recvmmsg(fd, im, RATE_MAX, MSG_DONTWAIT, NULL);
		for (i = 0; i < k; i++) {
			v = verdict_of(in[i], im[i].msg_len);
			if (inflight > 0)
				inflight--;
			if (v == FTPX_V_ACCEPTED)
				acc++;
			else
				ref++;
		}
	}
	t = mono() - t0;
	printf("sent %ld\naccepted %ld\nrefused %ld\nlost %ld\nseconds %.2f\nrate %.0f\n",
	       sent, acc, ref, sent - acc - ref, t, acc / t);
	return acc ? 0 : 1;
}

static int do_echo_server(const char *ep)
{
	struct sockaddr_in sa, from;
	socklen_t fl;
	uint8_t buf[2048];
	ssize_t n;
	int fd;

	if (parse_ep(ep, &sa))
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("hintload: bind");
		return 2;
	}
	printf("echo ready\n");
	fflush(stdout);
	for (;;) {
		fl = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n > 0)
			sendto(fd, buf, n, 0, (struct sockaddr *)&from, fl);
	}
}

static int do_echo(const char *ep, int count)
{
	uint8_t buf[FTPX_HINT_LEN], in[2048];
	struct pollfd p;
	int fd = udp_to(ep), i, ok = 0;

	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < count; i++) {
		double t0 = mono();

		p.fd = fd;
		p.events = POLLIN;
		if (send(fd, buf, sizeof(buf), 0) < 0 || poll(&p, 1, 2000) <= 0 ||
		    recv(fd, in, sizeof(in), 0) != sizeof(buf))
			continue;
		ok++;
		printf("lat_us %.1f\n", (mono() - t0) * 1e6);
	}
	printf("answered %d of %d\n", ok, count);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	ftpx_wire_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 9 && !strcmp(argv[1], "latency"))
		return do_latency(argv + 2, atoi(argv[8]));
	if (argc == 10 && !strcmp(argv[1], "rate"))
		return do_rate(argv + 2, atof(argv[8]), atoi(argv[9]));
	if (argc == 3 && !strcmp(argv[1], "echo-server"))
		return do_echo_server(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return do_echo(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of hintload.c\n");
	return 2;
}
