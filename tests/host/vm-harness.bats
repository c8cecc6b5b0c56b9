#!/usr/bin/env bats
# kernels: one (the harness itself)
# cost: 296
# Tests of tests/vm/vm-run and tests/vm/qmp themselves.  Each boot costs 8-30 s
# under TCG, so claims that need the same kind of guest share one boot: the first
# test that needs it boots it (booted), each test then judges its own part of
# what came back (result).  Claims about how a guest ends need a boot each.

bats_require_minimum_version 1.5.0

load host-helpers

setup_file() {
	host_setup_file tests/modules
}

setup() {
	host_setup
}

teardown() {
	host_teardown
}

# No QEMU of ours left behind, no run directory left behind under $TMPDIR.
assert_clean() {
	! pgrep -f "mount_tag=ftmshare.*${1:-$BATS_TEST_TMPDIR}" > /dev/null
	[ -z "$(ls -A "${1:-$BATS_TEST_TMPDIR}/tmp")" ]
}

# booted NAME [VM-RUN ARGS...]: run vm-run once for the whole file under the name
# NAME, with its own TMPDIR ($BATS_FILE_TMPDIR/NAME/tmp) and cwd; its status,
# stdout and stderr are kept there.  A later call with the same NAME reuses them.
booted() {
	local d=$BATS_FILE_TMPDIR/$1
	shift
	[ -e "$d/status" ] && return 0
	mkdir -p "$d/tmp"
	local rc=0
	TMPDIR=$d/tmp "$VMRUN" "$@" > "$d/out" 2> "$d/err" || rc=$?
	echo "$rc" > "$d/status"
}

# result NAME: status, output, lines and stderr of the shared boot NAME, as
# `run --separate-stderr` would have set them.
result() {
	local d=$BATS_FILE_TMPDIR/$1
	status=$(< "$d/status")
	output=$(< "$d/out")
	stderr=$(< "$d/err")
	mapfile -t lines < "$d/out"
}

# One guest with the default options, no --dir: the command succeeds, after it
# prints what the default legacy pmem looks like.
boot_default() {
	booted default -- bash -c '
		grep -i "persistent memory" /proc/iomem
		modprobe nd_e820 && modprobe nd_pmem && udevadm settle 2>/dev/null
		for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/pmem0 ] && break; sleep 0.5; done
		echo "pmem0 bytes=$(blockdev --getsize64 /dev/pmem0)"'
	result default
}

@test "exit status 0 of the command passes through" {
	boot_default
	[ "$status" -eq 0 ]
	assert_clean "$BATS_FILE_TMPDIR/default"
}

@test "default guest has legacy pmem at 0x20000000 (64 MiB): /proc/iomem and /dev/pmem0" {
	boot_default
	[[ "$output" == *"20000000-23ffffff : Persistent Memory (legacy)"* ]]
	[[ "$output" == *"pmem0 bytes=67108864"* ]]
}

# --no-pmem, and a command that prints what it found, then fails.
boot_no_pmem() {
	booted no-pmem --no-pmem -- bash -c '
		grep -ci "persistent memory" /proc/iomem
		modprobe nd_e820; modprobe nd_pmem; sleep 1
		[ -e /dev/pmem0 ] && echo "pmem0 present" || echo "no pmem0"
		exit 1'
	result no-pmem
}

@test "exit status 1 of the command passes through" {
	boot_no_pmem
	[ "$status" -eq 1 ]
	assert_clean "$BATS_FILE_TMPDIR/no-pmem"
}

@test "--no-pmem: no persistent memory and no /dev/pmem0" {
	boot_no_pmem
	# status 1: the command ran to its end
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "0" ]
	[ "${lines[1]}" = "no pmem0" ]
}

# Every machine option at once, and a command that checks how its argv, cwd,
# environment and output streams come across, then exits 7.
boot_options() {
	cd "$TOP/tests"
	booted options --tcg-thread multi --smp 1 --mem 768M --append "ftm.harness=yes" --append "ftm.second=2" -- bash -c '
		echo "out:$1:$2"; echo "err:$PWD" >&2; echo "env:$HOME:${FTM_VM_SHARE:+share}:$(id -u)"
		nproc; awk "/MemTotal/ { print (\$2 < 786432 && \$2 > 600000) ? \"mem ok\" : \$2 }" /proc/meminfo
		cat /proc/cmdline
		exit 7' argv0 'a b' "it's"
	cd "$TOP"
	result options
}

