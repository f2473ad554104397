/* SPDX-License-Identifier: GPL-2.0 */
/*
 * winvm-race: what the harness (race.c: options, shared state, ioctl and
 * thread helpers, fz_race_main) gives the scenarios (race-scenarios.c).
 */
#ifndef WINVM_RACE_H
#define WINVM_RACE_H

#include "fuzz.h"

struct race_opts {
	double time;
	int threads;
	uint64_t seed;
	const char *scenarios;
};

extern struct race_opts RO_;
extern struct fz_shared *RSH;		/* failures, shared with child processes */
extern _Atomic uint64_t r_ops, r_checks;
extern _Atomic int r_stop;
extern int r_fd;

#define RFAIL(...) fz_fail(RSH, __VA_ARGS__)

/* The ioctls: the status (FZ_GARBAGE32 from r_alloc when the copy faulted). */
uint32_t r_alloc(uint64_t *addr, uint64_t size, uint32_t type, uint32_t prot);
uint32_t r_free(uint64_t addr, uint64_t size, uint32_t type);
uint32_t r_protect(uint64_t addr, uint64_t size, uint32_t prot);
/* MEM_QUERY, with its answer checked; false when it failed. */
bool r_query(uint64_t addr, struct winvm_query_args *q);
/* The fault record after a probe fault must describe that fault. */
void r_check_record(void);
void r_drain(void);
/* Until @end, r_stop or the first failure. */
bool r_running(double end);

struct rthread {
	pthread_t th;
	int idx;
	double end;
	void *ctx;
};

/* @n threads running @fn(&t[i]), each told its index, @end and @ctx. */
void r_spawn(struct rthread *t, int n, void *(*fn)(void *), void *ctx, double end);
void r_join(struct rthread *t, int n);

/* The scenarios (race-scenarios.c), each given its share of --time. */
void sc_decommit(double secs);
void sc_guard(double secs);
void sc_protect(double secs);
void sc_release(double secs);
void sc_section(double secs);
void sc_watch(double secs);

#endif /* WINVM_RACE_H */
