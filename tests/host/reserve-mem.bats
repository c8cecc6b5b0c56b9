#!/usr/bin/env bats
# kernels: one (it boots the cached kernel that has reserve_mem itself)
# cost: 120
# ftrace's persistent ring buffer on a reserve_mem region, covered by flushtm,
# across a panic and a warm reboot, on a kernel that has reserve_mem (Linux
# 6.11 on; here Debian's 6.12 from bookworm-backports, as scripts/fetch-kernel.sh
# leaves it in the cache).  The kernel command line a user needs:
#   reserve_mem=16M:4096:trace trace_instance=boot_map@trace nokaslr
# (reserve_mem places its region anew at every boot, and with KASLR the kernel's
# own random placement moves it now and then: boot 2 then maps the instance
# elsewhere and the previous boot's events are gone.  Seen here in two full runs
# without nokaslr; ftrace's maintainer measured about one boot in five.)
# One QEMU, two boots (vm-run --boots 2, guest RAM kept); the guest half is
# tests/host/reserve-mem-guest.  Boot 1: three ranges on the label trace (range
# add --reserve-mem, apply of a [range] reserve_mem =, flushtmd's reserve_mem
# source), numbered events into the boot_map instance, panic; boot 2 reads the
# instance's trace file.
#
# What this proves and what it cannot: a VM has no cache to lose (TCG emulates
# none), so the events would be there without flushtm too.  It proves the
# pipeline -- the module finds the region by its label, flushes all of it at the
# panic (the flush line of boot 1), and ftrace gives back the previous boot's
# events from it -- not durability on real hardware.  On x86, upstream does not
# write this buffer back at panic (arch_ring_buffer_flush_range is arm64-only).
# 6.1 (no reserve_mem): tests/guest/reserve-mem.bats.

bats_require_minimum_version 1.5.0

load host-helpers

# The newest kernel of the cache whose headers have reserve_mem_find_by_name()
# (a feature test, not a version); FTM_RM_KERNEL_DIR overrides.
find_kernel() {
	local d best=
	for d in "${FTM_CACHE:-/var/cache/flushtm}"/kernels/*/; do
		d=${d%/}
		grep -qs 'reserve_mem_find_by_name' "$d"/usr/src/linux-headers-*-common/include/linux/mm.h \
			"$d"/usr/src/linux-headers-*/include/linux/mm.h || continue
		ls "$d"/boot/vmlinuz-* > /dev/null 2>&1 || continue
		best=$d
	done
	echo "$best"
}

