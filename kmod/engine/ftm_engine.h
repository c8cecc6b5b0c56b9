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
 * The watchdog is fed after each chunk of this many bytes.  A line loop runs
 * at roughly 2-3 ns per line, clflush at 60 times that, so a chunk takes at
 * most ~0.6 s, well inside the NMI watchdog's threshold.
 */
#define FTM_CHUNK_BYTES (16ULL << 20)

/* What happens to each line. */
enum ftm_line_op {
	FTM_LINE_WRITEBACK,	/* write back, the line may stay cached (clwb) */
	FTM_LINE_INVALIDATE,	/* write back and evict (clflushopt/clflush)  */
};

/* One virtually and physically contiguous piece of the published set. */
struct ftm_span {
	u64 phys;
	void *virt;
	u64 size;		/* bytes, a multiple of the cache line size */
};

/* A walk over spans[0..nr), restricted to byte share part/nparts of the
 * whole, so that nparts walkers on nparts CPUs cover every line exactly once.
 */
struct ftm_walk {
	const struct ftm_span *spans;
	unsigned int nr;
	enum ftm_line_op op;
	unsigned int part;	/* 0 <= part < nparts */
	unsigned int nparts;	/* >= 1 */
};

/* Pick the line instructions this CPU has; call once before any walk. */
void ftm_engine_init(void);

/* Name of the instruction used for @op: "clwb", "clflushopt", "clflush", "dc cvac"... */
const char *ftm_engine_insn(enum ftm_line_op op);

/* Flush this walker's share; returns bytes flushed.  Does not fence. */
u64 ftm_engine_walk(const struct ftm_walk *w);

/* Order every line operation issued by this CPU before later stores. */
void ftm_engine_fence(void);

/* Bytes of the set, summed: what a walk with nparts == 1 flushes. */
u64 ftm_engine_set_bytes(const struct ftm_span *spans, unsigned int nr);

#endif /* FTM_ENGINE_H */
