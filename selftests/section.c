// SPDX-License-Identifier: GPL-2.0
/*
 * winvm selftests: sections (WINVM_IOC_SECTION_CREATE / OPEN / QUERY / DUP,
 * i.e. NtCreateSection, OpenFileMapping, NtQuerySection, DuplicateHandle):
 * protections, attributes, sizes, file-backed rules, access rights, names.
 * Rule numbers (R<n>) refer to docs/windows-rules.md, section 1.8 and
 * 1.9.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include "winvm_test.h"

static void check_query(struct __test_metadata *_metadata, int fd, int sfd,
			uint64_t size, uint32_t attrs, uint32_t prot, uint32_t access)
{
	struct winvm_section_query_args q;

	ASSERT_ST(ST_OK, wv_sec_query(fd, sfd, &q));
	ASSERT_HEX(size, q.size);
	ASSERT_HEX(attrs, q.attributes);
	ASSERT_HEX(prot, q.protect);
	ASSERT_HEX(access, q.access);
}

/* The basics: a new O_CLOEXEC fd, returned twice, and its query. */
TEST_F(winvm, create_pagefile_section)
{
	struct winvm_section_create_args a = {
		.size = 0x10000, .file_fd = -1, .protect = RW,
	};

	ASSERT_ST(ST_OK, wv_sec_create_raw(self->fd, &a));
	ASSERT_LE(0, a.fd);
	ASSERT_EQ(a.fd, wv_ioret);
	ASSERT_HEX(0, a.existed);
	ASSERT_TRUE(wv_cloexec(a.fd));
	ASSERT_NE(self->fd, a.fd);
	/* Rule R86: no SEC_* flag means SEC_COMMIT; access 0 means all. */
	check_query(_metadata, self->fd, a.fd, 0x10000, SEC_COMMIT, RW, S_ALL);
	ASSERT_EQ(0, close(a.fd));
}

/* Rule R88: pagefile-backed sizes are rounded up to the page. */
TEST_F(winvm, create_size_rounded_to_page)
{
	static const struct { uint64_t in, out; } sizes[] = {
		{ 0x3457, 0x4000 }, { 1, 0x1000 }, { 0x1000, 0x1000 },
		{ 0x10001, 0x11000 }, { 4090, 0x1000 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		int sfd = wv_must_section(self->fd, sizes[i].in, RW, SEC_COMMIT);

		check_query(_metadata, self->fd, sfd, sizes[i].out, SEC_COMMIT, RW, S_ALL);
		close(sfd);
	}
}

/* A pagefile-backed section needs a size. */
TEST_F(winvm, create_pagefile_size_zero)
{
	int sfd = 7;

	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_sec_create(self->fd, 0, RW, SEC_COMMIT, -1, 0, NULL, 0, &sfd));
	ASSERT_EQ(-1, sfd);
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_sec_create(self->fd, 0, RO, SEC_RESERVE, -1, 0, NULL, 0, &sfd));
}

/* Rule R84: the six valid section protections, reported back by query. */
TEST_F(winvm, create_valid_protections)
{
	static const uint32_t prots[] = { RO, RW, WCOPY, EXR, EXRW, EXWCOPY };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		int sfd = wv_must_section(self->fd, 0x2000, prots[i], 0);

		check_query(_metadata, self->fd, sfd, 0x2000, SEC_COMMIT, prots[i], S_ALL);
		close(sfd);
	}
}

/* Rule R84: NOACCESS, EXECUTE, 0, two base bits and GUARD are refused. */
TEST_F(winvm, create_invalid_protections)
{
	static const uint32_t prots[] = {
		NOACCESS, EX, 0, RO | RW, RW | EXR, RO | WCOPY, EXR | EXRW,
		GUARD, RW | GUARD, RO | GUARD,
	};
	unsigned int i;
	int file = wv_tmpfile(0x1000, 1);

	ASSERT_LE(0, file);
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		int sfd = 7;

		ASSERT_ST(WINVM_STATUS_INVALID_PAGE_PROTECTION,
			  wv_sec_create(self->fd, 0x1000, prots[i], SEC_COMMIT, -1, 0,
					NULL, 0, &sfd))
			TH_LOG("prot 0x%x", prots[i]);
		ASSERT_EQ(-1, sfd);
		ASSERT_ST(WINVM_STATUS_INVALID_PAGE_PROTECTION,
			  wv_sec_create(self->fd, 0x1000, prots[i], SEC_COMMIT, file, 0,
					NULL, 0, &sfd))
			TH_LOG("file, prot 0x%x", prots[i]);
	}
	close(file);
}

/* Rule R86: the valid SEC_* combinations, and the attributes query reports. */
TEST_F(winvm, create_valid_attributes)
{
	static const struct { uint32_t in, out; } attrs[] = {
		{ 0, SEC_COMMIT }, { SEC_COMMIT, SEC_COMMIT },
		{ SEC_RESERVE, SEC_RESERVE },
		{ SEC_COMMIT | SEC_NOCACHE, SEC_COMMIT | SEC_NOCACHE },
		{ SEC_COMMIT | SEC_WCOMBINE, SEC_COMMIT | SEC_WCOMBINE },
		{ SEC_RESERVE | SEC_NOCACHE, SEC_RESERVE | SEC_NOCACHE },
		{ SEC_RESERVE | SEC_WCOMBINE, SEC_RESERVE | SEC_WCOMBINE },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		int sfd = wv_must_section(self->fd, 0x1000, RW, attrs[i].in);

		check_query(_metadata, self->fd, sfd, 0x1000, attrs[i].out, RW, S_ALL);
		close(sfd);
	}
}

