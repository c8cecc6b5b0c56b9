#!/usr/bin/env bats
# A range given by a reserve_mem= label (ranges/<name>/reserve_mem, flushtmctl
# range add --reserve-mem): on any kernel, a label and a start or size are
# refused as a whole at the write and bad labels are refused; on a kernel
# without reserve_mem (Debian 12's 6.1) enable is -EOPNOTSUPP, "this kernel
# has no reserve_mem"; on one with it (6.11 on) the label resolves to the
# region the command line set aside (ftmtest, 4 MiB) and an unknown label is
# -ENOENT.  Each refusal logs one line.  The warm-reboot proof with ftrace's
# persistent buffer is tests/host/reserve-mem.bats (6.12).
# vm: --append "reserve_mem=4M:4096:ftmtest" --timeout 600
# cost: 60

load helpers

setup_file() { ftm_kmod_suite_setup; }
teardown_file() { ftm_unload; }
setup() { ftm_kmod_clean; }

# Does this kernel have reserve_mem?  Its lookup is in kallsyms (as root).
kernel_has_reserve_mem() {
	grep -q ' reserve_mem_find_by_name$' /proc/kallsyms
}

# refused ERRNO FILE VALUE REASON-REGEX: the write fails with ERRNO, FILE reads
# back as before, and the kernel logged exactly one flushtm line matching.
refused() {
	local before after out log lines
	before=$(<"$2")
	if out=$(ftm_write "$2" "$3"); then
		echo "write of '$3' to $2 was accepted" >&2
		return 1
	fi
	[ "$out" = "$1" ] || { echo "write of '$3' to $2: got $out, want $1" >&2; return 1; }
	after=$(<"$2")
	[ "$before" = "$after" ] || { echo "$2 changed from '$before' to '$after'" >&2; return 1; }
	log=$(ftm_klog_take) || return 1
	lines=$(ftm_grep 'flushtm: ' "$log")
	[ "$(ftm_nlines "$lines")" = 1 ] || { echo "want one flushtm line, got: '$lines'" >&2; return 1; }
	[[ $lines =~ $4 ]] || { echo "log line '$lines' does not match '$4'" >&2; return 1; }
}

@test "a label and a start or size: refused as a whole at the write, either order" {
	local d=$CFS/ranges/both
	mkdir "$d"
	[ "$(<"$d/reserve_mem")" = "" ]
	echo 0x20000000 > "$d/start"
	refused EINVAL "$d/reserve_mem" 'ftmtest\n' 'reserve_mem: the range has a start or size, not both'
	echo 0 > "$d/start"
	echo 4096 > "$d/size"
	refused EINVAL "$d/reserve_mem" 'ftmtest\n' 'not both'
	echo 0 > "$d/size"
	echo ftmtest > "$d/reserve_mem"
	[ "$(<"$d/reserve_mem")" = ftmtest ]
	refused EINVAL "$d/start" '0x20000000\n' 'start: the range is given by reserve_mem ftmtest, not both'
	refused EINVAL "$d/size" '64M\n' 'size: the range is given by reserve_mem ftmtest, not both'
	# an empty write takes the label away; start and size are free again
	echo > "$d/reserve_mem"
	[ "$(<"$d/reserve_mem")" = "" ]
	echo 0x20000000 > "$d/start"
	[ "$(<"$d/start")" = 0x20000000 ]
}

@test "bad labels are refused: too long, characters outside [A-Za-z0-9_.-], a NUL" {
	local d=$CFS/ranges/bad
	mkdir "$d"
	refused EINVAL "$d/reserve_mem" '0123456789abcdef\n' 'reserve_mem must be a label of up to 15 characters'
	refused EINVAL "$d/reserve_mem" 'a b\n' 'up to 15 characters'
	refused EINVAL "$d/reserve_mem" 'a/b' 'up to 15 characters'
	refused EINVAL "$d/reserve_mem" 'ab\0c' 'up to 15 characters'
	# 15 characters is the longest the kernel keeps
	echo 0123456789abcde > "$d/reserve_mem"
	[ "$(<"$d/reserve_mem")" = 0123456789abcde ]
}

