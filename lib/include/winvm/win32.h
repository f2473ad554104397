/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <winvm/win32.h>: the Win32 memory API on Linux, over /dev/winvm.
 *
 * Windows programs that use only the functions below compile unchanged
 * against this header instead of <windows.h>:
 *
 *	#ifdef _WIN32
 *	#include <windows.h>
 *	#else
 *	#include <winvm/win32.h>
 *	#endif
 *
 * and behave as on Windows: the same results, the same GetLastError()
 * codes (mapped from the module's NTSTATUS as Windows' RtlNtStatusToDosError
 * maps them), and vectored exception handlers that see guard-page and
 * access-violation exceptions.
 *
 * Differences that cannot be hidden:
 *  - Only the current process: VirtualAllocEx & co. accept GetCurrentProcess()
 *    and fail with ERROR_INVALID_HANDLE for any other handle.
 *  - HANDLEs are Linux file descriptors in disguise (section handles are
 *    winvm section fds).  winvm_handle_from_fd() wraps a file fd for
 *    CreateFileMappingA (there is no CreateFileA); CloseHandle closes it.
 *  - CONTEXT holds the x86-64 general registers only.  A handler may change
 *    them (e.g. Rip to skip an instruction) before returning
 *    EXCEPTION_CONTINUE_EXECUTION.
 *  - Exceptions come from a SIGSEGV handler the library installs on the
 *    first AddVectoredExceptionHandler(); a SIGSEGV no vectored handler
 *    continues goes to the disposition that was in place before (its
 *    handler, or death by SIGSEGV).
 *  - Types have their Windows widths on LP64 (DWORD and LONG are 32 bits),
 *    and WINAPI is empty: this is source, not binary, compatibility.
 *  - When /dev/winvm cannot be opened, every memory call fails with
 *    ERROR_NOT_SUPPORTED.
 */
#ifndef WINVM_WIN32_H
#define WINVM_WIN32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Types                                                                */
/* ------------------------------------------------------------------ */

#ifndef WINAPI
#define WINAPI
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef APIENTRY
#define APIENTRY
#endif
#ifndef NTAPI
#define NTAPI
#endif
#define WINBASEAPI
#define CONST		const
#ifndef VOID
#define VOID		void
#endif

typedef int		BOOL, *PBOOL, *LPBOOL;
typedef unsigned char	BYTE, *PBYTE, *LPBYTE;
typedef BYTE		BOOLEAN;
typedef char		CHAR;
typedef unsigned char	UCHAR;
typedef uint16_t	WORD, *PWORD, *LPWORD;
typedef uint32_t	DWORD, *PDWORD, *LPDWORD;
typedef int32_t		LONG, *PLONG;
typedef uint32_t	ULONG, *PULONG;
typedef int		INT;
typedef unsigned int	UINT;
typedef int64_t		LONGLONG;
typedef uint64_t	ULONGLONG, DWORD64, ULONG64, *PDWORD64;
typedef intptr_t	LONG_PTR, INT_PTR;
typedef uintptr_t	ULONG_PTR, UINT_PTR, DWORD_PTR, *PULONG_PTR;
typedef ULONG_PTR	SIZE_T, *PSIZE_T;
typedef LONG_PTR	SSIZE_T;
typedef void		*PVOID, *LPVOID, *HANDLE, **PHANDLE, **LPHANDLE;
typedef const void	*LPCVOID;
typedef char		*LPSTR, *PSTR;
typedef const char	*LPCSTR, *PCSTR;

#ifndef TRUE
#define TRUE		1
#endif
#ifndef FALSE
#define FALSE		0
#endif

