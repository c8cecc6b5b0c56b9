#!/usr/bin/env bats
# cost: 120
# flushtm.ko under concurrent configuration churn, in one 3-CPU guest: two loops
# pinned to CPU 0 and CPU 1 make, enable, disable and remove ranges over the legacy
# pmem (0x20000000, 64 MiB) while a third, on CPU 2, flushes all and reads every
# counter.  Then: the kernel did not complain and the module unloads; and the same
# churn with the panic hook armed and a panic in the middle still prints the panic
# flush line (the panic path takes no lock).

bats_require_minimum_version 1.5.0

load host-helpers

setup_file() {
	host_setup_file kmod
	[ -f "$TOP/kmod/flushtm.ko" ]
}

setup() {
	host_setup
}

teardown() {
	host_teardown
}

# The churn, as a guest script: the module loaded, a fixed range "base" over the
# last 32 MiB of the pmem (so an event always has something to flush), the loops
# started; they stop when $stop exists.  Each loop counts its rounds in $cnt/NAME.
CHURN='
set -u
cfs=/sys/kernel/config/flushtm
insmod "$TOP/kmod/flushtm.ko" || exit 1
mkdir "$cfs/ranges/base"
echo 0x22000000 > "$cfs/ranges/base/start"
echo 32M > "$cfs/ranges/base/size"
echo 1 > "$cfs/ranges/base/enabled" || exit 1
cnt=$(mktemp -d)
stop=$cnt/stop
# ranges PREFIX START: make/enable/disable/remove ranges PREFIX0..3 inside 16 MiB at START
ranges() {
	local n=0 r
	while [ ! -e "$stop" ]; do
		r=$cfs/ranges/$1$((n % 4))
		mkdir "$r" &&
		echo $(($2 + (n % 4) * 0x400000)) > "$r/start" &&
		echo 4M > "$r/size" &&
		echo 1 > "$r/enabled" &&
		echo 0 > "$r/enabled" &&
		echo 1 > "$r/enabled" &&
		rmdir "$r" || { echo "loop $1 failed at round $n" >&2; exit 1; }
		n=$((n + 1))
		echo $n > "$cnt/$1"
	done
}
reader() {
	local n=0 f
	while [ ! -e "$stop" ]; do
		echo all > "$cfs/flush" || { echo "flush all failed" >&2; exit 1; }
		for f in "$cfs"/generation "$cfs"/hooks/*/fired "$cfs"/hooks/*/flushed_bytes \
			 "$cfs"/hooks/*/last_ns "$cfs"/hooks/*/max_ns "$cfs"/ranges/*/flushed_bytes \
			 "$cfs"/ranges/*/enabled "$cfs"/ranges/*/start; do
			# the read builtin: a cat per file was most of a round under TCG
			read -r _ < "$f" 2> /dev/null	# a range may vanish under us
		done
		n=$((n + 1))
		echo $n > "$cnt/reader"
	done
}
export -f ranges reader
export cfs cnt stop
taskset -c 0 bash -c "ranges a 0x20000000" & pa=$!
taskset -c 1 bash -c "ranges b 0x21000000" & pb=$!
taskset -c 2 bash -c reader & pc=$!
'

# Stop the loops, report their rounds, check the log and unload.
FINISH='
touch "$stop"
rc=0
wait $pa || rc=1
wait $pb || rc=1
wait $pc || rc=1
echo "rounds: a=$(cat $cnt/a) b=$(cat $cnt/b) reader=$(cat $cnt/reader) loops_rc=$rc"
[ $rc -eq 0 ] || exit 1
dmesg | grep -E "WARNING:|BUG:|Oops|general protection|lockdep|INFO: task" && exit 1
rmdir "$cfs/ranges/base"
[ -z "$(ls -A "$cfs/ranges")" ] || { ls -A "$cfs/ranges"; exit 1; }
rmmod flushtm && [ ! -e /sys/module/flushtm ] && echo "unloaded clean"
'

@test "churn: two CPUs make/enable/disable/remove ranges while a third flushes and reads, 20 s" {
	run "$VMRUN" --dir "$RUN" --smp 3 --timeout 900 -- env TOP="$TOP" bash -c "$CHURN
sleep 20
$FINISH"
	[ "$status" -eq 0 ]
	[[ "$output" =~ rounds:\ a=([0-9]+)\ b=([0-9]+)\ reader=([0-9]+)\ loops_rc=0 ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[2]}" -gt 0 ]
	[ "${BASH_REMATCH[3]}" -gt 0 ]
	[[ "$output" == *"unloaded clean"* ]]
	! grep -E "WARNING:|BUG:|Oops|general protection" "$SERIAL"
	grep -q "flushtm: unloaded" "$SERIAL"
}

@test "churn + panic: with the panic hook armed, a panic mid-churn still prints its flush line" {
	run "$VMRUN" --dir "$RUN" --smp 3 --timeout 900 --expect-down -- env TOP="$TOP" bash -c "$CHURN
echo 1 > \$cfs/hooks/panic/enabled
# panic once every loop has gone round a few times (a slow guest may take a while)
for i in \$(seq 300); do
	[ \$(cat \$cnt/a 2>/dev/null || echo 0) -ge 3 ] &&
	[ \$(cat \$cnt/b 2>/dev/null || echo 0) -ge 3 ] &&
	[ \$(cat \$cnt/reader 2>/dev/null || echo 0) -ge 3 ] && break
	sleep 1
done
echo \"rounds before panic: a=\$(cat \$cnt/a) b=\$(cat \$cnt/b) reader=\$(cat \$cnt/reader)\" > /dev/kmsg
echo 1 > /proc/sys/kernel/sysrq
echo c > /proc/sysrq-trigger"
	[ "$status" -eq 0 ]
	grep -q "Kernel panic - not syncing: sysrq triggered crash" "$SERIAL"
	# the churn was running: each loop had done some rounds
	grep -qE "rounds before panic: a=[1-9][0-9]* b=[1-9][0-9]* reader=[1-9][0-9]*" "$SERIAL"
	# the flush line comes after the panic message, and covers at least "base" (32 MiB)
	run -0 bash -c "grep -A100000 'Kernel panic - not syncing' '$SERIAL' |
		grep -oE 'flushtm: flush hook=panic ranges=[0-9]+ bytes=[0-9]+ method=(lines|cache) ns=[0-9]+ cpu=[0-9]+'"
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" =~ bytes=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge $((32 << 20)) ]
}
