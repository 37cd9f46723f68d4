/*
 * Tests of the transactional checker (checkers/elle.h): each anomaly on a
 * hand-made history, bad input, and agreement with a brute-force oracle
 * (every serial order of the committed transactions, with or without
 * real time) on thousands of small histories from the simulated databases
 * of workloads/txn_sim.h, plain and with one read corrupted.
 *
 * The directions tested (elle.h, "Sound, not complete"):
 *   always           elle rules a model out => the oracle finds no order;
 *   list-append, every write read, no info:  the oracle finds no order =>
 *                    elle rules the model out;
 *   otherwise        the misses are counted and printed, not asserted.
 * And at scale: a database's histories never show what its level forbids.
 * ELLE_DUMP=FILE keeps the history of a failed agreement case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/rng.h"
#include "checkers/checker.h"
#include "checkers/elle.h"
#include "workloads/txn.h"
#include "workloads/txn_sim.h"
#include "workloads/workload.h"

/* ---- building histories ---------------------------------------------------------- */

static void ev(history *h, int64_t p, history_type type, const char *value)
{
    fl_error err = {0};
    json_error_t jerr;
    json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON %s: %s", value, jerr.text);
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                        .process = p, .type = type, .f = "txn", .value = v};
    if (history_append(h, &in, &err) != FL_OK)
        fail_msg("append: %s", err.msg);
    json_decref(v);
}

/* One whole transaction: invoke (reads null), then its completion. */
static void txn(history *h, int64_t p, history_type type, const char *done)
{
    json_t *v = json_loads(done, 0, NULL);
    assert_non_null(v);
    json_t *inv = json_deep_copy(v);
    size_t i;
    json_t *m;
    json_array_foreach(inv, i, m)
        if (strcmp(json_string_value(json_array_get(m, 0)), "r") == 0)
            json_array_set_new(m, 2, json_null());
    char *s = json_dumps(inv, 0);
    ev(h, p, HISTORY_INVOKE, s);
    ev(h, p, type, type == HISTORY_OK ? done : s);
    free(s);
    json_decref(v);
    json_decref(inv);
}

static elle_result *check(const history *h)
{
    elle_result *r = NULL;
    fl_error err = {0};
    if (elle_check(h, &r, &err) != FL_OK)
        fail_msg("elle_check: %s", err.msg);
    return r;
}

static size_t count(const elle_result *r, elle_anomaly a)
{
    return elle_result_summary(r)->count[a];
}

/* ---- hand-made anomalies --------------------------------------------------------- */

/*
 * One hand-made history per case, as steps "K P VALUE": K is i (invoke),
 * o (ok), f (fail) for one event of process P, or t / x for a whole
 * transaction (invoked with null reads, then ok / fail). `counts` names
 * the anomalies found and how often ("G1a=1 G1b=1", "" for none), `valid`
 * the verdict per model, strongest first (strict-serializable ...
 * read-uncommitted): V valid, I invalid.
 */
typedef struct hand_case {
    const char *name;
    const char *steps[10];
    const char *counts;
    const char *valid;
} hand_case;

