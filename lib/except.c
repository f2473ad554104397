// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libwinvm vectored exception handling over SIGSEGV.
 *
 * The first AddVectoredExceptionHandler() installs a SIGSEGV handler
 * (SA_SIGINFO | SA_ONSTACK | SA_NODEFER) and remembers the disposition it
 * replaced.  For a fault, the handler asks the module for the thread's
 * fault record (WINVM_IOC_FAULT_INFO): a record whose address is si_addr
 * says what Windows would raise (STATUS_GUARD_PAGE_VIOLATION or
 * STATUS_ACCESS_VIOLATION) and the access; without one the fault is a
 * hardware protection fault on a present page (for example executing a
 * non-executable page), an access violation whose access comes from the
 * x86 page-fault error code.  The handler builds EXCEPTION_RECORD and
 * CONTEXT and calls the vectored handlers in order:
 *  - EXCEPTION_CONTINUE_EXECUTION: the CONTEXT (possibly changed) goes back
 *    into the signal frame and the faulting instruction runs again;
 *  - EXCEPTION_CONTINUE_SEARCH: the next handler; after the last, the
 *    previous SIGSEGV disposition: its handler is called, or with SIG_DFL /
 *    SIG_IGN the signal is raised again with the default action, so the
 *    process dies of SIGSEGV, as an unhandled exception kills a Windows
 *    process.  (Returning would not do: a guard page has already lost its
 *    guard and the retried access would succeed silently.)
 *
 * SA_NODEFER lets a handler fault again (nested exceptions); SA_ONSTACK
 * uses the thread's alternate signal stack, which Add installs for the
 * calling thread if it has none (other threads should set their own with
 * sigaltstack() if they may overflow their stack).
 *
 * The handler list is read lock-free from the signal handler: writers
 * (Add/Remove) serialise on a mutex and publish with atomic stores; a
 * removed node is freed only when no signal handler is walking the list,
 * and otherwise kept (a few bytes) for good.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "winvm/winvm.h"
#include "winvm/win32.h"
#include "internal.h"

struct veh {
	struct veh *next;
	PVECTORED_EXCEPTION_HANDLER handler;
};

static struct veh *veh_head;
static int veh_walkers;			/* signal handlers inside the list */
static pthread_mutex_t veh_lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed;
static struct sigaction previous;

/* ------------------------------------------------------------------ */
/* The signal handler                                                   */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__)
#define X86_PF_WRITE	0x2
#define X86_PF_INSTR	0x10
#define X86_TRAP_PF	14

static void context_from_ucontext(CONTEXT *c, const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;

	memset(c, 0, sizeof(*c));
	c->ContextFlags = CONTEXT_CONTROL | CONTEXT_INTEGER;
	c->EFlags = (DWORD)g[REG_EFL];
	c->Rax = g[REG_RAX];
	c->Rcx = g[REG_RCX];
	c->Rdx = g[REG_RDX];
	c->Rbx = g[REG_RBX];
	c->Rsp = g[REG_RSP];
	c->Rbp = g[REG_RBP];
	c->Rsi = g[REG_RSI];
	c->Rdi = g[REG_RDI];
	c->R8 = g[REG_R8];
	c->R9 = g[REG_R9];
	c->R10 = g[REG_R10];
	c->R11 = g[REG_R11];
	c->R12 = g[REG_R12];
	c->R13 = g[REG_R13];
	c->R14 = g[REG_R14];
	c->R15 = g[REG_R15];
	c->Rip = g[REG_RIP];
}

static void context_to_ucontext(const CONTEXT *c, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;

	g[REG_EFL] = (g[REG_EFL] & ~0xffffffffLL) | c->EFlags;
	g[REG_RAX] = c->Rax;
	g[REG_RCX] = c->Rcx;
	g[REG_RDX] = c->Rdx;
	g[REG_RBX] = c->Rbx;
	g[REG_RSP] = c->Rsp;
	g[REG_RBP] = c->Rbp;
	g[REG_RSI] = c->Rsi;
	g[REG_RDI] = c->Rdi;
	g[REG_R8] = c->R8;
	g[REG_R9] = c->R9;
	g[REG_R10] = c->R10;
	g[REG_R11] = c->R11;
	g[REG_R12] = c->R12;
	g[REG_R13] = c->R13;
	g[REG_R14] = c->R14;
	g[REG_R15] = c->R15;
	g[REG_RIP] = c->Rip;
}

/* Read 0 / write 1 / execute 8 from the page-fault error code, if it is one. */
static bool hw_access(const ucontext_t *uc, DWORD *access)
{
	const greg_t *g = uc->uc_mcontext.gregs;

	if (g[REG_TRAPNO] != X86_TRAP_PF)
		return false;
	if (g[REG_ERR] & X86_PF_INSTR)
		*access = EXCEPTION_EXECUTE_FAULT;
	else if (g[REG_ERR] & X86_PF_WRITE)
		*access = EXCEPTION_WRITE_FAULT;
	else
		*access = EXCEPTION_READ_FAULT;
	return true;
}

