/*
 * shrink.c — delta debugging (Zeller & Hildebrandt's ddmin, complement
 * steps only) over whole operations: remove ever smaller chunks of the
 * history while it stays invalid. Ending with chunks of one operation makes
 * the result 1-minimal.
 */
#include "checkers/shrink.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

/*
 * A smaller history is only a better explanation if it is the same kind of
 * violation. Left to itself, ddmin reduces "read 1 after write 2 completed"
 * to a lone "read 1": invalid, minimal, and useless, because it blames a
 * missing write rather than an ordering. So for models that can say which
 * values an op writes and observes, a candidate must be a witness: every
 * value a kept op observes (a read's output, a cas's expected value) is the
 * initial value or is written by another kept op (a write, a cas: ok or
 * info) invoked before the observer completed. Another op, because a cas
 * [1 1] cannot supply its own 1; invoked in time, because a write that
 * began after the read returned cannot explain the read.
 *
 * The rule is checked per observation, never switched off for a whole
 * history. Some observations no op of the history could meet (a read of a
 * value never written, an ok cas expecting one: early-acked, or an info
 * cas with a guessed expectation), and one such op anywhere must not turn
 * the rule off for the rest. So the shrink starts from the largest
 * sub-history that meets the rule; only when that one is linearizable,
 * the violation needs an unmeetable observation, and those (alone) are
 * exempt: an ok read or cas that nothing invoked before its completion
 * could have set up is by itself proof that the whole history is not
 * linearizable, so shown alone it is an honest witness.
 *
 * A model whose observations are not single written values (kv-append: a
 * get of "ab" needs a put of "ab", or of "a" and an append of "b", or ...)
 * states the rule itself through its `explained` hook, which then takes
 * the place of written/observed: each kept op must be explained by the
 * other kept ops on its key invoked before it completed, with the same
 * exemptions, per op. The kept ops are grouped by key for each trial, so a
 * check costs the kept ops' count plus each observer's own key's ops.
 */
typedef struct observation {
    size_t op;        /* the observer's invocation position */
    size_t deadline;  /* its completion's position; SIZE_MAX: info/never */
    uint64_t value;
    bool exempt;      /* no op of the whole history writes it in time */
} observation;

/* The rule through the model's explained() hook; arrays by position unless
 * said otherwise. */
typedef struct explain_rule {
    const lin_model *m;  /* NULL: not this rule */
    lin_ctx *ctx;
    lin_op *op;
    size_t *deadline;    /* completion position; SIZE_MAX: info/never */
    bool *needs;         /* the initial state alone does not explain it */
    bool *exempt;        /* the whole candidate set does not explain it */
    size_t nkeys;        /* key ids are below this */
    size_t *start;       /* scratch by key (nkeys + 1): its group in ... */
    size_t *grouped;     /* ... the kept ops grouped by key, each group in
                            position order (scratch) */
    const lin_op **cand; /* scratch for one observer's candidates */
} explain_rule;

typedef struct closure {
    bool enforce;
    uint64_t initial;
    uint64_t *writes;    /* by invocation position: value or LIN_NO_STATE */
    size_t *obs_from;    /* by position: its first observation in obs */
    observation *obs;    /* in position order */
    size_t nobs, cap;
    bool oom;
    size_t nvalues;      /* value ids are below this */
    size_t *first, *second; /* by value: earliest two kept writers, else
                               SIZE_MAX (scratch, all SIZE_MAX between
                               trials) */
    explain_rule ex;          /* the explained() rule, when ex.m is set */
} closure;

typedef struct trial {
    const history *h;
    const shrink_options *opt;
    int64_t deadline_ns;
    bool *keep;
    closure c;
} trial;

/* ---- The witness rule --------------------------------------------------------- */

static void note_writers(closure *c, const size_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t w = c->writes[ops[i]];
        if (w == LIN_NO_STATE)
            continue;
        if (ops[i] < c->first[w]) {
            c->second[w] = c->first[w];
            c->first[w] = ops[i];
        } else if (ops[i] < c->second[w]) {
            c->second[w] = ops[i];
        }
    }
}

static void forget_writers(closure *c, const size_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c->writes[ops[i]] != LIN_NO_STATE)
            c->first[c->writes[ops[i]]] = c->second[c->writes[ops[i]]] =
                SIZE_MAX;
}

/* With the writers noted: is o's value written by another op in time? */
static bool written_in_time(const closure *c, const observation *o)
{
    size_t w = c->first[o->value];
    if (w == o->op)
        w = c->second[o->value];
    return w < o->deadline;
}

static bool met(const closure *c, const observation *o)
{
    return o->value == c->initial || o->exempt || written_in_time(c, o);
}

