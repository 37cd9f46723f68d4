/*
 * verdict: what every checker concludes, and how verdicts combine.
 *
 * A checker that ran out of its time or memory budget does not guess: it
 * says "unknown". When several checkers judge one run, the run's verdict
 * is Jepsen's combination: any invalid makes it invalid, otherwise any
 * unknown makes it unknown, otherwise it is valid. The numeric values are
 * the exit codes of `faultline check`, `test` and `analyze`.
 */
#ifndef FL_VERDICT_H
#define FL_VERDICT_H

#include <jansson.h>

typedef enum checker_verdict {
    CHECKER_VALID = 0,
    CHECKER_INVALID = 1,
    CHECKER_UNKNOWN = 2,
} checker_verdict;

/* false over unknown over true. */
static inline checker_verdict checker_verdict_combine(checker_verdict a,
                                                      checker_verdict b)
{
    if (a == CHECKER_INVALID || b == CHECKER_INVALID)
        return CHECKER_INVALID;
    if (a == CHECKER_UNKNOWN || b == CHECKER_UNKNOWN)
        return CHECKER_UNKNOWN;
    return CHECKER_VALID;
}

/* "valid", "invalid", "unknown". */
static inline const char *checker_verdict_word(checker_verdict v)
{
    return v == CHECKER_VALID ? "valid" : v == CHECKER_INVALID ? "invalid"
                                                               : "unknown";
}

/* true, false or "unknown", as in results.json (new reference). */
static inline json_t *checker_verdict_json(checker_verdict v)
{
    return v == CHECKER_VALID ? json_true() : v == CHECKER_INVALID
                                                  ? json_false()
                                                  : json_string("unknown");
}

#endif
