/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer model's protection rules, stated as Windows documents them
 * (model-prot.c), not as the module implements them: where the two
 * disagree, the fuzzer reports it.
 */
#ifndef WINVM_MODEL_PROT_H
#define WINVM_MODEL_PROT_H

#include <stdbool.h>
#include <stdint.h>

/* The low byte of a protection value holds its base PAGE_* constant. */
#define MP_BASE_MASK	0xffu

/* Is @prot one base value plus at most the modifier bits (any mix)? */
bool mp_documented(uint32_t prot);
/* Is @prot a valid protection for some call at all (one base, legal modifiers)? */
bool mp_valid(uint32_t prot);
/* VirtualAlloc / VirtualProtect of private memory. */
bool mp_valid_private(uint32_t prot);
/* What a committed, non-guard page of protection @prot lets user mode do. */
bool mp_can_read(uint32_t prot);
bool mp_can_write(uint32_t prot);
bool mp_can_exec(uint32_t prot);
/* MapViewOfFile: FILE_MAP_* access to the view's protection. */
uint32_t mp_view_protect(uint32_t file_map_access);

/* May a page of a view whose allocation protection is @view_prot be protected to @prot? */
enum mp_verdict { MP_NO, MP_YES, MP_UNSPECIFIED };
enum mp_verdict mp_view_allows(uint32_t view_prot, uint32_t prot);
/* Would @prot be accepted on at least one kind of view (the widest: EXECUTE_READWRITE)? */
bool mp_valid_for_some_view(uint32_t prot);
/* The protection a write-copy page reports once written; others unchanged. */
uint32_t mp_after_write(uint32_t prot);
/* The protection a Linux mapping (not winvm memory) is reported with. */
uint32_t mp_native_protect(bool r, bool w, bool x, bool private_file);

#endif /* WINVM_MODEL_PROT_H */
