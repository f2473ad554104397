// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a protection change does to the PTEs already there: drop them,
 * take write away in place, or grant write in place.  Which one a change
 * needs is change.c's decision (docs/threat-model.md, T-WP); this file
 * only does it, with mmap_lock held for writing and the range's VMAs
 * write-locked (winvm_lock_vmas()), so no fault runs beside it.
 */

#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/rmap.h>

#include "compat.h"
#include "winvm.h"

/*
 * The mapping whose i_mmap lists @alloc's VMAs: that of the file they
 * really map.  An overlayfs file's own mapping has no VMAs in it, the real
 * file's has ours.
 */
static struct address_space *winvm_vma_mapping(struct winvm_alloc *alloc)
{
	return (alloc->data ? alloc->data : alloc->shm)->f_mapping;
}

/*
 * Drop the PTEs of [start, end) in every view of the pages, so the next
 * access goes through ->fault again.  Lossless: the data stays in shmem.
 */
void winvm_zap(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	mmap_assert_locked(alloc->wmm->mm);
	unmap_mapping_range(winvm_vma_mapping(alloc),
			    (loff_t)winvm_pgoff(alloc, start) << PAGE_SHIFT,
			    end - start, 1);
}

/*
 * Take write away from every PTE of [start, end) of a private allocation
 * and keep the PTEs, so reads after READWRITE -> READONLY cost nothing and
 * the next write goes through ->page_mkwrite, which reads the new state.
 *
 * folio_mkclean() is the kernel's own write-protect: it walks every VMA
 * that maps the folio (here only the allocation's own), flushes the TLB,
 * tells MMU notifiers, and clears the PTE's dirty bit too, so that nothing
 * that trusts a dirty PTE (NUMA hinting on 6.12) makes it writable again
 * without ->page_mkwrite.  The folio keeps the dirt (folio_mark_dirty()).
 * With the folio locked no migration of it is under way, so no writable
 * migration entry can bring write back afterwards.
 */
void winvm_wrprotect(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	struct address_space *mapping = alloc->shm->f_mapping;
	pgoff_t idx = winvm_pgoff(alloc, start), last = winvm_pgoff(alloc, end) - 1;
	struct folio_batch fbatch;
	bool unmapped = false;
	struct folio *folio;
	unsigned int i;

	mmap_assert_write_locked(alloc->wmm->mm);
	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &idx, last, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			folio = fbatch.folios[i];
			folio_lock(folio);
			/* (Truncated meanwhile: then it is mapped nowhere.) */
			if (folio->mapping == mapping) {
				if (!folio_mapped(folio))
					unmapped = true;
				else if (folio_mkclean(folio))
					folio_mark_dirty(folio);
			}
			folio_unlock(folio);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	/*
	 * A resident folio mapped nowhere may have just been unmapped by
	 * reclaim with its TLB flush deferred (TTU_BATCH_FLUSH), so another
	 * CPU may still write it through a stale entry; folio_mkclean() sees
	 * no mapping and cannot help.  The zap flushes what is pending for the
	 * mm (flush_tlb_batched_pending() in zap_pte_range()).
	 */
	if (unmapped)
		winvm_zap(alloc, start, end);
}

struct winvm_mkwrite {
	struct vm_area_struct *vma;
};

static int winvm_pte_grant_write(pte_t *ptep, unsigned long addr, void *data)
{
	struct winvm_mkwrite *w = data;
	pte_t pte = ptep_get(ptep);

	/* Not present (a migration entry, say): the next write faults. */
	if (!pte_present(pte) || pte_write(pte) || pte_special(pte))
		return 0;
	/* Dirty now, as the write fault would have made it. */
	set_pte_at(w->vma->vm_mm, addr, ptep, pte_mkdirty(winvm_pte_mkwrite(pte)));
	return 0;
}

/*
 * Grant write in place to the PTEs of [start, end) of a private allocation
 * whose pages all became writable, so writes after READONLY -> READWRITE
 * do not each take a write fault.  Safe without a TLB flush: a stale
 * read-only entry only causes a spurious fault, which the core resolves.
 * Only the page tables that exist are walked, under their PTE locks.
 * winvm's own tmpfs is mounted huge=never and its VMAs are VM_NOHUGEPAGE,
 * so there is no PMD mapping here for the walk to stop at.
 */
void winvm_mkwrite(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	struct mm_struct *mm = alloc->wmm->mm;
	struct winvm_mkwrite w;
	unsigned long addr;

	mmap_assert_write_locked(mm);
	for (addr = start; addr < end; addr = w.vma->vm_end) {
		w.vma = find_vma(mm, addr);
		if (!w.vma || w.vma->vm_start >= end)
			break;
		/*
		 * Past MADV_HUGEPAGE (and root's shmem_enabled=force) a PMD
		 * could map here, where the walk would WARN: leave such VMAs
		 * to write faults.
		 */
		if (!winvm_vma_is(w.vma, alloc) || !(w.vma->vm_flags & VM_WRITE) ||
		    !(w.vma->vm_flags & VM_NOHUGEPAGE))
			continue;
		apply_to_existing_page_range(mm, max(addr, w.vma->vm_start),
					     min(end, w.vma->vm_end) - max(addr, w.vma->vm_start),
					     winvm_pte_grant_write, &w);
	}
}
