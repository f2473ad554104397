// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: MEM_ALLOC, MEM_FREE, MEM_PROTECT, MEM_QUERY,
 * INFO_GET, FAULT_INFO and unknown ioctls, predicted from the model.
 */
#include "ops.h"

/* What op_alloc predicts for one MEM_ALLOC call, and where it lands. */
struct alloc_pred {
	uint64_t addr, size, limit, start, end, len;
	uint32_t want, type;
	bool reserve, prot_ok;
	bool any_addr;		/* no address, no zero-bits limit: anywhere free */
	bool maybe_nomem;	/* so large that NO_MEMORY is fine too */
	bool fresh;		/* a new reservation of [start, start + len) */
	bool commit_op, reset_op;
	int ai;			/* the allocation committed in or reset, or -1 */
};

static void alloc_args(struct winvm_alloc_args *a)
{
	memset(a, 0, sizeof(*a));
	if (fz_chance(&M.rng, 30)) {
		a->address = 0;
	} else {
		a->address = rand_addr();
	}
	a->size = a->address || fz_chance(&M.rng, 80) ? rand_size(a->address) :
		  (1ULL << 30) << fz_below(&M.rng, 11);
	a->type = rand_alloc_type();
	a->protect = fz_rand_prot(&M.rng);
	a->zero_bits = rand_zero_bits();
	if (fz_chance(&M.rng, 2))
		a->flags = 1u << fz_below(&M.rng, 32);
	if (fz_chance(&M.rng, 2))
		a->reserved[fz_below(&M.rng, 2)] = fz_next(&M.rng) | 1;
	/* Keep the model small. */
	if (m_count() >= M_MAXA - 4) {
		a->type = WINVM_MEM_COMMIT;
		if (!a->address)
			a->address = rand_addr();
	}
}

/* The checks of the arguments alone, in the module's order; sets p->limit. */
static uint32_t alloc_args_status(const struct winvm_alloc_args *a, struct alloc_pred *p)
{
	uint32_t type = p->type;
	bool reset = type == WINVM_MEM_RESET || type == WINVM_MEM_RESET_UNDO;

	if (a->flags || a->reserved[0] || a->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	if (type & WINVM_AT_ROUND_TO_PAGE)
		return WINVM_STATUS_INVALID_PARAMETER_5;
	if (type & (WINVM_MEM_LARGE_PAGES | WINVM_MEM_PHYSICAL))
		return WINVM_STATUS_NOT_SUPPORTED;
	if (!reset && ((type & ~(WINVM_MEM_RESERVE | WINVM_MEM_COMMIT | WINVM_MEM_TOP_DOWN |
				  WINVM_MEM_WRITE_WATCH)) ||
		       !(type & (WINVM_MEM_RESERVE | WINVM_MEM_COMMIT))))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!reset && !p->prot_ok &&
	    (!p->addr || (type & WINVM_MEM_RESERVE) || !mp_valid_for_some_view(a->protect)))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	if (!p->size)
		return WINVM_STATUS_INVALID_PARAMETER;
	return zero_bits_limit(a->zero_bits, &p->limit);
}

/* No address: a new reservation wherever the module finds room. */
static void alloc_predict_anywhere(struct alloc_pred *p)
{
	if (!p->reserve || p->size > FZ_MAX_ADDR) {
		p->want = WINVM_STATUS_INVALID_PARAMETER;
		return;
	}
	p->len = fz_page_align(p->size);
	p->fresh = true;
	p->any_addr = true;
	if (p->limit <= FZ_MAX_ADDR) {
		p->start = find_below(p->len, p->limit, p->type & WINVM_MEM_TOP_DOWN);
		if (!p->start)
			p->want = WINVM_STATUS_NO_MEMORY;
		else
			p->any_addr = false;
	} else if (p->len >= (1ULL << 44)) {
		p->maybe_nomem = true;
	}
}

