/* SPDX-License-Identifier: GPL-2.0 */
/*
 * All kernel-version drift lives here; force-included by Kbuild. Feature
 * tests against the target headers come from Kbuild (FTPX_HAVE_*); the logic
 * files contain no version checks.
 */
#ifndef _FTPX_COMPAT_H
#define _FTPX_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "nf_ftpx supports Linux 6.1 and later"
#endif

/*
 * The helper a new related connection gets: newer trees (and Debian's
 * stable updates of 6.1 and 6.12) split it from the creating helper as
 * exp->assign_helper; older ones use exp->helper for both.
 */
#ifdef FTPX_HAVE_EXP_ASSIGN_HELPER
#define ftpx_exp_assign_helper(exp, h) rcu_assign_pointer((exp)->assign_helper, h)
#define ftpx_exp_assigned_helper(exp) rcu_access_pointer((exp)->assign_helper)
#else
#define ftpx_exp_assign_helper(exp, h) rcu_assign_pointer((exp)->helper, h)
#define ftpx_exp_assigned_helper(exp) rcu_access_pointer((exp)->helper)
#endif

#endif /* _FTPX_COMPAT_H */
