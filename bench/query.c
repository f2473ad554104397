// SPDX-License-Identifier: GPL-2.0
/*
 * Case 4, query scaling: VirtualQuery (MEM_QUERY) of an address in a
 * random one of K allocations (K = 10, 1 000, 100 000; each 64 KiB
 * reserved with its first page committed), in the same process, against
 * two native ways of answering the same question:
 *
 *  vs maps:  read /proc/self/maps until the line that contains the address
 *            (what a runtime must do for memory it did not allocate itself,
 *            and all the kernel offers without winvm).  Same process, so
 *            the file has the same K lines the winvm query searches.
 *  vs tree:  a lookup in the runtime's own bookkeeping, the way Wine
 *            answers for its own views: binary search over the sorted
 *            allocations plus a scan of per-page protection bytes for the
 *            region size.  No system call at all, so this is the floor,
 *            not a like-for-like baseline: it cannot see what the kernel
 *            or other code did to the address space.
 *
 * query.runs: one 10 000-page allocation whose pages alternate RO/RW
 * (10 000 runs), queried at random pages, against /proc/self/maps lookups
 * in a native mapping with the same layout (10 000 VMAs).  A query's
 * cost may depend on the allocation's run count (commit_size covers the
 * whole allocation), which the K-allocation rows never show.
 */
#include "bench.h"

#define REPS		21
#define RUN_PAGES	10000
#define MAX_ALLOCS	100000
#define ALLOC_SIZE	GRAN
#define ALLOC_PAGES	(ALLOC_SIZE / PAGE)

struct alloc_rec {
	uint64_t base;
	uint8_t vprot[ALLOC_PAGES];
};

static struct alloc_rec *recs;		/* in allocation order */
static struct alloc_rec **sorted;	/* by base */
static long nrecs;

static int cmp_rec(const void *a, const void *b)
{
	uint64_t x = (*(struct alloc_rec *const *)a)->base;
	uint64_t y = (*(struct alloc_rec *const *)b)->base;

	return x < y ? -1 : x > y;
}

struct q {
	long k;			/* allocations in the process */
	int iters;
	uint64_t seed;
	char *buf;		/* for /proc/self/maps */
	size_t buflen;
};

/* The next query address: page 0 (committed) or 8 (reserved) of a random allocation. */
static uint64_t target(struct q *c, uint64_t *seed)
{
	uint64_t r = lcg(seed);

	return recs[r % c->k].base + ((r >> 20) & 1 ? 8 * PAGE : 0) + 0x10;
}

static double wv_measure(void *arg)
{
	struct q *c = arg;
	struct winvm_query_args qa;
	uint64_t seed = c->seed, addr;
	double t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < c->iters; i++) {
		addr = target(c, &seed);
		if (!wv_query(addr, &qa))
			return NAN;
		if (qa.allocation_base != (addr & ~(GRAN - 1))) {
			set_err("query 0x%" PRIx64 ": allocation_base 0x%" PRIx64, addr,
				(uint64_t)qa.allocation_base);
			return NAN;
		}
	}
	return (now_ns() - t0) / c->iters;
}

static unsigned long parse_hex(const char **s)
{
	unsigned long v = 0;
	int d;

	for (;; (*s)++) {
		char ch = **s;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else
			return v;
		v = v << 4 | d;
	}
}

/* Find the /proc/self/maps line containing @addr; its start, or 0. */
static uint64_t maps_find(struct q *c, uint64_t addr)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	uint64_t found = 0;
	ssize_t got;

	if (fd < 0)
		return 0;
	while (!found && (got = read(fd, c->buf + have, c->buflen - have - 1)) > 0) {
		const char *s = c->buf, *end, *nl;

		have += got;
		c->buf[have] = 0;
		end = c->buf + have;
		while ((nl = memchr(s, '\n', end - s))) {
			unsigned long lo, hi;

			lo = parse_hex(&s);
			s++;
			hi = parse_hex(&s);
			if (addr >= lo && addr < hi) {
				found = lo;
				break;
			}
			s = nl + 1;
		}
		/* Keep the partial last line for the next read. */
		have = end - s;
		memmove(c->buf, s, have);
	}
	close(fd);
	return found;
}

