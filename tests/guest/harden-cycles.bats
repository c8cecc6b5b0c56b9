#!/usr/bin/env bats
# flushtm.ko: 30 load/unload cycles with every available hook armed, two ranges
# enabled (pmem and RAM) and flushed, two processes enrolled under the exit hook,
# the method turning lines, cache, auto (cache arms the panic handshake); an
# enrolled process that exits while the module is being removed; and an unload
# after cpu_offline and exit fired.  On the debug kernel 8 cycles: lockdep, KASAN
# and kmemleak report at the first cycle that does wrong, and a cycle there costs
# ~10 times one here.  (kmod-cycles.bats, which cycled the methods in a guest of
# its own, is folded in here: one boot instead of two on every kernel.)
# vm: --smp 2 --timeout 1500
# cost: 150
#
# Under TCG each fork+exec costs tens of milliseconds (hundreds on a loaded
# host: binaries and libraries come over 9p), so the loop bodies read configfs
# and /proc with the read builtin and run only the programs the claims need:
# insmod, rmmod, mkdir/rmdir of the range and the enrolled sleeps.

load helpers

setup() {
	ftm_mount_configfs
	ftm_dmesg_clear
	SLEEPERS=()
}

teardown() {
	local p
	for p in "${SLEEPERS[@]}"; do
		kill "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
	ftm_unload || true
}

# Wait until PID has exec'd `sleep` (an mm enrolled before the exec is torn
# down by the exec itself).  Spins on the read builtin rather than forking a
# sleep per try: the exec takes a few milliseconds, a 0.1 s nap per sleeper
# was most of a cycle.
wait_exec() {
	local comm tries=0
	while ! { read -r comm < "/proc/$1/comm" && [ "$comm" = sleep ]; } 2> /dev/null; do
		kill -0 "$1" 2> /dev/null || { echo "sleeper $1 died before its exec" >&2; return 1; }
		((++tries < 100000)) || { echo "sleeper $1 never exec'd" >&2; return 1; }
	done
}

# enroll_sleepers N: start N sleep processes, enroll each once it has exec'd.
enroll_sleepers() {
	local i pid
	for ((i = 0; i < $1; i++)); do
		sleep 300 &
		pid=$!
		SLEEPERS+=("$pid")
		wait_exec "$pid" || return 1
		echo "$pid" > "$CFS/hooks/exit/pids"
	done
}

# Number of pids enrolled under the exit hook.
nr_enrolled() {
	local pids
	mapfile -t pids < "$CFS/hooks/exit/pids"
	echo ${#pids[@]}
}

@test "30 load/unload cycles: every hook armed, 2 ranges enabled and flushed, 2 processes enrolled, each method (8 on the debug kernel)" {
	local i p n methods=(lines cache auto)
	n=$(ftm_nr_cycles 30 8)
	for ((i = 0; i < n; i++)); do
		insmod "$FTM_KO"
		echo "${methods[i % 3]}" > "$CFS/method"
		ftm_arm_all
		ftm_range_make p $PMEM_START 4M
		ftm_range_make ram 0x1000000 4M
		enroll_sleepers 2
		[ "$(nr_enrolled)" -eq 2 ]
		echo all > "$CFS/flush"
		# ranges hold the module (configfs items); enrolments do not;
		# removing an enabled range flushes it (aperture)
		rmdir "$CFS/ranges/p" "$CFS/ranges/ram"
		rmmod flushtm
		[ ! -e /sys/module/flushtm ]
		# the enrolled processes outlive the module: their exit must not call into it
		for p in "${SLEEPERS[@]}"; do
			kill "$p"
			wait "$p" || true
		done
		SLEEPERS=()
	done
	ftm_assert_no_kernel_complaints
	[ "$(dmesg | grep -c 'flushtm: loaded, interface 1')" -eq "$n" ]
	[ "$(dmesg | grep -c 'flushtm: unloaded')" -eq "$n" ]
	[ "$(dmesg | grep -c 'flushtm: flush hook=manual ')" -eq "$n" ]
	[ "$(dmesg | grep -c 'flushtm: flush hook=aperture ')" -eq $((2 * n)) ]
}

@test "an enrolled process that exits while rmmod runs: no complaint, module gone" {
	local round p
	for round in 1 2 3 4 5; do
		insmod "$FTM_KO"
		ftm_arm_all
		ftm_range_make p $PMEM_START $PMEM_SIZE
		enroll_sleepers 2
		rmdir "$CFS/ranges/p"
		# kill both in the background as rmmod starts
		( sleep 0.0$((round * 2)); kill "${SLEEPERS[@]}" ) &
		rmmod flushtm
		wait $!
		for p in "${SLEEPERS[@]}"; do
			wait "$p" || true
		done
		SLEEPERS=()
		[ ! -e /sys/module/flushtm ]
	done
	ftm_assert_no_kernel_complaints
	[ "$(dmesg | grep -c 'flushtm: unloaded')" -eq 5 ]
}

@test "the module unloads cleanly after cpu_offline and exit fired; a new load starts its counters at 0" {
	insmod "$FTM_KO"
	ftm_arm_all
	echo cache > "$CFS/method"
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo 0 > /sys/devices/system/cpu/cpu1/online
	echo 1 > /sys/devices/system/cpu/cpu1/online
	ftm_sleeper
	p=$FTM_SLEEPER
	echo "$p" > "$CFS/hooks/exit/pids"
	kill "$p"
	wait "$p" || true
	[ "$(<"$CFS/hooks/cpu_offline/fired")" = 1 ]
	[ "$(<"$CFS/hooks/exit/fired")" = 1 ]
	rmdir "$CFS/ranges/p"
	rmmod flushtm
	insmod "$FTM_KO"
	[ "$(<"$CFS/hooks/exit/fired")" = 0 ]
	rmmod flushtm
	ftm_assert_no_kernel_complaints
}
