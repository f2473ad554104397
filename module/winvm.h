/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * winvm internals.
 *
 * Design: every allocation is one or more real VMAs in the caller's mm,
 * created with vm_mmap() of a module-private "mapper" file whose ->mmap
 * swaps in the allocation's shmem file (vma_set_file) and layers our
 * vm_ops over shmem's.  Contents live in the shmem page cache; per-page NT
 * state (committed, protection, guard) lives in a maple tree per
 * allocation and is enforced in ->fault (reads, fetches, guards, reserved
 * pages) and ->page_mkwrite (writes; the VMA is shared and write-notified,
 * so every first write reaches us).  Protection downgrades zap PTEs, which
 * is lossless because the data stays in shmem.  Only the execute
 * permission is VMA-wide (NX comes from vm_page_prot), so an allocation is
 * split into VMAs only where the execute class changes.
 *
 * Files, each one concern; a file calls only files above it in this list
 * (no cycles):
 *
 *   status.c         NTSTATUS <-> errno, both directions
 *   state.c          the page-state type (state.h), with its KUnit suite
 *   watch.c          write watch: the written pages of watched allocations
 *   prot.c           the protection table (prot.h), with its KUnit suite
 *   wmm.c            the per-process object; winvm's pseudo fs and tmpfs
 *   filecheck.c      which files may back a section; the mmap(2) probe
 *   section.c        the section object and its backing file
 *   name.c           section names and the handle count that keeps them
 *   handle.c         section handles (fds)
 *   alloc.c          the allocation object (VAD or view), its state, its pages
 *   cow.c            write-copy: private copies of a view's pages
 *   fault.c          ->fault, ->page_mkwrite and the fault records
 *   vmops.c          the mapper files' ->mmap and winvm's vm_ops
 *   vma.c            VMA lookup, mapping, unmapping, splitting
 *   pte.c            PTEs of a range: dropped, write-protected, made writable
 *   exec.c           VMAs split and merged by execute class
 *   place.c          where new allocations and views go
 *   change.c         the one commit/protect path, with undo
 *   mem.c            ioctls: allocate, free, protect (private memory)
 *   section_ioctl.c  ioctls: create, open, query, duplicate sections
 *   view.c           ioctls: map, unmap, flush views
 *   query.c          ioctl: query (VirtualQuery)
 *   watch_ioctl.c    ioctls: get and reset write watch
 *   main.c           the device and the ioctl dispatch
 *
 * Mechanism returns errno; only validators and ioctl handlers choose an
 * NTSTATUS.  The Windows rules cited as "R<n>" and "E<n>" are in
 * docs/windows-rules.md; the security rules "T-<name>" in
 * docs/threat-model.md.
 *
 * Security (docs/threat-model.md): a caller's file is mapped only after a
 * probe vm_mmap() of that file was accepted by the kernel's own mmap path
 * (filecheck.c, T-MMAP); only ordinary page cache may back a section
 * (T-FILE); VMAs count as writers exactly as the core counts them (T-SEAL).
 *
 * Locking, outermost first:
 *
 *   winvm_mm->op_lock     mutex; serialises every winvm operation on one
 *                         mm and protects map_alloc/map_task (the request
 *                         the mapper's ->mmap answers).  Held around
 *                         vm_mmap()/vm_munmap()/vfs_fallocate(), so it
 *                         nests outside mmap_lock.
 *   mmap_lock             taken by the ioctls (write, for state changes
 *                         and zaps; read, for queries) and held by the
 *                         core around our vm_ops, or (6.4+) instead:
 *   the per-VMA lock      read-held around ->fault/->page_mkwrite of VMAs
 *                         with ->map_pages (winvm_vm_ops, over backing
 *                         files that have one).  Every state change
 *                         write-locks the VMAs it affects under mmap_lock
 *                         (winvm_lock_vmas()) before changing anything a
 *                         fault reads.
 *   winvm_alloc->state_lock
 *                         mutex; protects the page-state tree and base,
 *                         size.  Taken in ->fault/->page_mkwrite (which may
 *                         sleep) and by ioctls under mmap_lock; only tried
 *                         in ->map_pages, which may run under RCU.
 *   winvm_section->commit_lock
 *                         mutex; a SEC_RESERVE section's committed pages.
 *                         Nests inside a view's state_lock.
 *   winvm_names_lock      (name.c) section names and handle counts; taken
 *                         with nothing else held.
 *
 * No copy_from_user/copy_to_user happens under mmap_lock or state_lock:
 * the ioctl layer copies the argument struct in before and out after (a
 * section name is copied before any lock is taken).
 * winvm_mms_lock (global) guards the mm -> winvm_mm table; it is taken
 * from ->close (under mmap_lock) when the last reference drops, so it never
 * nests outside mmap_lock.
 */
#ifndef WINVM_INTERNAL_H
#define WINVM_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/winvm.h>

#include "prot.h"
#include "state.h"

#define WINVM_GRANULARITY	0x10000UL
#define WINVM_MIN_ADDR		0x10000UL

#define WINVM_SECTION_ACCESS_ALL	0x000f001fU
#define WINVM_SECTION_RIGHTS		0x1fU

/*
 * One per mm that uses winvm; shared by every open file of that mm.
 * ref, faults and nfaults are atomic or self-locking; the mappers and mm
 * never change; the rest is under op_lock.
 */
struct winvm_mm {
	struct kref ref;
	struct hlist_node node;		/* in winvm_mms, under winvm_mms_lock */
	struct mm_struct *mm;		/* mmgrab'ed */
	struct mutex op_lock;
	struct file *mapper;		/* vehicle for vm_mmap(), never in an fd table */
	/*
	 * mapper_ro: the same, opened read-only, so that VMAs that never
	 * write get neither VM_SHARED nor VM_MAYWRITE (T-SEAL).
	 */
	struct file *mapper_ro;
	struct winvm_alloc *map_alloc;	/* op_lock: the allocation being mapped */
	/* op_lock: the mapping_map_writable() held until the new VMA is linked */
	struct address_space *map_writable;
	struct xarray faults;		/* tid -> struct winvm_fault_rec */
	atomic_long_t nfaults;		/* records in faults */
	long faults_cap;		/* READ_ONCE/WRITE_ONCE: prune past this */
	struct winvm_budget runs;	/* page-state runs of all allocations */
	/*
	 * op_lock: the one shmem file of all private allocations, made at the
	 * first, and the next free offset in it.  Each allocation has its own
	 * range of offsets, never used again (alloc.c).
	 */
	struct file *shm;
	u64 shm_next;
	/*
	 * Private allocations alive; the last one to go after the mm died
	 * drops shm (alloc.c), so a winvm_mm kept by an fd somewhere else
	 * keeps no memory.
	 */
	atomic_t nprivate;
};

#define WINVM_FAULT_RECS_MIN	256	/* first limit of winvm_mm.faults (fault.c) */

struct winvm_fault_rec {
	u64 address;
	u32 access;
	u32 status;
};

struct winvm_name {
	struct hlist_node node;		/* winvm_names_lock */
	struct user_namespace *ns;	/* NULL in the global namespace */
	kuid_t uid;			/* creator's euid; the key of a local name */
	u32 world;			/* SECTION_* rights of other users (Global) */
	u32 len;
	u32 hash;
	struct winvm_section *sec;	/* winvm_names_lock */
	char str[];
};

/*
 * A section: the shared pages behind views.  Referenced by each section
 * handle and each view.  file, reserve, size, protect and attributes are
 * set at creation and never change; handles and name are protected by
 * winvm_names_lock (name.c); committed by commit_lock.
 */
struct winvm_section {
	struct kref ref;
	struct file *file;		/* shmem (pagefile-backed) or the caller's file */
	bool reserve;			/* SEC_RESERVE: pages start reserved */
	u64 size;
	u32 protect;
	u32 attributes;
	unsigned int handles;
	struct winvm_name *name;
	struct mutex commit_lock;	/* protects committed */
	struct winvm_pstate committed;	/* SEC_RESERVE: committed pages */
	struct winvm_budget runs;	/* committed's runs, capped (T-ALLOC) */
};

/* file->private_data of a section handle; never changes. */
struct winvm_handle {
	struct winvm_section *sec;
	u32 access;
};

/* A new fd an ioctl hands out; installed only once the reply is copied. */
struct winvm_call {
	struct file *file;
	int fd;
};

/*
 * An NT allocation (VAD) or a view of a section.  Referenced by each of
 * its VMAs and by operations in flight; it keeps its winvm_mm alive.
 * Several allocations may share one shmem file after an NT partial release
 * split one.  Fields without a lock are set before the first mapping and
 * never change after it.
 */
struct winvm_alloc {
	struct kref ref;
	struct winvm_mm *wmm;
	struct file *shm;		/* what the VMAs map (vm_file) */
	/*
	 * mmap_lock (written under it for writing): the file the VMAs
	 * really map once shm's ->mmap ran (overlayfs swaps in the real
	 * file), set by the first mapping; and that file's vm_ops (stored
	 * again, with the same value, by each mapping, while faults under
	 * other VMAs' locks read it).
	 */
	struct file *data;
	const struct vm_operations_struct *shm_ops;
	unsigned long origin;		/* user address of shm page 0 */
	unsigned long base;		/* state_lock (writers also hold mmap_lock) */
	unsigned long size;		/* state_lock (writers also hold mmap_lock) */
	u32 alloc_protect;		/* AllocationProtect */
	u32 type;			/* MEM_PRIVATE or MEM_MAPPED */
	struct winvm_section *section;	/* views: the section shown */
	/* mmap_lock (set once, under it for writing): write-copy copies */
	struct file *cow_file;
	u32 cache_attr;			/* PAGE_NOCACHE / PAGE_WRITECOMBINE, sticky */
	struct task_struct *surgeon;	/* op_lock; READ_ONCE in vm_ops: may split */
	struct mutex state_lock;	/* see the lock order above */
	struct winvm_pstate pages;	/* state_lock: shm page index -> state */
	/* MEM_WRITE_WATCH: the written pages (watch.c), shared by split pieces */
	struct winvm_watch *watch;
	/* Private memory: its pages already gone from wmm->shm (op_lock). */
	bool punched;
	struct work_struct free_work;	/* the last put, when pages remain */
};

/* Are an argument struct's flags or reserved words, which must be 0, set? */
#define winvm_args_reserved(a) ({						\
	typeof(a) __a = (a);							\
	__a->flags || __a->reserved[0] || __a->reserved[1];			\
})

