#!/usr/bin/env bats
# flushtm.ko: 20 load/unload cycles with every available hook armed and a
# range enabled, under each method (cache arms the panic handshake).
# vm: --smp 2 --timeout 1200

load helpers

setup() {
	ftm_mount_configfs
	ftm_dmesg_clear
}

teardown() {
	ftm_unload
}

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
	for i in $(seq 20); do
		case $((i % 3)) in
		(0) m=lines ;;
		(1) m=cache ;;
		(2) m=auto ;;
		esac
		cycle $m
		[ ! -d /sys/module/flushtm ]
	done
	[ "$(dmesg | grep -c 'flushtm: loaded, interface 1')" = 20 ]
	[ "$(dmesg | grep -c 'flushtm: unloaded')" = 20 ]
	[ "$(dmesg | grep -c 'flushtm: flush hook=manual ')" = 20 ]
	[ "$(dmesg | grep -c 'flushtm: flush hook=aperture ')" = 40 ]
	ftm_assert_no_kernel_complaints
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
	[ "$(cat $CFS/hooks/cpu_offline/fired)" = 1 ]
	[ "$(cat $CFS/hooks/exit/fired)" = 1 ]
	rmdir $CFS/ranges/p
	rmmod flushtm
	insmod "$FTM_KO"
	[ "$(cat $CFS/hooks/exit/fired)" = 0 ]
	rmmod flushtm
	ftm_assert_no_kernel_complaints
}
