// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section objects (NtCreateSection / CreateFileMapping): file descriptors
 * on winvm's pseudo filesystem, each carrying its granted access, all
 * pointing at one refcounted winvm_section that owns the backing file (a
 * shmem file for pagefile-backed sections, the caller's file otherwise),
 * plus the name table.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "winvm.h"

#define WINVM_SECTION_ACCESS_ALL	0x000f001fU
#define WINVM_SECTION_RIGHTS		0x1fU

/*
 * Names of sections.  winvm_names_lock protects the list, every
 * winvm_section.name and every winvm_section.handles, so that a lookup can
 * never revive a section whose last handle is closing.
 */
static DEFINE_MUTEX(winvm_names_lock);
/*
 * Hashed by (namespace, uid, name): a lookup costs the same however many
 * names other users made (one user must not slow everybody's opens).
 */
static DEFINE_HASHTABLE(winvm_names, 10);

struct winvm_name {
	struct hlist_node node;
	struct user_namespace *ns;	/* NULL in the global namespace */
	kuid_t uid;			/* creator's euid; the key of a local name */
	u32 world;			/* SECTION_* rights of other users (Global) */
	u32 len;
	u32 hash;
	struct winvm_section *sec;
	char str[];
};

static void winvm_section_release(struct kref *ref)
{
	struct winvm_section *sec = container_of(ref, struct winvm_section, ref);

	mutex_lock(&sec->commit_lock);
	__mt_destroy(&sec->committed);
	mutex_unlock(&sec->commit_lock);
	/* A section that failed half way through creation has no file. */
	if (sec->file)
		fput(sec->file);
	kfree(sec);
}

void winvm_section_put(struct winvm_section *sec)
{
	kref_put(&sec->ref, winvm_section_release);
}

/* One handle of @sec is gone: the last one takes the name with it (fact 93). */
static void winvm_handle_drop(struct winvm_section *sec)
{
	struct winvm_name *name = NULL;

	mutex_lock(&winvm_names_lock);
	if (!--sec->handles && sec->name) {
		name = sec->name;
		hash_del(&name->node);
		sec->name = NULL;
	}
	mutex_unlock(&winvm_names_lock);
	if (name) {
		if (name->ns)
			put_user_ns(name->ns);
		kfree(name);
	}
	winvm_section_put(sec);
}

static int winvm_handle_release(struct inode *inode, struct file *file)
{
	struct winvm_handle *h = file->private_data;

	winvm_handle_drop(h->sec);
	kfree(h);
	return 0;
}

static const struct file_operations winvm_section_fops = {
	.owner		= THIS_MODULE,
	.release	= winvm_handle_release,
};

/* The section behind @fd with a reference, or NULL with *status set. */
struct winvm_section *winvm_section_get(int fd, u32 *access, u32 *status)
{
	struct winvm_handle *h;
	struct winvm_section *sec;
	struct file *file = fget(fd);

	if (!file) {
		*status = WINVM_STATUS_INVALID_HANDLE;
		return NULL;
	}
	if (file->f_op != &winvm_section_fops) {
		fput(file);
		*status = WINVM_STATUS_OBJECT_TYPE_MISMATCH;
		return NULL;
	}
	h = file->private_data;
	sec = h->sec;
	kref_get(&sec->ref);
	*access = h->access;
	fput(file);
	return sec;
}

/*
 * A new, not yet installed section file for @sec with @access.  The
 * caller adds to sec->handles under winvm_names_lock before this; the file
 * takes over that count and one section reference.
 */
static int winvm_handle_create(struct winvm_section *sec, u32 access,
			       struct winvm_call *call)
{
	struct winvm_handle *h;
	struct inode *inode;
	struct file *file;
	int fd;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_free;
	if (!try_module_get(THIS_MODULE))
		goto err_fd;
	inode = winvm_new_inode();
	if (IS_ERR(inode))
		goto err_module;
	file = winvm_new_file(inode, "winvm-section", &winvm_section_fops);
	if (IS_ERR(file)) {
		iput(inode);
		goto err_module;
	}
	h->sec = sec;
	h->access = access;
	file->private_data = h;
	call->file = file;
	call->fd = fd;
	return 0;

err_module:
	module_put(THIS_MODULE);
err_fd:
	put_unused_fd(fd);
err_free:
	kfree(h);
	return -ENOMEM;
}

/* Install a handle for @sec, dropping the caller's reference on failure. */
static u32 winvm_handle_new(struct winvm_section *sec, u32 access,
			    struct winvm_call *call, s32 *fd)
{
	mutex_lock(&winvm_names_lock);
	sec->handles++;
	mutex_unlock(&winvm_names_lock);
	if (winvm_handle_create(sec, access, call)) {
		winvm_handle_drop(sec);
		return WINVM_STATUS_NO_MEMORY;
	}
	*fd = call->fd;
	return WINVM_STATUS_SUCCESS;
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

static bool winvm_section_prot_valid(u32 prot)
{
	switch (prot) {
	case WINVM_PAGE_READONLY:
	case WINVM_PAGE_READWRITE:
	case WINVM_PAGE_WRITECOPY:
	case WINVM_PAGE_EXECUTE_READ:
	case WINVM_PAGE_EXECUTE_READWRITE:
	case WINVM_PAGE_EXECUTE_WRITECOPY:
		return true;
	default:
		return false;
	}
}

static bool winvm_prot_writes_file(u32 prot)
{
	return prot == WINVM_PAGE_READWRITE || prot == WINVM_PAGE_EXECUTE_READWRITE;
}

/* SEC_* rules (facts 86, 87); returns the attributes to report, or 0. */
static u32 winvm_section_attrs(u32 attrs, bool file_backed, u32 *status)
{
	u32 cache = attrs & (WINVM_SEC_NOCACHE | WINVM_SEC_WRITECOMBINE);
	u32 kind = attrs & ~cache;

	*status = WINVM_STATUS_INVALID_PARAMETER;
	if (cache == (WINVM_SEC_NOCACHE | WINVM_SEC_WRITECOMBINE))
		return 0;
	if (kind & WINVM_SEC_IMAGE) {
		if (kind != WINVM_SEC_IMAGE)
			return 0;
		/* No PE loader yet: no file is a valid image. */
		*status = WINVM_STATUS_INVALID_IMAGE_NOT_MZ;
		return 0;
	}
	/* No flag at all means SEC_COMMIT; a cache flag alone is invalid. */
	if (!attrs)
		kind = WINVM_SEC_COMMIT;
	if (kind != WINVM_SEC_COMMIT && kind != WINVM_SEC_RESERVE)
		return 0;
	*status = WINVM_STATUS_SUCCESS;
	return (file_backed ? WINVM_SEC_FILE : kind) | cache;
}

static u32 winvm_access_valid(u32 access)
{
	/* FILE_MAP_EXECUTE (0x20) grants SECTION_MAP_EXECUTE. */
	if (access & WINVM_FILE_MAP_EXECUTE)
		access = (access & ~WINVM_FILE_MAP_EXECUTE) | WINVM_SECTION_MAP_EXECUTE;
	return access;
}

/*
 * Would mmap(2) map @file the way views of a @prot section will?  Asked of
 * the kernel itself with a probe mapping (filecheck.c): LSMs and IMA, seals,
 * append-only and the rest answer here, at NtCreateSection, as Windows
 * checks the file's access when the section is made.  Every view asks
 * again for its own protection.
 */
static u32 winvm_section_file_probe(struct file *file, u32 prot)
{
	unsigned long mprot = PROT_READ;
	struct winvm_probe probe;
	int ret;

	if (winvm_prot_writes_file(prot))
		mprot |= PROT_WRITE;
	if (winvm_is_exec_prot(prot))
		mprot |= PROT_EXEC;
	/* Write-copy sections only ever have private-writing views. */
	ret = winvm_probe_begin(&probe, file, 0, PAGE_SIZE, 0, mprot,
				prot == WINVM_PAGE_WRITECOPY ||
				prot == WINVM_PAGE_EXECUTE_WRITECOPY ? MAP_PRIVATE : MAP_SHARED);
	winvm_probe_end(&probe);
	if (!ret)
		return WINVM_STATUS_SUCCESS;
	/* The file's own ->mmap refused the arguments: not a file to map. */
	if (ret == -EINVAL)
		return WINVM_STATUS_INVALID_FILE_FOR_SECTION;
	return winvm_errno_status(ret);
}

/* The caller's file as a section backing store (facts 85, 88-90). */
static u32 winvm_section_file(struct winvm_section *sec, int fd, u64 *size, u32 prot)
{
	struct file *file = fget(fd);
	struct inode *inode;
	loff_t isize;
	u32 status;

	if (!file)
		return WINVM_STATUS_INVALID_HANDLE;
	inode = file_inode(file);
	/* An allow-list of ordinary page-cache files (filecheck.c, T-FILE). */
	if (!winvm_file_backable(file)) {
		fput(file);
		return WINVM_STATUS_INVALID_FILE_FOR_SECTION;
	}
	/* The fd's mode, noexec and the rest: mmap's own answer (T-MMAP). */
	status = winvm_section_file_probe(file, prot);
	if (status) {
		fput(file);
		return status;
	}
	isize = i_size_read(inode);
	if (!*size) {
		if (!isize) {
			fput(file);
			return WINVM_STATUS_MAPPED_FILE_SIZE_ZERO;
		}
		*size = isize;
	} else if (*size > isize) {
		/* A writable mapping larger than the file grows it (fact 90). */
		if (!winvm_prot_writes_file(prot)) {
			fput(file);
			return WINVM_STATUS_SECTION_TOO_BIG;
		}
		if (*size > MAX_LFS_FILESIZE || vfs_truncate(&file->f_path, *size)) {
			fput(file);
			return WINVM_STATUS_SECTION_TOO_BIG;
		}
	}
	sec->file = file;
	return WINVM_STATUS_SUCCESS;
}

static struct winvm_section *winvm_section_alloc(void)
{
	struct winvm_section *sec = kzalloc(sizeof(*sec), GFP_KERNEL_ACCOUNT);

	if (!sec)
		return NULL;
	kref_init(&sec->ref);
	mutex_init(&sec->commit_lock);
	mt_init_flags(&sec->committed, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&sec->committed, &sec->commit_lock);
	return sec;
}

/* Copy and check a name; returns a kmalloc'ed winvm_name or NULL + status. */
static struct winvm_name *winvm_name_get(u64 uptr, u32 len, u32 flags, u32 *status)
{
	struct winvm_name *name;

	*status = WINVM_STATUS_OBJECT_NAME_INVALID;
	if (!len || len > WINVM_NAME_MAX)
		return NULL;
	name = kzalloc(struct_size(name, str, len), GFP_KERNEL_ACCOUNT);
	if (!name) {
		*status = WINVM_STATUS_NO_MEMORY;
		return NULL;
	}
	if (copy_from_user(name->str, u64_to_user_ptr(uptr), len)) {
		kfree(name);
		*status = WINVM_STATUS_ACCESS_VIOLATION;
		return NULL;
	}
	if (memchr(name->str, '\0', len) || memchr(name->str, '\\', len)) {
		kfree(name);
		return NULL;
	}
	name->len = len;
	name->uid = current_euid();
	if (!(flags & WINVM_SECTION_GLOBAL))
		name->ns = get_user_ns(current_user_ns());
	/* Local names are per (namespace, uid); Global ones are one space. */
	name->hash = jhash(name->str, len, name->ns ? from_kuid(&init_user_ns, name->uid) : 0);
	name->hash = jhash_2words(name->hash, (u32)(unsigned long)name->ns, 0);
	*status = WINVM_STATUS_SUCCESS;
	return name;
}

static void winvm_name_free(struct winvm_name *name)
{
	if (name->ns)
		put_user_ns(name->ns);
	kfree(name);
}

static struct winvm_name *winvm_name_find(const struct winvm_name *key)
{
	struct winvm_name *n;

	lockdep_assert_held(&winvm_names_lock);
	hash_for_each_possible(winvm_names, n, node, key->hash) {
		if (n->ns != key->ns || n->len != key->len ||
		    memcmp(n->str, key->str, key->len))
			continue;
		if (n->ns && !uid_eq(n->uid, key->uid))
			continue;
		return n;
	}
	return NULL;
}

/*
 * The rights the caller holds on @n, its security descriptor: everything
 * for the creator's uid and for CAP_SYS_ADMIN (Windows' default DACL grants
 * the creator and the administrators), world_access for everybody else.
 * Local names are found only by their creator's uid, so this matters for
 * Global ones.
 */
static u32 winvm_name_rights(const struct winvm_name *n)
{
	if (uid_eq(n->uid, current_euid()) || capable(CAP_SYS_ADMIN))
		return WINVM_SECTION_ACCESS_ALL;
	return n->world;
}

/*
 * Open the existing section named like @key with @access: a new handle and
 * STATUS_OBJECT_NAME_EXISTS, or OBJECT_NAME_NOT_FOUND, or ACCESS_DENIED
 * when the name's security descriptor or the section's protection does not
 * allow @access (facts 92, 96).  Only an explicit open (@opening) checks
 * the section's protection; CreateFileMapping of an existing name does not.
 */
static u32 winvm_name_open(const struct winvm_name *key, u32 access, bool opening,
			   struct winvm_call *call, s32 *fd)
{
	struct winvm_section *sec = NULL;
	struct winvm_name *n;
	u32 status;

	mutex_lock(&winvm_names_lock);
	n = winvm_name_find(key);
	if (n && !(access & ~winvm_name_rights(n))) {
		sec = n->sec;
		kref_get(&sec->ref);
	}
	mutex_unlock(&winvm_names_lock);
	if (!sec)
		return n ? WINVM_STATUS_ACCESS_DENIED : WINVM_STATUS_OBJECT_NAME_NOT_FOUND;
	if (opening && (access & WINVM_SECTION_MAP_WRITE) &&
	    !winvm_prot_writes_file(sec->protect)) {
		winvm_section_put(sec);
		return WINVM_STATUS_ACCESS_DENIED;
	}
	status = winvm_handle_new(sec, access, call, fd);
	return status ? status : WINVM_STATUS_OBJECT_NAME_EXISTS;
}

/* NtCreateSection's argument checks, in Windows' order; *attrs to report. */
static u32 winvm_section_create_check(const struct winvm_section_create_args *args,
				      u32 *attrs)
{
	u32 status;

	if (args->flags & ~WINVM_SECTION_GLOBAL || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	if ((args->world_access & ~WINVM_SECTION_RIGHTS) ||
	    (args->world_access && (!args->name || !(args->flags & WINVM_SECTION_GLOBAL))))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (!args->name && args->name_len)
		return WINVM_STATUS_OBJECT_NAME_INVALID;
	if (!winvm_section_prot_valid(args->protect))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	*attrs = winvm_section_attrs(args->attributes, args->file_fd >= 0, &status);
	if (status)
		return status;
	if (args->access & ~WINVM_SECTION_ACCESS_ALL)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->file_fd < 0 &&
	    (!args->size || args->size > MAX_LFS_FILESIZE - PAGE_SIZE))
		return WINVM_STATUS_INVALID_PARAMETER;
	return WINVM_STATUS_SUCCESS;
}

/*
 * CreateFileMapping of a name that may exist: the existing section opened
 * subject to its descriptor (fact 92, T-NAME), taking @name with it; or
 * OBJECT_NAME_NOT_FOUND, leaving @name to the caller.  Only making a new
 * Global name takes the privilege.
 */
static u32 winvm_name_existing(struct winvm_name *name,
			       struct winvm_section_create_args *args, u32 access,
			       struct winvm_call *call)
{
	u32 status = winvm_name_open(name, access, false, call, &args->fd);

	if (status == WINVM_STATUS_OBJECT_NAME_NOT_FOUND &&
	    (args->flags & WINVM_SECTION_GLOBAL) && !capable(CAP_SYS_ADMIN))
		status = WINVM_STATUS_PRIVILEGE_NOT_HELD;
	if (status == WINVM_STATUS_OBJECT_NAME_NOT_FOUND)
		return status;
	winvm_name_free(name);
	args->existed = status == WINVM_STATUS_OBJECT_NAME_EXISTS;
	return status;
}

/* The section's data: the caller's file @fd, or our own shmem if @fd < 0. */
static u32 winvm_section_backing(struct winvm_section *sec, int fd, u64 size)
{
	u32 status;

	if (fd >= 0) {
		status = winvm_section_file(sec, fd, &size, sec->protect);
		if (status)
			return status;
	} else {
		size = PAGE_ALIGN(size);
		sec->file = winvm_shmem_file("winvm-section", size);
		if (IS_ERR(sec->file)) {
			sec->file = NULL;
			return WINVM_STATUS_NO_MEMORY;
		}
		sec->reserve = sec->attributes & WINVM_SEC_RESERVE;
	}
	sec->size = size;
	return WINVM_STATUS_SUCCESS;
}

u32 winvm_section_create(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_section_create_args *args = arg;
	struct winvm_name *name = NULL, *old;
	struct winvm_section *sec;
	u32 status, access = args->access, attrs;
	u64 size = args->size;

	args->existed = 0;
	status = winvm_section_create_check(args, &attrs);
	if (status)
		return status;
	if (!access)
		access = WINVM_SECTION_ACCESS_ALL;

	if (args->name) {
		name = winvm_name_get(args->name, args->name_len, args->flags, &status);
		if (!name)
			return status;
		name->world = args->world_access;
		status = winvm_name_existing(name, args, access, call);
		if (status != WINVM_STATUS_OBJECT_NAME_NOT_FOUND)
			return status;
	}

	sec = winvm_section_alloc();
	if (!sec) {
		status = WINVM_STATUS_NO_MEMORY;
		goto err_name;
	}
	sec->protect = args->protect;
	sec->attributes = attrs;
	status = winvm_section_backing(sec, args->file_fd, size);
	if (status)
		goto err_sec;

	if (name) {
		mutex_lock(&winvm_names_lock);
		old = winvm_name_find(name);
		if (!old) {
			name->sec = sec;
			sec->name = name;
			hash_add(winvm_names, &name->node, name->hash);
		}
		mutex_unlock(&winvm_names_lock);
		if (old) {
			/* Lost a race with a creator of the same name. */
			winvm_section_put(sec);
			status = winvm_name_existing(name, args, access, call);
			if (status != WINVM_STATUS_OBJECT_NAME_NOT_FOUND)
				return status;
			/* Gone again already (rare): the name is still ours. */
			winvm_name_free(name);
			return WINVM_STATUS_NO_MEMORY;
		}
	}
	return winvm_handle_new(sec, access, call, &args->fd);

err_sec:
	winvm_section_put(sec);
err_name:
	if (name)
		winvm_name_free(name);
	return status;
}

u32 winvm_section_open(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_section_open_args *args = arg;
	struct winvm_name *key;
	u32 status, access;

	if (args->flags & ~WINVM_SECTION_GLOBAL || args->pad ||
	    args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	access = winvm_access_valid(args->access);
	if (access & ~WINVM_SECTION_ACCESS_ALL)
		return WINVM_STATUS_INVALID_PARAMETER;
	key = winvm_name_get(args->name, args->name_len, args->flags, &status);
	if (!key)
		return status;
	status = winvm_name_open(key, access, true, call, &args->fd);
	winvm_name_free(key);
	return status == WINVM_STATUS_OBJECT_NAME_EXISTS ? WINVM_STATUS_SUCCESS : status;
}

u32 winvm_section_query(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_section_query_args *args = arg;
	struct winvm_section *sec;
	u32 status, access;

	if (args->flags || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	sec = winvm_section_get(args->section_fd, &access, &status);
	if (!sec)
		return status;
	if (!(access & WINVM_SECTION_QUERY)) {
		winvm_section_put(sec);
		return WINVM_STATUS_ACCESS_DENIED;
	}
	args->size = sec->size;
	args->attributes = sec->attributes;
	args->protect = sec->protect;
	args->access = access;
	winvm_section_put(sec);
	return WINVM_STATUS_SUCCESS;
}

u32 winvm_section_dup(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_section_dup_args *args = arg;
	struct winvm_section *sec;
	u32 status, access, want;

	if (args->flags || args->pad || args->reserved[0] || args->reserved[1])
		return WINVM_STATUS_INVALID_PARAMETER;
	want = winvm_access_valid(args->access);
	if (want & ~WINVM_SECTION_ACCESS_ALL)
		return WINVM_STATUS_INVALID_PARAMETER;
	sec = winvm_section_get(args->section_fd, &access, &status);
	if (!sec)
		return status;
	if (want & ~access) {
		winvm_section_put(sec);
		return WINVM_STATUS_ACCESS_DENIED;
	}
	return winvm_handle_new(sec, want, call, &args->fd);
}
