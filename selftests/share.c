// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: sections shared between processes.  Section fds passed
 * by fork() or SCM_RIGHTS map the same memory elsewhere; names live in a
 * namespace per (user namespace, effective uid), or in the global one,
 * where creating needs CAP_SYS_ADMIN; a name lives as long as some process
 * holds a section fd of it.
 * Rule numbers (R<n>) refer to docs/windows-rules.md, section 1.8/1.9.
 *
 * Children report through their exit status (CHILD_CHECK counts failures);
 * exit status 4 from a child means "cannot set this up here" (SKIP).
 */
#include <grp.h>
#include <sched.h>
#include <time.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "winvm_test.h"

#define V32(a)		(*(volatile uint32_t *)PTR(a))
#define NOBODY		WV_NOBODY
#define CHILD_SKIP	4

/* Two pipes between a parent and one child. */
struct chan {
	int up[2];	/* child -> parent */
	int down[2];	/* parent -> child */
};

static int chan_open(struct chan *ch)
{
	/* A write to a dead child's pipe must fail, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	return pipe(ch->up) || pipe(ch->down) ? -1 : 0;
}

/* After fork(): keep only this side's ends. */
static void chan_side(struct chan *ch, bool child)
{
	close(child ? ch->up[0] : ch->up[1]);
	close(child ? ch->down[1] : ch->down[0]);
}

static void chan_put(struct chan *ch, bool child, char c)
{
	if (write(child ? ch->up[1] : ch->down[1], &c, 1) != 1)
		perror("chan_put");
}

/* The next byte from the other side, 0 if it is gone. */
static char chan_get(struct chan *ch, bool child)
{
	char c = 0;

	if (read(child ? ch->down[0] : ch->up[0], &c, 1) != 1)
		return 0;
	return c;
}

static int send_fd(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* In a child: forget the parent's context and open one of our own. */
static int child_ctx(void)
{
	wv_fault.fd = -1;
	return open(WV_DEV, O_RDWR | O_CLOEXEC);
}

/* In a child: map a view, 0 on failure. */
static uint64_t child_map(int ctx, int sfd, uint32_t access)
{
	uint64_t a = 0, s = 0;

	if (wv_map(ctx, sfd, access, &a, 0, &s, 0, 0) != ST_OK)
		return 0;
	return a;
}

/* Drops @cap from the effective, permitted and inheritable sets. */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	d[cap / 32].permitted &= ~(1u << (cap % 32));
	d[cap / 32].inheritable &= ~(1u << (cap % 32));
	if (syscall(SYS_capset, &h, d))
		return -1;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -1;
	return d[cap / 32].effective & (1u << (cap % 32)) ? -1 : 0;
}

/*
 * In a child: a new user namespace, with our own uid mapped to itself, so
 * the kernel uid stays the same and only the namespace differs.
 */
static int enter_userns(void)
{
	int fd, n, euid = (int)geteuid();
	char map[32];

	if (unshare(CLONE_NEWUSER)) {
		perror("unshare(CLONE_NEWUSER)");
		return -1;
	}
	/* Until the map is written, geteuid() says the overflow uid. */
	n = snprintf(map, sizeof(map), "%d %d 1\n", euid, euid);
	fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, map, n) != n) {
		perror("write /proc/self/uid_map");
		close(fd);
		return -1;
	}
	close(fd);
	return geteuid() == (uid_t)euid ? 0 : -1;
}

#define NEED_ROOT() do {							\
	if (geteuid() != 0)							\
		SKIP(return, "needs root (to switch uids and capabilities)");	\
} while (0)

/* Waits for the child; SKIP when it could not set up. */
#define ASSERT_CHILD_OK(pid) do {						\
	int __rc = wv_wait(pid);						\
	if (__rc == CHILD_SKIP)							\
		SKIP(return, "the child could not set up its credentials");	\
	ASSERT_EQ(0, __rc);							\
} while (0)

/*
 * fork(): the inherited section fd maps the same memory in the child, with
 * the child's own context; writes are seen at once both ways.
 */
