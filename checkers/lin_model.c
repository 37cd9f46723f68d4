/*
 * lin_model.c — the model registry and the context models compute in:
 * a JSON value interner (used while preparing operations) and a byte-string
 * interner for composite states (used during the search, so it is an
 * open-addressing table over a chunked arena: no per-entry malloc, and
 * pointers stay valid as it grows).
 */
#include "checkers/lin_model.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <xxhash.h>

extern const lin_model lin_model_register, lin_model_cas_register,
    lin_model_mutex, lin_model_set, lin_model_fifo_queue, lin_model_counter,
    lin_model_kv_append;

static const lin_model *const registry[] = {
    &lin_model_register,  &lin_model_cas_register, &lin_model_mutex,
    &lin_model_set,       &lin_model_fifo_queue,   &lin_model_counter,
    &lin_model_kv_append,
};
#define NMODELS (sizeof registry / sizeof *registry)

const lin_model *lin_model_find(const char *name)
{
    for (size_t i = 0; i < NMODELS; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const char *const *lin_model_list(void)
{
    static const char *names[NMODELS + 1];
    for (size_t i = 0; i < NMODELS; i++)
        names[i] = registry[i]->name;
    names[NMODELS] = NULL;
    return names;
}

int lin_model_prepare_event(const lin_model *m, lin_ctx *ctx,
                            const history *h, size_t invoke,
                            bool nil_reads_unknown, lin_op *op, bool *ok,
                            fl_error *err)
{
    const history_event *e = &history_events(h)[invoke];
    const history_event *done =
        e->pair != HISTORY_NONE ? &history_events(h)[e->pair] : NULL;
    *ok = done != NULL && done->type == HISTORY_OK;
    const json_t *output = *ok ? history_value(h, done->value) : NULL;
    memset(op, 0, sizeof *op);
    int rc = m->prepare(ctx, history_name(h, e->f),
                        e->key != HISTORY_NONE ? history_value(h, e->key)
                                               : NULL,
                        history_value(h, e->value), output, op, err);
    if (rc != FL_OK)
        return rc;
    if (!*ok || (nil_reads_unknown && json_is_null(output) && m->read_only(op)))
        op->known = false;
    return FL_OK;
}

json_t *lin_ids_json(lin_ctx *ctx, uint64_t state)
{
    size_t len;
    const uint32_t *ids = lin_ctx_blob_bytes(ctx, state, &len);
    json_t *a = json_array();
    for (size_t i = 0; i < len / sizeof *ids; i++)
        json_array_append_new(a, json_deep_copy(lin_ctx_value_json(ctx, ids[i])));
    return a;
}

/* ---- Context ---------------------------------------------------------------- */

typedef struct value_entry {
    char *text; /* value_key's text: the hash key */
    uint32_t id;
    UT_hash_handle hh;
} value_entry;

typedef struct blob {
    const unsigned char *bytes;
    size_t len;
    uint64_t hash;
} blob;

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(8) unsigned char data[];
} chunk;

struct lin_ctx {
    value_entry *values_by_text;
    json_t **values;
    size_t nvalues, values_cap;
    blob *blobs;
    size_t nblobs, blobs_cap;
    uint32_t *slots; /* blob id + 1; 0 = empty */
    size_t nslots;
    chunk *chunks;
    void *scratch;
    size_t scratch_cap;
    uint64_t params[4];
};

uint64_t *lin_ctx_params(lin_ctx *ctx)
{
    return ctx->params;
}

lin_ctx *lin_ctx_new(void)
{
    return fl_calloc(1, sizeof(lin_ctx));
}

void lin_ctx_free(lin_ctx *ctx)
{
    if (ctx == NULL)
        return;
    value_entry *e, *tmp;
    HASH_ITER(hh, ctx->values_by_text, e, tmp) {
        HASH_DEL(ctx->values_by_text, e);
        fl_free(e->text);
        fl_free(e);
    }
    for (size_t i = 0; i < ctx->nvalues; i++)
        json_decref(ctx->values[i]);
    fl_free(ctx->values);
    fl_free(ctx->blobs);
    fl_free(ctx->slots);
    for (chunk *c = ctx->chunks, *next; c != NULL; c = next) {
        next = c->next;
        fl_free(c);
    }
    fl_free(ctx->scratch);
    fl_free(ctx);
}

/* Decimal digits of v at out (no NUL); their count. */
static size_t put_decimal(char *out, json_int_t v)
{
    char digits[24];
    size_t n = 0, len = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                  : (unsigned long long)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = digits[--n];
    return len;
}

/*
 * A value's hash key: a tag, then for an integer its decimal form, for a
 * string its bytes, else canonical compact JSON. Preparing a key's ops
 * looks up two or three values an op, nearly all integers and strings:
 * printing each with json_dumps (and its allocations) was a third of
 * `faultline check` on a 1M-op history. The tags keep the forms apart.
 * Returns the length (0 on failure); *text is stack (cap bytes) unless it
 * had to be allocated with fl_malloc.
 */
static size_t value_key(const json_t *v, char *stack, size_t cap, char **text)
{
    *text = stack;
    if (json_is_integer(v)) {
        stack[0] = 'i';
        return 1 + put_decimal(stack + 1, json_integer_value(v));
    }
    size_t n;
    if (json_is_string(v)) {
        n = json_string_length(v);
        if (n + 1 > cap && (*text = fl_malloc(n + 1)) == NULL)
            return 0;
        (*text)[0] = 's';
        memcpy(*text + 1, json_string_value(v), n);
        return n + 1;
    }
    size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY;
    n = json_dumpb(v, stack + 1, cap - 1, flags);
    if (n == 0)
        return 0;
    if (n > cap - 1) {
        *text = fl_malloc(n + 1);
        if (*text == NULL || json_dumpb(v, *text + 1, n, flags) != n)
            return 0;
    }
    (*text)[0] = 'j';
    return n + 1;
}

static uint32_t value_insert(lin_ctx *ctx, const json_t *value,
                             const char *text, size_t n)
{
    if (ctx->nvalues == ctx->values_cap) {
        size_t cap = ctx->values_cap ? 2 * ctx->values_cap : 16;
        json_t **grown = fl_realloc(ctx->values, cap * sizeof *grown);
        if (grown == NULL)
            return UINT32_MAX;
        ctx->values = grown;
        ctx->values_cap = cap;
    }
    value_entry *e = fl_malloc(sizeof *e);
    json_t *copy = json_deep_copy(value);
    char *key = fl_malloc(n);
    if (e == NULL || copy == NULL || key == NULL) {
        fl_free(e);
        json_decref(copy);
        fl_free(key);
        return UINT32_MAX;
    }
    e->text = memcpy(key, text, n);
    e->id = (uint32_t)ctx->nvalues;
    ctx->values[ctx->nvalues++] = copy;
    HASH_ADD_KEYPTR(hh, ctx->values_by_text, e->text, n, e);
    return e->id;
}

uint32_t lin_ctx_value(lin_ctx *ctx, const json_t *value)
{
    char stack[256], *text;
    size_t n = value_key(value, stack, sizeof stack, &text);
    uint32_t id = UINT32_MAX;
    if (n != 0) {
        value_entry *e;
        HASH_FIND(hh, ctx->values_by_text, text, n, e);
        id = e != NULL ? e->id : value_insert(ctx, value, text, n);
    }
    if (text != stack)
        fl_free(text);
    return id;
}

const json_t *lin_ctx_value_json(const lin_ctx *ctx, uint32_t id)
{
    return id < ctx->nvalues ? ctx->values[id] : NULL;
}

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
    return XXH3_64bits(p, n);
}

