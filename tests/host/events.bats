#!/usr/bin/env bats
# cost: 260
# flushtm.ko against real events in a booted guest: each scenario loads the module
# from the tree, makes an enabled range over the default legacy pmem (0x20000000,
# 64 MiB), arms a hook, causes the event, and checks the flush line of interface.md
# in the serial log on the host and, where the guest lives on, the hook's counters.
#
# An event that brings the guest down (panic, reboot, kexec) needs a boot of its
# own.  The events the guest lives through share one boot instead: each is a
# section of it (live), with a fresh module, its own output and status, and its own
# slice of the serial log between markers; see live_section.

bats_require_minimum_version 1.5.0

load host-helpers

setup_file() {
	host_setup_file kmod tests/modules
	[ -f "$TOP/kmod/flushtm.ko" ]
}

setup() {
	host_setup
}

teardown() {
	host_teardown
}

# What every guest command starts with: the module loaded, range r0 enabled over
# the legacy pmem, and helpers. The script stops at the first failing step.
PRELUDE='
set -eu
cfs=/sys/kernel/config/flushtm
insmod "$TOP/kmod/flushtm.ko"
mkdir "$cfs/ranges/r0"
echo 0x20000000 > "$cfs/ranges/r0/start"
echo 64M > "$cfs/ranges/r0/size"
echo 1 > "$cfs/ranges/r0/enabled"
arm() { local h; for h; do echo 1 > "$cfs/hooks/$h/enabled"; done; }
disarm() { local h; for h; do echo 0 > "$cfs/hooks/$h/enabled"; done; }
arm_all() {
	local h
	for h in "$cfs"/hooks/*/; do
		[ "$(cat "$h/available")" = 1 ] && echo 1 > "$h/enabled"
	done
	return 0
}
# one line of counters, e.g.  nmi fired=1 flushed_bytes=67108864 last_ns=5 max_ns=5
counters() {
	local d=$cfs/hooks/$1
	echo "$1 fired=$(cat "$d/fired") flushed_bytes=$(cat "$d/flushed_bytes")" \
		"last_ns=$(cat "$d/last_ns") max_ns=$(cat "$d/max_ns")"
}
'

# guest [VM-RUN OPTIONS] -- SCRIPT: run PRELUDE + SCRIPT in a guest, run dir $RUN.
guest() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	"$VMRUN" --dir "$RUN" "${opts[@]}" -- env TOP="$TOP" bash -c "$PRELUDE
$1"
}

# The exact flush line of interface.md for HOOK (one range, the 64 MiB of pmem).
flush_line() {
	echo "flushtm: flush hook=$1 ranges=1 bytes=67108864 method=${2:-lines} ns=[0-9]+ cpu=[0-9]+( cpus=[0-9]+ taken=[0-9]+)?\$"
}

# count_lines HOOK [METHOD]: how many such lines the serial log has.
count_lines() {
	grep -cE "$(flush_line "$@")" "$SERIAL" || true
}

# The counters line the guest printed for HOOK shows one event of 64 MiB, timed.
assert_counted_once() {
	local line
	line=$(grep -E "^$1 fired=" <<< "$output")
	[[ $line =~ ^$1\ fired=1\ flushed_bytes=67108864\ last_ns=([0-9]+)\ max_ns=([0-9]+)$ ]] ||
		{ echo "counters: $line" >&2; return 1; }
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[2]}" -ge "${BASH_REMATCH[1]}" ]
}

@test "panic: the panic hook flushes the range (method lines) before the machine stops" {
	run guest --expect-down -- '
		arm panic
		echo 1 > /proc/sys/kernel/sysrq
		echo c > /proc/sysrq-trigger'
	[ "$status" -eq 0 ]
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$SERIAL"
	[ "$(count_lines panic)" -eq 1 ]
	# the line comes after the panic message: it is the notifier, not something earlier
	grep -A1000 "Kernel panic - not syncing" "$SERIAL" | grep -qE "$(flush_line panic)"
}

@test "panic with method=cache says method=cache, and every CPU wrote back" {
	run guest --expect-down -- '
		echo cache > "$cfs/method"
		arm panic
		echo 1 > /proc/sys/kernel/sysrq
		echo c > /proc/sysrq-trigger'
	[ "$status" -eq 0 ]
	[ "$(count_lines panic cache)" -eq 1 ]
	[ "$(count_lines panic lines)" -eq 0 ]
	! grep -q "did not write back their caches" "$SERIAL"
	! grep -q "other CPUs' caches will not be written back" "$SERIAL"
}

@test "disarmed hooks do not fire: a panic with nothing armed prints no flush line" {
	run guest --expect-down -- '
		arm_all
		for h in "$cfs"/hooks/*/; do echo 0 > "$h/enabled"; done
		echo 1 > /proc/sys/kernel/sysrq
		echo c > /proc/sysrq-trigger'
	[ "$status" -eq 0 ]
	grep -q "Kernel panic - not syncing" "$SERIAL"
	! grep -q "flushtm: flush hook=" "$SERIAL"
}

