/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flushtm internals shared by the files of the module.  See the comment at
 * the top of flushtm_main.c for the contexts and what each may do.
 */
#ifndef FTM_H
#define FTM_H

#include <linux/atomic.h>
#include <linux/configfs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include "ftm_engine.h"

#define FTM_INTERFACE_VERSION	1
#define FTM_OWNER_MAX		64
#define FTM_PRIORITY_MAX	255
/* reserve_mem= labels: the kernel keeps 16 bytes, NUL included. */
#define FTM_RESERVE_MEM_MAX	15

enum ftm_hook_id {
	FTM_HOOK_NONE = -1,		/* a flush counted and logged nowhere */
	FTM_HOOK_PANIC,
	FTM_HOOK_DIE,
	FTM_HOOK_NMI,
	FTM_HOOK_REBOOT,
	FTM_HOOK_KEXEC,
	FTM_HOOK_CPU_OFFLINE,
	FTM_HOOK_EXIT,
	FTM_HOOK_APERTURE,
	FTM_HOOK_MANUAL,
	FTM_NR_HOOKS
};

struct ftm_hook {
	const char *name;
	bool available;
	bool enabled;			/* READ_ONCE on event paths */
	bool crash;			/* runs in panic/NMI context: KERN_EMERG */
	atomic64_t fired;
	atomic64_t flushed_bytes;
	atomic64_t last_ns;
	atomic64_t max_ns;
};

extern struct ftm_hook ftm_hooks[FTM_NR_HOOKS];

enum ftm_method { FTM_METHOD_AUTO, FTM_METHOD_LINES, FTM_METHOD_CACHE };

extern int ftm_method;			/* READ_ONCE; written under ftm_cfg_lock */
extern u64 ftm_cache_threshold;		/* READ_ONCE; written under ftm_cfg_lock */

/* Serialises every configuration change (configfs stores, mkdir, rmdir). */
extern struct mutex ftm_cfg_lock;

