// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-process object (struct winvm_mm) every open file of one mm
 * shares, and the two private filesystems winvm's files live on: a pseudo
 * filesystem for the mapper and section files, and a huge=never tmpfs for
 * winvm's own shmem.
 */

#include <linux/file.h>
#include <linux/fs_context.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "winvm.h"

#define WINVM_FS_MAGIC	0x77696e76	/* "winv" */

/* mm -> winvm_mm; see winvm.h for why this lock nests inside mmap_lock. */
static DEFINE_MUTEX(winvm_mms_lock);
static DEFINE_HASHTABLE(winvm_mms, 6);
static struct vfsmount *winvm_mnt;
static struct vfsmount *winvm_shm_mnt;

/*
 * HighestUserAddress.  DEFAULT_MAP_WINDOW keeps us in the 47-bit space
 * Linux hands out without hints, even on 5-level paging machines; that
 * also makes the value Windows' own 0x7ffffffeffff on x86-64.
 */
u64 winvm_max_address(void)
{
#ifdef DEFAULT_MAP_WINDOW
	return round_down(DEFAULT_MAP_WINDOW, WINVM_GRANULARITY) - 1;
#else
	return round_down(TASK_SIZE, WINVM_GRANULARITY) - 1;
#endif
}

/* Is [addr, addr + len) inside the user address range winvm serves? */
bool winvm_range_ok(u64 addr, u64 len)
{
	return addr <= winvm_max_address() && len <= winvm_max_address() + 1 - addr;
}

/* Free a winvm_mm that no fault record and no table entry refers to. */
static void winvm_mm_free(struct winvm_mm *wmm)
{
	if (wmm->shm)
		fput(wmm->shm);
	fput(wmm->mapper);
	fput(wmm->mapper_ro);
	mmdrop(wmm->mm);
	kfree(wmm);
}

/* kref_put_mutex() calls this with winvm_mms_lock held; we drop it. */
static void winvm_mm_release(struct kref *ref)
{
	struct winvm_mm *wmm = container_of(ref, struct winvm_mm, ref);
	struct winvm_fault_rec *rec;
	unsigned long tid;

	hash_del(&wmm->node);
	mutex_unlock(&winvm_mms_lock);

	xa_for_each(&wmm->faults, tid, rec)
		kfree(rec);
	xa_destroy(&wmm->faults);
	winvm_mm_free(wmm);
}

void winvm_mm_put(struct winvm_mm *wmm)
{
	kref_put_mutex(&wmm->ref, winvm_mm_release, &winvm_mms_lock);
}

/*
 * A mapper file for @wmm, opened with @flags.  Each pins the module (its
 * fput drops the reference): our vm_ops must outlive every VMA, and the
 * winvm_mm, which owns the mappers, lives as long as any allocation does.
 */
static struct file *winvm_mapper_new(struct winvm_mm *wmm, int flags,
				     const struct file_operations *fops)
{
	struct inode *inode;
	struct file *file;

	if (!try_module_get(THIS_MODULE))
		return ERR_PTR(-ENOENT);
	inode = alloc_anon_inode(winvm_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		module_put(THIS_MODULE);
		return ERR_CAST(inode);
	}
	file = alloc_file_pseudo(inode, winvm_mnt, "winvm", flags, fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(THIS_MODULE);
		return file;
	}
	file->private_data = wmm;
	return file;
}

static struct winvm_mm *winvm_mm_create(struct mm_struct *mm,
					const struct file_operations *mapper_fops)
{
	struct winvm_mm *wmm;
	struct file *file;

	wmm = kzalloc(sizeof(*wmm), GFP_KERNEL_ACCOUNT);
	if (!wmm)
		return ERR_PTR(-ENOMEM);
	file = winvm_mapper_new(wmm, O_RDWR, mapper_fops);
	if (IS_ERR(file))
		goto err_free;
	wmm->mapper = file;
	file = winvm_mapper_new(wmm, O_RDONLY, mapper_fops);
	if (IS_ERR(file))
		goto err_mapper;
	wmm->mapper_ro = file;

	kref_init(&wmm->ref);
	mutex_init(&wmm->op_lock);
	xa_init(&wmm->faults);
	wmm->faults_cap = WINVM_FAULT_RECS_MIN;
	mmgrab(mm);
	wmm->mm = mm;
	return wmm;

err_mapper:
	fput(wmm->mapper);
err_free:
	kfree(wmm);
	return ERR_CAST(file);
}

static struct winvm_mm *winvm_mm_lookup(struct mm_struct *mm)
{
	struct winvm_mm *wmm;

	lockdep_assert_held(&winvm_mms_lock);
	hash_for_each_possible(winvm_mms, wmm, node, (unsigned long)mm) {
		if (wmm->mm == mm) {
			kref_get(&wmm->ref);
			return wmm;
		}
	}
	return NULL;
}

/*
 * Find or create the winvm_mm of @mm; returns it with a reference held.
 * @mapper_fops: what the mapper files do (vmops.c), given by the caller so
 * that this file depends on nothing above it.
 */
struct winvm_mm *winvm_mm_get(struct mm_struct *mm, const struct file_operations *mapper_fops)
{
	struct winvm_mm *wmm, *fresh;

