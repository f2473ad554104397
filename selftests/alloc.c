// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: WINVM_IOC_MEM_ALLOC (NtAllocateVirtualMemory).
 * Rule numbers (R<n>) refer to docs/windows-rules.md, section 1.2.
 */
#include "winvm_test.h"

/* Rule R5: a NULL-address reservation is 64K-aligned, size page-rounded. */
TEST_F(winvm, reserve_null_address)
{
	struct winvm_query_args q;
	uint64_t a = 0, s = 0xfffc;

	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, RESERVE, NOACCESS));
	ASSERT_HEX(0, a & (WV_GRAN - 1));
	ASSERT_HEX(0x10000, s);
	ASSERT_VQ(self->fd, a, a, a, NOACCESS, 0x10000, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_QUERY(self->fd, a, &q);
	ASSERT_HEX(WINVM_REGION_WINVM, q.region_flags & WINVM_REGION_WINVM);
}

/* Rules R6 and R7: commit the first page of a reservation. */
TEST_F(winvm, commit_first_page_of_reservation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0xfffc, RESERVE, NOACCESS);
	uint64_t b = a, s = 0x1000;

	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, NOACCESS));
	ASSERT_HEX(a, b);
	ASSERT_HEX(0x1000, s);
	/* Committed NOACCESS reports 1, reserved pages report 0. */
	ASSERT_VQ(self->fd, a, a, a, NOACCESS, 0x1000, COMMIT, NOACCESS, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x1000, a + 0x1000, a, NOACCESS, 0xf000, RESERVE, 0,
		  WINVM_MEM_PRIVATE);
}

/* Rule R9: sizes round up to the page, not to 64K. */
TEST_F(winvm, size_rounds_up_to_page)
{
	static const struct { uint64_t in, out; } sizes[] = {
		{ 0x2000, 0x2000 }, { 0x1001, 0x2000 }, { 1, 0x1000 },
		{ 0x10001, 0x11000 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t a = 0, s = sizes[i].in;

		ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, COMMIT, RW));
		ASSERT_HEX(sizes[i].out, s);
		ASSERT_HEX(0, a & (WV_GRAN - 1));
		ASSERT_VQ(self->fd, a, a, a, RW, sizes[i].out, COMMIT, RW, WINVM_MEM_PRIVATE);
	}
}

/* Rule R11: MEM_COMMIT with a NULL address reserves and commits. */
TEST_F(winvm, commit_null_address_every_protection)
{
	static const uint32_t prots[] = { NOACCESS, RO, RW, EX, EXR, EXRW };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		uint64_t a = 0, s = WV_PAGE;

		ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, COMMIT, prots[i]));
		ASSERT_HEX(0, a & (WV_GRAN - 1));
		ASSERT_VQ(self->fd, a, a, a, prots[i], WV_PAGE, COMMIT, prots[i], WINVM_MEM_PRIVATE);
	}
}

/* GUARD, NOCACHE and WRITECOMBINE are accepted on top of a base protection. */
TEST_F(winvm, protection_modifiers_accepted)
{
	static const uint32_t prots[] = {
		RW | GUARD, RO | GUARD, EXR | GUARD, EXRW | GUARD,
		RW | NOCACHE, RO | NOCACHE, EXRW | NOCACHE,
		RW | WCOMBINE, RO | WCOMBINE,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		uint64_t a = 0, s = 2 * WV_PAGE;

		ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, RESERVE | COMMIT, prots[i]));
		ASSERT_VQ(self->fd, a, a, a, prots[i], 2 * WV_PAGE, COMMIT, prots[i],
			  WINVM_MEM_PRIVATE);
	}
}

/* Rules R12-R14 and the modifier rules: invalid protections change nothing. */
TEST_F(winvm, invalid_protections_rejected)
{
	static const uint32_t prots[] = {
		0, WCOPY, EXWCOPY, RO | NOACCESS, EXR | EX, RO | EX, RW | RO,
		RW | EXWCOPY, RW | WCOPY, GUARD, NOCACHE, WCOMBINE,
		GUARD | NOACCESS, NOCACHE | NOACCESS, WCOMBINE | NOACCESS,
		RW | NOCACHE | GUARD, RW | NOCACHE | WCOMBINE, RW | WCOMBINE | GUARD,
		RW | 0x800, RW | 0x10000, RW | 0x80000000u, 0x800,
	};
	static const uint32_t types[] = { RESERVE, COMMIT, RESERVE | COMMIT };
	unsigned int i, j;
	uint64_t hole;

	ASSERT_HOLE(hole, WV_GRAN);
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		for (j = 0; j < ARRAY_SIZE(types); j++) {
			uint64_t a = 0, s = WV_PAGE;

			ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
				  wv_alloc(self->fd, &a, &s, 0, types[j], prots[i]))
				TH_LOG("prot 0x%x type 0x%x", prots[i], types[j]);
			a = hole;
			s = WV_PAGE;
			ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
				  wv_alloc(self->fd, &a, &s, 0, types[j] | RESERVE, prots[i]))
				TH_LOG("prot 0x%x type 0x%x at hole", prots[i], types[j]);
			ASSERT_VQ(self->fd, hole, hole, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
		}
	}
}

