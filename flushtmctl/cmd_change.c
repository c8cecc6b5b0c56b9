// SPDX-License-Identifier: GPL-2.0-or-later
/* Commands that change the module's state one attribute at a time. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/*
 * enable/disable HOOK...: every name checked before the first write.  A
 * write that fails does not stop the others (arming what can be armed keeps
 * the most coverage); each failure is named, and then the command has failed:
 * exit 1 and, as for any failing command, no JSON document.
 */
int cmd_enable(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	bool enable = !strcmp(cmd->name, "enable");
	struct json_object *out = NULL;
	struct ftm_hook *hooks = NULL;
	size_t nr_hooks = 0;
	int ret, status = CTL_OK;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 1, -1, NULL);
	if (ret >= 0)
		return ret;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "all") && !ftm_hook_name_valid(argv[i])) {
			ctl_err(cmd->name, "%s: unknown hook (panic die nmi reboot kexec "
				"cpu_offline exit aperture manual, or all)", argv[i]);
			return CTL_USAGE;
		}
	if (!ctl_need_module(ctl, cmd->name))
		return CTL_FAIL;
	ret = ftm_hook_list(ctl->ftm, &hooks, &nr_hooks);
	if (ret < 0) {
		ctl_err(cmd->name, "reading hooks: %s", ftm_strerror(ret, NULL));
		return CTL_FAIL;
	}
	if (enable)
		for (int i = 0; i < argc; i++) {
			size_t h;

			for (h = 0; h < nr_hooks && strcmp(hooks[h].name, argv[i]); h++)
				;
			if (strcmp(argv[i], "all") && (h == nr_hooks || !hooks[h].available)) {
				ctl_err(cmd->name, "%s: %s", argv[i],
					ftm_strerror(-EOPNOTSUPP, "hook"));
				free(hooks);
				return CTL_FAIL;
			}
		}
	if (ctl->json)
		out = json_object_new_array();
	for (size_t h = 0; h < nr_hooks; h++) {
		bool named = false;

		for (int i = 0; i < argc; i++)
			named |= !strcmp(argv[i], hooks[h].name) ||
				 (!strcmp(argv[i], "all") && (!enable || hooks[h].available));
		if (!named)
			continue;
		ret = ftm_hook_set_enabled(ctl->ftm, hooks[h].name, enable);
		if (ret < 0) {
			ctl_err(cmd->name, "%s: %s", hooks[h].name, ftm_strerror(ret, "hook"));
			status = CTL_FAIL;
			continue;
		}
		if (out) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(hooks[h].name));
			json_object_object_add(o, "enabled", json_object_new_boolean(enable));
			json_object_array_add(out, o);
		}
	}
	free(hooks);
	if (out && status != CTL_OK) {
		json_object_put(out);
	} else if (out) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "hooks", out);
		ctl_json_print(doc);
	}
	return status;
}

/*
 * Takes --reserve-mem LABEL (or --reserve-mem=LABEL) out of argv before the
 * common option parser sees it: range add is the one command with two
 * options that take a value.  NULL when absent; "" for a missing value.
 */
static const char *take_reserve_mem(int *argc, char **argv)
{
	static const char opt[] = "--reserve-mem";
	const char *label = NULL;
	int i, o;

	for (i = o = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[o++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], opt)) {
			label = i + 1 < *argc ? argv[++i] : "";
			continue;
		}
		if (!strncmp(argv[i], opt, sizeof(opt) - 1) && argv[i][sizeof(opt) - 1] == '=') {
			label = argv[i] + sizeof(opt);
			continue;
		}
		argv[o++] = argv[i];
	}
	*argc = o;
	argv[o] = NULL;
	return label;
}

