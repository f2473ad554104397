/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the winvm fuzz and stress tools (the fuzzer's model,
 * operations and driver, winvm-race, winvm-limits); the bodies are in
 * fuzzlib.c.  Only one-line helpers are inline here.
 *
 * Nothing here mallocs after start-up: the model mode compares
 * /proc/self/maps before and after each step, and glibc growing its heap
 * or mapping an arena in between would look like a change of the address
 * space.
 */
#ifndef WINVM_FUZZ_H
#define WINVM_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/winvm.h>

#include "../include/winvm-abi.h"

#define FZ_PAGE		0x1000ULL
#define FZ_GRAN		0x10000ULL
#define FZ_MIN_ADDR	0x10000ULL
#define FZ_MAX_ADDR	0x7ffffffeffffULL	/* HighestUserAddress */
#define FZ_TOP		(FZ_MAX_ADDR + 1)
#define FZ_TASK_SIZE	0x7ffffffff000ULL	/* x86-64, 4-level */

#define FZ_GARBAGE32	WINVM_ABI_UNWRITTEN

#define FZ_UNUSED	__attribute__((unused))
#define FZ_NORETURN	__attribute__((noreturn))
#define FZ_PRINTF(a, b)	__attribute__((format(printf, a, b)))

/* Exit codes of every tool (kselftest's: 0 pass, 1 fail, 4 skip). */
#define FZ_EXIT_PASS	0
#define FZ_EXIT_FAIL	1
#define FZ_EXIT_HANG	2
#define FZ_EXIT_SKIP	4

/* argv[1] of a process the fuzzer exec()s from /proc/self/exe. */
#define FZ_EXEC_CHILD_ARG	"--winvm-fuzz-exec-child"

static inline uint64_t fz_round_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }
static inline uint64_t fz_round_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static inline uint64_t fz_page_align(uint64_t x) { return fz_round_up(x, FZ_PAGE); }

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

/*
 * Unbuffered, malloc-free printing straight to fd 1 (or 2), so messages of
 * forked children and of threads never interleave mid-line and a crash
 * loses nothing.
 */
FZ_PRINTF(2, 3) void fz_dprintf(int fd, const char *fmt, ...);

#define fz_log(...)	fz_dprintf(1, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Random numbers                                                       */
/* ------------------------------------------------------------------ */

struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t fz_next(struct fz_rng *r) { return fz_splitmix(&r->s); }

static inline uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	return n ? fz_next(r) % n : 0;
}

static inline bool fz_chance(struct fz_rng *r, unsigned int percent)
{
	return fz_below(r, 100) < percent;
}

static inline uint64_t fz_seed_mix(uint64_t seed, uint64_t salt)
{
	uint64_t s = seed ^ (salt * 0xd1342543de82ef95ULL);

	return fz_splitmix(&s);
}

/* A random element of a constant array. */
#define FZ_PICK(r, arr)	((arr)[fz_below(r, sizeof(arr) / sizeof((arr)[0]))])

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

double fz_now(void);

static inline pid_t fz_gettid(void) { return (pid_t)syscall(SYS_gettid); }

/* ------------------------------------------------------------------ */
/* NTSTATUS and errno                                                   */
/* ------------------------------------------------------------------ */

static inline bool fz_status_ok(uint32_t st) { return (st >> 30) <= 1; }

/*
 * The outcome of one ioctl: rc is its return value (>= 0) or -errno;
 * status is the "status" field after the call (FZ_GARBAGE32 when the
 * kernel did not write it back).
 */
struct fz_res {
	int rc;
	uint32_t status;
};

/*
 * Is this outcome allowed by the ABI?  Returns NULL when it is, else a
 * description.  @fd_cmd: the call returns an fd on success (SECTION_*).
 */
const char *fz_res_problem(struct fz_res r, bool fd_cmd);

/* ioctl() that returns -errno, for wrappers that keep errno out of TLS. */
int fz_ioctl(int fd, unsigned long cmd, void *arg);

/* Status field offset for every winvm ioctl, -1 for unknown commands. */
long fz_status_offset(unsigned long cmd);

const char *fz_cmd_name(unsigned long cmd);

static inline bool fz_cmd_returns_fd(unsigned long cmd)
{
	return cmd == WINVM_IOC_SECTION_CREATE || cmd == WINVM_IOC_SECTION_OPEN ||
	       cmd == WINVM_IOC_SECTION_DUP;
}

/* Calls @cmd with @arg, whose status field is preset to garbage. */
struct fz_res fz_call(int fd, unsigned long cmd, void *arg);

