/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's event loop (sd-event): device events coalesced into one
 * reconcile, SIGHUP reloads the configuration, SIGTERM/SIGINT end it leaving
 * the ranges in place, the watchdog is sd-event's own.
 */
#ifndef FTMD_DAEMON_H
#define FTMD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "ftm_sources.h"
#include "libflushtm.h"
#include "log.h"
#include "textfile.h"
#include "uevent.h"

struct ftmd_options {
	const char *config;	/* FTM_CONF_DEFAULT unless --config */
	const char *root;	/* configfs root; NULL: libflushtm's default */
	const char *sysfs;	/* "/sys" */
	const char *procfs;	/* "/proc" */
	bool config_given;	/* a missing --config file is an error, the default is not */
	unsigned int resync;	/* seconds between two looks at `generation`; 0: never */
};

/* --resync default: cheap (one configfs read), and soon enough for an admin's slip. */
#define FTMD_RESYNC_DEFAULT	10
/* A failed reconcile is retried after resync << k seconds, k = 0 .. this. */
#define FTMD_BACKOFF_MAX_SHIFT	6
/* With udev, lost events go unseen: a full reconcile every this many resyncs. */
#define FTMD_RESCAN_TICKS	30

enum ftmd_state { FTMD_STARTING, FTMD_NO_MODULE, FTMD_RUNNING };

struct ftmd {
	struct ftmd_options opt;
	struct ftmd_log log;
	sd_event *event;
	struct ftm_ctx *ctx;
	struct ftmd_uevents *uevents;
	sd_event_source *settle;	/* the coalescing timer */
	uint64_t pending_since;		/* CLOCK_MONOTONIC usec of the first unhandled event */
	sd_event_source *tick;		/* every opt.resync seconds */
	unsigned long ticks;
	uint64_t generation;		/* the module's, read at the last reconcile */
	bool generation_known;
	uint64_t generation_seen;	/* a new one seen at the last tick, not yet acted on */
	bool generation_moved;
	unsigned int failures;		/* reconciles in a row that did not finish */
	uint64_t retry_at;		/* CLOCK_MONOTONIC usec; 0: no retry due */
	struct ftm_conf conf;
	bool conf_fresh;		/* not reconciled since loaded: warn about its names */
	enum ftmd_state state;
	bool ready;			/* READY=1 sent */
	bool idle;			/* nothing to cover, and said so */
	unsigned long reconciles;
	struct ftmd_textfile textfile;	/* the node_exporter metrics file */
};

/* 0, or a negative errno after logging why. */
int ftmd_init(struct ftmd *d, const struct ftmd_options *opt, const struct ftmd_log *log);
/* Runs until SIGTERM/SIGINT; returns the exit status. */
int ftmd_run(struct ftmd *d);
void ftmd_fini(struct ftmd *d);

#endif /* FTMD_DAEMON_H */
