/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel API differences between 6.1 and 6.12, bridged by what the Kbuild
 * probes found in the target's headers (never by version numbers).
 */
#ifndef WINVM_COMPAT_H
#define WINVM_COMPAT_H

#include <linux/mm.h>

#ifdef WINVM_HAVE_VM_FLAGS_SET
#define winvm_vm_flags_set(vma, f)	vm_flags_set(vma, f)
#define winvm_vm_flags_clear(vma, f)	vm_flags_clear(vma, f)
#else
static inline void winvm_vm_flags_set(struct vm_area_struct *vma, unsigned long f)
{
	vma->vm_flags |= f;
}

static inline void winvm_vm_flags_clear(struct vm_area_struct *vma, unsigned long f)
{
	vma->vm_flags &= ~f;
}
#endif

/* Drop the PTEs of one VMA's range (mmap_lock or the VMA's lock held). */
static inline void winvm_zap_vma(struct vm_area_struct *vma, unsigned long addr,
				 unsigned long len)
{
#ifdef WINVM_HAVE_ZAP_PAGE_RANGE
	zap_page_range(vma, addr, len);
#else
	zap_page_range_single(vma, addr, len, NULL);
#endif
}

static inline unsigned long winvm_get_unmapped_area(struct mm_struct *mm, unsigned long len)
{
#ifdef WINVM_HAVE_MM_GET_UNMAPPED_AREA
	return mm_get_unmapped_area(mm, NULL, 0, len, 0, 0);
#else
	return mm->get_unmapped_area(NULL, 0, len, 0, 0);
#endif
}

/*
 * ->fault and ->page_mkwrite run under mmap_lock or, with per-VMA locks
 * (6.4+), under the VMA's own lock alone.  (->page_mkwrite cannot tell
 * which: the core rewrites vmf->flags before calling it.)
 */
static inline void winvm_assert_fault_locked(struct vm_area_struct *vma)
{
#ifdef CONFIG_PER_VMA_LOCK
	lockdep_assert(rwsem_is_locked(&vma->vm_mm->mmap_lock) ||
		       rwsem_is_locked(&vma->vm_lock->lock));
#else
	mmap_assert_locked(vma->vm_mm);
#endif
}

/*
 * Keep faults that run under the VMA's own lock out of @vma until
 * mmap_lock (held for writing) is released, waiting for those under way.
 */
static inline void winvm_vma_start_write(struct vm_area_struct *vma)
{
#ifdef WINVM_HAVE_VMA_START_WRITE
	vma_start_write(vma);
#else
	mmap_assert_write_locked(vma->vm_mm);
#endif
}

/* Write permission for a PTE (6.6+ wants the VMA, for shadow stacks). */
#ifdef WINVM_HAVE_PTE_MKWRITE_NOVMA
#define winvm_pte_mkwrite(pte)		pte_mkwrite_novma(pte)
#else
#define winvm_pte_mkwrite(pte)		pte_mkwrite(pte)
#endif

/*
 * How many PTEs map a small folio: 6.12 has folio_mapcount() inline, 6.1
 * only out of line and unexported, but page_mapcount() inline.
 */
#ifdef WINVM_HAVE_INLINE_FOLIO_MAPCOUNT
#define winvm_small_folio_mapcount(folio)	folio_mapcount(folio)
#else
#define winvm_small_folio_mapcount(folio)	page_mapcount(&(folio)->page)
#endif

#endif /* WINVM_COMPAT_H */
