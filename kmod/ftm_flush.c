// SPDX-License-Identifier: GPL-2.0
/*
 * The one place that runs a flush for a hook: picks the method (one
 * decision for every hook, ftm_use_cache()), walks the set (split over CPUs
 * in process context), fences, counts, and logs the one line interface.md
 * specifies.  A flush of nothing (no enabled range in reach) does nothing:
 * no write back and no line; the event is counted in fired only.
 *
 * Entry points by context:
 *  ftm_flush_crash()   panic, die, nmi: lockless (RCU), this CPU walks; with
 *                      cache every online CPU writes back (the handshake).
 *  ftm_flush_local()   cpu_offline: the hotplug thread on the dying CPU
 *                      (hotplug lock held for write); takes ftm_flush_lock,
 *                      walks on this CPU only, may reschedule.
 *  ftm_flush_process(), ftm_flush_phys_range(), ftm_flush_span(): may sleep;
 *                      cpus_read_lock() then ftm_flush_lock, so the set they
 *                      walk stays live; may split the walk over the online
 *                      CPUs; reschedule after each chunk.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "ftm.h"
#include "ftm_arch.h"
#include "ftm_arch_ops.h"

enum ftm_ctx { FTM_CTX_CRASH, FTM_CTX_LOCAL, FTM_CTX_PROCESS };

/* One CPU's share of a split walk; protected by ftm_flush_lock. */
struct ftm_part {
	struct work_struct work;
	struct ftm_walk walk;
	u64 done;
};

static DEFINE_PER_CPU(struct ftm_part, ftm_parts);

/*
 * Set while this CPU runs a crash-context walk: an event that comes inside
 * it (a fault in the walk through the die hook, an NMI) skips its own.
 */
static DEFINE_PER_CPU(unsigned int, ftm_in_crash_walk);

/* Lines or cache, for every hook: the method, the threshold, the set's size. */
static bool ftm_use_cache(u64 bytes)
{
	int method = READ_ONCE(ftm_method);

	if (!ftm_arch_has_cache())
		return false;
	if (method == FTM_METHOD_CACHE)
		return true;
	return method == FTM_METHOD_AUTO && bytes > READ_ONCE(ftm_cache_threshold);
}

/* Whether a flush might choose wbinvd: decides if the handshake is armed. */
bool ftm_flush_may_use_cache(void)
{
	return ftm_arch_has_cache() && READ_ONCE(ftm_method) != FTM_METHOD_LINES;
}

