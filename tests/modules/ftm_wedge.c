// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: wedge one CPU so that the split crash flush of flushtm has a
 * CPU that cannot help it in the ordinary way.  Write to
 * /sys/kernel/debug/ftm_wedge/wedge:
 *   irqoff N  a kthread bound to CPU N spins with interrupts off (NMIs are
 *             still taken): the stop IPI cannot reach it, an NMI can
 *   nmi N     CPU N is sent an NMI whose handler (first in the chain) spins:
 *             NMIs do not nest, so CPU N answers no NMI until it returns
 * The write returns once CPU N is spinning; with a third word, "panic", it
 * panics then instead, from the writing task (a wedged CPU answers no IPI,
 * so the next system call that needs one, a TLB shootdown on exit say,
 * would wait for it).  Either wedge ends by itself
 * after WEDGE_SECONDS (the tests panic the guest long before), so a guest
 * that does not panic is not left with a dead CPU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/nmi.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <asm/apic.h>
#include <asm/nmi.h>

#define WEDGE_SECONDS	120

static struct dentry *wedge_dir;
static atomic_t wedge_nmi_cpu = ATOMIC_INIT(-1);	/* the CPU whose next NMI spins */
static atomic_t wedge_spinning = ATOMIC_INIT(0);
static bool wedge_nmi_registered;

/* Spin WEDGE_SECONDS with whatever is masked now; any context. */
static void wedge_spin(void)
{
	unsigned long ms;

	atomic_set(&wedge_spinning, 1);
	for (ms = 0; ms < WEDGE_SECONDS * MSEC_PER_SEC; ms++) {
		mdelay(1);
		touch_nmi_watchdog();
	}
	atomic_set(&wedge_spinning, 0);
}

/* NMI, first in the NMI_LOCAL chain. */
static int wedge_nmi(unsigned int type, struct pt_regs *regs)
{
	if (atomic_read(&wedge_nmi_cpu) != smp_processor_id() ||
	    atomic_cmpxchg(&wedge_nmi_cpu, smp_processor_id(), -1) != smp_processor_id())
		return NMI_DONE;
	pr_info("cpu %d spins in an NMI handler\n", smp_processor_id());
	wedge_spin();
	return NMI_HANDLED;
}

/* A kthread bound to its CPU. */
static int wedge_irqoff_fn(void *unused)
{
	pr_info("cpu %d spins with interrupts off\n", smp_processor_id());
	local_irq_disable();
	wedge_spin();
	local_irq_enable();
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static struct task_struct *wedge_task;

static int wedge_wait_spinning(void)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (atomic_read(&wedge_spinning))
			return 0;
		msleep(1);
	}
	return -ETIMEDOUT;
}

/* Process context. */
static ssize_t wedge_write(struct file *f, const char __user *ubuf, size_t len, loff_t *pos)
{
	char buf[32], how[8], then[8] = "";
	unsigned int cpu;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%7s %u %7s", how, &cpu, then) < 2 || cpu >= nr_cpu_ids ||
	    !cpu_online(cpu) || (then[0] && strcmp(then, "panic")))
		return -EINVAL;
	if (atomic_read(&wedge_spinning) || wedge_task)
		return -EBUSY;
	if (!strcmp(how, "irqoff")) {
		wedge_task = kthread_create_on_cpu(wedge_irqoff_fn, NULL, cpu, "ftm_wedge/%u");
		if (IS_ERR(wedge_task)) {
			ret = PTR_ERR(wedge_task);
			wedge_task = NULL;
			return ret;
		}
		wake_up_process(wedge_task);
	} else if (!strcmp(how, "nmi")) {
		if (!wedge_nmi_registered) {
			ret = register_nmi_handler(NMI_LOCAL, wedge_nmi, NMI_FLAG_FIRST, "ftm_wedge");
			if (ret)
				return ret;
			wedge_nmi_registered = true;
		}
		atomic_set(&wedge_nmi_cpu, cpu);
		apic->send_IPI_mask(cpumask_of(cpu), NMI_VECTOR);
	} else {
		return -EINVAL;
	}
	ret = wedge_wait_spinning();
	if (!ret && then[0])
		panic("ftm_wedge: cpu %u wedged (%s)", cpu, how);
	return ret ? ret : len;
}

static const struct file_operations wedge_fops = {
	.owner = THIS_MODULE,
	.write = wedge_write,
};

static int __init wedge_init(void)
{
	wedge_dir = debugfs_create_dir("ftm_wedge", NULL);
	debugfs_create_file("wedge", 0200, wedge_dir, NULL, &wedge_fops);
	return 0;
}

/* Unload waits for the wedge to end (the tests never unload it while it spins). */
static void __exit wedge_exit(void)
{
	debugfs_remove_recursive(wedge_dir);
	if (wedge_task)
		kthread_stop(wedge_task);
	if (wedge_nmi_registered)
		unregister_nmi_handler(NMI_LOCAL, "ftm_wedge");
}

module_init(wedge_init);
module_exit(wedge_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("flushtm tests: wedge a CPU with interrupts off or inside an NMI handler");
