// SPDX-License-Identifier: GPL-2.0
/*
 * The shared helpers of the winvm fuzz and stress tools (declared in
 * fuzz.h): printing, the ioctl ABI checks, /proc/self/maps, MEM_QUERY
 * invariants, fault probes, small file and process helpers.
 */
#include "fuzz.h"
#include "model-prot.h"

static char fz_maps_buf[1 << 20];
static __thread char fz_altstack[64 * 1024];
__thread struct fz_probe fz_probe;
const uint8_t fz_safe_bytes[3] = { 0x00, 0x90, 0xc3 };
uint8_t *fz_sandbox;

FZ_PRINTF(2, 3) void fz_dprintf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		memmove(buf, buf + w, n - w);
		n -= w;
	}
}

double fz_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *fz_res_problem(struct fz_res r, bool fd_cmd)
{
	static __thread char why[160];
	int want;

	if (r.rc >= 0) {
		if (r.rc > 0 && !fd_cmd)
			return "positive return value";
		if (!fz_status_ok(r.status)) {
			snprintf(why, sizeof(why), "success with status %s (0x%08x)",
				 winvm_abi_status_name(r.status), r.status);
			return why;
		}
		return NULL;
	}
	if (r.status == FZ_GARBAGE32) {
		/* The struct was not copied back: only these may happen. */
		switch (-r.rc) {
		case EFAULT: case ENOTTY: case EBADF: case EINTR: case ENOMEM:
			return NULL;
		}
		snprintf(why, sizeof(why), "errno %d (%s) without a status", -r.rc,
			 strerror(-r.rc));
		return why;
	}
	want = winvm_abi_status_errno(r.status);
	/*
	 * A bad pointer inside the struct (a section name): Windows says
	 * STATUS_ACCESS_VIOLATION; the ABI table has no errno for it yet.
	 */
	if (r.status == WINVM_STATUS_ACCESS_VIOLATION && (-r.rc == EFAULT || -r.rc == EINVAL)) {
		static int noted;

		if (!noted++)
			fz_dprintf(1, "NOTE: STATUS_ACCESS_VIOLATION (errno %d) is not in the ABI's errno table\n",
				   -r.rc);
		return NULL;
	}
	if (want < 0) {
		snprintf(why, sizeof(why), "undocumented status 0x%08x (%s)", r.status,
			 winvm_abi_status_name(r.status));
		return why;
	}
	if (want == 0) {
		snprintf(why, sizeof(why), "failure (errno %d) with success status 0x%08x",
			 -r.rc, r.status);
		return why;
	}
	/* The status of a failed copy-out stays as the kernel left it. */
	if (-r.rc == want || -r.rc == EFAULT)
		return NULL;
	snprintf(why, sizeof(why), "status %s with errno %d (%s), expected %d (%s)",
		 winvm_abi_status_name(r.status), -r.rc, strerror(-r.rc), want, strerror(want));
	return why;
}

