/*
 * etcd target: the db side runs etcd on the nodes over SSH; the client
 * speaks etcd's v3 JSON gateway. See etcd.h for the layout, the options
 * and the outcome table.
 */
#include "targets/clients/etcd.h"
#include "base/base64.h"
#include "base/clock.h"
#include "targets/clients/daemon.h"
#include "targets/clients/http_kv.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BINARY "/usr/bin/etcd"

/* ---- command lines (pure) ---------------------------------------------------------- */

/* How etcd's process is found, wiped and its logs collected. --name
 * and the data dir come first in its command line, in this order. */
static const daemon_spec etcd_daemon = {
    .what = "etcd",
    .cmdline_re = "^[^ ]*etcd --name [^ ]+ --data-dir $d/etcd-data ",
    .pid_file = "etcd.pid",
    .wipe = (const char *const[]){"etcd-data", "etcd.log", "stdout.log", "etcd.pid", NULL},
    .logs = (const char *const[]){"etcd.log", "stdout.log", NULL},
    .install_hint = "install etcd-server, or give --binary PATH",
};

/* Node i's etcd command line. */
static char *command_line(const char *binary, size_t n,
                          const char *const *names, const char *const *addrs,
                          size_t i)
{
    daemon_text t;
    FILE *f = daemon_text_open(&t);
    if (!f)
        return NULL;
    const char *a = addrs[i];
    fprintf(f, "%s --name %s --data-dir $d/etcd-data "
               "--listen-client-urls http://%s:%d "
               "--advertise-client-urls http://%s:%d "
               "--listen-peer-urls http://%s:%d "
               "--initial-advertise-peer-urls http://%s:%d "
               "--initial-cluster-state new --initial-cluster-token faultline "
               "--initial-cluster ",
            binary, names[i], a, ETCD_CLIENT_PORT, a, ETCD_CLIENT_PORT, a,
            ETCD_PEER_PORT, a, ETCD_PEER_PORT);
    for (size_t j = 0; j < n; j++)
        fprintf(f, "%s%s=http://%s:%d", j ? "," : "", names[j], addrs[j],
                ETCD_PEER_PORT);
    fputs(" --logger zap --log-outputs $d/etcd.log", f);
    return daemon_text_close(&t);
}

char *etcd_start_cmd(const char *binary, const char *node_dir, size_t n,
                     const char *const *names, const char *const *addrs,
                     size_t i)
{
    return daemon_start_cmd(&etcd_daemon, node_dir, names[i],
                            (daemon_start){.command = command_line(
                                binary, n, names, addrs, i)});
}

/* ---- request bodies (pure) ---------------------------------------------------------- */

/* base64 of s[0..n), new string. */
static char *b64(const char *s, size_t n)
{
    char *out = malloc(fl_base64_encoded_size(n));
    return out ? fl_base64_encode(s, n, true, out) : NULL;
}

static char *b64_json(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *out = text ? b64(text, strlen(text)) : NULL;
    free(text);
    return out;
}

