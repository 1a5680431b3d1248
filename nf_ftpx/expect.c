// SPDX-License-Identifier: GPL-2.0
/*
 * Expectations for data connections.
 *
 * PORT/EPRT/227/229 each create one expectation: source pinned to the peer
 * of whoever advertised the address, source port wildcard, destination the
 * advertised endpoint as the peer will see it. The connection it admits is
 * RELATED; `ct helper "ftpx"` (nft) and `-m helper` (iptables) match it by
 * its master's helper. It also carries helper "ftpx" itself, which
 * `conntrack -L` shows; ftpx_help() returns at once for such connections.
 *
 * Passive-range gating: for an encrypted session whose server has a passive
 * range configured, one expectation per port of the range admits only the
 * control client, only to the address it connected to. They are permanent
 * (several data connections may use a port in turn) and go with the master.
 */
#include <net/netfilter/nf_nat_helper.h>

#include "nf_ftpx.h"
#include "config.h"

static bool ftpx_addr_eq(const union nf_inet_addr *a, const u8 *b, u8 family)
{
	return !memcmp(a, b, family == AF_INET ? 4 : 16);
}

static struct nf_conntrack_helper *ftpx_ct_helper(const struct nf_conn *ct)
{
	return rcu_dereference(nfct_help(ct)->helper);
}

static void ftpx_refuse(struct nf_conn *ct, struct ftpx_session *s,
			enum ftpx_stat why)
{
	ftpx_stat_inc(nf_ct_net(ct), why);
	s->refused++;
}

int ftpx_expect_data(struct sk_buff *skb, struct nf_conn *ct,
		     enum ip_conntrack_info ctinfo, struct ftpx_session *s,
		     const struct ftpx_match *m, struct ftpx_edit *edit)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
	u8 family = nf_ct_l3num(ct);
	/* the advertiser's own address, and the same seen through NAT */
	const union nf_inet_addr *own = &ct->tuplehash[dir].tuple.src.u3;
	const union nf_inet_addr *own_nat = &ct->tuplehash[!dir].tuple.dst.u3;
	const union nf_inet_addr *daddr = own_nat;
	struct net *net = nf_ct_net(ct);
	union nf_inet_addr adv, addr;
	struct nf_conntrack_expect *exp;
	bool nat, rewrite;
	__be16 port;
	u16 newport;
	int ret;

	memset(&addr, 0, sizeof(addr));
	if (m->kind == FTPX_K_229) {
		addr = *own;
	} else {
		if (m->family != (family == AF_INET ? 4 : 6)) {
			ftpx_refuse(ct, s, FTPX_STAT_REFUSED_BOUNCE);
			return -EAFNOSUPPORT;
		}
		memcpy(&addr, m->addr, family == AF_INET ? 4 : 16);
		if (!ftpx_addr_eq(own, m->addr, family) &&
		    !ftpx_addr_eq(own_nat, m->addr, family)) {
			/* FTP bounce: a third address, or a way into
			 * networks the router protects. */
			if (!READ_ONCE(ftpx_loose)) {
				ftpx_refuse(ct, s, FTPX_STAT_REFUSED_BOUNCE);
				net_info_ratelimited("refused %s to a third address\n",
						     ftpx_kind_name(m->kind));
				return -EPERM;
			}
			daddr = &addr;
		}
	}
	if ((m->kind == FTPX_K_PORT || m->kind == FTPX_K_EPRT) &&
	    m->port < 1024 && !READ_ONCE(ftpx_low_ports)) {
		ftpx_refuse(ct, s, FTPX_STAT_REFUSED_LOWPORT);
		return -EPERM;
	}

	rewrite = ftpx_nat_wanted(ct, dir, &adv);
	newport = m->port;
	if (dir == IP_CT_DIR_REPLY && daddr == own_nat && s->gates &&
	    m->port >= s->gate_lo && m->port - s->gate_lo < s->gates) {
		/*
		 * A 227/229 after CCC, for a port of our own passive range:
		 * the session's gate already admits the client there (and a
		 * data expectation with the same tuple would clash with it).
		 * Only the address may need rewriting.
		 */
		ftpx_stat_inc(net, FTPX_STAT_GATE_COVERED);
		exp = NULL;
		ret = 0;
		goto edit;
	}

	exp = nf_ct_expect_alloc(ct);
	if (!exp) {
		ftpx_stat_inc(net, FTPX_STAT_EXPECT_FAIL);
		return -ENOMEM;
	}
	port = htons(m->port);
	nf_ct_expect_init(exp, FTPX_CLASS_DATA, family,
			  &ct->tuplehash[!dir].tuple.src.u3, daddr,
			  IPPROTO_TCP, NULL, &port);
	ftpx_exp_assign_helper(exp, ftpx_ct_helper(ct));

	nat = ct->status & IPS_NAT_MASK;
	if (nat) {
		/* The data connection is NATed like its master; the port
		 * on the router's side may have to differ. */
		exp->saved_proto.tcp.port = exp->tuple.dst.u.tcp.port;
		exp->dir = !dir;
		exp->expectfn = nf_nat_follow_master;
		newport = nf_nat_exp_find_port(exp, m->port);
		ret = newport ? 0 : -EBUSY;
	} else {
		ret = nf_ct_expect_related(exp, 0);
	}
	if (ret) {
		ftpx_stat_inc(net, FTPX_STAT_EXPECT_FAIL);
		s->refused++;
		nf_ct_expect_put(exp);
		return ret;
	}
	s->expects++;
	ftpx_stat_inc(net, FTPX_STAT_EXPECTS);
