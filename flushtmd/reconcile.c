// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "reconcile.h"

static size_t count_ours(const struct ftm_range *held, size_t n)
{
	size_t ours = 0;

	for (size_t i = 0; i < n; i++)
		ours += !held[i].error && held[i].enabled &&
			strcmp(held[i].owner, FTM_DAEMON_OWNER) == 0;
	return ours;
}

static int run_op(const struct ftm_ctx *ctx, const struct ftmd_log *log,
		  const struct ftmd_op *op)
{
	char sz[32];
	const char *step = NULL;
	int rc;

	if (op->kind == FTMD_OP_ADD) {
		rc = ftm_range_add_any(ctx, op->name, op->start, op->size, op->reserve_mem,
				       FTM_DAEMON_OWNER, &step);
		ftm_format_size(op->size, sz, sizeof(sz));
		if (op->reserve_mem[0] && rc == 0)
			ftmd_logf(log, LOG_INFO, "added %s reserve_mem %s (%s)", op->name,
				  op->reserve_mem, op->why);
		else if (op->reserve_mem[0])
			ftmd_logf(log, LOG_WARNING,
				  "cannot add %s reserve_mem %s: %s: %s; retrying on the next change",
				  op->name, op->reserve_mem, step ? step : "add",
				  ftm_strerror(rc, step ? step : "mkdir"));
		else if (rc == 0)
			ftmd_logf(log, LOG_INFO, "added %s 0x%" PRIx64 " %s (%s)", op->name,
				  op->start, sz, op->why);
		else
			ftmd_logf(log, LOG_WARNING,
				  "cannot add %s 0x%" PRIx64 " %s: %s: %s; retrying on the next change",
				  op->name, op->start, sz, step ? step : "add",
				  ftm_strerror(rc, step ? step : "mkdir"));
		return rc;
	}
	rc = ftm_range_del(ctx, op->name);
	if (rc == 0)
		ftmd_logf(log, LOG_INFO, "removed %s (%s)", op->name, op->why);
	else
		ftmd_logf(log, LOG_WARNING, "cannot remove %s: %s", op->name,
			  ftm_strerror(rc, "rmdir"));
	return rc;
}

int ftmd_reconcile(const struct ftm_ctx *ctx, const struct ftmd_log *log,
		   const struct ftm_range *held, size_t nr_held,
		   const struct ftm_aperture *want, size_t nr_want, struct ftmd_tally *tally)
{
	struct ftmd_plan plan;
	bool *done;
	int rc;

	memset(tally, 0, sizeof(*tally));
	rc = ftmd_plan_make(want, nr_want, held, nr_held, FTM_DAEMON_OWNER, &plan);
	tally->held = count_ours(held, nr_held);
	if (rc < 0) {
		ftmd_logf(log, LOG_ERR, "cannot plan the changes: %s%s", strerror(-rc),
			  rc == -EINVAL ? " (two wanted ranges with one name)" : "");
		return rc;
	}
	tally->kept = plan.nr_kept;

	done = calloc(plan.nr_ops + 1, sizeof(*done));
	if (!done) {
		ftmd_plan_free(&plan);
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan.nr_ops; i++) {
		const struct ftmd_op *op = &plan.ops[i];

		if (!ftmd_op_ready(&plan, i, done, held, nr_held)) {
			ftmd_logf(log, LOG_DEBUG, "not %s %s: what replaces it was not made",
				  op->kind == FTMD_OP_ADD ? "adding" : "removing", op->name);
			tally->skipped++;
			continue;
		}
		rc = run_op(ctx, log, op);
		done[i] = rc == 0;
		if (rc == 0 && op->kind == FTMD_OP_ADD) {
			tally->added++;
			tally->held++;
		} else if (rc == 0) {
			tally->removed++;
			/* A dead (disabled) range was not counted as held. */
			if (strcmp(op->why, "dead") != 0)
				tally->held--;
		} else {
			tally->refused++;
			/* The module went away under us: stop, the caller waits for it. */
			if (ftm_module_present(ctx) <= 0) {
				rc = -ENOENT;
				break;
			}
		}
		rc = 0;
	}
	free(done);
	ftmd_plan_free(&plan);
	return rc;
}
