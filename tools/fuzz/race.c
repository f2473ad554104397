// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-race: threads and processes racing on the same winvm memory, with
 * data-integrity checks.
 *
 *   winvm-race [--time S] [--threads N] [--seed N] [--scenario NAME[,NAME]]
 *
 * Scenarios (all by default, the time split between them):
 *  decommit  writers own slots in 32 pages and update them under per-page
 *            locks; a mutator decommits + recommits, re-protects (RO,
 *            guard, execute: VMA surgery) and resets the same pages; an
 *            unlocked faulter reads everything.  A recommitted page must
 *            read zero (never stale data); re-protection must keep data;
 *            no write may be lost.
 *  guard     N threads hit a fresh guard page at once: exactly one gets
 *            STATUS_GUARD_PAGE_VIOLATION, the others read normally.
 *  protect   writers keep incrementing counters in their own pages while a
 *            flipper changes the protection (and execute class, so VMAs
 *            are remapped) of the other pages; counters never go back.
 *  release   faulters read, query, protect and commit an allocation that a
 *            mutator keeps releasing (whole and partly) and re-allocating
 *            at the same address; a re-allocated page reads zero.
 *  section   a shared view written in one process while another process
 *            maps, reads, unmaps and re-maps it, closes and re-opens its
 *            section fd, and writes into write-copy views: write-copy data
 *            never reaches the section, no write on the shared view is lost.
 *
 * The scenarios are in race-scenarios.c.  The last line is
 * "winvm-race: ... ops=N ... result=PASS|FAIL".
 */
#include "race.h"
#include "tools.h"

struct race_opts RO_ = { .time = 30, .threads = 4, .seed = 1, .scenarios = "all" };
struct fz_shared *RSH;
_Atomic uint64_t r_ops, r_checks;
_Atomic int r_stop;
int r_fd;

uint32_t r_alloc(uint64_t *addr, uint64_t size, uint32_t type, uint32_t prot)
{
	struct winvm_alloc_args a = { .address = *addr, .size = size, .type = type,
				      .protect = prot };
	struct fz_res r = fz_call(r_fd, WINVM_IOC_MEM_ALLOC, &a);

	if (!r.rc)
		*addr = a.address;
	return r.rc == -EFAULT ? FZ_GARBAGE32 : r.status;
}

uint32_t r_free(uint64_t addr, uint64_t size, uint32_t type)
{
	struct winvm_free_args f = { .address = addr, .size = size, .type = type };

	return fz_call(r_fd, WINVM_IOC_MEM_FREE, &f).status;
}

uint32_t r_protect(uint64_t addr, uint64_t size, uint32_t prot)
{
	struct winvm_protect_args p = { .address = addr, .size = size, .protect = prot };

	return fz_call(r_fd, WINVM_IOC_MEM_PROTECT, &p).status;
}

bool r_query(uint64_t addr, struct winvm_query_args *q)
{
	struct fz_res r;
	const char *why;

	memset(q, 0, sizeof(*q));
	q->address = addr;
	r = fz_call(r_fd, WINVM_IOC_MEM_QUERY, q);
	if ((why = fz_res_problem(r, false)))
		RFAIL("MEM_QUERY(0x%llx): %s", (unsigned long long)addr, why);
	if (r.rc || r.status)
		return false;
	if ((why = fz_query_problem(addr, q)))
		RFAIL("MEM_QUERY(0x%llx): %s", (unsigned long long)addr, why);
	return true;
}

/* The fault record after a probe fault must describe that fault. */
void r_check_record(void)
{
	struct winvm_fault_info_args f;
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	r = fz_call(r_fd, WINVM_IOC_FAULT_INFO, &f);
	if (!r.rc && f.address != fz_probe.addr)
		RFAIL("fault at 0x%llx, record says 0x%llx", (unsigned long long)fz_probe.addr,
		      (unsigned long long)f.address);
}

void r_drain(void)
{
	struct winvm_fault_info_args f;

	memset(&f, 0, sizeof(f));
	fz_call(r_fd, WINVM_IOC_FAULT_INFO, &f);
}

