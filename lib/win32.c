// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libwinvm Win32 layer: VirtualAlloc & co., sections, handles, system
 * information and the per-thread last error, over the native API.
 *
 * Each function does what kernelbase.dll does on Windows before it calls
 * the NT function (the same argument checks, in the same order), calls the
 * module, and turns a failure NTSTATUS into GetLastError() with
 * winvm_status_to_win32().  Windows leaves the last error alone on
 * success, and so do these (CreateFileMapping and OpenFileMapping excepted,
 * as on Windows).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "winvm/winvm.h"
#include "winvm/win32.h"
#include "internal.h"

/* ------------------------------------------------------------------ */
/* Last error                                                           */
/* ------------------------------------------------------------------ */

static __thread DWORD last_error;

DWORD WINAPI GetLastError(void)
{
	return last_error;
}

void WINAPI SetLastError(DWORD dwErrCode)
{
	last_error = dwErrCode;
}

/* Sets the last error for a failure status; returns FALSE for chaining. */
static BOOL fail_status(NTSTATUS st)
{
	last_error = winvm_status_to_win32(st);
	return FALSE;
}

static BOOL fail_error(DWORD err)
{
	last_error = err;
	return FALSE;
}

/* The process's context; on failure sets ERROR_NOT_SUPPORTED and returns -1. */
static int ctx(void)
{
	int fd = winvm_default_fd();

	if (fd < 0)
		last_error = ERROR_NOT_SUPPORTED;
	return fd;
}

/* ------------------------------------------------------------------ */
/* Handles                                                              */
/* ------------------------------------------------------------------ */

/*
 * A HANDLE is (fd + 1) << 2: a multiple of 4 like Windows handles, never
 * NULL, never INVALID_HANDLE_VALUE (-1, also the current-process pseudo
 * handle).
 */
HANDLE winvm_handle_from_fd(int fd)
{
	if (fd < 0) {
		last_error = ERROR_INVALID_HANDLE;
		return NULL;
	}
	return (HANDLE)(((uintptr_t)fd + 1) << 2);
}

int winvm_fd_from_handle(HANDLE handle)
{
	uintptr_t v = (uintptr_t)handle;

	if (!v || handle == INVALID_HANDLE_VALUE || (v & 3) ||
	    (v >> 2) - 1 > (uintptr_t)INT_MAX) {
		last_error = ERROR_INVALID_HANDLE;
		return -1;
	}
	return (int)((v >> 2) - 1);
}

HANDLE WINAPI GetCurrentProcess(void)
{
	return (HANDLE)(LONG_PTR)-1;
}

DWORD WINAPI GetCurrentProcessId(void)
{
	return (DWORD)getpid();
}

static bool is_current_process(HANDLE process)
{
	return process == GetCurrentProcess();
}

/* FALSE with ERROR_INVALID_HANDLE unless @process is the current process. */
static BOOL check_process(HANDLE process)
{
	if (is_current_process(process))
		return TRUE;
	return fail_error(ERROR_INVALID_HANDLE);
}

static void set_inherit(int fd, BOOL inherit)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return;
	fcntl(fd, F_SETFD, inherit ? fl & ~FD_CLOEXEC : fl | FD_CLOEXEC);
}

BOOL WINAPI CloseHandle(HANDLE hObject)
{
	int fd;

	/* Closing a pseudo handle is a no-op that succeeds. */
	if (is_current_process(hObject))
		return TRUE;
	fd = winvm_fd_from_handle(hObject);
	if (fd < 0)
		return FALSE;
	if (close(fd) && errno == EBADF)
		return fail_error(ERROR_INVALID_HANDLE);
	return TRUE;
}