/* Rule R86: the invalid SEC_* combinations. */
TEST_F(winvm, create_invalid_attributes)
{
	static const uint32_t attrs[] = {
		SEC_RESERVE | SEC_COMMIT, SEC_NOCACHE, SEC_WCOMBINE, SEC_LARGE,
		SEC_COMMIT | SEC_LARGE, SEC_RESERVE | SEC_LARGE, SEC_FILE,
		SEC_COMMIT | SEC_FILE, SEC_RESERVE | SEC_FILE,
		SEC_IMAGE | SEC_RESERVE, SEC_IMAGE | SEC_COMMIT,
		SEC_COMMIT | 0x1, SEC_COMMIT | 0x00100000, SEC_COMMIT | 0x02000000,
		0x00000100,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		int sfd = 7;

		EXPECT_ST(WINVM_STATUS_INVALID_PARAMETER,
			  wv_sec_create(self->fd, 0x1000, RW, attrs[i], -1, 0, NULL, 0, &sfd))
			TH_LOG("attributes 0x%x", attrs[i]);
		EXPECT_EQ(-1, sfd);
		if (sfd >= 0)
			close(sfd);
	}
}

/* Rules R86, R87, R89: SEC_IMAGE is not supported yet: "not MZ" for anything. */
TEST_F(winvm, create_sec_image_not_mz)
{
	int file = wv_tmpfile(0x3456, 2);

	ASSERT_LE(0, file);
	ASSERT_ST(WINVM_STATUS_INVALID_IMAGE_NOT_MZ,
		  wv_sec_create(self->fd, 0x1000, RO, SEC_IMAGE, -1, 0, NULL, 0, NULL));
	ASSERT_ST(WINVM_STATUS_INVALID_IMAGE_NOT_MZ,
		  wv_sec_create(self->fd, 0, RO, SEC_IMAGE, file, 0, NULL, 0, NULL));
	ASSERT_ST(WINVM_STATUS_INVALID_IMAGE_NOT_MZ,
		  wv_sec_create(self->fd, 0, EXWCOPY, SEC_IMAGE, file, 0, NULL, 0, NULL));
	close(file);
}

/* The access of the new fd: 0 means all; the given bits otherwise. */
TEST_F(winvm, create_access)
{
	static const struct { uint32_t in, out; } acc[] = {
		{ 0, S_ALL }, { S_ALL, S_ALL }, { 0x1f, 0x1f },
		{ S_QUERY | S_MAP_R, S_QUERY | S_MAP_R },
		{ S_QUERY | S_MAP_W, S_QUERY | S_MAP_W },
		{ S_QUERY | S_MAP_X | 0x00020000, S_QUERY | S_MAP_X | 0x00020000 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(acc); i++) {
		int sfd = -1;

		ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, EXRW, 0, -1, acc[i].in,
					       NULL, 0, &sfd))
			TH_LOG("access 0x%x", acc[i].in);
		check_query(_metadata, self->fd, sfd, 0x1000, SEC_COMMIT, EXRW, acc[i].out);
		close(sfd);
	}
}

/* Access bits outside SECTION_ALL_ACCESS are refused. */
TEST_F(winvm, create_invalid_access)
{
	static const uint32_t acc[] = {
		0x40, 0x100, 0x8000, 0x00100000, 0x10000000, 0x80000000u,
		S_ALL | 0x00100000,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(acc); i++) {
		ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER,
			  wv_sec_create(self->fd, 0x1000, RW, 0, -1, acc[i], NULL, 0, NULL))
			TH_LOG("access 0x%x", acc[i]);
	}
}

/* Unknown flags, bad world_access and reserved words are refused. */
TEST_F(winvm, create_flags_and_reserved)
{
	struct winvm_section_create_args a = {
		.size = 0x1000, .file_fd = -1, .protect = RW,
	};
	char name[64];

	a.flags = 0x2;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	a.flags = 0x80000000u;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	a.flags = 0;
	/* world_access: only for Global names, only SECTION_* rights. */
	a.world_access = WINVM_SECTION_MAP_READ;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	wv_name(name, sizeof(name), "world-local");
	a.name = U64(name);
	a.name_len = strlen(name);
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	a.flags = WINVM_SECTION_GLOBAL;
	a.world_access = 0x100;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	a.world_access = 0xffffffffu;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	/* None of them made the name. */
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  wv_sec_open(self->fd, name, MAP_R, WINVM_SECTION_GLOBAL, NULL));
	a.flags = 0;
	a.name = 0;
	a.name_len = 0;
	a.world_access = 0;
	a.reserved[0] = 1;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	a.reserved[0] = 0;
	a.reserved[1] = 1;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_create_raw(self->fd, &a));
	a.reserved[1] = 0;
	ASSERT_ST(ST_OK, wv_sec_create_raw(self->fd, &a));
	close(a.fd);
}

/* Rule R88: size 0 = the file's size; a given size is not rounded. */
TEST_F(winvm, file_section_sizes)
{
	int file = wv_tmpfile(0x3456, 3), sfd;

	ASSERT_LE(0, file);
	sfd = wv_must_file_section(self->fd, file, 0, RO, SEC_COMMIT);
	check_query(_metadata, self->fd, sfd, 0x3456, SEC_FILE, RO, S_ALL);
	close(sfd);
	sfd = wv_must_file_section(self->fd, file, 36, RO, SEC_COMMIT);
	check_query(_metadata, self->fd, sfd, 36, SEC_FILE, RO, S_ALL);
	close(sfd);
	sfd = wv_must_file_section(self->fd, file, 0x3456, RW, 0);
	check_query(_metadata, self->fd, sfd, 0x3456, SEC_FILE, RW, S_ALL);
	close(sfd);
	close(file);
}

