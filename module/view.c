// SPDX-License-Identifier: GPL-2.0-only
/*
 * Views of sections (NtMapViewOfSection and friends) and write-copy.
 *
 * A view is a winvm_alloc of type MEM_MAPPED whose VMAs map the section's
 * file directly (read-only unless the view may write the section), so
 * every view shares the section's page cache and rmap.  A view that may
 * hold private copies (FILE_MAP_COPY, or pages later protected WRITECOPY)
 * also owns a shmem file P: until the view writes a page it sees the
 * section's page, so other writers' changes stay visible; its first write,
 * from user or kernel mode, copies the page into P, and from then on
 * ->fault hands out P's page instead.  P is reachable only through the
 * module, so nothing can truncate a copy while it is mapped, and a
 * truncation of the section's file still finds these PTEs through the
 * section's rmap.  Copies live in a file, not in the VMA, so later
 * protection changes and VMA surgery never lose them.
 */

#include <linux/highmem.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>

#include "winvm.h"

#define WINVM_VIEW_ACCESS	(WINVM_FILE_MAP_ALL_ACCESS | WINVM_FILE_MAP_EXECUTE)

/* FILE_MAP_* to the view's page protection (fact 95). */
static u32 winvm_view_prot(u32 access)
{
	bool x = access & WINVM_FILE_MAP_EXECUTE;

	if (access & WINVM_FILE_MAP_WRITE)
		return x ? WINVM_PAGE_EXECUTE_READWRITE : WINVM_PAGE_READWRITE;
	if (access & WINVM_FILE_MAP_READ)
		return x ? WINVM_PAGE_EXECUTE_READ : WINVM_PAGE_READONLY;
	if (access & WINVM_FILE_MAP_COPY)
		return x ? WINVM_PAGE_EXECUTE_WRITECOPY : WINVM_PAGE_WRITECOPY;
	return x ? WINVM_PAGE_EXECUTE_READ : WINVM_PAGE_NOACCESS;
}

#define WINVM_CAN_READ	1
#define WINVM_CAN_WRITE	2
#define WINVM_CAN_EXEC	4

static unsigned int winvm_prot_caps(u32 prot)
{
	switch (prot & WINVM_PS_PROT) {
	case WINVM_PAGE_READONLY:
	case WINVM_PAGE_WRITECOPY:
		return WINVM_CAN_READ;
	case WINVM_PAGE_READWRITE:
		return WINVM_CAN_READ | WINVM_CAN_WRITE;
	case WINVM_PAGE_EXECUTE:
		return WINVM_CAN_EXEC;
	case WINVM_PAGE_EXECUTE_READ:
	case WINVM_PAGE_EXECUTE_WRITECOPY:
		return WINVM_CAN_READ | WINVM_CAN_EXEC;
	case WINVM_PAGE_EXECUTE_READWRITE:
		return WINVM_CAN_READ | WINVM_CAN_WRITE | WINVM_CAN_EXEC;
	default:
		return 0;
	}
}

/*
 * May a page of a view with protection @view_prot be given @prot (facts
 * 109, 111, 112)?  Only what the view's own access covers; write-copy needs
 * just read access.  EXECUTE implies read on x86-64.
 */
bool winvm_view_prot_allowed(u32 view_prot, u32 prot)
{
	unsigned int have = winvm_prot_caps(view_prot);
	u32 base = prot & WINVM_PS_PROT;

	if (prot & ~(WINVM_PS_PROT | WINVM_PAGE_GUARD))
		return false;
	if (!base || (base & (base - 1)))
		return false;
	if ((prot & WINVM_PAGE_GUARD) && base == WINVM_PAGE_NOACCESS)
		return false;
	if (have & WINVM_CAN_EXEC)
		have |= WINVM_CAN_READ;
	if (base == WINVM_PAGE_EXECUTE)
		return have & WINVM_CAN_EXEC;
	return !(winvm_prot_caps(base) & ~have);
}

static bool winvm_is_writecopy(u32 prot)
{
	prot &= WINVM_PS_PROT;
	return prot == WINVM_PAGE_WRITECOPY || prot == WINVM_PAGE_EXECUTE_WRITECOPY;
}

