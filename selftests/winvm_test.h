/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the winvm selftests.
 *
 * Every test binary includes this header once and links winvm_test.o,
 * which holds the helper functions and the state they share (declared
 * here, defined once there).  Together they provide:
 *  - the "winvm" fixture: opens /dev/winvm (SKIP when the device is absent)
 *    and installs the SIGSEGV/SIGBUS handler used for fault probing;
 *  - thin ioctl wrappers that return the NTSTATUS and leave errno in
 *    wv_errno, plus ASSERT_NT(), which checks both against the errno
 * *    mapping documented in <linux/winvm.h> (tools/include/winvm-abi.h);
 *  - sigsetjmp-based probes (wv_try_read/write/call), in the style of
 *    mainline tools/testing/selftests/mm/guard-regions.c;
 *  - small address-space utilities (holes, /proc/self/maps, RSS);
 *  - section and view wrappers and the memory kinds of the variant suites
 *    (wv_region_new()).
 *
 * What must expand in the test itself stays a macro here: the ASSERT_*()
 * forms (they bail out through the harness's _metadata) and the "winvm"
 * fixture (the harness registers it per binary).  winvm_test.c does not
 * include the harness; it formats messages that the macros TH_LOG().
 */
#ifndef WINVM_TEST_H
#define WINVM_TEST_H

#include <errno.h>
#include <grp.h>
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
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/winvm.h>

#include "../tools/include/winvm-abi.h"
#include "wv_proc.h"

/*
 * The 6.12 harness's TEST_F() wrapper keeps a local across setjmp(), which
 * -Wextra reports as -Wclobbered in every test; the harness is used as
 * shipped, so that one warning is silenced for the whole file.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
/*
 * winvm_test.c defines WINVM_TEST_LIB: it does without the harness, which
 * has non-static symbols of its own and must be in each binary once.
 */
#ifndef WINVM_TEST_LIB
/* Its SIGALRM handler also has an unused parameter. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#endif

#define WV_DEV		"/dev/winvm"
#define WV_PAGE		0x1000ULL
#define WV_GRAN		0x10000ULL
#define WV_MIN_ADDR	0x10000ULL
#define WV_MAX_ADDR	0x7ffffffeffffULL

/* Short names for the constants used all over the tests. */
#define NOACCESS	WINVM_PAGE_NOACCESS
#define RO		WINVM_PAGE_READONLY
#define RW		WINVM_PAGE_READWRITE
#define WCOPY		WINVM_PAGE_WRITECOPY
#define EX		WINVM_PAGE_EXECUTE
#define EXR		WINVM_PAGE_EXECUTE_READ
#define EXRW		WINVM_PAGE_EXECUTE_READWRITE
#define EXWCOPY		WINVM_PAGE_EXECUTE_WRITECOPY
#define GUARD		WINVM_PAGE_GUARD
#define NOCACHE		WINVM_PAGE_NOCACHE
#define WCOMBINE	WINVM_PAGE_WRITECOMBINE

#define COMMIT		WINVM_MEM_COMMIT
#define RESERVE		WINVM_MEM_RESERVE
#define DECOMMIT	WINVM_MEM_DECOMMIT
#define RELEASE		WINVM_MEM_RELEASE

#define ST_OK		WINVM_STATUS_SUCCESS

#define wv_barrier()	__asm__ __volatile__("" ::: "memory")
#define U64(x)		((uint64_t)(uintptr_t)(x))
#define PTR(x)		((void *)(uintptr_t)(x))

/* ------------------------------------------------------------------ */
/* ioctl wrappers                                                       */
/* ------------------------------------------------------------------ */

/* errno of this thread's last wrapper call, 0 when the ioctl returned 0. */
extern __thread int wv_errno;

#define WV_GARBAGE32	WINVM_ABI_UNWRITTEN

uint32_t wv_info(int fd, struct winvm_info_args *info);

/* NtAllocateVirtualMemory: *addr and *size are in/out. */
uint32_t wv_alloc(int fd, uint64_t *addr, uint64_t *size, uint64_t zero_bits,
		  uint32_t type, uint32_t prot);

/* NtFreeVirtualMemory: *addr and *size are in/out. */
uint32_t wv_free(int fd, uint64_t *addr, uint64_t *size, uint32_t type);

/* NtProtectVirtualMemory: *addr and *size are in/out; @old may be NULL. */
uint32_t wv_protect(int fd, uint64_t *addr, uint64_t *size, uint32_t prot, uint32_t *old);

/* NtQueryVirtualMemory; every output field starts as 0xcc garbage. */
uint32_t wv_query(int fd, uint64_t addr, struct winvm_query_args *q);

uint32_t wv_fault_info(int fd, struct winvm_fault_info_args *fi);

/* Convenience forms that drop the outputs. */
uint32_t wv_alloc_at(int fd, uint64_t addr, uint64_t size, uint32_t type, uint32_t prot);

uint32_t wv_free_at(int fd, uint64_t addr, uint64_t size, uint32_t type);

uint32_t wv_protect_at(int fd, uint64_t addr, uint64_t size, uint32_t prot);

/* ------------------------------------------------------------------ */
/* Assertions                                                           */
/* ------------------------------------------------------------------ */

/* Room for one failure message of the checks below. */
#define WV_MSG_LEN	768

/*
 * Whether @call's result @got (with errno @err) is exactly @want and the
 * errno the ABI maps @want to; if not, a message for TH_LOG() in @msg.
 */
bool wv_nt_explain(const char *call, uint32_t want, uint32_t got, int err,
		   char *msg, size_t len);

#define __WV_NT_CHECK(expected, call, __what)					\
	({ uint32_t __wv_got = (call);						\
	   char __wv_msg[WV_MSG_LEN];						\
	   bool __wv_ok = wv_nt_explain(__what, (uint32_t)(expected), __wv_got,\
					wv_errno, __wv_msg, sizeof(__wv_msg));	\
	   if (!__wv_ok)							\
		TH_LOG("line %d: %s", __LINE__, __wv_msg);			\
	   __wv_ok; })

/*
 * ASSERT_NT(expected status, wrapper call): the call must produce exactly
 * that NTSTATUS and the errno the ABI maps it to (0 on success).  Like the
 * harness's own ASSERT_*(), it may be followed by TH_LOG(...).
 */
#define ASSERT_NT(expected, call)	ASSERT_TRUE(__WV_NT_CHECK(expected, call, #call))

#define ASSERT_OK(call)		ASSERT_NT(ST_OK, call)

/* Numeric equality, logged in hex (addresses, sizes, protections). */
#define ASSERT_HEX(expected, seen)						\
	ASSERT_TRUE(({ uint64_t __wv_he = (uint64_t)(expected);		\
		       uint64_t __wv_hs = (uint64_t)(seen);			\
		       if (__wv_he != __wv_hs)					\
				TH_LOG("line %d: %s == 0x%" PRIx64		\
				       ", expected %s == 0x%" PRIx64,		\
				       __LINE__, #seen, __wv_hs, #expected,	\
				       __wv_he);				\
		       __wv_he == __wv_hs; }))

/* Value meaning "don't check this field" in ASSERT_VQ(). */
#define ANY	((uint64_t)~0ULL)

/* A MEM_QUERY result as one line of text. */
void wv_query_str(const struct winvm_query_args *q, char *buf, size_t len);

/* What ASSERT_VQ() expects: fields of a MEM_QUERY result, ANY = unchecked. */
struct wv_vq_want {
	uint64_t base, abase, aprot, region, state, prot, type;
};

/*
 * Queries @addr and compares the result with @want; if they differ (or the
 * query fails), a message for TH_LOG() in @msg.
 */
bool wv_vq_explain(int fd, uint64_t addr, const struct wv_vq_want *want,
		   char *msg, size_t len);

/*
 * ASSERT_VQ(fd, addr, base, allocation_base, allocation_protect,
 *	     region_size, state, protect, type): the Wine tests' VQ tuple.
 */
#define ASSERT_VQ(fd, addr, base, abase, aprot, region, state, prot, type)	\
	ASSERT_TRUE(({								\
		struct wv_vq_want __wv_w = {					\
			U64(base), U64(abase), (uint64_t)(aprot),		\
			(uint64_t)(region), (uint64_t)(state),			\
			(uint64_t)(prot), (uint64_t)(type),			\
		};								\
		char __wv_msg[WV_MSG_LEN];					\
		bool __wv_ok = wv_vq_explain(fd, U64(addr), &__wv_w,		\
					     __wv_msg, sizeof(__wv_msg));	\
		if (!__wv_ok)							\
			TH_LOG("line %d: %s", __LINE__, __wv_msg);		\
		__wv_ok;							\
	}))

/* A query that must succeed; the result lands in *q. */
#define ASSERT_QUERY(fd, addr, q)						\
	ASSERT_TRUE(({								\
		uint32_t __wv_qst = wv_query(fd, U64(addr), q);			\
		int __wv_qerr = wv_errno;					\
		char __wv_qs[WV_MSG_LEN];					\
		if (__wv_qst != ST_OK) {					\
			wv_query_str(q, __wv_qs, sizeof(__wv_qs));		\
			TH_LOG("line %d: %s", __LINE__, __wv_qs);		\
		}								\
		wv_errno = __wv_qerr;						\
		__WV_NT_CHECK(ST_OK, __wv_qst, "query " #addr);			\
	}))

/* Allocation that must succeed; returns the base address. */
#define wv_must_alloc(fd, addr, size, type, prot)				\
	({ uint64_t __wv_aa = U64(addr), __wv_as = (size);			\
	   uint32_t __wv_at = (type), __wv_ap = (prot);				\
	   uint32_t __wv_ast = wv_alloc(fd, &__wv_aa, &__wv_as, 0, __wv_at,	\
					__wv_ap);				\
	   ASSERT_NT(ST_OK, __wv_ast)						\
		TH_LOG("alloc(0x%" PRIx64 ", 0x%" PRIx64 ", type 0x%x, prot 0x%x)",\
		       U64(addr), (uint64_t)(size), __wv_at, __wv_ap);		\
	   ASSERT_NE(0ULL, __wv_aa);						\
	   ASSERT_NE(0ULL, __wv_as);						\
	   __wv_aa; })

/* ------------------------------------------------------------------ */
/* Fault probing                                                        */
/* ------------------------------------------------------------------ */

/*
 * State shared with the SIGSEGV/SIGBUS handler.  The handler counts the
 * signal, records si_addr, reads the module's fault record (FAULT_INFO)
 * when wv_fault.fd is set, optionally queries si_addr, and then:
 *  - returns, so the access is re-executed, when the hook asks for it or
 *    when the record says STATUS_GUARD_PAGE_VIOLATION and retry_guard is
 *    set (the guard is already cleared, so the retry succeeds);
 *  - otherwise siglongjmp()s back into the armed probe;
 *  - with no probe armed, restores SIG_DFL and returns, so the process
 *    dies of the fault and the harness reports it.
 */
struct wv_fault_state {
	volatile sig_atomic_t armed;
	volatile int count;
	volatile int signo;
	volatile uint64_t addr;
	int fd;
	bool retry_guard;
	bool query;
	bool (*hook)(const siginfo_t *si);
	volatile int fi_err;		/* 0: fi is valid; else errno of FAULT_INFO */
	struct winvm_fault_info_args fi;
	volatile uint32_t q_status;
	struct winvm_query_args q;
};

extern struct wv_fault_state wv_fault;
extern sigjmp_buf wv_jmp;

/* A handler that keeps firing means a guard that is never cleared. */
#define WV_MAX_FAULTS	100000

void wv_fault_reset(void);

void wv_fault_handler(int sig, siginfo_t *si, void *uc);

/*
 * Per-thread alternate signal stack, so a fault with a bad stack pointer
 * (e.g. on a guard page of a winvm "thread stack") can still be handled.
 */
void wv_altstack(void);

void wv_fault_install(int fd);

/*
 * Probes: true when the access completed (possibly after a guard-page
 * signal whose handler returned), false when it faulted and the handler
 * jumped back.  wv_fault says what happened; call wv_fault_reset() first.
 */
bool wv_try_read(const void *p, uint8_t *val);

bool wv_try_write(void *p, uint8_t val);

bool wv_try_call(const void *code, int *ret);

/* x86-64: mov eax, 42; ret */
extern const uint8_t wv_ret42[6];

/* ------------------------------------------------------------------ */
/* Address-space utilities                                              */
/* ------------------------------------------------------------------ */

/*
 * A 64K-aligned address with @size free bytes, fenced on both sides by
 * PROT_NONE Linux mappings (at least 64K each) that stay mapped: the free
 * range's neighbours are known, nothing can merge into it, and it shares
 * no 64K granule with anything else.  Returns 0 on failure.
 */
uint64_t wv_fenced_hole(uint64_t size);

#define ASSERT_HOLE(var, size) do {						\
	var = wv_fenced_hole(size);						\
	ASSERT_NE(0ULL, var) TH_LOG("no hole of 0x%llx bytes", (unsigned long long)(size)); \
} while (0)

/* Page i of the 64K at @a gets the 32-bit word @magic + i. */
void wv_fill(uint64_t a, uint32_t magic);

/*
 * A 64K allocation in a fenced hole, committed RW, page i holding the
 * 32-bit word @magic + i, so a test can tell later whether any page lost
 * or changed its data (wv_filled_intact()).
 */
#define wv_must_filled(fd, magic)						\
	({ uint64_t __wv_fh, __wv_fa;						\
	   uint32_t __wv_fm = (magic);						\
	   ASSERT_HOLE(__wv_fh, WV_GRAN);					\
	   __wv_fa = wv_must_alloc(fd, __wv_fh, WV_GRAN, RESERVE | COMMIT, RW);\
	   ASSERT_HEX(__wv_fh, __wv_fa);					\
	   wv_fill(__wv_fa, __wv_fm);						\
	   __wv_fa; })

bool wv_filled_intact(uint64_t a, uint32_t magic);

/* Number of /proc/self/maps lines that overlap [start, end). */
int wv_maps_lines(uint64_t start, uint64_t end);

/* Resident pages of this process (/proc/self/statm, second field). */
long wv_rss_pages(void);

/* Write @text to the sysfs/procfs file @path; false (errno set) if refused. */
bool wv_write_file(const char *path, const char *text);

/* A field of /proc/self/smaps_rollup in kB, -1 if absent. */
long wv_rollup_kb(const char *field);


/* For forked children, which report through their exit status. */
#define CHILD_CHECK(fails, cond) do {						\
	if (!(cond)) {								\
		fprintf(stderr, "# child %d: %s:%d: check failed: %s\n",	\
			getpid(), __FILE__, __LINE__, #cond);			\
		(fails)++;							\
	}									\
} while (0)

#define WV_NOBODY	65534

/*
 * In a child: become uid and gid 65534 for good, with no supplementary
 * groups and, as checked, no capability left (the unprivileged caller of
 * the threat model).  0 on success.
 */
int wv_drop_to_nobody(void);

#ifndef WINVM_TEST_LIB
/* ------------------------------------------------------------------ */
/* The fixture                                                          */
/* ------------------------------------------------------------------ */

/*
 * Each test runs in its own process (the harness forks), so the context is
 * opened there: a context belongs to the address space that opened it.
 */
FIXTURE(winvm) {
	int fd;
};

FIXTURE_SETUP(winvm)
{
	self->fd = open(WV_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))
		SKIP(return, "no %s (%s): winvm module not loaded", WV_DEV, strerror(errno));
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", WV_DEV, strerror(errno));
	wv_fault_install(self->fd);
}

