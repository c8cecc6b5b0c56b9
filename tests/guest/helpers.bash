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
	ftm_no_complaints_in "$(ftm_dmesg_new)"
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


# Value of KEY= in a flush log line (of each line, given several), as
# sed -n 's/.* KEY=\([^ ]*\).*/\1/p' would print it, without starting sed.
ftm_field() {
	local line
	while IFS= read -r line; do
		[[ $line =~ .*\ $1=([^ ]*) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
	done <<<"$2"
	return 0
}

# Arm every available hook.
ftm_arm_all() {
	local h avail
	for h in "$CFS"/hooks/*/; do
		read -r avail < "$h/available"
		[ "$avail" = 1 ] && echo 1 > "$h/enabled"
	done
	return 0
}

# Cheaper than ftm_dmesg_mark on a slow guest: empty the kernel log ring
# buffer; ftm_dmesg_new then prints everything logged since.
ftm_dmesg_clear() {
	dmesg -C
	FTM_DMESG_LINES=0
}


# ftm_wait_comm PID COMM: wait until process PID runs COMM (its exec chain
# got there).  Spins on the read builtin: an exec takes milliseconds, a
# `sleep 0.1` nap per try costs a program start.  Fails when PID dies first.
ftm_wait_comm() {
	local comm
	until { read -r comm < "/proc/$1/comm" && [ "$comm" = "$2" ]; } 2>/dev/null; do
		kill -0 "$1" 2>/dev/null || {
			echo "process $1 died before it became $2" >&2
			return 1
		}
	done
}

# Start `sleep 300` in the background and wait until it has exec'd (an mm
# enrolled before exec is torn down by the exec itself); pid in FTM_SLEEPER.
ftm_sleeper() {
	sleep 300 &
	FTM_SLEEPER=$!
	ftm_wait_comm "$FTM_SLEEPER" sleep
}

# ---- the state a kmod-*.bats test starts from --------------------------
#
# Under TCG every program the guest starts (insmod, dmesg, cat, grep alike)
# costs from a tenth of a second to a second on a loaded host, far more than
# anything the module does; a fork without an exec costs a few milliseconds.
# So these helpers, and the kmod suites, read configfs with $(<FILE) and
# filter the kernel log in bash, and start only the programs a claim needs.
#
# A kmod suite says in one line which state its tests start from:
#   setup() { ftm_kmod_fresh; }   a module loaded just now (every counter 0)
#   setup() { ftm_kmod_clean; }   the loaded module back at its load defaults
#   setup() { ftm_kmod_absent; }  no module loaded
# with setup_file() { ftm_kmod_suite_setup; } and, where a module is left
# loaded, teardown_file() { ftm_unload; } (harden-cycles, whose tests load their
# own, only mounts configfs).

# setup_file of a kmod suite: configfs mounted, flushtm.ko loaded, and the
# values it came up with noted for ftm_kmod_clean.
ftm_kmod_suite_setup() {
	local f
	ftm_mount_configfs
	ftm_kmod_fresh
	FTM_KMOD_DEFAULTS=
	for f in "$CFS/method" "$CFS/cache_threshold" "$CFS"/hooks/*/enabled; do
		FTM_KMOD_DEFAULTS+="$f $(<"$f")"$'\n'
	done
	export FTM_KMOD_DEFAULTS	# bats passes setup_file's exports to the tests
}

# Remove every range with one rmdir (enabled ones are flushed, as usual).
ftm_kmod_rmdir_ranges() {
	local ranges=("$CFS"/ranges/*/)
	[ -d "${ranges[0]}" ] || return 0
	rmdir "${ranges[@]}"
}

# ftm_nr_cycles N DEBUG-N: how many load/unload cycles a cycling suite runs:
# DEBUG-N on the debug kernel (its checkers report at the first cycle that does
# wrong, and a cycle there costs ~10 times one on Debian's), else N.
ftm_nr_cycles() {
	case $(uname -r) in
	(*-ftmdebug) echo "$2" ;;
	(*) echo "$1" ;;
	esac
}

# No module loaded, the kernel log empty.
ftm_kmod_absent() {
	if [ -d /sys/module/flushtm ]; then
		ftm_kmod_rmdir_ranges
		rmmod flushtm
	fi
	ftm_dmesg_clear
}

# ftm_kmod_fresh [METHOD]: a module loaded just now (and its method set to
# METHOD): counters at 0, load defaults, a log rate limit not yet spent, the
# kernel log empty.  For tests whose claims count from 0 or are about what a
# load gives; it costs an rmmod and an insmod.
ftm_kmod_fresh() {
	ftm_kmod_absent
	insmod "$FTM_KO"
	[ -z "${1:-}" ] || echo "$1" > "$CFS/method"
	ftm_dmesg_clear
}

# The module loaded and back where ftm_kmod_suite_setup found it, through
# configfs: no ranges, no enrolled pids, method, cache_threshold and hooks as
# loaded; the kernel log empty.  Counters keep what earlier tests added and
# the log rate limit (ftm_log_rs: 50 lines a second) is not renewed.
ftm_kmod_clean() {
	local pid f v
	[ -n "${FTM_KMOD_DEFAULTS:-}" ] || { echo "ftm_kmod_suite_setup did not run" >&2; return 1; }
	# a test that unloaded it and failed before loading it again
	[ -d "$CFS" ] || insmod "$FTM_KO"
	ftm_kmod_rmdir_ranges
	for pid in $(<"$CFS/hooks/exit/pids"); do
		echo "-$pid" > "$CFS/hooks/exit/pids"
	done
	while read -r f v; do
		echo "$v" > "$f"
	done <<<"${FTM_KMOD_DEFAULTS%$'\n'}"
	ftm_dmesg_clear
}

# ftm_grep ERE TEXT: the lines of TEXT that match ERE, as grep -E would print
# them, without starting grep.
ftm_grep() {
	local line
	while IFS= read -r line; do
		[[ $line =~ $1 ]] && printf '%s\n' "$line"
	done <<<"$2"
	return 0
}

# ftm_grep_count ERE TEXT: how many lines of TEXT match ERE (grep -cE).
ftm_grep_count() {
	local line n=0
	while IFS= read -r line; do
		[[ $line =~ $1 ]] && n=$((n + 1))
	done <<<"$2"
	echo $n
}

# ftm_nlines TEXT: how many non-empty lines TEXT has (grep -c .).
ftm_nlines() {
	ftm_grep_count . "$1"
}

# ftm_grep_o STRING TEXT: each line of TEXT that holds STRING, from STRING
# on, as grep -o 'STRING.*' would print it.
ftm_grep_o() {
	local line
	while IFS= read -r line; do
		[[ $line == *"$1"* ]] && printf '%s\n' "$1${line#*"$1"}"
	done <<<"$2"
	return 0
}

# ftm_no_complaints_in TEXT: fail when TEXT (kernel log) holds a warning, an
# oops, a BUG or any other complaint of tests/vm/complaints (the patterns
# vm-run judges a serial log by, read once when this file is loaded);
# ftm_assert_no_kernel_complaints applies it to the log since the mark.
mapfile -t FTM_COMPLAINTS < "$FTM_TOP/tests/vm/complaints"
FTM_COMPLAINTS_ERE=$(IFS='|' && printf '%s' "${FTM_COMPLAINTS[*]}")
ftm_no_complaints_in() {
	local bad
	bad=$(ftm_grep "$FTM_COMPLAINTS_ERE" "$1")
	if [ -n "$bad" ]; then
		echo "kernel complained:" >&2
		echo "$bad" >&2
		return 1
	fi
}

# ftm_klog_take [DMESG-OPTION...]: print the kernel log and empty it (one
# dmesg -c), failing when it holds a warning, an oops or a BUG.  A suite that
# reads the log only this way sees, at each read, what was logged since the
# previous one (or since setup emptied it).
ftm_klog_take() {
	local log
	log=$(dmesg -c "$@") || return 1
	ftm_no_complaints_in "$log" || return 1
	printf '%s\n' "$log"
}

# ftm_modes_are MODE FILE...: every FILE has octal mode MODE (stat -c %a),
# with one stat for all of them; names the first that does not.
ftm_modes_are() {
	local want=$1 out mode name
	shift
	out=$(stat -c '%a %n' "$@") || return 1
	while read -r mode name; do
		if [ "$mode" != "$want" ]; then
			echo "$name: mode $mode, want $want" >&2
			return 1
		fi
	done <<<"$out"
}
