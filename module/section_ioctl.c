// SPDX-License-Identifier: GPL-2.0-only
/*
 * The section ioctls: NtCreateSection (with CreateFileMapping's named
 * semantics), NtOpenSection, NtQuerySection and handle duplication.
 * Argument rules and status codes follow Windows (docs/windows-rules.md,
 * 1.8).
 */

#include <linux/cred.h>
#include <linux/err.h>
#include <linux/slab.h>

#include "winvm.h"

/* SEC_* rules (R86, R87): the attributes to report into *out, or a status. */
static u32 winvm_section_attrs(u32 attrs, bool file_backed, u32 *out)
{
	u32 cache = attrs & (WINVM_SEC_NOCACHE | WINVM_SEC_WRITECOMBINE);
	u32 kind = attrs & ~cache;

	if (cache == (WINVM_SEC_NOCACHE | WINVM_SEC_WRITECOMBINE))
		return WINVM_STATUS_INVALID_PARAMETER;
	if (kind & WINVM_SEC_IMAGE) {
		/* No PE loader yet: no file is a valid image. */
		return kind == WINVM_SEC_IMAGE ? WINVM_STATUS_INVALID_IMAGE_NOT_MZ :
						 WINVM_STATUS_INVALID_PARAMETER;
	}
	/* No flag at all means SEC_COMMIT; a cache flag alone is invalid. */
	if (!attrs)
		kind = WINVM_SEC_COMMIT;
	if (kind != WINVM_SEC_COMMIT && kind != WINVM_SEC_RESERVE)
		return WINVM_STATUS_INVALID_PARAMETER;
	*out = (file_backed ? WINVM_SEC_FILE : kind) | cache;
	return WINVM_STATUS_SUCCESS;
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
	if (!winvm_prot_valid_section(args->protect))
		return WINVM_STATUS_INVALID_PAGE_PROTECTION;
	status = winvm_section_attrs(args->attributes, args->file_fd >= 0, attrs);
	if (status)
		return status;
	if (args->access & ~WINVM_SECTION_ACCESS_ALL)
		return WINVM_STATUS_INVALID_PARAMETER;
	if (args->file_fd < 0 &&
	    (!args->size || args->size > MAX_LFS_FILESIZE - PAGE_SIZE))
		return WINVM_STATUS_INVALID_PARAMETER;
	return WINVM_STATUS_SUCCESS;
}

/* What Windows says when a name could not be taken from user memory. */
static u32 winvm_name_status(int err)
{
	return err == -EINVAL ? WINVM_STATUS_OBJECT_NAME_INVALID : winvm_errno_status(err);
}

/*
 * Open the existing section named like @key with @access: a new handle and
 * STATUS_OBJECT_NAME_EXISTS, or OBJECT_NAME_NOT_FOUND, or ACCESS_DENIED
 * when the name's security descriptor or the section's protection does not
 * allow @access (R92, R96).  Only an explicit open (@opening) checks the
 * section's protection; CreateFileMapping of an existing name does not.
 */
static u32 winvm_name_open(const struct winvm_name *key, u32 access, bool opening,
			   struct winvm_call *call, s32 *fd)
{
	struct winvm_section *sec = winvm_name_lookup(key, access);
	int ret;

	if (IS_ERR(sec))
		return PTR_ERR(sec) == -ENOENT ? WINVM_STATUS_OBJECT_NAME_NOT_FOUND :
						 WINVM_STATUS_ACCESS_DENIED;
	if (opening && (access & WINVM_SECTION_MAP_WRITE) && !winvm_prot_writes(sec->protect)) {
		winvm_section_put(sec);
		return WINVM_STATUS_ACCESS_DENIED;
	}
	ret = winvm_handle_new(sec, access, call, fd);
	return ret ? winvm_errno_status(ret) : WINVM_STATUS_OBJECT_NAME_EXISTS;
}

