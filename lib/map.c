// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libwinvm: winvm_map_print(), a VMMap-like picture of the calling
 * process's address space, built from VirtualQuery (WINVM_IOC_MEM_QUERY)
 * walks.  tools/winvm-map is its command-line front end.
 *
 * The walk goes allocation by allocation: the module answers each query
 * with the allocation's base and size (MemoryRegionInformation), so the
 * regions inside it are visited with further queries and free space is
 * skipped in one step.  Resident sizes come from mincore() over the
 * committed regions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "winvm/winvm.h"

#define PAGE		4096ULL
#define STRIP_MAX	64	/* characters per strip */
#define REGIONS_MAX	4096	/* regions kept per allocation for printing */

struct region {
	uint64_t base, size;
	uint32_t state, protect;
};

struct allocation {
	uint64_t base, size, committed, resident;
	bool resident_known;
	uint32_t alloc_protect, type;
	bool winvm, any_commit, any_reserve;
	uint64_t per;			/* pages per strip character */
	unsigned int nstrip;
	char strip[STRIP_MAX + 1];
	unsigned int nregions;
	bool regions_truncated;
	struct region *regions;
	char name[256];			/* Linux mappings: the /proc/self/maps path */
	int64_t written;		/* MEM_WRITE_WATCH: pages written; else -1 */
};

/* ------------------------------------------------------------------ */
/* Page classes and colours                                             */
/* ------------------------------------------------------------------ */

static char page_class(uint32_t state, uint32_t protect)
{
	if (state != WINVM_MEM_COMMIT)
		return '.';
	if (protect & WINVM_PAGE_GUARD)
		return 'g';
	switch (protect & 0xff) {
	case WINVM_PAGE_NOACCESS:
		return '-';
	case WINVM_PAGE_READONLY:
		return 'r';
	case WINVM_PAGE_READWRITE:
		return '#';
	case WINVM_PAGE_WRITECOPY:
	case WINVM_PAGE_EXECUTE_WRITECOPY:
		return 'c';
	case WINVM_PAGE_EXECUTE:
	case WINVM_PAGE_EXECUTE_READ:
	case WINVM_PAGE_EXECUTE_READWRITE:
		return 'x';
	}
	return '?';
}

/* Which class wins when one character stands for several pages. */
static int class_rank(char c)
{
	static const char order[] = " .-r#xcg";
	const char *p = strchr(order, c);

	return p ? (int)(p - order) : 0;
}

static const char *class_colour(char c)
{
	switch (c) {
	case '#': return "\033[32m";	/* green */
	case 'r': return "\033[36m";	/* cyan */
	case 'x': return "\033[31m";	/* red */
	case 'c': return "\033[34m";	/* blue */
	case 'g': return "\033[1;33m";	/* bold yellow */
	case '-': return "\033[35m";	/* magenta */
	case '.': return "\033[2m";	/* dim */
	}
	return "";
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case WINVM_MEM_PRIVATE: return "Private";
	case WINVM_MEM_MAPPED: return "Mapped";
	case WINVM_MEM_IMAGE: return "Image";
	}
	return "-";
}

static const char *state_name(const struct allocation *a)
{
	if (a->any_commit && a->any_reserve)
		return "Mixed";
	return a->any_commit ? "Commit" : "Reserve";
}