BOOL WINAPI DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle,
			    HANDLE hTargetProcessHandle, LPHANDLE lpTargetHandle,
			    DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions)
{
	int fd, nfd = -1, wfd;
	NTSTATUS st;
	BOOL ret = FALSE;

	if (!check_process(hSourceProcessHandle))
		return FALSE;
	if (dwOptions & ~(DWORD)(DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS))
		return fail_error(ERROR_INVALID_PARAMETER);
	/* The current-process pseudo handle duplicates to itself here. */
	if (is_current_process(hSourceHandle)) {
		if (!check_process(hTargetProcessHandle))
			return FALSE;
		if (lpTargetHandle)
			*lpTargetHandle = GetCurrentProcess();
		return TRUE;
	}
	fd = winvm_fd_from_handle(hSourceHandle);
	if (fd < 0)
		return FALSE;
	if (fcntl(fd, F_GETFD) < 0) {
		fail_error(ERROR_INVALID_HANDLE);
		goto out;
	}
	/* Windows closes the source even when the duplication fails. */
	if (!check_process(hTargetProcessHandle))
		goto out;
	if (!lpTargetHandle) {
		/* Only meaningful with DUPLICATE_CLOSE_SOURCE: nothing to create. */
		ret = TRUE;
		goto out;
	}
	if (dwOptions & DUPLICATE_SAME_ACCESS) {
		/* A dup shares the open file, and with it the granted access. */
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (nfd < 0) {
			fail_status(winvm_status_from_errno(errno));
			goto out;
		}
	} else {
		wfd = ctx();
		if (wfd < 0)
			goto out;
		st = winvm_section_dup(wfd, fd, dwDesiredAccess, &nfd);
		if (st == WINVM_STATUS_OBJECT_TYPE_MISMATCH) {
			/* Not a section: files carry no access mask here. */
			nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
			if (nfd < 0) {
				fail_status(winvm_status_from_errno(errno));
				goto out;
			}
		} else if (!WINVM_NT_SUCCESS(st)) {
			fail_status(st);
			goto out;
		}
	}
	set_inherit(nfd, bInheritHandle);
	*lpTargetHandle = winvm_handle_from_fd(nfd);
	ret = TRUE;
out:
	if (dwOptions & DUPLICATE_CLOSE_SOURCE)
		close(fd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Virtual memory                                                       */
/* ------------------------------------------------------------------ */

LPVOID WINAPI VirtualAllocEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
			     DWORD flAllocationType, DWORD flProtect)
{
	uint64_t addr = (uintptr_t)lpAddress, size = dwSize;
	NTSTATUS st;
	int fd;

	if (!check_process(hProcess))
		return NULL;
	fd = ctx();
	if (fd < 0)
		return NULL;
	st = winvm_alloc(fd, &addr, &size, 0, flAllocationType, flProtect);
	if (!WINVM_NT_SUCCESS(st)) {
		fail_status(st);
		return NULL;
	}
	return (LPVOID)(uintptr_t)addr;
}

LPVOID WINAPI VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
			   DWORD flProtect)
{
	return VirtualAllocEx(GetCurrentProcess(), lpAddress, dwSize, flAllocationType,
			      flProtect);
}

BOOL WINAPI VirtualFreeEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
	uint64_t addr = (uintptr_t)lpAddress, size = dwSize;
	NTSTATUS st;
	int fd;

	/* kernelbase refuses a sized plain MEM_RELEASE; NT would split. */
	if (dwFreeType == MEM_RELEASE && dwSize)
		return fail_error(ERROR_INVALID_PARAMETER);
	if (!check_process(hProcess))
		return FALSE;
	fd = ctx();
	if (fd < 0)
		return FALSE;
	st = winvm_free(fd, &addr, &size, dwFreeType);
	if (!WINVM_NT_SUCCESS(st))
		return fail_status(st);
	return TRUE;
}

BOOL WINAPI VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
	return VirtualFreeEx(GetCurrentProcess(), lpAddress, dwSize, dwFreeType);
}

