// SPDX-License-Identifier: GPL-2.0
/*
 * The fixed stress scenarios (stress.h): each tool run in a process group
 * of its own under a deadline, fault injection through debugfs.
 */
#include <dirent.h>

#include "stress.h"

int stress_deadline = STRESS_DEADLINE;

/* Every task of process group @pgid: state, wait channel, kernel stack. */
static void stress_dump_group(pid_t pgid)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;

	while (proc && (d = readdir(proc))) {
		pid_t pid = atoi(d->d_name);

		if (pid > 0 && getpgid(pid) == pgid)
			dump_process(pid);
	}
	if (proc)
		closedir(proc);
	/* The kernel's view too: every task in uninterruptible sleep. */
	fz_write_file("/proc/sysrq-trigger", "w");
}

/*
 * Kills a hung tool's whole process group and reaps it if it can; a task
 * stuck in the kernel cannot die, and then the tool is left behind.
 */
static int stress_reap_hung(pid_t pid, const char *arg0)
{
	double t0 = fz_now();
	int st;

	fz_log("stress: HANG: %s (pid %d) still running after %d s; its tasks:\n", arg0, pid,
	       stress_deadline);
	stress_dump_group(pid);
	kill(-pid, SIGKILL);
	while (fz_now() - t0 < 30) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return FZ_EXIT_HANG;
		usleep(100000);
	}
	fz_log("stress: %s (pid %d) survives SIGKILL: stuck in the kernel\n", arg0, pid);
	stress_dump_group(pid);
	return FZ_EXIT_HANG;
}

/*
 * Runs a tool's main in a child process, in a process group of its own so
 * that a hang can be dumped and killed as a whole; returns its exit status.
 */
int stress_run(int (*fn)(int, char **), const char *arg0, ...)
{
	char *argv[32];
	double t0 = fz_now();
	va_list ap;
	int argc = 0, st;
	pid_t pid, w;

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
	if (pid == 0) {
		setpgid(0, 0);
		_exit(fn(argc, argv));
	}
	setpgid(pid, pid);
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (w < 0 && errno != EINTR)
			return FZ_EXIT_FAIL;
		if (fz_now() - t0 > stress_deadline)
			return stress_reap_hung(pid, arg0);
		usleep(50000);
	}
}

static int fi_write(const char *knob, const char *file, const char *val)
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
static int failinject_set(int pct)
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

static void failinject_off(void)
{
	fi_write("failslab", "probability", "0");
	fi_write("fail_page_alloc", "probability", "0");
}

bool failinject_available(void)
{
	return !access(FAILINJECT_DIR "/failslab/probability", W_OK) &&
	       !access(FAILINJECT_DIR "/fail_page_alloc/probability", W_OK);
}

/*
 * Model and chaos runs at each probability.  @secs is the whole budget.
 * Returns a kselftest exit code.
 */
int stress_failinject(double secs, const int *pcts, int npct)
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

int stress_scenario(const char *name)
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
