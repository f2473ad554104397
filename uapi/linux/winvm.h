/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * winvm: Windows NT virtual-memory semantics for Linux processes.
 *
 * Userspace opens /dev/winvm; each open file is a context bound to the
 * opener's address space.  Every ioctl takes a pointer to one of the
 * structs below.  All fields are __u32/__u64 with explicit padding, so the
 * same layout serves 32-bit and 64-bit callers (compat_ptr_ioctl).
 *
 * Conventions shared by every ioctl:
 *  - "flags" and "reserved" inputs must be zero, or the call fails with
 *    EINVAL / STATUS_INVALID_PARAMETER and changes nothing.
 *  - On failure the ioctl returns -1 with errno set and, whenever the
 *    argument struct could be read and written back, "status" holds the
 *    NTSTATUS Windows would return for the same request.  On success
 *    "status" is STATUS_SUCCESS (or a success-class NTSTATUS).
 *  - Addresses and sizes are bytes, as in the Win32 / NT calls.
 *  - errno follows the NTSTATUS: EINVAL for INVALID_PARAMETER*,
 *    INVALID_PAGE_PROTECTION, UNABLE_TO_FREE_VM, FREE_VM_NOT_AT_BASE and
 *    INFO_LENGTH_MISMATCH; EEXIST for CONFLICTING_ADDRESSES; ENOMEM for
 *    NO_MEMORY and COMMITMENT_LIMIT; ENXIO for MEMORY_NOT_ALLOCATED,
 *    NOT_MAPPED_VIEW, NOT_COMMITTED and INVALID_ADDRESS; EACCES for
 *    ACCESS_DENIED and ALREADY_COMMITTED; EOPNOTSUPP for NOT_SUPPORTED;
 *    EBADF for INVALID_HANDLE (a context used from a process other than the
 *    one that opened it, e.g. after fork); EFAULT when the argument struct
 *    cannot be read or written (status is then left untouched);
 *    ENOENT for NOT_FOUND and OBJECT_NAME_NOT_FOUND; ENODATA for
 *    UNSUCCESSFUL (MEM_RESET_UNDO on data that MEM_RESET already
 *    discarded); EPERM for PRIVILEGE_NOT_HELD; EBADF for
 *    OBJECT_TYPE_MISMATCH (an fd that is not a section); EFBIG for
 *    SECTION_TOO_BIG; ENOEXEC for INVALID_IMAGE_NOT_MZ; EINVAL for the
 *    other section errors (MAPPED_ALIGNMENT, INVALID_VIEW_SIZE,
 *    MAPPED_FILE_SIZE_ZERO, INVALID_FILE_FOR_SECTION, OBJECT_NAME_INVALID).
 *
 * Guard pages and access violations (the signal protocol):
 *  An access that Windows would turn into STATUS_GUARD_PAGE_VIOLATION or
 *  STATUS_ACCESS_VIOLATION raises SIGSEGV in the faulting thread, with
 *  si_addr the exact faulting address.  For faults the module decided (a
 *  guard hit, a reserved or no-access page, a write to a read-only page, an
 *  instruction fetch from a not-present non-executable page) it also
 *  records {address, access, status} for that thread; the handler reads the
 *  record with WINVM_IOC_FAULT_INFO and compares its address with si_addr.
 *  A guard page's guard is cleared before the signal is delivered, so
 *  returning from the handler re-executes the access, which then succeeds.
 *  Faults with no matching record are hardware protection faults on
 *  present pages (for example executing a non-executable page) and are
 *  access violations.
 *
 * Kernel-mode accesses (read(2) into a winvm buffer, futexes, O_DIRECT,
 * process_vm_readv, /proc/pid/mem) succeed on committed pages with the right
 * protection and fail with EFAULT on reserved, no-access and guard pages;
 * they never consume a guard.
 */
#ifndef _UAPI_LINUX_WINVM_H
#define _UAPI_LINUX_WINVM_H

#include <linux/types.h>

#define WINVM_ABI_VERSION		1

/* Windows memory constants, with their Windows values. */
#define WINVM_PAGE_NOACCESS		0x00000001
#define WINVM_PAGE_READONLY		0x00000002
#define WINVM_PAGE_READWRITE		0x00000004
#define WINVM_PAGE_WRITECOPY		0x00000008
#define WINVM_PAGE_EXECUTE		0x00000010
#define WINVM_PAGE_EXECUTE_READ		0x00000020
#define WINVM_PAGE_EXECUTE_READWRITE	0x00000040
#define WINVM_PAGE_EXECUTE_WRITECOPY	0x00000080
#define WINVM_PAGE_GUARD		0x00000100
#define WINVM_PAGE_NOCACHE		0x00000200
#define WINVM_PAGE_WRITECOMBINE		0x00000400

