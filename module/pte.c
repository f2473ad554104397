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
#include <linux/slab.h>

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

/* No page known to be mapped (winvm_flush_deferred()). */
#define WINVM_NO_PAGE	((pgoff_t)-1)

/*
 * Reclaim may have unmapped a page of this mm with its TLB flush deferred
 * (TTU_BATCH_FLUSH) and a fault have mapped it again read-only since: a
 * CPU may still write it through the stale writable entry, and no walk
 * here flushes a PTE it does not change.  Zapping page @idx, which is
 * mapped (so its page table exists), performs the pending flush for the
 * whole mm (flush_tlb_batched_pending() in zap_pte_range()).  The mm's
 * counter stays zero until its first batched unmap, so only a process
 * that has seen reclaim pays the zap (and one fault on that page).
 */
static void winvm_flush_deferred(struct winvm_alloc *alloc, pgoff_t idx)
{
#ifdef CONFIG_ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH
	unsigned long addr = alloc->origin + (idx << PAGE_SHIFT);

	if (idx != WINVM_NO_PAGE && atomic_read(&alloc->wmm->mm->tlb_flush_batched))
		winvm_zap(alloc, addr, addr + PAGE_SIZE);
#endif
}

/*
 * Are the PTEs of [start, end) all small?  winvm's tmpfs is mounted
 * huge=never and its VMAs are VM_NOHUGEPAGE; only MADV_HUGEPAGE (with
 * root's shmem_enabled=force) could bring a PMD mapping, where the page
 * walkers below would WARN.
 */
static bool winvm_ptes_small(struct winvm_alloc *alloc, unsigned long start,
			     unsigned long end)
{
	struct vm_area_struct *vma;

	for (vma = find_vma(alloc->wmm->mm, start); vma && vma->vm_start < end;
	     vma = find_vma(alloc->wmm->mm, vma->vm_end))
		if (winvm_vma_is(vma, alloc) && !(vma->vm_flags & VM_NOHUGEPAGE))
			return false;
	return true;
}

/* Ranges shorter than this are write-protected a folio at a time. */
#define WINVM_WP_FEW	8

/*
 * Write-protect the locked folio @folio of @mapping in place with
 * folio_mkclean(): the kernel's own per-page write-protect, which walks
 * every VMA that maps the folio (here only the allocation's own), flushes
 * the TLB, tells MMU notifiers and clears the PTEs' dirty bits; the folio
 * keeps the dirt.  With the folio locked no migration of it is under way,
 * so no writable migration entry can bring write back afterwards.
 * Returns whether it is mapped (false: mapped nowhere, or truncated).
 */
static bool winvm_folio_wrprotect(struct folio *folio, struct address_space *mapping)
{
	if (folio->mapping != mapping || !folio_mapped(folio))
		return false;
	if (folio_mkclean(folio))
		folio_mark_dirty(folio);
	return true;
}

/*
 * Write-protect the resident folios of [idx, last] one by one
 * (winvm_folio_wrprotect()).  Returns whether a resident folio was mapped
 * nowhere; *mapped gets one that is mapped.
 */
static bool winvm_wrprotect_folios(struct address_space *mapping, pgoff_t idx,
				   pgoff_t last, pgoff_t *mapped)
{
	struct folio_batch fbatch;
	bool unmapped = false;
	struct folio *folio;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &idx, last, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			folio = fbatch.folios[i];
			folio_lock(folio);
			if (winvm_folio_wrprotect(folio, mapping)) {
				if (*mapped == WINVM_NO_PAGE)
					*mapped = folio->index;
			} else if (folio->mapping == mapping) {
				/* (Truncated meanwhile: then it is mapped nowhere.) */
				unmapped = true;
			}
			folio_unlock(folio);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return unmapped;
}

#ifdef CONFIG_MAPPING_DIRTY_HELPERS
/* Folios held locked at once by the batched write-protect: a page of pointers. */
#define WINVM_WP_CHUNK	(PAGE_SIZE / sizeof(struct folio *))

