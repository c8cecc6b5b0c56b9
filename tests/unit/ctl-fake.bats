#!/usr/bin/env bats
# flushtmctl against a fake configfs tree (lib/tests/fake-configfs.sh): no root,
# no module.  What needs the kernel (range add, real refusals) is in
# tests/guest/ctl-*.bats.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	ftm_unit_setup
}


@test "--help lists every command; each command has --help" {
	run "$CTL" --help
	[ "$status" -eq 0 ]
	main_help=$output
	for c in status enable disable "range add" "range del" "range priority" "range list" flush stats set \
		 enroll withdraw run load unload apply check; do
		[[ $main_help == *"  $c "* ]] || { echo "missing $c"; false; }
		read -ra words <<<"$c"
		run "$CTL" "${words[@]}" --help
		[ "$status" -eq 0 ]
		[[ $output == "usage: flushtmctl"*"$c"* ]]
	done
}

@test "flushtmctl(8) describes every command of --help" {
	run "$CTL" --help
	cmds=$(sed -n '/^commands:/,/^$/{s/^  \([a-z]*\) .*/\1/p}' <<<"$output" | sort -u)
	[ "$(wc -l <<<"$cmds")" -ge 10 ]
	for c in $cmds; do
		grep -Eq "^\.(B|BI|BR) \"?$c( |\"|\$)" "$TOP/man/flushtmctl.8" || { echo "no $c in flushtmctl.8"; false; }
	done
}

@test "--version names the interface" {
	run "$CTL" --version
	[ "$status" -eq 0 ]
	[[ $output == *"configfs interface 1"* ]]
}

@test "usage errors exit 2 with flushtmctl: what: why" {
	run "$CTL" frobnicate
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: usage: unknown command 'frobnicate'"* ]]
	run "$CTL"
	[ "$status" -eq 2 ]
	run ctl range
	[ "$status" -eq 2 ]
	run ctl range add onlyname
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: range add: missing argument"* ]]
	run ctl status extra
	[ "$status" -eq 2 ]
	run ctl set method fast
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: set method: fast: not one of auto, lines, cache" ]]
	run ctl range add r 0x1000 12Q
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: range add: size '12Q': not a size"* ]]
	run ctl enable panik
	[ "$status" -eq 2 ]
	run ctl enroll abc
	[ "$status" -eq 2 ]
	run ctl status --frob
	[ "$status" -eq 2 ]
}

@test "module absent: status says not loaded and exits 0, others exit 1" {
	R=$D/absent
	run ctl status
	[ "$status" -eq 0 ]
	[ "$output" = "flushtm: not loaded" ]
	run ctl --json status
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.loaded, .hooks, .ranges]' <<<"$output")" = '[false,[],[]]' ]
	for c in "range list" stats "flush" "enable panic" "disable all" "set method auto" \
		 "enroll 1" "range del x" "range add x 0x1000 4K"; do
		read -ra words <<<"$c"
		run ctl "${words[@]}"
		[ "$status" -eq 1 ]
		[[ $output == "flushtmctl: "*"flushtm module not loaded"* ]] || { echo "$c: $output"; false; }
	done
}

@test "FLUSHTM_CONFIGFS names the root" {
	FLUSHTM_CONFIGFS=$R run "$CTL" status
	[ "$status" -eq 0 ]
	[[ $output == "flushtm: loaded, interface 1"* ]]
}

@test "status shows method, hooks and ranges in columns" {
	fake_range "$R" trace 0x20000000 67108864 1 config
	echo 1 > "$R/hooks/panic/enabled"
	echo 3 > "$R/hooks/panic/fired"
	run ctl status
	[ "$status" -eq 0 ]
	[[ $output == *"method: auto, cache threshold 32M"* ]]
	grep -Eq '^  panic +yes +yes +3$' <<<"$output"
	grep -Eq '^  trace +0x20000000 +64M +yes +0 +config +0$' <<<"$output"
}

