/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the winvm selftests.
 *
 * Every test binary includes this header once.  It provides:
 *  - the "winvm" fixture: opens /dev/winvm (SKIP when the device is absent)
 *    and installs the SIGSEGV/SIGBUS handler used for fault probing;
 *  - thin ioctl wrappers that return the NTSTATUS and leave errno in
 *    wv_errno, plus ASSERT_NT(), which checks both against the errno
 * *    mapping documented in <linux/winvm.h> (tools/include/winvm-abi.h);
 *  - sigsetjmp-based probes (wv_try_read/write/call), in the style of
 *    mainline tools/testing/selftests/mm/guard-regions.c;
 *  - small address-space utilities (holes, /proc/self/maps, RSS).
 */
#ifndef WINVM_TEST_H
#define WINVM_TEST_H

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/winvm.h>

#include "../tools/include/winvm-abi.h"

/*
 * The 6.12 harness's TEST_F() wrapper keeps a local across setjmp(), which
 * -Wextra reports as -Wclobbered in every test; the harness is used as
 * shipped, so that one warning is silenced for the whole file.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
/* Its SIGALRM handler also has an unused parameter. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define WV_DEV		"/dev/winvm"
#define WV_PAGE		0x1000ULL
#define WV_GRAN		0x10000ULL
#define WV_MIN_ADDR	0x10000ULL
#define WV_MAX_ADDR	0x7ffffffeffffULL

/* Short names for the constants used all over the tests. */
#define NOACCESS	WINVM_PAGE_NOACCESS
#define RO		WINVM_PAGE_READONLY
#define RW		WINVM_PAGE_READWRITE
#define WCOPY		WINVM_PAGE_WRITECOPY
#define EX		WINVM_PAGE_EXECUTE
#define EXR		WINVM_PAGE_EXECUTE_READ
#define EXRW		WINVM_PAGE_EXECUTE_READWRITE
#define EXWCOPY		WINVM_PAGE_EXECUTE_WRITECOPY
#define GUARD		WINVM_PAGE_GUARD
#define NOCACHE		WINVM_PAGE_NOCACHE
#define WCOMBINE	WINVM_PAGE_WRITECOMBINE

#define COMMIT		WINVM_MEM_COMMIT
#define RESERVE		WINVM_MEM_RESERVE
#define DECOMMIT	WINVM_MEM_DECOMMIT
#define RELEASE		WINVM_MEM_RELEASE

#define ST_OK		WINVM_STATUS_SUCCESS

#define wv_barrier()	__asm__ __volatile__("" ::: "memory")
#define U64(x)		((uint64_t)(uintptr_t)(x))
#define PTR(x)		((void *)(uintptr_t)(x))

/* ------------------------------------------------------------------ */
/* ioctl wrappers                                                       */
/* ------------------------------------------------------------------ */

/* errno of this thread's last wrapper call, 0 when the ioctl returned 0. */
static __thread int wv_errno __attribute__((unused));

#define WV_GARBAGE32	WINVM_ABI_UNWRITTEN

static inline uint32_t wv_info(int fd, struct winvm_info_args *info)
{
	/* Outputs start as garbage to prove the kernel writes them. */
	memset(info, 0xcc, sizeof(*info));
	info->flags = 0;
	info->pad = 0;
	memset(info->reserved, 0, sizeof(info->reserved));
	wv_errno = ioctl(fd, WINVM_IOC_INFO_GET, info) ? errno : 0;
	return info->status;
}

/* NtAllocateVirtualMemory: *addr and *size are in/out. */
static inline uint32_t wv_alloc(int fd, uint64_t *addr, uint64_t *size,
				uint64_t zero_bits, uint32_t type, uint32_t prot)
{
	struct winvm_alloc_args a = {
		.address = *addr, .size = *size, .zero_bits = zero_bits,
		.type = type, .protect = prot, .status = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_MEM_ALLOC, &a) ? errno : 0;
	*addr = a.address;
	*size = a.size;
	return a.status;
}

/* NtFreeVirtualMemory: *addr and *size are in/out. */
static inline uint32_t wv_free(int fd, uint64_t *addr, uint64_t *size, uint32_t type)
{
	struct winvm_free_args a = {
		.address = *addr, .size = *size, .type = type,
		.status = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_MEM_FREE, &a) ? errno : 0;
	*addr = a.address;
	*size = a.size;
	return a.status;
}