/* Rule R89: an empty file with size 0 is STATUS_MAPPED_FILE_SIZE_ZERO. */
TEST_F(winvm, file_section_empty_file)
{
	int file = wv_tmpfile(0, 0), sfd = 7;
	struct stat st;

	ASSERT_LE(0, file);
	ASSERT_ST(WINVM_STATUS_MAPPED_FILE_SIZE_ZERO,
		  wv_sec_create(self->fd, 0, RW, SEC_COMMIT, file, 0, NULL, 0, &sfd));
	ASSERT_EQ(-1, sfd);
	ASSERT_ST(WINVM_STATUS_MAPPED_FILE_SIZE_ZERO,
		  wv_sec_create(self->fd, 0, RO, 0, file, 0, NULL, 0, NULL));
	/* With a size, a read-only section is too big, a writable one grows it. */
	ASSERT_ST(WINVM_STATUS_SECTION_TOO_BIG,
		  wv_sec_create(self->fd, 0x1000, RO, 0, file, 0, NULL, 0, NULL));
	ASSERT_EQ(0, fstat(file, &st));
	ASSERT_EQ(0, st.st_size);
	sfd = wv_must_file_section(self->fd, file, 0x1000, RW, 0);
	ASSERT_EQ(0, fstat(file, &st));
	ASSERT_EQ(0x1000, st.st_size);
	close(sfd);
	close(file);
}

/* Rule R89: a non-writable section larger than the file is too big. */
TEST_F(winvm, file_section_too_big)
{
	static const uint32_t prots[] = { RO, WCOPY, EXR, EXWCOPY };
	int file = wv_tmpfile(0x3456, 4);
	unsigned int i;
	struct stat st;

	ASSERT_LE(0, file);
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		int sfd = 7;

		ASSERT_ST(WINVM_STATUS_SECTION_TOO_BIG,
			  wv_sec_create(self->fd, 0x3457, prots[i], SEC_COMMIT, file, 0,
					NULL, 0, &sfd))
			TH_LOG("prot 0x%x", prots[i]);
		ASSERT_EQ(-1, sfd);
		ASSERT_ST(WINVM_STATUS_SECTION_TOO_BIG,
			  wv_sec_create(self->fd, 0x100000, prots[i], 0, file, 0, NULL, 0, NULL))
			TH_LOG("prot 0x%x", prots[i]);
	}
	ASSERT_EQ(0, fstat(file, &st));
	ASSERT_EQ(0x3456, st.st_size);
	close(file);
}

/* Rule R90: a writable section larger than the file grows the file. */
TEST_F(winvm, file_section_grows_file)
{
	static const uint32_t prots[] = { RW, EXRW };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		int file = wv_tmpfile(0x1000, 5), sfd;
		struct stat st;
		uint8_t b[2];

		ASSERT_LE(0, file);
		sfd = wv_must_file_section(self->fd, file, 0x100000, prots[i], SEC_COMMIT);
		check_query(_metadata, self->fd, sfd, 0x100000, SEC_FILE, prots[i], S_ALL);
		ASSERT_EQ(0, fstat(file, &st));
		ASSERT_EQ(0x100000, st.st_size) TH_LOG("prot 0x%x", prots[i]);
		/* The old data is kept, the new part reads as zeroes. */
		ASSERT_EQ(2, pread(file, b, 2, 0xfff));
		ASSERT_EQ(wv_pat(0xfff, 5), b[0]);
		ASSERT_EQ(0, b[1]);
		close(sfd);
		close(file);
	}
}

/* Rule R85: what a read-only file allows. */
TEST_F(winvm, file_section_readonly_file)
{
	static const uint32_t ok[] = { RO, WCOPY, EXR, EXWCOPY };
	static const uint32_t denied[] = { RW, EXRW };
	int file = wv_tmpfile(0x2000, 6), ro;
	unsigned int i;

	ASSERT_LE(0, file);
	ro = wv_reopen(file, O_RDONLY);
	ASSERT_LE(0, ro);
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		int sfd = wv_must_file_section(self->fd, ro, 0, ok[i], SEC_COMMIT);

		check_query(_metadata, self->fd, sfd, 0x2000, SEC_FILE, ok[i], S_ALL);
		close(sfd);
	}
	for (i = 0; i < ARRAY_SIZE(denied); i++) {
		int sfd = 7;

		ASSERT_ST(WINVM_STATUS_ACCESS_DENIED,
			  wv_sec_create(self->fd, 0, denied[i], SEC_COMMIT, ro, 0, NULL, 0, &sfd))
			TH_LOG("prot 0x%x", denied[i]);
		ASSERT_EQ(-1, sfd);
	}
	close(ro);
	close(file);
}

/* A write-only file cannot back a section at all. */
TEST_F(winvm, file_section_writeonly_file)
{
	static const uint32_t prots[] = { RO, RW, WCOPY, EXR };
	int file = wv_tmpfile(0x2000, 7), wo;
	unsigned int i;

	ASSERT_LE(0, file);
	wo = wv_reopen(file, O_WRONLY);
	ASSERT_LE(0, wo);
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		ASSERT_ST(WINVM_STATUS_ACCESS_DENIED,
			  wv_sec_create(self->fd, 0, prots[i], SEC_COMMIT, wo, 0, NULL, 0, NULL))
			TH_LOG("prot 0x%x", prots[i]);
	}
	close(wo);
	close(file);
}

