// SPDX-License-Identifier: GPL-2.0
/*
 * arm64: not built yet (the line instructions, dc cvac/civac, belong in
 * arch/arm64/ftm_arch.h).  There is no external-NMI hook and no whole-cache
 * write back by set/way that is safe with other CPUs running, so the nmi
 * hook is unavailable and method cache is refused; lines covers every
 * hook.
 */
#include <linux/errno.h>
#include <linux/types.h>

#include "ftm_arch_ops.h"

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
