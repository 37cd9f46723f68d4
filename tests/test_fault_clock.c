/*
 * Tests of the clock faults without a cluster: their plans (a minority
 * that holds the leader when it is known, amounts within the options'
 * ranges), their history values, and their command lines run for real
 * under sh against a process preloaded with libfaketime the way the
 * target starts the database (FAULT_CLOCK_DB_ENV): an offset moves that
 * process's wall clock, a strobe loop runs until heal, heal leaves no
 * file and no loop, and apply refuses a node where nothing runs under
 * libfaketime. The libfaketime cases skip when it is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nemesis/fault.h"

static const char *const names[] = {"n1", "n2", "n3", "n4", "n5"};

static const fault_kind *kind_named(const char *name)
{
    const fault_table *t = fault_builtin();
    for (size_t k = 0; k < t->count; k++)
        if (strcmp(t->kinds[k]->name, name) == 0)
            return t->kinds[k];
    fail_msg("no kind %s", name);
    return NULL;
}

static void plan(const char *kind, uint64_t seed, long leader,
                 fault_action *a)
{
    fl_rng rng;
    fl_rng_seed(&rng, seed);
    memset(a, 0, sizeof *a);
    a->kind = kind_named(kind);
    a->begin = true;
    a->kind->plan(&rng, 5, leader, NULL, 0, a);
}

static void test_plans(void **state)
{
    (void)state;
    const char *kinds[] = {"clock-skew", "clock-strobe", "clock-rate"};
    for (size_t k = 0; k < 3; k++)
        for (uint64_t seed = 1; seed <= 100; seed++) {
            fault_action a;
            long leader = (long)(seed % 6) - 1;   /* -1: unknown */
            plan(kinds[k], seed, leader, &a);
            size_t count = 0;
            for (size_t i = 0; i < 5; i++) {
                count += a.nodes[i];
                if (!a.nodes[i])
                    continue;
                double x = a.amount[i];
                if (k == 0)   /* within +-[6, 60] s by default */
                    assert_true((x >= 6 && x <= 60) || (x <= -6 && x >= -60));
                else if (k == 1)
                    assert_true(x == 10);   /* the delta, 10000 ms */
                else
                    assert_true(x >= 1.01 && x <= 2);
            }
            assert_true(count >= 1 && count <= 2);   /* a minority of 5 */
            if (leader >= 0)
                assert_true(a.nodes[leader]);
        }
}

/* What is in force steers the plans: a clock fault never goes to a node
 * whose database a kill holds down (libfaketime lives in the database
 * process), not even the leader, and goes nowhere when every node's is
 * down; a partition begun while a clock fault is on one node cuts that
 * node off from the rest two times in three (so about that often, or a
 * little more as other shapes may cut it off too), and ignores a clock
 * fault on a majority. */
static void test_plans_see_what_is_in_force(void **state)
{
    (void)state;
    fault_action kill = {.kind = kind_named("kill"), .begin = true,
                         .nodes = {true}};
    fault_action all_down = {.kind = kind_named("power-loss"), .begin = true,
                             .nodes = {true, true, true, true, true}};
    for (uint64_t seed = 1; seed <= 100; seed++) {
        fl_rng rng;
        fl_rng_seed(&rng, seed);
        fault_action a = {.kind = kind_named("clock-skew"), .begin = true};
        a.kind->plan(&rng, 5, 0, &kill, 1, &a);
        size_t count = 0;
        for (size_t i = 0; i < 5; i++)
            count += a.nodes[i];
        assert_false(a.nodes[0]);
        assert_true(count >= 1 && count <= 2);
        fault_action b = {.kind = kind_named("clock-strobe"), .begin = true};
        b.kind->plan(&rng, 5, 0, &all_down, 1, &b);
        for (size_t i = 0; i < 5; i++)
            assert_false(b.nodes[i]);
    }
    fault_action skew = {.kind = kind_named("clock-skew"), .begin = true,
                         .nodes = {false, false, true}};
    fault_action wide = {.kind = kind_named("clock-rate"), .begin = true,
                         .nodes = {true, true, true}};
    int cut = 0, cut_wide = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        fl_rng rng;
        fl_rng_seed(&rng, seed);
        fault_action p = {.kind = kind_named("partition"), .begin = true};
        p.kind->plan(&rng, 5, -1, &skew, 1, &p);
        size_t hears = 0;
        for (size_t j = 0; j < 5; j++)
            hears += !p.grudge.drop[2][j];
        cut += hears == 1;
        fault_action q = {.kind = kind_named("partition"), .begin = true};
        q.kind->plan(&rng, 5, -1, &wide, 1, &q);
        hears = 0;
        for (size_t j = 0; j < 5; j++)
            hears += !q.grudge.drop[2][j];
        cut_wide += hears == 1;
    }
    assert_in_range(cut, 200, 250);
    assert_true(cut_wide < 60);   /* isolate-one of node 3: about 1 in 25 */
}