/* Pipes, directories and devices are not files a section can map. */
TEST_F(winvm, file_section_not_regular)
{
	int p[2], dir, null;

	ASSERT_EQ(0, pipe(p));
	dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	ASSERT_ST(WINVM_STATUS_INVALID_FILE_FOR_SECTION,
		  wv_sec_create(self->fd, 0x1000, RO, 0, p[0], 0, NULL, 0, NULL));
	ASSERT_ST(WINVM_STATUS_INVALID_FILE_FOR_SECTION,
		  wv_sec_create(self->fd, 0x1000, RO, 0, dir, 0, NULL, 0, NULL));
	ASSERT_ST(WINVM_STATUS_INVALID_FILE_FOR_SECTION,
		  wv_sec_create(self->fd, 0x1000, RW, 0, null, 0, NULL, 0, NULL));
	close(p[0]);
	close(p[1]);
	close(dir);
	close(null);
}

/* A file fd number that is not open. */
TEST_F(winvm, file_section_bad_fd)
{
	int file = wv_tmpfile(0x1000, 8);

	ASSERT_LE(0, file);
	ASSERT_EQ(0, close(file));
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE,
		  wv_sec_create(self->fd, 0, RO, 0, file, 0, NULL, 0, NULL));
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE,
		  wv_sec_create(self->fd, 0x1000, RO, 0, 1000000, 0, NULL, 0, NULL));
}

/* Rule R87: file-backed attributes are SEC_FILE plus NOCACHE/WRITECOMBINE. */
TEST_F(winvm, file_section_attributes)
{
	static const struct { uint32_t in, out; } attrs[] = {
		{ 0, SEC_FILE }, { SEC_COMMIT, SEC_FILE }, { SEC_RESERVE, SEC_FILE },
		{ SEC_COMMIT | SEC_NOCACHE, SEC_FILE | SEC_NOCACHE },
		{ SEC_RESERVE | SEC_WCOMBINE, SEC_FILE | SEC_WCOMBINE },
	};
	int file = wv_tmpfile(0x1800, 9);
	unsigned int i;

	ASSERT_LE(0, file);
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		int sfd = wv_must_file_section(self->fd, file, 0, RW, attrs[i].in);

		check_query(_metadata, self->fd, sfd, 0x1800, attrs[i].out, RW, S_ALL);
		close(sfd);
	}
	/* The invalid combinations stay invalid with a file. */
	EXPECT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_sec_create(self->fd, 0, RW, SEC_RESERVE | SEC_COMMIT, file, 0, NULL, 0, NULL));
	EXPECT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_sec_create(self->fd, 0, RW, SEC_FILE, file, 0, NULL, 0, NULL));
	EXPECT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_sec_create(self->fd, 0, RW, SEC_NOCACHE, file, 0, NULL, 0, NULL));
	EXPECT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_sec_create(self->fd, 0, RW, SEC_WCOMBINE, file, 0, NULL, 0, NULL));
	EXPECT_ST(WINVM_STATUS_INVALID_PARAMETER,
		  wv_sec_create(self->fd, 0, RW, SEC_COMMIT | SEC_LARGE, file, 0, NULL, 0, NULL));
	close(file);
}

/* A named section: created once, opened by name, the same memory. */
TEST_F(winvm, name_create_and_open)
{
	char name[64];
	struct winvm_section_open_args o = { .access = S_QUERY | MAP_R | MAP_W };
	int sfd = -1;
	uint64_t v1, v2;

	wv_name(name, sizeof(name), "open");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x3000, RW, 0, -1, 0, name, 0, &sfd));
	ASSERT_HEX(0, wv_existed);
	o.name = U64(name);
	o.name_len = strlen(name);
	ASSERT_ST(ST_OK, wv_sec_open_raw(self->fd, &o));
	ASSERT_LE(0, o.fd);
	ASSERT_EQ(o.fd, wv_ioret);
	ASSERT_NE(sfd, o.fd);
	ASSERT_TRUE(wv_cloexec(o.fd));
	check_query(_metadata, self->fd, o.fd, 0x3000, SEC_COMMIT, RW, S_QUERY | S_MAP_R | S_MAP_W);

	v1 = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	v2 = wv_must_map(self->fd, o.fd, MAP_W, 0, 0);
	*(volatile uint32_t *)PTR(v1 + 0x2004) = 0xfeedf00d;
	ASSERT_EQ(0xfeedf00d, *(volatile uint32_t *)PTR(v2 + 0x2004));
	*(volatile uint32_t *)PTR(v2 + 0x10) = 0x1234;
	ASSERT_HEX(0x1234, *(volatile uint32_t *)PTR(v1 + 0x10));
}

/*
 * Rule R92: creating an existing name returns a new fd on the existing
 * section, STATUS_OBJECT_NAME_EXISTS (success, errno 0), existed = 1; its
 * size and protection stay those of the first creation.
 */
