// SPDX-License-Identifier: GPL-2.0
/*
 * The one place that runs a flush for a hook: picks the method, walks the
 * set (split over CPUs in process context), fences once, counts, and logs
 * the one line interface.md specifies.
 *
 * Three entry points by context:
 *  ftm_flush_crash()   panic, die, nmi: lockless (RCU), this CPU only.
 *  ftm_flush_local()   cpu_offline: lockless, this (dying) CPU only.
 *  ftm_flush_process() and ftm_flush_phys_range(): may sleep; hold
 *                      ftm_flush_lock so the set they walk stays live, and
 *                      may split the walk over the online CPUs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "ftm.h"
#include "ftm_arch_ops.h"

enum ftm_ctx { FTM_CTX_CRASH, FTM_CTX_LOCAL, FTM_CTX_PROCESS };

/* One CPU's share of a split walk; protected by ftm_flush_lock. */
struct ftm_part {
	struct work_struct work;
	struct ftm_walk walk;
	u64 done;
};

static DEFINE_PER_CPU(struct ftm_part, ftm_parts);

static bool ftm_use_cache(u64 bytes)
{
	int method = READ_ONCE(ftm_method);

	if (!ftm_arch_has_cache())
		return false;
	if (method == FTM_METHOD_CACHE)
		return true;
	return method == FTM_METHOD_AUTO && bytes > READ_ONCE(ftm_cache_threshold);
}

/* Whether a flush might choose wbinvd: decides if the panic handshake is armed. */
bool ftm_flush_may_use_cache(void)
{
	return ftm_arch_has_cache() && READ_ONCE(ftm_method) != FTM_METHOD_LINES;
}

static void ftm_account(struct ftm_hook *h, u64 bytes, u64 ns)
{
	s64 max = atomic64_read(&h->max_ns);

	atomic64_inc(&h->fired);
	atomic64_add(bytes, &h->flushed_bytes);
	atomic64_set(&h->last_ns, ns);
	while ((s64)ns > max) {
		s64 old = atomic64_cmpxchg(&h->max_ns, max, ns);

		if (old == max)
			break;
		max = old;
	}
}

static void ftm_part_fn(struct work_struct *work)
{
	struct ftm_part *p = container_of(work, struct ftm_part, work);

	p->done = ftm_engine_walk(&p->walk);
	ftm_engine_fence();
}

/*
 * Process context, cpus_read_lock() and ftm_flush_lock held: give each of
 * up to num_online_cpus() CPUs at least FTM_SPLIT_PART_MIN_BYTES (ftm_engine.h); each part
 * fences itself on its CPU.
 */
static u64 ftm_walk_split(const struct ftm_span *spans, unsigned int nr,
			  enum ftm_line_op op, u64 bytes)
{
	u64 n = min_t(u64, num_online_cpus(), bytes / FTM_SPLIT_PART_MIN_BYTES);
	unsigned int i = 0, cpu;
	u64 done = 0;

	if (n <= 1) {
		struct ftm_walk w = { .spans = spans, .nr = nr, .op = op, .nparts = 1 };

		done = ftm_engine_walk(&w);
		ftm_engine_fence();
		return done;
	}
	for_each_online_cpu(cpu) {
		struct ftm_part *p = per_cpu_ptr(&ftm_parts, cpu);

		if (i == n)
			break;
		p->walk = (struct ftm_walk){ .spans = spans, .nr = nr, .op = op,
					     .part = i++, .nparts = n };
		p->done = 0;
		queue_work_on(cpu, system_highpri_wq, &p->work);
	}
	i = 0;
	for_each_online_cpu(cpu) {
		struct ftm_part *p = per_cpu_ptr(&ftm_parts, cpu);

		if (i++ == n)
			break;
		flush_work(&p->work);
		done += p->done;
	}
	return done;
}

static void ftm_run(enum ftm_hook_id hook, const struct ftm_span *spans, unsigned int nr,
		    unsigned int extents, u64 bytes, enum ftm_ctx ctx)
{
	enum ftm_line_op op = hook == FTM_HOOK_APERTURE ? FTM_LINE_INVALIDATE : FTM_LINE_WRITEBACK;
	bool cache = ftm_use_cache(bytes);
	int cpu = raw_smp_processor_id();
	u64 t0 = ktime_get_mono_fast_ns();
	u64 done, ns;

	if (cache) {
		if (ctx == FTM_CTX_PROCESS)
			ftm_arch_cache_all();
		else
			ftm_arch_cache_local();
		done = bytes;
	} else if (ctx == FTM_CTX_PROCESS) {
		done = ftm_walk_split(spans, nr, op, bytes);
	} else {
		struct ftm_walk w = { .spans = spans, .nr = nr, .op = op, .nparts = 1 };

		done = ftm_engine_walk(&w);
		ftm_engine_fence();
	}
	ns = ktime_get_mono_fast_ns() - t0;
	if (hook == FTM_NR_HOOKS)
		return;
	ftm_account(&ftm_hooks[hook], done, ns);
	if (ftm_hooks[hook].crash)
		pr_emerg("flush hook=%s ranges=%u bytes=%llu method=%s ns=%llu cpu=%d\n",
			 ftm_hooks[hook].name, extents, done, cache ? "cache" : "lines", ns, cpu);
	else
		pr_info("flush hook=%s ranges=%u bytes=%llu method=%s ns=%llu cpu=%d\n",
			ftm_hooks[hook].name, extents, done, cache ? "cache" : "lines", ns, cpu);
}

