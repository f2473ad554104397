// SPDX-License-Identifier: GPL-2.0
/*
 * Differential scenarios: one Windows program, built with MinGW-w64 and run
 * under Wine on the host, and built with gcc against libwinvm (static) and
 * run in the test guest.  tools/diff/compare.py compares the two outputs
 * line by line (tools/diff/run.sh drives it).
 *
 *   scenario                  the make test suite (fixed scenarios, then
 *                             DIFF_SEEDS seeded ones), between markers
 *   scenario SEED COUNT       COUNT seeded scenarios starting at SEED
 *   scenario SEED COUNT OPS   ... with OPS calls each
 *
 * Every scenario works inside a fixed arena (ARENA, above 4 GiB) with
 * explicit addresses only, and prints every call's result, GetLastError()
 * on failure, VirtualQuery fields and exception records, with addresses
 * relative to the arena ("+1f000"; "0" for NULL, "ext" for an address
 * outside the arena).  The call sequence comes from a PRNG seeded by the
 * scenario number alone and never from a call's result, so one difference
 * does not change which calls follow.  At the end of each scenario
 * everything in the arena is released again.
 *
 * Lines: "S <n>" starts scenario n; "E <n>" ends it.  Every other line is
 * one call, "<op> <args> -> <result>", or "  x <code> <r|w|x> <addr>" for
 * an exception that call raised.
 */
#ifdef _WIN32
#include <windows.h>
#else
#include <winvm/win32.h>
#include <fcntl.h>
#include <unistd.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA		((uintptr_t)0x200000000ull)
#define GRAN		0x10000u
#define NGRAN		8u
#define ARENA_SIZE	((uintptr_t)NGRAN * GRAN)
#define PAGE		0x1000u
#define NNAMES		2	/* named sections: always the same names */
#define NSEC		3
#ifndef DIFF_SEEDS		/* "make stress" builds one with 3000 */
#define DIFF_SEEDS	300	/* seeded scenarios in the default suite */
#endif
#define DIFF_OPS	24	/* calls per seeded scenario */

/* ---- probes: one instruction that may fault, and a way back ---------- */

#ifdef _WIN32
#define A1 "%rcx"
#define A2 "%rdx"
#else
#define A1 "%rdi"
#define A2 "%rsi"
#endif

/*
 * probe_read(p): the byte at p, or -1 if the access faulted for good.
 * probe_write(p, v): 0, or -1.  probe_exec(p): calls p with rax pointing
 * at read-only data (probe_ro), so a page of zeros (add %al,(%rax)) faults
 * at once with a write outside the arena; returns 0, or -1.  The handler
 * sends a faulting probe to probe_fail.
 */
__asm__(".text\n"
	".p2align 4\n"
	".globl probe_read\n"
	".globl probe_read_insn\n"
	"probe_read:\n"
	"probe_read_insn:\n"
	"	movzbl (" A1 "), %eax\n"
	"	ret\n"
	".globl probe_write\n"
	".globl probe_write_insn\n"
	"probe_write:\n"
	"	mov " A2 ", %rax\n"
	"probe_write_insn:\n"
	"	movb %al, (" A1 ")\n"
	"	xor %eax, %eax\n"
	"	ret\n"
	".globl probe_fail\n"
	"probe_fail:\n"
	"	mov $-1, %rax\n"
	"	ret\n"
	".globl probe_exec\n"
	"probe_exec:\n"
	"	mov " A1 ", %r11\n"
	"	lea probe_ro(%rip), %rax\n"
	"	call *%r11\n"
	"	ret\n"
#ifdef _WIN32
	".section .rdata,\"dr\"\n"
#else
	".section .rodata\n"
#endif
	".p2align 12\n"
	"probe_ro:\n"
	"	.fill 4096, 1, 0\n"
	".text\n");

long long probe_read(volatile void *p);
long long probe_write(volatile void *p, long long v);
long long probe_exec(void *p);
extern char probe_read_insn[], probe_write_insn[], probe_fail[];

struct xrec {
	DWORD code;
	ULONG_PTR kind, addr;
};
static struct xrec xlog[8];
static int nx;

static LONG CALLBACK handler(EXCEPTION_POINTERS *ep)
{
	EXCEPTION_RECORD *r = ep->ExceptionRecord;
	CONTEXT *c = ep->ContextRecord;
	uintptr_t rip = (uintptr_t)c->Rip;

	if (r->ExceptionCode != STATUS_GUARD_PAGE_VIOLATION &&
	    r->ExceptionCode != STATUS_ACCESS_VIOLATION)
		return EXCEPTION_CONTINUE_SEARCH;
	if (nx < (int)(sizeof(xlog) / sizeof(xlog[0]))) {
		xlog[nx].code = r->ExceptionCode;
		xlog[nx].kind = r->NumberParameters >= 2 ? r->ExceptionInformation[0] : 99;
		xlog[nx].addr = r->NumberParameters >= 2 ? r->ExceptionInformation[1] : 0;
	}
	nx++;
	if (nx > 6) {			/* a loop: give up on the probe */
		if (rip >= ARENA && rip < ARENA + ARENA_SIZE)
			goto exec_back;
		c->Rip = (uintptr_t)probe_fail;
		return EXCEPTION_CONTINUE_EXECUTION;
	}
	/* A guard is gone once reported: retry the access. */
	if (r->ExceptionCode == STATUS_GUARD_PAGE_VIOLATION)
		return EXCEPTION_CONTINUE_EXECUTION;
	if (rip == (uintptr_t)probe_read_insn || rip == (uintptr_t)probe_write_insn) {
		c->Rip = (uintptr_t)probe_fail;
		return EXCEPTION_CONTINUE_EXECUTION;
	}
	if (rip >= ARENA && rip < ARENA + ARENA_SIZE) {
exec_back:	/* probe_exec's callee faulted on its first instruction */
		c->Rip = *(DWORD64 *)(uintptr_t)c->Rsp;
		c->Rsp += 8;
		c->Rax = (DWORD64)-1;
		return EXCEPTION_CONTINUE_EXECUTION;
	}
	return EXCEPTION_CONTINUE_SEARCH;
}

/* ---- output ----------------------------------------------------------- */

static char abuf[4][24];
static int abi;

/* An address relative to the arena. */
static const char *A(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	char *b = abuf[abi++ & 3];

	if (!a)
		return "0";
	if (a < ARENA || a > ARENA + ARENA_SIZE)
		return "ext";
	snprintf(b, sizeof(abuf[0]), "+%lx", (unsigned long)(a - ARENA));
	return b;
}

