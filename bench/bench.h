/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the winvm benchmarks (the programs in bench/).
 *
 * Every benchmark compares a winvm operation with the native Linux way of
 * doing the same thing, measured in the same process, in the same run.
 * Each repetition runs both sides, in alternating order so that drift and
 * noise from the host hit both alike; the figure reported for each side is
 * the median over the repetitions.  Absolute numbers under TCG mean little:
 * the ratio (winvm / native, lower is better for winvm) is the result.
 *
 * Results are printed as a table row and appended to RESULTS_FILE as one
 * TSV line; bench-summary prints the whole file between markers at the end
 * of the run, and tools/bench.sh extracts it on the host.
 */
#ifndef WINVM_BENCH_H
#define WINVM_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/winvm.h>

#define PAGE		4096UL
#define GRAN		65536UL
#define KiB		1024UL
#define MiB		(1024UL * KiB)
#define GiB		(1024UL * MiB)
#define TiB		(1024UL * GiB)

#define RESULTS_FILE	"/tmp/winvm-bench.tsv"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define U64(x)		((uint64_t)(uintptr_t)(x))
#define PTR(x)		((void *)(uintptr_t)(x))
#define barrier()	__asm__ __volatile__("" ::: "memory")

#define WV_RW		WINVM_PAGE_READWRITE
#define WV_RO		WINVM_PAGE_READONLY

/* ------------------------------------------------------------------ */
/* time and statistics                                                  */
/* ------------------------------------------------------------------ */

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[0..n); NAN when n is 0 or any value is NAN. */
static inline double median(const double *v, int n)
{
	double s[64];
	int i;

	if (n <= 0 || n > 64)
		return NAN;
	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			return NAN;
		s[i] = v[i];
	}
	qsort(s, n, sizeof(s[0]), cmp_double);
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* failures                                                             */
/* ------------------------------------------------------------------ */

/*
 * A benchmark never fails the run (vmtest counts it as a test), but an
 * operation that should have worked and did not is reported: the row's
 * figure becomes "error" and the note says why.
 */
static char bench_err[160];

