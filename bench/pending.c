// SPDX-License-Identifier: GPL-2.0
/*
 * Slots for features winvm does not have yet, printed as "pending" so the
 * table keeps its shape and later runs fill them in:
 *
 *  xproc.query: VirtualQueryEx of another process, against reading the
 *  target's /proc/PID/maps.
 *
 * (Write watch has its own program now, bench/watch.c.)
 */
#include "bench.h"

int main(void)
{
	bench_start("9. pending: cross-process");
	report("xproc.query", "VirtualQueryEx", "ns/query", V_PENDING, V_PENDING,
	       "winvm: not implemented; native: /proc/PID/maps of the target");
	return 0;
}
