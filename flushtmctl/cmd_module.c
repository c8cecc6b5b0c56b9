// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * load and unload, through libkmod, as modprobe and modprobe -r would.
 * libkmod is opened here, not linked (kmod_dl.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "ctl.h"
#include "kmod_dl.h"

#define MODULE_NAME	"flushtm"

/* libkmod's functions and one context of it, for one command. */
struct kmod {
	struct kmod_dl dl;
	struct kmod_ctx *ctx;
};

/* Our own "flushtmctl: load: why" says it; libkmod's log lines would repeat it. */
static void kmod_quiet(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

/* modprobe's words for what init_module(2) and delete_module(2) return. */
static const char *module_strerror(int err)
{
	switch (-err) {
	case ENOEXEC:
		return "invalid module format";
	case ENOENT:
		return "unknown symbol in module, or unknown parameter (see dmesg)";
	case EEXIST:
		return "already loaded";
	case ENOSYS:
		return "kernel does not have module support";
	case EPERM:
		return "operation not permitted (not root, or the kernel is locked down)";
	case EKEYREJECTED:
		return "signature rejected";
	case EBUSY:
		return "in use";
	default:
		return strerror(-err);
	}
}

static int kmod_open(struct kmod *k, const char *what)
{
	char why[512];

	if (kmod_dl_open(&k->dl, why, sizeof(why)) < 0) {
		ctl_err(what, "cannot use libkmod (package libkmod2): %s", why);
		return -1;
	}
	k->ctx = k->dl.new_ctx(NULL, NULL);
	if (!k->ctx) {
		ctl_err(what, "libkmod: cannot read the module configuration");
		kmod_dl_close(&k->dl);
		return -1;
	}
	k->dl.set_log_fn(k->ctx, kmod_quiet, NULL);
	k->dl.load_resources(k->ctx);
	return 0;
}

static void kmod_close(struct kmod *k)
{
	k->dl.unref(k->ctx);
	kmod_dl_close(&k->dl);
}

/* The first module a name or alias resolves to, or NULL when the index has none. */
static struct kmod_module *lookup(const struct kmod *k, const char *name)
{
	struct kmod_list *list = NULL;
	struct kmod_module *mod = NULL;

	if (k->dl.module_new_from_lookup(k->ctx, name, &list) < 0 || !list)
		return NULL;
	mod = k->dl.module_get_module(list);
	k->dl.module_unref_list(list);
	return mod;
}

static int mount_configfs(const char *what)
{
	if (ctl_configfs_mounted())
		return 0;
	if (mount("configfs", CTL_CONFIGFS_MOUNT, "configfs", 0, NULL) < 0) {
		ctl_err(what, "mounting configfs on " CTL_CONFIGFS_MOUNT ": %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int ensure_configfs(const struct kmod *k, const char *what)
{
	struct kmod_module *mod = lookup(k, "configfs");
	int ret;

	/* Built in, or absent from the index: the mount says whether it is there. */
	if (mod) {
		ret = k->dl.module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
		k->dl.module_unref(mod);
		if (ret < 0) {
			ctl_err(what, "configfs: %s", module_strerror(ret));
			return ret;
		}
	}
	return mount_configfs(what);
}

int cmd_load(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	const char *path = NULL;
	struct kmod_module *mod = NULL;
	struct kmod k;
	struct stat st;
	int ret, status = CTL_FAIL;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 0, &path);
	if (ret >= 0)
		return ret;
	if (path && stat(path, &st) < 0) {
		ctl_err("load", "%s: %s", path, strerror(errno));
		return CTL_FAIL;
	}
	if (kmod_open(&k, "load") < 0)
		return CTL_FAIL;
	if (ensure_configfs(&k, "load") < 0)
		goto out;
	if (path) {
		ret = k.dl.module_new_from_path(k.ctx, path, &mod);
		if (ret < 0) {
			ctl_err("load", "%s: %s", path, strerror(-ret));
			goto out;
		}
		ret = k.dl.module_insert_module(mod, 0, NULL);
	} else {
		mod = lookup(&k, MODULE_NAME);
		if (!mod) {
			ctl_err("load", MODULE_NAME ": not found in the module index of this kernel "
				"(install it and run depmod, or use --path)");
			goto out;
		}
		ret = k.dl.module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST |
						      KMOD_PROBE_FAIL_ON_LOADED,
						      NULL, NULL, NULL, NULL);
	}
	if (ret == KMOD_PROBE_APPLY_BLACKLIST) {
		ctl_err("load", MODULE_NAME ": blacklisted (modprobe.d)");
		goto out;
	}
	if (ret < 0) {
		ctl_err("load", "%s: %s", path ? path : MODULE_NAME, module_strerror(ret));
		goto out;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "module", json_object_new_string(MODULE_NAME));
		const char *where = k.dl.module_get_path(mod);

		json_object_object_add(o, "path", json_object_new_string(where ? where : ""));
		json_object_object_add(o, "loaded", json_object_new_boolean(true));
		ctl_json_print(o);
	}
	status = CTL_OK;
out:
	if (mod)
		k.dl.module_unref(mod);
	kmod_close(&k);
	return status;
}

int cmd_unload(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	struct kmod_module *mod = NULL;
	size_t removed = 0;
	struct kmod k;
	int ret, status = CTL_FAIL;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 0, NULL);
	if (ret >= 0)
		return ret;
	if (kmod_open(&k, "unload") < 0)
		return CTL_FAIL;
	ret = k.dl.module_new_from_name(k.ctx, MODULE_NAME, &mod);
	if (ret < 0) {
		ctl_err("unload", MODULE_NAME ": %s", strerror(-ret));
		goto out;
	}
	if (k.dl.module_get_initstate(mod) < 0) {
		ctl_err("unload", MODULE_NAME ": not loaded");
		goto out;
	}
	/* Each range pins the module (configfs holds a reference per item). */
	if (ftm_module_present(ctl->ftm)) {
		ret = ftm_range_del_all(ctl->ftm, &removed);
		if (ret < 0) {
			ctl_err("unload", "removing ranges: %s", ftm_strerror(ret, "rmdir"));
			goto out;
		}
	}
	ret = k.dl.module_remove_module(mod, 0);
	if (ret < 0) {
		ctl_err("unload", MODULE_NAME ": %s", module_strerror(ret));
		goto out;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "module", json_object_new_string(MODULE_NAME));
		json_object_object_add(o, "ranges_removed", json_object_new_uint64(removed));
		json_object_object_add(o, "loaded", json_object_new_boolean(false));
		ctl_json_print(o);
	}
	status = CTL_OK;
out:
	if (mod)
		k.dl.module_unref(mod);
	kmod_close(&k);
	return status;
}
