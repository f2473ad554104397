/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixed stress scenarios (stress.c), shared by winvm-stress ("make
 * stress", long) and selftests/stress_short ("make test", short).
 */
#ifndef WINVM_STRESS_H
#define WINVM_STRESS_H

#include "fuzz.h"
#include "tools.h"

/* Seconds per scenario; tools/fuzz/Makefile passes STRESS_SECONDS. */
#ifndef STRESS_SECONDS
#define STRESS_SECONDS	60
#endif

/*
 * What the scenarios do not provoke, so that they keep looking for new
 * problems: "vma-unmap" (a native munmap/mmap/mremap of some whole VMAs of
 * an allocation) is documented behaviour (README) that the model does not
 * follow; "nomem-state" (a call that fails with NO_MEMORY after changing
 * state) is covered for single failures by selftests/regress.c
 * failed_call_changes_nothing (every allocation of each call failed in
 * turn: clean), but random injection, which can fail several allocations
 * of one call, still finds it (seen at 5%: an allocation with no VMA at
 * its base, most likely a call whose MAP_FIXED remap failed on every
 * retry), so the random runs avoid it.
 */
#ifndef WINVM_STRESS_AVOID
#define WINVM_STRESS_AVOID	"vma-unmap,nomem-state"
#endif

#define FAILINJECT_DIR	"/sys/kernel/debug"

/*
 * A tool that has not finished this long after it started is hung: its
 * own budget is at most twice STRESS_SECONDS (failinject), and its own hang
 * detectors fire after 210 s.  Reporting here, with every task's kernel
 * stack, beats the guest watchdog powering off with nothing to show.
 */
#ifndef STRESS_DEADLINE
#define STRESS_DEADLINE	(4 * STRESS_SECONDS + 240)
#endif
/* The deadline in use: STRESS_DEADLINE as stress.c was built, or set before a run. */
extern int stress_deadline;

/*
 * Runs a tool's main in a child process, in a process group of its own so
 * that a hang can be dumped and killed as a whole; returns its exit status.
 * The arguments end with (char *)NULL.
 */
int stress_run(int (*fn)(int, char **), const char *arg0, ...);
/* Are failslab and fail_page_alloc there (debugfs, the debug kernel)? */
bool failinject_available(void);
/*
 * Model and chaos runs at each probability.  @secs is the whole budget.
 * Returns a kselftest exit code.
 */
int stress_failinject(double secs, const int *pcts, int npct);
/* One of the fixed scenarios by name: model, chaos, race, failinject, limits. */
int stress_scenario(const char *name);

#endif /* WINVM_STRESS_H */
