/*
 * set: see set.h. The keys and their budgets are workloads/keys.h.
 */
#include "workloads/set.h"

#include <stdlib.h>

#include "workloads/keys.h"

struct wl_set {
    fl_rng rng;
    wl_keys keys;
};

void wl_set_options_init(wl_set_options *opt)
{
    opt->seed = 0;
    opt->active_keys = 3;
    opt->min_adds = 200;
    opt->max_adds = 400;
}

int wl_set_new(const wl_set_options *opt, wl_set **out, fl_error *err)
{
    *out = NULL;
    wl_set *g = calloc(1, sizeof *g);
    if (!g)
        return fl_error_set(err, FL_ENOMEM, "set workload: out of memory");
    fl_rng_seed(&g->rng, opt->seed);
    int rc = wl_keys_init(&g->keys, "set", opt->active_keys, opt->min_adds,
                          opt->max_adds, &g->rng, err);
    if (rc != FL_OK) {
        free(g);
        return rc;
    }
    *out = g;
    return FL_OK;
}

void wl_set_free(wl_set *g)
{
    if (!g)
        return;
    wl_keys_free(&g->keys);
    free(g);
}

void wl_set_next(wl_set *g, int64_t *key, int64_t *element)
{
    wl_key_slot *s = wl_keys_pick(&g->keys);
    *key = s->key;
    *element = ++s->last;
    wl_keys_spend(&g->keys, s);
}

int64_t wl_set_keys_used(const wl_set *g)
{
    return g->keys.next_key;
}
