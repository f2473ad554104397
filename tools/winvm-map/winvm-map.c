// SPDX-License-Identifier: GPL-2.0
/*
 * winvm-map: a VMMap-like view of a process's address space.
 *
 *   winvm-map [options]            this process, as VirtualQuery sees it
 *   winvm-map --pid N [options]    another process, from /proc/N/maps
 *
 * For the calling process every winvm allocation gets one row (base, size,
 * type, state, protection, committed and resident bytes) and a strip of
 * one character per page: '#' read/write, 'r' read-only, 'x' executable,
 * 'c' write-copy, 'g' guard, '-' no-access, '.' reserved.  That is
 * winvm_map_print() of libwinvm, which programs call to print their own
 * map; --sample makes a few allocations first so there is something to see.
 *
 * Another process's per-page state is not visible from outside (the
 * module has no cross-process query yet), so --pid prints what
 * /proc/N/maps and /proc/N/smaps say: every mapping with its Linux
 * protection translated to PAGE_*, its resident size, and winvm ranges
 * marked by their "winvm" backing file.  Reading another user's process
 * needs root (ptrace access to it).
 *
 * Options: --all (Linux mappings too), --regions (one line per region),
 * --json, --color / --no-color (default: colour on a terminal).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winvm/winvm.h>

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s [--pid N] [--all] [--regions] [--json] [--color|--no-color] [--sample]\n"
		"  (no --pid)   this process, per page, through VirtualQuery\n"
		"  --pid N      another process, from /proc/N/maps (per-page state is not visible)\n"
		"  --all        also ordinary Linux mappings\n"
		"  --regions    one line per VirtualQuery region under each allocation\n"
		"  --json       JSON for scripts\n"
		"  --sample     make a few example allocations first\n",
		argv0);
}

/* ------------------------------------------------------------------ */
/* Another process: /proc/N/maps and smaps                              */
/* ------------------------------------------------------------------ */

struct mapping {
	uint64_t start, end, rss_kb;
	char perms[5];
	char name[256];
	bool winvm;
};

static uint32_t linux_protect(const struct mapping *m)
{
	bool r = m->perms[0] == 'r', w = m->perms[1] == 'w', x = m->perms[2] == 'x';
	bool cow = m->perms[3] == 'p' && m->name[0] == '/';

	if (x) {
		if (w)
			return cow ? WINVM_PAGE_EXECUTE_WRITECOPY : WINVM_PAGE_EXECUTE_READWRITE;
		return r ? WINVM_PAGE_EXECUTE_READ : WINVM_PAGE_EXECUTE;
	}
	if (w)
		return cow ? WINVM_PAGE_WRITECOPY : WINVM_PAGE_READWRITE;
	return r ? WINVM_PAGE_READONLY : WINVM_PAGE_NOACCESS;
}

/*
 * The module's mappings are backed by its own pseudo files: "/winvm" for
 * allocations, "/winvm-section" for views of pagefile-backed sections
 * (views of file-backed sections show the file itself).
 */
static bool is_winvm_name(const char *name)
{
	return !strcmp(name, "/winvm") || !strcmp(name, "/winvm (deleted)") ||
	       !strcmp(name, "/winvm-section") || !strcmp(name, "/winvm-section (deleted)");
}

static const char *linux_type(const struct mapping *m)
{
	if (m->winvm)
		return strncmp(m->name, "/winvm-section", 14) ? "Private" : "Mapped";
	if (m->name[0] != '/')
		return "Private";
	return m->perms[2] == 'x' ? "Image" : "Mapped";
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

static int print_other(pid_t pid, bool all, bool json, bool colour)
{
	char path[64], line[1024], pb[96];
	struct mapping m, *maps = NULL;
	size_t n = 0, cap = 0, i;
	FILE *f;
	int shown = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "winvm-map: %s: %s%s\n", path, strerror(errno),
			errno == EACCES || errno == EPERM ? " (run as root)" : "");
		return 1;
	}
	memset(&m, 0, sizeof(m));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		int off = 0;
		long kb;

		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %n", &s, &e, m.perms, &off) >= 3 &&
		    off) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				maps = realloc(maps, cap * sizeof(*maps));
				if (!maps) {
					fclose(f);
					return 1;
				}
			}
			line[strcspn(line, "\n")] = 0;
			m.start = s;
			m.end = e;
			m.rss_kb = 0;
			snprintf(m.name, sizeof(m.name), "%s", line + off);
			m.winvm = is_winvm_name(m.name);
			maps[n++] = m;
		} else if (n && sscanf(line, "Rss: %ld kB", &kb) == 1) {
			maps[n - 1].rss_kb = (uint64_t)kb;
		}
	}
	fclose(f);

	if (json)
		printf("{\"pid\": %d, \"per_page_state\": false, \"mappings\": [", (int)pid);
	else
		printf("%-16s %10s %-7s %-24s %10s  %s\n", "Address", "Size", "Type", "Protection",
		       "Resident", "Name");
	for (i = 0; i < n; i++) {
		const struct mapping *p = &maps[i];

		if (!p->winvm && !all)
			continue;
		winvm_protect_string(linux_protect(p), pb, sizeof(pb));
		if (json) {
			printf("%s\n    {\"base\": \"0x%" PRIx64 "\", \"size\": %" PRIu64
			       ", \"type\": \"%s\", \"protect\": \"%s\", \"perms\": \"%s\""
			       ", \"resident\": %" PRIu64 ", \"winvm\": %s, \"name\": ",
			       shown ? "," : "", p->start, p->end - p->start, linux_type(p), pb,
			       p->perms, p->rss_kb * 1024, p->winvm ? "true" : "false");
			json_string(stdout, p->name);
			fputc('}', stdout);
		} else {
			printf("%016" PRIx64 " %8" PRIu64 " K %-7s %-24s %8" PRIu64 " K  %s%s%s\n",
			       p->start, (p->end - p->start) / 1024, linux_type(p), pb, p->rss_kb,
			       colour && p->winvm ? "\033[1m" : "", p->name,
			       colour && p->winvm ? "\033[0m" : "");
		}
		shown++;
	}
	if (json)
		printf(shown ? "\n]}\n" : "]}\n");
	else
		printf("%d mapping(s)%s; the per-page state of another process is not visible "
		       "(the module has no cross-process query yet): winvm rows show the "
		       "Linux protection of the whole range.\n", shown,
		       all ? "" : " backed by winvm (--all for every mapping)");
	free(maps);
	return 0;
}

