// SPDX-License-Identifier: GPL-2.0
/*
 * x86: the nmi hook, wbinvd, and the handshake that has the other CPUs
 * write back their own caches in crash context.
 *
 * The handshake.  wbinvd only writes back the cache of the CPU that
 * executes it, and in crash context (panic, die, nmi) flushtm may not wait
 * on an IPI's completion.  So while a crash hook is armed with a method
 * that may pick cache, an NMI_LOCAL handler is registered on every CPU:
 * ftm_wb_others() (interrupts off, any context, NMI included) takes the
 * handshake with a cmpxchg (a second caller, e.g. a panic racing an oops on
 * another CPU, does not share it), marks the other online CPUs pending,
 * sends them an NMI, and waits up to FTM_WB_WAIT_US for each to run wbinvd
 * in that handler and clear its bit.  It runs only when the flush is about
 * to pick cache: with lines it is never needed (clwb/clflush act on every
 * cache of the coherence domain).
 *
 * An external NMI (a BMC's button) reaches the boot CPU only
 * (apic_extnmi=bsp, the default), so the nmi hook cannot count on the
 * other CPUs seeing it: when it picks cache, it runs the handshake.
 *
 * At panic, panic() stops the other CPUs (smp_send_stop(), or
 * crash_smp_send_stop() with crash_kexec_post_notifiers) before it runs
 * the panic notifiers, so while the panic hook is armed with a method that
 * may pick cache, smp_ops.stop_other_cpus and smp_ops.crash_stop_other_cpus
 * are decorated to run the handshake first.  The window: between a CPU's
 * ack and its halt it may dirty lines again; lines has no such window.
 *
 * The decoration is installed and removed with cmpxchg (fully ordered: the
 * saved original is visible before our function is).  If someone decorated
 * the pointer after us, ours stays reachable through their copy: then it is
 * left in place, passing straight through to the original while disarmed,
 * the module pins itself (it can no longer be unloaded safely), and a later
 * arm only turns it back on (installing it again would make it call
 * itself).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cc_platform.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kexec.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>

#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/nmi.h>
#include <asm/processor.h>
#include <asm/smp.h>
#include <asm/special_insns.h>

#include "ftm.h"
#include "ftm_arch_ops.h"

#define FTM_WB_WAIT_US		(100 * USEC_PER_MSEC)
/* NMIs this close to the one that flushed are the same external event. */
#define FTM_NMI_BURST_NS	NSEC_PER_SEC

/* wbinvd run by flushtm on each CPU (debugfs flushtm/cache_writebacks). */
static DEFINE_PER_CPU(unsigned long, ftm_wb_count);
static bool ftm_cache_usable;

u64 ftm_arch_llc_bytes(void)
{
	/* x86_cache_size is in KB; -1 when unknown.  On AMD it is the L2. */
	return boot_cpu_data.x86_cache_size > 0 ? (u64)boot_cpu_data.x86_cache_size << 10 : 0;
}

bool ftm_arch_has_cache(void)
{
	return ftm_cache_usable;
}

/* This CPU, any context. */
static void ftm_wbinvd_here(void)
{
	native_wbinvd();
	this_cpu_inc(ftm_wb_count);
}

void ftm_arch_cache_local(void)
{
	ftm_wbinvd_here();
}

static void ftm_wbinvd_ipi(void *unused)
{
	ftm_wbinvd_here();
}

/* Process context, cpus_read_lock() held by the caller. */
void ftm_arch_cache_all(void)
{
	on_each_cpu(ftm_wbinvd_ipi, NULL, 1);
}

/* ---- the handshake --------------------------------------------------- */

static struct cpumask ftm_wb_pending;
static atomic_t ftm_wb_owner = ATOMIC_INIT(-1);
static atomic_t ftm_wb_request = ATOMIC_INIT(0);
static bool ftm_wb_armed;		/* READ_ONCE in crash context */

/* NMI_LOCAL, every CPU: answer a pending request, else let others look. */
static int ftm_wb_nmi(unsigned int type, struct pt_regs *regs)
{
	int cpu = smp_processor_id();

	if (ftm_split_answer())
		return NMI_HANDLED;
	if (!atomic_read(&ftm_wb_request))
		return NMI_DONE;
	smp_rmb();	/* the request was published after the mask */
	if (!cpumask_test_cpu(cpu, &ftm_wb_pending))
		return NMI_DONE;
	ftm_wbinvd_here();
	smp_mb__before_atomic();
	cpumask_clear_cpu(cpu, &ftm_wb_pending);
	return NMI_HANDLED;
}

