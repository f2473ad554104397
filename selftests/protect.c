// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: WINVM_IOC_MEM_PROTECT (NtProtectVirtualMemory) and the
 * enforcement of page protections.
 * Rule numbers (R<n>) refer to docs/windows-rules.md, sections 1.4, 1.7.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <sys/resource.h>

#include "winvm_test.h"

/* Rules R48-R50: invalid protections fail and change nothing. */
TEST_F(winvm, invalid_protections_rejected)
{
	static const uint32_t prots[] = {
		0, WCOPY, EXWCOPY, RO | NOACCESS, EXR | EX, RO | EX, RW | RO,
		RW | EXWCOPY, RW | WCOPY, GUARD, NOCACHE, WCOMBINE,
		GUARD | NOACCESS, NOCACHE | NOACCESS, WCOMBINE | NOACCESS,
		RW | NOCACHE | GUARD, RW | NOCACHE | WCOMBINE, RW | WCOMBINE | GUARD,
		RW | 0x800, RW | 0x10000, RW | 0x80000000u,
	};
	uint64_t a = wv_must_alloc(self->fd, 0, 2 * WV_PAGE, RESERVE | COMMIT, RW);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		uint32_t old = 0;
		uint64_t b = a, s = WV_PAGE;

		ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
			  wv_protect(self->fd, &b, &s, prots[i], &old))
			TH_LOG("prot 0x%x", prots[i]);
	}
	ASSERT_VQ(self->fd, a, a, a, RW, 2 * WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_write(PTR(a), 1));
}

/*
 * Rule R48: every valid protection is applied as asked; AllocationProtect
 * never changes.
 */
TEST_F(winvm, every_valid_protection)
{
	static const uint32_t prots[] = {
		NOACCESS, RO, RW, EX, EXR, EXRW, RO | GUARD, RW | GUARD, EXR | GUARD,
		EXRW | GUARD, RW,
	};
	uint64_t a = wv_must_alloc(self->fd, 0, 2 * WV_PAGE, RESERVE | COMMIT, RW);
	uint32_t prev = RW;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		uint64_t b = a, s = WV_PAGE;
		uint32_t old = 0;

		ASSERT_OK(wv_protect(self->fd, &b, &s, prots[i], &old)) TH_LOG("prot 0x%x", prots[i]);
		ASSERT_HEX(prev, old);
		ASSERT_HEX(a, b);
		ASSERT_HEX(WV_PAGE, s);
		ASSERT_VQ(self->fd, a, a, a, RW, prots[i] == RW ? 2 * WV_PAGE : WV_PAGE, COMMIT,
			  prots[i], WINVM_MEM_PRIVATE);
		prev = prots[i];
	}
}

