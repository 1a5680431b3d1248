// SPDX-License-Identifier: GPL-2.0
/*
 * INI-style configuration for ftpxd and ftpx-agent. Sections: [ftpxd],
 * [agent] and one [server ADDR] per FTP server (its real address, after
 * any DNAT). "key = value" lines, '#' or ';' starts a comment.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "conf.h"

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

char *ftpx_read_file(const char *path, char *err, size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	FILE *f;

	f = fopen(path, "re");
	if (!f || !buf) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (len < cap - 1)
			break;
		if (cap >= 1 << 20) {
			snprintf(err, errlen, "%s: larger than 1 MiB", path);
			goto fail;
		}
		cap *= 2;
		{
			char *nb = realloc(buf, cap);

			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[len] = 0;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

int ftpx_ini_parse(const char *text, const char *name, ftpx_ini_cb cb,
		   void *data, char *err, size_t errlen)
{
	char sect[64] = "", arg[128] = "", line[1024], why[200];
	const char *p = text;
	int lineno = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char *l, *eq, *c;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%d: line too long", name, lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (p[n] == '\n');
		c = strpbrk(line, "#;");
		if (c)
			*c = 0;
		l = trim(line);
		if (!*l)
			continue;
		if (*l == '[') {
			char *end = strchr(l, ']'), *sp;

			if (!end || end[1]) {
				snprintf(err, errlen, "%s:%d: bad section header",
					 name, lineno);
				return -1;
			}
			*end = 0;
			l = trim(l + 1);
			sp = strpbrk(l, " \t");
			arg[0] = 0;
			if (sp) {
				*sp = 0;
				snprintf(arg, sizeof(arg), "%s", trim(sp + 1));
			}
			if (strlen(l) >= sizeof(sect)) {
				snprintf(err, errlen, "%s:%d: bad section name",
					 name, lineno);
				return -1;
			}
			strcpy(sect, l);
			/* announce the section itself with an empty key */
			why[0] = 0;
			if (cb(sect, arg, "", "", data, why, sizeof(why)) < 0) {
				snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
				return -1;
			}
			continue;
		}
		eq = strchr(l, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected key = value",
				 name, lineno);
			return -1;
		}
		*eq = 0;
		if (!*trim(l)) {	/* an empty key means "section" to cb */
			snprintf(err, errlen, "%s:%d: expected key = value",
				 name, lineno);
			return -1;
		}
		if (!sect[0]) {
			snprintf(err, errlen, "%s:%d: \"%s\" outside a section",
				 name, lineno, trim(l));
			return -1;
		}
		why[0] = 0;
		if (cb(sect, arg, trim(l), trim(eq + 1), data, why,
		       sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
			return -1;
		}
	}
	return 0;
}

int ftpx_parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
		 !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int ftpx_parse_uint(const char *v, unsigned int min, unsigned int max,
		    unsigned int *out)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -1;
	*out = (unsigned int)n;
	return 0;
}

int ftpx_ranges_parse(const char *s, struct ftpx_ranges *r)
{
	char buf[512], *tok, *next = buf;

	memset(r, 0, sizeof(*r));
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (!strcmp(trim(buf), "none"))
		return 0;
	/* strsep, not strtok: an empty item ("1024,,2000") is an error */
	while ((tok = strsep(&next, ","))) {
		unsigned int lo, hi;
		char *dash;

		tok = trim(tok);
		dash = strchr(tok, '-');
		if (dash)
			*dash = 0;
		if (r->n >= FTPX_MAX_RANGES ||
		    ftpx_parse_uint(trim(tok), 1, 65535, &lo))
			return -1;
		hi = lo;
		if (dash && ftpx_parse_uint(trim(dash + 1), 1, 65535, &hi))
			return -1;
		if (lo > hi)
			return -1;
		r->r[r->n].lo = (uint16_t)lo;
		r->r[r->n].hi = (uint16_t)hi;
		r->n++;
	}
	return r->n ? 0 : -1;
}

int ftpx_ranges_has(const struct ftpx_ranges *r, uint16_t port)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (port >= r->r[i].lo && port <= r->r[i].hi)
			return 1;
	return 0;
}

void ftpx_ranges_fmt(const struct ftpx_ranges *r, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	if (!r->n) {
		snprintf(buf, len, "none");
		return;
	}
	for (i = 0; i < r->n && off < len; i++) {
		if (r->r[i].lo == r->r[i].hi)
			off += snprintf(buf + off, len - off, "%s%u",
					i ? "," : "", r->r[i].lo);
		else
			off += snprintf(buf + off, len - off, "%s%u-%u",
					i ? "," : "", r->r[i].lo, r->r[i].hi);
	}
}

