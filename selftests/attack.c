// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: adversarial cases.  /dev/winvm is mode 0666, so every
 * local user reaches the module; these tests play the unprivileged caller
 * (uid 65534 with no capabilities, or root of a user namespace of its own)
 * where it matters, and push the module where its limits are:
 *
 *  1. write-copy races (the Dirty-COW class): readers and writers fault the
 *     same never-written page of a FILE_MAP_COPY view at once, with and
 *     without MEM_PROTECT dropping the PTEs; the section (a root-owned
 *     file the caller may only read, or a pagefile section it holds
 *     through a read-only handle) must never change;
 *  2. MEM_PROTECT across more than 200 000 page-state runs, and across
 *     ~100 000 VMAs of alternating execute class: success or
 *     STATUS_NO_MEMORY, never a kernel warning;
 *  3. remap_file_pages(2) on winvm VMAs;
 *  4. MADV_HUGEPAGE over per-page protections (huge shmem);
 *  5. the fault records of threads that died without reading them;
 *  6. named sections across users and user namespaces;
 *  7. what a handle with a single SECTION_MAP_* right maps.
 *
 * Environment (all optional):
 *   WINVM_RACE_SECONDS  length of each race variant (default 15: the four
 *                       variants hammer faults for 60 s per kernel)
 *   WINVM_RUNS_PAGES    pages of the run-count case (default 262144,
 *                       never below 180000: the old code warned past
 *                       175 000 runs)
 *   WINVM_EXEC_PAGES    pages of the alternating execute-class case
 *                       (default 100000, at most 120000)
 *   WINVM_DEAD_THREADS  threads of the fault-record case (default 20000)
 * The test guest runs the binaries without an environment; build with
 * -DWINVM_RACE_DEFAULT=<seconds> for another length there.  With the
 * defaults the races take 4 x 15 s and the rest about a minute and a half
 * under TCG.
 *
 * Children report through their exit status (CHILD_CHECK counts
 * failures); exit status 4 means "cannot set this up here" (SKIP).
 */
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "winvm_test.h"

#define NOBODY		WV_NOBODY
#define CHILD_SKIP	4
#define EXT4_MAGIC	0xef53
#define MIB		(1ULL << 20)

#ifndef WINVM_RACE_DEFAULT
#define WINVM_RACE_DEFAULT	15
#endif

#define NEED_ROOT() do {							\
	if (geteuid() != 0)							\
		SKIP(return, "needs root (to switch uids and create files)");	\
} while (0)

/* Waits for a child; SKIP when it could not set up its credentials. */
#define ASSERT_CHILD_OK(pid) do {						\
	int __rc = wv_wait(pid);						\
	if (__rc == CHILD_SKIP)							\
		SKIP(return, "the child could not drop to uid %d", NOBODY);	\
	ASSERT_EQ(0, __rc);							\
} while (0)

/* A line of the test log from a forked child. */
#define CLOG(fmt, ...)	fprintf(stderr, "#   [child %d] " fmt "\n", (int)getpid(), ##__VA_ARGS__)

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 0);
	return *end ? def : v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* Credentials                                                          */
/* ------------------------------------------------------------------ */

/*
 * In a child that is already 65534: a user namespace of its own whose
 * root is 65534 ("0 65534 1"), so it has every capability there and none
 * outside.
 */
static int enter_userns_as_root(void)
{
	static const char map[] = "0 65534 1\n";
	int fd;

	/* setresuid() made us non-dumpable: /proc/self would be root's. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) || unshare(CLONE_NEWUSER))
		return -1;
	fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, map, sizeof(map) - 1) != (ssize_t)sizeof(map) - 1) {
		close(fd);
		return -1;
	}
	close(fd);
	return geteuid() == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Faults in threads: a per-thread jump buffer                          */
/* ------------------------------------------------------------------ */

static __thread sigjmp_buf at_jmp;
static __thread volatile sig_atomic_t at_armed;

static void at_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (at_armed) {
		at_armed = 0;
		siglongjmp(at_jmp, 1);
	}
	signal(sig, SIG_DFL);
}

/* Replaces the fixture's SIGSEGV/SIGBUS handler (which is not per thread). */
static void at_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = at_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static __attribute__((noinline)) bool at_write(volatile uint8_t *p, uint8_t v)
{
	if (sigsetjmp(at_jmp, 1))
		return false;
	at_armed = 1;
	*p = v;
	at_armed = 0;
	return true;
}

