// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one path by which pages of an allocation change protection: commit
 * (MEM_COMMIT, private memory or a view) and MEM_PROTECT.  In order: save
 * the states, set the new ones, bring the PTEs in line (pte.c: dropped,
 * write-protected or made writable in place), switch a view to
 * copy-on-write, split or merge VMAs by execute class, and on any failure
 * put the saved states back.
 *
 * The caller validates the request (and chooses its NTSTATUS) with
 * mmap_lock held for writing, calls winvm_change_begin() under that lock,
 * drops it, and calls winvm_change_end(), which does the VMA surgery
 * (vm_mmap() takes mmap_lock itself) and the cleanup.
 */

#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "winvm.h"

/* What the PTEs already in a range need after a change (T-WP). */
enum winvm_pte_fix {
	WINVM_PTES_KEEP,	/* nothing is taken away */
	WINVM_PTES_WRPROTECT,	/* only write is: write-protect in place */
	WINVM_PTES_ZAP,		/* reads are, or the PTE maps another page */
};

/*
 * What do the committed pages of [first, stop) lose under @prot?  Only
 * private memory is write-protected in place: a view's PTE may map the
 * section's page where the new state wants the view's copy, or the
 * reverse, so a view's narrowing always drops them.
 */
static enum winvm_pte_fix winvm_change_ptes(struct winvm_alloc *alloc, pgoff_t first,
					    pgoff_t stop, u32 prot)
	__must_hold(&alloc->state_lock)
{
	enum winvm_pte_fix fix = WINVM_PTES_KEEP;
	pgoff_t idx, next;
	u32 st;

	lockdep_assert_held(&alloc->state_lock);
	for (idx = first; idx < stop; idx = next) {
		st = winvm_eff_span(alloc, idx, stop, &next);
		if (!(st & WINVM_PS_COMMIT) || !winvm_prot_narrows(st, prot))
			continue;
		if (alloc->section || winvm_prot_narrows_read(st, prot))
			return WINVM_PTES_ZAP;
		fix = WINVM_PTES_WRPROTECT;
	}
	return fix;
}

/*
 * Set the new states.  A view keeps its private copies (the copied flag
 * survives), so it goes span by span; private memory is one store.
 */
static int winvm_change_set(struct winvm_change *c, pgoff_t first, pgoff_t stop)
	__must_hold(&c->alloc->state_lock)
{
	struct winvm_alloc *alloc = c->alloc;
	u32 new = winvm_prot_state(c->prot);
	pgoff_t idx, next;
	int ret = 0;
	u32 st;

	lockdep_assert_held(&alloc->state_lock);
	if (c->commit && alloc->section && alloc->section->reserve) {
		/* Commit belongs to the section, protection to each view. */
		ret = winvm_section_commit(alloc->section, first, stop - 1);
		if (ret)
			return ret;
	}
	if (!alloc->section)
		return winvm_ps_set(&alloc->pages, first, stop - 1, new);
	for (idx = first; idx < stop && !ret; idx = next) {
		st = winvm_eff_span(alloc, idx, stop, &next);
		ret = winvm_ps_set(&alloc->pages, idx, next - 1, new | (st & WINVM_PS_COPIED));
	}
	return ret;
}

/*
 * Bring the PTEs of the range in line with the new states.  A change that
 * takes nothing away from private memory and leaves every page writable
 * makes the read-only PTEs writable at once (write faults would find
 * nothing to refuse).
 */
static void winvm_change_fix_ptes(struct winvm_change *c, enum winvm_pte_fix fix)
{
	struct winvm_alloc *alloc = c->alloc;

	switch (fix) {
	case WINVM_PTES_ZAP:
		winvm_zap(alloc, c->start, c->end);
		break;
	case WINVM_PTES_WRPROTECT:
		winvm_wrprotect(alloc, c->start, c->end);
		break;
	case WINVM_PTES_KEEP:
		/* (A watched page stays read-only until its write is recorded.) */
		if (!c->commit && !alloc->section && !alloc->watch &&
		    winvm_prot_allows(c->prot, WINVM_EXCEPTION_WRITE_FAULT))
			winvm_mkwrite(alloc, c->start, c->end);
		break;
	}
}

/*
 * First half, under mmap_lock (write): the new states, and the PTEs they
 * no longer allow gone.  Takes a reference on c->alloc for the second half.
 */
