#!/usr/bin/env bats
# flushtm.ko on arm64 (Debian's 6.1 arm64 kernel, QEMU virt with UEFI and an
# ACPI NVDIMM, 2 CPUs): the hooks arm64 has, the line instructions it picks,
# what it refuses (nmi, method cache, MMIO), and the events a guest lives
# through (manual, aperture, cpu_offline, exit), load/unload cycles.  The
# events that bring it down, and an oops, are in events.bats.
# A VM has no cache to lose: these prove which bytes are flushed when, not
# durability.  Debian's arm64 kernel has no ZONE_DEVICE: the NVDIMM's
# namespace is raw (no fsdax, no devdax).
# vm: --smp 2 --timeout 900
# cost: 132

load helpers

setup_file() {
	ftm_arm64_pmem acpi
	ftm_kmod_suite_setup
}
teardown_file() { ftm_unload; }
setup() { ftm_kmod_clean; }
teardown() {
	[ "$(</sys/devices/system/cpu/cpu1/online)" = 1 ] ||
		echo 1 > /sys/devices/system/cpu/cpu1/online
}

# refused ERRNO FILE VALUE LOG-ERE: the write fails with ERRNO, one log line says why.
refused() {
	local out log
	if out=$(ftm_write "$2" "$3"); then
		echo "write of '$3' to $2 was accepted" >&2
		return 1
	fi
	[ "$out" = "$1" ] || { echo "write of '$3' to $2: got $out, want $1" >&2; return 1; }
	log=$(ftm_klog_take) || return 1
	[ "$(ftm_grep_count "flushtm: $4" "$log")" = 1 ] ||
		{ echo "want one line matching '$4', got: $log" >&2; return 1; }
}

@test "load: the arm64 hooks (no nmi), and the line instructions user space sees too" {
	ftm_kmod_absent
	insmod "$FTM_KO"
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count "flushtm: loaded, interface 1, hooks: $ARM64_HOOKS\$" "$log")" = 1 ]
	# user space reads HWCAP_DCPOP and CTR_EL0 through the same header
	mapfile -t info < <("$FTM_ARCH_INFO")
	wb=${info[0]} inval=${info[1]} line=${info[2]}
	[ "$inval" = "dc civac" ]
	if ftm_grep_count '^Features.* dcpop( |$)' "$(</proc/cpuinfo)" | grep -qv '^0$'; then
		[ "$wb" = "dc cvap" ]
	else
		[ "$wb" = "dc cvac" ]
	fi
	[ "$(ftm_grep_count "flushtm: lines: write back $wb, invalidate $inval, $line-byte lines\$" "$log")" = 1 ]
}

@test "the engine's unit test, built for arm64, passes here: dc cvap with DCPOP, dc cvac without, dc civac" {
	run "$FTM_ENGINE_TEST"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^1\.\.([0-9]+)$ ]]
	[ "$(grep -c '^ok ' <<<"$output")" = "${BASH_REMATCH[1]}" ]
	! grep -q '^not ok' <<<"$output"
	grep -q '^ok 1 - with dcpop=1: write back uses dc cvap (want dc cvap), invalidate dc civac' <<<"$output"
	grep -q '^ok 2 - with dcpop=0: write back uses dc cvac (want dc cvac), invalidate dc civac' <<<"$output"
	grep -q 'FTM_LINE_WRITEBACK walks 4 KiB with dc cvap only$' <<<"$output"
}

@test "every hook but nmi is available; arming nmi is refused" {
	for h in $ARM64_HOOKS; do
		[ "$(<$CFS/hooks/$h/available)" = 1 ] || { echo "$h unavailable" >&2; return 1; }
	done
	[ "$(<$CFS/hooks/nmi/available)" = 0 ]
	refused EOPNOTSUPP $CFS/hooks/nmi/enabled '1\n' 'hook nmi: not available on this kernel or architecture'
	[ "$(<$CFS/hooks/nmi/enabled)" = 0 ]
}

@test "method cache is refused with a clear error; lines and auto are taken" {
	refused EOPNOTSUPP $CFS/method 'cache\n' 'method: cache is not available on this architecture'
	[ "$(<$CFS/method)" = auto ]
	echo lines > $CFS/method
	[ "$(<$CFS/method)" = lines ]
	# auto never picks cache: a set above the threshold still flushes by lines
	echo auto > $CFS/method
	echo $((PMEM_SIZE / 2)) > $CFS/cache_threshold
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo all > $CFS/flush
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=manual ' "$log")
	[ "$(ftm_field method "$line")" = lines ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
}

@test "the NVDIMM (ACPI Persistent Memory) is accepted; a manual flush writes back all of it" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo all > $CFS/flush
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=manual ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(<$CFS/hooks/manual/flushed_bytes)" -ge $PMEM_SIZE ]
}

@test "MMIO (the PL011 UART) and reserved memory no libnvdimm region claims are refused" {
	uart=
	reserved=
	while IFS= read -r l; do
		case $l in
		([0-9a-f]*" : ARMH0011:00") uart=0x${l%%-*} ;;
		([0-9a-f]*" : reserved") [ -n "$reserved" ] || reserved=0x${l%%-*} ;;
		esac
	done < /proc/iomem
	[ -n "$uart" ] && [ -n "$reserved" ]
	mkdir $CFS/ranges/io
	echo $uart > $CFS/ranges/io/start
	echo 4096 > $CFS/ranges/io/size
	ftm_klog_take > /dev/null
	refused EINVAL $CFS/ranges/io/enabled '1\n' 'range io: .* is not RAM or persistent memory'
	echo $reserved > $CFS/ranges/io/start
	ftm_klog_take > /dev/null
	refused EINVAL $CFS/ranges/io/enabled '1\n' 'range io: .* is not RAM or persistent memory'
	rmdir $CFS/ranges/io
}

@test "aperture: disabling an enabled range flushes it under aperture" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	ftm_klog_take > /dev/null
	echo 0 > $CFS/ranges/p/enabled
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=aperture ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(ftm_field method "$line")" = lines ]
}

@test "cpu_offline: CPU 1 going offline flushes the set on CPU 1" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo 1 > $CFS/hooks/cpu_offline/enabled
	before=$(<$CFS/hooks/cpu_offline/fired)
	ftm_klog_take > /dev/null
	echo 0 > /sys/devices/system/cpu/cpu1/online
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=cpu_offline ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field cpu "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(<$CFS/hooks/cpu_offline/fired)" = $((before + 1)) ]
}

@test "exit: an enrolled process flushes the set when it exits" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo 1 > $CFS/hooks/exit/enabled
	ftm_sleeper
	echo $FTM_SLEEPER > $CFS/hooks/exit/pids
	ftm_klog_take > /dev/null
	kill $FTM_SLEEPER
	wait $FTM_SLEEPER || true
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=exit ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ -z "$(<$CFS/hooks/exit/pids)" ]
}

@test "10 load/unload cycles with every available hook armed and a range enabled" {
	for ((i = 1; i <= 10; i++)); do
		ftm_kmod_absent
		insmod "$FTM_KO"
		[ $((i % 2)) = 0 ] && echo lines > $CFS/method
		ftm_arm_all
		ftm_range_make p $PMEM_START $PMEM_SIZE
		echo all > $CFS/flush
		rmdir $CFS/ranges/p
		rmmod flushtm
		[ ! -d /sys/module/flushtm ]
	done
	ftm_kmod_fresh
}

@test "flushtmd's nd source: the NVDIMM's raw namespace becomes a range of its own" {
	ftm_arm64_daemon_range nd d-nd-namespace0.0
}
