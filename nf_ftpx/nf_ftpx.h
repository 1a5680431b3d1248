/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nf_ftpx internals shared by the module's files. The data path reads left to
 * right through the files: helper.c (stream -> lines) -> ftpx_parse.c (lines
 * -> matches) -> expect.c (matches -> expectations) -> nat.c (payload
 * rewrite); tls.c follows encrypted sessions; config.c holds per-server
 * settings that genl.c lets userspace change.
 */
#ifndef _NF_FTPX_H
#define _NF_FTPX_H

#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/percpu.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_expect.h>

#include "ftpx_parse.h"
#include "uapi_nf_ftpx.h"

#define FTPX_HELPER_NAME	"ftpx"

/* Expectation classes: one policy each (limits and timeouts). */
enum ftpx_class {
	FTPX_CLASS_DATA = 0,	/* from PORT/EPRT/227/229 */
	FTPX_CLASS_GATE,	/* passive range of an encrypted session */
	FTPX_CLASS_HINT,	/* exact port pushed by ftpxd */
	FTPX_CLASS_MAX
};

/* Session modes, as exported to userspace (FTPX_MODE_* in the uapi). */

/* Per direction stream state. The two line buffers let a retransmission of
 * the last in-order segment be parsed again with the same prefix it had. */
struct ftpx_stream {
	u32 next_seq;		/* seq after the last in-order byte */
	u32 seg_seq;		/* start seq of the last in-order segment */
	u32 line_seq[2];	/* recent seqs known to start a line */
	u8 seen:1,		/* next_seq/seg_seq are valid */
	   tls:1,		/* bytes are TLS records: never parse or mangle */
	   tls_lost:1,		/* lost TLS record sync: stay opaque */
	   tls_alert:1;		/* last complete TLS record was an alert */
	u8 cur;			/* which part[] holds the prefix for next_seq */
	u8 skip[2];		/* prefix is a non-candidate line: skip to LF */
	u16 part_len[2];
	u16 tls_hdr_len;	/* bytes of a split record header in tls_hdr */
	u32 tls_left;		/* bytes left in the current record's body */
	u8 tls_hdr[5];
	u8 tls_type;		/* content type of the current record */
	struct ftpx_pstate ps;
	struct ftpx_pstate ps_seg;	/* ps at the start of seg_seq */
	char part[2][FTPX_LINE_MAX];
};

struct ftpx_session {
	spinlock_t lock;	/* serialises the two directions of one ct */
	u8 mode;		/* enum ftpx_mode */
	u8 auth_pending:1,	/* AUTH sent, waiting for 234 */
	   ccc_pending:1,	/* CCC seen in cleartext (rare), waiting 200 */
	   gated:1,		/* passive range expectations were created */
	   gate_retry:1;	/* another session holds our gates: retry */
	u16 gates;		/* gate expectations created */
	u16 gate_lo;		/* they cover gate_lo .. gate_lo + gates - 1 */
	unsigned long gate_next;	/* jiffies: earliest gate retry */
	unsigned int gate_gen;	/* ftpx_gate_gen at the last failed try */
	struct list_head wait;	/* on ftpx_net.waiters while gate_retry */
	struct nf_conn *wait_ct;	/* our ct, for the waiter list */
	u32 expects;		/* expectations created for this session */
	u32 refused;		/* lines or expectations refused */
	u32 rewrites;		/* payload rewrites */
	struct ftpx_stream st[2];	/* indexed by enum ip_conntrack_dir */
};

/* What lives in nf_conn_help->data (32 bytes at most). */
struct ftpx_help_data {
	struct ftpx_session *sess;
	u32 magic;
};
#define FTPX_MAGIC	0x66747078	/* "ftpx" */

/* One pending payload edit, applied after the whole segment is scanned. */
struct ftpx_edit {
	unsigned int off;	/* within the TCP payload */
	unsigned int len;
	u8 rlen;
	char rep[FTPX_FMT_MAX];
};
#define FTPX_MAX_EDITS	8

/* Per-netns counters: per-cpu, summed on read. */
struct ftpx_stats {
	u64 cnt[FTPX_STAT_MAX];
};

struct ftpx_net {
	struct ftpx_stats __percpu *stats;
	struct ftpx_config __rcu *cfg;
	struct mutex cfg_lock;	/* writers only; readers use RCU */
	/* Sessions waiting for another session's gates (same client and
	 * server). Touched only when gates clash, are retried or go; taken
	 * inside a session's lock, never the other way round. */
	spinlock_t wait_lock;
	struct list_head waiters;
};

/* main.c */
extern unsigned int ftpx_net_id;
extern struct nf_conntrack_helper ftpx_helpers[2];
extern bool ftpx_exiting;
extern bool ftpx_loose;
extern bool ftpx_low_ports;
extern unsigned int ftpx_gate_max_total;
extern atomic_t ftpx_gate_total;
extern atomic_t ftpx_gate_gen;
struct ftpx_net *ftpx_pernet(const struct net *net);

static inline void ftpx_stat_inc(const struct net *net, enum ftpx_stat s)
{
	this_cpu_inc(ftpx_pernet(net)->stats->cnt[s]);
}

/* session.c */
int ftpx_session_init(void);
void ftpx_session_exit(void);
struct ftpx_session *ftpx_session_get(struct nf_conn *ct, bool create);
void ftpx_helper_destroy(struct nf_conn *ct);
int ftpx_helper_to_nlattr(struct sk_buff *skb, const struct nf_conn *ct);
void ftpx_set_mode(struct nf_conn *ct, struct ftpx_session *s, u8 mode);

/* helper.c */
int ftpx_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
	      enum ip_conntrack_info ctinfo);

/* expect.c */
int ftpx_expect_data(struct sk_buff *skb, struct nf_conn *ct,
		     enum ip_conntrack_info ctinfo, struct ftpx_session *s,
		     const struct ftpx_match *m, struct ftpx_edit *edit);
void ftpx_gate_open(struct nf_conn *ct, struct ftpx_session *s);
void ftpx_gate_unwait(struct nf_conn *ct, struct ftpx_session *s);
void ftpx_gate_handover(struct nf_conn *ct);

/* nat.c */
bool ftpx_nat_wanted(const struct nf_conn *ct, enum ip_conntrack_dir dir,
		     union nf_inet_addr *adv);
bool ftpx_apply_edits(struct sk_buff *skb, struct nf_conn *ct,
		      enum ip_conntrack_info ctinfo, unsigned int protoff,
		      unsigned int dataoff, struct ftpx_edit *e, int n);

/* tls.c */
bool ftpx_tls_client_hello(const u8 *p, unsigned int len);
bool ftpx_tls_record(const u8 *p, unsigned int len);
unsigned int ftpx_tls_consume(struct ftpx_stream *st, const u8 *p,
			      unsigned int len, bool *cleared);

/* config.c */
struct ftpx_server;
int ftpx_config_net_init(struct ftpx_net *fn);
void ftpx_config_net_exit(struct ftpx_net *fn);
const struct ftpx_server *ftpx_config_find(const struct net *net,
					   u8 family,
					   const union nf_inet_addr *srv);
bool ftpx_server_internal(const struct ftpx_server *srv, u8 family,
			  const union nf_inet_addr *client);
int ftpx_config_params(void);

/* genl.c */
int ftpx_genl_init(void);
void ftpx_genl_exit(void);

#endif /* _NF_FTPX_H */