static const hand_case hand_cases[] = {
    {"a serial history",
     {"t 0 [[\"append\",1,1],[\"r\",2,null]]",
      "t 1 [[\"r\",1,[1]],[\"append\",2,1]]",
      "t 0 [[\"r\",1,[1]],[\"r\",2,[1]]]"}, "", "VVVVVV"},
    {"aborted and intermediate reads",
     {"x 0 [[\"append\",1,1]]", "t 1 [[\"append\",2,1],[\"append\",2,2]]",
      "t 2 [[\"r\",1,[1]],[\"r\",2,[1]]]"}, "G1a=1 G1b=1", "IIIIIV"},
    {"circular information flow",
     {"i 0 [[\"append\",1,1],[\"r\",2,null]]",
      "i 1 [[\"append\",2,1],[\"r\",1,null]]",
      "o 0 [[\"append\",1,1],[\"r\",2,[1]]]",
      "o 1 [[\"append\",2,1],[\"r\",1,[1]]]"}, "G1c=1", "IIIIIV"},
    {"read skew, the missed append never read: unseen",
     {"t 0 [[\"append\",1,1],[\"append\",2,1]]",
      "i 1 [[\"r\",1,null],[\"r\",2,null]]",
      "t 2 [[\"append\",1,2],[\"append\",2,2]]",
      "o 1 [[\"r\",1,[1]],[\"r\",2,[1,2]]]"}, "", "VVVVVV"},
    {"read skew, the missed append read later",
     {"t 0 [[\"append\",1,1],[\"append\",2,1]]",
      "i 1 [[\"r\",1,null],[\"r\",2,null]]",
      "t 2 [[\"append\",1,2],[\"append\",2,2]]",
      "o 1 [[\"r\",1,[1]],[\"r\",2,[1,2]]]", "t 0 [[\"r\",1,[1,2]]]"},
     "G-single=1", "IIIIVV"},
    {"write skew",
     {"i 1 [[\"r\",1,null],[\"append\",2,1]]",
      "i 2 [[\"r\",2,null],[\"append\",1,1]]",
      "o 1 [[\"r\",1,[]],[\"append\",2,1]]",
      "o 2 [[\"r\",2,[]],[\"append\",1,1]]",
      "t 3 [[\"r\",1,[1]],[\"r\",2,[1]]]"}, "G2-item=1", "IIVIVV"},
    {"a stale read: a cycle through real time",
     {"t 0 [[\"append\",1,1]]", "t 1 [[\"r\",1,[]]]", "t 2 [[\"r\",1,[1]]]"},
     "G-single-realtime=1", "IVVVVV"},
    {"internal, garbage, duplicate, incompatible",
     {"t 0 [[\"append\",1,1],[\"r\",1,[]]]", "t 0 [[\"r\",2,[9]]]",
      "t 0 [[\"append\",3,1]]", "t 1 [[\"append\",3,1]]",
      "t 0 [[\"append\",4,1]]", "t 0 [[\"append\",4,2]]",
      "t 0 [[\"r\",4,[1,2]]]", "t 1 [[\"r\",4,[2]]]"},
     "internal=1 garbage=1 duplicate=1 incompatible-order=1", "IIIIII"},
    {"rw-register: write skew and an aborted read",
     {"i 1 [[\"r\",1,null],[\"w\",2,1]]", "i 2 [[\"r\",2,null],[\"w\",1,1]]",
      "o 1 [[\"r\",1,null],[\"w\",2,1]]", "o 2 [[\"r\",2,null],[\"w\",1,1]]",
      "x 3 [[\"w\",3,5]]", "t 3 [[\"r\",3,5]]"}, "G1a=1 G2-item=1", "IIIIIV"},
};

static history *hand_history(const hand_case *c)
{
    history *h = history_new();
    for (size_t i = 0; i < 10 && c->steps[i]; i++) {
        char k;
        int p, n;
        if (sscanf(c->steps[i], "%c %d %n", &k, &p, &n) != 2)
            fail_msg("%s: bad step %s", c->name, c->steps[i]);
        const char *v = c->steps[i] + n;
        if (k == 't' || k == 'x')
            txn(h, p, k == 't' ? HISTORY_OK : HISTORY_FAIL, v);
        else
            ev(h, p, k == 'i' ? HISTORY_INVOKE : k == 'o' ? HISTORY_OK
                                                          : HISTORY_FAIL, v);
    }
    return h;
}

static void test_hand_made_anomalies(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hand_cases / sizeof *hand_cases; i++) {
        const hand_case *c = &hand_cases[i];
        history *h = hand_history(c);
        elle_result *r = check(h);
        char got[256] = "";
        for (int a = 0; a < ELLE_N_ANOMALIES; a++)
            if (count(r, (elle_anomaly)a))
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s=%zu",
                         got[0] ? " " : "", elle_anomaly_name((elle_anomaly)a),
                         count(r, (elle_anomaly)a));
        char valid[ELLE_N_MODELS + 1] = "";
        for (int m = 0; m < ELLE_N_MODELS; m++)
            valid[m] = elle_valid(r, (elle_model)m) ? 'V' : 'I';
        if (strcmp(got, c->counts) != 0 || strcmp(valid, c->valid) != 0)
            fail_msg("%s: found \"%s\", verdicts %s; wanted \"%s\", %s",
                     c->name, got, valid, c->counts, c->valid);
        elle_result_free(r);
        history_free(h);
    }
}

