#!/usr/bin/env bats
# flushtm.ko in-guest events: cpu_offline (a 2-CPU guest), exit (enrolled
# processes), an NMI that reaches one CPU only (as a BMC's does), memory
# going offline under a range.  Events that bring the guest down are tested
# from the host (tests/host/events.bats).  movablecore puts the top 512 MiB
# of RAM in ZONE_MOVABLE, whose blocks can be taken offline (unless early
# boot reserved a page in them, as the debug kernel does near the top).
# vm: --smp 2 --timeout 900 --append movablecore=512M
# cost: 100
# (On the debug kernel, under make check, only the tests of the filter below: NMI handlers, the
# memory notifier and the mmu notifier's exec path under lockdep and KASAN; make check-debug runs all.)
# debug-filter: ^(nmi on CPU 0 only, method (cache|auto)|memory: |exit: enrolment follows exec)

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
	if [ -n "${FTM_MEMBLOCK:-}" ] && [ "$(<$FTM_MEMBLOCK/state)" != online ]; then
		echo online_movable > $FTM_MEMBLOCK/state
	fi
}

# The wbinvd flushtm ran on each CPU: "CPU=COUNT ..." (debugfs).
wb_counts() {
	local cpu n out=
	while read -r cpu n; do
		out+="$cpu=$n "
	done < /sys/kernel/debug/flushtm/cache_writebacks
	echo "${out% }"
}

# nmi_to_cpu0: an NMI to CPU 0 only, sent from CPU 1, as LINT1 delivers a
# BMC's NMI to the boot CPU alone (QEMU's inject-nmi reaches every CPU);
# waits until the nmi hook counted it.
nmi_to_cpu0() {
	local end=$((SECONDS + 60))
	[ -d /sys/module/ftm_provoke ] || insmod "$FTM_TOP/tests/modules/ftm_provoke.ko"
	taskset -c 1 bash -c 'echo "nmi 0" > /sys/kernel/debug/ftm_provoke/trigger'
	until [ "$(<$CFS/hooks/nmi/fired)" = 1 ]; do
		[ $SECONDS -lt $end ] || { echo "nmi hook never fired" >&2; return 1; }
	done
}

# every_cpu_wrote_back BEFORE AFTER: each online CPU's count grew.
every_cpu_wrote_back() {
	local cpu b a
	[ "$(ftm_nlines "$(tr ' ' '\n' <<<"$2")")" = "$(nproc)" ]
	for a in $2; do
		cpu=${a%%=*}
		for b in $1; do
			[ "${b%%=*}" = "$cpu" ] || continue
			[ "${a#*=}" -gt "${b#*=}" ] || { echo "CPU $cpu: ${b#*=} -> ${a#*=}" >&2; return 1; }
		done
	done
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

@test "nmi on CPU 0 only, method cache: every online CPU wrote back before the hook counted" {
	echo cache > $CFS/method
	echo 1 > $CFS/hooks/nmi/enabled
	before=$(wb_counts)
	nmi_to_cpu0
	after=$(wb_counts)
	every_cpu_wrote_back "$before" "$after"
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=nmi ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field method "$line")" = cache ]
	[ "$(ftm_field cpu "$line")" = 0 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(ftm_grep_count 'did not write back' "$log")" = 0 ]
}

@test "nmi on CPU 0 only, method auto above cache_threshold: every online CPU wrote back" {
	echo auto > $CFS/method
	echo $((PMEM_SIZE / 2)) > $CFS/cache_threshold
	echo 1 > $CFS/hooks/nmi/enabled
	before=$(wb_counts)
	nmi_to_cpu0
	after=$(wb_counts)
	every_cpu_wrote_back "$before" "$after"
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=nmi ' "$log")
	[ "$(ftm_field method "$line")" = cache ]
	[ "$(ftm_grep_count 'did not write back' "$log")" = 0 ]
}

@test "nmi on CPU 0 only, method lines: no CPU is asked to write back its cache" {
	echo auto > $CFS/method		# may pick cache: the handshake is armed
	echo 1 > $CFS/hooks/nmi/enabled
	before=$(wb_counts)
	nmi_to_cpu0
	[ "$(wb_counts)" = "$before" ]
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=nmi ' "$log")
	[ "$(ftm_field method "$line")" = lines ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
}

# movable_block: a ZONE_MOVABLE memory block, online, wholly System RAM,
# that can be taken offline (tried: offline, then online again); sets
# FTM_MEMBLOCK (its sysfs directory) and FTM_MEMBLOCK_START.
movable_block() {
	local bs m zones state start lo hi rest i
	bs=$((0x$(</sys/devices/system/memory/block_size_bytes)))
	for m in /sys/devices/system/memory/memory*; do
		read -r state < $m/state
		read -r zones < $m/valid_zones
		[ "$state" = online ] && [ "$zones" = Movable ] || continue
		start=$((${m##*memory} * bs))
		while IFS='- ' read -r lo hi rest; do
			[ "$rest" = ": System RAM" ] || continue
			[ $((0x$lo)) -le $start ] && [ $((0x$hi)) -ge $((start + bs - 1)) ] || continue
			for i in 1 2 3; do
				ftm_write $m/state offline > /dev/null && break
			done
			[ "$(<$m/state)" = offline ] || continue
			echo online_movable > $m/state
			FTM_MEMBLOCK=$m FTM_MEMBLOCK_START=$start
			ftm_dmesg_clear
			return 0
		done < /proc/iomem
	done
	echo "no movable block wholly in System RAM can go offline (movablecore= on the vm line?)" >&2
	return 1
}

@test "memory: a block under an enabled range is not taken offline; withdrawn, it is, and cannot be enabled while offline" {
	movable_block
	at=$(printf 0x%x $((FTM_MEMBLOCK_START + (64 << 20))))
	ftm_range_make ram $at 4M
	[ "$(ftm_write $FTM_MEMBLOCK/state offline)" = EBUSY ]
	[ "$(<$FTM_MEMBLOCK/state)" = online ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count "flushtm: memory 0x$(printf %x $FTM_MEMBLOCK_START)-.* holds an enabled range: not taken offline" "$log")" = 1 ]
	# withdrawn (flushed first), the block goes (a page being migrated
	# may make one attempt fail: a few)
	echo 0 > $CFS/ranges/ram/enabled
	for i in 1 2 3 4 5; do
		ftm_write $FTM_MEMBLOCK/state offline && break
	done
	[ "$(<$FTM_MEMBLOCK/state)" = offline ]
	# offline System RAM is still System RAM in /proc/iomem: refused all the same
	gen=$(<$CFS/generation)
	[ "$(ftm_write $CFS/ranges/ram/enabled 1)" = EBUSY ]
	[ "$(<$CFS/ranges/ram/enabled)" = 0 ]
	[ "$(<$CFS/generation)" = "$gen" ]
	echo online_movable > $FTM_MEMBLOCK/state
	echo 1 > $CFS/ranges/ram/enabled
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: range ram: memory at .* is offline or going offline' "$log")" = 1 ]
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
	bash -c "$2" &
	FTM_CHAIN=$!
	ftm_wait_comm "$FTM_CHAIN" "$1"
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
	# bats forks a subshell that execs bash -c: enrol after that exec, which
	# would flush once more if the pid were enrolled before it
	local argv=()
	until { mapfile -t -d '' argv < "/proc/$pid/cmdline" && [ "${argv[1]:-}" = -c ]; } 2>/dev/null; do :; done
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
