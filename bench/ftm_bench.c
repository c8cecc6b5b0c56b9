// SPDX-License-Identifier: GPL-2.0
/*
 * ftm-bench: the flush engine of flushtm.ko (kmod/engine/ftm_engine.c, the
 * same source file, built with bench/ftm_shim_user.h) measured side by side
 * with libpmem's pmem_persist() and with a plain one-line clwb loop.
 *
 * Method: contenders are interleaved (A B C, then B C A, ...), each flush is
 * preceded by putting the lines in the wanted state and only the flush is
 * timed; a round gives one ratio other/engine per contender, and the median
 * ratio is reported with its quartiles.  The machine may be shared and noisy:
 * ratios of neighbouring runs are far steadier than absolute times, and a
 * flush during which a measuring thread waited for its CPU (schedstat
 * run_delay) is measured again; rows say how often, and how many disturbed
 * flushes were kept when the retries ran out.
 *
 * States: dirty (every line written before each flush), clean (cached, but
 * written back already: clwb then read), cold (evicted with clflushopt).
 *
 * The last lines are the goals, "goal <name> ratio=<x> target=<y> PASS|SHORT".
 * A SHORT is information, not a failure: the exit status is 0 whenever the
 * benchmark ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpmem.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "ftm_engine.h"
#include "ftm_arch.h"

#define KIB (1ULL << 10)
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

#define BUF_BYTES	GIB
#define SET_RANGES	10000
#define SET_RANGE_BYTES	(4 * KIB)
#define SET_STRIDE	(8 * KIB)	/* ranges apart, so the set cannot merge */
#define MAX_ROUNDS	64
#define MAX_CONTENDERS	3
#define MAX_CPUS	256
/*
 * A flush during which a measuring thread waited this long for its CPU (or
 * 1% of the flush, if more) is measured again, up to MAX_REDO times and
 * only during the first REDO_BUDGET_NS of the run, so that a saturated
 * machine cannot stretch the run beyond a few minutes.
 */
#define DISTURBED_NS	20000.0
#define MAX_REDO	2
#define REDO_BUDGET_NS	45e9

enum line_state { DIRTY, CLEAN, COLD };
static const char *const state_name[] = { "dirty", "clean", "cold" };

struct set {
	struct ftm_span *spans;
	unsigned int nr;
	u64 bytes;
};

/* Threads that each walk one part of the set, as the module does on CPUs. */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;
	unsigned int pending;
	unsigned int started;
	unsigned int nworkers;	/* besides the calling thread */
	bool quit;
	const struct set *set;
	pthread_t *threads;
	struct worker *workers;
};

struct worker {
	struct pool *pool;
	unsigned int part;
	int cpu;
	pid_t tid;
};

/*
 * The measuring threads' schedstat files: their run_delay (time spent
 * runnable but not running) tells a flush that was cut by another task on
 * the same CPU, the machine being shared.
 */
struct probe {
	int fd[MAX_CPUS];
	unsigned int n;
	double redo_until;	/* now_ns() after which nothing is measured again */
};

struct contender {
	const char *name;
	void (*flush)(const struct contender *c, const struct set *s);
	struct pool *pool;
};

struct result {
	double ms[MAX_CONTENDERS];		/* median flush time */
	double ratio[MAX_CONTENDERS];		/* median of time[k] / time[0] per round */
	double q1[MAX_CONTENDERS], q3[MAX_CONTENDERS];
	unsigned int redone;			/* flushes measured again */
	unsigned int disturbed;			/* kept although disturbed */
};

/* ---- line states ------------------------------------------------------ */

static void clwb_line(char *p)
{
	__asm__ __volatile__("clwb %0" : "+m" (*(volatile char *)p));
}

static void clflushopt_line(char *p)
{
	__asm__ __volatile__("clflushopt %0" : "+m" (*(volatile char *)p));
}

static void sfence(void)
{
	__asm__ __volatile__("sfence" ::: "memory");
}

