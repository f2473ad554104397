// SPDX-License-Identifier: GPL-2.0
/*
 * libwinvm selftests: the portable Windows programs in examples/, built
 * unchanged against <winvm/win32.h> and run as separate processes.
 *
 * The examples are linked into this binary with their main() renamed
 * (example_<name>_main); this binary re-executes itself with
 * WINVM_EXAMPLE=<name> to run one, so the guest needs no extra files.
 * Standalone static builds of the same sources land in $(OUT)/examples/.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The kselftest harness, included as winvm_test.h does (this file needs
 * none of that header's helpers).
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "wv_proc.h"



int example_guard_stack_main(int argc, char *argv[]);
int example_shared_section_main(int argc, char *argv[]);
int example_write_copy_main(int argc, char *argv[]);

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
} examples[] = {
	{ "guard_stack", example_guard_stack_main },
	{ "shared_section", example_shared_section_main },
	{ "write_copy", example_write_copy_main },
};

/* glibc passes (argc, argv, envp) to constructors, static binaries included. */
__attribute__((constructor)) static void run_example_if_asked(int argc, char *argv[])
{
	const char *name = getenv("WINVM_EXAMPLE");
	unsigned int i;

	if (!name)
		return;
	for (i = 0; i < ARRAY_SIZE(examples); i++) {
		if (!strcmp(name, examples[i].name)) {
			int rc = examples[i].main(argc, argv);

			fflush(NULL);
			_exit(rc);
		}
	}
	fprintf(stderr, "no example %s\n", name);
	_exit(127);
}

struct run {
	pid_t pid;
	int out;		/* read end of its stdout+stderr */
	char text[8192];
	int status;		/* wv_wait() result */
};

/* Starts the example @name with up to two arguments. */
static int start(struct run *r, const char *name, const char *arg1, const char *arg2)
{
	int p[2];

	memset(r, 0, sizeof(*r));
	if (pipe(p))
		return -1;
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (!r->pid) {
		char *argv[] = { (char *)name, (char *)arg1, (char *)arg2, NULL };

		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		setenv("WINVM_EXAMPLE", name, 1);
		execv("/proc/self/exe", argv);
		_exit(126);
	}
	close(p[1]);
	r->out = p[0];
	return 0;
}

/* Collects the output (until EOF) and the exit status. */
static void finish(struct run *r)
{
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(r->text) - 1 &&
	       (n = read(r->out, r->text + len, sizeof(r->text) - 1 - len)) > 0)
		len += n;
	r->text[len] = 0;
	close(r->out);
	r->status = wv_wait(r->pid);
}

FIXTURE(examples) {
	int unused;
};

FIXTURE_SETUP(examples)
{
	if (access("/dev/winvm", F_OK))
		SKIP(return, "no /dev/winvm: winvm module not loaded");
}

FIXTURE_TEARDOWN(examples)
{
}

TEST_F(examples, guard_stack)
{
	struct run r;

	ASSERT_EQ(0, start(&r, "guard_stack", NULL, NULL));
	finish(&r);
	TH_LOG("guard_stack output:\n%s", r.text);
	ASSERT_EQ(0, r.status);
	ASSERT_NE(NULL, strstr(r.text, "pushed 200 frames of 1000 bytes: 48 guard page hits (expected 48)"));
	ASSERT_NE(NULL, strstr(r.text, "committed read/write: 196 KiB"));
	ASSERT_NE(NULL, strstr(r.text, "\nOK\n"));
}

TEST_F(examples, write_copy)
{
	struct run r;

	ASSERT_EQ(0, start(&r, "write_copy", NULL, NULL));
	finish(&r);
	TH_LOG("write_copy output:\n%s", r.text);
	ASSERT_EQ(0, r.status);
	ASSERT_EQ(NULL, strstr(r.text, " NO\n"));
	ASSERT_NE(NULL, strstr(r.text, "\nOK\n"));
}

/* Two processes, one section, found by name. */
TEST_F(examples, shared_section)
{
	struct run creator, reader;
	char name[64], want[128];

	snprintf(name, sizeof(name), "winvm-example-%d", getpid());
	/* The reader first: it must wait for the name to appear. */
	ASSERT_EQ(0, start(&reader, "shared_section", "open", name));
	usleep(50000);
	ASSERT_EQ(0, start(&creator, "shared_section", "create", name));
	finish(&creator);
	finish(&reader);
	TH_LOG("creator output:\n%s", creator.text);
	TH_LOG("reader output:\n%s", reader.text);
	ASSERT_EQ(0, creator.status);
	ASSERT_EQ(0, reader.status);
	snprintf(want, sizeof(want), "reader: read \"hello from process %d\"", creator.pid);
	ASSERT_NE(NULL, strstr(reader.text, want));
	snprintf(want, sizeof(want), "creator: reader replied \"thanks from process %d\"",
		 reader.pid);
	ASSERT_NE(NULL, strstr(creator.text, want));
}

TEST_F(examples, usage)
{
	struct run r;

	ASSERT_EQ(0, start(&r, "shared_section", NULL, NULL));
	finish(&r);
	ASSERT_EQ(2, r.status);
	ASSERT_NE(NULL, strstr(r.text, "usage:"));
}

TEST_HARNESS_MAIN
