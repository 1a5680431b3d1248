// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed hint messages and ftpxd config files, each through the code
 * that takes them in: a hint goes through the same steps in the same order
 * as ftpxd's UDP intake (userspace/intake.c: header and type, MAC, replay
 * window, then the body), a config text through ftpx_conf_parse(). Every
 * input has the verdict (or "refused") it must get; each one is a row of
 * the generated bad-input table when FTPX_BADINPUT_OUT names a file
 * (scripts/gen-bad-input.sh -> docs/bad-input.md). Prints one PASS/FAIL line
 * per group and a FAIL line per wrong row; exits 1 if any row is wrong.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "replay.h"
#include "wire.h"

static FILE *out;
static int failures, rows;

static const uint8_t key[] = "0123456789abcdef0123456789abcdef";
#define KLEN (sizeof(key) - 1)

static void row_ok(const char *cat, const char *id, const char *what,
		   const char *want, const char *got, bool ok)
{
	rows++;
	if (!ok) {
		failures++;
		printf("FAIL: badinput: %s %s: want %s, got %s\n", cat, id,
		       want, got);
	}
	if (out)
		fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", cat, id, what, want,
			got, ok ? "pass" : "FAIL");
}

static void row(const char *cat, const char *id, const char *what,
		const char *want, const char *got)
{
	row_ok(cat, id, what, want, got, !strcmp(want, got));
}

/* ------------------------------------------------------------ hints */

/* ftpxd's intake order: header and type, MAC, replay window, body. */
static int intake(const uint8_t *buf, size_t len, struct ftpx_replay *rp,
		  uint64_t now)
{
	struct ftpx_hint hint;
	struct ftpx_hdr h;
	int v;

	if (ftpx_wire_hdr(buf, len, &h) || h.type != FTPX_MSG_HINT)
		return FTPX_V_MALFORMED;
	if (ftpx_wire_verify(buf, len, key, KLEN))
		return FTPX_V_BAD_MAC;
	v = ftpx_replay_check(rp, h.ts_us, h.nonce, now);
	if (v)
		return v;
	return ftpx_wire_get_hint(buf, len, &hint);
}

static uint64_t nonce_seq = 1000;

static void good_hint(struct ftpx_hdr *h, struct ftpx_hint *x, uint64_t now)
{
	static const uint8_t c4[4] = { 198, 51, 100, 2 }, s4[4] = { 192, 168, 1, 2 };

	memset(h, 0, sizeof(*h));
	memset(x, 0, sizeof(*x));
	h->ts_us = now;
	h->nonce = ++nonce_seq;
	x->family = 4;
	x->port = 50000;
	x->cport = 40000;
	x->sport = 21;
	memcpy(x->client, c4, 4);
	memcpy(x->server, s4, 4);
	x->candidates = 1;
}

/* re-sign after a change to the bytes, as a key holder could */
static void resign(uint8_t *buf, size_t len)
{
	ftpx_hmac(key, KLEN, buf, len - FTPX_WIRE_MAC,
		  buf + len - FTPX_WIRE_MAC);
}


struct hcase {
	const char *id, *what;
	int want;
	void (*field)(struct ftpx_hdr *h, struct ftpx_hint *x, uint64_t now);
	/* raw: change the encoded bytes; returns the new length */
	size_t (*raw)(uint8_t *buf, size_t len);
	bool sign;	/* raw change re-signed with the right key */
};

#define F(name, body) \
	static void name(struct ftpx_hdr *h, struct ftpx_hint *x, uint64_t now) \
	{ (void)h; (void)x; (void)now; body; }
#define R(name, body) \
	static size_t name(uint8_t *b, size_t len) { (void)b; (void)len; body; }

