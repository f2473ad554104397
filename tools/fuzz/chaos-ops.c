// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz chaos mode: the operations each thread runs, checked only
 * for what holds under any interleaving.
 */
#include "chaos.h"
#include "ops.h"

struct chaos C;
__thread int t_fd = -1;
__thread int t_pipe[2] = { -1, -1 };
__thread struct fz_rng *t_rng;
__thread struct cthread *t_self;

FZ_PRINTF(1, 2) void c_fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	if (atomic_fetch_add(&C.fails, 1) > 20)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fz_fail(SH, "chaos seed %" PRIu64 ": %s", C.seed, buf);
}

static void c_check(const char *what, struct fz_res r, bool fd_cmd)
{
	const char *p = fz_res_problem(r, fd_cmd);

	if (p)
		c_fail("%s: %s", what, p);
}

static struct cent *c_pick(int kind)
{
	int i, start = fz_below(t_rng, C_POOL);

	for (i = 0; i < C_POOL; i++) {
		struct cent *e = &C.pool[(start + i) % C_POOL];
		int k = atomic_load(&e->kind);

		if (k != K_EMPTY && (!kind || k == kind))
			return e;
	}
	return NULL;
}

static uint64_t c_in_arena(uint64_t a, uint64_t len)
{
	return a >= C.arena && len <= C.arena_size && a - C.arena <= C.arena_size - len;
}

static uint64_t c_rand_addr(void)
{
	struct cent *e;
	unsigned int x = fz_below(t_rng, 100);

	if (x < 55 && (e = c_pick(0))) {
		uint64_t b = atomic_load(&e->base), s = atomic_load(&e->size);

		switch (fz_below(t_rng, 6)) {
		case 0: return b;
		case 1: return b + s;
		case 2: return b + s - FZ_PAGE;
		case 3: return b + fz_below(t_rng, s ? s : 1);
		default: return b + fz_round_down(fz_below(t_rng, s ? s : 1), FZ_PAGE);
		}
	}
	if (x < 85) {
		uint64_t off = fz_below(t_rng, C.arena_size);

		return C.arena + (fz_chance(t_rng, 50) ? fz_round_down(off, FZ_GRAN) :
				  fz_round_down(off, FZ_PAGE));
	}
	if (x < 95)
		return rand_boundary_addr(t_rng);
	return fz_next(t_rng);
}

static uint64_t c_rand_size(void)
{
	unsigned int x = fz_below(t_rng, 100);

	if (x < 60)
		return FZ_PAGE * (1 + fz_below(t_rng, 32));
	if (x < 80)
		return FZ_GRAN * (1 + fz_below(t_rng, 16));
	if (x < 85)
		return 1 + fz_below(t_rng, 2 * FZ_PAGE);
	if (x < 95)
		return rand_boundary_size(t_rng);
	return fz_next(t_rng);
}

/* Where to put an argument struct; *must_fault: the kernel cannot read it. */
static void *c_argptr(void *args, size_t size, bool *must_fault)
{
	unsigned int x = fz_below(t_rng, 1000);

	*must_fault = false;
	(void)size;
	if (x < 975)
		return args;
	*must_fault = true;
	if (x < 982)
		return NULL;
	if (x < 988)
		return (void *)0xffffffff81000000ULL;
	if (x < 995)
		return C.noaccess;
	return (void *)(uintptr_t)fz_next(t_rng);
}

static int c_fd(void)
{
	int fd2;

	if (fz_chance(t_rng, 90) || t_fd != C.fd)
		return t_fd;
	fd2 = atomic_load(&C.fd2);
	return fd2 >= 0 ? fd2 : t_fd;
}

/* Calls an ioctl with random argument placement and checks the ABI rules. */
static struct fz_res c_call(unsigned long cmd, void *args, size_t size)
{
	bool must_fault;
	void *p = c_argptr(args, size, &must_fault);
	long off = fz_status_offset(cmd);
	struct fz_res r;