#define WINVM_MEM_COALESCE_PLACEHOLDERS	0x00000001
#define WINVM_MEM_PRESERVE_PLACEHOLDER	0x00000002
#define WINVM_MEM_COMMIT		0x00001000
#define WINVM_MEM_RESERVE		0x00002000
#define WINVM_MEM_DECOMMIT		0x00004000
#define WINVM_MEM_REPLACE_PLACEHOLDER	0x00004000
#define WINVM_MEM_RELEASE		0x00008000
#define WINVM_MEM_FREE			0x00010000
#define WINVM_MEM_PRIVATE		0x00020000
#define WINVM_MEM_MAPPED		0x00040000
#define WINVM_MEM_RESERVE_PLACEHOLDER	0x00040000
#define WINVM_MEM_RESET			0x00080000
#define WINVM_MEM_TOP_DOWN		0x00100000
#define WINVM_MEM_WRITE_WATCH		0x00200000
#define WINVM_MEM_PHYSICAL		0x00400000
#define WINVM_MEM_RESET_UNDO		0x01000000
#define WINVM_MEM_IMAGE			0x01000000
#define WINVM_MEM_LARGE_PAGES		0x20000000
#define WINVM_MEM_4MB_PAGES		0x80000000
#define WINVM_AT_ROUND_TO_PAGE		0x40000000

#define WINVM_SEC_FILE			0x00800000
#define WINVM_SEC_IMAGE			0x01000000
#define WINVM_SEC_RESERVE		0x04000000
#define WINVM_SEC_COMMIT		0x08000000
#define WINVM_SEC_NOCACHE		0x10000000
#define WINVM_SEC_WRITECOMBINE		0x40000000
#define WINVM_SEC_LARGE_PAGES		0x80000000

#define WINVM_SECTION_QUERY		0x0001
#define WINVM_SECTION_MAP_WRITE		0x0002
#define WINVM_SECTION_MAP_READ		0x0004
#define WINVM_SECTION_MAP_EXECUTE	0x0008
#define WINVM_SECTION_EXTEND_SIZE	0x0010
#define WINVM_FILE_MAP_COPY		0x0001
#define WINVM_FILE_MAP_WRITE		0x0002
#define WINVM_FILE_MAP_READ		0x0004
#define WINVM_FILE_MAP_EXECUTE		0x0020
#define WINVM_FILE_MAP_ALL_ACCESS	0x000f001f

/* ExceptionInformation[0] values for access violations and guard hits. */
#define WINVM_EXCEPTION_READ_FAULT	0
#define WINVM_EXCEPTION_WRITE_FAULT	1
#define WINVM_EXCEPTION_EXECUTE_FAULT	8

