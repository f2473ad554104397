// SPDX-License-Identifier: GPL-2.0-only
/*
 * winvm: Windows NT virtual-memory semantics for Linux processes.
 *
 * This file owns the /dev/winvm device, the per-mm object every open file
 * of one process shares, the private pseudo filesystem the mapper files
 * live on, and the ioctl dispatch.  See winvm.h for the design and the lock
 * order.
 */

#include <linux/file.h>
#include <linux/fs_context.h>
#include <linux/hashtable.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "winvm.h"

#define WINVM_FS_MAGIC	0x77696e76	/* "winv" */

/* mm -> winvm_mm; see winvm.h for why this lock nests inside mmap_lock. */
static DEFINE_MUTEX(winvm_mms_lock);
static DEFINE_HASHTABLE(winvm_mms, 6);
static struct vfsmount *winvm_mnt;

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

int winvm_status_errno(u32 status)
{
	switch (status) {
	case WINVM_STATUS_SUCCESS:
	case WINVM_STATUS_OBJECT_NAME_EXISTS:
		return 0;
	case WINVM_STATUS_CONFLICTING_ADDRESSES:
		return -EEXIST;
	case WINVM_STATUS_NO_MEMORY:
	case WINVM_STATUS_COMMITMENT_LIMIT:
		return -ENOMEM;
	case WINVM_STATUS_MEMORY_NOT_ALLOCATED:
	case WINVM_STATUS_NOT_MAPPED_VIEW:
	case WINVM_STATUS_NOT_COMMITTED:
	case WINVM_STATUS_INVALID_ADDRESS:
		return -ENXIO;
	case WINVM_STATUS_ACCESS_DENIED:
	case WINVM_STATUS_ALREADY_COMMITTED:
		return -EACCES;
	case WINVM_STATUS_NOT_SUPPORTED:
	case WINVM_STATUS_NOT_IMPLEMENTED:
		return -EOPNOTSUPP;
	case WINVM_STATUS_INVALID_HANDLE:
		return -EBADF;
	case WINVM_STATUS_UNSUCCESSFUL:
		return -ENODATA;
	case WINVM_STATUS_NOT_FOUND:
	case WINVM_STATUS_OBJECT_NAME_NOT_FOUND:
		return -ENOENT;
	case WINVM_STATUS_PRIVILEGE_NOT_HELD:
		return -EPERM;
	case WINVM_STATUS_OBJECT_TYPE_MISMATCH:
		return -EBADF;
	case WINVM_STATUS_SECTION_TOO_BIG:
		return -EFBIG;
	case WINVM_STATUS_INVALID_IMAGE_NOT_MZ:
		return -ENOEXEC;
	default:
		return -EINVAL;
	}
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
	fput(wmm->mapper);
	fput(wmm->mapper_ro);
	mmdrop(wmm->mm);
	kfree(wmm);
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
static struct file *winvm_mapper_new(struct winvm_mm *wmm, int flags)
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
	file = alloc_file_pseudo(inode, winvm_mnt, "winvm", flags, &winvm_mapper_fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(THIS_MODULE);
		return file;
	}
	file->private_data = wmm;
	return file;
}

static struct winvm_mm *winvm_mm_create(struct mm_struct *mm)
{
	struct winvm_mm *wmm;
	struct file *file;

	wmm = kzalloc(sizeof(*wmm), GFP_KERNEL_ACCOUNT);
	if (!wmm)
		return ERR_PTR(-ENOMEM);
	file = winvm_mapper_new(wmm, O_RDWR);
	if (IS_ERR(file))
		goto err_free;
	wmm->mapper = file;
	file = winvm_mapper_new(wmm, O_RDONLY);
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

/* Find or create the winvm_mm of @mm; returns it with a reference held. */
static struct winvm_mm *winvm_mm_get(struct mm_struct *mm)
{
	struct winvm_mm *wmm, *fresh;

	mutex_lock(&winvm_mms_lock);
	hash_for_each_possible(winvm_mms, wmm, node, (unsigned long)mm) {
		if (wmm->mm == mm) {
			kref_get(&wmm->ref);
			mutex_unlock(&winvm_mms_lock);
			return wmm;
		}
	}
	mutex_unlock(&winvm_mms_lock);

	fresh = winvm_mm_create(mm);
	if (IS_ERR(fresh))
		return fresh;

