/* kvsm: see kvsm.h. The map is a uthash table keyed by the key bytes. */
#include "targets/raftkv/kvsm.h"
#include "base/alloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct kv_item {
    char *key;   /* key_len bytes + NUL */
    size_t key_len;
    char *value; /* NUL-terminated JSON text */
    UT_hash_handle hh;
} kv_item;

struct kvsm {
    kv_item *items;
};

/* ---- byte helpers ------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int failed;
} wbuf;

static void wb_put(wbuf *b, const void *src, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = fl_realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void wb_u8(wbuf *b, uint8_t v) { wb_put(b, &v, 1); }

static void wb_be(wbuf *b, uint64_t v, int bytes)
{
    uint8_t tmp[8];
    for (int i = 0; i < bytes; i++)
        tmp[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    wb_put(b, tmp, (size_t)bytes);
}

static void wb_blob(wbuf *b, const void *p, size_t n)
{
    wb_be(b, n, 4);
    wb_put(b, p, n);
}

typedef struct rbuf {
    const uint8_t *p;
    size_t len, pos;
} rbuf;

static int rb_be(rbuf *r, int bytes, uint64_t *v)
{
    if (r->len - r->pos < (size_t)bytes)
        return -1;
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++)
        x = (x << 8) | r->p[r->pos++];
    *v = x;
    return 0;
}

static int rb_blob(rbuf *r, const char **p, size_t *n)
{
    uint64_t len;
    if (rb_be(r, 4, &len) || r->len - r->pos < len)
        return -1;
    *p = (const char *)r->p + r->pos;
    *n = (size_t)len;
    r->pos += (size_t)len;
    return 0;
}

/* ---- commands ---------------------------------------------------------------- */

int kvsm_cmd_encode(const kvsm_cmd *cmd, uint8_t **out, size_t *out_len,
                    fl_error *err)
{
    if (cmd->op < KVSM_PUT || cmd->op > KVSM_TXN)
        return fl_error_set(err, FL_EUSAGE, "kvsm: unknown op %u", cmd->op);
    if (cmd->key_len == 0 || cmd->key_len > KVSM_MAX_KEY)
        return fl_error_set(err, FL_EUSAGE,
                            "kvsm: key must be 1..%d bytes (got %zu)",
                            KVSM_MAX_KEY, cmd->key_len);
    wbuf b = {0};
    wb_u8(&b, KVSM_CMD_VERSION);
    wb_u8(&b, cmd->op);
    wb_be(&b, cmd->req_id, 8);
    wb_blob(&b, cmd->key, cmd->key_len);
    wb_blob(&b, cmd->op == KVSM_DELETE ? NULL : cmd->value,
            cmd->op == KVSM_DELETE ? 0 : cmd->value_len);
    wb_blob(&b, cmd->op == KVSM_CAS ? cmd->prev : NULL,
            cmd->op == KVSM_CAS ? cmd->prev_len : 0);
    if (b.failed) {
        fl_free(b.p);
        return fl_error_set(err, FL_ENOMEM, "kvsm: out of memory encoding");
    }
    *out = b.p;
    *out_len = b.len;
    return FL_OK;
}

int kvsm_cmd_decode(const uint8_t *buf, size_t len, kvsm_cmd *cmd,
                    fl_error *err)
{
    rbuf r = {buf, len, 0};
    uint64_t ver, op;
    memset(cmd, 0, sizeof *cmd);
    if (rb_be(&r, 1, &ver) || ver != KVSM_CMD_VERSION)
        return fl_error_set(err, FL_EDATA, "kvsm: bad command version");
    if (rb_be(&r, 1, &op) || op < KVSM_PUT || op > KVSM_TXN)
        return fl_error_set(err, FL_EDATA, "kvsm: bad command op");
    cmd->op = (uint8_t)op;
    if (rb_be(&r, 8, &cmd->req_id) || rb_blob(&r, &cmd->key, &cmd->key_len) ||
        rb_blob(&r, &cmd->value, &cmd->value_len) ||
        rb_blob(&r, &cmd->prev, &cmd->prev_len) || r.pos != r.len ||
        cmd->key_len == 0 || cmd->key_len > KVSM_MAX_KEY ||
        (cmd->op != KVSM_DELETE && cmd->value_len == 0) ||
        (cmd->op == KVSM_CAS && cmd->prev_len == 0)) {
        memset(cmd, 0, sizeof *cmd);
        return fl_error_set(err, FL_EDATA, "kvsm: truncated or malformed "
                            "command (%zu bytes)", len);
    }
    return FL_OK;
}

/* ---- the map ------------------------------------------------------------------- */

kvsm *kvsm_new(void) { return fl_calloc(1, sizeof(kvsm)); }

