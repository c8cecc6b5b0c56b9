#!/usr/bin/env bats
# flushtm.ko against real events in a booted guest: each test boots one, loads the
# module from the tree, makes an enabled range over the default legacy pmem
# (0x20000000, 64 MiB), arms a hook, causes the event, and checks the flush line of
# interface.md in the serial log on the host and, where the guest lives on, the
# hook's counters.

bats_require_minimum_version 1.5.0

setup_file() {
	export TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export VMRUN=$TOP/tests/vm/vm-run QMP=$TOP/tests/vm/qmp
	make -s -C "$TOP/kmod" > /dev/null
	make -s -C "$TOP/tests/modules" > /dev/null
	[ -f "$TOP/kmod/flushtm.ko" ]
}

setup() {
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	RUN=$BATS_TEST_TMPDIR/run
	SERIAL=$RUN/serial.log
	cd "$TOP"
}

teardown() {
	# shown only when the test failed: what the last `run` saw
	echo "last run: status=${status:-} output:"
	echo "${output:-}"
	if [ -n "${BG_PID:-}" ]; then
		kill "$BG_PID" 2> /dev/null
		wait "$BG_PID" 2> /dev/null
	fi
	true
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
	echo "flushtm: flush hook=$1 ranges=1 bytes=67108864 method=${2:-lines} ns=[0-9]+ cpu=[0-9]+\$"
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

@test "die: an oops with panic_on_oops=0 fires the die hook once; the guest goes on" {
	run guest --allow-oops -- '
		arm die
		insmod "$TOP/tests/modules/ftm_provoke.ko"
		sh -c "echo oops > /sys/kernel/debug/ftm_provoke/trigger" || echo "oopsing task died: $?"
		counters die
		counters panic'
	[ "$status" -eq 0 ]
	[[ "$output" == *"oopsing task died: 137"* ]]
	assert_counted_once die
	[[ "$output" == *"panic fired=0 "* ]]
	grep -q "Oops: " "$SERIAL"
	[ "$(count_lines die)" -eq 1 ]
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

@test "die: int3 traps and a WARN do not fire the die hook" {
	printf 'int main(void) { __asm__ volatile("int3"); return 0; }\n' |
		cc -x c -o "$BATS_TEST_TMPDIR/int3" -
	run guest --allow-oops -- '
		arm die
		insmod "$TOP/tests/modules/ftm_provoke.ko"
		for i in 1 2 3; do "'"$BATS_TEST_TMPDIR/int3"'" || echo "int3 status $?"; done
		echo warn > /sys/kernel/debug/ftm_provoke/trigger
		counters die'
	[ "$status" -eq 0 ]
	# SIGTRAP killed the program each time: the trap went through the die chain
	[ "$(grep -c "int3 status 133" <<< "$output")" -eq 3 ]
	[[ "$output" == *"die fired=0 flushed_bytes=0 "* ]]
	grep -q "WARNING: .*ftm_provoke" "$SERIAL"
	[ "$(count_lines die)" -eq 0 ]
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

@test "nmi: an NMI injected over QMP fires the nmi hook once (KERN_EMERG); backtrace NMIs do not" {
	BG_PID=
	guest --qmp -- '
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
		echo "after backtrace: $(cat "$cfs/hooks/nmi/fired")"' > "$BATS_TEST_TMPDIR/out" 2>&1 &
	BG_PID=$!
	for i in $(seq 600); do [ -e "$RUN/share/ready" ] && break; sleep 0.5; done
	[ -e "$RUN/share/ready" ]
	"$QMP" "$RUN/qmp.sock" inject-nmi
	touch "$RUN/share/go"
	local rc=0
	wait "$BG_PID" || rc=$?
	BG_PID=
	[ "$rc" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/out"; false; }
	run cat "$BATS_TEST_TMPDIR/out"
	assert_counted_once nmi
	[ "$(grep -c "^emerg: flushtm: flush hook=nmi ranges=1 bytes=67108864" <<< "$output")" -eq 1 ]
	[[ "$output" == *"after backtrace: 1"* ]]
	[ "$(count_lines nmi)" -eq 1 ]
	grep -q "NMI backtrace for cpu" "$SERIAL"
}

@test "cpu_offline: taking CPU 1 offline flushes on CPU 1" {
	run guest -- '
		arm cpu_offline
		echo 0 > /sys/devices/system/cpu/cpu1/online
		counters cpu_offline
		echo 1 > /sys/devices/system/cpu/cpu1/online
		dmesg | grep "flush hook=cpu_offline"'
	[ "$status" -eq 0 ]
	assert_counted_once cpu_offline
	[[ "$output" =~ flush\ hook=cpu_offline\ ranges=1\ bytes=67108864\ method=lines\ ns=[0-9]+\ cpu=1$ ]]
	[ "$(count_lines cpu_offline)" -eq 1 ]
}

@test "exit: an enrolled process that dies has its NVM flushed" {
	run guest -- '
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
	[ "$status" -eq 0 ]
	[[ "$output" =~ after\ other:\ 0\ [0-9]+ ]]
	assert_counted_once exit
	[ "$(count_lines exit)" -eq 1 ]
}

@test "aperture: removing an enabled range flushes it under aperture" {
	run guest -- '
		rmdir "$cfs/ranges/r0"
		counters aperture'
	[ "$status" -eq 0 ]
	assert_counted_once aperture
	[ "$(count_lines aperture)" -eq 1 ]
}

@test "20 load/unload cycles with every hook armed leave the kernel clean" {
	run guest --timeout 900 -- '
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
	[ "$status" -eq 0 ]
	[[ "$output" == *"cycles done"* ]]
	[ "$(grep -c "flushtm: loaded, interface 1" "$SERIAL")" -eq 21 ]
	[ "$(grep -c "flushtm: unloaded" "$SERIAL")" -eq 21 ]
	[ "$(count_lines aperture)" -eq 21 ]
}
