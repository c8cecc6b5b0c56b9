/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 cache-line instructions for the flush engine: how the engine's
 * generic operations (enum ftm_line_op) map onto this CPU.  Shared by the
 * kernel build and the user-space benchmark: only instructions that are
 * unprivileged live here (clwb, clflushopt, clflush, sfence); wbinvd is in
 * the kernel-only arch file.
 *
 * What every arch/<arch>/ftm_arch.h provides to the engine:
 *   FTM_ARCH_INSNS(X)         X(id, "name") for each line instruction
 *   enum ftm_arch_insn        those ids
 *   ftm_arch_insn_for(op)     the instruction this CPU uses for @op
 *   ftm_arch_line_size()      the stride of a line walk, a power of two
 *   ftm_arch_lines(i, p, e, line)  issue @i on each line of [p, e)
 *   ftm_arch_fence()          order the line operations before later stores
 *
 * x86 does not tell the point of coherency from the point of persistence:
 * clwb (else clflushopt, else clflush) writes a line back to the memory
 * controller, which is the persistence domain with ADR.
 */
#ifndef FTM_ARCH_X86_H
#define FTM_ARCH_X86_H

#include "ftm_engine.h"

#define FTM_ARCH_INSNS(X)			\
	X(FTM_INSN_CLFLUSH, "clflush")		\
	X(FTM_INSN_CLFLUSHOPT, "clflushopt")	\
	X(FTM_INSN_CLWB, "clwb")

enum ftm_arch_insn { FTM_INSN_CLFLUSH, FTM_INSN_CLFLUSHOPT, FTM_INSN_CLWB };

#if defined(__KERNEL__)
#include <asm/cpufeature.h>
#include <asm/processor.h>
static inline bool ftm_arch_has(enum ftm_arch_insn insn)
{
	switch (insn) {
	case FTM_INSN_CLWB:
		return boot_cpu_has(X86_FEATURE_CLWB);
	case FTM_INSN_CLFLUSHOPT:
		return boot_cpu_has(X86_FEATURE_CLFLUSHOPT);
	default:
		return boot_cpu_has(X86_FEATURE_CLFLUSH);
	}
}

/* What clflush_cache_range() steps by. */
static inline unsigned int ftm_arch_line_size(void)
{
	return boot_cpu_data.x86_clflush_size;
}
#elif defined(FTM_ENGINE_TEST)
/* The engine's unit test says what the CPU has and how long its lines are. */
bool ftm_arch_has(enum ftm_arch_insn insn);
unsigned int ftm_arch_line_size(void);
#else
#include <cpuid.h>
static inline bool ftm_arch_has(enum ftm_arch_insn insn)
{
	unsigned int a, b, c, d;

	if (insn == FTM_INSN_CLFLUSH)
		return __get_cpuid(1, &a, &b, &c, &d) && (d & (1u << 19));
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return b & (1u << (insn == FTM_INSN_CLWB ? 24 : 23));
}

/* CPUID.1:EBX[15:8], the clflush line size in 8-byte units. */
static inline unsigned int ftm_arch_line_size(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !((b >> 8) & 0xff))
		return 64;
	return ((b >> 8) & 0xff) * 8;
}
#endif

/* Write back: clwb, else the best invalidating one; invalidate: clflushopt, else clflush. */
static inline enum ftm_arch_insn ftm_arch_insn_for(enum ftm_line_op op)
{
	enum ftm_arch_insn inval = FTM_INSN_CLFLUSH;

	if (ftm_arch_has(FTM_INSN_CLFLUSHOPT))
		inval = FTM_INSN_CLFLUSHOPT;
	if (op == FTM_LINE_WRITEBACK && ftm_arch_has(FTM_INSN_CLWB))
		return FTM_INSN_CLWB;
	return inval;
}

static inline void ftm_arch_lines_clwb(char *p, char *end, unsigned long line)
{
	for (; p < end; p += line)
		__asm__ __volatile__("clwb %0" : "+m" (*(volatile char *)p));
}

static inline void ftm_arch_lines_clflushopt(char *p, char *end, unsigned long line)
{
	for (; p < end; p += line)
		__asm__ __volatile__("clflushopt %0" : "+m" (*(volatile char *)p));
}

static inline void ftm_arch_lines_clflush(char *p, char *end, unsigned long line)
{
	for (; p < end; p += line)
		__asm__ __volatile__("clflush %0" : "+m" (*(volatile char *)p));
}

/* @insn is a constant where the engine inlines a walk per instruction. */
static __always_inline void ftm_arch_lines(enum ftm_arch_insn insn, char *p, char *end,
					   unsigned long line)
{
	switch (insn) {
	case FTM_INSN_CLWB:
		ftm_arch_lines_clwb(p, end, line);
		break;
	case FTM_INSN_CLFLUSHOPT:
		ftm_arch_lines_clflushopt(p, end, line);
		break;
	default:
		ftm_arch_lines_clflush(p, end, line);
		break;
	}
}

static inline void ftm_arch_fence(void)
{
	__asm__ __volatile__("sfence" ::: "memory");
}

#endif /* FTM_ARCH_X86_H */
