/*
 * Tests of the unique-value decision (checkers/unique_register.h) through
 * the checker: hand-made cases with known answers, each also checked with
 * the fast path off; which histories it takes and which it leaves to the
 * search; thousands of random small histories with unique values, info
 * ops and cas, where its verdict must equal the WGL search's and a
 * brute-force checker's written here; larger ones against the search
 * alone; and its counterexamples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "history/history.h"

/* ---- helpers ------------------------------------------------------------------ */

/* A history from lines "process type f value", e.g. "0 invoke write 1". */
static history *parse(const char *lines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    for (const char *p = lines; *p;) {
        long proc;
        char type[16], f[32], value[256];
        int used = 0;
        if (sscanf(p, "%ld %15s %31s %255[^\n]%n", &proc, type, f, value,
                   &used) < 4)
            fail_msg("bad test line: %s", p);
        fprintf(out, "{\"process\":%ld,\"type\":\"%s\",\"f\":\"%s\",\"value\":%s}\n",
                proc, type, f, value);
        p += used;
        while (*p == '\n')
            p++;
    }
    fclose(out);
    FILE *in = fmemopen(buf, len, "r");
    history *h = NULL;
    fl_error err = {0};
    if (history_read_jsonl(in, "test", &h, &err) != FL_OK)
        fail_msg("%s\n%s", err.msg, buf);
    fclose(in);
    free(buf);
    return h;
}

typedef struct outcome {
    checker_verdict verdict;
    bool fast;            /* per_key says decided_by unique-values */
    json_t *json;         /* the result (owned) */
} outcome;

static outcome run(const history *h, const char *model, bool fast_path,
                   bool shrink)
{
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find(model);
    opt.threads = 1;
    opt.shrink = shrink;
    opt.no_fast_path = !fast_path;
    lin_result *r = NULL;
    fl_error err = {0};
    if (lin_check(h, &opt, &r, &err) != FL_OK)
        fail_msg("lin_check: %s", err.msg);
    outcome o = {.verdict = lin_result_verdict(r),
                 .json = lin_result_to_json(r, h)};
    const json_t *k = json_object_get(json_object_get(o.json, "per_key"), "*");
    const char *by = json_string_value(json_object_get(k, "decided_by"));
    o.fast = by != NULL && strcmp(by, "unique-values") == 0;
    lin_result_free(r);
    return o;
}

/* The verdict of the fast path, asserting that it took the history and
 * that the search agrees. */
static checker_verdict decide(const char *model, const char *lines)
{
    history *h = parse(lines);
    outcome fast = run(h, model, true, false);
    outcome slow = run(h, model, false, false);
    assert_true(fast.fast);
    assert_false(slow.fast);
    assert_int_equal(fast.verdict, slow.verdict);
    json_decref(fast.json);
    json_decref(slow.json);
    history_free(h);
    return fast.verdict;
}

/* Whether the fast path takes the history at all. */
static bool taken(const char *model, const char *lines)
{
    history *h = parse(lines);
    outcome o = run(h, model, true, false);
    json_decref(o.json);
    history_free(h);
    return o.fast;
}

/* ---- hand-made cases ---------------------------------------------------------------- */

static void test_reads_and_writes(void **state)
{
    (void)state;
    /* a stale read: 1 after the write of 2 completed */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 ok write 1\n"
                            "1 invoke write 2\n1 ok write 2\n"
                            "2 invoke read null\n2 ok read 1\n"),
                     CHECKER_INVALID);
    /* the same read concurrent with the write of 2: fine */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 ok write 1\n"
                            "1 invoke write 2\n2 invoke read null\n"
                            "1 ok write 2\n2 ok read 1\n"),
                     CHECKER_VALID);
    /* a read of a value never written */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 ok write 1\n"
                            "2 invoke read null\n2 ok read 7\n"),
                     CHECKER_INVALID);
    /* a read that completed before its write was invoked */
    assert_int_equal(decide("register",
                            "2 invoke read null\n2 ok read 1\n"
                            "0 invoke write 1\n0 ok write 1\n"),
                     CHECKER_INVALID);
    /* the initial value read after a write completed */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 ok write 1\n"
                            "2 invoke read null\n2 ok read null\n"),
                     CHECKER_INVALID);
    /* ... and before it: fine, twice, concurrently with it too */
    assert_int_equal(decide("register",
                            "2 invoke read null\n2 ok read null\n"
                            "0 invoke write 1\n3 invoke read null\n"
                            "3 ok read null\n0 ok write 1\n"
                            "2 invoke read null\n2 ok read 1\n"),
                     CHECKER_VALID);
    /* two values each held over overlapping spans: 1 2 1 2 */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n1 invoke write 2\n"
                            "0 ok write 1\n1 ok write 2\n"
                            "2 invoke read null\n2 ok read 1\n"
                            "3 invoke read null\n3 ok read 2\n"
                            "4 invoke read null\n4 ok read 1\n"),
                     CHECKER_INVALID);
}