/* An address: reserve there, commit into an allocation, or reset in one. */
static void alloc_predict_at(struct alloc_pred *p)
{
	uint64_t addr = p->addr;

	p->start = p->reserve ? fz_round_down(addr, FZ_GRAN) : fz_round_down(addr, FZ_PAGE);
	if (addr > FZ_MAX_ADDR || p->size > FZ_MAX_ADDR + 1 - addr || p->start < FZ_MIN_ADDR) {
		p->want = WINVM_STATUS_INVALID_PARAMETER;
		return;
	}
	p->end = fz_page_align(addr + p->size);
	if (p->end > p->limit) {
		p->want = WINVM_STATUS_INVALID_PARAMETER_3;
	} else if (p->type == WINVM_MEM_RESET || p->type == WINVM_MEM_RESET_UNDO) {
		p->reset_op = true;
		p->ai = commit_target(p->start, p->end, &p->want);
	} else if (p->reserve) {
		p->fresh = true;
		p->len = p->end - p->start;
		if (fz_maps_busy(&MAPS, p->start, p->end))
			p->want = WINVM_STATUS_CONFLICTING_ADDRESSES;
	} else {
		p->commit_op = true;
		p->ai = commit_target(p->start, p->end, &p->want);
		/* Write-copy is refused once the target is private. */
		if (p->ai >= 0 && !M.a[p->ai].view && !p->prot_ok)
			p->want = WINVM_STATUS_INVALID_PAGE_PROTECTION;
	}
}

/* Undo that cannot be told apart from success needs a seen flag. */
static uint32_t alloc_reset_undo_status(const struct alloc_pred *p)
{
	const struct malloc_ *m = &M.a[p->ai];
	uint32_t want = WINVM_STATUS_SUCCESS;
	int i;

	for (i = 0; i < m->nruns; i++) {
		const struct mrun *run = &m->runs[i];

		if (run->end <= p->start || run->start >= p->end)
			continue;
		if ((run->st & PS_COMMIT) && (run->st & PS_RESET))
			want = WINVM_STATUS_UNSUCCESSFUL;
	}
	return want;
}

static void alloc_predict(const struct winvm_alloc_args *a, struct alloc_pred *p)
{
	memset(p, 0, sizeof(*p));
	p->addr = a->address;
	p->size = a->size;
	p->type = a->type;
	p->limit = FZ_TOP;
	p->ai = -1;
	p->reserve = (p->type & WINVM_MEM_RESERVE) || (!p->addr && (p->type & WINVM_MEM_COMMIT));
	p->prot_ok = mp_valid_private(a->protect);
	p->want = alloc_args_status(a, p);
	if (p->want != WINVM_STATUS_SUCCESS)
		return;
	if (!p->addr)
		alloc_predict_anywhere(p);
	else
		alloc_predict_at(p);
	if (p->reset_op && p->ai >= 0 && p->type == WINVM_MEM_RESET_UNDO && !M.a[p->ai].view)
		p->want = alloc_reset_undo_status(p);
}

/* Views: not modelled in detail. */
static void alloc_on_view(struct winvm_alloc_args *a, const struct alloc_pred *p)
{
	uint32_t prot = a->protect;
	struct fz_res r;
	bool effect;

	r = m_ioctl(WINVM_IOC_MEM_ALLOC, a, sizeof(*a), ARG_NORMAL, &effect);
	MLOG("MEM_ALLOC(view 0x%llx, 0x%llx, type 0x%x, prot 0x%x) -> %s",
	     (unsigned long long)p->addr, (unsigned long long)p->size, p->type, prot,
	     winvm_abi_status_name(r.status));
	if (fz_res_problem(r, false))
		m_fail("MEM_ALLOC on a view: %s", fz_res_problem(r, false));
	if (O.nomem_ok && nomem(r))
		nomem_forget(p->start);
}

