/*
 * txn: see txn.h. The keys and their budgets are workloads/keys.h, the
 * budget counting writes only.
 */
#include "workloads/txn.h"

#include <stdlib.h>

#include "workloads/keys.h"

struct wl_txn {
    wl_txn_options opt;
    fl_rng rng;
    wl_keys keys;
};

void wl_txn_options_init(wl_txn_options *opt)
{
    *opt = (wl_txn_options){.list_append = true, .active_keys = 10,
                            .max_mops = 4, .max_writes_per_key = 32,
                            .read_pct = 50};
}

int wl_txn_new(const wl_txn_options *opt, wl_txn **out, fl_error *err)
{
    *out = NULL;
    if (opt->max_mops < 1 || opt->read_pct < 0 || opt->read_pct > 100)
        return fl_error_set(err, FL_EUSAGE, "txn workload: need max_mops >= 1 "
                            "and 0 <= read_pct <= 100");
    wl_txn *g = calloc(1, sizeof *g);
    if (!g)
        return fl_error_set(err, FL_ENOMEM, "txn workload: out of memory");
    g->opt = *opt;
    fl_rng_seed(&g->rng, opt->seed);
    int rc = wl_keys_init(&g->keys, "txn", opt->active_keys,
                          opt->max_writes_per_key, opt->max_writes_per_key,
                          &g->rng, err);
    if (rc != FL_OK) {
        free(g);
        return rc;
    }
    *out = g;
    return FL_OK;
}

void wl_txn_free(wl_txn *g)
{
    if (!g)
        return;
    wl_keys_free(&g->keys);
    free(g);
}

json_t *wl_txn_next(wl_txn *g)
{
    json_t *v = json_array();
    int n = 1 + (int)fl_rng_below(&g->rng, (uint64_t)g->opt.max_mops);
    for (int i = 0; v && i < n; i++) {
        wl_key_slot *s = wl_keys_pick(&g->keys);
        json_t *m;
        if ((int)fl_rng_below(&g->rng, 100) < g->opt.read_pct) {
            m = json_pack("[s, I, n]", "r", (json_int_t)s->key);
        } else {
            m = json_pack("[s, I, I]", g->opt.list_append ? "append" : "w",
                          (json_int_t)s->key, (json_int_t)++s->last);
            wl_keys_spend(&g->keys, s);
        }
        if (json_array_append_new(v, m) != 0) {
            json_decref(v);
            v = NULL;
        }
    }
    return v;
}

json_t *wl_txn_read(int64_t k)
{
    return json_pack("[[s, I, n]]", "r", (json_int_t)k);
}

int64_t wl_txn_keys_used(const wl_txn *g)
{
    return g->keys.next_key;
}