static void test_info_writes(void **state)
{
    (void)state;
    /* an info write read later took effect */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 info write 1\n"
                            "2 invoke read null\n2 ok read 1\n"),
                     CHECKER_VALID);
    /* an info write never read may never have happened */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 info write 1\n"
                            "2 invoke read null\n2 ok read null\n"),
                     CHECKER_VALID);
    /* but once read, the initial value cannot come back */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 info write 1\n"
                            "2 invoke read null\n2 ok read 1\n"
                            "3 invoke read null\n3 ok read null\n"),
                     CHECKER_INVALID);
    /* it may take effect long after its invocation: after write 2 */
    assert_int_equal(decide("register",
                            "0 invoke write 1\n0 info write 1\n"
                            "1 invoke write 2\n1 ok write 2\n"
                            "2 invoke read null\n2 ok read 2\n"
                            "3 invoke read null\n3 ok read 1\n"),
                     CHECKER_VALID);
    /* an invocation that never completed is info too */
    assert_int_equal(decide("register",
                            "1 invoke write 2\n1 ok write 2\n"
                            "0 invoke write 1\n"
                            "2 invoke read null\n2 ok read 1\n"
                            "3 invoke read null\n3 ok read 2\n"),
                     CHECKER_INVALID);
}

static void test_cas(void **state)
{
    (void)state;
    assert_int_equal(decide("cas-register",
                            "0 invoke cas [null,1]\n0 ok cas [null,1]\n"
                            "1 invoke cas [1,2]\n1 ok cas [1,2]\n"
                            "2 invoke read null\n2 ok read 2\n"),
                     CHECKER_VALID);
    /* a cas whose expectation was overwritten before it began */
    assert_int_equal(decide("cas-register",
                            "0 invoke write 1\n0 ok write 1\n"
                            "1 invoke write 2\n1 ok write 2\n"
                            "2 invoke cas [1,3]\n2 ok cas [1,3]\n"),
                     CHECKER_INVALID);
    /* two cas replacing the same value */
    assert_int_equal(decide("cas-register",
                            "0 invoke cas [null,1]\n0 ok cas [null,1]\n"
                            "1 invoke cas [null,2]\n1 ok cas [null,2]\n"),
                     CHECKER_INVALID);
    /* ... unless one is info and never observed */
    assert_int_equal(decide("cas-register",
                            "0 invoke cas [null,1]\n0 ok cas [null,1]\n"
                            "1 invoke cas [null,2]\n1 info cas [null,2]\n"),
                     CHECKER_VALID);
    /* a cycle: each expects what the other writes */
    assert_int_equal(decide("cas-register",
                            "0 invoke cas [1,2]\n1 invoke cas [2,1]\n"
                            "0 ok cas [1,2]\n1 ok cas [2,1]\n"),
                     CHECKER_INVALID);
    /* an info cas read later, then a cas on top of what it wrote */
    assert_int_equal(decide("cas-register",
                            "0 invoke write 1\n0 ok write 1\n"
                            "1 invoke cas [1,2]\n1 info cas [1,2]\n"
                            "2 invoke cas [2,3]\n2 ok cas [2,3]\n"
                            "3 invoke read null\n3 ok read 3\n"),
                     CHECKER_VALID);
    /* the read of 1 must come before the cas that replaced it */
    assert_int_equal(decide("cas-register",
                            "0 invoke write 1\n0 ok write 1\n"
                            "1 invoke cas [1,2]\n1 ok cas [1,2]\n"
                            "3 invoke read null\n3 ok read 1\n"),
                     CHECKER_INVALID);
}

