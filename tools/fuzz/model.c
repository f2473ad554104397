// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz model: the reference model of one address space (model.h).
 */
#include "model.h"

struct model M;
struct fz_maps MAPS;
uint64_t g_failures;

void m_dump_ring(void)
{
	uint64_t i = M.nring > 64 ? M.nring - 64 : 0;

	fz_log("# last operations (oldest first):\n");
	for (; i < M.nring; i++)
		fz_log("#   %s\n", M.ring[i % 64]);
}

FZ_PRINTF(1, 2) void m_fail(const char *fmt, ...)
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

bool d_get(uint64_t page, uint8_t *val)
{
	struct mdata *d = d_find(page, false);

	if (!d) {
		*val = 0;
		return true;
	}
	*val = d->val;
	return !d->unknown;
}

void d_set(uint64_t page, uint8_t val, bool unknown)
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
void d_zero(uint64_t start, uint64_t end)
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

void d_unknown(uint64_t start, uint64_t end)
{
	int i;

	for (i = 0; i < D_SLOTS; i++) {
		struct mdata *d = &M.d[i];

		if (d->page > 1 && d->page >= start && d->page < end)
			d->unknown = true;
	}
}

/* ---------------- allocations ---------------- */

int m_find(uint64_t addr)
{
	int i;

	for (i = 0; i < M_MAXA; i++)
		if (M.a[i].used && addr >= M.a[i].base && addr - M.a[i].base < M.a[i].size)
			return i;
	return -1;
}

int m_count(void)
{
	int i, n = 0;

	for (i = 0; i < M_MAXA; i++)
		n += M.a[i].used;
	return n;
}

struct malloc_ *m_new(uint64_t base, uint64_t size, uint32_t aprot, bool view)
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

void m_drop(struct malloc_ *a)
{
	d_zero(a->base, a->base + a->size);
	a->used = false;
}

/* State of the page at @p (0 = reserved). */
uint32_t a_get(const struct malloc_ *a, uint64_t p)
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
bool a_set(struct malloc_ *a, uint64_t s, uint64_t e, uint32_t st)
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

bool a_room(const struct malloc_ *a)
{
	return a->nruns < M_MAXRUN - 4;
}

/* Is every page of [s, e) committed? */
bool a_all_committed(const struct malloc_ *a, uint64_t s, uint64_t e)
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
uint64_t a_region_end(const struct malloc_ *a, uint64_t p)
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

uint32_t m_visible_protect(const struct malloc_ *a, uint32_t st)
{
	uint32_t prot;

	if (!(st & PS_COMMIT))
		return 0;
	prot = st & (PS_PROT | PS_GUARD);
	if ((prot & PS_PROT) != WINVM_PAGE_NOACCESS)
		prot |= a->cache;
	return prot;
}

uint32_t commit_state(uint32_t prot)
{
	return PS_COMMIT | (prot & (PS_PROT | PS_GUARD));
}

bool vma_is_winvm_name(const struct fz_vma *v)
{
	return !strncmp(v->name, "/winvm", 6);
}

void expect_query(uint64_t addr, struct qexp *e)
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

void q_log(const char *what, const struct winvm_query_args *q)
{
	fz_log("#   %s: base 0x%llx abase 0x%llx aprot 0x%x region 0x%llx state 0x%x prot 0x%x type 0x%x asize 0x%llx csize 0x%llx flags 0x%x\n",
	       what, (unsigned long long)q->base_address,
	       (unsigned long long)q->allocation_base, q->allocation_protect,
	       (unsigned long long)q->region_size, q->state, q->protect, q->type,
	       (unsigned long long)q->allocation_size, (unsigned long long)q->commit_size,
	       q->region_flags);
}

bool q_matches(const struct qexp *e, const struct winvm_query_args *q)
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
