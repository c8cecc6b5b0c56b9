// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* $JOURNAL_STREAM is "dev:inode" of the stream systemd connected; trust it
 * only while stderr still is that stream (not redirected by a wrapper). */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

void ftmd_log_init(struct ftmd_log *log, bool foreground, bool verbose)
{
	log->journal = !foreground && stderr_is_journal();
	log->max_prio = verbose ? LOG_DEBUG : LOG_INFO;
}

static const char *prio_word(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void ftmd_logf(const struct ftmd_log *log, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (prio > log->max_prio)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent writers never interleave within it. */
	if (log->journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "flushtmd: %s%s\n", prio_word(prio), line);
}
