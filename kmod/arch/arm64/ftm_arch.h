/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 cache maintenance by virtual address for the flush engine: how the
 * engine's generic operations (enum ftm_line_op) map onto this CPU.  See
 * arch/x86/ftm_arch.h for what every arch header provides.  Everything
 * here is unprivileged (EL0 may issue DC CVAC/CVAP/CIVAC and read CTR_EL0
 * where the kernel allows it, as Linux does), so the same header serves a
 * user-space build.
 *
 *   write back  DC CVAP (clean to the point of persistence) where every CPU
 *               has DCPOP (ARMv8.2; the kernel's ARM64_HAS_DCPOP, user
 *               space's HWCAP_DCPOP), else DC CVAC (clean to the point of
 *               coherency), as the kernel's arch_wb_cache_pmem() does
 *   invalidate  DC CIVAC (clean and invalidate to the point of coherency)
 *   fence       DSB SY: a DC by VA is complete, for every observer, only
 *               once a later DSB has completed (Arm ARM, DDI 0487, "Ordering
 *               and completion of data and instruction cache instructions")
 *
 * The stride is the smallest data cache line of any CPU: CTR_EL0.DminLine
 * (log2 of 4-byte words), the system-wide safe value the kernel keeps
 * (read_sanitised_ftr_reg()); never a constant, as big.LITTLE systems and
 * some server cores differ (64 and 128 bytes are both seen).
 *
 * Maintenance by VA to the point of coherency (or persistence) is broadcast
 * to every PE in the shareability domain of the address, and Linux maps
 * memory Normal Inner Shareable over a domain that holds every CPU it runs
 * on: one CPU's DC CVAC of a line cleans it from whichever cache holds it
 * (Arm ARM, DDI 0487, "Cache maintenance instructions": the effects of
 * instructions that operate by VA), so a walk needs no help from the other
 * CPUs, at panic as anywhere.
 */
#ifndef FTM_ARCH_ARM64_H
#define FTM_ARCH_ARM64_H

#include "ftm_engine.h"

#define FTM_ARCH_INSNS(X)			\
	X(FTM_INSN_DC_CVAC, "dc cvac")		\
	X(FTM_INSN_DC_CVAP, "dc cvap")		\
	X(FTM_INSN_DC_CIVAC, "dc civac")

enum ftm_arch_insn { FTM_INSN_DC_CVAC, FTM_INSN_DC_CVAP, FTM_INSN_DC_CIVAC };

#define FTM_ARM64_DMINLINE_SHIFT	16	/* CTR_EL0.DminLine, bits [19:16] */

#if defined(__KERNEL__)
#include <asm/cpufeature.h>
#include <asm/sysreg.h>
/* Every CPU has DCPOP (a capability is set only when all CPUs have it). */
static inline bool ftm_arch_has_dcpop(void)
{
	return cpus_have_cap(ARM64_HAS_DCPOP);
}

static inline unsigned int ftm_arch_line_size(void)
{
	u64 ctr = read_sanitised_ftr_reg(SYS_CTR_EL0);

	return 4U << ((ctr >> FTM_ARM64_DMINLINE_SHIFT) & 0xf);
}
#elif defined(FTM_ENGINE_TEST)
bool ftm_arch_has_dcpop(void);
unsigned int ftm_arch_line_size(void);
#else
#include <sys/auxv.h>
#ifndef HWCAP_DCPOP
#define HWCAP_DCPOP (1UL << 16)
#endif
static inline bool ftm_arch_has_dcpop(void)
{
	return getauxval(AT_HWCAP) & HWCAP_DCPOP;
}

/* This CPU's CTR_EL0 (the kernel traps and emulates it where CPUs differ). */
static inline unsigned int ftm_arch_line_size(void)
{
	unsigned long ctr;

	__asm__ __volatile__("mrs %0, ctr_el0" : "=r" (ctr));
	return 4U << ((ctr >> FTM_ARM64_DMINLINE_SHIFT) & 0xf);
}
#endif

static inline enum ftm_arch_insn ftm_arch_insn_for(enum ftm_line_op op)
{
	if (op == FTM_LINE_INVALIDATE)
		return FTM_INSN_DC_CIVAC;
	return ftm_arch_has_dcpop() ? FTM_INSN_DC_CVAP : FTM_INSN_DC_CVAC;
}

static inline void ftm_arch_lines_cvac(char *p, char *end, unsigned long line)
{
	for (; p < end; p += line)
		__asm__ __volatile__("dc cvac, %0" : : "r" (p) : "memory");
}

/* DC CVAP as its SYS encoding: assemblers without ARMv8.2 take it too. */
static inline void ftm_arch_lines_cvap(char *p, char *end, unsigned long line)
{
	for (; p < end; p += line)
		__asm__ __volatile__("sys #3, c7, c12, #1, %0" : : "r" (p) : "memory");
}

static inline void ftm_arch_lines_civac(char *p, char *end, unsigned long line)
{
	for (; p < end; p += line)
		__asm__ __volatile__("dc civac, %0" : : "r" (p) : "memory");
}

/* @insn is a constant where the engine inlines a walk per instruction. */
static __always_inline void ftm_arch_lines(enum ftm_arch_insn insn, char *p, char *end,
					   unsigned long line)
{
	switch (insn) {
	case FTM_INSN_DC_CVAP:
		ftm_arch_lines_cvap(p, end, line);
		break;
	case FTM_INSN_DC_CIVAC:
		ftm_arch_lines_civac(p, end, line);
		break;
	default:
		ftm_arch_lines_cvac(p, end, line);
		break;
	}
}

static inline void ftm_arch_fence(void)
{
	__asm__ __volatile__("dsb sy" : : : "memory");
}

#endif /* FTM_ARCH_ARM64_H */
