// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: plants a kernel warning on demand, so the test harness can
 * prove that it notices one (tests/run.sh, "planted warning" self-test).
 * Loaded without warn=1 it does nothing, which checks that insmod of an
 * out-of-tree module works in the test VM.
 */
#include <linux/module.h>

static bool warn;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "WARN at load (taints the kernel W)");

static int __init warnmod_init(void)
{
	WARN(warn, "warnmod: planted warning\n");
	return 0;
}

static void __exit warnmod_exit(void)
{
}

module_init(warnmod_init);
module_exit(warnmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nf_ftpx test harness: plants a kernel warning");
