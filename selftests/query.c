// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: WINVM_IOC_MEM_QUERY (NtQueryVirtualMemory with
 * MemoryBasicInformation and MemoryRegionInformation) over winvm memory,
 * free space and ordinary Linux mappings.
 * Rule numbers (R<n>) refer to docs/windows-rules.md, section 1.5.
 */
#include "winvm_test.h"

/* Cases on TEST_F(kind, ...) run on every memory kind (WV_KIND_FIXTURE). */
WV_KIND_FIXTURE()

/* Rule R60: the query address must lie in the user address range. */
TEST_F(winvm, query_address_limits)
{
	static const uint64_t bad[] = {
		WV_MAX_ADDR + 1, 0x7ffffffff000ULL, 0x800000000000ULL,
		0xffff800000000000ULL, ~0ULL,
	};
	struct winvm_query_args q;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_query(self->fd, bad[i], &q))
			TH_LOG("address 0x%" PRIx64, bad[i]);

	ASSERT_QUERY(self->fd, WV_MAX_ADDR, &q);
	ASSERT_HEX(0x7ffffffef000ULL, q.base_address);
	ASSERT_QUERY(self->fd, WV_MIN_ADDR, &q);
	ASSERT_HEX(WV_MIN_ADDR, q.base_address);
	ASSERT_QUERY(self->fd, WV_MIN_ADDR - 1, &q);
	ASSERT_HEX(0xf000, q.base_address);
}

/* Rules R5 and R57: the base is the page of the address; type and flags. */
TEST_F(winvm, query_winvm_reservation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 3 * WV_GRAN, RESERVE, EXRW);
	struct winvm_query_args q;

	ASSERT_QUERY(self->fd, a + 0x12345, &q);
	ASSERT_HEX(a + 0x12000, q.base_address);
	ASSERT_HEX(a, q.allocation_base);
	ASSERT_HEX(EXRW, q.allocation_protect);
	ASSERT_HEX(3 * WV_GRAN - 0x12000, q.region_size);
	ASSERT_HEX(RESERVE, q.state);
	ASSERT_HEX(0, q.protect);
	ASSERT_HEX(WINVM_MEM_PRIVATE, q.type);
	ASSERT_HEX(3 * WV_GRAN, q.allocation_size);
	ASSERT_HEX(0, q.commit_size);
	ASSERT_HEX(WINVM_REGION_WINVM, q.region_flags & WINVM_REGION_WINVM);
	ASSERT_HEX(0, q.pad);
}

/* Rule R57: a region is the run of identical state+protection. */
TEST_F(kind, region_is_run_of_same_protection)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, 16 * WV_PAGE, w);
	a = r.base;
	ASSERT_OK(wv_protect_at(self->fd, a, 3 * WV_PAGE, RO));
	ASSERT_VQ(self->fd, a, a, a, r.aprot, 3 * WV_PAGE, COMMIT, RO, r.type);
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, r.aprot, 2 * WV_PAGE, COMMIT, RO,
		  r.type);
	ASSERT_VQ(self->fd, a + 3 * WV_PAGE, a + 3 * WV_PAGE, a, r.aprot, 13 * WV_PAGE, COMMIT,
		  w, r.type);
	ASSERT_OK(wv_protect_at(self->fd, a, 3 * WV_PAGE, w));
	ASSERT_VQ(self->fd, a, a, a, r.aprot, 0x10000, COMMIT, w, r.type);
	/* A written write-copy page is a run of its own (rule R114). */
	*(volatile uint8_t *)PTR(a + 5 * WV_PAGE) = 1;
	if (w == WCOPY) {
		ASSERT_VQ(self->fd, a, a, a, r.aprot, 5 * WV_PAGE, COMMIT, w, r.type);
		ASSERT_VQ(self->fd, a + 5 * WV_PAGE, a + 5 * WV_PAGE, a, r.aprot, WV_PAGE,
			  COMMIT, RW, r.type);
		ASSERT_VQ(self->fd, a + 6 * WV_PAGE, a + 6 * WV_PAGE, a, r.aprot,
			  10 * WV_PAGE, COMMIT, w, r.type);
	} else {
		ASSERT_VQ(self->fd, a, a, a, r.aprot, 0x10000, COMMIT, w, r.type);
	}
}

/*
 * Committed and reserved runs alternate too.  Only VirtualAlloc memory
 * can be decommitted (rule R42: VirtualFree refuses views).
 */
