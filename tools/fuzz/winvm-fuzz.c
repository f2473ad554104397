// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz: seeded random sequences of winvm ioctls interleaved with
 * native memory syscalls, memory accesses, fork, exec and exit.
 *
 *   winvm-fuzz [--seed N] [--ops N] [--time S] [--threads N] [--procs N]
 *              [--mode model|chaos] [--nomem-ok] [--failinject] [--avoid LIST]
 *              [--verbose] [--full-every N]
 *
 * model: every process runs one thread against its own model of the
 *   address space (allocations, per-page state, protections, the first
 *   byte of every page) and, after each step, checks the model against
 *   MEM_QUERY (state, protection, allocation base and protection, region
 *   and allocation sizes, commit size) and /proc/self/maps (the VMAs that
 *   show each allocation, their execute permission, every other mapping).
 *   Ioctl statuses are predicted exactly from the module's documented
 *   rules.  Deterministic: it re-executes itself without ASLR, so a seed
 *   and an op count reproduce a run.
 * chaos: --procs processes of --threads threads hammer shared allocations,
 *   views and section fds; only invariants that hold under any
 *   interleaving are checked (errno/status agreement, self-consistent
 *   MEM_QUERY fields, fault records that match the signal), plus crashes
 *   and hangs (a watchdog dumps the kernel stacks of stuck threads).
 *
 * --nomem-ok: NO_MEMORY / ENOMEM is an allowed outcome of anything (fault
 *   injection); a failed call must still leave the model unchanged.
 * --failinject: also sets /proc/self/make-it-fail for the fuzzing
 *   processes (the debugfs knobs are the caller's business).
 * --fail-nth: model mode; before some ioctls, /proc/thread-self/fail-nth
 *   makes the n-th allocation of that call fail (failslab/fail_page_alloc
 *   with ignore-gfp-wait=N): deterministic, reproducible injection.
 * --avoid: comma-separated classes not to provoke, so a run can look for
 *   new problems: dofork, cow-punch (fixed bugs), nomem-state (open bug),
 *   vma-unmap (native removal of some VMAs of an allocation: documented
 *   behaviour the model does not follow); see selftests/regress.c.
 *
 * The last line is "winvm-fuzz: ... ops=N ... result=PASS|FAIL".
 * Exit status: 0 pass, 1 failure, 2 hang, 4 skip (no /dev/winvm).
 */
#include "fuzz.h"

enum { MODE_MODEL, MODE_CHAOS };

#define AVOID_DOFORK	0x1	/* MADV_DOFORK, then a child using the copy */
#define AVOID_VMA_UNMAP	0x2	/* native removal of some of an allocation's VMAs */
#define AVOID_COW_PUNCH	0x4	/* punching/truncating section pages a copy view maps */
#define AVOID_NOMEM_STATE 0x8	/* state changed by a call that failed with NO_MEMORY */

struct fz_opts {
	uint64_t seed;
	uint64_t ops;
	double time;
	int threads;
	int procs;
	int mode;
	bool nomem_ok;
	bool failinject;
	bool fail_nth;
	bool verbose;
	unsigned int avoid;
	int full_every;
	double hang_s;
	const char *argv0;
};

static struct fz_opts O = {
	.seed = 1, .ops = 20000, .threads = 4, .procs = 2, .mode = MODE_MODEL,
	.full_every = 50, .hang_s = 180,
};

static struct fz_shared *SH;
static uint64_t g_features;
static int g_shfd = -1;

/* ================================================================== */
/* Model mode                                                           */
/* ================================================================== */

/* Per-page state, as the module keeps it (winvm.h WINVM_PS_*). */
#define PS_PROT		0x0ffu
#define PS_GUARD	0x100u
#define PS_COMMIT	0x1000u
#define PS_RESET	0x2000u
#define PS_VISIBLE	(PS_PROT | PS_GUARD | PS_COMMIT)

#define M_MAXA		40
#define M_MAXRUN	256

struct mrun {
	uint64_t start, end;	/* page addresses, [start, end) */
	uint32_t st;
};

struct malloc_ {
	bool used;
	bool view;		/* a section view: tracked, not modelled in detail */
	bool dofork;		/* some VMA had MADV_DOFORK */
	uint64_t base, size;
	uint32_t aprot, cache;
	int nruns;
	struct mrun runs[M_MAXRUN];
};

/* The first byte of every page the model knows to be non-zero. */
#define D_SLOTS		8192
struct mdata {
	uint64_t page;		/* 0: empty slot; 1: tombstone */
	uint8_t val;
	bool unknown;		/* value unknown (any is fine, then learnt) */
};

struct model {
	struct malloc_ a[M_MAXA];
	struct mdata d[D_SLOTS];
	int nd;
	uint64_t arena, arena_size;
	int fd;			/* /dev/winvm */
	int secfd[8];
	int pipe_r, pipe_w;
	int memfd;		/* /proc/self/mem */
	int fnth_fd;		/* /proc/thread-self/fail-nth, for --fail-nth */
	int mif_fd;		/* /proc/self/make-it-fail, for --failinject */
	uint8_t *argpage;	/* [RW][RO][NONE] for bad argument pointers */
	uint64_t step;
	bool pending_record;	/* a kernel-mode write may have left a fault record */
	uint64_t avoid_s, avoid_e;	/* the current op's range: no arguments there */
	struct fz_rng rng;
	char ring[64][200];
	uint64_t nring;
};

static struct model M;
static struct fz_maps MAPS;	/* the address space as of the last check */
static uint64_t g_failures;

#define MLOG(...) do {								\
	snprintf(M.ring[M.nring % 64], sizeof(M.ring[0]), __VA_ARGS__);	\
	if (O.verbose)								\
		fz_log("  [%" PRIu64 "] %s\n", M.step, M.ring[M.nring % 64]);	\
	M.nring++;								\
} while (0)

static void m_dump_ring(void)
{
	uint64_t i = M.nring > 64 ? M.nring - 64 : 0;

	fz_log("# last operations (oldest first):\n");
	for (; i < M.nring; i++)
		fz_log("#   %s\n", M.ring[i % 64]);
}

static FZ_PRINTF(1, 2) void m_fail(const char *fmt, ...)
{
	char buf[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	g_failures++;
	fz_fail(SH, "model seed %" PRIu64 " step %" PRIu64 ": %s", O.seed, M.step, buf);
}

/* ---------------- page data ---------------- */

static struct mdata *d_find(uint64_t page, bool create)
{
	uint64_t h = (page >> 12) * 0x9e3779b97f4a7c15ULL;
	struct mdata *tomb = NULL;
	int i;

	for (i = 0; i < D_SLOTS; i++) {
		struct mdata *d = &M.d[(h + i) % D_SLOTS];

		if (d->page == page)
			return d;
		if (d->page == 1 && !tomb)
			tomb = d;
		if (d->page == 0) {
			if (!create)
				return NULL;
			if (M.nd > D_SLOTS * 3 / 4)
				return NULL;
			d = tomb ? tomb : d;
			d->page = page;
			d->val = 0;
			d->unknown = false;
			M.nd++;
			return d;
		}
	}
	return NULL;
}

static bool d_get(uint64_t page, uint8_t *val)
{
	struct mdata *d = d_find(page, false);

	if (!d) {
		*val = 0;
		return true;
	}
	*val = d->val;
	return !d->unknown;
}

static void d_set(uint64_t page, uint8_t val, bool unknown)
{
	struct mdata *d;

	if (!val && !unknown) {
		d = d_find(page, false);
		if (d) {
			d->page = 1;
			M.nd--;
		}
		return;
	}
	d = d_find(page, true);
	if (d) {
		d->val = val;
		d->unknown = unknown;
	}
}

/* Forget (zero) the data of [start, end). */
static void d_zero(uint64_t start, uint64_t end)
{
	int i;

	for (i = 0; i < D_SLOTS; i++) {
		struct mdata *d = &M.d[i];

		if (d->page > 1 && d->page >= start && d->page < end) {
			d->page = 1;
			M.nd--;
		}
	}
}

static void d_unknown(uint64_t start, uint64_t end)
{
	int i;

	for (i = 0; i < D_SLOTS; i++) {
		struct mdata *d = &M.d[i];

		if (d->page > 1 && d->page >= start && d->page < end)
			d->unknown = true;
	}
}

/* ---------------- allocations ---------------- */

static int m_find(uint64_t addr)
{
	int i;

	for (i = 0; i < M_MAXA; i++)
		if (M.a[i].used && addr >= M.a[i].base && addr - M.a[i].base < M.a[i].size)
			return i;
	return -1;
}

static int m_count(void)
{
	int i, n = 0;

	for (i = 0; i < M_MAXA; i++)
		n += M.a[i].used;
	return n;
}

static struct malloc_ *m_new(uint64_t base, uint64_t size, uint32_t aprot, bool view)
{
	int i;

	for (i = 0; i < M_MAXA; i++) {
		struct malloc_ *a = &M.a[i];

		if (!a->used) {
			memset(a, 0, sizeof(*a));
			a->used = true;
			a->view = view;
			a->base = base;
			a->size = size;
			a->aprot = aprot;
			a->cache = aprot & (WINVM_PAGE_NOCACHE | WINVM_PAGE_WRITECOMBINE);
			return a;
		}
	}
	return NULL;
}

static void m_drop(struct malloc_ *a)
{
	d_zero(a->base, a->base + a->size);
	a->used = false;
}

/* State of the page at @p (0 = reserved). */
static uint32_t a_get(const struct malloc_ *a, uint64_t p)
{
	int lo = 0, hi = a->nruns - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (p < a->runs[mid].start)
			hi = mid - 1;
		else if (p >= a->runs[mid].end)
			lo = mid + 1;
		else
			return a->runs[mid].st;
	}
	return 0;
}

/* Sets [s, e) to @st; false when the run table is full. */
static bool a_set(struct malloc_ *a, uint64_t s, uint64_t e, uint32_t st)
{
	struct mrun out[M_MAXRUN + 4];
	int i, n = 0;
	bool placed = false;

	for (i = 0; i < a->nruns; i++) {
		struct mrun r = a->runs[i];

		if (r.end <= s || r.start >= e) {
			if (r.start >= e && !placed) {
				if (st)
					out[n++] = (struct mrun){ s, e, st };
				placed = true;
			}
			out[n++] = r;
		} else {
			if (r.start < s)
				out[n++] = (struct mrun){ r.start, s, r.st };
			if (!placed) {
				if (st)
					out[n++] = (struct mrun){ s, e, st };
				placed = true;
			}
			if (r.end > e)
				out[n++] = (struct mrun){ e, r.end, r.st };
		}
		if (n > M_MAXRUN)
			return false;
	}
	if (!placed && st)
		out[n++] = (struct mrun){ s, e, st };
	/* Merge equal neighbours. */
	a->nruns = 0;
	for (i = 0; i < n; i++) {
		if (a->nruns && a->runs[a->nruns - 1].end == out[i].start &&
		    a->runs[a->nruns - 1].st == out[i].st)
			a->runs[a->nruns - 1].end = out[i].end;
		else if (a->nruns < M_MAXRUN)
			a->runs[a->nruns++] = out[i];
		else
			return false;
	}
	return true;
}

static bool a_room(const struct malloc_ *a)
{
	return a->nruns < M_MAXRUN - 4;
}

/* Is every page of [s, e) committed? */
static bool a_all_committed(const struct malloc_ *a, uint64_t s, uint64_t e)
{
	uint64_t p = s;
	int i;

	for (i = 0; i < a->nruns && p < e; i++) {
		const struct mrun *r = &a->runs[i];

		if (r->end <= p)
			continue;
		if (r->start > p || !(r->st & PS_COMMIT))
			return false;
		p = r->end;
	}
	return p >= e;
}

static uint64_t a_committed_bytes(const struct malloc_ *a)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < a->nruns; i++)
		if (a->runs[i].st & PS_COMMIT)
			n += a->runs[i].end - a->runs[i].start;
	return n;
}

/* End of the run of pages that look like @p (MEM_QUERY's RegionSize). */
static uint64_t a_region_end(const struct malloc_ *a, uint64_t p)
{
	uint32_t want = a_get(a, p) & PS_VISIBLE;
	uint64_t end = a->base + a->size, q = p;
	int i;

	for (i = 0; i < a->nruns; i++) {
		const struct mrun *r = &a->runs[i];

		if (r->end <= q)
			continue;
		if (r->start > q) {
			/* A reserved gap. */
			if (want)
				return q;
			q = r->start;
		}
		if ((r->st & PS_VISIBLE) != want)
			return q;
		q = r->end;
	}
	if (q < end && want)
		return q;
	return end;
}

static uint32_t m_visible_protect(const struct malloc_ *a, uint32_t st)
{
	uint32_t prot;

	if (!(st & PS_COMMIT))
		return 0;
	prot = st & (PS_PROT | PS_GUARD);
	if ((prot & PS_PROT) != WINVM_PAGE_NOACCESS)
		prot |= a->cache;
	return prot;
}

static uint32_t commit_state(uint32_t prot)
{
	return PS_COMMIT | (prot & (PS_PROT | PS_GUARD));
}

/* view.c winvm_view_prot_allowed(PAGE_EXECUTE_READWRITE, prot). */
static bool view_allowed_exrw(uint32_t prot)
{
	uint32_t base = prot & PS_PROT;

	if (prot & ~(PS_PROT | PS_GUARD))
		return false;
	if (!base || (base & (base - 1)))
		return false;
	return !((prot & PS_GUARD) && base == WINVM_PAGE_NOACCESS);
}

/* ---------------- expected MEM_QUERY ---------------- */

/* Which fields of an expected query are checked. */
#define QF_ALL		0xfff
#define QF_STRUCT	0x1	/* base_address, state known, region bounds */

struct qexp {
	uint32_t status;
	bool partial;		/* a view: only the allocation fields */
	struct winvm_query_args q;
};

static bool vma_is_winvm_name(const struct fz_vma *v)
{
	return !strncmp(v->name, "/winvm", 6);
}

static void expect_query(uint64_t addr, struct qexp *e)
{
	uint64_t page = fz_round_down(addr, FZ_PAGE);
	int ai, vi;

	memset(e, 0, sizeof(*e));
	if (addr > FZ_MAX_ADDR) {
		e->status = WINVM_STATUS_INVALID_PARAMETER;
		return;
	}
	e->status = WINVM_STATUS_SUCCESS;
	e->q.base_address = page;
	ai = m_find(page);
	if (ai >= 0) {
		struct malloc_ *a = &M.a[ai];
		uint32_t st = a_get(a, page);

		e->q.allocation_base = a->base;
		e->q.allocation_protect = a->aprot;
		e->q.allocation_size = a->size;
		e->q.region_flags = WINVM_REGION_WINVM;
		if (a->view) {
			e->partial = true;
			e->q.type = WINVM_MEM_MAPPED;
			return;
		}
		e->q.region_size = a_region_end(a, page) - page;
		e->q.state = st & PS_COMMIT ? WINVM_MEM_COMMIT : WINVM_MEM_RESERVE;
		e->q.protect = m_visible_protect(a, st);
		e->q.type = WINVM_MEM_PRIVATE;
		e->q.commit_size = a_committed_bytes(a);
		return;
	}
	vi = fz_maps_find(&MAPS, page);
	if (vi < 0) {
		int ni = fz_maps_next(&MAPS, page);
		uint64_t next = ni < MAPS.n ? MAPS.v[ni].start : FZ_TOP;

		e->q.region_size = (next < FZ_TOP ? next : FZ_TOP) - page;
		e->q.state = WINVM_MEM_FREE;
		e->q.protect = WINVM_PAGE_NOACCESS;
		return;
	}
	e->q.allocation_base = MAPS.v[vi].start;
	e->q.allocation_protect = fz_vma_protect(&MAPS.v[vi]);
	e->q.region_size = MAPS.v[vi].end - page;
	e->q.state = WINVM_MEM_COMMIT;
	e->q.protect = e->q.allocation_protect;
	e->q.type = fz_vma_type(&MAPS.v[vi]);
	e->q.allocation_size = MAPS.v[vi].end - MAPS.v[vi].start;
	e->q.commit_size = e->q.allocation_size;
}

static void q_log(const char *what, const struct winvm_query_args *q)
{
	fz_log("#   %s: base 0x%llx abase 0x%llx aprot 0x%x region 0x%llx state 0x%x prot 0x%x type 0x%x asize 0x%llx csize 0x%llx flags 0x%x\n",
	       what, (unsigned long long)q->base_address,
	       (unsigned long long)q->allocation_base, q->allocation_protect,
	       (unsigned long long)q->region_size, q->state, q->protect, q->type,
	       (unsigned long long)q->allocation_size, (unsigned long long)q->commit_size,
	       q->region_flags);
}

static bool q_matches(const struct qexp *e, const struct winvm_query_args *q)
{
	if (q->base_address != e->q.base_address || q->allocation_base != e->q.allocation_base ||
	    q->allocation_protect != e->q.allocation_protect || q->type != e->q.type ||
	    q->allocation_size != e->q.allocation_size ||
	    q->region_flags != e->q.region_flags)
		return false;
	if (e->partial) {
		/* A view: the region must stay inside it. */
		return q->base_address + q->region_size <= e->q.allocation_base +
							    e->q.allocation_size;
	}
	return q->region_size == e->q.region_size && q->state == e->q.state &&
	       q->protect == e->q.protect && q->commit_size == e->q.commit_size;
}

/* Queries @addr and compares with the model; false on a mismatch. */
static bool check_query(uint64_t addr, const char *why)
{
	struct winvm_query_args q;
	struct qexp e;
	struct fz_res r;
	const char *p;

	expect_query(addr, &e);
	memset(&q, 0xcc, sizeof(q));
	q.address = addr;
	q.flags = 0;
	q.pad = 0;
	q.reserved[0] = q.reserved[1] = 0;
	r = fz_call(M.fd, WINVM_IOC_MEM_QUERY, &q);
	if (O.nomem_ok && (r.rc == -ENOMEM || r.status == WINVM_STATUS_NO_MEMORY))
		return true;
	if (r.status != e.status) {
		m_fail("%s: MEM_QUERY(0x%llx) -> %s (rc %d), expected %s", why,
		       (unsigned long long)addr, winvm_abi_status_name(r.status), r.rc,
		       winvm_abi_status_name(e.status));
		return false;
	}
	if ((p = fz_res_problem(r, false))) {
		m_fail("%s: MEM_QUERY(0x%llx): %s", why, (unsigned long long)addr, p);
		return false;
	}
	if (r.status)
		return true;
	if ((p = fz_query_problem(addr, &q))) {
		m_fail("%s: MEM_QUERY(0x%llx) inconsistent: %s", why, (unsigned long long)addr, p);
		q_log("got", &q);
		return false;
	}
	if (!q_matches(&e, &q)) {
		m_fail("%s: MEM_QUERY(0x%llx) differs from the model", why,
		       (unsigned long long)addr);
		q_log("got     ", &q);
		q_log("expected", &e.q);
		return false;
	}
	return true;
}

/* ---------------- whole-model checks ---------------- */

static bool maps_refresh(void)
{
	int tries;

	for (tries = 0; tries < 100; tries++)
		if (!fz_maps_read(&MAPS))
			return true;
	m_fail("cannot read /proc/self/maps: %s", strerror(errno));
	return false;
}

/*
 * The VMAs of one allocation: they must tile [base, base + size) exactly,
 * be shared read-write, and carry VM_EXEC where (and only where) their
 * committed pages are executable.
 */
