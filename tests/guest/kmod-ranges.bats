#!/usr/bin/env bats
# flushtm.ko: the merged set, the manual and aperture flushes, their
# counters and their log lines.
# vm: --smp 2 --timeout 1200
# cost: 150

load helpers

setup_file() { ftm_kmod_suite_setup; }
teardown_file() { ftm_unload; }
# The claims count from 0 (fired, flushed_bytes, the other hooks' counters):
# each test gets a module loaded just now, flushing line by line.
setup() { ftm_kmod_fresh lines; }
# ftm_api.ko (tests/modules) uses flushtm's symbols: out before the next reload.
teardown() {
	[ ! -d /sys/module/ftm_api ] || rmmod ftm_api
}

M=$((1 << 20))
LINE_RE='^flushtm: flush hook=[a-z_]+ ranges=[0-9]+ bytes=[0-9]+ method=(lines|cache) ns=[0-9]+ cpu=[0-9]+$'

# The log is read with ftm_klog_take only, so each read holds what was logged
# since setup or the previous read, and a stray flush line fails the test.

# flush_all: one manual flush; prints its log line.
flush_all() {
	local log
	echo all > $CFS/flush
	log=$(ftm_klog_take) || return 1
	ftm_grep_o 'flushtm: flush hook=manual ' "$log"
}

@test "a manual flush logs one KERN_INFO line in the documented format" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo all > $CFS/flush
	log=$(ftm_klog_take --decode)	# lines start with facility:level
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 1 ]
	line=$(ftm_grep_o 'flushtm: flush ' "$log")
	[[ $line =~ $LINE_RE ]]
	[ "$(ftm_grep_count '^kern *:info *: (\[[^]]*\] )?flushtm: flush hook=manual ' "$log")" = 1 ]
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(ftm_field method "$line")" = lines ]
	[ "$(ftm_field ns "$line")" -gt 0 ]
}

@test "manual counters: fired, flushed_bytes, last_ns, max_ns, range flushed_bytes" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	for i in 1 2 3; do
		line=$(flush_all)
		[ "$(<$CFS/hooks/manual/fired)" = $i ]
		[ "$(<$CFS/hooks/manual/flushed_bytes)" = $((i * PMEM_SIZE)) ]
		[ "$(<$CFS/hooks/manual/last_ns)" = "$(ftm_field ns "$line")" ]
		[ "$(<$CFS/hooks/manual/max_ns)" -ge "$(<$CFS/hooks/manual/last_ns)" ]
		[ "$(<$CFS/ranges/p/flushed_bytes)" = $((i * PMEM_SIZE)) ]
	done
	# counters of the other hooks did not move
	for h in panic die nmi reboot kexec cpu_offline exit aperture; do
		[ "$(<$CFS/hooks/$h/fired)" = 0 ]
	done
}

# The wbinvd flushtm ran, summed over the CPUs (debugfs flushtm/cache_writebacks).
wb_total() {
	local cpu n sum=0
	while read -r cpu n; do
		sum=$((sum + n))
	done < /sys/kernel/debug/flushtm/cache_writebacks
	echo $sum
}

@test "an empty set counts a manual flush but flushes and logs nothing, even with cache" {
	echo cache > $CFS/method
	wb=$(wb_total)
	[ -z "$(flush_all)" ]
	[ "$(<$CFS/hooks/manual/fired)" = 1 ]
	[ "$(<$CFS/hooks/manual/flushed_bytes)" = 0 ]
	[ "$(wb_total)" = "$wb" ]
	# a disabled range is not in the set
	mkdir $CFS/ranges/off
	echo $PMEM_START > $CFS/ranges/off/start
	echo 4K > $CFS/ranges/off/size
	[ -z "$(flush_all)" ]
	[ "$(<$CFS/hooks/manual/fired)" = 2 ]
	[ "$(wb_total)" = "$wb" ]
	# with a range, cache writes back on every online CPU
	echo 1 > $CFS/ranges/off/enabled
	[ "$(ftm_field method "$(flush_all)")" = cache ]
	[ "$(wb_total)" -ge $((wb + $(nproc))) ]
}

