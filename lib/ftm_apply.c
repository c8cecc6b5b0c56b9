// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Make the module match a parsed configuration: method, cache threshold,
 * hooks, and the ranges of owner "config".  Everything that can be checked
 * against the module is checked before the first change.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftm_private.h"

struct apply {
	const struct ftm_ctx *ctx;
	const struct ftm_conf *conf;
	ftm_apply_note note;
	void *arg;
	char *err;
	size_t errlen;
	struct ftm_range *live;
	size_t nr_live;
	struct ftm_hook *hooks;
	size_t nr_hooks;
	unsigned int changes;
};

__attribute__((format(printf, 2, 3)))
static int apply_error(struct apply *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, a->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void apply_note(struct apply *a, const char *what, const char *detail)
{
	a->changes++;
	if (a->note)
		a->note(a->arg, what, detail);
}

static const struct ftm_range *live_range(const struct apply *a, const char *name)
{
	for (size_t i = 0; i < a->nr_live; i++)
		if (!strcmp(a->live[i].name, name))
			return &a->live[i];
	return NULL;
}

static const struct ftm_hook *live_hook(const struct apply *a, const char *name)
{
	for (size_t i = 0; i < a->nr_hooks; i++)
		if (!strcmp(a->hooks[i].name, name))
			return &a->hooks[i];
	return NULL;
}

static const struct ftm_conf_range *conf_range(const struct ftm_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->nr_ranges; i++)
		if (!strcmp(conf->ranges[i].name, name))
			return &conf->ranges[i];
	return NULL;
}

static bool hook_listed(const struct ftm_conf *conf, const char *name)
{
	for (char **h = conf->hooks; h && *h; h++)
		if (!strcmp(*h, name))
			return true;
	return false;
}

/* aperture and manual guard explicit removals and flushes: never disarmed by a config. */
static bool hook_kept_unless_listed(const char *name)
{
	return !strcmp(name, "aperture") || !strcmp(name, "manual");
}

static int apply_validate(struct apply *a)
{
	const struct ftm_conf *conf = a->conf;

	for (char **h = conf->hooks; h && *h; h++) {
		const struct ftm_hook *hk = live_hook(a, *h);

		if (!hk || !hk->available)
			return apply_error(a, "hook %s: not available on this kernel", *h);
	}
	for (size_t i = 0; i < conf->nr_ranges; i++) {
		const struct ftm_conf_range *cr = &conf->ranges[i];
		const struct ftm_range *r = live_range(a, cr->name);

		if (r && strcmp(r->owner, "config"))
			return apply_error(a, "%s:%u: range %s exists with owner '%s'; "
					   "a config never takes over another owner's range",
					   cr->file, cr->line, cr->name, r->owner);
	}
	return 0;
}

/* A range the make phase changed, and how to take the change back. */
struct made {
	const struct ftm_conf_range *cr;
	enum { MADE_ADDED, MADE_ENABLED, MADE_TEMP } how;
	char temp[FTM_NAME_MAX];	/* MADE_TEMP: the new content's temporary name */
};

static bool name_taken(const struct apply *a, const char *name)
{
	return live_range(a, name) || conf_range(a->conf, name);
}

/* NAME:k, the smallest k free among the live ranges and the file's names. */
static int temp_name(const struct apply *a, const char *name, char *out)
{
	for (unsigned int k = 1; k < 100000; k++) {
		int len = snprintf(out, FTM_NAME_MAX, "%s:%u", name, k);

		if (len < 0 || len >= FTM_NAME_MAX)
			return -ENAMETOOLONG;
		if (!name_taken(a, out))
			return 0;
	}
	return -EEXIST;
}

static void unmake(struct apply *a, const struct made *made, size_t n)
{
	char rel[FTM_NAME_MAX + 32];

	for (size_t i = n; i-- > 0;) {
		const struct made *m = &made[i];

		if (m->how == MADE_ADDED) {
			ftm_range_del(a->ctx, m->cr->name);
		} else if (m->how == MADE_TEMP) {
			ftm_range_del(a->ctx, m->temp);
		} else {
			snprintf(rel, sizeof(rel), "ranges/%s/enabled", m->cr->name);
			ftm_attr_write(a->ctx, rel, "0");
		}
	}
}

static int range_error(struct apply *a, const struct ftm_conf_range *cr, const char *step,
		       int ret)
{
	snprintf(a->err, a->errlen, "%s:%u: range %s: %s: %s", cr->file, cr->line, cr->name,
		 step, ftm_strerror(ret, step));
	return ret;
}

