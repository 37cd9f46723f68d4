/*
 * keys: the independent keys a workload spreads its operations over
 * (Jepsen's `independent` generator). `active` keys are in use at a time;
 * each is given a budget of min_ops..max_ops operations drawn from the
 * workload's random stream, and once spent it is retired and the next
 * integer key takes its slot, so every key's history stays short.
 *
 * Each slot also counts the values written to its key (`last`), from
 * which workloads make values unique per key: 1, 2, 3...
 *
 * Owned by the workload that embeds it (wl_keys_free); the rng is
 * borrowed.
 */
#ifndef FL_WL_KEYS_H
#define FL_WL_KEYS_H

#include <stdint.h>

#include "base/fl_error.h"
#include "base/rng.h"

typedef struct wl_key_slot {
    int64_t key;
    int ops_left;
    int64_t last;     /* values written to this key so far: 1..last */
} wl_key_slot;

typedef struct wl_keys {
    fl_rng *rng;
    int active, min_ops, max_ops;
    wl_key_slot *slots;
    int64_t next_key;
} wl_keys;

/* FL_EUSAGE unless active >= 1 and 1 <= min_ops <= max_ops (the message
 * names `what`); FL_ENOMEM. */
int wl_keys_init(wl_keys *k, const char *what, int active, int min_ops,
                 int max_ops, fl_rng *rng, fl_error *err);
void wl_keys_free(wl_keys *k);

/* A random active slot, for the next operation. */
wl_key_slot *wl_keys_pick(wl_keys *k);

/* The operation on s was generated: retire its key if the budget is spent. */
void wl_keys_spend(wl_keys *k, wl_key_slot *s);

#endif
