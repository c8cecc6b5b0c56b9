/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libkmod, opened with dlopen() by the two commands that use it (load,
 * unload), as systemd opens its optional libraries: every other command
 * starts without libkmod and the compression and crypto libraries it pulls
 * in, which cost more than the rest of `flushtmctl status` put together.
 * The header gives the types and the prototypes; the table holds the
 * addresses found in libkmod.so.2.
 */
#ifndef FLUSHTMCTL_KMOD_DL_H
#define FLUSHTMCTL_KMOD_DL_H

#include <stddef.h>
#include <libkmod.h>

#define KMOD_DL_SONAME	"libkmod.so.2"

struct kmod_dl {
	void *handle;
	__typeof__(kmod_new) *new_ctx;
	__typeof__(kmod_unref) *unref;
	__typeof__(kmod_set_log_fn) *set_log_fn;
	__typeof__(kmod_load_resources) *load_resources;
	__typeof__(kmod_module_new_from_lookup) *module_new_from_lookup;
	__typeof__(kmod_module_new_from_name) *module_new_from_name;
	__typeof__(kmod_module_new_from_path) *module_new_from_path;
	__typeof__(kmod_module_get_module) *module_get_module;
	__typeof__(kmod_module_unref_list) *module_unref_list;
	__typeof__(kmod_module_unref) *module_unref;
	__typeof__(kmod_module_probe_insert_module) *module_probe_insert_module;
	__typeof__(kmod_module_insert_module) *module_insert_module;
	__typeof__(kmod_module_remove_module) *module_remove_module;
	__typeof__(kmod_module_get_initstate) *module_get_initstate;
	__typeof__(kmod_module_get_path) *module_get_path;
};

/*
 * Fills kd from libkmod.so.2.  0, or -1 with dlerror()'s words in why: the
 * library is missing or unloadable, or lacks a symbol.
 */
int kmod_dl_open(struct kmod_dl *kd, char *why, size_t len);
void kmod_dl_close(struct kmod_dl *kd);

#endif /* FLUSHTMCTL_KMOD_DL_H */
