// SPDX-License-Identifier: GPL-2.0
/*
 * Slots for features winvm does not have yet, printed as "pending" so the
 * table keeps its shape and later runs fill them in:
 *
 *  writewatch.first_write: the first write to a watched page after a
 *  reset.  The native side is measured already: Wine's fallback write
 *  watch (pages mprotect'ed read-only, a SIGSEGV handler records the page
 *  as written and mprotect()s it back to RW), per page over 256 pages.
 *  writewatch.get_reset: GetWriteWatch with WRITE_WATCH_FLAG_RESET of
 *  1024 pages, against PAGEMAP_SCAN (6.12) or the mprotect fallback.
 *  xproc.query: VirtualQueryEx of another process, against reading the
 *  target's /proc/PID/maps.
 */
#include "bench.h"

#define REPS	31
#define PAGES	256

static char *region;
static volatile uint8_t dirty[PAGES];
static volatile int bad;

static void handler(int sig, siginfo_t *si, void *uc)
{
	char *addr = si->si_addr;
	long idx = (addr - region) / (long)PAGE;

	(void)sig;
	(void)uc;
	if (addr < region || idx >= PAGES || dirty[idx] ||
	    mprotect(region + idx * PAGE, PAGE, PROT_READ | PROT_WRITE)) {
		bad++;
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	dirty[idx] = 1;
}

static double native_first_write(void *arg)
{
	double t0, t1;
	int i;

	(void)arg;
	if (mprotect(region, PAGES * PAGE, PROT_READ)) {
		set_err("mprotect: %s", strerror(errno));
		return NAN;
	}
	for (i = 0; i < PAGES; i++)
		dirty[i] = 0;
	t0 = now_ns();
	touch_write(region, PAGES * PAGE);
	t1 = now_ns();
	return bad ? NAN : (t1 - t0) / PAGES;
}

int main(void)
{
	struct sigaction sa;
	double wm, nm;

	bench_start("8. pending: write watch, cross-process");
	native_thp(false);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	region = native_map(PAGES * PAGE, PROT_READ | PROT_WRITE);
	if (!region)
		return 0;
	touch_write(region, PAGES * PAGE);
	bench_err[0] = 0;
	run_pair(REPS, NULL, NULL, native_first_write, NULL, &wm, &nm);
	report("writewatch.first_write", "256 pages", "ns/page", V_PENDING, nm,
	       "native: mprotect+SIGSEGV fallback (Wine); winvm write watch not implemented%s%s",
	       bench_err[0] ? "; " : "", bench_err);
	report("writewatch.get_reset", "1024 pages", "ns/call", V_PENDING, V_PENDING,
	       "winvm: not implemented; native: PAGEMAP_SCAN / mprotect fallback");
	report("xproc.query", "VirtualQueryEx", "ns/query", V_PENDING, V_PENDING,
	       "winvm: not implemented; native: /proc/PID/maps of the target");
	return 0;
}