/* Group ops[0..n) by key: group k is grouped[start[k] .. start[k + 1]). */
static void group_by_key(explain_rule *r, const size_t *ops, size_t n)
{
    memset(r->start, 0, (r->nkeys + 1) * sizeof *r->start);
    for (size_t i = 0; i < n; i++)
        r->start[r->op[ops[i]].key + 1]++;
    for (size_t k = 0; k < r->nkeys; k++)
        r->start[k + 1] += r->start[k];
    for (size_t i = 0; i < n; i++) /* start[k] moves to group k's end */
        r->grouped[r->start[r->op[ops[i]].key]++] = ops[i];
    memmove(r->start + 1, r->start, r->nkeys * sizeof *r->start);
    r->start[0] = 0;
}

/* With the ops grouped: is the op at p explained by the other kept ops on
 * its key invoked before it completed? */
static bool explained(const explain_rule *r, size_t p)
{
    if (!r->needs[p] || r->exempt[p])
        return true;
    uint32_t k = r->op[p].key;
    size_t m = 0;
    for (size_t j = r->start[k];
         j < r->start[k + 1] && r->grouped[j] < r->deadline[p]; j++)
        if (r->grouped[j] != p)
            r->cand[m++] = &r->op[r->grouped[j]];
    return r->m->explained(r->ctx, &r->op[p], r->cand, m);
}

static bool op_met(const closure *c, size_t op);

/* Set up, and clear after, the tables op_met() reads for the set ops. */
static void note_set(closure *c, const size_t *ops, size_t n)
{
    if (c->ex.m != NULL)
        group_by_key(&c->ex, ops, n);
    else
        note_writers(c, ops, n);
}

static void forget_set(closure *c, const size_t *ops, size_t n)
{
    if (c->ex.m == NULL)
        forget_writers(c, ops, n);
}

static bool closed(closure *c, const size_t *ops, size_t n)
{
    if (!c->enforce)
        return true;
    note_set(c, ops, n);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++)
        ok = op_met(c, ops[i]);
    forget_set(c, ops, n);
    return ok;
}

/* ---- Setting it up ------------------------------------------------------------ */

typedef struct observer {
    closure *c;
    size_t op, deadline;
} observer;

static void add_observation(void *arg, uint64_t v)
{
    observer *w = arg;
    closure *c = w->c;
    if (c->nobs == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        observation *grown = fl_realloc(c->obs, cap * sizeof *grown);
        if (grown == NULL) {
            c->oom = true;
            return;
        }
        c->obs = grown;
        c->cap = cap;
    }
    c->obs[c->nobs++] = (observation){w->op, w->deadline, v, false};
    if (v >= c->nvalues)
        c->nvalues = v + 1;
}

/* Prepare the op invoked at i, as the check will see it, and record what
 * it writes and observes. */
static int note_op(closure *c, const lin_model *m, const history *h,
                   const shrink_options *opt, lin_ctx *ctx, size_t i)
{
    lin_op op;
    bool ok;
    fl_error err;
    /* as the check does: a read with no known output observes nothing */
    if (lin_model_prepare_event(m, ctx, h, i, opt->nil_reads_unknown, &op,
                                &ok, &err) != FL_OK)
        return -1;
    c->writes[i] = m->written(&op);
    if (c->writes[i] != LIN_NO_STATE && c->writes[i] >= c->nvalues)
        c->nvalues = c->writes[i] + 1;
    c->obs_from[i] = c->nobs;
    observer w = {c, i, ok ? history_events(h)[i].pair : SIZE_MAX};
    m->observed(&op, add_observation, &w);
    return c->oom ? -1 : 0;
}

/* The exemptions: observations the whole candidate set cannot meet. */
static void mark_exempt(closure *c, const size_t *ops, size_t n)
{
    if (c->ex.m != NULL) {
        group_by_key(&c->ex, ops, n);
        for (size_t i = 0; i < n; i++)
            c->ex.exempt[ops[i]] = !explained(&c->ex, ops[i]);
        return;
    }
    note_writers(c, ops, n);
    for (size_t j = 0; j < c->nobs; j++)
        c->obs[j].exempt = !met(c, &c->obs[j]);
    forget_writers(c, ops, n);
}

static bool op_met(const closure *c, size_t op)
{
    if (c->ex.m != NULL)
        return explained(&c->ex, op);
    for (size_t j = c->obs_from[op]; j < c->nobs && c->obs[j].op == op; j++)
        if (!met(c, &c->obs[j]))
            return false;
    return true;
}

/* One pass: keep, in place, the ops whose observations are met (flag is
 * scratch by position); returns how many are left. */
