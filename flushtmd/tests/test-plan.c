// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the reconcile planner.  A small model of the module's range
 * table executes each plan the way the daemon does (skipping an op whose
 * `needs` failed) and checks, after every single op, that no wanted aperture
 * that was covered before is uncovered.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plan.h"
#include "tap.h"

#define OWN FTM_DAEMON_OWNER
#define MAX_HELD 256

struct model {
	struct ftm_range r[MAX_HELD];
	size_t n;
	const char *fail_add;	/* the kernel refuses adds of this name */
	bool broke;		/* make-before-break violated */
	bool bad_op;		/* an op the kernel would refuse (EEXIST, ENOENT) */
};

static struct ftm_range *model_find(struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->r[i].name, name) == 0)
			return &m->r[i];
	return NULL;
}

static void hold(struct model *m, const char *name, uint64_t start, uint64_t size,
		 const char *owner, bool enabled)
{
	struct ftm_range *r = &m->r[m->n++];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->owner, sizeof(r->owner), "%s", owner);
	r->start = start;
	r->size = size;
	r->enabled = enabled;
}

static bool covered(const struct model *m, const struct ftm_aperture *w)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].enabled && m->r[i].start <= w->start &&
		    m->r[i].start + m->r[i].size >= w->start + w->size)
			return true;
	return false;
}

static int model_apply(struct model *m, const struct ftmd_op *op)
{
	struct ftm_range *r = model_find(m, op->name);

	if (op->kind == FTMD_OP_ADD) {
		if (r) {
			m->bad_op = true;
			return -EEXIST;
		}
		if (m->fail_add && strcmp(m->fail_add, op->name) == 0)
			return -EINVAL;
		hold(m, op->name, op->start, op->size, OWN, true);
		return 0;
	}
	if (!r) {
		m->bad_op = true;
		return -ENOENT;
	}
	*r = m->r[--m->n];
	return 0;
}

/* Run the plan; returns the number of ops that failed or were skipped. */
static size_t model_run(struct model *m, const struct ftmd_plan *p,
			const struct ftm_aperture *want, size_t nr_want)
{
	bool was[64] = { false }, *ok = calloc(p->nr_ops + 1, sizeof(bool));
	struct ftm_range held[MAX_HELD];
	size_t bad = 0, nr_held = m->n;

	memcpy(held, m->r, m->n * sizeof(*held));
	for (size_t i = 0; i < nr_want; i++)
		was[i] = covered(m, &want[i]);
	for (size_t i = 0; i < p->nr_ops; i++) {
		const struct ftmd_op *op = &p->ops[i];

		/* As the daemon runs it (reconcile.c). */
		if (!ftmd_op_ready(p, i, ok, held, nr_held)) {
			bad++;
			continue;
		}
		ok[i] = model_apply(m, op) == 0;
		bad += !ok[i];
		for (size_t j = 0; j < nr_want; j++)
			if (was[j] && !covered(m, &want[j]))
				m->broke = true;
	}
	free(ok);
	return bad;
}

static void want_set(struct ftm_aperture *w, const char *src, const char *dev,
		     uint64_t start, uint64_t size)
{
	if (ftm_aperture_set(w, src, dev, start, size) < 0)
		abort();
}

/* Every wanted aperture held once, under its own name, and nothing else of ours. */
static bool converged(struct model *m, const struct ftm_aperture *want, size_t nr_want)
{
	size_t ours = 0;

	for (size_t i = 0; i < m->n; i++)
		ours += strcmp(m->r[i].owner, OWN) == 0;
	if (ours != nr_want)
		return false;
	for (size_t i = 0; i < nr_want; i++) {
		struct ftm_range *r = model_find(m, want[i].name);

		if (!r || strcmp(r->owner, OWN) || r->start != want[i].start ||
		    r->size != want[i].size)
			return false;
	}
	return true;
}

static bool replan_is_empty(struct model *m, const struct ftm_aperture *want, size_t nr_want)
{
	struct ftmd_plan p;
	bool empty;

	if (ftmd_plan_make(want, nr_want, m->r, m->n, OWN, &p) < 0)
		return false;
	empty = p.nr_ops == 0;
	ftmd_plan_free(&p);
	return empty;
}

