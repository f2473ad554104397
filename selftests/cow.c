// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: write-copy views (FILE_MAP_COPY, PAGE_WRITECOPY and
 * PAGE_EXECUTE_WRITECOPY).  Until a write-copy view writes a page it sees
 * the section's current contents; its first write (user or kernel) gives it
 * a private copy nobody else sees, and that page then reports READWRITE
 * (EXECUTE_READWRITE) while its neighbours stay WRITECOPY.
 * Rule numbers (R<n>) refer to docs/windows-rules.md, section 1.9.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "winvm_test.h"

#define V32(a)	(*(volatile uint32_t *)PTR(a))

/*
 * Three views: two sharing (A writable, B read-only) and one write-copy (C).
 * A's writes appear in C until C writes that page; C's write never appears
 * in A or B.
 */
TEST_F(winvm, cow_three_views)
{
	int sfd = wv_must_section(self->fd, 0x4000, RW, 0);
	uint64_t a = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t b = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	uint64_t c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);

	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x4000, COMMIT, WCOPY, WV_MAPPED);
	/* Shared writes show up in the write-copy view. */
	V32(a + 0x0000) = 0xa0;
	V32(a + 0x1000) = 0xa1;
	V32(a + 0x2000) = 0xa2;
	ASSERT_HEX(0xa0, V32(c + 0x0000));
	ASSERT_HEX(0xa1, V32(c + 0x1000));
	ASSERT_HEX(0xa2, V32(c + 0x2000));
	ASSERT_HEX(0xa1, V32(b + 0x1000));

	/* C writes page 1: private from now on. */
	V32(c + 0x1004) = 0xc1;
	ASSERT_HEX(0xa1, V32(c + 0x1000));	/* the copy holds what was there */
	ASSERT_HEX(0xc1, V32(c + 0x1004));
	ASSERT_HEX(0, V32(a + 0x1004));
	ASSERT_HEX(0, V32(b + 0x1004));

	/* A keeps writing: page 1 no longer reaches C, the others still do. */
	V32(a + 0x1000) = 0xb1;
	V32(a + 0x1004) = 0xb2;
	V32(a + 0x0000) = 0xb0;
	V32(a + 0x3000) = 0xb3;
	ASSERT_HEX(0xa1, V32(c + 0x1000));
	ASSERT_HEX(0xc1, V32(c + 0x1004));
	ASSERT_HEX(0xb0, V32(c + 0x0000));
	ASSERT_HEX(0xb3, V32(c + 0x3000));
	ASSERT_HEX(0xb2, V32(b + 0x1004));

	/* VQ: the written page is READWRITE, its neighbours WRITECOPY. */
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x1000, COMMIT, WCOPY, WV_MAPPED);
	ASSERT_VQ(self->fd, c + 0x1000, c + 0x1000, c, WCOPY, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, c + 0x2000, c + 0x2000, c, WCOPY, 0x2000, COMMIT, WCOPY, WV_MAPPED);
	/* The sharing views are unaffected. */
	ASSERT_VQ(self->fd, a, a, a, RW, 0x4000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, b, b, b, RO, 0x4000, COMMIT, RO, WV_MAPPED);
}

/* Reading a write-copy view copies nothing; each write splits a page out. */
TEST_F(winvm, cow_reads_do_not_copy)
{
	int sfd = wv_must_section(self->fd, 0x5000, RW, 0);
	uint64_t a = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	uint64_t off, sum = 0;

	for (off = 0; off < 0x5000; off += 8)
		sum += *(volatile uint64_t *)PTR(c + off);
	ASSERT_HEX(0, sum);
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x5000, COMMIT, WCOPY, WV_MAPPED);
	V32(a + 0x4000) = 1;
	ASSERT_HEX(1, V32(c + 0x4000));
	/* Pages 0 and 4 written: four regions. */
	V32(c) = 2;
	V32(c + 0x4ffc) = 3;
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, c + 0x1000, c + 0x1000, c, WCOPY, 0x3000, COMMIT, WCOPY, WV_MAPPED);
	ASSERT_VQ(self->fd, c + 0x4000, c + 0x4000, c, WCOPY, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_HEX(1, V32(c + 0x4000));
	ASSERT_HEX(3, V32(c + 0x4ffc));
	ASSERT_HEX(0, V32(a));
	ASSERT_HEX(0, V32(a + 0x4ffc));
}

