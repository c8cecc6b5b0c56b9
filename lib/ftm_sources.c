// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The apertures of persistent memory the system has now: libnvdimm
 * namespaces, DAX devices, /proc/iomem.  See ftm_sources.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftm_sources.h"

/* In specificity order (ftm_apertures_fold()). */
static const struct {
	unsigned int bit;
	const char *name;
} source_names[FTM_NR_SOURCES] = {
	{ FTM_SRC_ND, "nd" },
	{ FTM_SRC_DAX, "dax" },
	{ FTM_SRC_IOMEM, "iomem" },
	{ FTM_SRC_RESERVE_MEM, "reserve_mem" },
};

unsigned int ftm_source_bit(unsigned int i)
{
	return i < FTM_NR_SOURCES ? source_names[i].bit : 0;
}

const char *ftm_sources_format(unsigned int bits, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (unsigned int i = 0; i < FTM_NR_SOURCES; i++) {
		int got;

		if (!(bits & source_names[i].bit))
			continue;
		got = snprintf(buf + off, len - off, "%s%s", off ? " " : "", source_names[i].name);
		if (got < 0 || (size_t)got >= len - off)
			break;
		off += (size_t)got;
	}
	if (!off)
		snprintf(buf, len, "none");
	return buf;
}

/* The index of a source name in source_names, or FTM_NR_SOURCES. */
static unsigned int source_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < FTM_NR_SOURCES && name; i++)
		if (strcmp(source_names[i].name, name) == 0)
			return i;
	return FTM_NR_SOURCES;
}

const char *ftm_source_name(unsigned int bit)
{
	for (size_t i = 0; i < sizeof(source_names) / sizeof(source_names[0]); i++)
		if (source_names[i].bit == bit)
			return source_names[i].name;
	return NULL;
}

int ftm_source_parse(const char *word, unsigned int *bit)
{
	for (size_t i = 0; i < sizeof(source_names) / sizeof(source_names[0]); i++) {
		if (strcmp(source_names[i].name, word) == 0) {
			*bit = source_names[i].bit;
			return 0;
		}
	}
	return -EINVAL;
}

int ftm_aperture_set(struct ftm_aperture *ap, const char *source, const char *device,
		     uint64_t start, uint64_t size)
{
	int len;

	memset(ap, 0, sizeof(*ap));
	if (strlen(device) >= sizeof(ap->device))
		return -ENAMETOOLONG;
	strcpy(ap->device, device);
	len = snprintf(ap->name, sizeof(ap->name), FTM_DAEMON_PREFIX "%s-%s", source, device);
	if (len < 0 || (size_t)len >= sizeof(ap->name))
		return -ENAMETOOLONG;
	/* A configfs name is one path component; keep it to a portable alphabet. */
	for (char *p = ap->name + strlen(FTM_DAEMON_PREFIX) + strlen(source) + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '_';
	ap->source = source;
	ap->start = start;
	ap->size = size;
	return 0;
}

static int aperture_append(struct ftm_aperture **out, size_t *n, const char *source,
			   const char *device, uint64_t start, uint64_t size)
{
	struct ftm_aperture *grown;
	int rc;

	/* Capacity is 4, then doubles each time *n reaches a power of two. */
	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		grown = realloc(*out, (*n ? *n * 2 : 4) * sizeof(**out));
		if (!grown)
			return -ENOMEM;
		*out = grown;
	}
	rc = ftm_aperture_set(&(*out)[*n], source, device, start, size);
	if (rc < 0)
		return rc;
	(*n)++;
	return 0;
}

/* dir + "/" + name into buf; -ENAMETOOLONG when it does not fit. */
static int path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int got = snprintf(buf, len, "%s/%s", dir, name);

	return got < 0 || (size_t)got >= len ? -ENAMETOOLONG : 0;
}

/* Reads one sysfs value, trailing whitespace removed. */
static int sysfs_read(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t got;
	int fd;

	if (path_join(path, sizeof(path), dir, attr) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = read(fd, buf, len - 1);
	if (got < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	while (got > 0 && isspace((unsigned char)buf[got - 1]))
		got--;
	buf[got] = '\0';
	return 0;
}

static int sysfs_read_u64(const char *dir, const char *attr, uint64_t *val)
{
	char buf[64], *end;
	int rc;

	rc = sysfs_read(dir, attr, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

static bool has_driver(const char *dir)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), dir, "driver") < 0)
		return false;
	return access(path, F_OK) == 0;
}

