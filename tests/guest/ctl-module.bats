#!/usr/bin/env bats
# flushtmctl against the real module in a guest with legacy pmem
# (memmap=64M!512M: 0x20000000, 64 MiB).  One guest for the whole file: each
# test sets up the state it needs.
# vm: --timeout 900
# cost: 185

bats_require_minimum_version 1.5.0
load helpers

setup() {
	CTL=$FTMCTL
	BG_PIDS=
}

# Whatever a failed test left running in the background.
teardown() {
	[ -z "$BG_PIDS" ] || kill $BG_PIDS 2>/dev/null || true
}

# Loaded through the tree's .ko, no ranges, hooks as the module starts them.
fresh_module() {
	ftm_unload
	ftm_load
}

@test "module absent: status exits 0, every other command says so and exits 1" {
	ftm_unload
	run "$CTL" status
	[ "$status" -eq 0 ]
	[ "$output" = "flushtm: not loaded" ]
	for c in "range list" stats flush "enable panic" "disable all" "set method auto" \
		 "set cache-threshold 1M" "enroll $$" "withdraw $$" "range del x" \
		 "range add x $PMEM_START 4K"; do
		read -ra words <<<"$c"
		run "$CTL" "${words[@]}"
		[ "$status" -eq 1 ] || { echo "$c: $status"; false; }
		[[ $output == "flushtmctl: "*"flushtm module not loaded"* ]] || { echo "$c: $output"; false; }
	done
	run "$CTL" unload
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: unload: flushtm: not loaded" ]
	run "$CTL" check
	[ "$status" -eq 1 ]
	[[ $output == *"gap: flushtm module not loaded"* ]]
}

@test "load --path: configfs mounted if not, then loaded; twice is an error" {
	ftm_unload
	umount /sys/kernel/config 2>/dev/null || true
	run "$CTL" load --path "$FTM_KO"
	[ "$status" -eq 0 ]
	grep -q ' /sys/kernel/config configfs ' /proc/mounts
	[ -d /sys/module/flushtm ]
	run "$CTL" status
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "flushtm: loaded, interface 1" ]]
	run "$CTL" load --path "$FTM_KO"
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: load: $FTM_KO: already loaded" ]
	run "$CTL" load --path /etc/hostname
	[ "$status" -eq 1 ]
	run "$CTL" load --path /nonexistent.ko
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: load: /nonexistent.ko: No such file or directory" ]
}

@test "load: a file that is no module is an invalid format" {
	ftm_unload
	head -c 4096 /dev/urandom > /tmp/junk.ko
	run "$CTL" load --path /tmp/junk.ko
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: load: /tmp/junk.ko: invalid module format" ]
	[ ! -d /sys/module/flushtm ]
}

@test "range add, list, flush, stats, del on real pmem" {
	fresh_module
	run "$CTL" range add trace "$PMEM_START" 64M
	[ "$status" -eq 0 ]
	[ "$(cat "$CFS/ranges/trace/enabled")" = 1 ]
	[ "$(cat "$CFS/ranges/trace/owner")" = admin ]
	run "$CTL" range list
	[ "$status" -eq 0 ]
	grep -Eq '^trace +0x20000000 +64M +yes +0 +admin ' <<<"$output"
	# the priority reaches the module and its set while enabled; bad ones in words
	run "$CTL" --json range priority trace 9
	[ "$status" -eq 0 ]
	[ "$(jq -r .priority <<<"$output")" = 9 ]
	[ "$(cat "$CFS/ranges/trace/priority")" = 9 ]
	run "$CTL" range priority trace 256
	[ "$status" -eq 2 ]
	[ "$output" = "flushtmctl: range priority: 256: not a priority (0 to 255)" ]
	run "$CTL" range priority nosuch 1
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range priority: nosuch: no such range" ]
	run "$CTL" --json range add other $((PMEM_START + 0x100000)) 1M --owner tester
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.name,.start,.size,.enabled,.owner]|join(" ")' <<<"$output")" = \
		"other 0x20100000 1048576 true tester" ]
	run "$CTL" flush trace
	[ "$status" -eq 0 ]
	run "$CTL" flush
	[ "$status" -eq 0 ]
	run "$CTL" --json stats
	[ "$status" -eq 0 ]
	[ "$(jq -r '.ranges[] | select(.name=="trace") | .flushed_bytes' <<<"$output")" -ge $((128 << 20)) ]
	[ "$(jq -r '.hooks[] | select(.name=="manual") | .fired' <<<"$output")" -ge 1 ] ||
		[ "$(cat "$CFS/hooks/manual/enabled")" = 0 ]
	run "$CTL" flush nope
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: flush: nope: no such range" ]
	run "$CTL" range del trace
	[ "$status" -eq 0 ]
	[ ! -d "$CFS/ranges/trace" ]
	run "$CTL" range del trace
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range del: trace: no such range" ]
}

