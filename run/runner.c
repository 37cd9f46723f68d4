/*
 * runner: client threads, the nemesis thread and the final phase. See
 * runner.h for the timeline.
 */
#include "run/runner.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run/crashwatch.h"
#include "run/phase.h"
#include "nemesis/fault.h"

#define FINAL_READ_ATTEMPTS 10
#define FAIL_BACKOFF_S 0.05

typedef struct run run;

typedef struct client_thread {
    run *run;
    size_t index;
    int64_t process;
    pthread_t thread;
    bool started;
    int64_t next_key;      /* final reads: keys index, index+concurrency... */
} client_thread;

struct run {
    target *t;
    remote *r;
    workload *gen;
    history_writer *w;
    const runner_options *opt;
    atomic_int *stop;
    atomic_int phase_over;     /* the client phase has ended */
    pthread_mutex_t lock;      /* gen, stats, error */
    runner_stats stats;
    fl_error err;              /* the first recording error */
    int rc;
    fault_env nem_env;         /* what the nemesis acts on */
    fault_driver nem;          /* the scheduler and the faults' failures */
    char faults_now[256];      /* what is in force, for progress lines */
    char broken[512];          /* opt->broken's reason, once it gave one */
    bool unbound;              /* a client could not bind (lock) */
    double begin;              /* the timeline's start (now_s) */
    crashwatch *cw;            /* managed mode's watcher, or NULL */
    /* What the nemesis is doing, for the existing mode's probes: an
     * action under way or a fault in force, and when that last changed. */
    atomic_bool faulting;
    _Atomic double fault_changed;
    /* Nodes a killing action failed on (it may still land: an action
     * given up on runs to its end): the watcher keeps them as expected
     * down until the final heal. Nemesis thread only, then the final
     * heal's. */
    bool kill_unsure[FAULT_MAX_NODES];
    bool final_heal;
};

/* ---- time ---------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static bool should_stop(run *rn)
{
    return atomic_load(rn->stop) || atomic_load(&rn->phase_over);
}

/* Whether the run has become untrusted; remembers the first reason. */
static bool is_broken(run *rn)
{
    if (rn->broken[0])
        return true;
    pthread_mutex_lock(&rn->lock);
    bool unbound = rn->unbound;
    pthread_mutex_unlock(&rn->lock);
    const char *why = unbound ? "lost the test network: a client could not "
                                "bind to it (" TARGET_ERROR_UNBOUND ")"
                      : rn->opt->broken ? rn->opt->broken(rn->opt->broken_ctx)
                                        : NULL;
    if (why)
        snprintf(rn->broken, sizeof rn->broken, "%s", why);
    return why != NULL;
}

/* Sleep up to s seconds, waking early when the phase ends. */
static void nap(run *rn, double s)
{
    double until = now_s() + s;
    while (!should_stop(rn) && now_s() < until)
        sleep_s(until - now_s() < 0.05 ? until - now_s() : 0.05);
}

#define LOG(rn, ...) \
    do { if ((rn)->opt->log) (rn)->opt->log((rn)->opt->log_ctx, __VA_ARGS__); } while (0)

/* ---- recording ----------------------------------------------------------------------- */

static void record(run *rn, int64_t process, history_type type, const char *f,
                   const json_t *key, const json_t *value, const json_t *error)
{
    fl_error e = {0};
    if (history_writer_record(rn->w, process, type, f, key, value, error,
                              NULL, &e) == FL_OK)
        return;
    pthread_mutex_lock(&rn->lock);
    if (rn->rc == FL_OK) {
        rn->rc = e.code;
        rn->err = e;
        atomic_store(rn->stop, 1);   /* a history with holes is worthless */
    }
    pthread_mutex_unlock(&rn->lock);
}

