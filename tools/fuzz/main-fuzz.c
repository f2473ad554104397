// SPDX-License-Identifier: GPL-2.0
/* winvm-fuzz: the stand-alone tool (its code: see tools.h). */
#include <string.h>

#include "fuzz.h"
#include "tools.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], FZ_EXEC_CHILD_ARG))
		return fz_exec_child_main(argc, argv);
	return fz_fuzz_main(argc, argv);
}
