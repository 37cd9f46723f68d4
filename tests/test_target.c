/*
 * The target seam without a network: the registry of targets, a target's
 * declared options as the command line stores them, what it supports, the
 * shared read-modify-write add, and the fake target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "targets/clients/rmw.h"
#include "targets/registry.h"

static void test_registry(void **state)
{
    (void)state;
    assert_string_equal(targets_default(), "raftkv");
    const target_vtable *rk = targets_find("raftkv");
    assert_non_null(rk);
    assert_ptr_equal(targets_find(targets_default()), rk);
    assert_null(targets_find("nope"));
    assert_null(targets_find(""));
    bool fake_for_tests = false;
    for (size_t i = 0; i < targets_count(); i++) {
        const targets_entry *e = targets_at(i);
        assert_ptr_equal(targets_find(e->vt->name), e->vt);  /* unique */
        assert_non_null(e->vt->create);
        assert_non_null(e->vt->rest_cmd);
        if (strcmp(e->vt->name, "fake") == 0)
            fake_for_tests = e->for_tests;
        else if (strcmp(e->vt->name, "raftkv") == 0)
            assert_false(e->for_tests);
    }
    assert_true(fake_for_tests);   /* never a default, listed as such */
    assert_null(targets_at(targets_count()));
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_options_set(void **state)
{
    (void)state;
    const target_vtable *rk = targets_find("raftkv");
    json_t *o = NULL;
    fl_error err = {0};
    assert_int_equal(target_options_set(rk, &o, "bug", "stale-read", &err), FL_OK);
    assert_string_equal(str(o, "bug"), "stale-read");
    /* Single: the last one given counts, as getopt did. */
    assert_int_equal(target_options_set(rk, &o, "bug", "early-ack", &err), FL_OK);
    assert_string_equal(str(o, "bug"), "early-ack");
    /* --raftkv is stored as the option it stands for. */
    assert_int_equal(target_options_set(rk, &o, "raftkv", "/x/raftkv", &err), FL_OK);
    assert_string_equal(str(o, "binary"), "/x/raftkv");
    assert_null(json_object_get(o, "raftkv"));
    /* Unknown: a usage error naming the target. */
    assert_int_equal(target_options_set(rk, &o, "read-mode", "x", &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "target raftkv"));
    assert_non_null(strstr(err.msg, "--read-mode"));
    assert_int_equal(target_options_set(rk, &o, "bug", NULL, &err), FL_EUSAGE);
    assert_int_equal(json_object_size(o), 2);
    json_decref(o);
    /* The fake takes none. */
    o = NULL;
    assert_int_equal(target_options_set(targets_find("fake"), &o, "bug", "x",
                                        &err), FL_EUSAGE);
    assert_null(o);
}

/* A made-up target with a default, a flag and a repeatable option. */
static const target_option toy_options[] = {
    {.name = "mode", .arg = "M", .help = "m", .default_value = "linearizable"},
    {.name = "fast", .help = "a flag"},
    {.name = "peer", .arg = "P", .help = "p", .repeatable = true},
    {0},
};
static const char *const toy_ops[] = {"read", "write", "cas", NULL};
static const target_vtable toy = {.name = "toy", .options = toy_options,
                                  .operations = toy_ops};

static void test_options_resolve(void **state)
{
    (void)state;
    json_t *o = NULL, *r = NULL;
    fl_error err = {0};
    assert_int_equal(target_options_resolve(&toy, NULL, &r, &err), FL_OK);
    assert_string_equal(str(r, "mode"), "linearizable");
    assert_int_equal(json_object_size(r), 1);
    json_decref(r);
    assert_int_equal(target_options_set(&toy, &o, "fast", NULL, &err), FL_OK);
    assert_int_equal(target_options_set(&toy, &o, "fast", "x", &err), FL_EUSAGE);
    assert_int_equal(target_options_set(&toy, &o, "peer", "a", &err), FL_OK);
    assert_int_equal(target_options_set(&toy, &o, "peer", "b", &err), FL_OK);
    assert_int_equal(target_options_set(&toy, &o, "mode", "lease", &err), FL_OK);
    assert_int_equal(target_options_resolve(&toy, o, &r, &err), FL_OK);
    char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"fast\":true,\"mode\":\"lease\",\"peer\":[\"a\",\"b\"]}");
    free(s);
    json_decref(r);
    json_decref(o);
    /* raftkv: a build that is not there cannot run (not a usage error). */
    o = json_pack("{s:s}", "binary", "/nonexistent/raftkv");
    assert_int_not_equal(target_options_resolve(targets_find("raftkv"), o, &r,
                                                &err), FL_OK);
    assert_int_not_equal(err.code, FL_EUSAGE);
    assert_non_null(strstr(err.msg, "/nonexistent/raftkv"));
    assert_null(r);
    json_decref(o);
}

static void test_supports(void **state)
{
    (void)state;
    const char *missing;
    assert_true(target_supports_workload(&toy, "register", &missing));
    assert_false(target_supports_workload(&toy, "set", &missing));
    assert_string_equal(missing, "add");
    const target_vtable *rk = targets_find("raftkv");
    assert_true(target_supports_workload(rk, "set", &missing));
    assert_true(target_supports_workload(rk, "register", &missing));
}