static inline void set_err(const char *fmt, ...)
{
	va_list ap;

	if (bench_err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(bench_err, sizeof(bench_err), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* results                                                              */
/* ------------------------------------------------------------------ */

/* Special figures, encoded as negative values. */
#define V_NA		(-1e300)	/* not measurable here (note says why) */
#define V_PENDING	(-2e300)	/* feature not implemented yet */
#define V_ERROR		(-3e300)	/* an operation failed (note says which) */

static inline const char *special(double v)
{
	if (v == V_NA)
		return "n/a";
	if (v == V_PENDING)
		return "pending";
	if (v == V_ERROR || isnan(v))
		return "error";
	return NULL;
}

/* A figure for people: times scaled to ns/us/ms, other units as they are. */
static inline void fmt_value(char *buf, size_t len, double v, const char *unit)
{
	const char *s = special(v);

	if (s)
		snprintf(buf, len, "%s", s);
	else if (!strncmp(unit, "ns", 2) && v >= 1e6)
		snprintf(buf, len, "%.2f ms", v / 1e6);
	else if (!strncmp(unit, "ns", 2) && v >= 1e3)
		snprintf(buf, len, "%.2f us", v / 1e3);
	else if (!strncmp(unit, "ns", 2))
		snprintf(buf, len, "%.0f ns", v);
	else if (v >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

static inline void print_header(const char *title)
{
	printf("\n== %s ==\n", title);
	printf("%-22s %-22s %12s %12s %8s  %s\n", "case", "param", "winvm", "native",
	       "ratio", "unit / note");
	fflush(stdout);
}

/*
 * Print one result and append it to the TSV file:
 * case, param, unit, winvm, native, ratio, note.
 */
static inline void report(const char *name, const char *param, const char *unit,
			  double wv, double nat, const char *fmt, ...)
{
	char note[512] = "", w[32], n[32], r[32];
	double ratio = NAN;
	FILE *f;

	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(note, sizeof(note), fmt, ap);
		va_end(ap);
	}
	/* Kernel-wide deltas can come out negative (noise): no ratio then. */
	if (!special(wv) && !special(nat) && wv >= 0 && nat > 0)
		ratio = wv / nat;
	fmt_value(w, sizeof(w), wv, unit);
	fmt_value(n, sizeof(n), nat, unit);
	if (isnan(ratio))
		snprintf(r, sizeof(r), "%s", special(wv) ? special(wv) : "n/a");
	else
		snprintf(r, sizeof(r), ratio < 0.01 ? "%.2g" : "%.2f", ratio);
	printf("%-22s %-22s %12s %12s %8s  %s%s%s\n", name, param, w, n, r, unit,
	       note[0] ? "; " : "", note);
	fflush(stdout);

	f = fopen(RESULTS_FILE, "a");
	if (!f)
		return;
	fprintf(f, "%s\t%s\t%s\t", name, param, unit);
	if (special(wv))
		fprintf(f, "%s\t", special(wv));
	else
		fprintf(f, "%.6g\t", wv);
	if (special(nat))
		fprintf(f, "%s\t", special(nat));
	else
		fprintf(f, "%.6g\t", nat);
	if (isnan(ratio))
		fprintf(f, "%s\t", r);
	else
		fprintf(f, "%.4g\t", ratio);
	fprintf(f, "%s\n", note);
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* paired measurement                                                   */
/* ------------------------------------------------------------------ */

/* One repetition of one side: returns the figure (e.g. ns per op). */
typedef double (*measure_fn)(void *ctx);

/*
 * Run @reps repetitions of both sides, alternating which goes first, and
 * store the medians.  A side whose function returns NAN (an error) yields
 * NAN.  Either function may be NULL (that side is not measured).
 */
static inline void run_pair(int reps, measure_fn wfn, void *wctx, measure_fn nfn,
			    void *nctx, double *wmed, double *nmed)
{
	double wv[64], nv[64];
	int r;

	if (reps > 64)
		reps = 64;
	for (r = 0; r < reps; r++) {
		if (r & 1) {
			nv[r] = nfn ? nfn(nctx) : 0;
			wv[r] = wfn ? wfn(wctx) : 0;
		} else {
			wv[r] = wfn ? wfn(wctx) : 0;
			nv[r] = nfn ? nfn(nctx) : 0;
		}
	}
	*wmed = wfn ? median(wv, reps) : V_NA;
	*nmed = nfn ? median(nv, reps) : V_NA;
}

/* ------------------------------------------------------------------ */
/* winvm                                                                */
/* ------------------------------------------------------------------ */

static int wv_fd = -1;

/* Opens /dev/winvm; false (and a message) when the module is not there. */
static inline bool wv_open(void)
{
	wv_fd = open("/dev/winvm", O_RDWR | O_CLOEXEC);
	if (wv_fd < 0) {
		printf("# /dev/winvm: %s: winvm figures are n/a\n", strerror(errno));
		return false;
	}
	return true;
}

/* Reserve and/or commit; returns the base or 0 (and sets the error). */
static inline uint64_t wv_alloc(uint64_t addr, uint64_t size, uint32_t type, uint32_t prot)
{
	struct winvm_alloc_args a = {
		.address = addr, .size = size, .type = type, .protect = prot,
	};

	if (ioctl(wv_fd, WINVM_IOC_MEM_ALLOC, &a)) {
		set_err("MEM_ALLOC(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%x, 0x%x): %s, status 0x%08x",
			addr, size, type, prot, strerror(errno), a.status);
		return 0;
	}
	return a.address;
}

static inline bool wv_free(uint64_t addr, uint64_t size, uint32_t type)
{
	struct winvm_free_args a = { .address = addr, .size = size, .type = type };

	if (ioctl(wv_fd, WINVM_IOC_MEM_FREE, &a)) {
		set_err("MEM_FREE(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%x): %s, status 0x%08x",
			addr, size, type, strerror(errno), a.status);
		return false;
	}
	return true;
}

static inline bool wv_protect(uint64_t addr, uint64_t size, uint32_t prot)
{
	struct winvm_protect_args a = { .address = addr, .size = size, .protect = prot };

	if (ioctl(wv_fd, WINVM_IOC_MEM_PROTECT, &a)) {
		set_err("MEM_PROTECT(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%x): %s, status 0x%08x",
			addr, size, prot, strerror(errno), a.status);
		return false;
	}
	return true;
}

static inline bool wv_query(uint64_t addr, struct winvm_query_args *q)
{
	memset(q, 0, sizeof(*q));
	q->address = addr;
	if (ioctl(wv_fd, WINVM_IOC_MEM_QUERY, q)) {
		set_err("MEM_QUERY(0x%" PRIx64 "): %s, status 0x%08x", addr, strerror(errno),
			q->status);
		return false;
	}
	return true;
}

/* GetWriteWatch with WRITE_WATCH_FLAG_RESET of [base, base + size) into @out. */
static inline bool wv_watch_get_reset(uint64_t base, uint64_t size, uint64_t *out,
				      uint64_t max, uint64_t *count)
{
	struct winvm_watch_get_args g = {
		.address = base, .size = size, .flags = WINVM_WRITE_WATCH_FLAG_RESET,
		.addresses = U64(out), .count = max,
	};

	if (ioctl(wv_fd, WINVM_IOC_WATCH_GET, &g)) {
		set_err("WATCH_GET: %s, status 0x%08x", strerror(errno), g.status);
		return false;
	}
	*count = g.count;
	return true;
}

/* ------------------------------------------------------------------ */
/* memory and address-space utilities                                   */
/* ------------------------------------------------------------------ */

/* Write one byte to every page of [p, p + len). */
static inline void touch_write(void *p, size_t len)
{
	volatile char *c = p;
	size_t i;

	for (i = 0; i < len; i += PAGE)
		c[i] = 1;
}

/* Write one byte to every @stride-th of @pages pages at @p. */
static inline void touch_every(void *p, size_t pages, size_t stride)
{
	volatile char *c = p;
	size_t i;

	for (i = 0; i < pages; i += stride)
		c[i * PAGE] = 1;
}

/* Read one byte from every page of [p, p + len). */
static inline unsigned int touch_read(const void *p, size_t len)
{
	const volatile char *c = p;
	unsigned int sum = 0;
	size_t i;

	for (i = 0; i < len; i += PAGE)
		sum += c[i];
	return sum;
}

/*
 * Native baselines use 4 KiB pages, as winvm does (its VMAs are
 * VM_NOHUGEPAGE): the guest kernel has THP "always", which would turn a
 * per-page comparison into a per-2-MiB one.  A per-process switch, so no
 * native call gets an extra madvise() to pay for.
 */
static inline void native_thp(bool on)
{
	prctl(PR_SET_THP_DISABLE, on ? 0 : 1, 0, 0, 0);
}

static inline void *native_map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		set_err("mmap(%zu): %s", len, strerror(errno));
		return NULL;
	}
	return p;
}

/* Number of /proc/self/maps lines that overlap [start, end). */
static inline long maps_lines(uint64_t start, uint64_t end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) == 2 && s < end && e > start)
			n++;
	}
	fclose(f);
	return n;
}

/* A /proc/meminfo field in kB, after folding the per-CPU counters. */
static inline long meminfo_kb(const char *field)
{
	FILE *f;
	char line[256];
	size_t len = strlen(field);
	long kb = -1;
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	/* Best effort: it only sharpens the figures. */
	if (fd >= 0) {
		ssize_t r = write(fd, "1", 1);

		(void)r;
		close(fd);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Deterministic pseudo-random numbers (same sequence for both sides). */
static inline uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* "4 KiB", "16 MiB", "1 TiB": sizes for the param column. */
static inline const char *size_str(char *buf, size_t len, uint64_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (u < 4 && size >= 1024 && !(size % 1024)) {
		size /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", size, units[u]);
	return buf;
}

/* Common start of every benchmark program. */
static inline bool bench_start(const char *title)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	print_header(title);
	return wv_open();
}

#endif /* WINVM_BENCH_H */
