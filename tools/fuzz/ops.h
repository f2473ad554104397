/* SPDX-License-Identifier: GPL-2.0 */
/*
 * winvm-fuzz: the model-mode operations (ops-*.c): each generates one
 * ioctl, native syscall or memory access, predicts its outcome from the
 * model, issues it, compares, and updates the model.
 */
#ifndef WINVM_FUZZ_OPS_H
#define WINVM_FUZZ_OPS_H

#include "model.h"

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

/* ---------------- memory accesses ---------------- */

enum pexp { P_OK, P_AV, P_GUARD, P_SEGV_NOREC, P_SEGV_MAYBE, P_SKIP };

/* ops-check.c: the model against MEM_QUERY and /proc/self/maps */
bool check_query(uint64_t addr, const char *why);
bool maps_refresh(void);
bool m_check(bool full);

/* ops-args.c: argument placement, outcome checks, generators */
enum argwhere rand_argwhere(bool may_effect_unseen);
struct fz_res m_ioctl(unsigned long cmd, void *args, size_t size, enum argwhere w,
		      bool *effect);
bool expect_status(const char *what, struct fz_res r, uint32_t want, bool effect,
		   bool copyout_ok);
bool nomem(struct fz_res r);
void nomem_forget(uint64_t addr);
uint64_t rand_boundary_addr(struct fz_rng *r);
uint64_t rand_boundary_size(struct fz_rng *r);
struct malloc_ *rand_alloc(bool private_only);
uint64_t rand_arena_addr(void);
uint64_t rand_addr(void);
uint64_t rand_size(uint64_t addr);
uint32_t rand_alloc_type(void);
uint64_t rand_zero_bits(void);
uint32_t zero_bits_limit(uint64_t zb, uint64_t *limit);
uint64_t find_below(uint64_t len, uint64_t limit, bool topdown);
int commit_target(uint64_t start, uint64_t end, uint32_t *st);

/* ops-mem.c */
void op_alloc(void);
void op_free(void);
void op_protect(void);
void op_query(void);
void op_info(void);
void op_fault_info(void);
void op_bad_cmd(void);

/* ops-probe.c */
void drain_records(void);
void op_probe(void);
void op_kprobe(void);

/* ops-native.c */
void op_native(void);

/* ops-section.c */
const char *rand_sec_name(struct fz_rng *r);
void op_section(void);
void op_view_touch(void);
void op_fork(void);

/* ops-view.c: views against the documented view rules */
void view_mapped(struct malloc_ *a, int secfd, uint32_t access);
void view_protected(const struct malloc_ *a, uint32_t prot, uint32_t status);
void view_write(uint64_t p, uint8_t val);

#endif /* WINVM_FUZZ_OPS_H */
