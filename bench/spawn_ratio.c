// SPDX-License-Identifier: GPL-2.0
/*
 * spawn-ratio: how much longer program B takes than program A, from start
 * to exit, on this machine now: what status-bench.sh uses to compare
 * `flushtmctl status` with /bin/true.
 *
 *   spawn-ratio ROUNDS RUNS A [ARG...] -- B [ARG...]
 *
 * Each round runs A and B alternately RUNS times each (A B A B ...), with
 * stdout on /dev/null, and times each run from spawn to reaped exit; the
 * round's ratio is B's total over A's.  A shared, noisy machine slows
 * neighbouring runs alike, so the median of the per-round ratios is far
 * steadier than either program's own time.  Prints one line:
 *   ratio=<median> q1=<x> q3=<x> a_us=<median run> b_us=<median run> rounds=N runs=M
 * Exits 1 when a run of either program fails (a benchmark of an error path
 * would mean nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One run of argv with stdout on /dev/null; its wall time in ns, or -1. */
static double run_once(char **argv, const posix_spawn_file_actions_t *fa)
{
	double t0 = now_ns(), t1;
	int status;
	pid_t pid;

	if (posix_spawn(&pid, argv[0], fa, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	t1 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "spawn-ratio: %s: exit status %d\n", argv[0], status);
		return -1;
	}
	return t1 - t0;
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
	double *ratio, *ta, *tb;
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
	ta = calloc((size_t)(rounds * runs), sizeof(*ta));
	tb = calloc((size_t)(rounds * runs), sizeof(*tb));
	if (!ratio || !ta || !tb) {
		perror("spawn-ratio");
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);

	/* Warm the page cache and the dynamic loader's files for both. */
	for (int i = 0; i < 3; i++)
		if (run_once(a, &fa) < 0 || run_once(b, &fa) < 0)
			return 1;
	for (long r = 0; r < rounds; r++) {
		double sa = 0, sb = 0;

		for (long i = 0; i < runs; i++) {
			double x = run_once(a, &fa), y = run_once(b, &fa);

			if (x < 0 || y < 0)
				return 1;
			ta[r * runs + i] = x;
			tb[r * runs + i] = y;
			sa += x;
			sb += y;
		}
		ratio[r] = sb / sa;
	}
	{
		size_t n = (size_t)rounds, m = (size_t)(rounds * runs);
		double q1 = quantile(ratio, n, 0.25), q3 = quantile(ratio, n, 0.75);
		double med = quantile(ratio, n, 0.5);

		printf("ratio=%.3f q1=%.3f q3=%.3f a_us=%.0f b_us=%.0f rounds=%ld runs=%ld\n",
		       med, q1, q3, quantile(ta, m, 0.5) / 1e3, quantile(tb, m, 0.5) / 1e3,
		       rounds, runs);
	}
	posix_spawn_file_actions_destroy(&fa);
	free(ratio);
	free(ta);
	free(tb);
	return 0;
usage:
	fprintf(stderr, "usage: spawn-ratio ROUNDS RUNS A [ARG...] -- B [ARG...]\n");
	return 2;
}
