// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allocation object: an NT allocation (VAD) or a view of a section,
 * its lifetime, and its pages' state as NT reports it.  Its VMAs are made
 * and changed by vma.c.
 */

#include <linux/file.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/slab.h>

#include "winvm.h"

/* A new allocation object; takes over the caller's reference on @shm. */
static struct winvm_alloc *winvm_alloc_new(struct winvm_mm *wmm, struct file *shm,
					   u32 protect)
{
	struct winvm_alloc *alloc;

	alloc = kzalloc(sizeof(*alloc), GFP_KERNEL_ACCOUNT);
	if (!alloc) {
		fput(shm);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&alloc->ref);
	mutex_init(&alloc->state_lock);
	winvm_ps_init(&alloc->pages, &alloc->state_lock, &wmm->runs);
	kref_get(&wmm->ref);
	alloc->wmm = wmm;
	alloc->shm = shm;
	alloc->alloc_protect = protect;
	alloc->type = WINVM_MEM_PRIVATE;
	return alloc;
}

/*
 * Private memory of @size bytes, all reserved, at its own range of the
 * process's shmem file, which starts at *off.
 */
struct winvm_alloc *winvm_alloc_create(struct winvm_mm *wmm, unsigned long size,
				       u32 protect, u64 *off)
{
	struct winvm_alloc *alloc;
	int ret;

	ret = winvm_shm_reserve(wmm, size, off);
	if (ret)
		return ERR_PTR(ret);
	alloc = winvm_alloc_new(wmm, get_file(wmm->shm), protect);
	if (IS_ERR(alloc)) {
		winvm_shm_unreserve(wmm, size, *off);
		return alloc;
	}
	atomic_inc(&wmm->nprivate);
	alloc->size = size;
	alloc->cache_attr = protect & (WINVM_PAGE_NOCACHE | WINVM_PAGE_WRITECOMBINE);
	return alloc;
}

/* A view of @sec; write-copy views get their private file at once. */
struct winvm_alloc *winvm_view_create(struct winvm_mm *wmm, struct winvm_section *sec,
				      u32 view_prot)
{
	struct winvm_alloc *alloc;
	struct file *shm, *copies = NULL;

	/*
	 * A view that may not write the section maps it through a read-only
	 * file, so nothing done to the VMA (MADV_REMOVE, say) can reach the
	 * section's data with write access.
	 */
	shm = winvm_prot_writes(view_prot) ? get_file(sec->file) : winvm_section_ro_file(sec);
	if (IS_ERR(shm))
		return ERR_CAST(shm);
	if (winvm_prot_is_copy(view_prot)) {
		copies = winvm_cow_file(sec);
		if (IS_ERR(copies)) {
			fput(shm);
			return ERR_CAST(copies);
		}
	}
	alloc = winvm_alloc_new(wmm, shm, view_prot);
	if (IS_ERR(alloc)) {
		if (copies)
			fput(copies);
		return alloc;
	}
	kref_get(&sec->ref);
	alloc->section = sec;
	alloc->type = WINVM_MEM_MAPPED;
	alloc->cow_file = copies;
	/* SEC_NOCACHE views report PAGE_NOCACHE (R116). */
	if (sec->attributes & WINVM_SEC_NOCACHE)
		alloc->cache_attr = WINVM_PAGE_NOCACHE;
	else if (sec->attributes & WINVM_SEC_WRITECOMBINE)
		alloc->cache_attr = WINVM_PAGE_WRITECOMBINE;
	return alloc;
}

/* A view's private-copy file (cow.c). */
struct file *winvm_cow_file(struct winvm_section *sec)
{
	return winvm_shmem_file("winvm-copy", PAGE_ALIGN(sec->size));
}

/*
 * The mm is gone and with it the last private allocation: nothing can
 * make another (ioctls come only from the mm), so the process's shmem file
 * goes now rather than with the winvm_mm, which an fd kept elsewhere may
 * hold for long.
 */
static void winvm_alloc_unaccount(struct winvm_alloc *alloc)
{
	struct winvm_mm *wmm = alloc->wmm;
	struct file *shm;

	if (alloc->section || !atomic_dec_and_test(&wmm->nprivate) ||
	    atomic_read(&wmm->mm->mm_users))
		return;
	shm = xchg(&wmm->shm, NULL);
	if (shm)
		fput(shm);
}

static void winvm_alloc_free(struct winvm_alloc *alloc)
{
	winvm_alloc_unaccount(alloc);
	winvm_ps_destroy(&alloc->pages);
	if (alloc->watch)
		winvm_watch_put(alloc->watch);
	fput(alloc->shm);
	if (alloc->data)
		fput(alloc->data);
	if (alloc->cow_file)
		fput(alloc->cow_file);
	if (alloc->section)
		winvm_section_put(alloc->section);
	winvm_mm_put(alloc->wmm);
	kfree(alloc);
}

/*
 * The pages of private memory outlive its last VMA in the process's
 * shmem file (wmm.c) unless punched out: MEM_RELEASE does that itself;
 * after a native munmap (or a failed mapping) it is done here.  At exit
 * the whole file goes anyway.
 */
static bool winvm_alloc_holds_pages(struct winvm_alloc *alloc)
{
	return !alloc->section && alloc->data && !alloc->punched &&
	       atomic_read(&alloc->wmm->mm->mm_users);
}

