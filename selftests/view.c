// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: views (WINVM_IOC_VIEW_MAP / UNMAP / FLUSH, i.e.
 * MapViewOfFileEx, UnmapViewOfFile, FlushViewOfFile) and what the private
 * memory calls do on them: query, protect, commit (SEC_RESERVE), free and
 * reset; file-backed coherence with read(2)/write(2).
 * Rule numbers (R<n>) refer to docs/windows-rules.md, sections 1.3 and
 * 1.8-1.10.
 */
#include <sys/stat.h>

#include "winvm_test.h"

#define FREE_VQ(fd, a)	ASSERT_VQ(fd, a, a, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0)

/* Rule R107: a SEC_COMMIT view, queried; zero-filled and usable. */
TEST_F(winvm, map_basic)
{
	int sfd = wv_must_section(self->fd, 0x10000, RW, 0);
	struct winvm_view_map_args m = { .section_fd = sfd, .access = MAP_W };
	struct winvm_query_args q;
	uint64_t off;

	ASSERT_ST(ST_OK, wv_map_raw(self->fd, &m));
	ASSERT_EQ(0, wv_ioret);
	ASSERT_NE(0ULL, m.address);
	ASSERT_HEX(0, m.address & (WV_GRAN - 1));
	ASSERT_HEX(0x10000, m.size);
	ASSERT_VQ(self->fd, m.address, m.address, m.address, RW, 0x10000, COMMIT, RW, WV_MAPPED);
	ASSERT_QUERY(self->fd, m.address + 0x3456, &q);
	ASSERT_HEX(m.address + 0x3000, q.base_address);
	ASSERT_HEX(m.address, q.allocation_base);
	ASSERT_HEX(0xd000, q.region_size);
	ASSERT_HEX(WV_MAPPED, q.type);
	for (off = 0; off < 0x10000; off += WV_PAGE) {
		ASSERT_HEX(0, *(volatile uint64_t *)PTR(m.address + off));
		*(volatile uint64_t *)PTR(m.address + off) = off + 1;
	}
	for (off = 0; off < 0x10000; off += WV_PAGE) {
		ASSERT_EQ(off + 1, *(volatile uint64_t *)PTR(m.address + off));
	}
	/* What follows the view is not part of it. */
	ASSERT_QUERY(self->fd, m.address + 0x10000, &q);
	ASSERT_NE(m.address, q.allocation_base);
}

/* Rule R95: view access -> view protection. */
TEST_F(winvm, map_access_to_protection)
{
	static const struct { uint32_t access, prot; } t[] = {
		{ MAP_C, WCOPY }, { MAP_W, RW }, { MAP_W | MAP_R, RW },
		{ MAP_W | MAP_C, RW }, { MAP_W | MAP_R | MAP_C, RW },
		{ MAP_R, RO }, { MAP_R | MAP_C, RO }, { 0, NOACCESS },
		{ MAP_X | MAP_R, EXR }, { MAP_X, NOACCESS }, { MAP_X | MAP_W, EXRW },
		{ MAP_X | MAP_W | MAP_R, EXRW }, { MAP_X | MAP_C, EXWCOPY },
		{ MAP_X | MAP_R | MAP_C, EXR },
	};
	int sfd = wv_must_section(self->fd, 0x3000, EXRW, 0);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0, s = 0;

		ASSERT_ST(ST_OK, wv_map(self->fd, sfd, t[i].access, &v, 0, &s, 0, 0))
			TH_LOG("access 0x%x", t[i].access);
		ASSERT_HEX(0x3000, s);
		ASSERT_VQ(self->fd, v, v, v, t[i].prot, 0x3000, COMMIT, t[i].prot, WV_MAPPED)
			TH_LOG("access 0x%x", t[i].access);
		ASSERT_OK(wv_unmap(self->fd, v));
	}
}

/* Rule R96: the section's protection limits the views. */
TEST_F(winvm, map_section_protection_limits_views)
{
	static const struct { uint32_t sprot, access, prot; } t[] = {
		{ RO, MAP_W, 0 }, { RO, MAP_R | MAP_W, 0 }, { RO, MAP_X | MAP_R, 0 },
		{ RO, MAP_X | MAP_C, 0 }, { RO, MAP_C, WCOPY }, { RO, MAP_R, RO },
		{ RO, 0, NOACCESS },
		{ WCOPY, MAP_W, 0 }, { WCOPY, MAP_X | MAP_R, 0 }, { WCOPY, MAP_C, WCOPY },
		{ WCOPY, MAP_R, RO },
		{ RW, MAP_X | MAP_R, 0 }, { RW, MAP_X | MAP_W, 0 }, { RW, MAP_X | MAP_C, 0 },
		{ RW, MAP_W, RW }, { RW, MAP_C, WCOPY },
		{ EXR, MAP_W, 0 }, { EXR, MAP_X | MAP_W, 0 }, { EXR, MAP_X | MAP_R, EXR },
		{ EXR, MAP_X | MAP_C, EXWCOPY }, { EXR, MAP_R, RO }, { EXR, MAP_C, WCOPY },
		{ EXRW, MAP_X | MAP_W, EXRW }, { EXRW, MAP_W, RW }, { EXRW, MAP_X | MAP_C, EXWCOPY },
		{ EXWCOPY, MAP_W, 0 }, { EXWCOPY, MAP_X | MAP_W, 0 },
		{ EXWCOPY, MAP_X | MAP_C, EXWCOPY }, { EXWCOPY, MAP_X | MAP_R, EXR },
		{ EXWCOPY, MAP_C, WCOPY },
		/* FILE_MAP_EXECUTE alone maps no access, on any section (R95). */
		{ RO, MAP_X, NOACCESS }, { WCOPY, MAP_X, NOACCESS }, { RW, MAP_X, NOACCESS },
		{ EXR, MAP_X, NOACCESS }, { EXRW, MAP_X, NOACCESS },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int sfd = wv_must_section(self->fd, 0x1000, t[i].sprot, 0);
		uint64_t v = 0, s = 0;

		if (!t[i].prot) {
			ASSERT_ST(WINVM_STATUS_ACCESS_DENIED,
				  wv_map(self->fd, sfd, t[i].access, &v, 0, &s, 0, 0))
				TH_LOG("section 0x%x access 0x%x", t[i].sprot, t[i].access);
		} else {
			ASSERT_ST(ST_OK, wv_map(self->fd, sfd, t[i].access, &v, 0, &s, 0, 0))
				TH_LOG("section 0x%x access 0x%x", t[i].sprot, t[i].access);
			ASSERT_VQ(self->fd, v, v, v, t[i].prot, 0x1000, COMMIT, t[i].prot,
				  WV_MAPPED);
			ASSERT_OK(wv_unmap(self->fd, v));
		}
		close(sfd);
	}
}

