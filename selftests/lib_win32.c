// SPDX-License-Identifier: GPL-2.0
/*
 * libwinvm selftests: every function of the native API (<winvm/winvm.h>)
 * and of the Win32 API (<winvm/win32.h>): success paths, the NTSTATUS or
 * GetLastError() code of each failure (the Win32 code Windows gives for the
 * same call), vectored exception handlers (continue execution, continue
 * search down the chain and to the previous SIGSEGV disposition), and the
 * address-space map.  Linked against the static libwinvm.
 * Rule numbers (R<n>) refer to docs/windows-rules.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The kselftest harness, as winvm_test.h includes it (that header is not
 * used here: its short names, SEC_COMMIT & co., are the Win32 API's here).
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "wv_proc.h"

#include <winvm/winvm.h>
#include <winvm/win32.h>


#define P	4096
#define G	0x10000

/*
 * Each test runs in its own process: the library's default context, its
 * signal handler and its vectored handlers start fresh every time.
 */
FIXTURE(win32) {
	int fd;
};

FIXTURE_SETUP(win32)
{
	self->fd = winvm_default_fd();
	if (self->fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))
		SKIP(return, "no /dev/winvm (%s): winvm module not loaded", strerror(errno));
	ASSERT_LE(0, self->fd) TH_LOG("winvm_default_fd: %s", strerror(errno));
}

FIXTURE_TEARDOWN(win32)
{
}

/* Tests that need no context of their own (or make their own). */
FIXTURE(plain) {
	int unused;
};

FIXTURE_SETUP(plain)
{
}

FIXTURE_TEARDOWN(plain)
{
}

/* The call's result must be false/NULL/0 and GetLastError() @err. */
#define ASSERT_FAILS(err, call) do {						\
	SetLastError(0xdeadbeef);						\
	ASSERT_TRUE(!(call)) TH_LOG("%s succeeded", #call);			\
	ASSERT_EQ((DWORD)(err), GetLastError()) TH_LOG("%s: last error %u, expected %u (%s)", \
		#call, GetLastError(), (DWORD)(err), #err);			\
} while (0)

/* The call must succeed (non-zero) and leave GetLastError() alone. */
#define ASSERT_WORKS(call) do {							\
	SetLastError(0xdeadbeef);						\
	ASSERT_TRUE(!!(call)) TH_LOG("%s failed: last error %u", #call, GetLastError()); \
	ASSERT_EQ(0xdeadbeefU, GetLastError()) TH_LOG("%s changed the last error", #call); \
} while (0)

#define ASSERT_ST(want, call) do {						\
	NTSTATUS __st = (call);							\
	ASSERT_EQ((NTSTATUS)(want), __st) TH_LOG("%s -> %s (0x%08x), expected %s",	\
		#call, winvm_status_name(__st), __st, #want);			\
} while (0)

static bool mbi_is(struct __test_metadata *_metadata, int line, const void *addr,
		   const void *base, const void *abase, DWORD aprot, SIZE_T region,
		   DWORD state, DWORD prot, DWORD type)
{
	MEMORY_BASIC_INFORMATION mbi;
	SIZE_T n;

	memset(&mbi, 0xcc, sizeof(mbi));
	n = VirtualQuery(addr, &mbi, sizeof(mbi));
	if (n == sizeof(mbi) && mbi.BaseAddress == base && mbi.AllocationBase == abase &&
	    mbi.AllocationProtect == aprot && mbi.RegionSize == region &&
	    mbi.State == state && mbi.Protect == prot && mbi.Type == type)
		return true;
	TH_LOG("line %d: VirtualQuery(%p) = %zu (error %u): base %p abase %p aprot 0x%x region 0x%zx state 0x%x prot 0x%x type 0x%x",
	       line, addr, (size_t)n, GetLastError(), mbi.BaseAddress, mbi.AllocationBase,
	       mbi.AllocationProtect, (size_t)mbi.RegionSize, mbi.State, mbi.Protect, mbi.Type);
	TH_LOG("line %d: expected base %p abase %p aprot 0x%x region 0x%zx state 0x%x prot 0x%x type 0x%x",
	       line, base, abase, aprot, (size_t)region, state, prot, type);
	return false;
}

/* Rule R58: free space queries as MEM_FREE with no allocation. */
static bool is_free(const void *addr)
{
	MEMORY_BASIC_INFORMATION mbi;

	return VirtualQuery(addr, &mbi, sizeof(mbi)) == sizeof(mbi) &&
	       mbi.BaseAddress == addr && !mbi.AllocationBase && !mbi.AllocationProtect &&
	       mbi.State == MEM_FREE && mbi.Protect == PAGE_NOACCESS && !mbi.Type &&
	       mbi.RegionSize >= 0x10000;
}

#define ASSERT_MBI(addr, base, abase, aprot, region, state, prot, type)	\
	ASSERT_TRUE(mbi_is(_metadata, __LINE__, (addr), (base), (abase), (aprot), \
			   (region), (state), (prot), (type)))

/* A section test needs the module's section ioctls. */
#define SECTION_OR_FAIL(h) do {							\
	ASSERT_NE(NULL, (h)) TH_LOG("CreateFileMappingA: last error %u%s", GetLastError(), \
		GetLastError() == ERROR_INVALID_FUNCTION ?			\
		" (STATUS_NOT_IMPLEMENTED: the module has no section ioctls)" : ""); \
} while (0)

/*
 * Accesses that fault: the handlers change memory behind the compiler's
 * back, so nothing may be cached across them.
 */
#define barrier()	__asm__ __volatile__("" ::: "memory")

static inline __attribute__((always_inline)) char peek(const char *p)
{
	char v;

	barrier();
	v = *(const volatile char *)p;
	barrier();
	return v;
}

static inline __attribute__((always_inline)) void poke(char *p, char v)
{
	barrier();
	*(volatile char *)p = v;
	barrier();
}

static inline __attribute__((always_inline)) int call(int (*fn)(void))
{
	int r;

	barrier();
	r = fn();
	barrier();
	return r;
}

static const uint8_t ret42[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };	/* mov eax, 42; ret */

/* ------------------------------------------------------------------ */
/* System information, handles, last error                              */
/* ------------------------------------------------------------------ */

/* Rule R1. */
TEST_F(win32, get_system_info)
{
	struct winvm_info_args info;
	SYSTEM_INFO si;

	memset(&si, 0xcc, sizeof(si));
	GetSystemInfo(&si);
	ASSERT_EQ(4096U, si.dwPageSize);
	ASSERT_EQ(0x10000U, si.dwAllocationGranularity);
	ASSERT_EQ((LPVOID)0x10000, si.lpMinimumApplicationAddress);
	ASSERT_EQ((LPVOID)0x7ffffffeffffULL, si.lpMaximumApplicationAddress);
	ASSERT_EQ(PROCESSOR_ARCHITECTURE_AMD64, si.wProcessorArchitecture);
	ASSERT_EQ((DWORD)PROCESSOR_AMD_X8664, si.dwProcessorType);
	ASSERT_LE(1U, si.dwNumberOfProcessors);
	ASSERT_NE(0U, si.dwActiveProcessorMask);
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_info(self->fd, &info));
	ASSERT_EQ(info.page_size, si.dwPageSize);
	ASSERT_EQ((SIZE_T)info.large_page_minimum, GetLargePageMinimum());
	ASSERT_EQ((uint32_t)WINVM_ABI_VERSION, info.abi_version);
	ASSERT_TRUE(!!(info.features & WINVM_FEATURE_PRIVATE));
}

static void *last_error_thread(void *arg)
{
	DWORD *seen = arg;

	seen[0] = GetLastError();
	SetLastError(456);
	seen[1] = GetLastError();
	/* A failure sets this thread's error only. */
	VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_READWRITE);
	seen[2] = GetLastError();
	return NULL;
}

TEST_F(win32, last_error_is_per_thread)
{
	DWORD seen[3] = { 1, 1, 1 };
	pthread_t t;

	SetLastError(123);
	ASSERT_EQ(123U, GetLastError());
	ASSERT_EQ(0, pthread_create(&t, NULL, last_error_thread, seen));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0U, seen[0]);
	ASSERT_EQ(456U, seen[1]);
	ASSERT_EQ((DWORD)ERROR_INVALID_PARAMETER, seen[2]);
	ASSERT_EQ(123U, GetLastError());
}

TEST_F(win32, pseudo_handles)
{
	int pfd[2];
	HANDLE h;

	/* Windows: both are (HANDLE)-1. */
	ASSERT_EQ((HANDLE)(intptr_t)-1, GetCurrentProcess());
	ASSERT_EQ(INVALID_HANDLE_VALUE, GetCurrentProcess());
	ASSERT_EQ((DWORD)getpid(), GetCurrentProcessId());
	/* Closing the pseudo handle is a no-op that succeeds. */
	ASSERT_WORKS(CloseHandle(GetCurrentProcess()));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle(NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle((HANDLE)0x3));

	/* fd <-> HANDLE; CloseHandle closes the fd. */
	ASSERT_EQ(0, pipe(pfd));
	h = winvm_handle_from_fd(pfd[0]);
	ASSERT_NE(NULL, h);
	ASSERT_NE(INVALID_HANDLE_VALUE, h);
	ASSERT_EQ(pfd[0], winvm_fd_from_handle(h));
	ASSERT_EQ(-1, winvm_fd_from_handle(NULL));
	ASSERT_EQ(-1, winvm_fd_from_handle(INVALID_HANDLE_VALUE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, winvm_handle_from_fd(-1));
	ASSERT_WORKS(CloseHandle(h));
	ASSERT_EQ(-1, fcntl(pfd[0], F_GETFD));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle(h));
	close(pfd[1]);
}

