// SPDX-License-Identifier: LGPL-2.1-or-later
/* hooks/<hook>/ and the exit hook's pid list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftm_private.h"

const char *const ftm_hook_names[] = {
	"panic", "die", "nmi", "reboot", "kexec", "cpu_offline", "exit", "aperture", "manual", NULL,
};

bool ftm_hook_name_valid(const char *name)
{
	for (const char *const *h = ftm_hook_names; *h; h++)
		if (!strcmp(*h, name))
			return true;
	return false;
}

static int hook_attr(const char *hook, const char *attr, char *buf, size_t len)
{
	int n = snprintf(buf, len, "hooks/%s/%s", hook, attr);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int hook_read_bool(const struct ftm_ctx *ctx, const char *hook, const char *attr,
			  bool *val)
{
	char rel[64];
	uint64_t v;
	int ret;

	ret = hook_attr(hook, attr, rel, sizeof(rel));
	if (ret < 0)
		return ret;
	ret = ftm_attr_read_u64(ctx, rel, &v);
	if (ret < 0)
		return ret;
	if (v > 1)
		return -EINVAL;
	*val = v;
	return 0;
}

static int hook_read_u64(const struct ftm_ctx *ctx, const char *hook, const char *attr,
			 uint64_t *val)
{
	char rel[64];
	int ret;

	ret = hook_attr(hook, attr, rel, sizeof(rel));
	if (ret < 0)
		return ret;
	return ftm_attr_read_u64(ctx, rel, val);
}

int ftm_hook_read(const struct ftm_ctx *ctx, const char *name, struct ftm_hook *hook)
{
	int ret;

	if (!ftm_hook_name_valid(name))
		return -EINVAL;
	memset(hook, 0, sizeof(*hook));
	snprintf(hook->name, sizeof(hook->name), "%s", name);
	ret = hook_read_bool(ctx, name, "available", &hook->available);
	if (!ret)
		ret = hook_read_bool(ctx, name, "enabled", &hook->enabled);
	if (!ret)
		ret = hook_read_u64(ctx, name, "fired", &hook->fired);
	if (!ret)
		ret = hook_read_u64(ctx, name, "flushed_bytes", &hook->flushed_bytes);
	if (!ret)
		ret = hook_read_u64(ctx, name, "last_ns", &hook->last_ns);
	if (!ret)
		ret = hook_read_u64(ctx, name, "max_ns", &hook->max_ns);
	return ret;
}

int ftm_hook_list(const struct ftm_ctx *ctx, struct ftm_hook **hooks, size_t *n)
{
	size_t count = 0, max = 0;
	struct ftm_hook *list;
	int ret;

	for (const char *const *h = ftm_hook_names; *h; h++)
		max++;
	list = calloc(max, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (const char *const *h = ftm_hook_names; *h; h++) {
		ret = ftm_hook_read(ctx, *h, &list[count]);
		/* A hook the module does not expose (a later or earlier interface). */
		if (ret == -ENOENT)
			continue;
		if (ret < 0) {
			free(list);
			return ret;
		}
		count++;
	}
	if (count == 0 && !ftm_module_present(ctx)) {
		free(list);
		return -ENOENT;
	}
	*hooks = list;
	*n = count;
	return 0;
}

int ftm_hook_set_enabled(const struct ftm_ctx *ctx, const char *name, bool enabled)
{
	char rel[64];
	bool available;
	int ret;

	if (!ftm_hook_name_valid(name))
		return -EINVAL;
	if (enabled) {
		ret = hook_read_bool(ctx, name, "available", &available);
		if (ret < 0)
			return ret;
		if (!available)
			return -EOPNOTSUPP;
	}
	ret = hook_attr(name, "enabled", rel, sizeof(rel));
	if (ret < 0)
		return ret;
	return ftm_attr_write(ctx, rel, enabled ? "1" : "0");
}

static int exit_write(const struct ftm_ctx *ctx, int pid, bool enroll)
{
	char buf[16];

	if (pid <= 0)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s%d", enroll ? "" : "-", pid);
	return ftm_attr_write(ctx, "hooks/exit/pids", buf);
}

int ftm_exit_enroll(const struct ftm_ctx *ctx, int pid)
{
	return exit_write(ctx, pid, true);
}

int ftm_exit_withdraw(const struct ftm_ctx *ctx, int pid)
{
	return exit_write(ctx, pid, false);
}

int ftm_exit_list(const struct ftm_ctx *ctx, int **pids, size_t *n)
{
	char buf[65536], *line, *save = NULL;
	size_t count = 0, cap = 0;
	int *list = NULL, ret;

	ret = ftm_attr_read(ctx, "hooks/exit/pids", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		long v;

		errno = 0;
		v = strtol(line, &end, 10);
		if (errno || *end || end == line || v <= 0 || v > INT32_MAX) {
			free(list);
			return -EINVAL;
		}
		if (count == cap) {
			int *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				free(list);
				return -ENOMEM;
			}
			list = grown;
		}
		list[count++] = (int)v;
	}
	*pids = list;
	*n = count;
	return 0;
}