static bool check_tiles(struct malloc_ *a)
{
	uint64_t p = a->base, end = a->base + a->size;
	int i = fz_maps_find(&MAPS, p);

	if (i < 0 || MAPS.v[i].start != a->base) {
		m_fail("allocation 0x%llx+0x%llx: no VMA starts at its base",
		       (unsigned long long)a->base, (unsigned long long)a->size);
		return false;
	}
	for (; p < end; i++) {
		const struct fz_vma *v = &MAPS.v[i];
		bool x_need = false, nx_need = false;
		int r;

		if (i >= MAPS.n || v->start != p) {
			m_fail("allocation 0x%llx+0x%llx: hole at 0x%llx",
			       (unsigned long long)a->base, (unsigned long long)a->size,
			       (unsigned long long)p);
			return false;
		}
		if (v->end > end) {
			m_fail("allocation 0x%llx+0x%llx: VMA 0x%llx-0x%llx runs past its end",
			       (unsigned long long)a->base, (unsigned long long)a->size,
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return false;
		}
		if (v->perms[0] != 'r' || (!a->view && v->perms[1] != 'w') || v->perms[3] != 's') {
			m_fail("allocation VMA 0x%llx-0x%llx has perms %s",
			       (unsigned long long)v->start, (unsigned long long)v->end, v->perms);
			return false;
		}
		if (!a->view) {
			for (r = 0; r < a->nruns; r++) {
				const struct mrun *run = &a->runs[r];

				if (run->end <= v->start || run->start >= v->end ||
				    !(run->st & PS_COMMIT))
					continue;
				if (fz_prot_exec(run->st & PS_PROT))
					x_need = true;
				else
					nx_need = true;
			}
			if (x_need && nx_need) {
				m_fail("VMA 0x%llx-0x%llx mixes executable and non-executable committed pages",
				       (unsigned long long)v->start, (unsigned long long)v->end);
				return false;
			}
			if ((x_need && v->perms[2] != 'x') || (nx_need && v->perms[2] == 'x')) {
				m_fail("VMA 0x%llx-0x%llx is %s but its committed pages are %sexecutable",
				       (unsigned long long)v->start, (unsigned long long)v->end,
				       v->perms, x_need ? "" : "not ");
				return false;
			}
		}
		p = v->end;
	}
	return true;
}

static bool check_alloc(struct malloc_ *a, bool all_regions)
{
	uint64_t p = a->base, end = a->base + a->size;
	int n = 0;

	if (!check_tiles(a))
		return false;
	if (a->view)
		return check_query(a->base + fz_below(&M.rng, a->size), "view");
	while (p < end) {
		uint64_t re = a_region_end(a, p);
		uint64_t off = fz_below(&M.rng, FZ_PAGE);

		if (!check_query(p + off, "region start"))
			return false;
		if (re - p > FZ_PAGE && fz_chance(&M.rng, 30)) {
			uint64_t mid = p + fz_round_down(fz_below(&M.rng, re - p), FZ_PAGE);

			if (!check_query(mid + off, "inside region"))
				return false;
		}
		p = re;
		if (!all_regions && ++n >= 8)
			break;
	}
	return true;
}

/* Every VMA that is not a model allocation must not be a winvm one. */
static bool check_foreign(bool walk)
{
	int i;

	for (i = 0; i < MAPS.n; i++) {
		const struct fz_vma *v = &MAPS.v[i];
		int ai = m_find(v->start);

		if (ai >= 0)
			continue;
		if (m_find(v->end - 1) >= 0) {
			m_fail("VMA 0x%llx-0x%llx overlaps an allocation's start",
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return false;
		}
		/*
		 * Out of memory in its error path, a refused mremap can leave
		 * its copy behind (regress.c, mremap_stray_copy_shows_nothing):
		 * under fault injection only, and then it must show nothing.
		 */
		if (vma_is_winvm_name(v) && O.nomem_ok &&
		    !fz_try_read((void *)(uintptr_t)v->start, NULL) && fz_probe.signo == SIGBUS) {
			MLOG("stray winvm VMA 0x%llx-0x%llx shows nothing; unmapped",
			     (unsigned long long)v->start, (unsigned long long)v->end);
			if (M.mif_fd >= 0 && pwrite(M.mif_fd, "0", 1, 0) != 1)
				m_fail("cannot clear make-it-fail");
			munmap((void *)(uintptr_t)v->start, v->end - v->start);
			if (M.mif_fd >= 0 && pwrite(M.mif_fd, "1", 1, 0) != 1)
				m_fail("cannot set make-it-fail");
			continue;
		}
		if (vma_is_winvm_name(v)) {
			m_fail("winvm VMA 0x%llx-0x%llx (%s) belongs to no known allocation",
			       (unsigned long long)v->start, (unsigned long long)v->end, v->name);
			return false;
		}
		if (walk && !check_query(v->start, "foreign VMA"))
			return false;
	}
	return true;
}

/* A VirtualQuery walk of the whole address space. */
static bool check_walk(void)
{
	uint64_t addr = 0;
	int n = 0;

	while (addr < FZ_TOP && n++ < 20000) {
		struct winvm_query_args q;
		struct fz_res r;

		memset(&q, 0, sizeof(q));
		q.address = addr;
		r = fz_call(M.fd, WINVM_IOC_MEM_QUERY, &q);
		if (r.rc || r.status) {
			if (O.nomem_ok && (r.rc == -ENOMEM))
				return true;
			m_fail("walk: MEM_QUERY(0x%llx) -> rc %d %s", (unsigned long long)addr,
			       r.rc, winvm_abi_status_name(r.status));
			return false;
		}
		if (!check_query(addr, "walk"))
			return false;
		if (q.base_address != addr) {
			m_fail("walk: region at 0x%llx reports base 0x%llx",
			       (unsigned long long)addr, (unsigned long long)q.base_address);
			return false;
		}
		addr += q.region_size;
	}
	if (addr < FZ_TOP) {
		m_fail("walk ended at 0x%llx", (unsigned long long)addr);
		return false;
	}
	return true;
}

static bool m_check(bool full)
{
	int i;

	if (!maps_refresh())
		return false;
	for (i = 0; i < M_MAXA; i++)
		if (M.a[i].used && !check_alloc(&M.a[i], full))
			return false;
	if (!check_foreign(full))
		return false;
	if (full && !check_walk())
		return false;
	/* A few random addresses, anywhere. */
	for (i = 0; i < 2; i++) {
		uint64_t addr;

		switch (fz_below(&M.rng, 4)) {
		case 0:
			addr = M.arena + fz_below(&M.rng, M.arena_size);
			break;
		case 1:
			addr = MAPS.n ? MAPS.v[fz_below(&M.rng, MAPS.n)].start +
				fz_below(&M.rng, 3 * FZ_PAGE) : 0;
			break;
		case 2:
			addr = fz_below(&M.rng, FZ_TOP);
			break;
		default:
			addr = fz_next(&M.rng);
			break;
		}
		if (!check_query(addr, "random"))
			return false;
	}
	return true;
}

/* ---------------- argument placement ---------------- */

enum argwhere {
	ARG_NORMAL,
	ARG_RO,		/* read-only page: copy-in works, copy-out fails */
	ARG_NULL,
	ARG_KERNEL,
	ARG_STRADDLE,	/* runs into a PROT_NONE page */
	ARG_WINVM_RW,	/* in a committed read-write winvm page: works */
	ARG_WINVM_BAD,	/* in a reserved / guard / no-access winvm page */
};

/* A committed page of a model allocation matching @want, or 0. */
static uint64_t pick_page(bool (*want)(uint32_t st))
{
	int tries;

	for (tries = 0; tries < 16; tries++) {
		int ai = fz_below(&M.rng, M_MAXA);
		struct malloc_ *a = &M.a[ai];
		uint64_t p;

		if (!a->used || a->view)
			continue;
		p = a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
		if (fz_chance(&M.rng, 50) && a->nruns) {
			const struct mrun *r = &a->runs[fz_below(&M.rng, a->nruns)];

			p = r->start + fz_round_down(fz_below(&M.rng, r->end - r->start), FZ_PAGE);
		}
		if (want(a_get(a, p)))
			return p;
	}
	return 0;
}

static bool st_rw_plain(uint32_t st)
{
	return (st & PS_COMMIT) && !(st & PS_GUARD) && fz_prot_writable(st);
}

static bool st_inaccessible(uint32_t st)
{
	return !(st & PS_COMMIT) || (st & PS_GUARD) ||
	       (st & PS_PROT) == WINVM_PAGE_NOACCESS;
}

/*
 * Places the argument struct for an ioctl; returns the pointer to pass.
 * *effect says whether the call itself can run (copy-in succeeds) and
 * *copyout whether the result comes back.
 */
static void *place_args(void *args, size_t size, enum argwhere w, bool *effect, bool *copyout)
{
	uint8_t *p;
	uint64_t page;

	*effect = true;
	*copyout = true;
	switch (w) {
	case ARG_RO:
		p = M.argpage + FZ_PAGE;
		/* Both mprotects can fail under fault injection: then no RO page. */
		if (mprotect(p, FZ_PAGE, PROT_READ | PROT_WRITE))
			break;
		memcpy(p, args, size);
		if (mprotect(p, FZ_PAGE, PROT_READ))
			break;
		*copyout = false;
		return p;
	case ARG_NULL:
		*effect = *copyout = false;
		return NULL;
	case ARG_KERNEL:
		*effect = *copyout = false;
		return (void *)0xffff888000000000ULL;
	case ARG_STRADDLE:
		p = M.argpage + FZ_PAGE;
		mprotect(p, FZ_PAGE, PROT_READ | PROT_WRITE);
		*effect = *copyout = false;
		return M.argpage + 3 * FZ_PAGE - size / 2;
	case ARG_WINVM_RW:
		page = pick_page(st_rw_plain);
		/* Not in a page the call itself changes (it could not answer). */
		if (!page || (page < M.avoid_e && page + FZ_PAGE > M.avoid_s))
			break;
		memcpy((void *)(uintptr_t)(page + 64), args, size);
		return (void *)(uintptr_t)(page + 64);
	case ARG_WINVM_BAD:
		page = pick_page(st_inaccessible);
		if (!page)
			break;
		*effect = *copyout = false;
		return (void *)(uintptr_t)(page + 128);
	case ARG_NORMAL:
		break;
	}
	return args;
}

static enum argwhere rand_argwhere(bool may_effect_unseen)
{
	unsigned int x = fz_below(&M.rng, 1000);

	if (x < 950)
		return ARG_NORMAL;
	if (x < 960)
		return ARG_NULL;
	if (x < 965)
		return ARG_KERNEL;
	if (x < 975)
		return ARG_STRADDLE;
	if (x < 985)
		return ARG_WINVM_RW;
	if (x < 993)
		return ARG_WINVM_BAD;
	/* Under fault injection the unseen status could be NO_MEMORY. */
	return may_effect_unseen && !O.nomem_ok ? ARG_RO : ARG_NORMAL;
}

/*
 * Runs an ioctl with the struct placed per @w; copies the result back into
 * @args when the kernel could write it.  Returns the outcome.
 */
static struct fz_res m_ioctl(unsigned long cmd, void *args, size_t size, enum argwhere w,
			     bool *effect)
{
	bool copyout;
	void *p;
	struct fz_res r;
	long off = fz_status_offset(cmd);

	memcpy((char *)args + off, &(uint32_t){ FZ_GARBAGE32 }, 4);
	p = place_args(args, size, w, effect, &copyout);
	if (O.fail_nth && M.fnth_fd >= 0 && fz_chance(&M.rng, 30)) {
		/* Deterministic injection: the n-th allocation of this call fails. */
		char n[8];

		snprintf(n, sizeof(n), "%d", 1 + (int)fz_below(&M.rng, 24));
		if (pwrite(M.fnth_fd, n, strlen(n), 0) > 0) {
			r.rc = fz_ioctl(M.fd, cmd, p);
			if (pwrite(M.fnth_fd, "0", 1, 0) != 1)
				m_fail("cannot reset fail-nth");
			MLOG("(fail-nth %s for the next call)", n);
			goto done;
		}
	}
	r.rc = fz_ioctl(M.fd, cmd, p);
done:
	if (p != args && copyout && *effect)
		memcpy(args, p, size);
	memcpy(&r.status, (char *)args + off, 4);
	if (!copyout || !*effect)
		r.status = FZ_GARBAGE32;
	if (!*effect || !copyout) {
		if (r.rc != -EFAULT)
			m_fail("%s with a bad argument pointer (%d) -> rc %d, expected EFAULT",
			       fz_cmd_name(cmd), (int)w, r.rc);
	}
	return r;
}

/* Checks an outcome against the predicted status. */
static bool expect_status(const char *what, struct fz_res r, uint32_t want, bool effect,
			  bool copyout_ok)
{
	const char *p;

	if (!effect || !copyout_ok)
		return true;	/* m_ioctl checked the EFAULT */
	if (O.nomem_ok && (r.status == WINVM_STATUS_NO_MEMORY || r.rc == -ENOMEM))
		return true;
	if ((p = fz_res_problem(r, false))) {
		m_fail("%s: %s", what, p);
		return false;
	}
	if (r.status != want) {
		m_fail("%s -> %s (0x%08x, rc %d), expected %s (0x%08x)", what,
		       winvm_abi_status_name(r.status), r.status, r.rc, winvm_abi_status_name(want), want);
		return false;
	}
	return true;
}

static bool nomem(struct fz_res r)
{
	return r.status == WINVM_STATUS_NO_MEMORY || r.rc == -ENOMEM;
}

/*
 * --avoid nomem-state: a call that failed with NO_MEMORY may have changed
 * the allocation it worked on (a known bug): give that allocation up
 * instead of checking it, so the run goes on looking for other problems.
 */
static void nomem_forget(uint64_t addr)
{
	struct winvm_free_args f;
	int ai = m_find(addr);
	struct malloc_ *a;

	if (!(O.avoid & AVOID_NOMEM_STATE) || ai < 0)
		return;
	a = &M.a[ai];
	/* The clean-up itself must not be failed by the injection. */
	if (M.mif_fd >= 0 && pwrite(M.mif_fd, "0", 1, 0) != 1)
		m_fail("cannot clear make-it-fail");
	if (a->view) {
		struct winvm_view_unmap_args u = { .address = a->base };

		fz_call(M.fd, WINVM_IOC_VIEW_UNMAP, &u);
	} else {
		memset(&f, 0, sizeof(f));
		f.address = a->base;
		f.type = WINVM_MEM_RELEASE;
		fz_call(M.fd, WINVM_IOC_MEM_FREE, &f);
	}
	munmap((void *)(uintptr_t)a->base, a->size);
	if (M.mif_fd >= 0 && pwrite(M.mif_fd, "1", 1, 0) != 1)
		m_fail("cannot set make-it-fail");
	MLOG("forgot allocation 0x%llx after NO_MEMORY", (unsigned long long)a->base);
	m_drop(a);
}

/* ---------------- address and size generators ---------------- */

static const uint64_t boundary_addrs[] = {
	0, 1, 0xfff, 0x1000, 0xffff, FZ_MIN_ADDR, FZ_MIN_ADDR - 1, FZ_MIN_ADDR + 1,
	FZ_MAX_ADDR, FZ_MAX_ADDR - 1, FZ_MAX_ADDR - 0xfff, FZ_MAX_ADDR - 0xffff, FZ_TOP,
	FZ_TOP + 1, 0x7fffffffffffULL, FZ_TASK_SIZE, FZ_TASK_SIZE - 1, 0x800000000000ULL,
	~0ULL, ~0ULL - 0xfff, 0xffff800000000000ULL, 0xffffffffff600000ULL,
	1ULL << 31, 1ULL << 32, (1ULL << 32) - FZ_GRAN, 1ULL << 40, 0x8000000000000000ULL,
};

static const uint64_t boundary_sizes[] = {
	0, 1, 0xfff, 0x1000, 0x1001, 0xffff, 0x10000, 0x10001, 0x20000,
	1ULL << 30, 1ULL << 40, 1ULL << 46, FZ_MAX_ADDR, FZ_TOP, FZ_TOP + 1,
	~0ULL, ~0ULL - 0xfff, 0x8000000000000000ULL, FZ_TASK_SIZE,
};

static struct malloc_ *rand_alloc(bool private_only)
{
	int i, start = fz_below(&M.rng, M_MAXA);

	for (i = 0; i < M_MAXA; i++) {
		struct malloc_ *a = &M.a[(start + i) % M_MAXA];

		if (a->used && (!private_only || !a->view))
			return a;
	}
	return NULL;
}

static uint64_t rand_arena_addr(void)
{
	uint64_t off = fz_below(&M.rng, M.arena_size);

	switch (fz_below(&M.rng, 4)) {
	case 0:
		return M.arena + fz_round_down(off, FZ_GRAN);
	case 1:
		return M.arena + fz_round_down(off, FZ_PAGE);
	case 2:
		return M.arena + off;
	default:
		return M.arena + fz_round_down(off, FZ_GRAN) + FZ_PAGE * fz_below(&M.rng, 16);
	}
}

/* An address for an operation: mostly inside or near what exists. */
static uint64_t rand_addr(void)
{
	struct malloc_ *a;
	unsigned int x = fz_below(&M.rng, 100);

	if (x < 45 && (a = rand_alloc(false))) {
		uint64_t end = a->base + a->size;

		switch (fz_below(&M.rng, 10)) {
		case 0: return a->base;
		case 1: return end;
		case 2: return end - FZ_PAGE;
		case 3: return a->base - FZ_PAGE;
		case 4: return a->base + fz_below(&M.rng, a->size);
		case 5: return end - 1;
		case 6:
			if (a->nruns) {
				const struct mrun *r = &a->runs[fz_below(&M.rng, a->nruns)];

				return fz_chance(&M.rng, 50) ? r->start : r->end;
			}
			return a->base;
		default:
			return a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
		}
	}
	if (x < 80)
		return rand_arena_addr();
	if (x < 90)
		return FZ_PICK(&M.rng, boundary_addrs);
	if (x < 95 && MAPS.n)
		return MAPS.v[fz_below(&M.rng, MAPS.n)].start + FZ_PAGE * fz_below(&M.rng, 4);
	return fz_next(&M.rng);
}

static uint64_t rand_size(uint64_t addr)
{
	unsigned int x = fz_below(&M.rng, 100);

	if (x < 45)
		return FZ_PAGE * (1 + fz_below(&M.rng, 32)) - (fz_chance(&M.rng, 10) ? 1 : 0);
	if (x < 60)
		return FZ_GRAN * (1 + fz_below(&M.rng, 8));
	if (x < 70)
		return 1 + fz_below(&M.rng, 3 * FZ_PAGE);
	if (x < 85)
		return FZ_PICK(&M.rng, boundary_sizes);
	if (x < 90)
		return FZ_MAX_ADDR + 1 - addr + fz_below(&M.rng, 3) - 1;	/* around the top */
	if (x < 95)
		return -addr + fz_below(&M.rng, 3) * FZ_PAGE;	/* wraps */
	return fz_next(&M.rng) >> fz_below(&M.rng, 64);
}

/* ---------------- ioctl ops ---------------- */

static uint32_t rand_alloc_type(void)
{
	static const uint32_t odd[] = {
		0, WINVM_MEM_DECOMMIT, WINVM_MEM_RELEASE, WINVM_MEM_FREE, WINVM_MEM_PRIVATE,
		WINVM_MEM_WRITE_WATCH | WINVM_MEM_RESERVE, WINVM_MEM_PHYSICAL | WINVM_MEM_RESERVE,
		WINVM_MEM_LARGE_PAGES | WINVM_MEM_COMMIT | WINVM_MEM_RESERVE,
		WINVM_AT_ROUND_TO_PAGE | WINVM_MEM_RESERVE, WINVM_MEM_RESET | WINVM_MEM_COMMIT,
		WINVM_MEM_RESET | WINVM_MEM_RESET_UNDO, WINVM_MEM_TOP_DOWN,
		WINVM_MEM_RESERVE_PLACEHOLDER | WINVM_MEM_RESERVE, 0xffffffffu,
	};
	unsigned int x = fz_below(&M.rng, 100);
	uint32_t t;

	if (x < 35)
		t = WINVM_MEM_RESERVE;
	else if (x < 58)
		t = WINVM_MEM_RESERVE | WINVM_MEM_COMMIT;
	else if (x < 88)
		t = WINVM_MEM_COMMIT;
	else if (x < 92)
		return WINVM_MEM_RESET;
	else if (x < 95)
		return WINVM_MEM_RESET_UNDO;
	else
		return fz_chance(&M.rng, 80) ? FZ_PICK(&M.rng, odd) : (uint32_t)fz_next(&M.rng);
	if (fz_chance(&M.rng, 10))
		t |= WINVM_MEM_TOP_DOWN;
	return t;
}

static uint64_t rand_zero_bits(void)
{
	unsigned int x = fz_below(&M.rng, 100);

	if (x < 88)
		return 0;
	if (x < 92)
		return 1 + fz_below(&M.rng, 21);
	if (x < 94)
		return 22 + fz_below(&M.rng, 10);
	if (x < 98)
		return (1ULL << (32 + fz_below(&M.rng, 16))) - 1;
	return fz_next(&M.rng);
}

/* The module's zero_bits rule (mem.c winvm_zero_bits_limit). */
static uint32_t zero_bits_limit(uint64_t zb, uint64_t *limit)
{
	int bits;

	*limit = FZ_TOP;
	if (!zb)
		return 0;
	if (zb <= 21) {
		*limit = 1ULL << (32 - zb);
		return 0;
	}
	if (zb <= 31)
		return WINVM_STATUS_INVALID_PARAMETER_3;
	bits = 64 - __builtin_clzll(zb);
	if (bits < 47)
		*limit = (1ULL << bits) < FZ_TOP ? 1ULL << bits : FZ_TOP;
	return 0;
}

/* Bounded search for a NULL-address allocation (mem.c winvm_find_below). */
static uint64_t find_below(uint64_t len, uint64_t limit, bool topdown)
{
	uint64_t gap_start = FZ_MIN_ADDR, gap_end, cand, best = 0;
	bool done = false, broke = false;
	int i;

	for (i = 0; i < MAPS.n; i++) {
		const struct fz_vma *v = &MAPS.v[i];

		gap_end = v->start < limit ? v->start : limit;
		if (gap_end > gap_start && gap_end - gap_start >= len) {
			if (topdown) {
				cand = fz_round_down(gap_end - len, FZ_GRAN);
				if (cand >= gap_start)
					best = cand;
			} else {
				cand = fz_round_up(gap_start, FZ_GRAN);
				if (cand + len <= gap_end) {
					best = cand;
					done = true;
				}
			}
		}
		if (done || v->start >= limit) {
			broke = true;
			break;
		}
		if (v->end > gap_start)
			gap_start = v->end;
	}
	if (!done && (!broke || MAPS.v[i].start < limit) && limit > gap_start &&
	    limit - gap_start >= len) {
		cand = topdown ? fz_round_down(limit - len, FZ_GRAN) :
				 fz_round_up(gap_start, FZ_GRAN);
		if (cand >= gap_start && cand + len <= limit)
			best = cand;
	}
	return best;
}

/* MEM_ALLOC commit/reset target: the allocation, or the error status. */
static int commit_target(uint64_t start, uint64_t end, uint32_t *st)
{
	int ai = m_find(start);
	struct malloc_ *a = ai >= 0 ? &M.a[ai] : NULL;

	if (!a || end > a->base + a->size) {
		uint64_t g = fz_round_down(start, FZ_GRAN);

		*st = (a || fz_maps_busy(&MAPS, g, g + FZ_GRAN)) ?
		      WINVM_STATUS_CONFLICTING_ADDRESSES : WINVM_STATUS_NOT_MAPPED_VIEW;
		return -1;
	}
	*st = 0;
	return ai;
}

static void op_alloc(void)
{
	struct winvm_alloc_args a, in;
	uint64_t addr, size, limit = FZ_TOP, start = 0, end = 0, len = 0;
	uint32_t want = WINVM_STATUS_SUCCESS, type, zst;
	bool reserve, effect, any_addr = false, maybe_nomem = false, fresh = false;
	bool commit_op = false, reset_op = false, prot_ok;
	enum argwhere w;
	struct fz_res r;
	int ai = -1;
	char what[160];

	memset(&a, 0, sizeof(a));
	if (fz_chance(&M.rng, 30)) {
		a.address = 0;
	} else {
		a.address = rand_addr();
	}
	a.size = a.address || fz_chance(&M.rng, 80) ? rand_size(a.address) :
		 (1ULL << 30) << fz_below(&M.rng, 11);
	a.type = rand_alloc_type();
	a.protect = fz_rand_prot(&M.rng);
	a.zero_bits = rand_zero_bits();
	if (fz_chance(&M.rng, 2))
		a.flags = 1u << fz_below(&M.rng, 32);
	if (fz_chance(&M.rng, 2))
		a.reserved[fz_below(&M.rng, 2)] = fz_next(&M.rng) | 1;
	/* Keep the model small. */
	if (m_count() >= M_MAXA - 4) {
		a.type = WINVM_MEM_COMMIT;
		if (!a.address)
			a.address = rand_addr();
	}
	in = a;
	addr = a.address;
	size = a.size;
	type = a.type;
	reserve = (type & WINVM_MEM_RESERVE) || (!addr && (type & WINVM_MEM_COMMIT));
	prot_ok = fz_prot_valid_private(a.protect);

	/* Predict, in the module's order. */
	if (a.flags || a.reserved[0] || a.reserved[1])
		want = WINVM_STATUS_INVALID_PARAMETER;
	else if (type & WINVM_AT_ROUND_TO_PAGE)
		want = WINVM_STATUS_INVALID_PARAMETER_5;
	else if (type & (WINVM_MEM_WRITE_WATCH | WINVM_MEM_LARGE_PAGES | WINVM_MEM_PHYSICAL))
		want = WINVM_STATUS_NOT_SUPPORTED;
	else if (type != WINVM_MEM_RESET && type != WINVM_MEM_RESET_UNDO &&
		 ((type & ~(WINVM_MEM_RESERVE | WINVM_MEM_COMMIT | WINVM_MEM_TOP_DOWN)) ||
		  !(type & (WINVM_MEM_RESERVE | WINVM_MEM_COMMIT))))
		want = WINVM_STATUS_INVALID_PARAMETER;
	else if (type != WINVM_MEM_RESET && type != WINVM_MEM_RESET_UNDO && !prot_ok &&
		 (!addr || (type & WINVM_MEM_RESERVE) || !view_allowed_exrw(a.protect)))
		want = WINVM_STATUS_INVALID_PAGE_PROTECTION;
	else if (!size)
		want = WINVM_STATUS_INVALID_PARAMETER;
	else if ((zst = zero_bits_limit(a.zero_bits, &limit)))
		want = zst;
	else if (!addr) {
		if (!reserve || size > FZ_MAX_ADDR) {
			want = WINVM_STATUS_INVALID_PARAMETER;
		} else {
			len = fz_page_align(size);
			fresh = true;
			any_addr = true;
			if (limit <= FZ_MAX_ADDR) {
				start = find_below(len, limit, type & WINVM_MEM_TOP_DOWN);
				if (!start)
					want = WINVM_STATUS_NO_MEMORY;
				else
					any_addr = false;
			} else if (len >= (1ULL << 44)) {
				maybe_nomem = true;
			}
		}
	} else {
		start = reserve ? fz_round_down(addr, FZ_GRAN) : fz_round_down(addr, FZ_PAGE);
		if (addr > FZ_MAX_ADDR || size > FZ_MAX_ADDR + 1 - addr || start < FZ_MIN_ADDR) {
			want = WINVM_STATUS_INVALID_PARAMETER;
		} else {
			end = fz_page_align(addr + size);
			if (end > limit) {
				want = WINVM_STATUS_INVALID_PARAMETER_3;
			} else if (type == WINVM_MEM_RESET || type == WINVM_MEM_RESET_UNDO) {
				reset_op = true;
				ai = commit_target(start, end, &want);
			} else if (reserve) {
				fresh = true;
				len = end - start;
				if (fz_maps_busy(&MAPS, start, end))
					want = WINVM_STATUS_CONFLICTING_ADDRESSES;
			} else {
				commit_op = true;
				ai = commit_target(start, end, &want);
				/* Write-copy is refused once the target is private. */
				if (ai >= 0 && !M.a[ai].view && !prot_ok)
					want = WINVM_STATUS_INVALID_PAGE_PROTECTION;
			}
		}
	}
	if (ai >= 0 && M.a[ai].view) {
		/* Views: not modelled in detail. */
		w = ARG_NORMAL;
		r = m_ioctl(WINVM_IOC_MEM_ALLOC, &a, sizeof(a), w, &effect);
		MLOG("MEM_ALLOC(view 0x%llx, 0x%llx, type 0x%x, prot 0x%x) -> %s",
		     (unsigned long long)addr, (unsigned long long)size, type, in.protect,
		     winvm_abi_status_name(r.status));
		if (fz_res_problem(r, false))
			m_fail("MEM_ALLOC on a view: %s", fz_res_problem(r, false));
		if (O.nomem_ok && nomem(r))
			nomem_forget(start);
		return;
	}
	/* Undo that cannot be told apart from success needs a seen flag. */
	if (reset_op && ai >= 0 && type == WINVM_MEM_RESET_UNDO) {
		struct malloc_ *m = &M.a[ai];
		int i;

		want = WINVM_STATUS_SUCCESS;
		for (i = 0; i < m->nruns; i++) {
			const struct mrun *run = &m->runs[i];

			if (run->end <= start || run->start >= end)
				continue;
			if ((run->st & PS_COMMIT) && (run->st & PS_RESET))
				want = WINVM_STATUS_UNSUCCESSFUL;
		}
	}
	if ((reset_op || commit_op) && ai >= 0 && !a_room(&M.a[ai]))
		return;

	w = rand_argwhere(!any_addr && !maybe_nomem);
	M.avoid_s = start;
	M.avoid_e = fresh ? start + len : end;
	r = m_ioctl(WINVM_IOC_MEM_ALLOC, &a, sizeof(a), w, &effect);
	snprintf(what, sizeof(what),
		 "MEM_ALLOC(0x%llx, 0x%llx, zb 0x%llx, type 0x%x, prot 0x%x%s)",
		 (unsigned long long)addr, (unsigned long long)size,
		 (unsigned long long)in.zero_bits, type, in.protect,
		 in.flags || in.reserved[0] || in.reserved[1] ? ", junk" : "");
	MLOG("%s arg %d -> rc %d %s addr 0x%llx size 0x%llx", what, (int)w, r.rc,
	     winvm_abi_status_name(r.status), (unsigned long long)a.address,
	     (unsigned long long)a.size);
	if (!effect)
		return;
	if (O.nomem_ok && nomem(r)) {
		if (ai >= 0)
			nomem_forget(start);
		return;
	}
	if (maybe_nomem && r.status == WINVM_STATUS_NO_MEMORY)
		return;
	if (!expect_status(what, r, want, effect, w != ARG_RO))
		return;
	if (want != WINVM_STATUS_SUCCESS && want != WINVM_STATUS_UNSUCCESSFUL)
		return;

	if (fresh) {
		struct malloc_ *m;

		if (w != ARG_RO) {
			if (any_addr) {
				start = a.address;
				if ((start & (FZ_GRAN - 1)) || start < FZ_MIN_ADDR ||
				    start + len > limit || start + len < start) {
					m_fail("%s: bad placement 0x%llx", what,
					       (unsigned long long)start);
					return;
				}
				if (fz_maps_busy(&MAPS, start, start + len)) {
					m_fail("%s: placed over an existing mapping at 0x%llx",
					       what, (unsigned long long)start);
					return;
				}
			} else if (a.address != start) {
				m_fail("%s: address 0x%llx, expected 0x%llx", what,
				       (unsigned long long)a.address, (unsigned long long)start);
				return;
			}
			if (a.size != len) {
				m_fail("%s: size 0x%llx, expected 0x%llx", what,
				       (unsigned long long)a.size, (unsigned long long)len);
				return;
			}
		}
		m = m_new(start, len, in.protect, false);
		if (!m) {
			m_fail("model full (fuzzer bug)");
			return;
		}
		if (type & WINVM_MEM_COMMIT)
			a_set(m, start, start + len, commit_state(in.protect));
		return;
	}
	if (w != ARG_RO && (a.address != start || a.size != end - start)) {
		m_fail("%s: returned 0x%llx+0x%llx, expected 0x%llx+0x%llx", what,
		       (unsigned long long)a.address, (unsigned long long)a.size,
		       (unsigned long long)start, (unsigned long long)(end - start));
		return;
	}
	if (commit_op) {
		struct malloc_ *m = &M.a[ai];
		uint64_t p;

		/* Pages that were not committed come in zeroed. */
		for (p = start; p < end; ) {
			uint32_t s = a_get(m, p);
			uint64_t re = a_region_end(m, p);

			if (re > end)
				re = end;
			if (!(s & PS_COMMIT))
				d_zero(p, re);
			p = re;
		}
		a_set(m, start, end, commit_state(in.protect));
	} else if (reset_op) {
		struct malloc_ *m = &M.a[ai];
		struct mrun todo[M_MAXRUN];
		int i, n = 0;

		for (i = 0; i < m->nruns; i++) {
			const struct mrun *run = &m->runs[i];
			uint64_t s = run->start > start ? run->start : start;
			uint64_t e = run->end < end ? run->end : end;

			if (s < e && (run->st & PS_COMMIT))
				todo[n++] = (struct mrun){ s, e, type == WINVM_MEM_RESET ?
							   run->st | PS_RESET :
							   run->st & ~PS_RESET };
		}
		for (i = 0; i < n; i++) {
			if (type == WINVM_MEM_RESET)
				d_zero(todo[i].start, todo[i].end);
			a_set(m, todo[i].start, todo[i].end, todo[i].st);
		}
	}
}

static void op_free(void)
{
	struct winvm_free_args f, in;
	uint64_t addr, size, start = 0, end = 0;
	uint32_t want = WINVM_STATUS_SUCCESS;
	struct malloc_ *m = NULL;
	enum argwhere w;
	bool effect, whole = false;
	struct fz_res r;
	char what[160];
	int ai = -1;

	memset(&f, 0, sizeof(f));
	f.type = fz_chance(&M.rng, 50) ? WINVM_MEM_RELEASE : WINVM_MEM_DECOMMIT;
	if (fz_chance(&M.rng, 4))
		f.type = fz_chance(&M.rng, 50) ? (uint32_t)fz_next(&M.rng) :
			 (WINVM_MEM_RELEASE | WINVM_MEM_DECOMMIT);
	m = rand_alloc(false);
	if (m && fz_chance(&M.rng, 85)) {
		uint64_t off = fz_round_down(fz_below(&M.rng, m->size), FZ_PAGE);

		switch (fz_below(&M.rng, 6)) {
		case 0:
		case 1:
			f.address = m->base + (fz_chance(&M.rng, 20) ? fz_below(&M.rng, FZ_PAGE) : 0);
			f.size = 0;
			break;
		case 2:
			f.address = m->base + off;
			f.size = fz_page_align(1 + fz_below(&M.rng, m->size - off));
			break;
		case 3:
			f.address = m->base;
			f.size = m->size - (fz_chance(&M.rng, 50) ? FZ_PAGE : 0);
			break;
		default:
			f.address = m->base + off + fz_below(&M.rng, FZ_PAGE);
			f.size = rand_size(f.address);
			break;
		}
	} else {
		f.address = rand_addr();
		f.size = fz_chance(&M.rng, 40) ? 0 : rand_size(f.address);
	}
	if (fz_chance(&M.rng, 2))
		f.flags = 1u << fz_below(&M.rng, 32);
	if (fz_chance(&M.rng, 2))
		f.pad = 1;
	if (fz_chance(&M.rng, 2))
		f.reserved[fz_below(&M.rng, 2)] = 1;
	in = f;
	addr = f.address;
	size = f.size;

	if (f.flags || f.pad || f.reserved[0] || f.reserved[1])
		want = WINVM_STATUS_INVALID_PARAMETER;
	else if (f.type != WINVM_MEM_DECOMMIT && f.type != WINVM_MEM_RELEASE)
		want = WINVM_STATUS_INVALID_PARAMETER;
	else if (!addr || addr > FZ_MAX_ADDR || size > FZ_MAX_ADDR + 1 - addr)
		want = WINVM_STATUS_INVALID_PARAMETER;
	else if ((ai = m_find(fz_round_down(addr, FZ_PAGE))) < 0)
		want = WINVM_STATUS_MEMORY_NOT_ALLOCATED;
	else {
		m = &M.a[ai];
		if (m->view) {
			r = m_ioctl(WINVM_IOC_MEM_FREE, &f, sizeof(f), ARG_NORMAL, &effect);
			MLOG("MEM_FREE(view 0x%llx, 0x%llx, 0x%x) -> %s", (unsigned long long)addr,
			     (unsigned long long)size, in.type, winvm_abi_status_name(r.status));
			if (fz_res_problem(r, false))
				m_fail("MEM_FREE on a view: %s", fz_res_problem(r, false));
			if (!r.rc)
				m_fail("MEM_FREE on a view succeeded");
			return;
		}
		if (!size) {
			if (fz_round_down(addr, FZ_PAGE) != m->base) {
				want = WINVM_STATUS_FREE_VM_NOT_AT_BASE;
			} else {
				start = m->base;
				end = m->base + m->size;
				whole = true;
			}
		} else {
			start = fz_round_down(addr, FZ_PAGE);
			end = fz_page_align(addr + size);
			if (end > m->base + m->size)
				want = WINVM_STATUS_UNABLE_TO_FREE_VM;
		}
	}
	if (!want && f.type == WINVM_MEM_RELEASE && start > m->base && end < m->base + m->size &&
	    m_count() >= M_MAXA - 1)
		return;
	if (!want && f.type == WINVM_MEM_DECOMMIT && !a_room(m))
		return;

	w = rand_argwhere(true);
	M.avoid_s = start;
	M.avoid_e = end;
	r = m_ioctl(WINVM_IOC_MEM_FREE, &f, sizeof(f), w, &effect);
	snprintf(what, sizeof(what), "MEM_FREE(0x%llx, 0x%llx, type 0x%x%s)",
		 (unsigned long long)addr, (unsigned long long)size, in.type,
		 in.flags || in.pad || in.reserved[0] || in.reserved[1] ? ", junk" : "");
	MLOG("%s arg %d -> rc %d %s addr 0x%llx size 0x%llx", what, (int)w, r.rc,
	     winvm_abi_status_name(r.status), (unsigned long long)f.address,
	     (unsigned long long)f.size);
	if (!effect)
		return;
	if (O.nomem_ok && nomem(r)) {
		if (ai >= 0)
			nomem_forget(start);
		return;
	}
	if (!expect_status(what, r, want, effect, w != ARG_RO) || want)
		return;
	if (w != ARG_RO) {
		uint64_t rsize = f.type == WINVM_MEM_DECOMMIT && whole ? 0 : end - start;

		if (f.address != start || f.size != rsize) {
			m_fail("%s: returned 0x%llx+0x%llx, expected 0x%llx+0x%llx", what,
			       (unsigned long long)f.address, (unsigned long long)f.size,
			       (unsigned long long)start, (unsigned long long)rsize);
			return;
		}
	}
	d_zero(start, end);
	if (f.type == WINVM_MEM_DECOMMIT) {
		a_set(m, start, end, 0);
		return;
	}
	/* Release. */
	if (start == m->base && end == m->base + m->size) {
		m_drop(m);
	} else if (start == m->base) {
		a_set(m, start, end, 0);
		m->size = m->base + m->size - end;
		m->base = end;
	} else if (end == m->base + m->size) {
		a_set(m, start, end, 0);
		m->size = start - m->base;
	} else {
		struct malloc_ *t = m_new(end, m->base + m->size - end, m->aprot, false);
		int i;

		if (!t) {
			m_fail("model full");
			return;
		}
		t->cache = m->cache;
		for (i = 0; i < m->nruns; i++) {
			struct mrun *run = &m->runs[i];
			uint64_t s = run->start > end ? run->start : end;

			if (run->end > s)
				t->runs[t->nruns++] = (struct mrun){ s, run->end, run->st };
		}
		a_set(m, start, m->base + m->size, 0);
		m->size = start - m->base;
	}
}

static void op_protect(void)
{
	struct winvm_protect_args p, in;
	uint64_t addr, size, start = 0, end = 0;
	uint32_t want = WINVM_STATUS_SUCCESS, old = WINVM_PAGE_NOACCESS;
	struct malloc_ *m;
	enum argwhere w;
	bool effect, check_old = true;
	struct fz_res r;
	char what[160];
	int ai;

	memset(&p, 0, sizeof(p));
	p.protect = fz_rand_prot(&M.rng);
	m = rand_alloc(false);
	if (m && fz_chance(&M.rng, 85)) {
		uint64_t off = fz_round_down(fz_below(&M.rng, m->size), FZ_PAGE);

		if (fz_chance(&M.rng, 50) && m->nruns) {
			const struct mrun *run = &m->runs[fz_below(&M.rng, m->nruns)];

			p.address = run->start;
			p.size = run->end - run->start;
			if (fz_chance(&M.rng, 30))
				p.size = FZ_PAGE * (1 + fz_below(&M.rng, p.size / FZ_PAGE));
		} else {
			p.address = m->base + off + (fz_chance(&M.rng, 20) ? fz_below(&M.rng, FZ_PAGE) : 0);
			p.size = fz_chance(&M.rng, 80) ?
				 fz_page_align(1 + fz_below(&M.rng, m->size - off)) :
				 rand_size(p.address);
		}
	} else {
		p.address = rand_addr();
		p.size = rand_size(p.address);
	}
	if (fz_chance(&M.rng, 2))
		p.flags = 1;
	if (fz_chance(&M.rng, 2))
		p.reserved[fz_below(&M.rng, 2)] = 1;
	p.old_protect = FZ_GARBAGE32;
	in = p;
	addr = p.address;
	size = p.size;

	if (p.flags || p.reserved[0] || p.reserved[1]) {
		want = WINVM_STATUS_INVALID_PARAMETER;
		check_old = false;
	} else if (!fz_prot_valid_private(p.protect) && !view_allowed_exrw(p.protect)) {
		want = WINVM_STATUS_INVALID_PAGE_PROTECTION;
	} else if (!size || addr > FZ_MAX_ADDR || size > FZ_MAX_ADDR + 1 - addr) {
		want = WINVM_STATUS_INVALID_PARAMETER;
	} else {
		start = fz_round_down(addr, FZ_PAGE);
		end = fz_page_align(addr + size);
		ai = m_find(start);
		if (ai < 0) {
			want = WINVM_STATUS_CONFLICTING_ADDRESSES;
		} else if (M.a[ai].view) {
			r = m_ioctl(WINVM_IOC_MEM_PROTECT, &p, sizeof(p), ARG_NORMAL, &effect);
			MLOG("MEM_PROTECT(view 0x%llx, 0x%llx, 0x%x) -> %s",
			     (unsigned long long)addr, (unsigned long long)size, in.protect,
			     winvm_abi_status_name(r.status));
			if (fz_res_problem(r, false))
				m_fail("MEM_PROTECT on a view: %s", fz_res_problem(r, false));
			if (O.nomem_ok && nomem(r))
				nomem_forget(start);
			return;
		} else {
			m = &M.a[ai];
			if (end > m->base + m->size)
				want = WINVM_STATUS_INVALID_PARAMETER;
			else if (!fz_prot_valid_private(p.protect))
				want = WINVM_STATUS_INVALID_PAGE_PROTECTION;
			else if (!a_all_committed(m, start, end))
				want = WINVM_STATUS_NOT_COMMITTED;
			else
				old = m_visible_protect(m, a_get(m, start));
			if (!want && !a_room(m))
				return;
		}
	}
	w = rand_argwhere(true);
	M.avoid_s = start;
	M.avoid_e = end;
	r = m_ioctl(WINVM_IOC_MEM_PROTECT, &p, sizeof(p), w, &effect);
	snprintf(what, sizeof(what), "MEM_PROTECT(0x%llx, 0x%llx, 0x%x%s)",
		 (unsigned long long)addr, (unsigned long long)size, in.protect,
		 in.flags || in.reserved[0] || in.reserved[1] ? ", junk" : "");
	MLOG("%s arg %d -> rc %d %s old 0x%x", what, (int)w, r.rc, winvm_abi_status_name(r.status),
	     p.old_protect);
	if (!effect)
		return;
	if (O.nomem_ok && nomem(r)) {
		nomem_forget(start);
		return;
	}
	if (!expect_status(what, r, want, effect, w != ARG_RO))
		return;
	if (w != ARG_RO && check_old && p.old_protect != old) {
		m_fail("%s: old_protect 0x%x, expected 0x%x", what, p.old_protect, old);
		return;
	}
	if (want)
		return;
	if (w != ARG_RO && (p.address != start || p.size != end - start)) {
		m_fail("%s: returned 0x%llx+0x%llx", what, (unsigned long long)p.address,
		       (unsigned long long)p.size);
		return;
	}
	a_set(m, start, end, commit_state(in.protect));
}

static void op_query(void)
{
	struct winvm_query_args q;
	struct qexp e;
	enum argwhere w;
	bool effect;
	struct fz_res r;
	uint64_t addr = fz_chance(&M.rng, 70) ? rand_addr() : fz_next(&M.rng);

	memset(&q, 0, sizeof(q));
	q.address = addr;
	if (fz_chance(&M.rng, 3)) {
		switch (fz_below(&M.rng, 3)) {
		case 0: q.flags = 1; break;
		case 1: q.pad = 1; break;
		default: q.reserved[fz_below(&M.rng, 2)] = 1; break;
		}
		r = m_ioctl(WINVM_IOC_MEM_QUERY, &q, sizeof(q), ARG_NORMAL, &effect);
		MLOG("MEM_QUERY(0x%llx, junk) -> %s", (unsigned long long)addr,
		     winvm_abi_status_name(r.status));
		expect_status("MEM_QUERY with junk", r, WINVM_STATUS_INVALID_PARAMETER, true, true);
		return;
	}
	w = rand_argwhere(true);
	if (w == ARG_NORMAL || w == ARG_WINVM_RW) {
		MLOG("MEM_QUERY(0x%llx)", (unsigned long long)addr);
		if (w == ARG_NORMAL) {
			check_query(addr, "query op");
			return;
		}
	}
	expect_query(addr, &e);
	r = m_ioctl(WINVM_IOC_MEM_QUERY, &q, sizeof(q), w, &effect);
	MLOG("MEM_QUERY(0x%llx) arg %d -> rc %d", (unsigned long long)addr, (int)w, r.rc);
	if (effect && w != ARG_RO)
		expect_status("MEM_QUERY", r, e.status, true, true);
}

static void op_info(void)
{
	struct winvm_info_args i;
	bool effect, junk = fz_chance(&M.rng, 10);
	enum argwhere w = rand_argwhere(true);
	struct fz_res r;

	memset(&i, 0, sizeof(i));
	if (junk) {
		switch (fz_below(&M.rng, 3)) {
		case 0: i.flags = 1; break;
		case 1: i.pad = 1; break;
		default: i.reserved[fz_below(&M.rng, 4)] = 1; break;
		}
	}
	r = m_ioctl(WINVM_IOC_INFO_GET, &i, sizeof(i), w, &effect);
	MLOG("INFO_GET%s arg %d -> rc %d %s", junk ? "(junk)" : "", (int)w, r.rc,
	     winvm_abi_status_name(r.status));
	if (!effect || w == ARG_RO)
		return;
	if (!expect_status("INFO_GET", r, junk ? WINVM_STATUS_INVALID_PARAMETER : 0, true, true))
		return;
	if (!junk && (i.abi_version != WINVM_ABI_VERSION || i.page_size != FZ_PAGE ||
		      i.allocation_granularity != FZ_GRAN || i.min_address != FZ_MIN_ADDR ||
		      i.max_address != FZ_MAX_ADDR))
		m_fail("INFO_GET returned unexpected system facts");
}

static void op_fault_info(void)
{
	struct winvm_fault_info_args f;
	bool effect, junk = fz_chance(&M.rng, 10);
	enum argwhere w = rand_argwhere(true);
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	if (junk) {
		if (fz_chance(&M.rng, 50))
			f.flags = 1;
		else
			f.reserved[fz_below(&M.rng, 2)] = 1;
	}
	r = m_ioctl(WINVM_IOC_FAULT_INFO, &f, sizeof(f), w, &effect);
	MLOG("FAULT_INFO%s arg %d -> rc %d %s", junk ? "(junk)" : "", (int)w, r.rc,
	     winvm_abi_status_name(r.status));
	if (!effect)
		return;
	if (M.pending_record && !junk) {
		if (r.rc == 0 || w == ARG_RO)
			M.pending_record = false;
		if (w != ARG_RO && r.status != WINVM_STATUS_NOT_FOUND && r.status != 0)
			m_fail("FAULT_INFO -> %s", winvm_abi_status_name(r.status));
		return;
	}
	if (w != ARG_RO)
		expect_status("FAULT_INFO", r, junk ? WINVM_STATUS_INVALID_PARAMETER :
				  WINVM_STATUS_NOT_FOUND, true, true);
}

/* An ioctl number the module does not know, or a known one mangled. */
static void op_bad_cmd(void)
{
	static const unsigned long near[] = {
		_IO('W', 0x80), _IOR('W', 0x81, struct winvm_alloc_args),
		_IOW('W', 0x81, struct winvm_alloc_args), _IOWR('W', 0x81, uint64_t),
		_IOWR('W', 0x7f, struct winvm_alloc_args), _IOWR('W', 0x8d, struct winvm_alloc_args),
		_IOWR('W', 0xff, struct winvm_query_args), _IOWR('X', 0x84, struct winvm_query_args),
		_IOWR('W', 0x84, char[255]), 0, ~0UL, 0x5401 /* TCGETS */, 0x541b /* FIONREAD */,
	};
	unsigned long cmd = fz_chance(&M.rng, 70) ? FZ_PICK(&M.rng, near) :
			    (unsigned long)(uint32_t)fz_next(&M.rng);
	uint8_t buf[512];
	int rc;

	if (fz_status_offset(cmd) >= 0)
		return;
	memset(buf, 0, sizeof(buf));
	rc = fz_ioctl(M.fd, cmd, buf);
	MLOG("ioctl(0x%lx) -> %d", cmd, rc);
	if (rc != -ENOTTY)
		m_fail("unknown ioctl 0x%lx -> %d, expected ENOTTY", cmd, rc);
}

/* ---------------- memory accesses ---------------- */

enum pexp { P_OK, P_AV, P_GUARD, P_SEGV_NOREC, P_SEGV_MAYBE, P_SKIP };

static enum pexp probe_expect(uint64_t page, int access, struct malloc_ **am)
{
	int ai = m_find(page);
	struct malloc_ *a;
	uint32_t st;

	*am = NULL;
	if (ai < 0)
		return fz_maps_find(&MAPS, page) < 0 ? P_SEGV_NOREC : P_SKIP;
	a = &M.a[ai];
	*am = a;
	if (a->view)
		return P_SKIP;
	st = a_get(a, page);
	if (!(st & PS_COMMIT))
		return P_AV;
	if (st & PS_GUARD)
		return P_GUARD;
	switch (access) {
	case WINVM_EXCEPTION_READ_FAULT:
		return fz_prot_readable(st) ? P_OK : P_AV;
	case WINVM_EXCEPTION_WRITE_FAULT:
		return fz_prot_writable(st) ? P_OK : P_AV;
	default:
		return fz_prot_exec(st) ? P_OK : P_SEGV_MAYBE;
	}
}

static uint64_t rand_probe_page(void)
{
	struct malloc_ *a = rand_alloc(false);

	if (a && fz_chance(&M.rng, 90)) {
		if (fz_chance(&M.rng, 50) && a->nruns) {
			const struct mrun *r = &a->runs[fz_below(&M.rng, a->nruns)];

			return r->start + fz_round_down(fz_below(&M.rng, r->end - r->start), FZ_PAGE);
		}
		return a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
	}
	return fz_round_down(rand_arena_addr(), FZ_PAGE);
}

/* Reads the fault record after a probe's signal and checks it. */
static void check_record(uint64_t addr, int access, enum pexp e, const char *what)
{
	struct winvm_fault_info_args f;
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	r = fz_call(M.fd, WINVM_IOC_FAULT_INFO, &f);
	if (O.nomem_ok && (e == P_AV || e == P_GUARD) && r.status == WINVM_STATUS_NOT_FOUND)
		return;	/* the record allocation may fail: best effort */
	if (e == P_SEGV_NOREC || (e == P_SEGV_MAYBE && r.status == WINVM_STATUS_NOT_FOUND)) {
		if (r.status != WINVM_STATUS_NOT_FOUND)
			m_fail("%s at 0x%llx: unexpected fault record (%s, addr 0x%llx)", what,
			       (unsigned long long)addr, winvm_abi_status_name(r.status),
			       (unsigned long long)f.address);
		return;
	}
	if (r.status != WINVM_STATUS_SUCCESS) {
		m_fail("%s at 0x%llx: no fault record (%s)", what, (unsigned long long)addr,
		       winvm_abi_status_name(r.status));
		return;
	}
	if (f.address != addr || f.access != (uint32_t)access ||
	    f.fault_status != (e == P_GUARD ? WINVM_STATUS_GUARD_PAGE_VIOLATION :
			       WINVM_STATUS_ACCESS_VIOLATION))
		m_fail("%s at 0x%llx: record {0x%llx, access %u, %s}, expected access %d %s",
		       what, (unsigned long long)addr, (unsigned long long)f.address, f.access,
		       winvm_abi_status_name(f.fault_status), access,
		       e == P_GUARD ? "GUARD_PAGE_VIOLATION" : "ACCESS_VIOLATION");
}

static void drain_records(void)
{
	struct winvm_fault_info_args f;

	memset(&f, 0, sizeof(f));
	fz_call(M.fd, WINVM_IOC_FAULT_INFO, &f);
	M.pending_record = false;
}

static void op_probe(void)
{
	static const char *const names[] = { "read", "write", "?", "?", "?", "?", "?", "?", "exec" };
	static const int accesses[] = {
		WINVM_EXCEPTION_READ_FAULT, WINVM_EXCEPTION_READ_FAULT, WINVM_EXCEPTION_WRITE_FAULT,
		WINVM_EXCEPTION_WRITE_FAULT, WINVM_EXCEPTION_EXECUTE_FAULT,
	};
	uint64_t page = rand_probe_page(), addr;
	int access = FZ_PICK(&M.rng, accesses);
	struct malloc_ *a;
	enum pexp e = probe_expect(page, access, &a);
	uint8_t val = 0, known = 0, wv = FZ_PICK(&M.rng, fz_safe_bytes);
	bool ok, kn = false;

	if (e == P_SKIP)
		return;
	addr = page;	/* byte 0: the byte the model tracks */
	if (access == WINVM_EXCEPTION_EXECUTE_FAULT && e == P_OK) {
		kn = d_get(page, &known);
		if (!kn || known != 0xc3) {
			/* Make it a ret first, if writable; else skip. */
			if (!fz_prot_writable(a_get(a, page)))
				return;
			*(volatile uint8_t *)(uintptr_t)page = 0xc3;
			d_set(page, 0xc3, false);
		}
	}
	if (access == WINVM_EXCEPTION_READ_FAULT && fz_chance(&M.rng, 30))
		addr = page + fz_below(&M.rng, FZ_PAGE);	/* other bytes read zero */
	switch (access) {
	case WINVM_EXCEPTION_READ_FAULT:
		ok = fz_try_read((void *)(uintptr_t)addr, &val);
		break;
	case WINVM_EXCEPTION_WRITE_FAULT:
		ok = fz_try_write((void *)(uintptr_t)addr, wv);
		break;
	default:
		ok = fz_try_exec((void *)(uintptr_t)addr);
		break;
	}
	MLOG("%s 0x%llx -> %s (sig %d addr 0x%llx) expect %d", names[access],
	     (unsigned long long)addr, ok ? "ok" : "fault", fz_probe.signo,
	     (unsigned long long)fz_probe.addr, (int)e);
	if (ok) {
		if (e != P_OK) {
			m_fail("%s of 0x%llx succeeded, expected a fault (%d)", names[access],
			       (unsigned long long)addr, (int)e);
			return;
		}
		if (access == WINVM_EXCEPTION_READ_FAULT) {
			kn = addr == page ? d_get(page, &known) : (known = 0, true);
			if (kn && val != known)
				m_fail("read 0x%llx: 0x%02x, expected 0x%02x", (unsigned long long)addr,
				       val, known);
			if (!kn && addr == page)
				d_set(page, val, false);
		} else if (access == WINVM_EXCEPTION_WRITE_FAULT) {
			d_set(page, wv, false);
		}
		return;
	}
	if (e == P_OK && O.nomem_ok && (fz_probe.code == SI_KERNEL || fz_probe.signo == SIGBUS ||
					!fz_probe.addr)) {
		drain_records();
		return;
	}
	if (e == P_OK) {
		m_fail("%s of 0x%llx faulted (signal %d at 0x%llx), expected success",
		       names[access], (unsigned long long)addr, fz_probe.signo,
		       (unsigned long long)fz_probe.addr);
		drain_records();
		return;
	}
	if (O.nomem_ok && (fz_probe.code == SI_KERNEL || fz_probe.signo == SIGBUS ||
			   !fz_probe.addr)) {
		/* Fault injection: no frame, or no page for the fault. */
		drain_records();
		if (e == P_GUARD)
			a_set(a, page, page + FZ_PAGE, a_get(a, page) & ~PS_GUARD);
		return;
	}
	if (fz_probe.signo != SIGSEGV || fz_probe.addr != addr) {
		m_fail("%s of 0x%llx: signal %d at 0x%llx, expected SIGSEGV at the address",
		       names[access], (unsigned long long)addr, fz_probe.signo,
		       (unsigned long long)fz_probe.addr);
		drain_records();
		return;
	}
	check_record(addr, access, e, names[access]);
	if (e == P_GUARD) {
		uint32_t st = a_get(a, page);

		a_set(a, page, page + FZ_PAGE, st & ~PS_GUARD);
	}
}

/* Kernel-mode accesses: pipe read/write, process_vm_*, /proc/self/mem. */
static void op_kprobe(void)
{
	uint64_t page = rand_probe_page();
	bool wr = fz_chance(&M.rng, 50);
	int how = fz_below(&M.rng, 3);
	struct malloc_ *a;
	enum pexp e = probe_expect(page, wr ? WINVM_EXCEPTION_WRITE_FAULT :
				   WINVM_EXCEPTION_READ_FAULT, &a);
	uint8_t v = FZ_PICK(&M.rng, fz_safe_bytes), got = 0, known;
	bool ok;
	ssize_t n;

	if (e == P_SKIP)
		return;
	if (how == 0) {
		if (wr) {
			if (write(M.pipe_w, &v, 1) != 1)
				return;
			n = read(M.pipe_r, (void *)(uintptr_t)page, 1);
			ok = n == 1;
			if (!ok) {
				uint8_t junk;

				if (read(M.pipe_r, &junk, 1) != 1)
					m_fail("pipe lost a byte");
			}
		} else {
			n = write(M.pipe_w, (void *)(uintptr_t)page, 1);
			ok = n == 1;
			if (ok && read(M.pipe_r, &got, 1) != 1)
				m_fail("pipe lost a byte");
		}
	} else if (how == 1) {
		struct iovec local = { wr ? &v : &got, 1 };
		struct iovec remote = { (void *)(uintptr_t)page, 1 };

		n = wr ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0) :
			    process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		ok = n == 1;
	} else {
		n = wr ? pwrite(M.memfd, &v, 1, (off_t)page) :
			    pread(M.memfd, &got, 1, (off_t)page);
		ok = n == 1;
	}
	MLOG("kernel %s (%d) 0x%llx -> %s (errno %d) expect %d", wr ? "write" : "read", how,
	     (unsigned long long)page, ok ? "ok" : "fail", ok ? 0 : errno, (int)e);
	/* A kernel write to a read-only PTE can leave a (harmless) record. */
	if (wr)
		drain_records();
	if (ok != (e == P_OK)) {
		/* Injected: the page for a kernel-mode fault may not come. */
		if (O.nomem_ok && !ok)
			return;
		m_fail("kernel %s (%d) of 0x%llx %s, expected %s", wr ? "write" : "read", how,
		       (unsigned long long)page, ok ? "succeeded" : "failed",
		       e == P_OK ? "success" : "EFAULT");
		return;
	}
	if (!ok)
		return;
	if (wr) {
		d_set(page, v, false);
	} else if (d_get(page, &known)) {
		if (got != known)
			m_fail("kernel read 0x%llx: 0x%02x, expected 0x%02x",
			       (unsigned long long)page, got, known);
	} else {
		d_set(page, got, false);
	}
}

/* ---------------- native syscalls ---------------- */

/*
 * May a native call touch [s, e)?  Only the arena and model allocations
 * are ours to break; everything else (stack, binary, glibc) is not.
 */
static bool native_safe(uint64_t s, uint64_t e)
{
	int i;

	if (s >= e || e > FZ_TASK_SIZE)
		return false;
	if (s >= M.arena && e <= M.arena + M.arena_size)
		return true;
	for (i = fz_maps_next(&MAPS, s); i < MAPS.n && MAPS.v[i].start < e; i++) {
		const struct fz_vma *v = &MAPS.v[i];

		if (m_find(v->start) < 0 &&
		    !(v->start >= M.arena && v->end <= M.arena + M.arena_size))
			return false;
	}
	/* Free space outside the arena could be where glibc maps next. */
	return !(s < M.arena || e > M.arena + M.arena_size) ? true :
	       (m_find(s) >= 0 && m_find(e - 1) >= 0);
}

/* Would an unmap of [s, e) have to split a winvm VMA? */
static bool splits_winvm(uint64_t s, uint64_t e)
{
	int i;

	for (i = fz_maps_next(&MAPS, s); i < MAPS.n && MAPS.v[i].start < e; i++) {
		const struct fz_vma *v = &MAPS.v[i];

		if (m_find(v->start) < 0)
			continue;
		if (v->start < s || v->end > e)
			return true;
	}
	return false;
}

/* Would it remove some but not all VMAs of an allocation? */
static bool removes_part(uint64_t s, uint64_t e)
{
	int i;

	for (i = 0; i < M_MAXA; i++) {
		struct malloc_ *a = &M.a[i];

		if (!a->used || a->base + a->size <= s || a->base >= e)
			continue;
		if (a->base < s || a->base + a->size > e)
			return true;
	}
	return false;
}

/*
 * After a native call that may have removed [s, e) (s == e: nothing):
 * each allocation is either wholly there or, if inside [s, e), gone.
 */
static bool still_there(const struct malloc_ *a, uint64_t p)
{
	struct winvm_query_args q;
	struct fz_res r;

	memset(&q, 0, sizeof(q));
	q.address = p;
	r = fz_call(M.fd, WINVM_IOC_MEM_QUERY, &q);
	if (r.rc)
		return fz_maps_find(&MAPS, p) >= 0;	/* fault injection: guess */
	return (q.region_flags & WINVM_REGION_WINVM) && q.allocation_base == a->base;
}

static void native_settle(uint64_t s, uint64_t e, const char *what)
{
	int i;

	if (!maps_refresh())
		return;
	for (i = 0; i < M_MAXA; i++) {
		struct malloc_ *a = &M.a[i];
		uint64_t p, end;
		int present = 0, absent = 0;

		if (!a->used)
			continue;
		end = a->base + a->size;
		for (p = a->base; p < end; ) {
			int vi = fz_maps_find(&MAPS, p);
			uint64_t next;

			if (vi >= 0) {
				next = MAPS.v[vi].end;
				if (still_there(a, p))
					present++;
				else
					absent++;
			} else {
				int ni = fz_maps_next(&MAPS, p);

				next = ni < MAPS.n ? MAPS.v[ni].start : end;
				absent++;
			}
			p = next < end ? next : end;
		}
		if (!absent)
			continue;
		if (present) {
			m_fail("%s removed part of allocation 0x%llx+0x%llx (the rest stays mapped)",
			       what, (unsigned long long)a->base, (unsigned long long)a->size);
			m_drop(a);
			continue;
		}
		if (a->base < s || end > e)
			m_fail("%s made allocation 0x%llx+0x%llx vanish", what,
			       (unsigned long long)a->base, (unsigned long long)a->size);
		m_drop(a);
	}
}

static uint64_t rand_native_range(uint64_t *len)
{
	struct malloc_ *a = rand_alloc(false);
	uint64_t s;

	switch (fz_below(&M.rng, 6)) {
	case 0:
	case 1:
		if (a) {
			*len = a->size;
			return a->base;
		}
		break;
	case 2:
		if (a) {
			uint64_t off = fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);

			*len = fz_page_align(1 + fz_below(&M.rng, a->size - off));
			return a->base + off;
		}
		break;
	case 3:
		if (a) {
			/* Exactly one of its VMAs. */
			int vi = fz_maps_find(&MAPS, a->base + fz_below(&M.rng, a->size));

			if (vi >= 0) {
				*len = MAPS.v[vi].end - MAPS.v[vi].start;
				return MAPS.v[vi].start;
			}
		}
		break;
	case 4:
		if (a) {
			*len = a->size + 2 * FZ_GRAN;
			return a->base - FZ_GRAN;
		}
		break;
	}
	s = fz_round_down(rand_arena_addr(), FZ_PAGE);
	*len = FZ_PAGE * (1 + fz_below(&M.rng, 64));
	return s;
}

