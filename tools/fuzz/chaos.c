// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-fuzz chaos mode: worker processes and their threads, the hang
 * watchdog, the final VirtualQuery walk.
 */
#include "chaos.h"

static void *c_thread(void *arg)
{
	struct cthread *t = arg;
	struct fz_rng rng = { fz_seed_mix(C.seed, 0x7468726561ULL + t->idx * 7919 +
					  (uint64_t)fz_now()) };

	t_rng = &rng;
	t_self = t;
	t_fd = C.fd;
	fz_thread_signals();
	if (pipe2(t_pipe, O_CLOEXEC | O_NONBLOCK))
		t_pipe[0] = t_pipe[1] = -1;
	atomic_store(&t->tid, fz_gettid());
	while (!atomic_load(&SH->stop) && atomic_load(&SH->ops) < O.ops) {
		c_op();
		atomic_fetch_add(&SH->ops, 1);
		atomic_fetch_add(&C.local_ops, 1);
		atomic_store(&t->last, fz_now());
	}
	close(t_pipe[0]);
	close(t_pipe[1]);
	atomic_store(&t->alive, 0);
	return NULL;
}

static void dump_task(pid_t pid, pid_t tid)
{
	static const char *const files[] = { "stack", "wchan", "syscall", "stat" };
	char path[96], buf[4096];
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", pid, tid, files[i]);
		if (fz_read_file(path, buf, sizeof(buf)) >= 0)
			fz_log("# %s:\n%s\n", path, buf);
	}
}

void dump_process(pid_t pid)
{
	char path[64], buf[8192], *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (p = buf; p < buf + n; ) {
			struct { uint64_t ino; int64_t off; unsigned short reclen;
				 unsigned char type; char name[]; } *d = (void *)p;

			if (d->name[0] != '.')
				dump_task(pid, atoi(d->name));
			p += d->reclen;
		}
	}
	close(fd);
}

/* Alone now: a VirtualQuery walk must be seamless and sane. */
static void final_walk(void)
{
	uint64_t addr = 0;
	int n = 0;

	while (addr < FZ_TOP && n++ < 100000) {
		struct winvm_query_args q;
		struct fz_res r;
		const char *why;

		memset(&q, 0, sizeof(q));
		q.address = addr;
		r = fz_call(C.fd, WINVM_IOC_MEM_QUERY, &q);
		if (r.rc || r.status)
			break;
		if ((why = fz_query_problem(addr, &q))) {
			c_fail("final walk at 0x%llx: %s", (unsigned long long)addr, why);
			break;
		}
		addr += q.region_size;
	}
	if (addr < FZ_TOP && !O.nomem_ok)
		c_fail("final walk stopped at 0x%llx", (unsigned long long)addr);
}

