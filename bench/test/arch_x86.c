// SPDX-License-Identifier: GPL-2.0
/* The engine's unit test, x86 part: CPUID stand-in and the instruction choice. */
#include <string.h>

#include "engine_test.h"

static bool has[FTM_TEST_NR_INSNS];	/* what the test's CPU has */

bool ftm_arch_has(enum ftm_arch_insn insn)
{
	return has[insn];
}

void arch_has_all(void)
{
	has[FTM_INSN_CLFLUSH] = has[FTM_INSN_CLFLUSHOPT] = has[FTM_INSN_CLWB] = true;
	ftm_engine_init();
}

static const struct {
	bool clflushopt, clwb;
	const char *wb, *inval;
} cases[] = {
	{ true, true, "clwb", "clflushopt" },
	{ true, false, "clflushopt", "clflushopt" },
	{ false, false, "clflush", "clflush" },
	{ false, true, "clwb", "clflush" },
};

const unsigned int test_insn_cases = sizeof(cases) / sizeof(cases[0]);

void test_insn_choice(struct tap *t)
{
	unsigned int i;

	for (i = 0; i < test_insn_cases; i++) {
		const char *wb, *inval;

		has[FTM_INSN_CLFLUSH] = true;
		has[FTM_INSN_CLFLUSHOPT] = cases[i].clflushopt;
		has[FTM_INSN_CLWB] = cases[i].clwb;
		ftm_engine_init();
		wb = ftm_engine_insn(FTM_LINE_WRITEBACK);
		inval = ftm_engine_insn(FTM_LINE_INVALIDATE);
		tap_result(t, !strcmp(wb, cases[i].wb) && !strcmp(inval, cases[i].inval),
			   "with clflushopt=%d clwb=%d: write back uses %s (want %s), invalidate %s (want %s)",
			   cases[i].clflushopt, cases[i].clwb, wb, cases[i].wb, inval, cases[i].inval);
	}
	arch_has_all();
}
