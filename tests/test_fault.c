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

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nemesis/fault.h"

static const char *const names[] = {"n1", "n2", "n3", "n4", "n5"};

/* What the fake kinds were asked to do, and what the driver reported. */
typedef struct calls {
    int applied[FAULT_MAX_NODES], healed[FAULT_MAX_NODES];
    bool fail_apply, fail_heal;
    char events[32][160];     /* "f value" or "f value: error" once done */
    size_t count;
} calls;

/* One node: the leader when known, else a random one. What is in force
 * is never of its own kind (a cycle has one fault at a time). */
static void flood_plan(fl_rng *rng, size_t n, long leader,
                       const fault_action *in_force, size_t nforce,
                       fault_action *out)
{
    for (size_t f = 0; f < nforce; f++)
        assert_ptr_not_equal(in_force[f].kind, out->kind);
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

/* A kind that leaves state on a node (a marker file, as a mounted
 * filesystem or a qdisc would be): its rest removes it and says how many
 * it found; prepare and teardown count their calls. */
static char *silt_rest(const fault_env *env, size_t node)
{
    char *s = NULL;
    if (asprintf(&s, "echo silt=$(ls %s 2>/dev/null | wc -l); rm -f %s; "
                 "! [ -e %s ]", env->names[node], env->names[node],
                 env->names[node]) < 0)
        return NULL;
    return s;
}

/* A kind whose rest fails: the node cannot be brought to rest. */
static char *stuck_rest(const fault_env *env, size_t node)
{
    (void)env;
    (void)node;
    return strdup("echo stuck=1; exit 1");
}

static int silt_prepare(const fault_env *env, size_t node, fl_error *err)
{
    calls *c = env->state;
    c->applied[node]++;
    snprintf(c->events[c->count++], sizeof *c->events, "prepare silt %s",
             env->names[node]);
    return c->fail_apply && node == 1
               ? fl_error_set(err, FL_EIO, "%s: no room", env->names[node])
               : FL_OK;
}

static int silt_teardown(const fault_env *env, size_t node, fl_error *err)
{
    calls *c = env->state;
    c->healed[node]++;
    snprintf(c->events[c->count++], sizeof *c->events, "teardown silt %s",
             env->names[node]);
    return c->fail_heal && node == 2
               ? fl_error_set(err, FL_EIO, "%s: busy", env->names[node])
               : FL_OK;
}

static int mud_teardown(const fault_env *env, size_t node, fl_error *err)
{
    (void)err;
    calls *c = env->state;
    snprintf(c->events[c->count++], sizeof *c->events, "teardown mud %s",
             env->names[node]);
    return FL_OK;
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

static const fault_kind silt = {
    .name = "silt", .begin_f = "start-silt", .end_f = "stop-silt",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal,
    .rest = silt_rest, .prepare = silt_prepare, .teardown = silt_teardown,
};
static const fault_kind stuck = {
    .name = "stuck", .begin_f = "start-stuck", .end_f = "stop-stuck",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal, .rest = stuck_rest,
};
static const fault_kind mud = {
    .name = "mud", .begin_f = "start-mud", .end_f = "stop-mud",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal, .teardown = mud_teardown,
};

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
    fault_driver_init(&r->d, &test_table, enabled, 5, 1.0, &r->env, note,
                      &r->c);
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
    assert_int_equal(fault_all(&test_table), 3);
    char list[64];
    fault_names(&test_table, ",", list, sizeof list);
    assert_string_equal(list, "flood,drought");
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
    fault_plan_init(&p, &test_table, 3, 5, 1.0, &rng);
    for (int i = 0; i < 100; i++) {
        fault_action a;
        fault_plan_next(&p, &rng, -1, &a);
        if (a.begin)
            seen[a.kind == &drought]++;
    }
    assert_true(seen[0] > 10 && seen[1] > 10);
    fault_plan_init(&p, &test_table, 2, 5, 1.0, &rng);
    for (int i = 0; i < 20; i++) {
        fault_action a;
        fault_plan_next(&p, &rng, -1, &a);
        assert_ptr_equal(a.kind, &drought);
    }
}

/* ---- composing faults: cycles and the overlap rule --------------------------- */

/* Kinds as the built-in ones declare what they act on: a net (nothing
 * shared), two on the database process, one on the clock, and one on
 * both (which joins the process and clock cycles into one). */
static const fault_kind net = {
    .name = "net", .begin_f = "start-net", .end_f = "stop-net",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal,
};
static const fault_kind stop = {
    .name = "stop", .begin_f = "start-stop", .end_f = "stop-stop",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal, .acts_on = FAULT_ON_PROCESS,
};
static const fault_kind freeze = {
    .name = "freeze", .begin_f = "start-freeze", .end_f = "stop-freeze",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal, .acts_on = FAULT_ON_PROCESS,
};
static const fault_kind skew = {
    .name = "skew", .begin_f = "start-skew", .end_f = "stop-skew",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal, .acts_on = FAULT_ON_CLOCK,
};
static const fault_kind both = {
    .name = "both", .begin_f = "start-both", .end_f = "stop-both",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = flood_apply, .heal = flood_heal,
    .acts_on = FAULT_ON_PROCESS | FAULT_ON_CLOCK,
};
static const fault_kind *const mix_kinds[] = {&net, &stop, &freeze, &skew,
                                              &both};
static const fault_table mix_table = {mix_kinds, 5};

/* Table index of a's kind. */
static size_t kind_index(const fault_table *t, const fault_action *a)
{
    for (size_t k = 0; k < t->count; k++)
        if (t->kinds[k] == a->kind)
            return k;
    fail_msg("a kind not in the table");
    return 0;
}

/* Over many seeds and actions of net, stop, freeze and skew: no two
 * faults whose kinds act on the same thing are ever in force together
 * (so never two on one node's database process), while faults of kinds
 * that share nothing do overlap; every end ends the fault its kind began,
 * on the same nodes; actions come in time order, each cycle's a stagger
 * (in [0, 2 * interval)) after its previous one, about interval apart on
 * average; and healing ends everything. */
static void test_cycles_overlap_by_rule(void **state)
{
    (void)state;
    size_t overlaps = 0, actions = 0;
    double gaps = 0;
    size_t ngaps = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        fault_plan p;
        fl_rng rng;
        fl_rng_seed(&rng, seed);
        fault_plan_init(&p, &mix_table, 0xf, 5, 2.0, &rng);
        assert_int_equal(p.ncycles, 3);   /* net | stop+freeze | skew */
        fault_action began[5] = {{0}};
        double last = 0, last_of[5] = {0};
        for (int i = 0; i < 200; i++) {
            double due = fault_plan_due(&p);
            assert_true(due >= last);
            last = due;
            bool begins = fault_plan_next_begins(&p);
            fault_action a;
            fault_plan_next(&p, &rng, i % 4 == 0 ? 2 : -1, &a);
            assert_non_null(a.kind);
            assert_int_equal(a.begin, begins);
            size_t k = kind_index(&mix_table, &a);
            if (last_of[k] > 0 && k == 0) {
                assert_true(due - last_of[k] < 2 * 2.0);
                gaps += due - last_of[k];
                ngaps++;
            }
            last_of[k] = due;
            actions++;
            if (a.begin) {
                assert_null(began[k].kind);
                began[k] = a;
            } else {
                assert_non_null(began[k].kind);
                assert_memory_equal(a.nodes, began[k].nodes, sizeof a.nodes);
                memset(&began[k], 0, sizeof began[k]);
            }
            fault_action now[FAULT_MAX_KINDS];
            size_t nforce = fault_plan_in_force(&p, now);
            for (size_t x = 0; x < nforce; x++)
                for (size_t y = x + 1; y < nforce; y++)
                    assert_int_equal(now[x].kind->acts_on &
                                     now[y].kind->acts_on, 0);
            overlaps += nforce >= 2;
        }
        fault_action a;
        size_t ended = 0;
        for (fault_plan_heal(&p, &a); a.kind; fault_plan_heal(&p, &a)) {
            size_t k = kind_index(&mix_table, &a);
            assert_false(a.begin);
            assert_non_null(began[k].kind);
            memset(&began[k], 0, sizeof began[k]);
            ended++;
        }
        assert_true(fault_plan_idle(&p));
        for (size_t k = 0; k < 5; k++)
            assert_null(began[k].kind);
    }
    assert_true(overlaps > actions / 4);
    assert_in_range((long)(100 * gaps / (double)ngaps), 170, 230);
}

