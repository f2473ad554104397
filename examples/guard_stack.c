/* SPDX-License-Identifier: MIT */
/*
 * guard_stack: a thread-stack-like region that grows on demand, the way
 * Windows grows thread stacks.
 *
 * Reserve 1 MiB, commit its top page and a PAGE_GUARD page below it.  Each
 * time the "stack" is pushed into the guard page, the guard raises one
 * STATUS_GUARD_PAGE_VIOLATION (the guard is already gone when the handler
 * runs); a vectored exception handler commits the next page down as the new
 * guard and continues execution, and the push completes.
 *
 * Builds unchanged with a Windows compiler and with gcc + libwinvm.
 */
#ifdef _WIN32
#include <windows.h>
#else
#include <winvm/win32.h>
#endif
#include <stdio.h>
#include <string.h>

#define STACK_RESERVE	(1024 * 1024)
#define FRAME_SIZE	1000
#define FRAMES		200

static char *stack_low;		/* lowest address of the reservation */
static char *stack_high;	/* one past its highest address */
static char *guard;		/* the current guard page */
static SIZE_T page;
static volatile LONG guard_hits;

static LONG CALLBACK grow_stack(EXCEPTION_POINTERS *info)
{
	EXCEPTION_RECORD *rec = info->ExceptionRecord;
	char *addr, *below;

	if (rec->ExceptionCode != STATUS_GUARD_PAGE_VIOLATION || rec->NumberParameters < 2)
		return EXCEPTION_CONTINUE_SEARCH;
	addr = (char *)rec->ExceptionInformation[1];
	if (addr < stack_low || addr >= stack_high)
		return EXCEPTION_CONTINUE_SEARCH;
	guard_hits++;
	/* The page that was hit is now plain committed read/write. */
	below = (char *)((ULONG_PTR)addr & ~(ULONG_PTR)(page - 1)) - page;
	/* Keep the lowest page reserved: touching it is a stack overflow. */
	if (below > stack_low) {
		if (!VirtualAlloc(below, page, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD))
			return EXCEPTION_CONTINUE_SEARCH;
		guard = below;
	}
	return EXCEPTION_CONTINUE_EXECUTION;
}

static void print_regions(void)
{
	MEMORY_BASIC_INFORMATION mbi;
	char *p = stack_low;

	while (p < stack_high && VirtualQuery(p, &mbi, sizeof(mbi)) == sizeof(mbi)) {
		printf("  %p  %7lu KiB  %s", mbi.BaseAddress,
		       (unsigned long)(mbi.RegionSize / 1024),
		       mbi.State == MEM_COMMIT ? "committed" : "reserved ");
		if (mbi.State == MEM_COMMIT)
			printf("  %s", mbi.Protect == (PAGE_READWRITE | PAGE_GUARD) ?
			       "PAGE_READWRITE|PAGE_GUARD" :
			       mbi.Protect == PAGE_READWRITE ? "PAGE_READWRITE" : "other");
		printf("\n");
		p = (char *)mbi.BaseAddress + mbi.RegionSize;
	}
}

int main(int argc, char *argv[])
{
	SYSTEM_INFO si;
	MEMORY_BASIC_INFORMATION mbi;
	PVOID handler;
	volatile char *sp;
	int i, ok = 1;
	long expected_hits;
	SIZE_T committed;

	(void)argc;
	(void)argv;
	GetSystemInfo(&si);
	page = si.dwPageSize;

	stack_low = (char *)VirtualAlloc(NULL, STACK_RESERVE, MEM_RESERVE, PAGE_READWRITE);
	if (!stack_low) {
		printf("VirtualAlloc(MEM_RESERVE) failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	stack_high = stack_low + STACK_RESERVE;
	guard = stack_high - 2 * page;
	if (!VirtualAlloc(stack_high - page, page, MEM_COMMIT, PAGE_READWRITE) ||
	    !VirtualAlloc(guard, page, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD)) {
		printf("VirtualAlloc(MEM_COMMIT) failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	printf("reserved %lu KiB; committed the top page and a guard page below it:\n",
	       (unsigned long)(STACK_RESERVE / 1024));
	print_regions();

	handler = AddVectoredExceptionHandler(1, grow_stack);
	if (!handler) {
		printf("AddVectoredExceptionHandler failed\n");
		return 1;
	}

	/*
	 * Push frames downward, writing each new frame from its top, as code
	 * does (volatile: one store at a time, in this order).
	 */
	sp = stack_high;
	for (i = 0; i < FRAMES; i++) {
		int j;

		sp -= FRAME_SIZE;
		for (j = FRAME_SIZE - 1; j >= 0; j--)
			sp[j] = (char)i;
	}
	/* Every page below the first one was a guard page once. */
	expected_hits = (long)((((SIZE_T)(stack_high - (char *)sp) + page - 1) / page) - 1);
	printf("pushed %d frames of %d bytes: %ld guard page hits (expected %ld)\n",
	       FRAMES, FRAME_SIZE, (long)guard_hits, expected_hits);
	if (guard_hits != expected_hits)
		ok = 0;

	for (i = 0; i < FRAMES; i++)
		if (stack_high[-(i + 1) * FRAME_SIZE] != (char)i)
			ok = 0;

	/* From just above the guard page to the top: one committed run. */
	VirtualQuery(guard + page, &mbi, sizeof(mbi));
	committed = mbi.RegionSize;
	printf("committed read/write: %lu KiB, guard page at offset 0x%lx\n",
	       (unsigned long)(committed / 1024), (unsigned long)(guard - stack_low));
	if (mbi.State != MEM_COMMIT || mbi.Protect != PAGE_READWRITE ||
	    (char *)mbi.BaseAddress + committed != stack_high ||
	    committed != (SIZE_T)(expected_hits + 1) * page)
		ok = 0;
	VirtualQuery(guard, &mbi, sizeof(mbi));
	if (mbi.State != MEM_COMMIT || mbi.Protect != (PAGE_READWRITE | PAGE_GUARD) ||
	    mbi.RegionSize != page)
		ok = 0;
	print_regions();

	RemoveVectoredExceptionHandler(handler);
	if (!VirtualFree(stack_low, 0, MEM_RELEASE))
		ok = 0;
	printf("%s\n", ok ? "OK" : "FAIL");
	return ok ? 0 : 1;
}