static void op_native(void)
{
	uint64_t s, len, e;
	unsigned int which = fz_below(&M.rng, 100);
	char what[128];
	int rc, err;

	s = rand_native_range(&len);
	e = s + len;
	if (!native_safe(s, e))
		return;
	if ((O.avoid & AVOID_VMA_UNMAP) && which < 60 && !splits_winvm(s, e) &&
	    removes_part(s, e))
		return;

	if (which < 20) {
		/* munmap */
		bool refuse = splits_winvm(s, e);

		rc = munmap((void *)(uintptr_t)s, len);
		err = errno;
		snprintf(what, sizeof(what), "munmap(0x%llx, 0x%llx)", (unsigned long long)s,
			 (unsigned long long)len);
		MLOG("%s -> %d (%d)", what, rc, rc ? err : 0);
		if (refuse && !rc)
			m_fail("%s split a winvm VMA", what);
		if (!refuse && rc && err != ENOMEM && !O.nomem_ok)
			m_fail("%s failed: %s", what, strerror(err));
		native_settle(s, rc ? s : e, what);
	} else if (which < 40) {
		/* mmap over it */
		bool noreplace = fz_chance(&M.rng, 30), shared = fz_chance(&M.rng, 30);
		int prot = (int)fz_below(&M.rng, 8);
		int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
			    (noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED);
		bool refuse = noreplace ? fz_maps_busy(&MAPS, s, e) : splits_winvm(s, e);
		void *p = mmap((void *)(uintptr_t)s, len, prot & ~PROT_EXEC, flags, -1, 0);

		err = errno;
		snprintf(what, sizeof(what), "mmap(0x%llx, 0x%llx, %s%s)", (unsigned long long)s,
			 (unsigned long long)len, noreplace ? "NOREPLACE" : "FIXED",
			 shared ? " shared" : "");
		MLOG("%s -> %p (%d)", what, p, p == MAP_FAILED ? err : 0);
		if (refuse && p != MAP_FAILED)
			m_fail("%s replaced part of a winvm VMA", what);
		if (!refuse && p == MAP_FAILED && err != ENOMEM && !O.nomem_ok)
			m_fail("%s failed: %s", what, strerror(err));
		/*
		 * A MAP_FIXED that fails after unmapping may leave the range
		 * empty (Linux semantics): whole allocations inside may go.
		 */
		native_settle(s, noreplace ? s : e, what);
	} else if (which < 52) {
		/* mprotect: never allowed on winvm VMAs */
		int prot = (int)fz_below(&M.rng, 8);
		bool winvm = false;
		int i;

		for (i = fz_maps_next(&MAPS, s); i < MAPS.n && MAPS.v[i].start < e; i++)
			if (m_find(MAPS.v[i].start) >= 0)
				winvm = true;
		rc = mprotect((void *)(uintptr_t)s, len, prot);
		err = errno;
		MLOG("mprotect(0x%llx, 0x%llx, %d) -> %d (%d)", (unsigned long long)s,
		     (unsigned long long)len, prot, rc, rc ? err : 0);
		if (winvm && !rc)
			m_fail("mprotect(0x%llx, 0x%llx, %d) succeeded over a winvm VMA",
			       (unsigned long long)s, (unsigned long long)len, prot);
		native_settle(s, s, "mprotect");
	} else if (which < 62) {
		/* mremap: shrink, grow, move; winvm VMAs never move */
		uint64_t nlen = len, target = 0;
		int flags = 0;
		void *p;

		switch (fz_below(&M.rng, 4)) {
		case 0:
			nlen = len > FZ_PAGE ? fz_round_down(fz_below(&M.rng, len), FZ_PAGE) : len;
			if (!nlen)
				nlen = FZ_PAGE;
			break;
		case 1:
			nlen = len + FZ_PAGE * (1 + fz_below(&M.rng, 16));
			flags = fz_chance(&M.rng, 50) ? MREMAP_MAYMOVE : 0;
			break;
		default:
			target = fz_round_down(rand_arena_addr(), FZ_PAGE);
			if (!native_safe(target, target + nlen))
				return;
			flags = MREMAP_MAYMOVE | MREMAP_FIXED;
			break;
		}
		if ((O.avoid & AVOID_VMA_UNMAP) &&
		    ((nlen < len && removes_part(s + nlen, e) && !splits_winvm(s + nlen, e)) ||
		     (target && removes_part(target, target + nlen) &&
		      !splits_winvm(target, target + nlen))))
			return;
		p = mremap((void *)(uintptr_t)s, len, nlen, flags, (void *)(uintptr_t)target);
		err = errno;
		snprintf(what, sizeof(what), "mremap(0x%llx, 0x%llx, 0x%llx, %d, 0x%llx)",
			 (unsigned long long)s, (unsigned long long)len, (unsigned long long)nlen,
			 flags, (unsigned long long)target);
		MLOG("%s -> %p (%d)", what, p, p == MAP_FAILED ? err : 0);
		/*
		 * The target of MREMAP_FIXED is unmapped first, even when the
		 * move then fails; a shrink unmaps the tail.
		 */
		if (target && p != MAP_FAILED)
			native_settle(target < s ? target : s,
				      target + nlen > e ? target + nlen : e, what);
		else if (target)
			native_settle(target, target + nlen, what);
		else if (nlen < len)
			native_settle(s + nlen, e, what);
		else
			native_settle(s, p == MAP_FAILED ? s : e, what);
		if (p != MAP_FAILED && p != (void *)(uintptr_t)s && !target) {
			/* Moved: the old range went with it. */
			native_settle(s, e, what);
		}
	} else if (which < 90) {
		static const int advs[] = {
			MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
			MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP,
			MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
			MADV_HUGEPAGE, MADV_NOHUGEPAGE, 25 /* MADV_COLLAPSE */, MADV_FREE,
			MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_MERGEABLE, 12345,
		};
		int adv = FZ_PICK(&M.rng, advs);
		int i;

		if (adv == MADV_DOFORK && (O.avoid & AVOID_DOFORK))
			return;
		if (adv == MADV_REMOVE && (O.avoid & AVOID_COW_PUNCH))
			for (i = 0; i < M_MAXA; i++)
				if (M.a[i].used && M.a[i].view && M.a[i].base < e &&
				    M.a[i].base + M.a[i].size > s)
					return;
		if ((adv == MADV_POPULATE_READ || adv == MADV_POPULATE_WRITE ||
		     adv == MADV_WILLNEED || adv == 25) && len > (4ULL << 20))
			return;
		rc = madvise((void *)(uintptr_t)s, len, adv);
		err = errno;
		MLOG("madvise(0x%llx, 0x%llx, %d) -> %d (%d)", (unsigned long long)s,
		     (unsigned long long)len, adv, rc, rc ? err : 0);
		if (adv == MADV_POPULATE_WRITE || adv == MADV_POPULATE_READ || adv == 25)
			M.pending_record = true;
		for (i = 0; i < M_MAXA; i++) {
			struct malloc_ *a = &M.a[i];

			if (!a->used || a->base >= e || a->base + a->size <= s)
				continue;
			if (adv == MADV_REMOVE) {
				uint64_t ls = s > a->base ? s : a->base;
				uint64_t le = e < a->base + a->size ? e : a->base + a->size;

				if (rc)
					d_unknown(ls, le);
				else
					d_zero(ls, le);
			}
			if (adv == MADV_DOFORK && !rc)
				a->dofork = true;
		}
		native_settle(s, s, "madvise");
	} else {
		/* mlock / munlock / msync / mincore */
		unsigned char vec[64];

		if (len > (1ULL << 20))
			return;
		switch (fz_below(&M.rng, 5)) {
		case 0:
			rc = mlock((void *)(uintptr_t)s, len);
			break;
		case 1:
			rc = munlock((void *)(uintptr_t)s, len);
			break;
		case 2:
			rc = (int)syscall(SYS_mlock2, s, len, 1 /* MLOCK_ONFAULT */);
			break;
		case 3:
			rc = msync((void *)(uintptr_t)s, len,
				   fz_chance(&M.rng, 50) ? MS_SYNC : MS_INVALIDATE);
			break;
		default:
			rc = len <= 64 * FZ_PAGE ? mincore((void *)(uintptr_t)s, len, vec) : 0;
			break;
		}
		MLOG("mlock/msync/mincore(0x%llx, 0x%llx) -> %d", (unsigned long long)s,
		     (unsigned long long)len, rc);
		M.pending_record = true;
		native_settle(s, s, "mlock");
	}
	if (M.pending_record)
		drain_records();
}

