// SPDX-License-Identifier: GPL-2.0
/*
 * Write watch (MEM_WRITE_WATCH, NtGetWriteWatch, NtResetWriteWatch): rules
 * R122-R131 of docs/windows-rules.md, writes made by the kernel on the
 * process's behalf, and resets racing with writers.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include "winvm_test.h"
#include "wv_proc.h"

#define WATCH		WINVM_MEM_WRITE_WATCH
#define WRESET		WINVM_WRITE_WATCH_FLAG_RESET
#define MAXP		4096

/* NtGetWriteWatch; on success *count is the number listed into out[]. */
static uint32_t wv_watch(int fd, uint32_t flags, uint64_t addr, uint64_t size,
			 uint64_t *out, uint64_t *count, uint32_t *gran)
{
	struct winvm_watch_get_args a = {
		.address = addr, .size = size, .addresses = U64(out), .count = *count,
		.flags = flags, .status = WV_GARBAGE32, .granularity = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_WATCH_GET, &a) ? errno : 0;
	if (a.status == ST_OK) {
		*count = a.count;
		if (gran)
			*gran = a.granularity;
	}
	return a.status;
}

static uint32_t wv_watch_reset(int fd, uint64_t addr, uint64_t size)
{
	struct winvm_watch_reset_args a = {
		.address = addr, .size = size, .status = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_WATCH_RESET, &a) ? errno : 0;
	return a.status;
}

/* The written pages of [a, a + size) as page indexes from @base, or -1. */
static int dirty(int fd, uint32_t flags, uint64_t base, uint64_t a, uint64_t size,
		 uint64_t *idx, uint64_t max)
{
	static uint64_t out[MAXP];
	uint64_t i, count = max;

	if (wv_watch(fd, flags, a, size, out, &count, NULL) != ST_OK)
		return -1;
	for (i = 0; i < count; i++)
		idx[i] = (out[i] - base) / WV_PAGE;
	return (int)count;
}

static void touch(uint64_t a, uint64_t page)
{
	*(volatile uint8_t *)PTR(a + page * WV_PAGE + 1) = 1;
}