	memcpy((char *)args + off, &(uint32_t){ FZ_GARBAGE32 }, 4);
	r.rc = fz_ioctl(c_fd(), cmd, p);
	memcpy(&r.status, (char *)args + off, 4);
	if (p != args) {
		r.status = FZ_GARBAGE32;
		if (must_fault && r.rc != -EFAULT && r.rc != -EBADF && r.rc != -ENOTTY &&
		    !(O.nomem_ok && r.rc == -ENOMEM)) {
			/* Random pointers may hit something mapped. */
			if (p == NULL || p == C.noaccess ||
			    (uint64_t)(uintptr_t)p >= 0x800000000000ULL)
				c_fail("%s with pointer %p -> %d, expected EFAULT", fz_cmd_name(cmd),
				       p, r.rc);
		}
		if (r.rc > 0 && fz_cmd_returns_fd(cmd))
			close(r.rc);
		r.rc = r.rc > 0 ? 0 : r.rc;
		return r;
	}
	if (!(O.nomem_ok && (r.rc == -ENOMEM || r.status == WINVM_STATUS_NO_MEMORY)))
		c_check(fz_cmd_name(cmd), r, fz_cmd_returns_fd(cmd));
	return r;
}

static void c_store(int kind, uint64_t base, uint64_t size)
{
	struct cent *e = &C.pool[fz_below(t_rng, C_POOL)];
	int old = atomic_exchange(&e->kind, K_EMPTY);
	uint64_t ob = atomic_load(&e->base);

	/* Give back what the slot held, so memory stays bounded. */
	if (old == K_ALLOC) {
		struct winvm_free_args f = { .address = ob, .type = WINVM_MEM_RELEASE };

		fz_call(t_fd, WINVM_IOC_MEM_FREE, &f);
	} else if (old == K_VIEW) {
		struct winvm_view_unmap_args u = { .address = ob };

		fz_call(t_fd, WINVM_IOC_VIEW_UNMAP, &u);
	} else if (old == K_NATIVE && c_in_arena(ob, atomic_load(&e->size))) {
		munmap((void *)(uintptr_t)ob, atomic_load(&e->size));
	}
	atomic_store(&e->base, base);
	atomic_store(&e->size, size);
	atomic_store(&e->kind, kind);
}

static void c_alloc(void)
{
	struct winvm_alloc_args a;
	struct fz_res r;
	uint64_t req, limit;
	bool reserve;

	memset(&a, 0, sizeof(a));
	a.address = fz_chance(t_rng, 40) ? 0 : c_rand_addr();
	a.size = c_rand_size();
	if (!a.address && fz_chance(t_rng, 3))
		a.size = (1ULL << 30) << fz_below(t_rng, 11);
	switch (fz_below(t_rng, 10)) {
	case 0: case 1: case 2: a.type = WINVM_MEM_RESERVE; break;
	case 3: case 4: case 5: a.type = WINVM_MEM_RESERVE | WINVM_MEM_COMMIT; break;
	case 6: case 7: a.type = WINVM_MEM_COMMIT; break;
	case 8: a.type = fz_chance(t_rng, 50) ? WINVM_MEM_RESET : WINVM_MEM_RESET_UNDO; break;
	default: a.type = (uint32_t)fz_next(t_rng); break;
	}
	if (fz_chance(t_rng, 10))
		a.type |= WINVM_MEM_TOP_DOWN;
	if (fz_chance(t_rng, 15))
		a.type |= WINVM_MEM_WRITE_WATCH;
	a.protect = fz_rand_prot(t_rng);
	if (fz_chance(t_rng, 5))
		a.zero_bits = fz_chance(t_rng, 50) ? 1 + fz_below(t_rng, 40) : fz_next(t_rng);
	if (fz_chance(t_rng, 2))
		a.flags = 1;
	if (fz_chance(t_rng, 2))
		a.reserved[1] = 1;
	req = a.address;
	reserve = (a.type & WINVM_MEM_RESERVE) || (!req && (a.type & WINVM_MEM_COMMIT));
	r = c_call(WINVM_IOC_MEM_ALLOC, &a, sizeof(a));
	if (r.rc || r.status == FZ_GARBAGE32)
		return;
	if (zero_bits_limit(a.zero_bits, &limit))
		c_fail("MEM_ALLOC succeeded with zero_bits 0x%llx", (unsigned long long)a.zero_bits);
	if (!a.size || (a.size & (FZ_PAGE - 1)) || (a.address & (FZ_PAGE - 1)) ||
	    a.address < FZ_MIN_ADDR || a.address + a.size > limit || a.address + a.size < a.address ||
	    (reserve && (a.address & (FZ_GRAN - 1))) ||
	    (reserve && req && a.address != fz_round_down(req, FZ_GRAN)) ||
	    (!reserve && a.address != fz_round_down(req, FZ_PAGE)))
		c_fail("MEM_ALLOC(0x%llx, type 0x%x) returned 0x%llx+0x%llx",
		       (unsigned long long)req, a.type, (unsigned long long)a.address,
		       (unsigned long long)a.size);
	if (reserve)
		c_store(K_ALLOC, a.address, a.size);
}

