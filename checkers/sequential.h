/*
 * sequential: decides whether a history is sequentially consistent with
 * respect to a sequential model, whether it is linearizable, and, when the
 * two differ, which guarantee broke (the "anomaly").
 *
 * Sequential consistency here: one total order of all `ok` operations and
 * any subset of the `info` ones exists that keeps each process's program
 * order and is legal for the model; there is no real-time constraint
 * between processes. `fail` operations are dropped. A process whose op
 * ended `info` issues nothing more (Jepsen), so that op may go anywhere
 * after its process's earlier ops, or nowhere.
 *
 * SC is not compositional (Herlihy & Wing): every key can be SC while the
 * whole history is not. So the whole multi-key history is decided, with
 * three sound shortcuts before the global search (checkers/sc_search.h):
 *  1. every key linearizable: the whole is linearizable, hence SC;
 *  2. one key's projection not SC: the whole is not (an order of the whole
 *     restricted to that key would be one for the key);
 *  3. processes link the keys they touch; the keys fall into connected
 *     components, and the whole is SC iff each component is: no process
 *     spans two components, so orders of the components interleave in any
 *     way without breaking a program order or a key's legality. A
 *     component whose keys are all linearizable is SC (shortcut 1 on the
 *     component); a component of one key is its projection (shortcut 2).
 *
 * The anomaly: "none" (linearizable), "real-time" (SC, not linearizable:
 * a stale read or another real-time violation), "non-sequential" (not
 * even SC), "unknown" (a budget ran out before it could be told).
 *
 * In the checker registry (checkers/checker.h) this is "sequential",
 * needing "linearizable"'s result (checker.needs: a composition hands in
 * its own, or runs one), taking opt->model and opt->consistency (SEQUENTIAL: the verdict is SC's;
 * BOTH or DEFAULT: the verdict is linearizability's and the JSON also
 * carries, at its top level, every field of the linearizable checker's
 * result, so readers of that result keep working).
 *
 * Ownership: sc_check() returns a result owned by the caller
 * (sc_result_json and sc_explain read it; sc_check_free frees it).
 */
#ifndef FL_SEQUENTIAL_H
#define FL_SEQUENTIAL_H

#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/checker.h"
#include "history/history.h"

typedef struct sc_check_result sc_check_result;

/* In the checker registry: needs checker_linearizable's result. */
extern const checker checker_sequential;

/*
 * Check h, given the linearizable checker's result on h with the same
 * model, initial value and splitting (checker.needs; its per-key verdicts
 * through checker_result_key_verdict, its JSON and words carried into
 * this result). lin NULL: nothing known of linearizability, so no
 * shortcut 1 and an unknown linearizability verdict. FL_OK with *out set
 * whatever the verdict; FL_EUSAGE (no model, an op the model does not
 * know, with the event named) or FL_ENOMEM only when the check could not
 * be run.
 */
int sc_check_given(const history *h, const checker_options *opt,
                   const checker_result *lin, sc_check_result **out,
                   fl_error *err);

/* The same, running what it needs first through the registry
 * (checker_check): for tests and benchmarks. */
int sc_check(const history *h, const checker_options *opt,
             sc_check_result **out, fl_error *err);

/* The verdict opt->consistency asks for. */
checker_verdict sc_check_verdict(const sc_check_result *r);
/* The sequential-consistency verdict alone. */
checker_verdict sc_check_sequential(const sc_check_result *r);

/* The JSON result documented in the README (new reference). */
json_t *sc_check_json(const sc_check_result *r);

/* "linearizable: false; sequential: true — stale reads". */
int sc_check_summary(const sc_check_result *r, FILE *out);

/* The verdicts, the anomaly and the counterexample in words. */
int sc_check_explain(const sc_check_result *r, FILE *out);

void sc_check_free(sc_check_result *r);

/*
 * The search alone, without shortcut 1: every key's projection, then each
 * component, as if no key were linearizable. For tests and benchmarks of
 * the search on histories that shortcut 1 would decide at once. *out is
 * the SC verdict; *explored the configurations it memoized (may be NULL).
 */
int sc_search_history(const history *h, const checker_options *opt,
                      checker_verdict *out, uint64_t *explored,
                      fl_error *err);

/* The sequential-consistency part of a result (sc_check_json's) in words:
 * the verdicts, the anomaly and the counterexample. Reads only the JSON,
 * so what a person reads and what a report shows come from one source. */
int sc_explain(const json_t *result, FILE *out);

/* Its panel in report.html (checker.html_verdict, html_panel;
 * checkers/sc_panel.c): a badge per guarantee and the anomaly in words;
 * the conflicting program-order chains drawn, and the linearizability
 * counterexample unless the run's linearizable result draws it. */
void sc_html_verdict(FILE *out, const char *name, const json_t *result,
                     const checker_panel_env *env);
void sc_html_panel(FILE *out, const char *name, const json_t *result,
                   const checker_panel_env *env);

#endif