static __attribute__((noinline)) bool at_read(const volatile uint8_t *p, uint8_t *v)
{
	uint8_t x;

	if (sigsetjmp(at_jmp, 1))
		return false;
	at_armed = 1;
	x = *p;
	at_armed = 0;
	if (v)
		*v = x;
	return true;
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

/* Creates @path (mode @mode, whatever the umask) holding pattern @seed. */
static int make_file(const char *path, uint64_t size, unsigned int seed, mode_t mode)
{
	uint8_t buf[4096];
	uint64_t off;
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode))
		return -1;
	for (off = 0; off < size; off += sizeof(buf)) {
		size_t i, n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		for (i = 0; i < n; i++)
			buf[i] = wv_pat(off + i, seed);
		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			close(fd);
			return -1;
		}
	}
	if (fsync(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * read(2) of [@from, @to) of the file against pattern @seed: the first
 * offset that differs, or -1 when all match (-2 when the read fails).
 */
static long file_diff(int fd, uint64_t from, uint64_t to, unsigned int seed)
{
	uint8_t buf[4096];
	uint64_t off;

	for (off = from; off < to; off += sizeof(buf)) {
		size_t i, n = to - off < sizeof(buf) ? to - off : sizeof(buf);

		if (pread(fd, buf, n, off) != (ssize_t)n)
			return -2;
		for (i = 0; i < n; i++)
			if (buf[i] != wv_pat(off + i, seed))
				return (long)(off + i);
	}
	return -1;
}

/* Memory against pattern @seed: the first differing offset, or -1. */
static long mem_diff(uint64_t addr, uint64_t len, unsigned int seed)
{
	const volatile uint8_t *b = PTR(addr);
	uint64_t i;

	for (i = 0; i < len; i++)
		if (b[i] != wv_pat(i, seed))
			return (long)i;
	return -1;
}

static void fill_pat(uint64_t addr, uint64_t len, unsigned int seed)
{
	uint8_t *b = PTR(addr);
	uint64_t i;

	for (i = 0; i < len; i++)
		b[i] = wv_pat(i, seed);
}

/* Whether @dir is the root of a mounted ext4 file system. */
static bool is_ext4_mount(const char *dir)
{
	char parent[256];
	struct statfs fs;
	struct stat a, b;

	if (statfs(dir, &fs) || fs.f_type != EXT4_MAGIC)
		return false;
	snprintf(parent, sizeof(parent), "%s/..", dir);
	return !stat(dir, &a) && !stat(parent, &b) && a.st_dev != b.st_dev;
}

/* Whether the kernel has warned since boot (the W taint, bit 9). */
static bool kernel_warned(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	unsigned long t = 0;

	if (!f)
		return false;
	if (fscanf(f, "%lu", &t) != 1)
		t = 0;
	fclose(f);
	return t & (1UL << 9);
}

/* A section status and errno the ABI documents (for "sensible" results). */
static bool st_documented(uint32_t st, int err)
{
	int want = winvm_abi_status_errno(st);

	return strcmp(winvm_abi_status_name(st), "<undocumented>") &&
	       st != WINVM_ABI_UNWRITTEN && want >= 0 && want == err;
}

/* ================================================================== */
/* 1. Write-copy races                                                  */
/* ================================================================== */

/*
 * The bug guarded against: a writer's fault on a never-written page of a
 * write-copy view makes the private copy, but a reader that faulted the
 * same page a moment earlier installs the section's own page read-only
 * first; the writer's retried write then finds a present read-only PTE,
 * ->page_mkwrite sees "already copied" and lets the core make the
 * section's page writable, so the write reaches the file.  Readers here
 * hammer exactly the page a writer is writing, and MEM_PROTECT (in one
 * variant) keeps dropping the PTEs so that every page is faulted again.
 */
#define RACE_PAGES	64
#define RACE_SIZE	(RACE_PAGES * WV_PAGE)
#define RACE_WRITERS	2
#define RACE_READERS	2
#define RACE_SEED	41

struct race_result {		/* MAP_SHARED between the test and its child */
	unsigned long iterations;
	unsigned long wretries;
	double seconds;
	double race_s;		/* of which between the start and end barriers */
	double slowest;		/* the longest of those, one iteration */
	long bad_iter;		/* first iteration that failed a check, or -1 */
	long bad_off;		/* offset of the section that changed, or -1 */
	char what[160];
};

struct race {
	int ctx;			/* the child's /dev/winvm */
	int sfd;			/* the section, read access only */
	int file;			/* the file, O_RDONLY, or -1 (pagefile) */
	uint64_t check;			/* pagefile: a FILE_MAP_READ view of it */
	bool protect;
	volatile uint64_t view;
	volatile uint32_t iter;
	volatile int stop;		/* the writers are done */
	volatile int quit;
	volatile unsigned int cur[RACE_WRITERS];
	int writers_left;
	unsigned long wretries;
	int errors;
	char err[160];
	pthread_barrier_t go, done;
};

struct race_thread {
	struct race *r;
	int idx;
	pthread_t tid;
};

static uint8_t race_mark(uint32_t iter, uint64_t off, int w)
{
	return wv_pat(off, RACE_SEED) ^ (uint8_t)(1 + (iter * 7 + w) % 255);
}

static void race_error(struct race *r, const char *what, uint64_t off)
{
	if (__atomic_fetch_add(&r->errors, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(r->err, sizeof(r->err), "iteration %u: %s (offset 0x%llx)",
			 r->iter, what, (unsigned long long)off);
}

static void *race_writer(void *arg)
{
	struct race_thread *t = arg;
	struct race *r = t->r;
	int w = t->idx;

	for (;;) {
		uint32_t i, p, tries;
		uint64_t off;

		pthread_barrier_wait(&r->go);
		if (r->quit)
			break;
		for (i = 0; i < RACE_PAGES; i++) {
			p = (w * RACE_PAGES / RACE_WRITERS + i) % RACE_PAGES;
			off = p * WV_PAGE + w * 64;
			__atomic_store_n(&r->cur[w], p, __ATOMIC_RELEASE);
			for (tries = 0; !at_write(PTR(r->view + off), race_mark(r->iter, off, w));
			     tries++) {
				__atomic_fetch_add(&r->wretries, 1, __ATOMIC_RELAXED);
				/* Only MEM_PROTECT to READONLY may refuse a write. */
				if (!r->protect || tries > 1000000) {
					race_error(r, "write to the write-copy view faulted", off);
					break;
				}
				sched_yield();
			}
		}
		if (__atomic_sub_fetch(&r->writers_left, 1, __ATOMIC_SEQ_CST) == 0)
			__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

/* Reads the page a writer is on, over and over, and every page now and then. */
static __attribute__((noinline)) void race_read_loop(struct race *r, int idx)
{
	const volatile uint8_t *v = PTR(r->view);
	volatile unsigned int n = 0;
	unsigned int p, q;

	if (sigsetjmp(at_jmp, 1)) {
		race_error(r, "read of the write-copy view faulted", 0);
		return;
	}
	at_armed = 1;
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		p = __atomic_load_n(&r->cur[(idx + n) % RACE_WRITERS], __ATOMIC_ACQUIRE);
		(void)v[p * WV_PAGE + ((n * 1031 + idx * 64 + 32) & (WV_PAGE - 1))];
		if ((++n & 63) == 0) {
			for (q = 0; q < RACE_PAGES; q++)
				(void)v[q * WV_PAGE + 2048];
			/* Two vCPUs: spinning readers must not starve the writers. */
			sched_yield();
		}
	}
	at_armed = 0;
}

static void *race_reader(void *arg)
{
	struct race_thread *t = arg;
	struct race *r = t->r;

	for (;;) {
		pthread_barrier_wait(&r->go);
		if (r->quit)
			break;
		race_read_loop(r, t->idx);
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

/* The section still holds the pattern: -1, else the first changed offset. */
static long race_section_diff(struct race *r)
{
	if (r->file >= 0)
		return file_diff(r->file, 0, RACE_SIZE, RACE_SEED);
	return mem_diff(r->check, RACE_SIZE, RACE_SEED);
}

/* The view shows every write, and the section's bytes elsewhere. */
static bool race_view_ok(struct race *r, uint64_t *bad)
{
	const volatile uint8_t *v = PTR(r->view);
	uint64_t p, off;
	int w;

	for (p = 0; p < RACE_PAGES; p++) {
		for (w = 0; w < RACE_WRITERS; w++) {
			off = p * WV_PAGE + w * 64;
			if (v[off] != race_mark(r->iter, off, w)) {
				*bad = off;
				return false;
			}
		}
		off = p * WV_PAGE + 3000;
		if (v[off] != wv_pat(off, RACE_SEED)) {
			*bad = off;
			return false;
		}
	}
	return true;
}

/* The child's part, as uid 65534: returns the number of failed checks. */
static int race_child(struct race *r, struct race_result *res, double secs)
{
	struct race_thread th[RACE_WRITERS + RACE_READERS];
	double t0 = now_s(), t1;
	int i, n = RACE_WRITERS + RACE_READERS;
	uint64_t bad;
	long diff;

	at_install();
	pthread_barrier_init(&r->go, NULL, n + 1);
	pthread_barrier_init(&r->done, NULL, n + 1);
	for (i = 0; i < n; i++) {
		th[i].r = r;
		th[i].idx = i < RACE_WRITERS ? i : i - RACE_WRITERS;
		if (pthread_create(&th[i].tid, NULL, i < RACE_WRITERS ? race_writer : race_reader,
				   &th[i])) {
			CLOG("pthread_create failed");
			_exit(CHILD_SKIP);
		}
	}
	while (now_s() - t0 < secs && !r->errors) {
		uint64_t a = 0, s = RACE_SIZE;
		uint32_t st = wv_map(r->ctx, r->sfd, MAP_C, &a, 0, &s, 0, 0);

		if (st != ST_OK) {
			race_error(r, winvm_abi_status_name(st), 0);
			strncat(r->err, ": FILE_MAP_COPY view", sizeof(r->err) - strlen(r->err) - 1);
			break;
		}
		r->view = a;
		r->iter++;
		r->stop = 0;
		r->writers_left = RACE_WRITERS;
		t1 = now_s();
		pthread_barrier_wait(&r->go);
		/* The protect variant: keep dropping every PTE while they race. */
		while (r->protect && !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
			st = wv_protect_at(r->ctx, a, RACE_SIZE, RO);
			if (st == ST_OK)
				st = wv_protect_at(r->ctx, a, RACE_SIZE, WCOPY);
			if (st != ST_OK) {
				race_error(r, winvm_abi_status_name(st), 0);
				strncat(r->err, ": MEM_PROTECT of the view",
					sizeof(r->err) - strlen(r->err) - 1);
				/* Let the writers finish. */
				wv_protect_at(r->ctx, a, RACE_SIZE, WCOPY);
				break;
			}
			sched_yield();
		}
		pthread_barrier_wait(&r->done);
		t1 = now_s() - t1;
		res->race_s += t1;
		if (t1 > res->slowest)
			res->slowest = t1;
		res->iterations++;
		diff = race_section_diff(r);
		if (diff != -1) {
			res->bad_off = diff;
			race_error(r, "the section changed under a write-copy view", diff);
		} else if (!r->errors && !race_view_ok(r, &bad)) {
			race_error(r, "the view does not show what was written", bad);
		}
		st = wv_unmap(r->ctx, a);
		if (st != ST_OK && !r->errors)
			race_error(r, "VIEW_UNMAP failed", 0);
	}
	r->quit = 1;
	pthread_barrier_wait(&r->go);
	for (i = 0; i < n; i++)
		pthread_join(th[i].tid, NULL);
	res->seconds = now_s() - t0;
	res->wretries = r->wretries;
	if (r->errors) {
		res->bad_iter = r->iter;
		snprintf(res->what, sizeof(res->what), "%s", r->err);
		CLOG("race failed: %s", r->err);
	}
	return r->errors ? 1 : 0;
}

/* /dev/winvm for the test, or SKIP when the module is not loaded. */
#define OPEN_DEV_OR_SKIP(fd) do {						\
	(fd) = open(WV_DEV, O_RDWR | O_CLOEXEC);				\
	if ((fd) < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))	\
		SKIP(return, "no %s: winvm module not loaded", WV_DEV);		\
	ASSERT_LE(0, (fd));							\
} while (0)

/* Fixtures holding a device fd and a file to remove afterwards. */
#define FILE_FIXTURE_SETUP(name)						\
	FIXTURE_SETUP(name)							\
	{									\
		self->path[0] = 0;						\
		OPEN_DEV_OR_SKIP(self->fd);					\
	}
#define FILE_FIXTURE_TEARDOWN(name)						\
	FIXTURE_TEARDOWN_PARENT(name)						\
	{									\
		if (self->path[0])						\
			unlink(self->path);					\
	}

FIXTURE(race) {
	char path[128];
	int fd;
};

FIXTURE_VARIANT(race) {
	const char *dir;	/* directory of the file, NULL: pagefile section */
	bool ext4;		/* dir must be a mounted ext4 */
	bool protect;		/* MEM_PROTECT drops the PTEs meanwhile */
};

FIXTURE_VARIANT_ADD(race, tmpfs_file) {
	.dir = "/tmp", .ext4 = false, .protect = false,
};

FIXTURE_VARIANT_ADD(race, ext4_file) {
	.dir = "/mnt/ext4", .ext4 = true, .protect = false,
};

FIXTURE_VARIANT_ADD(race, tmpfs_file_protect) {
	.dir = "/tmp", .ext4 = false, .protect = true,
};

FIXTURE_VARIANT_ADD(race, pagefile_readonly_handle) {
	.dir = NULL, .ext4 = false, .protect = false,
};

FILE_FIXTURE_SETUP(race)

/*
 * Teardowns run in the harness's parent process, after the test's process
 * is gone (with this harness an ASSERT in the test can skip a teardown in
 * the test's own process): they only remove files, mounts and cgroups.
 */
FILE_FIXTURE_TEARDOWN(race)

TEST_F_TIMEOUT(race, writecopy_never_reaches_the_section, WINVM_RACE_DEFAULT * 3 + 300)
{
	double secs = env_ulong("WINVM_RACE_SECONDS", WINVM_RACE_DEFAULT);
	struct race_result *res;
	int file = -1, rdfile = -1, sfd = -1, rofd = -1, rc;
	uint64_t wview = 0;
	pid_t pid;

	NEED_ROOT();
	if (variant->ext4 && !is_ext4_mount(variant->dir))
		SKIP(return, "%s is not a mounted ext4", variant->dir);
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	memset(res, 0, sizeof(*res));
	res->bad_iter = res->bad_off = -1;

	if (variant->dir) {
		/* Root's file, world-readable; nobody may write it. */
		snprintf(self->path, sizeof(self->path), "%s/winvm-attack-race-%d",
			 variant->dir, (int)getpid());
		file = make_file(self->path, RACE_SIZE, RACE_SEED, 0644);
		ASSERT_LE(0, file) TH_LOG("creating %s: %s", self->path, strerror(errno));
		rdfile = open(self->path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, rdfile);
	} else {
		/* A pagefile section; the child gets a read-only handle only. */
		sfd = wv_must_section(self->fd, RACE_SIZE, RW, 0);
		wview = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		fill_pat(wview, RACE_SIZE, RACE_SEED);
		ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R, &rofd));
	}

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static struct race r;
		int fails = 0, rw;

		if (file >= 0)
			close(file);	/* root's O_RDWR fd */
		if (sfd >= 0)
			close(sfd);	/* only the read-only handle stays */
		wv_fault.fd = -1;
		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		r.ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
		r.protect = variant->protect;
		r.file = -1;
		CHILD_CHECK(fails, r.ctx >= 0);
		if (variant->dir) {
			r.file = open(self->path, O_RDONLY | O_CLOEXEC);
			if (r.file < 0) {
				/* A directory closed to others: use root's read-only fd. */
				CLOG("open(%s, O_RDONLY) as uid 65534: %s; using an inherited O_RDONLY fd",
				     self->path, strerror(errno));
				r.file = rdfile;
			}
			CHILD_CHECK(fails, r.file >= 0);
			/* Not even nobody's own write access to the file. */
			rw = open(self->path, O_RDWR | O_CLOEXEC);
			CHILD_CHECK(fails, rw < 0 && errno == EACCES);
			CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_create(r.ctx, 0, WCOPY, 0, r.file,
									 0, NULL, 0, &r.sfd)));
		} else {
			r.sfd = rofd;
			/* The handle really is read-only. */
			CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
						    wv_map_at(r.ctx, r.sfd, MAP_W, 0, 0, 0)));
			r.check = 0;
			{
				uint64_t s = 0;

				CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_map(r.ctx, r.sfd, MAP_R,
									  &r.check, 0, &s, 0, 0)));
			}
		}
		if (fails)
			_exit(fails);
		fails += race_child(&r, res, secs);
		_exit(fails);
	}
	if (rofd >= 0)
		close(rofd);
	rc = wv_wait(pid);
	if (rc == CHILD_SKIP)
		SKIP(return, "the child could not drop to uid %d", NOBODY);
	/* (Information only: a slow iteration is writers losing to readers.) */
	TH_LOG("%s%s: %lu iterations in %.1f s (%.1f per 60 s; %.1f s of it racing, slowest iteration %.2f s), %lu write retries",
	       variant->dir ? variant->dir : "pagefile", variant->protect ? " + MEM_PROTECT" : "",
	       res->iterations, res->seconds,
	       res->seconds > 0 ? res->iterations * 60.0 / res->seconds : 0.0, res->race_s,
	       res->slowest, res->wretries);
	ASSERT_EQ(-1, res->bad_iter) TH_LOG("%s", res->what);
	ASSERT_EQ(0, rc);
	/* And from outside, after the child is gone: the section never changed. */
	if (variant->dir) {
		long d = file_diff(file, 0, RACE_SIZE, RACE_SEED);

		ASSERT_EQ(-1, d) TH_LOG("root's file changed at offset 0x%lx", d);
	} else {
		long d = mem_diff(wview, RACE_SIZE, RACE_SEED);

		ASSERT_EQ(-1, d) TH_LOG("the section changed at offset 0x%lx", d);
	}
	ASSERT_LT(0UL, res->iterations);
}

