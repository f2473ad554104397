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
 *                         core around our vm_ops.  Our VMAs have no
 *                         ->map_pages, so on 6.12 faults never run under a
 *                         per-VMA lock only.
 *   winvm_alloc->state_lock
 *                         mutex; protects the page-state tree and base,
 *                         size.  Taken in ->fault/->page_mkwrite (which may
 *                         sleep) and by ioctls under mmap_lock.
 *
 * No copy_from_user/copy_to_user happens under mmap_lock or state_lock:
 * the ioctl layer copies the argument struct in before and out after.
 * winvm_mms_lock (global) guards the mm -> winvm_mm table; it is taken
 * from ->close (under mmap_lock) when the last reference drops, so it never
 * nests outside mmap_lock.
 */
#ifndef WINVM_INTERNAL_H
#define WINVM_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <linux/winvm.h>

#define WINVM_GRANULARITY	0x10000UL
#define WINVM_MIN_ADDR		0x10000UL

/* Per-page state stored in the maple tree; reserved pages have no entry. */
#define WINVM_PS_PROT		0x0ffU	/* one WINVM_PAGE_* base value */
#define WINVM_PS_GUARD		0x100U	/* == WINVM_PAGE_GUARD */
#define WINVM_PS_COMMIT		0x1000U
#define WINVM_PS_RESET		0x2000U	/* MEM_RESET discarded the data */
#define WINVM_PS_COPIED		0x4000U	/* write-copy view: private copy made */

/* One per mm that uses winvm; shared by every open file of that mm. */
struct winvm_mm {
	struct kref ref;
	struct hlist_node node;		/* in winvm_mms, under winvm_mms_lock */
	struct mm_struct *mm;		/* mmgrab'ed */
	struct mutex op_lock;
	struct file *mapper;		/* vehicle for vm_mmap(), never in an fd table */
	/*
	 * mapper_ro: the same, opened read-only, so that VMAs that never
	 * write get neither VM_SHARED nor VM_MAYWRITE (T-SEAL).
	 * map_writable: op_lock; the mapping_map_writable() winvm holds for
	 * the file being mapped until the new VMA is linked.
	 */
	struct file *mapper_ro;
	struct winvm_alloc *map_alloc;	/* op_lock: the allocation being mapped */
	unsigned long map_exec;		/* op_lock: VM_EXEC or 0 for that mapping */
	struct address_space *map_writable;
	struct xarray faults;		/* tid -> struct winvm_fault_rec */
	atomic_long_t nfaults;		/* records in faults */
	long faults_cap;		/* prune dead threads' records past this */
	atomic_long_t runs;		/* page-state runs of all allocations */
};

#define WINVM_FAULT_RECS_MIN	256	/* first limit of winvm_mm.faults (fault.c) */

struct winvm_fault_rec {
	u64 address;
	u32 access;
	u32 status;
};

/*
 * A section: the shared pages behind views.  Referenced by each section
 * fd (winvm_handle) and each view.  handles and name are protected by
 * winvm_names_lock (section.c); committed by commit_lock, which nests
 * inside a view's state_lock.
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
	struct maple_tree committed;	/* SEC_RESERVE: page index -> committed */
};

/* file->private_data of a section fd. */
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
 * An NT allocation (VAD) or a view of a section.  Referenced by each of its VMAs and by
 * operations in flight; it keeps its winvm_mm alive.  Several allocations
 * may share one shmem file after an NT partial release split one.
 */
struct winvm_alloc {
	struct kref ref;
	struct winvm_mm *wmm;
	struct file *shm;		/* what the VMAs map (vm_file), never changes */
	/*
	 * data: mmap_lock; the file the VMAs really map once shm's ->mmap
	 * ran (overlayfs swaps in the real file), set by the first mapping.
	 */
	struct file *data;
	const struct vm_operations_struct *shm_ops;
	unsigned long origin;		/* user address of shm page 0 */
	unsigned long base;		/* state_lock (writers also hold mmap_lock) */
	unsigned long size;		/* state_lock (writers also hold mmap_lock) */
	u32 alloc_protect;		/* AllocationProtect */
	u32 type;			/* MEM_PRIVATE or MEM_MAPPED */
	struct winvm_section *section;	/* views: the section shown */
	struct file *cow_file;		/* write-copy views: the private copies */
	u32 cache_attr;			/* PAGE_NOCACHE / PAGE_WRITECOMBINE, sticky */
	struct task_struct *surgeon;	/* op_lock: may split our VMAs */
	struct mutex state_lock;
	struct maple_tree pages;	/* shm page index -> state (xa value) */
	unsigned long committed;	/* state_lock: pages with PS_COMMIT in pages */
	long runs;			/* state_lock: non-empty runs in pages */
};

/* A probe mapping of a caller's file (filecheck.c). */
struct winvm_probe {
	unsigned long addr, len;
	struct inode *inode, *real;	/* compared only, never dereferenced */
};

/* filecheck.c */
bool winvm_path_noexec(const struct file *file);
bool winvm_file_backable(struct file *file);
int winvm_vma_backable(struct vm_area_struct *vma);
int winvm_probe_begin(struct winvm_probe *p, struct file *file, unsigned long addr,
		      unsigned long len, u64 off, unsigned long prot, unsigned long flags);
