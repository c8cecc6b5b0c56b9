// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: write a word to /sys/kernel/debug/ftm_provoke/trigger to make the
 * kernel misbehave in the writing task, so the tests can check what flushtm's
 * hooks do about it.
 *   oops   NULL pointer store: an Oops through the die chain (DIE_OOPS); the
 *          writing task is killed, or the kernel panics with panic_on_oops
 *   warn   WARN(): a warning, which is not an oops and must not count as one
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static struct dentry *provoke_dir;

/* Out of line and through a volatile pointer so that the store really happens. */
static noinline void provoke_null_store(void)
{
	int *volatile p = NULL;

	*p = 0x0f7;
}

static ssize_t trigger_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	char buf[16];
	size_t n = min(count, sizeof(buf) - 1);

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	strim(buf);

	if (!strcmp(buf, "oops")) {
		pr_info("provoking an oops in %s[%d]\n", current->comm, task_pid_nr(current));
		provoke_null_store();
	} else if (!strcmp(buf, "warn")) {
		WARN(1, "ftm_provoke: warning on request\n");
	} else {
		pr_info("unknown trigger '%s' (oops, warn)\n", buf);
		return -EINVAL;
	}
	return count;
}

static const struct file_operations trigger_fops = {
	.owner = THIS_MODULE,
	.write = trigger_write,
	.llseek = noop_llseek,
};

static int __init provoke_init(void)
{
	provoke_dir = debugfs_create_dir("ftm_provoke", NULL);
	debugfs_create_file("trigger", 0200, provoke_dir, NULL, &trigger_fops);
	return 0;
}

static void __exit provoke_exit(void)
{
	debugfs_remove_recursive(provoke_dir);
}

module_init(provoke_init);
module_exit(provoke_exit);
MODULE_DESCRIPTION("flushtm tests: provoke an oops or a warning on demand");
MODULE_LICENSE("GPL");
