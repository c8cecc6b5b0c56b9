// SPDX-License-Identifier: LGPL-2.1-or-later
/* Numbers as configfs and the config file write them, sizes for humans, errno in words. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ftm_private.h"

/* Digits only ("0x" hex or decimal), one trailing newline allowed; *end after them. */
static int parse_digits(const char *s, uint64_t *val, const char **end)
{
	unsigned int base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (p == s || (base == 16 && p == s + 2))
		return -EINVAL;
	*val = v;
	*end = p;
	return 0;
}

static bool at_end(const char *p)
{
	return p[0] == '\0' || (p[0] == '\n' && p[1] == '\0');
}

int ftm_parse_u64(const char *s, uint64_t *val)
{
	const char *end;
	int ret = parse_digits(s, val, &end);

	if (ret < 0)
		return ret;
	return at_end(end) ? 0 : -EINVAL;
}

int ftm_parse_addr(const char *s, uint64_t *val)
{
	return ftm_parse_u64(s, val);
}

int ftm_parse_priority(const char *s, unsigned int *priority)
{
	uint64_t v;

	if (ftm_parse_u64(s, &v) < 0 || v > FTM_PRIORITY_MAX)
		return -EINVAL;
	*priority = (unsigned int)v;
	return 0;
}

int ftm_parse_size(const char *s, uint64_t *val)
{
	unsigned int shift = 0;
	const char *end;
	uint64_t v;
	int ret;

	ret = parse_digits(s, &v, &end);
	if (ret < 0)
		return ret;
	switch (*end) {
	case 'K': case 'k':
		shift = 10;
		break;
	case 'M': case 'm':
		shift = 20;
		break;
	case 'G': case 'g':
		shift = 30;
		break;
	}
	if (shift)
		end++;
	if (!at_end(end))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*val = v << shift;
	return 0;
}

const char *ftm_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	unsigned int u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64, bytes);
		return buf;
	}
	while (u + 1 < sizeof(units) - 1 && bytes >= (UINT64_C(1) << (10 * (u + 2))))
		u++;
	if (bytes & ((UINT64_C(1) << (10 * (u + 1))) - 1))
		snprintf(buf, len, "%.1f%c", (double)bytes / (double)(UINT64_C(1) << (10 * (u + 1))),
			 units[u]);
	else
		snprintf(buf, len, "%" PRIu64 "%c", bytes >> (10 * (u + 1)), units[u]);
	return buf;
}

struct errword {
	const char *step;	/* NULL: any step */
	int err;
	const char *words;
};

/* What the kernel means by an errno, for each configfs operation (interface.md). */
static const struct errword errwords[] = {
	{ "enable", EINVAL, "refused by the kernel: not persistent memory or RAM, not page "
			    "aligned, empty, or wrapping around" },
	{ "enable", EBUSY, "busy: overlaps a range the kernel will not share" },
	{ "enable", ENOENT, "no reserve_mem region of that label (reserve_mem=SIZE:ALIGN:LABEL on "
			    "the kernel command line)" },
	{ "enable", EOPNOTSUPP, "this kernel has no reserve_mem (Linux 6.11 or later has)" },
	{ "reserve_mem", ENOENT, "this flushtm module has no reserve_mem attribute" },
	{ "reserve_mem", EINVAL, "refused by the module: the range has a start or size" },
	{ "label", EINVAL, "invalid reserve_mem label (1 to 15 of letters, digits, '_', '.', '-')" },
	{ "start", EBUSY, "busy: the range is enabled" },
	{ "size", EBUSY, "busy: the range is enabled" },
	{ "start", EINVAL, "invalid address" },
	{ "size", EINVAL, "invalid size" },
	{ "owner", EINVAL, "invalid owner (one line, 64 bytes at most)" },
	{ "name", EINVAL, "invalid range name (letters, digits, '.', '_', ':', '-'; "
			  "255 at most; not starting with '.')" },
	{ "mkdir", EEXIST, "a range of that name exists" },
	{ "mkdir", ENOENT, "flushtm module not loaded" },
	{ "rmdir", ENOENT, "no such range" },
	{ "rmdir", EINVAL, "invalid range name" },
	{ "flush", ENOENT, "no such range" },
	{ "flush", EINVAL, "invalid range name" },
	{ "method", EINVAL, "not one of auto, lines, cache" },
	{ "method", EOPNOTSUPP, "not available on this machine (no safe whole-cache write back: "
				"arm64, or an encrypted guest); lines and auto are" },
	{ "cache-threshold", EINVAL, "invalid size" },
	{ "crash-budget", EINVAL, "not auto or milliseconds" },
	{ "crash-budget", ERANGE, "too large" },
	{ "crash-budget", ENOENT, "this module has no crash_budget_ms" },
	{ "priority", EINVAL, "not a priority (0 to 255)" },
	{ "priority", ENOENT, "no such range" },
	{ "priority", EOPNOTSUPP, "this flushtm module has no range priorities" },
	{ "hook", EOPNOTSUPP, "not available on this kernel" },
	{ "hook", EINVAL, "unknown hook" },
	{ "enroll", ESRCH, "no such process" },
	{ "enroll", EEXIST, "already enrolled" },
	{ "enroll", EINVAL, "invalid pid" },
	{ "withdraw", ENOENT, "not enrolled" },
	{ "withdraw", ESRCH, "not enrolled" },
	{ "withdraw", EINVAL, "invalid pid" },
	{ NULL, EROFS, "configfs is mounted read-only" },
	{ NULL, EACCES, "permission denied (run as root)" },
	{ NULL, EPERM, "operation not permitted (run as root)" },
	{ NULL, ENOSPC, "value longer than expected" },
	{ NULL, ERANGE, "number too large" },
};

const char *ftm_strerror(int err, const char *step)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errwords) / sizeof(errwords[0]); i++) {
		const struct errword *w = &errwords[i];

		if (w->err == err && (!w->step || (step && !strcmp(w->step, step))))
			return w->words;
	}
	return strerror(err);
}
