// SPDX-License-Identifier: GPL-2.0
/*
 * ftpxctl: inspect and configure nf_ftpx.
 * Exit codes: 0 success, 1 the kernel refused or an operation failed,
 * 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "genl.h"

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
"  status                    stats, servers and sessions\n\n"
"Options:\n"
"  -h, --help                show this help\n"
"  -V, --version             show the version\n\n"
"Exit status: 0 success, 1 refused or failed (the reason is printed),\n"
"2 usage error.\n");
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
	if (!strcmp(cmd, "status")) {
		int r = cmd_stats();

		printf("\n");
		r |= cmd_servers();
		printf("\n");
		return r | cmd_sessions();
	}
	return die_usage("unknown command");
}