TEST_F(winvm, fork_inherited_section)
{
	int sfd = wv_must_section(self->fd, 0x2000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	struct chan ch;
	pid_t pid;

	ASSERT_EQ(0, chan_open(&ch));
	V32(v + 0x1000) = 0x1111;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct winvm_section_query_args q;
		int fails = 0, ctx = child_ctx();
		uint64_t cv;

		chan_side(&ch, true);
		CHILD_CHECK(fails, ctx >= 0);
		/* The parent's context is not ours. */
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_INVALID_HANDLE,
					    wv_map_at(self->fd, sfd, MAP_W, 0, 0, 0)));
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_query(ctx, sfd, &q)));
		CHILD_CHECK(fails, q.size == 0x2000 && q.protect == RW);
		cv = child_map(ctx, sfd, MAP_W);
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, V32(cv + 0x1000) == 0x1111);
			V32(cv + 0x1004) = 0x2222;
		}
		chan_put(&ch, true, 'w');
		CHILD_CHECK(fails, chan_get(&ch, true) == 'r');
		if (cv)
			CHILD_CHECK(fails, V32(cv + 0x1008) == 0x3333);
		/* Exit with the view still mapped. */
		_exit(fails);
	}
	chan_side(&ch, false);
	ASSERT_EQ('w', chan_get(&ch, false));
	ASSERT_HEX(0x2222, V32(v + 0x1004));
	V32(v + 0x1008) = 0x3333;
	chan_put(&ch, false, 'r');
	ASSERT_EQ(0, wv_wait(pid));
	ASSERT_HEX(0x2222, V32(v + 0x1004));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x2000, COMMIT, RW, WV_MAPPED);
	ASSERT_HEX(0x2222, V32(wv_must_map(self->fd, sfd, MAP_R, 0, 0) + 0x1004));
}

/* Two processes take turns through one shared page. */
TEST_F(winvm, fork_ping_pong)
{
	int sfd = wv_must_section(self->fd, 0x1000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	volatile uint32_t *p = PTR(v);
	const uint32_t rounds = 200;
	time_t end = time(NULL) + 20;
	uint32_t i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ctx = child_ctx();
		uint64_t cv = ctx < 0 ? 0 : child_map(ctx, sfd, MAP_W);
		volatile uint32_t *c = PTR(cv);

		if (!cv)
			_exit(1);
		for (i = 0; i < rounds; i++) {
			while (__atomic_load_n(c, __ATOMIC_ACQUIRE) != 2 * i + 1)
				if (time(NULL) > end)
					_exit(2);
				else
					sched_yield();
			__atomic_store_n(c, 2 * i + 2, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	for (i = 0; i < rounds; i++) {
		__atomic_store_n(p, 2 * i + 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != 2 * i + 2 && time(NULL) <= end)
			sched_yield();
		ASSERT_EQ(2 * i + 2, *p) TH_LOG("round %u", i);
	}
	ASSERT_EQ(0, wv_wait(pid));
}

/*
 * SCM_RIGHTS: a section fd sent to a process that never had it maps the
 * same memory there; the fd's access travels with it.
 */
TEST_F(winvm, scm_rights_section)
{
	int sv[2], sfd, rwfd, rofd;
	struct chan ch;
	uint64_t v;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, chan_open(&ch));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct winvm_section_query_args q;
		int fails = 0, ctx = child_ctx(), f1, f2;
		uint64_t cv = 0, cr = 0;

		chan_side(&ch, true);
		close(sv[0]);
		CHILD_CHECK(fails, ctx >= 0);
		f1 = recv_fd(sv[1]);
		f2 = recv_fd(sv[1]);
		CHILD_CHECK(fails, f1 >= 0 && f2 >= 0);
		CHILD_CHECK(fails, wv_cloexec(f1));
		/* f1: query + read + write. */
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_query(ctx, f1, &q)));
		CHILD_CHECK(fails, q.size == 0x3000 && q.access == (S_QUERY | S_MAP_R | S_MAP_W));
		cv = child_map(ctx, f1, MAP_W);
		CHILD_CHECK(fails, cv != 0);
		/* f2: read only. */
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED, wv_sec_query(ctx, f2, &q)));
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
					    wv_map_at(ctx, f2, MAP_W, 0, 0, 0)));
		cr = child_map(ctx, f2, MAP_R);
		CHILD_CHECK(fails, cr != 0);
		if (cv && cr) {
			CHILD_CHECK(fails, !strcmp(PTR(cv + 0x2000), "sent over a socket"));
			CHILD_CHECK(fails, !strcmp(PTR(cr + 0x2000), "sent over a socket"));
			strcpy(PTR(cv + 0x10), "and back");
			CHILD_CHECK(fails, !strcmp(PTR(cr + 0x10), "and back"));
		}
		chan_put(&ch, true, 'd');
		_exit(fails);
	}
	chan_side(&ch, false);
	close(sv[1]);
	/* Created after the fork: the child can only have it from the socket. */
	sfd = wv_must_section(self->fd, 0x3000, RW, 0);
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	strcpy(PTR(v + 0x2000), "sent over a socket");
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_QUERY | S_MAP_R | S_MAP_W, &rwfd));
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R, &rofd));
	ASSERT_EQ(0, send_fd(sv[0], rwfd));
	ASSERT_EQ(0, send_fd(sv[0], rofd));
	/* Closing ours right away does not matter: the message holds them. */
	close(rwfd);
	close(rofd);
	close(sfd);
	ASSERT_EQ('d', chan_get(&ch, false));
	ASSERT_STREQ("and back", (char *)PTR(v + 0x10));
	ASSERT_EQ(0, wv_wait(pid));
}

