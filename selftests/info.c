// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: the device, WINVM_IOC_INFO_GET and the conventions every
 * ioctl shares (status write-back, zero-only fields, bad pointers, unknown
 * commands, contexts bound to the opener's address space).
 */
#include <pthread.h>

#include "winvm_test.h"

TEST_F(winvm, info_values)
{
	struct winvm_info_args info;

	/* wv_info() fills every output with 0xcc first. */
	ASSERT_OK(wv_info(self->fd, &info));
	ASSERT_HEX(WINVM_ABI_VERSION, info.abi_version);
	ASSERT_HEX(4096, info.page_size);
	ASSERT_HEX(65536, info.allocation_granularity);
	ASSERT_HEX(0x10000, info.min_address);
	ASSERT_HEX(0x7ffffffeffffULL, info.max_address);
	ASSERT_HEX(0, info.large_page_minimum);
	ASSERT_HEX(WINVM_FEATURE_PRIVATE | WINVM_FEATURE_GUARD,
		   info.features & (WINVM_FEATURE_PRIVATE | WINVM_FEATURE_GUARD));
	/* Inputs that must be zero are left zero. */
	ASSERT_HEX(0, info.flags);
	ASSERT_HEX(0, info.pad);
}

/* INFO_GET with a nonzero flags, pad or reserved[] field. */
TEST_F(winvm, info_rejects_nonzero_fields)
{
	struct winvm_info_args info;
	int i;

	for (i = 0; i < 6; i++) {
		memset(&info, 0, sizeof(info));
		info.status = WV_GARBAGE32;
		if (i == 0)
			info.flags = 1;
		else if (i == 1)
			info.pad = 0x80000000u;
		else
			info.reserved[i - 2] = 1;
		ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_INFO_GET, &info));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, info.status);
	}
}

TEST_F(winvm, unknown_ioctl_is_enotty)
{
	struct winvm_info_args info;
	char big[256];
	unsigned long cmds[] = {
		_IOWR(WINVM_IOC_MAGIC, 0x86, struct winvm_info_args),
		_IOWR(WINVM_IOC_MAGIC, 0x7f, struct winvm_info_args),
		_IOWR(WINVM_IOC_MAGIC, 0xff, struct winvm_info_args),
		/* The right number with the wrong size or direction. */
		_IOWR(WINVM_IOC_MAGIC, 0x80, struct winvm_alloc_args),
		_IOR(WINVM_IOC_MAGIC, 0x80, struct winvm_info_args),
		_IOW(WINVM_IOC_MAGIC, 0x81, struct winvm_alloc_args),
		_IO(WINVM_IOC_MAGIC, 0x84),
		_IOWR('w', 0x80, struct winvm_info_args),
		0x5401,	/* TCGETS */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(big, 0, sizeof(big));
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], big))
			TH_LOG("cmd 0x%lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd 0x%lx", cmds[i]);
	}
	/* The device still answers. */
	ASSERT_OK(wv_info(self->fd, &info));
}

/* Every command, with an argument that cannot be read. */
TEST_F(winvm, bad_pointer_is_efault)
{
	unsigned long cmds[] = {
		WINVM_IOC_INFO_GET, WINVM_IOC_MEM_ALLOC, WINVM_IOC_MEM_FREE,
		WINVM_IOC_MEM_PROTECT, WINVM_IOC_MEM_QUERY, WINVM_IOC_FAULT_INFO,
	};
	char *none = mmap(NULL, 2 * WV_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *bad[4];
	unsigned int i, j;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_EQ(0, mprotect(none + WV_PAGE, WV_PAGE, PROT_NONE));
	bad[0] = NULL;
	bad[1] = (void *)1;
	bad[2] = none + WV_PAGE;		/* a PROT_NONE page */
	bad[3] = none + WV_PAGE - 8;		/* runs into it */
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			errno = 0;
			EXPECT_EQ(-1, ioctl(self->fd, cmds[i], bad[j]))
				TH_LOG("cmd 0x%lx arg %p", cmds[i], bad[j]);
			EXPECT_EQ(EFAULT, errno)
				TH_LOG("cmd 0x%lx arg %p", cmds[i], bad[j]);
		}
	}
}

/* Outputs that cannot be written back: a read-only argument struct. */
TEST_F(winvm, readonly_argument_is_efault)
{
	struct winvm_info_args *info;
	struct winvm_query_args *q;
	char *page = mmap(NULL, WV_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, page);
	memset(page, 0, WV_PAGE);
	info = (void *)page;
	q = (void *)(page + 1024);
	q->address = U64(page);
	ASSERT_EQ(0, mprotect(page, WV_PAGE, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, WINVM_IOC_INFO_GET, info));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, WINVM_IOC_MEM_QUERY, q));
	EXPECT_EQ(EFAULT, errno);
}

