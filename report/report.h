/*
 * report: a stored run's verdicts as files a CI job reads.
 *
 *   junit.xml   one <testsuite>: a <testcase> per checker, and one per key
 *               a checker found not valid, the checker's explanation
 *               (checker.explain_json) as the failure's message and text.
 *               Invalid is a <failure>; unknown (a budget ran out) is an
 *               <error>: the database was not shown wrong, but the check
 *               did not pass either, and CI tools count errors apart from
 *               failures without turning the job green as <skipped> would.
 *   summary.md  the verdict in its first line, a table of checkers, and the
 *               first anomaly in a few lines (a CI job summary).
 *   report.html the page a person reads (report/html.h): verdicts in words,
 *               the counterexample drawn, timeline, latency, throughput.
 *
 * The writers are pure: results.json's and test.json's objects in, text
 * out. report_write_dir() is the one that touches files; run_store_analyze
 * (after `faultline test` and `faultline analyze`) and `faultline report`
 * call it.
 */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "history/history.h"

/* results: results.json's object; test: test.json's (NULL: none). Both
 * borrowed. FL_EIO when out cannot be written. */
int report_junit(const json_t *results, const json_t *test, FILE *out,
                 fl_error *err);
int report_summary(const json_t *results, const json_t *test, FILE *out,
                   fl_error *err);

/* Read dir/results.json (FL_ENOINPUT if absent, FL_EDATA if not a run's
 * results), dir/test.json (optional) and dir/history.jsonl (optional),
 * and write dir/junit.xml, dir/summary.md and dir/report.html, each
 * replaced whole (written aside, then renamed). */
int report_write_dir(const char *dir, fl_error *err);
/* The same, with the run's history already read (borrowed; NULL: read
 * dir/history.jsonl), as run_store_analyze has it. */
int report_write_run(const char *dir, const history *h, fl_error *err);

#endif
