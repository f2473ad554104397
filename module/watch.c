// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write watch (MEM_WRITE_WATCH, NtGetWriteWatch, NtResetWriteWatch): which
 * pages of a watched allocation were written since it was made or last
 * reset.  A watched page's PTE stays read-only until the page is written
 * (winvm's VMAs are write-notified, and winvm_mkwrite() leaves watched
 * allocations alone), so every first write, by the process or by the
 * kernel on its behalf (uaccess, GUP), goes through ->page_mkwrite, which
 * sets the page's bit here (fault.c).  A reset clears bits and
 * write-protects those pages again in place (pte.c), with faults kept out
 * by the VMA locks, so no write between the two is lost.
 *
 * The bits live in one-page bitmaps made at the first write into their
 * range of shm offsets, so a 64 GiB watched reservation costs what is
 * written in it.  The pieces an NT partial release cuts an allocation into
 * share its offsets and so one struct winvm_watch; each reads only its own
 * range, and the bitmaps go with the last piece (or, wholly inside a
 * released or decommitted range, at once).
 */

#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "winvm.h"

/* Pages per bitmap: one page of bits. */
#define WINVM_WATCH_BITS	((pgoff_t)PAGE_SIZE * BITS_PER_BYTE)

/*
 * Lock: the bitmaps are inserted under the xarray's own lock and removed
 * only where no fault can reach them (see winvm_watch_clear()).  Faults on
 * any CPU set bits atomically; every clear of a word that a fault may be
 * setting a bit in is atomic too (winvm_bits_clear()).
 */
struct winvm_watch {
	struct kref ref;
	struct xarray chunks;		/* shm pgoff / WINVM_WATCH_BITS -> bitmap */
};

struct winvm_watch *winvm_watch_new(void)
{
	struct winvm_watch *w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);

	if (!w)
		return NULL;
	kref_init(&w->ref);
	xa_init(&w->chunks);
	return w;
}

struct winvm_watch *winvm_watch_get(struct winvm_watch *w)
{
	kref_get(&w->ref);
	return w;
}

static void winvm_watch_release(struct kref *ref)
{
	struct winvm_watch *w = container_of(ref, struct winvm_watch, ref);
	unsigned long *bits;
	unsigned long i;

	xa_for_each(&w->chunks, i, bits)
		kfree(bits);
	xa_destroy(&w->chunks);
	kfree(w);
}

void winvm_watch_put(struct winvm_watch *w)
{
	kref_put(&w->ref, winvm_watch_release);
}

/*
 * Page @idx was written: from ->page_mkwrite, under the VMA's lock (or
 * mmap_lock), which keeps winvm_watch_clear() from freeing its bitmap.
 * 0, or -ENOMEM.
 */
int winvm_watch_mark(struct winvm_watch *w, pgoff_t idx)
{
	unsigned long *bits = xa_load(&w->chunks, idx / WINVM_WATCH_BITS), *old;

	if (!bits) {
		bits = kzalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
		if (!bits)
			return -ENOMEM;
		old = xa_cmpxchg(&w->chunks, idx / WINVM_WATCH_BITS, NULL, bits,
				 GFP_KERNEL_ACCOUNT);
		if (old) {
			kfree(bits);
			if (xa_is_err(old))
				return xa_err(old);
			bits = old;
		}
	}
	set_bit(idx % WINVM_WATCH_BITS, bits);
	return 0;
}

/*
 * Clear bits [lo, lo + n) of @bits while faults may set bits outside that
 * range: the two edge words, which such bits may share, bit by bit and
 * atomically; the whole words between with plain stores (no fault sets a
 * bit in them: their pages are released or write-locked).
 */
static void winvm_bits_clear(unsigned long *bits, unsigned long lo, unsigned long n)
{
	unsigned long end = lo + n;
	unsigned long mid_lo = min(round_up(lo, BITS_PER_LONG), end);
	unsigned long mid_hi = max(round_down(end, BITS_PER_LONG), mid_lo);

	for (; lo < mid_lo; lo++)
		clear_bit(lo, bits);
	if (mid_hi > mid_lo)
		bitmap_clear(bits, mid_lo, mid_hi - mid_lo);
	for (lo = mid_hi; lo < end; lo++)
		clear_bit(lo, bits);
}

/*
 * Forget the writes to [first, last].  A bitmap wholly inside the range is
 * freed: its pages are released or decommitted, with their VMAs gone or
 * write-locked, and no other piece of the allocation has offsets in it.
 */
void winvm_watch_clear(struct winvm_watch *w, pgoff_t first, pgoff_t last)
{
	unsigned long c, *bits;
	pgoff_t lo, hi;

	xa_for_each_range(&w->chunks, c, bits, first / WINVM_WATCH_BITS,
			  last / WINVM_WATCH_BITS) {
		lo = max(first, c * WINVM_WATCH_BITS);
		hi = min(last, (c + 1) * WINVM_WATCH_BITS - 1);
		if (hi - lo + 1 == WINVM_WATCH_BITS)
			kfree(xa_erase(&w->chunks, c));
		else
			winvm_bits_clear(bits, lo % WINVM_WATCH_BITS, hi - lo + 1);
		cond_resched();
	}
}

/*
 * Up to @max written pages from *idx to @last into @out (shm offsets), with
 * *idx advanced past the last one listed.  Absent bitmaps are skipped
 * whole, so a clean range costs one bit per page at most, and each
 * bitmap is looked up once per call.
 */
unsigned int winvm_watch_list(struct winvm_watch *w, pgoff_t *idx, pgoff_t last,
			      pgoff_t *out, unsigned int max)
{
	unsigned long c, *bits, bit, size;
	unsigned int n = 0;
	pgoff_t p = *idx, base;

	while (n < max && p <= last) {
		c = p / WINVM_WATCH_BITS;
		bits = xa_find(&w->chunks, &c, last / WINVM_WATCH_BITS, XA_PRESENT);
		if (!bits) {
			p = last + 1;
			break;
		}
		base = c * WINVM_WATCH_BITS;
		size = min(last - base + 1, WINVM_WATCH_BITS);
		bit = find_next_bit(bits, size, p > base ? p - base : 0);
		for (; bit < size && n < max; bit = find_next_bit(bits, size, bit + 1))
			out[n++] = base + bit;
		/* Full: on after the last one listed; else past this bitmap. */
		p = n == max ? out[n - 1] + 1 : base + size;
	}
	*idx = p;
	return n;
}

/* Forget the writes to the listed pages, which winvm_watch_list() found. */
void winvm_watch_unmark(struct winvm_watch *w, const pgoff_t *pages, unsigned int n)
{
	unsigned long c = ULONG_MAX, *bits = NULL;
	unsigned int i;

	for (i = 0; i < n; i++) {
		/* (Listed in ascending order: one lookup per bitmap.) */
		if (pages[i] / WINVM_WATCH_BITS != c) {
			c = pages[i] / WINVM_WATCH_BITS;
			bits = xa_load(&w->chunks, c);
		}
		if (bits)
			clear_bit(pages[i] % WINVM_WATCH_BITS, bits);
	}
}