F(f_fam0, x->family = 0)
F(f_fam5, x->family = 5)
F(f_fam255, x->family = 255)
F(f_flags, x->flags = 0x02)
F(f_flags_all, x->flags = 0xff)
F(f_port0, x->port = 0)
F(f_cport0, x->cport = 0)
F(f_sport0, x->sport = 0)
F(f_v4_tail_c, x->client[4] = 1)
F(f_v4_tail_s, x->server[15] = 1)
F(f_stale, h->ts_us = now - 31000000ULL)
F(f_future, h->ts_us = now + 31000000ULL)
F(f_ts0, h->ts_us = 0)
F(f_tsmax, h->ts_us = UINT64_MAX)
R(r_empty, return 0)
R(r_one, return 1)
R(r_hdr_only, return FTPX_WIRE_HDR)
R(r_trunc1, return len - 1)
R(r_trunc_mac, return len - FTPX_WIRE_MAC)
R(r_extra, b[len] = 0; return len + 1)
R(r_extra_lenfix, b[len] = 0; b[6] = (len + 1) >> 8; b[7] = (len + 1) & 255; return len + 1)
R(r_magic, b[0] = 'X'; return len)
R(r_magic_case, b[0] = 'f'; return len)
R(r_ver0, b[4] = 0; return len)
R(r_ver2, b[4] = 2; return len)
R(r_type0, b[5] = 0; return len)
R(r_type_result, b[5] = FTPX_MSG_RESULT; return len)
R(r_type_status_req, b[5] = FTPX_MSG_STATUS_REQ; return len)
R(r_type_status, b[5] = FTPX_MSG_STATUS; return len)
R(r_type99, b[5] = 99; return len)
R(r_len_small, b[7] ^= 1; return len)
R(r_len_zero, b[6] = 0; b[7] = 0; return len)
R(r_len_ffff, b[6] = 0xff; b[7] = 0xff; return len)
R(r_mac_bit, b[len - 1] ^= 1; return len)
R(r_mac_zero, memset(b + len - FTPX_WIRE_MAC, 0, FTPX_WIRE_MAC); return len)
R(r_body_bit, b[FTPX_WIRE_HDR + 3] ^= 1; return len)
R(r_ts_bit, b[15] ^= 1; return len)
R(r_big, memset(b, 0, 70000); memcpy(b, "FTPX\1\1", 6); return 70000)
R(r_garbage, for (size_t i = 0; i < len; i++) b[i] = (uint8_t)(i * 37 + 11); return len)