@test "range add refused by the kernel: the reason, and nothing left behind" {
	fresh_module
	gen=$(cat "$CFS/generation")
	# The local APIC: MMIO, never RAM or pmem.
	run "$CTL" range add mmio 0xfee00000 4K
	[ "$status" -eq 1 ]
	[[ $output == "flushtmctl: range add: mmio: enable: refused by the kernel: not persistent memory or RAM"* ]]
	[ ! -e "$CFS/ranges/mmio" ]
	run "$CTL" range add odd $((PMEM_START + 1)) 4K
	[ "$status" -eq 1 ]
	[[ $output == *": enable: refused by the kernel"* || $output == *": start: invalid address"* ]]
	[ ! -e "$CFS/ranges/odd" ]
	run "$CTL" range add huge 0x20000000 0xfffffffffffff000
	[ "$status" -eq 1 ]
	[ ! -e "$CFS/ranges/huge" ]
	ftm_range_make taken "$PMEM_START" 4096
	run "$CTL" range add taken "$PMEM_START" 4K
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range add: taken: mkdir: a range of that name exists" ]
	[ "$(cat "$CFS/generation")" -gt "$gen" ]
	[ "$(ls "$CFS/ranges")" = taken ]
}

@test "enable and disable hooks, all, and an unknown one" {
	fresh_module
	run "$CTL" enable panic die reboot
	[ "$status" -eq 0 ]
	for h in panic die reboot; do [ "$(cat "$CFS/hooks/$h/enabled")" = 1 ]; done
	run "$CTL" disable all
	[ "$status" -eq 0 ]
	for h in "$CFS"/hooks/*/; do [ "$(cat "$h/enabled")" = 0 ]; done
	run "$CTL" enable all
	[ "$status" -eq 0 ]
	for h in "$CFS"/hooks/*/; do
		[ "$(cat "$h/enabled")" = "$(cat "$h/available")" ]
	done
	run "$CTL" --json status
	[ "$(jq -r '[.hooks[] | select(.available and (.enabled|not))] | length' <<<"$output")" = 0 ]
	run "$CTL" enable bogus
	[ "$status" -eq 2 ]
}

@test "set method and cache-threshold; enroll and withdraw" {
	fresh_module
	run "$CTL" set method lines
	[ "$status" -eq 0 ]
	[ "$(cat "$CFS/method")" = lines ]
	run "$CTL" set cache-threshold 256M
	[ "$status" -eq 0 ]
	[ "$(cat "$CFS/cache_threshold")" = $((256 << 20)) ]
	# enrol the sleeper only once it has exec'd: an exec drops the old mm's enrolment
	ftm_sleeper
	pid=$FTM_SLEEPER
	run "$CTL" enroll "$pid"
	[ "$status" -eq 0 ]
	grep -qx "$pid" "$CFS/hooks/exit/pids"
	run "$CTL" withdraw "$pid"
	[ "$status" -eq 0 ]
	! grep -qx "$pid" "$CFS/hooks/exit/pids"
	kill "$pid"
	run "$CTL" enroll 999999
	[ "$status" -eq 1 ]
	[[ $output == "flushtmctl: enroll: 999999: "* ]]
}