int fz_ioctl(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

long fz_status_offset(unsigned long cmd)
{
	switch (cmd) {
	case WINVM_IOC_INFO_GET:	return offsetof(struct winvm_info_args, status);
	case WINVM_IOC_MEM_ALLOC:	return offsetof(struct winvm_alloc_args, status);
	case WINVM_IOC_MEM_FREE:	return offsetof(struct winvm_free_args, status);
	case WINVM_IOC_MEM_PROTECT:	return offsetof(struct winvm_protect_args, status);
	case WINVM_IOC_MEM_QUERY:	return offsetof(struct winvm_query_args, status);
	case WINVM_IOC_FAULT_INFO:	return offsetof(struct winvm_fault_info_args, status);
	case WINVM_IOC_SECTION_CREATE:	return offsetof(struct winvm_section_create_args, status);
	case WINVM_IOC_SECTION_OPEN:	return offsetof(struct winvm_section_open_args, status);
	case WINVM_IOC_SECTION_QUERY:	return offsetof(struct winvm_section_query_args, status);
	case WINVM_IOC_SECTION_DUP:	return offsetof(struct winvm_section_dup_args, status);
	case WINVM_IOC_VIEW_MAP:	return offsetof(struct winvm_view_map_args, status);
	case WINVM_IOC_VIEW_UNMAP:	return offsetof(struct winvm_view_unmap_args, status);
	case WINVM_IOC_VIEW_FLUSH:	return offsetof(struct winvm_view_flush_args, status);
	case WINVM_IOC_WATCH_GET:	return offsetof(struct winvm_watch_get_args, status);
	case WINVM_IOC_WATCH_RESET:	return offsetof(struct winvm_watch_reset_args, status);
	}
	return -1;
}

const char *fz_cmd_name(unsigned long cmd)
{
	switch (cmd) {
	case WINVM_IOC_INFO_GET:	return "INFO_GET";
	case WINVM_IOC_MEM_ALLOC:	return "MEM_ALLOC";
	case WINVM_IOC_MEM_FREE:	return "MEM_FREE";
	case WINVM_IOC_MEM_PROTECT:	return "MEM_PROTECT";
	case WINVM_IOC_MEM_QUERY:	return "MEM_QUERY";
	case WINVM_IOC_FAULT_INFO:	return "FAULT_INFO";
	case WINVM_IOC_SECTION_CREATE:	return "SECTION_CREATE";
	case WINVM_IOC_SECTION_OPEN:	return "SECTION_OPEN";
	case WINVM_IOC_SECTION_QUERY:	return "SECTION_QUERY";
	case WINVM_IOC_SECTION_DUP:	return "SECTION_DUP";
	case WINVM_IOC_VIEW_MAP:	return "VIEW_MAP";
	case WINVM_IOC_VIEW_UNMAP:	return "VIEW_UNMAP";
	case WINVM_IOC_VIEW_FLUSH:	return "VIEW_FLUSH";
	case WINVM_IOC_WATCH_GET:	return "WATCH_GET";
	case WINVM_IOC_WATCH_RESET:	return "WATCH_RESET";
	}
	return "?";
}

struct fz_res fz_call(int fd, unsigned long cmd, void *arg)
{
	long off = fz_status_offset(cmd);
	struct fz_res r;

	if (off >= 0)
		memcpy((char *)arg + off, &(uint32_t){ FZ_GARBAGE32 }, 4);
	r.rc = fz_ioctl(fd, cmd, arg);
	if (off >= 0)
		memcpy(&r.status, (char *)arg + off, 4);
	else
		r.status = FZ_GARBAGE32;
	return r;
}

uint32_t fz_rand_prot(struct fz_rng *r)
{
	static const uint32_t base[] = {
		WINVM_PAGE_NOACCESS, WINVM_PAGE_READONLY, WINVM_PAGE_READWRITE,
		WINVM_PAGE_EXECUTE, WINVM_PAGE_EXECUTE_READ, WINVM_PAGE_EXECUTE_READWRITE,
	};
	static const uint32_t odd[] = {
		0, WINVM_PAGE_WRITECOPY, WINVM_PAGE_EXECUTE_WRITECOPY, WINVM_PAGE_GUARD,
		WINVM_PAGE_NOCACHE, WINVM_PAGE_READONLY | WINVM_PAGE_READWRITE,
		WINVM_PAGE_NOACCESS | WINVM_PAGE_GUARD,
		WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD | WINVM_PAGE_NOCACHE,
		WINVM_PAGE_READWRITE | WINVM_PAGE_NOCACHE | WINVM_PAGE_WRITECOMBINE,
		0x800, 0x80000000u, 0xffffffffu,
	};
	uint32_t p;

	if (fz_chance(r, 8))
		return fz_chance(r, 30) ? (uint32_t)fz_next(r) : FZ_PICK(r, odd);
	p = FZ_PICK(r, base);
	if (p != WINVM_PAGE_NOACCESS) {
		unsigned int m = fz_below(r, 20);

		if (m == 0 || m == 1 || m == 2)
			p |= WINVM_PAGE_GUARD;
		else if (m == 3)
			p |= WINVM_PAGE_NOCACHE;
		else if (m == 4)
			p |= WINVM_PAGE_WRITECOMBINE;
	}
	return p;
}

int fz_read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, tries = 0;

again:
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if ((errno == ENOMEM || errno == EINTR) && tries++ < 1000)
			goto again;
		return -1;
	}
	len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			/* Fault injection may fail the seq_file buffer. */
			if ((errno == ENOMEM || errno == EINTR) && tries++ < 1000) {
				close(fd);
				goto again;
			}
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
		if (len >= size - 1)
			break;
	}
	close(fd);
	buf[len] = 0;
	return (int)len;
}