TEST_F(winvm, name_create_existing)
{
	char name[64];
	struct winvm_section_create_args a = {
		.size = 0x20000, .file_fd = -1, .protect = RO, .access = S_QUERY | S_MAP_R,
	};
	int sfd;
	uint64_t v1, v2;

	wv_name(name, sizeof(name), "exists");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x5000, RW, 0, -1, 0, name, 0, &sfd));
	ASSERT_HEX(0, wv_existed);
	a.name = U64(name);
	a.name_len = strlen(name);
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_EXISTS, wv_sec_create_raw(self->fd, &a));
	ASSERT_EQ(0, wv_errno);
	ASSERT_LE(0, a.fd);
	ASSERT_EQ(a.fd, wv_ioret);
	ASSERT_NE(sfd, a.fd);
	ASSERT_HEX(1, a.existed);
	ASSERT_TRUE(wv_cloexec(a.fd));
	/* The existing section, with the new fd's own access. */
	check_query(_metadata, self->fd, a.fd, 0x5000, SEC_COMMIT, RW, S_QUERY | S_MAP_R);
	v1 = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	v2 = wv_must_map(self->fd, a.fd, MAP_R, 0, 0);
	*(volatile uint32_t *)PTR(v1 + 0x4ffc) = 0xabcdef;
	ASSERT_HEX(0xabcdef, *(volatile uint32_t *)PTR(v2 + 0x4ffc));
	/* A third time, with the plain helper. */
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_EXISTS,
		  wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, NULL));
	ASSERT_HEX(1, wv_existed);
	close(wv_ioret);
}

/* Rule R92: names are case-sensitive. */
TEST_F(winvm, name_case_sensitive)
{
	char lower[64], upper[64];
	uint64_t v1, v2;
	int s1, s2, i;

	wv_name(lower, sizeof(lower), "casename");
	strcpy(upper, lower);
	for (i = 0; upper[i]; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] -= 'a' - 'A';
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, lower, 0, &s1));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  wv_sec_open(self->fd, upper, MAP_R, 0, NULL));
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, upper, 0, &s2));
	ASSERT_HEX(0, wv_existed);
	v1 = wv_must_map(self->fd, s1, MAP_W, 0, 0);
	v2 = wv_must_map(self->fd, s2, MAP_W, 0, 0);
	*(volatile int *)PTR(v1) = 1;
	*(volatile int *)PTR(v2) = 2;
	ASSERT_EQ(1, *(volatile int *)PTR(v1));
	ASSERT_EQ(2, *(volatile int *)PTR(v2));
}

/* Invalid names: empty with a pointer, too long, a NUL, a backslash. */
TEST_F(winvm, name_invalid)
{
	static char name[WINVM_NAME_MAX + 2];
	static const struct { const char *s; uint32_t len; } bad[] = {
		{ "abc", 0 }, { "ab\0cd", 5 }, { "a\\b", 3 }, { "\\", 1 },
		{ "Global\\x", 8 }, { "x\0", 2 },
	};
	char okname[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct winvm_section_create_args c = {
			.size = 0x1000, .file_fd = -1, .protect = RW,
			.name = U64(bad[i].s), .name_len = bad[i].len,
		};
		struct winvm_section_open_args o = {
			.name = U64(bad[i].s), .name_len = bad[i].len, .access = MAP_R,
		};

		ASSERT_ST(WINVM_STATUS_OBJECT_NAME_INVALID, wv_sec_create_raw(self->fd, &c))
			TH_LOG("name %u", i);
		ASSERT_ST(WINVM_STATUS_OBJECT_NAME_INVALID, wv_sec_open_raw(self->fd, &o))
			TH_LOG("name %u", i);
	}
	/* WINVM_NAME_MAX bytes is fine, one more is not. */
	wv_name(okname, sizeof(okname), "long");
	memset(name, 'n', sizeof(name) - 1);
	memcpy(name, okname, strlen(okname));
	name[WINVM_NAME_MAX] = 0;
	ASSERT_HEX(WINVM_NAME_MAX, strlen(name));
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, NULL));
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
	name[WINVM_NAME_MAX] = 'n';
	ASSERT_HEX(WINVM_NAME_MAX + 1, strlen(name));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_INVALID,
		  wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, NULL));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_INVALID, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
}

/* A name that nobody created. */
TEST_F(winvm, open_not_found)
{
	char name[64];
	int sfd = 7;

	wv_name(name, sizeof(name), "nobody");
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, &sfd));
	ASSERT_EQ(-1, sfd);
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND,
		  wv_sec_open(self->fd, name, MAP_R, WINVM_SECTION_GLOBAL, NULL));
	/* An unnamed section is found by no name. */
	wv_must_section(self->fd, 0x1000, RW, 0);
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
}

/*
 * Rule R93: the name vanishes with the last section fd even while a view
 * remains; the view is unaffected, and creating the name again makes a new
 * section (ERROR_SUCCESS, not ALREADY_EXISTS).
 */
TEST_F(winvm, name_vanishes_with_last_fd)
{
	char name[64];
	uint64_t v, v2;
	int sfd;

	wv_name(name, sizeof(name), "lifetime");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x2000, RW, 0, -1, 0, name, 0, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	*(volatile uint32_t *)PTR(v + 0x1000) = 0x600d;
	ASSERT_EQ(0, close(sfd));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
	ASSERT_VQ(self->fd, v, v, v, RW, 0x2000, COMMIT, RW, WV_MAPPED);
	ASSERT_HEX(0x600d, *(volatile uint32_t *)PTR(v + 0x1000));
	*(volatile uint32_t *)PTR(v) = 5;

	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x2000, RW, 0, -1, 0, name, 0, &sfd));
	ASSERT_HEX(0, wv_existed);
	v2 = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	ASSERT_HEX(0, *(volatile uint32_t *)PTR(v2 + 0x1000));
	*(volatile uint32_t *)PTR(v2 + 0x1000) = 1;
	ASSERT_HEX(0x600d, *(volatile uint32_t *)PTR(v + 0x1000));
}

