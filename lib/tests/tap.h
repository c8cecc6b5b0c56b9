/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A few TAP helpers for the libflushtm unit tests: one plan, one line per check. */
#ifndef FTM_TAP_H
#define FTM_TAP_H

#include <stdarg.h>
#include <stdio.h>

struct tap {
	unsigned int n, failed;
};

__attribute__((format(printf, 3, 4)))
static inline bool tap_ok(struct tap *t, bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", cond ? "" : "not ", ++t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		t->failed++;
	return cond;
}

/* Equality of two ints, printing both when they differ. */
#define tap_int(t, got, want, ...) \
	(tap_ok((t), (long long)(got) == (long long)(want), __VA_ARGS__) || \
	 (printf("#   got %lld, want %lld\n", (long long)(got), (long long)(want)), 0))

#define tap_str(t, got, want, ...) \
	(tap_ok((t), !strcmp((got), (want)), __VA_ARGS__) || \
	 (printf("#   got '%s', want '%s'\n", (got), (want)), 0))

static inline int tap_done(struct tap *t)
{
	printf("1..%u\n", t->n);
	return t->failed ? 1 : 0;
}

#endif /* FTM_TAP_H */
