#!/usr/bin/env bats
# flushtmctl last, the status line and check's pstore lines, against fake pstore
# directories: /sys/fs/pstore (FLUSHTM_PSTORE), systemd-pstore's archive
# (FLUSHTM_PSTORE_ARCHIVE), /proc/stat's btime and /sys/module/{pstore,ramoops}
# (FLUSHTM_PROCFS, FLUSHTM_SYSFS).  The real records, written by a panic, a
# reboot and a kexec of the guest kernel, are read in tests/host/after-crash.bats.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	ftm_unit_setup
	P=$D/pstore A=$D/archive
	mkdir -p "$P" "$A" "$D/sys/module/pstore/parameters" "$D/sys/module/ramoops/parameters"
	echo ramoops > "$D/sys/module/pstore/parameters/backend"
	echo 4 > "$D/sys/module/ramoops/parameters/max_reason"
	NOW=$(date +%s)
	boot_at $((NOW - 100))
	export FLUSHTM_SYSFS=$D/sys FLUSHTM_PROCFS=$D/proc FLUSHTM_PSTORE=$P FLUSHTM_PSTORE_ARCHIVE=$A
	unset FLUSHTM_CONFIGFS
}

# boot_at EPOCH: this boot started then (/proc/stat btime).
boot_at() { printf 'cpu  1 2 3 4\nbtime %s\nprocesses 10\n' "$1" > "$D/proc/stat"; }

FLUSH_PANIC='<0>[   12.345678] flushtm: flush hook=panic ranges=1 bytes=67108864 method=lines ns=1234567 cpu=1'
FLUSH_REBOOT='<6>[   30.000001] flushtm: flush hook=reboot ranges=2 bytes=134217728 method=cache ns=999 cpu=0'

# record FILE AGE-SECONDS HEADER LINE...: a dump of the kernel log, written AGE s ago.
record() {
	local f=$1 age=$2 header=$3
	shift 3
	mkdir -p "$(dirname "$f")"
	{ echo "$header"; printf '%s\n' "<6>[    1.000000] Linux version 6.1.0 (a line of the boot)" "$@"; } > "$f"
	touch -d "@$((NOW - age))" "$f"
}

@test "last: the previous boot's panic record: hook, bytes, ranges, method, duration, cpu, boot" {
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' "$FLUSH_PANIC" \
		'<0>[   12.400000] Kernel panic - not syncing: sysrq triggered crash'
	run ctl last
	[ "$status" -eq 0 ]
	[[ $output == *"ended by   panic"* ]]
	[[ $output == *"dump       Panic: the kernel log as the kernel saved it at the panic"* ]]
	[[ $output == *"record     $P/dmesg-ramoops-0, written "*", 10.0 s before this boot started"* ]]
	[[ $output == *"boot       the previous one"* ]]
	[[ $output == *"flush      hook=panic ranges=1 bytes=67108864 (64M) method=lines ns=1234567 cpu=1 at 12.345678 s"* ]]
	[[ $output == *"complete   yes"* ]]
	[[ $output == *"kernel     Kernel panic - not syncing: sysrq triggered crash"* ]]
	run ctl --json last
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = found ]
	[ "$(jq -r .hook <<<"$output")" = panic ]
	[ "$(jq -r .boot <<<"$output")" = previous ]
	[ "$(jq -r .reason <<<"$output")" = Panic ]
	[ "$(jq -r .written_epoch <<<"$output")" = $((NOW - 110)) ]
	[ "$(jq -r .this_boot_started_epoch <<<"$output")" = $((NOW - 100)) ]
	[ "$(jq -c '.flushes[0] | [.hook, .ranges, .bytes, .method, .ns, .cpu, .uptime]' <<<"$output")" = \
		'["panic",1,67108864,"lines",1234567,1,12.345678]' ]
	[ "$(jq -r .complete <<<"$output")" = true ]
}

@test "last: the newest record before this boot wins; earlier flush lines are listed before it" {
	record "$P/dmesg-ramoops-0" 500 'Panic#1 Part1' "$FLUSH_PANIC"
	record "$P/dmesg-ramoops-1" 105 'Shutdown#1 Part1' \
		'<6>[   20.000000] flushtm: flush hook=manual ranges=2 bytes=4096 method=lines ns=5 cpu=1' \
		"$FLUSH_REBOOT" '<0>[   30.100000] reboot: Restarting system'
	run ctl last
	[ "$status" -eq 0 ]
	[[ $output == *"ended by   reboot"* ]]
	[[ $output == *"dump       Shutdown: the kernel log as the kernel saved it at a restart, halt, power-off or kexec"* ]]
	[[ $output == *"earlier    hook=manual ranges=2 bytes=4096"* ]]
	[[ $output == *"flush      hook=reboot ranges=2 bytes=134217728 (128M) method=cache ns=999 cpu=0"* ]]
	[[ $output != *"hook=panic"* ]]
	run ctl --json last
	[ "$(jq -r '.record' <<<"$output")" = "$P/dmesg-ramoops-1" ]
	[ "$(jq -r '[.flushes[].hook] | join(" ")' <<<"$output")" = "manual reboot" ]
}