TEST_F(win32, duplicate_handle_of_file)
{
	HANDLE h, d = NULL;
	int pfd[2];

	ASSERT_EQ(0, pipe(pfd));
	h = winvm_handle_from_fd(pfd[1]);
	ASSERT_WORKS(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &d, 0, FALSE,
				     DUPLICATE_SAME_ACCESS));
	ASSERT_NE(NULL, d);
	ASSERT_NE(h, d);
	ASSERT_EQ(1, write(winvm_fd_from_handle(d), "x", 1));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, DuplicateHandle(NULL, h, GetCurrentProcess(), &d, 0,
							   FALSE, DUPLICATE_SAME_ACCESS));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, DuplicateHandle(GetCurrentProcess(), NULL,
							   GetCurrentProcess(), &d, 0, FALSE,
							   DUPLICATE_SAME_ACCESS));
	/* DUPLICATE_CLOSE_SOURCE closes the source even when the target is bad. */
	ASSERT_FAILS(ERROR_INVALID_HANDLE, DuplicateHandle(GetCurrentProcess(), h, NULL, &d, 0,
							   FALSE, DUPLICATE_SAME_ACCESS |
							   DUPLICATE_CLOSE_SOURCE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle(h));
	ASSERT_WORKS(CloseHandle(d));
	close(pfd[0]);
}

/* ------------------------------------------------------------------ */
/* VirtualAlloc / VirtualAllocEx                                        */
/* ------------------------------------------------------------------ */

/* Rules R5-R7. */
TEST_F(win32, alloc_reserve_then_commit)
{
	char *a = VirtualAlloc(NULL, 0xfffc, MEM_RESERVE, PAGE_NOACCESS);

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0U, (uintptr_t)a & 0xffff);
	ASSERT_MBI(a, a, a, PAGE_NOACCESS, 0x10000, MEM_RESERVE, 0, MEM_PRIVATE);
	ASSERT_EQ(a, VirtualAlloc(a, P, MEM_COMMIT, PAGE_NOACCESS));
	ASSERT_MBI(a, a, a, PAGE_NOACCESS, P, MEM_COMMIT, PAGE_NOACCESS, MEM_PRIVATE);
	ASSERT_MBI(a + P, a + P, a, PAGE_NOACCESS, 0xf000, MEM_RESERVE, 0, MEM_PRIVATE);
	ASSERT_EQ(a + P, VirtualAlloc(a + P, P, MEM_COMMIT, PAGE_READWRITE));
	a[P + 5] = 5;
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
}

/* Rules R8, R9, R11: commit-only with NULL reserves too; sizes round to pages. */
TEST_F(win32, alloc_commit_and_reuse)
{
	char *a = VirtualAlloc(NULL, 0x2000, MEM_COMMIT, PAGE_READWRITE);

	ASSERT_NE(NULL, a);
	ASSERT_MBI(a, a, a, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
	a[0x1fff] = 1;
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
	ASSERT_EQ(a, VirtualAlloc(a, P, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE));
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
	a = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN, PAGE_READONLY);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0U, (uintptr_t)a & 0xffff);
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
}

/* Rules R4, R12, R13, R14, R17. */
TEST_F(win32, alloc_invalid_parameter)
{
	static const DWORD bad_prot[] = {
		0, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY, PAGE_READONLY | PAGE_NOACCESS,
		PAGE_EXECUTE_READ | PAGE_EXECUTE, PAGE_READONLY | PAGE_EXECUTE,
	};
	unsigned int i;

	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_NOACCESS));
	for (i = 0; i < ARRAY_SIZE(bad_prot); i++)
		ASSERT_FAILS(ERROR_INVALID_PARAMETER,
			     VirtualAlloc(NULL, P, MEM_COMMIT, bad_prot[i]));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, P, MEM_RESERVE | AT_ROUND_TO_PAGE, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualAlloc(NULL, P, 0, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualAlloc(NULL, P, MEM_DECOMMIT, PAGE_READWRITE));
}

/* Rules R18, R24. */
TEST_F(win32, alloc_invalid_address)
{
	char *a = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	char *b = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(a + P, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualAlloc(a, P, MEM_RESERVE, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualAlloc(b + 0xf000, 0x2000, MEM_RESET,
							 PAGE_READWRITE));
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
	ASSERT_WORKS(VirtualFree(b, 0, MEM_RELEASE));
}

TEST_F(win32, alloc_not_enough_memory)
{
	/* No hole of nearly 128 TiB exists between the binary and the stack. */
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     VirtualAlloc(NULL, 0x7ffe00000000ULL, MEM_RESERVE, PAGE_READWRITE));
}

TEST_F(win32, alloc_not_supported)
{
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     VirtualAlloc(NULL, G, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
}

/* Rules R122, R123, R129 through the Win32 calls. */
TEST_F(win32, write_watch)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
			       PAGE_READWRITE);
	PVOID pages[16];
	ULONG_PTR count = 16;
	ULONG gran = 0;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0u, GetWriteWatch(0, a, G, pages, &count, &gran));
	ASSERT_EQ(0u, count);
	ASSERT_EQ(4096u, gran);
	a[P + 1] = 1;
	a[3 * P] = 1;
	count = 16;
	ASSERT_EQ(0u, GetWriteWatch(WRITE_WATCH_FLAG_RESET, a, G, pages, &count, &gran));
	ASSERT_EQ(2u, count);
	ASSERT_EQ(a + P, pages[0]);
	ASSERT_EQ(a + 3 * P, pages[1]);
	count = 16;
	ASSERT_EQ(0u, GetWriteWatch(0, a, G, pages, &count, &gran));
	ASSERT_EQ(0u, count);
	a[5 * P] = 1;
	ASSERT_EQ(0u, ResetWriteWatch(a, G));
	count = 16;
	ASSERT_EQ(0u, GetWriteWatch(0, a, G, pages, &count, &gran));
	ASSERT_EQ(0u, count);
	count = 0;
	SetLastError(0);
	ASSERT_EQ(~0u, GetWriteWatch(0, a, G, pages, &count, &gran));
	ASSERT_EQ((DWORD)ERROR_INVALID_PARAMETER, GetLastError());
	count = 16;
	ASSERT_EQ(~0u, GetWriteWatch(0, a, G, NULL, &count, &gran));
	ASSERT_EQ((DWORD)ERROR_NOACCESS, GetLastError());
	ASSERT_EQ(~0u, GetWriteWatch(0, a, G, pages, NULL, &gran));
	ASSERT_EQ((DWORD)ERROR_NOACCESS, GetLastError());
	ASSERT_EQ(~0u, GetWriteWatch(0, a, G, pages, &count, NULL));
	ASSERT_EQ((DWORD)ERROR_NOACCESS, GetLastError());
	ASSERT_EQ(~0u, ResetWriteWatch(a, 0));
	ASSERT_EQ((DWORD)ERROR_INVALID_PARAMETER, GetLastError());
	ASSERT_TRUE(VirtualFree(a, 0, MEM_RELEASE));
}

/* Rules R26, R27: MEM_RESET returns the address and keeps the state. */
TEST_F(win32, alloc_reset)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);

	ASSERT_NE(NULL, a);
	ASSERT_EQ(a, VirtualAlloc(a, P, MEM_COMMIT, PAGE_READWRITE));
	a[1] = 1;
	ASSERT_EQ(a, VirtualAlloc(a, P, MEM_RESET, PAGE_NOACCESS));
	ASSERT_MBI(a, a, a, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
	ASSERT_EQ(a + P, VirtualAlloc(a + P, P, MEM_RESET, PAGE_NOACCESS));
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
}

/* Rule R23. */
TEST_F(win32, alloc_ex_handles)
{
	char *a;

	a = VirtualAllocEx(GetCurrentProcess(), NULL, P, MEM_COMMIT, PAGE_READWRITE);
	ASSERT_NE(NULL, a);
	a[0] = 1;
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualAllocEx(NULL, NULL, P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualAllocEx((HANDLE)0x1234, NULL, P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, VirtualFreeEx(NULL, a, 0, MEM_RELEASE));
	ASSERT_WORKS(VirtualFreeEx(GetCurrentProcess(), a, 0, MEM_RELEASE));
}

/* ------------------------------------------------------------------ */
/* VirtualFree                                                          */
/* ------------------------------------------------------------------ */

/* Rules R30, R32. */
TEST_F(win32, free_invalid_parameter)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);

	ASSERT_NE(NULL, a);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(a, G, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(a, 0, MEM_FREE));
	/* The Win32 layer refuses a sized MEM_RELEASE (NT would split). */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(a, 1, MEM_RELEASE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(a, G, MEM_RELEASE));
	ASSERT_MBI(a, a, a, PAGE_READWRITE, G, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
	/* Rule R37: running past the allocation. */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(a, 0x11000, MEM_DECOMMIT));
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
}

