// SPDX-License-Identifier: GPL-2.0
/*
 * flushtm: flush registered NVM ranges out of the CPU caches when the
 * machine or an address space goes away.
 *
 * CONTEXTS, AND WHAT EACH MAY DO
 *
 * Process context (configfs writes, exported API, reboot/kexec notifier,
 * exit via mmu_notifier release, manual and aperture flushes): may sleep,
 * allocate, take mutexes.  Configuration changes take ftm_cfg_lock.  A
 * range is memremap()ed (write-back) here, when it is enabled, after the
 * resource tree says it lies wholly in System RAM or persistent memory.
 * Flushes here take cpus_read_lock() then ftm_flush_lock, walk the live
 * set, and split a large walk over the online CPUs (per-CPU work items,
 * each part fenced on its CPU); cache method writes back the whole cache
 * of every CPU (where the arch has it: ftm_arch_has_cache()).
 *
 * cpu_offline (cpuhp teardown, on the dying CPU, hotplug lock held for
 * write): reads the set under rcu_read_lock(), walks it on this CPU only;
 * takes no mutex (a split flush waiting for cpus_read_lock() while holding
 * one would deadlock) and never splits; cache method: this CPU's whole
 * cache, which is the cache going away.
 *
 * Panic (notifier, other CPUs stopped, interrupts off), die (DIE_OOPS
 * notifier) and NMI (unknown-NMI handler): no lock, no allocation, no IPI,
 * no sleeping.  They read the published set with rcu_read_lock() (safe in
 * NMI), walk it on this CPU, fence once, bump atomic64 counters, take the
 * time with ktime_get_mono_fast_ns() (NMI safe) and printk (deferred in
 * NMI).  The set they read is immutable: a change builds a new one,
 * publishes it with rcu_assign_pointer(), and frees the old one and unmaps
 * a withdrawn range only after synchronize_rcu().
 *
 * CACHES OF OTHER CPUS
 *
 * Method lines (the arch's line write back, arch/<arch>/ftm_arch.h) acts
 * on the whole coherence domain: one CPU writing back a line writes it
 * back from whichever cache holds it, so lines needs no help from other
 * CPUs.  Method cache (a whole-cache write back, where the arch has one)
 * only reaches the executing CPU's cache.  In process context flushtm
 * runs it on every CPU.  At panic the other CPUs are stopped before the
 * panic notifiers run, so while the panic hook is armed with a method
 * that may pick cache, the arch makes the other CPUs write back their own
 * caches before they stop (ftm_arch_panic_cache_arm(): a bounded
 * handshake, then the original stop).  A CPU may dirty lines between its
 * acknowledgement and its halt; lines has no such window, which is one
 * more reason auto prefers lines below cache_threshold.  die and nmi
 * write back the cache of the CPU they run on (other CPUs stay up after
 * an oops; an external NMI reaches every CPU, and each writes back its
 * own cache).
 *
 * UNLOAD
 *
 * configfs pins the module while ranges exist.  Exit disarms every hook
 * (each unregister waits for callbacks in flight), withdraws enrolled
 * address spaces and waits with mmu_notifier_synchronize(), then drops the
 * (empty) published set after a grace period.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cacheinfo.h>
#include <linux/cpu.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/ratelimit.h>

#include "ftm.h"
#include "ftm_arch_ops.h"
#include "flushtm.h"

/*
 * Default cache_threshold = max(FTM_AUTO_LLC_FACTOR * LLC bytes,
 * FTM_THRESHOLD_MIN).  The factor and its reasoning come from the engine's
 * measurements (ftm_engine.h).  The floor: below 256 MiB a line walk takes
 * under ~10 ms on one CPU, too little to be worth emptying every cache and
 * the NMI handshake at a panic; it is also the value when the LLC size is
 * unknown.
 */
#define FTM_THRESHOLD_MIN	(256ULL << 20)

int ftm_method = FTM_METHOD_AUTO;
u64 ftm_cache_threshold;
DEFINE_MUTEX(ftm_cfg_lock);
DEFINE_RATELIMIT_STATE(ftm_log_rs, HZ, 50);

/* Process context (flushtm.h): the range is rounded out to whole lines. */
int flushtm_flush_phys(phys_addr_t phys, size_t size)
{
	return ftm_flush_phys_range(FTM_HOOK_NONE, phys, size, true, NULL);
}
EXPORT_SYMBOL_GPL(flushtm_flush_phys);

/*
 * Process context (flushtm.h): every enabled range that reaches into the
 * window, rounded out to whole lines, is flushed (aperture) and withdrawn.
 */
