// SPDX-License-Identifier: GPL-2.0
/*
 * ftm-fuzz: a seeded fuzzer of flushtm's configfs tree.
 *
 *   ftm-fuzz [--root DIR] [--iomem FILE] [--verbose] SEED COUNT
 *
 * COUNT random operations: mkdir/rmdir of range names, and writes of values
 * from many classes (empty, NUL bytes, huge, long, signed, suffixed, junk,
 * addresses in pmem, RAM, MMIO, holes, wrap-around) to every writable
 * attribute.  Invariants checked (any broken one: exit 1):
 *   - a well-formed value that was accepted reads back exactly;
 *   - start or size accepted while the range was enabled;
 *   - an enabled range not wholly inside System RAM or persistent memory of
 *     /proc/iomem (contiguous lines of one kind merged, as the module does);
 *   - a write that returned a short count.
 * It never writes to /proc/sysrq-trigger or anything outside DIR; arming the
 * panic or reboot hooks is harmless by itself.  A kernel oops during a write
 * kills the process: the caller sees its exit status.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAL_MAX		4100
#define MAX_MEM		64
#define NR_ERRNO	256

struct value {
	char buf[VAL_MAX];
	size_t len;
	bool well_formed;	/* the module must accept it (context allowing) */
	char expect[96];	/* what it reads back as when well formed */
};

struct mem_span {
	uint64_t start, end;	/* inclusive */
	int kind;		/* 0 System RAM, 1 Persistent Memory, 2 legacy */
};

struct fuzz {
	const char *root;
	bool verbose;
	uint64_t rng;
	struct mem_span mem[MAX_MEM];
	int nr_mem;
	unsigned long ops, accepted, broken;
	unsigned long refused[NR_ERRNO];
	char path[4096];
};

static const char *const hooks[] = {
	"panic", "die", "nmi", "reboot", "kexec", "cpu_offline", "exit", "aperture", "manual",
};

/* Range names: a small pool, so mkdir, writes and rmdir meet each other. */
static char long_name[256];
static const char *names[] = {
	"r0", "r1", "pmem", "ram", "with space", "dots.in.name", "...", ". .", "-x",
	"\xc3\xa9t\xc3\xa9", "\xff\xfe", "a\tb", long_name, "..", ".", "",
};
#define NR_NAMES (sizeof(names) / sizeof(names[0]))

/* xorshift64*: small, seedable, the same sequence everywhere. */
static uint64_t rnd(struct fuzz *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ULL;
}

static unsigned int pick(struct fuzz *f, unsigned int n)
{
	return (unsigned int)(rnd(f) % n);
}

static void set_str(struct value *v, const char *s)
{
	v->len = strlen(s);
	memcpy(v->buf, s, v->len);
}

/* X in decimal, after PREFIX, before SUFFIX. */
static void set_dec(struct value *v, const char *prefix, uint64_t x, const char *suffix)
{
	v->len = (size_t)snprintf(v->buf, sizeof(v->buf), "%s%" PRIu64 "%s", prefix, x, suffix);
}

/* A well-formed number, written hex or decimal, maybe with a newline. */
static void set_number(struct fuzz *f, struct value *v, uint64_t x, bool hex_readback)
{
	bool nl = pick(f, 2);

	if (pick(f, 2))
		v->len = (size_t)snprintf(v->buf, sizeof(v->buf), "0x%" PRIx64 "%s", x,
					  nl ? "\n" : "");
	else
		v->len = (size_t)snprintf(v->buf, sizeof(v->buf), "%" PRIu64 "%s", x,
					  nl ? "\n" : "");
	if (hex_readback)
		snprintf(v->expect, sizeof(v->expect), "0x%" PRIx64 "\n", x);
	else
		snprintf(v->expect, sizeof(v->expect), "%" PRIu64 "\n", x);
	v->well_formed = true;
}

