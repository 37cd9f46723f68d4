/*
 * alloc: the one allocation hook. Every allocation in the history library,
 * the checkers and raftkv goes through these wrappers (and jansson's too,
 * once a process calls json_set_alloc_funcs(fl_malloc, fl_free)), so a
 * test can fail the Nth allocation and walk every cleanup path under ASan.
 *
 * The wrappers behave exactly like the C library's. fl_free() is free():
 * memory that libc allocated (getline, open_memstream, vasprintf) may be
 * released with either, and memory from fl_* with free() too.
 *
 * Off (the default) the hook costs one relaxed atomic load per allocation.
 */
#ifndef FL_ALLOC_H
#define FL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *fl_malloc(size_t size);
void *fl_calloc(size_t n, size_t size);
void *fl_realloc(void *p, size_t size);   /* on failure p stays valid */
void fl_free(void *p);
char *fl_strdup(const char *s);

/* Test hook: the nth allocation from now (n = 1: the next one) and every
 * one after it return NULL, in every thread, until fl_alloc_fail_after(0)
 * turns the hook off again. */
void fl_alloc_fail_after(uint64_t n);

/* Whether an allocation has failed by the hook since it was last armed:
 * false after a run means the run needed fewer than n allocations. */
bool fl_alloc_failed(void);

#endif
