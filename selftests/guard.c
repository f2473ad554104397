// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: guard pages, access violations and WINVM_IOC_FAULT_INFO
 * (the signal protocol described in <linux/winvm.h>), up to the Windows
 * thread-stack pattern.
 * Rule numbers (R<n>) refer to docs/windows-rules.md, section 1.6.
 */
#include <pthread.h>
#include <ucontext.h>

#include "winvm_test.h"

/* Checks the record read by the handler for the last fault. */
static void check_record(struct __test_metadata *_metadata, uint64_t addr,
			 uint32_t status, uint32_t access)
{
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	ASSERT_HEX(addr, wv_fault.addr);
	ASSERT_EQ(0, wv_fault.fi_err) TH_LOG("FAULT_INFO in the handler: %s",
					     strerror(wv_fault.fi_err));
	ASSERT_HEX(addr, wv_fault.fi.address);
	ASSERT_HEX(status, wv_fault.fi.fault_status);
	ASSERT_HEX(access, wv_fault.fi.access);
	ASSERT_HEX(ST_OK, wv_fault.fi.status);
}

/* Rule R69. */
TEST_F(winvm, guard_allocation_query)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW | GUARD);

	ASSERT_VQ(self->fd, a, a, a, RW | GUARD, WV_PAGE, COMMIT, RW | GUARD, WINVM_MEM_PRIVATE);
}

/* Rule R76: committing committed pages with GUARD arms them. */
TEST_F(winvm, guard_by_recommit)
{
	uint64_t a = wv_must_alloc(self->fd, 0, 3 * WV_PAGE, RESERVE | COMMIT, RW);
	uint32_t old;
	uint64_t b = a + 2 * WV_PAGE, s = WV_PAGE;

	*(volatile int *)PTR(b) = 17;
	ASSERT_OK(wv_alloc_at(self->fd, b, WV_PAGE, COMMIT, RW | GUARD));
	ASSERT_VQ(self->fd, a, a, a, RW, 2 * WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, b, b, a, RW, WV_PAGE, COMMIT, RW | GUARD, WINVM_MEM_PRIVATE);
	ASSERT_OK(wv_protect(self->fd, &b, &s, RW, &old));
	ASSERT_HEX(RW | GUARD, old);
	ASSERT_EQ(17, *(volatile int *)PTR(b));
}

/* Reserved pages: STATUS_ACCESS_VIOLATION with the access type. */
TEST_F(winvm, reserved_access_violation)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_GRAN, RESERVE, RW);

	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0x3333), NULL));
	ASSERT_EQ(1, wv_fault.count);
	check_record(_metadata, a + 0x3333, WINVM_STATUS_ACCESS_VIOLATION,
		     WINVM_EXCEPTION_READ_FAULT);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(a + 0x4444), 1));
	ASSERT_EQ(1, wv_fault.count);
	check_record(_metadata, a + 0x4444, WINVM_STATUS_ACCESS_VIOLATION,
		     WINVM_EXCEPTION_WRITE_FAULT);
	/* Executing from it is an access violation too. */
	wv_fault_reset();
	ASSERT_FALSE(wv_try_call(PTR(a + 0x5000), NULL));
	check_record(_metadata, a + 0x5000, WINVM_STATUS_ACCESS_VIOLATION,
		     WINVM_EXCEPTION_EXECUTE_FAULT);
	ASSERT_VQ(self->fd, a, a, a, RW, WV_GRAN, RESERVE, 0, WINVM_MEM_PRIVATE);
}

/* Reading the record consumes it. */
TEST_F(winvm, fault_info_is_consumed)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW | GUARD);
	struct winvm_fault_info_args fi;

	/* The handler leaves the record alone and jumps back. */
	wv_fault.fd = -1;
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0x99), NULL));
	ASSERT_EQ(1, wv_fault.count);
	ASSERT_OK(wv_fault_info(self->fd, &fi));
	ASSERT_HEX(a + 0x99, fi.address);
	ASSERT_HEX(WINVM_STATUS_GUARD_PAGE_VIOLATION, fi.fault_status);
	ASSERT_HEX(WINVM_EXCEPTION_READ_FAULT, fi.access);
	wv_fault_info(self->fd, &fi);
	ASSERT_EQ(ENOENT, wv_errno);
	/* The guard went with the first access, record read or not. */
	ASSERT_VQ(self->fd, a, a, a, RW | GUARD, WV_PAGE, COMMIT, RW, WINVM_MEM_PRIVATE);
}

