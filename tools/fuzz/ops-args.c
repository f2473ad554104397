// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: where ioctl arguments go (including bad
 * pointers), outcome checks, and the address/size/type generators.
 */
#include "ops.h"

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
	return (st & PS_COMMIT) && !(st & PS_GUARD) && mp_can_write(st);
}

static bool st_inaccessible(uint32_t st)
{
	return !(st & PS_COMMIT) || (st & PS_GUARD) ||
	       !mp_can_read(st & PS_PROT);
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

enum argwhere rand_argwhere(bool may_effect_unseen)
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
struct fz_res m_ioctl(unsigned long cmd, void *args, size_t size, enum argwhere w,
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
bool expect_status(const char *what, struct fz_res r, uint32_t want, bool effect,
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

bool nomem(struct fz_res r)
{
	return r.status == WINVM_STATUS_NO_MEMORY || r.rc == -ENOMEM;
}

/*
 * --avoid nomem-state: a call that failed with NO_MEMORY may have changed
 * the allocation it worked on (a known bug): give that allocation up
 * instead of checking it, so the run goes on looking for other problems.
 */
void nomem_forget(uint64_t addr)
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

uint64_t rand_boundary_addr(struct fz_rng *r)
{
	return FZ_PICK(r, boundary_addrs);
}

uint64_t rand_boundary_size(struct fz_rng *r)
{
	return FZ_PICK(r, boundary_sizes);
}

struct malloc_ *rand_alloc(bool private_only)
{
	int i, start = fz_below(&M.rng, M_MAXA);

	for (i = 0; i < M_MAXA; i++) {
		struct malloc_ *a = &M.a[(start + i) % M_MAXA];

		if (a->used && (!private_only || !a->view))
			return a;
	}
	return NULL;
}

uint64_t rand_arena_addr(void)
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
uint64_t rand_addr(void)
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

uint64_t rand_size(uint64_t addr)
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

uint32_t rand_alloc_type(void)
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
	if (fz_chance(&M.rng, 8))
		t |= WINVM_MEM_WRITE_WATCH;
	return t;
}

uint64_t rand_zero_bits(void)
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
uint32_t zero_bits_limit(uint64_t zb, uint64_t *limit)
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

/*
 * Bounded search for a NULL-address allocation: the lowest (or, top-down,
 * highest) 64 KiB-aligned place below @limit whose granules are wholly
 * free, since the rest of an allocation's last granule belongs to nothing
 * and nothing else may live there (rule R10, example E1).
 */
uint64_t find_below(uint64_t size, uint64_t limit, bool topdown)
{
	uint64_t gap_start = FZ_MIN_ADDR, gap_end, cand, best = 0;
	uint64_t len = fz_round_up(size, FZ_GRAN);
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
int commit_target(uint64_t start, uint64_t end, uint32_t *st)
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