/* A no-access view: committed NOACCESS, and every access faults. */
TEST_F(winvm, map_noaccess_view)
{
	int sfd = wv_must_section(self->fd, 0x2000, RW, 0);
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t v = wv_must_map(self->fd, sfd, 0, 0, 0);

	*(volatile int *)PTR(w + 0x1000) = 3;
	ASSERT_VQ(self->fd, v, v, v, NOACCESS, 0x2000, COMMIT, NOACCESS, WV_MAPPED);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(v + 0x1000), NULL));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	ASSERT_HEX(v + 0x1000, wv_fault.addr);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(v), 1));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	/* Readable once protected READONLY?  No: the view has no read access. */
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION, wv_protect_at(self->fd, v, 0x1000, RO));
	ASSERT_EQ(3, *(volatile int *)PTR(w + 0x1000));
}

/* Rule R98: a 4090-byte section maps one page with size 0. */
TEST_F(winvm, map_4090_byte_section)
{
	int sfd = wv_must_section(self->fd, 4090, RW, 0);
	uint64_t v = 0, s = 0;

	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_R, &v, 0, &s, 0, 0));
	ASSERT_HEX(0x1000, s);
	ASSERT_VQ(self->fd, v, v, v, RO, 0x1000, COMMIT, RO, WV_MAPPED);
	ASSERT_EQ(0, *(volatile uint8_t *)PTR(v + 0xfff));
}

/* Size 0 maps the rest of the section from the offset. */
TEST_F(winvm, map_size_zero_is_rest)
{
	int sfd = wv_must_section(self->fd, 0x30000, RW, 0);
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0), v = 0, s = 0;

	*(volatile uint32_t *)PTR(w + 0x10000) = 0x10000;
	*(volatile uint32_t *)PTR(w + 0x2fffc) = 0x2fffc;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_R, &v, 0x10000, &s, 0, 0));
	ASSERT_HEX(0x20000, s);
	ASSERT_VQ(self->fd, v, v, v, RO, 0x20000, COMMIT, RO, WV_MAPPED);
	ASSERT_HEX(0x10000, *(volatile uint32_t *)PTR(v));
	ASSERT_HEX(0x2fffc, *(volatile uint32_t *)PTR(v + 0x1fffc));
	v = 0;
	s = 0;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_R, &v, 0x20000, &s, 0, 0));
	ASSERT_HEX(0x10000, s);
	ASSERT_HEX(0x2fffc, *(volatile uint32_t *)PTR(v + 0xfffc));
}

/* An explicit size is rounded up to the page; offset + size may reach the end. */
TEST_F(winvm, map_explicit_size)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, 0);
	uint64_t v = 0, s = 0x1800;

	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 0, 0));
	ASSERT_HEX(0x2000, s);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x2000, COMMIT, RW, WV_MAPPED);
	*(volatile uint8_t *)PTR(v + 0x1fff) = 1;
	v = 0;
	s = 1;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_W, &v, 0x10000, &s, 0, 0));
	ASSERT_HEX(0x1000, s);
	/* Rule R103: size == section size works. */
	v = 0;
	s = 0x20000;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_R, &v, 0, &s, 0, 0));
	ASSERT_HEX(0x20000, s);
	ASSERT_EQ(1, *(volatile uint8_t *)PTR(v + 0x1fff));
	v = 0;
	s = 0x10000;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_R, &v, 0x10000, &s, 0, 0));
	ASSERT_HEX(0x10000, s);
}

/* Rule R103: offset + size beyond the section: STATUS_INVALID_VIEW_SIZE. */
TEST_F(winvm, map_size_too_big)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, 0);
	int file = wv_tmpfile(0x3000, 11), fsfd;
	uint64_t hole;

	ASSERT_LE(0, file);
	ASSERT_HOLE(hole, 0x40000);
	ASSERT_ST(WINVM_STATUS_INVALID_VIEW_SIZE, wv_map_at(self->fd, sfd, MAP_R, 0, 0, 0x20001));
	ASSERT_ST(WINVM_STATUS_INVALID_VIEW_SIZE, wv_map_at(self->fd, sfd, MAP_R, 0, 0, 0x21000));
	ASSERT_ST(WINVM_STATUS_INVALID_VIEW_SIZE,
		  wv_map_at(self->fd, sfd, MAP_R, 0, 0x10000, 0x10001));
	ASSERT_ST(WINVM_STATUS_INVALID_VIEW_SIZE,
		  wv_map_at(self->fd, sfd, MAP_R, hole, 0, 0x30000));
	FREE_VQ(self->fd, hole);
	/* A 36-byte file section: the size as given counts, not the page. */
	fsfd = wv_must_file_section(self->fd, file, 36, RW, 0);
	ASSERT_ST(WINVM_STATUS_INVALID_VIEW_SIZE, wv_map_at(self->fd, fsfd, MAP_R, 0, 0, 37));
	ASSERT_ST(WINVM_STATUS_INVALID_VIEW_SIZE, wv_map_at(self->fd, fsfd, MAP_R, 0, 0, 0x1000));
	ASSERT_ST(ST_OK, wv_map_at(self->fd, fsfd, MAP_R, 0, 0, 36));
}

/* An offset at or beyond the end of the section: STATUS_INVALID_PARAMETER. */
TEST_F(winvm, map_offset_beyond_section)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, 0);

	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_map_at(self->fd, sfd, MAP_R, 0, 0x20000, 0));
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_map_at(self->fd, sfd, MAP_R, 0, 0x30000, 0));
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_map_at(self->fd, sfd, MAP_R, 0, 0x20000, 0x1000));
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_map_at(self->fd, sfd, MAP_R, 0, 0x1000000000ULL, 0));
}

/* Rule R100: offsets must be multiples of 64K. */
TEST_F(winvm, map_offset_alignment)
{
	int sfd = wv_must_section(self->fd, 0x30000, RW, 0);
	static const uint64_t offs[] = { 1, 0x1000, 0x8000, 0xffff, 0x10001, 0x11000 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		ASSERT_ST(WINVM_STATUS_MAPPED_ALIGNMENT,
			  wv_map_at(self->fd, sfd, MAP_R, 0, offs[i], 0x1000))
			TH_LOG("offset 0x%" PRIx64, offs[i]);
	}
}