edit:
	if (rewrite && m->kind == FTPX_K_229)
		rewrite = newport != m->port;
	else if (rewrite)
		rewrite = newport != m->port ||
			  memcmp(&adv, &addr, family == AF_INET ? 4 : 16);
	if (rewrite && !edit) {
		/* The field began in a segment already sent. */
		ftpx_stat_inc(net, FTPX_STAT_REWRITE_FAIL);
		net_info_ratelimited("%s split inside its address, not rewritten\n",
				     ftpx_kind_name(m->kind));
	} else if (rewrite) {
		edit->rlen = ftpx_format(m->kind, family == AF_INET ? 4 : 6,
					 (const u8 *)&adv, newport, edit->rep,
					 sizeof(edit->rep));
		if (!edit->rlen) {
			if (exp)
				nf_ct_unexpect_related(exp);
			ftpx_stat_inc(net, FTPX_STAT_REWRITE_FAIL);
			ret = -EINVAL;
		}
	}
	if (exp)
		nf_ct_expect_put(exp);
	return ret;
}

/*
 * Waiting for another session's gates. A session on the list has clashed
 * with the gates of another session of the same client and server; when
 * that one's gates go (ftpx_gate_handover), the waiters get theirs at once,
 * so a data connection right after the holder quit is not refused. Callers
 * hold s->lock.
 */
static void ftpx_gate_wait(struct nf_conn *ct, struct ftpx_session *s)
{
	struct ftpx_net *fn = ftpx_pernet(nf_ct_net(ct));

	spin_lock_bh(&fn->wait_lock);
	if (list_empty(&s->wait)) {
		s->wait_ct = ct;
		list_add_tail(&s->wait, &fn->waiters);
	}
	spin_unlock_bh(&fn->wait_lock);
}

void ftpx_gate_unwait(struct nf_conn *ct, struct ftpx_session *s)
{
	struct ftpx_net *fn = ftpx_pernet(nf_ct_net(ct));

	if (list_empty_careful(&s->wait))
		return;
	spin_lock_bh(&fn->wait_lock);
	list_del_init(&s->wait);
	spin_unlock_bh(&fn->wait_lock);
}

#define FTPX_HANDOVER_MAX	8

/* @ct's gates are gone: give waiting sessions of the same client and server
 * theirs now. Called without any session lock held. */
void ftpx_gate_handover(struct nf_conn *ct)
{
	const struct nf_conntrack_tuple *t = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	struct ftpx_net *fn = ftpx_pernet(nf_ct_net(ct));
	struct nf_conn *w[FTPX_HANDOVER_MAX];
	struct ftpx_session *s, *tmp;
	unsigned int n = 0, i;

	spin_lock_bh(&fn->wait_lock);
	list_for_each_entry_safe(s, tmp, &fn->waiters, wait) {
		const struct nf_conntrack_tuple *o =
			&s->wait_ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;

		if (n == FTPX_HANDOVER_MAX)
			break;
		if (nf_ct_l3num(s->wait_ct) != nf_ct_l3num(ct) ||
		    !nf_inet_addr_cmp(&o->src.u3, &t->src.u3) ||
		    !nf_inet_addr_cmp(&o->dst.u3, &t->dst.u3))
			continue;
		/* A dying ct leaves the list in its destroy callback. */
		if (!refcount_inc_not_zero(&s->wait_ct->ct_general.use))
			continue;
		list_del_init(&s->wait);
		w[n++] = s->wait_ct;
	}
	spin_unlock_bh(&fn->wait_lock);

	for (i = 0; i < n; i++) {
		s = ftpx_session_get(w[i], false);
		if (s) {
			spin_lock_bh(&s->lock);
			if (s->gate_retry)
				ftpx_gate_open(w[i], s);
			spin_unlock_bh(&s->lock);
		}
		nf_ct_put(w[i]);
	}
}

