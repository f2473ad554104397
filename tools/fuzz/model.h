/* SPDX-License-Identifier: GPL-2.0 */
/*
 * winvm-fuzz: the reference model of one process's address space
 * (model.c): allocations, per-page state and protection, the first byte
 * of each page, and what MEM_QUERY should report.  Its protection rules
 * are model-prot.c's, written from Windows' documentation.
 */
#ifndef WINVM_FUZZ_MODEL_H
#define WINVM_FUZZ_MODEL_H

#include "fuzz-run.h"
#include "model-prot.h"


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

extern struct model M;
extern struct fz_maps MAPS;	/* the address space as of the last check */
extern uint64_t g_failures;

#define MLOG(...) do {								\
	snprintf(M.ring[M.nring % 64], sizeof(M.ring[0]), __VA_ARGS__);	\
	if (O.verbose)								\
		fz_log("  [%" PRIu64 "] %s\n", M.step, M.ring[M.nring % 64]);	\
	M.nring++;								\
} while (0)

/* ---------------- expected MEM_QUERY ---------------- */

/* Which fields of an expected query are checked. */
#define QF_ALL		0xfff
#define QF_STRUCT	0x1	/* base_address, state known, region bounds */

struct qexp {
	uint32_t status;
	bool partial;		/* a view: only the allocation fields */
	struct winvm_query_args q;
};

void m_dump_ring(void);
FZ_PRINTF(1, 2) void m_fail(const char *fmt, ...);
bool d_get(uint64_t page, uint8_t *val);
void d_set(uint64_t page, uint8_t val, bool unknown);
void d_zero(uint64_t start, uint64_t end);
void d_unknown(uint64_t start, uint64_t end);
int m_find(uint64_t addr);
int m_count(void);
struct malloc_ *m_new(uint64_t base, uint64_t size, uint32_t aprot, bool view);
void m_drop(struct malloc_ *a);
uint32_t a_get(const struct malloc_ *a, uint64_t p);
bool a_set(struct malloc_ *a, uint64_t s, uint64_t e, uint32_t st);
bool a_room(const struct malloc_ *a);
bool a_all_committed(const struct malloc_ *a, uint64_t s, uint64_t e);
uint64_t a_region_end(const struct malloc_ *a, uint64_t p);
uint32_t m_visible_protect(const struct malloc_ *a, uint32_t st);
uint32_t commit_state(uint32_t prot);
bool vma_is_winvm_name(const struct fz_vma *v);
void expect_query(uint64_t addr, struct qexp *e);
void q_log(const char *what, const struct winvm_query_args *q);
bool q_matches(const struct qexp *e, const struct winvm_query_args *q);

#endif /* WINVM_FUZZ_MODEL_H */
