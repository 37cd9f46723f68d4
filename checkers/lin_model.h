/*
 * lin_model: the sequential specifications the linearizability checker
 * judges histories against, and the context they compute in.
 *
 * A model is a small table of functions. The checker calls `prepare` once
 * per operation, before the search, to turn JSON into integers; the search
 * then calls only `step`, which must be cheap and must not allocate except
 * through lin_ctx_blob(). Adding a model touches one file (model_*.c) plus
 * its line in lin_model.c's registry.
 *
 * States are 64-bit words: small states (a register's value id, a counter)
 * are stored inline; larger ones (a set, a queue, a string, a map) are
 * interned byte strings whose id is the state. Either way two states are
 * equal exactly when their words are equal, which is what makes the
 * search's memo table cheap.
 *
 * Ownership: a lin_ctx owns every value and blob interned in it; pointers it
 * returns are valid until lin_ctx_free(). Models own nothing.
 */
#ifndef FL_LIN_MODEL_H
#define FL_LIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "history/history.h"

typedef struct lin_ctx lin_ctx;

/* One operation, as the model sees it. The meaning of kind/arg/arg2/out is
 * each model's own; `known` is false for info and unfinished operations. */
typedef struct lin_op {
    uint32_t kind;
    bool known;
    uint32_t key;   /* value id of the key (key-aware models), else 0 */
    uint64_t arg;
    uint64_t arg2;
    uint64_t out;
} lin_op;

#define LIN_NO_STATE UINT64_MAX /* a step that ran out of memory */

typedef struct lin_model {
    const char *name;
    const char *ops;  /* for messages: "read, write, cas" */
    /* The initial state; initial == NULL means the model's default. */
    int (*init)(lin_ctx *ctx, const json_t *initial, uint64_t *state,
                fl_error *err);
    /*
     * Translate one operation. `out` is the completion's value, NULL when the
     * outcome is unknown. FL_EUSAGE for an f the model does not have,
     * FL_EDATA for a value of the wrong shape, with a message naming it.
     */
    int (*prepare)(lin_ctx *ctx, const char *f, const json_t *key,
                   const json_t *in, const json_t *out, lin_op *op,
                   fl_error *err);
    /*
     * Apply op in state. Returns false when op cannot take effect there (a
     * known output disagrees, a precondition fails). *next = LIN_NO_STATE
     * with true returned means the context ran out of memory.
     */
    bool (*step)(lin_ctx *ctx, uint64_t state, const lin_op *op,
                 uint64_t *next);
    /* True when op never changes the state: such an op with an unknown
     * output constrains nothing and is dropped before the search. */
    bool (*read_only)(const lin_op *op);
    /* The state as JSON, for counterexamples. New reference. */
    json_t *(*state_json)(lin_ctx *ctx, uint64_t state);
    /* Optional, may be NULL: the value `op` writes into the state, or
     * LIN_NO_STATE. Used to drop info writes nobody could observe. */
    uint64_t (*written)(const lin_op *op);
    /* Optional, may be NULL: calls see(value) for each value `op` observes
     * or requires (read output, cas expectation). */
    void (*observed)(const lin_op *op, void (*see)(void *, uint64_t),
                     void *arg);
    /*
     * Optional, may be NULL: the shrinker's witness rule (checkers/shrink.c)
     * for models whose observations are not single written values; it takes
     * the place of written/observed there. Could op's observation have been
     * set up from the initial state by `candidates`: the other kept ops on
     * op's key, invoked before op completed, in invocation order (with n =
     * 0, can nothing but the initial state explain it)? True for an op that
     * observes nothing. Ignore real-time order among the candidates; the
     * checker judges that. Must be monotone (true for a set stays true for
     * every superset), and true when unsure.
     */
    bool (*explained)(lin_ctx *ctx, const lin_op *op,
                      const lin_op *const *candidates, size_t n);
    /* Optional, may be NULL: a quick, conservative lookahead. `read` is a
     * read-only op with a known output that must take effect before any
     * other op completes; only the ops in `window` can take effect before
     * it. Return false only when no sequence of them can lead from state to
     * a state the read accepts; true when unsure. */
    bool (*viable)(lin_ctx *ctx, uint64_t state, const lin_op *read,
                   const lin_op *const *window, size_t n);
    /*
     * Optional, may be NULL (checkers/sc_graph, for values built by
     * appends, kv-append): what op does to its key's string — LIN_SETS
     * (the string becomes arg), LIN_APPENDS (arg is appended), LIN_GETS
     * (out is the string, when known), LIN_OTHER — and the string a state
     * holds for op's key. Strings are lin_ctx blobs.
     */
    int (*string_role)(const lin_op *op);
    uint64_t (*string_of)(lin_ctx *ctx, uint64_t state, const lin_op *op);
} lin_model;

enum { LIN_OTHER, LIN_SETS, LIN_APPENDS, LIN_GETS };

/* The default model (checker_options_init), for tables that name it
 * statically (workloads/workload.c). */
extern const lin_model lin_model_cas_register;

/* The registry. NULL when no model has that name. */
const lin_model *lin_model_find(const char *name);
/* NULL-terminated names, for usage messages. */
const char *const *lin_model_list(void);

/*
 * The operation invoked at position `invoke` of h, as the checker judges
 * it (one rule for the search and for the shrinker's witness rule): the
 * output is the completion's value when it completed ok, else unknown;
 * with nil_reads_unknown, a read-only op that returned null has an unknown
 * output too. *ok: whether it completed ok. Errors are the model's
 * prepare's, unwrapped.
 */
int lin_model_prepare_event(const lin_model *m, lin_ctx *ctx,
                            const history *h, size_t invoke,
                            bool nil_reads_unknown, lin_op *op, bool *ok,
                            fl_error *err);

/* ---- Context -------------------------------------------------------------- */

/* A context for one search. Its memory counts against base/alloc's limit
 * like the search's own. */
lin_ctx *lin_ctx_new(void);
void lin_ctx_free(lin_ctx *ctx);

/* A dense id for a JSON value; equal values get equal ids. UINT32_MAX when
 * out of memory. */
uint32_t lin_ctx_value(lin_ctx *ctx, const json_t *value);
/* The value behind an id (borrowed). */
const json_t *lin_ctx_value_json(const lin_ctx *ctx, uint32_t id);

/* Intern a byte string; equal strings get equal ids. LIN_NO_STATE when out
 * of memory. */
uint64_t lin_ctx_blob(lin_ctx *ctx, const void *bytes, size_t len);
/* The bytes behind a blob id (borrowed). */
const void *lin_ctx_blob_bytes(const lin_ctx *ctx, uint64_t id, size_t *len);

/* Model scratch space: a reusable buffer of at least n bytes, valid until
 * the next call. NULL when out of memory. */
void *lin_ctx_scratch(lin_ctx *ctx, size_t n);

/* Four words a model may set in init() for constants its steps need. */
uint64_t *lin_ctx_params(lin_ctx *ctx);


/* Helpers shared by models. */
/* A state that is a blob of value ids (a set, a queue) as a JSON array. */
json_t *lin_ids_json(lin_ctx *ctx, uint64_t state);

#endif