/* An address: pmem, RAM (above 16 MiB), MMIO, holes, wrap-around, random. */
static uint64_t gen_addr(struct fuzz *f)
{
	static const uint64_t odd[] = {
		0xfec00000, 0xfee00000, 0xfed00000, 0xa0000, 0xc0000, 0x40000000,
		0x100000000ULL, 0xfffffffffffff000ULL, 0x23fff000, 0x1ffff000, 0,
	};

	switch (pick(f, 6)) {
	case 0:
	case 1:
		return 0x20000000 + (uint64_t)pick(f, 16384) * 4096;
	case 2:
		return 0x1000000 + (uint64_t)pick(f, 0x1e000) * 4096;
	case 3:
		return 0x24000000 + (uint64_t)pick(f, 0x1b000) * 4096;
	case 4:
		return odd[pick(f, sizeof(odd) / sizeof(odd[0]))];
	default:
		return rnd(f) & ~(pick(f, 2) ? 0xfffULL : 0);
	}
}

static uint64_t gen_size(struct fuzz *f)
{
	switch (pick(f, 5)) {
	case 0:
		return 4096;
	case 1:
		return (uint64_t)(1 + pick(f, 1024)) * 4096;
	case 2:
		return 64ULL << 20;
	case 3:
		return 1 + pick(f, 8192);
	default:
		return rnd(f);
	}
}

/* A value of a class that is no attribute's valid syntax (mostly). */
static void gen_junk(struct fuzz *f, struct value *v)
{
	static const char *const fixed[] = {
		"", "\n", "\n\n", " ", "1\0", "0x2\0" "000", "18446744073709551615",
		"18446744073709551616", "99999999999999999999999", "0xffffffffffffffff",
		"0x10000000000000000", "17179869184G", "-1", "+1", "-0", "+0x1000", "- 1",
		"4K", "4M", "1G", "1T", "4k", "4KB", "4 K", "4X", "K", "0x", "0x1g", "1e9",
		"0777", "true", "yes", "on", " 1", "1 ", "01", "2", "all ", "ALL", "auto\n\n",
		"\xe2\x82\xac", "%s%n", "../..",
	};
	size_t i;

	memset(v, 0, sizeof(*v));
	switch (pick(f, 5)) {
	case 0:
	case 1: {
		const char *s = fixed[pick(f, sizeof(fixed) / sizeof(fixed[0]))];

		/* two fixed strings carry an inner NUL: keep their length */
		if (!strcmp(s, "1"))
			v->len = pick(f, 2) ? 2 : 1;
		else if (!strcmp(s, "0x2"))
			v->len = 7;
		else
			v->len = strlen(s);
		memcpy(v->buf, s, v->len);
		break;
	}
	case 2:	/* 4000 characters */
		v->len = 4000;
		memset(v->buf, pick(f, 2) ? '1' : 'a', v->len);
		break;
	case 3:	/* binary junk */
		v->len = 1 + pick(f, 64);
		for (i = 0; i < v->len; i++)
			v->buf[i] = (char)rnd(f);
		break;
	default:	/* a number with a NUL inside */
		v->len = (size_t)snprintf(v->buf, sizeof(v->buf), "%u", pick(f, 100000));
		v->buf[pick(f, (unsigned int)v->len)] = '\0';
		break;
	}
}

static void gen_bool(struct fuzz *f, struct value *v)
{
	unsigned int b = pick(f, 2);

	set_dec(v, "", b, pick(f, 2) ? "\n" : "");
	snprintf(v->expect, sizeof(v->expect), "%u\n", b);
	v->well_formed = true;
}

/* ---- /proc/iomem --------------------------------------------------------- */

static int mem_kind(const char *name)
{
	if (!strncmp(name, "System RAM", 10))
		return 0;
	if (!strncmp(name, "Persistent Memory (legacy)", 26))
		return 2;
	if (!strncmp(name, "Persistent Memory", 17))
		return 1;
	return -1;
}

