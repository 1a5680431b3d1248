/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Passive-listener watcher, shared by ftpx-agent and ftpxd's local mode.
 *
 * sock_diag has no event for a socket entering LISTEN, so each scan dumps
 * the listening TCP sockets (a cheap, kernel-filtered dump) and compares
 * inode numbers with the previous scan. A new listener is mapped to its FTP
 * control connection through the process that owns it: the listener's
 * inode is looked up in /proc/PID/fd, and that process's established
 * sockets on a control port are the candidates. vsftpd, proftpd and
 * pure-ftpd run one process per session, so there is exactly one; anything
 * else is reported as such, never guessed. The processes holding each
 * control connection are learnt while the session logs in (a periodic
 * dump), so that a new listener is usually looked for in those only.
 */
#ifndef FTPX_WATCH_H
#define FTPX_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#define FTPX_WATCH_MAX_PORTS	8

struct ftpx_sk {
	int family;		/* AF_INET or AF_INET6; v4-mapped -> AF_INET */
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	uint32_t inode;
};

struct ftpx_found {
	struct ftpx_sk lst;	/* the new listener */
	int n_ctrl;		/* control connections of its process(es) */
	struct ftpx_sk ctrl;	/* the one, when n_ctrl == 1 */
	uint32_t pid;		/* a process owning the listener */
	uint64_t seen_ns;	/* CLOCK_MONOTONIC when the scan saw it */
};

#define FTPX_CTRL_PIDS		4	/* vsftpd: 3 processes per session */
#define FTPX_CTRL_REFRESH	5	/* scans between owner cache updates */

struct ftpx_ctrl_ent {
	uint32_t inode;		/* a control connection */
	int npids;
	uint32_t pids[FTPX_CTRL_PIDS];	/* processes holding it */
};

struct ftpx_watch {
	struct mnl_socket *nl;
	uint32_t seq, portid;
	int n_ports;
	uint16_t ports[FTPX_WATCH_MAX_PORTS];
	uint32_t *known;	/* sorted inodes of the last scan */
	size_t n_known;
	struct ftpx_ctrl_ent *ctrl;	/* owner cache */
	size_t n_ctrl, cap_ctrl;
	unsigned long scans, found, ignored, errors;
	unsigned long full_walks, fast_walks;	/* /proc: all, cached pids */
};

int ftpx_watch_open(struct ftpx_watch *w, const uint16_t *ports, int n);
void ftpx_watch_close(struct ftpx_watch *w);
/* Report each listener that appeared since the last scan and whose owner
 * holds at least one control connection. The first scan reports the
 * listeners that already exist (a restarted agent re-sends their hints).
 * Returns 0, or -1 with errno (the known set is then left unchanged). */
int ftpx_watch_scan(struct ftpx_watch *w,
		    void (*cb)(const struct ftpx_found *f, void *data),
		    void *data);
/* Was @inode listening at the last scan? */
int ftpx_watch_alive(const struct ftpx_watch *w, uint32_t inode);

struct ftpx_hint;
/* The hint for a found listener (age_us and attempt left 0). */
void ftpx_found_hint(const struct ftpx_found *f, struct ftpx_hint *h);

/* Monotonic nanoseconds. */
uint64_t ftpx_mono_ns(void);
/* "1.2.3.4:21" / "[2001:db8::1]:21" */
void ftpx_fmt_ep(char *buf, size_t len, int family, const uint8_t *addr,
		 uint16_t port);

#endif
