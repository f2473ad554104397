// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz (the driver: options, the processes of a run, the report,
 * exec children): seeded random sequences of winvm ioctls interleaved with
 * native memory syscalls, memory accesses, fork, exec and exit.
 *
 *   winvm-fuzz [--seed N] [--ops N] [--time S] [--threads N] [--procs N]
 *              [--mode model|chaos] [--nomem-ok] [--failinject] [--avoid LIST]
 *              [--verbose] [--full-every N]
 *
 * model: every process runs one thread against its own model of the
 *   address space (allocations, per-page state, protections, the first
 *   byte of every page) and, after each step, checks the model against
 *   MEM_QUERY (state, protection, allocation base and protection, region
 *   and allocation sizes, commit size) and /proc/self/maps (the VMAs that
 *   show each allocation, their execute permission, every other mapping).
 *   Ioctl statuses are predicted exactly from the module's documented
 *   rules.  Deterministic: it re-executes itself without ASLR, so a seed
 *   and an op count reproduce a run.
 * chaos: --procs processes of --threads threads hammer shared allocations,
 *   views and section fds; only invariants that hold under any
 *   interleaving are checked (errno/status agreement, self-consistent
 *   MEM_QUERY fields, fault records that match the signal), plus crashes
 *   and hangs (a watchdog dumps the kernel stacks of stuck threads).
 *
 * --nomem-ok: NO_MEMORY / ENOMEM is an allowed outcome of anything (fault
 *   injection); a failed call must still leave the model unchanged.
 * --failinject: also sets /proc/self/make-it-fail for the fuzzing
 *   processes (the debugfs knobs are the caller's business).
 * --fail-nth: model mode; before some ioctls, /proc/thread-self/fail-nth
 *   makes the n-th allocation of that call fail (failslab/fail_page_alloc
 *   with ignore-gfp-wait=N): deterministic, reproducible injection.
 * --avoid: comma-separated classes not to provoke, so a run can look for
 *   new problems: dofork, cow-punch (fixed bugs), nomem-state (open bug),
 *   vma-unmap (native removal of some VMAs of an allocation: documented
 *   behaviour the model does not follow); see selftests/regress.c.
 *
 * The last line is "winvm-fuzz: ... ops=N ... result=PASS|FAIL".
 * Exit status: 0 pass, 1 failure, 2 hang, 4 skip (no /dev/winvm).
 */
#include "chaos.h"

struct fz_opts O = {
	.seed = 1, .ops = 20000, .threads = 4, .procs = 2, .mode = MODE_MODEL,
	.full_every = 50, .hang_s = 180,
};
struct fz_shared *SH;
uint64_t g_features;
int g_shfd = -1;


/* A process the fuzzer exec()ed: a short life of its own. */
int fz_exec_child_main(int argc, char **argv)
{
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	int oldfd = argc > 3 ? atoi(argv[3]) : -1, shfd = argc > 4 ? atoi(argv[4]) : -1;
	bool nomem = argc > 5 && !strcmp(argv[5], "nomem");
	struct fz_rng rng = { seed };
	struct winvm_query_args q;
	struct fz_res r;
	int fd, i, fails = 0;

	if (shfd >= 0) {
		void *p = mmap(NULL, sizeof(struct fz_shared), PROT_READ | PROT_WRITE, MAP_SHARED,
			       shfd, 0);

		if (p != MAP_FAILED)
			SH = p;
	}
	fz_install_signals();
	if (oldfd >= 0) {
		/* The context of the address space exec() replaced. */
		memset(&q, 0, sizeof(q));
		q.address = 0x10000;
		r = fz_call(oldfd, WINVM_IOC_MEM_QUERY, &q);
		if (r.rc != -EBADF && r.rc != -ENOMEM) {
			fz_log("# exec child: old context query -> rc %d %s\n", r.rc,
			       winvm_abi_status_name(r.status));
			fails++;
		}
		close(oldfd);
	}
	fd = fz_open_winvm();
	if (fd < 0)
		return 0;
	for (i = 0; i < 20; i++) {
		struct winvm_alloc_args a;
		struct winvm_free_args f;

		memset(&a, 0, sizeof(a));
		a.size = FZ_PAGE * (1 + fz_below(&rng, 16));
		a.type = WINVM_MEM_RESERVE | WINVM_MEM_COMMIT;
		a.protect = WINVM_PAGE_READWRITE;
		r = fz_call(fd, WINVM_IOC_MEM_ALLOC, &a);
		if (r.rc) {
			if (r.rc != -ENOMEM)
				fails++;
			continue;
		}
		if (!fz_try_write((void *)(uintptr_t)a.address, 0xc3)) {
			if (!nomem)
				fails++;
		} else if (*(volatile uint8_t *)(uintptr_t)a.address != 0xc3) {
			fails++;
		}
		if (fz_chance(&rng, 50)) {
			memset(&f, 0, sizeof(f));
			f.address = a.address;
			f.type = WINVM_MEM_RELEASE;
			r = fz_call(fd, WINVM_IOC_MEM_FREE, &f);
			if (r.rc && r.rc != -ENOMEM)
				fails++;
		}
		if (SH)
			atomic_fetch_add(&SH->ops, 2);
	}
	if (fails && SH)
		fz_fail(SH, "exec child: %d failures", fails);
	return fails ? 1 : 0;
}

static void usage(void)
{
	fz_dprintf(2, "usage: winvm-fuzz [--seed N] [--ops N] [--time S] [--threads N] [--procs N]\n"
		      "                  [--mode model|chaos] [--nomem-ok] [--failinject] [--fail-nth]\n"
		      "                  [--avoid dofork,vma-unmap,cow-punch,nomem-state] [--full-every N] [--verbose]\n");
}

static int parse_opts(int argc, char **argv)
{
	int i;

	O.argv0 = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seed") && v)
			O.seed = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--ops") && v)
			O.ops = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--time") && v)
			O.time = strtod(v, NULL), i++;
		else if (!strcmp(a, "--threads") && v)
			O.threads = atoi(v), i++;
		else if (!strcmp(a, "--procs") && v)
			O.procs = atoi(v), i++;
		else if (!strcmp(a, "--full-every") && v)
			O.full_every = atoi(v), i++;
		else if (!strcmp(a, "--hang") && v)
			O.hang_s = strtod(v, NULL), i++;
		else if (!strcmp(a, "--mode") && v) {
			if (!strcmp(v, "model"))
				O.mode = MODE_MODEL;
			else if (!strcmp(v, "chaos"))
				O.mode = MODE_CHAOS;
			else
				return -1;
			i++;
		} else if (!strcmp(a, "--avoid") && v) {
			if (strstr(v, "dofork"))
				O.avoid |= AVOID_DOFORK;
			if (strstr(v, "vma-unmap"))
				O.avoid |= AVOID_VMA_UNMAP;
			if (strstr(v, "cow-punch"))
				O.avoid |= AVOID_COW_PUNCH;
			if (strstr(v, "nomem-state"))
				O.avoid |= AVOID_NOMEM_STATE;
			if (strstr(v, "all"))
				O.avoid = ~0u;
			i++;
		} else if (!strcmp(a, "--nomem-ok"))
			O.nomem_ok = true;
		else if (!strcmp(a, "--failinject"))
			O.failinject = O.nomem_ok = true;
		else if (!strcmp(a, "--fail-nth"))
			O.fail_nth = O.nomem_ok = true;
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			O.verbose = true;
		else
			return -1;
	}
	if (O.threads < 1)
		O.threads = 1;
	if (O.threads > C_MAXTHREADS)
		O.threads = C_MAXTHREADS;
	if (O.procs < 1)
		O.procs = 1;
	return 0;
}

