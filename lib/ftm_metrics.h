/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * flushtm's state in the Prometheus text exposition format (version 0.0.4):
 * what `flushtmctl stats --format=prometheus` prints and what flushtmd writes
 * for node_exporter's textfile collector.  One renderer for both, reading
 * the values `flushtmctl status`, `stats` and `check` show.
 *
 * Series (names and labels per Prometheus conventions: the flushtm_ prefix,
 * counters end in _total, base units bytes and seconds):
 *   flushtm_module_loaded                      1 when the configfs root is there
 *   flushtm_build_info{version}                1, the tools' version
 *   flushtm_interface_version                  the module's configfs interface
 *   flushtm_hook_available{hook}, flushtm_hook_enabled{hook}        0 or 1
 *   flushtm_hook_fired_total{hook}, flushtm_hook_flushed_bytes_total{hook}
 *   flushtm_hook_last_duration_seconds{hook}, flushtm_hook_max_duration_seconds{hook}
 *   flushtm_range_size_bytes{range,owner}, flushtm_range_enabled{range,owner}
 *   flushtm_range_flushed_bytes_total{range,owner}
 *   flushtm_pmem_covered_bytes{source}, flushtm_pmem_uncovered_bytes{source}
 *                                              source "iomem" or "nd", as check
 *                                              audits them (the two describe
 *                                              the same memory: do not add them)
 *   flushtm_pmem_scan_ok{source}               0 when the source could not be read
 * The hook and interface series only when the module is loaded.  Range names
 * and owners are shown as flushtmctl shows them (ftm_name_escape), then
 * escaped for a label value.
 */
#ifndef FTM_METRICS_H
#define FTM_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "ftm_sources.h"
#include "libflushtm.h"

/*
 * The extents that cover, as check counts them: each enabled range of
 * non-zero size that was read whole (->error 0).  *covers is malloc'd
 * (never NULL on success), *n its length.  0 or -ENOMEM.
 */
int ftm_covers_from_ranges(const struct ftm_range *ranges, size_t nr, struct ftm_extent **covers,
			   size_t *n);

/*
 * Bytes of [start, start + size) that no extent of covers contains
 * (ftm_extent_gaps, the walk check reports gaps with).  -ENOMEM or 0.
 */
int ftm_uncovered_bytes(uint64_t start, uint64_t size, const struct ftm_extent *covers,
			size_t n, uint64_t *uncovered);

/*
 * Writes every series to f.  sysfs_root and procfs_root as for check
 * ("/sys", "/proc").  0, or a negative errno: reading the module failed
 * (nothing is written then), or writing to f did (-EIO when f has no errno).
 */
int ftm_metrics_write(FILE *f, const struct ftm_ctx *ctx, const char *sysfs_root,
		      const char *procfs_root);

#endif /* FTM_METRICS_H */
