/*
 * Tests of the linearizability checker: each model on small histories with
 * known answers, Jepsen's info/fail semantics, the corpus verdicts, a
 * randomized comparison against a brute-force checker written here,
 * counterexamples and shrinking, and the budgets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "history/history.h"

/* ---- helpers ------------------------------------------------------------------ */

/* A history from JSONL text, with one event per line written compactly as
 * "p type f value" for brevity: e.g. "0 invoke write 1". */
static history *parse(const char *lines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    const char *p = lines;
    while (*p) {
        long proc;
        char type[16], f[32], value[256];
        int used = 0;
        if (sscanf(p, "%ld %15s %31s %255[^\n]%n", &proc, type, f, value,
                   &used) < 4)
            fail_msg("bad test line: %s", p);
        char *key = NULL, *sep = strstr(value, " @");
        if (sep != NULL) { /* "value @key" */
            *sep = '\0';
            key = sep + 2;
        }
        fprintf(out, "{\"process\":%ld,\"type\":\"%s\",\"f\":\"%s\",\"value\":%s%s%s%s}\n",
                proc, type, f, value, key ? ",\"key\":\"" : "", key ? key : "",
                key ? "\"" : "");
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

static checker_verdict check_with(const char *model, const char *initial,
                              const char *lines, bool nil_reads_unknown)
{
    history *h = parse(lines);
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find(model);
    opt.threads = 1;
    opt.nil_reads_unknown = nil_reads_unknown;
    json_t *init = initial ? json_loads(initial, JSON_DECODE_ANY, NULL) : NULL;
    opt.initial = init;
    lin_result *r = NULL;
    fl_error err = {0};
    if (lin_check(h, &opt, &r, &err) != FL_OK)
        fail_msg("lin_check: %s", err.msg);
    checker_verdict v = lin_result_verdict(r);
    lin_result_free(r);
    history_free(h);
    json_decref(init);
    return v;
}

static checker_verdict check(const char *model, const char *lines)
{
    return check_with(model, NULL, lines, false);
}

/* ---- models ---------------------------------------------------------------------- */

static void test_register(void **state)
{
    (void)state;
    /* a read concurrent with a write may see either value */
    assert_int_equal(check("register", "0 invoke write 1\n0 ok write 1\n"
                                       "0 invoke write 2\n1 invoke read null\n"
                                       "1 ok read 1\n0 ok write 2\n"),
                     CHECKER_VALID);
    /* but not after the write completed */
    assert_int_equal(check("register", "0 invoke write 1\n0 ok write 1\n"
                                       "0 invoke write 2\n0 ok write 2\n"
                                       "1 invoke read null\n1 ok read 1\n"),
                     CHECKER_INVALID);
    /* a value never written */
    assert_int_equal(check("register", "1 invoke read null\n1 ok read 7\n"),
                     CHECKER_INVALID);
    /* null is the default initial value; --initial changes it */
    assert_int_equal(check("register", "1 invoke read null\n1 ok read null\n"),
                     CHECKER_VALID);
    assert_int_equal(check_with("register", "0", "1 invoke read null\n1 ok read 0\n", false),
                     CHECKER_VALID);
}

static void test_cas_register(void **state)
{
    (void)state;
    const char *ok = "0 invoke write 1\n0 ok write 1\n"
                     "1 invoke cas [1,2]\n1 ok cas [1,2]\n"
                     "0 invoke read null\n0 ok read 2\n";
    assert_int_equal(check("cas-register", ok), CHECKER_VALID);
    /* a successful cas whose expectation could not hold */
    assert_int_equal(check("cas-register", "0 invoke write 1\n0 ok write 1\n"
                                           "1 invoke cas [3,2]\n1 ok cas [3,2]\n"),
                     CHECKER_INVALID);
    /* a failed cas certainly did not happen: it is dropped */
    assert_int_equal(check("cas-register", "0 invoke write 1\n0 ok write 1\n"
                                           "1 invoke cas [1,2]\n1 fail cas [1,2]\n"
                                           "0 invoke read null\n0 ok read 1\n"),
                     CHECKER_VALID);
    /* the register model has no cas */
    history *h = parse("1 invoke cas [1,2]\n1 ok cas [1,2]\n");
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("register");
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "no operation \"cas\""));
    /* a cas value that is not a pair is bad data */
    history_free(h);
    h = parse("1 invoke cas 5\n1 ok cas 5\n");
    opt.model = lin_model_find("cas-register");
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_EDATA);
    assert_non_null(strstr(err.msg, "[old, new]"));
    history_free(h);
}

static void test_info_semantics(void **state)
{
    (void)state;
    /* an info write may take effect long after it was invoked... */
    assert_int_equal(check("register", "0 invoke write 1\n0 info write 1\n"
                                       "1 invoke read null\n1 ok read null\n"
                                       "1 invoke read null\n1 ok read 1\n"),
                     CHECKER_VALID);
    /* ...or never */
    assert_int_equal(check("register", "0 invoke write 1\n0 info write 1\n"
                                       "1 invoke read null\n1 ok read null\n"),
                     CHECKER_VALID);
    /* but not before it was invoked */
    assert_int_equal(check("register", "1 invoke read null\n1 ok read 1\n"
                                       "0 invoke write 1\n0 info write 1\n"),
                     CHECKER_INVALID);
    /* an invocation that never completed is an info */
    assert_int_equal(check("register", "0 invoke write 1\n"
                                       "1 invoke read null\n1 ok read 1\n"),
                     CHECKER_VALID);
    /* once read back, an info write cannot then be undone */
    assert_int_equal(check("register", "0 invoke write 1\n0 info write 1\n"
                                       "1 invoke read null\n1 ok read 1\n"
                                       "1 invoke read null\n1 ok read null\n"),
                     CHECKER_INVALID);
}

static void test_nil_reads_unknown(void **state)
{
    (void)state;
    const char *h = "0 invoke write 1\n0 ok write 1\n"
                    "1 invoke read null\n1 ok read null\n";
    assert_int_equal(check_with("register", NULL, h, false), CHECKER_INVALID);
    assert_int_equal(check_with("register", NULL, h, true), CHECKER_VALID);
}

static void test_mutex(void **state)
{
    (void)state;
    assert_int_equal(check("mutex", "0 invoke acquire null\n0 ok acquire null\n"
                                    "1 invoke acquire null\n"
                                    "0 invoke release null\n0 ok release null\n"
                                    "1 ok acquire null\n"),
                     CHECKER_VALID);
    assert_int_equal(check("mutex", "0 invoke acquire null\n0 ok acquire null\n"
                                    "1 invoke acquire null\n1 ok acquire null\n"),
                     CHECKER_INVALID);
    assert_int_equal(check("mutex", "0 invoke release null\n0 ok release null\n"),
                     CHECKER_INVALID);
}