static double maps_measure(void *arg)
{
	struct q *c = arg;
	uint64_t seed = c->seed, addr;
	double t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < c->iters; i++) {
		addr = target(c, &seed);
		if (maps_find(c, addr) != (addr & ~(GRAN - 1))) {
			set_err("maps: 0x%" PRIx64 " not found", addr);
			return NAN;
		}
	}
	return (now_ns() - t0) / c->iters;
}

static double tree_measure(void *arg)
{
	struct q *c = arg;
	uint64_t seed = c->seed, addr, region = 0;
	double t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < c->iters; i++) {
		long lo = 0, hi = c->k - 1, mid;
		struct alloc_rec *r = NULL;
		unsigned int pg, end;

		addr = target(c, &seed);
		while (lo <= hi) {
			mid = (lo + hi) / 2;
			if (addr < sorted[mid]->base) {
				hi = mid - 1;
			} else if (addr >= sorted[mid]->base + ALLOC_SIZE) {
				lo = mid + 1;
			} else {
				r = sorted[mid];
				break;
			}
		}
		if (!r) {
			set_err("tree: 0x%" PRIx64 " not found", addr);
			return NAN;
		}
		pg = (addr - r->base) / PAGE;
		for (end = pg + 1; end < ALLOC_PAGES && r->vprot[end] == r->vprot[pg]; end++)
			;
		region += (end - pg) * PAGE;
		barrier();
	}
	if (!region)
		return NAN;
	return (now_ns() - t0) / c->iters;
}

/* Grow the process to @k allocations. */
static bool grow(long k)
{
	for (; nrecs < k; nrecs++) {
		uint64_t a = wv_alloc(0, ALLOC_SIZE, WINVM_MEM_RESERVE, WV_RW);

		if (!a || !wv_alloc(a, PAGE, WINVM_MEM_COMMIT, WV_RW))
			return false;
		recs[nrecs].base = a;
		memset(recs[nrecs].vprot, 0, ALLOC_PAGES);
		recs[nrecs].vprot[0] = WV_RW;
		sorted[nrecs] = &recs[nrecs];
	}
	qsort(sorted, nrecs, sizeof(sorted[0]), cmp_rec);
	return true;
}

struct runs {
	uint64_t base;
	int iters;
	uint64_t seed;
	char *buf;
	size_t buflen;
};

static uint64_t runs_target(struct runs *c, uint64_t *seed)
{
	return c->base + lcg(seed) % RUN_PAGES * PAGE + 0x10;
}

static double runs_wv(void *arg)
{
	struct runs *c = arg;
	struct winvm_query_args qa;
	uint64_t seed = c->seed, addr;
	double t0 = now_ns();
	int i;

	for (i = 0; i < c->iters; i++) {
		addr = runs_target(c, &seed);
		if (!wv_query(addr, &qa))
			return NAN;
		if (qa.allocation_base != c->base || qa.region_size != PAGE) {
			set_err("query 0x%" PRIx64 ": base 0x%" PRIx64 " region 0x%" PRIx64, addr,
				(uint64_t)qa.allocation_base, (uint64_t)qa.region_size);
			return NAN;
		}
	}
	return (now_ns() - t0) / c->iters;
}

static double runs_maps(void *arg)
{
	struct runs *c = arg;
	struct q qc = { .buf = c->buf, .buflen = c->buflen };
	uint64_t seed = c->seed, addr;
	double t0 = now_ns();
	int i;

	for (i = 0; i < c->iters; i++) {
		addr = runs_target(c, &seed);
		if (maps_find(&qc, addr) != (addr & ~(PAGE - 1))) {
			set_err("maps: 0x%" PRIx64 " not found", addr);
			return NAN;
		}
	}
	return (now_ns() - t0) / c->iters;
}