static void prepare(const struct set *s, enum line_state state)
{
	volatile char sink = 0;
	unsigned int i;
	char *p, *end;

	for (i = 0; i < s->nr; i++) {
		end = (char *)s->spans[i].virt + s->spans[i].size;
		for (p = s->spans[i].virt; p < end; p += FTM_LINE_SIZE) {
			switch (state) {
			case DIRTY:
				(*(volatile char *)p)++;
				break;
			case CLEAN:
				clwb_line(p);
				break;
			case COLD:
				clflushopt_line(p);
				break;
			}
		}
	}
	sfence();
	if (state != CLEAN)
		return;
	for (i = 0; i < s->nr; i++) {
		end = (char *)s->spans[i].virt + s->spans[i].size;
		for (p = s->spans[i].virt; p < end; p += FTM_LINE_SIZE)
			sink += *(volatile char *)p;
	}
	(void)sink;
}

/* ---- contenders ------------------------------------------------------- */

static void flush_engine(const struct contender *c, const struct set *s)
{
	struct ftm_walk w = {
		.spans = s->spans, .nr = s->nr, .op = FTM_LINE_WRITEBACK, .part = 0, .nparts = 1,
	};

	(void)c;
	ftm_engine_walk(&w);
	ftm_engine_fence();
}

static void flush_pmem_persist(const struct contender *c, const struct set *s)
{
	unsigned int i;

	(void)c;
	for (i = 0; i < s->nr; i++)
		pmem_persist(s->spans[i].virt, s->spans[i].size);
}

/* The per-core limit: nothing but clwb, one line per iteration, one fence. */
static void flush_clwb_loop(const struct contender *c, const struct set *s)
{
	unsigned int i;
	char *p, *end;

	(void)c;
	for (i = 0; i < s->nr; i++) {
		end = (char *)s->spans[i].virt + s->spans[i].size;
		for (p = s->spans[i].virt; p < end; p += FTM_LINE_SIZE)
			clwb_line(p);
	}
	sfence();
}

static int pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

static void walk_part(const struct set *s, unsigned int part, unsigned int nparts)
{
	struct ftm_walk w = {
		.spans = s->spans, .nr = s->nr, .op = FTM_LINE_WRITEBACK,
		.part = part, .nparts = nparts,
	};

	ftm_engine_walk(&w);
	ftm_engine_fence();
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct pool *pool = wk->pool;
	unsigned long seen = 0;

	pthread_mutex_lock(&pool->mu);
	wk->tid = gettid();
	pool->started++;
	pthread_cond_signal(&pool->done);
	for (;;) {
		while (pool->gen == seen && !pool->quit)
			pthread_cond_wait(&pool->go, &pool->mu);
		if (pool->quit)
			break;
		seen = pool->gen;
		pthread_mutex_unlock(&pool->mu);
		walk_part(pool->set, wk->part, pool->nworkers + 1);
		pthread_mutex_lock(&pool->mu);
		if (--pool->pending == 0)
			pthread_cond_signal(&pool->done);
	}
	pthread_mutex_unlock(&pool->mu);
	return NULL;
}

/* The calling thread walks part 0, the workers the others; done when all are. */
static void flush_parallel(const struct contender *c, const struct set *s)
{
	struct pool *pool = c->pool;

	pthread_mutex_lock(&pool->mu);
	pool->set = s;
	pool->pending = pool->nworkers;
	pool->gen++;
	pthread_cond_broadcast(&pool->go);
	pthread_mutex_unlock(&pool->mu);
	walk_part(s, 0, pool->nworkers + 1);
	pthread_mutex_lock(&pool->mu);
	while (pool->pending)
		pthread_cond_wait(&pool->done, &pool->mu);
	pthread_mutex_unlock(&pool->mu);
}

static int pool_start(struct pool *pool, const int *cpus, unsigned int ncpus)
{
	unsigned int i;
	int err;

	memset(pool, 0, sizeof(*pool));
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->go, NULL);
	pthread_cond_init(&pool->done, NULL);
	pool->threads = calloc(ncpus, sizeof(*pool->threads));
	pool->workers = calloc(ncpus, sizeof(*pool->workers));
	if (!pool->threads || !pool->workers)
		return -ENOMEM;
	for (i = 1; i < ncpus; i++) {
		struct worker *wk = &pool->workers[i];
		pthread_attr_t attr;
		cpu_set_t set;

		wk->pool = pool;
		wk->part = i;
		wk->cpu = cpus[i];
		CPU_ZERO(&set);
		CPU_SET(cpus[i], &set);
		pthread_attr_init(&attr);
		err = -pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (!err)
			err = -pthread_create(&pool->threads[i], &attr, worker_main, wk);
		pthread_attr_destroy(&attr);
		if (err)
			return err;
		pool->nworkers++;
	}
	pthread_mutex_lock(&pool->mu);
	while (pool->started < pool->nworkers)
		pthread_cond_wait(&pool->done, &pool->mu);
	pthread_mutex_unlock(&pool->mu);
	return 0;
}

