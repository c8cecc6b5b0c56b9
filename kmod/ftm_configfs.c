// SPDX-License-Identifier: GPL-2.0
/*
 * configfs: /sys/kernel/config/flushtm (interface.md).  Root attributes,
 * the fixed hooks/<hook>/ groups, and ranges/ whose mkdir makes a range.
 * Writes are root-only by mode; every change is made under ftm_cfg_lock and
 * a refused write changes nothing and logs one line.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/configfs.h>
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ftm.h"
#include "ftm_arch_ops.h"

static const char *const ftm_method_names[] = {
	[FTM_METHOD_AUTO] = "auto",
	[FTM_METHOD_LINES] = "lines",
	[FTM_METHOD_CACHE] = "cache",
};

/* Strip one trailing newline; refuse empty input and NUL bytes. */
static int ftm_word(const char *page, size_t count, size_t *len)
{
	if (count && page[count - 1] == '\n')
		count--;
	if (!count || strnlen(page, count) != count)
		return -EINVAL;
	*len = count;
	return 0;
}

/* ---- root attributes ------------------------------------------------- */

static ssize_t ftm_version_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", FTM_INTERFACE_VERSION);
}

static ssize_t ftm_method_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n", ftm_method_names[READ_ONCE(ftm_method)]);
}

static ssize_t ftm_method_store(struct config_item *item, const char *page, size_t count)
{
	size_t len;
	int i;

	if (!ftm_word(page, count, &len)) {
		for (i = 0; i < ARRAY_SIZE(ftm_method_names); i++) {
			if (strlen(ftm_method_names[i]) != len ||
			    memcmp(ftm_method_names[i], page, len))
				continue;
			if (i == FTM_METHOD_CACHE && !ftm_arch_has_cache()) {
				ftm_refuse("method: cache is not available on this architecture\n");
				return -EOPNOTSUPP;
			}
			mutex_lock(&ftm_cfg_lock);
			WRITE_ONCE(ftm_method, i);
			ftm_hooks_method_changed();
			mutex_unlock(&ftm_cfg_lock);
			return count;
		}
	}
	ftm_refuse("method: not auto, lines or cache\n");
	return -EINVAL;
}

static ssize_t ftm_cache_threshold_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%llu\n", READ_ONCE(ftm_cache_threshold));
}

static ssize_t ftm_cache_threshold_store(struct config_item *item, const char *page,
					 size_t count)
{
	u64 v;
	int ret = ftm_parse_u64(page, count, true, &v);

	if (ret) {
		ftm_refuse("cache_threshold: not a byte count (%s)\n",
			   ret == -ERANGE ? "too large" : "expected 0x hex or decimal, K/M/G");
		return ret;
	}
	mutex_lock(&ftm_cfg_lock);
	WRITE_ONCE(ftm_cache_threshold, v);
	mutex_unlock(&ftm_cfg_lock);
	return count;
}

/*
 * crash_budget_ms: "auto" (twice the set's measured one-CPU cost plus 1 s;
 * reads back as "auto <ms>" with the value for the live set), 0 (none) or
 * milliseconds.
 */
static ssize_t ftm_crash_budget_ms_show(struct config_item *item, char *page)
{
	u64 v = READ_ONCE(ftm_crash_budget_ms);
	ssize_t n;

	if (v != FTM_CRASH_BUDGET_AUTO)
		return sysfs_emit(page, "%llu\n", v);
	rcu_read_lock();
	n = sysfs_emit(page, "auto %llu\n",
		       ftm_crash_budget_default_ms(rcu_dereference(ftm_live_set)));
	rcu_read_unlock();
	return n;
}

static ssize_t ftm_crash_budget_ms_store(struct config_item *item, const char *page,
					 size_t count)
{
	u64 v = FTM_CRASH_BUDGET_AUTO;
	int ret = 0;

	if (!((count == 4 || (count == 5 && page[4] == '\n')) && !memcmp(page, "auto", 4)))
		ret = ftm_parse_u64(page, count, false, &v);
	if (!ret && v != FTM_CRASH_BUDGET_AUTO && v > U64_MAX / NSEC_PER_MSEC / 2)
		ret = -ERANGE;
	if (ret) {
		ftm_refuse("crash_budget_ms: expected auto, 0 or milliseconds\n");
		return ret;
	}
	mutex_lock(&ftm_cfg_lock);
	WRITE_ONCE(ftm_crash_budget_ms, v);
	mutex_unlock(&ftm_cfg_lock);
	return count;
}