static void test_set(void **state)
{
    (void)state;
    assert_int_equal(check("set", "0 invoke add 1\n0 ok add 1\n"
                                  "1 invoke add 2\n"
                                  "2 invoke read null\n2 ok read [2,1]\n"
                                  "1 ok add 2\n"),
                     CHECKER_VALID);
    /* an element lost after it was acknowledged */
    assert_int_equal(check("set", "0 invoke add 1\n0 ok add 1\n"
                                  "2 invoke read null\n2 ok read []\n"),
                     CHECKER_INVALID);
    /* an element nobody added */
    assert_int_equal(check("set", "2 invoke read null\n2 ok read [9]\n"),
                     CHECKER_INVALID);
}

static void test_fifo_queue(void **state)
{
    (void)state;
    assert_int_equal(check("fifo-queue", "0 invoke enqueue 1\n0 ok enqueue 1\n"
                                         "0 invoke enqueue 2\n0 ok enqueue 2\n"
                                         "1 invoke dequeue null\n1 ok dequeue 1\n"
                                         "1 invoke dequeue null\n1 ok dequeue 2\n"),
                     CHECKER_VALID);
    /* out of order */
    assert_int_equal(check("fifo-queue", "0 invoke enqueue 1\n0 ok enqueue 1\n"
                                         "0 invoke enqueue 2\n0 ok enqueue 2\n"
                                         "1 invoke dequeue null\n1 ok dequeue 2\n"),
                     CHECKER_INVALID);
    /* concurrent enqueues may land in either order */
    assert_int_equal(check("fifo-queue", "0 invoke enqueue 1\n2 invoke enqueue 2\n"
                                         "0 ok enqueue 1\n2 ok enqueue 2\n"
                                         "1 invoke dequeue null\n1 ok dequeue 2\n"),
                     CHECKER_VALID);
}

static void test_counter(void **state)
{
    (void)state;
    assert_int_equal(check("counter", "0 invoke add 2\n1 invoke read null\n"
                                      "0 ok add 2\n1 ok read 2\n"
                                      "0 invoke add 3\n0 info add 3\n"
                                      "1 invoke read null\n1 ok read 5\n"),
                     CHECKER_VALID);
    assert_int_equal(check("counter", "0 invoke add 2\n0 ok add 2\n"
                                      "1 invoke read null\n1 ok read 3\n"),
                     CHECKER_INVALID);
    assert_int_equal(check_with("counter", "10", "1 invoke read null\n1 ok read 10\n",
                                false),
                     CHECKER_VALID);
}

static void test_kv_append(void **state)
{
    (void)state;
    const char *ok = "0 invoke append \"a\" @k\n1 invoke append \"b\" @k\n"
                     "0 ok append \"a\" @k\n1 ok append \"b\" @k\n"
                     "2 invoke get null @k\n2 ok get \"ba\" @k\n"
                     "2 invoke get null @j\n2 ok get \"\" @j\n";
    assert_int_equal(check("kv-append", ok), CHECKER_VALID);
    /* keys are independent: j never saw an append */
    assert_int_equal(check("kv-append", "0 invoke append \"a\" @k\n0 ok append \"a\" @k\n"
                                        "2 invoke get null @j\n2 ok get \"a\" @j\n"),
                     CHECKER_INVALID);
    assert_int_equal(check("kv-append", "0 invoke put \"x\" @k\n0 ok put \"x\" @k\n"
                                        "0 invoke append \"y\" @k\n0 ok append \"y\" @k\n"
                                        "2 invoke get null @k\n2 ok get \"yx\" @k\n"),
                     CHECKER_INVALID);
}

/* ---- the corpus --------------------------------------------------------------------- */

static const char *shared_dir(void)
{
    const char *s = getenv("SHARED");
    return s ? s : "../shared";
}