/* Rule R52: the range is rounded out to pages and returned. */
TEST_F(winvm, protect_rounds_to_pages)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 4 * WV_PAGE, RESERVE | COMMIT, RW);
	uint64_t b = a + 1, s = 1;
	uint32_t old = 0;

	ASSERT_OK(wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(RW, old);
	ASSERT_HEX(a, b);
	ASSERT_HEX(WV_PAGE, s);
	b = a + 0x1fff;
	s = 2;
	ASSERT_OK(wv_protect(self->fd, &b, &s, EXR, &old));
	ASSERT_HEX(RW, old);
	ASSERT_HEX(a + 0x1000, b);
	ASSERT_HEX(0x2000, s);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_PAGE, COMMIT, RO, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x1000, a + 0x1000, a, RW, 0x2000, COMMIT, EXR, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x3000, a + 0x3000, a, RW, 0x1000, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/*
 * Rules R44 and R45: every page must be committed; on failure old_protect is
 * PAGE_NOACCESS and nothing changes.
 */
TEST_F(winvm, protect_requires_committed_pages)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0xfffc, RESERVE, NOACCESS);
	uint64_t b, s;
	uint32_t old;

	b = a;
	s = 0x1000;
	old = 0;
	ASSERT_NT(WINVM_STATUS_NOT_COMMITTED, wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(NOACCESS, old);

	ASSERT_OK(wv_alloc_at(self->fd, a, 0x1000, COMMIT, RW));
	b = a;
	s = 0xfffc;
	old = 0;
	ASSERT_NT(WINVM_STATUS_NOT_COMMITTED, wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(NOACCESS, old);
	ASSERT_VQ(self->fd, a, a, a, NOACCESS, 0x1000, COMMIT, RW, WINVM_MEM_PRIVATE);

	/* A reserved page in the middle of committed ones. */
	ASSERT_OK(wv_alloc_at(self->fd, a + 0x2000, 0x1000, COMMIT, RW));
	b = a;
	s = 0x3000;
	old = 0;
	ASSERT_NT(WINVM_STATUS_NOT_COMMITTED, wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(NOACCESS, old);
	ASSERT_VQ(self->fd, a, a, a, NOACCESS, 0x1000, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x2000, a + 0x2000, a, NOACCESS, 0x1000, COMMIT, RW,
		  WINVM_MEM_PRIVATE);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_write(PTR(a + 0x2000), 1));
}

/* Rule R46. */
TEST_F(winvm, protect_returns_previous_protection)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0xfffc, RESERVE, NOACCESS);
	uint64_t b, s;
	uint32_t old;

	ASSERT_OK(wv_alloc_at(self->fd, a, 0x1000, COMMIT, NOACCESS));
	b = a;
	s = 0x1000;
	ASSERT_OK(wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(NOACCESS, old);
	ASSERT_OK(wv_protect(self->fd, &b, &s, RW, &old));
	ASSERT_HEX(RO, old);
	ASSERT_VQ(self->fd, a, a, a, NOACCESS, 0x1000, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* Rule R54: a range that is not inside one allocation. */
TEST_F(winvm, protect_across_allocations)
{
	uint64_t hole, a, b;

	ASSERT_HOLE(hole, 2 * WV_GRAN);
	a = wv_must_alloc(self->fd, hole, WV_GRAN, RESERVE | COMMIT, RW);
	b = wv_must_alloc(self->fd, hole + WV_GRAN, WV_GRAN, RESERVE | COMMIT, RW);
	ASSERT_HEX(hole, a);
	ASSERT_HEX(hole + WV_GRAN, b);
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_protect_at(self->fd, b - WV_PAGE, 2 * WV_PAGE, RO));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_protect_at(self->fd, a, 2 * WV_GRAN, RO));
	/* Past the end of an allocation, into the next mapping. */
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_protect_at(self->fd, b + WV_GRAN - WV_PAGE, 2 * WV_PAGE, RO));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, b, b, b, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* Rule R53 (on 64-bit Windows): an address in no allocation. */
TEST_F(winvm, protect_free_address)
{
	uint64_t hole;

	ASSERT_HOLE(hole, WV_GRAN);
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_protect_at(self->fd, hole, WV_PAGE, RO));
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_protect_at(self->fd, hole + 0x3000, 0x10, RW));
	ASSERT_VQ(self->fd, hole, hole, 0, 0, WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);
}

/* Rule R25, exactly: PAGE_NOCACHE is an allocation-level, sticky attribute. */
TEST_F(winvm, nocache_is_sticky)
{
	uint64_t a = 0, s = 0x2000, b;
	uint32_t old;

	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, COMMIT, RW | NOCACHE));
	ASSERT_VQ(self->fd, a, a, a, RW | NOCACHE, 0x2000, COMMIT, RW | NOCACHE, WINVM_MEM_PRIVATE);
	b = a;
	s = 0x1000;
	ASSERT_OK(wv_protect(self->fd, &b, &s, RW, &old));
	ASSERT_HEX(RW | NOCACHE, old);
	ASSERT_VQ(self->fd, a, a, a, RW | NOCACHE, 0x2000, COMMIT, RW | NOCACHE, WINVM_MEM_PRIVATE);
	ASSERT_OK(wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(RW | NOCACHE, old);
	ASSERT_VQ(self->fd, a, a, a, RW | NOCACHE, 0x1000, COMMIT, RO | NOCACHE, WINVM_MEM_PRIVATE);

	/* The other way round: NOCACHE cannot be added to a cached allocation. */
	a = 0;
	s = 0x2000;
	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, COMMIT, RW));
	b = a;
	s = 0x1000;
	ASSERT_OK(wv_protect(self->fd, &b, &s, RO | NOCACHE, &old));
	ASSERT_HEX(RW, old);
	ASSERT_VQ(self->fd, a, a, a, RW, 0x1000, COMMIT, RO, WINVM_MEM_PRIVATE);
}

