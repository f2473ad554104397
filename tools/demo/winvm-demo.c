// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-demo: a short, narrated tour of Windows NT virtual memory on Linux
 * through /dev/winvm.
 *
 *   1. system information (GetSystemInfo)
 *   2. example E1 (docs/windows-rules.md): one page requested at 0x14000 lands at 0x10000
 *   3. reserve versus commit, and an access violation caught in a handler
 *   4. a guard-page stack growing downward, one guard hit per page
 *   5. a tiny JIT: write code, make it EXECUTE_READ, run it
 *   6. a section shared by two processes (fork: the child writes, the
 *      parent reads) and a write-copy third view
 *
 * After each step it prints the winvm-map picture of the allocation
 * (winvm_map_print_allocation() from libwinvm): one row with a strip of
 * one character per page, then one line per VirtualQuery region.  Exit
 * status: 0 when every step behaved as Windows does, 1 when one did not,
 * 2 when /dev/winvm cannot be used at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/winvm.h>
#include <winvm/winvm.h>

#define PAGE	((uint64_t)0x1000)
#define PTR(x)	((void *)(uintptr_t)(x))
#define U64(x)	((uint64_t)(uintptr_t)(x))

static int fd = -1;
static int failures;

/* ------------------------------------------------------------------ */
/* The calls, narrated                                                  */
/* ------------------------------------------------------------------ */

static void check(bool ok, const char *what)
{
	if (!ok) {
		printf("    !! unexpected: %s\n", what);
		failures++;
	}
}

static uint32_t nt_alloc(uint64_t *addr, uint64_t *size, uint32_t type, uint32_t prot)
{
	struct winvm_alloc_args a = {
		.address = *addr, .size = *size, .type = type, .protect = prot,
	};
	char pb[128];

	printf("  NtAllocateVirtualMemory(0x%" PRIx64 ", 0x%" PRIx64 ", %s%s%s, %s)\n",
	       *addr, *size, type & WINVM_MEM_RESERVE ? "MEM_RESERVE" : "",
	       (type & WINVM_MEM_RESERVE) && (type & WINVM_MEM_COMMIT) ? "|" : "",
	       type & WINVM_MEM_COMMIT ? "MEM_COMMIT" : "", winvm_protect_string(prot, pb, sizeof(pb)));
	if (ioctl(fd, WINVM_IOC_MEM_ALLOC, &a) && !a.status)
		a.status = WINVM_STATUS_UNSUCCESSFUL;
	if (a.status == WINVM_STATUS_SUCCESS) {
		printf("    -> %s (0x%08x): base 0x%" PRIx64 ", size 0x%" PRIx64
		       " (0x%" PRIx64 "-0x%" PRIx64 ")\n", winvm_status_name(a.status), a.status,
		       (uint64_t)a.address, (uint64_t)a.size, (uint64_t)a.address,
		       (uint64_t)(a.address + a.size - 1));
		*addr = a.address;
		*size = a.size;
	} else {
		printf("    -> %s (0x%08x), errno %d (%s)\n", winvm_status_name(a.status), a.status,
		       errno, strerror(errno));
	}
	return a.status;
}

static uint32_t nt_protect(uint64_t addr, uint64_t size, uint32_t prot, uint32_t *old)
{
	struct winvm_protect_args p = { .address = addr, .size = size, .protect = prot };
	char pb[128], ob[128];

	if (ioctl(fd, WINVM_IOC_MEM_PROTECT, &p) && !p.status)
		p.status = WINVM_STATUS_UNSUCCESSFUL;
	printf("  NtProtectVirtualMemory(0x%" PRIx64 ", 0x%" PRIx64 ", %s) -> %s (0x%08x), old %s\n",
	       addr, size, winvm_protect_string(prot, pb, sizeof(pb)), winvm_status_name(p.status), p.status,
	       winvm_protect_string(p.old_protect, ob, sizeof(ob)));
	*old = p.old_protect;
	return p.status;
}

static uint32_t nt_release(uint64_t addr)
{
	struct winvm_free_args f = { .address = addr, .type = WINVM_MEM_RELEASE };

	if (ioctl(fd, WINVM_IOC_MEM_FREE, &f) && !f.status)
		f.status = WINVM_STATUS_UNSUCCESSFUL;
	printf("  NtFreeVirtualMemory(0x%" PRIx64 ", 0, MEM_RELEASE) -> %s (0x%08x), freed 0x%" PRIx64 " bytes\n",
	       addr, winvm_status_name(f.status), f.status, (uint64_t)f.size);
	return f.status;
}