FIXTURE_TEARDOWN(winvm)
{
	if (self->fd >= 0)
		close(self->fd);
}

#endif /* !WINVM_TEST_LIB */

/* ------------------------------------------------------------------ */
/* Sections and views                                                   */
/* ------------------------------------------------------------------ */

#define WV_MAPPED	WINVM_MEM_MAPPED
#define SEC_FILE	WINVM_SEC_FILE
#define SEC_IMAGE	WINVM_SEC_IMAGE
#define SEC_RESERVE	WINVM_SEC_RESERVE
#define SEC_COMMIT	WINVM_SEC_COMMIT
#define SEC_NOCACHE	WINVM_SEC_NOCACHE
#define SEC_WCOMBINE	WINVM_SEC_WRITECOMBINE
#define SEC_LARGE	WINVM_SEC_LARGE_PAGES
#define MAP_R		WINVM_FILE_MAP_READ
#define MAP_W		WINVM_FILE_MAP_WRITE
#define MAP_C		WINVM_FILE_MAP_COPY
#define MAP_X		WINVM_FILE_MAP_EXECUTE
#define S_QUERY		WINVM_SECTION_QUERY
#define S_MAP_W		WINVM_SECTION_MAP_WRITE
#define S_MAP_R		WINVM_SECTION_MAP_READ
#define S_MAP_X		WINVM_SECTION_MAP_EXECUTE
#define S_EXTEND	WINVM_SECTION_EXTEND_SIZE
#define S_ALL		WINVM_FILE_MAP_ALL_ACCESS

