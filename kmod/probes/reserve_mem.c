// SPDX-License-Identifier: GPL-2.0
/*
 * Kbuild feature probe, never built into the module: compiles where the
 * kernel has reserve_mem_find_by_name() (the reserve_mem= boot parameter's
 * labels, Linux 6.11 on), and Kbuild then defines FTM_HAVE_RESERVE_MEM.
 */
#include <linux/mm.h>

int ftm_probe(void);
int ftm_probe(void)
{
	phys_addr_t start, size;

	return reserve_mem_find_by_name("probe", &start, &size);
}
