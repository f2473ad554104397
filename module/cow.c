// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write-copy views.
 *
 * A view's VMAs map the section's file directly (read-only unless the view
 * may write the section), so every view shares the section's page cache
 * and rmap.  A view that may hold private copies (FILE_MAP_COPY, or pages
 * later protected WRITECOPY) also owns a shmem file P: until the view
 * writes a page it sees the section's page, so other writers' changes stay
 * visible; its first write, from user or kernel mode, copies the page into
 * P, and from then on ->fault hands out P's page instead.  P is reachable
 * only through the module, so nothing can truncate a copy while it is
 * mapped, and a truncation of the section's file still finds these PTEs
 * through the section's rmap.  Copies live in a file, not in the VMA, so
 * later protection changes and VMA surgery never lose them.
 */

#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>

#include "winvm.h"
#include "compat.h"

/*
 * The section's page @idx as @alloc's VMAs see it, with a reference,
 * uptodate and unlocked.  Read through the file the VMAs really map
 * (alloc->data: for overlayfs the real file, whose mapping can read folios;
 * the overlay's own cannot), which filecheck.c made sure is page cache.
 */
static struct page *winvm_section_page(struct winvm_alloc *alloc, pgoff_t idx)
{
	struct file *file = alloc->data;
	struct address_space *mapping;

	if (!file || idx >= DIV_ROUND_UP(alloc->section->size, PAGE_SIZE))
		return ERR_PTR(-EFAULT);
	mapping = file->f_mapping;
	if (shmem_mapping(mapping))
		return shmem_read_mapping_page_gfp(mapping, idx, mapping_gfp_mask(mapping));
	if (WARN_ON_ONCE(!mapping->a_ops->read_folio))
		return ERR_PTR(-EIO);
	return read_mapping_page(mapping, idx, file);
}

static struct page *winvm_cow_page(struct winvm_alloc *alloc, pgoff_t idx)
{
	struct address_space *mapping = alloc->cow_file->f_mapping;

	return shmem_read_mapping_page_gfp(mapping, idx, mapping_gfp_mask(mapping));
}

/* Give the view its private copy of page @idx, whose state is @st. */
static int winvm_cow_copy(struct winvm_alloc *alloc, pgoff_t idx, u32 st)
	__must_hold(&alloc->state_lock)
{
	struct page *src, *dst;

	lockdep_assert_held(&alloc->state_lock);
	src = winvm_section_page(alloc, idx);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = winvm_cow_page(alloc, idx);
	if (IS_ERR(dst)) {
		put_page(src);
		return PTR_ERR(dst);
	}
	copy_highpage(dst, src);
	set_page_dirty_lock(dst);
	put_page(dst);
	put_page(src);
	/* A written write-copy page reports READWRITE from now on (R114). */
	return winvm_ps_set_nocap(&alloc->pages, idx, idx, winvm_prot_copied(st) |
				  WINVM_PS_COMMIT | WINVM_PS_COPIED);
}

static vm_fault_t winvm_cow_errno(int err)
{
	return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
}

/*
 * ->fault's first half for a write-copy capable view, the access already
 * allowed: a write to a write-copy page makes the copy.  *st is updated.
 */
vm_fault_t winvm_cow_prepare(struct winvm_alloc *alloc, pgoff_t idx, u32 *st, u32 access)
	__must_hold(&alloc->state_lock)
{
	int err;

	lockdep_assert_held(&alloc->state_lock);
	if ((*st & WINVM_PS_COPIED) || access != WINVM_EXCEPTION_WRITE_FAULT ||
	    !winvm_prot_is_copy(*st))
		return 0;
	err = winvm_cow_copy(alloc, idx, *st);
	if (err)
		return winvm_cow_errno(err);
	*st |= WINVM_PS_COPIED;
	return 0;
}

/* ->fault's second half, without state_lock: the copy, or the section's page. */
vm_fault_t winvm_cow_fault(struct vm_fault *vmf, struct winvm_alloc *alloc, u32 st)
{
	struct page *page;

	/* Not written by this view: the section's page, its own way. */
	if (!(st & WINVM_PS_COPIED))
		return alloc->shm_ops->fault(vmf);
	page = winvm_cow_page(alloc, vmf->pgoff);
	if (IS_ERR(page))
		return winvm_cow_errno(PTR_ERR(page));
	vmf->page = page;
	return 0;
}

/*
 * A read-only PTE of a write-copy capable view is about to become
 * writable, the write already allowed by the page's protection.
 *
 * What decides is the page itself, not the state: the state may have
 * changed since the PTE was made.  A reader can install the section's page
 * after a writer made its copy (the writer's fault read the state, made the
 * copy, then lost the race to install its PTE), and the writer's retry then
 * arrives here with the section's page and a state that says "copied".
 * Only this view's own copy, or the section's page in a view that may
 * write the section and a page that is not write-copy, become writable
 * (T-COW).  Any other PTE goes, so that the retried write reaches ->fault,
 * which makes or finds the copy.
 */
vm_fault_t winvm_cow_mkwrite(struct vm_fault *vmf, struct winvm_alloc *alloc, u32 st)
{
	struct folio *folio = page_folio(vmf->page);
	vm_fault_t ret;
	pgoff_t next;

	if (READ_ONCE(folio->mapping) == alloc->cow_file->f_mapping)
		return 0;
	if (!(st & WINVM_PS_COPIED) && !winvm_prot_is_copy(st) &&
	    (alloc->shm->f_mode & FMODE_WRITE)) {
		if (alloc->shm_ops->page_mkwrite)
			return alloc->shm_ops->page_mkwrite(vmf);
		return 0;
	}
	/*
	 * Make the copy now rather than in the retried ->fault: readers that
	 * keep mapping the section's page would otherwise win every retry.
	 * From here on ->fault hands out the copy to everyone.
	 */
	mutex_lock(&alloc->state_lock);
	st = winvm_eff_span(alloc, vmf->pgoff, vmf->pgoff + 1, &next);
	ret = winvm_cow_prepare(alloc, vmf->pgoff, &st, WINVM_EXCEPTION_WRITE_FAULT);
	mutex_unlock(&alloc->state_lock);
	if (ret)
		return ret;
	winvm_zap_vma(vmf->vma, vmf->address, PAGE_SIZE);
	return VM_FAULT_NOPAGE;
}
