// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: WINVM_IOC_MEM_FREE (NtFreeVirtualMemory): decommit,
 * release, the size-0 rules and NT's partial release.
 * Rule numbers (R<n>) refer to docs/windows-rules.md, section 1.3.
 */
#include "winvm_test.h"

/* Rule R30: the type must be exactly MEM_DECOMMIT or MEM_RELEASE. */
TEST_F(winvm, invalid_free_type)
{
	static const uint32_t types[] = {
		0, WINVM_MEM_FREE, DECOMMIT | RELEASE, RESERVE, COMMIT,
		RELEASE | WINVM_MEM_PRESERVE_PLACEHOLDER,
		RELEASE | WINVM_MEM_COALESCE_PLACEHOLDERS, RELEASE | 0x100,
	};
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	unsigned int i;

	*(volatile int *)PTR(a) = 11;
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, a, 0, types[i]))
			TH_LOG("type 0x%x", types[i]);
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
			  wv_free_at(self->fd, a, WV_GRAN, types[i]))
			TH_LOG("type 0x%x", types[i]);
	}
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_EQ(11, *(volatile int *)PTR(a));
}

/* Rule R43: address 0. */
TEST_F(winvm, free_null_address)
{
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, 0, 0, RELEASE));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, 0, WV_PAGE, RELEASE));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, 0, 0, DECOMMIT));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, 0, WV_PAGE, DECOMMIT));
}

/* Rule R36: size 0 releases the whole allocation, from its first page. */
TEST_F(winvm, release_whole_allocation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	uint64_t b = a + 0xfff, s = 0;

	*(volatile int *)PTR(a + 0x8000) = 1;
	ASSERT_OK(wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(a, b);
	ASSERT_HEX(0x10000, s);
	ASSERT_VQ(self->fd, a, a, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	ASSERT_VQ(self->fd, a + 0x8000, a + 0x8000, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0x8000), NULL));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
}

/* Rules R34 and R36: size 0 away from the first page; outputs unchanged. */
TEST_F(winvm, free_size0_not_at_base)
{
	static const uint64_t offs[] = { 0x1000, 0x1001, 0x8000, 0xffff };
	static const uint32_t types[] = { RELEASE, DECOMMIT };
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	unsigned int i, j;

	*(volatile int *)PTR(a + 0x1000) = 3;
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		for (j = 0; j < ARRAY_SIZE(types); j++) {
			uint64_t b = a + offs[i], s = 0;

			ASSERT_NT(WINVM_STATUS_FREE_VM_NOT_AT_BASE,
				  wv_free(self->fd, &b, &s, types[j]))
				TH_LOG("offset 0x%" PRIx64 " type 0x%x", offs[i], types[j]);
			ASSERT_HEX(a + offs[i], b);
			ASSERT_HEX(0, s);
		}
	}
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_EQ(3, *(volatile int *)PTR(a + 0x1000));
}

/*
 * Rule R35: DECOMMIT with size 0 inside the first page decommits the whole
 * allocation and returns (A, 0).
 */
TEST_F(winvm, decommit_size0_whole_allocation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	uint64_t b = a + 0xffe, s = 0;

	memset(PTR(a), 0x77, WV_GRAN);
	ASSERT_OK(wv_free(self->fd, &b, &s, DECOMMIT));
	ASSERT_HEX(a, b);
	ASSERT_HEX(0, s);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, RESERVE, 0, WINVM_MEM_PRIVATE);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0xfff0), NULL));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(a), 1));
}

/* Rule R33: a nonzero range widens to whole pages. */
TEST_F(winvm, decommit_rounds_to_pages)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, EXRW);
	uint64_t b = a + 0x1fff, s = 2;

	*(volatile int *)PTR(a) = 1;
	*(volatile int *)PTR(a + 0x3000) = 2;
	ASSERT_OK(wv_free(self->fd, &b, &s, DECOMMIT));
	ASSERT_HEX(a + 0x1000, b);
	ASSERT_HEX(0x2000, s);
	ASSERT_VQ(self->fd, a, a, a, EXRW, 0x1000, COMMIT, EXRW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x1000, a + 0x1000, a, EXRW, 0x2000, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x3000, a + 0x3000, a, EXRW, 0xd000, COMMIT, EXRW,
		  WINVM_MEM_PRIVATE);
	ASSERT_EQ(1, *(volatile int *)PTR(a));
	ASSERT_EQ(2, *(volatile int *)PTR(a + 0x3000));
}

