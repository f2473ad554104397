// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enforcement: the fault handlers that turn per-page NT state into
 * allowed accesses, access violations and one-shot guard-page hits, and
 * the per-thread fault records userspace reads to tell them apart.
 */

#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "compat.h"
#include "winvm.h"

/*
 * A VMA that is not where winvm put it shows nothing (SIGBUS): a copy in a
 * child (MADV_DOFORK cleared VM_DONTCOPY), or the copy of a refused mremap
 * that the kernel could not unmap again because it ran out of memory in
 * its error path.  Either would otherwise alias the allocation's pages at
 * an address winvm does not know, even after the allocation is released.
 */
static bool winvm_vma_stray(struct vm_area_struct *vma, struct winvm_alloc *alloc)
{
	return vma->vm_mm != alloc->wmm->mm ||
	       vma->vm_pgoff != winvm_pgoff(alloc, vma->vm_start);
}

static u32 winvm_fault_access(unsigned int flags)
{
	if (flags & FAULT_FLAG_INSTRUCTION)
		return WINVM_EXCEPTION_EXECUTE_FAULT;
	if (flags & FAULT_FLAG_WRITE)
		return WINVM_EXCEPTION_WRITE_FAULT;
	return WINVM_EXCEPTION_READ_FAULT;
}

/*
 * May a committed page in state @st take @access?  Reads of PAGE_EXECUTE
 * pages are allowed: x86-64 cannot map a page execute-only, and Windows on
 * x64 lets such reads through as well (prot.c).
 */
static bool winvm_access_ok(u32 st, u32 access)
{
	return (st & WINVM_PS_COMMIT) && winvm_prot_allows(st, access);
}

/*
 * Records are keyed by thread id and taken by that thread's handler; a
 * thread that dies (or never asks) leaves its record behind.  So that
 * they cannot pile up (T-REC), the records of threads that are gone are
 * dropped whenever the table reaches its size limit, which then grows with
 * the live threads that hold records, from WINVM_FAULT_RECS_MIN up to
 * WINVM_FAULT_RECS_MAX.
 */
#define WINVM_FAULT_RECS_MAX	65536

static bool winvm_tid_alive(struct winvm_mm *wmm, unsigned long tid)
{
	struct task_struct *task;
	bool alive;

	rcu_read_lock();
	task = pid_task(find_pid_ns(tid, &init_pid_ns), PIDTYPE_PID);
	alive = task && READ_ONCE(task->mm) == wmm->mm;
	rcu_read_unlock();
	return alive;
}

/* Make room for one more record; false if even live threads fill the table. */
static bool winvm_faults_room(struct winvm_mm *wmm)
{
	struct winvm_fault_rec *rec;
	unsigned long tid;
	long cap = READ_ONCE(wmm->faults_cap);

	if (atomic_long_read(&wmm->nfaults) < cap)
		return true;
	xa_for_each(&wmm->faults, tid, rec) {
		/* Up to WINVM_FAULT_RECS_MAX records, in a fault. */
		cond_resched();
		if (winvm_tid_alive(wmm, tid))
			continue;
		/* Another pruner may have taken it first. */
		rec = xa_erase(&wmm->faults, tid);
		if (!rec)
			continue;
		kfree(rec);
		atomic_long_dec(&wmm->nfaults);
	}
	/* Mostly live threads: grow, so pruning stays rare. */
	if (atomic_long_read(&wmm->nfaults) >= cap / 2 && cap < WINVM_FAULT_RECS_MAX)
		WRITE_ONCE(wmm->faults_cap, cap * 2);
	return atomic_long_read(&wmm->nfaults) < READ_ONCE(wmm->faults_cap);
}

/* Fill a thread's record; xa_lock keeps the pruner from freeing it meanwhile. */
static bool winvm_refill_fault(struct winvm_mm *wmm, unsigned long tid, unsigned long addr,
			       u32 access, u32 status)
{
	struct winvm_fault_rec *rec;

	xa_lock(&wmm->faults);
	rec = xa_load(&wmm->faults, tid);
	if (rec) {
		rec->address = addr;
		rec->access = access;
		rec->status = status;
	}
	xa_unlock(&wmm->faults);
	return rec;
}

/*
 * Remember what the faulting thread hit, so its SIGSEGV handler can ask.
 * A thread's record is allocated at its first fault and then reused (an
 * empty one has status 0), so a guard hit or an access violation costs no
 * allocation.  Best effort: without memory the handler sees a plain
 * access violation.
 */
static void winvm_record_fault(struct winvm_mm *wmm, unsigned long addr,
			       u32 access, u32 status)
{
	unsigned long tid = task_pid_nr(current);
	struct winvm_fault_rec *rec, *old;

	if (winvm_refill_fault(wmm, tid, addr, access, status) || !winvm_faults_room(wmm))
		return;
	rec = kmalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);
	if (!rec)
		return;
	rec->address = addr;
	rec->access = access;
	rec->status = status;
	old = xa_store(&wmm->faults, tid, rec, GFP_KERNEL_ACCOUNT);
	if (xa_is_err(old)) {
		kfree(rec);
		return;
	}
	kfree(old);
	if (!old)
		atomic_long_inc(&wmm->nfaults);
}