@test "status --json: one document, lists are arrays, addresses hex" {
	fake_range "$R" trace 0x20000000 67108864 1 config
	run ctl --json status
	[ "$status" -eq 0 ]
	[ "$(jq -r '.ranges[0].start' <<<"$output")" = 0x20000000 ]
	[ "$(jq -r '.ranges[0].size' <<<"$output")" = 67108864 ]
	[ "$(jq -r '.hooks | length' <<<"$output")" = 9 ]
	[ "$(jq -r '.version' <<<"$output")" = 1 ]
	# --json after the command works too
	run ctl status --json
	[ "$(jq -r '.loaded' <<<"$output")" = true ]
}

@test "range list and stats, human and JSON" {
	run ctl --json range list
	[ "$status" -eq 0 ]
	[ "$(jq -c . <<<"$output")" = "[]" ]
	fake_range "$R" b 0x1000 4096 0 admin
	fake_range "$R" a 0x2000 8192 1 flushtmd
	run ctl range list
	[ "$status" -eq 0 ]
	[ "$(sed -n 2p <<<"$output" | awk '{print $1}')" = a ]
	run ctl --json stats
	[ "$status" -eq 0 ]
	[ "$(jq -r '.ranges | map(.name) | join(",")' <<<"$output")" = "a,b" ]
	[ "$(jq -r '.hooks[0] | keys | join(",")' <<<"$output")" = \
		"available,enabled,fired,flushed_bytes,last_ns,max_ns,name" ]
}

@test "enable, disable, all" {
	echo 0 > "$R/hooks/nmi/available"
	run ctl enable panic die
	[ "$status" -eq 0 ]
	[ "$(cat "$R/hooks/panic/enabled")" = 1 ]
	[ "$(cat "$R/hooks/die/enabled")" = 1 ]
	run ctl enable nmi
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: enable: nmi: not available on this kernel" ]
	run ctl enable all
	[ "$status" -eq 0 ]
	[ "$(cat "$R/hooks/reboot/enabled")" = 1 ]
	[ "$(cat "$R/hooks/nmi/enabled")" = 0 ]
	run ctl --json disable all
	[ "$status" -eq 0 ]
	[ "$(jq -r '.hooks | length' <<<"$output")" = 9 ]
	[ "$(cat "$R/hooks/panic/enabled")" = 0 ]
}

@test "set, flush, enroll write what the interface says" {
	run ctl set method cache
	[ "$status" -eq 0 ]
	[ "$(cat "$R/method")" = cache ]
	run ctl set cache-threshold 1G
	[ "$(cat "$R/cache_threshold")" = 1073741824 ]
	run ctl flush
	[ "$(cat "$R/flush")" = all ]
	run ctl flush nope
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: flush: nope: no such range" ]
	run ctl enroll 77
	[ "$(cat "$R/hooks/exit/pids")" = 77 ]
	run ctl withdraw 77
	[ "$(cat "$R/hooks/exit/pids")" = -77 ]
}

@test "range add on a tree that refuses leaves nothing behind" {
	# A plain directory grows no attribute files: the first write (owner) fails.
	run ctl range add r 0x20000000 64M
	[ "$status" -eq 1 ]
	[[ $output == "flushtmctl: range add: r: owner: "* ]]
	[ ! -e "$R/ranges/r" ]
	fake_range "$R" r 0x1000 4096
	run ctl range add r 0x20000000 64M
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range add: r: mkdir: a range of that name exists" ]
	run ctl range add r/x 0x20000000 64M
	[ "$status" -eq 2 ]
	run ctl range add q 0x20000000 64M --owner "$(printf '%070d' 0)"
	[ "$status" -eq 2 ]
}