/* Is the status the predicted one, and is there a success to check further? */
static bool alloc_status_ok(const char *what, struct fz_res r, enum argwhere w, bool effect,
			    const struct alloc_pred *p)
{
	if (!effect)
		return false;
	if (O.nomem_ok && nomem(r)) {
		if (p->ai >= 0)
			nomem_forget(p->start);
		return false;
	}
	if (p->maybe_nomem && r.status == WINVM_STATUS_NO_MEMORY)
		return false;
	if (!expect_status(what, r, p->want, effect, w != ARG_RO))
		return false;
	return p->want == WINVM_STATUS_SUCCESS || p->want == WINVM_STATUS_UNSUCCESSFUL;
}

/* Where a new reservation was placed; learns the address when it was free to choose. */
static bool alloc_check_placement(const char *what, const struct winvm_alloc_args *a,
				  struct alloc_pred *p)
{
	if (p->any_addr) {
		p->start = a->address;
		if ((p->start & (FZ_GRAN - 1)) || p->start < FZ_MIN_ADDR ||
		    p->start + p->len > p->limit || p->start + p->len < p->start) {
			m_fail("%s: bad placement 0x%llx", what, (unsigned long long)p->start);
			return false;
		}
		/* Its granules wholly free before (rule R10, example E1). */
		if (fz_maps_busy(&MAPS, p->start, fz_round_up(p->start + p->len, FZ_GRAN))) {
			m_fail("%s: placed in granules not wholly free at 0x%llx",
			       what, (unsigned long long)p->start);
			return false;
		}
	} else if (a->address != p->start) {
		m_fail("%s: address 0x%llx, expected 0x%llx", what,
		       (unsigned long long)a->address, (unsigned long long)p->start);
		return false;
	}
	if (a->size != p->len) {
		m_fail("%s: size 0x%llx, expected 0x%llx", what,
		       (unsigned long long)a->size, (unsigned long long)p->len);
		return false;
	}
	return true;
}

static void alloc_model_fresh(const struct alloc_pred *p, uint32_t prot)
{
	struct malloc_ *m = m_new(p->start, p->len, prot, false);

	if (!m) {
		m_fail("model full (fuzzer bug)");
		return;
	}
	if (p->type & WINVM_MEM_COMMIT)
		a_set(m, p->start, p->start + p->len, commit_state(prot));
}

/* Pages that were not committed come in zeroed. */
static void alloc_model_commit(const struct alloc_pred *p, uint32_t prot)
{
	struct malloc_ *m = &M.a[p->ai];
	uint64_t pg;

	for (pg = p->start; pg < p->end; ) {
		uint32_t s = a_get(m, pg);
		uint64_t re = a_region_end(m, pg);

		if (re > p->end)
			re = p->end;
		if (!(s & PS_COMMIT))
			d_zero(pg, re);
		pg = re;
	}
	a_set(m, p->start, p->end, commit_state(prot));
}

/* MEM_RESET: committed pages lose their contents; MEM_RESET_UNDO: the flag goes. */
static void alloc_model_reset(const struct alloc_pred *p)
{
	struct malloc_ *m = &M.a[p->ai];
	struct mrun todo[M_MAXRUN];
	int i, n = 0;

	for (i = 0; i < m->nruns; i++) {
		const struct mrun *run = &m->runs[i];
		uint64_t s = run->start > p->start ? run->start : p->start;
		uint64_t e = run->end < p->end ? run->end : p->end;

		if (s < e && (run->st & PS_COMMIT))
			todo[n++] = (struct mrun){ s, e, p->type == WINVM_MEM_RESET ?
						   run->st | PS_RESET :
						   run->st & ~PS_RESET };
	}
	for (i = 0; i < n; i++) {
		if (p->type == WINVM_MEM_RESET)
			d_zero(todo[i].start, todo[i].end);
		a_set(m, todo[i].start, todo[i].end, todo[i].st);
	}
}