/* ================================================================== */
/* 2. Huge run counts                                                   */
/* ================================================================== */

/*
 * One MEM_PROTECT over [a, a + size), which starts READWRITE: SUCCESS (the
 * whole range, old protection READWRITE) or NO_MEMORY, never a kernel
 * warning, however many runs or VMAs it spans.
 */
static uint32_t protect_whole(struct __test_metadata *_metadata, int fd, uint64_t a,
			      uint64_t size, uint32_t prot, const char *what)
{
	bool warned = kernel_warned();
	uint64_t p = a, s = size;
	uint32_t st, old = 0;
	double t0 = now_s();

	st = wv_protect(fd, &p, &s, prot, &old);
	if (!warned)
		EXPECT_FALSE(kernel_warned()) TH_LOG("the kernel WARNed (see dmesg)");
	TH_LOG("one MEM_PROTECT %s -> %s in %.3f s", what, winvm_abi_status_name(st),
	       now_s() - t0);
	EXPECT_TRUE(st == ST_OK || st == WINVM_STATUS_NO_MEMORY) TH_LOG("status 0x%08x", st);
	EXPECT_TRUE(st_documented(st, wv_errno));
	if (st == ST_OK) {
		EXPECT_EQ((uint32_t)RW, old);
		EXPECT_EQ(a, p);
		EXPECT_EQ(size, s);
	}
	return st;
}

/*
 * MEM_PROTECT saves the old state of every run it changes, so that a
 * failure can put them back; with more than ~175 000 runs that was one
 * kmalloc of more than 4 MiB, which the page allocator WARNs about.  The
 * call must succeed or fail with STATUS_NO_MEMORY, and never warn.
 */
TEST_F_TIMEOUT(winvm, protect_across_200k_runs, 900)
{
	uint64_t pages = env_ulong("WINVM_RUNS_PAGES", 262144), size, a, i;
	double t0, t1;
	uint32_t st;

	if (pages < 180000)
		pages = 180000;	/* past the old code's 175 000-run threshold */
	size = pages * WV_PAGE;
	a = wv_must_alloc(self->fd, 0, size, RESERVE | COMMIT, RW);
	t0 = now_s();
	for (i = 1; i < pages; i += 2) {
		st = wv_protect_at(self->fd, a + i * WV_PAGE, WV_PAGE, RO);
		ASSERT_NT(ST_OK, st) TH_LOG("page %llu", (unsigned long long)i);
	}
	t1 = now_s();
	TH_LOG("%llu pages, %llu runs made with %llu MEM_PROTECT calls in %.2f s",
	       (unsigned long long)pages, (unsigned long long)pages,
	       (unsigned long long)pages / 2, t1 - t0);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, RW, WV_PAGE, COMMIT, RO,
		  WINVM_MEM_PRIVATE);

	st = protect_whole(_metadata, self->fd, a, size, WINVM_PAGE_READONLY, "across the runs");
	if (st == ST_OK) {
		ASSERT_VQ(self->fd, a, a, a, RW, size, COMMIT, RO, WINVM_MEM_PRIVATE);
		ASSERT_VQ(self->fd, a + size - WV_PAGE, a + size - WV_PAGE, a, RW, WV_PAGE,
			  COMMIT, RO, WINVM_MEM_PRIVATE);
		ASSERT_VQ(self->fd, a + size / 2 + WV_PAGE, a + size / 2 + WV_PAGE, a, RW,
			  size / 2 - WV_PAGE, COMMIT, RO, WINVM_MEM_PRIVATE);
	} else {
		/* Nothing changed. */
		ASSERT_VQ(self->fd, a, a, a, RW, WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
		ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, RW, WV_PAGE, COMMIT, RO,
			  WINVM_MEM_PRIVATE);
	}
	t0 = now_s();
	ASSERT_NT(ST_OK, wv_free_at(self->fd, a, 0, RELEASE));
	TH_LOG("MEM_RELEASE in %.3f s", now_s() - t0);
}

#define MAX_RUNS_PARAM	"/sys/module/winvm/parameters/max_runs"