@test "range priority: written as given, shown in list and JSON; bad values, absent ranges and old modules refused" {
	fake_range "$R" b 0x1000 4096 1 admin
	run ctl range priority b 7
	[ "$status" -eq 0 ] && [ -z "$output" ]
	[ "$(cat "$R/ranges/b/priority")" = 7 ]
	run ctl range list
	[ "$(sed -n 1p <<<"$output" | awk '{print $5}')" = PRIO ]
	[ "$(sed -n 2p <<<"$output" | awk '{print $5}')" = 7 ]
	run ctl --json range priority b 0x10
	[ "$status" -eq 0 ]
	[ "$(jq -r .priority <<<"$output")" = 16 ]
	for bad in 256 high 1.5 ""; do
		run ctl range priority b "$bad"
		[ "$status" -eq 2 ]
		[ "$output" = "flushtmctl: range priority: $bad: not a priority (0 to 255)" ]
	done
	run ctl range priority b -1
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: range priority: unknown option '-1'"* ]]
	[ "$(cat "$R/ranges/b/priority")" = 16 ]
	run ctl range priority nosuch 1
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range priority: nosuch: no such range" ]
	# a module without priorities: the range reads as 0, a write is refused in words
	rm "$R/ranges/b/priority"
	run ctl --json range list
	[ "$(jq -r '.[0].priority' <<<"$output")" = 0 ]
	run ctl range priority b 1
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: range priority: b: this flushtm module has no range priorities" ]
}

@test "apply: priority = N in [range] is set on the range, and a second apply changes nothing" {
	fake_range "$R" trace 0x20000000 67108864 1 config
	cat > "$D/flushtm.conf" <<-EOC
	[range trace]
	start = 0x20000000
	size = 64M
	priority = 200
	EOC
	run ctl apply "$D/flushtm.conf"
	[ "$status" -eq 0 ]
	[ "$output" = "priority         trace" ]
	[ "$(cat "$R/ranges/trace/priority")" = 200 ]
	run ctl apply "$D/flushtm.conf"
	[ "$status" -eq 0 ]
	[ "$output" = "nothing to change" ]
	sed -i 's/^priority = 200$/priority = 300/' "$D/flushtm.conf"
	run ctl apply "$D/flushtm.conf"
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: apply: $D/flushtm.conf:4: priority '300': not a number from 0 to 255" ]
	[ "$(cat "$R/ranges/trace/priority")" = 200 ]
}

good_conf() {
	cat > "$D/flushtm.conf" <<-EOC
	[flushtm]
	method = lines
	cache_threshold = 512M
	hooks = panic die reboot

	[range trace]
	start = 0x20000000
	size = 64M
	EOC
}

@test "apply: bad files are refused with file:line and change nothing" {
	before=$(cd "$R" && find . -type f | sort | xargs cat | md5sum)
	printf '[flushtm]\nmethod = fast\n' > "$D/bad.conf"
	run ctl apply "$D/bad.conf"
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: apply: $D/bad.conf:2: method 'fast': not one of auto, lines, cache" ]
	printf '[flushtm]\nhooks = panic oops\n' > "$D/bad.conf"
	run ctl apply "$D/bad.conf"
	[[ $output == *"bad.conf:2: unknown hook 'oops'" ]]
	good_conf
	head -c 100 "$D/flushtm.conf" > "$D/trunc.conf"
	run ctl apply "$D/trunc.conf"
	[ "$status" -eq 1 ]
	[[ $output == *"trunc.conf:6: [range trace]: size missing" ]]
	head -c 4096 /dev/urandom > "$D/bin.conf"
	run ctl apply "$D/bin.conf"
	[ "$status" -eq 1 ]
	[[ $output == "flushtmctl: apply: $D/bin.conf"* ]]
	truncate -s 10M "$D/big.conf"
	run ctl apply "$D/big.conf"
	[ "$status" -eq 1 ]
	[[ $output == *"too large"* ]]
	run ctl apply "$D/absent.conf"
	[ "$status" -eq 1 ]
	[ "$output" = "flushtmctl: apply: $D/absent.conf: No such file or directory" ]
	after=$(cd "$R" && find . -type f | sort | xargs cat | md5sum)
	[ "$before" = "$after" ]
}

@test "apply: a name held by another owner is refused before any change" {
	good_conf
	fake_range "$R" trace 0x20000000 67108864 1 admin
	run ctl apply "$D/flushtm.conf"
	[ "$status" -eq 1 ]
	[[ $output == *"range trace exists with owner 'admin'"* ]]
	[ "$(cat "$R/method")" = auto ]
}

