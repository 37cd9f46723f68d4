/*
 * run: one whole test, as `faultline test` runs it, for any target.
 *
 *   refuse early   the target cannot run the workload, its options do not
 *                  resolve (its build is missing), a local cluster without
 *                  root, a fault --db existing has no commands for:
 *                  RUN_REFUSED, nothing created, nothing logged;
 *   nodes          a nodes file, or the local netns cluster (brought up if
 *                  needed, its lock held for the whole run, and taken down
 *                  at the end if this run brought it up, unless
 *                  keep_cluster); host keys checked unless the opt-out;
 *                  connections to a local cluster bound to its bridge;
 *   run dir        results/NAME/<time>/ with faultline.log and test.json
 *                  (every option as used, the target's options resolved),
 *                  locked while recording;
 *   rest           every node brought to rest: the target's rest and every
 *                  fault kind's (fault_rest_cmd), found_at_start recorded;
 *                  with --db existing only what faultline did is undone
 *                  (harness/db_existing.h): nothing is killed;
 *   switch         a dead man's switch armed on every node, with the same
 *                  rest;
 *   prepare        the enabled fault kinds' prepare on every node;
 *   set-up         kill, wipe, install, start and await every node in
 *                  parallel, then a leader (--db existing: await only);
 *   timeline       the runner (run/runner.h), recorded live; results/
 *                  latest moves to the run only now that recording began;
 *                  the run stops untrusted when the switch or the local
 *                  cluster's network fails;
 *                  a database that ends (or, --db existing, stops
 *                  serving) when the nemesis did not do it is recorded
 *                  as "crashed" as it happens;
 *   teardown       every node stopped (not with --db existing) and its
 *                  logs downloaded, in parallel; the enabled fault kinds'
 *                  teardown;
 *                  the switch disarmed; "ended" recorded;
 *   judge          the run's checkers (run_store_analyze) and the crash
 *                  checker (the "crashed" events, the logs' lines that
 *                  match test.json's crash_patterns), their explanation
 *                  printed on `report`.
 *
 * Orchestration names no target and no fault kind: the caller passes the
 * target's vtable (from the targets' registry) and its options as given,
 * unresolved, and the fault kinds come from nemesis/fault.h's table.
 */
#ifndef FL_RUN_H
#define FL_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/verdict.h"
#include "harness/run_store.h"
#include "harness/target.h"

/* One log line, already stamped "[  12.34] ..." (no newline); the same
 * line goes to the run's faultline.log. */
typedef void (*run_log_fn)(void *ctx, const char *line);

/* Everything is borrowed for the duration of run_test(). */
typedef struct run_config {
    /* Nodes: nodes_file (remote machines, "NAME ADDRESS" per line), or
     * NULL for the local cluster of `nodes` nodes. */
    const char *nodes_file;
    int nodes;
    bool keep_cluster;
    const char *ssh_user;     /* NULL: root */
    const char *ssh_key;      /* required with nodes_file */
    const char *known_hosts;  /* NULL: ~/.ssh/known_hosts */
    int ssh_port;             /* 0: 22 */
    bool insecure_host_keys;  /* skip the host key check (nodes_file) */
    /* The test. */
    const char *test_name, *results;
    const char *workload;     /* workload_names() */
    const char *nemesis;      /* as given, for test.json */
    unsigned faults;          /* fault kinds (nemesis/fault.h), parsed from it */
    /* The kinds' options as given ({NAME: "text"}, fault_option; NULL:
     * every default). */
    const json_t *fault_options;
    double nemesis_interval, time_limit, rate;
    int concurrency;
    int keys;                 /* 0: the workload's default */
    uint64_t seed;
    /* The target and its options, parsed (target_options_parse; NULL:
     * every default). */
    const target_vtable *target;
    const target_options *target_options;
    /* How the database is treated (managed, or the user's existing one
     * with their commands: target.h's target_db). NULL: managed. */
    const target_db *db;
    /* Set non-zero to stop early (clients stop, faults are healed, the
     * history is still judged); SIGINT or SIGTERM as its value names the
     * signal in "ended". */
    atomic_int *stop;
    /* Crash patterns for the downloaded logs beside the target's
     * (NULL-terminated; NULL: none), and whether a crash only warns. */
    const char *const *log_patterns;
    bool allow_crashes;
    /* How the history is judged beside the workload's checkers (the
     * user's checker options, harness/run_store.h), and those options as
     * given for test.json's "checker_options". NULL: as the workload
     * says. */
    const run_store_judge *judge;
    const json_t *checker_options;
    run_log_fn log;      /* may be NULL */
    void *log_ctx;
    FILE *report;             /* the checkers' explanation; NULL: none */
} run_config;

typedef enum run_status {
    RUN_JUDGED,          /* verdict holds */
    RUN_REFUSED,         /* nothing was started: err says why
                                 (FL_EUSAGE: a bad configuration) */
    RUN_NOT_JUDGED,      /* it began but could not run, or could not
                                 be trusted: err, logged */
} run_status;

typedef struct run_outcome {
    run_status status;
    checker_verdict verdict;  /* RUN_JUDGED only */
    char dir[PATH_MAX / 2];   /* the run's directory, "" if none */
    char ended[1100];         /* test.json's "ended" ("" if refused) */
    fl_error err;
} run_outcome;

/* Run the test. FL_OK when judged (whatever the verdict); otherwise the
 * error's code, with out->status saying how far it got. */
int run_test(const run_config *cfg, run_outcome *out);

#endif