static bool name_has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* Directory entries starting with prefix, sorted by version order. */
static int list_dir(const char *dir, const char *prefix, struct dirent ***ents)
{
	int nr, kept = 0;

	nr = scandir(dir, ents, NULL, versionsort);
	if (nr < 0) {
		*ents = NULL;
		return errno == ENOENT ? 0 : -errno;
	}
	/* Drop what does not match in place; scandir's filter takes no context. */

	for (int i = 0; i < nr; i++) {
		if (name_has_prefix((*ents)[i]->d_name, prefix))
			(*ents)[kept++] = (*ents)[i];
		else
			free((*ents)[i]);
	}
	if (kept == 0) {
		free(*ents);
		*ents = NULL;
	}
	return kept;
}

static void free_dir(struct dirent **ents, int nr)
{
	for (int i = 0; i < nr; i++)
		free(ents[i]);
	free(ents);
}

/*
 * A namespace in fsdax, devdax or sector mode is claimed by a pfn, dax or btt
 * device: the namespace itself stays unbound and the claim is what the driver
 * binds.  Active means either is bound.
 */
static bool nd_claim_active(const char *bus, const char *ns)
{
	static const char *const claims[] = { "pfn", "dax", "btt" };
	struct dirent **ents;
	char dir[PATH_MAX], owner[64];
	bool active = false;
	int nr;

	for (size_t c = 0; c < sizeof(claims) / sizeof(claims[0]) && !active; c++) {
		nr = list_dir(bus, claims[c], &ents);
		if (nr <= 0)
			continue;
		for (int i = 0; i < nr && !active; i++) {
			if (path_join(dir, sizeof(dir), bus, ents[i]->d_name) < 0)
				continue;
			if (sysfs_read(dir, "namespace", owner, sizeof(owner)) == 0 &&
			    strcmp(owner, ns) == 0 && has_driver(dir))
				active = true;
		}
		free_dir(ents, nr);
	}
	return active;
}

int ftm_scan_nd(const char *sysfs_root, struct ftm_aperture **out, size_t *n)
{
	struct dirent **ents;
	char bus[PATH_MAX], dir[PATH_MAX];
	uint64_t start, size;
	int nr, rc = 0;

	snprintf(bus, sizeof(bus), "%s/bus/nd/devices", sysfs_root);
	nr = list_dir(bus, "namespace", &ents);
	if (nr <= 0)
		return nr;
	for (int i = 0; i < nr && rc == 0; i++) {
		const char *ns = ents[i]->d_name;

		if (path_join(dir, sizeof(dir), bus, ns) < 0)
			continue;
		if (sysfs_read_u64(dir, "size", &size) < 0 || size == 0)
			continue;
		/* No resource: a seed or a label-less blk namespace. */
		rc = sysfs_read_u64(dir, "resource", &start);
		if (rc == -EACCES || rc == -EPERM) {
			rc = -EACCES;
			break;
		}
		if (rc < 0) {
			rc = 0;
			continue;
		}
		if (!has_driver(dir) && !nd_claim_active(bus, ns))
			continue;
		rc = aperture_append(out, n, "nd", ns, start, size);
	}
	free_dir(ents, nr);
	return rc;
}

/* The dax devices of libnvdimm regions live under an ndbus; hmem ones do not. */
static bool dax_from_nvdimm(const char *dir)
{
	char real[PATH_MAX];

	if (!realpath(dir, real))
		return false;
	return strstr(real, "/ndbus") != NULL;
}

static int dax_one(const char *dir, const char *dev, struct ftm_aperture **out, size_t *n)
{
	struct dirent **maps;
	char mdir[PATH_MAX], device[FTM_DEVICE_MAX];
	uint64_t start, end, size;
	int nr, rc = 0;

	nr = list_dir(dir, "mapping", &maps);
	if (nr < 0)
		return nr;
	if (nr <= 1) {
		free_dir(maps, nr);
		if (sysfs_read_u64(dir, "size", &size) < 0 || size == 0)
			return 0;
		rc = sysfs_read_u64(dir, "resource", &start);
		if (rc == -EACCES || rc == -EPERM)
			return -EACCES;
		if (rc < 0)
			return 0;
		return aperture_append(out, n, "dax", dev, start, size);
	}
	for (int i = 0; i < nr && rc == 0; i++) {
		rc = path_join(mdir, sizeof(mdir), dir, maps[i]->d_name);
		if (rc == 0)
			rc = sysfs_read_u64(mdir, "start", &start);
		if (rc == 0)
			rc = sysfs_read_u64(mdir, "end", &end);
		if (rc == -EACCES || rc == -EPERM) {
			rc = -EACCES;
			break;
		}
		if (rc < 0 || end < start) {
			rc = 0;
			continue;
		}
		if ((size_t)snprintf(device, sizeof(device), "%s-%s", dev, maps[i]->d_name) >=
		    sizeof(device)) {
			rc = -ENAMETOOLONG;
			break;
		}
		rc = aperture_append(out, n, "dax", device, start, end - start + 1);
	}
	free_dir(maps, nr);
	return rc;
}