/* Rule R100: a base that is not 64K-aligned: STATUS_MAPPED_ALIGNMENT. */
TEST_F(winvm, map_address_alignment)
{
	int sfd = wv_must_section(self->fd, 0x10000, RW, 0);
	uint64_t hole;

	ASSERT_HOLE(hole, 0x30000);
	ASSERT_ST(WINVM_STATUS_MAPPED_ALIGNMENT,
		  wv_map_at(self->fd, sfd, MAP_R, hole + 0x1000, 0, 0));
	ASSERT_ST(WINVM_STATUS_MAPPED_ALIGNMENT, wv_map_at(self->fd, sfd, MAP_R, hole + 42, 0, 0));
	ASSERT_ST(WINVM_STATUS_MAPPED_ALIGNMENT,
		  wv_map_at(self->fd, sfd, MAP_R, hole + 0x18000, 0, 0x1000));
	FREE_VQ(self->fd, hole);
	FREE_VQ(self->fd, hole + 0x10000);
}

/* A 64K-aligned free base is used as given. */
TEST_F(winvm, map_at_address)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, 0);
	uint64_t hole, v, s = 0;

	ASSERT_HOLE(hole, 0x30000);
	v = hole + 0x10000;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 0, 0));
	ASSERT_HEX(hole + 0x10000, v);
	ASSERT_HEX(0x20000, s);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x20000, COMMIT, RW, WV_MAPPED);
	FREE_VQ(self->fd, hole);
	*(volatile int *)PTR(v + 0x1fffc) = 1;
}

/* Rule R100: anything already there: STATUS_CONFLICTING_ADDRESSES. */
TEST_F(winvm, map_conflicting_addresses)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0), hole, a;

	/* An existing view, at its base and inside it. */
	ASSERT_ST(WINVM_STATUS_CONFLICTING_ADDRESSES, wv_map_at(self->fd, sfd, MAP_R, v, 0, 0));
	ASSERT_ST(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_map_at(self->fd, sfd, MAP_R, v + 0x10000, 0, 0x1000));
	/* Private memory. */
	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	ASSERT_ST(WINVM_STATUS_CONFLICTING_ADDRESSES, wv_map_at(self->fd, sfd, MAP_R, a, 0, 0x1000));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, RESERVE, 0, WINVM_MEM_PRIVATE);
	/* A hole too small: the view would run into the Linux mapping after it. */
	ASSERT_HOLE(hole, 0x10000);
	ASSERT_ST(WINVM_STATUS_CONFLICTING_ADDRESSES, wv_map_at(self->fd, sfd, MAP_R, hole, 0, 0));
	FREE_VQ(self->fd, hole);
	/* And the Linux mapping itself. */
	ASSERT_ST(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_map_at(self->fd, sfd, MAP_R, hole + 0x10000, 0, 0x1000));
	/* Private allocations cannot be made inside a view either. */
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, v + 0x10000, 0x1000, RESERVE, RW));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x20000, COMMIT, RW, WV_MAPPED);
}

/* Rule R99: views are 64K-aligned and two views get different addresses. */
TEST_F(winvm, map_views_distinct)
{
	int sfd = wv_must_section(self->fd, 0x1000, RW, 0);
	uint64_t v[8];
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		v[i] = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		for (j = 0; j < i; j++) {
			ASSERT_NE(v[j], v[i]);
		}
	}
	*(volatile int *)PTR(v[0]) = 77;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ASSERT_EQ(77, *(volatile int *)PTR(v[i]));
	}
}

/* Views at different offsets of one section see the same bytes. */
TEST_F(winvm, map_views_share_offsets)
{
	int sfd = wv_must_section(self->fd, 0x40000, RW, 0);
	uint64_t all = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t mid = wv_must_map(self->fd, sfd, MAP_W, 0x20000, 0x10000);

	*(volatile uint32_t *)PTR(all + 0x20010) = 0xa1;
	ASSERT_HEX(0xa1, *(volatile uint32_t *)PTR(mid + 0x10));
	*(volatile uint32_t *)PTR(mid + 0xfff0) = 0xb2;
	ASSERT_HEX(0xb2, *(volatile uint32_t *)PTR(all + 0x2fff0));
	ASSERT_HEX(0, *(volatile uint32_t *)PTR(all + 0x10010));
}

/* zero_bits as for MEM_ALLOC, with STATUS_INVALID_PARAMETER_4 (rule R102). */
TEST_F(winvm, map_zero_bits)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, 0);
	uint64_t v, s, k, hole;

	v = 0;
	s = 0;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 1, 0));
	ASSERT_GE(0x80000000ULL, v + s) TH_LOG("view at 0x%" PRIx64, v);
	ASSERT_HEX(0, v & (WV_GRAN - 1));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x20000, COMMIT, RW, WV_MAPPED);
	v = 0;
	s = 0;
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 0x7fffffff, 0));
	ASSERT_GE(0x80000000ULL, v + s);
	ASSERT_ST(WINVM_STATUS_NO_MEMORY,
		  ({ v = 0; s = 0; wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 21, 0); }));
	for (k = 22; k <= 31; k++) {
		ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER_4,
			  ({ v = 0; s = 0; wv_map(self->fd, sfd, MAP_W, &v, 0, &s, k, 0); }))
			TH_LOG("zero_bits %" PRIu64, k);
	}
	/* An explicit address above what zero_bits allows. */
	ASSERT_HOLE(hole, 0x20000);
	ASSERT_LT(0x80000000ULL, hole);
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER_4,
		  ({ v = hole; s = 0; wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 1, 0); }));
	FREE_VQ(self->fd, hole);
}

/* type is 0 or MEM_TOP_DOWN. */
TEST_F(winvm, map_type)
{
	int sfd = wv_must_section(self->fd, 0x10000, RW, 0);
	static const uint32_t bad[] = { COMMIT, RESERVE, RESERVE | COMMIT, RELEASE, 0x1 };
	uint64_t v = 0, s = 0;
	unsigned int i;

	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 0, WINVM_MEM_TOP_DOWN));
	ASSERT_HEX(0, v & (WV_GRAN - 1));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x10000, COMMIT, RW, WV_MAPPED);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER,
			  ({ v = 0; s = 0; wv_map(self->fd, sfd, MAP_W, &v, 0, &s, 0, bad[i]); }))
			TH_LOG("type 0x%x", bad[i]);
	}
}