@test "die: an oops with panic_on_oops=1 flushes under die, then under panic" {
	run guest --expect-down --append oops=panic -- '
		arm die panic
		insmod "$TOP/tests/modules/ftm_provoke.ko"
		echo oops > /sys/kernel/debug/ftm_provoke/trigger'
	[ "$status" -eq 0 ]
	[ "$(count_lines die)" -eq 1 ]
	[ "$(count_lines panic)" -eq 1 ]
	grep -q "Kernel panic - not syncing: Fatal exception" "$SERIAL"
	# die first (from the oops), panic after
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
	# the second kernel ran the harness's init, which found the first run's marker
	grep -qx boot "$RUN/share/.vm/boots"
	[ "$(grep -c "Linux version" "$SERIAL")" -eq 2 ]
}

@test "panic: another module decorated the stop path after flushtm; disarmed, flushtm stays loaded; re-armed, a panic flushes once" {
	run guest --expect-down -- '
		echo cache > "$cfs/method"
		arm panic
		insmod "$TOP/tests/modules/ftm_provoke.ko"
		echo decorate > /sys/kernel/debug/ftm_provoke/trigger
		disarm panic
		rmdir "$cfs/ranges/r0"
		if rmmod flushtm 2> /dev/null; then echo "flushtm unloaded"; else echo "flushtm still loaded"; fi
		mkdir "$cfs/ranges/r0"
		echo 0x20000000 > "$cfs/ranges/r0/start"
		echo 64M > "$cfs/ranges/r0/size"
		echo 1 > "$cfs/ranges/r0/enabled"
		arm panic
		echo 1 > /proc/sys/kernel/sysrq
		echo c > /proc/sysrq-trigger'
	[ "$status" -eq 0 ]
	[[ "$output" == *"flushtm still loaded"* ]]
	grep -q "smp_ops.stop_other_cpus was decorated after flushtm: left in place" "$SERIAL"
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$SERIAL"
	# the stop path ran through both decorators once: no recursion, every CPU answered
	[ "$(count_lines panic cache)" -eq 1 ]
	! grep -q "did not write back their caches" "$SERIAL"
}

@test "reboot(2) RESTART2 with the command \"kexec reboot\" is a reboot, not a kexec" {
	mkdir -p "$RUN/share"
	printf '%s\n' '#include <linux/reboot.h>' '#include <sys/syscall.h>' '#include <unistd.h>' \
		'int main(void) { sync(); return syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART2, "kexec reboot"); }' |
		cc -x c -o "$RUN/share/restart2" -
	run guest --expect-down -- '
		arm reboot kexec
		"$FTM_VM_SHARE/restart2"'
	[ "$status" -eq 0 ]
	grep -q "reboot: Restarting system with command .kexec reboot." "$SERIAL"
	[ "$(count_lines reboot)" -eq 1 ]
	[ "$(count_lines kexec)" -eq 0 ]
}

