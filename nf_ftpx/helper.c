// SPDX-License-Identifier: GPL-2.0
/*
 * The per-packet path: turn each control segment into complete lines, hand
 * them to the parser, and act on what it finds.
 *
 * Split lines. Every line of a segment is parsed, not just the first. A line
 * that a segment leaves unfinished is kept (up to FTPX_LINE_MAX bytes, and
 * only while ftpx_line_candidate() says it may still be a line of interest)
 * and completed by the next in-order segment, so "PO" + "RT ...\r\n" is seen
 * as one PORT command. Nothing is ever dropped or held back: a line that
 * cannot be completed is skipped to its newline and counted.
 *
 * Rewriting a completed line is done on the segment that completes it. That
 * works when the address/port field starts in that segment (the common split:
 * keyword, then the rest). If the field itself is split, the bytes already
 * sent cannot be changed; the expectation is still created and the event is
 * counted as a rewrite failure (FTPX_STAT_REWRITE_FAIL).
 *
 * Retransmissions and reordering. A retransmission of the last in-order
 * segment is parsed again with the prefix it had (two prefix buffers), so its
 * rewrite is repeated byte for byte, as TCP needs. Other segments that do not
 * continue the stream are parsed from their first newline on; their earlier
 * bytes cannot be attributed to a line.
 *
 * Locking: one spinlock per session serialises its two directions. Nothing
 * global is taken here.
 */
#include <linux/tcp.h>
#include <linux/ratelimit.h>
#include <net/tcp.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "nf_ftpx.h"

#define FTPX_CHUNK	512

struct ftpx_scratch {
	char chunk[FTPX_CHUNK];
	char line[FTPX_LINE_MAX];	/* line under replay */
	struct ftpx_edit edit[FTPX_MAX_EDITS];
};
static DEFINE_PER_CPU(struct ftpx_scratch, ftpx_scratch);

struct ftpx_ctx {
	struct sk_buff *skb;
	struct nf_conn *ct;
	enum ip_conntrack_info ctinfo;
	enum ip_conntrack_dir dir;
	struct ftpx_session *s;
	struct ftpx_stream *st;
	struct ftpx_scratch *sc;
	struct ftpx_pstate ps;	/* parser state, committed unless replaying */
	bool replay;		/* retransmission: act again, keep no state */
	bool skip;		/* current line is not of interest */
	bool to_tls;		/* this direction turned to TLS after a line */
	char *line;		/* partial line buffer (the new prefix) */
	unsigned int llen;
	int lstart;		/* payload offset of the line; < 0: began earlier */
	int nedit;
};

static void ftpx_log_bad(const struct nf_conn *ct, const struct ftpx_match *m)
{
	net_info_ratelimited("refused %s line (%s) on %pI4/%pI6c\n",
			     ftpx_kind_name(m->kind), ftpx_bad_name(m->bad),
			     &ct->tuplehash[0].tuple.src.u3.ip,
			     &ct->tuplehash[0].tuple.src.u3.ip6);
}

/* 234 after AUTH: both directions carry TLS records from the next byte. */
static void ftpx_go_tls(struct ftpx_ctx *c, u8 mode)
{
	int d;

	for (d = 0; d < 2; d++) {
		struct ftpx_stream *st = &c->s->st[d];

		st->tls = 1;
		st->tls_lost = 0;
		st->tls_left = 0;
		st->tls_hdr_len = 0;
		st->part_len[st->cur] = 0;
		st->skip[st->cur] = 0;
	}
	ftpx_set_mode(c->ct, c->s, mode);
	ftpx_gate_open(c->ct, c->s);
}

/*
 * The first bytes seen of a direction are TLS: the session was encrypted
 * before this conntrack was ours (taken over from another router by
 * conntrackd, or the module loaded mid-session). Treat it as explicit TLS and
 * keep it opaque for good: with no record sync from the start, a CCC cannot
 * be told from TLS and cleartext parsing never resumes.
 */
static void ftpx_adopt_tls(struct ftpx_ctx *c)
{
	ftpx_go_tls(c, FTPX_MODE_EXPLICIT);
	c->s->st[0].tls_lost = 1;
	c->s->st[1].tls_lost = 1;
	ftpx_stat_inc(nf_ct_net(c->ct), FTPX_STAT_TLS_ADOPTED);
}

