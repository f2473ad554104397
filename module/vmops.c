// SPDX-License-Identifier: GPL-2.0-only
/*
 * winvm's VMAs: the mapper files whose ->mmap turns a vm_mmap() into a VMA
 * of an allocation's file, and the vm_ops layered over that file's, which
 * route faults to fault.c and refuse native surgery.
 */

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "winvm.h"
#include "compat.h"

static void winvm_vm_open(struct vm_area_struct *vma)
{
	struct winvm_alloc *alloc = vma->vm_private_data;

	/* A split, or a copy into a child after MADV_DOFORK; see ->fault. */
	kref_get(&alloc->ref);
}

static void winvm_vm_close(struct vm_area_struct *vma)
{
	winvm_alloc_put(vma->vm_private_data);
}

/* Only winvm's own surgery may split; a user munmap/mremap of part fails. */
static int winvm_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	struct winvm_alloc *alloc = vma->vm_private_data;

	return READ_ONCE(alloc->surgeon) == current ? 0 : -EINVAL;
}

/* Protections are winvm's to set (MEM_PROTECT); mprotect would bypass them. */
static int winvm_vm_mprotect(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end, unsigned long newflags)
{
	return -EACCES;
}

static int winvm_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/* What both tables share; they differ only in ->map_pages. */
#define WINVM_VM_OPS_COMMON				\
	.open		= winvm_vm_open,		\
	.close		= winvm_vm_close,		\
	.may_split	= winvm_vm_may_split,		\
	.mprotect	= winvm_vm_mprotect,		\
	.mremap		= winvm_vm_mremap,		\
	.fault		= winvm_fault,			\
	.page_mkwrite	= winvm_page_mkwrite

const struct vm_operations_struct winvm_vm_ops = {
	WINVM_VM_OPS_COMMON,
	.map_pages	= winvm_map_pages,
};

/*
 * Over a file whose own vm_ops have no ->map_pages (ceph, ocfs2): the core
 * never runs that file's ->fault/->page_mkwrite without mmap_lock, so
 * neither do we (no ->map_pages: vmf_can_call_fault() sends the fault
 * back to be retried under mmap_lock).
 */
const struct vm_operations_struct winvm_vm_ops_mmap_lock = {
	WINVM_VM_OPS_COMMON,
};

/*
 * After the backing file's ->mmap: take the VMA over if what it made is
 * ordinary page cache, and, for a VM_SHARED VMA, register it as a writer
 * of that file the way mmap_region() does for the file it maps
 * (mapping_map_writable(), which fails on F_SEAL_WRITE; the VMA's own count
 * replaces it once linked, see winvm_map_range()).  The core counts a
 * VM_SHARED VMA as a writer even when it may not write (6.1), so this
 * applies to write-copy views too.
 */
static int winvm_vma_take(struct winvm_mm *wmm, struct winvm_alloc *alloc,
			  struct vm_area_struct *vma)
{
	int ret = winvm_vma_backable(vma);

	lockdep_assert_held(&wmm->op_lock);
	if (ret)
		return ret;
	/* Every VMA of an allocation maps the same data, whatever ->mmap does. */
	if (alloc->data && file_inode(alloc->data) != file_inode(vma->vm_file))
		return -EINVAL;
	if (vma->vm_flags & VM_SHARED) {
		ret = mapping_map_writable(vma->vm_file->f_mapping);
		if (ret)
			return ret;
		wmm->map_writable = vma->vm_file->f_mapping;
	}
	if (!alloc->data)
		alloc->data = get_file(vma->vm_file);
	alloc->shm_ops = vma->vm_ops;
	vma->vm_ops = vma->vm_ops->map_pages ? &winvm_vm_ops : &winvm_vm_ops_mmap_lock;
	vma->vm_private_data = alloc;
	kref_get(&alloc->ref);
	return 0;
}

/* The VMA's flags as the allocation allows them; the file's checks ran in the probe. */
static int winvm_mapper_flags(struct winvm_alloc *alloc, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/* (Write-copy views write only their private copies.) */
	if ((vma->vm_flags & VM_WRITE) && !(alloc->shm->f_mode & FMODE_WRITE) &&
	    !alloc->cow_file)
		return -EACCES;
	if ((vma->vm_flags & VM_EXEC) && winvm_path_noexec(alloc->shm))
		return -EPERM;
	if (!(vma->vm_flags & VM_WRITE))
		winvm_vm_flags_clear(vma, VM_MAYWRITE);
	winvm_vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_NOHUGEPAGE);
	if (!(vma->vm_flags & VM_EXEC))
		winvm_vm_flags_clear(vma, VM_MAYEXEC);
	return 0;
}

/*
 * The mapper files only ever reach vm_mmap() from winvm_map_range(); they
 * trade themselves for the allocation's file and put our vm_ops over that
 * file's.  The file's own ->map_pages is only called through
 * winvm_map_pages(), for pages whose state allows what it maps.
 * The kernel's checks of the real file ran in the probe (filecheck.c); the
 * mode and noexec checks here only keep this function safe on its own.
 */
static int winvm_mapper_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct winvm_mm *wmm = file->private_data;
	struct winvm_alloc *alloc = wmm->map_alloc;
	int ret;

	mmap_assert_write_locked(vma->vm_mm);
	if (!alloc || READ_ONCE(alloc->surgeon) != current)
		return -ENODEV;
	ret = winvm_mapper_flags(alloc, vma);
	if (ret)
		return ret;
	vma_set_file(vma, alloc->shm);
	ret = alloc->shm->f_op->mmap(alloc->shm, vma);
	if (ret)
		return winvm_foreign_errno(ret);
	return winvm_vma_take(wmm, alloc, vma);
}

const struct file_operations winvm_mapper_fops = {
	.owner	= THIS_MODULE,
	.mmap	= winvm_mapper_mmap,
};
