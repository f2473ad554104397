// SPDX-License-Identifier: GPL-2.0-only
/*
 * NtAllocateVirtualMemory, NtFreeVirtualMemory and NtProtectVirtualMemory
 * for private memory.  Argument rules and status codes follow Windows (see
 * shared/research/wine-facts.md); every path validates before it changes
 * anything.
 */

#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "winvm.h"

#define WINVM_PROT_MODIFIERS	(WINVM_PAGE_GUARD | WINVM_PAGE_NOCACHE | \
				 WINVM_PAGE_WRITECOMBINE)

/*
 * One base protection, at most one modifier, and no modifier on
 * NOACCESS.  Write-copy exists only for views, never for private memory.
 */
bool winvm_prot_valid(u32 prot)
{
	u32 base = prot & WINVM_PS_PROT;
	u32 mods = prot & ~WINVM_PS_PROT;

	if (mods & ~WINVM_PROT_MODIFIERS)
		return false;
	if (!base || (base & (base - 1)))
		return false;
	if (base == WINVM_PAGE_WRITECOPY || base == WINVM_PAGE_EXECUTE_WRITECOPY)
		return false;
	if (mods && base == WINVM_PAGE_NOACCESS)
		return false;
	return hweight32(mods) <= 1;
}

static bool winvm_is_writecopy(u32 prot)
{
	prot &= WINVM_PS_PROT;
	return prot == WINVM_PAGE_WRITECOPY || prot == WINVM_PAGE_EXECUTE_WRITECOPY;
}

/* The page states of a range, kept so a failed operation can put them back. */
struct winvm_saved {
	unsigned int n;
	struct {
		pgoff_t first, last;
		u32 st;
	} run[];
};

static struct winvm_saved *winvm_state_save(struct winvm_alloc *alloc, pgoff_t first,
					    pgoff_t stop)
{
	struct winvm_saved *saved;
	pgoff_t idx, next;
	unsigned int n = 0;

	lockdep_assert_held(&alloc->state_lock);
	for (idx = first; idx < stop; idx = next, n++) {
		cond_resched();
		winvm_state_span(alloc, idx, stop, &next);
	}
	/*
	 * n follows the caller's page-state runs (up to max_runs and the gaps
	 * between them): far more than kmalloc may be asked for without a
	 * warning, so vmalloc when large and never warn (threat model, T-ALLOC).
	 */
	saved = kvmalloc(struct_size(saved, run, n), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!saved)
		return NULL;
	saved->n = n;
	for (idx = first, n = 0; idx < stop; idx = next, n++) {
		saved->run[n].st = winvm_state_span(alloc, idx, stop, &next);
		saved->run[n].first = idx;
		saved->run[n].last = next - 1;
	}
	return saved;
}

/* Put the saved states back (best effort: without memory even this can fail). */
static void winvm_state_put_back(struct winvm_alloc *alloc, struct winvm_saved *saved)
{
	unsigned int i;

	lockdep_assert_held(&alloc->state_lock);
	for (i = 0; i < saved->n; i++)
		winvm_state_set_nocap(alloc, saved->run[i].first, saved->run[i].last,
				      saved->run[i].st);
}

/*
 * The VMA surgery after a state change failed: put the old states back and
 * drop the PTEs made under the new ones.
 */
static void winvm_state_restore(struct winvm_mm *wmm, struct winvm_alloc *alloc,
				struct winvm_saved *saved, unsigned long start,
				unsigned long end)
{
	mmap_write_lock(wmm->mm);
	mutex_lock(&alloc->state_lock);
	winvm_state_put_back(alloc, saved);
	mutex_unlock(&alloc->state_lock);
	winvm_zap(alloc, start, end);
	mmap_write_unlock(wmm->mm);
	winvm_sync_exec(wmm, alloc, start, end);
}

static u32 winvm_commit_state(u32 prot)
{
	return WINVM_PS_COMMIT | (prot & (WINVM_PS_PROT | WINVM_PS_GUARD));
}