static const struct hcase hcases[] = {
	{ "empty", "0-byte datagram", FTPX_V_MALFORMED, NULL, r_empty, false },
	{ "one-byte", "1-byte datagram", FTPX_V_MALFORMED, NULL, r_one, false },
	{ "hdr-only", "24-byte header, no body, no MAC", FTPX_V_MALFORMED, NULL, r_hdr_only, false },
	{ "trunc-1", "hint one byte short", FTPX_V_MALFORMED, NULL, r_trunc1, false },
	{ "no-mac", "hint without its 32-byte MAC", FTPX_V_MALFORMED, NULL, r_trunc_mac, false },
	{ "extra-byte", "one byte appended (length field unchanged)", FTPX_V_MALFORMED, NULL, r_extra, false },
	{ "extra-byte-len", "one byte appended, length field matching, re-signed", FTPX_V_MALFORMED, NULL, r_extra_lenfix, true },
	{ "magic", "magic \"XTPX\"", FTPX_V_MALFORMED, NULL, r_magic, false },
	{ "magic-case", "magic \"fTPX\"", FTPX_V_MALFORMED, NULL, r_magic_case, false },
	{ "version-0", "version 0", FTPX_V_MALFORMED, NULL, r_ver0, false },
	{ "version-2", "version 2", FTPX_V_MALFORMED, NULL, r_ver2, false },
	{ "type-0", "type 0", FTPX_V_MALFORMED, NULL, r_type0, false },
	{ "type-result", "type RESULT with a hint's length", FTPX_V_MALFORMED, NULL, r_type_result, false },
	{ "type-status-req", "type STATUS_REQ with a hint's length", FTPX_V_MALFORMED, NULL, r_type_status_req, false },
	{ "type-status", "type STATUS (a reply) sent to ftpxd, re-signed", FTPX_V_MALFORMED, NULL, r_type_status, true },
	{ "type-99", "type 99", FTPX_V_MALFORMED, NULL, r_type99, false },
	{ "len-field", "length field off by one", FTPX_V_MALFORMED, NULL, r_len_small, false },
	{ "len-zero", "length field 0", FTPX_V_MALFORMED, NULL, r_len_zero, false },
	{ "len-ffff", "length field 65535", FTPX_V_MALFORMED, NULL, r_len_ffff, false },
	{ "oversized", "70000-byte datagram with a valid magic", FTPX_V_MALFORMED, NULL, r_big, false },
	{ "garbage", "108 bytes of garbage", FTPX_V_MALFORMED, NULL, r_garbage, false },
	{ "mac-bit", "last MAC bit flipped", FTPX_V_BAD_MAC, NULL, r_mac_bit, false },
	{ "mac-zero", "MAC all zero (the local socket's form) over UDP", FTPX_V_BAD_MAC, NULL, r_mac_zero, false },
	{ "body-bit", "one body bit flipped after signing", FTPX_V_BAD_MAC, NULL, r_body_bit, false },
	{ "ts-bit", "one timestamp bit flipped after signing", FTPX_V_BAD_MAC, NULL, r_ts_bit, false },
	{ "stale", "timestamp 31 s old (window 30 s)", FTPX_V_STALE, f_stale, NULL, false },
	{ "future", "timestamp 31 s ahead", FTPX_V_STALE, f_future, NULL, false },
	{ "ts-0", "timestamp 0 (1970)", FTPX_V_STALE, f_ts0, NULL, false },
	{ "ts-max", "timestamp 2^64-1", FTPX_V_STALE, f_tsmax, NULL, false },
	{ "family-0", "family 0", FTPX_V_MALFORMED, f_fam0, NULL, false },
	{ "family-5", "family 5", FTPX_V_MALFORMED, f_fam5, NULL, false },
	{ "family-255", "family 255", FTPX_V_MALFORMED, f_fam255, NULL, false },
	{ "flags-unknown", "unknown flag 0x02", FTPX_V_MALFORMED, f_flags, NULL, false },
	{ "flags-all", "flags 0xff", FTPX_V_MALFORMED, f_flags_all, NULL, false },
	{ "port-0", "data port 0", FTPX_V_MALFORMED, f_port0, NULL, false },
	{ "cport-0", "mapped hint with client port 0", FTPX_V_MALFORMED, f_cport0, NULL, false },
	{ "sport-0", "mapped hint with server port 0", FTPX_V_MALFORMED, f_sport0, NULL, false },
	{ "v4-tail-client", "IPv4 client with a non-zero byte 5", FTPX_V_MALFORMED, f_v4_tail_c, NULL, false },
	{ "v4-tail-server", "IPv4 server with a non-zero byte 16", FTPX_V_MALFORMED, f_v4_tail_s, NULL, false },
};

static void test_hints(void)
{
	static uint8_t buf[70016];
	struct ftpx_replay rp;
	struct ftpx_hint x;
	struct ftpx_hdr h;
	uint64_t now = ftpx_now_us();
	size_t i, len;
	int f0 = failures, v;

	if (ftpx_replay_init(&rp, 64, 30)) {
		printf("FAIL: badinput: replay cache\n");
		failures++;
		return;
	}
	for (i = 0; i < sizeof(hcases) / sizeof(hcases[0]); i++) {
		const struct hcase *c = &hcases[i];

		good_hint(&h, &x, now);
		if (c->field)
			c->field(&h, &x, now);
		len = ftpx_wire_hint(buf, &h, &x, key, KLEN);
		if (c->raw) {
			len = c->raw(buf, len);
			if (c->sign)
				resign(buf, len);
		}
		v = intake(buf, len, &rp, now);
		row("hint", c->id, c->what, ftpx_verdict_name(c->want),
		    ftpx_verdict_name(v));
	}
	/* wrong key, and a replay of a message that was accepted */
	good_hint(&h, &x, now);
	len = ftpx_wire_hint(buf, &h, &x, (const uint8_t *)"another key, 32 bytes long......", 32);
	row("hint", "wrong-key", "signed with another key",
	    ftpx_verdict_name(FTPX_V_BAD_MAC),
	    ftpx_verdict_name(intake(buf, len, &rp, now)));
	good_hint(&h, &x, now);
	len = ftpx_wire_hint(buf, &h, &x, key, KLEN);
	v = intake(buf, len, &rp, now);
	row("hint", "control", "well-formed hint (control)",
	    ftpx_verdict_name(FTPX_V_ACCEPTED), ftpx_verdict_name(v));
	row("hint", "replay", "the same datagram again",
	    ftpx_verdict_name(FTPX_V_REPLAY),
	    ftpx_verdict_name(intake(buf, len, &rp, now + 1000)));
	ftpx_replay_free(&rp);
	printf("%s: badinput: hint messages (%zu inputs)\n",
	       failures == f0 ? "PASS" : "FAIL",
	       sizeof(hcases) / sizeof(hcases[0]) + 3);
}

