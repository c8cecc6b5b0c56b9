/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics file for node_exporter's textfile collector: the text of
 * `flushtmctl stats --format=prometheus` (lib/ftm_metrics.c) in
 * DIR/flushtm.prom, written after each reconcile, and every interval seconds
 * when a counter or the range set has moved since the last write (an idle
 * daemon writes nothing: the file's mtime is when its values last changed),
 * never twice within one interval.  Written whole to a temporary file of the
 * same directory (".flushtm.prom.XXXXXX": the collector reads only *.prom)
 * and renamed over the old one, as the collector requires: a scrape sees the
 * old file or the new one, never a part.  A directory that is missing or
 * cannot be written is logged once (again only when the reason changes) and
 * tried again at the next interval; the daemon goes on.
 */
#ifndef FTMD_TEXTFILE_H
#define FTMD_TEXTFILE_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "libflushtm.h"
#include "log.h"

/* Debian's prometheus-node-exporter reads this directory. */
#define FTMD_TEXTFILE_DIR_DEFAULT	"/var/lib/prometheus/node-exporter"
#define FTMD_TEXTFILE_INTERVAL_DEFAULT	15
#define FTMD_TEXTFILE_NAME		"flushtm.prom"

struct ftmd_textfile {
	char dir[256];			/* "" : off */
	unsigned int interval;		/* seconds */
	uint64_t last_usec;		/* CLOCK_MONOTONIC of the last attempt; 0: none */
	uint64_t last_sig;		/* the module's state at the last attempt (textfile.c) */
	int reported;			/* the errno last logged (0: the last write worked) */
	bool said_where;		/* "writing metrics to ..." logged */
	sd_event_source *timer;
	/* What the writer reads, set by the daemon. */
	const struct ftm_ctx *ctx;
	const char *sysfs, *procfs;
	const struct ftmd_log *log;
};

/*
 * Takes dir and interval from the configuration (the defaults when absent)
 * and (re)arms the periodic write.  0 or a negative errno (logged).
 */
int ftmd_textfile_setup(struct ftmd_textfile *t, sd_event *event, const struct ftm_conf *conf);
/* After a reconcile: write now unless the last write is less than an interval old. */
void ftmd_textfile_kick(struct ftmd_textfile *t, sd_event *event);
void ftmd_textfile_fini(struct ftmd_textfile *t);
/*
 * One write of DIR/flushtm.prom through a temporary file and rename(2).  0,
 * or a negative errno with nothing left behind (-ENOENT: no directory).
 */
int ftmd_textfile_write(const char *dir, const struct ftm_ctx *ctx, const char *sysfs,
			const char *procfs);

#endif /* FTMD_TEXTFILE_H */