/* Crash context: would a flush for @hook pick cache now? */
bool ftm_flush_crash_uses_cache(enum ftm_hook_id hook)
{
	const struct ftm_set *set;
	bool cache;

	if (!READ_ONCE(ftm_hooks[hook].enabled))
		return false;
	rcu_read_lock();
	set = rcu_dereference(ftm_live_set);
	cache = set && set->bytes && ftm_use_cache(set->bytes);
	rcu_read_unlock();
	return cache;
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

/* The line of interface.md; the level leads the formatted text. */
static void ftm_log_flush(const struct ftm_hook *h, unsigned int extents, u64 bytes,
			  bool cache, u64 ns, int cpu)
{
	printk("%s" pr_fmt("flush hook=%s ranges=%u bytes=%llu method=%s ns=%llu cpu=%d\n"),
	       h->crash ? KERN_EMERG : KERN_INFO, h->name, extents, bytes,
	       cache ? "cache" : "lines", ns, cpu);
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
		struct ftm_walk w = { .spans = spans, .nr = nr, .op = op, .nparts = 1,
				      .may_resched = true };

		done = ftm_engine_walk(&w);
		ftm_engine_fence();
		return done;
	}
	for_each_online_cpu(cpu) {
		struct ftm_part *p = per_cpu_ptr(&ftm_parts, cpu);

		if (i == n)
			break;
		p->walk = (struct ftm_walk){ .spans = spans, .nr = nr, .op = op,
					     .part = i++, .nparts = n, .may_resched = true };
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

/* One walk on this CPU, fenced. */
static u64 ftm_walk_here(const struct ftm_span *spans, unsigned int nr, enum ftm_line_op op,
			 bool may_resched)
{
	struct ftm_walk w = { .spans = spans, .nr = nr, .op = op, .nparts = 1,
			      .may_resched = may_resched };
	u64 done = ftm_engine_walk(&w);

	ftm_engine_fence();
	return done;
}

/*
 * @bytes: what the spans hold (line aligned: the set's spans are, and
 * ftm_flush_phys_range() rounds out).  Nothing to flush: nothing done.
 */
static void ftm_run(enum ftm_hook_id hook, const struct ftm_span *spans, unsigned int nr,
		    unsigned int extents, u64 bytes, enum ftm_ctx ctx)
{
	enum ftm_line_op op = hook == FTM_HOOK_APERTURE ? FTM_LINE_INVALIDATE : FTM_LINE_WRITEBACK;
	const char *name = hook == FTM_HOOK_NONE ? "api" : ftm_hooks[hook].name;
	bool cache;
	int cpu;
	u64 t0, done, ns;

	if (!bytes) {
		if (hook != FTM_HOOK_NONE)
			atomic64_inc(&ftm_hooks[hook].fired);
		return;
	}
	cache = ftm_use_cache(bytes);
	cpu = raw_smp_processor_id();
	if (ctx == FTM_CTX_CRASH) {
		if (this_cpu_read(ftm_in_crash_walk)) {
			printk("%s" pr_fmt("hook=%s came inside a flush on cpu %d: skipped\n"),
			       KERN_EMERG, name, cpu);
			return;
		}
		this_cpu_inc(ftm_in_crash_walk);
	}
	t0 = ktime_get_mono_fast_ns();
	if (cache) {
		if (ctx == FTM_CTX_PROCESS)
			ftm_arch_cache_all();
		else if (ctx == FTM_CTX_CRASH)
			ftm_arch_cache_crash(name);
		else
			ftm_arch_cache_local();
		done = bytes;
	} else if (ctx == FTM_CTX_PROCESS) {
		done = ftm_walk_split(spans, nr, op, bytes);
	} else {
		done = ftm_walk_here(spans, nr, op, ctx == FTM_CTX_LOCAL);
	}
	ns = ktime_get_mono_fast_ns() - t0;
	if (ctx == FTM_CTX_CRASH)
		this_cpu_dec(ftm_in_crash_walk);
	if (hook == FTM_HOOK_NONE)
		return;
	ftm_account(&ftm_hooks[hook], done, ns);
	ftm_log_flush(&ftm_hooks[hook], extents, done, cache, ns, cpu);
}

static void ftm_run_set(enum ftm_hook_id hook, const struct ftm_set *set, enum ftm_ctx ctx)
{
	unsigned int i;

	if (!set || !set->bytes) {
		ftm_run(hook, NULL, 0, 0, 0, ctx);
		return;
	}
	ftm_run(hook, set->spans, set->nr_spans, set->extents, set->bytes, ctx);
	for (i = 0; i < set->nr_ranges; i++)
		atomic64_add(set->ranges[i].size, set->ranges[i].flushed_bytes);
}

/* panic, die, nmi: no lock, no allocation, no sleeping; see ftm_run(). */
void ftm_flush_crash(enum ftm_hook_id hook)
{
	if (!READ_ONCE(ftm_hooks[hook].enabled))
		return;
	rcu_read_lock();
	ftm_run_set(hook, rcu_dereference(ftm_live_set), FTM_CTX_CRASH);
	rcu_read_unlock();
}

/*
 * cpu_offline: the hotplug thread of the dying CPU, hotplug lock held for
 * write, so no process flush holds ftm_flush_lock (they take the hotplug
 * lock first) and taking it here keeps the set live while the walk
 * reschedules.
 */
void ftm_flush_local(enum ftm_hook_id hook)
{
	if (!READ_ONCE(ftm_hooks[hook].enabled))
		return;
	mutex_lock(&ftm_flush_lock);
	ftm_run_set(hook, rcu_dereference_protected(ftm_live_set,
						    lockdep_is_held(&ftm_flush_lock)),
		    FTM_CTX_LOCAL);
	mutex_unlock(&ftm_flush_lock);
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
 * Process context: flush one span that the caller keeps mapped (an enabled
 * range, through its own mapping), counted under @hook (nothing when @hook
 * is disarmed).  Allocates nothing, so a withdrawal cannot fail here.
 */
void ftm_flush_span(enum ftm_hook_id hook, u64 phys, void *virt, u64 size,
		    atomic64_t *range_bytes)
{
	struct ftm_span span = { .phys = phys, .virt = virt, .size = size };

	if (hook != FTM_HOOK_NONE && !READ_ONCE(ftm_hooks[hook].enabled))
		return;
	cpus_read_lock();
	mutex_lock(&ftm_flush_lock);
	ftm_run(hook, &span, 1, 1, size, FTM_CTX_PROCESS);
	mutex_unlock(&ftm_flush_lock);
	cpus_read_unlock();
	if (range_bytes)
		atomic64_add(size, range_bytes);
}

/*
 * Process context: flush the part of the live set inside [start, start +
 * size), rounded out to whole cache lines (as clflush_cache_range() does),
 * through the set's own mappings (nothing new is mapped).  @whole: the
 * whole rounded range must be in the set, else -EINVAL and nothing is
 * flushed.  FTM_HOOK_NONE flushes without counting or logging (the
 * exported API).  A disabled hook flushes nothing and returns 0.
 */
int ftm_flush_phys_range(enum ftm_hook_id hook, u64 start, u64 size, bool whole,
			 atomic64_t *range_bytes)
{
	const struct ftm_set *set;
	struct ftm_span *spans = NULL;
	unsigned int i, nr = 0, extents = 0;
	u64 end, bytes = 0, prev_end = 0;
	int ret = 0;

	if (hook != FTM_HOOK_NONE && !READ_ONCE(ftm_hooks[hook].enabled))
		return 0;
	if (!size || check_add_overflow(start, size, &end) ||
	    end > U64_MAX - (FTM_LINE_SIZE - 1))
		return -EINVAL;
	start = round_down(start, FTM_LINE_SIZE);
	end = round_up(end, FTM_LINE_SIZE);

	cpus_read_lock();
	mutex_lock(&ftm_flush_lock);
	set = rcu_dereference_protected(ftm_live_set, lockdep_is_held(&ftm_flush_lock));
	if (set && set->nr_spans) {
		spans = kvmalloc_array(set->nr_spans, sizeof(*spans), GFP_KERNEL);
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
	if (whole && bytes != end - start) {
		ret = -EINVAL;
		goto out;
	}
	ftm_run(hook, spans, nr, extents, bytes, FTM_CTX_PROCESS);
	if (range_bytes)
		atomic64_add(bytes, range_bytes);
out:
	mutex_unlock(&ftm_flush_lock);
	cpus_read_unlock();
	kvfree(spans);
	return ret;
}

void ftm_flush_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		INIT_WORK(&per_cpu_ptr(&ftm_parts, cpu)->work, ftm_part_fn);
}