static ssize_t ftm_flush_store(struct config_item *item, const char *page, size_t count)
{
	struct ftm_range *r;
	size_t len;
	int ret;

	if (ftm_word(page, count, &len)) {
		ftm_refuse("flush: expected all or a range name\n");
		return -EINVAL;
	}
	if (!READ_ONCE(ftm_hooks[FTM_HOOK_MANUAL].enabled)) {
		ftm_refuse("flush: hook manual is disabled\n");
		return -EPERM;
	}
	if (len == 3 && !memcmp(page, "all", 3)) {
		ftm_flush_process(FTM_HOOK_MANUAL);
		return count;
	}
	mutex_lock(&ftm_cfg_lock);
	r = ftm_range_find(page, len);
	if (!r) {
		ret = -ENOENT;
		ftm_refuse("flush: no range %*pE\n", (int)len, page);
	} else if (!r->enabled) {
		ret = -EINVAL;
		ftm_refuse("flush: range " FTM_NAMEFMT " is not enabled\n",
			   FTM_NAMEARG(config_item_name(&r->item)));
	} else {
		ret = ftm_flush_phys_range(FTM_HOOK_MANUAL, r->start, r->size, true,
					   &r->flushed_bytes);
	}
	mutex_unlock(&ftm_cfg_lock);
	return ret ? ret : count;
}

static ssize_t ftm_generation_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%lld\n", atomic64_read(&ftm_generation));
}

CONFIGFS_ATTR_RO(ftm_, version);
CONFIGFS_ATTR(ftm_, method);
CONFIGFS_ATTR(ftm_, cache_threshold);
CONFIGFS_ATTR(ftm_, crash_budget_ms);
CONFIGFS_ATTR_WO(ftm_, flush);
CONFIGFS_ATTR_RO(ftm_, generation);

static struct configfs_attribute *ftm_root_attrs[] = {
	&ftm_attr_version,
	&ftm_attr_method,
	&ftm_attr_cache_threshold,
	&ftm_attr_crash_budget_ms,
	&ftm_attr_flush,
	&ftm_attr_generation,
	NULL,
};

static const struct config_item_type ftm_root_type = {
	.ct_attrs = ftm_root_attrs,
	.ct_owner = THIS_MODULE,
};

static struct configfs_subsystem ftm_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "flushtm",
			.ci_type = &ftm_root_type,
		},
	},
};

/* ---- hooks/<hook>/ --------------------------------------------------- */

struct ftm_hook_group {
	struct config_group group;
	enum ftm_hook_id id;
};

static struct config_group ftm_hooks_group;
static struct ftm_hook_group ftm_hook_groups[FTM_NR_HOOKS];

static struct ftm_hook *to_hook(struct config_item *item)
{
	struct config_group *g = to_config_group(item);

	return &ftm_hooks[container_of(g, struct ftm_hook_group, group)->id];
}

static ssize_t ftm_hook_enabled_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_hook(item)->enabled));
}

static ssize_t ftm_hook_enabled_store(struct config_item *item, const char *page, size_t count)
{
	struct ftm_hook *h = to_hook(item);
	bool on;
	int ret;

	if (ftm_parse_bool(page, count, &on)) {
		ftm_refuse("hook %s: enabled must be 0 or 1\n", h->name);
		return -EINVAL;
	}
	mutex_lock(&ftm_cfg_lock);
	ret = ftm_hook_set_enabled(h - ftm_hooks, on);
	mutex_unlock(&ftm_cfg_lock);
	if (ret == -EOPNOTSUPP)
		ftm_refuse("hook %s: not available on this kernel or architecture\n", h->name);
	else if (ret)
		ftm_refuse("hook %s: cannot arm (%d)\n", h->name, ret);
	return ret ? ret : count;
}

static ssize_t ftm_hook_available_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", to_hook(item)->available);
}

#define FTM_HOOK_COUNTER(field)							\
static ssize_t ftm_hook_##field##_show(struct config_item *item, char *page)	\
{										\
	return sysfs_emit(page, "%lld\n", atomic64_read(&to_hook(item)->field));	\
}										\
CONFIGFS_ATTR_RO(ftm_hook_, field)

FTM_HOOK_COUNTER(fired);
FTM_HOOK_COUNTER(flushed_bytes);
FTM_HOOK_COUNTER(last_ns);
FTM_HOOK_COUNTER(max_ns);

static ssize_t ftm_hook_pids_show(struct config_item *item, char *page)
{
	return ftm_exit_show_pids(page);
}

