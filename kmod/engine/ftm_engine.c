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

static enum ftm_arch_insn ftm_insn[FTM_LINE_INVALIDATE + 1];
static unsigned long ftm_line;		/* bytes, a power of two */
static unsigned int ftm_line_shift;

#define FTM_INSN_NAME(id, name) [id] = name,
static const char *const ftm_insn_name[] = { FTM_ARCH_INSNS(FTM_INSN_NAME) };

void ftm_engine_init(void)
{
	ftm_insn[FTM_LINE_WRITEBACK] = ftm_arch_insn_for(FTM_LINE_WRITEBACK);
	ftm_insn[FTM_LINE_INVALIDATE] = ftm_arch_insn_for(FTM_LINE_INVALIDATE);
	ftm_line = ftm_arch_line_size();
	ftm_line_shift = __builtin_ctzl(ftm_line);
}

const char *ftm_engine_insn(enum ftm_line_op op)
{
	return ftm_insn_name[ftm_insn[op]];
}

unsigned int ftm_engine_line_size(void)
{
	return ftm_line;
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
	return (char *)((unsigned long)s->virt & ~(ftm_line - 1));
}

static __always_inline u64 ftm_span_lines(const struct ftm_span *s)
{
	u64 head = (unsigned long)s->virt & (ftm_line - 1);

	return s->size ? (head + s->size + ftm_line - 1) >> ftm_line_shift : 0;
}

u64 ftm_engine_set_line_bytes(const struct ftm_span *spans, unsigned int nr)
{
	u64 lines = 0;
	unsigned int i;

	for (i = 0; i < nr; i++)
		lines += ftm_span_lines(&spans[i]);
	return lines << ftm_line_shift;
}

/*
 * Flush lines [begin, end) of the set, counted across its spans (each span
 * rounded out to whole lines).  Inlined once per instruction of the arch
 * (FTM_ARCH_INSNS), @insn a constant in each copy, so that the
 * span loop carries no dispatch: with thousands of 4 KiB spans, the
 * per-span work is what separates the engine from a bare line loop.  The
 * watchdog is fed, and a process-context walk reschedules, after every
 * FTM_CHUNK_BYTES flushed, however they fall across spans.
 */
static __always_inline u64 ftm_walk_insn(enum ftm_arch_insn insn,
					 const struct ftm_span *spans, unsigned int nr,
					 u64 begin, u64 end, bool may_resched)
{
	const unsigned long line = ftm_line;
	const u64 chunk = FTM_CHUNK_BYTES >> ftm_line_shift;
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

			ftm_arch_lines(insn, base + (from << ftm_line_shift),
				       base + ((from + step) << ftm_line_shift), line);
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
	return done << ftm_line_shift;
}

u64 ftm_engine_walk(const struct ftm_walk *w)
{
	u64 begin = 0, end = U64_MAX;

	/* A whole walk needs no pre-pass over the set to find its share. */
	if (w->nparts > 1) {
		u64 lines = ftm_engine_set_line_bytes(w->spans, w->nr) >> ftm_line_shift;

		begin = lines * w->part / w->nparts;
		end = lines * (w->part + 1) / w->nparts;
	}
	switch (ftm_insn[w->op]) {
#define FTM_WALK_CASE(id, name)						\
	case id:							\
		return ftm_walk_insn(id, w->spans, w->nr, begin, end, w->may_resched);
	FTM_ARCH_INSNS(FTM_WALK_CASE)
#undef FTM_WALK_CASE
	}
	return 0;	/* not reached: ftm_insn[] holds one of the cases */
}

void ftm_engine_fence(void)
{
	ftm_arch_fence();
}