u32 winvm_errno_status(int err)
{
	switch (err) {
	case -EEXIST:
		return WINVM_STATUS_CONFLICTING_ADDRESSES;
	case -EPERM:
	case -EACCES:
	case -ETXTBSY:	/* the kernel's mmap checks of a caller's file (T-MMAP) */
	case -EBUSY:
		return WINVM_STATUS_ACCESS_DENIED;
	case -ENODEV:	/* a file that cannot be mapped at all (T-FILE) */
		return WINVM_STATUS_INVALID_FILE_FOR_SECTION;
	case -EINTR:
	case -ENOMEM:
	default:
		return WINVM_STATUS_NO_MEMORY;
	}
}

/*
 * ZeroBits: 1..21 leave that many high zero bits in a 32-bit address,
 * values above 31 are a mask of the bits that may be set.  Returns the
 * exclusive upper bound for the allocation's end.
 */
u32 winvm_zero_bits_limit(u64 zero_bits, unsigned long *limit)
{
	unsigned long top = winvm_max_address() + 1;
	int bits;

	*limit = top;
	if (!zero_bits)
		return WINVM_STATUS_SUCCESS;
	if (zero_bits <= 21) {
		*limit = 1UL << (32 - zero_bits);
		return WINVM_STATUS_SUCCESS;
	}
	if (zero_bits <= 31)
		return WINVM_STATUS_INVALID_PARAMETER_3;
	bits = fls64(zero_bits);
	if (bits < 47)
		*limit = min(top, 1UL << bits);
	return WINVM_STATUS_SUCCESS;
}

/*
 * A 64 KiB-aligned gap of @len below @limit.  Linux's own search has no
 * upper bound, so bounded requests walk the VMA list: linear, but only
 * 32-bit-style callers pay for it.
 */
static unsigned long winvm_find_below(struct mm_struct *mm, unsigned long len,
				      unsigned long limit, bool topdown)
{
	VMA_ITERATOR(vmi, mm, 0);
	unsigned long gap_start = WINVM_MIN_ADDR, gap_end, cand, best = 0;
	struct vm_area_struct *vma;
	bool done = false;

	mmap_read_lock(mm);
	for_each_vma(vmi, vma) {
		gap_end = min(vma->vm_start, limit);
		if (gap_end > gap_start && gap_end - gap_start >= len) {
			if (topdown) {
				cand = round_down(gap_end - len, WINVM_GRANULARITY);
				if (cand >= gap_start)
					best = cand;
			} else {
				cand = round_up(gap_start, WINVM_GRANULARITY);
				if (cand + len <= gap_end) {
					best = cand;
					done = true;
				}
			}
		}
		if (done || vma->vm_start >= limit)
			break;
		gap_start = max(gap_start, vma->vm_end);
	}
	if (!done && (!vma || vma->vm_start < limit) && limit > gap_start &&
	    limit - gap_start >= len) {
		cand = topdown ? round_down(limit - len, WINVM_GRANULARITY) :
				 round_up(gap_start, WINVM_GRANULARITY);
		if (cand >= gap_start && cand + len <= limit)
			best = cand;
	}
	mmap_read_unlock(mm);
	return best;
}

/* Where a NULL-address allocation goes: Linux's placement, 64 KiB aligned. */
unsigned long winvm_find_free(struct mm_struct *mm, unsigned long len,
			      unsigned long limit, bool topdown)
{
	unsigned long pad = len + WINVM_GRANULARITY - PAGE_SIZE, addr;

	if (limit <= winvm_max_address())
		return winvm_find_below(mm, len, limit, topdown);
	if (pad < len)
		return 0;
	mmap_read_lock(mm);
#ifdef WINVM_HAVE_MM_GET_UNMAPPED_AREA
	addr = mm_get_unmapped_area(mm, NULL, 0, pad, 0, 0);
#else
	addr = mm->get_unmapped_area(NULL, 0, pad, 0, 0);
#endif
	mmap_read_unlock(mm);
	if (IS_ERR_VALUE(addr))
		return 0;
	addr = round_up(addr, WINVM_GRANULARITY);
	return addr + len <= limit ? addr : 0;
}

/* Is anything mapped in the 64 KiB granule around @addr? */
static bool winvm_granule_busy(struct mm_struct *mm, unsigned long addr)
{
	unsigned long g = round_down(addr, WINVM_GRANULARITY);
	struct vm_area_struct *vma = find_vma(mm, g);

	return vma && vma->vm_start < g + WINVM_GRANULARITY;
}