/* ASSERT_NT() that also knows the errno of the section statuses. */
#define ASSERT_ST(expected, call)	ASSERT_TRUE(__WV_NT_CHECK(expected, call, #call))

/* ASSERT_ST() that lets the test go on, for tables of cases. */
#define EXPECT_ST(expected, call)	EXPECT_TRUE(__WV_NT_CHECK(expected, call, #call))

/* For forked children: status and errno as ASSERT_ST() wants them. */
#define WV_ST_IS(expected, call)						\
	({ uint32_t __got = (call), __want = (expected);			\
	   int __we = winvm_abi_status_errno(__want);					\
	   __got == __want && (__we < 0 || __we == wv_errno); })

/* The raw return value of this thread's last section/view ioctl. */
extern __thread int wv_ioret;
/* "existed" of this thread's last wv_sec_create(). */
extern __thread uint32_t wv_existed;

uint32_t wv_sec_create_raw(int fd, struct winvm_section_create_args *a);

/*
 * NtCreateSection.  @name may be NULL; @file_fd -1 for a pagefile-backed
 * section.  *sfd gets the new fd (-1 on failure).
 */
uint32_t wv_sec_create(int fd, uint64_t size, uint32_t prot, uint32_t attrs, int file_fd,
		       uint32_t access, const char *name, uint32_t flags, int *sfd);