/* The name lives while any fd of the section does: dup'ed or opened. */
TEST_F(winvm, name_kept_by_any_fd)
{
	char name[64];
	int sfd, dfd, ofd;
	uint64_t v;

	wv_name(name, sizeof(name), "keep");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_W, 0, 0);
	*(volatile int *)PTR(v) = 42;
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R, &dfd));
	ASSERT_EQ(0, close(sfd));
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_R, 0, &ofd));
	ASSERT_EQ(0, close(dfd));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_EXISTS,
		  wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, &sfd));
	ASSERT_HEX(1, wv_existed);
	ASSERT_EQ(0, close(ofd));
	ASSERT_EQ(42, *(volatile int *)PTR(wv_must_map(self->fd, sfd, MAP_R, 0, 0)));
	ASSERT_EQ(0, close(sfd));
	ASSERT_ST(WINVM_STATUS_OBJECT_NAME_NOT_FOUND, wv_sec_open(self->fd, name, MAP_R, 0, NULL));
	ASSERT_EQ(42, *(volatile int *)PTR(v));
}

/*
 * Opening checks the wanted access against the section's protection; a
 * MAP_WRITE on a READONLY or WRITECOPY section is refused.
 */
TEST_F(winvm, open_access_vs_protection)
{
	static const struct { uint32_t prot, access, status; } cases[] = {
		{ RO, MAP_W, WINVM_STATUS_ACCESS_DENIED },
		{ RO, MAP_R | MAP_W, WINVM_STATUS_ACCESS_DENIED },
		{ WCOPY, MAP_W, WINVM_STATUS_ACCESS_DENIED },
		{ EXR, MAP_W, WINVM_STATUS_ACCESS_DENIED },
		{ EXWCOPY, MAP_W | MAP_X, WINVM_STATUS_ACCESS_DENIED },
		{ RO, MAP_R, ST_OK }, { RO, MAP_C, ST_OK },
		{ WCOPY, MAP_R | MAP_C, ST_OK }, { RW, MAP_W, ST_OK },
		{ EXRW, MAP_W | MAP_X, ST_OK }, { RW, S_ALL, ST_OK },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char name[64], tag[16];
		int sfd, ofd = 7;

		snprintf(tag, sizeof(tag), "acc%u", i);
		wv_name(name, sizeof(name), tag);
		ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, cases[i].prot, 0, -1, 0,
					       name, 0, &sfd));
		ASSERT_ST(cases[i].status, wv_sec_open(self->fd, name, cases[i].access, 0, &ofd))
			TH_LOG("case %u: prot 0x%x access 0x%x", i, cases[i].prot,
			       cases[i].access);
		if (cases[i].status != ST_OK) {
			ASSERT_EQ(-1, ofd);
		} else {
			close(ofd);
		}
		close(sfd);
	}
}

/*
 * FILE_MAP_* values are SECTION_* bits, except FILE_MAP_EXECUTE (0x20),
 * which is granted as SECTION_MAP_EXECUTE; FILE_MAP_COPY is SECTION_QUERY.
 */
TEST_F(winvm, open_granted_access)
{
	static const struct { uint32_t in, out; } acc[] = {
		{ MAP_R, S_MAP_R }, { MAP_W, S_MAP_W },
		{ MAP_C | MAP_R, S_QUERY | S_MAP_R },
		{ MAP_X | MAP_R | S_QUERY, S_MAP_X | S_MAP_R | S_QUERY },
		{ S_MAP_X | S_QUERY, S_MAP_X | S_QUERY },
		{ S_ALL, S_ALL },
	};
	char name[64];
	unsigned int i;
	int sfd;

	wv_name(name, sizeof(name), "granted");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, EXRW, 0, -1, 0, name, 0, &sfd));
	for (i = 0; i < ARRAY_SIZE(acc); i++) {
		struct winvm_section_query_args q;
		int ofd, dfd;

		ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, acc[i].in, 0, &ofd))
			TH_LOG("access 0x%x", acc[i].in);
		if (acc[i].out & S_QUERY) {
			check_query(_metadata, self->fd, ofd, 0x1000, SEC_COMMIT, EXRW, acc[i].out);
		} else {
			/* Seen through a dup that adds nothing: still no query. */
			ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_query(self->fd, ofd, &q));
			ASSERT_ST(WINVM_STATUS_ACCESS_DENIED,
				  wv_sec_dup(self->fd, ofd, acc[i].out | S_QUERY, &dfd));
			ASSERT_ST(ST_OK, wv_sec_dup(self->fd, ofd, acc[i].out, &dfd));
			close(dfd);
		}
		close(ofd);
	}
}

/* Unknown access bits, flags and reserved words in an open. */
TEST_F(winvm, open_invalid_access_and_flags)
{
	static const uint32_t acc[] = { 0x40, 0x100, 0x00100000, 0x80000000u };
	char name[64];
	struct winvm_section_open_args o = { .access = MAP_R };
	unsigned int i;

	wv_name(name, sizeof(name), "badopen");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, NULL));
	for (i = 0; i < ARRAY_SIZE(acc); i++) {
		ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_open(self->fd, name, acc[i], 0, NULL))
			TH_LOG("access 0x%x", acc[i]);
	}
	o.name = U64(name);
	o.name_len = strlen(name);
	o.flags = 2;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_open_raw(self->fd, &o));
	o.flags = 0;
	o.pad = 1;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_open_raw(self->fd, &o));
	o.pad = 0;
	o.reserved[1] = 1;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, wv_sec_open_raw(self->fd, &o));
	o.reserved[1] = 0;
	ASSERT_ST(ST_OK, wv_sec_open_raw(self->fd, &o));
}

