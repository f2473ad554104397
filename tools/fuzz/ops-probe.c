// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: user- and kernel-mode accesses to model memory,
 * with the fault (and fault record) the model predicts.
 */
#include "ops.h"

static enum pexp probe_expect(uint64_t page, int access, struct malloc_ **am)
{
	int ai = m_find(page);
	struct malloc_ *a;
	uint32_t st;

	*am = NULL;
	if (ai < 0)
		return fz_maps_find(&MAPS, page) < 0 ? P_SEGV_NOREC : P_SKIP;
	a = &M.a[ai];
	*am = a;
	if (a->view)
		return P_SKIP;
	st = a_get(a, page);
	if (!(st & PS_COMMIT))
		return P_AV;
	if (st & PS_GUARD)
		return P_GUARD;
	switch (access) {
	case WINVM_EXCEPTION_READ_FAULT:
		return mp_can_read(st) ? P_OK : P_AV;
	case WINVM_EXCEPTION_WRITE_FAULT:
		return mp_can_write(st) ? P_OK : P_AV;
	default:
		return mp_can_exec(st) ? P_OK : P_SEGV_MAYBE;
	}
}

static uint64_t rand_probe_page(void)
{
	struct malloc_ *a = rand_alloc(false);

	if (a && fz_chance(&M.rng, 90)) {
		if (fz_chance(&M.rng, 50) && a->nruns) {
			const struct mrun *r = &a->runs[fz_below(&M.rng, a->nruns)];

			return r->start + fz_round_down(fz_below(&M.rng, r->end - r->start), FZ_PAGE);
		}
		return a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
	}
	return fz_round_down(rand_arena_addr(), FZ_PAGE);
}

/* Reads the fault record after a probe's signal and checks it. */
static void check_record(uint64_t addr, int access, enum pexp e, const char *what)
{
	struct winvm_fault_info_args f;
	struct fz_res r;

	memset(&f, 0, sizeof(f));
	r = fz_call(M.fd, WINVM_IOC_FAULT_INFO, &f);
	if (O.nomem_ok && (e == P_AV || e == P_GUARD) && r.status == WINVM_STATUS_NOT_FOUND)
		return;	/* the record allocation may fail: best effort */
	if (e == P_SEGV_NOREC || (e == P_SEGV_MAYBE && r.status == WINVM_STATUS_NOT_FOUND)) {
		if (r.status != WINVM_STATUS_NOT_FOUND)
			m_fail("%s at 0x%llx: unexpected fault record (%s, addr 0x%llx)", what,
			       (unsigned long long)addr, winvm_abi_status_name(r.status),
			       (unsigned long long)f.address);
		return;
	}
	if (r.status != WINVM_STATUS_SUCCESS) {
		m_fail("%s at 0x%llx: no fault record (%s)", what, (unsigned long long)addr,
		       winvm_abi_status_name(r.status));
		return;
	}
	if (f.address != addr || f.access != (uint32_t)access ||
	    f.fault_status != (e == P_GUARD ? WINVM_STATUS_GUARD_PAGE_VIOLATION :
			       WINVM_STATUS_ACCESS_VIOLATION))
		m_fail("%s at 0x%llx: record {0x%llx, access %u, %s}, expected access %d %s",
		       what, (unsigned long long)addr, (unsigned long long)f.address, f.access,
		       winvm_abi_status_name(f.fault_status), access,
		       e == P_GUARD ? "GUARD_PAGE_VIOLATION" : "ACCESS_VIOLATION");
}

void drain_records(void)
{
	struct winvm_fault_info_args f;

	memset(&f, 0, sizeof(f));
	fz_call(M.fd, WINVM_IOC_FAULT_INFO, &f);
	M.pending_record = false;
}

static const char *const probe_names[] = {
	"read", "write", "?", "?", "?", "?", "?", "?", "exec"
};

/* One user-mode access and what the model says of it. */
struct probe {
	uint64_t page, addr;	/* the page, and the byte accessed in it */
	int access;		/* WINVM_EXCEPTION_*_FAULT */
	enum pexp e;
	struct malloc_ *a;
	uint8_t val, wv;	/* the byte read, the byte written */
};