/* The shared add, driven with outcomes as any target's client gives them. */
static target_result outcome(history_type type, const char *value)
{
    return (target_result){.type = type,
                           .value = value ? json_loads(value, JSON_DECODE_ANY, NULL)
                                          : NULL,
                           .error = type == HISTORY_OK ? NULL
                                    : json_pack("{s:s}", "error", "x")};
}

static void test_rmw(void **state)
{
    (void)state;
    rmw_add st;
    json_t *next;
    rmw_add_init(&st, 5);
    assert_int_equal(rmw_add_next(&st, &next), RMW_READ);
    target_result r = outcome(HISTORY_OK, "null");
    rmw_add_read_answer(&st, &r);
    assert_int_equal(rmw_add_next(&st, &next), RMW_CAS);
    assert_null(st.current);                      /* absent: create */
    char *s = json_dumps(next, JSON_COMPACT);
    assert_string_equal(s, "[5]");
    free(s);
    json_decref(next);
    /* Refused: another add came first, and the refusal says the set. */
    json_t *now = json_loads("[1]", 0, NULL);
    rmw_add_cas_refused(&st, true, now);
    json_decref(now);
    assert_int_equal(rmw_add_next(&st, &next), RMW_CAS);
    json_decref(next);
    /* Unknown, then the set shows it: ok. */
    r = outcome(HISTORY_INFO, NULL);
    rmw_add_cas_answer(&st, &r);
    assert_true(st.uncertain);
    assert_int_equal(rmw_add_next(&st, &next), RMW_READ);
    r = outcome(HISTORY_OK, "[1,5]");
    rmw_add_read_answer(&st, &r);
    assert_int_equal(rmw_add_next(&st, &next), RMW_DONE);
    assert_int_equal(st.result.type, HISTORY_OK);
    rmw_add_clear(&st);
    /* A refusal whose set is unknown: read again; give up after an unknown
     * outcome: info. */
    rmw_add_init(&st, 5);
    r = outcome(HISTORY_OK, "[2]");
    rmw_add_read_answer(&st, &r);
    rmw_add_cas_refused(&st, false, NULL);
    assert_int_equal(rmw_add_next(&st, &next), RMW_READ);
    r = outcome(HISTORY_FAIL, NULL);
    rmw_add_read_answer(&st, &r);                 /* nothing sent yet: fail */
    assert_true(st.done);
    assert_int_equal(st.result.type, HISTORY_FAIL);
    rmw_add_clear(&st);
    rmw_add_init(&st, 5);
    r = outcome(HISTORY_OK, "[2]");
    rmw_add_read_answer(&st, &r);
    r = outcome(HISTORY_INFO, NULL);
    rmw_add_cas_answer(&st, &r);
    rmw_add_give_up(&st);
    assert_int_equal(st.result.type, HISTORY_INFO);
    rmw_add_clear(&st);
}

/* As target_client_invoke does: the result starts empty. */
static void invoke(const target_vtable *vt, void *cl, target_op op,
                   target_result *r)
{
    memset(r, 0, sizeof *r);
    vt->client_invoke(cl, &op, r);
}

/* The fake: a register and a set, in process; no node is touched. */
static void test_fake(void **state)
{
    (void)state;
    const target_vtable *vt = targets_find("fake");
    void *db, *cl;
    fl_error err = {0};
    assert_int_equal(vt->create(&(target_config){0}, &db, &err), FL_OK);
    assert_int_equal(vt->client_open(db, 0, &cl, &err), FL_OK);
    json_t *k = json_integer(3), *v = json_integer(7);
    json_t *cas = json_pack("[i,i]", 7, 8), *bad = json_pack("[i,i]", 1, 2);
    target_result r;
    target_op w = {.f = "write", .key = k, .value = v};
    invoke(vt, cl, w, &r);
    assert_int_equal(r.type, HISTORY_OK);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "cas", .key = k, .value = bad}, &r);
    assert_int_equal(r.type, HISTORY_FAIL);
    assert_true(r.refused);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "cas", .key = k, .value = cas}, &r);
    assert_int_equal(r.type, HISTORY_OK);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "read", .key = k}, &r);
    assert_int_equal(json_integer_value(r.value), 8);
    target_result_clear(&r);
    json_t *k2 = json_integer(4);
    invoke(vt, cl, (target_op){.f = "add", .key = k2, .value = v}, &r);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "read", .key = k2}, &r);
    assert_int_equal(json_array_size(r.value), 1);
    target_result_clear(&r);
    char *rest = vt->rest_cmd(db, 0);
    assert_string_equal(rest, "echo running=0 stopped=0");
    free(rest);
    vt->client_close(cl);
    vt->destroy(db);
    json_decref(k), json_decref(k2), json_decref(v);
    json_decref(cas), json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_options_set),
        cmocka_unit_test(test_options_resolve),
        cmocka_unit_test(test_supports),
        cmocka_unit_test(test_rmw),
        cmocka_unit_test(test_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