/*
 * A user-mode access hit a guard page: the guard goes before the signal is
 * raised, so the retried access succeeds (NT's one-shot guard).  Returns 0
 * or VM_FAULT_OOM.
 */
static vm_fault_t winvm_guard_consume(struct winvm_alloc *alloc, pgoff_t idx, u32 st)
	__must_hold(&alloc->state_lock)
{
	lockdep_assert_held(&alloc->state_lock);
	if (winvm_ps_set_nocap(&alloc->pages, idx, idx, st & ~WINVM_PS_GUARD))
		return VM_FAULT_OOM;
	return 0;
}

/*
 * Decide, under state_lock, what a fault on page @idx in state @st gets:
 * 0 to go on, or the fault code; *status receives the exception for a
 * user-mode denial.  A write-copy view makes its copy here.
 */
static vm_fault_t winvm_fault_decide(struct vm_fault *vmf, struct winvm_alloc *alloc,
				     u32 *st, u32 access, u32 *status)
	__must_hold(&alloc->state_lock)
{
	bool user = vmf->flags & FAULT_FLAG_USER;
	vm_fault_t ret;

	lockdep_assert_held(&alloc->state_lock);
	*status = 0;
	if ((*st & WINVM_PS_COMMIT) && (*st & WINVM_PS_GUARD)) {
		/* Kernel-mode accesses (uaccess, GUP) just fail with EFAULT. */
		if (!user)
			return VM_FAULT_SIGSEGV;
		ret = winvm_guard_consume(alloc, vmf->pgoff, *st);
		if (!ret)
			*status = WINVM_STATUS_GUARD_PAGE_VIOLATION;
		return ret ? ret : VM_FAULT_SIGSEGV;
	}
	if (!winvm_access_ok(*st, access)) {
		*status = user ? WINVM_STATUS_ACCESS_VIOLATION : 0;
		return VM_FAULT_SIGSEGV;
	}
	if (alloc->cow_file)
		return winvm_cow_prepare(alloc, vmf->pgoff, st, access);
	return 0;
}

/*
 * Refuse a large folio of winvm's own tmpfs from a ->fault.  That tmpfs
 * is huge=never and the VMAs VM_NOHUGEPAGE, but root's
 * shmem_enabled=force overrides the mount option (and, after
 * MADV_HUGEPAGE, the VMA flag), after which shmem hands out PMD-size
 * folios that the core may map whole (and writable, after one
 * ->page_mkwrite): every page of it would get the faulting page's state
 * and write-watch record (docs/threat-model.md, T-THP).  The same holds
 * for a write-copy view's copy and a pagefile-backed section's page.  A
 * caller's file may have large folios of its own: the kernel maps those
 * page by page unless address and offset agree modulo 2 MiB (T-THP).
 */
static vm_fault_t winvm_fault_small(struct vm_fault *vmf, vm_fault_t ret)
{
	struct folio *folio;

	if ((ret & VM_FAULT_ERROR) || !vmf->page)
		return ret;
	folio = page_folio(vmf->page);
	if (!folio_test_large(folio) || !winvm_shmem_own(READ_ONCE(folio->mapping)))
		return ret;
	if (ret & VM_FAULT_LOCKED)
		folio_unlock(folio);
	put_page(vmf->page);
	vmf->page = NULL;
	return VM_FAULT_SIGBUS;
}

/*
 * The PTE is absent: decide reserved / no-access / guard / allowed.  The
 * core holds mmap_lock around ->fault, or on 6.4+ only the VMA's own lock
 * (winvm's VMAs have ->map_pages, see vmops.c).  The design depends on
 * state changes keeping faults out: they hold mmap_lock for writing and
 * write-lock the VMAs they touch (winvm_lock_vmas()), so the decision
 * here and the PTE the core then installs see one state.
 */
vm_fault_t winvm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct winvm_alloc *alloc = vma->vm_private_data;
	u32 access = winvm_fault_access(vmf->flags);
	vm_fault_t ret;
	pgoff_t next;
	u32 st, status;

	winvm_assert_fault_locked(vma);
	if (winvm_vma_stray(vma, alloc))
		return VM_FAULT_SIGBUS;
	mutex_lock(&alloc->state_lock);
	st = winvm_eff_span(alloc, vmf->pgoff, vmf->pgoff + 1, &next);
	ret = winvm_fault_decide(vmf, alloc, &st, access, &status);
	mutex_unlock(&alloc->state_lock);
	if (status)
		winvm_record_fault(alloc->wmm, vmf->real_address, access, status);
	if (ret)
		return ret;
	if (alloc->cow_file)
		return winvm_fault_small(vmf, winvm_cow_fault(vmf, alloc, st));
	return winvm_fault_small(vmf, alloc->shm_ops->fault(vmf));
}

