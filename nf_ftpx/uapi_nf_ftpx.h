/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nf_ftpx userspace interface: the generic netlink family "nf_ftpx" (root
 * only, per network namespace) and the per-session info the helper exports
 * in CTA_HELP_INFO of a conntrack dump. Shared verbatim by the module and the
 * userspace tools. Version 1.
 */
#ifndef _UAPI_NF_FTPX_H
#define _UAPI_NF_FTPX_H

#include <linux/types.h>

#define FTPX_GENL_NAME		"nf_ftpx"
#define FTPX_GENL_VERSION	1

enum ftpx_mode {
	FTPX_MODE_PLAIN = 0,	/* cleartext FTP, parsed */
	FTPX_MODE_EXPLICIT,	/* AUTH TLS/SSL answered by 234 */
	FTPX_MODE_IMPLICIT,	/* TLS from the first byte */
	FTPX_MODE_CLEARED,	/* CCC: back to cleartext after TLS */
	FTPX_MODE_MAX
};

enum ftpx_stat {
	FTPX_STAT_SESSIONS = 0,		/* control sessions seen */
	FTPX_STAT_LINES,		/* lines of interest parsed */
	FTPX_STAT_EXPECTS,		/* expectations created (data) */
	FTPX_STAT_EXPECT_FAIL,		/* expectation insert failed */
	FTPX_STAT_REFUSED_BOUNCE,	/* address is not the peer's */
	FTPX_STAT_REFUSED_LOWPORT,	/* PORT/EPRT below 1024 */
	FTPX_STAT_REFUSED_BAD,		/* malformed line of interest */
	FTPX_STAT_REWRITES,		/* payload rewrites done */
	FTPX_STAT_REWRITE_FAIL,		/* rewrite impossible or failed */
	FTPX_STAT_SPLIT_LINES,		/* lines reassembled across segments */
	FTPX_STAT_LONG_LINES,		/* partial lines too long to keep */
	FTPX_STAT_TLS_EXPLICIT,		/* sessions that went explicit TLS */
	FTPX_STAT_TLS_IMPLICIT,		/* sessions that started with TLS */
	FTPX_STAT_TLS_CLEARED,		/* sessions cleared by CCC */
	FTPX_STAT_GATE_EXPECTS,		/* passive-range expectations */
	FTPX_STAT_GATE_REFUSED,		/* gate limit reached */
	FTPX_STAT_RETRANS,		/* retransmitted segments re-parsed */
	FTPX_STAT_OOO,			/* segments parsed without prefix */
	FTPX_STAT_NOMEM,		/* session allocation failed */
	FTPX_STAT_GATE_COVERED,		/* data port already open by a gate */
	FTPX_STAT_TLS_ADOPTED,		/* session found already encrypted */
	FTPX_STAT_MAX
};

enum ftpx_genl_cmd {
	FTPX_CMD_UNSPEC = 0,
	FTPX_CMD_GET_STATS,	/* reply: FTPX_A_STATS nest of u64 by stat */
	FTPX_CMD_SET_SERVER,	/* add or replace one server entry */
	FTPX_CMD_DEL_SERVER,	/* remove one server entry */
	FTPX_CMD_GET_SERVERS,	/* dump all server entries */
	FTPX_CMD_FLUSH,		/* remove every server entry */
	__FTPX_CMD_MAX
};
#define FTPX_CMD_MAX (__FTPX_CMD_MAX - 1)

enum ftpx_genl_attr {
	FTPX_A_UNSPEC = 0,
	FTPX_A_STATS,		/* nest: u64 attributes, type = stat + 1 */
	FTPX_A_SERVER,		/* nest: FTPX_S_* */
	__FTPX_A_MAX
};
#define FTPX_A_MAX (__FTPX_A_MAX - 1)

/* A server entry: matched on the server's real address (after any DNAT). */
enum ftpx_server_attr {
	FTPX_S_UNSPEC = 0,
	FTPX_S_ADDR,		/* binary 4 or 16 bytes */
	FTPX_S_PASV_MIN,	/* u16: passive range for encrypted sessions */
	FTPX_S_PASV_MAX,	/* u16 */
	FTPX_S_MASQ,		/* binary 4 or 16 bytes: address to advertise */
	FTPX_S_INTERNAL,	/* nest of FTPX_P_* prefixes, at most 16 */
	__FTPX_S_MAX
};
#define FTPX_S_MAX (__FTPX_S_MAX - 1)

enum ftpx_prefix_attr {
	FTPX_P_UNSPEC = 0,
	FTPX_P_PREFIX,		/* binary: 4 or 16 address bytes + 1 length */
	__FTPX_P_MAX
};
#define FTPX_P_MAX (__FTPX_P_MAX - 1)

#define FTPX_MAX_INTERNAL	16
#define FTPX_MAX_SERVERS	64

/* CTA_HELP_INFO payload for a control connection (network byte order). */
struct ftpx_help_info {
	__u8 version;		/* 1 */
	__u8 mode;		/* enum ftpx_mode */
	__be16 gates;
	__be32 expects;
	__be32 refused;
	__be32 rewrites;
};

#endif /* _UAPI_NF_FTPX_H */
