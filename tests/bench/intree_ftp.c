// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace rebuild of the control-line matcher of the in-tree FTP
 * conntrack helper, net/netfilter/nf_conntrack_ftp.c:
 *   (C) 1999-2001 Paul `Rusty' Russell
 *   (C) 2002-2004 Netfilter Core Team <coreteam@netfilter.org>
 *   (C) 2003,2004 USAGI/WIDE Project <http://www.linux-ipv6.org>
 * licensed under the GNU General Public License version 2. The algorithm is
 * the in-tree one as of Linux 6.x: a per-direction table of prefixes
 * ("PORT", "EPRT"; "227 ", "229 "), a scan to a skip character, then a
 * number reader (RFC 959 six numbers, RFC 1123 "first digit" for 227, EPRT
 * with an in6_pton-style IPv6 reader, EPSV |||port|). It is the baseline
 * of the benchmark only; nothing in nf_ftpx uses it.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "intree_ftp.h"

typedef int (*getnum_fn)(const char *, size_t, struct intree_match *, char,
			 unsigned int *);

static int try_rfc959(const char *, size_t, struct intree_match *, char,
		      unsigned int *);
static int try_rfc1123(const char *, size_t, struct intree_match *, char,
		       unsigned int *);
static int try_eprt(const char *, size_t, struct intree_match *, char,
		    unsigned int *);
static int try_epsv(const char *, size_t, struct intree_match *, char,
		    unsigned int *);

static const struct {
	const char *pattern;
	size_t plen;
	char skip;
	char term;
	getnum_fn getnum;
} search[2][2] = {
	{
		{ "PORT", 4, ' ', '\r', try_rfc959 },
		{ "EPRT", 4, ' ', '\r', try_eprt },
	}, {
		{ "227 ", 4, 0, 0, try_rfc1123 },
		{ "229 ", 4, '(', ')', try_epsv },
	},
};

static int try_number(const char *data, size_t dlen, uint32_t *array,
		      int n, char sep, char term)
{
	uint32_t i, len;

	memset(array, 0, sizeof(array[0]) * n);
	for (i = 0, len = 0; len < dlen && i < (uint32_t)n; len++, data++) {
		if (*data >= '0' && *data <= '9') {
			array[i] = array[i] * 10 + *data - '0';
		} else if (*data == sep) {
			i++;
		} else {
			/* the terminator after the last number: done */
			if ((*data == term || !term) && i == (uint32_t)n - 1)
				return len;
			return 0;
		}
	}
	return 0;
}

static int try_rfc959(const char *data, size_t dlen, struct intree_match *m,
		      char term, unsigned int *off)
{
	uint32_t a[6];
	int len;

	(void)off;
	len = try_number(data, dlen, a, 6, ',', term);
	if (!len)
		return 0;
	m->family = 4;
	m->addr[0] = a[0];
	m->addr[1] = a[1];
	m->addr[2] = a[2];
	m->addr[3] = a[3];
	m->port = __builtin_bswap16((uint16_t)((a[4] << 8) | a[5]));
	return len;
}

/* RFC 1123: a 227 reply need not have parentheses; scan for a digit. */
static int try_rfc1123(const char *data, size_t dlen, struct intree_match *m,
		       char term, unsigned int *off)
{
	size_t i;

	(void)term;
	for (i = 0; i < dlen; i++)
		if (isdigit((unsigned char)data[i]))
			break;
	if (i == dlen)
		return 0;
	*off += i;
	return try_rfc959(data + i, dlen - i, m, 0, off);
}

static int get_port(const char *data, int start, size_t dlen, char delim,
		    uint16_t *port)
{
	uint16_t p = 0;	/* u16 as in 6.1 and 6.12: it wraps, no range check */
	size_t i;

	for (i = start; i < dlen; i++) {
		if (data[i] == delim) {
			if (!p)
				break;
			*port = __builtin_bswap16((uint16_t)p);
			return i + 1;
		} else if (data[i] >= '0' && data[i] <= '9') {
			p = p * 10 + data[i] - '0';
		} else {
			break;
		}
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The kernel's in6_pton(src, srclen, dst, delim, &end), reduced to what
 * get_ipv6_addr() uses: hex groups, "::" once, an embedded dotted quad at
 * the end; stops at @delim. Returns the length consumed or 0.
 */
static int in6_scan(const char *src, size_t srclen, uint8_t *dst, char delim)
{
	uint8_t dbuf[16], *d = dbuf, *dc = NULL;
	const char *s = src, *tok = src;
	size_t left = srclen;
	int w = 0, state = 0x01 | 0x02 | 0x10;	/* xdigit, colon1, dot-ok */
	int i;

	memset(dbuf, 0, sizeof(dbuf));
	for (;;) {
		int c = left ? (unsigned char)*s : delim;

		if (c == delim || !left) {
			if (!(state & 0x01) && !(state & 0x04))
				return 0;
			if (state & 0x01) {	/* a group in progress */
				if (d + 2 > dbuf + 16)
					return 0;
				*d++ = (w >> 8) & 0xff;
				*d++ = w & 0xff;
			}
			break;
		}
		if (c == ':') {
			if (state & 0x08)	/* "::" seen before this one */
				return 0;
			if (s > src && s[-1] == ':') {
				if (dc)
					return 0;
				dc = d;
				state = 0x01 | 0x04;
			} else {
				if (d + 2 > dbuf + 16)
					return 0;
				*d++ = (w >> 8) & 0xff;
				*d++ = w & 0xff;
				state = 0x01 | 0x02;
			}
			w = 0;
			tok = s + 1;
		} else if (c == '.') {
			/* dotted quad from the start of this group */
			uint32_t a[4];
			size_t rest = srclen - (tok - src);
			int n;

			if (d + 4 > dbuf + 16)
				return 0;
			n = try_number(tok, rest, a, 4, '.', delim);
			if (!n || a[0] > 255 || a[1] > 255 || a[2] > 255 ||
			    a[3] > 255)
				return 0;
			for (i = 0; i < 4; i++)
				*d++ = a[i];
			s = tok + n;
			left = srclen - (s - src);
			state = 0x04;
			if (!left || *s != delim)
				return 0;
			break;
		} else {
			int v = hexval(c);

			if (v < 0 || !(state & 0x01))
				return 0;
			w = (w << 4) | v;
			if (w > 0xffff)
				return 0;
			state = 0x01 | 0x04;
		}
		s++;
		left--;
	}
	if (dc) {
		size_t tail = d - dc;

		memmove(dbuf + 16 - tail, dc, tail);
		memset(dc, 0, 16 - tail - (dc - dbuf));
	} else if (d != dbuf + 16) {
		return 0;
	}
	memcpy(dst, dbuf, 16);
	return s - src;
}

static int try_eprt(const char *data, size_t dlen, struct intree_match *m,
		    char term, unsigned int *off)
{
	uint32_t a[4];
	char delim;
	int len;

	(void)term;
	(void)off;
	if (dlen <= 3)
		return 0;
	delim = data[0];
	if (isdigit((unsigned char)delim) || delim < 33 || delim > 126 ||
	    data[2] != delim)
		return 0;
	if ((m->family == 4 && data[1] != '1') ||
	    (m->family == 6 && data[1] != '2'))
		return 0;
	if (data[1] == '1') {
		len = try_number(data + 3, dlen - 3, a, 4, '.', delim);
		if (len) {
			m->addr[0] = a[0];
			m->addr[1] = a[1];
			m->addr[2] = a[2];
			m->addr[3] = a[3];
		}
	} else {
		len = in6_scan(data + 3, dlen - 3, m->addr, delim);
	}
	if (!len)
		return 0;
	return get_port(data, 3 + len + 1, dlen, delim, &m->port);
}

static int try_epsv(const char *data, size_t dlen, struct intree_match *m,
		    char term, unsigned int *off)
{
	char delim;

	(void)term;
	(void)off;
	if (dlen <= 3)
		return 0;
	delim = data[0];
	if (isdigit((unsigned char)delim) || delim < 33 || delim > 126 ||
	    data[1] != delim || data[2] != delim)
		return 0;
	return get_port(data, 3, dlen, delim, &m->port);
}

static int find_pattern(const char *data, size_t dlen, const char *pattern,
			size_t plen, char skip, char term, unsigned int *numoff,
			unsigned int *numlen, struct intree_match *m,
			getnum_fn getnum)
{
	size_t i = plen;

	if (dlen <= plen)
		return strncasecmp(data, pattern, dlen) ? 0 : -1;
	if (strncasecmp(data, pattern, plen))
		return 0;
	if (skip) {
		for (i = plen; data[i] != skip; i++)
			if (i == dlen - 1)
				return -1;
		i++;
	}
	*numoff = i;
	*numlen = getnum(data + i, dlen - i, m, term, numoff);
	if (!*numlen)
		return -1;
	return 1;
}

int intree_ftp_match(int dir, int family, const char *data, size_t dlen,
		     struct intree_match *m)
{
	int found = 0;
	unsigned int i;

	m->family = family;
	for (i = 0; i < 2; i++) {
		found = find_pattern(data, dlen, search[dir][i].pattern,
				     search[dir][i].plen, search[dir][i].skip,
				     search[dir][i].term, &m->off, &m->len, m,
				     search[dir][i].getnum);
		if (found)
			break;
	}
	m->type = i;
	return found;
}
