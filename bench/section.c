// SPDX-License-Identifier: GPL-2.0
/*
 * Case 5, sections.
 *
 *  section.cycle: create a 16 MiB pagefile-backed section, map a
 *  FILE_MAP_WRITE view, write every page, unmap, close; against
 *  memfd_create + ftruncate + mmap(MAP_SHARED) + touch + munmap + close.
 *
 *  section.cow_write: the first write to each page of a FILE_MAP_COPY view
 *  of a 4 MiB section whose pages exist (filled through a write view),
 *  against the first write to a MAP_PRIVATE mapping of a filled memfd.
 *  "cold": the view was never read; "after read": every page was read
 *  first (the loader pattern), so the write breaks sharing of a mapped page.
 *
 * Until the module has section ioctls they fail with ENOTTY; the winvm
 * figures are then "n/a" and the native ones are still measured.
 */
#include "bench.h"

#define REPS		15
#define CYCLE_SIZE	(16 * MiB)
#define COW_SIZE	(4 * MiB)

static char no_sections[128];
static bool enotty;

/* A new pagefile-backed section fd, or -1. */
static int wv_section(uint64_t size)
{
	struct winvm_section_create_args a = {
		.size = size, .file_fd = -1, .protect = WINVM_PAGE_READWRITE,
	};
	int fd = ioctl(wv_fd, WINVM_IOC_SECTION_CREATE, &a);

	if (fd < 0) {
		enotty = errno == ENOTTY;
		if (enotty)
			snprintf(no_sections, sizeof(no_sections),
				 "section ioctls not in this module (ENOTTY)");
		else
			set_err("SECTION_CREATE: %s, status 0x%08x", strerror(errno), a.status);
		return -1;
	}
	return fd;
}

static uint64_t wv_view(int sfd, uint32_t access)
{
	struct winvm_view_map_args a = { .section_fd = sfd, .access = access };

	if (ioctl(wv_fd, WINVM_IOC_VIEW_MAP, &a)) {
		set_err("VIEW_MAP(0x%x): %s, status 0x%08x", access, strerror(errno), a.status);
		return 0;
	}
	return a.address;
}

static bool wv_unview(uint64_t addr)
{
	struct winvm_view_unmap_args a = { .address = addr };

	if (ioctl(wv_fd, WINVM_IOC_VIEW_UNMAP, &a)) {
		set_err("VIEW_UNMAP: %s, status 0x%08x", strerror(errno), a.status);
		return false;
	}
	return true;
}

static double wv_cycle(void *arg)
{
	int iters = *(int *)arg, i, sfd;
	double t0 = now_ns();
	uint64_t v;

	for (i = 0; i < iters; i++) {
		sfd = wv_section(CYCLE_SIZE);
		if (sfd < 0)
			return NAN;
		v = wv_view(sfd, WINVM_FILE_MAP_WRITE);
		if (!v) {
			close(sfd);
			return NAN;
		}
		touch_write(PTR(v), CYCLE_SIZE);
		if (!wv_unview(v))
			return NAN;
		close(sfd);
	}
	return (now_ns() - t0) / iters;
}

static double native_cycle(void *arg)
{
	int iters = *(int *)arg, i, fd;
	double t0 = now_ns();
	char *p;

	for (i = 0; i < iters; i++) {
		fd = memfd_create("bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, CYCLE_SIZE)) {
			set_err("memfd: %s", strerror(errno));
			return NAN;
		}
		p = mmap(NULL, CYCLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			set_err("mmap: %s", strerror(errno));
			return NAN;
		}
		touch_write(p, CYCLE_SIZE);
		munmap(p, CYCLE_SIZE);
		close(fd);
	}
	return (now_ns() - t0) / iters;
}

struct cow {
	bool read_first;
	int sfd;		/* winvm section, filled */
	int mfd;		/* memfd, filled */
};

static double wv_cow(void *arg)
{
	struct cow *c = arg;
	uint64_t v = wv_view(c->sfd, WINVM_FILE_MAP_COPY);
	double t0, t1;

	if (!v)
		return NAN;
	if (c->read_first)
		touch_read(PTR(v), COW_SIZE);
	t0 = now_ns();
	touch_write(PTR(v), COW_SIZE);
	t1 = now_ns();
	if (!wv_unview(v))
		return NAN;
	return (t1 - t0) / (COW_SIZE / PAGE);
}

static double native_cow(void *arg)
{
	struct cow *c = arg;
	char *p = mmap(NULL, COW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, c->mfd, 0);
	double t0, t1;

	if (p == MAP_FAILED) {
		set_err("mmap private: %s", strerror(errno));
		return NAN;
	}
	if (c->read_first)
		touch_read(p, COW_SIZE);
	t0 = now_ns();
	touch_write(p, COW_SIZE);
	t1 = now_ns();
	munmap(p, COW_SIZE);
	return (t1 - t0) / (COW_SIZE / PAGE);
}

/* A filled memfd for the native copy-on-write baseline. */
static int filled_memfd(void)
{
	int fd = memfd_create("bench-cow", MFD_CLOEXEC);
	char *p;

	if (fd < 0 || ftruncate(fd, COW_SIZE))
		return -1;
	p = mmap(NULL, COW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	touch_write(p, COW_SIZE);
	munmap(p, COW_SIZE);
	return fd;
}

int main(void)
{
	bool have = bench_start("5. sections");
	struct cow wc = { .sfd = -1 }, nc = { .mfd = -1 };
	uint64_t fillv = 0;
	int iters = 1, rf;
	bool wv_ok = have;
	double wm, nm;

	if (have) {
		/* Probe once, so a module without sections is reported once. */
		int sfd = wv_section(PAGE);

		if (sfd < 0) {
			wv_ok = false;
			if (!no_sections[0])
				snprintf(no_sections, sizeof(no_sections), "%s", bench_err);
		} else {
			close(sfd);
		}
	}
	bench_err[0] = 0;
	run_pair(REPS, wv_ok ? wv_cycle : NULL, &iters, native_cycle, &iters, &wm, &nm);
	report("section.cycle", "16 MiB create/map/touch", "ns/cycle",
	       wv_ok ? wm : (have && !enotty ? V_ERROR : V_NA), nm, "%s%s", no_sections,
	       bench_err);

	bench_err[0] = 0;
	nc.mfd = filled_memfd();
	if (wv_ok) {
		wc.sfd = wv_section(COW_SIZE);
		fillv = wc.sfd >= 0 ? wv_view(wc.sfd, WINVM_FILE_MAP_WRITE) : 0;
		if (fillv)
			touch_write(PTR(fillv), COW_SIZE);
		else
			wv_ok = false;
	}
	for (rf = 0; rf <= 1; rf++) {
		wc.read_first = nc.read_first = rf;
		run_pair(REPS, wv_ok ? wv_cow : NULL, &wc, nc.mfd >= 0 ? native_cow : NULL, &nc,
			 &wm, &nm);
		report("section.cow_write", rf ? "4 MiB, after read" : "4 MiB, cold", "ns/page",
		       wv_ok ? wm : (have && !enotty ? V_ERROR : V_NA), nm, "%s%s",
		       no_sections, bench_err);
	}
	if (fillv)
		wv_unview(fillv);
	if (wc.sfd >= 0)
		close(wc.sfd);
	return 0;
}