static void ftpx_act(struct ftpx_ctx *c, const char *line, unsigned int len)
{
	struct net *net = nf_ct_net(c->ct);
	enum ftpx_dir pdir = c->dir == IP_CT_DIR_ORIGINAL ? FTPX_DIR_CLIENT :
							   FTPX_DIR_SERVER;
	struct ftpx_edit *e;
	struct ftpx_match m;

	if (len && line[len - 1] == '\r')
		len--;
	switch (ftpx_parse_line(&c->ps, pdir, line, len, &m)) {
	case FTPX_R_NONE:
		return;
	case FTPX_R_BAD:
		ftpx_stat_inc(net, FTPX_STAT_REFUSED_BAD);
		c->s->refused++;
		ftpx_log_bad(c->ct, &m);
		return;
	case FTPX_R_OK:
		break;
	}
	ftpx_stat_inc(net, FTPX_STAT_LINES);

	switch (m.kind) {
	case FTPX_K_PORT:
	case FTPX_K_EPRT:
	case FTPX_K_227:
	case FTPX_K_229:
		if (c->s->mode == FTPX_MODE_EXPLICIT ||
		    c->s->mode == FTPX_MODE_IMPLICIT)
			return;
		e = NULL;
		if (c->nedit < FTPX_MAX_EDITS && c->lstart + (int)m.off >= 0) {
			e = &c->sc->edit[c->nedit];
			e->rlen = 0;
		}
		ftpx_expect_data(c->skb, c->ct, c->ctinfo, c->s, &m, e);
		if (e && e->rlen) {
			e->off = c->lstart + m.off;
			e->len = m.len;
			c->nedit++;
		}
		break;
	case FTPX_K_AUTH_TLS:
		if (!c->replay)
			c->s->auth_pending = 1;
		break;
	case FTPX_K_234:
		if (c->s->auth_pending && !c->replay) {
			c->s->auth_pending = 0;
			c->to_tls = true;
		}
		break;
	default:
		break;
	}
}

/*
 * Stop collecting the current line. A server line still has to show its
 * first four bytes to the parser: "NNN-" opens and "NNN " closes an RFC 959
 * multi-line block, and losing that would let a "227" inside a block be acted
 * on. @p/@add are the bytes of this chunk that belong to the line.
 */
static void ftpx_skip_line(struct ftpx_ctx *c, const char *p,
			   unsigned int add)
{
	unsigned int n = min(c->llen, 4U), k = min(add, 4 - n);
	struct ftpx_match m;
	char head[4];

	c->skip = true;
	if (c->dir != IP_CT_DIR_REPLY)
		return;
	memcpy(head, c->line, n);
	memcpy(head + n, p, k);
	if (n + k == 4)
		ftpx_parse_line(&c->ps, FTPX_DIR_SERVER, head, 4, &m);
}

/* Feed bytes [base, base + n) of the payload, at p. Returns bytes used: less
 * than n when the direction turned to TLS at a line end. */
static unsigned int ftpx_feed(struct ftpx_ctx *c, const char *p,
			      unsigned int n, unsigned int base)
{
	enum ftpx_dir pdir = c->dir == IP_CT_DIR_ORIGINAL ? FTPX_DIR_CLIENT :
							   FTPX_DIR_SERVER;
	unsigned int i = 0;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		unsigned int end = nl ? nl - p : n;
		unsigned int add = end - i;

		if (!c->skip && nl && c->llen == 0) {
			/* Whole line inside this chunk: parse in place. */
			ftpx_act(c, p + i, add);
		} else if (!c->skip) {
			if (c->llen + add > FTPX_LINE_MAX) {
				ftpx_skip_line(c, p + i, add);
				ftpx_stat_inc(nf_ct_net(c->ct),
					      FTPX_STAT_LONG_LINES);
			} else {
				memcpy(c->line + c->llen, p + i, add);
				c->llen += add;
				if (nl)
					ftpx_act(c, c->line, c->llen);
				else if ((pdir == FTPX_DIR_CLIENT ||
					  c->llen >= 4) &&
					 !ftpx_line_candidate(&c->ps, pdir,
							      c->line, c->llen))
					ftpx_skip_line(c, "", 0);
			}
		}
		if (!nl)
			return n;
		c->llen = 0;
		c->skip = false;
		c->lstart = base + end + 1;
		i = end + 1;
		if (c->to_tls)
			return i;
	}
	return n;
}

static const char *ftpx_bytes(struct ftpx_ctx *c, unsigned int dataoff,
			      unsigned int off, unsigned int *n)
{
	struct sk_buff *skb = c->skb;

	if (skb_headlen(skb) >= dataoff + off + *n)
		return skb->data + dataoff + off;
	*n = min_t(unsigned int, *n, FTPX_CHUNK);
	return skb_header_pointer(skb, dataoff + off, *n, c->sc->chunk);
}