/* Re-exec without ASLR, so a model run is reproducible from its seed. */
static void no_aslr(char **argv)
{
	int pers = personality(0xffffffff);

	if (pers == -1 || (pers & ADDR_NO_RANDOMIZE))
		return;
	if (personality(pers | ADDR_NO_RANDOMIZE) == -1)
		return;
	execv("/proc/self/exe", argv);
}

/* One model per process, seeds seed, seed+1, ...; the run's result. */
static int model_procs(double t0)
{
	int result = FZ_EXIT_PASS, i, n = O.procs > 64 ? 64 : O.procs;
	pid_t pids[64];

	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			uint64_t per = O.ops / n + ((uint64_t)i < O.ops % n);

			O.seed += i;
			_exit(model_run(per, O.time ? t0 + O.time : 0));
		}
	}
	for (i = 0; i < n; i++) {
		int rc = pids[i] > 0 ? fz_wait(pids[i]) : FZ_EXIT_FAIL;

		if (rc == FZ_EXIT_SKIP && result == FZ_EXIT_PASS)
			result = FZ_EXIT_SKIP;
		else if (O.nomem_ok && rc > 128) {
			fz_log("# model process %d (seed %" PRIu64 ") killed by signal %d under fault injection\n",
			       i, O.seed + i, rc - 128);
		} else if (rc != 0 && rc != FZ_EXIT_SKIP) {
			fz_log("# model process %d (seed %" PRIu64 ") ended with %d\n", i,
			       O.seed + i, rc);
			if (rc > 128)
				fz_fail(SH, "model process killed by signal %d", rc - 128);
			result = FZ_EXIT_FAIL;
		}
	}
	return result;
}

