#!/usr/bin/env bats
# flushtm.ko: every class of bad input is refused with its errno, changes
# nothing (read back), and logs exactly one `flushtm:` line saying why.
# vm: --smp 2 --timeout 1500
# cost: 208

load helpers

setup_file() { ftm_kmod_suite_setup; }
teardown_file() { ftm_unload; }
setup() { ftm_kmod_clean; }

# refused ERRNO FILE FORMAT [REASON-REGEX]
# The log is read with ftm_klog_take only: the one flushtm line wanted is the
# only one logged since setup or the previous read, so a stray line fails too.
refused() {
	local want=$1 file=$2 value=$3 why=${4:-} before after log lines
	case $file in (*/flush) before= ;; (*) before=$(<"$file") ;; esac	# flush is write-only
	if out=$(ftm_write "$file" "$value"); then
		echo "write of '$value' to $file was accepted" >&2
		return 1
	fi
	if [ "$out" != "$want" ]; then
		echo "write of '$value' to $file: got $out, want $want" >&2
		return 1
	fi
	case $file in (*/flush) after= ;; (*) after=$(<"$file") ;; esac
	if [ "$before" != "$after" ]; then
		echo "$file changed from '$before' to '$after'" >&2
		return 1
	fi
	log=$(ftm_klog_take) || return 1
	lines=$(ftm_grep 'flushtm: ' "$log")
	if [ "$(ftm_nlines "$lines")" != 1 ]; then
		echo "want one flushtm line for '$value' to $file, got: '$lines'" >&2
		return 1
	fi
	if [ -n "$why" ] && ! [[ $lines =~ $why ]]; then
		echo "log line '$lines' does not match '$why'" >&2
		return 1
	fi
}

