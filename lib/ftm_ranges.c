// SPDX-License-Identifier: LGPL-2.1-or-later
/* ranges/<name>/: read, list, add (all or nothing), remove. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftm_private.h"

/*
 * Names are kept to what is safe in a path, a shell word and an ini section
 * header: letters, digits, '.', '_', ':', '-', not starting with '.'.
 */
bool ftm_range_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= FTM_NAME_MAX || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

bool ftm_range_name_usable(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len < FTM_NAME_MAX && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

static bool plain_byte(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '\\';
}

const char *ftm_name_escape(const char *name, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!len)
		return buf;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (plain_byte(*p)) {
			if (o + 1 >= len)
				break;
			buf[o++] = (char)*p;
			continue;
		}
		if (o + 4 >= len)
			break;
		buf[o++] = '\\';
		buf[o++] = 'x';
		buf[o++] = hex[*p >> 4];
		buf[o++] = hex[*p & 15];
	}
	buf[o] = '\0';
	return buf;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ftm_name_unescape(const char *escaped, char *buf, size_t len)
{
	size_t o = 0;

	for (const char *p = escaped; *p; p++) {
		char c = *p;

		if (c == '\\') {
			int hi, lo;

			if (p[1] != 'x' || (hi = hex_digit(p[2])) < 0 || (lo = hex_digit(p[3])) < 0 ||
			    (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			p += 3;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		buf[o++] = c;
	}
	if (!len)
		return -ENAMETOOLONG;
	buf[o] = '\0';
	return 0;
}

static int range_rel(const char *name, const char *attr, char *buf, size_t len)
{
	int n = attr ? snprintf(buf, len, "ranges/%s/%s", name, attr)
		     : snprintf(buf, len, "ranges/%s", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int range_read_u64(const struct ftm_ctx *ctx, const char *name, const char *attr,
			  uint64_t *val)
{
	char rel[FTM_NAME_MAX + 32];
	int ret = range_rel(name, attr, rel, sizeof(rel));

	return ret < 0 ? ret : ftm_attr_read_u64(ctx, rel, val);
}

static int range_write(const struct ftm_ctx *ctx, const char *name, const char *attr,
		       const char *val)
{
	char rel[FTM_NAME_MAX + 32];
	int ret = range_rel(name, attr, rel, sizeof(rel));

	return ret < 0 ? ret : ftm_attr_write(ctx, rel, val);
}

static void first_error(int *first, int ret)
{
	if (ret < 0 && !*first)
		*first = ret;
}

/*
 * Every attribute is read even when one before failed, so that a range with
 * one bad attribute still shows what it holds.
 */
int ftm_range_read(const struct ftm_ctx *ctx, const char *name, struct ftm_range *r)
{
	char rel[FTM_NAME_MAX + 32];
	uint64_t enabled = 0, prio = 0;
	int ret = 0, err;

	if (!ftm_range_name_usable(name))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, strlen(name) + 1);	/* usable names fit */
	first_error(&ret, range_read_u64(ctx, name, "start", &r->start));
	first_error(&ret, range_read_u64(ctx, name, "size", &r->size));
	first_error(&ret, range_read_u64(ctx, name, "enabled", &enabled));
	if (enabled > 1) {
		first_error(&ret, -EINVAL);
		enabled = 0;
	}
	r->enabled = enabled;
	err = range_rel(name, "owner", rel, sizeof(rel));
	if (!err)
		err = ftm_attr_read(ctx, rel, r->owner, sizeof(r->owner));
	if (err < 0) {
		first_error(&ret, err);
		r->owner[0] = '\0';
	}
	first_error(&ret, range_read_u64(ctx, name, "flushed_bytes", &r->flushed_bytes));
	/* A module older than priorities: 0, the priority of every range there. */
	err = range_read_u64(ctx, name, "priority", &prio);
	if (err < 0 && err != -ENOENT)
		first_error(&ret, err);
	r->priority = err < 0 || prio > FTM_PRIORITY_MAX ? 0 : (unsigned int)prio;
	if (!err && prio > FTM_PRIORITY_MAX)
		first_error(&ret, -ERANGE);
	/* A module older than reserve_mem has no such attribute: "" as for any range without one. */
	err = range_rel(name, "reserve_mem", rel, sizeof(rel));
	if (!err)
		err = ftm_attr_read(ctx, rel, r->reserve_mem, sizeof(r->reserve_mem));
	if (err < 0) {
		if (err != -ENOENT)
			first_error(&ret, err);
		r->reserve_mem[0] = '\0';
	}
	return ret;
}

static bool range_dir_exists(const struct ftm_ctx *ctx, const char *name)
{
	char rel[FTM_NAME_MAX + 32], path[PATH_MAX];
	struct stat st;

	return range_rel(name, NULL, rel, sizeof(rel)) == 0 &&
	       ftm_path(ctx, rel, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

static int range_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ftm_range *)a)->name, ((const struct ftm_range *)b)->name);
}

int ftm_range_list(const struct ftm_ctx *ctx, struct ftm_range **ranges, size_t *n)
{
	struct ftm_range *list = NULL;
	size_t count = 0, cap = 0;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret;

	ret = ftm_path(ctx, "ranges", path, sizeof(path));
	if (ret < 0)
		return ret;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (count == cap) {
			struct ftm_range *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				ret = -ENOMEM;
				goto fail;
			}
			list = grown;
		}
		ret = ftm_range_read(ctx, de->d_name, &list[count]);
		/* Removed between readdir() and the read: not there any more. */
		if (ret == -ENOENT && !range_dir_exists(ctx, de->d_name))
			continue;
		/* Listed all the same, marked: one odd range never hides the others. */
		list[count].error = ret;
		count++;
	}
	if (errno) {
		ret = -errno;
		goto fail;
	}
	closedir(dir);
	if (count > 1)	/* qsort(NULL, 0, ...) is undefined (UBSan) */
		qsort(list, count, sizeof(*list), range_cmp);
	*ranges = list;
	*n = count;
	return 0;
fail:
	closedir(dir);
	free(list);
	return ret;
}