/*
 * Rule R94: a named section created by the parent: the child's create of
 * the same name returns it with OBJECT_NAME_EXISTS; opening works too.
 */
TEST_F(winvm, named_section_in_child)
{
	char name[64];
	int sfd;
	uint64_t v;
	pid_t pid;

	wv_name(name, sizeof(name), "child");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x2000, RW, 0, -1, 0, name, 0, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	strcpy(PTR(v + 0x1000), "parent data");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx = child_ctx(), c1 = -1, c2 = -1;
		uint64_t a, b;

		close(sfd);	/* only the name leads to it now */
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_OBJECT_NAME_EXISTS,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, name, 0, &c1)));
		CHILD_CHECK(fails, wv_existed == 1);
		a = c1 >= 0 ? child_map(ctx, c1, MAP_R) : 0;
		CHILD_CHECK(fails, a != 0);
		if (a)
			CHILD_CHECK(fails, !strcmp(PTR(a + 0x1000), "parent data"));
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_W, 0, &c2)));
		b = c2 >= 0 ? child_map(ctx, c2, MAP_W) : 0;
		CHILD_CHECK(fails, b != 0);
		if (b)
			strcpy(PTR(b + 0x10), "child data");
		_exit(fails);
	}
	ASSERT_EQ(0, wv_wait(pid));
	ASSERT_STREQ("child data", (char *)PTR(v + 0x10));
}

/*
 * Rule R115: the child's FILE_MAP_COPY view of a named section is private;
 * COPY|WRITE is not.
 */
TEST_F(winvm, named_copy_view_in_child)
{
	char name[64];
	int sfd;
	uint64_t v;
	pid_t pid;

	wv_name(name, sizeof(name), "cow");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x2000, RW, 0, -1, 0, name, 0, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx = child_ctx(), c = -1;
		uint64_t cp, cw;

		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_R | MAP_W, 0, &c)));
		cp = c >= 0 ? child_map(ctx, c, MAP_C) : 0;
		cw = c >= 0 ? child_map(ctx, c, MAP_C | MAP_W) : 0;
		CHILD_CHECK(fails, cp && cw);
		if (cp && cw) {
			/* Page 0: written through the copy view, private. */
			V32(cp) = 0xc0;
			/* Page 1: written through COPY|WRITE, shared. */
			V32(cw + 0x1004) = 0xc4;
			CHILD_CHECK(fails, V32(cp) == 0xc0);
			CHILD_CHECK(fails, V32(cw) == 0);
			CHILD_CHECK(fails, V32(cp + 0x1004) == 0xc4);
		}
		_exit(fails);
	}
	ASSERT_EQ(0, wv_wait(pid));
	ASSERT_HEX(0, V32(v));
	ASSERT_HEX(0xc4, V32(v + 0x1004));
}