static void test_corpus_verdicts(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/corpus/index.json", shared_dir());
    json_t *index = json_load_file(path, 0, NULL);
    if (index == NULL) {
        print_message("skipped: %s not found (set SHARED)\n", path);
        skip();
    }
    const char *name;
    json_t *meta;
    size_t checked = 0, invalid = 0;
    json_object_foreach(index, name, meta) {
        snprintf(path, sizeof path, "%s/corpus/%s", shared_dir(), name);
        history *h = NULL;
        fl_error err = {0};
        if (history_read_file(path, HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
            fail_msg("%s", err.msg);
        lin_options opt;
        lin_options_init(&opt);
        opt.model = lin_model_find(json_string_value(json_object_get(meta, "model")));
        opt.threads = 2;
        lin_result *r = NULL;
        assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
        checker_verdict want = json_is_true(json_object_get(meta, "linearizable"))
                               ? CHECKER_VALID : CHECKER_INVALID;
        if (lin_result_verdict(r) != want)
            fail_msg("%s: got verdict %d, want %d", name, lin_result_verdict(r), want);
        invalid += want == CHECKER_INVALID;
        checked++;
        lin_result_free(r);
        history_free(h);
    }
    print_message("%zu corpus histories, %zu invalid, every verdict matches\n",
                  checked, invalid);
    assert_true(checked >= 100);
    json_decref(index);
}

/* ---- randomized: the checker against a brute-force one ------------------------------ */

enum { R_READ, R_WRITE, R_CAS };
enum { OUT_OK, OUT_INFO, OUT_FAIL, OUT_PENDING };

typedef struct gen_op {
    int kind, a, b, out;
    int outcome;
    int call, ret;     /* event positions; ret = INT32_MAX if none */
    bool applied, abandoned, done, cas_failed;
} gen_op;

#define MAX_GEN_OPS 8

typedef struct gen {
    gen_op ops[MAX_GEN_OPS];
    int nops;
    int inflight[3];   /* op index per process, -1 idle */
    int events;
    uint64_t rng;
} gen;

static unsigned rnd(gen *g, unsigned n)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return (unsigned)(g->rng % n);
}

static void gen_apply(gen_op *o, int *reg)
{
    o->applied = true;
    if (o->kind == R_READ)
        o->out = *reg;
    else if (o->kind == R_WRITE)
        *reg = o->a;
    else if (*reg == o->a)
        *reg = o->b;
    else
        o->cas_failed = true; /* no effect; the client will see a failure */
}

/* One step of the simulated register: invoke, take effect, or complete. */
static void gen_step(gen *g, int *reg, int target)
{
    int p = (int)rnd(g, 3), i = g->inflight[p];
    if (i < 0) {
        if (g->nops == target)
            return;
        gen_op *o = &g->ops[g->nops];
        *o = (gen_op){.kind = (int)rnd(g, 3), .a = (int)rnd(g, 3),
                      .b = (int)rnd(g, 3), .call = g->events++,
                      .ret = INT32_MAX, .outcome = OUT_PENDING};
        g->inflight[p] = g->nops++;
        return;
    }
    gen_op *o = &g->ops[i];
    if (!o->applied && !o->abandoned) {
        if (rnd(g, 8) == 0)
            o->abandoned = true; /* will never take effect */
        else
            gen_apply(o, reg);
        return;
    }
    o->ret = g->events++;
    o->done = true;
    if (o->cas_failed)
        o->outcome = OUT_FAIL;
    else
        o->outcome = o->abandoned || rnd(g, 6) == 0 ? OUT_INFO : OUT_OK;
    g->inflight[p] = -1;
}

static void generate(gen *g, uint64_t seed, int target)
{
    memset(g, 0, sizeof *g);
    g->rng = seed * 2654435761u + 88172645463325252ull;
    g->inflight[0] = g->inflight[1] = g->inflight[2] = -1;
    int reg = 0;
    for (int steps = 0; steps < 200; steps++)
        gen_step(g, &reg, target);
}

/* A read's output changed, or a completed op's value: maybe no longer
 * linearizable. */
static void mutate(gen *g)
{
    int i = (int)rnd(g, (unsigned)g->nops);
    if (g->ops[i].kind == R_READ)
        g->ops[i].out = (int)rnd(g, 4);
    else
        g->ops[i].a = (int)rnd(g, 4);
}

static json_t *gen_value(const gen_op *o, bool completion)
{
    if (o->kind == R_READ)
        return completion ? json_integer(o->out) : json_null();
    if (o->kind == R_WRITE)
        return json_integer(o->a);
    return json_pack("[ii]", o->a, o->b);
}

static history *gen_history(const gen *g)
{
    history *h = history_new();
    static const char *names[] = {"read", "write", "cas"};
    static const history_type types[] = {HISTORY_OK, HISTORY_INFO, HISTORY_FAIL};
    int process_of[MAX_GEN_OPS];
    for (int i = 0; i < g->nops; i++)
        process_of[i] = i; /* a fresh process per op: always well formed */
    for (int pos = 0; pos < g->events; pos++) {
        for (int i = 0; i < g->nops; i++) {
            const gen_op *o = &g->ops[i];
            bool call = o->call == pos, ret = o->done && o->ret == pos;
            if (!call && !ret)
                continue;
            json_t *v = gen_value(o, ret && o->outcome == OUT_OK);
            history_input in = {.index = HISTORY_AUTO_INDEX,
                                .time = HISTORY_NO_TIME,
                                .process = process_of[i],
                                .type = call ? HISTORY_INVOKE : types[o->outcome],
                                .f = names[o->kind], .value = v};
            fl_error err = {0};
            assert_int_equal(history_append(h, &in, &err), FL_OK);
            json_decref(v);
        }
    }
    return h;
}

/* Is there an order of the ok ops (plus any subset of the info ones), each
 * placed after every op that completed before it was invoked, that the
 * register accepts? Plain enumeration, no cleverness. */
static bool brute(const gen *g, bool *placed, int reg)
{
    bool all_ok_placed = true;
    for (int i = 0; i < g->nops; i++)
        if (!placed[i] && g->ops[i].outcome == OUT_OK)
            all_ok_placed = false;
    if (all_ok_placed)
        return true;
    for (int i = 0; i < g->nops; i++) {
        const gen_op *o = &g->ops[i];
        if (placed[i] || o->outcome == OUT_FAIL)
            continue;
        bool ready = true; /* nothing unplaced completed before o began */
        for (int j = 0; j < g->nops; j++)
            if (!placed[j] && j != i && g->ops[j].outcome == OUT_OK &&
                g->ops[j].ret < o->call)
                ready = false;
        if (!ready)
            continue;
        int next = reg;
        bool known = o->outcome == OUT_OK;
        if (o->kind == R_READ && known && reg != o->out)
            continue;
        if (o->kind == R_WRITE)
            next = o->a;
        if (o->kind == R_CAS) {
            if (reg != o->a)
                continue;
            next = o->b;
        }
        placed[i] = true;
        bool found = brute(g, placed, next);
        placed[i] = false;
        if (found)
            return true;
    }
    return false;
}

static void test_random_against_brute_force(void **state)
{
    (void)state;
    const char *env = getenv("LIN_RANDOM_SEEDS");
    int seeds = env ? atoi(env) : 3000, invalid = 0;
    json_t *zero = json_integer(0);
    for (int seed = 1; seed <= seeds; seed++) {
        gen g;
        generate(&g, (uint64_t)seed, 3 + seed % (MAX_GEN_OPS - 2));
        bool mutated = seed % 2 == 0;
        if (mutated)
            mutate(&g);
        bool placed[MAX_GEN_OPS] = {0};
        bool want = brute(&g, placed, 0);
        if (!mutated && !want)
            fail_msg("seed %d: the generator made an invalid history", seed);
        history *h = gen_history(&g);
        lin_options opt;
        lin_options_init(&opt);
        opt.model = lin_model_find("cas-register");
        opt.initial = zero;
        opt.threads = 1;
        lin_result *r = NULL;
        fl_error err = {0};
        assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
        checker_verdict got = lin_result_verdict(r);
        if (got != (want ? CHECKER_VALID : CHECKER_INVALID)) {
            history_write_jsonl(h, stderr, &err);
            fail_msg("seed %d: checker says %d, brute force says %s", seed,
                     got, want ? "valid" : "invalid");
        }
        invalid += !want;
        lin_result_free(r);
        history_free(h);
    }
    json_decref(zero);
    print_message("%d random histories, %d invalid, checker agrees on all\n",
                  seeds, invalid);
    assert_true(invalid > seeds / 20); /* the mutations do bite */
}


/* The same for kv-append on one key: get, put and append of one-letter
 * strings, so that different orders of appends give different strings. */
typedef struct kv_gen_op {
    int kind; /* 0 get, 1 put, 2 append */
    char arg, out[24];
    int outcome, call, ret;
    bool applied, abandoned, done;
} kv_gen_op;

typedef struct kv_gen {
    kv_gen_op ops[MAX_GEN_OPS];
    int nops, inflight[3], events;
    char reg[24];
    uint64_t rng;
} kv_gen;

static void kv_apply(kv_gen *g, kv_gen_op *o)
{
    o->applied = true;
    size_t len = strlen(g->reg);
    if (o->kind == 0)
        strcpy(o->out, g->reg);
    else if (o->kind == 1)
        g->reg[0] = o->arg, g->reg[1] = '\0';
    else if (len + 1 < sizeof g->reg)
        g->reg[len] = o->arg, g->reg[len + 1] = '\0';
}

static void kv_generate(kv_gen *g, uint64_t seed, int target)
{
    memset(g, 0, sizeof *g);
    gen r = {.rng = seed * 2654435761u + 88172645463325252ull};
    g->inflight[0] = g->inflight[1] = g->inflight[2] = -1;
    for (int steps = 0; steps < 200; steps++) {
        int p = (int)rnd(&r, 3), i = g->inflight[p];
        if (i < 0) {
            if (g->nops == target)
                continue;
            g->ops[g->nops] = (kv_gen_op){.kind = (int)rnd(&r, 3),
                                          .arg = (char)('a' + rnd(&r, 3)),
                                          .call = g->events++,
                                          .ret = INT32_MAX,
                                          .outcome = OUT_PENDING};
            g->inflight[p] = g->nops++;
            continue;
        }
        kv_gen_op *o = &g->ops[i];
        if (!o->applied && !o->abandoned) {
            if (rnd(&r, 8) == 0)
                o->abandoned = true;
            else
                kv_apply(g, o);
            continue;
        }
        o->ret = g->events++;
        o->done = true;
        o->outcome = o->abandoned || rnd(&r, 6) == 0 ? OUT_INFO : OUT_OK;
        g->inflight[p] = -1;
    }
    if (seed % 2 == 0) { /* mutate a get's output */
        int i = (int)rnd(&r, (unsigned)g->nops);
        if (g->ops[i].kind == 0) {
            size_t len = strlen(g->ops[i].out);
            if (len > 0 && rnd(&r, 2))
                g->ops[i].out[len - 1] = (char)('a' + rnd(&r, 3));
            else if (len + 1 < sizeof g->ops[i].out)
                g->ops[i].out[len] = 'b', g->ops[i].out[len + 1] = '\0';
        }
    }
}

static history *kv_gen_history(const kv_gen *g)
{
    history *h = history_new();
    static const char *names[] = {"get", "put", "append"};
    json_t *key = json_string("k");
    for (int pos = 0; pos < g->events; pos++) {
        for (int i = 0; i < g->nops; i++) {
            const kv_gen_op *o = &g->ops[i];
            bool call = o->call == pos, ret = o->done && o->ret == pos;
            if (!call && !ret)
                continue;
            char arg[2] = {o->arg, '\0'};
            json_t *v = o->kind == 0 ? (ret && o->outcome == OUT_OK
                                            ? json_string(o->out) : json_null())
                                     : json_string(arg);
            history_input in = {.index = HISTORY_AUTO_INDEX,
                                .time = HISTORY_NO_TIME, .process = i,
                                .type = call ? HISTORY_INVOKE
                                             : o->outcome == OUT_OK ? HISTORY_OK
                                                                    : HISTORY_INFO,
                                .f = names[o->kind], .key = key, .value = v};
            fl_error err = {0};
            assert_int_equal(history_append(h, &in, &err), FL_OK);
            json_decref(v);
        }
    }
    json_decref(key);
    return h;
}

static bool kv_brute(const kv_gen *g, bool *placed, const char *reg)
{
    bool all_ok_placed = true;
    for (int i = 0; i < g->nops; i++)
        if (!placed[i] && g->ops[i].outcome == OUT_OK)
            all_ok_placed = false;
    if (all_ok_placed)
        return true;
    for (int i = 0; i < g->nops; i++) {
        const kv_gen_op *o = &g->ops[i];
        if (placed[i])
            continue;
        bool ready = true;
        for (int j = 0; j < g->nops; j++)
            if (!placed[j] && j != i && g->ops[j].outcome == OUT_OK &&
                g->ops[j].ret < o->call)
                ready = false;
        if (!ready)
            continue;
        char next[32];
        strcpy(next, reg);
        if (o->kind == 0 && o->outcome == OUT_OK && strcmp(reg, o->out) != 0)
            continue;
        if (o->kind == 1)
            next[0] = o->arg, next[1] = '\0';
        if (o->kind == 2 && strlen(next) + 1 < sizeof next)
            next[strlen(next) + 1] = '\0', next[strlen(next)] = o->arg;
        placed[i] = true;
        bool found = kv_brute(g, placed, next);
        placed[i] = false;
        if (found)
            return true;
    }
    return false;
}

static void test_kv_random_against_brute_force(void **state)
{
    (void)state;
    const char *env = getenv("LIN_RANDOM_SEEDS");
    int seeds = env ? atoi(env) : 3000, invalid = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        kv_gen g;
        kv_generate(&g, (uint64_t)seed, 3 + seed % (MAX_GEN_OPS - 2));
        bool placed[MAX_GEN_OPS] = {0};
        bool want = kv_brute(&g, placed, "");
        if (seed % 2 == 1 && !want)
            fail_msg("seed %d: the generator made an invalid history", seed);
        history *h = kv_gen_history(&g);
        lin_options opt;
        lin_options_init(&opt);
        opt.model = lin_model_find("kv-append");
        opt.threads = 1;
        lin_result *r = NULL;
        fl_error err = {0};
        assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
        if (lin_result_verdict(r) != (want ? CHECKER_VALID : CHECKER_INVALID)) {
            history_write_jsonl(h, stderr, &err);
            fail_msg("seed %d: checker says %d, brute force says %s", seed,
                     lin_result_verdict(r), want ? "valid" : "invalid");
        }
        invalid += !want;
        lin_result_free(r);
        history_free(h);
    }
    print_message("%d random kv histories, %d invalid, checker agrees on all\n",
                  seeds, invalid);
    assert_true(invalid > seeds / 20);
}

