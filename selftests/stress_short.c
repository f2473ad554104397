// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: a short run of the fuzz and stress tools of
 * tools/fuzz (the long one is "make stress").  Fixed seeds, small budgets:
 * model-mode fuzzing against the model of the address space, multi-threaded
 * and multi-process chaos, the race scenarios with their data-integrity
 * checks, the memcg/kernel-memory limits, and (on the debug kernel) a
 * fault-injection pass.  The tools are linked in (libwinvm-fuzz.a), so the
 * guest needs nothing else; processes the fuzzer exec()s come back here.
 */
#include "../tools/fuzz/stress.h"

#pragma GCC diagnostic ignored "-Wclobbered"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

static bool have_winvm(void)
{
	int fd = open("/dev/winvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	if (!have_winvm())
		SKIP(return, "no /dev/winvm: winvm module not loaded");
	self->unused = 0;
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* Model mode, three fixed seeds: the printed seed and step reproduce a failure. */
TEST_F_TIMEOUT(fuzz, fuzz_model, 600)
{
	static const char *const seeds[] = { "1", "2", "3" };
	unsigned int i;

	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, stress_run(fz_fuzz_main, "winvm-fuzz", "--mode", "model", "--seed",
					seeds[i], "--ops", "1500", "--procs", "1", "--full-every",
					"50", "--avoid", WINVM_STRESS_AVOID, (char *)NULL));
}

/* 4 threads x 2 processes, plus forks, execs and exits. */
TEST_F_TIMEOUT(fuzz, fuzz_chaos, 600)
{
	EXPECT_EQ(0, stress_run(fz_fuzz_main, "winvm-fuzz", "--mode", "chaos", "--seed", "7",
				"--ops", "30000", "--time", "20", "--threads", "4", "--procs", "2",
				"--avoid", WINVM_STRESS_AVOID, (char *)NULL));
}

TEST_F_TIMEOUT(fuzz, race, 600)
{
	EXPECT_EQ(0, stress_run(fz_race_main, "winvm-race", "--time", "15", "--threads", "4",
				(char *)NULL));
}

TEST_F_TIMEOUT(fuzz, limits, 600)
{
	int rc = stress_run(fz_limits_main, "winvm-limits", "--quick", (char *)NULL);

	if (rc == FZ_EXIT_SKIP)
		SKIP(return, "no cgroup2 memory controller");
	EXPECT_EQ(0, rc);
}

TEST_F_TIMEOUT(fuzz, failinject, 600)
{
	static const int pcts[] = { 5 };
	int rc;

	if (!failinject_available())
		SKIP(return, "no failslab/fail_page_alloc in debugfs (not the debug kernel)");
	rc = stress_failinject(16, pcts, 1);
	EXPECT_EQ(0, rc);
}

int main(int argc, char **argv)
{
	const char *me = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	/* Each short run takes under a minute; hung ones are dumped well before the guest watchdog. */
	stress_deadline = 240;
	/* Processes the fuzzer re-executes or exec()s land here. */
	if (argc > 1 && !strcmp(argv[1], FZ_EXEC_CHILD_ARG))
		return fz_exec_child_main(argc, argv);
	if (!strcmp(me, "winvm-fuzz"))
		return fz_fuzz_main(argc, argv);
	return test_harness_run(argc, argv);
}