static void count(run *rn, history_type type)
{
    pthread_mutex_lock(&rn->lock);
    if (type == HISTORY_OK)
        rn->stats.ok++;
    else if (type == HISTORY_FAIL)
        rn->stats.fail++;
    else
        rn->stats.info++;
    pthread_mutex_unlock(&rn->lock);
}

/* A client could not bind to the test network: it is gone, and every
 * answer from here on would be from nowhere. */
static void note_unbound(run *rn)
{
    pthread_mutex_lock(&rn->lock);
    rn->unbound = true;
    pthread_mutex_unlock(&rn->lock);
}

/* Invoke one operation as process ct->process and record both ends. */
static history_type perform(client_thread *ct, target_client *c,
                            const char *f, const json_t *key,
                            const json_t *value, bool *refused)
{
    run *rn = ct->run;
    target_op op = {.f = f, .key = key, .value = value};
    target_result res = {0};
    record(rn, ct->process, HISTORY_INVOKE, f, key, value, NULL);
    target_client_invoke(c, &op, &res);
    record(rn, ct->process, res.type, f, key,
           res.type == HISTORY_OK ? res.value : value, res.error);
    const char *why = json_string_value(json_object_get(res.error, "error"));
    if (why && strcmp(why, TARGET_ERROR_UNBOUND) == 0)
        note_unbound(rn);
    history_type type = res.type;
    *refused = res.refused;
    target_result_clear(&res);
    count(rn, type);
    if (type == HISTORY_INFO)
        ct->process += rn->opt->concurrency;
    return type;
}

/* ---- crashes ------------------------------------------------------------------------- */

/* A database ended, or stopped serving, without the nemesis doing it: a
 * finding of its own, in the history as it is noticed. */
static void record_crash(run *rn, size_t node, const char *how)
{
    double at = now_s() - rn->begin;
    json_t *v = json_pack("{s:s,s:s,s:f}", "node", remote_name(rn->r, node),
                          "how", how, "at_s", at);
    record(rn, HISTORY_NEMESIS, HISTORY_INFO, "crashed", NULL, v, NULL);
    json_decref(v);
    LOG(rn, "CRASH: node %s: the database %s at %.1f s, not by the nemesis",
        remote_name(rn->r, node), how, at);
    pthread_mutex_lock(&rn->lock);
    rn->stats.crashes++;
    pthread_mutex_unlock(&rn->lock);
}

static void crash_seen(void *ctx, size_t node, const char *how)
{
    record_crash(ctx, node, how);
}

/* Existing mode: every RUNNER_PROBE_S, each node's readiness, counted
 * only while no fault is in force and none ended in the last probe
 * period plus the target's allowance to come back; two failures in a row
 * are a crash, recorded once until the node serves again. */
static void *probe_main(void *arg)
{
    run *rn = arg;
    size_t n = remote_count(rn->r);
    int fails[FAULT_MAX_NODES] = {0};
    bool reported[FAULT_MAX_NODES] = {0};
    double settle = target_ready_timeout_ms(rn->t, 10000) / 1000.0;
    while (!should_stop(rn)) {
        nap(rn, RUNNER_PROBE_S);
        for (size_t i = 0; i < n && i < FAULT_MAX_NODES && !should_stop(rn);
             i++) {
            double before = now_s();
            bool quiet = !atomic_load(&rn->faulting) &&
                         before - atomic_load(&rn->fault_changed) > settle;
            fl_error e = {0};
            bool up = target_await_ready(rn->t, i, 2000, &e) == FL_OK;
            /* A fault that began during the probe excuses it. */
            quiet = quiet && !atomic_load(&rn->faulting) &&
                    atomic_load(&rn->fault_changed) < before;
            if (up) {
                fails[i] = 0;
                reported[i] = false;
            } else if (quiet && ++fails[i] >= 2 && !reported[i]) {
                char how[600];
                snprintf(how, sizeof how, "stopped serving (%.400s)", e.msg);
                record_crash(rn, i, how);
                reported[i] = true;
            }
        }
    }
    return NULL;
}

