// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: what native Linux memory syscalls, fork, exec and exit
 * do to winvm ranges.  winvm owns the layout of its ranges: calls that
 * would split or reshape one are refused, calls that remove or replace a
 * whole allocation are allowed (and winvm forgets it), and data is never
 * lost behind winvm's back.
 */
#include <sys/wait.h>

#include "winvm_test.h"

#define MAGIC	0x600dcafeu

/* mprotect() cannot change winvm protections behind its back. */
TEST_F(winvm, mprotect_refused)
{
	static const int prots[] = {
		PROT_READ, PROT_NONE, PROT_READ | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	uint64_t a = wv_must_filled(self->fd, MAGIC);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		ASSERT_EQ(-1, mprotect(PTR(a), WV_GRAN, prots[i])) TH_LOG("prot %d", prots[i]);
		ASSERT_EQ(EACCES, errno);
		ASSERT_EQ(-1, mprotect(PTR(a + WV_PAGE), WV_PAGE, prots[i]));
		ASSERT_EQ(EACCES, errno);
	}
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_write(PTR(a + 3 * WV_PAGE + 8), 1));
	ASSERT_TRUE(wv_filled_intact(a, MAGIC));
}

/* munmap() of the whole allocation is allowed; winvm forgets it. */
TEST_F(winvm, munmap_whole_allocation)
{
	uint64_t a = wv_must_filled(self->fd, MAGIC);

	ASSERT_EQ(0, munmap(PTR(a), WV_GRAN));
	ASSERT_VQ(self->fd, a, a, 0, 0, WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, a, 0, RELEASE));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a), NULL));
	/* The address can be allocated again. */
	ASSERT_HEX(a, wv_must_alloc(self->fd, a, WV_GRAN, RESERVE | COMMIT, RW));
	ASSERT_EQ(0u, *(volatile uint32_t *)PTR(a));
}

/* Shmem in /proc/meminfo, in kB (system-wide). */
static long meminfo_shmem_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Shmem: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * Private allocations share one shmem file per process (module/wmm.c), so
 * an allocation's pages do not die with a file of their own: MEM_RELEASE
 * punches them out at once, a native munmap() soon after (a work item).
 * Either way 32 MiB of touched pages must leave Shmem.
 */
TEST_F(winvm, released_memory_leaves_shmem)
{
	const uint64_t size = 32ULL << 20;
	long before, touched, after = -1;
	int how, i;

	for (how = 0; how < 2; how++) {
		uint64_t a = wv_must_alloc(self->fd, 0, size, RESERVE | COMMIT, RW);

		memset(PTR(a), 0x5a, size);
		touched = meminfo_shmem_kb();
		if (how == 0) {
			ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
		} else {
			ASSERT_EQ(0, munmap(PTR(a), size));
		}
		/* (Polled: other tests' guests may move Shmem a little meanwhile.) */
		for (i = 0; i < 100; i++) {
			after = meminfo_shmem_kb();
			if (touched - after >= (long)(size >> 10) * 3 / 4)
				break;
			usleep(50000);
		}
		before = touched - (long)(size >> 10);
		TH_LOG("%s: Shmem %ld kB touched, %ld kB after (%d polls)",
		       how ? "munmap" : "MEM_RELEASE", touched, after, i);
		ASSERT_LE(after, before + (long)(size >> 10) / 4);
	}
}

/* munmap() of part of an allocation is refused. */
TEST_F(winvm, munmap_partial_refused)
{
	uint64_t a = wv_must_filled(self->fd, MAGIC);

	ASSERT_EQ(-1, munmap(PTR(a + WV_PAGE), WV_PAGE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, munmap(PTR(a), WV_PAGE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, munmap(PTR(a + WV_GRAN - WV_PAGE), WV_PAGE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_TRUE(wv_filled_intact(a, MAGIC));
}

/* mremap() in any form is refused. */
TEST_F(winvm, mremap_refused)
{
	uint64_t a = wv_must_filled(self->fd, MAGIC);
	void *target = mmap(NULL, 2 * WV_GRAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, target);
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a), WV_GRAN, WV_GRAN / 2, 0));
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a), WV_GRAN, 2 * WV_GRAN, MREMAP_MAYMOVE));
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a), WV_GRAN, WV_GRAN,
				     MREMAP_MAYMOVE | MREMAP_FIXED, target));
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a + WV_PAGE), WV_PAGE, WV_PAGE,
				     MREMAP_MAYMOVE | MREMAP_FIXED, target));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_TRUE(wv_filled_intact(a, MAGIC));
}

