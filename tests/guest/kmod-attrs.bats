#!/usr/bin/env bats
# flushtm.ko configfs tree: every attribute, modes, defaults, the load line.
# vm: --smp 2 --timeout 1200
# cost: 100

load helpers

setup_file() { ftm_kmod_suite_setup; }
teardown_file() { ftm_unload; }
setup() { ftm_kmod_clean; }

HOOKS="panic die nmi reboot kexec cpu_offline exit aperture manual"

@test "load line names interface 1 and every x86 hook" {
	rmmod flushtm
	insmod "$FTM_KO"
	[ "$(ftm_grep_count "flushtm: loaded, interface 1, hooks: $HOOKS\$" "$(dmesg)")" = 1 ]
}

@test "root attributes: version, method, cache_threshold, generation, flush" {
	ftm_kmod_absent
	insmod "$FTM_KO"	# method and cache_threshold as a load sets them, and its log
	[ "$(<$CFS/version)" = 1 ]
	[ "$(<$CFS/method)" = auto ]
	thr=$(<$CFS/cache_threshold)
	[[ $thr =~ ^[0-9]+$ ]]
	# max(2 x the last-level cache, 256 MiB), the LLC from cacheinfo (the
	# highest level of /sys/devices/system/cpu/cpuN/cache that holds data),
	# not the boot CPU's "cache size" (on AMD the L2): see flushtm(4)
	llc=0 level=0
	for d in /sys/devices/system/cpu/cpu0/cache/index*/; do
		read -r t < "$d/type"
		read -r l < "$d/level"
		read -r sz < "$d/size"
		[ "$t" = Instruction ] && continue
		[ "$l" -gt "$level" ] && { level=$l; llc=$((${sz%K} * 1024)); }
	done
	[ "$llc" -gt 0 ]
	want=$((2 * llc))
	[ "$want" -ge $((256 << 20)) ] || want=$((256 << 20))
	[ "$(ftm_grep_count "flushtm: last-level cache: L$level, $llc bytes \\(cacheinfo\\); cache_threshold $want\$" "$(dmesg)")" = 1 ]
	[ "$thr" = "$want" ]
	[[ $(<$CFS/generation) =~ ^[0-9]+$ ]]
	ftm_modes_are 444 $CFS/version $CFS/generation
	ftm_modes_are 644 $CFS/method $CFS/cache_threshold
	ftm_modes_are 200 $CFS/flush
	[ "$(stat -c %U $CFS/method)" = root ]
}

@test "method takes auto, lines, cache and reads them back" {
	for m in lines cache auto; do
		ftm_write $CFS/method "$m\n"
		[ "$(<$CFS/method)" = "$m" ]
	done
	ftm_write $CFS/method lines
	[ "$(<$CFS/method)" = lines ]
}

@test "cache_threshold takes hex, decimal and K/M/G suffixes" {
	ftm_write $CFS/cache_threshold 0x1000
	[ "$(<$CFS/cache_threshold)" = 4096 ]
	ftm_write $CFS/cache_threshold '123\n'
	[ "$(<$CFS/cache_threshold)" = 123 ]
	ftm_write $CFS/cache_threshold 3K
	[ "$(<$CFS/cache_threshold)" = 3072 ]
	ftm_write $CFS/cache_threshold 512M
	[ "$(<$CFS/cache_threshold)" = $((512 << 20)) ]
	ftm_write $CFS/cache_threshold 2G
	[ "$(<$CFS/cache_threshold)" = $((2 << 30)) ]
	ftm_write $CFS/cache_threshold 0
	[ "$(<$CFS/cache_threshold)" = 0 ]
}

@test "every hook directory has the documented attributes and modes" {
	local rw=($CFS/hooks/exit/pids) ro=() hooks
	for h in $HOOKS; do
		d=$CFS/hooks/$h
		[ -d "$d" ]
		rw+=($d/enabled)
		for a in available fired flushed_bytes last_ns max_ns; do
			ro+=($d/$a)
			[[ $(<$d/$a) =~ ^[0-9]+$ ]]
		done
	done
	ftm_modes_are 644 "${rw[@]}"
	ftm_modes_are 444 "${ro[@]}"
	[ ! -e $CFS/hooks/panic/pids ]
	hooks=($CFS/hooks/*)
	[ "${hooks[*]##*/}" = "aperture cpu_offline die exit kexec manual nmi panic reboot" ]
}

