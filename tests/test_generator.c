/*
 * Tests of the register workload generator: determinism from the seed,
 * the op mix, key retirement within the per-key budget, values unique per
 * key, the invocation values, and option checking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/register.h"

static wl_register *make(uint64_t seed, int keys, int min, int max)
{
    wl_register_options o;
    wl_register *g = NULL;
    fl_error err = {0};
    wl_register_options_init(&o);
    o.seed = seed;
    o.active_keys = keys;
    o.min_ops = min;
    o.max_ops = max;
    if (wl_register_new(&o, &g, &err) != FL_OK)
        fail_msg("%s", err.msg);
    return g;
}

static void test_same_seed_same_ops(void **state)
{
    (void)state;
    wl_register *a = make(42, 3, 100, 200), *b = make(42, 3, 100, 200);
    wl_register *c = make(43, 3, 100, 200);
    bool differs = false;
    for (int i = 0; i < 5000; i++) {
        wl_op x, y, z;
        wl_register_next(a, &x);
        wl_register_next(b, &y);
        wl_register_next(c, &z);
        assert_int_equal(x.f, y.f);
        assert_int_equal(x.key, y.key);
        assert_int_equal(x.value, y.value);
        assert_int_equal(x.old, y.old);
        differs |= x.f != z.f || x.key != z.key || x.value != z.value;
    }
    assert_true(differs);
    wl_register_free(a);
    wl_register_free(b);
    wl_register_free(c);
}

/* Every key gets between min and max operations, then never appears again;
 * write values and cas new values are 1, 2, 3... within each key. */
static void test_keys_retire_values_unique(void **state)
{
    (void)state;
    enum { N = 20000, MAXK = 1000 };
    wl_register *g = make(7, 4, 100, 200);
    static int ops[MAXK];
    static int64_t last_value[MAXK];
    memset(ops, 0, sizeof ops);
    memset(last_value, 0, sizeof last_value);
    int mix[3] = {0};
    for (int i = 0; i < N; i++) {
        wl_op op;
        wl_register_next(g, &op);
        assert_true(op.key >= 0 && op.key < MAXK);
        ops[op.key]++;
        mix[op.f]++;
        if (op.f != WL_READ) {
            assert_int_equal(op.value, last_value[op.key] + 1);
            last_value[op.key] = op.value;
        }
        if (op.f == WL_CAS)
            assert_true(op.old >= 0 && op.old < op.value);
    }
    int64_t used = wl_register_keys_used(g);
    assert_true(used > N / 200);
    /* The last 4 keys may still be active: all others are complete. */
    for (int64_t k = 0; k < used - 4; k++)
        if (ops[k] < 100 || ops[k] > 200)
            fail_msg("key %lld got %d ops", (long long)k, ops[k]);
    /* 40/30/30 within a few percent. */
    assert_in_range(mix[WL_READ], N * 37 / 100, N * 43 / 100);
    assert_in_range(mix[WL_WRITE], N * 27 / 100, N * 33 / 100);
    assert_in_range(mix[WL_CAS], N * 27 / 100, N * 33 / 100);
    wl_register_free(g);
}

static void test_invoke_values(void **state)
{
    (void)state;
    wl_op r = {.f = WL_READ, .key = 1}, w = {.f = WL_WRITE, .key = 1, .value = 5};
    wl_op c = {.f = WL_CAS, .key = 1, .old = 4, .value = 6};
    json_t *jr = wl_op_invoke_value(&r), *jw = wl_op_invoke_value(&w);
    json_t *jc = wl_op_invoke_value(&c);
    assert_true(json_is_null(jr));
    assert_int_equal(json_integer_value(jw), 5);
    assert_int_equal(json_integer_value(json_array_get(jc, 0)), 4);
    assert_int_equal(json_integer_value(json_array_get(jc, 1)), 6);
    assert_string_equal(wl_f_name(WL_CAS), "cas");
    json_decref(jr);
    json_decref(jw);
    json_decref(jc);
}

static void test_bad_options(void **state)
{
    (void)state;
    wl_register_options o;
    wl_register *g = NULL;
    fl_error err = {0};
    wl_register_options_init(&o);
    o.max_ops = 50;
    assert_int_equal(wl_register_new(&o, &g, &err), FL_EUSAGE);
    assert_null(g);
    wl_register_options_init(&o);
    o.read_pct = 80;
    o.write_pct = 30;
    assert_int_equal(wl_register_new(&o, &g, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "sum"));
    assert_int_equal(wl_register_keys_for(1), 1);
    assert_int_equal(wl_register_keys_for(10), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_ops),
        cmocka_unit_test(test_keys_retire_values_unique),
        cmocka_unit_test(test_invoke_values),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
