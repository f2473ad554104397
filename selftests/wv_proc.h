/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Process helpers of winvm_test.c that need nothing of winvm_test.h, for
 * the libwinvm tests (lib_win32.c, lib_examples.c), which include
 * <winvm/win32.h> instead.
 */
#ifndef WV_PROC_H
#define WV_PROC_H

#include <sys/types.h>

/* Waits for @pid: its exit code, or 128 + the signal that killed it. */
int wv_wait(pid_t pid);

#endif /* WV_PROC_H */