/* MADV_DONTNEED succeeds and loses nothing: the backing is shared. */
TEST_F(winvm, madvise_dontneed_keeps_data)
{
	uint64_t a = wv_must_filled(self->fd, MAGIC);

	ASSERT_EQ(0, madvise(PTR(a), WV_GRAN, MADV_DONTNEED));
	ASSERT_TRUE(wv_filled_intact(a, MAGIC));
	ASSERT_EQ(0, madvise(PTR(a + 2 * WV_PAGE), WV_PAGE, MADV_DONTNEED));
	ASSERT_TRUE(wv_filled_intact(a, MAGIC));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* mmap(MAP_FIXED) over part of an allocation is refused. */
TEST_F(winvm, mmap_fixed_partial_refused)
{
	uint64_t a = wv_must_filled(self->fd, MAGIC);

	ASSERT_EQ(MAP_FAILED, mmap(PTR(a + WV_PAGE), WV_PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	/* 6.1's mmap_region reports any failed unmap of the old range as ENOMEM. */
	ASSERT_TRUE(errno == EINVAL || errno == ENOMEM);
	/* Overlapping its end and the next mapping. */
	ASSERT_EQ(MAP_FAILED, mmap(PTR(a + WV_GRAN - WV_PAGE), 2 * WV_PAGE, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_TRUE(errno == EINVAL || errno == ENOMEM);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_TRUE(wv_filled_intact(a, MAGIC));
}

/* mmap(MAP_FIXED) over the whole allocation replaces it. */
TEST_F(winvm, mmap_fixed_whole_replaces)
{
	uint64_t a = wv_must_filled(self->fd, MAGIC);
	struct winvm_query_args q;

	ASSERT_EQ(PTR(a), mmap(PTR(a), WV_GRAN, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_EQ(0u, *(volatile uint32_t *)PTR(a));
	ASSERT_QUERY(self->fd, a + WV_PAGE, &q);
	ASSERT_HEX(a, q.allocation_base);
	ASSERT_HEX(WV_GRAN - WV_PAGE, q.region_size);
	ASSERT_HEX(COMMIT, q.state);
	ASSERT_HEX(RW, q.protect);
	ASSERT_HEX(WINVM_MEM_PRIVATE, q.type);
	ASSERT_HEX(0, q.region_flags & WINVM_REGION_WINVM);
	ASSERT_NT(WINVM_STATUS_CONFLICTING_ADDRESSES,
		  wv_alloc_at(self->fd, a, WV_PAGE, RESERVE, RW));
	/* The mapping is an ordinary one now. */
	ASSERT_EQ(0, mprotect(PTR(a), WV_PAGE, PROT_READ));
}

/*
 * fork(): the child does not inherit winvm ranges (reading them faults, a
 * fresh context reports them free); the parent keeps them intact.
 */
TEST_F(winvm, fork_child_has_no_winvm_ranges)
{
	uint64_t a = wv_must_filled(self->fd, MAGIC);
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct winvm_query_args q;
		int fails = 0, fd2;

		wv_fault.fd = -1;
		wv_fault_reset();
		CHILD_CHECK(fails, !wv_try_read(PTR(a), NULL));
		CHILD_CHECK(fails, wv_fault.signo == SIGSEGV);
		CHILD_CHECK(fails, !wv_try_write(PTR(a + WV_PAGE), 1));
		fd2 = open(WV_DEV, O_RDWR | O_CLOEXEC);
		CHILD_CHECK(fails, fd2 >= 0);
		CHILD_CHECK(fails, wv_query(fd2, a, &q) == ST_OK);
		CHILD_CHECK(fails, q.state == WINVM_MEM_FREE);
		CHILD_CHECK(fails, q.allocation_base == 0);
		/* The child can use the range for itself. */
		CHILD_CHECK(fails, wv_alloc_at(fd2, a, WV_GRAN, RESERVE | COMMIT, RW) == ST_OK);
		if (!fails)
			CHILD_CHECK(fails, *(volatile uint32_t *)PTR(a) == 0);
		_exit(fails);
	}
	ASSERT_EQ(0, wv_wait(pid));
	ASSERT_TRUE(wv_filled_intact(a, MAGIC));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	*(volatile uint32_t *)PTR(a) = 1;
}

/* A child that allocates and exits without freeing anything. */
TEST_F(winvm, child_exits_with_allocations)
{
	uint64_t mine = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	pid_t pid;
	int i;

	*(volatile int *)PTR(mine) = 3;
	for (i = 0; i < 3; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int fd2 = open(WV_DEV, O_RDWR | O_CLOEXEC);
			uint64_t a = 0, s = 4ULL << 20, g = 0, gs = WV_PAGE, r = 0, rs = 1ULL << 30;
			uint64_t off;

			if (fd2 < 0)
				_exit(10);
			if (wv_alloc(fd2, &a, &s, 0, RESERVE | COMMIT, RW) != ST_OK)
				_exit(11);
			for (off = 0; off < s; off += WV_PAGE)
				*(volatile uint8_t *)PTR(a + off) = 1;
			if (wv_alloc(fd2, &g, &gs, 0, RESERVE | COMMIT, RW | GUARD) != ST_OK)
				_exit(12);
			if (wv_alloc(fd2, &r, &rs, 0, RESERVE, RW) != ST_OK)
				_exit(13);
			if (wv_free_at(fd2, a + 0x10000, 0x1000, RELEASE) != ST_OK)
				_exit(14);
			/* i == 1: close the context first; i == 2: leave it open. */
			if (i == 1)
				close(fd2);
			_exit(0);
		}
		ASSERT_EQ(0, wv_wait(pid)) TH_LOG("child %d", i);
	}
	ASSERT_EQ(3, *(volatile int *)PTR(mine));
	ASSERT_OK(wv_free_at(self->fd, mine, 0, RELEASE));
}

/* A child that allocates and then execs. */
TEST_F(winvm, child_execs_with_allocations)
{
	pid_t pid = fork();
	int rc;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Not O_CLOEXEC: the context outlives the address space it belongs to. */
		int fd2 = open(WV_DEV, O_RDWR);
		uint64_t a = 0, s = 1ULL << 20;
		char *const bb[] = { "busybox", "true", NULL };
		char *const tr[] = { "true", NULL };
		uint64_t off;

		if (fd2 < 0)
			_exit(10);
		if (wv_alloc(fd2, &a, &s, 0, RESERVE | COMMIT, RW) != ST_OK)
			_exit(11);
		for (off = 0; off < s; off += 16 * WV_PAGE)
			*(volatile uint8_t *)PTR(a + off) = 1;
		if (wv_protect_at(fd2, a, WV_PAGE, RO) != ST_OK)
			_exit(12);
		execv("/bin/busybox", bb);
		execv("/bin/true", tr);
		_exit(127);
	}
	rc = wv_wait(pid);
	if (rc == 127)
		SKIP(return, "neither /bin/busybox nor /bin/true to exec");
	ASSERT_EQ(0, rc);
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif
#define HUGE_2M		(2ULL << 20)

/* A free, 2 MiB-aligned hole of @size bytes, fenced by PROT_NONE. */
static uint64_t huge_hole(uint64_t size)
{
	uint64_t len = size + 2 * HUGE_2M, a;
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	a = (U64(p) + 2 * HUGE_2M - 1) & ~(HUGE_2M - 1);
	if (a + size > U64(p) + len || munmap(PTR(a), size))
		return 0;
	return a;
}

static bool huge_pattern_ok(uint64_t a, uint64_t pages, uint64_t skip)
{
	uint64_t i;

	for (i = 0; i < pages; i++)
		if (i != skip && *(volatile uint64_t *)PTR(a + i * WV_PAGE) != (a ^ i))
			return false;
	return true;
}

/*
 * MADV_HUGEPAGE and MADV_COLLAPSE (Debian kernels have THP; MADV_COLLAPSE
 * ignores the sysfs settings) on a 2 MiB-aligned allocation: whatever the
 * kernel makes of the backing pages, data, protections, guard pages and
 * decommit behave as before.
 */
TEST_F(winvm, madvise_collapse_keeps_semantics)
{
	uint64_t pages = HUGE_2M / WV_PAGE, a, i;
	int rc;

	a = huge_hole(HUGE_2M);
	ASSERT_NE(0ULL, a);
	ASSERT_HEX(a, wv_must_alloc(self->fd, a, HUGE_2M, RESERVE | COMMIT, RW));
	for (i = 0; i < pages; i++)
		*(volatile uint64_t *)PTR(a + i * WV_PAGE) = a ^ i;
	ASSERT_NT(ST_OK, wv_protect_at(self->fd, a + 7 * WV_PAGE, WV_PAGE, RO));
	rc = madvise(PTR(a), HUGE_2M, MADV_HUGEPAGE);
	TH_LOG("MADV_HUGEPAGE -> %d (errno %d)", rc, rc ? errno : 0);
	rc = madvise(PTR(a), HUGE_2M, MADV_COLLAPSE);
	TH_LOG("MADV_COLLAPSE -> %d (errno %d)", rc, rc ? errno : 0);
	ASSERT_TRUE(huge_pattern_ok(a, pages, ~0ULL));
	/* The read-only page still refuses writes, its neighbours take them. */
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(a + 7 * WV_PAGE), 1));
	ASSERT_TRUE(wv_try_write(PTR(a + 8 * WV_PAGE + 8), 1));
	/* A guard set on a mapped page after the collapse fires once. */
	ASSERT_NT(ST_OK, wv_protect_at(self->fd, a + 9 * WV_PAGE, WV_PAGE, RW | GUARD));
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 9 * WV_PAGE), NULL));
	ASSERT_EQ(1, wv_fault.count);
	ASSERT_HEX(WINVM_STATUS_GUARD_PAGE_VIOLATION, wv_fault.fi.fault_status);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 9 * WV_PAGE), NULL));
	ASSERT_EQ(0, wv_fault.count);
	/* Decommit inside a (possibly huge) page: gone, and zero when recommitted. */
	ASSERT_NT(ST_OK, wv_free_at(self->fd, a + 100 * WV_PAGE, WV_PAGE, DECOMMIT));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 100 * WV_PAGE), NULL));
	ASSERT_NT(ST_OK, wv_alloc_at(self->fd, a + 100 * WV_PAGE, WV_PAGE, COMMIT, RW));
	ASSERT_EQ(0ULL, *(volatile uint64_t *)PTR(a + 100 * WV_PAGE));
	ASSERT_EQ(a ^ 101, *(volatile uint64_t *)PTR(a + 101 * WV_PAGE));
	ASSERT_EQ(a ^ 99, *(volatile uint64_t *)PTR(a + 99 * WV_PAGE));
	rc = madvise(PTR(a), HUGE_2M, MADV_COLLAPSE);
	TH_LOG("second MADV_COLLAPSE -> %d (errno %d)", rc, rc ? errno : 0);
	ASSERT_EQ(0ULL, *(volatile uint64_t *)PTR(a + 100 * WV_PAGE));
	ASSERT_VQ(self->fd, a, a, a, RW, 7 * WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_NT(ST_OK, wv_free_at(self->fd, a, 0, RELEASE));
}

