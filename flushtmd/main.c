// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flushtmd: keeps the flushtm module's ranges in step with the persistent
 * memory the system has, as namespaces and DAX devices come and go.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"

static void usage(FILE *out)
{
	fputs("usage: flushtmd [--config FILE] [--root DIR] [--foreground] [--verbose] [--resync SECS]\n"
	      "  --config FILE   configuration (default " FTM_CONF_DEFAULT ")\n"
	      "  --root DIR      flushtm configfs directory (default " FTM_CONFIGFS_DEFAULT ")\n"
	      "  --foreground    log for humans on stderr, even under systemd\n"
	      "  --verbose       log debug messages too\n"
	      "  --resync SECS   look for changes made behind its back every SECS seconds\n"
	      "                  (default 10; 0: never); retries back off from there\n"
	      "  --sysfs DIR, --procfs DIR   read apertures from another tree (tests)\n",
	      out);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "sysfs", required_argument, NULL, 'S' },
		{ "procfs", required_argument, NULL, 'P' },
		{ "resync", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ftmd_options opt = {
		.config = FTM_CONF_DEFAULT, .sysfs = "/sys", .procfs = "/proc",
		.resync = FTMD_RESYNC_DEFAULT,
	};
	unsigned long secs;
	char *end;
	bool foreground = false, verbose = false;
	struct ftmd_log log;
	struct ftmd d;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:r:fvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt.config = optarg;
			opt.config_given = true;
			break;
		case 'r':
			opt.root = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'S':
			opt.sysfs = optarg;
			break;
		case 'P':
			opt.procfs = optarg;
			break;
		case 'R':
			errno = 0;
			secs = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || secs > 86400) {
				fprintf(stderr, "flushtmd: --resync: not a number of seconds "
					"(0 to 86400): '%s'\n", optarg);
				return 2;
			}
			opt.resync = (unsigned int)secs;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flushtmd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Whole lines, one write each: the journal reads one entry per line. */
	setvbuf(stderr, NULL, _IOLBF, 0);
	ftmd_log_init(&log, foreground, verbose);
	if (ftmd_init(&d, &opt, &log) < 0) {
		ftmd_fini(&d);
		return 1;
	}
	status = ftmd_run(&d);
	ftmd_fini(&d);
	return status;
}
