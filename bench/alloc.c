// SPDX-License-Identifier: GPL-2.0
/*
 * Case 1, allocation cycle: reserve, commit S bytes, touch every page of
 * them, decommit, release, for S = 4 KiB, 64 KiB, 1 MiB, 16 MiB (the
 * reservation is max(1 MiB, S)), against the native sequence
 * mmap(PROT_NONE) + mprotect(RW) + touch + madvise(MADV_DONTNEED) + munmap.
 *
 * The native decommit is MADV_DONTNEED alone: it frees the pages but leaves
 * them accessible, which is less than a decommit does (a faithful emulation
 * would also mprotect them PROT_NONE), so the native figure is a lower bound.
 */
#include "bench.h"

/*
 * Many short repetitions rather than a few long ones: the host may be
 * busy, and short alternating repetitions spread its noise over both sides.
 */
#define REPS	31

enum { ST_RESERVE, ST_COMMIT, ST_TOUCH, ST_DECOMMIT, ST_RELEASE, ST_N };

static const char *const step_name[ST_N] = {
	"reserve", "commit", "touch", "decommit", "release",
};

struct cycle {
	size_t size;		/* committed and touched */
	size_t resv;		/* reserved */
	int iters;		/* cycles per repetition */
	int rep;		/* repetition being run */
	double step[REPS][ST_N];	/* per repetition: ns per cycle of each step */
	double total[REPS];		/* per repetition: ns per cycle */
};

static double finish(struct cycle *c, const double *acc, bool ok)
{
	int s;

	c->total[c->rep] = ok ? 0 : NAN;
	for (s = 0; s < ST_N; s++) {
		c->step[c->rep][s] = ok ? acc[s] / c->iters : NAN;
		c->total[c->rep] += c->step[c->rep][s];
	}
	return c->total[c->rep++];
}

static double wv_cycle(void *arg)
{
	struct cycle *c = arg;
	double t[ST_N + 1], acc[ST_N] = { 0 };
	int i, s;

	for (i = 0; i < c->iters; i++) {
		uint64_t a;

		t[0] = now_ns();
		a = wv_alloc(0, c->resv, WINVM_MEM_RESERVE, WV_RW);
		if (!a)
			return finish(c, acc, false);
		t[1] = now_ns();
		if (!wv_alloc(a, c->size, WINVM_MEM_COMMIT, WV_RW))
			return finish(c, acc, false);
		t[2] = now_ns();
		touch_write(PTR(a), c->size);
		t[3] = now_ns();
		if (!wv_free(a, c->size, WINVM_MEM_DECOMMIT))
			return finish(c, acc, false);
		t[4] = now_ns();
		if (!wv_free(a, 0, WINVM_MEM_RELEASE))
			return finish(c, acc, false);
		t[5] = now_ns();
		for (s = 0; s < ST_N; s++)
			acc[s] += t[s + 1] - t[s];
	}
	return finish(c, acc, true);
}

static double native_cycle(void *arg)
{
	struct cycle *c = arg;
	double t[ST_N + 1], acc[ST_N] = { 0 };
	int i, s;

	for (i = 0; i < c->iters; i++) {
		char *p;

		t[0] = now_ns();
		p = mmap(NULL, c->resv, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			set_err("mmap: %s", strerror(errno));
			return finish(c, acc, false);
		}
		t[1] = now_ns();
		if (mprotect(p, c->size, PROT_READ | PROT_WRITE)) {
			set_err("mprotect: %s", strerror(errno));
			return finish(c, acc, false);
		}
		t[2] = now_ns();
		touch_write(p, c->size);
		t[3] = now_ns();
		if (madvise(p, c->size, MADV_DONTNEED)) {
			set_err("madvise: %s", strerror(errno));
			return finish(c, acc, false);
		}
		t[4] = now_ns();
		munmap(p, c->resv);
		t[5] = now_ns();
		for (s = 0; s < ST_N; s++)
			acc[s] += t[s + 1] - t[s];
	}
	return finish(c, acc, true);
}

static double step_median(struct cycle *c, int s)
{
	double v[REPS];
	int r;

	for (r = 0; r < c->rep; r++)
		v[r] = c->step[r][s];
	return median(v, c->rep);
}

int main(void)
{
	static const size_t sizes[] = { 4 * KiB, 64 * KiB, 1 * MiB, 16 * MiB };
	static const int iters[] = { 60, 30, 6, 1 };
	bool have = bench_start("1. allocation cycle (per cycle; steps below)");
	unsigned int i;
	int s;

	native_thp(false);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct cycle w = { .size = sizes[i], .iters = iters[i] };
		struct cycle n;
		double wm, nm;
		char param[64], sz[16];

		w.resv = sizes[i] > MiB ? sizes[i] : MiB;
		n = w;
		bench_err[0] = 0;
		run_pair(REPS, have ? wv_cycle : NULL, &w, native_cycle, &n, &wm, &nm);
		snprintf(param, sizeof(param), "commit %s", size_str(sz, sizeof(sz), sizes[i]));
		if (!have)
			wm = V_NA;
		report("alloc.cycle", param, "ns/cycle", wm, nm, "%s", bench_err);
		for (s = 0; s < ST_N; s++) {
			char name[32];

			snprintf(name, sizeof(name), "alloc.%s", step_name[s]);
			report(name, param, "ns/op", have ? step_median(&w, s) : V_NA,
			       step_median(&n, s), NULL);
		}
	}
	return 0;
}
