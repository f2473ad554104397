// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: what the model knows about views, from
 * model-prot.c's documented rules: the protection FILE_MAP_* gives a view,
 * what its pages may be protected to, and what a written write-copy page
 * reports.  Views are otherwise not modelled in detail.
 */
#include "ops.h"

static bool view_query(uint64_t addr, struct winvm_query_args *q)
{
	memset(q, 0, sizeof(*q));
	q->address = addr;
	return !fz_call(M.fd, WINVM_IOC_MEM_QUERY, q).rc;
}

/* The section behind @secfd is an image section, or cannot be asked. */
static bool view_section_unknown(int secfd)
{
	struct winvm_section_query_args s;

	memset(&s, 0, sizeof(s));
	s.section_fd = secfd;
	return fz_call(M.fd, WINVM_IOC_SECTION_QUERY, &s).rc ||
	       (s.attributes & WINVM_SEC_IMAGE);
}

/*
 * A view was mapped at @addr with FILE_MAP_* @access: the model learns its
 * allocation protection and checks it against MapViewOfFile's rule.
 */
void view_mapped(struct malloc_ *a, int secfd, uint32_t access)
{
	struct winvm_query_args q;
	uint32_t want = mp_view_protect(access);

	if (!a || !view_query(a->base, &q))
		return;
	a->aprot = q.allocation_protect;
	if ((q.allocation_protect & MP_BASE_MASK) == want || view_section_unknown(secfd))
		return;
	m_fail("VIEW_MAP(access 0x%x) made a view of protection 0x%x; MapViewOfFile gives 0x%x",
	       access, q.allocation_protect, want);
}

/*
 * MEM_PROTECT(@prot) on pages of view @a ended with @status: a view's pages
 * may be protected only within what the view's access allows.
 */
void view_protected(const struct malloc_ *a, uint32_t prot, uint32_t status)
{
	enum mp_verdict v = mp_view_allows(a->aprot, prot);

	if (v == MP_NO && status == WINVM_STATUS_SUCCESS)
		m_fail("MEM_PROTECT(0x%x) succeeded on a view of protection 0x%x, which does not allow it",
		       prot, a->aprot);
	else if (v == MP_YES && status == WINVM_STATUS_INVALID_PAGE_PROTECTION)
		m_fail("MEM_PROTECT(0x%x) refused (INVALID_PAGE_PROTECTION) on a view of protection 0x%x, which allows it",
		       prot, a->aprot);
}

/* A write to view page @p; a written write-copy page reports read/write. */
void view_write(uint64_t p, uint8_t val)
{
	struct winvm_query_args before, after;
	bool known = view_query(p, &before) && before.state == WINVM_MEM_COMMIT;

	if (!fz_try_write((void *)(uintptr_t)p, val) || !known || O.nomem_ok)
		return;
	if (!view_query(p, &after) || after.protect == mp_after_write(before.protect))
		return;
	m_fail("view page 0x%llx of protection 0x%x reports 0x%x after a write, expected 0x%x",
	       (unsigned long long)p, before.protect, after.protect,
	       mp_after_write(before.protect));
}
