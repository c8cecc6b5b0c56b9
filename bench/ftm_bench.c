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
 * The last lines are the goals, "goal <name> ratio=<x> target=<y> PASS|SHORT",
 * then the worst cell and how many rounds went in.  A goal's ratio is the
 * median of every per-round ratio of every cell that counts for it (pooled),
 * not the worst of the cells' medians: the minimum of many noisy medians is
 * biased low on any machine.  The worst cell is printed beside it with its
 * quartiles.  A SHORT is information, not a failure: the exit status is 0
 * whenever the benchmark ran.
 *
 * The panic path (panic-split): the module's crash flush split over the CPUs
 * being stopped, driven as the module drives it: threads pinned on the other
 * CPUs stand in for them, spinning on a flag (as a CPU that takes an NMI has
 * no scheduler in the way), each walking its part of the plan with the same
 * engine, in the same pieces, and acknowledging; the calling thread walks its
 * own part and waits for the acknowledgements.  It is compared with the same
 * walk on one CPU and with the machine's ceiling: the best plain clwb loop on
 * 1, 2, 4 ... all of the same CPUs, spinning threads too, measured in the same
 * rounds (two vCPUs that share a core may gain far less than 2x, and a ratio
 * to a fixed number cannot tell a slow engine from a small machine).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpmem.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <dirent.h>
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
#define PANIC_BUF_BYTES	(4 * GIB)
#define SET_RANGES	10000
#define SET_RANGE_BYTES	(4 * KIB)
#define SET_STRIDE	(8 * KIB)	/* ranges apart, so the set cannot merge */
#define MAX_ROUNDS	64
#define MAX_CONTENDERS	12
#define MAX_GOAL_RATIOS	4096
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

struct spin_pool;

struct contender {
	const char *name;
	void (*flush)(const struct contender *c, const struct set *s);
	struct pool *pool;
	struct spin_pool *spin;
	unsigned int threads;		/* clwb loop ceiling: threads taking part */
};

struct result {
	double t[MAX_CONTENDERS][MAX_ROUNDS];	/* every flush time, ns */
	unsigned int rounds;
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
	const unsigned long line = ftm_engine_line_size();
	volatile char sink = 0;
	unsigned int i;
	char *p, *end;

