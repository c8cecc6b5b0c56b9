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
 *  ftm_flush_crash_stop()  panic, from the decorated stop path before the
 *                      other CPUs are stopped (interrupts off): lines split
 *                      over every CPU by NMI (the split crash flush below).
 *  ftm_split_answer()  NMI, on a CPU asked for its part of a split flush.
 *  ftm_set_plan()      process context (set publication): the crash plan.
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
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sort.h>
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

/* Whether a flush might write back whole caches: decides if the handshake is armed. */
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

/* ---- the crash plan and the split crash flush ------------------------ */

/*
 * At a panic the stop path (arch, decorated while the panic hook is armed)
 * calls ftm_flush_crash_stop() before the other CPUs are stopped.  With
 * lines, the set is split along the plan made at publication
 * (ftm_set_plan()): each other CPU of the plan is asked, through its
 * slot and an NMI (ftm_arch_split_kick()), to walk its part with the same
 * engine, fence, and answer (ftm_split_answer()); this CPU walks its own
 * part, then waits for each other part at most FTM_SPLIT_WAIT_FACTOR times
 * its measured cost plus FTM_SPLIT_WAIT_SLACK_NS from the kick, and walks
 * every part whose CPU did not answer by then (offline, NMIs blocked, slow)
 * itself.  A slot moves ASKED -> WALKING (the CPU took it) -> DONE, or
 * ASKED -> TAKEN (this CPU took it first); a CPU that took its part but is
 * late has it walked twice: every line is flushed at least once, whatever
 * the others do.  No lock, no allocation: slots are per CPU, the plan is in
 * the set.  One crash flush shares the handshake at a time (owner by
 * cmpxchg); a second one walks alone.
 *
 * The crash budget (crash_budget_ms; FTM_CRASH_BUDGET_AUTO: twice the
 * set's one-CPU cost plus FTM_BUDGET_SLACK_MS; 0: none) is checked between
 * the pieces of each part (set->pieces, ~FTM_PLAN_PIECE_BYTES each): past
 * it every walker stops, and the line that follows the flush line says how
 * many bytes were left.
 */
#define FTM_PLAN_PIECE_BYTES	(4ULL << 20)
#define FTM_PLAN_MAX_PIECES	256U
/* Small: every publication pays it (a daemon may publish 1,000 ranges). */
#define FTM_PLAN_SAMPLE_BYTES	(1ULL << 20)
#define FTM_SPLIT_WAIT_FACTOR	4
#define FTM_SPLIT_WAIT_SLACK_NS	(100 * NSEC_PER_MSEC)
#define FTM_BUDGET_SLACK_MS	1000

u64 ftm_crash_budget_ms = FTM_CRASH_BUDGET_AUTO;

static bool ftm_crash_split = true;
module_param_named(crash_split, ftm_crash_split, bool, 0644);
MODULE_PARM_DESC(crash_split, "split a panic's line flush over every CPU being stopped (default 1)");

static bool ftm_crash_detail;
module_param_named(crash_detail, ftm_crash_detail, bool, 0644);
MODULE_PARM_DESC(crash_detail,
		 "after a split crash flush, print one line per part: its CPU, bytes, and who walked it (tests)");

enum { FTM_SLOT_IDLE, FTM_SLOT_ASKED, FTM_SLOT_WALKING, FTM_SLOT_DONE, FTM_SLOT_TAKEN };

/* The slot of a CPU of the plan, for one split flush. */
struct ftm_slot {
	atomic_t state;
	unsigned int part;
	int by;			/* the CPU that walked the part (for crash_detail) */
	bool cut;		/* stopped by the budget */
	u64 done;
};

static DEFINE_PER_CPU(struct ftm_slot, ftm_slots);
static struct cpumask ftm_split_mask;		/* the owner's */
static atomic_t ftm_split_owner = ATOMIC_INIT(-1);
static atomic_t ftm_split_active = ATOMIC_INIT(0);
static const struct ftm_set *ftm_split_set;	/* READ_ONCE, while active */
static u64 ftm_split_deadline;
/* Set once the stop path has flushed for the panic: the notifier skips. */
static bool ftm_panic_flushed;