/* ---- counterexamples and shrinking ------------------------------------------------ */

/* Knossos's "rethink-fail" shape: a long valid history hiding a 4-op
 * violation: two writes, then reads that see them in both orders. */
static const char *hidden_violation(void)
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

static void test_counterexample_and_shrink(void **state)
{
    (void)state;
    history *h = parse(hidden_violation());
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("register");
    opt.shrink = true;
    opt.threads = 1;
    /* the search's own evidence on the whole key; the unique-value path,
     * which searches only its witness, is tests/test_unique_register.c */
    opt.no_fast_path = true;
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
    assert_int_equal(lin_result_verdict(r), CHECKER_INVALID);
    json_t *res = lin_result_to_json(r, h);
    json_t *ce = json_object_get(res, "counterexample");
    assert_non_null(ce);
    /* the search gets stuck at the first read of 1 after write 2 completed */
    json_t *op = json_object_get(ce, "op");
    assert_string_equal(json_string_value(json_object_get(op, "f")), "read");
    assert_int_equal(json_integer_value(json_object_get(op, "output")), 1);
    assert_int_equal(json_integer_value(json_object_get(op, "process")), 2);
    json_t *states = json_object_get(ce, "states");
    assert_int_equal(json_array_size(states), 1);
    assert_int_equal(json_integer_value(json_array_get(states, 0)), 2);
    assert_true(json_integer_value(json_object_get(ce, "prefix_length")) >= 81);
    /* Shrunk to write 1, write 2, read 1: three operations, six events.
     * (Not to a lone "read 1", which is invalid too but blames a missing
     * write: the shrinker keeps the writers of observed values.) */
    json_t *events = json_object_get(json_object_get(ce, "shrunk"), "events");
    assert_int_equal(json_array_size(events), 6);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 5),
                                                        "value")), 1);
    assert_true(json_is_true(json_object_get(json_object_get(ce, "shrunk"), "minimal")));
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(lin_result_explain(r, h, out), FL_OK);
    fclose(out);
    assert_non_null(strstr(text, "cannot take effect"));
    assert_non_null(strstr(text, "Shrunk to 6 events"));
    free(text);
    json_decref(res);
    lin_result_free(r);
    history_free(h);
}