/* Rules R31, R36, R41. */
TEST_F(win32, free_decommit_and_invalid_address)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);

	ASSERT_NE(NULL, a);
	ASSERT_EQ(a, VirtualAlloc(a, 2 * P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_WORKS(VirtualFree(a + P, P, MEM_DECOMMIT));
	ASSERT_MBI(a, a, a, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
	ASSERT_MBI(a + P, a + P, a, PAGE_READWRITE, G - P, MEM_RESERVE, 0, MEM_PRIVATE);
	ASSERT_WORKS(VirtualFree(a, G, MEM_DECOMMIT));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(a + P, 0, MEM_RELEASE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(a + 0x1001, 0, MEM_DECOMMIT));
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(a, 0, MEM_RELEASE));
	/* Committing where nothing is reserved. */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualAlloc(a, P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_TRUE(is_free(a));
}

/* ------------------------------------------------------------------ */
/* VirtualProtect                                                       */
/* ------------------------------------------------------------------ */

/* Rule R46. */
TEST_F(win32, protect_old_protection)
{
	char *a = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
	DWORD old = 0;

	ASSERT_NE(NULL, a);
	ASSERT_WORKS(VirtualProtect(a, P, PAGE_READONLY, &old));
	ASSERT_EQ((DWORD)PAGE_NOACCESS, old);
	ASSERT_WORKS(VirtualProtect(a, P, PAGE_READWRITE, &old));
	ASSERT_EQ((DWORD)PAGE_READONLY, old);
	ASSERT_MBI(a, a, a, PAGE_NOACCESS, P, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
	/* Rule R70. */
	ASSERT_WORKS(VirtualProtect(a, P, PAGE_READWRITE | PAGE_GUARD, &old));
	ASSERT_EQ((DWORD)PAGE_READWRITE, old);
	ASSERT_WORKS(VirtualProtectEx(GetCurrentProcess(), a, P, PAGE_READWRITE, &old));
	ASSERT_EQ((DWORD)(PAGE_READWRITE | PAGE_GUARD), old);
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
}

/* Rules R44, R47, R48, R49. */
TEST_F(win32, protect_errors)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);
	DWORD old;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(a, VirtualAlloc(a, P, MEM_COMMIT, PAGE_READWRITE));
	/* A NULL old_prot fails first, whatever else is wrong. */
	ASSERT_FAILS(ERROR_NOACCESS, VirtualProtect(a, P, PAGE_READONLY, NULL));
	ASSERT_FAILS(ERROR_NOACCESS, VirtualProtectEx(NULL, a, P, 0, NULL));
	ASSERT_MBI(a, a, a, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualProtect(a, P, 0, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualProtect(a, P, PAGE_WRITECOPY, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(a, P, PAGE_READWRITE | PAGE_EXECUTE_WRITECOPY, &old));
	old = 0x55;
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualProtect(a + P, P, PAGE_READONLY, &old));
	ASSERT_EQ((DWORD)PAGE_NOACCESS, old);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualProtect(a, 0xfffc, PAGE_READONLY, &old));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, VirtualProtectEx(NULL, a, P, PAGE_READONLY, &old));
	ASSERT_MBI(a, a, a, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
}

/* ------------------------------------------------------------------ */
/* VirtualQuery                                                         */
/* ------------------------------------------------------------------ */

/* Rules R58, R60, R61. */
TEST_F(win32, query_results_and_errors)
{
	MEMORY_BASIC_INFORMATION mbi;
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	int on_stack = 0;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(48U, sizeof(mbi));
	SetLastError(0xdeadbeef);
	ASSERT_EQ(sizeof(mbi), VirtualQuery(a + 0x1234, &mbi, sizeof(mbi)));
	ASSERT_EQ(0xdeadbeefU, GetLastError());
	ASSERT_EQ(a + P, mbi.BaseAddress);
	ASSERT_EQ(a, mbi.AllocationBase);
	ASSERT_EQ((SIZE_T)(G - P), mbi.RegionSize);
	ASSERT_EQ(sizeof(mbi), VirtualQuery(a, &mbi, sizeof(mbi) + 16));
	ASSERT_FAILS(ERROR_BAD_LENGTH, VirtualQuery(a, &mbi, sizeof(mbi) - 1));
	ASSERT_FAILS(ERROR_NOACCESS, VirtualQuery(a, NULL, sizeof(mbi)));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualQuery((void *)0x7fffffff0000ULL, &mbi, sizeof(mbi)));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualQuery((void *)~0ULL, &mbi, sizeof(mbi)));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, VirtualQueryEx(NULL, a, &mbi, sizeof(mbi)));
	ASSERT_EQ(sizeof(mbi), VirtualQueryEx(GetCurrentProcess(), a, &mbi, sizeof(mbi)));
	/* Ordinary Linux memory is committed too. */
	ASSERT_EQ(sizeof(mbi), VirtualQuery(&on_stack, &mbi, sizeof(mbi)));
	ASSERT_EQ((DWORD)MEM_COMMIT, mbi.State);
	ASSERT_EQ((DWORD)PAGE_READWRITE, mbi.Protect);
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
	ASSERT_EQ(sizeof(mbi), VirtualQuery(a, &mbi, sizeof(mbi)));
	ASSERT_EQ(a, mbi.BaseAddress);
	ASSERT_EQ(NULL, mbi.AllocationBase);
	ASSERT_EQ(0U, mbi.AllocationProtect);
	ASSERT_EQ((DWORD)MEM_FREE, mbi.State);
	ASSERT_EQ((DWORD)PAGE_NOACCESS, mbi.Protect);
	ASSERT_EQ(0U, mbi.Type);
}

/* ------------------------------------------------------------------ */
/* Vectored exception handlers                                          */
/* ------------------------------------------------------------------ */

enum fix { FIX_NONE, FIX_COMMIT, FIX_PROTECT_RO, FIX_PROTECT_ERW, FIX_SKIP };

static struct {
	int calls;
	DWORD code, flags, nparams;
	ULONG_PTR info0, info1;
	PVOID exc_addr;
	LONG ret;
	enum fix fix;
	char order[16];
	int norder;
} veh;

static void veh_reset(LONG ret, enum fix fix)
{
	memset(&veh, 0, sizeof(veh));
	veh.ret = ret;
	veh.fix = fix;
}

static LONG CALLBACK record_handler(EXCEPTION_POINTERS *ep)
{
	EXCEPTION_RECORD *rec = ep->ExceptionRecord;
	char *page = (char *)(rec->ExceptionInformation[1] & ~(ULONG_PTR)(P - 1));
	DWORD old;

	veh.calls++;
	veh.code = rec->ExceptionCode;
	veh.flags = rec->ExceptionFlags;
	veh.nparams = rec->NumberParameters;
	veh.info0 = rec->ExceptionInformation[0];
	veh.info1 = rec->ExceptionInformation[1];
	veh.exc_addr = rec->ExceptionAddress;
	if (veh.norder < 15)
		veh.order[veh.norder++] = 'R';
	switch (veh.fix) {
	case FIX_NONE:
		break;
	case FIX_COMMIT:
		if (!VirtualAlloc(page, P, MEM_COMMIT, PAGE_READWRITE))
			return EXCEPTION_CONTINUE_SEARCH;
		break;
	case FIX_PROTECT_RO:
		if (!VirtualProtect(page, P, PAGE_READONLY, &old))
			return EXCEPTION_CONTINUE_SEARCH;
		break;
	case FIX_PROTECT_ERW:
		if (!VirtualProtect(page, P, PAGE_EXECUTE_READWRITE, &old) ||
		    old != PAGE_READWRITE)
			return EXCEPTION_CONTINUE_SEARCH;
		break;
	case FIX_SKIP:
		/* Skip the 2-byte "mov ecx, [rax]" and make it look like it read 99. */
		ep->ContextRecord->Rip += 2;
		ep->ContextRecord->Rcx = 99;
		break;
	}
	return veh.ret;
}

/* Rule R71: a guarded read raises one exception; continuing re-executes it. */
TEST_F(win32, veh_guard_page_read)
{
	char *a = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
	PVOID h;
	char v;

	ASSERT_NE(NULL, a);
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_NONE);
	h = AddVectoredExceptionHandler(1, record_handler);
	ASSERT_NE(NULL, h);
	v = peek(a + 0x123);
	ASSERT_EQ(0, v);
	ASSERT_EQ(1, veh.calls);
	ASSERT_EQ(STATUS_GUARD_PAGE_VIOLATION, veh.code);
	ASSERT_EQ(0U, veh.flags);
	ASSERT_EQ(2U, veh.nparams);
	ASSERT_EQ((ULONG_PTR)EXCEPTION_READ_FAULT, veh.info0);
	ASSERT_EQ((ULONG_PTR)(a + 0x123), veh.info1);
	ASSERT_NE(NULL, veh.exc_addr);
	/* One-shot. */
	v = peek(a + 0x456);
	ASSERT_EQ(1, veh.calls);
	ASSERT_MBI(a, a, a, PAGE_READWRITE | PAGE_GUARD, P, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
	ASSERT_EQ(1U, RemoveVectoredExceptionHandler(h));
	ASSERT_EQ(0U, RemoveVectoredExceptionHandler(h));
}

