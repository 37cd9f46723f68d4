/*
 * shrink.c — delta debugging (Zeller & Hildebrandt's ddmin, complement
 * steps only) over whole operations: remove ever smaller chunks of the
 * history while it stays invalid. Ending with chunks of one operation makes
 * the result 1-minimal.
 */
#include "checkers/shrink.h"
#include "checkers/lin_model.h"
#include "checkers/wgl.h"

#include <stdlib.h>
#include <string.h>

/*
 * A smaller history is only a better explanation if it is the same kind of
 * violation. Left to itself, ddmin reduces "read 1 after write 2 completed"
 * to a lone "read 1": invalid, minimal, and useless, because it blames a
 * missing write rather than an ordering. So for models that can say which
 * values an op writes and observes, a candidate must stay closed: every
 * value an op observes is the initial value or written by a kept op —
 * provided the whole history was closed to begin with.
 */
typedef struct closure {
    bool enforce;
    const lin_model *model;
    lin_op *op_at;       /* by event position; valid where has_op */
    bool *has_op;
    uint64_t initial;
    uint64_t *written;   /* scratch */
} closure;

typedef struct trial {
    const history *h;
    lin_options opt;
    int64_t deadline_ns;
    bool *keep;
    closure c;
} trial;

typedef struct observed_check {
    const uint64_t *written;
    size_t n;
    uint64_t initial;
    bool ok;
} observed_check;

static void check_observed(void *arg, uint64_t v)
{
    observed_check *oc = arg;
    if (v == oc->initial)
        return;
    for (size_t i = 0; i < oc->n; i++)
        if (oc->written[i] == v)
            return;
    oc->ok = false;
}

static bool closed(const closure *c, const size_t *ops, size_t n)
{
    if (!c->enforce)
        return true;
    size_t nw = 0;
    for (size_t i = 0; i < n; i++) {
        if (!c->has_op[ops[i]])
            continue;
        uint64_t w = c->model->written(&c->op_at[ops[i]]);
        if (w != LIN_NO_STATE)
            c->written[nw++] = w;
    }
    observed_check oc = {c->written, nw, c->initial, true};
    for (size_t i = 0; i < n && oc.ok; i++)
        if (c->has_op[ops[i]])
            c->model->observed(&c->op_at[ops[i]], check_observed, &oc);
    return oc.ok;
}

/* Prepare every operation once, in a context of its own. Failing that, or
 * for a model without the hooks, the closure is simply not enforced. */
static void closure_init(closure *c, const history *h, const lin_options *opt,
                         lin_ctx *ctx)
{
    const lin_model *m = lin_model_find(opt->model ? opt->model : "");
    size_t len = history_len(h);
    memset(c, 0, sizeof *c);
    if (m == NULL || m->written == NULL || m->observed == NULL || ctx == NULL)
        return;
    c->model = m;
    c->op_at = calloc(len + 1, sizeof *c->op_at);
    c->has_op = calloc(len + 1, sizeof *c->has_op);
    c->written = calloc(len + 1, sizeof *c->written);
    fl_error err;
    if (!c->op_at || !c->has_op || !c->written ||
        m->init(ctx, opt->initial, &c->initial, &err) != FL_OK)
        return;
    const history_event *ev = history_events(h);
    for (size_t i = 0; i < len; i++) {
        if (ev[i].process == HISTORY_NEMESIS || ev[i].type != HISTORY_INVOKE)
            continue;
        const history_event *done = ev[i].pair != HISTORY_NONE ? &ev[ev[i].pair] : NULL;
        bool ok = done != NULL && done->type == HISTORY_OK;
        if (m->prepare(ctx, history_name(h, ev[i].f),
                       ev[i].key != HISTORY_NONE ? history_value(h, ev[i].key) : NULL,
                       history_value(h, ev[i].value),
                       ok ? history_value(h, done->value) : NULL, &c->op_at[i],
                       &err) != FL_OK)
            return;
        c->op_at[i].known = ok;
        c->has_op[i] = true;
    }
    c->enforce = true;
}

static void closure_free(closure *c)
{
    free(c->op_at);
    free(c->has_op);
    free(c->written);
}

/* 1 if the history restricted to ops[0..n) is invalid, 0 if not (or
 * unknown), -1 on error or when the shrink's time is up. */
static int still_invalid(trial *t, const size_t *ops, size_t n, fl_error *err)
{
    if (!closed(&t->c, ops, n))
        return 0;
    if (t->deadline_ns > 0) {
        int64_t left = t->deadline_ns - wgl_now_ns();
        if (left <= 0)
            return -1;
        t->opt.time_limit_s = (double)left / 1e9;
    }
    memset(t->keep, 0, history_len(t->h) * sizeof *t->keep);
    for (size_t i = 0; i < n; i++)
        t->keep[ops[i]] = true;
    history *sub;
    if (history_subset(t->h, t->keep, &sub, err) != FL_OK)
        return -1;
    lin_result *r;
    int rc = lin_check(sub, &t->opt, &r, err);
    history_free(sub);
    if (rc != FL_OK)
        return -1;
    int invalid = lin_result_verdict(r) == CHECKER_INVALID;
    lin_result_free(r);
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

int shrink_history(const history *h, const lin_options *opt, history **out,
                   bool *minimal, fl_error *err)
{
    size_t len = history_len(h), n = 0;
    const history_event *ev = history_events(h);
    trial t = {.h = h, .opt = *opt};
    t.opt.shrink = false;
    t.opt.threads = 1;
    if (opt->time_limit_s > 0)
        t.deadline_ns = wgl_now_ns() + (int64_t)(opt->time_limit_s * 1e9);
    lin_ctx *ctx = lin_ctx_new(NULL);
    size_t *ops = calloc(len + 1, sizeof *ops);
    size_t *scratch = malloc((len + 1) * sizeof *scratch);
    t.keep = calloc(len + 1, sizeof *t.keep);
    int rc = FL_OK;
    if (ops == NULL || scratch == NULL || t.keep == NULL) {
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < len; i++)
        if (ev[i].process != HISTORY_NEMESIS && ev[i].type == HISTORY_INVOKE &&
            (ev[i].pair == HISTORY_NONE || ev[ev[i].pair].type != HISTORY_FAIL))
            ops[n++] = i;
    closure_init(&t.c, h, opt, ctx);
    t.c.enforce = t.c.enforce && closed(&t.c, ops, n);
    int got = still_invalid(&t, ops, n, err);
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
    free(ops);
    free(scratch);
    free(t.keep);
    return rc;
}
