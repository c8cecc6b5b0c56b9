// SPDX-License-Identifier: GPL-2.0
/*
 * Ranges and the published set.
 *
 * A range is mapped (memremap, write-back) when it is enabled, in process
 * context, after it has been checked against the kernel's resource tree.
 * The enabled ranges are then merged into one immutable struct ftm_set that
 * is published with RCU; event paths read it without locks.  A retired set
 * is freed after a grace period, and a withdrawn range is unmapped only
 * after the set that no longer holds it is published and a grace period
 * has passed, so no event path can touch a mapping that is gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ftm.h"

struct ftm_set __rcu *ftm_live_set;
atomic64_t ftm_generation = ATOMIC64_INIT(0);
DEFINE_MUTEX(ftm_flush_lock);

static LIST_HEAD(ftm_all_ranges);	/* every range, under ftm_cfg_lock */
static LIST_HEAD(ftm_live_ranges);	/* enabled ones, sorted by start */

/*
 * Numbers: optional trailing newline; "0x" hex or decimal (leading zeros
 * are decimal, never octal); with @suffix one of K, M, G (powers of 1024).  Empty
 * input, signs, spaces, NUL bytes and junk are -EINVAL; a value that does
 * not fit in 64 bits is -ERANGE.
 */
int ftm_parse_u64(const char *buf, size_t count, bool suffix, u64 *val)
{
	char tmp[32];
	unsigned int shift = 0;
	u64 v;
	int ret;

	if (count && buf[count - 1] == '\n')
		count--;
	if (!count || count >= sizeof(tmp) || strnlen(buf, count) != count)
		return -EINVAL;
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	memcpy(tmp, buf, count);
	tmp[count] = '\0';
	if (suffix) {
		switch (tmp[count - 1]) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		}
		if (shift)
			tmp[--count] = '\0';
		if (!count)
			return -EINVAL;
	}
	/* "0x" hex or decimal, as interface.md says: a leading 0 is not octal. */
	if (tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X'))
		ret = kstrtoull(tmp, 16, &v);
	else
		ret = kstrtoull(tmp, 10, &v);
	if (ret)
		return ret;
	if (shift && v > (U64_MAX >> shift))
		return -ERANGE;
	*val = v << shift;
	return 0;
}

/* Exactly "0" or "1", optional trailing newline. */
int ftm_parse_bool(const char *buf, size_t count, bool *val)
{
	if (count == 2 && buf[1] == '\n')
		count--;
	if (count != 1 || (buf[0] != '0' && buf[0] != '1'))
		return -EINVAL;
	*val = buf[0] == '1';
	return 0;
}

struct ftm_range *ftm_range_alloc(const char *name)
{
	struct ftm_range *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	INIT_LIST_HEAD(&r->live);
	atomic64_set(&r->flushed_bytes, 0);
	return r;
}

/* Findable by name (flush NAME) once its item has a name. */
void ftm_range_publish_name(struct ftm_range *r)
{
	lockdep_assert_held(&ftm_cfg_lock);
	list_add_tail(&r->all, &ftm_all_ranges);
}

/* Called from the item's release: the range is disabled by then. */
void ftm_range_free(struct ftm_range *r)
{
	mutex_lock(&ftm_cfg_lock);
	list_del(&r->all);
	mutex_unlock(&ftm_cfg_lock);
	kfree(r);
}

struct ftm_range *ftm_range_find(const char *name, size_t len)
{
	struct ftm_range *r;

	lockdep_assert_held(&ftm_cfg_lock);
	list_for_each_entry(r, &ftm_all_ranges, all) {
		const char *n = config_item_name(&r->item);

		if (strlen(n) == len && !memcmp(n, name, len))
			return r;
	}
	return NULL;
}

/* ---- validation against the resource tree ---------------------------- */

struct ftm_cover {
	u64 next;	/* first byte not yet covered */
};

static int ftm_cover_one(struct resource *res, void *arg)
{
	struct ftm_cover *c = arg;

	if (res->start > c->next)
		return 1;	/* a hole: stop the walk */
	if (res->end + 1 > c->next)
		c->next = res->end + 1;
	return 0;
}

/*
 * True when [start, end] is covered, without a gap, by resources matching
 * @flags and @desc.  region_intersects() alone is not enough: it calls a
 * range that mixes RAM with an undefined hole "intersecting".
 */
static bool ftm_covered_by(u64 start, u64 end, unsigned long flags, unsigned long desc)
{
	struct ftm_cover c = { .next = start };

	walk_iomem_res_desc(desc, flags, start, end, &c, ftm_cover_one);
	return c.next > end;
}

static bool ftm_range_is_memory(u64 start, u64 size)
{
	u64 end = start + size - 1;

	if (ftm_covered_by(start, end, IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
			   IORES_DESC_NONE))
		return true;
	if (ftm_covered_by(start, end, IORESOURCE_MEM, IORES_DESC_PERSISTENT_MEMORY))
		return true;
	return ftm_covered_by(start, end, IORESOURCE_MEM, IORES_DESC_PERSISTENT_MEMORY_LEGACY);
}

static int ftm_range_validate(struct ftm_range *r)
{
	const char *name = config_item_name(&r->item);
	u64 end;

	if (!r->size) {
		ftm_refuse("range " FTM_NAMEFMT ": size is 0\n", FTM_NAMEARG(name));
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(r->start) || !PAGE_ALIGNED(r->size)) {
		ftm_refuse("range " FTM_NAMEFMT ": start 0x%llx or size %llu is not page aligned\n",
			   FTM_NAMEARG(name), r->start, r->size);
		return -EINVAL;
	}
	if (check_add_overflow(r->start, r->size - 1, &end) ||
	    end > (u64)(phys_addr_t)-1 || r->size > SIZE_MAX) {
		ftm_refuse("range " FTM_NAMEFMT ": 0x%llx + %llu wraps around\n",
			   FTM_NAMEARG(name), r->start, r->size);
		return -EINVAL;
	}
	if (!ftm_range_is_memory(r->start, r->size)) {
		ftm_refuse("range " FTM_NAMEFMT ": 0x%llx-0x%llx is not RAM or persistent memory\n",
			   FTM_NAMEARG(name), r->start, end);
		return -EINVAL;
	}
	return 0;
}

