# Common set-up of the arm64 guest suites (tests/arm64/*.bats with a "# vm:"
# line, run by tests/run-checks --arm64 in an arm64 guest: vm-run --arch arm64).
# The x86 guest helpers, then the pmem of this guest in PMEM_START/PMEM_SIZE:
# arm64 has no memmap= legacy pmem, so it is the ACPI NVDIMM (UEFI machine,
# nfit) or the device tree's pmem-region (vm-run --dt-pmem, of_pmem), found in
# /proc/iomem once its driver is loaded.
load ../guest/helpers

FTM_ARCH_INFO=$FTM_TOP/tests/arm64/progs/ftm-arch-info
# The engine's unit test built for arm64 (bench/Makefile, ARCH=arm64).
FTM_ENGINE_TEST=$FTM_TOP/bench/test/engine-test
FTM_OOPS_KO=$FTM_TOP/tests/arm64/modules/ftm_oops.ko
# The hooks of arm64, in the module's order: no nmi.
ARM64_HOOKS="panic die reboot kexec cpu_offline exit aperture manual"

# ftm_arm64_pmem acpi|dt: load the pmem drivers and set PMEM_START and
# PMEM_SIZE from the first "Persistent Memory" (ACPI) or the namespace under
# "reserved" (device tree) in /proc/iomem.
ftm_arm64_pmem() {
	local line range end
	if [ "$1" = dt ]; then
		modprobe of_pmem
	else
		modprobe nfit
	fi
	modprobe nd_pmem
	# the region's devices are probed asynchronously: wait (30 s) for its line
	local until=$((SECONDS + 30))
	range=
	while [ -z "$range" ] && [ $SECONDS -lt $until ]; do
		while IFS= read -r line; do
			case $1:$line in
			(acpi:[0-9a-f]*" : Persistent Memory") range=${line%% *} ;;
			(dt:" "*" : namespace"*) range=${line#"${line%%[! ]*}"}; range=${range%% *} ;;
			(*) continue ;;
			esac
			break
		done < /proc/iomem
	done
	[ -n "$range" ] || { echo "no $1 persistent memory in /proc/iomem" >&2; return 1; }
	end=$((0x${range#*-} + 1))
	PMEM_START=$(printf '0x%x' $((0x${range%-*})))
	PMEM_SIZE=$((end - PMEM_START))
	# bats sources the suite, and so the helpers, again for each test
	export FTM_ARM64_PMEM="$PMEM_START $PMEM_SIZE"
}
[ -z "${FTM_ARM64_PMEM:-}" ] || read -r PMEM_START PMEM_SIZE <<<"$FTM_ARM64_PMEM"

# ftm_arm64_daemon_range SOURCES NAME: flushtmd (sources SOURCES, one pass
# then waiting) makes range NAME over PMEM_START/PMEM_SIZE, owned by it;
# the daemon is stopped after.  Waits 60 s for the range, re-reading it.
ftm_arm64_daemon_range() {
	local conf=$BATS_TEST_TMPDIR/flushtm.conf log=$BATS_TEST_TMPDIR/flushtmd.log
	local pid r=$CFS/ranges/$2 until=$((SECONDS + 60)) e= start= size= owner=
	printf '[flushtmd]\nsources = %s\n' "$1" > "$conf"
	"$FTMD" --foreground --verbose --config "$conf" > "$log" 2>&1 &
	pid=$!
	while [ $SECONDS -lt $until ]; do
		{ read -r e < "$r/enabled" && [ "$e" = 1 ]; } 2> /dev/null && break
		kill -0 $pid 2> /dev/null || break
		sleep 0.2
	done
	read -r start < "$r/start" && read -r size < "$r/size" && read -r owner < "$r/owner"
	kill -TERM $pid
	wait $pid
	cat "$log"
	[ "$e" = 1 ] && [ "$owner" = flushtmd ] &&
		[ $((start)) = $((PMEM_START)) ] && [ "$size" = $PMEM_SIZE ]
}