/* WRITECOMBINE follows the same rule as NOCACHE. */
TEST_F(winvm, writecombine_is_sticky)
{
	uint64_t a = 0, s = 0x2000, b;
	uint32_t old;

	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, COMMIT, RW | WCOMBINE));
	ASSERT_VQ(self->fd, a, a, a, RW | WCOMBINE, 0x2000, COMMIT, RW | WCOMBINE,
		  WINVM_MEM_PRIVATE);
	b = a;
	s = 0x1000;
	ASSERT_OK(wv_protect(self->fd, &b, &s, RW, &old));
	ASSERT_HEX(RW | WCOMBINE, old);
	ASSERT_VQ(self->fd, a, a, a, RW | WCOMBINE, 0x2000, COMMIT, RW | WCOMBINE,
		  WINVM_MEM_PRIVATE);
	ASSERT_OK(wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(RW | WCOMBINE, old);
	ASSERT_VQ(self->fd, a, a, a, RW | WCOMBINE, 0x1000, COMMIT, RO | WCOMBINE,
		  WINVM_MEM_PRIVATE);

	a = 0;
	s = 0x2000;
	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, COMMIT, RW));
	b = a;
	s = 0x1000;
	ASSERT_OK(wv_protect(self->fd, &b, &s, RO | WCOMBINE, &old));
	ASSERT_HEX(RW, old);
	ASSERT_VQ(self->fd, a, a, a, RW, 0x1000, COMMIT, RO, WINVM_MEM_PRIVATE);
}

/*
 * Rule R78: code on a READWRITE page does not run; a fault with no module
 * record is a plain hardware fault (allowed by the signal protocol), one
 * with a record must say ACCESS_VIOLATION / EXECUTE at the entry point.
 */
static void check_exec_fault(struct __test_metadata *_metadata, uint64_t code)
{
	ASSERT_EQ(1, wv_fault.count);
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	ASSERT_HEX(code, wv_fault.addr);
	if (wv_fault.fi_err == 0) {
		ASSERT_HEX(code, wv_fault.fi.address);
		ASSERT_HEX(WINVM_STATUS_ACCESS_VIOLATION, wv_fault.fi.fault_status);
		ASSERT_HEX(WINVM_EXCEPTION_EXECUTE_FAULT, wv_fault.fi.access);
	} else {
		ASSERT_EQ(ENOENT, wv_fault.fi_err);
	}
}

/* A tiny JIT: write code while RW, then EXECUTE_READ, then run it. */
TEST_F(winvm, jit_execute_read)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW);
	uint64_t code = a + 0x100;
	int r = 0;
	uint32_t old;

	memcpy(PTR(code), wv_ret42, sizeof(wv_ret42));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_call(PTR(code), &r));
	check_exec_fault(_metadata, code);

	ASSERT_OK(wv_protect(self->fd, &a, &(uint64_t){ WV_PAGE }, EXR, &old));
	ASSERT_HEX(RW, old);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_call(PTR(code), &r));
	ASSERT_EQ(42, r);
	ASSERT_EQ(0, wv_fault.count);
	/* EXECUTE_READ is not writable. */
	ASSERT_FALSE(wv_try_write(PTR(code), 0xc3));
	ASSERT_EQ(0, wv_fault.fi_err);
	ASSERT_HEX(WINVM_EXCEPTION_WRITE_FAULT, wv_fault.fi.access);
}

