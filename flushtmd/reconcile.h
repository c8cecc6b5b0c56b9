/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One reconcile: read what the module holds, plan (plan.h), carry the plan
 * out through libflushtm, log each change and each refusal with its reason.
 */
#ifndef FTMD_RECONCILE_H
#define FTMD_RECONCILE_H

#include <stddef.h>

#include "ftm_sources.h"
#include "libflushtm.h"
#include "log.h"

struct ftmd_tally {
	size_t added, removed;
	size_t refused;		/* ops the kernel refused */
	size_t skipped;		/* ops not tried because one they needed failed */
	size_t held;		/* ranges of ours live afterwards */
	size_t kept;		/* already right before */
};

/*
 * held: what the module holds now (ftm_range_list()), read by the caller
 * before it built want.  want: names unique.  -ENOENT when the module went
 * away mid-way; -EINVAL or -ENOMEM when no plan could be made (logged here,
 * as a planner error).  A refused op is not an error: it is logged and
 * counted, and the caller tries again later.
 */
int ftmd_reconcile(const struct ftm_ctx *ctx, const struct ftmd_log *log,
		   const struct ftm_range *held, size_t nr_held,
		   const struct ftm_aperture *want, size_t nr_want, struct ftmd_tally *tally);

#endif /* FTMD_RECONCILE_H */