static inline pgoff_t winvm_pgoff(const struct winvm_alloc *alloc, unsigned long addr)
{
	return (addr - alloc->origin) >> PAGE_SHIFT;
}

/* A probe mapping of a caller's file (filecheck.c). */
struct winvm_probe {
	unsigned long addr, len;
	struct inode *inode, *real;	/* compared only, never dereferenced */
};

/* A commit or protection change in flight (change.c). */
struct winvm_change {
	struct winvm_alloc *alloc;
	unsigned long start, end;
	u32 prot;
	bool commit;			/* MEM_COMMIT rather than MEM_PROTECT */
	bool exec_ok;			/* the VMAs' execute class already fits */
	bool make_cow;			/* the view needs its private-copy file */
	struct winvm_ps_snap *snap;	/* the states before, for undo */
};

/* status.c */
u32 winvm_errno_status(int err);
int winvm_foreign_errno(int err);
int winvm_status_errno(u32 status);

/* wmm.c */
u64 winvm_max_address(void);
bool winvm_range_ok(u64 addr, u64 len);
struct winvm_mm *winvm_mm_get(struct mm_struct *mm, const struct file_operations *mapper_fops);
void winvm_mm_put(struct winvm_mm *wmm);
struct file *winvm_new_file(const char *name, const struct file_operations *fops);
struct file *winvm_shmem_file(const char *name, loff_t size);
bool winvm_shmem_own(const struct address_space *mapping);
int winvm_shm_reserve(struct winvm_mm *wmm, unsigned long size, u64 *off);
void winvm_shm_unreserve(struct winvm_mm *wmm, unsigned long size, u64 off);
int winvm_mounts_init(void);
void winvm_mounts_exit(void);