/* R122: a fresh watched region lists nothing and queries as ordinary memory. */
TEST_F(winvm, fresh_region_lists_nothing)
{
	uint64_t a, out[4], count = 4;
	uint32_t gran = 0;

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_OK(wv_watch(self->fd, 0, a, WV_GRAN, out, &count, &gran));
	ASSERT_EQ(0ULL, count);
	ASSERT_EQ(4096u, gran);
	/* Reserve only, any protection (R22), then commit: still watched. */
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | WATCH, NOACCESS);
	ASSERT_OK(wv_alloc_at(self->fd, a, WV_PAGE, COMMIT, RW));
	touch(a, 0);
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, out, 4));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* R123-R125: listed once written, ascending, per page; a reset empties. */
TEST_F(winvm, writes_listed_and_reset)
{
	uint64_t a, idx[16];

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	touch(a, 1);
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(1ULL, idx[0]);
	/* An unaligned 4-byte write across pages 5 and 6 marks both. */
	*(volatile uint32_t *)PTR(a + 6 * WV_PAGE - 2) = 0x01020304;
	touch(a, 9);
	ASSERT_EQ(4, dirty(self->fd, WRESET, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(1ULL, idx[0]);
	ASSERT_EQ(5ULL, idx[1]);
	ASSERT_EQ(6ULL, idx[2]);
	ASSERT_EQ(9ULL, idx[3]);
	ASSERT_EQ(0, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	/* Reset pages are written-watched again. */
	touch(a, 5);
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(5ULL, idx[0]);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* R124: sub-range queries and resets stay inside the sub-range. */
TEST_F(winvm, sub_ranges)
{
	uint64_t a, idx[16];

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	touch(a, 1);
	touch(a, 4);
	touch(a, 8);
	ASSERT_EQ(1, dirty(self->fd, 0, a, a + 3 * WV_PAGE, 2 * WV_PAGE, idx, 16));
	ASSERT_EQ(4ULL, idx[0]);
	ASSERT_OK(wv_watch_reset(self->fd, a, 3 * WV_PAGE));
	ASSERT_EQ(2, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(4ULL, idx[0]);
	ASSERT_EQ(8ULL, idx[1]);
	/* Unaligned bounds take in the pages they touch. */
	ASSERT_EQ(1, dirty(self->fd, WRESET, a, a + 8 * WV_PAGE + 100, 1, idx, 16));
	ASSERT_EQ(8ULL, idx[0]);
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* R126: fewer slots than written pages: a reset resets only what was listed. */
TEST_F(winvm, short_array_resets_only_what_it_lists)
{
	uint64_t a, idx[16];

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	touch(a, 1);
	touch(a, 2);
	touch(a, 4);
	ASSERT_EQ(1, dirty(self->fd, WRESET, a, a, WV_GRAN, idx, 1));
	ASSERT_EQ(1ULL, idx[0]);
	ASSERT_EQ(2, dirty(self->fd, WRESET, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(2ULL, idx[0]);
	ASSERT_EQ(4ULL, idx[1]);
	ASSERT_EQ(0, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* R127: protection changes neither record nor forget writes. */
TEST_F(winvm, protection_changes_leave_the_record)
{
	uint64_t a, idx[16];

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	touch(a, 3);
	ASSERT_OK(wv_protect_at(self->fd, a + 3 * WV_PAGE, WV_PAGE, RO));
	ASSERT_OK(wv_protect_at(self->fd, a + 3 * WV_PAGE, WV_PAGE, RW));
	ASSERT_EQ(1, dirty(self->fd, WRESET, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(3ULL, idx[0]);
	/* Read-only and back makes no page writable without a record. */
	ASSERT_OK(wv_protect_at(self->fd, a, WV_GRAN, RO));
	ASSERT_OK(wv_protect_at(self->fd, a, WV_GRAN, RW));
	ASSERT_EQ(0, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	touch(a, 3);
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	/* Committed no-access, made read-write and written: recorded. */
	ASSERT_OK(wv_alloc_at(self->fd, a + 10 * WV_PAGE, WV_PAGE, COMMIT, NOACCESS));
	ASSERT_OK(wv_protect_at(self->fd, a + 10 * WV_PAGE, WV_PAGE, RW));
	touch(a, 10);
	ASSERT_EQ(2, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(10ULL, idx[1]);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* R130: decommit forgets the writes, and re-commit does not bring them back. */
TEST_F(winvm, decommit_clears)
{
	uint64_t a, idx[16];

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	touch(a, 3);
	touch(a, 5);
	touch(a, 12);
	ASSERT_OK(wv_free_at(self->fd, a, 8 * WV_PAGE, DECOMMIT));
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(12ULL, idx[0]);
	ASSERT_OK(wv_alloc_at(self->fd, a, 8 * WV_PAGE, COMMIT, RW));
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* R131: 2048 pages, every other one written, half made read-only. */
TEST_F(winvm, every_other_page_of_2048)
{
	static uint64_t idx[MAXP];
	const uint64_t n = 2048;
	uint64_t a, i;

	a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT | WATCH, RW);
	for (i = 0; i < n; i += 2)
		touch(a, i);
	ASSERT_OK(wv_protect_at(self->fd, a, n / 2 * WV_PAGE, RO));
	ASSERT_EQ((int)n / 2, dirty(self->fd, 0, a, a, n * WV_PAGE, idx, MAXP));
	for (i = 0; i < n / 2; i++)
		ASSERT_EQ(2 * i, idx[i]);
	ASSERT_EQ((int)n / 2, dirty(self->fd, WRESET, a, a, n * WV_PAGE, idx, MAXP));
	ASSERT_EQ(0, dirty(self->fd, 0, a, a, n * WV_PAGE, idx, MAXP));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * A reset write-protects what it lists by page-table walks where the
 * written pages are dense and a page at a time where they are sparse
 * (module/pte.c): after a reset of each kind, writing the same pages
 * again lists exactly them again.
 */
static bool mixed_page(uint64_t i)
{
	if (i < 128)
		return true;			/* dense: every page */
	if (i >= 700 && i < 2700)
		return i % 100 == 0;		/* sparse: one in 100 */
	if (i >= 3300)
		return i % 40 == 0;		/* one in 40 */
	return false;
}

static int mixed_write(uint64_t a, uint64_t n)
{
	uint64_t i;
	int count = 0;

	for (i = 0; i < n; i++) {
		if (mixed_page(i)) {
			touch(a, i);
			count++;
		}
	}
	return count;
}

static bool mixed_listed(const uint64_t *idx, int count, uint64_t n)
{
	uint64_t i;
	int j = 0;

	for (i = 0; i < n; i++)
		if (mixed_page(i) && (j >= count || idx[j++] != i))
			return false;
	return j == count;
}

TEST_F(winvm, every_density_rearmed)
{
	static uint64_t idx[MAXP];
	const uint64_t n = MAXP;
	uint64_t a;
	int want, round;

	a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT | WATCH, RW);
	for (round = 0; round < 3; round++) {
		want = mixed_write(a, n);
		ASSERT_EQ(want, dirty(self->fd, WRESET, a, a, n * WV_PAGE, idx, MAXP));
		ASSERT_TRUE(mixed_listed(idx, want, n));
		ASSERT_EQ(0, dirty(self->fd, 0, a, a, n * WV_PAGE, idx, MAXP));
	}
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* R129: every refusal, with Windows' status. */
TEST_F(winvm, refusals)
{
	uint64_t a, plain, out[4], count;

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	plain = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	count = 4;
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, plain, WV_GRAN, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_watch_reset(self->fd, plain, WV_GRAN));
	/* The executable's own pages, and free space. */
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, U64(&count) & ~(WV_PAGE - 1), WV_PAGE, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, 0x10000, WV_PAGE, out, &count, NULL));
	count = 0;
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, a, WV_GRAN, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, a, WV_GRAN, NULL, &count, NULL));
	count = 4;
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0xdeadbeef, a, WV_GRAN, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_watch(self->fd, 0, a, 0, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, a, 2 * WV_GRAN, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, a + WV_GRAN - WV_PAGE, WV_PAGE + 1, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_watch_reset(self->fd, a, 0));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, ~0ULL - WV_PAGE, 2 * WV_PAGE, out, &count, NULL));
	/* No array (or an unwritable one) is an access violation, even when clean. */
	ASSERT_NT(WINVM_STATUS_ACCESS_VIOLATION,
		  wv_watch(self->fd, 0, a, WV_GRAN, NULL, &count, NULL));
	touch(a, 2);
	ASSERT_NT(WINVM_STATUS_ACCESS_VIOLATION,
		  wv_watch(self->fd, WRESET, a, WV_GRAN, PTR(8), &count, NULL));
	/* ... and resets nothing. */
	ASSERT_OK(wv_watch(self->fd, 0, a, WV_GRAN, out, &count, NULL));
	ASSERT_EQ(1ULL, count);
	/* MEM_WRITE_WATCH needs an allocation to make (R22). */
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_alloc_at(self->fd, 0, WV_GRAN, WATCH, RW));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	ASSERT_OK(wv_free_at(self->fd, plain, 0, RELEASE));
}

/* Reserved fields and padding are refused by both calls. */
TEST_F(winvm, reserved_fields_refused)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW), out[4];
	struct winvm_watch_get_args g = {
		.address = a, .size = WV_GRAN, .addresses = U64(out), .count = 4, .pad = 1,
	};
	struct winvm_watch_reset_args r = { .address = a, .size = WV_GRAN, .flags = 1 };

	ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_WATCH_GET, &g));
	ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, g.status);
	g.pad = 0;
	g.reserved[1] = 1;
	ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_WATCH_GET, &g));
	ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, g.status);
	ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_WATCH_RESET, &r));
	ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, r.status);
	r.flags = 0;
	r.reserved[0] = 1;
	ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_WATCH_RESET, &r));
	ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, r.status);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* A view of a section is never watched, written or not. */