@test "read-only configfs: clear error, nothing changed" {
	fresh_module
	mount -o remount,ro /sys/kernel/config
	run "$CTL" range add ro "$PMEM_START" 4K
	rc=$status out=$output
	run "$CTL" set method cache
	rc2=$status out2=$output
	mount -o remount,rw /sys/kernel/config
	[ "$rc" -eq 1 ]
	[ "$out" = "flushtmctl: range add: ro: mkdir: configfs is mounted read-only" ]
	[ "$rc2" -eq 1 ]
	[ "$out2" = "flushtmctl: set method: cache: configfs is mounted read-only" ]
	[ ! -e "$CFS/ranges/ro" ]
	[ "$(cat "$CFS/method")" != cache ]
}

@test "configfs unmounted: status and the others say why" {
	fresh_module
	umount /sys/kernel/config
	run "$CTL" status
	rc=$status out=$output
	run "$CTL" range list
	rc2=$status out2=$output
	run --separate-stderr "$CTL" --json status
	rc3=$status out3=$output err3=$stderr
	ftm_mount_configfs
	[ "$rc" -eq 1 ]
	[[ $out == *"loaded but /sys/kernel/config/flushtm is missing"* ]]
	[ "$rc2" -eq 1 ]
	[[ $out2 == *"configfs not mounted at /sys/kernel/config"* ]]
	# JSON mode fails alike, and prints no document
	[ "$rc3" -eq 1 ]
	[ -z "$out3" ]
	[[ $err3 == *"loaded but /sys/kernel/config/flushtm is missing"* ]]
}

write_conf() {
	mkdir -p /tmp/cf
	cat > /tmp/cf/flushtm.conf
}

@test "apply: good file, second run changes nothing, changed file, other owners untouched" {
	fresh_module
	ftm_range_make mine $((PMEM_START + 0x200000)) 4096
	echo keep > "$CFS/ranges/mine/owner" 2>/dev/null || true
	write_conf <<-EOC
	[flushtm]
	method = lines
	cache_threshold = 512M
	hooks = panic die reboot

	[range trace]
	start = 0x20000000
	size = 32M

	[range second]
	start = 0x22000000
	size = 1M

	[flushtmd]
	sources = nd dax iomem
	EOC
	run "$CTL" apply /tmp/cf/flushtm.conf
	[ "$status" -eq 0 ]
	[ "$(cat "$CFS/method")" = lines ]
	[ "$(cat "$CFS/cache_threshold")" = $((512 << 20)) ]
	[ "$(cat "$CFS/hooks/panic/enabled")" = 1 ]
	[ "$(cat "$CFS/hooks/kexec/enabled")" = 0 ]
	[ "$(cat "$CFS/ranges/trace/owner")" = config ]
	[ "$(cat "$CFS/ranges/trace/enabled")" = 1 ]
	[ "$(cat "$CFS/ranges/second/size")" = 1048576 ]
	gen=$(cat "$CFS/generation")

	run "$CTL" apply /tmp/cf/flushtm.conf
	[ "$status" -eq 0 ]
	[ "$output" = "nothing to change" ]
	[ "$(cat "$CFS/generation")" = "$gen" ]

	# trace grows, second goes away, hooks change.
	write_conf <<-EOC
	[flushtm]
	hooks = panic die reboot kexec
	[range trace]
	start = 0x20000000
	size = 64M
	EOC
	run --separate-stderr "$CTL" --json apply /tmp/cf/flushtm.conf
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.changes[].what] | sort | join(" ")' <<<"$output")" = \
		"enable remove-range replace-range" ]
	[ "$(cat "$CFS/ranges/trace/size")" = $((64 << 20)) ]
	[ ! -e "$CFS/ranges/second" ]
	[ -d "$CFS/ranges/mine" ]
	[ "$(cat "$CFS/hooks/kexec/enabled")" = 1 ]
}

