// SPDX-License-Identifier: GPL-2.0
/*
 * Case 7, kernel metadata.
 *
 *  kmem.per_alloc: kernel memory per 64 KiB reservation, from the
 *  /proc/meminfo deltas (per-CPU counters folded first through
 *  /proc/sys/vm/stat_refresh) over 10 000 of them: Slab (all slab caches:
 *  VMAs, maple nodes, and for winvm its allocation object, the shmem
 *  inode, dentry and file behind each allocation) and PageTables.  Native:
 *  10 000 separate PROT_NONE mmaps of 64 KiB (with holes between them, so
 *  they do not merge).  The Slab row's note says which caches grew, from
 *  /proc/slabinfo (active objects x object size) around the first round.
 *
 *  kmem.sparse_1TiB: the same for a 1 TiB reservation with 4 committed
 *  and touched pages spread over it (averaged over 16 of them), against
 *  mmap(1 TiB, PROT_NONE, MAP_NORESERVE) + mprotect(RW) of the same 4 pages.
 *
 * The figures are kernel-wide deltas in a quiet guest, so a few KiB of
 * unrelated activity can land in them; the per-allocation figures divide
 * that noise by the count.
 */
#include "bench.h"

#define REPS		3
#define NALLOCS		10000
#define NSPARSE		16
#define SPARSE		TiB

struct mem {
	long slab, unrecl, ptables;	/* kB */
};

/*
 * Let the previous round's RCU-deferred frees (files, dentries, inodes)
 * finish, so they do not land in this round's delta.
 */
static void settle(void)
{
	usleep(500 * 1000);
}

static void mem_read(struct mem *m)
{
	m->slab = meminfo_kb("Slab");
	m->unrecl = meminfo_kb("SUnreclaim");
	m->ptables = meminfo_kb("PageTables");
}

struct result {
	double slab[REPS], unrecl[REPS], ptables[REPS];	/* bytes per allocation */
	int rep;
};

static void record(struct result *r, const struct mem *a, const struct mem *b, long n)
{
	r->slab[r->rep] = (b->slab - a->slab) * 1024.0 / n;
	r->unrecl[r->rep] = (b->unrecl - a->unrecl) * 1024.0 / n;
	r->ptables[r->rep] = (b->ptables - a->ptables) * 1024.0 / n;
	r->rep++;
}

static void record_fail(struct result *r)
{
	r->slab[r->rep] = r->unrecl[r->rep] = r->ptables[r->rep] = NAN;
	r->rep++;
}

/* /proc/slabinfo: bytes in use per cache (active objects x object size). */
#define MAX_CACHES	512

struct slabs {
	int n;
	char name[MAX_CACHES][40];
	double bytes[MAX_CACHES];
};

static void slabs_read(struct slabs *s)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];

	s->n = 0;
	if (!f)
		return;
	while (s->n < MAX_CACHES && fgets(line, sizeof(line), f)) {
		unsigned long active, total, size;
		char name[40];

		if (sscanf(line, "%39s %lu %lu %lu", name, &active, &total, &size) != 4)
			continue;
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
		s->bytes[s->n++] = (double)active * size;
	}
	fclose(f);
}

/*
 * The caches that grew most between @a and @b, as "name bytes-per-alloc"
 * pairs in @out: what the Slab figure is made of.
 */
static void slabs_top(const struct slabs *a, const struct slabs *b, long n, char *out,
		      size_t len)
{
	double d[MAX_CACHES];
	int i, j, k, best;
	size_t used = 0;

	out[0] = 0;
	for (i = 0; i < b->n; i++) {
		d[i] = b->bytes[i];
		for (j = 0; j < a->n; j++)
			if (!strcmp(a->name[j], b->name[i])) {
				d[i] -= a->bytes[j];
				break;
			}
	}
	for (k = 0; k < 6; k++) {
		best = -1;
		for (i = 0; i < b->n; i++)
			if (d[i] / n >= 16 && (best < 0 || d[i] > d[best]))
				best = i;
		if (best < 0)
			break;
		used += snprintf(out + used, len - used, "%s%s %.0f", used ? ", " : "",
				 b->name[best], d[best] / n);
		if (used >= len)
			break;
		d[best] = 0;
	}
}

static struct slabs slab_a, slab_b;
static char wv_top[256], native_top[256];

static uint64_t addrs[NALLOCS];

static void wv_small(struct result *r)
{
	struct mem a, b;
	long i, n = 0;

	settle();
	if (!wv_top[0])
		slabs_read(&slab_a);
	mem_read(&a);
	for (i = 0; i < NALLOCS; i++) {
		addrs[i] = wv_alloc(0, GRAN, WINVM_MEM_RESERVE, WV_RW);
		if (!addrs[i])
			break;
		n++;
	}
	mem_read(&b);
	if (!wv_top[0] && n) {
		slabs_read(&slab_b);
		slabs_top(&slab_a, &slab_b, n, wv_top, sizeof(wv_top));
	}
	if (n == NALLOCS)
		record(r, &a, &b, n);
	else
		record_fail(r);
	for (i = 0; i < n; i++)
		wv_free(addrs[i], 0, WINVM_MEM_RELEASE);
}

