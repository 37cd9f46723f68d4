/*
 * shrink: cut an invalid history down to a small sub-history that is still
 * invalid (delta debugging over whole operations), so a person can read
 * the violation in a handful of lines.
 *
 * The shrinker does not know what "invalid" means: a judge the caller
 * passes decides each trial (checkers/linearizable.c passes one that runs
 * the linearizability check). What it does know is the model's view of the
 * operations, to keep each candidate a witness (see shrink.c).
 *
 * Ownership: *out is a new history owned by the caller; the options and
 * the history are borrowed.
 */
#ifndef FL_SHRINK_H
#define FL_SHRINK_H

#include <stdbool.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/lin_model.h"
#include "history/history.h"

/*
 * Is sub still invalid? 1 yes; 0 no (valid, or unknown); -1 when it could
 * not be judged (err set). time_left_s > 0 is what is left of the shrink's
 * budget, which the judge must keep to (<= 0: no budget).
 */
typedef int (*shrink_judge)(void *arg, const history *sub,
                            double time_left_s, fl_error *err);

typedef struct shrink_options {
    shrink_judge judge;
    void *judge_arg;
    double time_limit_s;      /* the whole shrink; <= 0: none */
    /* The model's view of the operations, for the witness rule: its
     * explained hook, else written/observed; model NULL, or one with
     * neither: the rule is not enforced. */
    const lin_model *model;
    const json_t *initial;    /* the model's initial value (NULL: default) */
    bool nil_reads_unknown;   /* as the judge reads null reads */
} shrink_options;

/*
 * h is a history the judge finds invalid. On FL_OK, *out is a sub-history
 * (whole operations only) that is still invalid and 1-minimal: removing
 * any one remaining operation makes it valid or unknown, or breaks the
 * witness rule. When opt->time_limit_s runs out, *out is the smallest
 * invalid history found so far and *minimal is false. If h is not invalid,
 * FL_EUSAGE; the judge's error if it fails.
 */
int shrink_history(const history *h, const shrink_options *opt,
                   history **out, bool *minimal, fl_error *err);

#endif
