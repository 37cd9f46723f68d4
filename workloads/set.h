/*
 * set: the generator of Jepsen's "set" workload — adds of unique integer
 * elements to sets, one set per key; the sets are read once, at the end,
 * after the faults are healed (the runner's final reads), and
 * checkers/set.h compares what was read with what was acknowledged.
 *
 * Like the register generator it is pure (a seed fixes every operation)
 * and spreads the adds over `active_keys` keys, retiring a key after
 * min_adds..max_adds adds: each set stays small enough that the client's
 * read-modify-write of it (a whole-set compare-and-set, targets/clients/rmw.h) stays
 * cheap, and contention is spread over several keys.
 *
 * Not thread safe: the runner serialises calls. Owned by the caller
 * (wl_set_free).
 */
#ifndef FL_WL_SET_H
#define FL_WL_SET_H

#include <stdint.h>

#include "base/fl_error.h"

typedef struct wl_set_options {
    uint64_t seed;
    int active_keys;   /* >= 1 */
    int min_adds;      /* per key, >= 1 */
    int max_adds;      /* per key, >= min_adds */
} wl_set_options;

/* Defaults: seed 0, 3 keys, 200..400 adds per key. */
void wl_set_options_init(wl_set_options *opt);

typedef struct wl_set wl_set;

/* FL_EUSAGE for inconsistent options, FL_ENOMEM. */
int wl_set_new(const wl_set_options *opt, wl_set **out, fl_error *err);
void wl_set_free(wl_set *g);

/* The next add: element (1, 2, 3, ... within its key) to key. */
void wl_set_next(wl_set *g, int64_t *key, int64_t *element);

/* Keys handed out so far are 0 .. wl_set_keys_used() - 1. */
int64_t wl_set_keys_used(const wl_set *g);

#endif
