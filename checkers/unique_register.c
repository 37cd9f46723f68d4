/*
 * unique_register.c — the decision described in unique_register.h: find
 * the required ops, build the chains, then check conditions (a)-(e) in
 * that order, each violation naming the smallest sub-history that shows it.
 */
#include "checkers/unique_register.h"
#include "base/alloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX
#define VIRTUAL_CALL (-2) /* the initial value's writer, before everything */
#define VIRTUAL_RET (-1)

typedef struct ureg_chain {
    size_t start, len;  /* in seq */
    int64_t lo, hi;     /* least ret, greatest call */
} ureg_chain;

typedef struct ureg {
    const wgl_op *ops;
    size_t n, nv;
    uint64_t initial;
    /* per op */
    uint64_t *obs, *wrote;   /* value observed / written, LIN_NO_STATE */
    bool *kept, *mark;       /* required; in a chain or a witness */
    size_t *next_reader, *seq;
    size_t nseq;
    /* per value */
    size_t *writer, *child, *first_reader;
    ureg_chain *chains;
    size_t nchains;
} ureg;

static bool ureg_ok(const ureg *u, size_t i)
{
    return u->ops[i].ret != WGL_NEVER;
}

/* ---- Setting up -------------------------------------------------------------- */

static void ureg_note(void *arg, uint64_t v)
{
    *(uint64_t *)arg = v;
}

/* What each op observes and writes, and the largest value id seen. */
static void ureg_classify(ureg *u, const lin_model *m, uint64_t *max)
{
    *max = u->initial;
    for (size_t i = 0; i < u->n; i++) {
        const lin_op *op = &u->ops[i].op;
        u->obs[i] = LIN_NO_STATE;
        u->wrote[i] = m->written(op);
        m->observed(op, ureg_note, &u->obs[i]);
        if (u->obs[i] != LIN_NO_STATE && u->obs[i] > *max)
            *max = u->obs[i];
        if (u->wrote[i] != LIN_NO_STATE && u->wrote[i] > *max)
            *max = u->wrote[i];
    }
}

/* What eligibility needs: a key that is not eligible (most Jepsen
 * histories: values 0-4) is declined after this much. */
static int ureg_alloc_classes(ureg *u)
{
    u->obs = fl_malloc((u->n + 1) * sizeof *u->obs);
    u->wrote = fl_malloc((u->n + 1) * sizeof *u->wrote);
    return u->obs && u->wrote ? 0 : -1;
}

static int ureg_alloc_writers(ureg *u)
{
    u->writer = fl_malloc(u->nv * sizeof *u->writer);
    if (u->writer == NULL)
        return -1;
    for (size_t v = 0; v < u->nv; v++)
        u->writer[v] = NONE;
    return 0;
}

/* The rest, for the decision. */
static int ureg_alloc_rest(ureg *u)
{
    size_t n = u->n + 1;
    u->kept = fl_calloc(n, sizeof *u->kept);
    u->mark = fl_calloc(n, sizeof *u->mark);
    u->next_reader = fl_malloc(n * sizeof *u->next_reader);
    u->seq = fl_malloc(n * sizeof *u->seq);
    u->chains = fl_malloc(n * sizeof *u->chains);
    u->child = fl_malloc(u->nv * sizeof *u->child);
    u->first_reader = fl_malloc(u->nv * sizeof *u->first_reader);
    if (!u->kept || !u->mark || !u->next_reader || !u->seq || !u->chains ||
        !u->child || !u->first_reader)
        return -1;
    for (size_t v = 0; v < u->nv; v++)
        u->child[v] = u->first_reader[v] = NONE;
    return 0;
}

static void ureg_free(ureg *u)
{
    fl_free(u->obs);
    fl_free(u->wrote);
    fl_free(u->kept);
    fl_free(u->mark);
    fl_free(u->next_reader);
    fl_free(u->seq);
    fl_free(u->chains);
    fl_free(u->writer);
    fl_free(u->child);
    fl_free(u->first_reader);
}

