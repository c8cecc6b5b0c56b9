# Helpers for the flushtmd suites that run in a guest (tests/guest/daemon-*.bats).
# Load after helpers:  load helpers; load ../../flushtmd/tests/daemon-helpers
# The daemon runs in the background with --foreground --verbose; its log,
# pid, exit status and sd_notify messages are files under $BATS_FILE_TMPDIR.

FTMD_DIR=${BATS_FILE_TMPDIR:-/tmp}/ftmd
FTMD_LOG=$FTMD_DIR/flushtmd.log
FTMD_PIDFILE=$FTMD_DIR/pid
FTMD_STATUS=$FTMD_DIR/status
FTMD_CONF=$FTMD_DIR/flushtm.conf
FTMD_NOTIFY=$FTMD_DIR/notify
FTMD_NOTIFY_SOCK=$FTMD_DIR/notify.sock

# Drivers for legacy pmem and ACPI NVDIMMs, configfs, flushtm.ko; waits for
# the namespaces the guest was booted with to be bound.
ftmd_guest_setup() {
	mkdir -p "$FTMD_DIR"
	modprobe -a nfit nd_e820 nd_pmem dax_pmem device_dax 2> /dev/null || true
	local i
	for i in $(seq 100); do
		[ "$(ndctl list -N 2> /dev/null | grep -c '"dev":"namespace')" -ge "${1:-1}" ] && break
		sleep 0.1
	done
	ftm_load
	printf '[flushtmd]\nsources = nd dax iomem\n' > "$FTMD_CONF"
	# sd_notify messages, one datagram after the other, into a file.
	socat -u "UNIX-RECV:$FTMD_NOTIFY_SOCK,unlink-early" "OPEN:$FTMD_NOTIFY,creat,append" 3>&- &
	echo $! > "$FTMD_DIR/socat.pid"
	for i in $(seq 50); do [ -S "$FTMD_NOTIFY_SOCK" ] && break; sleep 0.1; done
}

ftmd_write_conf() {
	cat > "$FTMD_CONF"
}

ftmd_pid() {
	cat "$FTMD_PIDFILE"
}

# Start the daemon; the log mark is set, so ftmd_log_* see this run only.
ftmd_start() {
	# One daemon at a time: a test that failed may have left one running.
	if [ -s "$FTMD_PIDFILE" ] && kill -TERM "$(ftmd_pid)" 2> /dev/null; then
		ftmd_until 10 ftmd_exited "$(ftmd_pid)" || kill -KILL "$(ftmd_pid)"
	fi
	rm -f "$FTMD_PIDFILE" "$FTMD_STATUS"
	: > "$FTMD_NOTIFY"
	ftmd_log_mark
	(
		NOTIFY_SOCKET=$FTMD_NOTIFY_SOCK "$FTMD" --foreground --verbose \
			--config "$FTMD_CONF" "$@" >> "$FTMD_LOG" 2>&1 &
		echo $! > "$FTMD_PIDFILE"
		wait $!
		echo $? > "$FTMD_STATUS"
	) 3>&- &
	local i
	for i in $(seq 50); do [ -s "$FTMD_PIDFILE" ] && return 0; sleep 0.1; done
	return 1
}

ftmd_stop_quietly() {
	[ -s "$FTMD_PIDFILE" ] && kill -TERM "$(ftmd_pid)" 2> /dev/null
	[ -s "$FTMD_DIR/socat.pid" ] && kill "$(cat "$FTMD_DIR/socat.pid")" 2> /dev/null
	return 0
}

# Poll CONDITION (a command) every 0.1 s for up to SECS of wall time.
ftmd_until() {
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	"$@" && return 0
	echo "timed out after ${secs}s waiting for: $*" >&2
	echo "--- flushtmd log:" >&2
	ftmd_log_new >&2
	return 1
}

ftmd_ready() { grep -q '^READY=1' "$FTMD_NOTIFY"; }
ftmd_wait_ready() { ftmd_until 30 ftmd_ready; }

ftmd_range_live() {
	local e
	read -r e 2> /dev/null < "$CFS/ranges/$1/enabled" && [ "$e" = 1 ]
}
ftmd_range_absent() { [ ! -d "$CFS/ranges/$1" ]; }
ftmd_wait_range() { ftmd_until "${2:-30}" ftmd_range_live "$1"; }
ftmd_wait_gone() { ftmd_until "${2:-30}" ftmd_range_absent "$1"; }

# NAME START SIZE: live, ours, with that content.
ftmd_assert_range() {
	local r=$CFS/ranges/$1 enabled owner start size
	[ -d "$r" ] || { echo "no range $1" >&2; return 1; }
	read -r enabled < "$r/enabled" && read -r owner < "$r/owner" &&
		read -r start < "$r/start" && read -r size < "$r/size" || return 1
	[ "$enabled" = 1 ] || { echo "$1 not enabled" >&2; return 1; }
	[ "$owner" = flushtmd ] || { echo "$1 owner $owner" >&2; return 1; }
	[ $((start)) -eq $(($2)) ] || { echo "$1 start $start != $2" >&2; return 1; }
	[ "$size" -eq $(($3)) ] || { echo "$1 size $size != $3" >&2; return 1; }
}

# "name start size enabled", one line per range of ours, sorted.  Read with
# the read builtin, no fork per attribute: under TCG a fork+exec of a binary
# read over 9p costs tens of ms (hundreds on a loaded host), and a suite calls
# this dozens of times over up to 100 ranges.  A range removed under the walk
# is skipped.
ftmd_our_ranges() {
	local r owner start size enabled
	for r in "$CFS"/ranges/*/; do
		{ read -r owner < "${r}owner" && [ "$owner" = flushtmd ] &&
			read -r start < "${r}start" && read -r size < "${r}size" &&
			read -r enabled < "${r}enabled"; } 2> /dev/null || continue
		r=${r%/}
		echo "${r##*/} $start $size $enabled"
	done | sort
}

# No temporary names left, no two ranges of one source with the same content.
ftmd_assert_unique() {
	local ours
	ours=$(ftmd_our_ranges)
	if grep -q '^[^ ]*:' <<< "$ours"; then
		echo "temporary names left: $ours" >&2
		return 1
	fi
	local dups
	dups=$(awk '{ split($1, p, "-"); print p[2], $2, $3 }' <<< "$ours" | sort | uniq -d)
	[ -z "$dups" ] || { echo "duplicates: $dups" >&2; return 1; }
}

ftmd_ns_start() {
	cat "/sys/bus/nd/devices/$1/resource"
}

ftmd_log_mark() {
	FTMD_LOG_LINES=$(cat "$FTMD_LOG" 2> /dev/null | wc -l)
}
ftmd_log_new() {
	tail -n +$((${FTMD_LOG_LINES:-0} + 1)) "$FTMD_LOG" 2> /dev/null
}
ftmd_log_has() { ftmd_log_new | grep -qF -- "$1"; }
ftmd_wait_log() { ftmd_until "${2:-30}" ftmd_log_has "$1"; }

# utime + stime of PID, in clock ticks.
ftmd_cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Times PID was switched out (it slept, or was preempted), voluntary and not.
ftmd_switches() {
	awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }' "/proc/$1/status"
}

ftmd_exited() { ! kill -0 "$1" 2> /dev/null && [ -s "$FTMD_STATUS" ]; }
ftmd_wait_exit() { ftmd_until 10 ftmd_exited "$1"; }
