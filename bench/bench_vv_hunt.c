/*
 * bench_vv_hunt: how often does raftkv's volatile-vote bug give two leaders
 * in one term under a given fault model? A measurement on the simulation
 * fixture (tests/fixtures/raft_fixture.h), not a test: it counts, it does
 * not fail. `make bench` runs a small default (RAFT_SIM_VV=20 seeds of the
 * default chaos); the README's experiments set the knobs.
 *
 *   RAFT_SIM_VV=N   seeds (default 20); RAFT_SIM_SEED=S one seed only
 *   VV_N            nodes (3)
 *   VV_BUG=0        control: the vote persisted
 *   VV_REAL=1       what a real nemesis can do (raft_sim_opts.real)
 *   VV_SURVIVE=1    real: in-flight messages outlive a restart
 *   VV_ET, VV_HB    election and heartbeat ticks (a tick is 10 ms)
 *   VV_TICKS        chaos length in ticks
 *   VV_CRASH, VV_RESTART  per-tick chances; VV_MINDOWN ticks down at least
 *   VV_PART         per-tick chance of a new partition
 *   VV_DELAY, VV_JITTER   real: added latency (netem), ticks
 *   VV_LOSS, VV_DUP, VV_MAXDELAY, VV_MIDREADY  the unreal network's faults
 *   VV_PERIOD, VV_WIN, VV_DOWN  a targeted schedule (raft_sim_opts.period)
 *   VV_KSEND=1      real: what a killed node had written still arrives
 *   VV_VOTEKILL=P  the observer's kill: a follower whose term rose is
 *                  killed with chance P, VV_VOTEKILL_LAG ticks later, and
 *                  restarted VV_DOWN ticks after (raft_sim_opts.vote_kill)
 *   VV_LIST=1       name each seed with a double leader
 *
 * It continues past a double leader and reports any later safety violation.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/fixtures/raft_fixture.h"

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

static double env_d(const char *name, double dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtod(v, NULL) : dflt;
}

static raft_sim_opts vv_opts(void)
{
    raft_sim_opts o = {.stop_on_violation_only = true, .count_double = true};
    o.n = (uint32_t)env_u64("VV_N", 3);
    o.volatile_vote = env_u64("VV_BUG", 1) != 0;
    o.real = env_u64("VV_REAL", 0) != 0;
    o.period = (uint32_t)env_u64("VV_PERIOD", 0);
    o.win = (uint32_t)env_u64("VV_WIN", 0);
    o.down = (uint32_t)env_u64("VV_DOWN", 3);
    o.survive = env_u64("VV_SURVIVE", 0) != 0;
    o.kernel_sends = env_u64("VV_KSEND", 0) != 0;
    o.vote_kill = env_d("VV_VOTEKILL", 0);
    o.vote_kill_lag = (uint32_t)env_u64("VV_VOTEKILL_LAG", 0);
    o.crash = env_d("VV_CRASH", 0.05);
    o.restart = env_d("VV_RESTART", 0.3);
    o.partition = env_d("VV_PART", 0.02);
    o.min_down = (uint32_t)env_u64("VV_MINDOWN", 0);
    o.delay = (uint32_t)env_u64("VV_DELAY", 0);
    o.jitter = (uint32_t)env_u64("VV_JITTER", 0);
    o.election_ticks = (uint32_t)env_u64("VV_ET", 0);
    o.heartbeat_ticks = (uint32_t)env_u64("VV_HB", 0);
    o.chaos_ticks = env_u64("VV_TICKS", RAFT_SIM_CHAOS_TICKS);
    o.loss = env_d("VV_LOSS", o.real ? 0 : 0.05);
    o.dup = env_d("VV_DUP", o.real ? 0 : 0.03);
    o.max_delay = (uint32_t)env_u64("VV_MAXDELAY", 3);
    o.crash_mid_ready = env_d("VV_MIDREADY", o.real ? 0 : 0.05);
    o.trace = getenv("RAFT_SIM_TRACE") != NULL;
    return o;
}

int main(void)
{
    raft_sim_opts o = vv_opts();
    uint64_t seeds = env_u64("RAFT_SIM_VV", 20);
    uint64_t first = env_u64("RAFT_SIM_SEED", 1);
    if (getenv("RAFT_SIM_SEED"))
        seeds = 1;
    uint64_t hit = 0, doubles = 0, simul = 0, crashes = 0, leaders = 0,
             other = 0, requeued = 0;
    for (uint64_t seed = first; seed < first + seeds; seed++) {
        raft_sim_result r;
        bool ok = raft_fixture_sim_run(&o, seed, &r);
        hit += r.n_double > 0;
        doubles += r.n_double;
        simul += r.n_double_simul;
        crashes += r.n_crashes;
        leaders += r.n_leaders;
        requeued += r.n_vote_requeued;
        if (getenv("VV_LIST") && r.n_double)
            printf("double leader at seed %llu\n", (unsigned long long)seed);
        if (!ok && ++other <= 5)
            printf("seed %llu: %s\n", (unsigned long long)seed, r.violation);
    }
    double minutes = (double)seeds * (double)o.chaos_ticks / 6000.0;
    printf("vv: %llu seeds x %llu ticks (%.1f sim-min): %llu seeds with a "
           "double leader, %llu double-leader terms (%llu with both leaders "
           "alive at once), %.3f per sim-minute; %llu leaders, %llu crashes "
           "(%.1f/min); %llu vote requests delivered across a restart; "
           "%llu other violations\n",
           (unsigned long long)seeds, (unsigned long long)o.chaos_ticks,
           minutes, (unsigned long long)hit, (unsigned long long)doubles,
           (unsigned long long)simul, (double)doubles / minutes,
           (unsigned long long)leaders, (unsigned long long)crashes,
           (double)crashes / minutes, (unsigned long long)requeued,
           (unsigned long long)other);
    return 0;
}