int cmd_range_add(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	const char *owner = "admin", *step, *label;
	uint64_t start = 0, size = 0;
	struct ftm_range r;
	int ret;

	label = take_reserve_mem(&argc, argv);
	ret = ctl_parse(ctl, cmd, &argc, &argv, label ? 1 : 3, label ? 1 : 3, &owner);
	if (ret >= 0) {
		if (label && ret == CTL_USAGE)
			fprintf(stderr, "flushtmctl: range add: --reserve-mem LABEL takes the place "
				"of START SIZE (a range is given one way, never both)\n");
		return ret;
	}
	if (!ftm_range_name_valid(argv[0])) {
		ctl_err("range add", "%s: %s", argv[0], ftm_strerror(-EINVAL, "name"));
		return CTL_USAGE;
	}
	if (label) {
		if (!ftm_reserve_mem_label_valid(label)) {
			ctl_err("range add", "--reserve-mem '%s': %s", label,
				ftm_strerror(-EINVAL, "label"));
			return CTL_USAGE;
		}
		goto owner;
	}
	ret = ftm_parse_addr(argv[1], &start);
	if (ret < 0) {
		ctl_err("range add", "start '%s': %s", argv[1],
			ret == -ERANGE ? "too large" : "not an address (0x hex or decimal)");
		return CTL_USAGE;
	}
	ret = ftm_parse_size(argv[2], &size);
	if (ret < 0) {
		ctl_err("range add", "size '%s': %s", argv[2],
			ret == -ERANGE ? "too large" : "not a size (bytes, 0x hex, K, M, G)");
		return CTL_USAGE;
	}
owner:
	if (!*owner || strlen(owner) >= FTM_OWNER_MAX || strchr(owner, '\n')) {
		ctl_err("range add", "owner: %s", ftm_strerror(-EINVAL, "owner"));
		return CTL_USAGE;
	}
	if (!ctl_need_module(ctl, "range add"))
		return CTL_FAIL;
	if (label)
		ret = ftm_range_add_reserve_mem(ctl->ftm, argv[0], label, owner, &step);
	else
		ret = ftm_range_add(ctl->ftm, argv[0], start, size, owner, &step);
	if (ret < 0) {
		if (label && !strcmp(step, "enable") && ret == -ENOENT)
			ctl_err("range add", "%s: reserve_mem %s: %s", argv[0], label,
				ftm_strerror(ret, step));
		else
			ctl_err("range add", "%s: %s: %s", argv[0], step, ftm_strerror(ret, step));
		return CTL_FAIL;
	}
	if (ctl->json) {
		ret = ftm_range_read(ctl->ftm, argv[0], &r);
		if (ret < 0) {
			ctl_err("range add", "%s: %s", argv[0], ftm_strerror(ret, NULL));
			return CTL_FAIL;
		}
		ctl_json_print(ctl_json_range(&r));
	}
	return CTL_OK;
}

/* NAME as commands show it (escaped), so that what range list prints works here. */
int cmd_range_del(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	char name[FTM_NAME_MAX], shown[CTL_SHOWN_MAX];
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 1, 1, NULL);
	if (ret >= 0)
		return ret;
	if (!ctl_range_operand("range del", argv[0], name))
		return CTL_USAGE;
	if (!ctl_need_module(ctl, "range del"))
		return CTL_FAIL;
	ret = ftm_range_del(ctl->ftm, name);
	if (ret < 0) {
		ctl_err("range del", "%s: %s", argv[0], ftm_strerror(ret, "rmdir"));
		return CTL_FAIL;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "removed", json_object_new_string(ctl_shown(name, shown)));
		ctl_json_print(o);
	}
	return CTL_OK;
}

int cmd_range_priority(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	char name[FTM_NAME_MAX];
	unsigned int priority;
	struct ftm_range r;
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 2, 2, NULL);
	if (ret >= 0)
		return ret;
	if (!ctl_range_operand("range priority", argv[0], name))
		return CTL_USAGE;
	if (ftm_parse_priority(argv[1], &priority) < 0) {
		ctl_err("range priority", "%s: %s", argv[1], ftm_strerror(-EINVAL, "priority"));
		return CTL_USAGE;
	}
	if (!ctl_need_module(ctl, "range priority"))
		return CTL_FAIL;
	ret = ftm_range_set_priority(ctl->ftm, name, priority);
	if (ret < 0) {
		ctl_err("range priority", "%s: %s", argv[0], ftm_strerror(ret, "priority"));
		return CTL_FAIL;
	}
	if (ctl->json) {
		ret = ftm_range_read(ctl->ftm, name, &r);
		if (ret < 0) {
			ctl_err("range priority", "%s: %s", argv[0], ftm_strerror(ret, NULL));
			return CTL_FAIL;
		}
		ctl_json_print(ctl_json_range(&r));
	}
	return CTL_OK;
}

