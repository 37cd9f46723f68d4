/*
 * Tests of the fault-kind table's machinery with made-up kinds, no
 * cluster: a kind is one `const fault_kind` in a table; --nemesis parsing
 * finds it by name; the scheduler draws it, and the driver (the code the
 * runner steps) applies and heals it on the planned nodes, reports each
 * action before and after, and at the end heals what is in force and
 * sweeps every node for each kind whose actions failed — in reverse table
 * order, and not at all without faults.
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

#include "harness/fault.h"

static const char *const names[] = {"n1", "n2", "n3", "n4", "n5"};

/* What the fake kinds were asked to do, and what the driver reported. */
typedef struct calls {
    int applied[FAULT_MAX_NODES], healed[FAULT_MAX_NODES];
    bool fail_apply, fail_heal;
    char events[32][160];     /* "f value" or "f value: error" once done */
    size_t count;
} calls;

/* One node: the leader when known, else a random one. */
static void flood_plan(fl_rng *rng, size_t n, long leader,
                       const fault_action *in_force, fault_action *out)
{
    assert_null(in_force->kind);   /* the scheduler alternates */
    out->nodes[leader >= 0 ? (size_t)leader : fl_rng_below(rng, n)] = true;
}

static int flood_apply(const fault_env *env, const fault_action *a,
                       size_t node, fl_error *err)
{
    calls *c = env->state;
    assert_true(a->begin && a->nodes[node]);
    c->applied[node]++;
    return c->fail_apply ? fl_error_set(err, FL_EIO, "%s: flood refused",
                                        env->names[node]) : FL_OK;
}

static int flood_heal(const fault_env *env, const fault_action *a,
                      size_t node, fl_error *err)
{
    calls *c = env->state;
    assert_true(!a->begin && a->nodes[node]);
    c->healed[node]++;
    return c->fail_heal ? fl_error_set(err, FL_EIO, "%s: drain refused",
                                       env->names[node]) : FL_OK;
}

/* Two kinds, as a new file would define each: one definition apiece. */
static const fault_kind flood = {
    .name = "flood", .begin_f = "start-flood", .end_f = "stop-flood",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal,
};
static const fault_kind drought = {
    .name = "drought", .begin_f = "start-drought", .end_f = "stop-drought",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal,
};

/* The test's table: each kind one line. */
static const fault_kind *const test_kinds[] = {
    &flood,
    &drought,
};
static const fault_table test_table = {test_kinds, 2};

static void note(void *ctx, const fault_event *ev)
{
    calls *c = ctx;
    assert_true(c->count < sizeof c->events / sizeof *c->events);
    char *v = json_dumps(ev->value, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(c->events[c->count++], sizeof *c->events, "%s%s %s%s%s",
             ev->done ? "" : "before ", ev->f, v, ev->error ? ": " : "",
             ev->error ? ev->error : "");
    free(v);
}

/* A driver of the test table on 3 nodes, with what it acts on; stays
 * where it is (the driver borrows env and c). */
typedef struct rig {
    fault_driver d;
    fault_env env;
    calls c;
    fl_error err;
} rig;

static void rig_init(rig *r, unsigned enabled)
{
    memset(r, 0, sizeof *r);
    r->env = (fault_env){.n = 3, .names = names, .state = &r->c};
    fault_driver_init(&r->d, &test_table, enabled, 5, &r->env, note, &r->c);
}

static void test_parse_by_table_names(void **state)
{
    (void)state;
    unsigned m;
    fl_error err = {0};
    assert_int_equal(fault_parse(&test_table, "drought", &m, &err), FL_OK);
    assert_int_equal(m, 2);
    assert_int_equal(fault_parse(&test_table, "drought,flood", &m, &err),
                     FL_OK);
    assert_int_equal(m, 3);
    assert_int_equal(fault_parse(&test_table, "", &m, &err), FL_OK);
    assert_int_equal(m, 0);
    assert_int_equal(fault_parse(&test_table, "flood,kill", &m, &err),
                     FL_EUSAGE);
    assert_string_equal(err.msg, "--nemesis: unknown fault \"kill\" (known: "
                                 "flood, drought, all, none)");
    assert_int_equal(fault_parse(&test_table, "all", &m, &err), FL_OK);
    assert_int_equal(m, 3);
    assert_int_equal(fault_bit(&test_table, &drought), 2);
    assert_int_equal(fault_bit(fault_builtin(), &drought), 0);
}

/* Begin, end, begin; then the final heal ends exactly what is in force,
 * once, and sweeps nothing: no action failed. */
static void test_driver_begins_ends_heals(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, 1);
    assert_int_equal(fault_driver_step(&r.d, 2, &r.err), FL_OK);
    assert_int_equal(r.c.applied[2], 1);
    assert_int_equal(fault_driver_step(&r.d, -1, &r.err), FL_OK);
    assert_int_equal(r.c.healed[2], 1);
    assert_int_equal(fault_driver_step(&r.d, 0, &r.err), FL_OK);
    assert_int_equal(fault_driver_heal_all(&r.d, &r.err), FL_OK);
    assert_true(fault_plan_idle(&r.d.plan));
    const char *want[] = {
        "before start-flood [\"n3\"]", "start-flood [\"n3\"]",
        "before stop-flood [\"n3\"]", "stop-flood [\"n3\"]",
        "before start-flood [\"n1\"]", "start-flood [\"n1\"]",
        "before stop-flood [\"n1\"]", "stop-flood [\"n1\"]",
    };
    assert_int_equal(r.c.count, 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(r.c.events[i], want[i]);
    assert_int_equal(r.c.applied[0] + r.c.applied[1] + r.c.applied[2], 2);
    assert_int_equal(r.c.healed[0] + r.c.healed[1] + r.c.healed[2], 2);
}

/* A failed begin is reported with its error, and the final heal then
 * ends the fault in force and sweeps every node of that kind. */
static void test_failure_sweeps_every_node(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, 1);
    r.c.fail_apply = true;
    assert_int_equal(fault_driver_step(&r.d, 1, &r.err), FL_EIO);
    assert_string_equal(r.err.msg, "n2: flood refused");
    assert_string_equal(r.c.events[1],
                        "start-flood [\"n2\"]: n2: flood refused");
    assert_int_equal(r.d.failed, 1);
    assert_int_equal(fault_driver_heal_all(&r.d, &r.err), FL_OK);
    assert_int_equal(r.c.count, 6);
    assert_string_equal(r.c.events[3], "stop-flood [\"n2\"]");
    assert_string_equal(r.c.events[5], "stop-flood [\"n1\",\"n2\",\"n3\"]");
    assert_int_equal(r.c.healed[0], 1);
    assert_int_equal(r.c.healed[1], 2);
    assert_int_equal(r.c.healed[2], 1);
}

