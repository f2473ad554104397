// SPDX-License-Identifier: GPL-2.0
/*
 * Helper functions of the winvm selftests, linked into every test binary
 * (see winvm_test.h): the ioctl wrappers, the fault-probing state and its
 * signal handler, the address-space and file utilities, the section and
 * view wrappers, and the memory kinds of the variant suites.  The state
 * shared with the tests (wv_errno, wv_fault, ...) is defined here, once.
 *
 * The kselftest harness is not included here (it defines non-static
 * symbols of its own); checks that fail write a message that the
 * ASSERT_*() macros of the header log with TH_LOG().
 */
#define WINVM_TEST_LIB
#include "winvm_test.h"

__thread int wv_errno;
__thread int wv_ioret;
__thread uint32_t wv_existed;
struct wv_fault_state wv_fault;
sigjmp_buf wv_jmp;

/* x86-64: mov eax, 42; ret */
const uint8_t wv_ret42[6] = {
	0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3,
};

uint32_t wv_info(int fd, struct winvm_info_args *info)
{
	/* Outputs start as garbage to prove the kernel writes them. */
	memset(info, 0xcc, sizeof(*info));
	info->flags = 0;
	info->pad = 0;
	memset(info->reserved, 0, sizeof(info->reserved));
	wv_errno = ioctl(fd, WINVM_IOC_INFO_GET, info) ? errno : 0;
	return info->status;
}

/* NtAllocateVirtualMemory: *addr and *size are in/out. */
uint32_t wv_alloc(int fd, uint64_t *addr, uint64_t *size, uint64_t zero_bits,
		  uint32_t type, uint32_t prot)
{
	struct winvm_alloc_args a = {
		.address = *addr, .size = *size, .zero_bits = zero_bits,
		.type = type, .protect = prot, .status = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_MEM_ALLOC, &a) ? errno : 0;
	*addr = a.address;
	*size = a.size;
	return a.status;
}

/* NtFreeVirtualMemory: *addr and *size are in/out. */
uint32_t wv_free(int fd, uint64_t *addr, uint64_t *size, uint32_t type)
{
	struct winvm_free_args a = {
		.address = *addr, .size = *size, .type = type,
		.status = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_MEM_FREE, &a) ? errno : 0;
	*addr = a.address;
	*size = a.size;
	return a.status;
}

/* NtProtectVirtualMemory: *addr and *size are in/out; @old may be NULL. */
uint32_t wv_protect(int fd, uint64_t *addr, uint64_t *size, uint32_t prot, uint32_t *old)
{
	struct winvm_protect_args a = {
		.address = *addr, .size = *size, .protect = prot,
		.old_protect = WV_GARBAGE32, .status = WV_GARBAGE32,
	};

	wv_errno = ioctl(fd, WINVM_IOC_MEM_PROTECT, &a) ? errno : 0;
	*addr = a.address;
	*size = a.size;
	if (old)
		*old = a.old_protect;
	return a.status;
}

/* NtQueryVirtualMemory; every output field starts as 0xcc garbage. */
uint32_t wv_query(int fd, uint64_t addr, struct winvm_query_args *q)
{
	memset(q, 0xcc, sizeof(*q));
	q->address = addr;
	q->flags = 0;
	q->pad = 0;
	memset(q->reserved, 0, sizeof(q->reserved));
	wv_errno = ioctl(fd, WINVM_IOC_MEM_QUERY, q) ? errno : 0;
	return q->status;
}

uint32_t wv_fault_info(int fd, struct winvm_fault_info_args *fi)
{
	memset(fi, 0xcc, sizeof(*fi));
	fi->flags = 0;
	memset(fi->reserved, 0, sizeof(fi->reserved));
	wv_errno = ioctl(fd, WINVM_IOC_FAULT_INFO, fi) ? errno : 0;
	return fi->status;
}

/* Convenience forms that drop the outputs. */
uint32_t wv_alloc_at(int fd, uint64_t addr, uint64_t size, uint32_t type, uint32_t prot)
{
	return wv_alloc(fd, &addr, &size, 0, type, prot);
}

uint32_t wv_free_at(int fd, uint64_t addr, uint64_t size, uint32_t type)
{
	return wv_free(fd, &addr, &size, type);
}

