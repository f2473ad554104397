// SPDX-License-Identifier: GPL-2.0
/*
 * The model's protection rules, written from Windows' documentation, not
 * from the module: Microsoft's "Memory Protection Constants" page (MPC),
 * the MapViewOfFile / VirtualProtect pages, and the behaviour the Wine
 * conformance tests record on Windows (docs/windows-rules.md, cited as
 * "rule R<n>").  Every rule is a table
 * entry with the sentence it comes from; the code only looks entries up.
 */
#include <stddef.h>

#include <linux/winvm.h>

#include "model-prot.h"

#define R	0x1u	/* read */
#define W	0x2u	/* write (in place, or by copy-on-write) */
#define X	0x4u	/* execute */
#define C	0x8u	/* a write makes a private copy */

/* ---------------- the base constants ---------------- */

struct mp_base {
	uint32_t prot;
	unsigned int access;	/* R/W/X/C it grants to user mode */
	bool private_ok;	/* valid for VirtualAlloc/VirtualProtect of private memory */
	uint32_t written;	/* what a written page reports (write-copy), else 0 */
};

static const struct mp_base bases[] = {
	/* MPC: "Disables all access to the committed region of pages." */
	{ WINVM_PAGE_NOACCESS, 0, true, 0 },
	/* MPC: "Enables read-only access ... An attempt to write ... results in an
	 * access violation.  If DEP is enabled, an attempt to execute code ... results
	 * in an access violation." */
	{ WINVM_PAGE_READONLY, R, true, 0 },
	/* MPC: "Enables read-only or read/write access to the committed region." */
	{ WINVM_PAGE_READWRITE, R | W, true, 0 },
	/* MPC: "Enables read-only or copy-on-write access to a mapped view ...  This
	 * value is not supported by the VirtualAlloc or VirtualAllocEx functions";
	 * rule R48: VirtualProtect of private memory refuses it too.  Rule R114: a
	 * written page reports PAGE_READWRITE. */
	{ WINVM_PAGE_WRITECOPY, R | W | C, false, WINVM_PAGE_READWRITE },
	/* MPC: "Enables execute access ... An attempt to write ... results in an access
	 * violation."  Reading is not forbidden there, and x86-64 page tables cannot
	 * make a page executable but unreadable: reads succeed. */
	{ WINVM_PAGE_EXECUTE, R | X, true, 0 },
	/* MPC: "Enables execute or read-only access ... An attempt to write ... results
	 * in an access violation." */
	{ WINVM_PAGE_EXECUTE_READ, R | X, true, 0 },
	/* MPC: "Enables execute, read-only, or read/write access." */
	{ WINVM_PAGE_EXECUTE_READWRITE, R | W | X, true, 0 },
	/* MPC: "Enables execute, read-only, or copy-on-write access to a mapped view
	 * ...  This value is not supported by the VirtualAlloc or VirtualAllocEx
	 * functions"; rule R48 for VirtualProtect; rule R114: a written page reports
	 * PAGE_EXECUTE_READWRITE. */
	{ WINVM_PAGE_EXECUTE_WRITECOPY, R | W | X | C, false, WINVM_PAGE_EXECUTE_READWRITE },
};

#define NBASES	(sizeof(bases) / sizeof(bases[0]))

/* MPC: the modifiers are "used in addition to" a base value (one of them). */
struct mp_modifier {
	uint32_t bit;
	uint32_t not_with;	/* modifiers it cannot be combined with */
	bool not_noaccess;	/* cannot be combined with PAGE_NOACCESS */
	bool views_ok;		/* valid when (re)protecting pages of a view */
};

static const struct mp_modifier modifiers[] = {
	/* MPC PAGE_GUARD: "This value cannot be used with PAGE_NOACCESS."  Rule R112
	 * and the guard-page facts (69-77): views may carry it too. */
	{ WINVM_PAGE_GUARD, WINVM_PAGE_NOCACHE | WINVM_PAGE_WRITECOMBINE, true, true },
	/* MPC PAGE_NOCACHE: "cannot be used with the PAGE_GUARD, PAGE_NOACCESS, or
	 * PAGE_WRITECOMBINE flags ... can be used only when allocating private memory
	 * ... for shared memory, specify the SEC_NOCACHE flag". */
	{ WINVM_PAGE_NOCACHE, WINVM_PAGE_GUARD | WINVM_PAGE_WRITECOMBINE, true, false },
	/* MPC PAGE_WRITECOMBINE: "cannot be specified with the PAGE_NOACCESS,
	 * PAGE_GUARD, and PAGE_NOCACHE flags ... only when allocating private memory
	 * ... for shared memory, specify the SEC_WRITECOMBINE flag". */
	{ WINVM_PAGE_WRITECOMBINE, WINVM_PAGE_GUARD | WINVM_PAGE_NOCACHE, true, false },
};

