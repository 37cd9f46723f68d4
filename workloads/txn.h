/*
 * txn: the generators of Elle's two transactional workloads, judged by
 * the "elle" checker (checkers/elle.h).
 *
 *   list-append  transactions of 1..max_mops micro-ops, each a read
 *                ["r", k, null] or an append ["append", k, v];
 *   rw-register  the same with writes ["w", k, v].
 *
 * Keys: `active_keys` at a time (workloads/keys.h); each takes
 * max_writes_per_key writes (Elle's default 32) and is then retired for
 * the next integer, so list reads stay short. Values are unique per key
 * (1, 2, 3, ...), which is what makes a read traceable to its writer.
 * Half the micro-ops read (read_pct).
 *
 * The generator is pure: a seed fixes the sequence. Not thread safe.
 * Ownership: the caller owns the generator (wl_txn_free) and each value
 * it returns.
 */
#ifndef FL_WL_TXN_H
#define FL_WL_TXN_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "base/fl_error.h"

typedef struct wl_txn_options {
    uint64_t seed;
    bool list_append;        /* false: rw-register */
    int active_keys;         /* >= 1 */
    int max_mops;            /* >= 1 */
    int max_writes_per_key;  /* >= 1 */
    int read_pct;            /* 0..100 */
} wl_txn_options;

/* Defaults (Elle's): list-append, 10 keys, 4 micro-ops, 32 writes per key,
 * 50% reads, seed 0. */
void wl_txn_options_init(wl_txn_options *opt);

typedef struct wl_txn wl_txn;

/* FL_EUSAGE for bad options, FL_ENOMEM. */
int wl_txn_new(const wl_txn_options *opt, wl_txn **out, fl_error *err);
void wl_txn_free(wl_txn *g);

/* The next transaction's invocation value (a new reference; NULL when
 * out of memory). */
json_t *wl_txn_next(wl_txn *g);

/* A transaction reading key k alone: the final read. New reference. */
json_t *wl_txn_read(int64_t k);

/* Keys handed out so far are 0 .. wl_txn_keys_used() - 1. */
int64_t wl_txn_keys_used(const wl_txn *g);

#endif
