/*
 * etcd target: the db side runs etcd on the nodes over SSH; the client
 * speaks etcd's v3 JSON gateway. See etcd.h for the layout, the options
 * and the outcome table.
 */
#include "targets/clients/etcd.h"
#include "base/base64.h"
#include "base/clock.h"
#include "targets/clients/daemon.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BINARY "/usr/bin/etcd"

/* ---- command lines (pure) ---------------------------------------------------------- */

char *etcd_start_cmd(const char *binary, const char *node_dir, size_t n,
                     const char *const *names, const char *const *addrs,
                     size_t i)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const char *a = addrs[i];
    /* --name and --data-dir come first and in this order: the process is
     * found by them (daemon.h). */
    fprintf(f, "set -e; d=%s/%s; mkdir -p $d; cd $d; "
               "if [ -f etcd.pid ] && p=$(cat etcd.pid) && "
               "grep -qa etcd /proc/$p/cmdline 2>/dev/null; then "
               "echo \"already running as $p\"; exit 0; fi; "
               DAEMON_WRAP_BEGIN "%s --name %s --data-dir $d/etcd-data "
               "--listen-client-urls http://%s:%d "
               "--advertise-client-urls http://%s:%d "
               "--listen-peer-urls http://%s:%d "
               "--initial-advertise-peer-urls http://%s:%d "
               "--initial-cluster-state new --initial-cluster-token faultline "
               "--initial-cluster ",
            node_dir, names[i], binary, names[i], a, ETCD_CLIENT_PORT, a,
            ETCD_CLIENT_PORT, a, ETCD_PEER_PORT, a, ETCD_PEER_PORT);
    for (size_t j = 0; j < n; j++)
        fprintf(f, "%s%s=http://%s:%d", j ? "," : "", names[j], addrs[j],
                ETCD_PEER_PORT);
    fputs(" --logger zap --log-outputs $d/etcd.log" DAEMON_WRAP_END
          " >>$d/stdout.log 2>&1 </dev/null & echo $! > etcd.pid", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* How etcd's process is found, wiped and its logs collected. --name
 * (-node) and the data dir come first in its command line, in this order. */
static const daemon_spec etcd_daemon = {
    .what = "etcd",
    .cmdline_re = "^[^ ]*etcd --name [^ ]+ --data-dir $d/etcd-data ",
    .pid_file = "etcd.pid",
    .wipe = (const char *const[]){"etcd-data", "etcd.log", "stdout.log", "etcd.pid", NULL},
    .logs = (const char *const[]){"etcd.log", "stdout.log", NULL},
    .install_hint = "install etcd-server, or give --binary PATH",
};

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

static void set_error(target_result *out, history_type type, const char *msg,
                      const char *detail, long status)
{
    out->type = type;
    out->error = json_pack("{s:s}", "error", msg);
    if (out->error && detail)
        json_object_set_new(out->error, "detail", json_string(detail));
    if (out->error && status)
        json_object_set_new(out->error, "status", json_integer(status));
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

static void classify_unanswered(bool is_read, const http_answer *a,
                                target_result *out)
{
    if (a->unbound) {
        set_error(out, HISTORY_FAIL, TARGET_ERROR_UNBOUND, NULL, 0);
        return;
    }
    const char *why = a->timed_out ? "timeout"
                    : a->too_large ? "answer too large" : NULL;
    /* Reads change nothing, and a request never sent changes nothing:
     * both certainly did not happen. */
    if (is_read || !a->sent)
        set_error(out, HISTORY_FAIL, why ? why : "no connection", NULL, 0);
    else
        set_error(out, HISTORY_INFO, why ? why : "connection lost", NULL, 0);
}

static void classify_ok(const char *f, const json_t *written,
                        const http_answer *a, target_result *out)
{
    if (strcmp(f, "read") == 0) {
        if (etcd_range_value(a->body, &out->value) == 0)
            out->type = HISTORY_OK;
        else
            set_error(out, HISTORY_FAIL, "not etcd's answer", NULL, a->status);
        return;
    }
    if (strcmp(f, "cas") == 0 &&
        !json_is_true(json_object_get(a->body, "succeeded"))) {
        /* The gateway leaves false booleans out. */
        set_error(out, HISTORY_FAIL, "precondition failed", NULL, 0);
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
        classify_unanswered(is_read, a, out);
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
        set_error(out, is_read ? HISTORY_FAIL : HISTORY_INFO,
                  "not etcd's answer", NULL, a->status);
        return;
    }
    bool definite = is_read || refused_before_proposal(a->body, msg);
    set_error(out, definite ? HISTORY_FAIL : HISTORY_INFO,
              definite && !is_read ? "rejected" : "etcd error", msg, a->status);
}

/* ---- state and options ------------------------------------------------------------------- */

typedef struct etcd_state {
    remote *remote;
    char *binary, *node_dir;
    bool serializable, round_robin;
} etcd_state;

static const target_option etcd_options[] = {
    {.name = "binary", .arg = "PATH",
     .help = "etcd's path on the nodes", .default_value = DEFAULT_BINARY},
    {.name = "read-mode", .arg = "MODE",
     .help = "linearizable (through the leader) or serializable (the "
             "node's own state)", .default_value = "linearizable"},
    {.name = "routing", .arg = "R",
     .help = "bound (process i to node i mod n, as Jepsen) or round-robin "
             "(each operation to the next node)", .default_value = "bound"},
    {0},
};

static int etcd_resolve_options(json_t *opts, fl_error *err)
{
    const char *mode = json_string_value(json_object_get(opts, "read-mode"));
    const char *routing = json_string_value(json_object_get(opts, "routing"));
    const char *binary = json_string_value(json_object_get(opts, "binary"));
    if (strcmp(mode, "linearizable") != 0 && strcmp(mode, "serializable") != 0)
        return fl_error_set(err, FL_EUSAGE, "etcd: --read-mode is "
                            "linearizable or serializable, not \"%s\"", mode);
    if (strcmp(routing, "bound") != 0 && strcmp(routing, "round-robin") != 0)
        return fl_error_set(err, FL_EUSAGE, "etcd: --routing is bound or "
                            "round-robin, not \"%s\"", routing);
    if (!daemon_plain(binary, "/._-+"))
        return fl_error_set(err, FL_EUSAGE, "etcd: --binary \"%s\" must be a "
                            "plain path", binary);
    return FL_OK;
}

static void etcd_destroy(void *st)
{
    etcd_state *s = st;
    if (!s)
        return;
    free(s->binary);
    free(s->node_dir);
    free(s);
    curl_global_cleanup();
}

static int etcd_create(const target_config *cfg, void **out, fl_error *err)
{
    const char *dir = cfg->node_dir ? cfg->node_dir : TARGET_DEFAULT_NODE_DIR;
    const json_t *o = cfg->options;
    const char *binary = json_string_value(json_object_get(o, "binary"));
    const char *mode = json_string_value(json_object_get(o, "read-mode"));
    const char *routing = json_string_value(json_object_get(o, "routing"));
    if (!binary || !mode || !routing)
        return fl_error_set(err, FL_EUSAGE, "etcd: options not resolved");
    if (!daemon_plain(dir, "/._-"))
        return fl_error_set(err, FL_EUSAGE, "etcd: node directory must be a "
                            "plain path");
    for (size_t i = 0; i < remote_count(cfg->remote); i++)
        if (!daemon_plain(remote_address(cfg->remote, i), ".:-") ||
            !daemon_plain(remote_name(cfg->remote, i), "._-"))
            return fl_error_set(err, FL_EUSAGE, "etcd: node \"%s\" (%s) needs "
                                "a plain name and address",
                                remote_name(cfg->remote, i),
                                remote_address(cfg->remote, i));
    /* curl_global_init is not thread safe: done here, before any client. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fl_error_set(err, FL_ENOMEM, "etcd: libcurl set-up failed");
    etcd_state *s = calloc(1, sizeof *s);
    if (s) {
        *s = (etcd_state){.remote = cfg->remote, .binary = strdup(binary),
                          .node_dir = strdup(dir),
                          .serializable = strcmp(mode, "serializable") == 0,
                          .round_robin = strcmp(routing, "round-robin") == 0};
    }
    if (!s || !s->binary || !s->node_dir) {
        etcd_destroy(s);
        return fl_error_set(err, FL_ENOMEM, "etcd: out of memory");
    }
    *out = s;
    return FL_OK;
}

/* ---- db -------------------------------------------------------------------------------------- */

static int etcd_install(void *st, size_t node, fl_error *err)
{
    etcd_state *s = st;
    return daemon_check_binary(s->remote, node, s->node_dir, &etcd_daemon,
                               s->binary, err);
}

static int etcd_start(void *st, size_t node, fl_error *err)
{
    etcd_state *s = st;
    return daemon_run(s->remote, node,
                      etcd_start_cmd(s->binary, s->node_dir,
                                      remote_count(s->remote),
                                      remote_names(s->remote),
                                      remote_addresses(s->remote), node),
                      15000, "etcd", err);
}

static int etcd_signal(void *st, size_t node, const char *sig, fl_error *err)
{
    etcd_state *s = st;
    return daemon_signal(s->remote, node, s->node_dir, &etcd_daemon, sig, err);
}

static int etcd_kill(void *st, size_t n, fl_error *e) { return etcd_signal(st, n, "KILL", e); }
static int etcd_pause(void *st, size_t n, fl_error *e) { return etcd_signal(st, n, "STOP", e); }
static int etcd_resume(void *st, size_t n, fl_error *e) { return etcd_signal(st, n, "CONT", e); }

static char *etcd_rest_cmd(void *st, size_t node)
{
    etcd_state *s = st;
    daemon_match m = daemon_match_of(&etcd_daemon, s->node_dir,
                                     remote_name(s->remote, node));
    return daemon_rest_cmd(&m);
}

static int etcd_wipe(void *st, size_t node, fl_error *err)
{
    etcd_state *s = st;
    return daemon_wipe(s->remote, node, s->node_dir, &etcd_daemon, err);
}

static int etcd_collect_logs(void *st, size_t node, const char *local_dir,
                           fl_error *err)
{
    etcd_state *s = st;
    return daemon_collect(s->remote, node, s->node_dir, &etcd_daemon,
                          local_dir, err);
}

/* One POST to node's gateway at path with body; *json the answer. The
 * gateway reads with POST too: only the caller knows which may write. */
static void post(const etcd_state *s, CURL *h, size_t node, const char *path,
                 const char *body, bool may_write, int timeout_ms,
                 http_answer *a, json_t **json)
{
    char url[300];
    snprintf(url, sizeof url, "http://%s:%d%s",
             remote_address(s->remote, node), ETCD_CLIENT_PORT, path);
    http_call call = {.method = "POST", .url = url,
                      .bind = remote_bind_address(s->remote), .payload = body,
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
             remote_address(s->remote, node), ETCD_CLIENT_PORT);
    bool ready = false, unbound = false;
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    while (!ready && !unbound && fl_clock_mono_s() < until) {
        http_answer a;
        json_t *body = NULL;
        http_call call = {.method = "GET", .url = url,
                          .bind = remote_bind_address(s->remote),
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
                            remote_name(s->remote, node),
                            remote_bind_address(s->remote));
    if (!ready)
        return fl_error_set(err, FL_EIO, "node %s: etcd did not report "
                            "healthy on http://%s:%d/health within %d ms (see "
                            "its etcd.log and stdout.log)",
                            remote_name(s->remote, node),
                            remote_address(s->remote, node), ETCD_CLIENT_PORT,
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
    for (size_t i = 0; h && i < remote_count(s->remote); i++) {
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
    size_t n = remote_count(c->s->remote);
    return c->s->round_robin ? c->node++ % n : c->node;
}

static void key_text(const json_t *key, char *out, size_t size)
{
    if (json_is_integer(key))
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(key));
    else
        snprintf(out, size, "%s", json_string_value(key) ? json_string_value(key)
                                                         : "");
}

/* body: owned, never NULL. Of the paths used, only range cannot write. */
static void send_op(etcd_client *c, const char *path, char *body, int timeout_ms,
                    http_answer *a, json_t **json)
{
    post(c->s, c->h, route(c), path, body,
         strcmp(path, "/v3/kv/range") != 0, timeout_ms, a, json);
    free(body);
}

/* The set add: rmw's read and compare-and-put, each a gateway call. */
static void etcd_add(etcd_client *c, const char *key, const json_t *element,
                     target_result *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_integer(element)) {
        set_error(out, HISTORY_FAIL, "rejected", "an add's element must be an "
                  "integer", 0);
        return;
    }
    rmw_add st;
    rmw_add_init(&st, json_integer_value(element));
    double deadline = fl_clock_mono_s() + 2.0 * ETCD_REQUEST_TIMEOUT_MS / 1000.0;
    for (int i = 0; i < ETCD_ADD_ATTEMPTS; i++) {
        if (st.wait)
            fl_sleep_s(0.05);
        int left_ms = (int)((deadline - fl_clock_mono_s()) * 1000);
        json_t *next = NULL;
        rmw_action act = rmw_add_next(&st, &next);
        if (act == RMW_DONE || left_ms < 50) {
            json_decref(next);
            break;
        }
        int t = left_ms < ETCD_REQUEST_TIMEOUT_MS ? left_ms
                                                  : ETCD_REQUEST_TIMEOUT_MS;
        http_answer a;
        json_t *body = NULL;
        target_result r;
        char *req = act == RMW_READ ? etcd_range_body(key, false)
                                    : etcd_txn_body(key, st.current, next);
        if (!req) {
            json_decref(next);
            rmw_add_abandon(&st, "out of memory");
            break;
        }
        if (act == RMW_READ) {
            send_op(c, "/v3/kv/range", req, t, &a, &body);
            etcd_classify("read", NULL, &a, &r);
            rmw_add_read_answer(&st, &r);
        } else {
            send_op(c, "/v3/kv/txn", req, t, &a, &body);
            etcd_classify("cas", next, &a, &r);
            json_t *now = NULL;
            if (r.refused &&
                etcd_range_value(json_object_get(json_array_get(
                    json_object_get(body, "responses"), 0), "response_range"),
                    &now) == 0) {
                rmw_add_cas_refused(&st, true, json_is_null(now) ? NULL : now);
                target_result_clear(&r);
            } else {
                rmw_add_cas_answer(&st, &r);
            }
            json_decref(now);
        }
        json_decref(body);
        json_decref(next);
    }
    rmw_add_give_up(&st);
    *out = st.result;
    memset(&st.result, 0, sizeof st.result);
    rmw_add_clear(&st);
}

static void etcd_client_invoke(void *cl, const target_op *op,
                               target_result *out)
{
    etcd_client *c = cl;
    char key[64];
    key_text(op->key, key, sizeof key);
    if (strcmp(op->f, "add") == 0) {
        etcd_add(c, key, op->value, out);
        return;
    }
    bool is_cas = strcmp(op->f, "cas") == 0;
    if (is_cas && json_array_size(op->value) != 2) {
        memset(out, 0, sizeof *out);
        set_error(out, HISTORY_FAIL, "rejected", "a cas value is [old, new]", 0);
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
        set_error(out, HISTORY_FAIL, "out of memory", NULL, 0);
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
                                              NULL};

/* See etcd.h for what each means. */
static const target_error etcd_errors[] = {
    {TARGET_ERROR_UNBOUND, true},
    {"no connection", true},
    {"precondition failed", true},
    {"rejected", true},
    {"out of memory", true},
    {"timeout", false},
    {"connection lost", false},
    {"etcd error", false},
    {"not etcd's answer", false},
    {"answer too large", false},
    {0},
};

const target_vtable etcd_target = {
    .name = "etcd",
    /* Go's panics and zap's fatal level */
    .crash_patterns = (const char *const[]){"panic:", "\"level\":\"panic\"",
                                            "\"level\":\"fatal\"", "fatal error:",
                                            NULL},
    .options = etcd_options,
    .resolve_options = etcd_resolve_options,
    .operations = etcd_operations,
    .errors = etcd_errors,
    .create = etcd_create,
    .destroy = etcd_destroy,
    .install = etcd_install,
    .start = etcd_start,
    .kill = etcd_kill,
    .pause = etcd_pause,
    .resume = etcd_resume,
    .wipe = etcd_wipe,
    .data_dir = "etcd-data",
    .await_ready = etcd_await_ready,
    .collect_logs = etcd_collect_logs,
    .leader = etcd_leader,
    .rest_cmd = etcd_rest_cmd,
    .client_open = etcd_client_open,
    .client_invoke = etcd_client_invoke,
    .client_close = etcd_client_close,
};