/*
 * Take and lock the resident folios of [idx, last] (at most
 * WINVM_WP_CHUNK pages) into @folios.  Locked, a folio cannot be migrated
 * (no writable migration entry can come back after the walk) nor be
 * unmapped by reclaim.  Returns the count; *unmapped is set if one is
 * mapped nowhere, or was truncated or migrated before we got its lock.
 */
static unsigned int winvm_folios_lock(struct address_space *mapping, pgoff_t idx,
				      pgoff_t last, struct folio **folios, bool *unmapped,
				      pgoff_t *mapped)
{
	struct folio_batch fbatch;
	unsigned int i, n = 0;
	struct folio *folio;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &idx, last, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			folio = fbatch.folios[i];
			folio_lock(folio);
			if (folio->mapping != mapping || !folio_mapped(folio))
				*unmapped = true;
			else if (*mapped == WINVM_NO_PAGE)
				*mapped = folio->index;
			folios[n++] = folio;
		}
		/* The references move to @folios. */
		folio_batch_init(&fbatch);
	}
	return n;
}

static void winvm_folios_unlock(struct folio **folios, unsigned int n)
{
	while (n--) {
		folio_unlock(folios[n]);
		folio_put(folios[n]);
	}
}

/*
 * The batched form, a chunk at a time: one page-table walk that takes
 * write away and one that cleans the dirty bits, each with one TLB flush
 * and one MMU-notifier call per VMA, instead of an rmap walk and a flush
 * per page.  The walks act on every VMA of the file's i_mmap in the range
 * and stop at the first one that is not shared-writable; a private
 * allocation's offsets are mapped only by its own VMAs (and their copies
 * in a child), which all are.
 *
 * Cleaning a PTE's dirty bit loses nothing: every writable PTE of a
 * private allocation maps a folio already marked dirty.  Write faults mark
 * it (fault_dirty_shared_page(), under the folio lock), winvm_mkwrite()
 * marks it, and a shmem folio is only cleaned by swap-out, once unmapped.
 * So the cleaning walk's record of what it cleaned is not needed.
 */
static bool winvm_wrprotect_chunk(struct address_space *mapping, pgoff_t idx,
				  pgoff_t last, struct folio **folios, pgoff_t *mapped)
{
	DECLARE_BITMAP(cleaned, WINVM_WP_CHUNK);
	pgoff_t first = 0, stop = 0;
	bool unmapped = false;
	unsigned int n;

	n = winvm_folios_lock(mapping, idx, last, folios, &unmapped, mapped);
	/* No resident folio, no PTE (truncation and reclaim unmap first). */
	if (!n)
		return unmapped;
	wp_shared_mapping_range(mapping, idx, last - idx + 1);
	clean_record_shared_mapping_range(mapping, idx, last - idx + 1, idx, cleaned,
					  &first, &stop);
	winvm_folios_unlock(folios, n);
	return unmapped;
}

/*
 * Move *idx on to the first resident folio of [*idx, last]; false if there
 * is none.  So a huge range costs what is resident in it, not its size.
 */
static bool winvm_next_resident(struct address_space *mapping, pgoff_t *idx, pgoff_t last)
{
	struct folio_batch fbatch;
	pgoff_t start = *idx;
	bool found;

	folio_batch_init(&fbatch);
	found = filemap_get_folios(mapping, &start, last, &fbatch);
	if (found)
		*idx = max(*idx, fbatch.folios[0]->index);
	folio_batch_release(&fbatch);
	return found;
}

/* Write-protect [idx, last] in chunks; false if that cannot be done. */
static bool winvm_wrprotect_batch(struct winvm_alloc *alloc, pgoff_t idx,
				  pgoff_t last, bool *unmapped, pgoff_t *mapped)
{
	struct address_space *mapping = alloc->shm->f_mapping;
	struct folio **folios;
	pgoff_t end;

	folios = kmalloc_array(WINVM_WP_CHUNK, sizeof(*folios), GFP_KERNEL);
	if (!folios)
		return false;
	*unmapped = false;
	for (; idx <= last && winvm_next_resident(mapping, &idx, last); idx = end + 1) {
		end = min(last, idx + WINVM_WP_CHUNK - 1);
		*unmapped |= winvm_wrprotect_chunk(mapping, idx, end, folios, mapped);
		cond_resched();
	}
	kfree(folios);
	return true;
}
#else
static bool winvm_wrprotect_batch(struct winvm_alloc *alloc, pgoff_t idx,
				  pgoff_t last, bool *unmapped, pgoff_t *mapped)
{
	return false;
}
#endif