/* ---------------- sections (not modelled in detail) ---------------- */

static int rand_secfd(void)
{
	int i = fz_below(&M.rng, 8);

	if (M.secfd[i] >= 0 && fz_chance(&M.rng, 90))
		return M.secfd[i];
	switch (fz_below(&M.rng, 5)) {
	case 0: return -1;
	case 1: return M.fd;
	case 2: return 0;
	case 3: return 999;
	default: return M.pipe_r;
	}
}

static void sec_store(int fd)
{
	int i = fz_below(&M.rng, 8);

	if (fd < 0)
		return;
	if (M.secfd[i] >= 0)
		close(M.secfd[i]);
	M.secfd[i] = fd;
}

static void sec_check_fd(const char *what, struct fz_res r, int outfd)
{
	const char *p = fz_res_problem(r, true);

	if (p) {
		m_fail("%s: %s", what, p);
		return;
	}
	if (r.rc > 0) {
		int fl = fcntl(r.rc, F_GETFD);

		if (outfd != r.rc)
			m_fail("%s: returned fd %d but fd field %d", what, r.rc, outfd);
		if (fl < 0 || !(fl & FD_CLOEXEC))
			m_fail("%s: fd %d is not O_CLOEXEC", what, r.rc);
	}
}

static const char *const sec_names[] = { "fz-a", "fz-b", "Fz-A", "fz-a\\x", "" };