/* Not a section fd; unknown flags, pad, reserved. */
TEST_F(winvm, map_bad_arguments)
{
	int sfd = wv_must_section(self->fd, 0x10000, RW, 0), closed, p[2];
	int file = wv_tmpfile(0x1000, 12);
	struct winvm_view_map_args m = { .section_fd = sfd, .access = MAP_R };
	uint64_t hole;

	ASSERT_LE(0, file);
	ASSERT_EQ(0, pipe(p));
	closed = dup(sfd);
	ASSERT_LE(0, closed);
	close(closed);
	ASSERT_HOLE(hole, 0x10000);
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE, wv_map_at(self->fd, closed, MAP_R, hole, 0, 0));
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE, wv_map_at(self->fd, -1, MAP_R, hole, 0, 0));
	ASSERT_ST(WINVM_STATUS_OBJECT_TYPE_MISMATCH, wv_map_at(self->fd, p[0], MAP_R, hole, 0, 0));
	ASSERT_ST(WINVM_STATUS_OBJECT_TYPE_MISMATCH, wv_map_at(self->fd, file, MAP_R, hole, 0, 0));
	ASSERT_ST(WINVM_STATUS_OBJECT_TYPE_MISMATCH,
		  wv_map_at(self->fd, self->fd, MAP_R, hole, 0, 0));
	m.address = hole;
	m.flags = 1;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_map_raw(self->fd, &m));
	m.flags = 0;
	m.pad = 1;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_map_raw(self->fd, &m));
	m.pad = 0;
	m.reserved[0] = 1;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_map_raw(self->fd, &m));
	m.reserved[0] = 0;
	FREE_VQ(self->fd, hole);
	ASSERT_ST(ST_OK, wv_map_raw(self->fd, &m));
	ASSERT_HEX(hole, m.address);
}

/* Rules R118 and R58: unmap at any address inside the view; then MEM_FREE. */
TEST_F(winvm, unmap_any_address_inside)
{
	static const uint64_t offs[] = { 100, 4096, 4196, 0, 12287 };
	int sfd = wv_must_section(self->fd, 12288, RW, 0);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		struct winvm_view_unmap_args u = { .address = v + offs[i] };

		*(volatile int *)PTR(v) = 1;
		u.status = WV_GARBAGE32;
		wv_ioret = ioctl(self->fd, WINVM_IOC_VIEW_UNMAP, &u);
		wv_errno = wv_ioret < 0 ? errno : 0;
		ASSERT_ST(ST_OK, u.status) TH_LOG("offset %" PRIu64, offs[i]);
		ASSERT_EQ(0, wv_ioret);
		FREE_VQ(self->fd, v);
		FREE_VQ(self->fd, v + 0x2000);
		wv_fault_reset();
		ASSERT_FALSE(wv_try_read(PTR(v), NULL));
		ASSERT_EQ(SIGSEGV, wv_fault.signo);
	}
}

/* Rule R117: unmapping what is not a view: STATUS_NOT_MAPPED_VIEW. */
TEST_F(winvm, unmap_not_a_view)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 0x10000, RESERVE | COMMIT, RW), hole;
	void *lin = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, lin);
	*(volatile int *)PTR(a + 0x3000) = 5;
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, wv_unmap(self->fd, a));
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, wv_unmap(self->fd, a + 0x3000));
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, wv_unmap(self->fd, 0xdeadbeef));
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, wv_unmap(self->fd, U64(lin)));
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, wv_unmap(self->fd, 0));
	ASSERT_HOLE(hole, 0x10000);
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, wv_unmap(self->fd, hole));
	ASSERT_VQ(self->fd, a, a, a, RW, 0x10000, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_EQ(5, *(volatile int *)PTR(a + 0x3000));
	*(volatile int *)lin = 1;
}

/* Unmapping twice; unmap with flags. */
TEST_F(winvm, unmap_twice_and_flags)
{
	int sfd = wv_must_section(self->fd, 0x1000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	struct winvm_view_unmap_args u = { .address = v };

	u.flags = 1;
	u.status = WV_GARBAGE32;
	wv_errno = ioctl(self->fd, WINVM_IOC_VIEW_UNMAP, &u) ? errno : 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, u.status);
	u.flags = 0;
	u.reserved[1] = 1;
	u.status = WV_GARBAGE32;
	wv_errno = ioctl(self->fd, WINVM_IOC_VIEW_UNMAP, &u) ? errno : 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, u.status);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_OK(wv_unmap(self->fd, v));
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, wv_unmap(self->fd, v));
	/* The freed range can be reused. */
	ASSERT_ST(ST_OK, wv_map_at(self->fd, sfd, MAP_R, v, 0, 0));
	ASSERT_VQ(self->fd, v, v, v, RO, 0x1000, COMMIT, RO, WV_MAPPED);
}

/* Rule R119: views outlive every section fd. */
TEST_F(winvm, view_outlives_section_fds)
{
	int sfd = wv_must_section(self->fd, 0x3000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t r = wv_must_map(self->fd, sfd, MAP_R, 0x0, 0x2000);

	*(volatile int *)PTR(v + 0x1000) = 11;
	ASSERT_EQ(0, close(sfd));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x3000, COMMIT, RW, WV_MAPPED);
	ASSERT_EQ(11, *(volatile int *)PTR(v + 0x1000));
	*(volatile int *)PTR(v + 0x1004) = 12;
	ASSERT_EQ(12, *(volatile int *)PTR(r + 0x1004));
	ASSERT_OK(wv_unmap(self->fd, v));
	FREE_VQ(self->fd, v);
	ASSERT_EQ(12, *(volatile int *)PTR(r + 0x1004));
	ASSERT_OK(wv_unmap(self->fd, r));
	FREE_VQ(self->fd, r);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(r), NULL));
}

/* Rule R108: a SEC_RESERVE view starts reserved. */
TEST_F(winvm, sec_reserve_view_is_reserved)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, SEC_RESERVE);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t r = wv_must_map(self->fd, sfd, MAP_R, 0, 0);

	ASSERT_VQ(self->fd, v, v, v, RW, 0x20000, RESERVE, 0, WV_MAPPED);
	ASSERT_VQ(self->fd, r, r, r, RO, 0x20000, RESERVE, 0, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x5000, v + 0x5000, v, RW, 0x1b000, RESERVE, 0, WV_MAPPED);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(v + 0x10), NULL));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(v + 0x1f000), 1));
	/* Nothing but NOACCESS can be set on reserved pages. */
	ASSERT_NT(WINVM_STATUS_NOT_COMMITTED, wv_protect_at(self->fd, v, 0x1000, RO));
}

