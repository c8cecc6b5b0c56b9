/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flush engine: walks a set of mapped spans and writes their cache lines
 * back.  The same source is compiled into flushtm.ko and, through a small
 * user-space shim (bench/ftm_shim_user.h), into the benchmark, so what is
 * measured is what the kernel runs.
 *
 * The engine never sleeps, allocates, locks or sends IPIs: it may run in NMI
 * and panic context.  Splitting a walk over CPUs is the caller's job; the
 * engine only knows "part i of n".
 */
#ifndef FTM_ENGINE_H
#define FTM_ENGINE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "ftm_shim_user.h"
#endif

/*
 * The watchdog is fed after each chunk of this many bytes, and a walk that
 * may reschedule (process context) calls cond_resched() there: without it a
 * 1 TiB walk would hold its CPU for ~40 s.  A line loop runs
 * at roughly 2-3 ns per line, the slowest serialising line instruction at
 * 60 times that (the worst case measured), so a chunk takes at
 * most ~0.6 s, well inside the watchdog's threshold.
 */
#define FTM_CHUNK_BYTES (16ULL << 20)

/*
 * Splitting a walk over CPUs (process context only) pays when each CPU's
 * part is long against the cost of waking that CPU and waiting for it.
 * Measured by bench/ftm-bench on 2 CPUs (a virtual machine, pinned threads woken
 * through a futex, about as costly as queue_work_on() + flush_work()): a
 * wake-up and join costs 50-100 us; parts of 2 MiB break even (ratio ~1.0),
 * parts of 8 MiB gain 1.3-1.5x, parts of 512 MiB 1.96x.  So: split into
 * min(online CPUs, bytes / FTM_SPLIT_PART_MIN_BYTES) parts, none split below
 * twice this.  Uncertainty: the wake-up cost varies 2-5x with load and with
 * bare metal against a guest; the choice errs towards not splitting.
 */
#define FTM_SPLIT_PART_MIN_BYTES (8ULL << 20)

/*
 * Default cache_threshold for method auto: FTM_AUTO_LLC_FACTOR times the
 * last-level cache of one package.
 *
 * A line walk costs per byte of the set, whatever the lines' state: about
 * 2.3 ns per 64-byte line, 38 ms per GiB on one CPU (measured by
 * bench/ftm-bench: the write back and the invalidating line loops, 16 MiB
 * to 1 GiB, dirty, clean or cold alike; crash context walks on one CPU, so
 * that is the rate that matters most).  A whole cache write back (method
 * cache, where the arch has one) costs per byte of cache, whatever the set: at
 * worst every line of the LLC dirty and written back at the memory's write
 * bandwidth, taken as 14-28 GB/s for one package, i.e. 1-2 times the walk's
 * cost per byte (dirty lines bound for slow NVM media cost both methods
 * alike).  Hence the walk is the cheaper while the set is below
 * 1-2 times the LLC; we take 2: the whole-cache write back also empties
 * every CPU's cache (the refill is paid after the flush), stalls each CPU
 * for its duration, needs the other CPUs' cooperation in a crash, and may
 * be a no-op in a virtual machine, so ties go to the walk.
 *
 * Uncertainty: the whole-cache write back is privileged and emulated as a
 * no-op by the hypervisor it was tried under, so its cost was not measured here; with a mostly clean cache it can be
 * several times cheaper than the bound above, and on hosts with much
 * faster memory the bound itself drops.  The crossover may lie anywhere
 * from 0.5 to 4 times the LLC; 2 is in the middle of that range.
 */
#define FTM_AUTO_LLC_FACTOR 2

/*
 * What happens to each line: the engine's generic operations, which each
 * arch/<arch>/ftm_arch.h maps onto its instructions (ftm_arch_insn_for()).
 * Write back goes to the point of persistence where the CPU tells it from
 * the point of coherency (arm64 with DCPOP), else to the point of
 * coherency, where a memory controller in the persistence domain takes it.
 */
enum ftm_line_op {
	FTM_LINE_WRITEBACK,	/* write back, the line may stay cached */
	FTM_LINE_INVALIDATE,	/* write back (point of coherency) and evict */
};

/*
 * One virtually and physically contiguous piece of the published set.  The
 * engine flushes every cache line that holds a byte of [virt, virt + size):
 * a span need not start or end on a line boundary (the published set's
 * spans do; a caller's clipped range may not).
 */
struct ftm_span {
	u64 phys;
	void *virt;
	u64 size;		/* bytes */
};

/*
 * A walk over spans[0..nr), restricted to line share part/nparts of the
 * whole, so that nparts walkers on nparts CPUs cover every line exactly
 * once (spans that share a line have it flushed once per span).
 * may_resched: process context; the walk reschedules after each chunk.
 */
struct ftm_walk {
	const struct ftm_span *spans;
	unsigned int nr;
	enum ftm_line_op op;
	unsigned int part;	/* 0 <= part < nparts */
	unsigned int nparts;	/* >= 1 */
	bool may_resched;
};

/* Pick the line instructions this CPU has; call once before any walk. */
void ftm_engine_init(void);

/* Name of the instruction used for @op, as the arch header spells it. */
const char *ftm_engine_insn(enum ftm_line_op op);

/*
 * The stride of a walk, in bytes (a power of two): the smallest data cache
 * line of any CPU, as the CPU reports it (never a constant).  Valid after
 * ftm_engine_init().
 */
unsigned int ftm_engine_line_size(void);

/*
 * Flush this walker's share; returns the bytes of the lines flushed (a
 * multiple of the line size).  Does not fence.
 */
u64 ftm_engine_walk(const struct ftm_walk *w);

/* Order every line operation issued by this CPU before later stores. */
void ftm_engine_fence(void);

/* Bytes of the set, summed. */
u64 ftm_engine_set_bytes(const struct ftm_span *spans, unsigned int nr);

/* Bytes of the lines the set touches: what a walk with nparts == 1 flushes. */
u64 ftm_engine_set_line_bytes(const struct ftm_span *spans, unsigned int nr);

#endif /* FTM_ENGINE_H */