/* NtProtectVirtualMemory: *addr and *size are in/out; @old may be NULL. */
static inline uint32_t wv_protect(int fd, uint64_t *addr, uint64_t *size,
				  uint32_t prot, uint32_t *old)
{
	struct winvm_protect_args a = {
		.address = *addr, .size = *size, .protect = prot,
		.old_protect = WV_GARBAGE32, .status = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_MEM_PROTECT, &a) ? errno : 0;
	*addr = a.address;
	*size = a.size;
	if (old)
		*old = a.old_protect;
	return a.status;
}

/* NtQueryVirtualMemory; every output field starts as 0xcc garbage. */
static inline uint32_t wv_query(int fd, uint64_t addr, struct winvm_query_args *q)
{
	memset(q, 0xcc, sizeof(*q));
	q->address = addr;
	q->flags = 0;
	q->pad = 0;
	memset(q->reserved, 0, sizeof(q->reserved));
	wv_errno = ioctl(fd, WINVM_IOC_MEM_QUERY, q) ? errno : 0;
	return q->status;
}

static inline uint32_t wv_fault_info(int fd, struct winvm_fault_info_args *fi)
{
	memset(fi, 0xcc, sizeof(*fi));
	fi->flags = 0;
	memset(fi->reserved, 0, sizeof(fi->reserved));
	wv_errno = ioctl(fd, WINVM_IOC_FAULT_INFO, fi) ? errno : 0;
	return fi->status;
}

/* Convenience forms that drop the outputs. */
static inline uint32_t wv_alloc_at(int fd, uint64_t addr, uint64_t size,
				   uint32_t type, uint32_t prot)
{
	return wv_alloc(fd, &addr, &size, 0, type, prot);
}

static inline uint32_t wv_free_at(int fd, uint64_t addr, uint64_t size, uint32_t type)
{
	return wv_free(fd, &addr, &size, type);
}

static inline uint32_t wv_protect_at(int fd, uint64_t addr, uint64_t size, uint32_t prot)
{
	return wv_protect(fd, &addr, &size, prot, NULL);
}

/* ------------------------------------------------------------------ */
/* Assertions                                                           */
/* ------------------------------------------------------------------ */

static inline bool wv_nt_check(struct __test_metadata *_metadata, int line,
			       const char *call, uint32_t want, uint32_t got, int err)
{
	int werr = winvm_abi_status_errno(want);

	if (got != want) {
		TH_LOG("line %d: %s -> %s (0x%08x, errno %d), expected %s (0x%08x)",
		       line, call, winvm_abi_status_name(got), got, err,
		       winvm_abi_status_name(want), want);
		return false;
	}
	if (werr >= 0 && err != werr) {
		TH_LOG("line %d: %s -> %s with errno %d (%s), expected errno %d (%s)",
		       line, call, winvm_abi_status_name(got), err, strerror(err), werr,
		       strerror(werr));
		return false;
	}
	return true;
}

/*
 * ASSERT_NT(expected status, wrapper call): the call must produce exactly
 * that NTSTATUS and the errno the ABI maps it to (0 on success).  Like the
 * harness's own ASSERT_*(), it may be followed by TH_LOG(...).
 */
#define ASSERT_NT(expected, call)						\
	ASSERT_TRUE(({ uint32_t __got = (call);					\
		       wv_nt_check(_metadata, __LINE__, #call,			\
				   (uint32_t)(expected), __got, wv_errno); }))

#define ASSERT_OK(call)		ASSERT_NT(ST_OK, call)

static inline bool wv_hex_check(struct __test_metadata *_metadata, int line,
				const char *ename, const char *sname,
				uint64_t e, uint64_t s)
{
	if (e != s)
		TH_LOG("line %d: %s == 0x%" PRIx64 ", expected %s == 0x%" PRIx64,
		       line, sname, s, ename, e);
	return e == s;
}

/* Numeric equality, logged in hex (addresses, sizes, protections). */
#define ASSERT_HEX(expected, seen)						\
	ASSERT_TRUE(wv_hex_check(_metadata, __LINE__, #expected, #seen,	\
				 (uint64_t)(expected), (uint64_t)(seen)))

/* Value meaning "don't check this field" in ASSERT_VQ(). */
#define ANY	((uint64_t)~0ULL)

