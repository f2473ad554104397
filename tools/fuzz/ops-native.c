// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: native memory syscalls (munmap, mmap, mprotect,
 * mremap, madvise, mlock, msync, mincore) over model memory.
 */
#include "ops.h"

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

/* munmap */
static void native_munmap(uint64_t s, uint64_t len, uint64_t e)
{
	char what[128];
	int rc, err;
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
}

/* mmap over it */
static void native_mmap(uint64_t s, uint64_t len, uint64_t e)
{
	char what[128];
	int err;
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
}

/* mprotect: never allowed on winvm VMAs */
static void native_mprotect(uint64_t s, uint64_t len, uint64_t e)
{
	int rc, err;
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
}

/* mremap: shrink, grow, move; winvm VMAs never move */
static void native_mremap(uint64_t s, uint64_t len, uint64_t e)
{
	char what[128];
	int err;
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
}

static void native_madvise(uint64_t s, uint64_t len, uint64_t e)
{
	int rc, err;
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
}

/* mlock / munlock / msync / mincore */
static void native_lock_sync(uint64_t s, uint64_t len)
{
	int rc;
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
}

void op_native(void)
{
	uint64_t s, len, e;
	unsigned int which = fz_below(&M.rng, 100);

	s = rand_native_range(&len);
	e = s + len;
	if (!native_safe(s, e))
		return;
	if ((O.avoid & AVOID_VMA_UNMAP) && which < 60 && !splits_winvm(s, e) &&
	    removes_part(s, e))
		return;

	if (which < 20) {
		native_munmap(s, len, e);
	} else if (which < 40) {
		native_mmap(s, len, e);
	} else if (which < 52) {
		native_mprotect(s, len, e);
	} else if (which < 62) {
		native_mremap(s, len, e);
	} else if (which < 90) {
		native_madvise(s, len, e);
	} else {
		native_lock_sync(s, len);
		native_settle(s, s, "mlock");
	}
	if (M.pending_record)
		drain_records();
}
