// SPDX-License-Identifier: LGPL-2.1-or-later
/* The Prometheus text exposition of flushtm's state (ftm_metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ftm_metrics.h"

#ifndef FLUSHTM_VERSION
#define FLUSHTM_VERSION ""
#endif

int ftm_covers_from_ranges(const struct ftm_range *ranges, size_t nr, struct ftm_extent **covers,
			   size_t *n)
{
	struct ftm_extent *c = calloc(nr ? nr : 1, sizeof(*c));
	size_t k = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		if (ranges[i].error || !ranges[i].enabled || !ranges[i].size)
			continue;
		c[k].start = ranges[i].start;
		c[k++].size = ranges[i].size;
	}
	*covers = c;
	*n = k;
	return 0;
}

static int add_gap(uint64_t start, uint64_t size, void *data)
{
	(void)start;
	*(uint64_t *)data += size;
	return 0;
}

int ftm_uncovered_bytes(uint64_t start, uint64_t size, const struct ftm_extent *covers,
			size_t n, uint64_t *uncovered)
{
	*uncovered = 0;
	return ftm_extent_gaps(start, size, covers, n, add_gap, uncovered);
}

/* What one pmem source adds up to. */
struct source_cover {
	const char *name;
	bool ok;
	uint64_t covered, uncovered;
};

static int cover_source(struct source_cover *sc, unsigned int source, const char *sysfs_root,
			const char *procfs_root, const struct ftm_extent *covers, size_t nr_covers)
{
	struct ftm_aperture *aps = NULL;
	size_t n = 0;
	int ret;

	sc->name = ftm_source_name(source);
	ret = source == FTM_SRC_ND ? ftm_scan_nd(sysfs_root, &aps, &n)
				   : ftm_scan_iomem(procfs_root, &aps, &n);
	sc->ok = ret >= 0;
	if (ret == -ENOMEM) {
		free(aps);
		return ret;
	}
	for (size_t i = 0; sc->ok && i < n; i++) {
		uint64_t gap;

		ret = ftm_uncovered_bytes(aps[i].start, aps[i].size, covers, nr_covers, &gap);
		if (ret < 0) {
			free(aps);
			return ret;
		}
		sc->uncovered += gap;
		sc->covered += aps[i].size - gap;
	}
	free(aps);
	return 0;
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Nanoseconds as seconds, exactly: "0.000754235". */
static void put_seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64 "\n", ns / 1000000000u, ns % 1000000000u);
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* One metric family: its name, type, help text and which value it shows. */
struct family {
	const char *name;
	const char *type;
	const char *help;
	int field;
};

enum hook_field { H_AVAILABLE, H_ENABLED, H_FIRED, H_FLUSHED, H_LAST, H_MAX };

static const struct family hook_families[] = {
	{ "flushtm_hook_available", "gauge", "Whether the hook can be armed on this kernel.",
	  H_AVAILABLE },
	{ "flushtm_hook_enabled", "gauge", "Whether the hook is armed.", H_ENABLED },
	{ "flushtm_hook_fired_total", "counter", "Times the hook fired and flushed.", H_FIRED },
	{ "flushtm_hook_flushed_bytes_total", "counter",
	  "Bytes written back by the hook's flushes.", H_FLUSHED },
	{ "flushtm_hook_last_duration_seconds", "gauge", "Duration of the hook's last flush.",
	  H_LAST },
	{ "flushtm_hook_max_duration_seconds", "gauge", "Duration of the hook's longest flush.",
	  H_MAX },
};

static void hook_series(FILE *f, const struct ftm_hook *h, size_t n, const struct family *fam)
{
	head(f, fam->name, fam->type, fam->help);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{hook=\"", fam->name);
		put_label(f, h[i].name);
		fputs("\"} ", f);
		switch (fam->field) {
		case H_AVAILABLE:
			fprintf(f, "%d\n", h[i].available);
			break;
		case H_ENABLED:
			fprintf(f, "%d\n", h[i].enabled);
			break;
		case H_FIRED:
			fprintf(f, "%" PRIu64 "\n", h[i].fired);
			break;
		case H_FLUSHED:
			fprintf(f, "%" PRIu64 "\n", h[i].flushed_bytes);
			break;
		case H_LAST:
			put_seconds(f, h[i].last_ns);
			break;
		case H_MAX:
			put_seconds(f, h[i].max_ns);
			break;
		}
	}
}

enum range_field { R_SIZE, R_ENABLED, R_FLUSHED };

static const struct family range_families[] = {
	{ "flushtm_range_size_bytes", "gauge", "Size of the range.", R_SIZE },
	{ "flushtm_range_enabled", "gauge", "Whether the range is enabled (flushed by the hooks).",
	  R_ENABLED },
	{ "flushtm_range_flushed_bytes_total", "counter",
	  "Bytes of the range written back, all hooks together.", R_FLUSHED },
};

