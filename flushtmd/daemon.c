// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "plan.h"
#include "reconcile.h"

/* A burst of uevents (ndctl create-namespace makes a dozen) settles this long. */
#define SETTLE_USEC		(100 * 1000)
/* ... but a storm never postpones the reconcile past this. */
#define SETTLE_MAX_USEC		(1000 * 1000)

static unsigned int conf_sources(const struct ftm_conf *conf)
{
	return conf->has_sources ? conf->sources : FTM_SRC_DEFAULT;
}

/* A missing default file means defaults; anything else wrong is an error. */
static int conf_read(const struct ftmd *d, struct ftm_conf *conf)
{
	char err[512] = "";
	int rc = ftm_conf_load(d->opt.config, conf, err, sizeof(err));

	if (rc == -ENOENT && !d->opt.config_given) {
		memset(conf, 0, sizeof(*conf));
		ftmd_logf(&d->log, LOG_INFO, "no %s: covering the default sources", d->opt.config);
		return 0;
	}
	if (rc < 0)
		ftmd_logf(&d->log, LOG_ERR, "%s: %s", d->opt.config,
			  err[0] ? err : strerror(-rc));
	return rc;
}

struct want {
	struct ftm_aperture *aps;
	size_t n, cap;
};

static int want_push(struct want *w, const struct ftm_aperture *ap)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct ftm_aperture *grown = realloc(w->aps, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		w->aps = grown;
		w->cap = cap;
	}
	w->aps[w->n++] = *ap;
	return 0;
}

/* "d-nd-namespace0.0" is of source nd; a temporary "...:k" is not kept this way. */
static bool held_of_source(const struct ftm_range *r, const char *source)
{
	size_t len = strlen(FTM_DAEMON_PREFIX) + strlen(source);

	return !r->error && r->enabled && strcmp(r->owner, FTM_DAEMON_OWNER) == 0 &&
	       strncmp(r->name, FTM_DAEMON_PREFIX, strlen(FTM_DAEMON_PREFIX)) == 0 &&
	       strncmp(r->name + strlen(FTM_DAEMON_PREFIX), source, strlen(source)) == 0 &&
	       r->name[len] == '-' && !strchr(r->name, FTMD_TEMP_SEP);
}

/*
 * A source that could not be scanned says nothing about its apertures: the
 * ranges it had stay wanted as they are (and cut the less specific sources
 * as they did).
 */
static int keep_failed_source(struct want *w, const struct ftm_range *held, size_t nr_held,
			      const char *source)
{
	for (size_t i = 0; i < nr_held; i++) {
		const struct ftm_range *r = &held[i];
		struct ftm_aperture ap = { 0 };

		if (!held_of_source(r, source))
			continue;
		memcpy(ap.name, r->name, strlen(r->name) + 1);
		snprintf(ap.device, sizeof(ap.device), "%s",
			 r->name + strlen(FTM_DAEMON_PREFIX) + strlen(source) + 1);
		ap.source = source;
		ap.start = r->start;
		ap.size = r->size;
		snprintf(ap.reserve_mem, sizeof(ap.reserve_mem), "%s", r->reserve_mem);
		if (want_push(w, &ap) < 0)
			return -ENOMEM;
	}
	return 0;
}

static unsigned int source_rank(const struct ftm_aperture *ap)
{
	unsigned int bit;

	return ftm_source_parse(ap->source, &bit) == 0 ? bit : UINT_MAX;
}

/* nd, dax, iomem (their bits grow in that order), by name within one. */
static int cmp_aperture_source(const void *a, const void *b)
{
	const struct ftm_aperture *x = a, *y = b;
	unsigned int rx = source_rank(x), ry = source_rank(y);

	return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x->name, y->name);
}

static int cmp_aperture_name(const void *a, const void *b)
{
	const struct ftm_aperture *x = *(const struct ftm_aperture *const *)a;
	const struct ftm_aperture *y = *(const struct ftm_aperture *const *)b;
	int c = strcmp(x->name, y->name);

	/* Equal names: the earlier one (a config range's file order) first. */
	return c ? c : (x < y ? -1 : x > y);
}

/*
 * Names must be unique for the planner.  Two config sections can map to one
 * daemon name ("a:1" and "a_1" both give d-config-a_1): the first keeps it,
 * each later one is dropped with its own warning (once per loaded config),
 * and the rest of the set is reconciled as usual.
 */
