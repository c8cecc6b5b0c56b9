/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flushtm: the API other kernel modules may use (GPL symbols).
 *
 * Every call is for process context: they may sleep.  None maps memory:
 * flushtm only ever touches ranges that were enabled through configfs and
 * validated there, so a physical range given here must lie in the published
 * (enabled) set.
 */
#ifndef _LINUX_FLUSHTM_H
#define _LINUX_FLUSHTM_H

#include <linux/types.h>

struct mm_struct;
struct mmu_notifier_ops;

/*
 * Write back every cache line that holds a byte of [phys, phys + size) now
 * (the range is rounded out to whole lines, as clflush_cache_range() does).
 * The rounded range must lie wholly inside enabled ranges: else -EINVAL
 * and nothing is flushed.  Not counted under any hook, not logged.  0 or
 * -EINVAL / -ENOMEM.
 */
int flushtm_flush_phys(phys_addr_t phys, size_t size);

/*
 * An aperture [phys, phys + size) is about to map other memory: every
 * enabled range that reaches into it (rounded out to whole lines) is
 * written back, invalidated and withdrawn (disabled; its configfs item
 * stays), each counted and logged under hook aperture (withdrawn unflushed
 * when that hook is disarmed), so no write-back mapping of the window is
 * left.  A window that reaches no enabled range does nothing.  0, -EINVAL
 * (empty or wrapping), or -ENOMEM (ranges not yet withdrawn stay as they
 * were).
 */
int flushtm_report_aperture(phys_addr_t phys, size_t size);

/*
 * The exit hook for an address space a module owns: flushtm_enroll_mm()
 * registers a notifier that flushes the set under hook exit when @mm is
 * torn down (-EEXIST if enrolled already); flushtm_withdraw_mm() removes it
 * without flushing.  Or embed flushtm_mmu_ops in your own struct
 * mmu_notifier: its release flushes (mmu_notifier_unregister() on a live mm
 * calls release, so that flushes too).
 */
int flushtm_enroll_mm(struct mm_struct *mm);
void flushtm_withdraw_mm(struct mm_struct *mm);
extern const struct mmu_notifier_ops flushtm_mmu_ops;

#endif /* _LINUX_FLUSHTM_H */
