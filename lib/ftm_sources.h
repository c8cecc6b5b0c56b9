/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where persistent memory is: the apertures the system has now, read from
 * sysfs (libnvdimm namespaces, DAX devices) and /proc/iomem.  Shared by
 * flushtmd (what to cover) and `flushtmctl check` (what must be covered).
 *
 * Same conventions as libflushtm.h: 0 or a negative errno, nothing printed,
 * no global state.  The roots are parameters so tests can point them at a
 * fake tree.
 */
#ifndef FTM_SOURCES_H
#define FTM_SOURCES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libflushtm.h"

#define FTM_SRC_ALL		(FTM_SRC_ND | FTM_SRC_DAX | FTM_SRC_IOMEM | FTM_SRC_RESERVE_MEM)
/*
 * What flushtmd covers when [flushtmd] has no `sources =` line: reserve_mem
 * only when asked (a region the kernel set aside is not persistent memory;
 * covering it is a choice, as for ftrace's persistent buffer).
 */
#define FTM_SRC_DEFAULT		(FTM_SRC_ND | FTM_SRC_DAX | FTM_SRC_IOMEM)
#define FTM_DEVICE_MAX		64
/* Range names flushtmd makes: "d-<source>-<device>". */
#define FTM_DAEMON_PREFIX	"d-"
#define FTM_DAEMON_OWNER	"flushtmd"

struct ftm_aperture {
	char name[FTM_NAME_MAX];	/* "d-nd-namespace0.0", a valid range name */
	const char *source;		/* "nd", "dax", "iomem", "reserve_mem", "config": static */
	char device[FTM_DEVICE_MAX];	/* "namespace0.0", "dax1.0", "20000000", "trace" */
	uint64_t start, size;		/* 0 for a range given by label */
	/* A reserve_mem= label the module resolves (source reserve_mem, a config range), or "". */
	char reserve_mem[FTM_RESERVE_MEM_MAX];
};

/*
 * The one table of source names.  Index order is specificity order: nd
 * (a namespace: what was provisioned), dax (a device carved from one), iomem
 * (the whole platform resource); see ftm_apertures_fold().
 */
#define FTM_NR_SOURCES		4
/* "nd", "dax", "iomem", "reserve_mem" for one bit; NULL for anything else. */
const char *ftm_source_name(unsigned int bit);
/* One word to its bit; -EINVAL for an unknown word. */
int ftm_source_parse(const char *word, unsigned int *bit);
/* The bit of index i (0 .. FTM_NR_SOURCES - 1), in specificity order. */
unsigned int ftm_source_bit(unsigned int i);
/* The words of bits, space separated, "none" for 0; returns buf. */
const char *ftm_sources_format(unsigned int bits, char *buf, size_t len);

/*
 * Fills ap->name from source and device: "d-<source>-<device>", every byte
 * of device outside [A-Za-z0-9._-] turned into '_'.  -ENAMETOOLONG if it
 * does not fit.
 */
int ftm_aperture_set(struct ftm_aperture *ap, const char *source, const char *device,
		     uint64_t start, uint64_t size);

/*
 * Every aperture of the chosen sources (enum ftm_source bits), in the order
 * nd, dax, iomem and by name within a source.  sysfs_root is normally "/sys",
 * procfs_root "/proc".  *out is malloc'd (free() it), possibly NULL when *n
 * is 0.  A source whose directory is absent (driver not loaded) adds
 * nothing.
 *
 * Each source is scanned on its own: one that cannot be read (-EACCES when
 * addresses are hidden from a non-root reader, an I/O error...) adds
 * nothing and does not discard the others.  Returns the bits of the sources
 * that could not be read (0: all read), their errno in errs[index] when errs
 * is not NULL (0 for the others); -ENOMEM with nothing returned.
 *
 * nd: each namespace (/sys/bus/nd/devices/namespaceX.Y) with a resource and
 *     a non-zero size that is enabled: bound to a driver itself, or claimed
 *     by a pfn, dax or btt device that is (fsdax, devdax, sector modes).
 *     The whole namespace resource is covered, metadata included.
 * dax: each DAX device (/sys/bus/dax/devices/daxX.Y) of libnvdimm origin
 *     (not soft-reserved hmem) bound to a driver with a non-zero size: one
 *     aperture per mapping (daxX.Y-mappingN) when it has several, else one
 *     named after the device.
 * iomem: each "Persistent Memory" resource of /proc/iomem, named after its
 *     start address in hex; one nested in another is not repeated.
 * reserve_mem: each label of a reserve_mem=SIZE:ALIGN:LABEL parameter of
 *     /proc/cmdline (the first of a label, as the kernel keeps it), named
 *     d-reserve_mem-LABEL, start and size 0 and ->reserve_mem the label: the
 *     region has no iomem or sysfs entry, the module looks it up.  No
 *     cmdline file adds nothing.
 */