#define NMODS	(sizeof(modifiers) / sizeof(modifiers[0]))

static const struct mp_base *base_of(uint32_t prot)
{
	unsigned int i;

	for (i = 0; i < NBASES; i++)
		if (bases[i].prot == (prot & MP_BASE_MASK))
			return &bases[i];
	return NULL;
}

static const struct mp_modifier *modifier_of(uint32_t bit)
{
	unsigned int i;

	for (i = 0; i < NMODS; i++)
		if (modifiers[i].bit == bit)
			return &modifiers[i];
	return NULL;
}

bool mp_documented(uint32_t prot)
{
	uint32_t mods = prot & ~MP_BASE_MASK;
	unsigned int i;

	for (i = 0; i < NMODS; i++)
		mods &= ~modifiers[i].bit;
	return base_of(prot) && !mods;
}

/* Modifier rules; @view: the pages of a view are being protected. */
static bool modifiers_ok(uint32_t prot, bool view)
{
	const struct mp_base *b = base_of(prot);
	uint32_t mods = prot & ~MP_BASE_MASK, bit;

	if (!b)
		return false;
	for (bit = 1u << 8; bit; bit <<= 1) {
		const struct mp_modifier *m;

		if (!(mods & bit))
			continue;
		m = modifier_of(bit);
		if (!m || (mods & m->not_with) || (view && !m->views_ok))
			return false;
		if (m->not_noaccess && b->prot == WINVM_PAGE_NOACCESS)
			return false;
	}
	return true;
}

bool mp_valid(uint32_t prot)
{
	return modifiers_ok(prot, false);
}

bool mp_valid_private(uint32_t prot)
{
	return modifiers_ok(prot, false) && base_of(prot)->private_ok;
}

static unsigned int access_of(uint32_t prot)
{
	const struct mp_base *b = base_of(prot);

	return b ? b->access : 0;
}

bool mp_can_read(uint32_t prot)
{
	return access_of(prot) & R;
}

bool mp_can_write(uint32_t prot)
{
	return access_of(prot) & W;
}

bool mp_can_exec(uint32_t prot)
{
	return access_of(prot) & X;
}

uint32_t mp_after_write(uint32_t prot)
{
	const struct mp_base *b = base_of(prot);

	return b && b->written ? (prot & ~MP_BASE_MASK) | b->written : prot;
}

/* ---------------- views ---------------- */

/*
 * MapViewOfFile's dwDesiredAccess to the view's protection (rule R95, from the
 * view table of Wine's test_mapping run on Windows): FILE_MAP_WRITE in any
 * combination gives a read/write view; FILE_MAP_READ (with or without
 * FILE_MAP_COPY) a read-only one; FILE_MAP_COPY alone a copy-on-write one
 * (MapViewOfFile: "a copy-on-write view"; rule R115: COPY is private only as
 * the sole flag); none of them (access 0, or SECTION_MAP_EXECUTE alone) a
 * no-access view.  FILE_MAP_EXECUTE ("combine this value with ...") selects
 * the executable variant; alone it maps no access.
 */
static const uint32_t view_by_rwc[8] = {
	/* indexed by READ (4) | WRITE (2) | COPY (1), the FILE_MAP_* bits */
	[0] = WINVM_PAGE_NOACCESS,
	[WINVM_FILE_MAP_COPY] = WINVM_PAGE_WRITECOPY,
	[WINVM_FILE_MAP_WRITE] = WINVM_PAGE_READWRITE,
	[WINVM_FILE_MAP_WRITE | WINVM_FILE_MAP_COPY] = WINVM_PAGE_READWRITE,
	[WINVM_FILE_MAP_READ] = WINVM_PAGE_READONLY,
	[WINVM_FILE_MAP_READ | WINVM_FILE_MAP_COPY] = WINVM_PAGE_READONLY,
	[WINVM_FILE_MAP_READ | WINVM_FILE_MAP_WRITE] = WINVM_PAGE_READWRITE,
	[WINVM_FILE_MAP_READ | WINVM_FILE_MAP_WRITE | WINVM_FILE_MAP_COPY] = WINVM_PAGE_READWRITE,
};

