/*
 * sequential.c — the sequential-consistency checker's driver: the
 * linearizable checker's per-key verdicts first (shortcut 1; handed in
 * by whoever runs this checker, checker.needs), each non-linearizable key's
 * projection (shortcut 2), then the global search on each component of
 * keys linked by processes (shortcut 3), and the anomaly. See sequential.h.
 */
#include "checkers/sequential.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "checkers/lin_model.h"
#include "checkers/linearizable.h" /* checker_linearizable, what it needs */
#include "checkers/sc_graph.h"
#include "checkers/sc_search.h"
#include "checkers/shrink.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PREFIX_SHOWN 32
#define SC_BOTH_DEFAULT_S 10.0 /* SC's budget under "both" with no limit */
#define MAX_CHAINS_SHOWN 16
#define MAX_CHAIN_OPS 4

struct sc_check_result {
    checker_consistency mode;
    checker_verdict lin, sc;
    const char *anomaly;
    const char *anomaly_kind; /* real-time: "stale-read", ...; else NULL */
    json_t *lin_json, *sc_json, *anomaly_detail;
    char *lin_words;       /* the linearizable checker's explanation */
    size_t lin_words_len;
    double lin_ms;         /* what the linearizable check took */
    const char *model;
    double elapsed_ms;
};

/* Everything the searches share: the prepared ops of the whole history,
 * in history order, and the objects (keys) they act on. */
typedef struct sc_all {
    const history *h;
    const checker_options *opt;
    const lin_model *m;
    lin_ctx *ctx;
    sc_op *ops;
    size_t *pos;          /* each op's invocation position in h */
    int64_t *proc;
    size_t n;
    uint32_t *obj_key;    /* object -> key value id (HISTORY_NONE: "*") */
    uint32_t *slot_of;    /* key value id -> object (last: "*") */
    checker_verdict *lin_key; /* each object's linearizability verdict */
    checker_verdict *proj_key; /* each object's projection's SC verdict */
    size_t nobjs;
    uint64_t initial;
    wgl_limits limits;
    /* what decided SC */
    checker_verdict verdict;
    wgl_stop stop;
    uint64_t explored;
    size_t searches;
    size_t graph_decided; /* problems checkers/sc_graph decided */
    bool guided;          /* the ranks are guide()'s */
    size_t *support;      /* checkers/sc_graph's counterexample: the history
                             positions of the ops that keep it */
    size_t nsupport;
    json_t *counterexample;
    bool *scope;          /* the objects of the counterexample */
} sc_all;

#define NOTHING UINT32_MAX /* in sc_op.obj: an op to drop after the split */
#define RANK_SHIFT 21       /* rank: a position, then an order within it */

/* ---- The operations ------------------------------------------------------------- */

static int add_op(sc_all *a, size_t p, uint32_t obj, fl_error *err)
{
    const history_event *e = &history_events(a->h)[p];
    bool ok;
    sc_op *o = &a->ops[a->n];
    memset(o, 0, sizeof *o);
    if (lin_model_prepare_event(a->m, a->ctx, a->h, p, a->opt->nil_reads_unknown,
                                &o->op, &ok, err) != FL_OK)
        return fl_error_wrap(err, "the operation invoked at index %lld",
                             (long long)e->index);
    /* an op that changes nothing and whose output is unknown says nothing;
     * it stays until split_at_info has seen it end its chain */
    o->obj = !o->op.known && a->m->read_only(&o->op) ? NOTHING : obj;
    o->required = ok;
    o->rank = (int64_t)p << RANK_SHIFT;
    o->at = (int64_t)p;
    a->pos[a->n] = p;
    a->proc[a->n++] = e->process;
    return FL_OK;
}

/* The object of each key, in order of first use (as the linearizable
 * checker splits). */
static uint32_t object_of(sc_all *a, uint32_t *slot_of, uint32_t key)
{
    size_t slot = key == HISTORY_NONE ? history_value_count(a->h) : key;
    if (slot_of[slot] == UINT32_MAX) {
        slot_of[slot] = (uint32_t)a->nobjs;
        a->obj_key[a->nobjs++] = key;
    }
    return slot_of[slot];
}

static int cmp_proc_pos(const void *x, const void *y, void *arg)
{
    const sc_all *a = arg;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    if (a->proc[i] != a->proc[j])
        return a->proc[i] < a->proc[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/*
 * Program-order chains. A process whose op ended info issues nothing more
 * (Jepsen): the op may still be executing. A history where the same id
 * goes on anyway is read the same way, as if the client had taken a new
 * id, so an info op always ends its chain. That is also what the
 * linearizable checker assumes (an info op may take effect after its
 * process's later ops), so linearizable still implies SC (shortcut 1).
 * a->proc becomes the chain.
 */
static int split_at_info(sc_all *a, fl_error *err)
{
    size_t *order = fl_malloc((a->n + 1) * sizeof *order);
    int64_t *chain = fl_malloc((a->n + 1) * sizeof *chain);
    if (order == NULL || chain == NULL) {
        fl_free(order);
        fl_free(chain);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < a->n; i++)
        order[i] = i;
    qsort_r(order, a->n, sizeof *order, cmp_proc_pos, a);
    int64_t next = -1;
    for (size_t k = 0; k < a->n; k++) {
        size_t i = order[k], prev = k > 0 ? order[k - 1] : SIZE_MAX;
        if (k == 0 || a->proc[i] != a->proc[prev] || !a->ops[prev].required)
            next++;
        chain[i] = next;
    }
    size_t kept = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->ops[i].obj == NOTHING)
            continue;
        a->ops[kept] = a->ops[i];
        a->pos[kept] = a->pos[i];
        a->proc[kept++] = chain[i];
    }
    a->n = kept;
    fl_free(order);
    fl_free(chain);
    return FL_OK;
}

static int gather(sc_all *a, fl_error *err)
{
    const history_event *ev = history_events(a->h);
    size_t len = history_len(a->h), nv = history_value_count(a->h);
    uint32_t *slot_of = a->slot_of = fl_malloc((nv + 1) * sizeof *slot_of);
    a->ops = fl_malloc((len + 1) * sizeof *a->ops);
    a->pos = fl_malloc((len + 1) * sizeof *a->pos);
    a->proc = fl_malloc((len + 1) * sizeof *a->proc);
    a->obj_key = fl_malloc((nv + 2) * sizeof *a->obj_key);
    if (!slot_of || !a->ops || !a->pos || !a->proc || !a->obj_key)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; i <= nv; i++)
        slot_of[i] = UINT32_MAX;
    int rc = FL_OK;
    for (size_t i = 0; i < len && rc == FL_OK; i++) {
        const history_event *e = &ev[i];
        if (e->process == HISTORY_NEMESIS || e->type != HISTORY_INVOKE ||
            (e->pair != HISTORY_NONE && ev[e->pair].type == HISTORY_FAIL))
            continue;
        uint32_t key = a->opt->no_split ? HISTORY_NONE : e->key;
        rc = add_op(a, i, object_of(a, slot_of, key), err);
    }
    return rc == FL_OK ? split_at_info(a, err) : rc;
}

