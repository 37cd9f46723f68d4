/*
 * linearizable.c — the checker's driver: turn a history into per-key
 * operation lists (Jepsen semantics), drop what cannot matter, run the
 * search for each key on a pool of threads, and assemble the verdict and the
 * evidence.
 */
#include "checkers/linearizable.h"
#include "base/alloc.h"
#include "checkers/lin_model.h"
#include "checkers/shrink.h"
#include "checkers/unique_register.h"
#include "checkers/wgl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"

#define ALL_KEYS HISTORY_NONE

/* One independent object: its operations and what the search found. */
typedef struct key_check {
    uint32_t key;        /* history value id, or ALL_KEYS */
    size_t *invokes;     /* positions of its invocations in the history;
                            once checkers/unique_register finds it invalid,
                            those of its witness */
    size_t ninvokes, cap;
    /* results */
    size_t ops;          /* operations searched, after the pre-passes */
    size_t dropped;      /* info/unfinished ops that could not matter */
    checker_verdict verdict;
    wgl_stop stop;
    uint64_t explored;
    size_t depth, ok_ops;
    bool fast;           /* decided by checkers/unique_register */
    const char *why;     /* its reason when invalid (static) */
    double ms;
    json_t *counterexample;
    fl_error err;
} key_check;

struct lin_result {
    checker_verdict verdict;
    const lin_model *model;
    size_t ops;
    key_check *keys;
    size_t nkeys;
    double elapsed_ms;
};

void lin_options_init(lin_options *opt)
{
    checker_options_init(opt);
}

const char *const *lin_model_names(void)
{
    return lin_model_list();
}

checker_verdict lin_result_verdict(const lin_result *r)
{
    return r->verdict;
}

/* ---- Splitting by key --------------------------------------------------------- */