int ftm_scan_dax(const char *sysfs_root, struct ftm_aperture **out, size_t *n)
{
	struct dirent **ents;
	char bus[PATH_MAX], dir[PATH_MAX];
	int nr, rc = 0;

	snprintf(bus, sizeof(bus), "%s/bus/dax/devices", sysfs_root);
	nr = list_dir(bus, "dax", &ents);
	if (nr <= 0)
		return nr;
	for (int i = 0; i < nr && rc == 0; i++) {
		if (path_join(dir, sizeof(dir), bus, ents[i]->d_name) < 0)
			continue;
		if (!has_driver(dir) || !dax_from_nvdimm(dir))
			continue;
		rc = dax_one(dir, ents[i]->d_name, out, n);
	}
	free_dir(ents, nr);
	return rc;
}

/* strtoull for a hex field: digits only (no sign, no space, no 0x). */
static bool hex_field(const char *p, char **end, uint64_t *val)
{
	if (!isxdigit((unsigned char)*p))
		return false;
	errno = 0;
	*val = strtoull(p, end, 16);
	return errno == 0;
}

/*
 * Persistent memory in /proc/iomem: "Persistent Memory" (ACPI NFIT, CXL) and
 * "Persistent Memory (legacy)" (e820), at any depth; and on a device-tree
 * system, whose pmem-region is no-map memory the kernel shows as "reserved",
 * the pmem driver's claim under it, "namespaceN.M" (of_pmem's region, while a
 * namespace is enabled).  Other reserved memory is not persistent memory.
 */
#define IOMEM_MAX_DEPTH 8

int ftm_iomem_parse(FILE *f, ftm_iomem_fn fn, void *data, unsigned int *skipped)
{
	bool reserved_at[IOMEM_MAX_DEPTH] = { false };
	bool any_nonzero = false, any = false;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (skipped)
		*skipped = 0;
	/* getline: no line is too long; each one stands alone. */
	while (getline(&line, &cap, f) >= 0) {
		struct ftm_iomem_entry e = { 0 };
		char *p = line, *end;

		while (*p == ' ') {
			p++;
			e.depth++;
		}
		e.depth /= 2;
		if (!hex_field(p, &end, &e.start) || *end != '-' ||
		    !hex_field(end + 1, &end, &e.end) || strncmp(end, " : ", 3) != 0) {
			if (skipped)
				++*skipped;
			continue;
		}
		any = true;
		if (e.start || e.end)
			any_nonzero = true;
		e.desc = end + 3;
		end[3 + strcspn(end + 3, "\n")] = '\0';
		if (e.depth < IOMEM_MAX_DEPTH)
			reserved_at[e.depth] = strcmp(e.desc, "reserved") == 0;
		if (!name_has_prefix(e.desc, "Persistent Memory") &&
		    !(name_has_prefix(e.desc, "namespace") && e.depth > 0 &&
		      e.depth <= IOMEM_MAX_DEPTH && reserved_at[e.depth - 1]))
			continue;
		if (!e.start && !e.end)
			continue;	/* hidden; judged at the end */
		rc = fn(&e, data);
		if (rc)
			break;
	}
	free(line);
	if (rc)
		return rc;
	if (ferror(f))
		return -EIO;
	if (any && !any_nonzero)
		return -EACCES;
	return 0;
}

struct iomem_collect {
	struct ftm_aperture **out;
	size_t *n;
	unsigned int taken_depth;	/* depth of the enclosing taken entry */
	uint64_t taken_end;
	bool in_taken;
};

