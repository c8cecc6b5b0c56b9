#!/usr/bin/env bats
# flushtm.ko configfs tree: every attribute, modes, defaults, the load line.
# vm: --smp 2 --timeout 1200

load helpers

setup_file() {
	ftm_load
}

teardown_file() {
	ftm_unload
}

setup() {
	ftm_unload
	ftm_load
	ftm_dmesg_clear
}

teardown() {
	ftm_reset
}

HOOKS="panic die nmi reboot kexec cpu_offline exit aperture manual"

@test "load line names interface 1 and every x86 hook" {
	rmmod flushtm
	ftm_load
	run grep -c "flushtm: loaded, interface 1, hooks: $HOOKS\$" <(ftm_dmesg_new)
	[ "$output" = 1 ]
}

@test "root attributes: version, method, cache_threshold, generation, flush" {
	[ "$(cat $CFS/version)" = 1 ]
	[ "$(cat $CFS/method)" = auto ]
	thr=$(cat $CFS/cache_threshold)
	[[ $thr =~ ^[0-9]+$ ]]
	# max(2 x the LLC the boot CPU reports, 256 MiB): see flushtm(4)
	llc_kb=$(sed -n 's/^cache size[[:space:]]*: \([0-9]*\) KB$/\1/p' /proc/cpuinfo | head -1)
	want=$((2 * ${llc_kb:-0} * 1024))
	[ "$want" -ge $((256 << 20)) ] || want=$((256 << 20))
	[ "$thr" = "$want" ]
	[[ $(cat $CFS/generation) =~ ^[0-9]+$ ]]
	[ "$(stat -c %a $CFS/version)" = 444 ]
	[ "$(stat -c %a $CFS/generation)" = 444 ]
	[ "$(stat -c %a $CFS/method)" = 644 ]
	[ "$(stat -c %a $CFS/cache_threshold)" = 644 ]
	[ "$(stat -c %a $CFS/flush)" = 200 ]
	[ "$(stat -c %U $CFS/method)" = root ]
}

@test "method takes auto, lines, cache and reads them back" {
	for m in lines cache auto; do
		ftm_write $CFS/method "$m\n"
		[ "$(cat $CFS/method)" = "$m" ]
	done
	ftm_write $CFS/method lines
	[ "$(cat $CFS/method)" = lines ]
}

@test "cache_threshold takes hex, decimal and K/M/G suffixes" {
	ftm_write $CFS/cache_threshold 0x1000
	[ "$(cat $CFS/cache_threshold)" = 4096 ]
	ftm_write $CFS/cache_threshold '123\n'
	[ "$(cat $CFS/cache_threshold)" = 123 ]
	ftm_write $CFS/cache_threshold 3K
	[ "$(cat $CFS/cache_threshold)" = 3072 ]
	ftm_write $CFS/cache_threshold 512M
	[ "$(cat $CFS/cache_threshold)" = $((512 << 20)) ]
	ftm_write $CFS/cache_threshold 2G
	[ "$(cat $CFS/cache_threshold)" = $((2 << 30)) ]
	ftm_write $CFS/cache_threshold 0
	[ "$(cat $CFS/cache_threshold)" = 0 ]
}

@test "every hook directory has the documented attributes and modes" {
	for h in $HOOKS; do
		d=$CFS/hooks/$h
		[ -d "$d" ]
		[ "$(stat -c %a $d/enabled)" = 644 ]
		for a in available fired flushed_bytes last_ns max_ns; do
			[ "$(stat -c %a $d/$a)" = 444 ]
			[[ $(cat $d/$a) =~ ^[0-9]+$ ]]
		done
	done
	[ "$(stat -c %a $CFS/hooks/exit/pids)" = 644 ]
	[ ! -e $CFS/hooks/panic/pids ]
	[ "$(ls $CFS/hooks | sort | tr '\n' ' ')" = "aperture cpu_offline die exit kexec manual nmi panic reboot " ]
}

@test "every hook is available on x86; manual and aperture start armed" {
	for h in $HOOKS; do
		[ "$(cat $CFS/hooks/$h/available)" = 1 ]
	done
	for h in panic die nmi reboot kexec cpu_offline exit; do
		[ "$(cat $CFS/hooks/$h/enabled)" = 0 ]
	done
	[ "$(cat $CFS/hooks/manual/enabled)" = 1 ]
	[ "$(cat $CFS/hooks/aperture/enabled)" = 1 ]
}