/* Rule R91: query needs SECTION_QUERY on the fd. */
TEST_F(winvm, query_needs_section_query)
{
	struct winvm_section_query_args q;
	int sfd = -1, dfd;

	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, S_MAP_R | S_MAP_W,
				       NULL, 0, &sfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_query(self->fd, sfd, &q));
	close(sfd);
	sfd = wv_must_section(self->fd, 0x1000, RW, 0);
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R, &dfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_query(self->fd, dfd, &q));
	close(dfd);
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_QUERY, &dfd));
	check_query(_metadata, self->fd, dfd, 0x1000, SEC_COMMIT, RW, S_QUERY);
}

/* What is not a section: a closed fd, other files, the context itself. */
TEST_F(winvm, query_and_dup_bad_fds)
{
	struct winvm_section_query_args q;
	int p[2], file = wv_tmpfile(0x1000, 10), closed, sfd, nfd = 7;
	int notsec[3];
	unsigned int i;

	ASSERT_LE(0, file);
	ASSERT_EQ(0, pipe(p));
	sfd = wv_must_section(self->fd, 0x1000, RW, 0);
	closed = dup(sfd);
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE, wv_sec_query(self->fd, closed, &q));
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE, wv_sec_query(self->fd, -1, &q));
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE, wv_sec_dup(self->fd, closed, S_MAP_R, &nfd));
	ASSERT_EQ(-1, nfd);
	ASSERT_ST(WINVM_STATUS_INVALID_HANDLE, wv_sec_dup(self->fd, 1000000, S_MAP_R, NULL));

	notsec[0] = p[0];
	notsec[1] = file;
	notsec[2] = self->fd;
	for (i = 0; i < ARRAY_SIZE(notsec); i++) {
		ASSERT_ST(WINVM_STATUS_OBJECT_TYPE_MISMATCH, wv_sec_query(self->fd, notsec[i], &q))
			TH_LOG("fd %u", i);
		ASSERT_ST(WINVM_STATUS_OBJECT_TYPE_MISMATCH,
			  wv_sec_dup(self->fd, notsec[i], S_MAP_R, NULL))
			TH_LOG("fd %u", i);
	}
	/* A plain dup(2) of a section fd is still that section. */
	closed = dup(sfd);
	ASSERT_LE(0, closed);
	check_query(_metadata, self->fd, closed, 0x1000, SEC_COMMIT, RW, S_ALL);
}

/* Query and dup refuse unknown flags and reserved words. */
TEST_F(winvm, query_and_dup_flags)
{
	struct winvm_section_query_args q = { 0 };
	struct winvm_section_dup_args d = { 0 };
	int sfd = wv_must_section(self->fd, 0x1000, RW, 0);

	q.section_fd = sfd;
	q.flags = 1;
	q.status = WV_GARBAGE32;
	wv_errno = ioctl(self->fd, WINVM_IOC_SECTION_QUERY, &q) ? errno : 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, q.status);
	q.flags = 0;
	q.reserved[0] = 1;
	q.status = WV_GARBAGE32;
	wv_errno = ioctl(self->fd, WINVM_IOC_SECTION_QUERY, &q) ? errno : 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, q.status);

	d.section_fd = sfd;
	d.access = S_MAP_R;
	d.flags = 1;
	d.status = WV_GARBAGE32;
	wv_errno = ioctl(self->fd, WINVM_IOC_SECTION_DUP, &d) < 0 ? errno : 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, d.status);
	d.flags = 0;
	d.pad = 1;
	d.status = WV_GARBAGE32;
	wv_errno = ioctl(self->fd, WINVM_IOC_SECTION_DUP, &d) < 0 ? errno : 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, d.status);
	d.pad = 0;
	d.reserved[1] = 1;
	d.status = WV_GARBAGE32;
	wv_errno = ioctl(self->fd, WINVM_IOC_SECTION_DUP, &d) < 0 ? errno : 0;
	ASSERT_ST(WINVM_STATUS_INVALID_PARAMETER, d.status);
}

/* Dup: a new O_CLOEXEC fd with a subset of the access; 0 is no access. */
TEST_F(winvm, dup_access_subset)
{
	struct winvm_section_dup_args d = { .access = S_QUERY | S_MAP_R };
	struct winvm_section_query_args q;
	int sfd = wv_must_section(self->fd, 0x2000, RW, 0), rfd, zfd;

	d.section_fd = sfd;
	d.fd = -2;
	d.status = WV_GARBAGE32;
	wv_ioret = ioctl(self->fd, WINVM_IOC_SECTION_DUP, &d);
	wv_errno = wv_ioret < 0 ? errno : 0;
	ASSERT_ST(ST_OK, d.status);
	ASSERT_LE(0, d.fd);
	ASSERT_EQ(d.fd, wv_ioret);
	ASSERT_NE(sfd, d.fd);
	ASSERT_TRUE(wv_cloexec(d.fd));
	check_query(_metadata, self->fd, d.fd, 0x2000, SEC_COMMIT, RW, S_QUERY | S_MAP_R);
	/* From that fd only subsets of QUERY|MAP_READ. */
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_dup(self->fd, d.fd, S_MAP_W, NULL));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED,
		  wv_sec_dup(self->fd, d.fd, S_QUERY | S_MAP_R | S_MAP_X, NULL));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_dup(self->fd, d.fd, S_ALL, NULL));
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, d.fd, S_MAP_R, &rfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_query(self->fd, rfd, &q));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_dup(self->fd, rfd, S_QUERY, NULL));
	/* Access 0: an fd with no access at all. */
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, 0, &zfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_query(self->fd, zfd, &q));
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, zfd, 0, NULL));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_sec_dup(self->fd, zfd, S_MAP_R, NULL));
	/* The full access again from the original. */
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_ALL, &rfd));
	check_query(_metadata, self->fd, rfd, 0x2000, SEC_COMMIT, RW, S_ALL);
}

