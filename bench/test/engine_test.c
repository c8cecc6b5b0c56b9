// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the flush engine (kmod/engine/ftm_engine.c, compiled
 * unchanged against the counting test/ftm_arch.h): for random span sets and
 * every part/nparts split, every line of every span is flushed exactly once,
 * nothing else is touched, the parts are balanced, the watchdog is fed at
 * least every FTM_CHUNK_BYTES, a walk never fences and the instruction
 * follows the requested operation; spans at odd byte offsets and of odd
 * sizes have every line that holds one of their bytes flushed, split or
 * not; a process-context walk reschedules after each chunk, a crash walk
 * never.  Prints TAP.
 *
 * Set FTM_TEST_SEED to replay a run; the seed is printed.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine_test.h"

#define ARENA_BYTES	(512ULL << 20)	/* address space the spans live in */
#define ARENA_LINES	(ARENA_BYTES / FTM_LINE_SIZE)
#define MAX_SPANS	48
#define NR_SETS		300

static struct recorder *rec;

unsigned int ftm_arch_line_size(void)
{
	return FTM_LINE_SIZE;
}

void ftm_count_lines(enum ftm_arch_insn insn, char *p, char *end, unsigned long line)
{
	if (line != FTM_LINE_SIZE)	/* another stride than the CPU's: lines missed */
		rec->outside = true;
	for (; p < end; p += FTM_LINE_SIZE) {
		u64 off = (u64)(p - rec->arena);

		if (p < rec->arena || off >= ARENA_BYTES || off % FTM_LINE_SIZE) {
			rec->outside = true;
			continue;
		}
		if (rec->hits[off / FTM_LINE_SIZE] < 255)
			rec->hits[off / FTM_LINE_SIZE]++;
		if (off / FTM_LINE_SIZE >= rec->end_line)
			rec->end_line = off / FTM_LINE_SIZE + 1;
		rec->lines_by_insn[insn]++;
		rec->since_feed += FTM_LINE_SIZE;
	}
	if (rec->since_feed > rec->max_since_feed)
		rec->max_since_feed = rec->since_feed;
}

void ftm_test_feed_watchdog(void)
{
	rec->since_feed = 0;
}

void ftm_arch_fence(void)
{
	rec->fences++;
}

/* The engine declares it only inside ftm_engine.c (FTM_ENGINE_TEST). */
void ftm_test_resched(void);
void ftm_test_resched(void)
{
	rec->rescheds++;
}

