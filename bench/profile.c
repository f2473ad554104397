// SPDX-License-Identifier: GPL-2.0
/*
 * Where the time goes: the hot paths of bench/ run once more, winvm side
 * and native side, under ftrace's function_graph tracer in the guest, and
 * the kernel's call tree of each operation is printed with the time spent
 * in every function, per operation.  tools/profile.sh boots the guest and
 * collects the output.
 *
 * The graph tracer starts at the system-call or fault entry each case
 * names (set_graph_function), records at most DEPTH levels below it and
 * only this process (set_ftrace_pid), with interrupts left out
 * (funcgraph-irqs off, and softirqs run on an interrupt's way out taken
 * back from the calls they landed in).  Each operation runs with tracing_on set around
 * it alone, so setup and cleanup stay out.  Tracing costs time in every
 * traced call, so deep trees are inflated: read the shares between
 * siblings, not the absolute figures, and compare like with like (the
 * native side pays the same tax per call).
 */
#include <ctype.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "bench.h"
#include "uffd.h"

#define TRACING		"/sys/kernel/tracing"
#define OPS		200
#define DEPTH		5
#define MAX_NODES	4096
#define MAX_NAME	64
#define SHOW_SHARE	0.02	/* print nodes above this share of the root time */

struct node {
	char path[DEPTH + 1][MAX_NAME];
	int depth;
	double calls;
	double ns;
};

static struct node nodes[MAX_NODES];
static int nnodes;

/* ---------------------------------------------------------------- */
/* tracefs                                                            */
/* ---------------------------------------------------------------- */

static int trace_fd_on = -1;

static bool tr_write_flags(const char *file, const char *val, int flags)
{
	char path[256];
	int fd, n;

	snprintf(path, sizeof(path), TRACING "/%s", file);
	fd = open(path, O_WRONLY | flags);
	if (fd < 0) {
		printf("# profile: %s: %s\n", path, strerror(errno));
		return false;
	}
	n = write(fd, val, strlen(val));
	close(fd);
	if (n != (int)strlen(val)) {
		printf("# profile: %s <- %s: %s\n", path, val, strerror(errno));
		return false;
	}
	return true;
}

static bool tr_write(const char *file, const char *val)
{
	return tr_write_flags(file, val, O_TRUNC);
}

