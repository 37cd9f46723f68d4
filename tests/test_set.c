/*
 * Tests of the set workload: the generator (determinism, unique elements
 * per key, key retirement), the workload interface the runner sees, and
 * the set checker — each verdict rule on hand-made histories, bad input,
 * and randomized histories of a simulated store whose truth is known.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/set.h"
#include "base/rng.h"
#include "workloads/set.h"
#include "workloads/workload.h"

/* ---- building histories ---------------------------------------------------------- */

static void ev(history *h, int64_t process, history_type type, const char *f,
               json_t *key, json_t *value)
{
    fl_error err = {0};
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                        .process = process, .type = type, .f = f, .key = key,
                        .value = value};
    if (history_append(h, &in, &err) != FL_OK)
        fail_msg("append: %s", err.msg);
    json_decref(key);
    json_decref(value);
}

static void add(history *h, int64_t p, int64_t key, int64_t e, history_type t)
{
    ev(h, p, HISTORY_INVOKE, "add", json_integer(key), json_integer(e));
    ev(h, p, t, "add", json_integer(key), json_integer(e));
}

/* A read of key returning the elements given as a JSON text. */
static void read_set(history *h, int64_t p, int64_t key, const char *elems)
{
    ev(h, p, HISTORY_INVOKE, "read", json_integer(key), json_null());
    ev(h, p, HISTORY_OK, "read", json_integer(key), json_loads(elems,
       JSON_DECODE_ANY, NULL));
}

static set_result *check(const history *h, checker_verdict want)
{
    set_result *r = NULL;
    fl_error err = {0};
    if (set_check(h, &r, &err) != FL_OK)
        fail_msg("set_check: %s", err.msg);
    assert_int_equal(set_result_verdict(r), want);
    return r;
}

/* The count `field` of key k in the JSON result. */
static json_int_t key_count(const set_result *r, const char *k,
                            const char *field)
{
    json_t *j = set_result_to_json(r);
    json_t *v = json_object_get(json_object_get(json_object_get(j, "per_key"),
                                                k), field);
    assert_non_null(v);
    json_int_t n = json_integer_value(v);
    json_decref(j);
    return n;
}

/* ---- the checker's rules --------------------------------------------------------- */

static void test_all_acknowledged_read_is_valid(void **state)
{
    (void)state;
    history *h = history_new();
    add(h, 0, 7, 1, HISTORY_OK);
    add(h, 1, 7, 2, HISTORY_OK);
    add(h, 0, 7, 3, HISTORY_FAIL);    /* failed and absent: fine */
    add(h, 1, 7, 4, HISTORY_INFO);    /* indeterminate and absent: fine */
    read_set(h, 0, 7, "[2, 1]");
    set_result *r = check(h, CHECKER_VALID);
    assert_int_equal(key_count(r, "7", "attempt_count"), 4);
    assert_int_equal(key_count(r, "7", "acknowledged_count"), 2);
    assert_int_equal(key_count(r, "7", "ok_count"), 2);
    set_result_free(r);
    history_free(h);
}

static void test_lost_unexpected_failed_recovered(void **state)
{
    (void)state;
    history *h = history_new();
    add(h, 0, 1, 1, HISTORY_OK);
    add(h, 0, 1, 2, HISTORY_OK);      /* lost */
    add(h, 1, 1, 3, HISTORY_FAIL);    /* read anyway: failed */
    add(h, 2, 1, 4, HISTORY_INFO);    /* read: recovered, allowed */
    read_set(h, 0, 1, "[1, 3, 4, 99]");  /* 99: unexpected */
    set_result *r = check(h, CHECKER_INVALID);
    assert_int_equal(key_count(r, "1", "lost_count"), 1);
    assert_int_equal(key_count(r, "1", "unexpected_count"), 1);
    assert_int_equal(key_count(r, "1", "failed_count"), 1);
    assert_int_equal(key_count(r, "1", "recovered_count"), 1);
    json_t *j = set_result_to_json(r);
    json_t *k = json_object_get(json_object_get(j, "per_key"), "1");
    assert_int_equal(json_integer_value(json_array_get(
                     json_object_get(k, "lost"), 0)), 2);
    assert_int_equal(json_integer_value(json_array_get(
                     json_object_get(k, "unexpected"), 0)), 99);
    assert_int_equal(json_integer_value(json_object_get(j, "lost_count")), 1);
    json_decref(j);
    set_result_free(r);
    history_free(h);
}

/* Only the last ok read counts; an earlier read lacking an element is not
 * a loss (Jepsen's set checker judges the final read). */
static void test_final_read_decides(void **state)
{
    (void)state;
    history *h = history_new();
    add(h, 0, 1, 1, HISTORY_OK);
    read_set(h, 1, 1, "[]");
    ev(h, 1, HISTORY_INVOKE, "read", json_integer(1), json_null());
    ev(h, 1, HISTORY_FAIL, "read", json_integer(1), json_null());
    read_set(h, 1, 1, "[1]");
    set_result *r = check(h, CHECKER_VALID);
    set_result_free(r);
    history_free(h);
}

