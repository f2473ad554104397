// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: the kernel touching winvm memory on the process's
 * behalf (copy_to/from_user, get_user_pages, futex keys, /proc/pid/mem).
 *
 * On committed pages with the right protection these behave as on any
 * memory.  On reserved, no-access and guard pages they fail with EFAULT
 * (or EIO for /proc/pid/mem) and raise no signal; in particular a kernel
 * access never consumes a guard page, which stays armed for the next
 * user-mode access (see the header comment of <linux/winvm.h>).
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "winvm_test.h"

#define PATTERN(i)	((uint8_t)((i) * 7 + 3))

static int memfd_with_pattern(size_t len)
{
	int fd = memfd_create("winvm-kaccess", MFD_CLOEXEC);
	uint8_t *buf;
	size_t i;

	if (fd < 0)
		return -1;
	buf = malloc(len);
	if (!buf)
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = PATTERN(i);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len) {
		free(buf);
		return -1;
	}
	free(buf);
	return fd;
}

static bool has_pattern(const volatile uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != PATTERN(i))
			return false;
	return true;
}

/* Cases on TEST_F(kind, ...) run on every memory kind (WV_KIND_FIXTURE). */
WV_KIND_FIXTURE()

/* read(2)/pread(2) into committed pages, including never-touched ones. */
TEST_F(kind, pread_into_committed_memory)
{
	const size_t len = 4 * WV_PAGE;
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;
	int mfd = memfd_with_pattern(len);

	ASSERT_REGION(r, self->fd, variant->kind, len, w);
	a = r.base;

	ASSERT_LE(0, mfd);
	/* Not yet faulted in: the kernel populates the pages itself. */
	ASSERT_EQ((ssize_t)len, pread(mfd, PTR(a), len, 0));
	ASSERT_TRUE(has_pattern(PTR(a), len));
	ASSERT_EQ(0, wv_fault.count);
	close(mfd);
}

/* Pipes: write(2) from winvm memory and read(2) back into it. */
TEST_F(winvm, pipe_through_winvm_memory)
{
	const size_t len = 2 * WV_PAGE;
	uint64_t a = wv_must_alloc(self->fd, 0, 2 * len, RESERVE | COMMIT, RW);
	int p[2];
	size_t i;

	for (i = 0; i < len; i++)
		((uint8_t *)PTR(a))[i] = PATTERN(i);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ((ssize_t)len, write(p[1], PTR(a), len));
	ASSERT_EQ((ssize_t)len, read(p[0], PTR(a + len), len));
	ASSERT_TRUE(has_pattern(PTR(a + len), len));
	close(p[0]);
	close(p[1]);
}

/* write(2) from winvm memory into a file, read back elsewhere. */
TEST_F(kind, write_from_winvm_memory)
{
	const size_t len = 3 * WV_PAGE;
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;
	int mfd = memfd_create("winvm-write", MFD_CLOEXEC);
	uint8_t *buf = malloc(len);
	size_t i;

	ASSERT_REGION(r, self->fd, variant->kind, len, w);
	a = r.base;

	ASSERT_LE(0, mfd);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < len; i++)
		((uint8_t *)PTR(a))[i] = PATTERN(i);
	/* Make it read-only first: reading from it is still fine. */
	ASSERT_OK(wv_protect_at(self->fd, a, len, RO));
	ASSERT_EQ((ssize_t)len, pwrite(mfd, PTR(a), len, 0));
	ASSERT_EQ((ssize_t)len, pread(mfd, buf, len, 0));
	ASSERT_TRUE(has_pattern(buf, len));
	free(buf);
	close(mfd);
}

