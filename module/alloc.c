// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allocation object: its page-state tree, the VMAs that show it, and
 * the VMA surgery (always through vm_mmap/vm_munmap) that keeps the VMAs in
 * step with the state.
 */

#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/mount.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "winvm.h"

#ifdef WINVM_HAVE_VM_FLAGS_SET
#define winvm_vm_flags_set(vma, f)	vm_flags_set(vma, f)
#define winvm_vm_flags_clear(vma, f)	vm_flags_clear(vma, f)
#else
static inline void winvm_vm_flags_set(struct vm_area_struct *vma, unsigned long f)
{
	vma->vm_flags |= f;
}

static inline void winvm_vm_flags_clear(struct vm_area_struct *vma, unsigned long f)
{
	vma->vm_flags &= ~f;
}
#endif

/* A new allocation object; takes over the caller's reference on @shm. */
static struct winvm_alloc *winvm_alloc_new(struct winvm_mm *wmm, struct file *shm,
					   u32 protect)
{
	struct winvm_alloc *alloc;

	alloc = kzalloc(sizeof(*alloc), GFP_KERNEL_ACCOUNT);
	if (!alloc) {
		fput(shm);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&alloc->ref);
	mutex_init(&alloc->state_lock);
	mt_init_flags(&alloc->pages, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&alloc->pages, &alloc->state_lock);
	kref_get(&wmm->ref);
	alloc->wmm = wmm;
	alloc->shm = shm;
	alloc->alloc_protect = protect;
	alloc->type = WINVM_MEM_PRIVATE;
	return alloc;
}

struct winvm_alloc *winvm_alloc_create(struct winvm_mm *wmm, unsigned long size,
				       u32 protect)
{
	struct winvm_alloc *alloc;
	struct file *shm;

	/* VM_NORESERVE: pages are charged to the toucher's memcg as they appear. */
	shm = winvm_shmem_file("winvm", size);
	if (IS_ERR(shm))
		return ERR_CAST(shm);
	alloc = winvm_alloc_new(wmm, shm, protect);
	if (IS_ERR(alloc))
		return alloc;
	alloc->size = size;
	alloc->cache_attr = protect & (WINVM_PAGE_NOCACHE | WINVM_PAGE_WRITECOMBINE);
	return alloc;
}

/* A view of @sec; write-copy views get their private file at once. */
struct winvm_alloc *winvm_view_create(struct winvm_mm *wmm, struct winvm_section *sec,
				      u32 view_prot)
{
	bool cow = view_prot == WINVM_PAGE_WRITECOPY ||
		   view_prot == WINVM_PAGE_EXECUTE_WRITECOPY;
	bool writes = view_prot == WINVM_PAGE_READWRITE ||
		      view_prot == WINVM_PAGE_EXECUTE_READWRITE;
	struct winvm_alloc *alloc;
	struct file *shm, *copies = NULL;

	/*
	 * A view that may not write the section maps it through a read-only
	 * file, so nothing done to the VMA (MADV_REMOVE, say) can reach the
	 * section's data with write access.
	 */
	shm = writes ? get_file(sec->file) : winvm_section_ro_file(sec);
	if (IS_ERR(shm))
		return ERR_CAST(shm);
	if (cow) {
		copies = winvm_cow_file(sec);
		if (IS_ERR(copies)) {
			fput(shm);
			return ERR_CAST(copies);
		}
	}
	alloc = winvm_alloc_new(wmm, shm, view_prot);
	if (IS_ERR(alloc)) {
		if (copies)
			fput(copies);
		return alloc;
	}
	kref_get(&sec->ref);
	alloc->section = sec;
	alloc->type = WINVM_MEM_MAPPED;
	alloc->cow_file = copies;
	/* SEC_NOCACHE views report PAGE_NOCACHE (fact 116). */
	if (sec->attributes & WINVM_SEC_NOCACHE)
		alloc->cache_attr = WINVM_PAGE_NOCACHE;
	else if (sec->attributes & WINVM_SEC_WRITECOMBINE)
		alloc->cache_attr = WINVM_PAGE_WRITECOMBINE;
	return alloc;
}