/* Rule R4: size 0. */
TEST_F(winvm, zero_size_rejected)
{
	uint64_t hole;

	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_alloc_at(self->fd, 0, 0, RESERVE, NOACCESS));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_alloc_at(self->fd, 0, 0, COMMIT, RW));
	ASSERT_HOLE(hole, WV_GRAN);
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_alloc_at(self->fd, hole, 0, RESERVE | COMMIT, RW));
	ASSERT_VQ(self->fd, hole, hole, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
}

/*
 * The type must hold RESERVE and/or COMMIT (optionally TOP_DOWN), or be
 * exactly MEM_RESET or exactly MEM_RESET_UNDO; anything else is
 * STATUS_INVALID_PARAMETER (rule R21; the other type bits as winvm's uapi header documents).
 */
TEST_F(winvm, invalid_types_rejected)
{
	static const uint32_t types[] = {
		0, WINVM_MEM_TOP_DOWN, DECOMMIT, RELEASE, WINVM_MEM_FREE,
		WINVM_MEM_PRIVATE, WINVM_MEM_COALESCE_PLACEHOLDERS,
		WINVM_MEM_PRESERVE_PLACEHOLDER, RESERVE | RELEASE,
		COMMIT | DECOMMIT, RESERVE | WINVM_MEM_FREE,
		RESERVE | WINVM_MEM_RESERVE_PLACEHOLDER,
		WINVM_MEM_RESET | COMMIT, WINVM_MEM_RESET | RESERVE,
		WINVM_MEM_RESET_UNDO | COMMIT, WINVM_MEM_RESET | WINVM_MEM_RESET_UNDO,
		WINVM_MEM_RESET | WINVM_MEM_TOP_DOWN, RESERVE | 0x10000000,
		RESERVE | WINVM_MEM_4MB_PAGES, RESERVE | 0x800,
	};
	unsigned int i;
	uint64_t hole;

	ASSERT_HOLE(hole, WV_GRAN);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
			  wv_alloc_at(self->fd, 0, WV_GRAN, types[i], RW))
			TH_LOG("type 0x%x", types[i]);
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
			  wv_alloc_at(self->fd, hole, WV_GRAN, types[i], RW))
			TH_LOG("type 0x%x at hole", types[i]);
		ASSERT_VQ(self->fd, hole, hole, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	}
}

/* Rule R17: AT_ROUND_TO_PAGE is STATUS_INVALID_PARAMETER_5. */
TEST_F(winvm, at_round_to_page_rejected)
{
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER_5,
		  wv_alloc_at(self->fd, 0, WV_PAGE,
			      RESERVE | COMMIT | WINVM_AT_ROUND_TO_PAGE, EXRW));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER_5,
		  wv_alloc_at(self->fd, 0, WV_PAGE, RESERVE | WINVM_AT_ROUND_TO_PAGE, RW));
}

/* Large pages and AWE are not implemented yet (write watch: watch.c). */
TEST_F(winvm, unimplemented_types_not_supported)
{
	static const uint32_t types[] = {
		RESERVE | COMMIT | WINVM_MEM_LARGE_PAGES,
		RESERVE | WINVM_MEM_PHYSICAL,
	};
	unsigned int i;
	uint64_t hole;

	ASSERT_HOLE(hole, WV_GRAN);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		ASSERT_NT(WINVM_STATUS_NOT_SUPPORTED,
			  wv_alloc_at(self->fd, 0, WV_GRAN, types[i], RW))
			TH_LOG("type 0x%x", types[i]);
		ASSERT_NT(WINVM_STATUS_NOT_SUPPORTED,
			  wv_alloc_at(self->fd, hole, WV_GRAN, types[i], RW))
			TH_LOG("type 0x%x at hole", types[i]);
		ASSERT_VQ(self->fd, hole, hole, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	}
}