static int add_invoke(key_check *k, size_t pos)
{
    if (k->ninvokes == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 16;
        size_t *grown = fl_realloc(k->invokes, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        k->invokes = grown;
        k->cap = cap;
    }
    k->invokes[k->ninvokes++] = pos;
    return 0;
}

/* Group the client invocations by key (or all together), in history
 * order. Failed operations certainly did not happen: they are left out. */
static int split(const history *h, bool no_split, lin_result *r)
{
    const history_event *ev = history_events(h);
    size_t nvalues = history_value_count(h), n = history_len(h);
    uint32_t *group_of = fl_malloc((nvalues + 1) * sizeof *group_of);
    r->keys = fl_calloc(nvalues + 1, sizeof *r->keys);
    if (group_of == NULL || r->keys == NULL) {
        fl_free(group_of);
        return -1;
    }
    for (size_t i = 0; i <= nvalues; i++)
        group_of[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        const history_event *e = &ev[i];
        if (e->process == HISTORY_NEMESIS || e->type != HISTORY_INVOKE)
            continue;
        r->ops++;
        if (e->pair != HISTORY_NONE && ev[e->pair].type == HISTORY_FAIL)
            continue;
        uint32_t key = no_split ? ALL_KEYS : e->key;
        size_t slot = key == ALL_KEYS ? nvalues : key;
        if (group_of[slot] == UINT32_MAX) {
            group_of[slot] = (uint32_t)r->nkeys;
            r->keys[r->nkeys++].key = key;
        }
        if (add_invoke(&r->keys[group_of[slot]], i) != 0) {
            fl_free(group_of);
            return -1;
        }
    }
    fl_free(group_of);
    return 0;
}

/* ---- Evidence as JSON ------------------------------------------------------------ */

#define MAX_PREFIX_SHOWN 32
#define MAX_CONCURRENT_SHOWN 64


static json_t *counterexample_json(const history *h, const lin_model *m,
                                   lin_ctx *ctx, const wgl_op *ops,
                                   const size_t *pos, size_t n,
                                   const wgl_result *w, const json_t *key)
{
    json_t *ce = json_object();
    json_object_set(ce, "key", key ? (json_t *)key : json_null());
    json_object_set_new(ce, "op", checker_op_json(h, pos[w->stuck]));
    json_object_set_new(ce, "prefix_length", json_integer((json_int_t)w->depth));
    json_t *prefix = json_array();
    size_t from = w->depth > MAX_PREFIX_SHOWN ? w->depth - MAX_PREFIX_SHOWN : 0;
    for (size_t i = from; i < w->depth; i++) {
        json_t *o = checker_op_json(h, pos[w->order[i]]);
        json_object_set_new(o, "state", m->state_json(ctx, w->states[i]));
        json_array_append_new(prefix, o);
    }
    json_object_set_new(ce, "prefix", prefix);
    bool *placed = fl_calloc(n + 1, sizeof *placed);
    json_t *concurrent = json_array();
    for (size_t i = 0; placed != NULL && i < w->depth; i++)
        placed[w->order[i]] = true;
    for (size_t i = 0; placed != NULL && i < n; i++) {
        if (placed[i] || i == w->stuck || ops[i].call > ops[w->stuck].ret)
            continue;
        if (json_array_size(concurrent) < MAX_CONCURRENT_SHOWN)
            json_array_append_new(concurrent, checker_op_json(h, pos[i]));
    }
    fl_free(placed);
    json_object_set_new(ce, "concurrent", concurrent);
    json_t *states = json_array();
    for (size_t i = 0; i < w->nstuck_states; i++)
        json_array_append_new(states, m->state_json(ctx, w->stuck_states[i]));
    json_object_set_new(ce, "states", states);
    return ce;
}

/* ---- One key ------------------------------------------------------------------------ */

typedef struct job {
    const history *h;
    const lin_options *opt;
    const lin_model *model;
    lin_result *r;
    size_t *order;    /* keys by decreasing size: the work queue */
    _Atomic size_t next;
    _Atomic bool invalid_found; /* the verdict is decided: stop the rest */
    wgl_limits limits;
} job;

typedef struct prepared {
    wgl_op *ops;
    size_t *pos;
    size_t n;
} prepared;

static int prepare_one(const job *j, lin_ctx *ctx, size_t p, wgl_op *out,
                       fl_error *err)
{
    const history_event *e = &history_events(j->h)[p];
    bool ok;
    memset(out, 0, sizeof *out);
    if (lin_model_prepare_event(j->model, ctx, j->h, p,
                                j->opt->nil_reads_unknown, &out->op, &ok,
                                err) != FL_OK)
        return fl_error_wrap(err, "the operation invoked at index %lld",
                             (long long)e->index);
    out->call = (int64_t)p;
    out->ret = ok ? (int64_t)e->pair : WGL_NEVER;
    return FL_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct seen {
    uint64_t *v;
    size_t n, cap;
    bool oom;
} seen;

static void see(void *arg, uint64_t value)
{
    seen *s = arg;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *grown = fl_realloc(s->v, cap * sizeof *grown);
        if (grown == NULL) {
            s->oom = true;
            return;
        }
        s->v = grown;
        s->cap = cap;
    }
    s->v[s->n++] = value;
}

/* The first index of w in the sorted v[0..n), or n. */
static size_t lower_bound(const uint64_t *v, size_t n, uint64_t w)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < w)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == w ? lo : n;
}

/*
 * An unknown-outcome write of a value that no operation ever observes (no
 * read returns it, no cas expects it) can be dropped: in any linearization
 * that includes it, the only operations that can follow it before the next
 * overwrite are ones that do not look at the state, so the linearization
 * without it is just as legal. Timed-out writes are common in Jepsen
 * histories and each one otherwise doubles the search space.
 *
 * And of the unknown-outcome writes of a value v that k operations observe,
 * only the k invoked first are kept. In a linearization, call a write of v
 * useful when an observer of v follows it before the next state change;
 * the others can be removed as above. Each observer makes at most one
 * write useful (the last before it), so at most k are. Say the useful
 * unknown-outcome ones are placed at times T_1 < ... < T_m (m <= k); the
 * j-th earliest invocation among them is at or before T_j (the j placed
 * by T_j were all invoked by then), and the j-th earliest invocation of
 * all unknown-outcome writes of v is at or before that. So the j-th of the
 * k kept can take the j-th place, and, never completing, has no deadline:
 * the same order with the kept writes is legal. Jepsen's register writes
 * one of five values: a million timed-out writes and one read is a
 * two-op search instead of a quadratic one.
 */
