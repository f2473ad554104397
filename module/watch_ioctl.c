// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioctls: NtGetWriteWatch (WATCH_GET) and NtResetWriteWatch (WATCH_RESET)
 * over the write-watch record of watch.c.  They list written pages under
 * mmap_lock, copy them out holding only op_lock (which no fault takes),
 * and reset pages with mmap_lock held for writing and the VMAs
 * write-locked, so no fault (and no write through a PTE that is still
 * writable) runs between clearing a page's bit and write-protecting it
 * again.
 */

#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "winvm.h"

/* Pages listed per round of WATCH_GET, between which the locks are dropped. */
#define WINVM_WATCH_ROUND	(PAGE_SIZE / sizeof(u64))

/*
 * The watched allocation that [start, end) lies in, or NULL (the query's
 * own answer: STATUS_INVALID_PARAMETER for unwatched, free or foreign
 * memory, and for a range that runs past the allocation, R129).
 */
static struct winvm_alloc *winvm_watch_find(struct winvm_mm *wmm, unsigned long start,
					    unsigned long end)
{
	struct winvm_alloc *alloc = winvm_find_alloc(wmm, start);

	if (!alloc || !alloc->watch || end > alloc->base + alloc->size ||
	    !winvm_alloc_covers(wmm->mm, alloc, start, end))
		return NULL;
	return alloc;
}

/*
 * May the kernel still write @folio without a fault?  A page pinned or
 * held for I/O before the reset (process_vm_writev, O_DIRECT, io_uring) is
 * written through that hold, not through a PTE.  The page cache holds one
 * reference per page, each mapping one, our lookup one; anything above is
 * someone else's (6.1's O_DIRECT takes plain references, not pins).  A
 * transient reference only makes a page listed once too often, which is
 * allowed; a write left out is not.
 */
static bool winvm_folio_held(struct folio *folio)
{
	/* (winvm's tmpfs is huge=never; a large folio is counted as held.) */
	return folio_test_large(folio) || folio_maybe_dma_pinned(folio) ||
	       folio_ref_count(folio) > 2 + winvm_small_folio_mapcount(folio);
}

/* Listed pages that may still be written without a fault stay written. */
static void winvm_watch_keep_held(struct winvm_alloc *alloc, const pgoff_t *pages,
				  unsigned int n)
{
	struct folio *folio;
	unsigned int i;

	for (i = 0; i < n; i++) {
		/* (A miss is NULL on 6.1, ERR_PTR(-ENOENT) on 6.12.) */
		folio = filemap_get_folio(alloc->shm->f_mapping, pages[i]);
		if (IS_ERR_OR_NULL(folio))
			continue;
		/* Its bitmap is there: the bit was just cleared in it. */
		if (winvm_folio_held(folio))
			winvm_watch_mark(alloc->watch, pages[i]);
		folio_put(folio);
	}
}

/*
 * Listed pages closer than this are write-protected as one span: a page-
 * table walk visits every PTE of its range, so sparse pages are cheaper
 * one span each, dense ones in one (bench/watch.c, 1 % and 50 % written).
 */
#define WINVM_WATCH_GAP		32

/*
 * Reset the pages of @alloc listed in @pages[0..n) (in ascending order):
 * with mmap_lock held for writing and the range's VMAs write-locked no
 * fault runs, so once their PTEs are write-protected again (and the TLBs
 * flushed) the next write to any of them faults and marks it anew.
 */
static void winvm_watch_rearm(struct winvm_alloc *alloc, const pgoff_t *pages,
			      unsigned int n)
{
	unsigned long first = alloc->origin + (pages[0] << PAGE_SHIFT);
	unsigned long end = alloc->origin + ((pages[n - 1] + 1) << PAGE_SHIFT);
	unsigned int i, span;

	mmap_assert_write_locked(alloc->wmm->mm);
	winvm_lock_vmas(alloc, first, end);
	winvm_watch_unmark(alloc->watch, pages, n);
	for (i = 0; i < n; i = span) {
		for (span = i + 1; span < n && pages[span] - pages[span - 1] < WINVM_WATCH_GAP;
		     span++)
			;
		winvm_wrprotect(alloc, alloc->origin + (pages[i] << PAGE_SHIFT),
				alloc->origin + ((pages[span - 1] + 1) << PAGE_SHIFT));
	}
	winvm_watch_keep_held(alloc, pages, n);
}

/* The range arguments of both calls: 0, or the NTSTATUS of a bad one. */
static u32 winvm_watch_range(u64 addr, u64 size, unsigned long *start, unsigned long *end)
{
	if (!size || !winvm_range_ok(addr, size))
		return WINVM_STATUS_INVALID_PARAMETER;
	*start = round_down(addr, PAGE_SIZE);
	*end = PAGE_ALIGN(addr + size);
	return 0;
}