static void native_small(struct result *r)
{
	size_t span = NALLOCS * 2 * GRAN;
	char *area = native_map(span, PROT_NONE);
	struct mem a, b;
	long i, n = 0;

	if (!area) {
		record_fail(r);
		return;
	}
	/* Pick the addresses, then give the area back: only the 10 000 remain. */
	munmap(area, span);
	settle();
	if (!native_top[0])
		slabs_read(&slab_a);
	mem_read(&a);
	for (i = 0; i < NALLOCS; i++) {
		void *p = mmap(area + i * 2 * GRAN, GRAN, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
			       -1, 0);

		if (p == MAP_FAILED) {
			set_err("mmap %ld: %s", i, strerror(errno));
			break;
		}
		n++;
	}
	mem_read(&b);
	if (!native_top[0] && n) {
		slabs_read(&slab_b);
		slabs_top(&slab_a, &slab_b, n, native_top, sizeof(native_top));
	}
	if (n == NALLOCS)
		record(r, &a, &b, n);
	else
		record_fail(r);
	for (i = 0; i < n; i++)
		munmap(area + i * 2 * GRAN, GRAN);
}

/* Offsets of the committed pages in a sparse reservation. */
static const uint64_t sparse_off[] = { 0, SPARSE / 3, SPARSE / 2 + 5 * PAGE, SPARSE - PAGE };
#define NOFF	ARRAY_SIZE(sparse_off)

static void wv_sparse(struct result *r)
{
	uint64_t base[NSPARSE];
	struct mem a, b;
	long i, n = 0;
	unsigned int j;
	bool ok = true;

	settle();
	mem_read(&a);
	for (i = 0; i < NSPARSE && ok; i++) {
		base[i] = wv_alloc(0, SPARSE, WINVM_MEM_RESERVE, WV_RW);
		if (!base[i])
			break;
		n++;
		for (j = 0; j < NOFF && ok; j++) {
			uint64_t pg = (base[i] + sparse_off[j]) & ~(PAGE - 1);

			ok = wv_alloc(pg, PAGE, WINVM_MEM_COMMIT, WV_RW) != 0;
			if (ok)
				*(volatile char *)PTR(pg) = 1;
		}
	}
	mem_read(&b);
	if (n == NSPARSE && ok)
		record(r, &a, &b, n);
	else
		record_fail(r);
	for (i = 0; i < n; i++)
		wv_free(base[i], 0, WINVM_MEM_RELEASE);
}

static void native_sparse(struct result *r)
{
	char *base[NSPARSE];
	struct mem a, b;
	long i, n = 0;
	unsigned int j;
	bool ok = true;

	settle();
	mem_read(&a);
	for (i = 0; i < NSPARSE && ok; i++) {
		base[i] = native_map(SPARSE, PROT_NONE);
		if (!base[i])
			break;
		n++;
		for (j = 0; j < NOFF && ok; j++) {
			char *pg = PTR(U64(base[i] + sparse_off[j]) & ~(PAGE - 1));

			ok = !mprotect(pg, PAGE, PROT_READ | PROT_WRITE);
			if (ok)
				*(volatile char *)pg = 1;
			else
				set_err("mprotect: %s", strerror(errno));
		}
	}
	mem_read(&b);
	if (n == NSPARSE && ok)
		record(r, &a, &b, n);
	else
		record_fail(r);
	for (i = 0; i < n; i++)
		munmap(base[i], SPARSE);
}

static void emit(const char *name, const char *param, bool have, struct result *w,
		 struct result *n, const char *note)
{
	char p[80];

	snprintf(p, sizeof(p), "%s Slab", param);
	report(name, p, "bytes/alloc", have ? median(w->slab, REPS) : V_NA,
	       median(n->slab, REPS), "%s%s%s", bench_err, bench_err[0] && note ? "; " : "",
	       note ? note : "");
	snprintf(p, sizeof(p), "%s SUnreclaim", param);
	report(name, p, "bytes/alloc", have ? median(w->unrecl, REPS) : V_NA,
	       median(n->unrecl, REPS), NULL);
	snprintf(p, sizeof(p), "%s PageTables", param);
	report(name, p, "bytes/alloc", have ? median(w->ptables, REPS) : V_NA,
	       median(n->ptables, REPS), NULL);
}

int main(void)
{
	bool have = bench_start("7. kernel metadata (bytes per allocation)");
	struct result w = { 0 }, n = { 0 };
	int rep;

	native_thp(false);
	bench_err[0] = 0;
	for (rep = 0; rep < REPS; rep++) {
		if (rep & 1) {
			native_small(&n);
			if (have)
				wv_small(&w);
		} else {
			if (have)
				wv_small(&w);
			native_small(&n);
		}
	}
	{
		char note[600];

		snprintf(note, sizeof(note), "slabinfo growth, bytes per alloc: winvm: %s; native: %s",
			 wv_top[0] ? wv_top : "-", native_top[0] ? native_top : "-");
		emit("kmem.per_alloc", "64KiB resv", have, &w, &n, note);
	}

	memset(&w, 0, sizeof(w));
	memset(&n, 0, sizeof(n));
	bench_err[0] = 0;
	for (rep = 0; rep < REPS; rep++) {
		if (rep & 1) {
			native_sparse(&n);
			if (have)
				wv_sparse(&w);
		} else {
			if (have)
				wv_sparse(&w);
			native_sparse(&n);
		}
	}
	emit("kmem.sparse_1TiB", "4 pages", have, &w, &n, NULL);
	return 0;
}
