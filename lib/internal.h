/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libwinvm: declarations shared between the library's files only. */
#ifndef WINVM_INTERNAL_H
#define WINVM_INTERNAL_H

#define WINVM_HIDDEN	__attribute__((visibility("hidden")))

/* The default context if it is open already; -1 otherwise.  Never opens. */
WINVM_HIDDEN int winvm__peek_default_fd(void);

#endif
