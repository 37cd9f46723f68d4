/*
 * Tests of checker composition (checkers/compose.h): Jepsen's validity
 * lattice over every pair of verdicts and over a composition of checkers
 * with fixed verdicts; a checker that needs another's result gets the
 * composition's own run of it (whatever the order) when it asks the same
 * question, a private run otherwise, and reads its per-key verdicts
 * through the typed interface; the sequential checker composed beside the
 * linearizable one gives the verdicts it gives alone; and a composition
 * refuses a checker twice and names the checker that could not run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "checkers/compose.h"
#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "checkers/sequential.h"

static history *parse(const char *jsonl)
{
    FILE *in = fmemopen((void *)jsonl, strlen(jsonl), "r");
    history *h = NULL;
    fl_error err = {0};
    assert_non_null(in);
    if (history_read_jsonl(in, "test", &h, &err) != FL_OK)
        fail_msg("parse: %s", err.msg);
    fclose(in);
    return h;
}

/* A stale read of key 1 (not linearizable, but SC), a valid key 2. */
static const char *const stale =
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":1,\"value\":1}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":1,\"value\":1}\n"
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":1,\"value\":2}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":1,\"value\":2}\n"
    "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":1,\"value\":null}\n"
    "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":1,\"value\":1}\n"
    "{\"process\":2,\"type\":\"invoke\",\"f\":\"write\",\"key\":2,\"value\":5}\n"
    "{\"process\":2,\"type\":\"ok\",\"f\":\"write\",\"key\":2,\"value\":5}\n";

/* ---- the lattice -------------------------------------------------------------- */

static void test_lattice_false_beats_unknown_beats_true(void **state)
{
    (void)state;
    const checker_verdict T = CHECKER_VALID, F = CHECKER_INVALID,
                          U = CHECKER_UNKNOWN;
    const checker_verdict want[3][3] = {
        /*        T  F  U */
        /* T */ {T, F, U},
        /* F */ {F, F, F},
        /* U */ {U, F, U},
    };
    const checker_verdict all[3] = {T, F, U};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            assert_int_equal(checker_verdict_combine(all[i], all[j]),
                             want[i][j]);
            /* commutative and idempotent */
            assert_int_equal(checker_verdict_combine(all[j], all[i]),
                             want[i][j]);
        }
}

/* Checkers with fixed verdicts, to compose. */
static int fixed(checker_verdict v, checker_report *out)
{
    out->verdict = v;
    out->json = json_pack("{so}", "valid", checker_verdict_json(v));
    fprintf(out->summary, "fixed: %s\n", checker_verdict_word(v));
    return FL_OK;
}

static int check_true(const history *h, const checker_options *opt,
                      const checker_result *needed, checker_report *out,
                      fl_error *err)
{
    (void)h, (void)opt, (void)needed, (void)err;
    return fixed(CHECKER_VALID, out);
}

static int check_false(const history *h, const checker_options *opt,
                       const checker_result *needed, checker_report *out,
                       fl_error *err)
{
    (void)h, (void)opt, (void)needed, (void)err;
    return fixed(CHECKER_INVALID, out);
}

static int check_unknown(const history *h, const checker_options *opt,
                         const checker_result *needed, checker_report *out,
                         fl_error *err)
{
    (void)h, (void)opt, (void)needed, (void)err;
    return fixed(CHECKER_UNKNOWN, out);
}

static const checker always_true = {.name = "t", .about = "t", .check = check_true};
static const checker always_false = {.name = "f", .about = "f", .check = check_false};
static const checker always_unknown = {.name = "u", .about = "u",
                                       .check = check_unknown};

static checker_verdict composed(const checker *const *cs, size_t n)
{
    history *h = parse(stale);
    compose_item items[4];
    for (size_t i = 0; i < n; i++) {
        items[i].checker = cs[i];
        checker_options_init(&items[i].options);
    }
    composition *c = NULL;
    fl_error err = {0};
    assert_int_equal(compose_run(h, items, n, &c, &err), FL_OK);
    assert_int_equal(compose_count(c), n);
    checker_verdict v = compose_verdict(c);
    json_t *j = compose_json(c);
    json_t *want = checker_verdict_json(v);
    assert_true(json_equal(json_object_get(j, "valid"), want));
    json_decref(want);
    assert_int_equal(json_object_size(json_object_get(j, "checkers")), n);
    for (size_t i = 0; i < n; i++)
        assert_non_null(json_object_get(json_object_get(j, "checkers"),
                                        cs[i]->name));
    json_decref(j);
    compose_free(c);
    history_free(h);
    return v;
}

