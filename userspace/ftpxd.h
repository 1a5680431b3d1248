/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ftpxd internals. The path of a hint reads left to right through the
 * files: intake.c (sockets, decoding, authentication, replay) ->
 * validate.c (the live conntrack entry and the server's policy) -> push.c
 * (the expectation; also the per-server config pushed over genl). ftpxd.c
 * holds the event loop, signals, reload and status.
 *
 * Nothing here outlives the process that the kernel does not also hold:
 * expectations and server entries live in the kernel, pending expectations
 * are mirrored from ctnetlink events and rebuilt from a dump at start and
 * after lost events.
 */
#ifndef FTPXD_H
#define FTPXD_H

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "ctnl.h"
#include "replay.h"
#include "watch.h"
#include "wire.h"

#define FTPXD_VERSION		"0.1.0"
#define FTPXD_MAX_CLIENTS	64
#define FTPXD_RECENT		16

enum ftpxd_src_kind {
	FTPXD_SRC_UDP,
	FTPXD_SRC_UNIX,
	FTPXD_SRC_LOCAL,	/* local mode: our own watcher */
};

struct ftpxd_src {
	enum ftpxd_src_kind kind;
	int family;		/* UDP sender, v4-mapped folded */
	uint8_t addr[16];
	uint16_t port;
	uid_t uid;		/* Unix peer */
	pid_t pid;
	uint64_t seen_ns;	/* local mode: when the watcher saw it */
};

/* One hint on its way through a batch (intake.c: ftpxd_hints). */
#define FTPXD_V_PENDING		(-1)	/* not decided yet */

struct ftpxd_job {
	struct ftpxd_src src;
	struct ftpx_hint hint;
	struct ftpx_result res;	/* verdict and detail, sent back */
	struct ftpx_ct ct;	/* the control connection found */
	const char *what;	/* NULL: described from the hint */
	int v;			/* verdict, or FTPXD_V_PENDING */
	int req;		/* its request in the ctnetlink batch */
	int answer;		/* a result goes back to the sender */
};

struct ftpxd_recent {
	uint64_t when_us;
	uint8_t verdict;
	char src[64];
	char what[160];
	char detail[128];
};

struct ftpxd_pending {
	struct ftpx_tuple t;	/* expected tuple */
	uint64_t since_us;	/* 0: found by a resync */
};

struct ftpxd {
	const char *conf_path;
	struct ftpx_conf conf;
	uint8_t key[FTPX_KEY_MAX];
	int klen;
	int verbose;		/* 0 warnings, 1 info (default), 2 debug */

	int ep;			/* epoll */
	int sig;		/* signalfd */
	int udp;		/* -1: no network intake */
	int unx;		/* listening Unix socket */
	int timer;		/* local mode poll, -1 when off */
	struct mnl_socket *ev;	/* expectation events */
	struct ftpx_ctnl ct;
	struct ftpx_replay replay;
	struct ftpx_watch watch;
	int watching;
	int clients[FTPXD_MAX_CLIENTS];
	uid_t client_uid[FTPXD_MAX_CLIENTS];
	pid_t client_pid[FTPXD_MAX_CLIENTS];
	unsigned int evict;	/* next slot to free when all are taken */

	struct ftpxd_pending *pend;
	size_t n_pend, cap_pend;

	/* counters since start */
	unsigned long long received, verdicts[FTPX_V_MAX];
	unsigned long long consumed, expired, enobufs, resyncs;
	unsigned long long reloads, reload_failed;
	double lat_last_ms, lat_max_ms, lat_sum_ms;
	unsigned long long lat_n;
	uint64_t start_us, conf_us;
	char reload_err[512];
	struct ftpxd_recent recent[FTPXD_RECENT];
	unsigned int recent_next;
};

void ftpxd_log(const struct ftpxd *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* intake.c */
int ftpxd_udp_open(const struct ftpx_sockaddr *a, char *err, size_t len);
int ftpxd_unix_open(const char *path, char *err, size_t len);
void ftpxd_udp_read(struct ftpxd *d);
void ftpxd_unix_accept(struct ftpxd *d);
/* 0 keep the client, -1 it is gone */
int ftpxd_unix_read(struct ftpxd *d, int slot);
void ftpxd_status_text(struct ftpxd *d, char *buf, size_t len);

/* validate.c, in two steps around the conntrack lookup; @detail says
 * why. What the hint and the config decide: a refusal, or
 * FTPXD_V_PENDING with the tuple @t to look the control connection up by. */
int ftpxd_validate_hint(struct ftpxd *d, const struct ftpx_hint *h,
			const struct ftpxd_src *src, struct ftpx_tuple *t,
			char *detail, size_t len);
/* The verdict once the lookup answered: @error 0 and the entry @ct, or
 * the errno with the kernel's text @err. */
int ftpxd_validate_ct(struct ftpxd *d, const struct ftpx_hint *h,
		      const struct ftpx_ct *ct, int error, const char *err,
		      char *detail, size_t len);
/* Validate, push, count and log the @n jobs (at most FTPX_CTNL_BATCH);
 * those already refused are only counted and logged, in order. */
void ftpxd_hints(struct ftpxd *d, struct ftpxd_job *j, int n);
/* The same for one hint; returns the verdict. */
int ftpxd_hint(struct ftpxd *d, const struct ftpx_hint *h,
	       const struct ftpxd_src *src, struct ftpx_result *res);

/* push.c: the answer to the expectation request @req of the batch: 0 and
 * @detail, or -errno with the kernel's reason in @detail */
int ftpxd_push_done(struct ftpxd *d, int req, const struct ftpx_ct *ct,
		    char *detail, size_t len);
/* Make the module's server table match @nc; on failure restore what the
 * kernel had and return -1 with @err. */
int ftpxd_push_servers(struct ftpxd *d, const struct ftpx_conf *old,
		       const struct ftpx_conf *nc, char *err, size_t len);
void ftpxd_exp_event(int type, const struct ftpx_exp *e, void *data);
void ftpxd_resync(struct ftpxd *d);

#endif
