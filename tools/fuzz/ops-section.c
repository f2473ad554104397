// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz operations: sections and views, accesses inside views, fork
 * and exec.
 */
#include "ops.h"

/* ---------------- sections (not modelled in detail) ---------------- */

static int rand_secfd(void)
{
	int i = fz_below(&M.rng, 8);

	if (M.secfd[i] >= 0 && fz_chance(&M.rng, 90))
		return M.secfd[i];
	switch (fz_below(&M.rng, 5)) {
	case 0: return -1;
	case 1: return M.fd;
	case 2: return 0;
	case 3: return 999;
	default: return M.pipe_r;
	}
}

static void sec_store(int fd)
{
	int i = fz_below(&M.rng, 8);

	if (fd < 0)
		return;
	if (M.secfd[i] >= 0)
		close(M.secfd[i]);
	M.secfd[i] = fd;
}

static void sec_check_fd(const char *what, struct fz_res r, int outfd)
{
	const char *p = fz_res_problem(r, true);

	if (p) {
		m_fail("%s: %s", what, p);
		return;
	}
	if (r.rc > 0) {
		int fl = fcntl(r.rc, F_GETFD);

		if (outfd != r.rc)
			m_fail("%s: returned fd %d but fd field %d", what, r.rc, outfd);
		if (fl < 0 || !(fl & FD_CLOEXEC))
			m_fail("%s: fd %d is not O_CLOEXEC", what, r.rc);
	}
}

static const char *const sec_names[] = { "fz-a", "fz-b", "Fz-A", "fz-a\\x", "" };

const char *rand_sec_name(struct fz_rng *r)
{
	return FZ_PICK(r, sec_names);
}

static const uint32_t prots[] = {
	WINVM_PAGE_READONLY, WINVM_PAGE_READWRITE, WINVM_PAGE_WRITECOPY,
	WINVM_PAGE_EXECUTE_READ, WINVM_PAGE_EXECUTE_READWRITE, WINVM_PAGE_EXECUTE_WRITECOPY,
	WINVM_PAGE_NOACCESS, 0, WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD,
};
static const uint32_t attrs[] = {
	0, WINVM_SEC_COMMIT, WINVM_SEC_RESERVE, WINVM_SEC_COMMIT | WINVM_SEC_NOCACHE,
	WINVM_SEC_RESERVE | WINVM_SEC_WRITECOMBINE, WINVM_SEC_IMAGE, WINVM_SEC_FILE,
	WINVM_SEC_LARGE_PAGES, WINVM_SEC_RESERVE | WINVM_SEC_COMMIT, 0xffffffffu,
};

static void sec_create(void)
{
	struct fz_res r;
	bool effect;
	struct winvm_section_create_args c;
	const char *name = rand_sec_name(&M.rng);
	int mfd = -1;

	memset(&c, 0, sizeof(c));
	c.size = fz_chance(&M.rng, 70) ? FZ_PAGE * (1 + fz_below(&M.rng, 64)) :
		 rand_boundary_size(&M.rng);
	if (fz_chance(&M.rng, 30)) {
		c.name = (uint64_t)(uintptr_t)name;
		c.name_len = strlen(name);
		if (fz_chance(&M.rng, 5))
			c.name_len = fz_chance(&M.rng, 50) ? 300 : 0;
		if (fz_chance(&M.rng, 5))
			c.name = 0xdead000;
	}
	c.file_fd = -1;
	if (fz_chance(&M.rng, 20)) {
		mfd = (int)syscall(SYS_memfd_create, "fz", 0);
		if (mfd >= 0 && fz_chance(&M.rng, 70) &&
		    ftruncate(mfd, FZ_PAGE * (1 + fz_below(&M.rng, 32))))
			m_fail("ftruncate memfd");
		c.file_fd = fz_chance(&M.rng, 90) ? mfd : M.pipe_r;
	}
	c.protect = FZ_PICK(&M.rng, prots);
	c.attributes = FZ_PICK(&M.rng, attrs);
	c.access = fz_chance(&M.rng, 80) ? 0 : (uint32_t)fz_below(&M.rng, 0x40);
	if (fz_chance(&M.rng, 5))
		c.flags = fz_chance(&M.rng, 50) ? WINVM_SECTION_GLOBAL : 2;
	if (fz_chance(&M.rng, 2))
		c.reserved[0] = 1;
	c.fd = -1;
	r = m_ioctl(WINVM_IOC_SECTION_CREATE, &c, sizeof(c), ARG_NORMAL, &effect);
	MLOG("SECTION_CREATE(size 0x%llx, file %d, prot 0x%x, attr 0x%x) -> rc %d %s",
	     (unsigned long long)c.size, c.file_fd, c.protect, c.attributes, r.rc,
	     winvm_abi_status_name(r.status));
	sec_check_fd("SECTION_CREATE", r, c.fd);
	if (mfd >= 0)
		close(mfd);
	sec_store(r.rc > 0 ? r.rc : -1);
}