TEST_F(win32, veh_guard_page_write)
{
	char *a = VirtualAlloc(NULL, 2 * P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);

	ASSERT_NE(NULL, a);
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_NONE);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(0, record_handler));
	poke(a + P + 0x801, 0x5c);
	ASSERT_EQ(1, veh.calls);
	ASSERT_EQ(STATUS_GUARD_PAGE_VIOLATION, veh.code);
	ASSERT_EQ((ULONG_PTR)EXCEPTION_WRITE_FAULT, veh.info0);
	ASSERT_EQ((ULONG_PTR)(a + P + 0x801), veh.info1);
	ASSERT_EQ(0x5c, a[P + 0x801]);
	/* The other page is still guarded. */
	ASSERT_MBI(a, a, a, PAGE_READWRITE | PAGE_GUARD, P, MEM_COMMIT,
		   PAGE_READWRITE | PAGE_GUARD, MEM_PRIVATE);
}

/* Rule R75. */
TEST_F(win32, veh_guard_page_execute)
{
	char *a = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	int (*fn)(void);
	DWORD old;

	ASSERT_NE(NULL, a);
	memcpy(a + 0x40, ret42, sizeof(ret42));
	ASSERT_WORKS(VirtualProtect(a, P, PAGE_EXECUTE_READ | PAGE_GUARD, &old));
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_NONE);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, record_handler));
	fn = (int (*)(void))(uintptr_t)(a + 0x40);
	ASSERT_EQ(42, call(fn));
	ASSERT_EQ(1, veh.calls);
	ASSERT_EQ(STATUS_GUARD_PAGE_VIOLATION, veh.code);
	ASSERT_EQ((ULONG_PTR)EXCEPTION_EXECUTE_FAULT, veh.info0);
	ASSERT_EQ((ULONG_PTR)(a + 0x40), veh.info1);
	ASSERT_EQ((PVOID)(a + 0x40), veh.exc_addr);
}

/* The Windows commit-on-demand pattern: the handler commits and continues. */
TEST_F(win32, veh_access_violation_commit_on_demand)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);

	ASSERT_NE(NULL, a);
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_COMMIT);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, record_handler));
	poke(a + 0x5678, 7);
	ASSERT_EQ(1, veh.calls);
	ASSERT_EQ(STATUS_ACCESS_VIOLATION, veh.code);
	ASSERT_EQ(2U, veh.nparams);
	ASSERT_EQ((ULONG_PTR)EXCEPTION_WRITE_FAULT, veh.info0);
	ASSERT_EQ((ULONG_PTR)(a + 0x5678), veh.info1);
	ASSERT_EQ(7, a[0x5678]);
	ASSERT_MBI(a + 0x5000, a + 0x5000, a, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
}

TEST_F(win32, veh_access_violation_read_noaccess)
{
	char *a = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
	char v;

	ASSERT_NE(NULL, a);
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_PROTECT_RO);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, record_handler));
	v = peek(a + 0xabc);
	ASSERT_EQ(0, v);
	ASSERT_EQ(1, veh.calls);
	ASSERT_EQ(STATUS_ACCESS_VIOLATION, veh.code);
	ASSERT_EQ((ULONG_PTR)EXCEPTION_READ_FAULT, veh.info0);
	ASSERT_EQ((ULONG_PTR)(a + 0xabc), veh.info1);
}

/* Rule R78: executing PAGE_READWRITE memory (an NX fault on a present page). */
TEST_F(win32, veh_execute_fault_dep)
{
	char *a = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	int (*fn)(void);

	ASSERT_NE(NULL, a);
	memcpy(a, ret42, sizeof(ret42));
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_PROTECT_ERW);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, record_handler));
	fn = (int (*)(void))(uintptr_t)a;
	ASSERT_EQ(42, call(fn));
	ASSERT_EQ(1, veh.calls);
	ASSERT_EQ(STATUS_ACCESS_VIOLATION, veh.code);
	ASSERT_EQ((ULONG_PTR)EXCEPTION_EXECUTE_FAULT, veh.info0);
	ASSERT_EQ((ULONG_PTR)a, veh.info1);
	ASSERT_MBI(a, a, a, PAGE_READWRITE, P, MEM_COMMIT, PAGE_EXECUTE_READWRITE, MEM_PRIVATE);
}

/* mov ecx, 7; mov rax, p; mov ecx, [rax] (2 bytes: 8b 08); return ecx. */
static __attribute__((noinline)) int read_through(const void *p)
{
	int v;

	__asm__ volatile("mov $7, %%ecx\n\t"
			 "mov %1, %%rax\n\t"
			 ".byte 0x8b, 0x08\n\t"
			 "mov %%ecx, %0"
			 : "=r"(v) : "r"(p) : "rax", "rcx", "memory");
	return v;
}

/* A fault outside winvm (NULL) is an access violation; CONTEXT changes stick. */
TEST_F(win32, veh_null_pointer_and_context)
{
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_SKIP);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, record_handler));
	ASSERT_EQ(99, read_through(NULL));
	barrier();
	ASSERT_EQ(1, veh.calls);
	ASSERT_EQ(STATUS_ACCESS_VIOLATION, veh.code);
	ASSERT_EQ((ULONG_PTR)EXCEPTION_READ_FAULT, veh.info0);
	ASSERT_EQ(0U, veh.info1);
	ASSERT_EQ(0x8b, *(const uint8_t *)veh.exc_addr);
	ASSERT_EQ(0x08, *((const uint8_t *)veh.exc_addr + 1));
}

static LONG CALLBACK search_a(EXCEPTION_POINTERS *ep)
{
	(void)ep;
	if (veh.norder < 15)
		veh.order[veh.norder++] = 'A';
	return EXCEPTION_CONTINUE_SEARCH;
}

static LONG CALLBACK search_b(EXCEPTION_POINTERS *ep)
{
	(void)ep;
	if (veh.norder < 15)
		veh.order[veh.norder++] = 'B';
	return EXCEPTION_CONTINUE_SEARCH;
}

/* First = 1 goes in front; CONTINUE_SEARCH moves on; removed ones are skipped. */
TEST_F(win32, veh_order_and_remove)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);
	PVOID ha, hb, hr;

	ASSERT_NE(NULL, a);
	veh_reset(EXCEPTION_CONTINUE_EXECUTION, FIX_COMMIT);
	hr = AddVectoredExceptionHandler(0, record_handler);
	ha = AddVectoredExceptionHandler(1, search_a);
	hb = AddVectoredExceptionHandler(1, search_b);
	ASSERT_NE(NULL, hr);
	ASSERT_NE(NULL, ha);
	ASSERT_NE(NULL, hb);
	poke(a, 1);
	ASSERT_STREQ("BAR", veh.order);
	ASSERT_EQ(1U, RemoveVectoredExceptionHandler(ha));
	veh.norder = 0;
	memset(veh.order, 0, sizeof(veh.order));
	poke(a + P, 1);
	ASSERT_STREQ("BR", veh.order);
	ASSERT_EQ(0U, RemoveVectoredExceptionHandler(ha));
	ASSERT_EQ(0U, RemoveVectoredExceptionHandler(NULL));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, AddVectoredExceptionHandler(1, NULL));
}

static sigjmp_buf prev_jmp;
static volatile int prev_calls;
static volatile uintptr_t prev_addr;

static void previous_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	prev_calls++;
	prev_addr = (uintptr_t)si->si_addr;
	siglongjmp(prev_jmp, 1);
}

/* CONTINUE_SEARCH from every handler reaches the SIGSEGV handler there before. */
TEST_F(win32, veh_continue_search_reaches_previous_handler)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);
	struct sigaction sa;

	ASSERT_NE(NULL, a);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = previous_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	veh_reset(EXCEPTION_CONTINUE_SEARCH, FIX_NONE);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, record_handler));
	ASSERT_NE(NULL, AddVectoredExceptionHandler(0, search_a));
	if (!sigsetjmp(prev_jmp, 1)) {
		poke(a + 0x10, 1);
		ASSERT_TRUE(false) TH_LOG("the write did not fault");
	}
	ASSERT_EQ(1, prev_calls);
	ASSERT_EQ((uintptr_t)(a + 0x10), prev_addr);
	ASSERT_STREQ("RA", veh.order);
	ASSERT_EQ(STATUS_ACCESS_VIOLATION, veh.code);
}

