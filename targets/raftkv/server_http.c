/* server_http: raftkv's client API on libmicrohttpd (see server.h for the
 * routes and status codes). One MHD thread per connection, so a handler may
 * block in server_call() while the raft thread works. */
#include "targets/raftkv/server_internal.h"
#include "base/alloc.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (1u << 20)

typedef struct conn_body {
    char *buf;
    size_t len;
    bool too_big;
} conn_body;

/* {"error": msg} with msg JSON-escaped; malloc'd or NULL. */
static char *error_body(const char *msg)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status,
                               char *body)
{
    struct MHD_Response *r;
    if (body)
        r = MHD_create_response_from_buffer(strlen(body), body,
                                            MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(2, (void *)"{}",
                                            MHD_RESPMEM_PERSISTENT);
    if (!r) {
        fl_free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *role_word(raft_role r)
{
    switch (r) {
    case RAFT_LEADER: return "leader";
    case RAFT_FOLLOWER: return "follower";
    default: return "candidate";
    }
}

static enum MHD_Result handle_status(server *s, struct MHD_Connection *c)
{
    pthread_mutex_lock(&s->mu);
    raft_status st = s->status;
    pthread_mutex_unlock(&s->mu);
    char leader[96];
    server_client_addr(s, st.leader, leader, sizeof leader);
    char *body = server_fmt(
        "{\"id\":%u,\"role\":\"%s\",\"term\":%llu,\"leader\":%s%s%s,"
        "\"leader_id\":%u,\"commit\":%llu,\"applied\":%llu}",
        st.id, role_word(st.role), (unsigned long long)st.term,
        leader[0] ? "\"" : "null", leader, leader[0] ? "\"" : "", st.leader,
        (unsigned long long)st.commit, (unsigned long long)st.applied);
    return respond(c, 200, body);
}

/* Parse {"value": V[, "prev": P | , "create": true]} into canonical texts
 * (malloc'd) and the op. Returns NULL on success or an error message
 * (malloc'd) for a 400. */
static char *parse_put(const conn_body *b, char **value, char **prev,
                       uint8_t *op)
{
    json_error_t je;
    *value = *prev = NULL;
    json_t *root = json_loadb(b->buf ? b->buf : "", b->len, 0, &je);
    if (!root)
        return server_fmt("bad JSON body: %s (line %d, column %d)", je.text,
                          je.line, je.column);
    json_t *v = json_is_object(root) ? json_object_get(root, "value") : NULL;
    json_t *p = json_is_object(root) ? json_object_get(root, "prev") : NULL;
    json_t *create = json_is_object(root) ? json_object_get(root, "create")
                                          : NULL;
    char *msg = NULL;
    if (!v)
        msg = server_fmt("body must be an object with a \"value\" field");
    else if (create && !json_is_boolean(create))
        msg = server_fmt("\"create\" must be true or false");
    else if (json_is_true(create) && p)
        msg = server_fmt("\"create\" and \"prev\" exclude each other");
    if (msg) {
        json_decref(root);
        return msg;
    }
    *op = json_is_true(create) ? KVSM_CREATE : p ? KVSM_CAS : KVSM_PUT;
    *value = json_dumps(v, KVSM_JSON_FLAGS);
    if (p)
        *prev = json_dumps(p, KVSM_JSON_FLAGS);
    json_decref(root);
    if (!*value || (p && !*prev)) {
        fl_free(*value);
        fl_free(*prev);
        *value = *prev = NULL;
        return server_fmt("out of memory");
    }
    return NULL;
}

/* Build the write command; returns a request, or NULL with status and body set. */
static server_req *write_request(server *s, const char *key, const char *method,
                                 const conn_body *b, unsigned *status,
                                 char **body)
{
    char *value = NULL, *prev = NULL, *msg = NULL;
    kvsm_cmd cmd = {.op = KVSM_DELETE, .key = key, .key_len = strlen(key)};
    if (!strcmp(method, "PUT")) {
        if ((msg = parse_put(b, &value, &prev, &cmd.op))) {
            *status = 400;
            *body = error_body(msg);
            fl_free(msg);
            return NULL;
        }
        cmd.value = value;
        cmd.value_len = strlen(value);
        cmd.prev = prev;
        cmd.prev_len = prev ? strlen(prev) : 0;
    }
    pthread_mutex_lock(&s->mu);
    cmd.req_id = ((uint64_t)s->cfg.id << 48) | s->next_req_id++;
    pthread_mutex_unlock(&s->mu);
    server_req *r = server_req_new(REQ_WRITE);
    fl_error err;
    if (!r || kvsm_cmd_encode(&cmd, &r->cmd, &r->cmd_len, &err)) {
        fl_free(r);
        *status = 500;
        *body = error_body("cannot encode command");
        r = NULL;
    }
    fl_free(value);
    fl_free(prev);
    return r;
}

static enum MHD_Result handle_kv(server *s, struct MHD_Connection *c,
                                 const char *key, const char *method,
                                 const conn_body *b)
{
    unsigned status = 0;
    char *body = NULL;
    size_t klen = strlen(key);
    server_req *r = NULL;
    if (klen == 0 || klen > KVSM_MAX_KEY)
        return respond(c, 400, error_body("key must be 1..1024 bytes"));
    if (b->too_big)
        return respond(c, 413, error_body("body over 1 MiB"));
    if (!strcmp(method, "GET")) {
        if ((r = server_req_new(REQ_READ)) && !(r->key = fl_strdup(key))) {
            fl_free(r);
            r = NULL;
        }
        r ? (void)(r->key_len = klen) : (void)(status = 500);
    } else if (!strcmp(method, "PUT") || !strcmp(method, "DELETE")) {
        r = write_request(s, key, method, b, &status, &body);
    } else {
        return respond(c, 405, error_body("method not allowed"));
    }
    if (r)
        server_call(s, r, &status, &body);
    return respond(c, status ? status : 500, body);
}

/* One TXN command for micro-ops [from, to) of t; NULL when out of memory. */
static server_req *txn_request(server *s, const json_t *t, size_t from,
                               size_t to)
{
    json_t *part = json_array();
    for (size_t i = from; part && i < to; i++)
        json_array_append(part, json_array_get(t, i));
    char *text = part ? json_dumps(part, KVSM_JSON_FLAGS) : NULL;
    json_decref(part);
    kvsm_cmd cmd = {.op = KVSM_TXN, .key = "txn", .key_len = 3, .value = text,
                    .value_len = text ? strlen(text) : 0};
    pthread_mutex_lock(&s->mu);
    cmd.req_id = ((uint64_t)s->cfg.id << 48) | s->next_req_id++;
    pthread_mutex_unlock(&s->mu);
    server_req *r = text ? server_req_new(REQ_WRITE) : NULL;
    fl_error err;
    if (r && kvsm_cmd_encode(&cmd, &r->cmd, &r->cmd_len, &err)) {
        fl_free(r);
        r = NULL;
    }
    free(text);
    return r;
}

/* Run micro-ops [from, to) of t through the log: status and body. */
static void txn_call(server *s, const json_t *t, size_t from, size_t to,
                     unsigned *status, char **body)
{
    server_req *r = txn_request(s, t, from, to);
    *status = 500;
    *body = NULL;
    if (r)
        server_call(s, r, status, body);
    else
        *body = error_body("cannot encode command");
}

/* POST /txn {"value": [micro-op, ...]}: 200 {"ok":true,"value":[...]} with
 * the reads filled in, one log entry (kvsm.h, TXN). With the txn-split bug
 * the first half and the rest are two entries, so other transactions can
 * run between them. */
static enum MHD_Result handle_txn(server *s, struct MHD_Connection *c,
                                  const char *method, const conn_body *b)
{
    if (strcmp(method, "POST") != 0)
        return respond(c, 405, error_body("method not allowed"));
    if (b->too_big)
        return respond(c, 413, error_body("body over 1 MiB"));
    json_t *root = json_loadb(b->buf ? b->buf : "", b->len, 0, NULL);
    json_t *t = json_is_object(root) ? json_object_get(root, "value") : NULL;
    if (!kvsm_txn_valid(t)) {
        json_decref(root);
        return respond(c, 400, error_body("body must be {\"value\": [[\"r\"|"
                                          "\"append\"|\"w\", key, value], "
                                          "...]}"));
    }
    size_t n = json_array_size(t);
    size_t cut = s->cfg.bugs & SERVER_BUG_TXN_SPLIT && n >= 2 ? n / 2 : n;
    unsigned status;
    char *body;
    txn_call(s, t, 0, cut, &status, &body);
    if (status == 200 && cut < n) {
        unsigned status2;
        char *body2;
        txn_call(s, t, cut, n, &status2, &body2);
        json_t *one = json_loads(body ? body : "", 0, NULL);
        json_t *two = status2 == 200 ? json_loads(body2 ? body2 : "", 0, NULL)
                                     : NULL;
        fl_free(body);
        if (two) { /* both halves' reads, as one answer */
            json_array_extend(json_object_get(one, "value"),
                              json_object_get(two, "value"));
            body = json_dumps(one, JSON_COMPACT);
            fl_free(body2);
        } else {
            status = status2;
            body = body2;
        }
        json_decref(one);
        json_decref(two);
    }
    json_decref(root);
    return respond(c, status ? status : 500, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    server *s = cls;
    conn_body *b = *con_cls;
    (void)version;
    if (!b) { /* first call: headers only */
        if (!(b = fl_calloc(1, sizeof *b)))
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size) {
        if (b->len + *upload_size > BODY_MAX) {
            b->too_big = true;
        } else {
            char *nb = fl_realloc(b->buf, b->len + *upload_size);
            if (!nb)
                return MHD_NO;
            memcpy(nb + b->len, upload, *upload_size);
            b->buf = nb;
            b->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/status"))
        return strcmp(method, "GET")
                   ? respond(c, 405, error_body("method not allowed"))
                   : handle_status(s, c);
    if (!strncmp(url, "/kv/", 4))
        return handle_kv(s, c, url + 4, method, b);
    if (!strcmp(url, "/txn"))
        return handle_txn(s, c, method, b);
    return respond(c, 404, error_body("no such endpoint (try /kv/KEY, /txn "
                                      "or /status)"));
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_body *b = *con_cls;
    if (b) {
        fl_free(b->buf);
        fl_free(b);
        *con_cls = NULL;
    }
}

int server_http_start(server *s, fl_error *err)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(s->cfg.client.port);
    inet_pton(AF_INET, s->cfg.client.host, &sa.sin_addr);
    s->http = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
        s->cfg.client.port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_END);
    if (!s->http)
        return fl_error_set(err, FL_EIO, "cannot serve HTTP on %s:%u (address "
                            "in use or not local?)", s->cfg.client.host,
                            s->cfg.client.port);
    return FL_OK;
}

void server_http_stop(server *s)
{
    if (s->http)
        MHD_stop_daemon(s->http);
    s->http = NULL;
}