/* The value an invocation at i writes (write v, cas [_ v]), or NULL. */
static const json_t *written_value(const history *h, size_t i)
{
    const history_event *e = &history_events(h)[i];
    const json_t *v = history_value(h, e->value);
    const char *f = history_name(h, e->f);
    if (strcmp(f, "write") == 0)
        return v;
    if (strcmp(f, "cas") == 0)
        return json_array_get(v, 1);
    return NULL;
}

/* The value the op invoked at i observes: an ok read's output, a cas's
 * expected value; NULL for anything else. */
static const json_t *observed_value(const history *h, size_t i)
{
    const history_event *e = &history_events(h)[i];
    const history_event *done = e->pair != HISTORY_NONE ? &history_events(h)[e->pair] : NULL;
    const char *f = history_name(h, e->f);
    if (strcmp(f, "read") == 0)
        return done && done->type == HISTORY_OK ? history_value(h, done->value) : NULL;
    if (strcmp(f, "cas") == 0)
        return json_array_get(history_value(h, e->value), 0);
    return NULL;
}

static bool failed_op(const history *h, size_t i)
{
    const history_event *e = &history_events(h)[i];
    return e->pair != HISTORY_NONE && history_events(h)[e->pair].type == HISTORY_FAIL;
}

/* The witness rule, written out again here, plainly: is the observation of
 * the op invoked at p the initial value, or written by another op (write,
 * cas; not failed) invoked before p completed? */
static bool observation_met(const history *h, const json_t *initial, size_t p)
{
    const json_t *v = observed_value(h, p);
    const history_event *ev = history_events(h);
    if (v == NULL || json_equal(v, initial ? initial : json_null()))
        return true;
    bool ok = ev[p].pair != HISTORY_NONE && ev[ev[p].pair].type == HISTORY_OK;
    size_t deadline = ok ? ev[p].pair : SIZE_MAX;
    for (size_t q = 0; q < history_len(h) && q < deadline; q++)
        if (q != p && ev[q].type == HISTORY_INVOKE && !failed_op(h, q) &&
            written_value(h, q) && json_equal(written_value(h, q), v))
            return true;
    return false;
}

/* Does every unmet observation of sub (a sub-history of h) name an op
 * whose observation is unmet in h too (none could have met it)? With
 * strict, no unmet observation at all. Ops are matched by recorded index. */
static bool meets_rule(const history *h, const history *sub,
                       const json_t *initial, bool strict)
{
    const history_event *es = history_events(sub), *eh = history_events(h);
    for (size_t p = 0; p < history_len(sub); p++) {
        if (es[p].type != HISTORY_INVOKE || failed_op(sub, p) ||
            observation_met(sub, initial, p))
            continue;
        if (strict)
            return false;
        for (size_t q = 0; q < history_len(h); q++)
            if (eh[q].type == HISTORY_INVOKE && eh[q].index == es[p].index &&
                observation_met(h, initial, q))
                return false;
    }
    return true;
}

static checker_verdict verdict_of(const history *h, const lin_options *opt)
{
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, opt, &r, &err), FL_OK);
    checker_verdict v = lin_result_verdict(r);
    lin_result_free(r);
    return v;
}

/* small, shrunk from h, is a witness: invalid, meeting the rule, and
 * 1-minimal under it (dropping any one op makes it linearizable, or
 * unknown, or breaks the rule). */
static void assert_witness(const history *h, const history *small,
                           const lin_options *opt, bool strict)
{
    assert_int_equal(verdict_of(small, opt), CHECKER_INVALID);
    if (!meets_rule(h, small, opt->initial, strict)) {
        history_write_jsonl(small, stderr, &(fl_error){0});
        fail_msg("the shrunk history above is not a witness");
    }
    size_t n = history_len(small);
    const history_event *ev = history_events(small);
    bool *keep = calloc(n + 1, sizeof *keep);
    assert_non_null(keep);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type != HISTORY_INVOKE)
            continue;
        for (size_t j = 0; j < n; j++)
            keep[j] = j != i && ev[j].type == HISTORY_INVOKE;
        history *less = NULL;
        fl_error err = {0};
        assert_int_equal(history_subset(small, keep, &less, &err), FL_OK);
        if (meets_rule(h, less, opt->initial, strict) &&
            verdict_of(less, opt) == CHECKER_INVALID) {
            history_write_jsonl(small, stderr, &err);
            fail_msg("not minimal: op at %zu of the history above can go", i);
        }
        history_free(less);
    }
    free(keep);
}

/* Like mutate(), but the new value is one that some op completed before
 * the observer was invoked writes (a stale read): a violation is then about
 * order, and a witness must keep such a writer, not one invoked too late. */
static void mutate_to_written(gen *g)
{
    gen_op *o = &g->ops[rnd(g, (unsigned)g->nops)];
    int wr[MAX_GEN_OPS], nwr = 0;
    for (int i = 0; i < g->nops; i++)
        if (g->ops[i].kind != R_READ && g->ops[i].outcome != OUT_FAIL &&
            g->ops[i].ret < o->call)
            wr[nwr++] = i;
    if (o->kind == R_WRITE || nwr == 0)
        return; /* left valid: skipped */
    const gen_op *w = &g->ops[wr[rnd(g, (unsigned)nwr)]];
    int v = w->kind == R_WRITE ? w->a : w->b;
    if (o->kind == R_READ)
        o->out = v;
    else
        o->a = v;
}

/* Shrinking thousands of random invalid histories gives witnesses: still
 * invalid, every observed value written by a kept op invoked before the
 * observer completed (unless nothing in the whole history could write it
 * in time), and 1-minimal under that rule. */