void op_alloc(void)
{
	struct winvm_alloc_args a, in;
	struct alloc_pred p;
	enum argwhere w;
	struct fz_res r;
	bool effect;
	char what[160];

	alloc_args(&a);
	in = a;
	alloc_predict(&a, &p);
	if (p.ai >= 0 && M.a[p.ai].view) {
		alloc_on_view(&a, &p);
		return;
	}
	if ((p.reset_op || p.commit_op) && p.ai >= 0 && !a_room(&M.a[p.ai]))
		return;

	w = rand_argwhere(!p.any_addr && !p.maybe_nomem);
	M.avoid_s = p.start;
	M.avoid_e = p.fresh ? p.start + p.len : p.end;
	r = m_ioctl(WINVM_IOC_MEM_ALLOC, &a, sizeof(a), w, &effect);
	snprintf(what, sizeof(what),
		 "MEM_ALLOC(0x%llx, 0x%llx, zb 0x%llx, type 0x%x, prot 0x%x%s)",
		 (unsigned long long)p.addr, (unsigned long long)p.size,
		 (unsigned long long)in.zero_bits, p.type, in.protect,
		 in.flags || in.reserved[0] || in.reserved[1] ? ", junk" : "");
	MLOG("%s arg %d -> rc %d %s addr 0x%llx size 0x%llx", what, (int)w, r.rc,
	     winvm_abi_status_name(r.status), (unsigned long long)a.address,
	     (unsigned long long)a.size);
	if (!alloc_status_ok(what, r, w, effect, &p))
		return;

	if (p.fresh) {
		if (w == ARG_RO || alloc_check_placement(what, &a, &p))
			alloc_model_fresh(&p, in.protect);
		return;
	}
	if (w != ARG_RO && (a.address != p.start || a.size != p.end - p.start)) {
		m_fail("%s: returned 0x%llx+0x%llx, expected 0x%llx+0x%llx", what,
		       (unsigned long long)a.address, (unsigned long long)a.size,
		       (unsigned long long)p.start, (unsigned long long)(p.end - p.start));
		return;
	}
	if (p.commit_op)
		alloc_model_commit(&p, in.protect);
	else if (p.reset_op)
		alloc_model_reset(&p);
}

/* What op_free predicts for one MEM_FREE call. */
struct free_pred {
	uint64_t start, end;
	uint32_t want;
	struct malloc_ *m;	/* the allocation freed in, or NULL */
	int ai;
	bool whole;		/* size 0: the whole allocation */
};

/* A range in or around allocation @m. */
static void free_range_in(const struct malloc_ *m, struct winvm_free_args *f)
{
	uint64_t off = fz_round_down(fz_below(&M.rng, m->size), FZ_PAGE);

	switch (fz_below(&M.rng, 6)) {
	case 0:
	case 1:
		f->address = m->base + (fz_chance(&M.rng, 20) ? fz_below(&M.rng, FZ_PAGE) : 0);
		f->size = 0;
		break;
	case 2:
		f->address = m->base + off;
		f->size = fz_page_align(1 + fz_below(&M.rng, m->size - off));
		break;
	case 3:
		f->address = m->base;
		f->size = m->size - (fz_chance(&M.rng, 50) ? FZ_PAGE : 0);
		break;
	default:
		f->address = m->base + off + fz_below(&M.rng, FZ_PAGE);
		f->size = rand_size(f->address);
		break;
	}
}

static void free_args(struct winvm_free_args *f)
{
	struct malloc_ *m;

	memset(f, 0, sizeof(*f));
	f->type = fz_chance(&M.rng, 50) ? WINVM_MEM_RELEASE : WINVM_MEM_DECOMMIT;
	if (fz_chance(&M.rng, 4))
		f->type = fz_chance(&M.rng, 50) ? (uint32_t)fz_next(&M.rng) :
			  (WINVM_MEM_RELEASE | WINVM_MEM_DECOMMIT);
	m = rand_alloc(false);
	if (m && fz_chance(&M.rng, 85)) {
		free_range_in(m, f);
	} else {
		f->address = rand_addr();
		f->size = fz_chance(&M.rng, 40) ? 0 : rand_size(f->address);
	}
	if (fz_chance(&M.rng, 2))
		f->flags = 1u << fz_below(&M.rng, 32);
	if (fz_chance(&M.rng, 2))
		f->pad = 1;
	if (fz_chance(&M.rng, 2))
		f->reserved[fz_below(&M.rng, 2)] = 1;
}

