#!/usr/bin/env bats
# flushtm.ko under memory pressure (issue 12, item 4): withdrawing a range
# (enabled=0) must allocate the smaller set before it flushes, and when that
# allocation fails the write fails with ENOMEM and changes nothing: the range
# stays enabled, published and unflushed, the generation does not move.
#
# Fault injection, task-filtered (only the task that sets
# /proc/self/make-it-fail fails): failslab for the set of a few ranges (a
# kmalloc from a slab cache), fail_page_alloc for a set past the largest slab
# (more than 8 KiB: kvzalloc tries an order-2 kmalloc from the page
# allocator, then vmalloc's order-0 pages; both fail).  The writing task
# opens the attribute read-write and reads it first, so that the open's
# allocations and configfs's buffer page are taken before make-it-fail is
# set; the write then reaches flushtm without allocating.  It also makes the
# same printf once to /dev/null first: busybox's printf grows its heap, and
# the page faults of a first run would take every injected page failure
# (each fails, the fault is retried: "VM_FAULT_OOM leaked out") before the
# write gets to flushtm, which then allocates freely.  The failing task
# is a static busybox run from a tmpfs, its working directory in configfs:
# nothing it releases when it exits lives on the guest's 9p root, whose
# client does not survive failed allocations in the middle of a request.  It
# cannot report its error itself (printing it may allocate too): the write's
# status and flushtm's refusal line, logged only on -ENOMEM, tell.
#
# Needs a kernel with CONFIG_FAILSLAB and CONFIG_FAIL_PAGE_ALLOC (the debug
# kernel of make check-debug): each test is skipped, saying so, where its
# debugfs directory is missing (the Debian kernel has neither).
# vm: --smp 2 --timeout 900
# cost: 300

load ../guest/helpers

FAILSLAB=/sys/kernel/debug/failslab
FAILPAGE=/sys/kernel/debug/fail_page_alloc

setup_file() {
	ftm_mount_configfs
	export FTM_FI_DIR=/run/ftm-fault-injection
	mkdir -p $FTM_FI_DIR
	mountpoint -q $FTM_FI_DIR || mount -t tmpfs -o size=8M none $FTM_FI_DIR
	cp /bin/busybox $FTM_FI_DIR/
}

setup() {
	ftm_kmod_fresh lines
}

teardown() {
	local d
	for d in $FAILSLAB $FAILPAGE; do
		[ -d $d ] || continue
		echo 0 > $d/probability
		echo 0 > $d/times
	done
	[ ! -d /sys/module/flushtm ] || ftm_kmod_absent
}

# arm_failures DIR: every allocation of a make-it-fail task that DIR covers
# fails, up to 10 of them; sleeping (GFP_KERNEL) allocations included.
arm_failures() {
	echo Y > $1/task-filter
	echo N > $1/ignore-gfp-wait
	echo 0 > $1/space
	echo 1 > $1/interval
	echo 100 > $1/probability
	echo 0 > $1/verbose
	echo 10 > $1/times
}

# failing_write FILE TEXT: one write(2) of TEXT to FILE from a task whose
# allocations fail, FILE opened and read and the printf rehearsed before; its
# status.
failing_write() {
	(cd /sys/kernel/config && exec $FTM_FI_DIR/busybox sh -c \
		'exec 3<> "$1" 4> /dev/null && read -r _ <&3 && printf %s "$2" >&4 &&
		 echo 1 > /proc/self/make-it-fail && printf %s "$2" >&3' \
		_ "$1" "$2" 2> /dev/null)
}

# withdraw_refused NAME: enabled=0 on range NAME failed with ENOMEM under an
# injected failure and changed nothing; then, memory back, it withdraws the
# range with its one aperture flush.
withdraw_refused() {
	local gen log line bytes
	gen=$(<$CFS/generation)
	read -r bytes < $CFS/ranges/$1/size
	if failing_write $CFS/ranges/$1/enabled 0; then
		echo "the write succeeded under injected allocation failures" >&2
		return 1
	fi
	[ "$(<$CFS/ranges/$1/enabled)" = 1 ]
	[ "$(<$CFS/generation)" = "$gen" ]
	[ "$(<$CFS/hooks/aperture/fired)" = 0 ]
	[ "$(<$CFS/ranges/$1/flushed_bytes)" = 0 ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: flush ' "$log")" = 0 ]
	[ "$(ftm_grep_count "flushtm: range $1: no memory to withdraw it; still enabled" "$log")" = 1 ]
	# still published: a manual flush reaches it
	echo $1 > $CFS/flush
	[ "$(<$CFS/ranges/$1/flushed_bytes)" = "$bytes" ]
	# memory back: the same write withdraws it, flushed first
	echo 0 > $CFS/ranges/$1/enabled
	[ "$(<$CFS/ranges/$1/enabled)" = 0 ]
	[ "$(<$CFS/generation)" -gt "$gen" ]
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=aperture ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = "$bytes" ]
	[ "$(<$CFS/hooks/aperture/fired)" = 1 ]
}

@test "failslab: a withdrawal whose smaller set cannot be allocated fails with ENOMEM and changes nothing" {
	[ -d $FAILSLAB ] || skip "this kernel has no CONFIG_FAILSLAB (the debug kernel of make check-debug has)"
	ftm_range_make p $PMEM_START $PMEM_SIZE
	ftm_range_make q 0x1000000 16M
	arm_failures $FAILSLAB
	withdraw_refused p
	# q, untouched, is the whole set now
	echo all > $CFS/flush
	log=$(ftm_klog_take)
	[ "$(ftm_field bytes "$(ftm_grep_o 'flushtm: flush hook=manual ' "$log")")" = $((16 << 20)) ]
}

@test "fail_page_alloc: the same with a set past the largest slab (240 ranges: kmalloc, then vmalloc)" {
	[ -d $FAILPAGE ] || skip "this kernel has no CONFIG_FAIL_PAGE_ALLOC (the debug kernel of make check-debug has)"
	local i
	for ((i = 0; i < 240; i++)); do
		ftm_range_make r$i $((PMEM_START + i * 4096)) 4096
	done
	ftm_dmesg_clear
	arm_failures $FAILPAGE
	# order-0 and highmem (vmalloc's pages) too: by default neither fails
	echo 0 > $FAILPAGE/min-order
	echo N > $FAILPAGE/ignore-gfp-highmem
	withdraw_refused r7
}