static void c_free(void)
{
	struct winvm_free_args f;
	struct cent *e = c_pick(0);
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	f.type = fz_chance(t_rng, 50) ? WINVM_MEM_RELEASE : WINVM_MEM_DECOMMIT;
	if (fz_chance(t_rng, 3))
		f.type = (uint32_t)fz_next(t_rng);
	if (e && fz_chance(t_rng, 80)) {
		uint64_t b = atomic_load(&e->base), s = atomic_load(&e->size);

		f.address = b + (fz_chance(t_rng, 50) ? 0 : fz_round_down(fz_below(t_rng, s ? s : 1),
									 FZ_PAGE));
		f.size = fz_chance(t_rng, 40) ? 0 : FZ_PAGE * (1 + fz_below(t_rng, 16));
	} else {
		f.address = c_rand_addr();
		f.size = fz_chance(t_rng, 50) ? 0 : c_rand_size();
	}
	if (fz_chance(t_rng, 2))
		f.pad = 1;
	r = c_call(WINVM_IOC_MEM_FREE, &f, sizeof(f));
	(void)r;
}

static void c_protect(void)
{
	struct winvm_protect_args p;
	struct cent *e = c_pick(0);
	struct fz_res r;

	memset(&p, 0, sizeof(p));
	p.protect = fz_rand_prot(t_rng);
	if (e && fz_chance(t_rng, 85)) {
		uint64_t b = atomic_load(&e->base), s = atomic_load(&e->size);

		p.address = b + fz_round_down(fz_below(t_rng, s ? s : 1), FZ_PAGE);
		p.size = FZ_PAGE * (1 + fz_below(t_rng, 16));
	} else {
		p.address = c_rand_addr();
		p.size = c_rand_size();
	}
	if (fz_chance(t_rng, 2))
		p.reserved[0] = 1;
	r = c_call(WINVM_IOC_MEM_PROTECT, &p, sizeof(p));
	if (r.rc == 0 && r.status == 0 && !mp_documented(p.old_protect) &&
	    p.old_protect != WINVM_PAGE_NOACCESS)
		c_fail("MEM_PROTECT: old_protect 0x%x", p.old_protect);
}

static void c_query(void)
{
	struct winvm_query_args q;
	struct fz_res r;
	const char *why;

	memset(&q, 0, sizeof(q));
	q.address = c_rand_addr();
	if (fz_chance(t_rng, 2))
		q.pad = 1;
	r = c_call(WINVM_IOC_MEM_QUERY, &q, sizeof(q));
	if (r.rc || r.status)
		return;
	if ((why = fz_query_problem(q.address, &q)))
		c_fail("MEM_QUERY(0x%llx): %s (base 0x%llx abase 0x%llx region 0x%llx state 0x%x prot 0x%x asize 0x%llx csize 0x%llx)",
		       (unsigned long long)q.address, why, (unsigned long long)q.base_address,
		       (unsigned long long)q.allocation_base, (unsigned long long)q.region_size,
		       q.state, q.protect, (unsigned long long)q.allocation_size,
		       (unsigned long long)q.commit_size);
}

