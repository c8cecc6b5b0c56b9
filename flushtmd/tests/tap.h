/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Just enough TAP for the unit tests: each test program prints its own plan. */
#ifndef FTMD_TAP_H
#define FTMD_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct tap {
	unsigned int n, failed;
};

__attribute__((format(printf, 3, 4)))
static inline bool tap_ok(struct tap *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", ok ? "ok" : "not ok", ++t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		t->failed++;
	return ok;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#endif /* FTMD_TAP_H */
