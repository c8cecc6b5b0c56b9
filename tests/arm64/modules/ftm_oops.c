// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the arm64 suites: an oops on demand (Debian's arm64
 * kernel has no LKDTM, and tests/modules/ftm_provoke.ko is x86's).
 *   echo oops > /sys/kernel/debug/ftm_oops/trigger
 * dereferences a bad pointer in the writer's context: the die notifier
 * runs (flushtm's die hook), the writer is killed, the kernel goes on
 * (panic_on_oops is 0).  Process context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/string.h>

static struct dentry *ftm_oops_dir;

static ssize_t ftm_oops_write(struct file *file, const char __user *buf, size_t count,
			      loff_t *ppos)
{
	char cmd[8] = "";

	if (count >= sizeof(cmd) || copy_from_user(cmd, buf, count))
		return -EINVAL;
	if (strncmp(cmd, "oops", 4))
		return -EINVAL;
	pr_info("oops on request\n");
	*(volatile int *)(unsigned long)0x10 = 1;
	return count;
}

static const struct file_operations ftm_oops_fops = {
	.owner = THIS_MODULE,
	.write = ftm_oops_write,
};

static int __init ftm_oops_init(void)
{
	ftm_oops_dir = debugfs_create_dir("ftm_oops", NULL);
	debugfs_create_file("trigger", 0200, ftm_oops_dir, NULL, &ftm_oops_fops);
	return 0;
}

static void __exit ftm_oops_exit(void)
{
	debugfs_remove_recursive(ftm_oops_dir);
}

module_init(ftm_oops_init);
module_exit(ftm_oops_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("flushtm test: an oops on demand");