typedef struct obj_value {
    uint32_t obj;
    uint64_t value;
} obj_value;

typedef struct seen {
    obj_value *v;
    size_t n, cap;
    uint32_t obj;
    bool oom;
} seen;

static void see(void *arg, uint64_t value)
{
    seen *s = arg;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        obj_value *g = fl_realloc(s->v, cap * sizeof *g);
        if (g == NULL) {
            s->oom = true;
            return;
        }
        s->v = g;
        s->cap = cap;
    }
    s->v[s->n++] = (obj_value){s->obj, value};
}

static int cmp_obj_value(const void *x, const void *y)
{
    const obj_value *a = x, *b = y;
    if (a->obj != b->obj)
        return a->obj < b->obj ? -1 : 1;
    return (a->value > b->value) - (a->value < b->value);
}

/*
 * An info write of a value nobody on its key observes can be dropped, as
 * in the linearizable checker, and for the same reason under SC: after it,
 * until the next overwrite, only ops that do not look at the state can
 * take effect, so the order without it is just as legal; and removing an
 * op breaks no program order.
 */
static void drop_unobserved_writes(sc_all *a)
{
    if (a->m->written == NULL || a->m->observed == NULL)
        return;
    seen s = {0};
    for (size_t i = 0; i < a->n; i++) {
        s.obj = a->ops[i].obj;
        a->m->observed(&a->ops[i].op, see, &s);
    }
    if (s.oom) {
        fl_free(s.v);
        return; /* an optimisation: skip it */
    }
    if (s.n > 0)
        qsort(s.v, s.n, sizeof *s.v, cmp_obj_value);
    size_t kept = 0;
    for (size_t i = 0; i < a->n; i++) {
        obj_value w = {a->ops[i].obj, a->ops[i].required
                                          ? LIN_NO_STATE
                                          : a->m->written(&a->ops[i].op)};
        if (w.value != LIN_NO_STATE &&
            (s.n == 0 || !bsearch(&w, s.v, s.n, sizeof *s.v, cmp_obj_value)))
            continue;
        a->ops[kept] = a->ops[i];
        a->pos[kept] = a->pos[i];
        a->proc[kept++] = a->proc[i];
    }
    a->n = kept;
    fl_free(s.v);
}

/*
 * The ordering heuristic (sc_search.h): on each key, the longest order the
 * linearizability search builds; each op there is ranked by the earliest
 * moment it can have taken effect in that order (its invocation, or its
 * predecessor's moment if later), which never passes its completion, so
 * ranking every key's ops this way and taking the smallest next op first
 * replays a linearization of the whole where one exists. Ops the order
 * left out keep their invocation's rank, and optional ones go last. Only
 * the order of trying changes: the verdict does not depend on it.
 */
#define GUIDE_MS 50

static void guide_key(sc_all *a, const size_t *idx, size_t k, wgl_op *w)
{
    const history_event *ev = history_events(a->h);
    for (size_t j = 0; j < k; j++) {
        const sc_op *o = &a->ops[idx[j]];
        w[j] = (wgl_op){o->op, (int64_t)a->pos[idx[j]],
                        o->required ? (int64_t)ev[a->pos[idx[j]]].pair : WGL_NEVER};
        if (!o->required)
            a->ops[idx[j]].rank = INT64_MAX / 2 + (int64_t)a->pos[idx[j]];
    }
    wgl_result r = {.stuck = SIZE_MAX};
    fl_error err = {0};
    /* a guess needs no proof: a key that is hard to refute gets its
     * longest order so far after GUIDE_MS */
    wgl_limits lim = a->limits;
    int64_t soon = fl_clock_mono_ns() + GUIDE_MS * 1000000;
    if (lim.deadline_ns == 0 || lim.deadline_ns > soon)
        lim.deadline_ns = soon;
    if (wgl_search(a->m, a->ctx, w, k, a->initial, &lim, &r, &err) == FL_OK) {
        int64_t t = -1;
        for (size_t j = 0; j < r.depth && r.order != NULL; j++) {
            size_t i = idx[r.order[j]];
            t = w[r.order[j]].call > t ? w[r.order[j]].call : t;
            a->ops[i].rank = (t << RANK_SHIFT) +
                             (int64_t)(j < (1u << RANK_SHIFT) ? j : (1u << RANK_SHIFT) - 1);
        }
    }
    wgl_result_free(&r);
}

static void guide(sc_all *a)
{
    size_t *start = fl_calloc(a->nobjs + 2, sizeof *start);
    size_t *idx = fl_malloc((a->n + 1) * sizeof *idx);
    wgl_op *w = fl_malloc((a->n + 1) * sizeof *w);
    if (start != NULL && idx != NULL && w != NULL) {
        for (size_t i = 0; i < a->n; i++)
            start[a->ops[i].obj + 2]++;
        for (size_t o = 2; o < a->nobjs + 2; o++)
            start[o] += start[o - 1];
        for (size_t i = 0; i < a->n; i++) /* by key, in history order */
            idx[start[a->ops[i].obj + 1]++] = i;
        for (size_t o = 0; o < a->nobjs; o++)
            guide_key(a, idx + start[o], start[o + 1] - start[o], w);
    }
    fl_free(start);
    fl_free(idx);
    fl_free(w);
}

/* ---- One search: the ops of a set of objects --------------------------------------- */

typedef struct sc_sub {
    sc_op *ops;
    size_t *idx;          /* sub op -> op of the whole */
    size_t *first, *len;
    int64_t *proc_id;
    size_t n, nprocs;
    uint32_t *local;      /* object -> its number here, UINT32_MAX: absent */
    uint32_t *objs;       /* number here -> object */
    uint64_t *initial;
    size_t nobjs;
} sc_sub;

static void sub_free(sc_sub *s)
{
    fl_free(s->ops);
    fl_free(s->idx);
    fl_free(s->first);
    fl_free(s->len);
    fl_free(s->proc_id);
    fl_free(s->local);
    fl_free(s->objs);
    fl_free(s->initial);
}

/* The ops of the objects in `in` grouped into chains by process, each in
 * program order (history order). */
