#!/usr/bin/env bats
# flushtmctl, built for arm64, against the real module in an arm64 guest
# (Debian's 6.1 arm64 kernel, QEMU virt with UEFI and an ACPI NVDIMM): what
# the admin sees on this architecture.  The hooks without nmi, method cache
# refused in words, the NVDIMM's raw namespace covered or a gap for check,
# ranges made, ordered, flushed and removed, the metrics, a config applied.
# The x86 guest suites (tests/guest/ctl-*.bats) cover the commands in depth;
# this one proves the arm64 build and the arm64 module answer them alike.
# A VM has no cache to lose: these prove which bytes are flushed when, not
# durability.
# vm: --smp 2 --timeout 900
# cost: 90

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	ftm_arm64_pmem acpi
	ftm_kmod_suite_setup
}
teardown_file() { ftm_unload; }
setup() {
	ftm_kmod_clean
	CTL=$FTMCTL
}

@test "status --json: loaded, nine hooks, nmi not available; enable all arms the others" {
	run "$CTL" --json status
	[ "$status" -eq 0 ]
	[ "$(jq -r .loaded <<<"$output")" = true ]
	[ "$(jq -r '.hooks | length' <<<"$output")" = 9 ]
	[ "$(jq -r '.hooks[] | select(.name == "nmi") | .available' <<<"$output")" = false ]
	run "$CTL" enable all
	[ "$status" -eq 0 ]
	for h in $ARM64_HOOKS; do
		[ "$(<$CFS/hooks/$h/enabled)" = 1 ] || { echo "$h not armed" >&2; return 1; }
	done
	[ "$(<$CFS/hooks/nmi/enabled)" = 0 ]
	run "$CTL" enable nmi
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: enable: nmi: not available on this kernel" ]
	run "$CTL" disable all
	[ "$status" -eq 0 ]
	[ "$(<$CFS/hooks/panic/enabled)" = 0 ]
}

@test "set method cache is refused in words; lines and auto are set" {
	run "$CTL" set method cache
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: set method: cache: not available on this machine (no safe whole-cache write back: arm64, or an encrypted guest); lines and auto are" ]
	[ "$(<$CFS/method)" = auto ]
	run "$CTL" set method lines
	[ "$status" -eq 0 ]
	[ "$(<$CFS/method)" = lines ]
	run "$CTL" set method auto
	[ "$status" -eq 0 ]
}

@test "check: the NVDIMM uncovered is a gap (exit 1); covered by a range, no gap of coverage" {
	run "$CTL" check
	[ "$status" -eq 1 ]
	[[ $output == *"gap: "*"$(printf '%x' $((PMEM_START)))"*"is not covered"* ]]
	run "$CTL" --json check
	[ "$(jq -r '[.gaps[] | select(.kind == "uncovered")] | length' <<<"$output")" -ge 1 ]
	run "$CTL" range add nv "$PMEM_START" "$PMEM_SIZE"
	[ "$status" -eq 0 ]
	run "$CTL" --json check
	[ "$(jq -r '[.gaps[] | select(.kind == "uncovered")] | length' <<<"$output")" = 0 ]
	[ "$(jq -r '[.gaps[] | select(.kind == "unreadable")] | length' <<<"$output")" = 0 ]
}

@test "range add, priority, list, flush NAME, del: the module's set in the new order, one flush line" {
	run "$CTL" range add low "$PMEM_START" 4M
	[ "$status" -eq 0 ]
	run "$CTL" range add high $((PMEM_START + (8 << 20))) 4M
	[ "$status" -eq 0 ]
	run "$CTL" range priority high 7
	[ "$status" -eq 0 ]
	[ "$(<$CFS/ranges/high/priority)" = 7 ]
	[ "$(head -1 /sys/kernel/debug/flushtm/set)" = "$(printf '0x%x' $((PMEM_START + (8 << 20)))) $((4 << 20))" ]
	run "$CTL" --json range list
	[ "$(jq -r 'map("\(.name)=\(.priority)") | join(" ")' <<<"$output")" = "high=7 low=0" ]
	ftm_dmesg_clear
	run "$CTL" flush low
	[ "$status" -eq 0 ]
	line=$(ftm_grep_o 'flushtm: flush hook=manual ' "$(ftm_klog_take)")
	[ "$(ftm_field bytes "$line")" = $((4 << 20)) ]
	[ "$(ftm_field method "$line")" = lines ]
	run "$CTL" range del low
	[ "$status" -eq 0 ]
	[ ! -d "$CFS/ranges/low" ]
	run "$CTL" range del low
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range del: low: no such range" ]
}

