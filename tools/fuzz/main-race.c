// SPDX-License-Identifier: GPL-2.0
/* winvm-race: the stand-alone tool (its code: see tools.h). */
#include "tools.h"

int main(int argc, char **argv)
{
	return fz_race_main(argc, argv);
}