static void test_shrink_gives_witnesses(void **state)
{
    (void)state;
    const char *env = getenv("LIN_SHRINK_SEEDS");
    int seeds = env ? atoi(env) : 20000, shrunk = 0, exempt = 0;
    json_t *zero = json_integer(0);
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.initial = zero;
    opt.threads = 1;
    for (int seed = 1; seed <= seeds; seed++) {
        gen g;
        generate(&g, (uint64_t)seed, 4 + seed % (MAX_GEN_OPS - 3));
        if (seed % 2 == 0)
            mutate(&g); /* maybe a value nobody writes */
        else
            mutate_to_written(&g);
        history *h = gen_history(&g), *small = NULL;
        bool minimal = false;
        fl_error err = {0};
        int rc = lin_shrink(h, &opt, &small, &minimal, &err);
        if (rc == FL_EUSAGE) { /* valid: nothing to shrink */
            history_free(h);
            continue;
        }
        assert_int_equal(rc, FL_OK);
        assert_true(minimal);
        assert_witness(h, small, &opt, false);
        exempt += !meets_rule(h, small, opt.initial, true);
        shrunk++;
        history_free(small);
        history_free(h);
    }
    json_decref(zero);
    print_message("%d random invalid histories shrunk to witnesses (%d with "
                  "an observation nothing could meet)\n", shrunk, exempt);
    /* the mutations bite, and often where a writer must be kept in order */
    assert_true(shrunk >= seeds / 10);
    assert_true(shrunk - exempt >= seeds / 50);
}

/* Histories of real invalid raftkv runs (the failing key's sub-history):
 * before the witness rule, each shrank to a lone read or cas whose writer
 * the shrinker had removed. Each must shrink to a witness that needs no
 * exemption. */
static void test_shrink_real_runs(void **state)
{
    (void)state;
    static const char *const runs[] = {
        "tests/data/runs/stale-read-1.jsonl",
        "tests/data/runs/stale-read-2.jsonl",
        "tests/data/runs/early-ack-1.jsonl",
        "tests/data/runs/early-ack-2.jsonl",
    };
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = 1;
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        history *h = NULL, *small = NULL;
        bool minimal = false;
        fl_error err = {0};
        if (history_read_file(runs[i], HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
            fail_msg("%s", err.msg);
        assert_int_equal(lin_shrink(h, &opt, &small, &minimal, &err), FL_OK);
        assert_true(minimal);
        assert_witness(h, small, &opt, true);
        print_message("%s: %zu events shrunk to %zu\n", runs[i], history_len(h),
                      history_len(small));
        history_free(small);
        history_free(h);
    }
}

/* ---- kv-append witnesses ------------------------------------------------------------ */

/* Can s be cut into pieces[] each used at most once? Exhaustive. */
static bool kv_cut(const char *s, const char *const *pieces, size_t n, bool *used)
{
    if (*s == '\0')
        return true;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(pieces[i]);
        if (used[i] || len == 0 || strncmp(s, pieces[i], len) != 0)
            continue;
        used[i] = true;
        bool ok = kv_cut(s + len, pieces, n, used);
        used[i] = false;
        if (ok)
            return true;
    }
    return false;
}

/* The kv-append witness rule, written out again here, plainly: an ok get
 * of g invoked at p (anything else passes) is explained when g is the
 * initial string, or a put's value, followed by the values of distinct
 * appends, all on its key, not failed, invoked before p completed. */
static bool kv_get_explained(const history *h, const char *initial, size_t p)
{
    const history_event *ev = history_events(h);
    if (strcmp(history_name(h, ev[p].f), "get") != 0 || ev[p].pair == HISTORY_NONE ||
        ev[ev[p].pair].type != HISTORY_OK)
        return true;
    const char *g = json_string_value(history_value(h, ev[ev[p].pair].value));
    const char *bases[64] = {initial}, *pieces[64];
    size_t nb = 1, np = 0;
    for (size_t q = 0; q < ev[p].pair && nb < 64 && np < 64; q++) {
        if (q == p || ev[q].type != HISTORY_INVOKE || ev[q].key != ev[p].key ||
            failed_op(h, q))
            continue;
        const char *f = history_name(h, ev[q].f);
        const char *v = json_string_value(history_value(h, ev[q].value));
        if (strcmp(f, "put") == 0)
            bases[nb++] = v;
        else if (strcmp(f, "append") == 0)
            pieces[np++] = v;
    }
    bool used[64] = {0};
    for (size_t b = 0; b < nb; b++)
        if (strncmp(g, bases[b], strlen(bases[b])) == 0 &&
            kv_cut(g + strlen(bases[b]), pieces, np, used))
            return true;
    return false;
}

/* As meets_rule(), for kv-append: every unexplained get of sub is one
 * that h, all of it, does not explain either (none with strict). */
static bool kv_meets_rule(const history *h, const history *sub,
                          const char *initial, bool strict)
{
    const history_event *es = history_events(sub), *eh = history_events(h);
    for (size_t p = 0; p < history_len(sub); p++) {
        if (es[p].type != HISTORY_INVOKE || kv_get_explained(sub, initial, p))
            continue;
        if (strict)
            return false;
        for (size_t q = 0; q < history_len(h); q++)
            if (eh[q].type == HISTORY_INVOKE && eh[q].index == es[p].index &&
                kv_get_explained(h, initial, q))
                return false;
    }
    return true;
}

/* As assert_witness(), under the kv-append rule. */
static void kv_assert_witness(const history *h, const history *small,
                              const lin_options *opt, bool strict)
{
    assert_int_equal(verdict_of(small, opt), CHECKER_INVALID);
    if (!kv_meets_rule(h, small, "", strict)) {
        history_write_jsonl(small, stderr, &(fl_error){0});
        fail_msg("the shrunk history above is not a witness");
    }
    size_t n = history_len(small);
    const history_event *ev = history_events(small);
    bool *keep = calloc(n + 1, sizeof *keep);
    assert_non_null(keep);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type != HISTORY_INVOKE)
            continue;
        for (size_t j = 0; j < n; j++)
            keep[j] = j != i && ev[j].type == HISTORY_INVOKE;
        history *less = NULL;
        fl_error err = {0};
        assert_int_equal(history_subset(small, keep, &less, &err), FL_OK);
        if (kv_meets_rule(h, less, "", strict) &&
            verdict_of(less, opt) == CHECKER_INVALID) {
            history_write_jsonl(small, stderr, &err);
            fail_msg("not minimal: op at %zu of the history above can go", i);
        }
        history_free(less);
    }
    free(keep);
}

/* A stale get: its output becomes one an earlier get, completed before it
 * was invoked, returned, so the violation is about order and a witness must
 * keep the put and appends that made the old string. */