/* The compact text of o (stolen), new string. */
static char *dump_new(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *etcd_range_body(const char *key, bool serializable)
{
    char *k = b64(key, strlen(key));
    char *s = k ? dump_new(serializable ? json_pack("{s:s,s:b}", "key", k,
                                                    "serializable", 1)
                                        : json_pack("{s:s}", "key", k))
                : NULL;
    free(k);
    return s;
}

char *etcd_put_body(const char *key, const json_t *value)
{
    char *k = b64(key, strlen(key)), *v = b64_json(value);
    char *s = k && v ? dump_new(json_pack("{s:s,s:s}", "key", k, "value", v))
                     : NULL;
    free(k);
    free(v);
    return s;
}

char *etcd_txn_body(const char *key, const json_t *expected,
                    const json_t *next)
{
    char *k = b64(key, strlen(key)), *v = b64_json(next);
    char *e = expected ? b64_json(expected) : NULL;
    char *s = NULL;
    if (k && v && (e || !expected)) {
        /* A new key: its create revision is 0 until someone creates it. */
        json_t *cmp = expected
            ? json_pack("{s:s,s:s,s:s,s:s}", "key", k, "target", "VALUE",
                        "result", "EQUAL", "value", e)
            : json_pack("{s:s,s:s,s:s,s:s}", "key", k, "target", "CREATE",
                        "result", "EQUAL", "create_revision", "0");
        s = dump_new(json_pack("{s:[o],s:[{s:{s:s,s:s}}],s:[{s:{s:s}}]}",
                               "compare", cmp, "success", "request_put",
                               "key", k, "value", v, "failure",
                               "request_range", "key", k));
    }
    free(k);
    free(v);
    free(e);
    return s;
}

/* ---- answers (pure) ------------------------------------------------------------------- */

int etcd_range_value(const json_t *range_answer, json_t **value)
{
    *value = NULL;
    if (!json_is_object(range_answer))
        return -1;
    const json_t *kvs = json_object_get(range_answer, "kvs");
    if (!kvs || json_array_size(kvs) == 0) {
        *value = json_null();
        return 0;
    }
    const char *v64 = json_string_value(json_object_get(json_array_get(kvs, 0),
                                                        "value"));
    char *text;
    size_t n;
    /* A key put with an empty value has no "value" at all. */
    if (!v64)
        v64 = "";
    if (fl_base64_decode(v64, &text, &n) != 0)
        return -1;
    *value = json_loadb(text, n, JSON_DECODE_ANY, NULL);
    free(text);
    return *value ? 0 : -1;
}

/* etcd's own error answer: {"error": "...", "code": N, ...}. */
static const char *etcd_error(const json_t *body)
{
    return json_is_object(body) && json_is_integer(json_object_get(body, "code"))
               ? json_string_value(json_object_get(body, "error"))
               : NULL;
}

/* Refused before any proposal (etcdserver's checks ahead of raft, and
 * gRPC's InvalidArgument = 3 for a request it cannot parse). */
static bool refused_before_proposal(const json_t *body, const char *msg)
{
    return json_integer_value(json_object_get(body, "code")) == 3 ||
           strcmp(msg, "etcdserver: too many requests") == 0 ||
           strcmp(msg, "etcdserver: request is too large") == 0;
}

static void classify_ok(const char *f, const json_t *written,
                        const http_answer *a, target_result *out)
{
    if (strcmp(f, "read") == 0) {
        if (etcd_range_value(a->body, &out->value) == 0)
            out->type = HISTORY_OK;
        else
            http_kv_error(out, HISTORY_FAIL, "not etcd's answer", NULL, a->status);
        return;
    }
    if (strcmp(f, "cas") == 0 &&
        !json_is_true(json_object_get(a->body, "succeeded"))) {
        /* The gateway leaves false booleans out. */
        http_kv_error(out, HISTORY_FAIL, "precondition failed", NULL, 0);
        out->refused = true;
        return;
    }
    out->type = HISTORY_OK;
    out->value = json_deep_copy(written);
}

void etcd_classify(const char *f, const json_t *written,
                   const http_answer *a, target_result *out)
{
    bool is_read = strcmp(f, "read") == 0;
    memset(out, 0, sizeof *out);
    if (!a->answered) {
        http_kv_unanswered(is_read, a, out);
        return;
    }
    if (a->status == 200 && json_is_object(a->body) &&
        json_is_object(json_object_get(a->body, "header"))) {
        classify_ok(f, written, a, out);
        return;
    }
    const char *msg = etcd_error(a->body);
    if (!msg) {
        /* Someone answered, but not etcd: a write may still have reached
         * etcd through it. */
        http_kv_error(out, is_read ? HISTORY_FAIL : HISTORY_INFO,
                  "not etcd's answer", NULL, a->status);
        return;
    }
    bool definite = is_read || refused_before_proposal(a->body, msg);
    http_kv_error(out, definite ? HISTORY_FAIL : HISTORY_INFO,
              definite && !is_read ? "rejected" : "etcd error", msg, a->status);
}

/* ---- state and options ------------------------------------------------------------------- */

typedef struct etcd_state {
    daemon_db db;            /* first: the daemon default's calls use it */
    bool serializable, round_robin;
} etcd_state;

/* The options, as target_options_parse leaves them. */
typedef struct etcd_options {
    const char *binary;
    int read_mode;           /* an index of read_modes */
    int routing;             /* an index of routings */
} etcd_options;

enum { READ_LINEARIZABLE, READ_SERIALIZABLE };
enum { ROUTING_BOUND, ROUTING_ROUND_ROBIN };

static const target_option etcd_option_table[] = {
    {.name = "binary", .arg = "PATH", .chars = "/._-+",
     .help = "etcd's path on the nodes", .default_value = DEFAULT_BINARY,
     .offset = offsetof(etcd_options, binary)},
    {.name = "read-mode", .type = TARGET_OPT_CHOICE, .arg = "MODE",
     .choices = (const char *const[]){"linearizable", "serializable", NULL},
     .help = "linearizable (through the leader) or serializable (the "
             "node's own state)", .default_value = "linearizable",
     .offset = offsetof(etcd_options, read_mode)},
    {.name = "routing", .type = TARGET_OPT_CHOICE, .arg = "R",
     .choices = (const char *const[]){"bound", "round-robin", NULL},
     .help = "bound (process i to node i mod n, as Jepsen) or round-robin "
             "(each operation to the next node)", .default_value = "bound",
     .offset = offsetof(etcd_options, routing)},
    {0},
};

static void etcd_destroy(void *st)
{
    etcd_state *s = st;
    if (!s)
        return;
    daemon_db_clear(&s->db);
    free(s);
    curl_global_cleanup();
}

static int etcd_start_parts(const void *st, size_t node, daemon_start *out)
{
    const etcd_state *s = st;
    const remote *r = s->db.remote;
    out->command = command_line(s->db.binary, remote_count(r),
                                remote_names(r), remote_addresses(r), node);
    return out->command ? FL_OK : FL_ENOMEM;
}

static int etcd_create(const target_config *cfg, void **out, fl_error *err)
{
    const etcd_options *o = cfg->options;
    if (!o)
        return fl_error_set(err, FL_EUSAGE, "etcd: options not parsed");
    etcd_state *s = calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "etcd: out of memory");
    int rc = daemon_db_init(&s->db, cfg, &etcd_daemon, o->binary,
                            etcd_start_parts, err);
    /* curl_global_init is not thread safe: done here, before any client. */
    if (rc == FL_OK && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        daemon_db_clear(&s->db);
        rc = fl_error_set(err, FL_ENOMEM, "etcd: libcurl set-up failed");
    }
    if (rc != FL_OK) {
        free(s);
        return rc;
    }
    s->serializable = o->read_mode == READ_SERIALIZABLE;
    s->round_robin = o->routing == ROUTING_ROUND_ROBIN;
    *out = s;
    return FL_OK;
}

