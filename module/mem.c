// SPDX-License-Identifier: GPL-2.0-only
/*
 * The private-memory ioctls: NtAllocateVirtualMemory (reserve, commit,
 * reset), NtFreeVirtualMemory (decommit, release) and
 * NtProtectVirtualMemory.  Argument rules and status codes follow Windows
 * (docs/windows-rules.md, 1.2-1.4); every path validates before it
 * changes anything.
 */

#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "winvm.h"

/*
 * The allocation that holds all of [start, end), for commits and resets;
 * otherwise the status Windows gives: a granule another allocation lives
 * in conflicts (example E1), free space is not a view.  mmap_lock held.
 */
static u32 winvm_find_range(struct winvm_mm *wmm, unsigned long start,
			    unsigned long end, struct winvm_alloc **found)
{
	struct winvm_alloc *alloc = winvm_find_alloc(wmm, start);

	*found = alloc;
	if (alloc && end <= alloc->base + alloc->size &&
	    winvm_alloc_covers(wmm->mm, alloc, start, end))
		return WINVM_STATUS_SUCCESS;
	if (alloc || winvm_granule_busy(wmm->mm, start))
		return WINVM_STATUS_CONFLICTING_ADDRESSES;
	return WINVM_STATUS_NOT_MAPPED_VIEW;
}

/* The reply of a call that acted on [start, end): the range, or the failure. */
static u32 winvm_reply_range(int ret, unsigned long start, unsigned long end,
			     u64 *address, u64 *size)
{
	if (ret)
		return winvm_errno_status(ret);
	*address = start;
	*size = end - start;
	return WINVM_STATUS_SUCCESS;
}

static u32 winvm_alloc_fresh(struct winvm_mm *wmm, struct winvm_alloc_args *args,
			     unsigned long addr, unsigned long len, unsigned long limit)
{
	bool commit = args->type & WINVM_MEM_COMMIT;
	bool exec = commit && winvm_prot_is_exec(args->protect);
	struct winvm_alloc *alloc;
	pgoff_t first;
	int ret = 0;
	u64 off;

	alloc = winvm_alloc_create(wmm, len, args->protect, &off);
	if (IS_ERR(alloc))
		return WINVM_STATUS_NO_MEMORY;
	first = off >> PAGE_SHIFT;
	/* MEM_WRITE_WATCH counts only where an allocation is made (R22). */
	if (args->type & WINVM_MEM_WRITE_WATCH) {
		alloc->watch = winvm_watch_new();
		if (!alloc->watch)
			ret = -ENOMEM;
	}
	if (commit && !ret) {
		mutex_lock(&alloc->state_lock);
		ret = winvm_ps_set(&alloc->pages, first, first + (len >> PAGE_SHIFT) - 1,
				   winvm_prot_state(args->protect));
		mutex_unlock(&alloc->state_lock);
	}
	if (!ret)
		ret = winvm_alloc_place(wmm, alloc, addr, len, limit,
					args->type & WINVM_MEM_TOP_DOWN, exec, off);
	if (!ret) {
		args->address = alloc->base;
		args->size = len;
	}
	/* Offsets that no VMA ever mapped may be handed out again. */
	if (ret && !alloc->data)
		winvm_shm_unreserve(wmm, len, off);
	winvm_alloc_put(alloc);
	return winvm_errno_status(ret);
}

/* May @alloc's pages be committed with @prot (R108-R110 for views)? */
static u32 winvm_commit_check(struct winvm_alloc *alloc, u32 prot)
{
	if (!alloc->section)
		return winvm_prot_valid_private(prot) ? WINVM_STATUS_SUCCESS :
							WINVM_STATUS_INVALID_PAGE_PROTECTION;
	if (alloc->section->attributes & WINVM_SEC_FILE)
		return WINVM_STATUS_ALREADY_COMMITTED;
	if (!winvm_prot_valid_view(alloc->alloc_protect, prot))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	return WINVM_STATUS_SUCCESS;
}

/*
 * Commit (or re-commit, which is a protection change) pages inside one
 * existing allocation or view.
 */