/*
 * The allocation that holds all of [start, end), for commits and resets;
 * otherwise the status Windows gives: a granule another allocation lives
 * in conflicts (seed 001), free space is not a view.  mmap_lock held.
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

/* True when every VMA of @alloc across [start, end) already has @exec. */
static bool winvm_exec_matches(struct mm_struct *mm, struct winvm_alloc *alloc,
			       unsigned long start, unsigned long end, bool exec)
{
	struct vm_area_struct *vma;

	for (vma = vma_lookup(mm, start); vma && vma->vm_start < end;
	     vma = vma_lookup(mm, vma->vm_end)) {
		if (vma->vm_private_data != alloc || !!(vma->vm_flags & VM_EXEC) != exec)
			return false;
	}
	return true;
}

/*
 * Put a new allocation or view at @addr, or anywhere (below @limit) when
 * @addr is 0.  @offset is the byte offset in the backing file that the
 * first page shows.
 */
int winvm_alloc_place(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		      unsigned long addr, unsigned long len, unsigned long limit,
		      bool topdown, bool exec, u64 offset)
{
	/*
	 * A caller's file may hold huge folios (a huge=always tmpfs), and a
	 * view whose address and file offset agree modulo PMD_SIZE could then
	 * be mapped by one PMD, past per-page state (T-THP): where winvm
	 * chooses, it chooses an address that does not agree.
	 */
	bool skew = alloc->section && (alloc->section->attributes & WINVM_SEC_FILE);
	int tries, ret;

	for (tries = 0; ; tries++) {
		unsigned long where = addr;

		if (!where) {
			where = winvm_find_free(wmm->mm, len + (skew ? WINVM_GRANULARITY : 0),
						limit, topdown);
			if (!where)
				return -ENOMEM;
			if (skew && !((where - offset) & (PMD_SIZE - 1)))
				where += WINVM_GRANULARITY;
		}
		alloc->origin = where - offset;
		alloc->base = where;
		alloc->size = len;
		ret = winvm_map_range(wmm, alloc, where, len, exec, false);
		/* Someone else took the gap we found; look again. */
		if (ret == -EEXIST && !addr && tries < 8)
			continue;
		return ret;
	}
}

static u32 winvm_alloc_fresh(struct winvm_mm *wmm, struct winvm_alloc_args *args,
			     unsigned long addr, unsigned long len, unsigned long limit)
{
	bool commit = args->type & WINVM_MEM_COMMIT;
	bool exec = commit && winvm_is_exec_prot(args->protect);
	struct winvm_alloc *alloc;
	int ret = 0;

	alloc = winvm_alloc_create(wmm, len, args->protect);
	if (IS_ERR(alloc))
		return WINVM_STATUS_NO_MEMORY;
	if (commit) {
		mutex_lock(&alloc->state_lock);
		ret = winvm_state_set(alloc, 0, (len >> PAGE_SHIFT) - 1,
				      winvm_commit_state(args->protect));
		mutex_unlock(&alloc->state_lock);
	}
	if (!ret)
		ret = winvm_alloc_place(wmm, alloc, addr, len, limit,
					args->type & WINVM_MEM_TOP_DOWN, exec, 0);
	if (!ret)
		args->address = alloc->base;
	winvm_alloc_put(alloc);
	if (ret)
		return winvm_errno_status(ret);
	args->size = len;
	return WINVM_STATUS_SUCCESS;
}

/*
 * Commit (or re-commit, which is a protection change) pages inside one
 * existing allocation.
 */