/* Records are per thread. */
struct thread_probe {
	uint64_t addr;
	bool completed;
};

static void *guard_in_thread(void *arg)
{
	struct thread_probe *tp = arg;

	wv_altstack();
	tp->completed = wv_try_read(PTR(tp->addr), NULL);
	return NULL;
}

TEST_F(winvm, fault_info_is_per_thread)
{
	uint64_t a = wv_must_alloc(self->fd, 0, WV_PAGE, RESERVE | COMMIT, RW | GUARD);
	struct thread_probe tp = { .addr = a + 0x700 };
	struct winvm_fault_info_args fi;
	pthread_t t;

	wv_fault_reset();
	ASSERT_EQ(0, pthread_create(&t, NULL, guard_in_thread, &tp));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_TRUE(tp.completed);
	ASSERT_EQ(1, wv_fault.count);
	check_record(_metadata, a + 0x700, WINVM_STATUS_GUARD_PAGE_VIOLATION,
		     WINVM_EXCEPTION_READ_FAULT);
	wv_fault_info(self->fd, &fi);
	ASSERT_EQ(ENOENT, wv_errno);
}

/*
 * The Windows stack pattern: a 1 MiB reservation with the top two pages
 * committed and a guard page below; each guard hit commits the next page
 * down as the new guard (what the NT fault handler does for thread stacks,
 * rule R77, here done by the SIGSEGV handler).
 */
static struct {
	uint64_t base;		/* allocation base: no guard below this */
	int fd;
	int hits;
	int errors;
	uint64_t hit_addr[512];
} stack;

static bool grow_stack(const siginfo_t *si)
{
	uint64_t page = U64(si->si_addr) & ~(WV_PAGE - 1);

	if (wv_fault.fi_err || wv_fault.fi.fault_status != WINVM_STATUS_GUARD_PAGE_VIOLATION)
		return false;
	if (stack.hits < (int)ARRAY_SIZE(stack.hit_addr))
		stack.hit_addr[stack.hits] = U64(si->si_addr);
	stack.hits++;
	if (page - WV_PAGE >= stack.base &&
	    wv_alloc_at(stack.fd, page - WV_PAGE, WV_PAGE, COMMIT, RW | GUARD) != ST_OK)
		stack.errors++;
	return true;
}

#define STACK_SIZE	0x100000ULL
#define STACK_PAGES	200

TEST_F(winvm, stack_guard_growth)
{
	uint64_t a = wv_must_alloc(self->fd, 0, STACK_SIZE, RESERVE, RW);
	uint64_t top = a + STACK_SIZE, low, guard;
	struct winvm_query_args q;
	int i;

	ASSERT_OK(wv_alloc_at(self->fd, top - 2 * WV_PAGE, 2 * WV_PAGE, COMMIT, RW));
	ASSERT_OK(wv_alloc_at(self->fd, top - 3 * WV_PAGE, WV_PAGE, COMMIT, RW | GUARD));
	stack.base = a;
	stack.fd = self->fd;
	wv_fault.hook = grow_stack;
	wv_fault_reset();

	/* Touch pages downward, each near its top, like a growing stack. */
	for (i = 0; i < 2 + STACK_PAGES; i++) {
		uint64_t p = top - (uint64_t)(i + 1) * WV_PAGE + 0xff8;

		ASSERT_TRUE(wv_try_write(PTR(p), (uint8_t)i)) TH_LOG("page %d", i);
	}
	wv_fault.hook = NULL;
	ASSERT_EQ(0, stack.errors);
	ASSERT_EQ(STACK_PAGES, stack.hits);
	ASSERT_EQ(STACK_PAGES, wv_fault.count);
	for (i = 0; i < STACK_PAGES; i++)
		ASSERT_HEX(top - (uint64_t)(i + 3) * WV_PAGE + 0xff8, stack.hit_addr[i]);
	for (i = 0; i < 2 + STACK_PAGES; i++)
		ASSERT_EQ((uint8_t)i, *(volatile uint8_t *)PTR(top - (uint64_t)(i + 1) * WV_PAGE + 0xff8));

	low = top - (2 + STACK_PAGES) * WV_PAGE;
	guard = low - WV_PAGE;
	ASSERT_VQ(self->fd, low, low, a, RW, top - low, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, guard, guard, a, RW, WV_PAGE, COMMIT, RW | GUARD, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, a, a, a, RW, guard - a, RESERVE, 0, WINVM_MEM_PRIVATE);
	ASSERT_QUERY(self->fd, a, &q);
	ASSERT_HEX(top - guard, q.commit_size);
}

