/*
 * hcset: a bitset with a name. The name is a 32-bit number that is the
 * same exactly when the set is the same (hash-consing), so a memo table
 * can store and compare a set of any size in 4 bytes, exactly.
 *
 * The bits are the leaves of a tree of fanout HCS_FANOUT over 64-bit
 * words; each node is interned (content -> number), so two equal subtrees
 * have one number, and by induction equal roots mean equal sets. Flipping
 * a bit re-interns the path above it: log_8 of the words, a few table
 * look-ups. Nodes are never removed, so the table grows with the distinct
 * sets seen, by at most one path per flip, and a set that was current
 * before (in particular the one before the last flip) is named again
 * without allocating.
 *
 * A set of at most 32 bits is its own name: the bits themselves, with no
 * tree and no table. Most real histories' keys have that few unknown
 * outcomes (Jepsen's etcd histories: 19 at most), and there interning
 * was most of the search's time.
 *
 * Used by wgl for the operations whose outcome is unknown: which of them
 * are linearized does not stay within a narrow window of the history the
 * way completed ones do (an early one may stay unplaced while later ones
 * are placed), so a window of bits would grow with the history's length.
 *
 * Ownership: the hcset owns its memory (hcs_free); allocations go through
 * base/alloc, under its limit.
 */
#ifndef FL_HCSET_H
#define FL_HCSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCS_FANOUT 8
#define HCS_SMALL_BITS 32

typedef struct hcset {
    bool small;         /* at most HCS_SMALL_BITS bits: the name is mask */
    uint32_t mask;
    size_t levels;      /* tree height over the words; root is ids[levels] */
    size_t *width;      /* entries at each level (width[0]: words) */
    uint64_t **ids;     /* level 0: the words; above: node numbers */
    uint64_t *nodes;    /* HCS_FANOUT entries per interned node */
    size_t nnodes, nodes_cap;
    uint32_t *table;    /* open addressing over node numbers + 1; 0: empty */
    size_t table_size;
} hcset;

/* An empty set of nbits bits. 0, or -1 out of memory (h is then freed). */
int hcs_init(hcset *h, size_t nbits);
void hcs_free(hcset *h);

/* Toggle bit i. 0, or -1 when a new node was needed and memory ran out;
 * the set is then unchanged. Flipping back a bit just flipped never fails. */
int hcs_flip(hcset *h, size_t i);

/* The name of the current set. */
uint32_t hcs_name(const hcset *h);

#endif
