#!/bin/bash
# `flushtmctl status` latency: median of many runs against a fake configfs tree
# (the host has no module; the guest under TCG is not the target machine).
# Builds nothing: run `make` first.  Usage: bench/status-bench.sh [RUNS]
# Prints: status median_ms=<x> target=5 PASS|SHORT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/flushtmctl/flushtmctl
runs=${1:-200}
[ -x "$ctl" ] || { echo "status-bench: build flushtmctl first (make)" >&2; exit 1; }
# shellcheck source=../lib/tests/fake-configfs.sh
. "$top/lib/tests/fake-configfs.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fake_tree "$dir/flushtm"
# A realistic load: a handful of ranges, as flushtmd and a config would make.
for i in $(seq 0 7); do
	fake_range "$dir/flushtm" "r$i" $((0x20000000 + i * 0x1000000)) 16777216 1 config
done
"$ctl" --root "$dir/flushtm" status > /dev/null

# Median wall time of "$@" over $runs runs, in ms, fork and exec included.
median_ms() {
	local times=() t0 t1
	for _ in $(seq "$runs"); do
		t0=$(date +%s%N)
		"$@" > /dev/null
		t1=$(date +%s%N)
		times+=($((t1 - t0)))
	done
	printf '%s\n' "${times[@]}" | sort -n |
		awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)] / 1e6}'
}

# What a process costs here at all: on a loaded machine this dominates.
base=$(median_ms /bin/true)
status=$(median_ms "$ctl" --root "$dir/flushtm" status)
verdict=$(awk -v m="$status" 'BEGIN {print (m < 5) ? "PASS" : "SHORT"}')
echo "status median_ms=$status target=5 $verdict (baseline /bin/true median_ms=$base," \
     "load $(cut -d' ' -f1 /proc/loadavg))"