/* NTSTATUS values reported in the "status" fields. */
#define WINVM_STATUS_SUCCESS			0x00000000
#define WINVM_STATUS_OBJECT_NAME_EXISTS		0x40000000
#define WINVM_STATUS_GUARD_PAGE_VIOLATION	0x80000001
#define WINVM_STATUS_BUFFER_OVERFLOW		0x80000005
#define WINVM_STATUS_PARTIAL_COPY		0x8000000d
#define WINVM_STATUS_UNSUCCESSFUL		0xc0000001
#define WINVM_STATUS_NOT_IMPLEMENTED		0xc0000002
#define WINVM_STATUS_INVALID_INFO_CLASS		0xc0000003
#define WINVM_STATUS_INFO_LENGTH_MISMATCH	0xc0000004
#define WINVM_STATUS_ACCESS_VIOLATION		0xc0000005
#define WINVM_STATUS_INVALID_HANDLE		0xc0000008
#define WINVM_STATUS_INVALID_PARAMETER		0xc000000d
#define WINVM_STATUS_INVALID_DEVICE_REQUEST	0xc0000010
#define WINVM_STATUS_NO_MEMORY			0xc0000017
#define WINVM_STATUS_CONFLICTING_ADDRESSES	0xc0000018
#define WINVM_STATUS_NOT_MAPPED_VIEW		0xc0000019
#define WINVM_STATUS_UNABLE_TO_FREE_VM		0xc000001a
#define WINVM_STATUS_INVALID_VIEW_SIZE		0xc000001f
#define WINVM_STATUS_INVALID_FILE_FOR_SECTION	0xc0000020
#define WINVM_STATUS_ALREADY_COMMITTED		0xc0000021
#define WINVM_STATUS_ACCESS_DENIED		0xc0000022
#define WINVM_STATUS_NOT_COMMITTED		0xc000002d
#define WINVM_STATUS_INVALID_PARAMETER_MIX	0xc0000030
#define WINVM_STATUS_OBJECT_NAME_NOT_FOUND	0xc0000034
#define WINVM_STATUS_OBJECT_NAME_COLLISION	0xc0000035
#define WINVM_STATUS_SECTION_TOO_BIG		0xc0000040
#define WINVM_STATUS_INVALID_PAGE_PROTECTION	0xc0000045
#define WINVM_STATUS_SECTION_NOT_IMAGE		0xc0000049
#define WINVM_STATUS_INVALID_IMAGE_NOT_MZ	0xc000007b
#define WINVM_STATUS_FREE_VM_NOT_AT_BASE	0xc000009f
#define WINVM_STATUS_MEMORY_NOT_ALLOCATED	0xc00000a0
#define WINVM_STATUS_NOT_SUPPORTED		0xc00000bb
#define WINVM_STATUS_INVALID_PARAMETER_1	0xc00000ef
#define WINVM_STATUS_INVALID_PARAMETER_2	0xc00000f0
#define WINVM_STATUS_INVALID_PARAMETER_3	0xc00000f1
#define WINVM_STATUS_INVALID_PARAMETER_4	0xc00000f2
#define WINVM_STATUS_INVALID_PARAMETER_5	0xc00000f3
#define WINVM_STATUS_MAPPED_FILE_SIZE_ZERO	0xc000011e
#define WINVM_STATUS_COMMITMENT_LIMIT		0xc000012d
#define WINVM_STATUS_INVALID_ADDRESS		0xc0000141
#define WINVM_STATUS_NOT_FOUND			0xc0000225
#define WINVM_STATUS_MAPPED_ALIGNMENT		0xc0000220
#define WINVM_STATUS_OBJECT_NAME_INVALID	0xc0000033
#define WINVM_STATUS_PRIVILEGE_NOT_HELD		0xc0000061
#define WINVM_STATUS_OBJECT_TYPE_MISMATCH	0xc0000024

/* WINVM_IOC_INFO_GET: system facts, as GetSystemInfo reports them. */
#define WINVM_FEATURE_PRIVATE		(1ULL << 0)	/* alloc/free/protect/query */
#define WINVM_FEATURE_GUARD		(1ULL << 1)	/* guard pages, FAULT_INFO */
#define WINVM_FEATURE_SECTIONS		(1ULL << 2)	/* sections and views */
#define WINVM_FEATURE_WRITE_WATCH	(1ULL << 3)	/* MEM_WRITE_WATCH, WATCH_GET/RESET */

struct winvm_info_args {
	__u32 flags;			/* in: must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u32 abi_version;		/* out: WINVM_ABI_VERSION */
	__u32 page_size;		/* out: 4096 */
	__u32 allocation_granularity;	/* out: 65536 */
	__u32 pad;			/* must be 0 */
	__u64 min_address;		/* out: lowest application address */
	__u64 max_address;		/* out: highest application address */
	__u64 large_page_minimum;	/* out: GetLargePageMinimum(), 0 if none */
	__u64 features;			/* out: WINVM_FEATURE_* */
	__u64 reserved[4];		/* must be 0 */
};

/*
 * WINVM_IOC_MEM_ALLOC: NtAllocateVirtualMemory.
 *  address: in, the requested address or 0; out, the base of the range.
 *  size: in, bytes; out, the size of the range (whole pages).
 *  zero_bits: as NtAllocateVirtualMemory's ZeroBits: 0, 1..21 (the result
 *  must have that many high-order zero bits of a 32-bit address), or a
 *  value above 31, taken as a mask of the address bits that may be set.
 *  type: MEM_RESERVE, MEM_COMMIT, MEM_TOP_DOWN, MEM_WRITE_WATCH (new
 *  allocations only), MEM_RESET, MEM_RESET_UNDO.
 *  protect: PAGE_* with optional GUARD, NOCACHE or WRITECOMBINE.
 */
