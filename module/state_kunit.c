// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the page-state type (state.c): runs stay maximal, the
 * counts follow every change, copies and snapshots round-trip, and the
 * budget refuses growth but never shrinking.
 */

#include <kunit/test.h>

#include "state.h"

#define RW	(WINVM_PS_COMMIT | 0x04)
#define RO	(WINVM_PS_COMMIT | 0x02)

struct ps_fixture {
	struct mutex lock;		/* the tree's external lock */
	struct winvm_budget budget;
	struct winvm_pstate ps;
};

/*
 * Each case runs start to end under the tree's lock in its own thread (so
 * the cases use EXPECT, never ASSERT, which would leave with the lock held).
 */
static struct ps_fixture *ps_begin(struct kunit *test)
{
	struct ps_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	mutex_init(&f->lock);
	winvm_ps_init(&f->ps, &f->lock, &f->budget);
	test->priv = f;
	mutex_lock(&f->lock);
	return f;
}

/* Unlock, free the tree: every run must have gone back to the budget. */
static void ps_end(struct kunit *test, struct ps_fixture *f)
{
	mutex_unlock(&f->lock);
	winvm_ps_destroy(&f->ps);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->budget.used), 0);
}

static struct winvm_pstate *ps_of(struct kunit *test)
{
	return &((struct ps_fixture *)test->priv)->ps;
}

/* State, first and last page of the run holding @idx. */
static void expect_run(struct kunit *test, pgoff_t idx, u32 st, pgoff_t first, pgoff_t last)
{
	pgoff_t f, l;

	KUNIT_EXPECT_EQ(test, winvm_ps_run(ps_of(test), idx, &f, &l), st);
	KUNIT_EXPECT_EQ(test, f, first);
	KUNIT_EXPECT_EQ(test, l, last);
}

static void ps_test_merge(struct kunit *test)
{
	struct ps_fixture *f = ps_begin(test);
	struct winvm_pstate *ps = &f->ps;

	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 10, 19, RW), 0);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 20, 29, RW), 0);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 0, 9, RW), 0);
	expect_run(test, 15, RW, 0, 29);
	KUNIT_EXPECT_EQ(test, ps->runs, 1);
	/* A hole in the middle splits the run, filling it merges again. */
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 12, 13, 0), 0);
	KUNIT_EXPECT_EQ(test, ps->runs, 2);
	expect_run(test, 12, 0, 12, 13);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 12, 13, RW), 0);
	KUNIT_EXPECT_EQ(test, ps->runs, 1);
	expect_run(test, 0, RW, 0, 29);
	ps_end(test, f);
}

static void ps_test_count(struct kunit *test)
{
	struct ps_fixture *f = ps_begin(test);
	struct winvm_pstate *ps = &f->ps;

	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 0, 99, RW), 0);
	KUNIT_EXPECT_EQ(test, ps->committed, 100);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 10, 19, RO), 0);
	KUNIT_EXPECT_EQ(test, ps->committed, 100);
	KUNIT_EXPECT_EQ(test, ps->runs, 3);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 5, 14, 0), 0);
	KUNIT_EXPECT_EQ(test, ps->committed, 90);
	KUNIT_EXPECT_EQ(test, ps->runs, 3);
	/* A state without the commit bit is counted as a run, not as committed. */
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 200, 209, 0x04), 0);
	KUNIT_EXPECT_EQ(test, ps->committed, 90);
	KUNIT_EXPECT_EQ(test, ps->runs, 4);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->budget.used), 4);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 0, 1000, 0), 0);
	KUNIT_EXPECT_EQ(test, ps->committed, 0);
	KUNIT_EXPECT_EQ(test, ps->runs, 0);
	ps_end(test, f);
}

static void ps_test_span(struct kunit *test)
{
	struct ps_fixture *f = ps_begin(test);
	struct winvm_pstate *ps = &f->ps;
	pgoff_t next;

	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 4, 7, RO), 0);
	KUNIT_EXPECT_EQ(test, winvm_ps_span(ps, 0, 100, &next), 0);
	KUNIT_EXPECT_EQ(test, next, 4);
	KUNIT_EXPECT_EQ(test, winvm_ps_span(ps, 5, 100, &next), RO);
	KUNIT_EXPECT_EQ(test, next, 8);
	/* The limit cuts the span short. */
	KUNIT_EXPECT_EQ(test, winvm_ps_span(ps, 5, 6, &next), RO);
	KUNIT_EXPECT_EQ(test, next, 6);
	KUNIT_EXPECT_EQ(test, winvm_ps_span(ps, 8, 100, &next), 0);
	KUNIT_EXPECT_EQ(test, next, 100);
	ps_end(test, f);
}

