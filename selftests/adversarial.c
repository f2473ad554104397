// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: an unprivileged caller must not get, through sections
 * and views of a file it has an fd for, anything mmap(2) of that fd would
 * refuse.  The file's open mode, append-only and immutable flags, memfd
 * seals, noexec mounts and IMA appraisal all still apply; memory that is
 * not page cache (hugetlbfs, memfd_secret) is no section backing; overlayfs
 * files map like any other file.  Write-copy views stay private.
 *
 * The checks run in a forked child that is uid/gid 65534 with no
 * capabilities (or, where root's view is the point, stays root); it counts
 * failed checks into its exit status and logs each one.  The files sit on
 * tmpfs, on the guest's ext4 RAM disk (/mnt/ext4) and on an overlayfs the
 * test mounts; what is missing makes a test skip.
 */
#include <ftw.h>
#include <grp.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "winvm_test.h"

#define NOBODY		WV_NOBODY
#define FSIZE		(16 * WV_PAGE)	/* every test file: one 64 KiB granule */
#define SEED		7
#define CHILD_SKIP	125	/* above any count of failed checks (at most 100) */
#define EXT4_DIR	"/mnt/ext4"
#define EXT4_UUID_FILE	"/etc/winvm-ext4.uuid"
#define IMA_DIR		"/sys/kernel/security/ima"
#define HUGE_2M		(2ULL << 20)

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB	(21U << 26)	/* log2(2 MiB) << MFD_HUGE_SHIFT */
#endif
#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

/* ------------------------------------------------------------------ */
/* File contents: the pattern, optionally with each page's byte 0 inverted */
/* ------------------------------------------------------------------ */

static uint8_t want_byte(uint64_t off, bool marked)
{
	uint8_t b = wv_pat(off, SEED);

	return marked && !(off % WV_PAGE) ? (uint8_t)~b : b;
}

/* FNV-1a over the file's expected bytes. */
static uint64_t want_sum(bool marked)
{
	uint64_t h = 0xcbf29ce484222325ULL, off;

	for (off = 0; off < FSIZE; off++)
		h = (h ^ want_byte(off, marked)) * 0x100000001b3ULL;
	return h;
}

/* FNV-1a over what read(2) returns for the whole file; 0 if short. */
static uint64_t fd_sum(int fd)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	static uint8_t buf[FSIZE];
	struct stat st;
	size_t i;

	if (fstat(fd, &st) || st.st_size != (off_t)FSIZE ||
	    pread(fd, buf, FSIZE, 0) != (ssize_t)FSIZE)
		return 0;
	for (i = 0; i < FSIZE; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	return h;
}

static bool fd_is(int fd, bool marked)
{
	uint64_t got = fd_sum(fd), want = want_sum(marked);

	if (got != want)
		fprintf(stderr, "#   file checksum %016" PRIx64 ", want %016" PRIx64 " (%s)\n",
			got, want, marked ? "written" : "untouched");
	return got == want;
}

static bool path_is(const char *path, bool marked)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0) {
		fprintf(stderr, "#   open %s: %s\n", path, strerror(errno));
		return false;
	}
	ok = fd_is(fd, marked);
	close(fd);
	return ok;
}

/* A new file at @path holding the pattern, with mode @mode, on disk. */
static int make_file(const char *path, mode_t mode)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	uint64_t off;
	int ret = 0;

	if (fd < 0)
		return -1;
	for (off = 0; off < FSIZE && !ret; off++) {
		uint8_t b = want_byte(off, false);

		ret = pwrite(fd, &b, 1, off) == 1 ? 0 : -1;
	}
	if (!ret)
		ret = fchmod(fd, mode) || fsync(fd) ? -1 : 0;
	close(fd);
	return ret;
}

/* Write back and forget clean page cache, so the next read hits the disk. */
static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	sync();
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
}

/* FS_IOC_SETFLAGS: set or clear @flag (FS_APPEND_FL, ...); 0 or errno. */
static int set_flag(const char *path, int flag, bool on)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), flags, err = 0;

	if (fd < 0)
		return errno;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags))
		err = errno;
	flags = on ? flags | flag : flags & ~flag;
	if (!err && ioctl(fd, FS_IOC_SETFLAGS, &flags))
		err = errno;
	close(fd);
	return err;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static bool fs_is(const char *dir, long magic)
{
	struct statfs sf;

	return !statfs(dir, &sf) && sf.f_type == magic;
}