/* process_vm_readv/writev on ourselves (get_user_pages on winvm ranges). */
TEST_F(kind, process_vm_access_self)
{
	const size_t len = 2 * WV_PAGE;
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;
	uint8_t *buf = malloc(len);
	struct iovec local, remote;
	size_t i;

	ASSERT_REGION(r, self->fd, variant->kind, 2 * len, w);
	a = r.base;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < len; i++)
		((uint8_t *)PTR(a))[i] = PATTERN(i);
	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = PTR(a);
	remote.iov_len = len;
	memset(buf, 0, len);
	ASSERT_EQ((ssize_t)len, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_TRUE(has_pattern(buf, len));
	/* Into the second, never-touched half. */
	remote.iov_base = PTR(a + len);
	ASSERT_EQ((ssize_t)len, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_TRUE(has_pattern(PTR(a + len), len));
	free(buf);
}

/* /proc/self/mem reads and writes. */
TEST_F(winvm, proc_self_mem)
{
	const size_t len = WV_PAGE;
	uint64_t a = wv_must_alloc(self->fd, 0, 2 * len, RESERVE | COMMIT, RW);
	int mfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	uint8_t *buf = malloc(len);
	size_t i;

	ASSERT_LE(0, mfd);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < len; i++)
		buf[i] = PATTERN(i);
	ASSERT_EQ((ssize_t)len, pwrite(mfd, buf, len, (off_t)a));
	ASSERT_TRUE(has_pattern(PTR(a), len));
	memcpy(PTR(a + len), PTR(a), len);
	memset(buf, 0, len);
	ASSERT_EQ((ssize_t)len, pread(mfd, buf, len, (off_t)(a + len)));
	ASSERT_TRUE(has_pattern(buf, len));
	free(buf);
	close(mfd);
}

/* Shared (non-private) futexes keyed on winvm memory. */
struct futex_waiter {
	volatile uint32_t *word;
	volatile int waiting;
	int woken;
	int errors;
};

static long futex(volatile uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void *futex_wait_thread(void *arg)
{
	struct futex_waiter *w = arg;
	struct timespec ts = { .tv_sec = 20 };

	while (*w->word == 0) {
		w->waiting = 1;
		if (futex(w->word, FUTEX_WAIT, 0, &ts) == 0)
			w->woken++;
		else if (errno != EAGAIN && errno != EINTR)
			w->errors++;
	}
	return NULL;
}

TEST_F(winvm, shared_futex_in_winvm_memory)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW);
	volatile uint32_t *word = PTR(a + 0x40);
	struct timespec short_ts = { .tv_nsec = 10 * 1000 * 1000 };
	int round, woke_one = 0;

	/* The kernel can read the word: a mismatch is EAGAIN, a match times out. */
	*word = 5;
	ASSERT_EQ(-1, futex(word, FUTEX_WAIT, 6, NULL));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(-1, futex(word, FUTEX_WAIT, 5, &short_ts));
	ASSERT_EQ(ETIMEDOUT, errno);

	/* A real wait/wake between two threads; retried if the waiter was late. */
	for (round = 0; round < 5 && !woke_one; round++) {
		struct futex_waiter w = { .word = word };
		pthread_t t;
		long n = 0;

		*word = 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, futex_wait_thread, &w));
		while (!w.waiting)
			usleep(1000);
		usleep(200 * 1000);
		*word = 1;
		n = futex(word, FUTEX_WAKE, 1, NULL);
		ASSERT_LE(0, n);
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, w.errors);
		if (n == 1 && w.woken == 1)
			woke_one = 1;
	}
	ASSERT_TRUE(woke_one);
}

/* Reserved pages: EFAULT, no signal. */
TEST_F(winvm, kernel_access_to_reserved_is_efault)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	int mfd = memfd_with_pattern(WV_PAGE);
	struct iovec local, remote;
	char buf[64];
	int p[2];

	ASSERT_LE(0, mfd);
	wv_fault_reset();
	ASSERT_EQ(-1, pread(mfd, PTR(a + 0x2000), WV_PAGE, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(-1, write(p[1], PTR(a + 0x3000), 16));
	ASSERT_EQ(EFAULT, errno);
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = PTR(a + 0x4000);
	remote.iov_len = sizeof(buf);
	ASSERT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, wv_fault.count);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, RESERVE, 0, WINVM_MEM_PRIVATE);
	close(p[0]);
	close(p[1]);
	close(mfd);
}