/* Blobs are arrays of ids that models read in place: keep them 8-aligned. */
static unsigned char *arena_copy(lin_ctx *ctx, const void *bytes, size_t len)
{
    chunk *c = ctx->chunks;
    if (c != NULL)
        c->used = (c->used + 7) & ~(size_t)7;
    if (c == NULL || c->used > c->cap || c->cap - c->used < len) {
        size_t cap = len > 65536 ? len : 65536;
        c = fl_malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = ctx->chunks;
        ctx->chunks = c;
    }
    unsigned char *p = c->data + c->used;
    if (len > 0)
        memcpy(p, bytes, len);
    c->used += len;
    return p;
}

static int grow_slots(lin_ctx *ctx)
{
    size_t n = ctx->nslots ? 2 * ctx->nslots : 1024;
    uint32_t *slots = fl_calloc(n, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < ctx->nblobs; i++) {
        size_t s = ctx->blobs[i].hash & (n - 1);
        while (slots[s] != 0)
            s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)i + 1;
    }
    fl_free(ctx->slots);
    ctx->slots = slots;
    ctx->nslots = n;
    return 0;
}

static int add_blob(lin_ctx *ctx, const void *bytes, size_t len, uint64_t hash)
{
    if (ctx->nblobs == ctx->blobs_cap) {
        size_t cap = ctx->blobs_cap ? 2 * ctx->blobs_cap : 256;
        blob *grown = fl_realloc(ctx->blobs, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        ctx->blobs = grown;
        ctx->blobs_cap = cap;
    }
    const unsigned char *copy = arena_copy(ctx, bytes, len);
    if (copy == NULL)
        return -1;
    ctx->blobs[ctx->nblobs] = (blob){copy, len, hash};
    ctx->nblobs++;
    return 0;
}

uint64_t lin_ctx_blob(lin_ctx *ctx, const void *bytes, size_t len)
{
    if (2 * (ctx->nblobs + 1) > ctx->nslots && grow_slots(ctx) != 0)
        return LIN_NO_STATE;
    uint64_t hash = hash_bytes(bytes, len);
    size_t mask = ctx->nslots - 1, s = hash & mask;
    for (; ctx->slots[s] != 0; s = (s + 1) & mask) {
        const blob *b = &ctx->blobs[ctx->slots[s] - 1];
        if (b->hash == hash && b->len == len &&
            (len == 0 || memcmp(b->bytes, bytes, len) == 0))
            return ctx->slots[s] - 1;
    }
    if (add_blob(ctx, bytes, len, hash) != 0)
        return LIN_NO_STATE;
    ctx->slots[s] = (uint32_t)ctx->nblobs;
    return ctx->nblobs - 1;
}

const void *lin_ctx_blob_bytes(const lin_ctx *ctx, uint64_t id, size_t *len)
{
    *len = ctx->blobs[id].len;
    return ctx->blobs[id].bytes;
}

void *lin_ctx_scratch(lin_ctx *ctx, size_t n)
{
    if (n > ctx->scratch_cap) {
        size_t cap = n < 256 ? 256 : n * 2;
        void *grown = fl_realloc(ctx->scratch, cap);
        if (grown == NULL)
            return NULL;
        ctx->scratch = grown;
        ctx->scratch_cap = cap;
    }
    return ctx->scratch;
}
