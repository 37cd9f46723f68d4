/*
 * register: see register.h. The keys and their budgets are workloads/keys.h.
 */
#include "workloads/register.h"

#include <stdlib.h>

#include "workloads/keys.h"

struct wl_register {
    wl_register_options opt;
    fl_rng rng;
    wl_keys keys;
};

void wl_register_options_init(wl_register_options *opt)
{
    opt->seed = 0;
    opt->active_keys = 3;
    opt->min_ops = 100;
    opt->max_ops = 200;
    opt->read_pct = 40;
    opt->write_pct = 30;
}

int wl_register_keys_for(int concurrency)
{
    return concurrency <= 3 ? 1 : (concurrency + 2) / 3;
}

int wl_register_new(const wl_register_options *opt, wl_register **out,
                    fl_error *err)
{
    *out = NULL;
    if (opt->read_pct < 0 || opt->write_pct < 0 ||
        opt->read_pct + opt->write_pct > 100)
        return fl_error_set(err, FL_EUSAGE, "register workload: read and "
                            "write percentages must be >= 0 and sum to <= 100");
    wl_register *g = calloc(1, sizeof *g);
    if (!g)
        return fl_error_set(err, FL_ENOMEM, "register workload: out of memory");
    g->opt = *opt;
    fl_rng_seed(&g->rng, opt->seed);
    int rc = wl_keys_init(&g->keys, "register", opt->active_keys, opt->min_ops,
                          opt->max_ops, &g->rng, err);
    if (rc != FL_OK) {
        free(g);
        return rc;
    }
    *out = g;
    return FL_OK;
}

void wl_register_free(wl_register *g)
{
    if (!g)
        return;
    wl_keys_free(&g->keys);
    free(g);
}

void wl_register_next(wl_register *g, wl_op *out)
{
    wl_key_slot *s = wl_keys_pick(&g->keys);
    int dice = (int)fl_rng_below(&g->rng, 100);
    out->key = s->key;
    out->value = 0;
    out->old = 0;
    if (dice < g->opt.read_pct) {
        out->f = WL_READ;
    } else if (dice < g->opt.read_pct + g->opt.write_pct) {
        out->f = WL_WRITE;
        out->value = ++s->last;
    } else {
        /* Expect one of the last few values: a cas that always failed would
         * test nothing, one that always succeeded would test little. */
        out->f = WL_CAS;
        /* On a fresh key this expects 0, a value never written: a cas
         * that certainly fails, as it should. */
        int64_t lo = s->last > 2 ? s->last - 2 : 0;
        out->old = fl_rng_range(&g->rng, lo, s->last);
        out->value = ++s->last;
    }
    wl_keys_spend(&g->keys, s);
}

int64_t wl_register_keys_used(const wl_register *g)
{
    return g->keys.next_key;
}

const char *wl_f_name(wl_f f)
{
    switch (f) {
    case WL_READ: return "read";
    case WL_WRITE: return "write";
    case WL_CAS: return "cas";
    }
    return "?";
}

json_t *wl_op_invoke_value(const wl_op *op)
{
    switch (op->f) {
    case WL_READ: return json_null();
    case WL_WRITE: return json_integer(op->value);
    case WL_CAS: return json_pack("[II]", (json_int_t)op->old,
                                  (json_int_t)op->value);
    }
    return NULL;
}
