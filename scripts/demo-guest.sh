#!/bin/bash
# The guest half of "make demo" (scripts/demo.sh runs it under tests/vm/vm-run
# --boots 2: one machine, booted twice, RAM kept across the reset).
# Boot 1: load flushtm, apply the shipped configuration, start flushtmd, show
# what it found, make an ext4 -o dax file system on the pmem, store numbered
# records in a file there (tests/progs/ftm-records: through a DAX mapping, never
# flushed by the program), then panic.  The kernel's flush report goes to the
# serial console and, through pstore (ramoops), to the next boot.
# Boot 2: what the previous boot left: flushtmctl last, and the records.
set -euo pipefail

# Written to the share so that the host can show it while the guest runs.
exec >> "$FTM_VM_SHARE/demo.log" 2>&1

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/flushtmctl/flushtmctl
conf=$top/etc/flushtm/flushtm.conf
records=$top/tests/progs/ftm-records
mnt=/mnt/pmem
count=100000

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

pmem_and_pstore() {
	# Quietly: Debian's ndctl hooks "ndctl load-keys" into loading libnvdimm.
	modprobe nd_e820 > /dev/null 2>&1
	modprobe nd_pmem > /dev/null 2>&1
	for _ in $(seq 1 100); do [ -b /dev/pmem0 ] && break; sleep 0.1; done
	# ramoops keeps the kernel log in RAM reserved by memmap=1M$0x30000000.
	modprobe ramoops
	mount -t pstore pstore /sys/fs/pstore
	mkdir -p "$mnt"
}

if [ "${FTM_VM_BOOT:-1}" = 2 ]; then
	step "Boot 2 of the same machine: $(uname -r); what did the previous boot leave?"
	pmem_and_pstore
	run ls /sys/fs/pstore
	run "$ctl" last || true
	run mount -t ext4 -o dax /dev/pmem0 "$mnt"
	run "$records" read "$mnt/records"
	exit 0
fi

step "Boot 1: $(uname -r), $(nproc) CPUs; persistent memory in /proc/iomem"
grep -i 'persistent memory' /proc/iomem
pmem_and_pstore
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

step "An ext4 file system with DAX on the pmem, and numbered records stored in a file there"
run mkfs.ext4 -q -F -b 4096 /dev/pmem0
run mount -t ext4 -o dax /dev/pmem0 "$mnt"
run "$records" write "$mnt/records" "$count"

step "Panic the machine (sysrq c): the panic hook flushes every enabled range; panic=1 resets it"
echo 1 > /proc/sys/kernel/sysrq
sync
echo c > /proc/sysrq-trigger