static u32 winvm_commit(struct winvm_mm *wmm, struct winvm_alloc_args *args,
			unsigned long start, unsigned long end)
{
	struct winvm_change c = { .start = start, .end = end, .prot = args->protect,
				  .commit = true };
	u32 status;
	int ret;

	if (mmap_write_lock_killable(wmm->mm))
		return WINVM_STATUS_NO_MEMORY;
	status = winvm_find_range(wmm, start, end, &c.alloc);
	if (!status)
		status = winvm_commit_check(c.alloc, args->protect);
	if (status)
		goto out_unlock;
	ret = winvm_change_begin(wmm, &c);
	mmap_write_unlock(wmm->mm);
	ret = winvm_change_end(wmm, &c, ret);
	return winvm_reply_range(ret, start, end, &args->address, &args->size);

out_unlock:
	mmap_write_unlock(wmm->mm);
	return status;
}

/* Set or clear the reset mark on the committed pages of [first, last]. */
static int winvm_reset_mark(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last,
			    bool undo, bool *seen)
	__must_hold(&alloc->state_lock)
{
	pgoff_t idx, next;
	u32 st;
	int ret;

	lockdep_assert_held(&alloc->state_lock);
	for (idx = first; idx <= last; idx = next) {
		st = winvm_ps_span(&alloc->pages, idx, last + 1, &next);
		if (!(st & WINVM_PS_COMMIT))
			continue;
		*seen |= st & WINVM_PS_RESET;
		st = undo ? st & ~WINVM_PS_RESET : st | WINVM_PS_RESET;
		ret = winvm_ps_set(&alloc->pages, idx, next - 1, st);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * MEM_RESET discards the data at once (allowed: the contents become
 * undefined) and marks the pages, so MEM_RESET_UNDO can say truthfully
 * whether the data survived.  Section pages are shared: MEM_RESET keeps
 * them (R28).
 */
static u32 winvm_reset(struct winvm_mm *wmm, struct winvm_alloc_args *args,
		       unsigned long start, unsigned long end)
{
	bool undo = args->type == WINVM_MEM_RESET_UNDO, seen = false;
	struct winvm_alloc *alloc;
	u32 status;
	int ret = 0;

	if (mmap_write_lock_killable(wmm->mm))
		return WINVM_STATUS_NO_MEMORY;
	status = winvm_find_range(wmm, start, end, &alloc);
	if (status)
		goto out_unlock;
	kref_get(&alloc->ref);
	if (!alloc->section) {
		winvm_lock_vmas(alloc, start, end);
		mutex_lock(&alloc->state_lock);
		ret = winvm_reset_mark(alloc, winvm_pgoff(alloc, start),
				       winvm_pgoff(alloc, end) - 1, undo, &seen);
		mutex_unlock(&alloc->state_lock);
	}
	mmap_write_unlock(wmm->mm);
	if (!ret && !undo && !alloc->section)
		ret = winvm_punch(alloc, start, end);
	winvm_alloc_put(alloc);
	status = winvm_reply_range(ret, start, end, &args->address, &args->size);
	return !status && undo && seen ? WINVM_STATUS_UNSUCCESSFUL : status;

out_unlock:
	mmap_write_unlock(wmm->mm);
	return status;
}

/* The type and protection of NtAllocateVirtualMemory (R10-R20). */
static u32 winvm_alloc_check(const struct winvm_alloc_args *args)
{
	u32 type = args->type;

	if (winvm_args_reserved(args))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (type & WINVM_AT_ROUND_TO_PAGE)
		return WINVM_STATUS_INVALID_PARAMETER_5;
	if (type & (WINVM_MEM_LARGE_PAGES | WINVM_MEM_PHYSICAL))
		return WINVM_STATUS_NOT_SUPPORTED;
	if (type == WINVM_MEM_RESET || type == WINVM_MEM_RESET_UNDO)
		return args->size ? WINVM_STATUS_SUCCESS : WINVM_STATUS_INVALID_PARAMETER;
	if (type & ~(WINVM_MEM_RESERVE | WINVM_MEM_COMMIT | WINVM_MEM_TOP_DOWN |
		     WINVM_MEM_WRITE_WATCH))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!(type & (WINVM_MEM_RESERVE | WINVM_MEM_COMMIT)))
		return WINVM_STATUS_INVALID_PARAMETER;
	/* A commit inside a view is checked against the view later. */
	if (!winvm_prot_valid_private(args->protect) &&
	    (!args->address || (type & WINVM_MEM_RESERVE) ||
	     !winvm_prot_valid_view(WINVM_PAGE_EXECUTE_READWRITE, args->protect)))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	return args->size ? WINVM_STATUS_SUCCESS : WINVM_STATUS_INVALID_PARAMETER;
}

/* A fresh allocation anywhere: size is the only range argument. */
static u32 winvm_alloc_anywhere(struct winvm_mm *wmm, struct winvm_alloc_args *args,
				unsigned long limit)
{
	bool reserve = args->type & (WINVM_MEM_RESERVE | WINVM_MEM_COMMIT);

	if (args->type == WINVM_MEM_RESET || args->type == WINVM_MEM_RESET_UNDO ||
	    !reserve || args->size > winvm_max_address())
		return WINVM_STATUS_INVALID_PARAMETER;
	return winvm_alloc_fresh(wmm, args, 0, PAGE_ALIGN(args->size), limit);
}

u32 winvm_mem_alloc(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_alloc_args *args = arg;
	u64 addr = args->address, size = args->size;
	unsigned long limit, start, end;
	bool reserve;
	u32 status;

	status = winvm_alloc_check(args);
	if (status)
		return status;
	if (winvm_zero_bits_limit(args->zero_bits, &limit))
		return WINVM_STATUS_INVALID_PARAMETER_3;
	if (!addr)
		return winvm_alloc_anywhere(wmm, args, limit);
	reserve = args->type & WINVM_MEM_RESERVE;
	start = reserve ? round_down(addr, WINVM_GRANULARITY) : round_down(addr, PAGE_SIZE);
	if (!winvm_range_ok(addr, size) || start < WINVM_MIN_ADDR)
		return WINVM_STATUS_INVALID_PARAMETER;
	end = PAGE_ALIGN(addr + size);
	if (end > limit)
		return WINVM_STATUS_INVALID_PARAMETER_3;
	if (args->type == WINVM_MEM_RESET || args->type == WINVM_MEM_RESET_UNDO)
		return winvm_reset(wmm, args, start, end);
	if (reserve)
		return winvm_alloc_fresh(wmm, args, start, end - start, limit);
	return winvm_commit(wmm, args, start, end);
}

/*
 * Released and decommitted pages were never written, as far as write
 * watch goes (R130).
 */
static void winvm_forget_writes(struct winvm_alloc *alloc, unsigned long start,
				unsigned long end)
{
	if (alloc->watch)
		winvm_watch_clear(alloc->watch, winvm_pgoff(alloc, start),
				  winvm_pgoff(alloc, end) - 1);
}

/* Give back [start, end) of @alloc; an inner range splits the allocation. */
static int winvm_release(struct winvm_mm *wmm, struct winvm_alloc *alloc,
			 unsigned long start, unsigned long end)
{
	unsigned long a_end = alloc->base + alloc->size;
	bool head = start > alloc->base, tail = end < a_end;
	struct winvm_alloc *rest = NULL;
	int ret;

	/* Everything that can fail for memory happens before the unmap. */
	if (head && tail) {
		rest = winvm_alloc_split_prepare(alloc, end);
		if (IS_ERR(rest))
			return PTR_ERR(rest);
	}
	ret = winvm_unmap_own(wmm, alloc, start, end);
	if (ret)
		goto out;
	if (!head && !tail) {
		/* No VMA left to fault pages back in: free them now, and once. */
		if (!winvm_punch(alloc, start, end))
			alloc->punched = true;
		return 0;
	}
	/*
	 * The range is gone: from here on the call has succeeded, whatever
	 * else fails.  The shmem file lives on for the rest; free the released
	 * pages now (failing that, they go with the allocation).
	 */
	winvm_punch(alloc, start, end);
	mmap_write_lock(wmm->mm);
	if (rest)
		winvm_alloc_split_commit(alloc, rest, end);
	mutex_lock(&alloc->state_lock);
	winvm_ps_set_nocap(&alloc->pages, winvm_pgoff(alloc, start),
			   winvm_pgoff(alloc, end) - 1, 0);
	winvm_forget_writes(alloc, start, end);
	if (!head) {
		alloc->base = end;
		alloc->size = a_end - end;
	} else {
		alloc->size = start - alloc->base;
	}
	mutex_unlock(&alloc->state_lock);
	mmap_write_unlock(wmm->mm);
out:
	if (rest)
		winvm_alloc_put(rest);
	return ret;
}

/* MEM_DECOMMIT of [start, end): the pages become reserved. */
static int winvm_decommit(struct winvm_mm *wmm, struct winvm_alloc *alloc,
			  unsigned long start, unsigned long end)
{
	int ret;

	mmap_assert_write_locked(wmm->mm);
	winvm_lock_vmas(alloc, start, end);
	mutex_lock(&alloc->state_lock);
	ret = winvm_ps_set(&alloc->pages, winvm_pgoff(alloc, start),
			   winvm_pgoff(alloc, end) - 1, 0);
	mutex_unlock(&alloc->state_lock);
	if (!ret)
		winvm_forget_writes(alloc, start, end);
	return ret;
}

/*
 * Free a decommitted range's memory.  The hole punch also drops the PTEs;
 * if it fails they must go all the same, since reserved pages never have
 * PTEs (change.c relies on it: a commit does not zap).
 */
static int winvm_decommit_punch(struct winvm_mm *wmm, struct winvm_alloc *alloc,
				unsigned long start, unsigned long end)
{
	int ret = winvm_punch(alloc, start, end);

	if (ret) {
		mmap_write_lock(wmm->mm);
		winvm_zap(alloc, start, end);
		mmap_write_unlock(wmm->mm);
	}
	return ret;
}

/*
 * The range NtFreeVirtualMemory acts on (R30-R42): the whole allocation
 * for size 0 (only from its base), else the pages touched, inside it.
 */
static u32 winvm_free_range(struct winvm_mm *wmm, struct winvm_alloc *alloc, u64 addr,
			    u64 size, unsigned long *start, unsigned long *end)
{
	if (!alloc)
		return WINVM_STATUS_MEMORY_NOT_ALLOCATED;
	/* Views go with VIEW_UNMAP; VirtualFree refuses them (R42). */
	if (alloc->section)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!size) {
		if (round_down(addr, PAGE_SIZE) != alloc->base)
			return WINVM_STATUS_FREE_VM_NOT_AT_BASE;
		*start = alloc->base;
		*end = alloc->base + alloc->size;
		return WINVM_STATUS_SUCCESS;
	}
	*start = round_down(addr, PAGE_SIZE);
	*end = PAGE_ALIGN(addr + size);
	if (*end > alloc->base + alloc->size || !winvm_alloc_covers(wmm->mm, alloc, *start, *end))
		return WINVM_STATUS_UNABLE_TO_FREE_VM;
	return WINVM_STATUS_SUCCESS;
}