bool r_running(double end)
{
	return !atomic_load(&r_stop) && fz_now() < end && !atomic_load(&RSH->failures);
}

void r_spawn(struct rthread *t, int n, void *(*fn)(void *), void *ctx, double end)
{
	int i;

	for (i = 0; i < n; i++) {
		t[i].idx = i;
		t[i].end = end;
		t[i].ctx = ctx;
		if (pthread_create(&t[i].th, NULL, fn, &t[i]))
			t[i].th = 0;
	}
}

void r_join(struct rthread *t, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].th)
			pthread_join(t[i].th, NULL);
}

/* ------------------------------------------------------------------ */

int fz_race_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(double secs);
	} sc[] = {
		{ "decommit", sc_decommit }, { "guard", sc_guard }, { "protect", sc_protect },
		{ "release", sc_release }, { "section", sc_section }, { "watch", sc_watch },
	};
	unsigned int i, n = 0;
	double t0 = fz_now();
	int shfd;

	for (i = 1; i < (unsigned int)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (unsigned int)argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--time") && v)
			RO_.time = strtod(v, NULL), i++;
		else if (!strcmp(a, "--threads") && v)
			RO_.threads = atoi(v), i++;
		else if (!strcmp(a, "--seed") && v)
			RO_.seed = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--scenario") && v)
			RO_.scenarios = v, i++;
		else {
			fz_dprintf(2, "usage: winvm-race [--time S] [--threads N] [--seed N] [--scenario decommit,guard,protect,release,section,watch]\n");
			return 2;
		}
	}
	if (RO_.threads < 1)
		RO_.threads = 1;
	r_fd = fz_open_winvm();
	if (r_fd < 0) {
		fz_log("winvm-race: SKIP: cannot open /dev/winvm: %s\n", strerror(errno));
		return FZ_EXIT_SKIP;
	}
	shfd = (int)syscall(SYS_memfd_create, "winvm-race", 0);
	if (shfd < 0 || ftruncate(shfd, sizeof(struct fz_shared)))
		return FZ_EXIT_FAIL;
	RSH = mmap(NULL, sizeof(struct fz_shared), PROT_READ | PROT_WRITE, MAP_SHARED, shfd, 0);
	if (RSH == MAP_FAILED)
		return FZ_EXIT_FAIL;
	fz_install_signals();
	for (i = 0; i < sizeof(sc) / sizeof(sc[0]); i++)
		if (!strcmp(RO_.scenarios, "all") || strstr(RO_.scenarios, sc[i].name))
			n++;
	fz_log("winvm-race: time=%.0f threads=%d seed=%" PRIu64 " scenarios=%s\n", RO_.time,
	       RO_.threads, RO_.seed, RO_.scenarios);
	for (i = 0; i < sizeof(sc) / sizeof(sc[0]) && !atomic_load(&RSH->failures); i++) {
		uint64_t before = atomic_load(&r_ops);
		double ts = fz_now();

		if (strcmp(RO_.scenarios, "all") && !strstr(RO_.scenarios, sc[i].name))
			continue;
		sc[i].fn(RO_.time / (n ? n : 1));
		fz_log("#   %s: %" PRIu64 " ops in %.1f s%s\n", sc[i].name,
		       atomic_load(&r_ops) - before, fz_now() - ts,
		       atomic_load(&RSH->failures) ? " FAILED" : "");
	}
	fz_log("winvm-race: threads=%d procs=2 ops=%" PRIu64 " checks=%" PRIu64
	       " failures=%" PRIu64 " seconds=%.1f result=%s\n", RO_.threads,
	       atomic_load(&r_ops), atomic_load(&r_checks), atomic_load(&RSH->failures),
	       fz_now() - t0, atomic_load(&RSH->failures) ? "FAIL" : "PASS");
	if (atomic_load(&RSH->have_failure))
		fz_log("winvm-race: first failure: %s\n", RSH->first_failure);
	return atomic_load(&RSH->failures) ? FZ_EXIT_FAIL : FZ_EXIT_PASS;
}