void ftpx_gate_open(struct nf_conn *ct, struct ftpx_session *s)
{
	const struct nf_conntrack_tuple *orig = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	const struct nf_conntrack_tuple *reply = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	u8 family = nf_ct_l3num(ct);
	struct net *net = nf_ct_net(ct);
	const struct ftpx_server *srv;
	unsigned int port, max, total;

	unsigned int gen = atomic_read(&ftpx_gate_gen);

	/* A waiting session tries again at once after any session released
	 * its gates, else at most ten times a second. */
	if (s->gated && (!s->gate_retry ||
			 (gen == s->gate_gen && time_before(jiffies, s->gate_next))))
		return;
	s->gated = 1;
	s->gate_retry = 0;
	ftpx_gate_unwait(ct, s);
	rcu_read_lock();
	srv = ftpx_config_find(net, family, &reply->src.u3);
	if (!srv || !srv->pasv_min)
		goto out;
	max = ftpx_ct_helper(ct)->expect_policy[FTPX_CLASS_GATE].max_expected;
	/*
	 * Gates never fill more than three quarters of the kernel's
	 * expectation table: a full table fails every new expectation of
	 * every helper, the data expectations of plain FTP sessions included.
	 * Its size, nf_conntrack_expect_max, is not exported; by default it is
	 * 4 * (nf_conntrack_htable_size / 256) (nf_conntrack_expect_init()).
	 * Our count spans all netns and the table is per netns, so this errs
	 * on the safe side.
	 */
	total = 3 * max(READ_ONCE(nf_conntrack_htable_size) / 256, 1U);
	total = min(READ_ONCE(ftpx_gate_max_total), total);
	s->gate_lo = srv->pasv_min;
	for (port = srv->pasv_min; port <= srv->pasv_max; port++) {
		struct nf_conntrack_expect *exp;
		__be16 p = htons(port);
		int ret;

		if (s->gates >= max ||
		    atomic_inc_return(&ftpx_gate_total) > total) {
			if (s->gates < max)
				atomic_dec(&ftpx_gate_total);
			ftpx_stat_inc(net, FTPX_STAT_GATE_REFUSED);
			net_info_ratelimited("passive range %u-%u exceeds the gate limits\n",
					     srv->pasv_min, srv->pasv_max);
			break;
		}
		exp = nf_ct_expect_alloc(ct);
		if (!exp) {
			atomic_dec(&ftpx_gate_total);
			break;
		}
		/* Only the control client, only to where it connected. */
		nf_ct_expect_init(exp, FTPX_CLASS_GATE, family, &orig->src.u3,
				  &orig->dst.u3, IPPROTO_TCP, NULL, &p);
		exp->flags = NF_CT_EXPECT_PERMANENT;
		ftpx_exp_assign_helper(exp, ftpx_ct_helper(ct));
		if (ct->status & IPS_NAT_MASK) {
			exp->saved_proto.tcp.port = p;
			exp->dir = IP_CT_DIR_ORIGINAL;
			exp->expectfn = nf_nat_follow_master;
		}
		ret = nf_ct_expect_related(exp, 0);
		nf_ct_expect_put(exp);
		if (ret) {
			atomic_dec(&ftpx_gate_total);
			if ((ret == -EALREADY || ret == -EBUSY) && !s->gates) {
				/*
				 * Another live session of this client to this
				 * server holds the same gates (FileZilla runs
				 * two at once): they admit this client too.
				 * When that session ends they go with it, so
				 * try again on a later packet of ours (the
				 * command before a data connection, the 227
				 * after it): at once if some session released
				 * gates since, else at most ten times a second.
				 */
				s->gate_retry = 1;
				s->gate_gen = gen;
				s->gate_next = jiffies + HZ / 10;
				ftpx_gate_wait(ct, s);
				break;
			}
			/* The table is full (-EMFILE): the next ports
			 * would fail alike. */
			ftpx_stat_inc(net, FTPX_STAT_GATE_REFUSED);
			net_info_ratelimited("passive range %u-%u: gate for port %u refused (%d)\n",
					     srv->pasv_min, srv->pasv_max, port, ret);
			break;
		}
		s->gates++;
		ftpx_stat_inc(net, FTPX_STAT_GATE_EXPECTS);
	}
out:
	rcu_read_unlock();
}
