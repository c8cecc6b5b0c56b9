// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only, for the debug kernel: write a word to
 * /sys/kernel/debug/ftm_debug_bugs/trigger and the writing task commits that bug,
 * once, so that tests/debug/checkers.bats can show the checker reporting it:
 *   sleep-in-rcu  mutex_lock() under rcu_read_lock(): DEBUG_ATOMIC_SLEEP
 *                 ("BUG: sleeping function called from invalid context")
 *   lock-order    A then B, later B then A: lockdep
 *                 ("WARNING: possible circular locking dependency detected")
 *   oob-read      a read one byte past a kmalloc'd buffer: KASAN
 *                 ("BUG: KASAN: slab-out-of-bounds")
 *   shift         a shift by more than the width of its type: UBSAN
 *                 ("UBSAN: shift-out-of-bounds")
 *   leak          a kmalloc'd buffer whose only pointer is dropped: kmemleak
 *                 ("unreferenced object")
 * Each runs in process context (the debugfs write) and returns normally: the
 * checkers report and the kernel carries on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static struct dentry *bugs_dir;
static DEFINE_MUTEX(bugs_lock_a);
static DEFINE_MUTEX(bugs_lock_b);
/* Where the bad reads go, so that the compiler keeps them. */
static volatile int bugs_sink;

static noinline void bugs_sleep_in_rcu(void)
{
	rcu_read_lock();
	mutex_lock(&bugs_lock_a);
	mutex_unlock(&bugs_lock_a);
	rcu_read_unlock();
}

static noinline void bugs_lock_order(void)
{
	mutex_lock(&bugs_lock_a);
	mutex_lock(&bugs_lock_b);
	mutex_unlock(&bugs_lock_b);
	mutex_unlock(&bugs_lock_a);

	mutex_lock(&bugs_lock_b);
	mutex_lock(&bugs_lock_a);
	mutex_unlock(&bugs_lock_a);
	mutex_unlock(&bugs_lock_b);
}

static noinline int bugs_oob_read(void)
{
	size_t size = 61;
	volatile char *p = kmalloc(size, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	OPTIMIZER_HIDE_VAR(size);
	bugs_sink = p[size];
	kfree((void *)p);
	return 0;
}

static noinline int bugs_shift(void)
{
	volatile int width = 40;
	int one = 1;

	bugs_sink = one << width;
	return 0;
}

static noinline int bugs_leak(void)
{
	void *volatile p = kmalloc(96, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 96);
	p = NULL;
	return 0;
}

/* Process context (the writing task); may sleep, except where a bug says not. */
static ssize_t trigger_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	char buf[16];
	size_t n = min(count, sizeof(buf) - 1);
	int ret = 0;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	strim(buf);

	pr_info("committing %s in %s[%d]\n", buf, current->comm, task_pid_nr(current));
	if (!strcmp(buf, "sleep-in-rcu"))
		bugs_sleep_in_rcu();
	else if (!strcmp(buf, "lock-order"))
		bugs_lock_order();
	else if (!strcmp(buf, "oob-read"))
		ret = bugs_oob_read();
	else if (!strcmp(buf, "shift"))
		ret = bugs_shift();
	else if (!strcmp(buf, "leak"))
		ret = bugs_leak();
	else
		return -EINVAL;
	return ret ? ret : count;
}

static const struct file_operations trigger_fops = {
	.owner = THIS_MODULE,
	.write = trigger_write,
	.llseek = noop_llseek,
};

/* Module load, process context. */
static int __init bugs_init(void)
{
	bugs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("trigger", 0200, bugs_dir, NULL, &trigger_fops);
	return 0;
}

/* Module unload, process context. */
static void __exit bugs_exit(void)
{
	debugfs_remove_recursive(bugs_dir);
}

module_init(bugs_init);
module_exit(bugs_exit);
MODULE_DESCRIPTION("flushtm tests: bugs for the debug kernel's checkers to report");
MODULE_LICENSE("GPL");