static void test_a_composition_combines_in_the_lattice(void **state)
{
    (void)state;
    const checker *t = &always_true, *f = &always_false, *u = &always_unknown;
    assert_int_equal(composed(NULL, 0), CHECKER_VALID);
    assert_int_equal(composed((const checker *[]){t}, 1), CHECKER_VALID);
    assert_int_equal(composed((const checker *[]){t, u}, 2), CHECKER_UNKNOWN);
    assert_int_equal(composed((const checker *[]){u, t, f}, 3), CHECKER_INVALID);
    assert_int_equal(composed((const checker *[]){f, u}, 2), CHECKER_INVALID);
    assert_int_equal(composed((const checker *[]){t, f}, 2), CHECKER_INVALID);
}

/* ---- a checker that needs another's result -------------------------------------- */

/* What the probe was handed, for the test to look at. */
static struct {
    const checker_result *needed;
    checker_verdict key1, key2, key3;
    int calls;
} seen;

static int check_probe(const history *h, const checker_options *opt,
                       const checker_result *needed, checker_report *out,
                       fl_error *err)
{
    (void)opt, (void)err;
    seen.calls++;
    seen.needed = needed;
    /* the typed per-key verdicts, by the history's key value ids */
    uint32_t k1 = HISTORY_NONE, k2 = HISTORY_NONE;
    for (size_t i = 0; i < history_len(h); i++) {
        const json_t *k = history_value(h, history_events(h)[i].key);
        if (json_integer_value(k) == 1)
            k1 = history_events(h)[i].key;
        if (json_integer_value(k) == 2)
            k2 = history_events(h)[i].key;
    }
    seen.key1 = checker_result_key_verdict(needed, k1);
    seen.key2 = checker_result_key_verdict(needed, k2);
    seen.key3 = checker_result_key_verdict(needed, 12345); /* no such key */
    return fixed(checker_result_verdict(needed), out);
}

/* The probe asks linearizability its own question: a different model. */
static void other_model(const checker_options *mine, checker_options *theirs)
{
    (void)mine;
    theirs->model = lin_model_find("register");
}

static const checker probe = {.name = "probe", .about = "needs linearizable",
                              .check = check_probe,
                              .needs = &checker_linearizable};
static const checker probe_other = {.name = "probe", .about = "other model",
                                    .check = check_probe,
                                    .needs = &checker_linearizable,
                                    .needs_options = other_model};

static composition *run(const history *h, const checker *const *cs, size_t n)
{
    compose_item items[4];
    for (size_t i = 0; i < n; i++) {
        items[i].checker = cs[i];
        checker_options_init(&items[i].options);
        items[i].options.threads = 1;
    }
    composition *c = NULL;
    fl_error err = {0};
    if (compose_run(h, items, n, &c, &err) != FL_OK)
        fail_msg("compose_run: %s", err.msg);
    return c;
}

static void test_a_needed_result_is_reused_whatever_the_order(void **state)
{
    (void)state;
    history *h = parse(stale);
    const checker *lin = &checker_linearizable;
    composition *c = run(h, (const checker *[]){lin, &probe}, 2);
    assert_ptr_equal(seen.needed, compose_result(c, 0));
    assert_int_equal(seen.key1, CHECKER_INVALID);
    assert_int_equal(seen.key2, CHECKER_VALID);
    assert_int_equal(seen.key3, CHECKER_UNKNOWN);
    assert_int_equal(checker_result_verdict(compose_result(c, 1)),
                     CHECKER_INVALID);
    compose_free(c);

    /* the one it needs comes later: it is run first, and once */
    c = run(h, (const checker *[]){&probe, lin}, 2);
    assert_ptr_equal(seen.needed, compose_result(c, 1));
    assert_int_equal(seen.key1, CHECKER_INVALID);
    compose_free(c);
    history_free(h);
}

