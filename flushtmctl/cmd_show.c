// SPDX-License-Identifier: GPL-2.0-or-later
/* Commands that only read: status, stats, range list. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/*
 * The hooks as status shows them: name, available, enabled, fired, the
 * other counters left 0.  Half the files ftm_hook_list() reads, for the
 * command run most often (a file costs more than any other part of status,
 * its start included); like ftm_hook_list(), a hook the module does not
 * expose is left out.
 */
static int hook_list_state(const struct ftm_ctx *ftm, struct ftm_hook **hooks, size_t *n)
{
	static const char *const attrs[] = { "available", "enabled", "fired" };
	size_t max = 0, count = 0;
	struct ftm_hook *list;

	for (const char *const *h = ftm_hook_names; *h; h++)
		max++;
	list = calloc(max, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (const char *const *h = ftm_hook_names; *h; h++) {
		uint64_t v[3];
		int ret = 0;

		for (size_t a = 0; a < 3 && !ret; a++) {
			char rel[64];

			snprintf(rel, sizeof(rel), "hooks/%s/%s", *h, attrs[a]);
			ret = ftm_attr_read_u64(ftm, rel, &v[a]);
		}
		if (ret == -ENOENT)
			continue;
		if (!ret && (v[0] > 1 || v[1] > 1))
			ret = -EINVAL;
		if (ret < 0) {
			free(list);
			return ret;
		}
		snprintf(list[count].name, sizeof(list[count].name), "%s", *h);
		list[count].available = v[0];
		list[count].enabled = v[1];
		list[count].fired = v[2];
		count++;
	}
	*hooks = list;
	*n = count;
	return 0;
}

/* hook_counters: every counter of each hook (stats), else what status shows. */
static int read_state(const struct ctl *ctl, const char *what, struct ftm_info *info,
		      struct ftm_hook **hooks, size_t *nr_hooks, bool hook_counters,
		      struct ftm_range **ranges, size_t *nr_ranges)
{
	int ret = 0;

	if (hooks)
		*hooks = NULL;
	if (ranges)
		*ranges = NULL;
	if (info)
		ret = ftm_info_read(ctl->ftm, info);
	if (!ret && hooks)
		ret = hook_counters ? ftm_hook_list(ctl->ftm, hooks, nr_hooks)
				    : hook_list_state(ctl->ftm, hooks, nr_hooks);
	if (!ret && ranges)
		ret = ftm_range_list(ctl->ftm, ranges, nr_ranges);
	if (ret < 0) {
		if (hooks)
			free(*hooks);
		ctl_err(what, "reading %s: %s", ftm_ctx_root(ctl->ftm), ftm_strerror(ret, NULL));
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* Names and owners escaped (ctl_shown); an unreadable range with a warning. */
static void print_ranges(const char *what, const struct ftm_range *r, size_t n,
			 const char *indent)
{
	char size[16], flushed[16], name[CTL_SHOWN_MAX], owner[CTL_SHOWN_MAX];
	int w = 4;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(ctl_shown(r[i].name, name)) > w)
			w = (int)strlen(name);
	printf("%s%-*s  %-18s  %8s  %-7s  %4s  %-10s  %8s\n", indent, w, "NAME", "START", "SIZE",
	       "ENABLED", "PRIO", "OWNER", "FLUSHED");
	for (size_t i = 0; i < n; i++) {
		printf("%s%-*s  0x%-16" PRIx64 "  %8s  %-7s  %4u  %-10s  %8s\n", indent, w,
		       ctl_shown(r[i].name, name), r[i].start,
		       ftm_format_size(r[i].size, size, sizeof(size)), yes_no(r[i].enabled),
		       r[i].priority, ctl_shown(r[i].owner, owner),
		       ftm_format_size(r[i].flushed_bytes, flushed, sizeof(flushed)));
		if (r[i].error)
			ctl_warn_unreadable(what, &r[i]);
	}
}

int cmd_status(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	struct ftm_range *ranges;
	struct ftm_hook *hooks;
	size_t nr_hooks = 0, nr_ranges = 0;
	struct ftm_info info;
	char buf[16];
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 0, NULL);
	if (ret >= 0)
		return ret;
	if (!ftm_module_present(ctl->ftm)) {
		char sys_module[PATH_MAX];

		/*
		 * Loaded but unreachable is not "not loaded": a failure, said
		 * as such in either mode (and so no JSON document).
		 */
		snprintf(sys_module, sizeof(sys_module), "%s/module/flushtm", ctl->sysfs_root);
		if (access(sys_module, F_OK) == 0 &&
		    !strcmp(ftm_ctx_root(ctl->ftm), FTM_CONFIGFS_DEFAULT)) {
			ctl_err("status", "flushtm is loaded but %s is missing (configfs not "
				"mounted at " CTL_CONFIGFS_MOUNT "?)", FTM_CONFIGFS_DEFAULT);
			return CTL_FAIL;
		}
		if (ctl->json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "loaded", json_object_new_boolean(false));
			json_object_object_add(o, "root",
					       json_object_new_string(ftm_ctx_root(ctl->ftm)));
			json_object_object_add(o, "hooks", json_object_new_array());
			json_object_object_add(o, "ranges", json_object_new_array());
			return ctl_json_print(o);
		}
		printf("flushtm: not loaded\n");
		return CTL_OK;
	}
	ret = read_state(ctl, "status", &info, &hooks, &nr_hooks, false, &ranges, &nr_ranges);
	if (ret)
		return ret;
	if (ctl->json) {
		struct json_object *o = json_object_new_object(), *a;

		json_object_object_add(o, "loaded", json_object_new_boolean(true));
		json_object_object_add(o, "root", json_object_new_string(ftm_ctx_root(ctl->ftm)));
		json_object_object_add(o, "version", json_object_new_int((int)info.version));
		json_object_object_add(o, "method", json_object_new_string(info.method));
		json_object_object_add(o, "cache_threshold",
				       json_object_new_uint64(info.cache_threshold));
		json_object_object_add(o, "generation", json_object_new_uint64(info.generation));
		a = json_object_new_array();
		for (size_t i = 0; i < nr_hooks; i++)
			json_object_array_add(a, ctl_json_hook(&hooks[i], false));
		json_object_object_add(o, "hooks", a);
		a = json_object_new_array();
		for (size_t i = 0; i < nr_ranges; i++) {
			json_object_array_add(a, ctl_json_range(&ranges[i]));
			if (ranges[i].error)
				ctl_warn_unreadable("status", &ranges[i]);
		}
		json_object_object_add(o, "ranges", a);
		ctl_last_status(ctl, o);
		ret = ctl_json_print(o);
	} else {
		printf("flushtm: loaded, interface %u\n", info.version);
		printf("method: %s, cache threshold %s\n", info.method,
		       ftm_format_size(info.cache_threshold, buf, sizeof(buf)));
		printf("generation: %" PRIu64 "\n", info.generation);
		printf("hooks:\n  %-12s  %-9s  %-7s  %8s\n", "NAME", "AVAILABLE", "ENABLED", "FIRED");
		for (size_t i = 0; i < nr_hooks; i++)
			printf("  %-12s  %-9s  %-7s  %8" PRIu64 "\n", hooks[i].name,
			       yes_no(hooks[i].available), yes_no(hooks[i].enabled), hooks[i].fired);
		if (nr_ranges) {
			printf("ranges:\n");
			print_ranges("status", ranges, nr_ranges, "  ");
		} else {
			printf("ranges: none\n");
		}
		ctl_last_status(ctl, NULL);
	}
	free(hooks);
	free(ranges);
	return ret;
}