/* Rule R31: decommitting a partly committed reservation as a whole. */
TEST_F(winvm, decommit_partly_committed_range)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	uint64_t b = a, s = WV_GRAN;
	struct winvm_query_args q;

	ASSERT_OK(wv_alloc_at(self->fd, a + 0x2000, 0x3000, COMMIT, RW));
	ASSERT_OK(wv_free(self->fd, &b, &s, DECOMMIT));
	ASSERT_HEX(a, b);
	ASSERT_HEX(WV_GRAN, s);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_QUERY(self->fd, a, &q);
	ASSERT_HEX(0, q.commit_size);
	/* Decommitting reserved pages again is fine too. */
	ASSERT_OK(wv_free_at(self->fd, a, WV_GRAN, DECOMMIT));
}

/* Rule R37: a range running past the allocation cannot be freed. */
TEST_F(winvm, free_range_past_allocation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	uint64_t b, s;

	*(volatile int *)PTR(a + 0x1000) = 5;
	ASSERT_NT(WINVM_STATUS_UNABLE_TO_FREE_VM, wv_free_at(self->fd, a, 0x11000, RELEASE));
	ASSERT_NT(WINVM_STATUS_UNABLE_TO_FREE_VM, wv_free_at(self->fd, a, 0x11000, DECOMMIT));
	b = a + 0x1001;
	s = 0xffff;
	ASSERT_NT(WINVM_STATUS_UNABLE_TO_FREE_VM, wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(a + 0x1001, b);
	ASSERT_HEX(0xffff, s);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_EQ(5, *(volatile int *)PTR(a + 0x1000));
}

/* Rule R41: freeing memory that is not allocated. */
TEST_F(winvm, free_not_allocated)
{
	uint64_t hole, a;

	ASSERT_HOLE(hole, WV_GRAN);
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, hole, 0, RELEASE));
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, hole, 0x1000, RELEASE));
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, hole, 0x1000, DECOMMIT));
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, hole + 0x5000, 0, DECOMMIT));

	/* Double release. */
	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, a, 0, RELEASE));
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, a, 0, DECOMMIT));
}

/*
 * Rules R38-R40 (Wine's test_NtFreeVirtualMemory, step by step): NT releases
 * part of an allocation and splits it.  The hole is neither allocated nor
 * reallocatable inside the old granule except from its 64K-aligned start.
 */