static int ftpx_segment(struct ftpx_ctx *c, unsigned int protoff,
			unsigned int dataoff, unsigned int datalen, u32 seq,
			__be32 seq_be)
{
	struct ftpx_stream *st = c->st;
	struct net *net = nf_ct_net(c->ct);
	unsigned int off = 0;
	int prev = st->cur;	/* prefix index; -1 line start; -2 blind */
	int next;

	if (!st->seen) {
		st->seen = 1;
		st->next_seq = seq;
		st->part_len[prev] = 0;
		st->skip[prev] = 0;
		if (c->s->mode == FTPX_MODE_PLAIN) {
			unsigned int n = min(datalen, 5U);
			const u8 *p = (const u8 *)ftpx_bytes(c, dataoff, 0, &n);

			if (p && c->dir == IP_CT_DIR_ORIGINAL &&
			    ftpx_tls_client_hello(p, n))
				ftpx_go_tls(c, FTPX_MODE_IMPLICIT);
			else if (p && ftpx_tls_record(p, n))
				ftpx_adopt_tls(c);
		}
	} else if (seq == st->next_seq) {
		/* in order */
	} else if (seq == st->seg_seq) {
		c->replay = true;
		prev = !st->cur;
		ftpx_stat_inc(net, FTPX_STAT_RETRANS);
	} else if (seq == st->line_seq[0] || seq == st->line_seq[1]) {
		c->replay = true;
		prev = -1;
		ftpx_stat_inc(net, FTPX_STAT_RETRANS);
	} else {
		/* Reordered or after a gap: only lines after the first LF. */
		if (before(seq, st->next_seq))
			c->replay = true;
		prev = -2;
		ftpx_stat_inc(net, FTPX_STAT_OOO);
	}

	if (st->tls) {
		bool cleared = false;

		if (c->replay)
			return NF_ACCEPT;
		if (unlikely(c->s->gate_retry))
			ftpx_gate_open(c->ct, c->s);
		if (seq != st->next_seq)
			st->tls_lost = 1;
		st->next_seq = seq + datalen;
		if (st->tls_lost)
			return NF_ACCEPT;
		while (off < datalen && st->tls) {
			unsigned int n = datalen - off;
			const u8 *p = (const u8 *)ftpx_bytes(c, dataoff, off, &n);

			if (!p)
				return NF_ACCEPT;
			off += ftpx_tls_consume(st, p, n, &cleared);
			if (cleared) {
				st->tls = 0;
				if (c->dir == IP_CT_DIR_ORIGINAL)
					ftpx_set_mode(c->ct, c->s,
						      FTPX_MODE_CLEARED);
			}
		}
		if (st->tls)
			return NF_ACCEPT;
		prev = -1;	/* cleartext resumes at a line start */
		st->part_len[st->cur] = 0;
		st->skip[st->cur] = 0;
	}

	/*
	 * Prefix buffers: part[cur] holds the unfinished line that next_seq
	 * continues, part[!cur] the one the last in-order segment started
	 * with. An in-order segment builds its line in part[!cur] and flips
	 * cur; a replay builds in the per-cpu scratch and changes nothing.
	 */
	next = !st->cur;
	c->line = c->replay ? c->sc->line : st->part[next];
	c->ps = c->replay ? st->ps_seg : st->ps;
	c->llen = 0;
	c->skip = prev == -2;	/* blind: up to the first LF */
	c->lstart = off;
	if (prev >= 0) {
		c->llen = st->part_len[prev];
		c->skip = st->skip[prev];
		c->lstart = (int)off - (int)c->llen;
		memcpy(c->line, st->part[prev], c->llen);
		if (c->llen && !c->skip)
			ftpx_stat_inc(net, FTPX_STAT_SPLIT_LINES);
	}

	if (!c->replay) {
		st->ps_seg = st->ps;
		st->seg_seq = seq;
		if (prev < 0) {
			/* what a replay of this segment must start from */
			st->part_len[st->cur] = 0;
			st->skip[st->cur] = c->skip;
		}
		if (c->llen == 0 && !c->skip) {
			st->line_seq[1] = st->line_seq[0];
			st->line_seq[0] = seq + off;
		}
	}

	while (off < datalen) {
		unsigned int n = datalen - off;
		const char *p = ftpx_bytes(c, dataoff, off, &n);

		if (!p)
			break;
		off += ftpx_feed(c, p, n, off);
		if (c->to_tls)
			break;
	}

	if (!c->replay) {
		st->ps = c->ps;
		st->next_seq = seq + datalen;
		if (c->to_tls) {
			ftpx_go_tls(c, FTPX_MODE_EXPLICIT);
			/* TLS bytes behind the 234 line in the same segment
			 * were not walked: record sync for them is lost. */
			if (off < datalen)
				st->tls_lost = 1;
		} else {
			st->cur = next;
			st->part_len[next] = c->skip ? 0 : c->llen;
			st->skip[next] = c->skip;
			if (c->llen == 0 && !c->skip) {
				st->line_seq[1] = st->line_seq[0];
				st->line_seq[0] = st->next_seq;
			}
		}
	}

	if (c->nedit && !ftpx_apply_edits(c->skb, c->ct, c->ctinfo, protoff,
					  dataoff, c->sc->edit, c->nedit)) {
		ftpx_stat_inc(net, FTPX_STAT_REWRITE_FAIL);
		return NF_DROP;
	}
	return NF_ACCEPT;
}