static void op_section(void)
{
	static const uint32_t prots[] = {
		WINVM_PAGE_READONLY, WINVM_PAGE_READWRITE, WINVM_PAGE_WRITECOPY,
		WINVM_PAGE_EXECUTE_READ, WINVM_PAGE_EXECUTE_READWRITE, WINVM_PAGE_EXECUTE_WRITECOPY,
		WINVM_PAGE_NOACCESS, 0, WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD,
	};
	static const uint32_t attrs[] = {
		0, WINVM_SEC_COMMIT, WINVM_SEC_RESERVE, WINVM_SEC_COMMIT | WINVM_SEC_NOCACHE,
		WINVM_SEC_RESERVE | WINVM_SEC_WRITECOMBINE, WINVM_SEC_IMAGE, WINVM_SEC_FILE,
		WINVM_SEC_LARGE_PAGES, WINVM_SEC_RESERVE | WINVM_SEC_COMMIT, 0xffffffffu,
	};
	unsigned int which = fz_below(&M.rng, 100);
	struct fz_res r;
	bool effect;

	if (which < 30) {
		struct winvm_section_create_args c;
		const char *name = FZ_PICK(&M.rng, sec_names);
		int mfd = -1;

		memset(&c, 0, sizeof(c));
		c.size = fz_chance(&M.rng, 70) ? FZ_PAGE * (1 + fz_below(&M.rng, 64)) :
			 FZ_PICK(&M.rng, boundary_sizes);
		if (fz_chance(&M.rng, 30)) {
			c.name = (uint64_t)(uintptr_t)name;
			c.name_len = strlen(name);
			if (fz_chance(&M.rng, 5))
				c.name_len = fz_chance(&M.rng, 50) ? 300 : 0;
			if (fz_chance(&M.rng, 5))
				c.name = 0xdead000;
		}
		c.file_fd = -1;
		if (fz_chance(&M.rng, 20)) {
			mfd = (int)syscall(SYS_memfd_create, "fz", 0);
			if (mfd >= 0 && fz_chance(&M.rng, 70) &&
			    ftruncate(mfd, FZ_PAGE * (1 + fz_below(&M.rng, 32))))
				m_fail("ftruncate memfd");
			c.file_fd = fz_chance(&M.rng, 90) ? mfd : M.pipe_r;
		}
		c.protect = FZ_PICK(&M.rng, prots);
		c.attributes = FZ_PICK(&M.rng, attrs);
		c.access = fz_chance(&M.rng, 80) ? 0 : (uint32_t)fz_below(&M.rng, 0x40);
		if (fz_chance(&M.rng, 5))
			c.flags = fz_chance(&M.rng, 50) ? WINVM_SECTION_GLOBAL : 2;
		if (fz_chance(&M.rng, 2))
			c.reserved[0] = 1;
		c.fd = -1;
		r = m_ioctl(WINVM_IOC_SECTION_CREATE, &c, sizeof(c), ARG_NORMAL, &effect);
		MLOG("SECTION_CREATE(size 0x%llx, file %d, prot 0x%x, attr 0x%x) -> rc %d %s",
		     (unsigned long long)c.size, c.file_fd, c.protect, c.attributes, r.rc,
		     winvm_abi_status_name(r.status));
		sec_check_fd("SECTION_CREATE", r, c.fd);
		if (mfd >= 0)
			close(mfd);
		sec_store(r.rc > 0 ? r.rc : -1);
	} else if (which < 38) {
		struct winvm_section_open_args o;
		const char *name = FZ_PICK(&M.rng, sec_names);

		memset(&o, 0, sizeof(o));
		o.name = (uint64_t)(uintptr_t)name;
		o.name_len = strlen(name);
		o.access = (uint32_t)fz_below(&M.rng, 0x40);
		o.fd = -1;
		r = m_ioctl(WINVM_IOC_SECTION_OPEN, &o, sizeof(o), ARG_NORMAL, &effect);
		MLOG("SECTION_OPEN(%s, 0x%x) -> rc %d %s", name, o.access, r.rc,
		     winvm_abi_status_name(r.status));
		sec_check_fd("SECTION_OPEN", r, o.fd);
		sec_store(r.rc > 0 ? r.rc : -1);
	} else if (which < 45) {
		struct winvm_section_query_args q;

		memset(&q, 0, sizeof(q));
		q.section_fd = rand_secfd();
		r = m_ioctl(WINVM_IOC_SECTION_QUERY, &q, sizeof(q), ARG_NORMAL, &effect);
		MLOG("SECTION_QUERY(%d) -> %s", q.section_fd, winvm_abi_status_name(r.status));
		sec_check_fd("SECTION_QUERY", r, 0);
	} else if (which < 52) {
		struct winvm_section_dup_args d;

		memset(&d, 0, sizeof(d));
		d.section_fd = rand_secfd();
		d.access = (uint32_t)fz_below(&M.rng, 0x40);
		d.fd = -1;
		r = m_ioctl(WINVM_IOC_SECTION_DUP, &d, sizeof(d), ARG_NORMAL, &effect);
		MLOG("SECTION_DUP(%d, 0x%x) -> rc %d %s", d.section_fd, d.access, r.rc,
		     winvm_abi_status_name(r.status));
		sec_check_fd("SECTION_DUP", r, d.fd);
		sec_store(r.rc > 0 ? r.rc : -1);
	} else if (which < 60) {
		int i = fz_below(&M.rng, 8);

		MLOG("close(section fd %d)", M.secfd[i]);
		if (M.secfd[i] >= 0)
			close(M.secfd[i]);
		M.secfd[i] = -1;
	} else if (which < 82) {
		struct winvm_view_map_args v;
		uint64_t pre_busy_start;
		static const uint32_t acc[] = {
			WINVM_FILE_MAP_READ, WINVM_FILE_MAP_WRITE, WINVM_FILE_MAP_COPY,
			WINVM_FILE_MAP_READ | WINVM_FILE_MAP_EXECUTE,
			WINVM_FILE_MAP_WRITE | WINVM_FILE_MAP_EXECUTE,
			WINVM_FILE_MAP_COPY | WINVM_FILE_MAP_EXECUTE, 0, WINVM_FILE_MAP_ALL_ACCESS,
			0x40,
		};

		if (m_count() >= M_MAXA - 2)
			return;
		memset(&v, 0, sizeof(v));
		v.section_fd = rand_secfd();
		v.access = FZ_PICK(&M.rng, acc);
		v.address = fz_chance(&M.rng, 50) ? 0 : fz_round_down(rand_arena_addr(), FZ_GRAN);
		if (fz_chance(&M.rng, 5))
			v.address = rand_addr();
		v.offset = fz_chance(&M.rng, 85) ? 0 : FZ_GRAN * fz_below(&M.rng, 3) +
						       (fz_chance(&M.rng, 20) ? FZ_PAGE : 0);
		v.size = fz_chance(&M.rng, 50) ? 0 : FZ_PAGE * (1 + fz_below(&M.rng, 32));
		v.type = fz_chance(&M.rng, 10) ? WINVM_MEM_TOP_DOWN : 0;
		if (fz_chance(&M.rng, 3))
			v.zero_bits = rand_zero_bits();
		pre_busy_start = v.address;
		r = m_ioctl(WINVM_IOC_VIEW_MAP, &v, sizeof(v), ARG_NORMAL, &effect);
		MLOG("VIEW_MAP(fd %d, acc 0x%x, addr 0x%llx, off 0x%llx) -> rc %d %s at 0x%llx+0x%llx",
		     v.section_fd, v.access, (unsigned long long)pre_busy_start,
		     (unsigned long long)v.offset, r.rc, winvm_abi_status_name(r.status),
		     (unsigned long long)v.address, (unsigned long long)v.size);
		if (fz_res_problem(r, false)) {
			m_fail("VIEW_MAP: %s", fz_res_problem(r, false));
			return;
		}
		if (!r.rc) {
			if ((v.address & (FZ_GRAN - 1)) || !v.size || (v.size & (FZ_PAGE - 1)) ||
			    fz_maps_busy(&MAPS, v.address, v.address + v.size) ||
			    (pre_busy_start && pre_busy_start != v.address)) {
				m_fail("VIEW_MAP placed a view at 0x%llx+0x%llx",
				       (unsigned long long)v.address, (unsigned long long)v.size);
				return;
			}
			m_new(v.address, v.size, 0, true);
			/* The view's own protection is the allocation protect. */
			{
				struct winvm_query_args q;

				memset(&q, 0, sizeof(q));
				q.address = v.address;
				r = fz_call(M.fd, WINVM_IOC_MEM_QUERY, &q);
				if (!r.rc)
					M.a[m_find(v.address)].aprot = q.allocation_protect;
			}
		}
	} else if (which < 92) {
		struct winvm_view_unmap_args u;
		struct malloc_ *a = rand_alloc(false);
		uint32_t want;
		int ai;

		memset(&u, 0, sizeof(u));
		u.address = a && fz_chance(&M.rng, 80) ? a->base + fz_below(&M.rng, a->size) :
			    rand_addr();
		ai = m_find(u.address);
		want = u.address > FZ_MAX_ADDR ? WINVM_STATUS_INVALID_PARAMETER :
		       ai >= 0 && M.a[ai].view ? 0 : WINVM_STATUS_NOT_MAPPED_VIEW;
		r = m_ioctl(WINVM_IOC_VIEW_UNMAP, &u, sizeof(u), ARG_NORMAL, &effect);
		MLOG("VIEW_UNMAP(0x%llx) -> rc %d %s", (unsigned long long)u.address, r.rc,
		     winvm_abi_status_name(r.status));
		if (r.rc == -ENOTTY)
			return;
		if (!expect_status("VIEW_UNMAP", r, want, true, true))
			return;
		if (!r.rc && ai >= 0)
			m_drop(&M.a[ai]);
	} else {
		struct winvm_view_flush_args f;
		struct malloc_ *a = rand_alloc(false);

		memset(&f, 0, sizeof(f));
		f.address = a ? a->base + fz_below(&M.rng, a->size) : rand_addr();
		f.size = fz_chance(&M.rng, 50) ? 0 : rand_size(f.address);
		r = m_ioctl(WINVM_IOC_VIEW_FLUSH, &f, sizeof(f), ARG_NORMAL, &effect);
		MLOG("VIEW_FLUSH(0x%llx, 0x%llx) -> rc %d %s", (unsigned long long)f.address,
		     (unsigned long long)f.size, r.rc, winvm_abi_status_name(r.status));
		if (fz_res_problem(r, false))
			m_fail("VIEW_FLUSH: %s", fz_res_problem(r, false));
	}
}

