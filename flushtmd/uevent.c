// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-device.h>

#include "uevent.h"

#define UDEV_CONTROL		"/run/udev/control"
/*
 * Asked for: room for a storm of hundreds of uevents between two wake-ups.
 * What we get is logged at start: SO_RCVBUFFORCE needs CAP_NET_ADMIN, which
 * the shipped unit does not grant, so there the plain SO_RCVBUF applies,
 * capped by net.core.rmem_max (the kernel doubles what it grants: 416 KiB on
 * a default Debian 12).  An overrun is not fatal: on the kernel socket it is
 * ENOBUFS, and a full rescan follows; on the sd-device path it is silent,
 * and the periodic rescan (daemon.c) recovers.
 */
#define UEVENT_RCVBUF		(4 << 20)

static const char *const watched[] = { "nd", "dax", "memory", "module" };

struct ftmd_uevents {
	const struct ftmd_log *log;
	ftmd_uevent_fn fn;
	void *data;
	sd_device_monitor *monitor;	/* udev running */
	sd_event_source *io;		/* else: kernel netlink */
	int fd;
};

static bool subsystem_watched(const char *subsystem)
{
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		if (strcmp(subsystem, watched[i]) == 0)
			return true;
	return false;
}

static int on_device(sd_device_monitor *m, sd_device *dev, void *userdata)
{
	struct ftmd_uevents *u = userdata;
	const char *subsystem = NULL, *sysname = NULL, *action = "change";
	sd_device_action_t a;

	(void)m;
	sd_device_get_subsystem(dev, &subsystem);
	sd_device_get_sysname(dev, &sysname);
	if (sd_device_get_action(dev, &a) >= 0) {
		static const char *const names[] = {
			[SD_DEVICE_ADD] = "add", [SD_DEVICE_REMOVE] = "remove",
			[SD_DEVICE_CHANGE] = "change", [SD_DEVICE_MOVE] = "move",
			[SD_DEVICE_ONLINE] = "online", [SD_DEVICE_OFFLINE] = "offline",
			[SD_DEVICE_BIND] = "bind", [SD_DEVICE_UNBIND] = "unbind",
		};
		if ((size_t)a < sizeof(names) / sizeof(names[0]) && names[a])
			action = names[a];
	}
	if (subsystem)
		u->fn(u->data, subsystem, action, sysname ? sysname : "?");
	return 0;
}

static int monitor_start(struct ftmd_uevents *u, sd_event *event)
{
	int rc = sd_device_monitor_new(&u->monitor);

	for (size_t i = 0; rc >= 0 && i < sizeof(watched) / sizeof(watched[0]); i++)
		rc = sd_device_monitor_filter_add_match_subsystem_devtype(u->monitor,
									  watched[i], NULL);
	if (rc >= 0)
		rc = sd_device_monitor_set_receive_buffer_size(u->monitor, UEVENT_RCVBUF);
	if (rc >= 0)
		rc = sd_device_monitor_attach_event(u->monitor, event);
	if (rc >= 0)
		rc = sd_device_monitor_start(u->monitor, on_device, u);
	return rc;
}

/* "KEY=value" from a kernel uevent message of NUL-separated fields. */
static const char *uevent_field(const char *buf, size_t len, const char *key)
{
	size_t klen = strlen(key);

	for (size_t off = strlen(buf) + 1; off < len; off += strlen(buf + off) + 1)
		if (strncmp(buf + off, key, klen) == 0 && buf[off + klen] == '=')
			return buf + off + klen + 1;
	return NULL;
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ftmd_uevents *u = userdata;
	char buf[8192];

	(void)s;
	(void)revents;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from,
				       &fromlen);

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {
				/* Events were lost: whatever they said, rescan. */
				u->fn(u->data, NULL, NULL, NULL);
				continue;
			}
			ftmd_logf(u->log, LOG_WARNING, "uevent socket: %s", strerror(errno));
			return 0;
		}
		/* Only the kernel (port 0) speaks on this group. */
		if (from.nl_pid != 0 || len == 0)
			continue;
		buf[len] = '\0';
		const char *subsystem = uevent_field(buf, (size_t)len, "SUBSYSTEM");
		const char *action = uevent_field(buf, (size_t)len, "ACTION");
		const char *devpath = uevent_field(buf, (size_t)len, "DEVPATH");
		const char *sysname = devpath ? strrchr(devpath, '/') : NULL;

		if (!subsystem || !action || !subsystem_watched(subsystem))
			continue;
		u->fn(u->data, subsystem, action, sysname ? sysname + 1 : "?");
	}
}

static int netlink_start(struct ftmd_uevents *u, sd_event *event)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int size = UEVENT_RCVBUF;

	u->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       NETLINK_KOBJECT_UEVENT);
	if (u->fd < 0)
		return -errno;
	if (setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(u->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	return sd_event_add_io(event, &u->io, u->fd, EPOLLIN, on_netlink, u);
}

/* What the kernel granted, as SO_RCVBUF reads it back (twice the usable payload). */
static void log_rcvbuf(const struct ftmd_uevents *u)
{
	int fd = u->fd, size = 0;
	socklen_t len = sizeof(size);

	if (u->monitor)
		fd = sd_event_source_get_io_fd(sd_device_monitor_get_event_source(u->monitor));
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) {
		ftmd_logf(u->log, LOG_WARNING, "uevent receive buffer: size unknown: %s",
			  strerror(fd < 0 ? -fd : errno));
		return;
	}
	ftmd_logf(u->log, size < UEVENT_RCVBUF ? LOG_NOTICE : LOG_INFO,
		  "uevent receive buffer: %d KiB (asked %d KiB%s)", size >> 10, UEVENT_RCVBUF >> 10,
		  size < UEVENT_RCVBUF ? "; capped by net.core.rmem_max without CAP_NET_ADMIN" : "");
}

int ftmd_uevents_new(sd_event *event, const struct ftmd_log *log, ftmd_uevent_fn fn,
		     void *data, struct ftmd_uevents **out)
{
	struct ftmd_uevents *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return -ENOMEM;
	u->log = log;
	u->fn = fn;
	u->data = data;
	u->fd = -1;
	if (access(UDEV_CONTROL, F_OK) == 0)
		rc = monitor_start(u, event);
	else
		rc = netlink_start(u, event);
	if (rc < 0) {
		ftmd_uevents_free(u);
		return rc;
	}
	log_rcvbuf(u);
	*out = u;
	return 0;
}

struct ftmd_uevents *ftmd_uevents_free(struct ftmd_uevents *u)
{
	if (!u)
		return NULL;
	sd_device_monitor_unref(u->monitor);
	sd_event_source_disable_unref(u->io);
	if (u->fd >= 0)
		close(u->fd);
	free(u);
	return NULL;
}

const char *ftmd_uevents_origin(const struct ftmd_uevents *u)
{
	return u->monitor ? "udev" : "kernel";
}
