/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The entry points of the winvm fuzz and stress tools, for the small main
 * files and the multi-call binaries (winvm-stress, selftests/stress_short).
 */
#ifndef WINVM_TOOLS_H
#define WINVM_TOOLS_H

#include <sys/types.h>

/* winvm-fuzz (driver.c); a process it exec()s runs fz_exec_child_main. */
int fz_fuzz_main(int argc, char **argv);
int fz_exec_child_main(int argc, char **argv);
/* winvm-race (race.c), winvm-limits (limits.c) */
int fz_race_main(int argc, char **argv);
int fz_limits_main(int argc, char **argv);

/* Kernel-log noise around a run (limits.c): begin, then the splat count. */
void noise_begin(void);
int noise_end(void);
/* Every task of @pid: kernel stack, wait channel (chaos.c). */
void dump_process(pid_t pid);

#endif /* WINVM_TOOLS_H */