/* filecheck.c */
bool winvm_path_noexec(const struct file *file);
bool winvm_file_backable(struct file *file);
int winvm_vma_backable(struct vm_area_struct *vma);
int winvm_probe_begin(struct winvm_probe *p, struct file *file, unsigned long addr,
		      unsigned long len, u64 off, unsigned long prot, unsigned long flags);
void winvm_probe_end(struct winvm_probe *p, const struct vm_operations_struct *ours);

/* section.c */
struct winvm_section *winvm_section_alloc(u32 protect, u32 attributes);
void winvm_section_put(struct winvm_section *sec);
int winvm_section_backing(struct winvm_section *sec, int fd, u64 size);
struct file *winvm_section_ro_file(struct winvm_section *sec);
bool winvm_section_committed(struct winvm_section *sec, pgoff_t idx, pgoff_t limit,
			     pgoff_t *next);
int winvm_section_commit(struct winvm_section *sec, pgoff_t first, pgoff_t last);

/* name.c */
struct winvm_name *winvm_name_get(u64 uptr, u32 len, u32 flags);
void winvm_name_free(struct winvm_name *name);
struct winvm_section *winvm_name_lookup(const struct winvm_name *key, u32 access);
bool winvm_name_add(struct winvm_name *name, struct winvm_section *sec);
void winvm_handles_get(struct winvm_section *sec);
void winvm_handles_put(struct winvm_section *sec);