/*
 * The same with a real stack: a ucontext running recursive code on a winvm
 * "thread stack".  The signal frame must go to the alternate stack (the
 * fixture installs one): the page below the stack pointer is the guard.
 */
static ucontext_t main_ctx, stack_ctx;
static volatile long recursion_result;

/*
 * Each frame hands its buffer to the callee, which writes into it: the
 * frames must all be live at once, so the compiler cannot turn the
 * recursion into a loop.  Returns 2 per level plus 1.
 */
static __attribute__((noinline)) long recurse(int depth, volatile char *parent)
{
	volatile char frame[700];
	long r;

	frame[0] = (char)depth;
	frame[1] = 0;
	frame[sizeof(frame) - 1] = (char)depth;
	if (parent)
		parent[1] = 1;
	r = depth ? recurse(depth - 1, frame) : 0;
	return r + frame[1] + (frame[0] == frame[sizeof(frame) - 1]);
}

static void run_on_winvm_stack(void)
{
	recursion_result = recurse(400, NULL);
}

TEST_F(winvm, stack_guard_growth_real_recursion)
{
	uint64_t a = wv_must_alloc(self->fd, 0, STACK_SIZE, RESERVE, RW);
	uint64_t top = a + STACK_SIZE, lowest;
	int i;

	ASSERT_OK(wv_alloc_at(self->fd, top - 2 * WV_PAGE, 2 * WV_PAGE, COMMIT, RW));
	ASSERT_OK(wv_alloc_at(self->fd, top - 3 * WV_PAGE, WV_PAGE, COMMIT, RW | GUARD));
	stack.base = a;
	stack.fd = self->fd;
	stack.hits = 0;
	stack.errors = 0;

	ASSERT_EQ(0, getcontext(&stack_ctx));
	stack_ctx.uc_stack.ss_sp = PTR(a);
	stack_ctx.uc_stack.ss_size = STACK_SIZE;
	stack_ctx.uc_link = &main_ctx;
	makecontext(&stack_ctx, run_on_winvm_stack, 0);
	wv_fault.hook = grow_stack;
	wv_fault_reset();
	recursion_result = -1;
	ASSERT_EQ(0, swapcontext(&main_ctx, &stack_ctx));
	wv_fault.hook = NULL;

	ASSERT_EQ(801, recursion_result);
	ASSERT_EQ(0, stack.errors);
	TH_LOG("400 frames used %d guard pages", stack.hits);
	ASSERT_LE(40, stack.hits);
	ASSERT_EQ(stack.hits, wv_fault.count);
	/* One hit per page, walking down one page at a time. */
	for (i = 0; i < stack.hits && i < (int)ARRAY_SIZE(stack.hit_addr); i++)
		ASSERT_HEX(top - (uint64_t)(i + 3) * WV_PAGE,
			   stack.hit_addr[i] & ~(WV_PAGE - 1));
	lowest = top - (uint64_t)(stack.hits + 2) * WV_PAGE;
	ASSERT_VQ(self->fd, lowest, lowest, a, RW, top - lowest, COMMIT, RW, WINVM_MEM_PRIVATE);
	ASSERT_VQ(self->fd, lowest - WV_PAGE, lowest - WV_PAGE, a, RW, WV_PAGE, COMMIT,
		  RW | GUARD, WINVM_MEM_PRIVATE);
}