	mutex_lock(&winvm_mms_lock);
	hash_for_each_possible(winvm_mms, wmm, node, (unsigned long)mm) {
		if (wmm->mm == mm) {
			/* Lost a race with another open() of the same mm. */
			kref_get(&wmm->ref);
			mutex_unlock(&winvm_mms_lock);
			fput(fresh->mapper);
			fput(fresh->mapper_ro);
			mmdrop(fresh->mm);
			kfree(fresh);
			return wmm;
		}
	}
	hash_add(winvm_mms, &fresh->node, (unsigned long)mm);
	mutex_unlock(&winvm_mms_lock);
	return fresh;
}

static int winvm_open(struct inode *inode, struct file *file)
{
	struct winvm_mm *wmm;

	if (!current->mm)
		return -EINVAL;
	wmm = winvm_mm_get(current->mm);
	if (IS_ERR(wmm))
		return PTR_ERR(wmm);
	file->private_data = wmm;
	return nonseekable_open(inode, file);
}

static int winvm_release(struct inode *inode, struct file *file)
{
	winvm_mm_put(file->private_data);
	return 0;
}

struct inode *winvm_new_inode(void)
{
	return alloc_anon_inode(winvm_mnt->mnt_sb);
}

struct file *winvm_new_file(struct inode *inode, const char *name,
			    const struct file_operations *fops)
{
	return alloc_file_pseudo(inode, winvm_mnt, name, O_RDWR, fops);
}

static u32 winvm_info_get(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_info_args *args = arg;
	unsigned int i;

	if (args->flags || args->pad)
		return WINVM_STATUS_INVALID_PARAMETER;
	for (i = 0; i < ARRAY_SIZE(args->reserved); i++)
		if (args->reserved[i])
			return WINVM_STATUS_INVALID_PARAMETER;

	args->abi_version = WINVM_ABI_VERSION;
	args->page_size = PAGE_SIZE;
	args->allocation_granularity = WINVM_GRANULARITY;
	args->min_address = WINVM_MIN_ADDR;
	args->max_address = winvm_max_address();
	/* Large pages need SeLockMemoryPrivilege-like policy; not offered yet. */
	args->large_page_minimum = 0;
	args->features = WINVM_FEATURE_PRIVATE | WINVM_FEATURE_GUARD |
			 WINVM_FEATURE_SECTIONS;
	return WINVM_STATUS_SUCCESS;
}

/*
 * Every argument struct has a u32 "status" that receives the NTSTATUS; the
 * table says where it is, so one path copies in, calls, and copies out.
 */
struct winvm_ioctl_desc {
	unsigned int cmd;
	size_t status_offset;
	bool needs_mm;
	bool serial;		/* changes the address space: take op_lock */
	u32 (*call)(struct winvm_mm *wmm, void *args, struct winvm_call *call);
};

#define WINVM_IOCTL(c, type, mm, ser, fn) {				\
	.cmd = c,							\
	.status_offset = offsetof(type, status),			\
	.needs_mm = mm,							\
	.serial = ser,							\
	.call = fn,							\
}

static const struct winvm_ioctl_desc winvm_ioctls[] = {
	WINVM_IOCTL(WINVM_IOC_INFO_GET, struct winvm_info_args, false, false, winvm_info_get),
	WINVM_IOCTL(WINVM_IOC_MEM_ALLOC, struct winvm_alloc_args, true, true, winvm_mem_alloc),
	WINVM_IOCTL(WINVM_IOC_MEM_FREE, struct winvm_free_args, true, true, winvm_mem_free),
	WINVM_IOCTL(WINVM_IOC_MEM_PROTECT, struct winvm_protect_args, true, true,
		    winvm_mem_protect),
	WINVM_IOCTL(WINVM_IOC_MEM_QUERY, struct winvm_query_args, true, false, winvm_mem_query),
	WINVM_IOCTL(WINVM_IOC_FAULT_INFO, struct winvm_fault_info_args, true, false,
		    winvm_fault_info),
	WINVM_IOCTL(WINVM_IOC_SECTION_CREATE, struct winvm_section_create_args, false, false,
		    winvm_section_create),
	WINVM_IOCTL(WINVM_IOC_SECTION_OPEN, struct winvm_section_open_args, false, false,
		    winvm_section_open),
	WINVM_IOCTL(WINVM_IOC_SECTION_QUERY, struct winvm_section_query_args, false, false,
		    winvm_section_query),
	WINVM_IOCTL(WINVM_IOC_SECTION_DUP, struct winvm_section_dup_args, false, false,
		    winvm_section_dup),
	WINVM_IOCTL(WINVM_IOC_VIEW_MAP, struct winvm_view_map_args, true, true, winvm_view_map),
	WINVM_IOCTL(WINVM_IOC_VIEW_UNMAP, struct winvm_view_unmap_args, true, true,
		    winvm_view_unmap),
	WINVM_IOCTL(WINVM_IOC_VIEW_FLUSH, struct winvm_view_flush_args, true, false,
		    winvm_view_flush),
};