/* Sharing is transitive: a kind on both the process and the clock puts
 * every process and clock kind into one cycle. No kind enabled, or no
 * nodes: nothing is ever due. */
static void test_cycles_merge_and_none(void **state)
{
    (void)state;
    fault_plan p;
    fl_rng rng;
    fl_rng_seed(&rng, 1);
    fault_plan_init(&p, &mix_table, 0x1f, 5, 1.0, &rng);
    assert_int_equal(p.ncycles, 2);
    assert_int_equal(p.cycles[0].kinds, 0x1);
    assert_int_equal(p.cycles[1].kinds, 0x1e);
    fault_plan_init(&p, &mix_table, 0, 5, 1.0, &rng);
    assert_true(fault_plan_due(&p) < 0);
    fault_action a;
    fault_plan_next(&p, &rng, -1, &a);
    assert_null(a.kind);
    fault_plan_init(&p, &mix_table, 0x1, 0, 1.0, &rng);
    assert_true(fault_plan_due(&p) < 0);
}

/* The same seed and the same leaders draw the same schedule: times,
 * kinds, nodes. */
static void test_schedule_is_seeded(void **state)
{
    (void)state;
    fault_plan p1, p2;
    fl_rng r1, r2;
    fl_rng_seed(&r1, 42);
    fl_rng_seed(&r2, 42);
    fault_plan_init(&p1, &mix_table, 0xf, 5, 3.0, &r1);
    fault_plan_init(&p2, &mix_table, 0xf, 5, 3.0, &r2);
    for (int i = 0; i < 100; i++) {
        assert_true(fault_plan_due(&p1) == fault_plan_due(&p2));
        fault_action a, b;
        fault_plan_next(&p1, &r1, i % 3 ? 1 : -1, &a);
        fault_plan_next(&p2, &r2, i % 3 ? 1 : -1, &b);
        assert_ptr_equal(a.kind, b.kind);
        assert_int_equal(a.begin, b.begin);
        assert_memory_equal(a.nodes, b.nodes, sizeof a.nodes);
    }
}

