# Common set-up for the bats suites that run inside a guest (tests/guest/).
# Source it from a suite:  load helpers
# Each guest suite runs in a freshly booted guest (tests/run-checks); a line
#   # vm: OPTIONS
# near the top of the suite passes OPTIONS to tests/vm/vm-run.

FTM_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
FTM_KO=$FTM_TOP/kmod/flushtm.ko
CFS=/sys/kernel/config/flushtm
FTMCTL=$FTM_TOP/flushtmctl/flushtmctl
FTMD=$FTM_TOP/flushtmd/flushtmd
# The legacy pmem range that the default guest has (memmap=64M!512M).
PMEM_START=0x20000000
PMEM_SIZE=$((64 << 20))

ftm_mount_configfs() {
	grep -qs ' /sys/kernel/config configfs ' /proc/mounts && return 0
	modprobe configfs 2>/dev/null || true
	mount -t configfs none /sys/kernel/config
}

# Load flushtm.ko from the tree (not from /lib/modules) unless it is loaded.
ftm_load() {
	ftm_mount_configfs
	[ -d "$CFS" ] && return 0
	insmod "$FTM_KO" "$@"
}

# Remove every range (the kernel flushes enabled ones), then the module.
ftm_unload() {
	[ -d /sys/module/flushtm ] || return 0
	local r
	for r in "$CFS"/ranges/*/; do
		[ -d "$r" ] || continue
		rmdir "$r"
	done
	rmmod flushtm
}

# Remember where the kernel log is now; ftm_dmesg_new prints what came after.
ftm_dmesg_mark() {
	FTM_DMESG_LINES=$(dmesg | wc -l)
}
ftm_dmesg_new() {
	dmesg | tail -n +$((${FTM_DMESG_LINES:-0} + 1))
}

# Make an enabled range NAME START SIZE through configfs directly.
ftm_range_make() {
	mkdir "$CFS/ranges/$1" &&
	echo "$2" > "$CFS/ranges/$1/start" &&
	echo "$3" > "$CFS/ranges/$1/size" &&
	echo 1 > "$CFS/ranges/$1/enabled"
}

# Fail the test when the kernel logged a warning, an oops or a BUG since the mark.
ftm_assert_no_kernel_complaints() {
	local bad
	bad=$(ftm_dmesg_new | grep -E 'WARNING:|BUG:|Oops|general protection|kmemleak|UBSAN|KASAN' || true)
	if [ -n "$bad" ]; then
		echo "kernel complained:" >&2
		echo "$bad" >&2
		return 1
	fi
}

# ---- added for the kmod-*.bats suites ----------------------------------

# Write printf FORMAT (escapes such as \n and \0 interpreted) to FILE in one
# write(2).  Prints nothing on success; on failure prints the errno name
# (EINVAL, EBUSY, ...) and returns 1.
ftm_write() {
	local err
	err=$( { printf -- "$2" > "$1"; } 2>&1 ) && return 0
	case $err in
	(*"Invalid argument"*) echo EINVAL ;;
	(*"Device or resource busy"*) echo EBUSY ;;
	(*"Numerical result out of range"*) echo ERANGE ;;
	(*"Operation not supported"*) echo EOPNOTSUPP ;;
	(*"Operation not permitted"*) echo EPERM ;;
	(*"No such file or directory"*) echo ENOENT ;;
	(*"No such process"*) echo ESRCH ;;
	(*"File exists"*) echo EEXIST ;;
	(*"Permission denied"*) echo EACCES ;;
	(*) echo "$err" ;;
	esac
	return 1
}

# The `flushtm: flush hook=HOOK ...` lines logged since ftm_dmesg_mark.
ftm_flush_lines() {
	ftm_dmesg_new | grep -o "flushtm: flush hook=$1 .*" || true
}

# Value of KEY= in a flush log line.
ftm_field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

# Arm every available hook.
ftm_arm_all() {
	local h
	for h in "$CFS"/hooks/*/; do
		[ "$(cat "$h/available")" = 1 ] && echo 1 > "$h/enabled"
	done
	return 0
}

# Cheaper than ftm_dmesg_mark on a slow guest: empty the kernel log ring
# buffer; ftm_dmesg_new then prints everything logged since.
ftm_dmesg_clear() {
	dmesg -C
	FTM_DMESG_LINES=0
}

# Back to a freshly loaded state without reloading: no ranges, no
# enrolments, method auto, hooks at their load defaults.
ftm_reset() {
	local r h p
	for r in "$CFS"/ranges/*/; do
		[ -d "$r" ] && rmdir "$r"
	done
	for p in $(cat "$CFS/hooks/exit/pids"); do
		echo "-$p" > "$CFS/hooks/exit/pids"
	done
	echo auto > "$CFS/method"
	for h in panic die nmi reboot kexec cpu_offline exit; do
		echo 0 > "$CFS/hooks/$h/enabled"
	done
	echo 1 > "$CFS/hooks/manual/enabled"
	echo 1 > "$CFS/hooks/aperture/enabled"
}

# Start `sleep 300` in the background and wait until it has exec'd (an mm
# enrolled before exec is torn down by the exec itself); pid in FTM_SLEEPER.
ftm_sleeper() {
	sleep 300 &
	FTM_SLEEPER=$!
	until [ "$(cat /proc/$FTM_SLEEPER/comm 2>/dev/null)" = sleep ]; do
		sleep 0.1
	done
}
