/* SPDX-License-Identifier: GPL-2.0 */
/*
 * FTP control-line parser shared by the kernel module, the userspace unit
 * tests and the fuzz target. It is plain C with no kernel-only calls: it works
 * on one complete control line at a time (without its CR/LF) and on a small
 * per-direction state that carries RFC 959 multi-line reply tracking.
 *
 * Reassembly of lines split across TCP segments is the caller's job; the
 * parser only answers "could this partial line still become a line we care
 * about?" (ftpx_line_candidate) so the caller buffers as little as possible.
 */
#ifndef _FTPX_PARSE_H
#define _FTPX_PARSE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
#endif

/* Longest line nf_ftpx buffers across a segment boundary. Lines of interest
 * are far shorter (EPRT |2| with a full IPv6 address is 60 bytes); a longer
 * partial line is skipped to its newline and counted. */
#define FTPX_LINE_MAX		160

/* Longest text ftpx_format() produces (EPRT |2|<v6>|65535| plus NUL). */
#define FTPX_FMT_MAX		64

enum ftpx_dir {
	FTPX_DIR_CLIENT = 0,	/* client -> server: commands */
	FTPX_DIR_SERVER = 1,	/* server -> client: replies */
};

enum ftpx_kind {
	FTPX_K_NONE = 0,	/* not a line nf_ftpx acts on */
	FTPX_K_PORT,		/* PORT h1,h2,h3,h4,p1,p2 */
	FTPX_K_EPRT,		/* EPRT |1|a.b.c.d|port| or |2|v6|port| */
	FTPX_K_227,		/* 227 ... h1,h2,h3,h4,p1,p2 (parens optional) */
	FTPX_K_229,		/* 229 ... (|||port|) */
	FTPX_K_AUTH_TLS,	/* AUTH TLS / AUTH SSL / AUTH TLS-C ... */
	FTPX_K_234,		/* 234: server accepts AUTH, TLS follows */
	FTPX_K_CCC,		/* CCC command */
	FTPX_K_200,		/* 200 reply (acknowledges CCC when one is pending) */
	FTPX_K_MAX
};

enum ftpx_result {
	FTPX_R_NONE = 0,	/* not a line of interest; ignore it */
	FTPX_R_OK,		/* a line of interest, fully parsed into the match */
	FTPX_R_BAD,		/* looked like a line of interest but is malformed */
};

/* Why a line of interest was refused; each has a stable name for logs,
 * counters and the generated bad-input table. */
enum ftpx_bad {
	FTPX_BAD_NONE = 0,
	FTPX_BAD_SYNTAX,	/* missing/extra fields, bad delimiters */
	FTPX_BAD_OCTET,		/* an address number above 255 */
	FTPX_BAD_PORT,		/* port 0 or above 65535 */
	FTPX_BAD_NUMBER,	/* too many digits / overflow / leading junk */
	FTPX_BAD_FAMILY,	/* EPRT network protocol not 1 or 2 */
	FTPX_BAD_ADDR,		/* unparsable IPv4/IPv6 text */
	FTPX_BAD_CHAR,		/* NUL or other control byte inside the line */
	FTPX_BAD_MAX
};

struct ftpx_match {
	enum ftpx_kind kind;
	enum ftpx_bad bad;	/* reason when FTPX_R_BAD */
	u8 family;		/* 4 or 6; 0 for 229 (port only) */
	u8 addr[16];		/* network order; IPv4 uses the first 4 bytes */
	u16 port;		/* host order */
	/* Byte range within the line that holds the address/port text a NAT
	 * rewrite replaces: for PORT/227 the "h1,...,p2" run, for EPRT the
	 * "|af|addr|port|" run, for 229 the "|||port|" run. */
	u16 off;
	u16 len;
};

/* Per direction, per connection. Zero is the initial state. */
struct ftpx_pstate {
	u16 ml_code;		/* inside an RFC 959 multi-line reply with this code */
};

/*
 * Parse one complete line (no CR/LF; embedded NUL bytes are allowed in
 * @line and are a reason to refuse). Matching is case-insensitive.
 * Server lines that are inside a multi-line reply ("227-" ... "227 ") are
 * text, never acted on, except for the closing line of the block.
 */
enum ftpx_result ftpx_parse_line(struct ftpx_pstate *st, enum ftpx_dir dir,
				 const char *line, size_t len,
				 struct ftpx_match *m);

/*
 * Could a line that begins with these @len bytes (no newline seen yet) still
 * parse as FTPX_R_OK or FTPX_R_BAD? Used to decide whether to keep a partial
 * line across a segment boundary. Must be cheap and must never say "no" for a
 * prefix of a line ftpx_parse_line() would act on.
 */
bool ftpx_line_candidate(const struct ftpx_pstate *st, enum ftpx_dir dir,
			 const char *line, size_t len);

/*
 * Format the replacement for m->off/m->len of a line of kind @kind with the
 * given address (family 4 or 6, network order) and port (host order):
 * PORT/227 -> "h1,h2,h3,h4,p1,p2"; EPRT -> "|1|a.b.c.d|port|" or
 * "|2|<RFC 5952 text>|port|"; 229 -> "|||port|".
 * Returns the length written (no NUL counted) or 0 if it does not fit or the
 * kind/family combination is impossible (PORT/227 with IPv6).
 */
size_t ftpx_format(enum ftpx_kind kind, u8 family, const u8 *addr, u16 port,
		   char *buf, size_t buflen);

/* Stable names for logs and tables. */
const char *ftpx_kind_name(enum ftpx_kind kind);
const char *ftpx_bad_name(enum ftpx_bad bad);

#endif /* _FTPX_PARSE_H */