struct winvm_alloc_args {
	__u64 address;
	__u64 size;
	__u64 zero_bits;
	__u32 type;
	__u32 protect;
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u64 reserved[2];		/* must be 0 */
};

/*
 * WINVM_IOC_MEM_FREE: NtFreeVirtualMemory.  type is MEM_DECOMMIT or
 * MEM_RELEASE.  With size 0, address must lie in the first page of an
 * allocation and the whole allocation is affected; otherwise the page range
 * covering [address, address + size) is, and a partial MEM_RELEASE splits
 * the allocation (the NT rule).  address and size return the range freed.
 */
struct winvm_free_args {
	__u64 address;
	__u64 size;
	__u32 type;
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u32 pad;			/* must be 0 */
	__u64 reserved[2];		/* must be 0 */
};

/*
 * WINVM_IOC_MEM_PROTECT: NtProtectVirtualMemory.  Every page in the range
 * must be committed and inside one allocation.  old_protect returns the
 * protection of the first page (also on STATUS_NOT_COMMITTED, where it is
 * PAGE_NOACCESS).  address and size return the page range changed.
 */
struct winvm_protect_args {
	__u64 address;
	__u64 size;
	__u32 protect;
	__u32 old_protect;		/* out */
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u64 reserved[2];		/* must be 0 */
};

/*
 * WINVM_IOC_MEM_QUERY: NtQueryVirtualMemory with MemoryBasicInformation
 * (the first block) and MemoryRegionInformation (allocation_size and
 * commit_size) answered together.  Any address of the process may be
 * queried: winvm memory, free space, and ordinary Linux mappings (reported
 * as committed MEM_PRIVATE, MEM_MAPPED or MEM_IMAGE with translated
 * protections).
 */
struct winvm_query_args {
	__u64 address;			/* in */
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	/* MEMORY_BASIC_INFORMATION */
	__u64 base_address;
	__u64 allocation_base;
	__u64 region_size;
	__u32 allocation_protect;
	__u32 state;			/* MEM_COMMIT, MEM_RESERVE or MEM_FREE */
	__u32 protect;
	__u32 type;			/* MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE or 0 */
	/* MEMORY_REGION_INFORMATION (0 when the address is free) */
	__u64 allocation_size;
	__u64 commit_size;
	__u32 region_flags;		/* WINVM_REGION_* */
	__u32 pad;			/* must be 0 */
	__u64 reserved[2];		/* must be 0 */
};

#define WINVM_REGION_WINVM		0x1	/* managed by winvm */

/*
 * WINVM_IOC_FAULT_INFO: the last access fault the module decided for the
 * calling thread (see the signal protocol above).  Reading it consumes it;
 * with no record, the ioctl fails with ENOENT / STATUS_NOT_FOUND.  Records
 * are kept per thread, one each, until read or until the process's last
 * winvm file and allocation are gone.
 */
struct winvm_fault_info_args {
	__u64 address;			/* out: exact faulting address */
	__u32 access;			/* out: WINVM_EXCEPTION_*_FAULT */
	__u32 fault_status;		/* out: GUARD_PAGE_VIOLATION or ACCESS_VIOLATION */
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS of the ioctl itself */
	__u64 reserved[2];		/* must be 0 */
};

/*
 * Sections (NtCreateSection / CreateFileMapping) are file descriptors,
 * like ntsync objects: SECTION_CREATE, SECTION_OPEN and SECTION_DUP return
 * a new O_CLOEXEC section fd as the ioctl's return value (and in "fd").
 * A section lives while a section fd or a view holds it; pass the fd to
 * another process (fork, SCM_RIGHTS) and map it there with VIEW_MAP on that
 * process's own /dev/winvm fd.  Each section fd carries its own granted
 * access (SECTION_* bits), checked when mapping.
 *
 * Names: an optional UTF-8 name (1..WINVM_NAME_MAX bytes, case-sensitive)
 * lives in the namespace of the caller's user namespace and effective uid,
 * so other users never see it; with WINVM_SECTION_GLOBAL it lives in one
 * system-wide namespace instead, where creating requires CAP_SYS_ADMIN
 * (Windows' SeCreateGlobalPrivilege).  A name disappears when its last
 * section fd closes, even while views remain.  Creating an existing name
 * returns the existing section with status STATUS_OBJECT_NAME_EXISTS and
 * "existed" set (ERROR_ALREADY_EXISTS).
 *
 * Who may open a name (its security descriptor): a name remembers its
 * creator's effective uid.  The creator's uid and CAP_SYS_ADMIN get every
 * right; everybody else gets the SECTION_* rights in "world_access" (0 by
 * default: nothing, as Windows' default DACL grants only the creator and
 * the administrators).  Opening, or creating an existing name, asks for
 * rights the caller does not have: STATUS_ACCESS_DENIED / EACCES.
 * world_access applies to WINVM_SECTION_GLOBAL names only (a local name is
 * visible to its own uid alone) and must be 0 otherwise.
 */