static int range_rmdir(const struct ftm_ctx *ctx, const char *name)
{
	char rel[FTM_NAME_MAX + 32], path[PATH_MAX];
	int ret;

	ret = range_rel(name, NULL, rel, sizeof(rel));
	if (!ret)
		ret = ftm_path(ctx, rel, path, sizeof(path));
	if (ret < 0)
		return ret;
	return rmdir(path) < 0 ? -errno : 0;
}

/* label NULL or "": start and size; else the label alone (the module refuses both). */
int ftm_range_add_any(const struct ftm_ctx *ctx, const char *name, uint64_t start,
		      uint64_t size, const char *label, const char *owner, const char **step)
{
	char rel[FTM_NAME_MAX + 32], path[PATH_MAX], val[24];
	const char *failed;
	int ret;

	if (label && !*label)
		label = NULL;
	if (!owner)
		owner = "admin";
	failed = "name";
	ret = ftm_range_name_valid(name) ? 0 : -EINVAL;
	if (ret < 0)
		goto out;
	failed = "label";
	if (label && !ftm_reserve_mem_label_valid(label)) {
		ret = -EINVAL;
		goto out;
	}
	failed = "owner";
	if (strlen(owner) >= FTM_OWNER_MAX || strchr(owner, '\n')) {
		ret = -EINVAL;
		goto out;
	}
	failed = "mkdir";
	ret = range_rel(name, NULL, rel, sizeof(rel));
	if (!ret)
		ret = ftm_path(ctx, rel, path, sizeof(path));
	if (!ret && mkdir(path, 0755) < 0)
		ret = -errno;
	if (ret < 0)
		goto out;

	/*
	 * Owner first: a caller that dies half-way leaves a disabled range that
	 * its owner can still recognise and clean up.
	 */
	failed = "owner";
	ret = range_write(ctx, name, "owner", owner);
	if (ret < 0)
		goto undo;
	if (label) {
		failed = "reserve_mem";
		ret = range_write(ctx, name, "reserve_mem", label);
		if (ret < 0)
			goto undo;
	} else {
		failed = "start";
		snprintf(val, sizeof(val), "0x%" PRIx64, start);
		ret = range_write(ctx, name, "start", val);
		if (ret < 0)
			goto undo;
		failed = "size";
		snprintf(val, sizeof(val), "%" PRIu64, size);
		ret = range_write(ctx, name, "size", val);
		if (ret < 0)
			goto undo;
	}
	/* Last: only a fully described range is ever published. */
	failed = "enable";
	ret = range_write(ctx, name, "enabled", "1");
	if (ret < 0)
		goto undo;
	failed = NULL;
	goto out;
undo:
	/* The range is still disabled here, so removing it flushes nothing. */
	rmdir(path);
out:
	if (step)
		*step = failed;
	return ret;
}

int ftm_range_add(const struct ftm_ctx *ctx, const char *name, uint64_t start,
		  uint64_t size, const char *owner, const char **step)
{
	return ftm_range_add_any(ctx, name, start, size, NULL, owner, step);
}

int ftm_range_add_reserve_mem(const struct ftm_ctx *ctx, const char *name, const char *label,
			      const char *owner, const char **step)
{
	return ftm_range_add_any(ctx, name, 0, 0, label, owner, step);
}

int ftm_range_set_priority(const struct ftm_ctx *ctx, const char *name, unsigned int priority)
{
	char rel[FTM_NAME_MAX + 32], path[PATH_MAX], val[16];
	int ret;

	if (!ftm_range_name_usable(name) || priority > FTM_PRIORITY_MAX)
		return -EINVAL;
	if (!range_dir_exists(ctx, name))
		return -ENOENT;
	ret = range_rel(name, "priority", rel, sizeof(rel));
	if (ret < 0)
		return ret;
	ret = ftm_path(ctx, rel, path, sizeof(path));
	if (ret < 0)
		return ret;
	if (access(path, F_OK))
		return -EOPNOTSUPP;
	snprintf(val, sizeof(val), "%u", priority);
	return ftm_attr_write(ctx, rel, val);
}

int ftm_range_del(const struct ftm_ctx *ctx, const char *name)
{
	if (!ftm_range_name_usable(name))
		return -EINVAL;
	return range_rmdir(ctx, name);
}

int ftm_range_del_all(const struct ftm_ctx *ctx, size_t *removed)
{
	struct ftm_range *list;
	size_t n, done = 0;
	int ret, first = 0;

	ret = ftm_range_list(ctx, &list, &n);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		ret = range_rmdir(ctx, list[i].name);
		if (ret == 0)
			done++;
		else if (ret != -ENOENT && !first)
			first = ret;
	}
	free(list);
	if (removed)
		*removed = done;
	return first;
}