/* Rule R93 across processes: the name lives while any process holds an fd. */
TEST_F(winvm, name_lifetime_across_processes)
{
	char name[64];
	struct chan ch;
	int sfd, ofd = -1;
	pid_t pid;

	wv_name(name, sizeof(name), "shared-life");
	ASSERT_EQ(0, chan_open(&ch));
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, &sfd));
	V32(wv_must_map(self->fd, sfd, MAP_W, 0, 0)) = 0x77;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx = child_ctx(), c = -1;

		chan_side(&ch, true);
		close(sfd);
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_R, 0, &c)));
		chan_put(&ch, true, 'o');
		CHILD_CHECK(fails, chan_get(&ch, true) == 'x');
		_exit(fails);
	}
	chan_side(&ch, false);
	ASSERT_EQ('o', chan_get(&ch, false));
	close(sfd);
	/* Our fds are gone, the child's keeps the name. */
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_R, 0, &ofd));
	ASSERT_HEX(0x77, V32(wv_must_map(self->fd, ofd, MAP_R, 0, 0)));
	ASSERT_EQ(0, close(ofd));
	chan_put(&ch, false, 'x');
	ASSERT_EQ(0, wv_wait(pid));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
}

/*
 * Another uid does not see our names: its open fails, its create makes a
 * different section.
 */
TEST_F(winvm, other_uid_cannot_see_name)
{
	char name[64];
	int sfd;
	uint64_t v;
	pid_t pid;

	NEED_ROOT();
	wv_name(name, sizeof(name), "uid");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	V32(v) = 0x5a5a;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx, c = -1;
		uint64_t cv;

		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
					    wv_sec_open(ctx, name, MAP_R, 0, NULL)));
		CHILD_CHECK(fails, WV_ST_IS(ST_OK,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, name, 0, &c)));
		CHILD_CHECK(fails, wv_existed == 0);
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, V32(cv) == 0);
			V32(cv) = 0xdead;
		}
		/* Now it exists for this uid. */
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_R, 0, NULL)));
		_exit(fails);
	}
	ASSERT_CHILD_OK(pid);
	ASSERT_HEX(0x5a5a, V32(v));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_EXISTS,
		  wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, NULL));
}

/*
 * Two processes of one other uid share their names; we (root) do not see
 * them while they exist.
 */
TEST_F(winvm, same_other_uid_sees_name)
{
	char name[64];
	struct chan ca;
	pid_t a, b;
	int got;

	NEED_ROOT();
	wv_name(name, sizeof(name), "nobody");
	ASSERT_EQ(0, chan_open(&ca));
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		int fails = 0, ctx, c = -1;
		uint64_t cv;

		chan_side(&ca, true);
		if (wv_drop_to_nobody()) {
			chan_put(&ca, true, 's');
			_exit(CHILD_SKIP);
		}
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(ST_OK,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, name, 0, &c)));
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		CHILD_CHECK(fails, cv != 0);
		if (cv)
			strcpy(PTR(cv), "nobody's data");
		chan_put(&ca, true, fails ? 'f' : 'c');
		CHILD_CHECK(fails, chan_get(&ca, true) == 'x');
		if (cv)
			CHILD_CHECK(fails, !strcmp(PTR(cv + 0x100), "nobody's reply"));
		_exit(fails);
	}
	chan_side(&ca, false);
	got = chan_get(&ca, false);
	if (got == 's') {
		wv_wait(a);
		SKIP(return, "cannot become uid %d here", NOBODY);
	}
	ASSERT_EQ('c', got);
	/* Root's namespace does not have it. */
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, NULL));

	b = fork();
	ASSERT_LE(0, b);
	if (b == 0) {
		int fails = 0, ctx, c = -1;
		uint64_t cv;

		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_R | MAP_W, 0, &c)));
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, !strcmp(PTR(cv), "nobody's data"));
			strcpy(PTR(cv + 0x100), "nobody's reply");
		}
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_OBJECT_NAME_EXISTS,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, name, 0, NULL)));
		_exit(fails);
	}
	ASSERT_CHILD_OK(b);
	chan_put(&ca, false, 'x');
	ASSERT_CHILD_OK(a);
}