static void c_misc(void)
{
	switch (fz_below(t_rng, 4)) {
	case 0: {
		struct winvm_info_args i;

		memset(&i, 0, sizeof(i));
		if (fz_chance(t_rng, 20))
			i.reserved[2] = 1;
		c_call(WINVM_IOC_INFO_GET, &i, sizeof(i));
		break;
	}
	case 1: {
		struct winvm_fault_info_args f;

		memset(&f, 0, sizeof(f));
		c_call(WINVM_IOC_FAULT_INFO, &f, sizeof(f));
		break;
	}
	case 2: {
		uint8_t buf[512];
		unsigned long cmd = (unsigned long)_IOC(fz_below(t_rng, 4), 'W',
							0x80 + fz_below(t_rng, 20),
							fz_below(t_rng, 300));
		int rc;

		if (fz_status_offset(cmd) >= 0)
			break;
		memset(buf, 0, sizeof(buf));
		rc = fz_ioctl(c_fd(), cmd, buf);
		if (rc != -ENOTTY && rc != -EBADF)
			c_fail("ioctl 0x%lx -> %d", cmd, rc);
		break;
	}
	default: {
		/* Close and reopen the second context. */
		int nfd = fz_open_winvm(), old = atomic_exchange(&C.fd2, nfd);

		if (old >= 0)
			close(old);
		break;
	}
	}
}

/* Fault record check after a probe signal in this thread. */
static void c_record(int access)
{
	struct winvm_fault_info_args f;
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	r = fz_call(t_fd, WINVM_IOC_FAULT_INFO, &f);
	if (r.rc || r.status)
		return;
	/* Injected failures: a signal frame that could not be written. */
	if (O.nomem_ok && (fz_probe.code == SI_KERNEL || !fz_probe.addr))
		return;
	if (f.address != fz_probe.addr)
		c_fail("fault at 0x%llx but record says 0x%llx (access %u, %s)",
		       (unsigned long long)fz_probe.addr, (unsigned long long)f.address, f.access,
		       winvm_abi_status_name(f.fault_status));
	else if (f.access != (uint32_t)access && access != WINVM_EXCEPTION_EXECUTE_FAULT)
		c_fail("%d fault at 0x%llx recorded as access %u", access,
		       (unsigned long long)f.address, f.access);
	else if (f.fault_status != WINVM_STATUS_GUARD_PAGE_VIOLATION &&
		 f.fault_status != WINVM_STATUS_ACCESS_VIOLATION)
		c_fail("fault record status 0x%x", f.fault_status);
}

static void c_drain(void)
{
	struct winvm_fault_info_args f;

	memset(&f, 0, sizeof(f));
	fz_call(t_fd, WINVM_IOC_FAULT_INFO, &f);
}

static void c_probe(void)
{
	struct cent *e = c_pick(0);
	uint64_t addr, b, s;
	unsigned int x = fz_below(t_rng, 100);

	if (!e)
		return;
	b = atomic_load(&e->base);
	s = atomic_load(&e->size);
	addr = b + fz_below(t_rng, s ? s : 1);
	if (x < 45) {
		if (!fz_try_read((void *)(uintptr_t)addr, NULL))
			c_record(WINVM_EXCEPTION_READ_FAULT);
	} else if (x < 85) {
		if (!c_in_arena(addr, 1))
			return;
		if (!fz_try_write((void *)(uintptr_t)addr, FZ_PICK(t_rng, fz_safe_bytes)))
			c_record(WINVM_EXCEPTION_WRITE_FAULT);
	} else if (x < 95) {
		if (!c_in_arena(addr, 1))
			return;
		if (!fz_try_exec((void *)(uintptr_t)addr))
			c_record(WINVM_EXCEPTION_EXECUTE_FAULT);
	} else {
		/* Kernel-mode accesses never consume guards or records. */
		uint8_t v = FZ_PICK(t_rng, fz_safe_bytes);
		struct iovec l = { &v, 1 }, rm = { (void *)(uintptr_t)addr, 1 };
		bool w = c_in_arena(addr, 1) && fz_chance(t_rng, 50);
		ssize_t n;

		switch (fz_below(t_rng, 3)) {
		case 0:
			if (w) {
				if (write(t_pipe[1], &v, 1) == 1 &&
				    read(t_pipe[0], (void *)(uintptr_t)addr, 1) != 1)
					n = read(t_pipe[0], &v, 1);
			} else if (write(t_pipe[1], (void *)(uintptr_t)addr, 1) == 1) {
				n = read(t_pipe[0], &v, 1);
			}
			break;
		case 1:
			n = w ? process_vm_writev(getpid(), &l, 1, &rm, 1, 0) :
				process_vm_readv(getpid(), &l, 1, &rm, 1, 0);
			break;
		default:
			n = w ? pwrite(C.memfd, &v, 1, (off_t)addr) : pread(C.memfd, &v, 1, (off_t)addr);
			break;
		}
		(void)n;
		c_drain();
	}
}

