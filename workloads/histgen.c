/*
 * histgen.c — see histgen.h. Each client steps through three phases per
 * operation (invoke, take effect, complete), chosen in random interleaving,
 * which is what makes operations overlap the way real clients' do.
 */
#include "workloads/histgen.h"

#include <stdlib.h>

enum { OP_READ, OP_WRITE, OP_CAS };
enum { PHASE_IDLE, PHASE_INVOKED, PHASE_APPLIED };

typedef struct client {
    int64_t process;
    int phase;
    int kind;
    size_t key;
    int64_t a, b, result;  /* write value / cas [a b]; what a read saw */
    bool cas_failed, vanish; /* vanish: an info op that never takes effect */
} client;

typedef struct gen {
    const histgen_options *opt;
    uint64_t rng;
    int64_t *regs;      /* per key; -1 = null */
    int64_t *next_val;  /* per key: next unique write value */
    int64_t next_process;
    size_t invoked;
} gen;

static uint64_t rnd(gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static json_t *reg_json(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static int record(history *h, const client *c, history_type type,
                  json_t *value, fl_error *err)
{
    json_t *key = json_integer((json_int_t)c->key);
    static const char *names[] = {"read", "write", "cas"};
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                        .process = c->process, .type = type,
                        .f = names[c->kind], .key = key, .value = value};
    int rc = history_append(h, &in, err);
    json_decref(key);
    json_decref(value);
    return rc;
}

static int invoke(gen *g, client *c, history *h, fl_error *err)
{
    uint64_t r = rnd(g) % 10;
    c->kind = r < 5 ? OP_READ : r < 8 ? OP_WRITE : OP_CAS;
    c->key = (size_t)(rnd(g) % g->opt->keys);
    c->cas_failed = false;
    c->vanish = false;
    json_t *v = json_null();
    if (c->kind == OP_WRITE) {
        c->a = g->next_val[c->key]++;
        v = json_integer(c->a);
    } else if (c->kind == OP_CAS) {
        /* expect the current value most of the time, so cas succeed */
        c->a = rnd(g) % 4 ? g->regs[c->key] : g->next_val[c->key] - 2;
        c->b = g->next_val[c->key]++;
        v = json_pack("[oI]", reg_json(c->a), (json_int_t)c->b);
    }
    c->phase = PHASE_INVOKED;
    g->invoked++;
    return record(h, c, HISTORY_INVOKE, v, err);
}

static void apply(gen *g, client *c)
{
    int64_t *reg = &g->regs[c->key];
    c->phase = PHASE_APPLIED;
    if (c->kind == OP_READ)
        c->result = *reg;
    else if (c->kind == OP_WRITE)
        *reg = c->a;
    else if (*reg == c->a)
        *reg = c->b;
    else
        c->cas_failed = true;
}

static int complete(gen *g, client *c, history *h, fl_error *err)
{
    c->phase = PHASE_IDLE;
    json_t *v = c->kind == OP_READ    ? reg_json(c->result)
                : c->kind == OP_WRITE ? json_integer(c->a)
                                      : json_pack("[oI]", reg_json(c->a),
                                                  (json_int_t)c->b);
    history_type type = c->cas_failed ? HISTORY_FAIL : HISTORY_OK;
    if (c->vanish || (double)(rnd(g) % 1000000) / 1e6 < g->opt->info_rate)
        type = c->cas_failed ? HISTORY_FAIL : HISTORY_INFO;
    int rc = record(h, c, type, v, err);
    if (type == HISTORY_INFO)
        c->process = g->next_process++; /* Jepsen: a new process after info */
    return rc;
}

/* Advance one random client by one phase. */
static int step(gen *g, client *clients, history *h, fl_error *err)
{
    client *c = &clients[rnd(g) % g->opt->processes];
    switch (c->phase) {
    case PHASE_IDLE:
        return g->invoked < g->opt->ops ? invoke(g, c, h, err) : FL_OK;
    case PHASE_INVOKED:
        /* an info op may never take effect at all */
        if (rnd(g) % 1000000 < (uint64_t)(g->opt->info_rate * 500000)) {
            c->vanish = true;
            c->phase = PHASE_APPLIED;
            c->cas_failed = false;
            return FL_OK;
        }
        apply(g, c);
        return FL_OK;
    default:
        return complete(g, c, h, err);
    }
}

int histgen_generate(const histgen_options *opt, history **out, fl_error *err)
{
    if (opt->keys == 0 || opt->processes == 0)
        return fl_error_set(err, FL_EUSAGE, "histgen: keys and processes must "
                                            "be at least 1");
    gen g = {.opt = opt, .rng = opt->seed * 0x9e3779b97f4a7c15ULL + 1};
    g.regs = malloc(opt->keys * sizeof *g.regs);
    g.next_val = malloc(opt->keys * sizeof *g.next_val);
    client *clients = calloc(opt->processes, sizeof *clients);
    history *h = history_new();
    int rc = FL_OK;
    if (!g.regs || !g.next_val || !clients || !h) {
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < opt->keys; k++) {
        g.regs[k] = -1;
        g.next_val[k] = 1;
    }
    for (size_t i = 0; i < opt->processes; i++)
        clients[i].process = (int64_t)i;
    g.next_process = (int64_t)opt->processes;
    bool busy = true;
    while (rc == FL_OK && (g.invoked < opt->ops || busy)) {
        rc = step(&g, clients, h, err);
        busy = false;
        if (g.invoked >= opt->ops)
            for (size_t i = 0; i < opt->processes && !busy; i++)
                busy = clients[i].phase != PHASE_IDLE;
    }
done:
    free(g.regs);
    free(g.next_val);
    free(clients);
    if (rc != FL_OK) {
        history_free(h);
        return rc;
    }
    *out = h;
    return FL_OK;
}