/* With no handler continuing and SIG_DFL before, the process dies of SIGSEGV. */
TEST_F(win32, veh_continue_search_default_kills)
{
	static const char *const what[] = { "reserved page", "guard page" };
	int i;

	for (i = 0; i < 2; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid) {
			struct rlimit no_core = { 0, 0 };
			char *a;

			setrlimit(RLIMIT_CORE, &no_core);
			signal(SIGSEGV, SIG_DFL);
			a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);
			if (!a || (i == 1 && !VirtualAlloc(a, P, MEM_COMMIT,
							    PAGE_READWRITE | PAGE_GUARD)))
				_exit(10);
			veh_reset(EXCEPTION_CONTINUE_SEARCH, FIX_NONE);
			if (!AddVectoredExceptionHandler(1, record_handler))
				_exit(11);
			poke(a + 8, 1);
			/* A guard page must not be retried silently. */
			_exit(veh.calls == 1 ? 12 : 13);
		}
		ASSERT_EQ(128 + SIGSEGV, wv_wait(pid)) TH_LOG("%s", what[i]);
	}
}

/* A handler may fault itself (SA_NODEFER): nested exceptions work. */
static char *nested_guard;
static volatile int nested_depth, nested_max;

static LONG CALLBACK nested_handler(EXCEPTION_POINTERS *ep)
{
	EXCEPTION_RECORD *rec = ep->ExceptionRecord;
	char *page = (char *)(rec->ExceptionInformation[1] & ~(ULONG_PTR)(P - 1));

	nested_depth++;
	if (nested_depth > nested_max)
		nested_max = nested_depth;
	if (rec->ExceptionCode == STATUS_ACCESS_VIOLATION) {
		/* Touch a guard page from inside the handler. */
		(void)peek(nested_guard);
		if (!VirtualAlloc(page, P, MEM_COMMIT, PAGE_READWRITE)) {
			nested_depth--;
			return EXCEPTION_CONTINUE_SEARCH;
		}
	}
	nested_depth--;
	return EXCEPTION_CONTINUE_EXECUTION;
}

TEST_F(win32, veh_nested_exception)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);

	ASSERT_NE(NULL, a);
	nested_guard = VirtualAlloc(NULL, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
	ASSERT_NE(NULL, nested_guard);
	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, nested_handler));
	poke(a + 0x100, 3);
	ASSERT_EQ(3, peek(a + 0x100));
	ASSERT_EQ(2, nested_max);
	ASSERT_EQ(0, nested_depth);
}

/* Faults in several threads at once each get their own record. */
#define NTHREADS	4

static __thread ULONG_PTR thread_info1;
static __thread int thread_calls;

static LONG CALLBACK thread_handler(EXCEPTION_POINTERS *ep)
{
	if (ep->ExceptionRecord->ExceptionCode != STATUS_GUARD_PAGE_VIOLATION)
		return EXCEPTION_CONTINUE_SEARCH;
	thread_calls++;
	thread_info1 = ep->ExceptionRecord->ExceptionInformation[1];
	return EXCEPTION_CONTINUE_EXECUTION;
}

static pthread_barrier_t thread_barrier;
/* The first wrong record any thread saw, for the log. */
static struct {
	ULONG_PTR want, seen;
	int calls;
} thread_first_bad[1];

static void *guard_thread(void *arg)
{
	char *a = arg;
	int i, bad = 0;

	pthread_barrier_wait(&thread_barrier);
	for (i = 0; i < 64; i++) {
		char *p = a + i * P + (i * 8) % P;

		(void)peek(p);
		/* The handler wrote this thread's TLS: no cached copy. */
		barrier();
		if (thread_info1 != (ULONG_PTR)p) {
			if (!bad) {
				thread_first_bad[0].want = (ULONG_PTR)p;
				thread_first_bad[0].seen = thread_info1;
				thread_first_bad[0].calls = thread_calls;
			}
			bad++;
		}
	}
	if (thread_calls != 64)
		bad += 1000;
	return (void *)(intptr_t)bad;
}

TEST_F(win32, veh_threads)
{
	pthread_t t[NTHREADS];
	void *ret;
	int i;

	ASSERT_NE(NULL, AddVectoredExceptionHandler(1, thread_handler));
	ASSERT_EQ(0, pthread_barrier_init(&thread_barrier, NULL, NTHREADS));
	for (i = 0; i < NTHREADS; i++) {
		char *a = VirtualAlloc(NULL, 64 * P, MEM_RESERVE | MEM_COMMIT,
				       PAGE_READWRITE | PAGE_GUARD);

		ASSERT_NE(NULL, a);
		ASSERT_EQ(0, pthread_create(&t[i], NULL, guard_thread, a));
	}
	for (i = 0; i < NTHREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		ASSERT_EQ(NULL, ret)
			TH_LOG("thread %d: %d wrong (+1000: missed exceptions); first: address 0x%lx, record 0x%lx after %d calls",
			       i, (int)(intptr_t)ret, (unsigned long)thread_first_bad[0].want,
			       (unsigned long)thread_first_bad[0].seen, thread_first_bad[0].calls);
	}
}

/* ------------------------------------------------------------------ */
/* Sections (Win32)                                                     */
/* ------------------------------------------------------------------ */

/* Rules R95, R99, R107, R118, R119. */
TEST_F(win32, section_pagefile_two_views)
{
	HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x12000, NULL);
	char *v1, *v2;

	SECTION_OR_FAIL(h);
	ASSERT_EQ((DWORD)ERROR_SUCCESS, GetLastError());
	v1 = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
	ASSERT_NE(NULL, v1) TH_LOG("error %u", GetLastError());
	v2 = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
	ASSERT_NE(NULL, v2) TH_LOG("error %u", GetLastError());
	ASSERT_NE(v1, v2);
	ASSERT_EQ(0U, (uintptr_t)v1 & 0xffff);
	ASSERT_EQ(0U, (uintptr_t)v2 & 0xffff);
	strcpy(v1 + 0x11000, "through view 1");
	ASSERT_STREQ("through view 1", v2 + 0x11000);
	ASSERT_MBI(v1, v1, v1, PAGE_READWRITE, 0x12000, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED);
	/* Views outlive the handle. */
	ASSERT_WORKS(CloseHandle(h));
	ASSERT_STREQ("through view 1", v2 + 0x11000);
	ASSERT_WORKS(UnmapViewOfFile(v1 + 0x1234));
	ASSERT_TRUE(is_free(v1));
	ASSERT_WORKS(UnmapViewOfFile(v2));
}

/* Rules R84, R86. */
TEST_F(win32, section_create_errors)
{
	HANDLE h;

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0, NULL));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_NOACCESS, 0, P, NULL));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_EXECUTE, 0, P, NULL));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     CreateFileMappingA(INVALID_HANDLE_VALUE, NULL,
					PAGE_READWRITE | SEC_RESERVE | SEC_COMMIT, 0, P, NULL));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_NOCACHE,
					0, P, NULL));
	ASSERT_FAILS(ERROR_BAD_EXE_FORMAT,
		     CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READONLY | SEC_IMAGE,
					0, P, NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     CreateFileMappingA(NULL, NULL, PAGE_READWRITE, 0, P, NULL));
	ASSERT_FAILS(ERROR_INVALID_NAME,
		     CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, P,
					"bad\\name"));
	h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0, P,
			       NULL);
	SECTION_OR_FAIL(h);
	ASSERT_WORKS(CloseHandle(h));
}

/* Rules R92, R93, R94. */
TEST_F(win32, section_named)
{
	char name[64], upper[64], local[80];
	HANDLE h1, h2, h3, h4;
	char *v;

	snprintf(name, sizeof(name), "winvm-lib-test-%d", getpid());
	snprintf(upper, sizeof(upper), "WINVM-LIB-TEST-%d", getpid());
	SetLastError(0xdeadbeef);
	h1 = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, G, name);
	SECTION_OR_FAIL(h1);
	ASSERT_EQ((DWORD)ERROR_SUCCESS, GetLastError());
	v = MapViewOfFile(h1, FILE_MAP_WRITE, 0, 0, 0);
	ASSERT_NE(NULL, v);
	strcpy(v, "named");

	/* The same name again: a handle to the same section, ERROR_ALREADY_EXISTS. */
	SetLastError(0xdeadbeef);
	h2 = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, P, name);
	ASSERT_NE(NULL, h2);
	ASSERT_EQ((DWORD)ERROR_ALREADY_EXISTS, GetLastError());
	ASSERT_NE(h1, h2);

	h3 = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
	ASSERT_NE(NULL, h3) TH_LOG("OpenFileMapping: error %u", GetLastError());
	ASSERT_STREQ("named", (char *)MapViewOfFile(h3, FILE_MAP_READ, 0, 0, 0));
	/* A read-only handle maps no writable view (rule R97). */
	ASSERT_FAILS(ERROR_ACCESS_DENIED, MapViewOfFile(h3, FILE_MAP_WRITE, 0, 0, 0));
	/* "Local\" is the default namespace. */
	snprintf(local, sizeof(local), "Local\\%s", name);
	h4 = OpenFileMappingA(FILE_MAP_READ, FALSE, local);
	ASSERT_NE(NULL, h4);
	ASSERT_WORKS(CloseHandle(h4));
	ASSERT_FAILS(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, upper));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, OpenFileMappingA(FILE_MAP_READ, FALSE, NULL));

	ASSERT_WORKS(CloseHandle(h1));
	ASSERT_WORKS(CloseHandle(h2));
	ASSERT_WORKS(CloseHandle(h3));
	/* The name is gone with the last handle; the view is not. */
	ASSERT_FAILS(ERROR_FILE_NOT_FOUND, OpenFileMappingA(FILE_MAP_READ, FALSE, name));
	ASSERT_STREQ("named", v);
	SetLastError(0xdeadbeef);
	h1 = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, G, name);
	ASSERT_NE(NULL, h1);
	ASSERT_EQ((DWORD)ERROR_SUCCESS, GetLastError());
	ASSERT_WORKS(CloseHandle(h1));
}

