/*
 * alloc: the one allocation hook. Every allocation in the history library,
 * the checkers and raftkv goes through these wrappers (and jansson's too,
 * once a process calls json_set_alloc_funcs(fl_malloc, fl_free)), so a
 * test can fail the Nth allocation and walk every cleanup path under ASan.
 *
 * The wrappers behave exactly like the C library's, and there is no header
 * before a block: fl_free() is free(). Memory that libc allocated (getline,
 * open_memstream, vasprintf) may be released with either, and memory from
 * fl_* with free() too, except that free() does not give the bytes back to
 * the accounting below: code that runs under a memory limit (checkers/,
 * history/) releases fl_* memory with fl_free.
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

/*
 * Accounting: a hard, process-wide limit on the bytes in use through these
 * wrappers (malloc_usable_size of each live block, every thread counted
 * atomically). An allocation that would pass it returns NULL, like out of
 * memory, so the caller's out-of-memory path is what enforces the limit.
 *
 * The first call starts counting (and, on glibc, fixes the mmap threshold
 * at 256 KB so that large blocks freed leave RSS rather than the heap);
 * counting then stays on, at the cost of an atomic add per allocation and
 * per fl_free. Blocks allocated before it are not counted (freeing one
 * counts it back, which only loosens the limit by what was freed).
 *
 * What RSS holds beyond the count -- the program, thread stacks, libc's
 * own buffers, allocator rounding -- is the slack: a few MB.
 *
 * Returns the previous limit. bytes = 0: count, without a limit.
 */
size_t fl_alloc_set_limit(size_t bytes);
size_t fl_alloc_limit(void);     /* 0: none */
size_t fl_alloc_in_use(void);    /* bytes, since counting began */

/*
 * A limit for one piece of work (a check) within whatever limit the
 * program already has: until fl_alloc_scope_end(), at most extra_bytes
 * more than are in use now, or the outer limit if that is tighter.
 * extra_bytes = 0: no limit of its own, and nothing is changed (counting
 * is not even started). Scopes nest; end them in reverse order.
 */
typedef struct fl_alloc_scope {
    bool active;
    size_t outer;   /* the limit to restore */
} fl_alloc_scope;

fl_alloc_scope fl_alloc_scope_begin(size_t extra_bytes);
void fl_alloc_scope_end(fl_alloc_scope scope);

/* The default for a program's limit: half of physical memory
 * (sysconf(_SC_PHYS_PAGES)), or 4 GB when the machine does not say. */
size_t fl_alloc_default_limit(void);

#endif
