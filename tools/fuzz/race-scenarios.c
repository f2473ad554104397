// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-race: the scenarios (decommit, guard, protect, release, section;
 * race.c describes them and runs them).
 */
#include "race.h"

/* ------------------------------------------------------------------ */
/* decommit                                                             */
/* ------------------------------------------------------------------ */

#define DC_PAGES	32
#define DC_MAXW		16

struct dc_page {
	pthread_mutex_t m;
	uint32_t gen;		/* bumped whenever the data is discarded */
	bool reset;		/* the last discard was MEM_RESET (data undefined) */
	uint64_t last[DC_MAXW];	/* last value each writer wrote, under m */
	uint32_t seen_gen[DC_MAXW];
};

struct dc_ctx {
	uint64_t base;
	int writers;
	struct dc_page pg[DC_PAGES];
};

static volatile uint64_t *dc_slot(struct dc_ctx *c, int page, int w)
{
	return (volatile uint64_t *)(uintptr_t)(c->base + page * FZ_PAGE + 256 + w * 64);
}

static void *dc_writer(void *arg)
{
	struct rthread *t = arg;
	struct dc_ctx *c = t->ctx;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 100 + t->idx) };

	fz_thread_signals();
	while (r_running(t->end)) {
		int i = fz_below(&rng, DC_PAGES), w = t->idx;
		struct dc_page *p = &c->pg[i];
		volatile uint64_t *s = dc_slot(c, i, w);
		uint64_t v;

		pthread_mutex_lock(&p->m);
		if (p->seen_gen[w] != p->gen) {
			/* The page was discarded since this writer's last write. */
			v = *s;
			if (v && !(p->reset && v == p->last[w]))
				RFAIL("decommit: page %d slot %d reads 0x%llx after its data was discarded (stale data)",
				      i, w, (unsigned long long)v);
			p->seen_gen[w] = p->gen;
			p->last[w] = 0;
		} else if ((v = *s) != p->last[w]) {
			RFAIL("decommit: page %d slot %d lost a write: 0x%llx, expected 0x%llx", i, w,
			      (unsigned long long)v, (unsigned long long)p->last[w]);
		}
		v = p->last[w] + 1;
		*s = v;
		p->last[w] = v;
		pthread_mutex_unlock(&p->m);
		atomic_fetch_add(&r_ops, 1);
		atomic_fetch_add(&r_checks, 1);
	}
	return NULL;
}

static void *dc_faulter(void *arg)
{
	struct rthread *t = arg;
	struct dc_ctx *c = t->ctx;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 200 + t->idx) };
	int pfd[2];

	fz_thread_signals();
	if (pipe(pfd))
		return NULL;
	while (r_running(t->end)) {
		uint64_t a = c->base + fz_below(&rng, DC_PAGES * FZ_PAGE);
		struct winvm_query_args q;
		uint8_t b;

		switch (fz_below(&rng, 4)) {
		case 0:
		case 1:
			if (!fz_try_read((void *)(uintptr_t)a, NULL))
				r_check_record();
			break;
		case 2:
			/* Kernel read: never consumes a guard. */
			if (write(pfd[1], (void *)(uintptr_t)a, 1) == 1 && read(pfd[0], &b, 1) != 1)
				RFAIL("pipe");
			break;
		default:
			r_query(a, &q);
			break;
		}
		atomic_fetch_add(&r_ops, 1);
	}
	close(pfd[0]);
	close(pfd[1]);
	return NULL;
}

static void dc_check_zero(struct dc_ctx *c, int i, const char *after)
{
	uint64_t *p = (uint64_t *)(uintptr_t)(c->base + i * FZ_PAGE);
	unsigned int k;

	for (k = 0; k < FZ_PAGE / 8; k++)
		if (p[k]) {
			RFAIL("decommit: page %d word %u is 0x%llx right after %s (stale data)", i, k,
			      (unsigned long long)p[k], after);
			return;
		}
	atomic_fetch_add(&r_checks, 1);
}

