#!/usr/bin/env bats
# flushtm.ko on an arm64 device-tree system: QEMU virt booted without UEFI,
# on its own device tree with a "pmem-region" node for the top 64 MiB of RAM
# (vm-run --dt-pmem), which of_pmem makes a libnvdimm region of.  /proc/iomem
# shows it as "reserved" (no-map memory), the pmem driver's namespace0.0
# under it: not "Persistent Memory".  flushtm accepts what the region holds,
# and still refuses reserved memory that no region claims.  Raw namespace
# only (no ZONE_DEVICE in Debian's arm64 kernel).
# vm: --smp 2 --dt-pmem 64M --timeout 600
# cost: 108

load helpers

setup_file() {
	ftm_arm64_pmem dt
	ftm_kmod_suite_setup
}
teardown_file() { ftm_unload; }
setup() { ftm_kmod_clean; }

@test "the pmem-region is reserved memory in /proc/iomem, its namespace under it" {
	parent=
	while IFS= read -r l; do
		case $l in
		([0-9a-f]*) parent=$l ;;
		(" "*" : namespace"*) break ;;
		esac
	done < /proc/iomem
	[[ $parent =~ ^([0-9a-f]+)-([0-9a-f]+)\ :\ reserved$ ]]
	[ "$((0x${BASH_REMATCH[1]}))" -le "$((PMEM_START))" ]
	[ "$((0x${BASH_REMATCH[2]} + 1))" -ge "$((PMEM_START + PMEM_SIZE))" ]
	[ -e /sys/bus/nd/devices/region0 ]
	[ "$(</sys/bus/nd/devices/region0/size)" = $PMEM_SIZE ]
}

@test "a range over the pmem-region is accepted and flushed whole" {
	ftm_range_make p $PMEM_START $PMEM_SIZE
	echo all > $CFS/flush
	log=$(ftm_klog_take)
	line=$(ftm_grep_o 'flushtm: flush hook=manual ' "$log")
	[ "$(ftm_nlines "$line")" = 1 ]
	[ "$(ftm_field bytes "$line")" = $PMEM_SIZE ]
}

@test "a range inside the region is accepted; one that runs past its end is refused" {
	ftm_range_make in $((PMEM_START + (16 << 20))) 16M
	mkdir $CFS/ranges/past
	echo $((PMEM_START + PMEM_SIZE - (4 << 20))) > $CFS/ranges/past/start
	echo 8M > $CFS/ranges/past/size
	ftm_klog_take > /dev/null
	[ "$(ftm_write $CFS/ranges/past/enabled '1\n')" = EINVAL ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: range past: .* is not RAM or persistent memory' "$log")" = 1 ]
	[ "$(<$CFS/ranges/past/enabled)" = 0 ]
	[ "$(<$CFS/ranges/in/enabled)" = 1 ]
}

@test "reserved memory outside the region (no-map, no pmem-region) is refused" {
	other=
	while IFS= read -r l; do
		# top level: not inside System RAM (vm-run --dt-pmem makes one below the pmem)
		[[ $l =~ ^([0-9a-f]+)-([0-9a-f]+)\ :\ reserved$ ]] || continue
		s=$((0x${BASH_REMATCH[1]})) e=$((0x${BASH_REMATCH[2]} + 1))
		# a whole page that is not the pmem-region
		[ $((s % 4096)) = 0 ] && [ $((e - s)) -ge 4096 ] || continue
		[ $s -ge $((PMEM_START + PMEM_SIZE)) ] || [ $e -le $((PMEM_START)) ] || continue
		other=$s
		break
	done < /proc/iomem
	[ -n "$other" ]
	mkdir $CFS/ranges/r
	echo $other > $CFS/ranges/r/start
	echo 4096 > $CFS/ranges/r/size
	ftm_klog_take > /dev/null
	[ "$(ftm_write $CFS/ranges/r/enabled '1\n')" = EINVAL ]
	log=$(ftm_klog_take)
	[ "$(ftm_grep_count 'flushtm: range r: .* is not RAM or persistent memory' "$log")" = 1 ]
}

@test "flushtmd's nd source: the pmem-region's raw namespace becomes a range of its own" {
	ftm_arm64_daemon_range nd d-nd-namespace0.0
}

@test "flushtmd's iomem source: the namespace under reserved memory becomes a range" {
	ftm_arm64_daemon_range iomem d-iomem-${PMEM_START#0x}
}