/* An fd works whoever holds it: a child that became another uid maps it. */
TEST_F(winvm, fd_works_across_uids)
{
	int sfd = wv_must_section(self->fd, 0x1000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	pid_t pid;

	NEED_ROOT();
	V32(v) = 0x4321;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx;
		uint64_t cv;

		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		cv = child_map(ctx, sfd, MAP_W);
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, V32(cv) == 0x4321);
			V32(cv + 4) = 0x8765;
		}
		_exit(fails);
	}
	ASSERT_CHILD_OK(pid);
	ASSERT_HEX(0x8765, V32(v + 4));
}

/*
 * A user namespace is a namespace of names of its own, even for the same
 * kernel uid: neither side sees the other's names.
 */
TEST_F(winvm, userns_cannot_see_names)
{
	char mine[64], theirs[64];
	struct chan ch;
	int sfd, got;
	uint64_t v;
	pid_t pid;

	wv_name(mine, sizeof(mine), "ns-parent");
	wv_name(theirs, sizeof(theirs), "ns-child");
	ASSERT_EQ(0, chan_open(&ch));
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, mine, 0, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	V32(v) = 0x600d;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx, c = -1, t = -1;
		uint64_t cv;

		chan_side(&ch, true);
		if (enter_userns()) {
			chan_put(&ch, true, 's');
			_exit(CHILD_SKIP);
		}
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
					    wv_sec_open(ctx, mine, MAP_R, 0, NULL)));
		CHILD_CHECK(fails, WV_ST_IS(ST_OK,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, mine, 0, &c)));
		CHILD_CHECK(fails, wv_existed == 0);
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, V32(cv) == 0);
			V32(cv) = 0xbad;
		}
		CHILD_CHECK(fails, WV_ST_IS(ST_OK,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, theirs, 0, &t)));
		/* The inherited fd still maps the parent's section. */
		cv = child_map(ctx, sfd, MAP_R);
		CHILD_CHECK(fails, cv != 0);
		if (cv)
			CHILD_CHECK(fails, V32(cv) == 0x600d);
		chan_put(&ch, true, 'c');
		CHILD_CHECK(fails, chan_get(&ch, true) == 'x');
		_exit(fails);
	}
	chan_side(&ch, false);
	got = chan_get(&ch, false);
	if (got == 's') {
		wv_wait(pid);
		SKIP(return, "cannot create a user namespace here");
	}
	ASSERT_EQ('c', got);
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, theirs, MAP_R, 0, NULL));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_EXISTS,
		  wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, mine, 0, NULL));
	ASSERT_HEX(0x600d, V32(v));
	chan_put(&ch, false, 'x');
	ASSERT_CHILD_OK(pid);
	ASSERT_HEX(0x600d, V32(v));
}

/* Global names are one namespace, apart from the per-user ones. */
TEST_F(winvm, global_namespace_is_separate)
{
	char name[64];
	int g, l, g2, g3;
	uint64_t gv, lv;

	NEED_ROOT();
	wv_name(name, sizeof(name), "global");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name,
				       WINVM_SECTION_GLOBAL, &g));
	ASSERT_HEX(0, wv_existed);
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, &l));
	ASSERT_HEX(0, wv_existed);
	gv = wv_must_map(self->fd, g, MAP_W, 0, 0);
	lv = wv_must_map(self->fd, l, MAP_W, 0, 0);
	V32(gv) = 1;
	V32(lv) = 2;
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_R, WINVM_SECTION_GLOBAL, &g2));
	ASSERT_HEX(1, V32(wv_must_map(self->fd, g2, MAP_R, 0, 0)));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_EXISTS,
		  wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, WINVM_SECTION_GLOBAL, &g3));
	ASSERT_HEX(1, wv_existed);
	ASSERT_HEX(1, V32(wv_must_map(self->fd, g3, MAP_R, 0, 0)));
	/* The global name goes with its last fd too. */
	ASSERT_EQ(0, close(g));
	ASSERT_EQ(0, close(g2));
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_R, WINVM_SECTION_GLOBAL, &g));
	ASSERT_EQ(0, close(g3));
	ASSERT_EQ(0, close(g));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  wv_sec_open(self->fd, name, MAP_R, WINVM_SECTION_GLOBAL, NULL));
	ASSERT_HEX(2, V32(lv));
}