static void *dc_mutator(void *arg)
{
	struct rthread *t = arg;
	struct dc_ctx *c = t->ctx;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 300 + t->idx) };
	static __thread uint64_t snap[FZ_PAGE / 8];

	fz_thread_signals();
	while (r_running(t->end)) {
		int i = fz_below(&rng, DC_PAGES);
		struct dc_page *p = &c->pg[i];
		uint64_t a = c->base + i * FZ_PAGE;
		uint32_t st = 0, prot;
		unsigned int what = fz_below(&rng, 6);

		pthread_mutex_lock(&p->m);
		memcpy(snap, (void *)(uintptr_t)a, FZ_PAGE);
		switch (what) {
		case 0:
		case 1:
			st = r_free(a, FZ_PAGE, WINVM_MEM_DECOMMIT);
			if (!st) {
				uint64_t aa = a;

				st = r_alloc(&aa, FZ_PAGE, WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE);
				if (!st)
					dc_check_zero(c, i, "decommit + commit");
			}
			p->gen++;
			p->reset = false;
			break;
		case 2: {
			uint64_t aa = a;

			st = r_alloc(&aa, FZ_PAGE, WINVM_MEM_RESET, WINVM_PAGE_READWRITE);
			p->gen++;
			p->reset = true;
			if (fz_chance(&rng, 50)) {
				aa = a;
				r_alloc(&aa, FZ_PAGE, WINVM_MEM_RESET_UNDO, 0);
			}
			break;
		}
		default:
			prot = FZ_PICK(&rng, ((const uint32_t[]){
				WINVM_PAGE_READONLY, WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD,
				WINVM_PAGE_EXECUTE_READWRITE, WINVM_PAGE_EXECUTE_READ,
				WINVM_PAGE_NOACCESS }));
			st = r_protect(a, FZ_PAGE, prot);
			if (!st)
				st = r_protect(a, FZ_PAGE, WINVM_PAGE_READWRITE);
			if (!st && memcmp(snap, (void *)(uintptr_t)a, FZ_PAGE))
				RFAIL("decommit: page %d changed across protect 0x%x and back", i, prot);
			break;
		}
		if (st)
			RFAIL("decommit: mutator op %u on page %d -> %s", what, i, winvm_abi_status_name(st));
		pthread_mutex_unlock(&p->m);
		atomic_fetch_add(&r_ops, 3);
	}
	return NULL;
}

void sc_decommit(double secs)
{
	static struct dc_ctx c;
	struct rthread w[DC_MAXW], f[2], m[2];
	int i, nw = RO_.threads > DC_MAXW ? DC_MAXW : RO_.threads;
	double end = fz_now() + secs;

	memset(&c, 0, sizeof(c));
	c.writers = nw;
	for (i = 0; i < DC_PAGES; i++)
		pthread_mutex_init(&c.pg[i].m, NULL);
	if (r_alloc(&c.base, DC_PAGES * FZ_PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT,
		    WINVM_PAGE_READWRITE)) {
		RFAIL("decommit: cannot allocate");
		return;
	}
	r_spawn(w, nw, dc_writer, &c, end);
	r_spawn(f, 2, dc_faulter, &c, end);
	r_spawn(m, 2, dc_mutator, &c, end);
	r_join(w, nw);
	r_join(f, 2);
	r_join(m, 2);
	r_drain();
	r_free(c.base, 0, WINVM_MEM_RELEASE);
}

/* ------------------------------------------------------------------ */
/* guard                                                                */
/* ------------------------------------------------------------------ */

struct gd_ctx {
	uint64_t page;
	pthread_barrier_t b1, b2;
	_Atomic int guards, avs, oks;
	_Atomic int done;
};

static void *gd_thread(void *arg)
{
	struct rthread *t = arg;
	struct gd_ctx *c = t->ctx;

	fz_thread_signals();
	for (;;) {
		pthread_barrier_wait(&c->b1);
		if (atomic_load(&c->done))
			break;
		if (fz_try_read((void *)(uintptr_t)c->page, NULL)) {
			atomic_fetch_add(&c->oks, 1);
		} else {
			struct winvm_fault_info_args f;
			struct fz_res r;

			memset(&f, 0, sizeof(f));
			r = fz_call(r_fd, WINVM_IOC_FAULT_INFO, &f);
			if (!r.rc && f.fault_status == WINVM_STATUS_GUARD_PAGE_VIOLATION &&
			    f.address == c->page)
				atomic_fetch_add(&c->guards, 1);
			else
				atomic_fetch_add(&c->avs, 1);
		}
		pthread_barrier_wait(&c->b2);
	}
	return NULL;
}