/* Rule R78: the handler-style fix, EXECUTE_READWRITE, makes the code run. */
TEST_F(winvm, jit_execute_readwrite)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW);
	int r = 0;
	uint32_t old;

	memcpy(PTR(a), wv_ret42, sizeof(wv_ret42));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_call(PTR(a), &r));
	check_exec_fault(_metadata, a);
	ASSERT_OK(wv_protect(self->fd, &a, &(uint64_t){ WV_PAGE }, EXRW, &old));
	ASSERT_HEX(RW, old);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_call(PTR(a), &r));
	ASSERT_EQ(42, r);
	/* Still writable: patch the immediate and run again. */
	((volatile uint8_t *)PTR(a))[1] = 7;
	ASSERT_TRUE(wv_try_call(PTR(a), &r));
	ASSERT_EQ(7, r);
	ASSERT_EQ(0, wv_fault.count);
}

/* PAGE_EXECUTE runs code; writes fault. */
TEST_F(winvm, execute_only_runs_code)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW);
	int r = 0;

	memcpy(PTR(a), wv_ret42, sizeof(wv_ret42));
	ASSERT_OK(wv_protect_at(self->fd, a, WV_PAGE, EX));
	wv_fault_reset();
	ASSERT_TRUE(wv_try_call(PTR(a), &r));
	ASSERT_EQ(42, r);
	ASSERT_FALSE(wv_try_write(PTR(a + 8), 1));
	ASSERT_EQ(1, wv_fault.count);
}

/* Code committed directly as EXECUTE_READWRITE and in a NOACCESS page. */
TEST_F(winvm, exec_permissions_per_page)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 3 * WV_PAGE, RESERVE | COMMIT, EXRW);
	int r = 0, i;

	for (i = 0; i < 3; i++)
		memcpy(PTR(a + i * WV_PAGE), wv_ret42, sizeof(wv_ret42));
	ASSERT_OK(wv_protect_at(self->fd, a + WV_PAGE, WV_PAGE, NOACCESS));
	ASSERT_OK(wv_protect_at(self->fd, a + 2 * WV_PAGE, WV_PAGE, RO));
	wv_fault_reset();
	ASSERT_TRUE(wv_try_call(PTR(a), &r));
	ASSERT_EQ(42, r);
	ASSERT_FALSE(wv_try_call(PTR(a + WV_PAGE), &r));
	ASSERT_HEX(a + WV_PAGE, wv_fault.addr);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_call(PTR(a + 2 * WV_PAGE), &r));
	check_exec_fault(_metadata, a + 2 * WV_PAGE);
}

/*
 * Per-page protections inside one allocation do not explode into VMAs:
 * 10 000 pages alternating RO/RW stay within a few /proc/self/maps lines,
 * and each page keeps its own protection.
 */
TEST_F_TIMEOUT(winvm, alternating_protections_10000_pages, 300)
{
	const uint64_t n = 10000;
	uint64_t a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT, RW);
	static const uint64_t spots[] = { 0, 1, 2, 3, 4999, 5000, 5001, 9998, 9999 };
	uint64_t i;
	unsigned int j;
	int lines;

	for (i = 0; i < n; i += 2)
		ASSERT_OK(wv_protect_at(self->fd, a + i * WV_PAGE, WV_PAGE, RO));
	lines = wv_maps_lines(a, a + n * WV_PAGE);
	TH_LOG("/proc/self/maps lines covering the allocation: %d", lines);
	ASSERT_LE(1, lines);
	ASSERT_GE(4, lines);

	for (j = 0; j < ARRAY_SIZE(spots); j++) {
		uint64_t p = a + spots[j] * WV_PAGE;
		bool ro = !(spots[j] & 1);

		wv_fault_reset();
		ASSERT_TRUE(wv_try_read(PTR(p + 8), NULL));
		ASSERT_EQ(!ro, wv_try_write(PTR(p + 8), 1)) TH_LOG("page %" PRIu64, spots[j]);
		ASSERT_VQ(self->fd, p, p, a, RW, WV_PAGE, COMMIT, ro ? RO : RW, WINVM_MEM_PRIVATE);
	}
	/* Back to one protection: one region again. */
	ASSERT_OK(wv_protect_at(self->fd, a, n * WV_PAGE, RW));
	ASSERT_VQ(self->fd, a, a, a, RW, n * WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_GE(4, wv_maps_lines(a, a + n * WV_PAGE));
}