@test "apply: bad, truncated, binary and 10 MB files change nothing" {
	fresh_module
	"$CTL" range add keep "$PMEM_START" 4K --owner config
	snap() { (cd "$CFS" && grep -r . --exclude=flush 2>/dev/null | grep -v -e fired -e _ns -e flushed_bytes | sort); }
	before=$(snap)
	write_conf <<-EOC
	[flushtm]
	method = cache
	hooks = panic nosuch
	EOC
	run "$CTL" apply /tmp/cf/flushtm.conf
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: apply: /tmp/cf/flushtm.conf:3: unknown hook 'nosuch'" ]
	printf '[flushtm]\nmethod = cache\n[range new]\nstart = 0x20000000\nsi' > /tmp/cf/flushtm.conf
	run "$CTL" apply /tmp/cf/flushtm.conf
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: apply: /tmp/cf/flushtm.conf:3: [range new]: size missing" ]
	head -c 65536 /dev/urandom > /tmp/cf/flushtm.conf
	run "$CTL" apply /tmp/cf/flushtm.conf
	[ "$status" -eq 1 ]
	[[ $output == "flushtmctl: apply: /tmp/cf/flushtm.conf"* ]]
	yes '# padding line' | head -c 10485760 > /tmp/cf/flushtm.conf
	run "$CTL" apply /tmp/cf/flushtm.conf
	[ "$status" -eq 1 ]
	[[ $output == *"too large"* ]]
	# A range the kernel refuses: the file is fine, the module says no, nothing stays.
	printf '[range mmio]\nstart = 0xfee00000\nsize = 4K\n' > /tmp/cf/flushtm.conf
	run "$CTL" apply /tmp/cf/flushtm.conf
	[ "$status" -eq 1 ]
	[[ $output == *"range mmio: enable: refused by the kernel"* ]]
	[ "$(snap)" = "$before" ]
}

@test "check: finds the uncovered memmap pmem, passes once covered" {
	fresh_module
	modprobe nd_e820 2>/dev/null || true
	modprobe nd_pmem 2>/dev/null || true
	grep -q 'Persistent Memory' /proc/iomem
	"$CTL" disable all
	run "$CTL" check
	[ "$status" -eq 1 ]
	[[ $output == *"gap: persistent memory 20000000: 0x20000000-0x23ffffff (64M) is not covered"* ]]
	[[ $output == *"gap: hook panic is not armed"* ]]
	run "$CTL" range add pmem "$PMEM_START" 64M
	[ "$status" -eq 0 ]
	run "$CTL" enable panic die reboot
	run "$CTL" check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"no gaps" ]]
	run --separate-stderr "$CTL" --json check
	[ "$(jq -r '.ok' <<<"$output")" = true ]
	[ "$(jq -r '.pmem | length' <<<"$output")" -ge 1 ]
}

@test "unload removes every range (flushed), then the module" {
	fresh_module
	"$CTL" range add a "$PMEM_START" 1M
	"$CTL" range add b $((PMEM_START + 0x100000)) 1M --owner flushtmd
	ftm_dmesg_mark
	run "$CTL" unload
	[ "$status" -eq 0 ]
	[ ! -d /sys/module/flushtm ]
	ftm_assert_no_kernel_complaints
}

@test "load by name through the module index; blacklisted is refused" {
	ftm_unload
	kver=$(uname -r)
	# depmod over the whole tree takes minutes under TCG on 9p: a small module
	# tree (configfs and flushtm) bind-mounted in its place, then depmod.
	small=/tmp/modtree
	mkdir -p "$small/kernel/fs/configfs" "$small/extra"
	cp /lib/modules/"$kver"/modules.builtin* "$small/"
	cp /lib/modules/"$kver"/kernel/fs/configfs/configfs.ko* "$small/kernel/fs/configfs/"
	cp "$FTM_KO" "$small/extra/"
	mount --bind "$small" "/lib/modules/$kver"
	depmod -a "$kver"
	modinfo -n flushtm | grep -q extra/flushtm.ko
	run timeout 60 "$CTL" load
	[ "$status" -eq 0 ]
	[ -d /sys/module/flushtm ]
	[ -d "$CFS" ]
	run "$CTL" load
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: load: flushtm: already loaded" ]
	run "$CTL" unload
	[ "$status" -eq 0 ]
	echo 'blacklist flushtm' > /etc/modprobe.d/ftm-test.conf
	run "$CTL" load
	rm -f /etc/modprobe.d/ftm-test.conf
	umount "/lib/modules/$kver"
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: load: flushtm: blacklisted (modprobe.d)" ]
	[ ! -d /sys/module/flushtm ]
}