/*
 * Make before break, as flushtmd does.  First every change that adds
 * coverage: new ranges added, disabled ones enabled, and a moved range's
 * new content added under a temporary name NAME:k.  If any of that fails,
 * it is all taken back and nothing has changed.  Only then is each moved
 * range switched: the old NAME removed, NAME made with the new content, the
 * temporary removed; a failure there puts the old content back.
 */
/*
 * A held range that is what the config asks: the same label (start and size
 * are then the kernel's to say), or no label and the same start and size.
 */
static bool same_content(const struct ftm_range *r, const struct ftm_conf_range *cr)
{
	if (cr->reserve_mem[0] || r->reserve_mem[0])
		return strcmp(r->reserve_mem, cr->reserve_mem) == 0;
	return r->start == cr->start && r->size == cr->size;
}

static int apply_ranges(struct apply *a)
{
	const struct ftm_conf *conf = a->conf;
	struct made *made;
	size_t nr_made = 0;
	int ret = 0;

	made = calloc(conf->nr_ranges + 1, sizeof(*made));
	if (!made)
		return -ENOMEM;
	for (size_t i = 0; i < conf->nr_ranges && ret == 0; i++) {
		const struct ftm_conf_range *cr = &conf->ranges[i];
		const struct ftm_range *r = live_range(a, cr->name);
		struct made *m = &made[nr_made];
		const char *step = NULL;
		char rel[FTM_NAME_MAX + 32];

		m->cr = cr;
		if (r && same_content(r, cr)) {
			if (r->enabled)
				continue;
			step = "enable";
			snprintf(rel, sizeof(rel), "ranges/%s/enabled", cr->name);
			ret = ftm_attr_write(a->ctx, rel, "1");
			m->how = MADE_ENABLED;
		} else if (r) {
			step = "add";
			ret = temp_name(a, cr->name, m->temp);
			if (ret == 0)
				ret = ftm_range_add_any(a->ctx, m->temp, cr->start, cr->size,
							cr->reserve_mem, "config", &step);
			m->how = MADE_TEMP;
		} else {
			ret = ftm_range_add_any(a->ctx, cr->name, cr->start, cr->size, cr->reserve_mem,
						"config", &step);
			m->how = MADE_ADDED;
		}
		if (ret < 0) {
			range_error(a, cr, step, ret);
			unmake(a, made, nr_made);
			free(made);
			return ret;
		}
		nr_made++;
	}
	for (size_t i = 0; i < nr_made; i++)
		if (made[i].how != MADE_TEMP)
			apply_note(a, made[i].how == MADE_ADDED ? "add-range" : "enable-range",
				   made[i].cr->name);
	for (size_t i = 0; i < nr_made; i++) {
		struct made *m = &made[i];
		const struct ftm_conf_range *cr = m->cr;
		const struct ftm_range *old = live_range(a, cr->name);
		const char *step = "rmdir";

		if (m->how != MADE_TEMP)
			continue;
		/* The temporary covers the new content: the old one may go. */
		ret = ftm_range_del(a->ctx, cr->name);
		if (ret == 0) {
			ret = ftm_range_add_any(a->ctx, cr->name, cr->start, cr->size, cr->reserve_mem,
						"config", &step);
			if (ret < 0 && ftm_range_add_any(a->ctx, cr->name, old->start, old->size,
							 old->reserve_mem, "config", NULL) < 0) {
				/* Neither: keep the temporary, so the new content stays covered. */
				range_error(a, cr, step, ret);
				break;
			}
		}
		ftm_range_del(a->ctx, m->temp);
		if (ret < 0) {
			range_error(a, cr, step, ret);
			break;
		}
		apply_note(a, "replace-range", cr->name);
	}
	free(made);
	return ret;
}

