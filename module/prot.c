// SPDX-License-Identifier: GPL-2.0-only
/*
 * The protection table (prot.h).  The rules are Windows' (docs/
 * windows-rules.md, 1.4 protections, 1.9 views); the only x86-64 twist is
 * that a page cannot be mapped execute-only, so PAGE_EXECUTE pages can be
 * read, as on Windows x64.
 */

#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/winvm.h>

#include "prot.h"
#include "state.h"

#define R	WINVM_CAP_READ
#define W	WINVM_CAP_WRITE
#define X	WINVM_CAP_EXEC
#define C	WINVM_CAP_COPY

/*
 * One row per base protection, indexed by its bit.  @private: valid for
 * VirtualAlloc/VirtualProtect of private memory (write-copy is not);
 * @section: valid as a section's protection (neither no-access nor
 * execute-only is).
 */
static const struct winvm_prot_row {
	u8 caps;
	bool private;
	bool section;
} winvm_prot_rows[8] = {
	[0] = { 0,		true,	false },	/* PAGE_NOACCESS */
	[1] = { R,		true,	true },		/* PAGE_READONLY */
	[2] = { R | W,		true,	true },		/* PAGE_READWRITE */
	[3] = { R | C,		false,	true },		/* PAGE_WRITECOPY */
	[4] = { R | X,		true,	false },	/* PAGE_EXECUTE */
	[5] = { R | X,		true,	true },		/* PAGE_EXECUTE_READ */
	[6] = { R | W | X,	true,	true },		/* PAGE_EXECUTE_READWRITE */
	[7] = { R | X | C,	false,	true },		/* PAGE_EXECUTE_WRITECOPY */
};

/* The row of @prot's base value, or NULL if that is not exactly one value. */
static const struct winvm_prot_row *winvm_prot_row(u32 prot)
{
	u32 base = prot & WINVM_PS_PROT;

	if (!base || (base & (base - 1)))
		return NULL;
	return &winvm_prot_rows[__ffs(base)];
}

unsigned int winvm_prot_caps(u32 prot)
{
	const struct winvm_prot_row *row = winvm_prot_row(prot);

	return row ? row->caps : 0;
}

bool winvm_prot_is_exec(u32 prot)
{
	return winvm_prot_caps(prot) & X;
}

bool winvm_prot_is_copy(u32 prot)
{
	return winvm_prot_caps(prot) & C;
}

/* Does @prot write the page itself (and so the section's file)? */
bool winvm_prot_writes(u32 prot)
{
	return winvm_prot_caps(prot) & W;
}

/*
 * May a page with protection @prot (modifiers included) take an access of
 * kind @access (WINVM_EXCEPTION_*)?  A guard page takes none: its first
 * access raises the guard exception instead.
 */
bool winvm_prot_allows(u32 prot, u32 access)
{
	unsigned int caps = winvm_prot_caps(prot);

	if (prot & WINVM_PAGE_GUARD)
		return false;
	switch (access) {
	case WINVM_EXCEPTION_EXECUTE_FAULT:
		return caps & X;
	case WINVM_EXCEPTION_WRITE_FAULT:
		return caps & (W | C);
	default:
		return caps & R;
	}
}

/*
 * Of the changes that narrow, does this one take reads away too?  One that
 * only takes write away can leave the PTEs in place, write-protected
 * (T-WP).  A copied page's PTE maps another file's page: it must go.
 */
bool winvm_prot_narrows_read(u32 from, u32 to)
{
	return (winvm_prot_allows(from, WINVM_EXCEPTION_READ_FAULT) &&
		!winvm_prot_allows(to, WINVM_EXCEPTION_READ_FAULT)) ||
	       (from & WINVM_PS_COPIED);
}

/*
 * Does going from page state @from to protection @to take away anything a
 * present PTE may grant?  Only then must PTEs go: widening needs nothing,
 * since absent or read-only (write-notified) PTEs fault into the handlers.
 * Losing write to the page itself counts even where a write stays
 * allowed: after READWRITE -> WRITECOPY a write must make a copy, not
 * reach the section through the old writable PTE.  A private copy is
 * mapped from another file, so any change to a copied page drops its PTE.
 */
bool winvm_prot_narrows(u32 from, u32 to)
{
	return winvm_prot_narrows_read(from, to) ||
	       (winvm_prot_allows(from, WINVM_EXCEPTION_WRITE_FAULT) &&
		!winvm_prot_allows(to, WINVM_EXCEPTION_WRITE_FAULT)) ||
	       (winvm_prot_writes(from) && !winvm_prot_writes(to));
}

/* A write-copy page this view has copied reports its own read-write value. */
u32 winvm_prot_copied(u32 prot)
{
	switch (prot & WINVM_PS_PROT) {
	case WINVM_PAGE_WRITECOPY:
		return prot ^ (WINVM_PAGE_WRITECOPY | WINVM_PAGE_READWRITE);
	case WINVM_PAGE_EXECUTE_WRITECOPY:
		return prot ^ (WINVM_PAGE_EXECUTE_WRITECOPY | WINVM_PAGE_EXECUTE_READWRITE);
	default:
		return prot;
	}
}

/* The page state of a page committed with @prot (cache modifiers are the allocation's). */
u32 winvm_prot_state(u32 prot)
{
	return WINVM_PS_COMMIT | (prot & (WINVM_PS_PROT | WINVM_PS_GUARD));
}

