/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The page-state type: what NT knows about each page of a range (committed,
 * protection, guard, reset, copied), kept as maximal runs of equal pages in
 * a maple tree.  Allocations keep their pages' state in one, sections their
 * committed pages in another.  Pages without an entry are reserved.
 */
#ifndef WINVM_STATE_H
#define WINVM_STATE_H

#include <linux/atomic.h>
#include <linux/maple_tree.h>
#include <linux/mutex.h>
#include <linux/types.h>

/* One page's state, stored as an xa value; 0 (no entry) is reserved. */
#define WINVM_PS_PROT		0x0ffU	/* one WINVM_PAGE_* base value */
#define WINVM_PS_GUARD		0x100U	/* == WINVM_PAGE_GUARD */
#define WINVM_PS_COMMIT		0x1000U
#define WINVM_PS_RESET		0x2000U	/* MEM_RESET discarded the data */
#define WINVM_PS_COPIED		0x4000U	/* write-copy view: private copy made */

/*
 * Runs cost kernel memory no cgroup is charged for (the maple tree
 * preallocates its nodes without __GFP_ACCOUNT), so the runs of all the
 * page-state trees of one process come out of one budget (T-ALLOC).
 */
struct winvm_budget {
	atomic_long_t used;
	unsigned long limit;	/* 0: the max_runs module parameter */
};

/*
 * Lock: every field is protected by *lock, which is also the tree's
 * external lock; the budget is shared and atomic.
 */
struct winvm_pstate {
	struct maple_tree tree;		/* page index -> state */
	struct mutex *lock;
	struct winvm_budget *budget;	/* NULL: not capped */
	unsigned long committed;	/* pages with WINVM_PS_COMMIT */
	long runs;			/* non-empty runs, charged to budget */
};

/* The states of a range, kept so that a failed change can be undone. */
struct winvm_ps_snap {
	unsigned int n;
	struct {
		pgoff_t first, last;
		u32 st;
	} run[];
};

void winvm_ps_init(struct winvm_pstate *ps, struct mutex *lock, struct winvm_budget *budget);
void winvm_ps_destroy(struct winvm_pstate *ps);
u32 winvm_ps_run(struct winvm_pstate *ps, pgoff_t idx, pgoff_t *first, pgoff_t *last);
u32 winvm_ps_span(struct winvm_pstate *ps, pgoff_t idx, pgoff_t limit, pgoff_t *next);
int winvm_ps_set(struct winvm_pstate *ps, pgoff_t first, pgoff_t last, u32 st);
int winvm_ps_set_nocap(struct winvm_pstate *ps, pgoff_t first, pgoff_t last, u32 st);
int winvm_ps_copy(struct winvm_pstate *dst, struct winvm_pstate *src, pgoff_t first,
		  pgoff_t stop);
struct winvm_ps_snap *winvm_ps_save(struct winvm_pstate *ps, pgoff_t first, pgoff_t stop);
void winvm_ps_restore(struct winvm_pstate *ps, const struct winvm_ps_snap *snap);
void winvm_ps_snap_free(struct winvm_ps_snap *snap);

#endif /* WINVM_STATE_H */
