/* SPDX-License-Identifier: GPL-2.0 */
/* User-space stand-ins for what kmod/engine/ftm_engine.c takes from the kernel. */
#ifndef FTM_SHIM_USER_H
#define FTM_SHIM_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;

#define U64_MAX UINT64_MAX
#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

#ifdef FTM_ENGINE_TEST
/* The unit test checks that the watchdog is fed often enough. */
void ftm_test_feed_watchdog(void);
#define ftm_feed_watchdog() ftm_test_feed_watchdog()
#else
/* No watchdog to feed in user space. */
#define ftm_feed_watchdog() do { } while (0)
#endif

#endif
