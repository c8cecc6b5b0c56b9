// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ftm-records: numbered records in a file on a DAX file system, stored
 * through a shared mapping and never flushed by the program (no msync, no
 * clwb): what a crash leaves of them is what the kernel wrote back.
 *
 *   ftm-records write FILE COUNT   make FILE (COUNT records, space made and
 *                                  fsync'ed first so that the file itself
 *                                  survives), store records 1..COUNT, print
 *                                  the last one stored
 *   ftm-records read FILE          print the last record of the unbroken run
 *                                  1..N found; exit 1 when there is none
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define RECORD_SIZE 32

static int fail(const char *what, int err)
{
	fprintf(stderr, "ftm-records: %s: %s\n", what, strerror(err));
	return 1;
}

static void format_record(char *slot, unsigned long n)
{
	char buf[RECORD_SIZE];
	int len;

	/* 31 characters and a newline: "ftm-record 0000000042" and spaces */
	memset(buf, ' ', sizeof(buf));
	len = snprintf(buf, sizeof(buf), "ftm-record %010lu", n);
	buf[len] = ' ';
	buf[RECORD_SIZE - 1] = '\n';
	memcpy(slot, buf, RECORD_SIZE);
}

static int do_write(const char *file, unsigned long count)
{
	size_t size = count * RECORD_SIZE;
	const char *kind = "DAX (MAP_SYNC)";
	char *map;
	int fd;

	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail(file, errno);
	if ((errno = posix_fallocate(fd, 0, (off_t)size)) || fsync(fd))
		return fail(file, errno);
	/* MAP_SYNC is refused where stores would not reach the media directly. */
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (map == MAP_FAILED) {
		kind = "not DAX: MAP_SYNC refused, page cache";
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (map == MAP_FAILED)
		return fail("mmap", errno);
	for (unsigned long n = 1; n <= count; n++)
		format_record(map + (n - 1) * RECORD_SIZE, n);
	printf("ftm-records: stored records 1..%lu in %s, %zu bytes, mapping %s; not flushed\n",
	       count, file, size, kind);
	printf("last record stored: %lu\n", count);
	return 0;
}

static int do_read(const char *file)
{
	char slot[RECORD_SIZE], want[RECORD_SIZE];
	unsigned long n = 0;
	FILE *f = fopen(file, "re");

	if (!f)
		return fail(file, errno);
	while (fread(slot, 1, RECORD_SIZE, f) == RECORD_SIZE) {
		format_record(want, n + 1);
		if (memcmp(slot, want, RECORD_SIZE))
			break;
		n++;
	}
	fclose(f);
	if (!n) {
		fprintf(stderr, "ftm-records: %s: no record 1\n", file);
		return 1;
	}
	printf("last record read back: %lu\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long count;

	if (argc == 3 && !strcmp(argv[1], "read"))
		return do_read(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "write")) {
		errno = 0;
		count = strtoul(argv[3], &end, 10);
		if (errno || *end || !count || count > (1ul << 24))
			return fail(argv[3], EINVAL);
		return do_write(argv[2], count);
	}
	fprintf(stderr, "usage: ftm-records write FILE COUNT | ftm-records read FILE\n");
	return 2;
}