/*
 * A read-only PTE is about to become writable (every first write, since
 * the VMA is write-notified).  The core rewrites vmf->flags here, so user
 * and kernel writes cannot be told apart; a record left by a kernel write
 * is harmless because userspace matches records by address.
 */
vm_fault_t winvm_page_mkwrite(struct vm_fault *vmf)
{
	struct winvm_alloc *alloc = vmf->vma->vm_private_data;
	struct winvm_section *sec = alloc->section;
	pgoff_t next;
	u32 st;

	winvm_assert_fault_locked(vmf->vma);
	if (winvm_vma_stray(vmf->vma, alloc))
		return VM_FAULT_SIGBUS;
	mutex_lock(&alloc->state_lock);
	st = winvm_eff_span(alloc, vmf->pgoff, vmf->pgoff + 1, &next);
	mutex_unlock(&alloc->state_lock);
	if (winvm_access_ok(st, WINVM_EXCEPTION_WRITE_FAULT)) {
		/* The first write since the last reset: the record gets it. */
		if (alloc->watch && winvm_watch_mark(alloc->watch, vmf->pgoff))
			return VM_FAULT_OOM;
		if (alloc->cow_file)
			return winvm_cow_mkwrite(vmf, alloc, st);
		/* A real filesystem may need to allocate blocks first. */
		if (sec && alloc->shm_ops->page_mkwrite)
			return alloc->shm_ops->page_mkwrite(vmf);
		return 0;
	}
	winvm_record_fault(alloc->wmm, vmf->real_address,
			   WINVM_EXCEPTION_WRITE_FAULT, WINVM_STATUS_ACCESS_VIOLATION);
	return VM_FAULT_SIGSEGV;
}

/* May fault-around map a page in state @st into @vma (read-only)? */
static bool winvm_map_ok(struct vm_area_struct *vma, u32 st)
{
	return !(st & WINVM_PS_GUARD) && winvm_access_ok(st, WINVM_EXCEPTION_READ_FAULT) &&
	       (!(vma->vm_flags & VM_EXEC) ||
		winvm_access_ok(st, WINVM_EXCEPTION_EXECUTE_FAULT));
}

/*
 * Fault-around, and what lets the core run ->fault and ->page_mkwrite
 * under the VMA's own lock on 6.4+ (vmf_can_call_fault()): near a read
 * fault, map the resident pages whose state allows every access the VMA's
 * PTEs grant (read, and execute in an executable VMA), one run of equal
 * state at a time, through the file's own ->map_pages.  Those PTEs are
 * read-only (the VMA is write-notified), so a later write still asks
 * ->page_mkwrite.  Views and write-copy leave every page to ->fault.
 * The core may call this under rcu_read_lock() (6.12), where state_lock
 * cannot be waited for: if it is busy, ->fault does the work.
 */
vm_fault_t winvm_map_pages(struct vm_fault *vmf, pgoff_t start, pgoff_t end)
{
	struct vm_area_struct *vma = vmf->vma;
	struct winvm_alloc *alloc = vma->vm_private_data;
	vm_fault_t ret = 0;
	pgoff_t idx, next;
	u32 st;

	winvm_assert_fault_locked(vma);
	/* (Past MADV_HUGEPAGE ->map_pages could map a large folio whole.) */
	if (alloc->section || !alloc->shm_ops->map_pages || winvm_vma_stray(vma, alloc) ||
	    !(vma->vm_flags & VM_NOHUGEPAGE))
		return 0;
#ifndef WINVM_HAVE_VMA_THP_DISABLED
	/*
	 * Before 6.12 ->map_pages maps a large folio by PMD into an empty
	 * PMD even in a VM_NOHUGEPAGE VMA (do_set_pmd() does not ask); one
	 * left in the page cache under shmem_enabled=force would skip the
	 * per-page states.  The first fault of each 2 MiB maps one page.
	 */
	if (pmd_none(*vmf->pmd))
		return 0;
#endif
	if (!mutex_trylock(&alloc->state_lock))
		return 0;
	for (idx = start; idx <= end; idx = next) {
		st = winvm_ps_span(&alloc->pages, idx, end + 1, &next);
		if (winvm_map_ok(vma, st))
			ret |= alloc->shm_ops->map_pages(vmf, idx, next - 1);
	}
	mutex_unlock(&alloc->state_lock);
	return ret;
}

u32 winvm_fault_info(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_fault_info_args *args = arg;
	struct winvm_fault_rec *rec;
	u32 status = 0;

	if (winvm_args_reserved(args))
		return WINVM_STATUS_INVALID_PARAMETER;
	/* Taken, not freed: the thread's next fault reuses the record. */
	xa_lock(&wmm->faults);
	rec = xa_load(&wmm->faults, task_pid_nr(current));
	if (rec && rec->status) {
		args->address = rec->address;
		args->access = rec->access;
		status = rec->status;
		rec->status = 0;
	}
	xa_unlock(&wmm->faults);
	if (!status)
		return WINVM_STATUS_NOT_FOUND;
	args->fault_status = status;
	return WINVM_STATUS_SUCCESS;
}
