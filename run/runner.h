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
 *   2. A nemesis thread that, every `nemesis_interval_s`, begins or ends a
 *      fault chosen by the scheduler from the table of fault kinds
 *      (nemesis/fault.h), recording each
 *      action as process "nemesis", type info, before and after.
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
    double nemesis_interval_s;  /* between nemesis actions */
    uint64_t seed;              /* the nemesis's choices */
    double recover_s;           /* after the final heal, before final reads */
    runner_log_fn log;          /* progress; may be NULL */
    void *log_ctx;
    double progress_s;          /* a progress line this often; 0: 10 s */
    /* Why the run can no longer be trusted (the cluster vanished, a dead
     * man's switch fired), or NULL; polled every 0.1 s. May be NULL. */
    const char *(*broken)(void *ctx);
    void *broken_ctx;
} runner_options;

typedef struct runner_stats {
    long ok, fail, info;        /* client completions, final reads included */
    long nemesis_actions;
    int64_t keys;               /* keys used (final reads made for each) */
    long final_reads_missing;   /* keys whose final read never succeeded */
    double client_s;            /* how long the client phase ran */
    bool stopped_early;         /* *stop was set before the time limit */
    char broken[512];           /* why the run stopped untrusted, or "" */
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
