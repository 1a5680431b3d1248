// SPDX-License-Identifier: GPL-2.0
/*
 * nf_ftpx: module glue. Registers the "ftpx" conntrack helper for IPv4 and
 * IPv6 TCP, the per-netns state and the control interface.
 *
 * The helper is registered with port 0: since automatic helper assignment is
 * gone (6.0) the port only feeds the registration clash check, and port 21
 * would clash with a loaded nf_conntrack_ftp. Rulesets attach "ftpx" by name.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "nf_ftpx.h"

bool ftpx_exiting;
bool ftpx_loose;
module_param_named(loose, ftpx_loose, bool, 0600);
MODULE_PARM_DESC(loose, "Accept PORT/EPRT/227 addresses other than the control peer's (FTP bounce); default off");

bool ftpx_low_ports;
module_param_named(low_ports, ftpx_low_ports, bool, 0600);
MODULE_PARM_DESC(low_ports, "Accept PORT/EPRT data ports below 1024; default off");

static unsigned int data_max = 8;
module_param(data_max, uint, 0400);
MODULE_PARM_DESC(data_max, "Pending data expectations per session (1-255, default 8)");

static unsigned int data_timeout = 300;
module_param(data_timeout, uint, 0400);
MODULE_PARM_DESC(data_timeout, "Seconds a data expectation waits for its connection (default 300)");

static unsigned int gate_max = 64;
module_param(gate_max, uint, 0400);
MODULE_PARM_DESC(gate_max, "Passive-range expectations per encrypted session (1-255, default 64)");

static unsigned int gate_timeout = 3600;
module_param(gate_timeout, uint, 0400);
MODULE_PARM_DESC(gate_timeout, "Seconds a passive-range expectation lives at most; they also go with the control connection (default 3600)");

unsigned int ftpx_gate_max_total = 4096;
module_param_named(gate_max_total, ftpx_gate_max_total, uint, 0600);
MODULE_PARM_DESC(gate_max_total, "Passive-range expectations in total, all sessions (default 4096)");

static unsigned int hint_max = 16;
module_param(hint_max, uint, 0400);
MODULE_PARM_DESC(hint_max, "Pending userspace hint expectations per session (1-255, default 16)");

static unsigned int hint_timeout = 30;
module_param(hint_timeout, uint, 0400);
MODULE_PARM_DESC(hint_timeout, "Seconds a userspace hint expectation waits (default 30)");

atomic_t ftpx_gate_total = ATOMIC_INIT(0);
/* Bumped whenever a session's gates go: waiting sessions retry then. */
atomic_t ftpx_gate_gen = ATOMIC_INIT(0);
unsigned int ftpx_net_id __read_mostly;

static struct nf_conntrack_expect_policy ftpx_policy[FTPX_CLASS_MAX] = {
	[FTPX_CLASS_DATA] = { .name = "ftpx-data" },
	[FTPX_CLASS_GATE] = { .name = "ftpx-gate" },
	[FTPX_CLASS_HINT] = { .name = "ftpx-hint" },
};

struct nf_conntrack_helper ftpx_helpers[2] __read_mostly;

struct ftpx_net *ftpx_pernet(const struct net *net)
{
	return net_generic(net, ftpx_net_id);
}

static int __net_init ftpx_net_init(struct net *net)
{
	struct ftpx_net *fn = ftpx_pernet(net);

	spin_lock_init(&fn->wait_lock);
	INIT_LIST_HEAD(&fn->waiters);
	fn->stats = alloc_percpu(struct ftpx_stats);
	if (!fn->stats)
		return -ENOMEM;
	return ftpx_config_net_init(fn);
}

static void __net_exit ftpx_net_exit(struct net *net)
{
	struct ftpx_net *fn = ftpx_pernet(net);

	ftpx_config_net_exit(fn);
	free_percpu(fn->stats);
}

static struct pernet_operations ftpx_net_ops = {
	.init = ftpx_net_init,
	.exit = ftpx_net_exit,
	.id = &ftpx_net_id,
	.size = sizeof(struct ftpx_net),
};

static unsigned int clamp_class_max(unsigned int v)
{
	return clamp(v, 1U, 255U);
}

