// SPDX-License-Identifier: GPL-2.0
/*
 * ftpxctl: inspect and configure nf_ftpx.
 * Exit codes: 0 success, 1 the kernel (or ftpxd) refused or an operation
 * failed, 2 usage error, 3 ftpxd did not answer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "conf.h"
#include "genl.h"
#include "wire.h"

#define FTPX_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ftpxctl [OPTION] COMMAND [ARGS]\n"
"Inspect and configure the nf_ftpx FTP/FTPS conntrack helper.\n\n"
"Commands:\n"
"  stats                     counters of this network namespace\n"
"  sessions                  control connections with helper \"ftpx\"\n"
"  expect                    pending expectations created by \"ftpx\"\n"
"  servers                   configured server entries\n"
"  server set ADDR [pasv MIN-MAX] [masq ADDR] [internal PFX[,PFX...]]\n"
"                            add or replace the entry for server ADDR (its\n"
"                            real address, after any DNAT)\n"
"  server del ADDR           remove an entry\n"
"  flush                     remove every entry\n"
"  status                    stats, servers and sessions\n"
"  hints [--socket PATH]     ftpxd: hints accepted and refused by reason,\n"
"                            pending hint expectations, recent verdicts\n"
"  hint [HINT OPTIONS] client ADDR cport PORT server ADDR sport PORT port PORT\n"
"                            send ftpxd a hint: PORT may be expected from the\n"
"                            client of that control connection (ADDRs as the\n"
"                            server sees them); prints ftpxd's verdict\n\n"
"Hint options:\n"
"  --socket PATH             ftpxd's local socket (default " FTPX_DEFAULT_SOCKET ")\n"
"  --udp ADDR[:PORT]         send over UDP like ftpx-agent instead (port\n"
"                            default 4021), signed with --key-file FILE\n"
"  --key-file FILE           pre-shared key for --udp\n"
"  --save FILE               also write the datagram sent to FILE\n"
"  --send FILE               send FILE's bytes as they are (a saved datagram)\n"
"  --ts-offset SECONDS       shift the message's timestamp (tests)\n"
"  --unmapped N              say the listener maps to N control connections\n"
"  --timeout MS              wait that long for the verdict (default 2000)\n\n"
"Options:\n"
"  -h, --help                show this help\n"
"  -V, --version             show the version\n\n"
"Exit status: 0 success, 1 refused or failed (the reason is printed),\n"
"2 usage error, 3 ftpxd did not answer (it does not answer messages that\n"
"fail authentication, freshness or replay checks).\n");
}

static int die_usage(const char *msg)
{
	fprintf(stderr, "ftpxctl: %s\n", msg);
	usage(stderr);
	return 2;
}

static int open_genl(struct ftpx_genl *g)
{
	if (ftpx_genl_open(g) < 0) {
		fprintf(stderr, "ftpxctl: %s\n", g->err);
		return -1;
	}
	return 0;
}

static int cmd_stats(void)
{
	uint64_t v[FTPX_STAT_MAX];
	struct ftpx_genl g;
	int i;

	if (open_genl(&g) < 0)
		return 1;
	if (ftpx_genl_stats(&g, v) < 0) {
		fprintf(stderr, "ftpxctl: stats: %s\n", g.err);
		ftpx_genl_close(&g);
		return 1;
	}
	for (i = 0; i < FTPX_STAT_MAX; i++)
		printf("%-16s %llu\n", ftpx_stat_name(i),
		       (unsigned long long)v[i]);
	ftpx_genl_close(&g);
	return 0;
}

static void print_server(const struct ftpx_server_cfg *s, void *data)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	(void)data;
	inet_ntop(s->family, s->addr, a, sizeof(a));
	printf("server %s", a);
	if (s->pasv_min)
		printf(" pasv %u-%u", s->pasv_min, s->pasv_max);
	if (s->has_masq) {
		inet_ntop(s->family, s->masq, a, sizeof(a));
		printf(" masq %s", a);
	}
	for (i = 0; i < s->n_internal; i++) {
		inet_ntop(s->internal[i].family, s->internal[i].addr, a,
			  sizeof(a));
		printf("%s%s/%u", i ? "," : " internal ", a,
		       s->internal[i].len);
	}
	printf("\n");
}

static int cmd_servers(void)
{
	struct ftpx_genl g;
	int ret = 0;

	if (open_genl(&g) < 0)
		return 1;
	if (ftpx_genl_servers(&g, print_server, NULL) < 0) {
		fprintf(stderr, "ftpxctl: servers: %s\n", g.err);
		ret = 1;
	}
	ftpx_genl_close(&g);
	return ret;
}

static int cmd_server(int argc, char **argv)
{
	struct ftpx_server_cfg s;
	struct ftpx_genl g;
	int i, ret = 0;

	if (argc < 2)
		return die_usage("server: expected set|del ADDR");
	memset(&s, 0, sizeof(s));
	if (ftpx_parse_addr(argv[1], &s.family, s.addr)) {
		fprintf(stderr, "ftpxctl: \"%s\" is not an IPv4 or IPv6 address\n",
			argv[1]);
		return 2;
	}
	if (!strcmp(argv[0], "set")) {
		for (i = 2; i < argc; i += 2) {
			const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

			if (!v)
				return die_usage("server set: option without a value");
			if (!strcmp(k, "pasv")) {
				unsigned int lo, hi;
				char c;

				if (sscanf(v, "%u-%u%c", &lo, &hi, &c) != 2 ||
				    !lo || hi > 65535 || lo > hi) {
					fprintf(stderr, "ftpxctl: pasv \"%s\": expected MIN-MAX within 1-65535\n", v);
					return 2;
				}
				s.pasv_min = lo;
				s.pasv_max = hi;
			} else if (!strcmp(k, "masq")) {
				int fam;

				if (ftpx_parse_addr(v, &fam, s.masq) ||
				    fam != s.family) {
					fprintf(stderr, "ftpxctl: masq \"%s\": not an address of the server's family\n", v);
					return 2;
				}
				s.has_masq = 1;
			} else if (!strcmp(k, "internal")) {
				char *dup = strdup(v), *tok, *save = NULL;

				for (tok = strtok_r(dup, ",", &save); tok;
				     tok = strtok_r(NULL, ",", &save)) {
					if (s.n_internal >= FTPX_MAX_INTERNAL ||
					    ftpx_parse_prefix(tok, &s.internal[s.n_internal])) {
						fprintf(stderr, "ftpxctl: internal prefix \"%s\" is invalid (at most %d prefixes)\n",
							tok, FTPX_MAX_INTERNAL);
						free(dup);
						return 2;
					}
					s.n_internal++;
				}
				free(dup);
			} else {
				fprintf(stderr, "ftpxctl: unknown server option \"%s\"\n", k);
				return 2;
			}
		}
		if (open_genl(&g) < 0)
			return 1;
		if (ftpx_genl_set_server(&g, &s) < 0) {
			fprintf(stderr, "ftpxctl: server set refused: %s\n", g.err);
			ret = 1;
		}
	} else if (!strcmp(argv[0], "del")) {
		if (open_genl(&g) < 0)
			return 1;
		if (ftpx_genl_del_server(&g, s.family, s.addr) < 0) {
			fprintf(stderr, "ftpxctl: server del refused: %s\n", g.err);
			ret = 1;
		}
	} else {
		return die_usage("server: expected set or del");
	}
	ftpx_genl_close(&g);
	return ret;
}

static int cmd_flush(void)
{
	struct ftpx_genl g;
	int ret = 0;

	if (open_genl(&g) < 0)
		return 1;
	if (ftpx_genl_flush(&g) < 0) {
		fprintf(stderr, "ftpxctl: flush: %s\n", g.err);
		ret = 1;
	}
	ftpx_genl_close(&g);
	return ret;
}

static int session_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
		      void *data)
{
	const char *helper = nfct_get_attr(ct, ATTR_HELPER_NAME);
	const struct ftpx_help_info *hi;
	char buf[1024];
	int *n = data;

	(void)type;
	if (!helper || strcmp(helper, "ftpx"))
		return NFCT_CB_CONTINUE;
	/* libnetfilter_conntrack keeps no length for it: the helper name was
	 * checked above and nf_ftpx always sends the whole struct */
	hi = nfct_get_attr(ct, ATTR_HELPER_INFO);
	nfct_snprintf(buf, sizeof(buf), ct, NFCT_T_UNKNOWN, NFCT_O_DEFAULT,
		      NFCT_OF_SHOW_LAYER3);
	if (hi && hi->version == 1) {
		printf("mode=%s expects=%u rewrites=%u refused=%u gates=%u %s\n",
		       ftpx_mode_name(hi->mode), ntohl(hi->expects),
		       ntohl(hi->rewrites), ntohl(hi->refused),
		       ntohs(hi->gates), buf);
	} else {
		printf("mode=data %s\n", buf);
	}
	(*n)++;
	return NFCT_CB_CONTINUE;
}