static const char *region_state_name(uint32_t state)
{
	switch (state) {
	case WINVM_MEM_COMMIT: return "Commit";
	case WINVM_MEM_RESERVE: return "Reserve";
	case WINVM_MEM_FREE: return "Free";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Collecting                                                           */
/* ------------------------------------------------------------------ */

/* Resident pages of [base, base + size), by mincore(); -1 if unknown. */
static int64_t resident_pages(uint64_t base, uint64_t size)
{
	unsigned char vec[4096];
	uint64_t done = 0, n, i;
	int64_t res = 0;

	while (done < size) {
		n = (size - done) / PAGE;
		if (n > sizeof(vec))
			n = sizeof(vec);
		if (mincore((void *)(uintptr_t)(base + done), n * PAGE, vec))
			return -1;
		for (i = 0; i < n; i++)
			res += vec[i] & 1;
		done += n * PAGE;
	}
	return res;
}

static void strip_mark(struct allocation *a, uint64_t base, uint64_t size, char c)
{
	uint64_t first = (base - a->base) / PAGE, last = (base + size - a->base) / PAGE;
	uint64_t i;

	if (last <= first)
		return;
	for (i = first / a->per; i <= (last - 1) / a->per && i < a->nstrip; i++)
		if (class_rank(c) > class_rank(a->strip[i]))
			a->strip[i] = c;
}

/* The /proc/self/maps path of the mapping that starts at @base, if any. */
static void maps_name(uint64_t base, char *name, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	name[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		int off = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &s, &e, &off) < 2 || !off)
			continue;
		if (s == base) {
			line[strcspn(line, "\n")] = 0;
			snprintf(name, len, "%s", line + off);
			break;
		}
	}
	fclose(f);
}

/*
 * The pages of @a written since the last reset, if it was made with
 * MEM_WRITE_WATCH (WATCH_GET without reset, in rounds); -1 if not.
 */
static int64_t watched_pages(int fd, const struct allocation *a)
{
	uint64_t buf[512], addr = a->base, end = a->base + a->size, count;
	int64_t total = 0;

	for (;;) {
		count = sizeof(buf) / sizeof(buf[0]);
		if (!WINVM_NT_SUCCESS(winvm_watch_get(fd, 0, addr, end - addr, buf, &count,
						      NULL)))
			return addr == a->base ? -1 : total;
		total += (int64_t)count;
		if (count < sizeof(buf) / sizeof(buf[0]))
			return total;
		addr = buf[count - 1] + PAGE;
		if (addr >= end)
			return total;
	}
}

/*
 * Fills @a for the allocation containing @addr (first query in @q).
 * Returns false if the walk cannot go on.
 */
static bool collect(int fd, const struct winvm_query_args *first, struct allocation *a,
		    bool want_regions)
{
	struct winvm_query_args q = *first;
	uint64_t addr, end, pages;
	int64_t r;

	memset(a, 0, sizeof(*a));
	a->base = q.allocation_base;
	a->size = q.allocation_size;
	a->alloc_protect = q.allocation_protect;
	a->type = q.type;
	a->winvm = q.region_flags & WINVM_REGION_WINVM;
	a->resident_known = true;
	/* Older answers without MemoryRegionInformation: walk to the end. */
	if (!a->size || a->base + a->size <= q.base_address)
		a->size = q.base_address + q.region_size - a->base;
	pages = a->size / PAGE;
	a->per = pages <= STRIP_MAX ? 1 : (pages + STRIP_MAX - 1) / STRIP_MAX;
	a->nstrip = (unsigned int)((pages + a->per - 1) / a->per);
	memset(a->strip, ' ', a->nstrip);
	a->strip[a->nstrip] = 0;
	if (want_regions)
		a->regions = calloc(REGIONS_MAX, sizeof(*a->regions));

	end = a->base + a->size;
	addr = a->base;
	while (addr < end) {
		if (addr != q.base_address &&
		    !WINVM_NT_SUCCESS(winvm_query(fd, addr, &q)))
			break;
		if (q.allocation_base != a->base || !q.region_size)
			break;
		if (q.base_address + q.region_size > end)
			q.region_size = end - q.base_address;
		if (q.state == WINVM_MEM_COMMIT) {
			a->any_commit = true;
			a->committed += q.region_size;
			r = resident_pages(q.base_address, q.region_size);
			if (r < 0)
				a->resident_known = false;
			else
				a->resident += (uint64_t)r * PAGE;
		} else {
			a->any_reserve = true;
		}
		strip_mark(a, q.base_address, q.region_size, page_class(q.state, q.protect));
		if (a->regions) {
			if (a->nregions < REGIONS_MAX)
				a->regions[a->nregions++] = (struct region){
					q.base_address, q.region_size, q.state, q.protect };
			else
				a->regions_truncated = true;
		}
		addr = q.base_address + q.region_size;
	}
	if (!a->winvm)
		maps_name(a->base, a->name, sizeof(a->name));
	a->written = a->winvm && a->type == WINVM_MEM_PRIVATE ? watched_pages(fd, a) : -1;
	return true;
}