@test "apply: settings and hooks; config ranges already right are left alone" {
	good_conf
	fake_range "$R" trace 0x20000000 67108864 1 config
	fake_range "$R" mine 0x1000 4096 1 admin
	echo 1 > "$R/hooks/kexec/enabled"
	echo 1 > "$R/hooks/manual/enabled"
	run ctl apply "$D/flushtm.conf"
	[ "$status" -eq 0 ]
	[ "$(cat "$R/method")" = lines ]
	[ "$(cat "$R/cache_threshold")" = 536870912 ]
	[ "$(cat "$R/hooks/panic/enabled")" = 1 ]
	[ "$(cat "$R/hooks/kexec/enabled")" = 0 ]
	[ "$(cat "$R/hooks/manual/enabled")" = 1 ]
	[ -d "$R/ranges/mine" ]
	# The fake tree keeps what was written, so a second run sees it all in place.
	echo 536870912 > "$R/cache_threshold"
	run ctl apply "$D/flushtm.conf"
	[ "$status" -eq 0 ]
	[ "$output" = "nothing to change" ]
}

@test "check: uncovered pmem, unarmed hooks, kdump ordering, domains" {
	fake_iomem "$D" "00000000-0009ffff : System RAM" \
		"20000000-23ffffff : Persistent Memory (legacy)" \
		"  20000000-23ffffff : namespace0.0"
	fake_namespace "$D" namespace0.0 0x20000000 $((64 << 20))
	fake_region "$D" region0 cpu_cache
	echo 1 > "$D/sys/kernel/kexec_crash_loaded"
	run ctl check
	[ "$status" -eq 1 ]
	[[ $output == *"gap: persistent memory 20000000: 0x20000000-0x23ffffff (64M) is not covered"* ]]
	[[ $output == *"gap: namespace namespace0.0: 0x20000000-0x23ffffff (64M)"* ]]
	[[ $output == *"gap: hook panic is not armed"* ]]
	[[ $output == *"crash_kexec_post_notifiers is off"* ]]
	[[ $output == *"region0     persistence_domain cpu_cache"* ]]
	[[ $output == *"flushtmctl: check: 6 gaps" ]]

	# Half covered: the other half is named.
	fake_range "$R" half 0x20000000 $((32 << 20)) 1 admin
	run ctl check
	[[ $output == *"0x22000000-0x23ffffff (32M) is not covered"* ]]

	fake_range "$R" rest 0x22000000 $((32 << 20)) 1 admin
	for h in panic die reboot; do echo 1 > "$R/hooks/$h/enabled"; done
	echo Y > "$D/sys/module/kernel/parameters/crash_kexec_post_notifiers"
	run ctl check
	[ "$status" -eq 0 ]
	[[ $output == *"no gaps" ]]
	run ctl --json check
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.ok, .gaps, .pmem[0].covered, .regions[0].persistence_domain]' <<<"$output")" = \
		'[true,[],true,"cpu_cache"]' ]
}

@test "check: a disabled range covers nothing; module absent is a gap" {
	fake_iomem "$D" "20000000-23ffffff : Persistent Memory (legacy)"
	fake_range "$R" off 0x20000000 67108864 0 admin
	run --separate-stderr ctl --json check
	[ "$status" -eq 1 ]
	[ "$(jq -r '.pmem[0].covered' <<<"$output")" = false ]
	R=$D/absent
	run --separate-stderr ctl --json check
	[ "$status" -eq 1 ]
	[ "$(jq -r '.gaps[0].kind' <<<"$output")" = module ]
}

@test "libkmod is opened by load and unload only, with a clear error when it is unusable" {
	# Not among the libraries the dynamic loader maps for every command.
	run readelf -d "$CTL"
	[ "$status" -eq 0 ]
	[[ $output == *"(NEEDED)"*"libc.so"* ]]
	[[ $output != *libkmod* ]]
	# A libkmod.so.2 that is no library: every other command works all the same.
	mkdir "$D/badlib"
	echo "not a library" > "$D/badlib/libkmod.so.2"
	LD_LIBRARY_PATH=$D/badlib run ctl status
	[ "$status" -eq 0 ]
	[[ $output == "flushtm: loaded, interface 1"* ]]
	for c in load unload; do
		LD_LIBRARY_PATH=$D/badlib run ctl "$c"
		[ "$status" -eq 1 ]
		[[ $output == "flushtmctl: $c: cannot use libkmod (package libkmod2): "*libkmod.so.2* ]] ||
			{ echo "$c: $output"; false; }
	done
	# One that lacks a function flushtmctl needs is named as such.
	echo 'int kmod_new;' > "$D/badlib/k.c"
	cc -shared -fPIC -o "$D/badlib/libkmod.so.2" "$D/badlib/k.c"
	LD_LIBRARY_PATH=$D/badlib run ctl load
	[ "$status" -eq 1 ]
	[[ $output == *"undefined symbol: kmod_unref"* ]]
}