TEST_F(winvm, views_are_not_watched)
{
	int sfd = wv_must_section(self->fd, WV_GRAN, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0), out[4], count = 4;

	*(volatile uint8_t *)PTR(v) = 1;
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER,
		  wv_watch(self->fd, 0, v, WV_PAGE, out, &count, NULL));
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_watch_reset(self->fd, v, WV_PAGE));
	ASSERT_OK(wv_unmap(self->fd, v));
	close(sfd);
}

/*
 * The unprivileged caller of the threat model (uid 65534, no capability):
 * write watch works on its own memory, and the parent's context (an
 * inherited fd) and the parent's watched range are not its to read.
 */
#define CHILD_SKIP	4

static int nobody_watch(int parent_fd, uint64_t parent_a)
{
	uint64_t a = 0, size = WV_GRAN, out[4], count = 4;
	int fd, bad = 0;

	if (wv_drop_to_nobody())
		return CHILD_SKIP;
	fd = open(WV_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 10;
	/*
	 * First, while nothing of the child's own can be there: the parent's
	 * winvm VMAs are not copied into a child, so its range is free here.
	 */
	if (wv_watch(fd, 0, parent_a, WV_GRAN, out, &count, NULL) !=
	    WINVM_STATUS_INVALID_PARAMETER)
		bad |= 8;
	if (wv_alloc(fd, &a, &size, 0, RESERVE | COMMIT | WATCH, RW) != ST_OK)
		return 11;
	touch(a, 2);
	if (wv_watch(fd, WRESET, a, WV_GRAN, out, &count, NULL) != ST_OK || count != 1 ||
	    out[0] != a + 2 * WV_PAGE)
		bad |= 1;
	count = 4;
	if (wv_watch(parent_fd, 0, parent_a, WV_GRAN, out, &count, NULL) !=
	    WINVM_STATUS_INVALID_HANDLE)
		bad |= 2;
	if (wv_watch_reset(parent_fd, parent_a, WV_GRAN) != WINVM_STATUS_INVALID_HANDLE)
		bad |= 4;
	return bad;
}

TEST_F(winvm, unprivileged_caller)
{
	uint64_t a, idx[4];
	pid_t pid;
	int rc;

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	touch(a, 5);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(nobody_watch(self->fd, a));
	rc = wv_wait(pid);
	if (rc == CHILD_SKIP)
		SKIP(return, "the child could not drop to uid %d", WV_NOBODY);
	ASSERT_EQ(0, rc);
	/* The parent's record is as it was. */
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, WV_GRAN, idx, 4));
	ASSERT_EQ(5ULL, idx[0]);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * Writes the kernel makes for the process count (R128, as Linux does
 * them: only the pages actually written), and a call that fails before
 * writing marks nothing.
 */