/* ---- clients --------------------------------------------------------------------------- */

static void *client_main(void *arg)
{
    client_thread *ct = arg;
    run *rn = ct->run;
    target_client *c = NULL;
    fl_error e = {0};
    size_t node = ct->index % remote_count(rn->r);
    if (target_client_open(rn->t, node, &c, &e) != FL_OK) {
        LOG(rn, "client %zu: %s", ct->index, e.msg);
        return NULL;
    }
    double interval = rn->opt->rate > 0 ? rn->opt->concurrency / rn->opt->rate : 0;
    double next = now_s();
    /* Jepsen's stagger: waits uniform in [0, 2 * interval], so threads do
     * not march in lockstep and operations arrive spread over time. */
    fl_rng rng;
    fl_rng_seed(&rng, rn->opt->seed + ct->index);
    while (!should_stop(rn)) {
        if (interval > 0) {
            next += interval * 2.0 * (double)fl_rng_below(&rng, 1000) / 1000.0;
            nap(rn, next - now_s());
            if (should_stop(rn))
                break;
            if (next < now_s())
                next = now_s();
        }
        workload_op op = {0};
        pthread_mutex_lock(&rn->lock);
        int rc = workload_next(rn->gen, &op, &e);
        pthread_mutex_unlock(&rn->lock);
        history_type type = HISTORY_FAIL;
        bool refused = false;
        if (rc == FL_OK)
            type = perform(ct, c, op.f, op.key, op.value, &refused);
        workload_op_clear(&op);
        /* A node without a leader fails requests in microseconds; retrying
         * at once would fill the history with identical failures. */
        if (type != HISTORY_OK && !refused)
            nap(rn, FAIL_BACKOFF_S);
    }
    target_client_close(c);
    return NULL;
}

/* Final reads: this thread reads keys index, index + concurrency, ... each
 * until one read succeeds. */
static void *final_main(void *arg)
{
    client_thread *ct = arg;
    run *rn = ct->run;
    target_client *c = NULL;
    fl_error e = {0};
    size_t n = remote_count(rn->r);
    for (int64_t k = (int64_t)ct->index; k < rn->stats.keys;
         k += rn->opt->concurrency) {
        workload_op op = {0};
        bool ready = workload_final_read(rn->gen, k, &op, &e) == FL_OK;
        bool done = false;
        for (int a = 0; ready && a < FINAL_READ_ATTEMPTS && !done; a++) {
            /* Move to another node after a failure: it may be the leader. */
            target_client_close(c);
            c = NULL;
            if (target_client_open(rn->t, (ct->index + (size_t)a) % n, &c,
                                   &e) != FL_OK)
                break;
            bool refused;
            done = perform(ct, c, op.f, op.key, op.value, &refused) ==
                   HISTORY_OK;
            if (!done)
                sleep_s(0.3);
        }
        if (!done) {
            pthread_mutex_lock(&rn->lock);
            rn->stats.final_reads_missing++;
            pthread_mutex_unlock(&rn->lock);
        }
        workload_op_clear(&op);
    }
    target_client_close(c);
    return NULL;
}

static void start_threads(run *rn, client_thread *cts, void *(*fn)(void *))
{
    for (int i = 0; i < rn->opt->concurrency; i++) {
        cts[i].run = rn;
        cts[i].index = (size_t)i;
        cts[i].started = pthread_create(&cts[i].thread, NULL, fn, &cts[i]) == 0;
        if (!cts[i].started)
            LOG(rn, "could not start client thread %d", i);
    }
}

static void join_threads(run *rn, client_thread *cts)
{
    for (int i = 0; i < rn->opt->concurrency; i++)
        if (cts[i].started)
            pthread_join(cts[i].thread, NULL);
}

/* ---- nemesis ---------------------------------------------------------------------------- */

