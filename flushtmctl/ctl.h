/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flushtmctl: what the command files share. */
#ifndef FLUSHTMCTL_H
#define FLUSHTMCTL_H

#include <stdbool.h>
#include <json-c/json.h>

#include "libflushtm.h"

#define CTL_OK		0
#define CTL_FAIL	1
#define CTL_USAGE	2

/*
 * Where configfs is mounted (FTM_CONFIGFS_DEFAULT lies under it), and its
 * statfs f_type (the kernel's fs/configfs/mount.c; no uapi header has it).
 */
#define CTL_CONFIGFS_MOUNT	"/sys/kernel/config"
#define CTL_CONFIGFS_MAGIC	0x62656570

/* Everything a command may need, made once in main(). */
struct ctl {
	struct ftm_ctx *ftm;
	bool json;
	const char *sysfs_root;		/* $FLUSHTM_SYSFS or /sys: check, status */
	const char *procfs_root;	/* $FLUSHTM_PROCFS or /proc: check only */
};

struct command {
	const char *name;	/* "status", "range add" */
	int (*run)(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
	const char *args;	/* usage after the name: "NAME START SIZE [--owner TEXT]" */
	const char *summary;	/* one line for flushtmctl --help */
	const char *help;	/* the rest of `flushtmctl CMD --help`, may be NULL */
	const char *value_opt;	/* a command's own --OPTION VALUE ("owner", "path"), or NULL */
	bool takes_command;	/* operands are a command line: options end at the first */
};

/*
 * Parses a command's options (--help, --json, and cmd->value_opt) and
 * checks the operand count.  Returns -1 to go on, else the exit status
 * (help printed: 0; usage error: 2).  *value gets the value option's value.
 */
int ctl_parse(struct ctl *ctl, const struct command *cmd, int *argc, char ***argv,
	      int min_args, int max_args, const char **value);

/* "flushtmctl: <what>: <why>" on stderr. */
__attribute__((format(printf, 2, 3)))
void ctl_err(const char *what, const char *fmt, ...);
/* configfs is mounted at CTL_CONFIGFS_MOUNT. */
bool ctl_configfs_mounted(void);
/* For commands that need the module: says so and returns false when it is absent. */
bool ctl_need_module(const struct ctl *ctl, const char *what);
/*
 * A range name or an owner as every command shows it, text or JSON: escaped
 * (ftm_name_escape: bytes outside printable ASCII, space and backslash as
 * \xHH), since the kernel takes any name.  The names we create come out as
 * they are.  buf holds CTL_SHOWN_MAX bytes.
 */
#define CTL_SHOWN_MAX	FTM_NAME_ESCAPED_MAX
const char *ctl_shown(const char *name, char *buf);
/*
 * A range name operand, taken as commands show names (escaped), into name
 * (FTM_NAME_MAX bytes).  Says why and returns false when it is malformed.
 */
bool ctl_range_operand(const char *what, const char *arg, char *name);
/* For a range ftm_range_list() marked unreadable: a warning on stderr. */
void ctl_warn_unreadable(const char *what, const struct ftm_range *r);
/* Prints the JSON document, owned here afterwards; returns CTL_OK. */
int ctl_json_print(struct json_object *doc);
/* "0x..." string, as addresses are shown in JSON (64-bit safe for any reader). */
struct json_object *ctl_json_addr(uint64_t addr);
struct json_object *ctl_json_range(const struct ftm_range *r);
/* A hook: name, available, enabled, fired; with counters, its other counters too. */
struct json_object *ctl_json_hook(const struct ftm_hook *h, bool counters);

int cmd_status(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_stats(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
/*
 * stats --format (cmd_stats.c): -1 to go on with text (or JSON, which
 * --format json turns on); else the exit status (prometheus printed, or a
 * usage error).
 */
int ctl_stats_format(struct ctl *ctl, const struct command *cmd, const char *format);
int cmd_range_list(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_enable(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_range_add(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_range_del(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_range_priority(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_flush(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_set(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_enroll(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_load(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_unload(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_apply(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_run(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_check(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
int cmd_last(struct ctl *ctl, const struct command *cmd, int argc, char **argv);
/* status: the previous boot's record in one line, or into doc as "last_boot" (cmd_last.c). */
void ctl_last_status(const struct ctl *ctl, struct json_object *doc);
/* check: would a flush line survive a reset (pstore); prints, or adds "pstore" to doc (never a gap). */
void ctl_pstore_check(const struct ctl *ctl, struct json_object *doc);

#endif /* FLUSHTMCTL_H */
