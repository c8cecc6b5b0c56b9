#!/bin/bash
# flushtmd against a fake configfs, sysfs and procfs (lib/tests/fake-configfs.sh):
# no root, no module, no VM.  A fake tree cannot make ranges (a plain mkdir has
# no attribute files), so what is checked is what the daemon decides and logs:
# a source that cannot be read keeps its ranges (issue 13 item 9), and the
# others are still reconciled.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/lib/tests/fake-configfs.sh"
d=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2> /dev/null; rm -rf "$d"; }
trap cleanup EXIT
n=0 failed=0
ok() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		failed=$((failed + 1))
		sed 's/^/#   /' "$d/log"
	fi
}
# Until the daemon has logged its N-th status line.
wait_status() {
	local i
	for i in $(seq 100); do
		[ "$(grep -c 'debug: status: ' "$d/log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

fake_tree "$d/cfs"
fake_sys "$d"
# What the daemon made before: the legacy pmem's iomem range, and a namespace's.
fake_range "$d/cfs" d-iomem-20000000 0x20000000 67108864 1 flushtmd
fake_range "$d/cfs" d-nd-namespace1.0 0x140000000 134217728 1 flushtmd
# /proc/iomem cannot be read; nd reads and has namespace1.0 no more.
rm "$d/proc/iomem"
mkdir "$d/proc/iomem"
printf '[flushtmd]\nsources = nd iomem\ntextfile_dir = none\n' > "$d/c.conf"
"$top/flushtmd/flushtmd" --foreground --verbose --resync 600 --config "$d/c.conf" \
	--root "$d/cfs" --sysfs "$d/sys" --procfs "$d/proc" > "$d/log" 2>&1 &
pid=$!
wait_status 1
ok "an unreadable source is said to be one, by name" \
	"grep -q 'error: cannot scan iomem: .*; keeping its ranges as they are' '$d/log'"
ok "its ranges are kept: no removal of d-iomem-20000000 tried" \
	"! grep -q 'd-iomem-20000000' <(grep -E 'remov' '$d/log')"
ok "the other source is still reconciled: the stale nd range is removed" \
	"grep -q 'cannot remove d-nd-namespace1.0\\|removed d-nd-namespace1.0' '$d/log'"
ok "the status says a source could not be scanned" \
	"grep -q 'status: holding 2 ranges.*a source could not be scanned' '$d/log'"
ok "and it is retried (not a loop: a back-off)" \
	"grep -q 'reconcile incomplete: retrying in 600 s' '$d/log'"

# iomem readable again, with the legacy pmem and a namespace over it: nd's name wins.
rmdir "$d/proc/iomem"
printf '20000000-23ffffff : Persistent Memory (legacy)\n  20000000-23ffffff : namespace0.0\n' \
	> "$d/proc/iomem"
fake_namespace "$d" namespace0.0 0x20000000 67108864
kill -HUP "$pid"
wait_status 2
ok "one extent, two sources: the namespace's range is wanted" \
	"grep -q 'cannot add d-nd-namespace0.0 0x20000000 64M' '$d/log'"
ok "... and the iomem range is not removed while that add is refused" \
	"! grep -qE '(removed|cannot remove) d-iomem-20000000' '$d/log'"
kill "$pid"
wait "$pid" 2> /dev/null
pid=

# The node_exporter textfile (textfile.c): a directory that is not there yet
# is logged once and the daemon goes on; once it appears the file is there,
# whole, readable by the collector's user, with no temporary left behind.
until_file() {
	local i
	for i in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
printf '[flushtmd]\nsources = iomem\ntextfile_dir = %s\ntextfile_interval = 1\n' "$d/tf" \
	> "$d/c.conf"
"$top/flushtmd/flushtmd" --foreground --verbose --resync 600 --config "$d/c.conf" \
	--root "$d/cfs" --sysfs "$d/sys" --procfs "$d/proc" > "$d/log" 2>&1 &
pid=$!
wait_status 1
sleep 3
ok "a missing metrics directory is logged once in 3 s of 1 s intervals, and the daemon goes on" \
	"[ \"\$(grep -c 'no metrics directory $d/tf: not writing metrics until it appears' '$d/log')\" -eq 1 ] && kill -0 $pid"
mkdir "$d/tf"
until_file "$d/tf/flushtm.prom"
ok "once it appears, flushtm.prom is written within the interval, and that is said" \
	"[ -f '$d/tf/flushtm.prom' ] && grep -q 'metrics in $d/tf/flushtm.prom, every 1 s' '$d/log'"
ok "it holds the module's state: loaded, the daemon's range, iomem covered" \
	"grep -qx 'flushtm_module_loaded 1' '$d/tf/flushtm.prom' &&
	 grep -qx 'flushtm_range_size_bytes{range=\"d-iomem-20000000\",owner=\"flushtmd\"} 67108864' '$d/tf/flushtm.prom' &&
	 grep -qx 'flushtm_pmem_uncovered_bytes{source=\"iomem\"} 0' '$d/tf/flushtm.prom'"
ok "it is mode 0644 (the collector runs as another user; the daemon's umask is 0077)" \
	"[ \"\$(stat -c %a '$d/tf/flushtm.prom')\" = 644 ]"
# A counter moves: the next interval's file shows it.
echo 7 > "$d/cfs/hooks/manual/fired"
sleep 2.5
ok "every interval it is rewritten with the counters of the moment" \
	"grep -qx 'flushtm_hook_fired_total{hook=\"manual\"} 7' '$d/tf/flushtm.prom'"
ok "no temporary file is left in the directory, and nothing else" \
	"[ \"\$(ls -A '$d/tf')\" = flushtm.prom ]"
# Nothing moves: an idle daemon leaves the file as it is (a write renames a new
# inode over it); a counter that moves again has it rewritten.
ino=$(stat -c %i "$d/tf/flushtm.prom")
sleep 3.5
ok "with nothing changed, three intervals rewrite nothing" \
	"[ \"\$(stat -c %i '$d/tf/flushtm.prom')\" = $ino ]"
echo 8 > "$d/cfs/hooks/manual/fired"
sleep 2.5
ok "a counter that moves has it rewritten at the next interval" \
	"[ \"\$(stat -c %i '$d/tf/flushtm.prom')\" != $ino ] &&
	 grep -qx 'flushtm_hook_fired_total{hook=\"manual\"} 8' '$d/tf/flushtm.prom'"
# The directory turns into a file: another reason, logged once too.
rm -r "$d/tf"
: > "$d/tf"
sleep 3
ok "a path that is no directory is another reason: one warning, the daemon goes on" \
	"[ \"\$(grep -c 'warning: cannot write metrics to $d/tf: Not a directory' '$d/log')\" -eq 1 ] && kill -0 $pid"
kill "$pid"
wait "$pid" 2> /dev/null
pid=
echo "1..$n"
[ "$failed" -eq 0 ]