/* Read or write a module parameter; false if that is not possible here. */
static bool param_rw(const char *path, char *buf, size_t len, bool write_it)
{
	int fd = open(path, (write_it ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = write_it ? write(fd, buf, strlen(buf)) : read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	if (!write_it)
		buf[n] = 0;
	return true;
}

/* Commit @n alternate pages from page @first of a view at @v; returns how many took. */
static int commit_alternate(int fd, uint64_t v, uint64_t first, int n, uint32_t *st)
{
	uint64_t b, s;
	int i, done = 0;

	for (i = 0; i < n && *st == ST_OK; i++) {
		b = v + (first + 2 * i) * WV_PAGE;
		s = WV_PAGE;
		*st = wv_alloc(fd, &b, &s, 0, COMMIT, RW);
		done += *st == ST_OK;
	}
	return done;
}

/*
 * A SEC_RESERVE section's committed pages outlive the views that commit
 * them, and with them the runs of its page-state tree, which no memory
 * cgroup is charged for: unmapping and mapping again must not let them
 * grow without bound (T-ALLOC).  With max_runs lowered to 64, the 65th
 * run is refused with NO_MEMORY, and the section stays usable.
 */
TEST_F_TIMEOUT(winvm, section_runs_are_bounded, 300)
{
	char saved[32], low[] = "64";
	uint32_t st = ST_OK;
	int sfd, round, done = 0;
	uint64_t v, vs;

	if (!param_rw(MAX_RUNS_PARAM, saved, sizeof(saved), false) ||
	    !param_rw(MAX_RUNS_PARAM, low, sizeof(low), true))
		SKIP(return, "max_runs is not writable here");
	sfd = -1;
	if (wv_sec_create(self->fd, 4096 * WV_PAGE, RW, SEC_RESERVE, -1, 0, NULL, 0, &sfd))
		sfd = -1;
	for (round = 0; sfd >= 0 && round < 8 && st == ST_OK; round++) {
		v = 0;
		vs = 0;
		if (wv_map(self->fd, sfd, MAP_W, &v, 0, &vs, 0, 0) != ST_OK)
			break;
		done += commit_alternate(self->fd, v, round * 48, 24, &st);
		wv_unmap(self->fd, v);
	}
	param_rw(MAX_RUNS_PARAM, saved, sizeof(saved), true);
	ASSERT_LE(0, sfd);
	TH_LOG("%d runs committed in %d rounds, then 0x%x", done, round, st);
	/* (The ioctl's errno is gone: the view was unmapped since.) */
	ASSERT_HEX(WINVM_STATUS_NO_MEMORY, st);
	ASSERT_EQ(64, done);
	/* The runs that were made still hold: page 0 is committed. */
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	ASSERT_TRUE(wv_try_write(PTR(v), 1));
	ASSERT_NT(ST_OK, wv_unmap(self->fd, v));
	close(sfd);
}

/*
 * The execute class alternating page by page: one VMA per page (the guest
 * allows 262144), then one MEM_PROTECT to a single class merges them.
 */
TEST_F_TIMEOUT(winvm, protect_across_alternating_exec_class, 900)
{
	uint64_t pages = env_ulong("WINVM_EXEC_PAGES", 100000), size, a, p, s, i;
	uint32_t st, old = 0;
	double t0, t1;
	int lines;

	if (pages > 120000)
		pages = 120000;
	if (pages < 2)
		pages = 2;
	size = pages * WV_PAGE;
	a = wv_must_alloc(self->fd, 0, size, RESERVE | COMMIT, RW);
	t0 = now_s();
	for (i = 1; i < pages; i += 2) {
		st = wv_protect_at(self->fd, a + i * WV_PAGE, WV_PAGE, EXR);
		if (st != ST_OK) {
			TH_LOG("page %llu of %llu: %s (vm.max_map_count too low?)",
			       (unsigned long long)i, (unsigned long long)pages,
			       winvm_abi_status_name(st));
			pages = i & ~1ULL;
			break;
		}
	}
	t1 = now_s();
	lines = wv_maps_lines(a, a + size);
	TH_LOG("%llu pages of alternating RW / EXECUTE_READ: %d VMAs, made in %.2f s",
	       (unsigned long long)pages, lines, t1 - t0);
	ASSERT_LE(2ULL, pages);
	size = pages * WV_PAGE;
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, RW, WV_PAGE, COMMIT, EXR,
		  WINVM_MEM_PRIVATE);

	st = protect_whole(_metadata, self->fd, a, size, RW, "to READWRITE across the VMAs");
	if (st == ST_OK) {
		ASSERT_VQ(self->fd, a, a, a, RW, size, COMMIT, RW, WINVM_MEM_PRIVATE);
		lines = wv_maps_lines(a, a + size);
		TH_LOG("VMAs after: %d", lines);
		ASSERT_EQ(1, lines);
		/* And back the other way, all executable. */
		p = a;
		s = size;
		t0 = now_s();
		st = wv_protect(self->fd, &p, &s, EXR, &old);
		TH_LOG("MEM_PROTECT back to EXECUTE_READ -> %s in %.3f s",
		       winvm_abi_status_name(st), now_s() - t0);
		ASSERT_TRUE(st == ST_OK || st == WINVM_STATUS_NO_MEMORY);
		if (st == ST_OK)
			ASSERT_VQ(self->fd, a, a, a, RW, size, COMMIT, EXR, WINVM_MEM_PRIVATE);
	} else {
		ASSERT_VQ(self->fd, a, a, a, RW, WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
		ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, RW, WV_PAGE, COMMIT, EXR,
			  WINVM_MEM_PRIVATE);
	}
	ASSERT_NT(ST_OK, wv_free_at(self->fd, a, 0, RELEASE));
	ASSERT_EQ(0, wv_maps_lines(a, a + pages * WV_PAGE));
}

/* ================================================================== */
/* 3. remap_file_pages(2)                                               */
/* ================================================================== */

/*
 * remap_file_pages() is emulated by the kernel as an mmap(MAP_FIXED |
 * MAP_SHARED) of the VMA's vm_file at another offset: the file's own
 * ->mmap, not winvm's.  On a winvm VMA that is the allocation's or the
 * section's file mapped raw, past every per-page check.  What each kind of
 * VMA does is logged (for the documentation); the checks are:
 *  - a read-only view refuses it (EINVAL), a write-copy view too (EACCES
 *    or EINVAL);
 *  - nothing is written where the caller has no write access: a section
 *    held through a read-only handle, or the part of root's file past the
 *    end of a section over it;
 *  - afterwards VirtualQuery answers, MEM_RELEASE / VIEW_UNMAP report a
 *    documented status, and everything goes with munmap().
 */
enum remap_kind {
	REMAP_PRIVATE,		/* the caller's own allocation */
	REMAP_VIEW_READ,	/* FILE_MAP_READ through a read-only handle */
	REMAP_VIEW_COPY,	/* FILE_MAP_COPY through a read-only handle */
	REMAP_VIEW_RW_PAGEFILE,	/* FILE_MAP_WRITE of a pagefile section */
	REMAP_VIEW_RW_SHORT,	/* FILE_MAP_WRITE, section smaller than its file */
};

FIXTURE(remap) {
	char path[128];
	int fd;
};

FIXTURE_VARIANT(remap) {
	enum remap_kind kind;
};

FIXTURE_VARIANT_ADD(remap, private_alloc) { .kind = REMAP_PRIVATE };
FIXTURE_VARIANT_ADD(remap, view_read) { .kind = REMAP_VIEW_READ };
FIXTURE_VARIANT_ADD(remap, view_copy) { .kind = REMAP_VIEW_COPY };
FIXTURE_VARIANT_ADD(remap, view_write_pagefile) { .kind = REMAP_VIEW_RW_PAGEFILE };
FIXTURE_VARIANT_ADD(remap, view_write_file_larger_than_section) { .kind = REMAP_VIEW_RW_SHORT };

FILE_FIXTURE_SETUP(remap)
FILE_FIXTURE_TEARDOWN(remap)

#define REMAP_SEED	53
#define REMAP_SECTION	0x10000ULL	/* section and view size */
#define REMAP_FILE	0x20000ULL	/* the file of the "short" section */

static const char *remap_errno(int r)
{
	return r ? strerror(errno) : "ok";
}

/* The child, as uid 65534; @sfd is the handle it was given (or -1). */
static int remap_child(enum remap_kind kind, int sfd)
{
	struct winvm_query_args q;
	uint64_t a = 0, s = 0, len = REMAP_SECTION;
	size_t pgoff = 1;
	int ctx, fails = 0, r, e;
	uint32_t st;
	uint8_t b = 0;
	bool view = kind != REMAP_PRIVATE;

	wv_fault.fd = -1;
	at_install();
	ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
	CHILD_CHECK(fails, ctx >= 0);
	switch (kind) {
	case REMAP_PRIVATE:
		st = wv_alloc(ctx, &a, &len, 0, RESERVE | COMMIT, RW);
		CHILD_CHECK(fails, st == ST_OK);
		if (st != ST_OK)
			return fails;
		fill_pat(a, len, REMAP_SEED);
		/* Page 1 no-access: does a raw mapping of page 1 bypass it? */
		CHILD_CHECK(fails, wv_protect_at(ctx, a + WV_PAGE, WV_PAGE, NOACCESS) == ST_OK);
		break;
	case REMAP_VIEW_READ:
	case REMAP_VIEW_COPY:
	case REMAP_VIEW_RW_PAGEFILE:
	case REMAP_VIEW_RW_SHORT:
		st = wv_map(ctx, sfd, kind == REMAP_VIEW_READ ? MAP_R :
			    kind == REMAP_VIEW_COPY ? MAP_C : MAP_W, &a, 0, &s, 0, 0);
		CHILD_CHECK(fails, st == ST_OK);
		if (st != ST_OK)
			return fails;
		len = s;
		if (kind == REMAP_VIEW_RW_SHORT)
			pgoff = REMAP_SECTION / WV_PAGE;	/* past the section's end */
		break;
	}
	CLOG("%s at 0x%llx, 0x%llx bytes, %d maps line(s)", view ? "view" : "allocation",
	     (unsigned long long)a, (unsigned long long)len, wv_maps_lines(a, a + len));

	/* One page in the middle: needs a split of the winvm VMA. */
	r = remap_file_pages(PTR(a + WV_PAGE), WV_PAGE, 0, 3, 0);
	CLOG("remap_file_pages(one page in the middle, pgoff 3) -> %d (%s)", r, remap_errno(r));
	if (!r && at_read(PTR(a + WV_PAGE), &b))
		CLOG("  ... that page now reads 0x%02x", b);

	/* The whole VMA, moved to another file offset. */
	r = remap_file_pages(PTR(a), len, 0, pgoff, 0);
	e = r ? errno : 0;
	CLOG("remap_file_pages(whole VMA, pgoff %zu) -> %d (%s)", pgoff, r, remap_errno(r));
	if (!r) {
		bool rd = at_read(PTR(a), &b), wr;

		CLOG("  ... first page (file page %zu%s): read %s (0x%02x)", pgoff,
		     kind == REMAP_PRIVATE ? ", PAGE_NOACCESS in the allocation" :
		     kind == REMAP_VIEW_RW_SHORT ? ", past the section's end" : "",
		     rd ? "ok" : "faults", rd ? b : 0);
		wr = at_write(PTR(a + 16), 0xa5);
		CLOG("  ... first page: write %s", wr ? "ok" : "faults");
		CLOG("  ... %d maps line(s) now", wv_maps_lines(a, a + len));
	}
	/* Views that may not write their section refuse it outright. */
	if (kind == REMAP_VIEW_READ)
		CHILD_CHECK(fails, r == -1 && e == EINVAL);
	if (kind == REMAP_VIEW_COPY)
		CHILD_CHECK(fails, r == -1 && (e == EACCES || e == EINVAL));

	/* VirtualQuery answers. */
	st = wv_query(ctx, a, &q);
	CLOG("VQ(0x%llx) -> %s: base 0x%llx abase 0x%llx region 0x%llx state 0x%x prot 0x%x type 0x%x flags 0x%x",
	     (unsigned long long)a, winvm_abi_status_name(st), (unsigned long long)q.base_address,
	     (unsigned long long)q.allocation_base, (unsigned long long)q.region_size, q.state,
	     q.protect, q.type, q.region_flags);
	CHILD_CHECK(fails, st == ST_OK && wv_errno == 0);

	/* MEM_RELEASE / VIEW_UNMAP report something documented. */
	if (view)
		st = wv_unmap(ctx, a);
	else
		st = wv_free_at(ctx, a, 0, RELEASE);
	CLOG("%s -> %s (errno %d)", view ? "VIEW_UNMAP" : "MEM_RELEASE",
	     winvm_abi_status_name(st), wv_errno);
	CHILD_CHECK(fails, st_documented(st, wv_errno));
	st = wv_query(ctx, a, &q);
	CLOG("VQ after -> %s: state 0x%x type 0x%x flags 0x%x", winvm_abi_status_name(st),
	     q.state, q.type, q.region_flags);
	CHILD_CHECK(fails, st == ST_OK);
	/* Whatever is left there goes with a plain munmap. */
	munmap(PTR(a), len);
	st = wv_query(ctx, a, &q);
	CHILD_CHECK(fails, st == ST_OK && q.state == WINVM_MEM_FREE);
	close(ctx);
	return fails;
}

TEST_F(remap, remap_file_pages_on_winvm_vma)
{
	enum remap_kind kind = variant->kind;
	int sfd = -1, give = -1, file = -1;
	uint64_t w = 0;
	pid_t pid;

	NEED_ROOT();
	if (kind == REMAP_VIEW_READ || kind == REMAP_VIEW_COPY ||
	    kind == REMAP_VIEW_RW_PAGEFILE) {
		sfd = wv_must_section(self->fd, REMAP_SECTION, RW, 0);
		w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		fill_pat(w, REMAP_SECTION, REMAP_SEED);
		ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd,
					    kind == REMAP_VIEW_RW_PAGEFILE ? S_MAP_R | S_MAP_W :
					    S_MAP_R, &give));
	} else if (kind == REMAP_VIEW_RW_SHORT) {
		/* Root's private file; the section shows its first half only. */
		snprintf(self->path, sizeof(self->path), "/tmp/winvm-attack-remap-%d",
			 (int)getpid());
		file = make_file(self->path, REMAP_FILE, REMAP_SEED, 0600);
		ASSERT_LE(0, file);
		sfd = wv_must_file_section(self->fd, file, REMAP_SECTION, RW, 0);
		ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R | S_MAP_W, &give));
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (sfd >= 0)
			close(sfd);
		if (file >= 0)
			close(file);
		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		_exit(remap_child(kind, give));
	}
	ASSERT_CHILD_OK(pid);
	/* Nothing reached what the child could not write. */
	if (kind == REMAP_VIEW_READ || kind == REMAP_VIEW_COPY) {
		long d = mem_diff(w, REMAP_SECTION, REMAP_SEED);

		ASSERT_EQ(-1, d) TH_LOG("section changed at 0x%lx through a read-only handle", d);
	}
	if (kind == REMAP_VIEW_RW_SHORT) {
		long d = file_diff(file, REMAP_SECTION, REMAP_FILE, REMAP_SEED);

		/* The holder of a writable handle reaches the whole file: open. */
		if (d != -1)
			SKIP(return, "open item (docs/threat-model.md): remap_file_pages on a writable view wrote the file at 0x%lx, past the section", d);
	}
	/* Our own context still works. */
	ASSERT_OK(wv_free_at(self->fd, wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, RW),
			     0, RELEASE));
}