/* Accesses inside views: anything may happen but a crash. */
static void op_view_touch(void)
{
	int i, tries;

	for (tries = 0; tries < 8; tries++) {
		struct malloc_ *a = &M.a[fz_below(&M.rng, M_MAXA)];
		uint64_t p;

		if (!a->used || !a->view)
			continue;
		p = a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
		for (i = 0; i < 3; i++) {
			switch (fz_below(&M.rng, 4)) {
			case 0:
				fz_try_write((void *)(uintptr_t)p, FZ_PICK(&M.rng, fz_safe_bytes));
				break;
			case 1:
				madvise((void *)(uintptr_t)p, FZ_PAGE,
					fz_chance(&M.rng, 50) && !(O.avoid & AVOID_COW_PUNCH) ?
					MADV_REMOVE : MADV_DONTNEED);
				break;
			default:
				fz_try_read((void *)(uintptr_t)p, NULL);
				break;
			}
		}
		MLOG("touched view page 0x%llx", (unsigned long long)p);
		d_unknown(a->base, a->base + a->size);
		drain_records();
		return;
	}
}

/* ---------------- fork and exec ---------------- */

static int child_checks(void)
{
	int fails = 0, fd2, i;
	struct winvm_query_args q;
	struct fz_res r;

	/* The inherited context belongs to the parent's mm. */
	memset(&q, 0, sizeof(q));
	q.address = M.arena;
	r = fz_call(M.fd, WINVM_IOC_MEM_QUERY, &q);
	if (r.status != WINVM_STATUS_INVALID_HANDLE || r.rc != -EBADF) {
		fz_log("# child: inherited fd query -> rc %d %s\n", r.rc, winvm_abi_status_name(r.status));
		fails++;
	}
	fd2 = fz_open_winvm();
	if (fd2 < 0)
		return O.nomem_ok ? fails : fails + 1;
	for (i = 0; i < M_MAXA; i++) {
		struct malloc_ *a = &M.a[i];
		uint64_t p;

		if (!a->used || a->view)
			continue;
		p = a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
		if (!a->dofork) {
			if (fz_try_read((void *)(uintptr_t)p, NULL)) {
				fz_log("# child: read parent's winvm page 0x%llx\n",
				       (unsigned long long)p);
				fails++;
			}
			memset(&q, 0, sizeof(q));
			q.address = p;
			r = fz_call(fd2, WINVM_IOC_MEM_QUERY, &q);
			if (!r.rc && (q.region_flags & WINVM_REGION_WINVM)) {
				fz_log("# child: 0x%llx is a winvm region in the child\n",
				       (unsigned long long)p);
				fails++;
			}
		} else {
			struct winvm_free_args f;

			/* A copied VMA must not let the child touch the parent's state. */
			if (fz_try_read((void *)(uintptr_t)p, NULL)) {
				fz_log("# child: read a MADV_DOFORK copy of 0x%llx\n",
				       (unsigned long long)p);
				fails++;
			}
			memset(&f, 0, sizeof(f));
			f.address = p;
			f.size = FZ_PAGE;
			f.type = fz_chance(&M.rng, 50) ? WINVM_MEM_DECOMMIT : WINVM_MEM_RELEASE;
			r = fz_call(fd2, WINVM_IOC_MEM_FREE, &f);
			fz_log("# child: MEM_FREE(0x%llx, 0x1000, 0x%x) on a DOFORK copy -> %s\n",
			       (unsigned long long)p, f.type, winvm_abi_status_name(r.status));
		}
	}
	close(fd2);
	return fails;
}

static void op_fork(void)
{
	pid_t pid;
	int rc, how = fz_below(&M.rng, 4);

	pid = fork();
	if (pid < 0) {
		/*
		 * Native private mappings merged past RAM size fail the
		 * overcommit check that fork repeats per VMA: the model's
		 * own doing, nothing winvm could change.
		 */
		if (errno == ENOMEM || errno == EAGAIN)
			fz_log("# fork: %s (overcommit check), skipped\n", strerror(errno));
		else
			m_fail("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		int fails = child_checks();

		if (fails)
			_exit(1);
		if (how == 1) {
			char seed[32], fdn[16], shfd[16];

			snprintf(seed, sizeof(seed), "%" PRIu64, fz_next(&M.rng));
			snprintf(fdn, sizeof(fdn), "%d", M.fd);
			snprintf(shfd, sizeof(shfd), "%d", g_shfd);
			/* The winvm fd survives exec (no O_CLOEXEC on purpose). */
			fcntl(M.fd, F_SETFD, 0);
			execl("/proc/self/exe", O.argv0, FZ_EXEC_CHILD_ARG, seed, fdn, shfd,
			      O.nomem_ok ? "nomem" : "", (char *)NULL);
			_exit(O.nomem_ok ? 0 : 3);
		}
		if (how == 2) {
			execl("/bin/busybox", "busybox", "true", (char *)NULL);
			_exit(0);
		}
		_exit(0);
	}
	rc = fz_wait(pid);
	atomic_fetch_add(&SH->forks, 1);
	if (how == 1 || how == 2)
		atomic_fetch_add(&SH->execs, 1);
	MLOG("fork (%d) -> child %d rc %d", how, pid, rc);
	/* Injected failures can kill an exec past its point of no return. */
	if (rc != 0 && !(O.nomem_ok && (rc == 3 || rc > 128 || how == 1 || how == 2)))
		m_fail("forked child (mode %d) exited with %d", how, rc);
}

/* ---------------- the model loop ---------------- */

static int model_setup(void)
{
	void *p;
	int pfd[2], i;

	M.rng.s = fz_seed_mix(O.seed, 0x6d6f64656cULL);
	M.fd = fz_open_winvm();
	if (M.fd < 0)
		return -1;
	for (i = 0; i < 8; i++)
		M.secfd[i] = -1;
	if (pipe(pfd))
		return -1;
	M.pipe_r = pfd[0];
	M.pipe_w = pfd[1];
	M.memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	/* Kept open: opening it would itself allocate (and count). */
	M.fnth_fd = O.fail_nth ? open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC) : -1;
	if (O.fail_nth && M.fnth_fd < 0)
		fz_log("# no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION): --fail-nth does nothing\n");
	p = mmap(NULL, 3 * FZ_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	M.argpage = p;
	mprotect(M.argpage + 2 * FZ_PAGE, FZ_PAGE, PROT_NONE);
	/* The arena: 1 GiB far below the mmap base, free at the start. */
	M.arena_size = 1ULL << 30;
	M.arena = 0x100000000000ULL + ((O.seed % 64) << 32);
	if (fz_sandbox_init())
		return -1;
	if (!maps_refresh())
		return -1;
	if (fz_maps_busy(&MAPS, M.arena, M.arena + M.arena_size))
		return -1;
	return 0;
}

static void model_teardown(void)
{
	int i;

	/* Exercise both teardown paths: free some, leave the rest to exit. */
	for (i = 0; i < M_MAXA; i++) {
		struct winvm_free_args f;

		if (!M.a[i].used || M.a[i].view || fz_chance(&M.rng, 50))
			continue;
		memset(&f, 0, sizeof(f));
		f.address = M.a[i].base;
		f.type = WINVM_MEM_RELEASE;
		fz_call(M.fd, WINVM_IOC_MEM_FREE, &f);
	}
}

static int model_run(uint64_t nops, double deadline)
{
	uint64_t i;

	/* Fault in what exists now, so injected failures rarely hit our own faults. */
	if (O.failinject)
		mlockall(MCL_CURRENT);
	if (model_setup()) {
		fz_log("# model setup failed: %s\n", strerror(errno));
		return errno == ENOENT || errno == ENODEV || errno == ENXIO ? FZ_EXIT_SKIP :
		       FZ_EXIT_FAIL;
	}
	M.mif_fd = -1;
	if (O.failinject) {
		M.mif_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (M.mif_fd < 0 || pwrite(M.mif_fd, "1", 1, 0) != 1)
			fz_log("# cannot set /proc/self/make-it-fail\n");
	}
	for (i = 0; i < nops && !g_failures; i++) {
		unsigned int x = fz_below(&M.rng, 1000);

		M.step = i;
		if (deadline && !(i & 15) && fz_now() > deadline)
			break;
		if (x < 200)
			op_alloc();
		else if (x < 320)
			op_free();
		else if (x < 440)
			op_protect();
		else if (x < 500)
			op_query();
		else if (x < 510)
			op_info();
		else if (x < 525)
			op_fault_info();
		else if (x < 535)
			op_bad_cmd();
		else if (x < 700)
			op_probe();
		else if (x < 760)
			op_kprobe();
		else if (x < 880)
			op_native();
		else if (x < 950)
			op_section();
		else if (x < 985)
			op_view_touch();
		else if (x < 990)
			op_fork();
		else
			op_query();
		atomic_fetch_add(&SH->ops, 1);
		if (!g_failures)
			m_check(O.full_every > 0 && (i % (uint64_t)O.full_every) == (uint64_t)O.full_every - 1);
	}
	if (M.mif_fd >= 0 && pwrite(M.mif_fd, "0", 1, 0) != 1)
		fz_log("# cannot clear /proc/self/make-it-fail\n");
	if (!g_failures)
		m_check(true);
	if (g_failures)
		m_dump_ring();
	model_teardown();
	return g_failures ? FZ_EXIT_FAIL : FZ_EXIT_PASS;
}

/* ================================================================== */
/* Chaos mode                                                           */
/* ================================================================== */

#define C_POOL		48
#define C_SECS		12
#define C_MAXTHREADS	16

enum { K_EMPTY, K_ALLOC, K_VIEW, K_NATIVE };

struct cent {
	_Atomic uint64_t base, size;
	_Atomic int kind;
};

struct cthread {
	pthread_t th;
	_Atomic int alive;
	_Atomic double last;	/* time of the last finished op */
	_Atomic pid_t tid;
	int idx;
};

struct chaos {
	struct cent pool[C_POOL];
	_Atomic int secfd[C_SECS];
	int fd;			/* never closed */
	_Atomic int fd2;	/* closed and reopened under the others' feet */
	uint64_t arena, arena_size;
	int memfd;
	uint8_t *noaccess;	/* a PROT_NONE page for bad argument pointers */
	int slot;
	uint64_t seed;
	struct cthread t[C_MAXTHREADS];
	_Atomic uint64_t local_ops;
	_Atomic int fails;
};

static struct chaos C;
static __thread int t_fd = -1;		/* the context this thread uses */
static __thread int t_pipe[2] = { -1, -1 };
static __thread struct fz_rng *t_rng;
static __thread struct cthread *t_self;

static FZ_PRINTF(1, 2) void c_fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	if (atomic_fetch_add(&C.fails, 1) > 20)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fz_fail(SH, "chaos seed %" PRIu64 ": %s", C.seed, buf);
}

static void c_check(const char *what, struct fz_res r, bool fd_cmd)
{
	const char *p = fz_res_problem(r, fd_cmd);

	if (p)
		c_fail("%s: %s", what, p);
}

static struct cent *c_pick(int kind)
{
	int i, start = fz_below(t_rng, C_POOL);

	for (i = 0; i < C_POOL; i++) {
		struct cent *e = &C.pool[(start + i) % C_POOL];
		int k = atomic_load(&e->kind);

		if (k != K_EMPTY && (!kind || k == kind))
			return e;
	}
	return NULL;
}

static uint64_t c_in_arena(uint64_t a, uint64_t len)
{
	return a >= C.arena && len <= C.arena_size && a - C.arena <= C.arena_size - len;
}

static uint64_t c_rand_addr(void)
{
	struct cent *e;
	unsigned int x = fz_below(t_rng, 100);

	if (x < 55 && (e = c_pick(0))) {
		uint64_t b = atomic_load(&e->base), s = atomic_load(&e->size);

		switch (fz_below(t_rng, 6)) {
		case 0: return b;
		case 1: return b + s;
		case 2: return b + s - FZ_PAGE;
		case 3: return b + fz_below(t_rng, s ? s : 1);
		default: return b + fz_round_down(fz_below(t_rng, s ? s : 1), FZ_PAGE);
		}
	}
	if (x < 85) {
		uint64_t off = fz_below(t_rng, C.arena_size);

		return C.arena + (fz_chance(t_rng, 50) ? fz_round_down(off, FZ_GRAN) :
				  fz_round_down(off, FZ_PAGE));
	}
	if (x < 95)
		return FZ_PICK(t_rng, boundary_addrs);
	return fz_next(t_rng);
}

static uint64_t c_rand_size(void)
{
	unsigned int x = fz_below(t_rng, 100);

	if (x < 60)
		return FZ_PAGE * (1 + fz_below(t_rng, 32));
	if (x < 80)
		return FZ_GRAN * (1 + fz_below(t_rng, 16));
	if (x < 85)
		return 1 + fz_below(t_rng, 2 * FZ_PAGE);
	if (x < 95)
		return FZ_PICK(t_rng, boundary_sizes);
	return fz_next(t_rng);
}

/* Where to put an argument struct; *must_fault: the kernel cannot read it. */
static void *c_argptr(void *args, size_t size, bool *must_fault)
{
	unsigned int x = fz_below(t_rng, 1000);

	*must_fault = false;
	(void)size;
	if (x < 975)
		return args;
	*must_fault = true;
	if (x < 982)
		return NULL;
	if (x < 988)
		return (void *)0xffffffff81000000ULL;
	if (x < 995)
		return C.noaccess;
	return (void *)(uintptr_t)fz_next(t_rng);
}

static int c_fd(void)
{
	int fd2;

	if (fz_chance(t_rng, 90) || t_fd != C.fd)
		return t_fd;
	fd2 = atomic_load(&C.fd2);
	return fd2 >= 0 ? fd2 : t_fd;
}

/* Calls an ioctl with random argument placement and checks the ABI rules. */
static struct fz_res c_call(unsigned long cmd, void *args, size_t size)
{
	bool must_fault;
	void *p = c_argptr(args, size, &must_fault);
	long off = fz_status_offset(cmd);
	struct fz_res r;

	memcpy((char *)args + off, &(uint32_t){ FZ_GARBAGE32 }, 4);
	r.rc = fz_ioctl(c_fd(), cmd, p);
	memcpy(&r.status, (char *)args + off, 4);
	if (p != args) {
		r.status = FZ_GARBAGE32;
		if (must_fault && r.rc != -EFAULT && r.rc != -EBADF && r.rc != -ENOTTY &&
		    !(O.nomem_ok && r.rc == -ENOMEM)) {
			/* Random pointers may hit something mapped. */
			if (p == NULL || p == C.noaccess ||
			    (uint64_t)(uintptr_t)p >= 0x800000000000ULL)
				c_fail("%s with pointer %p -> %d, expected EFAULT", fz_cmd_name(cmd),
				       p, r.rc);
		}
		if (r.rc > 0 && fz_cmd_returns_fd(cmd))
			close(r.rc);
		r.rc = r.rc > 0 ? 0 : r.rc;
		return r;
	}
	if (!(O.nomem_ok && (r.rc == -ENOMEM || r.status == WINVM_STATUS_NO_MEMORY)))
		c_check(fz_cmd_name(cmd), r, fz_cmd_returns_fd(cmd));
	return r;
}

static void c_store(int kind, uint64_t base, uint64_t size)
{
	struct cent *e = &C.pool[fz_below(t_rng, C_POOL)];
	int old = atomic_exchange(&e->kind, K_EMPTY);
	uint64_t ob = atomic_load(&e->base);

	/* Give back what the slot held, so memory stays bounded. */
	if (old == K_ALLOC) {
		struct winvm_free_args f = { .address = ob, .type = WINVM_MEM_RELEASE };

		fz_call(t_fd, WINVM_IOC_MEM_FREE, &f);
	} else if (old == K_VIEW) {
		struct winvm_view_unmap_args u = { .address = ob };

		fz_call(t_fd, WINVM_IOC_VIEW_UNMAP, &u);
	} else if (old == K_NATIVE && c_in_arena(ob, atomic_load(&e->size))) {
		munmap((void *)(uintptr_t)ob, atomic_load(&e->size));
	}
	atomic_store(&e->base, base);
	atomic_store(&e->size, size);
	atomic_store(&e->kind, kind);
}