static size_t drop_unmet(closure *c, size_t *ops, size_t n, bool *flag)
{
    note_set(c, ops, n);
    for (size_t i = 0; i < n; i++)
        flag[ops[i]] = op_met(c, ops[i]);
    forget_set(c, ops, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (flag[ops[i]])
            ops[m++] = ops[i];
    return m;
}

/* The largest sub-history of ops[0..n) that meets the rule, in place: the
 * rule is monotone (more writers meet more), so dropping unmet ops until
 * none is left reaches it. A dropped cas takes its write away, hence the
 * passes. Returns its length. */
static size_t largest_closed(closure *c, size_t *ops, size_t n, bool *flag)
{
    if (!c->enforce)
        return n;
    for (size_t m; (m = drop_unmet(c, ops, n, flag)) < n;)
        n = m;
    return n;
}

static int closure_alloc(closure *c, size_t len)
{
    c->writes = fl_malloc((len + 1) * sizeof *c->writes);
    c->obs_from = fl_calloc(len + 1, sizeof *c->obs_from);
    if (c->writes == NULL || c->obs_from == NULL)
        return -1;
    for (size_t i = 0; i <= len; i++)
        c->writes[i] = LIN_NO_STATE;
    return 0;
}

static int writer_tables(closure *c)
{
    c->first = fl_malloc((c->nvalues + 1) * sizeof *c->first);
    c->second = fl_malloc((c->nvalues + 1) * sizeof *c->second);
    if (c->first == NULL || c->second == NULL)
        return -1;
    for (size_t v = 0; v <= c->nvalues; v++)
        c->first[v] = c->second[v] = SIZE_MAX;
    return 0;
}

/* The explained() rule's tables for the candidate ops; -1 when out of
 * memory or an op cannot be prepared. */
static int explain_rule_init(explain_rule *r, const history *h,
                        const shrink_options *opt, const size_t *ops, size_t n)
{
    size_t len = history_len(h);
    fl_error err;
    r->op = fl_calloc(len + 1, sizeof *r->op);
    r->deadline = fl_calloc(len + 1, sizeof *r->deadline);
    r->needs = fl_calloc(len + 1, sizeof *r->needs);
    r->exempt = fl_calloc(len + 1, sizeof *r->exempt);
    r->grouped = fl_calloc(len + 1, sizeof *r->grouped);
    r->cand = fl_calloc(len + 1, sizeof *r->cand);
    if (r->op == NULL || r->deadline == NULL || r->needs == NULL ||
        r->exempt == NULL || r->grouped == NULL || r->cand == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t p = ops[i];
        bool ok;
        if (lin_model_prepare_event(r->m, r->ctx, h, p, opt->nil_reads_unknown,
                                    &r->op[p], &ok, &err) != FL_OK)
            return -1;
        r->deadline[p] = ok ? history_events(h)[p].pair : SIZE_MAX;
        r->needs[p] = !r->m->explained(r->ctx, &r->op[p], NULL, 0);
        if (r->op[p].key >= r->nkeys)
            r->nkeys = (size_t)r->op[p].key + 1;
    }
    r->start = fl_calloc(r->nkeys + 1, sizeof *r->start);
    return r->start == NULL ? -1 : 0;
}

static void explain_rule_free(explain_rule *r)
{
    fl_free(r->op);
    fl_free(r->deadline);
    fl_free(r->needs);
    fl_free(r->exempt);
    fl_free(r->start);
    fl_free(r->grouped);
    fl_free(r->cand);
}

/* Prepare the candidate ops once, in a context of its own. Failing that, or
 * for a model without the hooks, the rule is simply not enforced. */
static void closure_init(closure *c, const history *h,
                         const shrink_options *opt, lin_ctx *ctx,
                         const size_t *ops, size_t n)
{
    const lin_model *m = opt->model;
    fl_error err;
    memset(c, 0, sizeof *c);
    if (m != NULL && m->explained != NULL && ctx != NULL) {
        c->ex.m = m;
        c->ex.ctx = ctx;
        c->enforce = m->init(ctx, opt->initial, &c->initial, &err) == FL_OK &&
                     explain_rule_init(&c->ex, h, opt, ops, n) == 0;
        return;
    }
    if (m == NULL || m->written == NULL || m->observed == NULL || ctx == NULL ||
        closure_alloc(c, history_len(h)) != 0 ||
        m->init(ctx, opt->initial, &c->initial, &err) != FL_OK)
        return;
    for (size_t i = 0; i < n; i++)
        if (note_op(c, m, h, opt, ctx, ops[i]) != 0)
            return;
    if (c->initial >= c->nvalues)
        c->nvalues = c->initial + 1;
    if (writer_tables(c) != 0)
        return;
    c->enforce = true;
}

static void closure_free(closure *c)
{
    fl_free(c->writes);
    fl_free(c->obs_from);
    fl_free(c->obs);
    fl_free(c->first);
    fl_free(c->second);
    explain_rule_free(&c->ex);
}

/* ---- Delta debugging ---------------------------------------------------------- */

/* 1 if the history restricted to ops[0..n) is invalid, 0 if not (or
 * unknown), -1 on error or when the shrink's time is up. */
static int still_invalid(trial *t, const size_t *ops, size_t n, fl_error *err)
{
    if (!closed(&t->c, ops, n))
        return 0;
    double left_s = 0;
    if (t->deadline_ns > 0) {
        int64_t left = t->deadline_ns - fl_clock_mono_ns();
        if (left <= 0)
            return -1;
        left_s = (double)left / 1e9;
    }
    memset(t->keep, 0, history_len(t->h) * sizeof *t->keep);
    for (size_t i = 0; i < n; i++)
        t->keep[ops[i]] = true;
    history *sub;
    if (history_subset(t->h, t->keep, &sub, err) != FL_OK)
        return -1;
    int invalid = t->opt->judge(t->opt->judge_arg, sub, left_s, err);
    history_free(sub);
    return invalid;
}

/* ops minus the chunk [from, to), into dst; returns its length. */
static size_t without(const size_t *ops, size_t n, size_t from, size_t to,
                      size_t *dst)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i < from || i >= to)
            dst[m++] = ops[i];
    return m;
}

