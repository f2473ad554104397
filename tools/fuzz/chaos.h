/* SPDX-License-Identifier: GPL-2.0 */
/*
 * winvm-fuzz chaos mode: processes of threads hammering shared
 * allocations, views and section fds (operations in chaos-ops.c, the
 * worker processes and threads in chaos.c).
 */
#ifndef WINVM_FUZZ_CHAOS_H
#define WINVM_FUZZ_CHAOS_H

#include "fuzz-run.h"
#include "model-prot.h"


#define C_POOL		48
#define C_SECS		12
#define C_MAXTHREADS	16

enum { K_EMPTY, K_ALLOC, K_VIEW, K_NATIVE };

struct cent {
	_Atomic uint64_t base, size;
	_Atomic int kind;
};

struct cthread {
	pthread_t th;
	_Atomic int alive;
	_Atomic double last;	/* time of the last finished op */
	_Atomic pid_t tid;
	int idx;
};

struct chaos {
	struct cent pool[C_POOL];
	_Atomic int secfd[C_SECS];
	int fd;			/* never closed */
	_Atomic int fd2;	/* closed and reopened under the others' feet */
	uint64_t arena, arena_size;
	int memfd;
	uint8_t *noaccess;	/* a PROT_NONE page for bad argument pointers */
	int slot;
	uint64_t seed;
	struct cthread t[C_MAXTHREADS];
	_Atomic uint64_t local_ops;
	_Atomic int fails;
};

extern struct chaos C;
extern __thread int t_fd;		/* the context this thread uses */
extern __thread int t_pipe[2];
extern __thread struct fz_rng *t_rng;
extern __thread struct cthread *t_self;

struct cthread_arg {
	struct cthread *t;
	uint64_t seed;
};

FZ_PRINTF(1, 2) void c_fail(const char *fmt, ...);
void c_op(void);

#endif /* WINVM_FUZZ_CHAOS_H */