union winvm_any_args {
	struct winvm_info_args info;
	struct winvm_alloc_args alloc;
	struct winvm_free_args free;
	struct winvm_protect_args protect;
	struct winvm_query_args query;
	struct winvm_fault_info_args fault;
	struct winvm_section_create_args screate;
	struct winvm_section_open_args sopen;
	struct winvm_section_query_args squery;
	struct winvm_section_dup_args sdup;
	struct winvm_view_map_args vmap;
	struct winvm_view_unmap_args vunmap;
	struct winvm_view_flush_args vflush;
};

static long winvm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct winvm_mm *wmm = file->private_data;
	void __user *argp = (void __user *)arg;
	const struct winvm_ioctl_desc *desc = NULL;
	struct winvm_call call = { .fd = -1 };
	union winvm_any_args args;
	size_t size = _IOC_SIZE(cmd);
	unsigned int i;
	u32 status;

	for (i = 0; i < ARRAY_SIZE(winvm_ioctls); i++) {
		if (winvm_ioctls[i].cmd == cmd) {
			desc = &winvm_ioctls[i];
			break;
		}
	}
	if (!desc)
		return -ENOIOCTLCMD;
	BUILD_BUG_ON(sizeof(args) > 256);
	if (copy_from_user(&args, argp, size))
		return -EFAULT;

	if (desc->needs_mm && wmm->mm != current->mm) {
		status = WINVM_STATUS_INVALID_HANDLE;
	} else if (desc->serial) {
		if (mutex_lock_killable(&wmm->op_lock))
			return -EINTR;
		status = desc->call(wmm, &args, &call);
		mutex_unlock(&wmm->op_lock);
	} else {
		status = desc->call(wmm, &args, &call);
	}

	memcpy((char *)&args + desc->status_offset, &status, sizeof(status));
	if (copy_to_user(argp, &args, size)) {
		if (call.file) {
			put_unused_fd(call.fd);
			fput(call.file);
		}
		return -EFAULT;
	}
	/* A new fd becomes visible only once the caller has its number. */
	if (call.file) {
		fd_install(call.fd, call.file);
		return call.fd;
	}
	return winvm_status_errno(status);
}

static const struct file_operations winvm_fops = {
	.owner		= THIS_MODULE,
	.open		= winvm_open,
	.release	= winvm_release,
	.unlocked_ioctl	= winvm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice winvm_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "winvm",
	.fops		= &winvm_fops,
	.mode		= 0666,
};

/*
 * winvm's own shmem (private allocations, pagefile-backed sections,
 * write-copy copies) lives on a private tmpfs mounted huge=never: a huge
 * folio could be mapped by one PMD, and one fault would then map 512 pages
 * without asking ->fault about 511 of them (T-THP).  The system's shmem
 * (shmem_enabled, MADV_HUGEPAGE clearing VM_NOHUGEPAGE) has no say here.
 */
static struct vfsmount *winvm_shm_mnt;

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

struct file *winvm_shmem_file(const char *name, loff_t size)
{
	return shmem_file_setup_with_mnt(winvm_shm_mnt, name, size, VM_NORESERVE);
}

static int __init winvm_init(void)
{
	int ret;

	winvm_mnt = kern_mount(&winvm_fs_type);
	if (IS_ERR(winvm_mnt))
		return PTR_ERR(winvm_mnt);
	winvm_shm_mnt = winvm_shm_mount();
	if (IS_ERR(winvm_shm_mnt)) {
		ret = PTR_ERR(winvm_shm_mnt);
		goto err_mnt;
	}
	ret = misc_register(&winvm_misc);
	if (ret)
		goto err_shm;
	return 0;

err_shm:
	kern_unmount(winvm_shm_mnt);
err_mnt:
	kern_unmount(winvm_mnt);
	return ret;
}

static void __exit winvm_exit(void)
{
	misc_deregister(&winvm_misc);
	kern_unmount(winvm_shm_mnt);
	kern_unmount(winvm_mnt);
}

module_init(winvm_init);
module_exit(winvm_exit);

MODULE_AUTHOR("The winvm authors");
MODULE_DESCRIPTION("Windows NT virtual-memory semantics for Linux processes");
MODULE_LICENSE("GPL");