uint32_t wv_protect_at(int fd, uint64_t addr, uint64_t size, uint32_t prot)
{
	return wv_protect(fd, &addr, &size, prot, NULL);
}

bool wv_nt_explain(const char *call, uint32_t want, uint32_t got, int err,
		   char *msg, size_t len)
{
	int werr = winvm_abi_status_errno(want);

	if (got != want) {
		snprintf(msg, len, "%s -> %s (0x%08x, errno %d), expected %s (0x%08x)",
			 call, winvm_abi_status_name(got), got, err,
			 winvm_abi_status_name(want), want);
		return false;
	}
	if (werr >= 0 && err != werr) {
		snprintf(msg, len, "%s -> %s with errno %d (%s), expected errno %d (%s)",
			 call, winvm_abi_status_name(got), err, strerror(err), werr,
			 strerror(werr));
		return false;
	}
	return true;
}

void wv_query_str(const struct winvm_query_args *q, char *buf, size_t len)
{
	snprintf(buf, len, "VQ(0x%" PRIx64 ") status %s: base 0x%" PRIx64
		 " abase 0x%" PRIx64 " aprot 0x%x region 0x%" PRIx64
		 " state 0x%x prot 0x%x type 0x%x asize 0x%" PRIx64
		 " csize 0x%" PRIx64 " flags 0x%x", (uint64_t)q->address,
		 winvm_abi_status_name(q->status), (uint64_t)q->base_address,
		 (uint64_t)q->allocation_base, q->allocation_protect,
		 (uint64_t)q->region_size, q->state, q->protect, q->type,
		 (uint64_t)q->allocation_size, (uint64_t)q->commit_size,
		 q->region_flags);
}

bool wv_vq_explain(int fd, uint64_t addr, const struct wv_vq_want *w,
		   char *msg, size_t len)
{
	struct winvm_query_args q;
	uint32_t st = wv_query(fd, addr, &q);
	bool ok = st == ST_OK && wv_errno == 0;
	size_t n;

#define WV_FIELD(want, got)	((want) == ANY || (want) == (uint64_t)(got))
	ok = ok && WV_FIELD(w->base, q.base_address) &&
	     WV_FIELD(w->abase, q.allocation_base) &&
	     WV_FIELD(w->aprot, q.allocation_protect) &&
	     WV_FIELD(w->region, q.region_size) && WV_FIELD(w->state, q.state) &&
	     WV_FIELD(w->prot, q.protect) && WV_FIELD(w->type, q.type);
#undef WV_FIELD
	if (ok)
		return true;
	wv_query_str(&q, msg, len);
	n = strlen(msg);
	snprintf(msg + n, len - n, "; expected base 0x%" PRIx64 " abase 0x%" PRIx64
		 " aprot 0x%" PRIx64 " region 0x%" PRIx64 " state 0x%" PRIx64
		 " prot 0x%" PRIx64 " type 0x%" PRIx64 " (0x%" PRIx64 " = any)",
		 w->base, w->abase, w->aprot, w->region, w->state, w->prot,
		 w->type, ANY);
	return false;
}

void wv_fill(uint64_t a, uint32_t magic)
{
	int i;

	for (i = 0; i < 16; i++)
		*(volatile uint32_t *)PTR(a + i * WV_PAGE) = magic + i;
}

void wv_fault_reset(void)
{
	wv_fault.count = 0;
	wv_fault.signo = 0;
	wv_fault.addr = 0;
	wv_fault.fi_err = -1;
	memset(&wv_fault.fi, 0, sizeof(wv_fault.fi));
	wv_fault.q_status = WV_GARBAGE32;
	memset(&wv_fault.q, 0, sizeof(wv_fault.q));
	wv_barrier();
}

