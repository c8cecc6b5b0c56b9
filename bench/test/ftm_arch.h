/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counting stand-in for kmod/arch/x86/ftm_arch.h, found first on the include
 * path of the engine's unit test only: the engine source is compiled
 * unchanged, but each "line instruction" records which line it hit instead
 * of executing.  The real header is included for its constants, with its
 * line loops renamed out of the way, so the two cannot drift apart.
 */
#ifndef FTM_ARCH_COUNTING_H
#define FTM_ARCH_COUNTING_H

#define ftm_arch_has ftm_arch_has_real
#define ftm_arch_lines_clwb ftm_arch_lines_clwb_real
#define ftm_arch_lines_clflushopt ftm_arch_lines_clflushopt_real
#define ftm_arch_lines_clflush ftm_arch_lines_clflush_real
#define ftm_arch_fence ftm_arch_fence_real
#include "../../kmod/arch/x86/ftm_arch.h"
#undef ftm_arch_has
#undef ftm_arch_lines_clwb
#undef ftm_arch_lines_clflushopt
#undef ftm_arch_lines_clflush
#undef ftm_arch_fence

/* Implemented by the test (engine_test.c). */
bool ftm_arch_has(enum ftm_arch_insn insn);
void ftm_count_lines(enum ftm_arch_insn insn, char *p, char *end);
void ftm_arch_fence(void);

static inline void ftm_arch_lines_clwb(char *p, char *end)
{
	ftm_count_lines(FTM_INSN_CLWB, p, end);
}

static inline void ftm_arch_lines_clflushopt(char *p, char *end)
{
	ftm_count_lines(FTM_INSN_CLFLUSHOPT, p, end);
}

static inline void ftm_arch_lines_clflush(char *p, char *end)
{
	ftm_count_lines(FTM_INSN_CLFLUSH, p, end);
}

#endif /* FTM_ARCH_COUNTING_H */
