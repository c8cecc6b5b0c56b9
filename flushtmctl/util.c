// SPDX-License-Identifier: GPL-2.0-or-later
/* Errors and JSON: how flushtmctl speaks. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>

#include "ctl.h"

void ctl_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	/* What was printed so far comes first, when both go to one place. */
	fflush(stdout);
	fprintf(stderr, "flushtmctl: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool ctl_configfs_mounted(void)
{
	struct statfs sfs;

	return statfs(CTL_CONFIGFS_MOUNT, &sfs) == 0 && sfs.f_type == CTL_CONFIGFS_MAGIC;
}

bool ctl_need_module(const struct ctl *ctl, const char *what)
{
	if (ftm_module_present(ctl->ftm))
		return true;
	/* The usual reason for the default root: nobody mounted configfs. */
	if (!strcmp(ftm_ctx_root(ctl->ftm), FTM_CONFIGFS_DEFAULT) && !ctl_configfs_mounted())
		ctl_err(what, "flushtm module not loaded (configfs not mounted at "
			CTL_CONFIGFS_MOUNT ")");
	else
		ctl_err(what, "flushtm module not loaded (no %s)", ftm_ctx_root(ctl->ftm));
	return false;
}

const char *ctl_shown(const char *name, char *buf)
{
	return ftm_name_escape(name, buf, CTL_SHOWN_MAX);
}

bool ctl_range_operand(const char *what, const char *arg, char *name)
{
	int ret = ftm_name_unescape(arg, name, FTM_NAME_MAX);

	if (ret == -EINVAL)
		ctl_err(what, "%s: malformed name (a backslash starts \\xHH, e.g. \\x5c for a "
			"backslash)", arg);
	else if (ret < 0)
		ctl_err(what, "%s: %s", arg, ftm_strerror(-EINVAL, "name"));
	return ret == 0;
}

void ctl_warn_unreadable(const char *what, const struct ftm_range *r)
{
	char shown[CTL_SHOWN_MAX];

	ctl_err(what, "warning: range %s cannot be read (%s); shown as far as it was read",
		ctl_shown(r->name, shown), ftm_strerror(r->error, NULL));
}

int ctl_json_print(struct json_object *doc)
{
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	return CTL_OK;
}

struct json_object *ctl_json_addr(uint64_t addr)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	return json_object_new_string(buf);
}

static struct json_object *json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

struct json_object *ctl_json_range(const struct ftm_range *r)
{
	struct json_object *o = json_object_new_object();
	char shown[CTL_SHOWN_MAX];

	json_object_object_add(o, "name", json_object_new_string(ctl_shown(r->name, shown)));
	json_object_object_add(o, "start", ctl_json_addr(r->start));
	json_object_object_add(o, "size", json_u64(r->size));
	json_object_object_add(o, "enabled", json_object_new_boolean(r->enabled));
	json_object_object_add(o, "priority", json_object_new_int((int)r->priority));
	json_object_object_add(o, "owner", json_object_new_string(ctl_shown(r->owner, shown)));
	json_object_object_add(o, "flushed_bytes", json_u64(r->flushed_bytes));
	if (r->error)
		json_object_object_add(o, "error",
				       json_object_new_string(ftm_strerror(r->error, NULL)));
	return o;
}

struct json_object *ctl_json_hook(const struct ftm_hook *h, bool counters)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "available", json_object_new_boolean(h->available));
	json_object_object_add(o, "enabled", json_object_new_boolean(h->enabled));
	json_object_object_add(o, "fired", json_u64(h->fired));
	if (!counters)
		return o;
	json_object_object_add(o, "flushed_bytes", json_u64(h->flushed_bytes));
	json_object_object_add(o, "last_ns", json_u64(h->last_ns));
	json_object_object_add(o, "max_ns", json_u64(h->max_ns));
	return o;
}