static void item_free(kv_item *it)
{
    fl_free(it->key);
    fl_free(it->value);
    fl_free(it);
}

static void items_clear(kv_item **items)
{
    kv_item *it, *tmp;
    HASH_ITER(hh, *items, it, tmp) {
        HASH_DEL(*items, it);
        item_free(it);
    }
}

void kvsm_free(kvsm *sm)
{
    if (!sm)
        return;
    items_clear(&sm->items);
    fl_free(sm);
}

static kv_item *find(kv_item *items, const char *key, size_t key_len)
{
    kv_item *it = NULL;
    HASH_FIND(hh, items, key, key_len, it);
    return it;
}

static char *dup_text(const char *p, size_t n)
{
    char *s = fl_malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Insert or overwrite; returns -1 on out of memory (map unchanged). */
static int put(kv_item **items, const char *key, size_t key_len,
               const char *value, size_t value_len)
{
    char *v = dup_text(value, value_len);
    if (!v)
        return -1;
    kv_item *it = find(*items, key, key_len);
    if (it) {
        fl_free(it->value);
        it->value = v;
        return 0;
    }
    it = fl_calloc(1, sizeof *it);
    char *k = dup_text(key, key_len);
    if (!it || !k) {
        fl_free(it);
        fl_free(k);
        fl_free(v);
        return -1;
    }
    it->key = k;
    it->key_len = key_len;
    it->value = v;
    HASH_ADD_KEYPTR(hh, *items, it->key, it->key_len, it);
    return 0;
}

/* CAS (the key holds prev) and CREATE (the key is absent). */
static int apply_conditional(kvsm *sm, const kvsm_cmd *c, kvsm_result *res,
                             fl_error *err)
{
    kv_item *it = find(sm->items, c->key, c->key_len);
    int match = c->op == KVSM_CREATE
                    ? !it
                    : it && strlen(it->value) == c->prev_len &&
                          memcmp(it->value, c->prev, c->prev_len) == 0;
    if (!match) {
        if (res) {
            res->outcome = KVSM_PRECONDITION_FAILED;
            if (it && !(res->current = fl_strdup(it->value)))
                return fl_error_set(err, FL_ENOMEM, "kvsm: out of memory");
        }
        return FL_OK;
    }
    if (put(&sm->items, c->key, c->key_len, c->value, c->value_len))
        return fl_error_set(err, FL_ENOMEM, "kvsm: out of memory");
    return FL_OK;
}

/* ---- transactions ------------------------------------------------------------------ */

/* The store's key for a micro-op's key: an integer's digits, a string as
 * it is; false if it is neither or too long. */
static bool txn_key(const json_t *k, char *buf, size_t size)
{
    if (json_is_integer(k))
        return (size_t)snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
                                json_integer_value(k)) < size;
    if (!json_is_string(k) || json_string_length(k) == 0 ||
        json_string_length(k) >= size)
        return false;
    memcpy(buf, json_string_value(k), json_string_length(k) + 1);
    return true;
}

int kvsm_txn_valid(const json_t *t)
{
    if (!json_is_array(t) || json_array_size(t) == 0)
        return 0;
    size_t i;
    const json_t *m;
    char key[KVSM_MAX_KEY + 1];
    json_array_foreach(t, i, m) {
        const char *f = json_string_value(json_array_get(m, 0));
        if (!json_is_array(m) || json_array_size(m) != 3 || f == NULL ||
            !txn_key(json_array_get(m, 1), key, sizeof key) ||
            (strcmp(f, "r") != 0 && strcmp(f, "append") != 0 &&
             strcmp(f, "w") != 0))
            return 0;
    }
    return 1;
}

/* Run the micro-ops in c's value, in order, as one step; res->current is
 * the transaction with its reads filled in. */