static void c_alloc(void)
{
	struct winvm_alloc_args a;
	struct fz_res r;
	uint64_t req, limit;
	bool reserve;

	memset(&a, 0, sizeof(a));
	a.address = fz_chance(t_rng, 40) ? 0 : c_rand_addr();
	a.size = c_rand_size();
	if (!a.address && fz_chance(t_rng, 3))
		a.size = (1ULL << 30) << fz_below(t_rng, 11);
	switch (fz_below(t_rng, 10)) {
	case 0: case 1: case 2: a.type = WINVM_MEM_RESERVE; break;
	case 3: case 4: case 5: a.type = WINVM_MEM_RESERVE | WINVM_MEM_COMMIT; break;
	case 6: case 7: a.type = WINVM_MEM_COMMIT; break;
	case 8: a.type = fz_chance(t_rng, 50) ? WINVM_MEM_RESET : WINVM_MEM_RESET_UNDO; break;
	default: a.type = (uint32_t)fz_next(t_rng); break;
	}
	if (fz_chance(t_rng, 10))
		a.type |= WINVM_MEM_TOP_DOWN;
	a.protect = fz_rand_prot(t_rng);
	if (fz_chance(t_rng, 5))
		a.zero_bits = fz_chance(t_rng, 50) ? 1 + fz_below(t_rng, 40) : fz_next(t_rng);
	if (fz_chance(t_rng, 2))
		a.flags = 1;
	if (fz_chance(t_rng, 2))
		a.reserved[1] = 1;
	req = a.address;
	reserve = (a.type & WINVM_MEM_RESERVE) || (!req && (a.type & WINVM_MEM_COMMIT));
	r = c_call(WINVM_IOC_MEM_ALLOC, &a, sizeof(a));
	if (r.rc || r.status == FZ_GARBAGE32)
		return;
	if (zero_bits_limit(a.zero_bits, &limit))
		c_fail("MEM_ALLOC succeeded with zero_bits 0x%llx", (unsigned long long)a.zero_bits);
	if (!a.size || (a.size & (FZ_PAGE - 1)) || (a.address & (FZ_PAGE - 1)) ||
	    a.address < FZ_MIN_ADDR || a.address + a.size > limit || a.address + a.size < a.address ||
	    (reserve && (a.address & (FZ_GRAN - 1))) ||
	    (reserve && req && a.address != fz_round_down(req, FZ_GRAN)) ||
	    (!reserve && a.address != fz_round_down(req, FZ_PAGE)))
		c_fail("MEM_ALLOC(0x%llx, type 0x%x) returned 0x%llx+0x%llx",
		       (unsigned long long)req, a.type, (unsigned long long)a.address,
		       (unsigned long long)a.size);
	if (reserve)
		c_store(K_ALLOC, a.address, a.size);
}

static void c_free(void)
{
	struct winvm_free_args f;
	struct cent *e = c_pick(0);
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	f.type = fz_chance(t_rng, 50) ? WINVM_MEM_RELEASE : WINVM_MEM_DECOMMIT;
	if (fz_chance(t_rng, 3))
		f.type = (uint32_t)fz_next(t_rng);
	if (e && fz_chance(t_rng, 80)) {
		uint64_t b = atomic_load(&e->base), s = atomic_load(&e->size);

		f.address = b + (fz_chance(t_rng, 50) ? 0 : fz_round_down(fz_below(t_rng, s ? s : 1),
									 FZ_PAGE));
		f.size = fz_chance(t_rng, 40) ? 0 : FZ_PAGE * (1 + fz_below(t_rng, 16));
	} else {
		f.address = c_rand_addr();
		f.size = fz_chance(t_rng, 50) ? 0 : c_rand_size();
	}
	if (fz_chance(t_rng, 2))
		f.pad = 1;
	r = c_call(WINVM_IOC_MEM_FREE, &f, sizeof(f));
	(void)r;
}

static void c_protect(void)
{
	struct winvm_protect_args p;
	struct cent *e = c_pick(0);
	struct fz_res r;

	memset(&p, 0, sizeof(p));
	p.protect = fz_rand_prot(t_rng);
	if (e && fz_chance(t_rng, 85)) {
		uint64_t b = atomic_load(&e->base), s = atomic_load(&e->size);

		p.address = b + fz_round_down(fz_below(t_rng, s ? s : 1), FZ_PAGE);
		p.size = FZ_PAGE * (1 + fz_below(t_rng, 16));
	} else {
		p.address = c_rand_addr();
		p.size = c_rand_size();
	}
	if (fz_chance(t_rng, 2))
		p.reserved[0] = 1;
	r = c_call(WINVM_IOC_MEM_PROTECT, &p, sizeof(p));
	if (r.rc == 0 && r.status == 0 && !fz_prot_is_documented(p.old_protect) &&
	    p.old_protect != WINVM_PAGE_NOACCESS)
		c_fail("MEM_PROTECT: old_protect 0x%x", p.old_protect);
}

static void c_query(void)
{
	struct winvm_query_args q;
	struct fz_res r;
	const char *why;

	memset(&q, 0, sizeof(q));
	q.address = c_rand_addr();
	if (fz_chance(t_rng, 2))
		q.pad = 1;
	r = c_call(WINVM_IOC_MEM_QUERY, &q, sizeof(q));
	if (r.rc || r.status)
		return;
	if ((why = fz_query_problem(q.address, &q)))
		c_fail("MEM_QUERY(0x%llx): %s (base 0x%llx abase 0x%llx region 0x%llx state 0x%x prot 0x%x asize 0x%llx csize 0x%llx)",
		       (unsigned long long)q.address, why, (unsigned long long)q.base_address,
		       (unsigned long long)q.allocation_base, (unsigned long long)q.region_size,
		       q.state, q.protect, (unsigned long long)q.allocation_size,
		       (unsigned long long)q.commit_size);
}

static void c_misc(void)
{
	switch (fz_below(t_rng, 4)) {
	case 0: {
		struct winvm_info_args i;

		memset(&i, 0, sizeof(i));
		if (fz_chance(t_rng, 20))
			i.reserved[2] = 1;
		c_call(WINVM_IOC_INFO_GET, &i, sizeof(i));
		break;
	}
	case 1: {
		struct winvm_fault_info_args f;

		memset(&f, 0, sizeof(f));
		c_call(WINVM_IOC_FAULT_INFO, &f, sizeof(f));
		break;
	}
	case 2: {
		uint8_t buf[512];
		unsigned long cmd = (unsigned long)_IOC(fz_below(t_rng, 4), 'W',
							0x80 + fz_below(t_rng, 20),
							fz_below(t_rng, 300));
		int rc;

		if (fz_status_offset(cmd) >= 0)
			break;
		memset(buf, 0, sizeof(buf));
		rc = fz_ioctl(c_fd(), cmd, buf);
		if (rc != -ENOTTY && rc != -EBADF)
			c_fail("ioctl 0x%lx -> %d", cmd, rc);
		break;
	}
	default: {
		/* Close and reopen the second context. */
		int nfd = fz_open_winvm(), old = atomic_exchange(&C.fd2, nfd);

		if (old >= 0)
			close(old);
		break;
	}
	}
}

/* Fault record check after a probe signal in this thread. */
static void c_record(int access)
{
	struct winvm_fault_info_args f;
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	r = fz_call(t_fd, WINVM_IOC_FAULT_INFO, &f);
	if (r.rc || r.status)
		return;
	/* Injected failures: a signal frame that could not be written. */
	if (O.nomem_ok && (fz_probe.code == SI_KERNEL || !fz_probe.addr))
		return;
	if (f.address != fz_probe.addr)
		c_fail("fault at 0x%llx but record says 0x%llx (access %u, %s)",
		       (unsigned long long)fz_probe.addr, (unsigned long long)f.address, f.access,
		       winvm_abi_status_name(f.fault_status));
	else if (f.access != (uint32_t)access && access != WINVM_EXCEPTION_EXECUTE_FAULT)
		c_fail("%d fault at 0x%llx recorded as access %u", access,
		       (unsigned long long)f.address, f.access);
	else if (f.fault_status != WINVM_STATUS_GUARD_PAGE_VIOLATION &&
		 f.fault_status != WINVM_STATUS_ACCESS_VIOLATION)
		c_fail("fault record status 0x%x", f.fault_status);
}

static void c_drain(void)
{
	struct winvm_fault_info_args f;

	memset(&f, 0, sizeof(f));
	fz_call(t_fd, WINVM_IOC_FAULT_INFO, &f);
}

static void c_probe(void)
{
	struct cent *e = c_pick(0);
	uint64_t addr, b, s;
	unsigned int x = fz_below(t_rng, 100);

	if (!e)
		return;
	b = atomic_load(&e->base);
	s = atomic_load(&e->size);
	addr = b + fz_below(t_rng, s ? s : 1);
	if (x < 45) {
		if (!fz_try_read((void *)(uintptr_t)addr, NULL))
			c_record(WINVM_EXCEPTION_READ_FAULT);
	} else if (x < 85) {
		if (!c_in_arena(addr, 1))
			return;
		if (!fz_try_write((void *)(uintptr_t)addr, FZ_PICK(t_rng, fz_safe_bytes)))
			c_record(WINVM_EXCEPTION_WRITE_FAULT);
	} else if (x < 95) {
		if (!c_in_arena(addr, 1))
			return;
		if (!fz_try_exec((void *)(uintptr_t)addr))
			c_record(WINVM_EXCEPTION_EXECUTE_FAULT);
	} else {
		/* Kernel-mode accesses never consume guards or records. */
		uint8_t v = FZ_PICK(t_rng, fz_safe_bytes);
		struct iovec l = { &v, 1 }, rm = { (void *)(uintptr_t)addr, 1 };
		bool w = c_in_arena(addr, 1) && fz_chance(t_rng, 50);
		ssize_t n;

		switch (fz_below(t_rng, 3)) {
		case 0:
			if (w) {
				if (write(t_pipe[1], &v, 1) == 1 &&
				    read(t_pipe[0], (void *)(uintptr_t)addr, 1) != 1)
					n = read(t_pipe[0], &v, 1);
			} else if (write(t_pipe[1], (void *)(uintptr_t)addr, 1) == 1) {
				n = read(t_pipe[0], &v, 1);
			}
			break;
		case 1:
			n = w ? process_vm_writev(getpid(), &l, 1, &rm, 1, 0) :
				process_vm_readv(getpid(), &l, 1, &rm, 1, 0);
			break;
		default:
			n = w ? pwrite(C.memfd, &v, 1, (off_t)addr) : pread(C.memfd, &v, 1, (off_t)addr);
			break;
		}
		(void)n;
		c_drain();
	}
}

static void c_native(void)
{
	struct cent *e = c_pick(0);
	uint64_t b, len;
	int rc = 0;

	if (e && fz_chance(t_rng, 70)) {
		b = atomic_load(&e->base);
		len = atomic_load(&e->size);
		if (fz_chance(t_rng, 40)) {
			uint64_t off = fz_round_down(fz_below(t_rng, len ? len : 1), FZ_PAGE);

			b += off;
			len = FZ_PAGE * (1 + fz_below(t_rng, 8));
		}
	} else {
		b = fz_round_down(C.arena + fz_below(t_rng, C.arena_size), FZ_PAGE);
		len = FZ_PAGE * (1 + fz_below(t_rng, 64));
	}
	if (!c_in_arena(b, len))
		return;
	switch (fz_below(t_rng, 8)) {
	case 0:
		rc = munmap((void *)(uintptr_t)b, len);
		break;
	case 1: {
		int fl = (fz_chance(t_rng, 30) ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
			 (fz_chance(t_rng, 30) ? MAP_FIXED_NOREPLACE : MAP_FIXED);
		void *p = mmap((void *)(uintptr_t)b, len, (int)fz_below(t_rng, 4), fl, -1, 0);

		if (p != MAP_FAILED && fz_chance(t_rng, 50))
			c_store(K_NATIVE, b, len);
		break;
	}
	case 2:
		rc = mprotect((void *)(uintptr_t)b, len, (int)fz_below(t_rng, 8) & ~PROT_EXEC);
		break;
	case 3: {
		uint64_t t = fz_round_down(C.arena + fz_below(t_rng, C.arena_size), FZ_PAGE);
		uint64_t nl = FZ_PAGE * (1 + fz_below(t_rng, 32));
		int fl = fz_below(t_rng, 3) == 0 ? 0 :
			 fz_chance(t_rng, 50) ? MREMAP_MAYMOVE : MREMAP_MAYMOVE | MREMAP_FIXED;

		if ((fl & MREMAP_FIXED) && !c_in_arena(t, nl))
			break;
		mremap((void *)(uintptr_t)b, len, nl, fl, (void *)(uintptr_t)t);
		break;
	}
	case 4:
	case 5: {
		static const int advs[] = {
			MADV_DONTNEED, MADV_REMOVE, MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT,
			MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_DONTFORK, MADV_DOFORK,
			MADV_HUGEPAGE, MADV_NOHUGEPAGE, 25, MADV_DONTDUMP, MADV_FREE,
		};
		int adv = FZ_PICK(t_rng, advs);

		if (adv == MADV_DOFORK && (O.avoid & AVOID_DOFORK))
			break;
		if (adv == MADV_REMOVE && (O.avoid & AVOID_COW_PUNCH))
			break;
		if (len > (4ULL << 20))
			len = 4ULL << 20;
		rc = madvise((void *)(uintptr_t)b, len, adv);
		break;
	}
	case 6:
		if (len > (1ULL << 20))
			len = 1ULL << 20;
		rc = fz_chance(t_rng, 50) ? mlock((void *)(uintptr_t)b, len) :
					     munlock((void *)(uintptr_t)b, len);
		break;
	default:
		rc = msync((void *)(uintptr_t)b, len, MS_ASYNC);
		break;
	}
	(void)rc;
	c_drain();
}

static int c_secfd(void)
{
	int fd = atomic_load(&C.secfd[fz_below(t_rng, C_SECS)]);

	if (fd >= 0 && fz_chance(t_rng, 90))
		return fd;
	return fz_chance(t_rng, 50) ? -1 : (int)fz_below(t_rng, 64);
}

static void c_secstore(int fd)
{
	int old = atomic_exchange(&C.secfd[fz_below(t_rng, C_SECS)], fd);

	if (old >= 0)
		close(old);
}

static void c_section(void)
{
	unsigned int x = fz_below(t_rng, 100);
	struct fz_res r;

	if (x < 25) {
		struct winvm_section_create_args c;
		int mfd = -1;

		memset(&c, 0, sizeof(c));
		c.size = fz_chance(t_rng, 80) ? FZ_PAGE * (1 + fz_below(t_rng, 64)) : c_rand_size();
		c.file_fd = -1;
		if (fz_chance(t_rng, 25)) {
			mfd = (int)syscall(SYS_memfd_create, "fzc", 0);
			if (mfd >= 0 && ftruncate(mfd, FZ_PAGE * fz_below(t_rng, 32)))
				c_fail("ftruncate");
			c.file_fd = mfd;
		}
		c.protect = fz_chance(t_rng, 90) ?
			    FZ_PICK(t_rng, ((const uint32_t[]){ 2, 4, 8, 0x20, 0x40, 0x80 })) :
			    fz_rand_prot(t_rng);
		c.attributes = fz_chance(t_rng, 80) ?
			       FZ_PICK(t_rng, ((const uint32_t[]){ 0, WINVM_SEC_COMMIT,
								   WINVM_SEC_RESERVE })) :
			       (uint32_t)fz_next(t_rng);
		if (fz_chance(t_rng, 30)) {
			const char *n = FZ_PICK(t_rng, sec_names);

			c.name = (uint64_t)(uintptr_t)n;
			c.name_len = strlen(n);
		}
		c.fd = -1;
		r = c_call(WINVM_IOC_SECTION_CREATE, &c, sizeof(c));
		if (mfd >= 0) {
			/* Shrink the file under the section now and then. */
			if (r.rc > 0 && fz_chance(t_rng, 20) && !(O.avoid & AVOID_COW_PUNCH) &&
			    ftruncate(mfd, 0))
				c_fail("ftruncate");
			close(mfd);
		}
		if (r.rc > 0)
			c_secstore(r.rc);
	} else if (x < 35) {
		struct winvm_section_open_args o;
		const char *n = FZ_PICK(t_rng, sec_names);

		memset(&o, 0, sizeof(o));
		o.name = (uint64_t)(uintptr_t)n;
		o.name_len = strlen(n);
		o.access = (uint32_t)fz_below(t_rng, 0x40);
		r = c_call(WINVM_IOC_SECTION_OPEN, &o, sizeof(o));
		if (r.rc > 0)
			c_secstore(r.rc);
	} else if (x < 45) {
		struct winvm_section_dup_args d;

		memset(&d, 0, sizeof(d));
		d.section_fd = c_secfd();
		d.access = (uint32_t)fz_below(t_rng, 0x40);
		r = c_call(WINVM_IOC_SECTION_DUP, &d, sizeof(d));
		if (r.rc > 0)
			c_secstore(r.rc);
	} else if (x < 52) {
		struct winvm_section_query_args q;

		memset(&q, 0, sizeof(q));
		q.section_fd = c_secfd();
		c_call(WINVM_IOC_SECTION_QUERY, &q, sizeof(q));
	} else if (x < 60) {
		/* Close a section fd, maybe while another thread maps it. */
		c_secstore(-1);
	} else if (x < 82) {
		struct winvm_view_map_args v;

		memset(&v, 0, sizeof(v));
		v.section_fd = c_secfd();
		v.access = FZ_PICK(t_rng, ((const uint32_t[]){ 1, 2, 4, 6, 0x24, 0x22, 0x21, 0 }));
		if (fz_chance(t_rng, 60))
			v.address = fz_round_down(C.arena + fz_below(t_rng, C.arena_size), FZ_GRAN);
		v.offset = fz_chance(t_rng, 80) ? 0 : FZ_GRAN * fz_below(t_rng, 3);
		v.size = fz_chance(t_rng, 50) ? 0 : FZ_PAGE * (1 + fz_below(t_rng, 32));
		r = c_call(WINVM_IOC_VIEW_MAP, &v, sizeof(v));
		if (!r.rc && r.status == 0)
			c_store(K_VIEW, v.address, v.size);
	} else if (x < 92) {
		struct winvm_view_unmap_args u;
		struct cent *e = c_pick(fz_chance(t_rng, 70) ? K_VIEW : 0);

		memset(&u, 0, sizeof(u));
		u.address = e ? atomic_load(&e->base) + fz_below(t_rng, 1 + atomic_load(&e->size)) :
			    c_rand_addr();
		c_call(WINVM_IOC_VIEW_UNMAP, &u, sizeof(u));
	} else {
		struct winvm_view_flush_args f;
		struct cent *e = c_pick(K_VIEW);

		memset(&f, 0, sizeof(f));
		f.address = e ? atomic_load(&e->base) : c_rand_addr();
		f.size = fz_chance(t_rng, 50) ? 0 : c_rand_size();
		c_call(WINVM_IOC_VIEW_FLUSH, &f, sizeof(f));
	}
}

static void c_fork(void)
{
	pid_t pid;
	int rc, how = fz_below(t_rng, 4);

	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		/* One thread left; the inherited context is the parent's. */
		struct winvm_query_args q;
		struct fz_res r;
		int i;

		memset(&q, 0, sizeof(q));
		q.address = C.arena;
		r = fz_call(C.fd, WINVM_IOC_MEM_QUERY, &q);
		if (r.status != WINVM_STATUS_INVALID_HANDLE && r.rc != -ENOMEM)
			c_fail("child: inherited context query -> rc %d %s", r.rc,
			       winvm_abi_status_name(r.status));
		t_fd = fz_open_winvm();
		if (t_fd < 0)
			_exit(0);
		for (i = 0; i < 40; i++) {
			switch (fz_below(t_rng, 5)) {
			case 0: c_alloc(); break;
			case 1: c_free(); break;
			case 2: c_probe(); break;
			case 3: c_section(); break;
			default: c_query(); break;
			}
			atomic_fetch_add(&SH->ops, 1);
		}
		if (how == 1) {
			char seed[32], fdn[16], shfd[16];

			snprintf(seed, sizeof(seed), "%" PRIu64, fz_next(t_rng));
			snprintf(fdn, sizeof(fdn), "%d", t_fd);
			snprintf(shfd, sizeof(shfd), "%d", g_shfd);
			fcntl(t_fd, F_SETFD, 0);
			execl("/proc/self/exe", O.argv0, FZ_EXEC_CHILD_ARG, seed, fdn, shfd,
			      O.nomem_ok ? "nomem" : "", (char *)NULL);
		} else if (how == 2) {
			execl("/bin/busybox", "busybox", "true", (char *)NULL);
		}
		_exit(atomic_load(&C.fails) ? 1 : 0);
	}
	atomic_fetch_add(&SH->forks, 1);
	rc = fz_wait(pid);
	if (how == 1 || how == 2)
		atomic_fetch_add(&SH->execs, 1);
	if (rc != 0 && !(O.nomem_ok && (rc == 3 || rc > 128 || how == 1 || how == 2)))
		c_fail("forked child (mode %d) exited with %d", how, rc);
}