int ftm_sources_scan(unsigned int sources, const char *sysfs_root, const char *procfs_root,
		     struct ftm_aperture **out, size_t *n, int errs[FTM_NR_SOURCES]);

/*
 * One range per physical extent.  aps in the order ftm_sources_scan() gives
 * (nd, dax, iomem; other sources, such as "config", after them and left as
 * they are).  An nd or dax aperture wholly inside apertures of a more
 * specific source is dropped (a devdax device inside its namespace); one that
 * is only partly inside is kept whole (it keeps its device's name; the module
 * merges the overlap).  An iomem aperture becomes the pieces of it that no nd
 * or dax aperture covers, each named after its own start ("d-iomem-<hex>"):
 * none when namespaces cover it all, the whole resource when nothing does.
 * So the union of the apertures is unchanged and no byte is described twice
 * except by a partial nd/dax overlap.  In place; *aps may be reallocated.
 * 0 or -ENOMEM (then *aps and *n are as they were).
 */
int ftm_apertures_fold(struct ftm_aperture **aps, size_t *n);

/* [start, start + size) */
struct ftm_extent {
	uint64_t start, size;
};

/*
 * Calls fn for each stretch of [start, start + size) that none of covers
 * contains, in address order (covers may overlap, touch, and come in any
 * order).  A non-zero return from fn stops the walk and is returned; else
 * 0, or -ENOMEM.  What `flushtmctl check` calls uncovered and what the
 * daemon's fold keeps are both this walk.
 */
typedef int (*ftm_gap_fn)(uint64_t start, uint64_t size, void *data);
int ftm_extent_gaps(uint64_t start, uint64_t size, const struct ftm_extent *covers, size_t n,
		    ftm_gap_fn fn, void *data);

/* One source at a time; they append to *out and *n (start them at NULL and 0). */
int ftm_scan_nd(const char *sysfs_root, struct ftm_aperture **out, size_t *n);
int ftm_scan_dax(const char *sysfs_root, struct ftm_aperture **out, size_t *n);
int ftm_scan_iomem(const char *procfs_root, struct ftm_aperture **out, size_t *n);
int ftm_scan_reserve_mem(const char *procfs_root, struct ftm_aperture **out, size_t *n);
/*
 * The reserve_mem labels of a kernel command line, in order, each once;
 * fn is called with each valid label (one that is not is skipped).  A
 * non-zero return from fn stops the walk and is returned.
 */
typedef int (*ftm_label_fn)(const char *label, void *data);
int ftm_cmdline_reserve_mem(const char *cmdline, ftm_label_fn fn, void *data);

/*
 * The /proc/iomem parser on its own, for callers that want every line
 * (flushtmctl check lists each persistent-memory resource with its text).
 * Calls fn for each line whose description starts with "Persistent Memory";
 * depth is the nesting level (0 = top).  A non-zero return from fn stops the
 * walk and is returned.  -EACCES when every address reads as zero (the
 * kernel hides them from non-root readers).  A line that cannot be parsed
 * (malformed, whatever its length) is skipped and counted in *skipped when
 * skipped is not NULL: one odd line never hides the others.
 */
struct ftm_iomem_entry {
	uint64_t start, end;	/* inclusive end, as /proc/iomem prints it */
	unsigned int depth;
	const char *desc;	/* "Persistent Memory (legacy)"; valid during fn */
};
typedef int (*ftm_iomem_fn)(const struct ftm_iomem_entry *e, void *data);
int ftm_iomem_parse(FILE *f, ftm_iomem_fn fn, void *data, unsigned int *skipped);

#endif /* FTM_SOURCES_H */