/*
 * Crash context, interrupts off: ask every other online CPU to wbinvd and
 * wait for each (bounded).  Returns without waiting when the handshake is
 * not armed or another CPU holds it.
 */
static void ftm_wb_others(const char *why)
{
	int cpu = smp_processor_id();
	unsigned int waited;

	if (!READ_ONCE(ftm_wb_armed) || atomic_cmpxchg(&ftm_wb_owner, -1, cpu) != -1)
		return;
	cpumask_copy(&ftm_wb_pending, cpu_online_mask);
	cpumask_clear_cpu(cpu, &ftm_wb_pending);
	if (!cpumask_empty(&ftm_wb_pending)) {
		smp_mb();	/* the mask before the request */
		atomic_set(&ftm_wb_request, 1);
		smp_mb();	/* the request before the NMIs */
		apic->send_IPI_mask(&ftm_wb_pending, NMI_VECTOR);
		for (waited = 0; waited < FTM_WB_WAIT_US && !cpumask_empty(&ftm_wb_pending);
		     waited++)
			udelay(1);
		atomic_set(&ftm_wb_request, 0);
		smp_mb();
		if (!cpumask_empty(&ftm_wb_pending))
			pr_emerg("%s: CPUs %*pbl did not write back their caches\n", why,
				 cpumask_pr_args(&ftm_wb_pending));
	}
	atomic_set_release(&ftm_wb_owner, -1);
}

void ftm_arch_cache_crash(const char *why)
{
	ftm_wb_others(why);
	ftm_wbinvd_here();
}

/*
 * The handler serves both requests: wbinvd (while the method may pick
 * cache) and a part of a split line walk (ftm_split_answer()).
 */
static bool ftm_nmi_registered;

int ftm_arch_cache_others_arm(void)
{
	int ret = register_nmi_handler(NMI_LOCAL, ftm_wb_nmi, 0, "flushtm");

	if (!ret) {
		WRITE_ONCE(ftm_wb_armed, true);
		WRITE_ONCE(ftm_nmi_registered, true);
	}
	return ret;
}

/* unregister_nmi_handler() waits for handlers in flight. */
void ftm_arch_cache_others_disarm(void)
{
	WRITE_ONCE(ftm_wb_armed, false);
	WRITE_ONCE(ftm_nmi_registered, false);
	unregister_nmi_handler(NMI_LOCAL, "flushtm");
}

/* ---- the split crash flush -------------------------------------------- */

bool ftm_arch_split_ready(void)
{
	return READ_ONCE(ftm_nmi_registered);
}

/* Crash context: the NMI that makes each of @cpus run ftm_split_answer(). */
void ftm_arch_split_kick(const struct cpumask *cpus)
{
	apic->send_IPI_mask(cpus, NMI_VECTOR);
}

/* ---- nmi hook -------------------------------------------------------- */

static atomic_t ftm_nmi_owner = ATOMIC_INIT(-1);
static atomic64_t ftm_nmi_last = ATOMIC64_INIT(0);

bool ftm_arch_has_nmi(void)
{
	return true;
}

/*
 * NMI context: an NMI nobody claimed (the BMC's button, which reaches CPU 0
 * only; QEMU's inject-nmi, sent to every CPU).  One CPU flushes the set and
 * counts the event; with cache, the flush brings every other CPU along
 * through the handshake.  CPUs that see the same NMI do nothing more.
 * Returns NMI_DONE so the kernel still reports the unknown NMI and honours
 * unknown_nmi_panic exactly as without flushtm.
 */