	for (i = 0; i < s->nr; i++) {
		end = (char *)s->spans[i].virt + s->spans[i].size;
		for (p = s->spans[i].virt; p < end; p += line) {
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
		for (p = s->spans[i].virt; p < end; p += line)
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
	const unsigned long line = ftm_engine_line_size();
	unsigned int i;
	char *p, *end;

	(void)c;
	for (i = 0; i < s->nr; i++) {
		end = (char *)s->spans[i].virt + s->spans[i].size;
		for (p = s->spans[i].virt; p < end; p += line)
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

/* ---- the panic path: spinning stand-ins for the stopped CPUs ---------- */

/*
 * The crash plan of kmod/ftm_flush.c (ftm_set_plan()): one part per CPU,
 * none below FTM_SPLIT_PART_MIN_BYTES, each walked in pieces of
 * PLAN_PIECE_BYTES (at most PLAN_MAX_PIECES), the parts taking the pieces
 * in turn, with a clock read before each (the module checks its budget
 * there).  Kept equal to FTM_PLAN_PIECE_BYTES
 * and FTM_PLAN_MAX_PIECES.
 */
#define PLAN_PIECE_BYTES	(4 * MIB)
#define PLAN_MAX_PIECES		256U

enum spin_work { SPIN_SPLIT, SPIN_LOOP };

struct spin_worker {
	struct spin_pool *pool;
	unsigned int idx;	/* 1..nworkers; the calling thread is 0 */
	pid_t tid;
};

/*
 * Workers park on a condition variable between flushes (so that they do
 * not steal a shared core from the one-CPU contenders), and are made to
 * spin, untimed, before each flush of a spinning contender: the timed flush
 * then starts, as at a panic, with every other CPU a store away.
 */
struct spin_pool {
	pthread_mutex_t mu;
	pthread_cond_t go, ready;
	unsigned long epoch;	/* under mu: one spin per worker per epoch */
	bool quit;
	unsigned int spinning;	/* under mu */
	unsigned int nworkers;
	_Atomic unsigned long gen;
	_Atomic unsigned int acks;
	_Atomic bool keep_spinning;
	/* the request, written before gen */
	enum spin_work work;
	const struct set *set;
	unsigned int nparts, pieces;	/* SPIN_SPLIT */
	unsigned int threads;		/* SPIN_LOOP: threads 0..threads-1 take part */
	pthread_t thread[MAX_CPUS];
	struct spin_worker w[MAX_CPUS];
};

static double piece_clock_sink;

/* Part @part of the plan, as ftm_walk_part() walks it (pieces interleaved); fenced. */
static void plan_walk_part(const struct set *s, unsigned int part, unsigned int nparts,
			   unsigned int pieces)
{
	unsigned int j;

	for (j = 0; j < pieces; j++) {
		struct ftm_walk w = {
			.spans = s->spans, .nr = s->nr, .op = FTM_LINE_WRITEBACK,
			.part = j * nparts + part, .nparts = nparts * pieces,
		};
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);	/* the budget's clock */
		piece_clock_sink += ts.tv_nsec;
		ftm_engine_walk(&w);
	}
	ftm_engine_fence();
}

static void plan_of(const struct set *s, unsigned int ncpus, unsigned int *nparts,
		    unsigned int *pieces)
{
	u64 n = s->bytes / (8 * MIB);	/* FTM_SPLIT_PART_MIN_BYTES */
	u64 k;

	n = n < 1 ? 1 : n > ncpus ? ncpus : n;
	k = s->bytes / n / PLAN_PIECE_BYTES;
	*nparts = (unsigned int)n;
	*pieces = k < 1 ? 1 : k > PLAN_MAX_PIECES ? PLAN_MAX_PIECES : (unsigned int)k;
}

/* Thread @idx of @n takes bytes [idx/n, (idx+1)/n) of each span: nothing but clwb. */
static void loop_slice(const struct set *s, unsigned int idx, unsigned int n)
{
	const unsigned long line = ftm_engine_line_size();
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		u64 lines = s->spans[i].size / line;
		char *p = (char *)s->spans[i].virt + lines * idx / n * line;
		char *end = (char *)s->spans[i].virt + lines * (idx + 1) / n * line;

		for (; p < end; p += line)
			clwb_line(p);
	}
	sfence();
}

static void spin_do(struct spin_pool *sp, unsigned int idx)
{
	if (sp->work == SPIN_SPLIT) {
		if (idx < sp->nparts)
			plan_walk_part(sp->set, idx, sp->nparts, sp->pieces);
	} else if (idx < sp->threads) {
		loop_slice(sp->set, idx, sp->threads);
	}
}

static void *spin_main(void *arg)
{
	struct spin_worker *wk = arg;
	struct spin_pool *sp = wk->pool;
	unsigned long mine = 0;

	wk->tid = gettid();
	pthread_mutex_lock(&sp->mu);
	for (;;) {
		unsigned long seen;

		while (sp->epoch == mine && !sp->quit)
			pthread_cond_wait(&sp->go, &sp->mu);
		if (sp->quit)
			break;
		mine = sp->epoch;
		seen = atomic_load(&sp->gen);
		sp->spinning++;
		pthread_cond_signal(&sp->ready);
		pthread_mutex_unlock(&sp->mu);
		while (atomic_load_explicit(&sp->gen, memory_order_acquire) == seen &&
		       atomic_load_explicit(&sp->keep_spinning, memory_order_relaxed))
			__builtin_ia32_pause();
		if (atomic_load_explicit(&sp->gen, memory_order_acquire) != seen) {
			spin_do(sp, wk->idx);
			atomic_fetch_add_explicit(&sp->acks, 1, memory_order_release);
		}
		pthread_mutex_lock(&sp->mu);
		sp->spinning--;		/* out of the loop: spin_park() waits for this */
		pthread_cond_signal(&sp->ready);
	}
	pthread_mutex_unlock(&sp->mu);
	return NULL;
}

/* Untimed: every worker spinning on gen, once each per arming (epoch). */
static void spin_arm(struct spin_pool *sp)
{
	pthread_mutex_lock(&sp->mu);
	atomic_store(&sp->acks, 0);
	atomic_store(&sp->keep_spinning, true);
	sp->epoch++;
	pthread_cond_broadcast(&sp->go);
	while (sp->spinning < sp->nworkers)
		pthread_cond_wait(&sp->ready, &sp->mu);
	pthread_mutex_unlock(&sp->mu);
}

/* Every worker out of its spin loop before this returns. */
static void spin_park(struct spin_pool *sp)
{
	atomic_store(&sp->keep_spinning, false);
	pthread_mutex_lock(&sp->mu);
	while (sp->spinning)
		pthread_cond_wait(&sp->ready, &sp->mu);
	pthread_mutex_unlock(&sp->mu);
}

/* Timed: the flag, this thread's own share, then the acknowledgements. */
static void spin_run(struct spin_pool *sp)
{
	atomic_fetch_add_explicit(&sp->gen, 1, memory_order_release);
	spin_do(sp, 0);
	while (atomic_load_explicit(&sp->acks, memory_order_acquire) < sp->nworkers)
		__builtin_ia32_pause();
}

static void flush_panic_split(const struct contender *c, const struct set *s)
{
	struct spin_pool *sp = c->spin;

	sp->work = SPIN_SPLIT;
	sp->set = s;
	plan_of(s, sp->nworkers + 1, &sp->nparts, &sp->pieces);
	spin_run(sp);
}

/* The same plan walked on this CPU alone, as without the handshake. */
static void flush_panic_1cpu(const struct contender *c, const struct set *s)
{
	unsigned int nparts, pieces;

	(void)c;
	plan_of(s, 1, &nparts, &pieces);
	plan_walk_part(s, 0, 1, pieces);
}

static void flush_clwb_threads(const struct contender *c, const struct set *s)
{
	struct spin_pool *sp = c->spin;

	sp->work = SPIN_LOOP;
	sp->set = s;
	sp->threads = c->threads;
	spin_run(sp);
}

static int spin_start(struct spin_pool *sp, const int *cpus, unsigned int ncpus)
{
	unsigned int i;
	int err;

	memset(sp, 0, sizeof(*sp));
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->go, NULL);
	pthread_cond_init(&sp->ready, NULL);
	for (i = 1; i < ncpus; i++) {
		struct spin_worker *wk = &sp->w[i];
		pthread_attr_t attr;
		cpu_set_t set;

		wk->pool = sp;
		wk->idx = i;
		CPU_ZERO(&set);
		CPU_SET(cpus[i], &set);
		pthread_attr_init(&attr);
		err = -pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (!err)
			err = -pthread_create(&sp->thread[i], &attr, spin_main, wk);
		pthread_attr_destroy(&attr);
		if (err)
			return err;
		sp->nworkers++;
	}
	/* every worker has its tid once it has spun once */
	spin_arm(sp);
	spin_park(sp);
	return 0;
}

static void spin_stop(struct spin_pool *sp)
{
	unsigned int i;

	pthread_mutex_lock(&sp->mu);
	sp->quit = true;
	pthread_cond_broadcast(&sp->go);
	pthread_mutex_unlock(&sp->mu);
	for (i = 1; i <= sp->nworkers; i++)
		pthread_join(sp->thread[i], NULL);
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
		if (c->spin)
			spin_arm(c->spin);
		d0 = probe_delay(pr);
		t0 = now_ns();
		c->flush(c, s);
		t = now_ns() - t0;
		waited = probe_delay(pr) - d0;
		if (c->spin)
			spin_park(c->spin);
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
		if (c[k].spin)
			spin_arm(c[k].spin);
		c[k].flush(&c[k], s);
		if (c[k].spin)
			spin_park(c[k].spin);
	}
	for (i = 0; i < rounds; i++) {
		for (j = 0; j < nc; j++) {
			k = (i + j) % nc;
			t[k][i] = measure(&c[k], s, state, pr, res);
		}
	}
	res->rounds = rounds;
	memcpy(res->t, t, sizeof(t));
	/*
	 * quantile() sorts: the times are taken from the copy, after the
	 * ratios, so that each ratio pairs the two flushes of one round (the
	 * median of t[0] used to be taken first, which sorted the reference
	 * and paired round i of the others with the i-th fastest reference).
	 */
	for (k = 0; k < nc; k++) {
		for (i = 0; i < rounds; i++)
			r[i] = res->t[k][i] / res->t[0][i];
		res->ratio[k] = quantile(r, rounds, 0.5);
		res->q3[k] = quantile(r, rounds, 0.75);
		res->q1[k] = quantile(r, rounds, 0.25);
	}
	for (k = 0; k < nc; k++)
		res->ms[k] = quantile(t[k], rounds, 0.5) / 1e6;
}