static bool tr_setup(void)
{
	char pid[32];

	mkdir(TRACING, 0755);
	if (access(TRACING "/trace", F_OK) && mount("nodev", TRACING, "tracefs", 0, NULL)) {
		printf("# profile: mount tracefs: %s\n", strerror(errno));
		return false;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	return tr_write("tracing_on", "0") && tr_write("current_tracer", "nop") &&
	       tr_write("buffer_size_kb", "16384") && tr_write("set_ftrace_pid", pid) &&
	       tr_write("max_graph_depth", "6") &&
	       tr_write("options/funcgraph-irqs", "0") &&
	       tr_write("options/funcgraph-tail", "1") &&
	       tr_write("options/funcgraph-proc", "0") &&
	       tr_write("options/funcgraph-overhead", "0") &&
	       tr_write("set_graph_function", "__x64_sys_ioctl") &&
	       tr_write("current_tracer", "function_graph");
}

/*
 * Entry points, one per line; the tracer is (re)armed with them.  One
 * the kernel cannot trace (notrace, inlined) is reported and left out.
 */
static bool tr_arm(const char *entries)
{
	char one[MAX_NAME];
	const char *e, *nl;
	int armed = 0;

	/*
	 * The tracer is switched on once (tr_setup()): switching patches
	 * every call site in the kernel, which under TCG takes minutes on 6.1.
	 * Changing the graph's entry points patches nothing.
	 */
	if (!tr_write("set_graph_function", ""))
		return false;
	for (e = entries; (nl = strchr(e, '\n')); e = nl + 1) {
		snprintf(one, sizeof(one), "%.*s", (int)(nl - e), e);
		armed += tr_write_flags("set_graph_function", one, O_APPEND);
	}
	if (!armed || !tr_write("trace", ""))
		return false;
	trace_fd_on = open(TRACING "/tracing_on", O_WRONLY);
	return trace_fd_on >= 0;
}

static inline void tr_on(void)
{
	if (write(trace_fd_on, "1", 1) != 1)
		abort();
}

static inline void tr_off(void)
{
	if (write(trace_fd_on, "0", 1) != 1)
		abort();
}

/* ---------------------------------------------------------------- */
/* the call tree                                                      */
/* ---------------------------------------------------------------- */

static struct node *node_at(char stack[][MAX_NAME], int depth)
{
	int i, d;

	for (i = 0; i < nnodes; i++) {
		if (nodes[i].depth != depth)
			continue;
		for (d = 0; d <= depth && !strcmp(nodes[i].path[d], stack[d]); d++)
			;
		if (d > depth)
			return &nodes[i];
	}
	if (nnodes == MAX_NODES)
		return NULL;
	memcpy(nodes[nnodes].path, stack, sizeof(nodes[0].path));
	nodes[nnodes].depth = depth;
	return &nodes[nnodes++];
}

/*
 * One line of function_graph output:
 *   " 0)               |    foo() {"          entry
 *   " 0)   1.234 us    |    bar();"           leaf, with its time
 *   " 0) + 12.34 us    |    } /" "* foo *" "/"  exit, with foo's time
 * After the '|' come two spaces, then two per level.
 */
/*
 * Softirqs the kernel ran on the way out of an interrupt inside a traced
 * call are not the call's work: their time is taken back from every
 * caller above them (noise[d] waits for the exit at depth d).
 */
static double noise[DEPTH + 1];

static bool is_noise(const char *fn)
{
	return !strcmp(fn, "handle_softirqs") || !strcmp(fn, "__do_softirq") ||
	       !strcmp(fn, "irq_exit_rcu") || !strcmp(fn, "__irq_exit_rcu");
}

static void tree_line(char *line, char stack[][MAX_NAME])
{
	char *bar = strchr(line, '|'), *txt, *us, *end;
	double ns = -1;
	int sp, depth;
	struct node *n;

	if (!bar || bar - line < 3)
		return;
	us = strstr(line, " us ");
	if (us && us < bar) {
		for (end = us; end > line && (isdigit((unsigned char)end[-1]) || end[-1] == '.'); end--)
			;
		ns = strtod(end, NULL) * 1000.0;
	}
	for (txt = bar + 1, sp = 0; *txt == ' '; txt++, sp++)
		;
	depth = (sp - 2) / 2;
	if (depth < 0 || depth > DEPTH)
		return;
	if (!strncmp(txt, "} /* ", 5)) {
		txt += 5;
		end = strstr(txt, " */");
	} else {
		end = strstr(txt, "()");
	}
	if (!end || end - txt >= MAX_NAME)
		return;
	*end = 0;
	if (ns < 0)
		noise[depth] = 0;	/* an entry: its time comes with the exit */
	if (is_noise(txt)) {
		for (sp = 0; sp < depth && ns > 0; sp++)
			noise[sp] += ns;
		return;
	}
	snprintf(stack[depth], MAX_NAME, "%s", txt);
	n = node_at(stack, depth);
	if (!n || ns < 0)
		return;
	n->ns += ns - noise[depth];
	noise[depth] = 0;
	n->calls++;
}

static void tree_read(void)
{
	char line[512], stack[DEPTH + 1][MAX_NAME];
	FILE *f = fopen(TRACING "/trace", "r");

	nnodes = 0;
	memset(nodes, 0, sizeof(nodes));
	memset(stack, 0, sizeof(stack));
	memset(noise, 0, sizeof(noise));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#')
			tree_line(line, stack);
	fclose(f);
}

/* Events the ring buffer dropped: the trees are then incomplete. */
static long tr_overrun(void)
{
	char path[96], line[128];
	long total = 0, n;
	int cpu;
	FILE *f;

	for (cpu = 0; cpu < 64; cpu++) {
		snprintf(path, sizeof(path), TRACING "/per_cpu/cpu%d/stats", cpu);
		f = fopen(path, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "overrun: %ld", &n) == 1)
				total += n;
		fclose(f);
	}
	return total;
}