#define WINVM_NAME_MAX			256
#define WINVM_SECTION_GLOBAL		0x1

struct winvm_section_create_args {
	__u64 size;			/* in: maximum size; 0 = the file's size */
	__u64 name;			/* in: pointer to the name, or 0 */
	__u32 name_len;			/* in: bytes */
	__s32 file_fd;			/* in: file to map, or -1 (pagefile-backed) */
	__u32 protect;			/* in: PAGE_* page protection */
	__u32 attributes;		/* in: SEC_* (0 = SEC_COMMIT) */
	__u32 access;			/* in: SECTION_* of the new fd; 0 = all */
	__u32 flags;			/* in: WINVM_SECTION_GLOBAL */
	__s32 fd;			/* out: the section fd */
	__u32 existed;			/* out: 1 if the name already existed */
	__u32 status;			/* out: NTSTATUS */
	__u32 world_access;		/* in: SECTION_* for other users (Global) */
	__u64 reserved[2];		/* must be 0 */
};

struct winvm_section_open_args {
	__u64 name;			/* in: pointer to the name */
	__u32 name_len;			/* in: bytes */
	__u32 access;			/* in: SECTION_* / FILE_MAP_* wanted */
	__u32 flags;			/* in: WINVM_SECTION_GLOBAL */
	__s32 fd;			/* out: the section fd */
	__u32 status;			/* out: NTSTATUS */
	__u32 pad;			/* must be 0 */
	__u64 reserved[2];		/* must be 0 */
};

/* NtQuerySection(SectionBasicInformation); needs SECTION_QUERY. */
struct winvm_section_query_args {
	__s32 section_fd;		/* in */
	__u32 flags;			/* must be 0 */
	__u64 size;			/* out: section size in bytes */
	__u32 attributes;		/* out: SEC_* (SEC_FILE for file-backed) */
	__u32 protect;			/* out: the section's page protection */
	__u32 access;			/* out: access granted to this fd */
	__u32 status;			/* out: NTSTATUS */
	__u64 reserved[2];		/* must be 0 */
};

/* DuplicateHandle for sections: a new fd with a subset of the access. */
struct winvm_section_dup_args {
	__s32 section_fd;		/* in */
	__u32 access;			/* in: wanted access; must be granted to section_fd */
	__u32 flags;			/* must be 0 */
	__s32 fd;			/* out: the new section fd */
	__u32 status;			/* out: NTSTATUS */
	__u32 pad;			/* must be 0 */
	__u64 reserved[2];		/* must be 0 */
};

/*
 * WINVM_IOC_VIEW_MAP: NtMapViewOfSection / MapViewOfFileEx in the calling
 * process.  offset must be a multiple of 64 KiB; address is 0 (the module
 * picks a 64 KiB-aligned range) or a 64 KiB-aligned base; size 0 maps the
 * rest of the section.  access is FILE_MAP_READ / WRITE / COPY / EXECUTE
 * (0 = a no-access view).  Views of SEC_RESERVE sections start reserved;
 * MEM_ALLOC with MEM_COMMIT inside the view commits section pages.
 */
struct winvm_view_map_args {
	__s32 section_fd;		/* in */
	__u32 access;			/* in: FILE_MAP_* */
	__u64 address;			/* in/out */
	__u64 offset;			/* in */
	__u64 size;			/* in/out */
	__u64 zero_bits;		/* in: as for MEM_ALLOC */
	__u32 type;			/* in: 0 or MEM_TOP_DOWN */
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u32 pad;			/* must be 0 */
	__u64 reserved[2];		/* must be 0 */
};

/* WINVM_IOC_VIEW_UNMAP: NtUnmapViewOfSection; any address inside the view. */
struct winvm_view_unmap_args {
	__u64 address;			/* in */
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u64 reserved[2];		/* must be 0 */
};

