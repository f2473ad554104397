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
 * Write-protect the resident folios of [idx, last] one by one with
 * folio_mkclean(): the kernel's own per-page write-protect, which walks
 * every VMA that maps the folio (here only the allocation's own), flushes
 * the TLB, tells MMU notifiers and clears the PTEs' dirty bits; the folio
 * keeps the dirt.  With the folio locked no migration of it is under way,
 * so no writable migration entry can bring write back afterwards.
 * Returns whether a resident folio was mapped nowhere.
 */
static bool winvm_wrprotect_folios(struct address_space *mapping, pgoff_t idx,
				   pgoff_t last)
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
				      pgoff_t last, struct folio **folios, bool *unmapped)
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
				  pgoff_t last, struct folio **folios)
{
	DECLARE_BITMAP(cleaned, WINVM_WP_CHUNK);
	pgoff_t first = 0, stop = 0;
	bool unmapped = false;
	unsigned int n;

	n = winvm_folios_lock(mapping, idx, last, folios, &unmapped);
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
				  pgoff_t last, bool *unmapped)
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
		*unmapped |= winvm_wrprotect_chunk(mapping, idx, end, folios);
		cond_resched();
	}
	kfree(folios);
	return true;
}
#else
static bool winvm_wrprotect_batch(struct winvm_alloc *alloc, pgoff_t idx,
				  pgoff_t last, bool *unmapped)
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
	bool unmapped;

	mmap_assert_write_locked(alloc->wmm->mm);
	/* A few pages cost less one by one than by two walks and a lock pass. */
	if (last - idx < WINVM_WP_FEW || !winvm_ptes_small(alloc, start, end) ||
	    !winvm_wrprotect_batch(alloc, idx, last, &unmapped))
		unmapped = winvm_wrprotect_folios(mapping, idx, last);
	/*
	 * A resident folio mapped nowhere may have just been unmapped by
	 * reclaim with its TLB flush deferred (TTU_BATCH_FLUSH), so another
	 * CPU may still write it through a stale entry; neither walk sees a
	 * mapping to flush.  The zap flushes what is pending for the mm
	 * (flush_tlb_batched_pending() in zap_pte_range()).
	 */
	if (unmapped)
		winvm_zap(alloc, start, end);
}

/*
 * Write-protecting a list of pages (write watch's reset, watch_ioctl.c).
 * Only the listed pages need it: the others in between were not written
 * since the last reset, so their PTEs are read-only already, and one that
 * is written meanwhile stays recorded however its PTE ends up.  So only
 * the listed folios are locked (against migration and reclaim, as in
 * winvm_wrprotect_chunk()).  The list is cut into spans at gaps of
 * WINVM_WP_LIST_GAP pages or more; a span whose listed pages are at
 * least one in WINVM_WP_LIST_DENSE is write-protected by the page-table
 * walks, which visit every PTE of their range, the others a folio at a
 * time (an rmap walk and a TLB flush each).  Measured under TCG a PTE
 * visit of the two walks costs about 1/54 of a folio's write-protect
 * (bench/watch.c: 1 %, 3 % and 50 % written).
 */
#define WINVM_WP_LIST_GAP	512
#define WINVM_WP_LIST_DENSE	48
/*
 * Where at least one page in WINVM_WP_LIST_CROWDED is listed, the listed
 * folios are looked up a batch at a time over the span (the unlisted
 * resident ones in it are taken and dropped), else one lookup each.
 */
#define WINVM_WP_LIST_CROWDED	4
/* Pages per walk: the cleaning walk's record, a bitmap on the stack. */
#define WINVM_WP_WINDOW		512

struct winvm_wp_list {
	struct address_space *mapping;
	const pgoff_t *pages;
	unsigned int n;
	struct folio **folios;	/* the locked folio of each listed page, or NULL */
	struct folio *prev;	/* the last folio locked */
	bool batch;		/* the page-table walks may be used */
};

/*
 * Take the folio @folio (a reference we hold) for listed page @i: lock it
 * unless it is the one locked last (a large folio, only ever past
 * MADV_HUGEPAGE, is locked once, for the first of its listed pages).
 */
static void winvm_wp_list_take(struct winvm_wp_list *l, unsigned int i, struct folio *folio)
{
	if (folio == l->prev) {
		folio_put(folio);
	} else {
		folio_lock(folio);
		l->prev = folio;
	}
	l->folios[i] = folio;
}

/* Lock the folios of sparse listed pages [i, end), looked up one by one. */
static void winvm_wp_list_lock_each(struct winvm_wp_list *l, unsigned int i, unsigned int end)
{
	struct folio *folio;

	for (; i < end; i++) {
		/* (A miss is NULL on 6.1, ERR_PTR(-ENOENT) on 6.12.) */
		folio = filemap_get_folio(l->mapping, l->pages[i]);
		l->folios[i] = NULL;
		if (!IS_ERR_OR_NULL(folio))
			winvm_wp_list_take(l, i, folio);
	}
}

