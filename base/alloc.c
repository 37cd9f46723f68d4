/*
 * alloc: see alloc.h.
 */
#include "base/alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the slow path has to do; 0 (the default) is the one relaxed load. */
#define MODE_FAIL  1u
#define MODE_COUNT 2u
static atomic_uint fl_alloc_mode;

/* Allocations left before the failing one, counting it; 0: off. It counts
 * down to 1 and stays there, so every allocation from the nth on fails. */
static _Atomic uint64_t fl_alloc_left;
static atomic_bool fl_alloc_fired;

/* Signed: a block allocated before counting began, freed after, takes away
 * bytes that were never added. */
static _Atomic int64_t fl_alloc_used;
static _Atomic size_t fl_alloc_cap; /* 0: none */

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

/* Take `bytes` from the budget before allocating: false (and nothing
 * taken) past the limit. Reserving first is what makes the limit hard when
 * threads allocate at once. */
static bool fl_alloc_reserve(size_t bytes)
{
    int64_t now = atomic_fetch_add(&fl_alloc_used, (int64_t)bytes) +
                  (int64_t)bytes;
    size_t cap = atomic_load(&fl_alloc_cap);
    if (cap == 0 || now <= (int64_t)cap)
        return true;
    atomic_fetch_sub(&fl_alloc_used, (int64_t)bytes);
    return false;
}

static void fl_alloc_adjust(int64_t bytes)
{
    atomic_fetch_add(&fl_alloc_used, bytes);
}

static inline unsigned fl_alloc_mode_now(void)
{
    return atomic_load_explicit(&fl_alloc_mode, memory_order_relaxed);
}

static bool fl_alloc_fails(unsigned mode)
{
    return (mode & MODE_FAIL) && atomic_load(&fl_alloc_left) != 0 &&
           fl_alloc_fails_slow();
}

/* The counted path: reserve what was asked, then settle on what malloc
 * really gave (its usable size, which free will give back). */
static void *fl_alloc_counted(void *p, size_t n, size_t size, bool zero)
{
    size_t bytes = zero ? n * size : size;
    if (zero && size != 0 && bytes / size != n)
        return NULL;
    size_t old = p ? malloc_usable_size(p) : 0;
    if (bytes > old && !fl_alloc_reserve(bytes - old))
        return NULL;
    void *q = zero ? calloc(n, size) : p ? realloc(p, size) : malloc(size);
    int64_t reserved = bytes > old ? (int64_t)(bytes - old) : 0;
    if (q == NULL) {
        fl_alloc_adjust(-reserved);
        return NULL;
    }
    fl_alloc_adjust((int64_t)malloc_usable_size(q) - (int64_t)old - reserved);
    return q;
}

void *fl_malloc(size_t size)
{
    unsigned mode = fl_alloc_mode_now();
    if (mode == 0)
        return malloc(size);
    if (fl_alloc_fails(mode))
        return NULL;
    return mode & MODE_COUNT ? fl_alloc_counted(NULL, 1, size, false)
                             : malloc(size);
}

void *fl_calloc(size_t n, size_t size)
{
    unsigned mode = fl_alloc_mode_now();
    if (mode == 0)
        return calloc(n, size);
    if (fl_alloc_fails(mode))
        return NULL;
    return mode & MODE_COUNT ? fl_alloc_counted(NULL, n, size, true)
                             : calloc(n, size);
}

void *fl_realloc(void *p, size_t size)
{
    unsigned mode = fl_alloc_mode_now();
    if (mode == 0)
        return realloc(p, size);
    if (fl_alloc_fails(mode))
        return NULL;
    return mode & MODE_COUNT ? fl_alloc_counted(p, 1, size, false)
                             : realloc(p, size);
}

void fl_free(void *p)
{
    if (p != NULL && (fl_alloc_mode_now() & MODE_COUNT))
        fl_alloc_adjust(-(int64_t)malloc_usable_size(p));
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
    if (n != 0)
        atomic_fetch_or(&fl_alloc_mode, MODE_FAIL);
}

bool fl_alloc_failed(void)
{
    return atomic_load(&fl_alloc_fired);
}

size_t fl_alloc_set_limit(size_t bytes)
{
    if (!(atomic_fetch_or(&fl_alloc_mode, MODE_COUNT) & MODE_COUNT)) {
#ifdef M_MMAP_THRESHOLD
        /* A fixed threshold: big blocks are mapped and unmapped, so what
         * is freed leaves RSS instead of staying in the heap. */
        mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
    }
    return atomic_exchange(&fl_alloc_cap, bytes);
}

size_t fl_alloc_limit(void)
{
    return atomic_load(&fl_alloc_cap);
}

size_t fl_alloc_in_use(void)
{
    int64_t v = atomic_load(&fl_alloc_used);
    return v > 0 ? (size_t)v : 0;
}

fl_alloc_scope fl_alloc_scope_begin(size_t extra_bytes)
{
    fl_alloc_scope scope = {0};
    if (extra_bytes == 0)
        return scope;
    size_t outer = fl_alloc_limit(), mine = fl_alloc_in_use() + extra_bytes;
    scope.active = true;
    scope.outer = fl_alloc_set_limit(outer != 0 && outer < mine ? outer : mine);
    return scope;
}

void fl_alloc_scope_end(fl_alloc_scope scope)
{
    if (scope.active)
        fl_alloc_set_limit(scope.outer);
}

size_t fl_alloc_default_limit(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return (size_t)4 << 30; /* unknown machine: 4 GB */
    return (size_t)pages / 2 * (size_t)size;
}
