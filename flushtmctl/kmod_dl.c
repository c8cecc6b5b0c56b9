// SPDX-License-Identifier: GPL-2.0-or-later
/* libkmod.so.2 opened on demand (kmod_dl.h says why). */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kmod_dl.h"

#define SYM(field, name) { offsetof(struct kmod_dl, field), #name }

static const struct {
	size_t offset;
	const char *name;
} kmod_syms[] = {
	SYM(new_ctx, kmod_new),
	SYM(unref, kmod_unref),
	SYM(set_log_fn, kmod_set_log_fn),
	SYM(load_resources, kmod_load_resources),
	SYM(module_new_from_lookup, kmod_module_new_from_lookup),
	SYM(module_new_from_name, kmod_module_new_from_name),
	SYM(module_new_from_path, kmod_module_new_from_path),
	SYM(module_get_module, kmod_module_get_module),
	SYM(module_unref_list, kmod_module_unref_list),
	SYM(module_unref, kmod_module_unref),
	SYM(module_probe_insert_module, kmod_module_probe_insert_module),
	SYM(module_insert_module, kmod_module_insert_module),
	SYM(module_remove_module, kmod_module_remove_module),
	SYM(module_get_initstate, kmod_module_get_initstate),
	SYM(module_get_path, kmod_module_get_path),
};

int kmod_dl_open(struct kmod_dl *kd, char *why, size_t len)
{
	memset(kd, 0, sizeof(*kd));
	kd->handle = dlopen(KMOD_DL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!kd->handle) {
		snprintf(why, len, "%s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < sizeof(kmod_syms) / sizeof(kmod_syms[0]); i++) {
		void *sym = dlsym(kd->handle, kmod_syms[i].name);

		if (!sym) {
			snprintf(why, len, "%s", dlerror());
			kmod_dl_close(kd);
			return -1;
		}
		/* POSIX: a data pointer from dlsym converts to a function pointer. */
		memcpy((char *)kd + kmod_syms[i].offset, &sym, sizeof(sym));
	}
	return 0;
}

void kmod_dl_close(struct kmod_dl *kd)
{
	if (kd->handle)
		dlclose(kd->handle);
	memset(kd, 0, sizeof(*kd));
}