/* query.runs: see the top of the file. */
static void runs_bench(char *buf, size_t buflen)
{
	size_t len = RUN_PAGES * PAGE;
	struct runs w = { .iters = 20, .seed = 777, .buf = buf, .buflen = buflen };
	struct runs n = w;
	double wm, nm;
	char *p;
	long i;

	bench_err[0] = 0;
	w.base = wv_alloc(0, len, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
	p = native_map(len, PROT_READ | PROT_WRITE);
	if (!w.base || !p) {
		report("query.runs", "1 alloc, 10000 runs", "ns/query", V_ERROR, V_ERROR, "%s",
		       bench_err);
		return;
	}
	n.base = U64(p);
	n.iters = 4;
	for (i = 0; i < RUN_PAGES; i += 2) {
		if (!wv_protect(w.base + i * PAGE, PAGE, WV_RO) ||
		    mprotect(p + i * PAGE, PAGE, PROT_READ))
			break;
	}
	if (i < RUN_PAGES)
		wm = nm = NAN;
	else
		run_pair(REPS, runs_wv, &w, runs_maps, &n, &wm, &nm);
	report("query.runs", "1 alloc, 10000 runs vs maps", "ns/query", wm, nm, "%s",
	       bench_err);
	wv_free(w.base, 0, WINVM_MEM_RELEASE);
	munmap(p, len);
}

int main(void)
{
	static const long ks[] = { 10, 1000, MAX_ALLOCS };
	static const int wv_iters[] = { 500, 500, 500 };
	static const int maps_iters[] = { 50, 10, 1 };
	bool have = bench_start("4. query scaling (per query)");
	struct q c = { .buflen = 256 * KiB, .seed = 12345 };
	unsigned int i;
	long j;

	recs = calloc(MAX_ALLOCS, sizeof(*recs));
	sorted = calloc(MAX_ALLOCS, sizeof(*sorted));
	c.buf = malloc(c.buflen);
	if (!recs || !sorted || !c.buf)
		return 0;
	for (i = 0; i < ARRAY_SIZE(ks); i++) {
		double wm, nm, tm, d;
		struct q cw, cm;
		char param[64];
		double t0;

		bench_err[0] = 0;
		snprintf(param, sizeof(param), "%ld allocations", ks[i]);
		if (!have) {
			report("query", param, "ns/query", V_NA, V_NA, "no /dev/winvm");
			continue;
		}
		t0 = now_ns();
		if (!grow(ks[i])) {
			report("query", param, "ns/query", V_ERROR, V_NA, "%s", bench_err);
			break;
		}
		printf("# %ld allocations in place (%.1f s)\n", nrecs, (now_ns() - t0) / 1e9);
		c.k = ks[i];
		cw = c;
		cm = c;
		cw.iters = wv_iters[i];
		cm.iters = maps_iters[i];
		run_pair(REPS, wv_measure, &cw, maps_measure, &cm, &wm, &nm);
		run_pair(REPS, NULL, NULL, tree_measure, &cw, &d, &tm);
		report("query", strcat(param, " vs maps"), "ns/query", wm, nm, "%s", bench_err);
		snprintf(param, sizeof(param), "%ld allocations vs user tree", ks[i]);
		report("query", param, "ns/query", wm, tm, "userspace lookup: no syscall, a floor");
	}
	for (j = 0; j < nrecs; j++)
		wv_free(recs[j].base, 0, WINVM_MEM_RELEASE);
	if (have)
		runs_bench(c.buf, c.buflen);
	else
		report("query.runs", "1 alloc, 10000 runs vs maps", "ns/query", V_NA, V_NA,
		       "no /dev/winvm");
	return 0;
}
