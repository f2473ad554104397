// SPDX-License-Identifier: GPL-2.0
/*
 * Case 8, write watch.
 *
 *  writewatch.first_write: the first write to each of 256 watched pages
 *  after a reset (GetWriteWatch with WRITE_WATCH_FLAG_RESET), per page.
 *    winvm:  MEM_WRITE_WATCH allocation; the write takes one write fault
 *            (->page_mkwrite records it), no signal.
 *    vs Wine: Wine's fallback write watch, pages mprotect'ed read-only, a
 *            SIGSEGV handler records the page and mprotect()s it back.
 *    vs unwatched: the first write to a committed page of an ordinary
 *            winvm allocation (a fault that allocates and clears a page),
 *            for scale.
 *
 *  writewatch.get_reset: GetWriteWatch with reset over N pages of which a
 *  share was written since the last reset, per call.
 *    winvm:  WINVM_IOC_WATCH_GET with WINVM_WRITE_WATCH_FLAG_RESET.
 *    vs Wine: the fallback's bookkeeping: scan the per-page dirty bytes,
 *            list the written pages, mprotect() each run of them read-only
 *            again and clear their bytes.
 *  The writes themselves are outside the timed region on both sides.
 *
 *  writewatch.card_marking: a collector's round end to end, 2048 random
 *  writes over a resident 256 MiB heap then one get-and-reset, per round,
 *  vs Wine's fallback and vs async uffd-wp + PAGEMAP_SCAN.
 */
#include "bench.h"
#include "uffd.h"

#define REPS		15
#define FW_PAGES	256

/* ---------------- Wine's fallback, shared by both cases ---------------- */

static char *w_region;
static size_t w_pages;
static volatile uint8_t *w_dirty;
static volatile int bad;

