/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libwinvm native API: one function per /dev/winvm ioctl.
 *
 * Every call takes the /dev/winvm context fd first (winvm_default_fd() for
 * the process-wide one) and returns the NTSTATUS Windows would return for
 * the same request, exactly as the module reports it in the ioctl's
 * "status" field.  When the ioctl fails before the module could write a
 * status (a bad fd, an unknown ioctl on an older module, a bad pointer),
 * the library derives one from errno: see winvm_status_from_errno().
 * errno is left as the ioctl set it.
 *
 * In/out parameters follow NtAllocateVirtualMemory and friends: addresses
 * and sizes are read on entry and hold the module's answer on return, on
 * success and on failure alike (the module returns them unchanged when it
 * fails).  Output-only pointers may be NULL where the comment says so.
 *
 * The structs of <linux/winvm.h> (the module's ABI, installed next to this
 * header) are used where a call returns many fields.
 */
#ifndef WINVM_WINVM_H
#define WINVM_WINVM_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include <linux/winvm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WINVM_LIB_VERSION_MAJOR	0
#define WINVM_LIB_VERSION_MINOR	1

/* An NTSTATUS as the module reports it (0xC0000005 etc.). */
#ifndef WINVM_NO_NTSTATUS
typedef uint32_t NTSTATUS;
#endif

/* NT_SUCCESS() for NTSTATUS values of this API (success and info class). */
#define WINVM_NT_SUCCESS(st)	((int32_t)(st) >= 0)

/* ------------------------------------------------------------------ */
/* Contexts                                                             */
/* ------------------------------------------------------------------ */

/*
 * Opens a new context on /dev/winvm (O_RDWR | O_CLOEXEC); the fd, or -1
 * with errno set.  A context belongs to the address space that opened it:
 * after fork() the child must open its own.
 */
int winvm_open(void);

/*
 * The process-wide context, opened on first use (thread-safe).  After
 * fork() the child gets a fresh one on its next call.  Returns -1 with
 * errno set when /dev/winvm cannot be opened; the calls below then return
 * STATUS_INVALID_HANDLE for it.  Never close it yourself.
 */
int winvm_default_fd(void);

/* ------------------------------------------------------------------ */
/* The ioctls                                                           */
/* ------------------------------------------------------------------ */

/* WINVM_IOC_INFO_GET. */
NTSTATUS winvm_info(int fd, struct winvm_info_args *info);

/* WINVM_IOC_MEM_ALLOC: NtAllocateVirtualMemory. */
NTSTATUS winvm_alloc(int fd, uint64_t *address, uint64_t *size, uint64_t zero_bits,
		     uint32_t type, uint32_t protect);

/* WINVM_IOC_MEM_FREE: NtFreeVirtualMemory (MEM_DECOMMIT or MEM_RELEASE). */
NTSTATUS winvm_free(int fd, uint64_t *address, uint64_t *size, uint32_t type);

/*
 * WINVM_IOC_MEM_PROTECT: NtProtectVirtualMemory.  *old_protect (may be
 * NULL) receives the old protection whenever the module reports one, also
 * on STATUS_NOT_COMMITTED (PAGE_NOACCESS).
 */
NTSTATUS winvm_protect(int fd, uint64_t *address, uint64_t *size, uint32_t protect,
		       uint32_t *old_protect);

/* WINVM_IOC_MEM_QUERY: NtQueryVirtualMemory; the answer lands in *info. */
NTSTATUS winvm_query(int fd, uint64_t address, struct winvm_query_args *info);

/*
 * WINVM_IOC_WATCH_GET: NtGetWriteWatch.  Up to *count addresses of pages
 * of [address, address + size) written since the last reset go to
 * addresses[], ascending; *count returns how many.  flags:
 * WINVM_WRITE_WATCH_FLAG_RESET resets the pages listed.  *granularity
 * (may be NULL) receives the page size.
 */
NTSTATUS winvm_watch_get(int fd, uint32_t flags, uint64_t address, uint64_t size,
			 uint64_t *addresses, uint64_t *count, uint32_t *granularity);

/* WINVM_IOC_WATCH_RESET: NtResetWriteWatch of [address, address + size). */
NTSTATUS winvm_watch_reset(int fd, uint64_t address, uint64_t size);

/*
 * WINVM_IOC_FAULT_INFO: reads (and consumes) the calling thread's fault
 * record; STATUS_NOT_FOUND when there is none.  Async-signal-safe.
 */
NTSTATUS winvm_fault_info(int fd, struct winvm_fault_info_args *info);