static size_t drop_unobserved_writes(const lin_model *m, prepared *p)
{
    if (m->written == NULL || m->observed == NULL)
        return 0;
    seen s = {0};
    for (size_t i = 0; i < p->n; i++)
        m->observed(&p->ops[i].op, see, &s);
    if (s.oom) {
        fl_free(s.v);
        return 0; /* the pass is an optimisation: skip it */
    }
    if (s.n > 0)
        qsort(s.v, s.n, sizeof *s.v, cmp_u64);
    /* per distinct observed value (at its first index): the unknown-outcome
     * writes of it kept so far */
    uint32_t *taken = fl_calloc(s.n + 1, sizeof *taken);
    size_t kept = 0;
    for (size_t i = 0; i < p->n; i++) {
        uint64_t w = p->ops[i].ret == WGL_NEVER ? m->written(&p->ops[i].op)
                                                 : LIN_NO_STATE;
        size_t at = w == LIN_NO_STATE ? s.n : lower_bound(s.v, s.n, w);
        if (w != LIN_NO_STATE && at == s.n)
            continue; /* never observed */
        if (at < s.n && taken != NULL) {
            size_t observers = 1;
            while (at + observers < s.n && s.v[at + observers] == w &&
                   observers <= taken[at])
                observers++;
            if (taken[at] >= observers)
                continue; /* k = observers kept already */
            taken[at]++;
        }
        p->ops[kept] = p->ops[i];
        p->pos[kept++] = p->pos[i];
    }
    fl_free(taken);
    fl_free(s.v);
    size_t dropped = p->n - kept;
    p->n = kept;
    return dropped;
}

/* How far ahead prepare_key fetches: a key's invocations lie far apart in
 * a long history with many keys, so each event and its completion is a
 * cache miss — most of preparing a key, unless fetched ahead. */
#define PREFETCH_AHEAD 8

/* Fetch ahead what prepare_one will read at invocation i: the invocation
 * 2 * PREFETCH_AHEAD on, the completion of the one PREFETCH_AHEAD on
 * (whose invocation was fetched PREFETCH_AHEAD invocations ago). */
static void prefetch_invoke(const job *j, const key_check *k, size_t i)
{
    const history_event *ev = history_events(j->h);
    if (i + 2 * PREFETCH_AHEAD < k->ninvokes)
        __builtin_prefetch(&ev[k->invokes[i + 2 * PREFETCH_AHEAD]]);
    if (i + PREFETCH_AHEAD < k->ninvokes) {
        uint32_t pair = ev[k->invokes[i + PREFETCH_AHEAD]].pair;
        if (pair != HISTORY_NONE)
            __builtin_prefetch(&ev[pair]);
    }
}

static int prepare_key(const job *j, key_check *k, lin_ctx *ctx, prepared *p)
{
    p->ops = fl_malloc((k->ninvokes + 1) * sizeof *p->ops);
    p->pos = fl_malloc((k->ninvokes + 1) * sizeof *p->pos);
    if (p->ops == NULL || p->pos == NULL)
        return fl_error_set(&k->err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->ninvokes; i++) {
        prefetch_invoke(j, k, i);
        int rc = prepare_one(j, ctx, k->invokes[i], &p->ops[p->n], &k->err);
        if (rc != FL_OK)
            return rc;
        /* an op that changes nothing and whose output is unknown says
         * nothing at all */
        if (!p->ops[p->n].op.known && j->model->read_only(&p->ops[p->n].op)) {
            k->dropped++;
            continue;
        }
        p->pos[p->n++] = k->invokes[i];
    }
    k->dropped += drop_unobserved_writes(j->model, p);
    return FL_OK;
}

/*
 * A register with unique values is decided in polynomial time; the search
 * then runs only on the witness of an invalid key, to explain it the way
 * it explains any other. *decided: the key is valid and needs no search.
 */
static int fast_path(const job *j, key_check *k, prepared *p, uint64_t initial,
                     bool *decided)
{
    ureg_result u;
    *decided = false;
    if (j->opt->no_fast_path)
        return FL_OK;
    int rc = ureg_decide(j->model, p->ops, p->n, initial, &u, &k->err);
    k->fast = rc == FL_OK && u.outcome != UREG_INELIGIBLE;
    k->why = u.outcome == UREG_INVALID ? u.why : NULL;
    *decided = u.outcome == UREG_VALID;
    for (size_t i = 0; i < u.nwitness; i++) {
        p->ops[i] = p->ops[u.witness[i]];
        p->pos[i] = p->pos[u.witness[i]];
        k->invokes[i] = p->pos[i];
    }
    if (u.outcome == UREG_INVALID) /* the shrinker starts from it too */
        p->n = k->ninvokes = u.nwitness;
    ureg_result_free(&u);
    return rc;
}