/* ------------------------------------------------------------------ */
/* --sample: something to look at                                       */
/* ------------------------------------------------------------------ */

static int make_sample(void)
{
	int fd = winvm_default_fd(), sfd;
	uint64_t a = 0, s = 1 << 20, b, bs, v = 0, vs = 0;
	uint32_t old;

	if (fd < 0)
		return -1;
	/* A thread stack: 1 MiB reserved, the top 16 KiB committed, a guard below. */
	if (winvm_alloc(fd, &a, &s, 0, WINVM_MEM_RESERVE, WINVM_PAGE_READWRITE))
		return -1;
	b = a + s - 0x4000;
	bs = 0x4000;
	winvm_alloc(fd, &b, &bs, 0, WINVM_MEM_COMMIT, WINVM_PAGE_READWRITE);
	b -= 0x1000;
	bs = 0x1000;
	winvm_alloc(fd, &b, &bs, 0, WINVM_MEM_COMMIT,
		    WINVM_PAGE_READWRITE | WINVM_PAGE_GUARD);
	memset((void *)(uintptr_t)(a + s - 0x2000), 1, 0x2000);
	/* A small "image": headers read-only, code executable, data writable. */
	a = 0;
	s = 0x8000;
	if (!winvm_alloc(fd, &a, &s, 0, WINVM_MEM_RESERVE | WINVM_MEM_COMMIT,
			 WINVM_PAGE_READWRITE)) {
		b = a;
		bs = 0x1000;
		winvm_protect(fd, &b, &bs, WINVM_PAGE_READONLY, &old);
		b = a + 0x1000;
		bs = 0x3000;
		winvm_protect(fd, &b, &bs, WINVM_PAGE_EXECUTE_READ, &old);
		b = a + 0x7000;
		bs = 0x1000;
		winvm_protect(fd, &b, &bs, WINVM_PAGE_NOACCESS, &old);
	}
	/* A write-copy view of a section, one page written (if sections exist). */
	if (!winvm_section_create(fd, &sfd, 0x10000, NULL, -1, WINVM_PAGE_READWRITE, 0, 0, 0,
				  NULL) &&
	    !winvm_view_map(fd, sfd, WINVM_FILE_MAP_COPY, &v, 0, &vs, 0, 0))
		*(volatile char *)(uintptr_t)(v + 0x3000) = 1;
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "regions", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "color", no_argument, NULL, 'c' },
		{ "colour", no_argument, NULL, 'c' },
		{ "no-color", no_argument, NULL, 'n' },
		{ "no-colour", no_argument, NULL, 'n' },
		{ "sample", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int flags = 0;
	bool sample = false;
	pid_t pid = 0;
	int c;

	while ((c = getopt_long(argc, argv, "p:arjcnsh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid = (pid_t)atoi(optarg);
			if (pid <= 0) {
				fprintf(stderr, "winvm-map: bad pid %s\n", optarg);
				return 2;
			}
			break;
		case 'a': flags |= WINVM_MAP_ALL; break;
		case 'r': flags |= WINVM_MAP_REGIONS; break;
		case 'j': flags |= WINVM_MAP_JSON; break;
		case 'c': flags |= WINVM_MAP_COLOR; break;
		case 'n': flags |= WINVM_MAP_NOCOLOR; break;
		case 's': sample = true; break;
		case 'h': usage(stdout, argv[0]); return 0;
		default: usage(stderr, argv[0]); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	if (pid && pid != getpid())
		return print_other(pid, flags & WINVM_MAP_ALL, flags & WINVM_MAP_JSON,
				   !(flags & (WINVM_MAP_NOCOLOR | WINVM_MAP_JSON)) &&
				   ((flags & WINVM_MAP_COLOR) || isatty(1)));
	if (winvm_default_fd() < 0) {
		fprintf(stderr, "winvm-map: /dev/winvm: %s (is the winvm module loaded?)\n",
			strerror(errno));
		return 1;
	}
	if (sample && make_sample()) {
		fprintf(stderr, "winvm-map: --sample: allocation failed\n");
		return 1;
	}
	return winvm_map_print(stdout, flags) < 0 ? 1 : 0;
}