/* "start-partition, start-clock-skew" (what is in force, in table
 * order), or "none". Nemesis thread only (it owns the plan). */
static void faults_in_force(run *rn, char *buf, size_t size)
{
    fault_action now[FAULT_MAX_KINDS];
    size_t count = fault_plan_in_force(&rn->nem.plan, now), len = 0;
    snprintf(buf, size, "none");
    for (size_t i = 0; i < count && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                fault_action_f(&now[i]));
}

/* The driver's report of an action: the history event before and after
 * it, and once done the log line, the count and what is in force. */
static void nem_note(void *ctx, const fault_event *ev)
{
    run *rn = ctx;
    json_t *error = ev->error ? json_string(ev->error) : NULL;
    bool kills = ev->action->kind->db_needs & TARGET_DB_KILL;
    /* The watcher must know of a kill before it lands, and of the
     * restart only once it is done. */
    for (size_t i = 0; kills && i < rn->nem_env.n; i++) {
        if (!ev->action->nodes[i])
            continue;
        if (ev->done && ev->rc != FL_OK)
            rn->kill_unsure[i] = true;
        if (ev->action->begin && !ev->done)
            crashwatch_expect_down(rn->cw, i, true);
        else if (!ev->action->begin && ev->done &&
                 (!rn->kill_unsure[i] || rn->final_heal))
            crashwatch_expect_down(rn->cw, i, false);
    }
    /* For the probes: a fault is under way while an action is, and while
     * any fault is in force (the scheduler has already counted this
     * action's fault in or out: it planned it before the driver ran it). */
    atomic_store(&rn->faulting, !ev->done || !fault_plan_idle(&rn->nem.plan));
    atomic_store(&rn->fault_changed, now_s());
    record(rn, HISTORY_NEMESIS, HISTORY_INFO, ev->f, NULL, ev->value, error);
    json_decref(error);
    if (!ev->done)
        return;
    char *desc = ev->value ? json_dumps(ev->value, JSON_COMPACT |
                                        JSON_ENCODE_ANY) : NULL;
    LOG(rn, "nemesis %s %s%s%s", ev->f, desc ? desc : "",
        ev->error ? ": " : "", ev->error ? ev->error : "");
    char now[sizeof rn->faults_now];
    faults_in_force(rn, now, sizeof now);
    pthread_mutex_lock(&rn->lock);
    rn->stats.nemesis_actions++;
    snprintf(rn->faults_now, sizeof rn->faults_now, "%s", now);
    pthread_mutex_unlock(&rn->lock);
    free(desc);
}

/* The schedule is fixed from the start (fault_plan_due: each cycle's
 * actions at drawn times). One that begins more than a second late is
 * logged and counted; the ones after it keep their times (a slot long
 * past is taken at once, in order). The leader is asked for only before
 * a beginning: an end needs none, and asking costs a round of requests. */
static void *nemesis_main(void *arg)
{
    run *rn = arg;
    double start = now_s();
    for (;;) {
        double due = fault_plan_due(&rn->nem.plan);
        if (due < 0)
            break;
        double next = start + due;
        nap(rn, next - now_s());
        if (should_stop(rn))
            break;
        double late = now_s() - next;
        if (late > 1.0) {
            LOG(rn, "nemesis: action late by %.1f s (the previous one ran "
                "long)", late);
            pthread_mutex_lock(&rn->lock);
            rn->stats.nemesis_late++;
            if (late > rn->stats.nemesis_late_max_s)
                rn->stats.nemesis_late_max_s = late;
            pthread_mutex_unlock(&rn->lock);
        }
        long leader = fault_plan_next_begins(&rn->nem.plan)
                          ? target_leader(rn->t) : -1;
        fl_error e = {0};
        fault_driver_step(&rn->nem, leader, &e);   /* noted, logged */
    }
    return NULL;
}

/* ---- the final phase ---------------------------------------------------------------------- */