static void pool_stop(struct pool *pool)
{
	unsigned int i;

	pthread_mutex_lock(&pool->mu);
	pool->quit = true;
	pthread_cond_broadcast(&pool->go);
	pthread_mutex_unlock(&pool->mu);
	for (i = 1; i <= pool->nworkers; i++)
		pthread_join(pool->threads[i], NULL);
	free(pool->threads);
	free(pool->workers);
}

/* ---- measurement ------------------------------------------------------ */

static int probe_add(struct probe *pr, pid_t tid)
{
	char path[64];
	int fd;

	if (pr->n == MAX_CPUS)
		return -ENOSPC;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	pr->fd[pr->n++] = fd;
	return 0;
}

/* Summed run_delay of the measuring threads, ns; 0 without schedstats. */
static double probe_delay(const struct probe *pr)
{
	double sum = 0;
	unsigned int i;

	for (i = 0; i < pr->n; i++) {
		char buf[96];
		ssize_t len = pread(pr->fd[i], buf, sizeof(buf) - 1, 0);
		unsigned long long run, delay;

		if (len <= 0)
			continue;
		buf[len] = '\0';
		if (sscanf(buf, "%llu %llu", &run, &delay) == 2)
			sum += delay;
	}
	return sum;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Quantile q of v[0..n) (sorts v). */
static double quantile(double *v, unsigned int n, double q)
{
	double pos = q * (n - 1);
	unsigned int lo = (unsigned int)pos;

	qsort(v, n, sizeof(*v), cmp_double);
	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

/*
 * One flush after prepare(), timed; measured again (up to MAX_REDO times)
 * when a measuring thread had to wait for its CPU meanwhile.
 */
static double measure(const struct contender *c, const struct set *s, enum line_state state,
		      const struct probe *pr, struct result *res)
{
	unsigned int attempt;
	double t = 0;

	for (attempt = 0; attempt <= MAX_REDO; attempt++) {
		double d0, t0, waited;

		prepare(s, state);
		d0 = probe_delay(pr);
		t0 = now_ns();
		c->flush(c, s);
		t = now_ns() - t0;
		waited = probe_delay(pr) - d0;
		if (waited <= DISTURBED_NS || waited <= t / 100)
			return t;
		if (attempt == MAX_REDO || now_ns() > pr->redo_until)
			break;
		res->redone++;
	}
	res->disturbed++;
	return t;
}

/*
 * Rounds of every contender in turn, the order rotating each round, each
 * flush timed alone after prepare().  Contender 0 is the reference.
 */
static void compare(const struct contender *c, unsigned int nc, const struct set *s,
		    enum line_state state, unsigned int rounds, const struct probe *pr,
		    struct result *res)
{
	double t[MAX_CONTENDERS][MAX_ROUNDS], r[MAX_ROUNDS];
	unsigned int i, j, k;

	res->redone = res->disturbed = 0;
	/* One unmeasured round: page tables, branch predictors, the pool awake. */
	for (k = 0; k < nc; k++) {
		prepare(s, state);
		c[k].flush(&c[k], s);
	}
	for (i = 0; i < rounds; i++) {
		for (j = 0; j < nc; j++) {
			k = (i + j) % nc;
			t[k][i] = measure(&c[k], s, state, pr, res);
		}
	}
	for (k = 0; k < nc; k++) {
		for (i = 0; i < rounds; i++)
			r[i] = t[k][i] / t[0][i];
		res->ratio[k] = quantile(r, rounds, 0.5);
		res->q3[k] = quantile(r, rounds, 0.75);
		res->q1[k] = quantile(r, rounds, 0.25);
		res->ms[k] = quantile(t[k], rounds, 0.5) / 1e6;
	}
}

/* ---- cases ------------------------------------------------------------ */

struct goal {
	const char *name;
	double worst;
	double target;
	char where[48];
};

static void goal_see(struct goal *g, double ratio, const char *where)
{
	if (g->worst == 0 || ratio < g->worst) {
		g->worst = ratio;
		snprintf(g->where, sizeof(g->where), "%s", where);
	}
}

static void goal_print(const struct goal *g)
{
	printf("goal %s ratio=%.3f target=%.2f %s\n", g->name, g->worst, g->target,
	       g->worst >= g->target ? "PASS" : "SHORT");
}

static const char *size_name(u64 bytes, char *buf, size_t len)
{
	if (bytes >= GIB && bytes % GIB == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(bytes / GIB));
	else if (bytes >= MIB && bytes % MIB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes / MIB));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(bytes / KIB));
	return buf;
}