static int apply_settings(struct apply *a, const struct ftm_info *info)
{
	const struct ftm_conf *conf = a->conf;
	char buf[32];
	int ret;

	if (conf->has_method && strcmp(info->method, conf->method)) {
		ret = ftm_set_method(a->ctx, conf->method);
		if (ret < 0) {
			snprintf(a->err, a->errlen, "method %s: %s", conf->method,
				 ftm_strerror(ret, "method"));
			return ret;
		}
		apply_note(a, "method", conf->method);
	}
	if (conf->has_threshold && info->cache_threshold != conf->cache_threshold) {
		ftm_format_size(conf->cache_threshold, buf, sizeof(buf));
		ret = ftm_set_cache_threshold(a->ctx, conf->cache_threshold);
		if (ret < 0) {
			snprintf(a->err, a->errlen, "cache_threshold %s: %s", buf,
				 ftm_strerror(ret, "cache-threshold"));
			return ret;
		}
		apply_note(a, "cache_threshold", buf);
	}
	if (conf->has_budget) {
		char now[32];

		ret = ftm_get_crash_budget(a->ctx, now, sizeof(now));
		if (ret >= 0 && strcmp(now, conf->crash_budget))
			ret = ftm_set_crash_budget(a->ctx, conf->crash_budget);
		else if (ret >= 0)
			ret = 1;	/* already so */
		if (ret < 0) {
			snprintf(a->err, a->errlen, "crash_budget_ms %s: %s", conf->crash_budget,
				 ftm_strerror(ret, "crash-budget"));
			return ret;
		}
		if (!ret)
			apply_note(a, "crash_budget_ms", conf->crash_budget);
	}
	if (!conf->has_hooks)
		return 0;
	for (size_t i = 0; i < a->nr_hooks; i++) {
		const struct ftm_hook *hk = &a->hooks[i];
		bool want = hook_listed(conf, hk->name);

		if (want == hk->enabled || (!want && hook_kept_unless_listed(hk->name)))
			continue;
		ret = ftm_hook_set_enabled(a->ctx, hk->name, want);
		if (ret < 0) {
			snprintf(a->err, a->errlen, "hook %s: %s", hk->name, ftm_strerror(ret, "hook"));
			return ret;
		}
		apply_note(a, want ? "enable" : "disable", hk->name);
	}
	return 0;
}

/* Ranges of owner config that the file no longer lists; after the adds, like flushtmd. */
static int apply_removals(struct apply *a)
{
	for (size_t i = 0; i < a->nr_live; i++) {
		const struct ftm_range *r = &a->live[i];
		int ret;

		if (strcmp(r->owner, "config") || conf_range(a->conf, r->name))
			continue;
		ret = ftm_range_del(a->ctx, r->name);
		if (ret < 0 && ret != -ENOENT) {
			snprintf(a->err, a->errlen, "range %s: %s", r->name,
				 ftm_strerror(ret, "rmdir"));
			return ret;
		}
		apply_note(a, "remove-range", r->name);
	}
	return 0;
}

/*
 * Each range of the file at its priority, after the adds (a range made
 * just now has 0): 0 needs nothing on a module without priorities.
 */
static int apply_priorities(struct apply *a)
{
	for (size_t i = 0; i < a->conf->nr_ranges; i++) {
		const struct ftm_conf_range *cr = &a->conf->ranges[i];
		struct ftm_range r;
		int ret;

		ret = ftm_range_read(a->ctx, cr->name, &r);
		if (ret < 0)
			return range_error(a, cr, "priority", ret);
		if (r.priority == cr->priority)
			continue;
		ret = ftm_range_set_priority(a->ctx, cr->name, cr->priority);
		if (ret < 0)
			return range_error(a, cr, "priority", ret);
		apply_note(a, "priority", cr->name);
	}
	return 0;
}

int ftm_conf_apply(const struct ftm_ctx *ctx, const struct ftm_conf *conf,
		   ftm_apply_note note, void *arg, unsigned int *changes, char *err, size_t errlen)
{
	struct apply a = {
		.ctx = ctx, .conf = conf, .note = note, .arg = arg, .err = err, .errlen = errlen,
	};
	struct ftm_info info;
	int ret;

	err[0] = '\0';
	if (!ftm_module_present(ctx)) {
		snprintf(err, errlen, "flushtm module not loaded");
		return -ENOENT;
	}
	ret = ftm_info_read(ctx, &info);
	if (!ret)
		ret = ftm_hook_list(ctx, &a.hooks, &a.nr_hooks);
	if (!ret)
		ret = ftm_range_list(ctx, &a.live, &a.nr_live);
	if (ret < 0) {
		snprintf(err, errlen, "reading the module's state: %s", ftm_strerror(ret, NULL));
		goto out;
	}
	ret = apply_validate(&a);
	if (!ret)
		ret = apply_ranges(&a);
	if (!ret)
		ret = apply_priorities(&a);
	if (!ret)
		ret = apply_settings(&a, &info);
	if (!ret)
		ret = apply_removals(&a);
out:
	if (changes)
		*changes = a.changes;
	free(a.hooks);
	free(a.live);
	return ret;
}
