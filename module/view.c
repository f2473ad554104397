// SPDX-License-Identifier: GPL-2.0-only
/*
 * The view ioctls: NtMapViewOfSection, NtUnmapViewOfSection and
 * NtFlushVirtualMemory.  A view is a winvm_alloc of type MEM_MAPPED
 * (alloc.c) whose VMAs map the section's file; write-copy is cow.c's.
 * Argument rules and status codes follow Windows (docs/windows-rules.md,
 * 1.9 and 1.10).
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/mm.h>

#include "winvm.h"

#define WINVM_VIEW_ACCESS	(WINVM_FILE_MAP_ALL_ACCESS | WINVM_FILE_MAP_EXECUTE)

/* Do the handle's rights and the section's protection allow the view (R96)? */
static u32 winvm_view_check(struct winvm_view_map_args *args, u32 have,
			    struct winvm_section *sec)
{
	if (winvm_access_needs(args->access) & ~have)
		return WINVM_STATUS_ACCESS_DENIED;
	if (!winvm_access_fits_section(args->access, sec->protect))
		return WINVM_STATUS_ACCESS_DENIED;
	return WINVM_STATUS_SUCCESS;
}

/* Offset, size and address of a view (R97-R103); *len receives the length. */
static u32 winvm_view_range(const struct winvm_view_map_args *args,
			    const struct winvm_section *sec, unsigned long limit,
			    unsigned long *len)
{
	u64 offset = args->offset, size = args->size, addr = args->address;

	if ((offset & (WINVM_GRANULARITY - 1)) || (addr & (WINVM_GRANULARITY - 1)))
		return WINVM_STATUS_MAPPED_ALIGNMENT;
	if (offset >= sec->size)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!size)
		size = sec->size - offset;
	else if (size > sec->size - offset)
		return WINVM_STATUS_INVALID_VIEW_SIZE;
	*len = PAGE_ALIGN(size);
	if (!addr)
		return WINVM_STATUS_SUCCESS;
	if (addr < WINVM_MIN_ADDR || !winvm_range_ok(addr, *len))
		return WINVM_STATUS_INVALID_PARAMETER;
	return addr + *len > limit ? WINVM_STATUS_INVALID_PARAMETER_4 : WINVM_STATUS_SUCCESS;
}

/* A new view of @sec, placed and mapped. */
static int winvm_view_new(struct winvm_mm *wmm, struct winvm_view_map_args *args,
			  struct winvm_section *sec, unsigned long len, unsigned long limit)
{
	u32 view_prot = winvm_prot_of_access(args->access);
	u64 offset = args->offset;
	struct winvm_alloc *alloc;
	int ret = 0;

	alloc = winvm_view_create(wmm, sec, view_prot);
	if (IS_ERR(alloc))
		return -ENOMEM;
	if (!sec->reserve) {
		mutex_lock(&alloc->state_lock);
		ret = winvm_ps_set(&alloc->pages, offset >> PAGE_SHIFT,
				   ((offset + len) >> PAGE_SHIFT) - 1, WINVM_PS_COMMIT | view_prot);
		mutex_unlock(&alloc->state_lock);
	}
	if (!ret)
		ret = winvm_alloc_place(wmm, alloc, args->address, len, limit,
					args->type & WINVM_MEM_TOP_DOWN,
					winvm_prot_is_exec(view_prot), offset);
	if (!ret) {
		args->address = alloc->base;
		args->size = len;
	}
	winvm_alloc_put(alloc);
	return ret;
}

u32 winvm_view_map(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_view_map_args *args = arg;
	unsigned long limit = 0, len = 0;
	struct winvm_section *sec;
	u32 status, have;

	if (winvm_args_reserved(args) || args->pad ||
	    (args->type & ~WINVM_MEM_TOP_DOWN) || (args->access & ~WINVM_VIEW_ACCESS))
		return WINVM_STATUS_INVALID_PARAMETER;
	sec = winvm_section_get(args->section_fd, &have);
	if (IS_ERR(sec))
		return winvm_errno_status(PTR_ERR(sec));
	status = winvm_view_check(args, have, sec);
	if (!status && winvm_zero_bits_limit(args->zero_bits, &limit))
		status = WINVM_STATUS_INVALID_PARAMETER_4;
	if (!status)
		status = winvm_view_range(args, sec, limit, &len);
	if (!status)
		status = winvm_errno_status(winvm_view_new(wmm, args, sec, len, limit));
	winvm_section_put(sec);
	return status;
}

/*
 * The view mapped at @addr, with a reference: -ENXIO if there is none.
 * A view's base, size and file never change, so the caller may read them
 * without mmap_lock.
 */
static struct winvm_alloc *winvm_view_get(struct winvm_mm *wmm, u64 addr)
{
	struct winvm_alloc *alloc;

	if (mmap_read_lock_killable(wmm->mm))
		return ERR_PTR(-EINTR);
	alloc = winvm_find_alloc(wmm, addr);
	if (alloc && alloc->section)
		kref_get(&alloc->ref);
	else
		alloc = ERR_PTR(-ENXIO);
	mmap_read_unlock(wmm->mm);
	return alloc;
}

static u32 winvm_view_get_status(struct winvm_alloc *alloc)
{
	return PTR_ERR(alloc) == -ENXIO ? WINVM_STATUS_NOT_MAPPED_VIEW :
					  winvm_errno_status(PTR_ERR(alloc));
}

u32 winvm_view_unmap(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_view_unmap_args *args = arg;
	struct winvm_alloc *alloc;
	int ret;

	if (winvm_args_reserved(args))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->address > winvm_max_address())
		return WINVM_STATUS_INVALID_PARAMETER;
	alloc = winvm_view_get(wmm, args->address);
	if (IS_ERR(alloc))
		return winvm_view_get_status(alloc);
	ret = winvm_unmap_own(wmm, alloc, alloc->base, alloc->base + alloc->size);
	winvm_alloc_put(alloc);
	return winvm_errno_status(ret);
}

u32 winvm_view_flush(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_view_flush_args *args = arg;
	struct winvm_alloc *alloc;
	unsigned long start, end;
	int ret = 0;

	if (winvm_args_reserved(args))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!winvm_range_ok(args->address, args->size))
		return WINVM_STATUS_INVALID_PARAMETER;
	alloc = winvm_view_get(wmm, args->address);
	if (IS_ERR(alloc))
		return winvm_view_get_status(alloc);
	start = round_down(args->address, PAGE_SIZE);
	end = args->size ? PAGE_ALIGN(args->address + args->size) : alloc->base + alloc->size;
	end = min(end, alloc->base + alloc->size);
	/* Pagefile-backed sections have nothing to write back. */
	if (alloc->section->attributes & WINVM_SEC_FILE)
		ret = vfs_fsync_range(alloc->section->file,
				      (loff_t)winvm_pgoff(alloc, start) << PAGE_SHIFT,
				      ((loff_t)winvm_pgoff(alloc, end) << PAGE_SHIFT) - 1, 0);
	winvm_alloc_put(alloc);
	if (ret)
		return WINVM_STATUS_UNSUCCESSFUL;
	args->address = start;
	args->size = end - start;
	return WINVM_STATUS_SUCCESS;
}
