/*
 * model_register.c — a read/write register, and Jepsen's cas-register
 * (read, write, compare-and-set [old new]). The state is the interned id of
 * the current value, so a step is an integer comparison.
 */
#include "checkers/lin_model.h"

#include <string.h>

enum { REG_READ, REG_WRITE, REG_CAS };

static int intern(lin_ctx *ctx, const json_t *v, uint64_t *id, fl_error *err)
{
    json_t *null = json_null();
    uint32_t got = lin_ctx_value(ctx, v ? v : null);
    if (got == UINT32_MAX)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    *id = got;
    return FL_OK;
}

static int reg_init(lin_ctx *ctx, const json_t *initial, uint64_t *state,
                    fl_error *err)
{
    return intern(ctx, initial, state, err);
}

static int prepare_read_write(lin_ctx *ctx, const char *f, const json_t *in,
                              const json_t *out, lin_op *op, fl_error *err)
{
    if (strcmp(f, "read") == 0) {
        op->kind = REG_READ;
        op->known = out != NULL;
        return out ? intern(ctx, out, &op->out, err) : FL_OK;
    }
    if (strcmp(f, "write") == 0) {
        op->kind = REG_WRITE;
        return intern(ctx, in, &op->arg, err);
    }
    return -1;
}

static int reg_prepare(lin_ctx *ctx, const char *f, const json_t *key,
                       const json_t *in, const json_t *out, lin_op *op,
                       fl_error *err)
{
    (void)key;
    int rc = prepare_read_write(ctx, f, in, out, op, err);
    if (rc >= 0)
        return rc;
    return fl_error_set(err, FL_EUSAGE,
                        "model register has no operation \"%s\" (it has "
                        "read, write; try --model cas-register)", f);
}

static int cas_prepare(lin_ctx *ctx, const char *f, const json_t *key,
                       const json_t *in, const json_t *out, lin_op *op,
                       fl_error *err)
{
    (void)key;
    int rc = prepare_read_write(ctx, f, in, out, op, err);
    if (rc >= 0)
        return rc;
    if (strcmp(f, "cas") != 0)
        return fl_error_set(err, FL_EUSAGE,
                            "model cas-register has no operation \"%s\" (it "
                            "has read, write, cas)", f);
    if (!json_is_array(in) || json_array_size(in) != 2)
        return fl_error_set(err, FL_EDATA,
                            "field \"value\": a cas needs [old, new], got %s",
                            history_json_kind(in));
    op->kind = REG_CAS;
    op->known = out != NULL;
    if ((rc = intern(ctx, json_array_get(in, 0), &op->arg, err)) != FL_OK)
        return rc;
    return intern(ctx, json_array_get(in, 1), &op->arg2, err);
}

static bool reg_step(lin_ctx *ctx, uint64_t state, const lin_op *op,
                     uint64_t *next)
{
    (void)ctx;
    switch (op->kind) {
    case REG_READ:
        *next = state;
        return !op->known || state == op->out;
    case REG_WRITE:
        *next = op->arg;
        return true;
    default: /* a cas happens only when the expectation holds */
        *next = op->arg2;
        return state == op->arg;
    }
}

static bool reg_read_only(const lin_op *op)
{
    return op->kind == REG_READ;
}

static json_t *reg_state_json(lin_ctx *ctx, uint64_t state)
{
    return json_deep_copy(lin_ctx_value_json(ctx, (uint32_t)state));
}

static uint64_t reg_written(const lin_op *op)
{
    switch (op->kind) {
    case REG_WRITE: return op->arg;
    case REG_CAS: return op->arg2;
    default: return LIN_NO_STATE;
    }
}

static void reg_observed(const lin_op *op, void (*see)(void *, uint64_t),
                         void *arg)
{
    if (op->kind == REG_READ && op->known)
        see(arg, op->out);
    else if (op->kind == REG_CAS)
        see(arg, op->arg);
}

/* A read of v can still happen if the register holds v or an op that can
 * take effect first writes v. */
static bool reg_viable(lin_ctx *ctx, uint64_t state, const lin_op *read,
                       const lin_op *const *window, size_t n)
{
    (void)ctx;
    if (state == read->out)
        return true;
    for (size_t i = 0; i < n; i++)
        if (reg_written(window[i]) == read->out)
            return true;
    return false;
}

const lin_model lin_model_register = {
    .name = "register",
    .ops = "read, write",
    .init = reg_init,
    .prepare = reg_prepare,
    .step = reg_step,
    .read_only = reg_read_only,
    .state_json = reg_state_json,
    .written = reg_written,
    .observed = reg_observed,
    .viable = reg_viable,
};

const lin_model lin_model_cas_register = {
    .name = "cas-register",
    .ops = "read, write, cas",
    .init = reg_init,
    .prepare = cas_prepare,
    .step = reg_step,
    .read_only = reg_read_only,
    .state_json = reg_state_json,
    .written = reg_written,
    .observed = reg_observed,
    .viable = reg_viable,
};