void wv_fault_handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno, saved_wv_errno = wv_errno;
	bool retry = false;

	(void)uc;
	wv_fault.count++;
	wv_fault.signo = sig;
	wv_fault.addr = U64(si->si_addr);
	wv_fault.fi_err = EBADF;
	if (wv_fault.fd >= 0) {
		struct winvm_fault_info_args fi;

		wv_fault_info(wv_fault.fd, &fi);
		wv_fault.fi_err = wv_errno;
		wv_fault.fi = fi;
		if (wv_fault.query)
			wv_fault.q_status = wv_query(wv_fault.fd, wv_fault.addr, &wv_fault.q);
	}
	if (wv_fault.hook && wv_fault.hook(si))
		retry = true;
	else if (wv_fault.retry_guard && wv_fault.fi_err == 0 &&
		 wv_fault.fi.fault_status == WINVM_STATUS_GUARD_PAGE_VIOLATION)
		retry = true;

	errno = saved_errno;
	wv_errno = saved_wv_errno;
	if (retry && wv_fault.count < WV_MAX_FAULTS)
		return;
	if (wv_fault.armed) {
		wv_fault.armed = 0;
		siglongjmp(wv_jmp, 1);
	}
	signal(sig, SIG_DFL);
}

/*
 * Per-thread alternate signal stack, so a fault with a bad stack pointer
 * (e.g. on a guard page of a winvm "thread stack") can still be handled.
 */
void wv_altstack(void)
{
	static __thread char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	sigaltstack(&ss, NULL);
}

void wv_fault_install(int fd)
{
	struct sigaction sa;

	wv_altstack();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = wv_fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	wv_fault.fd = fd;
	wv_fault.retry_guard = true;
	wv_fault.query = false;
	wv_fault.hook = NULL;
	wv_fault.armed = 0;
	wv_fault_reset();
}

/*
 * Probes: true when the access completed (possibly after a guard-page
 * signal whose handler returned), false when it faulted and the handler
 * jumped back.  wv_fault says what happened; call wv_fault_reset() first.
 */
__attribute__((noinline)) bool wv_try_read(const void *p, uint8_t *val)
{
	uint8_t v;

	wv_fault.armed = 1;
	if (sigsetjmp(wv_jmp, 1)) {
		wv_barrier();
		return false;
	}
	v = *(const volatile uint8_t *)p;
	wv_fault.armed = 0;
	wv_barrier();
	if (val)
		*val = v;
	return true;
}

__attribute__((noinline)) bool wv_try_write(void *p, uint8_t val)
{
	wv_fault.armed = 1;
	if (sigsetjmp(wv_jmp, 1)) {
		wv_barrier();
		return false;
	}
	*(volatile uint8_t *)p = val;
	wv_fault.armed = 0;
	wv_barrier();
	return true;
}

__attribute__((noinline)) bool wv_try_call(const void *code, int *ret)
{
	int (*fn)(void) = (int (*)(void))(uintptr_t)code;
	int r;

	wv_fault.armed = 1;
	if (sigsetjmp(wv_jmp, 1)) {
		wv_barrier();
		return false;
	}
	r = fn();
	wv_fault.armed = 0;
	wv_barrier();
	if (ret)
		*ret = r;
	return true;
}

/*
 * A 64K-aligned address with @size free bytes, fenced on both sides by
 * PROT_NONE Linux mappings (at least 64K each) that stay mapped: the free
 * range's neighbours are known, nothing can merge into it, and it shares
 * no 64K granule with anything else.  Returns 0 on failure.
 */
uint64_t wv_fenced_hole(uint64_t size)
{
	uint64_t len = size + 3 * WV_GRAN, a;
	void *p = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	a = ((U64(p) + WV_GRAN - 1) & ~(WV_GRAN - 1)) + WV_GRAN;
	if (munmap(PTR(a), size))
		return 0;
	return a;
}

bool wv_filled_intact(uint64_t a, uint32_t magic)
{
	int i;

	for (i = 0; i < 16; i++)
		if (*(volatile uint32_t *)PTR(a + i * WV_PAGE) != magic + i)
			return false;
	return true;
}

/* Number of /proc/self/maps lines that overlap [start, end). */
int wv_maps_lines(uint64_t start, uint64_t end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

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

/* Resident pages of this process (/proc/self/statm, second field). */
long wv_rss_pages(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, rss;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss;
}

bool wv_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	/* (errno stays the write's: a successful close() leaves it.) */
	close(fd);
	return ok;
}

/* A field of /proc/self/smaps_rollup in kB, -1 if absent. */
long wv_rollup_kb(const char *field)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	size_t len = strlen(field);
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