/* One `flushtm: ...` line per refused write, but no flood from a fuzzer. */
extern struct ratelimit_state ftm_log_rs;
#define ftm_refuse(fmt, ...)						\
	do {								\
		if (__ratelimit(&ftm_log_rs))				\
			pr_info(fmt, ##__VA_ARGS__);			\
	} while (0)

/* Range names come from mkdir: print them escaped. */
#define FTM_NAMEFMT		"%*pE"
#define FTM_NAMEARG(n)		(int)strlen(n), (n)

/* A range: a configfs item under ranges/. */
struct ftm_range {
	struct config_item item;
	struct list_head all;		/* ftm_all_ranges, under ftm_cfg_lock */
	struct list_head live;		/* ftm_live_ranges, sorted by start */
	u64 start;
	u64 size;
	bool enabled;
	u8 priority;			/* higher: earlier in the set's walk */
	char owner[FTM_OWNER_MAX + 1];
	char reserve_mem[FTM_RESERVE_MEM_MAX + 1];	/* a label, or "" */
	void *virt;			/* memremap()ed while enabled */
	atomic64_t flushed_bytes;
};

/* Per included range of a set: what a whole-set flush adds to its counter. */
struct ftm_set_range {
	atomic64_t *flushed_bytes;
	u64 size;
};

/*
 * One part of the crash plan: set->pieces of the set's nparts * pieces
 * line shares (the engine's split), part i taking shares i, i + nparts,
 * i + 2 * nparts, ...: the CPUs walk the set from its start together, so
 * what a crash budget leaves unflushed is the end of the set, the lowest
 * priority.  The budget is checked between pieces; @cpu walks the part
 * when it answers.
 */
struct ftm_plan_part {
	int cpu;
	u64 bytes;		/* bytes of its lines */
};

/*
 * The published set: immutable once published.  spans are disjoint, each
 * inside one range's mapping, in the order every walk takes them: by the
 * priority of the range they come from (highest first; where ranges
 * overlap, the bytes belong to the highest), then by physical address.
 * extents counts the physically contiguous runs of their union (what the
 * log line reports as ranges=).
 *
 * The crash plan, made when the set is built (process context): nparts
 * parts, one per CPU online then (none below FTM_SPLIT_PART_MIN_BYTES a
 * part), cpu_part[cpu] the part of each possible CPU (-1: none), and the
 * cost of a line walk measured on this set at publication (ns_per_mib,
 * never 0), from which the wait for a part and the default crash budget
 * are derived.
 */
struct ftm_set {
	unsigned int nr_spans;
	unsigned int nr_ranges;
	unsigned int extents;
	u64 bytes;
	struct ftm_span *spans;
	struct ftm_set_range *ranges;
	unsigned int nparts;
	unsigned int pieces;		/* per part, >= 1 */
	u64 ns_per_mib;
	struct ftm_plan_part *parts;
	int *cpu_part;			/* nr_cpu_ids entries */
	struct rcu_head rcu;
};

/* A crash flush's time limit in ms (configfs crash_budget_ms); see ftm_flush.c. */
#define FTM_CRASH_BUDGET_AUTO	U64_MAX
extern u64 ftm_crash_budget_ms;		/* READ_ONCE; written under ftm_cfg_lock */
u64 ftm_crash_budget_default_ms(const struct ftm_set *set);

extern struct ftm_set __rcu *ftm_live_set;
extern atomic64_t ftm_generation;
/* Held by process-context flushes for their whole walk; taken to publish. */
extern struct mutex ftm_flush_lock;

/* ftm_ranges.c */
struct ftm_range *ftm_range_alloc(void);
void ftm_range_publish_name(struct ftm_range *r);
void ftm_range_unlink(struct ftm_range *r);
void ftm_range_free(struct ftm_range *r);
int ftm_range_enable(struct ftm_range *r);
int ftm_range_disable(struct ftm_range *r, gfp_t gfp);
int ftm_range_set_priority(struct ftm_range *r, u8 priority);
struct ftm_range *ftm_range_find(const char *name, size_t len);
int ftm_ranges_withdraw_window(u64 start, u64 end);
int ftm_parse_u64(const char *buf, size_t count, bool suffix, u64 *val);
int ftm_parse_bool(const char *buf, size_t count, bool *val);
int ftm_ranges_init(void);
void ftm_ranges_exit(void);

/* ftm_flush.c */
void ftm_flush_crash(enum ftm_hook_id hook);
void ftm_flush_local(enum ftm_hook_id hook);
void ftm_flush_process(enum ftm_hook_id hook);
int ftm_flush_phys_range(enum ftm_hook_id hook, u64 start, u64 size, bool whole,
			 atomic64_t *range_bytes);
void ftm_flush_span(enum ftm_hook_id hook, u64 phys, void *virt, u64 size,
		    atomic64_t *range_bytes);
bool ftm_flush_may_use_cache(void);
bool ftm_flush_crash_uses_cache(enum ftm_hook_id hook);
void ftm_flush_init(void);
void ftm_flush_crash_stop(enum ftm_hook_id hook);
bool ftm_split_answer(void);
void ftm_set_plan(struct ftm_set *set);

/* ftm_debugfs.c */
struct dentry;
extern struct dentry *ftm_debugfs_dir;
void ftm_debugfs_init(void);
void ftm_debugfs_exit(void);

/* ftm_hooks.c */
int ftm_hook_set_enabled(enum ftm_hook_id hook, bool on);
void ftm_hooks_method_changed(void);
void ftm_hooks_init(void);
void ftm_hooks_exit(void);

/* ftm_exit.c */
int ftm_exit_enroll_pid(pid_t pid);
int ftm_exit_withdraw_pid(pid_t pid);
ssize_t ftm_exit_show_pids(char *page);
void ftm_exit_exit(void);

/* ftm_reserve_mem.c */
int ftm_reserve_mem_resolve(const char *range, const char *label, u64 *start, u64 *size);
bool ftm_reserve_mem_covers(const char *label, u64 start, u64 size);

/* ftm_configfs.c */
int ftm_configfs_init(void);
void ftm_configfs_exit(void);

#endif /* FTM_H */
