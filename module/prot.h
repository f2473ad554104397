/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The protection table: what each PAGE_* value lets a page do, and which
 * values are valid where (docs/windows-rules.md, 1.4 and 1.9).  Every
 * protection check in winvm asks here.
 */
#ifndef WINVM_PROT_H
#define WINVM_PROT_H

#include <linux/fs.h>
#include <linux/types.h>

#define WINVM_CAP_READ		0x1U	/* loads (and, on x86-64, execute-only pages) */
#define WINVM_CAP_WRITE		0x2U	/* stores reach the page itself */
#define WINVM_CAP_EXEC		0x4U	/* instruction fetches */
#define WINVM_CAP_COPY		0x8U	/* stores reach a private copy */

#define WINVM_PROT_MODIFIERS	(WINVM_PAGE_GUARD | WINVM_PAGE_NOCACHE | \
				 WINVM_PAGE_WRITECOMBINE)

/* What a page with a given protection may do. */
unsigned int winvm_prot_caps(u32 prot);
bool winvm_prot_is_exec(u32 prot);
bool winvm_prot_is_copy(u32 prot);
bool winvm_prot_writes(u32 prot);
bool winvm_prot_allows(u32 prot, u32 access);
bool winvm_prot_narrows(u32 from, u32 to);
bool winvm_prot_narrows_read(u32 from, u32 to);
u32 winvm_prot_copied(u32 prot);
u32 winvm_prot_state(u32 prot);

/* Where a protection is valid. */
bool winvm_prot_valid_private(u32 prot);
bool winvm_prot_valid_section(u32 prot);
bool winvm_prot_valid_view(u32 view_prot, u32 prot);
bool winvm_prot_fits_fd(u32 prot, fmode_t mode);

/* FILE_MAP_* and SECTION_* access, and Linux's protections. */
u32 winvm_access_rights(u32 access);
u32 winvm_access_needs(u32 access);
bool winvm_access_fits_section(u32 access, u32 sec_prot);
u32 winvm_prot_of_access(u32 access);
u32 winvm_prot_of_vm_flags(unsigned long vm_flags, bool cow);

#endif /* WINVM_PROT_H */
