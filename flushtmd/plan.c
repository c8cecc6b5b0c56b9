// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The reconcile planner: wanted apertures + held ranges -> ordered ops.
 * See plan.h for the rules.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

enum fate {
	FATE_STALE,	/* removed at the end */
	FATE_KEEP,	/* covers a wanted aperture as it should */
	FATE_SWAPPED,	/* removed and re-made within a replacement */
};

/* One of our live ranges, its name split into base W and suffix :k. */
struct held_ref {
	const struct ftm_range *r;
	char base[FTM_NAME_MAX];
	unsigned long k;	/* 0: the name is the base itself */
	enum fate fate;
	ssize_t needs;		/* for a stale one: the add it waits for */
};

struct swap {
	const struct ftm_aperture *w;
	char temp[FTM_NAME_MAX];
	ssize_t temp_add;	/* op that made the temporary, -1 if it was there */
};

struct builder {
	struct ftmd_op *ops;
	size_t n, cap;
};

static ssize_t emit(struct builder *b, enum ftmd_op_kind kind, const char *name,
		    uint64_t start, uint64_t size, const char *why, ssize_t needs)
{
	struct ftmd_op *op;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct ftmd_op *grown = realloc(b->ops, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		b->ops = grown;
		b->cap = cap;
	}
	op = &b->ops[b->n];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	snprintf(op->name, sizeof(op->name), "%s", name);
	op->start = start;
	op->size = size;
	op->why = why;
	op->needs = needs;
	return (ssize_t)b->n++;
}

/* "W:12" -> W, 12; anything else -> itself, 0. */
static void split_name(const char *name, char *base, unsigned long *k)
{
	const char *sep = strrchr(name, FTMD_TEMP_SEP);
	char *end;

	snprintf(base, FTM_NAME_MAX, "%s", name);
	*k = 0;
	if (!sep || sep[1] < '1' || sep[1] > '9')
		return;
	errno = 0;
	unsigned long v = strtoul(sep + 1, &end, 10);

	if (errno || *end || v == 0)
		return;
	base[sep - name] = '\0';
	*k = v;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct held_ref *x = a, *y = b;
	int c = strcmp(x->base, y->base);

	if (c)
		return c;
	return x->k < y->k ? -1 : x->k > y->k;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_want(const void *a, const void *b)
{
	const struct ftm_aperture *x = *(const struct ftm_aperture *const *)a;
	const struct ftm_aperture *y = *(const struct ftm_aperture *const *)b;

	return strcmp(x->name, y->name);
}

static bool taken(const char *const *names, size_t n, const char *name)
{
	return bsearch(&name, names, n, sizeof(*names), cmp_str) != NULL;
}

/* Index of the first ref whose base is `base`, or nr if none. */
static size_t first_variant(const struct held_ref *refs, size_t nr, const char *base)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(refs[mid].base, base) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nr && strcmp(refs[lo].base, base) == 0 ? lo : nr;
}

/* By label: the same label (its extent is the kernel's to say); else the same extent. */
static bool same_content(const struct ftm_range *r, const struct ftm_aperture *w)
{
	if (w->reserve_mem[0] || r->reserve_mem[0])
		return strcmp(r->reserve_mem, w->reserve_mem) == 0;
	return r->start == w->start && r->size == w->size;
}

/* An add of w's content under name. */
static ssize_t emit_add(struct builder *b, const char *name, const struct ftm_aperture *w,
			const char *why, ssize_t needs)
{
	ssize_t i = emit(b, FTMD_OP_ADD, name, w->start, w->size, why, needs);

	if (i >= 0)
		snprintf(b->ops[i].reserve_mem, sizeof(b->ops[i].reserve_mem), "%s", w->reserve_mem);
	return i;
}

/* The smallest free W:k. */
static int temp_name(const char *base, const char *const *names, size_t nr_names,
		     char *out)
{
	for (unsigned long k = 1; k < 1000000; k++) {
		int len = snprintf(out, FTM_NAME_MAX, "%s%c%lu", base, FTMD_TEMP_SEP, k);

		if (len < 0 || len >= FTM_NAME_MAX)
			return -ENAMETOOLONG;
		if (!taken(names, nr_names, out))
			return 0;
	}
	return -ENOSPC;
}

