// SPDX-License-Identifier: GPL-2.0
/*
 * Runs last: prints every result the benchmarks appended to RESULTS_FILE,
 * first as a table for people, then as TSV between the markers that
 * tools/bench.sh extracts into build/bench/results.tsv.
 */
#include <sys/utsname.h>

#include "bench.h"

#define TSV_BEGIN	"@@WINVM-BENCH-TSV-BEGIN@@"
#define TSV_END		"@@WINVM-BENCH-TSV-END@@"

/* A TSV figure for people: numbers scaled, words ("n/a", ...) as they are. */
static void cell(char *buf, size_t len, const char *v, const char *unit)
{
	char *end;
	double d = strtod(v, &end);

	if (end != v && !*end)
		fmt_value(buf, len, d, unit);
	else
		snprintf(buf, len, "%s", v);
}

int main(void)
{
	FILE *f = fopen(RESULTS_FILE, "r");
	struct utsname u;
	char line[1024];

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	printf("\n== summary: %s, %ld CPUs (winvm/native: lower is better for winvm) ==\n",
	       u.release, sysconf(_SC_NPROCESSORS_ONLN));
	if (!f) {
		printf("no results in %s\n", RESULTS_FILE);
		return 0;
	}
	printf("%-22s %-28s %12s %12s %8s  %s\n", "case", "param", "winvm", "native", "ratio",
	       "unit");
	while (fgets(line, sizeof(line), f)) {
		char *fld[7] = { 0 }, *s = line, w[32], n[32];
		int i;

		line[strcspn(line, "\n")] = 0;
		for (i = 0; i < 7 && s; i++) {
			fld[i] = s;
			s = strchr(s, '\t');
			if (s)
				*s++ = 0;
		}
		if (i < 6)
			continue;
		cell(w, sizeof(w), fld[3], fld[2]);
		cell(n, sizeof(n), fld[4], fld[2]);
		printf("%-22s %-28s %12s %12s %8s  %s\n", fld[0], fld[1], w, n, fld[5], fld[2]);
	}
	rewind(f);
	printf("%s\n", TSV_BEGIN);
	printf("# kernel\t%s\n", u.release);
	printf("case\tparam\tunit\twinvm\tnative\tratio\tnote\n");
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	printf("%s\n", TSV_END);
	fclose(f);
	return 0;
}