static void test_g0_write_cycle(void **state)
{
    (void)state;
    history *h = history_new();
    /* x: 1 (T1) before 2 (T2); y: 2 (T2) before 1 (T1) */
    ev(h, 0, HISTORY_INVOKE, "[[\"append\",\"x\",1],[\"append\",\"y\",1]]");
    ev(h, 1, HISTORY_INVOKE, "[[\"append\",\"x\",2],[\"append\",\"y\",2]]");
    ev(h, 0, HISTORY_OK, "[[\"append\",\"x\",1],[\"append\",\"y\",1]]");
    ev(h, 1, HISTORY_OK, "[[\"append\",\"x\",2],[\"append\",\"y\",2]]");
    txn(h, 2, HISTORY_OK, "[[\"r\",\"x\",[1,2]],[\"r\",\"y\",[2,1]]]");
    elle_result *r = check(h);
    assert_int_equal(count(r, ELLE_G0), 1);
    for (int m = 0; m < ELLE_N_MODELS; m++)
        assert_false(elle_valid(r, (elle_model)m));
    json_t *j = elle_result_json(r, h, ELLE_READ_UNCOMMITTED);
    const char *why = json_string_value(json_object_get(json_array_get(
        json_object_get(json_object_get(j, "anomalies"), "G0"), 0),
        "explanation"));
    assert_non_null(strstr(why, "T0 appended 1 to \"x\", and T1 appended 2 "
                                "right after it (ww)"));
    assert_non_null(strstr(why, "hence T"));
    assert_string_equal(json_string_value(json_object_get(j, "weakest_anomaly")),
                        "G0");
    /* the figure: two transactions, two ww arrows */
    const char *svg = json_string_value(json_object_get(json_array_get(
        json_object_get(json_object_get(j, "anomalies"), "G0"), 0), "svg"));
    assert_non_null(svg);
    size_t circles = 0, arrows = 0;
    for (const char *p = svg; (p = strstr(p, "<circle")); p++)
        circles++;
    for (const char *p = svg; (p = strstr(p, ">ww</text>")); p++)
        arrows++;
    assert_int_equal(circles, 2);
    assert_int_equal(arrows, 2);
    json_decref(j);
    elle_result_free(r);
    history_free(h);
}

static void test_bad_shapes_name_the_event(void **state)
{
    (void)state;
    const char *bad[] = {
        "[[\"append\",1]]", "[[\"incr\",1,1]]", "[[\"append\",[1],1]]",
        "[[\"append\",1,\"a\"]]", "5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        history *h = history_new();
        ev(h, 0, HISTORY_INVOKE, bad[i]);
        ev(h, 0, HISTORY_OK, bad[i]);
        elle_result *r = NULL;
        fl_error err = {0};
        assert_int_equal(elle_check(h, &r, &err), FL_EDATA);
        assert_non_null(strstr(err.msg, "event 1"));
        assert_null(r);
        history_free(h);
    }
    history *h = history_new();
    txn(h, 0, HISTORY_OK, "[[\"append\",1,1]]");
    txn(h, 0, HISTORY_OK, "[[\"w\",1,1]]");
    elle_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(elle_check(h, &r, &err), FL_EDATA);
    assert_non_null(strstr(err.msg, "rw-register"));
    history_free(h);
}

static void test_registry_and_model_option(void **state)
{
    (void)state;
    history *h = history_new();
    ev(h, 1, HISTORY_INVOKE, "[[\"r\",1,null],[\"append\",2,1]]");
    ev(h, 2, HISTORY_INVOKE, "[[\"r\",2,null],[\"append\",1,1]]");
    ev(h, 1, HISTORY_OK, "[[\"r\",1,[]],[\"append\",2,1]]");
    ev(h, 2, HISTORY_OK, "[[\"r\",2,[]],[\"append\",1,1]]");
    txn(h, 3, HISTORY_OK, "[[\"r\",1,[1]],[\"r\",2,[1]]]");
    const checker *c;
    fl_error err = {0};
    assert_int_equal(checker_find("elle", &c, &err), FL_OK);
    checker_options opt;
    checker_options_init(&opt);
    checker_result *res;
    assert_int_equal(checker_check(c, h, &opt, &res, &err), FL_OK);
    assert_int_equal(checker_result_verdict(res), CHECKER_INVALID);
    checker_result_free(res);
    opt.isolation = "snapshot-isolation";
    assert_int_equal(checker_check(c, h, &opt, &res, &err), FL_OK);
    assert_int_equal(checker_result_verdict(res), CHECKER_VALID);
    checker_result_free(res);
    opt.isolation = "linearizable";
    assert_int_equal(checker_check(c, h, &opt, &res, &err), FL_EUSAGE);
    history_free(h);
}

/* ---- the oracle ---------------------------------------------------------------------- */

