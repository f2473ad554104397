// SPDX-License-Identifier: GPL-2.0-only
/*
 * NtQueryVirtualMemory: MemoryBasicInformation and MemoryRegionInformation
 * for winvm allocations, for free space, and for ordinary Linux mappings
 * (so a VirtualQuery walk of the whole address space makes sense).
 */

#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "winvm.h"

static void winvm_query_linux(struct vm_area_struct *vma, unsigned long page,
			      struct winvm_query_args *args)
{
	u32 prot = winvm_prot_of_vm_flags(vma->vm_flags,
					  vma->vm_file && !(vma->vm_flags & VM_SHARED));

	args->base_address = page;
	args->allocation_base = vma->vm_start;
	args->allocation_protect = prot;
	args->region_size = vma->vm_end - page;
	args->state = WINVM_MEM_COMMIT;
	args->protect = prot;
	/* Executable file mappings are what the loader made: images. */
	if (!vma->vm_file)
		args->type = WINVM_MEM_PRIVATE;
	else if (vma->vm_flags & VM_EXEC)
		args->type = WINVM_MEM_IMAGE;
	else
		args->type = WINVM_MEM_MAPPED;
	args->allocation_size = vma->vm_end - vma->vm_start;
	args->commit_size = args->allocation_size;
}

static void winvm_query_alloc(struct mm_struct *mm, struct winvm_alloc *alloc,
			      unsigned long page, struct winvm_query_args *args)
{
	unsigned long a_end = alloc->base + alloc->size, end;
	pgoff_t idx, next, stop;
	u64 committed = 0;
	u32 st, want;

	mmap_assert_locked(mm);
	end = min(a_end, winvm_alloc_mapped_end(mm, alloc, page));
	stop = winvm_pgoff(alloc, end);
	mutex_lock(&alloc->state_lock);
	want = winvm_eff_span(alloc, winvm_pgoff(alloc, page), stop, &next);
	/*
	 * RegionSize: the run of pages that look the same (state and
	 * protection as reported), within the allocation.
	 */
	for (idx = winvm_pgoff(alloc, page); idx < stop; idx = next) {
		st = winvm_eff_span(alloc, idx, stop, &next);
		if ((st & WINVM_PS_COMMIT) != (want & WINVM_PS_COMMIT) ||
		    winvm_visible_protect(alloc, st) != winvm_visible_protect(alloc, want))
			break;
	}
	args->base_address = page;
	args->allocation_base = alloc->base;
	/* A private allocation's protect already has its cache attribute. */
	args->allocation_protect = alloc->alloc_protect |
				   (alloc->section ? alloc->cache_attr : 0);
	args->region_size = alloc->origin + ((unsigned long)idx << PAGE_SHIFT) - page;
	args->state = want & WINVM_PS_COMMIT ? WINVM_MEM_COMMIT : WINVM_MEM_RESERVE;
	args->protect = winvm_visible_protect(alloc, want);
	args->type = alloc->type;
	args->allocation_size = alloc->size;
	if (!alloc->section) {
		committed = alloc->pages.committed;
	} else {
		/* Views: commit may be the section's; they have few runs. */
		stop = winvm_pgoff(alloc, a_end);
		for (idx = winvm_pgoff(alloc, alloc->base); idx < stop; idx = next) {
			st = winvm_eff_span(alloc, idx, stop, &next);
			if (st & WINVM_PS_COMMIT)
				committed += next - idx;
		}
	}
	mutex_unlock(&alloc->state_lock);
	args->commit_size = committed << PAGE_SHIFT;
	args->region_flags = WINVM_REGION_WINVM;
}

u32 winvm_mem_query(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_query_args *args = arg;
	struct mm_struct *mm = wmm->mm;
	unsigned long page, top = winvm_max_address() + 1;
	struct vm_area_struct *vma;

	if (winvm_args_reserved(args) || args->pad)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->address > winvm_max_address())
		return WINVM_STATUS_INVALID_PARAMETER;
	page = round_down(args->address, PAGE_SIZE);

	args->region_flags = 0;
	args->allocation_size = 0;
	args->commit_size = 0;
	if (mmap_read_lock_killable(mm))
		return WINVM_STATUS_NO_MEMORY;
	vma = find_vma(mm, page);
	if (vma && vma->vm_start <= page) {
		struct winvm_alloc *alloc = winvm_vma_alloc(vma, wmm);

		if (alloc)
			winvm_query_alloc(mm, alloc, page, args);
		else
			winvm_query_linux(vma, page, args);
	} else {
		args->base_address = page;
		args->allocation_base = 0;
		args->allocation_protect = 0;
		args->region_size = (vma ? min(vma->vm_start, top) : top) - page;
		args->state = WINVM_MEM_FREE;
		args->protect = WINVM_PAGE_NOACCESS;
		args->type = 0;
	}
	mmap_read_unlock(mm);
	return WINVM_STATUS_SUCCESS;
}
