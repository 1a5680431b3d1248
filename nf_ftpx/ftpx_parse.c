// SPDX-License-Identifier: GPL-2.0
/*
 * FTP control-line parser; the contract is in ftpx_parse.h.
 *
 * Framing: the caller passes one line without its "\n" and without at most
 * one "\r" right before it. Any other control byte (NUL, a lone or second
 * CR, DEL, ...) except TAB refuses a line of interest with FTPX_BAD_CHAR:
 * the peer may cut the line there or not, and the helper must never act on a
 * line two readers can see differently.
 *
 * Policy: accepting a line opens an expectation and rewrites the payload;
 * refusing it merely leaves that transfer un-NATed and bumps a counter. So
 * wherever an FTP peer could read a line another way (octal-looking
 * octets, extra fields, junk inside a field, a seventh number) we refuse.
 *
 * Multi-line replies: ftpx_pstate.ml_code changes only on the first four
 * bytes of a server line ("NNN-" opens a block, "NNN " with the same code
 * closes it). A caller that does not buffer a server line (the candidate
 * test said no, or it is longer than FTPX_LINE_MAX) must still feed its
 * first four bytes to ftpx_parse_line(), or the block tracking falls out of
 * step and text inside a block could be taken for a reply.
 *
 * Cost: no allocation, no recursion, a bounded number of forward passes,
 * O(len) per call. A number is read for at most FX_DIGITS_MAX digits, so
 * no digit run can overflow or take long, whatever its length.
 */
#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include <string.h>
#endif

#include "ftpx_parse.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* A u16 needs five digits; a sixth is refused before it is accumulated. */
#define FX_DIGITS_MAX	5
/* off/len are u16; a span past this cannot be described to the caller. */
#define FX_SPAN_MAX	0xffff

static bool fx_digit(u8 c)
{
	return c >= '0' && c <= '9';
}

