/*
 * register: the generator of Jepsen's "register" workload — reads, writes
 * and compare-and-sets on independent integer keys (Jepsen's
 * `independent/concurrent-generator`).
 *
 * The generator is pure: a seed fixes the whole sequence of operations it
 * yields, whatever the clock or the database do. Rate limiting and the time
 * limit belong to the runner, which merely decides when to call next.
 *
 * Keys: `active_keys` keys are in use at a time. Each key is given a budget
 * of min_ops..max_ops operations (chosen from the seed); when the budget is
 * spent the key is retired and a fresh key (the next integer) takes its
 * slot, so each key's history stays short enough to check quickly.
 * Values: every write, and every cas's new value, is unique within its key
 * (1, 2, 3, ...), which is what makes a register history checkable.
 *
 * Not thread safe: the runner serialises calls to wl_register_next().
 * Ownership: the generator is owned by the caller (wl_register_free).
 */
#ifndef FL_WL_REGISTER_H
#define FL_WL_REGISTER_H

#include <stdint.h>
#include <jansson.h>

#include "base/fl_error.h"

typedef enum wl_f {
    WL_READ,
    WL_WRITE,
    WL_CAS,
} wl_f;

/* One operation to invoke. read: nothing; write: value; cas: old -> value. */
typedef struct wl_op {
    wl_f f;
    int64_t key;
    int64_t value;
    int64_t old;
} wl_op;

typedef struct wl_register_options {
    uint64_t seed;
    int active_keys;   /* >= 1 */
    int min_ops;       /* per key, >= 1 */
    int max_ops;       /* per key, >= min_ops */
    int read_pct;      /* the mix; cas gets 100 - read_pct - write_pct */
    int write_pct;
} wl_register_options;

/* Defaults: seed 0, 3 keys, 100..200 ops per key, 40% read, 30% write. */
void wl_register_options_init(wl_register_options *opt);

/* The workload's default number of active keys for a concurrency: about
 * three client threads per key, at least one key. */
int wl_register_keys_for(int concurrency);

typedef struct wl_register wl_register;

/* FL_EUSAGE for inconsistent options, FL_ENOMEM. */
int wl_register_new(const wl_register_options *opt, wl_register **out,
                    fl_error *err);
void wl_register_free(wl_register *g);

/* The next operation. Cannot fail. */
void wl_register_next(wl_register *g, wl_op *out);

/* Keys handed out so far are 0 .. wl_register_keys_used() - 1. */
int64_t wl_register_keys_used(const wl_register *g);

/* "read", "write", "cas". */
const char *wl_f_name(wl_f f);

/* The invocation's history value: null (read), V (write), [old, new] (cas).
 * New reference, NULL when out of memory. */
json_t *wl_op_invoke_value(const wl_op *op);

#endif
