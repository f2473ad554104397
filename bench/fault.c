// SPDX-License-Identifier: GPL-2.0
/*
 * Case 2, fault throughput: the first write to each page of a committed
 * 256 MiB range (less when the guest is short of memory), by 1 and 2
 * threads that split the range, against anonymous private memory (4 KiB
 * pages like winvm; and, for information, with THP as the kernel is
 * configured) and against a shared memfd mapping (shmem, which is what
 * winvm's pages are).  Setup and teardown are not timed.
 */
#include <pthread.h>

#include "bench.h"

#define REPS		5
#define MAX_THREADS	2

enum kind { K_WINVM, K_ANON, K_ANON_THP, K_MEMFD, K_N };

static const char *const kind_name[K_N] = { "winvm", "anon", "anon-thp", "memfd" };

struct run {
	enum kind kind;
	int threads;
	size_t size;
};

struct worker {
	pthread_barrier_t *bar;
	char *p;
	size_t len;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->bar);
	touch_write(w->p, w->len);
	return NULL;
}

/* ns per page for the first write to every page, by r->threads threads. */
static double first_write(struct run *r, char *p)
{
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	pthread_barrier_t bar;
	size_t part = r->size / r->threads;
	double t0, t1;
	int i;

	pthread_barrier_init(&bar, NULL, r->threads + 1);
	for (i = 0; i < r->threads; i++) {
		w[i] = (struct worker){ .bar = &bar, .p = p + i * part, .len = part };
		if (pthread_create(&tid[i], NULL, worker_main, &w[i])) {
			set_err("pthread_create failed");
			return NAN;
		}
	}
	pthread_barrier_wait(&bar);
	t0 = now_ns();
	for (i = 0; i < r->threads; i++)
		pthread_join(tid[i], NULL);
	t1 = now_ns();
	pthread_barrier_destroy(&bar);
	return (t1 - t0) / (r->size / PAGE);
}

static double measure(void *arg)
{
	struct run *r = arg;
	double v = NAN;
	uint64_t a;
	char *p;
	int fd;

	switch (r->kind) {
	case K_WINVM:
		a = wv_alloc(0, r->size, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
		if (!a)
			return NAN;
		v = first_write(r, PTR(a));
		if (!wv_free(a, 0, WINVM_MEM_RELEASE))
			return NAN;
		break;
	case K_ANON:
	case K_ANON_THP:
		native_thp(r->kind == K_ANON_THP);
		p = native_map(r->size, PROT_READ | PROT_WRITE);
		if (p)
			v = first_write(r, p);
		munmap(p, r->size);
		native_thp(false);
		break;
	case K_MEMFD:
		fd = memfd_create("bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, r->size)) {
			set_err("memfd: %s", strerror(errno));
			return NAN;
		}
		p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			set_err("mmap memfd: %s", strerror(errno));
			close(fd);
			return NAN;
		}
		v = first_write(r, p);
		munmap(p, r->size);
		close(fd);
		break;
	default:
		break;
	}
	return v;
}

int main(void)
{
	bool have = bench_start("2. fault throughput (first write, per page)");
	long avail = meminfo_kb("MemAvailable");
	size_t size = 256 * MiB;
	int threads, rep, k;
	char param[64];

	/* Keep well clear of the guest's memory: one range exists at a time. */
	while (avail > 0 && (size_t)avail * KiB < 3 * size && size > 16 * MiB)
		size /= 2;
	native_thp(false);
	for (threads = 1; threads <= MAX_THREADS; threads++) {
		double v[K_N][REPS], med[K_N];

		bench_err[0] = 0;
		for (rep = 0; rep < REPS; rep++) {
			/* Rotate the order so no kind always runs first. */
			for (k = 0; k < K_N; k++) {
				struct run r = {
					.kind = (k + rep) % K_N, .threads = threads, .size = size,
				};

				if (r.kind == K_WINVM && !have)
					v[r.kind][rep] = V_NA;
				else
					v[r.kind][rep] = measure(&r);
			}
		}
		for (k = 0; k < K_N; k++)
			med[k] = median(v[k], REPS);
		if (!have)
			med[K_WINVM] = V_NA;
		for (k = K_ANON; k < K_N; k++) {
			snprintf(param, sizeof(param), "%zuMiB %dT vs %s", size / MiB, threads,
				 kind_name[k]);
			report("fault.first_write", param, "ns/page", med[K_WINVM], med[k], "%s",
			       bench_err);
		}
	}
	return 0;
}