static inline void wv_log_query(struct __test_metadata *_metadata, int line,
				const struct winvm_query_args *q)
{
	TH_LOG("line %d: VQ(0x%" PRIx64 ") status %s: base 0x%" PRIx64
	       " abase 0x%" PRIx64 " aprot 0x%x region 0x%" PRIx64
	       " state 0x%x prot 0x%x type 0x%x asize 0x%" PRIx64
	       " csize 0x%" PRIx64 " flags 0x%x", line, (uint64_t)q->address,
	       winvm_abi_status_name(q->status), (uint64_t)q->base_address,
	       (uint64_t)q->allocation_base, q->allocation_protect,
	       (uint64_t)q->region_size, q->state, q->protect, q->type,
	       (uint64_t)q->allocation_size, (uint64_t)q->commit_size,
	       q->region_flags);
}

static inline bool wv_vq_is(struct __test_metadata *_metadata, int line, int fd,
			    uint64_t addr, uint64_t base, uint64_t abase,
			    uint64_t aprot, uint64_t region, uint64_t state,
			    uint64_t prot, uint64_t type)
{
	struct winvm_query_args q;
	uint32_t st = wv_query(fd, addr, &q);
	bool ok = st == ST_OK && wv_errno == 0;

#define WV_FIELD(want, got)	((want) == ANY || (want) == (uint64_t)(got))
	ok = ok && WV_FIELD(base, q.base_address) && WV_FIELD(abase, q.allocation_base) &&
	     WV_FIELD(aprot, q.allocation_protect) && WV_FIELD(region, q.region_size) &&
	     WV_FIELD(state, q.state) && WV_FIELD(prot, q.protect) && WV_FIELD(type, q.type);
#undef WV_FIELD
	if (!ok) {
		wv_log_query(_metadata, line, &q);
		TH_LOG("line %d: expected base 0x%" PRIx64 " abase 0x%" PRIx64
		       " aprot 0x%" PRIx64 " region 0x%" PRIx64 " state 0x%"
		       PRIx64 " prot 0x%" PRIx64 " type 0x%" PRIx64
		       " (0x%" PRIx64 " = any)", line, base, abase, aprot,
		       region, state, prot, type, ANY);
	}
	return ok;
}

/*
 * ASSERT_VQ(fd, addr, base, allocation_base, allocation_protect,
 *	     region_size, state, protect, type): the Wine tests' VQ tuple.
 */
#define ASSERT_VQ(fd, addr, base, abase, aprot, region, state, prot, type)	\
	ASSERT_TRUE(wv_vq_is(_metadata, __LINE__, fd, U64(addr), U64(base),	\
			     U64(abase), (uint64_t)(aprot), (uint64_t)(region),	\
			     (uint64_t)(state), (uint64_t)(prot), (uint64_t)(type)))

/* A query that must succeed; the result lands in *q. */
#define ASSERT_QUERY(fd, addr, q)						\
	ASSERT_TRUE(({								\
		uint32_t __st = wv_query(fd, U64(addr), q);			\
		if (__st != ST_OK)						\
			wv_log_query(_metadata, __LINE__, q);			\
		wv_nt_check(_metadata, __LINE__, "query " #addr, ST_OK,		\
			    __st, wv_errno);					\
	}))

/* Allocation that must succeed; returns the base address. */
#define wv_must_alloc(fd, addr, size, type, prot)				\
	__wv_must_alloc(_metadata, __LINE__, fd, U64(addr), size, type, prot)

static inline uint64_t __wv_must_alloc(struct __test_metadata *_metadata, int line,
				       int fd, uint64_t addr, uint64_t size,
				       uint32_t type, uint32_t prot)
{
	uint64_t a = addr, s = size;
	uint32_t st = wv_alloc(fd, &a, &s, 0, type, prot);

	if (st != ST_OK)
		TH_LOG("line %d: alloc(0x%" PRIx64 ", 0x%" PRIx64 ", type 0x%x, prot 0x%x) -> %s (0x%08x), errno %d",
		       line, addr, size, type, prot, winvm_abi_status_name(st), st, wv_errno);
	ASSERT_NT(ST_OK, st);
	ASSERT_NE(0ULL, a);
	ASSERT_NE(0ULL, s);
	return a;
}