typedef struct _SECURITY_ATTRIBUTES {
	DWORD nLength;
	LPVOID lpSecurityDescriptor;	/* ignored */
	BOOL bInheritHandle;		/* TRUE: the handle survives execve() */
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

typedef struct _MEMORY_BASIC_INFORMATION {
	PVOID BaseAddress;
	PVOID AllocationBase;
	DWORD AllocationProtect;
	WORD PartitionId;
	SIZE_T RegionSize;
	DWORD State;
	DWORD Protect;
	DWORD Type;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

typedef struct _SYSTEM_INFO {
	union {
		DWORD dwOemId;
		struct {
			WORD wProcessorArchitecture;
			WORD wReserved;
		};
	};
	DWORD dwPageSize;
	LPVOID lpMinimumApplicationAddress;
	LPVOID lpMaximumApplicationAddress;
	DWORD_PTR dwActiveProcessorMask;
	DWORD dwNumberOfProcessors;
	DWORD dwProcessorType;
	DWORD dwAllocationGranularity;
	WORD wProcessorLevel;
	WORD wProcessorRevision;
} SYSTEM_INFO, *LPSYSTEM_INFO;

#define EXCEPTION_MAXIMUM_PARAMETERS	15

typedef struct _EXCEPTION_RECORD {
	DWORD ExceptionCode;
	DWORD ExceptionFlags;
	struct _EXCEPTION_RECORD *ExceptionRecord;
	PVOID ExceptionAddress;
	DWORD NumberParameters;
	ULONG_PTR ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS];
} EXCEPTION_RECORD, *PEXCEPTION_RECORD;

/*
 * Minimal CONTEXT: the x86-64 general registers under their Windows names
 * (not the Windows layout).  Changes made by a handler that returns
 * EXCEPTION_CONTINUE_EXECUTION are written back.
 */
typedef struct _CONTEXT {
	DWORD ContextFlags;
	DWORD EFlags;
	DWORD64 Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
	DWORD64 R8, R9, R10, R11, R12, R13, R14, R15;
	DWORD64 Rip;
} CONTEXT, *PCONTEXT;

#define CONTEXT_AMD64		0x00100000
#define CONTEXT_CONTROL		(CONTEXT_AMD64 | 0x1)
#define CONTEXT_INTEGER		(CONTEXT_AMD64 | 0x2)

typedef struct _EXCEPTION_POINTERS {
	PEXCEPTION_RECORD ExceptionRecord;
	PCONTEXT ContextRecord;
} EXCEPTION_POINTERS, *PEXCEPTION_POINTERS;

typedef LONG (WINAPI *PVECTORED_EXCEPTION_HANDLER)(struct _EXCEPTION_POINTERS *ExceptionInfo);

/* ------------------------------------------------------------------ */
/* Constants (Windows names and values)                                 */
/* ------------------------------------------------------------------ */

#define PAGE_NOACCESS			0x00000001
#define PAGE_READONLY			0x00000002
#define PAGE_READWRITE			0x00000004
#define PAGE_WRITECOPY			0x00000008
#define PAGE_EXECUTE			0x00000010
#define PAGE_EXECUTE_READ		0x00000020
#define PAGE_EXECUTE_READWRITE		0x00000040
#define PAGE_EXECUTE_WRITECOPY		0x00000080
#define PAGE_GUARD			0x00000100
#define PAGE_NOCACHE			0x00000200
#define PAGE_WRITECOMBINE		0x00000400

#define MEM_COALESCE_PLACEHOLDERS	0x00000001
#define MEM_PRESERVE_PLACEHOLDER	0x00000002
#define MEM_COMMIT			0x00001000
#define MEM_RESERVE			0x00002000
#define MEM_DECOMMIT			0x00004000
#define MEM_REPLACE_PLACEHOLDER		0x00004000
#define MEM_RELEASE			0x00008000
#define MEM_FREE			0x00010000
#define MEM_PRIVATE			0x00020000
#define MEM_MAPPED			0x00040000
#define MEM_RESERVE_PLACEHOLDER		0x00040000
#define MEM_RESET			0x00080000
#define MEM_TOP_DOWN			0x00100000
#define MEM_WRITE_WATCH			0x00200000
#define WRITE_WATCH_FLAG_RESET		0x01
#define MEM_PHYSICAL			0x00400000
#define MEM_RESET_UNDO			0x01000000
#define MEM_IMAGE			0x01000000
#define MEM_LARGE_PAGES			0x20000000
#define MEM_4MB_PAGES			0x80000000u
#define AT_ROUND_TO_PAGE		0x40000000

#define SEC_FILE			0x00800000
#define SEC_IMAGE			0x01000000
#define SEC_PROTECTED_IMAGE		0x02000000
#define SEC_RESERVE			0x04000000
#define SEC_COMMIT			0x08000000
#define SEC_NOCACHE			0x10000000
#define SEC_WRITECOMBINE		0x40000000
#define SEC_LARGE_PAGES			0x80000000u
#define SEC_IMAGE_NO_EXECUTE		(SEC_IMAGE | SEC_NOCACHE)

#define STANDARD_RIGHTS_REQUIRED	0x000f0000
#define SECTION_QUERY			0x0001
#define SECTION_MAP_WRITE		0x0002
#define SECTION_MAP_READ		0x0004
#define SECTION_MAP_EXECUTE		0x0008
#define SECTION_EXTEND_SIZE		0x0010
#define SECTION_MAP_EXECUTE_EXPLICIT	0x0020
#define SECTION_ALL_ACCESS		(STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | \
					 SECTION_MAP_WRITE | SECTION_MAP_READ | \
					 SECTION_MAP_EXECUTE | SECTION_EXTEND_SIZE)