static uint64_t fz_hex(const char **p)
{
	uint64_t v = 0;

	for (;; (*p)++) {
		char c = **p;

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else
			return v;
	}
}

static uint64_t fz_dec(const char **p)
{
	uint64_t v = 0;

	while (**p >= '0' && **p <= '9')
		v = v * 10 + (*(*p)++ - '0');
	return v;
}

int fz_maps_read(struct fz_maps *m)
{
	const char *p;
	int len = fz_read_file("/proc/self/maps", fz_maps_buf, sizeof(fz_maps_buf));

	m->n = 0;
	if (len < 0)
		return -1;
	for (p = fz_maps_buf; *p && m->n < (int)(sizeof(m->v) / sizeof(m->v[0])); ) {
		struct fz_vma *v = &m->v[m->n];
		const char *eol = strchr(p, '\n');
		size_t nl;

		if (!eol)
			eol = p + strlen(p);
		v->start = fz_hex(&p);
		p++;
		v->end = fz_hex(&p);
		p++;
		memcpy(v->perms, p, 4);
		v->perms[4] = 0;
		p += 5;
		v->off = fz_hex(&p);
		p++;
		v->dev_major = fz_hex(&p);
		p++;
		v->dev_minor = fz_hex(&p);
		p++;
		v->ino = fz_dec(&p);
		while (p < eol && *p == ' ')
			p++;
		nl = eol - p;
		if (nl >= sizeof(v->name))
			nl = sizeof(v->name) - 1;
		memcpy(v->name, p, nl);
		v->name[nl] = 0;
		p = *eol ? eol + 1 : eol;
		if (v->start >= FZ_TASK_SIZE)
			continue;	/* [vsyscall] is not a VMA of the mm */
		m->n++;
	}
	return 0;
}