static int drop_duplicate_names(struct ftmd *d, struct want *w)
{
	const struct ftm_aperture **by_name;
	bool *drop;
	size_t kept = 0;

	if (w->n < 2)
		return 0;
	by_name = malloc(w->n * sizeof(*by_name));
	drop = calloc(w->n, sizeof(*drop));
	if (!by_name || !drop) {
		free(by_name);
		free(drop);
		return -ENOMEM;
	}
	for (size_t i = 0; i < w->n; i++)
		by_name[i] = &w->aps[i];
	qsort(by_name, w->n, sizeof(*by_name), cmp_aperture_name);
	for (size_t i = 1; i < w->n; i++) {
		const struct ftm_aperture *first = by_name[i - 1], *dup = by_name[i];

		if (strcmp(first->name, dup->name))
			continue;
		drop[dup - w->aps] = true;
		if (d->conf_fresh || strcmp(dup->source, FTM_SOURCE_CONFIG))
			ftmd_logf(&d->log, LOG_WARNING,
				  "%s %s: its range name %s is taken by %s %s; not covered by the "
				  "daemon%s", dup->source, dup->device, dup->name, first->source,
				  first->device,
				  strcmp(dup->source, FTM_SOURCE_CONFIG) ? "" :
				  " (flushtmctl apply still makes it; rename the section)");
		by_name[i] = first;	/* a third of the same name is compared with the first */
	}
	for (size_t i = 0; i < w->n; i++)
		if (!drop[i])
			w->aps[kept++] = w->aps[i];
	w->n = kept;
	free(by_name);
	free(drop);
	return 0;
}

/*
 * The wanted set: the chosen sources, one range per extent, plus the
 * config's static ranges.  held is what the module holds now.  Returns the
 * bits of the sources that could not be scanned (their ranges kept), or
 * -ENOMEM.
 */
static int wanted(struct ftmd *d, const struct ftm_range *held, size_t nr_held, struct want *w)
{
	int errs[FTM_NR_SOURCES], failed, rc = 0;
	unsigned int sources = conf_sources(&d->conf);

	failed = ftm_sources_scan(sources, d->opt.sysfs, d->opt.procfs, &w->aps, &w->n, errs);
	if (failed < 0)
		return failed;
	w->cap = w->n;
	for (unsigned int i = 0; i < FTM_NR_SOURCES && rc == 0; i++) {
		const char *name = ftm_source_name(ftm_source_bit(i));

		if (!errs[i])
			continue;
		ftmd_logf(&d->log, LOG_ERR, "cannot scan %s: %s%s; keeping its ranges as they are",
			  name, strerror(-errs[i]),
			  errs[i] == -EACCES ? " (addresses hidden: run as root)" : "");
		rc = keep_failed_source(w, held, nr_held, name);
	}
	/* Kept ranges of a failed source were appended: back into source order. */
	if (rc == 0 && failed)
		qsort(w->aps, w->n, sizeof(*w->aps), cmp_aperture_source);
	if (rc == 0)
		rc = ftm_apertures_fold(&w->aps, &w->n);
	if (rc == 0)
		w->cap = w->n;
	for (size_t i = 0; i < d->conf.nr_ranges && rc == 0; i++) {
		const struct ftm_conf_range *r = &d->conf.ranges[i];
		struct ftm_aperture ap;

		if (ftm_aperture_set(&ap, FTM_SOURCE_CONFIG, r->name, r->start, r->size) < 0) {
			if (d->conf_fresh)
				ftmd_logf(&d->log, LOG_WARNING, "range %s: name too long to cover",
					  r->name);
			continue;
		}
		snprintf(ap.reserve_mem, sizeof(ap.reserve_mem), "%s", r->reserve_mem);
		rc = want_push(w, &ap);
	}
	if (rc == 0)
		rc = drop_duplicate_names(d, w);
	d->conf_fresh = false;
	return rc < 0 ? rc : failed;
}

static void notify_status(struct ftmd *d, const char *status)
{
	ftmd_logf(&d->log, LOG_DEBUG, "status: %s", status);
	if (!d->ready) {
		sd_notifyf(0, "READY=1\nSTATUS=%s\n", status);
		d->ready = true;
	} else {
		sd_notifyf(0, "STATUS=%s\n", status);
	}
}