/* ------------------------------------------------------------------ */
/* Fault probing                                                        */
/* ------------------------------------------------------------------ */

/*
 * State shared with the SIGSEGV/SIGBUS handler.  The handler counts the
 * signal, records si_addr, reads the module's fault record (FAULT_INFO)
 * when wv_fault.fd is set, optionally queries si_addr, and then:
 *  - returns, so the access is re-executed, when the hook asks for it or
 *    when the record says STATUS_GUARD_PAGE_VIOLATION and retry_guard is
 *    set (the guard is already cleared, so the retry succeeds);
 *  - otherwise siglongjmp()s back into the armed probe;
 *  - with no probe armed, restores SIG_DFL and returns, so the process
 *    dies of the fault and the harness reports it.
 */
struct wv_fault_state {
	volatile sig_atomic_t armed;
	volatile int count;
	volatile int signo;
	volatile uint64_t addr;
	int fd;
	bool retry_guard;
	bool query;
	bool (*hook)(const siginfo_t *si);
	volatile int fi_err;		/* 0: fi is valid; else errno of FAULT_INFO */
	struct winvm_fault_info_args fi;
	volatile uint32_t q_status;
	struct winvm_query_args q;
};

static struct wv_fault_state wv_fault __attribute__((unused));
static sigjmp_buf wv_jmp __attribute__((unused));

/* A handler that keeps firing means a guard that is never cleared. */
#define WV_MAX_FAULTS	100000

static inline void wv_fault_reset(void)
{
	wv_fault.count = 0;
	wv_fault.signo = 0;
	wv_fault.addr = 0;
	wv_fault.fi_err = -1;
	memset(&wv_fault.fi, 0, sizeof(wv_fault.fi));
	wv_fault.q_status = WV_GARBAGE32;
	memset(&wv_fault.q, 0, sizeof(wv_fault.q));
	wv_barrier();
}

static inline void wv_fault_handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno, saved_wv_errno = wv_errno;
	bool retry = false;

	(void)uc;
	wv_fault.count++;
	wv_fault.signo = sig;
	wv_fault.addr = U64(si->si_addr);
	wv_fault.fi_err = EBADF;
	if (wv_fault.fd >= 0) {
		struct winvm_fault_info_args fi;

		wv_fault_info(wv_fault.fd, &fi);
		wv_fault.fi_err = wv_errno;
		wv_fault.fi = fi;
		if (wv_fault.query)
			wv_fault.q_status = wv_query(wv_fault.fd, wv_fault.addr, &wv_fault.q);
	}
	if (wv_fault.hook && wv_fault.hook(si))
		retry = true;
	else if (wv_fault.retry_guard && wv_fault.fi_err == 0 &&
		 wv_fault.fi.fault_status == WINVM_STATUS_GUARD_PAGE_VIOLATION)
		retry = true;

	errno = saved_errno;
	wv_errno = saved_wv_errno;
	if (retry && wv_fault.count < WV_MAX_FAULTS)
		return;
	if (wv_fault.armed) {
		wv_fault.armed = 0;
		siglongjmp(wv_jmp, 1);
	}
	signal(sig, SIG_DFL);
}

/*
 * Per-thread alternate signal stack, so a fault with a bad stack pointer
 * (e.g. on a guard page of a winvm "thread stack") can still be handled.
 */
static inline void wv_altstack(void)
{
	static __thread char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	sigaltstack(&ss, NULL);
}

static inline void wv_fault_install(int fd)
{
	struct sigaction sa;

	wv_altstack();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = wv_fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	wv_fault.fd = fd;
	wv_fault.retry_guard = true;
	wv_fault.query = false;
	wv_fault.hook = NULL;
	wv_fault.armed = 0;
	wv_fault_reset();
}

/*
 * Probes: true when the access completed (possibly after a guard-page
 * signal whose handler returned), false when it faulted and the handler
 * jumped back.  wv_fault says what happened; call wv_fault_reset() first.
 */
static __attribute__((noinline, unused)) bool wv_try_read(const void *p, uint8_t *val)
{
	uint8_t v;

	wv_fault.armed = 1;
	if (sigsetjmp(wv_jmp, 1)) {
		wv_barrier();
		return false;
	}
	v = *(const volatile uint8_t *)p;
	wv_fault.armed = 0;
	wv_barrier();
	if (val)
		*val = v;
	return true;
}