static void *P(uintptr_t off)
{
	return (void *)(ARENA + off);
}

static void xflush(void)
{
	int i;

	for (i = 0; i < nx && i < (int)(sizeof(xlog) / sizeof(xlog[0])); i++)
		printf("  x %s %c %s\n",
		       xlog[i].code == STATUS_GUARD_PAGE_VIOLATION ? "guard" :
		       xlog[i].code == STATUS_ACCESS_VIOLATION ? "av" : "?",
		       xlog[i].kind == 0 ? 'r' : xlog[i].kind == 1 ? 'w' :
		       xlog[i].kind == 8 ? 'x' : '?', A((void *)xlog[i].addr));
	nx = 0;
}

static const char *state(DWORD s)
{
	return s == MEM_COMMIT ? "C" : s == MEM_RESERVE ? "R" : s == MEM_FREE ? "F" : "?";
}

static const char *type(DWORD t)
{
	return t == MEM_PRIVATE ? "P" : t == MEM_MAPPED ? "M" : t == MEM_IMAGE ? "I" :
	       t == 0 ? "0" : "?";
}

/* One VirtualQuery; returns the address after the region (clamped to the arena). */
static uintptr_t query(uintptr_t off)
{
	MEMORY_BASIC_INFORMATION m;
	uintptr_t base, end;
	SIZE_T n;

	memset(&m, 0xa5, sizeof(m));
	n = VirtualQuery(P(off), &m, sizeof(m));
	if (!n) {
		printf("q +%lx -> 0 e%lu\n", (unsigned long)off, (unsigned long)GetLastError());
		return ARENA_SIZE;
	}
	base = (uintptr_t)m.BaseAddress;
	end = base + m.RegionSize;
	/* A free region runs on to whatever lies beyond the arena. */
	if (end > ARENA + ARENA_SIZE || end < base)
		end = ARENA + ARENA_SIZE;
	printf("q +%lx -> b=%s ab=%s ap=%lx rs=%lx st=%s pr=%lx ty=%s\n", (unsigned long)off,
	       A(m.BaseAddress), A(m.AllocationBase), (unsigned long)m.AllocationProtect,
	       (unsigned long)(end - base), state(m.State), (unsigned long)m.Protect,
	       type(m.Type));
	return end - ARENA;
}

static void walk(void)
{
	uintptr_t off = 0;

	printf("walk\n");
	while (off < ARENA_SIZE)
		off = query(off);
}

/* ---- the calls -------------------------------------------------------- */

/*
 * The state of the page at @off before a call, e.g. "@CP" (committed,
 * private), "@RM" (reserved, mapped), "@F" (free): it lets
 * tools/diff/wine-deviations.py tell which rule a difference is about.
 */
static const char *at(uintptr_t off)
{
	static char b[4][8];
	static int i;
	MEMORY_BASIC_INFORMATION m;
	char *r = b[i++ & 3];

	if (!VirtualQuery(P(off), &m, sizeof(m)))
		return "@?";
	if (m.State == MEM_FREE)
		return "@F";
	snprintf(r, 8, "@%s%s", state(m.State), type(m.Type));
	return r;
}

static HANDLE sec[NSEC];

/*
 * What the seeded generator knows of each handle, from the calls it made
 * (never from a comparison of the two sides): the section's protection
 * (its low byte) and size, the handle's map rights (SR | SW | SX), the
 * name it was created or opened by (-1: none), and "lax": a create of an
 * existing name that asked for an EXECUTE protection the existing section
 * does not have (see map_call()).  Only used to keep two errors whose order
 * is unsettled out of one call.
 */
#define SR	1
#define SW	2
#define SX	4
static struct sinfo {
	DWORD prot, size, rights;
	int name, lax;
	DWORD unsure;
} sl[NSEC];
static struct {
	DWORD prot, size;
} nm[NNAMES];

static void do_alloc(uintptr_t off, SIZE_T size, DWORD t, DWORD prot)
{
	const char *st = at(off);
	void *r = VirtualAlloc(P(off), size, t, prot);

	printf("a +%lx %lx t=%lx p=%lx %s -> ", (unsigned long)off, (unsigned long)size,
	       (unsigned long)t, (unsigned long)prot, st);
	if (r)
		printf("%s\n", A(r));
	else
		printf("0 e%lu\n", (unsigned long)GetLastError());
}

static void do_free(uintptr_t off, SIZE_T size, DWORD t)
{
	const char *st = at(off);
	BOOL ok = VirtualFree(P(off), size, t);

	printf("f +%lx %lx t=%lx %s -> %d", (unsigned long)off, (unsigned long)size,
	       (unsigned long)t, st, ok ? 1 : 0);
	if (!ok)
		printf(" e%lu", (unsigned long)GetLastError());
	printf("\n");
}

static void do_protect(uintptr_t off, SIZE_T size, DWORD prot)
{
	const char *st = at(off);
	DWORD old = 0xdead;
	BOOL ok = VirtualProtect(P(off), size, prot, &old);

	printf("p +%lx %lx p=%lx %s -> %d", (unsigned long)off, (unsigned long)size,
	       (unsigned long)prot, st, ok ? 1 : 0);
	if (ok)
		printf(" old=%lx\n", (unsigned long)old);
	else
		printf(" e%lu\n", (unsigned long)GetLastError());
}

static void do_read(uintptr_t off)
{
	const char *st = at(off);
	long long v = probe_read(P(off));

	printf("r +%lx %s -> %lld\n", (unsigned long)off, st, v);
	xflush();
}

static void do_write(uintptr_t off, int v)
{
	/* Only ret (0xc3) is ever written at a page's start: see probe_exec. */
	const char *st = at(off);

	if (!(off & (PAGE - 1)))
		v = 0xc3;
	printf("w +%lx %d %s -> %lld\n", (unsigned long)off, v, st, probe_write(P(off), v));
	xflush();
}

static void do_exec(uintptr_t off)
{
	const char *st;

	off &= ~(uintptr_t)(PAGE - 1);
	st = at(off);
	printf("x +%lx %s -> %d\n", (unsigned long)off, st, probe_exec(P(off)) == -1 ? -1 : 0);
	xflush();
}

static void do_section(int i, DWORD prot, DWORD size)
{
	if (sec[i])
		CloseHandle(sec[i]);
	SetLastError(0xdead);
	sec[i] = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, prot, 0, size, NULL);
	printf("s%d p=%lx %lx -> %s e%lu\n", i, (unsigned long)prot, (unsigned long)size,
	       sec[i] ? "h" : "0", (unsigned long)GetLastError());
	sl[i] = (struct sinfo){ prot & 0xff, size, SR | SW | SX, -1, 0, 0 };
}