static int load_iomem(struct fuzz *f, const char *file)
{
	char line[256];
	FILE *fp = fopen(file, "r");

	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		uint64_t s, e;
		int n = 0, kind;

		if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %n", &s, &e, &n) != 2 || !n)
			continue;
		line[strcspn(line, "\n")] = '\0';
		kind = mem_kind(line + n);
		if (kind < 0 || f->nr_mem == MAX_MEM)
			continue;
		f->mem[f->nr_mem++] = (struct mem_span){ s, e, kind };
	}
	fclose(fp);
	return 0;
}

/* Is [start, end] covered, without a gap, by spans of one kind? */
static bool covered(const struct fuzz *f, uint64_t start, uint64_t end)
{
	int kind, i;

	for (kind = 0; kind < 3; kind++) {
		uint64_t next = start;
		bool grew = true;

		while (grew && next <= end) {
			grew = false;
			for (i = 0; i < f->nr_mem; i++) {
				const struct mem_span *m = &f->mem[i];

				if (m->kind == kind && m->start <= next && m->end >= next) {
					if (m->end >= end)
						return true;
					next = m->end + 1;
					grew = true;
				}
			}
		}
	}
	return false;
}

/* ---- configfs I/O ---------------------------------------------------------- */

static const char *at(struct fuzz *f, const char *rel)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->root, rel);
	return f->path;
}

/* Read a whole attribute; returns its length or -errno. */
static ssize_t read_attr(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return -errno;
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return (ssize_t)n;
}

static void note(struct fuzz *f, int err)
{
	f->ops++;
	if (!err)
		f->accepted++;
	else
		f->refused[err < NR_ERRNO ? err : 0]++;
}

static void broke(struct fuzz *f, const char *what, const char *path)
{
	f->broken++;
	fprintf(stderr, "ftm-fuzz: BROKEN after op %lu: %s: %s\n", f->ops, path, what);
}

