#!/bin/bash
# make demo: build flushtm, boot the Debian kernel in QEMU with emulated
# persistent memory (memmap=64M!512M), load the module, start flushtmd, show
# "flushtmctl status", panic the guest and show the kernel's flush report.
# Installs what it needs first (make deps) when a package is missing.
#   FTM_DEPS   the Debian packages the project needs (set by mk/demo.mk)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make=${MAKE:-make}

step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

step "1. Dependencies"
"$top/scripts/ensure-deps.sh" ${FTM_DEPS:-}
echo "the $(wc -w <<<"${FTM_DEPS:-}") packages of make deps are installed"

step "2. Build (make all)"
mkdir -p build
"$make" --no-print-directory -s all > build/demo-build.log 2>&1 ||
	{ tail -n 30 build/demo-build.log >&2; die "the build failed (log: build/demo-build.log)"; }
ls -l kmod/flushtm.ko flushtmctl/flushtmctl flushtmd/flushtmd | awk '{ print $5, $NF }'

step "3. Boot a guest (QEMU, no KVM: 10-30 s) with 64 MiB of legacy pmem at 0x20000000"
run=$(mktemp -d "${TMPDIR:-/tmp}/flushtm-demo.XXXXXX")
trap 'rm -rf "$run"' EXIT
log=$run/share/demo.log
# The guest writes its side of the story to the share; show it as it comes.
FTM_VM_QUIET=1 tests/vm/vm-run --dir "$run" --expect-down --timeout 600 \
	-- "$top/scripts/demo-guest.sh" &
vm=$!
while [ ! -e "$log" ] && kill -0 "$vm" 2> /dev/null; do
	sleep 0.5
done
tail -n +1 -F --pid="$vm" "$log" 2> /dev/null || true
rc=0
wait "$vm" || rc=$?
if [ "$rc" != 0 ]; then
	echo "--- last lines of the guest's serial console:" >&2
	tail -n 30 "$run/serial.log" >&2
	die "the guest run failed (vm-run exit $rc)"
fi

step "4. The guest panicked; its serial console shows the flush"
report=$(grep -aE 'flushtm: flush hook=panic' "$run/serial.log" | tr -d '\r' | sed 's/^\[[ 0-9.]*\] //')
grep -aE 'Kernel panic|sysrq: Trigger a crash' "$run/serial.log" | tr -d '\r' | sed 's/^\[[ 0-9.]*\] //' | head -n 2
[ -n "$report" ] || die "no 'flushtm: flush hook=panic' line in the serial log ($run/serial.log)"
echo "$report"