/*
 * Rule R108: committing in one view commits the section's pages: the
 * committing view shows the given protection, others their own.
 */
TEST_F(winvm, sec_reserve_commit_is_shared)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, SEC_RESERVE);
	uint64_t v1 = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t v2 = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t v3 = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	uint64_t b = v1, s = 0x10000;

	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, RO));
	ASSERT_HEX(v1, b);
	ASSERT_HEX(0x10000, s);
	ASSERT_VQ(self->fd, v1, v1, v1, RW, 0x10000, COMMIT, RO, WV_MAPPED);
	ASSERT_VQ(self->fd, v1 + 0x10000, v1 + 0x10000, v1, RW, 0x10000, RESERVE, 0, WV_MAPPED);
	ASSERT_VQ(self->fd, v2, v2, v2, RW, 0x10000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, v2 + 0x10000, v2 + 0x10000, v2, RW, 0x10000, RESERVE, 0, WV_MAPPED);
	ASSERT_VQ(self->fd, v3, v3, v3, RO, 0x10000, COMMIT, RO, WV_MAPPED);

	*(volatile uint32_t *)PTR(v2 + 0xff00) = 0xc0ffee;
	ASSERT_HEX(0xc0ffee, *(volatile uint32_t *)PTR(v1 + 0xff00));
	ASSERT_HEX(0xc0ffee, *(volatile uint32_t *)PTR(v3 + 0xff00));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(v1 + 0xff00), 1));
	ASSERT_FALSE(wv_try_read(PTR(v2 + 0x10000), NULL));

	/* A view mapped after the commit sees it too. */
	b = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	ASSERT_VQ(self->fd, b, b, b, RW, 0x10000, COMMIT, RW, WV_MAPPED);
	ASSERT_HEX(0xc0ffee, *(volatile uint32_t *)PTR(b + 0xff00));
	/* Recommitting committed pages in a view is a protection change. */
	ASSERT_OK(wv_alloc_at(self->fd, v1, 0x1000, COMMIT, RW));
	ASSERT_VQ(self->fd, v1, v1, v1, RW, 0x1000, COMMIT, RW, WV_MAPPED);
	*(volatile uint32_t *)PTR(v1) = 2;
	ASSERT_HEX(2, *(volatile uint32_t *)PTR(v3));
}

/* Committing a few pages in the middle of a SEC_RESERVE view. */
TEST_F(winvm, sec_reserve_commit_partial)
{
	int sfd = wv_must_section(self->fd, 0x10000, RW, SEC_RESERVE);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t b = v + 0x3800, s = 0x1000;

	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, RW));
	ASSERT_HEX(v + 0x3000, b);
	ASSERT_HEX(0x2000, s);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x3000, RESERVE, 0, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x3000, v + 0x3000, v, RW, 0x2000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x5000, v + 0x5000, v, RW, 0xb000, RESERVE, 0, WV_MAPPED);
	ASSERT_VQ(self->fd, w + 0x3000, w + 0x3000, w, RW, 0x2000, COMMIT, RW, WV_MAPPED);
	*(volatile int *)PTR(v + 0x4ffc) = 4;
	ASSERT_EQ(4, *(volatile int *)PTR(w + 0x4ffc));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(w + 0x5000), NULL));
	ASSERT_FALSE(wv_try_read(PTR(w + 0x2fff), NULL));
}

/* Rule R109: the commit protection must be allowed by the view. */
TEST_F(winvm, sec_reserve_commit_protection_checked)
{
	int sfd = wv_must_section(self->fd, 0x10000, EXRW, SEC_RESERVE);
	uint64_t r = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);

	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION, wv_alloc_at(self->fd, r, 0x1000, COMMIT, RW));
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  wv_alloc_at(self->fd, r, 0x1000, COMMIT, EXR));
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  wv_alloc_at(self->fd, w, 0x1000, COMMIT, EXRW));
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  wv_alloc_at(self->fd, w, 0x1000, COMMIT, EXR));
	ASSERT_VQ(self->fd, r, r, r, RO, 0x10000, RESERVE, 0, WV_MAPPED);
	ASSERT_VQ(self->fd, w, w, w, RW, 0x10000, RESERVE, 0, WV_MAPPED);
	ASSERT_OK(wv_alloc_at(self->fd, r, 0x1000, COMMIT, RO));
	ASSERT_VQ(self->fd, r, r, r, RO, 0x1000, COMMIT, RO, WV_MAPPED);
	ASSERT_VQ(self->fd, w, w, w, RW, 0x1000, COMMIT, RW, WV_MAPPED);
}

/* Rule R109: MEM_COMMIT on a committed pagefile view changes the protection. */
TEST_F(winvm, commit_on_committed_view_is_protect)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, SEC_COMMIT);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0), b = v, s = 0x10000;

	*(volatile int *)PTR(v + 0x100) = 6;
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, COMMIT, RO));
	ASSERT_HEX(v, b);
	ASSERT_HEX(0x10000, s);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x10000, COMMIT, RO, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x10000, v + 0x10000, v, RW, 0x10000, COMMIT, RW, WV_MAPPED);
	ASSERT_EQ(6, *(volatile int *)PTR(v + 0x100));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(v + 0x100), 1));
	ASSERT_EQ(6, *(volatile int *)PTR(v + 0x100));
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  wv_alloc_at(self->fd, v, 0x1000, COMMIT, EXRW));
}

/* Rule R110: MEM_COMMIT on a file-backed view: STATUS_ALREADY_COMMITTED. */
TEST_F(winvm, commit_on_file_view_already_committed)
{
	static const uint32_t prots[] = { RO, RW, NOACCESS };
	int file = wv_tmpfile(0x3000, 13), sfd;
	uint64_t v;
	unsigned int i;

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0, RW, SEC_RESERVE);
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	/* SEC_RESERVE is dropped for files: the view is committed. */
	ASSERT_VQ(self->fd, v, v, v, RW, 0x3000, COMMIT, RW, WV_MAPPED);
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		ASSERT_NT(WINVM_STATUS_ALREADY_COMMITTED,
			  wv_alloc_at(self->fd, v, 0x1000, COMMIT, prots[i]))
			TH_LOG("prot 0x%x", prots[i]);
	}
	ASSERT_VQ(self->fd, v, v, v, RW, 0x3000, COMMIT, RW, WV_MAPPED);
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 0x3000, 13));
}