/* An execute of a page that is meant to work: make byte 0 a ret, or skip. */
static bool probe_prepare_exec(const struct probe *p)
{
	uint8_t known = 0;
	bool kn = d_get(p->page, &known);

	if (kn && known == 0xc3)
		return true;
	/* Make it a ret first, if writable; else skip. */
	if (!mp_can_write(a_get(p->a, p->page)))
		return false;
	*(volatile uint8_t *)(uintptr_t)p->page = 0xc3;
	d_set(p->page, 0xc3, false);
	return true;
}

static bool probe_access(struct probe *p)
{
	switch (p->access) {
	case WINVM_EXCEPTION_READ_FAULT:
		return fz_try_read((void *)(uintptr_t)p->addr, &p->val);
	case WINVM_EXCEPTION_WRITE_FAULT:
		return fz_try_write((void *)(uintptr_t)p->addr, p->wv);
	default:
		return fz_try_exec((void *)(uintptr_t)p->addr);
	}
}

/* The access worked: was it meant to, and what was read or written? */
static void probe_succeeded(const struct probe *p)
{
	uint8_t known = 0;
	bool kn;

	if (p->e != P_OK) {
		m_fail("%s of 0x%llx succeeded, expected a fault (%d)", probe_names[p->access],
		       (unsigned long long)p->addr, (int)p->e);
		return;
	}
	if (p->access == WINVM_EXCEPTION_READ_FAULT) {
		kn = p->addr == p->page ? d_get(p->page, &known) : (known = 0, true);
		if (kn && p->val != known)
			m_fail("read 0x%llx: 0x%02x, expected 0x%02x", (unsigned long long)p->addr,
			       p->val, known);
		if (!kn && p->addr == p->page)
			d_set(p->page, p->val, false);
	} else if (p->access == WINVM_EXCEPTION_WRITE_FAULT) {
		d_set(p->page, p->wv, false);
	}
}

/* Under fault injection: no frame, or no page for the fault. */
static bool probe_injected_fault(void)
{
	return O.nomem_ok && (fz_probe.code == SI_KERNEL || fz_probe.signo == SIGBUS ||
			      !fz_probe.addr);
}

/* The access faulted: was it meant to, with this signal and fault record? */
static void probe_faulted(const struct probe *p)
{
	const char *name = probe_names[p->access];

	if (p->e == P_OK && probe_injected_fault()) {
		drain_records();
		return;
	}
	if (p->e == P_OK) {
		m_fail("%s of 0x%llx faulted (signal %d at 0x%llx), expected success",
		       name, (unsigned long long)p->addr, fz_probe.signo,
		       (unsigned long long)fz_probe.addr);
		drain_records();
		return;
	}
	if (probe_injected_fault()) {
		drain_records();
		if (p->e == P_GUARD)
			a_set(p->a, p->page, p->page + FZ_PAGE, a_get(p->a, p->page) & ~PS_GUARD);
		return;
	}
	if (fz_probe.signo != SIGSEGV || fz_probe.addr != p->addr) {
		m_fail("%s of 0x%llx: signal %d at 0x%llx, expected SIGSEGV at the address",
		       name, (unsigned long long)p->addr, fz_probe.signo,
		       (unsigned long long)fz_probe.addr);
		drain_records();
		return;
	}
	check_record(p->addr, p->access, p->e, name);
	/* A guard page fires once. */
	if (p->e == P_GUARD)
		a_set(p->a, p->page, p->page + FZ_PAGE, a_get(p->a, p->page) & ~PS_GUARD);
}