/* "PID" enrolls, "-PID" withdraws. */
static ssize_t ftm_hook_pids_store(struct config_item *item, const char *page, size_t count)
{
	bool withdraw = count && page[0] == '-';
	u64 pid;
	int ret;

	ret = ftm_parse_u64(page + withdraw, count - withdraw, false, &pid);
	if (ret || !pid || pid > PID_MAX_LIMIT) {
		ftm_refuse("exit: pids takes PID or -PID\n");
		return -EINVAL;
	}
	ret = withdraw ? ftm_exit_withdraw_pid(pid) : ftm_exit_enroll_pid(pid);
	return ret ? ret : count;
}

CONFIGFS_ATTR(ftm_hook_, enabled);
CONFIGFS_ATTR_RO(ftm_hook_, available);
CONFIGFS_ATTR(ftm_hook_, pids);

static struct configfs_attribute *ftm_hook_attrs[] = {
	&ftm_hook_attr_enabled,
	&ftm_hook_attr_available,
	&ftm_hook_attr_fired,
	&ftm_hook_attr_flushed_bytes,
	&ftm_hook_attr_last_ns,
	&ftm_hook_attr_max_ns,
	NULL,
};

static struct configfs_attribute *ftm_exit_hook_attrs[] = {
	&ftm_hook_attr_enabled,
	&ftm_hook_attr_available,
	&ftm_hook_attr_fired,
	&ftm_hook_attr_flushed_bytes,
	&ftm_hook_attr_last_ns,
	&ftm_hook_attr_max_ns,
	&ftm_hook_attr_pids,
	NULL,
};

static const struct config_item_type ftm_hook_type = {
	.ct_attrs = ftm_hook_attrs,
	.ct_owner = THIS_MODULE,
};

static const struct config_item_type ftm_exit_hook_type = {
	.ct_attrs = ftm_exit_hook_attrs,
	.ct_owner = THIS_MODULE,
};

static const struct config_item_type ftm_hooks_type = {
	.ct_owner = THIS_MODULE,
};

/* ---- ranges/<name>/ -------------------------------------------------- */

static struct ftm_range *to_range(struct config_item *item)
{
	return container_of(item, struct ftm_range, item);
}

static const char *rname(struct ftm_range *r)
{
	return config_item_name(&r->item);
}

static ssize_t ftm_range_start_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "0x%llx\n", to_range(item)->start);
}

static ssize_t ftm_range_set_u64(struct ftm_range *r, const char *attr, u64 *field,
				 bool suffix, const char *page, size_t count)
{
	u64 v;
	int ret = ftm_parse_u64(page, count, suffix, &v);

	if (ret) {
		ftm_refuse("range " FTM_NAMEFMT ": %s: %s\n", FTM_NAMEARG(rname(r)), attr,
			   ret == -ERANGE ? "value too large" : "not a number");
		return ret;
	}
	mutex_lock(&ftm_cfg_lock);
	if (r->enabled) {
		ret = -EBUSY;
		ftm_refuse("range " FTM_NAMEFMT ": %s cannot change while enabled\n",
			   FTM_NAMEARG(rname(r)), attr);
	} else if (r->reserve_mem[0]) {
		ret = -EINVAL;
		ftm_refuse("range " FTM_NAMEFMT ": %s: the range is given by reserve_mem %s, not both\n",
			   FTM_NAMEARG(rname(r)), attr, r->reserve_mem);
	} else {
		*field = v;
	}
	mutex_unlock(&ftm_cfg_lock);
	return ret ? ret : count;
}

static ssize_t ftm_range_start_store(struct config_item *item, const char *page, size_t count)
{
	struct ftm_range *r = to_range(item);

	return ftm_range_set_u64(r, "start", &r->start, false, page, count);
}

static ssize_t ftm_range_size_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%llu\n", to_range(item)->size);
}

static ssize_t ftm_range_size_store(struct config_item *item, const char *page, size_t count)
{
	struct ftm_range *r = to_range(item);

	return ftm_range_set_u64(r, "size", &r->size, true, page, count);
}

static ssize_t ftm_range_enabled_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_range(item)->enabled));
}

