// SPDX-License-Identifier: GPL-2.0
/*
 * Control interface: generic netlink family "nf_ftpx", per network
 * namespace, every operation needs CAP_NET_ADMIN there. Attributes are
 * validated by policy before any handler reads them; anything the policy
 * cannot express (address lengths, range order) is checked here and refused
 * with an extack message that says why.
 */
#include <net/genetlink.h>
#include <net/netlink.h>

#include "nf_ftpx.h"
#include "config.h"

static struct genl_family ftpx_genl_family;

static const struct nla_policy ftpx_prefix_policy[FTPX_P_MAX + 1] = {
	[FTPX_P_PREFIX] = NLA_POLICY_RANGE(NLA_BINARY, 5, 17),
};

static const struct nla_policy ftpx_server_policy[FTPX_S_MAX + 1] = {
	[FTPX_S_ADDR] = NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[FTPX_S_PASV_MIN] = NLA_POLICY_MIN(NLA_U16, 1),
	[FTPX_S_PASV_MAX] = NLA_POLICY_MIN(NLA_U16, 1),
	[FTPX_S_MASQ] = NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[FTPX_S_INTERNAL] = NLA_POLICY_NESTED_ARRAY(ftpx_prefix_policy),
};

static const struct nla_policy ftpx_genl_policy[FTPX_A_MAX + 1] = {
	[FTPX_A_STATS] = { .type = NLA_REJECT },
	[FTPX_A_SERVER] = NLA_POLICY_NESTED(ftpx_server_policy),
};

static int ftpx_addr_attr(const struct nlattr *a, u8 *family,
			  union nf_inet_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	switch (nla_len(a)) {
	case 4:
		*family = AF_INET;
		break;
	case 16:
		*family = AF_INET6;
		break;
	default:
		return -EINVAL;
	}
	memcpy(addr, nla_data(a), nla_len(a));
	return 0;
}

static int ftpx_parse_server(struct genl_info *info, struct ftpx_server *srv,
			     bool key_only)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[FTPX_S_MAX + 1];
	struct nlattr *p;
	int rem, ret;
	u8 fam;

	if (!info->attrs[FTPX_A_SERVER]) {
		NL_SET_ERR_MSG(extack, "missing server attribute");
		return -EINVAL;
	}
	ret = nla_parse_nested(tb, FTPX_S_MAX, info->attrs[FTPX_A_SERVER],
			       ftpx_server_policy, extack);
	if (ret)
		return ret;
	memset(srv, 0, sizeof(*srv));
	if (!tb[FTPX_S_ADDR] ||
	    ftpx_addr_attr(tb[FTPX_S_ADDR], &srv->family, &srv->addr)) {
		NL_SET_ERR_MSG(extack, "server address must be 4 or 16 bytes");
		return -EINVAL;
	}
	if (key_only)
		return 0;
	if (!!tb[FTPX_S_PASV_MIN] != !!tb[FTPX_S_PASV_MAX]) {
		NL_SET_ERR_MSG(extack, "passive range needs both min and max");
		return -EINVAL;
	}
	if (tb[FTPX_S_PASV_MIN]) {
		srv->pasv_min = nla_get_u16(tb[FTPX_S_PASV_MIN]);
		srv->pasv_max = nla_get_u16(tb[FTPX_S_PASV_MAX]);
		if (srv->pasv_min > srv->pasv_max) {
			NL_SET_ERR_MSG(extack, "passive range min is above max");
			return -EINVAL;
		}
	}
	if (tb[FTPX_S_MASQ]) {
		if (ftpx_addr_attr(tb[FTPX_S_MASQ], &fam, &srv->masq)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[FTPX_S_MASQ],
					    "masquerade address must be 4 or 16 bytes");
			return -EINVAL;
		}
		if (fam != srv->family) {
			NL_SET_ERR_MSG_ATTR(extack, tb[FTPX_S_MASQ],
					    "masquerade address must be of the server's family");
			return -EINVAL;
		}
		srv->has_masq = true;
	}
	if (!tb[FTPX_S_INTERNAL])
		return 0;
	nla_for_each_nested(p, tb[FTPX_S_INTERNAL], rem) {
		struct ftpx_prefix *pf = &srv->internal[srv->n_internal];
		struct nlattr *pt[FTPX_P_MAX + 1];
		unsigned int alen;

		if (srv->n_internal >= FTPX_MAX_INTERNAL) {
			NL_SET_ERR_MSG(extack, "too many internal prefixes");
			return -E2BIG;
		}
		ret = nla_parse_nested(pt, FTPX_P_MAX, p, ftpx_prefix_policy,
				       extack);
		if (ret)
			return ret;
		if (!pt[FTPX_P_PREFIX]) {
			NL_SET_ERR_MSG_ATTR(extack, p,
					    "internal prefix entry has no prefix");
			return -EINVAL;
		}
		alen = nla_len(pt[FTPX_P_PREFIX]) - 1;
		if (alen != 4 && alen != 16) {
			NL_SET_ERR_MSG(extack, "prefix must be 4 or 16 address bytes and a length");
			return -EINVAL;
		}
		pf->family = alen == 4 ? AF_INET : AF_INET6;
		memcpy(&pf->addr, nla_data(pt[FTPX_P_PREFIX]), alen);
		pf->len = ((u8 *)nla_data(pt[FTPX_P_PREFIX]))[alen];
		if (pf->len > alen * 8) {
			NL_SET_ERR_MSG(extack, "prefix length too long for its family");
			return -EINVAL;
		}
		srv->n_internal++;
	}
	return 0;
}