int cmd_stats(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	struct ftm_range *ranges;
	struct ftm_hook *hooks;
	size_t nr_hooks = 0, nr_ranges = 0;
	const char *format = NULL;
	char b1[16];
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 0, &format);
	if (ret >= 0)
		return ret;
	ret = ctl_stats_format(ctl, cmd, format);
	if (ret >= 0)
		return ret;
	if (!ctl_need_module(ctl, "stats"))
		return CTL_FAIL;
	ret = read_state(ctl, "stats", NULL, &hooks, &nr_hooks, true, &ranges, &nr_ranges);
	if (ret)
		return ret;
	if (ctl->json) {
		struct json_object *o = json_object_new_object(), *a;

		a = json_object_new_array();
		for (size_t i = 0; i < nr_hooks; i++)
			json_object_array_add(a, ctl_json_hook(&hooks[i], true));
		json_object_object_add(o, "hooks", a);
		a = json_object_new_array();
		for (size_t i = 0; i < nr_ranges; i++) {
			struct json_object *r = json_object_new_object();
			char name[CTL_SHOWN_MAX];

			json_object_object_add(r, "name", json_object_new_string(
						       ctl_shown(ranges[i].name, name)));
			json_object_object_add(r, "flushed_bytes",
					       json_object_new_uint64(ranges[i].flushed_bytes));
			if (ranges[i].error) {
				json_object_object_add(r, "error", json_object_new_string(
							       ftm_strerror(ranges[i].error, NULL)));
				ctl_warn_unreadable("stats", &ranges[i]);
			}
			json_object_array_add(a, r);
		}
		json_object_object_add(o, "ranges", a);
		ret = ctl_json_print(o);
	} else {
		char name[CTL_SHOWN_MAX];
		int w = 5;

		printf("%-12s  %8s  %10s  %12s  %12s\n", "HOOK", "FIRED", "FLUSHED", "LAST_NS",
		       "MAX_NS");
		for (size_t i = 0; i < nr_hooks; i++)
			printf("%-12s  %8" PRIu64 "  %10s  %12" PRIu64 "  %12" PRIu64 "\n",
			       hooks[i].name, hooks[i].fired,
			       ftm_format_size(hooks[i].flushed_bytes, b1, sizeof(b1)),
			       hooks[i].last_ns, hooks[i].max_ns);
		for (size_t i = 0; i < nr_ranges; i++)
			if ((int)strlen(ctl_shown(ranges[i].name, name)) > w)
				w = (int)strlen(name);
		if (nr_ranges)
			printf("\n%-*s  %10s\n", w, "RANGE", "FLUSHED");
		for (size_t i = 0; i < nr_ranges; i++) {
			printf("%-*s  %10s\n", w, ctl_shown(ranges[i].name, name),
			       ftm_format_size(ranges[i].flushed_bytes, b1, sizeof(b1)));
			if (ranges[i].error)
				ctl_warn_unreadable("stats", &ranges[i]);
		}
	}
	free(hooks);
	free(ranges);
	return ret;
}

int cmd_range_list(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	struct ftm_range *ranges;
	size_t n = 0;
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 0, NULL);
	if (ret >= 0)
		return ret;
	if (!ctl_need_module(ctl, "range list"))
		return CTL_FAIL;
	ret = read_state(ctl, "range list", NULL, NULL, NULL, false, &ranges, &n);
	if (ret)
		return ret;
	if (ctl->json) {
		struct json_object *a = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			json_object_array_add(a, ctl_json_range(&ranges[i]));
			if (ranges[i].error)
				ctl_warn_unreadable("range list", &ranges[i]);
		}
		ret = ctl_json_print(a);
	} else if (n) {
		print_ranges("range list", ranges, n, "");
	}
	free(ranges);
	return ret;
}