TEST_F(winvm, kernel_writes_count)
{
	char buf[3 * 4096];
	uint64_t a, idx[16];
	struct iovec local, remote;
	int pfd[2], mem;

	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT | WATCH, RW);
	memset(buf, 7, sizeof(buf));
	ASSERT_EQ(0, pipe(pfd));
	/* read(2) of 2 pages + 3 bytes from page 1 on. */
	ASSERT_EQ((ssize_t)(2 * WV_PAGE + 3), write(pfd[1], buf, 2 * WV_PAGE + 3));
	ASSERT_EQ((ssize_t)(2 * WV_PAGE + 3), read(pfd[0], PTR(a + WV_PAGE), 2 * WV_PAGE + 3));
	ASSERT_EQ(3, dirty(self->fd, WRESET, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(1ULL, idx[0]);
	ASSERT_EQ(3ULL, idx[2]);
	/* A failed read writes, and marks, nothing. */
	ASSERT_EQ(-1, read(-1, PTR(a + 8 * WV_PAGE), 16));
	ASSERT_EQ(0, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	/* process_vm_writev into page 6, and a write through /proc/self/mem to page 9. */
	local.iov_base = buf;
	local.iov_len = 16;
	remote.iov_base = PTR(a + 6 * WV_PAGE);
	remote.iov_len = 16;
	ASSERT_EQ(16, process_vm_writev(getpid(), &local, 1, &remote, 1, 0))
		TH_LOG("process_vm_writev: %s", strerror(errno));
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	ASSERT_EQ(16, pwrite(mem, buf, 16, (off_t)(a + 9 * WV_PAGE)));
	close(mem);
	ASSERT_EQ(2, dirty(self->fd, 0, a, a, WV_GRAN, idx, 16));
	ASSERT_EQ(6ULL, idx[0]);
	ASSERT_EQ(9ULL, idx[1]);
	ASSERT_EQ(7, *(volatile uint8_t *)PTR(a + 9 * WV_PAGE));
	close(pfd[0]);
	close(pfd[1]);
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * A reset re-arms the pages in place: reading them afterwards takes no
 * fault, and the next write to each takes one and is recorded.
 */
TEST_F(winvm, reset_keeps_pages_mapped)
{
	const uint64_t n = 64;
	struct rusage r0, r1;
	uint64_t a, i, idx[MAXP];

	a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT | WATCH, RW);
	for (i = 0; i < n; i++)
		touch(a, i);
	ASSERT_OK(wv_watch_reset(self->fd, a, n * WV_PAGE));
	getrusage(RUSAGE_SELF, &r0);
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, *(volatile uint8_t *)PTR(a + i * WV_PAGE + 1));
	getrusage(RUSAGE_SELF, &r1);
	EXPECT_GT(4, r1.ru_minflt - r0.ru_minflt);
	touch(a, 7);
	touch(a, 50);
	ASSERT_EQ(2, dirty(self->fd, 0, a, a, n * WV_PAGE, idx, MAXP));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/* An NT partial release splits the region; both pieces keep watching. */
TEST_F(winvm, split_pieces_keep_watching)
{
	uint64_t a, idx[16];

	a = wv_must_alloc(self->fd, 0, 16 * WV_PAGE, RESERVE | COMMIT | WATCH, RW);
	touch(a, 1);
	touch(a, 6);
	touch(a, 12);
	ASSERT_OK(wv_free_at(self->fd, a + 4 * WV_PAGE, 4 * WV_PAGE, RELEASE));
	ASSERT_EQ(1, dirty(self->fd, 0, a, a, 4 * WV_PAGE, idx, 16));
	ASSERT_EQ(1ULL, idx[0]);
	ASSERT_EQ(1, dirty(self->fd, 0, a, a + 8 * WV_PAGE, 8 * WV_PAGE, idx, 16));
	ASSERT_EQ(12ULL, idx[0]);
	touch(a, 9);
	ASSERT_EQ(2, dirty(self->fd, WRESET, a, a + 8 * WV_PAGE, 8 * WV_PAGE, idx, 16));
	ASSERT_EQ(9ULL, idx[0]);
	ASSERT_NT(WINVM_STATUS_INVALID_PARAMETER, wv_watch_reset(self->fd, a, 16 * WV_PAGE));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	ASSERT_OK(wv_free_at(self->fd, a + 8 * WV_PAGE, 0, RELEASE));
}

/*
 * A 1 TiB watched reservation costs what is written in it: listing and
 * resetting its two written pages, one at each end, walks neither the
 * bitmaps nor the page tables of the terabyte between them.
 */
TEST_F(winvm, terabyte_costs_what_is_written)
{
	const uint64_t size = 1ULL << 40, last = size / WV_PAGE - 1;
	uint64_t a, idx[4];

	a = wv_must_alloc(self->fd, 0, size, RESERVE | WATCH, NOACCESS);
	ASSERT_OK(wv_alloc_at(self->fd, a, WV_PAGE, COMMIT, RW));
	ASSERT_OK(wv_alloc_at(self->fd, a + size - WV_PAGE, WV_PAGE, COMMIT, RW));
	touch(a, 0);
	touch(a, last);
	ASSERT_EQ(2, dirty(self->fd, 0, a, a, size, idx, 4));
	ASSERT_EQ(last, idx[1]);
	ASSERT_OK(wv_watch_reset(self->fd, a, size));
	ASSERT_EQ(0, dirty(self->fd, 0, a, a, size, idx, 4));
	touch(a, last);
	ASSERT_EQ(1, dirty(self->fd, WRESET, a, a, size, idx, 4));
	ASSERT_OK(wv_protect_at(self->fd, a, WV_PAGE, RO));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * An array that ends early (the rest of it unmapped): the call lists, and
 * resets, what fits before the hole, says so, and the rest stays listed.
 */
TEST_F(winvm, array_that_ends_early)
{
	const uint64_t n = 1024;
	uint64_t a, i, count, *arr;

	arr = mmap(NULL, 2 * WV_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, arr);
	ASSERT_EQ(0, munmap((char *)arr + WV_PAGE, WV_PAGE));
	a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT | WATCH, RW);
	for (i = 0; i < 600; i++)
		touch(a, i);
	count = n;
	ASSERT_OK(wv_watch(self->fd, WRESET, a, n * WV_PAGE, arr, &count, NULL));
	ASSERT_EQ(WV_PAGE / sizeof(uint64_t), count);
	ASSERT_EQ(a + (count - 1) * WV_PAGE, arr[count - 1]);
	ASSERT_EQ(600 - (int)count, dirty(self->fd, 0, a, a, n * WV_PAGE, arr, 512));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
	munmap(arr, WV_PAGE);
}

/*
 * No write after a get-and-reset is lost: while other threads write pages
 * of the same region all the time, a write made after each get-and-reset
 * returns is always in the next get.
 */
struct hammer {
	uint64_t a, pages;
	atomic_int stop;
	atomic_int offlined;	/* memory blocks taken offline and back */
};

static void *hammer_pages(void *arg)
{
	struct hammer *h = arg;
	uint64_t i = 0;

	while (!atomic_load(&h->stop))
		touch(h->a, 1 + i++ % (h->pages - 1));
	return NULL;
}

TEST_F(winvm, no_write_lost_across_reset)
{
	static uint64_t idx[MAXP];
	const uint64_t n = 256;
	struct hammer h = { .pages = n };
	pthread_t t[2];
	int round, got, i;
	bool seen;

	h.a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT | WATCH, RW);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_pages, &h));
	for (round = 0; round < 500; round++) {
		ASSERT_LE(0, dirty(self->fd, WRESET, h.a, h.a, n * WV_PAGE, idx, MAXP));
		touch(h.a, 0);
		got = dirty(self->fd, 0, h.a, h.a, n * WV_PAGE, idx, MAXP);
		ASSERT_LT(0, got);
		seen = false;
		for (i = 0; i < got; i++)
			seen |= idx[i] == 0;
		ASSERT_TRUE(seen) TH_LOG("round %d: page 0 written after reset, not listed", round);
	}
	atomic_store(&h.stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ASSERT_OK(wv_free_at(self->fd, h.a, 0, RELEASE));
}