#define FILE_MAP_COPY			SECTION_QUERY
#define FILE_MAP_WRITE			SECTION_MAP_WRITE
#define FILE_MAP_READ			SECTION_MAP_READ
#define FILE_MAP_ALL_ACCESS		SECTION_ALL_ACCESS
#define FILE_MAP_EXECUTE		SECTION_MAP_EXECUTE_EXPLICIT

#define DUPLICATE_CLOSE_SOURCE		0x00000001
#define DUPLICATE_SAME_ACCESS		0x00000002

#define INVALID_HANDLE_VALUE		((HANDLE)(LONG_PTR)-1)

#define PROCESSOR_ARCHITECTURE_INTEL	0
#define PROCESSOR_ARCHITECTURE_AMD64	9
#define PROCESSOR_ARCHITECTURE_UNKNOWN	0xffff
#define PROCESSOR_INTEL_PENTIUM		586
#define PROCESSOR_AMD_X8664		8664

/* Win32 error codes (GetLastError). */
#define ERROR_SUCCESS			0
#define NO_ERROR			0
#define ERROR_INVALID_FUNCTION		1
#define ERROR_FILE_NOT_FOUND		2
#define ERROR_ACCESS_DENIED		5
#define ERROR_INVALID_HANDLE		6
#define ERROR_NOT_ENOUGH_MEMORY		8
#define ERROR_OUTOFMEMORY		14
#define ERROR_BAD_LENGTH		24
#define ERROR_GEN_FAILURE		31
#define ERROR_NOT_SUPPORTED		50
#define ERROR_UNEXP_NET_ERR		59
#define ERROR_INVALID_PARAMETER		87
#define ERROR_CALL_NOT_IMPLEMENTED	120
#define ERROR_INSUFFICIENT_BUFFER	122
#define ERROR_INVALID_NAME		123
#define ERROR_ALREADY_EXISTS		183
#define ERROR_BAD_EXE_FORMAT		193
#define ERROR_MORE_DATA			234
#define ERROR_PARTIAL_COPY		299
#define ERROR_MR_MID_NOT_FOUND		317
#define ERROR_INVALID_ADDRESS		487
#define ERROR_NOACCESS			998
#define ERROR_FILE_INVALID		1006
#define ERROR_MAPPED_ALIGNMENT		1132
#define ERROR_NOT_FOUND			1168
#define ERROR_PRIVILEGE_NOT_HELD	1314
#define ERROR_COMMITMENT_LIMIT		1455

/* Exception codes and handler results. */
#define STATUS_GUARD_PAGE_VIOLATION	((DWORD)0x80000001L)
#define STATUS_ACCESS_VIOLATION		((DWORD)0xC0000005L)
#define STATUS_STACK_OVERFLOW		((DWORD)0xC00000FDL)
#define EXCEPTION_GUARD_PAGE		STATUS_GUARD_PAGE_VIOLATION
#define EXCEPTION_ACCESS_VIOLATION	STATUS_ACCESS_VIOLATION
#define EXCEPTION_STACK_OVERFLOW	STATUS_STACK_OVERFLOW
#define EXCEPTION_NONCONTINUABLE	0x1

#define EXCEPTION_READ_FAULT		0
#define EXCEPTION_WRITE_FAULT		1
#define EXCEPTION_EXECUTE_FAULT		8

#define EXCEPTION_EXECUTE_HANDLER	1
#define EXCEPTION_CONTINUE_SEARCH	0
#define EXCEPTION_CONTINUE_EXECUTION	(-1)

/* ------------------------------------------------------------------ */
/* Functions                                                            */
/* ------------------------------------------------------------------ */

/* Virtual memory (hProcess: GetCurrentProcess() only). */
LPVOID WINAPI VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
			   DWORD flProtect);
LPVOID WINAPI VirtualAllocEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
			     DWORD flAllocationType, DWORD flProtect);
BOOL WINAPI VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType);
BOOL WINAPI VirtualFreeEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
			  DWORD dwFreeType);
BOOL WINAPI VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect,
			   PDWORD lpflOldProtect);
