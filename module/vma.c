// SPDX-License-Identifier: GPL-2.0-only
/*
 * VMA surgery: finding an allocation's VMAs, mapping and unmapping them
 * (always through vm_mmap()/vm_munmap(), as mmap(2) would), dropping
 * their PTEs, and handing VMAs over when an allocation splits.
 */

#include <linux/file.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>

#include "compat.h"
#include "winvm.h"

/* Is @vma one of winvm's (either flavour of vm_ops, vmops.c)? */
static bool winvm_vma_ours(struct vm_area_struct *vma)
{
	return vma->vm_ops == &winvm_vm_ops || vma->vm_ops == &winvm_vm_ops_mmap_lock;
}

bool winvm_vma_is(struct vm_area_struct *vma, struct winvm_alloc *alloc)
{
	return winvm_vma_ours(vma) && vma->vm_private_data == alloc;
}

/*
 * The allocation of @wmm mapped at @addr, or NULL.  A VMA copied into a
 * child by fork after MADV_DOFORK still points at the parent's allocation;
 * it is not the child's to change.  Caller holds mmap_lock.
 */
struct winvm_alloc *winvm_find_alloc(struct winvm_mm *wmm, unsigned long addr)
{
	mmap_assert_locked(wmm->mm);
	return winvm_vma_alloc(vma_lookup(wmm->mm, addr), wmm);
}

/* The allocation of @wmm that @vma maps, or NULL (@vma may be NULL). */
struct winvm_alloc *winvm_vma_alloc(struct vm_area_struct *vma, struct winvm_mm *wmm)
{
	struct winvm_alloc *alloc;

	if (!vma || !winvm_vma_ours(vma))
		return NULL;
	mmap_assert_locked(vma->vm_mm);
	alloc = vma->vm_private_data;
	return alloc->wmm == wmm ? alloc : NULL;
}

/*
 * Unmap the VMAs of @alloc in [start, end), and nothing else: a native
 * munmap of one whole VMA of a split allocation cannot be refused, and the
 * hole it leaves may hold someone else's mapping by now.
 */
int winvm_unmap_own(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long s, e;
	int ret = 0;

	lockdep_assert_held(&wmm->op_lock);
	while (start < end && !ret) {
		mmap_read_lock(wmm->mm);
		vma = find_vma(wmm->mm, start);
		while (vma && vma->vm_start < end && !winvm_vma_is(vma, alloc))
			vma = find_vma(wmm->mm, vma->vm_end);
		if (!vma || vma->vm_start >= end) {
			mmap_read_unlock(wmm->mm);
			break;
		}
		s = max(start, vma->vm_start);
		/* Take a run of our VMAs in one go. */
		for (e = vma->vm_end; e < end; e = vma->vm_end) {
			vma = vma_lookup(wmm->mm, e);
			if (!vma || !winvm_vma_is(vma, alloc))
				break;
		}
		e = min(e, end);
		mmap_read_unlock(wmm->mm);
		alloc->surgeon = current;
		ret = vm_munmap(s, e - s);
		alloc->surgeon = NULL;
		start = e;
	}
	return ret;
}

/*
 * Before anything that a fault in [start, end) of @alloc reads changes:
 * since winvm's VMAs have ->map_pages, faults may run under a VMA's own
 * lock alone (6.4+), which mmap_lock held for writing does not keep out.
 * Write-locking the VMAs waits for those under way and sends new ones to
 * mmap_lock until it is released (fault.c).
 */
void winvm_lock_vmas(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	struct mm_struct *mm = alloc->wmm->mm;
	struct vm_area_struct *vma;

	mmap_assert_write_locked(mm);
	for (vma = find_vma(mm, start); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end))
		if (winvm_vma_is(vma, alloc))
			winvm_vma_start_write(vma);
}

/* End of the run of @alloc's VMAs that starts at or before @addr. */
unsigned long winvm_alloc_mapped_end(struct mm_struct *mm, struct winvm_alloc *alloc,
				     unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	for (;;) {
		vma = vma_lookup(mm, addr);
		if (!vma || !winvm_vma_is(vma, alloc))
			return addr;
		addr = vma->vm_end;
	}
}

/* Do @alloc's VMAs cover all of [start, end)? */
bool winvm_alloc_covers(struct mm_struct *mm, struct winvm_alloc *alloc,
			unsigned long start, unsigned long end)
{
	return start < end && winvm_alloc_mapped_end(mm, alloc, start) >= end;
}

/*
 * A view is about to map [addr, addr + len) of a caller's file: let the
 * kernel's mmap path check that file as mmap(2) would (filecheck.c).  The
 * probe maps the file the view maps (alloc->shm: a read-only reopen for a
 * view that may not write the section), never the creator's fd: between
 * the probe and winvm's VMA another thread can mremap or fork the probe
 * away and keep it, and then it must give no more than the view does.  A
 * write-copy view writes only private copies, so it is checked as a
 * private writable mapping, as MAP_PRIVATE would be.
 */
