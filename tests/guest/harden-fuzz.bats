#!/usr/bin/env bats
# flushtm.ko under a seeded configfs fuzzer (tests/fuzz/ftm-fuzz.c): thousands of
# mkdir/rmdir and writes of malformed and valid-looking values to every attribute.
# The fuzzer checks read-back and that no enabled range leaves memory; here we check
# that the kernel did not complain, the refusal lines were rate limited, and that
# everything the fuzzer left behind can be removed and the module unloaded.
# vm: --timeout 900
# cost: 70

load helpers

FUZZ=$FTM_TOP/tests/fuzz/ftm-fuzz

setup_file() {
	[ -x "$FUZZ" ] || make -s -C "$FTM_TOP/tests/fuzz"
}

setup() {
	ftm_load
	ftm_dmesg_clear
}

teardown() {
	ftm_unload || true
}

# fuzz SEED COUNT: run the fuzzer, then check the kernel log and the refusal lines.
fuzz() {
	local t0=$SECONDS refusals elapsed
	run "$FUZZ" "$1" "$2"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ftm-fuzz:\ seed\ $1:\ ops\ $2\ accepted\ ([0-9]+)\ refused ]]
	# a fuzzer that is refused everything, or nothing, is not fuzzing
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[1]}" -lt "$2" ]
	elapsed=$((SECONDS - t0))
	ftm_assert_no_kernel_complaints
	# refusals are logged at most 50 a second (ftm_log_rs), not one per bad write
	refusals=$(ftm_dmesg_new | grep 'flushtm: ' | grep -vc 'flushtm: flush hook=' || true)
	echo "refusal lines: $refusals in ${elapsed}s"
	[ "$refusals" -le $((50 * (elapsed + 2))) ]
	refused=$(grep -o 'refused.*broken' <<< "$output" | grep -oE '=[0-9]+' | tr -d = | paste -sd+)
	refused=$((refused))
	[ "$refusals" -lt "$refused" ]
}

# every range the fuzzer left can be removed, then the module unloads cleanly
clean_unload() {
	local r
	shopt -s dotglob	# the fuzzer makes names such as "..." and ". ."
	for r in "$CFS"/ranges/*/; do
		[ -d "$r" ] || continue
		rmdir "$r"
	done
	[ -z "$(ls -A "$CFS/ranges")" ]
	rmmod flushtm
	[ ! -e /sys/module/flushtm ]
	ftm_assert_no_kernel_complaints
}

@test "fuzz seed 1: 5000 operations, kernel quiet, everything removable" {
	fuzz 1 5000
	clean_unload
}

@test "fuzz seed 2: 5000 operations, kernel quiet, everything removable" {
	fuzz 2 5000
	clean_unload
}

@test "fuzz seed 3 with every hook armed and method cache: 3000 operations" {
	ftm_arm_all
	echo cache > "$CFS/method"
	fuzz 3 3000
	clean_unload
}