static __attribute__((noinline, unused)) bool wv_try_write(void *p, uint8_t val)
{
	wv_fault.armed = 1;
	if (sigsetjmp(wv_jmp, 1)) {
		wv_barrier();
		return false;
	}
	*(volatile uint8_t *)p = val;
	wv_fault.armed = 0;
	wv_barrier();
	return true;
}

static __attribute__((noinline, unused)) bool wv_try_call(const void *code, int *ret)
{
	int (*fn)(void) = (int (*)(void))(uintptr_t)code;
	int r;

	wv_fault.armed = 1;
	if (sigsetjmp(wv_jmp, 1)) {
		wv_barrier();
		return false;
	}
	r = fn();
	wv_fault.armed = 0;
	wv_barrier();
	if (ret)
		*ret = r;
	return true;
}

/* x86-64: mov eax, 42; ret */
static const uint8_t wv_ret42[] __attribute__((unused)) = {
	0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3,
};

/* ------------------------------------------------------------------ */
/* Address-space utilities                                              */
/* ------------------------------------------------------------------ */

/*
 * A 64K-aligned address with @size free bytes, fenced on both sides by
 * PROT_NONE Linux mappings (at least 64K each) that stay mapped: the free
 * range's neighbours are known, nothing can merge into it, and it shares
 * no 64K granule with anything else.  Returns 0 on failure.
 */
static inline uint64_t wv_fenced_hole(uint64_t size)
{
	uint64_t len = size + 3 * WV_GRAN, a;
	void *p = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	a = ((U64(p) + WV_GRAN - 1) & ~(WV_GRAN - 1)) + WV_GRAN;
	if (munmap(PTR(a), size))
		return 0;
	return a;
}

#define ASSERT_HOLE(var, size) do {						\
	var = wv_fenced_hole(size);						\
	ASSERT_NE(0ULL, var) TH_LOG("no hole of 0x%llx bytes", (unsigned long long)(size)); \
} while (0)

/*
 * A 64K allocation in a fenced hole, committed RW, page i holding the
 * 32-bit word @magic + i, so a test can tell later whether any page lost
 * or changed its data (wv_filled_intact()).
 */
#define wv_must_filled(fd, magic)	__wv_must_filled(_metadata, fd, magic)

static inline uint64_t __wv_must_filled(struct __test_metadata *_metadata, int fd,
					uint32_t magic)
{
	uint64_t hole, a;
	int i;

	ASSERT_HOLE(hole, WV_GRAN);
	a = wv_must_alloc(fd, hole, WV_GRAN, RESERVE | COMMIT, RW);
	ASSERT_HEX(hole, a);
	for (i = 0; i < 16; i++)
		*(volatile uint32_t *)PTR(a + i * WV_PAGE) = magic + i;
	return a;
}

static inline bool wv_filled_intact(uint64_t a, uint32_t magic)
{
	int i;

	for (i = 0; i < 16; i++)
		if (*(volatile uint32_t *)PTR(a + i * WV_PAGE) != magic + i)
			return false;
	return true;
}

/* Number of /proc/self/maps lines that overlap [start, end). */
static inline int wv_maps_lines(uint64_t start, uint64_t end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) == 2 && s < end && e > start)
			n++;
	}
	fclose(f);
	return n;
}

/* Resident pages of this process (/proc/self/statm, second field). */
static inline long wv_rss_pages(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, rss;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss;
}

/* A field of /proc/self/smaps_rollup in kB, -1 if absent. */
static inline long wv_rollup_kb(const char *field)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	size_t len = strlen(field);
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* For forked children, which report through their exit status. */
#define CHILD_CHECK(fails, cond) do {						\
	if (!(cond)) {								\
		fprintf(stderr, "# child %d: %s:%d: check failed: %s\n",	\
			getpid(), __FILE__, __LINE__, #cond);			\
		(fails)++;							\
	}									\
} while (0)

#define WV_NOBODY	65534

/*
 * In a child: become uid and gid 65534 for good, with no supplementary
 * groups and, as checked, no capability left (the unprivileged caller of
 * the threat model).  0 on success.
 */