TEST_F(winvm, top_down)
{
	uint64_t a = 0, s = 0x3000;

	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, RESERVE | WINVM_MEM_TOP_DOWN, RW));
	ASSERT_HEX(0, a & (WV_GRAN - 1));
	ASSERT_HEX(0x3000, s);
	ASSERT_VQ(self->fd, a, a, a, RW, 0x3000, RESERVE, 0, WINVM_MEM_PRIVATE);
	a = 0;
	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, COMMIT | WINVM_MEM_TOP_DOWN, RW));
	ASSERT_VQ(self->fd, a, a, a, RW, 0x3000, COMMIT, RW, WINVM_MEM_PRIVATE);
	*(volatile int *)PTR(a + 0x2ffc) = 1;
}

/* Rule R8: after a release the same address can be allocated again. */
TEST_F(winvm, reallocate_released_address)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0x2000, RESERVE | COMMIT, EXRW);
	uint64_t b, s = 0x1000;

	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	b = a;
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, RESERVE | COMMIT, RW));
	ASSERT_HEX(a, b);
	ASSERT_HEX(0x1000, s);
	ASSERT_VQ(self->fd, a, a, a, RW, 0x1000, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/*
 * Rule R19: with MEM_RESERVE an explicit base rounds down to 64K and the
 * size becomes round_up(addr + size, 4K) - base.
 */
TEST_F(winvm, explicit_reserve_rounds_base_to_64k)
{
	uint64_t hole, a, s;

	ASSERT_HOLE(hole, WV_GRAN);
	a = hole + 0x4000;
	s = 0x1000;
	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, RESERVE, RW));
	ASSERT_HEX(hole, a);
	ASSERT_HEX(0x5000, s);
	ASSERT_VQ(self->fd, hole, hole, hole, RW, 0x5000, RESERVE, 0, WINVM_MEM_PRIVATE);
	/* Rule R10: the rest of the granule is not part of the allocation. */
	ASSERT_VQ(self->fd, hole + 0x5000, hole + 0x5000, 0, 0, 0xb000, WINVM_MEM_FREE,
		  NOACCESS, 0);

	/* A misaligned end rounds up to the page. */
	ASSERT_OK(wv_free_at(self->fd, hole, 0, RELEASE));
	a = hole + 0x1234;
	s = 0x1000;
	ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, RESERVE | COMMIT, RW));
	ASSERT_HEX(hole, a);
	ASSERT_HEX(0x3000, s);
	ASSERT_VQ(self->fd, hole, hole, hole, RW, 0x3000, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* Without MEM_RESERVE, an explicit base rounds down to the page only. */
TEST_F(winvm, explicit_commit_rounds_to_pages)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	uint64_t b, s;

	b = a + 0x1234;
	s = 0x10;
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, RW));
	ASSERT_HEX(a + 0x1000, b);
	ASSERT_HEX(0x1000, s);
	b = a + 0x2fff;
	s = 2;
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, RW));
	ASSERT_HEX(a + 0x2000, b);
	ASSERT_HEX(0x2000, s);
	ASSERT_VQ(self->fd, a, a, a, RW, 0x1000, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x1000, a + 0x1000, a, RW, 0x3000, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + 0x4000, a + 0x4000, a, RW, 0xc000, RESERVE, 0, WINVM_MEM_PRIVATE);
}

/* Rule R19: base below 0x10000, wrap-around, end beyond the address space. */
TEST_F(winvm, explicit_address_out_of_range)
{
	static const struct { uint64_t addr, size; uint32_t type; } bad[] = {
		{ 0x1000, 0x1000, RESERVE },
		{ 0xf000, 0x1000, RESERVE },		/* rounds down to 0 */
		{ 0x8000, 0x1000, COMMIT },
		{ 0xf000, 0x2000, RESERVE | COMMIT },
		{ 0x7fffffff0000ULL, 0x1000, RESERVE },	/* starts past max_address */
		{ 0x7ffffffe0000ULL, 0x20000, RESERVE },	/* ends past it */
		{ 0x7ffffffef000ULL, 0x2000, COMMIT },
		{ 0x800000000000ULL, 0x1000, RESERVE },
		{ 0x20000, ~0ULL - 0x1000, RESERVE },	/* wraps */
		{ 0xfffffffffff00000ULL, 0x1000, RESERVE },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
			  wv_alloc_at(self->fd, bad[i].addr, bad[i].size, bad[i].type, RW))
			TH_LOG("addr 0x%" PRIx64 " size 0x%" PRIx64 " type 0x%x",
			       bad[i].addr, bad[i].size, bad[i].type);
}