/* ---- the published set ----------------------------------------------- */

/*
 * Sweep the live ranges (sorted by start): each piece is the part of a
 * range not covered by an earlier one, addressed through that range's
 * mapping; pieces contiguous both physically and virtually coalesce.
 */
static struct ftm_set *ftm_set_build(void)
{
	struct ftm_range *r;
	struct ftm_set *set;
	unsigned int n = 0;
	u64 cursor = 0;
	bool any = false;
	size_t sz;

	list_for_each_entry(r, &ftm_live_ranges, live)
		n++;
	sz = sizeof(*set) + n * (sizeof(struct ftm_span) + sizeof(struct ftm_set_range));
	set = kzalloc(sz, GFP_KERNEL);
	if (!set)
		return NULL;
	set->spans = (struct ftm_span *)(set + 1);
	set->ranges = (struct ftm_set_range *)(set->spans + n);

	list_for_each_entry(r, &ftm_live_ranges, live) {
		u64 rend = r->start + r->size;
		u64 from = any && cursor > r->start ? cursor : r->start;
		struct ftm_span *last = set->nr_spans ? &set->spans[set->nr_spans - 1] : NULL;

		set->ranges[set->nr_ranges].flushed_bytes = &r->flushed_bytes;
		set->ranges[set->nr_ranges++].size = r->size;
		if (any && rend <= cursor)
			continue;
		if (!any || from > cursor)
			set->extents++;
		if (last && last->phys + last->size == from &&
		    (char *)last->virt + last->size == (char *)r->virt + (from - r->start)) {
			last->size += rend - from;
		} else {
			set->spans[set->nr_spans].phys = from;
			set->spans[set->nr_spans].virt = (char *)r->virt + (from - r->start);
			set->spans[set->nr_spans++].size = rend - from;
		}
		set->bytes += rend - from;
		cursor = rend;
		any = true;
	}
	return set;
}

/*
 * Replace the live set and return the old one.  Taking ftm_flush_lock waits
 * for process-context flushes that hold the old set; the lockless readers
 * (panic, die, nmi, cpu_offline) may hold it for one more grace period.
 */
static struct ftm_set *ftm_set_replace(struct ftm_set *set)
{
	struct ftm_set *old;

	mutex_lock(&ftm_flush_lock);
	old = rcu_replace_pointer(ftm_live_set, set, lockdep_is_held(&ftm_flush_lock));
	atomic64_inc(&ftm_generation);
	mutex_unlock(&ftm_flush_lock);
	return old;
}

static void ftm_live_insert(struct ftm_range *r)
{
	struct ftm_range *pos;

	list_for_each_entry(pos, &ftm_live_ranges, live) {
		if (pos->start > r->start) {
			list_add_tail(&r->live, &pos->live);
			return;
		}
	}
	list_add_tail(&r->live, &ftm_live_ranges);
}

int ftm_range_enable(struct ftm_range *r)
{
	struct ftm_set *set;
	int ret;

	lockdep_assert_held(&ftm_cfg_lock);
	if (r->enabled)
		return 0;
	ret = ftm_range_validate(r);
	if (ret)
		return ret;
	r->virt = memremap(r->start, r->size, MEMREMAP_WB);
	if (!r->virt) {
		ftm_refuse("range " FTM_NAMEFMT ": cannot map 0x%llx (%llu bytes)\n",
			   FTM_NAMEARG(config_item_name(&r->item)), r->start, r->size);
		return -ENOMEM;
	}
	ftm_live_insert(r);
	set = ftm_set_build();
	if (!set) {
		list_del_init(&r->live);
		memunmap(r->virt);
		r->virt = NULL;
		return -ENOMEM;
	}
	r->enabled = true;
	/*
	 * Every range the old set reaches stays mapped, so nothing waits for
	 * its readers: it is freed after a grace period.  An enable thus
	 * costs no synchronize_rcu(), about a tick each (more under
	 * emulation), which a daemon pushing 1,000 ranges would pay 1,000
	 * times.
	 */
	set = ftm_set_replace(set);
	if (set)
		kfree_rcu(set, rcu);
	return 0;
}

/*
 * Flush the range (an aperture going away: its lines are invalidated, not
 * only written back), then withdraw it.  If the smaller set cannot be
 * allocated the range stays published until it can: a range is never
 * unmapped while an event path may reach it.
 */
void ftm_range_disable(struct ftm_range *r)
{
	struct ftm_set *set;

	lockdep_assert_held(&ftm_cfg_lock);
	if (!r->enabled)
		return;
	ftm_flush_phys_range(FTM_HOOK_APERTURE, r->start, r->size, true, &r->flushed_bytes);
	list_del_init(&r->live);
	set = ftm_set_build();
	while (!set) {
		cond_resched();
		set = ftm_set_build();
	}
	set = ftm_set_replace(set);
	/* The withdrawn range is unmapped below: wait out every reader. */
	synchronize_rcu();
	kfree(set);
	memunmap(r->virt);
	r->virt = NULL;
	r->enabled = false;
}

/* Module exit: every range is gone (configfs pinned us until then). */
void ftm_ranges_exit(void)
{
	struct ftm_set *old;

	old = rcu_replace_pointer(ftm_live_set, NULL, true);
	synchronize_rcu();
	kfree(old);
}