/* Rules R96, R100, R103, R117. */
TEST_F(win32, map_view_errors)
{
	HANDLE ro = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READONLY, 0, 2 * G, NULL);
	HANDLE rw;
	char *a, *v;
	int pfd[2];

	SECTION_OR_FAIL(ro);
	ASSERT_FAILS(ERROR_ACCESS_DENIED, MapViewOfFile(ro, FILE_MAP_WRITE, 0, 0, 0));
	v = MapViewOfFile(ro, FILE_MAP_COPY, 0, 0, 0);
	ASSERT_NE(NULL, v);
	ASSERT_MBI(v, v, v, PAGE_WRITECOPY, 2 * G, MEM_COMMIT, PAGE_WRITECOPY, MEM_MAPPED);
	ASSERT_WORKS(UnmapViewOfFile(v));
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT, MapViewOfFile(ro, FILE_MAP_READ, 0, P, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, MapViewOfFile(ro, FILE_MAP_READ, 0, 0, 2 * G + 1));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, MapViewOfFile(ro, FILE_MAP_READ, 0, 2 * G, 0));
	/* A base that is not 64K-aligned; a base that is taken. */
	a = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_READWRITE);
	ASSERT_NE(NULL, a);
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT, MapViewOfFileEx(ro, FILE_MAP_READ, 0, 0, 0, a + P));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, MapViewOfFileEx(ro, FILE_MAP_READ, 0, 0, 0, a));
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
	v = MapViewOfFileEx(ro, FILE_MAP_READ, 0, G, G, a);
	ASSERT_EQ(a, v) TH_LOG("error %u", GetLastError());
	/* VirtualFree does not free views (rule R42); unmapping private memory fails. */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v, G, MEM_DECOMMIT));
	ASSERT_WORKS(UnmapViewOfFile(v));
	a = VirtualAlloc(NULL, P, MEM_COMMIT, PAGE_READWRITE);
	ASSERT_NE(NULL, a);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile(a));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile((void *)0xdeadbeef));
	ASSERT_WORKS(VirtualFree(a, 0, MEM_RELEASE));
	/* Handles that are no sections. */
	ASSERT_FAILS(ERROR_INVALID_HANDLE, MapViewOfFile(NULL, FILE_MAP_READ, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile(INVALID_HANDLE_VALUE, FILE_MAP_READ, 0, 0, 0));
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile(winvm_handle_from_fd(pfd[0]), FILE_MAP_READ, 0, 0, 0));
	close(pfd[0]);
	close(pfd[1]);
	rw = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, G, NULL);
	ASSERT_NE(NULL, rw);
	ASSERT_WORKS(CloseHandle(rw));
	ASSERT_WORKS(CloseHandle(ro));
}

/* Rule R114: a FILE_MAP_COPY view gets private pages on first write. */
TEST_F(win32, section_write_copy_view)
{
	HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * P, NULL);
	char *shared, *copy;

	SECTION_OR_FAIL(h);
	shared = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
	copy = MapViewOfFile(h, FILE_MAP_COPY, 0, 0, 0);
	ASSERT_NE(NULL, shared);
	ASSERT_NE(NULL, copy);
	strcpy(shared, "original");
	ASSERT_STREQ("original", copy);
	ASSERT_MBI(copy, copy, copy, PAGE_WRITECOPY, 2 * P, MEM_COMMIT, PAGE_WRITECOPY,
		   MEM_MAPPED);
	strcpy(copy, "private");
	ASSERT_STREQ("original", shared);
	ASSERT_MBI(copy, copy, copy, PAGE_WRITECOPY, P, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED);
	ASSERT_MBI(copy + P, copy + P, copy, PAGE_WRITECOPY, P, MEM_COMMIT, PAGE_WRITECOPY,
		   MEM_MAPPED);
	strcpy(shared + P, "later");
	ASSERT_STREQ("later", copy + P);
	ASSERT_WORKS(UnmapViewOfFile(copy));
	ASSERT_WORKS(UnmapViewOfFile(shared));
	ASSERT_WORKS(CloseHandle(h));
}

/* Rule R97: DuplicateHandle narrows the access. */
TEST_F(win32, section_duplicate_handle)
{
	HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, G, NULL);
	HANDLE same = NULL, ro = NULL, none = NULL;
	char *v;

	SECTION_OR_FAIL(h);
	ASSERT_WORKS(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &same, 0,
				     FALSE, DUPLICATE_SAME_ACCESS));
	v = MapViewOfFile(same, FILE_MAP_WRITE, 0, 0, 0);
	ASSERT_NE(NULL, v);
	ASSERT_WORKS(UnmapViewOfFile(v));
	ASSERT_WORKS(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &ro,
				     FILE_MAP_READ, FALSE, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, MapViewOfFile(ro, FILE_MAP_WRITE, 0, 0, 0));
	v = MapViewOfFile(ro, 0, 0, 0, 0);
	ASSERT_NE(NULL, v);
	ASSERT_MBI(v, v, v, PAGE_NOACCESS, G, MEM_COMMIT, PAGE_NOACCESS, MEM_MAPPED);
	ASSERT_WORKS(UnmapViewOfFile(v));
	ASSERT_WORKS(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &none, 0,
				     FALSE, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, MapViewOfFile(none, 0, 0, 0, 0));
	/* Asking for more than the source has. */
	ASSERT_FAILS(ERROR_ACCESS_DENIED, DuplicateHandle(GetCurrentProcess(), ro,
							  GetCurrentProcess(), &none,
							  FILE_MAP_WRITE, FALSE, 0));
	ASSERT_WORKS(DuplicateHandle(GetCurrentProcess(), same, GetCurrentProcess(), NULL, 0,
				     FALSE, DUPLICATE_CLOSE_SOURCE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle(same));
	ASSERT_WORKS(CloseHandle(ro));
	ASSERT_WORKS(CloseHandle(none));
	ASSERT_WORKS(CloseHandle(h));
}

static int temp_file(const char *data, size_t len, int flags)
{
	char path[] = "/tmp/winvm-lib-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (len && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	if (flags != O_RDWR) {
		int fd2 = open(path, flags);

		close(fd);
		fd = fd2;
	}
	unlink(path);
	return fd;
}

/* Rules R85, R88-R90: file-backed sections through a HANDLE made from an fd. */
TEST_F(win32, section_file_backed)
{
	static const char text[] = "file contents";
	int fd = temp_file(text, sizeof(text), O_RDWR), rofd;
	HANDLE file, h;
	char *v, buf[32];
	struct stat st;

	ASSERT_LE(0, fd);
	file = winvm_handle_from_fd(fd);
	h = CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 0, NULL);
	SECTION_OR_FAIL(h);
	v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
	ASSERT_NE(NULL, v);
	ASSERT_STREQ(text, v);
	memcpy(v, "FILE", 4);
	ASSERT_WORKS(FlushViewOfFile(v, 0));
	ASSERT_EQ((ssize_t)sizeof(text), pread(fd, buf, sizeof(text), 0));
	ASSERT_EQ(0, memcmp(buf, "FILE contents", sizeof(text)));
	ASSERT_WORKS(UnmapViewOfFile(v));
	ASSERT_WORKS(CloseHandle(h));
	/* Bigger than the file: read-only cannot grow it (rule R89), RW grows it (R90). */
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 2 * P, NULL));
	h = CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 2 * P, NULL);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(2 * P, st.st_size);
	ASSERT_WORKS(CloseHandle(h));
	ASSERT_WORKS(CloseHandle(file));

	/* A read-only file: PAGE_READWRITE is denied, PAGE_READONLY works (rule R85). */
	rofd = temp_file(text, sizeof(text), O_RDONLY);
	ASSERT_LE(0, rofd);
	file = winvm_handle_from_fd(rofd);
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 0, NULL));
	h = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
	ASSERT_NE(NULL, h);
	ASSERT_WORKS(CloseHandle(h));
	ASSERT_WORKS(CloseHandle(file));
	/* An empty file. */
	fd = temp_file(NULL, 0, O_RDWR);
	file = winvm_handle_from_fd(fd);
	ASSERT_FAILS(ERROR_FILE_INVALID, CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 0, NULL));
	ASSERT_WORKS(CloseHandle(file));
}

