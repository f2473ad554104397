// SPDX-License-Identifier: GPL-2.0-only
/*
 * Placement: where a new allocation or view goes (64 KiB granules, the
 * ZeroBits bound, top-down), and its first mapping there.
 */

#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "winvm.h"
#include "compat.h"

/*
 * ZeroBits: 1..21 leave that many high zero bits in a 32-bit address,
 * values above 31 are a mask of the bits that may be set.  Returns the
 * exclusive upper bound for the allocation's end (-EINVAL for 22..31).
 */
int winvm_zero_bits_limit(u64 zero_bits, unsigned long *limit)
{
	unsigned long top = winvm_max_address() + 1;
	int bits;

	*limit = top;
	if (!zero_bits)
		return 0;
	if (zero_bits <= 21) {
		*limit = 1UL << (32 - zero_bits);
		return 0;
	}
	if (zero_bits <= 31)
		return -EINVAL;
	bits = fls64(zero_bits);
	if (bits < 47)
		*limit = min(top, 1UL << bits);
	return 0;
}

/*
 * A 64 KiB-aligned gap of @len (whole granules) below @limit.  Linux's own search has no
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

/*
 * Where a NULL-address allocation of @len goes: Linux's placement, in
 * granules that are wholly free.  The rest of the last granule belongs to
 * no allocation and nothing else may live there (rule R10, example E1).
 */
static unsigned long winvm_find_free(struct mm_struct *mm, unsigned long len,
				     unsigned long limit, bool topdown)
{
	unsigned long span = round_up(len, WINVM_GRANULARITY), addr;
	unsigned long pad = span + WINVM_GRANULARITY - PAGE_SIZE;

	if (span < len || pad < span)
		return 0;
	if (limit <= winvm_max_address())
		return winvm_find_below(mm, span, limit, topdown);
	mmap_read_lock(mm);
	addr = winvm_get_unmapped_area(mm, pad);
	mmap_read_unlock(mm);
	if (IS_ERR_VALUE(addr))
		return 0;
	addr = round_up(addr, WINVM_GRANULARITY);
	return addr + span <= limit ? addr : 0;
}

/* Is anything mapped in the 64 KiB granule around @addr? */
bool winvm_granule_busy(struct mm_struct *mm, unsigned long addr)
{
	unsigned long g = round_down(addr, WINVM_GRANULARITY);
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	vma = find_vma(mm, g);
	return vma && vma->vm_start < g + WINVM_GRANULARITY;
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

	lockdep_assert_held(&wmm->op_lock);
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

