// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: the whole model checked against MEM_QUERY and
 * /proc/self/maps (allocation tiling, execute permission, foreign VMAs,
 * a VirtualQuery walk).
 */
#include "ops.h"

/* Queries @addr and compares with the model; false on a mismatch. */
bool check_query(uint64_t addr, const char *why)
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

bool maps_refresh(void)
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
				if (mp_can_exec(run->st & PS_PROT))
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

bool m_check(bool full)
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
