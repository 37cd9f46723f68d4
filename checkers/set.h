/*
 * set: Jepsen's set checker (jepsen.checker/set), key by key.
 *
 * The set workload adds unique integer elements to sets (one per key) and,
 * once the faults are healed, reads each set. The final read of a key (its
 * last `ok` read) is compared with the adds:
 *
 *   lost        an add that was acknowledged (ok) and completed before the
 *               final read began, but whose element the read lacks;
 *   unexpected  an element the read returned that no add invoked before
 *               the read completed could have put there;
 *   failed      an element the read returned whose every add failed
 *               (`fail` promises the add did not happen);
 *   recovered   an indeterminate (info or never completed) add whose element
 *               the read returned: allowed, counted for information.
 *
 * A key is invalid if anything is lost, unexpected or failed; unknown if
 * it was added to but never read; otherwise valid. The run's verdict
 * combines the keys (checkers/verdict.h). Adds that completed after the
 * final read began and are missing from it are neither lost nor ok: the
 * read may have been ordered before them.
 *
 * History shape: f "add" with an integer value; f "read" whose ok value is
 * an array of integers (null: the empty set). Events without a key form
 * one set. Other operations are ignored, so a history may mix workloads.
 *
 * Ownership: set_check() returns a result owned by the caller
 * (set_result_free); it copies what it needs from the history.
 */
#ifndef FL_CHECKER_SET_H
#define FL_CHECKER_SET_H

#include <stdio.h>
#include <jansson.h>

#include "checkers/verdict.h"
#include "base/fl_error.h"
#include "history/history.h"

typedef struct set_result set_result;

/*
 * Check h. FL_OK with *out set whatever the verdict; FL_EDATA when an add's
 * value is not an integer or a read returned something other than an
 * array of integers (the message names the event's index); FL_ENOMEM.
 */
int set_check(const history *h, set_result **out, fl_error *err);

checker_verdict set_result_verdict(const set_result *r);

/*
 * JSON result: valid, keys, and totals — attempt_count (adds invoked),
 * acknowledged_count (ok adds), ok_count (read elements that were added),
 * lost_count, unexpected_count, failed_count, recovered_count,
 * never_read_keys — then per_key: for each key, the same counts and the
 * lost, unexpected, failed and recovered elements (each list cut at 100
 * elements; the count is exact) and the final read's event index.
 * New reference.
 */
json_t *set_result_to_json(const set_result *r);

/* One line: the verdict and the totals. */
int set_result_summary(const set_result *r, FILE *out);

/* A readable account of each invalid or unknown key. */
int set_result_explain(const set_result *r, FILE *out);
/* The same words from the JSON result alone (a stored results.json). */
int set_explain_json(const json_t *result, FILE *out);

void set_result_free(set_result *r);

#endif