/*
 * Take write away from every PTE of [start, end) of a private allocation
 * and keep the PTEs, so reads after READWRITE -> READONLY cost nothing and
 * the next write goes through ->page_mkwrite, which reads the new state.
 * The dirty bits go too, so that nothing that trusts a dirty PTE (NUMA
 * hinting and mprotect on 6.12, can_change_pte_writable()) makes it
 * writable again without ->page_mkwrite.
 */
void winvm_wrprotect(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	struct address_space *mapping = alloc->shm->f_mapping;
	pgoff_t idx = winvm_pgoff(alloc, start), last = winvm_pgoff(alloc, end) - 1;
	pgoff_t mapped = WINVM_NO_PAGE;
	bool unmapped;

	mmap_assert_write_locked(alloc->wmm->mm);
	/* A few pages cost less one by one than by two walks and a lock pass. */
	if (last - idx < WINVM_WP_FEW || !winvm_ptes_small(alloc, start, end) ||
	    !winvm_wrprotect_batch(alloc, idx, last, &unmapped, &mapped))
		unmapped = winvm_wrprotect_folios(mapping, idx, last, &mapped);
	/*
	 * A resident folio mapped nowhere may have just been unmapped by
	 * reclaim with its TLB flush deferred (TTU_BATCH_FLUSH), so another
	 * CPU may still write it through a stale entry; neither walk sees a
	 * mapping to flush.  The zap flushes what is pending for the mm
	 * (flush_tlb_batched_pending() in zap_pte_range()).
	 */
	if (unmapped)
		winvm_zap(alloc, start, end);
	else
		winvm_flush_deferred(alloc, mapped);
}

/*
 * Write-protecting a list of pages (write watch's reset, watch_ioctl.c).
 * Only the listed pages need it: the others in between were not written
 * since the last reset, so their PTEs are read-only already, and one that
 * is written meanwhile stays recorded however its PTE ends up.  The list
 * is cut into spans at gaps of WINVM_WP_LIST_GAP pages or more.  A span
 * whose listed pages are at least one in WINVM_WP_LIST_DENSE is
 * write-protected by a page-table walk, which visits every PTE of its
 * range, and then checked and cleaned by a second (winvm_wp_check()); the
 * others a folio at a time (an rmap walk and a TLB flush each).  Measured
 * under TCG a PTE visit of two walks costs about 1/54 of a folio's
 * write-protect (bench/watch.c: 1 %, 3 % and 50 % written).
 */
#define WINVM_WP_LIST_GAP	512
#define WINVM_WP_LIST_DENSE	48

/* What the check found of a listed page (winvm_wrprotect_list()'s @held). */
enum {
	WINVM_WP_DONE,		/* read-only, clean, nobody else holds it */
	WINVM_WP_HELD,		/* the same, but the kernel may still write it */
	WINVM_WP_SLOW,		/* anything else: done again a folio at a time */
};

struct winvm_wp_list {
	struct winvm_alloc *alloc;
	struct address_space *mapping;
	const pgoff_t *pages;
	u8 *held;
	winvm_held_fn is_held;
	unsigned int next, end;	/* the listed pages the check has still to see */
	pgoff_t mapped;		/* a page seen mapped, or WINVM_NO_PAGE */
	bool batch;		/* the page-table walks may be used */
};

/*
 * Take write away from [first, last] with one walk, which flushes the TLB
 * (the dirty bits are left to winvm_wp_check_pte()).
 */
