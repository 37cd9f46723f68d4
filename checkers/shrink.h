/*
 * shrink: cut a non-linearizable history down to a small sub-history that
 * is still not linearizable (delta debugging over whole operations), so a
 * person can read the violation in a handful of lines.
 *
 * Ownership: *out is a new history owned by the caller.
 */
#ifndef FL_SHRINK_H
#define FL_SHRINK_H

#include "checkers/linearizable.h"

/*
 * h is the history of one key (or one object) that opt's model judges
 * invalid. On FL_OK, *out is a sub-history (whole operations only) that is
 * still invalid and 1-minimal: removing any one remaining operation makes
 * it valid or unknown. Each trial runs opt's model single-threaded, never
 * shrinking recursively. opt->time_limit_s bounds the whole shrink: when it
 * runs out, *out is the smallest invalid history found so far and *minimal
 * is false. If h is not invalid, FL_EUSAGE.
 */
int shrink_history(const history *h, const lin_options *opt, history **out,
                   bool *minimal, fl_error *err);

#endif