static int sub_build(const sc_all *a, const bool *in, sc_sub *s)
{
    memset(s, 0, sizeof *s);
    s->idx = fl_malloc((a->n + 1) * sizeof *s->idx);
    s->ops = fl_malloc((a->n + 1) * sizeof *s->ops);
    s->first = fl_malloc((a->n + 1) * sizeof *s->first);
    s->len = fl_malloc((a->n + 1) * sizeof *s->len);
    s->proc_id = fl_malloc((a->n + 1) * sizeof *s->proc_id);
    s->local = fl_malloc((a->nobjs + 1) * sizeof *s->local);
    s->objs = fl_malloc((a->nobjs + 1) * sizeof *s->objs);
    s->initial = fl_malloc((a->nobjs + 1) * sizeof *s->initial);
    if (!s->idx || !s->ops || !s->first || !s->len || !s->proc_id ||
        !s->local || !s->objs || !s->initial)
        return -1;
    for (size_t o = 0; o < a->nobjs; o++) {
        s->local[o] = in[o] ? (uint32_t)s->nobjs : UINT32_MAX;
        if (in[o]) {
            s->initial[s->nobjs] = a->initial;
            s->objs[s->nobjs++] = (uint32_t)o;
        }
    }
    for (size_t i = 0; i < a->n; i++)
        if (in[a->ops[i].obj])
            s->idx[s->n++] = i;
    qsort_r(s->idx, s->n, sizeof *s->idx, cmp_proc_pos, (void *)a);
    for (size_t i = 0; i < s->n; i++) {
        s->ops[i] = a->ops[s->idx[i]];
        s->ops[i].obj = s->local[s->ops[i].obj];
        if (i == 0 || a->proc[s->idx[i]] != a->proc[s->idx[i - 1]]) {
            s->first[s->nprocs] = i;
            s->len[s->nprocs] = 0;
            s->proc_id[s->nprocs++] = a->proc[s->idx[i]];
        }
        s->len[s->nprocs - 1]++;
    }
    return 0;
}

/* ---- Evidence as JSON ------------------------------------------------------------ */

static json_t *key_names(const sc_all *a, const bool *in)
{
    json_t *names = json_array();
    for (size_t o = 0; o < a->nobjs; o++) {
        char *name = in[o] ? checker_key_name(a->h, a->obj_key[o]) : NULL;
        if (name != NULL)
            json_array_append_new(names, json_string(name));
        fl_free(name);
    }
    return names;
}

static json_t *prefix_json(const sc_all *a, const sc_sub *s, const sc_result *w)
{
    json_t *prefix = json_array();
    size_t from = w->depth > MAX_PREFIX_SHOWN ? w->depth - MAX_PREFIX_SHOWN : 0;
    for (size_t i = from; i < w->depth; i++) {
        json_t *o = checker_op_json(a->h, a->pos[s->idx[w->order[i].op]]);
        json_object_set_new(o, "state", a->m->state_json(a->ctx, w->order[i].state));
        json_array_append_new(prefix, o);
    }
    return prefix;
}

/* Whether process q still had a required op at the deepest configuration. */
static bool chain_open(const sc_sub *s, const sc_result *w, size_t q)
{
    for (size_t i = w->stuck_pos[q]; i < s->len[q]; i++)
        if (s->ops[s->first[q] + i].required)
            return true;
    return false;
}

/* The chains still open where the search got deepest, and which of their
 * next ops (the earliest invoked) is the one shown as unplaceable. */
static json_t *chains_json(const sc_all *a, const sc_sub *s, const sc_result *w,
                           json_t *ce)
{
    json_t *chains = json_array();
    size_t stuck = SIZE_MAX;
    for (size_t q = 0; q < s->nprocs; q++) {
        if (!chain_open(s, w, q))
            continue;
        size_t at = s->first[q] + w->stuck_pos[q];
        if (stuck == SIZE_MAX || a->pos[s->idx[at]] < a->pos[s->idx[stuck]])
            stuck = at;
        if (json_array_size(chains) >= MAX_CHAINS_SHOWN)
            continue;
        json_t *ops = json_array();
        for (size_t i = 0; i < MAX_CHAIN_OPS && w->stuck_pos[q] + i < s->len[q]; i++)
            json_array_append_new(ops, checker_op_json(a->h, a->pos[s->idx[at + i]]));
        const history_event *first = &history_events(a->h)[a->pos[s->idx[at]]];
        json_array_append_new(chains, json_pack("{sIsIso}", "process",
                                                (json_int_t)first->process,
                                                "placed",
                                                (json_int_t)w->stuck_pos[q],
                                                "next", ops));
    }
    if (stuck != SIZE_MAX)
        json_object_set_new(ce, "op", checker_op_json(a->h, a->pos[s->idx[stuck]]));
    return chains;
}

static json_t *states_json(const sc_all *a, const sc_sub *s, const sc_result *w)
{
    json_t *states = json_object();
    for (size_t o = 0; o < s->nobjs && o < MAX_CHAINS_SHOWN; o++) {
        char *name = checker_key_name(a->h, a->obj_key[s->objs[o]]);
        if (name != NULL)
            json_object_set_new(states, name,
                                a->m->state_json(a->ctx, w->stuck_states[o]));
        fl_free(name);
    }
    return states;
}

static json_t *counterexample_json(const sc_all *a, const bool *in,
                                   const sc_sub *s, const sc_result *w)
{
    json_t *ce = json_object();
    json_object_set_new(ce, "keys", key_names(a, in));
    json_object_set_new(ce, "prefix_length", json_integer((json_int_t)w->depth));
    json_object_set_new(ce, "prefix", prefix_json(a, s, w));
    json_object_set_new(ce, "chains", chains_json(a, s, w, ce));
    json_object_set_new(ce, "states", states_json(a, s, w));
    return ce;
}

/* ---- The graph's evidence --------------------------------------------------------- */

/* "read 5", "wrote 7", "cas 5->7": what an op did, from its JSON. */
static void op_words(FILE *out, const json_t *op)
{
    const char *f = json_string_value(json_object_get(op, "f"));
    const json_t *value = json_object_get(op, "value");
    const json_t *output = json_object_get(op, "output");
    bool read = f != NULL && (strcmp(f, "read") == 0 || strcmp(f, "get") == 0);
    char *v = json_dumps(read && output ? output : value, JSON_ENCODE_ANY | JSON_COMPACT);
    fprintf(out, "%s %s", read ? "read" : f && strcmp(f, "write") == 0 ? "wrote"
                                                                       : f ? f : "?",
            v ? v : "?");
    free(v);
}

/* The cycle in words: each process's run of ops on it, in program order
 * ("p3 read 5 then read 7 on 1; p8 read 7 then read 5 on 1"). */
