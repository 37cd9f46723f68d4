/*
 * wgl: the linearizability search for one object (one key), pure: operations
 * and a model in, a verdict and the evidence out. No files, no threads.
 *
 * The algorithm is Wing & Gong's as improved by Lowe (and used by Knossos
 * and Porcupine): walk the invocations and completions in real-time order as
 * a doubly linked list; linearize any invoked operation that the model
 * accepts in the current state, lifting it out of the list; when the walk
 * reaches the completion of an operation not yet linearized, backtrack.
 * Every (set of linearized operations, state) reached is memoized, and a
 * configuration seen before is not explored again, which is what makes the
 * search polynomial on most real histories.
 *
 * Operations whose outcome is unknown (info, or never completed) have no
 * completion in the list: they may be linearized at any point after their
 * invocation, or never, so the search succeeds as soon as every operation
 * that completed ok is linearized.
 *
 * Ownership: wgl_search borrows its inputs; the arrays in wgl_result are
 * owned by the result (wgl_result_free).
 */
#ifndef FL_WGL_H
#define FL_WGL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/fl_error.h"
#include "checkers/lin_model.h"
#include "checkers/verdict.h"

#define WGL_NEVER INT64_MAX /* completion position of an unknown outcome */

typedef struct wgl_op {
    lin_op op;
    int64_t call; /* position of the invocation in real-time order */
    int64_t ret;  /* position of the completion, WGL_NEVER if unknown */
} wgl_op;

/* Memory is not among them: the search's allocations go through
 * base/alloc, whose limit is hard, and one that fails ends the search
 * "unknown" with WGL_STOP_MEMORY. */
typedef struct wgl_limits {
    int64_t deadline_ns;          /* fl_clock_mono_ns(); 0: none */
    _Atomic bool *cancel;         /* set by another search; may be NULL */
} wgl_limits;

typedef enum wgl_stop {
    WGL_STOP_NONE,
    WGL_STOP_TIME,
    WGL_STOP_MEMORY,
    WGL_STOP_CANCELLED,
} wgl_stop;

#define WGL_MAX_STUCK_STATES 8

typedef struct wgl_result {
    checker_verdict verdict;
    wgl_stop stop;          /* why the verdict is unknown */
    uint64_t explored;      /* configurations memoized */
    size_t ok_ops;          /* operations that must be linearized */
    /* The longest linearization the search built (valid: the one it
     * found), and the state after each of its operations (indices into
     * the ops array; a valid result's last state is LIN_NO_STATE). */
    size_t depth;
    uint32_t *order;
    uint64_t *states;
    /* When invalid (or unknown): the operation whose completion the search
     * could not get past at that depth, and the distinct states it stood
     * in when it tried (at most WGL_MAX_STUCK_STATES). SIZE_MAX if none. */
    size_t stuck;
    size_t nstuck_states;
    uint64_t stuck_states[WGL_MAX_STUCK_STATES];
} wgl_result;

/*
 * Search. ops must be sorted by call position. The model computes in ctx,
 * starting from `initial`. Returns FL_OK with *out filled whatever the
 * verdict; out of memory (base/alloc's limit) is "unknown", WGL_STOP_MEMORY.
 */
int wgl_search(const lin_model *model, lin_ctx *ctx, const wgl_op *ops,
               size_t n, uint64_t initial, const wgl_limits *limits,
               wgl_result *out, fl_error *err);

void wgl_result_free(wgl_result *r);

#endif
