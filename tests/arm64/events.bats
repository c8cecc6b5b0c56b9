#!/usr/bin/env bats
# cost: 120
# flushtm.ko on arm64 against the events that take the guest down, and an
# oops, each in an arm64 guest of its own (vm-run --arch arm64: UEFI, ACPI
# NVDIMM): the module loaded from the tree, a range over the NVDIMM's
# Persistent Memory enabled, a hook armed, the event caused, the flush line
# of interface.md looked for in the serial log.  At panic the lines of one
# CPU suffice on arm64: maintenance by VA is broadcast (flushtm(4)).
# A VM has no cache to lose: this proves the flush runs, with the right
# bytes, at the right moment; not durability.

bats_require_minimum_version 1.5.0

load ../host/host-helpers

setup_file() {
	host_setup_file
	export VMRUN="$TOP/tests/vm/vm-run --arch arm64"
	[ -f "$TOP/kmod/flushtm.ko" ] && [ -f "$TOP/tests/arm64/modules/ftm_oops.ko" ]
}

setup() { host_setup; }
teardown() { host_teardown; }

# The guest's start: the NVDIMM's driver, the module, range r0 over the
# first Persistent Memory of /proc/iomem (its size in $size).
PRELUDE='
set -eu
cfs=/sys/kernel/config/flushtm
modprobe nfit
range=$(grep -m1 " : Persistent Memory$" /proc/iomem | cut -d" " -f1)
start=0x${range%-*} size=$((0x${range#*-} + 1 - 0x${range%-*}))
insmod "$TOP/kmod/flushtm.ko"
mkdir "$cfs/ranges/r0"
echo $start > "$cfs/ranges/r0/start"
echo $size > "$cfs/ranges/r0/size"
echo 1 > "$cfs/ranges/r0/enabled"
echo "pmem size=$size" > /dev/console
arm() { local h; for h; do echo 1 > "$cfs/hooks/$h/enabled"; done; }
'

guest() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	$VMRUN --dir "$RUN" "${opts[@]}" -- env TOP="$TOP" bash -c "$PRELUDE
$1"
}

# flush_line HOOK: the flush line of interface.md for one range of the NVDIMM.
flush_line() {
	local size
	size=$(sed -n 's/^pmem size=\([0-9]*\)$/\1/p' "$SERIAL" | head -1)
	echo "flushtm: flush hook=$1 ranges=1 bytes=${size:-none} method=lines ns=[0-9]+ cpu=[0-9]+\$"
}

count_lines() {
	grep -cE "$(flush_line "$@")" "$SERIAL" || true
}

@test "panic: the panic hook flushes the NVDIMM range, after the panic message" {
	run guest --expect-down -- '
		arm panic
		echo 1 > /proc/sys/kernel/sysrq
		echo c > /proc/sysrq-trigger'
	[ "$status" -eq 0 ]
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$SERIAL"
	[ "$(count_lines panic)" -eq 1 ]
	grep -A1000 "Kernel panic - not syncing" "$SERIAL" | grep -qE "$(flush_line panic)"
}

@test "die: an oops with panic_on_oops=0 fires the die hook once; the guest goes on" {
	run guest --allow-oops -- '
		arm die
		insmod "$TOP/tests/arm64/modules/ftm_oops.ko"
		bash -c "echo oops > /sys/kernel/debug/ftm_oops/trigger" || true
		echo "die fired=$(cat $cfs/hooks/die/fired)"'
	[ "$status" -eq 0 ]
	grep -q "Internal error: Oops" "$SERIAL"
	[ "$(count_lines die)" -eq 1 ]
	[[ $output == *"die fired=1"* ]]
}

@test "die: an oops with oops=panic flushes under die, then under panic" {
	run guest --expect-down --append oops=panic -- '
		arm die panic
		insmod "$TOP/tests/arm64/modules/ftm_oops.ko"
		echo oops > /sys/kernel/debug/ftm_oops/trigger'
	[ "$status" -eq 0 ]
	[ "$(count_lines die)" -eq 1 ]
	[ "$(count_lines panic)" -eq 1 ]
	grep -E "$(flush_line die)|$(flush_line panic)" "$SERIAL" | head -1 | grep -q "hook=die"
}

@test "reboot -f: the reboot hook flushes, not the kexec one" {
	run guest --expect-down -- '
		arm reboot kexec
		busybox reboot -f'
	[ "$status" -eq 0 ]
	[ "$(count_lines reboot)" -eq 1 ]
	[ "$(count_lines kexec)" -eq 0 ]
	grep -q "reboot: Restarting system" "$SERIAL"
}

@test "kexec -e: the kexec hook flushes, not the reboot one; the second kernel boots" {
	run guest --expect-down --timeout 600 -- '
		arm reboot kexec
		kexec -l "$FTM_VM_KERNEL" --initrd="$FTM_VM_INITRD" --append="$(cat /proc/cmdline)"
		kexec -e'
	[ "$status" -eq 0 ]
	[ "$(count_lines kexec)" -eq 1 ]
	[ "$(count_lines reboot)" -eq 0 ]
	grep -qx boot "$RUN/share/.vm/boots"
	[ "$(grep -c "Linux version" "$SERIAL")" -eq 2 ]
}

@test "an ARMv8.0 CPU (cortex-a57, no DCPOP): write back falls back to dc cvac, user space agrees; a panic still flushes" {
	run guest --expect-down --cpu cortex-a57 -- '
		if grep -qw dcpop /proc/cpuinfo; then echo "this CPU has dcpop" >&2; exit 1; fi
		dmesg | grep "flushtm: lines:" > /dev/console
		echo "user: $("$TOP/tests/arm64/progs/ftm-arch-info" | tr "\n" " ")" > /dev/console
		arm panic
		echo 1 > /proc/sys/kernel/sysrq
		echo c > /proc/sysrq-trigger'
	[ "$status" -eq 0 ]
	grep -qE "flushtm: lines: write back dc cvac, invalidate dc civac, [0-9]+-byte lines$" "$SERIAL"
	line=$(sed -n 's/.*flushtm: lines: write back dc cvac, invalidate dc civac, \([0-9]*\)-byte lines$/\1/p' "$SERIAL" | head -1)
	grep -qx "user: dc cvac dc civac $line " "$SERIAL"
	[ "$(count_lines panic)" -eq 1 ]
}