static bool query(uint64_t addr, struct winvm_query_args *q)
{
	memset(q, 0, sizeof(*q));
	q->address = addr;
	return ioctl(fd, WINVM_IOC_MEM_QUERY, q) == 0 && q->status == WINVM_STATUS_SUCCESS;
}

/*
 * The winvm-map picture of the allocation at @base (libwinvm's
 * winvm_map_print_allocation(), indented): the allocation's row with its
 * page strip, then one line per VirtualQuery region.
 */
static void print_map(uint64_t base)
{
	struct winvm_query_args q;
	char *text = NULL, *line, *next;
	size_t len = 0;
	FILE *f;

	if (!query(base, &q) || q.state == WINVM_MEM_FREE) {
		printf("    (nothing allocated at 0x%" PRIx64 ")\n", base);
		return;
	}
	f = open_memstream(&text, &len);
	if (!f || winvm_map_print_allocation(f, PTR(base), WINVM_MAP_REGIONS |
					     WINVM_MAP_NOLEGEND) != 1)
		check(false, "winvm_map_print_allocation");
	if (f)
		fclose(f);
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		printf("    %s\n", line);
		if (!next)
			break;
	}
	free(text);
}

/* ------------------------------------------------------------------ */
/* Faults                                                               */
/* ------------------------------------------------------------------ */

static sigjmp_buf jump;
static volatile sig_atomic_t jump_armed;

/* What the handler saw, for printing outside it. */
static struct {
	int count;
	uint64_t fault_addr;
	int fi_errno;
	struct winvm_fault_info_args fi;
	/* The stack demo's guard hits. */
	bool grow;
	uint64_t stack_bottom;
	int hits;
	uint64_t hit_addr[16];
	uint32_t hit_status[16];
	uint32_t commit_status;
} seen;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)sig;
	(void)uc;
	seen.count++;
	seen.fault_addr = U64(si->si_addr);
	memset(&seen.fi, 0, sizeof(seen.fi));
	seen.fi_errno = ioctl(fd, WINVM_IOC_FAULT_INFO, &seen.fi) ? errno : 0;

	if (!seen.fi_errno && seen.fi.fault_status == WINVM_STATUS_GUARD_PAGE_VIOLATION) {
		/* The guard is already gone; returning retries the access. */
		if (seen.grow && seen.hits < 16) {
			uint64_t page = seen.fault_addr & ~(PAGE - 1);
			struct winvm_alloc_args a = {
				.address = page - PAGE, .size = PAGE, .type = WINVM_MEM_COMMIT,
				.protect = WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD,
			};

			seen.hit_addr[seen.hits] = seen.fault_addr;
			seen.hit_status[seen.hits] = seen.fi.fault_status;
			seen.hits++;
			/* Like the NT stack: the page below becomes the new guard. */
			if (page - PAGE >= seen.stack_bottom) {
				ioctl(fd, WINVM_IOC_MEM_ALLOC, &a);
				seen.commit_status = a.status;
			}
		}
		errno = saved;
		return;
	}
	if (jump_armed) {
		jump_armed = 0;
		siglongjmp(jump, 1);
	}
	signal(SIGSEGV, SIG_DFL);	/* not expected: die of it */
	errno = saved;
}

/* Writes one byte; false if the write faulted and the handler jumped back. */
static __attribute__((noinline)) bool try_write(uint64_t addr, uint8_t v)
{
	jump_armed = 1;
	if (sigsetjmp(jump, 1))
		return false;
	*(volatile uint8_t *)PTR(addr) = v;
	jump_armed = 0;
	return true;
}

