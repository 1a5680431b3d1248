/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Configuration files of ftpxd and ftpx-agent (INI style, see
 * userspace/ftpxd.conf and ftpxd(8)). Parsing is all or nothing: a file
 * with one bad line yields an error naming the line and no config.
 */
#ifndef FTPX_CONF_H
#define FTPX_CONF_H

#include <stdint.h>
#include <netinet/in.h>

#include "genl.h"

#define FTPX_MAX_RANGES		16
#define FTPX_MAX_AGENTS		16
#define FTPX_MAX_CTRL_PORTS	8
#define FTPX_DEFAULT_UDP_PORT	4021
#define FTPX_DEFAULT_SOCKET	"/run/ftpxd.sock"
#define FTPX_DEFAULT_CONF	"/etc/ftpx/ftpxd.conf"

struct ftpx_range {
	uint16_t lo, hi;
};

struct ftpx_ranges {
	int n;
	struct ftpx_range r[FTPX_MAX_RANGES];
};

struct ftpx_sockaddr {
	int family;		/* 0: not set */
	uint8_t addr[16];
	uint16_t port;
};

struct ftpx_conf_server {
	struct ftpx_server_cfg k;	/* what goes to the module */
	int kernel;			/* pasv, masq or internal given */
	int has_ports;
	struct ftpx_ranges ports;	/* hint allowance */
	int n_agents;
	struct ftpx_sockaddr agents[FTPX_MAX_AGENTS];
};

struct ftpx_conf {
	/* [ftpxd] */
	struct ftpx_sockaddr listen;	/* family 0: no UDP intake */
	char key_file[256];
	char socket[108];
	unsigned int window_s;
	unsigned int replay_cache;
	struct ftpx_ranges ports;	/* default hint allowance */
	int local;			/* watch this host's listeners */
	int n_ctrl_ports;
	uint16_t ctrl_ports[FTPX_MAX_CTRL_PORTS];
	unsigned int poll_ms;
	int sync_servers;
	unsigned int rcvbuf;
	/* [server ADDR] */
	int n_servers;
	struct ftpx_conf_server servers[FTPX_MAX_SERVERS];
};

/* Defaults, as documented in ftpxd.conf and ftpxd(8). */
void ftpx_conf_defaults(struct ftpx_conf *c);
/* Parse @path over the defaults already in @c; 0 or -1 with @err set. */
int ftpx_conf_load(const char *path, struct ftpx_conf *c, char *err,
		   size_t errlen);
/* Same for a string (the unit tests). */
int ftpx_conf_parse(const char *text, const char *name, struct ftpx_conf *c,
		    char *err, size_t errlen);

const struct ftpx_conf_server *ftpx_conf_find(const struct ftpx_conf *c,
					      int family, const uint8_t *addr);
int ftpx_ranges_parse(const char *s, struct ftpx_ranges *r);
int ftpx_ranges_has(const struct ftpx_ranges *r, uint16_t port);
void ftpx_ranges_fmt(const struct ftpx_ranges *r, char *buf, size_t len);
/* "1.2.3.4", "1.2.3.4:99", "[2001:db8::1]:99", "2001:db8::1" */
int ftpx_sockaddr_parse(const char *s, uint16_t defport,
			struct ftpx_sockaddr *a);
int ftpx_ports_parse(const char *s, uint16_t *ports, int max);

/* Generic INI walk: cb gets the section name and its argument ("server",
 * "192.0.2.1"), key and value, trimmed. cb returns 0 or -1 with @err set. */
typedef int (*ftpx_ini_cb)(const char *sect, const char *arg, const char *key,
			   const char *val, void *data, char *err,
			   size_t errlen);
int ftpx_ini_parse(const char *text, const char *name, ftpx_ini_cb cb,
		   void *data, char *err, size_t errlen);
/* Reads a whole small file; caller frees. NULL with @err set. */
char *ftpx_read_file(const char *path, char *err, size_t errlen);
int ftpx_parse_bool(const char *v, int *out);
int ftpx_parse_uint(const char *v, unsigned int min, unsigned int max,
		    unsigned int *out);

#endif
