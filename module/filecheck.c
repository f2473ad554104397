// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which files may back a section, and the kernel's own mmap(2) checks on
 * them (docs/threat-model.md, T-FILE).
 *
 * winvm maps a caller's file through its mapper file (vmops.c), so
 * do_mmap() itself only ever sees the mapper.  Repeating mmap's checks one
 * by one is not possible from a module (the LSM and IMA hooks are not
 * exported) and would drift from the kernel's list anyway.  Instead, every
 * mapping winvm makes of a caller's file is preceded by a probe: vm_mmap()
 * of that very file, with the protection and sharing winvm's VMA will have,
 * at an address the kernel picks.  The probe runs everything mmap(2) runs
 * on the file: security_mmap_file() (LSMs, IMA), the fd's access mode,
 * append-only, noexec, memfd seals, file_mmap_ok(), the file's own ->mmap.
 * It is unmapped only once winvm's VMA exists.
 *
 * What the file's ->mmap then puts into winvm's VMA must be ordinary page
 * cache: winvm owns vm_private_data and replaces vm_ops, so a filesystem
 * that keeps state there (hugetlbfs), maps pages outside the page cache
 * (DAX, PFN maps) or keeps its pages out of the direct map (secretmem)
 * cannot back a section.  Stacking filesystems whose ->mmap swaps in
 * another file (overlayfs, FUSE passthrough) are followed: the file the
 * VMA ends up with is the one winvm reads and zaps through.
 */

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/shmem_fs.h>

#include "winvm.h"

/*
 * Is @file on a noexec mount?  What path_noexec() answers for mmap(2),
 * which modules cannot call.
 */
bool winvm_path_noexec(const struct file *file)
{
	return (file->f_path.mnt->mnt_flags & MNT_NOEXEC) ||
	       (file->f_path.mnt->mnt_sb->s_iflags & SB_I_NOEXEC);
}

/* Ordinary page cache: shmem, or a filesystem that reads folios in. */
static bool winvm_inode_backable(struct inode *inode)
{
	struct address_space *mapping = inode->i_mapping;
	unsigned long magic = inode->i_sb->s_magic;

	if (!S_ISREG(inode->i_mode) || IS_DAX(inode) || IS_SWAPFILE(inode))
		return false;
	if (magic == HUGETLBFS_MAGIC || magic == SECRETMEM_MAGIC)
		return false;
	return shmem_mapping(mapping) || (mapping->a_ops && mapping->a_ops->read_folio);
}

/*
 * May @file back a section?  A stacking filesystem's own inode has no page
 * cache of its own; what counts is the inode holding the data.
 */
bool winvm_file_backable(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (!S_ISREG(inode->i_mode) || !file->f_op->mmap)
		return false;
	return winvm_inode_backable(d_real_inode(file->f_path.dentry));
}

/*
 * After the backing file's ->mmap ran on one of our VMAs: is what it made
 * something winvm may take over?  Returns 0 or -EINVAL.
 */
int winvm_vma_backable(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;

	if (vma->vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP | VM_IO))
		return -EINVAL;
	/* We are about to overwrite both: nothing of the filesystem's may be there. */
	if (vma->vm_private_data || !ops || !ops->fault || ops->open || ops->close)
		return -EINVAL;
	if (!vma->vm_file || !winvm_inode_backable(file_inode(vma->vm_file)))
		return -EINVAL;
	return 0;
}

/*
 * The probe: map @len bytes of @file at @off exactly as winvm is about to
 * (@prot, MAP_SHARED or MAP_PRIVATE in @flags) through the kernel's own
 * mmap path.  Any refusal is mmap's.  With @addr the probe takes the very
 * range winvm will map (MAP_FIXED_NOREPLACE, so an occupied range fails as
 * it should) and winvm's VMA then replaces it, so the range is never free
 * for someone else; without, the kernel picks a place.  mmap_lock is
 * dropped in between, and another thread may take the probe away and keep
 * it: callers probe the very file their VMA maps, so that a kept probe
 * gives no more than the view (T-MMAP).
 */
int winvm_probe_begin(struct winvm_probe *p, struct file *file, unsigned long addr,
		      unsigned long len, u64 off, unsigned long prot, unsigned long flags)
{
	unsigned long ret;

	p->addr = 0;
	p->len = len;
	p->inode = file_inode(file);
	p->real = d_real_inode(file->f_path.dentry);
	if (addr)
		flags |= MAP_FIXED_NOREPLACE;
	ret = vm_mmap(file, addr, len, prot, flags, off);
	if (IS_ERR_VALUE(ret))
		return winvm_foreign_errno((int)ret);
	p->addr = ret;
	return 0;
}

/*
 * Unmap the probe, unless winvm's VMA replaced it already or (in a racing
 * thread of the caller's own) something else did: only a VMA that still
 * looks like the probe goes.  @ours: the vm_ops of the VMA that may have
 * replaced it (NULL if none will; compared by ->fault, which every flavour
 * of winvm's vm_ops shares), passed in so that this file needs nothing
 * from the files that map.
 */
void winvm_probe_end(struct winvm_probe *p, const struct vm_operations_struct *ours)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct inode *inode;
	bool probe = false;

	if (!p->addr)
		return;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, p->addr);
	/* (It may have merged with a neighbouring mapping of the same file.) */
	if (vma && vma->vm_end >= p->addr + PAGE_ALIGN(p->len) &&
	    (!ours || !vma->vm_ops || vma->vm_ops->fault != ours->fault) && vma->vm_file) {
		inode = file_inode(vma->vm_file);
		probe = inode == p->inode || inode == p->real;
	}
	mmap_read_unlock(mm);
	if (probe)
		vm_munmap(p->addr, p->len);
	p->addr = 0;
}