/*
 * T-WP: READWRITE -> READONLY of private memory write-protects the PTEs in
 * place and READONLY -> READWRITE makes them writable in place.  Each page
 * goes through every transition several times, written, read and written
 * again, and every write that the protection refuses must fault: none may
 * slip through a PTE left writable, by the CPU or by the kernel.
 */
TEST_F(winvm, in_place_protection_changes_hold)
{
	const uint64_t n = 64;
	int pfd[2], round;
	uint64_t a, i;
	char buf[64];

	a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT, RW);
	ASSERT_EQ(0, pipe(pfd));
	memset(buf, 0x5a, sizeof(buf));
	for (round = 0; round < 3; round++) {
		for (i = 0; i < n; i++)
			*(volatile uint8_t *)PTR(a + i * WV_PAGE) = (uint8_t)(round + i);
		ASSERT_OK(wv_protect_at(self->fd, a, n * WV_PAGE, RO));
		wv_fault_reset();
		for (i = 0; i < n; i++) {
			ASSERT_EQ((uint8_t)(round + i), *(volatile uint8_t *)PTR(a + i * WV_PAGE));
			ASSERT_FALSE(wv_try_write(PTR(a + i * WV_PAGE + 1), 1)) TH_LOG("page %" PRIu64, i);
		}
		ASSERT_EQ(n, wv_fault.count);
		/* Kernel-mode writes are refused as well (read(2) into the page). */
		ASSERT_EQ((ssize_t)sizeof(buf), write(pfd[1], buf, sizeof(buf)));
		ASSERT_EQ(-1, read(pfd[0], PTR(a + 3 * WV_PAGE), sizeof(buf)));
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ((ssize_t)sizeof(buf), read(pfd[0], buf, sizeof(buf)));
		ASSERT_OK(wv_protect_at(self->fd, a, n * WV_PAGE, RW));
		wv_fault_reset();
		for (i = 0; i < n; i++)
			ASSERT_TRUE(wv_try_write(PTR(a + i * WV_PAGE + 1), 2));
		ASSERT_EQ(0, wv_fault.count);
		/* Half of it no-access: those PTEs go, the others stay writable. */
		ASSERT_OK(wv_protect_at(self->fd, a, n / 2 * WV_PAGE, NOACCESS));
		wv_fault_reset();
		ASSERT_FALSE(wv_try_read(PTR(a), NULL));
		ASSERT_TRUE(wv_try_write(PTR(a + n / 2 * WV_PAGE), 3));
		ASSERT_EQ(1, wv_fault.count);
		ASSERT_OK(wv_protect_at(self->fd, a, n / 2 * WV_PAGE, RW));
	}
	ASSERT_VQ(self->fd, a, a, a, RW, n * WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
	close(pfd[0]);
	close(pfd[1]);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * Fault-around (fault.c winvm_map_pages()): after RW -> NOACCESS -> RW has
 * dropped the PTEs of resident pages, reading them again takes one fault
 * per few pages, not one per page; and it never maps what the state does
 * not allow: a guard page and a no-access page in the middle of the range
 * still fault, each with its own exception, and the guard is still armed
 * when the reads around it are done.
 */
static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

TEST_F(winvm, fault_around_maps_only_what_state_allows)
{
	const uint64_t n = 64, guard = 20, noacc = 40;
	long before, faults;
	uint8_t v;
	uint64_t a, i;

	a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT, RW);
	for (i = 0; i < n; i++)
		*(volatile uint8_t *)PTR(a + i * WV_PAGE) = (uint8_t)(i + 7);
	ASSERT_OK(wv_protect_at(self->fd, a, n * WV_PAGE, NOACCESS));
	ASSERT_OK(wv_protect_at(self->fd, a, n * WV_PAGE, RW));
	ASSERT_OK(wv_protect_at(self->fd, a + guard * WV_PAGE, WV_PAGE, RW | GUARD));
	ASSERT_OK(wv_protect_at(self->fd, a + noacc * WV_PAGE, WV_PAGE, NOACCESS));
	before = minor_faults();
	for (i = 0; i < n; i++)
		if (i != guard && i != noacc)
			ASSERT_EQ((uint8_t)(i + 7), *(volatile uint8_t *)PTR(a + i * WV_PAGE));
	faults = minor_faults() - before;
	/* 62 pages; the kernel's default fault-around is 16 pages. */
	EXPECT_LE(faults, 31) TH_LOG("%ld faults for 62 resident pages", faults);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + noacc * WV_PAGE), &v));
	ASSERT_EQ(0, wv_fault.fi_err);
	ASSERT_EQ(WINVM_STATUS_ACCESS_VIOLATION, wv_fault.fi.fault_status);
	wv_fault_reset();
	wv_fault.retry_guard = true;
	ASSERT_TRUE(wv_try_read(PTR(a + guard * WV_PAGE), &v));
	ASSERT_EQ(1, wv_fault.count);
	ASSERT_EQ(WINVM_STATUS_GUARD_PAGE_VIOLATION, wv_fault.fi.fault_status);
	ASSERT_EQ((uint8_t)(guard + 7), v);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * T-WP: the in-place write-protect works in chunks of 512 pages (the
 * folios of a chunk are held locked while the page tables are walked,
 * module/pte.c).  A sparse range of resident pages on both sides of chunk
 * boundaries, and at the ends, keeps its data and refuses every write
 * after READONLY, and takes writes again after READWRITE without a fault.
 */
