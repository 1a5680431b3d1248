// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for nf_ftpx/ftpx_parse.c.
 *
 * The input is a control stream. Its first byte picks how lines map to
 * directions (low two bits):
 *   0  every line is a client command
 *   1  every line is a server reply
 *   2  lines alternate, server first (greeting, command, reply, ...)
 *   3  each line starts with a tag byte: 'C' client, anything else server
 *      (the tag is not part of the line); the seed corpus uses this mode
 * The rest is split on '\n' with one trailing '\r' stripped, as the kernel
 * caller does, and one ftpx_pstate per direction is carried across lines.
 * A final piece without '\n' is asked about as a partial line, then parsed.
 *
 * Invariants (any violation aborts):
 *  - result, kind and reason are in range and consistent with each other;
 *  - off + len <= line length;
 *  - every prefix of a line parsed OK/BAD is a candidate (pre-line state);
 *  - an accepted address/port re-formatted with ftpx_format() and spliced
 *    over [off, off + len) parses back to the same values, span and state;
 *  - ftpx_format() of arbitrary bytes as an address parses back (EPRT).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftpx_parse.h"

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static bool has_addr(enum ftpx_kind k)
{
	return k == FTPX_K_PORT || k == FTPX_K_EPRT || k == FTPX_K_227 ||
	       k == FTPX_K_229;
}

static void check_roundtrip(const struct ftpx_pstate *pre,
			    const struct ftpx_pstate *post, enum ftpx_dir dir,
			    const char *line, size_t len,
			    const struct ftpx_match *m)
{
	static char buf[16384];
	struct ftpx_pstate st = *pre;
	char fmt[FTPX_FMT_MAX];
	struct ftpx_match m2;
	size_t n, nl;

	n = ftpx_format(m->kind, m->family, m->addr, m->port, fmt,
			sizeof(fmt));
	CHECK(n > 0 && n < FTPX_FMT_MAX && fmt[n] == '\0');
	nl = len - m->len + n;
	if (nl > sizeof(buf))
		return;
	memcpy(buf, line, m->off);
	memcpy(buf + m->off, fmt, n);
	memcpy(buf + m->off + n, line + m->off + m->len,
	       len - m->off - m->len);
	CHECK(ftpx_parse_line(&st, dir, buf, nl, &m2) == FTPX_R_OK);
	CHECK(m2.kind == m->kind && m2.family == m->family);
	CHECK(m2.port == m->port && !memcmp(m2.addr, m->addr, 16));
	CHECK(m2.off == m->off && m2.len == n);
	CHECK(st.ml_code == post->ml_code);
}

static void one_line(struct ftpx_pstate *st, enum ftpx_dir dir,
		     const char *line, size_t len)
{
	struct ftpx_pstate pre = *st;
	struct ftpx_match m;
	enum ftpx_result res;
	size_t i;

	res = ftpx_parse_line(st, dir, line, len, &m);
	CHECK(res == FTPX_R_NONE || res == FTPX_R_OK || res == FTPX_R_BAD);
	CHECK((unsigned int)m.kind < FTPX_K_MAX);
	CHECK((unsigned int)m.bad < FTPX_BAD_MAX);
	CHECK((size_t)m.off + m.len <= len);
	CHECK(ftpx_kind_name(m.kind) && ftpx_bad_name(m.bad));
	switch (res) {
	case FTPX_R_NONE:
		CHECK(m.kind == FTPX_K_NONE && m.bad == FTPX_BAD_NONE);
		return;
	case FTPX_R_BAD:
		CHECK(m.kind != FTPX_K_NONE && m.bad != FTPX_BAD_NONE);
		CHECK(!m.family && !m.port && !m.off && !m.len);
		break;
	case FTPX_R_OK:
		CHECK(m.kind != FTPX_K_NONE && m.bad == FTPX_BAD_NONE);
		if (has_addr(m.kind)) {
			CHECK(m.port != 0 && m.len > 0);
			CHECK(m.kind == FTPX_K_229 ? m.family == 0 :
			      m.kind == FTPX_K_EPRT ?
			      m.family == 4 || m.family == 6 : m.family == 4);
			check_roundtrip(&pre, st, dir, line, len, &m);
		}
		break;
	}
	/* The caller may only have seen part of this line so far. */
	for (i = 0; i <= len; i++)
		CHECK(ftpx_line_candidate(&pre, dir, line, i));
}

/* Any 16 bytes as an IPv6 (and the first 4 as IPv4) address survive EPRT. */
static void check_format(const uint8_t *data, size_t size)
{
	struct ftpx_pstate st = { 0 };
	char line[5 + FTPX_FMT_MAX];
	struct ftpx_match m;
	u8 a[16] = { 0 };
	u16 port;
	size_t n;
	int fam;

	memcpy(a, data, size < 16 ? size : 16);
	port = size > 17 ? data[16] << 8 | data[17] : 21;
	for (fam = 4; fam <= 6; fam += 2) {
		memcpy(line, "EPRT ", 5);
		n = ftpx_format(FTPX_K_EPRT, fam, a, port, line + 5,
				FTPX_FMT_MAX);
		CHECK(!port == !n);
		if (!n)
			continue;
		CHECK(ftpx_parse_line(&st, FTPX_DIR_CLIENT, line, n + 5, &m) ==
		      FTPX_R_OK);
		CHECK(m.family == fam && m.port == port);
		CHECK(!memcmp(m.addr, a, fam == 4 ? 4 : 16));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ftpx_pstate st[2] = { { 0 }, { 0 } };
	const char *p, *nl, *end;
	enum ftpx_dir dir;
	unsigned int mode;
	size_t len, n = 0;

	if (!size)
		return 0;
	check_format(data, size);
	mode = data[0] & 3;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		len = (nl ? nl : end) - p;
		switch (mode) {
		case 0:
			dir = FTPX_DIR_CLIENT;
			break;
		case 1:
			dir = FTPX_DIR_SERVER;
			break;
		case 2:
			dir = n & 1 ? FTPX_DIR_CLIENT : FTPX_DIR_SERVER;
			break;
		default:
			dir = len && *p == 'C' ? FTPX_DIR_CLIENT :
			      FTPX_DIR_SERVER;
			if (len) {
				p++;
				len--;
			}
			break;
		}
		if (!nl) {
			/* a partial line; also parse it as if it had ended */
			(void)ftpx_line_candidate(&st[dir], dir, p, len);
			one_line(&st[dir], dir, p, len);
			break;
		}
		if (len && p[len - 1] == '\r')
			len--;
		one_line(&st[dir], dir, p, len);
		p = nl + 1;
		n++;
	}
	return 0;
}