/* Driven to the end: with overlapping faults in force, the final heal
 * ends each exactly once, the last in table order first, so that every
 * fault begun has its end in the events. */
static void test_heal_all_ends_every_fault(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        rig r;
        memset(&r, 0, sizeof r);
        r.env = (fault_env){.n = 3, .names = names, .state = &r.c};
        fault_driver_init(&r.d, &test_table, 3, seed, 1.0, &r.env, note,
                          &r.c);
        int steps = (int)(seed % 7) + 1;
        for (int i = 0; i < steps; i++)
            assert_int_equal(fault_driver_step(&r.d, -1, &r.err), FL_OK);
        assert_int_equal(fault_driver_heal_all(&r.d, &r.err), FL_OK);
        assert_true(fault_plan_idle(&r.d.plan));
        int open[2] = {0};
        for (size_t e = 0; e < r.c.count; e++) {
            if (strncmp(r.c.events[e], "before ", 7) == 0)
                continue;
            bool dr = strstr(r.c.events[e], "-drought") != NULL;
            open[dr] += strncmp(r.c.events[e], "start-", 6) == 0 ? 1 : -1;
            assert_true(open[dr] == 0 || open[dr] == 1);
        }
        assert_int_equal(open[0], 0);
        assert_int_equal(open[1], 0);
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(r.c.applied[i], r.c.healed[i]);
    }
}

/* A kind whose apply stalls, as a remote command that never answers
 * (a `sleep 1000` on the node): it returns only once the test releases it
 * (or after 20 s, so that a driver without a bound fails the test rather
 * than hanging it). */
static atomic_bool stall_release, stall_returned;

static int stall_apply(const fault_env *env, const fault_action *a,
                       size_t node, fl_error *err)
{
    (void)env;
    (void)a;
    (void)node;
    for (int i = 0; i < 2000 && !atomic_load(&stall_release); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&stall_returned, true);
    return fl_error_set(err, FL_EIO, "stalled");
}