/* Arches without the handshake: today's walk on one CPU. */
bool __weak ftm_arch_split_ready(void)
{
	return false;
}

void __weak ftm_arch_split_kick(const struct cpumask *cpus)
{
}

/*
 * Process context (publication, ftm_cfg_lock held): one part per CPU
 * online now, each at least FTM_SPLIT_PART_MIN_BYTES, and the cost of a
 * line walk measured on the first FTM_PLAN_SAMPLE_BYTES of the set.  CPUs
 * that come online later have no part; a part whose CPU is offline at the
 * crash is walked by the crashing CPU.
 */
void ftm_set_plan(struct ftm_set *set)
{
	const unsigned int shift = ilog2(ftm_engine_line_size());
	u64 line_bytes, lines, n, shares, sample, t0, ns, done;
	unsigned int i = 0, cpu;
	struct ftm_walk w;

	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		set->cpu_part[cpu] = -1;
	set->nparts = 0;
	set->pieces = 1;
	set->ns_per_mib = 1;
	if (!set->bytes)
		return;
	line_bytes = ftm_engine_set_line_bytes(set->spans, set->nr_spans);
	lines = line_bytes >> shift;
	n = clamp_t(u64, line_bytes / FTM_SPLIT_PART_MIN_BYTES, 1, num_online_cpus());
	set->pieces = clamp_t(u64, line_bytes / n / FTM_PLAN_PIECE_BYTES, 1, FTM_PLAN_MAX_PIECES);
	for_each_online_cpu(cpu) {
		if (i == n)
			break;
		set->parts[i].cpu = cpu;
		set->cpu_part[cpu] = i++;
	}
	set->nparts = i;
	/* Part i: shares i, i + nparts, ... (ftm_walk_part()). */
	shares = (u64)set->nparts * set->pieces;
	for (i = 0; i < set->nparts; i++) {
		u64 c, part_lines = 0;

		for (c = i; c < shares; c += set->nparts)
			part_lines += lines * (c + 1) / shares - lines * c / shares;
		set->parts[i].bytes = part_lines << shift;
	}

	sample = clamp_t(u64, line_bytes / FTM_PLAN_SAMPLE_BYTES, 1, UINT_MAX);
	w = (struct ftm_walk){ .spans = set->spans, .nr = set->nr_spans,
			       .op = FTM_LINE_WRITEBACK, .part = 0, .nparts = sample };
	preempt_disable();
	t0 = ktime_get_ns();
	done = ftm_engine_walk(&w);
	ftm_engine_fence();
	ns = ktime_get_ns() - t0;
	preempt_enable();
	if (done)
		set->ns_per_mib = max_t(u64, 1, div64_u64(ns << 20, done));
}

/* Twice the set on one CPU at the measured rate, plus slack. */
u64 ftm_crash_budget_default_ms(const struct ftm_set *set)
{
	if (!set)
		return FTM_BUDGET_SLACK_MS;
	return div64_u64(2 * (set->bytes >> 20) * set->ns_per_mib, NSEC_PER_MSEC) +
	       FTM_BUDGET_SLACK_MS;
}

/* How long the crashing CPU waits for part @i, from the kick. */
static u64 ftm_part_wait_ns(const struct ftm_set *set, unsigned int i)
{
	return FTM_SPLIT_WAIT_FACTOR * (set->parts[i].bytes >> 20) * set->ns_per_mib +
	       FTM_SPLIT_WAIT_FACTOR * set->ns_per_mib + FTM_SPLIT_WAIT_SLACK_NS;
}

/*
 * Any context: walk part @part of @nparts, as @pieces pieces, stopping
 * before a piece once @deadline (mono fast ns; 0: none) is past; fenced.
 * Piece j of the part is share j * nparts + part of the set: the parts
 * interleave, so CPUs walking at the same pace cover the set in its order
 * (priority first) and a budget cuts off its end.
 */