u32 winvm_mem_free(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_free_args *args = arg;
	u64 addr = args->address, size = args->size;
	struct winvm_alloc *alloc;
	unsigned long start, end;
	u32 status;
	int ret;

	if (winvm_args_reserved(args) || args->pad)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->type != WINVM_MEM_DECOMMIT && args->type != WINVM_MEM_RELEASE)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!addr || !winvm_range_ok(addr, size))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (mmap_write_lock_killable(wmm->mm))
		return WINVM_STATUS_NO_MEMORY;
	alloc = winvm_find_alloc(wmm, round_down(addr, PAGE_SIZE));
	status = winvm_free_range(wmm, alloc, addr, size, &start, &end);
	if (status)
		goto out_unlock;
	kref_get(&alloc->ref);
	ret = args->type == WINVM_MEM_DECOMMIT ? winvm_decommit(wmm, alloc, start, end) : 0;
	mmap_write_unlock(wmm->mm);
	if (args->type == WINVM_MEM_RELEASE)
		ret = winvm_release(wmm, alloc, start, end);
	else if (!ret)	/* The pages are unreachable now; drop their memory. */
		ret = winvm_decommit_punch(wmm, alloc, start, end);
	/* A whole-allocation decommit reports size 0 (R35). */
	if (args->type == WINVM_MEM_DECOMMIT && !size)
		end = start;
	winvm_alloc_put(alloc);
	return winvm_reply_range(ret, start, end, &args->address, &args->size);