static void phase_line(void *ctx, const char *line)
{
    LOG((run *)ctx, "%s", line);
}

static void wait_recovered(run *rn)
{
    size_t n = remote_count(rn->r);
    phase *ph = NULL;
    char serving[96];
    fl_error pe = {0};
    snprintf(serving, sizeof serving, "%s to serve again", target_name(rn->t));
    double bound = (double)n * target_ready_timeout_ms(rn->t, 10000) / 1000.0
                   + 15.0;
    if (phase_begin("after healing", bound, n, remote_names(rn->r),
                    phase_line, rn, &ph, &pe) != FL_OK)
        LOG(rn, "%s", pe.msg);
    for (size_t i = 0; i < n; i++) {
        fl_error e = {0};
        phase_wait(ph, i, serving);
        int rc = target_await_ready(rn->t, i,
                                    target_ready_timeout_ms(rn->t, 10000), &e);
        phase_wait(ph, i, NULL);
        if (rc == FL_OK)
            continue;
        LOG(rn, "after healing: %s", e.msg);
        /* Existing mode has no exit to watch: a node that does not serve
         * once every fault is healed is its crash. (Managed mode's
         * watcher has already said whether the process ended.) */
        if (rn->opt->probe_serving) {
            char how[600];
            snprintf(how, sizeof how, "was not serving after the final "
                     "heal (%.400s)", e.msg);
            record_crash(rn, i, how);
        }
    }
    double until = now_s() + 10;
    long leader = -1;
    /* A target that cannot name a leader is not waited for. */
    if (target_has_leader(rn->t)) {
        phase_wait(ph, PHASE_ALL, "a leader");
        while ((leader = target_leader(rn->t)) < 0 && now_s() < until)
            sleep_s(0.2);
    }
    phase_end(ph);
    if (target_has_leader(rn->t))
        LOG(rn, "after healing: leader %s", leader >= 0 ?
            remote_name(rn->r, (size_t)leader) : "(none yet)");
    sleep_s(rn->opt->recover_s);
}

/* ---- the timeline ---------------------------------------------------------------------------- */

static void log_progress(run *rn, double elapsed)
{
    pthread_mutex_lock(&rn->lock);
    runner_stats st = rn->stats;
    char faults[sizeof rn->faults_now];
    snprintf(faults, sizeof faults, "%s", rn->faults_now[0] ? rn->faults_now
                                                              : "none");
    pthread_mutex_unlock(&rn->lock);
    LOG(rn, "%.0f s of %.0f: %ld ok, %ld fail, %ld info; in force: %s",
        elapsed, rn->opt->time_limit_s, st.ok, st.fail, st.info, faults);
}

/* Until the time limit, *stop, or the run turns untrusted; a progress line
 * every progress_s. */
static void client_phase(run *rn)
{
    double begin = now_s(), end = begin + rn->opt->time_limit_s;
    double every = rn->opt->progress_s > 0 ? rn->opt->progress_s : 10;
    double next_progress = begin + every, last = begin;
    while (!atomic_load(rn->stop) && now_s() < end) {
        /* This loop wakes every 0.1 s: a longer gap is the controller
         * stalled (the machine starved it). */
        double t = now_s();
        if (t - last > rn->stats.max_stall_s)
            rn->stats.max_stall_s = t - last;
        last = t;
        if (is_broken(rn)) {
            atomic_store(rn->stop, 1);
            break;
        }
        if (now_s() >= next_progress) {
            log_progress(rn, now_s() - begin);
            next_progress += every;
        }
        sleep_s(0.1);
    }
}