/*
 * A section over a temporary file of FILE_SIZE bytes, opened for reading,
 * writing and execution (on Linux: O_RDWR, whose access winvm takes for
 * all three).  Each page starts with ret (0xc3, see probe_exec) and holds
 * 0x10 + its page number elsewhere.  The file goes away with its last
 * handle; the file handle is closed once the section holds the file.
 */
#define FILE_SIZE	0x5000u

static HANDLE temp_file(void)
{
	static unsigned int serial;
	unsigned char buf[FILE_SIZE];
	char path[300];
	unsigned int o;
	HANDLE h;
#ifdef _WIN32
	DWORD done = 0;
	char dir[MAX_PATH];

	if (!GetTempPathA(sizeof(dir), dir))
		return NULL;
	snprintf(path, sizeof(path), "%swinvm-diff-%u.tmp", dir, serial++);
	h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE,
			FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
			CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return NULL;
#else
	int fd;

	snprintf(path, sizeof(path), "/tmp/winvm-diff-%d-%u", (int)getpid(), serial++);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	unlink(path);
	h = winvm_handle_from_fd(fd);
#endif
	for (o = 0; o < FILE_SIZE; o++)
		buf[o] = (o & (PAGE - 1)) ? 0x10 + o / PAGE : 0xc3;
#ifdef _WIN32
	if (!WriteFile(h, buf, FILE_SIZE, &done, NULL) || done != FILE_SIZE) {
#else
	if (write(fd, buf, FILE_SIZE) != (ssize_t)FILE_SIZE) {
#endif
		CloseHandle(h);
		return NULL;
	}
	return h;
}

static void do_fsection(int i, DWORD prot, DWORD size)
{
	HANDLE f;

	if (sec[i])
		CloseHandle(sec[i]);
	sec[i] = NULL;
	f = temp_file();
	if (!f) {
		printf("fs%d -> no temporary file\n", i);
		return;
	}
	SetLastError(0xdead);
	sec[i] = CreateFileMappingA(f, NULL, prot, 0, size, NULL);
	printf("fs%d p=%lx %lx -> %s e%lu\n", i, (unsigned long)prot, (unsigned long)size,
	       sec[i] ? "h" : "0", (unsigned long)GetLastError());
	sl[i] = (struct sinfo){ prot & 0xff, size ? size : FILE_SIZE, SR | SW | SX, -1, 0, 0 };
	CloseHandle(f);
}

static void sname(char *b, int n)
{
	snprintf(b, 32, "winvm-diff-name-%d", n);
}

/* The rights a protection asks for (SR, SW, SX); WRITECOPY counts as read. */
static DWORD prot_rights(DWORD prot)
{
	switch (prot & 0xff) {
	case PAGE_READONLY: case PAGE_WRITECOPY:
		return SR;
	case PAGE_READWRITE:
		return SR | SW;
	case PAGE_EXECUTE:
		return SX;
	case PAGE_EXECUTE_READ: case PAGE_EXECUTE_WRITECOPY:
		return SR | SX;
	case PAGE_EXECUTE_READWRITE:
		return SR | SW | SX;
	default:
		return 0;
	}
}

static int xprot(DWORD prot)
{
	return (prot & 0xf0) != 0;
}

static void do_nsection(int i, int n, DWORD prot, DWORD size)
{
	char name[32];
	DWORD err;

	sname(name, n);
	if (sec[i])
		CloseHandle(sec[i]);
	SetLastError(0xdead);
	sec[i] = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, prot, 0, size, name);
	err = GetLastError();
	printf("ns%d n%d p=%lx %lx -> %s e%lu\n", i, n, (unsigned long)prot, (unsigned long)size,
	       sec[i] ? "h" : "0", (unsigned long)err);
	if (sec[i] && err != ERROR_ALREADY_EXISTS) {
		nm[n].prot = prot & 0xff;
		nm[n].size = size;
	}
	/*
	 * An existing name: its section, whatever this call asked for (rule
	 * R92).  Which rights the handle then holds beyond what the protection
	 * asked for is unsettled (Wine grants only those, winvm all, and
	 * docs/windows-rules.md does not say): "unsure" keeps map_call() from
	 * needing them.
	 */
	sl[i] = (struct sinfo){ nm[n].prot, nm[n].size, SR | SW | SX, n,
				err == ERROR_ALREADY_EXISTS && !xprot(nm[n].prot) && xprot(prot),
				err == ERROR_ALREADY_EXISTS ? (SW | SX) & ~prot_rights(prot) : 0 };
}

static void do_open(int i, int n, DWORD access)
{
	char name[32];

	sname(name, n);
	if (sec[i])
		CloseHandle(sec[i]);
	SetLastError(0xdead);
	sec[i] = OpenFileMappingA(access, FALSE, name);
	sl[i] = (struct sinfo){ nm[n].prot, nm[n].size,
				(access & SECTION_MAP_READ ? SR : 0) |
				(access & SECTION_MAP_WRITE ? SW : 0) |
				(access & (SECTION_MAP_EXECUTE | FILE_MAP_EXECUTE) ? SX : 0), n,
				(access & SECTION_MAP_EXECUTE) && !xprot(nm[n].prot), 0 };
	printf("o%d n%d acc=%lx -> ", i, n, (unsigned long)access);
	if (sec[i])
		printf("h\n");
	else
		printf("0 e%lu\n", (unsigned long)GetLastError());
}

static void do_map(int i, DWORD access, DWORD offset, SIZE_T size, uintptr_t off)
{
	const char *st;
	void *r;

	if (!sec[i]) {
		printf("m s%d -> no section\n", i);
		return;
	}
	st = at(off);
	r = MapViewOfFileEx(sec[i], access, 0, offset, size, P(off));
	printf("m s%d acc=%lx o=%lx %lx +%lx %s -> %s", i, (unsigned long)access,
	       (unsigned long)offset, (unsigned long)size, (unsigned long)off, st,
	       r ? A(r) : "0");
	if (!r)
		printf(" e%lu", (unsigned long)GetLastError());
	printf("\n");
}

static void do_unmap(uintptr_t off)
{
	const char *st = at(off);
	BOOL ok = UnmapViewOfFile(P(off));

	printf("u +%lx %s -> %d", (unsigned long)off, st, ok ? 1 : 0);
	if (!ok)
		printf(" e%lu", (unsigned long)GetLastError());
	printf("\n");
}