static const fault_kind stall = {
    .name = "stall", .begin_f = "start-stall", .end_f = "stop-stall",
    .plan = flood_plan, .describe = fault_nodes_json,
    .apply = stall_apply, .heal = flood_heal,
};
static const fault_kind *const stall_kinds[] = {&stall};
static const fault_table stall_table = {stall_kinds, 1};

/* An action that cannot be done in time is reported done and failed,
 * naming the action and the node it is stuck on, while it still runs;
 * the schedule goes on (the next action is carried out), and the final
 * heal waits for the straggler before it sweeps. */
static void test_stalled_action_is_bounded(void **state)
{
    (void)state;
    rig r;
    memset(&r, 0, sizeof r);
    r.env = (fault_env){.n = 3, .names = names, .state = &r.c};
    fault_driver_init(&r.d, &stall_table, 1, 5, 1.0, &r.env, note, &r.c);
    fault_driver_bound(&r.d, 0.2);
    atomic_store(&stall_release, false);
    atomic_store(&stall_returned, false);
    assert_int_equal(fault_driver_step(&r.d, 1, &r.err), FAULT_ETIMEOUT);
    assert_false(atomic_load(&stall_returned));   /* still stuck */
    assert_string_equal(r.err.msg, "start-stall not done within 0.2 s on n2 "
                        "(left to finish; the schedule goes on)");
    assert_string_equal(r.c.events[1], "start-stall [\"n2\"]: start-stall "
                        "not done within 0.2 s on n2 (left to finish; the "
                        "schedule goes on)");
    assert_int_equal(r.d.failed, 1);
    /* The schedule goes on: the end is carried out at once. */
    assert_int_equal(fault_driver_step(&r.d, -1, &r.err), FL_OK);
    assert_string_equal(r.c.events[3], "stop-stall [\"n2\"]");
    atomic_store(&stall_release, true);
    assert_int_equal(fault_driver_heal_all(&r.d, &r.err), FL_OK);
    assert_true(atomic_load(&stall_returned));
    /* The sweep of the failed kind, every node. */
    assert_string_equal(r.c.events[r.c.count - 1],
                        "stop-stall [\"n1\",\"n2\",\"n3\"]");
    fault_driver_finish(&r.d);
}