/*
 * In a child: become uid and gid 65534 for good, with no supplementary
 * groups and, as checked, no capability left (the unprivileged caller of
 * the threat model).  0 on success.
 */
int wv_drop_to_nobody(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (setgroups(0, NULL) || setresgid(WV_NOBODY, WV_NOBODY, WV_NOBODY) ||
	    setresuid(WV_NOBODY, WV_NOBODY, WV_NOBODY))
		return -1;
	if (getuid() != WV_NOBODY || geteuid() != WV_NOBODY || getegid() != WV_NOBODY)
		return -1;
	memset(d, 0xff, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -1;
	return d[0].effective | d[1].effective | d[0].permitted | d[1].permitted ? -1 : 0;
}

/* Waits for @pid: its exit code, or 128 + the signal that killed it. */
int wv_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

uint32_t wv_sec_create_raw(int fd, struct winvm_section_create_args *a)
{
	a->fd = -2;
	a->existed = WV_GARBAGE32;
	a->status = WV_GARBAGE32;
	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_CREATE, a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	wv_existed = a->existed;
	return a->status;
}

/*
 * NtCreateSection.  @name may be NULL; @file_fd -1 for a pagefile-backed
 * section.  *sfd gets the new fd (-1 on failure).
 */
uint32_t wv_sec_create(int fd, uint64_t size, uint32_t prot, uint32_t attrs, int file_fd,
		       uint32_t access, const char *name, uint32_t flags, int *sfd)
{
	struct winvm_section_create_args a = {
		.size = size, .name = U64(name), .name_len = name ? strlen(name) : 0,
		.file_fd = file_fd, .protect = prot, .attributes = attrs,
		.access = access, .flags = flags,
	};
	uint32_t st = wv_sec_create_raw(fd, &a);

	if (sfd)
		*sfd = wv_ioret < 0 ? -1 : a.fd;
	return st;
}

uint32_t wv_sec_open_raw(int fd, struct winvm_section_open_args *a)
{
	a->fd = -2;
	a->status = WV_GARBAGE32;
	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_OPEN, a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return a->status;
}

/* OpenFileMapping.  *sfd gets the new fd (-1 on failure). */
uint32_t wv_sec_open(int fd, const char *name, uint32_t access, uint32_t flags, int *sfd)
{
	struct winvm_section_open_args a = {
		.name = U64(name), .name_len = strlen(name), .access = access,
		.flags = flags,
	};
	uint32_t st = wv_sec_open_raw(fd, &a);

	if (sfd)
		*sfd = wv_ioret < 0 ? -1 : a.fd;
	return st;
}

/* NtQuerySection(SectionBasicInformation); outputs start as garbage. */
uint32_t wv_sec_query(int fd, int sfd, struct winvm_section_query_args *q)
{
	memset(q, 0xcc, sizeof(*q));
	q->section_fd = sfd;
	q->flags = 0;
	memset(q->reserved, 0, sizeof(q->reserved));
	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_QUERY, q);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return q->status;
}

