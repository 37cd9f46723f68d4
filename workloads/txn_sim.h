/*
 * txn_sim: histories of a tiny in-memory multi-version database with a
 * known isolation level, for the transactional checker's tests and
 * benchmarks (checkers/elle.h).
 *
 * Processes run transactions of 1..max_mops micro-ops (list-append:
 * ["append", k, v] and ["r", k, list]; rw-register: ["w", k, v] and
 * ["r", k, v]) over `keys` keys, with values unique per key. Each step
 * of the simulation moves one random process forward:
 *
 *   SERIAL    a transaction runs whole and commits at one instant between
 *             its invocation and completion: strict serializable.
 *   SNAPSHOT  reads see the snapshot taken at its first step plus its own
 *             writes; at commit, first committer wins (a key written by a
 *             transaction committed since the snapshot aborts it, ending
 *             fail): snapshot isolation, so write skew (G2-item) happens.
 *   READ_COMMITTED  each read sees the latest committed state plus its own
 *             writes; a write takes the key's lock until commit, and one
 *             that finds it taken aborts (no-wait locking): read committed.
 *
 * A committed transaction's completion may instead be info (the commit
 * happened), the client continuing as a new process. With
 * final_read, one last transaction (after every other completed) reads
 * every key, so every committed write is observed.
 *
 * Pure and deterministic: the same options give the same history.
 */
#ifndef FL_TXN_SIM_H
#define FL_TXN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/history.h"

typedef enum txn_sim_level {
    TXN_SIM_SERIAL,
    TXN_SIM_SNAPSHOT,
    TXN_SIM_READ_COMMITTED,
} txn_sim_level;

typedef struct txn_sim_options {
    size_t txns;        /* transactions to invoke (>= 1) */
    size_t processes;   /* concurrent clients (>= 1) */
    size_t keys;        /* keys in use at a time (>= 1) */
    size_t key_writes;  /* writes per key before it is retired for the
                           next (0: never); keeps list reads short */
    size_t max_mops;    /* per transaction (>= 1) */
    double info_rate;   /* fraction of completions that are info */
    bool list_append;   /* false: rw-register */
    bool final_read;
    txn_sim_level level;
    uint64_t seed;
} txn_sim_options;

/* A new history (owned by the caller): FL_EUSAGE for bad options, or
 * FL_ENOMEM. */
int txn_sim_generate(const txn_sim_options *opt, history **out, fl_error *err);

#endif