static json_t *cycle_words(const json_t *cycle)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out == NULL)
        return NULL;
    size_t n = json_array_size(cycle);
    for (size_t i = 0; i < n; i++) {
        const json_t *op = json_array_get(cycle, i);
        const json_t *prev = i > 0 ? json_array_get(cycle, i - 1) : NULL;
        bool po_in = prev != NULL &&
                     strcmp(json_string_value(json_object_get(prev, "why")), "po") == 0;
        if (!po_in)
            fprintf(out, "%sp%lld ", i ? "; " : "",
                    (long long)json_integer_value(json_object_get(op, "process")));
        else
            fputs(" then ", out);
        op_words(out, op);
        const json_t *key = json_object_get(op, "key");
        bool po_out = strcmp(json_string_value(json_object_get(op, "why")), "po") == 0;
        if (key != NULL && !json_is_null(key) && (!po_out || i + 1 == n)) {
            char *k = json_is_string(key) ? NULL
                                          : json_dumps(key, JSON_ENCODE_ANY | JSON_COMPACT);
            fprintf(out, " on %s", k ? k : json_is_string(key) ? json_string_value(key) : "?");
            free(k);
        }
    }
    fputs(": no order of the writes satisfies all of these", out);
    fclose(out);
    json_t *words = json_string(buf);
    free(buf);
    return words;
}

static const char *const why_word[] = {"po", "reads-from", "before-overwrite"};

static json_t *graph_counterexample(const sc_all *a, const bool *in,
                                    const sc_sub *s, const sc_graph_result *g)
{
    json_t *ce = json_object();
    json_object_set_new(ce, "keys", key_names(a, in));
    json_object_set_new(ce, "decided_by", json_string("graph"));
    if (g->unwritten != UINT32_MAX) {
        json_t *op = checker_op_json(a->h, a->pos[s->idx[g->unwritten]]);
        json_object_set_new(ce, "op", op);
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        if (out != NULL) {
            fprintf(out, "p%lld ", (long long)json_integer_value(
                                       json_object_get(op, "process")));
            op_words(out, op);
            fprintf(out, ", %s", g->unwritten_words);
            fclose(out);
            json_object_set_new(ce, "explanation", json_string(buf));
            free(buf);
        }
        return ce;
    }
    /* start at a process's first op on the cycle, so runs read whole */
    size_t start = 0;
    while (start < g->ncycle &&
           g->why[(start + g->ncycle - 1) % g->ncycle] == SC_GRAPH_PO)
        start++;
    start = start == g->ncycle ? 0 : start;
    json_t *cycle = json_array();
    for (size_t k = 0; k < g->ncycle; k++) {
        size_t i = (start + k) % g->ncycle;
        json_t *op = checker_op_json(a->h, a->pos[s->idx[g->cycle[i]]]);
        json_object_set_new(op, "why", json_string(why_word[g->why[i]]));
        json_array_append_new(cycle, op);
    }
    json_object_set_new(ce, "explanation", cycle_words(cycle));
    json_object_set_new(ce, "cycle", cycle);
    return ce;
}

/* The linear-time core (checkers/sc_graph.h) on the problem: its verdict,
 * or unknown when it declines. */
static checker_verdict graph_objects(sc_all *a, const bool *in, const sc_sub *s,
                                     const sc_problem *p)
{
    sc_graph_result g;
    fl_error err = {0};
    sc_graph_decide(p, &a->limits, &g, &err);
    if (g.verdict == CHECKER_INVALID && a->counterexample == NULL) {
        a->counterexample = graph_counterexample(a, in, s, &g);
        memcpy(a->scope, in, a->nobjs * sizeof *in);
        /* where the shrinker starts: the ops that keep the cycle */
        bool lone = g.unwritten != UINT32_MAX && g.support == NULL;
        size_t n = lone ? 1 : g.nsupport;
        a->support = fl_malloc((n + 1) * sizeof *a->support);
        for (size_t i = 0; a->support != NULL && i < n; i++)
            a->support[a->nsupport++] =
                a->pos[s->idx[lone ? g.unwritten : g.support[i]]];
    }
    a->graph_decided += g.verdict != CHECKER_UNKNOWN;
    checker_verdict v = g.verdict;
    sc_graph_result_free(&g);
    return v;
}

/* Search the ops of the objects in `in`; record what it found in a. */
static checker_verdict search_objects(sc_all *a, const bool *in)
{
    sc_sub s;
    sc_result w = {0};
    checker_verdict v = CHECKER_UNKNOWN;
    if (sub_build(a, in, &s) != 0) {
        a->stop = WGL_STOP_MEMORY;
        goto done;
    }
    sc_problem p = {a->m, a->ctx, s.ops, s.n, s.first, s.len, s.nprocs,
                    s.initial, s.nobjs};
    if ((v = graph_objects(a, in, &s, &p)) != CHECKER_UNKNOWN)
        goto done;
    if (!a->guided) { /* only the search needs the ranks: guide once */
        a->guided = true;
        guide(a);
        sub_free(&s);
        if (sub_build(a, in, &s) != 0) {
            a->stop = WGL_STOP_MEMORY;
            goto done;
        }
        p = (sc_problem){a->m, a->ctx, s.ops, s.n, s.first, s.len, s.nprocs,
                         s.initial, s.nobjs};
    }
    fl_error err = {0};
    sc_search(&p, &a->limits, &w, &err);
    a->searches++;
    a->explored += w.explored;
    v = w.verdict;
    if (v == CHECKER_UNKNOWN)
        a->stop = w.stop;
    if (v == CHECKER_INVALID && a->counterexample == NULL) {
        a->counterexample = counterexample_json(a, in, &s, &w);
        memcpy(a->scope, in, a->nobjs * sizeof *in);
    }
done:
    sc_result_free(&w);
    sub_free(&s);
    return v;
}

/* ---- Shortcuts 2 and 3 ----------------------------------------------------------- */

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* The components of objects linked by processes (shortcut 3): comp[o]. */
static void components(const sc_all *a, uint32_t *comp)
{
    for (uint32_t o = 0; o < a->nobjs; o++)
        comp[o] = o;
    /* ops of one process are not adjacent in history order: link each op's
     * object to the first object its process touched */
    size_t *first_obj = NULL;
    int64_t maxp = -1;
    for (size_t i = 0; i < a->n; i++)
        maxp = a->proc[i] > maxp ? a->proc[i] : maxp;
    first_obj = fl_malloc(((size_t)maxp + 2) * sizeof *first_obj);
    if (first_obj == NULL) { /* one component: still sound */
        for (uint32_t o = 0; o < a->nobjs; o++)
            comp[o] = 0;
        return;
    }
    for (int64_t q = 0; q <= maxp; q++)
        first_obj[q] = SIZE_MAX;
    for (size_t i = 0; i < a->n; i++) {
        size_t *f = &first_obj[a->proc[i]];
        if (*f == SIZE_MAX)
            *f = a->ops[i].obj;
        uint32_t x = uf_find(comp, (uint32_t)*f), y = uf_find(comp, a->ops[i].obj);
        if (x != y)
            comp[x < y ? y : x] = x < y ? x : y;
    }
    for (uint32_t o = 0; o < a->nobjs; o++)
        comp[o] = uf_find(comp, o);
    fl_free(first_obj);
}