/* A section shared with a child: by inheritance and by name. */
TEST_F(win32, section_shared_with_child)
{
	char name[64];
	HANDLE h;
	char *v;
	pid_t pid;

	snprintf(name, sizeof(name), "winvm-lib-child-%d", getpid());
	h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, G, name);
	SECTION_OR_FAIL(h);
	v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
	ASSERT_NE(NULL, v);
	strcpy(v, "from parent");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		HANDLE h2;
		char *c1, *c2;

		/* The inherited handle maps in the child, through its own context. */
		c1 = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
		h2 = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
		c2 = h2 ? MapViewOfFile(h2, FILE_MAP_READ, 0, 0, 0) : NULL;
		if (!c1 || !c2)
			_exit(1);
		if (strcmp(c1, "from parent") || strcmp(c2, "from parent"))
			_exit(2);
		strcpy(c1 + 100, "from child");
		_exit(strcmp(c2 + 100, "from child") ? 3 : 0);
	}
	ASSERT_EQ(0, wv_wait(pid));
	ASSERT_STREQ("from child", v + 100);
	ASSERT_WORKS(UnmapViewOfFile(v));
	ASSERT_WORKS(CloseHandle(h));
}

/* ------------------------------------------------------------------ */
/* The native API                                                       */
/* ------------------------------------------------------------------ */

static void *default_fd_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)winvm_default_fd();
}

/* The default context: one per process, thread-safe, renewed after fork. */
TEST_F(plain, native_default_fd)
{
	pthread_t t[8];
	void *ret;
	int fd, i, own;
	pid_t pid;

	if (access("/dev/winvm", F_OK))
		SKIP(return, "no /dev/winvm");
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, default_fd_thread, NULL));
	fd = winvm_default_fd();
	ASSERT_LE(0, fd);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		ASSERT_EQ(fd, (int)(intptr_t)ret);
	}
	ASSERT_EQ(fd, winvm_default_fd());
	own = winvm_open();
	ASSERT_LE(0, own);
	ASSERT_NE(fd, own);
	close(own);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint64_t a = 0, s = P;

		/* The parent's context would answer STATUS_INVALID_HANDLE here. */
		if (winvm_alloc(winvm_default_fd(), &a, &s, 0, MEM_COMMIT, PAGE_READWRITE))
			_exit(1);
		*(volatile char *)(uintptr_t)a = 1;
		_exit(VirtualAlloc(NULL, P, MEM_COMMIT, PAGE_READWRITE) ? 0 : 2);
	}
	ASSERT_EQ(0, wv_wait(pid));
}

TEST_F(win32, native_private_memory)
{
	struct winvm_query_args q;
	uint64_t a = 0, s = 0x2800, b, bs;
	uint32_t old = 0;

	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_alloc(self->fd, &a, &s, 0,
						    MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	ASSERT_NE(0U, a);
	ASSERT_EQ(0x3000U, s);
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_query(self->fd, a + 0x1800, &q));
	ASSERT_EQ(a + P, q.base_address);
	ASSERT_EQ(a, q.allocation_base);
	ASSERT_EQ((uint32_t)MEM_COMMIT, q.state);
	ASSERT_EQ(0x3000U, q.allocation_size);
	ASSERT_TRUE(!!(q.region_flags & WINVM_REGION_WINVM));
	b = a + 1;
	bs = 1;
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_protect(self->fd, &b, &bs, PAGE_READONLY, &old));
	ASSERT_EQ(a, b);
	ASSERT_EQ((uint64_t)P, bs);
	ASSERT_EQ((uint32_t)PAGE_READWRITE, old);
	b = a;
	bs = P;
	ASSERT_ST(WINVM_STATUS_INVALID_PAGE_PROTECTION,
		  winvm_protect(self->fd, &b, &bs, PAGE_WRITECOPY, NULL));
	b = a + 0x1fff;
	bs = 2;
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_free(self->fd, &b, &bs, MEM_DECOMMIT));
	ASSERT_EQ(a + P, b);
	ASSERT_EQ((uint64_t)(2 * P), bs);
	b = a + P;
	bs = P;
	ASSERT_ST(WINVM_STATUS_NOT_COMMITTED, winvm_protect(self->fd, &b, &bs, PAGE_READONLY, &old));
	ASSERT_EQ((uint32_t)PAGE_NOACCESS, old);
	b = a + P;
	bs = 0;
	ASSERT_ST(WINVM_STATUS_FREE_VM_NOT_AT_BASE, winvm_free(self->fd, &b, &bs, MEM_RELEASE));
	b = a;
	bs = 0;
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_free(self->fd, &b, &bs, MEM_RELEASE));
	ASSERT_EQ(0x3000U, bs);
	ASSERT_ST(WINVM_STATUS_MEMORY_NOT_ALLOCATED, winvm_free(self->fd, &b, &bs, MEM_RELEASE));
	b = 0;
	bs = P;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER_3,
		  winvm_alloc(self->fd, &b, &bs, 25, MEM_COMMIT, PAGE_READWRITE));
}

TEST_F(win32, native_info_and_fault_info)
{
	struct winvm_fault_info_args fi;
	struct winvm_info_args info;

	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_info(self->fd, &info));
	ASSERT_EQ(0x10000U, info.allocation_granularity);
	ASSERT_EQ(0x10000U, info.min_address);
	ASSERT_ST(WINVM_STATUS_NOT_FOUND, winvm_fault_info(self->fd, &fi));
}

TEST_F(plain, native_bad_fds)
{
	struct winvm_query_args q;
	uint64_t a = 0, s = P;
	int fd = open("/dev/null", O_RDWR);

	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE,
		  winvm_alloc(-1, &a, &s, 0, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_EQ(EBADF, errno);
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE, winvm_query(1000, 0x10000, &q));
	/* Not a winvm fd: the ioctl is unknown there. */
	ASSERT_LE(0, fd);
	ASSERT_ST(WINVM_STATUS_NOT_IMPLEMENTED, winvm_query(fd, 0x10000, &q));
	close(fd);
}

TEST_F(plain, native_status_helpers)
{
	char buf[128];

	ASSERT_STREQ("STATUS_ACCESS_VIOLATION", winvm_status_name(WINVM_STATUS_ACCESS_VIOLATION));
	ASSERT_STREQ("STATUS_<unknown>", winvm_status_name(0xc0001234));
	/* RtlNtStatusToDosError, as lib/README.md lists it. */
	ASSERT_EQ(0U, winvm_status_to_win32(WINVM_STATUS_SUCCESS));
	ASSERT_EQ(487U, winvm_status_to_win32(WINVM_STATUS_CONFLICTING_ADDRESSES));
	ASSERT_EQ(487U, winvm_status_to_win32(WINVM_STATUS_NOT_COMMITTED));
	ASSERT_EQ(487U, winvm_status_to_win32(WINVM_STATUS_MEMORY_NOT_ALLOCATED));
	ASSERT_EQ(487U, winvm_status_to_win32(WINVM_STATUS_FREE_VM_NOT_AT_BASE));
	ASSERT_EQ(487U, winvm_status_to_win32(WINVM_STATUS_NOT_MAPPED_VIEW));
	ASSERT_EQ(87U, winvm_status_to_win32(WINVM_STATUS_INVALID_PAGE_PROTECTION));
	ASSERT_EQ(87U, winvm_status_to_win32(WINVM_STATUS_UNABLE_TO_FREE_VM));
	ASSERT_EQ(87U, winvm_status_to_win32(WINVM_STATUS_INVALID_PARAMETER_3));
	ASSERT_EQ(87U, winvm_status_to_win32(0xc00000f7));	/* _PARAMETER_9 */
	ASSERT_EQ(8U, winvm_status_to_win32(WINVM_STATUS_NO_MEMORY));
	ASSERT_EQ(8U, winvm_status_to_win32(WINVM_STATUS_SECTION_TOO_BIG));
	ASSERT_EQ(5U, winvm_status_to_win32(WINVM_STATUS_ACCESS_DENIED));
	ASSERT_EQ(5U, winvm_status_to_win32(WINVM_STATUS_INVALID_VIEW_SIZE));
	ASSERT_EQ(5U, winvm_status_to_win32(WINVM_STATUS_ALREADY_COMMITTED));
	ASSERT_EQ(1132U, winvm_status_to_win32(WINVM_STATUS_MAPPED_ALIGNMENT));
	ASSERT_EQ(183U, winvm_status_to_win32(WINVM_STATUS_OBJECT_NAME_EXISTS));
	ASSERT_EQ(2U, winvm_status_to_win32(WINVM_STATUS_OBJECT_NAME_NOT_FOUND));
	ASSERT_EQ(6U, winvm_status_to_win32(WINVM_STATUS_INVALID_HANDLE));
	ASSERT_EQ(6U, winvm_status_to_win32(WINVM_STATUS_OBJECT_TYPE_MISMATCH));
	ASSERT_EQ(998U, winvm_status_to_win32(WINVM_STATUS_ACCESS_VIOLATION));
	ASSERT_EQ(24U, winvm_status_to_win32(WINVM_STATUS_INFO_LENGTH_MISMATCH));
	ASSERT_EQ(193U, winvm_status_to_win32(WINVM_STATUS_INVALID_IMAGE_NOT_MZ));
	ASSERT_EQ(1U, winvm_status_to_win32(WINVM_STATUS_NOT_IMPLEMENTED));
	ASSERT_EQ(0x80000001U, winvm_status_to_win32(WINVM_STATUS_GUARD_PAGE_VIOLATION));
	ASSERT_EQ(317U, winvm_status_to_win32(0xc0001234));

	ASSERT_EQ(WINVM_STATUS_NOT_IMPLEMENTED, winvm_status_from_errno(ENOTTY));
	ASSERT_EQ(WINVM_STATUS_INVALID_HANDLE, winvm_status_from_errno(EBADF));
	ASSERT_EQ(WINVM_STATUS_ACCESS_VIOLATION, winvm_status_from_errno(EFAULT));
	ASSERT_EQ(WINVM_STATUS_INVALID_PARAMETER, winvm_status_from_errno(EINVAL));

	ASSERT_STREQ("PAGE_READWRITE|PAGE_GUARD",
		     winvm_protect_string(PAGE_READWRITE | PAGE_GUARD, buf, sizeof(buf)));
	ASSERT_STREQ("0", winvm_protect_string(0, buf, sizeof(buf)));
	ASSERT_STREQ("PAGE_NOACCESS|0x10000",
		     winvm_protect_string(PAGE_NOACCESS | 0x10000, buf, sizeof(buf)));
}