/* ------------------------------------------------------------------ */
/* Protections                                                          */
/* ------------------------------------------------------------------ */

/* A protection value: mostly valid for private memory, sometimes not. */
uint32_t fz_rand_prot(struct fz_rng *r);

/* ------------------------------------------------------------------ */
/* /proc/self/maps                                                      */
/* ------------------------------------------------------------------ */

struct fz_vma {
	uint64_t start, end, off, ino;
	char perms[5];
	uint32_t dev_major, dev_minor;
	char name[48];
};

struct fz_maps {
	int n;
	struct fz_vma v[4096];
};

int fz_read_file(const char *path, char *buf, size_t size);

/* Parses /proc/self/maps (without [vsyscall]); 0 or -1. */
int fz_maps_read(struct fz_maps *m);

/* Index of the VMA containing @addr, or -1. */
int fz_maps_find(const struct fz_maps *m, uint64_t addr);

/* Index of the first VMA ending above @addr, or m->n (find_vma()). */
int fz_maps_next(const struct fz_maps *m, uint64_t addr);

/* Does any VMA overlap [start, end)? */
bool fz_maps_busy(const struct fz_maps *m, uint64_t start, uint64_t end);

static inline bool fz_vma_file_backed(const struct fz_vma *v)
{
	return v->ino != 0 || v->dev_major != 0 || v->dev_minor != 0;
}

/* What MEM_QUERY reports for a Linux mapping (model-prot.c mp_native_protect). */
uint32_t fz_vma_protect(const struct fz_vma *v);
uint32_t fz_vma_type(const struct fz_vma *v);

/* ------------------------------------------------------------------ */
/* MEM_QUERY invariants that hold whatever else is going on             */
/* ------------------------------------------------------------------ */

/*
 * Checks one successful MEM_QUERY of @addr for internally consistent
 * fields; NULL when fine, else a description.
 */
const char *fz_query_problem(uint64_t addr, const struct winvm_query_args *q);

/* ------------------------------------------------------------------ */
/* Faults: per-thread probes                                            */
/* ------------------------------------------------------------------ */

/*
 * The fuzzers touch memory that may not be accessible.  A probe arms a
 * per-thread sigjmp_buf; the SIGSEGV/SIGBUS handler records what happened
 * and jumps back.  A fault outside a probe is a real crash: the handler
 * prints it and dies by the signal.
 */
struct fz_probe {
	sigjmp_buf jmp;
	volatile sig_atomic_t armed;
	volatile int signo, code;
	volatile uint64_t addr;
};

extern __thread struct fz_probe fz_probe;

/* Per thread: alternate stack, so a fault with a bad stack still lands. */
void fz_thread_signals(void);

void fz_install_signals(void);

/*
 * The bytes the fuzzers ever store in memory they may later execute:
 * 0x00 ("add [rax], al" or, as 00 90 + disp32, "add [rax+disp32], dl"),
 * 0x90 (nop) and 0xc3 (ret).  Code made of them only writes through rax,
 * which fz_try_exec points at the middle of a 4 GiB sandbox, changes bl
 * and flags, and either returns or runs into a page that faults.
 */
extern const uint8_t fz_safe_bytes[3];
extern uint8_t *fz_sandbox;

int fz_sandbox_init(void);

/* Probes return true when the access completed. */
__attribute__((noinline)) bool fz_try_read(const void *p, uint8_t *val);

__attribute__((noinline)) bool fz_try_write(void *p, uint8_t val);

__attribute__((noinline)) bool fz_try_exec(const void *code);

/* ------------------------------------------------------------------ */
/* Misc                                                                 */
/* ------------------------------------------------------------------ */

int fz_open_winvm(void);

/* Waits for @pid: exit code, or 128 + signal. */
int fz_wait(pid_t pid);

/* Writes a string to a (sysfs/proc/debugfs) file; 0 or -errno. */
int fz_write_file(const char *path, const char *s);

/* A counter shared by every process of one run (MAP_SHARED). */
struct fz_shared {
	_Atomic uint64_t ops;
	_Atomic uint64_t failures;
	_Atomic uint64_t forks, execs, exits, thread_exits;
	_Atomic uint64_t heartbeat[64];
	_Atomic int stop;
	char first_failure[512];
	_Atomic int have_failure;
};

struct fz_shared *fz_shared_new(void);

FZ_PRINTF(2, 3) void fz_fail(struct fz_shared *sh, const char *fmt, ...);

#endif /* WINVM_FUZZ_H */