static bool out_of_budget(const sc_all *a)
{
    return a->limits.deadline_ns > 0 && fl_clock_mono_ns() > a->limits.deadline_ns;
}

/* Shortcut 2: each non-linearizable key's projection on its own. */
static checker_verdict check_projections(sc_all *a, bool *in)
{
    checker_verdict v = CHECKER_VALID;
    for (size_t o = 0; o < a->nobjs && v != CHECKER_INVALID; o++) {
        a->proj_key[o] = CHECKER_VALID; /* linearizable, hence SC */
        if (a->lin_key[o] == CHECKER_VALID)
            continue;
        memset(in, 0, a->nobjs * sizeof *in);
        in[o] = true;
        a->proj_key[o] = search_objects(a, in);
        v = checker_verdict_combine(v, a->proj_key[o]);
    }
    return v;
}

/* Shortcut 3, then the global search on each component that needs it. */
static checker_verdict check_components(sc_all *a, bool *in, uint32_t *comp)
{
    components(a, comp);
    checker_verdict v = CHECKER_VALID;
    for (uint32_t c = 0; c < a->nobjs && v != CHECKER_INVALID; c++) {
        size_t size = 0;
        bool needed = false;
        checker_verdict alone = CHECKER_VALID;
        for (size_t o = 0; o < a->nobjs; o++) {
            in[o] = comp[o] == c;
            size += in[o];
            needed |= in[o] && a->lin_key[o] != CHECKER_VALID;
            if (in[o])
                alone = a->proj_key[o];
        }
        if (size == 1) /* the component is its projection */
            v = checker_verdict_combine(v, alone);
        else if (needed) /* else: all linearizable, hence SC */
            v = checker_verdict_combine(v, search_objects(a, in));
    }
    return v;
}

static checker_verdict decide(sc_all *a, fl_error *err)
{
    bool *in = fl_calloc(a->nobjs + 1, sizeof *in);
    uint32_t *comp = fl_malloc((a->nobjs + 1) * sizeof *comp);
    a->scope = fl_calloc(a->nobjs + 1, sizeof *a->scope);
    checker_verdict v = CHECKER_UNKNOWN;
    if (!in || !comp || !a->scope) {
        a->stop = WGL_STOP_MEMORY;
    } else {
        v = check_projections(a, in);
        /* an unknown projection is not an answer yet: the component's
         * search may still decide it */
        if (v != CHECKER_INVALID && !out_of_budget(a))
            v = check_components(a, in, comp);
        else if (v != CHECKER_INVALID)
            v = CHECKER_UNKNOWN;
    }
    (void)err;
    fl_free(in);
    fl_free(comp);
    return v;
}

/* ---- The anomaly's kind ------------------------------------------------------------ */

/* For the register models: each write (a write, or an ok cas's new value)
 * of a key, when its last copy completed (INT64_MAX: one never did) and
 * when its first began. */
typedef struct wrote {
    uint32_t obj;
    uint32_t value;          /* lin_ctx value id */
    int64_t last_done, first_call;
} wrote;

static int cmp_wrote(const void *x, const void *y)
{
    const wrote *a = x, *b = y;
    if (a->obj != b->obj)
        return a->obj < b->obj ? -1 : 1;
    return (a->value > b->value) - (a->value < b->value);
}

/* The value an event's op writes (HISTORY_NONE: none): a write's value,
 * a cas's new one. */
static uint32_t written_value(const sc_all *a, const history_event *e)
{
    const char *f = history_name(a->h, e->f);
    const json_t *v = history_value(a->h, e->value);
    if (strcmp(f, "write") == 0)
        return lin_ctx_value(a->ctx, v);
    if (strcmp(f, "cas") == 0 && json_array_size(v) == 2)
        return lin_ctx_value(a->ctx, json_array_get(v, 1));
    return HISTORY_NONE;
}

static uint32_t obj_of_event(const sc_all *a, const history_event *e)
{
    uint32_t key = a->opt->no_split ? HISTORY_NONE : e->key;
    return a->slot_of[key == HISTORY_NONE ? history_value_count(a->h) : key];
}

/* The judged client invocations on keys that are not linearizable. */
static bool judged(const sc_all *a, const history_event *ev, size_t i)
{
    const history_event *e = &ev[i];
    if (e->process == HISTORY_NEMESIS || e->type != HISTORY_INVOKE)
        return false;
    uint32_t o = obj_of_event(a, e);
    return o != UINT32_MAX && a->lin_key[o] == CHECKER_INVALID;
}

static size_t collect_writes(const sc_all *a, wrote *w)
{
    const history_event *ev = history_events(a->h);
    size_t n = 0;
    for (size_t i = 0; i < history_len(a->h); i++) {
        if (!judged(a, ev, i))
            continue;
        const history_event *done = ev[i].pair != HISTORY_NONE ? &ev[ev[i].pair] : NULL;
        uint32_t v = written_value(a, &ev[i]);
        if (v == HISTORY_NONE || v == UINT32_MAX || (done && done->type == HISTORY_FAIL))
            continue;
        bool ok = done && done->type == HISTORY_OK;
        w[n++] = (wrote){obj_of_event(a, &ev[i]), v,
                         ok ? (int64_t)ev[i].pair : INT64_MAX, (int64_t)i};
    }
    qsort(w, n, sizeof *w, cmp_wrote);
    size_t m = 0; /* one record per (key, value) */
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && cmp_wrote(&w[m - 1], &w[i]) == 0) {
            if (w[i].last_done > w[m - 1].last_done)
                w[m - 1].last_done = w[i].last_done;
            if (w[i].first_call < w[m - 1].first_call)
                w[m - 1].first_call = w[i].first_call;
            continue;
        }
        w[m++] = w[i];
    }
    return m;
}

/* The newest ok writes completed so far on one key: the latest-invoked,
 * and the latest-invoked of any other value. */
typedef struct newest {
    int64_t call[2];
    uint32_t value[2];
} newest;

static void newest_add(newest *n, int64_t call, uint32_t value)
{
    if (call > n->call[0]) {
        if (value != n->value[0]) {
            n->call[1] = n->call[0];
            n->value[1] = n->value[0];
        }
        n->call[0] = call;
        n->value[0] = value;
    } else if (value != n->value[0] && call > n->call[1]) {
        n->call[1] = call;
        n->value[1] = value;
    }
}