static void winvm_alloc_release(struct kref *ref)
{
	struct winvm_alloc *alloc = container_of(ref, struct winvm_alloc, ref);

	/* The tree uses our mutex, not its own spinlock: no mtree_destroy(). */
	mutex_lock(&alloc->state_lock);
	__mt_destroy(&alloc->pages);
	atomic_long_sub(alloc->runs, &alloc->wmm->runs);
	mutex_unlock(&alloc->state_lock);
	fput(alloc->shm);
	if (alloc->data)
		fput(alloc->data);
	if (alloc->cow_file)
		fput(alloc->cow_file);
	if (alloc->section)
		winvm_section_put(alloc->section);
	winvm_mm_put(alloc->wmm);
	kfree(alloc);
}

void winvm_alloc_put(struct winvm_alloc *alloc)
{
	kref_put(&alloc->ref, winvm_alloc_release);
}

/* State of page @idx; *first and *last receive the run it belongs to. */
static u32 winvm_state_run(struct winvm_alloc *alloc, pgoff_t idx,
			   pgoff_t *first, pgoff_t *last)
{
	MA_STATE(mas, &alloc->pages, idx, idx);
	void *entry;

	lockdep_assert_held(&alloc->state_lock);
	entry = mas_walk(&mas);
	if (first)
		*first = mas.index;
	if (last)
		*last = mas.last;
	return entry ? xa_to_value(entry) : 0;
}

/*
 * State of page @idx, with *next set to the first page after its run, but
 * no further than @limit: iterate with
 * for (i = a; i < b; i = next) st = winvm_state_span(alloc, i, b, &next);
 */
u32 winvm_state_span(struct winvm_alloc *alloc, pgoff_t idx, pgoff_t limit, pgoff_t *next)
{
	pgoff_t last;
	u32 st = winvm_state_run(alloc, idx, NULL, &last);

	*next = last >= limit - 1 ? limit : last + 1;
	return st;
}

/*
 * Every run of per-page state costs kernel memory that no cgroup is charged
 * for (the maple tree preallocates its nodes without __GFP_ACCOUNT), so a
 * process may hold only so many.  Windows bounds its VADs and PTEs too.
 */
static unsigned long max_runs = 1UL << 20;
module_param(max_runs, ulong, 0644);
MODULE_PARM_DESC(max_runs, "Most runs of per-page state one process may hold");

/*
 * Store @st for pages [first, last], merging with equal neighbours so that
 * a run in the tree is always a maximal run of identical pages (queries
 * read RegionSize straight off the tree).  The committed-page and run
 * counts are kept current on the way.  @capped
 * refuses to grow past max_runs (fault paths may not fail that way).
 */