static int cmd_sessions(void)
{
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);
	int n = 0, ret = 0;

	if (!h) {
		fprintf(stderr, "ftpxctl: conntrack: %s\n", strerror(errno));
		return 1;
	}
	uint32_t fam = AF_UNSPEC;

	nfct_callback_register(h, NFCT_T_ALL, session_cb, &n);
	if (nfct_query(h, NFCT_Q_DUMP, &fam) < 0) {
		fprintf(stderr, "ftpxctl: dump: %s\n", strerror(errno));
		ret = 1;
	}
	nfct_close(h);
	return ret;
}

static int expect_cb(enum nf_conntrack_msg_type type,
		     struct nf_expect *exp, void *data)
{
	const char *helper = nfexp_get_attr(exp, ATTR_EXP_HELPER_NAME);
	char buf[1024];

	(void)type;
	(void)data;
	if (!helper || strncmp(helper, "ftpx", 4))
		return NFCT_CB_CONTINUE;
	nfexp_snprintf(buf, sizeof(buf), exp, NFCT_T_UNKNOWN, NFCT_O_DEFAULT,
		       0);
	printf("%s\n", buf);
	return NFCT_CB_CONTINUE;
}

static int cmd_expect(void)
{
	struct nfct_handle *h = nfct_open(EXPECT, 0);
	uint32_t fam = AF_UNSPEC;
	int ret = 0;

	if (!h) {
		fprintf(stderr, "ftpxctl: conntrack: %s\n", strerror(errno));
		return 1;
	}
	nfexp_callback_register(h, NFCT_T_ALL, expect_cb, NULL);
	if (nfexp_query(h, NFCT_Q_DUMP, &fam) < 0) {
		fprintf(stderr, "ftpxctl: expect dump: %s\n", strerror(errno));
		ret = 1;
	}
	nfct_close(h);
	return ret;
}