@test "enable of a labelled range: EOPNOTSUPP without reserve_mem, the region with it; unknown label ENOENT" {
	local d=$CFS/ranges/rm
	mkdir "$d"
	echo ftmtest > "$d/reserve_mem"
	if ! kernel_has_reserve_mem; then
		refused EOPNOTSUPP "$d/enabled" '1\n' 'range rm: reserve_mem ftmtest: this kernel has no reserve_mem$'
		[ "$(<"$d/start")" = 0x0 ] && [ "$(<"$d/size")" = 0 ]
		return 0
	fi
	echo 1 > "$d/enabled"
	[ "$(<"$d/enabled")" = 1 ]
	[ "$(<"$d/size")" = $((4 << 20)) ]
	local start=$(<"$d/start")
	[ "$start" != 0x0 ] && [ $((start % 4096)) = 0 ]
	# no /proc/iomem line of its own: the module's own lookup accepted it
	! grep -qi ftmtest /proc/iomem
	# the label, start and size cannot change while enabled
	refused EBUSY "$d/reserve_mem" 'other\n' 'reserve_mem cannot change while enabled'
	echo 0 > "$d/enabled"
	ftm_dmesg_clear
	mkdir "$CFS/ranges/nolabel"
	echo nosuchlabel > "$CFS/ranges/nolabel/reserve_mem"
	refused ENOENT "$CFS/ranges/nolabel/enabled" '1\n' 'range nolabel: no reserve_mem region labelled nosuchlabel$'
}

@test "flushtmctl range add --reserve-mem: the kernel's refusal in words, nothing left behind" {
	if ! kernel_has_reserve_mem; then
		run "$FTMCTL" range add rm --reserve-mem ftmtest
		[ "$status" -eq 1 ]
		[ "$output" = "flushtmctl: range add: rm: enable: this kernel has no reserve_mem (Linux 6.11 or later has)" ]
		[ ! -e "$CFS/ranges/rm" ]
		return 0
	fi
	run "$FTMCTL" range add rm --reserve-mem ftmtest
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(<"$CFS/ranges/rm/enabled")" = 1 ]
	[ "$(<"$CFS/ranges/rm/owner")" = admin ]
	[ "$(<"$CFS/ranges/rm/reserve_mem")" = ftmtest ]
	run "$FTMCTL" range add gone --reserve-mem=nosuchlabel
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range add: gone: reserve_mem nosuchlabel: no reserve_mem region of that label (reserve_mem=SIZE:ALIGN:LABEL on the kernel command line)" ]
	[ ! -e "$CFS/ranges/gone" ]
}

@test "flushtmctl range add: --reserve-mem with START SIZE, or a bad label, is a usage error" {
	run "$FTMCTL" range add rm 0x20000000 64M --reserve-mem ftmtest
	[ "$status" -eq 2 ]
	[[ $output == *"--reserve-mem LABEL takes the place of START SIZE"* ]]
	run "$FTMCTL" range add rm --reserve-mem 'a b'
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: range add: --reserve-mem 'a b': invalid reserve_mem label"* ]]
	run "$FTMCTL" range add rm --reserve-mem
	[ "$status" -eq 2 ]
	[ ! -e "$CFS/ranges/rm" ]
}

@test "flushtmctl apply: a [range] with reserve_mem = LABEL; with a start too the whole file is refused" {
	local conf=$BATS_TEST_TMPDIR/flushtm.conf
	printf '[range pm]\nstart = %s\nsize = 4M\n[range both]\nreserve_mem = ftmtest\nstart = 0x20000000\n' \
		"$PMEM_START" > "$conf"
	run "$FTMCTL" apply "$conf"
	[ "$status" -ne 0 ]
	[[ $output == *"[range both]: reserve_mem and start: a range is given by a label or by start and size, not both"* ]]
	# refused as a whole: not even the good range was made
	[ ! -e "$CFS/ranges/pm" ] && [ ! -e "$CFS/ranges/both" ]
	printf '[range boot-trace]\nreserve_mem = ftmtest\n' > "$conf"
	run "$FTMCTL" apply "$conf"
	if ! kernel_has_reserve_mem; then
		[ "$status" -eq 1 ]
		[[ $output == *"range boot-trace: enable: this kernel has no reserve_mem (Linux 6.11 or later has)" ]]
		[ ! -e "$CFS/ranges/boot-trace" ]
		return 0
	fi
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(<"$CFS/ranges/boot-trace/owner")" = config ]
	[ "$(<"$CFS/ranges/boot-trace/size")" = $((4 << 20)) ]
	# the same file again changes nothing
	local gen=$(<"$CFS/generation")
	run "$FTMCTL" apply "$conf"
	[ "$status" -eq 0 ]
	[ "$(<"$CFS/generation")" = "$gen" ]
}
