// SPDX-License-Identifier: GPL-2.0
/*
 * The generic hooks.  Each is registered with the kernel only while it is
 * armed, so a disarmed hook costs nothing; a hook that fires while being
 * disarmed checks its enabled flag and does nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/kdebug.h>
#include <linux/kernel.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/reboot.h>
#include <linux/sched/task_stack.h>
#include <linux/string.h>

#include "ftm.h"
#include "ftm_arch_ops.h"

#define FTM_HOOK(id, n, c) [id] = { .name = n, .available = true, .crash = c }

struct ftm_hook ftm_hooks[FTM_NR_HOOKS] = {
	FTM_HOOK(FTM_HOOK_PANIC, "panic", true),
	FTM_HOOK(FTM_HOOK_DIE, "die", true),
	FTM_HOOK(FTM_HOOK_NMI, "nmi", true),
	FTM_HOOK(FTM_HOOK_REBOOT, "reboot", false),
	FTM_HOOK(FTM_HOOK_KEXEC, "kexec", false),
	FTM_HOOK(FTM_HOOK_CPU_OFFLINE, "cpu_offline", false),
	FTM_HOOK(FTM_HOOK_EXIT, "exit", false),
	FTM_HOOK(FTM_HOOK_APERTURE, "aperture", false),
	FTM_HOOK(FTM_HOOK_MANUAL, "manual", false),
};

/* Panic context: interrupts off, the other CPUs stopped (or being stopped). */
static int ftm_panic_event(struct notifier_block *nb, unsigned long val, void *data)
{
	ftm_flush_crash(FTM_HOOK_PANIC);
	return NOTIFY_DONE;
}

/* Before other panic notifiers: the machine may not survive them. */
static struct notifier_block ftm_panic_nb = {
	.notifier_call = ftm_panic_event,
	.priority = INT_MAX,
};

/*
 * Oops context (interrupts off, maybe NMI).  Only a real oops: int3, debug
 * and GPF traffic go through this chain too.
 */
static int ftm_die_event(struct notifier_block *nb, unsigned long val, void *data)
{
	if (val == DIE_OOPS)
		ftm_flush_crash(FTM_HOOK_DIE);
	return NOTIFY_DONE;
}

static struct notifier_block ftm_die_nb = {
	.notifier_call = ftm_die_event,
	.priority = INT_MAX,
};

/*
 * kernel_kexec() runs the reboot chain with the constant "kexec reboot".
 * reboot(2) with LINUX_REBOOT_CMD_RESTART2 passes any string the caller
 * likes, copied into a buffer on the syscall's stack: a command on the
 * stack is never kexec.  (kexec_in_progress, the kernel's own signal, is
 * not exported to modules.)  Process context.
 */
static bool ftm_reboot_is_kexec(unsigned long val, const char *cmd)
{
	return val == SYS_RESTART && cmd && !object_is_on_stack(cmd) &&
	       !strcmp(cmd, "kexec reboot");
}

static int ftm_reboot_event(struct notifier_block *nb, unsigned long val, void *data)
{
	if (ftm_reboot_is_kexec(val, data))
		ftm_flush_process(FTM_HOOK_KEXEC);
	else
		ftm_flush_process(FTM_HOOK_REBOOT);
	return NOTIFY_DONE;
}

static struct notifier_block ftm_reboot_nb = {
	.notifier_call = ftm_reboot_event,
	.priority = INT_MAX,
};

/*
 * Teardown callback: runs on the CPU going away, before it stops, in its
 * hotplug thread (process context, hotplug lock held for write).
 */
static int ftm_cpu_down(unsigned int cpu)
{
	ftm_flush_local(FTM_HOOK_CPU_OFFLINE);
	return 0;
}

static int ftm_cpuhp_state;
static bool ftm_others_armed, ftm_panic_cache_armed;

/*
 * The handshake (other CPUs answer by NMI: their whole cache written back
 * with cache, a part of the set with lines, ftm_flush.c) is wanted while a
 * crash hook is armed; the decorated stop path while the panic hook is
 * (with lines it runs the panic flush split over every CPU).  An arch without them keeps today's
 * one-CPU walk: only a method that may pick cache warns.  ftm_cfg_lock held.
 */