static int apply_txn(kvsm *sm, const kvsm_cmd *c, kvsm_result *res,
                     fl_error *err)
{
    json_t *t = json_loadb(c->value, c->value_len, 0, NULL);
    if (!kvsm_txn_valid(t)) {
        json_decref(t);
        return fl_error_set(err, FL_EDATA, "kvsm: malformed transaction");
    }
    json_t *out = json_array();
    size_t i;
    json_t *m;
    int rc = out ? FL_OK : FL_ENOMEM;
    json_array_foreach(t, i, m) {
        char key[KVSM_MAX_KEY + 1];
        txn_key(json_array_get(m, 1), key, sizeof key);
        const char *f = json_string_value(json_array_get(m, 0));
        json_t *x = json_array_get(m, 2);
        kv_item *it = find(sm->items, key, strlen(key));
        json_t *cur = it ? json_loads(it->value, JSON_DECODE_ANY, NULL) : NULL;
        json_t *done = NULL;
        char *text = NULL;
        if (f[0] == 'r') {
            done = json_pack("[s, O, o]", f, json_array_get(m, 1),
                             cur ? json_incref(cur) : json_null());
        } else {
            if (f[0] == 'a') { /* a key that is no list starts one */
                if (!json_is_array(cur)) {
                    json_decref(cur);
                    cur = json_array();
                }
                json_array_append(cur, x);
                text = json_dumps(cur, KVSM_JSON_FLAGS);
            } else {
                text = json_dumps(x, KVSM_JSON_FLAGS);
            }
            done = json_incref(m);
            if (text == NULL || put(&sm->items, key, strlen(key), text,
                                    strlen(text)))
                rc = FL_ENOMEM;
        }
        free(text);
        json_decref(cur);
        if (done == NULL || json_array_append_new(out, done))
            rc = FL_ENOMEM;
        if (rc != FL_OK)
            break;
    }
    if (rc == FL_OK && res && !(res->current = json_dumps(out, KVSM_JSON_FLAGS)))
        rc = FL_ENOMEM;
    json_decref(t);
    json_decref(out);
    return rc == FL_OK ? FL_OK
                       : fl_error_set(err, FL_ENOMEM, "kvsm: out of memory");
}

int kvsm_apply(kvsm *sm, const uint8_t *data, size_t len, kvsm_result *res,
               fl_error *err)
{
    kvsm_cmd c;
    if (res)
        memset(res, 0, sizeof *res);
    int rc = kvsm_cmd_decode(data, len, &c, err);
    if (rc)
        return rc;
    if (res)
        res->req_id = c.req_id;
    switch (c.op) {
    case KVSM_PUT:
        if (put(&sm->items, c.key, c.key_len, c.value, c.value_len))
            return fl_error_set(err, FL_ENOMEM, "kvsm: out of memory");
        return FL_OK;
    case KVSM_CAS:
    case KVSM_CREATE:
        return apply_conditional(sm, &c, res, err);
    case KVSM_TXN:
        return apply_txn(sm, &c, res, err);
    default: {
        kv_item *it = find(sm->items, c.key, c.key_len);
        if (it) {
            HASH_DEL(sm->items, it);
            item_free(it);
        }
        return FL_OK;
    }
    }
}

const char *kvsm_get(const kvsm *sm, const char *key, size_t key_len)
{
    kv_item *it = find(sm->items, key, key_len);
    return it ? it->value : NULL;
}

size_t kvsm_count(const kvsm *sm) { return HASH_COUNT(sm->items); }

/* ---- snapshots ------------------------------------------------------------------- */

static const char SNAP_MAGIC[4] = {'K', 'V', 'S', '1'};

int kvsm_snapshot(const kvsm *sm, uint8_t **out, size_t *out_len,
                  fl_error *err)
{
    wbuf b = {0};
    wb_put(&b, SNAP_MAGIC, 4);
    wb_be(&b, HASH_COUNT(sm->items), 8);
    for (kv_item *it = sm->items; it; it = it->hh.next) {
        wb_blob(&b, it->key, it->key_len);
        wb_blob(&b, it->value, strlen(it->value));
    }
    if (b.failed) {
        fl_free(b.p);
        return fl_error_set(err, FL_ENOMEM, "kvsm: out of memory in snapshot");
    }
    *out = b.p;
    *out_len = b.len;
    return FL_OK;
}

int kvsm_restore(kvsm *sm, const uint8_t *data, size_t len, fl_error *err)
{
    rbuf r = {data, len, 4};
    uint64_t count;
    if (len < 4 || memcmp(data, SNAP_MAGIC, 4) || rb_be(&r, 8, &count))
        return fl_error_set(err, FL_EDATA, "kvsm: snapshot has no KVS1 header");
    kv_item *items = NULL;
    for (uint64_t i = 0; i < count; i++) {
        const char *k, *v;
        size_t kl, vl;
        if (rb_blob(&r, &k, &kl) || rb_blob(&r, &v, &vl) || kl == 0 ||
            vl == 0 || find(items, k, kl)) {
            items_clear(&items);
            return fl_error_set(err, FL_EDATA,
                                "kvsm: snapshot entry %llu malformed",
                                (unsigned long long)i);
        }
        if (put(&items, k, kl, v, vl)) {
            items_clear(&items);
            return fl_error_set(err, FL_ENOMEM, "kvsm: out of memory");
        }
    }
    if (r.pos != r.len) {
        items_clear(&items);
        return fl_error_set(err, FL_EDATA, "kvsm: trailing bytes in snapshot");
    }
    items_clear(&sm->items);
    sm->items = items;
    return FL_OK;
}
