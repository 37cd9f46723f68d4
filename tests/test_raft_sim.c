/*
 * The seeded chaos simulation of a Raft cluster (targets/raftkv/
 * raft_fixture.h): for each seed, faults of every kind while the oracle
 * checks Raft's safety properties after every tick, then a heal after which
 * the cluster must make progress in bounded time.
 *
 *   RAFT_SIM_SEEDS=N   seeds per configuration (default below)
 *   RAFT_SIM_SEED=S    replay only seed S (printed on failure)
 *   RAFT_SIM_STORAGE_SEEDS=N  seeds run through raft_storage files
 *   RAFT_SIM_VERBOSE=1 print per-seed statistics
 *   RAFT_SIM_TRACE=1   print elections, crashes and restarts as they happen
 *
 * How often volatile-vote gives two leaders under a real nemesis's faults is
 * a measurement, not a test: bench/bench_vv_hunt.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "tests/fixtures/raft_fixture.h"

#define DEFAULT_SEEDS 7000
#define DEFAULT_STORAGE_SEEDS 20

/* One seed; *why gets the violation. */
static bool run_seed(const raft_sim_opts *o, uint64_t seed, char *why,
                     size_t wlen)
{
    raft_sim_opts oo = *o;
    oo.trace = getenv("RAFT_SIM_TRACE") != NULL;
    raft_sim_result r;
    bool ok = raft_fixture_sim_run(&oo, seed, &r);
    if (getenv("RAFT_SIM_VERBOSE"))
        fprintf(stderr,
                "seed %llu n=%u: %llu leaders, %llu applied, %llu reads, "
                "%llu crashes, %llu snapshots installed, %llu truncations, "
                "%llu double (%llu simultaneous)%s%s\n",
                (unsigned long long)seed, o->n,
                (unsigned long long)r.n_leaders,
                (unsigned long long)r.n_applied,
                (unsigned long long)r.n_reads_ok,
                (unsigned long long)r.n_crashes,
                (unsigned long long)r.n_snap_installs,
                (unsigned long long)r.n_truncations,
                (unsigned long long)r.n_double,
                (unsigned long long)r.n_double_simul,
                r.violation[0] ? ": " : "", r.violation);
    snprintf(why, wlen, "%s", r.violation);
    return ok;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

static const raft_sim_opts CHAOS = {.loss = 0.05, .dup = 0.03, .max_delay = 3,
                               .crash = 0.01, .restart = 0.05,
                               .partition = 0.02, .crash_mid_ready = 0.002,
                               .vary = true};

static void run_many(uint32_t n)
{
    raft_sim_opts o = CHAOS;
    o.n = n;
    char why[512];
    const char *one = getenv("RAFT_SIM_SEED");
    if (one && *one) {
        uint64_t seed = strtoull(one, NULL, 10);
        if (!run_seed(&o, seed, why, sizeof why))
            fail_msg("n=%u seed %llu: %s", n, (unsigned long long)seed, why);
        return;
    }
    uint64_t seeds = env_u64("RAFT_SIM_SEEDS", DEFAULT_SEEDS);
    double t0 = fl_clock_mono_s();
    for (uint64_t seed = 1; seed <= seeds; seed++)
        if (!run_seed(&o, seed, why, sizeof why))
            fail_msg("n=%u seed %llu (replay: RAFT_SIM_SEED=%llu): %s", n,
                     (unsigned long long)seed, (unsigned long long)seed, why);
    double secs = fl_clock_mono_s() - t0;
    printf("raft sim n=%u: %llu seeds in %.1fs (%.1fs per 1000)\n", n,
           (unsigned long long)seeds, secs, secs * 1000.0 / (double)seeds);
}

static void test_sim_3_nodes(void **state)
{
    (void)state;
    run_many(3);
}

static void test_sim_5_nodes(void **state)
{
    (void)state;
    run_many(5);
}

/* Fewer seeds, through real files: after every restart the storage must
 * recover exactly what the model disk holds. */
static void test_sim_with_storage(void **state)
{
    (void)state;
    raft_sim_opts o = CHAOS;
    o.n = 3;
    o.storage = true;
    o.crash = 0.03;
    o.restart = 0.2;
    char why[512];
    const char *one = getenv("RAFT_SIM_SEED");
    uint64_t first = one && *one ? strtoull(one, NULL, 10) : 1;
    uint64_t last = one && *one ? first
                                : env_u64("RAFT_SIM_STORAGE_SEEDS",
                                          DEFAULT_STORAGE_SEEDS);
    for (uint64_t seed = first; seed <= last; seed++)
        if (!run_seed(&o, seed, why, sizeof why))
            fail_msg("storage seed %llu (replay: RAFT_SIM_SEED=%llu): %s",
                     (unsigned long long)seed, (unsigned long long)seed, why);
}

/* The checks must be able to fail: with votes forgotten across crashes, some
 * seed must catch two leaders in one term. */
static void test_sim_finds_volatile_vote(void **state)
{
    (void)state;
    if (getenv("RAFT_SIM_SEED"))
        skip();
    raft_sim_opts o = CHAOS;
    o.n = 3;
    o.volatile_vote = true;
    o.crash = 0.05;
    o.restart = 0.3;
    o.crash_mid_ready = 0.05;
    o.stop_on_violation_only = true;
    o.vary = false;
    char why[512];
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        if (!run_seed(&o, seed, why, sizeof why) &&
            strstr(why, "election safety")) {
            printf("volatile_vote caught at seed %llu: %s\n",
                   (unsigned long long)seed, why);
            return;
        }
    }
    fail_msg("no seed in 2000 found two leaders in one term");
}

/* Likewise, reads answered without confirming leadership must be caught. */
static void test_sim_finds_stale_read(void **state)
{
    (void)state;
    if (getenv("RAFT_SIM_SEED"))
        skip();
    raft_sim_opts o = CHAOS;
    o.n = 3;
    o.stale_read = true;
    o.partition = 0.05;
    o.stop_on_violation_only = true;
    o.vary = false;
    char why[512];
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        if (!run_seed(&o, seed, why, sizeof why) &&
            strstr(why, "read linearizability")) {
            printf("stale_read caught at seed %llu: %s\n",
                   (unsigned long long)seed, why);
            return;
        }
    }
    fail_msg("no seed in 2000 found a stale read");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_3_nodes),
        cmocka_unit_test(test_sim_5_nodes),
        cmocka_unit_test(test_sim_with_storage),
        cmocka_unit_test(test_sim_finds_volatile_vote),
        cmocka_unit_test(test_sim_finds_stale_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
