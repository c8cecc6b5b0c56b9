#!/usr/bin/env bats
# kernels: one (it builds DKMS for 6.1 and, when the cache has it, 6.12 itself)
# The Debian packages of `make deb` (build/deb/; make check builds them first)
# as an admin uses them, in one guest booted with systemd as PID 1, its root
# the host's under a throwaway overlay:
#   apt-get install ./flushtm-dkms_*.deb ./flushtm_*.deb: DKMS builds the
#   module for the running kernel, both units are enabled and started, the
#   daemon covers the guest's pmem, flushtmctl check has no gaps; man pages,
#   completion and units in place; one version everywhere;
#   a new kernel's headers (6.12 from scripts/fetch-kernel.sh's cache) run the
#   kernel's DKMS hook, which builds the module for that kernel too;
#   the metrics: flushtmd's flushtm.prom scraped from the real
#   prometheus-node-exporter on the loopback address after a flushtmctl flush;
#   a textfile directory that is missing or read-only logged once;
#   an upgrade to the next version keeps the admin's edited configuration;
#   apt-get remove stops and removes everything but the conffile (the module
#   of both kernels included); purge removes the conffile.
# The make install path and dkms add from a source tree: pkg-install.bats and
# tests/host/install.bats.
# vm: --systemd --timeout 2700
# cost: 1700
# (Measured under TCG with the machine's two CPUs shared: the systemd boot
# about 2 minutes, each DKMS build 3-4, each depmod about one.)

load helpers

# The 6.12 kernel of scripts/fetch-kernel.sh's cache, if there: its headers are
# what the linux-headers package would install.
K612=$(ls -1d "${FTM_CACHE:-/var/cache/flushtm}"/kernels/6.12.*/ 2>/dev/null | sort -V | tail -n1)
K612=${K612%/}

setup_file() {
	cd "$FTM_TOP" || return 1
	export V
	V=$(make -s version)
	export DKMS_DEB=$FTM_TOP/build/deb/flushtm-dkms_${V}_all.deb
	export TOOLS_DEB
	TOOLS_DEB=$(ls "$FTM_TOP"/build/deb/flushtm_"${V}"_*.deb 2>/dev/null | head -n1)
	[ -f "$DKMS_DEB" ] && [ -f "$TOOLS_DEB" ] ||
		{ echo "no packages of version $V in build/deb: make deb" >&2; return 1; }
	# The host is a container whose /usr/sbin/policy-rc.d refuses every
	# service start (exit 101); the guest is a machine, as an admin's is.
	rm -f /usr/sbin/policy-rc.d
	# man-db's trigger rebuilds its whole index at every install (minutes
	# under TCG) unless this file is gone; nothing here reads the index.
	rm -f /var/lib/man-db/auto-update
	# tests/vm/guest-systemd masks the host's prometheus units for every
	# systemd guest; this one wants the exporter.
	rm -f /etc/systemd/system/prometheus-node-exporter.service
	systemctl daemon-reload
	# The next version: the same package with its version raised (what an
	# upgrade changes for dpkg: version and maintainer scripts' argument).
	export NEXT_DEB=$BATS_FILE_TMPDIR/flushtm_${V}+1.deb
	dpkg-deb -R "$TOOLS_DEB" "$BATS_FILE_TMPDIR/next" &&
		sed -i "s/^Version: .*/Version: ${V}+1/" "$BATS_FILE_TMPDIR/next/DEBIAN/control" &&
		dpkg-deb -b "$BATS_FILE_TMPDIR/next" "$NEXT_DEB" > /dev/null
}

# wait_until SECS CMD...: until CMD succeeds (re-run each second), at most SECS.
wait_until() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 1
	done
	"$@"
}

# dkms_installed_for KVER: dkms says installed for KVER, and the module it
# installed carries KVER's vermagic and the version.
dkms_installed_for() {
	local out ko
	out=$(dkms status flushtm 2> /dev/null)
	echo "$out"
	grep -q "^flushtm/$V, $1, x86_64: installed" <<<"$out" || return 1
	ko=$(ls /lib/modules/"$1"/updates/dkms/flushtm.ko* 2> /dev/null | head -n1)
	[ -n "$ko" ] || { echo "no flushtm.ko under /lib/modules/$1/updates/dkms" >&2; return 1; }
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$1" ] ||
		{ echo "$ko: vermagic $(modinfo -F vermagic "$ko"), want $1" >&2; return 1; }
	[ "$(modinfo -F version "$ko")" = "$V" ]
}

