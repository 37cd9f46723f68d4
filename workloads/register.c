/*
 * register: see register.h. One slot per active key; each slot counts the
 * operations its key has left and the last value written to it.
 */
#include "workloads/register.h"

#include <stdlib.h>

#include "harness/rng.h"

typedef struct wl_slot {
    int64_t key;
    int ops_left;
    int64_t last_value;   /* values written so far to this key: 1..last */
} wl_slot;

struct wl_register {
    wl_register_options opt;
    fl_rng rng;
    wl_slot *slots;
    int64_t next_key;
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

static void slot_renew(wl_register *g, wl_slot *s)
{
    s->key = g->next_key++;
    s->ops_left = (int)fl_rng_range(&g->rng, g->opt.min_ops, g->opt.max_ops);
    s->last_value = 0;
}

int wl_register_new(const wl_register_options *opt, wl_register **out,
                    fl_error *err)
{
    *out = NULL;
    if (opt->active_keys < 1 || opt->min_ops < 1 || opt->max_ops < opt->min_ops)
        return fl_error_set(err, FL_EUSAGE, "register workload: need "
                            "active_keys >= 1 and 1 <= min_ops <= max_ops");
    if (opt->read_pct < 0 || opt->write_pct < 0 ||
        opt->read_pct + opt->write_pct > 100)
        return fl_error_set(err, FL_EUSAGE, "register workload: read and "
                            "write percentages must be >= 0 and sum to <= 100");
    wl_register *g = calloc(1, sizeof *g);
    wl_slot *slots = calloc((size_t)opt->active_keys, sizeof *slots);
    if (!g || !slots) {
        free(g);
        free(slots);
        return fl_error_set(err, FL_ENOMEM, "register workload: out of memory");
    }
    g->opt = *opt;
    g->slots = slots;
    fl_rng_seed(&g->rng, opt->seed);
    for (int i = 0; i < opt->active_keys; i++)
        slot_renew(g, &g->slots[i]);
    *out = g;
    return FL_OK;
}

void wl_register_free(wl_register *g)
{
    if (!g)
        return;
    free(g->slots);
    free(g);
}

void wl_register_next(wl_register *g, wl_op *out)
{
    wl_slot *s = &g->slots[fl_rng_below(&g->rng, (uint64_t)g->opt.active_keys)];
    int dice = (int)fl_rng_below(&g->rng, 100);
    out->key = s->key;
    out->value = 0;
    out->old = 0;
    if (dice < g->opt.read_pct) {
        out->f = WL_READ;
    } else if (dice < g->opt.read_pct + g->opt.write_pct) {
        out->f = WL_WRITE;
        out->value = ++s->last_value;
    } else {
        /* Expect one of the last few values: a cas that always failed would
         * test nothing, one that always succeeded would test little. */
        out->f = WL_CAS;
        /* On a fresh key this expects 0, a value never written: a cas
         * that certainly fails, as it should. */
        int64_t lo = s->last_value > 2 ? s->last_value - 2 : 0;
        out->old = fl_rng_range(&g->rng, lo, s->last_value);
        out->value = ++s->last_value;
    }
    if (--s->ops_left == 0)
        slot_renew(g, s);
}

int64_t wl_register_keys_used(const wl_register *g)
{
    return g->next_key;
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