setup_file() {
	host_setup_file lib flushtmctl flushtmd
	export RM_KDIR_ROOT=${FTM_RM_KERNEL_DIR:-$(find_kernel)}
	[ -n "$RM_KDIR_ROOT" ] || return 0	# each test skips, saying why
	local hdr kver
	hdr=$(ls -d "$RM_KDIR_ROOT"/usr/src/linux-headers-* | grep -v -- '-common$' | head -n1)
	kver=$(basename "$(ls "$RM_KDIR_ROOT"/boot/vmlinuz-* | tail -n1)")
	export RM_KVER=${kver#vmlinuz-}
	# A copy of kmod/ built for that kernel (kmod/ itself is the installed kernel's).
	export RM_KMOD=$BATS_FILE_TMPDIR/kmod
	mkdir -p "$RM_KMOD"
	(cd "$TOP/kmod" && find . -type f \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' -print0 | cpio -0 -pdm --quiet "$RM_KMOD")
	make -s -C "$hdr" M="$RM_KMOD" W=1 modules > "$BATS_FILE_TMPDIR/build.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/build.log" >&2; return 1; }
	export RM_NONCE=ftm-rm-$$-$RANDOM RM_EVENTS=20
	RUN=$BATS_FILE_TMPDIR/run
	local rc=0
	FTM_RM_KO=$RM_KMOD/flushtm.ko FTM_RM_NONCE=$RM_NONCE FTM_RM_EVENTS=$RM_EVENTS \
		"$VMRUN" --kernel-dir "$RM_KDIR_ROOT" --dir "$RUN" --boots 2 --timeout 600 \
		--append "reserve_mem=16M:4096:trace trace_instance=boot_map@trace nokaslr" \
		"$TOP/tests/host/reserve-mem-guest" > "$BATS_FILE_TMPDIR/out" 2> "$BATS_FILE_TMPDIR/err" ||
		rc=$?
	echo "$rc" > "$BATS_FILE_TMPDIR/status"
}

setup() {
	[ -n "$RM_KDIR_ROOT" ] ||
		skip "no kernel with reserve_mem in ${FTM_CACHE:-/var/cache/flushtm}/kernels (scripts/fetch-kernel.sh fetches 6.12)"
	RUN=$BATS_FILE_TMPDIR/run
	SERIAL=$RUN/serial.log
	B1=$RUN/share/boot-1 B2=$RUN/share/boot-2
	status=$(< "$BATS_FILE_TMPDIR/status")
	stderr=$(< "$BATS_FILE_TMPDIR/err")
}

teardown() {
	host_teardown
}

# boot1_console: the serial log of boot 1 only (from its start line to boot 2's).
boot1_console() {
	sed -n '/^vm-guest: boot 1 of 2/,/^vm-guest: boot 2 of 2/p' "$SERIAL"
}

@test "two boots ran; the module was built for the kernel booted (vermagic)" {
	[ "$status" -eq 0 ]
	[ "$(modinfo -F vermagic "$RM_KMOD/flushtm.ko" | cut -d' ' -f1)" = "$RM_KVER" ]
	grep -q '^vm-guest: boot 2 of 2' "$SERIAL"
}

@test "boot 1: each way of naming the label resolved it to the 16 MiB region, with its owner" {
	cat "$B1/ranges"
	local r start
	start=$(sed -n 's/^rm-ctl start //p' "$B1/ranges")
	[ -n "$start" ] && [ "$start" != 0x0 ]
	for r in rm-ctl rm-conf d-reserve_mem-trace; do
		grep -qx "$r reserve_mem trace" "$B1/ranges"
		grep -qx "$r start $start" "$B1/ranges"
		grep -qx "$r size $((16 << 20))" "$B1/ranges"
		grep -qx "$r enabled 1" "$B1/ranges"
	done
	grep -qx "rm-ctl owner admin" "$B1/ranges"
	grep -qx "rm-conf owner config" "$B1/ranges"
	grep -qx "d-reserve_mem-trace owner flushtmd" "$B1/ranges"
	grep -q 'added d-reserve_mem-trace reserve_mem trace (new)' "$B1/flushtmd.log"
	# the region has no /proc/iomem entry of its own: the module's lookup accepted it
	grep -q 'System RAM' "$B1/iomem"
	! grep -Eq "^ *0*${start#0x}-" "$B1/iomem"
}

@test "boot 1's console: one panic flush of the region (hook=panic, bytes = 16 MiB)" {
	local c lines
	c=$(boot1_console)
	lines=$(grep 'flushtm: flush hook=panic' <<<"$c")
	echo "$lines"
	[ "$(grep -c . <<<"$lines")" = 1 ]
	# three ranges on one region: merged, so one extent and the region's size once
	[[ $lines == *" ranges=1 bytes=$((16 << 20)) "* ]]
	grep -q 'Kernel panic - not syncing: sysrq triggered crash' <<<"$c"
}

@test "boot 2: the previous boot's events, read from the boot_map instance's trace file" {
	# boot 1 saw its own events...  (once in this session's runs it did not:
	# what it saw is printed for the next time)
	local seen1
	seen1=$(grep -c "tracing_mark_write: $RM_NONCE-" "$B1/trace") || true
	echo "boot 1's trace holds $seen1 of $RM_EVENTS events; its head:"
	head -n 8 "$B1/trace"
	[ "$seen1" = "$RM_EVENTS" ]
	# ...and boot 2, which traced nothing, reads the same ones back, in order.
	grep -qx boot_map "$B2/instances"
	[ ! -s "$B2/trace.err" ]
	# Both boots mapped the instance at one address, and boot 2 took what
	# it found there as the previous boot's.
	local maps
	maps=$(grep -o 'Tracing: mapped boot instance boot_map at physical memory [0-9a-fx]*' "$SERIAL")
	echo "$maps"
	[ "$(grep -c . <<<"$maps")" = 2 ]
	[ "$(sort -u <<<"$maps" | grep -c .)" = 1 ]
	grep -q 'Ring buffer meta \[[0-9]*\] is from previous boot!' "$SERIAL"
	diff <(grep -o "tracing_mark_write: $RM_NONCE-.*" "$B1/trace") \
		<(grep -o "tracing_mark_write: $RM_NONCE-.*" "$B2/trace")
	[ "$(grep -c "$RM_NONCE-" "$B2/trace")" = "$RM_EVENTS" ]
}
