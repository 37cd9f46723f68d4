/*
 * histgen: synthetic histories of linearizable cas-registers, one per key,
 * for benchmarks and randomized tests of the checkers.
 *
 * Processes invoke reads, writes (of values unique per key) and cas
 * operations on random keys; each operation takes effect atomically at a
 * random moment between its invocation and completion, so the history is
 * linearizable by construction. Some operations end `info` (their effect may
 * or may not have happened: the client then continues as a new process, as
 * Jepsen's do) and a cas whose expectation fails ends `fail`.
 *
 * Deterministic: the same options give the same history.
 */
#ifndef FL_HISTGEN_H
#define FL_HISTGEN_H

#include <stddef.h>
#include <stdint.h>

#include "history/history.h"

typedef struct histgen_options {
    size_t ops;          /* operations to invoke */
    size_t keys;         /* independent registers (>= 1) */
    size_t processes;    /* concurrent clients (>= 1) */
    double info_rate;    /* fraction of operations that end info */
    uint64_t seed;
} histgen_options;

/* A new history (owned by the caller) or an error (FL_EUSAGE, FL_ENOMEM). */
int histgen_generate(const histgen_options *opt, history **out, fl_error *err);

#endif