static void ftm_run_set(enum ftm_hook_id hook, const struct ftm_set *set, enum ftm_ctx ctx)
{
	unsigned int i;

	if (!set) {
		ftm_run(hook, NULL, 0, 0, 0, ctx);
		return;
	}
	ftm_run(hook, set->spans, set->nr_spans, set->extents, set->bytes, ctx);
	for (i = 0; i < set->nr_ranges; i++)
		atomic64_add(set->ranges[i].size, set->ranges[i].flushed_bytes);
}

static void ftm_flush_lockless(enum ftm_hook_id hook, enum ftm_ctx ctx)
{
	if (!READ_ONCE(ftm_hooks[hook].enabled))
		return;
	rcu_read_lock();
	ftm_run_set(hook, rcu_dereference(ftm_live_set), ctx);
	rcu_read_unlock();
}

/* panic, die, nmi: no lock, no allocation, no IPI, this CPU only. */
void ftm_flush_crash(enum ftm_hook_id hook)
{
	ftm_flush_lockless(hook, FTM_CTX_CRASH);
}

/* cpu_offline: runs on the dying CPU with the hotplug lock held for write. */
void ftm_flush_local(enum ftm_hook_id hook)
{
	ftm_flush_lockless(hook, FTM_CTX_LOCAL);
}

/* manual, reboot, kexec, exit: may sleep. */
void ftm_flush_process(enum ftm_hook_id hook)
{
	if (!READ_ONCE(ftm_hooks[hook].enabled))
		return;
	cpus_read_lock();
	mutex_lock(&ftm_flush_lock);
	ftm_run_set(hook, rcu_dereference_protected(ftm_live_set,
						    lockdep_is_held(&ftm_flush_lock)),
		    FTM_CTX_PROCESS);
	mutex_unlock(&ftm_flush_lock);
	cpus_read_unlock();
}

/*
 * Flush the part of the live set inside [start, start + size), through the
 * set's own mappings (nothing new is mapped).  @whole: the whole range must
 * be in the set, else -EINVAL and nothing is flushed.  @hook ==
 * FTM_NR_HOOKS flushes without counting or logging (the exported API).
 * A disabled hook flushes nothing and returns 0.
 */
int ftm_flush_phys_range(enum ftm_hook_id hook, u64 start, u64 size, bool whole,
			 atomic64_t *range_bytes)
{
	const struct ftm_set *set;
	struct ftm_span *spans = NULL;
	unsigned int i, nr = 0, extents = 0;
	u64 end, bytes = 0, prev_end = 0;
	int ret = 0;

	if (hook != FTM_NR_HOOKS && !READ_ONCE(ftm_hooks[hook].enabled))
		return 0;
	if (!size || check_add_overflow(start, size, &end))
		return -EINVAL;

	cpus_read_lock();
	mutex_lock(&ftm_flush_lock);
	set = rcu_dereference_protected(ftm_live_set, lockdep_is_held(&ftm_flush_lock));
	if (set && set->nr_spans) {
		spans = kmalloc_array(set->nr_spans, sizeof(*spans), GFP_KERNEL);
		if (!spans) {
			ret = -ENOMEM;
			goto out;
		}
		for (i = 0; i < set->nr_spans; i++) {
			const struct ftm_span *s = &set->spans[i];
			u64 lo = max(start, s->phys);
			u64 hi = min(end, s->phys + s->size);

			if (lo >= hi)
				continue;
			if (!nr || lo != prev_end)
				extents++;
			spans[nr].phys = lo;
			spans[nr].virt = (char *)s->virt + (lo - s->phys);
			spans[nr++].size = hi - lo;
			bytes += hi - lo;
			prev_end = hi;
		}
	}
	if (whole && bytes != size) {
		ret = -EINVAL;
		goto out;
	}
	ftm_run(hook, spans, nr, extents, bytes, FTM_CTX_PROCESS);
	if (range_bytes)
		atomic64_add(bytes, range_bytes);
out:
	mutex_unlock(&ftm_flush_lock);
	cpus_read_unlock();
	kfree(spans);
	return ret;
}

int ftm_flush_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		INIT_WORK(&per_cpu_ptr(&ftm_parts, cpu)->work, ftm_part_fn);
	return 0;
}