TEST_F(winvm, partial_release_splits_allocation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0x10000, RESERVE | COMMIT, RW);
	uint64_t b, s;

	*(volatile int *)PTR(a) = 1;
	*(volatile int *)PTR(a + 0x1000) = 2;
	*(volatile int *)PTR(a + 0x2000) = 3;

	/* (A+0x1001, 0xfff) covers exactly page A+0x1000. */
	b = a + 0x1001;
	s = 0xfff;
	ASSERT_OK(wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(a + 0x1000, b);
	ASSERT_HEX(0x1000, s);
	ASSERT_EQ(1, *(volatile int *)PTR(a));
	ASSERT_EQ(3, *(volatile int *)PTR(a + 0x2000));
	*(volatile int *)PTR(a) = 10;
	*(volatile int *)PTR(a + 0x2000) = 30;
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0x1000), NULL));
	ASSERT_VQ(self->fd, a, a, a, RW, 0x1000, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x1000, a + 0x1000, 0, 0, 0x1000, WINVM_MEM_FREE, NOACCESS, 0);
	/* The tail is an allocation of its own. */
	ASSERT_VQ(self->fd, a + 0x2000, a + 0x2000, a + 0x2000, RW, 0xe000, COMMIT, RW,
		  WINVM_MEM_PRIVATE);

	/* (A+1, 0xfff) releases the first page. */
	b = a + 1;
	s = 0xfff;
	ASSERT_OK(wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(a, b);
	ASSERT_HEX(0x1000, s);
	ASSERT_EQ(30, *(volatile int *)PTR(a + 0x2000));

	/* Rule R39: the freed head can be allocated again, exactly at A. */
	b = a;
	s = 0x1000;
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, RESERVE | COMMIT, RW));
	ASSERT_HEX(a, b);
	ASSERT_HEX(0x1000, s);
	ASSERT_EQ(0, *(volatile int *)PTR(a));

	/* Rule R40: frees spanning the hole fail; the hole is not allocated. */
	ASSERT_NT(WINVM_STATUS_UNABLE_TO_FREE_VM, wv_free_at(self->fd, a, 0x10000, DECOMMIT));
	ASSERT_NT(WINVM_STATUS_UNABLE_TO_FREE_VM, wv_free_at(self->fd, a, 0x10000, RELEASE));
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED,
		  wv_free_at(self->fd, a + 0x1000, 0, RELEASE));
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED,
		  wv_free_at(self->fd, a + 0x1000, 0x1000, DECOMMIT));
	/* The hole sits in the granule of the allocations around it. */
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a + 0x1000, 0x1000, RESERVE | COMMIT, RW));

	b = a + 0x2000;
	s = 0;
	ASSERT_OK(wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(a + 0x2000, b);
	ASSERT_HEX(0xe000, s);
	ASSERT_OK(wv_free_at(self->fd, a, 0x1000, RELEASE));
	ASSERT_VQ(self->fd, a, a, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
}

/*
 * An inner MEM_RELEASE that the kernel refuses (here: the VMA is sealed,
 * mseal(2), 6.10+) leaves the allocation whole, data and all.  The
 * prepared tail shares the process's shmem file; it must not free the
 * pages it never took over when it is dropped.
 */
TEST_F(winvm, refused_inner_release_keeps_the_data)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 4 * WV_GRAN, RESERVE | COMMIT, RW), i;

	memset(PTR(a), 0x5a, 4 * WV_GRAN);
	if (syscall(462 /* mseal */, PTR(a), 4 * WV_GRAN, 0))
		SKIP(return, "no mseal(2) here (%s)", strerror(errno));
	ASSERT_NE((uint32_t)ST_OK, wv_free_at(self->fd, a + WV_GRAN, WV_GRAN, RELEASE));
	/* (A wrongly queued punch would run from a work item: give it time.) */
	usleep(300000);
	for (i = 0; i < 4 * WV_GRAN; i += WV_PAGE)
		ASSERT_EQ(0x5a, *(volatile uint8_t *)PTR(a + i)) TH_LOG("offset 0x%" PRIx64, i);
	ASSERT_VQ(self->fd, a, a, a, RW, 4 * WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* Partial release at the end of an allocation: the head stays intact. */
TEST_F(winvm, partial_release_of_tail)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0x8000, RESERVE | COMMIT, RO);
	uint64_t b = a + 0x6000, s = 0x2000;
	struct winvm_query_args q;

	ASSERT_OK(wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(a + 0x6000, b);
	ASSERT_HEX(0x2000, s);
	ASSERT_VQ(self->fd, a, a, a, RO, 0x6000, COMMIT, RO, WINVM_MEM_PRIVATE);
	ASSERT_QUERY(self->fd, a, &q);
	ASSERT_HEX(0x6000, q.allocation_size);
	ASSERT_VQ(self->fd, a + 0x6000, a + 0x6000, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	b = a;
	s = 0;
	ASSERT_OK(wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(0x6000, s);
}

/*
 * Decommitted pages become reserved: touching them faults, and a new commit
 * gives zero pages, never the old data.
 */
TEST_F(winvm, decommit_then_recommit_is_zero)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 8 * WV_PAGE, RESERVE | COMMIT, RW);
	int i;

	memset(PTR(a), 0xa5, 8 * WV_PAGE);
	ASSERT_OK(wv_free_at(self->fd, a + 2 * WV_PAGE, 4 * WV_PAGE, DECOMMIT));
	for (i = 2; i < 6; i++) {
		wv_fault_reset();
		ASSERT_FALSE(wv_try_read(PTR(a + i * WV_PAGE + 100), NULL));
		ASSERT_HEX(a + i * WV_PAGE + 100, wv_fault.addr);
	}
	ASSERT_EQ(0xa5, *(volatile uint8_t *)PTR(a + 2 * WV_PAGE - 1));
	ASSERT_EQ(0xa5, *(volatile uint8_t *)PTR(a + 6 * WV_PAGE));
	ASSERT_OK(wv_alloc_at(self->fd, a, 8 * WV_PAGE, COMMIT, RW));
	for (i = 0; i < 8; i++) {
		uint8_t want = (i >= 2 && i < 6) ? 0 : 0xa5;
		const volatile uint8_t *p = PTR(a + i * WV_PAGE);
		int j;

		for (j = 0; j < (int)WV_PAGE; j += 512)
			ASSERT_EQ(want, p[j]) TH_LOG("page %d byte %d", i, j);
	}
}