static u32 winvm_commit(struct winvm_mm *wmm, struct winvm_alloc_args *args,
			unsigned long start, unsigned long end)
{
	struct mm_struct *mm = wmm->mm;
	bool exec = winvm_is_exec_prot(args->protect);
	struct winvm_saved *saved;
	struct winvm_alloc *alloc;
	u32 status = 0;
	bool exec_ok;
	int ret = 0;

	if (mmap_write_lock_killable(mm))
		return WINVM_STATUS_NO_MEMORY;
	status = winvm_find_range(wmm, start, end, &alloc);
	if (status) {
		mmap_write_unlock(mm);
		return status;
	}
	if (!alloc->section && !winvm_prot_valid(args->protect)) {
		mmap_write_unlock(mm);
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	}
	kref_get(&alloc->ref);
	mutex_lock(&alloc->state_lock);
	saved = winvm_state_save(alloc, winvm_pgoff(alloc, start), winvm_pgoff(alloc, end));
	if (!saved) {
		status = WINVM_STATUS_NO_MEMORY;
	} else if (alloc->section) {
		status = winvm_view_commit(alloc, winvm_pgoff(alloc, start),
					   winvm_pgoff(alloc, end) - 1, args->protect);
	} else {
		ret = winvm_state_set(alloc, winvm_pgoff(alloc, start),
				      winvm_pgoff(alloc, end) - 1,
				      winvm_commit_state(args->protect));
	}
	mutex_unlock(&alloc->state_lock);
	winvm_zap(alloc, start, end);
	exec_ok = winvm_exec_matches(mm, alloc, start, end, exec);
	mmap_write_unlock(mm);
	if (!status && !ret && alloc->section && !alloc->cow_file &&
	    winvm_is_writecopy(args->protect))
		ret = winvm_view_make_cow(wmm, alloc);
	if (!status && !ret && !exec_ok)
		ret = winvm_sync_exec(wmm, alloc, start, end);
	if (!status && ret && saved)
		winvm_state_restore(wmm, alloc, saved, start, end);
	kvfree(saved);
	winvm_alloc_put(alloc);
	if (status)
		return status;
	if (ret)
		return winvm_errno_status(ret);
	args->address = start;
	args->size = end - start;
	return WINVM_STATUS_SUCCESS;
}