#define OK_KEYS 16
#define OK_LEN 32
#define OK_TXNS 12

typedef struct otxn {
    int status;                 /* 0 ok, 1 fail, 2 info */
    size_t inv, done;           /* positions; done SIZE_MAX if none */
    const json_t *mops;
} otxn;

typedef struct ostate {
    int64_t v[OK_KEYS][OK_LEN]; /* list-append: the lists; register: v[k][0] */
    int len[OK_KEYS];           /* register: 0 = null */
} ostate;

typedef struct oracle {
    otxn t[OK_TXNS];
    size_t n;
    bool list_append, strict;
    long steps;
} oracle;

/* Apply t to s, checking its reads (an ok txn's); false on a mismatch. */
static bool apply_txn(const oracle *o, const otxn *t, ostate *s)
{
    size_t i;
    const json_t *m;
    json_array_foreach(t->mops, i, m) {
        const char *f = json_string_value(json_array_get(m, 0));
        int k = (int)json_integer_value(json_array_get(m, 1));
        const json_t *x = json_array_get(m, 2);
        assert_true(k >= 0 && k < OK_KEYS);
        if (f[0] == 'a') {
            assert_true(s->len[k] < OK_LEN);
            s->v[k][s->len[k]++] = json_integer_value(x);
        } else if (f[0] == 'w') {
            s->v[k][0] = json_integer_value(x);
            s->len[k] = 1;
        } else if (t->status == 0 && o->list_append) {
            if (json_is_null(x))
                continue;
            if ((int)json_array_size(x) != s->len[k])
                return false;
            for (int j = 0; j < s->len[k]; j++)
                if (json_integer_value(json_array_get(x, (size_t)j)) != s->v[k][j])
                    return false;
        } else if (t->status == 0) {
            if (json_is_null(x) ? s->len[k] != 0
                                : s->len[k] == 0 ||
                                      s->v[k][0] != json_integer_value(x))
                return false;
        }
    }
    return true;
}

static bool search_order(oracle *o, unsigned placed, const ostate *s)
{
    o->steps++;
    bool all = true;
    for (size_t i = 0; i < o->n; i++)
        all &= o->t[i].status != 0 || (placed >> i & 1);
    if (all)
        return true;
    for (size_t i = 0; i < o->n; i++) {
        if ((placed >> i & 1) || o->t[i].status == 1)
            continue;
        bool ready = true;
        for (size_t j = 0; o->strict && j < o->n; j++)
            ready &= (placed >> j & 1) || o->t[j].done == SIZE_MAX ||
                     o->t[j].status != 0 || o->t[j].done > o->t[i].inv;
        if (!ready)
            continue;
        ostate next = *s;
        if (apply_txn(o, &o->t[i], &next) &&
            search_order(o, placed | 1u << i, &next))
            return true;
    }
    return false;
}

/* Whether some serial order (respecting real time if strict) of the ok
 * txns and any of the info ones explains every ok read. */
static bool oracle_ok(const history *h, bool strict, bool list_append)
{
    oracle o = {.strict = strict, .list_append = list_append};
    const history_event *e = history_events(h);
    for (size_t i = 0; i < history_len(h); i++) {
        if (e[i].type != HISTORY_INVOKE)
            continue;
        assert_true(o.n < OK_TXNS);
        otxn *t = &o.t[o.n++];
        const history_event *d = e[i].pair != HISTORY_NONE ? &e[e[i].pair] : NULL;
        t->status = d == NULL || d->type == HISTORY_INFO ? 2
                  : d->type == HISTORY_FAIL              ? 1
                                                         : 0;
        t->inv = i;
        t->done = d ? e[i].pair : SIZE_MAX;
        t->mops = history_value(h, t->status == 0 ? d->value : e[i].value);
    }
    ostate s;
    memset(&s, 0, sizeof s);
    return search_order(&o, 0, &s);
}

/* Whether every append of an ok txn appears in some ok read. */
static bool every_write_read(const history *h)
{
    const history_event *e = history_events(h);
    for (size_t i = 0; i < history_len(h); i++) {
        if (e[i].type != HISTORY_OK)
            continue;
        size_t j;
        const json_t *m;
        json_array_foreach(history_value(h, e[i].value), j, m) {
            if (strcmp(json_string_value(json_array_get(m, 0)), "append") != 0)
                continue;
            bool seen = false;
            for (size_t a = 0; a < history_len(h) && !seen; a++) {
                size_t b;
                const json_t *x;
                if (e[a].type != HISTORY_OK)
                    continue;
                json_array_foreach(history_value(h, e[a].value), b, x) {
                    const json_t *l = json_array_get(x, 2);
                    for (size_t c = 0; json_is_array(l) && c < json_array_size(l); c++)
                        seen |= json_equal(json_array_get(x, 1), json_array_get(m, 1)) &&
                                json_equal(json_array_get(l, c), json_array_get(m, 2));
                }
            }
            if (!seen)
                return false;
        }
    }
    return true;
}