/* An explicit range overlapping an ordinary Linux mapping conflicts. */
TEST_F(winvm, conflict_with_linux_mapping)
{
	uint64_t hole;
	char *m;

	ASSERT_HOLE(hole, 2 * WV_GRAN);
	m = mmap(PTR(hole + WV_GRAN), WV_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ(PTR(hole + WV_GRAN), m);
	m[0] = 42;
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, hole + WV_GRAN, WV_PAGE, RESERVE | COMMIT, RW));
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, hole, 2 * WV_GRAN, RESERVE, RW));
	/* Partial overlap at the end of the requested range. */
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, hole + 0x8000, 0x9000, RESERVE, RW));
	ASSERT_EQ(42, m[0]);
	ASSERT_VQ(self->fd, hole, hole, 0, 0, WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);
}

/* Rule R18: an explicit address in another allocation's granule conflicts. */
TEST_F(winvm, conflict_within_64k_granule)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0x1000, RESERVE | COMMIT, EXRW);

	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a + 0x1000, 0x1000, RESERVE | COMMIT, EXRW));
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a, 0x1000, RESERVE, RW));
	ASSERT_VQ(self->fd, a, a, a, EXRW, 0x1000, COMMIT, EXRW, WINVM_MEM_PRIVATE);
}

/*
 * Example E1 (docs/windows-rules.md): one page at 0x14000 lands at 0x10000 and
 * covers 0x10000-0x14fff, all committed; 0x16000 then conflicts, with or
 * without MEM_RESERVE, although it lies in no allocation; committing inside
 * the allocation works page by page.
 */
TEST_F(winvm, seed_001_explicit_low_address)
{
	uint64_t a = 0x14000, s = 0x1000, p;
	uint32_t st;

	st = wv_alloc(self->fd, &a, &s, 0, RESERVE | COMMIT, RW);
	if (st != ST_OK && st != WINVM_STATUS_CONFLICTING_ADDRESSES)
		SKIP(return, "0x10000 not mappable here (%s, errno %d): vm.mmap_min_addr > 65536?",
		     winvm_abi_status_name(st), wv_errno);
	ASSERT_NT(ST_OK, st);
	ASSERT_HEX(0x10000, a);
	ASSERT_HEX(0x5000, s);
	ASSERT_VQ(self->fd, 0x10000, 0x10000, 0x10000, RW, 0x5000, COMMIT, RW, WINVM_MEM_PRIVATE);
	/* All five pages are committed, demand-zero and writable. */
	for (p = 0x10000; p < 0x15000; p += WV_PAGE) {
		ASSERT_EQ(0u, *(volatile uint32_t *)PTR(p + 0x20));
		*(volatile uint32_t *)PTR(p + 0x20) = (uint32_t)p;
	}
	ASSERT_VQ(self->fd, 0x15000, 0x15000, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);

	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, 0x16000, 0x1000, RESERVE | COMMIT, RW));
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, 0x16000, 0x1000, COMMIT, RW));
	/* A commit that starts inside the allocation and runs past its end. */
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, 0x14000, 0x2000, COMMIT, RW));
	ASSERT_VQ(self->fd, 0x16000, 0x16000, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);

	/* Committing inside the allocation, page by page, works. */
	for (p = 0x10000; p < 0x15000; p += WV_PAGE) {
		uint64_t b = p, bs = 0x1000;

		ASSERT_OK(wv_alloc(self->fd, &b, &bs, 0, COMMIT, RO));
		ASSERT_HEX(p, b);
		ASSERT_HEX(0x1000, bs);
		/* The RO run now reaches from 0x10000 to the end of page p. */
		ASSERT_VQ(self->fd, 0x10000, 0x10000, 0x10000, RW, p + 0x1000 - 0x10000,
			  COMMIT, RO, WINVM_MEM_PRIVATE);
		/* A commit of committed pages keeps their contents. */
		ASSERT_EQ((uint32_t)p, *(volatile uint32_t *)PTR(p + 0x20));
	}
	ASSERT_OK(wv_free_at(self->fd, 0x10000, 0, RELEASE));
	ASSERT_VQ(self->fd, 0x10000, 0x10000, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
}