/* Sweeps run in reverse table order, and a sweep that fails is the final
 * heal's error, naming the action. */
static void test_sweep_order_and_failure(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, 3);
    r.c.fail_apply = true;
    for (int i = 0; i < 40 && r.d.failed != 3; i++)
        fault_driver_step(&r.d, -1, &r.err);
    assert_int_equal(r.d.failed, 3);
    r.c.count = 0;
    r.c.fail_heal = true;
    assert_int_not_equal(fault_driver_heal_all(&r.d, &r.err), FL_OK);
    assert_string_equal(r.err.msg, "final heal (stop-drought) failed; see "
                                   "faultline.log");
    /* Whatever was in force first, then drought's sweep, then flood's. */
    size_t i = r.c.count - 4;
    assert_string_equal(r.c.events[i + 1], "stop-drought [\"n1\",\"n2\","
                        "\"n3\"]: n1: drain refused");
    assert_string_equal(r.c.events[i + 3], "stop-flood [\"n1\",\"n2\","
                        "\"n3\"]: n1: drain refused");
}

/* No kind enabled (--nemesis none): nothing is planned, applied or
 * reported, not even at the end. */
static void test_none_does_nothing(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(fault_driver_step(&r.d, 1, &r.err), FL_OK);
    assert_int_equal(fault_driver_heal_all(&r.d, &r.err), FL_OK);
    assert_int_equal(r.c.count, 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(r.c.applied[i] + r.c.healed[i], 0);
}

/* The scheduler draws every enabled kind of the table, and only those. */
static void test_scheduler_draws_enabled_kinds(void **state)
{
    (void)state;
    fault_plan p;
    fl_rng rng;
    int seen[2] = {0};
    fl_rng_seed(&rng, 3);
    fault_plan_init(&p, &test_table, 3, 5);
    for (int i = 0; i < 100; i++) {
        fault_action a;
        fault_plan_next(&p, &rng, -1, &a);
        if (a.begin)
            seen[a.kind == &drought]++;
    }
    assert_true(seen[0] > 10 && seen[1] > 10);
    fault_plan_init(&p, &test_table, 2, 5);
    for (int i = 0; i < 20; i++) {
        fault_action a;
        fault_plan_next(&p, &rng, -1, &a);
        assert_ptr_equal(a.kind, &drought);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_by_table_names),
        cmocka_unit_test(test_driver_begins_ends_heals),
        cmocka_unit_test(test_failure_sweeps_every_node),
        cmocka_unit_test(test_sweep_order_and_failure),
        cmocka_unit_test(test_none_does_nothing),
        cmocka_unit_test(test_scheduler_draws_enabled_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