typedef struct kind_scan {
    const sc_all *a;
    wrote *w;
    size_t nw;
    newest *nb;
    uint32_t initial;
    json_t *stale, *early; /* the first found of each (new references) */
    bool early_first;      /* in the order found, for the JSON */
} kind_scan;

/* A read of v that began after a write of another value completed, every
 * write of v having completed before that write began: a stale read. */
static json_t *stale_read_at(const kind_scan *k, size_t i, uint32_t v)
{
    const history_event *ev = history_events(k->a->h);
    uint32_t o = obj_of_event(k->a, &ev[i]);
    wrote key = {.obj = o, .value = v};
    const wrote *w = bsearch(&key, k->w, k->nw, sizeof *k->w, cmp_wrote);
    int64_t older = w ? w->last_done : v == k->initial ? -1 : INT64_MAX;
    const newest *nb = &k->nb[o];
    int slot = nb->value[0] != v ? 0 : 1;
    if (older == INT64_MAX || nb->call[slot] <= older)
        return NULL;
    return json_pack("{soso}", "read", checker_op_json(k->a->h, i), "newer_write",
                     checker_op_json(k->a->h, (size_t)nb->call[slot]));
}

/* A read of v that completed before any write of v began. */
static json_t *early_read_at(const kind_scan *k, size_t i, uint32_t v)
{
    const history_event *ev = history_events(k->a->h);
    wrote key = {.obj = obj_of_event(k->a, &ev[i]), .value = v};
    const wrote *w = bsearch(&key, k->w, k->nw, sizeof *k->w, cmp_wrote);
    if (v == k->initial || w == NULL || w->first_call < (int64_t)ev[i].pair)
        return NULL;
    return json_pack("{soso}", "read", checker_op_json(k->a->h, i), "write",
                     checker_op_json(k->a->h, (size_t)w->first_call));
}

static void scan_reads(kind_scan *k)
{
    const history_event *ev = history_events(k->a->h);
    for (size_t i = 0; i < history_len(k->a->h); i++) {
        const history_event *e = &ev[i];
        if (e->type == HISTORY_OK && judged(k->a, ev, e->pair)) {
            uint32_t v = written_value(k->a, &ev[e->pair]);
            if (v != HISTORY_NONE && v != UINT32_MAX)
                newest_add(&k->nb[obj_of_event(k->a, e)], (int64_t)e->pair, v);
        }
        if (!judged(k->a, ev, i) || e->pair == HISTORY_NONE ||
            ev[e->pair].type != HISTORY_OK ||
            strcmp(history_name(k->a->h, e->f), "read") != 0)
            continue;
        const json_t *out = history_value(k->a->h, ev[e->pair].value);
        if (k->a->opt->nil_reads_unknown && json_is_null(out))
            continue;
        uint32_t v = lin_ctx_value(k->a->ctx, out);
        if (k->stale == NULL)
            k->stale = stale_read_at(k, i, v);
        if (k->early == NULL && (k->early = early_read_at(k, i, v)) != NULL)
            k->early_first = k->stale == NULL;
    }
}

/* Name a real-time anomaly where the register models let us tell:
 * *kind "stale-read", "early-read" (a write seen before it began), or
 * "other"; the JSON detail with the reads found. */
static json_t *real_time_kind(const sc_all *a, const char **kind)
{
    json_t *detail = json_object();
    *kind = "other";
    bool registers = strcmp(a->m->name, "register") == 0 ||
                     strcmp(a->m->name, "cas-register") == 0;
    kind_scan k = {.a = a};
    k.w = registers ? fl_malloc((history_len(a->h) + 1) * sizeof *k.w) : NULL;
    k.nb = registers ? fl_calloc(a->nobjs + 1, sizeof *k.nb) : NULL;
    if (k.w != NULL && k.nb != NULL) {
        for (size_t o = 0; o < a->nobjs; o++)
            k.nb[o] = (newest){{-1, -1}, {UINT32_MAX, UINT32_MAX}};
        const json_t *init = a->opt->initial;
        json_t *null = json_null();
        k.initial = lin_ctx_value(a->ctx, init ? init : null);
        json_decref(null);
        k.nw = collect_writes(a, k.w);
        scan_reads(&k);
        *kind = k.stale ? "stale-read" : k.early ? "early-read" : "other";
    }
    if (k.early != NULL && k.early_first)
        json_object_set_new(detail, "early_read", k.early);
    if (k.stale != NULL)
        json_object_set_new(detail, "stale_read", k.stale);
    if (k.early != NULL && !k.early_first)
        json_object_set_new(detail, "early_read", k.early);
    json_object_set_new(detail, "anomaly_kind", json_string(*kind));
    fl_free(k.w);
    fl_free(k.nb);
    return detail;
}

static const char *anomaly_of(checker_verdict lin, checker_verdict sc)
{
    if (lin == CHECKER_VALID)
        return "none";
    if (sc == CHECKER_INVALID)
        return "non-sequential";
    if (lin == CHECKER_INVALID && sc == CHECKER_VALID)
        return "real-time";
    return "unknown";
}

/* ---- The check ----------------------------------------------------------------------- */

/* What sequential consistency needs of linearizability (checker.needs):
 * the same question, but under "sequential" the linearizable half is
 * evidence, not the verdict, and its counterexample is not worth a
 * shrink. */
static void lin_options_of(const checker_options *mine, checker_options *theirs)
{
    theirs->shrink = mine->shrink &&
                     mine->consistency != CHECKER_CONSISTENCY_SEQUENTIAL;
}

/* The linearizable checker's result, taken over: its verdict, JSON and
 * words. lin NULL: nothing known (every key's verdict unknown). */
static int take_lin(const checker_result *lin, sc_check_result *r,
                    fl_error *err)
{
    if (lin == NULL) {
        r->lin = CHECKER_UNKNOWN;
        r->lin_json = json_object();
    } else {
        r->lin = checker_result_verdict(lin);
        r->lin_json = json_incref(checker_result_json(lin));
        r->lin_ms = checker_result_elapsed_ms(lin);
        FILE *words = open_memstream(&r->lin_words, &r->lin_words_len);
        if (words != NULL) {
            checker_result_explain(lin, words);
            fclose(words);
        }
    }
    return r->lin_json ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
}

/* Each object's linearizability verdict, from the linearizable result's
 * per-key verdicts (lin NULL: unknown). */
static int lin_verdicts(sc_all *a, const checker_result *lin)
{
    a->lin_key = fl_malloc((a->nobjs + 1) * sizeof *a->lin_key);
    a->proj_key = fl_malloc((a->nobjs + 1) * sizeof *a->proj_key);
    if (a->lin_key == NULL || a->proj_key == NULL)
        return -1;
    for (size_t o = 0; o < a->nobjs; o++) {
        a->lin_key[o] = lin ? checker_result_key_verdict(lin, a->obj_key[o])
                            : CHECKER_UNKNOWN;
        a->proj_key[o] = CHECKER_UNKNOWN;
    }
    return 0;
}

