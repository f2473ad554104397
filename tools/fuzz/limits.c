// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-limits: memory accounting and kernel-memory bounds.
 *
 *   winvm-limits [--quick]
 *
 *  memcg-user    a process in a cgroup with memory.max = 32M commits and
 *                touches 64 MiB of winvm memory: it must be OOM-killed, get
 *                SIGBUS or see the commit/touch fail, never get all 64 MiB;
 *                the charge goes away with the process.
 *  memcg-kernel  the same, the pages touched by the kernel (read(2) into
 *                the buffer).
 *  reservations  64 KiB reservations in a cgroup with memory.max = 16M until
 *                one fails: the per-allocation kernel memory (shmem file,
 *                VMA, winvm_alloc) is charged, so the count stays bounded.
 *  pagestate     a committed 1 GiB allocation gets a different protection
 *                every other page: the per-page state (maple tree) is
 *                charged to the cgroup too.
 *  faultrecs     threads that fault and exit without reading their record:
 *                at most one record per thread, freed with the context.
 *
 * Needs root and cgroup2 with the memory controller; without them the
 * cgroup parts SKIP with the reason.  The OOM killer's report (with its
 * "Call Trace") is expected here: the console is quietened while the
 * cgroup is at its limit, and the kernel log of that window is re-printed
 * afterwards without the OOM reports, so any other splat still reaches
 * the test runner.
 */
#include "fuzz.h"
#include "tools.h"

#define CG_ROOT		"/sys/fs/cgroup"

static int l_pass, l_fail, l_skip;
static bool l_quick;

#define L_OK(...)   do { l_pass++; fz_log("ok - " __VA_ARGS__); } while (0)
#define L_BAD(...)  do { l_fail++; fz_log("not ok - " __VA_ARGS__); } while (0)
#define L_SKIP(...) do { l_skip++; fz_log("ok - # SKIP " __VA_ARGS__); } while (0)

/* ------------------------------------------------------------------ */
/* Kernel log handling                                                  */
/* ------------------------------------------------------------------ */

static int kmsg_fd = -1;
static char saved_printk[64];

/* Start of a noisy window: quieten the console, remember the log position. */
void noise_begin(void)
{
	int fd;
	ssize_t n;

	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	fd = open("/proc/sys/kernel/printk", O_RDONLY | O_CLOEXEC);
	saved_printk[0] = 0;
	if (fd >= 0) {
		n = read(fd, saved_printk, sizeof(saved_printk) - 1);
		saved_printk[n > 0 ? n : 0] = 0;
		close(fd);
	}
	/* Only EMERG..CRIT reach the console; oopses and lockdep raise it. */
	if (kmsg_fd >= 0)
		fz_write_file("/proc/sys/kernel/printk", "3");
}

static bool oom_line(const char *msg, bool *in_report)
{
	if (strstr(msg, "invoked oom-killer"))
		*in_report = true;
	if (*in_report) {
		if (strstr(msg, "Killed process") || strstr(msg, "oom_reaper"))
			*in_report = false;
		return true;
	}
	return strstr(msg, "oom-kill:") || strstr(msg, "Killed process") ||
	       strstr(msg, "oom_reaper") || strstr(msg, "Memory cgroup out of memory") ||
	       strstr(msg, "Huh VM_FAULT_OOM");
}

/*
 * End of the window: restore the console and re-print everything the
 * kernel said meanwhile except OOM-killer reports, in the console's own
 * "[ seconds.micros] message" form.  Returns the number of lines that
 * look like a splat.
 */
int noise_end(void)
{
	static const char *const splat[] = {
		"BUG:", "WARNING:", "KASAN", "UBSAN", "possible circular", "possible recursive",
		"lockdep", "Oops", "Call Trace", "unreferenced object", "general protection",
		"Kernel panic", "kernel BUG at", "INFO: ", "DEBUG_LOCKS_WARN_ON",
		"blocked for more than",
	};
	char rec[8192];
	bool in_report = false;
	int bad = 0, dropped = 0;

	if (saved_printk[0]) {
		char *sp = strchr(saved_printk, '\t');

		if (sp)
			*sp = 0;
		fz_write_file("/proc/sys/kernel/printk", saved_printk);
	}
	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		unsigned long long usec = 0;
		char *msg, *p;
		unsigned int i;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		*msg++ = 0;
		p = strchr(rec, ',');
		if (p && (p = strchr(p + 1, ',')))
			usec = strtoull(p + 1, NULL, 10);
		p = strchr(msg, '\n');
		if (p)
			*p = 0;
		if (oom_line(msg, &in_report)) {
			dropped++;
			continue;
		}
		for (i = 0; i < sizeof(splat) / sizeof(splat[0]); i++)
			if (strstr(msg, splat[i]))
				bad++;
		fz_log("[%5llu.%06llu] %s\n", usec / 1000000, usec % 1000000, msg);
	}
	close(kmsg_fd);
	kmsg_fd = -1;
	/*
	 * The runner also scans the final dmesg dump: drop the OOM reports
	 * from the ring buffer too (whatever else was logged already went to
	 * the console, or was just re-printed).
	 */
	if (dropped)
		klogctl(5 /* SYSLOG_ACTION_CLEAR */, NULL, 0);
	if (dropped)
		fz_log("# (%d lines of OOM-killer reports not repeated)\n", dropped);
	return bad;
}

