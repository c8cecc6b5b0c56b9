// SPDX-License-Identifier: GPL-2.0
/*
 * Flush engine: see ftm_engine.h.  No architecture instruction appears here;
 * they come from arch/<arch>/ftm_arch.h.
 */
#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/nmi.h>
#define ftm_feed_watchdog() touch_nmi_watchdog()
#endif

#include "ftm_engine.h"
#include "ftm_arch.h"

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

/*
 * Flush bytes [begin, end) of the set, counted across its spans.  Inlined
 * once per instruction, so that the span loop carries no dispatch: with
 * thousands of 4 KiB spans, the per-span work is what separates the engine
 * from a bare line loop.  The watchdog is fed after every FTM_CHUNK_BYTES
 * flushed, however they fall across spans.
 */
static __always_inline u64 ftm_walk_insn(enum ftm_arch_insn insn,
					 const struct ftm_span *spans,
					 unsigned int nr, u64 begin, u64 end)
{
	u64 off = 0, done = 0, unfed = 0;
	unsigned int i;

	for (i = 0; i < nr && off < end; off += spans[i].size, i++) {
		u64 from = begin > off ? begin - off : 0;
		u64 to = end - off < spans[i].size ? end - off : spans[i].size;
		char *base = spans[i].virt;

		while (from < to) {
			u64 step = to - from < FTM_CHUNK_BYTES - unfed ?
				   to - from : FTM_CHUNK_BYTES - unfed;

			ftm_lines(insn, base + from, base + from + step);
			from += step;
			done += step;
			unfed += step;
			if (unfed == FTM_CHUNK_BYTES) {
				ftm_feed_watchdog();
				unfed = 0;
			}
		}
	}
	return done;
}

u64 ftm_engine_walk(const struct ftm_walk *w)
{
	u64 begin = 0, end = U64_MAX;

	/* A whole walk needs no pre-pass over the set to find its share. */
	if (w->nparts > 1) {
		u64 lines = ftm_engine_set_bytes(w->spans, w->nr) / FTM_LINE_SIZE;

		begin = lines * w->part / w->nparts * FTM_LINE_SIZE;
		end = lines * (w->part + 1) / w->nparts * FTM_LINE_SIZE;
	}
	switch (ftm_insn[w->op]) {
	case FTM_INSN_CLWB:
		return ftm_walk_insn(FTM_INSN_CLWB, w->spans, w->nr, begin, end);
	case FTM_INSN_CLFLUSHOPT:
		return ftm_walk_insn(FTM_INSN_CLFLUSHOPT, w->spans, w->nr, begin, end);
	default:
		return ftm_walk_insn(FTM_INSN_CLFLUSH, w->spans, w->nr, begin, end);
	}
}

void ftm_engine_fence(void)
{
	ftm_arch_fence();
}
