/*
 * model_set.c — a grow-only set: add(v) and read of the whole set. The
 * state is an interned, sorted array of element ids, so a read is one
 * comparison of state words.
 */
#include "checkers/lin_model.h"

#include <stdlib.h>
#include <string.h>

enum { SET_ADD, SET_READ };

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The state id of the set of an array's elements. */
static int intern_set(lin_ctx *ctx, const json_t *array, uint64_t *state,
                      fl_error *err)
{
    size_t n = json_array_size(array), kept = 0;
    uint32_t *ids = lin_ctx_scratch(ctx, (n + 1) * sizeof *ids);
    if (ids == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        ids[i] = lin_ctx_value(ctx, json_array_get(array, i));
        if (ids[i] == UINT32_MAX)
            return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    qsort(ids, n, sizeof *ids, cmp_u32);
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || ids[kept - 1] != ids[i])
            ids[kept++] = ids[i];
    *state = lin_ctx_blob(ctx, ids, kept * sizeof *ids);
    if (*state == LIN_NO_STATE)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

static int set_init(lin_ctx *ctx, const json_t *initial, uint64_t *state,
                    fl_error *err)
{
    if (initial != NULL && !json_is_null(initial) && !json_is_array(initial))
        return fl_error_set(err, FL_EUSAGE,
                            "--initial: the set model takes an array, got %s",
                            history_json_kind(initial));
    json_t *empty = json_array();
    int rc = intern_set(ctx, initial && json_is_array(initial) ? initial : empty,
                        state, err);
    json_decref(empty);
    return rc;
}

static int set_prepare(lin_ctx *ctx, const char *f, const json_t *key,
                       const json_t *in, const json_t *out, lin_op *op,
                       fl_error *err)
{
    (void)key;
    op->known = out != NULL;
    if (strcmp(f, "add") == 0) {
        op->kind = SET_ADD;
        op->arg = lin_ctx_value(ctx, in ? in : json_null());
        return op->arg == UINT32_MAX
                   ? fl_error_set(err, FL_ENOMEM, "out of memory") : FL_OK;
    }
    if (strcmp(f, "read") != 0)
        return fl_error_set(err, FL_EUSAGE,
                            "model set has no operation \"%s\" (it has add, "
                            "read)", f);
    op->kind = SET_READ;
    if (out == NULL)
        return FL_OK;
    if (!json_is_array(out))
        return fl_error_set(err, FL_EDATA,
                            "field \"value\": a set read returns an array, "
                            "got %s", history_json_kind(out));
    return intern_set(ctx, out, &op->out, err);
}

static bool set_step(lin_ctx *ctx, uint64_t state, const lin_op *op,
                     uint64_t *next)
{
    *next = state;
    if (op->kind == SET_READ)
        return !op->known || state == op->out;
    size_t len;
    const uint32_t *ids = lin_ctx_blob_bytes(ctx, state, &len);
    size_t n = len / sizeof *ids, at = 0;
    while (at < n && ids[at] < op->arg)
        at++;
    if (at < n && ids[at] == op->arg)
        return true; /* already present */
    uint32_t *grown = lin_ctx_scratch(ctx, (n + 1) * sizeof *grown);
    if (grown == NULL) {
        *next = LIN_NO_STATE;
        return true;
    }
    memcpy(grown, ids, at * sizeof *ids);
    grown[at] = (uint32_t)op->arg;
    memcpy(grown + at + 1, ids + at, (n - at) * sizeof *ids);
    *next = lin_ctx_blob(ctx, grown, (n + 1) * sizeof *grown);
    return true;
}

static bool set_read_only(const lin_op *op)
{
    return op->kind == SET_READ;
}

const lin_model lin_model_set = {
    .name = "set",
    .ops = "add, read",
    .init = set_init,
    .prepare = set_prepare,
    .step = set_step,
    .read_only = set_read_only,
    .state_json = lin_ids_json,
};