/* Rule R114: VirtualProtect of the written page returns old PAGE_READWRITE. */
TEST_F(winvm, cow_protect_written_page)
{
	int sfd = wv_must_section(self->fd, 0x3000, RW, 0);
	uint64_t a = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t c = wv_must_map(self->fd, sfd, MAP_C, 0, 0), p, s;
	uint32_t old = 0;

	V32(c + 0x1000) = 5;
	p = c + 0x1000;
	s = 0x1000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, RO, &old));
	ASSERT_HEX(RW, old);
	ASSERT_VQ(self->fd, c + 0x1000, c + 0x1000, c, WCOPY, 0x1000, COMMIT, RO, WV_MAPPED);
	/* The private copy survives the change and cannot be written now. */
	V32(a + 0x1000) = 6;
	ASSERT_HEX(5, V32(c + 0x1000));
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(c + 0x1000), 1));
	ASSERT_EQ(SIGSEGV, wv_fault.signo);
	/* An unwritten page returns old WRITECOPY. */
	p = c + 0x2000;
	s = 0x1000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, RO, &old));
	ASSERT_HEX(WCOPY, old);
	V32(a + 0x2000) = 7;
	ASSERT_HEX(7, V32(c + 0x2000));
}

/*
 * Rule R114: pages protected WRITECOPY in a shared READWRITE view: the first
 * write gives a private copy (READWRITE, one page), the rest stays WRITECOPY,
 * and the written data reaches no other view.
 */
TEST_F(winvm, cow_writecopy_protection_in_shared_view)
{
	int sfd = wv_must_section(self->fd, 0x4000, RW, 0);
	uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t o = wv_must_map(self->fd, sfd, MAP_W, 0, 0), p = v, s = 0x2000;
	uint32_t old = 0;

	V32(o) = 0x11;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, WCOPY, &old));
	ASSERT_HEX(RW, old);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x2000, COMMIT, WCOPY, WV_MAPPED);
	ASSERT_HEX(0x11, V32(v));
	V32(v + 4) = 0x22;
	ASSERT_VQ(self->fd, v, v, v, RW, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x1000, v + 0x1000, v, RW, 0x1000, COMMIT, WCOPY, WV_MAPPED);
	ASSERT_VQ(self->fd, v + 0x2000, v + 0x2000, v, RW, 0x2000, COMMIT, RW, WV_MAPPED);
	ASSERT_HEX(0, V32(o + 4));
	V32(o) = 0x33;
	ASSERT_HEX(0x11, V32(v));
	/* Page 1 still follows the section. */
	V32(o + 0x1000) = 0x44;
	ASSERT_HEX(0x44, V32(v + 0x1000));
	/* Pages 2 and 3 are still shared both ways. */
	V32(v + 0x2000) = 0x55;
	ASSERT_HEX(0x55, V32(o + 0x2000));
	p = v;
	s = 0x1000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, RW, &old));
	ASSERT_HEX(RW, old);
}

/*
 * T-COW: READWRITE -> WRITECOPY while another thread keeps writing the
 * page.  Once MEM_PROTECT has returned, the writer's stores must reach its
 * private copy only: the section, seen through a second view, stops
 * changing.  (Before the fix, a write between the state change and the
 * view getting its copy file left a writable PTE to the section's page.)
 */
struct cow_writer {
	volatile uint32_t *word;
	atomic_int stop, started;
};

static void *cow_write_loop(void *arg)
{
	struct cow_writer *w = arg;
	uint32_t n = 1;

	atomic_store(&w->started, 1);
	while (!atomic_load(&w->stop))
		*w->word = n++;
	return NULL;
}

TEST_F(winvm, cow_writer_across_writecopy_change)
{
	int round;

	for (round = 0; round < 20; round++) {
		int sfd = wv_must_section(self->fd, 0x1000, RW, 0);
		uint64_t v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		uint64_t o = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
		struct cow_writer w = { .word = PTR(v) };
		uint32_t before;
		pthread_t t;

		ASSERT_EQ(0, pthread_create(&t, NULL, cow_write_loop, &w));
		while (!atomic_load(&w.started))
			;
		usleep(1000);
		ASSERT_OK(wv_protect_at(self->fd, v, 0x1000, WCOPY));
		before = V32(o);
		usleep(10000);
		ASSERT_HEX(before, V32(o)) TH_LOG("round %d: the section changed", round);
		atomic_store(&w.stop, 1);
		pthread_join(t, NULL);
		ASSERT_OK(wv_unmap(self->fd, v));
		ASSERT_OK(wv_unmap(self->fd, o));
		close(sfd);
	}
}

