#!/usr/bin/env bats
# flushtm.ko: 20 load/unload cycles with every available hook armed and a
# range enabled, under each method (cache arms the panic handshake).
# vm: --smp 2 --timeout 1200

load helpers

setup_file() { ftm_mount_configfs; }
setup() { ftm_kmod_absent; }

cycle() {
	local method=$1
	insmod "$FTM_KO"
	echo "$method" > $CFS/method
	ftm_arm_all
	ftm_range_make p $PMEM_START $PMEM_SIZE
	mkdir $CFS/ranges/ram
	echo 0x1000000 > $CFS/ranges/ram/start
	echo 4M > $CFS/ranges/ram/size
	echo 1 > $CFS/ranges/ram/enabled
	echo all > $CFS/flush
	rmdir $CFS/ranges/p $CFS/ranges/ram
	rmmod flushtm
}

@test "20 load/unload cycles with every hook armed and a range enabled" {
	for ((i = 1; i <= 20; i++)); do
		case $((i % 3)) in
		(0) m=lines ;;
		(1) m=cache ;;
		(2) m=auto ;;
		esac
		cycle $m
		[ ! -d /sys/module/flushtm ]
	done
	log=$(ftm_klog_take)	# all 20 cycles; fails on a kernel complaint
	[ "$(ftm_grep_count 'flushtm: loaded, interface 1' "$log")" = 20 ]
	[ "$(ftm_grep_count 'flushtm: unloaded' "$log")" = 20 ]
	[ "$(ftm_grep_count 'flushtm: flush hook=manual ' "$log")" = 20 ]
	[ "$(ftm_grep_count 'flushtm: flush hook=aperture ' "$log")" = 40 ]
}

@test "the module unloads cleanly after cpu_offline and exit fired" {
	insmod "$FTM_KO"
	ftm_arm_all
	echo cache > $CFS/method
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo 0 > /sys/devices/system/cpu/cpu1/online
	echo 1 > /sys/devices/system/cpu/cpu1/online
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	kill $pid; wait $pid || true
	[ "$(<$CFS/hooks/cpu_offline/fired)" = 1 ]
	[ "$(<$CFS/hooks/exit/fired)" = 1 ]
	rmdir $CFS/ranges/p
	rmmod flushtm
	insmod "$FTM_KO"
	[ "$(<$CFS/hooks/exit/fired)" = 0 ]
	rmmod flushtm
	ftm_assert_no_kernel_complaints
}
