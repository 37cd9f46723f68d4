/*
 * unique_register: a polynomial-time decision of linearizability for one
 * register or cas-register key whose written values are unique, pure:
 * the prepared operations in, a decision (and, when invalid, a small
 * sub-history that is still invalid) out. linearizable.c asks it first and
 * runs the WGL search only when it declines, or on its witness.
 *
 * Eligibility, checked exactly, never assumed: the model is "register" or
 * "cas-register"; no value is written (by a write, or as a cas's new
 * value) twice among the key's operations, info ones included; the
 * initial value is never written. Anything else is UREG_INELIGIBLE.
 *
 * Terms. Positions are the distinct event positions of wgl_op (call, ret;
 * ret = WGL_NEVER for an unknown outcome). The writer of v is the one op
 * that writes v; the initial value has a virtual writer with call -2,
 * ret -1, before everything. Required ops: every op that completed ok,
 * and, to a fixpoint, the writer of any value a required op observes (a
 * read's output, a cas's expectation). An info op that is not required
 * is dropped: in any linearization, the ops that observe its value are
 * themselves not required, so removing all of them together leaves each
 * remaining observer behind the same writer (Jepsen: it may never happen).
 *
 * Chains. Because a value is written once, a linearization holds v from
 * its writer to the next write and never again; so every reader of v and
 * the cas expecting v sit in that span, and that cas is the next write.
 * Two required cas expecting one v is therefore impossible, as is a cycle
 * of cas (a -> b -> a). A chain starts at a plain write (or the initial
 * value) and is the forced sequence of groups
 *     {writer of v1}, readers of v1, {cas v1->v2}, readers of v2, ...
 * and in every linearization each chain is one contiguous block (the op
 * after a chain's last group is a plain write, which starts another).
 * For a chain, lo = the least ret of its ops, hi = the greatest call.
 *
 * Theorem (Gibbons & Korach 1997 for clusters of one write and its reads;
 * here a chain of them). The required ops are linearizable iff
 *   (a) every observed value has a required writer or is the initial;
 *   (b) no value has two cas successors and no cas lies on a cycle;
 *   (c) in each chain, every op x has ret(x) > call(y) for each y in an
 *       earlier group (the forced order meets real time);
 *   (d) the forward zones [lo, hi] (chains with lo < hi) are disjoint;
 *   (e) no backward zone [hi, lo] (lo > hi) lies inside a forward zone.
 * Necessary: each op takes effect at a point inside (call, ret); a chain's
 * block spans from before its lo to after its hi, so a forward chain's
 * block covers [lo, hi]; a backward chain's block meets (hi, lo); blocks
 * are disjoint in time; (c) is real time applied to the forced order.
 * Sufficient: place a backward chain at one point of (hi, lo) outside
 * every forward zone (one exists, or (e) fails: the zones are disjoint
 * intervals with integer ends), all its ops there in the forced order;
 * place a forward chain greedily from lo - 1/4: each op at just after
 * max(the calls of earlier groups, its own call, lo - 1/4), which is
 * before its ret by (c) (and since ret >= lo), and at most hi. Blocks
 * are then disjoint, each starts with a write (or is the initial, first),
 * so the sequence is legal and meets real time. Info ops that are
 * required have ret = infinity, which changes no step.
 *
 * Cost: O(n log n) time (sorting the forward zones), O(n + values) memory,
 * all through base/alloc.
 *
 * Ownership: ureg_decide borrows its inputs; a result's witness array is
 * the result's (ureg_result_free).
 */
#ifndef FL_UNIQUE_REGISTER_H
#define FL_UNIQUE_REGISTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/fl_error.h"
#include "checkers/lin_model.h"
#include "checkers/wgl.h"

typedef enum ureg_outcome {
    UREG_INELIGIBLE, /* not a register with unique values: search instead */
    UREG_VALID,
    UREG_INVALID,
} ureg_outcome;

typedef struct ureg_result {
    ureg_outcome outcome;
    /* Ineligible: the rule that failed; invalid: the condition, (a)-(e)
     * above, in words. Static. */
    const char *why;
    /* Invalid: ascending indices into ops of a sub-history that is itself
     * not linearizable (the whole chains, or the chain prefix, or the
     * ops and the writers they depend on, that break the condition). */
    size_t *witness;
    size_t nwitness;
} ureg_result;

/*
 * Decide the ops of one key (sorted by call, as wgl_search takes them;
 * fail ops already removed) against model from `initial` (a value id).
 * FL_OK with *out filled whatever the outcome; FL_ENOMEM when out of
 * memory (base/alloc's limit).
 */
int ureg_decide(const lin_model *model, const wgl_op *ops, size_t n,
                uint64_t initial, ureg_result *out, fl_error *err);

void ureg_result_free(ureg_result *r);

#endif