static void sc_all_free(sc_all *a)
{
    fl_free(a->ops);
    fl_free(a->pos);
    fl_free(a->proc);
    fl_free(a->obj_key);
    fl_free(a->slot_of);
    fl_free(a->lin_key);
    fl_free(a->proj_key);
    fl_free(a->scope);
    fl_free(a->support);
    json_decref(a->counterexample);
    lin_ctx_free(a->ctx);
}

static const char *stop_word(wgl_stop s)
{
    return s == WGL_STOP_MEMORY ? "memory" : s == WGL_STOP_CANCELLED ? "cancel"
                                                                      : "time";
}

static json_t *sequential_json(const sc_all *a, double ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "valid", checker_verdict_json(a->verdict));
    json_object_set_new(o, "ops", json_integer((json_int_t)a->n));
    json_object_set_new(o, "keys", json_integer((json_int_t)a->nobjs));
    json_object_set_new(o, "searches", json_integer((json_int_t)a->searches));
    json_object_set_new(o, "explored", json_integer((json_int_t)a->explored));
    json_object_set_new(o, "graph_decided", json_integer((json_int_t)a->graph_decided));
    if (a->verdict == CHECKER_UNKNOWN) {
        char why[256];
        snprintf(why, sizeof why, "%s limit reached after exploring %llu "
                 "configurations", stop_word(a->stop),
                 (unsigned long long)a->explored);
        json_object_set_new(o, "reason", json_string(why));
    }
    json_object_set_new(o, "counterexample", a->counterexample
                                                 ? json_incref(a->counterexample)
                                                 : json_null());
    json_object_set_new(o, "elapsed_ms", json_real(ms));
    return o;
}

/* Shortcut 1 failed: the search proper. */
static int run_sc(const history *h, const checker_options *opt, int64_t start,
                  sc_all *a, fl_error *err)
{
    a->h = h;
    a->opt = opt;
    a->m = opt->model;
    a->ctx = lin_ctx_new();
    if (opt->time_limit_s > 0)
        a->limits.deadline_ns = start + (int64_t)(opt->time_limit_s * 1e9);
    else if (opt->consistency != CHECKER_CONSISTENCY_SEQUENTIAL)
        /* the verdict asked for is linearizability's, which a check
         * without a limit always gave: SC must not make it wait forever */
        a->limits.deadline_ns = fl_clock_mono_ns() + (int64_t)(SC_BOTH_DEFAULT_S * 1e9);
    int rc = a->ctx ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK)
        rc = a->m->init(a->ctx, opt->initial, &a->initial, err);
    if (rc == FL_OK)
        rc = gather(a, err);
    return rc;
}

static void classify(sc_check_result *r, const sc_all *a)
{
    r->anomaly = anomaly_of(r->lin, r->sc);
    if (strcmp(r->anomaly, "real-time") == 0 && a != NULL)
        r->anomaly_detail = real_time_kind(a, &r->anomaly_kind);
}

static int still_not_sc(void *arg, const history *sub, double time_left_s,
                        fl_error *err);

/* Attach a delta-debugged version of the counterexample's keys. */
static void shrink_counterexample(const history *h, const checker_options *opt,
                                  sc_all *a)
{
    bool *keep = fl_calloc(history_len(h) + 1, sizeof *keep);
    history *whole = NULL, *small = NULL;
    bool minimal = false;
    fl_error err = {0};
    if (keep == NULL)
        return;
    if (a->support != NULL) /* a witness already: shrink from it */
        for (size_t i = 0; i < a->nsupport; i++)
            keep[a->support[i]] = true;
    else
        for (size_t i = 0; i < a->n; i++)
            keep[a->pos[i]] = a->scope[a->ops[i].obj];
    checker_options budget = *opt;
    if (budget.time_limit_s <= 0) /* a courtesy: 10 s unless told */
        budget.time_limit_s = 10;
    shrink_options so = {
        .judge = still_not_sc, .judge_arg = &budget,
        .time_limit_s = budget.time_limit_s, .model = a->m,
        .initial = opt->initial, .nil_reads_unknown = opt->nil_reads_unknown,
    };
    if (history_subset(h, keep, &whole, &err) == FL_OK &&
        shrink_history(whole, &so, &small, &minimal, &err) == FL_OK) {
        json_t *events = json_array();
        const history_event *ev = history_events(small);
        for (size_t i = 0; i < history_len(small); i++)
            json_array_append_new(events, history_event_to_json(small, &ev[i]));
        json_object_set_new(a->counterexample, "shrunk",
                            json_pack("{sbso}", "minimal", minimal, "events",
                                      events));
    }
    history_free(small);
    history_free(whole);
    fl_free(keep);
}

static int check_sc(const history *h, const checker_options *opt,
                    int64_t start, const checker_result *lin,
                    sc_check_result *r, fl_error *err)
{
    sc_all a = {0};
    int64_t sc_start = fl_clock_mono_ns();
    int rc = run_sc(h, opt, start, &a, err);
    if (rc == FL_OK && lin_verdicts(&a, lin) != 0)
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK) {
        drop_unobserved_writes(&a);
        a.verdict = decide(&a, err);
    } else if (rc == FL_ENOMEM) { /* the limit, before the search began */
        rc = FL_OK;
        *err = (fl_error){0};
        a.verdict = CHECKER_UNKNOWN;
        a.stop = WGL_STOP_MEMORY;
    }
    if (rc == FL_OK) {
        r->sc = a.verdict;
        if (opt->shrink && a.counterexample != NULL)
            shrink_counterexample(h, opt, &a);
        r->sc_json = sequential_json(
            &a, (double)(fl_clock_mono_ns() - sc_start) / 1e6);
        classify(r, a.lin_key ? &a : NULL);
    }
    sc_all_free(&a);
    return rc;
}

int sc_search_history(const history *h, const checker_options *opt,
                      checker_verdict *out, uint64_t *explored,
                      fl_error *err)
{
    sc_all a = {0};
    fl_alloc_scope scope = fl_alloc_scope_begin(opt->memory_limit_mb << 20);
    int rc = opt->model == NULL
                 ? fl_error_set(err, FL_EUSAGE, "no model given")
                 : run_sc(h, opt, fl_clock_mono_ns(), &a, err);
    if (rc == FL_OK && lin_verdicts(&a, NULL) != 0)
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK) {
        drop_unobserved_writes(&a);
        *out = decide(&a, err);
        if (explored != NULL)
            *explored = a.explored;
    }
    fl_alloc_scope_end(scope);
    sc_all_free(&a);
    return rc;
}