/*
 * The control connection is ending (FIN or RST seen): a passive range opened
 * for it must not outlive it, so its gates go now rather than when the
 * conntrack times out, and sessions waiting for them are told. After a RST
 * nothing follows, so pending data expectations and hints go too. After an
 * orderly FIN, data expectations of plain FTP stay until used, timed out
 * (data_timeout) or the conntrack is gone, as with the in-tree helper. The
 * expectation list is checked before the (global) expectation lock is taken.
 */
static void ftpx_session_end(struct nf_conn *ct, bool rst)
{
	struct ftpx_session *s = ftpx_session_get(ct, false);
	struct nf_conn_help *help;
	unsigned int gates = 0;

	if (s && (READ_ONCE(s->gates) || s->gate_retry)) {
		spin_lock_bh(&s->lock);
		gates = s->gates;
		s->gates = 0;
		s->gate_retry = 0;
		ftpx_gate_unwait(ct, s);
		spin_unlock_bh(&s->lock);
	}
	if (!gates && !rst)
		return;
	help = nfct_help(ct);
	if (help && !hlist_empty(&help->expectations))
		nf_ct_remove_expectations(ct);
	if (gates) {
		atomic_sub(gates, &ftpx_gate_total);
		atomic_inc(&ftpx_gate_gen);
		ftpx_gate_handover(ct);
	}
}

int ftpx_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
	      enum ip_conntrack_info ctinfo)
{
	struct ftpx_ctx c = { .skb = skb, .ct = ct, .ctinfo = ctinfo };
	unsigned int dataoff, datalen;
	const struct tcphdr *th;
	struct tcphdr _tcph;
	int ret;

	/* Module unload: create nothing more (see ftpx_exit). */
	if (unlikely(READ_ONCE(ftpx_exiting)))
		return NF_ACCEPT;
	/* Data connections carry "ftpx" for conntrack -L; nothing to do. */
	if (ct->master)
		return NF_ACCEPT;

	if (!nf_ct_is_confirmed(ct)) {
		/* Rewrites that change the length need seqadj, and it can
		 * only be added now. The ruleset may attach us after DNAT,
		 * where the NAT core does not add it (before 6.18). */
		if (!nfct_seqadj(ct))
			nfct_seqadj_ext_add(ct);
		return NF_ACCEPT;
	}
	if (ctinfo != IP_CT_ESTABLISHED && ctinfo != IP_CT_ESTABLISHED_REPLY)
		return NF_ACCEPT;

	th = skb_header_pointer(skb, protoff, sizeof(_tcph), &_tcph);
	if (!th)
		return NF_ACCEPT;
	if (unlikely(th->fin || th->rst))
		ftpx_session_end(ct, th->rst);
	dataoff = protoff + th->doff * 4;
	if (dataoff >= skb->len)
		return NF_ACCEPT;
	datalen = skb->len - dataoff;

	c.s = ftpx_session_get(ct, true);
	if (!c.s)
		return NF_ACCEPT;
	c.dir = CTINFO2DIR(ctinfo);

	spin_lock_bh(&c.s->lock);
	c.st = &c.s->st[c.dir];
	c.sc = this_cpu_ptr(&ftpx_scratch);
	ret = ftpx_segment(&c, protoff, dataoff, datalen, ntohl(th->seq),
			   th->seq);
	spin_unlock_bh(&c.s->lock);
	return ret;
}
