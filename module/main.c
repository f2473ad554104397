// SPDX-License-Identifier: GPL-2.0-only
/*
 * winvm: Windows NT virtual-memory semantics for Linux processes.
 *
 * This file owns the /dev/winvm device and the ioctl dispatch: one table
 * says where each argument struct keeps its status, so one path copies in,
 * calls the handler, and copies out.  See winvm.h for the design, the file
 * map and the lock order.
 */

#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include "winvm.h"

static int winvm_open(struct inode *inode, struct file *file)
{
	struct winvm_mm *wmm;

	if (!current->mm)
		return -EINVAL;
	wmm = winvm_mm_get(current->mm, &winvm_mapper_fops);
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
			 WINVM_FEATURE_SECTIONS | WINVM_FEATURE_WRITE_WATCH;
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
	WINVM_IOCTL(WINVM_IOC_WATCH_GET, struct winvm_watch_get_args, true, true,
		    winvm_watch_get_ioctl),
	WINVM_IOCTL(WINVM_IOC_WATCH_RESET, struct winvm_watch_reset_args, true, true,
		    winvm_watch_reset_ioctl),
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
	struct winvm_watch_get_args wget;
	struct winvm_watch_reset_args wreset;
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

static int __init winvm_init(void)
{
	int ret = winvm_mounts_init();

	if (ret)
		return ret;
	ret = winvm_alloc_init();
	if (ret)
		goto err_mounts;
	ret = misc_register(&winvm_misc);
	if (ret)
		goto err_alloc;
	return 0;

err_alloc:
	winvm_alloc_exit();
err_mounts:
	winvm_mounts_exit();
	return ret;
}

static void __exit winvm_exit(void)
{
	misc_deregister(&winvm_misc);
	winvm_alloc_exit();
	winvm_mounts_exit();
}

module_init(winvm_init);
module_exit(winvm_exit);

MODULE_AUTHOR("The winvm authors");
MODULE_DESCRIPTION("Windows NT virtual-memory semantics for Linux processes");
MODULE_LICENSE("GPL");
MODULE_VERSION(WINVM_VERSION);