static u64 ftm_walk_part(const struct ftm_set *set, unsigned int part, unsigned int nparts,
			 unsigned int pieces, u64 deadline, bool *cut)
{
	u64 done = 0;
	unsigned int j;

	for (j = 0; j < pieces; j++) {
		struct ftm_walk w = { .spans = set->spans, .nr = set->nr_spans,
				      .op = FTM_LINE_WRITEBACK, .part = j * nparts + part,
				      .nparts = nparts * pieces };

		if (deadline && ktime_get_mono_fast_ns() > deadline) {
			*cut = true;
			break;
		}
		done += ftm_engine_walk(&w);
	}
	ftm_engine_fence();
	return done;
}

/*
 * NMI, on a CPU of the plan: walk the part this CPU was asked for, if it
 * was and the crashing CPU has not taken it.  True when it did.
 */
bool ftm_split_answer(void)
{
	struct ftm_slot *slot = this_cpu_ptr(&ftm_slots);
	const struct ftm_set *set;
	u64 done;
	bool cut = false;

	if (!atomic_read(&ftm_split_active))
		return false;
	smp_rmb();	/* the slots and the request before active */
	if (atomic_cmpxchg(&slot->state, FTM_SLOT_ASKED, FTM_SLOT_WALKING) != FTM_SLOT_ASKED)
		return false;
	set = READ_ONCE(ftm_split_set);
	this_cpu_inc(ftm_in_crash_walk);
	done = ftm_walk_part(set, slot->part, set->nparts, set->pieces,
			     READ_ONCE(ftm_split_deadline), &cut);
	this_cpu_dec(ftm_in_crash_walk);
	slot->done = done;
	slot->cut = cut;
	slot->by = smp_processor_id();
	atomic_set_release(&slot->state, FTM_SLOT_DONE);
	return true;
}

/* The crashing CPU walks part @i itself. */
static u64 ftm_split_take(const struct ftm_set *set, unsigned int i, int me, u64 deadline,
			  bool *cut)
{
	struct ftm_slot *slot = per_cpu_ptr(&ftm_slots, set->parts[i].cpu);
	u64 done = ftm_walk_part(set, i, set->nparts, set->pieces, deadline, cut);

	slot->by = me;
	slot->done = done;
	return done;
}

/*
 * Crash context, interrupts off, the handshake owned: see the comment
 * above.  Returns the bytes flushed; @cpus the CPUs that walked a part
 * (this one included), @taken the parts this CPU took over.
 */
static u64 ftm_split_run(const struct ftm_set *set, u64 t0, u64 deadline, unsigned int *cpus,
			 unsigned int *taken, bool *cut)
{
	int me = smp_processor_id();
	int mine = me < nr_cpu_ids ? set->cpu_part[me] : -1;
	unsigned int i;
	u64 done = 0;

	cpumask_clear(&ftm_split_mask);
	for (i = 0; i < set->nparts; i++) {
		int c = set->parts[i].cpu;
		struct ftm_slot *slot = per_cpu_ptr(&ftm_slots, c);

		slot->part = i;
		slot->done = 0;
		slot->by = -1;
		slot->cut = false;
		if (c == me || !cpu_online(c)) {
			atomic_set(&slot->state, FTM_SLOT_IDLE);
			continue;
		}
		atomic_set(&slot->state, FTM_SLOT_ASKED);
		cpumask_set_cpu(c, &ftm_split_mask);
	}
	WRITE_ONCE(ftm_split_set, set);
	WRITE_ONCE(ftm_split_deadline, deadline);
	smp_wmb();	/* the slots and the request before active */
	atomic_set(&ftm_split_active, 1);
	smp_mb();	/* active before the NMIs */
	if (!cpumask_empty(&ftm_split_mask))
		ftm_arch_split_kick(&ftm_split_mask);

	*cpus = 1;
	*taken = 0;
	if (mine >= 0)
		done += ftm_split_take(set, mine, me, deadline, cut);
	for (i = 0; i < set->nparts; i++) {
		int c = set->parts[i].cpu;
		struct ftm_slot *slot = per_cpu_ptr(&ftm_slots, c);

		if (i == mine)
			continue;
		if (cpumask_test_cpu(c, &ftm_split_mask)) {
			u64 until = t0 + ftm_part_wait_ns(set, i);
			u64 now;

			while (atomic_read_acquire(&slot->state) != FTM_SLOT_DONE) {
				now = ktime_get_mono_fast_ns();
				if (now > until || (deadline && now > deadline))
					break;
				cpu_relax();
			}
			if (atomic_read_acquire(&slot->state) == FTM_SLOT_DONE) {
				done += slot->done;
				*cut |= slot->cut;
				(*cpus)++;
				continue;
			}
			/* Not answered in time: ours now (a late walker flushes it twice). */
			atomic_cmpxchg(&slot->state, FTM_SLOT_ASKED, FTM_SLOT_TAKEN);
		}
		done += ftm_split_take(set, i, me, deadline, cut);
		(*taken)++;
	}
	atomic_set(&ftm_split_active, 0);
	return done;
}