TEST_F(kind, region_runs_of_committed_and_reserved)
{
	struct wv_region r;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, 16 * WV_PAGE, wv_kind_wprot(variant->kind));
	a = r.base;
	if (r.view) {
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
			  wv_free_at(self->fd, a + 4 * WV_PAGE, 4 * WV_PAGE, DECOMMIT));
		SKIP(return, "Windows: MEM_DECOMMIT on a %s is refused (rule R42)",
		     wv_kind_name(r.kind));
	}
	ASSERT_OK(wv_free_at(self->fd, a + 4 * WV_PAGE, 4 * WV_PAGE, DECOMMIT));
	ASSERT_VQ(self->fd, a, a, a, r.aprot, 4 * WV_PAGE, COMMIT, RW, r.type);
	ASSERT_VQ(self->fd, a + 4 * WV_PAGE, a + 4 * WV_PAGE, a, r.aprot, 4 * WV_PAGE, RESERVE,
		  0, r.type);
	ASSERT_VQ(self->fd, a + 8 * WV_PAGE, a + 8 * WV_PAGE, a, r.aprot, 8 * WV_PAGE, COMMIT,
		  RW, r.type);
}

/*
 * Rules R58 and R107: a view reports MEM_MAPPED with AllocationProtect the
 * view's protection; once gone (MEM_RELEASE for private memory, unmap for
 * a view, which MEM_RELEASE refuses) the range is free.
 */
TEST_F(kind, query_after_release_or_unmap)
{
	struct wv_region r;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, 3 * WV_PAGE, wv_kind_wprot(variant->kind));
	a = r.base;
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, r.aprot, 2 * WV_PAGE, COMMIT,
		  wv_kind_wprot(variant->kind), r.type);
	if (r.view) {
		ASSERT_HEX(WV_MAPPED, r.type);
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, a, 0, RELEASE));
		ASSERT_OK(wv_unmap(self->fd, a));
	} else {
		ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	}
	ASSERT_VQ(self->fd, a, a, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a), NULL));
}

/* A region stops at the end of its allocation, even if the next one matches. */
TEST_F(winvm, region_capped_at_allocation_end)
{
	uint64_t hole, a, b;

	ASSERT_HOLE(hole, 2 * WV_GRAN);
	a = wv_must_alloc(self->fd, hole, WV_GRAN, RESERVE | COMMIT, RW);
	b = wv_must_alloc(self->fd, hole + WV_GRAN, WV_GRAN, RESERVE | COMMIT, RW);
	ASSERT_HEX(hole + WV_GRAN, b);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x8000, a + 0x8000, a, RW, 0x8000, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, b, b, b, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	/* Reserved runs too. */
	ASSERT_OK(wv_free_at(self->fd, a, 0, DECOMMIT));
	ASSERT_OK(wv_free_at(self->fd, b, 0, DECOMMIT));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, RESERVE, 0, WINVM_MEM_PRIVATE);
}

/*
 * Rule R65: allocation_size describes the whole allocation, from any page;
 * commit_size counts its committed bytes.
 */
TEST_F(winvm, region_information)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	uint64_t r = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	struct winvm_query_args q;

	ASSERT_QUERY(self->fd, a, &q);
	ASSERT_HEX(WV_GRAN, q.allocation_size);
	ASSERT_HEX(WV_GRAN, q.commit_size);
	ASSERT_OK(wv_protect_at(self->fd, a + 0x1000, 0x1000, NOACCESS));
	ASSERT_QUERY(self->fd, a + 0x1000, &q);
	ASSERT_HEX(a, q.allocation_base);
	ASSERT_HEX(RW, q.allocation_protect);
	ASSERT_HEX(WV_GRAN, q.allocation_size);
	ASSERT_HEX(WV_GRAN, q.commit_size);
	ASSERT_HEX(NOACCESS, q.protect);
	ASSERT_HEX(0x1000, q.region_size);

	ASSERT_QUERY(self->fd, r + 0x4000, &q);
	ASSERT_HEX(WV_GRAN, q.allocation_size);
	ASSERT_HEX(0, q.commit_size);
	ASSERT_OK(wv_alloc_at(self->fd, r + 0x2000, 0x3000, COMMIT, RO));
	ASSERT_QUERY(self->fd, r + 0xf000, &q);
	ASSERT_HEX(0x3000, q.commit_size);
	ASSERT_OK(wv_free_at(self->fd, r + 0x3000, 0x1000, DECOMMIT));
	ASSERT_QUERY(self->fd, r, &q);
	ASSERT_HEX(0x2000, q.commit_size);
	ASSERT_HEX(WV_GRAN, q.allocation_size);
}

