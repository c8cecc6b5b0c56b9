// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flushtmctl last: how the previous boot ended as far as flushtm saw it, from
 * the flush lines the kernel's persistent log (pstore) kept of it; and the
 * pstore part of check: would this boot's end be kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ftm_pstore.h"

/* The kernel command line that makes ramoops keep the log at panic and at restart. */
#define CTL_PSTORE_CMDLINE \
	"memmap=1M$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000 " \
	"ramoops.record_size=0x40000 ramoops.max_reason=4"
/* kmsg_dump_reason: KMSG_DUMP_PANIC 1, OOPS 2, EMERG 3, SHUTDOWN 4 (restart, halt, kexec). */
#define CTL_DUMP_SHUTDOWN	4

static void utc(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, size, "@%lld", (long long)t);
}

/* kmsg_dump_reason_str(): when the kernel dumps its log with that reason. */
static const char *dump_when(const char *reason)
{
	if (!strcmp(reason, "Panic"))
		return "at the panic";
	if (!strcmp(reason, "Oops"))
		return "at an oops";
	if (!strcmp(reason, "Emergency"))
		return "at an emergency restart (a panic with panic=N restarts so, after its own dump)";
	if (!strcmp(reason, "Shutdown"))
		return "at a restart, halt, power-off or kexec";
	return "(a reason this flushtmctl does not know)";
}

static int find_last(const struct ctl *ctl, struct ftm_last *last)
{
	struct ftm_pstore_paths p;

	ftm_pstore_paths_default(&p, ctl->sysfs_root, ctl->procfs_root);
	return ftm_last_find(&p, last);
}

/* Seconds from the record to this boot's start: how long the reset took, at most. */
static double gap(const struct ftm_last *last)
{
	return (double)last->boot_start - (double)last->written.tv_sec -
	       (double)last->written.tv_nsec / 1e9;
}

/* Seconds as the kernel log shows them (microseconds), not as a double prints. */
static struct json_object *json_seconds(double s)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6f", s);
	return json_object_new_double_s(s, buf);
}

static struct json_object *json_flush(const struct ftm_flush_line *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "hook", json_object_new_string(f->hook));
	json_object_object_add(o, "ranges", json_object_new_int64(f->ranges));
	json_object_object_add(o, "bytes", json_object_new_uint64(f->bytes));
	json_object_object_add(o, "method", json_object_new_string(f->method));
	json_object_object_add(o, "ns", json_object_new_uint64(f->ns));
	json_object_object_add(o, "cpu", json_object_new_int64(f->cpu));
	if (f->cpus) {
		json_object_object_add(o, "cpus", json_object_new_int64(f->cpus));
		json_object_object_add(o, "taken", json_object_new_int64(f->taken));
	}
	json_object_object_add(o, "uptime", f->uptime >= 0 ? json_seconds(f->uptime) : NULL);
	return o;
}

static struct json_object *json_last(const struct ftm_last *last)
{
	struct json_object *o = json_object_new_object(), *a;
	char when[64];

	json_object_object_add(o, "status", json_object_new_string(ftm_last_status_name(last->status)));
	json_object_object_add(o, "why", last->status == FTM_LAST_FOUND ? NULL :
			       json_object_new_string(last->why));
	utc(last->boot_start, when, sizeof(when));
	json_object_object_add(o, "this_boot_started", json_object_new_string(when));
	json_object_object_add(o, "this_boot_started_epoch", json_object_new_int64(last->boot_start));
	json_object_object_add(o, "record", *last->path ? json_object_new_string(last->path) : NULL);
	if (*last->path) {
		utc(last->written.tv_sec, when, sizeof(when));
		json_object_object_add(o, "archived", json_object_new_boolean(last->archived));
		json_object_object_add(o, "written", json_object_new_string(when));
		json_object_object_add(o, "written_epoch", json_object_new_int64(last->written.tv_sec));
		json_object_object_add(o, "seconds_before_this_boot", json_seconds(gap(last)));
	}
	if (last->status == FTM_LAST_FOUND || last->status == FTM_LAST_NOT_OURS) {
		json_object_object_add(o, "boot", json_object_new_string("previous"));
		json_object_object_add(o, "reason", json_object_new_string(last->reason));
		json_object_object_add(o, "kernel", *last->end ? json_object_new_string(last->end) : NULL);
		json_object_object_add(o, "record_uptime", last->record_uptime >= 0 ?
				       json_seconds(last->record_uptime) : NULL);
	}
	if (last->status == FTM_LAST_FOUND) {
		json_object_object_add(o, "hook", json_object_new_string(ftm_last_hook(last)));
		/* A flush line is printed once every range of the flush is written back. */
		json_object_object_add(o, "complete", json_object_new_boolean(true));
		a = json_object_new_array();
		for (unsigned int i = 0; i < last->nflush; i++)
			json_object_array_add(a, json_flush(&last->flush[i]));
		json_object_object_add(o, "flushes", a);
	}
	return o;
}

