// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * run [--] CMD [ARG...]: CMD enrolled in the exit hook from its first
 * instruction.  The child of a fork() enrols its own pid and then execs CMD;
 * the module keeps a pid enrolled across exec (the new address space is
 * enrolled, the old one flushed as it goes), so CMD runs enrolled from its
 * first instruction and its exit flushes.  fork, not vfork or posix_spawn:
 * the child writes to configfs before the exec, which a child sharing the
 * parent's address space must not do.
 *
 * The parent waits and exits as a shell would: CMD's status, 128+N when a
 * signal N killed it, 127 when CMD is not found, 126 when it cannot be
 * executed, and 125 when flushtmctl itself failed (as env(1) and nice(1)).
 * CMD is looked up before anything is enrolled, so a missing program leaves
 * nothing behind; should the exec fail all the same, the child withdraws
 * itself before it reports why.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

#define RUN_OWN_FAILURE		125
#define RUN_CANNOT_EXEC		126
#define RUN_NOT_FOUND		127
#define RUN_DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What the child sends back on the close-on-exec pipe when it does not exec. */
struct run_report {
	int stage;		/* RUN_STAGE_* */
	int err;		/* negative errno */
};

enum { RUN_STAGE_ENROLL, RUN_STAGE_EXEC };

/* 0 when path names a file that exec may run; else why not, as exec would say. */
static int check_exec(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

/*
 * The file CMD names, looked up in $PATH as execvp(3) would when it has no
 * slash: the first entry that may be executed; -EACCES when only entries
 * that may not were found, else -ENOENT.
 */
static int find_program(const char *name, char *path, size_t len)
{
	const char *dirs = getenv("PATH"), *p, *end;
	int found = -ENOENT;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		if (strlen(name) >= len)
			return -ENAMETOOLONG;
		strcpy(path, name);
		return check_exec(path);
	}
	if (!dirs)
		dirs = RUN_DEFAULT_PATH;
	for (p = dirs;; p = end + 1) {
		size_t dlen;
		int n, ret;

		end = strchrnul(p, ':');
		dlen = (size_t)(end - p);
		/* An empty entry is the current directory. */
		n = dlen ? snprintf(path, len, "%.*s/%s", (int)dlen, p, name)
			 : snprintf(path, len, "%s", name);
		if (n >= 0 && (size_t)n < len) {
			ret = check_exec(path);
			if (!ret)
				return 0;
			if (ret == -EACCES || ret == -EISDIR)
				found = -EACCES;
		}
		if (!*end)
			return found;
	}
}

/* The child: enrol itself, exec; on failure say why on the pipe and exit. */
static _Noreturn void run_child(const struct ctl *ctl, int report_fd, const sigset_t *mask,
				const struct sigaction *chld, const char *path, char **argv)
{
	struct run_report rep;
	int pid = (int)getpid(), ret, argc;

	ret = ftm_exit_enroll(ctl->ftm, pid);
	if (ret < 0) {
		rep = (struct run_report){ RUN_STAGE_ENROLL, ret };
		goto fail;
	}
	/* CMD gets the signal state flushtmctl was started with. */
	sigaction(SIGCHLD, chld, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execv(path, argv);
	ret = -errno;
	if (ret == -ENOEXEC) {
		/* No #! line: a shell script, as execvp(3) and the shells take it. */
		char **sh_argv;

		for (argc = 0; argv[argc]; argc++)
			;
		sh_argv = calloc((size_t)argc + 2, sizeof(*sh_argv));
		if (sh_argv) {
			sh_argv[0] = (char *)"/bin/sh";
			sh_argv[1] = (char *)path;
			memcpy(sh_argv + 2, argv + 1, (size_t)argc * sizeof(*sh_argv));
			execv("/bin/sh", sh_argv);
			ret = -errno;
		}
	}
	/* Nothing ran: nothing may stay enrolled, nor flush at this exit. */
	ftm_exit_withdraw(ctl->ftm, pid);
	rep = (struct run_report){ RUN_STAGE_EXEC, ret };
fail:
	while (write(report_fd, &rep, sizeof(rep)) < 0 && errno == EINTR)
		;
	_exit(rep.stage == RUN_STAGE_ENROLL ? RUN_OWN_FAILURE
		: rep.err == -ENOENT ? RUN_NOT_FOUND : RUN_CANNOT_EXEC);
}

/*
 * Waits for the child with the signals of `set` blocked.  A signal that a
 * process sent to flushtmctl is passed on to CMD; one the kernel sent (the
 * terminal's ^C, ^\, hangup) reached CMD's process group, CMD included,
 * already.
 */
static int run_wait(pid_t child, const sigset_t *set)
{
	siginfo_t info;
	int status;

	for (;;) {
		pid_t got;

		if (sigwaitinfo(set, &info) < 0)
			continue;		/* EINTR: a signal outside the set */
		if (info.si_signo != SIGCHLD) {
			if (info.si_code <= 0)	/* SI_USER, SI_QUEUE, SI_TKILL */
				kill(child, info.si_signo);
			continue;
		}
		got = waitpid(child, &status, WNOHANG);
		if (got == child)
			break;
		if (got < 0 && errno != EINTR) {
			ctl_err("run", "waiting for %d: %s", (int)child, strerror(errno));
			return RUN_OWN_FAILURE;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int cmd_run(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
	static const int waited[] = { SIGCHLD, SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_chld;
	sigset_t set, old;
	struct run_report rep;
	char path[PATH_MAX];
	int pipefd[2], ret, status;
	ssize_t n;
	pid_t child;

	ret = ctl_parse(ctl, cmd, &argc, &argv, 1, -1, NULL);
	if (ret >= 0)
		return ret;
	ret = find_program(argv[0], path, sizeof(path));
	if (ret < 0) {
		ctl_err("run", "%s: %s", argv[0], strerror(-ret));
		return ret == -ENOENT ? RUN_NOT_FOUND : RUN_CANNOT_EXEC;
	}
	if (!ctl_need_module(ctl, "run"))
		return RUN_OWN_FAILURE;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		ctl_err("run", "pipe: %s", strerror(errno));
		return RUN_OWN_FAILURE;
	}
	/*
	 * Blocked before the fork, so that no SIGCHLD can come before the wait;
	 * and not ignored, or the kernel would reap the child itself.
	 */
	sigaction(SIGCHLD, &dfl, &old_chld);
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(waited) / sizeof(waited[0]); i++)
		sigaddset(&set, waited[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	child = fork();
	if (child < 0) {
		ctl_err("run", "fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		sigaction(SIGCHLD, &old_chld, NULL);
		close(pipefd[0]);
		close(pipefd[1]);
		return RUN_OWN_FAILURE;
	}
	if (child == 0) {
		close(pipefd[0]);
		run_child(ctl, pipefd[1], &old, &old_chld, path, argv);
	}
	close(pipefd[1]);
	/* End of file: the exec closed the pipe.  A report: the child did not exec. */
	do {
		n = read(pipefd[0], &rep, sizeof(rep));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	status = run_wait(child, &set);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGCHLD, &old_chld, NULL);
	if (n != (ssize_t)sizeof(rep))
		return status;
	if (rep.stage == RUN_STAGE_ENROLL)
		ctl_err("run", "enroll %d: %s", (int)child, ftm_strerror(rep.err, "enroll"));
	else
		ctl_err("run", "%s: %s", argv[0], strerror(-rep.err));
	return status;
}