/* A commit-only range in no allocation and no granule of one. */
TEST_F(winvm, commit_outside_any_allocation)
{
	uint64_t hole;

	ASSERT_HOLE(hole, WV_GRAN);
	ASSERT_NT(WINVM_STATUS_NOT_MAPPED_VIEW,
		  wv_alloc_at(self->fd, hole + 0x3000, 0x1000, COMMIT, RW));
	ASSERT_NT(WINVM_STATUS_NOT_MAPPED_VIEW,
		  wv_alloc_at(self->fd, hole, WV_GRAN, COMMIT, RW));
	ASSERT_VQ(self->fd, hole, hole, 0, 0, WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);
}

/* A commit that runs past the allocation's end, or into its granule's tail. */
TEST_F(winvm, commit_past_allocation_end)
{
	uint64_t hole, a;

	ASSERT_HOLE(hole, WV_GRAN);
	a = wv_must_alloc(self->fd, hole, 0x8000, RESERVE, RW);
	ASSERT_HEX(hole, a);
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a + 0x7000, 0x2000, COMMIT, RW));
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a + 0x9000, 0x1000, COMMIT, RW));
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a, 0x9000, COMMIT, RW));
	/* Nothing was committed by the failed calls. */
	ASSERT_VQ(self->fd, a, a, a, RW, 0x8000, RESERVE, 0, WINVM_MEM_PRIVATE);
}

/*
 * Rules R15 and R16: MEM_COMMIT over committed pages is a protection change;
 * it returns the page-rounded base and keeps the contents.
 */
TEST_F(winvm, recommit_changes_protection_keeps_data)
{
	static const uint32_t prots[] = { RO, EXR, EX, NOACCESS, EXRW, RW };
	uint64_t a = wv_must_alloc(self->fd, 0, 0x2000, RESERVE | COMMIT, RW);
	unsigned int i;

	*(volatile uint32_t *)PTR(a) = 0xdeadbeef;
	*(volatile uint32_t *)PTR(a + 0x1000) = 0xfeedface;
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		uint64_t b = a, s = 0x1000;

		ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, prots[i]));
		ASSERT_HEX(a, b);
		ASSERT_HEX(0x1000, s);
		/* Page 1 stays RW, so the run is one page unless page 0 is RW too. */
		ASSERT_VQ(self->fd, a, a, a, RW, prots[i] == RW ? 0x2000 : 0x1000, COMMIT,
			  prots[i], WINVM_MEM_PRIVATE);
	}
	/* Same protection again: same base. */
	ASSERT_OK(wv_alloc_at(self->fd, a + 0x1000, 0x1000, COMMIT, RW));
	ASSERT_VQ(self->fd, a, a, a, RW, 0x2000, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_HEX(0xdeadbeef, *(volatile uint32_t *)PTR(a));
	ASSERT_HEX(0xfeedface, *(volatile uint32_t *)PTR(a + 0x1000));
	/* Rule R16: WRITECOPY and mixed bits fail, and change nothing. */
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  wv_alloc_at(self->fd, a, 0x1000, COMMIT, WCOPY));
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  wv_alloc_at(self->fd, a, 0x1000, COMMIT, EXWCOPY));
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  wv_alloc_at(self->fd, a, 0x1000, COMMIT, RO | EX));
	ASSERT_VQ(self->fd, a, a, a, RW, 0x2000, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* Committed pages are demand-zero, whether committed at once or later. */
TEST_F(winvm, committed_pages_read_zero)
{
	static const uint8_t zero[4096];
	uint64_t a = wv_must_alloc(self->fd, 0, 16 * WV_PAGE, RESERVE | COMMIT, RW);
	uint64_t b = wv_must_alloc(self->fd, 0, 16 * WV_PAGE, RESERVE, RW);
	int i;

	ASSERT_OK(wv_alloc_at(self->fd, b + 4 * WV_PAGE, 8 * WV_PAGE, COMMIT, RO));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, memcmp(PTR(a + i * WV_PAGE), zero, sizeof(zero)));
	for (i = 4; i < 12; i++)
		ASSERT_EQ(0, memcmp(PTR(b + i * WV_PAGE), zero, sizeof(zero)));
}