static void check_key(job *j, key_check *k)
{
    int64_t start = fl_clock_mono_ns();
    lin_ctx *ctx = lin_ctx_new();
    prepared p = {0};
    uint64_t initial;
    wgl_result w = {.stuck = SIZE_MAX};
    bool decided = false;
    if (ctx == NULL) {
        fl_error_set(&k->err, FL_ENOMEM, "out of memory");
        goto done;
    }
    if (j->model->init(ctx, j->opt->initial, &initial, &k->err) != FL_OK ||
        prepare_key(j, k, ctx, &p) != FL_OK)
        goto done;
    k->ops = p.n;
    if (fast_path(j, k, &p, initial, &decided) != FL_OK || decided ||
        wgl_search(j->model, ctx, p.ops, p.n, initial, &j->limits, &w,
                   &k->err) != FL_OK) {
        k->verdict = decided ? CHECKER_VALID : k->verdict;
        goto done;
    }
    k->verdict = w.verdict;
    k->stop = w.stop;
    k->explored = w.explored;
    k->depth = w.depth;
    k->ok_ops = w.ok_ops;
    if (k->fast) { /* decided invalid: the search ran only to explain it */
        k->verdict = CHECKER_INVALID;
        k->stop = WGL_STOP_NONE;
    }
    if (k->verdict == CHECKER_INVALID && !j->opt->all_keys)
        atomic_store(&j->invalid_found, true);
    if (w.verdict == CHECKER_INVALID && w.stuck != SIZE_MAX)
        k->counterexample = counterexample_json(
            j->h, j->model, ctx, p.ops, p.pos, p.n, &w,
            k->key == ALL_KEYS ? NULL : history_value(j->h, k->key));
    if (k->counterexample != NULL && k->why != NULL)
        json_object_set_new(k->counterexample, "why", json_string(k->why));
done:
    if (k->err.code == FL_ENOMEM) { /* the limit, before the search began */
        k->err = (fl_error){0};
        k->verdict = CHECKER_UNKNOWN;
        k->stop = WGL_STOP_MEMORY;
    }
    k->ms = (double)(fl_clock_mono_ns() - start) / 1e6;
    wgl_result_free(&w);
    fl_free(p.ops);
    fl_free(p.pos);
    lin_ctx_free(ctx);
}

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->r->nkeys)
            return NULL;
        check_key(j, &j->r->keys[j->order[i]]);
    }
}

/* Smallest keys first: a violation in a short key then ends the check
 * before a long, hard key has eaten the budget (Porcupine stops at the
 * first violation too). */
static int cmp_key_size(const void *a, const void *b, void *arg)
{
    const key_check *keys = arg;
    size_t x = keys[*(const size_t *)a].ninvokes;
    size_t y = keys[*(const size_t *)b].ninvokes;
    return (x > y) - (x < y);
}

static int run_pool(job *j, int threads)
{
    if (threads <= 0)
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if ((size_t)threads > j->r->nkeys)
        threads = j->r->nkeys > 0 ? (int)j->r->nkeys : 1;
    pthread_t *tids = fl_calloc((size_t)threads, sizeof *tids);
    j->order = fl_malloc((j->r->nkeys + 1) * sizeof *j->order);
    if (tids == NULL || j->order == NULL) {
        fl_free(tids);
        fl_free(j->order);
        return -1;
    }
    for (size_t i = 0; i < j->r->nkeys; i++)
        j->order[i] = i;
    qsort_r(j->order, j->r->nkeys, sizeof *j->order, cmp_key_size, j->r->keys);
    int started = 0;
    for (; started < threads - 1; started++)
        if (pthread_create(&tids[started], NULL, worker, j) != 0)
            break;
    worker(j); /* the calling thread works too */
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    fl_free(tids);
    fl_free(j->order);
    return 0;
}

/* ---- Shrinking ------------------------------------------------------------------------ */

/* The shrinker's judge: the same check, on one thread, never shrinking
 * recursively, within what is left of the shrink's budget. */
static int still_invalid(void *arg, const history *sub, double time_left_s,
                         fl_error *err)
{
    lin_options trial = *(const lin_options *)arg;
    trial.shrink = false;
    trial.threads = 1;
    trial.time_limit_s = time_left_s;
    lin_result *r;
    if (lin_check(sub, &trial, &r, err) != FL_OK)
        return -1;
    int invalid = r->verdict == CHECKER_INVALID;
    lin_result_free(r);
    return invalid;
}