int cmd_flush(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	char name[FTM_NAME_MAX], shown[CTL_SHOWN_MAX];
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 1, NULL);
	if (ret >= 0)
		return ret;
	if (!argc)
		strcpy(name, "all");
	else if (!ctl_range_operand("flush", argv[0], name))
		return CTL_USAGE;
	if (!ctl_need_module(ctl, "flush"))
		return CTL_FAIL;
	ret = ftm_flush(ctl->ftm, name);
	if (ret < 0) {
		ctl_err("flush", "%s: %s", argc ? argv[0] : name, ftm_strerror(ret, "flush"));
		return CTL_FAIL;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "flushed", json_object_new_string(ctl_shown(name, shown)));
		ctl_json_print(o);
	}
	return CTL_OK;
}

/* set crash-budget auto|MS */
static int cmd_set_budget(struct ctl *ctl, const char *value)
{
	int ret;

	if (!ftm_crash_budget_valid(value)) {
		ctl_err("set crash-budget", "%s: %s", value, ftm_strerror(-EINVAL, "crash-budget"));
		return CTL_USAGE;
	}
	if (!ctl_need_module(ctl, "set"))
		return CTL_FAIL;
	ret = ftm_set_crash_budget(ctl->ftm, value);
	if (ret < 0) {
		ctl_err("set crash-budget", "%s: %s", value, ftm_strerror(ret, "crash-budget"));
		return CTL_FAIL;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "crash_budget_ms", json_object_new_string(value));
		ctl_json_print(o);
	}
	return CTL_OK;
}

int cmd_set(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	uint64_t bytes = 0;
	bool method;
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 2, 2, NULL);
	if (ret >= 0)
		return ret;
	if (!strcmp(argv[0], "crash-budget"))
		return cmd_set_budget(ctl, argv[1]);
	method = !strcmp(argv[0], "method");
	if (!method && strcmp(argv[0], "cache-threshold")) {
		ctl_err("set", "%s: unknown setting (method, cache-threshold, crash-budget)", argv[0]);
		return CTL_USAGE;
	}
	if (method && !ftm_method_valid(argv[1])) {
		ctl_err("set method", "%s: %s", argv[1], ftm_strerror(-EINVAL, "method"));
		return CTL_USAGE;
	}
	if (!method) {
		ret = ftm_parse_size(argv[1], &bytes);
		if (ret < 0) {
			ctl_err("set cache-threshold", "%s: %s", argv[1],
				ret == -ERANGE ? "too large" : "not a size (bytes, 0x hex, K, M, G)");
			return CTL_USAGE;
		}
	}
	if (!ctl_need_module(ctl, "set"))
		return CTL_FAIL;
	ret = method ? ftm_set_method(ctl->ftm, argv[1])
		     : ftm_set_cache_threshold(ctl->ftm, bytes);
	if (ret < 0) {
		ctl_err(method ? "set method" : "set cache-threshold", "%s: %s", argv[1],
			ftm_strerror(ret, method ? "method" : "cache-threshold"));
		return CTL_FAIL;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		if (method)
			json_object_object_add(o, "method", json_object_new_string(argv[1]));
		else
			json_object_object_add(o, "cache_threshold", json_object_new_uint64(bytes));
		ctl_json_print(o);
	}
	return CTL_OK;
}

int cmd_enroll(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	bool enroll = !strcmp(cmd->name, "enroll");
	char *end;
	long pid;
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 1, 1, NULL);
	if (ret >= 0)
		return ret;
	errno = 0;
	pid = strtol(argv[0], &end, 10);
	if (errno || *end || end == argv[0] || pid <= 0 || pid > INT_MAX) {
		ctl_err(cmd->name, "%s: not a process id", argv[0]);
		return CTL_USAGE;
	}
	if (!ctl_need_module(ctl, cmd->name))
		return CTL_FAIL;
	ret = enroll ? ftm_exit_enroll(ctl->ftm, (int)pid) : ftm_exit_withdraw(ctl->ftm, (int)pid);
	if (ret < 0) {
		ctl_err(cmd->name, "%ld: %s", pid, ftm_strerror(ret, cmd->name));
		return CTL_FAIL;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int((int)pid));
		json_object_object_add(o, "enrolled", json_object_new_boolean(enroll));
		ctl_json_print(o);
	}
	return CTL_OK;
}
