#!/usr/bin/env bats
# flushtmctl stats --format=prometheus (lib/ftm_metrics.c) against the fake
# configfs tree of lib/tests/fake-configfs.sh: the values are the tree's, the
# covered and uncovered bytes are check's, and Prometheus's own linter
# (promtool check metrics, from Debian's prometheus package) accepts the text.
# The same text in a real guest, scraped through node_exporter: tests/guest/pkg-deb.bats.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	ftm_unit_setup
}


# sample NAME{LABELS}: the value of that one series in $output; fails when it
# is absent or there twice.
# (A label value never holds a space: names are shown escaped.  ENVIRON, not
# awk -v, which would undo the backslashes.)
sample() {
	local v
	v=$(S=$1 awk '$1 == ENVIRON["S"] { print $2 }' <<<"$output")
	[ "$(wc -l <<<"$v")" -eq 1 ] && [ -n "$v" ] ||
		{ echo "series $1: '$v'" >&2; return 1; }
	echo "$v"
}

@test "stats --format=prometheus: hook counters and durations in base units" {
	echo 1 > "$R/hooks/panic/enabled"
	echo 3 > "$R/hooks/manual/fired"
	echo 201326592 > "$R/hooks/manual/flushed_bytes"
	echo 1234567 > "$R/hooks/manual/last_ns"
	echo 2000000001 > "$R/hooks/manual/max_ns"
	echo 0 > "$R/hooks/nmi/available"
	run --separate-stderr ctl stats --format=prometheus
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(sample flushtm_module_loaded)" = 1 ]
	[ "$(sample flushtm_interface_version)" = 1 ]
	[ "$(sample "flushtm_build_info{version=\"$(make -s -C "$TOP" version)\"}")" = 1 ]
	[ "$(sample 'flushtm_hook_enabled{hook="panic"}')" = 1 ]
	[ "$(sample 'flushtm_hook_enabled{hook="die"}')" = 0 ]
	[ "$(sample 'flushtm_hook_available{hook="nmi"}')" = 0 ]
	[ "$(sample 'flushtm_hook_fired_total{hook="manual"}')" = 3 ]
	[ "$(sample 'flushtm_hook_flushed_bytes_total{hook="manual"}')" = 201326592 ]
	[ "$(sample 'flushtm_hook_last_duration_seconds{hook="manual"}')" = 0.001234567 ]
	[ "$(sample 'flushtm_hook_max_duration_seconds{hook="manual"}')" = 2.000000001 ]
	[ "$(sample 'flushtm_hook_fired_total{hook="panic"}')" = 0 ]
	# One series per hook of the tree, each with its HELP and TYPE.
	[ "$(grep -c '^flushtm_hook_fired_total{' <<<"$output")" -eq 9 ]
	grep -qx '# TYPE flushtm_hook_fired_total counter' <<<"$output"
	grep -qx '# TYPE flushtm_hook_last_duration_seconds gauge' <<<"$output"
	grep -q '^# HELP flushtm_hook_flushed_bytes_total .' <<<"$output"
}

@test "stats --format=prometheus: ranges with owner labels; covered and uncovered bytes as check counts them" {
	fake_iomem "$D" "00000000-0009ffff : System RAM" \
		"20000000-2fffffff : Persistent Memory (legacy)" \
		"  20000000-23ffffff : namespace0.0"
	fake_namespace "$D" namespace0.0 0x20000000 $((64 << 20))
	fake_range "$R" d-nd-namespace0.0 $((0x20000000)) $((64 << 20)) 1 flushtmd
	fake_range "$R" off $((0x24000000)) $((32 << 20)) 0 admin
	echo 4096 > "$R/ranges/d-nd-namespace0.0/flushed_bytes"
	run --separate-stderr ctl stats --format=prometheus
	[ "$status" -eq 0 ]
	[ "$(sample 'flushtm_range_size_bytes{range="d-nd-namespace0.0",owner="flushtmd"}')" = 67108864 ]
	[ "$(sample 'flushtm_range_enabled{range="d-nd-namespace0.0",owner="flushtmd"}')" = 1 ]
	[ "$(sample 'flushtm_range_flushed_bytes_total{range="d-nd-namespace0.0",owner="flushtmd"}')" = 4096 ]
	[ "$(sample 'flushtm_range_enabled{range="off",owner="admin"}')" = 0 ]
	# 256M of iomem pmem, 64M of it in an enabled range; the disabled one covers nothing.
	[ "$(sample 'flushtm_pmem_covered_bytes{source="iomem"}')" = $((64 << 20)) ]
	[ "$(sample 'flushtm_pmem_uncovered_bytes{source="iomem"}')" = $((192 << 20)) ]
	[ "$(sample 'flushtm_pmem_covered_bytes{source="nd"}')" = $((64 << 20)) ]
	[ "$(sample 'flushtm_pmem_uncovered_bytes{source="nd"}')" = 0 ]
	[ "$(sample 'flushtm_pmem_scan_ok{source="iomem"}')" = 1 ]
	# check names the same 192M as its one pmem gap.
	run --separate-stderr ctl check
	[[ $output == *"gap: persistent memory 20000000: 0x24000000-0x2fffffff (192M) is not covered"* ]]
	[ "$(grep -c 'is not covered' <<<"$output")" -eq 1 ]
	# Enabled, the second range covers its 32M too.
	echo 1 > "$R/ranges/off/enabled"
	run --separate-stderr ctl stats --format=prometheus
	[ "$(sample 'flushtm_pmem_uncovered_bytes{source="iomem"}')" = $((160 << 20)) ]
}

@test "stats --format=prometheus: names and owners escaped as flushtmctl shows them, then as label values" {
	fake_range "$R" 'a "b"' $((0x20000000)) 4096 1 'x\y'
	run --separate-stderr ctl stats --format=prometheus
	[ "$status" -eq 0 ]
	# ftm_name_escape: the space and the backslash as \xHH; then \ and " escaped.
	[ "$(sample 'flushtm_range_size_bytes{range="a\\x20\"b\"",owner="x\\x5cy"}')" = 4096 ]
}

@test "stats --format=prometheus with the module absent: loaded 0, pmem all uncovered, exit 0" {
	fake_iomem "$D" "20000000-23ffffff : Persistent Memory (legacy)"
	R=$D/absent
	run --separate-stderr ctl stats --format=prometheus
	[ "$status" -eq 0 ]
	[ "$(sample flushtm_module_loaded)" = 0 ]
	[ "$(sample 'flushtm_pmem_uncovered_bytes{source="iomem"}')" = $((64 << 20)) ]
	[ "$(sample 'flushtm_pmem_covered_bytes{source="iomem"}')" = 0 ]
	! grep -q '^flushtm_hook_\|^flushtm_interface_version' <<<"$output"
	# The text format stays an error without the module.
	run ctl stats
	[ "$status" -eq 1 ]
}

@test "stats --format=prometheus: a source that cannot be read says so, its bytes left out" {
	# Every address zero: what a reader without CAP_SYS_ADMIN sees (EACCES).
	fake_iomem "$D" "00000000-00000000 : Persistent Memory (legacy)"
	run --separate-stderr ctl stats --format=prometheus
	[ "$status" -eq 0 ]
	[ "$(sample 'flushtm_pmem_scan_ok{source="iomem"}')" = 0 ]
	! grep -q '^flushtm_pmem_covered_bytes{source="iomem"}' <<<"$output"
	[ "$(sample 'flushtm_pmem_scan_ok{source="nd"}')" = 1 ]
}

@test "stats --format: text, json, prometheus; anything else or two choices is a usage error" {
	run --separate-stderr ctl stats --format=json
	[ "$status" -eq 0 ]
	json=$output
	run --separate-stderr ctl --json stats
	[ "$output" = "$json" ]
	run --separate-stderr ctl stats --format text
	[ "$status" -eq 0 ]
	[[ $output == "HOOK"* ]]
	run --separate-stderr ctl stats --format=openmetrics
	[ "$status" -eq 2 ]
	[[ $stderr == "flushtmctl: stats: --format openmetrics: not one of text, json, prometheus" ]]
	run --separate-stderr ctl --json stats --format=prometheus
	[ "$status" -eq 2 ]
}

@test "promtool check metrics accepts the text (Prometheus's naming and format linter)" {
	command -v promtool > /dev/null || skip "promtool is not installed (Debian's prometheus package; make deps)"
	fake_iomem "$D" "20000000-2fffffff : Persistent Memory (legacy)"
	fake_range "$R" trace $((0x20000000)) $((64 << 20)) 1 admin
	fake_range "$R" 'odd "name"' $((0x24000000)) 4096 0 'x\y'
	echo 5 > "$R/hooks/panic/fired"
	ctl stats --format=prometheus > "$D/flushtm.prom"
	run promtool check metrics < "$D/flushtm.prom"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	R=$D/absent ctl stats --format=prometheus > "$D/absent.prom"
	run promtool check metrics < "$D/absent.prom"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "bash completion: stats offers --format, and --format its three values" {
	[ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	words() {
		bash -c '
			source /usr/share/bash-completion/bash_completion
			source "$1"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_flushtmctl flushtmctl "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
			printf "%s\n" "${COMPREPLY[@]}"
		' complete "$TOP/completion/flushtmctl" "$@"
	}
	run words flushtmctl stats --
	[ "$(echo $output)" = "--help --format" ]
	run words flushtmctl stats --format ""
	[ "$(echo $output)" = "text json prometheus" ]
	run words flushtmctl stats --format p
	[ "$(echo $output)" = "prometheus" ]
}