/* Shrinks ops in place; returns its new length, *minimal when 1-minimal. */
static size_t ddmin(trial *t, size_t *ops, size_t n, size_t *scratch,
                    bool *minimal, fl_error *err)
{
    size_t chunks = 2;
    *minimal = false;
    while (n >= 2) {
        size_t size = (n + chunks - 1) / chunks;
        bool reduced = false;
        for (size_t from = 0; from < n && !reduced; from += size) {
            size_t m = without(ops, n, from, from + size, scratch);
            int got = still_invalid(t, scratch, m, err);
            if (got < 0)
                return n;
            if (got == 1) {
                memcpy(ops, scratch, m * sizeof *ops);
                n = m;
                chunks = chunks > 2 ? chunks - 1 : 2;
                reduced = true;
            }
        }
        if (reduced)
            continue;
        if (chunks >= n)
            break;
        chunks = 2 * chunks < n ? 2 * chunks : n;
    }
    *minimal = true;
    return n;
}

/* Where ddmin starts (see the top): the largest sub-history meeting the
 * rule if that is invalid, else all of ops with the unmeetable observations
 * exempt. Returns still_invalid's answer for the start; *n is its length. */
static int start_set(trial *t, size_t *ops, size_t *n, size_t *scratch,
                     fl_error *err)
{
    memcpy(scratch, ops, *n * sizeof *ops);
    size_t m = largest_closed(&t->c, scratch, *n, t->keep);
    int got = still_invalid(t, scratch, m, err);
    if (got != 0 || m == *n) {
        memcpy(ops, scratch, m * sizeof *ops);
        *n = m;
        return got;
    }
    mark_exempt(&t->c, ops, *n);
    return still_invalid(t, ops, *n, err);
}

int shrink_history(const history *h, const shrink_options *opt,
                   history **out, bool *minimal, fl_error *err)
{
    size_t len = history_len(h), n = 0;
    const history_event *ev = history_events(h);
    trial t = {.h = h, .opt = opt};
    if (opt->time_limit_s > 0)
        t.deadline_ns =
            fl_clock_mono_ns() + (int64_t)(opt->time_limit_s * 1e9);
    lin_ctx *ctx = lin_ctx_new();
    size_t *ops = fl_calloc(len + 1, sizeof *ops);
    size_t *scratch = fl_calloc(len + 1, sizeof *scratch);
    t.keep = fl_calloc(len + 1, sizeof *t.keep);
    int rc = FL_OK;
    if (ops == NULL || scratch == NULL || t.keep == NULL) {
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < len; i++)
        if (ev[i].process != HISTORY_NEMESIS && ev[i].type == HISTORY_INVOKE &&
            (ev[i].pair == HISTORY_NONE || ev[ev[i].pair].type != HISTORY_FAIL))
            ops[n++] = i;
    closure_init(&t.c, h, opt, ctx, ops, n);
    int got = start_set(&t, ops, &n, scratch, err);
    if (got != 1) {
        if (got == 0)
            rc = fl_error_set(err, FL_EUSAGE,
                              "shrink: the history is not invalid");
        else if (err->code == FL_OK)
            rc = fl_error_set(err, FL_EUSAGE, "shrink: no time left");
        else
            rc = err->code;
        goto done;
    }
    n = ddmin(&t, ops, n, scratch, minimal, err);
    memset(t.keep, 0, len * sizeof *t.keep);
    for (size_t i = 0; i < n; i++)
        t.keep[ops[i]] = true;
    rc = history_subset(h, t.keep, out, err);
done:
    closure_free(&t.c);
    lin_ctx_free(ctx);
    fl_free(ops);
    fl_free(scratch);
    fl_free(t.keep);
    return rc;
}
