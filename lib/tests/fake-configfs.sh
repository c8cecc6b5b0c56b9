# shellcheck shell=bash
# A directory shaped like /sys/kernel/config/flushtm (interface.md, version 1),
# for tests that run without the module.  Source it, then:
#   fake_tree DIR                                   the module's root, no ranges
#   fake_range DIR NAME START SIZE [ENABLED [OWNER]] a range with all its files
#                                                   (SIZE in decimal bytes, as the kernel reads back)
#   fake_sys DIR                                    empty fake /sys and /proc under DIR
#   fake_iomem DIR LINE...                          DIR/proc/iomem
#   fake_namespace DIR NAME START SIZE              an enabled nd namespace
#   fake_region DIR NAME DOMAIN                     an nd region's persistence_domain
# A real configfs makes a range's files on mkdir; a plain directory cannot,
# so fake_range makes them, and `range add` on a fake tree fails at "start".

FAKE_HOOKS="panic die nmi reboot kexec cpu_offline exit aperture manual"

fake_tree() {
	local d=$1 h
	mkdir -p "$d/ranges" "$d/hooks"
	echo 1 > "$d/version"
	echo auto > "$d/method"
	echo 33554432 > "$d/cache_threshold"
	echo 0 > "$d/generation"
	: > "$d/flush"
	for h in $FAKE_HOOKS; do
		mkdir -p "$d/hooks/$h"
		echo 1 > "$d/hooks/$h/available"
		echo 0 > "$d/hooks/$h/enabled"
		for f in fired flushed_bytes last_ns max_ns; do
			echo 0 > "$d/hooks/$h/$f"
		done
	done
	: > "$d/hooks/exit/pids"
}

fake_range() {
	local d=$1/ranges/$2
	mkdir -p "$d"
	echo "$3" > "$d/start"
	echo "$4" > "$d/size"
	echo "${5:-1}" > "$d/enabled"
	echo "${6:-admin}" > "$d/owner"
	echo 0 > "$d/priority"
	echo 0 > "$d/flushed_bytes"
}

fake_sys() {
	mkdir -p "$1/sys/bus/nd/devices" "$1/sys/kernel" "$1/sys/module/kernel/parameters" "$1/proc"
	echo 0 > "$1/sys/kernel/kexec_crash_loaded"
	echo N > "$1/sys/module/kernel/parameters/crash_kexec_post_notifiers"
	: > "$1/proc/iomem"
}

fake_iomem() {
	local d=$1
	shift
	printf '%s\n' "$@" > "$d/proc/iomem"
}

fake_namespace() {
	local d=$1/sys/bus/nd/devices/$2
	mkdir -p "$d/driver"
	printf '0x%x\n' "$3" > "$d/resource"
	echo $(($4)) > "$d/size"
}

fake_region() {
	local d=$1/sys/bus/nd/devices/$2
	mkdir -p "$d"
	echo "$3" > "$d/persistence_domain"
}
