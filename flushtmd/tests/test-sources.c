// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the aperture scanner (lib/ftm_sources.c) against a fake
 * sysfs and procfs tree laid out as the 6.1 kernel does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftm_sources.h"
#include "tap.h"

static char root[256];

static void mkdirs(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(99);
	}
}

static void link_to(const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (symlink(target, path)) {
		perror(path);
		exit(99);
	}
}

static void make_tree(void)
{
	mkdirs("sys/bus/nd/drivers/nd_pmem");
	mkdirs("sys/bus/dax/drivers/device_dax");
	/* namespace0.0: raw, bound itself */
	mkdirs("sys/bus/nd/devices/namespace0.0");
	put("sys/bus/nd/devices/namespace0.0/size", "134217728\n");
	put("sys/bus/nd/devices/namespace0.0/resource", "0x140000000\n");
	link_to("../../drivers/nd_pmem", "sys/bus/nd/devices/namespace0.0/driver");
	/* namespace1.0: fsdax, claimed by pfn1.0 which is bound */
	mkdirs("sys/bus/nd/devices/namespace1.0");
	put("sys/bus/nd/devices/namespace1.0/size", "0x4000000\n");
	put("sys/bus/nd/devices/namespace1.0/resource", "0x20000000\n");
	mkdirs("sys/bus/nd/devices/pfn1.0");
	put("sys/bus/nd/devices/pfn1.0/namespace", "namespace1.0\n");
	link_to("../../drivers/nd_pmem", "sys/bus/nd/devices/pfn1.0/driver");
	/* namespace2.0: the seed, size 0, no resource */
	mkdirs("sys/bus/nd/devices/namespace2.0");
	put("sys/bus/nd/devices/namespace2.0/size", "0\n");
	/* namespace3.0: disabled, its claim pfn3.0 unbound */
	mkdirs("sys/bus/nd/devices/namespace3.0");
	put("sys/bus/nd/devices/namespace3.0/size", "0x1000000\n");
	put("sys/bus/nd/devices/namespace3.0/resource", "0x180000000\n");
	mkdirs("sys/bus/nd/devices/pfn3.0");
	put("sys/bus/nd/devices/pfn3.0/namespace", "namespace3.0\n");
	/* a region is not a namespace */
	mkdirs("sys/bus/nd/devices/region0");

	/* dax0.0: from a pmem region, bound, one range */
	mkdirs("sys/devices/LNXSYSTM:00/ndbus0/region0/dax0.0/dax0.0");
	put("sys/devices/LNXSYSTM:00/ndbus0/region0/dax0.0/dax0.0/size", "0x7e00000\n");
	put("sys/devices/LNXSYSTM:00/ndbus0/region0/dax0.0/dax0.0/resource", "0x140200000\n");
	link_to("../../../../../../bus/dax/drivers/device_dax",
		"sys/devices/LNXSYSTM:00/ndbus0/region0/dax0.0/dax0.0/driver");
	mkdirs("sys/bus/dax/devices");
	link_to("../../../devices/LNXSYSTM:00/ndbus0/region0/dax0.0/dax0.0",
		"sys/bus/dax/devices/dax0.0");
	/* dax1.0: soft-reserved hmem, not persistent */
	mkdirs("sys/devices/platform/hmem.0/dax1.0");
	put("sys/devices/platform/hmem.0/dax1.0/size", "0x1000000\n");
	put("sys/devices/platform/hmem.0/dax1.0/resource", "0x200000000\n");
	link_to("../../../../bus/dax/drivers/device_dax",
		"sys/devices/platform/hmem.0/dax1.0/driver");
	link_to("../../../devices/platform/hmem.0/dax1.0", "sys/bus/dax/devices/dax1.0");
	/* dax2.0: pmem, bound, two mappings */
	mkdirs("sys/devices/ndbus1/region2/dax2.0/dax2.0/mapping0");
	mkdirs("sys/devices/ndbus1/region2/dax2.0/dax2.0/mapping1");
	put("sys/devices/ndbus1/region2/dax2.0/dax2.0/size", "0x400000\n");
	put("sys/devices/ndbus1/region2/dax2.0/dax2.0/resource", "0x300000000\n");
	put("sys/devices/ndbus1/region2/dax2.0/dax2.0/mapping0/start", "0x300000000\n");
	put("sys/devices/ndbus1/region2/dax2.0/dax2.0/mapping0/end", "0x3001fffff\n");
	put("sys/devices/ndbus1/region2/dax2.0/dax2.0/mapping1/start", "0x300800000\n");
	put("sys/devices/ndbus1/region2/dax2.0/dax2.0/mapping1/end", "0x3009fffff\n");
	link_to("../../../../../bus/dax/drivers/device_dax",
		"sys/devices/ndbus1/region2/dax2.0/dax2.0/driver");
	link_to("../../../devices/ndbus1/region2/dax2.0/dax2.0", "sys/bus/dax/devices/dax2.0");

	mkdirs("proc");
	put("proc/iomem",
	    "00000000-00000fff : Reserved\n"
	    "00001000-0009fbff : System RAM\n"
	    "00100000-1fffffff : System RAM\n"
	    "  01000000-01ffffff : Kernel code\n"
	    "20000000-23ffffff : Persistent Memory (legacy)\n"
	    "  20000000-23ffffff : namespace1.0\n"
	    "24000000-3ffdffff : System RAM\n"
	    "140000000-147ffffff : Persistent Memory\n"
	    "  140000000-147ffffff : Persistent Memory\n"
	    "    140000000-147ffffff : namespace0.0\n");
}