int ftpx_sockaddr_parse(const char *s, uint16_t defport,
			struct ftpx_sockaddr *a)
{
	char buf[INET6_ADDRSTRLEN + 16], *host = buf, *port = NULL, *c;
	unsigned int p = defport;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (*host == '[') {
		c = strchr(host, ']');
		if (!c)
			return -1;
		*c = 0;
		host++;
		if (c[1] == ':')
			port = c + 2;
		else if (c[1])
			return -1;
	} else {
		c = strchr(host, ':');
		/* one colon: IPv4 with a port; more: a bare IPv6 address */
		if (c && !strchr(c + 1, ':')) {
			*c = 0;
			port = c + 1;
		}
	}
	if (port && ftpx_parse_uint(port, 1, 65535, &p))
		return -1;
	if (ftpx_parse_addr(host, &a->family, a->addr))
		return -1;
	a->port = (uint16_t)p;
	return 0;
}

int ftpx_ports_parse(const char *s, uint16_t *ports, int max)
{
	char buf[256], *tok, *save = NULL;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		unsigned int p;

		if (n >= max || ftpx_parse_uint(tok, 1, 65535, &p))
			return -1;
		ports[n++] = (uint16_t)p;
	}
	return n ? n : -1;
}

void ftpx_conf_defaults(struct ftpx_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->key_file, sizeof(c->key_file), "/etc/ftpx/hint.key");
	snprintf(c->socket, sizeof(c->socket), "%s", FTPX_DEFAULT_SOCKET);
	c->window_s = 30;
	c->replay_cache = 4096;
	c->ports.n = 1;
	c->ports.r[0].lo = 1024;
	c->ports.r[0].hi = 65535;
	c->n_ctrl_ports = 2;
	c->ctrl_ports[0] = 21;
	c->ctrl_ports[1] = 990;
	c->poll_ms = 10;
	c->sync_servers = 1;
	c->rcvbuf = 8 << 20;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int set_str(char *dst, size_t len, const char *key, const char *v,
		   char *err, size_t errlen)
{
	if (strlen(v) >= len)
		return fail(err, errlen, "%s: longer than %zu bytes", key,
			    len - 1);
	strcpy(dst, v);
	return 0;
}

static int daemon_key(struct ftpx_conf *c, const char *k, const char *v,
		      char *err, size_t errlen)
{
	if (!strcmp(k, "listen")) {
		if (!*v || !strcmp(v, "none")) {
			memset(&c->listen, 0, sizeof(c->listen));
			return 0;
		}
		if (ftpx_sockaddr_parse(v, FTPX_DEFAULT_UDP_PORT, &c->listen))
			return fail(err, errlen, "listen \"%s\": expected ADDR[:PORT] or [V6ADDR]:PORT", v);
	} else if (!strcmp(k, "key-file")) {
		return set_str(c->key_file, sizeof(c->key_file), k, v, err,
			       errlen);
	} else if (!strcmp(k, "socket")) {
		if (*v != '/')
			return fail(err, errlen, "socket: an absolute path");
		return set_str(c->socket, sizeof(c->socket), k, v, err,
			       errlen);
	} else if (!strcmp(k, "window")) {
		if (ftpx_parse_uint(v, 1, 3600, &c->window_s))
			return fail(err, errlen, "window: seconds, 1-3600");
	} else if (!strcmp(k, "replay-cache")) {
		if (ftpx_parse_uint(v, 16, 1 << 20, &c->replay_cache))
			return fail(err, errlen, "replay-cache: entries, 16-1048576");
	} else if (!strcmp(k, "hint-ports")) {
		if (ftpx_ranges_parse(v, &c->ports))
			return fail(err, errlen, "hint-ports \"%s\": expected none or PORT[-PORT][,...] (at most %d)", v, FTPX_MAX_RANGES);
	} else if (!strcmp(k, "local")) {
		if (ftpx_parse_bool(v, &c->local))
			return fail(err, errlen, "local: yes or no");
	} else if (!strcmp(k, "control-ports")) {
		int n = ftpx_ports_parse(v, c->ctrl_ports, FTPX_MAX_CTRL_PORTS);

		if (n < 0)
			return fail(err, errlen, "control-ports: 1 to %d ports", FTPX_MAX_CTRL_PORTS);
		c->n_ctrl_ports = n;
	} else if (!strcmp(k, "poll-ms")) {
		if (ftpx_parse_uint(v, 1, 10000, &c->poll_ms))
			return fail(err, errlen, "poll-ms: 1-10000");
	} else if (!strcmp(k, "sync-servers")) {
		if (ftpx_parse_bool(v, &c->sync_servers))
			return fail(err, errlen, "sync-servers: yes or no");
	} else if (!strcmp(k, "netlink-rcvbuf")) {
		if (ftpx_parse_uint(v, 4096, 1 << 30, &c->rcvbuf))
			return fail(err, errlen, "netlink-rcvbuf: bytes, 4096-1073741824");
	} else {
		return fail(err, errlen, "unknown key \"%s\" in [ftpxd]", k);
	}
	return 0;
}