@test "stats --format=prometheus: the manual flush counted, arm64's hooks labelled" {
	ftm_kmod_fresh
	"$CTL" range add p "$PMEM_START" 1M
	"$CTL" flush
	run "$CTL" stats --format=prometheus
	[ "$status" -eq 0 ]
	grep -qx 'flushtm_hook_fired_total{hook="manual"} 1' <<<"$output"
	grep -qx 'flushtm_hook_available{hook="nmi"} 0' <<<"$output"
	grep -qx 'flushtm_range_flushed_bytes_total{range="p",owner="admin"} 1048576' <<<"$output"
}

@test "apply: ranges with a priority, then nothing to change" {
	mkdir -p "$BATS_TEST_TMPDIR/etc"
	cat > "$BATS_TEST_TMPDIR/etc/flushtm.conf" <<-EOC
	[flushtm]
	method = lines
	hooks = panic die reboot kexec

	[range trace]
	start = $PMEM_START
	size = 2M
	priority = 20
	EOC
	run "$CTL" apply "$BATS_TEST_TMPDIR/etc/flushtm.conf"
	[ "$status" -eq 0 ]
	[ "$(<$CFS/ranges/trace/owner)" = config ]
	[ "$(<$CFS/ranges/trace/priority)" = 20 ]
	[ "$(<$CFS/method)" = lines ]
	[ "$(<$CFS/hooks/kexec/enabled)" = 1 ]
	run "$CTL" apply "$BATS_TEST_TMPDIR/etc/flushtm.conf"
	[ "$status" -eq 0 ]
	[ "$output" = "nothing to change" ]
}

# until SECS CMD...: CMD, re-run every 0.2 s (it re-reads what it tests), true within SECS.
until_true() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}
live() { local e; read -r e 2> /dev/null < "$CFS/ranges/$1/enabled" && [ "$e" = 1 ]; }
gone() { [ ! -d "$CFS/ranges/$1" ]; }

@test "flushtmd follows the NVDIMM's raw namespace: disabled, iomem covers it first; enabled, nd again; SIGTERM leaves them" {
	local conf=$BATS_TEST_TMPDIR/flushtm.conf log=$BATS_TEST_TMPDIR/flushtmd.log pid iomem
	iomem=d-iomem-$(printf '%x' $((PMEM_START)))
	printf '[flushtmd]\nsources = nd iomem\n' > "$conf"
	"$FTMD" --foreground --verbose --config "$conf" > "$log" 2>&1 &
	pid=$!
	until_true 60 live d-nd-namespace0.0 || { cat "$log"; false; }
	[ "$(<$CFS/ranges/d-nd-namespace0.0/owner)" = flushtmd ]
	gone "$iomem"
	ndctl disable-namespace namespace0.0
	until_true 60 gone d-nd-namespace0.0 || { cat "$log"; false; }
	live "$iomem"
	[ $(($(<$CFS/ranges/$iomem/start))) = $((PMEM_START)) ]
	# made before broken: the iomem range was added before the nd one went
	[ "$(grep -oE '(added|removed) d-[a-z]+-[^ ]*' "$log" | tail -2 | paste -sd,)" = \
		"added $iomem,removed d-nd-namespace0.0" ]
	ndctl enable-namespace namespace0.0
	until_true 60 live d-nd-namespace0.0 || { cat "$log"; false; }
	until_true 60 gone "$iomem" || { cat "$log"; false; }
	kill -TERM $pid
	wait $pid
	live d-nd-namespace0.0
}