/*
 * WINVM_IOC_VIEW_FLUSH: FlushViewOfFile; writes the range of a file-backed
 * view to the file (fsync of that range).  size 0 = to the end of the view.
 */
struct winvm_view_flush_args {
	__u64 address;			/* in/out */
	__u64 size;			/* in/out */
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u64 reserved[2];		/* must be 0 */
};

/*
 * Write watch.  An allocation made with MEM_WRITE_WATCH (MEM_RESERVE, or
 * MEM_COMMIT at address 0; private memory only) records which of its pages
 * were written, by the process or by the kernel on its behalf (read(2)
 * into the buffer, O_DIRECT, process_vm_writev, /proc/pid/mem), since it
 * was made or last reset.  Protection changes leave the record alone;
 * decommit clears it.  Query does not show it.
 *
 * WINVM_IOC_WATCH_GET: NtGetWriteWatch.  [address, address + size) must
 * lie inside one watched allocation.  Up to count page addresses of
 * written pages, in ascending order, go to the __u64 array at addresses;
 * count returns how many.  With WINVM_WRITE_WATCH_FLAG_RESET the pages
 * returned, and only those, are reset.  granularity returns the page size.
 */
#define WINVM_WRITE_WATCH_FLAG_RESET	0x00000001

struct winvm_watch_get_args {
	__u64 address;
	__u64 size;
	__u64 addresses;		/* in: user pointer to __u64[count] */
	__u64 count;			/* in: capacity; out: pages listed */
	__u32 flags;			/* WINVM_WRITE_WATCH_FLAG_RESET or 0 */
	__u32 status;			/* out: NTSTATUS */
	__u32 granularity;		/* out: 4096 */
	__u32 pad;			/* must be 0 */
	__u64 reserved[2];		/* must be 0 */
};

/* WINVM_IOC_WATCH_RESET: NtResetWriteWatch of [address, address + size). */
struct winvm_watch_reset_args {
	__u64 address;
	__u64 size;
	__u32 flags;			/* must be 0 */
	__u32 status;			/* out: NTSTATUS */
	__u64 reserved[2];		/* must be 0 */
};

#define WINVM_IOC_MAGIC			'W'
#define WINVM_IOC_INFO_GET	_IOWR(WINVM_IOC_MAGIC, 0x80, struct winvm_info_args)
#define WINVM_IOC_MEM_ALLOC	_IOWR(WINVM_IOC_MAGIC, 0x81, struct winvm_alloc_args)
#define WINVM_IOC_MEM_FREE	_IOWR(WINVM_IOC_MAGIC, 0x82, struct winvm_free_args)
#define WINVM_IOC_MEM_PROTECT	_IOWR(WINVM_IOC_MAGIC, 0x83, struct winvm_protect_args)
#define WINVM_IOC_MEM_QUERY	_IOWR(WINVM_IOC_MAGIC, 0x84, struct winvm_query_args)
#define WINVM_IOC_FAULT_INFO	_IOWR(WINVM_IOC_MAGIC, 0x85, struct winvm_fault_info_args)
#define WINVM_IOC_SECTION_CREATE _IOWR(WINVM_IOC_MAGIC, 0x86, struct winvm_section_create_args)
#define WINVM_IOC_SECTION_OPEN	_IOWR(WINVM_IOC_MAGIC, 0x87, struct winvm_section_open_args)
#define WINVM_IOC_SECTION_QUERY	_IOWR(WINVM_IOC_MAGIC, 0x88, struct winvm_section_query_args)
#define WINVM_IOC_SECTION_DUP	_IOWR(WINVM_IOC_MAGIC, 0x89, struct winvm_section_dup_args)
#define WINVM_IOC_VIEW_MAP	_IOWR(WINVM_IOC_MAGIC, 0x8a, struct winvm_view_map_args)
#define WINVM_IOC_VIEW_UNMAP	_IOWR(WINVM_IOC_MAGIC, 0x8b, struct winvm_view_unmap_args)
#define WINVM_IOC_VIEW_FLUSH	_IOWR(WINVM_IOC_MAGIC, 0x8c, struct winvm_view_flush_args)
#define WINVM_IOC_WATCH_GET	_IOWR(WINVM_IOC_MAGIC, 0x8d, struct winvm_watch_get_args)
#define WINVM_IOC_WATCH_RESET	_IOWR(WINVM_IOC_MAGIC, 0x8e, struct winvm_watch_reset_args)

#endif /* _UAPI_LINUX_WINVM_H */