/* Rules R58 and R59: free space, up to the next mapping. */
TEST_F(winvm, query_free_space)
{
	struct winvm_query_args q;
	uint64_t hole;

	ASSERT_HOLE(hole, 3 * WV_GRAN);
	ASSERT_QUERY(self->fd, hole, &q);
	ASSERT_HEX(hole, q.base_address);
	ASSERT_HEX(0, q.allocation_base);
	ASSERT_HEX(0, q.allocation_protect);
	ASSERT_HEX(3 * WV_GRAN, q.region_size);
	ASSERT_HEX(WINVM_MEM_FREE, q.state);
	ASSERT_HEX(NOACCESS, q.protect);
	ASSERT_HEX(0, q.type);
	ASSERT_HEX(0, q.allocation_size);
	ASSERT_HEX(0, q.commit_size);
	ASSERT_HEX(0, q.region_flags & WINVM_REGION_WINVM);

	ASSERT_VQ(self->fd, hole + 0x1234, hole + 0x1000, 0, 0, 3 * WV_GRAN - 0x1000,
		  WINVM_MEM_FREE, NOACCESS, 0);
	/* A winvm allocation ends the free region too. */
	ASSERT_HEX(hole + 2 * WV_GRAN, wv_must_alloc(self->fd, hole + 2 * WV_GRAN, WV_PAGE,
						     RESERVE, RW));
	ASSERT_VQ(self->fd, hole, hole, 0, 0, 2 * WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);
	/* Rule R10: the tail of the granule after a short allocation is free. */
	ASSERT_VQ(self->fd, hole + 2 * WV_GRAN + WV_PAGE, hole + 2 * WV_GRAN + WV_PAGE, 0, 0,
		  WV_GRAN - WV_PAGE, WINVM_MEM_FREE, NOACCESS, 0);
}

/* Rule R58: right after a release. */
TEST_F(winvm, query_after_release)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 2 * WV_GRAN, RESERVE | COMMIT, RW);
	struct winvm_query_args q;

	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	ASSERT_QUERY(self->fd, a + 0x10, &q);
	ASSERT_HEX(a, q.base_address);
	ASSERT_HEX(0, q.allocation_base);
	ASSERT_HEX(0, q.allocation_protect);
	ASSERT_HEX(WINVM_MEM_FREE, q.state);
	ASSERT_HEX(NOACCESS, q.protect);
	ASSERT_HEX(0, q.type);
	ASSERT_LE(2 * WV_GRAN, q.region_size);
	ASSERT_HEX(0, q.allocation_size);
	ASSERT_HEX(0, q.commit_size);
}

/* AllocationProtect keeps the allocation-time value (rule R48). */
TEST_F(winvm, allocation_protect_is_fixed)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 4 * WV_PAGE, RESERVE, EXR);

	ASSERT_OK(wv_alloc_at(self->fd, a, 2 * WV_PAGE, COMMIT, RW));
	ASSERT_OK(wv_protect_at(self->fd, a, WV_PAGE, NOACCESS));
	ASSERT_VQ(self->fd, a, a, a, EXR, WV_PAGE, COMMIT, NOACCESS, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, EXR, WV_PAGE, COMMIT, RW,
		  WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 2 * WV_PAGE, a + 2 * WV_PAGE, a, EXR, 2 * WV_PAGE, RESERVE, 0,
		  WINVM_MEM_PRIVATE);
}

/*
 * Five pages PROT_NONE with the middle three remapped: the VMAs cannot
 * merge with anything, so each one's extent is known.
 */
static uint64_t linux_layout(int mid_prot, int mid_flags, int fd)
{
	char *r = mmap(NULL, 5 * WV_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED)
		return 0;
	if (mmap(r + WV_PAGE, 3 * WV_PAGE, mid_prot, mid_flags | MAP_FIXED, fd, 0) !=
	    r + WV_PAGE)
		return 0;
	return U64(r);
}

static void check_linux(struct __test_metadata *_metadata, int wfd, uint64_t r,
			uint32_t prot, uint32_t type)
{
	struct winvm_query_args q;

	ASSERT_NE(0ULL, r);
	ASSERT_QUERY(wfd, r + WV_PAGE, &q);
	ASSERT_HEX(r + WV_PAGE, q.base_address);
	ASSERT_HEX(r + WV_PAGE, q.allocation_base);
	ASSERT_HEX(3 * WV_PAGE, q.region_size);
	ASSERT_HEX(COMMIT, q.state);
	ASSERT_HEX(prot, q.protect);
	ASSERT_HEX(type, q.type);
	ASSERT_HEX(0, q.region_flags & WINVM_REGION_WINVM);
	ASSERT_QUERY(wfd, r + 2 * WV_PAGE + 0x777, &q);
	ASSERT_HEX(r + 2 * WV_PAGE, q.base_address);
	ASSERT_HEX(r + WV_PAGE, q.allocation_base);
	ASSERT_HEX(2 * WV_PAGE, q.region_size);
	ASSERT_HEX(prot, q.protect);
}