static const char *access_name(uint32_t access)
{
	switch (access) {
	case WINVM_EXCEPTION_READ_FAULT: return "read";
	case WINVM_EXCEPTION_WRITE_FAULT: return "write";
	case WINVM_EXCEPTION_EXECUTE_FAULT: return "execute";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* The steps                                                            */
/* ------------------------------------------------------------------ */

static void step_info(void)
{
	struct winvm_info_args info;

	printf("\n== 1. GetSystemInfo (WINVM_IOC_INFO_GET)\n");
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, WINVM_IOC_INFO_GET, &info)) {
		printf("  INFO_GET failed: %s\n", strerror(errno));
		failures++;
		return;
	}
	printf("  ABI version %u, page size %u, allocation granularity 0x%x\n",
	       info.abi_version, info.page_size, info.allocation_granularity);
	printf("  application addresses 0x%" PRIx64 " to 0x%" PRIx64 ", large page minimum %" PRIu64 "\n",
	       (uint64_t)info.min_address, (uint64_t)info.max_address,
	       (uint64_t)info.large_page_minimum);
	printf("  features:%s%s%s\n", info.features & WINVM_FEATURE_PRIVATE ? " private-memory" : "",
	       info.features & WINVM_FEATURE_GUARD ? " guard-pages" : "",
	       info.features & WINVM_FEATURE_SECTIONS ? " sections" : "");
	printf("  In the maps below, one character per page: '#' read/write, 'r' read-only,\n"
	       "  'x' executable, 'c' write-copy, 'g' guard, '-' no-access, '.' reserved.\n");
	check(info.page_size == 4096 && info.allocation_granularity == 0x10000,
	      "page size 4096 and granularity 64 KiB");
}

static void step_seed_001(void)
{
	uint64_t a = 0x14000, s = 0x1000, b, bs;
	uint32_t st;

	printf("\n== 2. Example E1 (docs/windows-rules.md): \"ZwAllocateVirtualMemory seems to align allocations on 16 page boundaries\"\n");
	printf("  Ask for one page at 0x14000.  With MEM_RESERVE the base rounds down to the\n"
	       "  64 KiB granule, so the allocation runs from 0x10000 to the end of the page.\n");
	st = nt_alloc(&a, &s, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE);
	if (st != WINVM_STATUS_SUCCESS) {
		check(false, "the allocation at 0x14000 (is vm.mmap_min_addr above 65536?)");
		return;
	}
	check(a == 0x10000 && s == 0x5000, "base 0x10000, size 0x5000");
	print_map(a);

	printf("  0x16000 is free, but it lies in the granule the first allocation started:\n");
	b = 0x16000;
	bs = 0x1000;
	st = nt_alloc(&b, &bs, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE);
	check(st == WINVM_STATUS_CONFLICTING_ADDRESSES, "STATUS_CONFLICTING_ADDRESSES");
	printf("  ...and MEM_COMMIT alone there conflicts too, as the poster found:\n");
	b = 0x16000;
	bs = 0x1000;
	st = nt_alloc(&b, &bs, WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE);
	check(st == WINVM_STATUS_CONFLICTING_ADDRESSES, "STATUS_CONFLICTING_ADDRESSES");

	printf("  Committing inside the allocation works at page granularity:\n");
	b = 0x12000;
	bs = 0x1000;
	st = nt_alloc(&b, &bs, WINVM_MEM_COMMIT, WINVM_PAGE_READONLY);
	check(st == WINVM_STATUS_SUCCESS && b == 0x12000, "commit at 0x12000");
	print_map(a);
	check(nt_release(a) == WINVM_STATUS_SUCCESS, "release");
}

static void step_reserve_commit(void)
{
	uint64_t a = 0, s = 0x10000, b, bs;
	bool ok;

	printf("\n== 3. Reserve versus commit\n");
	printf("  Reserve 64 KiB of address space, then commit only its first two pages.\n");
	if (nt_alloc(&a, &s, WINVM_MEM_RESERVE, WINVM_PAGE_READWRITE) != WINVM_STATUS_SUCCESS) {
		check(false, "reserve 64 KiB");
		return;
	}
	b = a;
	bs = 2 * PAGE;
	check(nt_alloc(&b, &bs, WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE) == WINVM_STATUS_SUCCESS,
	      "commit two pages");
	print_map(a);

	ok = try_write(a + 0x1234, 1);
	printf("  write to 0x%" PRIx64 " (committed): %s\n", a + 0x1234, ok ? "ok" : "faulted");
	check(ok, "committed pages are writable");

	seen.count = 0;
	ok = try_write(a + 0x5678, 1);
	printf("  write to 0x%" PRIx64 " (reserved): %s\n", a + 0x5678,
	       ok ? "succeeded?!" : "SIGSEGV, caught");
	check(!ok, "reserved pages fault");
	if (!ok) {
		printf("    si_addr 0x%" PRIx64 "; FAULT_INFO: ", seen.fault_addr);
		if (seen.fi_errno)
			printf("no record (%s)\n", strerror(seen.fi_errno));
		else
			printf("%s (0x%08x), %s at 0x%" PRIx64 "\n",
			       winvm_status_name(seen.fi.fault_status), seen.fi.fault_status,
			       access_name(seen.fi.access), (uint64_t)seen.fi.address);
		check(seen.fault_addr == a + 0x5678 && !seen.fi_errno &&
		      seen.fi.fault_status == WINVM_STATUS_ACCESS_VIOLATION &&
		      seen.fi.access == WINVM_EXCEPTION_WRITE_FAULT &&
		      seen.fi.address == a + 0x5678,
		      "an access violation (write) at the exact address");
	}
	check(nt_release(a) == WINVM_STATUS_SUCCESS, "release");
}

