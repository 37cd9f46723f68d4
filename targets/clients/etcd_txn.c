/*
 * etcd_txn.c — the list-append and rw-register transactions on etcd (the
 * pure parts; etcd.c sends them): read every key the transaction touches
 * in one etcd Txn (one revision), run the micro-ops on what was read, then
 * commit with a Txn that compares each key's mod revision with the one
 * read and puts the new values. A false compare is retried; see etcd.h.
 */
#include "targets/clients/etcd.h"
#include "base/base64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TXN_KEYS_MAX 64

static char *b64s(const char *s, size_t n)
{
    char *out = malloc(fl_base64_encoded_size(n));
    return out ? fl_base64_encode(s, n, true, out) : NULL;
}

/* A micro-op's key as etcd's key text; false if not an integer or a
 * string. */
static bool key_of(const json_t *m, char *out, size_t size)
{
    const json_t *k = json_array_get(m, 1);
    if (json_is_integer(k))
        return (size_t)snprintf(out, size, "%" JSON_INTEGER_FORMAT,
                                json_integer_value(k)) < size;
    return json_is_string(k) &&
           (size_t)snprintf(out, size, "%s", json_string_value(k)) < size;
}

/* The distinct keys of txn in first-use order: their count, or -1 for a
 * micro-op of the wrong shape or too many keys. */
static int txn_keys(const json_t *txn, char keys[][64])
{
    int n = 0;
    size_t i;
    const json_t *m;
    if (!json_is_array(txn) || json_array_size(txn) == 0)
        return -1;
    json_array_foreach(txn, i, m) {
        const char *f = json_string_value(json_array_get(m, 0));
        char k[64];
        if (!json_is_array(m) || json_array_size(m) != 3 || f == NULL ||
            (strcmp(f, "r") && strcmp(f, "append") && strcmp(f, "w")) ||
            !key_of(m, k, sizeof k))
            return -1;
        int j = 0;
        while (j < n && strcmp(keys[j], k) != 0)
            j++;
        if (j == n) {
            if (n == TXN_KEYS_MAX)
                return -1;
            memcpy(keys[n++], k, sizeof k);
        }
    }
    return n;
}

char *etcd_txn_snapshot_body(const json_t *txn, bool serializable)
{
    char keys[TXN_KEYS_MAX][64];
    int n = txn_keys(txn, keys);
    if (n < 0)
        return NULL;
    json_t *success = json_array();
    for (int i = 0; success && i < n; i++) {
        char *k = b64s(keys[i], strlen(keys[i]));
        json_t *range = k ? json_pack("{s:s}", "key", k) : NULL;
        if (range && serializable)
            json_object_set_new(range, "serializable", json_true());
        if (!range || json_array_append_new(success,
                                            json_pack("{s:o}", "request_range",
                                                      range))) {
            json_decref(success);
            success = NULL;
        }
        free(k);
    }
    json_t *o = success ? json_pack("{s:o}", "success", success) : NULL;
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

int etcd_txn_plan(const json_t *txn, const json_t *snapshot, json_t **done,
                  char **commit)
{
    *done = NULL;
    *commit = NULL;
    char keys[TXN_KEYS_MAX][64];
    int n = txn_keys(txn, keys);
    const json_t *resp = json_object_get(snapshot, "responses");
    if (n < 0 || json_array_size(resp) != (size_t)n)
        return -1;
    json_t *state[TXN_KEYS_MAX] = {0};
    const char *rev[TXN_KEYS_MAX];
    bool dirty[TXN_KEYS_MAX] = {0};
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const json_t *range = json_object_get(json_array_get(resp, (size_t)i),
                                              "response_range");
        const json_t *kv = json_array_get(json_object_get(range, "kvs"), 0);
        /* the gateway leaves zeros out: an absent key's revision is 0 */
        rev[i] = kv ? json_string_value(json_object_get(kv, "mod_revision"))
                    : "0";
        if (!range || etcd_range_value(range, &state[i]) != 0 || !rev[i])
            rc = -1;
    }
    json_t *out = rc == 0 ? json_array() : NULL;
    size_t i;
    const json_t *m;
    json_array_foreach(txn, i, m) {
        if (out == NULL)
            break;
        char k[64];
        key_of(m, k, sizeof k);
        int j = 0;
        while (strcmp(keys[j], k) != 0)
            j++;
        const char *f = json_string_value(json_array_get(m, 0));
        json_t *x = json_array_get(m, 2);
        if (f[0] == 'r') {
            /* a copy: later appends change the state, not what was read */
            json_array_append_new(out, json_pack("[s, O, o]", f,
                                                 json_array_get(m, 1),
                                                 json_deep_copy(state[j])));
            continue;
        }
        if (f[0] == 'a') { /* a key that holds no list starts one */
            if (!json_is_array(state[j])) {
                json_decref(state[j]);
                state[j] = json_array();
            }
            json_array_append(state[j], x);
        } else {
            json_decref(state[j]);
            state[j] = json_incref(x);
        }
        dirty[j] = true;
        json_array_append(out, (json_t *)m);
    }
    json_t *cmp = out ? json_array() : NULL, *puts = out ? json_array() : NULL;
    bool writes = false;
    for (int j = 0; cmp && puts && j < n; j++) {
        char *k = b64s(keys[j], strlen(keys[j]));
        json_array_append_new(cmp, json_pack("{s:s, s:s, s:s, s:s}", "key", k,
                                             "target", "MOD", "result", "EQUAL",
                                             "mod_revision", rev[j]));
        if (dirty[j]) {
            char *text = json_dumps(state[j], JSON_COMPACT | JSON_ENCODE_ANY);
            char *v = text ? b64s(text, strlen(text)) : NULL;
            json_array_append_new(puts, json_pack("{s:{s:s, s:s}}",
                                                  "request_put", "key", k,
                                                  "value", v ? v : ""));
            writes = true;
            free(text);
            free(v);
        }
        free(k);
    }
    if (out && writes) {
        json_t *body = json_pack("{s:o, s:o}", "compare", cmp, "success", puts);
        cmp = puts = NULL;
        *commit = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        rc = *commit ? 0 : -1;
    }
    json_decref(cmp);
    json_decref(puts);
    for (int j = 0; j < n; j++)
        json_decref(state[j]);
    if (out == NULL || rc != 0) {
        json_decref(out);
        free(*commit);
        *commit = NULL;
        return -1;
    }
    *done = out;
    return 0;
}