@test "run: CMD's status, 128+N for a signal; the child enrols its own pid before it execs" {
	run ctl run sh -c 'echo $$; exit 7'
	[ "$status" -eq 7 ]
	# sh is the child flushtmctl forked: the pid it wrote to hooks/exit/pids.
	[ "$output" = "$(<"$R/hooks/exit/pids")" ]
	run ctl run -- sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	# Options end at CMD: -c and -l are sh's and ls's.
	run ctl run ls -d /
	[ "$status" -eq 0 ]
	[ "$output" = / ]
	run ctl --json run true
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "run: a missing program is 127, one that cannot be executed 126, nothing enrolled" {
	run -127 ctl run no-such-program-here
	[ "$output" = "flushtmctl: run: no-such-program-here: No such file or directory" ]
	run -127 ctl run "$D/nothing"
	[ "$output" = "flushtmctl: run: $D/nothing: No such file or directory" ]
	echo 'echo hi' > "$D/plain"
	chmod 644 "$D/plain"
	run ctl run "$D/plain"
	[ "$status" -eq 126 ]
	[ "$output" = "flushtmctl: run: $D/plain: Permission denied" ]
	run ctl run "$D"
	[ "$status" -eq 126 ]
	[ "$output" = "flushtmctl: run: $D: Is a directory" ]
	[ ! -s "$R/hooks/exit/pids" ]
	# Found, enrolled, and then the exec fails (its interpreter is missing):
	# the child withdraws itself before it says why.
	printf '#!/no/such/interpreter\n' > "$D/orphan"
	chmod 755 "$D/orphan"
	run -127 ctl run "$D/orphan"
	[ "$output" = "flushtmctl: run: $D/orphan: No such file or directory" ]
	[[ $(<"$R/hooks/exit/pids") == -[0-9]* ]]
	# No #! line: run by /bin/sh, as a shell would.
	printf 'echo "script $1"\n' > "$D/script"
	chmod 755 "$D/script"
	PATH=$D:$PATH run ctl run script arg
	[ "$status" -eq 0 ]
	[ "$output" = "script arg" ]
}

@test "run: usage, and module absent (125: flushtmctl's own failure, CMD not started)" {
	run ctl run
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: run: missing argument"* ]]
	R=$D/absent
	run ctl run touch "$D/ran"
	[ "$status" -eq 125 ]
	[[ $output == "flushtmctl: run: flushtm module not loaded"* ]]
	[ ! -e "$D/ran" ]
	# Enrolment refused: a pids "file" that cannot be written (root may write
	# any file; a directory refuses everybody).
	R=$D/flushtm
	rm "$R/hooks/exit/pids"
	mkdir "$R/hooks/exit/pids"
	run ctl run touch "$D/ran"
	[ "$status" -eq 125 ]
	[[ $output == "flushtmctl: run: enroll "[0-9]*": "* ]]
	[ ! -e "$D/ran" ]
}

@test "run: a signal sent to flushtmctl reaches CMD" {
	"$CTL" --root "$R" run sleep 100 > /dev/null 2>&1 3>&- &
	pid=$!
	# sleep is flushtmctl's child once it has exec'd
	for _ in $(seq 200); do
		child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
		[ -n "$child" ] && [ "$(cat "/proc/${child% }/comm" 2>/dev/null)" = sleep ] && break
		sleep 0.05
	done
	[ "$(cat "/proc/${child% }/comm")" = sleep ]
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	# reaped by flushtmctl
	[ ! -d "/proc/${child% }" ]
}

# complete WORD...: what Tab offers after `WORD...` (the last WORD is the one
# being completed), one reply a line, from completion/flushtmctl with
# bash-completion loaded, in a bash of its own started in $D.
complete() {
	(cd "$D" && bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$0"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_flushtmctl flushtmctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}"
	' "$TOP/completion/flushtmctl" "$@")
}

# unquote LINES: each line, a shell word as %q made it, back to its text.
unquote() {
	local q w
	while IFS= read -r q; do
		eval "w=$q"
		printf '%s\n' "$w"
	done <<<"$1"
}

@test "completion: range names are data: \$(cmd) and \`cmd\` do not run; offered escaped and quoted" {
	[ -r /usr/share/bash-completion/bash_completion ]
	for n in trace '$(touch pwned)' '`touch pwned2`' 'a b' $'nl\nx' '.dot' $'caf\xc3\xa9' 'x;y'; do
		mkdir "$R/ranges/$n"
	done
	run complete flushtmctl --root "$R" range del ''
	[ "$status" -eq 0 ]
	[ ! -e "$D/pwned" ]
	[ ! -e "$D/pwned2" ]
	got=$(unquote "$output" | LC_ALL=C sort)
	want=$(printf '%s\n' trace '$(touch\x20pwned)' '`touch\x20pwned2`' 'a\x20b' 'nl\x0ax' .dot \
		'caf\xc3\xa9' 'x;y' | LC_ALL=C sort)
	[ "$got" = "$want" ] || { echo "got: $got"; echo "want: $want"; false; }
	# the same under a UTF-8 locale, and for flush, with a prefix
	LC_ALL=C.UTF-8 run complete flushtmctl --root "$R" flush 'c'
	[ "$(unquote "$output")" = 'caf\xc3\xa9' ]
	run complete flushtmctl --root "$R" flush ''
	[[ $output == *all* ]]
	[ "$(wc -l <<<"$output")" -eq 9 ]
	run complete flushtmctl --root "$R" flush 'x'
	[ "$(unquote "$output")" = 'x;y' ]
	[ "$output" = 'x\;y' ]
	# pids from the exit hook are data too
	printf '%s\n' 12 '$(touch pwned3)' > "$R/hooks/exit/pids"
	run complete flushtmctl --root "$R" withdraw ''
	[ ! -e "$D/pwned3" ]
	[ "$(unquote "$output")" = $'12\n$(touch pwned3)' ]
	# a hook directory of that name (a --root anywhere) as well
	mkdir "$R/hooks/\$(touch pwned4)"
	run complete flushtmctl --root "$R" enable ''
	[ ! -e "$D/pwned4" ]
	[[ $output == *panic* ]]
}

@test "completion: commands, hooks, and run's CMD completed as a command" {
	[ -r /usr/share/bash-completion/bash_completion ]
	run complete flushtmctl ''
	[[ $'\n'$output$'\n' == *$'\n'run$'\n'* ]]
	run complete flushtmctl --root "$R" enable pa
	[ "$output" = panic ]
	run complete flushtmctl --root "$R" disable ''
	[ "$(wc -l <<<"$output")" -eq 10 ]
	run complete flushtmctl run tru
	[[ $'\n'$output$'\n' == *$'\n'true$'\n'* ]]
	run complete flushtmctl run -- tru
	[[ $'\n'$output$'\n' == *$'\n'true$'\n'* ]]
	run complete flushtmctl run -
	[ "$(sort <<<"$output" | paste -sd' ')" = "-- --help" ]
	run complete flushtmctl range pr
	[ "$output" = priority ]
	fake_range "$R" trace 0x1000 4096
	run complete flushtmctl --root "$R" range priority tr
	[ "$(unquote "$output")" = trace ]
}

@test "completion: range add offers --reserve-mem, then the command line's reserve_mem labels" {
	[ -r /usr/share/bash-completion/bash_completion ]
	run complete flushtmctl range add t --
	[ "$(sort <<<"$output" | paste -sd' ')" = "--help --owner --reserve-mem" ]
	printf '%s\n' 'BOOT_IMAGE=/vmlinuz reserve_mem=12M:4096:trace reserve_mem=1M:4096:$(touch${IFS}pwned) quiet' \
		> "$D/cmdline"
	FLUSHTM_CMDLINE=$D/cmdline run complete flushtmctl range add t --reserve-mem ''
	[ "$status" -eq 0 ]
	[ ! -e "$D/pwned" ]
	[ "$(unquote "$output")" = $'trace\n$(touch${IFS}pwned)' ]
	FLUSHTM_CMDLINE=$D/cmdline run complete flushtmctl range add t --reserve-mem tr
	[ "$output" = trace ]
	FLUSHTM_CMDLINE=$D/none run complete flushtmctl range add t --reserve-mem ''
	[ -z "$output" ]
}

# in_ro_mount FILE CMD...: CMD with FILE bind-mounted read-only (a mount
# namespace of its own: nothing to undo), as a write the kernel refuses.
in_ro_mount() {
	local file=$1
	shift
	unshare -rm sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
		sh "$file" "$@"
}

@test "enable, disable: a write that fails does not stop the others; exit 1 and no document, text or JSON" {
	for mode in text json; do
		fake_tree "$R"
		opt=()
		[ $mode = text ] || opt=(--json)
		run --separate-stderr in_ro_mount "$R/hooks/die/enabled" "$CTL" --root "$R" "${opt[@]}" enable panic die reboot
		[ "$status" -eq 1 ]
		[ -z "$output" ] || { echo "$mode: stdout: $output"; false; }
		[ "$stderr" = "flushtmctl: enable: die: configfs is mounted read-only" ] ||
			{ echo "$mode: $stderr"; false; }
		[ "$(<"$R/hooks/panic/enabled")" = 1 ]
		[ "$(<"$R/hooks/reboot/enabled")" = 1 ]
		[ "$(<"$R/hooks/die/enabled")" = 0 ]
		run --separate-stderr in_ro_mount "$R/hooks/exit/enabled" "$CTL" --root "$R" "${opt[@]}" disable all
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[ "$stderr" = "flushtmctl: disable: exit: configfs is mounted read-only" ]
		[ "$(<"$R/hooks/panic/enabled")" = 0 ]
	done
	# and when every write succeeds, the document
	run ctl --json enable panic
	[ "$status" -eq 0 ]
	[ "$(jq -c .hooks <<<"$output")" = '[{"name":"panic","enabled":true}]' ]
}

@test "status: module loaded but its configfs tree missing is a failure in both modes" {
	# the default root, absent here; /sys/module/flushtm from FLUSHTM_SYSFS
	mkdir -p "$D/sys/module/flushtm"
	run --separate-stderr "$CTL" status
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == "flushtmctl: status: flushtm is loaded but /sys/kernel/config/flushtm is missing"* ]]
	run --separate-stderr "$CTL" --json status
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == "flushtmctl: status: flushtm is loaded but /sys/kernel/config/flushtm is missing"* ]]
	# not loaded at all: exit 0, and the document says so
	rmdir "$D/sys/module/flushtm"
	run "$CTL" --json status
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.loaded, .root]' <<<"$output")" = '[false,"/sys/kernel/config/flushtm"]' ]
}