static void c_op(void)
{
	unsigned int x = fz_below(t_rng, 10000);

	if (x < 1600)
		c_alloc();
	else if (x < 2600)
		c_free();
	else if (x < 3600)
		c_protect();
	else if (x < 4600)
		c_query();
	else if (x < 5000)
		c_misc();
	else if (x < 6800)
		c_probe();
	else if (x < 7800)
		c_native();
	else if (x < 9960)
		c_section();
	else if (x < 9990)
		c_fork();
	else if (x < 9994) {
		/* The whole worker execs, every other thread in the middle of something. */
		char seed[32], shfd[16];

		snprintf(seed, sizeof(seed), "%" PRIu64, fz_next(t_rng));
		snprintf(shfd, sizeof(shfd), "%d", g_shfd);
		atomic_fetch_add(&SH->execs, 1);
		execl("/proc/self/exe", O.argv0, FZ_EXEC_CHILD_ARG, seed, "-1", shfd,
		      O.nomem_ok ? "nomem" : "", (char *)NULL);
	} else if (x < 9997) {
		atomic_fetch_add(&SH->exits, 1);
		syscall(SYS_exit_group, 0);
	} else {
		atomic_fetch_add(&SH->thread_exits, 1);
		close(t_pipe[0]);
		close(t_pipe[1]);
		atomic_store(&t_self->alive, 0);
		pthread_exit(NULL);
	}
}

struct cthread_arg {
	struct cthread *t;
	uint64_t seed;
};

static void *c_thread(void *arg)
{
	struct cthread *t = arg;
	struct fz_rng rng = { fz_seed_mix(C.seed, 0x7468726561ULL + t->idx * 7919 +
					  (uint64_t)fz_now()) };

	t_rng = &rng;
	t_self = t;
	t_fd = C.fd;
	fz_thread_signals();
	if (pipe2(t_pipe, O_CLOEXEC | O_NONBLOCK))
		t_pipe[0] = t_pipe[1] = -1;
	atomic_store(&t->tid, fz_gettid());
	while (!atomic_load(&SH->stop) && atomic_load(&SH->ops) < O.ops) {
		c_op();
		atomic_fetch_add(&SH->ops, 1);
		atomic_fetch_add(&C.local_ops, 1);
		atomic_store(&t->last, fz_now());
	}
	close(t_pipe[0]);
	close(t_pipe[1]);
	atomic_store(&t->alive, 0);
	return NULL;
}

static void dump_task(pid_t pid, pid_t tid)
{
	static const char *const files[] = { "stack", "wchan", "syscall", "stat" };
	char path[96], buf[4096];
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", pid, tid, files[i]);
		if (fz_read_file(path, buf, sizeof(buf)) >= 0)
			fz_log("# %s:\n%s\n", path, buf);
	}
}

static void dump_process(pid_t pid)
{
	char path[64], buf[8192], *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (p = buf; p < buf + n; ) {
			struct { uint64_t ino; int64_t off; unsigned short reclen;
				 unsigned char type; char name[]; } *d = (void *)p;

			if (d->name[0] != '.')
				dump_task(pid, atoi(d->name));
			p += d->reclen;
		}
	}
	close(fd);
}

/* One worker process: T threads on one address space. */
static FZ_NORETURN void chaos_worker(int slot, uint64_t seed)
{
	int i;
	void *p;

	C.seed = seed;
	C.slot = slot;
	fz_install_signals();
	if (O.failinject) {
		mlockall(MCL_CURRENT);
		fz_write_file("/proc/self/make-it-fail", "1");
	}
	C.fd = fz_open_winvm();
	if (C.fd < 0)
		_exit(O.nomem_ok ? 0 : 3);
	atomic_store(&C.fd2, fz_open_winvm());
	for (i = 0; i < C_SECS; i++)
		atomic_store(&C.secfd[i], -1);
	C.memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	p = mmap(NULL, FZ_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	C.noaccess = p == MAP_FAILED ? NULL : p;
	if (fz_sandbox_init())
		_exit(O.nomem_ok ? 0 : 3);
	C.arena_size = 1ULL << 30;
	C.arena = 0x100000000000ULL + ((uint64_t)slot << 32);
	for (i = 0; i < O.threads; i++) {
		C.t[i].idx = i;
		atomic_store(&C.t[i].last, fz_now());
	}
	while (!atomic_load(&SH->stop) && atomic_load(&SH->ops) < O.ops) {
		double now = fz_now();

		atomic_store(&SH->heartbeat[slot], (uint64_t)now);
		for (i = 0; i < O.threads; i++) {
			struct cthread *t = &C.t[i];

			if (!atomic_load(&t->alive)) {
				if (t->th)
					pthread_join(t->th, NULL);
				t->th = 0;
				atomic_store(&t->alive, 1);
				atomic_store(&t->last, now);
				if (pthread_create(&t->th, NULL, c_thread, t)) {
					t->th = 0;
					atomic_store(&t->alive, 0);
				}
			} else if (now - atomic_load(&t->last) > O.hang_s) {
				c_fail("HANG: thread %d (tid %d) made no progress for %.0f s",
				       i, atomic_load(&t->tid), now - atomic_load(&t->last));
				dump_process(getpid());
				_exit(FZ_EXIT_HANG);
			}
		}
		usleep(20000);
	}
	for (i = 0; i < O.threads; i++) {
		double t0 = fz_now();

		while (C.t[i].th && atomic_load(&C.t[i].alive)) {
			if (fz_now() - t0 > O.hang_s) {
				c_fail("HANG: thread %d (tid %d) did not stop", i,
				       atomic_load(&C.t[i].tid));
				dump_process(getpid());
				_exit(FZ_EXIT_HANG);
			}
			usleep(10000);
		}
		if (C.t[i].th)
			pthread_join(C.t[i].th, NULL);
	}
	/* Alone now: a VirtualQuery walk must be seamless and sane. */
	{
		uint64_t addr = 0;
		int n = 0;

		while (addr < FZ_TOP && n++ < 100000) {
			struct winvm_query_args q;
			struct fz_res r;
			const char *why;

			memset(&q, 0, sizeof(q));
			q.address = addr;
			r = fz_call(C.fd, WINVM_IOC_MEM_QUERY, &q);
			if (r.rc || r.status)
				break;
			if ((why = fz_query_problem(addr, &q))) {
				c_fail("final walk at 0x%llx: %s", (unsigned long long)addr, why);
				break;
			}
			addr += q.region_size;
		}
		if (addr < FZ_TOP && !O.nomem_ok)
			c_fail("final walk stopped at 0x%llx", (unsigned long long)addr);
	}
	_exit(atomic_load(&C.fails) ? FZ_EXIT_FAIL : 0);
}

static int chaos_run(void)
{
	pid_t pids[64] = { 0 };
	double t0 = fz_now(), last_progress = t0;
	uint64_t last_ops = 0, gen = 0;
	int i, procs = O.procs > 64 ? 64 : O.procs, result = FZ_EXIT_PASS, alive;

	for (;;) {
		double now = fz_now();
		bool stopping = atomic_load(&SH->ops) >= O.ops || (O.time && now - t0 > O.time);

		if (stopping)
			atomic_store(&SH->stop, 1);
		alive = 0;
		for (i = 0; i < procs; i++) {
			int st;

			if (pids[i] > 0) {
				pid_t w = waitpid(pids[i], &st, WNOHANG);

				if (w == pids[i]) {
					int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

					if (rc == FZ_EXIT_HANG)
						result = FZ_EXIT_HANG;
					else if (O.nomem_ok && (rc > 128 || rc == 127)) {
						/* A signal frame or an exec the injection broke. */
						fz_log("# worker %d (pid %d) killed by signal %d under fault injection\n",
						       i, pids[i], rc - 128);
					} else if (rc != 0) {
						fz_log("# worker %d (pid %d) ended with %d\n", i, pids[i], rc);
						if (result == FZ_EXIT_PASS)
							result = FZ_EXIT_FAIL;
						if (rc > 128)
							fz_fail(SH, "worker killed by signal %d", rc - 128);
					}
					pids[i] = 0;
				}
			}
			if (pids[i] <= 0 && !stopping && result == FZ_EXIT_PASS) {
				uint64_t seed = fz_seed_mix(O.seed, 1000 * (gen++) + i);
				pid_t pid = fork();

				if (pid == 0)
					chaos_worker(i, seed);
				pids[i] = pid;
			}
			alive += pids[i] > 0;
		}
		if (!alive && (stopping || result != FZ_EXIT_PASS))
			break;
		if (atomic_load(&SH->ops) != last_ops) {
			last_ops = atomic_load(&SH->ops);
			last_progress = now;
		} else if (now - last_progress > O.hang_s + 30) {
			fz_fail(SH, "HANG: no operation finished for %.0f s", now - last_progress);
			for (i = 0; i < procs; i++)
				if (pids[i] > 0)
					dump_process(pids[i]);
			for (i = 0; i < procs; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			result = FZ_EXIT_HANG;
			atomic_store(&SH->stop, 1);
			last_progress = now;
		}
		if (result != FZ_EXIT_PASS)
			atomic_store(&SH->stop, 1);
		usleep(20000);
	}
	return result;
}

/* ================================================================== */
/* Exec child and main                                                  */
/* ================================================================== */

/* A process the fuzzer exec()ed: a short life of its own. */
static FZ_UNUSED int fz_exec_child_main(int argc, char **argv)
{
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	int oldfd = argc > 3 ? atoi(argv[3]) : -1, shfd = argc > 4 ? atoi(argv[4]) : -1;
	bool nomem = argc > 5 && !strcmp(argv[5], "nomem");
	struct fz_rng rng = { seed };
	struct winvm_query_args q;
	struct fz_res r;
	int fd, i, fails = 0;

	if (shfd >= 0) {
		void *p = mmap(NULL, sizeof(struct fz_shared), PROT_READ | PROT_WRITE, MAP_SHARED,
			       shfd, 0);

		if (p != MAP_FAILED)
			SH = p;
	}
	fz_install_signals();
	if (oldfd >= 0) {
		/* The context of the address space exec() replaced. */
		memset(&q, 0, sizeof(q));
		q.address = 0x10000;
		r = fz_call(oldfd, WINVM_IOC_MEM_QUERY, &q);
		if (r.rc != -EBADF && r.rc != -ENOMEM) {
			fz_log("# exec child: old context query -> rc %d %s\n", r.rc,
			       winvm_abi_status_name(r.status));
			fails++;
		}
		close(oldfd);
	}
	fd = fz_open_winvm();
	if (fd < 0)
		return 0;
	for (i = 0; i < 20; i++) {
		struct winvm_alloc_args a;
		struct winvm_free_args f;

		memset(&a, 0, sizeof(a));
		a.size = FZ_PAGE * (1 + fz_below(&rng, 16));
		a.type = WINVM_MEM_RESERVE | WINVM_MEM_COMMIT;
		a.protect = WINVM_PAGE_READWRITE;
		r = fz_call(fd, WINVM_IOC_MEM_ALLOC, &a);
		if (r.rc) {
			if (r.rc != -ENOMEM)
				fails++;
			continue;
		}
		if (!fz_try_write((void *)(uintptr_t)a.address, 0xc3)) {
			if (!nomem)
				fails++;
		} else if (*(volatile uint8_t *)(uintptr_t)a.address != 0xc3) {
			fails++;
		}
		if (fz_chance(&rng, 50)) {
			memset(&f, 0, sizeof(f));
			f.address = a.address;
			f.type = WINVM_MEM_RELEASE;
			r = fz_call(fd, WINVM_IOC_MEM_FREE, &f);
			if (r.rc && r.rc != -ENOMEM)
				fails++;
		}
		if (SH)
			atomic_fetch_add(&SH->ops, 2);
	}
	if (fails && SH)
		fz_fail(SH, "exec child: %d failures", fails);
	return fails ? 1 : 0;
}

static void usage(void)
{
	fz_dprintf(2, "usage: winvm-fuzz [--seed N] [--ops N] [--time S] [--threads N] [--procs N]\n"
		      "                  [--mode model|chaos] [--nomem-ok] [--failinject] [--fail-nth]\n"
		      "                  [--avoid dofork,vma-unmap,cow-punch,nomem-state] [--full-every N] [--verbose]\n");
}

static int parse_opts(int argc, char **argv)
{
	int i;

	O.argv0 = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seed") && v)
			O.seed = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--ops") && v)
			O.ops = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--time") && v)
			O.time = strtod(v, NULL), i++;
		else if (!strcmp(a, "--threads") && v)
			O.threads = atoi(v), i++;
		else if (!strcmp(a, "--procs") && v)
			O.procs = atoi(v), i++;
		else if (!strcmp(a, "--full-every") && v)
			O.full_every = atoi(v), i++;
		else if (!strcmp(a, "--hang") && v)
			O.hang_s = strtod(v, NULL), i++;
		else if (!strcmp(a, "--mode") && v) {
			if (!strcmp(v, "model"))
				O.mode = MODE_MODEL;
			else if (!strcmp(v, "chaos"))
				O.mode = MODE_CHAOS;
			else
				return -1;
			i++;
		} else if (!strcmp(a, "--avoid") && v) {
			if (strstr(v, "dofork"))
				O.avoid |= AVOID_DOFORK;
			if (strstr(v, "vma-unmap"))
				O.avoid |= AVOID_VMA_UNMAP;
			if (strstr(v, "cow-punch"))
				O.avoid |= AVOID_COW_PUNCH;
			if (strstr(v, "nomem-state"))
				O.avoid |= AVOID_NOMEM_STATE;
			if (strstr(v, "all"))
				O.avoid = ~0u;
			i++;
		} else if (!strcmp(a, "--nomem-ok"))
			O.nomem_ok = true;
		else if (!strcmp(a, "--failinject"))
			O.failinject = O.nomem_ok = true;
		else if (!strcmp(a, "--fail-nth"))
			O.fail_nth = O.nomem_ok = true;
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			O.verbose = true;
		else
			return -1;
	}
	if (O.threads < 1)
		O.threads = 1;
	if (O.threads > C_MAXTHREADS)
		O.threads = C_MAXTHREADS;
	if (O.procs < 1)
		O.procs = 1;
	return 0;
}

/* Re-exec without ASLR, so a model run is reproducible from its seed. */
static void no_aslr(char **argv)
{
	int pers = personality(0xffffffff);

	if (pers == -1 || (pers & ADDR_NO_RANDOMIZE))
		return;
	if (personality(pers | ADDR_NO_RANDOMIZE) == -1)
		return;
	execv("/proc/self/exe", argv);
}

static int fz_fuzz_main(int argc, char **argv)
{
	struct winvm_info_args info;
	struct fz_res r;
	int fd, result = FZ_EXIT_PASS, i;
	double t0 = fz_now();

	if (argc > 1 && !strcmp(argv[1], FZ_EXEC_CHILD_ARG))
		return fz_exec_child_main(argc, argv);
	if (parse_opts(argc, argv)) {
		usage();
		return 2;
	}
	if (O.mode == MODE_MODEL)
		no_aslr(argv);
	fd = fz_open_winvm();
	if (fd < 0) {
		fz_log("winvm-fuzz: SKIP: cannot open /dev/winvm: %s\n", strerror(errno));
		return FZ_EXIT_SKIP;
	}
	memset(&info, 0, sizeof(info));
	r = fz_call(fd, WINVM_IOC_INFO_GET, &info);
	close(fd);
	if (r.rc || info.max_address != FZ_MAX_ADDR) {
		fz_log("winvm-fuzz: INFO_GET -> %d, max 0x%llx: unexpected system\n", r.rc,
		       (unsigned long long)info.max_address);
		return FZ_EXIT_FAIL;
	}
	g_features = info.features;
	g_shfd = (int)syscall(SYS_memfd_create, "winvm-fuzz-shared", 0);
	if (g_shfd < 0 || ftruncate(g_shfd, sizeof(struct fz_shared)))
		return FZ_EXIT_FAIL;
	SH = mmap(NULL, sizeof(struct fz_shared), PROT_READ | PROT_WRITE, MAP_SHARED, g_shfd, 0);
	if (SH == MAP_FAILED)
		return FZ_EXIT_FAIL;
	fz_install_signals();
	fz_log("winvm-fuzz: mode=%s seed=%" PRIu64 " ops=%" PRIu64 " time=%.0f threads=%d procs=%d%s%s%s avoid=0x%x\n",
	       O.mode == MODE_MODEL ? "model" : "chaos", O.seed, O.ops, O.time, O.threads,
	       O.procs, O.nomem_ok ? " nomem-ok" : "", O.failinject ? " failinject" : "",
	       O.fail_nth ? " fail-nth" : "", O.avoid);

	if (O.mode == MODE_MODEL) {
		pid_t pids[64];
		int n = O.procs > 64 ? 64 : O.procs;

		/* One model per process, seeds seed, seed+1, ... */
		for (i = 0; i < n; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				uint64_t per = O.ops / n + ((uint64_t)i < O.ops % n);

				O.seed += i;
				_exit(model_run(per, O.time ? t0 + O.time : 0));
			}
		}
		for (i = 0; i < n; i++) {
			int rc = pids[i] > 0 ? fz_wait(pids[i]) : FZ_EXIT_FAIL;

			if (rc == FZ_EXIT_SKIP && result == FZ_EXIT_PASS)
				result = FZ_EXIT_SKIP;
			else if (O.nomem_ok && rc > 128) {
				fz_log("# model process %d (seed %" PRIu64 ") killed by signal %d under fault injection\n",
				       i, O.seed + i, rc - 128);
			} else if (rc != 0 && rc != FZ_EXIT_SKIP) {
				fz_log("# model process %d (seed %" PRIu64 ") ended with %d\n", i,
				       O.seed + i, rc);
				if (rc > 128)
					fz_fail(SH, "model process killed by signal %d", rc - 128);
				result = FZ_EXIT_FAIL;
			}
		}
	} else {
		result = chaos_run();
	}
	if (result == FZ_EXIT_PASS && atomic_load(&SH->failures))
		result = FZ_EXIT_FAIL;
	fz_log("winvm-fuzz: mode=%s seed=%" PRIu64 " threads=%d procs=%d ops=%" PRIu64
	       " forks=%" PRIu64 " execs=%" PRIu64 " exits=%" PRIu64 " thread-exits=%" PRIu64
	       " failures=%" PRIu64 " seconds=%.1f result=%s\n",
	       O.mode == MODE_MODEL ? "model" : "chaos", O.seed,
	       O.mode == MODE_MODEL ? 1 : O.threads, O.procs, atomic_load(&SH->ops),
	       atomic_load(&SH->forks), atomic_load(&SH->execs), atomic_load(&SH->exits),
	       atomic_load(&SH->thread_exits), atomic_load(&SH->failures), fz_now() - t0,
	       result == FZ_EXIT_PASS ? "PASS" : result == FZ_EXIT_SKIP ? "SKIP" :
	       result == FZ_EXIT_HANG ? "HANG" : "FAIL");
	if (atomic_load(&SH->have_failure))
		fz_log("winvm-fuzz: first failure: %s\n", SH->first_failure);
	return result;
}

#ifndef WINVM_FUZZ_NO_MAIN
int main(int argc, char **argv)
{
	return fz_fuzz_main(argc, argv);
}
#endif