# scrape: node_exporter's /metrics on the loopback address.
scrape() {
	curl -sf --max-time 10 http://127.0.0.1:9100/metrics
}

# sample NAME{LABELS}: that series' value in $metrics, as an integer:
# node_exporter serves the values it read as floats (67108864 comes back as
# 6.7108864e+07); every value compared here is a whole number.
sample() {
	S=$1 awk '$1 == ENVIRON["S"] { printf "%.0f\n", $2 }' <<<"$metrics"
}

@test "apt-get install of both packages: DKMS builds the module for the running kernel, the units start" {
	local t0=$SECONDS
	run apt-get install -y --no-install-recommends "$DKMS_DEB" "$TOOLS_DEB"
	echo "$output"
	echo "# apt-get install (DKMS for $(uname -r) included): $((SECONDS - t0)) s" >&3
	[ "$status" -eq 0 ]
	[[ $output == *"Building for $(uname -r)"* ]]
	dkms_installed_for "$(uname -r)"
	[ "$(modinfo -n flushtm)" = "/lib/modules/$(uname -r)/updates/dkms/flushtm.ko" ]
	# Enabled the Debian way (deb-systemd-helper), and started.
	[ "$(systemctl is-enabled flushtm.service flushtmd.service | sort -u)" = enabled ]
	[ "$(systemctl is-active flushtm.service flushtmd.service | sort -u)" = active ]
	[ -d /sys/module/flushtm ]
	[ "$(command -v flushtmctl)" = /usr/sbin/flushtmctl ]
}

@test "one version: the packages, flushtmctl --version, modinfo of the loaded module" {
	[ "$(dpkg-query -W -f='${Version}' flushtm)" = "$V" ]
	[ "$(dpkg-query -W -f='${Version}' flushtm-dkms)" = "$V" ]
	[ "$(flushtmctl --version)" = "flushtmctl $V (configfs interface 1)" ]
	[ "$(modinfo -F version flushtm)" = "$V" ]
	[ "$(cat /sys/module/flushtm/version)" = "$V" ]
	[ -f "/usr/src/flushtm-$V/dkms.conf" ]
	grep -qx "PACKAGE_VERSION=\"$V\"" "/usr/src/flushtm-$V/dkms.conf"
}

@test "the started units did their work: hooks armed, the daemon covers the pmem, check has no gaps" {
	run flushtmctl check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"no gaps"* ]]
	# The daemon's one range over the guest's pmem: d-nd-namespace0.0 when
	# nd_pmem made a namespace of it (systemd's udev loads it), else
	# d-iomem-20000000.
	run flushtmctl --json range list
	[ "$(jq -r '[.[] | select(.owner == "flushtmd") | .start] | join(" ")' <<<"$output")" = 0x20000000 ]
	[ "$(cat "$CFS/hooks/panic/enabled")" = 1 ]
	dpkg-query -W -f='${Conffiles}\n' flushtm | grep -q '^ /etc/flushtm/flushtm.conf '
}

@test "man pages, completion and units of the package are found (man, bash-completion, systemd-analyze)" {
	local found
	found=$(man -w 4 flushtm 5 flushtm.conf 8 flushtmctl 8 flushtmd)
	[ "$found" = "$(printf '%s\n' /usr/share/man/man4/flushtm.4.gz \
		/usr/share/man/man5/flushtm.conf.5.gz /usr/share/man/man8/flushtmctl.8.gz \
		/usr/share/man/man8/flushtmd.8.gz)" ]
	run bash -c 'source /usr/share/bash-completion/bash_completion
		__load_completion flushtmctl && complete -p flushtmctl'
	[[ $output == *"-F _flushtmctl flushtmctl"* ]]
	# MANOPT=-w: verify looks each Documentation= page up instead of rendering it.
	run env MANOPT=-w systemd-analyze verify --recursive-errors=no \
		/lib/systemd/system/flushtm.service /lib/systemd/system/flushtmd.service
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a new kernel's headers: the kernel's DKMS hook builds the module for it (6.12)" {
	[ -n "$K612" ] || skip "no 6.12 kernel in the cache (scripts/fetch-kernel.sh fetches it)"
	local kver
	kver=$(basename "$K612")
	[ "$kver" != "$(uname -r)" ]
	# What linux-headers-$kver installs, by links to the cache (dpkg -i of the
	# headers would take about ten minutes here), then what its postinst runs
	# (run-parts /etc/kernel/header_postinst.d).
	mkdir -p "/lib/modules/$kver"
	ln -sfn "$K612/usr/src/linux-headers-$kver" "/lib/modules/$kver/build"
	local t0=$SECONDS
	run /etc/kernel/header_postinst.d/dkms "$kver"
	echo "$output"
	echo "# the DKMS hook for $kver: $((SECONDS - t0)) s" >&3
	[ "$status" -eq 0 ]
	dkms_installed_for "$kver"
	dkms_installed_for "$(uname -r)"
}