/* h with one ok read changed (dropped element, or another value): a
 * history no database gave, to reach the anomalies the simulator never
 * makes. */
static history *corrupt(const history *h, fl_rng *rng)
{
    const history_event *e = history_events(h);
    size_t n = history_len(h), pick = SIZE_MAX, seen = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].type == HISTORY_OK && fl_rng_below(rng, ++seen) == 0)
            pick = i;
    history *out = history_new();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_deep_copy(history_value(h, e[i].value));
        if (i == pick) {
            size_t j;
            json_t *m;
            json_array_foreach(v, j, m) {
                json_t *x = json_array_get(m, 2);
                if (strcmp(json_string_value(json_array_get(m, 0)), "r") != 0)
                    continue;
                if (json_is_array(x) && json_array_size(x) > 0) {
                    size_t at = fl_rng_below(rng, json_array_size(x));
                    if (fl_rng_below(rng, 2))
                        json_array_remove(x, at);
                    else
                        json_array_set_new(x, at, json_integer(
                            fl_rng_range(rng, 1, 4)));
                } else {
                    json_array_set_new(m, 2, json_is_array(x)
                        ? json_pack("[I]", (json_int_t)fl_rng_range(rng, 1, 3))
                        : json_integer(fl_rng_range(rng, 1, 3)));
                }
                break;
            }
        }
        history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                            .process = e[i].process, .type = e[i].type,
                            .f = "txn", .value = v};
        fl_error err = {0};
        if (history_append(out, &in, &err) != FL_OK)
            fail_msg("corrupt: %s", err.msg);
        json_decref(v);
    }
    return out;
}

static void test_oracle_agreement(void **state)
{
    (void)state;
    long sound_checks = 0, rejected = 0, exact_checks = 0, missed = 0,
         flagged = 0;
    const long seeds = 4000;
    for (long seed = 0; seed < seeds; seed++) {
        fl_rng rng;
        fl_rng_seed(&rng, (uint64_t)seed * 7919 + 1);
        txn_sim_options o = {
            .txns = 3 + fl_rng_below(&rng, 5),
            .processes = 2 + fl_rng_below(&rng, 2),
            .keys = 2 + fl_rng_below(&rng, 2),
            .max_mops = 1 + fl_rng_below(&rng, 3),
            .info_rate = fl_rng_below(&rng, 3) == 0 ? 0.2 : 0,
            .list_append = fl_rng_below(&rng, 4) != 0,
            .final_read = fl_rng_below(&rng, 3) != 0,
            .level = (txn_sim_level)fl_rng_below(&rng, 3),
            .seed = (uint64_t)seed,
        };
        history *h = NULL;
        fl_error err = {0};
        assert_int_equal(txn_sim_generate(&o, &h, &err), FL_OK);
        if (fl_rng_below(&rng, 3) == 0) {
            history *c = corrupt(h, &rng);
            history_free(h);
            h = c;
        }
        elle_result *r = check(h);
        bool info = false;
        for (size_t i = 0; i < history_len(h); i++)
            info |= history_events(h)[i].type == HISTORY_INFO;
        for (int strict = 0; strict < 2; strict++) {
            elle_model m = strict ? ELLE_STRICT_SERIALIZABLE : ELLE_SERIALIZABLE;
            bool orc = oracle_ok(h, strict, o.list_append);
            bool valid = elle_valid(r, m);
            sound_checks++;
            rejected += !orc;
            flagged += !valid;
            if (!valid && orc)
                fail_msg("seed %ld: elle rules out %s but the oracle found an "
                         "order", seed, elle_model_name(m));
            if (o.list_append && !info && every_write_read(h)) {
                exact_checks++;
                if (valid && !orc && getenv("ELLE_DUMP"))
                    history_write_file(h, getenv("ELLE_DUMP"), HISTORY_FORMAT_JSONL, &err);
                if (valid && !orc)
                    fail_msg("seed %ld: the oracle finds no %s order but elle "
                             "missed it, with every write read", seed,
                             elle_model_name(m));
            } else {
                missed += valid && !orc;
            }
        }
        elle_result_free(r);
        history_free(h);
    }
    printf("elle vs oracle: %ld judgements on %ld histories; oracle rejects "
           "%ld, elle flags %ld; exact-agreement cases %ld; outside them "
           "elle missed %ld of the oracle's rejections\n",
           sound_checks, seeds, rejected, flagged, exact_checks, missed);
    assert_true(rejected > sound_checks / 20); /* the tests have teeth */
}

