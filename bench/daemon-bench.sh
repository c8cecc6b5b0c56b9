#!/bin/bash
# flushtmd benchmarks.
#   bench/daemon-bench.sh          host planner + guest (boots a TCG guest, ~1-2 min)
#   bench/daemon-bench.sh --host   the planner only
# Host: time to plan a reconcile of 1,000 ranges (fresh, steady, all changed).
# Guest (QEMU/TCG, so every number is an emulated-CPU number, several times a
# real machine's): uevent -> range live in configfs (includes the daemon's
# 100 ms settle delay), and a real reconcile of 1,000 ranges through configfs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${1:-}" = --guest-side ]; then
	# Polling helpers return non-zero as a matter of course.
	set +e
	BATS_TEST_DIRNAME=$top/tests/guest
	. tests/guest/helpers.bash
	BATS_FILE_TMPDIR=$(mktemp -d)
	. flushtmd/tests/daemon-helpers.bash
	ftmd_guest_setup 1 > /dev/null
	ns=namespace0.0

	# uevent -> live: unbind the namespace, let the range go, bind it again.
	printf '[flushtmd]\nsources = nd\n' > "$FTMD_CONF"
	ftmd_start
	ftmd_wait_ready
	lat=()
	for _ in 1 2 3 4 5; do
		echo $ns > /sys/bus/nd/drivers/nd_pmem/unbind
		ftmd_wait_gone d-nd-$ns > /dev/null
		t0=$(date +%s%N)
		echo $ns > /sys/bus/nd/drivers/nd_pmem/bind
		while ! ftmd_range_live d-nd-$ns; do :; done
		t1=$(date +%s%N)
		lat+=($(((t1 - t0) / 1000000)))
	done
	sorted=$(printf '%s\n' "${lat[@]}" | sort -n | paste -sd' ')
	echo "guest: uevent -> range live: median $(printf '%s\n' "${lat[@]}" | sort -n | sed -n 3p) ms (runs: $sorted; 100 ms of it is the settle delay; TCG)"
	kill -TERM "$(ftmd_pid)"; sleep 1

	# 1,000 static ranges of 64K in the 64M of legacy pmem.
	conf() {
		printf '[flushtmd]\nsources = nd\n'
		for i in $(seq 0 999); do
			printf '[range r%d]\nstart = 0x%x\nsize = %dK\n' $i $((0x20000000 + i * 65536 + $2)) $1
		done
	}
	conf 64 0 > "$FTMD_CONF"
	t0=$(date +%s%N)
	ftmd_start
	ftmd_until 300 ftmd_ready
	t1=$(date +%s%N)
	n=$(ftmd_our_ranges | grep -c '^d-config-')
	echo "guest: start to READY=1 with 1,000 new ranges ($n live): $(((t1 - t0) / 1000000)) ms (TCG)"
	conf 32 32768 > "$FTMD_CONF"
	ftmd_log_mark
	t0=$(date +%s%N)
	kill -HUP "$(ftmd_pid)"
	ftmd_until 600 ftmd_log_has 'reconciled:' > /dev/null
	t1=$(date +%s%N)
	echo "guest: 1,000 ranges all changed (4,000 configfs ops, make-before-break): $(((t1 - t0) / 1000000)) ms (TCG)"
	ftmd_log_mark
	t0=$(date +%s%N)
	echo change > /sys/bus/nd/devices/$ns/uevent
	ftmd_until 60 ftmd_log_has 'status:' > /dev/null
	t1=$(date +%s%N)
	echo "guest: steady reconcile of 1,000 held ranges after a uevent: $(((t1 - t0) / 1000000)) ms incl. 100 ms settle (TCG)"
	ftmd_stop_quietly
	exit 0
fi

make -s -C flushtmd plan.o tests/ftm_sources.o
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/plan-bench.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "plan.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(const char *what, const struct ftm_aperture *w, size_t nw,
		  const struct ftm_range *h, size_t nh)
{
	struct ftmd_plan p;
	int iters = 200;
	double t0 = now();
	size_t ops = 0;

	for (int i = 0; i < iters; i++) {
		if (ftmd_plan_make(w, nw, h, nh, FTM_DAEMON_OWNER, &p) < 0)
			exit(1);
		ops = p.nr_ops;
		ftmd_plan_free(&p);
	}
	printf("host: plan 1,000 ranges, %-12s %5zu ops: %8.1f us\n", what, ops,
	       (now() - t0) / iters * 1e6);
}

int main(void)
{
	enum { N = 1000 };
	static struct ftm_aperture w[N];
	static struct ftm_range h[N];
	char dev[32];

	for (int i = 0; i < N; i++) {
		snprintf(dev, sizeof(dev), "namespace%d.0", i);
		ftm_aperture_set(&w[i], "nd", dev, 0x100000000ull + i * 0x200000ull, 0x200000);
		memcpy(h[i].name, w[i].name, sizeof(h[i].name));
		snprintf(h[i].owner, sizeof(h[i].owner), FTM_DAEMON_OWNER);
		h[i].start = w[i].start;
		h[i].size = w[i].size;
		h[i].enabled = true;
	}
	bench("fresh:", w, N, NULL, 0);
	bench("steady:", w, N, h, N);
	for (int i = 0; i < N; i++)
		h[i].size = 0x100000;
	bench("all changed:", w, N, h, N);
	return 0;
}
C
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I lib -I flushtmd -o "$tmp/plan-bench" \
	"$tmp/plan-bench.c" flushtmd/plan.o flushtmd/tests/ftm_sources.o
"$tmp/plan-bench"

[ "${1:-}" = --host ] && exit 0
make -s -C flushtmd flushtmd
tests/vm/vm-run --timeout 900 --append loglevel=4 -- bash -c \
	'[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd; exec bench/daemon-bench.sh --guest-side'