	mutex_lock(&winvm_mms_lock);
	wmm = winvm_mm_lookup(mm);
	mutex_unlock(&winvm_mms_lock);
	if (wmm)
		return wmm;

	fresh = winvm_mm_create(mm, mapper_fops);
	if (IS_ERR(fresh))
		return fresh;

	mutex_lock(&winvm_mms_lock);
	wmm = winvm_mm_lookup(mm);
	if (!wmm)
		hash_add(winvm_mms, &fresh->node, (unsigned long)mm);
	mutex_unlock(&winvm_mms_lock);
	if (!wmm)
		return fresh;
	/* Lost a race with another open() of the same mm. */
	winvm_mm_free(fresh);
	return wmm;
}

/* A file on winvm's pseudo filesystem (section handles). */
struct file *winvm_new_file(const char *name, const struct file_operations *fops)
{
	struct inode *inode = alloc_anon_inode(winvm_mnt->mnt_sb);
	struct file *file;

	if (IS_ERR(inode))
		return ERR_CAST(inode);
	file = alloc_file_pseudo(inode, winvm_mnt, name, O_RDWR, fops);
	if (IS_ERR(file))
		iput(inode);
	return file;
}

/* Shmem of winvm's own (private allocations, pagefile sections, copies). */
struct file *winvm_shmem_file(const char *name, loff_t size)
{
	/* VM_NORESERVE: pages are charged to the toucher's memcg as they appear. */
	return shmem_file_setup_with_mnt(winvm_shm_mnt, name, size, VM_NORESERVE);
}

/*
 * Is @mapping (NULL: none) one of winvm_shmem_file()'s: private memory,
 * pagefile-backed sections, write-copy copies?
 */
bool winvm_shmem_own(const struct address_space *mapping)
{
	return mapping && mapping->host->i_sb == winvm_shm_mnt->mnt_sb;
}

/*
 * Room for @size bytes of private memory in @wmm's shmem file, made at the
 * first call: *off is where they start.  One file per process instead of
 * one per allocation saves an inode, dentry, file and LSM blob per
 * reservation.  Offsets are handed out once and never again (but for the
 * last one, if its allocation never got mapped), so no allocation ever
 * sees another's pages.
 */
int winvm_shm_reserve(struct winvm_mm *wmm, unsigned long size, u64 *off)
{
	struct file *shm;

	/* Offsets and user addresses share unsigned long arithmetic. */
	BUILD_BUG_ON(BITS_PER_LONG < 64);
	lockdep_assert_held(&wmm->op_lock);
	size = round_up(size, WINVM_GRANULARITY);
	/*
	 * Used up (2^63 bytes of reservations): a new file.  Allocations
	 * hold their own reference on the old one, which goes with the last.
	 */
	if (!wmm->shm || size > MAX_LFS_FILESIZE - wmm->shm_next) {
		shm = winvm_shmem_file("winvm", MAX_LFS_FILESIZE);
		if (IS_ERR(shm))
			return PTR_ERR(shm);
		if (wmm->shm)
			fput(wmm->shm);
		wmm->shm = shm;
		wmm->shm_next = 0;
	}
	*off = wmm->shm_next;
	wmm->shm_next += size;
	return 0;
}

/* An allocation that was never placed gives its offsets back, if last. */
void winvm_shm_unreserve(struct winvm_mm *wmm, unsigned long size, u64 off)
{
	lockdep_assert_held(&wmm->op_lock);
	if (wmm->shm_next == off + round_up(size, WINVM_GRANULARITY))
		wmm->shm_next = off;
}

static int winvm_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, WINVM_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * Mapper files live on a private pseudo filesystem rather than anon_inodefs:
 * newer kernels mark anon_inodefs noexec, which would forbid executable
 * allocations, and a private superblock keeps our inodes to ourselves.
 */
static struct file_system_type winvm_fs_type = {
	.name			= "winvm",
	.init_fs_context	= winvm_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/*
 * winvm's own shmem lives on a private tmpfs mounted huge=never: a huge
 * folio could be mapped by one PMD, and one fault would then map 512 pages
 * without asking ->fault about 511 of them (T-THP).  The system's shmem
 * (shmem_enabled, MADV_HUGEPAGE clearing VM_NOHUGEPAGE) has no say here.
 */
static struct vfsmount *winvm_shm_mount(void)
{
	struct file_system_type *type = get_fs_type("tmpfs");
	char opts[] = "huge=never";

	if (!type)
		return ERR_PTR(-ENODEV);
	/* Without THP tmpfs knows no huge= option, and needs none. */
	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		return vfs_kern_mount(type, SB_KERNMOUNT, "winvm", NULL);
	return vfs_kern_mount(type, SB_KERNMOUNT, "winvm", opts);
}

int winvm_mounts_init(void)
{
	winvm_mnt = kern_mount(&winvm_fs_type);
	if (IS_ERR(winvm_mnt))
		return PTR_ERR(winvm_mnt);
	winvm_shm_mnt = winvm_shm_mount();
	if (IS_ERR(winvm_shm_mnt)) {
		kern_unmount(winvm_mnt);
		return PTR_ERR(winvm_shm_mnt);
	}
	return 0;
}

void winvm_mounts_exit(void)
{
	kern_unmount(winvm_shm_mnt);
	kern_unmount(winvm_mnt);
}