/*
 * The cases below run on every memory kind (WV_KIND_FIXTURE): private
 * memory and views of pagefile, tmpfs-file and ext4-file sections, and
 * write-copy views, whose guard pages report WRITECOPY|GUARD until written.
 */
WV_KIND_FIXTURE()

/*
 * Rule R71: the first access, even a read, raises exactly one guard-page
 * exception at the exact address; the guard is gone by the time the
 * handler runs, and the access then completes.  A read leaves a write-copy
 * page WRITECOPY; the first write makes it READWRITE (rule R114).
 */
TEST_F(kind, guard_read_is_one_shot)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint8_t v = 0xff;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, w | GUARD);
	a = r.base;
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, w | GUARD, r.type);
	wv_fault.query = true;
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 0x123), &v));
	ASSERT_EQ(1, wv_fault.count);
	ASSERT_EQ(0, v);
	check_record(_metadata, a + 0x123, WINVM_STATUS_GUARD_PAGE_VIOLATION,
		     WINVM_EXCEPTION_READ_FAULT);
	/* Inside the handler the page already had its plain protection. */
	ASSERT_HEX(ST_OK, wv_fault.q_status);
	ASSERT_HEX(a, wv_fault.q.base_address);
	ASSERT_HEX(w, wv_fault.q.protect);
	ASSERT_HEX(r.aprot, wv_fault.q.allocation_protect);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, w, r.type);
	/* No second exception. */
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 0x456), NULL));
	ASSERT_TRUE(wv_try_write(PTR(a + 0x456), 1));
	ASSERT_EQ(0, wv_fault.count);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, RW, r.type);
}

/* A write hits the guard once; the re-executed write lands. */
TEST_F(kind, guard_write_is_one_shot)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, 2 * WV_PAGE, w | GUARD);
	a = r.base;
	wv_fault_reset();
	ASSERT_TRUE(wv_try_write(PTR(a + WV_PAGE + 0x801), 0x5c));
	ASSERT_EQ(1, wv_fault.count);
	check_record(_metadata, a + WV_PAGE + 0x801, WINVM_STATUS_GUARD_PAGE_VIOLATION,
		     WINVM_EXCEPTION_WRITE_FAULT);
	ASSERT_EQ(0x5c, *(volatile uint8_t *)PTR(a + WV_PAGE + 0x801));
	/* Only the touched page lost its guard; written, it is READWRITE. */
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, w | GUARD, r.type);
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, r.aprot, WV_PAGE, COMMIT, RW, r.type);
}

/* Rule R75: executing on an EXECUTE_READ|GUARD page. */
TEST_F(kind, guard_execute_is_one_shot)
{
	struct wv_region r;
	uint32_t old = 0;
	uint64_t a;
	int ret = 0;

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, wv_kind_wprot(variant->kind));
	SKIP_UNLESS_ALLOWS(r, EXR | GUARD);
	a = r.base;
	memcpy(PTR(a + 0x40), wv_ret42, sizeof(wv_ret42));
	ASSERT_OK(wv_protect(self->fd, &a, &(uint64_t){ WV_PAGE }, EXR | GUARD, &old));
	ASSERT_HEX(RW, old);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_call(PTR(a + 0x40), &ret));
	ASSERT_EQ(42, ret);
	ASSERT_EQ(1, wv_fault.count);
	check_record(_metadata, a + 0x40, WINVM_STATUS_GUARD_PAGE_VIOLATION,
		     WINVM_EXCEPTION_EXECUTE_FAULT);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, EXR, r.type);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_call(PTR(a + 0x40), &ret));
	ASSERT_EQ(0, wv_fault.count);
}

