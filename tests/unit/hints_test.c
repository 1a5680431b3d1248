// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the userspace side of hints (userspace/): HMAC-SHA256
 * against RFC 4231, the wire format against golden bytes computed
 * independently (Python's hmac/struct, also printed in docs/hints.md),
 * decoder refusals, the replay cache, the config parser, and the ctnetlink
 * expectation request (the attributes libnetfilter_conntrack 1.0.9 drops
 * must be there, with the right types) and reply parsing.
 * Prints "PASS: hints: <name>" or "FAIL: hints: <name> (why)" per test;
 * exits 1 if anything failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "wire.h"
#include "replay.h"
#include "conf.h"
#include "ctnl.h"

static int failed;

static void result(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* fmt NULL: pass */
static void result(const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!fmt) {
		printf("PASS: hints: %s\n", name);
		return;
	}
	failed = 1;
	printf("FAIL: hints: %s (", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(")\n");
}

#define CHECK(name, cond, ...) \
	result(name, (cond) ? NULL : __VA_ARGS__)

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (h[0] && h[1]) {
		unsigned int b;

		sscanf(h, "%2x", &b);
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
	while (n--)
		out += sprintf(out, "%02x", *p++);
}

/* ---- HMAC-SHA256: RFC 4231 test cases ------------------------------- */

static void test_hmac(void)
{
	static const struct {
		const char *name, *key, *data, *mac;
	} v[] = {
		{ "rfc4231 case 1",
		  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		  "4869205468657265",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "rfc4231 case 2",
		  "4a656665",
		  "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "rfc4231 case 3",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ "rfc4231 case 4",
		  "0102030405060708090a0b0c0d0e0f10111213141516171819",
		  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ "rfc4231 case 6 (key longer than a block)",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ "rfc4231 case 7",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
		  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t key[200], data[200], mac[32];
		char got[65];
		size_t kl = unhex(v[i].key, key), dl = unhex(v[i].data, data);

		ftpx_hmac(key, kl, data, dl, mac);
		tohex(mac, 32, got);
		CHECK(v[i].name, !strcmp(got, v[i].mac), "got %s", got);
	}
}

/* ---- wire format ---------------------------------------------------- */

static const uint8_t gkey[] = "ftpx-example-key-0123456789";
#define GKLEN (sizeof(gkey) - 1)
static const char *golden_hint =
	"465450580101006c00060a24181e40000123456789abcdef04009c40c8220015"
	"c6336402000000000000000000000000c0a80102000000000000000000000000"
	"0001000000001092000005dcd2c3352a466f9e223c5df800bf745d94ae03c3b6"
	"d08cd295c49e5e7b451efad9";
static const char *golden_result =
	"465450580102008800060a24181e43e8fedcba98765432100123456789abcdef"
	"00000000000000006578706563746174696f6e20637265617465640000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000001ea1065c47b9b8759273c5d710550e51366d894677169a61"
	"49d0c5cb9f850f13";

static void golden(struct ftpx_hdr *h, struct ftpx_hint *hint)
{
	memset(hint, 0, sizeof(*hint));
	h->ts_us = 1700000000000000ULL;
	h->nonce = 0x0123456789abcdefULL;
	hint->family = 4;
	hint->port = 40000;
	hint->cport = 51234;
	hint->sport = 21;
	inet_pton(AF_INET, "198.51.100.2", hint->client);
	inet_pton(AF_INET, "192.168.1.2", hint->server);
	hint->candidates = 1;
	hint->pid = 4242;
	hint->age_us = 1500;
}

static void test_wire(void)
{
	uint8_t buf[FTPX_WIRE_MAX], gold[256];
	struct ftpx_hint hint, back;
	struct ftpx_result res, rback;
	struct ftpx_hdr h, hb;
	char hex[600];
	size_t n, gn;

	golden(&h, &hint);
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	tohex(buf, n, hex);
	CHECK("hint encodes to the golden bytes", n == 108 && !strcmp(hex, golden_hint),
	      "len %zu: %s", n, hex);

	gn = unhex(golden_hint, gold);
	CHECK("golden hint: header", !ftpx_wire_hdr(gold, gn, &hb) &&
	      hb.type == FTPX_MSG_HINT && hb.ts_us == h.ts_us &&
	      hb.nonce == h.nonce, "header refused or wrong");
	CHECK("golden hint: MAC verifies", !ftpx_wire_verify(gold, gn, gkey, GKLEN),
	      "refused");
	CHECK("golden hint: decodes", !ftpx_wire_get_hint(gold, gn, &back) &&
	      !memcmp(&back, &hint, sizeof(back)), "fields differ");

	gold[40] ^= 1;	/* one bit of the client address */
	CHECK("tampered hint: bad MAC", ftpx_wire_verify(gold, gn, gkey, GKLEN) ==
	      FTPX_V_BAD_MAC, "accepted");
	gold[40] ^= 1;
	CHECK("other key: bad MAC", ftpx_wire_verify(gold, gn, (const uint8_t *)"another-key-of-16+", 18) ==
	      FTPX_V_BAD_MAC, "accepted");

	memset(&res, 0, sizeof(res));
	res.nonce = 0x0123456789abcdefULL;
	snprintf(res.detail, sizeof(res.detail), "expectation created");
	h.ts_us = 1700000000001000ULL;
	h.nonce = 0xfedcba9876543210ULL;
	n = ftpx_wire_result(buf, &h, &res, gkey, GKLEN);
	tohex(buf, n, hex);
	CHECK("result encodes to the golden bytes", n == 136 && !strcmp(hex, golden_result),
	      "len %zu: %s", n, hex);
	CHECK("result decodes", !ftpx_wire_hdr(buf, n, &hb) &&
	      hb.type == FTPX_MSG_RESULT && !ftpx_wire_get_result(buf, n, &rback) &&
	      rback.nonce == res.nonce && rback.verdict == 0 &&
	      !strcmp(rback.detail, res.detail), "differs");

	/* a detail that fills the field stays NUL terminated */
	memset(res.detail, 'x', sizeof(res.detail) - 1);
	res.detail[63] = 0;
	n = ftpx_wire_result(buf, &h, &res, gkey, GKLEN);
	CHECK("long detail is cut and terminated", !ftpx_wire_get_result(buf, n, &rback) &&
	      strlen(rback.detail) == 63, "len %zu", strlen(rback.detail));

	/* decoder refusals */
	golden(&h, &hint);
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	buf[0] = 'X';
	CHECK("bad magic", ftpx_wire_hdr(buf, n, &hb) == FTPX_V_MALFORMED, "accepted");
	buf[0] = 'F';
	buf[4] = 2;
	CHECK("unknown version", ftpx_wire_hdr(buf, n, &hb) == FTPX_V_MALFORMED, "accepted");
	buf[4] = 1;
	CHECK("truncated datagram", ftpx_wire_hdr(buf, n - 1, &hb) == FTPX_V_MALFORMED,
	      "accepted");
	CHECK("short datagram", ftpx_wire_hdr(buf, 10, &hb) == FTPX_V_MALFORMED, "accepted");
	buf[5] = 9;
	CHECK("unknown type", ftpx_wire_hdr(buf, n, &hb) == FTPX_V_MALFORMED, "accepted");
	buf[5] = FTPX_MSG_RESULT;
	CHECK("type with the wrong size", ftpx_wire_hdr(buf, n, &hb) == FTPX_V_MALFORMED,
	      "accepted");

	hint.family = 5;
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	CHECK("family 5", ftpx_wire_get_hint(buf, n, &back) == FTPX_V_MALFORMED, "accepted");
	golden(&h, &hint);
	hint.client[7] = 1;
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	CHECK("IPv4 with bytes past the address", ftpx_wire_get_hint(buf, n, &back) ==
	      FTPX_V_MALFORMED, "accepted");
	golden(&h, &hint);
	hint.flags = 0x80;
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	CHECK("unknown flag", ftpx_wire_get_hint(buf, n, &back) == FTPX_V_MALFORMED, "accepted");
	golden(&h, &hint);
	hint.port = 0;
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	CHECK("data port 0", ftpx_wire_get_hint(buf, n, &back) == FTPX_V_MALFORMED, "accepted");
	golden(&h, &hint);
	hint.cport = 0;
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	CHECK("mapped hint without client port", ftpx_wire_get_hint(buf, n, &back) ==
	      FTPX_V_MALFORMED, "accepted");
	hint.flags = FTPX_HINT_F_UNMAPPED;
	hint.sport = 0;
	hint.candidates = 3;
	n = ftpx_wire_hint(buf, &h, &hint, gkey, GKLEN);
	CHECK("unmapped hint needs no tuple", !ftpx_wire_get_hint(buf, n, &back) &&
	      back.candidates == 3, "refused");
	golden(&h, &hint);
	hint.family = 6;
	inet_pton(AF_INET6, "2001:db8:1::2", hint.client);
	inet_pton(AF_INET6, "fd00:2::2", hint.server);
	n = ftpx_wire_hint(buf, &h, &hint, NULL, 0);
	CHECK("IPv6 hint, zero MAC (local socket)", !ftpx_wire_get_hint(buf, n, &back) &&
	      !memcmp(back.client, hint.client, 16) && buf[n - 1] == 0 &&
	      ftpx_wire_verify(buf, n, gkey, GKLEN) == FTPX_V_BAD_MAC, "wrong");

	n = ftpx_wire_status_req(buf, &h);
	CHECK("status request", n == FTPX_STATUS_REQ_LEN && !ftpx_wire_hdr(buf, n, &hb) &&
	      hb.type == FTPX_MSG_STATUS_REQ, "wrong");

	CHECK("verdict names", !strcmp(ftpx_verdict_name(FTPX_V_BAD_MAC), "bad-mac") &&
	      !strcmp(ftpx_verdict_name(FTPX_V_NOT_ROOT), "not-root") &&
	      !strcmp(ftpx_verdict_name(FTPX_V_MAX), "unknown"), "wrong");
}

/* ---- replay cache --------------------------------------------------- */

static void test_replay(void)
{
	const uint64_t s = 1000000, now = 1700000000ULL * s;
	struct ftpx_replay r;
	unsigned int i;
	int ok = 1;

	ftpx_replay_init(&r, 4, 30);
	CHECK("fresh message", ftpx_replay_check(&r, now, 1, now) == 0, "refused");
	CHECK("same message again", ftpx_replay_check(&r, now, 1, now + s) == FTPX_V_REPLAY,
	      "accepted");
	CHECK("same nonce, other time", ftpx_replay_check(&r, now + 1, 1, now + s) == 0,
	      "refused");
	CHECK("31 s old", ftpx_replay_check(&r, now - 31 * s, 2, now) == FTPX_V_STALE,
	      "accepted");
	CHECK("31 s ahead", ftpx_replay_check(&r, now + 31 * s, 3, now) == FTPX_V_STALE,
	      "accepted");
	CHECK("29 s old", ftpx_replay_check(&r, now - 29 * s, 4, now) == 0, "refused");
	/* the ring holds 4: two more push out live entries, raising the floor */
	for (i = 0; i < 2; i++)
		ok &= ftpx_replay_check(&r, now + 10 + i, 10 + i, now) == 0;
	CHECK("ring overflow accepts new messages", ok, "refused");
	CHECK("a pushed-out message is still refused", ftpx_replay_check(&r, now, 1, now) ==
	      FTPX_V_REPLAY, "accepted");
	CHECK("anything at or below the floor is refused",
	      ftpx_replay_check(&r, now - 1, 99, now) == FTPX_V_REPLAY, "accepted");
	CHECK("newer messages still pass", ftpx_replay_check(&r, now + 100, 77, now) == 0,
	      "refused");
	ftpx_replay_free(&r);

	/* many turns of a small ring: its hash index holds exactly the pairs
	 * in the ring, each found again */
	ftpx_replay_init(&r, 16, 30);
	for (i = 0; i < 5000; i++)
		ok &= ftpx_replay_check(&r, now + i, i * 0x10001ULL, now) == 0;
	CHECK("5000 messages through a ring of 16", ok, "refused");
	{
		unsigned int b, chained = 0, found = 0;
		int32_t j;

		for (b = 0; b <= r.mask; b++)
			for (j = r.bucket[b]; j >= 0 && chained <= 16; j = r.ring[j].chain)
				chained++;
		for (i = 5000 - 16; i < 5000; i++)
			found += ftpx_replay_check(&r, now + i, i * 0x10001ULL, now) ==
				 FTPX_V_REPLAY;
		CHECK("the index holds the ring's 16 pairs", chained == 16, "%u", chained);
		CHECK("the ring's 16 pairs are replays", found == 16, "%u", found);
	}
	ftpx_replay_free(&r);
}

/* ---- config --------------------------------------------------------- */

static void test_conf(void)
{
	static const char good[] =
		"# comment\n"
		"[ftpxd]\n"
		"listen = 192.168.1.1:4000   ; trailing comment\n"
		"key-file = /etc/k\n"
		"socket = /run/x.sock\n"
		"window = 10\n"
		"hint-ports = 1024-2000, 3000\n"
		"local = yes\n"
		"control-ports = 21 2121\n"
		"poll-ms = 5\n"
		"sync-servers = no\n"
		"[server 192.168.1.2]\n"
		"pasv = 50000-50100\n"
		"masq = 198.51.100.1\n"
		"internal = 10.0.0.0/8, 192.168.0.0/16\n"
		"agents = 192.168.1.2, fd00:2::2\n"
		"[server fd00:2::2]\n"
		"hint-ports = none\n";
	static const struct {
		const char *name, *text, *want;
	} bad[] = {
		{ "unknown key", "[ftpxd]\nfoo = 1\n", "t:2: unknown key \"foo\"" },
		{ "key outside a section", "listen = 1.2.3.4\n", "t:1: \"listen\" outside" },
		{ "unknown section", "[nope]\n", "t:1: unknown section" },
		{ "bad listen", "[ftpxd]\nlisten = 1.2.3.4:99999\n", "t:2: listen" },
		{ "bad range", "[ftpxd]\nhint-ports = 2000-1000\n", "t:2: hint-ports" },
		{ "masq of the other family", "[server 10.0.0.1]\nmasq = ::1\n", "t:2: masq" },
		{ "server twice", "[server 10.0.0.1]\n[server 10.0.0.1]\n", "t:2: [server 10.0.0.1] appears twice" },
		{ "server not an address", "[server foo]\n", "t:1: [server foo]" },
		{ "bad bool", "[ftpxd]\nlocal = maybe\n", "t:2: local" },
		{ "relative socket", "[ftpxd]\nsocket = x.sock\n", "t:2: socket" },
		{ "bad prefix", "[server 10.0.0.1]\ninternal = 10.0.0.0/33\n", "t:2: internal prefix" },
		{ "no equals", "[ftpxd]\nlisten\n", "t:2: expected key = value" },
	};
	const struct ftpx_conf_server *s;
	struct ftpx_conf c;
	struct ftpx_sockaddr a;
	char err[512], r[128];
	unsigned int i;
	uint8_t addr[16];

	ftpx_conf_defaults(&c);
	CHECK("defaults", c.window_s == 30 && c.ports.n == 1 && c.ports.r[0].lo == 1024 &&
	      c.ports.r[0].hi == 65535 && !c.listen.family && c.sync_servers &&
	      c.n_ctrl_ports == 2 && c.poll_ms == 10, "wrong");
	if (ftpx_conf_parse(good, "t", &c, err, sizeof(err))) {
		result("good config parses", "%s", err);
		return;
	}
	result("good config parses", NULL);
	ftpx_ranges_fmt(&c.ports, r, sizeof(r));
	CHECK("[ftpxd] values", c.listen.family == AF_INET && c.listen.port == 4000 &&
	      !strcmp(c.key_file, "/etc/k") && !strcmp(c.socket, "/run/x.sock") &&
	      c.window_s == 10 && !strcmp(r, "1024-2000,3000") && c.local &&
	      c.n_ctrl_ports == 2 && c.ctrl_ports[1] == 2121 && c.poll_ms == 5 &&
	      !c.sync_servers, "wrong (ports %s)", r);
	inet_pton(AF_INET, "192.168.1.2", addr);
	s = ftpx_conf_find(&c, AF_INET, addr);
	CHECK("[server] values", s && s->kernel && s->k.pasv_min == 50000 &&
	      s->k.pasv_max == 50100 && s->k.has_masq && s->k.n_internal == 2 &&
	      s->k.internal[1].len == 16 && s->n_agents == 2 &&
	      s->agents[1].family == AF_INET6 && !s->has_ports, "wrong");
	inet_pton(AF_INET6, "fd00:2::2", addr);
	s = ftpx_conf_find(&c, AF_INET6, addr);
	CHECK("hint-ports = none", s && !s->kernel && s->has_ports && !s->ports.n &&
	      !ftpx_ranges_has(&s->ports, 5000), "wrong");
	CHECK("range membership", ftpx_ranges_has(&c.ports, 1024) &&
	      ftpx_ranges_has(&c.ports, 3000) && !ftpx_ranges_has(&c.ports, 2001) &&
	      !ftpx_ranges_has(&c.ports, 80), "wrong");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ftpx_conf_defaults(&c);
		err[0] = 0;
		CHECK(bad[i].name, ftpx_conf_parse(bad[i].text, "t", &c, err, sizeof(err)) < 0 &&
		      !strncmp(err, bad[i].want, strlen(bad[i].want)), "error \"%s\"", err);
	}

	CHECK("sockaddr v4", !ftpx_sockaddr_parse("10.0.0.1", 4021, &a) &&
	      a.family == AF_INET && a.port == 4021, "wrong");
	CHECK("sockaddr v4:port", !ftpx_sockaddr_parse("10.0.0.1:99", 4021, &a) &&
	      a.port == 99, "wrong");
	CHECK("sockaddr [v6]:port", !ftpx_sockaddr_parse("[fd00::1]:99", 4021, &a) &&
	      a.family == AF_INET6 && a.port == 99, "wrong");
	CHECK("sockaddr bare v6", !ftpx_sockaddr_parse("fd00::1", 4021, &a) &&
	      a.family == AF_INET6 && a.port == 4021, "wrong");
	CHECK("sockaddr junk", ftpx_sockaddr_parse("[fd00::1", 1, &a) < 0 &&
	      ftpx_sockaddr_parse("host:1", 1, &a) < 0 &&
	      ftpx_sockaddr_parse("1.2.3.4:0", 1, &a) < 0, "accepted");
}

/* ---- ctnetlink ------------------------------------------------------ */

struct seen {
	const struct nlattr *tb[CTA_EXPECT_MAX + 1];
};

static int top_cb(const struct nlattr *a, void *data)
{
	struct seen *s = data;

	if (mnl_attr_type_valid(a, CTA_EXPECT_MAX) > 0)
		s->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int nat_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) <= CTA_EXPECT_NAT_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void make_ct(struct ftpx_ct *ct, int nat)
{
	memset(ct, 0, sizeof(*ct));
	ct->orig.family = ct->reply.family = AF_INET;
	ct->orig.proto = ct->reply.proto = IPPROTO_TCP;
	inet_pton(AF_INET, "198.51.100.2", ct->orig.src);
	inet_pton(AF_INET, "198.51.100.1", ct->orig.dst);
	ct->orig.sport = 40000;
	ct->orig.dport = 21;
	inet_pton(AF_INET, nat ? "192.168.1.2" : "198.51.100.1", ct->reply.src);
	inet_pton(AF_INET, "198.51.100.2", ct->reply.dst);
	ct->reply.sport = 21;
	ct->reply.dport = 40000;
	ct->status = nat ? IPS_DST_NAT | IPS_CONFIRMED : IPS_CONFIRMED;
	snprintf(ct->helper, sizeof(ct->helper), "ftpx");
}

static void test_ctnl(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlattr *nat[CTA_EXPECT_NAT_MAX + 1] = { 0 };
	struct nlmsghdr *nlh;
	struct ftpx_tuple t;
	struct ftpx_exp e;
	struct ftpx_ct ct, back;
	struct seen s = { 0 };
	uint8_t want[4];

	make_ct(&ct, 1);
	nlh = ftpx_exp_build(buf, 7, &ct, 45000);
	if (!nlh) {
		result("expectation request builds", "NULL");
		return;
	}
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), top_cb, &s);
	CHECK("request: type and flags", nlh->nlmsg_type ==
	      (NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_NEW) &&
	      (nlh->nlmsg_flags & NLM_F_CREATE) && !(nlh->nlmsg_flags & NLM_F_EXCL),
	      "type %x flags %x", nlh->nlmsg_type, nlh->nlmsg_flags);
	CHECK("request: class 2 (ftpx-hint), be32",
	      s.tb[CTA_EXPECT_CLASS] && !mnl_attr_validate(s.tb[CTA_EXPECT_CLASS], MNL_TYPE_U32) &&
	      ntohl(mnl_attr_get_u32(s.tb[CTA_EXPECT_CLASS])) == 2, "missing or wrong");
	CHECK("request: helper name ftpx", s.tb[CTA_EXPECT_HELP_NAME] &&
	      !strcmp(mnl_attr_get_str(s.tb[CTA_EXPECT_HELP_NAME]), "ftpx"), "missing");
	CHECK("request: expectfn nat-follow-master", s.tb[CTA_EXPECT_FN] &&
	      !mnl_attr_validate(s.tb[CTA_EXPECT_FN], MNL_TYPE_NUL_STRING) &&
	      !strcmp(mnl_attr_get_str(s.tb[CTA_EXPECT_FN]), "nat-follow-master"), "missing");
	CHECK("request: no timeout (the class policy sets it)", !s.tb[CTA_EXPECT_TIMEOUT],
	      "present");
	if (s.tb[CTA_EXPECT_NAT])
		mnl_attr_parse_nested(s.tb[CTA_EXPECT_NAT], nat_cb, nat);
	CHECK("request: NAT dir is a u32, original",
	      nat[CTA_EXPECT_NAT_DIR] && mnl_attr_get_payload_len(nat[CTA_EXPECT_NAT_DIR]) == 4 &&
	      ntohl(mnl_attr_get_u32(nat[CTA_EXPECT_NAT_DIR])) == 0, "missing or wrong");
	memset(&t, 0, sizeof(t));
	inet_pton(AF_INET, "192.168.1.2", want);
	{
		struct nlmsghdr *fake;
		char b2[512];

		/* reuse the tuple parser through a tiny CTA_EXPECT_TUPLE msg */
		fake = mnl_nlmsg_put_header(b2);
		mnl_nlmsg_put_extra_header(fake, sizeof(struct nfgenmsg));
		if (nat[CTA_EXPECT_NAT_TUPLE]) {
			struct nlattr *n = mnl_attr_nest_start(fake, CTA_EXPECT_TUPLE);

			memcpy(mnl_nlmsg_get_payload_tail(fake),
			       mnl_attr_get_payload(nat[CTA_EXPECT_NAT_TUPLE]),
			       mnl_attr_get_payload_len(nat[CTA_EXPECT_NAT_TUPLE]));
			fake->nlmsg_len += MNL_ALIGN(mnl_attr_get_payload_len(nat[CTA_EXPECT_NAT_TUPLE]));
			mnl_attr_nest_end(fake, n);
		}
		CHECK("request: NAT tuple: server address, port in the source port",
		      !ftpx_exp_parse(fake, &e) && e.tuple.family == AF_INET &&
		      !memcmp(e.tuple.src, want, 4) && e.tuple.sport == 45000 &&
		      e.tuple.proto == IPPROTO_TCP, "wrong");
	}
	/* the whole request read back as an expectation */
	CHECK("request: tuple client -> public address, port 45000; master",
	      !ftpx_exp_parse(nlh, &e) && !memcmp(e.tuple.src, ct.orig.src, 4) &&
	      !memcmp(e.tuple.dst, ct.orig.dst, 4) && e.tuple.dport == 45000 &&
	      e.tuple.sport == 0 && e.master.sport == 40000 && e.master.dport == 21 &&
	      e.has_class && e.class == 2, "wrong");

	make_ct(&ct, 0);
	nlh = ftpx_exp_build(buf, 8, &ct, 45000);
	memset(&s, 0, sizeof(s));
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), top_cb, &s);
	CHECK("no NAT: no expectfn, no NAT nest, class still 2",
	      !s.tb[CTA_EXPECT_FN] && !s.tb[CTA_EXPECT_NAT] && s.tb[CTA_EXPECT_CLASS],
	      "wrong");

	/* a conntrack reply with helper info, parsed and validated */
	{
		struct ftpx_help_info hi = { .version = 1, .mode = FTPX_MODE_IMPLICIT };
		struct nlattr *n, *ip, *pr;
		int i;

		for (i = 0; i < 3; i++) {
			nlh = mnl_nlmsg_put_header(buf);
			mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
			n = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
			ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
			mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, ct.orig.src);
			mnl_attr_put(nlh, CTA_IP_V4_DST, 4, ct.orig.dst);
			mnl_attr_nest_end(nlh, ip);
			pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
			mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
			if (i == 2)	/* a port of the wrong size */
				mnl_attr_put_u8(nlh, CTA_PROTO_SRC_PORT, 1);
			else
				mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(40000));
			mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(21));
			mnl_attr_nest_end(nlh, pr);
			mnl_attr_nest_end(nlh, n);
			n = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
			ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
			mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, ct.reply.src);
			mnl_attr_put(nlh, CTA_IP_V4_DST, 4, ct.reply.dst);
			mnl_attr_nest_end(nlh, ip);
			mnl_attr_nest_end(nlh, n);
			mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_DST_NAT));
			n = mnl_attr_nest_start(nlh, CTA_HELP);
			mnl_attr_put_strz(nlh, CTA_HELP_NAME, "ftpx");
			/* i == 1: a short info, as another helper might send */
			mnl_attr_put(nlh, CTA_HELP_INFO, i == 1 ? 2 : sizeof(hi), &hi);
			mnl_attr_nest_end(nlh, n);
			if (i == 0)
				CHECK("conntrack reply parses", !ftpx_ct_parse(nlh, &back) &&
				      back.orig.sport == 40000 && !strcmp(back.helper, "ftpx") &&
				      back.has_info && back.info.mode == FTPX_MODE_IMPLICIT &&
				      ftpx_ct_nat(&back), "wrong");
			else if (i == 1)
				CHECK("short helper info is not read", !ftpx_ct_parse(nlh, &back) &&
				      !back.has_info, "read");
			else
				CHECK("attribute of the wrong size refused",
				      ftpx_ct_parse(nlh, &back) < 0, "accepted");
		}
	}
}

int main(void)
{
	test_hmac();
	test_wire();
	test_replay();
	test_conf();
	test_ctnl();
	return failed;
}