/* The eligibility rules of the header, or NULL when they hold. */
static const char *ureg_ineligible(ureg *u, const lin_model *m)
{
    for (size_t i = 0; i < u->n; i++) {
        const lin_op *op = &u->ops[i].op;
        uint64_t w = u->wrote[i];
        if (m->read_only(op) ? w != LIN_NO_STATE : w == LIN_NO_STATE)
            return "an operation that is neither a read nor a write";
        if (w == LIN_NO_STATE)
            continue;
        if (w == u->initial)
            return "the initial value is written again";
        if (u->writer[w] != NONE)
            return "a value is written twice";
        u->writer[w] = i;
    }
    return NULL;
}

/* Required: ok ops, then the writers of what required ops observe. A read
 * whose output is unknown is never required (it constrains nothing). */
static void ureg_require(ureg *u, const lin_model *m)
{
    size_t *stack = u->seq, top = 0; /* seq is free until the chains */
    for (size_t i = 0; i < u->n; i++) {
        bool inert = m->read_only(&u->ops[i].op) && u->obs[i] == LIN_NO_STATE;
        if (ureg_ok(u, i) && !inert) {
            u->kept[i] = true;
            stack[top++] = i;
        }
    }
    while (top > 0) {
        size_t i = stack[--top];
        uint64_t v = u->obs[i];
        size_t w = v == LIN_NO_STATE ? NONE : u->writer[v];
        if (w != NONE && !u->kept[w]) {
            u->kept[w] = true;
            stack[top++] = w;
        }
    }
}

/* ---- Witnesses ---------------------------------------------------------------- */

/* Mark i and the writers it depends on, up to the initial value, a plain
 * write, a value nobody writes, or an op already marked. */
static void ureg_mark_upward(ureg *u, size_t i)
{
    while (i != NONE && !u->mark[i]) {
        u->mark[i] = true;
        uint64_t v = u->obs[i];
        i = v == LIN_NO_STATE || v == u->initial ? NONE : u->writer[v];
    }
}

/* A required info op is required because some ok op below it observes
 * what it wrote: that ok op, so that a witness keeps it required. NONE if
 * the walk does not find one within n steps. */
static size_t ureg_ok_below(const ureg *u, size_t i)
{
    for (size_t steps = 0; i != NONE && steps <= u->n; steps++) {
        if (ureg_ok(u, i))
            return i;
        uint64_t v = u->wrote[i];
        i = u->first_reader[v] != NONE ? u->first_reader[v] : u->child[v];
    }
    return NONE;
}

static void ureg_mark_all_kept(ureg *u)
{
    for (size_t i = 0; i < u->n; i++)
        u->mark[i] = u->kept[i];
}

/* The witness that ok op below i depends on, or every required op. */
static void ureg_mark_for(ureg *u, size_t i)
{
    size_t below = ureg_ok_below(u, i);
    if (below == NONE)
        ureg_mark_all_kept(u);
    else
        ureg_mark_upward(u, below);
}

static void ureg_mark_chain(ureg *u, const ureg_chain *c)
{
    for (size_t k = 0; k < c->len; k++)
        u->mark[u->seq[c->start + k]] = true;
}

static int ureg_invalid(ureg *u, const char *why, ureg_result *out)
{
    out->outcome = UREG_INVALID;
    out->why = why;
    size_t count = 0;
    for (size_t i = 0; i < u->n; i++)
        count += u->mark[i];
    out->witness = fl_malloc((count + 1) * sizeof *out->witness);
    if (out->witness == NULL)
        return -1;
    for (size_t i = 0; i < u->n; i++)
        if (u->mark[i])
            out->witness[out->nwitness++] = i;
    return 0;
}

static void ureg_clear_marks(ureg *u)
{
    memset(u->mark, 0, (u->n + 1) * sizeof *u->mark);
}

/* ---- Conditions (a) and (b) ---------------------------------------------------- */

/* Readers and the cas successor of each value, then (a) and the first
 * half of (b). Returns the violation, NULL if none. */
