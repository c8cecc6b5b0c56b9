// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * check: is everything that should be flushed covered, and will the flush
 * run when it matters?  Exit 1 listing each gap.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ftm_metrics.h"
#include "ftm_sources.h"

struct audit {
	const struct ctl *ctl;
	struct ftm_extent *covers;	/* the enabled ranges */
	size_t nr_covers;
	unsigned int nr_gaps;
	struct json_object *gaps, *doc;	/* --json */
};

__attribute__((format(printf, 3, 4)))
static void gap(struct audit *a, const char *kind, const char *fmt, ...)
{
	struct json_object *o;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->nr_gaps++;
	/* Kept until the end so that human output lists them after the tables. */
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_array_add(a->gaps, o);
}

struct cover_walk {
	struct audit *a;
	const char *what;
	const struct ftm_aperture *ap;
	bool covered;
};

static int report_gap(uint64_t start, uint64_t size, void *data)
{
	struct cover_walk *c = data;
	char sz[16];

	gap(c->a, "uncovered", "%s %s: 0x%" PRIx64 "-0x%" PRIx64 " (%s) is not covered by "
	    "an enabled range", c->what, c->ap->device, start, start + size - 1,
	    ftm_format_size(size, sz, sizeof(sz)));
	c->covered = false;
	return 0;
}

/*
 * Reports each uncovered stretch of one aperture; true when wholly covered.
 * The walk is the library's (ftm_extent_gaps), the one flushtmd's fold uses:
 * what check calls covered is what the daemon leaves out as covered.
 */
static bool audit_cover(struct audit *a, const char *what, const struct ftm_aperture *ap)
{
	struct cover_walk c = { .a = a, .what = what, .ap = ap, .covered = true };

	if (ftm_extent_gaps(ap->start, ap->size, a->covers, a->nr_covers, report_gap, &c) < 0)
		gap(a, "unreadable", "%s %s: out of memory", what, ap->device);
	return c.covered;
}

/*
 * One source's table.  The JSON key is always there: [] when the source has
 * nothing, and also when it cannot be read (then an "unreadable" gap says
 * why, and check exits 1).
 */
static void audit_apertures(struct audit *a, unsigned int source, const char *title,
			    const char *what, const char *json_key)
{
	struct ftm_aperture *aps = NULL;
	struct json_object *list = NULL;
	size_t n = 0;
	char size[16];
	int ret;

	if (source == FTM_SRC_ND)
		ret = ftm_scan_nd(a->ctl->sysfs_root, &aps, &n);
	else
		ret = ftm_scan_iomem(a->ctl->procfs_root, &aps, &n);
	if (a->doc) {
		list = json_object_new_array();
		json_object_object_add(a->doc, json_key, list);
	}
	if (ret < 0) {
		gap(a, "unreadable", "%s: cannot read: %s", title, strerror(-ret));
		free(aps);
		return;
	}
	if (!a->doc && n)
		printf("%s:\n  %-16s  %-18s  %8s  %s\n", title, "NAME", "START", "SIZE",
		       "COVERED");
	for (size_t i = 0; i < n; i++) {
		bool covered = audit_cover(a, what, &aps[i]);

		if (list) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(aps[i].device));
			json_object_object_add(o, "start", ctl_json_addr(aps[i].start));
			json_object_object_add(o, "size", json_object_new_uint64(aps[i].size));
			json_object_object_add(o, "covered", json_object_new_boolean(covered));
			json_object_array_add(list, o);
		} else {
			printf("  %-16s  0x%-16" PRIx64 "  %8s  %s\n", aps[i].device, aps[i].start,
			       ftm_format_size(aps[i].size, size, sizeof(size)),
			       covered ? "yes" : "NO");
		}
	}
	free(aps);
}

static void audit_hooks(struct audit *a)
{
	static const char *const needed[] = { "panic", "die", "reboot" };

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		struct ftm_hook h;
		int ret = ftm_hook_read(a->ctl->ftm, needed[i], &h);

		if (ret < 0)
			gap(a, "hook", "hook %s: cannot read: %s", needed[i], ftm_strerror(ret, NULL));
		else if (!h.available)
			gap(a, "hook", "hook %s: not available on this kernel", needed[i]);
		else if (!h.enabled)
			gap(a, "hook", "hook %s is not armed (flushtmctl enable %s)", needed[i],
			    needed[i]);
	}
}

