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

void op_probe(void)
{
	static const char *const names[] = { "read", "write", "?", "?", "?", "?", "?", "?", "exec" };
	static const int accesses[] = {
		WINVM_EXCEPTION_READ_FAULT, WINVM_EXCEPTION_READ_FAULT, WINVM_EXCEPTION_WRITE_FAULT,
		WINVM_EXCEPTION_WRITE_FAULT, WINVM_EXCEPTION_EXECUTE_FAULT,
	};
	uint64_t page = rand_probe_page(), addr;
	int access = FZ_PICK(&M.rng, accesses);
	struct malloc_ *a;
	enum pexp e = probe_expect(page, access, &a);
	uint8_t val = 0, known = 0, wv = FZ_PICK(&M.rng, fz_safe_bytes);
	bool ok, kn = false;

	if (e == P_SKIP)
		return;
	addr = page;	/* byte 0: the byte the model tracks */
	if (access == WINVM_EXCEPTION_EXECUTE_FAULT && e == P_OK) {
		kn = d_get(page, &known);
		if (!kn || known != 0xc3) {
			/* Make it a ret first, if writable; else skip. */
			if (!mp_can_write(a_get(a, page)))
				return;
			*(volatile uint8_t *)(uintptr_t)page = 0xc3;
			d_set(page, 0xc3, false);
		}
	}
	if (access == WINVM_EXCEPTION_READ_FAULT && fz_chance(&M.rng, 30))
		addr = page + fz_below(&M.rng, FZ_PAGE);	/* other bytes read zero */
	switch (access) {
	case WINVM_EXCEPTION_READ_FAULT:
		ok = fz_try_read((void *)(uintptr_t)addr, &val);
		break;
	case WINVM_EXCEPTION_WRITE_FAULT:
		ok = fz_try_write((void *)(uintptr_t)addr, wv);
		break;
	default:
		ok = fz_try_exec((void *)(uintptr_t)addr);
		break;
	}
	MLOG("%s 0x%llx -> %s (sig %d addr 0x%llx) expect %d", names[access],
	     (unsigned long long)addr, ok ? "ok" : "fault", fz_probe.signo,
	     (unsigned long long)fz_probe.addr, (int)e);
	if (ok) {
		if (e != P_OK) {
			m_fail("%s of 0x%llx succeeded, expected a fault (%d)", names[access],
			       (unsigned long long)addr, (int)e);
			return;
		}
		if (access == WINVM_EXCEPTION_READ_FAULT) {
			kn = addr == page ? d_get(page, &known) : (known = 0, true);
			if (kn && val != known)
				m_fail("read 0x%llx: 0x%02x, expected 0x%02x", (unsigned long long)addr,
				       val, known);
			if (!kn && addr == page)
				d_set(page, val, false);
		} else if (access == WINVM_EXCEPTION_WRITE_FAULT) {
			d_set(page, wv, false);
		}
		return;
	}
	if (e == P_OK && O.nomem_ok && (fz_probe.code == SI_KERNEL || fz_probe.signo == SIGBUS ||
					!fz_probe.addr)) {
		drain_records();
		return;
	}
	if (e == P_OK) {
		m_fail("%s of 0x%llx faulted (signal %d at 0x%llx), expected success",
		       names[access], (unsigned long long)addr, fz_probe.signo,
		       (unsigned long long)fz_probe.addr);
		drain_records();
		return;
	}
	if (O.nomem_ok && (fz_probe.code == SI_KERNEL || fz_probe.signo == SIGBUS ||
			   !fz_probe.addr)) {
		/* Fault injection: no frame, or no page for the fault. */
		drain_records();
		if (e == P_GUARD)
			a_set(a, page, page + FZ_PAGE, a_get(a, page) & ~PS_GUARD);
		return;
	}
	if (fz_probe.signo != SIGSEGV || fz_probe.addr != addr) {
		m_fail("%s of 0x%llx: signal %d at 0x%llx, expected SIGSEGV at the address",
		       names[access], (unsigned long long)addr, fz_probe.signo,
		       (unsigned long long)fz_probe.addr);
		drain_records();
		return;
	}
	check_record(addr, access, e, names[access]);
	if (e == P_GUARD) {
		uint32_t st = a_get(a, page);

		a_set(a, page, page + FZ_PAGE, st & ~PS_GUARD);
	}
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