/* ---- cases ------------------------------------------------------------ */

struct goal {
	const char *name;
	double target;
	double r[MAX_GOAL_RATIOS];	/* every per-round ratio of every cell */
	unsigned int n, cells;
	double worst, worst_q1, worst_q3;	/* the cell with the lowest median */
	char where[48];
	char note[64];			/* printed after the verdict */
};

/* One cell: the per-round ratios num[i] / den[i] of its rounds. */
static void goal_add(struct goal *g, const double *num, const double *den, unsigned int rounds,
		     const char *where)
{
	double r[MAX_ROUNDS], med;
	unsigned int i;

	for (i = 0; i < rounds; i++) {
		r[i] = num[i] / den[i];
		if (g->n < MAX_GOAL_RATIOS)
			g->r[g->n++] = r[i];
	}
	g->cells++;
	med = quantile(r, rounds, 0.5);
	if (g->cells == 1 || med < g->worst) {
		g->worst = med;
		g->worst_q1 = quantile(r, rounds, 0.25);
		g->worst_q3 = quantile(r, rounds, 0.75);
		snprintf(g->where, sizeof(g->where), "%s", where);
	}
}

/* Contender k against contender 0 of a compare(). */
static void goal_see(struct goal *g, const struct result *res, unsigned int k, const char *where)
{
	goal_add(g, res->t[k], res->t[0], res->rounds, where);
}

