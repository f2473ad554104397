// SPDX-License-Identifier: GPL-2.0-only
/*
 * NTSTATUS and errno, both ways.  Mechanism returns errno; an ioctl
 * handler turns what it could not check up front into the NTSTATUS Windows
 * gives (winvm_errno_status), and the dispatcher turns every NTSTATUS into
 * the ioctl's own return value (winvm_status_errno).
 */

#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/winvm.h>

#include "winvm.h"

#define WINVM_STATUS_NONE	0xffffffffU	/* no NTSTATUS for this errno */

static u32 winvm_errno_lookup(int err)
{
	switch (err) {
	case 0:
		return WINVM_STATUS_SUCCESS;
	case -EEXIST:
		return WINVM_STATUS_CONFLICTING_ADDRESSES;
	case -EPERM:
	case -EACCES:
	case -ETXTBSY:	/* the kernel's mmap checks of a caller's file (T-MMAP) */
	case -EBUSY:
		return WINVM_STATUS_ACCESS_DENIED;
	case -ENODEV:	/* a file that cannot be mapped at all (T-FILE) */
		return WINVM_STATUS_INVALID_FILE_FOR_SECTION;
	case -EINVAL:
		return WINVM_STATUS_INVALID_PARAMETER;
	case -EFAULT:
		return WINVM_STATUS_ACCESS_VIOLATION;
	case -EBADF:
		return WINVM_STATUS_INVALID_HANDLE;
	case -EBADFD:	/* an fd, but not of a section */
		return WINVM_STATUS_OBJECT_TYPE_MISMATCH;
	case -EOPNOTSUPP:
		return WINVM_STATUS_NOT_SUPPORTED;
	case -EIO:
		return WINVM_STATUS_UNSUCCESSFUL;
	case -EFBIG:
		return WINVM_STATUS_SECTION_TOO_BIG;
	case -ENOMEM:
	case -ENFILE:	/* a file for copies or a read-only reopen */
	case -EMFILE:
	case -EINTR:	/* a fatal signal: the caller never sees the answer */
	case -EAGAIN:	/* RLIMIT_MEMLOCK on an mlockall(MCL_FUTURE) process */
	case -ENOSPC:
	case -EOVERFLOW:
		return WINVM_STATUS_NO_MEMORY;
	default:
		return WINVM_STATUS_NONE;
	}
}

/*
 * What errno the mechanism may pass on from code that is not winvm's (a
 * caller's filesystem's ->mmap, an LSM, NFS's -ESTALE): @err if it has an
 * NTSTATUS, -EIO otherwise, so that only winvm's own errnos can reach the
 * WARN below.
 */
int winvm_foreign_errno(int err)
{
	return winvm_errno_lookup(err) == WINVM_STATUS_NONE ? -EIO : err;
}

u32 winvm_errno_status(int err)
{
	u32 status = winvm_errno_lookup(err);

	if (status != WINVM_STATUS_NONE)
		return status;
	WARN_ONCE(1, "winvm: no NTSTATUS for errno %d\n", err);
	return WINVM_STATUS_NO_MEMORY;
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
	case WINVM_STATUS_OBJECT_TYPE_MISMATCH:
		return -EBADF;
	case WINVM_STATUS_UNSUCCESSFUL:
		return -ENODATA;
	case WINVM_STATUS_NOT_FOUND:
	case WINVM_STATUS_OBJECT_NAME_NOT_FOUND:
		return -ENOENT;
	case WINVM_STATUS_PRIVILEGE_NOT_HELD:
		return -EPERM;
	case WINVM_STATUS_SECTION_TOO_BIG:
		return -EFBIG;
	case WINVM_STATUS_INVALID_IMAGE_NOT_MZ:
		return -ENOEXEC;
	default:
		return -EINVAL;
	}
}