static int __winvm_state_set(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last,
			     u32 st, bool capped)
{
	MA_STATE(mas, &alloc->pages, first, last);
	pgoff_t f, l, rf, rl, idx;
	long committed = 0, runs = st ? 1 : 0;
	u32 cur;
	int ret;

	lockdep_assert_held(&alloc->state_lock);
	for (idx = first; ; idx = rl + 1) {
		/* A range may hold as many runs as max_runs allows. */
		cond_resched();
		cur = winvm_state_run(alloc, idx, &rf, &rl);
		if (cur) {
			/* This run goes; what sticks out on either side stays. */
			runs += (rf < first) + (rl > last) - 1;
			if (cur & WINVM_PS_COMMIT)
				committed -= min(rl, last) - max(rf, first) + 1;
		}
		if (rl >= last)
			break;
	}
	if (st & WINVM_PS_COMMIT)
		committed += last - first + 1;
	if (st) {
		if (first && winvm_state_run(alloc, first - 1, &f, NULL) == st) {
			first = f;
			runs--;
		}
		if (last < ULONG_MAX && winvm_state_run(alloc, last + 1, NULL, &l) == st) {
			last = l;
			runs--;
		}
	}
	if (capped && runs > 0 &&
	    atomic_long_read(&alloc->wmm->runs) + runs > READ_ONCE(max_runs))
		return -ENOMEM;
	mas_set_range(&mas, first, last);
	ret = mas_store_gfp(&mas, st ? xa_mk_value(st) : NULL, GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret;
	alloc->committed += committed;
	alloc->runs += runs;
	atomic_long_add(runs, &alloc->wmm->runs);
	return 0;
}

int winvm_state_set(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last, u32 st)
{
	return __winvm_state_set(alloc, first, last, st, true);
}

/* For the fault path, which must not fail on the run limit. */
int winvm_state_set_nocap(struct winvm_alloc *alloc, pgoff_t first, pgoff_t last, u32 st)
{
	return __winvm_state_set(alloc, first, last, st, false);
}

/* Is page @idx of @sec committed?  *next ends the run, at most @limit. */
static bool winvm_section_committed(struct winvm_section *sec, pgoff_t idx,
				    pgoff_t limit, pgoff_t *next)
{
	MA_STATE(mas, &sec->committed, idx, idx);
	void *entry;

	mutex_lock(&sec->commit_lock);
	entry = mas_walk(&mas);
	*next = mas.last >= limit - 1 ? limit : mas.last + 1;
	mutex_unlock(&sec->commit_lock);
	return entry;
}

/*
 * The state a page really has.  Private memory keeps it all in its tree.
 * A view keeps only per-view protections there; whether a page is
 * committed is the section's business, and pages without a protection of
 * their own show the view's.
 */
u32 winvm_eff_span(struct winvm_alloc *alloc, pgoff_t idx, pgoff_t limit, pgoff_t *next)
{
	struct winvm_section *sec = alloc->section;
	u32 st = winvm_state_span(alloc, idx, limit, next);

	if (!sec || (st & WINVM_PS_COMMIT))
		return st;
	if (sec->reserve && !winvm_section_committed(sec, idx, *next, next))
		return 0;
	return WINVM_PS_COMMIT | alloc->alloc_protect;
}

u32 winvm_visible_protect(const struct winvm_alloc *alloc, u32 st)
{
	u32 prot;

	if (!(st & WINVM_PS_COMMIT))
		return 0;
	prot = st & (WINVM_PS_PROT | WINVM_PS_GUARD);
	/* A page this view has copied is simply its own read-write page. */
	if (st & WINVM_PS_COPIED) {
		if ((prot & WINVM_PS_PROT) == WINVM_PAGE_WRITECOPY)
			prot ^= WINVM_PAGE_WRITECOPY | WINVM_PAGE_READWRITE;
		else if ((prot & WINVM_PS_PROT) == WINVM_PAGE_EXECUTE_WRITECOPY)
			prot ^= WINVM_PAGE_EXECUTE_WRITECOPY | WINVM_PAGE_EXECUTE_READWRITE;
	}
	/* Cache attributes belong to the allocation (they stick, fact 25). */
	if ((prot & WINVM_PS_PROT) != WINVM_PAGE_NOACCESS)
		prot |= alloc->cache_attr;
	return prot;
}

bool winvm_is_exec_prot(u32 prot)
{
	return prot & (WINVM_PAGE_EXECUTE | WINVM_PAGE_EXECUTE_READ |
		       WINVM_PAGE_EXECUTE_READWRITE | WINVM_PAGE_EXECUTE_WRITECOPY);
}

static bool winvm_vma_is(struct vm_area_struct *vma, struct winvm_alloc *alloc)
{
	return vma->vm_ops == &winvm_vm_ops && vma->vm_private_data == alloc;
}

/*
 * The allocation of @wmm mapped at @addr, or NULL.  A VMA copied into a
 * child by fork after MADV_DOFORK still points at the parent's allocation;
 * it is not the child's to change.  Caller holds mmap_lock.
 */
struct winvm_alloc *winvm_find_alloc(struct winvm_mm *wmm, unsigned long addr)
{
	mmap_assert_locked(wmm->mm);
	return winvm_vma_alloc(vma_lookup(wmm->mm, addr), wmm);
}

/* The allocation of @wmm that @vma maps, or NULL (@vma may be NULL). */
struct winvm_alloc *winvm_vma_alloc(struct vm_area_struct *vma, struct winvm_mm *wmm)
{
	struct winvm_alloc *alloc;

	if (!vma || vma->vm_ops != &winvm_vm_ops)
		return NULL;
	alloc = vma->vm_private_data;
	return alloc->wmm == wmm ? alloc : NULL;
}

/*
 * Unmap the VMAs of @alloc in [start, end), and nothing else: a native
 * munmap of one whole VMA of a split allocation cannot be refused, and the
 * hole it leaves may hold someone else's mapping by now.
 */
int winvm_unmap_own(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long s, e;
	int ret = 0;

	lockdep_assert_held(&wmm->op_lock);
	while (start < end && !ret) {
		mmap_read_lock(wmm->mm);
		vma = find_vma(wmm->mm, start);
		while (vma && vma->vm_start < end && !winvm_vma_is(vma, alloc))
			vma = find_vma(wmm->mm, vma->vm_end);
		if (!vma || vma->vm_start >= end) {
			mmap_read_unlock(wmm->mm);
			break;
		}
		s = max(start, vma->vm_start);
		/* Take a run of our VMAs in one go. */
		for (e = vma->vm_end; e < end; e = vma->vm_end) {
			vma = vma_lookup(wmm->mm, e);
			if (!vma || !winvm_vma_is(vma, alloc))
				break;
		}
		e = min(e, end);
		mmap_read_unlock(wmm->mm);
		alloc->surgeon = current;
		ret = vm_munmap(s, e - s);
		alloc->surgeon = NULL;
		start = e;
	}
	return ret;
}

/* End of the run of @alloc's VMAs that starts at or before @addr. */
unsigned long winvm_alloc_mapped_end(struct mm_struct *mm, struct winvm_alloc *alloc,
				     unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	for (;;) {
		vma = vma_lookup(mm, addr);
		if (!vma || !winvm_vma_is(vma, alloc))
			return addr;
		addr = vma->vm_end;
	}
}

bool winvm_alloc_covers(struct mm_struct *mm, struct winvm_alloc *alloc,
			unsigned long start, unsigned long end)
{
	return start < end && winvm_alloc_mapped_end(mm, alloc, start) >= end;
}

/*
 * Drop the PTEs of [start, end) in every view of the pages, so the next
 * access goes through ->fault again.  Lossless: the data stays in shmem.
 */
void winvm_zap(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	/*
	 * Through the file the VMAs really map: an overlayfs file's own
	 * mapping has no VMAs in it, the real file's has ours.
	 */
	struct file *file = alloc->data ? alloc->data : alloc->shm;

	mmap_assert_locked(alloc->wmm->mm);
	unmap_mapping_range(file->f_mapping,
			    (loff_t)winvm_pgoff(alloc, start) << PAGE_SHIFT,
			    end - start, 1);
}

/* Free the contents of [start, end); called without mmap_lock (i_rwsem nests outside it). */
int winvm_punch(struct winvm_alloc *alloc, unsigned long start, unsigned long end)
{
	return vfs_fallocate(alloc->shm, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     (loff_t)winvm_pgoff(alloc, start) << PAGE_SHIFT,
			     end - start);
}

/* Drop the PTEs of one VMA's range (mmap_lock held). */
void winvm_zap_vma(struct vm_area_struct *vma, unsigned long addr, unsigned long len)
{
#ifdef WINVM_HAVE_ZAP_PAGE_RANGE
	zap_page_range(vma, addr, len);
#else
	zap_page_range_single(vma, addr, len, NULL);
#endif
}

bool winvm_alloc_writable(const struct winvm_alloc *alloc)
{
	return !alloc->section || alloc->cow_file ||
	       alloc->alloc_protect == WINVM_PAGE_READWRITE ||
	       alloc->alloc_protect == WINVM_PAGE_EXECUTE_READWRITE;
}

/*
 * A view is about to map [addr, addr + len) of a caller's file: let the
 * kernel's mmap path check that file as mmap(2) would (filecheck.c).  The
 * probe maps the file the view maps (alloc->shm: a read-only reopen for a
 * view that may not write the section), never the creator's fd: between
 * the probe and winvm's VMA another thread can mremap or fork the probe
 * away and keep it, and then it must give no more than the view does.  A
 * write-copy view writes only private copies, so it is checked as a
 * private writable mapping, as MAP_PRIVATE would be.
 */
static int winvm_view_probe(struct winvm_alloc *alloc, unsigned long addr,
			    unsigned long len, unsigned long prot, bool fixed,
			    struct winvm_probe *p)
{
	struct winvm_section *sec = alloc->section;
	bool shared = alloc->shm->f_mode & FMODE_WRITE;

	p->addr = 0;
	/* Pagefile-backed sections are our own shmem: no caller's file. */
	if (!sec || !(sec->attributes & WINVM_SEC_FILE))
		return 0;
	/* A new range is probed in place; surgery's range is ours already. */
	return winvm_probe_begin(p, alloc->shm, fixed ? 0 : addr, len,
				 (u64)winvm_pgoff(alloc, addr) << PAGE_SHIFT, prot,
				 shared || !alloc->cow_file ? MAP_SHARED : MAP_PRIVATE);
}

/*
 * Map [addr, addr + len) of @alloc with vm_mmap() of the mapper file.
 * @fixed replaces what is there (our own VMAs, during surgery); otherwise
 * the range must be free.
 */
int winvm_map_range(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long addr, unsigned long len, bool exec, bool fixed)
{
	unsigned long prot = PROT_READ | (exec ? PROT_EXEC : 0);
	unsigned long flags = MAP_SHARED | (fixed ? MAP_FIXED : MAP_FIXED_NOREPLACE);
	struct file *mapper = wmm->mapper_ro;
	struct winvm_probe probe;
	unsigned long ret;
	int tries;

	lockdep_assert_held(&wmm->op_lock);
	/* Views that can never write their section get no VM_WRITE at all. */
	if (winvm_alloc_writable(alloc)) {
		prot |= PROT_WRITE;
		mapper = wmm->mapper;
	}
	ret = winvm_view_probe(alloc, addr, len, prot, fixed, &probe);
	if (ret)
		return (int)ret;
	if (probe.addr && probe.addr == addr)
		flags = MAP_SHARED | MAP_FIXED;	/* our VMA replaces the probe */
	wmm->map_alloc = alloc;
	alloc->surgeon = current;
	/*
	 * A failed MAP_FIXED may already have unmapped the old VMAs (6.1 does
	 * that first); rather than leave a hole in the allocation, try again:
	 * allocation failures are mostly transient.
	 */
	for (tries = 0; tries < (fixed ? 3 : 1); tries++) {
		ret = vm_mmap(mapper, addr, len, prot, flags,
			      (unsigned long)winvm_pgoff(alloc, addr) << PAGE_SHIFT);
		/* The VMA is linked (or gone): its own count holds writers now. */
		if (wmm->map_writable) {
			mapping_unmap_writable(wmm->map_writable);
			wmm->map_writable = NULL;
		}
		if (ret != (unsigned long)-ENOMEM)
			break;
	}
	alloc->surgeon = NULL;
	wmm->map_alloc = NULL;
	winvm_probe_end(&probe);
	if (IS_ERR_VALUE(ret))
		return (int)ret;
	if (WARN_ON_ONCE(ret != addr))
		return -EFAULT;
	return 0;
}

struct winvm_run {
	unsigned long start, end;
	int cls;		/* 1 exec, 0 not, -1 either (reserved pages) */
};

struct winvm_runs {
	struct winvm_run *v;
	unsigned int n, cap;
};

static int winvm_runs_add(struct winvm_runs *r, unsigned long start,
			  unsigned long end, int cls, bool merge)
{
	struct winvm_run *v;

	if (merge && r->n && r->v[r->n - 1].end == start && r->v[r->n - 1].cls == cls) {
		r->v[r->n - 1].end = end;
		return 0;
	}
	if (r->n == r->cap) {
		/*
		 * As many runs as the caller made VMAs or page-state runs: grow
		 * by hand with kvmalloc, since krealloc warns past the page
		 * allocator's largest order and kvrealloc differs by kernel.
		 */
		unsigned int cap = r->cap ? r->cap * 2 : 16;

		v = kvmalloc_array(cap, sizeof(*v), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!v)
			return -ENOMEM;
		if (r->n)
			memcpy(v, r->v, r->n * sizeof(*v));
		kvfree(r->v);
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct winvm_run){ start, end, cls };
	return 0;
}

/* Map every VMA of @alloc anew, e.g. after its backing file changed. */
int winvm_remap_all(struct winvm_mm *wmm, struct winvm_alloc *alloc)
{
	struct winvm_runs have = {};
	struct vm_area_struct *vma;
	unsigned long pos;
	unsigned int i;
	int ret = 0;

	mmap_read_lock(wmm->mm);
	for (pos = alloc->base; (vma = find_vma(wmm->mm, pos)) &&
	     vma->vm_start < alloc->base + alloc->size; pos = vma->vm_end) {
		if (!winvm_vma_is(vma, alloc))
			continue;
		ret = winvm_runs_add(&have, vma->vm_start, vma->vm_end,
				     !!(vma->vm_flags & VM_EXEC), false);
		if (ret)
			break;
	}
	mmap_read_unlock(wmm->mm);
	for (i = 0; i < have.n && !ret; i++)
		ret = winvm_map_range(wmm, alloc, have.v[i].start,
				      have.v[i].end - have.v[i].start, have.v[i].cls, true);
	kvfree(have.v);
	return ret;
}

/*
 * Work out the execute class each page of [start, end) needs: committed
 * executable pages need an exec VMA, other committed pages a non-exec one,
 * reserved pages take whatever their neighbour has so VMAs stay few.
 */
static int winvm_exec_plan(struct winvm_alloc *alloc, unsigned long start,
			   unsigned long end, int fallback, struct winvm_runs *plan)
{
	pgoff_t idx, next, stop = winvm_pgoff(alloc, end);
	unsigned int i, j;
	int ret = 0, cls;
	u32 st;

	mutex_lock(&alloc->state_lock);
	for (idx = winvm_pgoff(alloc, start); idx < stop && !ret; idx = next) {
		cond_resched();
		st = winvm_eff_span(alloc, idx, stop, &next);
		if (!(st & WINVM_PS_COMMIT))
			cls = -1;
		else
			cls = winvm_is_exec_prot(st & WINVM_PS_PROT);
		ret = winvm_runs_add(plan, alloc->origin + (idx << PAGE_SHIFT),
				     alloc->origin + (next << PAGE_SHIFT), cls, true);
	}
	mutex_unlock(&alloc->state_lock);
	if (ret)
		return ret;

	/* Don't-care runs inherit from the left, leading ones from the right. */
	cls = fallback;
	for (i = 0; i < plan->n; i++)
		if (plan->v[i].cls >= 0) {
			cls = plan->v[i].cls;
			break;
		}
	for (i = 0; i < plan->n; i++) {
		if (plan->v[i].cls < 0)
			plan->v[i].cls = cls;
		cls = plan->v[i].cls;
	}
	/* Merge neighbours that now agree, in one pass (n is caller-sized). */
	for (i = 1, j = 0; i < plan->n; i++) {
		if (plan->v[i].cls == plan->v[j].cls)
			plan->v[j].end = plan->v[i].end;
		else
			plan->v[++j] = plan->v[i];
	}
	if (plan->n)
		plan->n = j + 1;
	return 0;
}

/*
 * Make the VMAs around [start, end) carry VM_EXEC exactly where the pages
 * are executable.  Only the VMAs touching the range are considered, so the
 * cost follows the change, not the size of the allocation.
 */
int winvm_sync_exec(struct winvm_mm *wmm, struct winvm_alloc *alloc,
		    unsigned long start, unsigned long end)
{
	struct mm_struct *mm = wmm->mm;
	struct winvm_runs have = {}, plan = {};
	struct vm_area_struct *vma;
	unsigned long lo, hi, pos;
	unsigned int i, j;
	int ret = 0;

	lockdep_assert_held(&wmm->op_lock);
	mmap_read_lock(mm);
	lo = start;
	vma = start > alloc->base ? vma_lookup(mm, start - 1) : NULL;
	if (vma && winvm_vma_is(vma, alloc))
		lo = vma->vm_start;
	pos = lo;
	while ((vma = vma_lookup(mm, pos)) && winvm_vma_is(vma, alloc)) {
		ret = winvm_runs_add(&have, vma->vm_start, vma->vm_end,
				     !!(vma->vm_flags & VM_EXEC), false);
		if (ret)
			break;
		pos = vma->vm_end;
		if (pos > end)
			break;
	}
	hi = pos;
	if (!ret && lo < hi)
		ret = winvm_exec_plan(alloc, lo, hi, have.n ? have.v[0].cls : 0, &plan);
	mmap_read_unlock(mm);
	if (ret || lo >= hi)
		goto out;

	/*
	 * A planned run is fine as it is only if exactly one existing VMA
	 * matches it; anything else is remapped, which also merges VMAs that
	 * were split earlier and now agree again.
	 */
	/* Both lists are sorted by address: walk them together (n is caller-sized). */
	for (i = 0, j = 0; i < plan.n && !ret; i++) {
		while (j < have.n && have.v[j].start < plan.v[i].start)
			j++;
		if (j < have.n && have.v[j].start == plan.v[i].start &&
		    have.v[j].end == plan.v[i].end && have.v[j].cls == plan.v[i].cls)
			continue;
		ret = winvm_map_range(wmm, alloc, plan.v[i].start,
				      plan.v[i].end - plan.v[i].start, plan.v[i].cls, true);
		cond_resched();
	}
out:
	kvfree(have.v);
	kvfree(plan.v);
	return ret;
}

/*
 * NT partial release, first half: a new allocation for the pages from @at
 * on, holding a copy of their state and sharing the shmem file.  Nothing
 * of @alloc changes yet, so a failure here leaves the caller free to give
 * up cleanly.  Called with op_lock held, before anything is unmapped.
 */
struct winvm_alloc *winvm_alloc_split_prepare(struct winvm_alloc *alloc, unsigned long at)
{
	unsigned long end = alloc->base + alloc->size;
	struct winvm_alloc *tail;
	pgoff_t idx, next, stop;
	u32 st;
	int ret = 0;

	tail = kzalloc(sizeof(*tail), GFP_KERNEL_ACCOUNT);
	if (!tail)
		return ERR_PTR(-ENOMEM);
	kref_init(&tail->ref);
	mutex_init(&tail->state_lock);
	mt_init_flags(&tail->pages, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&tail->pages, &tail->state_lock);
	kref_get(&alloc->wmm->ref);
	tail->wmm = alloc->wmm;
	tail->shm = get_file(alloc->shm);
	if (alloc->data)
		tail->data = get_file(alloc->data);
	tail->shm_ops = alloc->shm_ops;
	tail->origin = alloc->origin;
	tail->base = at;
	tail->size = end - at;
	tail->alloc_protect = alloc->alloc_protect;
	tail->cache_attr = alloc->cache_attr;
	tail->type = alloc->type;

	mutex_lock(&alloc->state_lock);
	mutex_lock_nested(&tail->state_lock, SINGLE_DEPTH_NESTING);
	stop = winvm_pgoff(alloc, end);
	for (idx = winvm_pgoff(alloc, at); idx < stop && !ret; idx = next) {
		st = winvm_state_span(alloc, idx, stop, &next);
		if (st)
			ret = winvm_state_set_nocap(tail, idx, next - 1, st);
	}
	mutex_unlock(&tail->state_lock);
	mutex_unlock(&alloc->state_lock);
	if (ret) {
		winvm_alloc_put(tail);
		return ERR_PTR(ret);
	}
	return tail;
}

/*
 * Second half, once [.., at) and [at, ..) are separate VMAs: the tail's
 * VMAs move to @tail and @alloc ends at @at.  Cannot fail.  Called with
 * op_lock and mmap_lock (write) held.
 */
void winvm_alloc_split_commit(struct winvm_alloc *alloc, struct winvm_alloc *tail,
			      unsigned long at)
{
	struct mm_struct *mm = alloc->wmm->mm;
	unsigned long end = alloc->base + alloc->size;
	struct vm_area_struct *vma;

	mmap_assert_write_locked(mm);
	mutex_lock(&alloc->state_lock);
	/* Left-over entries past the new end would be harmless: ignore a failure. */
	winvm_state_set_nocap(alloc, winvm_pgoff(alloc, at), winvm_pgoff(alloc, end) - 1, 0);
	alloc->size = at - alloc->base;
	mutex_unlock(&alloc->state_lock);

	for (vma = find_vma(mm, at); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		if (!winvm_vma_is(vma, alloc))
			continue;
		vma->vm_private_data = tail;
		kref_get(&tail->ref);
		/* Cannot drop the last reference: the caller holds one. */
		winvm_alloc_put(alloc);
	}
}

static void winvm_vm_open(struct vm_area_struct *vma)
{
	struct winvm_alloc *alloc = vma->vm_private_data;

	/* A split, or a copy into a child after MADV_DOFORK; see ->fault. */
	kref_get(&alloc->ref);
}

static void winvm_vm_close(struct vm_area_struct *vma)
{
	winvm_alloc_put(vma->vm_private_data);
}

/* Only winvm's own surgery may split; a user munmap/mremap of part fails. */
static int winvm_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	struct winvm_alloc *alloc = vma->vm_private_data;

	return READ_ONCE(alloc->surgeon) == current ? 0 : -EINVAL;
}