/* Rule R114: EXECUTE_WRITECOPY plus a write gives EXECUTE_READWRITE. */
TEST_F(winvm, cow_execute_writecopy)
{
	int sfd = wv_must_section(self->fd, 0x3000, EXRW, 0), r = 0;
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t x = wv_must_map(self->fd, sfd, MAP_X | MAP_C, 0, 0), p, s;
	uint32_t old = 0;

	ASSERT_VQ(self->fd, x, x, x, EXWCOPY, 0x3000, COMMIT, EXWCOPY, WV_MAPPED);
	memcpy(PTR(w + 0x1000), wv_ret42, sizeof(wv_ret42));
	ASSERT_TRUE(wv_try_call(PTR(x + 0x1000), &r));
	ASSERT_EQ(42, r);
	/* Patch the private copy: 42 -> 99. */
	*(volatile uint8_t *)PTR(x + 0x1001) = 99;
	ASSERT_VQ(self->fd, x, x, x, EXWCOPY, 0x1000, COMMIT, EXWCOPY, WV_MAPPED);
	ASSERT_VQ(self->fd, x + 0x1000, x + 0x1000, x, EXWCOPY, 0x1000, COMMIT, EXRW, WV_MAPPED);
	ASSERT_VQ(self->fd, x + 0x2000, x + 0x2000, x, EXWCOPY, 0x1000, COMMIT, EXWCOPY, WV_MAPPED);
	ASSERT_TRUE(wv_try_call(PTR(x + 0x1000), &r));
	ASSERT_EQ(99, r);
	ASSERT_EQ(42, *(volatile uint8_t *)PTR(w + 0x1001));
	p = x + 0x1000;
	s = 1;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, EXR, &old));
	ASSERT_HEX(EXRW, old);
	ASSERT_TRUE(wv_try_call(PTR(x + 0x1000), &r));
	ASSERT_EQ(99, r);

	/* In a shared EXECUTE_READWRITE view, protected EXECUTE_WRITECOPY. */
	p = wv_must_map(self->fd, sfd, MAP_X | MAP_W, 0, 0);
	x = p;
	s = 0x2000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, EXWCOPY, &old));
	ASSERT_HEX(EXRW, old);
	ASSERT_VQ(self->fd, x, x, x, EXRW, 0x2000, COMMIT, EXWCOPY, WV_MAPPED);
	V32(x + 8) = 1;
	ASSERT_VQ(self->fd, x, x, x, EXRW, 0x1000, COMMIT, EXRW, WV_MAPPED);
	ASSERT_VQ(self->fd, x + 0x1000, x + 0x1000, x, EXRW, 0x1000, COMMIT, EXWCOPY, WV_MAPPED);
	ASSERT_HEX(0, V32(w + 8));
	ASSERT_TRUE(wv_try_call(PTR(x + 0x1000), &r));
	ASSERT_EQ(42, r);
}

/*
 * The loader pattern: a write-copy executable view gets its "relocations"
 * written, then is protected EXECUTE_READ; the private copies stay, the
 * untouched pages keep following the section.
 */
