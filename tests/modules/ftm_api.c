// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: calls flushtm's exported API with whatever the tests write to
 * /sys/kernel/debug/ftm_api/call, so that they can hand it the unaligned
 * and partial ranges a real caller might:
 *   flush START SIZE      flushtm_flush_phys()
 *   aperture START SIZE   flushtm_report_aperture()
 * START and SIZE as kstrtoull base 0 takes them.  The write fails with the
 * call's error, so the shell sees it; each call is logged with its result.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "../../kmod/include/flushtm.h"

static struct dentry *api_dir;

static ssize_t call_write(struct file *file, const char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	char buf[80], *p = buf, *op, *s_start, *s_size;
	unsigned long long start, size;
	size_t n = min(count, sizeof(buf) - 1);
	int ret;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	op = strsep(&p, " ");
	s_start = strsep(&p, " ");
	s_size = strim(p ? p : (char *)"");
	if (!s_start || kstrtoull(s_start, 0, &start) || kstrtoull(s_size, 0, &size))
		return -EINVAL;
	if (!strcmp(op, "flush"))
		ret = flushtm_flush_phys(start, size);
	else if (!strcmp(op, "aperture"))
		ret = flushtm_report_aperture(start, size);
	else
		return -EINVAL;
	pr_info("%s 0x%llx %llu: %d\n", op, start, size, ret);
	return ret ? ret : count;
}

static const struct file_operations call_fops = {
	.owner = THIS_MODULE,
	.write = call_write,
	.llseek = noop_llseek,
};

static int __init api_init(void)
{
	api_dir = debugfs_create_dir("ftm_api", NULL);
	debugfs_create_file("call", 0200, api_dir, NULL, &call_fops);
	return 0;
}

static void __exit api_exit(void)
{
	debugfs_remove_recursive(api_dir);
}

module_init(api_init);
module_exit(api_exit);
MODULE_DESCRIPTION("flushtm tests: call the exported API with any range");
MODULE_LICENSE("GPL");
