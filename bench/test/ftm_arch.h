/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counting stand-in for kmod/arch/ARCH/ftm_arch.h (x86, or arm64 where the
 * test is built for it), found first on the include path of the engine's
 * unit test only: the engine source is compiled unchanged, but each "line
 * instruction" records which line it hit instead of executing.  The real
 * header is included for its instructions and its choice of them
 * (FTM_ENGINE_TEST: what the CPU has and its line size come from the
 * test), with its line loop and fence renamed out of the way, so the two
 * cannot drift apart.
 */
#ifndef FTM_ARCH_COUNTING_H
#define FTM_ARCH_COUNTING_H

#define ftm_arch_lines ftm_arch_lines_real
#define ftm_arch_fence ftm_arch_fence_real
#if defined(__aarch64__)
#include "../../kmod/arch/arm64/ftm_arch.h"
/* What the engine must use on a CPU with every instruction (DCPOP). */
#define FTM_TEST_WB	FTM_INSN_DC_CVAP
#define FTM_TEST_INVAL	FTM_INSN_DC_CIVAC
#else
#include "../../kmod/arch/x86/ftm_arch.h"
/* What the engine must use on a CPU with every instruction (clwb, clflushopt). */
#define FTM_TEST_WB	FTM_INSN_CLWB
#define FTM_TEST_INVAL	FTM_INSN_CLFLUSHOPT
#endif
#undef ftm_arch_lines
#undef ftm_arch_fence

/* The line size the test's arithmetic uses; ftm_arch_line_size() returns it. */
#define FTM_LINE_SIZE 64

/* Implemented by the test (engine_test.c). */
void ftm_count_lines(enum ftm_arch_insn insn, char *p, char *end, unsigned long line);
void ftm_arch_fence(void);

static inline void ftm_arch_lines(enum ftm_arch_insn insn, char *p, char *end,
				  unsigned long line)
{
	ftm_count_lines(insn, p, end, line);
}

#endif /* FTM_ARCH_COUNTING_H */