/* handle.c */
struct winvm_section *winvm_section_get(int fd, u32 *access);
int winvm_handle_new(struct winvm_section *sec, u32 access, struct winvm_call *call, s32 *fd);

/* alloc.c */
int winvm_alloc_init(void);
void winvm_alloc_exit(void);
struct winvm_alloc *winvm_alloc_create(struct winvm_mm *wmm, unsigned long size,
				       u32 protect, u64 *off);
struct winvm_alloc *winvm_view_create(struct winvm_mm *wmm, struct winvm_section *sec,
				      u32 view_prot);
struct file *winvm_cow_file(struct winvm_section *sec);
void winvm_alloc_put(struct winvm_alloc *alloc);
int winvm_punch(struct winvm_alloc *alloc, unsigned long start, unsigned long end);
struct winvm_alloc *winvm_alloc_split_prepare(struct winvm_alloc *alloc, unsigned long at);
u32 winvm_eff_span(struct winvm_alloc *alloc, pgoff_t idx, pgoff_t limit, pgoff_t *next);
u32 winvm_visible_protect(const struct winvm_alloc *alloc, u32 st);
bool winvm_alloc_writable(const struct winvm_alloc *alloc);

/* cow.c */
vm_fault_t winvm_cow_prepare(struct winvm_alloc *alloc, pgoff_t idx, u32 *st, u32 access);
vm_fault_t winvm_cow_fault(struct vm_fault *vmf, struct winvm_alloc *alloc, u32 st);
vm_fault_t winvm_cow_mkwrite(struct vm_fault *vmf, struct winvm_alloc *alloc, u32 st);

/* watch.c */
struct winvm_watch *winvm_watch_new(void);
struct winvm_watch *winvm_watch_get(struct winvm_watch *w);
void winvm_watch_put(struct winvm_watch *w);
int winvm_watch_mark(struct winvm_watch *w, pgoff_t idx);
void winvm_watch_clear(struct winvm_watch *w, pgoff_t first, pgoff_t last);
unsigned int winvm_watch_list(struct winvm_watch *w, pgoff_t *idx, pgoff_t last,
			      pgoff_t *out, unsigned int max);
