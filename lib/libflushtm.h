/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libflushtm: the one place in user space that knows the layout of
 * /sys/kernel/config/flushtm (interface.md, version 1) and of
 * /etc/flushtm/flushtm.conf.  Used by flushtmctl and flushtmd.
 *
 * Conventions: functions return 0 or a negative errno; the errno of a
 * refused configfs write is the kernel's.  Nothing here prints: callers turn
 * errors into words (ftm_strerror()).  No global state: everything hangs off
 * a struct ftm_ctx, owned by the caller.
 */
#ifndef LIBFLUSHTM_H
#define LIBFLUSHTM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FTM_CONFIGFS_DEFAULT	"/sys/kernel/config/flushtm"
#define FTM_CONFIGFS_ENV	"FLUSHTM_CONFIGFS"
#define FTM_CONF_DEFAULT	"/etc/flushtm/flushtm.conf"
#define FTM_INTERFACE_VERSION	1
#define FTM_NAME_MAX		256	/* a range name, NUL included: NAME_MAX + 1 */
/* A reserve_mem= label, NUL included: the kernel keeps 16 bytes. */
#define FTM_RESERVE_MEM_MAX	16
#define FTM_OWNER_MAX		65	/* 64 bytes + NUL, as the kernel keeps */
#define FTM_HOOK_NAME_MAX	16

/* ---- context ---------------------------------------------------------- */

struct ftm_ctx;

/*
 * root: the configfs directory of the module; NULL means $FLUSHTM_CONFIGFS,
 * else FTM_CONFIGFS_DEFAULT.  The directory need not exist (module absent).
 */
int ftm_ctx_new(struct ftm_ctx **ctx, const char *root);
void ftm_ctx_free(struct ftm_ctx *ctx);
const char *ftm_ctx_root(const struct ftm_ctx *ctx);

/* 1 when the module's configfs directory is there, 0 when not. */
int ftm_module_present(const struct ftm_ctx *ctx);

/* ---- raw attributes (path relative to the root, e.g. "hooks/panic/fired") */

/* Reads one value, trailing newline removed. -ENOSPC when len is too small. */
int ftm_attr_read(const struct ftm_ctx *ctx, const char *rel, char *buf, size_t len);
int ftm_attr_read_u64(const struct ftm_ctx *ctx, const char *rel, uint64_t *val);
/* Writes val (no newline added) in one write(2); the kernel's errno on refusal. */
int ftm_attr_write(const struct ftm_ctx *ctx, const char *rel, const char *val);

/* ---- global settings -------------------------------------------------- */

struct ftm_info {
	unsigned int version;		/* "version" */
	char method[8];			/* "auto", "lines", "cache" */
	uint64_t cache_threshold;	/* bytes */
	uint64_t generation;
};
int ftm_info_read(const struct ftm_ctx *ctx, struct ftm_info *info);
/* "auto", "lines" or "cache". */
bool ftm_method_valid(const char *method);
int ftm_set_method(const struct ftm_ctx *ctx, const char *method);
int ftm_set_cache_threshold(const struct ftm_ctx *ctx, uint64_t bytes);
/* crash_budget_ms: "auto", or decimal milliseconds (0: none). */
bool ftm_crash_budget_valid(const char *value);
int ftm_set_crash_budget(const struct ftm_ctx *ctx, const char *value);
/* What the module holds: "auto" or the milliseconds (the "auto N" detail dropped). */
int ftm_get_crash_budget(const struct ftm_ctx *ctx, char *buf, size_t len);

/* ---- hooks ------------------------------------------------------------ */

/* The hooks of interface v1, in documented order; NULL-terminated. */
extern const char *const ftm_hook_names[];
bool ftm_hook_name_valid(const char *name);

struct ftm_hook {
	char name[FTM_HOOK_NAME_MAX];
	bool available, enabled;
	uint64_t fired, flushed_bytes, last_ns, max_ns;
};
int ftm_hook_read(const struct ftm_ctx *ctx, const char *name, struct ftm_hook *hook);
/* Every hook the module exposes, in ftm_hook_names order; *hooks is malloc'd. */
int ftm_hook_list(const struct ftm_ctx *ctx, struct ftm_hook **hooks, size_t *n);
/* -EOPNOTSUPP when the hook is not available on this kernel. */
int ftm_hook_set_enabled(const struct ftm_ctx *ctx, const char *name, bool enabled);

/* The exit hook's enrolment list. */
int ftm_exit_enroll(const struct ftm_ctx *ctx, int pid);
int ftm_exit_withdraw(const struct ftm_ctx *ctx, int pid);
int ftm_exit_list(const struct ftm_ctx *ctx, int **pids, size_t *n);

/* ---- ranges ----------------------------------------------------------- */

