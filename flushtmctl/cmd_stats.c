// SPDX-License-Identifier: GPL-2.0-or-later
/* stats --format: text, json, or prometheus (lib/ftm_metrics.c renders it). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ftm_metrics.h"

int ctl_stats_format(struct ctl *ctl, const struct command *cmd, const char *format)
{
	int ret;

	if (!format || !strcmp(format, "text")) {
		if (format && ctl->json) {
			fprintf(stderr, "flushtmctl: %s: --format text and --json: choose one\n",
				cmd->name);
			return CTL_USAGE;
		}
		return -1;
	}
	if (!strcmp(format, "json")) {
		ctl->json = true;
		return -1;
	}
	if (strcmp(format, "prometheus")) {
		fprintf(stderr, "flushtmctl: %s: --format %s: not one of text, json, prometheus\n",
			cmd->name, format);
		return CTL_USAGE;
	}
	if (ctl->json) {
		fprintf(stderr, "flushtmctl: %s: --format prometheus and --json: choose one\n",
			cmd->name);
		return CTL_USAGE;
	}
	ret = ftm_metrics_write(stdout, ctl->ftm, ctl->sysfs_root, ctl->procfs_root);
	if (ret < 0) {
		ctl_err("stats", "reading %s: %s", ftm_ctx_root(ctl->ftm), ftm_strerror(ret, NULL));
		return CTL_FAIL;
	}
	return CTL_OK;
}