/* The status, in the module's order, and the range freed; stops at a view. */
static void free_predict(const struct winvm_free_args *f, struct free_pred *p)
{
	uint64_t addr = f->address, size = f->size;
	struct malloc_ *m;

	memset(p, 0, sizeof(*p));
	p->ai = -1;
	if (f->flags || f->pad || f->reserved[0] || f->reserved[1])
		p->want = WINVM_STATUS_INVALID_PARAMETER;
	else if (f->type != WINVM_MEM_DECOMMIT && f->type != WINVM_MEM_RELEASE)
		p->want = WINVM_STATUS_INVALID_PARAMETER;
	else if (!addr || addr > FZ_MAX_ADDR || size > FZ_MAX_ADDR + 1 - addr)
		p->want = WINVM_STATUS_INVALID_PARAMETER;
	else if ((p->ai = m_find(fz_round_down(addr, FZ_PAGE))) < 0)
		p->want = WINVM_STATUS_MEMORY_NOT_ALLOCATED;
	if (p->want || p->ai < 0)
		return;
	m = p->m = &M.a[p->ai];
	if (m->view)
		return;
	if (!size) {
		if (fz_round_down(addr, FZ_PAGE) != m->base) {
			p->want = WINVM_STATUS_FREE_VM_NOT_AT_BASE;
		} else {
			p->start = m->base;
			p->end = m->base + m->size;
			p->whole = true;
		}
	} else {
		p->start = fz_round_down(addr, FZ_PAGE);
		p->end = fz_page_align(addr + size);
		if (p->end > m->base + m->size)
			p->want = WINVM_STATUS_UNABLE_TO_FREE_VM;
	}
}

/* MEM_FREE of a view is refused (NtUnmapViewOfSection frees it). */
static void free_on_view(struct winvm_free_args *f)
{
	uint64_t addr = f->address, size = f->size;
	uint32_t type = f->type;
	struct fz_res r;
	bool effect;

	r = m_ioctl(WINVM_IOC_MEM_FREE, f, sizeof(*f), ARG_NORMAL, &effect);
	MLOG("MEM_FREE(view 0x%llx, 0x%llx, 0x%x) -> %s", (unsigned long long)addr,
	     (unsigned long long)size, type, winvm_abi_status_name(r.status));
	if (fz_res_problem(r, false))
		m_fail("MEM_FREE on a view: %s", fz_res_problem(r, false));
	if (!r.rc)
		m_fail("MEM_FREE on a view succeeded");
}

/* Releasing the middle of an allocation leaves two. */
static void free_model_split(struct malloc_ *m, uint64_t start, uint64_t end)
{
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

static void free_model_release(struct malloc_ *m, uint64_t start, uint64_t end)
{
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
		free_model_split(m, start, end);
	}
}

