/* SPDX-License-Identifier: MIT */
/*
 * shared_section: a named section shared by two processes.
 *
 *   shared_section create NAME   creates the section, writes a greeting,
 *                                waits for the reader's reply
 *   shared_section open NAME     opens it by name, reads the greeting,
 *                                writes a reply
 *
 * Run both at once (in either order); each prints what it saw and exits 0.
 * Builds unchanged with a Windows compiler and with gcc + libwinvm.
 */
#ifdef _WIN32
#include <windows.h>
#else
#include <winvm/win32.h>
#endif
#include <stdio.h>
#include <string.h>

#define SECTION_SIZE	65536
#define TIMEOUT_MS	20000
#define POLL_MS		10

struct shared {
	volatile LONG state;	/* 0 empty, 1 greeting written, 2 reply written */
	char greeting[128];
	char reply[128];
};

static LONG read_state(struct shared *s)
{
	return InterlockedCompareExchange(&s->state, 0, 0);
}

static int wait_state(struct shared *s, LONG want)
{
	int waited;

	for (waited = 0; waited < TIMEOUT_MS; waited += POLL_MS) {
		if (read_state(s) == want)
			return 1;
		Sleep(POLL_MS);
	}
	return 0;
}

static int create(const char *name)
{
	HANDLE h;
	struct shared *s;
	int ok;

	h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, SECTION_SIZE, name);
	if (!h) {
		printf("creator: CreateFileMapping failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	if (GetLastError() == ERROR_ALREADY_EXISTS)
		printf("creator: the section existed already\n");
	s = (struct shared *)MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
	if (!s) {
		printf("creator: MapViewOfFile failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	snprintf(s->greeting, sizeof(s->greeting), "hello from process %lu",
		 (unsigned long)GetCurrentProcessId());
	InterlockedExchange(&s->state, 1);
	printf("creator: wrote \"%s\" to section \"%s\"\n", s->greeting, name);
	ok = wait_state(s, 2);
	if (ok)
		printf("creator: reader replied \"%s\"\n", s->reply);
	else
		printf("creator: no reply within %d ms\n", TIMEOUT_MS);
	UnmapViewOfFile(s);
	CloseHandle(h);
	return ok ? 0 : 1;
}

static int open_and_read(const char *name)
{
	HANDLE h = NULL;
	struct shared *s;
	int waited;

	/* The creator may not have created it yet. */
	for (waited = 0; waited < TIMEOUT_MS; waited += POLL_MS) {
		h = OpenFileMappingA(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
		if (h || GetLastError() != ERROR_FILE_NOT_FOUND)
			break;
		Sleep(POLL_MS);
	}
	if (!h) {
		printf("reader: OpenFileMapping failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	s = (struct shared *)MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
	if (!s) {
		printf("reader: MapViewOfFile failed: error %lu\n", (unsigned long)GetLastError());
		return 1;
	}
	if (!wait_state(s, 1)) {
		printf("reader: no greeting within %d ms\n", TIMEOUT_MS);
		return 1;
	}
	printf("reader: read \"%s\" from section \"%s\"\n", s->greeting, name);
	snprintf(s->reply, sizeof(s->reply), "thanks from process %lu",
		 (unsigned long)GetCurrentProcessId());
	InterlockedExchange(&s->state, 2);
	UnmapViewOfFile(s);
	CloseHandle(h);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 3 && !strcmp(argv[1], "create"))
		return create(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "open"))
		return open_and_read(argv[2]);
	fprintf(stderr, "usage: %s create|open NAME\n", argv[0]);
	return 2;
}
