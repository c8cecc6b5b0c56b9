#!/usr/bin/env bats
# Tests of tests/vm/vm-run and tests/vm/qmp themselves: each test boots a guest.

bats_require_minimum_version 1.5.0

setup_file() {
	export TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export VMRUN=$TOP/tests/vm/vm-run QMP=$TOP/tests/vm/qmp
	make -s -C "$TOP/tests/modules" > /dev/null
}

setup() {
	# vm-run makes its run directory here; the test checks it is gone afterwards.
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	cd "$TOP"
}

# A vm-run left in the background by a failed test ends with it (its trap kills QEMU).
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

# No QEMU of ours left behind, no run directory left behind.
assert_clean() {
	! pgrep -f "mount_tag=ftmshare.*$BATS_TEST_TMPDIR" > /dev/null
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "exit status 0 of the command passes through" {
	run "$VMRUN" -- true
	[ "$status" -eq 0 ]
	assert_clean
}

@test "exit status 1 of the command passes through" {
	run "$VMRUN" -- false
	[ "$status" -eq 1 ]
}

@test "exit 7, stdout and stderr come back apart; argv, cwd and env as on the host" {
	cd "$TOP/tests"
	run --separate-stderr "$VMRUN" -- bash -c \
		'echo "out:$1:$2"; echo "err:$PWD" >&2; echo "env:$HOME:${FTM_VM_SHARE:+share}:$(id -u)" ; exit 7' \
		argv0 'a b' "it's"
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = "out:a b:it's" ]
	[ "${lines[1]}" = "env:/root:share:0" ]
	[ "$stderr" = "err:$TOP/tests" ]
	assert_clean
}

@test "the share dir round-trips files; the rest of the host root is read-only" {
	local d=$BATS_TEST_TMPDIR/run
	mkdir -p "$d/share"
	echo "from the host" > "$d/share/in"
	run "$VMRUN" --dir "$d" -- bash -c '
		cat "$FTM_VM_SHARE/in" > "$FTM_VM_SHARE/out" && echo "from the guest" >> "$FTM_VM_SHARE/out" &&
		echo scratch > /work-harness-probe && echo scratch >> "$0"' "$BATS_TEST_TMPDIR/host-file"
	[ "$status" -eq 0 ]
	[ "$(cat "$d/share/out")" = "$(printf 'from the host\nfrom the guest')" ]
	# writes outside the share land in the overlay and vanish
	[ ! -e /work-harness-probe ]
	[ ! -e "$BATS_TEST_TMPDIR/host-file" ]
	[ -s "$d/serial.log" ]
}

@test "default guest has legacy pmem at 0x20000000 (64 MiB): /proc/iomem and /dev/pmem0" {
	run "$VMRUN" -- bash -c '
		grep -i "persistent memory" /proc/iomem
		modprobe nd_e820 && modprobe nd_pmem && udevadm settle 2>/dev/null
		for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/pmem0 ] && break; sleep 0.5; done
		echo "pmem0 bytes=$(blockdev --getsize64 /dev/pmem0)"'
	[ "$status" -eq 0 ]
	[[ "$output" == *"20000000-23ffffff : Persistent Memory (legacy)"* ]]
	[[ "$output" == *"pmem0 bytes=67108864"* ]]
}

@test "--no-pmem: no persistent memory and no /dev/pmem0" {
	run "$VMRUN" --no-pmem -- bash -c '
		grep -ci "persistent memory" /proc/iomem
		modprobe nd_e820; modprobe nd_pmem; sleep 1
		[ -e /dev/pmem0 ] && echo "pmem0 present" || echo "no pmem0"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0" ]
	[ "${lines[1]}" = "no pmem0" ]
}

@test "--nvdimm 128M gives an ACPI NVDIMM region of 128 MiB" {
	run "$VMRUN" --no-pmem --nvdimm 128M -- bash -c '
		modprobe nfit && modprobe nd_pmem
		for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/pmem0 ] && break; sleep 0.5; done
		echo "region0 size=$(cat /sys/bus/nd/devices/region0/size)"
		echo "provider=$(cat /sys/bus/nd/devices/ndbus0/provider)"
		echo "pmem0 bytes=$(blockdev --getsize64 /dev/pmem0)"'
	[ "$status" -eq 0 ]
	[[ "$output" == *"region0 size=134217728"* ]]
	[[ "$output" == *"provider=ACPI.NFIT"* ]]
	[[ "$output" == *"pmem0 bytes=134217728"* ]]
}

@test "--smp, --mem and --append reach the guest" {
	run "$VMRUN" --smp 1 --mem 768M --append "ftm.harness=yes" --append "ftm.second=2" -- bash -c '
		nproc; awk "/MemTotal/ { print (\$2 < 786432 && \$2 > 600000) ? \"mem ok\" : \$2 }" /proc/meminfo
		cat /proc/cmdline'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1" ]
	[ "${lines[1]}" = "mem ok" ]
	[[ "${lines[2]}" == *" ftm.harness=yes ftm.second=2"* ]]
}