static int iomem_collect_one(const struct ftm_iomem_entry *e, void *data)
{
	struct iomem_collect *c = data;
	char device[FTM_DEVICE_MAX];

	if (c->in_taken && e->depth > c->taken_depth && e->end <= c->taken_end)
		return 0;	/* nested in one already covered */
	if (e->end < e->start)
		return 0;
	c->in_taken = true;
	c->taken_depth = e->depth;
	c->taken_end = e->end;
	snprintf(device, sizeof(device), "%" PRIx64, e->start);
	return aperture_append(c->out, c->n, "iomem", device, e->start, e->end - e->start + 1);
}

int ftm_scan_iomem(const char *procfs_root, struct ftm_aperture **out, size_t *n)
{
	struct iomem_collect c = { .out = out, .n = n };
	char path[PATH_MAX];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/iomem", procfs_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	rc = ftm_iomem_parse(f, iomem_collect_one, &c, NULL);
	fclose(f);
	return rc;
}

/* Here, not in ftm_ranges.c: the daemon's unit tests link this file alone. */
bool ftm_reserve_mem_label_valid(const char *label)
{
	size_t len = strlen(label);

	if (!len || len >= FTM_RESERVE_MEM_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/*
 * The command line as the kernel split it: words between spaces, a double
 * quote protecting spaces (as in param="a b").  reserve_mem=SIZE:ALIGN:LABEL,
 * the label after the last ':'.
 */
int ftm_cmdline_reserve_mem(const char *cmdline, ftm_label_fn fn, void *data)
{
	static const char key[] = "reserve_mem=";
	char seen[64][FTM_RESERVE_MEM_MAX];
	size_t nr_seen = 0;
	const char *p = cmdline;

	while (*p) {
		char word[256];
		size_t len = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			if (len + 1 < sizeof(word))
				word[len++] = *p;
		}
		word[len] = '\0';
		/* "--": what follows is init's */
		if (!strcmp(word, "--"))
			break;
		if (strncmp(word, key, sizeof(key) - 1))
			continue;
		const char *label = strrchr(word, ':');
		const char *first = strchr(word, ':');
		bool dup = false;
		int rc;

		/* SIZE:ALIGN:LABEL has two colons */
		if (!label || label == first || !ftm_reserve_mem_label_valid(label + 1))
			continue;
		label++;
		for (size_t i = 0; i < nr_seen && !dup; i++)
			dup = !strcmp(seen[i], label);
		if (dup)
			continue;
		if (nr_seen < sizeof(seen) / sizeof(seen[0]))
			snprintf(seen[nr_seen++], sizeof(seen[0]), "%s", label);
		rc = fn(label, data);
		if (rc)
			return rc;
	}
	return 0;
}

struct label_collect {
	struct ftm_aperture **out;
	size_t *n;
};

static int reserve_mem_collect_one(const char *label, void *data)
{
	struct label_collect *c = data;
	int rc = aperture_append(c->out, c->n, "reserve_mem", label, 0, 0);

	if (rc == 0)
		snprintf((*c->out)[*c->n - 1].reserve_mem, FTM_RESERVE_MEM_MAX, "%s", label);
	return rc;
}

int ftm_scan_reserve_mem(const char *procfs_root, struct ftm_aperture **out, size_t *n)
{
	struct label_collect c = { out, n };
	char path[PATH_MAX], line[4096];
	size_t got;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cmdline", procfs_root);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	got = fread(line, 1, sizeof(line) - 1, f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	line[got] = '\0';
	return ftm_cmdline_reserve_mem(line, reserve_mem_collect_one, &c);
}

int ftm_sources_scan(unsigned int sources, const char *sysfs_root, const char *procfs_root,
		     struct ftm_aperture **out, size_t *n, int errs[FTM_NR_SOURCES])
{
	unsigned int failed = 0;

	*out = NULL;
	*n = 0;
	for (unsigned int i = 0; i < FTM_NR_SOURCES; i++) {
		unsigned int bit = source_names[i].bit;
		size_t before = *n;
		int rc = 0;

		if (errs)
			errs[i] = 0;
		if (!(sources & bit))
			continue;
		if (bit == FTM_SRC_ND)
			rc = ftm_scan_nd(sysfs_root, out, n);
		else if (bit == FTM_SRC_DAX)
			rc = ftm_scan_dax(sysfs_root, out, n);
		else if (bit == FTM_SRC_IOMEM)
			rc = ftm_scan_iomem(procfs_root, out, n);
		else
			rc = ftm_scan_reserve_mem(procfs_root, out, n);
		if (rc == -ENOMEM) {
			free(*out);
			*out = NULL;
			*n = 0;
			return -ENOMEM;
		}
		if (rc < 0) {
			/* What this source added before it failed is not trusted either. */
			*n = before;
			failed |= bit;
			if (errs)
				errs[i] = rc;
		}
	}
	return (int)failed;
}

struct extent_list {
	struct ftm_extent *e;
	size_t n, cap;
};

static int extent_add(struct extent_list *l, uint64_t start, uint64_t size)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct ftm_extent *grown = realloc(l->e, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->e = grown;
		l->cap = cap;
	}
	l->e[l->n].start = start;
	l->e[l->n].size = size;
	l->n++;
	return 0;
}

