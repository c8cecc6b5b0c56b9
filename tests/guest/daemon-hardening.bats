#!/usr/bin/env bats
# flushtmd under stress in a real kernel (legacy pmem, namespace0.0 at
# 0x20000000): uevent storms, SIGKILL in the middle of a reconcile.
# vm: --timeout 1200 --append loglevel=4

load helpers
load ../../flushtmd/tests/daemon-helpers

NS=namespace0.0

setup_file() {
	ftmd_guest_setup
	printf '[flushtmd]\nsources = nd\n' > "$FTMD_CONF"
	ftmd_start
	ftmd_wait_ready
}

teardown_file() {
	ftmd_stop_quietly
}

# Samples configfs until the file $1 appears; prints each sample where NAME is
# not live.
sample_uncovered() {
	local stop=$1 name=$2
	while [ ! -e "$stop" ]; do
		ftmd_range_live "$name" || echo "uncovered at $(date +%s.%N)"
	done
}

@test "storm of 300 change uevents: coalesced, the range never uncovered" {
	ftmd_wait_range d-nd-$NS
	ftmd_log_mark
	sample_uncovered "$FTMD_DIR/stop" d-nd-$NS > "$FTMD_DIR/uncovered" 3>&- &
	local sampler=$! i
	for i in $(seq 300); do
		echo change > /sys/bus/nd/devices/$NS/uevent
	done
	ftmd_wait_log 'reconcile '
	sleep 2
	touch "$FTMD_DIR/stop"
	wait $sampler
	local n=$(ftmd_log_new | grep -c 'debug: reconcile ')
	echo "# 300 uevents -> $n reconciles" >&3
	[ "$n" -ge 1 ] && [ "$n" -lt 50 ]
	[ ! -s "$FTMD_DIR/uncovered" ]
	! ftmd_log_has 'removed '
	ftmd_assert_unique
}

@test "storm of 50 unbind/bind cycles: ends covered, once, daemon alive" {
	local i
	ftmd_log_mark
	for i in $(seq 50); do
		echo $NS > /sys/bus/nd/drivers/nd_pmem/unbind
		echo $NS > /sys/bus/nd/drivers/nd_pmem/bind
	done
	ftmd_wait_range d-nd-$NS
	sleep 2
	kill -0 "$(ftmd_pid)"
	ftmd_assert_range d-nd-$NS 0x20000000 $((64 << 20))
	ftmd_assert_unique
	echo "# $(ftmd_log_new | grep -c 'debug: reconcile ') reconciles for 100 bind changes" >&3
}

# 50 static ranges of 256K from 0x20000000; $1: size of each in K, $2 offset in K.
write_static_conf() {
	local i
	{
		printf '[flushtmd]\nsources = nd\n'
		for i in $(seq 0 49); do
			printf '[range r%d]\nstart = 0x%x\nsize = %dK\n' $i \
				$((0x20000000 + i * 256 * 1024 + $2 * 1024)) $1
		done
	} > "$FTMD_CONF"
}

# Every static range i is live with content A or content B (never neither).
assert_each_covered_by() {
	local i s_old s_new ours bad=0
	ours=$(ftmd_our_ranges)
	for i in $(seq 0 49); do
		s_old=$(printf '0x%x %d' $((0x20000000 + i * 262144)) $((256 << 10)))
		s_new=$(printf '0x%x %d' $((0x20000000 + i * 262144 + 65536)) $((128 << 10)))
		if ! grep -q " $s_old 1\$" <<< "$ours" && ! grep -q " $s_new 1\$" <<< "$ours"; then
			echo "r$i: neither old nor new content is live" >&2
			bad=1
		fi
	done
	return $bad
}

@test "50 static ranges pushed, then SIGKILL in the middle of replacing them all" {
	write_static_conf 256 0
	kill -HUP "$(ftmd_pid)"
	ftmd_until 300 eval '[ "$(ftmd_our_ranges | grep -c "^d-config-r")" -eq 50 ]'
	# New content for each: shifted and smaller, so old and new differ.
	write_static_conf 128 64
	ftmd_log_mark
	kill -HUP "$(ftmd_pid)"
	ftmd_until 60 eval '[ "$(ftmd_log_new | grep -c "^flushtmd: added")" -ge 65 ]'
	kill -KILL "$(ftmd_pid)"
	local done=$(ftmd_log_new | grep -c '^flushtmd: added')
	echo "# killed after $done adds" >&3
	[ "$done" -lt 100 ]	# really in the middle
	assert_each_covered_by
}

@test "restart after the SIGKILL: converges, stable names, no duplicates" {
	ftmd_start
	ftmd_wait_ready
	ftmd_until 120 eval '! ftmd_our_ranges | grep -q ":"'
	local i ours
	ours=$(ftmd_our_ranges)
	[ "$(grep -c '^d-config-r' <<< "$ours")" -eq 50 ]
	for i in 0 27 49; do
		ftmd_assert_range d-config-r$i $((0x20000000 + i * 262144 + 65536)) $((128 << 10))
	done
	ftmd_assert_unique
	[ "$(ftmd_log_new | grep -c 'cannot ')" -eq 0 ]
	ftm_assert_no_kernel_complaints
}