# The events the guest lives through, as sections of one shared boot.  A section is
# PRELUDE + its script, run by bash in order of declaration, between two markers
# in the kernel log ("ftm-test: begin NAME", "ftm-test: end NAME"); the module and
# its ranges are taken away after it, so the next one starts as on a fresh boot.
# The boot allows oopses (the last sections cause one and a warning): every other
# section checks its own part of the serial log for them instead.
declare -gA LIVE_SCRIPT=()
LIVE_ORDER=()

# live NAME SCRIPT: SCRIPT becomes the section NAME of the shared boot.
live() {
	LIVE_ORDER+=("$1")
	LIVE_SCRIPT[$1]=$2
}

# live_guest: the shared boot, once for the file: the first test that needs it
# boots it, the others read what it left in $LIVE.  The nmi section waits in the
# guest for the host to inject the NMI over QMP.
live_guest() {
	LIVE=$BATS_FILE_TMPDIR/live
	[ -e "$LIVE/status" ] && return 0
	local name rc=0
	rm -rf "$LIVE"	# what a boot that did not finish left
	mkdir -p "$LIVE/share/sections"
	for name in "${LIVE_ORDER[@]}"; do
		printf '%s\n%s\n' "$PRELUDE" "${LIVE_SCRIPT[$name]}" > "$LIVE/share/sections/$name"
	done
	printf '%s\n' "${LIVE_ORDER[@]}" > "$LIVE/share/sections/order"
	printf 'int main(void) { __asm__ volatile("int3"); return 0; }\n' |
		cc -x c -o "$LIVE/share/int3" -
	"$VMRUN" --dir "$LIVE" --qmp --allow-oops --timeout 1500 -- env TOP="$TOP" bash -c '
		cfs=/sys/kernel/config/flushtm
		for name in $(cat "$FTM_VM_SHARE/sections/order"); do
			echo "ftm-test: begin $name" > /dev/kmsg
			echo "== begin $name"
			bash "$FTM_VM_SHARE/sections/$name" 2>&1
			echo "== end $name status=$?"
			echo "ftm-test: end $name" > /dev/kmsg
			rmdir "$cfs"/ranges/* 2> /dev/null
			rmmod flushtm 2> /dev/null
		done
		true' > "$LIVE/out" 2>&1 &
	BG_PID=$!
	while kill -0 "$BG_PID" 2> /dev/null && [ ! -e "$LIVE/share/ready" ]; do
		sleep 0.2
	done
	if [ -e "$LIVE/share/ready" ]; then
		# the nmi test judges the reply; the other sections go on regardless
		"$QMP" "$LIVE/qmp.sock" inject-nmi > "$LIVE/qmp.out" 2>&1 || true
		touch "$LIVE/share/go"
	fi
	wait "$BG_PID" || rc=$?
	BG_PID=
	echo "$rc" > "$LIVE/status"
}

# live_section NAME [--allow-oops]: boot the shared guest if need be, then judge
# the section NAME: the boot ended well, the section ran to its end with status 0
# and, unless allowed, the kernel did not complain in its part of the serial log
# (up to the next section, so a late complaint counts too).  Leaves the section's
# output in $output and its part of the serial log in $SERIAL.
live_section() {
	live_guest
	[ "$(< "$LIVE/status")" -eq 0 ] || { echo "shared boot: status $(< "$LIVE/status")"; cat "$LIVE/out"; return 1; }
	output=$(sed -n "/^== begin $1\$/,/^== end $1 status=/p" "$LIVE/out")
	[[ $output =~ $'\n'"== end $1 status="([0-9]+)$ ]] || { echo "section $1 did not end: $output"; return 1; }
	[ "${BASH_REMATCH[1]}" -eq 0 ] || { echo "section $1: status ${BASH_REMATCH[1]}: $output"; return 1; }
	output=$(sed '1d;$d' <<< "$output")
	SERIAL=$BATS_TEST_TMPDIR/serial-$1.log
	sed -n "/ftm-test: begin $1\$/,/ftm-test: end $1\$/p" "$LIVE/serial.log" > "$SERIAL"
	grep -q "ftm-test: end $1\$" "$SERIAL"
	[ "${2:-}" = --allow-oops ] && return 0
	! awk -v b="ftm-test: begin $1" '
		index($0, "ftm-test: begin ") { on = index($0, b) && substr($0, index($0, b)) == b }
		on' "$LIVE/serial.log" | grep -E 'Kernel panic|Oops|WARNING:|BUG:|general protection fault'
}

live nmi '
	arm nmi
	touch "$FTM_VM_SHARE/ready"
	for i in $(seq 600); do [ -e "$FTM_VM_SHARE/go" ] && break; sleep 0.2; done
	sleep 1
	counters nmi
	dmesg -r | sed -n "s/^<0>\[[ 0-9.]*\] \(flushtm: flush hook=nmi \)/emerg: \1/p"
	# NMIs that a handler claims (all-CPU backtrace) are not the event
	echo 1 > /proc/sys/kernel/sysrq
	echo l > /proc/sysrq-trigger
	sleep 3
	echo "after backtrace: $(cat "$cfs/hooks/nmi/fired")"'
@test "nmi: an NMI injected over QMP fires the nmi hook once (KERN_EMERG); backtrace NMIs do not" {
	live_section nmi
	grep -qx '{"return": {}}' "$LIVE/qmp.out"
	assert_counted_once nmi
	[ "$(grep -c "^emerg: flushtm: flush hook=nmi ranges=1 bytes=67108864" <<< "$output")" -eq 1 ]
	[[ "$output" == *"after backtrace: 1"* ]]
	[ "$(count_lines nmi)" -eq 1 ]
	grep -q "NMI backtrace for cpu" "$SERIAL"
}

live cpu_offline '
	arm cpu_offline
	echo 0 > /sys/devices/system/cpu/cpu1/online
	counters cpu_offline
	echo 1 > /sys/devices/system/cpu/cpu1/online
	dmesg | grep "flush hook=cpu_offline"'
@test "cpu_offline: taking CPU 1 offline flushes on CPU 1" {
	live_section cpu_offline
	assert_counted_once cpu_offline
	[[ "$output" =~ flush\ hook=cpu_offline\ ranges=1\ bytes=67108864\ method=lines\ ns=[0-9]+\ cpu=1$ ]]
	[ "$(count_lines cpu_offline)" -eq 1 ]
}

live exit '
	arm exit
	sleep 1000 &
	pid=$!
	# enrolment follows the address space: wait for the exec of sleep
	until [ "$(cat /proc/$pid/comm)" = sleep ]; do sleep 0.1; done
	echo "$pid" > "$cfs/hooks/exit/pids"
	[ "$(cat "$cfs/hooks/exit/pids")" = "$pid" ]
	sleep 100 &
	other=$!
	kill "$other"; wait "$other" || true
	sleep 1
	echo "after other: $(cat "$cfs/hooks/exit/fired") $(cat "$cfs/hooks/exit/pids")"
	kill "$pid"; wait "$pid" || true
	counters exit'
@test "exit: an enrolled process that dies has its NVM flushed" {
	live_section exit
	[[ "$output" =~ after\ other:\ 0\ [0-9]+ ]]
	assert_counted_once exit
	[ "$(count_lines exit)" -eq 1 ]
}

live aperture '
	rmdir "$cfs/ranges/r0"
	counters aperture'
@test "aperture: removing an enabled range flushes it under aperture" {
	live_section aperture
	assert_counted_once aperture
	[ "$(count_lines aperture)" -eq 1 ]
}

live cycles '
	rmdir "$cfs/ranges/r0"
	rmmod flushtm
	for i in $(seq 20); do
		insmod "$TOP/kmod/flushtm.ko"
		mkdir "$cfs/ranges/r$i"
		echo 0x20000000 > "$cfs/ranges/r$i/start"
		echo 64M > "$cfs/ranges/r$i/size"
		echo 1 > "$cfs/ranges/r$i/enabled"
		arm_all
		rmdir "$cfs/ranges/r$i"
		rmmod flushtm
	done
	[ ! -e /sys/module/flushtm ] && echo "cycles done"'
@test "20 load/unload cycles with every hook armed leave the kernel clean" {
	live_section cycles
	[[ "$output" == *"cycles done"* ]]
	[ "$(grep -c "flushtm: loaded, interface 1" "$SERIAL")" -eq 21 ]
	[ "$(grep -c "flushtm: unloaded" "$SERIAL")" -eq 21 ]
	[ "$(count_lines aperture)" -eq 21 ]
}

# The two sections that make the kernel complain come last.
live traps '
	arm die
	insmod "$TOP/tests/modules/ftm_provoke.ko"
	for i in 1 2 3; do "$FTM_VM_SHARE/int3" || echo "int3 status $?"; done
	echo warn > /sys/kernel/debug/ftm_provoke/trigger
	counters die'
@test "die: int3 traps and a WARN do not fire the die hook" {
	live_section traps --allow-oops
	# SIGTRAP killed the program each time: the trap went through the die chain
	[ "$(grep -c "int3 status 133" <<< "$output")" -eq 3 ]
	[[ "$output" == *"die fired=0 flushed_bytes=0 "* ]]
	grep -q "WARNING: .*ftm_provoke" "$SERIAL"
	[ "$(count_lines die)" -eq 0 ]
}

live oops '
	arm die
	[ -d /sys/module/ftm_provoke ] || insmod "$TOP/tests/modules/ftm_provoke.ko"
	sh -c "echo oops > /sys/kernel/debug/ftm_provoke/trigger" || echo "oopsing task died: $?"
	counters die
	counters panic'
# An oops's first line: "Oops: 0002 [#1]" after a page fault, or "general
# protection fault, ...: 0000 [#1]", which is what KASAN (the debug kernel)
# makes of the same NULL dereference: its shadow address is non-canonical.
OOPS_RE=': [0-9a-f]{4} \[#[0-9]+\]'

# The oopsing task was killed by the oops, not by the test: SIGKILL (137)
# after a page-fault oops, SIGSEGV (139) after a general protection fault.
oops_killed_the_task() {
	[[ "$output" == *"oopsing task died: 137"* || "$output" == *"oopsing task died: 139"* ]]
}

@test "die: an oops with panic_on_oops=0 fires the die hook once; the guest goes on" {
	live_section oops --allow-oops
	oops_killed_the_task
	assert_counted_once die
	[[ "$output" == *"panic fired=0 "* ]]
	grep -qE "$OOPS_RE" "$SERIAL"
	[ "$(count_lines die)" -eq 1 ]
}

live nested '
	arm die nmi
	[ -d /sys/module/ftm_provoke ] || insmod "$TOP/tests/modules/ftm_provoke.ko"
	echo nmi-in-walk > /sys/kernel/debug/ftm_provoke/trigger
	sh -c "echo oops > /sys/kernel/debug/ftm_provoke/trigger" || echo "oopsing task died: $?"
	counters die
	counters nmi'
@test "die: an NMI that arrives inside the die hook's walk skips its own flush and says so in one line" {
	live_section nested --allow-oops
	oops_killed_the_task
	assert_counted_once die
	[[ "$output" == *"nmi fired=0 "* ]]
	[ "$(count_lines die)" -eq 1 ]
	[ "$(count_lines nmi)" -eq 0 ]
	[ "$(grep -cE "flushtm: hook=nmi came inside a flush on cpu [0-9]+: skipped" "$SERIAL")" -eq 1 ]
}
