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

static void ftm_lines(enum ftm_arch_insn insn, char *p, char *end)
{
	while (p < end) {
		char *stop = (u64)(end - p) > FTM_CHUNK_BYTES ? p + FTM_CHUNK_BYTES : end;

		switch (insn) {
		case FTM_INSN_CLWB:
			ftm_arch_lines_clwb(p, stop);
			break;
		case FTM_INSN_CLFLUSHOPT:
			ftm_arch_lines_clflushopt(p, stop);
			break;
		default:
			ftm_arch_lines_clflush(p, stop);
			break;
		}
		p = stop;
		ftm_feed_watchdog();
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

u64 ftm_engine_walk(const struct ftm_walk *w)
{
	u64 lines = ftm_engine_set_bytes(w->spans, w->nr) / FTM_LINE_SIZE;
	u64 begin = lines * w->part / w->nparts * FTM_LINE_SIZE;
	u64 end = lines * (w->part + 1) / w->nparts * FTM_LINE_SIZE;
	enum ftm_arch_insn insn = ftm_insn[w->op];
	u64 off = 0, done = 0;
	unsigned int i;

	for (i = 0; i < w->nr && off < end; off += w->spans[i].size, i++) {
		u64 from = begin > off ? begin - off : 0;
		u64 to = end - off < w->spans[i].size ? end - off : w->spans[i].size;
		char *base = w->spans[i].virt;

		if (from >= to)
			continue;
		ftm_lines(insn, base + from, base + to);
		done += to - from;
	}
	return done;
}

void ftm_engine_fence(void)
{
	ftm_arch_fence();
}
