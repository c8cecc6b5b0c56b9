// SPDX-License-Identifier: GPL-2.0-or-later
/* apply [FILE]: the whole configuration checked, then the module made to match it. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

struct apply_out {
	struct json_object *changes;	/* --json: the array of changes */
};

/* detail may be a range name (remove-range: any config-owned name): shown escaped. */
static void note_change(void *arg, const char *what, const char *detail)
{
	struct apply_out *out = arg;
	char shown[CTL_SHOWN_MAX];

	ctl_shown(detail, shown);
	if (out->changes) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "what", json_object_new_string(what));
		json_object_object_add(o, "detail", json_object_new_string(shown));
		json_object_array_add(out->changes, o);
	} else {
		printf("%-16s %s\n", what, shown);
	}
}

int cmd_apply(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	struct apply_out out = { NULL };
	const char *path = FTM_CONF_DEFAULT;
	unsigned int changes = 0;
	struct ftm_conf conf;
	char err[1024];
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 1, NULL);
	if (ret >= 0)
		return ret;
	if (argc)
		path = argv[0];
	ret = ftm_conf_load(path, &conf, err, sizeof(err));
	if (ret < 0) {
		ctl_err("apply", "%s", err);
		return CTL_FAIL;
	}
	if (!ctl_need_module(ctl, "apply")) {
		ftm_conf_free(&conf);
		return CTL_FAIL;
	}
	if (ctl->json)
		out.changes = json_object_new_array();
	ret = ftm_conf_apply(ctl->ftm, &conf, note_change, &out, &changes, err, sizeof(err));
	ftm_conf_free(&conf);
	if (ret < 0) {
		json_object_put(out.changes);
		ctl_err("apply", "%s", err);
		return CTL_FAIL;
	}
	if (out.changes) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "changes", out.changes);
		ctl_json_print(o);
	} else if (!changes) {
		printf("nothing to change\n");
	}
	return CTL_OK;
}