int lin_shrink(const history *h, const lin_options *opt, history **out,
               bool *minimal, fl_error *err)
{
    shrink_options so = {
        .judge = still_invalid,
        .judge_arg = (void *)opt,
        .time_limit_s = opt->time_limit_s,
        .model = opt->model,
        .initial = opt->initial,
        .nil_reads_unknown = opt->nil_reads_unknown,
    };
    return shrink_history(h, &so, out, minimal, err);
}

/* Attach a delta-debugged version of the first invalid key's history to
 * its counterexample. A failure to shrink costs only the shrunk view. */
static void shrink_first_invalid(const history *h, const lin_options *opt,
                                 lin_result *r)
{
    key_check *k = NULL;
    for (size_t i = 0; i < r->nkeys && k == NULL; i++)
        if (r->keys[i].counterexample != NULL)
            k = &r->keys[i];
    if (k == NULL)
        return;
    bool *keep = fl_calloc(history_len(h) + 1, sizeof *keep);
    history *sub = NULL, *small = NULL;
    bool minimal = false;
    fl_error err;
    if (keep == NULL)
        return;
    for (size_t i = 0; i < k->ninvokes; i++)
        keep[k->invokes[i]] = true;
    /* shrinking is a courtesy: without a budget of its own it gets 10 s */
    lin_options budget = *opt;
    if (budget.time_limit_s <= 0)
        budget.time_limit_s = 10;
    if (history_subset(h, keep, &sub, &err) == FL_OK &&
        lin_shrink(sub, &budget, &small, &minimal, &err) == FL_OK) {
        json_t *events = json_array();
        const history_event *ev = history_events(small);
        for (size_t i = 0; i < history_len(small); i++)
            json_array_append_new(events, history_event_to_json(small, &ev[i]));
        json_t *shrunk = json_object();
        json_object_set_new(shrunk, "minimal", json_boolean(minimal));
        json_object_set_new(shrunk, "events", events);
        json_object_set_new(k->counterexample, "shrunk", shrunk);
    }
    history_free(small);
    history_free(sub);
    fl_free(keep);
}

/* ---- The check ------------------------------------------------------------------------ */

static int first_error(const lin_result *r, fl_error *err)
{
    for (size_t i = 0; i < r->nkeys; i++)
        if (r->keys[i].err.code != FL_OK) {
            *err = r->keys[i].err;
            return err->code;
        }
    return FL_OK;
}

/* The check's memory is what it allocates on top of what is in use when it
 * starts, within any limit already set; the limit is base/alloc's, hard,
 * and process-wide for the check's duration (one limited check at a time).
 * Returns the limit to restore. */
int lin_check(const history *h, const lin_options *opt, lin_result **out,
              fl_error *err)
{
    const lin_model *model = opt->model;
    if (model == NULL)
        return fl_error_set(err, FL_EUSAGE, "no model given (checker_options."
                            "model; the command line resolves --model)");
    int64_t start = fl_clock_mono_ns();
    lin_result *r = fl_calloc(1, sizeof *r);
    if (r == NULL || split(h, opt->no_split, r) != 0) {
        lin_result_free(r);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    r->model = model;
    job j = {.h = h, .opt = opt, .model = model, .r = r};
    j.limits.cancel = &j.invalid_found;
    if (opt->time_limit_s > 0)
        j.limits.deadline_ns = start + (int64_t)(opt->time_limit_s * 1e9);
    fl_alloc_scope scope = fl_alloc_scope_begin(opt->memory_limit_mb << 20);
    int rc = run_pool(&j, opt->threads) != 0
                 ? fl_error_set(err, FL_ENOMEM, "out of memory")
                 : first_error(r, err);
    fl_alloc_scope_end(scope);
    if (rc != FL_OK) {
        lin_result_free(r);
        return rc;
    }
    r->verdict = CHECKER_VALID;
    for (size_t i = 0; i < r->nkeys; i++)
        r->verdict = checker_verdict_combine(r->verdict, r->keys[i].verdict);
    r->elapsed_ms = (double)(fl_clock_mono_ns() - start) / 1e6;
    if (opt->shrink && r->verdict == CHECKER_INVALID)
        shrink_first_invalid(h, opt, r);
    *out = r;
    return FL_OK;
}

void lin_result_free(lin_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nkeys; i++) {
        fl_free(r->keys[i].invokes);
        json_decref(r->keys[i].counterexample);
    }
    fl_free(r->keys);
    fl_free(r);
}

/* ---- The result as JSON ------------------------------------------------------------------ */