static void test_a_needed_result_is_run_privately_when_absent(void **state)
{
    (void)state;
    history *h = parse(stale);
    composition *c = run(h, (const checker *[]){&probe}, 1);
    assert_int_equal(compose_count(c), 1);
    assert_non_null(seen.needed);
    assert_ptr_not_equal(seen.needed, compose_result(c, 0));
    assert_int_equal(seen.key1, CHECKER_INVALID);
    assert_int_equal(seen.key2, CHECKER_VALID);
    compose_free(c);

    /* another question (another model) is not answered by ours */
    const checker *lin = &checker_linearizable;
    c = run(h, (const checker *[]){lin, &probe_other}, 2);
    assert_ptr_not_equal(seen.needed, compose_result(c, 0));
    /* a register without cas reads the same stale read as invalid */
    assert_int_equal(seen.key1, CHECKER_INVALID);
    compose_free(c);

    /* and checker_check alone runs what is needed too */
    checker_options opt;
    checker_options_init(&opt);
    checker_result *r = NULL;
    fl_error err = {0};
    seen.calls = 0;
    assert_int_equal(checker_check(&probe, h, &opt, &r, &err), FL_OK);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.key1, CHECKER_INVALID);
    checker_result_free(r);
    history_free(h);
}

/* sequential composed beside linearizable: the verdicts it gives alone. */
static void test_sequential_reuses_linearizable(void **state)
{
    (void)state;
    history *h = parse(stale);
    compose_item items[2];
    items[0].checker = &checker_linearizable;
    items[1].checker = &checker_sequential;
    checker_options_init(&items[0].options);
    checker_options_init(&items[1].options);
    items[1].options.consistency = CHECKER_CONSISTENCY_SEQUENTIAL;
    composition *c = NULL;
    fl_error err = {0};
    assert_int_equal(compose_run(h, items, 2, &c, &err), FL_OK);
    checker_result *alone = NULL;
    assert_int_equal(checker_check(&checker_sequential, h, &items[1].options,
                                   &alone, &err), FL_OK);
    const json_t *a = checker_result_json(compose_result(c, 1));
    const json_t *b = checker_result_json(alone);
    assert_int_equal(checker_result_verdict(compose_result(c, 1)),
                     CHECKER_VALID); /* SC's verdict */
    assert_int_equal(checker_result_verdict(alone), CHECKER_VALID);
    assert_int_equal(compose_verdict(c), CHECKER_INVALID); /* linearizable's */
    assert_string_equal(json_string_value(json_object_get(a, "anomaly")),
                        "real-time");
    assert_true(json_equal(json_object_get(a, "anomaly"),
                           json_object_get(b, "anomaly")));
    assert_true(json_equal(json_object_get(a, "anomaly_kind"),
                           json_object_get(b, "anomaly_kind")));
    assert_true(json_equal(json_object_get(json_object_get(a, "linearizable"),
                                           "valid"),
                           json_object_get(json_object_get(b, "linearizable"),
                                           "valid")));
    checker_result_free(alone);
    compose_free(c);
    history_free(h);
}

static void test_a_composition_refuses_and_names(void **state)
{
    (void)state;
    history *h = parse(stale);
    compose_item items[2];
    items[0].checker = items[1].checker = &always_true;
    checker_options_init(&items[0].options);
    items[1].options = items[0].options;
    composition *c = (composition *)1;
    fl_error err = {0};
    assert_int_equal(compose_run(h, items, 2, &c, &err), FL_EUSAGE);
    assert_null(c);
    assert_non_null(strstr(err.msg, "\"t\" given twice"));

    items[0].checker = &checker_linearizable;
    items[0].options.model = NULL;
    assert_int_equal(compose_run(h, items, 1, &c, &err), FL_EUSAGE);
    assert_null(c);
    assert_non_null(strstr(err.msg, "checker linearizable"));
    history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lattice_false_beats_unknown_beats_true),
        cmocka_unit_test(test_a_composition_combines_in_the_lattice),
        cmocka_unit_test(test_a_needed_result_is_reused_whatever_the_order),
        cmocka_unit_test(test_a_needed_result_is_run_privately_when_absent),
        cmocka_unit_test(test_sequential_reuses_linearizable),
        cmocka_unit_test(test_a_composition_refuses_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