static void tree_print(const char *title, int ops)
{
	long lost = tr_overrun();
	double root = 0;
	int i;

	if (lost)
		printf("# %s: %ld trace events lost, figures too low\n", title, lost);

	for (i = 0; i < nnodes; i++)
		if (nodes[i].depth == 0)
			root += nodes[i].ns;
	printf("## %s: %d operations, %.2f us traced per operation\n", title, ops,
	       root / ops / 1000.0);
	printf("%-58s %9s %10s %6s\n", "# function (indented: called from the line above)",
	       "calls/op", "us/op", "share");
	for (i = 0; i < nnodes; i++) {
		struct node *n = &nodes[i];

		if (!n->calls || n->ns < SHOW_SHARE * root)
			continue;
		printf("%*s%-*s %9.2f %10.2f %5.1f%%\n", 2 * n->depth, "", 58 - 2 * n->depth,
		       n->path[n->depth], n->calls / ops, n->ns / ops / 1000.0,
		       root ? 100.0 * n->ns / root : 0);
	}
	printf("\n");
}

/* ---------------------------------------------------------------- */
/* the cases                                                          */
/* ---------------------------------------------------------------- */

#define E_IOCTL		"__x64_sys_ioctl\n"
#define E_FAULT		"handle_mm_fault\nlock_vma_under_rcu\n"
#define E_SIGNAL	"arch_do_signal_or_restart\n__x64_sys_rt_sigreturn\n"

struct pcase {
	const char *name;
	const char *entries;
	/* Untraced setup of operation @i, the traced operation, untraced cleanup. */
	bool (*setup)(void);
	void (*op)(void);
	void (*cleanup)(void);
	int ops;		/* 0: OPS */
};

static uint64_t w_addr;
static char *n_addr;
static size_t n_len;
static int memfd = -1;

#define RESV	(1 * MiB)
#define SMALL	(64 * KiB)
#define PROT_N	1024

static void w_drop(void)
{
	if (w_addr)
		wv_free(w_addr, 0, WINVM_MEM_RELEASE);
	w_addr = 0;
}

static void n_drop(void)
{
	if (n_addr)
		munmap(n_addr, n_len);
	n_addr = NULL;
}

static bool n_map(size_t len, int prot)
{
	n_addr = native_map(len, prot);
	n_len = len;
	return n_addr != NULL;
}

static bool none_setup(void) { return true; }
static void none_cleanup(void) { }

/* MEM_RESERVE of 1 MiB (bench-alloc's 4 KiB row) vs mmap(PROT_NONE). */
static void w_reserve(void) { w_addr = wv_alloc(0, RESV, WINVM_MEM_RESERVE, WINVM_PAGE_NOACCESS); }
static void n_reserve(void) { n_map(RESV, PROT_NONE); }

/* The untraced rest of bench-alloc's 1 MiB cycle, before a traced reserve. */
static bool w_cycle_setup(void)
{
	uint64_t a = wv_alloc(0, RESV, WINVM_MEM_RESERVE, WINVM_PAGE_NOACCESS);

	if (!a || !wv_alloc(a, RESV, WINVM_MEM_COMMIT, WV_RW))
		return false;
	touch_write(PTR(a), RESV);
	return wv_free(a, RESV, WINVM_MEM_DECOMMIT) && wv_free(a, 0, WINVM_MEM_RELEASE);
}

static bool n_cycle_setup(void)
{
	char *a = native_map(RESV, PROT_NONE);

	if (!a || mprotect(a, RESV, PROT_READ | PROT_WRITE))
		return false;
	touch_write(a, RESV);
	madvise(a, RESV, MADV_DONTNEED);
	return !munmap(a, RESV);
}