/*
 * The section's page @idx as @alloc's VMAs see it, with a reference,
 * uptodate and unlocked.  Read through the file the VMAs really map
 * (alloc->data: for overlayfs the real file, whose mapping can read folios;
 * the overlay's own cannot), which filecheck.c made sure is page cache.
 */
struct page *winvm_section_page(struct winvm_alloc *alloc, pgoff_t idx)
{
	struct file *file = alloc->data;
	struct address_space *mapping;

	mmap_assert_locked(alloc->wmm->mm);
	if (!file || idx >= DIV_ROUND_UP(alloc->section->size, PAGE_SIZE))
		return ERR_PTR(-EFAULT);
	mapping = file->f_mapping;
	if (shmem_mapping(mapping))
		return shmem_read_mapping_page_gfp(mapping, idx, mapping_gfp_mask(mapping));
	if (WARN_ON_ONCE(!mapping->a_ops->read_folio))
		return ERR_PTR(-EIO);
	return read_mapping_page(mapping, idx, file);
}

/* A view's private-copy file P (see the top of this file). */
struct file *winvm_cow_file(struct winvm_section *sec)
{
	return winvm_shmem_file("winvm-copy", PAGE_ALIGN(sec->size));
}

static struct page *winvm_cow_page(struct winvm_alloc *alloc, pgoff_t idx)
{
	struct address_space *mapping = alloc->cow_file->f_mapping;

	return shmem_read_mapping_page_gfp(mapping, idx, mapping_gfp_mask(mapping));
}

/* Give the view its private copy of page @idx (state_lock held). */
static int winvm_cow_copy(struct winvm_alloc *alloc, pgoff_t idx, u32 st)
{
	struct page *src, *dst;
	u32 prot = st & WINVM_PS_PROT;

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
	/* A written write-copy page reports READWRITE from now on (fact 114). */
	prot = prot == WINVM_PAGE_EXECUTE_WRITECOPY ? WINVM_PAGE_EXECUTE_READWRITE :
	       prot == WINVM_PAGE_WRITECOPY ? WINVM_PAGE_READWRITE : prot;
	return winvm_state_set_nocap(alloc, idx, idx, (st & ~WINVM_PS_PROT) | prot |
				     WINVM_PS_COMMIT | WINVM_PS_COPIED);
}

/*
 * ->fault for a write-copy capable view, with state_lock held and the
 * access already allowed; drops state_lock.
 */