/* The detector: anything but unique values goes to the search. */
static void test_eligibility(void **state)
{
    (void)state;
    const char *unique = "0 invoke write 1\n0 ok write 1\n"
                         "1 invoke read null\n1 ok read 1\n";
    assert_true(taken("register", unique));
    assert_true(taken("cas-register", unique));
    /* a value written twice: by two writes, a write and a cas, two info */
    assert_false(taken("register", "0 invoke write 1\n0 ok write 1\n"
                                   "1 invoke write 1\n1 ok write 1\n"));
    assert_false(taken("cas-register", "0 invoke write 1\n0 ok write 1\n"
                                       "1 invoke cas [1,1]\n1 ok cas [1,1]\n"));
    assert_false(taken("register", "0 invoke write 1\n0 info write 1\n"
                                   "1 invoke write 1\n1 info write 1\n"
                                   "2 invoke read null\n2 ok read 1\n"
                                   "3 invoke read null\n3 ok read 1\n"));
    /* one reader of 1 needs one of the two info writes: the later-invoked
     * is cut (checkers/linearizable.c), and what is left is unique */
    assert_true(taken("register", "0 invoke write 1\n0 info write 1\n"
                                  "1 invoke write 1\n1 info write 1\n"
                                  "2 invoke read null\n2 ok read 1\n"));
    /* (two info writes nobody reads are dropped before: nothing twice) */
    assert_true(taken("register", "0 invoke write 1\n0 info write 1\n"
                                  "1 invoke write 1\n1 info write 1\n"));
    /* the initial value written again */
    assert_false(taken("register", "0 invoke write 1\n0 ok write 1\n"
                                   "1 invoke write null\n1 ok write null\n"));
    /* another model */
    assert_false(taken("counter", "0 invoke add 1\n0 ok add 1\n"));
    /* a failed write certainly did not happen: it writes nothing */
    assert_true(taken("register", "0 invoke write 1\n0 fail write 1\n"
                                  "1 invoke write 1\n1 ok write 1\n"));
    /* and the search, falling back, still decides */
    history *h = parse("0 invoke write 1\n0 ok write 1\n"
                       "1 invoke write 2\n1 ok write 2\n"
                       "2 invoke write 1\n2 ok write 1\n"
                       "3 invoke read null\n3 ok read 1\n");
    outcome o = run(h, "register", true, false);
    assert_false(o.fast);
    assert_int_equal(o.verdict, CHECKER_VALID);
    json_decref(o.json);
    history_free(h);
}

/* ---- random histories ---------------------------------------------------------------- */

enum { G_READ, G_WRITE, G_CAS };
enum { G_OK, G_INFO, G_FAIL, G_PENDING };

typedef struct g_op {
    int kind, a, b, out, outcome, call, ret;
    bool applied, abandoned, done, cas_failed;
} g_op;

#define G_MAX_OPS 64

typedef struct g_hist {
    g_op ops[G_MAX_OPS];
    int nops, events, next_value, processes;
    int inflight[8];
    uint64_t rng;
} g_hist;

static unsigned g_rnd(g_hist *g, unsigned n)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return (unsigned)(g->rng % n);
}

static void g_apply(g_op *o, int *reg)
{
    o->applied = true;
    if (o->kind == G_READ)
        o->out = *reg;
    else if (o->kind == G_WRITE)
        *reg = o->a;
    else if (*reg == o->a)
        *reg = o->b;
    else
        o->cas_failed = true;
}

/* Invoke, take effect or complete, on a random process. Every value
 * written is new (initial 0, then 1, 2, ...). */
