/*
 * run_store: the stored form of a test run and its verdict.
 *
 *   results/<test-name>/<yyyymmddThhmmss>/
 *     test.json        every option of the run (seed included)
 *     history.jsonl    recorded live: a crash leaves a checkable prefix
 *     history.edn      the same history in Jepsen's format
 *     results.json     the checkers' verdicts, combined in "valid"
 *     junit.xml        the verdicts for CI (report/report.h)
 *     summary.md       the verdicts and first anomaly, for a CI job summary
 *     report.html      the page to read (report/html.h)
 *     faultline.log    the controller's log
 *     nodes/<node>/    each node's logs, as its target collects them
 *   results/latest -> <test-name>/<yyyymmddThhmmss>
 *
 * run_store_analyze() is what both `faultline test` (after the run) and
 * `faultline analyze RUN_DIR` do: read history.jsonl, write history.edn,
 * check each workload and write results.json.
 *
 * How a run ended is part of its record: test.json's "ended" is written
 * when the run stops ("completed", "interrupted (SIGINT at 12.3 s of 60)",
 * "recording failed: ...", "lost the cluster: ...", "could not start:
 * ..."), copied into results.json and printed beside the verdict. While
 * `faultline test` records, it holds a lock on dir/.recording, so that
 * nobody judges a history that is still growing.
 */
#ifndef FL_RUN_STORE_H
#define FL_RUN_STORE_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/checker.h"
#include "checkers/verdict.h"

enum {
    RUN_STORE_EBUSY = 75,      /* the run is still being recorded */
    RUN_STORE_ENEVER_RAN = 76, /* the run could not start: nothing to judge */
};

/* Make results_root/name/<now>/ and write its path into dir (size bytes).
 * `latest` is not moved: see run_store_point_latest. */
int run_store_create(const char *results_root, const char *name, char *dir,
                     size_t size, fl_error *err);

/* Point results_root/latest at dir: done once a run has begun recording, so
 * that a run that could not start never hides the last real one. */
int run_store_point_latest(const char *results_root, const char *dir,
                           fl_error *err);

/* Take dir's recording lock (held until run_store_unlock or exit, so a
 * killed controller releases it). *fd is the caller's to pass back. */
int run_store_lock_recording(const char *dir, int *fd, fl_error *err);
void run_store_unlock(int fd);

/* Set test.json's "ended" (the file must exist). */
int run_store_set_ended(const char *dir, const char *ended, fl_error *err);

/* Set one field of test.json (value borrowed; the file must exist). */
int run_store_set_test_field(const char *dir, const char *key,
                             json_t *value, fl_error *err);

/* Make dir/nodes/<node>/ and write its path into out. */
int run_store_node_dir(const char *dir, const char *node, char *out,
                       size_t size, fl_error *err);

/* Write a JSON value to dir/file (pretty). */
int run_store_write_json(const char *dir, const char *file, const json_t *v,
                         fl_error *err);

/*
 * Refuses a run that is still being recorded (RUN_STORE_EBUSY, unless
 * `force`) and one that never began (RUN_STORE_ENEVER_RAN, with the reason
 * it could not start). Otherwise: check dir/history.jsonl with the checkers
 * of the run's workload (from dir/test.json; none: register), as the
 * workload names them (workloads/workload.h: register -> linearizable,
 * cas-register model; set -> set), each run through the checker registry
 * (checkers/checker.h) and shrinking its counterexample; and write
 * history.edn and results.json: {"valid", "workload", "ended", "checkers":
 * {NAME: RESULT}, "events", "pending"}, then junit.xml, summary.md and
 * report.html from it (report/report.h). *verdict is the checkers'
 * combined verdict (invalid beats unknown beats valid). A one-line summary goes to `summary` (may be
 * NULL). Errors: reading the history (FL_ENOINPUT, FL_EDATA) or writing.
 */
int run_store_analyze(const char *dir, double check_time_limit_s, bool force,
                      FILE *summary, checker_verdict *verdict, fl_error *err);

/* What `faultline analyze` may change of how a run is judged (borrowed;
 * NULL: nothing). */
typedef struct run_store_judge {
    const checker *only;  /* this checker alone, not the workload's */
    /* Called on each checker's options after the workload's and the
     * budgets: the user's options (cli/check_options.h) go in here. */
    void (*adjust)(const void *arg, checker_options *opt);
    const void *arg;
} run_store_judge;

/* run_store_analyze, judged as `judge` says. */
int run_store_analyze_judged(const char *dir, double check_time_limit_s,
                             bool force, const run_store_judge *judge,
                             FILE *summary, checker_verdict *verdict,
                             fl_error *err);

#endif