/* xorshift64*: small, seedable, good enough to pick sizes. */
static u64 rnd(u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static u64 rnd_below(u64 *s, u64 n)
{
	return n ? rnd(s) % n : 0;
}

u64 lines_total(const struct recorder *r)
{
	u64 n = 0;
	unsigned int i;

	for (i = 0; i < FTM_TEST_NR_INSNS; i++)
		n += r->lines_by_insn[i];
	return n;
}

void tap_result(struct tap *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", ok ? "" : "not ", ++t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		t->failed++;
}

static void reset(struct recorder *r)
{
	memset(r->hits, 0, r->end_line);
	r->end_line = 0;
	memset(r->lines_by_insn, 0, sizeof(r->lines_by_insn));
	r->since_feed = r->max_since_feed = r->fences = r->rescheds = 0;
	r->outside = false;
}

/*
 * Non-overlapping spans at random line offsets, mostly small, some larger
 * than a watchdog chunk, some empty; sometimes in shuffled order (the engine
 * must not rely on the set being sorted).  With @odd, each span starts at a
 * random byte of its first line and its size is any byte count, and spans
 * never share a line (a line shared by two spans is flushed once for each).
 */
static unsigned int make_set(struct recorder *r, u64 *seed, struct ftm_span *spans, bool odd)
{
	unsigned int nr = (unsigned int)rnd_below(seed, MAX_SPANS + 1);
	u64 line = rnd_below(seed, 64);
	unsigned int i;

	for (i = 0; i < nr; i++) {
		u64 kind = rnd_below(seed, 16), lines;

		if (kind == 0)
			lines = 0;
		else if (kind == 1 && i < 2)
			lines = FTM_CHUNK_BYTES / FTM_LINE_SIZE + rnd_below(seed, 3) - 1;
		else if (kind == 2 && nr < 4 && i == 0)
			lines = rnd_below(seed, 3 * FTM_CHUNK_BYTES / FTM_LINE_SIZE);
		else
			lines = 1 + rnd_below(seed, 3000);
		if ((line + lines + 66) * FTM_LINE_SIZE > ARENA_BYTES)
			break;
		spans[i].virt = r->arena + line * FTM_LINE_SIZE;
		spans[i].phys = 0x100000000ULL + line * FTM_LINE_SIZE;
		spans[i].size = lines * FTM_LINE_SIZE;
		if (odd && lines) {
			u64 head = rnd_below(seed, FTM_LINE_SIZE);
			u64 size = lines * FTM_LINE_SIZE + rnd_below(seed, 2 * FTM_LINE_SIZE);

			size = size > FTM_LINE_SIZE ? size - FTM_LINE_SIZE : 1;
			spans[i].virt = (char *)spans[i].virt + head;
			spans[i].phys += head;
			spans[i].size = size;
			lines = (head + size + FTM_LINE_SIZE - 1) / FTM_LINE_SIZE + 1;
		}
		line += lines + rnd_below(seed, 64);
	}
	nr = i;
	if (nr > 1 && rnd_below(seed, 4) == 0) {
		for (i = nr - 1; i > 0; i--) {
			unsigned int j = (unsigned int)rnd_below(seed, i + 1);
			struct ftm_span tmp = spans[i];

			spans[i] = spans[j];
			spans[j] = tmp;
		}
	}
	return nr;
}

/* The lines [*first, *end) of the arena that hold a byte of the span. */
static void span_lines(const struct recorder *r, const struct ftm_span *s, u64 *first, u64 *end)
{
	u64 off = (u64)((char *)s->virt - r->arena);

	*first = off / FTM_LINE_SIZE;
	*end = s->size ? (off + s->size + FTM_LINE_SIZE - 1) / FTM_LINE_SIZE : *first;
}

/*
 * Every line that holds a byte of a span hit exactly once, and no other
 * line: the hits in the spans account for every line instruction issued.
 */
static bool exactly_once(const struct recorder *r, const struct ftm_span *spans,
			 unsigned int nr, char *why, size_t len)
{
	u64 expect = 0, l;
	u64 seen = lines_total(r);
	unsigned int i;

	for (i = 0; i < nr; i++) {
		u64 first, end;

		span_lines(r, &spans[i], &first, &end);
		for (l = first; l < end; l++) {
			if (r->hits[l] != 1) {
				snprintf(why, len, "span %u line %" PRIu64 " hit %u times",
					 i, l - first, r->hits[l]);
				return false;
			}
		}
		expect += end - first;
	}
	if (seen != expect || r->outside) {
		snprintf(why, len, "%" PRIu64 " line hits for %" PRIu64 " lines%s",
			 seen, expect, r->outside ? ", some outside the arena" : "");
		return false;
	}
	return true;
}

static const unsigned int fixed_nparts[] = { 1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 255, 1024 };

struct split_result {
	u64 sets, walks;
	char exact[160];	/* first failure of each property, "" when none */
	char bytes[160];
	char balance[160];
	char watchdog[160];
	char fence[160];
};

static void check_split(struct recorder *r, const struct ftm_span *spans, unsigned int nr,
			unsigned int nparts, struct split_result *res)
{
	u64 total = ftm_engine_set_line_bytes(spans, nr), sum = 0, lines = total / FTM_LINE_SIZE;
	u64 lo = lines / nparts, hi = lo + (lines % nparts != 0);
	char why[128];
	unsigned int part;

	reset(r);
	for (part = 0; part < nparts; part++) {
		struct ftm_walk w = {
			.spans = spans, .nr = nr, .op = FTM_LINE_WRITEBACK,
			.part = part, .nparts = nparts,
		};
		u64 before = r->lines_by_insn[FTM_TEST_WB];
		u64 done = ftm_engine_walk(&w);
		u64 counted = (r->lines_by_insn[FTM_TEST_WB] - before) * FTM_LINE_SIZE;

		res->walks++;
		sum += done;
		if (done != counted && !res->bytes[0])
			snprintf(res->bytes, sizeof(res->bytes),
				 "part %u/%u returned %" PRIu64 " but flushed %" PRIu64,
				 part, nparts, done, counted);
		if ((done / FTM_LINE_SIZE < lo || done / FTM_LINE_SIZE > hi) && !res->balance[0])
			snprintf(res->balance, sizeof(res->balance),
				 "part %u/%u has %" PRIu64 " of %" PRIu64 " lines",
				 part, nparts, done / FTM_LINE_SIZE, lines);
		/* Fed after every chunk, so also at the end of each walk. */
		r->since_feed = 0;
	}
	if (sum != total && !res->bytes[0])
		snprintf(res->bytes, sizeof(res->bytes),
			 "%u parts returned %" PRIu64 " of %" PRIu64 " bytes", nparts, sum, total);
	if (!exactly_once(r, spans, nr, why, sizeof(why)) && !res->exact[0])
		snprintf(res->exact, sizeof(res->exact), "nr=%u nparts=%u: %s", nr, nparts, why);
	if (r->max_since_feed > FTM_CHUNK_BYTES && !res->watchdog[0])
		snprintf(res->watchdog, sizeof(res->watchdog),
			 "%" PRIu64 " bytes flushed without feeding the watchdog", r->max_since_feed);
	if (r->fences && !res->fence[0])
		snprintf(res->fence, sizeof(res->fence), "%" PRIu64 " fences in walks", r->fences);
}

/* The operation picks the instruction: invalidate never leaves a line cached. */
static void test_op(struct tap *t, struct recorder *r)
{
	struct ftm_span span = { .phys = 0x100000000ULL, .virt = r->arena, .size = 4096 };
	struct ftm_walk w = { .spans = &span, .nr = 1, .part = 0, .nparts = 1 };

	reset(r);
	w.op = FTM_LINE_INVALIDATE;
	ftm_engine_walk(&w);
	tap_result(t, r->lines_by_insn[FTM_TEST_INVAL] == 64 && lines_total(r) == 64,
		   "FTM_LINE_INVALIDATE walks 4 KiB with %s only", ftm_engine_insn(w.op));
	reset(r);
	w.op = FTM_LINE_WRITEBACK;
	ftm_engine_walk(&w);
	tap_result(t, r->lines_by_insn[FTM_TEST_WB] == 64 && lines_total(r) == 64,
		   "FTM_LINE_WRITEBACK walks 4 KiB with %s only", ftm_engine_insn(w.op));
	reset(r);
	ftm_engine_fence();
	tap_result(t, r->fences == 1, "ftm_engine_fence fences once (%" PRIu64 ")", r->fences);
}

static void test_edges(struct tap *t, struct recorder *r)
{
	struct ftm_span span = { .phys = 0x100000000ULL, .virt = r->arena, .size = 3 * 64 };
	struct ftm_walk w = { .spans = &span, .nr = 0, .op = FTM_LINE_WRITEBACK, .nparts = 1 };
	u64 done;

	reset(r);
	done = ftm_engine_walk(&w);
	tap_result(t, done == 0 && !lines_total(r), "an empty set flushes nothing");

	/* More walkers than lines: three get a line each, the rest nothing. */
	reset(r);
	w.nr = 1;
	w.nparts = 8;
	done = 0;
	for (w.part = 0; w.part < w.nparts; w.part++)
		done += ftm_engine_walk(&w);
	tap_result(t, done == span.size && r->hits[0] == 1 && r->hits[1] == 1 && r->hits[2] == 1 &&
		   r->lines_by_insn[FTM_TEST_WB] == 3,
		   "8 walkers over 3 lines flush each line once");

	/* What flushtm_flush_phys(start 32, size 64) hands the engine: two lines. */
	reset(r);
	span.virt = r->arena + 32;
	span.size = 64;
	w.nparts = 1;
	w.part = 0;
	done = ftm_engine_walk(&w);
	tap_result(t, done == 128 && r->hits[0] == 1 && r->hits[1] == 1 && !r->hits[2] &&
		   r->lines_by_insn[FTM_TEST_WB] == 2 && !r->outside,
		   "a span at byte 32 of 64 bytes flushes lines 0 and 1 (%" PRIu64 " bytes)", done);

	/* Split: the last line of an odd-sized span is in some part. */
	reset(r);
	span.virt = r->arena;
	span.size = 3 * 64 + 1;
	w.nparts = 4;
	done = 0;
	for (w.part = 0; w.part < w.nparts; w.part++)
		done += ftm_engine_walk(&w);
	tap_result(t, done == 256 && r->hits[3] == 1 && r->lines_by_insn[FTM_TEST_WB] == 4,
		   "4 walkers over 193 bytes flush its 4 lines, the last included (%" PRIu64 " bytes)",
		   done);
}

/* Process walks reschedule after each chunk; crash walks never do. */
static void test_resched(struct tap *t, struct recorder *r)
{
	const u64 chunk_lines = FTM_CHUNK_BYTES / FTM_LINE_SIZE;
	struct ftm_span spans[2] = {
		{ .phys = 0x100000000ULL, .virt = r->arena, .size = FTM_CHUNK_BYTES + 4096 },
		{ .phys = 0x200000000ULL, .virt = r->arena + (chunk_lines + 100) * FTM_LINE_SIZE,
		  .size = 2 * FTM_CHUNK_BYTES },
	};
	struct ftm_walk w = { .spans = spans, .nr = 2, .op = FTM_LINE_WRITEBACK, .nparts = 1 };

	reset(r);
	w.may_resched = true;
	ftm_engine_walk(&w);
	tap_result(t, r->rescheds == 3 && r->max_since_feed <= FTM_CHUNK_BYTES,
		   "a process walk of 3 chunks and 4 KiB reschedules 3 times (%" PRIu64 ")",
		   r->rescheds);
	reset(r);
	w.may_resched = false;
	ftm_engine_walk(&w);
	tap_result(t, r->rescheds == 0, "a crash walk never reschedules (%" PRIu64 ")", r->rescheds);
}

static void test_random_sets(struct tap *t, struct recorder *r, u64 seed, bool odd)
{
	static struct ftm_span spans[MAX_SPANS];
	struct split_result res = { 0 };
	const char *kind = odd ? "odd-offset, odd-size" : "line-aligned";
	unsigned int s, k, i, big = 0;

	for (s = 0; s < NR_SETS; s++) {
		unsigned int nr = make_set(r, &seed, spans, odd);

		for (i = 0; i < nr && spans[i].size <= FTM_CHUNK_BYTES; i++)
			;
		big += i < nr;

		for (k = 0; k < sizeof(fixed_nparts) / sizeof(fixed_nparts[0]); k++)
			check_split(r, spans, nr, fixed_nparts[k], &res);
		check_split(r, spans, nr, 1 + (unsigned int)rnd_below(&seed, 4096), &res);
		res.sets++;
	}
	printf("# %s: %u of %u sets hold a span larger than a watchdog chunk\n", kind, big,
	       NR_SETS);
	tap_result(t, !res.exact[0],
		   "%" PRIu64 " random %s sets, %" PRIu64 " walks: every line of every span flushed exactly once, nothing else %s",
		   res.sets, kind, res.walks, res.exact);
	tap_result(t, !res.bytes[0], "%s: each walk returns the bytes it flushed; parts sum to the set's lines %s",
		   kind, res.bytes);
	tap_result(t, !res.balance[0], "%s: parts differ by at most one line %s", kind, res.balance);
	tap_result(t, !res.watchdog[0], "%s: watchdog fed at least every %llu MiB %s", kind,
		   FTM_CHUNK_BYTES >> 20, res.watchdog);
	tap_result(t, !res.fence[0], "%s: a walk never fences %s", kind, res.fence);
}

int main(void)
{
	struct recorder r = { .end_line = ARENA_LINES };
	struct tap t = { 0 };
	const char *env = getenv("FTM_TEST_SEED");
	u64 seed = env ? strtoull(env, NULL, 0) : 0x5eed0f1a5417ULL;

	if (!seed)
		seed = 1;
	/* Address space only: the counting engine never touches the spans. */
	r.arena = mmap(NULL, ARENA_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	r.hits = malloc(ARENA_LINES);
	if (r.arena == MAP_FAILED || !r.hits) {
		printf("Bail out! cannot map the test arena\n");
		return 1;
	}
	rec = &r;
	printf("1..%u\n# seed 0x%" PRIx64 " (FTM_TEST_SEED)\n", 19 + test_insn_cases, seed);
	test_insn_choice(&t);
	test_op(&t, &r);
	test_edges(&t, &r);
	test_resched(&t, &r);
	test_random_sets(&t, &r, seed, false);
	test_random_sets(&t, &r, seed ^ 0x0dd5e7, true);
	free(r.hits);
	munmap(r.arena, ARENA_BYTES);
	return t.failed ? 1 : 0;
}