/* How many flushes were cut by another task: measured again, or kept. */
static const char *noise_note(const struct result *res, char *buf, size_t len)
{
	if (!res->redone && !res->disturbed)
		return "";
	snprintf(buf, len, "  (redone %u, kept disturbed %u)", res->redone, res->disturbed);
	return buf;
}

static double gbps(u64 bytes, double ms)
{
	return bytes / (ms * 1e6);
}

static void bench_contiguous(char *buf, const struct probe *pr, struct goal *vs_pmem,
			     struct goal *vs_loop)
{
	static const struct { u64 bytes; unsigned int rounds; } sizes[] = {
		{ 16 * MIB, 41 }, { 256 * MIB, 21 }, { GIB, 11 },
	};
	const struct contender c[] = {
		{ .name = "engine", .flush = flush_engine },
		{ .name = "pmem_persist", .flush = flush_pmem_persist },
		{ .name = "clwb loop", .flush = flush_clwb_loop },
	};
	unsigned int i, st;

	printf("\n%-14s %9s %6s | %9s %-20s | %9s %-20s\n", "one range", "engine", "GB/s",
	       "persist", "persist/engine", "clwb loop", "loop/engine");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct ftm_span span = { .phys = 0, .virt = buf, .size = sizes[i].bytes };
		struct set s = { .spans = &span, .nr = 1, .bytes = sizes[i].bytes };
		char sz[24];

		size_name(sizes[i].bytes, sz, sizeof(sz));
		for (st = DIRTY; st <= COLD; st++) {
			struct result res;
			char label[48], note[48];

			compare(c, 3, &s, st, sizes[i].rounds, pr, &res);
			snprintf(label, sizeof(label), "%s %s", sz, state_name[st]);
			printf("%-14s %6.2f ms %6.1f | %6.2f ms %.3f [%.3f..%.3f]  | %6.2f ms %.3f [%.3f..%.3f]%s\n",
			       label, res.ms[0], gbps(s.bytes, res.ms[0]),
			       res.ms[1], res.ratio[1], res.q1[1], res.q3[1],
			       res.ms[2], res.ratio[2], res.q1[2], res.q3[2],
			       noise_note(&res, note, sizeof(note)));
			fflush(stdout);
			goal_see(vs_pmem, res.ratio[1], label);
			goal_see(vs_loop, res.ratio[2], label);
		}
	}
}

/*
 * The goal is taken on dirty lines: a fence costs what it waits for, the
 * write-backs of dirty lines, and dirty lines are what a flush is for.
 * Clean and cold are shown for what they are.
 */
static void bench_small_ranges(struct ftm_span *spans, struct pool *pool, const struct probe *pr,
			       struct goal *g)
{
	const struct contender c[] = {
		{ .name = "engine", .flush = flush_engine },
		{ .name = "pmem_persist per range", .flush = flush_pmem_persist },
		{ .name = "clwb loop", .flush = flush_clwb_loop },
	};
	const struct contender split[] = {
		{ .name = "split", .flush = flush_parallel, .pool = pool },
		{ .name = "pmem_persist per range", .flush = flush_pmem_persist },
	};
	struct set s = { .spans = spans, .nr = SET_RANGES, .bytes = SET_RANGES * SET_RANGE_BYTES };
	struct result res_split;
	char note[48];
	unsigned int st;