@test "exit 7, stdout and stderr come back apart; argv, cwd and env as on the host" {
	boot_options
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = "out:a b:it's" ]
	[ "${lines[1]}" = "env:/root:share:0" ]
	[ "$stderr" = "err:$TOP/tests" ]
	assert_clean "$BATS_FILE_TMPDIR/options"
}

@test "--smp, --mem and --append reach the guest (booted with --tcg-thread multi)" {
	boot_options
	[ "$status" -eq 7 ]
	[ "${lines[2]}" = "1" ]
	[ "${lines[3]}" = "mem ok" ]
	[[ "${lines[4]}" == *" ftm.harness=yes ftm.second=2"* ]]
}

# A run directory of our own, a command that goes through the share and writes
# outside it, then panics, expected: the share must keep what it wrote.
boot_share() {
	SHARE_RUN=$BATS_FILE_TMPDIR/share/run
	if [ ! -e "$SHARE_RUN/share/in" ]; then
		mkdir -p "$SHARE_RUN/share"
		echo "from the host" > "$SHARE_RUN/share/in"
	fi
	booted share --dir "$SHARE_RUN" --serial-log "$BATS_FILE_TMPDIR/share/copy.log" --expect-down -- bash -c '
		cat "$FTM_VM_SHARE/in" > "$FTM_VM_SHARE/out" && echo "from the guest" >> "$FTM_VM_SHARE/out" &&
		echo scratch > /work-harness-probe && echo scratch >> "$0" && : > "$FTM_VM_SHARE/wrote"
		echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger' "$BATS_FILE_TMPDIR/share/host-file"
	result share
}

@test "the share dir round-trips files; the rest of the host root is read-only" {
	boot_share
	# every write in the guest succeeded
	[ -e "$SHARE_RUN/share/wrote" ]
	[ "$(cat "$SHARE_RUN/share/out")" = "$(printf 'from the host\nfrom the guest')" ]
	# writes outside the share land in the overlay and vanish
	[ ! -e /work-harness-probe ]
	[ ! -e "$BATS_FILE_TMPDIR/share/host-file" ]
	[ -s "$SHARE_RUN/serial.log" ]
}

@test "--expect-down with a panic exits 0 and the serial log has the panic" {
	boot_share
	[ "$status" -eq 0 ]
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$SHARE_RUN/serial.log"
	cmp "$SHARE_RUN/serial.log" "$BATS_FILE_TMPDIR/share/copy.log"
}

@test "--boots 2: a panic reboots the same machine, guest RAM kept; the command runs again, told which boot" {
	export FTM_WARM_SIG="warm-$$-$RANDOM$RANDOM"
	# shellcheck disable=SC2016
	run --separate-stderr "$VMRUN" --dir "$RUN" --boots 2 -- bash -c '
		modprobe nd_e820 > /dev/null 2>&1; modprobe nd_pmem > /dev/null 2>&1
		echo "boot $FTM_VM_BOOT"
		if [ "$FTM_VM_BOOT" = 1 ]; then
			printf "%s" "$FTM_WARM_SIG" | dd of=/dev/pmem0 conv=fsync status=none
			echo c > /proc/sysrq-trigger
		fi
		echo "read $(head -c ${#FTM_WARM_SIG} /dev/pmem0)"'
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(printf '%s\n' "$output")" = "$(printf 'boot 1\nboot 2\nread %s' "$FTM_WARM_SIG")" ]
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$SERIAL"
	grep -qx "vm-guest: boot 2 of 2" "$SERIAL"
	[ "$(grep -c 'Linux version' "$SERIAL")" = 2 ]
}

# qmp_to FILE ARGS...: one tests/vm/qmp exchange with the guest of $NQ_RUN; its
# output, then its exit status, into FILE for the test that judges it.
qmp_to() {
	local rc=0
	"$QMP" "$NQ_RUN/qmp.sock" "${@:2}" > "$1" 2>&1 || rc=$?
	echo "$rc" >> "$1"
}

