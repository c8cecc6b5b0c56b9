// SPDX-License-Identifier: GPL-2.0
/*
 * The exit hook: an enrolled address space is flushed when it is torn down
 * (mmu_notifier release, called from exit_mmap() in process context).
 * Enrolment is by pid through hooks/exit/pids, or by mm from another
 * module through the exported API.
 *
 * A pid's enrolment follows the process, not one address space: exec
 * replaces the mm, and the old mm's release runs in exec_mmap() after the
 * task already has the new one, before exec returns to user space.  That
 * release enrols the task's new mm under the same pid, then flushes for the
 * old one, so the new program is covered from its first instruction.  (When
 * something else holds the old mm, e.g. a reader of /proc/PID/mem, its
 * release and so the follow-up come when that reference is dropped.)  An
 * mm enrolled through the API is that mm only.
 *
 * Locking: ftm_exit_lock guards the list and is taken before an mm's
 * mmap_lock (mmu_notifier_register).  release may take it, so nothing may
 * wait for release callbacks (mmu_notifier_unregister, which waits for
 * SRCU) while holding it: enrolments are unlinked under the lock and
 * unregistered after it is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "ftm.h"
#include "flushtm.h"

struct ftm_enrolment {
	struct mmu_notifier mn;
	struct list_head node;		/* ftm_enrolments, under ftm_exit_lock */
	struct pid *pid;		/* NULL: enrolled by mm through the API */
	pid_t nr;			/* pid as the writer of pids named it */
	bool released;			/* the address space is gone */
	bool withdrawing;		/* unregister calls release: don't flush */
};

static LIST_HEAD(ftm_enrolments);
static DEFINE_MUTEX(ftm_exit_lock);
static bool ftm_exit_closing;		/* unload: enrol nothing more */

static const struct mmu_notifier_ops ftm_enrolment_ops;

/* ftm_exit_lock held; may sleep (mmap_lock).  @pid's reference is taken. */
static int ftm_enroll(struct mm_struct *mm, struct pid *pid, pid_t nr)
{
	struct ftm_enrolment *e;
	int ret;

	if (ftm_exit_closing)
		return -ENODEV;
	list_for_each_entry(e, &ftm_enrolments, node)
		if (e->mn.mm == mm && !READ_ONCE(e->released))
			return -EEXIST;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->mn.ops = &ftm_enrolment_ops;
	e->pid = get_pid(pid);
	e->nr = nr;
	ret = mmu_notifier_register(&e->mn, mm);
	if (ret) {
		put_pid(e->pid);
		kfree(e);
		return ret;
	}
	list_add_tail(&e->node, &ftm_enrolments);
	return 0;
}

/*
 * Release of @old, an mm enrolled under @e's pid (process context, inside the
 * notifier's SRCU read section; may sleep).  If the process lives on with
 * another mm, it has exec'd: enrol that one.
 */
static void ftm_exit_follow(struct ftm_enrolment *e, struct mm_struct *old)
{
	struct task_struct *task;
	struct mm_struct *mm;
	int ret = 0;

	task = get_pid_task(e->pid, PIDTYPE_PID);
	if (!task)
		return;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return;			/* exiting: this release is its end */
	if (mm != old) {
		mutex_lock(&ftm_exit_lock);
		if (!READ_ONCE(e->withdrawing))
			ret = ftm_enroll(mm, e->pid, e->nr);
		mutex_unlock(&ftm_exit_lock);
	}
	mmput(mm);
	/* ENODEV: unloading; EEXIST: the new mm is enrolled already. */
	if (ret && ret != -ENODEV && ret != -EEXIST)
		pr_warn("exit: process %d exec'd but its new address space could not be enrolled (%d)\n",
			e->nr, ret);
}

/* mmu_notifier release: exit_mmap() or exec, process context, may sleep. */
static void ftm_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct ftm_enrolment *e = container_of(mn, struct ftm_enrolment, mn);

	if (READ_ONCE(e->withdrawing))
		return;
	WRITE_ONCE(e->released, true);
	if (e->pid)
		ftm_exit_follow(e, mm);
	ftm_flush_process(FTM_HOOK_EXIT);
}

static const struct mmu_notifier_ops ftm_enrolment_ops = {
	.release = ftm_mn_release,
};

static void ftm_release_external(struct mmu_notifier *mn, struct mm_struct *mm)
{
	ftm_flush_process(FTM_HOOK_EXIT);
}

/*
 * For a module that keeps its own struct mmu_notifier: release flushes the
 * set under hook exit.  Note that mmu_notifier_unregister() on a live mm
 * calls release too.
 */
const struct mmu_notifier_ops flushtm_mmu_ops = {
	.release = ftm_release_external,
};
EXPORT_SYMBOL_GPL(flushtm_mmu_ops);

/* ftm_exit_lock held: take @e off the list, for ftm_drop_unlinked(). */
static void ftm_unlink(struct ftm_enrolment *e, struct list_head *victims)
{
	WRITE_ONCE(e->withdrawing, true);
	list_move_tail(&e->node, victims);
}