printf -v LONG '%4000s' ''
LONG=${LONG// /1}

@test "start and size: garbage, empty, signs, spaces, NUL, suffix junk, 4000 chars" {
	mkdir $CFS/ranges/r
	echo 0x20000000 > $CFS/ranges/r/start
	echo 4096 > $CFS/ranges/r/size
	for v in zz '\n' -1 +1 ' 1' '1 ' '1\0002' 0x 0x1g 1K 12abc '0x20000000\n\n' "$LONG"; do
		refused EINVAL $CFS/ranges/r/start "$v" 'range r: start'
	done
	for v in zz '\n' -4096 +4096 K 1k 1T 1KB '4\0000' "$LONG"; do
		refused EINVAL $CFS/ranges/r/size "$v" 'range r: size'
	done
	[ "$(<$CFS/ranges/r/start)" = 0x20000000 ]
	[ "$(<$CFS/ranges/r/size)" = 4096 ]
	ftm_assert_no_kernel_complaints
}

@test "start and size: 0x is hex, a leading 0 is decimal (not octal)" {
	mkdir $CFS/ranges/r
	ftm_write $CFS/ranges/r/size '010\n'
	[ "$(<$CFS/ranges/r/size)" = 10 ]
	ftm_write $CFS/ranges/r/size 0x10
	[ "$(<$CFS/ranges/r/size)" = 16 ]
	ftm_write $CFS/ranges/r/size 0010K
	[ "$(<$CFS/ranges/r/size)" = 10240 ]
	ftm_write $CFS/ranges/r/start 0536870912
	[ "$(<$CFS/ranges/r/start)" = 0x20000000 ]
	ftm_write $CFS/cache_threshold 0100M
	[ "$(<$CFS/cache_threshold)" = $((100 << 20)) ]
	for v in 08 09 0777; do
		ftm_write $CFS/ranges/r/size "$v"
		[ "$(<$CFS/ranges/r/size)" = $((10#$v)) ]
	done
}

@test "start and size: numbers beyond 64 bits are ERANGE" {
	mkdir $CFS/ranges/r
	refused ERANGE $CFS/ranges/r/start 0x10000000000000000 'too large'
	refused ERANGE $CFS/ranges/r/start 18446744073709551616 'too large'
	refused ERANGE $CFS/ranges/r/size 99999999999999999999 'too large'
	refused ERANGE $CFS/ranges/r/size 17179869184G 'too large'
	[ "$(<$CFS/ranges/r/start)" = 0x0 ]
	[ "$(<$CFS/ranges/r/size)" = 0 ]
}

@test "enable: size 0 is refused" {
	mkdir $CFS/ranges/r
	echo $PMEM_START > $CFS/ranges/r/start
	refused EINVAL $CFS/ranges/r/enabled 1 'range r: size is 0'
	[ "$(<$CFS/ranges/r/enabled)" = 0 ]
}

@test "enable: unaligned start or size is refused" {
	mkdir $CFS/ranges/r
	echo 0x20000800 > $CFS/ranges/r/start
	echo 8K > $CFS/ranges/r/size
	refused EINVAL $CFS/ranges/r/enabled 1 'not page aligned'
	echo 0x20000000 > $CFS/ranges/r/start
	echo 6000 > $CFS/ranges/r/size
	refused EINVAL $CFS/ranges/r/enabled 1 'not page aligned'
	[ "$(<$CFS/ranges/r/enabled)" = 0 ]
}

@test "enable: wrap-around is refused" {
	mkdir $CFS/ranges/r
	echo 0xfffffffffffff000 > $CFS/ranges/r/start
	echo 8K > $CFS/ranges/r/size
	refused EINVAL $CFS/ranges/r/enabled 1 'wraps around'
	echo 0x2000 > $CFS/ranges/r/start
	echo 0xfffffffffffff000 > $CFS/ranges/r/size
	refused EINVAL $CFS/ranges/r/enabled 1 'wraps around'
}

@test "enable: MMIO (IOAPIC, PCI) is refused" {
	mkdir $CFS/ranges/r
	echo 0xfec00000 > $CFS/ranges/r/start
	echo 4K > $CFS/ranges/r/size
	refused EINVAL $CFS/ranges/r/enabled 1 'not RAM or persistent memory'
	# the first PCI bus window in the resource tree
	pci=$(iomem_top 'PCI Bus.*')
	pci=${pci##*$'\n'}
	pci=${pci%% *}
	[ -n "$pci" ]
	echo 0x$pci > $CFS/ranges/r/start
	refused EINVAL $CFS/ranges/r/enabled 1 'not RAM or persistent memory'
	[ "$(<$CFS/ranges/r/enabled)" = 0 ]
}

# iomem_top NAME-ERE: "START END" (hex, no 0x) of each top-level /proc/iomem
# entry whose name matches, in order (read in bash: no sed per lookup).
iomem_top() {
	local l
	while IFS= read -r l; do
		[[ $l =~ ^([0-9a-f]+)-([0-9a-f]+)\ :\ $1$ ]] &&
			echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
	done </proc/iomem
	return 0
}

# A page-aligned hole: a gap between two top-level /proc/iomem entries.
iomem_hole() {
	local prev_end=-1 s e
	while read -r s e; do
		s=$((16#$s)); e=$((16#$e))
		hs=$(( (prev_end + 1 + 4095) / 4096 * 4096 ))
		if [ $prev_end -ge 0 ] && [ $((hs + 4096)) -le $s ]; then
			printf '0x%x\n' $hs
			return 0
		fi
		[ $e -gt $prev_end ] && prev_end=$e
	done < <(iomem_top '.*')
	return 1
}

@test "enable: a hole, and RAM running into a hole or into pmem, are refused" {
	mkdir $CFS/ranges/r
	hole=$(iomem_hole)
	echo $hole > $CFS/ranges/r/start
	echo 4K > $CFS/ranges/r/size
	refused EINVAL $CFS/ranges/r/enabled 1 'not RAM or persistent memory'
	# far above any resource
	echo 0x4000000000000 > $CFS/ranges/r/start
	refused EINVAL $CFS/ranges/r/enabled 1 'not RAM or persistent memory'
	# the last page of RAM below the pmem plus the first page of pmem
	echo $((PMEM_START - 4096)) > $CFS/ranges/r/start
	echo 8K > $CFS/ranges/r/size
	refused EINVAL $CFS/ranges/r/enabled 1 'not RAM or persistent memory'
	# RAM followed by the hole: the last System RAM page below 4G plus one
	ram=($(iomem_top 'System RAM'))	# START END START END...
	last=${ram[3]:-${ram[1]}}	# the end of the second one, or of the only one
	echo $(( (16#$last + 1) - 4096 )) > $CFS/ranges/r/start
	refused EINVAL $CFS/ranges/r/enabled 1 'not RAM or persistent memory'
	[ "$(<$CFS/ranges/r/enabled)" = 0 ]
	left=($CFS/ranges/*)
	[ "${left[*]##*/}" = r ]
}

@test "enable: RAM and persistent memory are accepted" {
	ftm_range_make pm $PMEM_START $PMEM_SIZE
	ftm_range_make ram 0x1000000 16M
	[ "$(<$CFS/ranges/pm/enabled)" = 1 ]
	[ "$(<$CFS/ranges/ram/enabled)" = 1 ]
	ftm_assert_no_kernel_complaints
}

@test "start and size are EBUSY while enabled, and unchanged" {
	ftm_range_make pm $PMEM_START $PMEM_SIZE
	refused EBUSY $CFS/ranges/pm/start 0x21000000 'start cannot change while enabled'
	refused EBUSY $CFS/ranges/pm/size 4K 'size cannot change while enabled'
	[ "$(<$CFS/ranges/pm/start)" = 0x20000000 ]
	[ "$(<$CFS/ranges/pm/size)" = $PMEM_SIZE ]
	echo 0 > $CFS/ranges/pm/enabled
	ftm_write $CFS/ranges/pm/size 4K
	[ "$(<$CFS/ranges/pm/size)" = 4096 ]
}

@test "enabled attributes take only 0 or 1" {
	mkdir $CFS/ranges/r
	for v in 2 yes on y '\n' -1 ' 1' '1 ' 01 '1\0'; do
		refused EINVAL $CFS/ranges/r/enabled "$v" 'enabled must be 0 or 1'
		refused EINVAL $CFS/hooks/panic/enabled "$v" 'hook panic: enabled must be 0 or 1'
	done
	[ "$(<$CFS/hooks/panic/enabled)" = 0 ]
}

@test "method and cache_threshold refuse junk" {
	for v in fast '\n' LINES 'lines\0' ' auto' 'auto auto' "$LONG"; do
		refused EINVAL $CFS/method "$v" 'method: not auto, lines or cache'
	done
	for v in -1 +5 abc '\n' 1T 1k "$LONG"; do
		refused EINVAL $CFS/cache_threshold "$v" 'cache_threshold'
	done
	refused ERANGE $CFS/cache_threshold 99999999999999999999 'too large'
	refused ERANGE $CFS/cache_threshold 99999999999G 'too large'
	[ "$(<$CFS/method)" = auto ]
}

@test "flush refuses empty, unknown and disabled ranges" {
	fired=$(<$CFS/hooks/manual/fired)	# refused flushes add nothing to it
	mkdir $CFS/ranges/off
	refused EINVAL $CFS/flush '\n' 'flush: expected all or a range name'
	refused ENOENT $CFS/flush nosuch 'flush: no range nosuch'
	refused EINVAL $CFS/flush off 'range off is not enabled'
	[ "$(<$CFS/hooks/manual/fired)" = "$fired" ]
	echo 0 > $CFS/hooks/manual/enabled
	refused EPERM $CFS/flush all 'hook manual is disabled'
	[ "$(<$CFS/hooks/manual/fired)" = "$fired" ]
}

@test "owner refuses empty, too long, control characters and NUL" {
	mkdir $CFS/ranges/r
	echo admin > $CFS/ranges/r/owner
	printf -v o65 '%65s' ''
	o65=${o65// /x}
	for v in '\n' "$o65" 'a\001b' 'a\0b' 'tab\there' 'caf\303\251'; do
		refused EINVAL $CFS/ranges/r/owner "$v" 'owner must be'
	done
	[ "$(<$CFS/ranges/r/owner)" = admin ]
}

@test "exit pids: junk, zero, huge, absent, kernel threads, twice, not enrolled" {
	for v in abc '\n' 0 -0 +5 99999999 '1 2' "$LONG"; do
		refused EINVAL $CFS/hooks/exit/pids "$v" 'pids takes PID or -PID'
	done
	refused ESRCH $CFS/hooks/exit/pids 4194303 'no process 4194303'
	refused ESRCH $CFS/hooks/exit/pids -4194303 'not enrolled'
	refused EINVAL $CFS/hooks/exit/pids 2 'has no address space'
	ftm_sleeper
	pid=$FTM_SLEEPER
	ftm_write $CFS/hooks/exit/pids $pid
	refused EEXIST $CFS/hooks/exit/pids $pid 'already enrolled'
	ftm_write $CFS/hooks/exit/pids -$pid
	[ -z "$(<$CFS/hooks/exit/pids)" ]
	kill $pid
}

@test "hostile range names are kept, logged escaped, and removable" {
	printf -v n200 '%200s' ''
	names=($'nl\nname' $'esc\033[31mred' "${n200// /n}" '.dot' 'sp ace' '%s%n%p')
	for n in "${names[@]}"; do
		mkdir "$CFS/ranges/$n"
		run ftm_write "$CFS/ranges/$n/enabled" 1
		[ "$output" = EINVAL ]
		log=$(ftm_klog_take)	# since setup or the last round: this refusal
		line=$(ftm_grep 'flushtm: ' "$log")
		[ "$(ftm_nlines "$line")" = 1 ]
		[[ $line != *$'\033'* ]]
		rmdir "$CFS/ranges/$n"
	done
	# .dot too, which ls would not show
	left=$(shopt -s dotglob nullglob; echo $CFS/ranges/*)
	[ -z "$left" ]
	ftm_assert_no_kernel_complaints
}

@test "a burst of bad writes does not flood the log" {
	# The budget is ftm_log_rs: 50 lines a second.  What it lets through
	# depends on how long the burst took, so the burst goes on until it is
	# at least three times what the budget allows for its own duration, and
	# the claims are judged against that duration and the log's own times.
	# The writes run in a bash of their own: under bats' DEBUG trap each
	# command of a test costs tens of milliseconds in a TCG guest, which
	# alone would pace a burst at about the budget.
	local t0=${EPOCHREALTIME/./} ms=0 w=0 budget i n line ts=()
	mkdir $CFS/ranges/r
	while :; do
		bash -c 'for ((i = 0; i < 200; i++)); do echo junk > "$1" 2>/dev/null; done; true' \
			burst $CFS/ranges/r/start
		w=$((w + 200))
		ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
		# windows of 1 s touched by the burst, one more for a boundary
		budget=$((50 * (ms / 1000 + 2)))
		[ $w -ge $((3 * budget)) ] && break
		if [ $ms -gt 120000 ]; then
			echo "only $w bad writes in $ms ms: too slow to outrun the budget" >&2
			return 1
		fi
	done
	log=$(ftm_klog_take)
	n=$(ftm_grep_count 'flushtm: range r: start' "$log")
	echo "$w writes in $ms ms, $n logged, budget $budget" >&2
	[ "$n" -ge 1 ]
	[ "$n" -le "$budget" ]
	# and by the kernel log's own clock no second of the burst logged more
	# than two windows' worth: the windows are counted in jiffies, which in a
	# TCG guest catch up in jumps against the log's clock (on 6.12, 51 lines
	# once fell within 1 s by the timestamps while the budget held)
	while IFS= read -r line; do
		[[ $line =~ ^\[\ *([0-9]+)\.([0-9]{6})\]\ flushtm:\ range\ r:\ start ]] &&
			ts+=($((10#${BASH_REMATCH[1]} * 1000000 + 10#${BASH_REMATCH[2]})))
	done <<<"$log"
	[ ${#ts[@]} = "$n" ]
	for ((i = 0; i + 100 < ${#ts[@]}; i++)); do
		[ $((ts[i + 100] - ts[i])) -ge 1000000 ] ||
			{ echo "101 lines within 1 s from line $i" >&2; return 1; }
	done
	# the burst spent this second's log budget: a reload gives the tests
	# after it theirs (ftm_kmod_clean does not renew it)
	ftm_kmod_fresh
}
