/*
 * Shared by elle.c (transactions, version orders, non-cycle anomalies),
 * elle_graph.c (the dependency graph and its cycles) and elle_explain.c
 * (words, JSON, SVG, the checker); not part of the API (checkers/elle.h).
 */
#ifndef FL_ELLE_INTERNAL_H
#define FL_ELLE_INTERNAL_H

#include "checkers/elle.h"

#include <stdint.h>

enum { T_OK, T_FAIL, T_INFO };
enum { M_APPEND, M_WRITE, M_READ };

/* Edge classes, one bit each; an edge may carry several. */
enum { E_WW = 1, E_WR = 2, E_RW = 4, E_RT = 8 };
#define E_DEP (E_WW | E_WR | E_RW)
#define E_ALL (E_DEP | E_RT)

#define ELLE_NONE UINT32_MAX

typedef struct elle_txn {
    size_t inv, done;      /* event positions; done SIZE_MAX: none */
    uint8_t status;        /* T_OK, T_FAIL, T_INFO */
    bool committed;        /* ok, or info with a write someone read */
    uint32_t mop0, nmop;   /* its micro-ops: mops[mop0 .. mop0 + nmop) */
    uint32_t node;         /* graph node, ELLE_NONE if not committed */
} elle_txn;

typedef struct elle_mop {
    uint8_t f;             /* M_APPEND, M_WRITE, M_READ */
    bool nil;              /* a read of null (or of nothing yet: not ok) */
    bool external;         /* an ok read showing a committed version (list:
                              its first rn - own elements; register: no
                              own write of the key before it) */
    bool last_write;       /* the txn's final write of key */
    uint32_t key;
    int64_t v;             /* written value; a register read's value */
    uint32_t r0, rn;       /* a list read's elements: reads[r0 .. r0+rn) */
    uint32_t own;          /* list read: the txn's own appends at its end */
} elle_mop;

/* One written (key, value): who wrote it, its place in the key's order. */
typedef struct elle_write {
    uint32_t key;
    int64_t v;
    uint32_t txn, mop;
    int64_t pos;           /* index in the key's version order, -1: none */
} elle_write;

typedef struct elle_key {
    const json_t *name;    /* borrowed from the history */
    uint32_t order_txn;    /* list-append: the longest read's txn and mop */
    uint32_t order_mop;    /* (ELLE_NONE: never read) */
} elle_key;

/* A finding kept in detail: a cycle (nodes are txn ids, types[i] the
 * class of the edge from txns[i] to txns[i+1 mod n]) or one read. */
#define ELLE_KEEP 8
typedef struct elle_finding {
    elle_anomaly kind;
    uint32_t n;
    uint32_t *txns;        /* owned */
    uint8_t *types;        /* owned; NULL for a non-cycle finding */
    uint32_t mop;          /* non-cycle: the reading mop (global index) */
    int64_t value;         /* non-cycle: the value at issue */
    uint32_t other;        /* non-cycle: the writer or other reader txn */
    uint32_t other_mop;
} elle_finding;

typedef struct elle_graph elle_graph;

struct elle_result {
    elle_summary sum;
    elle_txn *txns;
    size_t ntxn;
    elle_mop *mops;
    size_t nmop;
    int64_t *reads;
    size_t nreads;
    elle_key *keys;
    size_t nkeys;
    elle_write *writes;
    size_t nwrites;
    uint32_t *wtab;        /* open addressing over writes, ELLE_NONE empty */
    size_t wcap;
    elle_finding *found;
    size_t nfound;
    uint32_t *node_txn;    /* graph node -> txn (time nodes: ELLE_NONE) */
    size_t nnodes, ntxn_nodes;
    bool budget_spent;     /* the cycle search stopped early */
    /* Read from a file (elle_read.c): keys' names are owned; each txn's
     * invoke and completion line (byte offsets, SIZE_MAX: none), and the
     * small history of the lines of the txns in findings, whose
     * positions txns' inv/done then hold (elle_result_history). */
    bool own_keys;
    size_t (*lines)[2];
    history *mini;
};

/* fn(r, txn, mop) for every non-null read of an ok txn, in order, until
 * one returns other than FL_OK (returned). */
int elle_each_read(elle_result *r, int (*fn)(elle_result *, uint32_t,
                                             uint32_t));

/* Everything after reading the txns: internal, writes, orders, cycles,
 * the summary. FL_OK, FL_ENOMEM. */
int elle_analyse(elle_result *r, fl_error *err);

/* The write of (key, v), or NULL. */
elle_write *elle_write_find(const elle_result *r, uint32_t key, int64_t v);

/* Record a finding (counted always, kept in detail up to ELLE_KEEP per
 * kind). txns/types are copied. FL_OK or FL_ENOMEM. */
int elle_found(elle_result *r, elle_anomaly kind, const uint32_t *txns,
               const uint8_t *types, uint32_t n, uint32_t mop, int64_t value,
               uint32_t other, uint32_t other_mop);

/* Build the graph of the committed txns and record every cycle class. */
int elle_cycles(elle_result *r, fl_error *err);

/* Whether list read m's elements are the first m->rn of o. */
static inline bool elle_prefix(const elle_result *r, const elle_mop *m,
                               const int64_t *o)
{
    for (uint32_t i = 0; i < m->rn; i++)
        if (r->reads[m->r0 + i] != o[i])
            return false;
    return true;
}

/* The version order of key k (list-append): *n elements, or NULL. */
const int64_t *elle_order(const elle_result *r, uint32_t k, uint32_t *n);

#endif