/* MEM_ALLOC with nonzero flags/reserved: EINVAL and no allocation. */
TEST_F(winvm, alloc_rejects_nonzero_fields)
{
	struct winvm_alloc_args a;
	uint64_t hole;
	int i;

	ASSERT_HOLE(hole, WV_GRAN);
	for (i = 0; i < 3; i++) {
		memset(&a, 0, sizeof(a));
		a.address = hole;
		a.size = WV_GRAN;
		a.type = RESERVE | COMMIT;
		a.protect = RW;
		a.status = WV_GARBAGE32;
		if (i == 0)
			a.flags = 1;
		else
			a.reserved[i - 1] = 1;
		ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_MEM_ALLOC, &a));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, a.status);
		ASSERT_VQ(self->fd, hole, hole, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	}
}

/* MEM_FREE with nonzero flags/pad/reserved: EINVAL, memory untouched. */
TEST_F(winvm, free_rejects_nonzero_fields)
{
	struct winvm_free_args f;
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	int i;

	*(volatile int *)PTR(a) = 0x1234;
	for (i = 0; i < 4; i++) {
		memset(&f, 0, sizeof(f));
		f.address = a;
		f.type = RELEASE;
		f.status = WV_GARBAGE32;
		if (i == 0)
			f.flags = 1;
		else if (i == 1)
			f.pad = 1;
		else
			f.reserved[i - 2] = 1;
		ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_MEM_FREE, &f));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, f.status);
		ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
		ASSERT_EQ(0x1234, *(volatile int *)PTR(a));
	}
}

/* MEM_PROTECT with nonzero flags/reserved: EINVAL, protection unchanged. */
TEST_F(winvm, protect_rejects_nonzero_fields)
{
	struct winvm_protect_args p;
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	int i;

	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.address = a;
		p.size = WV_PAGE;
		p.protect = RO;
		p.status = WV_GARBAGE32;
		if (i == 0)
			p.flags = 1;
		else
			p.reserved[i - 1] = 1;
		ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_MEM_PROTECT, &p));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, p.status);
		ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	}
	wv_fault_reset();
	ASSERT_TRUE(wv_try_write(PTR(a), 1));
}

TEST_F(winvm, query_rejects_nonzero_fields)
{
	struct winvm_query_args q;
	int i;

	for (i = 0; i < 4; i++) {
		memset(&q, 0, sizeof(q));
		q.address = U64(&q);
		q.status = WV_GARBAGE32;
		if (i == 0)
			q.flags = 1;
		else if (i == 1)
			q.pad = 1;
		else
			q.reserved[i - 2] = 1;
		ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_MEM_QUERY, &q));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, q.status);
	}
}

/*
 * FAULT_INFO with nonzero flags/reserved: EINVAL, and the pending record
 * is not consumed.  The handler is told not to read the record itself.
 */
TEST_F(winvm, fault_info_rejects_nonzero_fields)
{
	struct winvm_fault_info_args fi;
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	int i;

	wv_fault.fd = -1;
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0x123), NULL));
	ASSERT_EQ(1, wv_fault.count);
	for (i = 0; i < 3; i++) {
		memset(&fi, 0, sizeof(fi));
		fi.status = WV_GARBAGE32;
		if (i == 0)
			fi.flags = 1;
		else
			fi.reserved[i - 1] = 1;
		ASSERT_EQ(-1, ioctl(self->fd, WINVM_IOC_FAULT_INFO, &fi));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_HEX(WINVM_STATUS_INVALID_PARAMETER, fi.status);
	}
	ASSERT_OK(wv_fault_info(self->fd, &fi));
	ASSERT_HEX(a + 0x123, fi.address);
	ASSERT_HEX(WINVM_STATUS_ACCESS_VIOLATION, fi.fault_status);
	ASSERT_HEX(WINVM_EXCEPTION_READ_FAULT, fi.access);
}

TEST_F(winvm, fault_info_empty_is_enoent)
{
	struct winvm_fault_info_args fi;

	uint64_t a;

	wv_fault_info(self->fd, &fi);
	ASSERT_EQ(ENOENT, wv_errno);
	/* Still nothing after fault-free accesses to committed memory. */
	a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	*(volatile int *)PTR(a) = 1;
	ASSERT_EQ(1, *(volatile int *)PTR(a + WV_PAGE - 4) + 1);
	wv_fault_info(self->fd, &fi);
	ASSERT_EQ(ENOENT, wv_errno);
}

