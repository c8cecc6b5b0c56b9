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

static const struct {
	unsigned int bit;
	const char *name;
} source_names[] = {
	{ FTM_SRC_ND, "nd" },
	{ FTM_SRC_DAX, "dax" },
	{ FTM_SRC_IOMEM, "iomem" },
};

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

int ftm_iomem_parse(FILE *f, ftm_iomem_fn fn, void *data)
{
	char line[512];
	bool any_nonzero = false, any = false;
	int rc;

	while (fgets(line, sizeof(line), f)) {
		struct ftm_iomem_entry e = { 0 };
		char *p = line, *end;

		while (*p == ' ') {
			p++;
			e.depth++;
		}
		e.depth /= 2;
		errno = 0;
		e.start = strtoull(p, &end, 16);
		if (errno || end == p || *end != '-')
			return -EINVAL;
		p = end + 1;
		e.end = strtoull(p, &end, 16);
		if (errno || end == p || strncmp(end, " : ", 3) != 0)
			return -EINVAL;
		any = true;
		if (e.start || e.end)
			any_nonzero = true;
		e.desc = end + 3;
		end[3 + strcspn(end + 3, "\n")] = '\0';
		if (!name_has_prefix(e.desc, "Persistent Memory"))
			continue;
		if (!e.start && !e.end)
			continue;	/* hidden; judged at the end */
		rc = fn(&e, data);
		if (rc)
			return rc;
	}
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
	rc = ftm_iomem_parse(f, iomem_collect_one, &c);
	fclose(f);
	return rc;
}

int ftm_sources_scan(unsigned int sources, const char *sysfs_root, const char *procfs_root,
		     struct ftm_aperture **out, size_t *n)
{
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (sources & FTM_SRC_ND)
		rc = ftm_scan_nd(sysfs_root, out, n);
	if (rc == 0 && (sources & FTM_SRC_DAX))
		rc = ftm_scan_dax(sysfs_root, out, n);
	if (rc == 0 && (sources & FTM_SRC_IOMEM))
		rc = ftm_scan_iomem(procfs_root, out, n);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
