/*
 * model_counter.c — a counter: add(n) and read. The state is the count
 * itself, an int64 stored in the state word.
 */
#include "checkers/lin_model.h"

#include <string.h>

enum { COUNTER_ADD, COUNTER_READ };

static int counter_init(lin_ctx *ctx, const json_t *initial, uint64_t *state,
                        fl_error *err)
{
    (void)ctx;
    if (initial == NULL || json_is_null(initial)) {
        *state = 0;
        return FL_OK;
    }
    if (!json_is_integer(initial))
        return fl_error_set(err, FL_EUSAGE,
                            "--initial: the counter model takes an integer, "
                            "got %s", history_json_kind(initial));
    *state = (uint64_t)json_integer_value(initial);
    return FL_OK;
}

static int counter_prepare(lin_ctx *ctx, const char *f, const json_t *key,
                           const json_t *in, const json_t *out, lin_op *op,
                           fl_error *err)
{
    (void)ctx, (void)key;
    if (strcmp(f, "add") == 0) {
        if (!json_is_integer(in))
            return fl_error_set(err, FL_EDATA,
                                "field \"value\": add needs an integer, got %s",
                                history_json_kind(in));
        op->kind = COUNTER_ADD;
        op->known = out != NULL;
        op->arg = (uint64_t)json_integer_value(in);
        return FL_OK;
    }
    if (strcmp(f, "read") == 0) {
        op->kind = COUNTER_READ;
        op->known = out != NULL;
        if (out == NULL)
            return FL_OK;
        if (!json_is_integer(out))
            return fl_error_set(err, FL_EDATA,
                                "field \"value\": a counter read returns an "
                                "integer, got %s", history_json_kind(out));
        op->out = (uint64_t)json_integer_value(out);
        return FL_OK;
    }
    return fl_error_set(err, FL_EUSAGE,
                        "model counter has no operation \"%s\" (it has add, "
                        "read)", f);
}

static bool counter_step(lin_ctx *ctx, uint64_t state, const lin_op *op,
                         uint64_t *next)
{
    (void)ctx;
    if (op->kind == COUNTER_ADD) {
        /* unsigned wrap-around is two's-complement addition, without UB */
        *next = state + op->arg;
        return true;
    }
    *next = state;
    return !op->known || state == op->out;
}

static bool counter_read_only(const lin_op *op)
{
    return op->kind == COUNTER_READ;
}

static json_t *counter_state_json(lin_ctx *ctx, uint64_t state)
{
    (void)ctx;
    return json_integer((json_int_t)state);
}

const lin_model lin_model_counter = {
    .name = "counter",
    .ops = "add, read",
    .init = counter_init,
    .prepare = counter_prepare,
    .step = counter_step,
    .read_only = counter_read_only,
    .state_json = counter_state_json,
};
