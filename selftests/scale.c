// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: size and concurrency.  These run under TCG emulation,
 * with KASAN and lockdep on the debug kernel, so the counts are chosen to
 * stay well under a minute there.
 */
#include <pthread.h>
#include <time.h>

#include "winvm_test.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A 1 TiB reservation: no memory behind it until pages are committed. */
TEST_F(winvm, reserve_one_tebibyte)
{
	const uint64_t size = 1ULL << 40, mid = size / 2;
	uint64_t a = wv_must_alloc(self->fd, 0, size, RESERVE, RW);
	struct winvm_query_args q;
	uint64_t b, s;
	int i;

	ASSERT_HEX(0, a & (WV_GRAN - 1));
	ASSERT_VQ(self->fd, a, a, a, RW, size, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_OK(wv_alloc_at(self->fd, a + mid, 4 * WV_PAGE, COMMIT, RW));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0ULL, *(volatile uint64_t *)PTR(a + mid + i * WV_PAGE));
		*(volatile uint64_t *)PTR(a + mid + i * WV_PAGE) = i + 1;
	}
	ASSERT_VQ(self->fd, a, a, a, RW, mid, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + mid + 0x10, a + mid, a, RW, 4 * WV_PAGE, COMMIT, RW,
		  WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + mid + 4 * WV_PAGE, a + mid + 4 * WV_PAGE, a, RW,
		  mid - 4 * WV_PAGE, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_QUERY(self->fd, a + size - 1, &q);
	ASSERT_HEX(size, q.allocation_size);
	ASSERT_HEX(4 * WV_PAGE, q.commit_size);
	ASSERT_HEX(a + size - WV_PAGE, q.base_address);
	ASSERT_HEX(WV_PAGE, q.region_size);
	b = a;
	s = 0;
	ASSERT_OK(wv_free(self->fd, &b, &s, RELEASE));
	ASSERT_HEX(a, b);
	ASSERT_HEX(size, s);
	ASSERT_VQ(self->fd, a + mid, a + mid, 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
}

/*
 * Many small reservations (Windows processes have tens of thousands):
 * 100 000, each its own VMA, so the guest raises vm.max_map_count to
 * 262144.  WINVM_SCALE_ALLOCS changes the count.
 */
TEST_F_TIMEOUT(winvm, many_small_reservations, 900)
{
	const char *env = getenv("WINVM_SCALE_ALLOCS");
	long n = env ? strtol(env, NULL, 0) : 100000;
	uint64_t *addr;
	double t0, t1, t2;
	long i;

	ASSERT_LT(0, n);
	addr = calloc(n, sizeof(*addr));
	ASSERT_NE(NULL, addr);
	t0 = now();
	for (i = 0; i < n; i++) {
		uint64_t a = 0, s = WV_GRAN;

		ASSERT_OK(wv_alloc(self->fd, &a, &s, 0, RESERVE, RW)) TH_LOG("allocation %ld", i);
		ASSERT_HEX(0, a & (WV_GRAN - 1));
		addr[i] = a;
	}
	t1 = now();
	for (i = 0; i < n; i++) {
		struct winvm_query_args q;

		ASSERT_QUERY(self->fd, addr[i] + 0x8000, &q);
		ASSERT_HEX(addr[i], q.allocation_base);
		ASSERT_HEX(RESERVE, q.state);
		ASSERT_HEX(WV_GRAN, q.allocation_size);
	}
	/* Commit and touch a sample, as a program would. */
	for (i = 0; i < n; i += 997) {
		ASSERT_OK(wv_alloc_at(self->fd, addr[i], WV_PAGE, COMMIT, RW));
		*(volatile long *)PTR(addr[i]) = i;
	}
	for (i = 0; i < n; i += 997)
		ASSERT_EQ(i, *(volatile long *)PTR(addr[i]));
	t2 = now();
	for (i = 0; i < n; i++)
		ASSERT_OK(wv_free_at(self->fd, addr[i], 0, RELEASE)) TH_LOG("release %ld", i);
	TH_LOG("%ld reservations: alloc %.2fs, query %.2fs, release %.2fs", n, t1 - t0,
	       t2 - t1, now() - t2);
	ASSERT_VQ(self->fd, addr[n / 2], addr[n / 2], 0, 0, ANY, WINVM_MEM_FREE, NOACCESS, 0);
	free(addr);
}

/* Four threads allocating, committing, touching and freeing concurrently. */
#define WORKERS		4
#define ITERATIONS	300

struct worker {
	int fd;
	int id;
	int errors;
	char what[128];
};

static void worker_fail(struct worker *w, const char *what, int i, uint32_t st)
{
	if (!w->errors++)
		snprintf(w->what, sizeof(w->what), "%s at iteration %d: %s (0x%08x)", what, i,
			 winvm_abi_status_name(st), st);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < ITERATIONS; i++) {
		uint64_t a = 0, s = 4 * WV_GRAN, c = 0;
		struct winvm_query_args q;
		uint32_t st;
		int p;

		st = wv_alloc(w->fd, &a, &s, 0, RESERVE, RW);
		if (st) {
			worker_fail(w, "reserve", i, st);
			continue;
		}
		c = a + WV_GRAN;
		st = wv_alloc_at(w->fd, c, 4 * WV_PAGE, COMMIT, RW);
		if (st)
			worker_fail(w, "commit", i, st);
		for (p = 0; p < 4 && !st; p++) {
			volatile uint32_t *word = PTR(c + p * WV_PAGE);

			if (*word != 0)
				worker_fail(w, "not zero", i, 0);
			*word = (uint32_t)(w->id << 16 | i);
			if (*word != (uint32_t)(w->id << 16 | i))
				worker_fail(w, "readback", i, 0);
		}
		st = wv_protect_at(w->fd, c, WV_PAGE, RO);
		if (st)
			worker_fail(w, "protect", i, st);
		st = wv_free_at(w->fd, c, 4 * WV_PAGE, DECOMMIT);
		if (st)
			worker_fail(w, "decommit", i, st);
		st = wv_query(w->fd, c, &q);
		if (st || q.state != RESERVE || q.allocation_base != a)
			worker_fail(w, "query", i, st);
		st = wv_free_at(w->fd, a, 0, RELEASE);
		if (st)
			worker_fail(w, "release", i, st);
	}
	return NULL;
}

