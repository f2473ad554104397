/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linux 6.7+'s own write tracking, the native side of the write-watch
 * cases (bench/watch.c, bench/profile.c): anonymous memory registered
 * for userfaultfd write-protect in async mode (a write to a protected
 * page just clears the protection, no message), read and re-armed with
 * the PAGEMAP_SCAN ioctl of /proc/self/pagemap.  Debian 12's libc headers
 * do not describe either yet: the values are those of the kernel's
 * include/uapi/linux/{userfaultfd,fs}.h.
 */
#ifndef WINVM_BENCH_UFFD_H
#define WINVM_BENCH_UFFD_H

#include <linux/userfaultfd.h>
#include <sys/syscall.h>

#include "bench.h"

#define WV_UFFD_USER_MODE_ONLY		1
#define WV_UFFD_FEATURE_WP_ASYNC	(1 << 15)
#define WV_PAGE_IS_WRITTEN		(1 << 1)
#define WV_PM_SCAN_WP_MATCHING		(1 << 0)
#define WV_PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct wv_page_region {
	uint64_t start, end, categories;
};

struct wv_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define WV_PAGEMAP_SCAN		_IOWR('f', 16, struct wv_pm_scan_arg)

static char *u_region;
static size_t u_pages;
static int u_uffd = -1, u_pagemap = -1;
static struct wv_page_region *u_vec;

/* Written pages of the region, write-protected again; -1 if not possible. */
static inline long uffd_get_reset(void)
{
	struct wv_pm_scan_arg a = {
		.size = sizeof(a), .flags = WV_PM_SCAN_WP_MATCHING | WV_PM_SCAN_CHECK_WPASYNC,
		.start = U64(u_region), .end = U64(u_region + u_pages * PAGE),
		.vec = U64(u_vec), .vec_len = u_pages,
		.category_mask = WV_PAGE_IS_WRITTEN, .return_mask = WV_PAGE_IS_WRITTEN,
	};
	long n, i, pages = 0;

	n = ioctl(u_pagemap, WV_PAGEMAP_SCAN, &a);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		pages += (long)((u_vec[i].end - u_vec[i].start) / PAGE);
	return pages;
}

/*
 * Map @pages pages and register them; @resident: written once first.
 * false (and bench_err says why) where the kernel has no async
 * write-protect (before 6.7).
 */
static inline bool uffd_setup(size_t pages, bool resident)
{
	struct uffdio_api api = { .api = UFFD_API, .features = WV_UFFD_FEATURE_WP_ASYNC };
	struct uffdio_register reg;

	u_pages = pages;
	u_region = native_map(pages * PAGE, PROT_READ | PROT_WRITE);
	u_vec = calloc(pages, sizeof(*u_vec));
	if (!u_region || !u_vec)
		return false;
	if (resident)
		touch_write(u_region, pages * PAGE);
	u_uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | WV_UFFD_USER_MODE_ONLY);
	u_pagemap = open("/proc/self/pagemap", O_RDONLY);
	reg.range.start = U64(u_region);
	reg.range.len = pages * PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (u_uffd < 0 || u_pagemap < 0 || ioctl(u_uffd, UFFDIO_API, &api) ||
	    ioctl(u_uffd, UFFDIO_REGISTER, &reg) || uffd_get_reset() < 0) {
		set_err("userfaultfd WP_ASYNC / PAGEMAP_SCAN: %s", strerror(errno));
		return false;
	}
	return true;
}

static inline void uffd_teardown(void)
{
	if (u_uffd >= 0)
		close(u_uffd);
	if (u_pagemap >= 0)
		close(u_pagemap);
	u_uffd = u_pagemap = -1;
	if (u_region)
		munmap(u_region, u_pages * PAGE);
	free(u_vec);
	u_region = NULL;
	u_vec = NULL;
}

#endif /* WINVM_BENCH_UFFD_H */
