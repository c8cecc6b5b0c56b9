# Helpers of the host suites (tests/host/*.bats, `load host-helpers`): their tests
# boot guests themselves through tests/vm/vm-run, each in a run directory of its
# own whose serial log is what most of them judge.

# host_setup_file [MAKE-DIR...]: TOP, VMRUN and QMP for the whole file; builds the
# given directories of the tree first, so a guest never runs a stale module.
host_setup_file() {
	export TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export VMRUN=$TOP/tests/vm/vm-run QMP=$TOP/tests/vm/qmp
	local d
	for d in "$@"; do
		make -s -C "$TOP/$d" > /dev/null || return 1
	done
}

# host_setup: vm-run's temporary directories under the test's own (so a test can
# tell whether vm-run cleaned up), and RUN / SERIAL for a run with --dir "$RUN".
host_setup() {
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	RUN=$BATS_TEST_TMPDIR/run
	SERIAL=$RUN/serial.log
	cd "$TOP"
}

# host_teardown: bats shows this only for a failed test, and then what the last
# `run` saw is the first thing one wants.  A vm-run left in the background by a
# failed test (BG_PID) ends with it; its trap kills QEMU.
host_teardown() {
	echo "last run: status=${status:-} output:"
	echo "${output:-}"
	# a shared boot's stderr (result) holds vm-run's reason for a 125
	[ -z "${stderr:-}" ] || { echo "stderr:"; echo "$stderr"; }
	stop_bg
	true
}

stop_bg() {
	if [ -n "${BG_PID:-}" ]; then
		kill "$BG_PID" 2> /dev/null
		wait "$BG_PID" 2> /dev/null
		BG_PID=
	fi
	true
}

# wait_file FILE SECS: wait on wall time for a file that a guest makes in its
# share; booting under TCG takes from 8 s to much more on a loaded host.
wait_file() {
	local end=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$end" ]; do
		[ -e "$1" ] && return 0
		sleep 0.2
	done
	[ -e "$1" ]
}
