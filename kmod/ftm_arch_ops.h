/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the generic part of flushtm needs from an architecture.  The line
 * instructions live in arch/<arch>/ftm_arch.h (shared with the benchmark);
 * everything privileged or tied to interrupt plumbing lives behind this
 * header, in arch/<arch>/ftm_<arch>.c.
 */
#ifndef FTM_ARCH_OPS_H
#define FTM_ARCH_OPS_H

#include <linux/types.h>

void ftm_arch_init(void);
void ftm_arch_exit(void);

/*
 * Last-level cache size in bytes, 0 when unknown: what the CPU reports
 * when cacheinfo (the generic source, ftm_llc_bytes()) has nothing.
 */
u64 ftm_arch_llc_bytes(void);

/* The nmi hook: an external NMI calls ftm_flush_crash(FTM_HOOK_NMI). */
bool ftm_arch_has_nmi(void);
int ftm_arch_nmi_arm(void);
void ftm_arch_nmi_disarm(void);

/* Whole-cache write back (method cache). */
bool ftm_arch_has_cache(void);
void ftm_arch_cache_local(void);	/* this CPU; any context */
void ftm_arch_cache_all(void);		/* every online CPU; process context */
/*
 * Crash context (panic, die, nmi; interrupts off, maybe in NMI): this CPU,
 * and every other online CPU through the NMI handshake when it is armed,
 * each before this returns (bounded wait; @why names the hook in the line
 * that lists CPUs which did not answer).
 */
void ftm_arch_cache_crash(const char *why);

/*
 * The handshake's receiving side (an NMI handler on every CPU): armed
 * while a crash hook (panic, die, nmi) is armed with a method that may
 * choose cache.  Process context.
 */
int ftm_arch_cache_others_arm(void);
void ftm_arch_cache_others_disarm(void);

/*
 * Make the other CPUs write back their own caches before a panic stops
 * them (the stop path decorated); armed while the panic hook is armed with
 * a method that may choose cache.  Process context.
 */
int ftm_arch_panic_cache_arm(void);
void ftm_arch_panic_cache_disarm(void);

/*
 * The split crash flush (ftm_flush.c): ready while the handshake's NMI
 * handler is registered (it calls ftm_split_answer()); kick sends @cpus an
 * NMI.  Crash context.  An arch without them has weak defaults: not ready,
 * and a crash flush walks on one CPU.
 */
struct cpumask;
bool ftm_arch_split_ready(void);
void ftm_arch_split_kick(const struct cpumask *cpus);

#endif /* FTM_ARCH_OPS_H */
