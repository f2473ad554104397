// SPDX-License-Identifier: GPL-2.0-only
/*
 * The execute class: only VM_EXEC is VMA-wide (NX comes from
 * vm_page_prot), so an allocation is split into VMAs exactly where its
 * pages' execute permission changes, and merged again where it no longer
 * does.
 */

#include <linux/mm.h>
#include <linux/slab.h>

#include "winvm.h"

struct winvm_run {
	unsigned long start, end;
	int cls;		/* 1 exec, 0 not, -1 either (reserved pages) */
};

struct winvm_runs {
	struct winvm_run *v;
	unsigned int n, cap;
};

static int winvm_runs_add(struct winvm_runs *r, unsigned long start,
			  unsigned long end, int cls, bool merge)
{
	struct winvm_run *v;

	if (merge && r->n && r->v[r->n - 1].end == start && r->v[r->n - 1].cls == cls) {
		r->v[r->n - 1].end = end;
		return 0;
	}
	if (r->n == r->cap) {
		/*
		 * As many runs as the caller made VMAs or page-state runs: grow
		 * by hand with kvmalloc, since krealloc warns past the page
		 * allocator's largest order and kvrealloc differs by kernel.
		 */
		unsigned int cap = r->cap ? r->cap * 2 : 16;

		v = kvmalloc_array(cap, sizeof(*v), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!v)
			return -ENOMEM;
		if (r->n)
			memcpy(v, r->v, r->n * sizeof(*v));
		kvfree(r->v);
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct winvm_run){ start, end, cls };
	return 0;
}

/* Map every VMA of @alloc anew, e.g. after its backing file changed. */
int winvm_remap_all(struct winvm_mm *wmm, struct winvm_alloc *alloc)
{
	struct winvm_runs have = {};
	struct vm_area_struct *vma;
	unsigned long pos;
	unsigned int i;
	int ret = 0;

	lockdep_assert_held(&wmm->op_lock);
	mmap_read_lock(wmm->mm);
	for (pos = alloc->base; (vma = find_vma(wmm->mm, pos)) &&
	     vma->vm_start < alloc->base + alloc->size; pos = vma->vm_end) {
		if (!winvm_vma_is(vma, alloc))
			continue;
		ret = winvm_runs_add(&have, vma->vm_start, vma->vm_end,
				     !!(vma->vm_flags & VM_EXEC), false);
		if (ret)
			break;
	}
	mmap_read_unlock(wmm->mm);
	for (i = 0; i < have.n && !ret; i++)
		ret = winvm_map_range(wmm, alloc, have.v[i].start,
				      have.v[i].end - have.v[i].start, have.v[i].cls, true);
	kvfree(have.v);
	return ret;
}

/*
 * Give reserved ("either") runs a class, so VMAs stay few: they inherit
 * from the left, leading ones from the right (or @fallback); then merge
 * neighbours that now agree, in one pass (n is caller-sized).
 */
static void winvm_runs_settle(struct winvm_runs *plan, int fallback)
{
	unsigned int i, j;
	int cls = fallback;

	for (i = 0; i < plan->n; i++)
		if (plan->v[i].cls >= 0) {
			cls = plan->v[i].cls;
			break;
		}
	for (i = 0; i < plan->n; i++) {
		if (plan->v[i].cls < 0)
			plan->v[i].cls = cls;
		cls = plan->v[i].cls;
	}
	for (i = 1, j = 0; i < plan->n; i++) {
		if (plan->v[i].cls == plan->v[j].cls)
			plan->v[j].end = plan->v[i].end;
		else
			plan->v[++j] = plan->v[i];
	}
	if (plan->n)
		plan->n = j + 1;
}

/*
 * Work out the execute class each page of [start, end) needs: committed
 * executable pages need an exec VMA, other committed pages a non-exec one,
 * reserved pages take whatever their neighbour has.
 */
static int winvm_exec_plan(struct winvm_alloc *alloc, unsigned long start,
			   unsigned long end, int fallback, struct winvm_runs *plan)
{
	pgoff_t idx, next, stop = winvm_pgoff(alloc, end);
	int ret = 0, cls;
	u32 st;

	mmap_assert_locked(alloc->wmm->mm);
	mutex_lock(&alloc->state_lock);
	for (idx = winvm_pgoff(alloc, start); idx < stop && !ret; idx = next) {
		cond_resched();
		st = winvm_eff_span(alloc, idx, stop, &next);
		cls = st & WINVM_PS_COMMIT ? winvm_prot_is_exec(st) : -1;
		ret = winvm_runs_add(plan, alloc->origin + (idx << PAGE_SHIFT),
				     alloc->origin + (next << PAGE_SHIFT), cls, true);
	}
	mutex_unlock(&alloc->state_lock);
	if (!ret)
		winvm_runs_settle(plan, fallback);
	return ret;
}

/*
 * Make the VMAs around [start, end) carry VM_EXEC exactly where the pages
 * are executable.  Only the VMAs touching the range are considered, so the
 * cost follows the change, not the size of the allocation.
 */
int winvm_sync_exec(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end)
{
	struct mm_struct *mm = wmm->mm;
	struct winvm_runs have = {}, plan = {};
	struct vm_area_struct *vma;
	unsigned long lo, hi, pos;
	unsigned int i, j;
	int ret = 0;

	lockdep_assert_held(&wmm->op_lock);
	mmap_read_lock(mm);
	lo = start;
	vma = start > alloc->base ? vma_lookup(mm, start - 1) : NULL;
	if (vma && winvm_vma_is(vma, alloc))
		lo = vma->vm_start;
	pos = lo;
	while ((vma = vma_lookup(mm, pos)) && winvm_vma_is(vma, alloc)) {
		ret = winvm_runs_add(&have, vma->vm_start, vma->vm_end,
				     !!(vma->vm_flags & VM_EXEC), false);
		if (ret)
			break;
		pos = vma->vm_end;
		if (pos > end)
			break;
	}
	hi = pos;
	if (!ret && lo < hi)
		ret = winvm_exec_plan(alloc, lo, hi, have.n ? have.v[0].cls : 0, &plan);
	mmap_read_unlock(mm);
	if (ret || lo >= hi)
		goto out;

	/*
	 * A planned run is fine as it is only if exactly one existing VMA
	 * matches it; anything else is remapped, which also merges VMAs that
	 * were split earlier and now agree again.
	 */
	/* Both lists are sorted by address: walk them together (n is caller-sized). */
	for (i = 0, j = 0; i < plan.n && !ret; i++) {
		while (j < have.n && have.v[j].start < plan.v[i].start)
			j++;
		if (j < have.n && have.v[j].start == plan.v[i].start &&
		    have.v[j].end == plan.v[i].end && have.v[j].cls == plan.v[i].cls)
			continue;
		ret = winvm_map_range(wmm, alloc, plan.v[i].start,
				      plan.v[i].end - plan.v[i].start, plan.v[i].cls, true);
		cond_resched();
	}
out:
	kvfree(have.v);
	kvfree(plan.v);
	return ret;
}

/* True when every VMA of @alloc across [start, end) already has @exec. */
bool winvm_exec_matches(struct mm_struct *mm, struct winvm_alloc *alloc,
			unsigned long start, unsigned long end, bool exec)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	for (vma = vma_lookup(mm, start); vma && vma->vm_start < end;
	     vma = vma_lookup(mm, vma->vm_end)) {
		if (!winvm_vma_is(vma, alloc) || !!(vma->vm_flags & VM_EXEC) != exec)
			return false;
	}
	return true;
}