static void kv_mutate_stale(kv_gen *g, uint64_t seed)
{
    gen r = {.rng = seed * 0x9e3779b97f4a7c15ull + 1};
    int pick[MAX_GEN_OPS * MAX_GEN_OPS][2], n = 0;
    for (int i = 0; i < g->nops; i++)
        for (int j = 0; j < g->nops; j++)
            if (g->ops[i].kind == 0 && g->ops[j].kind == 0 &&
                g->ops[j].outcome == OUT_OK && g->ops[j].ret < g->ops[i].call &&
                strcmp(g->ops[j].out, g->ops[i].out) != 0)
                pick[n][0] = i, pick[n][1] = j, n++;
    if (n == 0)
        return; /* left valid: skipped */
    int k = (int)rnd(&r, (unsigned)n);
    strcpy(g->ops[pick[k][0]].out, g->ops[pick[k][1]].out);
}

/* Shrinking thousands of random invalid kv-append histories gives
 * witnesses: still invalid, every kept get's string made by kept ops on its
 * key invoked before it completed (unless the whole history cannot make
 * it), and 1-minimal under that rule. */
static void test_kv_shrink_gives_witnesses(void **state)
{
    (void)state;
    const char *env = getenv("LIN_SHRINK_SEEDS");
    int seeds = env ? atoi(env) : 20000, shrunk = 0, exempt = 0;
    json_t *empty = json_string("");
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("kv-append");
    opt.initial = empty;
    opt.threads = 1;
    for (int seed = 1; seed <= seeds; seed++) {
        kv_gen g;
        kv_generate(&g, (uint64_t)seed, 3 + seed % (MAX_GEN_OPS - 2));
        if (seed % 2 == 1)
            kv_mutate_stale(&g, (uint64_t)seed); /* even seeds: mutated already */
        history *h = kv_gen_history(&g), *small = NULL;
        bool minimal = false;
        fl_error err = {0};
        int rc = lin_shrink(h, &opt, &small, &minimal, &err);
        if (rc == FL_EUSAGE) { /* valid: nothing to shrink */
            history_free(h);
            continue;
        }
        assert_int_equal(rc, FL_OK);
        assert_true(minimal);
        kv_assert_witness(h, small, &opt, false);
        exempt += !kv_meets_rule(h, small, "", true);
        shrunk++;
        history_free(small);
        history_free(h);
    }
    json_decref(empty);
    print_message("%d random invalid kv histories shrunk to witnesses (%d with "
                  "a get nothing could explain)\n", shrunk, exempt);
    assert_true(shrunk >= seeds / 10);
    assert_true(shrunk - exempt >= seeds / 50);
}

/* The shrunk view of a corpus history's counterexample, as faultline check
 * --explain prints it: the invocations' recorded indexes. */
static size_t kv_corpus_shrunk(const char *name, int64_t *index, size_t cap,
                               history **whole, history **small)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/corpus/kv/%s", shared_dir(), name);
    fl_error err = {0};
    if (history_read_file(path, HISTORY_FORMAT_UNKNOWN, whole, &err) != FL_OK) {
        print_message("skipped: %s (set SHARED)\n", err.msg);
        skip();
    }
    json_t *empty = json_string("");
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("kv-append");
    opt.initial = empty;
    opt.threads = 1;
    opt.shrink = true;
    lin_result *r = NULL;
    assert_int_equal(lin_check(*whole, &opt, &r, &err), FL_OK);
    json_t *res = lin_result_to_json(r, *whole);
    json_t *shrunk = json_object_get(json_object_get(res, "counterexample"), "shrunk");
    assert_true(json_is_true(json_object_get(shrunk, "minimal")));
    FILE *in = NULL;
    size_t n = 0, len = 0;
    char *lines = NULL;
    FILE *out = open_memstream(&lines, &len);
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(shrunk, "events"), i, e) {
        char *line = json_dumps(e, 0);
        fprintf(out, "%s\n", line);
        free(line);
        if (strcmp(json_string_value(json_object_get(e, "type")), "invoke") == 0 &&
            n < cap)
            index[n++] = json_integer_value(json_object_get(e, "index"));
    }
    fclose(out);
    in = fmemopen(lines, len, "r");
    assert_int_equal(history_read_jsonl(in, name, small, &err), FL_OK);
    fclose(in);
    free(lines);
    json_decref(res);
    lin_result_free(r);
    json_decref(empty);
    return n;
}

/* Before the kv-append rule both shrank to a lone get of a string no kept
 * op wrote. Now: c01-bad keeps the two appends and the get that missed the
 * second; c10-bad the four appends and the get that missed the fourth. */
static void test_kv_shrink_corpus(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t n;
        int64_t index[8];
    } want[] = {
        {"c01-bad.jsonl", 3, {36, 54, 58}},
        {"c10-bad.jsonl", 5, {0, 2, 17, 81, 157}},
    };
    json_t *empty = json_string("");
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("kv-append");
    opt.initial = empty;
    opt.threads = 1;
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        int64_t index[64];
        history *h = NULL, *small = NULL;
        size_t n = kv_corpus_shrunk(want[w].name, index, 64, &h, &small);
        if (n != want[w].n)
            fail_msg("%s: shrunk to %zu operations, want %zu", want[w].name, n,
                     want[w].n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(index[i], want[w].index[i]);
        assert_true(kv_meets_rule(small, small, "", true));
        assert_int_equal(verdict_of(small, &opt), CHECKER_INVALID);
        print_message("%s: shrunk to %zu operations, each get explained\n",
                      want[w].name, n);
        history_free(small);
        history_free(h);
    }
    json_decref(empty);
}

/* ---- budgets ---------------------------------------------------------------------- */

/* Many concurrent appends with no read between them: every order is a
 * different string, so the search space is factorial. A put that never
 * completes, of a prefix of the string the get shows, could reset the
 * string at any point, which keeps the lookahead from cutting the search
 * short (one of another string cannot lead to the get's: it does). */
static history *hard_history(void)
{
    char *text = malloc(1 << 16), *p = text;
    p += sprintf(p, "30 invoke put \"im\" @k\n");
    for (int i = 0; i < 12; i++)
        p += sprintf(p, "%d invoke append \"%c\" @k\n", i, 'a' + i);
    for (int i = 0; i < 12; i++)
        p += sprintf(p, "%d ok append \"%c\" @k\n", i, 'a' + i);
    p += sprintf(p, "20 invoke get null @k\n20 ok get \"impossible\" @k\n");
    history *h = parse(text);
    free(text);
    return h;
}

