// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-stress: one static binary linking winvm-fuzz, winvm-race and
 * winvm-limits, plus the fixed scenarios "make stress" runs in the guest.
 * The guest runs programs without arguments, so the scenario comes from
 * the name the binary is called by (tools/fuzz/Makefile installs copies):
 *
 *   stress-model       model mode, 2 processes, STRESS_SECONDS_MODEL s
 *   stress-chaos       chaos mode, 4 threads x 3 processes
 *   stress-race        every winvm-race scenario, 4 threads
 *   stress-failinject  model and chaos under failslab + fail_page_alloc at
 *                      several probabilities (debug kernel; SKIP elsewhere)
 *   stress-limits      winvm-limits (memcg accounting, kernel-memory bounds)
 *
 * or from argv[1]: winvm-stress fuzz|race|limits ARGS...  A process the
 * fuzzer exec()s (/proc/self/exe --winvm-fuzz-exec-child) lands here too.
 */
#include "stress.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
	const char *me = base_name(argv[0]);

	if (argc > 1 && !strcmp(argv[1], FZ_EXEC_CHILD_ARG))
		return fz_exec_child_main(argc, argv);
	if (!strcmp(me, "winvm-fuzz"))
		return fz_fuzz_main(argc, argv);
	if (!strcmp(me, "winvm-race"))
		return fz_race_main(argc, argv);
	if (!strcmp(me, "winvm-limits"))
		return fz_limits_main(argc, argv);
	if (!strncmp(me, "stress-", 7))
		return stress_scenario(me + 7);
	if (argc > 1 && !strcmp(argv[1], "fuzz"))
		return fz_fuzz_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "race"))
		return fz_race_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "limits"))
		return fz_limits_main(argc - 1, argv + 1);
	if (argc > 1)
		return stress_scenario(argv[1]);
	fz_dprintf(2, "usage: winvm-stress fuzz|race|limits ARGS... | model|chaos|race|failinject|limits\n");
	return 2;
}
