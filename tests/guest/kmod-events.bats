#!/usr/bin/env bats
# flushtm.ko in-guest events: cpu_offline (a 2-CPU guest) and exit
# (enrolled processes).  Events that bring the guest down are tested from
# the host (tests/host/events.bats).
# vm: --smp 2 --timeout 900

load helpers

setup_file() { ftm_kmod_suite_setup; }
teardown_file() { ftm_unload; }
# The claims count from 0 (fired, flushed_bytes, flush lines): each test gets
# a module loaded just now, flushing line by line, with the pmem range enabled.
setup() {
	ftm_kmod_fresh lines
	ftm_range_make p $PMEM_START $PMEM_SIZE
}

teardown() {
	[ "$(</sys/devices/system/cpu/cpu1/online)" = 1 ] ||
		echo 1 > /sys/devices/system/cpu/cpu1/online
}

# The log is read with ftm_klog_take only, so each read holds what was logged
# since setup or the previous read, and a stray flush line fails the test.

@test "cpu_offline: a CPU going offline flushes the set on that CPU" {
	echo 1 > $CFS/hooks/cpu_offline/enabled
	echo 0 > /sys/devices/system/cpu/cpu1/online
	log=$(ftm_klog_take --decode)	# lines start with facility:level
	line=$(ftm_grep_o 'flushtm: flush hook=cpu_offline ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field cpu "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_grep_count '^kern *:info *: (\[[^]]*\] )?flushtm: flush hook=cpu_offline ' "$log")" = 1 ]
	[ "$(<$CFS/hooks/cpu_offline/fired)" = 1 ]
	[ "$(<$CFS/hooks/cpu_offline/flushed_bytes)" = $PMEM_SIZE ]
	# coming back online is not an event
	echo 1 > /sys/devices/system/cpu/cpu1/online
	[ "$(<$CFS/hooks/cpu_offline/fired)" = 1 ]
	ftm_assert_no_kernel_complaints
}

@test "cpu_offline with method cache writes back the dying CPU's cache" {
	echo cache > $CFS/method
	echo 1 > $CFS/hooks/cpu_offline/enabled
	echo 0 > /sys/devices/system/cpu/cpu1/online
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=cpu_offline ' "$log")
	[ "$(ftm_field method "$line")" = cache ]
	[ "$(ftm_field cpu "$line")" = 1 ]
	ftm_assert_no_kernel_complaints
}

@test "cpu_offline disarmed: offlining a CPU flushes nothing" {
	echo 1 > $CFS/hooks/cpu_offline/enabled
	echo 0 > $CFS/hooks/cpu_offline/enabled
	echo 0 > /sys/devices/system/cpu/cpu1/online
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 0 ]
	[ "$(<$CFS/hooks/cpu_offline/fired)" = 0 ]
}

@test "exit: an enrolled process flushes the set when it exits" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	[ "$(<$CFS/hooks/exit/pids)" = $pid ]
	kill $pid
	wait $pid || true
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=exit ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(<$CFS/hooks/exit/fired)" = 1 ]
	[ "$(<$CFS/hooks/exit/flushed_bytes)" = $PMEM_SIZE ]
	[ -z "$(<$CFS/hooks/exit/pids)" ]
	ftm_assert_no_kernel_complaints
}

