/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device events that may change the apertures or the module's presence:
 * subsystems nd, dax and memory, and module add/remove.  Where udev runs,
 * this is an sd-device monitor (events after udev's rules have run, e.g.
 * daxctl's); without udev (initramfs, minimal guests) it listens to the
 * kernel's uevent netlink group directly.  Either way it only wakes on an
 * event: nothing polls.
 */
#ifndef FTMD_UEVENT_H
#define FTMD_UEVENT_H

#include <systemd/sd-event.h>

#include "log.h"

/*
 * subsystem and sysname may be NULL when the kernel dropped events (receive
 * buffer overrun): the caller must then assume anything changed.
 */
typedef void (*ftmd_uevent_fn)(void *data, const char *subsystem, const char *action,
			       const char *sysname);

struct ftmd_uevents;

int ftmd_uevents_new(sd_event *event, const struct ftmd_log *log, ftmd_uevent_fn fn,
		     void *data, struct ftmd_uevents **out);
struct ftmd_uevents *ftmd_uevents_free(struct ftmd_uevents *u);
/* "udev" or "kernel": where the events come from. */
const char *ftmd_uevents_origin(const struct ftmd_uevents *u);

#endif /* FTMD_UEVENT_H */
