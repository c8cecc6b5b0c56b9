// SPDX-License-Identifier: GPL-2.0
/* The engine's unit test, arm64 part: the DCPOP stand-in and the instruction choice. */
#include <string.h>

#include "engine_test.h"

static bool dcpop;	/* what the test's CPUs have (ARM64_HAS_DCPOP, HWCAP_DCPOP) */

bool ftm_arch_has_dcpop(void)
{
	return dcpop;
}

void arch_has_all(void)
{
	dcpop = true;
	ftm_engine_init();
}

static const struct {
	bool dcpop;
	const char *wb, *inval;
} cases[] = {
	{ true, "dc cvap", "dc civac" },	/* ARMv8.2 and later: to the point of persistence */
	{ false, "dc cvac", "dc civac" },	/* ARMv8.0: to the point of coherency */
};

const unsigned int test_insn_cases = sizeof(cases) / sizeof(cases[0]);

void test_insn_choice(struct tap *t)
{
	unsigned int i;

	for (i = 0; i < test_insn_cases; i++) {
		const char *wb, *inval;

		dcpop = cases[i].dcpop;
		ftm_engine_init();
		wb = ftm_engine_insn(FTM_LINE_WRITEBACK);
		inval = ftm_engine_insn(FTM_LINE_INVALIDATE);
		tap_result(t, !strcmp(wb, cases[i].wb) && !strcmp(inval, cases[i].inval),
			   "with dcpop=%d: write back uses %s (want %s), invalidate %s (want %s)",
			   cases[i].dcpop, wb, cases[i].wb, inval, cases[i].inval);
	}
	arch_has_all();
}