static int winvm_view_probe(struct winvm_alloc *alloc, unsigned long addr,
			    unsigned long len, unsigned long prot, bool fixed,
			    struct winvm_probe *p)
{
	struct winvm_section *sec = alloc->section;
	bool shared = alloc->shm->f_mode & FMODE_WRITE;

	p->addr = 0;
	/* Pagefile-backed sections are our own shmem: no caller's file. */
	if (!sec || !(sec->attributes & WINVM_SEC_FILE))
		return 0;
	/* A new range is probed in place; surgery's range is ours already. */
	return winvm_probe_begin(p, alloc->shm, fixed ? 0 : addr, len,
				 (u64)winvm_pgoff(alloc, addr) << PAGE_SHIFT, prot,
				 shared || !alloc->cow_file ? MAP_SHARED : MAP_PRIVATE);
}

/*
 * Map [addr, addr + len) of @alloc with vm_mmap() of the mapper file.
 * @fixed replaces what is there (our own VMAs, during surgery); otherwise
 * the range must be free.
 */
int winvm_map_range(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long addr, unsigned long len, bool exec, bool fixed)
{
	unsigned long prot = PROT_READ | (exec ? PROT_EXEC : 0);
	unsigned long flags = MAP_SHARED | (fixed ? MAP_FIXED : MAP_FIXED_NOREPLACE);
	struct file *mapper = wmm->mapper_ro;
	struct winvm_probe probe;
	unsigned long ret;
	int tries;

	lockdep_assert_held(&wmm->op_lock);
	/* Views that can never write their section get no VM_WRITE at all. */
	if (winvm_alloc_writable(alloc)) {
		prot |= PROT_WRITE;
		mapper = wmm->mapper;
	}
	ret = winvm_view_probe(alloc, addr, len, prot, fixed, &probe);
	if (ret)
		return (int)ret;
	if (probe.addr && probe.addr == addr)
		flags = MAP_SHARED | MAP_FIXED;	/* our VMA replaces the probe */
	wmm->map_alloc = alloc;
	alloc->surgeon = current;
	/*
	 * A failed MAP_FIXED may already have unmapped the old VMAs (6.1 does
	 * that first); rather than leave a hole in the allocation, try again:
	 * allocation failures are mostly transient.
	 */
	for (tries = 0; tries < (fixed ? 3 : 1); tries++) {
		ret = vm_mmap(mapper, addr, len, prot, flags,
			      (unsigned long)winvm_pgoff(alloc, addr) << PAGE_SHIFT);
		/* The VMA is linked (or gone): its own count holds writers now. */
		if (wmm->map_writable) {
			mapping_unmap_writable(wmm->map_writable);
			wmm->map_writable = NULL;
		}
		if (ret != (unsigned long)-ENOMEM)
			break;
	}
	alloc->surgeon = NULL;
	wmm->map_alloc = NULL;
	winvm_probe_end(&probe, &winvm_vm_ops);
	/* (LSMs and the backing file's ->mmap answered in there too.) */
	if (IS_ERR_VALUE(ret))
		return winvm_foreign_errno((int)ret);
	if (WARN_ON_ONCE(ret != addr))
		return -EFAULT;
	return 0;
}

/*
 * Second half, once [.., at) and [at, ..) are separate VMAs: the tail's
 * VMAs move to @tail and @alloc ends at @at.  Cannot fail.  Called with
 * op_lock and mmap_lock (write) held.
 */
void winvm_alloc_split_commit(struct winvm_alloc *alloc, struct winvm_alloc *tail,
			      unsigned long at)
{
	struct mm_struct *mm = alloc->wmm->mm;
	unsigned long end = alloc->base + alloc->size;
	struct vm_area_struct *vma;

	lockdep_assert_held(&alloc->wmm->op_lock);
	mmap_assert_write_locked(mm);
	/* Faults in the tail read its states and vm_private_data: keep them out. */
	winvm_lock_vmas(alloc, at, end);
	mutex_lock(&alloc->state_lock);
	/* Left-over entries past the new end would be harmless: ignore a failure. */
	winvm_ps_set_nocap(&alloc->pages, winvm_pgoff(alloc, at), winvm_pgoff(alloc, end) - 1, 0);
	alloc->size = at - alloc->base;
	mutex_unlock(&alloc->state_lock);
	tail->punched = false;

	for (vma = find_vma(mm, at); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		if (!winvm_vma_is(vma, alloc))
			continue;
		vma->vm_private_data = tail;
		kref_get(&tail->ref);
		/* Cannot drop the last reference: the caller holds one. */
		winvm_alloc_put(alloc);
	}
}