static const struct ftm_aperture *find(const struct ftm_aperture *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].name, name) == 0)
			return &a[i];
	return NULL;
}

static bool is(const struct ftm_aperture *a, uint64_t start, uint64_t size)
{
	return a && a->start == start && a->size == size;
}

static int count_pm(const struct ftm_iomem_entry *e, void *data)
{
	(void)e;
	++*(int *)data;
	return 0;
}

struct gap_list {
	struct ftm_extent g[16];
	size_t n;
};

static int collect_gap(uint64_t start, uint64_t size, void *data)
{
	struct gap_list *l = data;

	if (l->n < 16) {
		l->g[l->n].start = start;
		l->g[l->n].size = size;
	}
	l->n++;
	return 0;
}

static void test_gaps(struct tap *t)
{
	/* Overlapping, touching, out of order, one empty, one past the end. */
	const struct ftm_extent covers[] = {
		{ 0x3000, 0x1000 }, { 0x1000, 0x800 }, { 0x1400, 0x800 }, { 0x5000, 0 },
		{ 0x4000, 0x1000 }, { 0x9000, 0x10000 },
	};
	struct gap_list l = { .n = 0 };

	ftm_extent_gaps(0, 0xa000, covers, 6, collect_gap, &l);
	tap_ok(t, l.n == 3 && l.g[0].start == 0 && l.g[0].size == 0x1000 &&
	       l.g[1].start == 0x1c00 && l.g[1].size == 0x1400 &&
	       l.g[2].start == 0x5000 && l.g[2].size == 0x4000,
	       "gaps: overlapping, touching and unordered covers (%zu gaps)", l.n);
	l.n = 0;
	ftm_extent_gaps(0x1000, 0x800, covers, 6, collect_gap, &l);
	tap_ok(t, l.n == 0, "gaps: none when wholly covered");
	l.n = 0;
	ftm_extent_gaps(0x20000, 0x1000, NULL, 0, collect_gap, &l);
	tap_ok(t, l.n == 1 && l.g[0].start == 0x20000 && l.g[0].size == 0x1000,
	       "gaps: all of it when nothing covers");
	l.n = 0;
	const struct ftm_extent top = { 0xfffffffffffff000ull, 0x1000 };

	ftm_extent_gaps(0xffffffffffffe000ull, 0x2000, &top, 1, collect_gap, &l);
	tap_ok(t, l.n == 1 && l.g[0].size == 0x1000, "gaps: a cover reaching the top of memory");
}

static void ap(struct ftm_aperture *a, const char *src, const char *dev, uint64_t start,
	       uint64_t size)
{
	if (ftm_aperture_set(a, src, dev, start, size) < 0)
		abort();
}