/* An add acknowledged while the final read was in flight may be ordered
 * after it: absent is fine. One invoked after the read ended cannot be in
 * it. */
static void test_adds_concurrent_with_and_after_the_read(void **state)
{
    (void)state;
    history *h = history_new();
    ev(h, 1, HISTORY_INVOKE, "read", json_integer(1), json_null());
    ev(h, 0, HISTORY_INVOKE, "add", json_integer(1), json_integer(5));
    ev(h, 0, HISTORY_OK, "add", json_integer(1), json_integer(5));
    ev(h, 1, HISTORY_OK, "read", json_integer(1), json_loads("[]", 0, NULL));
    set_result *r = check(h, CHECKER_VALID);
    set_result_free(r);
    history_free(h);

    h = history_new();
    read_set(h, 1, 1, "[6]");
    add(h, 0, 1, 6, HISTORY_OK);
    r = check(h, CHECKER_INVALID);
    assert_int_equal(key_count(r, "1", "unexpected_count"), 1);
    set_result_free(r);
    history_free(h);
}

static void test_never_read_is_unknown_and_keys_combine(void **state)
{
    (void)state;
    history *h = history_new();
    add(h, 0, 1, 1, HISTORY_OK);
    add(h, 0, 2, 1, HISTORY_OK);
    read_set(h, 0, 2, "[1]");
    set_result *r = check(h, CHECKER_UNKNOWN);
    assert_int_equal(set_result_verdict(r), CHECKER_UNKNOWN);
    set_result_free(r);
    read_set(h, 0, 1, "null");    /* null is the empty set: 1 is lost */
    r = check(h, CHECKER_INVALID);
    assert_int_equal(key_count(r, "1", "lost_count"), 1);
    assert_int_equal(key_count(r, "2", "lost_count"), 0);
    set_result_free(r);
    history_free(h);
}

/* Events of other workloads (and the nemesis) do not disturb the check. */
static void test_other_ops_ignored(void **state)
{
    (void)state;
    history *h = history_new();
    ev(h, HISTORY_NEMESIS, HISTORY_INFO, "start-partition", NULL,
       json_string("halves"));
    ev(h, 0, HISTORY_INVOKE, "write", json_integer(1), json_integer(3));
    ev(h, 0, HISTORY_OK, "write", json_integer(1), json_integer(3));
    add(h, 0, 1, 1, HISTORY_OK);
    read_set(h, 0, 1, "[1]");
    set_result *r = check(h, CHECKER_VALID);
    set_result_free(r);
    history_free(h);
}

static void expect_edata(history *h, const char *fragment)
{
    set_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(set_check(h, &r, &err), FL_EDATA);
    assert_null(r);
    if (!strstr(err.msg, fragment))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, fragment);
    history_free(h);
}

static void test_bad_values_are_errors_naming_the_event(void **state)
{
    (void)state;
    history *h = history_new();
    ev(h, 0, HISTORY_INVOKE, "add", json_integer(1), json_string("x"));
    ev(h, 0, HISTORY_OK, "add", json_integer(1), json_string("x"));
    expect_edata(h, "event index 0");

    h = history_new();
    add(h, 0, 1, 1, HISTORY_OK);
    read_set(h, 0, 1, "{\"a\": 1}");
    expect_edata(h, "event index 3");

    h = history_new();
    add(h, 0, 1, 1, HISTORY_OK);
    read_set(h, 0, 1, "[1, \"two\"]");
    expect_edata(h, "element 1");
}

/* ---- randomized: a simulated store whose truth is known --------------------------- */

/* Concurrent clients add to a store that applies every ok add, half the
 * info adds and no failed add, then one read returns the store: valid.
 * Removing one acknowledged element from that read makes exactly that
 * element lost; adding a never-attempted one makes it unexpected. */
static void simulate(uint64_t seed, history *h, json_t *stored, int *acked)
{
    fl_rng rng;
    fl_rng_seed(&rng, seed);
    int n = 1 + (int)fl_rng_below(&rng, 60), next = 1;
    int64_t inflight[4] = {0, 0, 0, 0};
    history_type outcome[4];
    *acked = 0;
    for (int step = 0; step < 4 * n; step++) {
        int p = (int)fl_rng_below(&rng, 4);
        if (!inflight[p] && next <= n) {
            inflight[p] = next++;
            ev(h, p, HISTORY_INVOKE, "add", json_integer(0),
               json_integer(inflight[p]));
            int dice = (int)fl_rng_below(&rng, 10);
            outcome[p] = dice < 6 ? HISTORY_OK : dice < 8 ? HISTORY_FAIL
                                                         : HISTORY_INFO;
            if (outcome[p] == HISTORY_OK ||
                (outcome[p] == HISTORY_INFO && fl_rng_below(&rng, 2)))
                json_array_append_new(stored, json_integer(inflight[p]));
        } else if (inflight[p]) {
            ev(h, p, outcome[p], "add", json_integer(0),
               json_integer(inflight[p]));
            if (outcome[p] == HISTORY_OK && (*acked == 0 || fl_rng_below(&rng, 2)))
                *acked = (int)inflight[p];
            inflight[p] = 0;
        }
    }
    /* Adds still in flight never complete: info, whether stored or not. */
}