/* One POST to node's gateway at path with body; *json the answer. The
 * gateway reads with POST too: only the caller knows which may write. */
static void post(const etcd_state *s, CURL *h, size_t node, const char *path,
                 const char *body, bool may_write, int timeout_ms,
                 http_answer *a, json_t **json)
{
    char url[300];
    snprintf(url, sizeof url, "http://%s:%d%s",
             remote_address(s->db.remote, node), ETCD_CLIENT_PORT, path);
    http_call call = {.method = "POST", .url = url,
                      .bind = remote_bind_address(s->db.remote), .payload = body,
                      .content_type = "application/json",
                      .may_change_state = may_write,
                      .connect_timeout_ms = ETCD_CONNECT_TIMEOUT_MS,
                      .timeout_ms = timeout_ms};
    http_request(h, &call, a, json);
}

static int etcd_await_ready(void *st, size_t node, int timeout_ms,
                            fl_error *err)
{
    etcd_state *s = st;
    CURL *h = curl_easy_init();
    if (!h)
        return fl_error_set(err, FL_ENOMEM, "etcd: out of memory");
    char url[300];
    snprintf(url, sizeof url, "http://%s:%d/health",
             remote_address(s->db.remote, node), ETCD_CLIENT_PORT);
    bool ready = false, unbound = false;
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    while (!ready && !unbound && fl_clock_mono_s() < until) {
        http_answer a;
        json_t *body = NULL;
        http_call call = {.method = "GET", .url = url,
                          .bind = remote_bind_address(s->db.remote),
                          .connect_timeout_ms = ETCD_CONNECT_TIMEOUT_MS,
                          .timeout_ms = 1000};
        http_request(h, &call, &a, &body);
        /* "true" only once the member sees a leader. */
        ready = a.answered && a.status == 200 &&
                json_is_object(body) &&
                strcmp(json_string_value(json_object_get(body, "health"))
                           ? json_string_value(json_object_get(body, "health"))
                           : "", "true") == 0;
        unbound = a.unbound;
        json_decref(body);
        if (!ready && !unbound)
            fl_sleep_s(0.1);
    }
    curl_easy_cleanup(h);
    if (unbound)
        return fl_error_set(err, FL_EIO, "node %s: " TARGET_ERROR_UNBOUND
                            ": source address %s is not on this machine (is "
                            "the local cluster's bridge gone?)",
                            remote_name(s->db.remote, node),
                            remote_bind_address(s->db.remote));
    if (!ready)
        return fl_error_set(err, FL_EIO, "node %s: etcd did not report "
                            "healthy on http://%s:%d/health within %d ms (see "
                            "its etcd.log and stdout.log)",
                            remote_name(s->db.remote, node),
                            remote_address(s->db.remote, node), ETCD_CLIENT_PORT,
                            timeout_ms);
    return FL_OK;
}

