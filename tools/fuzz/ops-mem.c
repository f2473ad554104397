// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: MEM_ALLOC, MEM_FREE, MEM_PROTECT, MEM_QUERY,
 * INFO_GET, FAULT_INFO and unknown ioctls, predicted from the model.
 */
#include "ops.h"

void op_alloc(void)
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
	prot_ok = mp_valid_private(a.protect);

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
		 (!addr || (type & WINVM_MEM_RESERVE) || !mp_valid_for_some_view(a.protect)))
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

void op_free(void)
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

void op_protect(void)
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
	} else if (!mp_valid_private(p.protect) && !mp_valid_for_some_view(p.protect)) {
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
			else if (effect)
				view_protected(&M.a[ai], in.protect, r.status);
			if (O.nomem_ok && nomem(r))
				nomem_forget(start);
			return;
		} else {
			m = &M.a[ai];
			if (end > m->base + m->size)
				want = WINVM_STATUS_INVALID_PARAMETER;
			else if (!mp_valid_private(p.protect))
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