static void sec_open(void)
{
	struct fz_res r;
	bool effect;
	struct winvm_section_open_args o;
	const char *name = rand_sec_name(&M.rng);

	memset(&o, 0, sizeof(o));
	o.name = (uint64_t)(uintptr_t)name;
	o.name_len = strlen(name);
	o.access = (uint32_t)fz_below(&M.rng, 0x40);
	o.fd = -1;
	r = m_ioctl(WINVM_IOC_SECTION_OPEN, &o, sizeof(o), ARG_NORMAL, &effect);
	MLOG("SECTION_OPEN(%s, 0x%x) -> rc %d %s", name, o.access, r.rc,
	     winvm_abi_status_name(r.status));
	sec_check_fd("SECTION_OPEN", r, o.fd);
	sec_store(r.rc > 0 ? r.rc : -1);
}

static void sec_query(void)
{
	struct fz_res r;
	bool effect;
	struct winvm_section_query_args q;

	memset(&q, 0, sizeof(q));
	q.section_fd = rand_secfd();
	r = m_ioctl(WINVM_IOC_SECTION_QUERY, &q, sizeof(q), ARG_NORMAL, &effect);
	MLOG("SECTION_QUERY(%d) -> %s", q.section_fd, winvm_abi_status_name(r.status));
	sec_check_fd("SECTION_QUERY", r, 0);
}

static void sec_dup(void)
{
	struct fz_res r;
	bool effect;
	struct winvm_section_dup_args d;

	memset(&d, 0, sizeof(d));
	d.section_fd = rand_secfd();
	d.access = (uint32_t)fz_below(&M.rng, 0x40);
	d.fd = -1;
	r = m_ioctl(WINVM_IOC_SECTION_DUP, &d, sizeof(d), ARG_NORMAL, &effect);
	MLOG("SECTION_DUP(%d, 0x%x) -> rc %d %s", d.section_fd, d.access, r.rc,
	     winvm_abi_status_name(r.status));
	sec_check_fd("SECTION_DUP", r, d.fd);
	sec_store(r.rc > 0 ? r.rc : -1);
}

static void sec_close(void)
{
	int i = fz_below(&M.rng, 8);

	MLOG("close(section fd %d)", M.secfd[i]);
	if (M.secfd[i] >= 0)
		close(M.secfd[i]);
	M.secfd[i] = -1;
}

static void sec_view_map(void)
{
	struct fz_res r;
	bool effect;
	struct winvm_view_map_args v;
	uint64_t pre_busy_start;
	static const uint32_t acc[] = {
		WINVM_FILE_MAP_READ, WINVM_FILE_MAP_WRITE, WINVM_FILE_MAP_COPY,
		WINVM_FILE_MAP_READ | WINVM_FILE_MAP_EXECUTE,
		WINVM_FILE_MAP_WRITE | WINVM_FILE_MAP_EXECUTE,
		WINVM_FILE_MAP_COPY | WINVM_FILE_MAP_EXECUTE, 0, WINVM_FILE_MAP_ALL_ACCESS,
		0x40,
	};

	if (m_count() >= M_MAXA - 2)
		return;
	memset(&v, 0, sizeof(v));
	v.section_fd = rand_secfd();
	v.access = FZ_PICK(&M.rng, acc);
	v.address = fz_chance(&M.rng, 50) ? 0 : fz_round_down(rand_arena_addr(), FZ_GRAN);
	if (fz_chance(&M.rng, 5))
		v.address = rand_addr();
	v.offset = fz_chance(&M.rng, 85) ? 0 : FZ_GRAN * fz_below(&M.rng, 3) +
					       (fz_chance(&M.rng, 20) ? FZ_PAGE : 0);
	v.size = fz_chance(&M.rng, 50) ? 0 : FZ_PAGE * (1 + fz_below(&M.rng, 32));
	v.type = fz_chance(&M.rng, 10) ? WINVM_MEM_TOP_DOWN : 0;
	if (fz_chance(&M.rng, 3))
		v.zero_bits = rand_zero_bits();
	pre_busy_start = v.address;
	r = m_ioctl(WINVM_IOC_VIEW_MAP, &v, sizeof(v), ARG_NORMAL, &effect);
	MLOG("VIEW_MAP(fd %d, acc 0x%x, addr 0x%llx, off 0x%llx) -> rc %d %s at 0x%llx+0x%llx",
	     v.section_fd, v.access, (unsigned long long)pre_busy_start,
	     (unsigned long long)v.offset, r.rc, winvm_abi_status_name(r.status),
	     (unsigned long long)v.address, (unsigned long long)v.size);
	if (fz_res_problem(r, false)) {
		m_fail("VIEW_MAP: %s", fz_res_problem(r, false));
		return;
	}
	if (!r.rc) {
		/* A NULL-base view takes wholly free granules (rule R10). */
		uint64_t end = pre_busy_start ? v.address + v.size :
				fz_round_up(v.address + v.size, FZ_GRAN);

		if ((v.address & (FZ_GRAN - 1)) || !v.size || (v.size & (FZ_PAGE - 1)) ||
		    fz_maps_busy(&MAPS, v.address, end) ||
		    (pre_busy_start && pre_busy_start != v.address)) {
			m_fail("VIEW_MAP placed a view at 0x%llx+0x%llx",
			       (unsigned long long)v.address, (unsigned long long)v.size);
			return;
		}
		/* The view's own protection is the allocation protect. */
		view_mapped(m_new(v.address, v.size, 0, true), v.section_fd, v.access);
	}
}