TEST_F(winvm, readonly_across_write_protect_passes)
{
	static const uint64_t pages[] = {
		0, 1, 15, 510, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2100, 2111,
	};
	const uint64_t n = 2112;
	uint64_t a, i;

	a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT, RW);
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		*(volatile uint8_t *)PTR(a + pages[i] * WV_PAGE) = (uint8_t)(i + 1);
	ASSERT_OK(wv_protect_at(self->fd, a, n * WV_PAGE, RO));
	wv_fault_reset();
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		ASSERT_EQ((uint8_t)(i + 1), *(volatile uint8_t *)PTR(a + pages[i] * WV_PAGE));
		ASSERT_FALSE(wv_try_write(PTR(a + pages[i] * WV_PAGE + 1), 1))
			TH_LOG("page %" PRIu64, pages[i]);
	}
	ASSERT_EQ((int)ARRAY_SIZE(pages), wv_fault.count);
	ASSERT_OK(wv_protect_at(self->fd, a, n * WV_PAGE, RW));
	wv_fault_reset();
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		ASSERT_TRUE(wv_try_write(PTR(a + pages[i] * WV_PAGE + 1), 2));
	ASSERT_EQ(0, wv_fault.count);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * T-WP: when MEM_PROTECT to READONLY returns, a thread that was writing
 * the page on another CPU the whole time can write no more: the in-place
 * write-protect flushed every TLB that still allowed the write.
 */
struct wp_writer {
	volatile uint64_t *word;
	atomic_int started;
};

static void *wp_write_forever(void *arg)
{
	struct wp_writer *w = arg;

	atomic_store(&w->started, 1);
	for (;;)
		(*w->word)++;
	return NULL;
}

static void wp_park(int sig)
{
	(void)sig;
	for (;;)
		pause();
}