@test "status --json: each hook is name, available, enabled, fired; stats has every counter" {
	echo 5 > "$R/hooks/panic/fired"
	echo 1 > "$R/hooks/panic/enabled"
	echo 4096 > "$R/hooks/panic/flushed_bytes"
	run ctl --json status
	[ "$status" -eq 0 ]
	[ "$(jq -c '.hooks[0]' <<<"$output")" = '{"name":"panic","available":true,"enabled":true,"fired":5}' ]
	[ "$(jq -r '[.hooks[].name] | join(" ")' <<<"$output")" = "$FAKE_HOOKS" ]
	run ctl --json stats
	[ "$(jq -c '.hooks[0] | [.fired, .flushed_bytes]' <<<"$output")" = '[5,4096]' ]
	# a hook this module does not have is left out, in status as in stats
	rm -r "$R/hooks/nmi"
	run ctl --json status
	[ "$(jq -r '.hooks | length' <<<"$output")" = 8 ]
	run ctl status
	[[ $output != *nmi* ]]
	# a value that is no boolean is an error, not a guess
	echo 2 > "$R/hooks/die/enabled"
	run ctl status
	[ "$status" -eq 1 ]
	[[ $output == "flushtmctl: status: reading $R: "* ]]
}

@test "names the library did not make: every range listed, escaped, in every command; operands taken escaped" {
	fake_range "$R" trace 0x20000000 67108864 1 config
	fake_range "$R" 'a b' 0x1000 4096 1 'team x'
	fake_range "$R" $'nl\nx' 0x2000 4096 1 admin
	fake_range "$R" 'c\d' 0x3000 4096 0 admin
	fake_range "$R" $'\xff$(x)' 0x4000 4096 1 admin
	fake_range "$R" broken 0x5000 4096 1 admin
	rm "$R/ranges/broken/size"
	run --separate-stderr ctl range list
	[ "$status" -eq 0 ]
	# one line per range: no name breaks a line or a column
	[ "$(wc -l <<<"$output")" -eq 7 ]
	grep -Eq '^a\\x20b +0x1000 +4K +yes +0 +team\\x20x ' <<<"$output"
	grep -Eq '^nl\\x0ax +0x2000 ' <<<"$output"
	grep -Eq '^c\\x5cd +0x3000 ' <<<"$output"
	grep -Eq '^\\xff\$\(x\) +0x4000 ' <<<"$output"
	grep -Eq '^broken +0x5000 ' <<<"$output"
	[ "$stderr" = "flushtmctl: range list: warning: range broken cannot be read (No such file or directory); shown as far as it was read" ]
	# status and stats the same; JSON valid (the names are ASCII once escaped)
	run --separate-stderr ctl status
	[ "$status" -eq 0 ]
	grep -Eq '^  nl\\x0ax +0x2000 ' <<<"$output"
	[[ $stderr == "flushtmctl: status: warning: range broken cannot be read"* ]]
	run --separate-stderr ctl stats
	grep -Eq '^a\\x20b +0$' <<<"$output"
	run --separate-stderr ctl --json range list
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.[].name] | join(" ")' <<<"$output")" = \
		'a\x20b broken c\x5cd nl\x0ax trace \xff$(x)' ]
	[ "$(jq -r '.[] | select(.name == "a\\x20b") | .owner' <<<"$output")" = 'team\x20x' ]
	[ "$(jq -r '.[] | select(.name == "broken") | .error' <<<"$output")" = "No such file or directory" ]
	[ "$(jq -r '[.[] | select(.error)] | length' <<<"$output")" = 1 ]
	run --separate-stderr ctl --json status
	[ "$(jq -r '.ranges | length' <<<"$output")" = 6 ]
	run --separate-stderr ctl --json stats
	[ "$(jq -r '.ranges[] | select(.name == "nl\\x0ax") | .flushed_bytes' <<<"$output")" = 0 ]
	# operands are names as printed
	run ctl flush 'c\x5cd'
	[ "$status" -eq 0 ]
	[ "$(<"$R/flush")" = 'c\d' ]
	run ctl flush 'nl\x0ax'
	[ "$status" -eq 0 ]
	[ "$(<"$R/flush")" = $'nl\nx' ]
	# (a fake range is a plain directory: rmdir takes only an empty one)
	mkdir "$R/ranges/e f" "$R/ranges/"$'g\th'
	run ctl --json range del 'e\x20f'
	[ "$status" -eq 0 ]
	[ "$(jq -r .removed <<<"$output")" = 'e\x20f' ]
	[ ! -e "$R/ranges/e f" ]
	run ctl range del 'g\x09h'
	[ "$status" -eq 0 ]
	[ ! -e "$R/ranges/"$'g\th' ]
	run ctl range del 'c\d'
	[ "$status" -eq 2 ]
	[[ $output == "flushtmctl: range del: c\\d: malformed name"* ]]
	[ -d "$R/ranges/c\d" ]
}