/* An ordinary anonymous mapping is committed private memory. */
TEST_F(winvm, query_linux_anonymous)
{
	uint64_t r;

	r = linux_layout(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	check_linux(_metadata, self->fd, r, RW, WINVM_MEM_PRIVATE);
	*(volatile int *)PTR(r + WV_PAGE) = 1;	/* populated or not, same answer */
	check_linux(_metadata, self->fd, r, RW, WINVM_MEM_PRIVATE);
	r = linux_layout(PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	check_linux(_metadata, self->fd, r, RO, WINVM_MEM_PRIVATE);
	r = linux_layout(PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	check_linux(_metadata, self->fd, r, EXRW, WINVM_MEM_PRIVATE);
}

/* PROT_NONE is committed PAGE_NOACCESS. */
TEST_F(winvm, query_linux_prot_none)
{
	uint64_t r = linux_layout(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	struct winvm_query_args q;

	ASSERT_NE(0ULL, r);
	ASSERT_QUERY(self->fd, r, &q);
	ASSERT_HEX(r, q.base_address);
	ASSERT_HEX(r, q.allocation_base);
	ASSERT_HEX(WV_PAGE, q.region_size);
	ASSERT_HEX(COMMIT, q.state);
	ASSERT_HEX(NOACCESS, q.protect);
	ASSERT_HEX(WINVM_MEM_PRIVATE, q.type);
	ASSERT_HEX(0, q.region_flags & WINVM_REGION_WINVM);
}

/* File mappings are MEM_MAPPED; private writable ones are WRITECOPY. */
TEST_F(winvm, query_linux_file_mappings)
{
	int mfd = memfd_create("winvm-query", MFD_CLOEXEC);
	uint64_t r;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 8 * WV_PAGE));
	r = linux_layout(PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd);
	check_linux(_metadata, self->fd, r, WCOPY, WINVM_MEM_MAPPED);
	r = linux_layout(PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	check_linux(_metadata, self->fd, r, RW, WINVM_MEM_MAPPED);
	r = linux_layout(PROT_READ, MAP_SHARED, mfd);
	check_linux(_metadata, self->fd, r, RO, WINVM_MEM_MAPPED);
	close(mfd);
}

/* The test program's own code is an image: MEM_IMAGE, EXECUTE_READ. */
TEST_F(winvm, query_image_code)
{
	struct winvm_query_args q;
	uint64_t fn = U64(&wv_fault_handler);

	ASSERT_QUERY(self->fd, fn, &q);
	ASSERT_HEX(fn & ~(WV_PAGE - 1), q.base_address);
	ASSERT_HEX(COMMIT, q.state);
	ASSERT_HEX(EXR, q.protect);
	ASSERT_HEX(WINVM_MEM_IMAGE, q.type);
	ASSERT_HEX(0, q.region_flags & WINVM_REGION_WINVM);
	ASSERT_LE(q.allocation_base, q.base_address);
	ASSERT_LT(fn, q.base_address + q.region_size);
}

/* Committed NOACCESS reports 1, reserved reports 0 (rules R5 and R6). */
TEST_F(winvm, reserved_vs_committed_noaccess)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 2 * WV_PAGE, RESERVE, NOACCESS);

	ASSERT_OK(wv_alloc_at(self->fd, a + WV_PAGE, WV_PAGE, COMMIT, NOACCESS));
	ASSERT_VQ(self->fd, a, a, a, NOACCESS, WV_PAGE, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, NOACCESS, WV_PAGE, COMMIT, NOACCESS,
		  WINVM_MEM_PRIVATE);
}

/* Querying never changes anything, and every output field is written. */
TEST_F(winvm, query_writes_every_output)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RO);
	struct winvm_query_args q1, q2;

	ASSERT_QUERY(self->fd, a, &q1);
	ASSERT_QUERY(self->fd, a, &q2);
	ASSERT_EQ(0, memcmp(&q1, &q2, sizeof(q1)));
	ASSERT_NE(WV_GARBAGE32, q1.allocation_protect);
	ASSERT_NE(WV_GARBAGE32, q1.state);
	ASSERT_NE(WV_GARBAGE32, q1.protect);
	ASSERT_NE(WV_GARBAGE32, q1.type);
	ASSERT_NE(WV_GARBAGE32, q1.region_flags);
	ASSERT_HEX(0, q1.status);
	ASSERT_HEX(0, q1.reserved[0]);
	ASSERT_HEX(0, q1.reserved[1]);
	ASSERT_HEX(WV_GRAN, q1.commit_size);
}

TEST_HARNESS_MAIN