/*
 * Inside VIEW_MAP the probe (module/filecheck.c) is, for a moment, an
 * ordinary mapping of the view's file that another thread can mremap away
 * and keep.  What it keeps must give no more than the view does: for a
 * read-only view of a file its creator opened read-write, mprotect to
 * PROT_WRITE must fail and the file stay as it was.
 */
struct steal {
	uint64_t at, far, len;
	atomic_int stop;
	atomic_long stolen, writable;
};

/* Static: a mapping made now could land in the gaps this test keeps free. */
static uint8_t steal_altstack[2][65536];

/* Handlers on a stack of their own: a thread whose stack broke still reports. */
static void steal_altstack_on(int which)
{
	stack_t ss = { .ss_sp = steal_altstack[which], .ss_size = sizeof(steal_altstack[0]) };

	sigaltstack(&ss, NULL);
}

static void *steal_probe(void *arg)
{
	struct steal *st = arg;
	void *p;

	steal_altstack_on(1);
	CLOG("stealer thread %ld, stack near %p", (long)syscall(SYS_gettid), (void *)&p);
	while (!atomic_load(&st->stop)) {
		p = mremap(PTR(st->at), st->len, st->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   PTR(st->far));
		if (p == MAP_FAILED)
			continue;
		atomic_fetch_add(&st->stolen, 1);
		if (!mprotect(p, st->len, PROT_READ | PROT_WRITE)) {
			atomic_fetch_add(&st->writable, 1);
			((volatile uint8_t *)p)[0x10] ^= 0xff;
		}
		munmap(p, st->len);
	}
	return NULL;
}

/*
 * This test's child has died of SIGSEGV a few times in full CI runs (about
 * one run in ten, never alone), with no kernel message and nothing counted
 * as made writable; once (debug kernel) glibc first reported "stack
 * smashing detected".  Until that is understood, a SIGSEGV or SIGABRT here
 * says where it hit, in which thread, whether the stack-protector guard in
 * the thread's TCB changed (a page of it replaced) or not (a stack written
 * over), with the address space, so the log of the next occurrence names
 * the cause.  It still fails the test.
 */
static struct steal *steal_diag;
static uint64_t steal_guard;	/* the stack-protector guard at the start */

static uint64_t tcb_guard(void)
{
	uint64_t g;

	/* x86-64 glibc keeps the stack-protector guard at %fs:0x28. */
	__asm__ volatile("mov %%fs:0x28, %0" : "=r"(g));
	return g;
}

static void steal_segv(int sig, siginfo_t *si, void *uc)
{
	char buf[320], m[4096];
	uint64_t a = U64(si->si_addr);
	ssize_t r;
	int n, fd;

	(void)uc;
	n = snprintf(buf, sizeof(buf),
		     "#   [child %d] signal %d code %d at 0x%" PRIx64 " in thread %ld%s, guard %s\n",
		     (int)getpid(), sig, si->si_code, a, (long)syscall(SYS_gettid),
		     a - steal_diag->far < steal_diag->len ? " (a stolen probe)" :
		     a - steal_diag->at < steal_diag->len ? " (the view)" : "",
		     tcb_guard() == steal_guard ? "intact" : "CHANGED");
	if (write(2, buf, n) < 0)
		_exit(70);
	fd = open("/proc/self/maps", O_RDONLY);
	while (fd >= 0 && (r = read(fd, m, sizeof(m))) > 0)
		if (write(2, m, r) < 0)
			break;
	_exit(70);
}

static int steal_child(int sfd, double secs)
{
	struct sigaction sa = { .sa_sigaction = steal_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	struct steal st = { .len = REMAP_SECTION };
	long maps = 0;
	int fails = 0, ctx;
	pthread_t t;
	void *hole;
	double end;

	steal_diag = &st;
	steal_guard = tcb_guard();
	sigaction(SIGSEGV, &sa, NULL);
	/* (A failed stack-protector check aborts.) */
	sigaction(SIGABRT, &sa, NULL);
	ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
	CHILD_CHECK(fails, ctx >= 0);
	/* Two free places: where the view goes, where a stolen probe goes. */
	hole = mmap(NULL, 4 * WV_GRAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHILD_CHECK(fails, hole != MAP_FAILED);
	if (ctx < 0 || hole == MAP_FAILED)
		return fails;
	st.at = (U64(hole) + WV_GRAN - 1) & ~(WV_GRAN - 1);
	st.far = st.at + 2 * WV_GRAN;
	munmap(PTR(st.at), WV_GRAN);
	steal_altstack_on(0);
	CLOG("main thread %ld, hole %p, view at 0x%" PRIx64 ", stolen probes to 0x%" PRIx64,
	     (long)syscall(SYS_gettid), hole, st.at, st.far);
	CHILD_CHECK(fails, !pthread_create(&t, NULL, steal_probe, &st));
	for (end = now_s() + secs; now_s() < end; maps++)
		if (wv_map_at(ctx, sfd, MAP_R, st.at, 0, 0) == ST_OK)
			wv_unmap(ctx, st.at);
	atomic_store(&st.stop, 1);
	pthread_join(t, NULL);
	CLOG("%ld VIEW_MAPs, %ld probes stolen, %ld made writable", maps,
	     atomic_load(&st.stolen), atomic_load(&st.writable));
	CHILD_CHECK(fails, atomic_load(&st.writable) == 0);
	return fails;
}

TEST_F(winvm, stolen_probe_gives_no_more_than_the_view)
{
	char path[64];
	int file, sfd, ro;
	pid_t pid;

	NEED_ROOT();
	snprintf(path, sizeof(path), "/tmp/winvm-attack-steal-%d", (int)getpid());
	file = make_file(path, REMAP_SECTION, REMAP_SEED, 0600);
	ASSERT_LE(0, file);
	/* Root's read-write fd, a read-only section, a read-only handle. */
	sfd = wv_must_file_section(self->fd, file, 0, RO, 0);
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R, &ro));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sfd);
		close(file);
		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		_exit(steal_child(ro, 5.0));
	}
	ASSERT_CHILD_OK(pid);
	ASSERT_EQ(-1, file_diff(file, 0, REMAP_SECTION, REMAP_SEED))
		TH_LOG("root's file changed through a read-only handle");
	close(ro);
	close(sfd);
	close(file);
	unlink(path);
}

