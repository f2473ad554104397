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
 * A round's buffer: the listed offsets, then either their addresses (to
 * copy out) or, later, what the reset found of each (one byte each).
 */
static pgoff_t *winvm_watch_buf(void)
{
	BUILD_BUG_ON(sizeof(u64) != sizeof(pgoff_t));
	return kmalloc_array(2 * WINVM_WATCH_ROUND, sizeof(pgoff_t), GFP_KERNEL);
}

static void *winvm_watch_buf_tail(pgoff_t *pages)
{
	return pages + WINVM_WATCH_ROUND;
}

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
 * reference per page, each mapping one, the caller @refs, and a folio off
 * the LRU one more: a per-CPU LRU batch (or an isolation) holds it, as
 * for every freshly faulted folio until its batch drains.  Anything above
 * is someone else's (6.1's O_DIRECT takes plain references, not pins).
 * A transient reference only makes a page listed once too often, which
 * is allowed; a write left out is not.
 */
static bool winvm_folio_held(struct folio *folio, int refs)
{
	bool lru = folio_test_lru(folio);
	int count;

	/* (winvm's tmpfs is huge=never; a large folio is counted as held.) */
	if (folio_test_large(folio) || folio_maybe_dma_pinned(folio))
		return true;
	/*
	 * A batch drains by setting the LRU flag, then dropping its reference:
	 * read the flag on both sides of the count, or the drop could hide
	 * someone else's reference behind the batch's.
	 */
	smp_rmb(); /* the flag before the count */
	count = folio_ref_count(folio);
	smp_rmb(); /* the count before the flag again */
	if (folio_test_lru(folio) != lru)
		return true;
	return count > 1 + refs + winvm_small_folio_mapcount(folio) + !lru;
}

/*
 * Reset the pages of @alloc listed in @pages[0..n) (in ascending order):
 * with mmap_lock held for writing and the range's VMAs write-locked no
 * fault runs, so once their PTEs are write-protected again (and the TLBs
 * flushed) the next write to any of them faults and marks it anew.  A
 * page the kernel may still write without a fault stays written.  @held
 * has room for @n.
 */
static void winvm_watch_rearm(struct winvm_alloc *alloc, const pgoff_t *pages,
			      unsigned int n, u8 *held)
{
	unsigned long first = alloc->origin + (pages[0] << PAGE_SHIFT);
	unsigned long end = alloc->origin + ((pages[n - 1] + 1) << PAGE_SHIFT);
	unsigned int i;

	mmap_assert_write_locked(alloc->wmm->mm);
	winvm_lock_vmas(alloc, first, end);
	winvm_watch_unmark(alloc->watch, pages, n);
	winvm_wrprotect_list(alloc, pages, n, held, winvm_folio_held);
	for (i = 0; i < n; i++)
		/* Its bitmap is there: the bit was just cleared in it. */
		if (held[i])
			winvm_watch_mark(alloc->watch, pages[i]);
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
 * exactly those; so a reply that cannot be written resets nothing.  The
 * reset happens only if the range is still the allocation the pages were
 * listed from: the record's reference keeps its address from being reused
 * by another one meanwhile.  @pages is a winvm_watch_buf().  *next moves
 * past the last page listed.  Returns the count or a negative errno
 * (-EINVAL: the range is not, or no longer, one watched allocation).
 */
static long winvm_watch_round(struct winvm_mm *wmm, struct winvm_watch_get_args *args,
			      unsigned long start, unsigned long end, unsigned long *next,
			      u64 listed, pgoff_t *pages, unsigned int max)
{
	u64 __user *out = (u64 __user *)u64_to_user_ptr(args->addresses) + listed;
	bool reset = args->flags & WINVM_WRITE_WATCH_FLAG_RESET;
	u64 *addrs = winvm_watch_buf_tail(pages);
	struct winvm_watch *watch;
	struct winvm_alloc *alloc;
	unsigned long origin;
	unsigned int i;
	long n;
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
	watch = winvm_watch_get(alloc->watch);
	mmap_read_unlock(wmm->mm);
	*next = origin + (idx << PAGE_SHIFT);

	for (i = 0; i < n; i++)
		addrs[i] = origin + (pages[i] << PAGE_SHIFT);
	if (copy_to_user(out, addrs, n * sizeof(*addrs))) {
		n = -EFAULT;
	} else if (reset && n && !mmap_write_lock_killable(wmm->mm)) {
		alloc = winvm_watch_find(wmm, start, end);
		if (alloc && alloc->watch == watch)
			winvm_watch_rearm(alloc, pages, n, winvm_watch_buf_tail(pages));
		mmap_write_unlock(wmm->mm);
	} else if (reset && n) {
		n = -EINTR;
	}
	winvm_watch_put(watch);
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
	unsigned int max;
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
	pages = winvm_watch_buf();
	if (!pages)
		return WINVM_STATUS_NO_MEMORY;
	next = start;
	/* A round that lists fewer than it may has found the last written page. */
	do {
		max = min_t(u64, WINVM_WATCH_ROUND, args->count - listed);
		n = winvm_watch_round(wmm, args, start, end, &next, listed, pages, max);
		if (n > 0)
			listed += n;
	} while (n == max && listed < args->count);
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
	pages = winvm_watch_buf();
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
		winvm_watch_rearm(alloc, pages, n, winvm_watch_buf_tail(pages));
out:
	mmap_write_unlock(wmm->mm);
	kfree(pages);
	return status;
}