/*
 * Without CAP_SYS_ADMIN a global name cannot be created
 * (STATUS_PRIVILEGE_NOT_HELD), but one that exists can be opened.
 */
TEST_F(winvm, global_create_needs_cap_sys_admin)
{
	char name[64], other[64];
	int sfd;
	uint64_t v;
	pid_t pid;

	NEED_ROOT();
	wv_name(name, sizeof(name), "global-cap");
	wv_name(other, sizeof(other), "global-cap2");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name,
				       WINVM_SECTION_GLOBAL, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	V32(v) = 0x6106a1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx, c = -1;
		uint64_t cv;

		if (drop_cap(CAP_SYS_ADMIN))
			_exit(CHILD_SKIP);
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_PRIVILEGE_NOT_HELD,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, other,
							  WINVM_SECTION_GLOBAL, &c)));
		CHILD_CHECK(fails, c == -1);
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_R | MAP_W,
							       WINVM_SECTION_GLOBAL, &c)));
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, V32(cv) == 0x6106a1);
			V32(cv + 4) = 0xcafe;
		}
		/* Local names need no privilege. */
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_create(ctx, 0x1000, RW, 0, -1, 0,
								 other, 0, NULL)));
		_exit(fails);
	}
	ASSERT_CHILD_OK(pid);
	ASSERT_HEX(0xcafe, V32(v + 4));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  wv_sec_open(self->fd, other, MAP_R, WINVM_SECTION_GLOBAL, NULL));
}

/* Create a Global name whose security descriptor gives others @world. */
static int global_with_world(int fd, const char *name, uint32_t world)
{
	struct winvm_section_create_args a = {
		.size = 0x1000, .name = U64(name), .name_len = strlen(name),
		.file_fd = -1, .protect = RW, .flags = WINVM_SECTION_GLOBAL,
		.world_access = world,
	};

	return wv_sec_create_raw(fd, &a) == ST_OK ? a.fd : -1;
}

/*
 * Another uid: it cannot create a global name, and it may open one only
 * with the rights the name's creator gave everybody (none by default).
 */
TEST_F(winvm, global_name_across_uids)
{
	char name[64], other[64], priv[64];
	int sfd, pfd;
	uint64_t v;
	pid_t pid;

	NEED_ROOT();
	wv_name(name, sizeof(name), "global-uid");
	wv_name(other, sizeof(other), "global-uid2");
	wv_name(priv, sizeof(priv), "global-uid3");
	sfd = global_with_world(self->fd, name, WINVM_SECTION_MAP_READ | WINVM_SECTION_MAP_WRITE);
	ASSERT_LE(0, sfd);
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, priv,
				       WINVM_SECTION_GLOBAL, &pfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	V32(v) = 0x1234;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx, c = -1;
		uint64_t cv;

		if (wv_drop_to_nobody())
			_exit(CHILD_SKIP);
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_PRIVILEGE_NOT_HELD,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, other,
							  WINVM_SECTION_GLOBAL, NULL)));
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
					    wv_sec_open(ctx, name, MAP_R, 0, NULL)));
		/* Root's default descriptor: nothing for other users. */
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
					    wv_sec_open(ctx, priv, MAP_R, WINVM_SECTION_GLOBAL, NULL)));
		CHILD_CHECK(fails, wv_errno == EACCES);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, priv,
							  WINVM_SECTION_GLOBAL, NULL)));
		/* Granted read and write, but not query. */
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_ACCESS_DENIED,
					    wv_sec_open(ctx, name, WINVM_SECTION_QUERY,
							WINVM_SECTION_GLOBAL, NULL)));
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_W,
							       WINVM_SECTION_GLOBAL, &c)));
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, V32(cv) == 0x1234);
			V32(cv + 8) = 0x5678;
		}
		_exit(fails);
	}
	ASSERT_CHILD_OK(pid);
	ASSERT_HEX(0x5678, V32(v + 8));
}