static int read_line(const char *root, const char *rel, char *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* A kdump kernel runs instead of the panic notifiers unless they are asked to run first. */
static void audit_kdump(struct audit *a)
{
	char loaded[16], post[16];

	if (read_line(a->ctl->sysfs_root, "kernel/kexec_crash_loaded", loaded, sizeof(loaded)) ||
	    strcmp(loaded, "1"))
		return;
	if (read_line(a->ctl->sysfs_root, "module/kernel/parameters/crash_kexec_post_notifiers",
		      post, sizeof(post)) == 0 && (!strcmp(post, "Y") || !strcmp(post, "1")))
		return;
	gap(a, "kdump", "a kdump kernel is loaded and crash_kexec_post_notifiers is off: the "
	    "panic hook will not run before kdump; boot with crash_kexec_post_notifiers, or "
	    "echo Y > /sys/module/kernel/parameters/crash_kexec_post_notifiers");
}

static const char *domain_meaning(const char *domain)
{
	if (!strcmp(domain, "cpu_cache"))
		return "the platform flushes CPU caches on power loss, not on reset, panic or kexec";
	if (!strcmp(domain, "memory_controller"))
		return "ADR: CPU caches are lost on power loss; only flushed data survives";
	return "no persistence guarantee from the platform";
}

static int region_filter(const struct dirent *de)
{
	return !strncmp(de->d_name, "region", 6);
}

static void audit_regions(struct audit *a)
{
	struct json_object *list = NULL;
	struct dirent **names;
	char dir[4096], rel[4096 + 64], domain[64];
	int n;

	snprintf(dir, sizeof(dir), "%s/bus/nd/devices", a->ctl->sysfs_root);
	n = scandir(dir, &names, region_filter, versionsort);
	if (a->doc)
		list = json_object_new_array();
	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "bus/nd/devices/%s/persistence_domain",
			 names[i]->d_name);
		if (read_line(a->ctl->sysfs_root, rel, domain, sizeof(domain)) < 0)
			snprintf(domain, sizeof(domain), "unknown");
		else if (!domain[0])
			snprintf(domain, sizeof(domain), "none");
		if (list) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(names[i]->d_name));
			json_object_object_add(o, "persistence_domain",
					       json_object_new_string(domain));
			json_object_array_add(list, o);
		} else {
			if (i == 0)
				printf("regions:\n");
			printf("  %-10s  persistence_domain %-17s  %s\n", names[i]->d_name, domain,
			       domain_meaning(domain));
		}
		free(names[i]);
	}
	if (n > 0)
		free(names);
	if (list)
		json_object_object_add(a->doc, "regions", list);
}

int cmd_check(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	struct audit a = { .ctl = ctl };
	struct ftm_range *all = NULL;
	bool loaded;
	size_t n = 0;
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 0, NULL);
	if (ret >= 0)
		return ret;
	a.gaps = json_object_new_array();
	if (ctl->json)
		a.doc = json_object_new_object();
	loaded = ftm_module_present(ctl->ftm);
	if (!loaded) {
		gap(&a, "module", "flushtm module not loaded (no %s)", ftm_ctx_root(ctl->ftm));
	} else {
		ret = ftm_range_list(ctl->ftm, &all, &n);
		if (ret < 0) {
			json_object_put(a.doc);
			json_object_put(a.gaps);
			ctl_err("check", "reading ranges: %s", ftm_strerror(ret, NULL));
			return CTL_FAIL;
		}
		/*
		 * Only enabled ranges cover anything; one not read whole is not
		 * counted.  The library's rule, which the metrics use too.
		 */
		if (ftm_covers_from_ranges(all, n, &a.covers, &a.nr_covers) < 0) {
			json_object_put(a.doc);
			json_object_put(a.gaps);
			free(all);
			ctl_err("check", "%s", strerror(ENOMEM));
			return CTL_FAIL;
		}
		for (size_t i = 0; i < n; i++) {
			char name[FTM_NAME_ESCAPED_MAX];

			if (all[i].error)
				gap(&a, "unreadable", "range %s: cannot read it: %s; what it covers "
				    "is not counted", ftm_name_escape(all[i].name, name, sizeof(name)),
				    ftm_strerror(all[i].error, NULL));
		}
	}
	audit_apertures(&a, FTM_SRC_IOMEM, "persistent memory (/proc/iomem)", "persistent memory",
			"pmem");
	audit_apertures(&a, FTM_SRC_ND, "namespaces", "namespace", "namespaces");
	if (loaded)
		audit_hooks(&a);
	audit_kdump(&a);
	audit_regions(&a);
	ctl_pstore_check(ctl, a.doc);
	free(all);
	free(a.covers);

	if (a.doc) {
		json_object_object_add(a.doc, "loaded", json_object_new_boolean(loaded));
		json_object_object_add(a.doc, "ok", json_object_new_boolean(a.nr_gaps == 0));
		json_object_object_add(a.doc, "gaps", a.gaps);
		ctl_json_print(a.doc);
	} else {
		for (size_t i = 0; i < a.nr_gaps; i++) {
			struct json_object *g = json_object_array_get_idx(a.gaps, i);

			printf("gap: %s\n", json_object_get_string(
				       json_object_object_get(g, "message")));
		}
		if (!a.nr_gaps)
			printf("no gaps\n");
		json_object_put(a.gaps);
	}
	if (a.nr_gaps) {
		ctl_err("check", "%u gap%s", a.nr_gaps, a.nr_gaps == 1 ? "" : "s");
		return CTL_FAIL;
	}
	return CTL_OK;
}