static ssize_t ftm_range_enabled_store(struct config_item *item, const char *page, size_t count)
{
	struct ftm_range *r = to_range(item);
	bool on;
	int ret = 0;

	if (ftm_parse_bool(page, count, &on)) {
		ftm_refuse("range " FTM_NAMEFMT ": enabled must be 0 or 1\n",
			   FTM_NAMEARG(rname(r)));
		return -EINVAL;
	}
	mutex_lock(&ftm_cfg_lock);
	if (on)
		ret = ftm_range_enable(r);
	else
		ret = ftm_range_disable(r, GFP_KERNEL | __GFP_NOWARN);
	mutex_unlock(&ftm_cfg_lock);
	return ret ? ret : count;
}

static ssize_t ftm_range_owner_show(struct config_item *item, char *page)
{
	struct ftm_range *r = to_range(item);
	ssize_t ret;

	mutex_lock(&ftm_cfg_lock);
	ret = sysfs_emit(page, "%s\n", r->owner);
	mutex_unlock(&ftm_cfg_lock);
	return ret;
}

/* Printable ASCII only: the owner ends up in logs and JSON. */
static ssize_t ftm_range_owner_store(struct config_item *item, const char *page, size_t count)
{
	struct ftm_range *r = to_range(item);
	size_t len, i;

	if (ftm_word(page, count, &len) || len > FTM_OWNER_MAX)
		goto bad;
	for (i = 0; i < len; i++)
		if (!isprint(page[i]) || !isascii(page[i]))
			goto bad;
	mutex_lock(&ftm_cfg_lock);
	memcpy(r->owner, page, len);
	r->owner[len] = '\0';
	mutex_unlock(&ftm_cfg_lock);
	return count;
bad:
	ftm_refuse("range " FTM_NAMEFMT ": owner must be 1 to %d printable characters\n",
		   FTM_NAMEARG(rname(r)), FTM_OWNER_MAX);
	return -EINVAL;
}

static ssize_t ftm_range_reserve_mem_show(struct config_item *item, char *page)
{
	struct ftm_range *r = to_range(item);
	ssize_t ret;

	mutex_lock(&ftm_cfg_lock);
	ret = sysfs_emit(page, "%s\n", r->reserve_mem);
	mutex_unlock(&ftm_cfg_lock);
	return ret;
}

/*
 * Process context.  A reserve_mem= label (1 to 15 characters of
 * [A-Za-z0-9_.-]) gives the range instead of start and size: refused while
 * start or size is set (a range is given one way, never both), and while
 * enabled.  An empty write takes the label away (start and size back to 0).
 * The label is looked up at enable, so this write succeeds on a kernel
 * without reserve_mem too; enable then says so.
 */
static ssize_t ftm_range_reserve_mem_store(struct config_item *item, const char *page,
					   size_t count)
{
	struct ftm_range *r = to_range(item);
	size_t len = count, i;
	int ret = 0;

	if (len && page[len - 1] == '\n')
		len--;
	if (len > FTM_RESERVE_MEM_MAX || strnlen(page, len) != len)
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum(page[i]) && !strchr("_.-", page[i]))
			goto bad;
	mutex_lock(&ftm_cfg_lock);
	if (r->enabled) {
		ret = -EBUSY;
		ftm_refuse("range " FTM_NAMEFMT ": reserve_mem cannot change while enabled\n",
			   FTM_NAMEARG(rname(r)));
	} else if (!len) {
		r->reserve_mem[0] = '\0';
		r->start = r->size = 0;
	} else if (!r->reserve_mem[0] && (r->start || r->size)) {
		ret = -EINVAL;
		ftm_refuse("range " FTM_NAMEFMT ": reserve_mem: the range has a start or size, not both\n",
			   FTM_NAMEARG(rname(r)));
	} else {
		memcpy(r->reserve_mem, page, len);
		r->reserve_mem[len] = '\0';
	}
	mutex_unlock(&ftm_cfg_lock);
	return ret ? ret : count;
bad:
	ftm_refuse("range " FTM_NAMEFMT ": reserve_mem must be a label of up to %d characters [A-Za-z0-9_.-]\n",
		   FTM_NAMEARG(rname(r)), FTM_RESERVE_MEM_MAX);
	return -EINVAL;
}

static ssize_t ftm_range_priority_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_range(item)->priority));
}

/*
 * Process context.  0 (the default) to FTM_PRIORITY_MAX: a higher priority
 * is walked earlier by every flush of the set, so what a crash budget cuts
 * off is the lowest; may change while enabled (the set is republished).
 */