/* Decommit gives the memory back: the resident set shrinks. */
TEST_F(winvm, decommit_releases_memory)
{
	const uint64_t size = 16ULL << 20;
	uint64_t a = wv_must_alloc(self->fd, 0, size, RESERVE | COMMIT, RW);
	long before, touched, after, shmem_touched, shmem_after;
	uint64_t off;

	before = wv_rss_pages();
	ASSERT_LT(0, before);
	for (off = 0; off < size; off += WV_PAGE)
		*(volatile uint8_t *)PTR(a + off) = 1;
	touched = wv_rss_pages();
	shmem_touched = wv_rollup_kb("RssShmem");
	ASSERT_OK(wv_free_at(self->fd, a, 0, DECOMMIT));
	after = wv_rss_pages();
	shmem_after = wv_rollup_kb("RssShmem");
	TH_LOG("rss pages: before %ld, touched %ld, after decommit %ld; RssShmem kB: %ld -> %ld",
	       before, touched, after, shmem_touched, shmem_after);
	/* 16 MiB is 4096 pages; allow for noise from the test itself. */
	ASSERT_LE(before + 3072, touched);
	ASSERT_GE(before + 1024, after);
}

/* A free that leaves nothing committed still leaves the reservation. */
TEST_F(winvm, decommit_keeps_reservation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 3 * WV_GRAN, RESERVE | COMMIT, EXR);
	struct winvm_query_args q;

	ASSERT_OK(wv_free_at(self->fd, a, 3 * WV_GRAN, DECOMMIT));
	ASSERT_QUERY(self->fd, a + WV_GRAN, &q);
	ASSERT_HEX(a, q.allocation_base);
	ASSERT_HEX(EXR, q.allocation_protect);
	ASSERT_HEX(RESERVE, q.state);
	ASSERT_HEX(3 * WV_GRAN, q.allocation_size);
	ASSERT_HEX(0, q.commit_size);
	/* An explicit reserve over it conflicts; a commit works again. */
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a, WV_GRAN, RESERVE, RW));
	ASSERT_OK(wv_alloc_at(self->fd, a + WV_GRAN, WV_PAGE, COMMIT, RW));
	*(volatile int *)PTR(a + WV_GRAN) = 4;
}

/* After a release, a commit-only request there finds no allocation. */
TEST_F(winvm, commit_after_release_not_mapped)
{
	uint64_t hole, a;

	ASSERT_HOLE(hole, WV_GRAN);
	a = wv_must_alloc(self->fd, hole, WV_GRAN, RESERVE, RW);
	ASSERT_HEX(hole, a);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	ASSERT_NT(WINVM_STATUS_NOT_MAPPED_VIEW, wv_alloc_at(self->fd, a, WV_PAGE, COMMIT, RW));
	ASSERT_VQ(self->fd, a, a, 0, 0, WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);
}

TEST_HARNESS_MAIN