TEST_F_TIMEOUT(winvm, concurrent_threads, 300)
{
	struct worker w[WORKERS];
	pthread_t t[WORKERS];
	int i, errors = 0;

	for (i = 0; i < WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = self->fd;
		w[i].id = i + 1;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_main, &w[i]));
	}
	for (i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	for (i = 0; i < WORKERS; i++) {
		if (w[i].errors)
			TH_LOG("worker %d: %d errors, first: %s", i, w[i].errors, w[i].what);
		errors += w[i].errors;
	}
	ASSERT_EQ(0, errors);
}

/* Commit/decommit cycles on the same pages never show stale data. */
TEST_F_TIMEOUT(winvm, commit_decommit_cycles, 300)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);
	int cycle, p;

	for (cycle = 0; cycle < 200; cycle++) {
		ASSERT_OK(wv_alloc_at(self->fd, a, WV_GRAN, COMMIT, RW));
		for (p = 0; p < 16; p++) {
			volatile uint32_t *word = PTR(a + p * WV_PAGE + 4 * (cycle % 1000));

			ASSERT_EQ(0u, *word) TH_LOG("cycle %d page %d", cycle, p);
			*word = 0xdead0000u | cycle;
		}
		ASSERT_OK(wv_free_at(self->fd, a, 0, DECOMMIT));
	}
}

TEST_HARNESS_MAIN

/*
 * Page state is kernel memory no cgroup pays for, so each process may hold
 * only max_runs runs of it (a module parameter): past that, MEM_PROTECT
 * fails with STATUS_NO_MEMORY and changes nothing; releasing an allocation
 * gives its runs back.
 */
TEST_F(winvm, page_state_runs_are_bounded)
{
	const char *param = "/sys/module/winvm/parameters/max_runs";
	uint32_t prot, st = ST_OK, after;
	char old[32] = "";
	int fd, i, n = 0, err = 0;
	uint64_t a, p, s;
	ssize_t len;

	fd = open(param, O_RDWR);
	if (fd < 0)
		SKIP(return, "no %s: %s", param, strerror(errno));
	len = read(fd, old, sizeof(old) - 1);
	ASSERT_LT(0, len);
	a = wv_must_alloc(self->fd, 0, 1024 * WV_PAGE, RESERVE | COMMIT, RW);
	/* Everything below runs before any assertion, so the limit is restored. */
	if (pwrite(fd, "300\n", 4, 0) == 4) {
		for (i = 0; i < 1024; i += 2) {
			p = a + i * WV_PAGE;
			s = WV_PAGE;
			st = wv_protect(self->fd, &p, &s, RO, &prot);
			if (st != ST_OK)
				break;
			n++;
		}
		err = wv_errno;
	}
	after = wv_free_at(self->fd, a, 0, RELEASE);
	/* The released allocation's runs are free again. */
	if (after == ST_OK) {
		a = wv_must_alloc(self->fd, 0, 16 * WV_PAGE, RESERVE | COMMIT, RW);
		after = wv_protect_at(self->fd, a + 2 * WV_PAGE, WV_PAGE, RO);
		wv_free_at(self->fd, a, 0, RELEASE);
	}
	ASSERT_EQ(len, pwrite(fd, old, len, 0));
	close(fd);

	/* Each call adds two runs; the cap stops it near 300 runs. */
	ASSERT_HEX(WINVM_STATUS_NO_MEMORY, st);
	ASSERT_EQ(ENOMEM, err);
	ASSERT_LE(120, n);
	ASSERT_GT(256, n);
	ASSERT_HEX(ST_OK, after);
}
