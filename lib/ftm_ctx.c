// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The context (which configfs root) and raw attribute access, plus the few
 * global attributes: version, method, cache_threshold, generation, flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftm_private.h"

int ftm_ctx_new(struct ftm_ctx **ctx, const char *root)
{
	struct ftm_ctx *c;
	size_t len;

	if (!root || !*root)
		root = getenv(FTM_CONFIGFS_ENV);
	if (!root || !*root)
		root = FTM_CONFIGFS_DEFAULT;
	len = strlen(root);
	/* Room for the longest relative path we build: ranges/<name>/flushed_bytes. */
	if (len + FTM_NAME_MAX + 32 >= PATH_MAX)
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c->root, root, len + 1);
	while (len > 1 && c->root[len - 1] == '/')
		c->root[--len] = '\0';
	*ctx = c;
	return 0;
}

void ftm_ctx_free(struct ftm_ctx *ctx)
{
	free(ctx);
}

const char *ftm_ctx_root(const struct ftm_ctx *ctx)
{
	return ctx->root;
}

int ftm_path(const struct ftm_ctx *ctx, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", ctx->root, rel);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int ftm_module_present(const struct ftm_ctx *ctx)
{
	char path[PATH_MAX];
	struct stat st;

	if (ftm_path(ctx, "version", path, sizeof(path)) < 0)
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int ftm_attr_read(const struct ftm_ctx *ctx, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	size_t got = 0;
	ssize_t n;
	int fd, ret;

	if (len < 2)
		return -EINVAL;
	ret = ftm_path(ctx, rel, path, sizeof(path));
	if (ret < 0)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* configfs hands the whole value to the first read; loop for plain files. */
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	/*
	 * A full buffer still fits when what follows is only the value's
	 * trailing newline (a 64-byte owner reads back as 65 bytes).
	 */
	if (got == len - 1) {
		char extra[2];

		do {
			n = read(fd, extra, sizeof(extra));
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n > 1 || (n == 1 && extra[0] != '\n')) {
			ret = -ENOSPC;
			goto out;
		}
	}
	while (got > 0 && buf[got - 1] == '\n')
		got--;
	buf[got] = '\0';
out:
	close(fd);
	return ret;
}

int ftm_attr_read_u64(const struct ftm_ctx *ctx, const char *rel, uint64_t *val)
{
	char buf[64];
	int ret = ftm_attr_read(ctx, rel, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	return ftm_parse_u64(buf, val);
}

int ftm_attr_write(const struct ftm_ctx *ctx, const char *rel, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret;

	ret = ftm_path(ctx, rel, path, sizeof(path));
	if (ret < 0)
		return ret;
	/* Never O_CREAT: a missing attribute is an error, not a file to make. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* configfs calls the store method once per write(2): one write, whole value. */
	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

int ftm_info_read(const struct ftm_ctx *ctx, struct ftm_info *info)
{
	uint64_t version;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = ftm_attr_read_u64(ctx, "version", &version);
	if (ret < 0)
		return ret;
	if (version > UINT32_MAX)
		return -ERANGE;
	info->version = (unsigned int)version;
	ret = ftm_attr_read(ctx, "method", info->method, sizeof(info->method));
	if (ret < 0)
		return ret;
	ret = ftm_attr_read_u64(ctx, "cache_threshold", &info->cache_threshold);
	if (ret < 0)
		return ret;
	return ftm_attr_read_u64(ctx, "generation", &info->generation);
}

bool ftm_method_valid(const char *method)
{
	return !strcmp(method, "auto") || !strcmp(method, "lines") || !strcmp(method, "cache");
}

int ftm_set_method(const struct ftm_ctx *ctx, const char *method)
{
	if (!ftm_method_valid(method))
		return -EINVAL;
	return ftm_attr_write(ctx, "method", method);
}

bool ftm_crash_budget_valid(const char *value)
{
	size_t n = strlen(value);

	if (!strcmp(value, "auto"))
		return true;
	/* decimal, at most 15 digits: the module refuses what overflows its clock */
	return n && n <= 15 && strspn(value, "0123456789") == n;
}

int ftm_set_crash_budget(const struct ftm_ctx *ctx, const char *value)
{
	if (!ftm_crash_budget_valid(value))
		return -EINVAL;
	return ftm_attr_write(ctx, "crash_budget_ms", value);
}

int ftm_get_crash_budget(const struct ftm_ctx *ctx, char *buf, size_t len)
{
	int ret = ftm_attr_read(ctx, "crash_budget_ms", buf, len);

	if (ret < 0)
		return ret;
	buf[strcspn(buf, " \n")] = '\0';
	return 0;
}

int ftm_set_cache_threshold(const struct ftm_ctx *ctx, uint64_t bytes)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, bytes);
	return ftm_attr_write(ctx, "cache_threshold", buf);
}

int ftm_flush(const struct ftm_ctx *ctx, const char *name)
{
	if (!name)
		name = "all";
	else if (strcmp(name, "all")) {
		struct ftm_range r;
		int ret;

		/* Say "no such range" the same way whatever the kernel's errno for it. */
		if (!ftm_range_name_usable(name))
			return -EINVAL;
		ret = ftm_range_read(ctx, name, &r);
		if (ret < 0)
			return ret;
	}
	return ftm_attr_write(ctx, "flush", name);
}