struct ftm_range {
	char name[FTM_NAME_MAX];
	uint64_t start, size;
	bool enabled;
	char owner[FTM_OWNER_MAX];
	/* The reserve_mem= label the range is given by, or "" (also on a module without it). */
	char reserve_mem[FTM_RESERVE_MEM_MAX];
	/* 0 to FTM_PRIORITY_MAX, higher walked first (0 also on a module without it). */
	unsigned int priority;
	uint64_t flushed_bytes;
	/*
	 * ftm_range_list() only: 0, or the negative errno of the first
	 * attribute it could not read.  The attributes that were read are
	 * filled, the others are 0 or "".  Such a range covers nothing as far
	 * as the library knows: show it with a warning, never count it.
	 */
	int error;
};

/*
 * The names we create (range add, [range NAME]): letters, digits, '.', '_',
 * ':', '-', not starting with '.', FTM_NAME_MAX - 1 bytes at most: safe in
 * a path, a shell word and an ini section header.
 */
bool ftm_range_name_valid(const char *name);
/*
 * The names we can address: any configfs entry (the kernel takes any name),
 * that is one path component other than "." and "..", shorter than
 * FTM_NAME_MAX.  Reading, listing, flushing and removing accept these, so no
 * range made by someone else is ever hidden or left behind.  Such a name may
 * hold spaces, newlines, control bytes or invalid UTF-8: print it through
 * ftm_name_escape().
 */
bool ftm_range_name_usable(const char *name);
/*
 * name for a terminal, a log or a column of text: every byte outside
 * printable ASCII, and space and backslash, as \xHH; returns buf, always
 * NUL-terminated (4 * FTM_NAME_MAX bytes always suffice).  Valid names come
 * out unchanged.  ftm_name_unescape() turns it back; -EINVAL on a malformed
 * escape, -ENAMETOOLONG when it does not fit.
 */
#define FTM_NAME_ESCAPED_MAX	(4 * FTM_NAME_MAX)
const char *ftm_name_escape(const char *name, char *buf, size_t len);
int ftm_name_unescape(const char *escaped, char *buf, size_t len);
/* Any usable name; -EINVAL otherwise, -ENOENT when absent. */
int ftm_range_read(const struct ftm_ctx *ctx, const char *name, struct ftm_range *r);
/*
 * Every entry of ranges/, sorted by name; *ranges is malloc'd.  A range
 * whose attributes cannot be read is listed with ->error set, never fails
 * the list; the list fails only when ranges/ itself cannot be read.
 */
int ftm_range_list(const struct ftm_ctx *ctx, struct ftm_range **ranges, size_t *n);
/*
 * All or nothing: mkdir, owner, start, size, then enabled.  On failure what
 * was made is removed again and the first error returned; *step (if not
 * NULL) names the step that failed ("mkdir", "start", "size", "owner",
 * "enable") so the caller can say what went wrong.
 */
int ftm_range_add(const struct ftm_ctx *ctx, const char *name, uint64_t start,
		  uint64_t size, const char *owner, const char **step);
/*
 * A reserve_mem= label (reserve_mem=SIZE:ALIGN:LABEL on the kernel command
 * line): 1 to FTM_RESERVE_MEM_MAX - 1 bytes of [A-Za-z0-9_.-].
 */
bool ftm_reserve_mem_label_valid(const char *label);
/*
 * As ftm_range_add(), the range given by a reserve_mem label instead of
 * start and size: the module looks the region up at enable.  Its steps:
 * "name", "label", "mkdir", "owner", "reserve_mem", "enable"; at "enable"
 * -ENOENT means no region of that label, -EOPNOTSUPP a kernel without
 * reserve_mem, and at "reserve_mem" -ENOENT a module without the attribute.
 */
int ftm_range_add_reserve_mem(const struct ftm_ctx *ctx, const char *name, const char *label,
			      const char *owner, const char **step);
/* Either of the two: by label when label is neither NULL nor "", else by start and size. */
int ftm_range_add_any(const struct ftm_ctx *ctx, const char *name, uint64_t start,
		      uint64_t size, const char *label, const char *owner, const char **step);
/*
 * The range's priority, 0 to FTM_PRIORITY_MAX: every flush of the set walks
 * higher priorities first, so a crash budget cuts off the lowest.  Enabled
 * or not; -ENOENT when the range is absent, -EOPNOTSUPP on a module
 * without priorities.
 */
#define FTM_PRIORITY_MAX	255
int ftm_range_set_priority(const struct ftm_ctx *ctx, const char *name, unsigned int priority);
/* 0 to FTM_PRIORITY_MAX, decimal or 0x hex as the kernel takes it; -EINVAL otherwise. */
int ftm_parse_priority(const char *s, unsigned int *priority);
/* rmdir (the kernel flushes an enabled range first); any usable name. -ENOENT if absent. */
int ftm_range_del(const struct ftm_ctx *ctx, const char *name);