static void print_flush(const char *label, const struct ftm_flush_line *f)
{
	char size[32];

	printf("%-10s hook=%s ranges=%u bytes=%" PRIu64 " (%s) method=%s ns=%" PRIu64 " cpu=%u",
	       label, f->hook, f->ranges, f->bytes, ftm_format_size(f->bytes, size, sizeof(size)),
	       f->method, f->ns, f->cpu);
	if (f->cpus)
		printf(" cpus=%u taken=%u", f->cpus, f->taken);
	if (f->uptime >= 0)
		printf(" at %.6f s", f->uptime);
	putchar('\n');
}

static void print_last(const struct ftm_last *last)
{
	char when[64], boot[64];

	utc(last->boot_start, boot, sizeof(boot));
	if (last->status != FTM_LAST_FOUND) {
		printf("no record: %s\n", last->why);
		return;
	}
	utc(last->written.tv_sec, when, sizeof(when));
	printf("%-10s %s\n", "ended by", ftm_last_hook(last));
	printf("%-10s %s: the kernel log as the kernel saved it %s\n", "dump", last->reason,
	       dump_when(last->reason));
	printf("%-10s %s, written %s, %.1f s before this boot started (%s)%s\n", "record",
	       last->path, when, gap(last), boot,
	       last->archived ? "; archived by systemd-pstore during this boot" : "");
	printf("%-10s the previous one\n", "boot");
	for (unsigned int i = 0; i < last->nflush; i++)
		print_flush(i + 1 == last->nflush ? "flush" : "earlier", &last->flush[i]);
	printf("%-10s yes: the flush line is printed once every range is written back\n", "complete");
	if (*last->end)
		printf("%-10s %s\n", "kernel", last->end);
}

int cmd_last(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	struct ftm_last last;
	const char *unused = NULL;
	int ret;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 0, 0, &unused);
	if (ret >= 0)
		return ret;
	ret = find_last(ctl, &last);
	if (ret < 0) {
		ctl_err("last", "this boot's start (%s/stat btime): %s", ctl->procfs_root, strerror(-ret));
		return CTL_FAIL;
	}
	if (ctl->json)
		ctl_json_print(json_last(&last));
	else
		print_last(&last);
	return last.status == FTM_LAST_FOUND ? CTL_OK : CTL_FAIL;
}

void ctl_last_status(const struct ctl *ctl, struct json_object *doc)
{
	struct ftm_last last;
	char size[32];

	if (find_last(ctl, &last) < 0) {
		if (doc)
			json_object_object_add(doc, "last_boot", NULL);
		return;
	}
	if (doc) {
		json_object_object_add(doc, "last_boot", json_last(&last));
		return;
	}
	if (last.status != FTM_LAST_FOUND) {
		printf("last boot: no record (flushtmctl last says why)\n");
		return;
	}
	const struct ftm_flush_line *f = &last.flush[last.nflush - 1];

	printf("last boot: ended by hook %s, %.1f s before this boot: %u range%s, %s, method %s, "
	       "%" PRIu64 " ns, cpu %u", f->hook, gap(&last), f->ranges, f->ranges == 1 ? "" : "s",
	       ftm_format_size(f->bytes, size, sizeof(size)), f->method, f->ns, f->cpu);
	if (f->cpus)
		printf(" of %u, %u part%s taken over", f->cpus, f->taken, f->taken == 1 ? "" : "s");
	putchar('\n');
}

void ctl_pstore_check(const struct ctl *ctl, struct json_object *doc)
{
	struct ftm_pstore_setup s;
	bool panic, restart;
	const char *says;

	ftm_pstore_setup_read(ctl->sysfs_root, &s);
	panic = *s.backend;
	/* ramoops keeps what max_reason allows; another backend's limit is not shown in sysfs. */
	restart = panic && (strcmp(s.backend, "ramoops") || s.max_reason >= CTL_DUMP_SHUTDOWN);
	if (doc) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "backend", panic ? json_object_new_string(s.backend) : NULL);
		json_object_object_add(o, "max_reason", s.max_reason >= 0 ?
				       json_object_new_int(s.max_reason) : NULL);
		json_object_object_add(o, "survives_panic", json_object_new_boolean(panic));
		json_object_object_add(o, "survives_restart", json_object_new_boolean(restart));
		json_object_object_add(o, "cmdline", json_object_new_string(CTL_PSTORE_CMDLINE));
		json_object_object_add(doc, "pstore", o);
		return;
	}
	if (!panic)
		says = "no backend registered: no flush line of this boot would survive a reset";
	else if (restart)
		says = "a panic's, an oops', a reboot's and a kexec's flush line would survive a reset";
	else if (s.max_reason < 0)
		says = "max_reason unreadable (not root?): a panic's flush line would survive a "
		       "reset, a reboot's or a kexec's only with max_reason 4";
	else
		says = "a panic's flush line would survive a reset, "
		       "a reboot's or a kexec's would not";
	if (panic && s.max_reason >= 0)
		printf("pstore: backend %s, max_reason %d: %s\n", s.backend, s.max_reason, says);
	else if (panic)
		printf("pstore: backend %s: %s\n", s.backend, says);
	else
		printf("pstore: %s\n", says);
	if (!restart)
		printf("pstore: to keep it, boot with: " CTL_PSTORE_CMDLINE
		       " (and load ramoops at boot: echo ramoops > /etc/modules-load.d/ramoops.conf)\n");
}
