#!/usr/bin/env bats
# flushtm.ko in-guest events: cpu_offline (a 2-CPU guest) and exit
# (enrolled processes).  Events that bring the guest down are tested from
# the host (tests/host/events.bats).
# vm: --smp 2 --timeout 900

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
	echo lines > $CFS/method
	ftm_range_make p $PMEM_START $PMEM_SIZE
}

teardown() {
	[ "$(cat /sys/devices/system/cpu/cpu1/online)" = 1 ] ||
		echo 1 > /sys/devices/system/cpu/cpu1/online
	ftm_reset
}

@test "cpu_offline: a CPU going offline flushes the set on that CPU" {
	echo 1 > $CFS/hooks/cpu_offline/enabled
	echo 0 > /sys/devices/system/cpu/cpu1/online
	line=$(dmesg | grep -o 'flushtm: flush hook=cpu_offline .*')
	[ "$(grep -c . <<<"$line")" = 1 ]
	[ "$(ftm_field cpu "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(ftm_field ranges "$line")" = 1 ]
	dmesg -r | grep -qE '^<6>(\[[^]]*\] )?flushtm: flush hook=cpu_offline '
	[ "$(cat $CFS/hooks/cpu_offline/fired)" = 1 ]
	[ "$(cat $CFS/hooks/cpu_offline/flushed_bytes)" = $PMEM_SIZE ]
	# coming back online is not an event
	echo 1 > /sys/devices/system/cpu/cpu1/online
	[ "$(cat $CFS/hooks/cpu_offline/fired)" = 1 ]
	ftm_assert_no_kernel_complaints
}

@test "cpu_offline with method cache writes back the dying CPU's cache" {
	echo cache > $CFS/method
	echo 1 > $CFS/hooks/cpu_offline/enabled
	echo 0 > /sys/devices/system/cpu/cpu1/online
	line=$(dmesg | grep -o 'flushtm: flush hook=cpu_offline .*')
	[ "$(ftm_field method "$line")" = cache ]
	[ "$(ftm_field cpu "$line")" = 1 ]
	ftm_assert_no_kernel_complaints
}

@test "cpu_offline disarmed: offlining a CPU flushes nothing" {
	echo 1 > $CFS/hooks/cpu_offline/enabled
	echo 0 > $CFS/hooks/cpu_offline/enabled
	echo 0 > /sys/devices/system/cpu/cpu1/online
	[ "$(dmesg | grep -c 'flushtm: flush ' || true)" = 0 ]
	[ "$(cat $CFS/hooks/cpu_offline/fired)" = 0 ]
}

@test "exit: an enrolled process flushes the set when it exits" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	[ "$(cat $CFS/hooks/exit/pids)" = $pid ]
	kill $pid
	wait $pid || true
	line=$(dmesg | grep -o 'flushtm: flush hook=exit .*')
	[ "$(grep -c . <<<"$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(cat $CFS/hooks/exit/fired)" = 1 ]
	[ "$(cat $CFS/hooks/exit/flushed_bytes)" = $PMEM_SIZE ]
	[ -z "$(cat $CFS/hooks/exit/pids)" ]
	ftm_assert_no_kernel_complaints
}

@test "exit: several enrolled processes, one flush each; others flush nothing" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_sleeper; a=$FTM_SLEEPER
	ftm_sleeper; b=$FTM_SLEEPER
	ftm_sleeper; c=$FTM_SLEEPER
	echo $a > $CFS/hooks/exit/pids
	echo $b > $CFS/hooks/exit/pids
	[ "$(cat $CFS/hooks/exit/pids | sort -n | tr '\n' ' ')" = "$(printf '%s\n' $a $b | sort -n | tr '\n' ' ')" ]
	kill $c; wait $c || true
	[ "$(cat $CFS/hooks/exit/fired)" = 0 ]
	kill $a $b; wait $a $b || true
	[ "$(cat $CFS/hooks/exit/fired)" = 2 ]
	[ "$(dmesg | grep -c 'flushtm: flush hook=exit ')" = 2 ]
}

@test "exit: a withdrawn process flushes nothing, and withdrawing does not flush" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	echo -$pid > $CFS/hooks/exit/pids
	[ -z "$(cat $CFS/hooks/exit/pids)" ]
	kill $pid; wait $pid || true
	[ "$(cat $CFS/hooks/exit/fired)" = 0 ]
	[ "$(dmesg | grep -c 'flushtm: flush ' || true)" = 0 ]
}

@test "exit hook disarmed: an enrolled process exits without a flush" {
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	kill $pid; wait $pid || true
	[ "$(cat $CFS/hooks/exit/fired)" = 0 ]
	[ -z "$(cat $CFS/hooks/exit/pids)" ]
}

@test "unload with an enrolled live process and every hook armed" {
	ftm_arm_all
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	rmdir $CFS/ranges/p
	rmmod flushtm
	kill $pid; wait $pid || true
	ftm_load
	ftm_assert_no_kernel_complaints
}
