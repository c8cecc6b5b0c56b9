// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
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

static void sources_words(unsigned int sources, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int bit = 1; bit <= FTM_SRC_IOMEM; bit <<= 1)
		if (sources & bit)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "",
						ftm_source_name(bit));
	if (!off)
		snprintf(buf, len, "none");
}

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

/* The wanted set: the chosen sources plus the config's static ranges. */
static int wanted(const struct ftmd *d, struct ftm_aperture **out, size_t *n)
{
	struct ftm_aperture *grown;
	int rc;

	rc = ftm_sources_scan(conf_sources(&d->conf), d->opt.sysfs, d->opt.procfs, out, n);
	if (rc < 0)
		return rc;
	if (!d->conf.nr_ranges)
		return 0;
	grown = realloc(*out, (*n + d->conf.nr_ranges) * sizeof(**out));
	if (!grown) {
		free(*out);
		return -ENOMEM;
	}
	*out = grown;
	for (size_t i = 0; i < d->conf.nr_ranges; i++) {
		const struct ftm_conf_range *r = &d->conf.ranges[i];

		rc = ftm_aperture_set(&grown[*n], FTM_SOURCE_CONFIG, r->name, r->start, r->size);
		if (rc < 0) {
			ftmd_logf(&d->log, LOG_WARNING, "range %s: name too long to cover", r->name);
			continue;
		}
		(*n)++;
	}
	return 0;
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

static void reconcile(struct ftmd *d)
{
	struct ftm_aperture *want = NULL;
	struct ftmd_tally tally;
	char status[256];
	size_t nr_want = 0;
	int rc;

	d->pending_since = 0;
	d->reconciles++;
	ftmd_logf(&d->log, LOG_DEBUG, "reconcile %lu", d->reconciles);
	if (ftm_module_present(d->ctx) <= 0) {
		if (d->state != FTMD_NO_MODULE)
			ftmd_logf(&d->log, LOG_NOTICE,
				  "flushtm module not loaded (%s absent): waiting for it",
				  ftm_ctx_root(d->ctx));
		d->state = FTMD_NO_MODULE;
		notify_status(d, "waiting for the flushtm module");
		return;
	}
	if (d->state == FTMD_NO_MODULE)
		ftmd_logf(&d->log, LOG_NOTICE, "flushtm module is there: pushing the ranges");

	rc = wanted(d, &want, &nr_want);
	if (rc < 0) {
		/* Keep what is held: a failed scan says nothing about the apertures. */
		ftmd_logf(&d->log, LOG_ERR, "cannot scan for persistent memory: %s%s",
			  strerror(-rc), rc == -EACCES ? " (addresses hidden: run as root)" : "");
		d->state = FTMD_RUNNING;
		notify_status(d, "scan failed, ranges left as they were");
		return;
	}
	rc = ftmd_reconcile(d->ctx, &d->log, want, nr_want, &tally);
	free(want);
	if (rc == -ENOENT) {
		/* The module left mid-way: its remove uevent brings us back here. */
		ftmd_logf(&d->log, LOG_NOTICE, "flushtm module went away: waiting for it");
		d->state = FTMD_NO_MODULE;
		notify_status(d, "waiting for the flushtm module");
		return;
	}
	d->state = FTMD_RUNNING;
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "cannot read the module's ranges: %s", strerror(-rc));
		notify_status(d, "cannot read the module's ranges");
		return;
	}
	if (tally.added || tally.removed || tally.refused)
		ftmd_logf(&d->log, LOG_INFO,
			  "reconciled: %zu wanted, %zu added, %zu removed, %zu refused, %zu held",
			  nr_want, tally.added, tally.removed, tally.refused, tally.held);
	if (nr_want == 0 && tally.held == 0) {
		if (!d->idle)
			ftmd_logf(&d->log, LOG_NOTICE, "no persistent memory to cover: idle");
		d->idle = true;
		snprintf(status, sizeof(status), "idle: no persistent memory to cover");
	} else {
		d->idle = false;
		snprintf(status, sizeof(status), "holding %zu ranges%s", tally.held,
			 tally.refused ? ", some refused by the kernel (see the log)" : "");
	}
	notify_status(d, status);
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
	sources_words(conf_sources(&d->conf), words, sizeof(words));
	ftmd_logf(&d->log, LOG_INFO, "configuration reloaded: sources %s, %zu static ranges",
		  words, d->conf.nr_ranges);
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
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "event loop: %s", strerror(-rc));
		return rc;
	}
	rc = ftmd_uevents_new(d->event, &d->log, on_uevent, d, &d->uevents);
	if (rc < 0) {
		ftmd_logf(&d->log, LOG_ERR, "device events: %s", strerror(-rc));
		return rc;
	}
	sources_words(conf_sources(&d->conf), words, sizeof(words));
	ftmd_logf(&d->log, LOG_INFO, "started: sources %s, %zu static ranges, events from %s",
		  words, d->conf.nr_ranges, ftmd_uevents_origin(d->uevents));
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
	d->settle = sd_event_source_disable_unref(d->settle);
	d->event = sd_event_unref(d->event);
	if (d->ctx)
		ftm_ctx_free(d->ctx);
	d->ctx = NULL;
	ftm_conf_free(&d->conf);
}