static void winvm_wp_walk(struct address_space *mapping, pgoff_t first, pgoff_t last)
{
#ifdef CONFIG_MAPPING_DIRTY_HELPERS
	wp_shared_mapping_range(mapping, first, last - first + 1);
#endif
}

/*
 * The check's look at one present-or-swapped PTE, under its lock: is a
 * listed page now read-only?  Then its dirty bit goes too, so nothing
 * that trusts a dirty PTE makes it writable again (see winvm_wrprotect());
 * no TLB flush is needed for that: the walk before flushed write away,
 * and a CPU sets the dirty bit only through a writable entry (a lost
 * accessed bit from a racing hardware update is harmless).  The walk
 * skips what is not present, so a migration entry it met may have been
 * turned back into a writable PTE since, or still be one; such a page,
 * and one whose PTE is gone (reclaim may have unmapped it with its TLB
 * flush deferred, see winvm_wrprotect()), stays WINVM_WP_SLOW.
 */
static int winvm_wp_check_pte(pte_t *ptep, unsigned long addr, void *data)
{
	struct winvm_wp_list *l = data;
	pgoff_t idx = winvm_pgoff(l->alloc, addr);
	pte_t pte = ptep_get(ptep);
	struct folio *folio;

	while (l->next < l->end && l->pages[l->next] < idx)
		l->next++;
	if (l->next == l->end || l->pages[l->next] != idx)
		return 0;
	if (pte_present(pte))
		l->mapped = idx;
	if (pte_present(pte) && !pte_write(pte) && !pte_special(pte)) {
		if (pte_dirty(pte))
			set_pte_at(l->alloc->wmm->mm, addr, ptep, pte_mkclean(pte));
		folio = page_folio(pte_page(pte));
		l->held[l->next] = l->is_held(folio, 0) ? WINVM_WP_HELD : WINVM_WP_DONE;
	}
	l->next++;
	return 0;
}

/*
 * The second walk over listed pages [i, end), after the one that took
 * write away: every PTE of the allocation's VMAs in their range, under
 * the PTE locks, and no fault can add one (the VMAs are write-locked).
 */
static void winvm_wp_check(struct winvm_wp_list *l, unsigned int i, unsigned int end)
{
	struct winvm_alloc *alloc = l->alloc;
	unsigned long start = alloc->origin + (l->pages[i] << PAGE_SHIFT);
	unsigned long stop = alloc->origin + ((l->pages[end - 1] + 1) << PAGE_SHIFT);
	struct vm_area_struct *vma;
	unsigned long from, to;

	l->next = i;
	l->end = end;
	for (vma = find_vma(alloc->wmm->mm, start); vma && vma->vm_start < stop;
	     vma = find_vma(alloc->wmm->mm, vma->vm_end)) {
		if (!winvm_vma_is(vma, alloc))
			continue;
		from = max(start, vma->vm_start);
		to = min(stop, vma->vm_end);
		/* (An error leaves the rest WINVM_WP_SLOW.) */
		if (apply_to_existing_page_range(vma->vm_mm, from, to - from,
						 winvm_wp_check_pte, l))
			return;
	}
}

/*
 * Listed page @i the slow way: with its folio locked no migration or
 * reclaim of it is under way; write-protect it (winvm_folio_wrprotect()),
 * ask whether the kernel may still write it, and zap it if it is mapped
 * nowhere (a deferred TLB flush).
 */
static void winvm_wp_one(struct winvm_wp_list *l, unsigned int i)
{
	unsigned long addr = l->alloc->origin + (l->pages[i] << PAGE_SHIFT);
	struct folio *folio;
	bool mapped;

	l->held[i] = WINVM_WP_DONE;
	/* (A miss is NULL on 6.1, ERR_PTR(-ENOENT) on 6.12.) */
	folio = filemap_get_folio(l->mapping, l->pages[i]);
	if (IS_ERR_OR_NULL(folio))
		return;
	folio_lock(folio);
	mapped = winvm_folio_wrprotect(folio, l->mapping);
	if (mapped)
		l->mapped = l->pages[i];
	if (l->is_held(folio, 1))
		l->held[i] = WINVM_WP_HELD;
	folio_unlock(folio);
	folio_put(folio);
	if (!mapped)
		winvm_zap(l->alloc, addr, addr + PAGE_SIZE);
}