/*
 * CreateFileMapping of a name that may exist: the existing section opened
 * subject to its descriptor (R92, T-NAME), taking @name with it; or
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

/* A new section with its data. */
static struct winvm_section *winvm_section_new(const struct winvm_section_create_args *args,
					       u32 attrs)
{
	struct winvm_section *sec = winvm_section_alloc(args->protect, attrs);
	int ret;

	if (!sec)
		return ERR_PTR(-ENOMEM);
	ret = winvm_section_backing(sec, args->file_fd, args->size);
	if (!ret)
		return sec;
	winvm_section_put(sec);
	return ERR_PTR(ret);
}

/* What Windows says when a section's backing could not be set up. */
static u32 winvm_backing_status(int err)
{
	return err == -ENODATA ? WINVM_STATUS_MAPPED_FILE_SIZE_ZERO : winvm_errno_status(err);
}

/* Publish @sec under @name; a creator of the same name may have won the race. */
static u32 winvm_section_publish(struct winvm_section *sec, struct winvm_name *name,
				 struct winvm_section_create_args *args, u32 access,
				 struct winvm_call *call)
{
	u32 status;

	if (winvm_name_add(name, sec))
		return WINVM_STATUS_SUCCESS;
	winvm_section_put(sec);
	status = winvm_name_existing(name, args, access, call);
	if (status != WINVM_STATUS_OBJECT_NAME_NOT_FOUND)
		return status;
	/* Gone again already (rare): the name is still ours. */
	winvm_name_free(name);
	return WINVM_STATUS_NO_MEMORY;
}

u32 winvm_section_create(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_section_create_args *args = arg;
	u32 status, access = args->access, attrs = 0;
	struct winvm_name *name = NULL;
	struct winvm_section *sec;

	args->existed = 0;
	status = winvm_section_create_check(args, &attrs);
	if (status)
		return status;
	if (!access)
		access = WINVM_SECTION_ACCESS_ALL;
	if (args->name) {
		name = winvm_name_get(args->name, args->name_len, args->flags);
		if (IS_ERR(name))
			return winvm_name_status(PTR_ERR(name));
		name->world = args->world_access;
		status = winvm_name_existing(name, args, access, call);
		if (status != WINVM_STATUS_OBJECT_NAME_NOT_FOUND)
			return status;
	}
	sec = winvm_section_new(args, attrs);
	if (IS_ERR(sec)) {
		status = winvm_backing_status(PTR_ERR(sec));
		goto err_name;
	}
	if (name) {
		status = winvm_section_publish(sec, name, args, access, call);
		if (status)
			return status;
	}
	return winvm_errno_status(winvm_handle_new(sec, access, call, &args->fd));

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
	access = winvm_access_rights(args->access);
	if (access & ~WINVM_SECTION_ACCESS_ALL)
		return WINVM_STATUS_INVALID_PARAMETER;
	key = winvm_name_get(args->name, args->name_len, args->flags);
	if (IS_ERR(key))
		return winvm_name_status(PTR_ERR(key));
	status = winvm_name_open(key, access, true, call, &args->fd);
	winvm_name_free(key);
	return status == WINVM_STATUS_OBJECT_NAME_EXISTS ? WINVM_STATUS_SUCCESS : status;
}

u32 winvm_section_query(struct winvm_mm *wmm, void *arg, struct winvm_call *call)
{
	struct winvm_section_query_args *args = arg;
	struct winvm_section *sec;
	u32 access;

	if (winvm_args_reserved(args))
		return WINVM_STATUS_INVALID_PARAMETER;
	sec = winvm_section_get(args->section_fd, &access);
	if (IS_ERR(sec))
		return winvm_errno_status(PTR_ERR(sec));
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
	u32 access, want;

	if (winvm_args_reserved(args) || args->pad)
		return WINVM_STATUS_INVALID_PARAMETER;
	want = winvm_access_rights(args->access);
	if (want & ~WINVM_SECTION_ACCESS_ALL)
		return WINVM_STATUS_INVALID_PARAMETER;
	sec = winvm_section_get(args->section_fd, &access);
	if (IS_ERR(sec))
		return winvm_errno_status(PTR_ERR(sec));
	if (want & ~access) {
		winvm_section_put(sec);
		return WINVM_STATUS_ACCESS_DENIED;
	}
	return winvm_errno_status(winvm_handle_new(sec, want, call, &args->fd));
}