/* DuplicateHandle.  *nfd gets the new fd (-1 on failure). */
uint32_t wv_sec_dup(int fd, int sfd, uint32_t access, int *nfd)
{
	struct winvm_section_dup_args a = {
		.section_fd = sfd, .access = access, .fd = -2,
		.status = WV_GARBAGE32,
	};

	wv_ioret = ioctl(fd, WINVM_IOC_SECTION_DUP, &a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	if (nfd)
		*nfd = wv_ioret < 0 ? -1 : a.fd;
	return a.status;
}

uint32_t wv_map_raw(int fd, struct winvm_view_map_args *a)
{
	a->status = WV_GARBAGE32;
	wv_ioret = ioctl(fd, WINVM_IOC_VIEW_MAP, a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return a->status;
}

/* MapViewOfFileEx: *addr and *size are in/out. */
uint32_t wv_map(int fd, int sfd, uint32_t access, uint64_t *addr, uint64_t offset,
		uint64_t *size, uint64_t zero_bits, uint32_t type)
{
	struct winvm_view_map_args a = {
		.section_fd = sfd, .access = access, .address = *addr,
		.offset = offset, .size = *size, .zero_bits = zero_bits,
		.type = type,
	};
	uint32_t st = wv_map_raw(fd, &a);

	*addr = a.address;
	*size = a.size;
	return st;
}

/* Convenience form: a view at @addr (0 = anywhere), outputs dropped. */
uint32_t wv_map_at(int fd, int sfd, uint32_t access, uint64_t addr, uint64_t offset,
		   uint64_t size)
{
	return wv_map(fd, sfd, access, &addr, offset, &size, 0, 0);
}

uint32_t wv_unmap_flags(int fd, uint64_t addr, uint32_t flags)
{
	struct winvm_view_unmap_args a = {
		.address = addr, .flags = flags, .status = WV_GARBAGE32,
	};

	wv_ioret = ioctl(fd, WINVM_IOC_VIEW_UNMAP, &a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	return a.status;
}

/* UnmapViewOfFile. */
uint32_t wv_unmap(int fd, uint64_t addr)
{
	return wv_unmap_flags(fd, addr, 0);
}

/* FlushViewOfFile: *addr and *size are in/out. */
uint32_t wv_flush(int fd, uint64_t *addr, uint64_t *size, uint32_t flags)
{
	struct winvm_view_flush_args a = {
		.address = *addr, .size = *size, .flags = flags,
		.status = WV_GARBAGE32,
	};

	wv_ioret = ioctl(fd, WINVM_IOC_VIEW_FLUSH, &a);
	wv_errno = wv_ioret < 0 ? errno : 0;
	*addr = a.address;
	*size = a.size;
	return a.status;
}

/* The fd has FD_CLOEXEC set. */
bool wv_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f >= 0 && (f & FD_CLOEXEC);
}

/* Byte @off of the test pattern number @seed. */
uint8_t wv_pat(uint64_t off, unsigned int seed)
{
	return (uint8_t)((off * 131 + (off >> 12) * 7 + seed * 29 + 1) & 0xff);
}

/* A read-write regular file in /tmp (tmpfs in the guest), already unlinked,
 * holding @size bytes of pattern @seed; -1 on failure. */
int wv_tmpfile(uint64_t size, unsigned int seed)
{
	char path[] = "/tmp/winvm-section-XXXXXX";
	uint8_t buf[4096];
	uint64_t off = 0;
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf), i;

		for (i = 0; i < n; i++)
			buf[i] = wv_pat(off + i, seed);
		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		off += n;
	}
	return fd;
}

/* The same open file again, with other open flags (O_RDONLY, O_WRONLY). */
int wv_reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

/* Whether [p, p + len) holds pattern @seed for offsets starting at @off. */
bool wv_pat_ok(const void *p, uint64_t off, uint64_t len, unsigned int seed)
{
	const volatile uint8_t *b = p;
	uint64_t i;

	for (i = 0; i < len; i++)
		if (b[i] != wv_pat(off + i, seed))
			return false;
	return true;
}

/* A section name unique to this process: "winvm-test-<pid>-<tag>". */
const char *wv_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "winvm-test-%d-%s", (int)getpid(), tag);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Memory kinds                                                         */
/* ------------------------------------------------------------------ */

const char *wv_kind_name(enum wv_kind kind)
{
	switch (kind) {
	case WV_KIND_PRIVATE:	return "private";
	case WV_KIND_PAGEFILE:	return "pagefile view";
	case WV_KIND_TMPFS:	return "tmpfs file view";
	case WV_KIND_EXT4:	return "ext4 file view";
	case WV_KIND_WCOPY:	return "write-copy view";
	}
	return "?";
}

/* The access bits a page protection needs (rule R111). */
#define WV_ACC_R	1u
#define WV_ACC_W	2u
#define WV_ACC_X	4u

static unsigned int wv_prot_access(uint32_t prot)
{
	switch (prot & 0xff) {
	case NOACCESS:	return 0;
	case RO:	return WV_ACC_R;
	case RW:	return WV_ACC_R | WV_ACC_W;
	case WCOPY:	return WV_ACC_R;
	case EX:	return WV_ACC_X;
	case EXR:	return WV_ACC_R | WV_ACC_X;
	case EXRW:	return WV_ACC_R | WV_ACC_W | WV_ACC_X;
	case EXWCOPY:	return WV_ACC_R | WV_ACC_X;
	}
	return ~0u;
}