/* Protections are winvm's to set (MEM_PROTECT); mprotect would bypass them. */
static int winvm_vm_mprotect(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end, unsigned long newflags)
{
	return -EACCES;
}

static int winvm_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

const struct vm_operations_struct winvm_vm_ops = {
	.open		= winvm_vm_open,
	.close		= winvm_vm_close,
	.may_split	= winvm_vm_may_split,
	.mprotect	= winvm_vm_mprotect,
	.mremap		= winvm_vm_mremap,
	.fault		= winvm_fault,
	.page_mkwrite	= winvm_page_mkwrite,
};

/*
 * After the backing file's ->mmap: take the VMA over if what it made is
 * ordinary page cache, and, for a VM_SHARED VMA, register it as a writer
 * of that file the way mmap_region() does for the file it maps
 * (mapping_map_writable(), which fails on F_SEAL_WRITE; the VMA's own count
 * replaces it once linked, see winvm_map_range()).  The core counts a
 * VM_SHARED VMA as a writer even when it may not write (6.1), so this
 * applies to write-copy views too.
 */
static int winvm_vma_take(struct winvm_mm *wmm, struct winvm_alloc *alloc,
			  struct vm_area_struct *vma)
{
	int ret = winvm_vma_backable(vma);

	if (ret)
		return ret;
	/* Every VMA of an allocation maps the same data, whatever ->mmap does. */
	if (alloc->data && file_inode(alloc->data) != file_inode(vma->vm_file))
		return -EINVAL;
	if (vma->vm_flags & VM_SHARED) {
		ret = mapping_map_writable(vma->vm_file->f_mapping);
		if (ret)
			return ret;
		wmm->map_writable = vma->vm_file->f_mapping;
	}
	if (!alloc->data)
		alloc->data = get_file(vma->vm_file);
	alloc->shm_ops = vma->vm_ops;
	vma->vm_ops = &winvm_vm_ops;
	vma->vm_private_data = alloc;
	kref_get(&alloc->ref);
	return 0;
}