/* ---- databases at scale ---------------------------------------------------------------- */

static void test_simulated_levels_at_scale(void **state)
{
    (void)state;
    size_t g2 = 0, gsingle_rc = 0;
    for (uint64_t seed = 0; seed < 120; seed++) {
        txn_sim_options o = {
            .txns = 300, .processes = 2 + seed % 8, .keys = 3 + seed % 5,
            .key_writes = 20, .max_mops = 4, .info_rate = seed % 3 ? 0.05 : 0,
            .list_append = seed % 4 != 0, .final_read = seed % 2,
            .level = (txn_sim_level)(seed % 3), .seed = seed,
        };
        history *h;
        fl_error err = {0};
        assert_int_equal(txn_sim_generate(&o, &h, &err), FL_OK);
        elle_result *r = check(h);
        elle_model level = o.level == TXN_SIM_SERIAL ? ELLE_STRICT_SERIALIZABLE
                         : o.level == TXN_SIM_SNAPSHOT ? ELLE_SNAPSHOT_ISOLATION
                                                       : ELLE_READ_COMMITTED;
        if (!elle_valid(r, level)) {
            json_t *j = elle_result_json(r, h, level);
            char *s = json_dumps(j, JSON_INDENT(1));
            fail_msg("seed %llu: a %s database's history judged invalid: %s",
                     (unsigned long long)seed, elle_model_name(level), s);
        }
        g2 += o.level == TXN_SIM_SNAPSHOT && count(r, ELLE_G2_ITEM) > 0;
        gsingle_rc += o.level == TXN_SIM_READ_COMMITTED &&
                      count(r, ELLE_G_SINGLE) > 0;
        elle_result_free(r);
        history_free(h);
    }
    printf("snapshot-isolation runs with G2-item: %zu of 40; read-committed "
           "runs with G-single: %zu of 40\n", g2, gsingle_rc);
    assert_true(g2 > 0);
    assert_true(gsingle_rc > 0);
}

/* ---- the file reader ------------------------------------------------------------------ */

/* elle_check_jsonl on the file of h equals elle_check on h, words and
 * operations included, on simulated histories plain and corrupted. */
static void test_file_reader_equals_history_path(void **state)
{
    (void)state;
    char path[] = "/tmp/test_elle.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    size_t fast = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        fl_rng rng;
        fl_rng_seed(&rng, seed * 31 + 5);
        txn_sim_options o = {
            .txns = 5 + fl_rng_below(&rng, 60), .processes = 2 + seed % 5,
            .keys = 2 + seed % 4, .key_writes = seed % 2 ? 8 : 0,
            .max_mops = 1 + seed % 4, .info_rate = seed % 3 ? 0.1 : 0,
            .list_append = seed % 4 != 0, .final_read = seed % 2,
            .level = (txn_sim_level)(seed % 3), .seed = seed,
        };
        history *h;
        fl_error err = {0};
        assert_int_equal(txn_sim_generate(&o, &h, &err), FL_OK);
        if (seed % 2) {
            history *c = corrupt(h, &rng);
            history_free(h);
            h = c;
        }
        assert_int_equal(history_write_file(h, path, HISTORY_FORMAT_JSONL,
                                            &err), FL_OK);
        elle_result *a = check(h), *b = NULL;
        int rc = elle_check_jsonl(path, &b, &err);
        assert_true(rc == FL_OK || rc == ELLE_DECLINED);
        if (rc == FL_OK) {
            fast++;
            for (int m = 0; m < ELLE_N_MODELS; m++) {
                json_t *ja = elle_result_json(a, h, (elle_model)m);
                json_t *jb = elle_result_json(b, elle_result_history(b),
                                              (elle_model)m);
                if (!json_equal(ja, jb)) {
                    char *x = json_dumps(ja, 0), *y = json_dumps(jb, 0);
                    fail_msg("seed %llu: history %s\nfile    %s",
                             (unsigned long long)seed, x, y);
                }
                json_decref(ja);
                json_decref(jb);
            }
        }
        elle_result_free(a);
        elle_result_free(b);
        history_free(h);
    }
    unlink(path);
    assert_true(fast > 250); /* the recorder's shape is read, not declined */
    /* another shape (string keys) declines */
    FILE *f = fopen(path, "w");
    fputs("{\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"r\",\"x\",null]]}\n", f);
    fclose(f);
    elle_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(elle_check_jsonl(path, &r, &err), ELLE_DECLINED);
    assert_null(r);
    unlink(path);
}