/* ASCII only: the protocol keywords are ASCII and the kernel has no locale. */
static u8 fx_lower(u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int fx_xdigit(u8 c)
{
	if (fx_digit(c))
		return c - '0';
	c = fx_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool fx_has_ctl(const u8 *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return true;
	return false;
}

/* Trailing white space is tolerated; anything else after a field is not. */
static bool fx_rest_blank(const u8 *s, size_t i, size_t len)
{
	for (; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* Index of the first @c at or after @i, or @len. */
static size_t fx_find(const u8 *s, size_t i, size_t len, u8 c)
{
	while (i < len && s[i] != c)
		i++;
	return i;
}

/*
 * Case-insensitive head test used by both the parser and the candidate
 * check: a short @s must be a prefix of @head, a long one must start with
 * it. @head is lowercase.
 */
static bool fx_head(const u8 *s, size_t len, const char *head, size_t hlen)
{
	size_t i, n = len < hlen ? len : hlen;

	for (i = 0; i < n; i++)
		if (fx_lower(s[i]) != (u8)head[i])
			return false;
	return true;
}

/*
 * Read a decimal run at *@i (bounded by @len). Returns the number of
 * digits, stopping at FX_DIGITS_MAX + 1 so the caller can refuse the run
 * without ever having accumulated it.
 */
static unsigned int fx_dec(const u8 *s, size_t len, size_t *i, u32 *val)
{
	unsigned int n = 0;
	u32 v = 0;

	while (*i < len && fx_digit(s[*i])) {
		if (++n > FX_DIGITS_MAX)
			break;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	*val = v;
	return n;
}

/* A whole field s[i..e) holding a TCP port. */
static enum ftpx_bad fx_port(const u8 *s, size_t i, size_t e, u16 *port)
{
	unsigned int n;
	u32 v;

	if (i == e)
		return FTPX_BAD_SYNTAX;
	n = fx_dec(s, e, &i, &v);
	if (n > FX_DIGITS_MAX || i != e)
		return FTPX_BAD_NUMBER;
	if (!v || v > 0xffff)
		return FTPX_BAD_PORT;
	*port = v;
	return FTPX_BAD_NONE;
}

/*
 * "h1,h2,h3,h4,p1,p2" at *@i for PORT and 227. Leading zeros are fine (every
 * FTP implementation reads these fields as decimal); the port bytes are
 * refused as FTPX_BAD_PORT since they are not address numbers.
 */
static enum ftpx_bad fx_tuple(const u8 *s, size_t len, size_t *i,
			      struct ftpx_match *m)
{
	unsigned int k, n;
	u32 v[6];

	for (k = 0; k < 6; k++) {
		if (k) {
			if (*i >= len || s[*i] != ',')
				return FTPX_BAD_SYNTAX;
			(*i)++;
		}
		n = fx_dec(s, len, i, &v[k]);
		if (!n)
			return *i >= len || s[*i] == ',' ?
			       FTPX_BAD_SYNTAX : FTPX_BAD_NUMBER;
		if (n > FX_DIGITS_MAX)
			return FTPX_BAD_NUMBER;
		if (v[k] > 255)
			return k < 4 ? FTPX_BAD_OCTET : FTPX_BAD_PORT;
	}
	if (!v[4] && !v[5])
		return FTPX_BAD_PORT;
	m->family = 4;
	for (k = 0; k < 4; k++)
		m->addr[k] = v[k];
	m->port = v[4] << 8 | v[5];
	return FTPX_BAD_NONE;
}

/*
 * Dotted quad filling s[i..e). A leading zero is refused: inet_aton() reads
 * "010" as octal 8, so the peer and the helper could disagree on the address.
 */
static enum ftpx_bad fx_v4(const u8 *s, size_t i, size_t e, u8 *out)
{
	unsigned int k, n;
	size_t start;
	u32 v;

	for (k = 0; k < 4; k++) {
		if (k) {
			if (i >= e || s[i] != '.')
				return FTPX_BAD_ADDR;
			i++;
		}
		start = i;
		n = fx_dec(s, e, &i, &v);
		if (!n)
			return FTPX_BAD_ADDR;
		if (n > FX_DIGITS_MAX)
			return FTPX_BAD_NUMBER;
		if (n > 1 && s[start] == '0')
			return FTPX_BAD_ADDR;
		if (v > 255)
			return FTPX_BAD_OCTET;
		out[k] = v;
	}
	return i == e ? FTPX_BAD_NONE : FTPX_BAD_ADDR;
}

/*
 * RFC 4291 text filling s[i..e): up to eight groups of 1-4 hex digits, at
 * most one "::" standing for at least one zero group, optionally a dotted
 * quad as the last 32 bits. No zone ("%eth0"): it means nothing to the peer.
 */
static enum ftpx_bad fx_v6(const u8 *s, size_t i, size_t e, u8 *out)
{
	unsigned int ng = 0, nd, v, tail;
	int gap = -1, h;
	enum ftpx_bad why;
	size_t start;
	u8 a[16];

	memset(a, 0, sizeof(a));
	if (i < e && s[i] == ':') {
		if (i + 1 >= e || s[i + 1] != ':')
			return FTPX_BAD_ADDR;
		i += 2;
		gap = 0;
	}
	while (i < e) {
		start = i;
		nd = 0;
		v = 0;
		while (i < e && (h = fx_xdigit(s[i])) >= 0) {
			if (++nd > 4)
				return FTPX_BAD_ADDR;
			v = v << 4 | h;
			i++;
		}
		if (i < e && s[i] == '.') {
			if (ng > 6)
				return FTPX_BAD_ADDR;
			why = fx_v4(s, start, e, a + 2 * ng);
			if (why)
				return why;
			ng += 2;
			break;
		}
		if (!nd || ng >= 8)
			return FTPX_BAD_ADDR;
		a[2 * ng] = v >> 8;
		a[2 * ng + 1] = v;
		ng++;
		if (i == e)
			break;
		if (s[i] != ':' || ++i == e)
			return FTPX_BAD_ADDR;
		if (s[i] == ':') {
			if (gap >= 0)
				return FTPX_BAD_ADDR;
			gap = ng;
			i++;
		}
	}
	if (gap < 0) {
		if (ng != 8)
			return FTPX_BAD_ADDR;
	} else {
		if (ng >= 8)
			return FTPX_BAD_ADDR;
		/* slide the groups after "::" to the end, zeros in between */
		tail = ng - gap;
		memmove(a + 16 - 2 * tail, a + 2 * gap, 2 * tail);
		memset(a + 2 * gap, 0, 2 * (8 - ng));
	}
	memcpy(out, a, 16);
	return FTPX_BAD_NONE;
}

static enum ftpx_bad fx_span(struct ftpx_match *m, size_t off, size_t end)
{
	if (end > FX_SPAN_MAX)
		return FTPX_BAD_SYNTAX;
	m->off = off;
	m->len = end - off;
	return FTPX_BAD_NONE;
}

/*
 * EPRT <d>af<d>addr<d>port<d> (RFC 2428). Fields are read in order, so the
 * reason given is the first thing wrong when reading left to right.
 */
static enum ftpx_bad fx_eprt(const u8 *s, size_t len, size_t i,
			     struct ftpx_match *m)
{
	size_t start = i, e;
	enum ftpx_bad why;
	u8 d;

	if (i >= len || s[i] < 33 || s[i] > 126)
		return FTPX_BAD_SYNTAX;
	d = s[i++];
	e = fx_find(s, i, len, d);
	if (e >= len || e == i)
		return FTPX_BAD_SYNTAX;
	if (e - i != 1 || (s[i] != '1' && s[i] != '2'))
		return FTPX_BAD_FAMILY;
	m->family = s[i] == '1' ? 4 : 6;

	i = e + 1;
	e = fx_find(s, i, len, d);
	if (e >= len)
		return FTPX_BAD_SYNTAX;
	if (m->family == 4)
		why = fx_v4(s, i, e, m->addr);
	else
		why = fx_v6(s, i, e, m->addr);
	if (why)
		return why;

	i = e + 1;
	e = fx_find(s, i, len, d);
	if (e >= len)
		return FTPX_BAD_SYNTAX;
	why = fx_port(s, i, e, &m->port);
	if (why)
		return why;
	if (!fx_rest_blank(s, e + 1, len))
		return FTPX_BAD_SYNTAX;
	return fx_span(m, start, e + 1);
}

/*
 * AUTH <mechanism>: only the RFC 4217 names and the older SSL / TLS-C /
 * TLS-P spellings switch the control channel to TLS. Other mechanisms
 * (GSSAPI, KERBEROS_V4) are not lines of interest: returns false.
 */
static bool fx_auth(const u8 *s, size_t len, size_t i, enum ftpx_bad *why)
{
	static const char *const mech[] = { "tls", "ssl", "tls-c", "tls-p" };
	size_t e = i, k, n;

	while (e < len && s[e] != ' ' && s[e] != '\t')
		e++;
	*why = FTPX_BAD_SYNTAX;
	if (e == i)
		return true;
	for (k = 0; k < ARRAY_SIZE(mech); k++) {
		n = strlen(mech[k]);
		if (e - i == n && fx_head(s + i, n, mech[k], n)) {
			if (fx_rest_blank(s, e, len))
				*why = FTPX_BAD_NONE;
			return true;
		}
	}
	return false;
}

/*
 * 227: the address is the first run of exactly six comma-joined numbers
 * after the code, parentheses or not. Shorter runs ("Mode 2 (...)") are
 * skipped; the first run of six or more decides: clients scan for the first
 * six numbers too, and a seventh means we cannot know which six they take.
 */
static enum ftpx_bad fx_227(const u8 *s, size_t len, struct ftpx_match *m)
{
	size_t i = 4, start;
	enum ftpx_bad why;
	unsigned int n;

	while (i < len) {
		if (!fx_digit(s[i])) {
			i++;
			continue;
		}
		start = i;
		n = 0;
		for (;;) {
			while (i < len && fx_digit(s[i]))
				i++;
			n++;
			if (i + 1 < len && s[i] == ',' && fx_digit(s[i + 1]))
				i++;
			else
				break;
		}
		if (n < 6)
			continue;
		if (n > 6 || s[start - 1] == ',' || (i < len && s[i] == ','))
			return FTPX_BAD_SYNTAX;
		i = start;
		why = fx_tuple(s, len, &i, m);
		return why ? why : fx_span(m, start, i);
	}
	return FTPX_BAD_SYNTAX;
}

/*
 * 229: "(<d><d><d>port<d>)" (RFC 2428) at the first '(' after the code:
 * curl, lftp and Python's ftplib all look only there.
 */
static enum ftpx_bad fx_229(const u8 *s, size_t len, struct ftpx_match *m)
{
	size_t i = fx_find(s, 4, len, '('), e;
	enum ftpx_bad why;
	u8 d;

	if (i + 3 >= len)
		return FTPX_BAD_SYNTAX;
	d = s[i + 1];
	if (d < 33 || d > 126 || s[i + 2] != d || s[i + 3] != d)
		return FTPX_BAD_SYNTAX;
	e = fx_find(s, i + 4, len, d);
	if (e >= len)
		return FTPX_BAD_SYNTAX;
	why = fx_port(s, i + 4, e, &m->port);
	if (why)
		return why;
	if (e + 1 >= len || s[e + 1] != ')')
		return FTPX_BAD_SYNTAX;
	return fx_span(m, i + 1, e + 1);
}

/* Client commands: keyword plus the space that must follow it (or EOL). */
static const struct fx_cmd {
	char head[6];
	u8 hlen;
	enum ftpx_kind kind;
} fx_cmds[] = {
	{ "port ", 5, FTPX_K_PORT },
	{ "eprt ", 5, FTPX_K_EPRT },
	{ "auth ", 5, FTPX_K_AUTH_TLS },
	{ "ccc ", 4, FTPX_K_CCC },
};

static const struct fx_reply {
	char head[5];
	u16 code;
	enum ftpx_kind kind;
} fx_replies[] = {
	{ "227 ", 227, FTPX_K_227 },
	{ "229 ", 229, FTPX_K_229 },
	{ "234 ", 234, FTPX_K_234 },
	{ "200 ", 200, FTPX_K_200 },
};

static const struct fx_cmd *fx_client_cmd(const u8 *s, size_t len)
{
	const struct fx_cmd *c;

	for (c = fx_cmds; c < fx_cmds + ARRAY_SIZE(fx_cmds); c++)
		if (len + 1 >= c->hlen && fx_head(s, len, c->head, c->hlen))
			return c;
	return NULL;
}

static enum ftpx_kind fx_reply_kind(unsigned int code)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(fx_replies); k++)
		if (fx_replies[k].code == code)
			return fx_replies[k].kind;
	return FTPX_K_NONE;
}

/*
 * Reply head "NNN " or "NNN-" and RFC 959 multi-line tracking. Returns the
 * kind to parse the line as, FTPX_K_NONE for text. Code 000 never opens a
 * block: ml_code 0 means "no block", and no RFC defines such a reply.
 */
static enum ftpx_kind fx_server_kind(struct ftpx_pstate *st, const u8 *s,
				     size_t len)
{
	unsigned int code;

	if (len < 4 || !fx_digit(s[0]) || !fx_digit(s[1]) ||
	    !fx_digit(s[2]) || (s[3] != ' ' && s[3] != '-'))
		return FTPX_K_NONE;
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (st->ml_code) {
		if (code != st->ml_code || s[3] != ' ')
			return FTPX_K_NONE;
		st->ml_code = 0;
	} else if (s[3] == '-') {
		st->ml_code = code;
		return FTPX_K_NONE;
	}
	return fx_reply_kind(code);
}

enum ftpx_result ftpx_parse_line(struct ftpx_pstate *st, enum ftpx_dir dir,
				 const char *line, size_t len,
				 struct ftpx_match *m)
{
	const u8 *s = (const u8 *)line;
	enum ftpx_kind kind = FTPX_K_NONE;
	enum ftpx_bad why = FTPX_BAD_NONE;
	const struct fx_cmd *c;
	size_t i = 0, start;

	memset(m, 0, sizeof(*m));
	if (dir == FTPX_DIR_SERVER) {
		kind = fx_server_kind(st, s, len);
	} else {
		c = fx_client_cmd(s, len);
		if (c) {
			kind = c->kind;
			/* RFC 959 wants one space; tolerate more */
			for (i = c->hlen - 1; i < len && s[i] == ' '; i++)
				;
		}
	}
	if (kind == FTPX_K_NONE)
		return FTPX_R_NONE;

	if (fx_has_ctl(s, len)) {
		why = FTPX_BAD_CHAR;
	} else {
		switch (kind) {
		case FTPX_K_PORT:
			start = i;
			why = fx_tuple(s, len, &i, m);
			if (!why)
				why = fx_rest_blank(s, i, len) ?
				      fx_span(m, start, i) : FTPX_BAD_SYNTAX;
			break;
		case FTPX_K_EPRT:
			why = fx_eprt(s, len, i, m);
			break;
		case FTPX_K_AUTH_TLS:
			if (!fx_auth(s, len, i, &why))
				return FTPX_R_NONE;
			break;
		case FTPX_K_CCC:
			if (!fx_rest_blank(s, i, len))
				why = FTPX_BAD_SYNTAX;
			break;
		case FTPX_K_227:
			why = fx_227(s, len, m);
			break;
		case FTPX_K_229:
			why = fx_229(s, len, m);
			break;
		default:	/* 234, 200: the code is all there is */
			break;
		}
	}
	if (why != FTPX_BAD_NONE) {
		/* no half-filled address may reach a caller that skips ->bad */
		memset(m, 0, sizeof(*m));
		m->bad = why;
	}
	m->kind = kind;
	return why == FTPX_BAD_NONE ? FTPX_R_OK : FTPX_R_BAD;
}

bool ftpx_line_candidate(const struct ftpx_pstate *st, enum ftpx_dir dir,
			 const char *line, size_t len)
{
	const u8 *s = (const u8 *)line;
	u8 h[4];
	size_t k;

	if (dir != FTPX_DIR_SERVER) {
		for (k = 0; k < ARRAY_SIZE(fx_cmds); k++)
			if (fx_head(s, len, fx_cmds[k].head, fx_cmds[k].hlen))
				return true;
		return false;
	}
	if (st->ml_code) {
		/* inside a block only the closing line can matter */
		h[0] = '0' + st->ml_code / 100 % 10;
		h[1] = '0' + st->ml_code / 10 % 10;
		h[2] = '0' + st->ml_code % 10;
		h[3] = ' ';
		if (!fx_head(s, len, (const char *)h, 4))
			return false;
		return len <= 4 || fx_reply_kind(st->ml_code) != FTPX_K_NONE;
	}
	for (k = 0; k < ARRAY_SIZE(fx_replies); k++)
		if (fx_head(s, len, fx_replies[k].head, 4))
			return true;
	return false;
}

static size_t fx_put_dec(char *p, u32 v)
{
	char t[10];
	size_t n = 0, k;

	do {
		t[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	for (k = 0; k < n; k++)
		p[k] = t[n - 1 - k];
	return n;
}

static size_t fx_put_v4(char *p, const u8 *a)
{
	size_t n = 0, k;

	for (k = 0; k < 4; k++) {
		if (k)
			p[n++] = '.';
		n += fx_put_dec(p + n, a[k]);
	}
	return n;
}

/*
 * RFC 5952: lowercase, no leading zeros, the longest run of two or more zero
 * groups (the first on a tie) as "::", and IPv4-mapped addresses with the
 * last 32 bits as a dotted quad.
 */
static size_t fx_put_v6(char *p, const u8 *a)
{
	static const u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const char hex[] = "0123456789abcdef";
	unsigned int g[8], k, j, best = 8, blen = 1, sh;
	bool sep = false;
	size_t n = 0;

	if (!memcmp(a, mapped, sizeof(mapped))) {
		memcpy(p, "::ffff:", 7);
		return 7 + fx_put_v4(p + 7, a + 12);
	}
	for (k = 0; k < 8; k++)
		g[k] = a[2 * k] << 8 | a[2 * k + 1];
	for (k = 0; k < 8; k = j + 1) {
		for (j = k; j < 8 && !g[j]; j++)
			;
		if (j - k > blen) {
			best = k;
			blen = j - k;
		}
	}
	for (k = 0; k < 8; k++) {
		if (k == best) {
			p[n++] = ':';
			p[n++] = ':';
			k += blen - 1;
			sep = false;
			continue;
		}
		if (sep)
			p[n++] = ':';
		for (sh = 12; sh; sh -= 4)
			if (g[k] >> sh)
				p[n++] = hex[g[k] >> sh & 15];
		p[n++] = hex[g[k] & 15];
		sep = true;
	}
	return n;
}

/*
 * Port 0 is refused like an impossible kind/family pair: the parser rejects
 * it, so writing one would put a line on the wire that we ourselves refuse.
 * The text is NUL-terminated; the NUL must fit in @buflen too.
 */
size_t ftpx_format(enum ftpx_kind kind, u8 family, const u8 *addr, u16 port,
		   char *buf, size_t buflen)
{
	char t[FTPX_FMT_MAX];
	size_t n = 0, k;

	if (!port)
		return 0;
	switch (kind) {
	case FTPX_K_PORT:
	case FTPX_K_227:
		if (family != 4 || !addr)
			return 0;
		for (k = 0; k < 4; k++) {
			n += fx_put_dec(t + n, addr[k]);
			t[n++] = ',';
		}
		n += fx_put_dec(t + n, port >> 8);
		t[n++] = ',';
		n += fx_put_dec(t + n, port & 0xff);
		break;
	case FTPX_K_EPRT:
		if (!addr || (family != 4 && family != 6))
			return 0;
		t[n++] = '|';
		t[n++] = family == 4 ? '1' : '2';
		t[n++] = '|';
		if (family == 4)
			n += fx_put_v4(t + n, addr);
		else
			n += fx_put_v6(t + n, addr);
		t[n++] = '|';
		n += fx_put_dec(t + n, port);
		t[n++] = '|';
		break;
	case FTPX_K_229:
		memcpy(t, "|||", 3);
		n = 3 + fx_put_dec(t + 3, port);
		t[n++] = '|';
		break;
	default:
		return 0;
	}
	if (n >= buflen)
		return 0;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return n;
}

static const char *const fx_kind_names[FTPX_K_MAX] = {
	[FTPX_K_NONE]		= "none",
	[FTPX_K_PORT]		= "port",
	[FTPX_K_EPRT]		= "eprt",
	[FTPX_K_227]		= "227",
	[FTPX_K_229]		= "229",
	[FTPX_K_AUTH_TLS]	= "auth",
	[FTPX_K_234]		= "234",
	[FTPX_K_CCC]		= "ccc",
	[FTPX_K_200]		= "200",
};

static const char *const fx_bad_names[FTPX_BAD_MAX] = {
	[FTPX_BAD_NONE]		= "none",
	[FTPX_BAD_SYNTAX]	= "syntax",
	[FTPX_BAD_OCTET]	= "octet",
	[FTPX_BAD_PORT]		= "port",
	[FTPX_BAD_NUMBER]	= "number",
	[FTPX_BAD_FAMILY]	= "family",
	[FTPX_BAD_ADDR]		= "addr",
	[FTPX_BAD_CHAR]		= "char",
};

const char *ftpx_kind_name(enum ftpx_kind kind)
{
	return (unsigned int)kind < FTPX_K_MAX ? fx_kind_names[kind] : "?";
}

const char *ftpx_bad_name(enum ftpx_bad bad)
{
	return (unsigned int)bad < FTPX_BAD_MAX ? fx_bad_names[bad] : "?";
}
