// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ftm-traced: COUNT numbered LTTng-UST events ("ftm-event N" through
 * tracef()), then, with --stay, waits (the session stays live until the
 * crash).  Prints the last event number it traced.
 */
#include <lttng/tracef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--stay")) ||
	    (count = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: ftm-traced COUNT [--stay]\n");
		return 2;
	}
	for (long n = 1; n <= count; n++)
		tracef("ftm-event %ld", n);
	printf("last event traced: %ld\n", count);
	fflush(stdout);
	while (argc == 3)
		pause();
	return 0;
}