/* The reconcile did not finish (or the kernel refused some of it): try again later. */
static void retry_later(struct ftmd *d)
{
	unsigned int shift = d->failures < FTMD_BACKOFF_MAX_SHIFT ? d->failures
								   : FTMD_BACKOFF_MAX_SHIFT;
	uint64_t now, delay = (uint64_t)d->opt.resync << shift;

	d->failures++;
	if (!d->opt.resync)
		return;
	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	d->retry_at = now + delay * 1000000;
	ftmd_logf(&d->log, LOG_NOTICE, "reconcile incomplete: retrying in %" PRIu64 " s", delay);
}

static void reconcile_done(struct ftmd *d)
{
	if (d->failures)
		ftmd_logf(&d->log, LOG_INFO, "reconciled after %u incomplete attempts", d->failures);
	d->failures = 0;
	d->retry_at = 0;
}

static void reconcile_once(struct ftmd *d)
{
	struct want w = { 0 };
	struct ftm_range *held = NULL;
	struct ftmd_tally tally;
	char status[256];
	size_t nr_held = 0;
	int rc, failed;

	d->pending_since = 0;
	d->retry_at = 0;
	d->reconciles++;
	ftmd_logf(&d->log, LOG_DEBUG, "reconcile %lu", d->reconciles);
	if (ftm_module_present(d->ctx) <= 0) {
		if (d->state != FTMD_NO_MODULE)
			ftmd_logf(&d->log, LOG_NOTICE,
				  "flushtm module not loaded (%s absent): waiting for it",
				  ftm_ctx_root(d->ctx));
		d->state = FTMD_NO_MODULE;
		d->generation_known = false;
		notify_status(d, "waiting for the flushtm module");
		return;
	}
	if (d->state == FTMD_NO_MODULE)
		ftmd_logf(&d->log, LOG_NOTICE, "flushtm module is there: pushing the ranges");

	/* Read before the changes: anyone else's change after this is seen at the next tick. */
	d->generation_moved = false;
	d->generation_known = ftm_attr_read_u64(d->ctx, "generation", &d->generation) == 0;
	rc = ftm_range_list(d->ctx, &held, &nr_held);
	if (rc == -ENOENT && ftm_module_present(d->ctx) <= 0) {
		d->state = FTMD_NO_MODULE;
		ftmd_logf(&d->log, LOG_NOTICE, "flushtm module went away: waiting for it");
		notify_status(d, "waiting for the flushtm module");
		return;
	}
	d->state = FTMD_RUNNING;
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "cannot read the module's ranges: %s", strerror(-rc));
		notify_status(d, "cannot read the module's ranges");
		retry_later(d);
		return;
	}
	for (size_t i = 0; i < nr_held; i++)
		if (held[i].error)
			ftmd_logf(&d->log, LOG_WARNING, "range %s: cannot read it whole: %s; left alone",
				  held[i].name, strerror(-held[i].error));
	failed = wanted(d, held, nr_held, &w);
	if (failed < 0) {
		ftmd_logf(&d->log, LOG_ERR, "cannot work out the wanted ranges: %s",
			  strerror(-failed));
		free(held);
		free(w.aps);
		notify_status(d, "out of memory, ranges left as they were");
		retry_later(d);
		return;
	}
	rc = ftmd_reconcile(d->ctx, &d->log, held, nr_held, w.aps, w.n, &tally);
	free(held);
	free(w.aps);
	if (rc == -ENOENT) {
		/* The module left mid-way: its remove uevent brings us back here. */
		ftmd_logf(&d->log, LOG_NOTICE, "flushtm module went away: waiting for it");
		d->state = FTMD_NO_MODULE;
		notify_status(d, "waiting for the flushtm module");
		return;
	}
	if (rc < 0) {
		notify_status(d, "cannot plan the changes, ranges left as they were");
		retry_later(d);
		return;
	}
	/*
	 * Our own changes moved the generation: take the new one, or the next
	 * tick would reconcile again for nothing.  Someone else's change in the
	 * same few milliseconds is then seen at the next change, the periodic
	 * pass, or SIGHUP.
	 */
	if ((tally.added || tally.removed) &&
	    ftm_attr_read_u64(d->ctx, "generation", &d->generation) < 0)
		d->generation_known = false;
	if (tally.added || tally.removed || tally.refused)
		ftmd_logf(&d->log, LOG_INFO,
			  "reconciled: %zu wanted, %zu added, %zu removed, %zu refused, %zu held",
			  w.n, tally.added, tally.removed, tally.refused, tally.held);
	if (w.n == 0 && tally.held == 0) {
		if (!d->idle)
			ftmd_logf(&d->log, LOG_NOTICE, "no persistent memory to cover: idle");
		d->idle = true;
		snprintf(status, sizeof(status), "idle: no persistent memory to cover");
	} else {
		d->idle = false;
		snprintf(status, sizeof(status), "holding %zu ranges%s%s", tally.held,
			 tally.refused ? ", some refused by the kernel (see the log)" : "",
			 failed ? ", a source could not be scanned (see the log)" : "");
	}
	notify_status(d, status);
	if (tally.refused || tally.skipped || failed)
		retry_later(d);
	else
		reconcile_done(d);
}

