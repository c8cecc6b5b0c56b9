/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to libflushtm: what the source files share and callers need not see. */
#ifndef FTM_PRIVATE_H
#define FTM_PRIVATE_H

#include <limits.h>
#include "libflushtm.h"

struct ftm_ctx {
	char root[PATH_MAX];
};

/* root + "/" + rel into buf; -ENAMETOOLONG if it does not fit. */
int ftm_path(const struct ftm_ctx *ctx, const char *rel, char *buf, size_t len);

/* Reads a u64 that may be "0x" hex or decimal (addresses and counters alike). */
int ftm_parse_u64(const char *s, uint64_t *val);

#endif /* FTM_PRIVATE_H */