static int server_key(struct ftpx_conf_server *s, const char *k,
		      const char *v, char *err, size_t errlen)
{
	if (!strcmp(k, "pasv")) {
		unsigned int lo, hi;
		char c;

		if (!strcmp(v, "none")) {
			s->k.pasv_min = s->k.pasv_max = 0;
			return 0;
		}
		if (sscanf(v, "%u-%u%c", &lo, &hi, &c) != 2 || !lo ||
		    hi > 65535 || lo > hi)
			return fail(err, errlen, "pasv \"%s\": expected MIN-MAX within 1-65535", v);
		s->k.pasv_min = (uint16_t)lo;
		s->k.pasv_max = (uint16_t)hi;
		s->kernel = 1;
	} else if (!strcmp(k, "masq")) {
		int fam;

		if (ftpx_parse_addr(v, &fam, s->k.masq) || fam != s->k.family)
			return fail(err, errlen, "masq \"%s\": not an address of the server's family", v);
		s->k.has_masq = 1;
		s->kernel = 1;
	} else if (!strcmp(k, "internal")) {
		char buf[1024], *tok, *save = NULL;

		if (strlen(v) >= sizeof(buf))
			return fail(err, errlen, "internal: too long");
		strcpy(buf, v);
		s->k.n_internal = 0;
		for (tok = strtok_r(buf, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			if (s->k.n_internal >= FTPX_MAX_INTERNAL ||
			    ftpx_parse_prefix(tok, &s->k.internal[s->k.n_internal]))
				return fail(err, errlen, "internal prefix \"%s\" is invalid (at most %d prefixes)", tok, FTPX_MAX_INTERNAL);
			s->k.n_internal++;
		}
		s->kernel = 1;
	} else if (!strcmp(k, "hint-ports")) {
		if (ftpx_ranges_parse(v, &s->ports))
			return fail(err, errlen, "hint-ports \"%s\": expected none or PORT[-PORT][,...] (at most %d)", v, FTPX_MAX_RANGES);
		s->has_ports = 1;
	} else if (!strcmp(k, "agents")) {
		char buf[1024], *tok, *save = NULL;

		if (strlen(v) >= sizeof(buf))
			return fail(err, errlen, "agents: too long");
		strcpy(buf, v);
		s->n_agents = 0;
		for (tok = strtok_r(buf, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			struct ftpx_sockaddr *a = &s->agents[s->n_agents];

			if (s->n_agents >= FTPX_MAX_AGENTS ||
			    ftpx_parse_addr(tok, &a->family, a->addr))
				return fail(err, errlen, "agents: \"%s\" is not an address (at most %d)", tok, FTPX_MAX_AGENTS);
			s->n_agents++;
		}
	} else {
		return fail(err, errlen, "unknown key \"%s\" in [server]", k);
	}
	return 0;
}

static int conf_cb(const char *sect, const char *arg, const char *k,
		   const char *v, void *data, char *err, size_t errlen)
{
	struct ftpx_conf *c = data;
	struct ftpx_conf_server *s;

	if (!strcmp(sect, "ftpxd")) {
		if (*arg)
			return fail(err, errlen, "[ftpxd] takes no argument");
		return *k ? daemon_key(c, k, v, err, errlen) : 0;
	}
	if (!strcmp(sect, "agent"))
		return 0;	/* ftpx-agent's; it may share the file */
	if (strcmp(sect, "server"))
		return fail(err, errlen, "unknown section [%s]", sect);
	if (!*k) {
		int fam, i;
		uint8_t addr[16];

		if (ftpx_parse_addr(arg, &fam, addr))
			return fail(err, errlen, "[server %s]: expected the server's IPv4 or IPv6 address", arg);
		for (i = 0; i < c->n_servers; i++)
			if (c->servers[i].k.family == fam &&
			    !memcmp(c->servers[i].k.addr, addr, 16))
				return fail(err, errlen, "[server %s] appears twice", arg);
		if (c->n_servers >= FTPX_MAX_SERVERS)
			return fail(err, errlen, "more than %d servers", FTPX_MAX_SERVERS);
		s = &c->servers[c->n_servers++];
		memset(s, 0, sizeof(*s));
		s->k.family = fam;
		memcpy(s->k.addr, addr, 16);
		return 0;
	}
	return server_key(&c->servers[c->n_servers - 1], k, v, err, errlen);
}

int ftpx_conf_parse(const char *text, const char *name, struct ftpx_conf *c,
		    char *err, size_t errlen)
{
	return ftpx_ini_parse(text, name, conf_cb, c, err, errlen);
}

int ftpx_conf_load(const char *path, struct ftpx_conf *c, char *err,
		   size_t errlen)
{
	char *text = ftpx_read_file(path, err, errlen);
	int ret;

	if (!text)
		return -1;
	ret = ftpx_conf_parse(text, path, c, err, errlen);
	free(text);
	return ret;
}

const struct ftpx_conf_server *ftpx_conf_find(const struct ftpx_conf *c,
					      int family, const uint8_t *addr)
{
	size_t n = family == AF_INET ? 4 : 16;
	int i;

	for (i = 0; i < c->n_servers; i++)
		if (c->servers[i].k.family == family &&
		    !memcmp(c->servers[i].k.addr, addr, n))
			return &c->servers[i];
	return NULL;
}
