/*
 * model_kv.c — Porcupine's key-value store: get, put and append on string
 * values, each on one key; a key never written holds the initial string.
 *
 * The state is a map, interned as a sorted array of (key id, string id)
 * pairs. Keys holding the initial string are left out, so every map has one
 * canonical form and equal maps have equal ids. Checked per key (the
 * default) a map has at most one pair; checked whole (--no-split) it has
 * one per key, which is what makes that search harder.
 */
#include "checkers/lin_model.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

enum { KV_GET, KV_PUT, KV_APPEND };

typedef struct kv_pair {
    uint32_t key;
    uint32_t value; /* blob id of the string */
} kv_pair;

#define INITIAL_STRING(ctx) (lin_ctx_params(ctx)[0])

static uint64_t intern_string(lin_ctx *ctx, const json_t *s)
{
    return lin_ctx_blob(ctx, json_string_value(s), json_string_length(s));
}

static int kv_init(lin_ctx *ctx, const json_t *initial, uint64_t *state,
                   fl_error *err)
{
    json_t *empty = json_string("");
    if (initial == NULL || json_is_null(initial))
        initial = empty;
    if (!json_is_string(initial)) {
        json_decref(empty);
        return fl_error_set(err, FL_EUSAGE,
                            "--initial: the kv-append model takes a string "
                            "(each key's initial value), got %s",
                            history_json_kind(initial));
    }
    INITIAL_STRING(ctx) = intern_string(ctx, initial);
    json_decref(empty);
    *state = lin_ctx_blob(ctx, "", 0);
    if (INITIAL_STRING(ctx) == LIN_NO_STATE || *state == LIN_NO_STATE)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

static int string_field(lin_ctx *ctx, const char *f, const json_t *v,
                        uint64_t *id, fl_error *err)
{
    if (!json_is_string(v))
        return fl_error_set(err, FL_EDATA,
                            "field \"value\": %s takes and returns a string, "
                            "got %s", f, history_json_kind(v));
    *id = intern_string(ctx, v);
    return *id == LIN_NO_STATE ? fl_error_set(err, FL_ENOMEM, "out of memory")
                               : FL_OK;
}

static int kv_prepare(lin_ctx *ctx, const char *f, const json_t *key,
                      const json_t *in, const json_t *out, lin_op *op,
                      fl_error *err)
{
    if (key == NULL)
        return fl_error_set(err, FL_EDATA,
                            "field \"key\": missing (kv-append operations "
                            "each name a key)");
    op->key = lin_ctx_value(ctx, key);
    if (op->key == UINT32_MAX)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    op->known = out != NULL;
    if (strcmp(f, "get") == 0) {
        op->kind = KV_GET;
        return out ? string_field(ctx, f, out, &op->out, err) : FL_OK;
    }
    if (strcmp(f, "put") == 0 || strcmp(f, "append") == 0) {
        op->kind = f[0] == 'p' ? KV_PUT : KV_APPEND;
        return string_field(ctx, f, in, &op->arg, err);
    }
    return fl_error_set(err, FL_EUSAGE,
                        "model kv-append has no operation \"%s\" (it has get, "
                        "put, append)", f);
}

/* Index of key's pair, or of where it would go. */
static size_t find_key(const kv_pair *pairs, size_t n, uint32_t key)
{
    size_t at = 0;
    while (at < n && pairs[at].key < key)
        at++;
    return at;
}

static uint64_t with_value(lin_ctx *ctx, const kv_pair *pairs, size_t n,
                           uint32_t key, uint64_t value)
{
    size_t at = find_key(pairs, n, key);
    bool present = at < n && pairs[at].key == key;
    bool keep = value != INITIAL_STRING(ctx);
    size_t m = n - present + keep;
    kv_pair *out = lin_ctx_scratch(ctx, (m + 1) * sizeof *out);
    if (out == NULL)
        return LIN_NO_STATE;
    memcpy(out, pairs, at * sizeof *pairs);
    if (keep)
        out[at] = (kv_pair){key, (uint32_t)value};
    memcpy(out + at + keep, pairs + at + present,
           (n - at - present) * sizeof *pairs);
    return lin_ctx_blob(ctx, out, m * sizeof *out);
}

static uint64_t appended(lin_ctx *ctx, uint64_t prefix, uint64_t suffix)
{
    size_t plen, slen;
    const char *p = lin_ctx_blob_bytes(ctx, prefix, &plen);
    const char *s = lin_ctx_blob_bytes(ctx, suffix, &slen);
    char *buf = lin_ctx_scratch(ctx, plen + slen + 1);
    if (buf == NULL)
        return LIN_NO_STATE;
    memcpy(buf, p, plen);
    memcpy(buf + plen, s, slen);
    return lin_ctx_blob(ctx, buf, plen + slen);
}

static bool kv_step(lin_ctx *ctx, uint64_t state, const lin_op *op,
                    uint64_t *next)
{
    size_t len;
    const kv_pair *pairs = lin_ctx_blob_bytes(ctx, state, &len);
    size_t n = len / sizeof *pairs, at = find_key(pairs, n, op->key);
    uint64_t current = at < n && pairs[at].key == op->key
                           ? pairs[at].value : INITIAL_STRING(ctx);
    *next = state;
    if (op->kind == KV_GET)
        return !op->known || current == op->out;
    uint64_t value = op->kind == KV_PUT ? op->arg
                                        : appended(ctx, current, op->arg);
    *next = value == LIN_NO_STATE ? LIN_NO_STATE
                                  : with_value(ctx, pairs, n, op->key, value);
    return true;
}

/* Between puts a key's string only grows: a get of g can still happen only
 * if the string is g, or a prefix of g that appends may extend, or a put
 * on the key of a prefix of g may take effect first (after the last put of
 * any sequence, the string is its value and then pieces appended). */
static bool kv_viable(lin_ctx *ctx, uint64_t state, const lin_op *get,
                      const lin_op *const *window, size_t n)
{
    size_t len, clen, glen, plen;
    const kv_pair *pairs = lin_ctx_blob_bytes(ctx, state, &len);
    size_t np = len / sizeof *pairs, at = find_key(pairs, np, get->key);
    uint64_t current = at < np && pairs[at].key == get->key
                           ? pairs[at].value : INITIAL_STRING(ctx);
    if (current == get->out)
        return true;
    const char *g = lin_ctx_blob_bytes(ctx, get->out, &glen);
    bool appends = false;
    for (size_t i = 0; i < n; i++) {
        if (window[i]->key != get->key)
            continue;
        if (window[i]->kind == KV_PUT) {
            const char *v = lin_ctx_blob_bytes(ctx, window[i]->arg, &plen);
            if (plen <= glen && memcmp(v, g, plen) == 0)
                return true;
        }
        appends |= window[i]->kind == KV_APPEND;
    }
    const char *c = lin_ctx_blob_bytes(ctx, current, &clen);
    return appends && clen < glen && memcmp(c, g, clen) == 0;
}

/* ---- The shrinker's witness rule ------------------------------------------- */

/*
 * A get of g is explained when some sequence of the candidates could leave
 * the key holding g: g = b + a1 + ... + ak, where b is the initial string or
 * a candidate put's value and a1..ak are the pieces of k distinct candidate
 * appends (k >= 0, in any order: the checker judges real time). Nothing
 * else can make a string, so a get this rejects is one no kept op could
 * have set up. Empty pieces change nothing and are skipped; a search that
 * runs past its budget answers "explained", as unsure.
 */
enum { KV_EXPLAIN_BUDGET = 1 << 14 };

typedef struct kv_cover {
    lin_ctx *ctx;
    const char *g;
    size_t glen;
    const lin_op *const *cand;
    size_t n;
    bool *used;     /* by candidate: its piece is placed */
    size_t budget;  /* search nodes left */
} kv_cover;

static bool kv_is_piece(const kv_cover *c, size_t i)
{
    return !c->used[i] && c->cand[i]->kind == KV_APPEND;
}

/* Equal pieces lead to the same searches: try only the first unused one. */
static bool kv_tried_equal(const kv_cover *c, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (kv_is_piece(c, j) && c->cand[j]->arg == c->cand[i]->arg)
            return true;
    return false;
}

/* Can g[at..) be cut into unused pieces, each used once? */
static bool kv_covers(kv_cover *c, size_t at)
{
    if (at == c->glen || c->budget == 0)
        return true;
    c->budget--;
    for (size_t i = 0; i < c->n; i++) {
        size_t len;
        if (!kv_is_piece(c, i))
            continue;
        const char *s = lin_ctx_blob_bytes(c->ctx, c->cand[i]->arg, &len);
        if (len == 0 || len > c->glen - at || memcmp(s, c->g + at, len) != 0 ||
            kv_tried_equal(c, i))
            continue;
        c->used[i] = true;
        bool ok = kv_covers(c, at + len);
        c->used[i] = false;
        if (ok)
            return true;
    }
    return false;
}

static bool kv_covers_from(kv_cover *c, uint64_t base)
{
    size_t blen;
    const char *b = lin_ctx_blob_bytes(c->ctx, base, &blen);
    return blen <= c->glen && memcmp(b, c->g, blen) == 0 && kv_covers(c, blen);
}

static bool kv_explained(lin_ctx *ctx, const lin_op *op,
                         const lin_op *const *cand, size_t n)
{
    if (op->kind != KV_GET || !op->known || op->out == INITIAL_STRING(ctx))
        return true;
    kv_cover c = {.ctx = ctx, .cand = cand, .n = n,
                  .budget = KV_EXPLAIN_BUDGET};
    c.g = lin_ctx_blob_bytes(ctx, op->out, &c.glen);
    c.used = lin_ctx_scratch(ctx, n + 1);
    if (c.used == NULL)
        return true;
    memset(c.used, 0, n + 1);
    if (kv_covers_from(&c, INITIAL_STRING(ctx)))
        return true;
    for (size_t i = 0; i < n; i++) {
        if (cand[i]->kind != KV_PUT)
            continue;
        bool seen = false; /* an equal put's value was tried */
        for (size_t j = 0; j < i && !seen; j++)
            seen = cand[j]->kind == KV_PUT && cand[j]->arg == cand[i]->arg;
        if (!seen && kv_covers_from(&c, cand[i]->arg))
            return true;
    }
    return false;
}

static bool kv_read_only(const lin_op *op)
{
    return op->kind == KV_GET;
}

static json_t *kv_state_json(lin_ctx *ctx, uint64_t state)
{
    size_t len, slen;
    const kv_pair *pairs = lin_ctx_blob_bytes(ctx, state, &len);
    json_t *o = json_object();
    for (size_t i = 0; i < len / sizeof *pairs; i++) {
        const json_t *key = lin_ctx_value_json(ctx, pairs[i].key);
        char *name = json_is_string(key)
                         ? fl_strdup(json_string_value(key))
                         : json_dumps(key, JSON_ENCODE_ANY);
        const char *s = lin_ctx_blob_bytes(ctx, pairs[i].value, &slen);
        if (name != NULL)
            json_object_set_new(o, name, json_stringn(s, slen));
        fl_free(name);
    }
    return o;
}

static int kv_string_role(const lin_op *op)
{
    return op->kind == KV_GET ? LIN_GETS : op->kind == KV_PUT ? LIN_SETS
                                                               : LIN_APPENDS;
}

static uint64_t kv_string_of(lin_ctx *ctx, uint64_t state, const lin_op *op)
{
    size_t len;
    const kv_pair *pairs = lin_ctx_blob_bytes(ctx, state, &len);
    size_t n = len / sizeof *pairs, at = find_key(pairs, n, op->key);
    return at < n && pairs[at].key == op->key ? pairs[at].value
                                              : INITIAL_STRING(ctx);
}

const lin_model lin_model_kv_append = {
    .name = "kv-append",
    .ops = "get, put, append",
    .init = kv_init,
    .prepare = kv_prepare,
    .step = kv_step,
    .read_only = kv_read_only,
    .state_json = kv_state_json,
    .explained = kv_explained,
    .viable = kv_viable,
    .string_role = kv_string_role,
    .string_of = kv_string_of,
};