BOOL WINAPI VirtualProtectEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
			     DWORD flNewProtect, PDWORD lpflOldProtect);
SIZE_T WINAPI VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer,
			   SIZE_T dwLength);
SIZE_T WINAPI VirtualQueryEx(HANDLE hProcess, LPCVOID lpAddress,
			     PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength);

/* Write watch (allocations made with MEM_WRITE_WATCH). */
UINT WINAPI GetWriteWatch(DWORD dwFlags, PVOID lpBaseAddress, SIZE_T dwRegionSize,
			  PVOID *lpAddresses, ULONG_PTR *lpdwCount, PULONG lpdwGranularity);
UINT WINAPI ResetWriteWatch(LPVOID lpBaseAddress, SIZE_T dwRegionSize);

/*
 * Sections.  hFile is INVALID_HANDLE_VALUE (pagefile-backed) or
 * winvm_handle_from_fd(fd) of a regular file.  Names may carry Windows'
 * "Local\" (default) or "Global\" prefix.
 */
HANDLE WINAPI CreateFileMappingA(HANDLE hFile, LPSECURITY_ATTRIBUTES lpFileMappingAttributes,
				 DWORD flProtect, DWORD dwMaximumSizeHigh,
				 DWORD dwMaximumSizeLow, LPCSTR lpName);
HANDLE WINAPI OpenFileMappingA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName);
LPVOID WINAPI MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
			    DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
			    SIZE_T dwNumberOfBytesToMap);
LPVOID WINAPI MapViewOfFileEx(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
			      DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
			      SIZE_T dwNumberOfBytesToMap, LPVOID lpBaseAddress);
BOOL WINAPI UnmapViewOfFile(LPCVOID lpBaseAddress);
BOOL WINAPI FlushViewOfFile(LPCVOID lpBaseAddress, SIZE_T dwNumberOfBytesToFlush);

#ifndef UNICODE
#define CreateFileMapping	CreateFileMappingA
#define OpenFileMapping		OpenFileMappingA
#endif

/* Handles. */
BOOL WINAPI CloseHandle(HANDLE hObject);
BOOL WINAPI DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle,
			    HANDLE hTargetProcessHandle, LPHANDLE lpTargetHandle,
			    DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions);
HANDLE WINAPI GetCurrentProcess(void);
DWORD WINAPI GetCurrentProcessId(void);

/* System information. */
void WINAPI GetSystemInfo(LPSYSTEM_INFO lpSystemInfo);
SIZE_T WINAPI GetLargePageMinimum(void);

/* Per-thread last error. */
DWORD WINAPI GetLastError(void);
void WINAPI SetLastError(DWORD dwErrCode);

/* Vectored exception handling. */
PVOID WINAPI AddVectoredExceptionHandler(ULONG First, PVECTORED_EXCEPTION_HANDLER Handler);
ULONG WINAPI RemoveVectoredExceptionHandler(PVOID Handle);

/* Small kernel32 helpers that portable examples need. */
void WINAPI Sleep(DWORD dwMilliseconds);

static inline LONG InterlockedExchange(LONG volatile *Target, LONG Value)
{
	return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}

static inline LONG InterlockedCompareExchange(LONG volatile *Destination, LONG Exchange,
					      LONG Comparand)
{
	__atomic_compare_exchange_n(Destination, &Comparand, Exchange, 0,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return Comparand;
}

static inline LONG InterlockedIncrement(LONG volatile *Addend)
{
	return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

static inline LONG InterlockedDecrement(LONG volatile *Addend)
{
	return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}

#define MemoryBarrier()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

/* ------------------------------------------------------------------ */
/* winvm extensions (not in Windows)                                    */
/* ------------------------------------------------------------------ */

/*
 * Wraps a Linux file descriptor in a HANDLE, e.g. for CreateFileMappingA's
 * hFile.  The HANDLE owns the fd from then on: CloseHandle() closes it.
 * Returns NULL (ERROR_INVALID_HANDLE) for a negative fd.
 */
HANDLE winvm_handle_from_fd(int fd);

/*
 * The file descriptor behind a HANDLE (a section fd for section handles),
 * still owned by the HANDLE; -1 (ERROR_INVALID_HANDLE) for NULL,
 * INVALID_HANDLE_VALUE / GetCurrentProcess() and values that are no
 * wrapped fd.
 */
int winvm_fd_from_handle(HANDLE handle);

#ifdef __cplusplus
}
#endif

#endif /* WINVM_WIN32_H */