static const char *ureg_link(ureg *u)
{
    size_t dup = NONE; /* a cas expecting what another one expects */
    for (size_t i = u->n; i-- > 0;) {
        uint64_t v = u->obs[i];
        if (!u->kept[i] || v == LIN_NO_STATE)
            continue;
        if (u->wrote[i] == LIN_NO_STATE) {
            u->next_reader[i] = u->first_reader[v];
            u->first_reader[v] = i;
        } else if (u->child[v] == NONE) {
            u->child[v] = i;
        } else {
            dup = i;
        }
    }
    for (size_t i = 0; i < u->n; i++) {
        uint64_t v = u->obs[i];
        if (u->kept[i] && v != LIN_NO_STATE && v != u->initial &&
            u->writer[v] == NONE) {
            ureg_mark_for(u, i);
            return "an operation observes a value that nothing writes";
        }
    }
    if (dup == NONE)
        return NULL;
    ureg_mark_for(u, dup);
    ureg_mark_for(u, u->child[u->obs[dup]]);
    return "two cas operations expect the same value, which is written "
           "only once";
}

/* ---- Chains and condition (c) --------------------------------------------------- */

static void ureg_append(ureg *u, ureg_chain *c, size_t i)
{
    const wgl_op *o = &u->ops[i];
    u->seq[u->nseq++] = i;
    c->len++;
    u->mark[i] = true;
    if (o->ret < c->lo)
        c->lo = o->ret;
    if (o->call > c->hi)
        c->hi = o->call;
}

