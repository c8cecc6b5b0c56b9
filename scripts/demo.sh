#!/bin/bash
# make demo: build flushtm, boot the Debian kernel in QEMU with emulated
# persistent memory (memmap=64M!512M), load the module, start flushtmd, show
# "flushtmctl status", store numbered records on an ext4 -o dax file system
# there, panic the guest, show the kernel's flush report; then the same machine
# boots again (RAM kept) and shows "flushtmctl last" (the flush report read back
# from pstore) and the last record read back (scripts/demo-guest.sh).
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
"$make" --no-print-directory -s -C tests/progs ftm-records >> build/demo-build.log 2>&1 ||
	{ tail -n 30 build/demo-build.log >&2; die "building tests/progs/ftm-records failed"; }
ls -l kmod/flushtm.ko flushtmctl/flushtmctl flushtmd/flushtmd tests/progs/ftm-records |
	awk '{ print $5, $NF }'

step "3. Boot a guest twice (QEMU, no KVM: 30-90 s) with 64 MiB of legacy pmem at 0x20000000"
echo "and 1 MiB of RAM at 0x30000000 for ramoops (pstore), which keeps the kernel log across the reset"
run=$(mktemp -d "${TMPDIR:-/tmp}/flushtm-demo.XXXXXX")
trap 'rm -rf "$run"' EXIT
log=$run/share/demo.log
# The guest writes its side of the story to the share; show it as it comes.
ramoops='memmap=1M$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000'
ramoops+=' ramoops.record_size=0x40000 ramoops.max_reason=4'
FTM_VM_QUIET=1 tests/vm/vm-run --dir "$run" --boots 2 --append "$ramoops" --timeout 600 \
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

step "4. Boot 1 panicked; its serial console shows the flush"
boot1=$(sed -n '/^vm-guest: boot 1 of 2$/,/^vm-guest: boot 2 of 2$/p' "$run/serial.log" | tr -d '\r')
report=$(grep -aE 'flushtm: flush hook=panic' <<<"$boot1" | sed 's/^\[[ 0-9.]*\] //')
grep -aE 'Kernel panic|sysrq: Trigger a crash' <<<"$boot1" | sed 's/^\[[ 0-9.]*\] //' | head -n 2
[ -n "$report" ] || die "no 'flushtm: flush hook=panic' line in the serial log ($run/serial.log)"
echo "$report"

step "5. Boot 2 read it back"
stored=$(sed -n 's/^last record stored: //p' "$log")
read_back=$(sed -n 's/^last record read back: //p' "$log")
grep '^flush      hook=' "$log" | sed 's/^flush  */flushtmctl last: /' ||
	die "flushtmctl last on boot 2 showed no flush (see above)"
echo "records: $stored stored in boot 1 (never flushed by the program), the last one read back in boot 2: ${read_back:-none}"
[ -n "$stored" ] && [ "$stored" = "$read_back" ] || die "the last record was not read back"
echo "(A VM has no cache to lose: this shows the pipeline, not durability; see README.md.)"
