// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: write a word to /sys/kernel/debug/ftm_provoke/trigger to make the
 * kernel misbehave in the writing task, so the tests can check what flushtm's
 * hooks do about it.
 *   oops   NULL pointer store: an Oops through the die chain (DIE_OOPS); the
 *          writing task is killed, or the kernel panics with panic_on_oops
 *   warn   WARN(): a warning, which is not an oops and must not count as one
 *   nmi N  an NMI IPI to CPU N only, as the external NMI (LINT1) reaches the
 *          boot CPU only; unclaimed, it arrives as an unknown NMI
 *   nmi-in-walk
 *          the next flush walk of flushtm (a kprobe on ftm_engine_walk, one
 *          shot) gets an NMI sent to its own CPU, which arrives inside it
 *   decorate
 *          decorate smp_ops.stop_other_cpus after whoever did before (as a
 *          second module would); this module then stays loaded for good
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <asm/apic.h>
#include <asm/smp.h>

static struct dentry *provoke_dir;

/* ---- nmi-in-walk: a one-shot self NMI at the start of a walk ---------- */

static atomic_t walk_nmi_armed = ATOMIC_INIT(0);
static bool walk_probe_registered;

static int walk_probe_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (atomic_xchg(&walk_nmi_armed, 0))
		apic->send_IPI_self(NMI_VECTOR);
	return 0;
}

static struct kprobe walk_probe = {
	.symbol_name = "ftm_engine_walk",
	.pre_handler = walk_probe_pre,
};

static int arm_walk_nmi(void)
{
	int ret;

	if (!walk_probe_registered) {
		ret = register_kprobe(&walk_probe);
		if (ret) {
			pr_info("cannot probe ftm_engine_walk (flushtm loaded?): %d\n", ret);
			return ret;
		}
		walk_probe_registered = true;
	}
	atomic_set(&walk_nmi_armed, 1);
	pr_info("the next flushtm walk gets an NMI\n");
	return 0;
}

/* ---- decorate: a second decorator of smp_ops.stop_other_cpus ---------- */

static void (*orig_stop)(int wait);
static bool decorated;

static void provoke_stop_other_cpus(int wait)
{
	orig_stop(wait);
}

static int decorate(void)
{
	void (*stop)(int) = READ_ONCE(smp_ops.stop_other_cpus);

	if (decorated)
		return -EEXIST;
	orig_stop = stop;
	if (cmpxchg(&smp_ops.stop_other_cpus, stop, provoke_stop_other_cpus) != stop)
		return -EBUSY;
	decorated = true;
	/* Whoever decorated before us may restore over us: never unload. */
	__module_get(THIS_MODULE);
	pr_info("smp_ops.stop_other_cpus decorated over %ps\n", stop);
	return 0;
}

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
	} else if (!strncmp(buf, "nmi ", 4)) {
		unsigned int cpu;

		if (kstrtouint(buf + 4, 10, &cpu) || cpu >= nr_cpu_ids || !cpu_online(cpu))
			return -EINVAL;
		pr_info("NMI to CPU %u from CPU %d\n", cpu, raw_smp_processor_id());
		apic->send_IPI(cpu, NMI_VECTOR);
	} else if (!strcmp(buf, "nmi-in-walk")) {
		int ret = arm_walk_nmi();

		if (ret)
			return ret;
	} else if (!strcmp(buf, "decorate")) {
		int ret = decorate();

		if (ret)
			return ret;
	} else {
		pr_info("unknown trigger '%s' (oops, warn, nmi N, nmi-in-walk, decorate)\n", buf);
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
	if (walk_probe_registered)
		unregister_kprobe(&walk_probe);
}

module_init(provoke_init);
module_exit(provoke_exit);
MODULE_DESCRIPTION("flushtm tests: provoke an oops or a warning on demand");
MODULE_LICENSE("GPL");