/* A reconcile, then the metrics file (at most once an interval). */
static void reconcile(struct ftmd *d)
{
	reconcile_once(d);
	ftmd_textfile_kick(&d->textfile, d->event);
}

/*
 * Every opt.resync seconds: a retry that is due; else one read of
 * `generation`, which changes when anyone changes the live set (an admin's
 * `range del d-nd-...`): then a reconcile, once the generation has stood
 * still for a whole period.  So a script that removes ranges one after the
 * other and then the module (flushtmctl unload) is not fought range by range:
 * by the next look the module is gone.  With udev as the event source, whose
 * lost events go unseen, a full reconcile every FTMD_RESCAN_TICKS.
 */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ftmd *d = userdata;
	uint64_t gen;

	d->ticks++;
	if (sd_event_source_set_time(s, usec + (uint64_t)d->opt.resync * 1000000) < 0 ||
	    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
		ftmd_logf(&d->log, LOG_WARNING, "cannot re-arm the resync timer");
	if (d->pending_since || d->state == FTMD_NO_MODULE)
		return 0;	/* a reconcile is on its way, or the module's uevent will be */
	if (d->retry_at && usec >= d->retry_at) {
		ftmd_logf(&d->log, LOG_INFO, "retrying the reconcile");
		reconcile(d);
		return 0;
	}
	if (d->retry_at)
		return 0;
	if (ftm_attr_read_u64(d->ctx, "generation", &gen) == 0 &&
	    (!d->generation_known || gen != d->generation)) {
		if (d->generation_moved && gen == d->generation_seen) {
			d->generation_moved = false;
			ftmd_logf(&d->log, LOG_INFO, "the module's ranges changed (generation %"
				  PRIu64 "): reconciling", gen);
			reconcile(d);
		} else {
			d->generation_moved = true;
			d->generation_seen = gen;
			ftmd_logf(&d->log, LOG_DEBUG, "generation %" PRIu64 ": looking again in %u s",
				  gen, d->opt.resync);
		}
		return 0;
	}
	d->generation_moved = false;
	if (strcmp(ftmd_uevents_origin(d->uevents), "udev") == 0 &&
	    d->ticks % FTMD_RESCAN_TICKS == 0) {
		ftmd_logf(&d->log, LOG_DEBUG, "periodic rescan (udev's lost events go unseen)");
		reconcile(d);
	}
	return 0;
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	reconcile(userdata);
	return 0;
}

/* (Re)arm the settle timer: 100 ms after the last event, 1 s after the first. */
static void schedule(struct ftmd *d)
{
	uint64_t now, when;
	int rc;

	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	if (!d->pending_since)
		d->pending_since = now;
	when = now + SETTLE_USEC;
	if (when > d->pending_since + SETTLE_MAX_USEC)
		when = d->pending_since + SETTLE_MAX_USEC;
	rc = sd_event_source_set_time(d->settle, when);
	if (rc >= 0)
		rc = sd_event_source_set_enabled(d->settle, SD_EVENT_ONESHOT);
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_WARNING, "cannot arm the settle timer: %s; reconciling now",
			  strerror(-rc));
		reconcile(d);
	}
}

