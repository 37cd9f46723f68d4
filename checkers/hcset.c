/*
 * hcset.c — see hcset.h. Level 0 holds the words themselves; the entry at
 * level k, position p, is the number of the node whose children are the
 * entries p*F .. p*F+F-1 of level k-1 (0 past the end of that level).
 * A node's level is not part of its content: the root's height is fixed,
 * so two roots are always compared at the same level.
 */
#include "checkers/hcset.h"

#include <string.h>

#include "base/alloc.h"
#include "base/rng.h"

#define HCS_MAX_LEVELS 24 /* 8^23 words is past any history */

static uint64_t hcs_hash(const uint64_t *c)
{
    uint64_t x = 0;
    for (size_t j = 0; j < HCS_FANOUT; j++)
        x = fl_rng_mix(x ^ c[j]);
    return x;
}

static int hcs_grow_table(hcset *h)
{
    size_t n = h->table_size ? 2 * h->table_size : 1024;
    uint32_t *t = fl_calloc(n, sizeof *t);
    if (t == NULL)
        return -1;
    for (size_t id = 0; id < h->nnodes; id++) {
        size_t s = hcs_hash(h->nodes + id * HCS_FANOUT) & (n - 1);
        while (t[s] != 0)
            s = (s + 1) & (n - 1);
        t[s] = (uint32_t)id + 1;
    }
    fl_free(h->table);
    h->table = t;
    h->table_size = n;
    return 0;
}

static int hcs_reserve_node(hcset *h)
{
    if (4 * (h->nnodes + 1) > 3 * h->table_size && hcs_grow_table(h) != 0)
        return -1;
    if (h->nnodes < h->nodes_cap)
        return 0;
    if (h->nnodes >= UINT32_MAX - 1)
        return -1;
    size_t cap = h->nodes_cap ? 2 * h->nodes_cap : 256;
    uint64_t *nodes = fl_realloc(h->nodes, cap * HCS_FANOUT * sizeof *nodes);
    if (nodes == NULL)
        return -1;
    h->nodes = nodes;
    h->nodes_cap = cap;
    return 0;
}

/* The number of the node with children c, interned if new; -1 OOM. */
static int64_t hcs_intern(hcset *h, const uint64_t *c)
{
    size_t bytes = HCS_FANOUT * sizeof *c;
    if (h->table_size > 0) {
        size_t mask = h->table_size - 1, s = hcs_hash(c) & mask;
        for (; h->table[s] != 0; s = (s + 1) & mask)
            if (memcmp(h->nodes + (h->table[s] - 1) * HCS_FANOUT, c, bytes) == 0)
                return h->table[s] - 1;
    }
    if (hcs_reserve_node(h) != 0)
        return -1;
    size_t id = h->nnodes++;
    memcpy(h->nodes + id * HCS_FANOUT, c, bytes);
    size_t mask = h->table_size - 1, s = hcs_hash(c) & mask;
    while (h->table[s] != 0)
        s = (s + 1) & mask;
    h->table[s] = (uint32_t)id + 1;
    return (int64_t)id;
}

/* Children of entry p at level k (k >= 1), with entry `at` of level k-1
 * read as `value` instead. */
static void hcs_children(const hcset *h, size_t k, size_t p, size_t at,
                         uint64_t value, uint64_t *c)
{
    for (size_t j = 0; j < HCS_FANOUT; j++) {
        size_t q = p * HCS_FANOUT + j;
        c[j] = q == at ? value : q < h->width[k - 1] ? h->ids[k - 1][q] : 0;
    }
}

void hcs_free(hcset *h)
{
    if (h->ids != NULL)
        for (size_t k = 0; k <= h->levels; k++)
            fl_free(h->ids[k]);
    fl_free(h->ids);
    fl_free(h->width);
    fl_free(h->nodes);
    fl_free(h->table);
    memset(h, 0, sizeof *h);
}

int hcs_init(hcset *h, size_t nbits)
{
    memset(h, 0, sizeof *h);
    if (nbits <= HCS_SMALL_BITS) {
        h->small = true;
        return 0;
    }
    size_t words = nbits / 64 + 1;
    h->levels = 1;
    for (size_t span = HCS_FANOUT; span < words; span *= HCS_FANOUT)
        h->levels++;
    h->width = fl_calloc(h->levels + 1, sizeof *h->width);
    h->ids = fl_calloc(h->levels + 1, sizeof *h->ids);
    if (h->width == NULL || h->ids == NULL || h->levels >= HCS_MAX_LEVELS)
        goto fail;
    h->width[0] = words;
    for (size_t k = 1; k <= h->levels; k++)
        h->width[k] = (h->width[k - 1] + HCS_FANOUT - 1) / HCS_FANOUT;
    for (size_t k = 0; k <= h->levels; k++) {
        h->ids[k] = fl_calloc(h->width[k], sizeof *h->ids[k]);
        if (h->ids[k] == NULL)
            goto fail;
    }
    /* the empty set, named bottom up (each node: the last of a level is
     * padded with 0, so it may differ from the others) */
    for (size_t k = 1; k <= h->levels; k++)
        for (size_t p = 0; p < h->width[k]; p++) {
            uint64_t c[HCS_FANOUT];
            hcs_children(h, k, p, SIZE_MAX, 0, c);
            int64_t id = hcs_intern(h, c);
            if (id < 0)
                goto fail;
            h->ids[k][p] = (uint64_t)id;
        }
    return 0;
fail:
    hcs_free(h);
    return -1;
}

int hcs_flip(hcset *h, size_t i)
{
    if (h->small) {
        h->mask ^= UINT32_C(1) << i;
        return 0;
    }
    uint64_t path[HCS_MAX_LEVELS];
    size_t at = i / 64;
    path[0] = h->ids[0][at] ^ (UINT64_C(1) << (i % 64));
    /* name the new path first, so that a failure changes nothing */
    for (size_t k = 1; k <= h->levels; k++) {
        uint64_t c[HCS_FANOUT];
        hcs_children(h, k, at / HCS_FANOUT, at, path[k - 1], c);
        int64_t id = hcs_intern(h, c);
        if (id < 0)
            return -1;
        path[k] = (uint64_t)id;
        at /= HCS_FANOUT;
    }
    at = i / 64;
    for (size_t k = 0; k <= h->levels; k++, at /= HCS_FANOUT)
        h->ids[k][at] = path[k];
    return 0;
}

uint32_t hcs_name(const hcset *h)
{
    if (h->small)
        return h->mask;
    return (uint32_t)h->ids[h->levels][0];
}
