/*
 * alloc: see alloc.h.
 */
#include "base/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Allocations left before the failing one, counting it; 0: off. It counts
 * down to 1 and stays there, so every allocation from the nth on fails. */
static _Atomic uint64_t fl_alloc_left;
static atomic_bool fl_alloc_fired;

static bool fl_alloc_fails_slow(void)
{
    uint64_t v = atomic_load(&fl_alloc_left);
    while (v > 1 && !atomic_compare_exchange_weak(&fl_alloc_left, &v, v - 1))
        ;
    if (v != 1)
        return false;
    atomic_store(&fl_alloc_fired, true);
    return true;
}

static inline bool fl_alloc_fails(void)
{
    return atomic_load_explicit(&fl_alloc_left, memory_order_relaxed) != 0 &&
           fl_alloc_fails_slow();
}

void *fl_malloc(size_t size)
{
    return fl_alloc_fails() ? NULL : malloc(size);
}

void *fl_calloc(size_t n, size_t size)
{
    return fl_alloc_fails() ? NULL : calloc(n, size);
}

void *fl_realloc(void *p, size_t size)
{
    return fl_alloc_fails() ? NULL : realloc(p, size);
}

void fl_free(void *p)
{
    free(p);
}

char *fl_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = fl_malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

void fl_alloc_fail_after(uint64_t n)
{
    atomic_store(&fl_alloc_fired, false);
    atomic_store(&fl_alloc_left, n);
}

bool fl_alloc_failed(void)
{
    return atomic_load(&fl_alloc_fired);
}
