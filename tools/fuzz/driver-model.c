// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz driver: the model-mode scenario (set-up, the operation mix,
 * the checks after each step, teardown).
 */
#include "ops.h"

/* ---------------- the model loop ---------------- */

static int model_setup(void)
{
	void *p;
	int pfd[2], i;

	M.rng.s = fz_seed_mix(O.seed, 0x6d6f64656cULL);
	M.fd = fz_open_winvm();
	if (M.fd < 0)
		return -1;
	for (i = 0; i < 8; i++)
		M.secfd[i] = -1;
	if (pipe(pfd))
		return -1;
	M.pipe_r = pfd[0];
	M.pipe_w = pfd[1];
	M.memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	/* Kept open: opening it would itself allocate (and count). */
	M.fnth_fd = O.fail_nth ? open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC) : -1;
	if (O.fail_nth && M.fnth_fd < 0)
		fz_log("# no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION): --fail-nth does nothing\n");
	p = mmap(NULL, 3 * FZ_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	M.argpage = p;
	mprotect(M.argpage + 2 * FZ_PAGE, FZ_PAGE, PROT_NONE);
	/* The arena: 1 GiB far below the mmap base, free at the start. */
	M.arena_size = 1ULL << 30;
	M.arena = 0x100000000000ULL + ((O.seed % 64) << 32);
	if (fz_sandbox_init())
		return -1;
	if (!maps_refresh())
		return -1;
	if (fz_maps_busy(&MAPS, M.arena, M.arena + M.arena_size))
		return -1;
	return 0;
}

static void model_teardown(void)
{
	int i;

	/* Exercise both teardown paths: free some, leave the rest to exit. */
	for (i = 0; i < M_MAXA; i++) {
		struct winvm_free_args f;

		if (!M.a[i].used || M.a[i].view || fz_chance(&M.rng, 50))
			continue;
		memset(&f, 0, sizeof(f));
		f.address = M.a[i].base;
		f.type = WINVM_MEM_RELEASE;
		fz_call(M.fd, WINVM_IOC_MEM_FREE, &f);
	}
}

int model_run(uint64_t nops, double deadline)
{
	uint64_t i;

	/* Fault in what exists now, so injected failures rarely hit our own faults. */
	if (O.failinject)
		mlockall(MCL_CURRENT);
	if (model_setup()) {
		fz_log("# model setup failed: %s\n", strerror(errno));
		return errno == ENOENT || errno == ENODEV || errno == ENXIO ? FZ_EXIT_SKIP :
		       FZ_EXIT_FAIL;
	}
	M.mif_fd = -1;
	if (O.failinject) {
		M.mif_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (M.mif_fd < 0 || pwrite(M.mif_fd, "1", 1, 0) != 1)
			fz_log("# cannot set /proc/self/make-it-fail\n");
	}
	for (i = 0; i < nops && !g_failures; i++) {
		unsigned int x = fz_below(&M.rng, 1000);

		M.step = i;
		if (deadline && !(i & 15) && fz_now() > deadline)
			break;
		if (x < 200)
			op_alloc();
		else if (x < 320)
			op_free();
		else if (x < 440)
			op_protect();
		else if (x < 500)
			op_query();
		else if (x < 510)
			op_info();
		else if (x < 525)
			op_fault_info();
		else if (x < 535)
			op_bad_cmd();
		else if (x < 700)
			op_probe();
		else if (x < 760)
			op_kprobe();
		else if (x < 880)
			op_native();
		else if (x < 950)
			op_section();
		else if (x < 985)
			op_view_touch();
		else if (x < 990)
			op_fork();
		else
			op_query();
		atomic_fetch_add(&SH->ops, 1);
		if (!g_failures)
			m_check(O.full_every > 0 && (i % (uint64_t)O.full_every) == (uint64_t)O.full_every - 1);
	}
	if (M.mif_fd >= 0 && pwrite(M.mif_fd, "0", 1, 0) != 1)
		fz_log("# cannot clear /proc/self/make-it-fail\n");
	if (!g_failures)
		m_check(true);
	if (g_failures)
		m_dump_ring();
	model_teardown();
	return g_failures ? FZ_EXIT_FAIL : FZ_EXIT_PASS;
}