/* ---- ftpxd: hints and status --------------------------------------- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ftpxctl: socket path too long\n");
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "ftpxctl: ftpxd at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int udp_connect(const struct ftpx_sockaddr *a)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd;

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
	fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		fprintf(stderr, "ftpxctl: udp: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Wait for a datagram; its length, 0 on timeout, -1 on error. */
static ssize_t wait_msg(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		int r = poll(&pf, 1, timeout_ms);

		if (r <= 0)
			return r;
		n = recv(fd, buf, len, MSG_TRUNC);
		if (n < 0 && errno == ECONNREFUSED)
			continue;	/* ICMP: nobody listens; keep waiting */
		return n;
	}
}

static int addr_arg(const char *v, int *family, uint8_t *addr, int want)
{
	int fam;

	if (ftpx_parse_addr(v, &fam, addr) || (want && fam != want)) {
		fprintf(stderr, "ftpxctl: hint: \"%s\" is not an address of the hint's family\n", v);
		return -1;
	}
	*family = fam;
	return 0;
}

static int port_arg(const char *k, const char *v, uint16_t *out)
{
	unsigned int p;

	if (ftpx_parse_uint(v, 1, 65535, &p)) {
		fprintf(stderr, "ftpxctl: hint: %s \"%s\": 1-65535\n", k, v);
		return -1;
	}
	*out = (uint16_t)p;
	return 0;
}