	printf("\n%-14s %9s %6s | %9s %-20s | %9s %-20s\n", "10000 x 4K", "engine", "GB/s",
	       "persist", "per-range/engine", "clwb loop", "loop/engine");
	for (st = DIRTY; st <= COLD; st++) {
		struct result res;

		compare(c, 3, &s, st, 31, pr, &res);
		printf("%-14s %6.2f ms %6.1f | %6.2f ms %.3f [%.3f..%.3f]  | %6.2f ms %.3f [%.3f..%.3f]%s\n",
		       state_name[st], res.ms[0], gbps(s.bytes, res.ms[0]),
		       res.ms[1], res.ratio[1], res.q1[1], res.q3[1],
		       res.ms[2], res.ratio[2], res.q1[2], res.q3[2],
		       noise_note(&res, note, sizeof(note)));
		fflush(stdout);
		if (st == DIRTY) {
			goal_see(g, res.ratio[1], state_name[st]);
			printf("%-14s per-range/clwb loop %.3f: what one fence after the set can gain here\n",
			       "  ceiling", res.ratio[1] / res.ratio[2]);
		}
	}
	/*
	 * Shown, not a goal: the goal compares one CPU with one CPU.  A
	 * process-context flush of this set (40 MiB) is split over the CPUs.
	 */
	compare(split, 2, &s, DIRTY, 31, pr, &res_split);
	printf("%-14s %6.2f ms %6.1f | %6.2f ms %.3f [%.3f..%.3f]  split over %u CPUs, as manual runs it%s\n",
	       "dirty, split", res_split.ms[0], gbps(s.bytes, res_split.ms[0]),
	       res_split.ms[1], res_split.ratio[1], res_split.q1[1], res_split.q3[1],
	       pool->nworkers + 1, noise_note(&res_split, note, sizeof(note)));
}

/*
 * One CPU against all of them.  1 GiB clean and cold is the goal; the sweep
 * over smaller sets shows where splitting stops paying for the wake-ups
 * (FTM_SPLIT_MIN_BYTES).
 */
static void bench_parallel(char *buf, struct pool *pool, unsigned int ncpus,
			   const struct probe *pr, struct goal *g)
{
	static const struct { u64 bytes; enum line_state state; unsigned int rounds; } cases[] = {
		{ GIB, CLEAN, 11 }, { GIB, COLD, 11 },
		{ 256 * KIB, CLEAN, 63 }, { MIB, CLEAN, 63 }, { 4 * MIB, CLEAN, 41 },
		{ 16 * MIB, CLEAN, 41 }, { 64 * MIB, CLEAN, 21 },
		{ 256 * KIB, DIRTY, 63 }, { MIB, DIRTY, 63 }, { 4 * MIB, DIRTY, 41 },
		{ 16 * MIB, DIRTY, 41 }, { 64 * MIB, DIRTY, 21 },
	};
	const struct contender c[] = {
		{ .name = "parallel", .flush = flush_parallel, .pool = pool },
		{ .name = "one cpu", .flush = flush_engine },
	};
	unsigned int i;

	printf("\n%-14s %9s %6s | %9s %-20s\n", "split", "1 CPU", "GB/s", "CPUs", "1 CPU/split   part");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ftm_span span = { .phys = 0, .virt = buf, .size = cases[i].bytes };
		struct set s = { .spans = &span, .nr = 1, .bytes = cases[i].bytes };
		struct result res;
		char sz[24], label[48], part[24], note[48];

		compare(c, 2, &s, cases[i].state, cases[i].rounds, pr, &res);
		size_name(cases[i].bytes, sz, sizeof(sz));
		snprintf(label, sizeof(label), "%s %s", sz, state_name[cases[i].state]);
		printf("%-14s %6.3f ms %6.1f | %6.3f ms x%u %.3f [%.3f..%.3f] %-4s%s\n", label,
		       res.ms[1], gbps(s.bytes, res.ms[1]), res.ms[0], ncpus,
		       res.ratio[1], res.q1[1], res.q3[1],
		       size_name(cases[i].bytes / ncpus, part, sizeof(part)),
		       noise_note(&res, note, sizeof(note)));
		fflush(stdout);
		if (cases[i].bytes == GIB)
			goal_see(g, res.ratio[1], label);
	}
}

/* ---- setup ------------------------------------------------------------ */

static void print_load(const char *when)
{
	char line[128] = "?";
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (fgets(line, sizeof(line), f))
			line[strcspn(line, "\n")] = '\0';
		fclose(f);
	}
	printf("load average %s: %s\n", when, line);
}

static long llc_bytes(void)
{
	long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);

	return l3 > 0 ? l3 : sysconf(_SC_LEVEL2_CACHE_SIZE);
}