/* Rule R42: VirtualFree cannot decommit or release a view. */
TEST_F(winvm, free_on_view_refused)
{
	int sfd = wv_must_section(self->fd, 0x20000, RW, SEC_COMMIT);
	int rsfd = wv_must_section(self->fd, 0x20000, RW, SEC_RESERVE);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t r = wv_must_map(self->fd, rsfd, MAP_W, 0, 0);

	ASSERT_OK(wv_alloc_at(self->fd, r, 0x10000, COMMIT, RW));
	*(volatile int *)PTR(v + 0x1000) = 8;
	*(volatile int *)PTR(r + 0x1000) = 9;
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, v, 0x10000, DECOMMIT));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, v, 0, RELEASE));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, v, 0, DECOMMIT));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, v + 0x1000, 0x1000, RELEASE));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, r, 0x10000, DECOMMIT));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_free_at(self->fd, r, 0, RELEASE));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x20000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, r, r, r, RW, 0x10000, COMMIT, RW, WV_MAPPED);
	ASSERT_EQ(8, *(volatile int *)PTR(v + 0x1000));
	ASSERT_EQ(9, *(volatile int *)PTR(r + 0x1000));
}

/* MEM_RESET on a view succeeds and keeps the data. */
TEST_F(winvm, reset_on_view_keeps_data)
{
	int sfd = wv_must_section(self->fd, 0x4000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0), b = v + 0x1000, s = 0x2000;

	memset(PTR(v), 0x3c, 0x4000);
	ASSERT_OK(wv_alloc(self->fd, &b, &s, 0, WINVM_MEM_RESET, NOACCESS));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x4000, COMMIT, RW, WV_MAPPED);
	ASSERT_EQ(0x3c, *(volatile uint8_t *)PTR(v + 0x1000));
	ASSERT_EQ(0x3c, *(volatile uint8_t *)PTR(v + 0x2fff));
}

/* Rule R111: VirtualProtect on a view must fit its AllocationProtect. */
TEST_F(winvm, protect_view_rules)
{
	static const uint32_t prots[] = { NOACCESS, RO, RW, WCOPY, EX, EXR, EXRW, EXWCOPY };
	static const struct { uint32_t access, vprot; const char *ok; } views[] = {
		/* ok: one char per prots[] entry */
		{ 0, NOACCESS,			"y......." },
		{ MAP_R, RO,			"yy.y...." },
		{ MAP_W, RW,			"yyyy...." },
		{ MAP_C, WCOPY,			"yy.y...." },
		{ MAP_X | MAP_R, EXR,		"yy.yyy.y" },
		{ MAP_X | MAP_W, EXRW,		"yyyyyyyy" },
		{ MAP_X | MAP_C, EXWCOPY,	"yy.yyy.y" },
	};
	int sfd = wv_must_section(self->fd, 0x2000, EXRW, 0);
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(views); i++) {
		for (j = 0; j < ARRAY_SIZE(prots); j++) {
			uint64_t v = wv_must_map(self->fd, sfd, views[i].access, 0, 0), b = v, s = 0x1000;
			uint32_t vp = views[i].vprot, old = 0;

			if (views[i].ok[j] == 'y') {
				ASSERT_NT(ST_OK, wv_protect(self->fd, &b, &s, prots[j], &old))
					TH_LOG("view 0x%x, prot 0x%x", vp, prots[j]);
				ASSERT_HEX(vp, old);
				ASSERT_HEX(v, b);
				ASSERT_HEX(0x1000, s);
				ASSERT_VQ(self->fd, v, v, v, vp, prots[j] == vp ? 0x2000 : 0x1000,
					  COMMIT, prots[j], WV_MAPPED);
			} else {
				ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION,
					  wv_protect(self->fd, &b, &s, prots[j], &old))
					TH_LOG("view 0x%x, prot 0x%x", vp, prots[j]);
				ASSERT_VQ(self->fd, v, v, v, vp, 0x2000, COMMIT, vp, WV_MAPPED);
			}
			ASSERT_VQ(self->fd, v + 0x1000, ANY, v, vp, ANY, COMMIT, vp, WV_MAPPED);
			ASSERT_OK(wv_unmap(self->fd, v));
		}
	}
}

/* Rule R112: after NOACCESS, an EXRW file view takes every protection. */
TEST_F(winvm, protect_view_every_protection)
{
	static const uint32_t prots[] = { RO, RW, WCOPY, EX, EXR, EXRW, EXWCOPY, NOACCESS, RW };
	int file = wv_tmpfile(0x2000, 14), sfd;
	uint64_t v, b, s;
	uint32_t old = 0, prev;
	unsigned int i;

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0, EXRW, 0);
	v = wv_must_map(self->fd, sfd, MAP_R | MAP_W | MAP_X, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, EXRW, 0x2000, COMMIT, EXRW, WV_MAPPED);
	b = v;
	s = 0x2000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &b, &s, NOACCESS, &old));
	ASSERT_HEX(EXRW, old);
	prev = NOACCESS;
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		b = v;
		s = 0x2000;
		ASSERT_NT(ST_OK, wv_protect(self->fd, &b, &s, prots[i], &old))
			TH_LOG("prot 0x%x", prots[i]);
		ASSERT_HEX(prev, old);
		ASSERT_VQ(self->fd, v, v, v, EXRW, 0x2000, COMMIT, prots[i], WV_MAPPED);
		prev = prots[i];
	}
	/* Nothing was written through the WRITECOPY step: the file is intact. */
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 0x2000, 14));
}

/* Protections are enforced on views; old protection returned, regions split. */
TEST_F(winvm, protect_view_enforced)
{
	int sfd = wv_must_section(self->fd, 0x3000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t r = wv_must_map(self->fd, sfd, MAP_R, 0, 0), b, s;
	uint32_t old = 0;

	*(volatile int *)PTR(v + 0x1000) = 10;
	b = v + 0x1000;
	s = 1;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_HEX(RW, old);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x1000, v + 0x1000, v, RW, 0x1000, COMMIT, RO, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x2000, v + 0x2000, v, RW, 0x1000, COMMIT, RW, WV_MAPPED);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(v + 0x1000), 1));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	ASSERT_TRUE(wv_try_write(PTR(v + 0x2000), 1));
	ASSERT_EQ(10, *(volatile int *)PTR(r + 0x1000));
	/* The other view is unaffected by this view's protection. */
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(r), 1));
	b = v + 0x1000;
	s = 0x1000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &b, &s, NOACCESS, &old));
	ASSERT_HEX(RO, old);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(v + 0x1000), NULL));
	ASSERT_EQ(10, *(volatile int *)PTR(r + 0x1000));
	ASSERT_NT(ST_OK, wv_protect(self->fd, &b, &s, RW, &old));
	ASSERT_HEX(NOACCESS, old);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x3000, COMMIT, RW, WV_MAPPED);
	*(volatile int *)PTR(v + 0x1000) = 20;
	ASSERT_EQ(20, *(volatile int *)PTR(r + 0x1000));
	/* A range that runs past the end of the view. */
	b = v + 0x2000;
	s = 0x2000;
	ASSERT_NE((uint32_t)ST_OK, wv_protect(self->fd, &b, &s, RO, &old));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x3000, COMMIT, RW, WV_MAPPED);
}