struct planner {
	struct builder b;
	const struct ftm_range *held;	/* as given: every owner */
	size_t nr_held;
	struct held_ref *refs;		/* ours, enabled, by (base, k) */
	size_t nr_refs;
	const char **names;		/* every live name of any owner, sorted */
	size_t nr_names;
	struct swap *swaps;
	size_t nr_swaps;
	size_t nr_kept;
};

/*
 * A static range of the configuration that `flushtmctl apply` made (owner
 * "config", the section's name) with the same content already covers it.
 */
static bool applied_by_config(const struct planner *p, const struct ftm_aperture *w)
{
	if (!w->source || strcmp(w->source, FTM_SOURCE_CONFIG) != 0)
		return false;
	for (size_t i = 0; i < p->nr_held; i++) {
		const struct ftm_range *r = &p->held[i];

		if (!r->error && r->enabled && strcmp(r->owner, FTM_SOURCE_CONFIG) == 0 &&
		    strcmp(r->name, w->device) == 0 && same_content(r, w))
			return true;
	}
	return false;
}

/* Decide how one wanted aperture gets covered; emits its adds. */
static int plan_one(struct planner *p, const struct ftm_aperture *w)
{
	size_t first = first_variant(p->refs, p->nr_refs, w->name), end = first;
	struct held_ref *base_ref = NULL, *temp_ref = NULL;
	ssize_t cover;	/* the add the variants' removal waits for */

	while (end < p->nr_refs && strcmp(p->refs[end].base, w->name) == 0)
		end++;
	for (size_t i = first; i < end; i++) {
		struct held_ref *v = &p->refs[i];

		if (v->k == 0)
			base_ref = v;
		else if (!temp_ref && same_content(v->r, w))
			temp_ref = v;
	}

	if (applied_by_config(p, w)) {
		p->nr_kept++;
		return 0;	/* a copy of ours, if any, is stale */
	}
	if (base_ref && same_content(base_ref->r, w)) {
		base_ref->fate = FATE_KEEP;
		p->nr_kept++;
		return 0;	/* every W:k left is stale, free to go */
	}

	if (!base_ref && !taken(p->names, p->nr_names, w->name)) {
		cover = emit_add(&p->b, w->name, w, "new", -1);
		if (cover < 0)
			return (int)cover;
		for (size_t i = first; i < end; i++)
			p->refs[i].needs = cover;
		return 0;
	}

	/* W is busy: cover the new content under a temporary name first. */
	struct swap *s = &p->swaps[p->nr_swaps];

	s->w = w;
	if (temp_ref) {
		snprintf(s->temp, sizeof(s->temp), "%s", temp_ref->r->name);
		s->temp_add = -1;
		temp_ref->fate = base_ref ? FATE_SWAPPED : FATE_KEEP;
		if (!base_ref)
			p->nr_kept++;
	} else {
		int rc = temp_name(w->name, p->names, p->nr_names, s->temp);

		if (rc < 0)
			return rc;
		s->temp_add = emit_add(&p->b, s->temp, w, base_ref ? "temporary" : "new", -1);
		if (s->temp_add < 0)
			return (int)s->temp_add;
	}
	for (size_t i = first; i < end; i++)
		p->refs[i].needs = s->temp_add;
	if (base_ref) {
		/* Another owner's W stays as it is and the temporary is the cover. */
		base_ref->fate = FATE_SWAPPED;
		p->nr_swaps++;
	}
	return 0;
}

/* Replace W's content: the temporary already covers it. */
static int plan_swap(struct planner *p, const struct swap *s)
{
	const struct ftm_aperture *w = s->w;
	ssize_t del, add, ren;

	del = emit(&p->b, FTMD_OP_DEL, w->name, 0, 0, "replace", s->temp_add);
	if (del < 0)
		return (int)del;
	add = emit_add(&p->b, w->name, w, "replace", del);
	if (add < 0)
		return (int)add;
	ren = emit(&p->b, FTMD_OP_DEL, s->temp, 0, 0, "rename", add);
	return ren < 0 ? (int)ren : 0;
}