/* Rule R97: the fd's access gates the views that can be mapped with it. */
TEST_F(winvm, dup_access_gates_views)
{
	int sfd = wv_must_section(self->fd, 0x1000, EXRW, 0), rfd, zfd, wfd;
	uint64_t v;

	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_R, &rfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, rfd, MAP_W, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, rfd, MAP_R | MAP_W, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, rfd, MAP_X | MAP_R, 0, 0, 0));
	v = wv_must_map(self->fd, rfd, 0, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, NOACCESS, 0x1000, COMMIT, NOACCESS, WV_MAPPED);
	v = wv_must_map(self->fd, rfd, MAP_R, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RO, 0x1000, COMMIT, RO, WV_MAPPED);
	v = wv_must_map(self->fd, rfd, MAP_C, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, WCOPY, 0x1000, COMMIT, WCOPY, WV_MAPPED);

	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, 0, &zfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, zfd, 0, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, zfd, MAP_R, 0, 0, 0));

	/* MAP_WRITE alone: write views only. */
	ASSERT_ST(ST_OK, wv_sec_dup(self->fd, sfd, S_MAP_W, &wfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, wfd, MAP_R, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, wfd, MAP_C, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, wfd, 0, 0, 0, 0));
	v = wv_must_map(self->fd, wfd, MAP_W, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x1000, COMMIT, RW, WV_MAPPED);
}

/* Rule R97, third part: OpenFileMapping(FILE_MAP_WRITE) maps write views only. */
TEST_F(winvm, open_write_only_access_gates_views)
{
	char name[64];
	int sfd, ofd;
	uint64_t v;

	wv_name(name, sizeof(name), "writeonly");
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, RW, 0, -1, 0, name, 0, &sfd));
	ASSERT_ST(ST_OK, wv_sec_open(self->fd, name, MAP_W, 0, &ofd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, ofd, MAP_R, 0, 0, 0));
	v = wv_must_map(self->fd, ofd, MAP_W, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RW, 0x1000, COMMIT, RW, WV_MAPPED);
	*(volatile int *)PTR(v) = 9;
	ASSERT_EQ(9, *(volatile int *)PTR(wv_must_map(self->fd, sfd, MAP_R, 0, 0)));
}

/* Create with restricted access: the same gate applies to the creator's fd. */
TEST_F(winvm, create_access_gates_views)
{
	int sfd = -1;
	uint64_t v;

	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, EXRW, 0, -1, S_QUERY | S_MAP_R,
				       NULL, 0, &sfd));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, sfd, MAP_W, 0, 0, 0));
	ASSERT_ST(WINVM_STATUS_ACCESS_DENIED, wv_map_at(self->fd, sfd, MAP_X | MAP_R, 0, 0, 0));
	v = wv_must_map(self->fd, sfd, MAP_R, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, RO, 0x1000, COMMIT, RO, WV_MAPPED);
	close(sfd);
	ASSERT_ST(ST_OK, wv_sec_create(self->fd, 0x1000, EXRW, 0, -1, S_MAP_R | S_MAP_X,
				       NULL, 0, &sfd));
	v = wv_must_map(self->fd, sfd, MAP_X | MAP_R, 0, 0);
	ASSERT_VQ(self->fd, v, v, v, EXR, 0x1000, COMMIT, EXR, WV_MAPPED);
}

/*
 * The section lives while an fd or a view holds it: every fd closed, the
 * view still works; a plain dup(2) fd keeps the section mappable.
 */
TEST_F(winvm, section_lifetime_fds)
{
	int sfd = wv_must_section(self->fd, 0x2000, RW, 0), d;
	uint64_t v1 = wv_must_map(self->fd, sfd, MAP_W, 0, 0), v2;

	*(volatile uint64_t *)PTR(v1 + 8) = 0x1122334455667788ULL;
	d = dup(sfd);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, close(sfd));
	v2 = wv_must_map(self->fd, d, MAP_R, 0, 0);
	ASSERT_EQ(0x1122334455667788ULL, *(volatile uint64_t *)PTR(v2 + 8));
	ASSERT_EQ(0, close(d));
	ASSERT_OK(wv_unmap(self->fd, v1));
	ASSERT_EQ(0x1122334455667788ULL, *(volatile uint64_t *)PTR(v2 + 8));
	ASSERT_VQ(self->fd, v2, v2, v2, RO, 0x2000, COMMIT, RO, WV_MAPPED);
}

/* Section fds can be created and used by many at once. */
TEST_F(winvm, many_sections)
{
	int fds[64];
	uint64_t v[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = wv_must_section(self->fd, 0x1000 * (i % 4 + 1), RW, i & 1 ? SEC_RESERVE : 0);
		if (!(i & 1)) {
			v[i] = wv_must_map(self->fd, fds[i], MAP_W, 0, 0);
			*(volatile unsigned int *)PTR(v[i]) = i;
		}
	}
	for (i = 0; i < ARRAY_SIZE(fds); i += 2) {
		ASSERT_EQ(i, *(volatile unsigned int *)PTR(v[i]));
	}
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		ASSERT_EQ(0, close(fds[i]));
	}
	for (i = 0; i < ARRAY_SIZE(fds); i += 2) {
		ASSERT_EQ(i, *(volatile unsigned int *)PTR(v[i]));
		ASSERT_OK(wv_unmap(self->fd, v[i]));
	}
}

TEST_HARNESS_MAIN
