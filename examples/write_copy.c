/* SPDX-License-Identifier: MIT */
/*
 * write_copy: two views of one pagefile-backed section, one FILE_MAP_WRITE
 * and one FILE_MAP_COPY.
 *
 * Until the copy view writes a page, it sees the section's current
 * contents, including later writes through the shared view.  Its first
 * write to a page gives it a private copy of that page: the shared view
 * never sees it, and VirtualQuery then reports that page PAGE_READWRITE
 * while the untouched pages stay PAGE_WRITECOPY.
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

static int failures;

static void check(int ok, const char *what)
{
	printf("  %-58s %s\n", what, ok ? "yes" : "NO");
	if (!ok)
		failures++;
}

static DWORD protect_of(const void *p, SIZE_T *region)
{
	MEMORY_BASIC_INFORMATION mbi;

	if (VirtualQuery(p, &mbi, sizeof(mbi)) != sizeof(mbi))
		return 0;
	if (region)
		*region = mbi.RegionSize;
	return mbi.Protect;
}

int main(int argc, char *argv[])
{
	SYSTEM_INFO si;
	HANDLE h;
	char *shared, *copy;
	SIZE_T page, region = 0;

	(void)argc;
	(void)argv;
	GetSystemInfo(&si);
	page = si.dwPageSize;

	h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, (DWORD)(2 * page), NULL);
	if (!h) {
		printf("CreateFileMapping failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	shared = (char *)MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
	copy = (char *)MapViewOfFile(h, FILE_MAP_COPY, 0, 0, 0);
	if (!shared || !copy) {
		printf("MapViewOfFile failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	printf("one section, two views: shared %p (FILE_MAP_WRITE), copy %p (FILE_MAP_COPY)\n",
	       (void *)shared, (void *)copy);

	strcpy(shared, "original");
	strcpy(shared + page, "page 1, original");
	printf("write \"original\" through the shared view:\n");
	check(!strcmp(copy, "original"), "the copy view sees it");
	check(protect_of(copy, NULL) == PAGE_WRITECOPY, "the copy view is PAGE_WRITECOPY");

	strcpy(copy, "private");
	printf("write \"private\" through the copy view:\n");
	check(!strcmp(copy, "private"), "the copy view reads its own data");
	check(!strcmp(shared, "original"), "the shared view still reads \"original\"");
	check(protect_of(copy, &region) == PAGE_READWRITE && region == page,
	      "that page of the copy view is now PAGE_READWRITE");
	check(protect_of(copy + page, NULL) == PAGE_WRITECOPY,
	      "the next page is still PAGE_WRITECOPY");

	strcpy(shared, "shared update");
	strcpy(shared + page, "page 1, updated");
	printf("write through the shared view again:\n");
	check(!strcmp(copy, "private"), "the copied page keeps its private data");
	check(!strcmp(copy + page, "page 1, updated"), "the untouched page shows the update");

	UnmapViewOfFile(copy);
	UnmapViewOfFile(shared);
	CloseHandle(h);
	printf("%s\n", failures ? "FAIL" : "OK");
	return failures ? 1 : 0;
}