uint32_t wv_sec_open_raw(int fd, struct winvm_section_open_args *a);

/* OpenFileMapping.  *sfd gets the new fd (-1 on failure). */
uint32_t wv_sec_open(int fd, const char *name, uint32_t access, uint32_t flags, int *sfd);

/* NtQuerySection(SectionBasicInformation); outputs start as garbage. */
uint32_t wv_sec_query(int fd, int sfd, struct winvm_section_query_args *q);

/* DuplicateHandle.  *nfd gets the new fd (-1 on failure). */
uint32_t wv_sec_dup(int fd, int sfd, uint32_t access, int *nfd);

uint32_t wv_map_raw(int fd, struct winvm_view_map_args *a);

/* MapViewOfFileEx: *addr and *size are in/out. */
uint32_t wv_map(int fd, int sfd, uint32_t access, uint64_t *addr, uint64_t offset,
		uint64_t *size, uint64_t zero_bits, uint32_t type);

/* Convenience form: a view at @addr (0 = anywhere), outputs dropped. */
uint32_t wv_map_at(int fd, int sfd, uint32_t access, uint64_t addr, uint64_t offset,
		   uint64_t size);

uint32_t wv_unmap_flags(int fd, uint64_t addr, uint32_t flags);

/* UnmapViewOfFile. */
uint32_t wv_unmap(int fd, uint64_t addr);

