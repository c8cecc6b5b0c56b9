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
 *
 * Memory that goes away: a memory notifier refuses to take offline a memory
 * block that a published range covers (the walk at the next event would
 * touch memory that is no longer there), and a range over System RAM is
 * enabled only while all of it is online and no block of it is on its way
 * offline.  An aperture reported by another module withdraws the ranges it
 * holds (ftm_ranges_withdraw_window()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/of_platform.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "ftm.h"

struct ftm_set __rcu *ftm_live_set;
atomic64_t ftm_generation = ATOMIC64_INIT(0);
DEFINE_MUTEX(ftm_flush_lock);

static LIST_HEAD(ftm_all_ranges);	/* every range, under ftm_cfg_lock */
static LIST_HEAD(ftm_live_ranges);	/* enabled ones, sorted by start */

/* The memory block being taken offline, [start, end); under ftm_flush_lock. */
static u64 ftm_offlining_start, ftm_offlining_end;

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

struct ftm_range *ftm_range_alloc(void)
{
	struct ftm_range *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	INIT_LIST_HEAD(&r->all);
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

/*
 * rmdir: no longer findable by name, even while an open file of the item
 * keeps it allocated (a new range of the same name may follow at once).
 */
void ftm_range_unlink(struct ftm_range *r)
{
	lockdep_assert_held(&ftm_cfg_lock);
	list_del_init(&r->all);
}

/* Called from the item's release: the range is disabled and unlinked by then. */
void ftm_range_free(struct ftm_range *r)
{
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

static bool ftm_range_is_ram(u64 start, u64 size)
{
	return ftm_covered_by(start, start + size - 1, IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
			      IORES_DESC_NONE);
}

/*
 * Persistent memory of a device tree: a "pmem-region" node, whose region
 * libnvdimm made (of_pmem bound to its platform device).  Nothing in the
 * resource tree says it is persistent memory: the firmware keeps it from
 * the kernel as no-map reserved memory, which /proc/iomem shows as
 * "reserved" (the pmem driver's claim, "namespaceN.M", under it while a
 * namespace is enabled).  Other reserved memory stays refused.  Process
 * context (the node and device references are taken and dropped here).
 */
static bool ftm_range_is_of_pmem(u64 start, u64 end)
{
	struct device_node *np = NULL;
	bool covered = false;

	while (!covered && (np = of_find_compatible_node(np, NULL, "pmem-region"))) {
		struct platform_device *pdev = of_find_device_by_node(np);
		struct resource res;
		int i;

		if (!pdev)
			continue;
		if (READ_ONCE(pdev->dev.driver))
			for (i = 0; !covered && !of_address_to_resource(np, i, &res); i++)
				covered = start >= res.start && end <= res.end;
		put_device(&pdev->dev);
	}
	of_node_put(np);
	return covered;
}

static bool ftm_range_is_memory(u64 start, u64 size)
{
	u64 end = start + size - 1;

	if (ftm_range_is_ram(start, size))
		return true;
	if (ftm_covered_by(start, end, IORESOURCE_MEM, IORES_DESC_PERSISTENT_MEMORY))
		return true;
	if (ftm_covered_by(start, end, IORESOURCE_MEM, IORES_DESC_PERSISTENT_MEMORY_LEGACY))
		return true;
	return ftm_range_is_of_pmem(start, end);
}

/*
 * System RAM that is offline (a hot-removable block taken offline) is still
 * System RAM in the resource tree until it is removed: every section of
 * the range must be online.  Persistent memory is never "online" memory.
 */
static bool ftm_ram_online(u64 start, u64 size)
{
	unsigned long pfn = PHYS_PFN(start), end = PHYS_PFN(start + size);

	for (; pfn < end; pfn = ALIGN(pfn + 1, PAGES_PER_SECTION))
		if (!pfn_to_online_page(pfn))
			return false;
	return true;
}

/* ftm_flush_lock held: memory under the range is, or is going, offline. */
static bool ftm_range_offline(const struct ftm_range *r)
{
	lockdep_assert_held(&ftm_flush_lock);
	if (r->start < ftm_offlining_end && ftm_offlining_start < r->start + r->size)
		return true;
	return ftm_range_is_ram(r->start, r->size) && !ftm_ram_online(r->start, r->size);
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
	/* A reserve_mem region is not in the resource tree by itself: ask its lookup. */
	if (!(r->reserve_mem[0] && ftm_reserve_mem_covers(r->reserve_mem, r->start, r->size)) &&
	    !ftm_range_is_memory(r->start, r->size)) {
		ftm_refuse("range " FTM_NAMEFMT ": 0x%llx-0x%llx is not RAM or persistent memory\n",
			   FTM_NAMEARG(name), r->start, end);
		return -EINVAL;
	}
	return 0;
}

/* ---- the published set ----------------------------------------------- */

static int ftm_u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The live range that owns the piece [lo, hi) (between two consecutive
 * range boundaries, so a range covers all of it or none): the one of the
 * highest priority, among equals the first by start.
 */
static struct ftm_range *ftm_piece_owner(u64 lo, u64 hi)
{
	struct ftm_range *r, *best = NULL;

	list_for_each_entry(r, &ftm_live_ranges, live) {
		if (r->start > lo)
			break;	/* sorted by start: no later range covers lo */
		if (r->start + r->size >= hi && (!best || r->priority > best->priority))
			best = r;
	}
	return best;
}

/*
 * Cut the live ranges at every boundary into at most 2n - 1 pieces, give
 * each piece to its owner, and lay the owned pieces out by priority, then
 * by address; pieces of one priority contiguous both physically and
 * virtually coalesce.  O(n^2) for n ranges, in process context: a daemon's
 * 1,000 ranges cost a few million comparisons at publication, nothing at
 * an event.  The scratch (boundaries, owners) is allocated after the set,
 * with the same @gfp, and freed before returning.
 */
static struct ftm_set *ftm_set_build(gfp_t gfp)
{
	struct ftm_range **owner = NULL;
	struct ftm_range *r;
	struct ftm_set *set;
	unsigned int n = 0, nb = 0, k;
	int level, next;
	u64 *bound = NULL;
	size_t sz;

	list_for_each_entry(r, &ftm_live_ranges, live)
		n++;
	sz = sizeof(*set) + 2 * n * sizeof(struct ftm_span) + n * sizeof(struct ftm_set_range) +
	     nr_cpu_ids * (sizeof(struct ftm_plan_part) + sizeof(int));
	/*
	 * kvzalloc: a set of more than ~200 ranges is past the largest slab,
	 * and __GFP_NOFAIL (rmdir) is only honoured, without a warning, by
	 * the vmalloc fallback for such sizes.  Event paths, NMI included,
	 * read vmalloc'ed memory without a fault: since 5.9 neither arch
	 * takes vmalloc faults (x86-64 preallocates the vmalloc area's upper
	 * page-table levels for every page table; arm64's kernel half is one
	 * table, TTBR1).
	 */
	set = kvzalloc(sz, gfp);
	if (!set)
		return NULL;
	if (n) {
		bound = kvmalloc_array(2 * n, sizeof(*bound) + sizeof(*owner), gfp);
		if (!bound) {
			kvfree(set);
			return NULL;
		}
		owner = (struct ftm_range **)(bound + 2 * n);
	}
	set->spans = (struct ftm_span *)(set + 1);
	set->ranges = (struct ftm_set_range *)(set->spans + 2 * n);
	set->parts = (struct ftm_plan_part *)(set->ranges + n);
	set->cpu_part = (int *)(set->parts + nr_cpu_ids);

	list_for_each_entry(r, &ftm_live_ranges, live) {
		set->ranges[set->nr_ranges].flushed_bytes = &r->flushed_bytes;
		set->ranges[set->nr_ranges++].size = r->size;
		bound[nb++] = r->start;
		bound[nb++] = r->start + r->size;
	}
	if (nb) {
		unsigned int u = 1;

		sort(bound, nb, sizeof(*bound), ftm_u64_cmp, NULL);
		for (k = 1; k < nb; k++)
			if (bound[k] != bound[u - 1])
				bound[u++] = bound[k];
		nb = u;
	}
	/* Piece k is [bound[k], bound[k + 1]). */
	for (k = 0; k + 1 < nb; k++) {
		owner[k] = ftm_piece_owner(bound[k], bound[k + 1]);
		if (!owner[k])
			continue;
		set->bytes += bound[k + 1] - bound[k];
		if (!k || !owner[k - 1])
			set->extents++;
	}
	for (level = FTM_PRIORITY_MAX + 1;; level = next) {
		struct ftm_span *last = NULL;

		next = -1;
		for (k = 0; k + 1 < nb; k++)
			if (owner[k] && owner[k]->priority < level && owner[k]->priority > next)
				next = owner[k]->priority;
		if (next < 0)
			break;
		for (k = 0; k + 1 < nb; k++) {
			u64 lo = bound[k], hi = bound[k + 1];
			char *virt;

			r = owner[k];
			if (!r || r->priority != next)
				continue;
			virt = (char *)r->virt + (lo - r->start);
			if (last && last->phys + last->size == lo &&
			    (char *)last->virt + last->size == virt) {
				last->size += hi - lo;
				continue;
			}
			last = &set->spans[set->nr_spans++];
			last->phys = lo;
			last->virt = virt;
			last->size = hi - lo;
		}
	}
	kvfree(bound);
	ftm_set_plan(set);
	return set;
}

/*
 * Replace the live set and return the old one.  Taking ftm_flush_lock waits
 * for process-context flushes that hold the old set; the lockless readers
 * (panic, die, nmi, cpu_offline) may hold it for one more grace period.
 */
static struct ftm_set *ftm_set_replace_locked(struct ftm_set *set)
{
	struct ftm_set *old;

	old = rcu_replace_pointer(ftm_live_set, set, lockdep_is_held(&ftm_flush_lock));
	atomic64_inc(&ftm_generation);
	return old;
}

static struct ftm_set *ftm_set_replace(struct ftm_set *set)
{
	struct ftm_set *old;

	mutex_lock(&ftm_flush_lock);
	old = ftm_set_replace_locked(set);
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
	/* A range given by label takes the region's place now (start and size read it back). */
	if (r->reserve_mem[0]) {
		u64 start, size;

		ret = ftm_reserve_mem_resolve(config_item_name(&r->item), r->reserve_mem,
					      &start, &size);
		if (ret)
			return ret;
		r->start = start;
		r->size = size;
	}
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
	set = ftm_set_build(GFP_KERNEL);
	if (!set) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	/* Checked where the memory notifier checks, so neither misses the other. */
	mutex_lock(&ftm_flush_lock);
	if (ftm_range_offline(r)) {
		mutex_unlock(&ftm_flush_lock);
		kvfree(set);
		ftm_refuse("range " FTM_NAMEFMT ": memory at 0x%llx is offline or going offline\n",
			   FTM_NAMEARG(config_item_name(&r->item)), r->start);
		ret = -EBUSY;
		goto err_unmap;
	}
	set = ftm_set_replace_locked(set);
	mutex_unlock(&ftm_flush_lock);
	r->enabled = true;
	/*
	 * Every range the old set reaches stays mapped, so nothing waits for
	 * its readers: it is freed after a grace period.  An enable thus
	 * costs no synchronize_rcu(), about a tick each (more under
	 * emulation), which a daemon pushing 1,000 ranges would pay 1,000
	 * times.
	 */
	if (set)
		kvfree_rcu(set, rcu);
	return 0;

err_unmap:
	list_del_init(&r->live);
	memunmap(r->virt);
	r->virt = NULL;
	return ret;
}

/*
 * Withdraw the range: the smaller set is allocated first, so that when
 * memory is short the write fails with -ENOMEM and nothing changes (the
 * range stays enabled, unflushed, published).  Then the range is flushed
 * (an aperture going away: its lines are invalidated, not only written
 * back) through its own mapping, which needs no allocation, and the set
 * without it is published; it is unmapped once no event path can reach
 * it.  rmdir cannot fail: it passes __GFP_NOFAIL.
 */
int ftm_range_disable(struct ftm_range *r, gfp_t gfp)
{
	struct ftm_set *set;

	lockdep_assert_held(&ftm_cfg_lock);
	if (!r->enabled)
		return 0;
	list_del_init(&r->live);
	set = ftm_set_build(gfp);
	if (!set) {
		ftm_live_insert(r);
		ftm_refuse("range " FTM_NAMEFMT ": no memory to withdraw it; still enabled\n",
			   FTM_NAMEARG(config_item_name(&r->item)));
		return -ENOMEM;
	}
	ftm_flush_span(FTM_HOOK_APERTURE, r->start, r->virt, r->size, &r->flushed_bytes);
	set = ftm_set_replace(set);
	/* The withdrawn range is unmapped below: wait out every reader. */
	synchronize_rcu();
	kvfree(set);
	memunmap(r->virt);
	r->virt = NULL;
	r->enabled = false;
	return 0;
}

/*
 * A new priority: an enabled range's set is rebuilt in the new order and
 * published (every range stays mapped, so the old set is freed after a
 * grace period, as at enable); with no memory for it, -ENOMEM and nothing
 * changes.
 */
int ftm_range_set_priority(struct ftm_range *r, u8 priority)
{
	struct ftm_set *set;
	u8 old = r->priority;

	lockdep_assert_held(&ftm_cfg_lock);
	WRITE_ONCE(r->priority, priority);
	if (!r->enabled || old == priority)
		return 0;
	set = ftm_set_build(GFP_KERNEL | __GFP_NOWARN);
	if (!set) {
		WRITE_ONCE(r->priority, old);
		ftm_refuse("range " FTM_NAMEFMT ": no memory to reorder the set; priority unchanged\n",
			   FTM_NAMEARG(config_item_name(&r->item)));
		return -ENOMEM;
	}
	set = ftm_set_replace(set);
	if (set)
		kvfree_rcu(set, rcu);
	return 0;
}

/*
 * An aperture [start, end) (line aligned) is about to hold other memory:
 * every enabled range that reaches into it is flushed and withdrawn, so no
 * write-back mapping of the window is left.  0, or -ENOMEM with the ranges
 * not yet withdrawn left as they were.
 */
int ftm_ranges_withdraw_window(u64 start, u64 end)
{
	struct ftm_range *r, *tmp;
	int ret = 0;

	mutex_lock(&ftm_cfg_lock);
	list_for_each_entry_safe(r, tmp, &ftm_live_ranges, live) {
		if (r->start >= end || start >= r->start + r->size)
			continue;
		ret = ftm_range_disable(r, GFP_KERNEL | __GFP_NOWARN);
		if (ret)
			break;
	}
	mutex_unlock(&ftm_cfg_lock);
	return ret;
}

/* ---- memory hotplug -------------------------------------------------- */

static bool ftm_set_reaches(const struct ftm_set *set, u64 start, u64 end)
{
	unsigned int i;

	for (i = 0; set && i < set->nr_spans; i++)
		if (set->spans[i].phys < end && start < set->spans[i].phys + set->spans[i].size)
			return true;
	return false;
}

/*
 * Memory hotplug, process context with the memory hotplug lock held for
 * write (and the CPU hotplug lock for read: the order every process flush
 * takes, before ftm_flush_lock).  Refuses to take offline a block that the
 * published set reaches; remembers the block going offline until it is
 * offline (then the online check of an enable sees it) or stays online.
 */
static int ftm_memory_event(struct notifier_block *nb, unsigned long action, void *data)
{
	const struct memory_notify *mn = data;
	u64 start = PFN_PHYS(mn->start_pfn), end = PFN_PHYS(mn->start_pfn + mn->nr_pages);
	bool covered;

	switch (action) {
	case MEM_GOING_OFFLINE:
		mutex_lock(&ftm_flush_lock);
		covered = ftm_set_reaches(rcu_dereference_protected(ftm_live_set,
					  lockdep_is_held(&ftm_flush_lock)), start, end);
		if (!covered) {
			ftm_offlining_start = start;
			ftm_offlining_end = end;
		}
		mutex_unlock(&ftm_flush_lock);
		if (!covered)
			return NOTIFY_OK;
		pr_info("memory 0x%llx-0x%llx holds an enabled range: not taken offline (withdraw the range first)\n",
			start, end - 1);
		return notifier_from_errno(-EBUSY);
	case MEM_OFFLINE:
	case MEM_CANCEL_OFFLINE:
		mutex_lock(&ftm_flush_lock);
		ftm_offlining_start = ftm_offlining_end = 0;
		mutex_unlock(&ftm_flush_lock);
		return NOTIFY_OK;
	default:
		return NOTIFY_OK;
	}
}

static struct notifier_block ftm_memory_nb = {
	.notifier_call = ftm_memory_event,
};

int ftm_ranges_init(void)
{
	return register_memory_notifier(&ftm_memory_nb);
}

/* Module exit: every range is gone (configfs pinned us until then). */
void ftm_ranges_exit(void)
{
	struct ftm_set *old;

	unregister_memory_notifier(&ftm_memory_nb);
	old = rcu_replace_pointer(ftm_live_set, NULL, true);
	synchronize_rcu();
	kvfree(old);
}