@test "each hook arms and disarms and reads back" {
	for h in $HOOKS; do
		ftm_write $CFS/hooks/$h/enabled 1
		[ "$(cat $CFS/hooks/$h/enabled)" = 1 ]
		ftm_write $CFS/hooks/$h/enabled '0\n'
		[ "$(cat $CFS/hooks/$h/enabled)" = 0 ]
		ftm_write $CFS/hooks/$h/enabled '1\n'
		ftm_write $CFS/hooks/$h/enabled 1
		[ "$(cat $CFS/hooks/$h/enabled)" = 1 ]
	done
	ftm_assert_no_kernel_complaints
}

@test "hook directories are fixed: no mkdir, no rmdir" {
	run mkdir $CFS/hooks/other
	[ "$status" -ne 0 ]
	run rmdir $CFS/hooks/panic
	[ "$status" -ne 0 ]
	[ -d $CFS/hooks/panic ]
}

@test "a range directory has start, size, enabled, owner, flushed_bytes" {
	mkdir $CFS/ranges/r0
	[ "$(cat $CFS/ranges/r0/start)" = 0x0 ]
	[ "$(cat $CFS/ranges/r0/size)" = 0 ]
	[ "$(cat $CFS/ranges/r0/enabled)" = 0 ]
	[ "$(cat $CFS/ranges/r0/flushed_bytes)" = 0 ]
	for a in start size enabled owner; do
		[ "$(stat -c %a $CFS/ranges/r0/$a)" = 644 ]
	done
	[ "$(stat -c %a $CFS/ranges/r0/flushed_bytes)" = 444 ]
	ftm_write $CFS/ranges/r0/start 536870912
	[ "$(cat $CFS/ranges/r0/start)" = 0x20000000 ]
	ftm_write $CFS/ranges/r0/start '0x20001000\n'
	[ "$(cat $CFS/ranges/r0/start)" = 0x20001000 ]
	ftm_write $CFS/ranges/r0/size 64M
	[ "$(cat $CFS/ranges/r0/size)" = $((64 << 20)) ]
	ftm_write $CFS/ranges/r0/size 0x2000
	[ "$(cat $CFS/ranges/r0/size)" = 8192 ]
	ftm_write $CFS/ranges/r0/size 8K
	[ "$(cat $CFS/ranges/r0/size)" = 8192 ]
	ftm_write $CFS/ranges/r0/owner 'flushtmd\n'
	[ "$(cat $CFS/ranges/r0/owner)" = flushtmd ]
	o=$(printf 'x%.0s' $(seq 64))
	ftm_write $CFS/ranges/r0/owner "$o"
	[ "$(cat $CFS/ranges/r0/owner)" = "$o" ]
	rmdir $CFS/ranges/r0
	[ ! -e $CFS/ranges/r0 ]
}

@test "enabling a range publishes it: generation grows, range reads enabled" {
	g0=$(cat $CFS/generation)
	ftm_range_make p $PMEM_START $PMEM_SIZE
	[ "$(cat $CFS/ranges/p/enabled)" = 1 ]
	g1=$(cat $CFS/generation)
	[ "$g1" -gt "$g0" ]
	ftm_write $CFS/ranges/p/enabled 1	# already enabled: no change
	[ "$(cat $CFS/generation)" = "$g1" ]
	ftm_write $CFS/ranges/p/enabled 0
	[ "$(cat $CFS/ranges/p/enabled)" = 0 ]
	[ "$(cat $CFS/generation)" -gt "$g1" ]
	ftm_write $CFS/ranges/p/owner admin	# owner may change any time
	ftm_assert_no_kernel_complaints
}

@test "configfs pins the module while a range exists" {
	mkdir $CFS/ranges/pin
	run rmmod flushtm
	[ "$status" -ne 0 ]
	rmdir $CFS/ranges/pin
	rmmod flushtm
	[ ! -d /sys/module/flushtm ]
	[ ! -d $CFS ]
	ftm_load
}

@test "non-root cannot write (root-only modes)" {
	command -v setpriv >/dev/null || skip "setpriv missing"
	run setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo lines > $CFS/method"
	[ "$status" -ne 0 ]
	[ "$(cat $CFS/method)" = auto ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups mkdir $CFS/ranges/nobody
	[ "$status" -ne 0 ]
	[ ! -e $CFS/ranges/nobody ]
}