/* One worker process: T threads on one address space. */
static FZ_NORETURN void chaos_worker(int slot, uint64_t seed)
{
	int i;
	void *p;

	C.seed = seed;
	C.slot = slot;
	fz_install_signals();
	if (O.failinject) {
		mlockall(MCL_CURRENT);
		fz_write_file("/proc/self/make-it-fail", "1");
	}
	C.fd = fz_open_winvm();
	if (C.fd < 0)
		_exit(O.nomem_ok ? 0 : 3);
	atomic_store(&C.fd2, fz_open_winvm());
	for (i = 0; i < C_SECS; i++)
		atomic_store(&C.secfd[i], -1);
	C.memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	p = mmap(NULL, FZ_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	C.noaccess = p == MAP_FAILED ? NULL : p;
	if (fz_sandbox_init())
		_exit(O.nomem_ok ? 0 : 3);
	C.arena_size = 1ULL << 30;
	C.arena = 0x100000000000ULL + ((uint64_t)slot << 32);
	for (i = 0; i < O.threads; i++) {
		C.t[i].idx = i;
		atomic_store(&C.t[i].last, fz_now());
	}
	while (!atomic_load(&SH->stop) && atomic_load(&SH->ops) < O.ops) {
		double now = fz_now();

		atomic_store(&SH->heartbeat[slot], (uint64_t)now);
		for (i = 0; i < O.threads; i++) {
			struct cthread *t = &C.t[i];

			if (!atomic_load(&t->alive)) {
				if (t->th)
					pthread_join(t->th, NULL);
				t->th = 0;
				atomic_store(&t->alive, 1);
				atomic_store(&t->last, now);
				if (pthread_create(&t->th, NULL, c_thread, t)) {
					t->th = 0;
					atomic_store(&t->alive, 0);
				}
			} else if (now - atomic_load(&t->last) > O.hang_s) {
				c_fail("HANG: thread %d (tid %d) made no progress for %.0f s",
				       i, atomic_load(&t->tid), now - atomic_load(&t->last));
				dump_process(getpid());
				_exit(FZ_EXIT_HANG);
			}
		}
		usleep(20000);
	}
	for (i = 0; i < O.threads; i++) {
		double t0 = fz_now();

		while (C.t[i].th && atomic_load(&C.t[i].alive)) {
			if (fz_now() - t0 > O.hang_s) {
				c_fail("HANG: thread %d (tid %d) did not stop", i,
				       atomic_load(&C.t[i].tid));
				dump_process(getpid());
				_exit(FZ_EXIT_HANG);
			}
			usleep(10000);
		}
		if (C.t[i].th)
			pthread_join(C.t[i].th, NULL);
	}
	final_walk();
	_exit(atomic_load(&C.fails) ? FZ_EXIT_FAIL : 0);
}

int chaos_run(void)
{
	pid_t pids[64] = { 0 };
	double t0 = fz_now(), last_progress = t0;
	uint64_t last_ops = 0, gen = 0;
	int i, procs = O.procs > 64 ? 64 : O.procs, result = FZ_EXIT_PASS, alive;

	for (;;) {
		double now = fz_now();
		bool stopping = atomic_load(&SH->ops) >= O.ops || (O.time && now - t0 > O.time);

		if (stopping)
			atomic_store(&SH->stop, 1);
		alive = 0;
		for (i = 0; i < procs; i++) {
			int st;

			if (pids[i] > 0) {
				pid_t w = waitpid(pids[i], &st, WNOHANG);

				if (w == pids[i]) {
					int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

					if (rc == FZ_EXIT_HANG)
						result = FZ_EXIT_HANG;
					else if (O.nomem_ok && (rc > 128 || rc == 127)) {
						/* A signal frame or an exec the injection broke. */
						fz_log("# worker %d (pid %d) killed by signal %d under fault injection\n",
						       i, pids[i], rc - 128);
					} else if (rc != 0) {
						fz_log("# worker %d (pid %d) ended with %d\n", i, pids[i], rc);
						if (result == FZ_EXIT_PASS)
							result = FZ_EXIT_FAIL;
						if (rc > 128)
							fz_fail(SH, "worker killed by signal %d", rc - 128);
					}
					pids[i] = 0;
				}
			}
			if (pids[i] <= 0 && !stopping && result == FZ_EXIT_PASS) {
				uint64_t seed = fz_seed_mix(O.seed, 1000 * (gen++) + i);
				pid_t pid = fork();

				if (pid == 0)
					chaos_worker(i, seed);
				pids[i] = pid;
			}
			alive += pids[i] > 0;
		}
		if (!alive && (stopping || result != FZ_EXIT_PASS))
			break;
		if (atomic_load(&SH->ops) != last_ops) {
			last_ops = atomic_load(&SH->ops);
			last_progress = now;
		} else if (now - last_progress > O.hang_s + 30) {
			fz_fail(SH, "HANG: no operation finished for %.0f s", now - last_progress);
			for (i = 0; i < procs; i++)
				if (pids[i] > 0)
					dump_process(pids[i]);
			for (i = 0; i < procs; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			result = FZ_EXIT_HANG;
			atomic_store(&SH->stop, 1);
			last_progress = now;
		}
		if (result != FZ_EXIT_PASS)
			atomic_store(&SH->stop, 1);
		usleep(20000);
	}
	return result;
}