void winvm_watch_unmark(struct winvm_watch *w, const pgoff_t *pages, unsigned int n);

/* fault.c */
vm_fault_t winvm_fault(struct vm_fault *vmf);
vm_fault_t winvm_page_mkwrite(struct vm_fault *vmf);
vm_fault_t winvm_map_pages(struct vm_fault *vmf, pgoff_t start, pgoff_t end);
u32 winvm_fault_info(struct winvm_mm *wmm, void *arg, struct winvm_call *call);

/* vmops.c */
extern const struct file_operations winvm_mapper_fops;
extern const struct vm_operations_struct winvm_vm_ops;
extern const struct vm_operations_struct winvm_vm_ops_mmap_lock;

/* vma.c */
bool winvm_vma_is(struct vm_area_struct *vma, struct winvm_alloc *alloc);
struct winvm_alloc *winvm_find_alloc(struct winvm_mm *wmm, unsigned long addr);
struct winvm_alloc *winvm_vma_alloc(struct vm_area_struct *vma, struct winvm_mm *wmm);
unsigned long winvm_alloc_mapped_end(struct mm_struct *mm, struct winvm_alloc *alloc,
				     unsigned long addr);
bool winvm_alloc_covers(struct mm_struct *mm, struct winvm_alloc *alloc,
			unsigned long start, unsigned long end);
void winvm_lock_vmas(struct winvm_alloc *alloc, unsigned long start, unsigned long end);
int winvm_unmap_own(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end);
int winvm_map_range(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long addr, unsigned long len, bool exec, bool fixed);
void winvm_alloc_split_commit(struct winvm_alloc *alloc, struct winvm_alloc *tail,
			      unsigned long at);

/* pte.c */
void winvm_zap(struct winvm_alloc *alloc, unsigned long start, unsigned long end);
void winvm_wrprotect(struct winvm_alloc *alloc, unsigned long start, unsigned long end);
/* May the kernel write @folio without a fault?  @refs: those the caller holds. */
typedef bool (*winvm_held_fn)(struct folio *folio, int refs);
void winvm_wrprotect_list(struct winvm_alloc *alloc, const pgoff_t *pages, unsigned int n,
			  u8 *held, winvm_held_fn is_held);
void winvm_mkwrite(struct winvm_alloc *alloc, unsigned long start, unsigned long end);

/* exec.c */
int winvm_remap_all(struct winvm_mm *wmm, struct winvm_alloc *alloc);
int winvm_sync_exec(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end);
bool winvm_exec_matches(struct mm_struct *mm, struct winvm_alloc *alloc,
			unsigned long start, unsigned long end, bool exec);

/* place.c */
int winvm_zero_bits_limit(u64 zero_bits, unsigned long *limit);
bool winvm_granule_busy(struct mm_struct *mm, unsigned long addr);
int winvm_alloc_place(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		      unsigned long addr, unsigned long len, unsigned long limit,
		      bool topdown, bool exec, u64 offset);

/* change.c */
int winvm_change_begin(struct winvm_mm *wmm, struct winvm_change *c);
int winvm_change_end(struct winvm_mm *wmm, struct winvm_change *c, int ret);

/* The ioctl handlers (mem.c, section_ioctl.c, view.c, query.c, fault.c). */
u32 winvm_mem_alloc(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_mem_free(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_mem_protect(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_section_create(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_section_open(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_section_query(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_section_dup(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_view_map(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_view_unmap(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_view_flush(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_mem_query(struct winvm_mm *wmm, void *arg, struct winvm_call *call);

/* watch_ioctl.c */
u32 winvm_watch_get_ioctl(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_watch_reset_ioctl(struct winvm_mm *wmm, void *arg, struct winvm_call *call);

#endif /* WINVM_INTERNAL_H */
