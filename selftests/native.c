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

/* A 64K winvm allocation in a fenced hole, committed RW, with data. */
static uint64_t fenced_alloc(struct __test_metadata *_metadata, int fd)
{
	uint64_t hole, a;
	int i;

	ASSERT_HOLE(hole, WV_GRAN);
	a = wv_must_alloc(fd, hole, WV_GRAN, RESERVE | COMMIT, RW);
	ASSERT_HEX(hole, a);
	for (i = 0; i < 16; i++)
		*(volatile uint32_t *)PTR(a + i * WV_PAGE) = MAGIC + i;
	return a;
}

static bool data_intact(uint64_t a)
{
	int i;

	for (i = 0; i < 16; i++)
		if (*(volatile uint32_t *)PTR(a + i * WV_PAGE) != MAGIC + i)
			return false;
	return true;
}

/* mprotect() cannot change winvm protections behind its back. */
TEST_F(winvm, mprotect_refused)
{
	static const int prots[] = {
		PROT_READ, PROT_NONE, PROT_READ | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	uint64_t a = fenced_alloc(_metadata, self->fd);
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
	ASSERT_TRUE(data_intact(a));
}

/* munmap() of the whole allocation is allowed; winvm forgets it. */
TEST_F(winvm, munmap_whole_allocation)
{
	uint64_t a = fenced_alloc(_metadata, self->fd);

	ASSERT_EQ(0, munmap(PTR(a), WV_GRAN));
	ASSERT_VQ(self->fd, a, a, 0, 0, WV_GRAN, WINVM_MEM_FREE, NOACCESS, 0);
	ASSERT_NT(WINVM_STATUS_MEMORY_NOT_ALLOCATED, wv_free_at(self->fd, a, 0, RELEASE));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a), NULL));
	/* The address can be allocated again. */
	ASSERT_HEX(a, wv_must_alloc(self->fd, a, WV_GRAN, RESERVE | COMMIT, RW));
	ASSERT_EQ(0u, *(volatile uint32_t *)PTR(a));
}

/* munmap() of part of an allocation is refused. */
TEST_F(winvm, munmap_partial_refused)
{
	uint64_t a = fenced_alloc(_metadata, self->fd);

	ASSERT_EQ(-1, munmap(PTR(a + WV_PAGE), WV_PAGE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, munmap(PTR(a), WV_PAGE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, munmap(PTR(a + WV_GRAN - WV_PAGE), WV_PAGE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_TRUE(data_intact(a));
}

/* mremap() in any form is refused. */
TEST_F(winvm, mremap_refused)
{
	uint64_t a = fenced_alloc(_metadata, self->fd);
	void *target = mmap(NULL, 2 * WV_GRAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, target);
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a), WV_GRAN, WV_GRAN / 2, 0));
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a), WV_GRAN, 2 * WV_GRAN, MREMAP_MAYMOVE));
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a), WV_GRAN, WV_GRAN,
				     MREMAP_MAYMOVE | MREMAP_FIXED, target));
	ASSERT_EQ(MAP_FAILED, mremap(PTR(a + WV_PAGE), WV_PAGE, WV_PAGE,
				     MREMAP_MAYMOVE | MREMAP_FIXED, target));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_TRUE(data_intact(a));
}

/* MADV_DONTNEED succeeds and loses nothing: the backing is shared. */
TEST_F(winvm, madvise_dontneed_keeps_data)
{
	uint64_t a = fenced_alloc(_metadata, self->fd);

	ASSERT_EQ(0, madvise(PTR(a), WV_GRAN, MADV_DONTNEED));
	ASSERT_TRUE(data_intact(a));
	ASSERT_EQ(0, madvise(PTR(a + 2 * WV_PAGE), WV_PAGE, MADV_DONTNEED));
	ASSERT_TRUE(data_intact(a));
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* mmap(MAP_FIXED) over part of an allocation is refused. */
TEST_F(winvm, mmap_fixed_partial_refused)
{
	uint64_t a = fenced_alloc(_metadata, self->fd);

	ASSERT_EQ(MAP_FAILED, mmap(PTR(a + WV_PAGE), WV_PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	/* 6.1's mmap_region reports any failed unmap of the old range as ENOMEM. */
	ASSERT_TRUE(errno == EINVAL || errno == ENOMEM);
	/* Overlapping its end and the next mapping. */
	ASSERT_EQ(MAP_FAILED, mmap(PTR(a + WV_GRAN - WV_PAGE), 2 * WV_PAGE, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_TRUE(errno == EINVAL || errno == ENOMEM);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_TRUE(data_intact(a));
}

/* mmap(MAP_FIXED) over the whole allocation replaces it. */
TEST_F(winvm, mmap_fixed_whole_replaces)
{
	uint64_t a = fenced_alloc(_metadata, self->fd);
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
	uint64_t a = fenced_alloc(_metadata, self->fd);
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
	ASSERT_TRUE(data_intact(a));
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

TEST_HARNESS_MAIN