static void sec_view_unmap(void)
{
	struct fz_res r;
	bool effect;
	struct winvm_view_unmap_args u;
	struct malloc_ *a = rand_alloc(false);
	uint32_t want;
	int ai;

	memset(&u, 0, sizeof(u));
	u.address = a && fz_chance(&M.rng, 80) ? a->base + fz_below(&M.rng, a->size) :
		    rand_addr();
	ai = m_find(u.address);
	want = u.address > FZ_MAX_ADDR ? WINVM_STATUS_INVALID_PARAMETER :
	       ai >= 0 && M.a[ai].view ? 0 : WINVM_STATUS_NOT_MAPPED_VIEW;
	r = m_ioctl(WINVM_IOC_VIEW_UNMAP, &u, sizeof(u), ARG_NORMAL, &effect);
	MLOG("VIEW_UNMAP(0x%llx) -> rc %d %s", (unsigned long long)u.address, r.rc,
	     winvm_abi_status_name(r.status));
	if (r.rc == -ENOTTY)
		return;
	if (!expect_status("VIEW_UNMAP", r, want, true, true))
		return;
	if (!r.rc && ai >= 0)
		m_drop(&M.a[ai]);
}

static void sec_view_flush(void)
{
	struct fz_res r;
	bool effect;
	struct winvm_view_flush_args f;
	struct malloc_ *a = rand_alloc(false);

	memset(&f, 0, sizeof(f));
	f.address = a ? a->base + fz_below(&M.rng, a->size) : rand_addr();
	f.size = fz_chance(&M.rng, 50) ? 0 : rand_size(f.address);
	r = m_ioctl(WINVM_IOC_VIEW_FLUSH, &f, sizeof(f), ARG_NORMAL, &effect);
	MLOG("VIEW_FLUSH(0x%llx, 0x%llx) -> rc %d %s", (unsigned long long)f.address,
	     (unsigned long long)f.size, r.rc, winvm_abi_status_name(r.status));
	if (fz_res_problem(r, false))
		m_fail("VIEW_FLUSH: %s", fz_res_problem(r, false));
}

void op_section(void)
{
	unsigned int which = fz_below(&M.rng, 100);

	if (which < 30) {
		sec_create();
	} else if (which < 38) {
		sec_open();
	} else if (which < 45) {
		sec_query();
	} else if (which < 52) {
		sec_dup();
	} else if (which < 60) {
		sec_close();
	} else if (which < 82) {
		sec_view_map();
	} else if (which < 92) {
		sec_view_unmap();
	} else {
		sec_view_flush();
	}
}

/* Accesses inside views: anything may happen but a crash. */
void op_view_touch(void)
{
	int i, tries;

	for (tries = 0; tries < 8; tries++) {
		struct malloc_ *a = &M.a[fz_below(&M.rng, M_MAXA)];
		uint64_t p;

		if (!a->used || !a->view)
			continue;
		p = a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
		for (i = 0; i < 3; i++) {
			switch (fz_below(&M.rng, 4)) {
			case 0:
				view_write(p, FZ_PICK(&M.rng, fz_safe_bytes));
				break;
			case 1:
				madvise((void *)(uintptr_t)p, FZ_PAGE,
					fz_chance(&M.rng, 50) && !(O.avoid & AVOID_COW_PUNCH) ?
					MADV_REMOVE : MADV_DONTNEED);
				break;
			default:
				fz_try_read((void *)(uintptr_t)p, NULL);
				break;
			}
		}
		MLOG("touched view page 0x%llx", (unsigned long long)p);
		d_unknown(a->base, a->base + a->size);
		drain_records();
		return;
	}
}