static int ftm_nmi_unknown(unsigned int type, struct pt_regs *regs)
{
	int cpu = smp_processor_id();
	u64 now = ktime_get_mono_fast_ns();
	u64 last = atomic64_read(&ftm_nmi_last);

	if (last && now - last < FTM_NMI_BURST_NS)
		return NMI_DONE;
	if (atomic_cmpxchg(&ftm_nmi_owner, -1, cpu) != -1)
		return NMI_DONE;
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

/* ---- the decorated stop path ----------------------------------------- */

static void (*ftm_orig_stop)(int wait);
static void (*ftm_orig_crash_stop)(void);
static bool ftm_stop_in, ftm_crash_stop_in;	/* our function is reachable */
static bool ftm_stop_active;			/* READ_ONCE in the decorators */
static bool ftm_pinned;

/*
 * A panic stops the other CPUs here: with cache they write back their own
 * caches first; with lines the panic hook's flush runs here, split over
 * them (ftm_flush_crash_stop()), and the notifier does not flush again.
 * Through crash_stop_other_cpus a loaded kdump kernel may be next (a
 * kernel without crash_kexec_post_notifiers jumps to it before the panic
 * notifiers, and which path called is not visible to a module): there the
 * lines flush is left to the notifier, as without the split, so kdump's
 * ordering does not change.
 */
static void ftm_stop_handshake(bool crash)
{
	if (!READ_ONCE(ftm_stop_active) || !oops_in_progress)
		return;
	if (ftm_flush_crash_uses_cache(FTM_HOOK_PANIC))
		ftm_wb_others("panic");
	else if (!crash || !kexec_crash_loaded())
		ftm_flush_crash_stop(FTM_HOOK_PANIC);
}

/* The panicking CPU, interrupts off. */
static void ftm_stop_other_cpus(int wait)
{
	ftm_stop_handshake(false);
	ftm_orig_stop(wait);
}

static void ftm_crash_stop_other_cpus(void)
{
	ftm_stop_handshake(true);
	ftm_orig_crash_stop();
}

int ftm_arch_panic_cache_arm(void)
{
	if (!ftm_stop_in) {
		void (*stop)(int) = READ_ONCE(smp_ops.stop_other_cpus);

		ftm_orig_stop = stop;
		if (cmpxchg(&smp_ops.stop_other_cpus, stop, ftm_stop_other_cpus) != stop)
			return -EBUSY;
		ftm_stop_in = true;
	}
	if (!ftm_crash_stop_in && READ_ONCE(smp_ops.crash_stop_other_cpus)) {
		void (*stop)(void) = READ_ONCE(smp_ops.crash_stop_other_cpus);

		ftm_orig_crash_stop = stop;
		if (cmpxchg(&smp_ops.crash_stop_other_cpus, stop, ftm_crash_stop_other_cpus) == stop)
			ftm_crash_stop_in = true;
	}
	WRITE_ONCE(ftm_stop_active, true);
	return 0;
}

/* Someone decorated over us: our function must outlive the module's unload. */
static void ftm_stop_left_in(const char *op)
{
	pr_warn("smp_ops.%s was decorated after flushtm: left in place (passing through while disarmed); flushtm stays loaded\n",
		op);
	if (!ftm_pinned) {
		__module_get(THIS_MODULE);
		ftm_pinned = true;
	}
}

/*
 * Restore the originals where the pointer is still ours; the grace period
 * lets a caller that read our pointer with interrupts off finish.
 */
void ftm_arch_panic_cache_disarm(void)
{
	bool restored = false;

	WRITE_ONCE(ftm_stop_active, false);
	if (ftm_stop_in) {
		if (cmpxchg(&smp_ops.stop_other_cpus, ftm_stop_other_cpus, ftm_orig_stop) ==
		    ftm_stop_other_cpus) {
			ftm_stop_in = false;
			restored = true;
		} else {
			ftm_stop_left_in("stop_other_cpus");
		}
	}
	if (ftm_crash_stop_in) {
		if (cmpxchg(&smp_ops.crash_stop_other_cpus, ftm_crash_stop_other_cpus,
			    ftm_orig_crash_stop) == ftm_crash_stop_other_cpus) {
			ftm_crash_stop_in = false;
			restored = true;
		} else {
			ftm_stop_left_in("crash_stop_other_cpus");
		}
	}
	if (restored)
		synchronize_rcu();
}

/* ---- debugfs: what each CPU wrote back ------------------------------- */

static int ftm_wb_count_show(struct seq_file *m, void *v)
{
	int cpu;

	for_each_online_cpu(cpu)
		seq_printf(m, "%d %lu\n", cpu, per_cpu(ftm_wb_count, cpu));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ftm_wb_count);

/*
 * Load, process context.  wbinvd raises #VE in a TDX guest, and in any
 * guest whose memory is encrypted the host cannot be asked to write back
 * for it: there method cache is unavailable.
 */
void ftm_arch_init(void)
{
	ftm_cache_usable = !cpu_feature_enabled(X86_FEATURE_TDX_GUEST) &&
			   !cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT);
	/* In the module's directory, removed with it (ftm_debugfs_exit()). */
	debugfs_create_file("cache_writebacks", 0444, ftm_debugfs_dir, NULL, &ftm_wb_count_fops);
}

void ftm_arch_exit(void)
{
}
