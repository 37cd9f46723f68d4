/*
 * phase: no silent wait. A phase of a run (set-up, teardown, the wait
 * after healing) says, every PHASE_TICK_S while it lasts, what it is
 * waiting for and on which nodes ("set-up, 10 s: waiting for raftkv to
 * serve on n2, n3"), and holds an overall bound: past it, it says so at
 * once and phase_overdue() turns true, so the caller can stop with an
 * error naming what was still awaited (phase_awaited).
 *
 * The steps themselves are bounded (every remote operation has a
 * time-out); the bound is the phase's promise on top of them.
 *
 * Threads: one ticker thread per phase. phase_wait may be called from
 * any thread (the per-node workers of remote_each).
 */
#ifndef FL_PHASE_H
#define FL_PHASE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/fl_error.h"

#define PHASE_TICK_S 5.0
#define PHASE_MAX_NODES 64
/* phase_wait's node for a wait that is no one node's ("a leader"). */
#define PHASE_ALL ((size_t)-1)

typedef void (*phase_log_fn)(void *ctx, const char *line);

typedef struct phase phase;

/* Begin the phase called name over n nodes (names borrowed; they and ctx
 * must outlive the phase), bounded by bound_s (0: no bound). log(ctx, line)
 * gets each announcement. On error (no thread) nothing runs. */
int phase_begin(const char *name, double bound_s, size_t n,
                const char *const *names, phase_log_fn log, void *ctx,
                phase **out, fl_error *err);

/* What node now waits for (borrowed: a string literal or one that lives
 * as long as the phase); NULL: nothing. */
void phase_wait(phase *p, size_t node, const char *what);

/* Whether the phase has outlasted its bound. */
bool phase_overdue(phase *p);

/* "raftkv to serve on n2, n3; a leader" — what is awaited now, or when
 * nothing is, the last thing that was (for an error after the wait); ""
 * when nothing ever was. Into buf. */
void phase_awaited(phase *p, char *buf, size_t size);

/* End the phase (joins its thread) and free it. NULL is a no-op. */
void phase_end(phase *p);

#endif