/* Rules R70 and R72: re-arming the guard and removing it by protection. */
TEST_F(kind, guard_rearm_and_remove)
{
	uint32_t w = wv_kind_wprot(variant->kind);
	struct wv_region r;
	uint64_t a, b, s;
	uint32_t old;

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, w | GUARD);
	a = r.base;
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a), NULL));
	ASSERT_EQ(1, wv_fault.count);

	b = a;
	s = WV_PAGE;
	ASSERT_OK(wv_protect(self->fd, &b, &s, w | GUARD, &old));
	ASSERT_HEX(w, old);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 8), NULL));
	ASSERT_EQ(1, wv_fault.count);
	check_record(_metadata, a + 8, WINVM_STATUS_GUARD_PAGE_VIOLATION,
		     WINVM_EXCEPTION_READ_FAULT);

	ASSERT_OK(wv_protect(self->fd, &b, &s, w | GUARD, &old));
	ASSERT_HEX(w, old);
	ASSERT_OK(wv_protect(self->fd, &b, &s, w, &old));
	ASSERT_HEX(w | GUARD, old);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 16), NULL));
	ASSERT_EQ(0, wv_fault.count);
}

/* Each page of a guarded range is its own one-shot guard. */
TEST_F(kind, guard_pages_are_independent)
{
	struct wv_region r;
	uint64_t a;
	int i;

	ASSERT_REGION(r, self->fd, variant->kind, 4 * WV_PAGE, RO | GUARD);
	a = r.base;
	for (i = 3; i >= 0; i -= 2) {
		wv_fault_reset();
		ASSERT_TRUE(wv_try_read(PTR(a + i * WV_PAGE + 4), NULL));
		ASSERT_EQ(1, wv_fault.count);
		ASSERT_HEX(a + i * WV_PAGE + 4, wv_fault.fi.address);
	}
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, RO | GUARD, r.type);
	ASSERT_VQ(self->fd, a + WV_PAGE, a + WV_PAGE, a, r.aprot, WV_PAGE, COMMIT, RO, r.type);
	ASSERT_VQ(self->fd, a + 2 * WV_PAGE, a + 2 * WV_PAGE, a, r.aprot, WV_PAGE, COMMIT,
		  RO | GUARD, r.type);
	ASSERT_VQ(self->fd, a + 3 * WV_PAGE, a + 3 * WV_PAGE, a, r.aprot, WV_PAGE, COMMIT, RO,
		  r.type);
}

/* A READONLY guard page: the guard goes, the protection stays. */
TEST_F(kind, guard_then_readonly_violation)
{
	struct wv_region r;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, RO | GUARD);
	a = r.base;
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(a + 0x10), 1));
	/* First the guard (the handler returns), then the write to RO. */
	ASSERT_EQ(2, wv_fault.count);
	check_record(_metadata, a + 0x10, WINVM_STATUS_ACCESS_VIOLATION,
		     WINVM_EXCEPTION_WRITE_FAULT);
	ASSERT_VQ(self->fd, a, a, a, r.aprot, WV_PAGE, COMMIT, RO, r.type);
	wv_fault_reset();
	ASSERT_TRUE(wv_try_read(PTR(a + 0x10), NULL));
	ASSERT_EQ(0, wv_fault.count);
}

/* Committed NOACCESS pages: STATUS_ACCESS_VIOLATION with the access type. */
TEST_F(kind, noaccess_access_violation)
{
	struct wv_region r;
	uint64_t a;

	ASSERT_REGION(r, self->fd, variant->kind, WV_PAGE, NOACCESS);
	a = r.base;
	wv_fault_reset();
	ASSERT_FALSE(wv_try_read(PTR(a + 0x10), NULL));
	check_record(_metadata, a + 0x10, WINVM_STATUS_ACCESS_VIOLATION,
		     WINVM_EXCEPTION_READ_FAULT);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(a + 0x20), 1));
	check_record(_metadata, a + 0x20, WINVM_STATUS_ACCESS_VIOLATION,
		     WINVM_EXCEPTION_WRITE_FAULT);
}

TEST_HARNESS_MAIN