/* A range not read whole is left out: its values would be guesses. */
static void range_series(FILE *f, const struct ftm_range *r, size_t n, const struct family *fam)
{
	char buf[FTM_NAME_ESCAPED_MAX];

	head(f, fam->name, fam->type, fam->help);
	for (size_t i = 0; i < n; i++) {
		if (r[i].error)
			continue;
		fprintf(f, "%s{range=\"", fam->name);
		put_label(f, ftm_name_escape(r[i].name, buf, sizeof(buf)));
		fputs("\",owner=\"", f);
		put_label(f, ftm_name_escape(r[i].owner, buf, sizeof(buf)));
		fputs("\"} ", f);
		if (fam->field == R_SIZE)
			fprintf(f, "%" PRIu64 "\n", r[i].size);
		else if (fam->field == R_ENABLED)
			fprintf(f, "%d\n", r[i].enabled);
		else
			fprintf(f, "%" PRIu64 "\n", r[i].flushed_bytes);
	}
}

enum cover_field { C_COVERED, C_UNCOVERED, C_SCAN_OK };

static const struct family cover_families[] = {
	{ "flushtm_pmem_covered_bytes", "gauge",
	  "Persistent memory of the source that enabled ranges cover (as flushtmctl check).",
	  C_COVERED },
	{ "flushtm_pmem_uncovered_bytes", "gauge",
	  "Persistent memory of the source that no enabled range covers (check's gaps).",
	  C_UNCOVERED },
	{ "flushtm_pmem_scan_ok", "gauge",
	  "Whether the source could be read (else its bytes are not shown).", C_SCAN_OK },
};

/* A source that could not be read shows only its scan_ok 0. */
static void cover_series(FILE *f, const struct source_cover *sc, size_t n,
			 const struct family *fam)
{
	head(f, fam->name, fam->type, fam->help);
	for (size_t i = 0; i < n; i++) {
		if (fam->field != C_SCAN_OK && !sc[i].ok)
			continue;
		fprintf(f, "%s{source=\"%s\"} %" PRIu64 "\n", fam->name, sc[i].name,
			fam->field == C_COVERED	  ? sc[i].covered :
			fam->field == C_UNCOVERED ? sc[i].uncovered :
						    (uint64_t)sc[i].ok);
	}
}

int ftm_metrics_write(FILE *f, const struct ftm_ctx *ctx, const char *sysfs_root,
		      const char *procfs_root)
{
	struct source_cover sc[2] = { { 0 } };
	struct ftm_range *ranges = NULL;
	struct ftm_extent *covers = NULL;
	struct ftm_hook *hooks = NULL;
	size_t nr_hooks = 0, nr_ranges = 0, nr_covers = 0;
	struct ftm_info info = { 0 };
	bool loaded = ftm_module_present(ctx) > 0;
	int ret = 0;

	/* Everything is read first: a failure writes nothing. */
	if (loaded) {
		ret = ftm_info_read(ctx, &info);
		if (!ret)
			ret = ftm_hook_list(ctx, &hooks, &nr_hooks);
		if (!ret)
			ret = ftm_range_list(ctx, &ranges, &nr_ranges);
	}
	if (!ret)
		ret = ftm_covers_from_ranges(ranges, nr_ranges, &covers, &nr_covers);
	if (!ret)
		ret = cover_source(&sc[0], FTM_SRC_IOMEM, sysfs_root, procfs_root, covers,
				   nr_covers);
	if (!ret)
		ret = cover_source(&sc[1], FTM_SRC_ND, sysfs_root, procfs_root, covers, nr_covers);
	free(covers);
	if (ret < 0)
		goto out;

	head(f, "flushtm_module_loaded", "gauge",
	     "Whether the flushtm module is loaded (its configfs directory is there).");
	fprintf(f, "flushtm_module_loaded %d\n", loaded);
	head(f, "flushtm_build_info", "gauge", "The version of the flushtm tools, as a label.");
	fputs("flushtm_build_info{version=\"", f);
	put_label(f, FLUSHTM_VERSION);
	fputs("\"} 1\n", f);
	if (loaded) {
		head(f, "flushtm_interface_version", "gauge",
		     "The configfs interface version the module speaks.");
		fprintf(f, "flushtm_interface_version %u\n", info.version);
		for (size_t i = 0; i < ARRAY_LEN(hook_families); i++)
			hook_series(f, hooks, nr_hooks, &hook_families[i]);
		for (size_t i = 0; i < ARRAY_LEN(range_families); i++)
			range_series(f, ranges, nr_ranges, &range_families[i]);
	}
	for (size_t i = 0; i < ARRAY_LEN(cover_families); i++)
		cover_series(f, sc, ARRAY_LEN(sc), &cover_families[i]);
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		ret = errno ? -errno : -EIO;
out:
	free(hooks);
	free(ranges);
	return ret;
}
