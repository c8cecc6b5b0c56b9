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
printf '[flushtmd]\nsources = nd iomem\n' > "$d/c.conf"
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
echo "1..$n"
[ "$failed" -eq 0 ]
