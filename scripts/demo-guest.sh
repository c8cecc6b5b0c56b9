#!/bin/bash
# The guest half of "make demo" (scripts/demo.sh runs it under tests/vm/vm-run):
# load flushtm, apply the shipped configuration, start flushtmd, show what it
# found, then panic.  The kernel's flush report goes to the serial console.
set -euo pipefail

# Written to the share so that the host can show it while the guest runs.
exec > "$FTM_VM_SHARE/demo.log" 2>&1

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/flushtmctl/flushtmctl
conf=$top/etc/flushtm/flushtm.conf

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "The guest: $(uname -r), $(nproc) CPUs; persistent memory in /proc/iomem"
grep -i 'persistent memory' /proc/iomem
# Quietly: Debian's ndctl hooks "ndctl load-keys" into loading libnvdimm.
modprobe nd_e820 > /dev/null 2>&1
modprobe nd_pmem > /dev/null 2>&1
ndctl list --namespaces

step "Load the module and apply etc/flushtm/flushtm.conf"
run "$ctl" load --path "$top/kmod/flushtm.ko"
dmesg | grep 'flushtm: loaded' || true
run "$ctl" apply "$conf"

step "Start flushtmd; wait for the range it finds"
"$top/flushtmd/flushtmd" --foreground --config "$conf" > "$FTM_VM_SHARE/flushtmd.log" 2>&1 &
for _ in $(seq 1 300); do
	compgen -G '/sys/kernel/config/flushtm/ranges/d-*' > /dev/null && break
	sleep 0.1
done
cat "$FTM_VM_SHARE/flushtmd.log"
compgen -G '/sys/kernel/config/flushtm/ranges/d-*' > /dev/null ||
	{ echo "demo: flushtmd found no persistent memory in 30 s" >&2; exit 1; }
run "$ctl" status
run "$ctl" check || true

step "Panic the guest (sysrq c): the panic hook flushes every enabled range"
echo 1 > /proc/sys/kernel/sysrq
sync
echo c > /proc/sysrq-trigger