/* FlushViewOfFile: *addr and *size are in/out. */
uint32_t wv_flush(int fd, uint64_t *addr, uint64_t *size, uint32_t flags);

/* A section that must be created (unnamed, all access); returns its fd. */
#define wv_must_section(fd, size, prot, attrs)					\
	__wv_must_section(fd, size, prot, attrs, -1)
#define wv_must_file_section(fd, file_fd, size, prot, attrs)			\
	__wv_must_section(fd, size, prot, attrs, file_fd)
#define __wv_must_section(fd, size, prot, attrs, file_fd)			\
	({ uint64_t __wv_ss = (size);						\
	   uint32_t __wv_sp = (prot), __wv_sa = (attrs);			\
	   int __wv_sf = (file_fd), __wv_sfd = -1;				\
	   uint32_t __wv_sst = wv_sec_create(fd, __wv_ss, __wv_sp, __wv_sa,	\
					     __wv_sf, 0, NULL, 0, &__wv_sfd);	\
	   ASSERT_ST(ST_OK, __wv_sst)						\
		TH_LOG("section(size 0x%" PRIx64 ", prot 0x%x, attrs 0x%x, file %d)",\
		       __wv_ss, __wv_sp, __wv_sa, __wv_sf);			\
	   ASSERT_LE(0, __wv_sfd);						\
	   __wv_sfd; })