static void do_close(int i)
{
	if (!sec[i])
		return;
	printf("c s%d -> %d\n", i, CloseHandle(sec[i]) ? 1 : 0);
	sec[i] = NULL;
}

/* Releases everything in the arena; says so if something stays. */
static void cleanup(void)
{
	MEMORY_BASIC_INFORMATION m;
	uintptr_t off;
	int round, i;

	for (i = 0; i < NSEC; i++)
		if (sec[i]) {
			CloseHandle(sec[i]);
			sec[i] = NULL;
		}
	for (round = 0; round < 64; round++) {
		int busy = 0;

		for (off = 0; off < ARENA_SIZE; ) {
			if (!VirtualQuery(P(off), &m, sizeof(m)))
				break;
			if (m.State != MEM_FREE) {
				busy = 1;
				if (m.Type == MEM_MAPPED)
					UnmapViewOfFile(m.AllocationBase);
				else
					VirtualFree(m.AllocationBase, 0, MEM_RELEASE);
			}
			off = (uintptr_t)m.BaseAddress + m.RegionSize - ARENA;
		}
		if (!busy)
			return;
	}
	printf("LEAK: the arena is not free after the scenario\n");
	walk();
}

/* ---- the seeded generator --------------------------------------------- */

static uint64_t rs;

