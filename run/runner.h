/*
 * runner: one test's timeline — the clients, the nemesis and the final
 * reads — recorded live into a history_writer.
 *
 *   1. `concurrency` client threads, each a Jepsen process with one
 *      operation in flight, talking to node (thread % nodes). Each takes the
 *      next operation from the workload, records the invocation, invokes
 *      it through the target's client and records the completion. After an
 *      `info` the thread carries on as process + concurrency (the old
 *      process may still be "executing" forever).
 *   2. A nemesis thread that carries out the scheduler's actions
 *      (nemesis/fault.h): each enabled kind's faults begin and end on a
 *      cycle of their own, about every `nemesis_interval_s` (Jepsen's
 *      stagger), so that faults of different kinds overlap; kinds acting
 *      on the same thing (the database process, a node's clock) share a
 *      cycle and never overlap. The times are drawn in advance: a late
 *      action is logged, never shifts the next. Each action is recorded
 *      as process "nemesis", type info, before and after; an action not
 *      done within its bound is recorded failed and the schedule goes on.
 *   2b. A crash watch: a database process that ends when the nemesis did
 *      not end it (managed mode: crashwatch.h), or a node that stops
 *      serving with no fault in force (existing mode: readiness probes),
 *      is recorded as process "nemesis", type info, f "crashed", as it
 *      is noticed.
 *   3. At the time limit (or when *stop becomes non-zero, e.g. on SIGINT):
 *      clients stop, every fault is ended (heal, resume, restart), the
 *      cluster is given time to recover, and every key the workload used
 *      is read until a read succeeds (or attempts run out): the register
 *      workload's last word on each key, the set workload's only read.
 *
 * The runner borrows everything it is given.
 */
#ifndef FL_RUNNER_H
#define FL_RUNNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/fl_error.h"
#include "history/history.h"
#include "harness/target.h"
#include "harness/remote.h"
#include "workloads/workload.h"

typedef void (*runner_log_fn)(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef struct runner_options {
    int concurrency;            /* client threads, >= 1 */
    double rate;                /* total invocations per second; 0: no limit */
    double time_limit_s;        /* of the client phase */
    unsigned faults;            /* mask over fault_builtin(): fault.h */
    const json_t *fault_options; /* fault_options_resolve's; NULL: defaults */
    double nemesis_interval_s;  /* mean time between a cycle's actions */
    uint64_t seed;              /* the nemesis's choices */
    double recover_s;           /* after the final heal, before final reads */
    runner_log_fn log;          /* progress; may be NULL */
    void *log_ctx;
    double progress_s;          /* a progress line this often; 0: 10 s */
    /* Why the run can no longer be trusted (the cluster vanished, a dead
     * man's switch fired), or NULL; polled every 0.1 s. May be NULL. */
    const char *(*broken)(void *ctx);
    void *broken_ctx;
    /* Crash detection (a "crashed" event, process nemesis, type info,
     * value {"node", "how", "at_s"}, recorded as it is noticed):
     * managed mode, the crash watcher (run/crashwatch.h) on these
     * connections of its own, NULL: none; node_dir as for the target. */
    remote *watch;
    const char *node_dir;
    /* Existing mode: each node's readiness probed every RUNNER_PROBE_S
     * while no fault is in force, and once after the final heal; a node
     * that stops serving so is recorded as crashed. */
    bool probe_serving;
    /* A nemesis action not done within this many seconds is recorded
     * failed and the schedule goes on (fault_driver_bound); 0: the
     * larger of the interval and 5 s. */
    double nemesis_bound_s;
} runner_options;

#define RUNNER_PROBE_S 3.0

typedef struct runner_stats {
    long ok, fail, info;        /* client completions, final reads included */
    long nemesis_actions;
    int64_t keys;               /* keys used (final reads made for each) */
    long final_reads_missing;   /* keys whose final read never succeeded */
    double client_s;            /* how long the client phase ran */
    bool stopped_early;         /* *stop was set before the time limit */
    char broken[512];           /* why the run stopped untrusted, or "" */
    long crashes;               /* "crashed" events recorded */
    long nemesis_late;          /* actions begun > 1 s after their time */
    double nemesis_late_max_s;  /* the latest of them */
    double max_stall_s;         /* the longest gap between two wake-ups of
                                   the controller's 0.1-s loop */
} runner_stats;

enum {
    RUNNER_EBROKEN = 76,        /* opt->broken said stop: stats->broken */
};

/*
 * Run the timeline. The cluster must be up. Returns FL_OK when the history
 * was recorded (whatever the database did); an error when recording
 * failed or the final heal could not be done (the history is still
 * usable: every event it holds was written before the call returned);
 * RUNNER_EBROKEN when opt->broken stopped the run — then nothing more was
 * sent to the nodes (no heal, no final reads), and the history must not
 * be judged as a whole.
 */
int runner_run(target *t, remote *r, workload *gen, history_writer *w,
               const runner_options *opt, atomic_int *stop,
               runner_stats *stats, fl_error *err);

#endif