@test "merging: overlapping ranges flush their union once, as one span" {
	ftm_range_make a 0x20000000 32M
	ftm_range_make b 0x21000000 32M
	line=$(flush_all)
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $((48 * M)) ]
	# each range counts its own size as flushed
	[ "$(<$CFS/ranges/a/flushed_bytes)" = $((32 * M)) ]
	[ "$(<$CFS/ranges/b/flushed_bytes)" = $((32 * M)) ]
}

@test "merging: touching ranges are one span; a contained or duplicate range adds nothing" {
	ftm_range_make a 0x20000000 16M
	ftm_range_make b 0x21000000 16M
	line=$(flush_all)
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $((32 * M)) ]
	ftm_range_make c 0x20400000 4M
	ftm_range_make d 0x20000000 16M
	line=$(flush_all)
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $((32 * M)) ]
}

@test "merging: disjoint ranges, in RAM and in pmem, are separate spans" {
	ftm_range_make a 0x22000000 4M
	ftm_range_make b 0x20000000 4M
	line=$(flush_all)
	[ "$(ftm_field ranges "$line")" = 2 ]
	[ "$(ftm_field bytes "$line")" = $((8 * M)) ]
	ftm_range_make ram 0x1000000 16M
	line=$(flush_all)
	[ "$(ftm_field ranges "$line")" = 3 ]
	[ "$(ftm_field bytes "$line")" = $((24 * M)) ]
	# withdrawing one re-merges the rest
	echo 0 > $CFS/ranges/b/enabled
	line=$(flush_all)
	[ "$(ftm_field ranges "$line")" = 2 ]
	[ "$(ftm_field bytes "$line")" = $((20 * M)) ]
}

# set_order: the published set as debugfs shows it, "START SIZE" a span, in walk order.
SET_VIEW=/sys/kernel/debug/flushtm/set