/*
 * From a user namespace: global names are visible, but creating one needs
 * CAP_SYS_ADMIN in the initial namespace, which a new namespace's full
 * capability set does not give.
 */
TEST_F(winvm, global_name_from_userns)
{
	char name[64], other[64], priv[64];
	int sfd, pfd;
	uint64_t v;
	pid_t pid;

	NEED_ROOT();
	wv_name(name, sizeof(name), "global-ns");
	wv_name(other, sizeof(other), "global-ns2");
	wv_name(priv, sizeof(priv), "global-ns3");
	sfd = global_with_world(self->fd, name, WINVM_SECTION_MAP_WRITE);
	ASSERT_LE(0, sfd);
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, priv,
				       WINVM_SECTION_GLOBAL, &pfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	V32(v) = 0xabc;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx, c = -1;
		uint64_t cv;

		if (enter_userns())
			_exit(CHILD_SKIP);
		ctx = child_ctx();
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(WINVM_STATUS_PRIVILEGE_NOT_HELD,
					    wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, other,
							  WINVM_SECTION_GLOBAL, NULL)));
		/* The same kernel uid: the creator, whatever the namespace. */
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, priv, MAP_R,
							       WINVM_SECTION_GLOBAL, NULL)));
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_open(ctx, name, MAP_W,
							       WINVM_SECTION_GLOBAL, &c)));
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		CHILD_CHECK(fails, cv != 0);
		if (cv) {
			CHILD_CHECK(fails, V32(cv) == 0xabc);
			V32(cv + 4) = 0xdef;
		}
		_exit(fails);
	}
	ASSERT_CHILD_OK(pid);
	ASSERT_HEX(0xdef, V32(v + 4));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  wv_sec_open(self->fd, other, MAP_R, WINVM_SECTION_GLOBAL, NULL));
}

/* A global name created by a child goes away when the child exits. */
TEST_F(winvm, global_name_dies_with_creator)
{
	char name[64];
	struct chan ch;
	int g = -1;
	pid_t pid;

	NEED_ROOT();
	wv_name(name, sizeof(name), "global-child");
	ASSERT_EQ(0, chan_open(&ch));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fails = 0, ctx = child_ctx(), c = -1;
		uint64_t cv;

		chan_side(&ch, true);
		CHILD_CHECK(fails, ctx >= 0);
		CHILD_CHECK(fails, WV_ST_IS(ST_OK, wv_sec_create(ctx, 0x1000, RW, 0, -1, 0, name,
								 WINVM_SECTION_GLOBAL, &c)));
		cv = c >= 0 ? child_map(ctx, c, MAP_W) : 0;
		if (cv)
			V32(cv) = 0x99;
		chan_put(&ch, true, 'c');
		CHILD_CHECK(fails, chan_get(&ch, true) == 'x');
		_exit(fails);
	}
	chan_side(&ch, false);
	ASSERT_EQ('c', chan_get(&ch, false));
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_R, WINVM_SECTION_GLOBAL, &g));
	ASSERT_HEX(0x99, V32(wv_must_map(self->fd, g, MAP_R, 0, 0)));
	ASSERT_EQ(0, close(g));
	chan_put(&ch, false, 'x');
	ASSERT_EQ(0, wv_wait(pid));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  wv_sec_open(self->fd, name, MAP_R, WINVM_SECTION_GLOBAL, NULL));
}

TEST_HARNESS_MAIN