static void ftm_split_detail(const struct ftm_set *set)
{
	unsigned int i;

	for (i = 0; i < set->nparts; i++) {
		const struct ftm_slot *slot = per_cpu_ptr(&ftm_slots, set->parts[i].cpu);

		printk("%s" pr_fmt("crash part=%u cpu=%d bytes=%llu done=%llu by=%d wait_ns=%llu\n"),
		       KERN_EMERG, i, set->parts[i].cpu, set->parts[i].bytes, slot->done, slot->by,
		       ftm_part_wait_ns(set, i));
	}
}

/*
 * Crash context, method lines: the set on this CPU, or split over the
 * plan's CPUs when @split and the handshake is armed.  False when the
 * budget cut the walk short.
 */
static bool ftm_run_crash_lines(enum ftm_hook_id hook, const struct ftm_set *set, bool split)
{
	struct ftm_hook *h = &ftm_hooks[hook];
	int cpu = raw_smp_processor_id();
	u64 budget = READ_ONCE(ftm_crash_budget_ms);
	unsigned int cpus = 1, taken = 0;
	bool cut = false, shared = false;
	u64 t0, deadline, done, ns;

	if (this_cpu_read(ftm_in_crash_walk)) {
		printk("%s" pr_fmt("hook=%s came inside a flush on cpu %d: skipped\n"),
		       KERN_EMERG, h->name, cpu);
		return true;
	}
	this_cpu_inc(ftm_in_crash_walk);
	if (budget == FTM_CRASH_BUDGET_AUTO)
		budget = ftm_crash_budget_default_ms(set);
	t0 = ktime_get_mono_fast_ns();
	deadline = budget ? t0 + budget * NSEC_PER_MSEC : 0;
	if (split && set->nparts > 1 && READ_ONCE(ftm_crash_split) && ftm_arch_split_ready() &&
	    atomic_cmpxchg(&ftm_split_owner, -1, cpu) == -1) {
		done = ftm_split_run(set, t0, deadline, &cpus, &taken, &cut);
		atomic_set_release(&ftm_split_owner, -1);
		shared = true;
	} else {
		done = ftm_walk_part(set, 0, 1, set->pieces * max(set->nparts, 1U), deadline, &cut);
	}
	ns = ktime_get_mono_fast_ns() - t0;
	this_cpu_dec(ftm_in_crash_walk);
	ftm_account(h, done, ns);
	if (shared)
		printk("%s" pr_fmt("flush hook=%s ranges=%u bytes=%llu method=lines ns=%llu cpu=%d cpus=%u taken=%u\n"),
		       KERN_EMERG, h->name, set->extents, done, ns, cpu, cpus, taken);
	else
		ftm_log_flush(h, set->extents, done, false, ns, cpu);
	if (cut)
		printk("%s" pr_fmt("hook=%s crash budget of %llu ms spent: %llu bytes left\n"),
		       KERN_EMERG, h->name, budget, set->bytes > done ? set->bytes - done : 0);
	if (shared && READ_ONCE(ftm_crash_detail))
		ftm_split_detail(set);
	return !cut;
}