/* MEM_RELEASE of 1 MiB with 64 KiB committed and written vs munmap. */
static bool w_release_setup(void)
{
	w_addr = wv_alloc(0, RESV, WINVM_MEM_RESERVE, WINVM_PAGE_NOACCESS);
	if (!w_addr || !wv_alloc(w_addr, SMALL, WINVM_MEM_COMMIT, WV_RW))
		return false;
	touch_write(PTR(w_addr), SMALL);
	return true;
}

static bool n_release_setup(void)
{
	if (!n_map(RESV, PROT_NONE) || mprotect(n_addr, SMALL, PROT_READ | PROT_WRITE))
		return false;
	touch_write(n_addr, SMALL);
	return true;
}

/* MEM_DECOMMIT of 64 KiB written vs madvise(MADV_DONTNEED). */
static void w_decommit(void) { wv_free(w_addr, SMALL, WINVM_MEM_DECOMMIT); }
static void n_decommit(void) { madvise(n_addr, SMALL, MADV_DONTNEED); }

/* First write to each of 16 committed pages vs anonymous and shared memfd. */
static bool w_fault_setup(void)
{
	w_addr = wv_alloc(0, SMALL, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
	return w_addr != 0;
}

static void w_fault(void) { touch_write(PTR(w_addr), SMALL); }
static bool anon_setup(void) { return n_map(SMALL, PROT_READ | PROT_WRITE); }
static void n_fault(void) { touch_write(n_addr, SMALL); }

static bool memfd_setup(void)
{
	if (memfd < 0)
		memfd = (int)syscall(SYS_memfd_create, "profile", 0);
	if (memfd < 0 || ftruncate(memfd, 0) || ftruncate(memfd, SMALL))
		return false;
	n_addr = mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	n_len = SMALL;
	if (n_addr != MAP_FAILED)
		return true;
	n_addr = NULL;
	return false;
}

/* READWRITE -> READONLY of 1024 resident pages vs mprotect. */
static bool w_protect_setup(void)
{
	if (!w_addr)
		w_addr = wv_alloc(0, PROT_N * PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
	if (!w_addr || !wv_protect(w_addr, PROT_N * PAGE, WV_RW))
		return false;
	touch_write(PTR(w_addr), PROT_N * PAGE);
	return true;
}

static void w_protect(void) { wv_protect(w_addr, PROT_N * PAGE, WV_RO); }

static bool n_protect_setup(void)
{
	if (!n_addr && !n_map(PROT_N * PAGE, PROT_READ | PROT_WRITE))
		return false;
	if (mprotect(n_addr, PROT_N * PAGE, PROT_READ | PROT_WRITE))
		return false;
	touch_write(n_addr, PROT_N * PAGE);
	return true;
}

static void n_protect(void) { mprotect(n_addr, PROT_N * PAGE, PROT_READ); }

/* One guard hit, delivered and continued (bench-guard's two handlers). */
static volatile bool guard_native;

static void guard_handler(int sig, siginfo_t *si, void *uc)
{
	struct winvm_fault_info_args fi = { 0 };
	int saved = errno;

	(void)sig;
	(void)uc;
	if (guard_native)
		mprotect(PTR(U64(si->si_addr) & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE);
	else if (ioctl(wv_fd, WINVM_IOC_FAULT_INFO, &fi))
		abort();
	errno = saved;
}

static bool w_guard_setup(void)
{
	guard_native = false;
	if (!w_addr)
		w_addr = wv_alloc(0, PAGE, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT, WV_RW);
	return w_addr && wv_protect(w_addr, PAGE, WV_RW | WINVM_PAGE_GUARD);
}

static void w_guard(void) { *(volatile char *)PTR(w_addr) = 1; }

static bool n_guard_setup(void)
{
	guard_native = true;
	if (!n_addr && !n_map(PAGE, PROT_READ | PROT_WRITE))
		return false;
	return !mprotect(n_addr, PAGE, PROT_NONE);
}

static void n_guard(void) { *(volatile char *)n_addr = 1; }

/*
 * Write watch (bench/watch.c): the first write to each of 16 watched pages
 * after a reset, vs anonymous memory under async userfaultfd
 * write-protect; and a get-and-reset of WW_PAGES pages, half of them
 * written, vs PAGEMAP_SCAN with PM_SCAN_WP_MATCHING.
 */
#define WW_PAGES	4096
static uint64_t ww_out[WW_PAGES];

static bool ww_get_reset(uint64_t size)
{
	uint64_t count;

	return wv_watch_get_reset(w_addr, size, ww_out, WW_PAGES, &count);
}

static bool ww_alloc(size_t size)
{
	if (!w_addr)
		w_addr = wv_alloc(0, size, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT |
				  WINVM_MEM_WRITE_WATCH, WV_RW);
	return w_addr != 0;
}

static bool ww_fault_setup(void)
{
	if (!ww_alloc(SMALL))
		return false;
	touch_write(PTR(w_addr), SMALL);
	return ww_get_reset(SMALL);
}

static bool uffd_fault_setup(void)
{
	if (!u_region && !uffd_setup(SMALL / PAGE, true))
		return false;
	touch_write(u_region, SMALL);
	return uffd_get_reset() == SMALL / PAGE;
}

static void u_fault(void) { touch_write(u_region, SMALL); }

static bool ww_gr_setup(void)
{
	if (!ww_alloc(WW_PAGES * PAGE))
		return false;
	touch_every(PTR(w_addr), WW_PAGES, 2);
	return true;
}

static void ww_gr(void) { ww_get_reset(WW_PAGES * PAGE); }

static bool uffd_gr_setup(void)
{
	if (!u_region && !uffd_setup(WW_PAGES, false))
		return false;
	touch_every(u_region, WW_PAGES, 2);
	return true;
}

static void u_gr(void) { uffd_get_reset(); }

static const struct pcase cases[] = {
	{ "reserve 1 MiB: winvm MEM_RESERVE", E_IOCTL, none_setup, w_reserve, w_drop, 0 },
	{ "reserve 1 MiB: native mmap(PROT_NONE)", "__x64_sys_mmap\n", none_setup, n_reserve,
	  n_drop, 0 },
	{ "reserve 1 MiB after a 1 MiB cycle: winvm MEM_RESERVE", E_IOCTL, w_cycle_setup,
	  w_reserve, w_drop, 0 },
	{ "reserve 1 MiB after a 1 MiB cycle: native mmap(PROT_NONE)", "__x64_sys_mmap\n",
	  n_cycle_setup, n_reserve, n_drop, 0 },
	{ "release 1 MiB, 64 KiB written: winvm MEM_RELEASE", E_IOCTL, w_release_setup, w_drop,
	  none_cleanup, 0 },
	{ "release 1 MiB, 64 KiB written: native munmap", "__x64_sys_munmap\n", n_release_setup,
	  n_drop, none_cleanup, 0 },
	{ "decommit 64 KiB written: winvm MEM_DECOMMIT", E_IOCTL, w_release_setup, w_decommit,
	  w_drop, 0 },
	{ "decommit 64 KiB written: native madvise(DONTNEED)", "__x64_sys_madvise\n",
	  n_release_setup, n_decommit, n_drop, 0 },
	{ "first write, 16 pages: winvm committed RW", E_FAULT, w_fault_setup, w_fault, w_drop,
	  OPS / 4 },
	{ "first write, 16 pages: native anonymous", E_FAULT, anon_setup, n_fault, n_drop,
	  OPS / 4 },
	{ "first write, 16 pages: native shared memfd", E_FAULT, memfd_setup, n_fault, n_drop,
	  OPS / 4 },
	{ "protect 1024 resident pages RW->RO: winvm MEM_PROTECT", E_IOCTL, w_protect_setup,
	  w_protect, none_cleanup, OPS / 10 },
	{ "protect 1024 resident pages RW->RO: native mprotect", "__x64_sys_mprotect\n",
	  n_protect_setup, n_protect, none_cleanup, 0 },
	/* The same operations again, from deeper entry points. */
	{ "zoom: MEM_RESERVE's mapping (winvm_map_range)", "winvm_map_range\n", none_setup,
	  w_reserve, w_drop, 0 },
	{ "zoom: MEM_RESERVE's VMA (mmap_region)", "mmap_region\n", none_setup, w_reserve, w_drop,
	  0 },
	{ "zoom: mmap(PROT_NONE)'s VMA (mmap_region)", "mmap_region\n", none_setup, n_reserve,
	  n_drop, 0 },
	{ "zoom: MEM_DECOMMIT's hole punch (shmem_fallocate)", "shmem_fallocate\n",
	  w_release_setup, w_decommit, w_drop, 0 },
	{ "zoom: first write's winvm callbacks (winvm_fault, winvm_page_mkwrite)",
	  "winvm_fault\nwinvm_page_mkwrite\n", w_fault_setup, w_fault, w_drop, OPS / 4 },
	{ "zoom: shared memfd's first write (shmem_fault)", "shmem_fault\n", memfd_setup, n_fault,
	  n_drop, OPS / 4 },
	{ "guard hit: winvm PAGE_GUARD + FAULT_INFO", E_FAULT E_IOCTL E_SIGNAL, w_guard_setup,
	  w_guard, none_cleanup, 4 * OPS },
	{ "guard hit: native PROT_NONE + mprotect (Wine's way)",
	  E_FAULT "__x64_sys_mprotect\n" E_SIGNAL, n_guard_setup, n_guard, none_cleanup, 4 * OPS },
	{ "write watch: first write after reset, 16 pages: winvm MEM_WRITE_WATCH", E_FAULT,
	  ww_fault_setup, w_fault, none_cleanup, OPS / 4 },
	{ "write watch: first write after reset, 16 pages: native async uffd-wp", E_FAULT,
	  uffd_fault_setup, u_fault, none_cleanup, OPS / 4 },
	{ "write watch zoom: the first write's write-protect fault (do_wp_page)", "do_wp_page\n",
	  ww_fault_setup, w_fault, none_cleanup, OPS / 4 },
	{ "write watch zoom: async uffd-wp's write-protect fault (do_wp_page)", "do_wp_page\n",
	  uffd_fault_setup, u_fault, none_cleanup, OPS / 4 },
	{ "write watch: get+reset 4096 pages, 50% written: winvm WATCH_GET(RESET)", E_IOCTL, ww_gr_setup,
	  ww_gr, none_cleanup, OPS / 10 },
	{ "write watch: get+reset 4096 pages, 50% written: native PAGEMAP_SCAN", E_IOCTL, uffd_gr_setup, u_gr,
	  none_cleanup, OPS / 10 },
	{ "write watch zoom: WATCH_GET(RESET) (winvm_watch_get_ioctl)", "winvm_watch_get_ioctl\n",
	  ww_gr_setup, ww_gr, none_cleanup, OPS / 10 },
	{ "write watch zoom: PAGEMAP_SCAN (do_pagemap_scan)", "do_pagemap_scan\n", uffd_gr_setup, u_gr,
	  none_cleanup, OPS / 10 },
};

static void run_case(const struct pcase *c)
{
	int i, ops = c->ops ? c->ops : OPS;

	if (!strstr(c->name, PROFILE_ONLY))
		return;
	if (!tr_arm(c->entries))
		return;
	for (i = 0; i < ops; i++) {
		if (!c->setup()) {
			printf("# %s: setup failed: %s\n", c->name, bench_err);
			break;
		}
		tr_on();
		c->op();
		tr_off();
		c->cleanup();
	}
	close(trace_fd_on);
	tree_read();
	tree_print(c->name, i);
	w_drop();
	n_drop();
	uffd_teardown();
}

int main(void)
{
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_sigaction = guard_handler, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	struct utsname u;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	if (!wv_open() || !tr_setup())
		return 0;
	native_thp(false);
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	printf("@@WINVM-PROFILE-BEGIN@@\n");
	printf("# kernel %s, function_graph, %d operations per case, depth %d\n", u.release, OPS,
	       DEPTH);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	printf("@@WINVM-PROFILE-END@@\n");
	/* (The tracer stays: switching it off would patch every call site again.) */
	tr_write("tracing_on", "0");
	return 0;
}
