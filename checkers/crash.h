/*
 * crash: whether the database under test crashed during the run — the
 * history's "crashed" events (process nemesis, type info, value {"node",
 * "how", "at_s"}: the runner records one when a database process ended,
 * or a node stopped serving, without the nemesis doing it) — and, added
 * by the run's store from the downloaded logs, the log lines matching
 * the target's crash patterns (harness/crash_logs.h).
 *
 * A crash, or a matched line, makes the result invalid: a database that
 * crashes under test is a finding of its own, whatever its answers were.
 * A run may allow them (`--allow-crashes`): then the result is valid with
 * a "warning".
 *
 * The result's JSON: {"valid", "crashes": [{"node", "how", "at_s"}],
 * "log_lines": [{"node", "file", "line", "text", "pattern"}],
 * "target", "allowed", "warning"}.
 */
#ifndef FL_CHECKER_CRASH_H
#define FL_CHECKER_CRASH_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/verdict.h"
#include "history/history.h"

/* Its name in results.json's "checkers" and in the registry. */
#define CRASH_CHECKER_NAME "crash"

/* The history's crashes, as the result's "crashes" array. New reference,
 * NULL when out of memory. */
json_t *crash_events(const history *h);

/*
 * The result for crashes (borrowed array, as crash_events) and log_lines
 * (borrowed, NULL: none), for target (may be NULL), allowed or not. New
 * reference, NULL when out of memory; *v its verdict.
 */
json_t *crash_result(const json_t *crashes, const json_t *log_lines,
                     const char *target, bool allowed, checker_verdict *v);

/* Its verdict from a stored result. */
checker_verdict crash_result_verdict(const json_t *result);

/* One line: "crash: valid — no crash" / "crash: INVALID — 1 crash, 2 log
 * lines". */
int crash_summary_json(const json_t *result, FILE *out);

/* In words: "database crashed: n3's raftkv was killed by signal 9 (KILL)
 * at 13.2 s, not by the nemesis", then the log lines. */
int crash_explain_json(const json_t *result, FILE *out);

#endif
