// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section handles: file descriptors on winvm's pseudo filesystem, each
 * carrying the access it was granted and a reference on its section.
 */

#include <linux/file.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "winvm.h"

/* One handle's section reference and count are gone. */
static void winvm_handle_drop(struct winvm_section *sec)
{
	winvm_handles_put(sec);
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

/*
 * The section behind @fd with a reference and *access set; -EBADF for no
 * fd, -EBADFD for an fd that is not a section.
 */
struct winvm_section *winvm_section_get(int fd, u32 *access)
{
	struct winvm_section *sec;
	struct winvm_handle *h;
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &winvm_section_fops) {
		fput(file);
		return ERR_PTR(-EBADFD);
	}
	h = file->private_data;
	sec = h->sec;
	kref_get(&sec->ref);
	*access = h->access;
	fput(file);
	return sec;
}

/* A new, not yet installed handle file; takes over one handle count and reference. */
static int winvm_handle_create(struct winvm_section *sec, u32 access,
			       struct winvm_call *call)
{
	struct winvm_handle *h;
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
	file = winvm_new_file("winvm-section", &winvm_section_fops);
	if (IS_ERR(file))
		goto err_module;
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

/*
 * A handle for @sec with @access, into *fd, installed by the dispatcher
 * once the reply is out.  Takes over the caller's section reference, and
 * drops it on failure.
 */
int winvm_handle_new(struct winvm_section *sec, u32 access, struct winvm_call *call, s32 *fd)
{
	int ret;

	winvm_handles_get(sec);
	ret = winvm_handle_create(sec, access, call);
	if (ret) {
		winvm_handle_drop(sec);
		return ret;
	}
	*fd = call->fd;
	return 0;
}
