// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one path by which pages of an allocation change protection: commit
 * (MEM_COMMIT, private memory or a view) and MEM_PROTECT.  In order: save
 * the states, set the new ones, drop PTEs that grant more than the new
 * protection, switch a view to copy-on-write, split or merge VMAs by
 * execute class, and on any failure put the saved states back.
 *
 * The caller validates the request (and chooses its NTSTATUS) with
 * mmap_lock held for writing, calls winvm_change_begin() under that lock,
 * drops it, and calls winvm_change_end(), which does the VMA surgery
 * (vm_mmap() takes mmap_lock itself) and the cleanup.
 */

#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "winvm.h"

/* Does any committed page of [first, stop) lose an access under @prot? */
static bool winvm_change_narrows(struct winvm_alloc *alloc, pgoff_t first, pgoff_t stop,
				 u32 prot)
	__must_hold(&alloc->state_lock)
{
	pgoff_t idx, next;
	u32 st;

	lockdep_assert_held(&alloc->state_lock);
	for (idx = first; idx < stop; idx = next) {
		st = winvm_eff_span(alloc, idx, stop, &next);
		if ((st & WINVM_PS_COMMIT) && winvm_prot_narrows(st, prot))
			return true;
	}
	return false;
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
 * First half, under mmap_lock (write): the new states, and the PTEs they
 * no longer allow gone.  Takes a reference on c->alloc for the second half.
 */
int winvm_change_begin(struct winvm_mm *wmm, struct winvm_change *c)
{
	struct winvm_alloc *alloc = c->alloc;
	pgoff_t first = winvm_pgoff(alloc, c->start), stop = winvm_pgoff(alloc, c->end);
	bool zap = c->commit;
	int ret = -ENOMEM;

	lockdep_assert_held(&wmm->op_lock);
	mmap_assert_write_locked(wmm->mm);
	kref_get(&alloc->ref);
	mutex_lock(&alloc->state_lock);
	c->snap = winvm_ps_save(&alloc->pages, first, stop);
	if (!c->snap)
		goto out;
	zap = zap || winvm_change_narrows(alloc, first, stop, c->prot);
	ret = winvm_change_set(c, first, stop);
	if (ret)
		winvm_ps_restore(&alloc->pages, c->snap);
out:
	mutex_unlock(&alloc->state_lock);
	if (ret)
		return ret;
	if (zap)
		winvm_zap(alloc, c->start, c->end);
	c->exec_ok = winvm_exec_matches(wmm->mm, alloc, c->start, c->end,
					winvm_prot_is_exec(c->prot));
	c->make_cow = alloc->section && !alloc->cow_file && winvm_prot_is_copy(c->prot);
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
	alloc->cow_file = cow;
	mmap_write_unlock(wmm->mm);
	/* A view that could not write before needs VM_WRITE for its copies. */
	return had_write ? 0 : winvm_remap_all(wmm, alloc);
}

/* The VMA surgery failed: put the old states back, drop PTEs made since. */
static void winvm_change_undo(struct winvm_mm *wmm, struct winvm_change *c)
{
	struct winvm_alloc *alloc = c->alloc;

	mmap_write_lock(wmm->mm);
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