static inline int wv_drop_to_nobody(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (setgroups(0, NULL) || setresgid(WV_NOBODY, WV_NOBODY, WV_NOBODY) ||
	    setresuid(WV_NOBODY, WV_NOBODY, WV_NOBODY))
		return -1;
	if (getuid() != WV_NOBODY || geteuid() != WV_NOBODY || getegid() != WV_NOBODY)
		return -1;
	memset(d, 0xff, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -1;
	return d[0].effective | d[1].effective | d[0].permitted | d[1].permitted ? -1 : 0;
}

/* Waits for @pid: its exit code, or 128 + the signal that killed it. */
static inline int wv_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The fixture                                                          */
/* ------------------------------------------------------------------ */

/*
 * Each test runs in its own process (the harness forks), so the context is
 * opened there: a context belongs to the address space that opened it.
 */
FIXTURE(winvm) {
	int fd;
};

FIXTURE_SETUP(winvm)
{
	self->fd = open(WV_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))
		SKIP(return, "no %s (%s): winvm module not loaded", WV_DEV, strerror(errno));
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", WV_DEV, strerror(errno));
	wv_fault_install(self->fd);
}

FIXTURE_TEARDOWN(winvm)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* ------------------------------------------------------------------ */
/* Sections and views                                                   */
/* ------------------------------------------------------------------ */

#define WV_MAPPED	WINVM_MEM_MAPPED
#define SEC_FILE	WINVM_SEC_FILE
#define SEC_IMAGE	WINVM_SEC_IMAGE
#define SEC_RESERVE	WINVM_SEC_RESERVE
#define SEC_COMMIT	WINVM_SEC_COMMIT
#define SEC_NOCACHE	WINVM_SEC_NOCACHE
#define SEC_WCOMBINE	WINVM_SEC_WRITECOMBINE
#define SEC_LARGE	WINVM_SEC_LARGE_PAGES
#define MAP_R		WINVM_FILE_MAP_READ
#define MAP_W		WINVM_FILE_MAP_WRITE
#define MAP_C		WINVM_FILE_MAP_COPY
#define MAP_X		WINVM_FILE_MAP_EXECUTE
#define S_QUERY		WINVM_SECTION_QUERY
#define S_MAP_W		WINVM_SECTION_MAP_WRITE
#define S_MAP_R		WINVM_SECTION_MAP_READ
#define S_MAP_X		WINVM_SECTION_MAP_EXECUTE
#define S_EXTEND	WINVM_SECTION_EXTEND_SIZE
#define S_ALL		WINVM_FILE_MAP_ALL_ACCESS

static inline bool wv_st_check(struct __test_metadata *_metadata, int line,
			       const char *call, uint32_t want, uint32_t got, int err)
{
	int werr = winvm_abi_status_errno(want);

	if (got != want) {
		TH_LOG("line %d: %s -> %s (0x%08x, errno %d), expected %s (0x%08x)",
		       line, call, winvm_abi_status_name(got), got, err, winvm_abi_status_name(want), want);
		return false;
	}
	if (werr >= 0 && err != werr) {
		TH_LOG("line %d: %s -> %s with errno %d (%s), expected errno %d (%s)",
		       line, call, winvm_abi_status_name(got), err, strerror(err), werr,
		       strerror(werr));
		return false;
	}
	return true;
}

/* ASSERT_NT() that also knows the errno of the section statuses. */
#define ASSERT_ST(expected, call)						\
	ASSERT_TRUE(({ uint32_t __got = (call);					\
		       wv_st_check(_metadata, __LINE__, #call,			\
				   (uint32_t)(expected), __got, wv_errno); }))

/* ASSERT_ST() that lets the test go on, for tables of cases. */
#define EXPECT_ST(expected, call)						\
	EXPECT_TRUE(({ uint32_t __got = (call);					\
		       wv_st_check(_metadata, __LINE__, #call,			\
				   (uint32_t)(expected), __got, wv_errno); }))

/* For forked children: status and errno as ASSERT_ST() wants them. */
#define WV_ST_IS(expected, call)						\
	({ uint32_t __got = (call), __want = (expected);			\
	   int __we = winvm_abi_status_errno(__want);					\
	   __got == __want && (__we < 0 || __we == wv_errno); })

/* The raw return value of this thread's last section/view ioctl. */
static __thread int wv_ioret __attribute__((unused));
/* "existed" of this thread's last wv_sec_create(). */
static __thread uint32_t wv_existed __attribute__((unused));

