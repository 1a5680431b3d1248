// SPDX-License-Identifier: GPL-2.0
/*
 * The NAT half: which address to advertise, and applying the rewrites of one
 * segment. All edits of a segment are applied first and the sequence
 * adjustment is recorded once for their total, because nf_ct_seqadj_set()
 * keeps a single correction per segment: a second call for the same segment
 * would be ignored and desynchronise the connection.
 */
#include <linux/tcp.h>
#include <net/netfilter/nf_nat_helper.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "nf_ftpx.h"
#include "config.h"

/*
 * Should a line advertised in direction @dir be rewritten, and to what?
 * - a configured masquerade address for the server, unless the client is
 *   in one of the server's internal prefixes (LAN clients keep the private
 *   address, like WarFTPD's per-network nat.conf);
 * - otherwise, if the control connection is NATed, the advertiser's address
 *   as the other side sees it.
 */
bool ftpx_nat_wanted(const struct nf_conn *ct, enum ip_conntrack_dir dir,
		     union nf_inet_addr *adv)
{
	const struct ftpx_server *srv;
	bool ret = false;

	if (dir == IP_CT_DIR_REPLY) {
		const struct nf_conntrack_tuple *orig =
			&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;

		rcu_read_lock();
		srv = ftpx_config_find(nf_ct_net(ct), nf_ct_l3num(ct),
				       &ct->tuplehash[IP_CT_DIR_REPLY].tuple.src.u3);
		if (srv && srv->has_masq && srv->family == nf_ct_l3num(ct) &&
		    !ftpx_server_internal(srv, nf_ct_l3num(ct), &orig->src.u3)) {
			*adv = srv->masq;
			ret = true;
		}
		rcu_read_unlock();
		if (ret)
			return true;
	}
	if (ct->status & IPS_NAT_MASK) {
		*adv = ct->tuplehash[!dir].tuple.dst.u3;
		return true;
	}
	return false;
}

bool ftpx_apply_edits(struct sk_buff *skb, struct nf_conn *ct,
		      enum ip_conntrack_info ctinfo, unsigned int protoff,
		      unsigned int dataoff, struct ftpx_edit *e, int n)
{
	struct ftpx_session *s = ftpx_session_get(ct, false);
	const struct tcphdr *th;
	struct tcphdr _tcph;
	__be32 seq;
	int delta = 0;
	int i;

	th = skb_header_pointer(skb, protoff, sizeof(_tcph), &_tcph);
	if (!th)
		return false;
	seq = th->seq;
	for (i = 0; i < n; i++) {
		/* match_offset is relative to the TCP payload */
		if (!__nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff,
						e[i].off + delta,
						e[i].len, e[i].rep, e[i].rlen,
						false)) {
			net_info_ratelimited("cannot mangle packet\n");
			return false;
		}
		delta += (int)e[i].rlen - (int)e[i].len;
		if (s)
			s->rewrites++;
		ftpx_stat_inc(nf_ct_net(ct), FTPX_STAT_REWRITES);
	}
	if (delta)
		nf_ct_seqadj_set(ct, ctinfo, seq, delta);
	return true;
}
