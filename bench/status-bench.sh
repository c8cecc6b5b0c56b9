#!/bin/bash
# `flushtmctl status` against /bin/true, side by side in one run (spawn-ratio:
# interleaved runs, median of the per-round ratios of the two programs'
# times), reading a fake configfs tree: the host has no module, and the guest
# under TCG is not the target machine.  What status costs beyond any program
# start is loading its libraries and reading its files (4 settings, 3 per
# hook, 5 per range: 71 here).  The goal is on CPU time (user + system of the
# program, exec to exit), which holds on a machine whose CPUs are shared; the
# wall-time ratio, what a user waits on an idle machine, is shown beside it.
# Builds nothing: run `make` first (make bench builds spawn-ratio).
#   bench/status-bench.sh [ROUNDS [RUNS]]
# Prints: goal status-vs-true ratio=<x> target=1.30 PASS|SHORT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/flushtmctl/flushtmctl
spawn=$top/bench/spawn-ratio
rounds=${1:-31}
runs=${2:-20}
target=1.30
[ -x "$ctl" ] || { echo "status-bench: build flushtmctl first (make)" >&2; exit 1; }
[ -x "$spawn" ] || { echo "status-bench: build bench/spawn-ratio first (make -C bench)" >&2; exit 1; }
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

out=$("$spawn" "$rounds" "$runs" /bin/true -- "$ctl" --root "$dir/flushtm" status)
ratio=${out#ratio=}
ratio=${ratio%% *}
echo "status-vs-true: $out (a: /bin/true, b: flushtmctl status, 8 ranges; _us: CPU time; load $(cut -d' ' -f1 /proc/loadavg))"
verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN {print (r <= t) ? "PASS" : "SHORT"}')
echo "goal status-vs-true ratio=$ratio target=$target $verdict"