/* The member that calls itself leader, in the highest raft term. */
static long etcd_leader(void *st)
{
    etcd_state *s = st;
    CURL *h = curl_easy_init();
    long best = -1;
    long long best_term = -1;
    for (size_t i = 0; h && i < remote_count(s->db.remote); i++) {
        http_answer a;
        json_t *body = NULL;
        post(s, h, i, "/v3/maintenance/status", "{}", false, 500, &a, &body);
        const char *me = json_string_value(json_object_get(
            json_object_get(body, "header"), "member_id"));
        const char *leader = json_string_value(json_object_get(body, "leader"));
        const char *term = json_string_value(json_object_get(body, "raftTerm"));
        if (a.answered && a.status == 200 && me && leader && term &&
            strcmp(me, leader) == 0 && atoll(term) > best_term) {
            best = (long)i;
            best_term = atoll(term);
        }
        json_decref(body);
    }
    if (h)
        curl_easy_cleanup(h);
    return best;
}

/* ---- client ---------------------------------------------------------------------------------- */

typedef struct etcd_client {
    const etcd_state *s;
    CURL *h;
    size_t node;
} etcd_client;

static int etcd_client_open(void *st, size_t node, void **out, fl_error *err)
{
    etcd_client *c = calloc(1, sizeof *c);
    if (!c || !(c->h = curl_easy_init())) {
        free(c);
        return fl_error_set(err, FL_ENOMEM, "etcd client: out of memory");
    }
    c->s = st;
    c->node = node;
    *out = c;
    return FL_OK;
}

static void etcd_client_close(void *cl)
{
    etcd_client *c = cl;
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c);
}

/* The node for this operation: the client's own, or (round-robin) the
 * next one. */
static size_t route(etcd_client *c)
{
    size_t n = remote_count(c->s->db.remote);
    return c->s->round_robin ? c->node++ % n : c->node;
}

/* body: owned, never NULL. Of the paths used, only range cannot write. */
static void send_op(etcd_client *c, const char *path, char *body, int timeout_ms,
                    http_answer *a, json_t **json)
{
    post(c->s, c->h, route(c), path, body,
         strcmp(path, "/v3/kv/range") != 0, timeout_ms, a, json);
    free(body);
}

/* An add's state between its steps. */
typedef struct add_ctx {
    etcd_client *c;
    const char *key;
} add_ctx;

/* One step of the set add: a range, or a txn putting next if the value
 * is still what was read. */
static void add_step(void *ctx, rmw_add *st, json_t *next, int timeout_ms)
{
    add_ctx *x = ctx;
    http_answer a;
    json_t *body = NULL;
    target_result r;
    char *req = !next ? etcd_range_body(x->key, false)
                      : etcd_txn_body(x->key, st->current, next);
    if (!req) {
        rmw_add_abandon(st, "out of memory");
        return;
    }
    if (!next) {
        send_op(x->c, "/v3/kv/range", req, timeout_ms, &a, &body);
        etcd_classify("read", NULL, &a, &r);
        rmw_add_read_answer(st, &r);
        json_decref(body);
        return;
    }
    send_op(x->c, "/v3/kv/txn", req, timeout_ms, &a, &body);
    etcd_classify("cas", next, &a, &r);
    json_t *now = NULL;
    /* A failed txn answers the range of its failure branch: the set now. */
    if (r.refused &&
        etcd_range_value(json_object_get(json_array_get(
            json_object_get(body, "responses"), 0), "response_range"),
            &now) == 0) {
        rmw_add_cas_refused(st, true, json_is_null(now) ? NULL : now);
        target_result_clear(&r);
    } else {
        rmw_add_cas_answer(st, &r);
    }
    json_decref(now);
    json_decref(body);
}

/* A transaction (etcd.h, "Transactions"): snapshot, plan, commit;
 * retried while the commit's compare is false. */