static ssize_t ftm_range_priority_store(struct config_item *item, const char *page,
					size_t count)
{
	struct ftm_range *r = to_range(item);
	u64 v;
	int ret;

	if (ftm_parse_u64(page, count, false, &v) || v > FTM_PRIORITY_MAX) {
		ftm_refuse("range " FTM_NAMEFMT ": priority must be a number from 0 to %d\n",
			   FTM_NAMEARG(rname(r)), FTM_PRIORITY_MAX);
		return -EINVAL;
	}
	mutex_lock(&ftm_cfg_lock);
	ret = ftm_range_set_priority(r, v);
	mutex_unlock(&ftm_cfg_lock);
	return ret ? ret : count;
}

static ssize_t ftm_range_flushed_bytes_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%lld\n", atomic64_read(&to_range(item)->flushed_bytes));
}

CONFIGFS_ATTR(ftm_range_, start);
CONFIGFS_ATTR(ftm_range_, size);
CONFIGFS_ATTR(ftm_range_, enabled);
CONFIGFS_ATTR(ftm_range_, owner);
CONFIGFS_ATTR(ftm_range_, reserve_mem);
CONFIGFS_ATTR(ftm_range_, priority);
CONFIGFS_ATTR_RO(ftm_range_, flushed_bytes);

static struct configfs_attribute *ftm_range_attrs[] = {
	&ftm_range_attr_start,
	&ftm_range_attr_size,
	&ftm_range_attr_enabled,
	&ftm_range_attr_owner,
	&ftm_range_attr_reserve_mem,
	&ftm_range_attr_priority,
	&ftm_range_attr_flushed_bytes,
	NULL,
};

static void ftm_range_release(struct config_item *item)
{
	ftm_range_free(to_range(item));
}

static struct configfs_item_operations ftm_range_item_ops = {
	.release = ftm_range_release,
};

static const struct config_item_type ftm_range_type = {
	.ct_item_ops = &ftm_range_item_ops,
	.ct_attrs = ftm_range_attrs,
	.ct_owner = THIS_MODULE,
};

static struct config_item *ftm_ranges_make_item(struct config_group *group, const char *name)
{
	struct ftm_range *r;

	r = ftm_range_alloc();
	if (!r)
		return ERR_PTR(-ENOMEM);
	config_item_init_type_name(&r->item, name, &ftm_range_type);
	if (!config_item_name(&r->item)) {
		kfree(r);
		return ERR_PTR(-ENOMEM);
	}
	mutex_lock(&ftm_cfg_lock);
	ftm_range_publish_name(r);
	mutex_unlock(&ftm_cfg_lock);
	return &r->item;
}

/*
 * rmdir, process context: an enabled range is flushed (aperture) and
 * withdrawn first; rmdir cannot fail, so neither may the withdrawal.  The
 * name is free again at once, even while an open file keeps the item.
 */
static void ftm_ranges_drop_item(struct config_group *group, struct config_item *item)
{
	struct ftm_range *r = to_range(item);

	mutex_lock(&ftm_cfg_lock);
	ftm_range_disable(r, GFP_KERNEL | __GFP_NOFAIL);
	ftm_range_unlink(r);
	mutex_unlock(&ftm_cfg_lock);
	config_item_put(item);
}

static struct configfs_group_operations ftm_ranges_group_ops = {
	.make_item = ftm_ranges_make_item,
	.drop_item = ftm_ranges_drop_item,
};

static const struct config_item_type ftm_ranges_type = {
	.ct_group_ops = &ftm_ranges_group_ops,
	.ct_owner = THIS_MODULE,
};

static struct config_group ftm_ranges_group;

int ftm_configfs_init(void)
{
	int i;

	config_group_init(&ftm_subsys.su_group);
	mutex_init(&ftm_subsys.su_mutex);

	config_group_init_type_name(&ftm_hooks_group, "hooks", &ftm_hooks_type);
	configfs_add_default_group(&ftm_hooks_group, &ftm_subsys.su_group);
	for (i = 0; i < FTM_NR_HOOKS; i++) {
		ftm_hook_groups[i].id = i;
		config_group_init_type_name(&ftm_hook_groups[i].group, ftm_hooks[i].name,
					    i == FTM_HOOK_EXIT ? &ftm_exit_hook_type :
					    &ftm_hook_type);
		configfs_add_default_group(&ftm_hook_groups[i].group, &ftm_hooks_group);
	}
	config_group_init_type_name(&ftm_ranges_group, "ranges", &ftm_ranges_type);
	configfs_add_default_group(&ftm_ranges_group, &ftm_subsys.su_group);

	return configfs_register_subsystem(&ftm_subsys);
}

void ftm_configfs_exit(void)
{
	configfs_unregister_subsystem(&ftm_subsys);
}