/* ------------------------------------------------------------------ */
/* cgroups                                                              */
/* ------------------------------------------------------------------ */

static const char *cg_why;

static bool cg_setup(void)
{
	char buf[512];

	if (access(CG_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(CG_ROOT, 0755);
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL) &&
		    access(CG_ROOT "/cgroup.controllers", F_OK)) {
			cg_why = "cannot mount cgroup2 (kernel without CONFIG_CGROUPS?)";
			return false;
		}
	}
	if (fz_read_file(CG_ROOT "/cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "memory")) {
		cg_why = "cgroup2 has no memory controller (CONFIG_MEMCG)";
		return false;
	}
	if (fz_write_file(CG_ROOT "/cgroup.subtree_control", "+memory")) {
		cg_why = "cannot enable the memory controller";
		return false;
	}
	return true;
}

static int cg_make(char *path, size_t len, const char *name, const char *max)
{
	char f[300];

	snprintf(path, len, CG_ROOT "/%s-%d", name, getpid());
	rmdir(path);
	if (mkdir(path, 0755))
		return -1;
	snprintf(f, sizeof(f), "%s/memory.max", path);
	if (fz_write_file(f, max))
		return -1;
	snprintf(f, sizeof(f), "%s/memory.swap.max", path);
	fz_write_file(f, "0");
	return 0;
}

static int64_t cg_read(const char *cg, const char *file, const char *key)
{
	char f[300], buf[8192], *p;

	snprintf(f, sizeof(f), "%s/%s", cg, file);
	if (fz_read_file(f, buf, sizeof(buf)) < 0)
		return -1;
	if (!key)
		return strtoll(buf, NULL, 10);
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t kl = strlen(key);

		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
	}
	return -1;
}