TEST_F(winvm, cow_loader_pattern)
{
	int sfd = wv_must_section(self->fd, 0x4000, EXWCOPY, 0), r = 0;
	int wsfd = -1;
	uint64_t img, rw, p, s;
	uint32_t old = 0;

	/* A writable fd to "build the file": EXWCOPY sections take no write views. */
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, sfd, MAP_W, 0, 0, 0));
	close(sfd);
	sfd = wv_must_section(self->fd, 0x4000, EXRW, 0);
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R | S_MAP_W | S_MAP_X, &wsfd));
	rw = wv_must_map(self->fd, wsfd, MAP_W, 0, 0);
	memcpy(PTR(rw + 0x0000), wv_ret42, sizeof(wv_ret42));
	memcpy(PTR(rw + 0x1000), wv_ret42, sizeof(wv_ret42));
	memcpy(PTR(rw + 0x2000), wv_ret42, sizeof(wv_ret42));

	img = wv_must_map(self->fd, sfd, MAP_X | MAP_C, 0, 0);
	/* Relocate pages 0 and 2. */
	*(volatile uint8_t *)PTR(img + 0x0001) = 10;
	*(volatile uint8_t *)PTR(img + 0x2001) = 12;
	p = img;
	s = 0x3000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, EXR, &old));
	ASSERT_HEX(EXRW, old);
	/* (How the region is split is cow_query_merges_equal_pages' business.) */
	ASSERT_VQ(self->fd, img, img, img, EXWCOPY, ANY, COMMIT, EXR, WV_MAPPED);
	ASSERT_VQ(self->fd, img + 0x1000, img + 0x1000, img, EXWCOPY, ANY, COMMIT, EXR, WV_MAPPED);
	ASSERT_VQ(self->fd, img + 0x2000, ANY, img, EXWCOPY, ANY, COMMIT, EXR, WV_MAPPED);
	ASSERT_VQ(self->fd, img + 0x3000, img + 0x3000, img, EXWCOPY, 0x1000, COMMIT, EXWCOPY,
		  WV_MAPPED);
	ASSERT_TRUE(wv_try_call(PTR(img), &r));
	ASSERT_EQ(10, r);
	ASSERT_TRUE(wv_try_call(PTR(img + 0x1000), &r));
	ASSERT_EQ(42, r);
	ASSERT_TRUE(wv_try_call(PTR(img + 0x2000), &r));
	ASSERT_EQ(12, r);
	/* The "file" still holds the originals. */
	ASSERT_EQ(42, *(volatile uint8_t *)PTR(rw + 0x0001));
	ASSERT_EQ(42, *(volatile uint8_t *)PTR(rw + 0x2001));
	/* Changing the section: relocated pages keep their copies. */
	*(volatile uint8_t *)PTR(rw + 0x0001) = 50;
	*(volatile uint8_t *)PTR(rw + 0x1001) = 51;
	*(volatile uint8_t *)PTR(rw + 0x2001) = 52;
	ASSERT_TRUE(wv_try_call(PTR(img), &r));
	ASSERT_EQ(10, r);
	ASSERT_TRUE(wv_try_call(PTR(img + 0x1000), &r));
	ASSERT_EQ(51, r);
	ASSERT_TRUE(wv_try_call(PTR(img + 0x2000), &r));
	ASSERT_EQ(12, r);
	/* Protected EXECUTE_READ, the copies cannot be written again. */
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(img + 1), 0));
	/* A second image view gets the section's current bytes. */
	p = wv_must_map(self->fd, sfd, MAP_X | MAP_C, 0, 0);
	ASSERT_TRUE(wv_try_call(PTR(p), &r));
	ASSERT_EQ(50, r);
}

/*
 * A kernel write into a never-written write-copy page (read(2) from a
 * pipe) succeeds and takes the private copy.
 */
TEST_F(winvm, cow_kernel_write_takes_copy)
{
	int sfd = wv_must_section(self->fd, 0x3000, RW, 0), p[2];
	uint64_t a = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	static const char msg[] = "from a pipe";

	memset(PTR(a + 0x2000), 'a', 0x40);
	ASSERT_EQ('a', *(volatile char *)PTR(c + 0x2000));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ((ssize_t)sizeof(msg), write(p[1], msg, sizeof(msg)));
	ASSERT_EQ((ssize_t)sizeof(msg), read(p[0], PTR(c + 0x2010), sizeof(msg)));
	ASSERT_EQ(0, memcmp(PTR(c + 0x2010), msg, sizeof(msg)));
	ASSERT_EQ('a', *(volatile char *)PTR(c + 0x2000));
	ASSERT_EQ('a', *(volatile char *)PTR(a + 0x2010));
	ASSERT_VQ(self->fd, c + 0x2000, c + 0x2000, c, WCOPY, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x2000, COMMIT, WCOPY, WV_MAPPED);
	memset(PTR(a + 0x2000), 'b', 0x40);
	ASSERT_EQ('a', *(volatile char *)PTR(c + 0x2000));
	ASSERT_EQ(0, memcmp(PTR(c + 0x2010), msg, sizeof(msg)));
	close(p[0]);
	close(p[1]);
}