static int64_t ureg_max(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/*
 * Walk the chain from value v, written by op w (NONE: the initial value),
 * group by group; `before` is the greatest call of the groups so far,
 * which each op must complete after (c). Returns false on a violation,
 * with the chain cut just after the op that breaks it.
 */
static bool ureg_walk(ureg *u, uint64_t v, size_t w, ureg_chain *c)
{
    int64_t before = VIRTUAL_CALL;
    *c = (ureg_chain){.start = u->nseq, .lo = INT64_MAX, .hi = INT64_MIN};
    if (w == NONE) {
        c->lo = VIRTUAL_RET;
        c->hi = VIRTUAL_CALL;
    }
    for (;;) {
        if (w != NONE) {
            ureg_append(u, c, w);
            if (u->ops[w].ret <= before)
                return false;
            before = ureg_max(before, u->ops[w].call);
        }
        int64_t group = before;
        for (size_t r = u->first_reader[v]; r != NONE; r = u->next_reader[r]) {
            ureg_append(u, c, r);
            if (u->ops[r].ret <= before)
                return false;
            group = ureg_max(group, u->ops[r].call);
        }
        before = group;
        w = u->child[v];
        if (w == NONE || u->mark[w])
            return true;
        v = u->wrote[w];
    }
}

/* Every chain (one from each required plain write, and the initial
 * value's if anything observes it), then the second half of (b): a
 * required op that no chain reached hangs off a cas cycle. */
static const char *ureg_build_chains(ureg *u)
{
    for (size_t i = 0; i <= u->n; i++) {
        bool initial = i == u->n;
        if (initial ? u->first_reader[u->initial] == NONE &&
                          u->child[u->initial] == NONE
                    : !u->kept[i] || u->wrote[i] == LIN_NO_STATE ||
                          u->obs[i] != LIN_NO_STATE)
            continue;
        ureg_chain *c = &u->chains[u->nchains++];
        if (!ureg_walk(u, initial ? u->initial : u->wrote[i],
                       initial ? NONE : i, c)) {
            ureg_clear_marks(u);
            ureg_mark_chain(u, c);
            return "an operation completed before one it must follow "
                   "(the write of the value it observes, or an operation "
                   "before that) was invoked";
        }
    }
    for (size_t i = 0; i < u->n; i++) {
        if (u->kept[i] && !u->mark[i] && ureg_ok(u, i)) {
            ureg_clear_marks(u);
            ureg_mark_upward(u, i);
            return "a cycle of cas operations, each expecting the value "
                   "the next one writes";
        }
    }
    ureg_clear_marks(u);
    return NULL;
}

/* ---- Zones: (d) and (e) ------------------------------------------------------------ */

static int ureg_cmp_lo(const void *a, const void *b)
{
    const ureg_chain *x = *(const ureg_chain *const *)a;
    const ureg_chain *y = *(const ureg_chain *const *)b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* The forward zone with the greatest lo below t, or NULL. */
static const ureg_chain *ureg_zone_before(ureg_chain *const *fwd, size_t n,
                                          int64_t t)
{
    size_t a = 0, b = n; /* the first with lo >= t */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (fwd[mid]->lo < t)
            a = mid + 1;
        else
            b = mid;
    }
    return a > 0 ? fwd[a - 1] : NULL;
}

/* Returns the violation or NULL; -1 in *oom when out of memory. */
static const char *ureg_zones(ureg *u, bool *oom)
{
    ureg_chain **fwd = fl_malloc((u->nchains + 1) * sizeof *fwd);
    size_t nf = 0;
    const char *why = NULL;
    if (fwd == NULL) {
        *oom = true;
        return NULL;
    }
    for (size_t k = 0; k < u->nchains; k++)
        if (u->chains[k].lo < u->chains[k].hi)
            fwd[nf++] = &u->chains[k];
    qsort(fwd, nf, sizeof *fwd, ureg_cmp_lo);
    for (size_t k = 0; k + 1 < nf && why == NULL; k++) {
        if (fwd[k + 1]->lo < fwd[k]->hi) {
            ureg_mark_chain(u, fwd[k]);
            ureg_mark_chain(u, fwd[k + 1]);
            why = "two values must each be held over spans of time that "
                  "overlap";
        }
    }
    for (size_t k = 0; k < u->nchains && why == NULL; k++) {
        const ureg_chain *b = &u->chains[k], *f;
        if (b->lo < b->hi || (f = ureg_zone_before(fwd, nf, b->hi)) == NULL ||
            f->hi < b->lo)
            continue;
        ureg_mark_chain(u, f);
        ureg_mark_chain(u, b);
        why = "operations that can only take effect while another value "
              "must be held";
    }
    fl_free(fwd);
    return why;
}

/* ---- The decision ------------------------------------------------------------------- */

static bool ureg_model_eligible(const lin_model *m)
{
    return m->written != NULL && m->observed != NULL &&
           (strcmp(m->name, "register") == 0 ||
            strcmp(m->name, "cas-register") == 0);
}

static int ureg_run(ureg *u, const lin_model *m, ureg_result *out)
{
    uint64_t max;
    if (ureg_alloc_classes(u) != 0)
        return -1;
    ureg_classify(u, m, &max);
    u->nv = (size_t)max + 1;
    if (ureg_alloc_writers(u) != 0)
        return -1;
    if ((out->why = ureg_ineligible(u, m)) != NULL) {
        out->outcome = UREG_INELIGIBLE;
        return 0;
    }
    if (ureg_alloc_rest(u) != 0)
        return -1;
    ureg_require(u, m);
    const char *why = ureg_link(u);
    if (why == NULL)
        why = ureg_build_chains(u);
    bool oom = false;
    if (why == NULL)
        why = ureg_zones(u, &oom);
    if (oom)
        return -1;
    if (why != NULL)
        return ureg_invalid(u, why, out);
    out->outcome = UREG_VALID;
    return 0;
}

int ureg_decide(const lin_model *model, const wgl_op *ops, size_t n,
                uint64_t initial, ureg_result *out, fl_error *err)
{
    *out = (ureg_result){.outcome = UREG_INELIGIBLE,
                         .why = "the model is not register or cas-register"};
    if (!ureg_model_eligible(model))
        return FL_OK;
    ureg u = {.ops = ops, .n = n, .initial = initial};
    int rc = ureg_run(&u, model, out);
    ureg_free(&u);
    if (rc != 0) {
        ureg_result_free(out);
        *out = (ureg_result){.outcome = UREG_INELIGIBLE};
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    return FL_OK;
}

void ureg_result_free(ureg_result *r)
{
    fl_free(r->witness);
    r->witness = NULL;
    r->nwitness = 0;
}
