// SPDX-License-Identifier: GPL-2.0
/*
 * Per control connection state. nf_conn_help->data has 32 bytes, too small
 * for partial-line buffers and TLS record tracking, so it only holds a pointer
 * to a session object from a dedicated slab cache (visible in /proc/slabinfo
 * as "nf_ftpx_session"). The object is allocated on the first payload packet
 * of a control connection, never for data connections.
 *
 * Lifetime: freed by the helper's destroy callback when the ct dies. When the
 * module is unloaded the core detaches the helper from every ct first, so the
 * destroy callback no longer runs for them; ftpx_session_exit() then sweeps
 * the conntrack table for our magic and frees what is left. Both paths take
 * the pointer with xchg() so only one of them frees it.
 */
#include <linux/slab.h>
#include <linux/netlink.h>
#include <net/netlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "nf_ftpx.h"

static struct kmem_cache *ftpx_session_cache __read_mostly;

static struct ftpx_help_data *ftpx_data(const struct nf_conn *ct)
{
	return nfct_help_data(ct);
}

/* The magic is keyed by the pointer so that stale data of another helper in a
 * detached ct cannot pass for ours during the unload sweep. */
static u32 ftpx_magic(const struct ftpx_session *s)
{
	return FTPX_MAGIC ^ (u32)(unsigned long)s ^ (u32)((u64)(unsigned long)s >> 32);
}

static struct ftpx_session *ftpx_owned(struct ftpx_help_data *hd)
{
	struct ftpx_session *s = READ_ONCE(hd->sess);

	return s && READ_ONCE(hd->magic) == ftpx_magic(s) ? s : NULL;
}

struct ftpx_session *ftpx_session_get(struct nf_conn *ct, bool create)
{
	struct ftpx_help_data *hd = ftpx_data(ct);
	struct ftpx_session *s, *old;

	s = READ_ONCE(hd->sess);
	if (s || !create)
		return s;
	if (ct->master)		/* a data connection: no session */
		return NULL;

	s = kmem_cache_zalloc(ftpx_session_cache, GFP_ATOMIC);
	if (!s) {
		ftpx_stat_inc(nf_ct_net(ct), FTPX_STAT_NOMEM);
		return NULL;
	}
	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->wait);
	s->mode = FTPX_MODE_PLAIN;
	/* Both directions may race to create it on two CPUs. */
	old = cmpxchg(&hd->sess, NULL, s);
	if (old) {
		kmem_cache_free(ftpx_session_cache, s);
		return old;
	}
	WRITE_ONCE(hd->magic, ftpx_magic(s));
	ftpx_stat_inc(nf_ct_net(ct), FTPX_STAT_SESSIONS);
	return s;
}

static void ftpx_session_free(struct nf_conn *ct, struct ftpx_help_data *hd)
{
	struct ftpx_session *s = xchg(&hd->sess, NULL);

	if (!s)
		return;
	ftpx_gate_unwait(ct, s);
	if (s->gates)
		atomic_sub(s->gates, &ftpx_gate_total);
	kmem_cache_free(ftpx_session_cache, s);
}

void ftpx_helper_destroy(struct nf_conn *ct)
{
	struct ftpx_help_data *hd = ftpx_data(ct);

	if (ftpx_owned(hd))
		ftpx_session_free(ct, hd);
}

void ftpx_set_mode(struct nf_conn *ct, struct ftpx_session *s, u8 mode)
{
	static const enum ftpx_stat stat[FTPX_MODE_MAX] = {
		[FTPX_MODE_EXPLICIT] = FTPX_STAT_TLS_EXPLICIT,
		[FTPX_MODE_IMPLICIT] = FTPX_STAT_TLS_IMPLICIT,
		[FTPX_MODE_CLEARED] = FTPX_STAT_TLS_CLEARED,
	};

	if (s->mode == mode || mode >= FTPX_MODE_MAX)
		return;
	s->mode = mode;
	if (mode != FTPX_MODE_PLAIN)
		ftpx_stat_inc(nf_ct_net(ct), stat[mode]);
}

/* CTA_HELP_INFO for ctnetlink dumps: what ftpxctl shows per session. */
int ftpx_helper_to_nlattr(struct sk_buff *skb, const struct nf_conn *ct)
{
	struct ftpx_help_data *hd = ftpx_data(ct);
	struct ftpx_help_info info = { .version = 1 };
	struct ftpx_session *s;

	s = ftpx_owned(hd);
	if (!s)
		return 0;
	info.mode = READ_ONCE(s->mode);
	info.gates = htons(READ_ONCE(s->gates));
	info.expects = htonl(READ_ONCE(s->expects));
	info.refused = htonl(READ_ONCE(s->refused));
	info.rewrites = htonl(READ_ONCE(s->rewrites));
	return nla_put(skb, CTA_HELP_INFO, sizeof(info), &info);
}

static int ftpx_sweep(struct nf_conn *ct, void *data)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct ftpx_help_data *hd;

	if (!help)
		return 0;
	hd = (struct ftpx_help_data *)help->data;
	/* Only cts whose helper the core just detached can carry our magic:
	 * a helper is never attached to a ct again after that. */
	if (!rcu_access_pointer(help->helper) && ftpx_owned(hd)) {
		ftpx_session_free(ct, hd);
		WRITE_ONCE(hd->magic, 0);
	}
	return 0;
}

int ftpx_session_init(void)
{
	ftpx_session_cache = kmem_cache_create("nf_ftpx_session",
					       sizeof(struct ftpx_session), 0,
					       0, NULL);
	return ftpx_session_cache ? 0 : -ENOMEM;
}

void ftpx_session_exit(void)
{
	nf_ct_iterate_destroy(ftpx_sweep, NULL);
	/* A destroy callback that started before the helper was detached
	 * may still run on another CPU. */
	synchronize_rcu();
	kmem_cache_destroy(ftpx_session_cache);
}
