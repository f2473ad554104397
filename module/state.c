// SPDX-License-Identifier: GPL-2.0-only
/*
 * The page-state type (state.h).  A run in the tree is always a maximal
 * run of equal pages, so a query reads RegionSize straight off the tree,
 * and the committed-page and run counts are kept current by every change.
 */

#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "state.h"

static unsigned long max_runs = 1UL << 20;
module_param(max_runs, ulong, 0644);
MODULE_PARM_DESC(max_runs, "Most runs of per-page state one process may hold");

void winvm_ps_init(struct winvm_pstate *ps, struct mutex *lock, struct winvm_budget *budget)
{
	mt_init_flags(&ps->tree, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&ps->tree, lock);
	ps->lock = lock;
	ps->budget = budget;
	ps->committed = 0;
	ps->runs = 0;
}

/* Free the tree and give its runs back; the lock must not be held. */
void winvm_ps_destroy(struct winvm_pstate *ps)
{
	/* The tree uses the owner's mutex, not its own spinlock: no mtree_destroy(). */
	mutex_lock(ps->lock);
	__mt_destroy(&ps->tree);
	if (ps->budget)
		atomic_long_sub(ps->runs, &ps->budget->used);
	ps->runs = 0;
	ps->committed = 0;
	mutex_unlock(ps->lock);
}

/* State of page @idx; *first and *last (if given) receive its run. */
u32 winvm_ps_run(struct winvm_pstate *ps, pgoff_t idx, pgoff_t *first, pgoff_t *last)
{
	MA_STATE(mas, &ps->tree, idx, idx);
	void *entry;

	lockdep_assert_held(ps->lock);
	entry = mas_walk(&mas);
	if (first)
		*first = mas.index;
	if (last)
		*last = mas.last;
	return entry ? xa_to_value(entry) : 0;
}

/*
 * State of page @idx, with *next set to the first page after its run, but
 * no further than @limit: iterate with
 * for (i = a; i < b; i = next) st = winvm_ps_span(ps, i, b, &next);
 */
u32 winvm_ps_span(struct winvm_pstate *ps, pgoff_t idx, pgoff_t limit, pgoff_t *next)
{
	pgoff_t last;
	u32 st = winvm_ps_run(ps, idx, NULL, &last);

	*next = last >= limit - 1 ? limit : last + 1;
	return st;
}

/*
 * What storing @st over [first, last] does to the counts: *runs and
 * *committed receive the change, and [first, last] grows to take in equal
 * neighbours, so that runs stay maximal.
 */
static void winvm_ps_delta(struct winvm_pstate *ps, pgoff_t *first, pgoff_t *last,
			   u32 st, long *runs, long *committed)
{
	pgoff_t f, l, rf, rl, idx;
	u32 cur;

	*runs = st ? 1 : 0;
	*committed = st & WINVM_PS_COMMIT ? *last - *first + 1 : 0;
	for (idx = *first; ; idx = rl + 1) {
		/* A range may hold as many runs as the budget allows. */
		cond_resched();
		cur = winvm_ps_run(ps, idx, &rf, &rl);
		if (cur) {
			/* This run goes; what sticks out on either side stays. */
			*runs += (rf < *first) + (rl > *last) - 1;
			if (cur & WINVM_PS_COMMIT)
				*committed -= min(rl, *last) - max(rf, *first) + 1;
		}
		if (rl >= *last)
			break;
	}
	if (!st)
		return;
	if (*first && winvm_ps_run(ps, *first - 1, &f, NULL) == st) {
		*first = f;
		(*runs)--;
	}
	if (*last < ULONG_MAX && winvm_ps_run(ps, *last + 1, NULL, &l) == st) {
		*last = l;
		(*runs)--;
	}
}

static bool winvm_ps_over_budget(struct winvm_pstate *ps, long runs)
{
	unsigned long limit;

	if (!ps->budget || runs <= 0)
		return false;
	limit = ps->budget->limit ? ps->budget->limit : READ_ONCE(max_runs);
	return atomic_long_read(&ps->budget->used) + runs > limit;
}

static int __winvm_ps_set(struct winvm_pstate *ps, pgoff_t first, pgoff_t last, u32 st,
			  bool capped)
{
	MA_STATE(mas, &ps->tree, first, last);
	long runs, committed;
	int ret;

	lockdep_assert_held(ps->lock);
	winvm_ps_delta(ps, &first, &last, st, &runs, &committed);
	if (capped && winvm_ps_over_budget(ps, runs))
		return -ENOMEM;
	mas_set_range(&mas, first, last);
	ret = mas_store_gfp(&mas, st ? xa_mk_value(st) : NULL, GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret;
	ps->committed += committed;
	ps->runs += runs;
	if (ps->budget)
		atomic_long_add(runs, &ps->budget->used);
	return 0;
}

/* Store @st for pages [first, last]; -ENOMEM past the budget. */
int winvm_ps_set(struct winvm_pstate *ps, pgoff_t first, pgoff_t last, u32 st)
{
	return __winvm_ps_set(ps, first, last, st, true);
}

/*
 * The same without the budget, for paths that must not fail that way: the
 * fault path, and undoing or trimming a change.
 */
int winvm_ps_set_nocap(struct winvm_pstate *ps, pgoff_t first, pgoff_t last, u32 st)
{
	return __winvm_ps_set(ps, first, last, st, false);
}

/* Copy the states of [first, stop) of @src into @dst (an allocation split). */
int winvm_ps_copy(struct winvm_pstate *dst, struct winvm_pstate *src, pgoff_t first,
		  pgoff_t stop)
{
	pgoff_t idx, next;
	int ret = 0;
	u32 st;

	lockdep_assert_held(src->lock);
	lockdep_assert_held(dst->lock);
	for (idx = first; idx < stop && !ret; idx = next) {
		st = winvm_ps_span(src, idx, stop, &next);
		if (st)
			ret = winvm_ps_set_nocap(dst, idx, next - 1, st);
	}
	return ret;
}

/* A snapshot of [first, stop), or NULL without memory. */
struct winvm_ps_snap *winvm_ps_save(struct winvm_pstate *ps, pgoff_t first, pgoff_t stop)
{
	struct winvm_ps_snap *snap;
	pgoff_t idx, next;
	unsigned int n = 0;

	lockdep_assert_held(ps->lock);
	for (idx = first; idx < stop; idx = next, n++) {
		cond_resched();
		winvm_ps_span(ps, idx, stop, &next);
	}
	/*
	 * n follows the caller's runs (up to the budget and the gaps between
	 * them): far more than kmalloc may be asked for without a warning, so
	 * vmalloc when large and never warn (T-ALLOC).
	 */
	snap = kvmalloc(struct_size(snap, run, n), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!snap)
		return NULL;
	snap->n = n;
	for (idx = first, n = 0; idx < stop; idx = next, n++) {
		snap->run[n].st = winvm_ps_span(ps, idx, stop, &next);
		snap->run[n].first = idx;
		snap->run[n].last = next - 1;
	}
	return snap;
}

/*
 * Put a snapshot back.  Best effort: merging means this needs no more
 * runs than the snapshot had, but the tree may still need a node.
 */
void winvm_ps_restore(struct winvm_pstate *ps, const struct winvm_ps_snap *snap)
{
	unsigned int i;

	lockdep_assert_held(ps->lock);
	for (i = 0; i < snap->n; i++)
		winvm_ps_set_nocap(ps, snap->run[i].first, snap->run[i].last, snap->run[i].st);
}

void winvm_ps_snap_free(struct winvm_ps_snap *snap)
{
	kvfree(snap);
}
