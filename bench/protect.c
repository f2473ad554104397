// SPDX-License-Identifier: GPL-2.0
/*
 * Case 3, protection changes.
 *
 *  protect.call: one VirtualProtect (MEM_PROTECT) of N pages (1, 16, 1024)
 *  inside a 4096-page committed allocation, toggling RW <-> RO, with every
 *  page of the range resident and mapped before each call (touched, not
 *  timed), against mprotect() of the same range of an anonymous mapping.
 *
 *  protect.call+touch: the same call followed by an access to every page
 *  of the range (read after RO, write after RW), timed together: winvm
 *  zaps PTEs on a protection change, so the accesses after it fault again,
 *  where mprotect() rewrites the PTEs in place.
 *
 *  protect.vmas: the VMA count (/proc/self/maps lines) after making every
 *  other page of a 10 000-page RW allocation read-only, and the time per
 *  call of that sweep.
 */
#include "bench.h"

#define REPS		31
#define ALLOC_PAGES	4096
#define RANGE_OFF	(1024 * PAGE)

struct prot {
	bool wv;
	char *p;		/* the range within it */
	size_t len;
	int iters;		/* protection changes per repetition */
	bool touch;		/* time the accesses after each change too */
	bool ro;		/* current protection of the range */
};

static bool set_prot(struct prot *c, bool ro)
{
	if (c->wv)
		return wv_protect(U64(c->p), c->len, ro ? WV_RO : WV_RW);
	if (mprotect(c->p, c->len, ro ? PROT_READ : PROT_READ | PROT_WRITE)) {
		set_err("mprotect: %s", strerror(errno));
		return false;
	}
	return true;
}

/* Access every page of the range as its protection allows. */
static void access_range(struct prot *c)
{
	if (c->ro)
		touch_read(c->p, c->len);
	else
		touch_write(c->p, c->len);
}

static double measure(void *arg)
{
	struct prot *c = arg;
	double t, total = 0;
	int i;

	for (i = 0; i < c->iters; i++) {
		if (!c->touch)
			access_range(c);	/* PTEs present for the call */
		t = now_ns();
		if (!set_prot(c, !c->ro))
			return NAN;
		c->ro = !c->ro;
		if (c->touch)
			access_range(c);
		total += now_ns() - t;
	}
	return total / c->iters;
}

static void range_bench(bool have)
{
	static const size_t pages[] = { 1, 16, 1024 };
	static const int iters[] = { 60, 30, 4 };
	size_t len = ALLOC_PAGES * PAGE;
	uint64_t a = 0;
	char *n;
	unsigned int i;
	int touch;

	bench_err[0] = 0;
	if (have) {
		a = wv_alloc(0, len, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
		if (a)
			touch_write(PTR(a), len);
	}
	n = native_map(len, PROT_READ | PROT_WRITE);
	if (!n)
		return;
	touch_write(n, len);
	for (touch = 0; touch <= 1; touch++) {
		for (i = 0; i < ARRAY_SIZE(pages); i++) {
			struct prot w = {
				.wv = true, .p = PTR(a + RANGE_OFF),
				.len = pages[i] * PAGE, .iters = iters[i], .touch = touch,
			};
			struct prot nat = w;
			char param[64];
			double wm, nm;

			nat.wv = false;
			nat.p = n + RANGE_OFF;
			run_pair(REPS, a ? measure : NULL, &w, measure, &nat, &wm, &nm);
			/* Leave both ranges RW for the next size. */
			if (w.ro && a)
				set_prot(&w, false);
			if (nat.ro)
				set_prot(&nat, false);
			snprintf(param, sizeof(param), "%zu pages", pages[i]);
			report(touch ? "protect.call+touch" : "protect.call", param, "ns/call",
			       a ? wm : (have ? V_ERROR : V_NA), nm, "%s", bench_err);
		}
	}
	if (a)
		wv_free(a, 0, WINVM_MEM_RELEASE);
	munmap(n, len);
}

#define SWEEP_PAGES	10000
#define SWEEP_REPS	3

/* Every other page RO; returns ns per call and the VMA count in *vmas. */
static double sweep(bool wv, long *vmas)
{
	size_t len = SWEEP_PAGES * PAGE;
	double t0, t1;
	char *p;
	long i;

	if (wv) {
		p = PTR(wv_alloc(0, len, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW));
		if (!p)
			return NAN;
	} else {
		p = native_map(len, PROT_READ | PROT_WRITE);
		if (!p)
			return NAN;
	}
	t0 = now_ns();
	for (i = 0; i < SWEEP_PAGES; i += 2) {
		if (wv ? !wv_protect(U64(p + i * PAGE), PAGE, WV_RO) :
			 mprotect(p + i * PAGE, PAGE, PROT_READ)) {
			set_err("protect page %ld: %s", i, strerror(errno));
			break;
		}
	}
	t1 = now_ns();
	*vmas = maps_lines(U64(p), U64(p) + len);
	if (wv)
		wv_free(U64(p), 0, WINVM_MEM_RELEASE);
	else
		munmap(p, len);
	return i < SWEEP_PAGES ? NAN : (t1 - t0) / (SWEEP_PAGES / 2);
}

static double sweep_wv(void *arg)
{
	return sweep(true, arg);
}

static double sweep_native(void *arg)
{
	return sweep(false, arg);
}

int main(void)
{
	bool have = bench_start("3. protection changes");
	long wvmas = -1, nvmas = -1;
	double wm, nm;

	native_thp(false);
	range_bench(have);

	bench_err[0] = 0;
	run_pair(SWEEP_REPS, have ? sweep_wv : NULL, &wvmas, sweep_native, &nvmas, &wm, &nm);
	report("protect.sweep", "10000 pages, alt RO/RW", "ns/call", wm, nm, "%s", bench_err);
	report("protect.vmas", "10000 pages, alt RO/RW", "vmas",
	       have ? (wvmas < 0 ? V_ERROR : wvmas) : V_NA, nvmas < 0 ? V_ERROR : nvmas,
	       "/proc/self/maps lines over the range");
	return 0;
}