/* Reserved pages are inaccessible. */
TEST_F(winvm, reserved_pages_fault)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 4 * WV_GRAN, RESERVE, RW);
	uint64_t off;

	for (off = 0; off < 4 * WV_GRAN; off += WV_GRAN - WV_PAGE) {
		wv_fault_reset();
		ASSERT_FALSE(wv_try_read(PTR(a + off + 8), NULL));
		ASSERT_EQ(SIGSEGV, wv_fault.signo);
		ASSERT_HEX(a + off + 8, wv_fault.addr);
		wv_fault_reset();
		ASSERT_FALSE(wv_try_write(PTR(a + off + 16), 1));
		ASSERT_EQ(SIGSEGV, wv_fault.signo);
		ASSERT_HEX(a + off + 16, wv_fault.addr);
	}
	ASSERT_VQ(self->fd, a, a, a, RW, 4 * WV_GRAN, RESERVE, 0, WINVM_MEM_PRIVATE);
}

/* Reserving and then committing a whole 1 MiB range. */
TEST_F(winvm, commit_whole_reservation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0x100000, RESERVE, NOACCESS);
	uint64_t b = a, s = 0x100000;
	struct winvm_query_args q;

	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, RW));
	ASSERT_HEX(a, b);
	ASSERT_HEX(0x100000, s);
	ASSERT_VQ(self->fd, a + 0x5000, a + 0x5000, a, NOACCESS, 0xfb000, COMMIT, RW,
		  WINVM_MEM_PRIVATE);
	*(volatile char *)PTR(a) = 1;
	*(volatile char *)PTR(a + 0xfffff) = 2;
	ASSERT_QUERY(self->fd, a, &q);
	ASSERT_HEX(0x100000, q.region_size);
	ASSERT_HEX(0x100000, q.allocation_size);
	ASSERT_HEX(0x100000, q.commit_size);
}

/* Independent NULL-address allocations never share a granule. */
TEST_F(winvm, null_allocations_distinct_granules)
{
	uint64_t a[16];
	int i, j;

	for (i = 0; i < 16; i++) {
		a[i] = wv_must_alloc(self->fd, 0, 0x3000, RESERVE | COMMIT, RW);
		ASSERT_HEX(0, a[i] & (WV_GRAN - 1));
		*(volatile int *)PTR(a[i]) = i;
	}
	for (i = 0; i < 16; i++) {
		for (j = 0; j < i; j++)
			ASSERT_NE(a[i], a[j]);
		ASSERT_EQ(i, *(volatile int *)PTR(a[i]));
	}
}

/* zero_bits 1: the whole range lies below 2^31. */
TEST_F(winvm, zero_bits_one)
{
	static const uint32_t types[] = { RESERVE, RESERVE | COMMIT | WINVM_MEM_TOP_DOWN, COMMIT };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		uint64_t a = 0, s = 0x20000;

		ASSERT_OK(wv_alloc(self->fd, &a, &s, 1, types[i], RW));
		ASSERT_GE(0x80000000ULL, a + s) TH_LOG("a 0x%" PRIx64, a);
		ASSERT_HEX(0, a & (WV_GRAN - 1));
		ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	}
}

/*
 * zero_bits 2..20: the range lies below 1 << (32 - zero_bits), or the call
 * fails with STATUS_NO_MEMORY.  Below 256 MiB there is always room here; at
 * 16 and above the limit (64K and less) is at or under min_address, so no
 * allocation can satisfy it.
 */
TEST_F(winvm, zero_bits_two_to_twenty)
{
	uint64_t k;

	for (k = 2; k <= 20; k++) {
		uint64_t a = 0, s = 0x1000, limit = 1ULL << (32 - k);
		uint32_t st = wv_alloc(self->fd, &a, &s, k, RESERVE | COMMIT | WINVM_MEM_TOP_DOWN, RW);

		/* Braces: the ASSERT macros expand to more than one statement. */
		if (k <= 4) {
			ASSERT_NT(ST_OK, st) TH_LOG("zero_bits %" PRIu64, k);
		} else if (k >= 16 || st != ST_OK) {
			ASSERT_NT(WINVM_STATUS_NO_MEMORY, st) TH_LOG("zero_bits %" PRIu64, k);
		}
		if (st == ST_OK) {
			ASSERT_GE(limit, a + s) TH_LOG("zero_bits %" PRIu64 ": 0x%" PRIx64, k, a);
			ASSERT_LE(WV_MIN_ADDR, a);
			ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
		}
	}
}