/* Write-protect listed pages [i, end). */
static void winvm_wp_list_span(struct winvm_wp_list *l, unsigned int i, unsigned int end)
{
	pgoff_t pages = l->pages[end - 1] - l->pages[i] + 1;

	/* The check marks what it finds done; the rest is done a folio at a time. */
	memset(l->held + i, WINVM_WP_SLOW, end - i);
	if (l->batch && pages > WINVM_WP_FEW && pages <= WINVM_WP_LIST_DENSE * (end - i)) {
		winvm_wp_walk(l->mapping, l->pages[i], l->pages[end - 1]);
		winvm_wp_check(l, i, end);
	}
	for (; i < end; i++)
		if (l->held[i] == WINVM_WP_SLOW)
			winvm_wp_one(l, i);
}

/*
 * Write-protect the pages at shm offsets @pages[0..n) (ascending) of a
 * private allocation.  @held[i] is then set (non-zero) if @is_held says
 * the kernel may still write page i without a fault, asked after its PTEs
 * are write-protected and the TLBs flushed, while nothing can map it anew.
 */
void winvm_wrprotect_list(struct winvm_alloc *alloc, const pgoff_t *pages, unsigned int n,
			  u8 *held, winvm_held_fn is_held)
{
	unsigned long first = alloc->origin + (pages[0] << PAGE_SHIFT);
	unsigned long end = alloc->origin + ((pages[n - 1] + 1) << PAGE_SHIFT);
	struct winvm_wp_list l = {
		.alloc = alloc, .mapping = alloc->shm->f_mapping, .pages = pages,
		.held = held, .is_held = is_held, .mapped = WINVM_NO_PAGE,
		.batch = IS_ENABLED(CONFIG_MAPPING_DIRTY_HELPERS) &&
			 winvm_ptes_small(alloc, first, end),
	};
	unsigned int i, span;

	mmap_assert_write_locked(alloc->wmm->mm);
	for (i = 0; i < n; i = span) {
		for (span = i + 1; span < n && pages[span] - pages[span - 1] < WINVM_WP_LIST_GAP;
		     span++)
			;
		winvm_wp_list_span(&l, i, span);
	}
	winvm_flush_deferred(alloc, l.mapped);
	for (i = 0; i < n; i++)
		held[i] = held[i] == WINVM_WP_HELD;
}

static int winvm_pte_grant_write(pte_t *ptep, unsigned long addr, void *data)
{
	struct vm_area_struct *vma = data;
	pte_t pte = ptep_get(ptep);

	/* Not present (a migration entry, say): the next write faults. */
	if (!pte_present(pte) || pte_write(pte) || pte_special(pte))
		return 0;
	/*
	 * Dirty now, PTE and folio, as the write fault would have made them
	 * (winvm_wrprotect_chunk() relies on the folio's).  The present PTE,
	 * under its lock, keeps truncation away from the folio.
	 */
	folio_mark_dirty(page_folio(pte_page(pte)));
	set_pte_at(vma->vm_mm, addr, ptep, pte_mkdirty(winvm_pte_mkwrite(pte)));
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
	struct vm_area_struct *vma;
	unsigned long from, to;

	mmap_assert_write_locked(mm);
	for (vma = find_vma(mm, start); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		/*
		 * Past MADV_HUGEPAGE (and root's shmem_enabled=force) a PMD
		 * could map here, where the walk would WARN: leave such VMAs
		 * to write faults.
		 */
		if (!winvm_vma_is(vma, alloc) || !(vma->vm_flags & VM_WRITE) ||
		    !(vma->vm_flags & VM_NOHUGEPAGE))
			continue;
		from = max(start, vma->vm_start);
		to = min(end, vma->vm_end);
		apply_to_existing_page_range(mm, from, to - from,
					     winvm_pte_grant_write, vma);
	}
}
