// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flushtmctl: manage flushtm through configfs.  One command table, as in
 * ndctl; each command's --help comes from the same entry.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* FLUSHTM_VERSION: from debian/changelog, by mk/version.mk. */

static const struct command commands[] = {
	{ "status", cmd_status, "",
	  "module loaded or not, interface, method, hooks, ranges",
	  "Shows whether flushtm is loaded; if it is: the interface version, the flush method\n"
	  "and cache threshold, the generation of the range set, each hook (available,\n"
	  "enabled, times fired) and each range.  Exits 0 when the module is not loaded.", NULL, false },
	{ "enable", cmd_enable, "HOOK...",
	  "arm hooks (all: every available hook)",
	  "Hooks: panic die nmi reboot kexec cpu_offline exit aperture manual, or all (every\n"
	  "hook this kernel makes available).  A hook that is not available is an error.", NULL, false },
	{ "disable", cmd_enable, "HOOK...",
	  "disarm hooks (all: every hook)",
	  "Hooks: panic die nmi reboot kexec cpu_offline exit aperture manual, or all.", NULL, false },
	{ "range add", cmd_range_add, "NAME START SIZE [--owner TEXT] | NAME --reserve-mem LABEL",
	  "make, fill and enable a range",
	  "START: physical address, 0x hex or decimal.  SIZE: bytes, 0x hex or decimal,\n"
	  "optional K, M, G suffix (powers of 1024).  --owner TEXT: who made it (default\n"
	  "admin; at most 64 bytes).  All or nothing: the range is made, filled and enabled\n"
	  "last; if any step fails what was made is removed and the kernel's reason given.\n"
	  "The kernel takes only page-aligned ranges wholly inside System RAM or persistent\n"
	  "memory.  --reserve-mem LABEL instead of START SIZE: the region the kernel set\n"
	  "aside with reserve_mem=SIZE:ALIGN:LABEL on its command line (Linux 6.11 on),\n"
	  "looked up by the module.", "owner", false },
	{ "range del", cmd_range_del, "NAME",
	  "remove a range (the kernel flushes it first)", NULL, NULL, false },
	{ "range priority", cmd_range_priority, "NAME PRIORITY",
	  "set the order a range is flushed in",
	  "PRIORITY: 0 (every range's default) to 255.  Every flush of the set walks the\n"
	  "higher priorities first, and where ranges overlap the bytes are the higher one's:\n"
	  "a crash budget (set crash-budget) cuts off the lowest.  Takes effect at once,\n"
	  "enabled or not.", NULL, false },
	{ "range list", cmd_range_list, "",
	  "the ranges: start, size, enabled, priority, owner, flushed bytes", NULL, NULL, false },
	{ "flush", cmd_flush, "[NAME]",
	  "flush every enabled range now, or range NAME",
	  "Returns when done.  Counted under the manual hook.", NULL, false },
	{ "stats", cmd_stats, "[--format text|json|prometheus]",
	  "counters of every hook and range",
	  "For each hook: times fired, bytes flushed, duration of the last and of the\n"
	  "longest flush.  For each range: bytes flushed.  --format json is --json.\n"
	  "--format prometheus: the Prometheus text exposition format, as flushtmd writes\n"
	  "it for node_exporter's textfile collector: hooks, ranges (size, enabled,\n"
	  "flushed bytes, owner as a label), persistent memory covered and uncovered as\n"
	  "check counts it, module loaded, interface version; exits 0 when the module is\n"
	  "not loaded (flushtm_module_loaded 0).", "format", false },
	{ "set", cmd_set, "method|cache-threshold|crash-budget VALUE",
	  "set the flush method or the cache threshold",
	  "method lines: write back each cache line of each range.  method cache: write back\n"
	  "whole caches on every CPU.  method auto: lines unless the enabled ranges total\n"
	  "more than the cache threshold.  BYTES takes K, M, G suffixes.", NULL, false },
	{ "enroll", cmd_enroll, "PID",
	  "flush when process PID exits (the exit hook)", NULL, NULL, false },
	{ "withdraw", cmd_enroll, "PID",
	  "stop flushing at process PID's exit", NULL, NULL, false },
	{ "run", cmd_run, "[--] CMD [ARG...]",
	  "run CMD enrolled in the exit hook from its first instruction",
	  "CMD runs as a child of flushtmctl, enrolled (as by enroll) before it execs, so\n"
	  "its exit flushes, as does each exec it makes.  flushtmctl waits and exits with\n"
	  "CMD's status (128+N when signal N killed it), 127 when CMD is not found, 126 when\n"
	  "it cannot be executed, 125 when flushtmctl itself failed (module not loaded,\n"
	  "enrolment refused).  Options end at CMD.  A signal sent to flushtmctl is passed\n"
	  "on to CMD.  Prints nothing of its own, --json or not.", NULL, true },
	{ "load", cmd_load, "[--path FILE.ko]",
	  "load the module through libkmod, mount configfs if needed",
	  "Without --path the module is found by name in the module index of the running\n"
	  "kernel (modprobe flushtm; blacklists apply).  configfs is loaded and mounted at\n"
	  "/sys/kernel/config when it is not.  Loading a module that is loaded is an error.",
	  "path", false },
	{ "unload", cmd_unload, "",
	  "remove every range (flushed), then the module",
	  "Every range is removed first, whoever made it; the kernel flushes each enabled\n"
	  "range as it goes.  Then the module is removed.", NULL, false },
	{ "apply", cmd_apply, "[FILE]",
	  "apply a config file (default " FTM_CONF_DEFAULT ")",
	  "Reads FILE and then FILE.d/*.conf in name order.  The whole configuration is\n"
	  "checked first (file:line: why); when anything is wrong nothing is changed.\n"
	  "Then: ranges of the file are made with owner config (re-made if their start\n"
	  "or size changed), method and cache_threshold set, the listed hooks armed and\n"
	  "the others disarmed (aperture and manual are never disarmed by apply), and\n"
	  "ranges of owner config that the file no longer lists are removed.  Ranges of\n"
	  "other owners are never touched.  Applying the same file twice changes nothing\n"
	  "the second time.  Prints each change made.", NULL, false },
	{ "last", cmd_last, "",
	  "how the previous boot ended, from flushtm's lines in pstore",
	  "Reads the kernel log that a pstore backend (ramoops) kept of the previous boot:\n"
	  "/sys/fs/pstore, and /var/lib/systemd/pstore where systemd-pstore moved it.\n"
	  "Shows the record (file, when it was written against this boot's start), the\n"
	  "hook of its last flush line with ranges, bytes, method, duration and CPU, and\n"
	  "the flush lines before it.  A record written during this boot, or archived by\n"
	  "an earlier boot, is not the previous boot's.  Exit 1 when there is no record,\n"
	  "saying why (no backend, none from before this boot, compressed, no flush line\n"
	  "in it, cut short); --json prints its document then too.  FLUSHTM_PSTORE and\n"
	  "FLUSHTM_PSTORE_ARCHIVE point at other directories (tests).", NULL, false },
	{ "check", cmd_check, "",
	  "audit coverage; exit 1 listing each gap",
	  "Gaps: the module not loaded; persistent memory in /proc/iomem or an enabled\n"
	  "libnvdimm namespace not wholly covered by enabled ranges; hooks panic, die or\n"
	  "reboot not armed; a kdump kernel loaded while crash_kexec_post_notifiers is off\n"
	  "(the panic hook would not run before kdump).  Also reports each region's\n"
	  "persistence_domain (cpu_cache: the platform flushes caches on power loss, not\n"
	  "on reset or panic).  Exit 0 when there is no gap.  FLUSHTM_SYSFS and\n"
	  "FLUSHTM_PROCFS point at other sysfs and procfs roots (tests).", NULL, false },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_main(FILE *f)
{
	fprintf(f, "usage: flushtmctl [--root DIR] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-12s %-30s %s\n", commands[i].name, commands[i].args,
			commands[i].summary);
	fprintf(f, "\noptions:\n"
		"  --root DIR   the module's configfs directory (default $" FTM_CONFIGFS_ENV
		", else " FTM_CONFIGFS_DEFAULT ")\n"
		"  --json       print one JSON document (lists are always arrays)\n"
		"  --help       this text; COMMAND --help for a command's\n"
		"  --version    the version and the configfs interface it speaks\n"
		"\nExit status: 0 success, 1 failure, 2 usage.\n");
}

static void usage_cmd(FILE *f, const struct command *cmd)
{
	fprintf(f, "usage: flushtmctl [--root DIR] [--json] %s%s%s\n\n%s.\n", cmd->name,
		*cmd->args ? " " : "", cmd->args, cmd->summary);
	if (cmd->help)
		fprintf(f, "\n%s\n", cmd->help);
}

__attribute__((format(printf, 2, 3)))
static int usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "flushtmctl: %s: ", cmd ? cmd->name : "usage");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nusage: flushtmctl %s %s\n", cmd->name, cmd->args);
	else
		fprintf(stderr, "\nTry 'flushtmctl --help'.\n");
	return CTL_USAGE;
}