/* ================================================================== */
/* 4. MADV_HUGEPAGE vs per-page state                                   */
/* ================================================================== */

/*
 * winvm VMAs are VM_NOHUGEPAGE, because one PMD would map 512 pages past
 * the per-page checks of ->fault.  MADV_HUGEPAGE clears that flag; with
 * huge shmem allowed, a fault could then map a whole 2 MiB folio at once,
 * no-access and guard pages included.  The suspicion is checked here for
 * an allocation (shmem_enabled=always) and for a view of a file on a
 * tmpfs mounted huge=always (where the page cache holds huge folios
 * before any fault; also without the madvise).
 */
#define HUGE_SZ		(2 * MIB)
#define THP_SHMEM	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define THP_SEED	61

FIXTURE(thp) {
	int fd;
	char saved[32];		/* shmem_enabled before the test, "" if untouched */
	char mnt[64];		/* our huge tmpfs, "" if none */
	int file;
};

FIXTURE_VARIANT(thp) {
	bool file;		/* a view of a file on a huge=always tmpfs */
	bool madvise;		/* MADV_HUGEPAGE over the range */
	bool anywhere;		/* the view where winvm puts it, not 2 MiB-aligned by us */
	bool force;		/* shmem_enabled=force: huge even on a huge=never tmpfs */
};

FIXTURE_VARIANT_ADD(thp, private_madvise) { .file = false, .madvise = true };
/*
 * force overrides winvm's huge=never mount: after MADV_HUGEPAGE shmem
 * hands out 2 MiB folios, which winvm's ->fault refuses (SIGBUS).
 */
FIXTURE_VARIANT_ADD(thp, private_force_madvise) {
	.file = false, .madvise = true, .force = true,
};
FIXTURE_VARIANT_ADD(thp, file_view_madvise) { .file = true, .madvise = true };
FIXTURE_VARIANT_ADD(thp, file_view_anywhere_madvise) {
	.file = true, .madvise = true, .anywhere = true,
};
FIXTURE_VARIANT_ADD(thp, file_view_no_madvise) { .file = true, .madvise = false };

/* The bracketed word of a THP sysfs file ("always [never] ..."). */
static bool thp_read(const char *path, char *out, size_t len)
{
	char buf[256], *l, *r;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!l || !r || (size_t)(r - l) >= len)
		return false;
	*r = 0;
	snprintf(out, len, "%s", l + 1);
	return true;
}

FIXTURE_SETUP(thp)
{
	self->saved[0] = 0;
	self->mnt[0] = 0;
	self->file = -1;
	OPEN_DEV_OR_SKIP(self->fd);
	wv_fault_install(self->fd);
}

FIXTURE_TEARDOWN_PARENT(thp)
{
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
	}
	if (self->saved[0])
		wv_write_file(THP_SHMEM, self->saved);
}

/* A free, 2 MiB-aligned hole of @size bytes, fenced by PROT_NONE. */
static uint64_t huge_hole(uint64_t size)
{
	uint64_t len = size + 2 * HUGE_SZ, a;
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	a = (U64(p) + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
	if (a == U64(p))
		a += HUGE_SZ;
	if (a + size > U64(p) + len || munmap(PTR(a), size))
		return 0;
	return a;
}

/* The kB of a field of the smaps entry of the VMA that holds @addr. */
static long smaps_kb(uint64_t addr, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	size_t len = strlen(field);
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx ", &s, &e) == 2 && strchr(line, ' ') &&
		    line[strspn(line, "0123456789abcdef")] == '-') {
			in = s <= addr && addr < e;
			continue;
		}
		if (in && !strncmp(line, field, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	}
	fclose(f);
	return kb;
}

TEST_F(thp, madv_hugepage_keeps_page_protections)
{
	uint64_t size = 2 * HUGE_SZ, a, noacc, guard;
	char old[32] = "";
	int sfd, rc;
	uint8_t v = 0;

	NEED_ROOT();
	if (access(THP_SHMEM, W_OK))
		SKIP(return, "no %s (kernel without THP)", THP_SHMEM);
	ASSERT_TRUE(thp_read(THP_SHMEM, old, sizeof(old)));
	snprintf(self->saved, sizeof(self->saved), "%s", old);
	ASSERT_TRUE(wv_write_file(THP_SHMEM, variant->force ? "force" : "always"));

	a = huge_hole(size);
	ASSERT_NE(0ULL, a);
	ASSERT_HEX(0, a & (HUGE_SZ - 1));
	if (!variant->file) {
		ASSERT_HEX(a, wv_must_alloc(self->fd, a, size, RESERVE | COMMIT, RW));
	} else {
		char path[128];
		uint8_t *buf;
		uint64_t i;

		snprintf(self->mnt, sizeof(self->mnt), "/tmp/winvm-attack-huge-%d", (int)getpid());
		ASSERT_EQ(0, mkdir(self->mnt, 0700));
		if (mount("tmpfs", self->mnt, "tmpfs", 0, "huge=always,size=32m")) {
			int e = errno;

			rmdir(self->mnt);
			self->mnt[0] = 0;
			SKIP(return, "tmpfs huge=always: %s", strerror(e));
		}
		snprintf(path, sizeof(path), "%s/f", self->mnt);
		self->file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ASSERT_LE(0, self->file);
		/* Written with write(2): huge folios in the page cache already. */
		buf = malloc(size);
		ASSERT_NE(NULL, buf);
		for (i = 0; i < size; i++)
			buf[i] = wv_pat(i, THP_SEED);
		ASSERT_EQ((ssize_t)size, pwrite(self->file, buf, size, 0));
		free(buf);
		sfd = wv_must_file_section(self->fd, self->file, 0, RW, 0);
		/* winvm never picks an address that agrees with the offset mod 2 MiB. */
		if (variant->anywhere)
			a = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		else
			ASSERT_NT(ST_OK, wv_map_at(self->fd, sfd, MAP_W, a, 0, 0));
		close(sfd);
	}
	noacc = a + 0x80000;	/* inside the first 2 MiB */
	guard = a + 0x123000;
	ASSERT_NT(ST_OK, wv_protect_at(self->fd, noacc, WV_PAGE, NOACCESS));
	ASSERT_NT(ST_OK, wv_protect_at(self->fd, guard, WV_PAGE, RW | GUARD));
	if (variant->madvise) {
		rc = madvise(PTR(a), size, MADV_HUGEPAGE);
		TH_LOG("MADV_HUGEPAGE -> %d (%s)", rc, rc ? strerror(errno) : "ok");
	}
	/* Touch the first page. */
	wv_fault_reset();
	if (!wv_try_write(PTR(a), 0x11)) {
		/* Refused: the page would have come in a 2 MiB folio. */
		ASSERT_TRUE(variant->force) TH_LOG("the first touch faulted (signal %d)",
						   wv_fault.signo);
		ASSERT_EQ(SIGBUS, wv_fault.signo);
		TH_LOG("shmem_enabled=force: the first touch got SIGBUS (a 2 MiB folio refused)");
		ASSERT_NT(ST_OK, wv_free_at(self->fd, a, 0, RELEASE));
		return;
	}
	TH_LOG("shmem_enabled was [%s]; after the first touch: ShmemPmdMapped %ld kB, FilePmdMapped %ld kB",
	       old, smaps_kb(a, "ShmemPmdMapped"), smaps_kb(a, "FilePmdMapped"));

	/* The no-access page still faults... */
	wv_fault_reset();
	if (wv_try_read(PTR(noacc), &v)) {
		TH_LOG("the PAGE_NOACCESS page read 0x%02x without a fault", v);
		/*
		 * A caller's huge-page file at a caller-chosen address that
		 * agrees with the file offset modulo 2 MiB: a known open item.
		 */
		if (variant->file && !variant->anywhere) {
			wv_unmap(self->fd, a);
			SKIP(return, "open item (docs/threat-model.md): PMD-mapped view of a huge-page file at a caller-chosen 2 MiB-congruent address");
		}
	}
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	ASSERT_EQ(0, wv_fault.fi_err);
	ASSERT_HEX(WINVM_STATUS_ACCESS_VIOLATION, wv_fault.fi.fault_status);
	ASSERT_HEX(noacc, wv_fault.fi.address);
	/* ... and the guard fires once. */
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(guard), NULL));
	ASSERT_EQ(1, wv_fault.count) TH_LOG("the guard page did not fire");
	ASSERT_HEX(WINVM_STATUS_GUARD_PAGE_VIOLATION, wv_fault.fi.fault_status);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(guard), NULL));
	ASSERT_EQ(0, wv_fault.count);
	/* Data around them is intact. */
	if (variant->file) {
		ASSERT_EQ(wv_pat(noacc - a - 1, THP_SEED), *(volatile uint8_t *)PTR(noacc - 1));
		ASSERT_EQ(wv_pat(guard - a + 8, THP_SEED), *(volatile uint8_t *)PTR(guard + 8));
	}
	TH_LOG("at the end: ShmemPmdMapped %ld kB, FilePmdMapped %ld kB",
	       smaps_kb(a, "ShmemPmdMapped"), smaps_kb(a, "FilePmdMapped"));
	if (variant->file) {
		ASSERT_NT(ST_OK, wv_unmap(self->fd, a));
	} else {
		ASSERT_NT(ST_OK, wv_free_at(self->fd, a, 0, RELEASE));
	}
}

