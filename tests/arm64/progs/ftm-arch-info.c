// SPDX-License-Identifier: GPL-2.0
/*
 * What the arm64 line instructions of flushtm are on this CPU, as user space
 * sees it through the same header the module is built with
 * (kmod/arch/arm64/ftm_arch.h: HWCAP_DCPOP, CTR_EL0), a line each:
 *   dc cvap          write back
 *   dc civac         invalidate
 *   64               line size in bytes
 * which tests/arm64/kmod.bats compares with the module's load line.
 */
#include <stdbool.h>
#include <stdio.h>

#include "ftm_shim_user.h"
#include "ftm_engine.h"
#include "ftm_arch.h"

#define FTM_INSN_NAME(id, name) [id] = name,
static const char *const names[] = { FTM_ARCH_INSNS(FTM_INSN_NAME) };

int main(void)
{
	printf("%s\n%s\n%u\n", names[ftm_arch_insn_for(FTM_LINE_WRITEBACK)],
	       names[ftm_arch_insn_for(FTM_LINE_INVALIDATE)], ftm_arch_line_size());
	return 0;
}