@test "--timeout kills the guest and exits 124" {
	SECONDS=0
	run "$VMRUN" --timeout 20 -- sleep 600
	[ "$status" -eq 124 ]
	[ "$SECONDS" -lt 60 ]
	assert_clean
}

@test "an unexpected panic exits 125 and says so" {
	run --separate-stderr "$VMRUN" -- bash -c 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger'
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"Kernel panic"* ]]
	assert_clean
}

@test "--expect-down with a panic exits 0 and the serial log has the panic" {
	local d=$BATS_TEST_TMPDIR/run
	run "$VMRUN" --dir "$d" --serial-log "$BATS_TEST_TMPDIR/copy.log" --expect-down -- bash -c \
		'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger'
	[ "$status" -eq 0 ]
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$d/serial.log"
	cmp "$d/serial.log" "$BATS_TEST_TMPDIR/copy.log"
}

@test "--expect-down with a command that returns exits 125" {
	run "$VMRUN" --expect-down -- true
	[ "$status" -eq 125 ]
}

@test "an Oops exits 125; with --allow-oops the command's status comes back" {
	local oops='insmod tests/modules/ftm_provoke.ko && { sh -c "echo oops > /sys/kernel/debug/ftm_provoke/trigger"; exit 3; }'
	run --separate-stderr "$VMRUN" -- bash -c "$oops"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"Oops"* ]]
	run "$VMRUN" --allow-oops -- bash -c "$oops"
	[ "$status" -eq 3 ]
}

@test "a WARNING exits 125" {
	run --separate-stderr "$VMRUN" -- bash -c \
		'insmod tests/modules/ftm_provoke.ko && echo warn > /sys/kernel/debug/ftm_provoke/trigger'
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"WARNING:"* ]]
}

@test "--qmp: inject-nmi reaches the guest, nvdimm-add hot-adds a region" {
	local d=$BATS_TEST_TMPDIR/run
	"$VMRUN" --dir "$d" --qmp --no-pmem -- bash -c '
		modprobe nfit && modprobe nd_pmem
		touch "$FTM_VM_SHARE/ready"
		for i in $(seq 300); do [ -e "$FTM_VM_SHARE/go" ] && break; sleep 0.2; done
		for i in $(seq 20); do [ -b /dev/pmem0 ] && break; sleep 0.5; done
		dmesg | grep -c "NMI received for unknown reason"
		cat /sys/bus/nd/devices/region0/size' > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	BG_PID=$!
	for i in $(seq 240); do [ -e "$d/share/ready" ] && break; sleep 0.5; done
	[ -e "$d/share/ready" ]
	run "$QMP" "$d/qmp.sock" inject-nmi
	[ "$status" -eq 0 ]
	[ "$output" = '{"return": {}}' ]
	run "$QMP" "$d/qmp.sock" nvdimm-add nvhot 64M
	[ "$status" -eq 0 ]
	run "$QMP" "$d/qmp.sock" '{"execute": "no-such-command"}'
	[ "$status" -eq 1 ]
	[[ "$output" == *CommandNotFound* ]]
	touch "$d/share/go"
	wait "$BG_PID"
	BG_PID=
	run cat "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = "1" ]
	[ "${lines[1]}" = "67108864" ]
}

@test "usage errors exit 125 without booting" {
	run "$VMRUN" --smp x -- true
	[ "$status" -eq 125 ]
	run "$VMRUN"
	[ "$status" -eq 125 ]
	run "$VMRUN" --bogus -- true
	[ "$status" -eq 125 ]
}

@test "--systemd --pre: systemd is PID 1, --pre ran first, the command runs after boot" {
	run --separate-stderr "$VMRUN" --systemd --pre 'echo "pre in $PWD" > /etc/vm-harness-pre' -- bash -c '
		cat /etc/vm-harness-pre
		echo "pid1=$(cat /proc/1/comm)"
		echo "state=$(systemctl is-system-running --wait)"
		systemctl is-active multi-user.target
		echo "virt=$(systemd-detect-virt)"
		exit 6'
	[ "$status" -eq 6 ]
	[ "${lines[0]}" = "pre in $TOP" ]
	[ "${lines[1]}" = "pid1=systemd" ]
	[[ "${lines[2]}" =~ ^state=(running|degraded)$ ]]
	[ "${lines[3]}" = "active" ]
	[ "${lines[4]}" = "virt=qemu" ]
	assert_clean
}

@test "--systemd: a failing --pre exits 125 and shows its output" {
	run --separate-stderr "$VMRUN" --systemd --pre 'echo "pre says no" >&2; exit 3' -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"--pre failed"* ]]
	[[ "$stderr" == *"pre says no"* ]]
}
