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

	printf("1..16\n");
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

	rc = ftm_sources_scan(FTM_SRC_ALL, sys, proc, &a, &n);
	tap_ok(&t, rc == 0 && n == 7 && strcmp(a[0].source, "nd") == 0 &&
	       strcmp(a[n - 1].source, "iomem") == 0, "all sources, in order nd dax iomem");
	free(a);
	rc = ftm_sources_scan(FTM_SRC_DAX, sys, "/nonexistent", &a, &n);
	tap_ok(&t, rc == 0 && n == 3, "one source only");
	free(a);

	put("proc/iomem", "00000000-00000000 : System RAM\n00000000-00000000 : Persistent Memory\n");
	rc = ftm_scan_iomem(proc, &a, &n);
	tap_ok(&t, rc == -EACCES, "iomem: hidden addresses (not root) are -EACCES, got %d", rc);
	put("proc/iomem", "20000000-23ffffff Persistent Memory\n");
	FILE *f = fopen(strcat(proc, "/iomem"), "r");
	int count = 0;

	tap_ok(&t, f && ftm_iomem_parse(f, count_pm, &count) == -EINVAL,
	       "iomem: a malformed line is -EINVAL");
	if (f)
		fclose(f);

	tap_ok(&t, ftm_sources_scan(FTM_SRC_ND, "/nonexistent", "/nonexistent", &a, &n) == 0 &&
	       n == 0 && !a, "a missing bus is an empty source");
	tap_ok(&t, ftm_source_parse("dax", &bit) == 0 && bit == FTM_SRC_DAX &&
	       ftm_source_parse("bogus", &bit) == -EINVAL &&
	       strcmp(ftm_source_name(FTM_SRC_IOMEM), "iomem") == 0, "source words");

	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", root);
	return t.failed ? 1 : 0;
}