/*
 * The median of every round of every cell, then the worst cell with its
 * quartiles (the statistic the goal used to be, for comparison).
 */
static void goal_print(struct goal *g)
{
	double ratio = g->n ? quantile(g->r, g->n, 0.5) : 0;

	printf("goal %s ratio=%.3f target=%.2f %s  (median of %u rounds of %u cells; worst cell %s %.3f [%.3f..%.3f])%s\n",
	       g->name, ratio, g->target, ratio >= g->target ? "PASS" : "SHORT", g->n, g->cells,
	       g->where, g->worst, g->worst_q1, g->worst_q3, g->note);
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
			goal_see(vs_pmem, &res, 1, label);
			goal_see(vs_loop, &res, 2, label);
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
			goal_see(g, &res, 1, state_name[st]);
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
			goal_see(g, &res, 1, label);
	}
}

/*
 * The panic path, 1 GiB and 4 GiB, clean and dirty: the split walk with
 * spinning stand-ins (0), the same plan on one CPU (1), the process-context
 * split woken through the pool (2, the parallel goal's contender), and the
 * plain clwb loop on 1, 2, 4 ... all the CPUs (3...), whose best per round
 * is the machine's ceiling.  Before them, shown and not goals, 16 and 64 MiB
 * dirty: where the plan's rule (parts of at least FTM_SPLIT_PART_MIN_BYTES,
 * so a 16 MiB set is the smallest split in two) meets the cost of the
 * handshake, the split against one CPU says whether the rule pays there.
 */
static void bench_panic(char *buf, u64 buf_bytes, struct pool *pool, struct spin_pool *sp,
			unsigned int ncpus, const struct probe *pr, struct goal *vs_1cpu,
			struct goal *vs_ceiling, struct goal *par_ceiling)
{
	static const struct { u64 bytes; enum line_state state; unsigned int rounds; } cases[] = {
		{ 16 * MIB, DIRTY, 41 }, { 64 * MIB, DIRTY, 21 },
		{ GIB, CLEAN, 11 }, { GIB, DIRTY, 11 }, { 4 * GIB, CLEAN, 7 }, { 4 * GIB, DIRTY, 7 },
	};
	struct contender c[MAX_CONTENDERS] = {
		{ .name = "panic split", .flush = flush_panic_split, .spin = sp },
		{ .name = "panic 1 cpu", .flush = flush_panic_1cpu },
		{ .name = "parallel", .flush = flush_parallel, .pool = pool },
	};
	static char names[MAX_CONTENDERS][24];
	unsigned int nc = 3, i, k, r;

