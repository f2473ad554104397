// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the protection table (prot.c) against the documented
 * rules (docs/windows-rules.md, 1.4 and 1.9), written out case by case
 * rather than derived from the table.
 */

#include <kunit/test.h>
#include <linux/winvm.h>

#include "prot.h"
#include "state.h"

#define NA	WINVM_PAGE_NOACCESS
#define RO	WINVM_PAGE_READONLY
#define RW	WINVM_PAGE_READWRITE
#define WC	WINVM_PAGE_WRITECOPY
#define X	WINVM_PAGE_EXECUTE
#define XR	WINVM_PAGE_EXECUTE_READ
#define XRW	WINVM_PAGE_EXECUTE_READWRITE
#define XWC	WINVM_PAGE_EXECUTE_WRITECOPY
#define GUARD	WINVM_PAGE_GUARD
#define NOCACHE	WINVM_PAGE_NOCACHE
#define WCOMB	WINVM_PAGE_WRITECOMBINE

/* Every value VirtualAlloc accepts for private memory, and nothing else. */
static void prot_test_private(struct kunit *test)
{
	static const u32 bases[] = { RO, RW, X, XR, XRW };
	static const u32 mods[] = { 0, GUARD, NOCACHE, WCOMB };
	unsigned int valid = 0, i, j;
	u32 p;

	for (p = 0; p < 0x800; p++)
		valid += winvm_prot_valid_private(p);
	/* 5 bases with 4 modifier choices, and PAGE_NOACCESS alone. */
	KUNIT_EXPECT_EQ(test, valid, 5 * 4 + 1);
	for (i = 0; i < ARRAY_SIZE(bases); i++)
		for (j = 0; j < ARRAY_SIZE(mods); j++)
			KUNIT_EXPECT_TRUE(test, winvm_prot_valid_private(bases[i] | mods[j]));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_private(NA));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_private(NA | GUARD));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_private(WC));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_private(XWC));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_private(RW | GUARD | NOCACHE));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_private(RO | RW));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_private(0));
}

static void prot_test_section(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_section(RO));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_section(RW));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_section(WC));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_section(XR));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_section(XRW));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_section(XWC));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_section(NA));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_section(X));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_section(RW | GUARD));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_section(RW | NOCACHE));
}

/* A view's pages stay within the view's access; write-copy needs only read. */
static void prot_test_view(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(RO, RO));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(RO, WC));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(RO, NA));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(RO, RO | GUARD));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(RO, RW));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(RO, XR));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(RO, X));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(RW, WC));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(RW, RW | GUARD));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(RW, XWC));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(WC, WC));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(WC, RW));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(XR, X));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(XR, XWC));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(XR, XRW));
	KUNIT_EXPECT_TRUE(test, winvm_prot_valid_view(XRW, XRW));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(NA, RO));
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(XRW, NA | GUARD));
	/* Cache attributes are the section's, not a page's. */
	KUNIT_EXPECT_FALSE(test, winvm_prot_valid_view(XRW, RW | NOCACHE));
}

static void prot_test_access(struct kunit *test)
{
	u32 r = WINVM_EXCEPTION_READ_FAULT, w = WINVM_EXCEPTION_WRITE_FAULT;
	u32 x = WINVM_EXCEPTION_EXECUTE_FAULT;

	KUNIT_EXPECT_FALSE(test, winvm_prot_allows(NA, r));
	KUNIT_EXPECT_TRUE(test, winvm_prot_allows(RO, r));
	KUNIT_EXPECT_FALSE(test, winvm_prot_allows(RO, w));
	KUNIT_EXPECT_FALSE(test, winvm_prot_allows(RO, x));
	KUNIT_EXPECT_TRUE(test, winvm_prot_allows(RW, w));
	KUNIT_EXPECT_FALSE(test, winvm_prot_allows(RW, x));
	KUNIT_EXPECT_TRUE(test, winvm_prot_allows(WC, w));
	/* x86-64: an execute-only page can be read, not written. */
	KUNIT_EXPECT_TRUE(test, winvm_prot_allows(X, r));
	KUNIT_EXPECT_TRUE(test, winvm_prot_allows(X, x));
	KUNIT_EXPECT_FALSE(test, winvm_prot_allows(X, w));
	KUNIT_EXPECT_TRUE(test, winvm_prot_allows(XRW, x));
	KUNIT_EXPECT_TRUE(test, winvm_prot_allows(XWC, w));
	/* A guard page takes no access: its first one raises the guard. */
	KUNIT_EXPECT_FALSE(test, winvm_prot_allows(RW | GUARD, r));
	KUNIT_EXPECT_FALSE(test, winvm_prot_allows(XR | GUARD, x));
}

