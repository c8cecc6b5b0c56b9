#!/usr/bin/env bats
# flushtm.ko: 30 load/unload cycles with every available hook armed, a range
# enabled and two processes enrolled under the exit hook; and an enrolled process
# that exits while the module is being removed.
# vm: --smp 2 --timeout 1500
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

@test "30 load/unload cycles: every hook armed, a range enabled, 2 processes enrolled" {
	local i p
	for ((i = 0; i < 30; i++)); do
		insmod "$FTM_KO"
		ftm_arm_all
		ftm_range_make p $PMEM_START 4M
		enroll_sleepers 2
		[ "$(nr_enrolled)" -eq 2 ]
		# ranges hold the module (configfs items); enrolments do not
		rmdir "$CFS/ranges/p"
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
	[ "$(dmesg | grep -c 'flushtm: loaded, interface 1')" -eq 30 ]
	[ "$(dmesg | grep -c 'flushtm: unloaded')" -eq 30 ]
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
