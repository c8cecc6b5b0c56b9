// SPDX-License-Identifier: LGPL-2.1-or-later
/* The previous boot's flush lines, from the kernel's persistent log (see ftm_pstore.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <fcntl.h>
#include <unistd.h>

#include "ftm_pstore.h"

/* fs/pstore/inode.c: PSTOREFS_MAGIC (include/uapi/linux/magic.h). */
#define PSTOREFS_MAGIC	0x6165676C
/* A ramoops record is at most its record_size; a kmsg dump of 10 KiB is the default. */
#define RECORD_MAX	(4u << 20)

void ftm_pstore_paths_default(struct ftm_pstore_paths *p, const char *sysfs, const char *procfs)
{
	const char *e;

	e = getenv(FTM_PSTORE_ENV);
	p->pstore = e && *e ? e : FTM_PSTORE_DEFAULT;
	e = getenv(FTM_PSTORE_ARCHIVE_ENV);
	p->archive = e && *e ? e : FTM_PSTORE_ARCHIVE;
	p->sysfs = sysfs;
	p->procfs = procfs;
}

const char *ftm_last_status_name(enum ftm_last_status s)
{
	switch (s) {
	case FTM_LAST_FOUND: return "found";
	case FTM_LAST_NO_PSTORE: return "no-pstore";
	case FTM_LAST_NO_BACKEND: return "no-backend";
	case FTM_LAST_NONE: return "none";
	case FTM_LAST_OLDER: return "older";
	case FTM_LAST_COMPRESSED: return "compressed";
	case FTM_LAST_NOT_OURS: return "not-ours";
	case FTM_LAST_BAD: return "bad";
	case FTM_LAST_UNREADABLE: return "unreadable";
	}
	return "?";
}

const char *ftm_last_hook(const struct ftm_last *last)
{
	return last->nflush ? last->flush[last->nflush - 1].hook : NULL;
}

/* The text after the "<N>" level and "[  seconds]" stamp of a kernel log line. */
static const char *log_text(const char *line, double *uptime)
{
	const char *p = line;
	char *end;

	*uptime = -1;
	if (*p == '<') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p != '>')
			return line;
		p++;
	}
	if (*p == '[') {
		double t = strtod(p + 1, &end);

		if (end != p + 1 && *end == ']') {
			*uptime = t;
			p = end + 1;
			if (*p == ' ')
				p++;
		}
	}
	return p;
}

/* "key=" then the value up to a space; returns the text after it, NULL when absent. */
static const char *field(const char *p, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key), n = 0;

	if (strncmp(p, key, klen) || p[klen] != '=')
		return NULL;
	p += klen + 1;
	while (p[n] && p[n] != ' ' && p[n] != '\n')
		n++;
	if (n == 0 || n >= size)
		return NULL;
	memcpy(val, p, n);
	val[n] = '\0';
	p += n;
	return *p == ' ' ? p + 1 : p;
}