/* The page frame of each of @n pages at @a (root reads them), 0 if unknown. */
static void frames(uint64_t a, uint64_t n, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t i, e;

	for (i = 0; i < n; i++) {
		pfn[i] = 0;
		if (fd >= 0 && pread(fd, &e, sizeof(e), (off_t)((a / WV_PAGE + i) * sizeof(e))) ==
		    (ssize_t)sizeof(e) && (e >> 63))
			pfn[i] = e & ((1ULL << 55) - 1);
	}
	if (fd >= 0)
		close(fd);
}

/*
 * Move the pages of h->a away, again and again: take the memory block
 * holding one of them offline (which migrates what it holds) and back
 * online, or, where that is refused, compact all memory.
 */
static void *migrate_pages_away(void *arg)
{
	struct hammer *h = arg;
	uint64_t pfn, block = 0;
	char path[96];
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "r");
	unsigned int k = 0;

	if (f) {
		if (fscanf(f, "%" SCNx64, &block) != 1)
			block = 0;
		fclose(f);
	}
	while (!atomic_load(&h->stop)) {
		frames(h->a + (k++ % h->pages) * WV_PAGE, 1, &pfn);
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/state",
			 (uint64_t)(block ? pfn * WV_PAGE / block : 0));
		if (block && pfn && wv_write_file(path, "offline")) {
			/* (Back where it was; a block left offline is memory lost.) */
			while (!wv_write_file(path, "online") && errno == EBUSY)
				usleep(1000);
			atomic_fetch_add(&h->offlined, 1);
		} else if (!wv_write_file("/proc/sys/vm/compact_memory", "1")) {
			break;
		}
	}
	return NULL;
}

