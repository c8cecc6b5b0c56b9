/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 cache-line instructions for the flush engine.  Shared by the kernel
 * build and the user-space benchmark: only instructions that are
 * unprivileged live here (clwb, clflushopt, clflush, sfence); wbinvd is in
 * the kernel-only arch file.
 */
#ifndef FTM_ARCH_X86_H
#define FTM_ARCH_X86_H

#define FTM_LINE_SIZE 64

enum ftm_arch_insn { FTM_INSN_CLFLUSH, FTM_INSN_CLFLUSHOPT, FTM_INSN_CLWB };

#ifdef __KERNEL__
#include <asm/cpufeature.h>
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
#endif

static inline void ftm_arch_lines_clwb(char *p, char *end)
{
	for (; p < end; p += FTM_LINE_SIZE)
		__asm__ __volatile__("clwb %0" : "+m" (*(volatile char *)p));
}

static inline void ftm_arch_lines_clflushopt(char *p, char *end)
{
	for (; p < end; p += FTM_LINE_SIZE)
		__asm__ __volatile__("clflushopt %0" : "+m" (*(volatile char *)p));
}

static inline void ftm_arch_lines_clflush(char *p, char *end)
{
	for (; p < end; p += FTM_LINE_SIZE)
		__asm__ __volatile__("clflush %0" : "+m" (*(volatile char *)p));
}

static inline void ftm_arch_fence(void)
{
	__asm__ __volatile__("sfence" ::: "memory");
}

#endif /* FTM_ARCH_X86_H */