/* ------------------------------------------------------------------ */
/* Printing                                                             */
/* ------------------------------------------------------------------ */

static void print_kib(FILE *out, uint64_t bytes, bool known)
{
	char buf[32];

	if (!known)
		snprintf(buf, sizeof(buf), "?");
	else
		snprintf(buf, sizeof(buf), "%" PRIu64 " K", (bytes + 1023) / 1024);
	fprintf(out, "%10s", buf);
}

static void print_strip(FILE *out, const struct allocation *a, bool colour)
{
	unsigned int i;
	char prev = 0;

	fputc('[', out);
	for (i = 0; i < a->nstrip; i++) {
		char c = a->strip[i];

		if (colour && c != prev)
			fprintf(out, "\033[0m%s", class_colour(c));
		prev = c;
		fputc(c, out);
	}
	if (colour)
		fputs("\033[0m", out);
	fputc(']', out);
	if (a->per > 1)
		fprintf(out, " x%" PRIu64, a->per);
}

static void print_header(FILE *out)
{
	fprintf(out, "%-16s %10s %-7s %-8s %-24s %10s %10s  %s\n", "Address", "Size",
		"Type", "State", "AllocationProtect", "Committed", "Resident", "Pages");
}

static void print_row(FILE *out, const struct allocation *a, unsigned int flags, bool colour)
{
	char pb[96];
	unsigned int i;

	fprintf(out, "%016" PRIx64 " ", a->base);
	print_kib(out, a->size, true);
	fprintf(out, " %-7s %-8s %-24s ", type_name(a->type), state_name(a),
		winvm_protect_string(a->alloc_protect, pb, sizeof(pb)));
	print_kib(out, a->committed, true);
	fputc(' ', out);
	print_kib(out, a->resident, a->resident_known);
	fputs("  ", out);
	if (a->winvm)
		print_strip(out, a, colour);
	else
		fprintf(out, "%s", a->name[0] ? a->name : "(linux)");
	if (a->written >= 0)
		fprintf(out, "  write watch: %" PRId64 " written", a->written);
	fputc('\n', out);
	if (!(flags & WINVM_MAP_REGIONS) || !a->regions)
		return;
	for (i = 0; i < a->nregions; i++) {
		const struct region *r = &a->regions[i];

		fprintf(out, "  +%-13" PRIx64 " ", r->base - a->base);
		print_kib(out, r->size, true);
		fprintf(out, " %-7s %-8s %s\n", "", region_state_name(r->state),
			r->state == WINVM_MEM_COMMIT ?
			winvm_protect_string(r->protect, pb, sizeof(pb)) : "");
	}
	if (a->regions_truncated)
		fprintf(out, "  ... more regions\n");
}