static void etcd_txn(etcd_client *c, const json_t *txn, target_result *out)
{
    memset(out, 0, sizeof *out);
    for (int attempt = 0; attempt < ETCD_TXN_ATTEMPTS; attempt++) {
        char *snap = etcd_txn_snapshot_body(txn, c->s->serializable);
        if (snap == NULL) {
            http_kv_error(out, HISTORY_FAIL, "rejected", "a txn is a list of "
                      "[\"r\"|\"append\"|\"w\", key, value]", 0);
            return;
        }
        http_answer a;
        json_t *body = NULL, *done = NULL;
        char *commit = NULL;
        size_t node = route(c);
        post(c->s, c->h, node, "/v3/kv/txn", snap, false,
             ETCD_REQUEST_TIMEOUT_MS, &a, &body);
        free(snap);
        etcd_classify("read", NULL, &a, out);
        bool read = out->type == HISTORY_OK;
        target_result_clear(out);
        if (!read || etcd_txn_plan(txn, body, &done, &commit) != 0) {
            json_decref(body);
            if (read)
                http_kv_error(out, HISTORY_FAIL, "not etcd's answer", NULL, 0);
            else
                etcd_classify("read", NULL, &a, out);
            return;
        }
        json_decref(body);
        if (commit == NULL) { /* read only: the snapshot was the txn */
            out->type = HISTORY_OK;
            out->value = done;
            return;
        }
        body = NULL;
        post(c->s, c->h, node, "/v3/kv/txn", commit, true,
             ETCD_REQUEST_TIMEOUT_MS, &a, &body);
        free(commit);
        etcd_classify("cas", done, &a, out);
        json_decref(done);
        json_decref(body);
        if (!(out->type == HISTORY_FAIL && out->refused))
            return;
        target_result_clear(out); /* someone wrote a key since: again */
    }
    http_kv_error(out, HISTORY_FAIL, "precondition failed", NULL, 0);
    out->refused = true;
}

static void etcd_client_invoke(void *cl, const target_op *op,
                               target_result *out)
{
    etcd_client *c = cl;
    if (strcmp(op->f, "txn") == 0) {
        etcd_txn(c, op->value, out);
        return;
    }
    char key[64];
    http_kv_key(op->key, key, sizeof key);
    if (strcmp(op->f, "add") == 0) {
        add_ctx x = {.c = c, .key = key};
        http_kv_add(op->value, ETCD_ADD_ATTEMPTS, ETCD_REQUEST_TIMEOUT_MS,
                    add_step, &x, out);
        return;
    }
    bool is_cas = strcmp(op->f, "cas") == 0;
    if (is_cas && json_array_size(op->value) != 2) {
        memset(out, 0, sizeof *out);
        http_kv_error(out, HISTORY_FAIL, "rejected", "a cas value is [old, new]", 0);
        return;
    }
    const json_t *written = is_cas ? json_array_get(op->value, 1) : op->value;
    char *body = strcmp(op->f, "read") == 0
                     ? etcd_range_body(key, c->s->serializable)
                 : is_cas ? etcd_txn_body(key, json_array_get(op->value, 0),
                                          written)
                          : etcd_put_body(key, written);
    if (!body) {
        memset(out, 0, sizeof *out);
        http_kv_error(out, HISTORY_FAIL, "out of memory", NULL, 0);
        return;
    }
    http_answer a;
    json_t *answer = NULL;
    send_op(c, strcmp(op->f, "read") == 0 ? "/v3/kv/range"
               : is_cas ? "/v3/kv/txn" : "/v3/kv/put",
            body, ETCD_REQUEST_TIMEOUT_MS, &a, &answer);
    etcd_classify(op->f, op->value, &a, out);
    json_decref(answer);
}

static const char *const etcd_operations[] = {"read", "write", "cas", "add",
                                              "txn", NULL};

const target_vtable etcd_target = {
    .name = "etcd",
    /* Go's panics and zap's fatal level */
    .crash_patterns = (const char *const[]){"panic:", "\"level\":\"panic\"",
                                            "\"level\":\"fatal\"", "fatal error:",
                                            NULL},
    .options = etcd_option_table,
    .options_size = sizeof(etcd_options),
    .operations = etcd_operations,
    .create = etcd_create,
    .destroy = etcd_destroy,
    DAEMON_DB_CALLS,
    .data_dir = "etcd-data",
    /* etcd 3.4: the WAL segments, the raft snapshots and bbolt's db. */
    .data_files = (const char *const[]){"member/wal/*.wal",
                                        "member/snap/*.snap",
                                        "member/snap/db", NULL},
    .await_ready = etcd_await_ready,
    .leader = etcd_leader,
    .client_open = etcd_client_open,
    .client_invoke = etcd_client_invoke,
    .client_close = etcd_client_close,
};