/* Free the contents of [start, end); without mmap_lock (i_rwsem nests outside it). */
int winvm_punch(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	lockdep_assert_not_held(&alloc->wmm->mm->mmap_lock);
	return vfs_fallocate(alloc->shm, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     (loff_t)winvm_pgoff(alloc, start) << PAGE_SHIFT,
			     end - start);
}

static struct workqueue_struct *winvm_free_wq;

/* Out of line: the last put may come from ->close, under mmap_lock. */
static void winvm_alloc_free_work(struct work_struct *work)
{
	struct winvm_alloc *alloc = container_of(work, struct winvm_alloc, free_work);

	winvm_punch(alloc, alloc->base, alloc->base + alloc->size);
	winvm_alloc_free(alloc);
}

static void winvm_alloc_release(struct kref *ref)
{
	struct winvm_alloc *alloc = container_of(ref, struct winvm_alloc, ref);

	if (!winvm_alloc_holds_pages(alloc)) {
		winvm_alloc_free(alloc);
		return;
	}
	INIT_WORK(&alloc->free_work, winvm_alloc_free_work);
	queue_work(winvm_free_wq, &alloc->free_work);
}

void winvm_alloc_put(struct winvm_alloc *alloc)
{
	kref_put(&alloc->ref, winvm_alloc_release);
}

int winvm_alloc_init(void)
{
	winvm_free_wq = alloc_workqueue("winvm_free", WQ_UNBOUND, 0);
	return winvm_free_wq ? 0 : -ENOMEM;
}

/* Every allocation is gone by now; waits for the last frees to finish. */
void winvm_alloc_exit(void)
{
	destroy_workqueue(winvm_free_wq);
}

/*
 * NT partial release, first half: a new allocation for the pages from @at
 * on, holding a copy of their state and sharing the shmem file.  Nothing
 * of @alloc changes yet, so a failure here leaves the caller free to give
 * up cleanly.  The second half is winvm_alloc_split_commit() (vma.c).
 */
struct winvm_alloc *winvm_alloc_split_prepare(struct winvm_alloc *alloc, unsigned long at)
{
	unsigned long end = alloc->base + alloc->size;
	struct winvm_alloc *tail;
	int ret;

	lockdep_assert_held(&alloc->wmm->op_lock);
	tail = winvm_alloc_new(alloc->wmm, get_file(alloc->shm), alloc->alloc_protect);
	if (IS_ERR(tail))
		return tail;
	if (alloc->data)
		tail->data = get_file(alloc->data);
	tail->shm_ops = alloc->shm_ops;
	tail->origin = alloc->origin;
	tail->base = at;
	tail->size = end - at;
	tail->cache_attr = alloc->cache_attr;
	tail->type = alloc->type;
	/* Both pieces keep the offsets they had, and so share the record. */
	if (alloc->watch)
		tail->watch = winvm_watch_get(alloc->watch);
	/* Its pages are @alloc's until winvm_alloc_split_commit(). */
	tail->punched = true;
	if (!tail->section)
		atomic_inc(&tail->wmm->nprivate);

	mutex_lock(&alloc->state_lock);
	mutex_lock_nested(&tail->state_lock, SINGLE_DEPTH_NESTING);
	ret = winvm_ps_copy(&tail->pages, &alloc->pages, winvm_pgoff(alloc, at),
			    winvm_pgoff(alloc, end));
	mutex_unlock(&tail->state_lock);
	mutex_unlock(&alloc->state_lock);
	if (ret) {
		winvm_alloc_put(tail);
		return ERR_PTR(ret);
	}
	return tail;
}

/*
 * The state a page really has.  Private memory keeps it all in its tree.
 * A view keeps only per-view protections there; whether a page is
 * committed is the section's business, and pages without a protection of
 * their own show the view's.
 */
u32 winvm_eff_span(struct winvm_alloc *alloc, pgoff_t idx, pgoff_t limit, pgoff_t *next)
{
	struct winvm_section *sec = alloc->section;
	u32 st = winvm_ps_span(&alloc->pages, idx, limit, next);

	if (!sec || (st & WINVM_PS_COMMIT))
		return st;
	if (sec->reserve && !winvm_section_committed(sec, idx, *next, next))
		return 0;
	return WINVM_PS_COMMIT | alloc->alloc_protect;
}

/* The protection VirtualQuery reports for a page in state @st. */
u32 winvm_visible_protect(const struct winvm_alloc *alloc, u32 st)
{
	u32 prot;

	if (!(st & WINVM_PS_COMMIT))
		return 0;
	prot = st & (WINVM_PS_PROT | WINVM_PS_GUARD);
	if (st & WINVM_PS_COPIED)
		prot = winvm_prot_copied(prot);
	/*
	 * Cache attributes belong to the allocation (they stick, R25); a
	 * view shows its section's on every page, no-access ones too, as its
	 * AllocationProtect does (R116).
	 */
	if ((prot & WINVM_PS_PROT) != WINVM_PAGE_NOACCESS || alloc->section)
		prot |= alloc->cache_attr;
	return prot;
}

/* May the VMAs of @alloc ever write (private memory, copies, writable views)? */
bool winvm_alloc_writable(const struct winvm_alloc *alloc)
{
	return !alloc->section || alloc->cow_file || winvm_prot_writes(alloc->alloc_protect);
}