/* A fresh temporary dir on @fs_dir, searchable by everybody. */
static int adv_dir(char *dir, const char *fs_dir)
{
	snprintf(dir, 64, "%s/wv-adv-XXXXXX", fs_dir);
	return mkdtemp(dir) && !chmod(dir, 0755) ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Children: the checks run as uid 65534 (or root) in a forked process  */
/* ------------------------------------------------------------------ */

static int nb_ctx = -1;		/* the child's own /dev/winvm context */
static int nb_fails;		/* failed checks in the child */
static char *nb_skip_msg;	/* a child's reason to skip (shared page) */

static bool nb_st(int line, const char *call, uint32_t want, uint32_t got)
{
	int werr = winvm_abi_status_errno(want);

	if (got == want && (werr < 0 || werr == wv_errno))
		return true;
	fprintf(stderr, "# [uid %d] line %d: %s -> %s (0x%08x) errno %d (%s), expected %s, errno %d\n",
		(int)getuid(), line, call, winvm_abi_status_name(got), got, wv_errno,
		strerror(wv_errno), winvm_abi_status_name(want), werr);
	nb_fails++;
	return false;
}

static bool nb_true(int line, const char *what, bool ok)
{
	if (!ok) {
		fprintf(stderr, "# [uid %d] line %d: check failed: %s\n", (int)getuid(), line, what);
		nb_fails++;
	}
	return ok;
}

/* Exact NTSTATUS and its errno, as ASSERT_ST() checks them. */
#define NB_ST(want, call)	nb_st(__LINE__, #call, (want), (call))
#define NB_TRUE(cond)		nb_true(__LINE__, #cond, (cond))

static void __attribute__((noreturn, format(printf, 1, 2))) nb_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nb_skip_msg, 4096, fmt, ap);
	va_end(ap);
	_exit(CHILD_SKIP);
}

enum who { AS_ROOT, AS_NOBODY };

/* Runs @fn(@arg) in a child; its exit status: failed checks, or CHILD_SKIP. */
static int run_child(enum who who, void (*fn)(void *), void *arg)
{
	pid_t pid;

	if (!nb_skip_msg) {
		nb_skip_msg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (nb_skip_msg == MAP_FAILED)
			return -1;
	}
	strcpy(nb_skip_msg, "the child skipped");
	fflush(NULL);
	pid = fork();
	if (pid)
		return pid < 0 ? -1 : wv_wait(pid);
	if (who == AS_NOBODY && wv_drop_to_nobody())
		nb_skip("cannot become uid %d without capabilities: %s", NOBODY, strerror(errno));
	nb_ctx = open(WV_DEV, O_RDWR | O_CLOEXEC);
	if (nb_ctx < 0)
		nb_skip("no %s (%s): winvm module not loaded", WV_DEV, strerror(errno));
	wv_fault_install(nb_ctx);
	nb_fails = 0;
	fn(arg);
	_exit(nb_fails > 100 ? 100 : nb_fails);
}

#define RUN_CHILD(who, fn, arg) do {						\
	int __rc = run_child(who, fn, arg);					\
	if (__rc == CHILD_SKIP)							\
		SKIP(return, "%s", nb_skip_msg);				\
	ASSERT_EQ(0, __rc)							\
		TH_LOG("%s: %d failed check(s) (128 + n: killed by signal n)", #fn, __rc); \
} while (0)

/* ------------------------------------------------------------------ */
/* What the child checks                                                */
/* ------------------------------------------------------------------ */

static int nb_section(int fd, uint32_t prot)
{
	int sfd = -1;

	NB_ST(ST_OK, wv_sec_create(nb_ctx, 0, prot, 0, fd, 0, NULL, 0, &sfd));
	return sfd;
}

/* SECTION_CREATE over @fd with @prot must be refused as ACCESS_DENIED. */
static void nb_deny(int fd, uint32_t prot)
{
	int sfd = -1;

	if (!NB_ST(WINVM_STATUS_ACCESS_DENIED,
		   wv_sec_create(nb_ctx, 0, prot, 0, fd, 0, NULL, 0, &sfd)))
		fprintf(stderr, "#   (section protection 0x%x)\n", prot);
	if (sfd >= 0)
		close(sfd);
}

/* A whole-section view; 0 when it could not be mapped. */
static uint64_t nb_map(int sfd, uint32_t access)
{
	uint64_t a = 0, s = 0;

	if (!NB_ST(ST_OK, wv_map(nb_ctx, sfd, access, &a, 0, &s, 0, 0))) {
		fprintf(stderr, "#   (view access 0x%x)\n", access);
		return 0;
	}
	NB_TRUE(s == FSIZE);
	return a;
}

/* The view reads without faulting and holds the expected bytes. */
static bool view_is(uint64_t v, bool marked)
{
	const volatile uint8_t *p = PTR(v);
	uint64_t off;

	for (off = 0; off < FSIZE; off += WV_PAGE)
		if (!wv_try_read(PTR(v + off), NULL)) {
			fprintf(stderr, "#   view page 0x%" PRIx64 " faults on read\n", off);
			return false;
		}
	for (off = 0; off < FSIZE; off++)
		if (p[off] != want_byte(off, marked)) {
			fprintf(stderr, "#   view byte 0x%" PRIx64 " is 0x%02x, want 0x%02x\n",
				off, p[off], want_byte(off, marked));
			return false;
		}
	return true;
}