	/* thread counts 1, 2, 4 ... and ncpus itself */
	for (k = 1; k <= ncpus && nc < MAX_CONTENDERS; k = k < ncpus && 2 * k > ncpus ? ncpus : 2 * k) {
		snprintf(names[nc], sizeof(names[nc]), "clwb x%u", k);
		c[nc] = (struct contender){ .name = names[nc], .flush = flush_clwb_threads,
					    .spin = sp, .threads = k };
		nc++;
		if (k == ncpus)
			break;
	}
	printf("\n%-14s %9s %6s | %9s %-20s | %9s %-20s | %s\n", "panic path", "split", "GB/s",
	       "1 CPU", "1 CPU/split", "ceiling", "ceiling/split", "parallel/ceiling, best loop");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ftm_span span = { .phys = 0, .virt = buf, .size = cases[i].bytes };
		struct set s = { .spans = &span, .nr = 1, .bytes = cases[i].bytes };
		double ceil[MAX_ROUNDS], rs[MAX_ROUNDS], rp[MAX_ROUNDS], cms[MAX_ROUNDS];
		unsigned int best[MAX_CONTENDERS] = { 0 }, top = 3;
		struct result res;
		char sz[24], label[48], note[48];

		if (cases[i].bytes > buf_bytes)
			continue;
		compare(c, nc, &s, cases[i].state, cases[i].rounds, pr, &res);
		for (r = 0; r < res.rounds; r++) {
			unsigned int b = 3;

			for (k = 4; k < nc; k++)
				if (res.t[k][r] < res.t[b][r])
					b = k;
			best[b]++;
			ceil[r] = res.t[b][r];
			cms[r] = ceil[r];
			rs[r] = ceil[r] / res.t[0][r];
			rp[r] = ceil[r] / res.t[2][r];
		}
		for (k = 4; k < nc; k++)
			if (best[k] > best[top])
				top = k;
		size_name(cases[i].bytes, sz, sizeof(sz));
		snprintf(label, sizeof(label), "%s %s", sz, state_name[cases[i].state]);
		printf("%-14s %6.2f ms %6.1f | %6.2f ms %.3f [%.3f..%.3f]  | %6.2f ms %.3f [%.3f..%.3f]  | %.3f [%.3f..%.3f], %s%s\n",
		       label, res.ms[0], gbps(s.bytes, res.ms[0]),
		       res.ms[1], res.ratio[1], res.q1[1], res.q3[1],
		       quantile(cms, res.rounds, 0.5) / 1e6, quantile(rs, res.rounds, 0.5),
		       quantile(rs, res.rounds, 0.25), quantile(rs, res.rounds, 0.75),
		       quantile(rp, res.rounds, 0.5), quantile(rp, res.rounds, 0.25),
		       quantile(rp, res.rounds, 0.75), c[top].name,
		       noise_note(&res, note, sizeof(note)));
		fflush(stdout);
		if (cases[i].bytes < GIB)
			continue;	/* the rule's break-even, shown only */
		goal_see(vs_1cpu, &res, 1, label);
		goal_add(vs_ceiling, ceil, res.t[0], res.rounds, label);
		if (cases[i].bytes == GIB)
			goal_add(par_ceiling, ceil, res.t[2], res.rounds, label);
	}
	snprintf(vs_1cpu->note, sizeof(vs_1cpu->note), "  cpus=%u", sp->nworkers + 1);
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

/*
 * The last-level cache as the module reads it: cacheinfo, i.e. the
 * highest-level data or unified cache of CPU 0 in sysfs (not the CPUID
 * leaf glibc's sysconf() decodes, which reads 256 MiB where lscpu and
 * cacheinfo say 32 MiB on some hypervisors).  0 and level 0 when unknown.
 */