static void g_step(g_hist *g, int *reg, int target, bool with_cas)
{
    int p = (int)g_rnd(g, (unsigned)g->processes), i = g->inflight[p];
    if (i < 0) {
        if (g->nops == target)
            return;
        g_op *o = &g->ops[g->nops];
        int kind = (int)g_rnd(g, with_cas ? 3 : 2);
        int expect = g_rnd(g, 4) ? *reg : (int)g_rnd(g, (unsigned)g->next_value);
        *o = (g_op){.kind = kind, .call = g->events++, .ret = INT32_MAX,
                    .outcome = G_PENDING};
        if (kind == G_WRITE)
            o->a = g->next_value++;
        if (kind == G_CAS) {
            o->a = expect;
            o->b = g->next_value++;
        }
        g->inflight[p] = g->nops++;
        return;
    }
    g_op *o = &g->ops[i];
    if (!o->applied && !o->abandoned) {
        if (g_rnd(g, 8) == 0)
            o->abandoned = true;
        else
            g_apply(o, reg);
        return;
    }
    o->ret = g->events++;
    o->done = true;
    if (o->cas_failed)
        o->outcome = G_FAIL;
    else
        o->outcome = o->abandoned || g_rnd(g, 6) == 0 ? G_INFO : G_OK;
    g->inflight[p] = -1;
}

static void g_generate(g_hist *g, uint64_t seed, int target, int processes,
                       bool with_cas)
{
    memset(g, 0, sizeof *g);
    g->rng = seed * 2654435761u + 0x9E3779B97F4A7C15ull;
    g->processes = processes;
    g->next_value = 1;
    for (int p = 0; p < 8; p++)
        g->inflight[p] = -1;
    int reg = 0;
    for (int steps = 0; steps < 40 * target; steps++)
        g_step(g, &reg, target, with_cas);
}

/* A read sees another value, or a cas expects one: an earlier value (a
 * stale read), a later one, or one never written. Values stay unique. */
static void g_mutate(g_hist *g)
{
    int i = (int)g_rnd(g, (unsigned)g->nops);
    int v = (int)g_rnd(g, (unsigned)g->next_value + 1);
    if (g->ops[i].kind == G_WRITE)
        return;
    if (g->ops[i].kind == G_READ)
        g->ops[i].out = v;
    else
        g->ops[i].a = v;
}

/* Move a completion one event earlier (past another op's event): real
 * time changes, values do not. */
static void g_mutate_time(g_hist *g)
{
    int i = (int)g_rnd(g, (unsigned)g->nops);
    g_op *o = &g->ops[i];
    if (!o->done || o->ret - 1 <= o->call)
        return;
    for (int j = 0; j < g->nops; j++) {
        g_op *other = &g->ops[j];
        if (other->call == o->ret - 1)
            other->call++;
        else if (other->done && other->ret == o->ret - 1)
            other->ret++;
        else
            continue;
        o->ret--;
        return;
    }
}

static json_t *g_value(const g_op *o, bool completion)
{
    if (o->kind == G_READ)
        return completion ? json_integer(o->out) : json_null();
    if (o->kind == G_WRITE)
        return json_integer(o->a);
    return json_pack("[ii]", o->a, o->b);
}

static history *g_history(const g_hist *g)
{
    static const char *names[] = {"read", "write", "cas"};
    static const history_type types[] = {HISTORY_OK, HISTORY_INFO, HISTORY_FAIL};
    history *h = history_new();
    for (int pos = 0; pos < g->events; pos++) {
        for (int i = 0; i < g->nops; i++) {
            const g_op *o = &g->ops[i];
            bool call = o->call == pos, ret = o->done && o->ret == pos;
            if (!call && !ret)
                continue;
            json_t *v = g_value(o, ret && o->outcome == G_OK);
            history_input in = {.index = HISTORY_AUTO_INDEX,
                                .time = HISTORY_NO_TIME, .process = i,
                                .type = call ? HISTORY_INVOKE : types[o->outcome],
                                .f = names[o->kind], .value = v};
            fl_error err = {0};
            assert_int_equal(history_append(h, &in, &err), FL_OK);
            json_decref(v);
        }
    }
    return h;
}

/* Some order of the ok ops plus any of the info ones, each after every
 * ok op that completed before it began, that a register from `reg`
 * accepts? Plain enumeration. */