/* zero_bits 21 never fits; 22..31 are invalid. */
TEST_F(winvm, zero_bits_out_of_range)
{
	uint64_t k;

	ASSERT_NT(WINVM_STATUS_NO_MEMORY,
		  ({ uint64_t a = 0, s = 0x1000; wv_alloc(self->fd, &a, &s, 21, RESERVE | COMMIT, EXRW); }));
	for (k = 22; k <= 31; k++) {
		uint64_t a = 0, s = 0x1000;

		ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER_3,
			  wv_alloc(self->fd, &a, &s, k, RESERVE | COMMIT, EXRW))
			TH_LOG("zero_bits %" PRIu64, k);
	}
}

/*
 * zero_bits above 31 is a mask: the range lies at or below the all-ones
 * value of the mask's highest set bit (0x1aaaaaaa is Wine's test value).
 */
TEST_F(winvm, zero_bits_mask)
{
	static const uint64_t masks[] = {
		0x7fffffff, 0x1aaaaaaa, 0xffffffff, 0xfffffffffULL, 0x3fffffffffULL,
		0x40000000, 0x7fffffffffffULL,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(masks); i++) {
		uint64_t m = masks[i], top = m, a = 0, s = 0x2000;

		while (top & (top + 1))		/* smear down the highest bit */
			top |= top >> 1;
		ASSERT_OK(wv_alloc(self->fd, &a, &s, m, RESERVE | COMMIT | WINVM_MEM_TOP_DOWN, RW))
			TH_LOG("mask 0x%" PRIx64, m);
		ASSERT_GE(top, a + s - 1) TH_LOG("mask 0x%" PRIx64 ": 0x%" PRIx64, m, a);
		ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	}
}

/* An explicit address that violates zero_bits: STATUS_INVALID_PARAMETER_3. */
TEST_F(winvm, zero_bits_explicit_address)
{
	uint64_t hole, low = 0, s = WV_GRAN;

	ASSERT_HOLE(hole, WV_GRAN);
	ASSERT_LT(0x80000000ULL, hole);
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER_3,
		  ({ uint64_t a = hole, sz = WV_GRAN; wv_alloc(self->fd, &a, &sz, 1, RESERVE, RW); }));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER_3,
		  ({ uint64_t a = hole, sz = WV_GRAN; wv_alloc(self->fd, &a, &sz, 0x7fffffff, RESERVE, RW); }));
	ASSERT_VQ(self->fd, hole, hole, 0, 0, WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);

	/* An explicit address that satisfies it is fine. */
	ASSERT_OK(wv_alloc(self->fd, &low, &s, 1, RESERVE, RW));
	ASSERT_OK(wv_free_at(self->fd, low, 0, RELEASE));
	s = WV_GRAN;
	ASSERT_OK(wv_alloc(self->fd, &low, &s, 1, RESERVE | COMMIT, RW));
	ASSERT_VQ(self->fd, low, low, low, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/*
 * Rules R26 and R29: MEM_RESET on committed pages succeeds, keeps state and
 * protection (the protect argument is ignored), and the contents may go:
 * winvm zeroes them.
 */
TEST_F(winvm, reset_committed_pages)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 4 * WV_PAGE, RESERVE | COMMIT, RW);
	uint64_t b, s;

	memset(PTR(a), 0x5a, 4 * WV_PAGE);
	b = a + WV_PAGE;
	s = 2 * WV_PAGE;
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, WINVM_MEM_RESET, NOACCESS));
	ASSERT_HEX(a + WV_PAGE, b);
	ASSERT_HEX(2 * WV_PAGE, s);
	ASSERT_VQ(self->fd, a, a, a, RW, 4 * WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_EQ(0x5a, *(volatile uint8_t *)PTR(a + WV_PAGE - 1));
	ASSERT_EQ(0, *(volatile uint8_t *)PTR(a + WV_PAGE));
	ASSERT_EQ(0, *(volatile uint8_t *)PTR(a + 3 * WV_PAGE - 1));
	ASSERT_EQ(0x5a, *(volatile uint8_t *)PTR(a + 3 * WV_PAGE));
	/* The pages stay usable. */
	*(volatile uint8_t *)PTR(a + WV_PAGE) = 7;
	ASSERT_EQ(7, *(volatile uint8_t *)PTR(a + WV_PAGE));
}