static void cg_enter(const char *cg)
{
	char f[300], pid[32];

	snprintf(f, sizeof(f), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (fz_write_file(f, pid))
		_exit(90);
}

/* A field of /proc/meminfo in bytes. */
static int64_t meminfo(const char *key)
{
	char buf[8192], *p;
	size_t kl = strlen(key);

	if (fz_read_file("/proc/meminfo", buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtoll(p + kl + 1, NULL, 10) * 1024;
	return -1;
}

/* Waits until the cgroup's charge drops below @below bytes (or timeout). */
static int64_t cg_settle(const char *cg, int64_t below, double secs)
{
	double end = fz_now() + secs;
	int64_t cur;

	do {
		cur = cg_read(cg, "memory.current", NULL);
		if (cur >= 0 && cur < below)
			return cur;
		usleep(100000);
	} while (fz_now() < end);
	return cur;
}

/* ------------------------------------------------------------------ */
/* memcg-user / memcg-kernel                                            */
/* ------------------------------------------------------------------ */

#define TOUCH_SIZE	(64ULL << 20)

static FZ_NORETURN void toucher(const char *cg, bool kernel)
{
	struct winvm_alloc_args a = {
		.size = TOUCH_SIZE, .type = WINVM_MEM_RESERVE | WINVM_MEM_COMMIT,
		.protect = WINVM_PAGE_READWRITE,
	};
	struct fz_res r;
	uint64_t off;
	int fd;

	cg_enter(cg);
	fd = fz_open_winvm();
	if (fd < 0)
		_exit(91);
	r = fz_call(fd, WINVM_IOC_MEM_ALLOC, &a);
	if (r.rc)
		_exit(r.status == WINVM_STATUS_NO_MEMORY ||
		      r.status == WINVM_STATUS_COMMITMENT_LIMIT ? 3 : 92);
	if (kernel) {
		int z = open("/dev/zero", O_RDONLY | O_CLOEXEC);

		for (off = 0; off < TOUCH_SIZE; off += 1 << 20) {
			ssize_t n = read(z, (void *)(uintptr_t)(a.address + off), 1 << 20);

			if (n != 1 << 20)
				_exit(4);	/* the kernel could not charge a page */
		}
	} else {
		for (off = 0; off < TOUCH_SIZE; off += FZ_PAGE)
			*(volatile uint8_t *)(uintptr_t)(a.address + off) = 1;
	}
	_exit(0);
}

static void test_memcg_touch(bool kernel)
{
	const char *name = kernel ? "memcg-kernel" : "memcg-user";
	char cg[256];
	int64_t peak, events, left;
	pid_t pid;
	int rc, bad;

	if (cg_make(cg, sizeof(cg), name, "33554432")) {
		L_BAD("%s: cannot create a cgroup: %s\n", name, strerror(errno));
		return;
	}
	noise_begin();
	pid = fork();
	if (pid == 0)
		toucher(cg, kernel);
	rc = fz_wait(pid);
	left = cg_settle(cg, 2 << 20, 10);
	bad = noise_end();
	peak = cg_read(cg, "memory.peak", NULL);
	events = cg_read(cg, "memory.events", "oom_kill");
	fz_log("# %s: child rc %d (%s), memory.peak %lld, oom_kill %lld, left charged %lld\n",
	       name, rc, rc == 128 + SIGKILL ? "OOM-killed" : rc == 128 + SIGBUS ? "SIGBUS" :
	       rc == 3 ? "commit failed" : rc == 4 ? "kernel touch failed" : rc == 0 ?
	       "touched everything" : "?", (long long)peak, (long long)events, (long long)left);
	if (rc == 0)
		L_BAD("%s: a 32M cgroup touched 64 MiB of winvm memory\n", name);
	else if (rc != 128 + SIGKILL && rc != 128 + SIGBUS && rc != 3 && rc != 4)
		L_BAD("%s: child ended with %d\n", name, rc);
	else if (peak > (int64_t)(33554432 + (1 << 20)))
		L_BAD("%s: memory.peak %lld above memory.max\n", name, (long long)peak);
	else if (left >= (2 << 20))
		L_BAD("%s: %lld bytes still charged after the process died (leak?)\n", name,
		      (long long)left);
	else if (bad)
		L_BAD("%s: %d kernel splats besides the OOM report\n", name, bad);
	else
		L_OK("%s: limited at %lld bytes (%s)\n", name, (long long)peak,
		     rc == 128 + SIGKILL ? "OOM kill" : rc == 128 + SIGBUS ? "SIGBUS" : "failure");
	rmdir(cg);
}

/* ------------------------------------------------------------------ */
/* reservations / pagestate                                             */
/* ------------------------------------------------------------------ */

/* Child of a kernel-memory test: reports through a pipe, then exits. */
struct kres {
	uint64_t count;
	uint32_t last_status;
	int64_t current;
	int64_t kernel;
	int64_t slab;		/* system-wide SUnreclaim */
};

/* Samples the cgroup's charge into @k and sends it to the parent. */
static void kres_send(const char *cg, int wfd, struct kres *k)
{
	k->current = cg_read(cg, "memory.current", NULL);
	k->kernel = cg_read(cg, "memory.stat", "kernel");
	k->slab = meminfo("SUnreclaim");
	if (write(wfd, k, sizeof(*k)) != sizeof(*k))
		_exit(93);
}

static FZ_NORETURN void reserver(const char *cg, int wfd, uint64_t max)
{
	struct kres k = { 0 };
	int fd;

	cg_enter(cg);
	fd = fz_open_winvm();
	if (fd < 0)
		_exit(91);
	for (k.count = 0; k.count < max; k.count++) {
		struct winvm_alloc_args a = {
			.size = FZ_GRAN, .type = WINVM_MEM_RESERVE, .protect = WINVM_PAGE_READWRITE,
		};
		struct fz_res r = fz_call(fd, WINVM_IOC_MEM_ALLOC, &a);

		if (r.rc) {
			k.last_status = r.status;
			break;
		}
		if (!(k.count & 1023))
			kres_send(cg, wfd, &k);
	}
	kres_send(cg, wfd, &k);
	_exit(0);
}

static FZ_NORETURN void stater(const char *cg, int wfd, uint64_t max)
{
	struct winvm_alloc_args a = {
		.size = 1ULL << 30, .type = WINVM_MEM_RESERVE | WINVM_MEM_COMMIT,
		.protect = WINVM_PAGE_READWRITE,
	};
	struct kres k = { 0 };
	struct fz_res r;
	int fd;

	cg_enter(cg);
	fd = fz_open_winvm();
	if (fd < 0)
		_exit(91);
	r = fz_call(fd, WINVM_IOC_MEM_ALLOC, &a);
	if (r.rc)
		_exit(92);
	for (k.count = 0; k.count < max && k.count < (1ULL << 30) / FZ_PAGE / 2; k.count++) {
		struct winvm_protect_args p = {
			.address = a.address + 2 * k.count * FZ_PAGE, .size = FZ_PAGE,
			.protect = WINVM_PAGE_READONLY,
		};

		r = fz_call(fd, WINVM_IOC_MEM_PROTECT, &p);
		if (r.rc) {
			k.last_status = r.status;
			break;
		}
		if (!(k.count & 4095))
			kres_send(cg, wfd, &k);
	}
	kres_send(cg, wfd, &k);
	_exit(0);
}

static void test_kernel_bound(const char *name, const char *max_s, int64_t max,
			      void (*fn)(const char *, int, uint64_t), uint64_t iters,
			      const char *unit)
{
	struct kres k = { 0 }, first = { 0 };
	char cg[256];
	int64_t peak, left;
	int pfd[2], rc, bad;
	bool got_first = false;
	pid_t pid;

	if (cg_make(cg, sizeof(cg), name, max_s) || pipe(pfd)) {
		L_BAD("%s: cannot create a cgroup: %s\n", name, strerror(errno));
		return;
	}
	noise_begin();
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		fn(cg, pfd[1], iters);
	}
	close(pfd[1]);
	for (;;) {
		struct kres t;

		if (read(pfd[0], &t, sizeof(t)) != sizeof(t))
			break;
		if (!got_first) {
			first = t;
			got_first = true;
		}
		k = t;
	}
	close(pfd[0]);
	rc = fz_wait(pid);
	left = cg_settle(cg, 2 << 20, 10);
	bad = noise_end();
	peak = cg_read(cg, "memory.peak", NULL);
	fz_log("# %s: %llu %s, stopped by %s (child rc %d); memory.current %lld, kernel %lld (first sample %lld at %llu), peak %lld, left %lld\n",
	       name, (unsigned long long)k.count, unit,
	       k.count >= iters ? "the iteration cap" : rc == 128 + SIGKILL ? "the OOM killer" :
	       winvm_abi_status_name(k.last_status), rc, (long long)k.current, (long long)k.kernel,
	       (long long)first.kernel, (unsigned long long)first.count, (long long)peak,
	       (long long)left);
	if (k.count > first.count)
		fz_log("# %s: system-wide unreclaimable slab grew by %lld bytes from %llu to %llu %s (%lld per %s)\n",
		       name, (long long)(k.slab - first.slab), (unsigned long long)first.count,
		       (unsigned long long)k.count, unit,
		       (long long)((k.slab - first.slab) / (int64_t)(k.count - first.count)), unit);
	if (k.count > first.count && k.kernel > first.kernel)
		fz_log("# %s: about %lld bytes of charged kernel memory per %s\n", name,
		       (long long)((k.kernel - first.kernel) / (int64_t)(k.count - first.count)),
		       unit);
	if (peak > max + (1 << 20))
		L_BAD("%s: memory.peak %lld above memory.max %lld\n", name, (long long)peak,
		      (long long)max);
	else if (rc != 0 && rc != 128 + SIGKILL)
		L_BAD("%s: child ended with %d\n", name, rc);
	else if (rc == 0 && k.count < iters && k.last_status != WINVM_STATUS_NO_MEMORY &&
		 k.last_status != WINVM_STATUS_COMMITMENT_LIMIT)
		L_BAD("%s: failed with %s instead of NO_MEMORY\n", name,
		      winvm_abi_status_name(k.last_status));
	else if (left >= (2 << 20))
		L_BAD("%s: %lld bytes still charged after the process died (leak?)\n", name,
		      (long long)left);
	else if (bad)
		L_BAD("%s: %d kernel splats besides the OOM report\n", name, bad);
	else if (k.count >= iters && k.kernel >= 0 && k.kernel < max / 4)
		L_BAD("%s: %llu %s only charged %lld bytes of kernel memory: not accounted?\n",
		      name, (unsigned long long)k.count, unit, (long long)k.kernel);
	else
		L_OK("%s: bounded (%llu %s, then %s)\n", name, (unsigned long long)k.count, unit,
		     rc == 128 + SIGKILL ? "the OOM killer" : winvm_abi_status_name(k.last_status));
	rmdir(cg);
}

/*
 * The per-page state is not charged to the cgroup (maple-tree nodes are
 * preallocated without __GFP_ACCOUNT); the module bounds it per process
 * with the max_runs parameter instead.  Lower the bound for the test, so
 * hitting it is quick, and check that the calls then fail cleanly.
 */
#define MAX_RUNS_PARAM	"/sys/module/winvm/parameters/max_runs"

static void test_pagestate(void)
{
	char saved[32] = "", buf[32];
	uint64_t iters = l_quick ? 30000 : 120000;

	if (fz_read_file(MAX_RUNS_PARAM, saved, sizeof(saved)) > 0) {
		char *nl = strchr(saved, '\n');

		if (nl)
			*nl = 0;
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(iters / 2));
		fz_log("# pagestate: max_runs is %s; %s for the test\n", saved, buf);
		fz_write_file(MAX_RUNS_PARAM, buf);
	} else {
		saved[0] = 0;
		fz_log("# pagestate: no max_runs parameter: the cgroup must bound it\n");
	}
	test_kernel_bound("pagestate", "8388608", 8 << 20, stater, iters, "protection calls");
	if (saved[0])
		fz_write_file(MAX_RUNS_PARAM, saved);
}

/* ------------------------------------------------------------------ */
/* faultrecs                                                            */
/* ------------------------------------------------------------------ */

static int fr_fd;
static uint64_t fr_page;

static void *fr_thread(void *arg)
{
	(void)arg;
	fz_thread_signals();
	fz_try_read((void *)(uintptr_t)fr_page, NULL);	/* leaves a record, never read */
	return NULL;
}

static void test_fault_records(void)
{
	struct winvm_alloc_args a = { .size = FZ_PAGE, .type = WINVM_MEM_RESERVE,
				      .protect = WINVM_PAGE_READWRITE };
	struct winvm_fault_info_args f;
	struct fz_res r;
	int i, n = l_quick ? 200 : 2000, faults = 0;

	fr_fd = fz_open_winvm();
	r = fz_call(fr_fd, WINVM_IOC_MEM_ALLOC, &a);
	if (r.rc) {
		L_BAD("faultrecs: alloc -> %s\n", winvm_abi_status_name(r.status));
		return;
	}
	fr_page = a.address;
	for (i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, fr_thread, NULL))
			break;
		pthread_join(t, NULL);
		faults++;
	}
	/* This thread never faulted: no record for it. */
	memset(&f, 0, sizeof(f));
	r = fz_call(fr_fd, WINVM_IOC_FAULT_INFO, &f);
	if (r.status != WINVM_STATUS_NOT_FOUND)
		L_BAD("faultrecs: FAULT_INFO of a thread that never faulted -> %s\n",
		      winvm_abi_status_name(r.status));
	else
		L_OK("faultrecs: %d exited threads left their records; bounded by the number of thread ids, freed with the context (kmemleak checks it)\n",
		     faults);
	close(fr_fd);
	r = fz_call(fr_fd, WINVM_IOC_FAULT_INFO, &f);
	(void)r;
}

/* ------------------------------------------------------------------ */

int fz_limits_main(int argc, char **argv)
{
	int i, fd;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--quick"))
			l_quick = true;
	fd = fz_open_winvm();
	if (fd < 0) {
		fz_log("winvm-limits: SKIP: cannot open /dev/winvm: %s\n", strerror(errno));
		return FZ_EXIT_SKIP;
	}
	close(fd);
	fz_install_signals();
	fz_log("winvm-limits: %s\n", l_quick ? "quick" : "full");
	test_fault_records();
	if (geteuid() != 0) {
		L_SKIP("memcg: needs root\n");
	} else if (!cg_setup()) {
		L_SKIP("memcg: %s\n", cg_why);
	} else {
		test_memcg_touch(false);
		test_memcg_touch(true);
		test_kernel_bound("reservations", "16777216", 16 << 20, reserver,
				  l_quick ? 20000 : 100000, "reservations");
		test_pagestate();
	}
	fz_log("winvm-limits: pass=%d fail=%d skip=%d result=%s\n", l_pass, l_fail, l_skip,
	       l_fail ? "FAIL" : "PASS");
	return l_fail ? FZ_EXIT_FAIL : l_pass ? FZ_EXIT_PASS : FZ_EXIT_SKIP;
}