static int wp_child(uint64_t a, int fd)
{
	struct wp_writer w = { .word = PTR(a) };
	uint64_t v1, v2;
	pthread_t t;
	int fails = 0;

	/* The refused write parks the writer for good. */
	signal(SIGSEGV, wp_park);
	CHILD_CHECK(fails, !pthread_create(&t, NULL, wp_write_forever, &w));
	while (!atomic_load(&w.started))
		;
	usleep(2000);
	CHILD_CHECK(fails, wv_protect_at(fd, a, WV_PAGE, RO) == ST_OK);
	v1 = *w.word;
	usleep(20000);
	v2 = *w.word;
	CHILD_CHECK(fails, v1 == v2);
	if (v1 != v2)
		fprintf(stderr, "# child: %" PRIu64 " writes after MEM_PROTECT\n", v2 - v1);
	return fails;
}

TEST_F(winvm, readonly_stops_a_running_writer)
{
	int round;
	pid_t pid;

	for (round = 0; round < 10; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			/* The child's own context: a context belongs to one mm. */
			int fd = open(WV_DEV, O_RDWR | O_CLOEXEC);
			uint64_t a = 0, size = WV_PAGE;

			if (fd < 0 || wv_alloc(fd, &a, &size, 0, RESERVE | COMMIT, RW) != ST_OK)
				_exit(1);
			_exit(wp_child(a, fd));
		}
		ASSERT_EQ(0, wv_wait(pid)) TH_LOG("round %d", round);
	}
}

/* The cases below run on every memory kind (WV_KIND_FIXTURE). */
WV_KIND_FIXTURE()

/*
 * Rule R51, exactly: old_protect is the first page's protection.  Needs
 * execute access (a write-copy view has none).
 */
TEST_F(kind, old_protection_is_first_page)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a, b, s;
	uint32_t old;

	ASSERT_REGION(r, self->fd, variant->kind, 16 * WV_PAGE, w);
	SKIP_UNLESS_ALLOWS(r, EXR);
	a = r.base;
	b = a;
	s = 16 * WV_PAGE;
	ASSERT_OK(wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(w, old);
	b = a;
	s = 8 * WV_PAGE;
	ASSERT_OK(wv_protect(self->fd, &b, &s, w, &old));
	ASSERT_HEX(RO, old);
	b = a + 8 * WV_PAGE;
	s = 8 * WV_PAGE;
	old = 0;
	ASSERT_OK(wv_protect(self->fd, &b, &s, EXR, &old));
	ASSERT_HEX(RO, old);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, 8 * WV_PAGE, COMMIT, w, r.type);
	ASSERT_VQ(self->fd, a + 8 * WV_PAGE, a + 8 * WV_PAGE, a, r.aprot, 8 * WV_PAGE, COMMIT,
		  EXR, r.type);
	b = a;
	s = 16 * WV_PAGE;
	ASSERT_OK(wv_protect(self->fd, &b, &s, EXR, &old));
	ASSERT_HEX(w, old);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, 16 * WV_PAGE, COMMIT, EXR, r.type);
}

/* Changing protections back and forth never loses data. */
TEST_F(kind, protection_changes_keep_data)
{
	static const uint32_t prots[] = { RO, NOACCESS, EXR, EX, EXRW, NOACCESS, RW };
	const uint64_t size = 8 * WV_PAGE;
	struct wv_region r;
	unsigned int i, j;
	uint32_t *w;

	ASSERT_REGION(r, self->fd, variant->kind, size, wv_kind_wprot(variant->kind));
	for (i = 0; i < ARRAY_SIZE(prots); i++)
		SKIP_UNLESS_ALLOWS(r, prots[i]);
	w = PTR(r.base);
	for (j = 0; j < size / 4; j++)
		w[j] = j * 2654435761u;
	for (i = 0; i < ARRAY_SIZE(prots); i++)
		ASSERT_OK(wv_protect_at(self->fd, r.base, size, prots[i]));
	for (j = 0; j < size / 4; j++)
		ASSERT_EQ(j * 2654435761u, w[j]) TH_LOG("word %u", j);
}