/*
 * The mapper files only ever reach vm_mmap() from winvm_map_range(); they
 * trade themselves for the allocation's file and put our vm_ops over that
 * file's.  No ->map_pages: it would map pages without asking ->fault.
 * The kernel's checks of the real file ran in the probe (filecheck.c); the
 * mode and noexec checks here only keep this function safe on its own.
 */
static int winvm_mapper_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct winvm_mm *wmm = file->private_data;
	struct winvm_alloc *alloc = wmm->map_alloc;
	int ret;

	mmap_assert_write_locked(vma->vm_mm);
	if (!alloc || READ_ONCE(alloc->surgeon) != current)
		return -ENODEV;
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/* (Write-copy views write only their private copies.) */
	if ((vma->vm_flags & VM_WRITE) && !(alloc->shm->f_mode & FMODE_WRITE) &&
	    !alloc->cow_file)
		return -EACCES;
	if ((vma->vm_flags & VM_EXEC) && winvm_path_noexec(alloc->shm))
		return -EPERM;
	if (!(vma->vm_flags & VM_WRITE))
		winvm_vm_flags_clear(vma, VM_MAYWRITE);

	winvm_vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_NOHUGEPAGE);
	if (!(vma->vm_flags & VM_EXEC))
		winvm_vm_flags_clear(vma, VM_MAYEXEC);
	vma_set_file(vma, alloc->shm);
	ret = alloc->shm->f_op->mmap(alloc->shm, vma);
	if (ret)
		return ret;
	return winvm_vma_take(wmm, alloc, vma);
}

const struct file_operations winvm_mapper_fops = {
	.owner	= THIS_MODULE,
	.mmap	= winvm_mapper_mmap,
};
