# SPDX-License-Identifier: GPL-2.0
#
# libwinvm tests, included by the selftests Makefile: lib_win32 (every
# library function), lib_examples (the portable Windows programs in
# examples/) and diff_scenarios (the guest half of the differential suite,
# tools/diff/scenario.c; tools/diff/run.sh compares its output with Wine's),
# linked against the static libwinvm, which is built into
# $(OUT)/libwinvm.  The examples are also built as standalone static
# binaries into $(OUT)/examples/.

LIBWINVM_OUT	:= $(OUT)/libwinvm
LIBWINVM_A	:= $(LIBWINVM_OUT)/libwinvm.a
LIBWINVM_DEPS	:= $(wildcard $(REPO)/lib/*.c $(REPO)/lib/*.h $(REPO)/lib/include/winvm/*.h) \
		   $(REPO)/lib/Makefile $(REPO)/uapi/linux/winvm.h
LIB_CFLAGS	:= -I$(REPO)/lib/include
EXAMPLES	:= guard_stack shared_section write_copy
EXAMPLE_SRCS	:= $(addprefix $(REPO)/examples/,$(addsuffix .c,$(EXAMPLES)))
EXAMPLE_OBJS	:= $(addprefix $(OUT)/examples/,$(addsuffix .o,$(EXAMPLES)))
EXAMPLE_BINS	:= $(addprefix $(OUT)/examples/,$(EXAMPLES))
# The examples are plain C for both worlds: no _GNU_SOURCE, no kselftest.
EXAMPLE_CFLAGS	:= -O2 -g -Wall -Wextra -Werror $(LIB_CFLAGS) -I$(REPO)/uapi

$(LIBWINVM_A): $(LIBWINVM_DEPS)
	$(MAKE) -C $(REPO)/lib OUT=$(LIBWINVM_OUT) static

$(OUT)/lib_win32: lib_win32.c $(HDRS) $(LIBWINVM_A) | $(OUT)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -o $@ $< $(HELPER_OBJ) $(LIBWINVM_A) $(LDFLAGS)

$(OUT)/lib_examples: lib_examples.c $(HDRS) $(EXAMPLE_OBJS) $(LIBWINVM_A) | $(OUT) $(EXAMPLE_BINS)
	$(CC) $(CFLAGS) -o $@ $< $(HELPER_OBJ) $(EXAMPLE_OBJS) $(LIBWINVM_A) $(LDFLAGS)

# The differential scenarios: a Windows program, as the examples are.
$(OUT)/diff_scenarios: $(REPO)/tools/diff/scenario.c $(LIBWINVM_A) | $(OUT)
	$(CC) $(EXAMPLE_CFLAGS) -o $@ $< $(LIBWINVM_A) -static -pthread

$(OUT)/examples:
	mkdir -p $@

# Linked into lib_examples with main() renamed.
$(OUT)/examples/%.o: $(REPO)/examples/%.c $(LIBWINVM_DEPS) | $(OUT)/examples
	$(CC) $(EXAMPLE_CFLAGS) -Dmain=example_$*_main -c -o $@ $<

$(OUT)/examples/%: $(REPO)/examples/%.c $(LIBWINVM_A) | $(OUT)/examples
	$(CC) $(EXAMPLE_CFLAGS) -o $@ $< $(LIBWINVM_A) -static -pthread

clean-lib:
	rm -rf $(LIBWINVM_OUT) $(OUT)/examples

clean: clean-lib

.PHONY: clean-lib