int fz_maps_find(const struct fz_maps *m, uint64_t addr)
{
	int lo = 0, hi = m->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (addr < m->v[mid].start)
			hi = mid - 1;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

int fz_maps_next(const struct fz_maps *m, uint64_t addr)
{
	int lo = 0, hi = m->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (m->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool fz_maps_busy(const struct fz_maps *m, uint64_t start, uint64_t end)
{
	int i = fz_maps_next(m, start);

	return i < m->n && m->v[i].start < end;
}

uint32_t fz_vma_protect(const struct fz_vma *v)
{
	return mp_native_protect(v->perms[0] == 'r', v->perms[1] == 'w', v->perms[2] == 'x',
				 fz_vma_file_backed(v) && v->perms[3] != 's');
}

uint32_t fz_vma_type(const struct fz_vma *v)
{
	if (!fz_vma_file_backed(v))
		return WINVM_MEM_PRIVATE;
	return v->perms[2] == 'x' ? WINVM_MEM_IMAGE : WINVM_MEM_MAPPED;
}

const char *fz_query_problem(uint64_t addr, const struct winvm_query_args *q)
{
	uint64_t page = fz_round_down(addr, FZ_PAGE);

	if (q->base_address != page)
		return "base_address is not the page of the address";
	if (!q->region_size || (q->region_size & (FZ_PAGE - 1)))
		return "region_size zero or not page-aligned";
	/* A Linux mapping (the stack) may straddle HighestUserAddress. */
	if (q->region_size > FZ_TOP - page &&
	    ((q->region_flags & WINVM_REGION_WINVM) || q->region_size > FZ_TASK_SIZE - page))
		return "region extends past the highest user address";
	if (q->pad || q->reserved[0] || q->reserved[1])
		return "pad/reserved changed";
	switch (q->state) {
	case WINVM_MEM_FREE:
		if (q->allocation_base || q->allocation_protect || q->type ||
		    q->protect != WINVM_PAGE_NOACCESS || q->allocation_size ||
		    q->commit_size || q->region_flags)
			return "free region with allocation fields set";
		return NULL;
	case WINVM_MEM_RESERVE:
		if (q->protect)
			return "reserved region with a protection";
		break;
	case WINVM_MEM_COMMIT:
		if (!mp_documented(q->protect))
			return "committed region with an invalid protection";
		break;
	default:
		return "unknown state";
	}
	if (q->type != WINVM_MEM_PRIVATE && q->type != WINVM_MEM_MAPPED &&
	    q->type != WINVM_MEM_IMAGE)
		return "unknown type";
	if (q->allocation_base > page || (q->allocation_base & (FZ_PAGE - 1)))
		return "allocation_base above the address or unaligned";
	if (!q->allocation_size || q->allocation_size > FZ_TASK_SIZE - q->allocation_base)
		return "bad allocation_size";
	if (page + q->region_size > q->allocation_base + q->allocation_size)
		return "region extends past its allocation";
	if (q->commit_size > q->allocation_size || (q->commit_size & (FZ_PAGE - 1)))
		return "commit_size larger than the allocation or unaligned";
	if (q->state == WINVM_MEM_COMMIT && !q->commit_size)
		return "committed region in an allocation with commit_size 0";
	if (q->region_flags & ~WINVM_REGION_WINVM)
		return "unknown region_flags";
	if (!(q->region_flags & WINVM_REGION_WINVM) && q->state != WINVM_MEM_COMMIT)
		return "non-winvm region that is not committed";
	if (q->allocation_protect && !mp_documented(q->allocation_protect))
		return "invalid allocation_protect";
	return NULL;
}

static void fz_fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (fz_probe.armed) {
		fz_probe.armed = 0;
		fz_probe.signo = sig;
		fz_probe.code = si->si_code;
		fz_probe.addr = (uint64_t)(uintptr_t)si->si_addr;
		siglongjmp(fz_probe.jmp, 1);
	}
	fz_dprintf(2, "FATAL: unexpected signal %d (code %d) at %p in pid %d tid %d\n",
		   sig, si->si_code, si->si_addr, getpid(), fz_gettid());
	signal(sig, SIG_DFL);
	raise(sig);
}

void fz_thread_signals(void)
{
	stack_t ss = { .ss_sp = fz_altstack, .ss_size = sizeof(fz_altstack) };

	sigaltstack(&ss, NULL);
}

void fz_install_signals(void)
{
	struct sigaction sa;

	fz_thread_signals();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fz_fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int fz_sandbox_init(void)
{
	void *p;

	if (fz_sandbox)
		return 0;
	p = mmap(NULL, 1ULL << 32, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	fz_sandbox = (uint8_t *)p + (1ULL << 31);
	return 0;
}

__attribute__((noinline)) bool fz_try_read(const void *p, uint8_t *val)
{
	uint8_t v;

	fz_probe.signo = 0;
	if (sigsetjmp(fz_probe.jmp, 1))
		return false;
	fz_probe.armed = 1;
	v = *(const volatile uint8_t *)p;
	fz_probe.armed = 0;
	if (val)
		*val = v;
	return true;
}

__attribute__((noinline)) bool fz_try_write(void *p, uint8_t val)
{
	fz_probe.signo = 0;
	if (sigsetjmp(fz_probe.jmp, 1))
		return false;
	fz_probe.armed = 1;
	*(volatile uint8_t *)p = val;
	fz_probe.armed = 0;
	return true;
}

__attribute__((noinline)) bool fz_try_exec(const void *code)
{
	fz_probe.signo = 0;
	if (sigsetjmp(fz_probe.jmp, 1))
		return false;
	fz_probe.armed = 1;
	__asm__ __volatile__(
		"push %%rbx\n\t"
		"push %%rbx\n\t"	/* keep the stack 16-byte aligned */
		"call *%1\n\t"
		"pop %%rbx\n\t"
		"pop %%rbx\n\t"
		: : "a"(fz_sandbox), "r"(code)
		: "memory", "cc", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
	fz_probe.armed = 0;
	return true;
}

int fz_open_winvm(void)
{
	int fd, tries = 0;

	do {
		fd = open("/dev/winvm", O_RDWR | O_CLOEXEC);
	} while (fd < 0 && (errno == ENOMEM || errno == EINTR) && tries++ < 1000);
	return fd;
}

int fz_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

int fz_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

struct fz_shared *fz_shared_new(void)
{
	void *p = mmap(NULL, sizeof(struct fz_shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, sizeof(struct fz_shared));
	return p;
}

FZ_PRINTF(2, 3) void fz_fail(struct fz_shared *sh, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fz_dprintf(1, "FAIL [pid %d tid %d]: %s\n", getpid(), fz_gettid(), buf);
	if (sh) {
		atomic_fetch_add(&sh->failures, 1);
		if (!atomic_exchange(&sh->have_failure, 1))
			memcpy(sh->first_failure, buf, sizeof(buf));
	}
}