@test "every hook is available on x86; manual and aperture start armed" {
	ftm_kmod_fresh	# the claim is about what a load arms
	for h in $HOOKS; do
		[ "$(<$CFS/hooks/$h/available)" = 1 ]
	done
	for h in panic die nmi reboot kexec cpu_offline exit; do
		[ "$(<$CFS/hooks/$h/enabled)" = 0 ]
	done
	[ "$(<$CFS/hooks/manual/enabled)" = 1 ]
	[ "$(<$CFS/hooks/aperture/enabled)" = 1 ]
}

@test "each hook arms and disarms and reads back" {
	for h in $HOOKS; do
		ftm_write $CFS/hooks/$h/enabled 1
		[ "$(<$CFS/hooks/$h/enabled)" = 1 ]
		ftm_write $CFS/hooks/$h/enabled '0\n'
		[ "$(<$CFS/hooks/$h/enabled)" = 0 ]
		ftm_write $CFS/hooks/$h/enabled '1\n'
		ftm_write $CFS/hooks/$h/enabled 1
		[ "$(<$CFS/hooks/$h/enabled)" = 1 ]
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
	[ "$(<$CFS/ranges/r0/start)" = 0x0 ]
	[ "$(<$CFS/ranges/r0/size)" = 0 ]
	[ "$(<$CFS/ranges/r0/enabled)" = 0 ]
	[ "$(<$CFS/ranges/r0/flushed_bytes)" = 0 ]
	ftm_modes_are 644 $CFS/ranges/r0/{start,size,enabled,owner}
	ftm_modes_are 444 $CFS/ranges/r0/flushed_bytes
	ftm_write $CFS/ranges/r0/start 536870912
	[ "$(<$CFS/ranges/r0/start)" = 0x20000000 ]
	ftm_write $CFS/ranges/r0/start '0x20001000\n'
	[ "$(<$CFS/ranges/r0/start)" = 0x20001000 ]
	ftm_write $CFS/ranges/r0/size 64M
	[ "$(<$CFS/ranges/r0/size)" = $((64 << 20)) ]
	ftm_write $CFS/ranges/r0/size 0x2000
	[ "$(<$CFS/ranges/r0/size)" = 8192 ]
	ftm_write $CFS/ranges/r0/size 8K
	[ "$(<$CFS/ranges/r0/size)" = 8192 ]
	ftm_write $CFS/ranges/r0/owner 'flushtmd\n'
	[ "$(<$CFS/ranges/r0/owner)" = flushtmd ]
	printf -v o '%64s' ''
	o=${o// /x}
	ftm_write $CFS/ranges/r0/owner "$o"
	[ "$(<$CFS/ranges/r0/owner)" = "$o" ]
	rmdir $CFS/ranges/r0
	[ ! -e $CFS/ranges/r0 ]
}

@test "enabling a range publishes it: generation grows, range reads enabled" {
	g0=$(<$CFS/generation)
	ftm_range_make p $PMEM_START $PMEM_SIZE
	[ "$(<$CFS/ranges/p/enabled)" = 1 ]
	g1=$(<$CFS/generation)
	[ "$g1" -gt "$g0" ]
	ftm_write $CFS/ranges/p/enabled 1	# already enabled: no change
	[ "$(<$CFS/generation)" = "$g1" ]
	ftm_write $CFS/ranges/p/enabled 0
	[ "$(<$CFS/ranges/p/enabled)" = 0 ]
	[ "$(<$CFS/generation)" -gt "$g1" ]
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
	insmod "$FTM_KO"
}

@test "non-root cannot write (root-only modes)" {
	command -v setpriv >/dev/null || skip "setpriv missing"
	run setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo lines > $CFS/method"
	[ "$status" -ne 0 ]
	[ "$(<$CFS/method)" = auto ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups mkdir $CFS/ranges/nobody
	[ "$status" -ne 0 ]
	[ ! -e $CFS/ranges/nobody ]
}