static bool g_brute(const g_hist *g, bool *placed, int reg)
{
    bool all = true;
    for (int i = 0; i < g->nops; i++)
        if (!placed[i] && g->ops[i].outcome == G_OK)
            all = false;
    if (all)
        return true;
    for (int i = 0; i < g->nops; i++) {
        const g_op *o = &g->ops[i];
        if (placed[i] || o->outcome == G_FAIL)
            continue;
        bool ready = true;
        for (int j = 0; j < g->nops && ready; j++)
            ready = placed[j] || j == i || g->ops[j].outcome != G_OK ||
                    g->ops[j].ret > o->call;
        if (!ready)
            continue;
        int next = reg;
        if (o->kind == G_READ && o->outcome == G_OK && reg != o->out)
            continue;
        if (o->kind == G_WRITE)
            next = o->a;
        if (o->kind == G_CAS) {
            if (reg != o->a)
                continue;
            next = o->b;
        }
        placed[i] = true;
        bool found = g_brute(g, placed, next);
        placed[i] = false;
        if (found)
            return true;
    }
    return false;
}

static int seeds_from_env(int fallback)
{
    const char *env = getenv("UREG_RANDOM_SEEDS");
    return env ? atoi(env) : fallback;
}

/* Compare one random history's verdicts; returns the verdict. */
static checker_verdict g_compare(const g_hist *g, int seed, bool brute_too)
{
    history *h = g_history(g);
    json_t *zero = json_integer(0);
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.initial = zero;
    opt.threads = 1;
    checker_verdict got[2];
    bool fast = false;
    for (int off = 0; off < 2; off++) {
        opt.no_fast_path = off;
        lin_result *r = NULL;
        fl_error err = {0};
        assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
        got[off] = lin_result_verdict(r);
        if (!off) {
            json_t *j = lin_result_to_json(r, h);
            const json_t *k = json_object_get(json_object_get(j, "per_key"), "*");
            fast = json_object_get(k, "decided_by") != NULL ||
                   json_integer_value(json_object_get(j, "keys")) == 0;
            json_decref(j);
        }
        lin_result_free(r);
    }
    bool placed[G_MAX_OPS] = {0};
    checker_verdict want = got[1];
    if (brute_too)
        want = g_brute(g, placed, 0) ? CHECKER_VALID : CHECKER_INVALID;
    if (!fast || got[0] != want || got[1] != want) {
        fl_error err = {0};
        history_write_jsonl(h, stderr, &err);
        fail_msg("seed %d: fast path %s (verdict %d), search %d, %s %d", seed,
                 fast ? "took it" : "declined", got[0], got[1],
                 brute_too ? "brute force" : "search", want);
    }
    json_decref(zero);
    history_free(h);
    return want;
}

static void test_random_small_against_brute_force(void **state)
{
    (void)state;
    int seeds = seeds_from_env(4000), invalid = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        g_hist g;
        g_generate(&g, (uint64_t)seed, 2 + seed % 7, 3, seed % 4 != 0);
        if (seed % 2 == 0)
            g_mutate(&g);
        for (int k = 0; seed % 3 == 0 && k < 4; k++)
            g_mutate_time(&g);
        invalid += g_compare(&g, seed, true) == CHECKER_INVALID;
    }
    print_message("%d random histories with unique values, %d invalid: fast "
                  "path, search and brute force agree\n", seeds, invalid);
    assert_true(invalid > seeds / 20); /* the mutations do bite */
    assert_true(invalid < seeds - seeds / 10);
}

static void test_random_larger_against_search(void **state)
{
    (void)state;
    int seeds = seeds_from_env(4000) / 4, invalid = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        g_hist g;
        g_generate(&g, (uint64_t)seed + 1000000, 10 + seed % 30, 5,
                   seed % 3 != 0);
        if (seed % 2 == 0)
            g_mutate(&g);
        for (int k = 0; seed % 3 == 0 && k < 8; k++)
            g_mutate_time(&g);
        invalid += g_compare(&g, seed, false) == CHECKER_INVALID;
    }
    print_message("%d random histories of 10-40 ops, %d invalid: fast path "
                  "and search agree\n", seeds, invalid);
    assert_true(invalid > seeds / 20);
}

/* ---- counterexamples ---------------------------------------------------------------- */

