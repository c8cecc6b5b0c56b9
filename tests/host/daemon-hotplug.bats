#!/usr/bin/env bats
# cost: 40
# flushtmd and an NVDIMM hot-added at run time through QMP: the guest runs the
# daemon (flushtmd/tests/guest-hotplug.sh), the host plugs the device.

load host-helpers

setup_file() {
	host_setup_file
}

@test "NVDIMM hot-added through QMP: the new namespace is covered" {
	local dir=$BATS_TEST_TMPDIR/vm
	mkdir -p "$dir"
	cd "$TOP"
	"$VMRUN" --dir "$dir" --qmp --nvdimm 128M --timeout 600 -- \
		flushtmd/tests/guest-hotplug.sh > "$BATS_TEST_TMPDIR/vm.out" 2>&1 3>&- &
	local vm=$!
	if ! wait_file "$dir/share/ready" 400; then
		kill $vm; wait $vm
		cat "$BATS_TEST_TMPDIR/vm.out" "$dir/share/result" >&2
		return 1
	fi
	run "$QMP" "$dir/qmp.sock" nvdimm-add hot1 128M
	echo "$output"
	[ "$status" -eq 0 ]
	touch "$dir/share/added"
	wait $vm
	local rc=$?
	cat "$dir/share/result"
	[ "$rc" -eq 0 ]
	grep -q '^before=2$' "$dir/share/result"
	grep -q '^after=3$' "$dir/share/result"
	grep -q '^matching=3$' "$dir/share/result"
	echo "# uevent to range live after hot-add: $(sed -n 's/^latency_ms=//p' "$dir/share/result") ms (TCG)" >&3
}