void op_free(void)
{
	struct winvm_free_args f, in;
	struct free_pred p;
	enum argwhere w;
	bool effect;
	struct fz_res r;
	char what[160];

	free_args(&f);
	in = f;
	free_predict(&f, &p);
	if (p.m && p.m->view) {
		free_on_view(&f);
		return;
	}
	if (!p.want && f.type == WINVM_MEM_RELEASE && p.start > p.m->base &&
	    p.end < p.m->base + p.m->size && m_count() >= M_MAXA - 1)
		return;
	if (!p.want && f.type == WINVM_MEM_DECOMMIT && !a_room(p.m))
		return;

	w = rand_argwhere(true);
	M.avoid_s = p.start;
	M.avoid_e = p.end;
	r = m_ioctl(WINVM_IOC_MEM_FREE, &f, sizeof(f), w, &effect);
	snprintf(what, sizeof(what), "MEM_FREE(0x%llx, 0x%llx, type 0x%x%s)",
		 (unsigned long long)in.address, (unsigned long long)in.size, in.type,
		 in.flags || in.pad || in.reserved[0] || in.reserved[1] ? ", junk" : "");
	MLOG("%s arg %d -> rc %d %s addr 0x%llx size 0x%llx", what, (int)w, r.rc,
	     winvm_abi_status_name(r.status), (unsigned long long)f.address,
	     (unsigned long long)f.size);
	if (!effect)
		return;
	if (O.nomem_ok && nomem(r)) {
		if (p.ai >= 0)
			nomem_forget(p.start);
		return;
	}
	if (!expect_status(what, r, p.want, effect, w != ARG_RO) || p.want)
		return;
	if (w != ARG_RO) {
		uint64_t rsize = f.type == WINVM_MEM_DECOMMIT && p.whole ? 0 : p.end - p.start;

		if (f.address != p.start || f.size != rsize) {
			m_fail("%s: returned 0x%llx+0x%llx, expected 0x%llx+0x%llx", what,
			       (unsigned long long)f.address, (unsigned long long)f.size,
			       (unsigned long long)p.start, (unsigned long long)rsize);
			return;
		}
	}
	d_zero(p.start, p.end);
	if (f.type == WINVM_MEM_DECOMMIT)
		a_set(p.m, p.start, p.end, 0);
	else
		free_model_release(p.m, p.start, p.end);
}

/* What op_protect predicts for one MEM_PROTECT call. */
struct protect_pred {
	uint64_t start, end;
	uint32_t want, old;
	bool check_old;		/* is old_protect written? */
	int ai;			/* the allocation protected in, or -1 */
};

/* A range in allocation @m: one of its runs or pages from a random offset. */
static void protect_range_in(const struct malloc_ *m, struct winvm_protect_args *p)
{
	uint64_t off = fz_round_down(fz_below(&M.rng, m->size), FZ_PAGE);

	if (fz_chance(&M.rng, 50) && m->nruns) {
		const struct mrun *run = &m->runs[fz_below(&M.rng, m->nruns)];

		p->address = run->start;
		p->size = run->end - run->start;
		if (fz_chance(&M.rng, 30))
			p->size = FZ_PAGE * (1 + fz_below(&M.rng, p->size / FZ_PAGE));
	} else {
		p->address = m->base + off + (fz_chance(&M.rng, 20) ? fz_below(&M.rng, FZ_PAGE) : 0);
		p->size = fz_chance(&M.rng, 80) ?
			  fz_page_align(1 + fz_below(&M.rng, m->size - off)) :
			  rand_size(p->address);
	}
}

static void protect_args(struct winvm_protect_args *p)
{
	struct malloc_ *m;

	memset(p, 0, sizeof(*p));
	p->protect = fz_rand_prot(&M.rng);
	m = rand_alloc(false);
	if (m && fz_chance(&M.rng, 85)) {
		protect_range_in(m, p);
	} else {
		p->address = rand_addr();
		p->size = rand_size(p->address);
	}
	if (fz_chance(&M.rng, 2))
		p->flags = 1;
	if (fz_chance(&M.rng, 2))
		p->reserved[fz_below(&M.rng, 2)] = 1;
	p->old_protect = FZ_GARBAGE32;
}