static char *map_buffer(u64 bytes)
{
	char *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return NULL;
	/* Huge pages where the kernel has them: fewer TLB misses in the walk. */
	madvise(buf, bytes, MADV_HUGEPAGE);
	memset(buf, 1, bytes);
	return buf;
}

static unsigned int allowed_cpus(int *cpus, unsigned int max)
{
	cpu_set_t set;
	unsigned int n = 0;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	return n;
}

int main(int argc, char **argv)
{
	struct goal vs_pmem = { .name = "engine-vs-pmem_persist", .target = 0.98 };
	struct goal vs_loop = { .name = "engine-vs-clwb-loop", .target = 0.95 };
	struct goal set = { .name = "set-10000x4K-dirty-vs-per-range-persist", .target = 2.0 };
	struct goal par = { .name = "parallel", .target = 1.7 };
	struct ftm_span *spans;
	struct probe probe = { .n = 0 };
	struct pool pool;
	unsigned int ncpus, i;
	int cpus[MAX_CPUS], err;
	char *buf, pname[32];
	const char *e = getenv("PMEM_NO_FLUSH");

	(void)argc;
	/*
	 * libpmem decides at load whether pmem_persist flushes (it skips the
	 * flush where the platform reports eADR); compare against the flushing
	 * path, whatever this machine says.
	 */
	if (!e || strcmp(e, "0")) {
		setenv("PMEM_NO_FLUSH", "0", 1);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "ftm-bench: re-exec with PMEM_NO_FLUSH=0: %s\n", strerror(errno));
		return 1;
	}
	ftm_engine_init();
	if (!ftm_arch_has(FTM_INSN_CLWB) || !ftm_arch_has(FTM_INSN_CLFLUSHOPT)) {
		fprintf(stderr, "ftm-bench: this CPU lacks clwb or clflushopt, nothing to compare\n");
		return 77;
	}
	ncpus = allowed_cpus(cpus, sizeof(cpus) / sizeof(cpus[0]));
	if (!ncpus)
		return 1;
	err = pin(pthread_self(), cpus[0]);
	if (!err)
		err = pool_start(&pool, cpus, ncpus);
	if (!err)
		err = probe_add(&probe, gettid());
	for (i = 1; !err && i < ncpus; i++)
		err = probe_add(&probe, pool.workers[i].tid);
	if (err) {
		fprintf(stderr, "ftm-bench: threads: %s\n", strerror(-err));
		return 1;
	}
	buf = map_buffer(BUF_BYTES);
	spans = calloc(SET_RANGES, sizeof(*spans));
	if (!buf || !spans) {
		fprintf(stderr, "ftm-bench: cannot allocate %llu MiB\n", BUF_BYTES / MIB);
		return 1;
	}
	for (i = 0; i < SET_RANGES; i++) {
		spans[i].virt = buf + (u64)i * SET_STRIDE;
		spans[i].size = SET_RANGE_BYTES;
	}

	printf("flushtm engine benchmark: write back with %s (invalidate: %s), %u CPUs, LLC %ld MiB\n",
	       ftm_engine_insn(FTM_LINE_WRITEBACK), ftm_engine_insn(FTM_LINE_INVALIDATE), ncpus,
	       llc_bytes() >> 20);
	print_load("before");
	printf("times are medians; ratios are medians of per-round other/engine [quartiles];\n"
	       "> 1 means the engine (or the split walk) is faster\n");
	probe.redo_until = now_ns() + REDO_BUDGET_NS;
	bench_contiguous(buf, &probe, &vs_pmem, &vs_loop);
	bench_small_ranges(spans, &pool, &probe, &set);
	bench_parallel(buf, &pool, ncpus, &probe, &par);

	print_load("after");
	snprintf(pname, sizeof(pname), "parallel-%ucpu", ncpus);
	par.name = pname;
	printf("\nworst cells: pmem_persist %s, clwb loop %s, parallel %s\n",
	       vs_pmem.where, vs_loop.where, par.where);
	goal_print(&vs_pmem);
	goal_print(&vs_loop);
	goal_print(&set);
	goal_print(&par);

	pool_stop(&pool);
	for (i = 0; i < probe.n; i++)
		close(probe.fd[i]);
	free(spans);
	munmap(buf, BUF_BYTES);
	return 0;
}
