// SPDX-License-Identifier: GPL-2.0
/*
 * spawn-ratio: how much longer program B takes than program A, from start
 * to exit, on this machine now: what status-bench.sh uses to compare
 * `flushtmctl status` with /bin/true.
 *
 *   spawn-ratio ROUNDS RUNS A [ARG...] -- B [ARG...]
 *
 * Each round runs A and B alternately RUNS times each (A B A B ...), with
 * stdout on /dev/null, and measures each run twice: its CPU time (user +
 * system, from wait4(), exec and exit included) and its wall time from
 * spawn to reaped exit.  A round's ratio is B's total over A's; neighbouring
 * runs see the same machine, so the median of the per-round ratios is far
 * steadier than either program's own time.  The CPU ratio is the program's
 * cost and holds on a machine whose CPUs are shared (wall time there is
 * mostly the wait for a CPU); the wall ratio is what a user waits on an idle
 * one.  Prints one line:
 *   ratio=<median cpu> q1=<x> q3=<x> wall_ratio=<median> wall_q1=<x> wall_q3=<x>
 *   a_us=<median cpu per run> b_us=<...> a_wall_us=<...> b_wall_us=<...> rounds=N runs=M
 * Exits 1 when a run of either program fails (a benchmark of an error path
 * would mean nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double tv_ns(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e9 + (double)tv->tv_usec * 1e3;
}

/* One run of argv with stdout on /dev/null: its CPU and wall times in ns; -1 on failure. */
static int run_once(char **argv, const posix_spawn_file_actions_t *fa, double *cpu,
		    double *wall)
{
	double t0 = now_ns();
	struct rusage ru;
	int status;
	pid_t pid;

	if (posix_spawn(&pid, argv[0], fa, NULL, argv, environ) != 0)
		return -1;
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	*wall = now_ns() - t0;
	*cpu = tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "spawn-ratio: %s: exit status %d\n", argv[0], status);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	double *ratio, *wratio, *ta, *tb, *wa, *wb;
	char **a, **b;
	long rounds, runs;
	int sep;

	if (argc < 6)
		goto usage;
	rounds = strtol(argv[1], NULL, 10);
	runs = strtol(argv[2], NULL, 10);
	for (sep = 3; sep < argc && strcmp(argv[sep], "--"); sep++)
		;
	if (rounds < 1 || runs < 1 || sep == 3 || sep >= argc - 1)
		goto usage;
	argv[sep] = NULL;
	a = argv + 3;
	b = argv + sep + 1;

	ratio = calloc((size_t)rounds, sizeof(*ratio));
	wratio = calloc((size_t)rounds, sizeof(*wratio));
	ta = calloc((size_t)(rounds * runs), sizeof(*ta));
	tb = calloc((size_t)(rounds * runs), sizeof(*tb));
	wa = calloc((size_t)(rounds * runs), sizeof(*wa));
	wb = calloc((size_t)(rounds * runs), sizeof(*wb));
	if (!ratio || !wratio || !ta || !tb || !wa || !wb) {
		perror("spawn-ratio");
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);

	/* Warm the page cache and the dynamic loader's files for both. */
	for (int i = 0; i < 3; i++) {
		double c, w;

		if (run_once(a, &fa, &c, &w) < 0 || run_once(b, &fa, &c, &w) < 0)
			return 1;
	}
	for (long r = 0; r < rounds; r++) {
		double sa = 0, sb = 0, swa = 0, swb = 0;

		for (long i = 0; i < runs; i++) {
			long k = r * runs + i;

			if (run_once(a, &fa, &ta[k], &wa[k]) < 0 ||
			    run_once(b, &fa, &tb[k], &wb[k]) < 0)
				return 1;
			sa += ta[k];
			sb += tb[k];
			swa += wa[k];
			swb += wb[k];
		}
		ratio[r] = sb / sa;
		wratio[r] = swb / swa;
	}
	{
		size_t n = (size_t)rounds, m = (size_t)(rounds * runs);

		printf("ratio=%.3f q1=%.3f q3=%.3f wall_ratio=%.3f wall_q1=%.3f wall_q3=%.3f "
		       "a_us=%.0f b_us=%.0f a_wall_us=%.0f b_wall_us=%.0f rounds=%ld runs=%ld\n",
		       quantile(ratio, n, 0.5), quantile(ratio, n, 0.25), quantile(ratio, n, 0.75),
		       quantile(wratio, n, 0.5), quantile(wratio, n, 0.25),
		       quantile(wratio, n, 0.75), quantile(ta, m, 0.5) / 1e3,
		       quantile(tb, m, 0.5) / 1e3, quantile(wa, m, 0.5) / 1e3,
		       quantile(wb, m, 0.5) / 1e3, rounds, runs);
	}
	posix_spawn_file_actions_destroy(&fa);
	free(ratio);
	free(wratio);
	free(ta);
	free(tb);
	free(wa);
	free(wb);
	return 0;
usage:
	fprintf(stderr, "usage: spawn-ratio ROUNDS RUNS A [ARG...] -- B [ARG...]\n");
	return 2;
}