static void c_native(void)
{
	struct cent *e = c_pick(0);
	uint64_t b, len;
	int rc = 0;

	if (e && fz_chance(t_rng, 70)) {
		b = atomic_load(&e->base);
		len = atomic_load(&e->size);
		if (fz_chance(t_rng, 40)) {
			uint64_t off = fz_round_down(fz_below(t_rng, len ? len : 1), FZ_PAGE);

			b += off;
			len = FZ_PAGE * (1 + fz_below(t_rng, 8));
		}
	} else {
		b = fz_round_down(C.arena + fz_below(t_rng, C.arena_size), FZ_PAGE);
		len = FZ_PAGE * (1 + fz_below(t_rng, 64));
	}
	if (!c_in_arena(b, len))
		return;
	switch (fz_below(t_rng, 8)) {
	case 0:
		rc = munmap((void *)(uintptr_t)b, len);
		break;
	case 1: {
		int fl = (fz_chance(t_rng, 30) ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
			 (fz_chance(t_rng, 30) ? MAP_FIXED_NOREPLACE : MAP_FIXED);
		void *p = mmap((void *)(uintptr_t)b, len, (int)fz_below(t_rng, 4), fl, -1, 0);

		if (p != MAP_FAILED && fz_chance(t_rng, 50))
			c_store(K_NATIVE, b, len);
		break;
	}
	case 2:
		rc = mprotect((void *)(uintptr_t)b, len, (int)fz_below(t_rng, 8) & ~PROT_EXEC);
		break;
	case 3: {
		uint64_t t = fz_round_down(C.arena + fz_below(t_rng, C.arena_size), FZ_PAGE);
		uint64_t nl = FZ_PAGE * (1 + fz_below(t_rng, 32));
		int fl = fz_below(t_rng, 3) == 0 ? 0 :
			 fz_chance(t_rng, 50) ? MREMAP_MAYMOVE : MREMAP_MAYMOVE | MREMAP_FIXED;

		if ((fl & MREMAP_FIXED) && !c_in_arena(t, nl))
			break;
		mremap((void *)(uintptr_t)b, len, nl, fl, (void *)(uintptr_t)t);
		break;
	}
	case 4:
	case 5: {
		static const int advs[] = {
			MADV_DONTNEED, MADV_REMOVE, MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT,
			MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_DONTFORK, MADV_DOFORK,
			MADV_HUGEPAGE, MADV_NOHUGEPAGE, 25, MADV_DONTDUMP, MADV_FREE,
		};
		int adv = FZ_PICK(t_rng, advs);

		if (adv == MADV_DOFORK && (O.avoid & AVOID_DOFORK))
			break;
		if (adv == MADV_REMOVE && (O.avoid & AVOID_COW_PUNCH))
			break;
		if (len > (4ULL << 20))
			len = 4ULL << 20;
		rc = madvise((void *)(uintptr_t)b, len, adv);
		break;
	}
	case 6:
		if (len > (1ULL << 20))
			len = 1ULL << 20;
		rc = fz_chance(t_rng, 50) ? mlock((void *)(uintptr_t)b, len) :
					     munlock((void *)(uintptr_t)b, len);
		break;
	default:
		rc = msync((void *)(uintptr_t)b, len, MS_ASYNC);
		break;
	}
	(void)rc;
	c_drain();
}

static int c_secfd(void)
{
	int fd = atomic_load(&C.secfd[fz_below(t_rng, C_SECS)]);

	if (fd >= 0 && fz_chance(t_rng, 90))
		return fd;
	return fz_chance(t_rng, 50) ? -1 : (int)fz_below(t_rng, 64);
}

static void c_secstore(int fd)
{
	int old = atomic_exchange(&C.secfd[fz_below(t_rng, C_SECS)], fd);

	if (old >= 0)
		close(old);
}

static void c_sec_create(void)
{
	struct fz_res r;
	struct winvm_section_create_args c;
	int mfd = -1;

	memset(&c, 0, sizeof(c));
	c.size = fz_chance(t_rng, 80) ? FZ_PAGE * (1 + fz_below(t_rng, 64)) : c_rand_size();
	c.file_fd = -1;
	if (fz_chance(t_rng, 25)) {
		mfd = (int)syscall(SYS_memfd_create, "fzc", 0);
		if (mfd >= 0 && ftruncate(mfd, FZ_PAGE * fz_below(t_rng, 32)))
			c_fail("ftruncate");
		c.file_fd = mfd;
	}
	c.protect = fz_chance(t_rng, 90) ?
		    FZ_PICK(t_rng, ((const uint32_t[]){ 2, 4, 8, 0x20, 0x40, 0x80 })) :
		    fz_rand_prot(t_rng);
	c.attributes = fz_chance(t_rng, 80) ?
		       FZ_PICK(t_rng, ((const uint32_t[]){ 0, WINVM_SEC_COMMIT,
							   WINVM_SEC_RESERVE })) :
		       (uint32_t)fz_next(t_rng);
	if (fz_chance(t_rng, 30)) {
		const char *n = rand_sec_name(t_rng);

		c.name = (uint64_t)(uintptr_t)n;
		c.name_len = strlen(n);
	}
	c.fd = -1;
	r = c_call(WINVM_IOC_SECTION_CREATE, &c, sizeof(c));
	if (mfd >= 0) {
		/* Shrink the file under the section now and then. */
		if (r.rc > 0 && fz_chance(t_rng, 20) && !(O.avoid & AVOID_COW_PUNCH) &&
		    ftruncate(mfd, 0))
			c_fail("ftruncate");
		close(mfd);
	}
	if (r.rc > 0)
		c_secstore(r.rc);
}

static void c_sec_open(void)
{
	struct fz_res r;
	struct winvm_section_open_args o;
	const char *n = rand_sec_name(t_rng);

	memset(&o, 0, sizeof(o));
	o.name = (uint64_t)(uintptr_t)n;
	o.name_len = strlen(n);
	o.access = (uint32_t)fz_below(t_rng, 0x40);
	r = c_call(WINVM_IOC_SECTION_OPEN, &o, sizeof(o));
	if (r.rc > 0)
		c_secstore(r.rc);
}

static void c_sec_dup(void)
{
	struct fz_res r;
	struct winvm_section_dup_args d;

	memset(&d, 0, sizeof(d));
	d.section_fd = c_secfd();
	d.access = (uint32_t)fz_below(t_rng, 0x40);
	r = c_call(WINVM_IOC_SECTION_DUP, &d, sizeof(d));
	if (r.rc > 0)
		c_secstore(r.rc);
}

static void c_sec_query(void)
{
	struct winvm_section_query_args q;

	memset(&q, 0, sizeof(q));
	q.section_fd = c_secfd();
	c_call(WINVM_IOC_SECTION_QUERY, &q, sizeof(q));
}

/* Close a section fd, maybe while another thread maps it. */
static void c_sec_close(void)
{
	/* Close a section fd, maybe while another thread maps it. */
	c_secstore(-1);
}

static void c_view_map(void)
{
	struct fz_res r;
	struct winvm_view_map_args v;

	memset(&v, 0, sizeof(v));
	v.section_fd = c_secfd();
	v.access = FZ_PICK(t_rng, ((const uint32_t[]){ 1, 2, 4, 6, 0x24, 0x22, 0x21, 0 }));
	if (fz_chance(t_rng, 60))
		v.address = fz_round_down(C.arena + fz_below(t_rng, C.arena_size), FZ_GRAN);
	v.offset = fz_chance(t_rng, 80) ? 0 : FZ_GRAN * fz_below(t_rng, 3);
	v.size = fz_chance(t_rng, 50) ? 0 : FZ_PAGE * (1 + fz_below(t_rng, 32));
	r = c_call(WINVM_IOC_VIEW_MAP, &v, sizeof(v));
	if (!r.rc && r.status == 0)
		c_store(K_VIEW, v.address, v.size);
}

static void c_view_unmap(void)
{
	struct winvm_view_unmap_args u;
	struct cent *e = c_pick(fz_chance(t_rng, 70) ? K_VIEW : 0);

	memset(&u, 0, sizeof(u));
	u.address = e ? atomic_load(&e->base) + fz_below(t_rng, 1 + atomic_load(&e->size)) :
		    c_rand_addr();
	c_call(WINVM_IOC_VIEW_UNMAP, &u, sizeof(u));
}

static void c_view_flush(void)
{
	struct winvm_view_flush_args f;
	struct cent *e = c_pick(K_VIEW);

	memset(&f, 0, sizeof(f));
	f.address = e ? atomic_load(&e->base) : c_rand_addr();
	f.size = fz_chance(t_rng, 50) ? 0 : c_rand_size();
	c_call(WINVM_IOC_VIEW_FLUSH, &f, sizeof(f));
}

/*
 * Write watch over a known or random range, with a real, missing or bad
 * array; a success must list at most count pages, page-aligned, inside the
 * range and ascending.
 */
static void c_watch(void)
{
	static __thread uint64_t out[64];
	struct winvm_watch_get_args g;
	struct winvm_watch_reset_args rs;
	struct cent *e = c_pick(0);
	uint64_t i, base = e ? atomic_load(&e->base) : c_rand_addr();
	uint64_t size = e && fz_chance(t_rng, 60) ? atomic_load(&e->size) : c_rand_size();
	struct fz_res r;

	if (fz_chance(t_rng, 30)) {
		memset(&rs, 0, sizeof(rs));
		rs.address = base;
		rs.size = size;
		rs.flags = fz_chance(t_rng, 3);
		c_call(WINVM_IOC_WATCH_RESET, &rs, sizeof(rs));
		return;
	}
	memset(&g, 0, sizeof(g));
	g.address = base;
	g.size = size;
	g.flags = fz_chance(t_rng, 50) ? WINVM_WRITE_WATCH_FLAG_RESET :
		  fz_chance(t_rng, 5) ? (uint32_t)fz_next(t_rng) : 0;
	g.count = fz_chance(t_rng, 5) ? fz_next(t_rng) : fz_below(t_rng, 65);
	g.addresses = fz_chance(t_rng, 90) ? (uintptr_t)out : fz_chance(t_rng, 50) ? 0 : 8;
	if (g.count > 64 && g.addresses == (uintptr_t)out)
		g.count = 64;
	r = c_call(WINVM_IOC_WATCH_GET, &g, sizeof(g));
	if (r.rc || r.status != 0 || g.addresses != (uintptr_t)out)
		return;
	if (g.count > 64 || g.granularity != FZ_PAGE)
		c_fail("WATCH_GET listed %llu pages, granularity %u",
		       (unsigned long long)g.count, g.granularity);
	for (i = 0; i < g.count; i++)
		if ((out[i] & (FZ_PAGE - 1)) || out[i] < fz_round_down(base, FZ_PAGE) ||
		    out[i] >= base + size || (i && out[i] <= out[i - 1]))
			c_fail("WATCH_GET(0x%llx+0x%llx) listed 0x%llx at %llu",
			       (unsigned long long)base, (unsigned long long)size,
			       (unsigned long long)out[i], (unsigned long long)i);
}

static void c_section(void)
{
	unsigned int x = fz_below(t_rng, 100);

	if (x < 25) {
		c_sec_create();
	} else if (x < 35) {
		c_sec_open();
	} else if (x < 45) {
		c_sec_dup();
	} else if (x < 52) {
		c_sec_query();
	} else if (x < 60) {
		c_sec_close();
	} else if (x < 82) {
		c_view_map();
	} else if (x < 92) {
		c_view_unmap();
	} else {
		c_view_flush();
	}
}

static void c_fork(void)
{
	pid_t pid;
	int rc, how = fz_below(t_rng, 4);

	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		/* One thread left; the inherited context is the parent's. */
		struct winvm_query_args q;
		struct fz_res r;
		int i;

		memset(&q, 0, sizeof(q));
		q.address = C.arena;
		r = fz_call(C.fd, WINVM_IOC_MEM_QUERY, &q);
		if (r.status != WINVM_STATUS_INVALID_HANDLE && r.rc != -ENOMEM)
			c_fail("child: inherited context query -> rc %d %s", r.rc,
			       winvm_abi_status_name(r.status));
		t_fd = fz_open_winvm();
		if (t_fd < 0)
			_exit(0);
		for (i = 0; i < 40; i++) {
			switch (fz_below(t_rng, 5)) {
			case 0: c_alloc(); break;
			case 1: c_free(); break;
			case 2: c_probe(); break;
			case 3: c_section(); break;
			default: c_query(); break;
			}
			atomic_fetch_add(&SH->ops, 1);
		}
		if (how == 1) {
			char seed[32], fdn[16], shfd[16];

			snprintf(seed, sizeof(seed), "%" PRIu64, fz_next(t_rng));
			snprintf(fdn, sizeof(fdn), "%d", t_fd);
			snprintf(shfd, sizeof(shfd), "%d", g_shfd);
			fcntl(t_fd, F_SETFD, 0);
			execl("/proc/self/exe", O.argv0, FZ_EXEC_CHILD_ARG, seed, fdn, shfd,
			      O.nomem_ok ? "nomem" : "", (char *)NULL);
		} else if (how == 2) {
			execl("/bin/busybox", "busybox", "true", (char *)NULL);
		}
		_exit(atomic_load(&C.fails) ? 1 : 0);
	}
	atomic_fetch_add(&SH->forks, 1);
	rc = fz_wait(pid);
	if (how == 1 || how == 2)
		atomic_fetch_add(&SH->execs, 1);
	if (rc != 0 && !(O.nomem_ok && (rc == 3 || rc > 128 || how == 1 || how == 2)))
		c_fail("forked child (mode %d) exited with %d", how, rc);
}