static void test_random_histories(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        for (int variant = 0; variant < 3; variant++) {
            json_t *read = json_array();
            int acked;
            history *h = history_new();
            simulate(seed, h, read, &acked);
            if (variant == 1 && acked) {
                for (size_t i = 0; i < json_array_size(read); i++)
                    if (json_integer_value(json_array_get(read, i)) == acked)
                        json_array_remove(read, i--);
            } else if (variant == 2) {
                json_array_append_new(read, json_integer(1000));
            }
            ev(h, 9, HISTORY_INVOKE, "read", json_integer(0), json_null());
            ev(h, 9, HISTORY_OK, "read", json_integer(0), read);
            checker_verdict want = variant == 0 || (variant == 1 && !acked)
                                       ? CHECKER_VALID : CHECKER_INVALID;
            set_result *r = check(h, want);
            if (variant == 1 && acked)
                assert_int_equal(key_count(r, "0", "lost_count"), 1);
            if (variant == 2)
                assert_int_equal(key_count(r, "0", "unexpected_count"), 1);
            set_result_free(r);
            history_free(h);
        }
    }
}

/* ---- the generator and the workload interface -------------------------------------- */

static void test_generator_unique_elements_and_retirement(void **state)
{
    (void)state;
    wl_set_options o;
    wl_set_options_init(&o);
    o.seed = 5;
    o.active_keys = 4;
    o.min_adds = 10;
    o.max_adds = 20;
    wl_set *g = NULL, *same = NULL;
    fl_error err = {0};
    assert_int_equal(wl_set_new(&o, &g, &err), FL_OK);
    assert_int_equal(wl_set_new(&o, &same, &err), FL_OK);
    int64_t last[1000] = {0}, count[1000] = {0};
    for (int i = 0; i < 5000; i++) {
        int64_t k, e, k2, e2;
        wl_set_next(g, &k, &e);
        wl_set_next(same, &k2, &e2);
        assert_int_equal(k, k2);
        assert_int_equal(e, e2);
        assert_true(k >= 0 && k < 1000);
        assert_int_equal(e, last[k] + 1);   /* 1, 2, 3... per key */
        last[k] = e;
        count[k]++;
    }
    int64_t used = wl_set_keys_used(g);
    assert_true(used > 4);
    /* Every retired key got min..max adds; the active ones at most max. */
    for (int64_t k = 0; k < used; k++) {
        assert_true(count[k] <= 20);
        if (k < used - 4)
            assert_true(count[k] >= 10);
    }
    wl_set_free(g);
    wl_set_free(same);
    o.max_adds = 5;
    assert_int_equal(wl_set_new(&o, &g, &err), FL_EUSAGE);
    assert_null(g);
}

static void test_workload_interface(void **state)
{
    (void)state;
    fl_error err = {0};
    workload *w = NULL;
    workload_options o = {.seed = 1, .concurrency = 10};
    assert_int_equal(workload_new("bank", &o, &w, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "bank"));
    assert_int_equal(workload_new("set", &o, &w, &err), FL_OK);
    assert_string_equal(workload_name(w), "set");
    for (int i = 0; i < 100; i++) {
        workload_op op;
        assert_int_equal(workload_next(w, &op, &err), FL_OK);
        assert_string_equal(op.f, "add");
        assert_true(json_is_integer(op.key) && json_is_integer(op.value));
        workload_op_clear(&op);
    }
    assert_true(workload_keys_used(w) >= 4);   /* 10 threads: 4 keys */
    workload_free(w);
    assert_int_equal(workload_new("register", &o, &w, &err), FL_OK);
    bool seen_cas = false;
    for (int i = 0; i < 100; i++) {
        workload_op op;
        assert_int_equal(workload_next(w, &op, &err), FL_OK);
        seen_cas |= strcmp(op.f, "cas") == 0 && json_array_size(op.value) == 2;
        workload_op_clear(&op);
    }
    assert_true(seen_cas);
    workload_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_acknowledged_read_is_valid),
        cmocka_unit_test(test_lost_unexpected_failed_recovered),
        cmocka_unit_test(test_final_read_decides),
        cmocka_unit_test(test_adds_concurrent_with_and_after_the_read),
        cmocka_unit_test(test_never_read_is_unknown_and_keys_combine),
        cmocka_unit_test(test_other_ops_ignored),
        cmocka_unit_test(test_bad_values_are_errors_naming_the_event),
        cmocka_unit_test(test_random_histories),
        cmocka_unit_test(test_generator_unique_elements_and_retirement),
        cmocka_unit_test(test_workload_interface),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