/* Rule R114: write-copy data never reaches the file. */
TEST_F(winvm, cow_file_untouched)
{
	int file = wv_tmpfile(0x3000, 21), sfd;
	uint64_t w, c, a, s;
	uint8_t buf[8];

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0, RW, 0);
	w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x3000, COMMIT, WCOPY, WV_MAPPED);
	/* Before writing, the copy view follows the file both ways. */
	ASSERT_EQ(1, pwrite(file, "F", 1, 0x1000));
	ASSERT_EQ('F', *(volatile char *)PTR(c + 0x1000));
	*(volatile char *)PTR(w + 0x1001) = 'W';
	ASSERT_EQ('W', *(volatile char *)PTR(c + 0x1001));

	memcpy(PTR(c + 0x1000), "private!", 8);
	ASSERT_VQ(self->fd, c + 0x1000, c + 0x1000, c, WCOPY, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_EQ(8, pread(file, buf, 8, 0x1000));
	ASSERT_EQ('F', buf[0]);
	ASSERT_EQ('W', buf[1]);
	ASSERT_TRUE(wv_pat_ok(buf + 2, 0x1002, 6, 21));
	ASSERT_EQ('F', *(volatile char *)PTR(w + 0x1000));
	/* Nor does flushing the copy view or unmapping it write it out. */
	a = c;
	s = 0;
	ASSERT_ST(ST_OK, wv_flush(self->fd, &a, &s, 0));
	ASSERT_OK(wv_unmap(self->fd, c));
	ASSERT_EQ(8, pread(file, buf, 8, 0x1000));
	ASSERT_EQ('F', buf[0]);
	ASSERT_TRUE(wv_pat_ok(buf + 2, 0x1002, 6, 21));
	/* A new copy view starts from the file again. */
	c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	ASSERT_EQ('F', *(volatile char *)PTR(c + 0x1000));
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x3000, COMMIT, WCOPY, WV_MAPPED);
}

/* A WRITECOPY section of a read-only file: copy views write privately. */
TEST_F(winvm, cow_readonly_file_writecopy_section)
{
	int file = wv_tmpfile(0x2000, 22), ro, sfd;
	uint64_t r, c;
	uint8_t b = 0;

	ASSERT_LE(0, file);
	ro = wv_reopen(file, O_RDONLY);
	ASSERT_LE(0, ro);
	sfd = wv_must_file_section(self->fd, ro, 0, WCOPY, 0);
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, sfd, MAP_W, 0, 0, 0));
	r = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	*(volatile uint8_t *)PTR(c + 0x1800) = 0xee;
	ASSERT_EQ(0xee, *(volatile uint8_t *)PTR(c + 0x1800));
	ASSERT_EQ(wv_pat(0x1800, 22), *(volatile uint8_t *)PTR(r + 0x1800));
	ASSERT_EQ(1, pread(file, &b, 1, 0x1800));
	ASSERT_EQ(wv_pat(0x1800, 22), b);
	ASSERT_TRUE(wv_pat_ok(PTR(c), 0, 0x1000, 22));
	/* A READONLY section takes copy views too. */
	close(sfd);
	sfd = wv_must_file_section(self->fd, ro, 0, RO, 0);
	c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x2000, COMMIT, WCOPY, WV_MAPPED);
	*(volatile uint8_t *)PTR(c) = 0xdd;
	ASSERT_EQ(1, pread(file, &b, 1, 0));
	ASSERT_EQ(wv_pat(0, 22), b);
}

/* Rule R115: COPY is private only alone; COPY|WRITE is a shared write view. */
TEST_F(winvm, cow_copy_with_write_is_shared)
{
	int sfd = wv_must_section(self->fd, 0x1000, RW, 0);
	uint64_t r = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	uint64_t cw = wv_must_map(self->fd, sfd, MAP_C | MAP_W, 0, 0);
	uint64_t crw = wv_must_map(self->fd, sfd, MAP_C | MAP_R | MAP_W, 0, 0);
	uint64_t cr = wv_must_map(self->fd, sfd, MAP_C | MAP_R, 0, 0);

	ASSERT_VQ(self->fd, cw, cw, cw, RW, 0x1000, COMMIT, RW, WV_MAPPED);
	V32(cw) = 1;
	ASSERT_HEX(1, V32(r));
	V32(crw + 4) = 2;
	ASSERT_HEX(2, V32(r + 4));
	ASSERT_HEX(2, V32(cw + 4));
	/* COPY|READ is a plain READONLY view. */
	ASSERT_VQ(self->fd, cr, cr, cr, RO, 0x1000, COMMIT, RO, WV_MAPPED);
	wv_fault_reset();
	ASSERT_FALSE(wv_try_write(PTR(cr), 0));
	ASSERT_HEX(1, V32(cr));
}