/*
 * ftm_exit_lock NOT held (unregister waits for release callbacks in flight,
 * which may take it); may sleep.
 */
static void ftm_drop_unlinked(struct list_head *victims)
{
	struct ftm_enrolment *e, *tmp;

	list_for_each_entry_safe(e, tmp, victims, node) {
		list_del(&e->node);
		mmu_notifier_unregister(&e->mn, e->mn.mm);
		put_pid(e->pid);
		kfree(e);
	}
}

/* ftm_exit_lock held: unlink enrolments whose address space is gone. */
static void ftm_reap(struct list_head *victims)
{
	struct ftm_enrolment *e, *tmp;

	list_for_each_entry_safe(e, tmp, &ftm_enrolments, node)
		if (READ_ONCE(e->released))
			ftm_unlink(e, victims);
}

/* configfs store of hooks/exit/pids: process context, may sleep. */
int ftm_exit_enroll_pid(pid_t nr)
{
	struct task_struct *task;
	struct mm_struct *mm;
	LIST_HEAD(victims);
	struct pid *pid;
	int ret;

	if (nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	task = get_pid_task(pid, PIDTYPE_PID);
	if (!task) {
		put_pid(pid);
		ftm_refuse("exit: no process %d\n", nr);
		return -ESRCH;
	}
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm) {
		put_pid(pid);
		ftm_refuse("exit: process %d has no address space\n", nr);
		return -EINVAL;
	}
	mutex_lock(&ftm_exit_lock);
	ftm_reap(&victims);
	ret = ftm_enroll(mm, pid, nr);
	mutex_unlock(&ftm_exit_lock);
	ftm_drop_unlinked(&victims);
	mmput(mm);
	put_pid(pid);
	if (ret == -EEXIST)
		ftm_refuse("exit: process %d is already enrolled\n", nr);
	return ret;
}

/* configfs store of hooks/exit/pids (-PID): process context, may sleep. */
int ftm_exit_withdraw_pid(pid_t nr)
{
	struct ftm_enrolment *e;
	LIST_HEAD(victims);
	int ret = -ESRCH;

	mutex_lock(&ftm_exit_lock);
	ftm_reap(&victims);
	list_for_each_entry(e, &ftm_enrolments, node) {
		if (e->pid && e->nr == nr) {
			ftm_unlink(e, &victims);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&ftm_exit_lock);
	ftm_drop_unlinked(&victims);
	if (ret)
		ftm_refuse("exit: process %d is not enrolled\n", nr);
	return ret;
}

/* configfs show of hooks/exit/pids: process context, may sleep. */
ssize_t ftm_exit_show_pids(char *page)
{
	struct ftm_enrolment *e;
	int len = 0;

	mutex_lock(&ftm_exit_lock);
	list_for_each_entry(e, &ftm_enrolments, node) {
		if (!e->pid || READ_ONCE(e->released))
			continue;
		len += sysfs_emit_at(page, len, "%d\n", e->nr);
	}
	mutex_unlock(&ftm_exit_lock);
	return len;
}

/* Exported: process context, may sleep; @mm pinned by the caller. */
int flushtm_enroll_mm(struct mm_struct *mm)
{
	LIST_HEAD(victims);
	int ret;

	mutex_lock(&ftm_exit_lock);
	ftm_reap(&victims);
	ret = ftm_enroll(mm, NULL, 0);
	mutex_unlock(&ftm_exit_lock);
	ftm_drop_unlinked(&victims);
	return ret;
}
EXPORT_SYMBOL_GPL(flushtm_enroll_mm);

/* Exported: process context, may sleep. */
void flushtm_withdraw_mm(struct mm_struct *mm)
{
	struct ftm_enrolment *e;
	LIST_HEAD(victims);

	mutex_lock(&ftm_exit_lock);
	list_for_each_entry(e, &ftm_enrolments, node) {
		if (!e->pid && e->mn.mm == mm) {
			ftm_unlink(e, &victims);
			break;
		}
	}
	mutex_unlock(&ftm_exit_lock);
	ftm_drop_unlinked(&victims);
}
EXPORT_SYMBOL_GPL(flushtm_withdraw_mm);

/*
 * Unload (process context): enrol nothing more, drop every enrolment (each
 * unregister waits for the release callbacks in flight, which may still
 * have enrolled a new mm before closing was set: it is on the list too),
 * then wait for the notifiers' deferred frees.
 */
void ftm_exit_exit(void)
{
	struct ftm_enrolment *e, *tmp;
	LIST_HEAD(victims);

	mutex_lock(&ftm_exit_lock);
	ftm_exit_closing = true;
	list_for_each_entry_safe(e, tmp, &ftm_enrolments, node)
		ftm_unlink(e, &victims);
	mutex_unlock(&ftm_exit_lock);
	ftm_drop_unlinked(&victims);
	mmu_notifier_synchronize();
}