int fz_fuzz_main(int argc, char **argv)
{
	struct winvm_info_args info;
	struct fz_res r;
	int fd, result = FZ_EXIT_PASS;
	double t0 = fz_now();

	if (argc > 1 && !strcmp(argv[1], FZ_EXEC_CHILD_ARG))
		return fz_exec_child_main(argc, argv);
	if (parse_opts(argc, argv)) {
		usage();
		return 2;
	}
	if (O.mode == MODE_MODEL)
		no_aslr(argv);
	fd = fz_open_winvm();
	if (fd < 0) {
		fz_log("winvm-fuzz: SKIP: cannot open /dev/winvm: %s\n", strerror(errno));
		return FZ_EXIT_SKIP;
	}
	memset(&info, 0, sizeof(info));
	r = fz_call(fd, WINVM_IOC_INFO_GET, &info);
	close(fd);
	if (r.rc || info.max_address != FZ_MAX_ADDR) {
		fz_log("winvm-fuzz: INFO_GET -> %d, max 0x%llx: unexpected system\n", r.rc,
		       (unsigned long long)info.max_address);
		return FZ_EXIT_FAIL;
	}
	g_features = info.features;
	g_shfd = (int)syscall(SYS_memfd_create, "winvm-fuzz-shared", 0);
	if (g_shfd < 0 || ftruncate(g_shfd, sizeof(struct fz_shared)))
		return FZ_EXIT_FAIL;
	SH = mmap(NULL, sizeof(struct fz_shared), PROT_READ | PROT_WRITE, MAP_SHARED, g_shfd, 0);
	if (SH == MAP_FAILED)
		return FZ_EXIT_FAIL;
	fz_install_signals();
	fz_log("winvm-fuzz: mode=%s seed=%" PRIu64 " ops=%" PRIu64 " time=%.0f threads=%d procs=%d%s%s%s avoid=0x%x\n",
	       O.mode == MODE_MODEL ? "model" : "chaos", O.seed, O.ops, O.time, O.threads,
	       O.procs, O.nomem_ok ? " nomem-ok" : "", O.failinject ? " failinject" : "",
	       O.fail_nth ? " fail-nth" : "", O.avoid);

	if (O.mode == MODE_MODEL)
		result = model_procs(t0);
	else
		result = chaos_run();
	if (result == FZ_EXIT_PASS && atomic_load(&SH->failures))
		result = FZ_EXIT_FAIL;
	fz_log("winvm-fuzz: mode=%s seed=%" PRIu64 " threads=%d procs=%d ops=%" PRIu64
	       " forks=%" PRIu64 " execs=%" PRIu64 " exits=%" PRIu64 " thread-exits=%" PRIu64
	       " failures=%" PRIu64 " seconds=%.1f result=%s\n",
	       O.mode == MODE_MODEL ? "model" : "chaos", O.seed,
	       O.mode == MODE_MODEL ? 1 : O.threads, O.procs, atomic_load(&SH->ops),
	       atomic_load(&SH->forks), atomic_load(&SH->execs), atomic_load(&SH->exits),
	       atomic_load(&SH->thread_exits), atomic_load(&SH->failures), fz_now() - t0,
	       result == FZ_EXIT_PASS ? "PASS" : result == FZ_EXIT_SKIP ? "SKIP" :
	       result == FZ_EXIT_HANG ? "HANG" : "FAIL");
	if (atomic_load(&SH->have_failure))
		fz_log("winvm-fuzz: first failure: %s\n", SH->first_failure);
	return result;
}