vm_fault_t winvm_cow_fault(struct vm_fault *vmf, struct winvm_alloc *alloc, u32 st,
			   u32 access)
{
	struct page *page;
	int err;

	if (!(st & WINVM_PS_COPIED) && access == WINVM_EXCEPTION_WRITE_FAULT &&
	    winvm_is_writecopy(st)) {
		err = winvm_cow_copy(alloc, vmf->pgoff, st);
		if (err) {
			mutex_unlock(&alloc->state_lock);
			return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
		}
		st |= WINVM_PS_COPIED;
	}
	mutex_unlock(&alloc->state_lock);
	/* Not written by this view: the section's page, its own way. */
	if (!(st & WINVM_PS_COPIED))
		return alloc->shm_ops->fault(vmf);

	page = winvm_cow_page(alloc, vmf->pgoff);
	if (IS_ERR(page))
		return PTR_ERR(page) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
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
	pgoff_t next;
	int err = 0;

	if (READ_ONCE(folio->mapping) == alloc->cow_file->f_mapping)
		return 0;
	if (!(st & WINVM_PS_COPIED) && !winvm_is_writecopy(st) &&
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
	if (!(st & WINVM_PS_COPIED) && winvm_is_writecopy(st))
		err = winvm_cow_copy(alloc, vmf->pgoff, st);
	mutex_unlock(&alloc->state_lock);
	if (err)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	winvm_zap_vma(vmf->vma, vmf->address, PAGE_SIZE);
	return VM_FAULT_NOPAGE;
}

/* Give a view its private-copy file, so its pages may be write-copy. */
int winvm_view_make_cow(struct winvm_mm *wmm, struct winvm_alloc *alloc)
{
	bool had_write = winvm_alloc_writable(alloc);
	struct file *cow;

	lockdep_assert_held(&wmm->op_lock);
	if (alloc->cow_file)
		return 0;
	cow = winvm_cow_file(alloc->section);
	if (IS_ERR(cow))
		return PTR_ERR(cow);
	mmap_write_lock(wmm->mm);
	alloc->cow_file = cow;
	mmap_write_unlock(wmm->mm);
	/* A view that could not write before needs VM_WRITE for its copies. */
	return had_write ? 0 : winvm_remap_all(wmm, alloc);
}

/* MEM_COMMIT inside a view (facts 108-110); state_lock held. */
u32 winvm_view_commit(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last, u32 prot)
{
	struct winvm_section *sec = alloc->section;
	int ret = 0;

	lockdep_assert_held(&alloc->state_lock);
	if (sec->attributes & WINVM_SEC_FILE)
		return WINVM_STATUS_ALREADY_COMMITTED;
	if (!winvm_view_prot_allowed(alloc->alloc_protect, prot))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	/* Commit belongs to the section, protection to each view. */
	if (sec->reserve) {
		MA_STATE(mas, &sec->committed, first, last);

		mutex_lock(&sec->commit_lock);
		ret = mas_store_gfp(&mas, xa_mk_value(1), GFP_KERNEL_ACCOUNT);
		mutex_unlock(&sec->commit_lock);
	}
	if (!ret)
		ret = winvm_state_set(alloc, first, last, WINVM_PS_COMMIT |
				      (prot & (WINVM_PS_PROT | WINVM_PS_GUARD)));
	return ret ? WINVM_STATUS_NO_MEMORY : WINVM_STATUS_SUCCESS;
}

static u32 winvm_view_check(struct winvm_view_map_args *args, u32 have,
			    struct winvm_section *sec)
{
	u32 access = args->access, need = 0;

	if (access & WINVM_FILE_MAP_WRITE)
		need |= WINVM_SECTION_MAP_WRITE;
	if ((access & (WINVM_FILE_MAP_READ | WINVM_FILE_MAP_COPY)) ||
	    !(access & (WINVM_FILE_MAP_WRITE | WINVM_FILE_MAP_EXECUTE)))
		need |= WINVM_SECTION_MAP_READ;
	if (access & WINVM_FILE_MAP_EXECUTE)
		need |= WINVM_SECTION_MAP_EXECUTE;
	if (need & ~have)
		return WINVM_STATUS_ACCESS_DENIED;
	/* The view may not exceed the section's own protection (fact 96). */
	if ((access & WINVM_FILE_MAP_WRITE) &&
	    sec->protect != WINVM_PAGE_READWRITE &&
	    sec->protect != WINVM_PAGE_EXECUTE_READWRITE)
		return WINVM_STATUS_ACCESS_DENIED;
	if ((access & WINVM_FILE_MAP_EXECUTE) && !winvm_is_exec_prot(sec->protect))
		return WINVM_STATUS_ACCESS_DENIED;
	return WINVM_STATUS_SUCCESS;
}

static u32 winvm_view_place(struct winvm_mm *wmm, struct winvm_view_map_args *args,
			    struct winvm_section *sec)
{
	u64 offset = args->offset, size = args->size, addr = args->address;
	u32 view_prot = winvm_view_prot(args->access), status;
	unsigned long limit, len;
	struct winvm_alloc *alloc;
	int ret;

	status = winvm_zero_bits_limit(args->zero_bits, &limit);
	if (status)
		return status == WINVM_STATUS_INVALID_PARAMETER_3 ?
		       WINVM_STATUS_INVALID_PARAMETER_4 : status;
	if ((offset & (WINVM_GRANULARITY - 1)) || (addr & (WINVM_GRANULARITY - 1)))
		return WINVM_STATUS_MAPPED_ALIGNMENT;
	if (offset >= sec->size)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!size)
		size = sec->size - offset;
	else if (size > sec->size - offset)
		return WINVM_STATUS_INVALID_VIEW_SIZE;
	len = PAGE_ALIGN(size);
	if (addr) {
		if (addr < WINVM_MIN_ADDR || addr > winvm_max_address() ||
		    len > winvm_max_address() + 1 - addr)
			return WINVM_STATUS_INVALID_PARAMETER;
		if (addr + len > limit)
			return WINVM_STATUS_INVALID_PARAMETER_4;
	}

	alloc = winvm_view_create(wmm, sec, view_prot);
	if (IS_ERR(alloc))
		return WINVM_STATUS_NO_MEMORY;
	if (!sec->reserve) {
		mutex_lock(&alloc->state_lock);
		ret = winvm_state_set(alloc, offset >> PAGE_SHIFT,
				      ((offset + len) >> PAGE_SHIFT) - 1,
				      WINVM_PS_COMMIT | view_prot);
		mutex_unlock(&alloc->state_lock);
		if (ret) {
			winvm_alloc_put(alloc);
			return WINVM_STATUS_NO_MEMORY;
		}
	}
	ret = winvm_alloc_place(wmm, alloc, addr, len, limit,
				args->type & WINVM_MEM_TOP_DOWN,
				winvm_is_exec_prot(view_prot), offset);
	if (!ret) {
		args->address = alloc->base;
		args->size = len;
	}
	winvm_alloc_put(alloc);
	return ret ? winvm_errno_status(ret) : WINVM_STATUS_SUCCESS;
}