@test "last: a record written during this boot is not the previous boot's" {
	record "$P/dmesg-ramoops-0" 50 'Oops#1 Part1' "$FLUSH_PANIC"
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: every kernel log record in $P"*"was written during this boot" ]]
	run ctl --json last
	[ "$status" -eq 1 ]
	[ "$(jq -r .status <<<"$output")" = none ]
	[ "$(jq -r .flushes <<<"$output")" = null ]
}

@test "last: a record systemd-pstore archived in an earlier boot is from two boots ago, never the last" {
	# archived (moved) now; this boot started later than that: an earlier boot collected it
	record "$A/1796000000000000/dmesg-ramoops-0" 300 'Panic#1 Part1' "$FLUSH_PANIC"
	boot_at $((NOW + 100))
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: the newest record, $A/1796000000000000/dmesg-ramoops-0, was archived by systemd-pstore before this boot started: it is from two or more boots ago"* ]]
	[[ $output != *"hook=panic"* ]]
	run ctl --json last
	[ "$(jq -r .status <<<"$output")" = older ]
	[ "$(jq -r .hook <<<"$output")" = null ]
}

@test "last: a record systemd-pstore archived during this boot is the previous boot's" {
	record "$A/1796000000000000/dmesg-ramoops-0" 300 'Panic#1 Part1' "$FLUSH_PANIC"
	run ctl last
	[ "$status" -eq 0 ]
	[[ $output == *"; archived by systemd-pstore during this boot"* ]]
	run ctl --json last
	[ "$(jq -r .archived <<<"$output")" = true ]
}

@test "last: a compressed record the kernel did not decompress is unreadable: exit 1, no record made up" {
	record "$P/dmesg-ramoops-0.enc.z" 110 'x' ''
	head -c 64 /dev/urandom > "$P/dmesg-ramoops-0.enc.z"
	touch -d "@$((NOW - 110))" "$P/dmesg-ramoops-0.enc.z"
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: $P/dmesg-ramoops-0.enc.z: compressed by the backend and not decompressed by this kernel: unreadable" ]]
	run ctl --json last
	[ "$(jq -r .status <<<"$output")" = compressed ]
}

@test "last: someone else's lines: a dump with no flush line, a file with no dump header, binary data" {
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' '<0>[   12.4] Kernel panic - not syncing: Fatal exception'
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: $P/dmesg-ramoops-0: a Panic record of the previous boot, with no flushtm flush line in it"* ]]
	[ "$(ctl --json last | jq -r .status)" = not-ours ]

	record "$P/dmesg-ramoops-0" 110 'hello from another program' "$FLUSH_PANIC"
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == *"no \"Reason#N PartN\" header: not a kernel log dump" ]]
	[[ $output != *"ended by"* ]]

	{ echo 'Panic#1 Part1'; printf 'ab\0cd\n'; echo "$FLUSH_PANIC"; } > "$P/dmesg-ramoops-0"
	touch -d "@$((NOW - 110))" "$P/dmesg-ramoops-0"
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == *"binary data, not a kernel log dump"* ]]
}

@test "last: a flush line cut short is reported as such, not read as a record" {
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' '<0>[   12.345678] flushtm: flush hook=panic ranges=1 bytes=671'
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: $P/dmesg-ramoops-0: a flush line cut short or malformed: flushtm: flush hook=panic ranges=1 bytes=671" ]]
	run ctl --json last
	[ "$(jq -r .status <<<"$output")" = bad ]
	[ "$(jq -r .flushes <<<"$output")" = null ]
	# a bad method or a number with junk is malformed too
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' '<0>[ 1.0] flushtm: flush hook=panic ranges=1 bytes=12x method=lines ns=1 cpu=0'
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == *"cut short or malformed"* ]]
}

@test "last: no backend, nothing before this boot, pstore not mounted: each says why" {
	rmdir "$A"
	: > "$D/sys/module/pstore/parameters/backend"
	echo '(null)' > "$D/sys/module/pstore/parameters/backend"
	echo x > "$P/console-ramoops-0"
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: no pstore backend is registered in this boot"* ]]
	[ "$(ctl --json last | jq -r .status)" = no-backend ]

	echo ramoops > "$D/sys/module/pstore/parameters/backend"
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: no kernel log record from before this boot"* ]]
	[ "$(ctl --json last | jq -r .status)" = none ]

	rm "$P/console-ramoops-0"
	run ctl last
	[ "$status" -eq 1 ]
	[[ $output == "no record: $P is not a mounted pstore file system"* ]]
}

@test "last: this boot's start unreadable is a failure; operands are a usage error" {
	rm "$D/proc/stat"
	run --separate-stderr ctl last
	[ "$status" -eq 1 ]
	[[ $stderr == "flushtmctl: last: this boot's start ($D/proc/stat btime): "* ]]
	run ctl last extra
	[ "$status" -eq 2 ]
	run ctl last --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: flushtmctl [--root DIR] [--json] last"* ]]
}