/*
 * WINVM_IOC_SECTION_CREATE: NtCreateSection.  name is NULL (anonymous) or
 * a NUL-terminated UTF-8 name; file_fd is -1 for a pagefile-backed
 * section.  On success *section_fd is the new section fd and *existed (may
 * be NULL) says whether the name already existed (the status is then
 * STATUS_OBJECT_NAME_EXISTS).
 */
NTSTATUS winvm_section_create(int fd, int *section_fd, uint64_t size, const char *name,
			      int file_fd, uint32_t protect, uint32_t attributes,
			      uint32_t access, uint32_t flags, int *existed);

/* WINVM_IOC_SECTION_OPEN: NtOpenSection by name. */
NTSTATUS winvm_section_open(int fd, int *section_fd, const char *name, uint32_t access,
			    uint32_t flags);

/* WINVM_IOC_SECTION_QUERY: NtQuerySection(SectionBasicInformation). */
NTSTATUS winvm_section_query(int fd, int section_fd, struct winvm_section_query_args *info);

/* WINVM_IOC_SECTION_DUP: a new section fd with (a subset of) the access. */
NTSTATUS winvm_section_dup(int fd, int section_fd, uint32_t access, int *new_fd);

/* WINVM_IOC_VIEW_MAP: NtMapViewOfSection into the calling process. */
NTSTATUS winvm_view_map(int fd, int section_fd, uint32_t access, uint64_t *address,
			uint64_t offset, uint64_t *size, uint64_t zero_bits, uint32_t type);

/* WINVM_IOC_VIEW_UNMAP: NtUnmapViewOfSection; any address inside the view. */
NTSTATUS winvm_view_unmap(int fd, uint64_t address);

/* WINVM_IOC_VIEW_FLUSH: NtFlushVirtualMemory / FlushViewOfFile. */
NTSTATUS winvm_view_flush(int fd, uint64_t *address, uint64_t *size);

/* ------------------------------------------------------------------ */
/* Status helpers                                                       */
/* ------------------------------------------------------------------ */

/* "STATUS_ACCESS_VIOLATION"; "STATUS_<unknown>" for codes it does not know. */
const char *winvm_status_name(NTSTATUS status);

/*
 * The Win32 error code Windows' RtlNtStatusToDosError() gives for @status
 * (ERROR_INVALID_ADDRESS for STATUS_CONFLICTING_ADDRESSES, ...).
 */
uint32_t winvm_status_to_win32(NTSTATUS status);

/*
 * The NTSTATUS for an ioctl that failed before the module wrote one:
 * ENOTTY/ENOSYS -> STATUS_NOT_IMPLEMENTED (an older module), EBADF ->
 * STATUS_INVALID_HANDLE, EFAULT -> STATUS_ACCESS_VIOLATION, ENOMEM ->
 * STATUS_NO_MEMORY, EACCES/EPERM -> STATUS_ACCESS_DENIED, ENOENT ->
 * STATUS_OBJECT_NAME_NOT_FOUND, anything else -> STATUS_INVALID_PARAMETER
 * (EINVAL) or STATUS_UNSUCCESSFUL.
 */
NTSTATUS winvm_status_from_errno(int err);

/* "PAGE_READWRITE|PAGE_GUARD" into buf; "0" for 0.  Returns buf. */
char *winvm_protect_string(uint32_t protect, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Address-space map (what tools/winvm-map prints)                      */
/* ------------------------------------------------------------------ */

#define WINVM_MAP_ALL		0x01	/* also ordinary Linux mappings */
#define WINVM_MAP_REGIONS	0x02	/* one line per VirtualQuery region too */
#define WINVM_MAP_COLOR		0x04	/* force ANSI colour */
#define WINVM_MAP_NOCOLOR	0x08	/* never colour (default: if isatty) */
#define WINVM_MAP_JSON		0x10	/* JSON instead of the table */
#define WINVM_MAP_NOLEGEND	0x20	/* no legend under the table */

/*
 * Prints the calling process's address space as VirtualQuery sees it: one
 * row per allocation (base, size, state, protection, type, committed and
 * resident bytes) and a strip with one character per page (or per group
 * of pages for big allocations):
 *   '#' committed read/write    'r' committed read-only
 *   'x' committed executable    'c' committed write-copy
 *   'g' guard page              '-' committed no-access
 *   '.' reserved
 * Returns the number of allocations printed, or -1 with errno set.
 */
int winvm_map_print(FILE *out, unsigned int flags);

/* The same for the one allocation that contains @address. */
int winvm_map_print_allocation(FILE *out, const void *address, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* WINVM_WINVM_H */
