/*
 * keys: see keys.h.
 */
#include "workloads/keys.h"

#include <stdlib.h>

static void slot_renew(wl_keys *k, wl_key_slot *s)
{
    s->key = k->next_key++;
    s->ops_left = (int)fl_rng_range(k->rng, k->min_ops, k->max_ops);
    s->last = 0;
}

int wl_keys_init(wl_keys *k, const char *what, int active, int min_ops,
                 int max_ops, fl_rng *rng, fl_error *err)
{
    *k = (wl_keys){.rng = rng, .active = active, .min_ops = min_ops,
                   .max_ops = max_ops};
    if (active < 1 || min_ops < 1 || max_ops < min_ops)
        return fl_error_set(err, FL_EUSAGE, "%s workload: need at least one "
                            "active key and 1 <= minimum <= maximum operations "
                            "per key", what);
    if (!(k->slots = calloc((size_t)active, sizeof *k->slots)))
        return fl_error_set(err, FL_ENOMEM, "%s workload: out of memory", what);
    for (int i = 0; i < active; i++)
        slot_renew(k, &k->slots[i]);
    return FL_OK;
}

void wl_keys_free(wl_keys *k)
{
    free(k->slots);
    k->slots = NULL;
}

wl_key_slot *wl_keys_pick(wl_keys *k)
{
    return &k->slots[fl_rng_below(k->rng, (uint64_t)k->active)];
}

void wl_keys_spend(wl_keys *k, wl_key_slot *s)
{
    if (--s->ops_left == 0)
        slot_renew(k, s);
}