int sc_check_given(const history *h, const checker_options *opt,
                   const checker_result *lin, sc_check_result **out,
                   fl_error *err)
{
    *out = NULL;
    int64_t start = fl_clock_mono_ns();
    sc_check_result *r = fl_calloc(1, sizeof *r);
    if (r == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    r->mode = opt->consistency;
    r->model = opt->model ? opt->model->name : "";
    int rc = take_lin(lin, r, err);
    /* the budget is the whole check's, the linearizable part's included */
    start -= (int64_t)(r->lin_ms * 1e6);
    fl_alloc_scope scope = fl_alloc_scope_begin(opt->memory_limit_mb << 20);
    if (rc == FL_OK && r->lin == CHECKER_VALID) { /* shortcut 1 */
        r->sc = CHECKER_VALID;
        r->sc_json = json_pack("{sbss}", "valid", 1, "decided_by", "linearizable");
        classify(r, NULL);
    } else if (rc == FL_OK) {
        rc = opt->model == NULL ? fl_error_set(err, FL_EUSAGE, "no model given")
                                : check_sc(h, opt, start, lin, r, err);
    }
    fl_alloc_scope_end(scope);
    r->elapsed_ms = (double)(fl_clock_mono_ns() - start) / 1e6;
    if (rc == FL_OK && r->sc_json == NULL)
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc != FL_OK) {
        sc_check_free(r);
        return rc;
    }
    *out = r;
    return FL_OK;
}

int sc_check(const history *h, const checker_options *opt,
             sc_check_result **out, fl_error *err)
{
    checker_options theirs;
    checker_result *lin = NULL;
    *out = NULL;
    checker_needs_options(&checker_sequential, opt, &theirs);
    int rc = checker_check(checker_sequential.needs, h, &theirs, &lin, err);
    if (rc == FL_OK)
        rc = sc_check_given(h, opt, lin, out, err);
    checker_result_free(lin);
    return rc;
}

/* The shrinker's judge: SC's verdict on one thread, within what is left
 * of the budget — without the linearizability check first (its shortcut
 * saves nothing on a candidate the graph decides, and on many concurrent
 * appends its search is factorial: c50-bad's shrink took 10 s and 2.5 GB
 * in it). */
static int still_not_sc(void *arg, const history *sub, double time_left_s,
                        fl_error *err)
{
    checker_options trial = *(const checker_options *)arg;
    trial.shrink = false;
    trial.threads = 1;
    trial.time_limit_s = time_left_s;
    trial.consistency = CHECKER_CONSISTENCY_SEQUENTIAL;
    checker_verdict v;
    if (sc_search_history(sub, &trial, &v, NULL, err) != FL_OK)
        return -1;
    return v == CHECKER_INVALID;
}

checker_verdict sc_check_sequential(const sc_check_result *r)
{
    return r->sc;
}

checker_verdict sc_check_verdict(const sc_check_result *r)
{
    if (r->mode == CHECKER_CONSISTENCY_SEQUENTIAL)
        return r->sc;
    /* not SC implies not linearizable, even where that search gave up */
    return r->sc == CHECKER_INVALID ? CHECKER_INVALID : r->lin;
}

void sc_check_free(sc_check_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->lin_json);
    json_decref(r->sc_json);
    json_decref(r->anomaly_detail);
    free(r->lin_words);
    fl_free(r);
}

/* ---- The result as JSON and words ---------------------------------------------------- */

json_t *sc_check_json(const sc_check_result *r)
{
    bool seq = r->mode == CHECKER_CONSISTENCY_SEQUENTIAL;
    json_t *o = json_object();
    if (!seq) /* the linearizable result's fields, for its readers */
        json_object_update(o, r->lin_json);
    json_object_set_new(o, "valid", checker_verdict_json(sc_check_verdict(r)));
    json_object_set_new(o, "consistency", json_string(seq ? "sequential" : "both"));
    json_object_set_new(o, "model", json_string(r->model));
    json_object_set(o, "linearizable", r->lin_json);
    json_object_set(o, "sequential", r->sc_json);
    json_object_set_new(o, "anomaly", json_string(r->anomaly));
    if (r->anomaly_detail != NULL)
        json_object_update(o, r->anomaly_detail);
    json_object_set_new(o, "elapsed_ms", json_real(r->elapsed_ms));
    return o;
}

static const char *bool_word(checker_verdict v)
{
    return v == CHECKER_VALID ? "true" : v == CHECKER_INVALID ? "false"
                                                              : "unknown";
}

/* The anomaly in a few words, for the summary line. */
static const char *anomaly_words(const sc_check_result *r)
{
    const char *kind = r->anomaly_kind;
    if (strcmp(r->anomaly, "real-time") == 0)
        return kind && strcmp(kind, "stale-read") == 0   ? "stale reads"
               : kind && strcmp(kind, "early-read") == 0 ? "a write seen before it began"
                                                         : "a real-time violation";
    if (strcmp(r->anomaly, "non-sequential") == 0)
        return "no order respects every process's program order";
    if (strcmp(r->anomaly, "unknown") == 0)
        return "anomaly unknown (a budget ran out)";
    return NULL;
}

int sc_check_summary(const sc_check_result *r, FILE *out)
{
    const char *why = anomaly_words(r);
    fprintf(out, "linearizable: %s; sequential: %s%s%s\n", bool_word(r->lin),
            bool_word(r->sc), why ? " \xe2\x80\x94 " : "", why ? why : "");
    return ferror(out) ? FL_EIO : FL_OK;
}

/* ---- In the checker registry ------------------------------------------------------- */

static int registry_check(const history *h, const checker_options *opt,
                          const checker_result *needed, checker_report *out,
                          fl_error *err)
{
    sc_check_result *r;
    int rc = sc_check_given(h, opt, needed, &r, err);
    if (rc != FL_OK)
        return rc;
    out->verdict = sc_check_verdict(r);
    out->json = sc_check_json(r);
    sc_check_summary(r, out->summary);
    rc = sc_check_explain(r, out->explain);
    sc_check_free(r);
    return rc;
}

const checker checker_sequential = {
    .name = "sequential",
    .about = "sequential consistency and linearizability, and which broke",
    .check = registry_check,
    .explain_json = sc_explain,
    .needs = &checker_linearizable,
    .needs_options = lin_options_of,
    .html_verdict = sc_html_verdict,
    .html_panel = sc_html_panel,
};

int sc_check_explain(const sc_check_result *r, FILE *out)
{
    if (r->lin != CHECKER_VALID && r->lin_words_len > 0)
        fwrite(r->lin_words, 1, r->lin_words_len, out);
    json_t *res = sc_check_json(r);
    int rc = res ? sc_explain(res, out) : FL_ENOMEM;
    json_decref(res);
    return rc;
}