bool wv_region_allows(const struct wv_region *r, uint32_t prot)
{
	uint32_t base = prot & 0xff;

	if (!r->view)	/* VirtualAlloc memory takes no write-copy protection */
		return base != WCOPY && base != EXWCOPY;
	/* A write-copy view is written through copies, never shared: RW is out. */
	if ((r->aprot & 0xff) == WCOPY || (r->aprot & 0xff) == EXWCOPY)
		if (base == RW || base == EXRW)
			return false;
	return (wv_prot_access(prot) & ~wv_prot_access(r->aprot)) == 0;
}

/* A zero-filled file of @size bytes in @dir, unlinked; -errno on failure. */
static int wv_zero_file(const char *dir, uint64_t size)
{
	char path[256];
	int fd, err;

	snprintf(path, sizeof(path), "%s/winvm-kind-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (ftruncate(fd, size)) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int wv_region_new(int fd, enum wv_kind kind, uint64_t size, uint32_t prot,
		  struct wv_region *r, char *why, size_t len)
{
	uint32_t sprot = EXRW, access = MAP_W | MAP_X, st;
	uint64_t a = 0, s = size;
	const char *dir = NULL;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->sfd = -1;
	r->file_fd = -1;
	why[0] = 0;
	if (kind == WV_KIND_PRIVATE) {
		st = wv_alloc(fd, &a, &s, 0, RESERVE | COMMIT, prot);
		if (st != ST_OK) {
			snprintf(why, len, "alloc(0x%" PRIx64 ", prot 0x%x) -> %s, errno %d",
				 size, prot, winvm_abi_status_name(st), wv_errno);
			return -1;
		}
		r->base = a;
		r->size = s;
		r->aprot = prot;
		r->type = WINVM_MEM_PRIVATE;
		r->wprot = RW;
		return 0;
	}
	r->view = true;
	r->type = WV_MAPPED;
	if (kind == WV_KIND_TMPFS)
		dir = "/tmp";
	else if (kind == WV_KIND_EXT4)
		dir = "/mnt/ext4";
	if (dir) {
		r->file_fd = wv_zero_file(dir, size);
		if (r->file_fd < 0) {
			snprintf(why, len, "no writable file in %s (%s)", dir,
				 strerror(-r->file_fd));
			return 1;
		}
	}
	if (kind == WV_KIND_WCOPY) {
		sprot = RW;
		access = MAP_C;
	}
	st = wv_sec_create(fd, size, sprot, 0, r->file_fd, 0, NULL, 0, &r->sfd);
	if (st != ST_OK) {
		snprintf(why, len, "%s: section(size 0x%" PRIx64 ", prot 0x%x) -> %s, errno %d",
			 wv_kind_name(kind), size, sprot, winvm_abi_status_name(st), wv_errno);
		return -1;
	}
	st = wv_map(fd, r->sfd, access, &a, 0, &s, 0, 0);
	if (st != ST_OK) {
		snprintf(why, len, "%s: map(access 0x%x) -> %s, errno %d",
			 wv_kind_name(kind), access, winvm_abi_status_name(st), wv_errno);
		return -1;
	}
	r->base = a;
	r->size = s;
	r->aprot = kind == WV_KIND_WCOPY ? WCOPY : EXRW;
	r->wprot = kind == WV_KIND_WCOPY ? WCOPY : RW;
	if (prot != r->aprot) {
		if (!wv_region_allows(r, prot)) {
			snprintf(why, len, "%s: protection 0x%x is outside the view's access 0x%x",
				 wv_kind_name(kind), prot, r->aprot);
			return -1;
		}
		st = wv_protect_at(fd, a, s, prot);
		if (st != ST_OK) {
			snprintf(why, len, "%s: protect(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%x) -> %s, errno %d",
				 wv_kind_name(kind), a, s, prot, winvm_abi_status_name(st), wv_errno);
			return -1;
		}
	}
	return 0;
}

uint32_t wv_kind_wprot(enum wv_kind kind)
{
	return kind == WV_KIND_WCOPY ? WCOPY : RW;
}