@test "metrics: node_exporter's textfile collector serves flushtmd's file; after a flush the counters show it" {
	# The admin's edit, kept by the upgrade below: a 2 s metrics interval.
	printf 'textfile_interval = 2\n' >> /etc/flushtm/flushtm.conf
	systemctl reload flushtmd.service
	run systemctl start prometheus-node-exporter.service
	[ "$status" -eq 0 ] || { echo "$output"; systemctl status prometheus-node-exporter; false; }
	local before
	before=$(cat "$CFS/hooks/manual/fired")
	flushtmctl flush
	[ "$(cat "$CFS/hooks/manual/fired")" -eq $((before + 1)) ]
	# Until a file written after the flush is served: its count and its bytes
	# (a write that ran during the flush may have the count and not yet the bytes).
	local bytes
	bytes=$(cat "$CFS/hooks/manual/flushed_bytes")
	metrics=
	wait_until 60 eval 'metrics=$(scrape) &&
		[ "$(sample "flushtm_hook_fired_total{hook=\"manual\"}")" = $((before + 1)) ] &&
		[ "$(sample "flushtm_hook_flushed_bytes_total{hook=\"manual\"}")" = "$bytes" ]' ||
		{ echo "$metrics" | grep -E '^(flushtm_|node_textfile)'; false; }
	[ "$(sample flushtm_module_loaded)" = 1 ]
	[ "$(sample flushtm_interface_version)" = 1 ]
	[ "$(sample "flushtm_build_info{version=\"$V\"}")" = 1 ]
	[ "$(sample 'flushtm_hook_flushed_bytes_total{hook="manual"}')" -ge "$PMEM_SIZE" ]
	local r
	r=$(flushtmctl --json range list | jq -r '.[] | select(.owner == "flushtmd") | .name')
	[ -n "$r" ]
	# node_exporter serves the labels sorted by name: owner before range
	[ "$(sample "flushtm_range_size_bytes{owner=\"flushtmd\",range=\"$r\"}")" = "$PMEM_SIZE" ]
	[ "$(sample "flushtm_range_enabled{owner=\"flushtmd\",range=\"$r\"}")" = 1 ]
	[ "$(sample "flushtm_range_flushed_bytes_total{owner=\"flushtmd\",range=\"$r\"}")" = \
		"$(cat "$CFS/ranges/$r/flushed_bytes")" ]
	[ "$(sample 'flushtm_pmem_covered_bytes{source="iomem"}')" = "$PMEM_SIZE" ]
	[ "$(sample 'flushtm_pmem_uncovered_bytes{source="iomem"}')" = 0 ]
	[ "$(sample 'flushtm_hook_enabled{hook="panic"}')" = 1 ]
	# The collector read the file without an error, and it is flushtmd's.
	[ "$(sample node_textfile_scrape_error)" = 0 ]
	[ -n "$(sample 'node_textfile_mtime_seconds{file="/var/lib/prometheus/node-exporter/flushtm.prom"}')" ]
	# What it serves is what flushtmctl prints, and promtool's linter takes it.
	run promtool check metrics < /var/lib/prometheus/node-exporter/flushtm.prom
	echo "$output"
	[ "$status" -eq 0 ] && [ -z "$output" ]
}

# journal lines of flushtmd since the cursor file $1 was made.
journal_since() {
	journalctl -q -u flushtmd.service --after-cursor="$(cat "$1")" -o cat
}

@test "a missing or read-only textfile directory: logged once, the daemon goes on, no partial file" {
	local conf=/etc/flushtm/flushtm.conf cur=$BATS_TEST_TMPDIR/cursor
	cp "$conf" "$BATS_TEST_TMPDIR/conf.saved"
	journalctl -q -n 0 --show-cursor -u flushtmd.service | sed -n 's/^-- cursor: //p' > "$cur"
	[ -s "$cur" ]
	# Missing: a directory that is not there.
	printf 'textfile_dir = /var/lib/prometheus/absent\n' >> "$conf"
	systemctl reload flushtmd.service
	sleep 7
	[ "$(journal_since "$cur" | grep -c 'no metrics directory /var/lib/prometheus/absent')" -eq 1 ]
	# Read-only: /usr under the unit's ProtectSystem=strict.
	cp "$BATS_TEST_TMPDIR/conf.saved" "$conf"
	printf 'textfile_dir = /usr/share\n' >> "$conf"
	systemctl reload flushtmd.service
	sleep 7
	run journal_since "$cur"
	echo "$output"
	[ "$(grep -c 'cannot write metrics to /usr/share: Read-only file system' <<<"$output")" -eq 1 ]
	[ ! -e /usr/share/flushtm.prom ]
	! ls -A /usr/share | grep -q '^\.flushtm\.prom'
	[ "$(systemctl is-active flushtmd.service)" = active ]
	# Meanwhile the old file stood whole in the real directory; back to it.
	cp "$BATS_TEST_TMPDIR/conf.saved" "$conf"
	systemctl reload flushtmd.service
	wait_until 10 eval 'journal_since "$cur" | grep -q "metrics in /var/lib/prometheus/node-exporter/flushtm.prom"'
	metrics=$(cat /var/lib/prometheus/node-exporter/flushtm.prom)
	[ "$(sample flushtm_module_loaded)" = 1 ]
	[ "$(ls -A /var/lib/prometheus/node-exporter)" = flushtm.prom ]
}

@test "an upgrade to the next version keeps the admin's edited configuration and restarts the daemon" {
	local pid_before
	pid_before=$(systemctl show -P MainPID flushtmd.service)
	run apt-get install -y --no-install-recommends "$NEXT_DEB"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(dpkg-query -W -f='${Version}' flushtm)" = "${V}+1" ]
	grep -qx 'textfile_interval = 2' /etc/flushtm/flushtm.conf
	[ ! -e /etc/flushtm/flushtm.conf.dpkg-dist ] && [ ! -e /etc/flushtm/flushtm.conf.dpkg-new ]
	[ "$(systemctl is-active flushtm.service flushtmd.service | sort -u)" = active ]
	[ "$(systemctl show -P MainPID flushtmd.service)" != "$pid_before" ]
}

@test "apt-get remove stops the units and removes everything but the conffile, the module of every kernel too" {
	local t0=$SECONDS
	run apt-get remove -y flushtm flushtm-dkms
	echo "$output"
	echo "# apt-get remove: $((SECONDS - t0)) s" >&3
	[ "$status" -eq 0 ]
	[ "$(systemctl is-active flushtmd.service)" != active ]
	[ "$(systemctl is-active flushtm.service)" != active ]
	[ ! -e /lib/systemd/system/flushtmd.service ] && [ ! -e /usr/sbin/flushtmctl ]
	[ ! -e /usr/sbin/flushtmd ] && [ ! -e /usr/share/man/man8/flushtmctl.8.gz ]
	[ ! -e /var/lib/prometheus/node-exporter/flushtm.prom ]
	[ "$(dpkg-query -W -f='${Status}' flushtm)" = "deinstall ok config-files" ]
	grep -qx 'textfile_interval = 2' /etc/flushtm/flushtm.conf
	# DKMS forgot it for every kernel, and depmod with it.
	[ -z "$(dkms status flushtm 2> /dev/null)" ]
	[ -z "$(ls /lib/modules/*/updates/dkms/flushtm.ko* 2> /dev/null)" ]
	! grep -q 'flushtm\.ko' "/lib/modules/$(uname -r)/modules.dep"
	[ ! -e "/usr/src/flushtm-$V" ]
	# The module stays loaded until it is unloaded or the machine restarts, as
	# stopping flushtm.service leaves it (flushtm(4)): the hooks stay armed.
	[ -d /sys/module/flushtm ]
}

@test "apt-get purge removes the conffile" {
	run apt-get purge -y flushtm
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e /etc/flushtm/flushtm.conf ]
	! dpkg-query -W -f='${Status}' flushtm 2> /dev/null | grep -q installed
}