/* ---------------- fork and exec ---------------- */

static int child_checks(void)
{
	int fails = 0, fd2, i;
	struct winvm_query_args q;
	struct fz_res r;

	/* The inherited context belongs to the parent's mm. */
	memset(&q, 0, sizeof(q));
	q.address = M.arena;
	r = fz_call(M.fd, WINVM_IOC_MEM_QUERY, &q);
	if (r.status != WINVM_STATUS_INVALID_HANDLE || r.rc != -EBADF) {
		fz_log("# child: inherited fd query -> rc %d %s\n", r.rc, winvm_abi_status_name(r.status));
		fails++;
	}
	fd2 = fz_open_winvm();
	if (fd2 < 0)
		return O.nomem_ok ? fails : fails + 1;
	for (i = 0; i < M_MAXA; i++) {
		struct malloc_ *a = &M.a[i];
		uint64_t p;

		if (!a->used || a->view)
			continue;
		p = a->base + fz_round_down(fz_below(&M.rng, a->size), FZ_PAGE);
		if (!a->dofork) {
			if (fz_try_read((void *)(uintptr_t)p, NULL)) {
				fz_log("# child: read parent's winvm page 0x%llx\n",
				       (unsigned long long)p);
				fails++;
			}
			memset(&q, 0, sizeof(q));
			q.address = p;
			r = fz_call(fd2, WINVM_IOC_MEM_QUERY, &q);
			if (!r.rc && (q.region_flags & WINVM_REGION_WINVM)) {
				fz_log("# child: 0x%llx is a winvm region in the child\n",
				       (unsigned long long)p);
				fails++;
			}
		} else {
			struct winvm_free_args f;

			/* A copied VMA must not let the child touch the parent's state. */
			if (fz_try_read((void *)(uintptr_t)p, NULL)) {
				fz_log("# child: read a MADV_DOFORK copy of 0x%llx\n",
				       (unsigned long long)p);
				fails++;
			}
			memset(&f, 0, sizeof(f));
			f.address = p;
			f.size = FZ_PAGE;
			f.type = fz_chance(&M.rng, 50) ? WINVM_MEM_DECOMMIT : WINVM_MEM_RELEASE;
			r = fz_call(fd2, WINVM_IOC_MEM_FREE, &f);
			fz_log("# child: MEM_FREE(0x%llx, 0x1000, 0x%x) on a DOFORK copy -> %s\n",
			       (unsigned long long)p, f.type, winvm_abi_status_name(r.status));
		}
	}
	close(fd2);
	return fails;
}

void op_fork(void)
{
	pid_t pid;
	int rc, how = fz_below(&M.rng, 4);

	pid = fork();
	if (pid < 0) {
		/*
		 * Native private mappings merged past RAM size fail the
		 * overcommit check that fork repeats per VMA: the model's
		 * own doing, nothing winvm could change.
		 */
		if (errno == ENOMEM || errno == EAGAIN)
			fz_log("# fork: %s (overcommit check), skipped\n", strerror(errno));
		else
			m_fail("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		int fails = child_checks();

		if (fails)
			_exit(1);
		if (how == 1) {
			char seed[32], fdn[16], shfd[16];

			snprintf(seed, sizeof(seed), "%" PRIu64, fz_next(&M.rng));
			snprintf(fdn, sizeof(fdn), "%d", M.fd);
			snprintf(shfd, sizeof(shfd), "%d", g_shfd);
			/* The winvm fd survives exec (no O_CLOEXEC on purpose). */
			fcntl(M.fd, F_SETFD, 0);
			execl("/proc/self/exe", O.argv0, FZ_EXEC_CHILD_ARG, seed, fdn, shfd,
			      O.nomem_ok ? "nomem" : "", (char *)NULL);
			_exit(O.nomem_ok ? 0 : 3);
		}
		if (how == 2) {
			execl("/bin/busybox", "busybox", "true", (char *)NULL);
			_exit(0);
		}
		_exit(0);
	}
	rc = fz_wait(pid);
	atomic_fetch_add(&SH->forks, 1);
	if (how == 1 || how == 2)
		atomic_fetch_add(&SH->execs, 1);
	MLOG("fork (%d) -> child %d rc %d", how, pid, rc);
	/* Injected failures can kill an exec past its point of no return. */
	if (rc != 0 && !(O.nomem_ok && (rc == 3 || rc > 128 || how == 1 || how == 2)))
		m_fail("forked child (mode %d) exited with %d", how, rc);
}