BOOL WINAPI VirtualProtectEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
			     DWORD flNewProtect, PDWORD lpflOldProtect)
{
	uint64_t addr = (uintptr_t)lpAddress, size = dwSize;
	uint32_t old = 0xffffffffu;
	NTSTATUS st;
	int fd;

	/* NtProtectVirtualMemory checks this before anything else. */
	if (!lpflOldProtect)
		return fail_status(WINVM_STATUS_ACCESS_VIOLATION);
	if (!check_process(hProcess))
		return FALSE;
	fd = ctx();
	if (fd < 0)
		return FALSE;
	st = winvm_protect(fd, &addr, &size, flNewProtect, &old);
	if (old != 0xffffffffu)
		*lpflOldProtect = old;
	if (!WINVM_NT_SUCCESS(st))
		return fail_status(st);
	return TRUE;
}

BOOL WINAPI VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect,
			   PDWORD lpflOldProtect)
{
	return VirtualProtectEx(GetCurrentProcess(), lpAddress, dwSize, flNewProtect,
				lpflOldProtect);
}

SIZE_T WINAPI VirtualQueryEx(HANDLE hProcess, LPCVOID lpAddress,
			     PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength)
{
	struct winvm_query_args q;
	NTSTATUS st;
	int fd;

	if (!check_process(hProcess))
		return 0;
	if (dwLength < sizeof(*lpBuffer)) {
		fail_status(WINVM_STATUS_INFO_LENGTH_MISMATCH);
		return 0;
	}
	if (!lpBuffer) {
		fail_status(WINVM_STATUS_ACCESS_VIOLATION);
		return 0;
	}
	fd = ctx();
	if (fd < 0)
		return 0;
	st = winvm_query(fd, (uintptr_t)lpAddress, &q);
	if (!WINVM_NT_SUCCESS(st)) {
		fail_status(st);
		return 0;
	}
	memset(lpBuffer, 0, sizeof(*lpBuffer));
	lpBuffer->BaseAddress = (PVOID)(uintptr_t)q.base_address;
	lpBuffer->AllocationBase = (PVOID)(uintptr_t)q.allocation_base;
	lpBuffer->AllocationProtect = q.allocation_protect;
	lpBuffer->RegionSize = q.region_size;
	lpBuffer->State = q.state;
	lpBuffer->Protect = q.protect;
	lpBuffer->Type = q.type;
	return sizeof(*lpBuffer);
}

SIZE_T WINAPI VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer,
			   SIZE_T dwLength)
{
	return VirtualQueryEx(GetCurrentProcess(), lpAddress, lpBuffer, dwLength);
}

/* ------------------------------------------------------------------ */
/* Write watch                                                          */
/* ------------------------------------------------------------------ */

/* The module writes 64-bit addresses straight into the caller's array. */
_Static_assert(sizeof(PVOID) == sizeof(uint64_t), "PVOID is 64 bits");

UINT WINAPI GetWriteWatch(DWORD dwFlags, PVOID lpBaseAddress, SIZE_T dwRegionSize,
			  PVOID *lpAddresses, ULONG_PTR *lpdwCount, PULONG lpdwGranularity)
{
	uint32_t granularity;
	uint64_t count;
	NTSTATUS st;
	int fd;

	if (!lpdwCount || !lpdwGranularity) {
		fail_status(WINVM_STATUS_ACCESS_VIOLATION);
		return ~0u;
	}
	fd = ctx();
	if (fd < 0)
		return ~0u;
	count = *lpdwCount;
	st = winvm_watch_get(fd, dwFlags, (uintptr_t)lpBaseAddress, dwRegionSize,
			     (uint64_t *)lpAddresses, &count, &granularity);
	if (!WINVM_NT_SUCCESS(st)) {
		fail_status(st);
		return ~0u;
	}
	*lpdwCount = count;
	*lpdwGranularity = granularity;
	return 0;
}

