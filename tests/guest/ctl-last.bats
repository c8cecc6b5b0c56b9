#!/usr/bin/env bats
# flushtmctl last and check's pstore lines on the real kernel, in one cold boot:
# no backend at first, then ramoops on RAM reserved for it (memmap=1M$0x30000000)
# with its default max_reason, then a pstore mounted with nothing from before
# this boot.  What a reset leaves (two boots of one machine) is in
# tests/host/after-crash.bats; the parsing of records in tests/unit/ctl-last.bats.
# vm: --append memmap=1M$0x30000000 --timeout 300
# cost: 40

bats_require_minimum_version 1.5.0
load helpers

CMDLINE='memmap=1M$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000 ramoops.record_size=0x40000 ramoops.max_reason=4'

@test "no pstore backend: last says so and exits 1; check prints the command line that would keep a record" {
	[ "$(cat /sys/module/pstore/parameters/backend)" = "(null)" ]
	run "$FTMCTL" last
	[ "$status" -eq 1 ]
	[[ $output == "no record: no pstore backend is registered in this boot"* ]]
	[ "$("$FTMCTL" --json last | jq -r .status)" = no-backend ]
	run "$FTMCTL" check
	[[ $output == *"pstore: no backend registered: no flush line of this boot would survive a reset"* ]]
	[[ $output == *"pstore: to keep it, boot with: $CMDLINE "* ]]
	run "$FTMCTL" --json check
	[ "$(jq -c '.pstore | [.backend, .survives_panic, .survives_restart, .cmdline]' <<<"$output")" = \
		"[null,false,false,\"$CMDLINE\"]" ]
}

@test "ramoops with its default max_reason: a panic's line would survive, a reboot's would not" {
	modprobe ramoops mem_address=0x30000000 mem_size=0x100000 record_size=0x40000
	[ "$(cat /sys/module/pstore/parameters/backend)" = ramoops ]
	run "$FTMCTL" check
	[[ $output == *"pstore: backend ramoops, max_reason 2: a panic's flush line would survive a reset, a reboot's or a kexec's would not"* ]]
	[[ $output == *"pstore: to keep it, boot with: $CMDLINE "* ]]
	[ "$("$FTMCTL" --json check | jq -c '.pstore | [.backend, .max_reason, .survives_restart]')" = \
		'["ramoops",2,false]' ]
}

@test "pstore mounted on a cold boot: no record from before this boot, exit 1; status says so" {
	mountpoint -q /sys/fs/pstore || mount -t pstore pstore /sys/fs/pstore
	[ -z "$(ls -A /sys/fs/pstore)" ]
	run "$FTMCTL" last
	[ "$status" -eq 1 ]
	[[ $output == "no record: no kernel log record from before this boot in /sys/fs/pstore"* ]]
	run "$FTMCTL" --json last
	[ "$status" -eq 1 ]
	[ "$(jq -r '[.status, .record] | join(",")' <<<"$output")" = "none," ]
	local ours btime
	ours=$(jq -r .this_boot_started_epoch <<<"$output")
	btime=$(awk '/^btime/ { print $2 }' /proc/stat)
	echo "this_boot_started_epoch $ours, /proc/stat btime $btime"
	[ "$ours" = "$btime" ]
	ftm_load
	run "$FTMCTL" status
	[ "$status" -eq 0 ]
	[[ $output == *"last boot: no record (flushtmctl last says why)"* ]]
}