static inline uint32_t wv_sec_create_raw(int fd, struct winvm_section_create_args *a)
{
	a->fd = -2;
	a->existed = WV_GARBAGE32;
	a->status = WV_GARBAGE32;
	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_CREATE, a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	wv_existed = a->existed;
	return a->status;
}

/*
 * NtCreateSection.  @name may be NULL; @file_fd -1 for a pagefile-backed
 * section.  *sfd gets the new fd (-1 on failure).
 */
static inline uint32_t wv_sec_create(int fd, uint64_t size, uint32_t prot, uint32_t attrs,
				     int file_fd, uint32_t access, const char *name,
				     uint32_t flags, int *sfd)
{
	struct winvm_section_create_args a = {
		.size = size, .name = U64(name), .name_len = name ? strlen(name) : 0,
		.file_fd = file_fd, .protect = prot, .attributes = attrs,
		.access = access, .flags = flags,
	};
	uint32_t st = wv_sec_create_raw(fd, &a);

	if (sfd)
		*sfd = wv_ioret < 0 ? -1 : a.fd;
	return st;
}

static inline uint32_t wv_sec_open_raw(int fd, struct winvm_section_open_args *a)
{
	a->fd = -2;
	a->status = WV_GARBAGE32;
	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_OPEN, a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return a->status;
}

/* OpenFileMapping.  *sfd gets the new fd (-1 on failure). */
static inline uint32_t wv_sec_open(int fd, const char *name, uint32_t access,
				   uint32_t flags, int *sfd)
{
	struct winvm_section_open_args a = {
		.name = U64(name), .name_len = strlen(name), .access = access,
		.flags = flags,
	};
	uint32_t st = wv_sec_open_raw(fd, &a);

	if (sfd)
		*sfd = wv_ioret < 0 ? -1 : a.fd;
	return st;
}

/* NtQuerySection(SectionBasicInformation); outputs start as garbage. */
static inline uint32_t wv_sec_query(int fd, int sfd, struct winvm_section_query_args *q)
{
	memset(q, 0xcc, sizeof(*q));
	q->section_fd = sfd;
	q->flags = 0;
	memset(q->reserved, 0, sizeof(q->reserved));
	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_QUERY, q);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return q->status;
}

/* DuplicateHandle.  *nfd gets the new fd (-1 on failure). */
static inline uint32_t wv_sec_dup(int fd, int sfd, uint32_t access, int *nfd)
{
	struct winvm_section_dup_args a = {
		.section_fd = sfd, .access = access, .fd = -2,
		.status = WV_GARBAGE32,
	};

	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_DUP, &a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	if (nfd)
		*nfd = wv_ioret < 0 ? -1 : a.fd;
	return a.status;
}

