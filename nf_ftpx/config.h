/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FTPX_CONFIG_H
#define _FTPX_CONFIG_H

#include "nf_ftpx.h"

struct ftpx_prefix {
	union nf_inet_addr addr;
	u8 family;
	u8 len;
};

/* One server entry; the whole table is replaced under RCU on change. */
struct ftpx_server {
	u8 family;			/* 0: the default for every server */
	union nf_inet_addr addr;	/* the server's real address */
	u16 pasv_min, pasv_max;		/* 0: no range */
	bool has_masq;
	union nf_inet_addr masq;
	u8 n_internal;
	struct ftpx_prefix internal[FTPX_MAX_INTERNAL];
};

struct ftpx_config {
	struct rcu_head rcu;
	unsigned int n;
	struct ftpx_server srv[];
};

int ftpx_config_set(struct net *net, const struct ftpx_server *srv);
int ftpx_config_del(struct net *net, u8 family, const union nf_inet_addr *a);
void ftpx_config_flush(struct net *net);
int ftpx_prefix_parse(const char *s, struct ftpx_prefix *p);

#endif