static long vmstat(const char *name)
{
	char key[64];
	long v, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	if (f)
		fclose(f);
	return found;
}

/*
 * A reset meets pages under migration (compaction, as root): a PTE that
 * a migration entry stood for while the reset walked may come back
 * writable afterwards.  Writing every page after each reset must list
 * every page again.
 */
TEST_F(winvm, no_write_lost_while_pages_migrate)
{
	static uint64_t idx[MAXP], pfn0[MAXP], pfn1[MAXP];
	const uint64_t n = 1024;
	struct hammer h = { .pages = n };
	long moved = vmstat("pgmigrate_success"), ours = 0;
	const size_t FILL = 128UL << 20;
	char *fill[2];
	pthread_t t;
	uint64_t i, j;
	int round;

	if (access("/proc/sys/vm/compact_memory", W_OK))
		SKIP(return, "no /proc/sys/vm/compact_memory to write (root, CONFIG_COMPACTION)");
	/* Ours among others' pages, which then go: compaction has work. */
	for (i = 0; i < 2; i++) {
		fill[i] = mmap(NULL, FILL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		ASSERT_NE(MAP_FAILED, fill[i]);
		memset(fill[i], 1, FILL);
		if (!i) {
			h.a = wv_must_alloc(self->fd, 0, n * WV_PAGE, RESERVE | COMMIT | WATCH, RW);
			for (j = 0; j < n; j++)
				touch(h.a, j);
		}
	}
	for (i = 0; i < 2; i++)
		munmap(fill[i], FILL);
	frames(h.a, n, pfn0);
	ASSERT_EQ(0, pthread_create(&t, NULL, migrate_pages_away, &h));
	for (round = 0; round < 200; round++) {
		for (i = 0; i < n; i++)
			touch(h.a, i);
		ASSERT_EQ((int)n, dirty(self->fd, WRESET, h.a, h.a, n * WV_PAGE, idx, MAXP))
			TH_LOG("round %d: a write after the last reset was not listed", round);
	}
	atomic_store(&h.stop, 1);
	pthread_join(t, NULL);
	frames(h.a, n, pfn1);
	for (i = 0; i < n; i++)
		ours += pfn0[i] && pfn1[i] && pfn0[i] != pfn1[i];
	TH_LOG("pages migrated meanwhile: %ld of ours, %ld in all; %d memory blocks offlined",
	       ours, vmstat("pgmigrate_success") - moved, atomic_load(&h.offlined));
	ASSERT_OK(wv_free_at(self->fd, h.a, 0, RELEASE));
}

TEST_HARNESS_MAIN