static bool decimal(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

int ftm_flush_line_parse(const char *line, struct ftm_flush_line *out)
{
	static const char prefix[] = "flushtm: flush ";
	char ranges[16], bytes[24], ns[24], cpu[12];
	uint64_t v;
	double uptime;
	const char *p = log_text(line, &uptime);

	if (strncmp(p, prefix, sizeof(prefix) - 1))
		return 0;
	p += sizeof(prefix) - 1;
	/* Other "flushtm: flush ..." lines would not start with hook=. */
	if (strncmp(p, "hook=", 5))
		return 0;
	memset(out, 0, sizeof(*out));
	out->uptime = uptime;
	if (!(p = field(p, "hook", out->hook, sizeof(out->hook))) ||
	    !(p = field(p, "ranges", ranges, sizeof(ranges))) ||
	    !(p = field(p, "bytes", bytes, sizeof(bytes))) ||
	    !(p = field(p, "method", out->method, sizeof(out->method))) ||
	    !(p = field(p, "ns", ns, sizeof(ns))) ||
	    !(p = field(p, "cpu", cpu, sizeof(cpu))))
		return -EBADMSG;
	/* A split crash flush says how many CPUs took part and took over. */
	if (!strncmp(p, "cpus=", 5)) {
		char cpus[12], taken[12];

		if (!(p = field(p, "cpus", cpus, sizeof(cpus))) ||
		    !(p = field(p, "taken", taken, sizeof(taken))) ||
		    !decimal(cpus, INT32_MAX, &v) || !v)
			return -EBADMSG;
		out->cpus = (unsigned int)v;
		if (!decimal(taken, INT32_MAX, &v) || v > out->cpus)
			return -EBADMSG;
		out->taken = (unsigned int)v;
	}
	/* Fields a later module may add after these are skipped, but must be whole. */
	while (*p && *p != '\n') {
		size_t key = strcspn(p, "= \n");

		if (!key || p[key] != '=' || !p[key + 1] || p[key + 1] == ' ' || p[key + 1] == '\n')
			return -EBADMSG;
		p += key + 1 + strcspn(p + key + 1, " \n");
		if (*p == ' ')
			p++;
	}
	if (strcmp(out->method, "lines") && strcmp(out->method, "cache"))
		return -EBADMSG;
	if (!decimal(ranges, UINT32_MAX, &v))
		return -EBADMSG;
	out->ranges = (unsigned int)v;
	if (!decimal(bytes, UINT64_MAX, &out->bytes) || !decimal(ns, UINT64_MAX, &out->ns))
		return -EBADMSG;
	if (!decimal(cpu, INT32_MAX, &v))
		return -EBADMSG;
	out->cpu = (unsigned int)v;
	return 1;
}

/*
 * This boot's start, as /proc/stat's btime says it: the real time less the
 * time since boot, in whole seconds.  From the clocks (vDSO, no system call)
 * for the real /proc, since status reads it on every run; from the file for
 * another procfs root (tests), or when the clocks were not read close enough
 * together to agree with the kernel's own subtraction.
 */
static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int read_btime(const char *procfs, time_t *btime)
{
	char path[4096], line[256];
	struct timespec real, boot1, boot2;
	long long v, boot_ns;
	FILE *f;
	int ret = -ENOENT;

	/*
	 * The boot clock read on both sides of the real one, and their midpoint
	 * taken: one read after the other was late by the time between them,
	 * which put btime a second early when the offset's fraction was small
	 * (seen on a debug kernel).  Preempted in between: ask the kernel.
	 */
	if (!strcmp(procfs, "/proc") && !clock_gettime(CLOCK_BOOTTIME, &boot1) &&
	    !clock_gettime(CLOCK_REALTIME, &real) && !clock_gettime(CLOCK_BOOTTIME, &boot2) &&
	    ns_of(&boot2) - ns_of(&boot1) < 100000) {
		boot_ns = ns_of(&boot1) + (ns_of(&boot2) - ns_of(&boot1)) / 2;
		v = ns_of(&real) - boot_ns;
		*btime = (time_t)(v / 1000000000LL);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/stat", procfs);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &v) == 1) {
			*btime = (time_t)v;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* One sysfs value, its newline removed; "" when it cannot be read. */
static int read_value(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int ftm_pstore_setup_read(const char *sysfs, struct ftm_pstore_setup *s)
{
	char path[4096], buf[64];
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->max_reason = -1;
	snprintf(path, sizeof(path), "%s/module/pstore/parameters/backend", sysfs);
	read_value(path, s->backend, sizeof(s->backend));
	if (!strcmp(s->backend, "(null)"))
		s->backend[0] = '\0';
	snprintf(path, sizeof(path), "%s/module/ramoops", sysfs);
	s->ramoops_loaded = !stat(path, &st);
	snprintf(path, sizeof(path), "%s/module/ramoops/parameters/max_reason", sysfs);
	if (!read_value(path, buf, sizeof(buf)) && *buf) {
		char *end;
		long v = strtol(buf, &end, 10);

		if (!*end)
			s->max_reason = (int)v;
	}
	return 0;
}

struct candidate {
	char path[4096];
	struct timespec mtime, ctime;
	bool archived, compressed;
	bool found;
};

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * Considers DIR/NAME: a dmesg record written before this boot (its mtime is
 * the dump's time) and newer than *best.  A pstore record wins a tie with an
 * archived copy of it.
 */
static void consider(const char *dir, const char *name, bool archived, time_t boot,
		     struct candidate *best, unsigned int *seen)
{
	struct candidate c = { .archived = archived };
	struct stat st;
	size_t len = strlen(name);

	if (strncmp(name, "dmesg-", 6))
		return;
	if ((size_t)snprintf(c.path, sizeof(c.path), "%s/%s", dir, name) >= sizeof(c.path))
		return;
	if (stat(c.path, &st) || !S_ISREG(st.st_mode))
		return;
	(*seen)++;
	/* btime is whole seconds, rounded down: a dump in the second this boot began is older. */
	if (st.st_mtim.tv_sec > boot)
		return;
	c.mtime = st.st_mtim;
	c.ctime = st.st_ctim;
	c.compressed = len > 6 && !strcmp(name + len - 6, ".enc.z");
	c.found = true;
	if (!best->found || ts_after(&c.mtime, &best->mtime) ||
	    (!ts_after(&best->mtime, &c.mtime) && best->archived && !archived))
		*best = c;
}

static void scan(const char *dir, bool archived, int depth, time_t boot,
		 struct candidate *best, unsigned int *seen, unsigned int *entries)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		(*entries)++;
		if (depth > 0 && e->d_type == DT_DIR) {
			char sub[4096];

			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < sizeof(sub))
				scan(sub, archived, depth - 1, boot, best, seen, entries);
			continue;
		}
		consider(dir, e->d_name, archived, boot, best, seen);
	}
	closedir(d);
}

/*
 * The kernel's last words before the dump, as far as they say how the boot
 * ended; after a prefix of its own ("reboot: ", "kexec_core: ") or none.
 */
static void note_end(struct ftm_last *last, const char *text)
{
	static const char *const ends[] = {
		"Kernel panic - not syncing", "Restarting system", "Starting new kernel",
		"System halted", "Power down",
	};

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		const char *at = strstr(text, ends[i]);

		if (at && (at == text || (at - text < 32 && at[-1] == ' ' && at[-2] == ':'))) {
			snprintf(last->end, sizeof(last->end), "%.*s", (int)strcspn(text, "\n"), text);
			return;
		}
	}
}

__attribute__((format(printf, 3, 4)))
static int verdict(struct ftm_last *last, enum ftm_last_status s, const char *fmt, ...)
{
	va_list ap;

	last->status = s;
	va_start(ap, fmt);
	vsnprintf(last->why, sizeof(last->why), fmt, ap);
	va_end(ap);
	return 0;
}

/* Reads the record at last->path: its header, its flush lines. */
static int parse_record(struct ftm_last *last)
{
	char *buf, *line, *next;
	unsigned int count, part;
	size_t n;
	FILE *f;
	int ret;

	f = fopen(last->path, "re");
	if (!f)
		return verdict(last, FTM_LAST_UNREADABLE, "%s: %s", last->path, strerror(errno));
	buf = malloc(RECORD_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, RECORD_MAX, f);
	ret = ferror(f) ? -errno : 0;
	fclose(f);
	if (ret) {
		free(buf);
		return verdict(last, FTM_LAST_UNREADABLE, "%s: %s", last->path, strerror(-ret));
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		free(buf);
		return verdict(last, FTM_LAST_BAD, "%s: binary data, not a kernel log dump "
			       "(a compressed record the kernel did not decompress?)", last->path);
	}
	/* pstore's own header: "Panic#1 Part1" (fs/pstore/platform.c, pstore_dump). */
	if (sscanf(buf, "%15[A-Za-z]#%u Part%u\n", last->reason, &count, &part) != 3 ||
	    buf[strcspn(buf, "\n")] != '\n') {
		free(buf);
		last->reason[0] = '\0';
		return verdict(last, FTM_LAST_BAD, "%s: no \"Reason#N PartN\" header: "
			       "not a kernel log dump", last->path);
	}
	last->record_uptime = -1;
	for (line = strchr(buf, '\n') + 1; *line; line = next) {
		struct ftm_flush_line fl;
		double uptime;
		const char *text;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		text = log_text(line, &uptime);
		if (uptime >= 0)
			last->record_uptime = uptime;
		note_end(last, text);
		ret = ftm_flush_line_parse(line, &fl);
		if (ret < 0) {
			last->nflush = 0;
			verdict(last, FTM_LAST_BAD, "%s: a flush line cut short or malformed: %.200s",
				last->path, text);
			free(buf);
			return 0;
		}
		if (ret == 0)
			continue;
		if (last->nflush == FTM_LAST_FLUSH_MAX) {
			memmove(last->flush, last->flush + 1, sizeof(last->flush[0]) * (FTM_LAST_FLUSH_MAX - 1));
			last->nflush--;
		}
		last->flush[last->nflush++] = fl;
	}
	free(buf);
	if (!last->nflush)
		return verdict(last, FTM_LAST_NOT_OURS, "%s: a %s record of the previous boot, "
			       "with no flushtm flush line in it (module not loaded, hook not armed, "
			       "no enabled range, or the flush did not finish)", last->path, last->reason);
	last->status = FTM_LAST_FOUND;
	last->why[0] = '\0';
	return 0;
}

int ftm_last_find(const struct ftm_pstore_paths *p, struct ftm_last *last)
{
	struct candidate best = { .found = false };
	struct ftm_pstore_setup setup;
	unsigned int seen = 0, entries = 0, archive_entries = 0;
	struct statfs sfs;
	struct stat st;
	bool mounted;
	time_t boot = 0;
	int ret;

	memset(last, 0, sizeof(*last));
	last->record_uptime = -1;
	ret = read_btime(p->procfs, &boot);
	if (ret < 0)
		return ret;
	last->boot_start = boot;

	scan(p->pstore, false, 0, boot, &best, &seen, &entries);
	mounted = entries > 0 || (!statfs(p->pstore, &sfs) && sfs.f_type == PSTOREFS_MAGIC);
	scan(p->archive, true, 1, boot, &best, &seen, &archive_entries);

	if (!best.found) {
		ftm_pstore_setup_read(p->sysfs, &setup);
		if (seen)
			return verdict(last, FTM_LAST_NONE, "every kernel log record in %s%s%s was "
				       "written during this boot", p->pstore,
				       archive_entries ? " and " : "", archive_entries ? p->archive : "");
		if (!mounted && stat(p->archive, &st))
			return verdict(last, FTM_LAST_NO_PSTORE, "%s is not a mounted pstore file system "
				       "(mount -t pstore pstore %s) and %s does not exist", p->pstore,
				       p->pstore, p->archive);
		if (!*setup.backend)
			return verdict(last, FTM_LAST_NO_BACKEND, "no pstore backend is registered in this "
				       "boot (modprobe ramoops, with ramoops.mem_address= on the kernel "
				       "command line): the previous boot's record cannot be read");
		if (!mounted)
			return verdict(last, FTM_LAST_NO_PSTORE, "%s is not mounted (mount -t pstore "
				       "pstore %s)", p->pstore, p->pstore);
		return verdict(last, FTM_LAST_NONE, "no kernel log record from before this boot in %s "
			       "or %s (the previous boot ended with no dump: a power cut, a hardware "
			       "reset, or a dump reason above ramoops.max_reason)", p->pstore, p->archive);
	}
	snprintf(last->path, sizeof(last->path), "%s", best.path);
	last->archived = best.archived;
	last->written = best.mtime;
	/* systemd-pstore empties pstore at each boot: what it moved before this one started is older. */
	if (best.archived && best.ctime.tv_sec < boot)
		return verdict(last, FTM_LAST_OLDER, "the newest record, %s, was archived by "
			       "systemd-pstore before this boot started: it is from two or more boots "
			       "ago, and the previous boot left none", best.path);
	if (best.compressed)
		return verdict(last, FTM_LAST_COMPRESSED, "%s: compressed by the backend and not "
			       "decompressed by this kernel: unreadable", best.path);
	return parse_record(last);
}