static void ps_test_copy(struct kunit *test)
{
	struct ps_fixture *f = ps_begin(test);
	struct winvm_pstate *ps = &f->ps;
	struct winvm_pstate tail;
	struct mutex lock;		/* tail's */
	pgoff_t next;

	mutex_init(&lock);
	winvm_ps_init(&tail, &lock, &f->budget);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 0, 9, RW), 0);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 10, 19, RO), 0);
	mutex_lock(&lock);
	KUNIT_EXPECT_EQ(test, winvm_ps_copy(&tail, ps, 5, 15), 0);
	KUNIT_EXPECT_EQ(test, winvm_ps_span(&tail, 0, 100, &next), 0);
	KUNIT_EXPECT_EQ(test, next, 5);
	KUNIT_EXPECT_EQ(test, winvm_ps_span(&tail, 5, 100, &next), RW);
	KUNIT_EXPECT_EQ(test, next, 10);
	KUNIT_EXPECT_EQ(test, winvm_ps_span(&tail, 10, 100, &next), RO);
	KUNIT_EXPECT_EQ(test, next, 15);
	KUNIT_EXPECT_EQ(test, tail.committed, 10);
	KUNIT_EXPECT_EQ(test, tail.runs, 2);
	mutex_unlock(&lock);
	/* Both trees' runs are charged to the one budget, and given back. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->budget.used), 4);
	winvm_ps_destroy(&tail);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->budget.used), 2);
	ps_end(test, f);
}

static void ps_test_snapshot(struct kunit *test)
{
	struct ps_fixture *f = ps_begin(test);
	struct winvm_pstate *ps = &f->ps;
	struct winvm_ps_snap *snap;

	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 0, 3, RW), 0);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 8, 11, RO), 0);
	snap = winvm_ps_save(ps, 2, 10);
	KUNIT_EXPECT_NOT_NULL(test, snap);
	if (!snap) {
		ps_end(test, f);
		return;
	}
	KUNIT_EXPECT_EQ(test, snap->n, 3);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 0, 20, RO), 0);
	KUNIT_EXPECT_EQ(test, ps->runs, 1);
	winvm_ps_restore(ps, snap);
	winvm_ps_snap_free(snap);
	/* Inside the range as before; outside it what the change left. */
	expect_run(test, 0, RO, 0, 1);
	expect_run(test, 2, RW, 2, 3);
	expect_run(test, 5, 0, 4, 7);
	expect_run(test, 9, RO, 8, 20);
	KUNIT_EXPECT_EQ(test, ps->committed, 2 + 2 + 13);
	KUNIT_EXPECT_EQ(test, ps->runs, 3);
	ps_end(test, f);
}

static void ps_test_budget(struct kunit *test)
{
	struct ps_fixture *f = ps_begin(test);
	struct winvm_pstate *ps = &f->ps;
	pgoff_t i;

	f->budget.limit = 3;
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 2 * i, 2 * i, RW), 0);
	/* A fourth run is refused and changes nothing... */
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 10, 10, RW), -ENOMEM);
	KUNIT_EXPECT_EQ(test, ps->runs, 3);
	expect_run(test, 10, 0, 5, ULONG_MAX);
	/* ...but a change that merges runs needs no budget... */
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 1, 1, RW), 0);
	KUNIT_EXPECT_EQ(test, ps->runs, 2);
	/* ...and the fault path may always go past it. */
	KUNIT_EXPECT_EQ(test, winvm_ps_set_nocap(ps, 20, 20, RO), 0);
	KUNIT_EXPECT_EQ(test, winvm_ps_set_nocap(ps, 30, 30, RO), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->budget.used), 4);
	KUNIT_EXPECT_EQ(test, winvm_ps_set(ps, 40, 40, RO), -ENOMEM);
	ps_end(test, f);
}

static struct kunit_case winvm_state_cases[] = {
	KUNIT_CASE(ps_test_merge),
	KUNIT_CASE(ps_test_count),
	KUNIT_CASE(ps_test_span),
	KUNIT_CASE(ps_test_copy),
	KUNIT_CASE(ps_test_snapshot),
	KUNIT_CASE(ps_test_budget),
	{}
};

static struct kunit_suite winvm_state_suite = {
	.name = "winvm_state",
	.test_cases = winvm_state_cases,
};

kunit_test_suite(winvm_state_suite);
