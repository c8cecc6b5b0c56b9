#!/usr/bin/env bats
# `make demo` from a clean clone of the repository at HEAD: it must build
# everything itself, boot the guest, show the daemon's range in
# `flushtmctl status`, panic, and show the panic hook's flush report.

setup_file() {
	FTM_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export FTM_TOP FTM_DEMO_OUT=$BATS_FILE_TMPDIR/demo.out
	local clone=$BATS_FILE_TMPDIR/clone
	git clone -q --no-hardlinks "$FTM_TOP" "$clone"
	local rc=0
	make -C "$clone" demo > "$FTM_DEMO_OUT" 2>&1 || rc=$?
	echo "$rc" > "$BATS_FILE_TMPDIR/rc"
}

show() {
	echo "--- make demo said:"
	cat "$FTM_DEMO_OUT"
}

@test "make demo succeeds from a clean clone" {
	[ "$(cat "$BATS_FILE_TMPDIR/rc")" = 0 ] || { show; false; }
}

@test "make demo built the module, the CLI and the daemon in the clone" {
	grep -qE '^[0-9]+ kmod/flushtm.ko$' "$FTM_DEMO_OUT" || { show; false; }
	grep -qE '^[0-9]+ flushtmctl/flushtmctl$' "$FTM_DEMO_OUT"
	grep -qE '^[0-9]+ flushtmd/flushtmd$' "$FTM_DEMO_OUT"
}

@test "make demo shows flushtmctl status with the range flushtmd found" {
	grep -q '^\$ .*flushtmctl status' "$FTM_DEMO_OUT" || { show; false; }
	# The daemon's range over the legacy pmem, as status lists it.
	sed -n '/flushtmctl status/,/^== /p' "$FTM_DEMO_OUT" | grep -E 'd-(nd|iomem|dax)-' ||
		{ show; false; }
}

@test "make demo shows the panic and the flush report of the panic hook" {
	grep -q 'Kernel panic' "$FTM_DEMO_OUT" || { show; false; }
	grep -Eq '^flushtm: flush hook=panic ranges=[1-9][0-9]* bytes=[1-9][0-9]* method=(lines|cache) ns=[0-9]+ cpu=[0-9]+$' \
		"$FTM_DEMO_OUT" || { show; false; }
}
