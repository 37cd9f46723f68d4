/*
 * model_queue.c — Knossos's fifo-queue: enqueue(v), and dequeue returning
 * the oldest element. As in Knossos, a dequeue cannot take effect on an
 * empty queue (clients record "empty" as a failed dequeue). The state is an
 * interned array of element ids, oldest first.
 */
#include "checkers/lin_model.h"

#include <string.h>

enum { QUEUE_ENQUEUE, QUEUE_DEQUEUE };

static int queue_init(lin_ctx *ctx, const json_t *initial, uint64_t *state,
                      fl_error *err)
{
    if (initial != NULL && !json_is_null(initial) && !json_is_array(initial))
        return fl_error_set(err, FL_EUSAGE,
                            "--initial: the fifo-queue model takes an array "
                            "(oldest first), got %s", history_json_kind(initial));
    size_t n = json_array_size(initial);
    uint32_t *ids = lin_ctx_scratch(ctx, (n + 1) * sizeof *ids);
    if (ids == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if ((ids[i] = lin_ctx_value(ctx, json_array_get(initial, i))) ==
            UINT32_MAX)
            return fl_error_set(err, FL_ENOMEM, "out of memory");
    *state = lin_ctx_blob(ctx, ids, n * sizeof *ids);
    return *state == LIN_NO_STATE
               ? fl_error_set(err, FL_ENOMEM, "out of memory") : FL_OK;
}

static int queue_prepare(lin_ctx *ctx, const char *f, const json_t *key,
                         const json_t *in, const json_t *out, lin_op *op,
                         fl_error *err)
{
    (void)key;
    op->known = out != NULL;
    const json_t *v;
    if (strcmp(f, "enqueue") == 0) {
        op->kind = QUEUE_ENQUEUE;
        v = in;
    } else if (strcmp(f, "dequeue") == 0) {
        op->kind = QUEUE_DEQUEUE;
        if (out == NULL)
            return FL_OK;
        v = out;
    } else {
        return fl_error_set(err, FL_EUSAGE,
                            "model fifo-queue has no operation \"%s\" (it has "
                            "enqueue, dequeue)", f);
    }
    uint32_t id = lin_ctx_value(ctx, v ? v : json_null());
    if (id == UINT32_MAX)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    if (op->kind == QUEUE_ENQUEUE)
        op->arg = id;
    else
        op->out = id;
    return FL_OK;
}

static bool queue_step(lin_ctx *ctx, uint64_t state, const lin_op *op,
                       uint64_t *next)
{
    size_t len;
    const uint32_t *ids = lin_ctx_blob_bytes(ctx, state, &len);
    size_t n = len / sizeof *ids;
    if (op->kind == QUEUE_DEQUEUE) {
        if (n == 0 || (op->known && ids[0] != op->out))
            return false;
        *next = lin_ctx_blob(ctx, ids + 1, (n - 1) * sizeof *ids);
        return true;
    }
    uint32_t *grown = lin_ctx_scratch(ctx, (n + 1) * sizeof *grown);
    if (grown == NULL) {
        *next = LIN_NO_STATE;
        return true;
    }
    memcpy(grown, ids, len);
    grown[n] = (uint32_t)op->arg;
    *next = lin_ctx_blob(ctx, grown, (n + 1) * sizeof *grown);
    return true;
}

static bool queue_read_only(const lin_op *op)
{
    (void)op;
    return false;
}

const lin_model lin_model_fifo_queue = {
    .name = "fifo-queue",
    .ops = "enqueue, dequeue",
    .init = queue_init,
    .prepare = queue_prepare,
    .step = queue_step,
    .read_only = queue_read_only,
    .state_json = lin_ids_json,
};