static int cmp_extent(const void *a, const void *b)
{
	const struct ftm_extent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The end of e, saturated: a range reaching the top of the address space. */
static uint64_t extent_end(uint64_t start, uint64_t size)
{
	return start + size < start ? UINT64_MAX : start + size;
}

int ftm_extent_gaps(uint64_t start, uint64_t size, const struct ftm_extent *covers, size_t n,
		    ftm_gap_fn fn, void *data)
{
	uint64_t pos = start, end = extent_end(start, size);
	struct ftm_extent *sorted;
	int rc = 0;

	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	if (n)
		memcpy(sorted, covers, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_extent);
	/* Sorted by start, one pass: each cover either leaves a gap before it or moves pos on. */
	for (size_t i = 0; i < n && pos < end && rc == 0; i++) {
		uint64_t cs = sorted[i].start, ce = extent_end(cs, sorted[i].size);

		if (sorted[i].size == 0 || ce <= pos)
			continue;
		if (cs >= end)
			break;
		if (cs > pos)
			rc = fn(pos, cs - pos, data);
		if (ce > pos)
			pos = ce;
	}
	if (rc == 0 && pos < end)
		rc = fn(pos, end - pos, data);
	free(sorted);
	return rc;
}

struct fold_gaps {
	struct ftm_aperture *out;	/* room for one more, or pieces appended */
	size_t n, cap;
	const struct ftm_aperture *of;
	uint64_t covered_by_gaps;	/* bytes in gaps */
	bool pieces;			/* emit each gap (iomem), else only measure */
};

static int fold_push(struct fold_gaps *g, const struct ftm_aperture *ap)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct ftm_aperture *grown = realloc(g->out, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		g->out = grown;
		g->cap = cap;
	}
	g->out[g->n++] = *ap;
	return 0;
}

static int fold_gap(uint64_t start, uint64_t size, void *data)
{
	struct fold_gaps *g = data;
	struct ftm_aperture piece;
	char device[FTM_DEVICE_MAX];
	int rc;

	g->covered_by_gaps += size;
	if (!g->pieces)
		return 0;
	snprintf(device, sizeof(device), "%" PRIx64, start);
	rc = ftm_aperture_set(&piece, g->of->source, device, start, size);
	return rc < 0 ? rc : fold_push(g, &piece);
}

int ftm_apertures_fold(struct ftm_aperture **aps, size_t *n)
{
	struct extent_list kept = { 0 };
	struct fold_gaps g = { 0 };
	unsigned int tier = 0;
	int rc = 0;

	for (size_t i = 0; i < *n && rc == 0; i++) {
		const struct ftm_aperture *a = &(*aps)[i];
		unsigned int idx = source_index(a->source);

		/* Not a scanned source, or a label whose extent only the module knows: as it is. */
		if (idx == FTM_NR_SOURCES || a->reserve_mem[0]) {
			rc = fold_push(&g, a);
			continue;
		}
		/* What an earlier (more specific) source kept is what this tier is cut by. */
		if (idx != tier) {
			tier = idx;
			kept.n = 0;
			for (size_t j = 0; j < g.n && rc == 0; j++)
				if (source_index(g.out[j].source) < idx)
					rc = extent_add(&kept, g.out[j].start, g.out[j].size);
		}
		if (rc)
			break;
		g.of = a;
		g.covered_by_gaps = 0;
		g.pieces = source_names[idx].bit == FTM_SRC_IOMEM;
		rc = ftm_extent_gaps(a->start, a->size, kept.e, kept.n, fold_gap, &g);
		if (rc == 0 && !g.pieces && g.covered_by_gaps)
			rc = fold_push(&g, a);	/* not wholly inside: kept whole */
	}
	free(kept.e);
	if (rc < 0) {
		free(g.out);
		return rc;
	}
	free(*aps);
	*aps = g.out;
	*n = g.n;
	return 0;
}