/* Private copies belong to the view: unmapping it drops them. */
TEST_F(winvm, cow_copies_die_with_view)
{
	int sfd = wv_must_section(self->fd, 0x2000, WCOPY, 0);
	uint64_t c1 = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	uint64_t c2 = wv_must_map(self->fd, sfd, MAP_C, 0, 0);

	/* Two copy views of one section do not see each other's writes. */
	V32(c1) = 1;
	V32(c2) = 2;
	ASSERT_HEX(1, V32(c1));
	ASSERT_HEX(2, V32(c2));
	ASSERT_OK(wv_unmap(self->fd, c1));
	ASSERT_EQ(0, close(sfd));
	ASSERT_HEX(2, V32(c2));
	ASSERT_VQ(self->fd, c2, c2, c2, WCOPY, 0x1000, COMMIT, RW, WV_MAPPED);
	ASSERT_VQ(self->fd, c2 + 0x1000, c2 + 0x1000, c2, WCOPY, 0x1000, COMMIT, WCOPY, WV_MAPPED);
}

/*
 * VQ's regions are runs of pages with the same state, protection and
 * allocation: a page that holds a private copy and its neighbours that do
 * not are one region once their protections agree (the loader's relocated
 * .text, protected EXECUTE_READ as a whole, is one region).
 */
TEST_F(winvm, cow_query_merges_equal_pages)
{
	int sfd = wv_must_section(self->fd, 0x4000, EXRW, 0);
	uint64_t img = wv_must_map(self->fd, sfd, MAP_X | MAP_C, 0, 0), p = img, s = 0x3000;
	uint64_t c = wv_must_map(self->fd, sfd, MAP_C, 0, 0);
	uint32_t old = 0;

	V32(img + 0x1000) = 1;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, EXR, &old));
	ASSERT_HEX(EXWCOPY, old);
	ASSERT_VQ(self->fd, img, img, img, EXWCOPY, 0x3000, COMMIT, EXR, WV_MAPPED);
	ASSERT_VQ(self->fd, img + 0x1000, img + 0x1000, img, EXWCOPY, 0x2000, COMMIT, EXR,
		  WV_MAPPED);
	ASSERT_VQ(self->fd, img + 0x3000, img + 0x3000, img, EXWCOPY, 0x1000, COMMIT, EXWCOPY,
		  WV_MAPPED);
	/* Protected READONLY as a whole: the copy stays, the region is one. */
	V32(c + 0x2000) = 2;
	p = c;
	s = 0x4000;
	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, RO, &old));
	ASSERT_HEX(WCOPY, old);
	ASSERT_VQ(self->fd, c, c, c, WCOPY, 0x4000, COMMIT, RO, WV_MAPPED);
	ASSERT_HEX(2, V32(c + 0x2000));
}

/* A WRITECOPY protection on a read-only view: writes take copies too. */
TEST_F(winvm, cow_writecopy_on_readonly_view)
{
	int sfd = wv_must_section(self->fd, 0x2000, RW, 0);
	uint64_t w = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	uint64_t r = wv_must_map(self->fd, sfd, MAP_R, 0, 0), p = r, s = 0x2000;
	uint32_t old = 0;

	ASSERT_NT(ST_OK, wv_protect(self->fd, &p, &s, WCOPY, &old));
	ASSERT_HEX(RO, old);
	V32(w + 0x1000) = 3;
	ASSERT_HEX(3, V32(r + 0x1000));
	V32(r + 0x1000) = 4;
	ASSERT_HEX(3, V32(w + 0x1000));
	ASSERT_HEX(4, V32(r + 0x1000));
	ASSERT_VQ(self->fd, r, r, r, RO, 0x1000, COMMIT, WCOPY, WV_MAPPED);
	ASSERT_VQ(self->fd, r + 0x1000, r + 0x1000, r, RO, 0x1000, COMMIT, RW, WV_MAPPED);
}

TEST_HARNESS_MAIN