static bool ops_are(const struct ftmd_plan *p, const char *const *expect)
{
	size_t i = 0;
	char buf[FTM_NAME_MAX + 8];

	for (; expect[i]; i++) {
		if (i >= p->nr_ops)
			return false;
		snprintf(buf, sizeof(buf), "%s %s", p->ops[i].kind == FTMD_OP_ADD ? "add" : "del",
			 p->ops[i].name);
		if (strcmp(buf, expect[i])) {
			tap_diag("op %zu: got '%s', expected '%s'", i, buf, expect[i]);
			return false;
		}
	}
	return i == p->nr_ops;
}

#define M 0x100000ull

int main(void)
{
	struct tap t = { 0 };
	struct ftm_aperture w[8];
	struct ftmd_plan p;
	struct model m;

	printf("1..32\n");

	/* nothing wanted, nothing held */
	memset(&m, 0, sizeof(m));
	tap_ok(&t, ftmd_plan_make(NULL, 0, NULL, 0, OWN, &p) == 0 && p.nr_ops == 0,
	       "empty wanted and held sets plan nothing");
	ftmd_plan_free(&p);

	/* fresh start */
	want_set(&w[0], "nd", "namespace1.0", 0x140000000, 128 * M);
	want_set(&w[1], "iomem", "20000000", 0x20000000, 64 * M);
	ftmd_plan_make(w, 2, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-iomem-20000000",
		"add d-nd-namespace1.0", NULL }), "fresh start adds every wanted aperture, by name");
	model_run(&m, &p, w, 2);
	ftmd_plan_free(&p);
	tap_ok(&t, converged(&m, w, 2) && replan_is_empty(&m, w, 2),
	       "after the adds the plan is empty (adopts what it made)");

	/* adoption after a restart, kept count */
	ftmd_plan_make(w, 2, m.r, m.n, OWN, &p);
	tap_ok(&t, p.nr_ops == 0 && p.nr_kept == 2, "held ranges are adopted, not duplicated");
	ftmd_plan_free(&p);

	/* others' ranges are never touched; removals come after adds */
	memset(&m, 0, sizeof(m));
	hold(&m, "trace", 0x20000000, 64 * M, "config", true);
	hold(&m, "d-nd-namespace0.0", 0x30000000, 16 * M, OWN, true);
	hold(&m, "d-nd-namespace9.9", 0x40000000, 16 * M, "admin", true);
	want_set(&w[0], "nd", "namespace1.0", 0x140000000, 128 * M);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-nd-namespace1.0",
		"del d-nd-namespace0.0", NULL }), "a stale range of ours goes after the add");
	model_run(&m, &p, w, 1);
	ftmd_plan_free(&p);
	tap_ok(&t, model_find(&m, "trace") && model_find(&m, "d-nd-namespace9.9") &&
	       converged(&m, w, 1), "ranges of other owners are left alone");

	/* reconfigured namespace: temporary, swap, rename */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0", 0x140000000, 64 * M, OWN, true);
	want_set(&w[0], "nd", "namespace0.0", 0x140000000, 128 * M);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-nd-namespace0.0:1",
		"del d-nd-namespace0.0", "add d-nd-namespace0.0", "del d-nd-namespace0.0:1", NULL }),
	       "changed content goes through a temporary name");
	tap_ok(&t, p.nr_ops == 4 && p.ops[1].needs == 0 && p.ops[2].needs == 1 &&
	       p.ops[3].needs == 2, "each step of the swap needs the previous one");
	model_run(&m, &p, w, 1);
	ftmd_plan_free(&p);
	tap_ok(&t, !m.broke && !m.bad_op && converged(&m, w, 1) && replan_is_empty(&m, w, 1),
	       "the swap never uncovers the aperture and ends under the stable name");

	/* the kernel refuses the new content: the old range stays */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0", 0x140000000, 64 * M, OWN, true);
	m.fail_add = "d-nd-namespace0.0:1";
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, model_run(&m, &p, w, 1) == 4 && m.n == 1 && m.r[0].size == 64 * M,
	       "a refused replacement leaves the old range, skips what depended on it");
	ftmd_plan_free(&p);

	/* one range per extent: a stale iomem range goes only once its namespace's is made */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-iomem-20000000", 0x20000000, 64 * M, OWN, true);
	want_set(&w[0], "nd", "namespace0.0", 0x20000000, 64 * M);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-nd-namespace0.0",
		"del d-iomem-20000000", NULL }), "another source's name: add, then remove");
	m.fail_add = "d-nd-namespace0.0";
	tap_ok(&t, model_run(&m, &p, w, 1) == 2 && !m.broke && model_find(&m, "d-iomem-20000000"),
	       "its add refused: the iomem range stays, the extent stays covered");
	ftmd_plan_free(&p);
	m.fail_add = NULL;
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	model_run(&m, &p, w, 1);
	ftmd_plan_free(&p);
	tap_ok(&t, !m.broke && converged(&m, w, 1), "the next try converges");
	want_set(&w[0], "nd", "namespace0.0", 0x140000000, 128 * M);

	/* crash in the middle of a swap, each possible state */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0", 0x140000000, 64 * M, OWN, true);
	hold(&m, "d-nd-namespace0.0:1", 0x140000000, 128 * M, OWN, true);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "del d-nd-namespace0.0",
		"add d-nd-namespace0.0", "del d-nd-namespace0.0:1", NULL }),
	       "crash after the temporary: the temporary is reused");
	model_run(&m, &p, w, 1);
	ftmd_plan_free(&p);
	tap_ok(&t, !m.broke && converged(&m, w, 1), "... and the swap completes");

	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0:1", 0x140000000, 128 * M, OWN, true);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-nd-namespace0.0",
		"del d-nd-namespace0.0:1", NULL }), "crash after removing the old: rename only");
	ftmd_plan_free(&p);

	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0:1", 0x140000000, 128 * M, OWN, true);
	hold(&m, "d-nd-namespace0.0", 0x140000000, 128 * M, OWN, true);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "del d-nd-namespace0.0:1", NULL }),
	       "crash before removing the temporary: it is stale");
	ftmd_plan_free(&p);

	/* a disabled range of ours (crash between mkdir and enable) */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0", 0, 0, OWN, false);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "del d-nd-namespace0.0",
		"add d-nd-namespace0.0", NULL }), "a disabled range of ours is removed first");
	ftmd_plan_free(&p);

	/* another owner holds our name */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0", 0x140000000, 128 * M, "admin", true);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-nd-namespace0.0:1", NULL }),
	       "a name held by another owner: covered under W:1");
	model_run(&m, &p, w, 1);
	ftmd_plan_free(&p);
	tap_ok(&t, replan_is_empty(&m, w, 1), "... which then is its steady name");

	/* temporary name taken by another owner */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0", 0x140000000, 64 * M, OWN, true);
	hold(&m, "d-nd-namespace0.0:1", 0x10000000, 4 * M, "admin", true);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, p.nr_ops == 4 && strcmp(p.ops[0].name, "d-nd-namespace0.0:2") == 0,
	       "the temporary skips names held by others");
	ftmd_plan_free(&p);

	/* duplicate wanted names */
	want_set(&w[1], "nd", "namespace0.0", 0x150000000, 128 * M);
	tap_ok(&t, ftmd_plan_make(w, 2, NULL, 0, OWN, &p) == -EINVAL,
	       "duplicate wanted names are refused");

	/* everything gone: all ours removed */
	memset(&m, 0, sizeof(m));
	hold(&m, "d-nd-namespace0.0", 0x140000000, 64 * M, OWN, true);
	hold(&m, "d-dax-dax0.0", 0x140000000, 64 * M, OWN, true);
	hold(&m, "x", 0x140000000, 64 * M, "admin", true);
	ftmd_plan_make(NULL, 0, m.r, m.n, OWN, &p);
	tap_ok(&t, p.nr_ops == 2 && p.ops[0].kind == FTMD_OP_DEL && p.ops[1].kind == FTMD_OP_DEL,
	       "nothing wanted: only our ranges are removed");
	ftmd_plan_free(&p);

	/* sanitised names */
	want_set(&w[0], "dax", "da x/0:0", 0, M);
	tap_ok(&t, strcmp(w[0].name, "d-dax-da_x_0_0") == 0, "device names are sanitised");

	/* static ranges: apply's copy (owner config) covers them */
	memset(&m, 0, sizeof(m));
	hold(&m, "trace", 0x20000000, 64 * M, "config", true);
	hold(&m, "d-config-trace", 0x20000000, 64 * M, OWN, true);
	want_set(&w[0], "config", "trace", 0x20000000, 64 * M);
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "del d-config-trace", NULL }) &&
	       p.nr_kept == 1, "a static range applied by flushtmctl: no copy of ours");
	ftmd_plan_free(&p);
	m.r[0].size = 32 * M;	/* the file changed since apply */
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, p.nr_ops == 0 && p.nr_kept == 1,
	       "... applied with other content: the daemon's copy covers it");
	ftmd_plan_free(&p);

	/* random states converge, and a failure never breaks cover */
	srand(42);
	bool fuzz_ok = true, fuzz_fail_ok = true;

	for (int round = 0; round < 2000; round++) {
		size_t nw = (size_t)(rand() % 6);

		memset(&m, 0, sizeof(m));
		for (size_t i = 0; i < nw; i++) {
			char dev[32];

			snprintf(dev, sizeof(dev), "namespace%zu.0", i);
			want_set(&w[i], "nd", dev, (i + 1) * 0x40000000ull,
				 (uint64_t)(1 + rand() % 3) * M);
		}
		for (int h = rand() % 8; h > 0; h--) {
			char name[FTM_NAME_MAX];
			int d = rand() % 7;

			snprintf(name, sizeof(name), "d-nd-namespace%d.0%s", d,
				 rand() % 3 ? "" : (rand() % 2 ? ":1" : ":2"));
			if (model_find(&m, name))
				continue;
			hold(&m, name, (uint64_t)(d + 1) * 0x40000000ull,
			     (uint64_t)(1 + rand() % 3) * M,
			     rand() % 5 ? OWN : "admin", rand() % 6 != 0);
		}
		bool fail = rand() % 4 == 0 && nw;

		m.fail_add = fail ? w[rand() % nw].name : NULL;
		struct model before = m;

		if (ftmd_plan_make(w, nw, m.r, m.n, OWN, &p) < 0) {
			fuzz_ok = false;
			break;
		}
		model_run(&m, &p, w, nw);
		ftmd_plan_free(&p);
		if (m.broke || m.bad_op)
			fail ? (fuzz_fail_ok = false) : (fuzz_ok = false);
		if (fail)
			continue;
		/* Names held by others make W:k the steady name: convergence = empty replan. */
		if (!replan_is_empty(&m, w, nw)) {
			fuzz_ok = false;
			tap_diag("round %d did not converge (%zu held before)", round, before.n);
			break;
		}
	}
	tap_ok(&t, fuzz_ok, "2000 random states: cover kept, no bad op, one plan converges");
	tap_ok(&t, fuzz_fail_ok, "... and with a refused add, cover is still kept");

	/* By label (the reserve_mem source, a config range): the kernel fills the extent. */
	memset(&m, 0, sizeof(m));
	want_set(&w[0], "reserve_mem", "trace", 0, 0);
	snprintf(w[0].reserve_mem, sizeof(w[0].reserve_mem), "trace");
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-reserve_mem-trace", NULL }) &&
	       !strcmp(p.ops[0].reserve_mem, "trace") && p.ops[0].start == 0 && p.ops[0].size == 0,
	       "a labelled aperture is added by its label");
	ftmd_plan_free(&p);
	hold(&m, "d-reserve_mem-trace", 0x3da00000, 16 * M, OWN, true);
	snprintf(m.r[0].reserve_mem, sizeof(m.r[0].reserve_mem), "trace");
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, p.nr_ops == 0 && p.nr_kept == 1,
	       "held with that label and the region the kernel found: kept, not replaced");
	ftmd_plan_free(&p);
	snprintf(m.r[0].reserve_mem, sizeof(m.r[0].reserve_mem), "other");
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, ops_are(&p, (const char *const[]){ "add d-reserve_mem-trace:1",
		"del d-reserve_mem-trace", "add d-reserve_mem-trace", "del d-reserve_mem-trace:1",
		NULL }) && !strcmp(p.ops[0].reserve_mem, "trace") && !strcmp(p.ops[2].reserve_mem, "trace"),
	       "held with another label: replaced through a temporary, by label");
	ftmd_plan_free(&p);
	memset(&m, 0, sizeof(m));
	hold(&m, "boot", 0x3da00000, 16 * M, "config", true);
	snprintf(m.r[0].reserve_mem, sizeof(m.r[0].reserve_mem), "trace");
	want_set(&w[0], FTM_SOURCE_CONFIG, "boot", 0, 0);
	snprintf(w[0].reserve_mem, sizeof(w[0].reserve_mem), "trace");
	ftmd_plan_make(w, 1, m.r, m.n, OWN, &p);
	tap_ok(&t, p.nr_ops == 0 && p.nr_kept == 1,
	       "a config range by label that apply made is the daemon's cover too");
	ftmd_plan_free(&p);
	return t.failed ? 1 : 0;
}