static void print_legend(FILE *out, bool colour)
{
	static const struct { char c; const char *what; } items[] = {
		{ '#', "read/write" }, { 'r', "read-only" }, { 'x', "executable" },
		{ 'c', "write-copy" }, { 'g', "guard" }, { '-', "no-access" },
		{ '.', "reserved" },
	};
	size_t i;

	fputs("Pages:", out);
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		fputc(' ', out);
		if (colour)
			fputs(class_colour(items[i].c), out);
		fputc(items[i].c, out);
		if (colour)
			fputs("\033[0m", out);
		fprintf(out, " %s", items[i].what);
	}
	fputs("; xN: one character per N pages\n", out);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void print_json(FILE *out, const struct allocation *a, bool first)
{
	char pb[96];
	unsigned int i;

	fprintf(out, "%s\n    {\"base\": \"0x%" PRIx64 "\", \"size\": %" PRIu64
		", \"type\": \"%s\", \"state\": \"%s\", \"allocation_protect\": ",
		first ? "" : ",", a->base, a->size, type_name(a->type), state_name(a));
	json_string(out, winvm_protect_string(a->alloc_protect, pb, sizeof(pb)));
	fprintf(out, ", \"committed\": %" PRIu64 ", \"resident\": ", a->committed);
	if (a->resident_known)
		fprintf(out, "%" PRIu64, a->resident);
	else
		fputs("null", out);
	fprintf(out, ", \"winvm\": %s, \"name\": ", a->winvm ? "true" : "false");
	json_string(out, a->name);
	if (a->written >= 0)
		fprintf(out, ", \"write_watch_written\": %" PRId64, a->written);
	else
		fputs(", \"write_watch_written\": null", out);
	fprintf(out, ", \"pages\": \"%s\", \"pages_per_char\": %" PRIu64 ", \"regions\": [",
		a->strip, a->per);
	for (i = 0; i < a->nregions; i++) {
		const struct region *r = &a->regions[i];

		fprintf(out, "%s{\"base\": \"0x%" PRIx64 "\", \"size\": %" PRIu64
			", \"state\": \"%s\", \"protect\": ", i ? ", " : "", r->base,
			r->size, region_state_name(r->state));
		json_string(out, r->state == WINVM_MEM_COMMIT ?
			    winvm_protect_string(r->protect, pb, sizeof(pb)) : "0");
		fputc('}', out);
	}
	fputs("]}", out);
}

static bool use_colour(FILE *out, unsigned int flags)
{
	if (flags & (WINVM_MAP_NOCOLOR | WINVM_MAP_JSON))
		return false;
	if (flags & WINVM_MAP_COLOR)
		return true;
	return isatty(fileno(out));
}

/* Walks [lo, hi); prints allocations (only the one containing lo if single). */
static int walk(FILE *out, uint64_t lo, bool single, unsigned int flags)
{
	bool colour = use_colour(out, flags), json = flags & WINVM_MAP_JSON;
	bool want_regions = json || (flags & WINVM_MAP_REGIONS);
	struct winvm_query_args q;
	struct allocation a;
	uint64_t addr = lo, next;
	int fd = winvm_default_fd(), count = 0;

	if (fd < 0)
		return -1;
	if (json)
		fprintf(out, "{\"pid\": %d, \"allocations\": [", (int)getpid());
	else
		print_header(out);
	for (;;) {
		if (!WINVM_NT_SUCCESS(winvm_query(fd, addr, &q)))
			break;
		if (q.state == WINVM_MEM_FREE) {
			if (single)
				break;
			next = q.base_address + q.region_size;
		} else {
			collect(fd, &q, &a, want_regions);
			next = a.base + a.size;
			if (a.winvm || (flags & WINVM_MAP_ALL) || single) {
				if (json)
					print_json(out, &a, count == 0);
				else
					print_row(out, &a, flags, colour);
				count++;
			}
			free(a.regions);
			if (single)
				break;
		}
		if (next <= addr)
			break;
		addr = next;
	}
	if (json)
		fputs(count ? "\n]}\n" : "]}\n", out);
	else if (!(flags & WINVM_MAP_NOLEGEND))
		print_legend(out, colour);
	fflush(out);
	return count;
}

int winvm_map_print(FILE *out, unsigned int flags)
{
	return walk(out, 0x10000, false, flags);
}

int winvm_map_print_allocation(FILE *out, const void *address, unsigned int flags)
{
	return walk(out, (uintptr_t)address, true, flags);
}