/*
 * Lock the folios of dense listed pages [i, end), looked up a batch at a
 * time over their range: the resident folios of unlisted pages between
 * them are dropped at once.
 */
static void winvm_wp_list_lock_range(struct winvm_wp_list *l, unsigned int i, unsigned int end)
{
	pgoff_t idx = l->pages[i], last = l->pages[end - 1];
	struct folio_batch fbatch;
	struct folio *folio;
	unsigned int k;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(l->mapping, &idx, last, &fbatch)) {
		for (k = 0; k < folio_batch_count(&fbatch); k++) {
			folio = fbatch.folios[k];
			for (; i < end && l->pages[i] < folio->index; i++)
				l->folios[i] = NULL;
			if (i == end || l->pages[i] >= folio->index + folio_nr_pages(folio)) {
				folio_put(folio);
				continue;
			}
			/* The batch's reference moves to the first listed page. */
			winvm_wp_list_take(l, i, folio);
			for (i++; i < end && l->pages[i] - folio->index < folio_nr_pages(folio);
			     i++)
				l->folios[i] = folio;
		}
		folio_batch_init(&fbatch);
	}
	for (; i < end; i++)
		l->folios[i] = NULL;
}

/* Is the locked folio of listed page @i mapped where a walk would see it? */
static bool winvm_wp_list_mapped(struct winvm_wp_list *l, unsigned int i)
{
	struct folio *folio = l->folios[i];

	return folio->mapping == l->mapping && folio_mapped(folio);
}

/* Both walks over [first, last], a window at a time. */
static void winvm_wp_walk(struct address_space *mapping, pgoff_t first, pgoff_t last)
{
#ifdef CONFIG_MAPPING_DIRTY_HELPERS
	DECLARE_BITMAP(cleaned, WINVM_WP_WINDOW);
	pgoff_t from, nr, lo, hi;

	for (from = first; from <= last; from += nr) {
		nr = min_t(pgoff_t, last - from + 1, WINVM_WP_WINDOW);
		lo = 0;
		hi = 0;
		wp_shared_mapping_range(mapping, from, nr);
		clean_record_shared_mapping_range(mapping, from, nr, from, cleaned, &lo, &hi);
	}
#endif
}

/*
 * Lock and write-protect listed pages [i, end): by the walks over their
 * range if it is long and dense enough, else each mapped folio by itself
 * (folio_mkclean(), as winvm_wrprotect_folios() does).
 */
static void winvm_wp_list_span(struct winvm_wp_list *l, unsigned int i, unsigned int end)
{
	pgoff_t pages = l->pages[end - 1] - l->pages[i] + 1;
	bool dense = pages <= WINVM_WP_LIST_DENSE * (end - i);
	struct folio *folio;

	if (pages <= WINVM_WP_LIST_CROWDED * (end - i))
		winvm_wp_list_lock_range(l, i, end);
	else
		winvm_wp_list_lock_each(l, i, end);
	if (l->batch && dense && pages > WINVM_WP_FEW) {
		winvm_wp_walk(l->mapping, l->pages[i], l->pages[end - 1]);
		return;
	}
	for (; i < end; i++) {
		folio = l->folios[i];
		if (folio && (i == 0 || folio != l->folios[i - 1]) &&
		    winvm_wp_list_mapped(l, i) && folio_mkclean(folio))
			folio_mark_dirty(folio);
	}
}

/*
 * Write-protect the pages at shm offsets @pages[0..n) (ascending) of a
 * private allocation, and call @done on each listed page whose folio is
 * resident, with the folio still locked and its PTEs write-protected and
 * flushed: anything that can still write it now does so without a fault
 * (write watch asks whether it is pinned).  @folios has room for @n.
 */
void winvm_wrprotect_list(struct winvm_alloc *alloc, const pgoff_t *pages, unsigned int n,
			  struct folio **folios, winvm_wp_done_fn done)
{
	unsigned long first = alloc->origin + (pages[0] << PAGE_SHIFT);
	unsigned long end = alloc->origin + ((pages[n - 1] + 1) << PAGE_SHIFT);
	struct winvm_wp_list l = {
		.mapping = alloc->shm->f_mapping, .pages = pages, .n = n, .folios = folios,
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
	for (i = n; i--;) {
		if (!folios[i])
			continue;
		done(alloc, pages[i], folios[i]);
		if (i && folios[i] == folios[i - 1])
			continue;
		/* Unmapped by reclaim, its TLB flush maybe deferred: see winvm_wrprotect(). */
		if (!winvm_wp_list_mapped(&l, i))
			winvm_zap(alloc, alloc->origin + (pages[i] << PAGE_SHIFT),
				  alloc->origin + ((pages[i] + 1) << PAGE_SHIFT));
		folio_unlock(folios[i]);
		folio_put(folios[i]);
	}
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
