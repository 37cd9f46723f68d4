/*
 * compose: several checkers over one parsed history, as Jepsen's
 * `compose`: each checker runs once, its result is kept under its name,
 * and the verdicts combine in Jepsen's validity lattice (checkers/verdict.h:
 * invalid beats unknown beats valid).
 *
 * A checker that needs another's result (checker.needs) is handed it: the
 * composition's own run of that checker when it has one that asks the
 * same question (checker_options_same_question), run first whatever the
 * order; else a private run with the options the dependent derives
 * (checker.needs_options), which is not one of the composition's results.
 * So `sequential` reuses the per-key verdicts of a `linearizable` beside
 * it, and runs one of its own when alone.
 *
 * Ownership: compose_run() returns a composition owned by the caller
 * (compose_free); the results it lends are valid until then. It copies
 * the items.
 */
#ifndef FL_COMPOSE_H
#define FL_COMPOSE_H

#include <stddef.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/checker.h"
#include "history/history.h"

/* One checker of a composition and the options it runs with. */
typedef struct compose_item {
    const checker *checker;
    checker_options options;
} compose_item;

typedef struct composition composition;

/*
 * Run items[0..n) on h. FL_OK with *out set whatever the verdicts;
 * FL_EUSAGE if a checker appears twice (results are kept by name);
 * otherwise the first checker's error that could not run, wrapped with
 * its name.
 */
int compose_run(const history *h, const compose_item *items, size_t n,
                composition **out, fl_error *err);

/* The combined verdict: valid for no checker at all. */
checker_verdict compose_verdict(const composition *c);
size_t compose_count(const composition *c);
/* Item i's result (borrowed), in the items' order. */
const checker_result *compose_result(const composition *c, size_t i);

/* {"valid": the combined verdict, "checkers": {NAME: RESULT, ...} in the
 * items' order}: results.json's core. New reference; NULL when out of
 * memory. */
json_t *compose_json(const composition *c);

void compose_free(composition *c);

#endif