/* The scanned fake tree: legacy pmem and namespace1.0 are one extent. */
static void test_fold_scanned(struct tap *t, const struct ftm_aperture *scanned, size_t n)
{
	struct ftm_aperture *a = malloc(n * sizeof(*a));

	memcpy(a, scanned, n * sizeof(*a));
	tap_ok(t, ftm_apertures_fold(&a, &n) == 0, "fold the scanned tree");
	tap_ok(t, find(a, n, "d-nd-namespace1.0") && !find(a, n, "d-iomem-20000000"),
	       "fold: legacy pmem and its namespace are one range, named nd");
	tap_ok(t, !find(a, n, "d-dax-dax0.0") && !find(a, n, "d-iomem-140000000") &&
	       find(a, n, "d-nd-namespace0.0"),
	       "fold: a devdax device inside its namespace adds no range");
	tap_ok(t, find(a, n, "d-dax-dax2.0-mapping0") && find(a, n, "d-dax-dax2.0-mapping1") &&
	       n == 4, "fold: dax outside any namespace kept (n %zu)", n);
	free(a);
}

static void test_fold(struct tap *t)
{
	struct ftm_aperture *a = calloc(8, sizeof(*a));
	size_t n = 0;

	/* A 1 GiB region with a 256 MiB namespace in its middle; a dax device in the namespace. */
	ap(&a[n++], "nd", "namespace0.0", 0x150000000, 256 << 20);
	ap(&a[n++], "dax", "dax0.0", 0x150200000, (256 << 20) - (2 << 20));
	ap(&a[n++], "iomem", "140000000", 0x140000000, 1 << 30);
	ap(&a[n++], "config", "trace", 0x150000000, 4096);
	tap_ok(t, ftm_apertures_fold(&a, &n) == 0 && n == 4, "fold: n %zu", n);
	tap_ok(t, is(find(a, n, "d-nd-namespace0.0"), 0x150000000, 256 << 20) &&
	       is(find(a, n, "d-iomem-140000000"), 0x140000000, 256 << 20) &&
	       is(find(a, n, "d-iomem-160000000"), 0x160000000, 512 << 20),
	       "fold: the iomem left around a namespace is kept, each piece named by its start");
	tap_ok(t, is(find(a, n, "d-config-trace"), 0x150000000, 4096),
	       "fold: static ranges are left as they are");
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].source, "config"))
			total += a[i].size;
	tap_ok(t, total == 1 << 30, "fold: no byte twice, none lost (%llu)",
	       (unsigned long long)total);
	free(a);

	/* Without nd, the dax device wins over iomem; a partial overlap keeps its name. */
	a = calloc(8, sizeof(*a));
	n = 0;
	ap(&a[n++], "dax", "dax0.0", 0x150200000, 0x100000);
	ap(&a[n++], "dax", "dax1.0", 0x17f000000, 0x2000000);
	ap(&a[n++], "iomem", "140000000", 0x140000000, 1 << 30);
	tap_ok(t, ftm_apertures_fold(&a, &n) == 0 && n == 4 &&
	       find(a, n, "d-dax-dax0.0") && is(find(a, n, "d-dax-dax1.0"), 0x17f000000, 0x2000000) &&
	       is(find(a, n, "d-iomem-140000000"), 0x140000000, 0x10200000) &&
	       is(find(a, n, "d-iomem-150300000"), 0x150300000, 0x17f000000 - 0x150300000),
	       "fold: dax then iomem; a dax device past the region end is kept whole (n %zu)", n);
	free(a);

	/* Nothing covers the iomem: it stays whole, under its usual name. */
	a = calloc(1, sizeof(*a));
	n = 0;
	ap(&a[n++], "iomem", "20000000", 0x20000000, 64 << 20);
	tap_ok(t, ftm_apertures_fold(&a, &n) == 0 && n == 1 &&
	       is(find(a, n, "d-iomem-20000000"), 0x20000000, 64 << 20),
	       "fold: iomem no namespace covers is still registered");
	free(a);
	a = NULL;
	n = 0;
	tap_ok(t, ftm_apertures_fold(&a, &n) == 0 && n == 0, "fold: an empty set");
}

