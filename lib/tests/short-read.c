// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * LD_PRELOAD shim for the unit tests: every read(2) returns at most 7 bytes,
 * as a FUSE or network file system may.  Code that assumes one read(2)
 * returns a whole regular file fails under it.
 */
#include <dlfcn.h>
#include <unistd.h>

ssize_t read(int fd, void *buf, size_t count)
{
	static ssize_t (*real_read)(int, void *, size_t);

	if (!real_read)
		real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	return real_read(fd, buf, count > 7 ? 7 : count);
}
