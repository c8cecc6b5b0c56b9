// SPDX-License-Identifier: GPL-2.0
/*
 * Flush engine: see ftm_engine.h.  No architecture instruction appears here;
 * they come from arch/<arch>/ftm_arch.h.
 */
#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/nmi.h>
#include <linux/sched.h>
#define ftm_feed_watchdog() touch_nmi_watchdog()
#define ftm_resched() cond_resched()
#endif

#include "ftm_engine.h"
#include "ftm_arch.h"

#ifndef ftm_resched
#ifdef FTM_ENGINE_TEST
/* The unit test checks where a walk reschedules. */
void ftm_test_resched(void);
#define ftm_resched() ftm_test_resched()
#else
#define ftm_resched() do { } while (0)
#endif
#endif

#define FTM_LINE_MASK ((u64)FTM_LINE_SIZE - 1)

static enum ftm_arch_insn ftm_insn[2];

static const char *const ftm_insn_name[] = {
	[FTM_INSN_CLFLUSH] = "clflush",
	[FTM_INSN_CLFLUSHOPT] = "clflushopt",
	[FTM_INSN_CLWB] = "clwb",
};

void ftm_engine_init(void)
{
	enum ftm_arch_insn inval = FTM_INSN_CLFLUSH;

	if (ftm_arch_has(FTM_INSN_CLFLUSHOPT))
		inval = FTM_INSN_CLFLUSHOPT;
	ftm_insn[FTM_LINE_INVALIDATE] = inval;
	ftm_insn[FTM_LINE_WRITEBACK] =
		ftm_arch_has(FTM_INSN_CLWB) ? FTM_INSN_CLWB : inval;
}

const char *ftm_engine_insn(enum ftm_line_op op)
{
	return ftm_insn_name[ftm_insn[op]];
}

static __always_inline void ftm_lines(enum ftm_arch_insn insn, char *p, char *end)
{
	switch (insn) {
	case FTM_INSN_CLWB:
		ftm_arch_lines_clwb(p, end);
		break;
	case FTM_INSN_CLFLUSHOPT:
		ftm_arch_lines_clflushopt(p, end);
		break;
	default:
		ftm_arch_lines_clflush(p, end);
		break;
	}
}

u64 ftm_engine_set_bytes(const struct ftm_span *spans, unsigned int nr)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < nr; i++)
		total += spans[i].size;
	return total;
}

/* The first line of a span, and how many lines hold its bytes. */
static __always_inline char *ftm_span_base(const struct ftm_span *s)
{
	return (char *)((unsigned long)s->virt & ~(unsigned long)FTM_LINE_MASK);
}

static __always_inline u64 ftm_span_lines(const struct ftm_span *s)
{
	u64 head = (unsigned long)s->virt & FTM_LINE_MASK;

	return s->size ? (head + s->size + FTM_LINE_MASK) / FTM_LINE_SIZE : 0;
}

u64 ftm_engine_set_line_bytes(const struct ftm_span *spans, unsigned int nr)
{
	u64 lines = 0;
	unsigned int i;

	for (i = 0; i < nr; i++)
		lines += ftm_span_lines(&spans[i]);
	return lines * FTM_LINE_SIZE;
}

/*
 * Flush lines [begin, end) of the set, counted across its spans (each span
 * rounded out to whole lines).  Inlined once per instruction, so that the
 * span loop carries no dispatch: with thousands of 4 KiB spans, the
 * per-span work is what separates the engine from a bare line loop.  The
 * watchdog is fed, and a process-context walk reschedules, after every
 * FTM_CHUNK_BYTES flushed, however they fall across spans.
 */
static __always_inline u64 ftm_walk_insn(enum ftm_arch_insn insn,
					 const struct ftm_span *spans, unsigned int nr,
					 u64 begin, u64 end, bool may_resched)
{
	const u64 chunk = FTM_CHUNK_BYTES / FTM_LINE_SIZE;
	u64 off = 0, done = 0, unfed = 0;
	unsigned int i;

	for (i = 0; i < nr && off < end; i++) {
		u64 n = ftm_span_lines(&spans[i]);
		u64 from = begin > off ? begin - off : 0;
		u64 to = end - off < n ? end - off : n;
		char *base = ftm_span_base(&spans[i]);

		off += n;
		while (from < to) {
			u64 step = to - from < chunk - unfed ? to - from : chunk - unfed;

			ftm_lines(insn, base + from * FTM_LINE_SIZE,
				  base + (from + step) * FTM_LINE_SIZE);
			from += step;
			done += step;
			unfed += step;
			if (unfed == chunk) {
				ftm_feed_watchdog();
				if (may_resched)
					ftm_resched();
				unfed = 0;
			}
		}
	}
	return done * FTM_LINE_SIZE;
}

u64 ftm_engine_walk(const struct ftm_walk *w)
{
	u64 begin = 0, end = U64_MAX;

	/* A whole walk needs no pre-pass over the set to find its share. */
	if (w->nparts > 1) {
		u64 lines = ftm_engine_set_line_bytes(w->spans, w->nr) / FTM_LINE_SIZE;

		begin = lines * w->part / w->nparts;
		end = lines * (w->part + 1) / w->nparts;
	}
	switch (ftm_insn[w->op]) {
	case FTM_INSN_CLWB:
		return ftm_walk_insn(FTM_INSN_CLWB, w->spans, w->nr, begin, end, w->may_resched);
	case FTM_INSN_CLFLUSHOPT:
		return ftm_walk_insn(FTM_INSN_CLFLUSHOPT, w->spans, w->nr, begin, end,
				     w->may_resched);
	default:
		return ftm_walk_insn(FTM_INSN_CLFLUSH, w->spans, w->nr, begin, end, w->may_resched);
	}
}

void ftm_engine_fence(void)
{
	ftm_arch_fence();
}