@test "priority: the set is walked highest priority first, then by address; overlaps go to the higher" {
	ftm_range_make low 0x20000000 16M
	ftm_range_make mid 0x22000000 4M
	ftm_range_make high 0x23000000 4M
	[ "$(<$CFS/ranges/low/priority)" = 0 ]
	[ "$(cat $SET_VIEW)" = "0x20000000 $((16 * M))
0x22000000 $((4 * M))
0x23000000 $((4 * M))" ]
	echo 7 > $CFS/ranges/high/priority	# while enabled: the set is republished
	echo 3 > $CFS/ranges/mid/priority
	[ "$(<$CFS/ranges/high/priority)" = 7 ]
	[ "$(cat $SET_VIEW)" = "0x23000000 $((4 * M))
0x22000000 $((4 * M))
0x20000000 $((16 * M))" ]
	# a range of priority 9 inside low takes its 2 MiB from low, which is cut around it
	ftm_range_make inner 0x20400000 2M
	echo 9 > $CFS/ranges/inner/priority
	[ "$(cat $SET_VIEW)" = "0x20400000 $((2 * M))
0x23000000 $((4 * M))
0x22000000 $((4 * M))
0x20000000 $((4 * M))
0x20600000 $((10 * M))" ]
	# the flush line counts the union by address: three extents, each byte once
	line=$(flush_all)
	[ "$(ftm_field ranges "$line")" = 3 ]
	[ "$(ftm_field bytes "$line")" = $((24 * M)) ]
	[ "$(<$CFS/ranges/low/flushed_bytes)" = $((16 * M)) ]
	# flush NAME of the cut range: its 16 MiB, one extent, through two owners' spans
	echo low > $CFS/flush
	line=$(ftm_grep_o 'flushtm: flush hook=manual ' "$(ftm_klog_take)")
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $((16 * M)) ]
	# equal priorities fall back to address order, the first by start owning an overlap
	for r in low mid high inner; do echo 0 > $CFS/ranges/$r/priority; done
	[ "$(cat $SET_VIEW)" = "0x20000000 $((16 * M))
0x22000000 $((4 * M))
0x23000000 $((4 * M))" ]
}

@test "priority: 0 to 255; junk, signs and 256 refused with EINVAL, the value kept, the reason logged" {
	ftm_range_make p 0x20000000 4M
	echo 255 > $CFS/ranges/p/priority
	for bad in 256 -1 1x " 3" 0x100 99999999999999999999; do
		out=$(ftm_write $CFS/ranges/p/priority "$bad") || true
		[ "$out" = EINVAL ] || { echo "priority '$bad': $out"; false; }
	done
	[ "$(<$CFS/ranges/p/priority)" = 255 ]
	ftm_grep_o 'flushtm: range p: priority must be a number from 0 to 255' "$(ftm_klog_take)"
	# a disabled range keeps its priority for the next enable
	echo 0 > $CFS/ranges/p/enabled
	echo 12 > $CFS/ranges/p/priority
	echo 1 > $CFS/ranges/p/enabled
	[ "$(<$CFS/ranges/p/priority)" = 12 ]
	[ "$(cat $SET_VIEW)" = "0x20000000 $((4 * M))" ]
}

@test "flush NAME flushes only that range" {
	ftm_range_make a 0x20000000 4M
	ftm_range_make b 0x22000000 8M
	echo b > $CFS/flush
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=manual ' "$log")
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $((8 * M)) ]
	[ "$(<$CFS/ranges/b/flushed_bytes)" = $((8 * M)) ]
	[ "$(<$CFS/ranges/a/flushed_bytes)" = 0 ]
	[ "$(<$CFS/hooks/manual/flushed_bytes)" = $((8 * M)) ]
}

@test "method: cache, lines, and auto by cache_threshold" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo cache > $CFS/method
	[ "$(ftm_field method "$(flush_all)")" = cache ]
	echo lines > $CFS/method
	[ "$(ftm_field method "$(flush_all)")" = lines ]
	echo auto > $CFS/method
	echo $PMEM_SIZE > $CFS/cache_threshold
	[ "$(ftm_field method "$(flush_all)")" = lines ]
	echo $((PMEM_SIZE - 4096)) > $CFS/cache_threshold
	line=$(flush_all)
	[ "$(ftm_field method "$line")" = cache ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	ftm_assert_no_kernel_complaints
}

@test "aperture: disabling an enabled range flushes it first" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	ftm_range_make q 0x1000000 16M
	echo 0 > $CFS/ranges/p/enabled
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 1 ]
	line=$(ftm_grep_o 'flushtm: flush hook=aperture ' "$log")
	[[ $line =~ $LINE_RE ]]
	[ "$(ftm_field ranges "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(<$CFS/hooks/aperture/fired)" = 1 ]
	[ "$(<$CFS/hooks/aperture/flushed_bytes)" = $PMEM_SIZE ]
	[ "$(<$CFS/ranges/p/flushed_bytes)" = $PMEM_SIZE ]
	# disabling again, or a disabled range, flushes nothing
	echo 0 > $CFS/ranges/p/enabled
	[ "$(<$CFS/hooks/aperture/fired)" = 1 ]
}

@test "aperture: rmdir of an enabled range flushes it; of a disabled one does not" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	rmdir $CFS/ranges/p
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=aperture ' "$log")
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(<$CFS/hooks/aperture/fired)" = 1 ]
	mkdir $CFS/ranges/off
	rmdir $CFS/ranges/off
	[ "$(<$CFS/hooks/aperture/fired)" = 1 ]
	# the withdrawn range is gone from the set: nothing to flush
	[ -z "$(flush_all)" ]
	[ "$(<$CFS/hooks/manual/flushed_bytes)" = 0 ]
}

@test "rmdir then mkdir of a name: flush NAME finds the new range, with a file of the old one open" {
	ftm_range_make a $PMEM_START 4M
	# an open file of the old item (6.1's configfs takes no item reference
	# for it, and rmdir drops its own before it returns: a guard, not a repro)
	exec {held}< $CFS/ranges/a/flushed_bytes
	rmdir $CFS/ranges/a
	ftm_range_make a 0x22000000 8M
	ftm_write $CFS/flush a
	exec {held}<&-
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=manual ' "$log")
	[ "$(ftm_field bytes "$line")" = $((8 * M)) ]
	[ "$(<$CFS/ranges/a/flushed_bytes)" = $((8 * M)) ]
}

# ftm_api_call OP START SIZE: the exported API through tests/modules/ftm_api.ko;
# prints the errno name on failure, as ftm_write does.
ftm_api_call() {
	ftm_write /sys/kernel/debug/ftm_api/call "$1 $(($2)) $(($3))"
}

