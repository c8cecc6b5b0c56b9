/* SPDX-License-Identifier: GPL-2.0 */
/* User-space stand-ins for what kmod/engine/ftm_engine.c takes from the kernel. */
#ifndef FTM_SHIM_USER_H
#define FTM_SHIM_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;

/* No watchdog to feed in user space. */
#define ftm_feed_watchdog() do { } while (0)

#endif