static void key_reason(const key_check *k, char *why, size_t n)
{
    if (k->stop == WGL_STOP_CANCELLED)
        snprintf(why, n,
                 "not finished: another key was found not linearizable "
                 "first (use --all-keys to check every key)");
    else
        snprintf(why, n,
                 "%s limit reached after exploring %llu configurations; "
                 "the longest linearization found covers %zu operations "
                 "(%zu completed ok)",
                 k->stop == WGL_STOP_TIME ? "time" : "memory",
                 (unsigned long long)k->explored, k->depth, k->ok_ops);
}

/* An unknown verdict says why at the top, naming the first key that ran
 * out of a budget. */
static void set_reason(json_t *o, const lin_result *r, const history *h)
{
    for (size_t i = 0; i < r->nkeys; i++) {
        const key_check *k = &r->keys[i];
        if (k->verdict != CHECKER_UNKNOWN || k->stop == WGL_STOP_CANCELLED)
            continue;
        char why[256], text[512], *name = checker_key_name(h, k->key);
        key_reason(k, why, sizeof why);
        snprintf(text, sizeof text, "key %s: %s", name ? name : "?", why);
        json_object_set_new(o, "reason", json_string(text));
        fl_free(name);
        return;
    }
}

static json_t *key_json(const key_check *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "valid", checker_verdict_json(k->verdict));
    json_object_set_new(o, "ops", json_integer((json_int_t)k->ops));
    if (k->dropped > 0)
        json_object_set_new(o, "dropped", json_integer((json_int_t)k->dropped));
    json_object_set_new(o, "explored", json_integer((json_int_t)k->explored));
    if (k->fast)
        json_object_set_new(o, "decided_by", json_string("unique-values"));
    if (k->verdict == CHECKER_UNKNOWN) {
        char why[256];
        key_reason(k, why, sizeof why);
        json_object_set_new(o, "reason", json_string(why));
    }
    return o;
}

json_t *lin_result_to_json(const lin_result *r, const history *h)
{
    json_t *o = json_object(), *per_key = json_object();
    json_t *ce = json_null();
    json_object_set_new(o, "valid", checker_verdict_json(r->verdict));
    json_object_set_new(o, "model", json_string(r->model->name));
    json_object_set_new(o, "ops", json_integer((json_int_t)r->ops));
    json_object_set_new(o, "keys", json_integer((json_int_t)r->nkeys));
    for (size_t i = 0; i < r->nkeys; i++) {
        char *name = checker_key_name(h, r->keys[i].key);
        if (name != NULL)
            json_object_set_new(per_key, name, key_json(&r->keys[i]));
        fl_free(name);
        if (json_is_null(ce) && r->keys[i].counterexample != NULL)
            ce = json_incref(r->keys[i].counterexample);
    }
    json_object_set_new(o, "per_key", per_key);
    if (r->verdict == CHECKER_UNKNOWN)
        set_reason(o, r, h);
    json_object_set_new(o, "counterexample", ce);
    json_object_set_new(o, "elapsed_ms", json_real(r->elapsed_ms));
    return o;
}

/* ---- In the checker registry -------------------------------------------------------------- */

/* Each key's verdict, for the checkers that reuse them (sequential). */
static void key_verdicts(const lin_result *r, checker_report *out)
{
    out->per_key = fl_malloc((r->nkeys + 1) * sizeof *out->per_key);
    out->nper_key = out->per_key ? r->nkeys : 0;
    for (size_t i = 0; i < out->nper_key; i++)
        out->per_key[i] = (checker_key_verdict){r->keys[i].key,
                                                r->keys[i].verdict};
}

static int registry_check(const history *h, const checker_options *opt,
                          const checker_result *needed, checker_report *out,
                          fl_error *err)
{
    lin_result *r;
    (void)needed;
    int rc = lin_check(h, opt, &r, err);
    if (rc != FL_OK)
        return rc;
    out->verdict = r->verdict;
    out->json = lin_result_to_json(r, h);
    key_verdicts(r, out);
    fprintf(out->summary, "linearizable (%s): %s\n", r->model->name,
            checker_verdict_word(r->verdict));
    rc = lin_result_explain(r, h, out->explain);
    lin_result_free(r);
    return rc;
}

const checker checker_linearizable = {
    .name = "linearizable",
    .about = "each key against --model (Wing & Gong, Lowe)",
    .check = registry_check,
    .explain_json = lin_explain_json,
    .html_verdict = lin_html_verdict,
    .html_panel = lin_html_panel,
};