/* Rule R27: MEM_RESET on reserved pages inside the allocation is fine. */
TEST_F(winvm, reset_reserved_pages_inside_allocation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	uint64_t b = a + 0x1000, s = 0x1000;

	ASSERT_OK(wv_alloc_at(self->fd, a, 0x1000, COMMIT, RW));
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, WINVM_MEM_RESET, NOACCESS));
	ASSERT_HEX(a + 0x1000, b);
	ASSERT_VQ(self->fd, a + 0x1000, a + 0x1000, a, RW, 0xf000, RESERVE, 0, WINVM_MEM_PRIVATE);
	/* A range of committed and reserved pages. */
	ASSERT_OK(wv_alloc_at(self->fd, a, WV_GRAN, WINVM_MEM_RESET, NOACCESS));
	ASSERT_VQ(self->fd, a, a, a, RW, 0x1000, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* Rule R24: a reset range must lie inside one allocation. */
TEST_F(winvm, reset_past_allocation_end)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);

	*(volatile int *)PTR(a + 0xf000) = 99;
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a + 0xf000, 0x2000, WINVM_MEM_RESET, NOACCESS));
	ASSERT_EQ(99, *(volatile int *)PTR(a + 0xf000));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* MEM_RESET_UNDO on a committed range that was never reset succeeds. */
TEST_F(winvm, reset_undo_without_reset)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 4 * WV_PAGE, RESERVE | COMMIT, RW);

	*(volatile int *)PTR(a) = 1234;
	ASSERT_OK(wv_alloc_at(self->fd, a, 4 * WV_PAGE, WINVM_MEM_RESET_UNDO, NOACCESS));
	ASSERT_EQ(1234, *(volatile int *)PTR(a));
	ASSERT_VQ(self->fd, a, a, a, RW, 4 * WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
}

TEST_HARNESS_MAIN

/*
 * Does another mapping reach into the granules of the allocation
 * [a, a + len)?  @a starts a granule, so only the rest of the last one can
 * hold anything else.
 */
static bool granules_shared(uint64_t a, uint64_t len)
{
	uint64_t end = (a + len + WV_GRAN - 1) & ~(WV_GRAN - 1);

	return end > a + len && wv_maps_lines(a + len, end) > 0;
}

/*
 * Rule R10, example E1: the rest of the granule an allocation starts in
 * is free and unusable, so a NULL-base allocation or view goes only where
 * its granules are wholly free, even where Linux left a smaller gap (one
 * page below a mapping that starts a page into a granule, as [vvar] may).
 */
TEST_F(winvm, null_base_takes_whole_granules)
{
	int i, sfd = wv_must_section(self->fd, WV_PAGE, RW, 0);
	struct winvm_query_args q;
	uint64_t a, v;
	uint8_t *x;

	/* The highest gap, then one that ends a page into a granule. */
	x = mmap(NULL, 0x21000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, x);
	if (!((uintptr_t)x & (WV_GRAN - 1))) {
		ASSERT_EQ(0, munmap(x, WV_PAGE));
		x += WV_PAGE;
	}
	for (i = 0; i < 24; i++) {
		a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW);
		v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		ASSERT_FALSE(granules_shared(a, WV_PAGE))
			TH_LOG("allocation at 0x%" PRIx64 " (mapping at %p)", a, x);
		ASSERT_FALSE(granules_shared(v, WV_PAGE))
			TH_LOG("view at 0x%" PRIx64 " (mapping at %p)", v, x);
		ASSERT_QUERY(self->fd, a + WV_PAGE, &q);
		ASSERT_EQ((uint32_t)WINVM_MEM_FREE, q.state);
	}
	close(sfd);
}

/* The same for the bounded (ZeroBits) search, which walks up from 64 KiB. */
TEST_F(winvm, zero_bits_takes_whole_granules)
{
	uint64_t a = 0, s = WV_PAGE, lo = WV_GRAN;
	void *p1, *p2;

	/* Granule 0x10000 taken, then a one-page hole, then a page taken. */
	p1 = mmap(PTR(lo), WV_GRAN, PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	p2 = mmap(PTR(lo + WV_GRAN + WV_PAGE), WV_PAGE, PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p1 != PTR(lo) || p2 != PTR(lo + WV_GRAN + WV_PAGE))
		SKIP(return, "the lowest granules are not free here");
	ASSERT_NT(ST_OK, wv_alloc(self->fd, &a, &s, 1, RESERVE | COMMIT, RW));
	ASSERT_GE(a, lo + 2 * WV_GRAN) TH_LOG("allocation at 0x%" PRIx64, a);
	ASSERT_FALSE(granules_shared(a, WV_PAGE)) TH_LOG("allocation at 0x%" PRIx64, a);
	munmap(p1, WV_GRAN);
	munmap(p2, WV_PAGE);
}
