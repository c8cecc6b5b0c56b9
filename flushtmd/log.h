/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flushtmd's log: one line per message on stderr.  Under systemd (stderr is
 * the journal stream named by $JOURNAL_STREAM) each line carries a "<N>"
 * syslog priority prefix the journal turns into the entry's priority; for
 * humans (--foreground, a terminal) it reads "flushtmd: <level>: text".
 */
#ifndef FTMD_LOG_H
#define FTMD_LOG_H

#include <stdbool.h>
#include <syslog.h>

struct ftmd_log {
	bool journal;		/* "<N>" prefixes */
	int max_prio;		/* LOG_INFO unless --verbose: LOG_DEBUG */
};

/* foreground forces the human format even when started by systemd. */
void ftmd_log_init(struct ftmd_log *log, bool foreground, bool verbose);

__attribute__((format(printf, 3, 4)))
void ftmd_logf(const struct ftmd_log *log, int prio, const char *fmt, ...);

#endif /* FTMD_LOG_H */
