// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section names (the \BaseNamedObjects and Global\ namespaces) and the
 * handle count that keeps a name alive: the last handle's close takes the
 * name with it (rule R93).  Local names belong to one (user namespace, uid),
 * Global ones to everybody, guarded by the name's rights (T-NAME).
 */

#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "winvm.h"

/*
 * winvm_names_lock protects the table, every winvm_section.name and every
 * winvm_section.handles, so that a lookup can never revive a section whose
 * last handle is closing.  Hashed by (namespace, uid, name): a lookup costs
 * the same however many names other users made.
 */
static DEFINE_MUTEX(winvm_names_lock);
static DEFINE_HASHTABLE(winvm_names, 10);

/* Copy and check a name: a new winvm_name, or -EINVAL, -EFAULT, -ENOMEM. */
struct winvm_name *winvm_name_get(u64 uptr, u32 len, u32 flags)
{
	struct winvm_name *name;

	if (!len || len > WINVM_NAME_MAX)
		return ERR_PTR(-EINVAL);
	name = kzalloc(struct_size(name, str, len), GFP_KERNEL_ACCOUNT);
	if (!name)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(name->str, u64_to_user_ptr(uptr), len)) {
		kfree(name);
		return ERR_PTR(-EFAULT);
	}
	if (memchr(name->str, '\0', len) || memchr(name->str, '\\', len)) {
		kfree(name);
		return ERR_PTR(-EINVAL);
	}
	name->len = len;
	name->uid = current_euid();
	if (!(flags & WINVM_SECTION_GLOBAL))
		name->ns = get_user_ns(current_user_ns());
	/* Local names are per (namespace, uid); Global ones are one space. */
	name->hash = jhash(name->str, len, name->ns ? from_kuid(&init_user_ns, name->uid) : 0);
	name->hash = jhash_2words(name->hash, (u32)(unsigned long)name->ns, 0);
	return name;
}

void winvm_name_free(struct winvm_name *name)
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
 * The section named like @key, with a reference, if the caller's rights on
 * the name cover @access; -ENOENT if there is none, -EACCES if they don't.
 */
struct winvm_section *winvm_name_lookup(const struct winvm_name *key, u32 access)
{
	struct winvm_section *sec = ERR_PTR(-ENOENT);
	struct winvm_name *n;

	mutex_lock(&winvm_names_lock);
	n = winvm_name_find(key);
	if (n && (access & ~winvm_name_rights(n)))
		sec = ERR_PTR(-EACCES);
	else if (n)
		sec = n->sec;
	if (!IS_ERR(sec))
		kref_get(&sec->ref);
	mutex_unlock(&winvm_names_lock);
	return sec;
}

/* Give @sec the name @name, unless the name is taken (false). */
bool winvm_name_add(struct winvm_name *name, struct winvm_section *sec)
{
	bool free;

	mutex_lock(&winvm_names_lock);
	free = !winvm_name_find(name);
	if (free) {
		name->sec = sec;
		sec->name = name;
		hash_add(winvm_names, &name->node, name->hash);
	}
	mutex_unlock(&winvm_names_lock);
	return free;
}

/* One more handle of @sec exists. */
void winvm_handles_get(struct winvm_section *sec)
{
	mutex_lock(&winvm_names_lock);
	sec->handles++;
	mutex_unlock(&winvm_names_lock);
}

/* One handle of @sec is gone: the last one takes the name with it. */
void winvm_handles_put(struct winvm_section *sec)
{
	struct winvm_name *name = NULL;

	mutex_lock(&winvm_names_lock);
	if (!--sec->handles && sec->name) {
		name = sec->name;
		hash_del(&name->node);
		sec->name = NULL;
	}
	mutex_unlock(&winvm_names_lock);
	if (name)
		winvm_name_free(name);
}
