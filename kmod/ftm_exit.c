// SPDX-License-Identifier: GPL-2.0
/*
 * The exit hook: an enrolled address space is flushed when it is torn down
 * (mmu_notifier release, called from exit_mmap() in process context).
 * Enrolment is by pid through hooks/exit/pids, or by mm from another
 * module through the exported API.
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

#include "ftm.h"
#include "flushtm.h"

struct ftm_enrolment {
	struct mmu_notifier mn;
	struct list_head node;		/* ftm_enrolments, under ftm_exit_lock */
	pid_t pid;			/* 0: enrolled by mm through the API */
	bool released;			/* the address space is gone */
	bool withdrawing;		/* unregister calls release: don't flush */
};

static LIST_HEAD(ftm_enrolments);
static DEFINE_MUTEX(ftm_exit_lock);

static void ftm_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct ftm_enrolment *e = container_of(mn, struct ftm_enrolment, mn);

	if (READ_ONCE(e->withdrawing))
		return;
	WRITE_ONCE(e->released, true);
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

/* ftm_exit_lock held; unregister may sleep (it waits for SRCU). */
static void ftm_enrolment_drop(struct ftm_enrolment *e)
{
	list_del(&e->node);
	WRITE_ONCE(e->withdrawing, true);
	mmu_notifier_unregister(&e->mn, e->mn.mm);
	kfree(e);
}

/* Forget enrolments whose address space is gone. */
static void ftm_reap(void)
{
	struct ftm_enrolment *e, *tmp;

	list_for_each_entry_safe(e, tmp, &ftm_enrolments, node)
		if (READ_ONCE(e->released))
			ftm_enrolment_drop(e);
}

static int ftm_enroll(struct mm_struct *mm, pid_t pid)
{
	struct ftm_enrolment *e;
	int ret;

	list_for_each_entry(e, &ftm_enrolments, node)
		if (e->mn.mm == mm && !READ_ONCE(e->released))
			return -EEXIST;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->mn.ops = &ftm_enrolment_ops;
	e->pid = pid;
	ret = mmu_notifier_register(&e->mn, mm);
	if (ret) {
		kfree(e);
		return ret;
	}
	list_add_tail(&e->node, &ftm_enrolments);
	return 0;
}

int ftm_exit_enroll_pid(pid_t pid)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *p;
	int ret;

	if (pid <= 0)
		return -EINVAL;
	p = find_get_pid(pid);
	task = get_pid_task(p, PIDTYPE_PID);
	put_pid(p);
	if (!task) {
		ftm_refuse("exit: no process %d\n", pid);
		return -ESRCH;
	}
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm) {
		ftm_refuse("exit: process %d has no address space\n", pid);
		return -EINVAL;
	}
	mutex_lock(&ftm_exit_lock);
	ftm_reap();
	ret = ftm_enroll(mm, pid);
	mutex_unlock(&ftm_exit_lock);
	mmput(mm);
	if (ret == -EEXIST)
		ftm_refuse("exit: process %d is already enrolled\n", pid);
	return ret;
}

int ftm_exit_withdraw_pid(pid_t pid)
{
	struct ftm_enrolment *e;
	int ret = -ESRCH;

	mutex_lock(&ftm_exit_lock);
	ftm_reap();
	list_for_each_entry(e, &ftm_enrolments, node) {
		if (e->pid == pid) {
			ftm_enrolment_drop(e);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&ftm_exit_lock);
	if (ret)
		ftm_refuse("exit: process %d is not enrolled\n", pid);
	return ret;
}

ssize_t ftm_exit_show_pids(char *page)
{
	struct ftm_enrolment *e;
	ssize_t len = 0;

	mutex_lock(&ftm_exit_lock);
	list_for_each_entry(e, &ftm_enrolments, node) {
		if (!e->pid || READ_ONCE(e->released))
			continue;
		len += scnprintf(page + len, PAGE_SIZE - len, "%d\n", e->pid);
	}
	mutex_unlock(&ftm_exit_lock);
	return len;
}

int flushtm_enroll_mm(struct mm_struct *mm)
{
	int ret;

	mutex_lock(&ftm_exit_lock);
	ftm_reap();
	ret = ftm_enroll(mm, 0);
	mutex_unlock(&ftm_exit_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(flushtm_enroll_mm);

void flushtm_withdraw_mm(struct mm_struct *mm)
{
	struct ftm_enrolment *e;

	mutex_lock(&ftm_exit_lock);
	list_for_each_entry(e, &ftm_enrolments, node) {
		if (e->mn.mm == mm) {
			ftm_enrolment_drop(e);
			break;
		}
	}
	mutex_unlock(&ftm_exit_lock);
}
EXPORT_SYMBOL_GPL(flushtm_withdraw_mm);

/* Unload: drop every enrolment, then wait for release callbacks in flight. */
void ftm_exit_exit(void)
{
	struct ftm_enrolment *e, *tmp;

	mutex_lock(&ftm_exit_lock);
	list_for_each_entry_safe(e, tmp, &ftm_enrolments, node)
		ftm_enrolment_drop(e);
	mutex_unlock(&ftm_exit_lock);
	mmu_notifier_synchronize();
}