static int cmd_hint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "udp", required_argument, NULL, 'u' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "save", required_argument, NULL, 'S' },
		{ "send", required_argument, NULL, 'R' },
		{ "ts-offset", required_argument, NULL, 'o' },
		{ "unmapped", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = FTPX_DEFAULT_SOCKET, *keyf = NULL, *save = NULL;
	const char *raw = NULL;
	struct ftpx_sockaddr udp = { 0 };
	struct ftpx_hint h = { 0 };
	struct ftpx_hdr hdr;
	struct ftpx_result r;
	uint8_t key[FTPX_KEY_MAX], buf[2048];
	long long ts_off = 0;
	unsigned int timeout = 2000, unmapped = 0;
	int c, i, fd, klen = 0, fam = 0, have = 0;
	char err[300];
	size_t len;
	ssize_t n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'u':
			if (ftpx_sockaddr_parse(optarg, FTPX_DEFAULT_UDP_PORT, &udp))
				return die_usage("hint --udp: expected ADDR[:PORT]");
			break;
		case 'k':
			keyf = optarg;
			break;
		case 'S':
			save = optarg;
			break;
		case 'R':
			raw = optarg;
			break;
		case 'o':
			ts_off = strtoll(optarg, NULL, 10);
			break;
		case 'm':
			if (ftpx_parse_uint(optarg, 0, 65535, &unmapped))
				return die_usage("hint --unmapped: 0-65535");
			h.flags |= FTPX_HINT_F_UNMAPPED;
			break;
		case 't':
			if (ftpx_parse_uint(optarg, 1, 600000, &timeout))
				return die_usage("hint --timeout: 1-600000 ms");
			break;
		default:
			return die_usage("hint: unknown option");
		}
	}
	for (i = optind; !raw && i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return die_usage("hint: a keyword without a value");
		if (!strcmp(k, "client")) {
			if (addr_arg(v, &fam, h.client, fam))
				return 2;
			have |= 1;
		} else if (!strcmp(k, "server")) {
			if (addr_arg(v, &fam, h.server, fam))
				return 2;
			have |= 2;
		} else if (!strcmp(k, "cport")) {
			if (port_arg(k, v, &h.cport))
				return 2;
			have |= 4;
		} else if (!strcmp(k, "sport")) {
			if (port_arg(k, v, &h.sport))
				return 2;
			have |= 8;
		} else if (!strcmp(k, "port")) {
			if (port_arg(k, v, &h.port))
				return 2;
			have |= 16;
		} else {
			fprintf(stderr, "ftpxctl: hint: unknown keyword \"%s\"\n", k);
			return 2;
		}
	}
	if (!raw && (have & 18) != 18)
		return die_usage("hint: needs at least server ADDR and port PORT");
	if (!raw && !(h.flags & FTPX_HINT_F_UNMAPPED) && have != 31)
		return die_usage("hint: needs client, cport, server, sport and port");
	h.family = fam == AF_INET6 ? 6 : 4;
	h.candidates = h.flags ? (uint16_t)unmapped : 1;
	if (udp.family) {
		if (!keyf && !raw)
			return die_usage("hint --udp needs --key-file");
		if (keyf) {
			klen = ftpx_key_load(keyf, key, err, sizeof(err));
			if (klen < 0) {
				fprintf(stderr, "ftpxctl: %s\n", err);
				return 1;
			}
		}
		fd = udp_connect(&udp);
	} else {
		fd = unix_connect(sock);
	}
	if (fd < 0)
		return 1;
	if (raw) {
		FILE *f = fopen(raw, "re");

		len = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		if (!len) {
			fprintf(stderr, "ftpxctl: --send %s: nothing to send\n", raw);
			close(fd);
			return 1;
		}
		hdr.nonce = 0;
		if (len >= FTPX_WIRE_HDR)
			ftpx_wire_hdr(buf, len, &hdr);
	} else {
		hdr.ts_us = ftpx_now_us() + (uint64_t)(ts_off * 1000000);
		hdr.nonce = ftpx_nonce();
		len = ftpx_wire_hint(buf, &hdr, &h, udp.family ? key : NULL,
				     (size_t)klen);
	}
	if (save) {
		FILE *f = fopen(save, "we");

		if (!f || fwrite(buf, 1, len, f) != len) {
			fprintf(stderr, "ftpxctl: --save %s: %s\n", save,
				strerror(errno));
			if (f)
				fclose(f);
			close(fd);
			return 1;
		}
		fclose(f);
	}
	if (send(fd, buf, len, 0) < 0) {
		fprintf(stderr, "ftpxctl: hint: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	n = wait_msg(fd, buf, sizeof(buf), (int)timeout);
	close(fd);
	if (n <= 0) {
		printf("no answer from ftpxd within %u ms\n", timeout);
		return 3;
	}
	if (ftpx_wire_hdr(buf, (size_t)n, &hdr) || hdr.type != FTPX_MSG_RESULT ||
	    (udp.family && klen &&
	     ftpx_wire_verify(buf, (size_t)n, key, (size_t)klen)) ||
	    ftpx_wire_get_result(buf, (size_t)n, &r)) {
		fprintf(stderr, "ftpxctl: hint: unusable answer from ftpxd\n");
		return 1;
	}
	printf("%s%s%s\n", ftpx_verdict_name(r.verdict),
	       r.detail[0] ? ": " : "", r.detail);
	return r.verdict == FTPX_V_ACCEPTED ? 0 : 1;
}

static int cmd_hints(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = FTPX_DEFAULT_SOCKET;
	struct ftpx_hdr hdr = { .ts_us = ftpx_now_us(), .nonce = ftpx_nonce() };
	uint8_t req[FTPX_STATUS_REQ_LEN], *buf;
	ssize_t n;
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return die_usage("hints: unknown option");
		sock = optarg;
	}
	if (optind < argc)
		return die_usage("hints: unexpected argument");
	fd = unix_connect(sock);
	if (fd < 0)
		return 1;
	buf = malloc(FTPX_WIRE_MAX + 1);
	if (!buf) {
		close(fd);
		return 1;
	}
	ftpx_wire_status_req(req, &hdr);
	if (send(fd, req, sizeof(req), 0) < 0 ||
	    (n = wait_msg(fd, buf, FTPX_WIRE_MAX, 5000)) <= 0) {
		fprintf(stderr, "ftpxctl: hints: no answer from ftpxd\n");
		close(fd);
		free(buf);
		return 3;
	}
	close(fd);
	if (ftpx_wire_hdr(buf, (size_t)n, &hdr) || hdr.type != FTPX_MSG_STATUS) {
		fprintf(stderr, "ftpxctl: hints: unusable answer from ftpxd\n");
		free(buf);
		return 1;
	}
	buf[n - FTPX_WIRE_MAC] = 0;
	fputs((char *)buf + FTPX_WIRE_HDR, stdout);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ftpxctl %s\n", FTPX_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc)
		return die_usage("missing command");
	cmd = argv[optind];
	if (!strcmp(cmd, "stats"))
		return cmd_stats();
	if (!strcmp(cmd, "servers"))
		return cmd_servers();
	if (!strcmp(cmd, "server"))
		return cmd_server(argc - optind - 1, argv + optind + 1);
	if (!strcmp(cmd, "flush"))
		return cmd_flush();
	if (!strcmp(cmd, "sessions"))
		return cmd_sessions();
	if (!strcmp(cmd, "expect"))
		return cmd_expect();
	if (!strcmp(cmd, "hint"))
		return cmd_hint(argc - optind, argv + optind);
	if (!strcmp(cmd, "hints"))
		return cmd_hints(argc - optind, argv + optind);
	if (!strcmp(cmd, "status")) {
		int r = cmd_stats();

		printf("\n");
		r |= cmd_servers();
		printf("\n");
		return r | cmd_sessions();
	}
	return die_usage("unknown command");
}