# ---- the exit hook from the command line: enroll, run ------------------

# A fresh module with the exit hook armed and one 1 MiB range to flush, the
# kernel log empty: what the exit tests start from.
exit_ready() {
	fresh_module
	"$CTL" range add p "$PMEM_START" 1M
	"$CTL" enable exit
	ftm_dmesg_clear
}

# run_child CTLPID COMM: wait until `flushtmctl run` CTLPID has a child that
# has exec'd into COMM (read builtin only: a program start costs more than
# the exec it waits for); the child's pid in RUN_CHILD.  The children file
# ends with no newline, so read fails at its end even when it got the pid.
run_child() {
	local ctl=$1 want=$2 kids= comm
	until { { read -r kids < "/proc/$ctl/task/$ctl/children" || [ -n "$kids" ]; } &&
		[ -n "$kids" ] && read -r comm < "/proc/${kids%% *}/comm" &&
		[ "$comm" = "$want" ]; } 2>/dev/null; do
		kill -0 "$ctl" 2>/dev/null || {
			echo "flushtmctl $ctl ended before its child became $want" >&2
			return 1
		}
	done
	RUN_CHILD=${kids%% *}
}

# exit_flushes N: the exit hook fired N times since exit_ready, with a flush
# line for each, and no kernel complaint.
exit_flushes() {
	local log
	[ "$(<"$CFS/hooks/exit/fired")" = "$1" ] || {
		echo "exit fired $(<"$CFS/hooks/exit/fired"), want $1" >&2
		return 1
	}
	log=$(ftm_klog_take) || return 1
	FTM_KLOG+=$log$'\n'
	[ "$(ftm_grep_count 'flushtm: flush hook=exit ranges=1 bytes=1048576 ' "$FTM_KLOG")" = "$1" ] || {
		echo "want $1 exit flush lines in: $FTM_KLOG" >&2
		return 1
	}
}

@test "enroll: the launcher sh -c 'flushtmctl enroll \$\$ && exec PROG' covers PROG; its exit flushes" {
	exit_ready
	FTM_KLOG=
	sh -c "'$CTL' enroll \$\$ && exec sleep 300" 3>&- &
	pid=$!
	BG_PIDS=$pid
	until { read -r comm < "/proc/$pid/comm" && [ "$comm" = sleep ]; } 2>/dev/null; do
		kill -0 "$pid"
	done
	# enrolled across the exec; the address space sh left was flushed
	[ "$(<"$CFS/hooks/exit/pids")" = "$pid" ]
	exit_flushes 1
	kill "$pid"
	wait "$pid" || true
	exit_flushes 2
	[ -z "$(<"$CFS/hooks/exit/pids")" ]
}

@test "run: a program that execs twice stays enrolled from its first instruction; its exit flushes" {
	exit_ready
	FTM_KLOG=
	"$CTL" run sh -c 'exec env sleep 300' 3>&- &
	ctl=$!
	BG_PIDS=$ctl
	run_child "$ctl" sleep
	BG_PIDS+=" $RUN_CHILD"
	# the child, not flushtmctl, is enrolled, and stays so through
	# flushtmctl -> sh -> env -> sleep: each exec flushed what it left
	[ "$(<"$CFS/hooks/exit/pids")" = "$RUN_CHILD" ]
	exit_flushes 3
	kill -TERM "$RUN_CHILD"
	rc=0
	wait "$ctl" || rc=$?
	[ "$rc" -eq 143 ]
	exit_flushes 4
	[ -z "$(<"$CFS/hooks/exit/pids")" ]
	# a program that exits by itself: run exits with its status
	run "$CTL" run sh -c 'exit 3'
	[ "$status" -eq 3 ]
	exit_flushes 6
	[ -z "$(<"$CFS/hooks/exit/pids")" ]
}

