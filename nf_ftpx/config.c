// SPDX-License-Identifier: GPL-2.0
/*
 * Per-server settings: passive range for encrypted sessions, masquerade
 * address, internal client prefixes. A small table per netns, replaced as a
 * whole under RCU (writers are rare and serialised by a per-netns mutex);
 * the packet path only does an RCU lookup. The module parameters give one
 * default entry used for servers with no entry of their own.
 */
#include <linux/inet.h>
#include <linux/slab.h>
#include <linux/moduleparam.h>

#include "config.h"

static char *masq;
module_param(masq, charp, 0400);
MODULE_PARM_DESC(masq, "Default masquerade address advertised in 227/229-era replies (like ProFTPD MasqueradeAddress); empty: none");

static char *internal;
module_param(internal, charp, 0400);
MODULE_PARM_DESC(internal, "Default internal client prefixes that keep the server's own address, comma separated (e.g. 192.168.0.0/16,fd00::/8)");

static char *pasv;
module_param(pasv, charp, 0400);
MODULE_PARM_DESC(pasv, "Default passive port range MIN-MAX opened per encrypted session to its client only; empty: none");

static struct ftpx_server ftpx_default;

int ftpx_prefix_parse(const char *s, struct ftpx_prefix *p)
{
	const char *end;
	unsigned int len;
	int max;

	memset(p, 0, sizeof(*p));
	if (in4_pton(s, -1, (u8 *)&p->addr.ip, '/', &end)) {
		p->family = AF_INET;
		max = 32;
	} else if (in6_pton(s, -1, (u8 *)&p->addr.ip6, '/', &end)) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	len = max;
	if (*end == '/' && (kstrtouint(end + 1, 10, &len) || len > max))
		return -EINVAL;
	p->len = len;
	return 0;
}

static bool ftpx_prefix_match(const struct ftpx_prefix *p, u8 family,
			      const union nf_inet_addr *a)
{
	unsigned int i, bits = p->len;
	const u8 *x = (const u8 *)a, *y = (const u8 *)&p->addr;

	if (p->family != family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (x[i] != y[i])
			return false;
	return !bits || !((x[i] ^ y[i]) & (0xff << (8 - bits)));
}

bool ftpx_server_internal(const struct ftpx_server *srv, u8 family,
			  const union nf_inet_addr *client)
{
	unsigned int i;

	for (i = 0; i < srv->n_internal; i++)
		if (ftpx_prefix_match(&srv->internal[i], family, client))
			return true;
	return false;
}

const struct ftpx_server *ftpx_config_find(const struct net *net, u8 family,
					   const union nf_inet_addr *srv)
{
	struct ftpx_config *cfg = rcu_dereference(ftpx_pernet(net)->cfg);
	unsigned int i;

	for (i = 0; cfg && i < cfg->n; i++)
		if (cfg->srv[i].family == family &&
		    !memcmp(&cfg->srv[i].addr, srv,
			    family == AF_INET ? 4 : 16))
			return &cfg->srv[i];
	/* the default's masq (if any) applies to its own family only: the
	 * NAT code checks srv->family against the connection's */
	return ftpx_default.has_masq || ftpx_default.pasv_min ?
	       &ftpx_default : NULL;
}

/* Copy the table with @srv replacing (or added to) its entry, or removed
 * when @del. Caller holds cfg_lock. */
static int ftpx_config_replace(struct net *net, const struct ftpx_server *srv,
			       bool del)
{
	struct ftpx_net *fn = ftpx_pernet(net);
	struct ftpx_config *old, *new;
	unsigned int i, n = 0;
	bool found = false;

	old = rcu_dereference_protected(fn->cfg, lockdep_is_held(&fn->cfg_lock));
	new = kzalloc(struct_size(new, srv, (old ? old->n : 0) + 1),
		      GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	for (i = 0; old && i < old->n; i++) {
		if (old->srv[i].family == srv->family &&
		    !memcmp(&old->srv[i].addr, &srv->addr, sizeof(srv->addr))) {
			found = true;
			if (del)
				continue;
			new->srv[n++] = *srv;
			continue;
		}
		new->srv[n++] = old->srv[i];
	}
	if (del && !found) {
		kfree(new);
		return -ENOENT;
	}
	if (!found && !del) {
		if (n >= FTPX_MAX_SERVERS) {
			kfree(new);
			return -ENOSPC;
		}
		new->srv[n++] = *srv;
	}
	new->n = n;
	rcu_assign_pointer(fn->cfg, new);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

int ftpx_config_set(struct net *net, const struct ftpx_server *srv)
{
	struct ftpx_net *fn = ftpx_pernet(net);
	int ret;

	mutex_lock(&fn->cfg_lock);
	ret = ftpx_config_replace(net, srv, false);
	mutex_unlock(&fn->cfg_lock);
	return ret;
}

int ftpx_config_del(struct net *net, u8 family, const union nf_inet_addr *a)
{
	struct ftpx_net *fn = ftpx_pernet(net);
	struct ftpx_server key = { .family = family, .addr = *a };
	int ret;

	mutex_lock(&fn->cfg_lock);
	ret = ftpx_config_replace(net, &key, true);
	mutex_unlock(&fn->cfg_lock);
	return ret;
}

void ftpx_config_flush(struct net *net)
{
	struct ftpx_net *fn = ftpx_pernet(net);
	struct ftpx_config *old;

	mutex_lock(&fn->cfg_lock);
	old = rcu_replace_pointer(fn->cfg, NULL, lockdep_is_held(&fn->cfg_lock));
	mutex_unlock(&fn->cfg_lock);
	if (old)
		kfree_rcu(old, rcu);
}

int ftpx_config_net_init(struct ftpx_net *fn)
{
	mutex_init(&fn->cfg_lock);
	RCU_INIT_POINTER(fn->cfg, NULL);
	return 0;
}

void ftpx_config_net_exit(struct ftpx_net *fn)
{
	/* no reader is left in a dying netns */
	kfree(rcu_dereference_protected(fn->cfg, 1));
}

/* Parse the module parameters into the default entry; refuse bad ones. */
int ftpx_config_params(void)
{
	struct ftpx_server *d = &ftpx_default;
	char *buf, *cur, *tok;
	int ret = 0;

	if (masq && *masq) {
		struct ftpx_prefix p;

		if (ftpx_prefix_parse(masq, &p) ||
		    p.len != (p.family == AF_INET ? 32 : 128)) {
			pr_err("masq=%s: not an IPv4 or IPv6 address\n", masq);
			return -EINVAL;
		}
		d->has_masq = true;
		d->masq = p.addr;
		d->family = p.family;
	}
	if (pasv && *pasv) {
		unsigned int lo, hi;
		char c;

		if (sscanf(pasv, "%u-%u%c", &lo, &hi, &c) != 2 || !lo ||
		    hi > 65535 || lo > hi) {
			pr_err("pasv=%s: expected MIN-MAX within 1-65535\n", pasv);
			return -EINVAL;
		}
		d->pasv_min = lo;
		d->pasv_max = hi;
	}
	if (!internal || !*internal)
		return 0;
	buf = kstrdup(internal, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = buf;
	while ((tok = strsep(&cur, ",")) != NULL) {
		if (!*tok)
			continue;
		if (d->n_internal >= FTPX_MAX_INTERNAL ||
		    ftpx_prefix_parse(tok, &d->internal[d->n_internal])) {
			pr_err("internal=%s: bad prefix \"%s\" (at most %d)\n",
			       internal, tok, FTPX_MAX_INTERNAL);
			ret = -EINVAL;
			break;
		}
		d->n_internal++;
	}
	kfree(buf);
	return ret;
}
