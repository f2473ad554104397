// SPDX-License-Identifier: GPL-2.0-only
/*
 * The section object (NtCreateSection / CreateFileMapping): the shared
 * pages behind views, owning the backing file (a shmem file for
 * pagefile-backed sections, the caller's file otherwise) and, for
 * SEC_RESERVE, which of its pages are committed.  Handles (handle.c) and
 * views hold references.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/mman.h>
#include <linux/slab.h>

#include "winvm.h"

struct winvm_section *winvm_section_alloc(u32 protect, u32 attributes)
{
	struct winvm_section *sec = kzalloc(sizeof(*sec), GFP_KERNEL_ACCOUNT);

	if (!sec)
		return NULL;
	kref_init(&sec->ref);
	mutex_init(&sec->commit_lock);
	/*
	 * Runs outlive the views that commit them (and those views' budget),
	 * so the section has a budget of its own (T-ALLOC).
	 */
	winvm_ps_init(&sec->committed, &sec->commit_lock, &sec->runs);
	sec->protect = protect;
	sec->attributes = attributes;
	return sec;
}

static void winvm_section_release(struct kref *ref)
{
	struct winvm_section *sec = container_of(ref, struct winvm_section, ref);

	winvm_ps_destroy(&sec->committed);
	/* A section that failed half way through creation has no file. */
	if (sec->file)
		fput(sec->file);
	kfree(sec);
}

void winvm_section_put(struct winvm_section *sec)
{
	kref_put(&sec->ref, winvm_section_release);
}

/*
 * A read-only file on the section's data, for views that may not write
 * it: with it as vm_file, nothing done through the VMA can write the
 * section (MADV_REMOVE needs a writable file, for one).
 */
struct file *winvm_section_ro_file(struct winvm_section *sec)
{
	if (!(sec->file->f_mode & FMODE_WRITE))
		return get_file(sec->file);
	return dentry_open(&sec->file->f_path, O_RDONLY | O_LARGEFILE, current_cred());
}

/* Is page @idx of @sec committed?  *next ends the run, at most @limit. */
bool winvm_section_committed(struct winvm_section *sec, pgoff_t idx, pgoff_t limit,
			     pgoff_t *next)
{
	u32 st;

	mutex_lock(&sec->commit_lock);
	st = winvm_ps_span(&sec->committed, idx, limit, next);
	mutex_unlock(&sec->commit_lock);
	return st & WINVM_PS_COMMIT;
}

/* Commit pages [first, last] of a SEC_RESERVE section (for every view). */
int winvm_section_commit(struct winvm_section *sec, pgoff_t first, pgoff_t last)
{
	int ret;

	mutex_lock(&sec->commit_lock);
	ret = winvm_ps_set(&sec->committed, first, last, WINVM_PS_COMMIT);
	mutex_unlock(&sec->commit_lock);
	return ret;
}

/*
 * Would mmap(2) map @file the way views of a @prot section will?  Asked of
 * the kernel itself with a probe mapping (filecheck.c): LSMs and IMA, seals,
 * append-only and the rest answer here, at NtCreateSection, as Windows
 * checks the file's access when the section is made.  Every view asks
 * again for its own protection.
 */
static int winvm_section_file_probe(struct file *file, u32 prot)
{
	unsigned long mprot = PROT_READ;
	struct winvm_probe probe;
	int ret;

	if (winvm_prot_writes(prot))
		mprot |= PROT_WRITE;
	if (winvm_prot_is_exec(prot))
		mprot |= PROT_EXEC;
	/* Write-copy sections only ever have private-writing views. */
	ret = winvm_probe_begin(&probe, file, 0, PAGE_SIZE, 0, mprot,
				winvm_prot_is_copy(prot) ? MAP_PRIVATE : MAP_SHARED);
	winvm_probe_end(&probe, NULL);
	/* The file's own ->mmap refused the arguments: not a file to map. */
	return ret == -EINVAL ? -ENODEV : ret;
}

/*
 * Size the section over @file: its size, or @size, which may grow a file
 * that writable views map (rules R88-R90).
 */
static int winvm_section_file_size(struct file *file, u32 prot, u64 *size)
{
	loff_t isize = i_size_read(file_inode(file));

	if (!*size) {
		if (!isize)
			return -ENODATA;
		*size = isize;
		return 0;
	}
	if (*size <= isize)
		return 0;
	if (!winvm_prot_writes(prot) || *size > MAX_LFS_FILESIZE)
		return -EFBIG;
	return vfs_truncate(&file->f_path, *size) ? -EFBIG : 0;
}

/*
 * The caller's file as a section backing store (rules R85, R88-R90).
 * -ENODEV: not a file a section can map; -ENODATA: an empty file and no
 * size; -EFBIG: too small and not to be grown.
 */
static int winvm_section_file(struct winvm_section *sec, int fd, u64 *size)
{
	struct file *file = fget(fd);
	int ret;

	if (!file)
		return -EBADF;
	/* An allow-list of ordinary page-cache files (filecheck.c, T-FILE). */
	ret = winvm_file_backable(file) ? 0 : -ENODEV;
	if (!ret && !winvm_prot_fits_fd(sec->protect, file->f_mode))
		ret = -EACCES;
	/* The fd's mode, noexec and the rest: mmap's own answer (T-MMAP). */
	if (!ret)
		ret = winvm_section_file_probe(file, sec->protect);
	if (!ret)
		ret = winvm_section_file_size(file, sec->protect, size);
	if (ret) {
		fput(file);
		return ret;
	}
	sec->file = file;
	return 0;
}

/* The section's data: the caller's file @fd, or our own shmem if @fd < 0. */
int winvm_section_backing(struct winvm_section *sec, int fd, u64 size)
{
	int ret;

	if (fd >= 0) {
		ret = winvm_section_file(sec, fd, &size);
		if (ret)
			return ret;
	} else {
		size = PAGE_ALIGN(size);
		sec->file = winvm_shmem_file("winvm-section", size);
		if (IS_ERR(sec->file)) {
			sec->file = NULL;
			return -ENOMEM;
		}
		sec->reserve = sec->attributes & WINVM_SEC_RESERVE;
	}
	sec->size = size;
	return 0;
}
