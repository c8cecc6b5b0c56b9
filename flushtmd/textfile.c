// SPDX-License-Identifier: GPL-2.0-or-later
/* The node_exporter textfile: DIR/flushtm.prom (textfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ftm_metrics.h"
#include "textfile.h"

int ftmd_textfile_write(const char *dir, const struct ftm_ctx *ctx, const char *sysfs,
			const char *procfs)
{
	char tmp[512], dst[512];
	struct stat st;
	FILE *f;
	int fd, rc;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (snprintf(tmp, sizeof(tmp), "%s/." FTMD_TEXTFILE_NAME ".XXXXXX", dir) >=
	    (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/" FTMD_TEXTFILE_NAME, dir) >= (int)sizeof(dst))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The collector runs as another user; the daemon's umask is 0077. */
	if (fchmod(fd, 0644) < 0) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	rc = ftm_metrics_write(f, ctx, sysfs, procfs);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		goto fail;
	if (rename(tmp, dst) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return rc;
}

static uint64_t signature(const struct ftmd_textfile *t);

static void attempt(struct ftmd_textfile *t, uint64_t now)
{
	int rc;

	t->last_usec = now ? now : 1;
	t->last_sig = signature(t);
	rc = ftmd_textfile_write(t->dir, t->ctx, t->sysfs, t->procfs);
	if (rc == 0) {
		if (t->reported || !t->said_where)
			ftmd_logf(t->log, LOG_INFO, "metrics in %s/" FTMD_TEXTFILE_NAME
				  ", every %u s", t->dir, t->interval);
		t->reported = 0;
		t->said_where = true;
		return;
	}
	if (rc == t->reported)
		return;		/* said already */
	t->reported = rc;
	if (rc == -ENOENT)
		ftmd_logf(t->log, LOG_NOTICE, "no metrics directory %s: not writing metrics "
			  "until it appears", t->dir);
	else
		ftmd_logf(t->log, LOG_WARNING, "cannot write metrics to %s: %s; trying again "
			  "every %u s", t->dir, strerror(-rc), t->interval);
}

/*
 * What the values of the file follow between reconciles: whether the module
 * is there, its generation (the range set) and each hook's fired count (every
 * flush counts under one hook, and moves that hook's bytes and durations and
 * its ranges' bytes).  Ten small reads, against rendering the whole file.
 */
static uint64_t signature(const struct ftmd_textfile *t)
{
	uint64_t sig = 0, v;
	char rel[64];
	size_t i;

	if (ftm_attr_read_u64(t->ctx, "generation", &v) < 0)
		return UINT64_MAX;	/* no module */
	sig = v;
	for (i = 0; ftm_hook_names[i]; i++) {
		snprintf(rel, sizeof(rel), "hooks/%s/fired", ftm_hook_names[i]);
		if (ftm_attr_read_u64(t->ctx, rel, &v) == 0)
			sig = sig * 1000003 + v + 1;
	}
	return sig;
}

static bool file_there(const struct ftmd_textfile *t)
{
	char dst[512];
	struct stat st;

	snprintf(dst, sizeof(dst), "%s/" FTMD_TEXTFILE_NAME, t->dir);
	return stat(dst, &st) == 0 && S_ISREG(st.st_mode);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ftmd_textfile *t = userdata;
	uint64_t period = (uint64_t)t->interval * 1000000, next, sig;

	/* A reconcile wrote less than an interval ago: an interval after that one. */
	if (t->last_usec && usec < t->last_usec + period) {
		next = t->last_usec + period;
	} else {
		/* An idle daemon costs nothing: rewrite only what has changed, or a
		 * file that is gone. */
		sig = signature(t);
		if (!t->last_usec || t->reported || sig != t->last_sig || !file_there(t))
			attempt(t, usec);
		next = usec + period;
	}
	if (sd_event_source_set_time(s, next) < 0 ||
	    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
		ftmd_logf(t->log, LOG_WARNING, "cannot re-arm the metrics timer");
	return 0;
}

int ftmd_textfile_setup(struct ftmd_textfile *t, sd_event *event, const struct ftm_conf *conf)
{
	uint64_t now;
	int rc;

	snprintf(t->dir, sizeof(t->dir), "%s",
		 conf->has_textfile_dir ? conf->textfile_dir : FTMD_TEXTFILE_DIR_DEFAULT);
	t->interval = conf->has_textfile_interval ? conf->textfile_interval
						  : FTMD_TEXTFILE_INTERVAL_DEFAULT;
	t->reported = 0;
	t->said_where = false;
	t->last_usec = 0;
	t->timer = sd_event_source_disable_unref(t->timer);
	if (!t->dir[0]) {
		ftmd_logf(t->log, LOG_INFO, "metrics file off (textfile_dir = none)");
		return 0;
	}
	sd_event_now(event, CLOCK_MONOTONIC, &now);
	/* 1 s of slack, as for the resync timer. */
	rc = sd_event_add_time(event, &t->timer, CLOCK_MONOTONIC,
			       now + (uint64_t)t->interval * 1000000, 1000000, on_timer, t);
	if (rc < 0)
		ftmd_logf(t->log, LOG_ERR, "metrics timer: %s", strerror(-rc));
	return rc;
}

void ftmd_textfile_kick(struct ftmd_textfile *t, sd_event *event)
{
	uint64_t now;

	if (!t->dir[0])
		return;
	sd_event_now(event, CLOCK_MONOTONIC, &now);
	if (t->last_usec && now < t->last_usec + (uint64_t)t->interval * 1000000)
		return;		/* the timer writes it within the interval */
	attempt(t, now);
}

void ftmd_textfile_fini(struct ftmd_textfile *t)
{
	t->timer = sd_event_source_disable_unref(t->timer);
}