static unsigned long long llc_bytes(unsigned int *level)
{
	const char *dir = "/sys/devices/system/cpu/cpu0/cache";
	unsigned long long best = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*level = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[512], type[32] = "", unit = 0;
		unsigned int lvl = 0;
		unsigned long long size = 0;
		FILE *f;

		if (strncmp(de->d_name, "index", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s/type", dir, de->d_name);
		if ((f = fopen(path, "re"))) {
			if (fscanf(f, "%31s", type) != 1)
				type[0] = '\0';
			fclose(f);
		}
		if (!strcmp(type, "Instruction"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/level", dir, de->d_name);
		if ((f = fopen(path, "re"))) {
			if (fscanf(f, "%u", &lvl) != 1)
				lvl = 0;
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/%s/size", dir, de->d_name);
		if ((f = fopen(path, "re"))) {
			if (fscanf(f, "%llu%c", &size, &unit) < 1)
				size = 0;
			fclose(f);
		}
		if (unit == 'K')
			size <<= 10;
		else if (unit == 'M')
			size <<= 20;
		if (lvl > *level || (lvl == *level && size > best)) {
			*level = lvl;
			best = size;
		}
	}
	closedir(d);
	return best;
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
	struct goal par_ceiling = { .name = "parallel-vs-ceiling", .target = 0.95 };
	struct goal split_1cpu = { .name = "panic-split-vs-1cpu", .target = 1.0 };
	struct goal split_ceiling = { .name = "panic-split-vs-ceiling", .target = 0.95 };
	struct spin_pool *spin;
	unsigned long long llc;
	unsigned int llc_level;
	char *big;
	struct ftm_span *spans;
	struct probe probe = { .n = 0 };
	struct pool pool;
	unsigned int ncpus, i;
	int cpus[MAX_CPUS], err;
	char *buf, pname[32], pname2[48];
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
	spin = calloc(1, sizeof(*spin));
	if (!err && !spin)
		err = -ENOMEM;
	if (!err)
		err = spin_start(spin, cpus, ncpus);
	if (!err)
		err = probe_add(&probe, gettid());
	for (i = 1; !err && i < ncpus; i++)
		err = probe_add(&probe, pool.workers[i].tid);
	for (i = 1; !err && i < ncpus; i++)
		err = probe_add(&probe, spin->w[i].tid);
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

	llc = llc_bytes(&llc_level);
	printf("flushtm engine benchmark: write back with %s (invalidate: %s), %u CPUs, LLC L%u %llu MiB (cacheinfo)\n",
	       ftm_engine_insn(FTM_LINE_WRITEBACK), ftm_engine_insn(FTM_LINE_INVALIDATE), ncpus,
	       llc_level, llc >> 20);
	print_load("before");
	printf("times are medians; ratios are medians of per-round other/engine [quartiles];\n"
	       "> 1 means the engine (or the split walk) is faster\n");
	probe.redo_until = now_ns() + REDO_BUDGET_NS;
	bench_contiguous(buf, &probe, &vs_pmem, &vs_loop);
	bench_small_ranges(spans, &pool, &probe, &set);
	bench_parallel(buf, &pool, ncpus, &probe, &par);
	big = map_buffer(PANIC_BUF_BYTES);
	if (big) {
		bench_panic(big, PANIC_BUF_BYTES, &pool, spin, ncpus, &probe, &split_1cpu,
			    &split_ceiling, &par_ceiling);
		munmap(big, PANIC_BUF_BYTES);
	} else {
		printf("\npanic path: no %llu GiB buffer, 1 GiB only\n", PANIC_BUF_BYTES / GIB);
		bench_panic(buf, BUF_BYTES, &pool, spin, ncpus, &probe, &split_1cpu,
			    &split_ceiling, &par_ceiling);
	}

	print_load("after");
	snprintf(pname, sizeof(pname), "parallel-%ucpu", ncpus);
	par.name = pname;
	goal_print(&vs_pmem);
	goal_print(&vs_loop);
	goal_print(&set);
	goal_print(&par);
	snprintf(pname2, sizeof(pname2), "parallel-%ucpu-vs-ceiling", ncpus);
	par_ceiling.name = pname2;
	goal_print(&par_ceiling);
	goal_print(&split_1cpu);
	goal_print(&split_ceiling);

	pool_stop(&pool);
	spin_stop(spin);
	free(spin);
	for (i = 0; i < probe.n; i++)
		close(probe.fd[i]);
	free(spans);
	munmap(buf, BUF_BYTES);
	return 0;
}