/* Set or clear @bits on the committed pages of [first, last]. */
static int winvm_state_modify(struct winvm_alloc *alloc, pgoff_t first,
			      pgoff_t last, u32 clear, u32 set, bool *seen)
{
	pgoff_t idx, next;
	u32 st;
	int ret;

	lockdep_assert_held(&alloc->state_lock);
	for (idx = first; idx <= last; idx = next) {
		st = winvm_state_span(alloc, idx, last + 1, &next);
		if (!(st & WINVM_PS_COMMIT))
			continue;
		if (seen && (st & clear))
			*seen = true;
		ret = winvm_state_set(alloc, idx, next - 1, (st & ~clear) | set);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * MEM_RESET discards the data at once (allowed: the contents become
 * undefined) and marks the pages, so MEM_RESET_UNDO can say truthfully
 * whether the data survived.
 */
static u32 winvm_reset(struct winvm_mm *wmm, struct winvm_alloc_args *args,
		       unsigned long start, unsigned long end)
{
	bool undo = args->type == WINVM_MEM_RESET_UNDO;
	struct mm_struct *mm = wmm->mm;
	struct winvm_alloc *alloc;
	bool seen = false;
	u32 status;
	int ret;

	if (mmap_write_lock_killable(mm))
		return WINVM_STATUS_NO_MEMORY;
	status = winvm_find_range(wmm, start, end, &alloc);
	if (status) {
		mmap_write_unlock(mm);
		return status;
	}
	if (alloc->section) {
		/* Section pages are shared: MEM_RESET keeps them (fact 28). */
		mmap_write_unlock(mm);
		args->address = start;
		args->size = end - start;
		return WINVM_STATUS_SUCCESS;
	}
	kref_get(&alloc->ref);
	mutex_lock(&alloc->state_lock);
	ret = winvm_state_modify(alloc, winvm_pgoff(alloc, start),
				 winvm_pgoff(alloc, end) - 1,
				 undo ? WINVM_PS_RESET : 0,
				 undo ? 0 : WINVM_PS_RESET, &seen);
	mutex_unlock(&alloc->state_lock);
	mmap_write_unlock(mm);
	if (!ret && !undo)
		ret = winvm_punch(alloc, start, end);
	winvm_alloc_put(alloc);
	if (ret)
		return winvm_errno_status(ret);
	args->address = start;
	args->size = end - start;
	return undo && seen ? WINVM_STATUS_UNSUCCESSFUL : WINVM_STATUS_SUCCESS;
}

u32 winvm_mem_alloc(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_alloc_args *args = arg;
	u32 type = args->type, status;
	unsigned long limit, start, end, len;
	u64 addr = args->address, size = args->size;
	bool reserve;

	if (args->flags || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	if (type & WINVM_AT_ROUND_TO_PAGE)
		return WINVM_STATUS_INVALID_PARAMETER_5;
	if (type & (WINVM_MEM_WRITE_WATCH | WINVM_MEM_LARGE_PAGES | WINVM_MEM_PHYSICAL))
		return WINVM_STATUS_NOT_SUPPORTED;
	if (type != WINVM_MEM_RESET && type != WINVM_MEM_RESET_UNDO) {
		if (type & ~(WINVM_MEM_RESERVE | WINVM_MEM_COMMIT | WINVM_MEM_TOP_DOWN))
			return WINVM_STATUS_INVALID_PARAMETER;
		if (!(type & (WINVM_MEM_RESERVE | WINVM_MEM_COMMIT)))
			return WINVM_STATUS_INVALID_PARAMETER;
		/* A commit inside a view is checked against the view later. */
		if (!winvm_prot_valid(args->protect) &&
		    (!args->address || (type & WINVM_MEM_RESERVE) ||
		     !winvm_view_prot_allowed(WINVM_PAGE_EXECUTE_READWRITE, args->protect)))
			return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	}
	if (!size)
		return WINVM_STATUS_INVALID_PARAMETER;
	status = winvm_zero_bits_limit(args->zero_bits, &limit);
	if (status)
		return status;

	reserve = (type & WINVM_MEM_RESERVE) ||
		  (!addr && (type & WINVM_MEM_COMMIT));
	if (!addr) {
		if (!reserve || size > winvm_max_address())
			return WINVM_STATUS_INVALID_PARAMETER;
		len = PAGE_ALIGN(size);
		return winvm_alloc_fresh(wmm, args, 0, len, limit);
	}

	start = reserve ? round_down(addr, WINVM_GRANULARITY) : round_down(addr, PAGE_SIZE);
	if (addr > winvm_max_address() || size > winvm_max_address() + 1 - addr ||
	    start < WINVM_MIN_ADDR)
		return WINVM_STATUS_INVALID_PARAMETER;
	end = PAGE_ALIGN(addr + size);
	if (end > limit)
		return WINVM_STATUS_INVALID_PARAMETER_3;
	if (type == WINVM_MEM_RESET || type == WINVM_MEM_RESET_UNDO)
		return winvm_reset(wmm, args, start, end);
	if (reserve)
		return winvm_alloc_fresh(wmm, args, start, end - start, limit);
	return winvm_commit(wmm, args, start, end);
}

/* Give back [start, end) of @alloc; an inner range splits the allocation. */
static u32 winvm_release(struct winvm_mm *wmm, struct winvm_alloc *alloc,
			 unsigned long start, unsigned long end)
{
	struct mm_struct *mm = wmm->mm;
	unsigned long a_end = alloc->base + alloc->size;
	bool head = start > alloc->base, tail = end < a_end;
	struct winvm_alloc *rest = NULL;
	int ret;

	/* Everything that can fail for memory happens before the unmap. */
	if (head && tail) {
		rest = winvm_alloc_split_prepare(alloc, end);
		if (IS_ERR(rest))
			return winvm_errno_status(PTR_ERR(rest));
	}
	ret = winvm_unmap_own(wmm, alloc, start, end);
	if (ret) {
		if (rest)
			winvm_alloc_put(rest);
		return winvm_errno_status(ret);
	}
	if (!head && !tail)
		return WINVM_STATUS_SUCCESS;

	/*
	 * The range is gone: from here on the call has succeeded, whatever
	 * else fails.  The shmem file lives on for the rest; free the released
	 * pages now (failing that, they go with the allocation).
	 */
	winvm_punch(alloc, start, end);
	mmap_write_lock(mm);
	if (rest) {
		winvm_alloc_split_commit(alloc, rest, end);
		winvm_alloc_put(rest);
	}
	mutex_lock(&alloc->state_lock);
	winvm_state_set_nocap(alloc, winvm_pgoff(alloc, start), winvm_pgoff(alloc, end) - 1, 0);
	if (!head) {
		alloc->base = end;
		alloc->size = a_end - end;
	} else {
		alloc->size = start - alloc->base;
	}
	mutex_unlock(&alloc->state_lock);
	mmap_write_unlock(mm);
	return WINVM_STATUS_SUCCESS;
}

u32 winvm_mem_free(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_free_args *args = arg;
	struct mm_struct *mm = wmm->mm;
	u64 addr = args->address, size = args->size;
	unsigned long start, end;
	struct winvm_alloc *alloc;
	u32 status;
	int ret = 0;

	if (args->flags || args->pad || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->type != WINVM_MEM_DECOMMIT && args->type != WINVM_MEM_RELEASE)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!addr || addr > winvm_max_address() ||
	    size > winvm_max_address() + 1 - addr)
		return WINVM_STATUS_INVALID_PARAMETER;

	if (mmap_write_lock_killable(mm))
		return WINVM_STATUS_NO_MEMORY;
	alloc = winvm_find_alloc(wmm, round_down(addr, PAGE_SIZE));
	if (!alloc) {
		mmap_write_unlock(mm);
		return WINVM_STATUS_MEMORY_NOT_ALLOCATED;
	}
	/* Views go with VIEW_UNMAP; VirtualFree refuses them (fact 42). */
	if (alloc->section) {
		mmap_write_unlock(mm);
		return WINVM_STATUS_INVALID_PARAMETER;
	}
	if (!size) {
		if (round_down(addr, PAGE_SIZE) != alloc->base) {
			mmap_write_unlock(mm);
			return WINVM_STATUS_FREE_VM_NOT_AT_BASE;
		}
		start = alloc->base;
		end = alloc->base + alloc->size;
	} else {
		start = round_down(addr, PAGE_SIZE);
		end = PAGE_ALIGN(addr + size);
		if (end > alloc->base + alloc->size ||
		    !winvm_alloc_covers(mm, alloc, start, end)) {
			mmap_write_unlock(mm);
			return WINVM_STATUS_UNABLE_TO_FREE_VM;
		}
	}
	kref_get(&alloc->ref);

	if (args->type == WINVM_MEM_DECOMMIT) {
		mutex_lock(&alloc->state_lock);
		ret = winvm_state_set(alloc, winvm_pgoff(alloc, start),
				      winvm_pgoff(alloc, end) - 1, 0);
		mutex_unlock(&alloc->state_lock);
		mmap_write_unlock(mm);
		/* The pages are unreachable now; drop their memory. */
		if (!ret)
			ret = winvm_punch(alloc, start, end);
		status = ret ? winvm_errno_status(ret) : WINVM_STATUS_SUCCESS;
		/* A whole-allocation decommit reports size 0 (fact 35). */
		if (!size)
			end = start;
	} else {
		mmap_write_unlock(mm);
		status = winvm_release(wmm, alloc, start, end);
	}
	winvm_alloc_put(alloc);
	if (status == WINVM_STATUS_SUCCESS) {
		args->address = start;
		args->size = end - start;
	}
	return status;
}

static bool winvm_prot_readable(u32 prot)
{
	return (prot & WINVM_PS_PROT) != WINVM_PAGE_NOACCESS && !(prot & WINVM_PAGE_GUARD);
}

static bool winvm_prot_writable(u32 prot)
{
	switch (prot & WINVM_PS_PROT) {
	case WINVM_PAGE_READWRITE:
	case WINVM_PAGE_EXECUTE_READWRITE:
	case WINVM_PAGE_WRITECOPY:
	case WINVM_PAGE_EXECUTE_WRITECOPY:
		return !(prot & WINVM_PAGE_GUARD);
	default:
		return false;
	}
}

/*
 * Does going from state @st to protection @prot take away an access a
 * present PTE may grant?  Only then must PTEs go: widening needs nothing,
 * since absent or read-only (write-notified) PTEs fault into our handlers.
 */
static bool winvm_prot_narrows(u32 st, u32 prot)
{
	return (winvm_prot_readable(st) && !winvm_prot_readable(prot)) ||
	       (winvm_prot_writable(st) && !winvm_prot_writable(prot)) ||
	       (st & WINVM_PS_COPIED) != 0;
}

/*
 * Apply @prot to the committed pages of [start, end) (state_lock held).  A
 * view keeps its private copies: the copied flag survives the change.
 */
static int winvm_protect_pages(struct winvm_alloc *alloc, unsigned long start,
			       unsigned long end, u32 prot)
{
	pgoff_t idx, next, stop = winvm_pgoff(alloc, end);
	u32 st;
	int ret = 0;

	lockdep_assert_held(&alloc->state_lock);
	if (!alloc->section)
		return winvm_state_set(alloc, winvm_pgoff(alloc, start), stop - 1,
				       winvm_commit_state(prot));
	for (idx = winvm_pgoff(alloc, start); idx < stop && !ret; idx = next) {
		st = winvm_eff_span(alloc, idx, stop, &next);
		ret = winvm_state_set(alloc, idx, next - 1, winvm_commit_state(prot) |
				      (st & WINVM_PS_COPIED));
	}
	return ret;
}

u32 winvm_mem_protect(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_protect_args *args = arg;
	struct mm_struct *mm = wmm->mm;
	u64 addr = args->address, size = args->size;
	unsigned long start, end;
	struct winvm_alloc *alloc;
	struct winvm_saved *saved;
	pgoff_t idx, next, stop;
	bool exec_ok, make_cow, need_zap = false;
	u32 st;
	int ret;

	if (args->flags || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	args->old_protect = WINVM_PAGE_NOACCESS;
	/* Write-copy is checked against the view once we know there is one. */
	if (!winvm_prot_valid(args->protect) &&
	    !winvm_view_prot_allowed(WINVM_PAGE_EXECUTE_READWRITE, args->protect))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	if (!size || addr > winvm_max_address() ||
	    size > winvm_max_address() + 1 - addr)
		return WINVM_STATUS_INVALID_PARAMETER;
	start = round_down(addr, PAGE_SIZE);
	end = PAGE_ALIGN(addr + size);

	if (mmap_write_lock_killable(mm))
		return WINVM_STATUS_NO_MEMORY;
	alloc = winvm_find_alloc(wmm, start);
	if (!alloc) {
		mmap_write_unlock(mm);
		return WINVM_STATUS_CONFLICTING_ADDRESSES;
	}
	if (end > alloc->base + alloc->size ||
	    !winvm_alloc_covers(mm, alloc, start, end)) {
		mmap_write_unlock(mm);
		return WINVM_STATUS_INVALID_PARAMETER;
	}
	if (alloc->section ? !winvm_view_prot_allowed(alloc->alloc_protect, args->protect) :
			     !winvm_prot_valid(args->protect)) {
		mmap_write_unlock(mm);
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	}
	mutex_lock(&alloc->state_lock);
	stop = winvm_pgoff(alloc, end);
	for (idx = winvm_pgoff(alloc, start); idx < stop; idx = next) {
		st = winvm_eff_span(alloc, idx, stop, &next);
		if (!(st & WINVM_PS_COMMIT)) {
			mutex_unlock(&alloc->state_lock);
			mmap_write_unlock(mm);
			return WINVM_STATUS_NOT_COMMITTED;
		}
		need_zap |= winvm_prot_narrows(st, args->protect);
	}
	st = winvm_eff_span(alloc, winvm_pgoff(alloc, start),
			    winvm_pgoff(alloc, start) + 1, &next);
	saved = winvm_state_save(alloc, winvm_pgoff(alloc, start), stop);
	ret = saved ? winvm_protect_pages(alloc, start, end, args->protect) : -ENOMEM;
	/* A view's pages change span by span: undo the spans already done. */
	if (ret && saved)
		winvm_state_put_back(alloc, saved);
	mutex_unlock(&alloc->state_lock);
	if (ret) {
		mmap_write_unlock(mm);
		kvfree(saved);
		return winvm_errno_status(ret);
	}
	args->old_protect = winvm_visible_protect(alloc, st);
	if (need_zap)
		winvm_zap(alloc, start, end);
	exec_ok = winvm_exec_matches(mm, alloc, start, end,
				     winvm_is_exec_prot(args->protect));
	make_cow = alloc->section && !alloc->cow_file && winvm_is_writecopy(args->protect);
	kref_get(&alloc->ref);
	mmap_write_unlock(mm);
	if (make_cow)
		ret = winvm_view_make_cow(wmm, alloc);
	if (!ret && !exec_ok)
		ret = winvm_sync_exec(wmm, alloc, start, end);
	if (ret)
		winvm_state_restore(wmm, alloc, saved, start, end);
	kvfree(saved);
	winvm_alloc_put(alloc);
	if (ret)
		return winvm_errno_status(ret);
	args->address = start;
	args->size = end - start;
	return WINVM_STATUS_SUCCESS;
}