/* Protection is honoured: no writing into RO, no reading from NOACCESS. */
TEST_F(kind, kernel_access_honours_protection)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;
	int mfd = memfd_with_pattern(WV_PAGE);
	int p[2];

	ASSERT_REGION(r, self->fd, variant->kind, 2 * WV_PAGE, w);
	a = r.base;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_OK(wv_protect_at(self->fd, a, WV_PAGE, RO));
	ASSERT_OK(wv_protect_at(self->fd, a + WV_PAGE, WV_PAGE, NOACCESS));
	wv_fault_reset();
	ASSERT_EQ(-1, pread(mfd, PTR(a), 16, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, *(volatile uint8_t *)PTR(a));
	ASSERT_EQ(-1, write(p[1], PTR(a + WV_PAGE), 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pread(mfd, PTR(a + WV_PAGE), 16, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, wv_fault.count);
	close(p[0]);
	close(p[1]);
	close(mfd);
}

/*
 * Guard pages: a kernel access fails with EFAULT, raises no signal and
 * leaves the guard armed; the next user access still hits it once.
 */
TEST_F(kind, kernel_access_does_not_consume_guard)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;
	int mfd = memfd_with_pattern(WV_PAGE);
	struct iovec local, remote;
	char buf[64];
	int p[2];

	ASSERT_REGION(r, self->fd, variant->kind, 2 * WV_PAGE, w | GUARD);
	a = r.base;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, pipe(p));
	wv_fault_reset();
	ASSERT_EQ(-1, pread(mfd, PTR(a + 0x100), 64, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, write(p[1], PTR(a + WV_PAGE + 0x100), 64));
	ASSERT_EQ(EFAULT, errno);
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = PTR(a + 0x200);
	remote.iov_len = sizeof(buf);
	ASSERT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, wv_fault.count);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, 2 * WV_PAGE, COMMIT, w | GUARD,
		  r.type);

	/* The guard is still there for user mode. */
	ASSERT_TRUE(wv_try_read(PTR(a + 0x100), NULL));
	ASSERT_EQ(1, wv_fault.count);
	ASSERT_EQ(0, wv_fault.fi_err);
	ASSERT_HEX(WINVM_STATUS_GUARD_PAGE_VIOLATION, wv_fault.fi.fault_status);
	/* With the guard gone, the kernel access works. */
	ASSERT_EQ(64, pread(mfd, PTR(a + 0x100), 64, 0));
	ASSERT_EQ(PATTERN(1), *(volatile uint8_t *)PTR(a + 0x101));
	close(p[0]);
	close(p[1]);
	close(mfd);
}

/* /proc/self/mem on a guard page fails (EIO or EFAULT), guard kept. */
TEST_F(kind, proc_mem_does_not_consume_guard)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;
	int mfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	char buf[16];

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, w | GUARD);
	a = r.base;

	ASSERT_LE(0, mfd);
	wv_fault_reset();
	ASSERT_GE(0, pread(mfd, buf, sizeof(buf), (off_t)a));
	ASSERT_GE(0, pwrite(mfd, buf, sizeof(buf), (off_t)a));
	ASSERT_EQ(0, wv_fault.count);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, w | GUARD, r.type);
	close(mfd);
}

TEST_HARNESS_MAIN

/*
 * O_DIRECT: the block layer pins winvm pages through get_user_pages and
 * DMAs straight into them (a RAM disk stands in for the device).  Reserved
 * pages cannot be pinned: EFAULT, no signal.
 */
TEST_F(winvm, o_direct_to_block_device)
{
	const size_t len = 4 * WV_PAGE;
	uint64_t a = wv_must_alloc(self->fd, 0, 2 * len, RESERVE | COMMIT, RW);
	uint64_t r = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	volatile uint8_t *src = PTR(a), *dst = PTR(a + len);
	size_t i;
	int bd;

	bd = open("/dev/ram0", O_RDWR | O_DIRECT);
	if (bd < 0)
		SKIP(return, "no /dev/ram0 for O_DIRECT: %s", strerror(errno));
	for (i = 0; i < len; i++)
		src[i] = PATTERN(i);
	ASSERT_EQ((ssize_t)len, pwrite(bd, PTR(a), len, 0));
	/* Into never-touched pages: the pin faults them in. */
	ASSERT_EQ((ssize_t)len, pread(bd, PTR(a + len), len, 0));
	ASSERT_TRUE(has_pattern(dst, len));
	wv_fault_reset();
	ASSERT_EQ(-1, pread(bd, PTR(r), WV_PAGE, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, wv_fault.count);
	close(bd);
}