@test "status: a last-boot line and a last_boot object" {
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' "$FLUSH_PANIC"
	run ctl status
	[ "$status" -eq 0 ]
	[[ $output == *"last boot: ended by hook panic, 10.0 s before this boot: 1 range, 64M, method lines, 1234567 ns, cpu 1"* ]]
	run ctl --json status
	[ "$(jq -r .last_boot.hook <<<"$output")" = panic ]
	rm "$P/dmesg-ramoops-0"
	run ctl status
	[ "$status" -eq 0 ]
	[[ $output == *"last boot: no record (flushtmctl last says why)"* ]]
	[ "$(ctl --json status | jq -r .last_boot.status)" = no-pstore ]
}

@test "check: whether a flush line would survive a reset, and the command line that makes it so" {
	run ctl check
	[[ $output == *"pstore: backend ramoops, max_reason 4: a panic's, an oops', a reboot's and a kexec's flush line would survive a reset"* ]]
	[[ $output != *"pstore: to keep it"* ]]
	[ "$(ctl --json check | jq -c '.pstore | [.backend, .max_reason, .survives_panic, .survives_restart]')" = \
		'["ramoops",4,true,true]' ]
	echo 2 > "$D/sys/module/ramoops/parameters/max_reason"
	run ctl check
	[[ $output == *"pstore: backend ramoops, max_reason 2: a panic's flush line would survive a reset, a reboot's or a kexec's would not"* ]]
	[[ $output == *'pstore: to keep it, boot with: memmap=1M$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000 ramoops.record_size=0x40000 ramoops.max_reason=4'* ]]
	[ "$(ctl --json check | jq -r .pstore.survives_restart)" = false ]
	echo '(null)' > "$D/sys/module/pstore/parameters/backend"
	run ctl check
	[[ $output == *"pstore: no backend registered: no flush line of this boot would survive a reset"* ]]
	[ "$(ctl --json check | jq -c '.pstore | [.backend, .survives_panic]')" = '[null,false]' ]
}

@test "last: the kernel's last words, with the prefix of the code that printed them" {
	record "$P/dmesg-ramoops-0" 110 'Shutdown#1 Part1' \
		'<6>[    9.800000] flushtm: flush hook=kexec ranges=1 bytes=4096 method=lines ns=7 cpu=0' \
		'<5>[    9.900000] kexec_core: Starting new kernel'
	run ctl last
	[ "$status" -eq 0 ]
	[[ $output == *"kernel     kexec_core: Starting new kernel"* ]]
	[ "$(ctl --json last | jq -r .kernel)" = "kexec_core: Starting new kernel" ]
	# a message that merely mentions the words is not the end
	record "$P/dmesg-ramoops-0" 110 'Shutdown#1 Part1' \
		'<6>[    9.800000] flushtm: flush hook=kexec ranges=1 bytes=4096 method=lines ns=7 cpu=0' \
		'<6>[    9.900000] someone: we are not Starting new kernel yet, said the long message here'
	[ "$(ctl --json last | jq -r .kernel)" = null ]
}

# refused_lines LINE...: a panic record whose flush line is LINE is refused
# by last, each one: exit 1, "cut short or malformed".
refused_lines() {
	local line
	for line; do
		record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' "$line"
		run ctl last
		[ "$status" -eq 1 ]
		[[ $output == *"cut short or malformed"* ]]
	done
}

@test "last: fields a later module adds after cpu= are skipped; a field cut short is not" {
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' "$FLUSH_PANIC nodes=2/2"
	run ctl last
	[ "$status" -eq 0 ]
	[[ $output == *"flush      hook=panic ranges=1 bytes=67108864 (64M) method=lines ns=1234567 cpu=1 at"* ]]
	refused_lines "$FLUSH_PANIC nodes=" "$FLUSH_PANIC nodes" "$FLUSH_PANIC =2"
}

@test "last: a crash flush split over the CPUs shows cpus= and taken=, in text, status and JSON" {
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' "$FLUSH_PANIC cpus=4 taken=1 nodes=2"
	run ctl last
	[ "$status" -eq 0 ]
	[[ $output == *"flush      hook=panic ranges=1 bytes=67108864 (64M) method=lines ns=1234567 cpu=1 cpus=4 taken=1 at 12.345678 s"* ]]
	run ctl --json last
	[ "$status" -eq 0 ]
	[ "$(jq -c '.flushes[-1] | [.cpu, .cpus, .taken]' <<<"$output")" = '[1,4,1]' ]
	run ctl status
	[[ $output == *"cpu 1 of 4, 1 part taken over"* ]]
	# an unsplit flush has neither
	record "$P/dmesg-ramoops-0" 110 'Panic#1 Part1' "$FLUSH_PANIC"
	run ctl --json last
	[ "$(jq -c '.flushes[-1] | has("cpus")' <<<"$output")" = false ]
	# taken past cpus, no taken, or no CPUs at all: malformed
	refused_lines "$FLUSH_PANIC cpus=2 taken=3" "$FLUSH_PANIC cpus=2" "$FLUSH_PANIC cpus=0 taken=0"
}
