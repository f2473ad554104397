/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixed stress scenarios, shared by tools/fuzz/winvm-stress.c ("make
 * stress", long) and selftests/stress_short.c ("make test", short).
 * Include after winvm-fuzz.c, winvm-race.c and winvm-limits.c.
 */
#ifndef WINVM_STRESS_H
#define WINVM_STRESS_H

/* Seconds per scenario; tools/fuzz/Makefile passes STRESS_SECONDS. */
#ifndef STRESS_SECONDS
#define STRESS_SECONDS	60
#endif

/*
 * What the scenarios do not provoke, so that they keep looking for new
 * problems: "vma-unmap" (a native munmap/mmap/mremap of some whole VMAs of
 * an allocation) is documented behaviour (README) that the model does not
 * follow; "nomem-state" (a call that fails with NO_MEMORY after changing
 * state) was a bug, fixed (operations now restore the old page state and
 * retry their remaps) and covered by selftests/regress.c
 * failed_call_changes_nothing; the random fault-injection runs still avoid
 * it until a long make stress has shown them clean.
 */
#ifndef WINVM_STRESS_AVOID
#define WINVM_STRESS_AVOID	"vma-unmap,nomem-state"
#endif

#define FAILINJECT_DIR	"/sys/kernel/debug"

/* Runs a tool's main in a child process; returns its exit status. */
static FZ_UNUSED int stress_run(int (*fn)(int, char **), const char *arg0, ...)
{
	char *argv[32];
	va_list ap;
	int argc = 0;
	pid_t pid;

	argv[argc++] = (char *)arg0;
	va_start(ap, arg0);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return FZ_EXIT_FAIL;
	if (pid == 0)
		_exit(fn(argc, argv));
	return fz_wait(pid);
}

static FZ_UNUSED int fi_write(const char *knob, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), FAILINJECT_DIR "/%s/%s", knob, file);
	return fz_write_file(path, val);
}

/*
 * failslab and fail_page_alloc at @pct percent, for tasks with
 * /proc/self/make-it-fail set (the fuzzers set it in their own processes
 * with --failinject), sleeping allocations included, silently.
 */
static FZ_UNUSED int failinject_set(int pct)
{
	static const char *const knobs[] = { "failslab", "fail_page_alloc" };
	char p[16];
	unsigned int i;
	int err = 0;

	snprintf(p, sizeof(p), "%d", pct);
	for (i = 0; i < 2; i++) {
		err |= fi_write(knobs[i], "probability", "0");
		err |= fi_write(knobs[i], "interval", "1");
		err |= fi_write(knobs[i], "times", "-1");
		err |= fi_write(knobs[i], "space", "0");
		err |= fi_write(knobs[i], "verbose", "0");
		err |= fi_write(knobs[i], "task-filter", "Y");
		err |= fi_write(knobs[i], "ignore-gfp-wait", "N");
	}
	err |= fi_write("fail_page_alloc", "ignore-gfp-highmem", "N");
	err |= fi_write("fail_page_alloc", "min-order", "0");
	err |= fi_write("failslab", "cache-filter", "N");
	for (i = 0; i < 2 && !err; i++)
		err |= fi_write(knobs[i], "probability", p);
	return err ? -1 : 0;
}

static FZ_UNUSED void failinject_off(void)
{
	fi_write("failslab", "probability", "0");
	fi_write("fail_page_alloc", "probability", "0");
}

static FZ_UNUSED bool failinject_available(void)
{
	return !access(FAILINJECT_DIR "/failslab/probability", W_OK) &&
	       !access(FAILINJECT_DIR "/fail_page_alloc/probability", W_OK);
}

/*
 * Model and chaos runs at each probability.  @secs is the whole budget.
 * Returns a kselftest exit code.
 */