@test "run: a missing program is 127 and nothing is enrolled or flushed" {
	exit_ready
	FTM_KLOG=
	run -127 "$CTL" run no-such-program
	[ "$output" = "flushtmctl: run: no-such-program: No such file or directory" ]
	# found, enrolled, then its exec fails: withdrawn before the child exits
	printf '#!/no/such/interpreter\n' > /tmp/orphan
	chmod 755 /tmp/orphan
	run -127 "$CTL" run /tmp/orphan
	[ "$output" = "flushtmctl: run: /tmp/orphan: No such file or directory" ]
	[ -z "$(<"$CFS/hooks/exit/pids")" ]
	exit_flushes 0
}

@test "enroll: a pid that exits during its enrolment is flushed once if enrolled, never listed after" {
	exit_ready
	FTM_KLOG=
	enrolled=0 refused=0
	for d in 0 0.01 0.02 0.05 0.1 0 0.01 0.02 0.05 0.1 0.2 0.3; do
		sleep "$d" 3>&- &
		pid=$!
		# once it is sleep (an enrolment before the exec would follow it)
		until { read -r comm < "/proc/$pid/comm" && [ "$comm" = sleep ]; } 2>/dev/null; do
			kill -0 "$pid" 2>/dev/null || break
		done
		if "$CTL" enroll "$pid" 2> /tmp/enroll.err; then
			enrolled=$((enrolled + 1))
		else
			refused=$((refused + 1))
			# gone (no such process) or exiting (no address space left)
			grep -Eq "^flushtmctl: enroll: $pid: (no such process|invalid pid)\$" /tmp/enroll.err ||
				{ cat /tmp/enroll.err; false; }
		fi
		wait "$pid"
		pids=$(<"$CFS/hooks/exit/pids")
		[[ $'\n'$pids$'\n' != *$'\n'$pid$'\n'* ]]
	done
	echo "# $enrolled enrolled, $refused refused as they exited" >&3
	exit_flushes "$enrolled"
	[ -z "$(<"$CFS/hooks/exit/pids")" ]
}

@test "unload while a run child is alive: it goes on, unenrolled; its exit is clean" {
	exit_ready
	FTM_KLOG=
	"$CTL" run sleep 300 3>&- &
	ctl=$!
	BG_PIDS=$ctl
	run_child "$ctl" sleep
	BG_PIDS+=" $RUN_CHILD"
	[ "$(<"$CFS/hooks/exit/pids")" = "$RUN_CHILD" ]
	exit_flushes 1
	run "$CTL" unload
	[ "$status" -eq 0 ]
	[ ! -d /sys/module/flushtm ]
	kill -0 "$RUN_CHILD"
	kill -TERM "$RUN_CHILD"
	rc=0
	wait "$ctl" || rc=$?
	[ "$rc" -eq 143 ]
	log=$(ftm_klog_take)
	# the unload flushed the range as it removed it; nothing came at the exit
	[ "$(ftm_grep_count 'flushtm: flush hook=aperture ' "$log")" = 1 ]
	[ "$(ftm_grep_count 'flushtm: flush hook=exit ' "$log")" = 0 ]
	ftm_load
	[ -z "$(<"$CFS/hooks/exit/pids")" ]
}

@test "status timing in the guest (reported, not asserted)" {
	fresh_module
	"$CTL" range add t "$PMEM_START" 1M
	start=$(date +%s%N)
	for _ in $(seq 20); do "$CTL" status > /dev/null; done
	end=$(date +%s%N)
	echo "# status in the guest (TCG): $(( (end - start) / 20000 )) us per run" >&3
	"$CTL" status > /dev/null
}
