/*
 * set: see set.h. One slot per active key, counting the adds its key has
 * left and the last element added to it.
 */
#include "workloads/set.h"

#include <stdlib.h>

#include "harness/rng.h"

typedef struct set_slot {
    int64_t key;
    int adds_left;
    int64_t last_element;
} set_slot;

struct wl_set {
    wl_set_options opt;
    fl_rng rng;
    set_slot *slots;
    int64_t next_key;
};

void wl_set_options_init(wl_set_options *opt)
{
    opt->seed = 0;
    opt->active_keys = 3;
    opt->min_adds = 200;
    opt->max_adds = 400;
}

static void slot_renew(wl_set *g, set_slot *s)
{
    s->key = g->next_key++;
    s->adds_left = (int)fl_rng_range(&g->rng, g->opt.min_adds, g->opt.max_adds);
    s->last_element = 0;
}

int wl_set_new(const wl_set_options *opt, wl_set **out, fl_error *err)
{
    *out = NULL;
    if (opt->active_keys < 1 || opt->min_adds < 1 ||
        opt->max_adds < opt->min_adds)
        return fl_error_set(err, FL_EUSAGE, "set workload: need active_keys "
                            ">= 1 and 1 <= min_adds <= max_adds");
    wl_set *g = calloc(1, sizeof *g);
    set_slot *slots = calloc((size_t)opt->active_keys, sizeof *slots);
    if (!g || !slots) {
        free(g);
        free(slots);
        return fl_error_set(err, FL_ENOMEM, "set workload: out of memory");
    }
    g->opt = *opt;
    g->slots = slots;
    fl_rng_seed(&g->rng, opt->seed);
    for (int i = 0; i < opt->active_keys; i++)
        slot_renew(g, &g->slots[i]);
    *out = g;
    return FL_OK;
}

void wl_set_free(wl_set *g)
{
    if (!g)
        return;
    free(g->slots);
    free(g);
}

void wl_set_next(wl_set *g, int64_t *key, int64_t *element)
{
    set_slot *s = &g->slots[fl_rng_below(&g->rng, (uint64_t)g->opt.active_keys)];
    *key = s->key;
    *element = ++s->last_element;
    if (--s->adds_left == 0)
        slot_renew(g, s);
}

int64_t wl_set_keys_used(const wl_set *g)
{
    return g->next_key;
}