static void test_budgets_give_unknown(void **state)
{
    (void)state;
    history *h = hard_history();
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("kv-append");
    opt.threads = 1;
    opt.memory_limit_mb = 4;
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
    assert_int_equal(lin_result_verdict(r), CHECKER_UNKNOWN);
    json_t *res = lin_result_to_json(r, h);
    json_t *k = json_object_get(json_object_get(res, "per_key"), "k");
    assert_string_equal(json_string_value(json_object_get(k, "valid")), "unknown");
    assert_non_null(strstr(json_string_value(json_object_get(k, "reason")),
                           "memory limit"));
    json_decref(res);
    lin_result_free(r);

    opt.memory_limit_mb = 0;
    opt.time_limit_s = 0.05;
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
    assert_int_equal(lin_result_verdict(r), CHECKER_UNKNOWN);
    res = lin_result_to_json(r, h);
    k = json_object_get(json_object_get(res, "per_key"), "k");
    assert_non_null(strstr(json_string_value(json_object_get(k, "reason")),
                           "time limit"));
    json_decref(res);
    lin_result_free(r);
    history_free(h);
}

/* n writes that never complete, of values i % values, then reads by other
 * processes returning `read` each (reads 0: none) — Jepsen's register
 * workload against a database that stopped answering writes. */
static history *never_completing_writes(int n, int values, int reads,
                                        const int *read)
{
    char *text = malloc((size_t)(n + 2 * reads) * 48 + 1), *p = text;
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%d invoke write %d\n", i, values ? i % values : i);
    for (int i = 0; i < reads; i++)
        p += sprintf(p, "%d invoke read null\n", n + i);
    for (int i = 0; i < reads; i++)
        p += sprintf(p, "%d ok read %d\n", n + i, read[i]);
    *p = '\0';
    history *h = parse(text);
    free(text);
    return h;
}

static json_t *lin_json(const history *h, const lin_options *opt)
{
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, opt, &r, &err), FL_OK);
    json_t *res = lin_result_to_json(r, h);
    lin_result_free(r);
    return res;
}

/* Of the never-completing writes of a value k ops observe, only the k
 * invoked first are searched: 20,000 of them and one read is a search of
 * two ops, not a quadratic one, and the verdicts stay right. */
static void test_never_completing_writes_are_cut(void **state)
{
    (void)state;
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = 1;
    int three = 3, seven = 7;
    history *h = never_completing_writes(20000, 5, 1, &three);
    json_t *res = lin_json(h, &opt);
    assert_true(json_is_true(json_object_get(res, "valid")));
    json_t *k = json_object_get(json_object_get(res, "per_key"), "*");
    assert_int_equal(json_integer_value(json_object_get(k, "ops")), 2);
    json_decref(res);
    history_free(h);

    h = never_completing_writes(20000, 5, 1, &seven); /* nothing wrote 7 */
    res = lin_json(h, &opt);
    assert_true(json_is_false(json_object_get(res, "valid")));
    json_decref(res);
    history_free(h);

    /* two reads of 3 need two writes of it, and there are 4,000 */
    int both[2] = {3, 3};
    h = never_completing_writes(20000, 5, 2, both);
    res = lin_json(h, &opt);
    assert_true(json_is_true(json_object_get(res, "valid")));
    k = json_object_get(json_object_get(res, "per_key"), "*");
    assert_int_equal(json_integer_value(json_object_get(k, "ops")), 4);
    json_decref(res);
    history_free(h);
}

/* The same shape where nothing can be cut (unique values, each read once,
 * the fast path off): each step of the search walks the whole list, and a
 * small budget still ends it "unknown" for time. */
static void test_budget_met_on_long_steps(void **state)
{
    (void)state;
    enum { N = 20000 };
    int *reads = malloc(N * sizeof *reads);
    for (int i = 0; i < N; i++)
        reads[i] = N - 1 - i;
    history *h = never_completing_writes(N, 0, N, reads);
    free(reads);
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = 1;
    opt.no_fast_path = true;
    opt.time_limit_s = 0.05;
    json_t *res = lin_json(h, &opt);
    assert_string_equal(json_string_value(json_object_get(res, "valid")), "unknown");
    json_t *k = json_object_get(json_object_get(res, "per_key"), "*");
    assert_non_null(strstr(json_string_value(json_object_get(k, "reason")),
                           "time limit"));
    json_decref(res);
    history_free(h);
}

static history *read_jsonl_text(const char *text)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    history *h = NULL;
    fl_error err = {0};
    if (history_read_jsonl(in, "test", &h, &err) != FL_OK)
        fail_msg("%s", err.msg);
    fclose(in);
    return h;
}

/* Integer key 1, string key "1" and string key "*" are three keys, and
 * per_key names each apart: 1 -> "1", "1" -> "\"1\"", "*" -> "\"*\"". */
static void test_per_key_names_types_apart(void **state)
{
    (void)state;
    history *h = read_jsonl_text(
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":1,\"value\":5}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":1,\"value\":5}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"1\",\"value\":null}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"1\",\"value\":5}\n"
        "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"*\",\"value\":null}\n"
        "{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"key\":\"*\",\"value\":null}\n"
        "{\"process\":3,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":null}\n"
        "{\"process\":3,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":null}\n");
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("register");
    opt.threads = 1;
    opt.all_keys = true;
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
    assert_int_equal(lin_result_verdict(r), CHECKER_INVALID);
    json_t *res = lin_result_to_json(r, h);
    json_t *per_key = json_object_get(res, "per_key");
    assert_int_equal(json_object_size(per_key), 4);
    assert_true(json_is_true(json_object_get(json_object_get(per_key, "1"), "valid")));
    assert_true(json_is_false(json_object_get(json_object_get(per_key, "\"1\""), "valid")));
    assert_true(json_is_true(json_object_get(json_object_get(per_key, "\"*\""), "valid")));
    assert_true(json_is_true(json_object_get(json_object_get(per_key, "k"), "valid")));
    json_decref(res);
    lin_result_free(r);
    history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_per_key_names_types_apart),
        cmocka_unit_test(test_cas_register),
        cmocka_unit_test(test_info_semantics),
        cmocka_unit_test(test_nil_reads_unknown),
        cmocka_unit_test(test_mutex),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_fifo_queue),
        cmocka_unit_test(test_counter),
        cmocka_unit_test(test_kv_append),
        cmocka_unit_test(test_corpus_verdicts),
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_kv_random_against_brute_force),
        cmocka_unit_test(test_counterexample_and_shrink),
        cmocka_unit_test(test_shrink_gives_witnesses),
        cmocka_unit_test(test_shrink_real_runs),
        cmocka_unit_test(test_kv_shrink_gives_witnesses),
        cmocka_unit_test(test_kv_shrink_corpus),
        cmocka_unit_test(test_budgets_give_unknown),
        cmocka_unit_test(test_never_completing_writes_are_cut),
        cmocka_unit_test(test_budget_met_on_long_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
