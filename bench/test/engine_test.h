/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the engine's unit test shares with its arch part (arch_x86.c,
 * arch_arm64.c): the recorder the counting line instructions fill, TAP
 * output, and the arch part's hooks.
 */
#ifndef FTM_ENGINE_TEST_H
#define FTM_ENGINE_TEST_H

#include <stdbool.h>

#include "ftm_engine.h"
#include "ftm_arch.h"

#define FTM_TEST_COUNT_INSN(id, name) + 1
/* How many line instructions the arch has (FTM_ARCH_INSNS). */
#define FTM_TEST_NR_INSNS (0 FTM_ARCH_INSNS(FTM_TEST_COUNT_INSN))

/*
 * What the counting line instructions saw.  The engine calls the arch hooks
 * by fixed names, so the recorder is reached through one pointer, owned by
 * main().
 */
struct recorder {
	char *arena;
	unsigned char *hits;		/* per line of the arena */
	u64 lines_by_insn[FTM_TEST_NR_INSNS];
	u64 since_feed;			/* bytes flushed since the watchdog was fed */
	u64 max_since_feed;
	u64 fences;
	u64 rescheds;
	u64 end_line;			/* hits[] is zero from here on */
	bool outside;			/* a line outside the arena was hit */
};

struct tap {
	unsigned int n;
	unsigned int failed;
};

void tap_result(struct tap *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Line instructions issued, of any kind. */
u64 lines_total(const struct recorder *r);

/*
 * The arch part.  Each case of test_insn_choice() sets what the CPU "has",
 * initialises the engine and checks its choice (TEST_INSN_CASES results);
 * arch_has_all() then gives the CPU every instruction, after which the
 * engine must use FTM_TEST_WB and FTM_TEST_INVAL (test/ftm_arch.h).
 */
void test_insn_choice(struct tap *t);
void arch_has_all(void);
extern const unsigned int test_insn_cases;

#endif /* FTM_ENGINE_TEST_H */