/* ---- out of memory ------------------------------------------------------------------ */

/* Every allocation of a check failed in turn (history and file paths):
 * FL_ENOMEM or a result, never a crash or a leak (ASan). */
static void test_out_of_memory_everywhere(void **state)
{
    (void)state;
    json_set_alloc_funcs(fl_malloc, fl_free);
    txn_sim_options o = {.txns = 30, .processes = 3, .keys = 3,
                         .max_mops = 3, .info_rate = 0.1, .list_append = true,
                         .final_read = true, .level = TXN_SIM_SNAPSHOT,
                         .seed = 3};
    history *h;
    fl_error err = {0};
    assert_int_equal(txn_sim_generate(&o, &h, &err), FL_OK);
    char path[] = "/tmp/test_elle_oom.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(history_write_file(h, path, HISTORY_FORMAT_JSONL, &err),
                     FL_OK);
    for (int file = 0; file < 2; file++) {
        bool failed = true;
        for (uint64_t n = 1; failed; n++) {
            elle_result *r = NULL;
            fl_alloc_fail_after(n);
            int rc = file ? elle_check_jsonl(path, &r, &err)
                          : elle_check(h, &r, &err);
            json_t *j = rc == FL_OK ? elle_result_json(r, file
                                          ? elle_result_history(r) : h,
                                          ELLE_SERIALIZABLE) : NULL;
            failed = fl_alloc_failed();
            fl_alloc_fail_after(0);
            assert_true(rc == FL_OK || rc == FL_ENOMEM);
            json_decref(j);
            elle_result_free(r);
        }
    }
    unlink(path);
    history_free(h);
    json_set_alloc_funcs(malloc, free);
}

/* ---- the workloads ------------------------------------------------------------------ */

static void test_txn_workloads(void **state)
{
    (void)state;
    const char *names[] = {"list-append", "rw-register"};
    for (int w = 0; w < 2; w++) {
        workload *a, *b;
        fl_error err = {0};
        workload_options o = {.seed = 7, .active_keys = 3, .concurrency = 5};
        assert_int_equal(workload_new(names[w], &o, &a, &err), FL_OK);
        assert_int_equal(workload_new(names[w], &o, &b, &err), FL_OK);
        const workload_checker *ck;
        size_t n;
        assert_int_equal(workload_checkers(names[w], &ck, &n, &err), FL_OK);
        assert_int_equal(n, 1);
        assert_string_equal(ck[0].checker, "elle");
        assert_string_equal(workload_operations(names[w])[0], "txn");
        /* deterministic; values unique per key; keys retire after 32 writes */
        json_t *seen = json_object();
        history *h = history_new();
        for (int i = 0; i < 2000; i++) {
            workload_op x = {0}, y = {0};
            assert_int_equal(workload_next(a, &x, &err), FL_OK);
            assert_int_equal(workload_next(b, &y, &err), FL_OK);
            assert_string_equal(x.f, "txn");
            assert_null(x.key);
            assert_true(json_equal(x.value, y.value));
            size_t j;
            json_t *m;
            assert_true(json_array_size(x.value) >= 1 &&
                        json_array_size(x.value) <= 4);
            json_array_foreach(x.value, j, m) {
                const char *f = json_string_value(json_array_get(m, 0));
                assert_true(strcmp(f, "r") == 0 ||
                            strcmp(f, w == 0 ? "append" : "w") == 0);
                if (f[0] == 'r')
                    continue;
                char kv[64];
                snprintf(kv, sizeof kv, "%lld/%lld",
                         (long long)json_integer_value(json_array_get(m, 1)),
                         (long long)json_integer_value(json_array_get(m, 2)));
                assert_null(json_object_get(seen, kv));
                json_object_set_new(seen, kv, json_true());
                assert_true(json_integer_value(json_array_get(m, 2)) <= 32);
            }
            /* a history of them, all ok with empty reads, is checkable */
            history_input in = {.index = HISTORY_AUTO_INDEX,
                                .time = HISTORY_NO_TIME, .process = 0,
                                .type = HISTORY_INVOKE, .f = "txn",
                                .value = x.value};
            assert_int_equal(history_append(h, &in, &err), FL_OK);
            in.type = HISTORY_FAIL;
            assert_int_equal(history_append(h, &in, &err), FL_OK);
            workload_op_clear(&x);
            workload_op_clear(&y);
        }
        assert_true(workload_keys_used(a) > 3);
        workload_op fr = {0};
        assert_int_equal(workload_final_read(a, 2, &fr, &err), FL_OK);
        assert_string_equal(fr.f, "txn");
        char *s = json_dumps(fr.value, JSON_COMPACT);
        assert_string_equal(s, "[[\"r\",2,null]]");
        free(s);
        workload_op_clear(&fr);
        elle_result *r = check(h);
        assert_true(elle_valid(r, ELLE_STRICT_SERIALIZABLE));
        assert_int_equal(elle_result_summary(r)->failed, 2000);
        elle_result_free(r);
        history_free(h);
        json_decref(seen);
        workload_free(a);
        workload_free(b);
    }
    workload *k;
    fl_error err = {0};
    workload_options o = {.seed = 1, .active_keys = 1, .concurrency = 1};
    assert_int_equal(workload_new("register", &o, &k, &err), FL_OK);
    workload_op fr = {0};
    assert_int_equal(workload_final_read(k, 4, &fr, &err), FL_OK);
    assert_string_equal(fr.f, "read");
    assert_int_equal(json_integer_value(fr.key), 4);
    workload_op_clear(&fr);
    workload_free(k);
}