/* Writes byte 0 of every page of the view (inverted pattern). */
static bool view_mark(uint64_t v)
{
	uint64_t off;

	for (off = 0; off < FSIZE; off += WV_PAGE)
		if (!wv_try_write(PTR(v + off), want_byte(off, true))) {
			fprintf(stderr, "#   view page 0x%" PRIx64 " faults on write\n", off);
			return false;
		}
	return true;
}

static void nb_read_view(int sfd)
{
	uint64_t v = nb_map(sfd, MAP_R);

	if (!v)
		return;
	NB_TRUE(view_is(v, false));
	NB_ST(ST_OK, wv_unmap(nb_ctx, v));
}

/*
 * Set while write-copy views of the memfd are refused: with F_SEAL_WRITE,
 * and F_SEAL_FUTURE_WRITE before 6.7 (below).  A write-copy view is a
 * shared mapping of the file that writes only private copies, and the
 * kernel counts every such mapping as a writer of the file (before 6.7 any
 * VM_SHARED one, since then any that may write): winvm refuses it rather
 * than let that count cover up the seal (docs/threat-model.md, T-SEAL).
 */
static bool nb_write_sealed;

/*
 * Before 6.7 shmem's own ->mmap refuses any shared mapping that may write
 * a memfd with F_SEAL_FUTURE_WRITE, and winvm's write-copy VMA is one: the
 * file's ->mmap has the last word (T-MMAP), so such a view is refused
 * there too.  Since 6.7 the check counts only mappings mmap(2) makes.
 */
static bool future_write_refuses_copy(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major < 6 || (major == 6 && minor < 7);
}

/* A FILE_MAP_COPY view takes a write on every page; @fd does not see it. */
static void nb_copy_view(int sfd, int fd)
{
	uint64_t v;

	if (nb_write_sealed) {
		NB_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(nb_ctx, sfd, MAP_C, 0, 0, 0));
		return;
	}
	v = nb_map(sfd, MAP_C);
	if (!v)
		return;
	if (NB_TRUE(view_mark(v)))
		NB_TRUE(view_is(v, true));
	NB_TRUE(fd_is(fd, false));
	NB_ST(ST_OK, wv_unmap(nb_ctx, v));
}

/* A FILE_MAP_WRITE view's writes reach the file (and @other, its twin). */
static void nb_write_view(int sfd, int fd, const char *other)
{
	uint64_t v = nb_map(sfd, MAP_W), a, s = 0;

	if (!v)
		return;
	NB_TRUE(view_mark(v));
	a = v;
	NB_ST(ST_OK, wv_flush(nb_ctx, &a, &s, 0));
	NB_TRUE(fd_is(fd, true));
	if (other)
		NB_TRUE(path_is(other, true));
	NB_ST(ST_OK, wv_unmap(nb_ctx, v));
}

/*
 * What an fd that may not write the file gets: no section that writes it,
 * read-only and write-copy sections whose views read it, FILE_MAP_WRITE
 * refused, write-copy pages private.
 */
static void nb_readonly_checks(int fd)
{
	int sfd;

	nb_deny(fd, RW);
	nb_deny(fd, EXRW);
	sfd = nb_section(fd, RO);
	if (sfd >= 0) {
		NB_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(nb_ctx, sfd, MAP_W, 0, 0, 0));
		nb_read_view(sfd);
		nb_copy_view(sfd, fd);
		/* The copies went with the view: a new one sees the file. */
		nb_read_view(sfd);
		close(sfd);
	}
	/* A write-copy section needs only read access to the file. */
	sfd = nb_section(fd, WCOPY);
	if (sfd >= 0) {
		nb_copy_view(sfd, fd);
		close(sfd);
	}
	NB_TRUE(fd_is(fd, false));
}

