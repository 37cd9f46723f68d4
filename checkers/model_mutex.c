/*
 * model_mutex.c — Knossos's mutex: acquire succeeds only when free,
 * release only when held. The state is 0 (free) or 1 (held).
 */
#include "checkers/lin_model.h"

#include <string.h>

enum { MUTEX_ACQUIRE, MUTEX_RELEASE };

static int mutex_init(lin_ctx *ctx, const json_t *initial, uint64_t *state,
                      fl_error *err)
{
    (void)ctx;
    if (initial == NULL || json_is_null(initial) || json_is_false(initial)) {
        *state = 0;
        return FL_OK;
    }
    if (json_is_true(initial)) {
        *state = 1;
        return FL_OK;
    }
    return fl_error_set(err, FL_EUSAGE,
                        "--initial: the mutex model takes true (held) or "
                        "false (free), got %s", history_json_kind(initial));
}

static int mutex_prepare(lin_ctx *ctx, const char *f, const json_t *key,
                         const json_t *in, const json_t *out, lin_op *op,
                         fl_error *err)
{
    (void)ctx, (void)key, (void)in;
    op->known = out != NULL;
    if (strcmp(f, "acquire") == 0)
        op->kind = MUTEX_ACQUIRE;
    else if (strcmp(f, "release") == 0)
        op->kind = MUTEX_RELEASE;
    else
        return fl_error_set(err, FL_EUSAGE,
                            "model mutex has no operation \"%s\" (it has "
                            "acquire, release)", f);
    return FL_OK;
}

static bool mutex_step(lin_ctx *ctx, uint64_t state, const lin_op *op,
                       uint64_t *next)
{
    (void)ctx;
    bool acquire = op->kind == MUTEX_ACQUIRE;
    *next = acquire ? 1 : 0;
    return state == (acquire ? 0u : 1u);
}

static bool mutex_read_only(const lin_op *op)
{
    (void)op;
    return false;
}

static json_t *mutex_state_json(lin_ctx *ctx, uint64_t state)
{
    (void)ctx;
    return json_string(state ? "held" : "free");
}

const lin_model lin_model_mutex = {
    .name = "mutex",
    .ops = "acquire, release",
    .init = mutex_init,
    .prepare = mutex_prepare,
    .step = mutex_step,
    .read_only = mutex_read_only,
    .state_json = mutex_state_json,
};