out_unlock:
	mmap_write_unlock(wmm->mm);
	return status;
}

/* MEM_PROTECT's range: inside one allocation, every page committed (R44-R50). */
static u32 winvm_protect_check(struct winvm_mm *wmm, struct winvm_change *c)
{
	struct winvm_alloc *alloc = winvm_find_alloc(wmm, c->start);
	pgoff_t idx, next, stop;
	u32 st = 0;

	c->alloc = alloc;
	if (!alloc)
		return WINVM_STATUS_CONFLICTING_ADDRESSES;
	if (c->end > alloc->base + alloc->size ||
	    !winvm_alloc_covers(wmm->mm, alloc, c->start, c->end))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (alloc->section ? !winvm_prot_valid_view(alloc->alloc_protect, c->prot) :
			     !winvm_prot_valid_private(c->prot))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	mutex_lock(&alloc->state_lock);
	stop = winvm_pgoff(alloc, c->end);
	for (idx = winvm_pgoff(alloc, c->start); idx < stop; idx = next) {
		st = winvm_eff_span(alloc, idx, stop, &next);
		if (!(st & WINVM_PS_COMMIT))
			break;
	}
	mutex_unlock(&alloc->state_lock);
	return st & WINVM_PS_COMMIT ? WINVM_STATUS_SUCCESS : WINVM_STATUS_NOT_COMMITTED;
}