/* Code written through one view runs through an execute view of it. */
TEST_F(winvm, execute_view)
{
	int sfd = wv_must_section(self->fd, 0x2000, EXRW, 0), r = 0;
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t x = wv_must_map(self->fd, sfd, MAP_X | MAP_R, 0, 0);
	uint64_t ro = wv_must_map(self->fd, sfd, MAP_R, 0, 0);

	memcpy(PTR(w + 0x1010), wv_ret42, sizeof(wv_ret42));
	wv_fault_reset();
	ASSERT_TRUE(wv_try_call(PTR(x + 0x1010), &r));
	ASSERT_EQ(42, r);
	ASSERT_EQ(0, wv_fault.count);
	/* The RO and RW views cannot execute it. */
	wv_fault_reset();
	ASSERT_FALSE(wv_try_call(PTR(ro + 0x1010), &r));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_call(PTR(w + 0x1010), &r));
	/* ... and the execute view cannot write it. */
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(x + 0x1010), 0xc3));
	/* A change through the writable view is what runs next. */
	*(volatile uint8_t *)PTR(w + 0x1011) = 43;
	ASSERT_TRUE(wv_try_call(PTR(x + 0x1010), &r));
	ASSERT_EQ(43, r);
}

/* write(2) / pwrite(2) to the file are seen through a view at once. */
TEST_F(winvm, file_writes_seen_in_view)
{
	int file = wv_tmpfile(0x23456, 15), sfd;
	uint64_t v, v2;
	char msg[] = "written with write(2)";

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0, RO, 0);
	v = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RO, 0x24000, COMMIT, RO, WV_MAPPED);
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 0x23456, 15));
	/* Past the end of the file, inside the last page: zeroes. */
	ASSERT_EQ(0, *(volatile uint8_t *)PTR(v + 0x23456));
	ASSERT_EQ(0, *(volatile uint8_t *)PTR(v + 0x23fff));

	ASSERT_EQ((ssize_t)sizeof(msg), pwrite(file, msg, sizeof(msg), 0x1ff8));
	ASSERT_EQ(0, memcmp(PTR(v + 0x1ff8), msg, sizeof(msg)));
	ASSERT_EQ(0x10100, lseek(file, 0x10100, SEEK_SET));
	ASSERT_EQ((ssize_t)sizeof(msg), write(file, msg, sizeof(msg)));
	ASSERT_EQ(0, memcmp(PTR(v + 0x10100), msg, sizeof(msg)));
	/* A view at an offset sees the same file bytes. */
	v2 = wv_must_map(self->fd, sfd, MAP_R, 0x10000, 0x1000);
	ASSERT_EQ(0, memcmp(PTR(v2 + 0x100), msg, sizeof(msg)));
	ASSERT_TRUE(wv_pat_ok(PTR(v2 + 0x200), 0x10200, 0xe00, 15));
	/* A READONLY view of it cannot write. */
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(v + 0x10), 1));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
}

/* Writes through a FILE_MAP_WRITE view reach the file (pread sees them). */
TEST_F(winvm, view_writes_reach_file)
{
	int file = wv_tmpfile(0x5000, 16), sfd;
	uint64_t v, r;
	char buf[32];
	struct stat st;

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0, RW, 0);
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	r = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x5000, COMMIT, RW, WV_MAPPED);
	memcpy(PTR(v + 0x4fe0), "through the view", 17);
	ASSERT_EQ(17, pread(file, buf, 17, 0x4fe0));
	ASSERT_EQ(0, memcmp(buf, "through the view", 17));
	ASSERT_EQ(0, memcmp(PTR(r + 0x4fe0), "through the view", 17));
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 0x4fe0, 16));
	/* After unmapping and closing, the data is still in the file. */
	ASSERT_OK(wv_unmap(self->fd, v));
	ASSERT_OK(wv_unmap(self->fd, r));
	ASSERT_EQ(0, close(sfd));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(17, pread(file, buf, 17, 0x4fe0));
	ASSERT_EQ(0, memcmp(buf, "through the view", 17));
	ASSERT_EQ(0, fstat(file, &st));
	ASSERT_EQ(0x5000, st.st_size);
}

/* Rule R90: a writable section bigger than the file grows it; the view covers it all. */
TEST_F(winvm, file_view_grown_section)
{
	int file = wv_tmpfile(0x1000, 17), sfd;
	uint64_t v;
	struct stat st;
	uint8_t b = 0;

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0x100000, RW, SEC_COMMIT);
	ASSERT_EQ(0, fstat(file, &st));
	ASSERT_EQ(0x100000, st.st_size);
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x100000, COMMIT, RW, WV_MAPPED);
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 0x1000, 17));
	ASSERT_EQ(0, *(volatile uint8_t *)PTR(v + 0x1000));
	*(volatile uint8_t *)PTR(v + 0xfffff) = 0x9d;
	ASSERT_EQ(1, pread(file, &b, 1, 0xfffff));
	ASSERT_EQ(0x9d, b);
}

/* A 36-byte file section: one page, the rest of it zero. */
TEST_F(winvm, file_view_small_section)
{
	int file = wv_tmpfile(0x3000, 18), sfd;
	uint64_t v = 0, s = 0;

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 36, RO, 0);
	ASSERT_ST(ST_OK, wv_map(self->fd, sfd, MAP_R, &v, 0, &s, 0, 0));
	ASSERT_HEX(0x1000, s);
	ASSERT_VQ(self->fd, v, v, v, RO, 0x1000, COMMIT, RO, WV_MAPPED);
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 36, 18));
}