/* The executable variant of each view protection (FILE_MAP_EXECUTE). */
static const struct { uint32_t plain, exec; } view_exec[] = {
	{ WINVM_PAGE_NOACCESS, WINVM_PAGE_NOACCESS },
	{ WINVM_PAGE_READONLY, WINVM_PAGE_EXECUTE_READ },
	{ WINVM_PAGE_READWRITE, WINVM_PAGE_EXECUTE_READWRITE },
	{ WINVM_PAGE_WRITECOPY, WINVM_PAGE_EXECUTE_WRITECOPY },
};

uint32_t mp_view_protect(uint32_t access)
{
	uint32_t p = view_by_rwc[access & (WINVM_FILE_MAP_READ | WINVM_FILE_MAP_WRITE |
					   WINVM_FILE_MAP_COPY)];
	unsigned int i;

	if (!(access & WINVM_FILE_MAP_EXECUTE))
		return p;
	for (i = 0; i < sizeof(view_exec) / sizeof(view_exec[0]); i++)
		if (view_exec[i].plain == p)
			return view_exec[i].exec;
	return p;
}

/*
 * What a view grants, by its protection, for the containment rule of fact
 * 111 ("VirtualProtect on a view succeeds iff the requested access is
 * contained in the view's AllocationProtect access").
 */
static unsigned int view_grants(uint32_t view_prot)
{
	return access_of(view_prot);
}

/*
 * What a requested protection needs from the view (rule R111: "WRITECOPY
 * needs read access only, EXECUTE_WRITECOPY read+execute, NOACCESS
 * nothing"; rule R112: an EXECUTE_READWRITE view accepts every single valid
 * protection).
 */
static unsigned int view_needs(uint32_t prot)
{
	unsigned int a = access_of(prot);

	return a & C ? a & ~(W | C) : a;
}

enum mp_verdict mp_view_allows(uint32_t view_prot, uint32_t prot)
{
	unsigned int grants = view_grants(view_prot), needs;

	if (!modifiers_ok(prot, true))
		return MP_NO;
	needs = view_needs(prot);
	if (needs & ~(grants & (R | W | X)))
		return MP_NO;
	/*
	 * Not documented: read/write pages in a copy-on-write view (the view
	 * grants writes, but only as private copies).
	 */
	if ((grants & C) && (needs & W))
		return MP_UNSPECIFIED;
	return MP_YES;
}

bool mp_valid_for_some_view(uint32_t prot)
{
	return mp_view_allows(WINVM_PAGE_EXECUTE_READWRITE, prot) == MP_YES;
}

/* ---------------- Linux mappings ---------------- */

/*
 * A mapping winvm did not make is reported with the documented constant
 * that grants exactly its access; a writable private file mapping is
 * copy-on-write, as Windows reports for image data (rule R63).  On x86 a
 * writable page is also readable.  Indexed by r (4) | w (2) | x (1).
 */
static const uint32_t native_prot[8][2] = {
	/* shared or anonymous,          private file (copy-on-write) */
	[0] = { WINVM_PAGE_NOACCESS, WINVM_PAGE_NOACCESS },
	[1] = { WINVM_PAGE_EXECUTE, WINVM_PAGE_EXECUTE },
	[2] = { WINVM_PAGE_READWRITE, WINVM_PAGE_WRITECOPY },
	[3] = { WINVM_PAGE_EXECUTE_READWRITE, WINVM_PAGE_EXECUTE_WRITECOPY },
	[4] = { WINVM_PAGE_READONLY, WINVM_PAGE_READONLY },
	[5] = { WINVM_PAGE_EXECUTE_READ, WINVM_PAGE_EXECUTE_READ },
	[6] = { WINVM_PAGE_READWRITE, WINVM_PAGE_WRITECOPY },
	[7] = { WINVM_PAGE_EXECUTE_READWRITE, WINVM_PAGE_EXECUTE_WRITECOPY },
};

uint32_t mp_native_protect(bool r, bool w, bool x, bool private_file)
{
	return native_prot[(r ? 4 : 0) | (w ? 2 : 0) | (x ? 1 : 0)][private_file];
}