/* What VirtualProtect reports as the old protection: the first page's. */
static u32 winvm_protect_old(struct winvm_alloc *alloc, unsigned long addr)
{
	pgoff_t idx = winvm_pgoff(alloc, addr), next;
	u32 st;

	mutex_lock(&alloc->state_lock);
	st = winvm_eff_span(alloc, idx, idx + 1, &next);
	mutex_unlock(&alloc->state_lock);
	return winvm_visible_protect(alloc, st);
}

u32 winvm_mem_protect(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_protect_args *args = arg;
	struct winvm_change c = { .prot = args->protect };
	u64 addr = args->address, size = args->size;
	u32 status, old;
	int ret;

	if (winvm_args_reserved(args))
		return WINVM_STATUS_INVALID_PARAMETER;
	args->old_protect = WINVM_PAGE_NOACCESS;
	/* Write-copy is checked against the view once we know there is one. */
	if (!winvm_prot_valid_private(args->protect) &&
	    !winvm_prot_valid_view(WINVM_PAGE_EXECUTE_READWRITE, args->protect))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	if (!size || !winvm_range_ok(addr, size))
		return WINVM_STATUS_INVALID_PARAMETER;
	c.start = round_down(addr, PAGE_SIZE);
	c.end = PAGE_ALIGN(addr + size);
	if (mmap_write_lock_killable(wmm->mm))
		return WINVM_STATUS_NO_MEMORY;
	status = winvm_protect_check(wmm, &c);
	if (status)
		goto out_unlock;
	old = winvm_protect_old(c.alloc, c.start);
	ret = winvm_change_begin(wmm, &c);
	mmap_write_unlock(wmm->mm);
	ret = winvm_change_end(wmm, &c, ret);
	status = winvm_reply_range(ret, c.start, c.end, &args->address, &args->size);
	if (!status)
		args->old_protect = old;
	return status;

out_unlock:
	mmap_write_unlock(wmm->mm);
	return status;
}
