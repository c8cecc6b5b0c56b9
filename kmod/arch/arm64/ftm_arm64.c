// SPDX-License-Identifier: GPL-2.0
/*
 * arm64: what flushtm needs from the architecture beyond the line
 * instructions (arch/arm64/ftm_arch.h).  Little: a line walk is all
 * flushtm does here.
 *
 * No nmi hook: Debian's kernel has no CONFIG_ARM64_PSEUDO_NMI, and without
 * it there is no NMI on arm64 (an FIQ is the firmware's).  A pseudo-NMI
 * kernel delivers its NMIs (GIC interrupt priorities, request_nmi()) for
 * the stop IPI and the backtrace IPI, not for an external button; an
 * external hook would take an SDEI event (the firmware's "NMI" to the OS,
 * sdei_event_register()) that a BMC can signal, which QEMU's virt machine
 * does not offer.
 *
 * No method cache: the architecture has no whole-cache clean by address,
 * and clean by set/way (DC CSW) reaches only this CPU's caches as the
 * firmware sees them, cannot be made safe while other CPUs run (Arm ARM:
 * set/way maintenance is for power-down sequences only, and system caches
 * beyond the PoC are not reached), so it is refused.  Lines covers every
 * hook: maintenance by VA is broadcast (ftm_arch.h), so at a panic the
 * CPU running the notifiers writes back the lines of every cache alone,
 * and the stop path needs no decorating (arm64 has no smp_ops to decorate:
 * smp_send_stop() is a plain function, and a kprobe on it would run in the
 * panicking CPU's context, before the IPI, which gains nothing over the
 * panic notifier).
 */
#include <linux/errno.h>
#include <linux/types.h>

#include "ftm_arch_ops.h"

/* cacheinfo (ftm_llc_bytes()) is the one source on arm64: CLIDR/CCSIDR, ACPI PPTT or DT. */
u64 ftm_arch_llc_bytes(void)
{
	return 0;
}

bool ftm_arch_has_nmi(void)
{
	return false;
}

int ftm_arch_nmi_arm(void)
{
	return -EOPNOTSUPP;
}

void ftm_arch_nmi_disarm(void)
{
}

bool ftm_arch_has_cache(void)
{
	return false;
}

/* Never called: ftm_arch_has_cache() is false, so no flush picks cache. */
void ftm_arch_cache_local(void)
{
}

void ftm_arch_cache_all(void)
{
}

void ftm_arch_cache_crash(const char *why)
{
}

int ftm_arch_cache_others_arm(void)
{
	return -EOPNOTSUPP;
}

void ftm_arch_cache_others_disarm(void)
{
}

int ftm_arch_panic_cache_arm(void)
{
	return -EOPNOTSUPP;
}

void ftm_arch_panic_cache_disarm(void)
{
}

void ftm_arch_init(void)
{
}

void ftm_arch_exit(void)
{
}