int winvm_change_begin(struct winvm_mm *wmm, struct winvm_change *c)
{
	struct winvm_alloc *alloc = c->alloc;
	pgoff_t first = winvm_pgoff(alloc, c->start), stop = winvm_pgoff(alloc, c->end);
	enum winvm_pte_fix fix = WINVM_PTES_KEEP;
	int ret = -ENOMEM;

	lockdep_assert_held(&wmm->op_lock);
	mmap_assert_write_locked(wmm->mm);
	winvm_lock_vmas(alloc, c->start, c->end);
	kref_get(&alloc->ref);
	mutex_lock(&alloc->state_lock);
	c->snap = winvm_ps_save(&alloc->pages, first, stop);
	if (!c->snap)
		goto out;
	/* (Reserved pages have no PTEs: only committed ones can need a fix.) */
	fix = winvm_change_ptes(alloc, first, stop, c->prot);
	ret = winvm_change_set(c, first, stop);
	if (ret)
		winvm_ps_restore(&alloc->pages, c->snap);
out:
	mutex_unlock(&alloc->state_lock);
	if (ret)
		return ret;
	c->exec_ok = winvm_exec_matches(wmm->mm, alloc, c->start, c->end,
					winvm_prot_is_exec(c->prot));
	c->make_cow = alloc->section && !alloc->cow_file && winvm_prot_is_copy(c->prot);
	/* The surgery in winvm_change_end() replaces the VMAs, and their PTEs. */
	if (c->exec_ok)
		winvm_change_fix_ptes(c, fix);
	else if (fix != WINVM_PTES_KEEP)
		winvm_zap(alloc, c->start, c->end);
	return 0;
}

/* Give a view its private-copy file, so its pages may be write-copy. */
static int winvm_view_make_cow(struct winvm_mm *wmm, struct winvm_alloc *alloc)
{
	bool had_write = winvm_alloc_writable(alloc);
	struct file *cow;

	lockdep_assert_held(&wmm->op_lock);
	if (alloc->cow_file)
		return 0;
	cow = winvm_cow_file(alloc->section);
	if (IS_ERR(cow))
		return PTR_ERR(cow);
	mmap_write_lock(wmm->mm);
	winvm_lock_vmas(alloc, alloc->base, alloc->base + alloc->size);
	alloc->cow_file = cow;
	/*
	 * Between winvm_change_begin() and here a write to a page already
	 * write-copy met no cow_file and mapped the section's page writable;
	 * drop such PTEs, so the next write makes the copy (T-COW).
	 */
	if (had_write)
		winvm_zap(alloc, alloc->base, alloc->base + alloc->size);
	mmap_write_unlock(wmm->mm);
	/* A view that could not write before needs VM_WRITE for its copies. */
	return had_write ? 0 : winvm_remap_all(wmm, alloc);
}

/* The VMA surgery failed: put the old states back, drop PTEs made since. */
static void winvm_change_undo(struct winvm_mm *wmm, struct winvm_change *c)
{
	struct winvm_alloc *alloc = c->alloc;

	mmap_write_lock(wmm->mm);
	winvm_lock_vmas(alloc, c->start, c->end);
	mutex_lock(&alloc->state_lock);
	winvm_ps_restore(&alloc->pages, c->snap);
	mutex_unlock(&alloc->state_lock);
	winvm_zap(alloc, c->start, c->end);
	mmap_write_unlock(wmm->mm);
	winvm_sync_exec(wmm, alloc, c->start, c->end);
}

/*
 * Second half, without mmap_lock: switch to copy-on-write and fix the
 * execute class if needed, undo everything if that fails, and clean up.
 * @ret is what winvm_change_begin() returned; returns the outcome.
 */
int winvm_change_end(struct winvm_mm *wmm, struct winvm_change *c, int ret)
{
	lockdep_assert_held(&wmm->op_lock);
	if (ret)
		goto out;
	if (c->make_cow)
		ret = winvm_view_make_cow(wmm, c->alloc);
	if (!ret && !c->exec_ok)
		ret = winvm_sync_exec(wmm, c->alloc, c->start, c->end);
	if (ret)
		winvm_change_undo(wmm, c);
out:
	winvm_ps_snap_free(c->snap);
	c->snap = NULL;
	winvm_alloc_put(c->alloc);
	return ret;
}