static FZ_UNUSED int stress_failinject(double secs, const int *pcts, int npct)
{
	char t[32], seed[32];
	int i, rc, result = FZ_EXIT_PASS, bad;

	if (!failinject_available()) {
		fz_log("stress-failinject: SKIP: no %s/failslab and fail_page_alloc (kernel without CONFIG_FAILSLAB/CONFIG_FAIL_PAGE_ALLOC/debugfs)\n",
		       FAILINJECT_DIR);
		return FZ_EXIT_SKIP;
	}
	snprintf(t, sizeof(t), "%.0f", secs / npct / 2 > 1 ? secs / npct / 2 : 1);
	noise_begin();
	for (i = 0; i < npct && result == FZ_EXIT_PASS; i++) {
		if (failinject_set(pcts[i])) {
			fz_log("stress-failinject: cannot configure fault injection\n");
			result = FZ_EXIT_FAIL;
			break;
		}
		fz_log("# fault injection: failslab + fail_page_alloc at %d%%\n", pcts[i]);
		snprintf(seed, sizeof(seed), "%d", 1000 + pcts[i]);
		rc = stress_run(fz_fuzz_main, "winvm-fuzz", "--mode", "model", "--failinject",
				"--seed", seed, "--ops", "100000000", "--time", t, "--procs", "1",
				"--full-every", "25", "--avoid", WINVM_STRESS_AVOID, (char *)NULL);
		if (rc)
			result = FZ_EXIT_FAIL;
		rc = stress_run(fz_fuzz_main, "winvm-fuzz", "--mode", "chaos", "--failinject",
				"--seed", seed, "--ops", "100000000", "--time", t, "--threads", "4",
				"--procs", "2", "--avoid", WINVM_STRESS_AVOID, (char *)NULL);
		if (rc)
			result = FZ_EXIT_FAIL;
		failinject_off();
	}
	failinject_off();
	/* And deterministic: the n-th allocation inside random ioctls fails. */
	if (result == FZ_EXIT_PASS) {
		fz_log("# fault injection: fail-nth inside ioctls\n");
		rc = stress_run(fz_fuzz_main, "winvm-fuzz", "--mode", "model", "--fail-nth",
				"--seed", "4242", "--ops", "100000000", "--time", t, "--procs", "1",
				"--full-every", "25", "--avoid", WINVM_STRESS_AVOID, (char *)NULL);
		if (rc)
			result = FZ_EXIT_FAIL;
	}
	bad = noise_end();
	if (bad) {
		fz_log("stress-failinject: %d kernel splat lines during fault injection\n", bad);
		result = FZ_EXIT_FAIL;
	}
	fz_log("stress-failinject: result=%s\n", result ? "FAIL" : "PASS");
	return result;
}

static FZ_UNUSED int stress_scenario(const char *name)
{
	char t[32];

	snprintf(t, sizeof(t), "%d", STRESS_SECONDS);
	if (!strcmp(name, "model"))
		return stress_run(fz_fuzz_main, "winvm-fuzz", "--mode", "model", "--seed", "1",
				  "--ops", "100000000", "--time", t, "--procs", "2",
				  "--avoid", WINVM_STRESS_AVOID, (char *)NULL);
	if (!strcmp(name, "chaos"))
		return stress_run(fz_fuzz_main, "winvm-fuzz", "--mode", "chaos", "--seed", "1",
				  "--ops", "100000000", "--time", t, "--threads", "4", "--procs", "3",
				  "--avoid", WINVM_STRESS_AVOID, (char *)NULL);
	if (!strcmp(name, "race"))
		return stress_run(fz_race_main, "winvm-race", "--time", t, "--threads", "4",
				  (char *)NULL);
	if (!strcmp(name, "limits"))
		return stress_run(fz_limits_main, "winvm-limits", (char *)NULL);
	if (!strcmp(name, "failinject")) {
		static const int pcts[] = { 1, 5, 10, 25 };

		return stress_failinject(2.0 * STRESS_SECONDS, pcts, 4);
	}
	fz_dprintf(2, "unknown stress scenario %s\n", name);
	return 2;
}

#endif /* WINVM_STRESS_H */