static void test_descriptions(void **state)
{
    (void)state;
    fault_action a;
    plan("clock-skew", 3, 2, &a);
    json_t *v = a.kind->describe(&a, 5, names);
    json_t *off = json_object_get(v, "offset-s");
    assert_true(json_number_value(json_object_get(off, "n3")) == a.amount[2]);
    json_decref(v);
    plan("clock-strobe", 3, 2, &a);
    v = a.kind->describe(&a, 5, names);
    assert_true(json_number_value(json_object_get(v, "period-ms")) == 100);
    json_decref(v);
    a.begin = false;
    v = a.kind->describe(&a, 5, names);
    assert_true(json_is_array(v));
    json_decref(v);
}

/* ---- the commands under sh ------------------------------------------------------ */

typedef struct rig {
    char dir[64];       /* the node directory's base; node n1 under it */
    char file[128];     /* n1's clock file */
    pid_t holder;       /* a process under libfaketime, or 0 */
} rig;

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int rig_setup(void **state)
{
    rig *r = calloc(1, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/fl-clock-XXXXXX");
    if (!r || !mkdtemp(r->dir))
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/n1", r->dir);
    sh(cmd);
    snprintf(r->file, sizeof r->file, "%s/n1/" FAULT_CLOCK_FILE, r->dir);
    *state = r;
    return 0;
}

static int rig_teardown(void **state)
{
    rig *r = *state;
    char cmd[256];
    if (r->holder)
        kill(r->holder, 9);
    snprintf(cmd, sizeof cmd, "rm -rf %s", r->dir);
    sh(cmd);
    free(r);
    return 0;
}

/* `date +%s` as n1's database would see it. */
static long node_now(const rig *r)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "d=%s/n1; env " FAULT_CLOCK_DB_ENV " date +%%s",
             r->dir);
    FILE *p = popen(cmd, "r");
    long t = 0;
    if (p && fscanf(p, "%ld", &t) != 1)
        t = 0;
    if (p)
        pclose(p);
    return t;
}

static void hold(rig *r)
{
    char d[128];
    snprintf(d, sizeof d, "%s/n1", r->dir);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("LD_PRELOAD", FAULT_CLOCK_LIB, 1);
        char f[160];
        snprintf(f, sizeof f, "%s/" FAULT_CLOCK_FILE, d);
        setenv("FAKETIME_TIMESTAMP_FILE", f, 1);
        execlp("sleep", "sleep", "60", (char *)NULL);
        _exit(127);
    }
    r->holder = pid;
    /* Until the child runs sleep with libfaketime mapped (a fixed pause
     * lost the race on a loaded machine: apply found no such process). */
    char maps[64], cmd[128];
    snprintf(maps, sizeof maps, "/proc/%d/maps", (int)pid);
    snprintf(cmd, sizeof cmd, "grep -q libfaketime %s 2>/dev/null", maps);
    for (int i = 0; i < 500 && system(cmd) != 0; i++)
        usleep(10000);
}

static void test_apply_refused_without_faketime(void **state)
{
    rig *r = *state;
    fault_action a;
    plan("clock-skew", 5, 0, &a);
    char *cmd = fault_clock_apply_cmd(&a, 0, r->dir, "n1");
    assert_non_null(cmd);
    assert_int_not_equal(sh(cmd), 0);
    assert_int_not_equal(access(r->file, F_OK), 0);
    free(cmd);
}

static void test_skew_strobe_heal(void **state)
{
    rig *r = *state;
    if (access(FAULT_CLOCK_LIB, R_OK) != 0)
        skip();
    hold(r);
    fault_action a;
    plan("clock-skew", 5, 0, &a);
    a.amount[0] = -3600;
    char *cmd = fault_clock_apply_cmd(&a, 0, r->dir, "n1");
    assert_int_equal(sh(cmd), 0);
    free(cmd);
    long skewed = node_now(r), now = (long)time(NULL);
    assert_true(skewed < now - 3500 && skewed > now - 3700);
    /* A strobe: a loop rewriting the file until heal. */
    plan("clock-strobe", 5, 0, &a);
    cmd = fault_clock_apply_cmd(&a, 0, r->dir, "n1");
    assert_int_equal(sh(cmd), 0);
    free(cmd);
    char check[512];
    snprintf(check, sizeof check, "pgrep -f '^sh -c while :; do .* "
             "faultline-clock-strobe %s$' >/dev/null", r->file);
    assert_int_equal(sh(check), 0);
    cmd = fault_clock_heal_cmd(r->dir, "n1");
    assert_int_equal(sh(cmd), 0);
    free(cmd);
    assert_int_not_equal(sh(check), 0);
    assert_int_not_equal(access(r->file, F_OK), 0);
    now = (long)time(NULL);
    long healed = node_now(r);
    assert_true(healed >= now - 2 && healed <= now + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_plans_see_what_is_in_force),
        cmocka_unit_test(test_descriptions),
        cmocka_unit_test_setup_teardown(test_apply_refused_without_faketime,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_skew_strobe_heal, rig_setup,
                                        rig_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