int ctl_parse(struct ctl *ctl, const struct command *cmd, int *argc, char ***argv,
	      int min_args, int max_args, const char **value)
{
	struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ cmd->value_opt ? cmd->value_opt : "", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c, n;

	if (!cmd->value_opt)
		opts[2] = opts[3];
	/* 0, not 1: glibc then forgets the first getopt_long's "+" (stop at operands). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(*argc, *argv, cmd->takes_command ? "+hj" : "hj", opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			usage_cmd(stdout, cmd);
			return CTL_OK;
		case 'j':
			ctl->json = true;
			break;
		case 'v':
			*value = optarg;
			break;
		default:
			if (optopt)
				return usage_error(cmd, "unknown option '-%c'", optopt);
			return usage_error(cmd, "unknown option '%s'", (*argv)[optind - 1]);
		}
	}
	*argc -= optind;
	*argv += optind;
	n = *argc;
	if (n < min_args)
		return usage_error(cmd, "missing argument");
	if (max_args >= 0 && n > max_args)
		return usage_error(cmd, "unexpected argument '%s'", (*argv)[max_args]);
	return -1;
}

static const struct command *find_command(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		const char *name = commands[i].name, *sp = strchr(name, ' ');

		if (!sp) {
			if (!strcmp(argv[0], name)) {
				*used = 1;
				return &commands[i];
			}
			continue;
		}
		if (argc >= 2 && !strncmp(argv[0], name, (size_t)(sp - name)) &&
		    !argv[0][sp - name] && !strcmp(argv[1], sp + 1)) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* `flushtmctl range` or `flushtmctl range --help`: list the subcommands. */
static int group_usage(const char *group, bool asked)
{
	FILE *f = asked ? stdout : stderr;
	size_t len = strlen(group);

	if (!asked)
		fprintf(stderr, "flushtmctl: %s: missing or unknown subcommand\n", group);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strncmp(commands[i].name, group, len) && commands[i].name[len] == ' ')
			fprintf(f, "usage: flushtmctl %s %s\n", commands[i].name, commands[i].args);
	return asked ? CTL_OK : CTL_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { 0 };
	const struct command *cmd;
	const char *root = NULL;
	int c, used, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+r:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage_main(stdout);
			return CTL_OK;
		case 'V':
			printf("flushtmctl %s (configfs interface %d)\n", FLUSHTM_VERSION,
			       FTM_INTERFACE_VERSION);
			return CTL_OK;
		default:
			if (optopt == 'r')
				return usage_error(NULL, "--root needs a directory");
			return usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return usage_error(NULL, "no command given");
	cmd = find_command(argc, argv, &used);
	if (!cmd) {
		if (!strcmp(argv[0], "range"))
			return group_usage(argv[0], argc >= 2 && (!strcmp(argv[1], "--help") ||
								  !strcmp(argv[1], "-h")));
		return usage_error(NULL, "unknown command '%s'", argv[0]);
	}
	ret = ftm_ctx_new(&ctl.ftm, root);
	if (ret < 0) {
		ctl_err("--root", "%s", strerror(-ret));
		return CTL_FAIL;
	}
	ctl.sysfs_root = getenv("FLUSHTM_SYSFS");
	if (!ctl.sysfs_root || !*ctl.sysfs_root)
		ctl.sysfs_root = "/sys";
	ctl.procfs_root = getenv("FLUSHTM_PROCFS");
	if (!ctl.procfs_root || !*ctl.procfs_root)
		ctl.procfs_root = "/proc";
	/* Commands see their own name as argv[0], as getopt expects. */
	argc -= used - 1;
	argv += used - 1;
	ret = cmd->run(&ctl, cmd, argc, argv);
	ftm_ctx_free(ctl.ftm);
	if (fflush(stdout) != 0 && ret == CTL_OK) {
		ctl_err("stdout", "%s", strerror(errno));
		ret = CTL_FAIL;
	}
	return ret;
}
