// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libwinvm native API: the ioctl wrappers, the process-wide context and
 * the NTSTATUS helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "winvm/winvm.h"
#include "internal.h"

/* Written into "status" before each ioctl, to see whether the module wrote it. */
#define STATUS_UNSET	0xffffffffu

/* ------------------------------------------------------------------ */
/* Contexts                                                             */
/* ------------------------------------------------------------------ */

int winvm_open(void)
{
	return open("/dev/winvm", O_RDWR | O_CLOEXEC);
}

/*
 * The default context.  Readers (including the SIGSEGV handler) only load
 * it; the first opener publishes its fd with a compare-and-swap and a loser
 * closes its own.  In a fork child the inherited fd belongs to the parent's
 * address space, so the atfork handler drops it (the child is
 * single-threaded there) and the next call opens a new one.
 */
static int default_fd = -1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void default_fd_atfork_child(void)
{
	int fd = __atomic_load_n(&default_fd, __ATOMIC_RELAXED);

	if (fd >= 0)
		close(fd);
	__atomic_store_n(&default_fd, -1, __ATOMIC_RELAXED);
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, default_fd_atfork_child);
}

int winvm_default_fd(void)
{
	int fd = __atomic_load_n(&default_fd, __ATOMIC_ACQUIRE), expected = -1;

	if (fd >= 0)
		return fd;
	pthread_once(&atfork_once, register_atfork);
	fd = winvm_open();
	if (fd < 0)
		return -1;
	if (!__atomic_compare_exchange_n(&default_fd, &expected, fd, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		close(fd);
		return expected;
	}
	return fd;
}

/* The default fd if it is open already; never opens (signal handlers). */
int winvm__peek_default_fd(void)
{
	return __atomic_load_n(&default_fd, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ */
/* The ioctls                                                           */
/* ------------------------------------------------------------------ */

NTSTATUS winvm_status_from_errno(int err)
{
	switch (err) {
	case 0:
		return WINVM_STATUS_SUCCESS;
	case ENOTTY:
	case ENOSYS:
		return WINVM_STATUS_NOT_IMPLEMENTED;
	case EBADF:
		return WINVM_STATUS_INVALID_HANDLE;
	case EFAULT:
		return WINVM_STATUS_ACCESS_VIOLATION;
	case ENOMEM:
		return WINVM_STATUS_NO_MEMORY;
	case EACCES:
	case EPERM:
		return WINVM_STATUS_ACCESS_DENIED;
	case ENOENT:
		return WINVM_STATUS_OBJECT_NAME_NOT_FOUND;
	case EINVAL:
		return WINVM_STATUS_INVALID_PARAMETER;
	case EMFILE:
	case ENFILE:
		return WINVM_STATUS_NO_MEMORY;	/* out of handles: ERROR_NOT_ENOUGH_MEMORY */
	}
	return WINVM_STATUS_UNSUCCESSFUL;
}

/*
 * Runs one ioctl whose struct has a "status" field preset to STATUS_UNSET;
 * returns the module's status, or one derived from errno when the module
 * did not write it.  errno is preserved from the ioctl.
 */
static NTSTATUS do_ioctl(int fd, unsigned long cmd, void *arg, uint32_t *status)
{
	int ret;

	if (fd < 0) {
		errno = EBADF;
		return WINVM_STATUS_INVALID_HANDLE;
	}
	*status = STATUS_UNSET;
	ret = ioctl(fd, cmd, arg);
	if (ret < 0) {
		if (*status == STATUS_UNSET || *status == WINVM_STATUS_SUCCESS)
			return winvm_status_from_errno(errno);
		return *status;
	}
	if (*status == STATUS_UNSET)
		return WINVM_STATUS_SUCCESS;
	return *status;
}

NTSTATUS winvm_info(int fd, struct winvm_info_args *info)
{
	memset(info, 0, sizeof(*info));
	return do_ioctl(fd, WINVM_IOC_INFO_GET, info, &info->status);
}

NTSTATUS winvm_alloc(int fd, uint64_t *address, uint64_t *size, uint64_t zero_bits,
		     uint32_t type, uint32_t protect)
{
	struct winvm_alloc_args a = {
		.address = *address, .size = *size, .zero_bits = zero_bits,
		.type = type, .protect = protect,
	};
	NTSTATUS st = do_ioctl(fd, WINVM_IOC_MEM_ALLOC, &a, &a.status);

	*address = a.address;
	*size = a.size;
	return st;
}

NTSTATUS winvm_free(int fd, uint64_t *address, uint64_t *size, uint32_t type)
{
	struct winvm_free_args a = { .address = *address, .size = *size, .type = type };
	NTSTATUS st = do_ioctl(fd, WINVM_IOC_MEM_FREE, &a, &a.status);

	*address = a.address;
	*size = a.size;
	return st;
}

NTSTATUS winvm_protect(int fd, uint64_t *address, uint64_t *size, uint32_t protect,
		       uint32_t *old_protect)
{
	struct winvm_protect_args a = {
		.address = *address, .size = *size, .protect = protect,
		.old_protect = STATUS_UNSET,
	};
	NTSTATUS st = do_ioctl(fd, WINVM_IOC_MEM_PROTECT, &a, &a.status);

	*address = a.address;
	*size = a.size;
	if (old_protect && a.old_protect != STATUS_UNSET)
		*old_protect = a.old_protect;
	return st;
}

NTSTATUS winvm_query(int fd, uint64_t address, struct winvm_query_args *info)
{
	memset(info, 0, sizeof(*info));
	info->address = address;
	return do_ioctl(fd, WINVM_IOC_MEM_QUERY, info, &info->status);
}

NTSTATUS winvm_watch_get(int fd, uint32_t flags, uint64_t address, uint64_t size,
			 uint64_t *addresses, uint64_t *count, uint32_t *granularity)
{
	struct winvm_watch_get_args a = {
		.address = address, .size = size, .flags = flags,
		.addresses = (uintptr_t)addresses, .count = *count,
	};
	NTSTATUS st = do_ioctl(fd, WINVM_IOC_WATCH_GET, &a, &a.status);

	if (WINVM_NT_SUCCESS(st)) {
		*count = a.count;
		if (granularity)
			*granularity = a.granularity;
	}
	return st;
}

NTSTATUS winvm_watch_reset(int fd, uint64_t address, uint64_t size)
{
	struct winvm_watch_reset_args a = { .address = address, .size = size };

	return do_ioctl(fd, WINVM_IOC_WATCH_RESET, &a, &a.status);
}

NTSTATUS winvm_fault_info(int fd, struct winvm_fault_info_args *info)
{
	int saved = errno;
	NTSTATUS st;

	memset(info, 0, sizeof(*info));
	st = do_ioctl(fd, WINVM_IOC_FAULT_INFO, info, &info->status);
	errno = saved;
	return st;
}

static void name_arg(const char *name, __u64 *ptr, __u32 *len)
{
	size_t n;

	*ptr = 0;
	*len = 0;
	if (!name)
		return;
	n = strlen(name);
	/* Too long for the u32: let the module see an over-long name. */
	*len = n > UINT32_MAX ? UINT32_MAX : (__u32)n;
	*ptr = (uintptr_t)name;
}

NTSTATUS winvm_section_create(int fd, int *section_fd, uint64_t size, const char *name,
			      int file_fd, uint32_t protect, uint32_t attributes,
			      uint32_t access, uint32_t flags, int *existed)
{
	struct winvm_section_create_args a = {
		.size = size, .file_fd = file_fd, .protect = protect,
		.attributes = attributes, .access = access, .flags = flags, .fd = -1,
	};
	NTSTATUS st;

	name_arg(name, &a.name, &a.name_len);
	st = do_ioctl(fd, WINVM_IOC_SECTION_CREATE, &a, &a.status);
	*section_fd = WINVM_NT_SUCCESS(st) ? a.fd : -1;
	if (existed)
		*existed = WINVM_NT_SUCCESS(st) && a.existed;
	return st;
}

NTSTATUS winvm_section_open(int fd, int *section_fd, const char *name, uint32_t access,
			    uint32_t flags)
{
	struct winvm_section_open_args a = { .access = access, .flags = flags, .fd = -1 };
	NTSTATUS st;

	name_arg(name, &a.name, &a.name_len);
	st = do_ioctl(fd, WINVM_IOC_SECTION_OPEN, &a, &a.status);
	*section_fd = WINVM_NT_SUCCESS(st) ? a.fd : -1;
	return st;
}

NTSTATUS winvm_section_query(int fd, int section_fd, struct winvm_section_query_args *info)
{
	memset(info, 0, sizeof(*info));
	info->section_fd = section_fd;
	return do_ioctl(fd, WINVM_IOC_SECTION_QUERY, info, &info->status);
}

NTSTATUS winvm_section_dup(int fd, int section_fd, uint32_t access, int *new_fd)
{
	struct winvm_section_dup_args a = {
		.section_fd = section_fd, .access = access, .fd = -1,
	};
	NTSTATUS st = do_ioctl(fd, WINVM_IOC_SECTION_DUP, &a, &a.status);

	*new_fd = WINVM_NT_SUCCESS(st) ? a.fd : -1;
	return st;
}

NTSTATUS winvm_view_map(int fd, int section_fd, uint32_t access, uint64_t *address,
			uint64_t offset, uint64_t *size, uint64_t zero_bits, uint32_t type)
{
	struct winvm_view_map_args a = {
		.section_fd = section_fd, .access = access, .address = *address,
		.offset = offset, .size = *size, .zero_bits = zero_bits, .type = type,
	};
	NTSTATUS st = do_ioctl(fd, WINVM_IOC_VIEW_MAP, &a, &a.status);

	*address = a.address;
	*size = a.size;
	return st;
}

NTSTATUS winvm_view_unmap(int fd, uint64_t address)
{
	struct winvm_view_unmap_args a = { .address = address };

	return do_ioctl(fd, WINVM_IOC_VIEW_UNMAP, &a, &a.status);
}

NTSTATUS winvm_view_flush(int fd, uint64_t *address, uint64_t *size)
{
	struct winvm_view_flush_args a = { .address = *address, .size = *size };
	NTSTATUS st = do_ioctl(fd, WINVM_IOC_VIEW_FLUSH, &a, &a.status);

	*address = a.address;
	*size = a.size;
	return st;
}

/* ------------------------------------------------------------------ */
/* Status helpers                                                       */
/* ------------------------------------------------------------------ */

static const struct {
	NTSTATUS status;
	const char *name;
	uint32_t win32;		/* RtlNtStatusToDosError() */
} status_table[] = {
#define S(name, err) { WINVM_STATUS_##name, "STATUS_" #name, err }
	S(SUCCESS, 0),
	S(OBJECT_NAME_EXISTS, 183),		/* ERROR_ALREADY_EXISTS */
	S(GUARD_PAGE_VIOLATION, 0x80000001u),	/* not mapped: the status itself */
	S(BUFFER_OVERFLOW, 234),		/* ERROR_MORE_DATA */
	S(PARTIAL_COPY, 299),			/* ERROR_PARTIAL_COPY */
	S(UNSUCCESSFUL, 31),			/* ERROR_GEN_FAILURE */
	S(NOT_IMPLEMENTED, 1),			/* ERROR_INVALID_FUNCTION */
	S(INVALID_INFO_CLASS, 87),		/* ERROR_INVALID_PARAMETER */
	S(INFO_LENGTH_MISMATCH, 24),		/* ERROR_BAD_LENGTH */
	S(ACCESS_VIOLATION, 998),		/* ERROR_NOACCESS */
	S(INVALID_HANDLE, 6),			/* ERROR_INVALID_HANDLE */
	S(INVALID_PARAMETER, 87),
	S(INVALID_DEVICE_REQUEST, 1),		/* ERROR_INVALID_FUNCTION */
	S(NO_MEMORY, 8),			/* ERROR_NOT_ENOUGH_MEMORY */
	S(CONFLICTING_ADDRESSES, 487),		/* ERROR_INVALID_ADDRESS */
	S(NOT_MAPPED_VIEW, 487),
	S(UNABLE_TO_FREE_VM, 87),
	S(INVALID_VIEW_SIZE, 5),		/* ERROR_ACCESS_DENIED */
	S(INVALID_FILE_FOR_SECTION, 193),	/* ERROR_BAD_EXE_FORMAT */
	S(ALREADY_COMMITTED, 5),
	S(ACCESS_DENIED, 5),
	S(OBJECT_TYPE_MISMATCH, 6),		/* ERROR_INVALID_HANDLE */
	S(NOT_COMMITTED, 487),
	S(INVALID_PARAMETER_MIX, 87),
	S(OBJECT_NAME_INVALID, 123),		/* ERROR_INVALID_NAME */
	S(OBJECT_NAME_NOT_FOUND, 2),		/* ERROR_FILE_NOT_FOUND */
	S(OBJECT_NAME_COLLISION, 183),		/* ERROR_ALREADY_EXISTS */
	S(SECTION_TOO_BIG, 8),			/* ERROR_NOT_ENOUGH_MEMORY */
	S(INVALID_PAGE_PROTECTION, 87),
	S(SECTION_NOT_IMAGE, 87),
	S(PRIVILEGE_NOT_HELD, 1314),		/* ERROR_PRIVILEGE_NOT_HELD */
	S(INVALID_IMAGE_NOT_MZ, 193),		/* ERROR_BAD_EXE_FORMAT */
	S(FREE_VM_NOT_AT_BASE, 487),
	S(MEMORY_NOT_ALLOCATED, 487),
	S(NOT_SUPPORTED, 50),			/* ERROR_NOT_SUPPORTED */
	S(INVALID_PARAMETER_1, 87),
	S(INVALID_PARAMETER_2, 87),
	S(INVALID_PARAMETER_3, 87),
	S(INVALID_PARAMETER_4, 87),
	S(INVALID_PARAMETER_5, 87),
	S(MAPPED_FILE_SIZE_ZERO, 1006),		/* ERROR_FILE_INVALID */
	S(COMMITMENT_LIMIT, 1455),		/* ERROR_COMMITMENT_LIMIT */
	/* Windows really maps this one to ERROR_UNEXP_NET_ERR. */
	S(INVALID_ADDRESS, 59),
	S(MAPPED_ALIGNMENT, 1132),		/* ERROR_MAPPED_ALIGNMENT */
	S(NOT_FOUND, 1168),			/* ERROR_NOT_FOUND */
#undef S
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

const char *winvm_status_name(NTSTATUS status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(status_table); i++)
		if (status_table[i].status == status)
			return status_table[i].name;
	return "STATUS_<unknown>";
}

uint32_t winvm_status_to_win32(NTSTATUS status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(status_table); i++)
		if (status_table[i].status == status)
			return status_table[i].win32;
	/* INVALID_PARAMETER_6..12 */
	if (status >= 0xc00000f4u && status <= 0xc00000fau)
		return 87;
	/* Success and informational codes that are not listed map to themselves. */
	if ((status >> 30) <= 1)
		return status;
	return 317;	/* ERROR_MR_MID_NOT_FOUND, as Windows for unmapped codes */
}

char *winvm_protect_string(uint32_t protect, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } bits[] = {
		{ WINVM_PAGE_NOACCESS, "PAGE_NOACCESS" },
		{ WINVM_PAGE_READONLY, "PAGE_READONLY" },
		{ WINVM_PAGE_READWRITE, "PAGE_READWRITE" },
		{ WINVM_PAGE_WRITECOPY, "PAGE_WRITECOPY" },
		{ WINVM_PAGE_EXECUTE, "PAGE_EXECUTE" },
		{ WINVM_PAGE_EXECUTE_READ, "PAGE_EXECUTE_READ" },
		{ WINVM_PAGE_EXECUTE_READWRITE, "PAGE_EXECUTE_READWRITE" },
		{ WINVM_PAGE_EXECUTE_WRITECOPY, "PAGE_EXECUTE_WRITECOPY" },
		{ WINVM_PAGE_GUARD, "PAGE_GUARD" },
		{ WINVM_PAGE_NOCACHE, "PAGE_NOCACHE" },
		{ WINVM_PAGE_WRITECOMBINE, "PAGE_WRITECOMBINE" },
	};
	uint32_t rest = protect;
	size_t i, n = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	if (!protect) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		if (!(protect & bits[i].bit))
			continue;
		rest &= ~bits[i].bit;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "",
			      bits[i].name);
	}
	if (rest)
		snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "|" : "", rest);
	return buf;
}
