#!/bin/bash
# Guest side of tests/host/daemon-hotplug.bats: start flushtmd (sources nd),
# say ready, wait for the host to hot-add an NVDIMM through QMP, then wait for
# the new namespace's range.  Results as key=value lines in $FTM_VM_SHARE/result.
set -u
cd "$(dirname "$0")/../.."
BATS_TEST_DIRNAME=$PWD/tests/guest
. tests/guest/helpers.bash
BATS_FILE_TMPDIR=$(mktemp -d)
. flushtmd/tests/daemon-helpers.bash
share=$FTM_VM_SHARE
result=$share/result

ftmd_guest_setup 2
printf '[flushtmd]\nsources = nd\n' > "$FTMD_CONF"
ftmd_start
ftmd_wait_ready || { echo "error=not ready" > "$result"; exit 1; }
nd_ranges() { ftmd_our_ranges | grep -c '^d-nd-'; }
before=$(nd_ranges)
echo "before=$before" > "$result"
touch "$share/ready"

for _ in $(seq 1200); do [ -e "$share/added" ] && break; sleep 0.1; done
[ -e "$share/added" ] || { echo "error=host never hot-added" >> "$result"; exit 1; }
t0=$(date +%s%N)
for _ in $(seq 1200); do [ "$(nd_ranges)" -gt "$before" ] && break; sleep 0.05; done
t1=$(date +%s%N)
echo "after=$(nd_ranges)" >> "$result"
echo "latency_ms=$(((t1 - t0) / 1000000))" >> "$result"
# The new range must match its namespace exactly.
ok=0
for ns in /sys/bus/nd/devices/namespace*; do
	n=$(basename "$ns")
	ftmd_range_live "d-nd-$n" || continue
	[ $(($(cat "$ns/resource"))) -eq $(($(cat "$CFS/ranges/d-nd-$n/start"))) ] &&
	[ "$(cat "$ns/size")" -eq "$(cat "$CFS/ranges/d-nd-$n/size")" ] && ok=$((ok + 1))
done
echo "matching=$ok" >> "$result"
ftmd_log_new | sed 's/^/log: /' >> "$result"
ftmd_stop_quietly