/* ================================================================== */
/* 5. Fault records of dead threads                                     */
/* ================================================================== */

/*
 * The module keeps one record per thread id of the last access violation
 * until WINVM_IOC_FAULT_INFO reads it.  Threads that fault, jump out of
 * their handler without asking and exit must not leave their records
 * behind for the life of the process: an unprivileged process could fill
 * kernel memory with them.  Measured in a memory cgroup of our own (its
 * slab bytes), against the same number of threads that do not fault.
 */
#define CG_ROOT		"/sys/fs/cgroup"

FIXTURE(records) {
	int fd;
	pid_t owner;		/* the test's process */
	char cg[128];		/* our cgroup, "" if none */
};

FIXTURE_SETUP(records)
{
	self->cg[0] = 0;
	self->owner = getpid();
	OPEN_DEV_OR_SKIP(self->fd);
}

FIXTURE_TEARDOWN_PARENT(records)
{
	char path[160], pid[32];
	int fd;

	if (!self->cg[0])
		return;
	/* Normally the test's process is gone and the cgroup empty. */
	if (getpid() == self->owner) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", CG_ROOT);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, pid, strlen(pid)) < 0)
				perror("cgroup.procs");
			close(fd);
		}
	}
	if (rmdir(self->cg))
		perror(self->cg);
}

/* A memory.stat field of our cgroup in bytes, -1 if absent. */
static long long cg_stat(const char *cg, const char *field)
{
	char path[160], line[256];
	size_t len = strlen(field);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ' ')
			v = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/* /proc/meminfo's Slab in bytes (system-wide: the fallback). */
static long long meminfo_slab(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Slab:", 5))
			v = strtoll(line + 5, NULL, 10) * 1024;
	fclose(f);
	return v;
}

static long long slab_now(const char *cg)
{
	/* Freed task structs and the like go after an RCU grace period. */
	usleep(1500 * 1000);
	return cg[0] ? cg_stat(cg, "slab") : meminfo_slab();
}

static uint64_t records_page;
static volatile int records_faulted;

static void *records_thread(void *arg)
{
	uint8_t v;

	if (arg && !at_read(PTR(records_page), &v))
		__atomic_fetch_add(&records_faulted, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* @n threads in batches; each faults on the no-access page if @fault. */
static int records_run(unsigned long n, bool fault)
{
	enum { BATCH = 100 };
	pthread_t t[BATCH];
	pthread_attr_t attr;
	unsigned long done = 0;
	int i, k;

	pthread_attr_init(&attr);
	/* Room for the static TLS (the header's 64 KiB signal stack). */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	while (done < n) {
		k = n - done < BATCH ? n - done : BATCH;
		for (i = 0; i < k; i++)
			if (pthread_create(&t[i], &attr, records_thread, fault ? (void *)1 : NULL))
				return -1;
		for (i = 0; i < k; i++)
			pthread_join(t[i], NULL);
		done += k;
	}
	pthread_attr_destroy(&attr);
	return 0;
}

TEST_F_TIMEOUT(records, dead_threads_leave_no_fault_records, 600)
{
	unsigned long n = env_ulong("WINVM_DEAD_THREADS", 20000), nc = n / 4 ? n / 4 : 1;
	long long m0, m1, m2, kern0 = -1, kern2 = -1, grow, base;
	/*
	 * 256 KiB for 20 000 threads is 13 bytes each, less than one record
	 * (a 16-byte kmalloc plus its share of an xarray node, about 23
	 * bytes): 2 MiB would let today's unbounded records through.
	 */
	const long long limit = 256 * 1024;
	char path[160], pid[32];
	double t0;
	int fd;

	/* Our own memory cgroup, so only our charges count. */
	snprintf(self->cg, sizeof(self->cg), "%s/winvm-attack-%d", CG_ROOT, (int)getpid());
	if (!access(CG_ROOT "/cgroup.controllers", R_OK) && !mkdir(self->cg, 0755)) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pid, strlen(pid)) < 0 || cg_stat(self->cg, "slab") < 0) {
			TH_LOG("cannot use a memory cgroup here: falling back to /proc/meminfo");
			rmdir(self->cg);
			self->cg[0] = 0;
		}
		if (fd >= 0)
			close(fd);
	} else {
		self->cg[0] = 0;
		TH_LOG("no cgroup2 at %s: falling back to /proc/meminfo", CG_ROOT);
	}

	at_install();
	records_page = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE | COMMIT, NOACCESS);
	/* Warm up: the first threads populate caches whatever they do. */
	ASSERT_EQ(0, records_run(200, true));
	records_faulted = 0;

	m0 = slab_now(self->cg);
	if (self->cg[0])
		kern0 = cg_stat(self->cg, "kernel");
	t0 = now_s();
	/* The control: a quarter as many threads that do not fault. */
	ASSERT_EQ(0, records_run(nc, false));
	m1 = slab_now(self->cg);
	TH_LOG("%lu threads that do not fault: %.1f s, slab %+lld bytes", nc, now_s() - t0, m1 - m0);

	t0 = now_s();
	ASSERT_EQ(0, records_run(n, true));
	m2 = slab_now(self->cg);
	if (self->cg[0])
		kern2 = cg_stat(self->cg, "kernel");
	ASSERT_EQ((int)n, records_faulted);
	base = m1 - m0 > 0 ? (m1 - m0) * (long long)n / (long long)nc : 0;
	grow = m2 - m1;
	TH_LOG("%lu threads that fault and die without FAULT_INFO: %.1f s, slab %+lld bytes (%.1f per thread)%s",
	       n, now_s() - t0, grow, (double)grow / n, self->cg[0] ? "" : " (system-wide Slab)");
	if (kern0 >= 0 && kern2 >= 0)
		TH_LOG("memory.stat kernel over both runs: %+lld bytes", kern2 - kern0);
	/* The dead threads' records must not pile up (the control's growth scaled to n aside). */
	ASSERT_LT(grow - base, limit)
		TH_LOG("kernel memory grew by %lld bytes for %lu dead threads' fault records",
		       grow, n);
	ASSERT_NT(ST_OK, wv_free_at(self->fd, records_page, 0, RELEASE));
}

/* ================================================================== */
/* 6. Named sections across users                                       */
/* ================================================================== */

#define NAMED_SEED	67
#define NAMED_SIZE	0x4000ULL

FIXTURE(named) {
	int fd;
	char path[128];
	int file;
};

FIXTURE_SETUP(named)
{
	self->path[0] = 0;
	self->file = -1;
	OPEN_DEV_OR_SKIP(self->fd);
	wv_fault_install(self->fd);
}

FIXTURE_TEARDOWN_PARENT(named)
{
	if (self->path[0])
		unlink(self->path);
}

/* Root's 0600 file with a Global section over it giving others @world. */
static int named_global(struct __test_metadata *_metadata, FIXTURE_DATA(named) *self,
			const char *name, uint32_t world)
{
	struct winvm_section_create_args a = {
		.name = U64(name), .name_len = strlen(name), .protect = RW,
		.flags = WINVM_SECTION_GLOBAL, .world_access = world,
	};
	uint32_t st;

	snprintf(self->path, sizeof(self->path), "/tmp/winvm-attack-secret-%d", (int)getpid());
	self->file = make_file(self->path, NAMED_SIZE, NAMED_SEED, 0600);
	if (self->file < 0)
		return -1;
	a.file_fd = self->file;
	st = wv_sec_create_raw(self->fd, &a);
	if (st != ST_OK)
		TH_LOG("creating Global %s -> %s", name, winvm_abi_status_name(st));
	return st == ST_OK ? a.fd : -1;
}

/* In a child: every way of getting at root's name with no rights. */
static int named_denied_checks(int ctx, const char *name, const char *who)
{
	int fails = 0, c = -1;
	uint32_t st;

	CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
				    wv_sec_open(ctx, name, MAP_R, WINVM_SECTION_GLOBAL, NULL)));
	CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
				    wv_sec_open(ctx, name, MAP_W, WINVM_SECTION_GLOBAL, NULL)));
	CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
				    wv_sec_open(ctx, name, S_QUERY, WINVM_SECTION_GLOBAL, NULL)));
	/* CreateFileMapping("Global\\name"): opens the existing name, so access denied. */
	st = wv_sec_create(ctx, NAMED_SIZE, RW, 0, -1, S_MAP_R, name, WINVM_SECTION_GLOBAL, &c);
	CLOG("%s: create of root's Global name -> %s (errno %d)", who,
	     winvm_abi_status_name(st), wv_errno);
	CHILD_CHECK(fails, st == WINVM_STATUS_ACCESS_DENIED && wv_errno == EACCES);
	CHILD_CHECK(fails, c == -1);
	/* The same name without Global is the caller's own, a different section. */
	st = wv_sec_create(ctx, NAMED_SIZE, RW, 0, -1, 0, name, 0, &c);
	CLOG("%s: create of the same name as a local name -> %s, existed %u", who,
	     winvm_abi_status_name(st), wv_existed);
	CHILD_CHECK(fails, st == ST_OK && wv_existed == 0);
	if (c >= 0) {
		uint64_t v = 0, s = 0;

		if (wv_map(ctx, c, MAP_W, &v, 0, &s, 0, 0) == ST_OK) {
			CHILD_CHECK(fails, *(volatile uint32_t *)PTR(v) == 0);
			memset(PTR(v), 0xee, s);
		}
		close(c);
	}
	return fails;
}