/* A long valid history hiding a stale read: write 1, write 2, read 1. */
static const char *hidden_stale_read(void)
{
    static char text[16384];
    char *p = text;
    for (int i = 0; i < 40; i++)
        p += sprintf(p, "%d invoke write %d\n%d ok write %d\n"
                        "%d invoke read null\n%d ok read %d\n",
                     i % 5, 100 + i, i % 5, 100 + i, 5 + i % 5, 5 + i % 5,
                     100 + i);
    p += sprintf(p, "0 invoke write 1\n0 ok write 1\n"
                    "1 invoke write 2\n1 ok write 2\n"
                    "2 invoke read null\n2 ok read 1\n");
    for (int i = 0; i < 20; i++)
        p += sprintf(p, "3 invoke read null\n3 ok read 1\n");
    return text;
}

static void test_counterexample(void **state)
{
    (void)state;
    history *h = parse(hidden_stale_read());
    outcome o = run(h, "register", true, true);
    assert_true(o.fast);
    assert_int_equal(o.verdict, CHECKER_INVALID);
    const json_t *ce = json_object_get(o.json, "counterexample");
    assert_non_null(ce);
    /* the same op and state the search blames (test_linearizable.c) */
    const json_t *op = json_object_get(ce, "op");
    assert_string_equal(json_string_value(json_object_get(op, "f")), "read");
    assert_int_equal(json_integer_value(json_object_get(op, "output")), 1);
    assert_int_equal(json_integer_value(json_object_get(op, "process")), 2);
    const json_t *states = json_object_get(ce, "states");
    assert_int_equal(json_array_size(states), 1);
    assert_int_equal(json_integer_value(json_array_get(states, 0)), 2);
    /* the whole long history was not searched, only the witness */
    assert_true(json_integer_value(json_object_get(ce, "prefix_length")) < 10);
    const json_t *shrunk = json_object_get(ce, "shrunk");
    assert_int_equal(json_array_size(json_object_get(shrunk, "events")), 6);
    assert_true(json_is_true(json_object_get(shrunk, "minimal")));
    json_decref(o.json);
    history_free(h);
}

/* Every invalid random history gets a counterexample naming an op. */
static void test_random_counterexamples(void **state)
{
    (void)state;
    int seeds = seeds_from_env(4000) / 8, with = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        g_hist g;
        g_generate(&g, (uint64_t)seed + 2000000, 6 + seed % 20, 4, true);
        g_mutate(&g);
        history *h = g_history(&g);
        outcome o = run(h, "cas-register", true, seed % 8 == 0);
        if (o.verdict == CHECKER_INVALID) {
            const json_t *ce = json_object_get(o.json, "counterexample");
            assert_non_null(json_object_get(ce, "op"));
            with++;
        }
        json_decref(o.json);
        history_free(h);
    }
    assert_true(with > 0);
}

/* Each allocation of the check failing in turn: the check says out of
 * memory or unknown, or survives with the right verdict; never a leak
 * (ASan) or a wrong verdict. */
static void test_allocation_failures(void **state)
{
    (void)state;
    history *h = parse("0 invoke write 1\n0 ok write 1\n"
                       "1 invoke cas [1,2]\n1 info cas [1,2]\n"
                       "2 invoke read null\n2 ok read 2\n"
                       "3 invoke read null\n3 ok read 1\n");
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = 1;
    bool hit = true;
    for (uint64_t n = 1; hit && n < 10000; n++) {
        lin_result *r = NULL;
        fl_error err = {0};
        fl_alloc_fail_after(n);
        int rc = lin_check(h, &opt, &r, &err);
        hit = fl_alloc_failed();
        fl_alloc_fail_after(0);
        if (rc != FL_OK) {
            assert_int_equal(rc, FL_ENOMEM);
            continue;
        }
        assert_int_not_equal(lin_result_verdict(r), CHECKER_VALID);
        lin_result_free(r);
    }
    assert_false(hit);
    history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_writes),
        cmocka_unit_test(test_info_writes),
        cmocka_unit_test(test_cas),
        cmocka_unit_test(test_eligibility),
        cmocka_unit_test(test_random_small_against_brute_force),
        cmocka_unit_test(test_random_larger_against_search),
        cmocka_unit_test(test_counterexample),
        cmocka_unit_test(test_random_counterexamples),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