static void step_guard_stack(void)
{
	uint64_t a = 0, s = 0x10000, top, b, bs;
	const int pages = 5;
	int i;

	printf("\n== 4. A guard-page stack growing downward\n");
	printf("  Reserve 64 KiB, commit the top page, and put a PAGE_GUARD page below it.\n"
	       "  Each first touch of the guard raises one STATUS_GUARD_PAGE_VIOLATION; the\n"
	       "  handler commits the next page down as the new guard and returns, and the\n"
	       "  touch completes.\n");
	if (nt_alloc(&a, &s, WINVM_MEM_RESERVE, WINVM_PAGE_READWRITE) != WINVM_STATUS_SUCCESS) {
		check(false, "reserve the stack");
		return;
	}
	top = a + s;
	b = top - PAGE;
	bs = PAGE;
	check(nt_alloc(&b, &bs, WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE) == WINVM_STATUS_SUCCESS,
	      "commit the top page");
	b = top - 2 * PAGE;
	bs = PAGE;
	check(nt_alloc(&b, &bs, WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD) ==
	      WINVM_STATUS_SUCCESS, "commit the guard page");
	print_map(a);

	seen.grow = true;
	seen.stack_bottom = a;
	seen.hits = 0;
	for (i = 1; i <= pages; i++) {
		/* Touch the top of each page below the first, as a call would. */
		uint64_t addr = top - (uint64_t)(i + 1) * PAGE + 0xff8;
		int before = seen.hits;
		bool ok = try_write(addr, (uint8_t)i);

		printf("  touch 0x%" PRIx64 ": %s", addr, ok ? "ok" : "faulted");
		if (seen.hits > before)
			printf(", guard hit at 0x%" PRIx64 " (%s), new guard at 0x%" PRIx64 ": %s\n",
			       seen.hit_addr[before], winvm_status_name(seen.hit_status[before]),
			       (addr & ~(PAGE - 1)) - PAGE, winvm_status_name(seen.commit_status));
		else
			printf(", no guard hit\n");
		check(ok && seen.hits == before + 1 && seen.hit_addr[before] == addr &&
		      seen.commit_status == WINVM_STATUS_SUCCESS,
		      "exactly one guard hit, at the exact address");
	}
	seen.grow = false;
	print_map(a);
	check(nt_release(a) == WINVM_STATUS_SUCCESS, "release");
}

static void step_jit(void)
{
	static const uint8_t code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 42; ret */
	uint64_t a = 0, s = PAGE;
	uint32_t old = 0;
	int (*fn)(void);
	int r;

	printf("\n== 5. A tiny JIT\n");
	printf("  Commit a PAGE_READWRITE page, write \"mov eax, 42; ret\" into it, make it\n"
	       "  PAGE_EXECUTE_READ and call it.\n");
	if (nt_alloc(&a, &s, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE) !=
	    WINVM_STATUS_SUCCESS) {
		check(false, "commit the code page");
		return;
	}
	memcpy(PTR(a), code, sizeof(code));
	check(nt_protect(a, PAGE, WINVM_PAGE_EXECUTE_READ, &old) == WINVM_STATUS_SUCCESS &&
	      old == WINVM_PAGE_READWRITE, "protect to PAGE_EXECUTE_READ, old PAGE_READWRITE");
	print_map(a);
	fn = (int (*)(void))(uintptr_t)a;
	r = fn();
	printf("  called 0x%" PRIx64 ": returned %d\n", a, r);
	check(r == 42, "the generated code returns 42");
	check(nt_release(a) == WINVM_STATUS_SUCCESS, "release");
}