static void ftm_run_set(enum ftm_hook_id hook, const struct ftm_set *set, enum ftm_ctx ctx)
{
	unsigned int i;

	if (!set || !set->bytes) {
		ftm_run(hook, NULL, 0, 0, 0, ctx);
		return;
	}
	if (ctx == FTM_CTX_CRASH && !ftm_use_cache(set->bytes)) {
		/* The die hook splits only where the oops will panic. */
		if (!ftm_run_crash_lines(hook, set, hook == FTM_HOOK_DIE && in_interrupt()))
			return;
	} else {
		ftm_run(hook, set->spans, set->nr_spans, set->extents, set->bytes, ctx);
	}
	for (i = 0; i < set->nr_ranges; i++)
		atomic64_add(set->ranges[i].size, set->ranges[i].flushed_bytes);
}

/* panic, die, nmi: no lock, no allocation, no sleeping; see ftm_run(). */
void ftm_flush_crash(enum ftm_hook_id hook)
{
	if (!READ_ONCE(ftm_hooks[hook].enabled))
		return;
	/* The stop path flushed for this panic already, on every CPU. */
	if (hook == FTM_HOOK_PANIC && READ_ONCE(ftm_panic_flushed))
		return;
	rcu_read_lock();
	ftm_run_set(hook, rcu_dereference(ftm_live_set), FTM_CTX_CRASH);
	rcu_read_unlock();
}

/*
 * The panicking CPU in the decorated stop path, interrupts off, before the
 * other CPUs are stopped: the panic hook's flush with lines, split.  With
 * cache (or nothing to flush) it leaves the flush to the notifier.
 */
void ftm_flush_crash_stop(enum ftm_hook_id hook)
{
	const struct ftm_set *set;

	if (!READ_ONCE(ftm_hooks[hook].enabled) || READ_ONCE(ftm_panic_flushed))
		return;
	rcu_read_lock();
	set = rcu_dereference(ftm_live_set);
	if (set && set->bytes && !ftm_use_cache(set->bytes)) {
		unsigned int i;

		WRITE_ONCE(ftm_panic_flushed, true);
		if (ftm_run_crash_lines(hook, set, true))
			for (i = 0; i < set->nr_ranges; i++)
				atomic64_add(set->ranges[i].size, set->ranges[i].flushed_bytes);
	}
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

static int ftm_span_cmp(const void *a, const void *b)
{
	u64 x = ((const struct ftm_span *)a)->phys, y = ((const struct ftm_span *)b)->phys;

	return x < y ? -1 : x > y;
}

/*
 * Process context: flush the part of the live set inside [start, start +
 * size), rounded out to whole cache lines (as the kernel's cache-range helpers do),
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
	const u64 line = ftm_engine_line_size();
	u64 end, bytes = 0, prev_end = 0;
	int ret = 0;

	if (hook != FTM_HOOK_NONE && !READ_ONCE(ftm_hooks[hook].enabled))
		return 0;
	if (!size || check_add_overflow(start, size, &end) ||
	    end > U64_MAX - (line - 1))
		return -EINVAL;
	start = round_down(start, line);
	end = round_up(end, line);

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
			spans[nr].phys = lo;
			spans[nr].virt = (char *)s->virt + (lo - s->phys);
			spans[nr++].size = hi - lo;
			bytes += hi - lo;
		}
		/* The set is in priority order; the extents are counted by address. */
		sort(spans, nr, sizeof(*spans), ftm_span_cmp, NULL);
		for (i = 0; i < nr; i++) {
			if (!i || spans[i].phys != prev_end)
				extents++;
			prev_end = spans[i].phys + spans[i].size;
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