static uint64_t rnd(void)	/* splitmix64 */
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int R(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

#define PICK(a) ((a)[R(sizeof(a) / sizeof((a)[0]))])

static const DWORD private_prots[] = {
	PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_READWRITE, PAGE_READWRITE,
	PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
	PAGE_READWRITE | PAGE_GUARD, PAGE_READONLY | PAGE_GUARD,
};
static const DWORD odd_prots[] = {
	0, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY, PAGE_READONLY | PAGE_READWRITE,
	PAGE_READWRITE | PAGE_NOCACHE,
};
static const DWORD view_prots[] = {
	PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE_READ,
	PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_READWRITE | PAGE_GUARD,
};
static const DWORD sec_prots[] = {
	PAGE_READWRITE, PAGE_READWRITE, PAGE_READONLY, PAGE_WRITECOPY,
	PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_READ,
};
/*
 * Named sections only writable and with valid attributes: with an existing
 * name and an invalid attribute (such as SEC_NOCACHE alone) Wine returns
 * the existing section and winvm the error, which check Windows makes
 * first is unsettled; and winvm refuses to open a section that cannot be
 * written with FILE_MAP_WRITE access where Wine allows it;
 * docs/windows-rules.md says neither what Windows does.
 */
static const DWORD named_prots[] = { PAGE_READWRITE, PAGE_EXECUTE_READWRITE };
static const DWORD named_attrs[] = {
	SEC_COMMIT, SEC_RESERVE, 0, SEC_COMMIT | SEC_NOCACHE, SEC_RESERVE | SEC_NOCACHE,
};
static const DWORD sec_attrs[] = {
	SEC_COMMIT, SEC_COMMIT, SEC_RESERVE, SEC_RESERVE, 0,
	SEC_COMMIT | SEC_NOCACHE, SEC_RESERVE | SEC_NOCACHE, SEC_NOCACHE,
};
/* FILE_MAP_EXECUTE alone: a no-access view (rule R95), also of SEC_NOCACHE. */
static const DWORD accesses[] = {
	FILE_MAP_READ, FILE_MAP_WRITE, FILE_MAP_WRITE, FILE_MAP_COPY, FILE_MAP_COPY,
	FILE_MAP_ALL_ACCESS, FILE_MAP_READ | FILE_MAP_COPY,
	FILE_MAP_READ | FILE_MAP_EXECUTE, FILE_MAP_WRITE | FILE_MAP_EXECUTE,
	FILE_MAP_COPY | FILE_MAP_EXECUTE, FILE_MAP_EXECUTE,
};
/* OpenFileMapping: the handle's rights (rule R97). */
static const DWORD open_accesses[] = {
	FILE_MAP_READ, FILE_MAP_WRITE, FILE_MAP_ALL_ACCESS, FILE_MAP_READ | FILE_MAP_WRITE,
	FILE_MAP_READ | FILE_MAP_EXECUTE, FILE_MAP_EXECUTE,
};

/*
 * Only valid protections in seeded calls: with an invalid one at an address
 * that is also wrong (free, or not committed), Wine reports the address and
 * winvm the protection, and docs/windows-rules.md does not say which check
 * Windows makes first.  The fixed scenarios use odd_prots where only the
 * protection is wrong.
 */
static DWORD any_prot(void)
{
	return PICK(private_prots);
}

/* An address in the arena: mostly a granule's start or a page in it. */
static uintptr_t any_off(void)
{
	uintptr_t g = (uintptr_t)R(NGRAN - 2) * GRAN;

	switch (R(6)) {
	case 0: case 1:
		return g;
	case 2: case 3: case 4:
		return g + R(16) * PAGE;
	default:
		return g + R(16) * PAGE + R(PAGE);
	}
}

static SIZE_T any_size(void)
{
	switch (R(8)) {
	case 0:
		return 0;
	case 1:
		return GRAN;
	case 2:
		return 2 * GRAN;
	case 3:
		return 1 + R(3 * PAGE);
	default:
		return (1 + R(8)) * PAGE;
	}
}

/*
 * VirtualProtect of a range with reserved pages of a view to a protection
 * past the view's access: Wine reports the reserved pages (487), winvm the
 * protection (87), and docs/windows-rules.md (rules R111, R108) does not say
 * which check Windows makes first.  So such a range gets PAGE_NOACCESS,
 * which every view allows (rule R111); each error is still tested on its
 * own (reserved view pages with an allowed protection, committed ones with
 * any).  "Past the access" is judged cautiously: a write-copy view counts
 * as read (and execute) only.  The PRNG is not touched, so the calls that
 * follow do not depend on this.
 */
static DWORD protect_prot(uintptr_t off, SIZE_T size, DWORD prot)
{
	uintptr_t p = off & ~(uintptr_t)(PAGE - 1), end = off + size;
	MEMORY_BASIC_INFORMATION m;
	void *ab = NULL;

	while (p < end && p < ARENA_SIZE) {
		if (!VirtualQuery(P(p), &m, sizeof(m)) || m.State == MEM_FREE ||
		    (ab && m.AllocationBase != ab))
			break;
		ab = m.AllocationBase;
		if (m.Type == MEM_MAPPED && m.State == MEM_RESERVE &&
		    (prot_rights(prot) & ~prot_rights(m.AllocationProtect)))
			return PAGE_NOACCESS;
		p = (uintptr_t)m.BaseAddress + m.RegionSize - ARENA;
	}
	return prot;
}

/*
 * Whether a section surely lets a view of ACCESS be mapped through slot i
 * (rules R95-R97): the handle's rights and the section's protection, and
 * where docs/windows-rules.md is not clear (FILE_MAP_COPY of an
 * EXECUTE_READ section), no.
 */
static DWORD map_needs(DWORD access)
{
	DWORD need = 0;

	if (access & (FILE_MAP_READ | FILE_MAP_COPY) || !(access & FILE_MAP_WRITE))
		need |= SR;		/* a no-access view needs SECTION_MAP_READ too */
	if (access & FILE_MAP_WRITE)
		need |= SW;
	if (access & FILE_MAP_EXECUTE)
		need |= SX;
	return need;
}

static int map_allowed(int i, DWORD access)
{
	const struct sinfo *s = &sl[i];
	DWORD need = map_needs(access), p = s->prot;

	if (need & ~s->rights)
		return 0;
	if ((access & FILE_MAP_WRITE) && p != PAGE_READWRITE && p != PAGE_EXECUTE_READWRITE)
		return 0;
	if ((access & FILE_MAP_EXECUTE) && !xprot(p))
		return 0;
	if ((access & FILE_MAP_COPY) && !(access & FILE_MAP_WRITE) &&
	    p != PAGE_READONLY && p != PAGE_READWRITE && p != PAGE_WRITECOPY &&
	    p != PAGE_EXECUTE_READWRITE && p != PAGE_EXECUTE_WRITECOPY)
		return 0;
	return prot_rights(p) & SR ? 1 : 0;
}

/*
 * A seeded MapViewOfFileEx.  Errors whose order docs/windows-rules.md
 * leaves open never meet in one call, so each is tested on its own:
 *  - a base off the granule and a refused access (Wine reports the
 *    alignment, winvm the access): bases are 64 KiB-aligned;
 *  - an offset at or past the section's end and a refused access (Wine 87,
 *    winvm 5), an occupied base and a refused access (Wine 5, winvm 487):
 *    an access the section may refuse (map_allowed()) gets offset 0 and
 *    size 0 (the whole section), and is made only where the whole view
 *    would fit in free space;
 *  - a view needing rights that a create of an existing name did not ask
 *    for (see do_nsection()) is not mapped at all.
 * A create of an existing name with an EXECUTE protection returns the
 * existing section (rule R92), and a view may not exceed that section's
 * protection (rule R96), nor may one through OpenFileMapping with
 * FILE_MAP_ALL_ACCESS: winvm refuses an EXECUTE view of a section made
 * without execute access, Wine maps one through a handle with
 * SECTION_MAP_EXECUTE (the Wine deviation "existing-name-protection").  Such a view is
 * unmapped at once, so that the difference stays in these two lines.
 */
static void map_call(int i, DWORD access, DWORD o, SIZE_T size, uintptr_t off)
{
	MEMORY_BASIC_INFORMATION m;
	uintptr_t end;

	if (sec[i] && (map_needs(access) & sl[i].unsure))
		return;
	if (sec[i] && !map_allowed(i, access)) {
		o = 0;
		size = 0;
		end = off + ((sl[i].size + PAGE - 1) & ~(uintptr_t)(PAGE - 1));
		if (end > ARENA_SIZE)
			return;
		for (; off < end; off = (uintptr_t)m.BaseAddress + m.RegionSize - ARENA)
			if (!VirtualQuery(P(off), &m, sizeof(m)) || m.State != MEM_FREE)
				return;
		off = end - ((sl[i].size + PAGE - 1) & ~(uintptr_t)(PAGE - 1));
	}
	do_map(i, access, o, size, off);
	if (sec[i] && sl[i].lax && (access & FILE_MAP_EXECUTE))
		do_unmap(off);
}

static void one_call(void)
{
	static const DWORD atypes[] = {
		MEM_RESERVE, MEM_COMMIT, MEM_RESERVE | MEM_COMMIT, MEM_RESERVE | MEM_COMMIT,
		MEM_COMMIT, MEM_RESET,
	};
	uintptr_t off = any_off();
	unsigned int k = R(112);

	if (k < 22) {
		SIZE_T size = any_size();

		do_alloc(off, size ? size : PAGE, PICK(atypes), any_prot());
	} else if (k < 32) {
		do_free(off, R(3) ? any_size() : 0, R(2) ? MEM_DECOMMIT : MEM_RELEASE);
	} else if (k < 44) {
		SIZE_T size = any_size();

		size = size ? size : PAGE;
		do_protect(off, size, protect_prot(off, size, any_prot()));
	} else if (k < 52) {
		query(off);
	} else if (k < 60) {
		do_read(off);
	} else if (k < 70) {
		do_write(off, 1 + R(254));
	} else if (k < 73) {
		do_exec(off);
	} else if (k < 78) {
		do_section(R(NSEC), PICK(sec_prots) | PICK(sec_attrs), (1 + R(20)) * PAGE);
	} else if (k < 88) {
		int i = R(NSEC);
		DWORD o = R(4) ? 0 : GRAN;
		SIZE_T size = R(2) ? 0 : (1 + R(8)) * PAGE;

		map_call(i, PICK(accesses), o, size, off & ~(uintptr_t)(GRAN - 1));
	} else if (k < 94) {
		do_unmap(off);
	} else if (k < 96) {
		do_close(R(NSEC));
	} else if (k < 100) {
		walk();
	} else if (k < 103) {
		do_fsection(R(NSEC), PICK(sec_prots) | PICK(sec_attrs),
			    R(3) ? 0 : (1 + R(8)) * PAGE);
	} else if (k < 106) {
		do_nsection(R(NSEC), R(NNAMES), PICK(named_prots) | PICK(named_attrs),
			    (1 + R(20)) * PAGE);
	} else if (k < 108) {
		do_open(R(NSEC), R(NNAMES), PICK(open_accesses));
	} else {
		/* MEM_RESET where views are, then a look at the data. */
		static const SIZE_T rsizes[] = { PAGE, 2 * PAGE, 3 * PAGE, GRAN };
		uintptr_t g = off & ~(uintptr_t)(GRAN - 1);

		do_alloc(g, PICK(rsizes), MEM_RESET, PAGE_NOACCESS);
		do_read(g + R(3) * PAGE + 8);
	}
}

static void seeded(uint64_t n, unsigned int ops)
{
	unsigned int i;

	rs = n * 0x2545f4914f6cdd1dull + 12345;
	printf("S %llu\n", (unsigned long long)n);
	for (i = 0; i < ops; i++)
		one_call();
	walk();
	cleanup();
	printf("E %llu\n", (unsigned long long)n);
}

/* ---- fixed scenarios: one per area the issue names -------------------- */

static void fixed_private(void)
{
	printf("S private\n");
	do_alloc(0, 4 * GRAN, MEM_RESERVE, PAGE_READWRITE);
	walk();
	do_alloc(0x1000, 0x3000, MEM_COMMIT, PAGE_READWRITE);
	do_alloc(0x10000, 0x2000, MEM_COMMIT, PAGE_EXECUTE_READ);
	walk();
	do_write(0x1010, 7);
	do_write(0x2000, 7);
	do_read(0x1010);
	do_free(0x1000, 0x1000, MEM_DECOMMIT);
	do_read(0x1010);
	do_alloc(0x1000, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	do_read(0x1010);
	do_alloc(0x2000, 0x1000, MEM_RESET, PAGE_NOACCESS);
	query(0x2000);
	do_read(0x2000);
	do_alloc(0x5000, 0x1000, MEM_RESET, PAGE_READWRITE);
	do_free(0x1000, 0, MEM_RELEASE);
	do_free(0, 0x10000, MEM_RELEASE);
	walk();
	do_free(0, 0x1000, MEM_RELEASE);
	do_free(0x10000, 0, MEM_RELEASE);
	do_free(0x10000, 0, MEM_DECOMMIT);
	walk();
	do_free(0x20000, 0, MEM_RELEASE);
	walk();
	do_alloc(0x8000, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	do_alloc(0xa000, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	do_alloc(0x1000, 0x2000, MEM_COMMIT, PAGE_READWRITE);
	walk();
	cleanup();
	printf("E private\n");
}

static void fixed_protect(void)
{
	unsigned int i;

	printf("S protect\n");
	do_alloc(0, 0x10000, MEM_RESERVE | MEM_COMMIT, PAGE_READONLY);
	do_protect(0, 0x8000, PAGE_READWRITE);
	do_protect(0x8000, 0x8000, PAGE_EXECUTE_READWRITE);
	do_protect(0, 0x10000, PAGE_EXECUTE_READ);
	do_protect(0x3000, 0x1000, PAGE_NOACCESS);
	do_protect(0x4000, 0x1000, PAGE_READWRITE | PAGE_GUARD);
	do_protect(0x5000, 0x1000, PAGE_READONLY | PAGE_GUARD);
	do_protect(0x6000, 0x1000, PAGE_EXECUTE_READWRITE | PAGE_GUARD);
	for (i = 0; i < sizeof(odd_prots) / sizeof(odd_prots[0]); i++) {
		do_protect(0x7000, 0x1000, odd_prots[i]);
		do_alloc(0x7000, 0x1000, MEM_COMMIT, odd_prots[i]);
	}
	walk();
	do_read(0x3008);
	do_write(0x3008, 1);
	do_write(0x4010, 2);
	do_read(0x4010);
	do_write(0x4010, 3);
	do_read(0x5020);
	do_write(0x5020, 4);
	do_protect(0x5000, 0x1000, PAGE_READONLY | PAGE_GUARD);
	do_write(0x5020, 5);
	query(0x5000);
	do_write(0x6000, 0xc3);
	do_exec(0x6000);
	do_exec(0x6000);
	do_exec(0x2000);
	do_protect(0x2000, 0x1000, PAGE_READWRITE);
	do_write(0x2000, 0xc3);
	do_exec(0x2000);
	do_protect(0x2000, 0x1000, PAGE_EXECUTE);
	do_exec(0x2000);
	do_read(0x2000);
	do_write(0x2000, 0xc3);
	do_protect(0x2000, 0x1000, PAGE_EXECUTE_READWRITE | PAGE_GUARD);
	do_exec(0x2000);
	walk();
	do_alloc(0x20000, 0x1000, MEM_RESERVE, PAGE_READWRITE);
	do_protect(0x20000, 0x1000, PAGE_READONLY);
	do_read(0x20000);
	do_protect(0x30000, 0x1000, PAGE_READONLY);
	do_protect(0x0f000, 0x2000, PAGE_READONLY);
	do_alloc(0x30000, 0x2000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
	walk();
	do_read(0x31000);
	do_read(0x30000);
	walk();
	cleanup();
	printf("E protect\n");
}

static void fixed_sections(void)
{
	unsigned int i;

	printf("S sections\n");
	do_section(0, PAGE_READWRITE | SEC_COMMIT, 0x3000);
	do_section(1, PAGE_READWRITE | SEC_RESERVE, 0x20000);
	do_section(2, PAGE_READONLY | SEC_COMMIT, 0x2000);
	do_map(0, FILE_MAP_WRITE, 0, 0, 0);
	do_map(0, FILE_MAP_READ, 0, 0x1000, 0x10000);
	do_map(0, FILE_MAP_COPY, 0, 0, 0x20000);
	do_map(0, FILE_MAP_WRITE, 0, 0, 0x21000);
	do_map(0, FILE_MAP_WRITE, 0, 0, 0x20000);
	do_map(0, FILE_MAP_WRITE, 0, 0x4000, 0x30000);
	do_map(0, FILE_MAP_WRITE, 0x10000, 0, 0x30000);
	walk();
	do_write(0x10, 9);
	do_read(0x10010);
	do_read(0x20010);
	do_write(0x20010, 11);
	do_read(0x20010);
	do_read(0x10);
	do_read(0x10010);
	walk();
	do_write(0x10010, 1);
	do_protect(0x10000, 0x1000, PAGE_READWRITE);
	do_protect(0x10000, 0x1000, PAGE_WRITECOPY);
	do_protect(0x10000, 0x1000, PAGE_NOACCESS);
	do_protect(0x1000, 0x1000, PAGE_READONLY | PAGE_GUARD);
	do_protect(0x2000, 0x1000, PAGE_EXECUTE_READ);
	do_read(0x1000);
	do_read(0x1000);
	for (i = 0; i < sizeof(view_prots) / sizeof(view_prots[0]); i++) {
		do_protect(0x10000, 0x1000, view_prots[i]);
		do_protect(0x22000, 0x1000, view_prots[i]);
	}
	do_protect(0x21000, 0x2000, PAGE_WRITECOPY);
	do_protect(0x20000, 0x3000, PAGE_READWRITE);
	do_free(0, 0x1000, MEM_DECOMMIT);
	do_free(0, 0, MEM_RELEASE);
	do_alloc(0, 0x1000, MEM_COMMIT, PAGE_READONLY);
	do_alloc(0, 0x1000, MEM_RESET, PAGE_READWRITE);
	do_read(0x10);
	walk();
	do_map(1, FILE_MAP_WRITE, 0, 0, 0x40000);
	do_map(1, FILE_MAP_READ, 0x10000, 0, 0x60000);
	do_map(1, FILE_MAP_ALL_ACCESS, 0, 0x20000, 0x70000);
	walk();
	do_read(0x40000);
	do_alloc(0x40000, 0x2000, MEM_COMMIT, PAGE_READWRITE);
	do_alloc(0x51000, 0x1000, MEM_COMMIT, PAGE_READONLY);
	do_alloc(0x43000, 0x1000, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
	do_alloc(0x44000, 0x1000, MEM_COMMIT, PAGE_WRITECOPY);
	do_write(0x40000, 0xc3);
	do_write(0x41008, 5);
	do_read(0x51000);
	do_free(0x40000, 0x1000, MEM_DECOMMIT);
	walk();
	do_unmap(0x40000);
	do_read(0x60000);
	do_read(0x61000);
	do_map(2, FILE_MAP_WRITE, 0, 0, 0x40000);
	do_map(2, FILE_MAP_COPY, 0, 0, 0x40000);
	do_write(0x41000, 3);
	do_read(0x41000);
	query(0x40000);
	query(0x41000);
	do_map(2, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, 0x50000);
	do_unmap(0x50000 + 0x1234);
	do_unmap(0x50000);
	do_unmap(0x8000);
	do_close(0);
	do_read(0x10);
	query(0x10);
	do_unmap(0x10);
	do_read(0x10);
	walk();
	cleanup();
	printf("E sections\n");
}

/*
 * Rule R95: FILE_MAP_EXECUTE with no READ, WRITE or COPY bit maps a
 * PAGE_NOACCESS view, whatever the section's protection.
 */
static void fixed_exec_only(void)
{
	static const DWORD prots[] = {
		PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
		PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY,
	};
	static const DWORD attrs[] = { SEC_COMMIT, SEC_RESERVE };
	unsigned int i, j;

	printf("S execview\n");
	/* j: named pagefile-backed SEC_COMMIT, SEC_RESERVE; file-backed. */
	for (i = 0; i < sizeof(prots) / sizeof(prots[0]); i++)
		for (j = 0; j < 4; j++) {
			if (j < 2)
				do_nsection(0, 0, prots[i] | attrs[j], 0x2000);
			else
				do_fsection(0, prots[i] | attrs[j - 2], 0x2000);
			do_map(0, FILE_MAP_EXECUTE, 0, 0, 0);
			query(0);
			do_read(0x10);
			do_write(0x1010, 1);
			do_exec(0);
			/*
			 * Not on the reserved pages of a SEC_RESERVE view: there
			 * Wine reports them reserved and winvm the protection,
			 * and docs/windows-rules.md does not say which check
			 * Windows makes first.
			 */
			if (j != 1)
				do_protect(0, 0x1000, PAGE_READONLY);
			do_protect(0, 0x1000, PAGE_NOACCESS);
			do_alloc(0, 0x1000, MEM_COMMIT, PAGE_READONLY);
			do_unmap(0);
			if (j >= 2)
				continue;
			/*
			 * A handle that may only execute opens, but maps no
			 * view, not even a no-access one: that needs
			 * SECTION_MAP_READ (rule R95).
			 */
			do_open(1, 0, FILE_MAP_EXECUTE);
			do_map(1, FILE_MAP_EXECUTE, 0, 0, 0x10000);
			do_map(1, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, 0x10000);
			do_close(1);
		}
	/* SEC_NOCACHE: the no-access view keeps PAGE_NOCACHE (rule R116). */
	for (j = 0; j < 2; j++) {
		do_section(0, PAGE_READWRITE | attrs[j] | SEC_NOCACHE, 0x2000);
		do_map(0, FILE_MAP_EXECUTE, 0, 0, 0);
		query(0);
		do_read(0x10);
		if (j == 0)
			do_protect(0, 0x1000, PAGE_READONLY);
		do_protect(0, 0x1000, PAGE_NOACCESS);
		do_unmap(0);
	}
	do_close(0);
	cleanup();
	printf("E execview\n");
}

/*
 * Rule R10, example E1: a NULL-base allocation or view smaller than a
 * granule starts on one, and the rest of its granule is free and part of
 * no allocation.  Only facts that do not depend on the layout are printed:
 * the base modulo 64 KiB, and queries relative to the base, the regions
 * clipped to the granule's end.
 */
static void granule_facts(const char *what, void *v, SIZE_T size)
{
	uintptr_t b = (uintptr_t)v, end, gend, o;
	MEMORY_BASIC_INFORMATION m;

	printf("%s %lx -> %s", what, (unsigned long)size, v ? "ok" : "0");
	if (!v) {
		printf(" e%lu\n", (unsigned long)GetLastError());
		return;
	}
	end = (b + size + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	gend = (end + GRAN - 1) & ~(uintptr_t)(GRAN - 1);
	printf(" base%%g=%lx\n", (unsigned long)(b % GRAN));
	for (o = b; o < gend; ) {
		uintptr_t rend;

		if (!VirtualQuery((void *)o, &m, sizeof(m))) {
			printf("  q base+%lx -> 0 e%lu\n", (unsigned long)(o - b),
			       (unsigned long)GetLastError());
			return;
		}
		rend = (uintptr_t)m.BaseAddress + m.RegionSize;
		if (rend > gend || rend <= o)
			rend = gend;
		printf("  q base+%lx -> b=base+%lx ab=%s ap=%lx rs=%lx st=%s pr=%lx ty=%s\n",
		       (unsigned long)(o - b), (unsigned long)((uintptr_t)m.BaseAddress - b),
		       !m.AllocationBase ? "0" : (uintptr_t)m.AllocationBase == b ? "base" : "other",
		       (unsigned long)m.AllocationProtect, (unsigned long)(rend - o),
		       state(m.State), (unsigned long)m.Protect, type(m.Type));
		o = rend;
	}
	if (end < gend) {
		/* The free rest still belongs to the granule (E1): no room there. */
		void *r = VirtualAlloc((void *)end, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);

		printf("  a base+%lx rc -> %s", (unsigned long)(end - b), r ? "ok" : "0");
		if (r) {
			printf(" at base+%lx\n", (unsigned long)((uintptr_t)r - b));
			VirtualFree(r, 0, MEM_RELEASE);
		} else {
			printf(" e%lu\n", (unsigned long)GetLastError());
		}
		r = VirtualAlloc((void *)end, PAGE, MEM_COMMIT, PAGE_READWRITE);
		printf("  a base+%lx c -> %s", (unsigned long)(end - b), r ? "ok" : "0");
		if (r) {
			printf(" at base+%lx\n", (unsigned long)((uintptr_t)r - b));
			VirtualFree(r, 0, MEM_RELEASE);
		} else {
			printf(" e%lu\n", (unsigned long)GetLastError());
		}
	}
}

static void fixed_null_base(void)
{
	static const SIZE_T sizes[] = {
		0x1000, 0x1800, 0x3000, 0x8000, 0xf000, 0xffff, 0x10000, 0x11000, 0x1f001,
	};
	static const DWORD types[] = { MEM_RESERVE, MEM_RESERVE | MEM_COMMIT, MEM_COMMIT };
	static const DWORD ssizes[] = { 0x1000, 0x3000, 0x9000, 0x11000 };
	char what[48];
	unsigned int i, j;
	void *v, *w;
	BOOL ok;

	printf("S nullbase\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
			v = VirtualAlloc(NULL, sizes[i], types[j], PAGE_READWRITE);
			snprintf(what, sizeof(what), "na t=%lx", (unsigned long)types[j]);
			granule_facts(what, v, sizes[i]);
			if (v) {
				ok = VirtualFree(v, 0, MEM_RELEASE);
				printf("  f base -> %d\n", ok ? 1 : 0);
			}
		}
	/* Two small allocations never share a granule. */
	v = VirtualAlloc(NULL, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	w = VirtualAlloc(NULL, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	printf("na twice -> %d %d same granule %d\n", v != NULL, w != NULL,
	       v && w && ((uintptr_t)v & ~(uintptr_t)(GRAN - 1)) ==
			 ((uintptr_t)w & ~(uintptr_t)(GRAN - 1)));
	if (v)
		VirtualFree(v, 0, MEM_RELEASE);
	if (w)
		VirtualFree(w, 0, MEM_RELEASE);
	for (i = 0; i < sizeof(ssizes) / sizeof(ssizes[0]); i++)
		for (j = 0; j < 2; j++) {
			DWORD attr = j ? SEC_RESERVE : SEC_COMMIT;
			SIZE_T vs;

			do_section(0, PAGE_READWRITE | attr, ssizes[i]);
			/* The whole section, then one page of it. */
			for (vs = 0; vs <= PAGE; vs += PAGE) {
				v = MapViewOfFile(sec[0], FILE_MAP_WRITE, 0, 0, vs);
				snprintf(what, sizeof(what), "nm s0 %lx", (unsigned long)vs);
				granule_facts(what, v, vs ? vs : ssizes[i]);
				if (v) {
					ok = UnmapViewOfFile(v);
					printf("  u base -> %d\n", ok ? 1 : 0);
				}
			}
			do_close(0);
		}
	/* A view and an allocation of a page each: two granules. */
	do_section(0, PAGE_READWRITE | SEC_COMMIT, 0x1000);
	v = MapViewOfFile(sec[0], FILE_MAP_READ, 0, 0, 0);
	w = VirtualAlloc(NULL, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	printf("nm+na -> %d %d same granule %d\n", v != NULL, w != NULL,
	       v && w && ((uintptr_t)v & ~(uintptr_t)(GRAN - 1)) ==
			 ((uintptr_t)w & ~(uintptr_t)(GRAN - 1)));
	if (v)
		UnmapViewOfFile(v);
	if (w)
		VirtualFree(w, 0, MEM_RELEASE);
	do_close(0);
	cleanup();
	printf("E nullbase\n");
}

/*
 * Rules R92, R96: a create of an existing name returns the existing
 * section, whatever protection it asked for, and views of it are limited
 * by that section's protection.
 */
static void fixed_existing_name(void)
{
	printf("S existingname\n");
	do_nsection(0, 0, PAGE_READWRITE | SEC_COMMIT, 0x2000);
	do_nsection(1, 0, PAGE_EXECUTE_READWRITE | SEC_COMMIT, 0x3000);
	do_map(1, FILE_MAP_WRITE, 0, 0, 0);
	query(0);
	do_unmap(0);
	do_map(1, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, 0);
	do_unmap(0);
	do_map(1, FILE_MAP_WRITE | FILE_MAP_EXECUTE, 0, 0, 0);
	do_unmap(0);
	do_map(1, FILE_MAP_READ, 0, 0x3000, 0);		/* its size too (rule R103) */
	walk();
	cleanup();
	printf("E existingname\n");
}

static int start(void)
{
	void *a;

	if (!AddVectoredExceptionHandler(1, handler)) {
		printf("FATAL: AddVectoredExceptionHandler failed\n");
		return -1;
	}
	/* The arena must be free: reserve it once to be sure. */
	a = VirtualAlloc(P(0), ARENA_SIZE, MEM_RESERVE, PAGE_NOACCESS);
	if (a != P(0) || !VirtualFree(a, 0, MEM_RELEASE)) {
		printf("FATAL: the arena at %#llx is not free (%p, error %lu)\n",
		       (unsigned long long)ARENA, a, (unsigned long)GetLastError());
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long seed, count, n;
	unsigned int ops = DIFF_OPS;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (start())
		return 1;
	if (argc >= 3) {
		seed = strtoull(argv[1], NULL, 0);
		count = strtoull(argv[2], NULL, 0);
		if (argc >= 4)
			ops = (unsigned int)strtoul(argv[3], NULL, 0);
		for (n = seed; n < seed + count; n++)
			seeded(n, ops);
		fflush(stdout);
		return 0;
	}
	printf("WINVM-DIFF-BEGIN\n");
	fixed_private();
	fixed_protect();
	fixed_sections();
	fixed_exec_only();
	fixed_existing_name();
	fixed_null_base();
	for (n = 0; n < DIFF_SEEDS; n++)
		seeded(n, ops);
	printf("WINVM-DIFF-END\n");
	fflush(stdout);
	return 0;
}