static void ftm_cache_helpers_update(void)
{
	bool cache = ftm_flush_may_use_cache();
	bool others = ftm_hooks[FTM_HOOK_PANIC].enabled || ftm_hooks[FTM_HOOK_DIE].enabled ||
		      ftm_hooks[FTM_HOOK_NMI].enabled;
	bool panic = ftm_hooks[FTM_HOOK_PANIC].enabled;

	if (others && !ftm_others_armed) {
		if (!ftm_arch_cache_others_arm())
			ftm_others_armed = true;
		else if (cache)
			pr_warn("other CPUs' caches will not be written back at a crash\n");
	}
	if (panic != ftm_panic_cache_armed) {
		if (!panic) {
			ftm_arch_panic_cache_disarm();
			ftm_panic_cache_armed = false;
		} else if (!ftm_arch_panic_cache_arm()) {
			ftm_panic_cache_armed = true;
		} else if (cache) {
			pr_warn("panic: other CPUs' caches will not be written back\n");
		}
	}
	if (!others && ftm_others_armed) {
		ftm_arch_cache_others_disarm();
		ftm_others_armed = false;
	}
}

void ftm_hooks_method_changed(void)
{
	lockdep_assert_held(&ftm_cfg_lock);
	ftm_cache_helpers_update();
}

static int ftm_hook_arm(enum ftm_hook_id hook)
{
	int ret;

	switch (hook) {
	case FTM_HOOK_PANIC:
		return atomic_notifier_chain_register(&panic_notifier_list, &ftm_panic_nb);
	case FTM_HOOK_DIE:
		return register_die_notifier(&ftm_die_nb);
	case FTM_HOOK_NMI:
		return ftm_arch_nmi_arm();
	case FTM_HOOK_REBOOT:
	case FTM_HOOK_KEXEC:
		/* One notifier serves both. */
		if (ftm_hooks[FTM_HOOK_REBOOT].enabled || ftm_hooks[FTM_HOOK_KEXEC].enabled)
			return 0;
		return register_reboot_notifier(&ftm_reboot_nb);
	case FTM_HOOK_CPU_OFFLINE:
		ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "flushtm:cpu_offline",
						NULL, ftm_cpu_down);
		if (ret < 0)
			return ret;
		ftm_cpuhp_state = ret;
		return 0;
	default:
		return 0;
	}
}

static void ftm_hook_disarm(enum ftm_hook_id hook)
{
	switch (hook) {
	case FTM_HOOK_PANIC:
		atomic_notifier_chain_unregister(&panic_notifier_list, &ftm_panic_nb);
		break;
	case FTM_HOOK_DIE:
		unregister_die_notifier(&ftm_die_nb);
		break;
	case FTM_HOOK_NMI:
		ftm_arch_nmi_disarm();
		break;
	case FTM_HOOK_REBOOT:
	case FTM_HOOK_KEXEC:
		if (!ftm_hooks[FTM_HOOK_REBOOT].enabled && !ftm_hooks[FTM_HOOK_KEXEC].enabled)
			unregister_reboot_notifier(&ftm_reboot_nb);
		break;
	case FTM_HOOK_CPU_OFFLINE:
		cpuhp_remove_state_nocalls(ftm_cpuhp_state);
		break;
	default:
		break;
	}
}

int ftm_hook_set_enabled(enum ftm_hook_id hook, bool on)
{
	struct ftm_hook *h = &ftm_hooks[hook];
	int ret;

	lockdep_assert_held(&ftm_cfg_lock);
	if (on && !h->available)
		return -EOPNOTSUPP;
	if (on == h->enabled)
		return 0;
	if (on) {
		ret = ftm_hook_arm(hook);
		if (ret)
			return ret;
		WRITE_ONCE(h->enabled, true);
	} else {
		WRITE_ONCE(h->enabled, false);
		ftm_hook_disarm(hook);
	}
	if (h->crash)
		ftm_cache_helpers_update();
	return 0;
}

void ftm_hooks_init(void)
{
	ftm_hooks[FTM_HOOK_NMI].available = ftm_arch_has_nmi();
	/*
	 * manual and aperture are requests, not crashes: armed from the start
	 * so that `flush` works and a withdrawn range is flushed by default.
	 */
	ftm_hooks[FTM_HOOK_MANUAL].enabled = true;
	ftm_hooks[FTM_HOOK_APERTURE].enabled = true;
}

/* Unload: disarm everything; the unregister calls wait for running callbacks. */
void ftm_hooks_exit(void)
{
	int i;

	mutex_lock(&ftm_cfg_lock);
	for (i = 0; i < FTM_NR_HOOKS; i++)
		ftm_hook_set_enabled(i, false);
	mutex_unlock(&ftm_cfg_lock);
}
