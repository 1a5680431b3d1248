/* SPDX-License-Identifier: GPL-2.0 */
/* Talking to the nf_ftpx generic netlink family from userspace. */
#ifndef FTPX_US_GENL_H
#define FTPX_US_GENL_H

#include <stdint.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include "../nf_ftpx/uapi_nf_ftpx.h"

struct ftpx_prefix_cfg {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t len;
};

struct ftpx_server_cfg {
	int family;
	uint8_t addr[16];
	uint16_t pasv_min, pasv_max;
	int has_masq;
	uint8_t masq[16];
	int n_internal;
	struct ftpx_prefix_cfg internal[FTPX_MAX_INTERNAL];
};

struct ftpx_genl {
	struct mnl_socket *nl;
	uint16_t family_id;
	uint32_t seq, portid;
	char err[256];		/* last error, with the kernel's reason */
};

int ftpx_genl_open(struct ftpx_genl *g);
void ftpx_genl_close(struct ftpx_genl *g);
int ftpx_genl_stats(struct ftpx_genl *g, uint64_t out[FTPX_STAT_MAX]);
int ftpx_genl_set_server(struct ftpx_genl *g, const struct ftpx_server_cfg *s);
int ftpx_genl_del_server(struct ftpx_genl *g, int family, const uint8_t *addr);
int ftpx_genl_flush(struct ftpx_genl *g);
/* Calls cb for each configured server. */
int ftpx_genl_servers(struct ftpx_genl *g,
		      void (*cb)(const struct ftpx_server_cfg *, void *),
		      void *data);

/* "1.2.3.4" / "2001:db8::1" -> family and bytes; "a/len" for prefixes. */
int ftpx_parse_addr(const char *s, int *family, uint8_t *addr);
int ftpx_parse_prefix(const char *s, struct ftpx_prefix_cfg *p);
const char *ftpx_stat_name(int i);
const char *ftpx_mode_name(int m);

#endif