/*
 * The same on a write-copy view, whose written page is the view's own copy
 * mapped into a VMA of the section's file: a collapse must neither lose the
 * copy nor let it reach the section.
 */
TEST_F(winvm, madvise_collapse_on_writecopy_view)
{
	uint64_t pages = HUGE_2M / WV_PAGE, a, w, i;
	int sfd, rc;

	sfd = wv_must_section(self->fd, HUGE_2M, RW, WINVM_SEC_COMMIT);
	w = wv_must_map(self->fd, sfd, WINVM_FILE_MAP_WRITE, 0, 0);
	for (i = 0; i < pages; i++)
		*(volatile uint64_t *)PTR(w + i * WV_PAGE) = w ^ i;
	a = huge_hole(HUGE_2M);
	ASSERT_NE(0ULL, a);
	ASSERT_NT(ST_OK, wv_map_at(self->fd, sfd, WINVM_FILE_MAP_COPY, a, 0, 0));
	*(volatile uint64_t *)PTR(a + 5 * WV_PAGE) = 0x5eed;
	for (i = 0; i < pages; i += 64)
		(void)*(volatile uint64_t *)PTR(a + i * WV_PAGE);
	rc = madvise(PTR(a), HUGE_2M, MADV_HUGEPAGE);
	TH_LOG("MADV_HUGEPAGE -> %d (errno %d)", rc, rc ? errno : 0);
	rc = madvise(PTR(a), HUGE_2M, MADV_COLLAPSE);
	TH_LOG("MADV_COLLAPSE -> %d (errno %d)", rc, rc ? errno : 0);
	ASSERT_EQ(0x5eedULL, *(volatile uint64_t *)PTR(a + 5 * WV_PAGE));
	ASSERT_EQ(w ^ 5, *(volatile uint64_t *)PTR(w + 5 * WV_PAGE));
	for (i = 0; i < pages; i++) {
		if (i == 5)
			continue;
		ASSERT_EQ(w ^ i, *(volatile uint64_t *)PTR(a + i * WV_PAGE)) TH_LOG("page %llu",
										(unsigned long long)i);
	}
	/* The section's later writes still show where the view did not write. */
	*(volatile uint64_t *)PTR(w + 6 * WV_PAGE) = 0x77;
	ASSERT_EQ(0x77ULL, *(volatile uint64_t *)PTR(a + 6 * WV_PAGE));
	ASSERT_EQ(0x5eedULL, *(volatile uint64_t *)PTR(a + 5 * WV_PAGE));
	ASSERT_NT(ST_OK, wv_unmap(self->fd, a));
	ASSERT_NT(ST_OK, wv_unmap(self->fd, w));
	close(sfd);
}

TEST_HARNESS_MAIN