u32 winvm_view_map(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_view_map_args *args = arg;
	struct winvm_section *sec;
	u32 status, have;

	if (args->flags || args->pad || args->reserved[0] || args->reserved[1] ||
	    (args->type & ~WINVM_MEM_TOP_DOWN) || (args->access & ~WINVM_VIEW_ACCESS))
		return WINVM_STATUS_INVALID_PARAMETER;
	sec = winvm_section_get(args->section_fd, &have, &status);
	if (!sec)
		return status;
	status = winvm_view_check(args, have, sec);
	if (!status)
		status = winvm_view_place(wmm, args, sec);
	winvm_section_put(sec);
	return status;
}

u32 winvm_view_unmap(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_view_unmap_args *args = arg;
	struct mm_struct *mm = wmm->mm;
	struct winvm_alloc *alloc;
	unsigned long base, size;
	int ret;

	if (args->flags || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->address > winvm_max_address())
		return WINVM_STATUS_INVALID_PARAMETER;
	if (mmap_read_lock_killable(mm))
		return WINVM_STATUS_NO_MEMORY;
	alloc = winvm_find_alloc(wmm, args->address);
	if (!alloc || !alloc->section) {
		mmap_read_unlock(mm);
		return WINVM_STATUS_NOT_MAPPED_VIEW;
	}
	kref_get(&alloc->ref);
	base = alloc->base;
	size = alloc->size;
	mmap_read_unlock(mm);

	ret = winvm_unmap_own(wmm, alloc, base, base + size);
	winvm_alloc_put(alloc);
	return ret ? winvm_errno_status(ret) : WINVM_STATUS_SUCCESS;
}

u32 winvm_view_flush(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_view_flush_args *args = arg;
	struct mm_struct *mm = wmm->mm;
	unsigned long start, end;
	struct winvm_alloc *alloc;
	struct file *file = NULL;
	loff_t from, to;
	int ret = 0;

	if (args->flags || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->address > winvm_max_address() ||
	    args->size > winvm_max_address() + 1 - args->address)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (mmap_read_lock_killable(mm))
		return WINVM_STATUS_NO_MEMORY;
	alloc = winvm_find_alloc(wmm, args->address);
	if (!alloc || !alloc->section) {
		mmap_read_unlock(mm);
		return WINVM_STATUS_NOT_MAPPED_VIEW;
	}
	start = round_down(args->address, PAGE_SIZE);
	end = args->size ? PAGE_ALIGN(args->address + args->size) : alloc->base + alloc->size;
	end = min(end, alloc->base + alloc->size);
	from = (loff_t)winvm_pgoff(alloc, start) << PAGE_SHIFT;
	to = ((loff_t)winvm_pgoff(alloc, end) << PAGE_SHIFT) - 1;
	if (alloc->section->attributes & WINVM_SEC_FILE)
		file = get_file(alloc->section->file);
	mmap_read_unlock(mm);

	/* Pagefile-backed sections have nothing to write back. */
	if (file) {
		ret = vfs_fsync_range(file, from, to, 0);
		fput(file);
	}
	if (ret)
		return WINVM_STATUS_UNSUCCESSFUL;
	args->address = start;
	args->size = end - start;
	return WINVM_STATUS_SUCCESS;
}