@test "exported API: unaligned ranges are rounded out to whole lines" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	insmod "$FTM_TOP/tests/modules/ftm_api.ko"
	ftm_api_call flush $PMEM_START+32 64
	ftm_api_call flush $PMEM_START+$PMEM_SIZE-1 1
	ftm_api_call flush $PMEM_START+4095 4097
	# a line that reaches out of the set: nothing flushed
	[ "$(ftm_api_call flush $PMEM_START+$PMEM_SIZE-32 33)" = EINVAL ]
	[ "$(ftm_api_call flush $PMEM_START-1 2)" = EINVAL ]
	[ "$(ftm_api_call flush $PMEM_START 0)" = EINVAL ]
	# not counted, not logged
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 0 ]
	[ "$(ftm_grep_count 'ftm_api: flush .*: 0$' "$log")" = 3 ]
	[ "$(<$CFS/ranges/p/flushed_bytes)" = 0 ]
}

@test "exported API: an aperture report withdraws the ranges in its window (rounded out to lines), flushed" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	ftm_range_make q 0x1000000 16M
	insmod "$FTM_TOP/tests/modules/ftm_api.ko"
	gen=$(<$CFS/generation)
	# the line after the range: reaches nothing, does nothing
	ftm_api_call aperture $PMEM_START+$PMEM_SIZE 32
	[ "$(<$CFS/ranges/p/enabled)" = 1 ]
	[ "$(<$CFS/generation)" = "$gen" ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 0 ]
	[ "$(<$CFS/hooks/aperture/fired)" = 0 ]
	# a window whose first byte is the range's last: p goes, flushed whole; q stays
	ftm_api_call aperture $PMEM_START+$PMEM_SIZE-1 32
	[ "$(<$CFS/ranges/p/enabled)" = 0 ]
	[ "$(<$CFS/ranges/q/enabled)" = 1 ]
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=aperture ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[[ $line =~ $LINE_RE ]]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
	[ "$(<$CFS/ranges/p/flushed_bytes)" = $PMEM_SIZE ]
	# what is left in the set is q alone
	[ "$(ftm_field bytes "$(flush_all)")" = $((16 * M)) ]
	[ "$(ftm_api_call aperture 0 0)" = EINVAL ]
}

@test "aperture: an overlapped range withdrawn flushes its own bytes, the rest stays" {
	ftm_range_make a 0x20000000 32M
	ftm_range_make b 0x21000000 32M
	echo 0 > $CFS/ranges/a/enabled
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=aperture ' "$log")
	[ "$(ftm_field bytes "$line")" = $((32 * M)) ]
	line=$(flush_all)
	[ "$(ftm_field bytes "$line")" = $((32 * M)) ]
}

@test "aperture hook disarmed: a withdrawn range is not flushed" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo 0 > $CFS/hooks/aperture/enabled
	echo 0 > $CFS/ranges/p/enabled
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 0 ]
	[ "$(<$CFS/hooks/aperture/fired)" = 0 ]
}

@test "a large set is flushed whole (split over CPUs)" {
	ftm_range_make big 0x2000000 256M
	echo lines > $CFS/method
	line=$(flush_all)
	[ "$(ftm_field bytes "$line")" = $((256 * M)) ]
	[ "$(ftm_field method "$line")" = lines ]
	ftm_assert_no_kernel_complaints
}

@test "flushes race with enable/disable without complaint" {
	ftm_range_make a 0x20000000 16M
	mkdir $CFS/ranges/b
	echo 0x21000000 > $CFS/ranges/b/start
	echo 16M > $CFS/ranges/b/size
	( for ((i = 0; i < 40; i++)); do echo all > $CFS/flush; done ) &
	flusher=$!
	for ((i = 0; i < 20; i++)); do
		echo 1 > $CFS/ranges/b/enabled
		echo 0 > $CFS/ranges/b/enabled
	done
	wait $flusher
	[ "$(<$CFS/hooks/manual/fired)" = 40 ]
	[ "$(<$CFS/hooks/aperture/fired)" = 20 ]
	ftm_assert_no_kernel_complaints
}