static void prot_test_narrows(struct kunit *test)
{
	u32 c = WINVM_PS_COMMIT;

	KUNIT_EXPECT_FALSE(test, winvm_prot_narrows(c | RO, RW));
	KUNIT_EXPECT_FALSE(test, winvm_prot_narrows(c | NA, RO));
	KUNIT_EXPECT_FALSE(test, winvm_prot_narrows(c | RO, XR));
	KUNIT_EXPECT_FALSE(test, winvm_prot_narrows(c | WC, RW));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | RW, RO));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | XRW, XR));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | WC, RO));
	/* A write must make a copy now, not reach the section. */
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | RW, WC));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | XRW, XWC));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | RO, NA));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | RW, RW | GUARD));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows(c | RW | WINVM_PS_COPIED, RW));
	/* Only write goes: the PTEs may stay, write-protected (T-WP). */
	KUNIT_EXPECT_FALSE(test, winvm_prot_narrows_read(c | RW, RO));
	KUNIT_EXPECT_FALSE(test, winvm_prot_narrows_read(c | XRW, XR));
	KUNIT_EXPECT_FALSE(test, winvm_prot_narrows_read(c | XRW, RO));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows_read(c | RW, NA));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows_read(c | RO, RO | GUARD));
	KUNIT_EXPECT_TRUE(test, winvm_prot_narrows_read(c | RW | WINVM_PS_COPIED, RO));
}

/* FILE_MAP_* to the view's protection and the section rights it needs. */
static void prot_test_file_map(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, winvm_prot_of_access(WINVM_FILE_MAP_WRITE), RW);
	KUNIT_EXPECT_EQ(test, winvm_prot_of_access(WINVM_FILE_MAP_ALL_ACCESS), RW);
	KUNIT_EXPECT_EQ(test, winvm_prot_of_access(WINVM_FILE_MAP_READ), RO);
	KUNIT_EXPECT_EQ(test, winvm_prot_of_access(WINVM_FILE_MAP_COPY), WC);
	KUNIT_EXPECT_EQ(test, winvm_prot_of_access(WINVM_FILE_MAP_READ | WINVM_FILE_MAP_EXECUTE),
			XR);
	KUNIT_EXPECT_EQ(test, winvm_prot_of_access(WINVM_FILE_MAP_COPY | WINVM_FILE_MAP_EXECUTE),
			XWC);
	/* FILE_MAP_EXECUTE alone: a no-access view, on any section (R95). */
	KUNIT_EXPECT_EQ(test, winvm_prot_of_access(WINVM_FILE_MAP_EXECUTE), NA);
	KUNIT_EXPECT_TRUE(test, winvm_access_fits_section(WINVM_FILE_MAP_EXECUTE, RW));
	KUNIT_EXPECT_EQ(test, winvm_access_needs(WINVM_FILE_MAP_EXECUTE),
			WINVM_SECTION_MAP_READ | WINVM_SECTION_MAP_EXECUTE);
	KUNIT_EXPECT_EQ(test, winvm_access_needs(WINVM_FILE_MAP_EXECUTE | WINVM_FILE_MAP_WRITE),
			WINVM_SECTION_MAP_WRITE | WINVM_SECTION_MAP_EXECUTE);
	KUNIT_EXPECT_EQ(test, winvm_access_needs(WINVM_FILE_MAP_WRITE), WINVM_SECTION_MAP_WRITE);
	KUNIT_EXPECT_EQ(test, winvm_access_needs(WINVM_FILE_MAP_COPY), WINVM_SECTION_MAP_READ);
	KUNIT_EXPECT_EQ(test, winvm_access_needs(0), WINVM_SECTION_MAP_READ);
	KUNIT_EXPECT_TRUE(test, winvm_access_fits_section(WINVM_FILE_MAP_COPY, RO));
	KUNIT_EXPECT_FALSE(test, winvm_access_fits_section(WINVM_FILE_MAP_WRITE, WC));
	KUNIT_EXPECT_FALSE(test, winvm_access_fits_section(WINVM_FILE_MAP_EXECUTE |
							   WINVM_FILE_MAP_READ, RW));
	KUNIT_EXPECT_TRUE(test, winvm_access_fits_section(WINVM_FILE_MAP_EXECUTE, XR));
	KUNIT_EXPECT_EQ(test, winvm_prot_copied(WC | GUARD), RW | GUARD);
	KUNIT_EXPECT_EQ(test, winvm_prot_copied(XWC), XRW);
	KUNIT_EXPECT_EQ(test, winvm_prot_copied(RO), RO);
	KUNIT_EXPECT_TRUE(test, winvm_prot_fits_fd(WC, FMODE_READ));
	KUNIT_EXPECT_FALSE(test, winvm_prot_fits_fd(RW, FMODE_READ));
	KUNIT_EXPECT_FALSE(test, winvm_prot_fits_fd(RO, FMODE_WRITE));
}

static struct kunit_case winvm_prot_cases[] = {
	KUNIT_CASE(prot_test_private),
	KUNIT_CASE(prot_test_section),
	KUNIT_CASE(prot_test_view),
	KUNIT_CASE(prot_test_access),
	KUNIT_CASE(prot_test_narrows),
	KUNIT_CASE(prot_test_file_map),
	{}
};

static struct kunit_suite winvm_prot_suite = {
	.name = "winvm_prot",
	.test_cases = winvm_prot_cases,
};

kunit_test_suite(winvm_prot_suite);