/*
 * A context belongs to the address space that opened it.  After fork() the
 * child's copy of the fd refuses MEM_* with EBADF / STATUS_INVALID_HANDLE,
 * INFO_GET still works, and a fresh open works.
 */
TEST_F(winvm, fork_child_gets_invalid_handle)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW);
	pid_t pid;

	*(volatile int *)PTR(a) = 77;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct winvm_info_args info;
		struct winvm_query_args q;
		uint64_t b = 0, s = WV_GRAN;
		int fails = 0, fd2;

		wv_fault.fd = -1;
		CHILD_CHECK(fails, wv_alloc(self->fd, &b, &s, 0, RESERVE, RW) ==
				   WINVM_STATUS_INVALID_HANDLE && wv_errno == EBADF);
		CHILD_CHECK(fails, wv_free_at(self->fd, a, 0, RELEASE) ==
				   WINVM_STATUS_INVALID_HANDLE && wv_errno == EBADF);
		CHILD_CHECK(fails, wv_protect_at(self->fd, a, WV_PAGE, RO) ==
				   WINVM_STATUS_INVALID_HANDLE && wv_errno == EBADF);
		CHILD_CHECK(fails, wv_query(self->fd, a, &q) ==
				   WINVM_STATUS_INVALID_HANDLE && wv_errno == EBADF);
		CHILD_CHECK(fails, wv_info(self->fd, &info) == ST_OK && wv_errno == 0);
		CHILD_CHECK(fails, info.page_size == 4096);

		fd2 = open(WV_DEV, O_RDWR | O_CLOEXEC);
		CHILD_CHECK(fails, fd2 >= 0);
		b = 0;
		s = WV_GRAN;
		CHILD_CHECK(fails, wv_alloc(fd2, &b, &s, 0, RESERVE | COMMIT, RW) == ST_OK);
		CHILD_CHECK(fails, wv_query(fd2, b, &q) == ST_OK &&
				   q.state == COMMIT && q.allocation_base == b);
		if (fails == 0)
			*(volatile int *)PTR(b) = 1;
		CHILD_CHECK(fails, wv_free_at(fd2, b, 0, RELEASE) == ST_OK);
		_exit(fails);
	}
	ASSERT_EQ(0, wv_wait(pid));
	/* The parent's context and memory are unaffected. */
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_EQ(77, *(volatile int *)PTR(a));
	ASSERT_OK(wv_free_at(self->fd, a, 0, RELEASE));
}

#define OPEN_THREADS	8
#define OPEN_ROUNDS	50

static void *open_info_close(void *arg)
{
	long failures = 0;
	int i;

	(void)arg;
	for (i = 0; i < OPEN_ROUNDS; i++) {
		struct winvm_info_args info;
		int fd = open(WV_DEV, O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			failures++;
			continue;
		}
		memset(&info, 0, sizeof(info));
		if (ioctl(fd, WINVM_IOC_INFO_GET, &info) || info.status != ST_OK ||
		    info.abi_version != WINVM_ABI_VERSION)
			failures++;
		if (close(fd))
			failures++;
	}
	return (void *)failures;
}

TEST_F(winvm, many_threads_open_and_close)
{
	pthread_t t[OPEN_THREADS];
	long total = 0;
	int i;

	for (i = 0; i < OPEN_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, open_info_close, NULL));
	for (i = 0; i < OPEN_THREADS; i++) {
		void *ret;

		ASSERT_EQ(0, pthread_join(t[i], &ret));
		total += (long)ret;
	}
	ASSERT_EQ(0, total);
}

/* A second context of the same process works alongside the first. */
TEST_F(winvm, second_open_in_same_process)
{
	struct winvm_info_args info;
	int fd2 = open(WV_DEV, O_RDWR | O_CLOEXEC);
	uint64_t a;

	ASSERT_LE(0, fd2);
	ASSERT_OK(wv_info(fd2, &info));
	a = wv_must_alloc(fd2, 0, WV_GRAN, RESERVE | COMMIT, RW);
	*(volatile int *)PTR(a) = 5;
	ASSERT_OK(wv_free_at(fd2, a, 0, RELEASE));
	ASSERT_EQ(0, close(fd2));
	ASSERT_OK(wv_info(self->fd, &info));
}

TEST_HARNESS_MAIN