void op_probe(void)
{
	static const int accesses[] = {
		WINVM_EXCEPTION_READ_FAULT, WINVM_EXCEPTION_READ_FAULT, WINVM_EXCEPTION_WRITE_FAULT,
		WINVM_EXCEPTION_WRITE_FAULT, WINVM_EXCEPTION_EXECUTE_FAULT,
	};
	struct probe p = { 0 };
	bool ok;

	p.page = rand_probe_page();
	p.access = FZ_PICK(&M.rng, accesses);
	p.e = probe_expect(p.page, p.access, &p.a);
	p.wv = FZ_PICK(&M.rng, fz_safe_bytes);
	if (p.e == P_SKIP)
		return;
	p.addr = p.page;	/* byte 0: the byte the model tracks */
	if (p.access == WINVM_EXCEPTION_EXECUTE_FAULT && p.e == P_OK && !probe_prepare_exec(&p))
		return;
	if (p.access == WINVM_EXCEPTION_READ_FAULT && fz_chance(&M.rng, 30))
		p.addr = p.page + fz_below(&M.rng, FZ_PAGE);	/* other bytes read zero */
	ok = probe_access(&p);
	MLOG("%s 0x%llx -> %s (sig %d addr 0x%llx) expect %d", probe_names[p.access],
	     (unsigned long long)p.addr, ok ? "ok" : "fault", fz_probe.signo,
	     (unsigned long long)fz_probe.addr, (int)p.e);
	if (ok)
		probe_succeeded(&p);
	else
		probe_faulted(&p);
}

/* Kernel-mode accesses: pipe read/write, process_vm_*, /proc/self/mem. */
void op_kprobe(void)
{
	uint64_t page = rand_probe_page();
	bool wr = fz_chance(&M.rng, 50);
	int how = fz_below(&M.rng, 3);
	struct malloc_ *a;
	enum pexp e = probe_expect(page, wr ? WINVM_EXCEPTION_WRITE_FAULT :
				   WINVM_EXCEPTION_READ_FAULT, &a);
	uint8_t v = FZ_PICK(&M.rng, fz_safe_bytes), got = 0, known;
	bool ok;
	ssize_t n;

	if (e == P_SKIP)
		return;
	if (how == 0) {
		if (wr) {
			if (write(M.pipe_w, &v, 1) != 1)
				return;
			n = read(M.pipe_r, (void *)(uintptr_t)page, 1);
			ok = n == 1;
			if (!ok) {
				uint8_t junk;

				if (read(M.pipe_r, &junk, 1) != 1)
					m_fail("pipe lost a byte");
			}
		} else {
			n = write(M.pipe_w, (void *)(uintptr_t)page, 1);
			ok = n == 1;
			if (ok && read(M.pipe_r, &got, 1) != 1)
				m_fail("pipe lost a byte");
		}
	} else if (how == 1) {
		struct iovec local = { wr ? &v : &got, 1 };
		struct iovec remote = { (void *)(uintptr_t)page, 1 };

		n = wr ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0) :
			    process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		ok = n == 1;
	} else {
		n = wr ? pwrite(M.memfd, &v, 1, (off_t)page) :
			    pread(M.memfd, &got, 1, (off_t)page);
		ok = n == 1;
	}
	MLOG("kernel %s (%d) 0x%llx -> %s (errno %d) expect %d", wr ? "write" : "read", how,
	     (unsigned long long)page, ok ? "ok" : "fail", ok ? 0 : errno, (int)e);
	/* A kernel write to a read-only PTE can leave a (harmless) record. */
	if (wr)
		drain_records();
	if (ok != (e == P_OK)) {
		/* Injected: the page for a kernel-mode fault may not come. */
		if (O.nomem_ok && !ok)
			return;
		m_fail("kernel %s (%d) of 0x%llx %s, expected %s", wr ? "write" : "read", how,
		       (unsigned long long)page, ok ? "succeeded" : "failed",
		       e == P_OK ? "success" : "EFAULT");
		return;
	}
	if (!ok)
		return;
	if (wr) {
		d_set(page, v, false);
	} else if (d_get(page, &known)) {
		if (got != known)
			m_fail("kernel read 0x%llx: 0x%02x, expected 0x%02x",
			       (unsigned long long)page, got, known);
	} else {
		d_set(page, got, false);
	}
}