TEST_F(win32, native_sections)
{
	struct winvm_section_query_args sq;
	uint64_t a = 0, s = 0, fa, fs;
	int sfd = -1, dfd = -1, ofd = -1, existed = -1;
	char name[64];

	snprintf(name, sizeof(name), "winvm-native-%d", getpid());
	ASSERT_ST(WINVM_STATUS_SUCCESS,
		  winvm_section_create(self->fd, &sfd, 0x3457, name, -1, PAGE_READWRITE, 0, 0, 0,
				       &existed));
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, existed);
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_section_query(self->fd, sfd, &sq));
	ASSERT_EQ(0x4000U, sq.size);
	ASSERT_EQ((uint32_t)SEC_COMMIT, sq.attributes);
	ASSERT_EQ((uint32_t)PAGE_READWRITE, sq.protect);
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_EXISTS,
		  winvm_section_create(self->fd, &ofd, P, name, -1, PAGE_READWRITE, 0, 0, 0,
				       &existed));
	ASSERT_EQ(1, existed);
	close(ofd);
	ASSERT_ST(WINVM_STATUS_SUCCESS,
		  winvm_section_open(self->fd, &ofd, name, SECTION_MAP_READ, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, winvm_section_query(self->fd, ofd, &sq));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  winvm_section_open(self->fd, &dfd, "winvm-no-such-section", SECTION_MAP_READ, 0));
	ASSERT_EQ(-1, dfd);
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_section_dup(self->fd, sfd, SECTION_MAP_READ, &dfd));
	ASSERT_LE(0, dfd);
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED,
		  winvm_section_dup(self->fd, dfd, SECTION_MAP_WRITE, &ofd));
	ASSERT_ST(WINVM_STATUS_SUCCESS,
		  winvm_view_map(self->fd, sfd, FILE_MAP_WRITE, &a, 0, &s, 0, 0));
	ASSERT_EQ(0x4000U, s);
	ASSERT_EQ(0U, a & 0xffff);
	*(volatile char *)(uintptr_t)a = 1;
	fa = a;
	fs = 0;
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_view_flush(self->fd, &fa, &fs));
	ASSERT_ST(WINVM_STATUS_SUCCESS, winvm_view_unmap(self->fd, a + 0x100));
	ASSERT_ST(WINVM_STATUS_NOT_MAPPED_VIEW, winvm_view_unmap(self->fd, a));
	a = 0;
	s = 0;
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED,
		  winvm_view_map(self->fd, dfd, FILE_MAP_WRITE, &a, 0, &s, 0, 0));
	ASSERT_ST(WINVM_STATUS_OBJECT_TYPE_MISMATCH,
		  winvm_view_map(self->fd, self->fd, FILE_MAP_READ, &a, 0, &s, 0, 0));
	close(sfd);
	close(dfd);
}

/* ------------------------------------------------------------------ */
/* The address-space map                                                */
/* ------------------------------------------------------------------ */

static char *map_text(const void *addr, unsigned int flags, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	*ret = addr ? winvm_map_print_allocation(f, addr, flags) : winvm_map_print(f, flags);
	fclose(f);
	return buf;
}

TEST_F(win32, map_print)
{
	char *a = VirtualAlloc(NULL, 16 * P, MEM_RESERVE, PAGE_READWRITE);
	char *text, hex[32];
	DWORD old;
	int ret;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, VirtualAlloc(a, 3 * P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_NE(NULL, VirtualAlloc(a + 2 * P, P, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD));
	ASSERT_NE(NULL, VirtualAlloc(a + 3 * P, 2 * P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_WORKS(VirtualProtect(a + 3 * P, P, PAGE_READONLY, &old));
	ASSERT_WORKS(VirtualProtect(a + 4 * P, P, PAGE_EXECUTE_READ, &old));
	ASSERT_NE(NULL, VirtualAlloc(a + 5 * P, P, MEM_COMMIT, PAGE_NOACCESS));
	a[0] = 1;
	snprintf(hex, sizeof(hex), "%016lx", (unsigned long)(uintptr_t)a);

	text = map_text(a + 5 * P, WINVM_MAP_NOCOLOR | WINVM_MAP_REGIONS, &ret);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(1, ret);
	TH_LOG("\n%s", text);
	ASSERT_NE(NULL, strstr(text, hex));
	ASSERT_NE(NULL, strstr(text, "[##grx-..........]"));
	ASSERT_NE(NULL, strstr(text, "Mixed"));
	ASSERT_NE(NULL, strstr(text, "PAGE_READWRITE|PAGE_GUARD"));
	ASSERT_NE(NULL, strstr(text, "Pages: # read/write"));
	ASSERT_EQ(NULL, strstr(text, "\033["));
	free(text);

	text = map_text(a, WINVM_MAP_COLOR | WINVM_MAP_NOLEGEND, &ret);
	ASSERT_NE(NULL, text);
	ASSERT_NE(NULL, strstr(text, "\033["));
	ASSERT_EQ(NULL, strstr(text, "Pages:"));
	free(text);

	text = map_text(a, WINVM_MAP_JSON, &ret);
	ASSERT_NE(NULL, text);
	snprintf(hex, sizeof(hex), "\"base\": \"0x%lx\"", (unsigned long)(uintptr_t)a);
	ASSERT_NE(NULL, strstr(text, hex)) TH_LOG("%s", text);
	ASSERT_NE(NULL, strstr(text, "\"pages\": \"##grx-..........\""));
	ASSERT_NE(NULL, strstr(text, "\"committed\": 24576"));
	ASSERT_NE(NULL, strstr(text, "\"winvm\": true"));
	free(text);

	/* The whole process: this allocation, and with ALL the stack too. */
	text = map_text(NULL, WINVM_MAP_NOCOLOR, &ret);
	ASSERT_NE(NULL, text);
	ASSERT_LE(1, ret);
	ASSERT_NE(NULL, strstr(text, "[##grx-..........]"));
	ASSERT_EQ(NULL, strstr(text, "[stack]"));
	free(text);
	text = map_text(NULL, WINVM_MAP_NOCOLOR | WINVM_MAP_ALL, &ret);
	ASSERT_NE(NULL, text);
	ASSERT_NE(NULL, strstr(text, "[stack]"));
	free(text);
}

/* Big allocations get one strip character per group of pages. */
/* winvm-map shows which allocations are watched, and how many pages are written. */
TEST_F(win32, map_print_write_watch)
{
	char *a = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
			       PAGE_READWRITE);
	char *b = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	char *text;
	int ret;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	a[0] = 1;
	a[5 * P] = 1;
	b[0] = 1;
	text = map_text(a, WINVM_MAP_NOCOLOR, &ret);
	ASSERT_NE(NULL, text);
	ASSERT_NE(NULL, strstr(text, "write watch: 2 written")) TH_LOG("%s", text);
	free(text);
	text = map_text(b, WINVM_MAP_NOCOLOR, &ret);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(NULL, strstr(text, "write watch"));
	free(text);
	text = map_text(a, WINVM_MAP_JSON, &ret);
	ASSERT_NE(NULL, text);
	ASSERT_NE(NULL, strstr(text, "\"write_watch_written\": 2")) TH_LOG("%s", text);
	free(text);
	ASSERT_TRUE(VirtualFree(a, 0, MEM_RELEASE));
	ASSERT_TRUE(VirtualFree(b, 0, MEM_RELEASE));
}

TEST_F(win32, map_print_scaled)
{
	char *a = VirtualAlloc(NULL, 1024 * 1024, MEM_RESERVE, PAGE_READWRITE);
	char *text;
	int ret;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, VirtualAlloc(a + 1024 * 1024 - P, P, MEM_COMMIT, PAGE_READWRITE));
	text = map_text(a, WINVM_MAP_NOCOLOR, &ret);
	ASSERT_NE(NULL, text);
	TH_LOG("\n%s", text);
	ASSERT_NE(NULL, strstr(text, "...#] x4"));
	free(text);
}

TEST_HARNESS_MAIN