int runner_run(target *t, remote *r, workload *gen, history_writer *w,
               const runner_options *opt, atomic_int *stop,
               runner_stats *stats, fl_error *err)
{
    run rn = {.t = t, .r = r, .gen = gen, .w = w, .opt = opt, .stop = stop};
    client_thread *cts = calloc((size_t)opt->concurrency, sizeof *cts);
    if (!cts)
        return fl_error_set(err, FL_ENOMEM, "runner: out of memory");
    pthread_mutex_init(&rn.lock, NULL);
    atomic_init(&rn.phase_over, 0);
    atomic_init(&rn.faulting, false);
    atomic_init(&rn.fault_changed, 0.0);
    rn.nem_env = (fault_env){.t = t, .r = r, .n = remote_count(r),
                             .names = remote_names(r),
                             .node_dir = TARGET_DEFAULT_NODE_DIR,
                             .options = opt->fault_options};
    fault_driver_init(&rn.nem, fault_builtin(), opt->faults,
                      opt->seed ^ UINT64_C(0x6e656d65736973),
                      opt->nemesis_interval_s, &rn.nem_env, nem_note, &rn);
    for (int i = 0; i < opt->concurrency; i++)
        cts[i].process = i;

    fault_driver_bound(&rn.nem, opt->nemesis_bound_s > 0 ? opt->nemesis_bound_s
                                : opt->nemesis_interval_s > 5
                                    ? opt->nemesis_interval_s : 5);
    rn.begin = now_s();
    fl_error cw_err = {0};
    if (opt->watch && crashwatch_start(opt->watch, opt->node_dir, crash_seen,
                                       &rn, &rn.cw, &cw_err) != FL_OK)
        LOG(&rn, "WARNING: no crash watch: %s", cw_err.msg);
    LOG(&rn, "clients: %d threads for %.0f s", opt->concurrency,
        opt->time_limit_s);
    start_threads(&rn, cts, client_main);
    pthread_t nem, probe;
    bool nem_started = opt->faults &&
                       pthread_create(&nem, NULL, nemesis_main, &rn) == 0;
    bool probe_started = opt->probe_serving &&
                         pthread_create(&probe, NULL, probe_main, &rn) == 0;
    double begin = now_s();
    client_phase(&rn);
    rn.stats.client_s = now_s() - begin;
    atomic_store(&rn.phase_over, 1);
    rn.stats.stopped_early = atomic_load(stop) != 0;
    if (rn.broken[0])
        LOG(&rn, "stopping: %s", rn.broken);
    else if (rn.rc != FL_OK)
        LOG(&rn, "stopping early: recording failed: %s", rn.err.msg);
    else if (rn.stats.stopped_early)
        LOG(&rn, "stopping early: interrupted at %.1f s of %.0f",
            rn.stats.client_s, opt->time_limit_s);
    join_threads(&rn, cts);
    if (nem_started)
        pthread_join(nem, NULL);
    if (probe_started)
        pthread_join(probe, NULL);

    fl_error heal_err = {0};
    int heal_rc = FL_OK;
    rn.stats.keys = workload_keys_used(gen);
    if (!is_broken(&rn)) {
        LOG(&rn, "healing every fault");
        rn.final_heal = true;
        heal_rc = fault_driver_heal_all(&rn.nem, &heal_err);
    }
    if (!is_broken(&rn) && rn.rc == FL_OK) {
        wait_recovered(&rn);
        LOG(&rn, "final reads of %lld keys", (long long)rn.stats.keys);
        start_threads(&rn, cts, final_main);
        join_threads(&rn, cts);
    }
    fault_driver_finish(&rn.nem);
    crashwatch_free(rn.cw);
    snprintf(rn.stats.broken, sizeof rn.stats.broken, "%s", rn.broken);
    *stats = rn.stats;
    int rc = rn.rc;
    if (rc != FL_OK)
        *err = rn.err;
    else if (rn.broken[0])
        rc = fl_error_set(err, RUNNER_EBROKEN, "%s", rn.broken);
    else if (heal_rc != FL_OK) {
        rc = heal_rc;
        *err = heal_err;
    }
    pthread_mutex_destroy(&rn.lock);
    free(cts);
    return rc;
}