@test "exit: several enrolled processes, one flush each; others flush nothing" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_sleeper; a=$FTM_SLEEPER
	ftm_sleeper; b=$FTM_SLEEPER
	ftm_sleeper; c=$FTM_SLEEPER
	echo $a > $CFS/hooks/exit/pids
	echo $b > $CFS/hooks/exit/pids
	mapfile -t pids < $CFS/hooks/exit/pids	# a and b, in any order
	[ ${#pids[@]} = 2 ]
	[[ " ${pids[*]} " == *" $a "* && " ${pids[*]} " == *" $b "* ]]
	kill $c; wait $c || true
	[ "$(<$CFS/hooks/exit/fired)" = 0 ]
	kill $a $b; wait $a $b || true
	[ "$(<$CFS/hooks/exit/fired)" = 2 ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush hook=exit ' "$log")" = 2 ]
}

@test "exit: a withdrawn process flushes nothing, and withdrawing does not flush" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	echo -$pid > $CFS/hooks/exit/pids
	[ -z "$(<$CFS/hooks/exit/pids)" ]
	kill $pid; wait $pid || true
	[ "$(<$CFS/hooks/exit/fired)" = 0 ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 0 ]
}

@test "exit hook disarmed: an enrolled process exits without a flush" {
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	kill $pid; wait $pid || true
	[ "$(<$CFS/hooks/exit/fired)" = 0 ]
	[ -z "$(<$CFS/hooks/exit/pids)" ]
}

@test "unload with an enrolled live process and every hook armed" {
	ftm_arm_all
	ftm_sleeper
	pid=$FTM_SLEEPER
	echo $pid > $CFS/hooks/exit/pids
	rmdir $CFS/ranges/p
	rmmod flushtm
	kill $pid; wait $pid || true
	insmod "$FTM_KO"
	ftm_assert_no_kernel_complaints
}

# ftm_exec_chain TARGET-COMM SCRIPT: start bash -c SCRIPT in the background
# (it enrols itself, then execs) and wait until its exec chain has reached
# TARGET-COMM; FTM_CHAIN is its pid.
ftm_exec_chain() {
	local want=$1 comm
	bash -c "$2" &
	FTM_CHAIN=$!
	until { read -r comm < "/proc/$FTM_CHAIN/comm" && [ "$comm" = "$want" ]; } 2>/dev/null; do
		kill -0 "$FTM_CHAIN" 2>/dev/null || {
			echo "process $FTM_CHAIN died before it became $want" >&2
			return 1
		}
	done
}

@test "exit: enrolment follows exec (sh -c 'enrol \$\$ && exec PROG'): the old mm is flushed, the new one too" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_exec_chain sleep "echo \$\$ > $CFS/hooks/exit/pids && exec sleep 300"
	pid=$FTM_CHAIN
	# the exec tore down bash's address space: one flush, and still enrolled
	[ "$(<$CFS/hooks/exit/pids)" = $pid ]
	[ "$(<$CFS/hooks/exit/fired)" = 1 ]
	kill $pid; wait $pid || true
	[ "$(<$CFS/hooks/exit/fired)" = 2 ]
	[ "$(<$CFS/hooks/exit/flushed_bytes)" = $((2 * PMEM_SIZE)) ]
	[ -z "$(<$CFS/hooks/exit/pids)" ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush hook=exit ' "$log")" = 2 ]
	ftm_assert_no_kernel_complaints
}

@test "exit: a process that execs twice stays enrolled; withdrawn after, its exit flushes nothing" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_exec_chain sleep "echo \$\$ > $CFS/hooks/exit/pids && exec bash -c 'exec sleep 300'"
	pid=$FTM_CHAIN
	[ "$(<$CFS/hooks/exit/pids)" = $pid ]
	[ "$(<$CFS/hooks/exit/fired)" = 2 ]
	echo -$pid > $CFS/hooks/exit/pids
	[ -z "$(<$CFS/hooks/exit/pids)" ]
	kill $pid; wait $pid || true
	[ "$(<$CFS/hooks/exit/fired)" = 2 ]
	# enrolling it again after the withdrawal is refused: it is gone
	[ "$(ftm_write $CFS/hooks/exit/pids "$pid")" = ESRCH ]
	ftm_assert_no_kernel_complaints
}

@test "exit: a forked child enrolled before its exec is covered after it" {
	echo 1 > $CFS/hooks/exit/enabled
	# the child waits on a FIFO between fork and exec: enrolled in that window
	mkfifo "$BATS_TEST_TMPDIR/go"
	bash -c "read -r _ < '$BATS_TEST_TMPDIR/go'; exec sleep 300" &
	pid=$!
	echo $pid > $CFS/hooks/exit/pids
	echo go > "$BATS_TEST_TMPDIR/go"
	until { read -r comm < "/proc/$pid/comm" && [ "$comm" = sleep ]; } 2>/dev/null; do :; done
	[ "$(<$CFS/hooks/exit/pids)" = $pid ]
	kill $pid; wait $pid || true
	[ "$(<$CFS/hooks/exit/fired)" = 2 ]
	[ -z "$(<$CFS/hooks/exit/pids)" ]
}

@test "unload while an exec'd enrolled process lives, then it exits" {
	echo 1 > $CFS/hooks/exit/enabled
	ftm_exec_chain sleep "echo \$\$ > $CFS/hooks/exit/pids && exec sleep 300"
	pid=$FTM_CHAIN
	rmdir $CFS/ranges/p
	rmmod flushtm
	kill $pid; wait $pid || true
	insmod "$FTM_KO"
	[ -z "$(<$CFS/hooks/exit/pids)" ]
	ftm_assert_no_kernel_complaints
}