/* ------------------------------------------------------------ config */

static const struct {
	const char *id, *text;
} confs[] = {
	{ "no-section", "listen = 192.0.2.1\n" },
	{ "unknown-section", "[ftpx]\nlisten = 192.0.2.1\n" },
	{ "unclosed-section", "[ftpxd\nlisten = 192.0.2.1\n" },
	{ "unknown-key", "[ftpxd]\nlisen = 192.0.2.1\n" },
	{ "no-equals", "[ftpxd]\nlisten 192.0.2.1\n" },
	{ "empty-key", "[ftpxd]\n= 192.0.2.1\n" },
	{ "listen-octet", "[ftpxd]\nlisten = 300.1.1.1\n" },
	{ "listen-port-0", "[ftpxd]\nlisten = 192.0.2.1:0\n" },
	{ "listen-port-big", "[ftpxd]\nlisten = 192.0.2.1:65536\n" },
	{ "listen-port-junk", "[ftpxd]\nlisten = 192.0.2.1:21x\n" },
	{ "listen-v6-unbracketed-port", "[ftpxd]\nlisten = 2001:db8::1:4021:\n" },
	{ "listen-v6-unclosed", "[ftpxd]\nlisten = [2001:db8::1:4021\n" },
	{ "listen-name", "[ftpxd]\nlisten = router.example\n" },
	{ "window-0", "[ftpxd]\nwindow = 0\n" },
	{ "window-neg", "[ftpxd]\nwindow = -5\n" },
	{ "window-text", "[ftpxd]\nwindow = thirty\n" },
	{ "window-huge", "[ftpxd]\nwindow = 99999999999999999999\n" },
	{ "replay-0", "[ftpxd]\nreplay-cache = 0\n" },
	{ "hint-ports-reversed", "[ftpxd]\nhint-ports = 2000-1000\n" },
	{ "hint-ports-0", "[ftpxd]\nhint-ports = 0-100\n" },
	{ "hint-ports-big", "[ftpxd]\nhint-ports = 1024-70000\n" },
	{ "hint-ports-junk", "[ftpxd]\nhint-ports = 1024-x\n" },
	{ "hint-ports-empty-item", "[ftpxd]\nhint-ports = 1024,,2000\n" },
	{ "hint-ports-17", "[ftpxd]\nhint-ports = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n" },
	{ "local-maybe", "[ftpxd]\nlocal = maybe\n" },
	{ "control-ports-0", "[ftpxd]\ncontrol-ports = 0\n" },
	{ "control-ports-9", "[ftpxd]\ncontrol-ports = 1,2,3,4,5,6,7,8,9\n" },
	{ "poll-ms-0", "[ftpxd]\npoll-ms = 0\n" },
	{ "sync-servers-2", "[ftpxd]\nsync-servers = 2\n" },
	{ "rcvbuf-text", "[ftpxd]\nnetlink-rcvbuf = big\n" },
	{ "socket-too-long", "[ftpxd]\nsocket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n" },
	{ "server-no-addr", "[server]\npasv = 50000-50100\n" },
	{ "server-bad-addr", "[server 192.0.2.300]\npasv = 50000-50100\n" },
	{ "server-prefix-as-addr", "[server 192.0.2.0/24]\npasv = 50000-50100\n" },
	{ "server-pasv-reversed", "[server 192.0.2.1]\npasv = 50100-50000\n" },
	{ "server-pasv-0", "[server 192.0.2.1]\npasv = 0-100\n" },
	{ "server-pasv-single-list", "[server 192.0.2.1]\npasv = 50000,50010\n" },
	{ "server-masq-bad", "[server 192.0.2.1]\nmasq = 198.51.100.256\n" },
	{ "server-masq-family", "[server 192.0.2.1]\nmasq = 2001:db8::1\n" },
	{ "server-internal-len", "[server 192.0.2.1]\ninternal = 10.0.0.0/33\n" },
	{ "server-internal-v6-len", "[server 192.0.2.1]\ninternal = fd00::/129\n" },
	{ "server-internal-junk", "[server 192.0.2.1]\ninternal = 10.0.0.0/8x\n" },
	{ "server-internal-17", "[server 192.0.2.1]\ninternal = 10.1.0.0/16,10.2.0.0/16,10.3.0.0/16,10.4.0.0/16,10.5.0.0/16,10.6.0.0/16,10.7.0.0/16,10.8.0.0/16,10.9.0.0/16,10.10.0.0/16,10.11.0.0/16,10.12.0.0/16,10.13.0.0/16,10.14.0.0/16,10.15.0.0/16,10.16.0.0/16,10.17.0.0/16\n" },
	{ "server-agents-bad", "[server 192.0.2.1]\nagents = 192.0.2.999\n" },
	{ "server-unknown-key", "[server 192.0.2.1]\npassive = 50000-50100\n" },
	{ "server-twice", "[server 192.0.2.1]\npasv = 50000-50100\n[server 192.0.2.1]\npasv = 50200-50300\n" },
	{ "long-line", NULL },	/* 2000 bytes, built below */
};