/* Run cmd under sh in dir: its exit status, its output in out. */
static int sh_in(const char *dir, const char *cmd, char *out, size_t size)
{
    char *full = NULL;
    assert_true(asprintf(&full, "cd %s && { %s\n}", dir, cmd) > 0);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    free(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The rest at the start of a run and in the dead man's switch is composed
 * from the table: the target's rest, then each kind's that has one, each
 * run whatever the others did; a kind's failure fails the whole, the
 * target's does not; what each kind found is read back by its name. */
static void test_rest_composed_from_table(void **state)
{
    (void)state;
    const fault_kind *const kinds[] = {&flood, &stuck, &silt};
    const fault_table t = {kinds, 3};
    const fault_table t_ok = {kinds + 2, 1};
    fault_env env = {.n = 3, .names = names};
    char dir[] = "/tmp/fl-test-fault-XXXXXX", out[512];
    assert_non_null(mkdtemp(dir));

    char *cmd = fault_rest_cmd(&t_ok, &env, 1, "echo running=0; false");
    assert_non_null(cmd);
    assert_non_null(strstr(cmd, "rm -f n2"));      /* node 1's own rest */
    assert_null(strstr(cmd, "rm -f n1"));
    char touch[128];
    snprintf(touch, sizeof touch, "touch %s/n2", dir);
    assert_int_equal(system(touch), 0);
    assert_int_equal(sh_in(dir, cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "running=0\n"));
    assert_non_null(strstr(out, "silt=1\n"));
    json_t *found = fault_rest_found(&t_ok, out);
    assert_int_equal(json_integer_value(json_object_get(found, "silt")), 1);
    json_decref(found);
    /* At rest now: a second rest finds nothing, and says so. */
    assert_int_equal(sh_in(dir, cmd, out, sizeof out), 0);
    found = fault_rest_found(&t_ok, out);
    assert_int_equal(json_object_size(found), 0);
    json_decref(found);
    free(cmd);

    /* A kind whose rest fails: the whole fails, the next kind still ran. */
    assert_int_equal(system(touch), 0);
    cmd = fault_rest_cmd(&t, &env, 1, "echo running=0");
    assert_non_null(cmd);
    assert_int_not_equal(sh_in(dir, cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "stuck=1\n"));
    assert_non_null(strstr(out, "silt=1\n"));
    found = fault_rest_found(&t, out);
    assert_int_equal(json_object_size(found), 2);
    json_decref(found);
    free(cmd);
    rmdir(dir);
}

/* The built-in table's rest removes faultline's iptables rules: the
 * partition kind's, not orchestration's. */
static void test_builtin_rest_is_the_kinds(void **state)
{
    (void)state;
    fault_env env = {.n = 1, .names = names};
    char *cmd = fault_rest_cmd(fault_builtin(), &env, 0, "true");
    assert_non_null(cmd);
    assert_non_null(strstr(cmd, nem_iptables_heal_cmd()));
    assert_non_null(strstr(cmd, "echo partition="));
    free(cmd);
    json_t *found = fault_rest_found(fault_builtin(),
                                     "running=2\npartition=4\nkill=0\n");
    assert_int_equal(json_integer_value(json_object_get(found, "partition")),
                     4);
    assert_int_equal(json_object_size(found), 1);
    json_decref(found);
    /* Every kind documents itself for --help, and the report can pair
     * its events. */
    const fault_table *b = fault_builtin();
    json_t *kinds = fault_table_json(b);
    assert_int_equal(json_array_size(kinds), b->count);
    for (size_t k = 0; k < b->count; k++) {
        assert_non_null(b->kinds[k]->summary);
        assert_string_equal(json_string_value(json_object_get(
            json_array_get(kinds, k), "begin_f")), b->kinds[k]->begin_f);
        for (size_t j = 0; j < k; j++)
            assert_string_not_equal(b->kinds[j]->begin_f,
                                    b->kinds[k]->begin_f);
    }
    json_decref(kinds);
    unsigned m;
    fl_error err = {0};
    assert_int_equal(fault_parse(b, fault_default_list(), &m, &err), FL_OK);
    assert_int_not_equal(m, 0);
}

/* prepare runs for enabled kinds only, on every node, and stops at the
 * first kind that fails; teardown runs in reverse table order on every
 * node, each kind attempted even after one failed. */
static void test_prepare_and_teardown(void **state)
{
    (void)state;
    const fault_kind *const kinds[] = {&silt, &flood, &mud};
    const fault_table t = {kinds, 3};
    calls c = {0};
    fault_env env = {.n = 3, .names = names, .state = &c};
    fl_error err = {0};
    assert_int_equal(fault_prepare_all(&t, 2, &env, &err), FL_OK);
    assert_int_equal(c.count, 0);                 /* silt not enabled */
    assert_int_equal(fault_prepare_all(&t, 7, &env, &err), FL_OK);
    assert_int_equal(c.count, 3);
    assert_string_equal(c.events[2], "prepare silt n3");
    c = (calls){.fail_apply = true};
    assert_int_equal(fault_prepare_all(&t, 1, &env, &err), FL_EIO);
    assert_string_equal(err.msg, "preparing --nemesis silt: n2: no room");
    assert_int_equal(c.applied[2], 1);            /* every node attempted */

    c = (calls){.fail_heal = true};
    err = (fl_error){0};
    assert_int_equal(fault_teardown_all(&t, 5, &env, &err), FL_EIO);
    assert_string_equal(err.msg, "tearing down --nemesis silt: n3: busy");
    assert_int_equal(c.count, 6);
    assert_string_equal(c.events[0], "teardown mud n1");
    assert_string_equal(c.events[3], "teardown silt n1");
    c = (calls){0};
    assert_int_equal(fault_teardown_all(&t, 4, &env, &err), FL_OK);
    assert_int_equal(c.count, 3);
}

/* A target's election call, for the vtables below. */
static int any_election(void *st, size_t node, target_election *out,
                        fl_error *err)
{
    (void)st;
    (void)node;
    (void)out;
    (void)err;
    return FL_OK;
}

/* "--nemesis all" against the built-in table: a target that cannot take
 * libfaketime loses the clock kinds, one without a data directory loses
 * power-loss, one that cannot report elections election-kill, and --db
 * existing without commands keeps only what acts on the network; each
 * reason is said once, naming its kinds. */
static void test_all_is_what_the_run_can_take(void **state)
{
    (void)state;
    const fault_table *b = fault_builtin();
    unsigned all = fault_all(b), clocks = 0, data = 0, db_calls = 0,
             elections = 0;
    for (size_t k = 0; k < b->count; k++) {
        const fault_kind *kind = b->kinds[k];
        if (kind->db_env)
            clocks |= 1u << k;
        if (kind->db_needs & TARGET_DB_ELECTION)
            elections |= 1u << k;
        if (kind->db_needs & TARGET_DB_DATA)
            data |= 1u << k;
        if (kind->db_needs)
            db_calls |= 1u << k;
    }
    assert_true(clocks && data && elections && (db_calls & ~data));
    target_vtable raftkv_like = {.name = "x", .takes_db_env = true,
                                 .data_dir = "data",
                                 .election = any_election};
    target_vtable go_like = {.name = "y", .data_dir = "data",
                             .election = any_election};
    target_vtable dataless = {.name = "z", .takes_db_env = true,
                              .election = any_election};
    target_vtable no_elections = {.name = "w", .takes_db_env = true,
                                  .data_dir = "data"};
    char why[512];
    assert_int_equal(fault_usable(b, all, &raftkv_like, NULL, why, sizeof why),
                     all);
    assert_string_equal(why, "");
    assert_int_equal(fault_usable(b, all, &go_like, NULL, why, sizeof why),
                     all & ~clocks);
    assert_string_equal(why, "clock-skew, clock-strobe, clock-rate (the "
                             "target cannot start its database under "
                             "libfaketime)");
    assert_int_equal(fault_usable(b, all, &dataless, NULL, NULL, 0),
                     all & ~data);
    assert_int_equal(fault_usable(b, all, &no_elections, NULL, why,
                                  sizeof why), all & ~elections);
    assert_string_equal(why, "election-kill (the target cannot report a "
                             "node's election)");
    target_db existing = {.mode = TARGET_DB_EXISTING};
    assert_int_equal(fault_usable(b, all, &raftkv_like, &existing, why,
                                  sizeof why), all & ~db_calls);
    assert_non_null(strstr(why, "(--db existing without the commands it "
                                "needs); power-loss, bitflip, truncate, "
                                "snapshot (--db existing: the database's "
                                "files are yours)"));
    existing.kill_cmd = "k";
    existing.start_cmd = "s";
    unsigned kill = 0;
    fl_error err = {0};
    assert_int_equal(fault_parse(b, "kill", &kill, &err), FL_OK);
    assert_true(fault_usable(b, all, &raftkv_like, &existing, NULL, 0) &
                kill);
    /* the commands do not make the processes faultline's */
    assert_false(fault_usable(b, all, &raftkv_like, &existing, why,
                              sizeof why) & elections);
    assert_non_null(strstr(why, "election-kill (--db existing: the "
                                "database's processes are yours)"));
    /* Only the asked-for kinds are judged. */
    assert_int_equal(fault_usable(b, kill, &go_like, NULL, why, sizeof why),
                     kill);
    assert_string_equal(why, "");
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
        cmocka_unit_test(test_cycles_overlap_by_rule),
        cmocka_unit_test(test_cycles_merge_and_none),
        cmocka_unit_test(test_schedule_is_seeded),
        cmocka_unit_test(test_heal_all_ends_every_fault),
        cmocka_unit_test(test_stalled_action_is_bounded),
        cmocka_unit_test(test_rest_composed_from_table),
        cmocka_unit_test(test_builtin_rest_is_the_kinds),
        cmocka_unit_test(test_prepare_and_teardown),
        cmocka_unit_test(test_all_is_what_the_run_can_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
