// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The config reader and configfs attributes under short reads (issue 13
 * item 10): re-runs itself with tests/short-read.so preloaded, then loads a
 * config file several times larger than one read returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libflushtm.h"
#include "tap.h"

int main(int argc, char **argv)
{
	char file[] = "/tmp/ftm-short-read.XXXXXX", err[512];
	struct tap t = { 0 };
	struct ftm_conf conf;
	FILE *f;
	int fd, ret;

	(void)argc;
	if (!getenv("FTM_SHORT_READS")) {
		setenv("FTM_SHORT_READS", "1", 1);
		setenv("LD_PRELOAD", "tests/short-read.so", 1);
		execv("/proc/self/exe", argv);
		printf("Bail out! exec: %s\n", strerror(errno));
		return 2;
	}
	fd = mkstemp(file);
	f = fdopen(fd, "w");
	fprintf(f, "[flushtm]\nmethod = lines\nhooks = panic die reboot\n");
	for (int i = 0; i < 50; i++)
		fprintf(f, "[range r%d]\nstart = 0x%x\nsize = 4K\n", i, 0x100000 + i * 4096);
	fclose(f);
	ret = ftm_conf_load(file, &conf, err, sizeof(err));
	tap_ok(&t, ret == 0, "a file read 7 bytes at a time loads: %s", err);
	tap_ok(&t, ret == 0 && conf.nr_ranges == 50 && conf.has_method &&
	       !strcmp(conf.method, "lines"), "... whole: 50 ranges and the method");
	ftm_conf_free(&conf);
	unlink(file);
	return tap_done(&t);
}