static inline uint32_t wv_map_raw(int fd, struct winvm_view_map_args *a)
{
	a->status = WV_GARBAGE32;
	wv_ioret = ioctl(fd, WINVM_IOC_VIEW_MAP, a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return a->status;
}

/* MapViewOfFileEx: *addr and *size are in/out. */
static inline uint32_t wv_map(int fd, int sfd, uint32_t access, uint64_t *addr,
			      uint64_t offset, uint64_t *size, uint64_t zero_bits,
			      uint32_t type)
{
	struct winvm_view_map_args a = {
		.section_fd = sfd, .access = access, .address = *addr,
		.offset = offset, .size = *size, .zero_bits = zero_bits,
		.type = type,
	};
	uint32_t st = wv_map_raw(fd, &a);

	*addr = a.address;
	*size = a.size;
	return st;
}

/* Convenience form: a view at @addr (0 = anywhere), outputs dropped. */
static inline uint32_t wv_map_at(int fd, int sfd, uint32_t access, uint64_t addr,
				 uint64_t offset, uint64_t size)
{
	return wv_map(fd, sfd, access, &addr, offset, &size, 0, 0);
}

static inline uint32_t wv_unmap_flags(int fd, uint64_t addr, uint32_t flags)
{
	struct winvm_view_unmap_args a = {
		.address = addr, .flags = flags, .status = WV_GARBAGE32,
	};

	wv_ioret = ioctl(fd, WINVM_IOC_VIEW_UNMAP, &a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return a.status;
}

/* UnmapViewOfFile. */
static inline uint32_t wv_unmap(int fd, uint64_t addr)
{
	return wv_unmap_flags(fd, addr, 0);
}

/* FlushViewOfFile: *addr and *size are in/out. */
static inline uint32_t wv_flush(int fd, uint64_t *addr, uint64_t *size, uint32_t flags)
{
	struct winvm_view_flush_args a = {
		.address = *addr, .size = *size, .flags = flags,
		.status = WV_GARBAGE32,
	};

	wv_ioret = ioctl(fd, WINVM_IOC_VIEW_FLUSH, &a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	*addr = a.address;
	*size = a.size;
	return a.status;
}

/* A section that must be created (unnamed, all access); returns its fd. */
#define wv_must_section(fd, size, prot, attrs)					\
	__wv_must_section(_metadata, __LINE__, fd, size, prot, attrs, -1)
#define wv_must_file_section(fd, file_fd, size, prot, attrs)			\
	__wv_must_section(_metadata, __LINE__, fd, size, prot, attrs, file_fd)

static inline int __wv_must_section(struct __test_metadata *_metadata, int line,
				    int fd, uint64_t size, uint32_t prot,
				    uint32_t attrs, int file_fd)
{
	int sfd = -1;
	uint32_t st = wv_sec_create(fd, size, prot, attrs, file_fd, 0, NULL, 0, &sfd);

	if (st != ST_OK)
		TH_LOG("line %d: section(size 0x%" PRIx64 ", prot 0x%x, attrs 0x%x, file %d) -> %s (0x%08x), errno %d",
		       line, size, prot, attrs, file_fd, winvm_abi_status_name(st), st, wv_errno);
	ASSERT_ST(ST_OK, st);
	ASSERT_LE(0, sfd);
	return sfd;
}

/* A view that must map (anywhere); returns its 64K-aligned base. */
#define wv_must_map(fd, sfd, access, offset, size)				\
	__wv_must_map(_metadata, __LINE__, fd, sfd, access, offset, size)

static inline uint64_t __wv_must_map(struct __test_metadata *_metadata, int line,
				     int fd, int sfd, uint32_t access,
				     uint64_t offset, uint64_t size)
{
	uint64_t a = 0, s = size;
	uint32_t st = wv_map(fd, sfd, access, &a, offset, &s, 0, 0);

	if (st != ST_OK)
		TH_LOG("line %d: map(fd %d, access 0x%x, offset 0x%" PRIx64 ", size 0x%" PRIx64 ") -> %s (0x%08x), errno %d",
		       line, sfd, access, offset, size, winvm_abi_status_name(st), st, wv_errno);
	ASSERT_ST(ST_OK, st);
	ASSERT_NE(0ULL, a);
	ASSERT_HEX(0, a & (WV_GRAN - 1));
	return a;
}

/* The fd has FD_CLOEXEC set. */
static inline bool wv_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f >= 0 && (f & FD_CLOEXEC);
}

/* Byte @off of the test pattern number @seed. */
static inline uint8_t wv_pat(uint64_t off, unsigned int seed)
{
	return (uint8_t)((off * 131 + (off >> 12) * 7 + seed * 29 + 1) & 0xff);
}

/* A read-write regular file in /tmp (tmpfs in the guest), already unlinked,
 * holding @size bytes of pattern @seed; -1 on failure. */
static inline int wv_tmpfile(uint64_t size, unsigned int seed)
{
	char path[] = "/tmp/winvm-section-XXXXXX";
	uint8_t buf[4096];
	uint64_t off = 0;
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf), i;

		for (i = 0; i < n; i++)
			buf[i] = wv_pat(off + i, seed);
		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		off += n;
	}
	return fd;
}

/* The same open file again, with other open flags (O_RDONLY, O_WRONLY). */
static inline int wv_reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

/* Whether [p, p + len) holds pattern @seed for offsets starting at @off. */
static inline bool wv_pat_ok(const void *p, uint64_t off, uint64_t len, unsigned int seed)
{
	const volatile uint8_t *b = p;
	uint64_t i;

	for (i = 0; i < len; i++)
		if (b[i] != wv_pat(off + i, seed))
			return false;
	return true;
}

/* A section name unique to this process: "winvm-test-<pid>-<tag>". */
static inline const char *wv_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "winvm-test-%d-%s", (int)getpid(), tag);
	return buf;
}

#endif /* WINVM_TEST_H */