/* A view that must map (anywhere); returns its 64K-aligned base. */
#define wv_must_map(fd, sfd, access, offset, size)				\
	({ uint64_t __wv_ma = 0, __wv_ms = (size), __wv_mo = (offset);		\
	   uint32_t __wv_mx = (access);						\
	   int __wv_msfd = (sfd);						\
	   uint32_t __wv_mst = wv_map(fd, __wv_msfd, __wv_mx, &__wv_ma,		\
				      __wv_mo, &__wv_ms, 0, 0);			\
	   ASSERT_ST(ST_OK, __wv_mst)						\
		TH_LOG("map(fd %d, access 0x%x, offset 0x%" PRIx64 ", size 0x%" PRIx64 ")",\
		       __wv_msfd, __wv_mx, __wv_mo, (uint64_t)(size));		\
	   ASSERT_NE(0ULL, __wv_ma);						\
	   ASSERT_HEX(0, __wv_ma & (WV_GRAN - 1));				\
	   __wv_ma; })

/* The fd has FD_CLOEXEC set. */
bool wv_cloexec(int fd);

/* Byte @off of the test pattern number @seed. */
uint8_t wv_pat(uint64_t off, unsigned int seed);

/* A read-write regular file in /tmp (tmpfs in the guest), already unlinked,
 * holding @size bytes of pattern @seed; -1 on failure. */
int wv_tmpfile(uint64_t size, unsigned int seed);

/* The same open file again, with other open flags (O_RDONLY, O_WRONLY). */
int wv_reopen(int fd, int flags);

/* Whether [p, p + len) holds pattern @seed for offsets starting at @off. */
bool wv_pat_ok(const void *p, uint64_t off, uint64_t len, unsigned int seed);

/* A section name unique to this process: "winvm-test-<pid>-<tag>". */
const char *wv_name(char *buf, size_t len, const char *tag);

/* ------------------------------------------------------------------ */
/* Memory kinds (the variant suites)                                    */
/* ------------------------------------------------------------------ */

/*
 * The kinds of memory one test body runs over:
 *  - PRIVATE:  VirtualAlloc(MEM_RESERVE | MEM_COMMIT);
 *  - PAGEFILE: a view of a pagefile-backed EXECUTE_READWRITE section,
 *    mapped FILE_MAP_WRITE | FILE_MAP_EXECUTE;
 *  - TMPFS, EXT4: the same over a zero-filled file in /tmp (tmpfs in the
 *    guest) or /mnt/ext4 (the guest's ext4 disk);
 *  - WCOPY: a FILE_MAP_COPY view of a pagefile-backed READWRITE section,
 *    pages PAGE_WRITECOPY.
 * Every page starts zero-filled.
 */
enum wv_kind {
	WV_KIND_PRIVATE,
	WV_KIND_PAGEFILE,
	WV_KIND_TMPFS,
	WV_KIND_EXT4,
	WV_KIND_WCOPY,
};

struct wv_region {
	enum wv_kind kind;
	bool view;		/* a section view: no decommit, no MEM_RELEASE */
	uint64_t base, size;	/* the allocation or view */
	uint32_t aprot;		/* AllocationProtect that MEM_QUERY reports */
	uint32_t type;		/* MEM_PRIVATE or MEM_MAPPED */
	uint32_t wprot;		/* the kind's writable protection: RW or WRITECOPY */
	int sfd, file_fd;	/* section and file, -1 if none */
};

