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
#include <linux/userfaultfd.h>
#include <sys/syscall.h>

#include "bench.h"

#define REPS		15
#define FW_PAGES	256

/*
 * Linux 6.7+'s own write tracking, which Debian 12's libc headers do not
 * describe yet: userfaultfd write-protect in async mode, read and re-armed
 * with the PAGEMAP_SCAN ioctl of /proc/self/pagemap.  Values from the
 * kernel's include/uapi/linux/{userfaultfd,fs}.h.
 */
#define WV_UFFD_USER_MODE_ONLY		1
#define WV_UFFD_FEATURE_WP_ASYNC	(1 << 15)
#define WV_PAGE_IS_WRITTEN		(1 << 1)
#define WV_PM_SCAN_WP_MATCHING		(1 << 0)
#define WV_PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct wv_page_region {
	uint64_t start, end, categories;
};

struct wv_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define WV_PAGEMAP_SCAN		_IOWR('f', 16, struct wv_pm_scan_arg)

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

/* ---------------- userfaultfd write-protect + PAGEMAP_SCAN ---------------- */

static char *u_region;
static size_t u_pages;
static int u_uffd = -1, u_pagemap = -1;
static struct wv_page_region *u_vec;

/* Written pages of the region, write-protected again; -1 if not possible. */
static long uffd_get_reset(void)
{
	struct wv_pm_scan_arg a = {
		.size = sizeof(a), .flags = WV_PM_SCAN_WP_MATCHING | WV_PM_SCAN_CHECK_WPASYNC,
		.start = U64(u_region), .end = U64(u_region + u_pages * PAGE),
		.vec = U64(u_vec), .vec_len = u_pages,
		.category_mask = WV_PAGE_IS_WRITTEN, .return_mask = WV_PAGE_IS_WRITTEN,
	};
	long n, i, pages = 0;

	n = ioctl(u_pagemap, WV_PAGEMAP_SCAN, &a);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		pages += (long)((u_vec[i].end - u_vec[i].start) / PAGE);
	return pages;
}

/* false (and a note) where the kernel has no async write-protect (6.1). */
static bool uffd_setup(size_t pages, bool resident)
{
	struct uffdio_api api = { .api = UFFD_API, .features = WV_UFFD_FEATURE_WP_ASYNC };
	struct uffdio_register reg;

	u_pages = pages;
	u_region = native_map(pages * PAGE, PROT_READ | PROT_WRITE);
	u_vec = calloc(pages, sizeof(*u_vec));
	if (!u_region || !u_vec)
		return false;
	if (resident)
		touch_write(u_region, pages * PAGE);
	u_uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | WV_UFFD_USER_MODE_ONLY);
	u_pagemap = open("/proc/self/pagemap", O_RDONLY);
	reg.range.start = U64(u_region);
	reg.range.len = pages * PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (u_uffd < 0 || u_pagemap < 0 || ioctl(u_uffd, UFFDIO_API, &api) ||
	    ioctl(u_uffd, UFFDIO_REGISTER, &reg) || uffd_get_reset() < 0) {
		set_err("userfaultfd WP_ASYNC / PAGEMAP_SCAN: %s", strerror(errno));
		return false;
	}
	return true;
}

static void uffd_teardown(void)
{
	if (u_uffd >= 0)
		close(u_uffd);
	if (u_pagemap >= 0)
		close(u_pagemap);
	u_uffd = u_pagemap = -1;
	if (u_region)
		munmap(u_region, u_pages * PAGE);
	free(u_vec);
	u_region = NULL;
	u_vec = NULL;
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

static double uffd_first_write(void *arg)
{
	double t0, t1;

	(void)arg;
	if (uffd_get_reset() < 0)
		return NAN;
	t0 = now_ns();
	touch_write(u_region, FW_PAGES * PAGE);
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

static void write_every(char *p, size_t pages, size_t stride)
{
	size_t i;

	for (i = 0; i < pages; i += stride)
		p[i * PAGE] = 1;
}

/*
 * Write every stride-th page of @region, then time one get-and-reset,
 * which must list exactly those pages.
 */
static double time_gr(const struct gr *g, char *region, long (*get_reset)(const struct gr *),
		      const char *what)
{
	long n, want = (long)((g->pages + g->stride - 1) / g->stride);
	double t0, t1;

	write_every(region, g->pages, g->stride);
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