/* PAGE_READONLY: reads work, writes fault as access violations. */
TEST_F(kind, readonly_enforced)
{
	struct wv_region r;
	uint8_t v = 0;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, 2 * WV_PAGE, wv_kind_wprot(variant->kind));
	a = r.base;
	*(volatile uint8_t *)PTR(a + 0x10) = 0x42;
	ASSERT_OK(wv_protect_at(self->fd, a, WV_PAGE, RO));
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 0x10), &v));
	ASSERT_EQ(0x42, v);
	ASSERT_EQ(0, wv_fault.count);
	ASSERT_FALSE(wv_try_write(PTR(a + 0x123), 1));
	ASSERT_EQ(1, wv_fault.count);
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	ASSERT_HEX(a + 0x123, wv_fault.addr);
	ASSERT_EQ(0, wv_fault.fi_err);
	ASSERT_HEX(a + 0x123, wv_fault.fi.address);
	ASSERT_HEX(WINVM_STATUS_ACCESS_VIOLATION, wv_fault.fi.fault_status);
	ASSERT_HEX(WINVM_EXCEPTION_WRITE_FAULT, wv_fault.fi.access);
	/* The next page is still writable. */
	wv_fault_reset();
	ASSERT_TRUE(wv_try_write(PTR(a + WV_PAGE), 1));
	ASSERT_EQ(0, wv_fault.count);
	ASSERT_EQ(0x42, *(volatile uint8_t *)PTR(a + 0x10));
}

/* PAGE_NOACCESS: reads and writes fault; the data survives. */
TEST_F(kind, noaccess_enforced)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint32_t old = 0;
	uint64_t a, b, s;

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, w);
	a = r.base;
	*(volatile uint8_t *)PTR(a + 0x10) = 0x42;
	ASSERT_OK(wv_protect_at(self->fd, a, WV_PAGE, NOACCESS));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0x10), NULL));
	ASSERT_HEX(a + 0x10, wv_fault.addr);
	ASSERT_EQ(0, wv_fault.fi_err);
	ASSERT_HEX(WINVM_STATUS_ACCESS_VIOLATION, wv_fault.fi.fault_status);
	ASSERT_HEX(WINVM_EXCEPTION_READ_FAULT, wv_fault.fi.access);
	ASSERT_HEX(a + 0x10, wv_fault.fi.address);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(a + 0x20), 1));
	ASSERT_HEX(a + 0x20, wv_fault.addr);
	ASSERT_EQ(0, wv_fault.fi_err);
	ASSERT_HEX(WINVM_EXCEPTION_WRITE_FAULT, wv_fault.fi.access);
	b = a;
	s = WV_PAGE;
	ASSERT_OK(wv_protect(self->fd, &b, &s, w, &old));
	ASSERT_HEX(NOACCESS, old);
	ASSERT_EQ(0x42, *(volatile uint8_t *)PTR(a + 0x10));
}

/*
 * Rule R111: a view takes only protections within its access; one outside
 * it is refused and changes nothing.  Private memory refuses the
 * write-copy protections instead (rule R48).
 */
TEST_F(kind, protect_within_access)
{
	static const uint32_t prots[] = { NOACCESS, RO, RW, WCOPY, EX, EXR, EXRW, EXWCOPY };
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	unsigned int i;
	uint32_t old;
	uint64_t b, s;

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, w);
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		b = r.base;
		s = WV_PAGE;
		if (wv_region_allows(&r, prots[i])) {
			ASSERT_OK(wv_protect(self->fd, &b, &s, prots[i], &old))
				TH_LOG("%s, prot 0x%x", wv_kind_name(r.kind), prots[i]);
			ASSERT_VQ(self->fd, r.base, r.base, r.base, r.aprot, WV_PAGE, COMMIT,
				  prots[i], r.type);
			ASSERT_OK(wv_protect_at(self->fd, r.base, WV_PAGE, w));
		} else {
			ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
				  wv_protect(self->fd, &b, &s, prots[i], &old))
				TH_LOG("%s, prot 0x%x", wv_kind_name(r.kind), prots[i]);
			ASSERT_VQ(self->fd, r.base, r.base, r.base, r.aprot, WV_PAGE, COMMIT,
				  w, r.type);
		}
	}
}

TEST_HARNESS_MAIN