int flushtm_report_aperture(phys_addr_t phys, size_t size)
{
	const u64 line = ftm_engine_line_size();
	u64 end;

	if (!size || check_add_overflow((u64)phys, (u64)size, &end) ||
	    end > U64_MAX - (line - 1))
		return -EINVAL;
	return ftm_ranges_withdraw_window(round_down(phys, line), round_up(end, line));
}
EXPORT_SYMBOL_GPL(flushtm_report_aperture);

struct ftm_llc {
	u64 bytes;
	unsigned int level;
};

static int ftm_llc_leaf(struct device *dev, void *data)
{
	const struct cacheinfo *ci = dev_get_drvdata(dev);
	struct ftm_llc *llc = data;

	/* (a leaf of size 0: a level the firmware describes without a size) */
	if (ci && (ci->type == CACHE_TYPE_UNIFIED || ci->type == CACHE_TYPE_DATA) &&
	    ci->size && ci->level > llc->level) {
		llc->level = ci->level;
		llc->bytes = ci->size;
	}
	return 0;
}

static int ftm_is_cache_dir(struct device *dev, void *data)
{
	return !strcmp(dev_name(dev), "cache");
}

/*
 * Load, process context.  The last-level cache of the CPU we load on, from
 * cacheinfo, the source of /sys/devices/system/cpu/cpuN/cache/ (each
 * indexN device's driver data is its struct cacheinfo; the cacheinfo
 * lookups themselves are not exported): the highest level that holds data.
 * What the CPU itself reports (ftm_arch_llc_bytes()) is only the fallback:
 * on some CPUs it is not the last level.
 */
static u64 ftm_llc_bytes(unsigned int *level)
{
	struct ftm_llc llc = { 0 };
	struct device *cpu_dev, *cache_dev;

	cpus_read_lock();
	cpu_dev = get_cpu_device(raw_smp_processor_id());
	cache_dev = cpu_dev ? device_find_child(cpu_dev, NULL, ftm_is_cache_dir) : NULL;
	if (cache_dev) {
		device_for_each_child(cache_dev, &llc, ftm_llc_leaf);
		put_device(cache_dev);
	}
	cpus_read_unlock();
	*level = llc.level;
	return llc.bytes ? llc.bytes : ftm_arch_llc_bytes();
}

static void ftm_log_loaded(void)
{
	char buf[128];
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < FTM_NR_HOOKS; i++)
		if (ftm_hooks[i].available)
			len += scnprintf(buf + len, sizeof(buf) - len, "%s%s",
					 len ? " " : "", ftm_hooks[i].name);
	pr_info("loaded, interface %d, hooks: %s\n", FTM_INTERFACE_VERSION, buf);
}

static int __init flushtm_init(void)
{
	unsigned int level;
	u64 llc;
	int ret;

	ftm_debugfs_init();
	ftm_engine_init();
	llc = ftm_llc_bytes(&level);
	ftm_cache_threshold = max(llc * FTM_AUTO_LLC_FACTOR, FTM_THRESHOLD_MIN);

	ftm_arch_init();
	ftm_flush_init();
	ftm_hooks_init();
	ret = ftm_ranges_init();
	if (ret) {
		pr_err("cannot register the memory notifier: %d\n", ret);
		goto err_arch;
	}
	ret = ftm_configfs_init();
	if (ret) {
		pr_err("cannot register configfs subsystem: %d\n", ret);
		goto err_ranges;
	}
	ftm_log_loaded();
	pr_info("lines: write back %s, invalidate %s, %u-byte lines\n",
		ftm_engine_insn(FTM_LINE_WRITEBACK), ftm_engine_insn(FTM_LINE_INVALIDATE),
		ftm_engine_line_size());
	if (level)
		pr_info("last-level cache: L%u, %llu bytes (cacheinfo); cache_threshold %llu\n",
			level, llc, ftm_cache_threshold);
	else
		pr_info("last-level cache: %llu bytes (CPU, no cacheinfo); cache_threshold %llu\n",
			llc, ftm_cache_threshold);
	return 0;

err_ranges:
	ftm_ranges_exit();
err_arch:
	ftm_hooks_exit();
	ftm_arch_exit();
	ftm_debugfs_exit();
	return ret;
}

static void __exit flushtm_exit(void)
{
	ftm_debugfs_exit();
	ftm_configfs_exit();
	ftm_hooks_exit();
	ftm_exit_exit();
	ftm_ranges_exit();
	ftm_arch_exit();
	pr_info("unloaded\n");
}

module_init(flushtm_init);
module_exit(flushtm_exit);

MODULE_DESCRIPTION("Flush NVM ranges out of CPU caches on panic, oops, NMI, reboot and more");
MODULE_AUTHOR("flushtm developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(FLUSHTM_VERSION);