static int plan_build(struct planner *p, const struct ftm_aperture *want, size_t nr_want,
		      const struct ftm_range *held, size_t nr_held, const char *owner)
{
	const struct ftm_aperture **sorted;
	int rc = 0;

	sorted = malloc((nr_want ? nr_want : 1) * sizeof(*sorted));
	p->refs = malloc((nr_held ? nr_held : 1) * sizeof(*p->refs));
	p->names = malloc((nr_held ? nr_held : 1) * sizeof(*p->names));
	p->swaps = malloc((nr_want ? nr_want : 1) * sizeof(*p->swaps));
	if (!sorted || !p->refs || !p->names || !p->swaps) {
		free(sorted);
		return -ENOMEM;
	}

	p->held = held;
	p->nr_held = nr_held;
	for (size_t i = 0; i < nr_want; i++)
		sorted[i] = &want[i];
	qsort(sorted, nr_want, sizeof(*sorted), cmp_want);
	for (size_t i = 1; i < nr_want; i++) {
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
			rc = -EINVAL;
			goto out;
		}
	}

	/* A disabled range of ours covers nothing: remove it first, freeing its name. */
	for (size_t i = 0; i < nr_held; i++) {
		const struct ftm_range *r = &held[i];
		/* One the library could not read whole is never ours to change: its name is only reserved. */
		bool ours = !r->error && strcmp(r->owner, owner) == 0;

		if (ours && !r->enabled) {
			ssize_t op = emit(&p->b, FTMD_OP_DEL, r->name, 0, 0, "dead", -1);

			if (op < 0) {
				rc = (int)op;
				goto out;
			}
			continue;
		}
		p->names[p->nr_names++] = r->name;
		if (!ours)
			continue;
		struct held_ref *ref = &p->refs[p->nr_refs++];

		ref->r = r;
		split_name(r->name, ref->base, &ref->k);
		ref->fate = FATE_STALE;
		ref->needs = -1;
	}
	qsort(p->names, p->nr_names, sizeof(*p->names), cmp_str);
	qsort(p->refs, p->nr_refs, sizeof(*p->refs), cmp_ref);

	for (size_t i = 0; i < nr_want && rc == 0; i++)
		rc = plan_one(p, sorted[i]);
	for (size_t i = 0; i < p->nr_swaps && rc == 0; i++)
		rc = plan_swap(p, &p->swaps[i]);
	for (size_t i = 0; i < p->nr_refs && rc == 0; i++) {
		const struct held_ref *ref = &p->refs[i];
		ssize_t op;

		if (ref->fate != FATE_STALE)
			continue;
		op = emit(&p->b, FTMD_OP_DEL, ref->r->name, 0, 0, "stale", ref->needs);
		if (op < 0)
			rc = (int)op;
	}
out:
	free(sorted);
	return rc;
}

int ftmd_plan_make(const struct ftm_aperture *want, size_t nr_want,
		   const struct ftm_range *held, size_t nr_held, const char *owner,
		   struct ftmd_plan *plan)
{
	struct planner p = { 0 };
	int rc;

	memset(plan, 0, sizeof(*plan));
	rc = plan_build(&p, want, nr_want, held, nr_held, owner);
	free(p.refs);
	free(p.names);
	free(p.swaps);
	if (rc < 0) {
		free(p.b.ops);
		return rc;
	}
	plan->ops = p.b.ops;
	plan->nr_ops = p.b.n;
	plan->nr_kept = p.nr_kept;
	return 0;
}

void ftmd_plan_free(struct ftmd_plan *plan)
{
	free(plan->ops);
	memset(plan, 0, sizeof(*plan));
}

static bool overlap(uint64_t a, uint64_t asz, uint64_t b, uint64_t bsz)
{
	return asz && bsz && a < b + bsz && b < a + asz;
}

bool ftmd_op_ready(const struct ftmd_plan *plan, size_t i, const bool *done,
		   const struct ftm_range *held, size_t nr_held)
{
	const struct ftmd_op *op = &plan->ops[i];
	const struct ftm_range *gone = NULL;

	if (op->needs >= 0 && !done[op->needs])
		return false;
	if (op->kind != FTMD_OP_DEL)
		return true;
	for (size_t h = 0; h < nr_held && !gone; h++)
		if (strcmp(held[h].name, op->name) == 0)
			gone = &held[h];
	/* A disabled range covers nothing: it may always go. */
	if (!gone || !gone->enabled)
		return true;
	for (size_t j = 0; j < i; j++) {
		const struct ftmd_op *add = &plan->ops[j];

		if (add->kind == FTMD_OP_ADD && !done[j] &&
		    overlap(add->start, add->size, gone->start, gone->size))
			return false;
	}
	return true;
}