/* The status, in the module's order, and the old protection; stops at a view. */
static void protect_predict(const struct winvm_protect_args *p, struct protect_pred *e)
{
	uint64_t addr = p->address, size = p->size;
	struct malloc_ *m;

	memset(e, 0, sizeof(*e));
	e->old = WINVM_PAGE_NOACCESS;
	e->check_old = true;
	e->ai = -1;
	if (p->flags || p->reserved[0] || p->reserved[1]) {
		e->want = WINVM_STATUS_INVALID_PARAMETER;
		e->check_old = false;
		return;
	}
	if (!mp_valid_private(p->protect) && !mp_valid_for_some_view(p->protect)) {
		e->want = WINVM_STATUS_INVALID_PAGE_PROTECTION;
		return;
	}
	if (!size || addr > FZ_MAX_ADDR || size > FZ_MAX_ADDR + 1 - addr) {
		e->want = WINVM_STATUS_INVALID_PARAMETER;
		return;
	}
	e->start = fz_round_down(addr, FZ_PAGE);
	e->end = fz_page_align(addr + size);
	e->ai = m_find(e->start);
	if (e->ai < 0) {
		e->want = WINVM_STATUS_CONFLICTING_ADDRESSES;
		return;
	}
	m = &M.a[e->ai];
	if (m->view)
		return;
	if (e->end > m->base + m->size)
		e->want = WINVM_STATUS_INVALID_PARAMETER;
	else if (!mp_valid_private(p->protect))
		e->want = WINVM_STATUS_INVALID_PAGE_PROTECTION;
	else if (!a_all_committed(m, e->start, e->end))
		e->want = WINVM_STATUS_NOT_COMMITTED;
	else
		e->old = m_visible_protect(m, a_get(m, e->start));
}

/* Views: checked against the documented view rules (ops-view.c). */
static void protect_on_view(struct winvm_protect_args *p, const struct protect_pred *e)
{
	uint64_t addr = p->address, size = p->size;
	uint32_t prot = p->protect;
	struct fz_res r;
	bool effect;

	r = m_ioctl(WINVM_IOC_MEM_PROTECT, p, sizeof(*p), ARG_NORMAL, &effect);
	MLOG("MEM_PROTECT(view 0x%llx, 0x%llx, 0x%x) -> %s",
	     (unsigned long long)addr, (unsigned long long)size, prot,
	     winvm_abi_status_name(r.status));
	if (fz_res_problem(r, false))
		m_fail("MEM_PROTECT on a view: %s", fz_res_problem(r, false));
	else if (effect)
		view_protected(&M.a[e->ai], prot, r.status);
	if (O.nomem_ok && nomem(r))
		nomem_forget(e->start);
}

void op_protect(void)
{
	struct winvm_protect_args p, in;
	struct protect_pred e;
	enum argwhere w;
	bool effect;
	struct fz_res r;
	char what[160];

	protect_args(&p);
	in = p;
	protect_predict(&p, &e);
	if (e.ai >= 0 && M.a[e.ai].view) {
		protect_on_view(&p, &e);
		return;
	}
	if (e.ai >= 0 && !e.want && !a_room(&M.a[e.ai]))
		return;

	w = rand_argwhere(true);
	M.avoid_s = e.start;
	M.avoid_e = e.end;
	r = m_ioctl(WINVM_IOC_MEM_PROTECT, &p, sizeof(p), w, &effect);
	snprintf(what, sizeof(what), "MEM_PROTECT(0x%llx, 0x%llx, 0x%x%s)",
		 (unsigned long long)in.address, (unsigned long long)in.size, in.protect,
		 in.flags || in.reserved[0] || in.reserved[1] ? ", junk" : "");
	MLOG("%s arg %d -> rc %d %s old 0x%x", what, (int)w, r.rc, winvm_abi_status_name(r.status),
	     p.old_protect);
	if (!effect)
		return;
	if (O.nomem_ok && nomem(r)) {
		nomem_forget(e.start);
		return;
	}
	if (!expect_status(what, r, e.want, effect, w != ARG_RO))
		return;
	if (w != ARG_RO && e.check_old && p.old_protect != e.old) {
		m_fail("%s: old_protect 0x%x, expected 0x%x", what, p.old_protect, e.old);
		return;
	}
	if (e.want)
		return;
	if (w != ARG_RO && (p.address != e.start || p.size != e.end - e.start)) {
		m_fail("%s: returned 0x%llx+0x%llx", what, (unsigned long long)p.address,
		       (unsigned long long)p.size);
		return;
	}
	a_set(&M.a[e.ai], e.start, e.end, commit_state(in.protect));
}

void op_query(void)
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

void op_info(void)
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

void op_fault_info(void)
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
void op_bad_cmd(void)
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
