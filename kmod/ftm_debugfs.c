// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: the module's directory, flushtm/, where the arch code adds its
 * own files, and flushtm/set, the published set in the order every walk
 * takes it (priority first, then address; see ftm_set_build()), one span a
 * line: its physical start and its size in bytes.  It answers "what does a
 * crash flush reach first": a debugging view, not an interface.
 */
#include <linux/debugfs.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>

#include "ftm.h"

struct dentry *ftm_debugfs_dir;

/* Process context (read(2)): under rcu_read_lock, seq_printf only. */
static int ftm_set_show(struct seq_file *m, void *v)
{
	const struct ftm_set *set;
	unsigned int i;

	rcu_read_lock();
	set = rcu_dereference(ftm_live_set);
	for (i = 0; set && i < set->nr_spans; i++)
		seq_printf(m, "0x%llx %llu\n", set->spans[i].phys, set->spans[i].size);
	rcu_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ftm_set);

/*
 * Module init, first (the arch adds files): debugfs reports its own
 * failures, and its calls take an error pointer; flushtm works without it.
 */
void ftm_debugfs_init(void)
{
	ftm_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("set", 0400, ftm_debugfs_dir, NULL, &ftm_set_fops);
}

/* Module exit, first: removal waits for the readers inside a file's read. */
void ftm_debugfs_exit(void)
{
	debugfs_remove_recursive(ftm_debugfs_dir);
}