static int __init ftpx_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct ftpx_help_data) >
		     sizeof_field(struct nf_conn_help, data));
	BUILD_BUG_ON(FTPX_CLASS_MAX > NF_CT_MAX_EXPECT_CLASSES);

	ftpx_policy[FTPX_CLASS_DATA].max_expected = clamp_class_max(data_max);
	ftpx_policy[FTPX_CLASS_DATA].timeout = data_timeout;
	ftpx_policy[FTPX_CLASS_GATE].max_expected = clamp_class_max(gate_max);
	ftpx_policy[FTPX_CLASS_GATE].timeout = gate_timeout;
	ftpx_policy[FTPX_CLASS_HINT].max_expected = clamp_class_max(hint_max);
	ftpx_policy[FTPX_CLASS_HINT].timeout = hint_timeout;

	ret = ftpx_config_params();
	if (ret)
		return ret;
	ret = ftpx_session_init();
	if (ret)
		return ret;
	ret = register_pernet_subsys(&ftpx_net_ops);
	if (ret)
		goto err_session;

	nf_ct_helper_init(&ftpx_helpers[0], AF_INET, IPPROTO_TCP,
			  FTPX_HELPER_NAME, 0, 0, 0, ftpx_policy,
			  FTPX_CLASS_MAX - 1, ftpx_help, NULL, THIS_MODULE);
	nf_ct_helper_init(&ftpx_helpers[1], AF_INET6, IPPROTO_TCP,
			  FTPX_HELPER_NAME, 0, 0, 0, ftpx_policy,
			  FTPX_CLASS_MAX - 1, ftpx_help, NULL, THIS_MODULE);
	ftpx_helpers[0].destroy = ftpx_helper_destroy;
	ftpx_helpers[1].destroy = ftpx_helper_destroy;
	ftpx_helpers[0].to_nlattr = ftpx_helper_to_nlattr;
	ftpx_helpers[1].to_nlattr = ftpx_helper_to_nlattr;

	ret = nf_conntrack_helpers_register(ftpx_helpers,
					    ARRAY_SIZE(ftpx_helpers));
	if (ret) {
		pr_err("cannot register helper \"%s\": %d\n",
		       FTPX_HELPER_NAME, ret);
		goto err_pernet;
	}
	ret = ftpx_genl_init();
	if (ret)
		goto err_helper;
	return 0;

err_helper:
	nf_conntrack_helpers_unregister(ftpx_helpers, ARRAY_SIZE(ftpx_helpers));
	ftpx_session_exit();
	unregister_pernet_subsys(&ftpx_net_ops);
	return ret;
err_pernet:
	unregister_pernet_subsys(&ftpx_net_ops);
err_session:
	ftpx_session_exit();
	return ret;
}

static bool ftpx_is_ours(const struct nf_conntrack_helper *h)
{
	return h == &ftpx_helpers[0] || h == &ftpx_helpers[1];
}

/* An expectation that still names our helper after it is unregistered. */
static bool ftpx_exp_ours(struct nf_conntrack_expect *exp, void *data)
{
	return ftpx_is_ours(rcu_access_pointer(exp->helper)) ||
	       ftpx_is_ours(ftpx_exp_assigned_helper(exp));
}

/*
 * Unload with live sessions and expectations. ftpx_help stops creating
 * anything once ftpx_exiting is visible; the unregister waits an RCU grace
 * period (so no ftpx_help started before is still running), removes our
 * expectations and detaches the helper from every conntrack. Expectations
 * userspace added through ctnetlink in between are removed after it, so none
 * can point into this module once it is gone.
 */
static void __exit ftpx_exit(void)
{
	WRITE_ONCE(ftpx_exiting, true);
	ftpx_genl_exit();
	nf_conntrack_helpers_unregister(ftpx_helpers, ARRAY_SIZE(ftpx_helpers));
	nf_ct_expect_iterate_destroy(ftpx_exp_ours, NULL);
	/* Frees the sessions the detached cts still point to. */
	ftpx_session_exit();
	unregister_pernet_subsys(&ftpx_net_ops);
}

module_init(ftpx_init);
module_exit(ftpx_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("FTP and FTPS conntrack/NAT helper \"ftpx\"");
MODULE_ALIAS_NFCT_HELPER(FTPX_HELPER_NAME);
MODULE_ALIAS_GENL_FAMILY(FTPX_GENL_NAME);
MODULE_VERSION("0.1.0");