UINT WINAPI ResetWriteWatch(LPVOID lpBaseAddress, SIZE_T dwRegionSize)
{
	NTSTATUS st;
	int fd = ctx();

	if (fd < 0)
		return ~0u;
	st = winvm_watch_reset(fd, (uintptr_t)lpBaseAddress, dwRegionSize);
	if (!WINVM_NT_SUCCESS(st)) {
		fail_status(st);
		return ~0u;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sections                                                             */
/* ------------------------------------------------------------------ */

#define SEC_MASK	(SEC_FILE | SEC_IMAGE | SEC_PROTECTED_IMAGE | SEC_RESERVE | \
			 SEC_COMMIT | SEC_NOCACHE | SEC_WRITECOMBINE | SEC_LARGE_PAGES)

/* Strips Windows' namespace prefixes; "Global\" selects the global namespace. */
static const char *section_name(LPCSTR name, uint32_t *flags)
{
	*flags = 0;
	if (!name || !*name)
		return NULL;
	if (!strncmp(name, "Local\\", 6))
		return name + 6;
	if (!strncmp(name, "Global\\", 7)) {
		*flags = WINVM_SECTION_GLOBAL;
		return name + 7;
	}
	return name;
}

HANDLE WINAPI CreateFileMappingA(HANDLE hFile, LPSECURITY_ATTRIBUTES lpFileMappingAttributes,
				 DWORD flProtect, DWORD dwMaximumSizeHigh,
				 DWORD dwMaximumSizeLow, LPCSTR lpName)
{
	uint64_t size = ((uint64_t)dwMaximumSizeHigh << 32) | dwMaximumSizeLow;
	uint32_t attributes = flProtect & SEC_MASK, protect = flProtect & ~SEC_MASK, flags;
	const char *name = section_name(lpName, &flags);
	int fd, file_fd = -1, sfd, existed;
	NTSTATUS st;

	if (hFile != INVALID_HANDLE_VALUE) {
		file_fd = winvm_fd_from_handle(hFile);
		if (file_fd < 0)
			return NULL;
	}
	fd = ctx();
	if (fd < 0)
		return NULL;
	st = winvm_section_create(fd, &sfd, size, name, file_fd, protect, attributes, 0,
				  flags, &existed);
	if (!WINVM_NT_SUCCESS(st)) {
		fail_status(st);
		return NULL;
	}
	if (lpFileMappingAttributes && lpFileMappingAttributes->bInheritHandle)
		set_inherit(sfd, TRUE);
	last_error = existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS;
	return winvm_handle_from_fd(sfd);
}

HANDLE WINAPI OpenFileMappingA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName)
{
	uint32_t flags;
	const char *name = section_name(lpName, &flags);
	int fd, sfd;
	NTSTATUS st;

	if (!lpName) {
		fail_error(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	/* kernelbase: FILE_MAP_COPY alone (== SECTION_QUERY) means read access. */
	if (dwDesiredAccess == FILE_MAP_COPY)
		dwDesiredAccess = SECTION_MAP_READ;
	fd = ctx();
	if (fd < 0)
		return NULL;
	st = winvm_section_open(fd, &sfd, name ? name : "", dwDesiredAccess, flags);
	if (!WINVM_NT_SUCCESS(st)) {
		fail_status(st);
		return NULL;
	}
	set_inherit(sfd, bInheritHandle);
	last_error = ERROR_SUCCESS;
	return winvm_handle_from_fd(sfd);
}

LPVOID WINAPI MapViewOfFileEx(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
			      DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
			      SIZE_T dwNumberOfBytesToMap, LPVOID lpBaseAddress)
{
	uint64_t offset = ((uint64_t)dwFileOffsetHigh << 32) | dwFileOffsetLow;
	uint64_t addr = (uintptr_t)lpBaseAddress, size = dwNumberOfBytesToMap;
	int fd, sfd;
	NTSTATUS st;

	sfd = winvm_fd_from_handle(hFileMappingObject);
	if (sfd < 0)
		return NULL;
	fd = ctx();
	if (fd < 0)
		return NULL;
	/*
	 * kernelbase turns the access into a page protection; the module
	 * takes the FILE_MAP_ bits themselves and does the same.  Other bits
	 * (SECTION_QUERY aside, which is FILE_MAP_COPY) do not choose the
	 * protection: FILE_MAP_ALL_ACCESS maps read/write.
	 */
	st = winvm_view_map(fd, sfd, dwDesiredAccess & (FILE_MAP_COPY | FILE_MAP_WRITE |
							 FILE_MAP_READ | FILE_MAP_EXECUTE),
			    &addr, offset, &size, 0, 0);
	if (!WINVM_NT_SUCCESS(st)) {
		fail_status(st);
		return NULL;
	}
	return (LPVOID)(uintptr_t)addr;
}

LPVOID WINAPI MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
			    DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
			    SIZE_T dwNumberOfBytesToMap)
{
	return MapViewOfFileEx(hFileMappingObject, dwDesiredAccess, dwFileOffsetHigh,
			       dwFileOffsetLow, dwNumberOfBytesToMap, NULL);
}

BOOL WINAPI UnmapViewOfFile(LPCVOID lpBaseAddress)
{
	NTSTATUS st;
	int fd = ctx();

	if (fd < 0)
		return FALSE;
	st = winvm_view_unmap(fd, (uintptr_t)lpBaseAddress);
	if (!WINVM_NT_SUCCESS(st))
		return fail_status(st);
	return TRUE;
}

BOOL WINAPI FlushViewOfFile(LPCVOID lpBaseAddress, SIZE_T dwNumberOfBytesToFlush)
{
	uint64_t addr = (uintptr_t)lpBaseAddress, size = dwNumberOfBytesToFlush;
	NTSTATUS st;
	int fd = ctx();

	if (fd < 0)
		return FALSE;
	st = winvm_view_flush(fd, &addr, &size);
	if (!WINVM_NT_SUCCESS(st))
		return fail_status(st);
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* System information                                                   */
/* ------------------------------------------------------------------ */

/* INFO_GET, or the values the module would report when it is not there. */
static void system_facts(struct winvm_info_args *info)
{
	int fd = winvm_default_fd();

	if (fd >= 0 && WINVM_NT_SUCCESS(winvm_info(fd, info)))
		return;
	memset(info, 0, sizeof(*info));
	info->page_size = 4096;
	info->allocation_granularity = 0x10000;
	info->min_address = 0x10000;
	info->max_address = 0x7ffffffeffffULL;
}

void WINAPI GetSystemInfo(LPSYSTEM_INFO si)
{
	struct winvm_info_args info;
	cpu_set_t set;
	DWORD_PTR mask = 0;
	long n;
	int i;

	system_facts(&info);
	memset(si, 0, sizeof(*si));
#if defined(__x86_64__)
	si->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
	si->dwProcessorType = PROCESSOR_AMD_X8664;
	si->wProcessorLevel = 6;
#elif defined(__i386__)
	si->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_INTEL;
	si->dwProcessorType = PROCESSOR_INTEL_PENTIUM;
	si->wProcessorLevel = 6;
#else
	si->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_UNKNOWN;
#endif
	si->dwPageSize = info.page_size;
	si->dwAllocationGranularity = info.allocation_granularity;
	si->lpMinimumApplicationAddress = (LPVOID)(uintptr_t)info.min_address;
	si->lpMaximumApplicationAddress = (LPVOID)(uintptr_t)info.max_address;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	si->dwNumberOfProcessors = n > 0 ? (DWORD)n : 1;
	if (!sched_getaffinity(0, sizeof(set), &set)) {
		for (i = 0; i < (int)(8 * sizeof(mask)); i++)
			if (CPU_ISSET(i, &set))
				mask |= (DWORD_PTR)1 << i;
	}
	si->dwActiveProcessorMask = mask ? mask : 1;
}

SIZE_T WINAPI GetLargePageMinimum(void)
{
	struct winvm_info_args info;

	system_facts(&info);
	return (SIZE_T)info.large_page_minimum;
}

void WINAPI Sleep(DWORD dwMilliseconds)
{
	struct timespec ts = {
		.tv_sec = dwMilliseconds / 1000,
		.tv_nsec = (long)(dwMilliseconds % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