const char *wv_kind_name(enum wv_kind kind);

/*
 * The kind's writable protection: READWRITE, or WRITECOPY on a write-copy
 * view (whose pages report READWRITE once written, rule R114).
 */
uint32_t wv_kind_wprot(enum wv_kind kind);

/*
 * Whether NtProtectVirtualMemory may set @prot on @r: on a view only
 * within the view's access (rule R111); on private memory anything but
 * the write-copy protections (rule R48).
 */
bool wv_region_allows(const struct wv_region *r, uint32_t prot);

/*
 * A region of @kind, @size bytes, every page committed at @prot.  0 on
 * success; 1 when the kind is not available here (reason in @why); -1 on
 * failure (message in @why).
 */
int wv_region_new(int fd, enum wv_kind kind, uint64_t size, uint32_t prot,
		  struct wv_region *r, char *why, size_t len);

/* wv_region_new() into @r that must succeed (SKIP when the kind is absent). */
#define ASSERT_REGION(r, fd, kind, size, prot) do {				\
	char __wv_why[WV_MSG_LEN];						\
	int __wv_rc = wv_region_new(fd, kind, size, prot, &(r), __wv_why,	\
				    sizeof(__wv_why));				\
	if (__wv_rc > 0)							\
		SKIP(return, "%s", __wv_why);					\
	ASSERT_EQ(0, __wv_rc) TH_LOG("%s", __wv_why);				\
} while (0)

/* SKIP unless @r may take protection @prot, naming the Windows rule. */
#define SKIP_UNLESS_ALLOWS(r, prot) do {					\
	if (!wv_region_allows(&(r), prot))					\
		SKIP(return, "Windows: a %s (AllocationProtect 0x%x) cannot take "\
		     "protection 0x%x (view protection must stay within the "	\
		     "view's access; private memory takes no WRITECOPY)",	\
		     wv_kind_name((r).kind), (r).aprot, (uint32_t)(prot));	\
} while (0)

/* SKIP on views, for operations Windows allows on VirtualAlloc memory only. */
#define SKIP_IF_VIEW(r, what) do {						\
	if ((r).view)								\
		SKIP(return, "Windows: %s a %s is refused (%s applies to "	\
		     "VirtualAlloc memory only)", what, wv_kind_name((r).kind),	\
		     what);							\
} while (0)

#ifndef WINVM_TEST_LIB
/*
 * WV_KIND_FIXTURE(): the "kind" fixture with one variant per memory kind,
 * for the suites that run one body over every kind (guard-regions.c
 * style).  A suite uses it once; its tests are TEST_F(kind, ...) and get
 * a region with ASSERT_REGION(r, self->fd, variant->kind, size, prot).
 */
#define WV_KIND_FIXTURE()							\
FIXTURE(kind) {								\
	int fd;									\
};										\
FIXTURE_VARIANT(kind) {							\
	enum wv_kind kind;							\
};										\
FIXTURE_VARIANT_ADD(kind, private) { .kind = WV_KIND_PRIVATE };		\
FIXTURE_VARIANT_ADD(kind, pagefile_view) { .kind = WV_KIND_PAGEFILE };	\
FIXTURE_VARIANT_ADD(kind, tmpfs_view) { .kind = WV_KIND_TMPFS };		\
FIXTURE_VARIANT_ADD(kind, ext4_view) { .kind = WV_KIND_EXT4 };		\
FIXTURE_VARIANT_ADD(kind, writecopy_view) { .kind = WV_KIND_WCOPY };	\
FIXTURE_SETUP(kind)								\
{										\
	self->fd = open(WV_DEV, O_RDWR | O_CLOEXEC);				\
	if (self->fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))\
		SKIP(return, "no %s (%s): winvm module not loaded", WV_DEV,	\
		     strerror(errno));						\
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", WV_DEV, strerror(errno));	\
	wv_fault_install(self->fd);						\
}										\
FIXTURE_TEARDOWN(kind)								\
{										\
	if (self->fd >= 0)							\
		close(self->fd);						\
}
#endif /* !WINVM_TEST_LIB */

#endif /* WINVM_TEST_H */
