/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-tree FTP helper's control-line matcher (net/netfilter/
 * nf_conntrack_ftp.c: find_pattern() and its getnum functions), rebuilt for
 * userspace as the baseline of the parser benchmark. Same search table, same
 * scanning loops, same results (1 match, 0 no match, -1 partial: the
 * in-tree helper drops such a segment); only the kernel types and calls are
 * replaced.
 */
#ifndef FTPX_INTREE_FTP_H
#define FTPX_INTREE_FTP_H

#include <stddef.h>
#include <stdint.h>

struct intree_match {
	int type;		/* index into the direction's search table */
	unsigned int off;	/* numoff / numlen as find_pattern sets them */
	unsigned int len;
	uint8_t family;		/* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;		/* network order, as the in-tree helper keeps it */
};

/* @dir: 0 original (client commands), 1 reply (server replies). @data is the
 * segment payload (here: one line with its CRLF). @family is the control
 * connection's (EPRT must match it). */
int intree_ftp_match(int dir, int family, const char *data, size_t dlen,
		     struct intree_match *m);

#endif