struct labels {
	char text[256];
};

static int label_cat(const char *label, void *data)
{
	struct labels *l = data;

	snprintf(l->text + strlen(l->text), sizeof(l->text) - strlen(l->text), "%s%s",
		 l->text[0] ? " " : "", label);
	return 0;
}

static const char *labels_of(const char *cmdline, struct labels *l)
{
	l->text[0] = '\0';
	ftm_cmdline_reserve_mem(cmdline, label_cat, l);
	return l->text;
}

/* reserve_mem=SIZE:ALIGN:LABEL on /proc/cmdline: the daemon's reserve_mem source. */
static void test_reserve_mem(struct tap *t, const char *proc)
{
	struct ftm_aperture *a = NULL;
	struct labels l;
	size_t n = 0;
	int rc;

	tap_ok(t, !strcmp(labels_of("console=ttyS0 reserve_mem=16M:4096:trace "
				    "trace_instance=boot_map@trace\n", &l), "trace"),
	       "cmdline: the label of reserve_mem=16M:4096:trace ('%s')", l.text);
	tap_ok(t, !strcmp(labels_of("reserve_mem=1M:4096:a reserve_mem=2M:2M:b "
				    "reserve_mem=4M:4096:a", &l), "a b"),
	       "cmdline: several labels in order, a label twice once ('%s')", l.text);
	tap_ok(t, !strcmp(labels_of("reserve_mem=16M:trace reserve_mem=16M:4096: "
				    "reserve_mem=1M:4096:bad/label "
				    "reserve_mem=1M:4096:0123456789abcdef xreserve_mem=1M:4096:x "
				    "reserve_mem=1M:4096:ok", &l), "ok"),
	       "cmdline: no align, an empty, bad or 16-byte label, another key: skipped ('%s')",
	       l.text);
	tap_ok(t, !strcmp(labels_of("a=\"x reserve_mem=1M:4096:quoted\" reserve_mem=1M:4096:q -- "
				    "reserve_mem=1M:4096:init", &l), "q"),
	       "cmdline: quoted words are one word, after -- is init's ('%s')", l.text);

	put("proc/cmdline", "console=ttyS0 reserve_mem=16M:4096:trace reserve_mem=4M:4096:oops\n");
	rc = ftm_scan_reserve_mem(proc, &a, &n);
	tap_ok(t, rc == 0 && n == 2 && find(a, n, "d-reserve_mem-trace") &&
	       !strcmp(find(a, n, "d-reserve_mem-trace")->reserve_mem, "trace") &&
	       !strcmp(find(a, n, "d-reserve_mem-oops")->device, "oops") &&
	       is(find(a, n, "d-reserve_mem-oops"), 0, 0) &&
	       !strcmp(a[0].source, "reserve_mem"),
	       "reserve_mem scan: d-reserve_mem-LABEL, by label, no address (rc %d, n %zu)", rc, n);
	/* the fold keeps labelled apertures as they are: their extent is the kernel's */
	rc = ftm_apertures_fold(&a, &n);
	tap_ok(t, rc == 0 && n == 2 && find(a, n, "d-reserve_mem-trace"),
	       "fold: labelled apertures kept (rc %d, n %zu)", rc, n);
	free(a);
	a = NULL;
	n = 0;
	rc = ftm_sources_scan(FTM_SRC_RESERVE_MEM, "/nonexistent", proc, &a, &n, NULL);
	tap_ok(t, rc == 0 && n == 2, "sources scan: reserve_mem alone (rc %d, n %zu)", rc, n);
	free(a);
	a = NULL;
	n = 0;
	rc = ftm_sources_scan(FTM_SRC_RESERVE_MEM, "/nonexistent", "/nonexistent", &a, &n, NULL);
	tap_ok(t, rc == 0 && n == 0, "no cmdline: an empty source (rc %d)", rc);
	free(a);
	put("proc/cmdline", "");
}