static void on_uevent(void *data, const char *subsystem, const char *action,
		      const char *sysname)
{
	struct ftmd *d = data;

	if (!subsystem) {
		ftmd_logf(&d->log, LOG_NOTICE, "device events were lost: rescanning");
		schedule(d);
		return;
	}
	/* Of the modules only ours matters (its configfs directory comes and goes). */
	if (strcmp(subsystem, "module") == 0 && strcmp(sysname, "flushtm") != 0)
		return;
	ftmd_logf(&d->log, LOG_DEBUG, "uevent %s %s %s", action, subsystem, sysname);
	schedule(d);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct ftmd *d = userdata;
	struct ftm_conf conf;
	char words[64];

	(void)s;
	(void)si;
	ftmd_logf(&d->log, LOG_INFO, "SIGHUP: reloading %s", d->opt.config);
	if (conf_read(d, &conf) < 0) {
		ftmd_logf(&d->log, LOG_WARNING, "keeping the previous configuration");
		return 0;
	}
	ftm_conf_free(&d->conf);
	d->conf = conf;
	d->conf_fresh = true;
	ftm_sources_format(conf_sources(&d->conf), words, sizeof(words));
	ftmd_logf(&d->log, LOG_INFO, "configuration reloaded: sources %s, %zu static ranges",
		  words, d->conf.nr_ranges);
	ftmd_textfile_setup(&d->textfile, d->event, &d->conf);
	reconcile(d);
	return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct ftmd *d = userdata;

	ftmd_logf(&d->log, LOG_INFO, "%s: exiting, ranges left in place",
		  strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

int ftmd_init(struct ftmd *d, const struct ftmd_options *opt, const struct ftmd_log *log)
{
	sigset_t mask;
	char words[64];
	int rc;

	memset(d, 0, sizeof(*d));
	d->opt = *opt;
	d->log = *log;
	if (conf_read(d, &d->conf) < 0)
		return -EINVAL;
	d->conf_fresh = true;
	rc = ftm_ctx_new(&d->ctx, opt->root);
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "configfs root: %s", strerror(-rc));
		return rc;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	rc = sd_event_default(&d->event);
	if (rc >= 0)
		rc = sd_event_add_signal(d->event, NULL, SIGTERM, on_sigterm, d);
	if (rc >= 0)
		rc = sd_event_add_signal(d->event, NULL, SIGINT, on_sigterm, d);
	if (rc >= 0)
		rc = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d);
	/* WATCHDOG=1 at half of WatchdogSec= while the loop turns; no-op without it. */
	if (rc >= 0)
		rc = sd_event_set_watchdog(d->event, 1);
	if (rc >= 0)
		rc = sd_event_add_time(d->event, &d->settle, CLOCK_MONOTONIC, UINT64_MAX, 0,
				       on_settled, d);
	if (rc >= 0)
		rc = sd_event_source_set_enabled(d->settle, SD_EVENT_OFF);
	if (rc >= 0 && opt->resync) {
		uint64_t now;

		sd_event_now(d->event, CLOCK_MONOTONIC, &now);
		/* 1 s of slack: the kernel may batch the wake-up with others. */
		rc = sd_event_add_time(d->event, &d->tick, CLOCK_MONOTONIC,
				       now + (uint64_t)opt->resync * 1000000, 1000000, on_tick, d);
	}
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "event loop: %s", strerror(-rc));
		return rc;
	}
	d->textfile.ctx = d->ctx;
	d->textfile.sysfs = opt->sysfs;
	d->textfile.procfs = opt->procfs;
	d->textfile.log = &d->log;
	rc = ftmd_textfile_setup(&d->textfile, d->event, &d->conf);
	if (rc < 0)
		return rc;
	rc = ftmd_uevents_new(d->event, &d->log, on_uevent, d, &d->uevents);
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "device events: %s", strerror(-rc));
		return rc;
	}
	ftm_sources_format(conf_sources(&d->conf), words, sizeof(words));
	ftmd_logf(&d->log, LOG_INFO,
		  "started: sources %s, %zu static ranges, events from %s, resync every %u s",
		  words, d->conf.nr_ranges, ftmd_uevents_origin(d->uevents), opt->resync);
	return 0;
}

int ftmd_run(struct ftmd *d)
{
	int rc;

	reconcile(d);
	rc = sd_event_loop(d->event);
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "event loop: %s", strerror(-rc));
		return 1;
	}
	return rc;
}

void ftmd_fini(struct ftmd *d)
{
	d->uevents = ftmd_uevents_free(d->uevents);
	ftmd_textfile_fini(&d->textfile);
	d->settle = sd_event_source_disable_unref(d->settle);
	d->tick = sd_event_source_disable_unref(d->tick);
	d->event = sd_event_unref(d->event);
	if (d->ctx)
		ftm_ctx_free(d->ctx);
	d->ctx = NULL;
	ftm_conf_free(&d->conf);
}