static void handler(int sig, siginfo_t *si, void *uc)
{
	char *addr = si->si_addr;
	size_t idx = (size_t)(addr - w_region) / PAGE;

	(void)sig;
	(void)uc;
	if (addr < w_region || idx >= w_pages || w_dirty[idx] ||
	    mprotect(w_region + idx * PAGE, PAGE, PROT_READ | PROT_WRITE)) {
		bad++;
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	w_dirty[idx] = 1;
}

/* The fallback's GetWriteWatch(RESET): list, then re-protect each run. */
static size_t wine_get_reset(uint64_t *out, size_t max)
{
	size_t i, n = 0, run = 0;

	for (i = 0; i <= w_pages; i++) {
		if (i < w_pages && w_dirty[i] && n < max) {
			out[n++] = U64(w_region + i * PAGE);
			w_dirty[i] = 0;
			run++;
			continue;
		}
		if (run && mprotect(w_region + (i - run) * PAGE, run * PAGE, PROT_READ))
			bad++;
		run = 0;
	}
	return n;
}

/* @resident: every page written once first, as a program's pages are. */
static bool wine_setup(size_t pages, bool resident)
{
	w_pages = pages;
	w_region = native_map(pages * PAGE, PROT_READ | PROT_WRITE);
	w_dirty = calloc(pages, 1);
	if (!w_region || !w_dirty)
		return false;
	if (resident)
		touch_write(w_region, pages * PAGE);
	return !mprotect(w_region, pages * PAGE, PROT_READ);
}

static void wine_teardown(void)
{
	munmap(w_region, w_pages * PAGE);
	free((void *)w_dirty);
}

/* ---------------- winvm ---------------- */

static uint64_t *g_out;

static bool wv_get_reset(uint64_t base, uint64_t size, uint64_t max, uint64_t *count)
{
	return wv_watch_get_reset(base, size, g_out, max, count);
}

/* ---------------- first write after reset ---------------- */

static uint64_t fw_base, fw_plain;

/* ns per page of the first write to each of the FW_PAGES pages at @p. */
static double time_touch(void *p)
{
	double t0 = now_ns();

	touch_write(p, FW_PAGES * PAGE);
	return (now_ns() - t0) / FW_PAGES;
}

static double wv_first_write(void *arg)
{
	uint64_t count;

	(void)arg;
	if (!wv_get_reset(fw_base, FW_PAGES * PAGE, FW_PAGES, &count))
		return NAN;
	return time_touch(PTR(fw_base));
}

static double wine_first_write(void *arg)
{
	double t;

	(void)arg;
	wine_get_reset(g_out, w_pages);
	t = time_touch(w_region);
	return bad ? NAN : t;
}

static double plain_first_write(void *arg)
{
	(void)arg;
	if (!wv_free(fw_plain, FW_PAGES * PAGE, WINVM_MEM_DECOMMIT) ||
	    !wv_alloc(fw_plain, FW_PAGES * PAGE, WINVM_MEM_COMMIT, WV_RW))
		return NAN;
	return time_touch(PTR(fw_plain));
}

static double uffd_first_write(void *arg)
{
	(void)arg;
	if (uffd_get_reset() < 0)
		return NAN;
	return time_touch(u_region);
}

static void first_write(bool have)
{
	double wm = NAN, nm, pm = NAN;

	bench_err[0] = 0;
	if (have) {
		fw_base = wv_alloc(0, FW_PAGES * PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT |
				   WINVM_MEM_WRITE_WATCH, WV_RW);
		fw_plain = wv_alloc(0, FW_PAGES * PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
		have = fw_base && fw_plain;
	}
	if (!wine_setup(FW_PAGES, true))
		return;
	if (have)
		touch_write(PTR(fw_base), FW_PAGES * PAGE);
	run_pair(REPS, have ? wv_first_write : NULL, NULL, wine_first_write, NULL, &wm, &nm);
	report("writewatch.first_write", "256 pages vs Wine", "ns/page", have ? wm : V_NA, nm,
	       "after GetWriteWatch(RESET); native: mprotect+SIGSEGV fallback (Wine)%s%s",
	       bench_err[0] ? "; " : "", bench_err);
	if (have) {
		run_pair(REPS, wv_first_write, NULL, plain_first_write, NULL, &wm, &pm);
		report("writewatch.first_write", "256 pages vs unwatched", "ns/page", wm, pm,
		       "native: first write to a freshly committed page of an unwatched winvm "
		       "allocation");
	}
	bench_err[0] = 0;
	if (have && uffd_setup(FW_PAGES, true)) {
		run_pair(REPS, wv_first_write, NULL, uffd_first_write, NULL, &wm, &pm);
		report("writewatch.first_write", "256 pages vs uffd-wp", "ns/page", wm, pm,
		       "native: userfaultfd write-protect, async, re-armed by PAGEMAP_SCAN");
	} else {
		report("writewatch.first_write", "256 pages vs uffd-wp", "ns/page", V_NA, V_NA,
		       "no async userfaultfd write-protect here (6.7+)%s%s",
		       bench_err[0] ? ": " : "", bench_err);
	}
	uffd_teardown();
	wine_teardown();
	if (have) {
		wv_free(fw_base, 0, WINVM_MEM_RELEASE);
		wv_free(fw_plain, 0, WINVM_MEM_RELEASE);
	}
}

/* ---------------- get with reset ---------------- */

struct gr {
	uint64_t base;
	size_t pages, stride;	/* every stride-th page written */
};

/*
 * Write every stride-th page of @region, then time one get-and-reset,
 * which must list exactly those pages.
 */
static double time_gr(const struct gr *g, char *region, long (*get_reset)(const struct gr *),
		      const char *what)
{
	long n, want = (long)((g->pages + g->stride - 1) / g->stride);
	double t0, t1;

	touch_every(region, g->pages, g->stride);
	t0 = now_ns();
	n = get_reset(g);
	t1 = now_ns();
	if (n != want) {
		set_err("%s listed %ld pages, not %ld", what, n, want);
		return NAN;
	}
	return t1 - t0;
}

static long wv_list(const struct gr *g)
{
	uint64_t count;

	return wv_get_reset(g->base, g->pages * PAGE, g->pages, &count) ? (long)count : -1;
}

static long wine_list(const struct gr *g)
{
	size_t n = wine_get_reset(g_out, g->pages);

	return bad ? -1 : (long)n;
}

static long uffd_list(const struct gr *g)
{
	(void)g;
	return uffd_get_reset();
}

static double wv_gr(void *arg)
{
	struct gr *g = arg;

	return time_gr(g, PTR(g->base), wv_list, "WATCH_GET");
}

static double wine_gr(void *arg)
{
	return time_gr(arg, w_region, wine_list, "the fallback");
}

static double uffd_gr(void *arg)
{
	return time_gr(arg, u_region, uffd_list, "PAGEMAP_SCAN");
}

/* The same get-and-reset against PAGEMAP_SCAN, where the kernel has it. */
static void get_reset_uffd(bool have, struct gr *g, const char *param)
{
	double wm = NAN, nm = NAN;
	char p2[96];

	snprintf(p2, sizeof(p2), "%s vs PAGEMAP_SCAN", param);
	bench_err[0] = 0;
	if (!have || !uffd_setup(g->pages, false)) {
		report("writewatch.get_reset", p2, "ns/call", V_NA, V_NA,
		       "no PAGEMAP_SCAN with async write-protect here (6.7+)%s%s",
		       bench_err[0] ? ": " : "", bench_err);
		uffd_teardown();
		return;
	}
	run_pair(REPS, wv_gr, g, uffd_gr, g, &wm, &nm);
	report("writewatch.get_reset", p2, "ns/call", wm, nm,
	       "native: PAGEMAP_SCAN with PM_SCAN_WP_MATCHING over async uffd-wp%s%s",
	       bench_err[0] ? "; " : "", bench_err);
	uffd_teardown();
}

static void get_reset(bool have, size_t pages, size_t stride, const char *param)
{
	struct gr g = { .pages = pages, .stride = stride };
	double wm = NAN, nm;

	bench_err[0] = 0;
	if (have) {
		g.base = wv_alloc(0, pages * PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT |
				  WINVM_MEM_WRITE_WATCH, WV_RW);
		have = g.base != 0;
	}
	if (!wine_setup(pages, false))
		return;
	run_pair(REPS, have ? wv_gr : NULL, &g, wine_gr, &g, &wm, &nm);
	report("writewatch.get_reset", param, "ns/call", have ? wm : V_NA, nm,
	       "GetWriteWatch(RESET); native: the mprotect fallback's list and re-protect (Wine)%s%s",
	       bench_err[0] ? "; " : "", bench_err);
	wine_teardown();
	get_reset_uffd(have, &g, param);
	if (have)
		wv_free(g.base, 0, WINVM_MEM_RELEASE);
}

/* ---------------- card marking ---------------- */

/*
 * A collector's round: CM_WRITES 8-byte stores at random places of a
 * resident 256 MiB heap (its card marks, or the mutator's writes that a
 * write watch stands in for), then one get-and-reset of the whole heap.
 * The offsets are drawn before the timed region, the same for each side.
 */
#define CM_PAGES	65536
#define CM_WRITES	2048

struct cm {
	char *region;
	long (*get_reset)(const struct cm *c);
	const char *what;
	uint64_t seed;		/* advanced by each round of this side */
	uint64_t base;		/* winvm */
};

static uint64_t cm_off[CM_WRITES];

/* Draw a round's offsets; returns how many distinct pages they touch. */
static long cm_draw(uint64_t *seed)
{
	static uint8_t seen[CM_PAGES];
	long i, pages = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < CM_WRITES; i++) {
		cm_off[i] = (lcg(seed) % (CM_PAGES * PAGE / 8)) * 8;
		if (!seen[cm_off[i] / PAGE]++)
			pages++;
	}
	return pages;
}

static double cm_round(void *arg)
{
	struct cm *c = arg;
	long i, n, want = cm_draw(&c->seed);
	double t0, t1;

	t0 = now_ns();
	for (i = 0; i < CM_WRITES; i++)
		*(volatile uint64_t *)(c->region + cm_off[i]) = (uint64_t)i;
	n = c->get_reset(c);
	t1 = now_ns();
	if (n != want) {
		set_err("%s listed %ld pages, not %ld", c->what, n, want);
		return NAN;
	}
	return t1 - t0;
}

static long cm_wv(const struct cm *c)
{
	uint64_t count;

	return wv_get_reset(c->base, CM_PAGES * PAGE, CM_PAGES, &count) ? (long)count : -1;
}

static long cm_wine(const struct cm *c)
{
	size_t n = wine_get_reset(g_out, CM_PAGES);

	(void)c;
	return bad ? -1 : (long)n;
}

static long cm_uffd(const struct cm *c)
{
	(void)c;
	return uffd_get_reset();
}

static void card_marking(bool have)
{
	struct cm w = { .get_reset = cm_wv, .what = "WATCH_GET", .seed = 1 };
	struct cm f = { .get_reset = cm_wine, .what = "the fallback", .seed = 1 };
	struct cm u = { .get_reset = cm_uffd, .what = "PAGEMAP_SCAN", .seed = 1 };
	double wm = NAN, nm = NAN;
	uint64_t count;

	bench_err[0] = 0;
	if (have) {
		w.base = wv_alloc(0, CM_PAGES * PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT |
				  WINVM_MEM_WRITE_WATCH, WV_RW);
		w.region = PTR(w.base);
		if (w.base)
			touch_write(w.region, CM_PAGES * PAGE);
		have = w.base && wv_get_reset(w.base, CM_PAGES * PAGE, CM_PAGES, &count);
	}
	if (!wine_setup(CM_PAGES, true))
		return;
	f.region = w_region;
	run_pair(REPS, have ? cm_round : NULL, &w, cm_round, &f, &wm, &nm);
	report("writewatch.card_marking", "256 MiB, 2048 writes vs Wine", "ns/round",
	       have ? wm : V_NA, nm, "random 8-byte writes to a resident heap, then "
	       "GetWriteWatch(RESET); native: the mprotect+SIGSEGV fallback (Wine)%s%s",
	       bench_err[0] ? "; " : "", bench_err);
	wine_teardown();
	bench_err[0] = 0;
	w.seed = 1;
	if (have && uffd_setup(CM_PAGES, true)) {
		u.region = u_region;
		run_pair(REPS, cm_round, &w, cm_round, &u, &wm, &nm);
		report("writewatch.card_marking", "256 MiB, 2048 writes vs PAGEMAP_SCAN",
		       "ns/round", wm, nm, "native: async uffd-wp, PAGEMAP_SCAN with "
		       "PM_SCAN_WP_MATCHING%s%s", bench_err[0] ? "; " : "", bench_err);
	} else {
		report("writewatch.card_marking", "256 MiB, 2048 writes vs PAGEMAP_SCAN",
		       "ns/round", V_NA, V_NA, "no async userfaultfd write-protect here (6.7+)%s%s",
		       bench_err[0] ? ": " : "", bench_err);
	}
	uffd_teardown();
	if (w.base)
		wv_free(w.base, 0, WINVM_MEM_RELEASE);
}

int main(void)
{
	bool have = bench_start("8. write watch");
	struct sigaction sa;

	native_thp(false);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	g_out = calloc(262144, sizeof(*g_out));
	if (!g_out)
		return 0;
	first_write(have);
	get_reset(have, 1024, 100, "1024 pages, 1% written");
	get_reset(have, 1024, 2, "1024 pages, 50% written");
	get_reset(have, 262144, 100, "262144 pages, 1% written");
	/* (Half of 262144 pages is 512 MiB a side: too much for the 2 GiB guest.) */
	get_reset(have, 65536, 2, "65536 pages, 50% written");
	card_marking(have);
	return 0;
}