/* One write(2) of the value; 0 or errno. */
static int write_attr(struct fuzz *f, const char *path, const struct value *v)
{
	ssize_t n;
	int fd = open(path, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	n = write(fd, v->buf, v->len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != v->len)
		broke(f, "short write", path);
	if (close(fd) && !err)
		err = errno;
	return err;
}

static void check_readback(struct fuzz *f, const char *path, const struct value *v)
{
	char got[256];
	char why[512];

	if (read_attr(path, got, sizeof(got)) < 0) {
		broke(f, "cannot read back", path);
		return;
	}
	if (strcmp(got, v->expect)) {
		snprintf(why, sizeof(why), "read back \"%.*s\", expected \"%.*s\"",
			 (int)strcspn(got, "\n"), got, (int)strcspn(v->expect, "\n"), v->expect);
		broke(f, why, path);
	}
}

/* Every enabled range lies in memory of /proc/iomem. */
static void check_ranges(struct fuzz *f)
{
	char dir[3800], p[4352], buf[128];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/ranges", f->root);
	d = opendir(dir);
	if (!d) {
		broke(f, "cannot list ranges", dir);
		return;
	}
	while ((de = readdir(d))) {
		uint64_t start, size;

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(p, sizeof(p), "%s/%s/enabled", dir, de->d_name);
		if (read_attr(p, buf, sizeof(buf)) < 0 || strcmp(buf, "1\n"))
			continue;
		snprintf(p, sizeof(p), "%s/%s/start", dir, de->d_name);
		if (read_attr(p, buf, sizeof(buf)) < 0 || sscanf(buf, "%" SCNx64, &start) != 1) {
			broke(f, "unreadable start of an enabled range", p);
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s/size", dir, de->d_name);
		if (read_attr(p, buf, sizeof(buf)) < 0 || sscanf(buf, "%" SCNu64, &size) != 1) {
			broke(f, "unreadable size of an enabled range", p);
			continue;
		}
		if (!size || start + size - 1 < start || !covered(f, start, start + size - 1)) {
			snprintf(buf, sizeof(buf), "enabled 0x%" PRIx64 "+%" PRIu64
				 " is not memory", start, size);
			broke(f, buf, p);
		}
	}
	closedir(d);
}

/* ---- operations ------------------------------------------------------------ */

static void op_mkdir_rmdir(struct fuzz *f, bool make)
{
	char rel[512];
	int err = 0;

	snprintf(rel, sizeof(rel), "ranges/%s", names[pick(f, NR_NAMES)]);
	if ((make ? mkdir(at(f, rel), 0755) : rmdir(at(f, rel))) < 0)
		err = errno;
	note(f, err);
	if (f->verbose)
		fprintf(stderr, "%s %s: %s\n", make ? "mkdir" : "rmdir", f->path, strerror(err));
}

static void op_write(struct fuzz *f)
{
	static const char *const range_attrs[] = { "start", "size", "enabled", "owner" };
	static const char *const methods[] = { "auto", "lines", "cache" };
	static struct value v;
	char rel[512], state[16] = "";
	const char *attr;
	bool range = false, busy_if_enabled = false;
	int err;

	memset(&v, 0, sizeof(v));
	switch (pick(f, 10)) {
	case 0:
		attr = "method";
		snprintf(rel, sizeof(rel), "%s", attr);
		if (pick(f, 2)) {
			const char *m = methods[pick(f, 3)];

			set_str(&v, m);
			if (pick(f, 2))
				v.buf[v.len++] = '\n';
			snprintf(v.expect, sizeof(v.expect), "%s\n", m);
			v.well_formed = true;
		}
		break;
	case 1:
		attr = "cache_threshold";
		snprintf(rel, sizeof(rel), "%s", attr);
		if (pick(f, 2))
			set_number(f, &v, gen_size(f), false);
		break;
	case 2:
		attr = "flush";
		snprintf(rel, sizeof(rel), "%s", attr);
		if (pick(f, 2))
			set_str(&v, pick(f, 2) ? "all" : names[pick(f, NR_NAMES)]);
		break;
	case 3:
		attr = "enabled";
		snprintf(rel, sizeof(rel), "hooks/%s/enabled",
			 hooks[pick(f, sizeof(hooks) / sizeof(hooks[0]))]);
		if (pick(f, 3))
			gen_bool(f, &v);
		break;
	case 4: {
		uint64_t pid;

		attr = "pids";
		snprintf(rel, sizeof(rel), "hooks/exit/pids");
		switch (pick(f, 4)) {
		case 0:
			pid = (uint64_t)getpid();
			break;
		case 1:
			pid = 1;
			break;
		case 2:
			pid = (uint64_t)getppid();
			break;
		default:
			pid = rnd(f) % 5000000;
			break;
		}
		if (pick(f, 3))
			set_dec(&v, pick(f, 2) ? "-" : "", pid, pick(f, 2) ? "\n" : "");
		break;
	}
	default: {
		const char *name = names[pick(f, NR_NAMES)];

		range = true;
		attr = range_attrs[pick(f, 4)];
		snprintf(rel, sizeof(rel), "ranges/%s/%s", name, attr);
		if (!strcmp(attr, "start") || !strcmp(attr, "size")) {
			char en[512];

			busy_if_enabled = true;
			snprintf(en, sizeof(en), "ranges/%s/enabled", name);
			if (read_attr(at(f, en), state, sizeof(state)) < 0)
				state[0] = '\0';
		}
		if (pick(f, 3) == 0)
			break;
		if (!strcmp(attr, "start")) {
			set_number(f, &v, gen_addr(f), true);
		} else if (!strcmp(attr, "size")) {
			uint64_t s = gen_size(f);

			if (!pick(f, 3) && s && !(s & ((1ULL << 20) - 1))) {
				set_dec(&v, "", s >> 20, "M");
				snprintf(v.expect, sizeof(v.expect), "%" PRIu64 "\n", s);
				v.well_formed = true;
			} else {
				set_number(f, &v, s, false);
			}
		} else if (!strcmp(attr, "enabled")) {
			gen_bool(f, &v);
			/* more often on than off, so that validation runs a lot */
			if (pick(f, 3)) {
				set_str(&v, "1");
				strcpy(v.expect, "1\n");
			}
		} else {
			size_t n = 1 + pick(f, 70), i;

			for (i = 0; i < n; i++)
				v.buf[i] = (char)(' ' + pick(f, 95));
			v.len = n;
			snprintf(v.expect, sizeof(v.expect), "%.*s\n", (int)n, v.buf);
			v.well_formed = n <= 64;
		}
		break;
	}
	}
	if (!v.well_formed && !v.len && !v.expect[0])
		gen_junk(f, &v);

	err = write_attr(f, at(f, rel), &v);
	note(f, err);
	if (f->verbose)
		fprintf(stderr, "write %s (%zu bytes%s): %s\n", f->path, v.len,
			v.well_formed ? ", well formed" : "", strerror(err));
	if (!err && busy_if_enabled && !strcmp(state, "1\n"))
		broke(f, "accepted while the range was enabled", f->path);
	/* flush and pids have no exact read-back; method cache may be refused */
	if (!err && v.well_formed && strcmp(attr, "flush") && strcmp(attr, "pids"))
		check_readback(f, f->path, &v);
	if (!err && range)
		check_ranges(f);
}

static const char *errno_name(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case EBUSY: return "EBUSY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EEXIST: return "EEXIST";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOTDIR: return "ENOTDIR";
	case EACCES: return "EACCES";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EIO: return "EIO";
	case ENOTEMPTY: return "ENOTEMPTY";
	default: return NULL;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: ftm-fuzz [--root DIR] [--iomem FILE] [--verbose] SEED COUNT\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct fuzz f = { .root = "/sys/kernel/config/flushtm" };
	const char *iomem = "/proc/iomem";
	unsigned long count, i;
	char *end;
	int ret, a = 1, e;

	for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
		if (!strcmp(argv[a], "--root") && a + 1 < argc)
			f.root = argv[++a];
		else if (!strcmp(argv[a], "--iomem") && a + 1 < argc)
			iomem = argv[++a];
		else if (!strcmp(argv[a], "--verbose"))
			f.verbose = true;
		else
			return usage();
	}
	if (argc - a != 2)
		return usage();
	f.rng = strtoull(argv[a], &end, 0) * 0x9e3779b97f4a7c15ULL + 1;
	if (*end)
		return usage();
	count = strtoul(argv[a + 1], &end, 0);
	if (*end)
		return usage();
	memset(long_name, 'n', sizeof(long_name) - 1);

	ret = load_iomem(&f, iomem);
	if (ret || !f.nr_mem) {
		fprintf(stderr, "ftm-fuzz: %s: %s\n", iomem,
			ret ? strerror(-ret) : "no memory lines (not root?)");
		return 1;
	}
	for (i = 0; i < count; i++) {
		switch (pick(&f, 10)) {
		case 0:
			op_mkdir_rmdir(&f, true);
			break;
		case 1:
			op_mkdir_rmdir(&f, false);
			break;
		default:
			op_write(&f);
			break;
		}
	}
	check_ranges(&f);

	printf("ftm-fuzz: seed %s: ops %lu accepted %lu refused", argv[a], f.ops, f.accepted);
	for (e = 0; e < NR_ERRNO; e++) {
		const char *n = errno_name(e);

		if (!f.refused[e])
			continue;
		if (n)
			printf(" %s=%lu", n, f.refused[e]);
		else
			printf(" errno%d=%lu", e, f.refused[e]);
	}
	printf(" broken %lu\n", f.broken);
	return f.broken ? 1 : 0;
}