void winvm_probe_end(struct winvm_probe *p);

/* main.c */
struct inode *winvm_new_inode(void);
struct file *winvm_new_file(struct inode *inode, const char *name,
			    const struct file_operations *fops);
u64 winvm_max_address(void);
struct file *winvm_shmem_file(const char *name, loff_t size);
int winvm_status_errno(u32 status);
void winvm_mm_put(struct winvm_mm *wmm);

/* alloc.c */
extern const struct file_operations winvm_mapper_fops;
extern const struct vm_operations_struct winvm_vm_ops;
struct winvm_alloc *winvm_alloc_create(struct winvm_mm *wmm, unsigned long size,
				       u32 protect);
struct winvm_alloc *winvm_view_create(struct winvm_mm *wmm, struct winvm_section *sec,
				      u32 view_prot);
void winvm_alloc_put(struct winvm_alloc *alloc);
struct winvm_alloc *winvm_alloc_split_prepare(struct winvm_alloc *alloc, unsigned long at);
void winvm_alloc_split_commit(struct winvm_alloc *alloc, struct winvm_alloc *tail,
			      unsigned long at);
static inline pgoff_t winvm_pgoff(const struct winvm_alloc *alloc, unsigned long addr)
{
	return (addr - alloc->origin) >> PAGE_SHIFT;
}

u32 winvm_state_span(struct winvm_alloc *alloc, pgoff_t idx, pgoff_t limit, pgoff_t *next);
u32 winvm_eff_span(struct winvm_alloc *alloc, pgoff_t idx, pgoff_t limit, pgoff_t *next);
int winvm_state_set(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last, u32 st);
int winvm_state_set_nocap(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last, u32 st);
u32 winvm_visible_protect(const struct winvm_alloc *alloc, u32 st);
bool winvm_is_exec_prot(u32 prot);

bool winvm_alloc_writable(const struct winvm_alloc *alloc);
void winvm_zap_vma(struct vm_area_struct *vma, unsigned long addr, unsigned long len);
int winvm_map_range(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long addr, unsigned long len, bool exec, bool fixed);
int winvm_remap_all(struct winvm_mm *wmm, struct winvm_alloc *alloc);
int winvm_sync_exec(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end);
void winvm_zap(struct winvm_alloc *alloc, unsigned long start, unsigned long end);
int winvm_punch(struct winvm_alloc *alloc, unsigned long start, unsigned long end);

struct winvm_alloc *winvm_find_alloc(struct winvm_mm *wmm, unsigned long addr);
struct winvm_alloc *winvm_vma_alloc(struct vm_area_struct *vma, struct winvm_mm *wmm);
int winvm_unmap_own(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end);
bool winvm_alloc_covers(struct mm_struct *mm, struct winvm_alloc *alloc,
			unsigned long start, unsigned long end);
unsigned long winvm_alloc_mapped_end(struct mm_struct *mm, struct winvm_alloc *alloc,
				     unsigned long addr);

/* mem.c */
u32 winvm_mem_alloc(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_mem_free(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_mem_protect(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
bool winvm_prot_valid(u32 prot);
u32 winvm_errno_status(int err);
int winvm_alloc_place(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		      unsigned long addr, unsigned long len, unsigned long limit,
		      bool topdown, bool exec, u64 offset);
u32 winvm_zero_bits_limit(u64 zero_bits, unsigned long *limit);
unsigned long winvm_find_free(struct mm_struct *mm, unsigned long len,
			      unsigned long limit, bool topdown);

/* query.c */
u32 winvm_mem_query(struct winvm_mm *wmm, void *arg, struct winvm_call *call);

/* section.c */
void winvm_section_put(struct winvm_section *sec);
struct winvm_section *winvm_section_get(int fd, u32 *access, u32 *status);
struct file *winvm_section_ro_file(struct winvm_section *sec);
u32 winvm_section_create(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_section_open(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_section_query(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_section_dup(struct winvm_mm *wmm, void *arg, struct winvm_call *call);

/* view.c */
u32 winvm_view_map(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_view_unmap(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
u32 winvm_view_flush(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
bool winvm_view_prot_allowed(u32 view_prot, u32 prot);
u32 winvm_view_commit(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last, u32 prot);
int winvm_view_make_cow(struct winvm_mm *wmm, struct winvm_alloc *alloc);
vm_fault_t winvm_cow_fault(struct vm_fault *vmf, struct winvm_alloc *alloc, u32 st,
			   u32 access);
struct file *winvm_cow_file(struct winvm_section *sec);
vm_fault_t winvm_cow_mkwrite(struct vm_fault *vmf, struct winvm_alloc *alloc, u32 st);
struct page *winvm_section_page(struct winvm_alloc *alloc, pgoff_t idx);

/* fault.c */
u32 winvm_fault_info(struct winvm_mm *wmm, void *arg, struct winvm_call *call);
vm_fault_t winvm_fault(struct vm_fault *vmf);
vm_fault_t winvm_page_mkwrite(struct vm_fault *vmf);

#endif /* WINVM_INTERNAL_H */
