// SPDX-License-Identifier: GPL-2.0
/*
 * x86: the nmi hook, wbinvd, and the panic handshake that has the other
 * CPUs write back their own caches before panic stops them.
 *
 * Panic handshake.  panic() stops the other CPUs (smp_send_stop(), or
 * crash_smp_send_stop() with crash_kexec_post_notifiers) before it runs
 * the panic notifiers, and wbinvd only writes back the cache of the CPU
 * that executes it.  So while the panic hook is armed with a method that
 * may pick cache, smp_ops.stop_other_cpus and smp_ops.crash_stop_other_cpus
 * are decorated: when an oops or panic is in progress, the decorator marks
 * the other online CPUs pending, sends them an NMI, and waits up to
 * FTM_WB_WAIT_US for each to run wbinvd in its NMI_LOCAL handler and clear
 * its bit; then it calls the original.  The window: between a CPU's ack and
 * its halt it may dirty lines again (it returns from the NMI to what it
 * was running until the stop IPI/NMI arrives); lines method has no such
 * window because clwb/clflush act on every cache of the coherence domain.
 * The NMI_LOCAL handler does nothing unless a request is pending, so
 * perf/watchdog NMIs pay one load.  The original pointers are restored at
 * disarm and unload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>

#include <asm/apic.h>
#include <asm/nmi.h>
#include <asm/processor.h>
#include <asm/smp.h>
#include <asm/special_insns.h>

#include "ftm.h"
#include "ftm_arch_ops.h"

#define FTM_WB_WAIT_US		(100 * USEC_PER_MSEC)
/* NMIs this close to the one that flushed are the same external event. */
#define FTM_NMI_BURST_NS	NSEC_PER_SEC

u64 ftm_arch_llc_bytes(void)
{
	/* x86_cache_size is in KB; -1 when unknown. */
	return boot_cpu_data.x86_cache_size > 0 ? (u64)boot_cpu_data.x86_cache_size << 10 : 0;
}

bool ftm_arch_has_cache(void)
{
	return true;
}

void ftm_arch_cache_local(void)
{
	native_wbinvd();
}

void ftm_arch_cache_all(void)
{
	wbinvd_on_all_cpus();
}

/* ---- nmi hook -------------------------------------------------------- */

static atomic_t ftm_nmi_owner = ATOMIC_INIT(-1);
static atomic64_t ftm_nmi_last = ATOMIC64_INIT(0);

bool ftm_arch_has_nmi(void)
{
	return true;
}

/*
 * An NMI nobody claimed: the BMC's button, QEMU's inject-nmi (sent to every
 * CPU).  One CPU flushes the set and counts the event; the others that see
 * the same NMI only write back their own cache when the method is cache.
 * Returns NMI_DONE so the kernel still reports the unknown NMI and honours
 * unknown_nmi_panic exactly as without flushtm.
 */
static int ftm_nmi_unknown(unsigned int type, struct pt_regs *regs)
{
	int cpu = smp_processor_id();
	u64 now = ktime_get_mono_fast_ns();
	u64 last = atomic64_read(&ftm_nmi_last);
	bool burst = last && now - last < FTM_NMI_BURST_NS;

	if (burst || atomic_cmpxchg(&ftm_nmi_owner, -1, cpu) != -1) {
		if (READ_ONCE(ftm_method) == FTM_METHOD_CACHE)
			native_wbinvd();
		return NMI_DONE;
	}
	atomic64_set(&ftm_nmi_last, now);
	ftm_flush_crash(FTM_HOOK_NMI);
	atomic_set(&ftm_nmi_owner, -1);
	return NMI_DONE;
}

int ftm_arch_nmi_arm(void)
{
	return register_nmi_handler(NMI_UNKNOWN, ftm_nmi_unknown, 0, "flushtm");
}

void ftm_arch_nmi_disarm(void)
{
	unregister_nmi_handler(NMI_UNKNOWN, "flushtm");
}

/* ---- panic handshake ------------------------------------------------- */

static struct cpumask ftm_wb_pending;
static atomic_t ftm_wb_request = ATOMIC_INIT(0);
static void (*ftm_orig_stop)(int wait);
static void (*ftm_orig_crash_stop)(void);

static int ftm_wb_nmi(unsigned int type, struct pt_regs *regs)
{
	int cpu = smp_processor_id();

	if (!atomic_read(&ftm_wb_request) || !cpumask_test_cpu(cpu, &ftm_wb_pending))
		return NMI_DONE;
	native_wbinvd();
	cpumask_clear_cpu(cpu, &ftm_wb_pending);
	return NMI_HANDLED;
}

/* Panicking CPU, interrupts off: ask the others to wbinvd, bounded wait. */
static void ftm_wb_others(void)
{
	unsigned int waited;

	if (!oops_in_progress)
		return;
	cpumask_copy(&ftm_wb_pending, cpu_online_mask);
	cpumask_clear_cpu(smp_processor_id(), &ftm_wb_pending);
	if (cpumask_empty(&ftm_wb_pending))
		return;
	atomic_set(&ftm_wb_request, 1);
	smp_mb__after_atomic();
	apic->send_IPI_mask(&ftm_wb_pending, NMI_VECTOR);
	for (waited = 0; waited < FTM_WB_WAIT_US && !cpumask_empty(&ftm_wb_pending); waited++)
		udelay(1);
	atomic_set(&ftm_wb_request, 0);
	if (!cpumask_empty(&ftm_wb_pending))
		pr_emerg("panic: CPUs %*pbl did not write back their caches\n",
			 cpumask_pr_args(&ftm_wb_pending));
}

static void ftm_stop_other_cpus(int wait)
{
	ftm_wb_others();
	ftm_orig_stop(wait);
}

static void ftm_crash_stop_other_cpus(void)
{
	ftm_wb_others();
	ftm_orig_crash_stop();
}

int ftm_arch_panic_cache_arm(void)
{
	int ret;

	ret = register_nmi_handler(NMI_LOCAL, ftm_wb_nmi, 0, "flushtm");
	if (ret)
		return ret;
	ftm_orig_stop = smp_ops.stop_other_cpus;
	ftm_orig_crash_stop = smp_ops.crash_stop_other_cpus;
	WRITE_ONCE(smp_ops.stop_other_cpus, ftm_stop_other_cpus);
	if (ftm_orig_crash_stop)
		WRITE_ONCE(smp_ops.crash_stop_other_cpus, ftm_crash_stop_other_cpus);
	return 0;
}

/*
 * Restore the originals only if nobody decorated them after us; the grace
 * period lets a caller that read our pointer with interrupts off finish.
 */
void ftm_arch_panic_cache_disarm(void)
{
	if (smp_ops.stop_other_cpus == ftm_stop_other_cpus)
		WRITE_ONCE(smp_ops.stop_other_cpus, ftm_orig_stop);
	else
		pr_warn("smp_ops.stop_other_cpus changed under us; left as is\n");
	if (ftm_orig_crash_stop && smp_ops.crash_stop_other_cpus == ftm_crash_stop_other_cpus)
		WRITE_ONCE(smp_ops.crash_stop_other_cpus, ftm_orig_crash_stop);
	synchronize_rcu();
	unregister_nmi_handler(NMI_LOCAL, "flushtm");
}

int ftm_arch_init(void)
{
	return 0;
}

void ftm_arch_exit(void)
{
}