/* Elle's own EDN shape reads as it is, and writes back as Elle's. */
static void test_edn_both_ways(void **state)
{
    (void)state;
    const char *edn =
        "{:type :invoke, :f :txn, :value [[:r 1 nil] [:append 2 1]], :time 10, :process 0, :index 0}\n"
        "{:type :invoke, :f :txn, :value [[:r 2 nil] [:append 1 1]], :time 11, :process 1, :index 1}\n"
        "{:type :info, :f :start-partition, :value nil, :process :nemesis, :index 2}\n"
        "{:type :ok, :f :txn, :value [[:r 1 []] [:append 2 1]], :time 12, :process 0, :index 3}\n"
        "{:type :ok, :f :txn, :value [[:r 2 []] [:append 1 1]], :time 13, :process 1, :index 4}\n"
        "{:type :invoke, :f :txn, :value [[:r 1 nil] [:r 2 nil]], :time 14, :process 0, :index 5}\n"
        "{:type :ok, :f :txn, :value [[:r 1 [1]] [:r 2 [1]]], :time 15, :process 0, :index 6}\n";
    FILE *in = fmemopen((void *)edn, strlen(edn), "r");
    history *h;
    fl_error err = {0};
    assert_int_equal(history_read_edn(in, "t.edn", HISTORY_EDN_KEYS_AUTO, &h,
                                      &err), FL_OK);
    fclose(in);
    elle_result *r = check(h);
    assert_int_equal(count(r, ELLE_G2_ITEM), 1);
    elle_result_free(r);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(history_write_edn(h, out, &err), FL_OK);
    fclose(out);
    assert_non_null(strstr(buf, ":f :txn, :process 0, :value [[:r 1 []] "
                                "[:append 2 1]]"));
    in = fmemopen(buf, len, "r");
    history *back;
    assert_int_equal(history_read_edn(in, "back.edn", HISTORY_EDN_KEYS_AUTO,
                                      &back, &err), FL_OK);
    fclose(in);
    for (size_t i = 0; i < history_len(h); i++)
        assert_true(json_equal(
            history_value(h, history_events(h)[i].value),
            history_value(back, history_events(back)[i].value)));
    free(buf);
    history_free(back);
    history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made_anomalies),
        cmocka_unit_test(test_g0_write_cycle),
        cmocka_unit_test(test_bad_shapes_name_the_event),
        cmocka_unit_test(test_registry_and_model_option),
        cmocka_unit_test(test_oracle_agreement),
        cmocka_unit_test(test_simulated_levels_at_scale),
        cmocka_unit_test(test_file_reader_equals_history_path),
        cmocka_unit_test(test_out_of_memory_everywhere),
        cmocka_unit_test(test_txn_workloads),
        cmocka_unit_test(test_edn_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