/*
 * One round of NtGetWriteWatch from *next: list up to @max written pages
 * (under mmap_lock for reading), copy their addresses out (holding only
 * op_lock, which no fault takes), and only then, with RESET, reset
 * exactly those; so a reply that cannot be written resets nothing.
 * *next moves past the last page listed.  Returns the count or a negative
 * errno (-EINVAL: the range is not, or no longer, one watched allocation).
 */
static long winvm_watch_round(struct winvm_mm *wmm, struct winvm_watch_get_args *args,
			      unsigned long start, unsigned long end, unsigned long *next,
			      u64 listed, pgoff_t *pages)
{
	u64 __user *out = (u64 __user *)u64_to_user_ptr(args->addresses) + listed;
	unsigned int i, n, max = min_t(u64, WINVM_WATCH_ROUND, args->count - listed);
	bool reset = args->flags & WINVM_WRITE_WATCH_FLAG_RESET;
	struct winvm_alloc *alloc;
	unsigned long origin;
	pgoff_t idx;

	if (mmap_read_lock_killable(wmm->mm))
		return -EINTR;
	alloc = winvm_watch_find(wmm, start, end);
	if (!alloc) {
		mmap_read_unlock(wmm->mm);
		return -EINVAL;
	}
	origin = alloc->origin;
	idx = winvm_pgoff(alloc, *next);
	n = winvm_watch_list(alloc->watch, &idx, winvm_pgoff(alloc, end) - 1, pages, max);
	mmap_read_unlock(wmm->mm);
	*next = origin + (idx << PAGE_SHIFT);

	for (i = 0; i < n; i++)
		if (put_user(origin + (pages[i] << PAGE_SHIFT), out + i))
			return -EFAULT;
	if (!reset || !n)
		return n;
	if (mmap_write_lock_killable(wmm->mm))
		return -EINTR;
	alloc = winvm_watch_find(wmm, start, end);
	if (alloc)
		winvm_watch_rearm(alloc, pages, n);
	mmap_write_unlock(wmm->mm);
	return n;
}

static u32 winvm_watch_get_check(struct winvm_watch_get_args *args)
{
	if (args->pad || args->reserved[0] || args->reserved[1] ||
	    (args->flags & ~WINVM_WRITE_WATCH_FLAG_RESET) || !args->count)
		return WINVM_STATUS_INVALID_PARAMETER;
	return 0;
}

u32 winvm_watch_get_ioctl(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_watch_get_args *args = arg;
	unsigned long start, end, next;
	u64 listed = 0;
	pgoff_t *pages;
	long n;
	u32 status;

	status = winvm_watch_get_check(args);
	if (!status)
		status = winvm_watch_range(args->address, args->size, &start, &end);
	if (status)
		return status;
	/* (Checked before the range's owner, as NtGetWriteWatch does, R129.) */
	if (!args->addresses)
		return WINVM_STATUS_ACCESS_VIOLATION;
	pages = kmalloc_array(WINVM_WATCH_ROUND, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return WINVM_STATUS_NO_MEMORY;
	next = start;
	do {
		n = winvm_watch_round(wmm, args, start, end, &next, listed, pages);
		if (n > 0)
			listed += n;
	} while (n > 0 && listed < args->count);
	kfree(pages);
	/*
	 * Unmapped natively between two rounds, or an array that ends early:
	 * the rounds already copied out (and reset) stand, so say how many.
	 */
	if (n < 0 && !((n == -EINVAL || n == -EFAULT) && listed))
		return winvm_errno_status(n);
	args->count = listed;
	args->granularity = PAGE_SIZE;
	return WINVM_STATUS_SUCCESS;
}

u32 winvm_watch_reset_ioctl(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_watch_reset_args *args = arg;
	unsigned long start, end;
	struct winvm_alloc *alloc;
	pgoff_t *pages, idx, last;
	unsigned int n;
	u32 status;

	if (winvm_args_reserved(args))
		return WINVM_STATUS_INVALID_PARAMETER;
	status = winvm_watch_range(args->address, args->size, &start, &end);
	if (status)
		return status;
	pages = kmalloc_array(WINVM_WATCH_ROUND, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return WINVM_STATUS_NO_MEMORY;
	if (mmap_write_lock_killable(wmm->mm)) {
		kfree(pages);
		return WINVM_STATUS_NO_MEMORY;
	}
	alloc = winvm_watch_find(wmm, start, end);
	if (!alloc) {
		status = WINVM_STATUS_INVALID_PARAMETER;
		goto out;
	}
	idx = winvm_pgoff(alloc, start);
	last = winvm_pgoff(alloc, end) - 1;
	/* Listed, then reset a round at a time: the cost follows the written pages. */
	while ((n = winvm_watch_list(alloc->watch, &idx, last, pages, WINVM_WATCH_ROUND)))
		winvm_watch_rearm(alloc, pages, n);
out:
	mmap_write_unlock(wmm->mm);
	kfree(pages);
	return status;
}
