/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reconcile plan: from the apertures wanted and the ranges the module
 * holds, the ordered configfs operations that make them agree.  Pure: no I/O,
 * so it is unit tested on its own.
 *
 * Invariant (make-before-break): executing the ops in order, skipping an op
 * whose `needs` op failed, never leaves a wanted aperture uncovered that was
 * covered before, and never removes a range whose replacement was not made.
 *
 * Names: a wanted aperture lives under its name W.  When W is held with other
 * content (a namespace reconfigured), the kernel refuses to change an enabled
 * range, so the new content goes first under a temporary name W:k (the
 * smallest k >= 1 whose name is free), then W is removed, re-made with the new
 * content, and W:k removed: in the steady state names are stable.  A W:k
 * left behind by a crash is reused as the temporary if its content is right,
 * else removed as stale.  When another owner holds W, the aperture is covered
 * as W:k, which is then its steady name.
 *
 * Static ranges of the configuration (source "config", device = the section
 * name) are `flushtmctl apply`'s: one it made (owner "config", same name and
 * content) covers the aperture, and the daemon keeps no copy.  The daemon
 * covers a static range itself only where apply has not made it as written
 * (not run yet, or the file changed since).
 */
#define FTM_SOURCE_CONFIG	"config"

#ifndef FTMD_PLAN_H
#define FTMD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libflushtm.h"
#include "ftm_sources.h"

#define FTMD_TEMP_SEP	':'

enum ftmd_op_kind { FTMD_OP_ADD, FTMD_OP_DEL };

struct ftmd_op {
	enum ftmd_op_kind kind;
	char name[FTM_NAME_MAX];
	uint64_t start, size;	/* FTMD_OP_ADD only */
	char reserve_mem[FTM_RESERVE_MEM_MAX];	/* FTMD_OP_ADD by label: the label, else "" */
	const char *why;	/* "new", "temporary", "replace", "rename", "stale", "dead" */
	ssize_t needs;		/* index of an earlier op that must have succeeded, or -1 */
};

struct ftmd_plan {
	struct ftmd_op *ops;
	size_t nr_ops;
	size_t nr_kept;		/* wanted apertures already covered as they should be */
};

/*
 * want: the apertures wanted, names unique (-EINVAL otherwise).  held: every
 * range the module holds, any owner; only those of `owner` (and read whole:
 * ->error 0) are ever removed, the others only reserve their names.  On success plan->ops is malloc'd
 * (ftmd_plan_free()); adds come before the removals they make safe.
 */
int ftmd_plan_make(const struct ftm_aperture *want, size_t nr_want,
		   const struct ftm_range *held, size_t nr_held, const char *owner,
		   struct ftmd_plan *plan);
void ftmd_plan_free(struct ftmd_plan *plan);

/*
 * Whether op i may run, done[j] saying which earlier ops succeeded: its
 * `needs` succeeded, and, for a removal, no earlier add failed or was
 * skipped whose range overlaps the one removed (held: the set the plan was
 * made from).  One range per extent makes that needed: a stale
 * d-iomem-20000000 goes only once the d-nd-namespace0.0 that replaces it is
 * there, though the two names have nothing to do with each other.
 */
bool ftmd_op_ready(const struct ftmd_plan *plan, size_t i, const bool *done,
		   const struct ftm_range *held, size_t nr_held);

#endif /* FTMD_PLAN_H */