# An ACPI NVDIMM from the start and, over QMP, an NMI and a hot-added one.  The
# guest reports the cold-plugged NVDIMM, waits for the host's QMP commands, then
# reports what they did; the host keeps each QMP exchange's status and reply.
boot_nvdimm_qmp() {
	local d=$BATS_FILE_TMPDIR/nvdimm-qmp rc=0
	NQ_RUN=$d/run
	[ -e "$d/status" ] && { result nvdimm-qmp; return 0; }
	rm -rf "$NQ_RUN"
	mkdir -p "$d/tmp" "$NQ_RUN"
	TMPDIR=$d/tmp "$VMRUN" --dir "$NQ_RUN" --qmp --no-pmem --nvdimm 128M -- bash -c '
		modprobe nfit && modprobe nd_pmem
		for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/pmem0 ] && break; sleep 0.5; done
		echo "region0 size=$(cat /sys/bus/nd/devices/region0/size)"
		echo "provider=$(cat /sys/bus/nd/devices/ndbus0/provider)"
		echo "pmem0 bytes=$(blockdev --getsize64 /dev/pmem0)"
		touch "$FTM_VM_SHARE/ready"
		for i in $(seq 300); do [ -e "$FTM_VM_SHARE/go" ] && break; sleep 0.2; done
		for i in $(seq 20); do [ -b /dev/pmem1 ] && break; sleep 0.5; done
		echo "nmi=$(dmesg | grep -c "NMI received for unknown reason")"
		echo "region1 size=$(cat /sys/bus/nd/devices/region1/size)"' > "$d/out" 2> "$d/err" &
	BG_PID=$!
	while kill -0 "$BG_PID" 2> /dev/null && [ ! -e "$NQ_RUN/share/ready" ]; do
		sleep 0.2
	done
	qmp_to "$d/nmi" inject-nmi
	qmp_to "$d/add" nvdimm-add nvhot 64M
	qmp_to "$d/bogus" '{"execute": "no-such-command"}'
	touch "$NQ_RUN/share/go"
	wait "$BG_PID" || rc=$?
	BG_PID=
	echo "$rc" > "$d/status"
	result nvdimm-qmp
}

@test "--nvdimm 128M gives an ACPI NVDIMM region of 128 MiB" {
	boot_nvdimm_qmp
	[ "$status" -eq 0 ]
	[[ "$output" == *"region0 size=134217728"* ]]
	[[ "$output" == *"provider=ACPI.NFIT"* ]]
	[[ "$output" == *"pmem0 bytes=134217728"* ]]
}

@test "--qmp: inject-nmi reaches the guest, nvdimm-add hot-adds a region" {
	boot_nvdimm_qmp
	local d=$BATS_FILE_TMPDIR/nvdimm-qmp
	[ "$status" -eq 0 ]
	# each file: the reply, then qmp's exit status
	[ "$(cat "$d/nmi")" = "$(printf '{"return": {}}\n0')" ]
	[ "$(tail -n1 "$d/add")" = 0 ]
	[ "$(tail -n1 "$d/bogus")" = 1 ]
	grep -q CommandNotFound "$d/bogus"
	[ "${lines[3]}" = "nmi=1" ]
	[ "${lines[4]}" = "region1 size=67108864" ]
}

@test "--timeout kills the guest and exits 124" {
	SECONDS=0
	run "$VMRUN" --timeout 10 -- sleep 600
	[ "$status" -eq 124 ]
	[ "$SECONDS" -lt 60 ]
	assert_clean
}

@test "a boot whose console is silent before the command is booted again, three boots at most" {
	# quiet: the kernel prints nothing for seconds, far past a 2 s silence
	FTM_VM_BOOT_SILENCE=2 run --separate-stderr "$VMRUN" --append quiet -- sh -c 'echo ran; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = ran ]
	[ "$(grep -c "console was silent for 2s before the command started; booting again" <<<"$stderr")" -eq 2 ]
	assert_clean
}

@test "an unexpected panic exits 125 and says so" {
	run --separate-stderr "$VMRUN" -- bash -c 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger'
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"Kernel panic"* ]]
	assert_clean
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

@test "usage errors exit 125 without booting" {
	run "$VMRUN" --smp x -- true
	[ "$status" -eq 125 ]
	run "$VMRUN"
	[ "$status" -eq 125 ]
	run "$VMRUN" --bogus -- true
	[ "$status" -eq 125 ]
	run "$VMRUN" --tcg-thread many -- true
	[ "$status" -eq 125 ]
	[[ $output == *"--tcg-thread: single or multi, not many"* ]]
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
