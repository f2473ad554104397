// SPDX-License-Identifier: GPL-2.0
/*
 * Case 6, guard pages: the cost of one guard-page violation delivered to a
 * SIGSEGV handler and continued, per hit, over 256 guarded pages written
 * one after the other.
 *
 *  winvm:  pages committed PAGE_READWRITE | PAGE_GUARD; the handler reads
 *          the fault record (WINVM_IOC_FAULT_INFO), checks it is a guard
 *          hit at si_addr and returns; the write is re-executed and
 *          succeeds (the module cleared the guard before the signal).
 *  native: the userspace emulation Wine uses: guarded pages are PROT_NONE,
 *          the handler looks the page up in its own protection bytes,
 *          clears the guard there, mprotect()s the page back to RW and
 *          returns.
 *
 * Re-arming between repetitions is not timed, and each side re-arms its
 * own natural way (MEM_PROTECT to RW|GUARD, which zaps the PTEs; mprotect
 * to PROT_NONE, which keeps them), so the re-executed write costs winvm a
 * (minor) page fault that the native side does not pay.
 */
#include <setjmp.h>

#include "bench.h"

#define REPS		31
#define PAGES		256

static volatile uint64_t region;		/* the guarded range */
static volatile bool native_mode;
static volatile uint8_t guard_bits[PAGES];	/* native: Wine-style VPROT_GUARD */
static volatile int bad;			/* unexpected faults */
static sigjmp_buf escape;
static volatile bool armed;

static void handler(int sig, siginfo_t *si, void *uc)
{
	uint64_t addr = U64(si->si_addr);
	int saved = errno;

	(void)sig;
	(void)uc;
	if (native_mode) {
		uint64_t idx = (addr - region) / PAGE;

		if (addr < region || idx >= PAGES || !guard_bits[idx])
			goto unexpected;
		guard_bits[idx] = 0;
		if (mprotect(PTR(addr & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE))
			bad++;
	} else {
		struct winvm_fault_info_args fi = { 0 };

		if (ioctl(wv_fd, WINVM_IOC_FAULT_INFO, &fi) ||
		    fi.fault_status != WINVM_STATUS_GUARD_PAGE_VIOLATION || fi.address != addr)
			goto unexpected;
	}
	errno = saved;
	return;
unexpected:
	bad++;
	if (armed) {
		armed = false;
		siglongjmp(escape, 1);
	}
	signal(SIGSEGV, SIG_DFL);
}

static double hits(void)
{
	volatile char *p = PTR(region);
	double t0, t1;
	int i;

	if (sigsetjmp(escape, 1))
		return NAN;
	armed = true;
	t0 = now_ns();
	for (i = 0; i < PAGES; i++)
		p[i * PAGE] = 1;
	t1 = now_ns();
	armed = false;
	return (t1 - t0) / PAGES;
}

static uint64_t wv_base;
static char *native_base;

static double wv_measure(void *arg)
{
	(void)arg;
	if (!wv_protect(wv_base, PAGES * PAGE, WV_RW | WINVM_PAGE_GUARD))
		return NAN;
	native_mode = false;
	region = wv_base;
	return bad ? NAN : hits();
}

static double native_measure(void *arg)
{
	int i;

	(void)arg;
	if (mprotect(native_base, PAGES * PAGE, PROT_NONE)) {
		set_err("mprotect: %s", strerror(errno));
		return NAN;
	}
	for (i = 0; i < PAGES; i++)
		guard_bits[i] = 1;
	native_mode = true;
	region = U64(native_base);
	return bad ? NAN : hits();
}

int main(void)
{
	bool have = bench_start("6. guard pages (one violation delivered and continued)");
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;
	double wm, nm;

	native_thp(false);
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);

	bench_err[0] = 0;
	if (have) {
		wv_base = wv_alloc(0, PAGES * PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
		have = wv_base != 0;
	}
	native_base = native_map(PAGES * PAGE, PROT_READ | PROT_WRITE);
	if (!native_base)
		return 0;
	run_pair(REPS, have ? wv_measure : NULL, NULL, native_measure, NULL, &wm, &nm);
	if (bad)
		set_err("%d unexpected faults", bad);
	report("guard.hit", "write, 1 page", "ns/hit",
	       wv_fd < 0 ? V_NA : (wv_base ? wm : V_ERROR), nm, "%s",
	       bench_err);
	if (wv_base)
		wv_free(wv_base, 0, WINVM_MEM_RELEASE);
	return 0;
}