static PVOID fault_ip(const ucontext_t *uc)
{
	return (PVOID)(uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
}
#else
static void context_from_ucontext(CONTEXT *c, const ucontext_t *uc)
{
	(void)uc;
	memset(c, 0, sizeof(*c));
}

static void context_to_ucontext(const CONTEXT *c, ucontext_t *uc)
{
	(void)c;
	(void)uc;
}

static bool hw_access(const ucontext_t *uc, DWORD *access)
{
	(void)uc;
	*access = EXCEPTION_READ_FAULT;
	return false;
}

static PVOID fault_ip(const ucontext_t *uc)
{
	(void)uc;
	return NULL;
}
#endif

/* Hands the signal to the disposition that was there before us. */
static void chain_previous(int sig, siginfo_t *si, void *ucv)
{
	struct sigaction dfl;
	sigset_t set;

	if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
		previous.sa_sigaction(sig, si, ucv);
		return;
	}
	if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	/* Die of it, with the default action (and a core dump if enabled). */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

static void segv_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct winvm_fault_info_args fi;
	EXCEPTION_RECORD rec;
	CONTEXT context;
	EXCEPTION_POINTERS ep = { &rec, &context };
	uint64_t addr = (uintptr_t)si->si_addr;
	int saved_errno = errno, fd;
	DWORD access = EXCEPTION_READ_FAULT;
	struct veh *v;

	/* kill(), raise(), sigqueue(): no fault to describe. */
	if (si->si_code <= 0) {
		chain_previous(sig, si, ucv);
		errno = saved_errno;
		return;
	}
	memset(&rec, 0, sizeof(rec));
	fd = winvm__peek_default_fd();
	if (fd >= 0 && winvm_fault_info(fd, &fi) == WINVM_STATUS_SUCCESS &&
	    fi.address == addr) {
		rec.ExceptionCode = fi.fault_status;
		access = fi.access;
	} else {
		rec.ExceptionCode = STATUS_ACCESS_VIOLATION;
		/*
		 * Not a page fault (a general protection fault, e.g. a
		 * non-canonical address): Windows reports address ~0.
		 */
		if (!hw_access(uc, &access) || si->si_code == SI_KERNEL)
			addr = ~(uint64_t)0;
	}
	rec.ExceptionAddress = fault_ip(uc);
	rec.NumberParameters = 2;
	rec.ExceptionInformation[0] = access;
	rec.ExceptionInformation[1] = (ULONG_PTR)addr;
	context_from_ucontext(&context, uc);

	__atomic_add_fetch(&veh_walkers, 1, __ATOMIC_SEQ_CST);
	for (v = __atomic_load_n(&veh_head, __ATOMIC_SEQ_CST); v;
	     v = __atomic_load_n(&v->next, __ATOMIC_SEQ_CST)) {
		if (v->handler(&ep) == EXCEPTION_CONTINUE_EXECUTION) {
			__atomic_sub_fetch(&veh_walkers, 1, __ATOMIC_SEQ_CST);
			context_to_ucontext(&context, uc);
			errno = saved_errno;
			return;
		}
	}
	__atomic_sub_fetch(&veh_walkers, 1, __ATOMIC_SEQ_CST);
	chain_previous(sig, si, ucv);
	errno = saved_errno;
}

/* ------------------------------------------------------------------ */
/* Registration                                                         */
/* ------------------------------------------------------------------ */

/* An alternate signal stack for the calling thread, unless it has one. */
static void ensure_altstack(void)
{
	stack_t cur, ss;
	size_t size = 64 * 1024;

	if (sigaltstack(NULL, &cur) || !(cur.ss_flags & SS_DISABLE))
		return;
	ss.ss_sp = malloc(size);
	if (!ss.ss_sp)
		return;
	ss.ss_size = size;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		free(ss.ss_sp);
}

static bool install_handler(void)
{
	struct sigaction sa;

	if (installed)
		return true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &previous))
		return false;
	installed = true;
	return true;
}

PVOID WINAPI AddVectoredExceptionHandler(ULONG First, PVECTORED_EXCEPTION_HANDLER Handler)
{
	struct veh *v, **pp;

	if (!Handler) {
		SetLastError(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	v = malloc(sizeof(*v));
	if (!v) {
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	v->handler = Handler;
	/* The handler reads fault records on the default context: open it now. */
	winvm_default_fd();
	ensure_altstack();

	pthread_mutex_lock(&veh_lock);
	if (!install_handler()) {
		pthread_mutex_unlock(&veh_lock);
		free(v);
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	if (First) {
		v->next = veh_head;
		__atomic_store_n(&veh_head, v, __ATOMIC_SEQ_CST);
	} else {
		v->next = NULL;
		for (pp = &veh_head; *pp; pp = &(*pp)->next)
			;
		__atomic_store_n(pp, v, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&veh_lock);
	return v;
}

ULONG WINAPI RemoveVectoredExceptionHandler(PVOID Handle)
{
	struct veh **pp, *v = NULL;

	pthread_mutex_lock(&veh_lock);
	for (pp = &veh_head; *pp; pp = &(*pp)->next) {
		if (*pp == Handle) {
			v = *pp;
			/* Walkers already on v still find its next pointer. */
			__atomic_store_n(pp, v->next, __ATOMIC_SEQ_CST);
			break;
		}
	}
	if (v) {
		if (__atomic_load_n(&veh_walkers, __ATOMIC_SEQ_CST) == 0) {
			free(v);
		}
		/*
		 * Otherwise a signal handler may be on v right now and still
		 * call it or follow its next pointer: v stays as it is, for
		 * good (a few bytes).
		 */
	}
	pthread_mutex_unlock(&veh_lock);
	return v ? 1 : 0;
}
