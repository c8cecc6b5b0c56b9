// SPDX-License-Identifier: GPL-2.0
/*
 * Ranges named by a reserve_mem= label (ranges/<name>/reserve_mem).
 *
 * The boot parameter reserve_mem=SIZE:ALIGN:LABEL sets memory aside by
 * name (ftrace's persistent ring buffer, trace_instance=NAME@LABEL, and
 * ramoops' mem_name= use it).  Such a region has no /proc/iomem entry of
 * its own, so user space cannot find its address: the module resolves the
 * label itself, with reserve_mem_find_by_name(), when the range is enabled.
 * FTM_HAVE_RESERVE_MEM comes from a Kbuild probe (probes/reserve_mem.c),
 * not from a version number.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "ftm.h"

/*
 * Process context, ftm_cfg_lock held (range enable).  Fills *start and
 * *size from the label: 0; -ENOENT for a label the kernel does not know;
 * -EOPNOTSUPP where the kernel has no reserve_mem.  Each refusal logs one
 * line.
 */
int ftm_reserve_mem_resolve(const char *range, const char *label, u64 *start, u64 *size)
{
#ifdef FTM_HAVE_RESERVE_MEM
	phys_addr_t s, z;

	lockdep_assert_held(&ftm_cfg_lock);
	if (!reserve_mem_find_by_name(label, &s, &z)) {
		ftm_refuse("range " FTM_NAMEFMT ": no reserve_mem region labelled %*pE\n",
			   FTM_NAMEARG(range), FTM_NAMEARG(label));
		return -ENOENT;
	}
	*start = s;
	*size = z;
	return 0;
#else
	ftm_refuse("range " FTM_NAMEFMT ": reserve_mem %*pE: this kernel has no reserve_mem\n",
		   FTM_NAMEARG(range), FTM_NAMEARG(label));
	return -EOPNOTSUPP;
#endif
}

/*
 * Process context.  True when [start, start + size) is inside the region
 * labelled @label: a reserve_mem region is memory the kernel set aside at
 * boot, which the resource tree does not list by itself.
 */
bool ftm_reserve_mem_covers(const char *label, u64 start, u64 size)
{
#ifdef FTM_HAVE_RESERVE_MEM
	phys_addr_t s, z;

	if (!reserve_mem_find_by_name(label, &s, &z))
		return false;
	return start >= s && size <= z && start - s <= z - size;
#else
	return false;
#endif
}
