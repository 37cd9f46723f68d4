/*
 * linearizable: decides whether a history is linearizable with respect to a
 * sequential model, and explains why not.
 *
 * The search is Wing & Gong's, as improved by Lowe: try operations in the
 * order of their invocations, linearize any that could take effect now,
 * backtrack when stuck, and memoize (set of linearized operations, model
 * state) pairs already explored. Histories are split by key first
 * (P-compositionality: a history is linearizable iff each key's is), and
 * keys are checked in parallel.
 *
 * Jepsen semantics: `fail` operations are dropped; `info` operations and
 * invocations that never completed may take effect at any point after
 * their invocation, or never.
 *
 * In the checker registry (checkers/checker.h) this is "linearizable",
 * taking opt->model.
 *
 * Ownership: lin_check() returns a result owned by the caller
 * (lin_result_free); the result borrows nothing from the history, except
 * that positions it reports index into that history's events.
 */
#ifndef FL_LINEARIZABLE_H
#define FL_LINEARIZABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "history/history.h"
#include "checkers/checker.h"
#include "checkers/verdict.h"   /* unknown: a time or memory budget ran out */

/* The checker's options are the registry's (checkers/checker.h): model,
 * initial, nil_reads_unknown, budgets, threads, no_split, shrink, all_keys. */
typedef checker_options lin_options;

/* Sets every field to its default (checker_options_init). */
void lin_options_init(lin_options *opt);

typedef struct lin_result lin_result;

/*
 * Check h. Returns FL_OK with *out set whatever the verdict; an error code
 * (FL_EUSAGE: no model, or an op the model does not know, with the event
 * named; FL_ENOMEM) only when the check could not be run at all.
 */
int lin_check(const history *h, const lin_options *opt, lin_result **out,
              fl_error *err);

checker_verdict lin_result_verdict(const lin_result *r);

/*
 * The JSON result documented in the README: valid, model, ops, keys,
 * per_key, counterexample (for the first invalid key), elapsed_ms.
 * New reference.
 */
json_t *lin_result_to_json(const lin_result *r, const history *h);

/* A readable account of each violation (faultline check --explain). */
int lin_result_explain(const lin_result *r, const history *h, FILE *out);
/* The same words from the JSON result alone (a stored results.json), so a
 * report and --explain never disagree. */
int lin_explain_json(const json_t *result, FILE *out);

void lin_result_free(lin_result *r);

/*
 * Shrink h, one key's history (or one object's) that opt's model judges
 * invalid, to a witness (checkers/shrink.h): a sub-history still invalid,
 * each trial checked single-threaded without shrinking. opt->time_limit_s
 * bounds the whole shrink (<= 0: none); when it runs out, *out is the
 * smallest invalid history found and *minimal is false. FL_EUSAGE if h is
 * not invalid. *out is the caller's.
 */
int lin_shrink(const history *h, const lin_options *opt, history **out,
               bool *minimal, fl_error *err);

/* ---- In report.html (checkers/lin_panel.c, kit: checkers/panel.h) ------- */

/* The checker's panel (checker.html_verdict, html_panel): a badge and the
 * verdict in words; the counterexample drawn. */
void lin_html_verdict(FILE *out, const char *name, const json_t *result,
                      const checker_panel_env *env);
void lin_html_panel(FILE *out, const char *name, const json_t *result,
                    const checker_panel_env *env);
/* The parts other panels reuse on a result of this checker's shape
 * (`lin`): the verdict in words ("not linearizable: p1 read ... cannot
 * take effect ..."), given the verdict word and the reason; the
 * counterexample's stuck op in one clause; the counterexample ce drawn as
 * a figure with id "ce-CHECKER" + id_suffix (nothing if ce has no op). */
void lin_html_words(FILE *out, const char *verdict, const char *reason,
                    const json_t *lin);
void lin_html_stuck(FILE *out, const json_t *lin);
void lin_html_figure(FILE *out, const char *who, const json_t *ce,
                     const char *id_suffix, const checker_panel_env *env);

/* In the checker registry; checkers/sequential.c needs its results. */
extern const checker checker_linearizable;

/* Names of the models, NULL-terminated, for usage messages. */
const char *const *lin_model_names(void);

#endif