void sc_guard(double secs)
{
	static struct gd_ctx c;
	struct rthread t[16];
	int n = RO_.threads < 2 ? 2 : RO_.threads > 16 ? 16 : RO_.threads, rounds = 0;
	double end = fz_now() + secs;
	struct winvm_query_args q;

	memset(&c, 0, sizeof(c));
	if (r_alloc(&c.page, FZ_PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE)) {
		RFAIL("guard: cannot allocate");
		return;
	}
	pthread_barrier_init(&c.b1, NULL, n + 1);
	pthread_barrier_init(&c.b2, NULL, n + 1);
	r_spawn(t, n, gd_thread, &c, end);
	while (r_running(end)) {
		uint32_t st = r_protect(c.page, FZ_PAGE, WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD);

		if (st) {
			RFAIL("guard: protect -> %s", winvm_abi_status_name(st));
			break;
		}
		atomic_store(&c.guards, 0);
		atomic_store(&c.avs, 0);
		atomic_store(&c.oks, 0);
		pthread_barrier_wait(&c.b1);
		pthread_barrier_wait(&c.b2);
		rounds++;
		if (atomic_load(&c.guards) != 1 || atomic_load(&c.avs))
			RFAIL("guard: round %d: %d threads saw the guard, %d an access violation, %d read (expected exactly one guard hit)",
			      rounds, atomic_load(&c.guards), atomic_load(&c.avs), atomic_load(&c.oks));
		if (r_query(c.page, &q) && q.protect != WINVM_PAGE_READWRITE)
			RFAIL("guard: after the hit the page is 0x%x", q.protect);
		atomic_fetch_add(&r_ops, n + 2);
		atomic_fetch_add(&r_checks, 1);
	}
	atomic_store(&c.done, 1);
	pthread_barrier_wait(&c.b1);
	r_join(t, n);
	r_free(c.page, 0, WINVM_MEM_RELEASE);
	fz_log("#   guard: %d rounds\n", rounds);
}

/* ------------------------------------------------------------------ */
/* protect                                                              */
/* ------------------------------------------------------------------ */

#define PR_PAGES	64

struct pr_ctx {
	uint64_t base;
	int writers;
	_Atomic uint64_t counter[16];
};