int main(void)
{
	struct tap t = { 0 };
	struct ftm_aperture *a = NULL;
	char sys[PATH_MAX], proc[PATH_MAX];
	size_t n = 0;
	unsigned int bit;
	int rc;

	snprintf(root, sizeof(root), "%s/ftm-sources-XXXXXX", getenv("TMPDIR") ?: "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 99;
	}
	make_tree();
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);

	rc = ftm_scan_nd(sys, &a, &n);
	tap_ok(&t, rc == 0 && n == 2, "nd: two enabled namespaces (rc %d, n %zu)", rc, n);
	tap_ok(&t, is(find(a, n, "d-nd-namespace0.0"), 0x140000000, 128 << 20),
	       "nd: a raw namespace bound to nd_pmem is covered whole");
	tap_ok(&t, is(find(a, n, "d-nd-namespace1.0"), 0x20000000, 64 << 20),
	       "nd: an fsdax namespace counts as enabled through its bound pfn claim");
	tap_ok(&t, !find(a, n, "d-nd-namespace3.0") && !find(a, n, "d-nd-namespace2.0"),
	       "nd: seeds and disabled namespaces are skipped");
	free(a);
	a = NULL;
	n = 0;

	rc = ftm_scan_dax(sys, &a, &n);
	tap_ok(&t, rc == 0 && n == 3, "dax: three apertures (rc %d, n %zu)", rc, n);
	tap_ok(&t, is(find(a, n, "d-dax-dax0.0"), 0x140200000, 0x7e00000),
	       "dax: one range: resource and size");
	tap_ok(&t, is(find(a, n, "d-dax-dax2.0-mapping0"), 0x300000000, 2 << 20) &&
	       is(find(a, n, "d-dax-dax2.0-mapping1"), 0x300800000, 2 << 20),
	       "dax: several mappings: one aperture each");
	tap_ok(&t, !find(a, n, "d-dax-dax1.0"), "dax: soft-reserved (hmem) devices are not pmem");
	free(a);
	a = NULL;
	n = 0;

	rc = ftm_scan_iomem(proc, &a, &n);
	tap_ok(&t, rc == 0 && n == 2, "iomem: two top-level persistent-memory resources");
	tap_ok(&t, is(find(a, n, "d-iomem-20000000"), 0x20000000, 64 << 20) &&
	       is(find(a, n, "d-iomem-140000000"), 0x140000000, 128 << 20),
	       "iomem: named after the start, nested duplicates folded");
	free(a);

	int errs[FTM_NR_SOURCES];

	rc = ftm_sources_scan(FTM_SRC_ALL, sys, proc, &a, &n, errs);
	tap_ok(&t, rc == 0 && n == 7 && strcmp(a[0].source, "nd") == 0 &&
	       strcmp(a[n - 1].source, "iomem") == 0, "all sources, in order nd dax iomem");
	test_fold_scanned(&t, a, n);
	free(a);
	rc = ftm_sources_scan(FTM_SRC_DAX, sys, "/nonexistent", &a, &n, NULL);
	tap_ok(&t, rc == 0 && n == 3, "one source only");
	free(a);

	/* One source that cannot be read does not discard the others. */
	chmod(proc, 0);
	rc = ftm_sources_scan(FTM_SRC_ALL, sys, proc, &a, &n, errs);
	chmod(proc, 0755);
	if (geteuid() == 0) {
		/* root reads a mode-0 directory: make iomem unreadable another way. */
		free(a);
		char bad[PATH_MAX + 16];

		snprintf(bad, sizeof(bad), "%s/nothing-here", root);
		rc = ftm_sources_scan(FTM_SRC_ALL, sys, bad, &a, &n, errs);
	}
	tap_ok(&t, rc == (int)FTM_SRC_IOMEM && errs[2] < 0 && errs[0] == 0 && errs[1] == 0 &&
	       n == 5, "iomem unreadable: its bit and errno, nd and dax kept (rc %d, n %zu)", rc,
	       n);
	free(a);

	put("proc/iomem", "00000000-00000000 : System RAM\n00000000-00000000 : Persistent Memory\n");
	a = NULL;
	n = 0;
	rc = ftm_scan_iomem(proc, &a, &n);
	tap_ok(&t, rc == -EACCES, "iomem: hidden addresses (not root) are -EACCES, got %d", rc);

	/* A malformed line, and a line longer than any buffer, are skipped, not fatal. */
	char *huge = malloc(8192);

	memset(huge, 'x', 8191);
	huge[8191] = '\0';
	memcpy(huge, "30000000-3fffffff : ", 20);
	FILE *w = fopen(strcat(strcpy(sys, proc), "/iomem"), "w");

	fprintf(w, "20000000-23ffffff Persistent Memory\n%s\n-1-2 : Persistent Memory\n"
		"g0000000-23ffffff : Persistent Memory\n"
		"140000000-147ffffff : Persistent Memory\n", huge);
	fclose(w);
	free(huge);
	FILE *f = fopen(sys, "r");
	unsigned int skipped = 0;
	int count = 0;

	rc = f ? ftm_iomem_parse(f, count_pm, &count, &skipped) : -errno;
	tap_ok(&t, rc == 0 && count == 1 && skipped == 3,
	       "iomem: malformed lines skipped and counted, an 8 KiB line read whole "
	       "(rc %d, found %d, skipped %u)", rc, count, skipped);
	if (f)
		fclose(f);
	free(a);
	a = NULL;
	n = 0;
	rc = ftm_scan_iomem(proc, &a, &n);
	tap_ok(&t, rc == 0 && n == 1 && is(find(a, n, "d-iomem-140000000"), 0x140000000, 128 << 20),
	       "iomem scan: what parses is found despite the rest (rc %d, n %zu)", rc, n);
	free(a);

	/* A device tree's pmem-region: "reserved", the pmem driver's namespace under it. */
	put("proc/iomem", "40000000-7bcfffff : System RAM\n"
	    "  40210000-417fffff : Kernel code\n"
	    "  7b000000-7b0fffff : reserved\n"
	    "7bd00000-7bdfffff : System RAM\n"
	    "7be00000-7befffff : reserved\n"
	    "7c000000-7fffffff : reserved\n"
	    "  7c000000-7fffffff : namespace0.0\n"
	    "8000000000-ffffffffff : pcie@10000000\n"
	    "  8000000000-8000003fff : namespace9.9\n");
	a = NULL;
	n = 0;
	rc = ftm_scan_iomem(proc, &a, &n);
	tap_ok(&t, rc == 0 && n == 1 && is(find(a, n, "d-iomem-7c000000"), 0x7c000000, 64 << 20),
	       "iomem: a namespace under reserved memory (a device tree's pmem-region) is pmem; "
	       "reserved memory without one, and a namespace elsewhere, are not (rc %d, n %zu)",
	       rc, n);
	free(a);

	tap_ok(&t, ftm_sources_scan(FTM_SRC_ND, "/nonexistent", "/nonexistent", &a, &n, NULL) == 0 &&
	       n == 0 && !a, "a missing bus is an empty source");
	tap_ok(&t, ftm_source_parse("dax", &bit) == 0 && bit == FTM_SRC_DAX &&
	       ftm_source_parse("bogus", &bit) == -EINVAL &&
	       strcmp(ftm_source_name(FTM_SRC_IOMEM), "iomem") == 0, "source words");

	char words[64];

	tap_ok(&t, strcmp(ftm_sources_format(FTM_SRC_ALL, words, sizeof(words)), "nd dax iomem reserve_mem") == 0 &&
	       strcmp(ftm_sources_format(FTM_SRC_DEFAULT, words, sizeof(words)), "nd dax iomem") == 0 &&
	       strcmp(ftm_sources_format(FTM_SRC_IOMEM | FTM_SRC_ND, words, sizeof(words)),
		      "nd iomem") == 0 &&
	       strcmp(ftm_sources_format(0, words, sizeof(words)), "none") == 0,
	       "source words from the one table");
	test_gaps(&t);
	test_fold(&t);
	test_reserve_mem(&t, proc);

	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", root);
	printf("1..%u\n", t.n);
	return t.failed ? 1 : 0;
}