/* The child opens @path read-only itself (it may not open it to write). */
static void nb_open_readonly(void *path)
{
	int fd;

	NB_TRUE(open(path, O_RDWR | O_CLOEXEC) < 0 && (errno == EACCES || errno == EPERM));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!NB_TRUE(fd >= 0))
		return;
	nb_readonly_checks(fd);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Case 4: memfd seals (the child's own memfd)                          */
/* ------------------------------------------------------------------ */

/* No state: a fixture only for TEST_F_TIMEOUT (TCG is slow). */
FIXTURE(plain) {
	int unused;
};

FIXTURE_SETUP(plain)
{
}

FIXTURE_TEARDOWN(plain)
{
}

static int nb_memfd(void)
{
	int fd = memfd_create("wv-adv", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	uint64_t off;

	if (fd < 0)
		nb_skip("memfd_create: %s", strerror(errno));
	for (off = 0; off < FSIZE; off++) {
		uint8_t b = want_byte(off, false);

		if (pwrite(fd, &b, 1, off) != 1)
			nb_skip("memfd write: %s", strerror(errno));
	}
	return fd;
}

static void nb_memfd_sealed(void *arg)
{
	int seal = *(int *)arg, fd = nb_memfd();
	uint8_t b = 0;
	void *p;

	NB_TRUE(fcntl(fd, F_ADD_SEALS, seal) == 0);
	nb_write_sealed = seal == F_SEAL_WRITE || future_write_refuses_copy();
	/* Sanity: write(2) is refused now, private writable mmap(2) is not. */
	NB_TRUE(pwrite(fd, &b, 1, 0) < 0 && errno == EPERM);
	p = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (NB_TRUE(p != MAP_FAILED))
		munmap(p, FSIZE);
	nb_readonly_checks(fd);
	close(fd);
}

TEST_F_TIMEOUT(plain, memfd_seal_write, 120)
{
	int seal = F_SEAL_WRITE;

	RUN_CHILD(AS_NOBODY, nb_memfd_sealed, &seal);
}

TEST_F_TIMEOUT(plain, memfd_seal_future_write, 120)
{
	int seal = F_SEAL_FUTURE_WRITE;

	RUN_CHILD(AS_NOBODY, nb_memfd_sealed, &seal);
}

/*
 * A section made before its memfd was sealed: no new write view, read and
 * copy views as the seal allows, the memfd untouched.  Closes both fds.
 */
static void nb_sealed_views(int sfd, int fd)
{
	NB_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(nb_ctx, sfd, MAP_W, 0, 0, 0));
	nb_read_view(sfd);
	nb_copy_view(sfd, fd);
	NB_TRUE(fd_is(fd, false));
	close(sfd);
	close(fd);
}

/* If F_SEAL_WRITE went on under a write view: can the view still write? */
static void nb_sealed_under_view(int fd, uint64_t v)
{
	fprintf(stderr, "#   F_SEAL_WRITE succeeded with a FILE_MAP_WRITE view mapped\n");
	if (wv_try_write(PTR(v), want_byte(0, true)) && !fd_is(fd, false))
		NB_TRUE(!"the write view wrote the sealed memfd");
	wv_try_write(PTR(v), want_byte(0, false));
}

/* Writable views block F_SEAL_WRITE; once sealed, no new write view. */
static void nb_memfd_seal_busy(void *arg)
{
	int fd = nb_memfd(), sfd, r;
	uint64_t v;

	(void)arg;
	sfd = nb_section(fd, RW);
	if (sfd < 0)
		return;
	v = nb_map(sfd, MAP_W);
	r = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);
	if (!NB_TRUE(r < 0 && errno == EBUSY) && !r && v)
		nb_sealed_under_view(fd, v);
	if (v)
		NB_ST(ST_OK, wv_unmap(nb_ctx, v));
	if (r)
		NB_TRUE(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
	nb_write_sealed = true;
	nb_sealed_views(sfd, fd);
}

TEST_F_TIMEOUT(plain, memfd_seal_write_vs_write_view, 120)
{
	RUN_CHILD(AS_NOBODY, nb_memfd_seal_busy, NULL);
}

/* F_SEAL_FUTURE_WRITE after the section: no new write view. */
static void nb_memfd_future_late(void *arg)
{
	int fd = nb_memfd(), sfd;

	(void)arg;
	sfd = nb_section(fd, RW);
	if (sfd < 0)
		return;
	NB_TRUE(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0);
	nb_write_sealed = future_write_refuses_copy();
	nb_sealed_views(sfd, fd);
}

TEST_F_TIMEOUT(plain, memfd_future_write_after_section, 120)
{
	RUN_CHILD(AS_NOBODY, nb_memfd_future_late, NULL);
}

/* ------------------------------------------------------------------ */
/* Case 8: noexec tmpfs                                                 */
/* ------------------------------------------------------------------ */

static void nb_noexec(void *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), sfd;
	void *p;

	if (!NB_TRUE(fd >= 0))
		return;
	/* Sanity: mmap(2) refuses PROT_EXEC on a noexec mount. */
	p = mmap(NULL, FSIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	NB_TRUE(p == MAP_FAILED && errno == EPERM);
	p = mmap(NULL, FSIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	NB_TRUE(p == MAP_FAILED && errno == EPERM);
	nb_deny(fd, EXR);
	nb_deny(fd, EXWCOPY);
	/* Reading is still fine. */
	sfd = nb_section(fd, RO);
	if (sfd >= 0) {
		nb_read_view(sfd);
		close(sfd);
	}
	close(fd);
}

TEST_F_TIMEOUT(plain, noexec_tmpfs, 120)
{
	char dir[] = "/tmp/wv-noexec-XXXXXX", path[64];

	if (geteuid())
		SKIP(return, "needs root to mount");
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("tmpfs", dir, "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV, "mode=0755"))
		TH_LOG("mount: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/data", dir);
	EXPECT_EQ(0, make_file(path, 0644));
	if (!_metadata->exit_code) {
		int rc = run_child(AS_NOBODY, nb_noexec, path);

		EXPECT_EQ(0, rc) TH_LOG("nb_noexec: %d failed check(s)", rc);
	}
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* Case 9: IMA appraisal of executable mappings                         */
/* ------------------------------------------------------------------ */

static void nb_ima(void *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), sfd = -1;
	uint32_t st;
	void *p;

	if (!NB_TRUE(fd >= 0))
		return;
	p = mmap(NULL, FSIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED)
		nb_skip("IMA appraisal is not active in this kernel: mmap(PROT_EXEC) of an unappraised file works");
	p = mmap(NULL, FSIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	NB_TRUE(p == MAP_FAILED);
	/* The section or its view may refuse, but one of them must. */
	st = wv_sec_create(nb_ctx, 0, EXR, 0, fd, 0, NULL, 0, &sfd);
	if (st == ST_OK)
		NB_ST(WINVM_STATUS_ACCESS_DENIED,
		      wv_map_at(nb_ctx, sfd, MAP_X | MAP_R, 0, 0, 0));
	else
		NB_ST(WINVM_STATUS_ACCESS_DENIED, st);
	if (sfd >= 0)
		close(sfd);
	close(fd);
}

/* Appraise executable mappings on the ext4 disk only (by its UUID). */
static int ima_policy(char *why, size_t len)
{
	char uuid[64] = "", rule[160];
	FILE *f = fopen(EXT4_UUID_FILE, "r");
	int fd, n;

	if (!f || !fgets(uuid, sizeof(uuid), f)) {
		snprintf(why, len, "no %s", EXT4_UUID_FILE);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	uuid[strcspn(uuid, "\n")] = 0;
	n = snprintf(rule, sizeof(rule), "appraise func=MMAP_CHECK mask=MAY_EXEC fsuuid=%s\n", uuid);
	/* Without CONFIG_IMA_WRITE_POLICY the file goes after one write. */
	fd = open(IMA_DIR "/policy", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, rule, n) != n) {
		snprintf(why, len, "cannot load the IMA policy (already loaded this boot?): %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

TEST_F_TIMEOUT(plain, ima_appraise_exec, 120)
{
	char dir[64], path[96], why[160];
	int rc;

	if (geteuid())
		SKIP(return, "needs root to load an IMA policy");
	if (access(IMA_DIR, F_OK))
		SKIP(return, "no %s: no IMA, or no securityfs", IMA_DIR);
	if (!fs_is(EXT4_DIR, EXT4_SUPER_MAGIC))
		SKIP(return, "no ext4 filesystem at %s", EXT4_DIR);
	ASSERT_EQ(0, adv_dir(dir, EXT4_DIR));
	snprintf(path, sizeof(path), "%s/data", dir);
	ASSERT_EQ(0, make_file(path, 0644));
	if (ima_policy(why, sizeof(why))) {
		rm_tree(dir);
		SKIP(return, "%s", why);
	}
	/* A cached inode may carry the verdict of its creation: forget it. */
	drop_caches();
	rc = run_child(AS_NOBODY, nb_ima, path);
	rm_tree(dir);
	if (rc == CHILD_SKIP)
		SKIP(return, "%s", nb_skip_msg);
	ASSERT_EQ(0, rc) TH_LOG("nb_ima: %d failed check(s)", rc);
}

/* ------------------------------------------------------------------ */
/* Cases 5 and 6: memory that is no page cache                         */
/* ------------------------------------------------------------------ */

/* No section of @fd, whatever the protection or size. */
static void nb_not_for_section(int fd, uint64_t size)
{
	static const uint32_t prots[] = { RO, RW };
	uint64_t sizes[] = { 0, size };
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(prots); i++)
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			int sfd = -1;

			if (!NB_ST(WINVM_STATUS_INVALID_FILE_FOR_SECTION,
				   wv_sec_create(nb_ctx, sizes[j], prots[i], 0, fd, 0,
						 NULL, 0, &sfd)))
				fprintf(stderr, "#   (protection 0x%x, size 0x%" PRIx64 ")\n",
					prots[i], sizes[j]);
			if (sfd >= 0)
				close(sfd);
		}
}

static void nb_hugetlb(void *arg)
{
	/* The default huge page size, and 2 MiB asked for by name. */
	static const unsigned int flags[] = { MFD_HUGETLB, MFD_HUGETLB | MFD_HUGE_2MB };
	unsigned int i;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		int fd = memfd_create("x", flags[i] | MFD_CLOEXEC);

		if (fd < 0)
			nb_skip("memfd_create(MFD_HUGETLB): %s", strerror(errno));
		/* Without a huge page pool this may fail: use the fd as is. */
		if (ftruncate(fd, HUGE_2M))
			fprintf(stderr, "#   ftruncate(hugetlb memfd, 2 MiB): %s\n", strerror(errno));
		nb_not_for_section(fd, HUGE_2M);
		close(fd);
	}
}

/* No state, like "plain". */
FIXTURE(nopc) {
	int unused;
};

FIXTURE_SETUP(nopc)
{
}

FIXTURE_TEARDOWN(nopc)
{
}

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

static long get_hugepages(void)
{
	FILE *f = fopen(NR_HUGEPAGES, "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Asks for a pool of @n huge pages; true if the kernel found them. */
static bool set_hugepages(long n)
{
	FILE *f = fopen(NR_HUGEPAGES, "w");

	if (!f)
		return false;
	fprintf(f, "%ld\n", n);
	fclose(f);
	return get_hugepages() >= n;
}

/* Case 5: hugetlbfs memfds, with no huge page pool and then with one. */
TEST_F_TIMEOUT(nopc, hugetlb_memfd, 120)
{
	long old = get_hugepages();
	int rc;

	RUN_CHILD(AS_NOBODY, nb_hugetlb, NULL);
	if (old < 0 || !set_hugepages(2)) {
		if (old >= 0)
			set_hugepages(old);
		SKIP(return, "no huge page pool to try with");
	}
	rc = run_child(AS_NOBODY, nb_hugetlb, NULL);
	set_hugepages(old);
	ASSERT_EQ(0, rc) TH_LOG("with a pool: %d failed check(s)", rc);
}

static void nb_secret(void *arg)
{
	int fd = syscall(SYS_memfd_secret, O_CLOEXEC);

	(void)arg;
	if (fd < 0)
		nb_skip("memfd_secret: %s", strerror(errno));
	NB_TRUE(ftruncate(fd, FSIZE) == 0);
	nb_not_for_section(fd, FSIZE);
	close(fd);
}

/* Case 6: memfd_secret memory is in no page cache and no direct map. */
TEST_F_TIMEOUT(nopc, memfd_secret, 120)
{
	RUN_CHILD(AS_NOBODY, nb_secret, NULL);
}

/* ------------------------------------------------------------------ */
/* Cases 1-3 and 10 on tmpfs, ext4 and overlayfs                         */
/* ------------------------------------------------------------------ */

/* An overlayfs in a temporary dir on /tmp: lower, upper, work, merged. */
struct ovlfs {
	char base[64];
	char lower[80], upper[80], work[80], merged[80];
	bool mounted;
};

static int ovlfs_dirs(struct ovlfs *o)
{
	strcpy(o->base, "/tmp/wv-ovl-XXXXXX");
	if (!mkdtemp(o->base) || chmod(o->base, 0755))
		return -1;
	snprintf(o->lower, sizeof(o->lower), "%s/lower", o->base);
	snprintf(o->upper, sizeof(o->upper), "%s/upper", o->base);
	snprintf(o->work, sizeof(o->work), "%s/work", o->base);
	snprintf(o->merged, sizeof(o->merged), "%s/merged", o->base);
	return mkdir(o->lower, 0755) || mkdir(o->upper, 0755) ||
	       mkdir(o->work, 0755) || mkdir(o->merged, 0755) ? -1 : 0;
}

/* 0 or the errno of mount(2) (ENODEV: no overlayfs in this kernel). */
static int ovlfs_mount(struct ovlfs *o)
{
	char opts[300];

	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 o->lower, o->upper, o->work);
	if (mount("overlay", o->merged, "overlay", 0, opts))
		return errno;
	o->mounted = true;
	return 0;
}

static void ovlfs_umount(struct ovlfs *o)
{
	if (o->mounted)
		umount2(o->merged, MNT_DETACH);
	o->mounted = false;
	rm_tree(o->base);
}

enum backing { ON_TMPFS, ON_EXT4, ON_OVERLAY };

FIXTURE(adv) {
	char dir[64];		/* the temporary dir on tmpfs or ext4 */
	char path[128];		/* the test file, as the tests open it */
	char lower[128];	/* overlayfs: the same file in the lower dir */
	struct ovlfs ovl;
	int flag;		/* FS_*_FL to clear again in teardown */
};

FIXTURE_VARIANT(adv) {
	enum backing kind;
};

FIXTURE_VARIANT_ADD(adv, tmpfs) { .kind = ON_TMPFS };
FIXTURE_VARIANT_ADD(adv, ext4) { .kind = ON_EXT4 };
FIXTURE_VARIANT_ADD(adv, overlayfs) { .kind = ON_OVERLAY };

/* Overlayfs with the test file in the lower dir only. */
static int adv_overlay(FIXTURE_DATA(adv) *self)
{
	int err;

	if (ovlfs_dirs(&self->ovl))
		return errno;
	snprintf(self->lower, sizeof(self->lower), "%s/data", self->ovl.lower);
	snprintf(self->path, sizeof(self->path), "%s/data", self->ovl.merged);
	if (make_file(self->lower, 0644))
		return errno;
	err = ovlfs_mount(&self->ovl);
	if (err)
		ovlfs_umount(&self->ovl);
	return err;
}

FIXTURE_SETUP(adv)
{
	int err;

	if (geteuid())
		SKIP(return, "needs root to make root-owned files");
	if (access(WV_DEV, F_OK))
		SKIP(return, "no %s: winvm module not loaded", WV_DEV);
	switch (variant->kind) {
	case ON_TMPFS:
		if (!fs_is("/tmp", TMPFS_MAGIC))
			SKIP(return, "/tmp is not tmpfs");
		ASSERT_EQ(0, adv_dir(self->dir, "/tmp"));
		break;
	case ON_EXT4:
		if (!fs_is(EXT4_DIR, EXT4_SUPER_MAGIC))
			SKIP(return, "no ext4 filesystem at %s", EXT4_DIR);
		ASSERT_EQ(0, adv_dir(self->dir, EXT4_DIR));
		break;
	case ON_OVERLAY:
		err = adv_overlay(self);
		if (err == ENODEV)
			SKIP(return, "no overlayfs in this kernel");
		ASSERT_EQ(0, err) TH_LOG("overlayfs: %s", strerror(err));
		return;
	}
	snprintf(self->path, sizeof(self->path), "%s/data", self->dir);
	ASSERT_EQ(0, make_file(self->path, 0644)) TH_LOG("%s: %s", self->path, strerror(errno));
}

FIXTURE_TEARDOWN(adv)
{
	if (self->flag)
		set_flag(self->path, self->flag, false);
	if (variant->kind == ON_OVERLAY)
		ovlfs_umount(&self->ovl);
	else
		rm_tree(self->dir);
}

/* The file holds its original bytes, also read back from the disk. */
static void adv_intact(struct __test_metadata *_metadata, FIXTURE_DATA(adv) *self)
{
	ASSERT_TRUE(path_is(self->path, false));
	if (self->lower[0])
		ASSERT_TRUE(path_is(self->lower, false));
	drop_caches();
	ASSERT_TRUE(path_is(self->path, false));
	if (self->lower[0])
		ASSERT_TRUE(path_is(self->lower, false));
}

/* Sets @flag on the test file (teardown clears it), or skips. */
#define ADV_SET_FLAG(fl) do {							\
	int __err = set_flag(self->path, fl, true);				\
	if (__err)								\
		SKIP(return, "FS_IOC_SETFLAGS(" #fl "): %s", strerror(__err));	\
	self->flag = fl;							\
} while (0)

/* Even root may not open the file to write (without O_APPEND). */
static int open_rw_errno(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Case 1: a root-owned 0644 file, opened read-only by uid 65534. */
TEST_F_TIMEOUT(adv, readonly_fd, 120)
{
	RUN_CHILD(AS_NOBODY, nb_open_readonly, self->path);
	adv_intact(_metadata, self);
}

struct append_args {
	int wfd;		/* O_RDWR | O_APPEND, opened by root */
	const char *path;
};

static void nb_append(void *arg)
{
	static const uint32_t prots[] = { RO, RW, EXR, EXRW };
	struct append_args *a = arg;
	unsigned int i;
	int sfd;

	/* mmap(MAP_SHARED) refuses a writable fd of an append-only file. */
	for (i = 0; i < ARRAY_SIZE(prots); i++)
		nb_deny(a->wfd, prots[i]);
	/*
	 * MAP_PRIVATE does not, and a write-copy section's views only write
	 * private copies: allowed, and the file stays as it was.
	 */
	sfd = nb_section(a->wfd, WCOPY);
	if (sfd >= 0) {
		nb_copy_view(sfd, a->wfd);
		close(sfd);
	}
	nb_open_readonly((void *)a->path);
}

/* Case 2: append-only; root hands over an O_RDWR | O_APPEND fd. */
TEST_F_TIMEOUT(adv, append_only, 120)
{
	struct append_args a = { .path = self->path };
	void *p;

	ADV_SET_FLAG(FS_APPEND_FL);
	ASSERT_EQ(EPERM, open_rw_errno(self->path));
	a.wfd = open(self->path, O_RDWR | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, a.wfd) TH_LOG("open O_APPEND: %s", strerror(errno));
	/* The rule the sections must follow, as mmap(2) applies it. */
	p = mmap(NULL, FSIZE, PROT_READ, MAP_SHARED, a.wfd, 0);
	ASSERT_TRUE(p == MAP_FAILED && errno == EACCES);
	RUN_CHILD(AS_NOBODY, nb_append, &a);
	close(a.wfd);
	adv_intact(_metadata, self);
}

/* Case 3: immutable; even root cannot open it to write. */
TEST_F_TIMEOUT(adv, immutable, 120)
{
	ADV_SET_FLAG(FS_IMMUTABLE_FL);
	ASSERT_EQ(EPERM, open_rw_errno(self->path));
	RUN_CHILD(AS_NOBODY, nb_open_readonly, self->path);
	adv_intact(_metadata, self);
}

struct passed_args {
	int fd;			/* O_RDONLY, opened by root before the fork */
	const char *path;
};

static void nb_passed_fd(void *arg)
{
	struct passed_args *a = arg;

	/* Sanity: the child could not have opened it itself. */
	NB_TRUE(open(a->path, O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES);
	nb_readonly_checks(a->fd);
}

/* Case 10: a root-only 0600 file whose read-only fd root hands over. */
TEST_F_TIMEOUT(adv, root_only_file_passed_fd, 120)
{
	struct passed_args a = { .path = self->path };

	ASSERT_EQ(0, chmod(self->path, 0600));
	a.fd = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, a.fd);
	RUN_CHILD(AS_NOBODY, nb_passed_fd, &a);
	close(a.fd);
	adv_intact(_metadata, self);
}

/* ------------------------------------------------------------------ */
/* Case 7: overlayfs (last: winvm once called through NULL here)        */
/* ------------------------------------------------------------------ */

FIXTURE(ovl) {
	struct ovlfs o;
	char low[128], up[128], mine[128];	/* merged paths */
	char low_lower[128], up_upper[128], mine_upper[128];
};

FIXTURE_SETUP(ovl)
{
	int err;

	if (geteuid())
		SKIP(return, "needs root to mount");
	ASSERT_EQ(0, ovlfs_dirs(&self->o));
	snprintf(self->low_lower, sizeof(self->low_lower), "%s/low", self->o.lower);
	ASSERT_EQ(0, make_file(self->low_lower, 0644));
	err = ovlfs_mount(&self->o);
	if (err == ENODEV) {
		ovlfs_umount(&self->o);
		SKIP(return, "no overlayfs in this kernel");
	}
	ASSERT_EQ(0, err) TH_LOG("overlayfs: %s", strerror(err));
	snprintf(self->low, sizeof(self->low), "%s/low", self->o.merged);
	snprintf(self->up, sizeof(self->up), "%s/up", self->o.merged);
	snprintf(self->mine, sizeof(self->mine), "%s/mine", self->o.merged);
	snprintf(self->up_upper, sizeof(self->up_upper), "%s/up", self->o.upper);
	snprintf(self->mine_upper, sizeof(self->mine_upper), "%s/mine", self->o.upper);
	/* Made through the overlay, so they live in the upper dir. */
	ASSERT_EQ(0, make_file(self->up, 0644));
	ASSERT_EQ(0, make_file(self->mine, 0644));
	ASSERT_EQ(0, chown(self->mine, NOBODY, NOBODY));
}

FIXTURE_TEARDOWN(ovl)
{
	ovlfs_umount(&self->o);
}

static void nb_ovl_lower(void *arg)
{
	FIXTURE_DATA(ovl) *self = arg;
	int fd = open(self->low, O_RDONLY | O_CLOEXEC);

	if (!NB_TRUE(fd >= 0))
		return;
	nb_readonly_checks(fd);
	NB_TRUE(path_is(self->low_lower, false));
	close(fd);
}

/* A file only in the lower dir (this used to call through NULL). */
TEST_F_TIMEOUT(ovl, lower_file_copy_view, 120)
{
	char low_upper[128];

	RUN_CHILD(AS_ROOT, nb_ovl_lower, self);
	/* Nothing was copied up: the lower file is all there is. */
	snprintf(low_upper, sizeof(low_upper), "%s/low", self->o.upper);
	ASSERT_NE(0, access(low_upper, F_OK));
	drop_caches();
	ASSERT_TRUE(path_is(self->low, false));
	ASSERT_TRUE(path_is(self->low_lower, false));
}

struct rw_args {
	const char *path, *twin;	/* merged path, and the upper-dir path */
};

static void nb_ovl_write(void *arg)
{
	struct rw_args *a = arg;
	int fd = open(a->path, O_RDWR | O_CLOEXEC), sfd;

	if (!NB_TRUE(fd >= 0))
		return;
	sfd = nb_section(fd, RW);
	if (sfd >= 0) {
		nb_copy_view(sfd, fd);
		nb_write_view(sfd, fd, a->twin);
		close(sfd);
	}
	close(fd);
}

/* A file in the upper dir, read-write: write views reach it. */
TEST_F_TIMEOUT(ovl, upper_file_write_view, 120)
{
	struct rw_args a = { self->up, self->up_upper };

	RUN_CHILD(AS_ROOT, nb_ovl_write, &a);
	drop_caches();
	ASSERT_TRUE(path_is(self->up, true));
}

/* The same as uid 65534, on a file it owns in the overlay. */
TEST_F_TIMEOUT(ovl, nobody_own_file_write_view, 120)
{
	struct rw_args a = { self->mine, self->mine_upper };

	RUN_CHILD(AS_NOBODY, nb_ovl_write, &a);
	drop_caches();
	ASSERT_TRUE(path_is(self->mine, true));
}

TEST_HARNESS_MAIN
