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
 */
#include "bench.h"

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
	struct winvm_watch_get_args g = {
		.address = base, .size = size, .flags = WINVM_WRITE_WATCH_FLAG_RESET,
		.addresses = U64(g_out), .count = max,
	};

	if (ioctl(wv_fd, WINVM_IOC_WATCH_GET, &g)) {
		set_err("WATCH_GET: %s, status 0x%08x", strerror(errno), g.status);
		return false;
	}
	*count = g.count;
	return true;
}

/* ---------------- first write after reset ---------------- */

static uint64_t fw_base, fw_plain;

static double wv_first_write(void *arg)
{
	uint64_t count;
	double t0, t1;

	(void)arg;
	if (!wv_get_reset(fw_base, FW_PAGES * PAGE, FW_PAGES, &count))
		return NAN;
	t0 = now_ns();
	touch_write(PTR(fw_base), FW_PAGES * PAGE);
	t1 = now_ns();
	return (t1 - t0) / FW_PAGES;
}

static double wine_first_write(void *arg)
{
	double t0, t1;

	(void)arg;
	wine_get_reset(g_out, w_pages);
	t0 = now_ns();
	touch_write(w_region, FW_PAGES * PAGE);
	t1 = now_ns();
	return bad ? NAN : (t1 - t0) / FW_PAGES;
}

static double plain_first_write(void *arg)
{
	double t0, t1;

	(void)arg;
	if (!wv_free(fw_plain, FW_PAGES * PAGE, WINVM_MEM_DECOMMIT) ||
	    !wv_alloc(fw_plain, FW_PAGES * PAGE, WINVM_MEM_COMMIT, WV_RW))
		return NAN;
	t0 = now_ns();
	touch_write(PTR(fw_plain), FW_PAGES * PAGE);
	t1 = now_ns();
	return (t1 - t0) / FW_PAGES;
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
	report("writewatch.first_write", "256 pages vs uffd-wp", "ns/page", V_PENDING, V_PENDING,
	       "userfaultfd write-protect (async, 6.7+): not measured yet");
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

static void write_every(char *p, size_t pages, size_t stride)
{
	size_t i;

	for (i = 0; i < pages; i += stride)
		p[i * PAGE] = 1;
}

static double wv_gr(void *arg)
{
	struct gr *g = arg;
	uint64_t count;
	double t0, t1;

	write_every(PTR(g->base), g->pages, g->stride);
	t0 = now_ns();
	if (!wv_get_reset(g->base, g->pages * PAGE, g->pages, &count))
		return NAN;
	t1 = now_ns();
	if (count != (g->pages + g->stride - 1) / g->stride) {
		set_err("listed %" PRIu64 " pages", count);
		return NAN;
	}
	return t1 - t0;
}

static double wine_gr(void *arg)
{
	struct gr *g = arg;
	double t0, t1;
	size_t n;

	write_every(w_region, g->pages, g->stride);
	t0 = now_ns();
	n = wine_get_reset(g_out, g->pages);
	t1 = now_ns();
	if (bad || n != (g->pages + g->stride - 1) / g->stride)
		return NAN;
	return t1 - t0;
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
	if (have)
		wv_free(g.base, 0, WINVM_MEM_RELEASE);
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
	report("writewatch.card_marking", "256 MiB", "ns/round", V_PENDING, V_PENDING,
	       "random writes then get+reset, vs PAGEMAP_SCAN and mprotect: not measured yet");
	return 0;
}
