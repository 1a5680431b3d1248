// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: plants a kernel fault on demand, so the test harness can
 * prove that it notices one. Loaded with no parameter it does nothing, which
 * checks that insmod of an out-of-tree module works in the test VM.
 *
 *   warn=1   WARN at load (taints W); tests/run.sh, "planted warning"
 *   oob=1    read one byte past a kmalloc'd buffer (a KASAN report)
 *   leak=1   kmalloc a buffer and drop the only pointer (a kmemleak report)
 *   sleep=1  sleep while holding a spinlock ("sleeping function called
 *            from invalid context", DEBUG_ATOMIC_SLEEP)
 *   abba=1   take two mutexes in both orders (lockdep "possible circular
 *            locking dependency"); lockdep turns itself off after it
 *
 * The last four are for the debug kernel (scripts/test-debug.sh); on a kernel
 * without the matching detector they run without a report.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static bool warn, oob, leak, sleep, abba;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "WARN at load (taints the kernel W)");
module_param(oob, bool, 0444);
MODULE_PARM_DESC(oob, "out-of-bounds read of a heap buffer at load");
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "leak one heap buffer at load");
module_param(sleep, bool, 0444);
MODULE_PARM_DESC(sleep, "sleep under a spinlock at load");
module_param(abba, bool, 0444);
MODULE_PARM_DESC(abba, "take two mutexes in both orders at load");

/* Where the leaked buffer's address would be lost: kmemleak must not find
 * it in any module data it scans, so it is only ever in a local. */
static int warnmod_leak(void)
{
	char *p = kmalloc(96, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 96);
	pr_info("warnmod: leaking a 96-byte buffer\n");
	return 0;
}

static int warnmod_oob(void)
{
	/* the size comes from a volatile, so the compiler cannot see the
	 * overrun and the read is really made, past the object */
	volatile size_t size = 40;
	char *p = kmalloc(size, GFP_KERNEL);
	char c;

	if (!p)
		return -ENOMEM;
	c = ((volatile char *)p)[size];
	pr_info("warnmod: read %d past a %zu-byte buffer\n", c, (size_t)size);
	kfree(p);
	return 0;
}

static DEFINE_SPINLOCK(warnmod_spin);

static void warnmod_sleep(void)
{
	/* A GFP_KERNEL allocation may sleep: DEBUG_ATOMIC_SLEEP reports it
	 * under a spinlock even when it does not (a real sleep would instead
	 * give "scheduling while atomic", on any kernel). */
	spin_lock(&warnmod_spin);
	kfree(kmalloc(64, GFP_KERNEL));
	spin_unlock(&warnmod_spin);
}

static DEFINE_MUTEX(warnmod_a);
static DEFINE_MUTEX(warnmod_b);

static void warnmod_abba(void)
{
	mutex_lock(&warnmod_a);
	mutex_lock(&warnmod_b);
	mutex_unlock(&warnmod_b);
	mutex_unlock(&warnmod_a);

	mutex_lock(&warnmod_b);
	mutex_lock(&warnmod_a);
	mutex_unlock(&warnmod_a);
	mutex_unlock(&warnmod_b);
}

static int __init warnmod_init(void)
{
	int err = 0;

	WARN(warn, "warnmod: planted warning\n");
	if (oob)
		err = warnmod_oob();
	if (!err && leak)
		err = warnmod_leak();
	if (sleep)
		warnmod_sleep();
	if (abba)
		warnmod_abba();
	return err;
}

static void __exit warnmod_exit(void)
{
}

module_init(warnmod_init);
module_exit(warnmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nf_ftpx test harness: plants a kernel fault on demand");