TEST_F_TIMEOUT(named, global_name_of_root_denies_others, 120)
{
	char name[64];
	int sfd, rc, rc_ns;
	pid_t pid;

	NEED_ROOT();
	wv_name(name, sizeof(name), "secret");
	sfd = named_global(_metadata, self, name, 0);
	ASSERT_LE(0, sfd);
	/* Root itself (the creator) opens it. */
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_R | MAP_W, WINVM_SECTION_GLOBAL, NULL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx;

		close(sfd);
		close(self->file);
		wv_fault.fd = -1;
		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
		CHILD_CHECK(fails, ctx >= 0);
		/* The file itself is closed to nobody. */
		CHILD_CHECK(fails, open(self->path, O_RDONLY) < 0 && errno == EACCES);
		fails += named_denied_checks(ctx, name, "uid 65534");
		_exit(fails);
	}
	rc = wv_wait(pid);

	/* Root of a user namespace owned by 65534 is nobody out here. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx;
		uint32_t st;
		char other[80];

		close(sfd);
		close(self->file);
		wv_fault.fd = -1;
		if (wv_drop_to_nobody() || enter_userns_as_root())
			_exit(CHILD_SKIP);
		ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
		CHILD_CHECK(fails, ctx >= 0);
		fails += named_denied_checks(ctx, name, "userns root (uid 65534)");
		/* Nor may it create Global names at all. */
		snprintf(other, sizeof(other), "%s-ns", name);
		st = wv_sec_create(ctx, NAMED_SIZE, RW, 0, -1, 0, other, WINVM_SECTION_GLOBAL,
				   NULL);
		CLOG("userns root: create of a new Global name -> %s", winvm_abi_status_name(st));
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_PRIVILEGE_NOT_HELD, st));
		_exit(fails);
	}
	rc_ns = wv_wait(pid);
	ASSERT_EQ(-1, file_diff(self->file, 0, NAMED_SIZE, NAMED_SEED));
	if (rc == CHILD_SKIP)
		SKIP(return, "the child could not drop to uid %d", NOBODY);
	EXPECT_EQ(0, rc) TH_LOG("as uid 65534");
	if (rc_ns == CHILD_SKIP)
		SKIP(return, "no user namespace for uid %d here", NOBODY);
	EXPECT_EQ(0, rc_ns) TH_LOG("as root of a user namespace of uid 65534");
	close(sfd);
}

TEST_F_TIMEOUT(named, global_name_world_read_only, 120)
{
	char name[64];
	int sfd;
	pid_t pid;
	int round;

	NEED_ROOT();
	wv_name(name, sizeof(name), "world-read");
	sfd = named_global(_metadata, self, name, S_MAP_R);
	ASSERT_LE(0, sfd);

	/* Round 0: uid 65534; round 1: root of 65534's user namespace. */
	for (round = 0; round < 2; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int fails = 0, ctx, c = -1, d = -1;
			uint64_t r = 0, s = 0, cp = 0;
			uint32_t st;

			close(sfd);
			close(self->file);
			wv_fault.fd = -1;
			at_install();
			if (wv_drop_to_nobody() || (round && enter_userns_as_root()))
				_exit(CHILD_SKIP);
			ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
			CHILD_CHECK(fails, ctx >= 0);
			CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
						    wv_sec_open(ctx, name, MAP_W,
								WINVM_SECTION_GLOBAL, NULL)));
			CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
						    wv_sec_open(ctx, name, MAP_R | MAP_W,
								WINVM_SECTION_GLOBAL, NULL)));
			CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
						    wv_sec_open(ctx, name, S_ALL,
								WINVM_SECTION_GLOBAL, NULL)));
			CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_R,
								       WINVM_SECTION_GLOBAL, &c)));
			if (c < 0)
				_exit(fails + 1);
			/* Reading is what was granted. */
			CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_map(ctx, c, MAP_R, &r, 0, &s, 0, 0)));
			if (r)
				CHILD_CHECK(fails, mem_diff(r, NAMED_SIZE, NAMED_SEED) == -1);
			/* Writing is not, however asked for. */
			CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
						    wv_map_at(ctx, c, MAP_W, 0, 0, 0)));
			CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
						    wv_sec_dup(ctx, c, S_MAP_R | S_MAP_W, &d)));
			if (r) {
				st = wv_protect_at(ctx, r, WV_PAGE, RW);
				CLOG("round %d: MEM_PROTECT(READWRITE) of the read view -> %s", round,
				     winvm_abi_status_name(st));
				CHILD_CHECK(fails, st != ST_OK);
				CHILD_CHECK(fails, !at_write(PTR(r), 1));
			}
			/* A copy view writes privately. */
			s = 0;
			CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_map(ctx, c, MAP_C, &cp, 0, &s, 0, 0)));
			if (cp) {
				memset(PTR(cp), 0x5a, NAMED_SIZE);
				CHILD_CHECK(fails, *(volatile uint8_t *)PTR(cp + 100) == 0x5a);
			}
			if (r)
				CHILD_CHECK(fails, mem_diff(r, NAMED_SIZE, NAMED_SEED) == -1);
			_exit(fails);
		}
		ASSERT_CHILD_OK(pid);
	}
	ASSERT_EQ(-1, file_diff(self->file, 0, NAMED_SIZE, NAMED_SEED));
	close(sfd);
}

TEST_F(named, local_name_of_root_is_invisible)
{
	char name[64];
	int sfd;
	pid_t pid;

	NEED_ROOT();
	wv_name(name, sizeof(name), "root-local");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, NAMED_SIZE, RW, 0, -1, 0, name, 0, &sfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx;

		close(sfd);
		wv_fault.fd = -1;
		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
					    wv_sec_open(ctx, name, MAP_R, 0, NULL)));
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
					    wv_sec_open(ctx, name, MAP_R, WINVM_SECTION_GLOBAL,
							NULL)));
		/* world_access is for Global names only. */
		{
			struct winvm_section_create_args a = {
				.size = NAMED_SIZE, .name = U64(name), .name_len = strlen(name),
				.file_fd = -1, .protect = RW, .world_access = S_MAP_R,
			};

			CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_INVALID_PARAMETER,
						    wv_sec_create_raw(ctx, &a)));
		}
		_exit(fails);
	}
	ASSERT_CHILD_OK(pid);
	close(sfd);
}

/* ================================================================== */
/* 7. Handle rights                                                     */
/* ================================================================== */

/*
 * Windows maps FILE_MAP_WRITE through a handle that has only
 * SECTION_MAP_WRITE, as a PAGE_READWRITE view; FILE_MAP_READ through it is
 * denied.
 */
TEST_F(winvm, map_write_only_handle)
{
	int sfd = wv_must_section(self->fd, 0x2000, RW, 0), wfd = -1;
	uint64_t v;

	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_W, &wfd));
	v = wv_must_map(self->fd, wfd, MAP_W, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x2000, COMMIT, RW, WV_MAPPED);
	*(volatile uint32_t *)PTR(v + 0x1000) = 0x600d;
	ASSERT_HEX(0x600d, *(volatile uint32_t *)PTR(wv_must_map(self->fd, sfd, MAP_R, 0, 0) +
						      0x1000));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, wfd, MAP_R, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, wfd, MAP_C, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, wfd, MAP_X, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_dup(self->fd, wfd, S_MAP_R, NULL));
	close(wfd);
	close(sfd);
}

/* What FILE_MAP_EXECUTE gives through a handle with only SECTION_MAP_EXECUTE. */
TEST_F(winvm, map_execute_only_handle)
{
	int sfd = wv_must_section(self->fd, 0x2000, EXR, 0), xfd = -1, wfd = -1, r = 0;
	struct winvm_query_args q;
	uint64_t a = 0, s = 0;
	uint32_t st;
	uint8_t b = 0;

	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_X, &xfd));
	st = wv_map(self->fd, xfd, MAP_X, &a, 0, &s, 0, 0);
	TH_LOG("FILE_MAP_EXECUTE through a SECTION_MAP_EXECUTE-only handle of a PAGE_EXECUTE_READ section -> %s",
	       winvm_abi_status_name(st));
	ASSERT_TRUE(st_documented(st, wv_errno));
	if (st == ST_OK) {
		ASSERT_QUERY(self->fd, a, &q);
		TH_LOG("  view protection 0x%x, allocation protection 0x%x (EXECUTE 0x%x, EXECUTE_READ 0x%x)",
		       q.protect, q.allocation_protect, EX, EXR);
		wv_fault_reset();
		TH_LOG("  read: %s", wv_try_read(PTR(a), &b) ? "ok" : "faults");
		wv_fault_reset();
		if (wv_try_call(PTR(a), &r))
			TH_LOG("  call: ok (returned %d)", r);
		else
			TH_LOG("  call: faults (fresh section pages are zero: 'add [rax],al')");
		ASSERT_OK(wv_unmap(self->fd, a));
	}
	st = wv_map_at(self->fd, xfd, MAP_R, 0, 0, 0);
	TH_LOG("FILE_MAP_READ through it -> %s", winvm_abi_status_name(st));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, st);
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_dup(self->fd, xfd, S_MAP_W, &wfd));
	close(xfd);
	close(sfd);
}

TEST_HARNESS_MAIN