/*
 * Private memory: one base value, at most one modifier, no modifier on
 * PAGE_NOACCESS, and no write-copy.
 */
bool winvm_prot_valid_private(u32 prot)
{
	const struct winvm_prot_row *row = winvm_prot_row(prot);
	u32 mods = prot & ~WINVM_PS_PROT;

	if (!row || !row->private || (mods & ~WINVM_PROT_MODIFIERS))
		return false;
	if (mods && (prot & WINVM_PS_PROT) == WINVM_PAGE_NOACCESS)
		return false;
	return hweight32(mods) <= 1;
}

/* NtCreateSection's page protection: a plain value that can at least read. */
bool winvm_prot_valid_section(u32 prot)
{
	const struct winvm_prot_row *row = winvm_prot_row(prot);

	return row && row->section && !(prot & ~WINVM_PS_PROT);
}

/*
 * May a page of a view whose protection is @view_prot be given @prot?  Only
 * what the view's own access covers; write-copy needs just read access.
 * Only PAGE_GUARD may modify the value (cache attributes are the section's).
 */
bool winvm_prot_valid_view(u32 view_prot, u32 prot)
{
	const struct winvm_prot_row *row = winvm_prot_row(prot);

	if (!row || (prot & ~(WINVM_PS_PROT | WINVM_PAGE_GUARD)))
		return false;
	if ((prot & WINVM_PAGE_GUARD) && (prot & WINVM_PS_PROT) == WINVM_PAGE_NOACCESS)
		return false;
	return !(row->caps & ~C & ~winvm_prot_caps(view_prot));
}

/* Does an fd opened with @mode allow a section of protection @prot? */
bool winvm_prot_fits_fd(u32 prot, fmode_t mode)
{
	if (!(mode & FMODE_READ))
		return false;
	return !winvm_prot_writes(prot) || (mode & FMODE_WRITE);
}

/* FILE_MAP_EXECUTE (0x20) stands for SECTION_MAP_EXECUTE in an access mask. */
u32 winvm_access_rights(u32 access)
{
	if (access & WINVM_FILE_MAP_EXECUTE)
		access = (access & ~WINVM_FILE_MAP_EXECUTE) | WINVM_SECTION_MAP_EXECUTE;
	return access;
}

/* The SECTION_MAP_* rights a view with FILE_MAP_* @access needs. */
u32 winvm_access_needs(u32 access)
{
	u32 need = 0;

	if (access & WINVM_FILE_MAP_WRITE)
		need |= WINVM_SECTION_MAP_WRITE;
	/* A view that does not write reads: a no-access one too (rule R95). */
	if ((access & (WINVM_FILE_MAP_READ | WINVM_FILE_MAP_COPY)) ||
	    !(access & WINVM_FILE_MAP_WRITE))
		need |= WINVM_SECTION_MAP_READ;
	if (access & WINVM_FILE_MAP_EXECUTE)
		need |= WINVM_SECTION_MAP_EXECUTE;
	return need;
}

/*
 * A view may not exceed its section's protection.  FILE_MAP_EXECUTE alone
 * maps a no-access view (rule R95), which fits any section.
 */
bool winvm_access_fits_section(u32 access, u32 sec_prot)
{
	if ((access & WINVM_FILE_MAP_WRITE) && !winvm_prot_writes(sec_prot))
		return false;
	if (winvm_prot_of_access(access) == WINVM_PAGE_NOACCESS)
		return true;
	return !(access & WINVM_FILE_MAP_EXECUTE) || winvm_prot_is_exec(sec_prot);
}

/*
 * The protection of a view mapped with FILE_MAP_* @access (rule R95):
 * FILE_MAP_EXECUTE only makes an access executable; alone it gives none.
 */
u32 winvm_prot_of_access(u32 access)
{
	bool x = access & WINVM_FILE_MAP_EXECUTE;

	if (access & WINVM_FILE_MAP_WRITE)
		return x ? WINVM_PAGE_EXECUTE_READWRITE : WINVM_PAGE_READWRITE;
	if (access & WINVM_FILE_MAP_READ)
		return x ? WINVM_PAGE_EXECUTE_READ : WINVM_PAGE_READONLY;
	if (access & WINVM_FILE_MAP_COPY)
		return x ? WINVM_PAGE_EXECUTE_WRITECOPY : WINVM_PAGE_WRITECOPY;
	return WINVM_PAGE_NOACCESS;
}

/* The closest protection to a Linux mapping's; @cow for private file mappings. */
u32 winvm_prot_of_vm_flags(unsigned long f, bool cow)
{
	if (f & VM_EXEC) {
		if (f & VM_WRITE)
			return cow ? WINVM_PAGE_EXECUTE_WRITECOPY : WINVM_PAGE_EXECUTE_READWRITE;
		return f & VM_READ ? WINVM_PAGE_EXECUTE_READ : WINVM_PAGE_EXECUTE;
	}
	if (f & VM_WRITE)
		return cow ? WINVM_PAGE_WRITECOPY : WINVM_PAGE_READWRITE;
	return f & VM_READ ? WINVM_PAGE_READONLY : WINVM_PAGE_NOACCESS;
}