/*
 * Every range, whatever its owner (the kernel flushes enabled ones): what
 * unload does first.  Goes on past failures, returns the first; *removed
 * (if not NULL) counts the ranges removed.
 */
int ftm_range_del_all(const struct ftm_ctx *ctx, size_t *removed);

/* "flush": name NULL or "all" flushes every enabled range. */
int ftm_flush(const struct ftm_ctx *ctx, const char *name);

/* ---- values ----------------------------------------------------------- */

/* "0x..." hex or decimal, optional K/M/G suffix (1024-based) as the kernel
 * takes; -EINVAL on junk, -ERANGE on overflow. */
int ftm_parse_size(const char *s, uint64_t *val);
int ftm_parse_addr(const char *s, uint64_t *val);
/* "64M", "1.5G"... for humans; returns buf. */
const char *ftm_format_size(uint64_t bytes, char *buf, size_t len);

/*
 * Words for an errno returned by the kernel for a configfs operation, in
 * the context of that operation ("enable" -> -EINVAL means "not persistent
 * memory or RAM, unaligned, or empty"); falls back to strerror().
 */
const char *ftm_strerror(int err, const char *step);

/* ---- configuration file (inih) --------------------------------------- */

enum ftm_source {
	FTM_SRC_ND = 1u << 0, FTM_SRC_DAX = 1u << 1, FTM_SRC_IOMEM = 1u << 2,
	FTM_SRC_RESERVE_MEM = 1u << 3,
};

struct ftm_conf_range {
	char name[FTM_NAME_MAX];
	uint64_t start, size;		/* 0 when given by reserve_mem */
	char reserve_mem[FTM_RESERVE_MEM_MAX];	/* reserve_mem = LABEL, or "" */
	unsigned int priority;		/* priority = N, 0 when absent */
	char file[256];
	unsigned int line;
};

struct ftm_conf {
	bool has_method, has_threshold, has_hooks, has_sources, has_budget;
	char method[8];
	char crash_budget[24];	/* "auto" or decimal milliseconds */
	uint64_t cache_threshold;
	char **hooks;		/* NULL-terminated, names validated */
	unsigned int sources;	/* enum ftm_source bits */
	struct ftm_conf_range *ranges;
	size_t nr_ranges;
	/* [flushtmd] textfile_dir ("" when "none") and textfile_interval (seconds). */
	bool has_textfile_dir, has_textfile_interval;
	char textfile_dir[256];
	unsigned int textfile_interval;
};

/*
 * Caps, far above any sane configuration, so that a stray huge file or
 * directory is refused with a reason instead of stalling `apply` or the
 * daemon (whose watchdog is 30 s): bytes per file, files in path.d/, static
 * ranges over all files.  Parsing is linear in the size of the files.
 */
#define FTM_CONF_MAX_BYTES	(1024 * 1024)
#define FTM_CONF_MAX_FILES	256
#define FTM_CONF_MAX_RANGES	4096

/*
 * Parses path and then path.d/ *.conf in name order (later files override
 * settings; ranges accumulate, a name twice is an error).  Nothing is half
 * filled on error: conf is zeroed and err holds "file:line: why".
 * A missing main file is -ENOENT.
 */
int ftm_conf_load(const char *path, struct ftm_conf *conf, char *err, size_t errlen);
void ftm_conf_free(struct ftm_conf *conf);

/*
 * Makes the module match conf (flushtmctl apply):
 *  - ranges: each conf range exists with owner "config", that start and
 *    size, enabled (made, re-made or enabled as needed); then the ranges of
 *    owner "config" that conf does not list are removed.  Other owners'
 *    ranges are never touched; a conf range whose name another owner holds
 *    is an error.
 *  - method and cache_threshold when conf has them.
 *  - hooks when conf has them: listed hooks armed, the others disarmed,
 *    except aperture and manual, which are only ever armed by a config.
 * Checks what it can against the module before the first change (hooks
 * available, names free).  Ranges change make-before-break: new ranges,
 * re-enabled ones and the new content of moved ones (under a temporary name
 * NAME:k) first; if any of that fails it is all taken back, so a failed
 * apply leaves the ranges as they were (a move to a refused address keeps
 * the old range).  Then each moved range is switched to its new content
 * under its own name.  note (may be NULL) is called for each
 * change made: what is "add-range", "replace-range", "enable-range",
 * "remove-range", "method", "cache_threshold", "enable" or "disable".
 * *changes (may be NULL) counts them; nothing changed means 0.  On failure err
 * holds why.
 */
typedef void (*ftm_apply_note)(void *arg, const char *what, const char *detail);
int ftm_conf_apply(const struct ftm_ctx *ctx, const struct ftm_conf *conf,
		   ftm_apply_note note, void *arg, unsigned int *changes, char *err, size_t errlen);

#endif /* LIBFLUSHTM_H */
