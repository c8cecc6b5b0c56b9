/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What flushtm did before the last reset, read back from the kernel's own
 * persistent log (pstore): the kernel log tail that a pstore backend (ramoops
 * on reserved RAM) saved at the panic, oops, emergency restart or shutdown
 * dump (kmsg_dump) of the previous boot, and the flushtm flush lines in it.
 *
 * Where it looks: the pstore file system (/sys/fs/pstore: dmesg-BACKEND-ID,
 * ".enc.z" when the kernel could not decompress it) and systemd-pstore's
 * archive (/var/lib/systemd/pstore, FILE or DIR/FILE), where systemd-pstore
 * moves the records at each boot and empties pstore.
 *
 * Which boot wrote a record: a record written at or after this boot's start
 * (btime) is this boot's; an archived record that systemd-pstore moved before
 * this boot started was collected by an earlier boot, so it is from two or
 * more boots ago.  The newest record older than this boot, in pstore or moved
 * during this boot, is the previous boot's.  Where nothing empties pstore at
 * boot (no systemd-pstore) a boot that ended with no dump at all (power cut,
 * hardware reset) leaves the record of the boot before it; nothing in a
 * record tells those apart.
 */
#ifndef FTM_PSTORE_H
#define FTM_PSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define FTM_PSTORE_DEFAULT	"/sys/fs/pstore"
#define FTM_PSTORE_ARCHIVE	"/var/lib/systemd/pstore"
#define FTM_PSTORE_ENV		"FLUSHTM_PSTORE"
#define FTM_PSTORE_ARCHIVE_ENV	"FLUSHTM_PSTORE_ARCHIVE"

/* One "flushtm: flush hook=... cpu=N" line of the record. */
struct ftm_flush_line {
	char hook[16];
	char method[8];
	unsigned int ranges;
	uint64_t bytes;
	uint64_t ns;
	unsigned int cpu;
	/* A crash flush split over the stopping CPUs: how many walked, and how
	 * many parts the flushing CPU took over (cpus= taken=); 0 0 if unsplit. */
	unsigned int cpus;
	unsigned int taken;
	double uptime;		/* the line's [seconds] since its boot, -1 if none */
};

#define FTM_LAST_FLUSH_MAX	16

enum ftm_last_status {
	FTM_LAST_FOUND,		/* the previous boot's record, with flush lines */
	FTM_LAST_NO_PSTORE,	/* no pstore file system, no archive */
	FTM_LAST_NO_BACKEND,	/* pstore without a backend, nothing archived */
	FTM_LAST_NONE,		/* no kernel log record from before this boot */
	FTM_LAST_OLDER,		/* the newest one is from two or more boots ago */
	FTM_LAST_COMPRESSED,	/* the record is compressed (.enc.z): unreadable */
	FTM_LAST_NOT_OURS,	/* a record, but no flushtm flush line in it */
	FTM_LAST_BAD,		/* not a kernel log dump, or a flush line cut short */
	FTM_LAST_UNREADABLE,	/* read error */
};

struct ftm_last {
	enum ftm_last_status status;
	char why[512];		/* for every status but FOUND; FOUND: "" */
	char path[4096];	/* the record looked at, "" if none */
	bool archived;		/* it lies in systemd-pstore's archive */
	char reason[16];	/* "Panic", "Oops", "Shutdown", "Emergency", ... */
	struct timespec written;	/* when the dump was written (the file's mtime) */
	time_t boot_start;	/* this boot's start (btime) */
	double record_uptime;	/* the record's last line's [seconds], -1 if none */
	unsigned int nflush;
	struct ftm_flush_line flush[FTM_LAST_FLUSH_MAX];
	char end[96];		/* the kernel's last word: "Kernel panic - ...", "Restarting system", "" */
};

struct ftm_pstore_paths {
	const char *pstore;	/* /sys/fs/pstore */
	const char *archive;	/* /var/lib/systemd/pstore */
	const char *sysfs;	/* /sys (module/pstore/parameters/backend) */
	const char *procfs;	/* /proc (stat: btime) */
};

/* The paths from FTM_PSTORE_ENV, FTM_PSTORE_ARCHIVE_ENV, else the defaults. */
void ftm_pstore_paths_default(struct ftm_pstore_paths *p, const char *sysfs, const char *procfs);

/*
 * Finds the previous boot's record and parses its flush lines into *last.
 * Returns 0 with last->status set (FOUND or why not), or a negative errno
 * when this boot's start cannot be read.
 */
int ftm_last_find(const struct ftm_pstore_paths *p, struct ftm_last *last);

/* "panic", "reboot", ...: the hook of the last flush line, NULL if none. */
const char *ftm_last_hook(const struct ftm_last *last);
/* A word for the status: "found", "none", "older", "compressed", ... */
const char *ftm_last_status_name(enum ftm_last_status s);

/*
 * Parses one kernel log line ("<0>[   12.3] flushtm: flush hook=...").
 * Returns 1 for a complete flush line, 0 for another line, -EBADMSG for a
 * flush line cut short or malformed.
 */
int ftm_flush_line_parse(const char *line, struct ftm_flush_line *out);

/*
 * What a pstore backend would keep of this boot: the registered backend
 * ("ramoops", "" for none), ramoops' max_reason (-1 when unreadable: the
 * parameter is root-only), whether systemd-pstore would archive it.
 */
struct ftm_pstore_setup {
	char backend[32];
	int max_reason;
	bool ramoops_loaded;
};
int ftm_pstore_setup_read(const char *sysfs, struct ftm_pstore_setup *s);

#endif /* FTM_PSTORE_H */
