#!/usr/bin/env bats
# flushtm.ko: 30 load/unload cycles with every available hook armed, a range
# enabled and two processes enrolled under the exit hook; and an enrolled process
# that exits while the module is being removed.
# vm: --smp 2 --timeout 1500

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

# enroll_sleepers N: start N sleep processes, enroll each once it has exec'd.
enroll_sleepers() {
	local i
	for i in $(seq "$1"); do
		ftm_sleeper
		SLEEPERS+=("$FTM_SLEEPER")
		echo "$FTM_SLEEPER" > "$CFS/hooks/exit/pids"
	done
}

@test "30 load/unload cycles: every hook armed, a range enabled, 2 processes enrolled" {
	local i p
	for i in $(seq 30); do
		insmod "$FTM_KO"
		ftm_arm_all
		ftm_range_make p $PMEM_START 4M
		enroll_sleepers 2
		[ "$(cat "$CFS/hooks/exit/pids" | wc -l)" -eq 2 ]
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
	for round in $(seq 5); do
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
