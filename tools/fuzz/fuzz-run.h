/* SPDX-License-Identifier: GPL-2.0 */
/*
 * winvm-fuzz: the run's options and shared counters (set by the driver,
 * driver.c), read by the model, the operations and chaos mode.
 */
#ifndef WINVM_FUZZ_RUN_H
#define WINVM_FUZZ_RUN_H

#include "fuzz.h"
#include "tools.h"

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

extern struct fz_opts O;

extern struct fz_shared *SH;
extern uint64_t g_features;
extern int g_shfd;

/* The scenarios (driver-model.c, chaos.c). */
int model_run(uint64_t nops, double deadline);
int chaos_run(void);

#endif /* WINVM_FUZZ_RUN_H */