static int ftpx_cmd_set(struct sk_buff *skb, struct genl_info *info)
{
	struct ftpx_server *srv;
	int ret;

	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return -ENOMEM;
	ret = ftpx_parse_server(info, srv, false);
	if (!ret)
		ret = ftpx_config_set(genl_info_net(info), srv);
	if (ret == -ENOSPC)
		NL_SET_ERR_MSG(info->extack, "server table is full");
	kfree(srv);
	return ret;
}

static int ftpx_cmd_del(struct sk_buff *skb, struct genl_info *info)
{
	struct ftpx_server key;
	int ret;

	ret = ftpx_parse_server(info, &key, true);
	if (ret)
		return ret;
	ret = ftpx_config_del(genl_info_net(info), key.family, &key.addr);
	if (ret == -ENOENT)
		NL_SET_ERR_MSG(info->extack, "no such server");
	return ret;
}

static int ftpx_cmd_flush(struct sk_buff *skb, struct genl_info *info)
{
	ftpx_config_flush(genl_info_net(info));
	return 0;
}

static int ftpx_cmd_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct ftpx_net *fn = ftpx_pernet(genl_info_net(info));
	u64 sum[FTPX_STAT_MAX] = {};
	struct nlattr *nest;
	struct sk_buff *msg;
	int cpu, i;
	void *hdr;

	for_each_possible_cpu(cpu) {
		const struct ftpx_stats *st = per_cpu_ptr(fn->stats, cpu);

		for (i = 0; i < FTPX_STAT_MAX; i++)
			sum[i] += READ_ONCE(st->cnt[i]);
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ftpx_genl_family, 0,
				FTPX_CMD_GET_STATS);
	if (!hdr)
		goto err;
	nest = nla_nest_start(msg, FTPX_A_STATS);
	if (!nest)
		goto err;
	for (i = 0; i < FTPX_STAT_MAX; i++)
		if (nla_put_u64_64bit(msg, i + 1, sum[i], 0))
			goto err;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
err:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int ftpx_put_server(struct sk_buff *msg, const struct ftpx_server *s)
{
	unsigned int alen = s->family == AF_INET ? 4 : 16;
	struct nlattr *nest, *pl;
	unsigned int i;

	nest = nla_nest_start(msg, FTPX_A_SERVER);
	if (!nest || nla_put(msg, FTPX_S_ADDR, alen, &s->addr))
		return -EMSGSIZE;
	if (s->pasv_min && (nla_put_u16(msg, FTPX_S_PASV_MIN, s->pasv_min) ||
			    nla_put_u16(msg, FTPX_S_PASV_MAX, s->pasv_max)))
		return -EMSGSIZE;
	if (s->has_masq && nla_put(msg, FTPX_S_MASQ, alen, &s->masq))
		return -EMSGSIZE;
	if (s->n_internal) {
		pl = nla_nest_start(msg, FTPX_S_INTERNAL);
		if (!pl)
			return -EMSGSIZE;
		for (i = 0; i < s->n_internal; i++) {
			const struct ftpx_prefix *p = &s->internal[i];
			unsigned int pa = p->family == AF_INET ? 4 : 16;
			struct nlattr *e = nla_nest_start(msg, i + 1);
			u8 buf[17];

			memcpy(buf, &p->addr, pa);
			buf[pa] = p->len;
			if (!e || nla_put(msg, FTPX_P_PREFIX, pa + 1, buf))
				return -EMSGSIZE;
			nla_nest_end(msg, e);
		}
		nla_nest_end(msg, pl);
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int ftpx_cmd_servers(struct sk_buff *skb, struct genl_info *info)
{
	struct ftpx_net *fn = ftpx_pernet(genl_info_net(info));
	struct ftpx_config *cfg;
	struct sk_buff *msg;
	unsigned int i;
	void *hdr;
	int ret = 0;

	/* 64 servers with 16 prefixes each fit in well under 64 KiB */
	msg = genlmsg_new(65536 - NLMSG_HDRLEN - GENL_HDRLEN - 64, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ftpx_genl_family, 0,
				FTPX_CMD_GET_SERVERS);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	mutex_lock(&fn->cfg_lock);
	cfg = rcu_dereference_protected(fn->cfg, lockdep_is_held(&fn->cfg_lock));
	for (i = 0; cfg && i < cfg->n && !ret; i++)
		ret = ftpx_put_server(msg, &cfg->srv[i]);
	mutex_unlock(&fn->cfg_lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_small_ops ftpx_genl_ops[] = {
	{ .cmd = FTPX_CMD_GET_STATS, .doit = ftpx_cmd_stats,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = FTPX_CMD_SET_SERVER, .doit = ftpx_cmd_set,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = FTPX_CMD_DEL_SERVER, .doit = ftpx_cmd_del,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = FTPX_CMD_GET_SERVERS, .doit = ftpx_cmd_servers,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = FTPX_CMD_FLUSH, .doit = ftpx_cmd_flush,
	  .flags = GENL_UNS_ADMIN_PERM },
};

static struct genl_family ftpx_genl_family __ro_after_init = {
	.name = FTPX_GENL_NAME,
	.version = FTPX_GENL_VERSION,
	.maxattr = FTPX_A_MAX,
	.policy = ftpx_genl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = ftpx_genl_ops,
	.n_small_ops = ARRAY_SIZE(ftpx_genl_ops),
	.resv_start_op = FTPX_CMD_GET_STATS,
};

int __init ftpx_genl_init(void)
{
	return genl_register_family(&ftpx_genl_family);
}

void ftpx_genl_exit(void)
{
	genl_unregister_family(&ftpx_genl_family);
}