static void *pr_writer(void *arg)
{
	struct rthread *t = arg;
	struct pr_ctx *c = t->ctx;
	/* Writer k owns page 4k + 1: a page the flipper never touches. */
	volatile uint64_t *slot = (volatile uint64_t *)(uintptr_t)(c->base + (4 * t->idx + 1) * FZ_PAGE +
								 8 * (t->idx % 8));
	uint64_t v = 0;

	fz_thread_signals();
	while (r_running(t->end)) {
		uint64_t got;

		v++;
		*slot = v;
		got = *slot;
		if (got != v)
			RFAIL("protect: writer %d wrote %llu, read back %llu", t->idx,
			      (unsigned long long)v, (unsigned long long)got);
		atomic_store(&c->counter[t->idx], v);
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

static void *pr_reader(void *arg)
{
	struct rthread *t = arg;
	struct pr_ctx *c = t->ctx;

	fz_thread_signals();
	while (r_running(t->end)) {
		int k;

		for (k = 0; k < c->writers; k++) {
			volatile uint64_t *slot = (volatile uint64_t *)(uintptr_t)
				(c->base + (4 * k + 1) * FZ_PAGE + 8 * (k % 8));
			uint64_t before = atomic_load(&c->counter[k]), got;

			if (!fz_try_read((const void *)slot, NULL)) {
				RFAIL("protect: writer page %d faulted for a reader", k);
				continue;
			}
			got = *slot;
			if (got < before)
				RFAIL("protect: writer %d's counter went back from %llu to %llu", k,
				      (unsigned long long)before, (unsigned long long)got);
			atomic_fetch_add(&r_checks, 1);
		}
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

static void *pr_flipper(void *arg)
{
	struct rthread *t = arg;
	struct pr_ctx *c = t->ctx;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 400 + t->idx) };

	fz_thread_signals();
	while (r_running(t->end)) {
		/*
		 * Pages 4k, 4k + 2, 4k + 3: never a writer's; flipper i owns
		 * the groups k with k % 2 == i, so two flippers never race on
		 * one page (a decommit would make the other's protect fail).
		 */
		int pg = 4 * (2 * fz_below(&rng, PR_PAGES / 8) + t->idx % 2) +
			 FZ_PICK(&rng, ((const int[]){ 0, 2, 3 }));
		uint32_t prot = FZ_PICK(&rng, ((const uint32_t[]){
			WINVM_PAGE_READWRITE, WINVM_PAGE_EXECUTE_READWRITE, WINVM_PAGE_EXECUTE_READ,
			WINVM_PAGE_READONLY, WINVM_PAGE_NOACCESS, WINVM_PAGE_EXECUTE,
			WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD }));
		/* Two pages only from 4k + 2: never into a writer's page. */
		uint64_t n = pg % 4 == 2 ? 1 + fz_below(&rng, 2) : 1;
		uint32_t st;

		st = r_protect(c->base + pg * FZ_PAGE, n * FZ_PAGE, prot);
		if (st)
			RFAIL("protect: flip of page %d to 0x%x -> %s", pg, prot, winvm_abi_status_name(st));
		if (fz_chance(&rng, 10)) {
			uint64_t a = c->base + pg * FZ_PAGE;

			if (!r_free(a, FZ_PAGE, WINVM_MEM_DECOMMIT))
				r_alloc(&a, FZ_PAGE, WINVM_MEM_COMMIT, prot);
		}
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

void sc_protect(double secs)
{
	static struct pr_ctx c;
	struct rthread w[16], rd[1], fl[2];
	int n = RO_.threads > 16 ? 16 : RO_.threads;
	double end = fz_now() + secs;

	memset(&c, 0, sizeof(c));
	c.writers = n;
	if (r_alloc(&c.base, PR_PAGES * FZ_PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT,
		    WINVM_PAGE_READWRITE)) {
		RFAIL("protect: cannot allocate");
		return;
	}
	r_spawn(w, n, pr_writer, &c, end);
	r_spawn(rd, 1, pr_reader, &c, end);
	r_spawn(fl, 2, pr_flipper, &c, end);
	r_join(w, n);
	r_join(rd, 1);
	r_join(fl, 2);
	r_drain();
	r_free(c.base, 0, WINVM_MEM_RELEASE);
}

/* ------------------------------------------------------------------ */
/* release                                                              */
/* ------------------------------------------------------------------ */

struct rl_ctx {
	uint64_t base;
	_Atomic uint64_t generation;
};

static void *rl_faulter(void *arg)
{
	struct rthread *t = arg;
	struct rl_ctx *c = t->ctx;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 500 + t->idx) };

	fz_thread_signals();
	while (r_running(t->end)) {
		uint64_t a = c->base + fz_below(&rng, FZ_GRAN);
		struct winvm_query_args q;
		struct winvm_protect_args p;
		struct winvm_alloc_args al;
		struct fz_res r;
		const char *why;

		switch (fz_below(&rng, 5)) {
		case 0:
		case 1:
			if (!fz_try_read((void *)(uintptr_t)a, NULL))
				r_check_record();
			break;
		case 2:
			r_query(a, &q);
			break;
		case 3:
			memset(&p, 0, sizeof(p));
			p.address = a;
			p.size = FZ_PAGE;
			p.protect = fz_chance(&rng, 50) ? WINVM_PAGE_READONLY : WINVM_PAGE_READWRITE;
			r = fz_call(r_fd, WINVM_IOC_MEM_PROTECT, &p);
			if ((why = fz_res_problem(r, false)))
				RFAIL("release: MEM_PROTECT: %s", why);
			break;
		default:
			memset(&al, 0, sizeof(al));
			al.address = a;
			al.size = FZ_PAGE;
			al.type = WINVM_MEM_COMMIT;
			al.protect = WINVM_PAGE_READWRITE;
			r = fz_call(r_fd, WINVM_IOC_MEM_ALLOC, &al);
			if ((why = fz_res_problem(r, false)))
				RFAIL("release: MEM_ALLOC(COMMIT): %s", why);
			break;
		}
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

void sc_release(double secs)
{
	static struct rl_ctx c;
	struct rthread f[16];
	int n = RO_.threads > 16 ? 16 : RO_.threads;
	double end = fz_now() + secs;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 600) };
	uint64_t hole;
	void *p;

	/* A 64K-aligned hole fenced by PROT_NONE mappings nobody else uses. */
	p = mmap(NULL, 4 * FZ_GRAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	hole = fz_round_up((uint64_t)(uintptr_t)p, FZ_GRAN) + FZ_GRAN;
	munmap((void *)(uintptr_t)hole, FZ_GRAN);
	memset(&c, 0, sizeof(c));
	c.base = hole;
	r_spawn(f, n, rl_faulter, &c, end);
	while (r_running(end)) {
		uint64_t a = hole, off;
		uint32_t st = r_alloc(&a, FZ_GRAN, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT,
				      WINVM_PAGE_READWRITE);
		uint8_t v;

		if (st) {
			RFAIL("release: re-allocation at 0x%llx -> %s", (unsigned long long)hole,
			      winvm_abi_status_name(st));
			break;
		}
		/* Fresh memory: zero wherever it is readable. */
		for (off = 0; off < FZ_GRAN; off += FZ_PAGE) {
			if (fz_try_read((void *)(uintptr_t)(a + off), &v)) {
				uint64_t k, *w = (uint64_t *)(uintptr_t)(a + off);

				for (k = 0; k < FZ_PAGE / 8; k++)
					if (w[k] && fz_try_read(&w[k], NULL) && w[k]) {
						RFAIL("release: re-allocated page 0x%llx has 0x%llx at word %llu (stale data)",
						      (unsigned long long)(a + off),
						      (unsigned long long)w[k], (unsigned long long)k);
						break;
					}
				atomic_fetch_add(&r_checks, 1);
			}
			fz_try_write((void *)(uintptr_t)(a + off + 8 * fz_below(&rng, 512)),
				     0x90);
		}
		atomic_fetch_add(&c.generation, 1);
		switch (fz_below(&rng, 3)) {
		case 0:
			st = r_free(a, 0, WINVM_MEM_RELEASE);
			break;
		case 1:
			off = FZ_PAGE * (1 + fz_below(&rng, 14));
			st = r_free(a + off, FZ_PAGE, WINVM_MEM_RELEASE);
			if (!st)
				st = r_free(a, 0, WINVM_MEM_RELEASE);
			if (!st)
				st = r_free(a + off + FZ_PAGE, 0, WINVM_MEM_RELEASE);
			break;
		default:
			st = r_free(a, 0, WINVM_MEM_DECOMMIT);
			if (!st)
				st = r_free(a, 0, WINVM_MEM_RELEASE);
			break;
		}
		if (st)
			RFAIL("release: free -> %s", winvm_abi_status_name(st));
		atomic_fetch_add(&r_ops, 20);
	}
	atomic_store(&r_stop, 1);
	r_join(f, n);
	atomic_store(&r_stop, 0);
	r_drain();
	munmap(p, 4 * FZ_GRAN);
}

/* ------------------------------------------------------------------ */
/* section                                                              */
/* ------------------------------------------------------------------ */

#define SC_SIZE		(16 * FZ_PAGE)
#define SC_WRITERS	4
#define SC_MARK_OFF	(8 * FZ_PAGE)	/* write-copy views write here */
static const char sc_name[] = "winvm-race-section";

static int sc_create(void)
{
	struct winvm_section_create_args c = {
		.size = SC_SIZE, .name = (uint64_t)(uintptr_t)sc_name,
		.name_len = sizeof(sc_name) - 1, .file_fd = -1,
		.protect = WINVM_PAGE_READWRITE,
	};
	struct fz_res r = fz_call(r_fd, WINVM_IOC_SECTION_CREATE, &c);

	return r.rc > 0 ? r.rc : -1;
}

static uint64_t sc_map(int sfd, uint32_t access)
{
	struct winvm_view_map_args v = { .section_fd = sfd, .access = access };
	struct fz_res r = fz_call(r_fd, WINVM_IOC_VIEW_MAP, &v);
	const char *why = fz_res_problem(r, false);

	if (why)
		RFAIL("section: VIEW_MAP: %s", why);
	return r.rc ? 0 : v.address;
}

static void sc_unmap(uint64_t a)
{
	struct winvm_view_unmap_args u = { .address = a + fz_below(&(struct fz_rng){ a }, SC_SIZE) };
	struct fz_res r = fz_call(r_fd, WINVM_IOC_VIEW_UNMAP, &u);

	if (r.rc)
		RFAIL("section: VIEW_UNMAP(0x%llx) -> %s", (unsigned long long)a,
		      winvm_abi_status_name(r.status));
}

struct sc_ctx {
	int sfd;
	uint64_t view;		/* the writers' shared view */
	_Atomic uint64_t last[SC_WRITERS];
};

static void *sc_writer(void *arg)
{
	struct rthread *t = arg;
	struct sc_ctx *c = t->ctx;
	volatile uint64_t *slot = (volatile uint64_t *)(uintptr_t)(c->view + t->idx * 64);
	uint64_t v = 0;

	fz_thread_signals();
	while (r_running(t->end)) {
		*slot = ++v;
		if (*slot != v)
			RFAIL("section: writer %d: wrote %llu, read %llu", t->idx,
			      (unsigned long long)v, (unsigned long long)*slot);
		atomic_store(&c->last[t->idx], v);
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

/* Maps, checks, unmaps; closes and re-opens section fds meanwhile. */
static void sc_churn(struct sc_ctx *c, double end, struct fz_rng *rng, bool child)
{
	uint64_t seen[SC_WRITERS] = { 0 };
	int sfd = c->sfd;

	while (r_running(end)) {
		unsigned int what = fz_below(rng, 6);
		uint64_t v = 0;
		int k;

		if (what == 0) {
			/* Close this fd and get another one: dup, or open by name. */
			struct winvm_section_dup_args d = { .section_fd = sfd };
			struct winvm_section_open_args o = {
				.name = (uint64_t)(uintptr_t)sc_name, .name_len = sizeof(sc_name) - 1,
				.access = WINVM_SECTION_MAP_READ | WINVM_SECTION_MAP_WRITE |
					  WINVM_SECTION_QUERY,
			};
			struct fz_res r = fz_chance(rng, 50) ?
					  fz_call(r_fd, WINVM_IOC_SECTION_DUP, &d) :
					  fz_call(r_fd, WINVM_IOC_SECTION_OPEN, &o);

			if (r.rc > 0) {
				close(sfd);
				sfd = r.rc;
			} else if (r.rc != -ENOMEM) {
				RFAIL("section: re-opening the section -> rc %d %s", r.rc,
				      winvm_abi_status_name(r.status));
			}
		} else if (what == 1) {
			/* A write-copy view: its writes never reach the section. */
			uint64_t cv = sc_map(sfd, WINVM_FILE_MAP_COPY);

			if (cv) {
				volatile uint64_t *m = (volatile uint64_t *)(uintptr_t)(cv + SC_MARK_OFF);

				*m = 0xdeadbeef00000000ULL | fz_below(rng, 1 << 20);
				v = *m;
				if ((v >> 32) != 0xdeadbeef)
					RFAIL("section: write-copy view lost its own write");
				sc_unmap(cv);
			}
		} else {
			uint64_t a = sc_map(sfd, fz_chance(rng, 50) ? WINVM_FILE_MAP_READ :
						 WINVM_FILE_MAP_WRITE);

			if (!a)
				continue;
			for (k = 0; k < SC_WRITERS; k++) {
				v = *(volatile uint64_t *)(uintptr_t)(a + k * 64);
				if (v < seen[k])
					RFAIL("section: slot %d went back from %llu to %llu", k,
					      (unsigned long long)seen[k], (unsigned long long)v);
				seen[k] = v;
			}
			v = *(volatile uint64_t *)(uintptr_t)(a + SC_MARK_OFF);
			if (v)
				RFAIL("section: a write-copy write reached the section (0x%llx)",
				      (unsigned long long)v);
			if (fz_chance(rng, 30))
				madvise((void *)(uintptr_t)a, SC_SIZE, MADV_DONTNEED);
			atomic_fetch_add(&r_checks, 1);
			sc_unmap(a);
		}
		atomic_fetch_add(&r_ops, 3);
		(void)child;
	}
	c->sfd = sfd;
}

void sc_section(double secs)
{
	static struct sc_ctx c;
	struct winvm_info_args info;
	struct rthread w[SC_WRITERS];
	double end = fz_now() + secs;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 700) };
	uint64_t final;
	pid_t pid;
	int k, rc;

	memset(&info, 0, sizeof(info));
	fz_call(r_fd, WINVM_IOC_INFO_GET, &info);
	if (!(info.features & WINVM_FEATURE_SECTIONS)) {
		fz_log("#   section: SKIP (no sections)\n");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.sfd = sc_create();
	if (c.sfd < 0) {
		RFAIL("section: cannot create the section");
		return;
	}
	c.view = sc_map(c.sfd, WINVM_FILE_MAP_WRITE);
	if (!c.view)
		return;
	pid = fork();
	if (pid == 0) {
		/* The other process: its own context, the inherited section fd. */
		close(r_fd);
		r_fd = fz_open_winvm();
		if (r_fd < 0)
			_exit(1);
		fz_install_signals();
		rng.s ^= 0x6368696c64ULL;
		sc_churn(&c, end, &rng, true);
		_exit(atomic_load(&RSH->failures) ? 1 : 0);
	}
	r_spawn(w, SC_WRITERS, sc_writer, &c, end);
	sc_churn(&c, end, &rng, false);
	r_join(w, SC_WRITERS);
	rc = fz_wait(pid);
	if (rc)
		RFAIL("section: the other process ended with %d", rc);
	/* No write lost: a fresh view shows every writer's last value. */
	final = sc_map(c.sfd, WINVM_FILE_MAP_READ);
	if (final) {
		for (k = 0; k < SC_WRITERS; k++) {
			uint64_t v = *(volatile uint64_t *)(uintptr_t)(final + k * 64);

			if (v != atomic_load(&c.last[k]))
				RFAIL("section: slot %d ends at %llu, the writer wrote %llu", k,
				      (unsigned long long)v, (unsigned long long)atomic_load(&c.last[k]));
		}
		if (*(volatile uint64_t *)(uintptr_t)(final + SC_MARK_OFF))
			RFAIL("section: a write-copy write reached the section");
		sc_unmap(final);
	}
	/* The section fd goes first; the writers' view keeps the section alive. */
	close(c.sfd);
	*(volatile uint64_t *)(uintptr_t)c.view = 1;
	sc_unmap(c.view);
}

/* ------------------------------------------------------------------ */
/* write watch                                                          */
/* ------------------------------------------------------------------ */

/*
 * Writers on many threads, each writing its own page, while one thread
 * gets-and-resets the record and another flips the protection of pages
 * no writer owns.  The checker's generation g goes up after each
 * get-and-reset returns; a writer that read generation g before its write
 * and published it after, before the next get began, wrote after that
 * reset: its page must be in the next list.  No write may be lost.
 */
#define WW_PAGES	64

struct ww_ctx {
	uint64_t base;
	int writers;
	_Atomic uint64_t gen;
	_Atomic uint64_t wrote[16];	/* generation of the writer's last write */
};

static void *ww_writer(void *arg)
{
	struct rthread *t = arg;
	struct ww_ctx *c = t->ctx;
	volatile uint64_t *slot = (volatile uint64_t *)(uintptr_t)(c->base +
								 (4 * t->idx + 1) * FZ_PAGE);
	uint64_t v = 0, g;

	fz_thread_signals();
	while (r_running(t->end)) {
		g = atomic_load(&c->gen);
		*slot = ++v;
		atomic_store(&c->wrote[t->idx], g);
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

static bool ww_get_reset(struct ww_ctx *c, uint64_t *out, uint64_t *count)
{
	struct winvm_watch_get_args g = {
		.address = c->base, .size = WW_PAGES * FZ_PAGE,
		.flags = WINVM_WRITE_WATCH_FLAG_RESET, .addresses = (uintptr_t)out,
		.count = WW_PAGES,
	};

	if (ioctl(r_fd, WINVM_IOC_WATCH_GET, &g)) {
		RFAIL("watch: WATCH_GET -> %s, %s", strerror(errno),
		      winvm_abi_status_name(g.status));
		return false;
	}
	*count = g.count;
	return true;
}

static void *ww_checker(void *arg)
{
	struct rthread *t = arg;
	struct ww_ctx *c = t->ctx;
	uint64_t out[WW_PAGES], seen[16], count, g, i;
	int k;

	fz_thread_signals();
	while (r_running(t->end)) {
		g = atomic_load(&c->gen);
		for (k = 0; k < c->writers; k++)
			seen[k] = atomic_load(&c->wrote[k]);
		if (!ww_get_reset(c, out, &count))
			break;
		for (k = 0; k < c->writers; k++) {
			uint64_t page = c->base + (4 * k + 1) * FZ_PAGE;
			bool listed = false;

			for (i = 0; i < count; i++)
				listed |= out[i] == page;
			if (seen[k] == g && !listed)
				RFAIL("watch: writer %d wrote after reset %llu, not listed", k,
				      (unsigned long long)g);
			atomic_fetch_add(&r_checks, 1);
		}
		atomic_store(&c->gen, g + 1);
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

static void *ww_flipper(void *arg)
{
	struct rthread *t = arg;
	struct ww_ctx *c = t->ctx;
	struct fz_rng rng = { fz_seed_mix(RO_.seed, 700) };

	fz_thread_signals();
	while (r_running(t->end)) {
		/* Pages 4k and 4k + 2: never a writer's. */
		int pg = 4 * fz_below(&rng, WW_PAGES / 4) + 2 * fz_below(&rng, 2);
		uint32_t prot = FZ_PICK(&rng, ((const uint32_t[]){
			WINVM_PAGE_READWRITE, WINVM_PAGE_READONLY, WINVM_PAGE_NOACCESS,
			WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD }));
		uint32_t st = r_protect(c->base + pg * FZ_PAGE, FZ_PAGE, prot);

		if (st)
			RFAIL("watch: flip of page %d -> %s", pg, winvm_abi_status_name(st));
		atomic_fetch_add(&r_ops, 1);
	}
	return NULL;
}

void sc_watch(double secs)
{
	static struct ww_ctx c;
	struct rthread w[16], ck[1], fl[1];
	int n = RO_.threads > 16 ? 16 : RO_.threads;
	double end = fz_now() + secs;

	memset(&c, 0, sizeof(c));
	c.writers = n;
	/* Generation 0 is "never wrote": the first reset's is 1. */
	c.gen = 1;
	if (r_alloc(&c.base, WW_PAGES * FZ_PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT |
		    WINVM_MEM_WRITE_WATCH, WINVM_PAGE_READWRITE)) {
		RFAIL("watch: cannot allocate");
		return;
	}
	r_spawn(w, n, ww_writer, &c, end);
	r_spawn(ck, 1, ww_checker, &c, end);
	r_spawn(fl, 1, ww_flipper, &c, end);
	r_join(w, n);
	r_join(ck, 1);
	r_join(fl, 1);
	r_drain();
	r_free(c.base, 0, WINVM_MEM_RELEASE);
}