/* A read-only file: a read view works, writes fault, the file is unchanged. */
TEST_F(winvm, file_view_readonly_file)
{
	int file = wv_tmpfile(0x2000, 19), ro, sfd;
	uint64_t v;

	ASSERT_LE(0, file);
	ro = wv_reopen(file, O_RDONLY);
	ASSERT_LE(0, ro);
	sfd = wv_must_file_section(self->fd, ro, 0, RO, 0);
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, sfd, MAP_W, 0, 0, 0));
	v = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 0x2000, 19));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(v + 0x1000), 0));
	ASSERT_NT(WINVM_STATUS_INVALID_PAGE_PROTECTION, wv_protect_at(self->fd, v, 0x1000, RW));
	ASSERT_TRUE(wv_pat_ok(PTR(v), 0, 0x2000, 19));
}

/* FlushViewOfFile on a file view succeeds; size 0 means to the end. */
TEST_F(winvm, flush_view)
{
	int file = wv_tmpfile(0x6000, 20), sfd;
	uint64_t v, a, s;
	uint8_t b = 0;

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0, RW, 0);
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	*(volatile uint8_t *)PTR(v + 0x5123) = 0x77;
	a = v;
	s = 0;
	ASSERT_ST(ST_OK, wv_flush(self->fd, &a, &s, 0));
	ASSERT_HEX(v, a);
	ASSERT_HEX(0x6000, s);
	ASSERT_EQ(1, pread(file, &b, 1, 0x5123));
	ASSERT_EQ(0x77, b);
	/* A small range inside: covered by the whole pages returned. */
	*(volatile uint8_t *)PTR(v + 0x1234) = 0x78;
	a = v + 0x1234;
	s = 0x10;
	ASSERT_ST(ST_OK, wv_flush(self->fd, &a, &s, 0));
	ASSERT_HEX(0, a & (WV_PAGE - 1));
	ASSERT_HEX(0, s & (WV_PAGE - 1));
	ASSERT_LE(a, v + 0x1234);
	ASSERT_GE(a + s, v + 0x1244);
	ASSERT_LE(v, a);
	ASSERT_GE(v + 0x6000, a + s);
	ASSERT_EQ(1, pread(file, &b, 1, 0x1234));
	ASSERT_EQ(0x78, b);
	/* Flags must be zero. */
	a = v;
	s = 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_flush(self->fd, &a, &s, 1));
}

TEST_HARNESS_MAIN

/*
 * Rule R116: a SEC_COMMIT|SEC_NOCACHE section's view reports RW|NOCACHE as
 * AllocationProtect and Protect, and a commit with READONLY (a protection
 * change here) reports RO|NOCACHE.
 */
TEST_F(winvm, nocache_section_view)
{
	int sfd = wv_must_section(self->fd, 2 * WV_PAGE, RW, SEC_COMMIT | SEC_NOCACHE);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0), a = v, s = WV_PAGE;

	ASSERT_VQ(self->fd, v, v, v, RW | NOCACHE, 2 * WV_PAGE, COMMIT, RW | NOCACHE, WV_MAPPED);
	ASSERT_NT(ST_OK, wv_alloc(self->fd, &a, &s, 0, COMMIT, RO));
	ASSERT_VQ(self->fd, v, v, v, RW | NOCACHE, WV_PAGE, COMMIT, RO | NOCACHE, WV_MAPPED);
	*(volatile uint32_t *)PTR(v + WV_PAGE) = 1;
	ASSERT_OK(wv_unmap(self->fd, v));
	close(sfd);
}

/* FLUSH refuses flags and reserved words; every section ioctl refuses a bad argument pointer. */
TEST_F(winvm, flush_flags_and_bad_pointers)
{
	static const unsigned long cmds[] = {
		WINVM_IOC_SECTION_CREATE, WINVM_IOC_SECTION_OPEN, WINVM_IOC_SECTION_QUERY,
		WINVM_IOC_SECTION_DUP, WINVM_IOC_VIEW_MAP, WINVM_IOC_VIEW_UNMAP,
		WINVM_IOC_VIEW_FLUSH,
	};
	int sfd = wv_must_section(self->fd, WV_PAGE, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	struct winvm_view_flush_args f = { .address = v, .flags = 1 };
	unsigned int i;

	ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_VIEW_FLUSH, &f));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, f.status);
	f.flags = 0;
	f.reserved[1] = 1;
	ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_VIEW_FLUSH, &f));
	ASSERT_EQ(EINVAL, errno);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ASSERT_EQ(-1, ioctl(self->fd, cmds[i], (void *)1)) TH_LOG("cmd %u", i);
		ASSERT_EQ(EFAULT, errno);
	}
	ASSERT_OK(wv_unmap(self->fd, v));
	close(sfd);
}

/*
 * Rule R111 and T-WP: taking write access away from a view's page holds
 * while another view of the same section exists that cannot write at all
 * (a read-only view earlier in the file's mappings once made a
 * write-protect walk stop before reaching the writable view).
 */
TEST_F(winvm, downgrade_holds_beside_a_readonly_view)
{
	int sfd = wv_must_section(self->fd, 2 * WV_GRAN, RW, 0);
	/* The read-only view covers the page too, and starts lower in the file. */
	uint64_t ro = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, WV_GRAN, WV_GRAN);

	wv_fault_reset();
	ASSERT_TRUE(wv_try_write(PTR(w), 1));
	ASSERT_NT(ST_OK, wv_protect_at(self->fd, w, WV_PAGE, RO));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(w), 2));
	ASSERT_EQ(1, *(volatile uint8_t *)PTR(w));
	ASSERT_OK(wv_unmap(self->fd, w));
	ASSERT_OK(wv_unmap(self->fd, ro));
	close(sfd);
}

/*
 * Rule R114: after READWRITE -> WRITECOPY, a write makes the view's own
 * copy; it must not reach the section through the PTE the page had while
 * it was READWRITE.
 */
TEST_F(winvm, readwrite_to_writecopy_keeps_writes_private)
{
	int sfd = wv_must_section(self->fd, WV_PAGE, RW, 0);
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t other = wv_must_map(self->fd, sfd, MAP_R, 0, 0);

	*(volatile uint8_t *)PTR(w) = 'A';
	ASSERT_NT(ST_OK, wv_protect_at(self->fd, w, WV_PAGE, WCOPY));
	*(volatile uint8_t *)PTR(w) = 'B';
	ASSERT_EQ('B', *(volatile uint8_t *)PTR(w));
	ASSERT_EQ('A', *(volatile uint8_t *)PTR(other));
	ASSERT_VQ(self->fd, w, w, w, RW, WV_PAGE, COMMIT, RW, WV_MAPPED);
	ASSERT_OK(wv_unmap(self->fd, other));
	ASSERT_OK(wv_unmap(self->fd, w));
	close(sfd);
}
