/*
 * run_store: the stored form of a test run and its verdict.
 *
 *   results/<test-name>/<yyyymmddThhmmss>/
 *     test.json        every option of the run (seed included)
 *     history.jsonl    recorded live: a crash leaves a checkable prefix
 *     history.edn      the same history in Jepsen's format
 *     results.json     the checkers' verdicts, combined in "valid"
 *     faultline.log    the controller's log
 *     nodes/<node>/    each node's logs (raftkv.log, stdout.log)
 *   results/latest -> <test-name>/<yyyymmddThhmmss>
 *
 * run_store_analyze() is what both `faultline test` (after the run) and
 * `faultline analyze RUN_DIR` do: read history.jsonl, write history.edn,
 * check each workload and write results.json.
 */
#ifndef FL_RUN_STORE_H
#define FL_RUN_STORE_H

#include <stdio.h>

#include "checkers/linearizable.h"
#include "harness/fl_error.h"

/* Make results_root/name/<now>/ (and nodes/), point results_root/latest at
 * it, and write its path into dir (size bytes). */
int run_store_create(const char *results_root, const char *name, char *dir,
                     size_t size, fl_error *err);

/* Make dir/nodes/<node>/ and write its path into out. */
int run_store_node_dir(const char *dir, const char *node, char *out,
                       size_t size, fl_error *err);

/* Write a JSON value to dir/file (pretty). */
int run_store_write_json(const char *dir, const char *file, const json_t *v,
                         fl_error *err);

/*
 * Check dir/history.jsonl with the checkers of the run's workload (from
 * dir/test.json; none: register) — register: linearizable, cas-register
 * model, key by key; set: checkers/set.h — and write history.edn and
 * results.json: {"valid", "workload", "checkers": {NAME: RESULT}, "events",
 * "pending"}. *verdict is the checkers' combined verdict (invalid beats
 * unknown beats valid). A one-line summary goes to `summary` (may be
 * NULL). Errors: reading the history (FL_ENOINPUT, FL_EDATA) or writing.
 */
int run_store_analyze(const char *dir, double check_time_limit_s,
                      FILE *summary, checker_verdict *verdict, fl_error *err);

#endif