static void step_sections(void)
{
	static const char child_msg[] = "hello from the child";
	static const char copy_msg[] = "private to the copy view";
	uint64_t v1 = 0, s1 = 0, v3 = 0, s3 = 0;
	NTSTATUS st;
	int sfd = -1, rc;
	pid_t pid;

	printf("\n== 6. A section shared by two processes, and a write-copy view\n");
	printf("  NtCreateSection makes a 64 KiB pagefile-backed section.  A section is a file\n"
	       "  descriptor: fork() hands it to a child, which maps a view of its own.\n");
	st = winvm_section_create(fd, &sfd, 0x10000, NULL, -1, WINVM_PAGE_READWRITE, 0, 0, 0,
				  NULL);
	printf("  NtCreateSection(64 KiB, PAGE_READWRITE, SEC_COMMIT) -> %s (0x%08x)\n",
	       winvm_status_name(st), st);
	if (st == WINVM_STATUS_NOT_IMPLEMENTED) {
		printf("  (this module has no sections yet: step skipped)\n");
		return;
	}
	if (st != WINVM_STATUS_SUCCESS) {
		check(false, "create the section");
		return;
	}
	st = winvm_view_map(fd, sfd, WINVM_FILE_MAP_WRITE, &v1, 0, &s1, 0, 0);
	printf("  NtMapViewOfSection(FILE_MAP_WRITE) in the parent -> %s, view at 0x%" PRIx64 "\n",
	       winvm_status_name(st), v1);
	if (st != WINVM_STATUS_SUCCESS) {
		check(false, "map the parent's view");
		close(sfd);
		return;
	}
	print_map(v1);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* The child's own context: the parent's belongs to the parent's mm. */
		uint64_t cv = 0, cs = 0;

		st = winvm_view_map(winvm_default_fd(), sfd, WINVM_FILE_MAP_WRITE, &cv, 0, &cs,
				    0, 0);
		printf("  [child %d] NtMapViewOfSection -> %s, view at 0x%" PRIx64
		       "; writes \"%s\"\n", (int)getpid(), winvm_status_name(st), cv, child_msg);
		if (st != WINVM_STATUS_SUCCESS)
			_exit(1);
		memcpy(PTR(cv), child_msg, sizeof(child_msg));
		fflush(stdout);
		_exit(0);
	}
	rc = -1;
	if (pid > 0 && waitpid(pid, &rc, 0) == pid)
		rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	check(rc == 0, "the child mapped the section and wrote");
	printf("  [parent] reads its own view: \"%s\"\n", (char *)PTR(v1));
	check(!strcmp(PTR(v1), child_msg), "the parent sees the child's write");

	printf("  A third view, FILE_MAP_COPY: it reads the section until it writes a page;\n"
	       "  then that page is its private copy, and reports PAGE_READWRITE.\n");
	st = winvm_view_map(fd, sfd, WINVM_FILE_MAP_COPY, &v3, 0, &s3, 0, 0);
	printf("  NtMapViewOfSection(FILE_MAP_COPY) -> %s, view at 0x%" PRIx64 "\n",
	       winvm_status_name(st), v3);
	if (st != WINVM_STATUS_SUCCESS) {
		check(false, "map the write-copy view");
	} else {
		printf("  copy view reads \"%s\"\n", (char *)PTR(v3));
		check(!strcmp(PTR(v3), child_msg), "the copy view sees the shared data");
		memcpy(PTR(v3 + 0x2000), copy_msg, sizeof(copy_msg));
		printf("  copy view writes \"%s\" at +0x2000\n", copy_msg);
		printf("  shared view at +0x2000: \"%s\" (untouched)\n", (char *)PTR(v1 + 0x2000));
		check(!*(char *)PTR(v1 + 0x2000), "the write stays private to the copy view");
		print_map(v3);
		check(winvm_view_unmap(fd, v3) == WINVM_STATUS_SUCCESS, "unmap the copy view");
	}
	check(winvm_view_unmap(fd, v1) == WINVM_STATUS_SUCCESS, "unmap the shared view");
	close(sfd);
}

int main(void)
{
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("winvm-demo: Windows NT virtual memory on Linux, through /dev/winvm\n");
	fd = open("/dev/winvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("cannot open /dev/winvm: %s (is the winvm module loaded?)\n", strerror(errno));
		return 2;
	}
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);

	step_info();
	step_seed_001();
	step_reserve_commit();
	step_guard_stack();
	step_jit();
	step_sections();

	if (failures)
		printf("\nwinvm-demo: %d step(s) did not behave as Windows does\n", failures);
	else
		printf("\nwinvm-demo: every step behaved as Windows does\n");
	close(fd);
	return failures ? 1 : 0;
}