void c_op(void)
{
	unsigned int x = fz_below(t_rng, 10000);

	if (x < 1600)
		c_alloc();
	else if (x < 2600)
		c_free();
	else if (x < 3600)
		c_protect();
	else if (x < 4300)
		c_query();
	else if (x < 4600)
		c_watch();
	else if (x < 5000)
		c_misc();
	else if (x < 6800)
		c_probe();
	else if (x < 7800)
		c_native();
	else if (x < 9960)
		c_section();
	else if (x < 9990)
		c_fork();
	else if (x < 9994) {
		/* The whole worker execs, every other thread in the middle of something. */
		char seed[32], shfd[16];

		snprintf(seed, sizeof(seed), "%" PRIu64, fz_next(t_rng));
		snprintf(shfd, sizeof(shfd), "%d", g_shfd);
		atomic_fetch_add(&SH->execs, 1);
		execl("/proc/self/exe", O.argv0, FZ_EXEC_CHILD_ARG, seed, "-1", shfd,
		      O.nomem_ok ? "nomem" : "", (char *)NULL);
	} else if (x < 9997) {
		atomic_fetch_add(&SH->exits, 1);
		syscall(SYS_exit_group, 0);
	} else {
		atomic_fetch_add(&SH->thread_exits, 1);
		close(t_pipe[0]);
		close(t_pipe[1]);
		atomic_store(&t_self->alive, 0);
		pthread_exit(NULL);
	}
}
