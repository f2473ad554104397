// SPDX-License-Identifier: GPL-2.0
/* winvm-limits: the stand-alone tool (its code: see tools.h). */
#include "tools.h"

int main(int argc, char **argv)
{
	return fz_limits_main(argc, argv);
}