static void test_conf(void)
{
	char err[256], shown[160], *longline;
	struct ftpx_conf *c;
	size_t i, j;
	int f0 = failures, r;

	c = malloc(sizeof(*c));
	longline = malloc(2100);
	if (!c || !longline)
		abort();
	strcpy(longline, "[ftpxd]\nsocket = /run/");
	memset(longline + strlen(longline), 'a', 2000);
	strcpy(longline + 2030, "\n");
	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		const char *text = confs[i].text ? confs[i].text : longline;
		char got[300], *p = shown;

		/* the file as one table cell: newlines shown as " / " */
		for (j = 0; text[j] && p < shown + sizeof(shown) - 12; j++) {
			if (text[j] == '\n')
				p += sprintf(p, "%s", text[j + 1] ? " / " : "");
			else if (j > 40 && !confs[i].text)
				{ p += sprintf(p, "...<2000 bytes>"); break; }
			else
				*p++ = text[j];
		}
		*p = 0;
		ftpx_conf_defaults(c);
		err[0] = 0;
		r = ftpx_conf_parse(text, "ftpxd.conf", c, err, sizeof(err));
		if (r < 0)
			snprintf(got, sizeof(got), "refused: %s", err);
		else
			snprintf(got, sizeof(got), "ACCEPTED");
		/* refused as a whole, with a reason naming the problem */
		row_ok("config", confs[i].id, shown, "refused, with a reason",
		       got, r < 0 && err[0]);
	}
	free(longline);
	free(c);
	printf("%s: badinput: ftpxd config files (%zu inputs)\n",
	       failures == f0 ? "PASS" : "FAIL",
	       sizeof(confs) / sizeof(confs[0]));
}

int main(void)
{
	const char *path = getenv("FTPX_BADINPUT_OUT");

	if (path && *path) {
		out = fopen(path, "w");
		if (!out) {
			perror(path);
			return 1;
		}
	}
	ftpx_wire_init();
	test_hints();
	test_conf();
	if (out)
		fclose(out);
	printf("badinput: %d inputs, %d with the wrong outcome\n", rows,
	       failures);
	return failures ? 1 : 0;
}
