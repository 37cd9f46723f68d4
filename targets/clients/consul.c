/*
 * Consul target: a Consul server per node over SSH; the client speaks
 * Consul's KV HTTP API. See consul.h for the options, the outcome table
 * and what was verified how.
 */
#include "targets/clients/consul.h"
#include "base/base64.h"
#include "base/clock.h"
#include "targets/clients/daemon.h"
#include "targets/clients/rmw.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BINARY "/usr/bin/consul"
#define KEY_PREFIX "faultline/"

/* ---- command lines (pure) ---------------------------------------------------------- */

char *consul_start_cmd(const char *binary, const char *node_dir, size_t n,
                       const char *const *names, const char *const *addrs,
                       size_t i)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    /* -node and -data-dir come first and in this order: the process is
     * found by them (daemon.h). raft_multiplier 1: Consul's timing for
     * fast failure detection, not its production default of 5. */
    fprintf(f, "set -e; d=%s/%s; mkdir -p $d; cd $d; "
               "if [ -f consul.pid ] && p=$(cat consul.pid) && "
               "grep -qa consul /proc/$p/cmdline 2>/dev/null; then "
               "echo \"already running as $p\"; exit 0; fi; "
               DAEMON_WRAP_BEGIN "%s agent -server -node %s -data-dir $d/consul-data "
               "-bind %s -client %s -http-port %d -dns-port -1 "
               "-bootstrap-expect %zu -log-file $d/consul.log "
               "-hcl 'performance { raft_multiplier = 1 }'",
            node_dir, names[i], binary, names[i], addrs[i], addrs[i],
            CONSUL_HTTP_PORT, n);
    for (size_t j = 0; j < n; j++)
        if (j != i)
            fprintf(f, " -retry-join %s", addrs[j]);
    fputs(DAEMON_WRAP_END " >>$d/stdout.log 2>&1 </dev/null & echo $! > consul.pid",
          f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* How consul's process is found, wiped and its logs collected. --name
 * (-node) and the data dir come first in its command line, in this order. */
static const daemon_spec consul_daemon = {
    .what = "consul",
    .cmdline_re = "^[^ ]*consul agent -server -node [^ ]+ -data-dir $d/consul-data ",
    .pid_file = "consul.pid",
    .wipe = (const char *const[]){"consul-data", "consul.log", "stdout.log", "consul.pid", NULL},
    .logs = (const char *const[]){"consul.log", "stdout.log", NULL},
    .install_hint = "install Consul there, or give --binary PATH",
};

/* ---- answers (pure) ------------------------------------------------------------------- */

int consul_read_answer(const http_answer *a, json_t **value,
                       long long *modify_index)
{
    *value = NULL;
    *modify_index = 0;
    /* Consul's 404 for a missing key has an empty body; another server's
     * 404 page is not a missing key. */
    if (a->status == 404 && a->text_len == 0) {
        *value = json_null();
        return 0;
    }
    const json_t *kv = json_array_get(a->body, 0);
    const json_t *index = json_object_get(kv, "ModifyIndex");
    const char *v64 = json_string_value(json_object_get(kv, "Value"));
    if (a->status != 200 || json_array_size(a->body) != 1 || !v64 ||
        !json_is_integer(index))
        return -1;
    char *text;
    size_t n;
    if (fl_base64_decode(v64, &text, &n) != 0)
        return -1;
    *value = json_loadb(text, n, JSON_DECODE_ANY, NULL);
    free(text);
    *modify_index = json_integer_value(index);
    return *value ? 0 : -1;
}

static void set_error(target_result *out, history_type type, const char *msg,
                      const char *detail, long status)
{
    out->type = type;
    out->error = json_pack("{s:s}", "error", msg);
    if (out->error && detail && *detail)
        json_object_set_new(out->error, "detail", json_string(detail));
    if (out->error && status)
        json_object_set_new(out->error, "status", json_integer(status));
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
    if (is_read || !a->sent)
        set_error(out, HISTORY_FAIL, why ? why : "no connection", NULL, 0);
    else
        set_error(out, HISTORY_INFO, why ? why : "connection lost", NULL, 0);
}

/* Refused before any Raft apply. */
static bool refused_status(long status)
{
    return status == 400 || status == 403 || status == 413 || status == 429;
}

void consul_classify(const char *f, const json_t *written,
                     const http_answer *a, target_result *out)
{
    bool is_read = strcmp(f, "read") == 0;
    memset(out, 0, sizeof *out);
    if (!a->answered) {
        classify_unanswered(is_read, a, out);
        return;
    }
    if (is_read) {
        long long index;
        if (consul_read_answer(a, &out->value, &index) == 0)
            out->type = HISTORY_OK;
        else
            set_error(out, HISTORY_FAIL, a->status >= 400 ? "consul error"
                                                          : "not consul's answer",
                      a->text, a->status);
        return;
    }
    if (a->status == 200 && json_is_true(a->body)) {
        out->type = HISTORY_OK;
        out->value = json_deep_copy(written);
    } else if (a->status == 200 && json_is_false(a->body) &&
               strcmp(f, "cas") == 0) {
        set_error(out, HISTORY_FAIL, "precondition failed", NULL, 0);
        out->refused = true;
    } else if (a->status == 500 &&
               strncmp(a->text, "No cluster leader", 17) == 0) {
        set_error(out, HISTORY_FAIL, "no leader", NULL, a->status);
    } else if (refused_status(a->status)) {
        set_error(out, HISTORY_FAIL, "rejected", a->text, a->status);
    } else {
        /* A plain PUT answers true; anything else is not in the contract:
         * assume the worst for a write. */
        set_error(out, HISTORY_INFO, a->status >= 500 ? "consul error"
                                                      : "not consul's answer",
                  a->text, a->status);
    }
}

/* ---- state and options ------------------------------------------------------------------- */

typedef struct consul_state {
    remote *remote;
    char *binary, *node_dir, *read_mode;
} consul_state;

static const target_option consul_options[] = {
    {.name = "binary", .arg = "PATH", .help = "consul's path on the nodes",
     .default_value = DEFAULT_BINARY},
    {.name = "read-mode", .arg = "MODE",
     .help = "consistent (?consistent), default (no parameter) or stale "
             "(?stale)", .default_value = "consistent"},
    {0},
};

static bool known_read_mode(const char *m)
{
    return m && (strcmp(m, "consistent") == 0 || strcmp(m, "default") == 0 ||
                 strcmp(m, "stale") == 0);
}

static int consul_resolve_options(json_t *opts, fl_error *err)
{
    const char *mode = json_string_value(json_object_get(opts, "read-mode"));
    const char *binary = json_string_value(json_object_get(opts, "binary"));
    if (!known_read_mode(mode))
        return fl_error_set(err, FL_EUSAGE, "consul: --read-mode is "
                            "consistent, default or stale, not \"%s\"",
                            mode ? mode : "");
    if (!binary || !daemon_plain(binary, "/._-+"))
        return fl_error_set(err, FL_EUSAGE, "consul: --binary must be a "
                            "plain path");
    return FL_OK;
}

static void consul_destroy(void *st)
{
    consul_state *s = st;
    if (!s)
        return;
    free(s->binary);
    free(s->node_dir);
    free(s->read_mode);
    free(s);
    curl_global_cleanup();
}

static int consul_create(const target_config *cfg, void **out, fl_error *err)
{
    const char *dir = cfg->node_dir ? cfg->node_dir : TARGET_DEFAULT_NODE_DIR;
    const char *binary = json_string_value(json_object_get(cfg->options,
                                                           "binary"));
    const char *mode = json_string_value(json_object_get(cfg->options,
                                                         "read-mode"));
    if (!binary || !known_read_mode(mode))
        return fl_error_set(err, FL_EUSAGE, "consul: options not resolved");
    if (!daemon_plain(dir, "/._-"))
        return fl_error_set(err, FL_EUSAGE, "consul: node directory must be "
                            "a plain path");
    for (size_t i = 0; i < remote_count(cfg->remote); i++)
        if (!daemon_plain(remote_address(cfg->remote, i), ".:-") ||
            !daemon_plain(remote_name(cfg->remote, i), "._-"))
            return fl_error_set(err, FL_EUSAGE, "consul: node \"%s\" needs a "
                                "plain name and address",
                                remote_name(cfg->remote, i));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fl_error_set(err, FL_ENOMEM, "consul: libcurl set-up failed");
    consul_state *s = calloc(1, sizeof *s);
    if (s)
        *s = (consul_state){.remote = cfg->remote, .binary = strdup(binary),
                            .node_dir = strdup(dir),
                            .read_mode = strdup(mode)};
    if (!s || !s->binary || !s->node_dir || !s->read_mode) {
        consul_destroy(s);
        return fl_error_set(err, FL_ENOMEM, "consul: out of memory");
    }
    *out = s;
    return FL_OK;
}

/* ---- db -------------------------------------------------------------------------------------- */

static int consul_install(void *st, size_t node, fl_error *err)
{
    consul_state *s = st;
    return daemon_check_binary(s->remote, node, s->node_dir, &consul_daemon,
                               s->binary, err);
}

static int consul_start(void *st, size_t node, fl_error *err)
{
    consul_state *s = st;
    return daemon_run(s->remote, node,
                      consul_start_cmd(s->binary, s->node_dir,
                                      remote_count(s->remote),
                                      remote_names(s->remote),
                                      remote_addresses(s->remote), node),
                      15000, "consul", err);
}

static int consul_signal(void *st, size_t node, const char *sig, fl_error *err)
{
    consul_state *s = st;
    return daemon_signal(s->remote, node, s->node_dir, &consul_daemon, sig, err);
}

static int consul_kill(void *st, size_t n, fl_error *e) { return consul_signal(st, n, "KILL", e); }
static int consul_pause(void *st, size_t n, fl_error *e) { return consul_signal(st, n, "STOP", e); }
static int consul_resume(void *st, size_t n, fl_error *e) { return consul_signal(st, n, "CONT", e); }

static char *consul_rest_cmd(void *st, size_t node)
{
    consul_state *s = st;
    daemon_match m = daemon_match_of(&consul_daemon, s->node_dir,
                                     remote_name(s->remote, node));
    return daemon_rest_cmd(&m);
}

static int consul_wipe(void *st, size_t node, fl_error *err)
{
    consul_state *s = st;
    return daemon_wipe(s->remote, node, s->node_dir, &consul_daemon, err);
}

static int consul_collect_logs(void *st, size_t node, const char *local_dir,
                           fl_error *err)
{
    consul_state *s = st;
    return daemon_collect(s->remote, node, s->node_dir, &consul_daemon,
                          local_dir, err);
}

static void get(CURL *h, const char *bind, const char *addr, int port,
                const char *path, int timeout_ms, http_answer *a, json_t **j)
{
    char url[300];
    snprintf(url, sizeof url, "http://%s:%d%s", addr, port, path);
    http_call call = {.method = "GET", .url = url, .bind = bind,
                      .connect_timeout_ms = CONSUL_CONNECT_TIMEOUT_MS,
                      .timeout_ms = timeout_ms};
    http_request(h, &call, a, j);
}

/* Ready once the agent's HTTP API answers and names a leader. */
static int consul_await_ready(void *st, size_t node, int timeout_ms,
                              fl_error *err)
{
    consul_state *s = st;
    CURL *h = curl_easy_init();
    if (!h)
        return fl_error_set(err, FL_ENOMEM, "consul: out of memory");
    bool ready = false;
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    while (!ready && fl_clock_mono_s() < until) {
        http_answer a;
        json_t *body = NULL;
        get(h, remote_bind_address(s->remote), remote_address(s->remote, node),
            CONSUL_HTTP_PORT, "/v1/status/leader", 1000, &a, &body);
        ready = a.answered && a.status == 200 && json_string_value(body) &&
                *json_string_value(body);
        json_decref(body);
        if (!ready)
            fl_sleep_s(0.1);
    }
    curl_easy_cleanup(h);
    if (!ready)
        return fl_error_set(err, FL_EIO, "node %s: consul named no leader on "
                            "http://%s:%d/v1/status/leader within %d ms (see "
                            "its consul.log)", remote_name(s->remote, node),
                            remote_address(s->remote, node), CONSUL_HTTP_PORT,
                            timeout_ms);
    return FL_OK;
}

/* /v1/status/leader names the leader's RPC address, "ADDR:8300". */
static long consul_leader(void *st)
{
    consul_state *s = st;
    CURL *h = curl_easy_init();
    long leader = -1;
    for (size_t i = 0; h && leader < 0 && i < remote_count(s->remote); i++) {
        http_answer a;
        json_t *body = NULL;
        get(h, remote_bind_address(s->remote), remote_address(s->remote, i),
            CONSUL_HTTP_PORT, "/v1/status/leader", 500, &a, &body);
        const char *l = json_string_value(body);
        for (size_t j = 0; l && j < remote_count(s->remote); j++) {
            size_t n = strlen(remote_address(s->remote, j));
            if (strncmp(l, remote_address(s->remote, j), n) == 0 && l[n] == ':')
                leader = (long)j;
        }
        json_decref(body);
    }
    if (h)
        curl_easy_cleanup(h);
    return leader;
}

/* ---- client ---------------------------------------------------------------------------------- */

typedef struct consul_client {
    CURL *h;
    char *addr, *bind, *read_query;
    int port;
} consul_client;

static const char *read_query(const char *mode)
{
    return strcmp(mode, "consistent") == 0 ? "?consistent"
         : strcmp(mode, "stale") == 0 ? "?stale" : "";
}

static int client_new(const char *addr, int port, const char *mode,
                      const char *bind, void **out, fl_error *err)
{
    consul_client *c = calloc(1, sizeof *c);
    if (c) {
        c->h = curl_easy_init();
        c->addr = strdup(addr);
        c->bind = bind ? strdup(bind) : NULL;
        c->read_query = strdup(read_query(mode));
        c->port = port;
    }
    if (!c || !c->h || !c->addr || (bind && !c->bind) || !c->read_query) {
        consul_target.client_close(c);
        return fl_error_set(err, FL_ENOMEM, "consul client: out of memory");
    }
    *out = c;
    return FL_OK;
}

static int consul_client_open(void *st, size_t node, void **out, fl_error *err)
{
    consul_state *s = st;
    return client_new(remote_address(s->remote, node), CONSUL_HTTP_PORT,
                      s->read_mode, remote_bind_address(s->remote), out, err);
}

int consul_client_open_at(const char *address, int port, const char *read_mode,
                          const char *bind_address, void **out, fl_error *err)
{
    if (!known_read_mode(read_mode))
        return fl_error_set(err, FL_EUSAGE, "consul: unknown read mode");
    return client_new(address, port, read_mode, bind_address, out, err);
}

static void consul_client_close(void *cl)
{
    consul_client *c = cl;
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    free(c->addr);
    free(c->bind);
    free(c->read_query);
    free(c);
}

static void kv_url(const consul_client *c, const char *key, const char *query,
                   char *url, size_t n)
{
    snprintf(url, n, "http://%s:%d/v1/kv/" KEY_PREFIX "%s%s", c->addr, c->port,
             key, query);
}

static void kv_get(consul_client *c, const char *key, const char *query,
                   int timeout_ms, http_answer *a, json_t **j)
{
    char url[400];
    kv_url(c, key, query, url, sizeof url);
    http_call call = {.method = "GET", .url = url, .bind = c->bind,
                      .connect_timeout_ms = CONSUL_CONNECT_TIMEOUT_MS,
                      .timeout_ms = timeout_ms};
    http_request(c->h, &call, a, j);
}

/* PUT value's JSON text; cas_index < 0: unconditional. */
static int kv_put(consul_client *c, const char *key, const json_t *value,
                  long long cas_index, int timeout_ms, http_answer *a,
                  json_t **j)
{
    char url[400], query[40] = "";
    if (cas_index >= 0)
        snprintf(query, sizeof query, "?cas=%lld", cas_index);
    kv_url(c, key, query, url, sizeof url);
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return -1;
    http_call call = {.method = "PUT", .url = url, .bind = c->bind,
                      .payload = text, .may_change_state = true,
                      .connect_timeout_ms = CONSUL_CONNECT_TIMEOUT_MS,
                      .timeout_ms = timeout_ms};
    http_request(c->h, &call, a, j);
    free(text);
    return 0;
}

static void key_text(const json_t *key, char *out, size_t size)
{
    if (json_is_integer(key))
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(key));
    else
        snprintf(out, size, "%s", json_string_value(key) ? json_string_value(key)
                                                         : "");
}

/* Read the key consistently: its value and ModifyIndex. 0, or a fail in
 * *out (nothing was written). */
static int read_for_write(consul_client *c, const char *key, json_t **value,
                          long long *index, target_result *out)
{
    http_answer a;
    json_t *j = NULL;
    kv_get(c, key, "?consistent", CONSUL_REQUEST_TIMEOUT_MS, &a, &j);
    consul_classify("read", NULL, &a, out);
    int rc = -1;
    if (out->type == HISTORY_OK) {
        consul_read_answer(&a, value, index);
        target_result_clear(out);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

static void consul_cas(consul_client *c, const char *key, const json_t *v,
                       target_result *out)
{
    json_t *current = NULL;
    long long index = 0;
    if (read_for_write(c, key, &current, &index, out) != 0)
        return;
    if (!json_equal(current, json_array_get(v, 0))) {
        /* Nothing was written: the expectation did not hold. */
        json_decref(current);
        set_error(out, HISTORY_FAIL, "precondition failed", NULL, 0);
        out->refused = true;
        return;
    }
    json_decref(current);
    http_answer a;
    json_t *j = NULL;
    if (kv_put(c, key, json_array_get(v, 1), index, CONSUL_REQUEST_TIMEOUT_MS,
               &a, &j) != 0) {
        set_error(out, HISTORY_FAIL, "out of memory", NULL, 0);
        return;
    }
    consul_classify("cas", v, &a, out);
    json_decref(j);
}

/* One step of the set add: the read, or the ?cas= PUT. */
static void add_step(consul_client *c, const char *key, rmw_add *st,
                     json_t *next, long long *index, int timeout_ms)
{
    http_answer a;
    json_t *j = NULL;
    target_result r;
    if (!next) {
        kv_get(c, key, "?consistent", timeout_ms, &a, &j);
        consul_classify("read", NULL, &a, &r);
        json_t *seen = NULL;
        if (r.type == HISTORY_OK && consul_read_answer(&a, &seen, index) == 0)
            json_decref(seen);   /* r holds the value; only the index here */
        rmw_add_read_answer(st, &r);
    } else if (kv_put(c, key, next, st->current ? *index : 0, timeout_ms, &a,
                      &j) != 0) {
        rmw_add_abandon(st, "out of memory");
    } else {
        consul_classify("cas", next, &a, &r);
        if (r.refused) {      /* ?cas= said false: read it again */
            target_result_clear(&r);
            rmw_add_cas_refused(st, false, NULL);
        } else {
            rmw_add_cas_answer(st, &r);
        }
    }
    json_decref(j);
}

static void consul_add(consul_client *c, const char *key, const json_t *element,
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
    long long index = 0;
    double deadline = fl_clock_mono_s() + 2.0 * CONSUL_REQUEST_TIMEOUT_MS / 1000.0;
    for (int i = 0; i < CONSUL_ADD_ATTEMPTS; i++) {
        if (st.wait)
            fl_sleep_s(0.05);
        int left_ms = (int)((deadline - fl_clock_mono_s()) * 1000);
        json_t *next = NULL;
        rmw_action act = rmw_add_next(&st, &next);
        if (act == RMW_DONE || left_ms < 50) {
            json_decref(next);
            break;
        }
        add_step(c, key, &st, act == RMW_CAS ? next : NULL, &index,
                 left_ms < CONSUL_REQUEST_TIMEOUT_MS ? left_ms
                                                     : CONSUL_REQUEST_TIMEOUT_MS);
        json_decref(next);
    }
    rmw_add_give_up(&st);
    *out = st.result;
    memset(&st.result, 0, sizeof st.result);
    rmw_add_clear(&st);
}

static void consul_client_invoke(void *cl, const target_op *op,
                                 target_result *out)
{
    consul_client *c = cl;
    char key[64];
    key_text(op->key, key, sizeof key);
    memset(out, 0, sizeof *out);
    if (strcmp(op->f, "add") == 0) {
        consul_add(c, key, op->value, out);
    } else if (strcmp(op->f, "cas") == 0) {
        if (json_array_size(op->value) == 2)
            consul_cas(c, key, op->value, out);
        else
            set_error(out, HISTORY_FAIL, "rejected", "a cas value is [old, new]",
                      0);
    } else if (strcmp(op->f, "read") == 0) {
        http_answer a;
        json_t *j = NULL;
        kv_get(c, key, c->read_query, CONSUL_REQUEST_TIMEOUT_MS, &a, &j);
        consul_classify("read", NULL, &a, out);
        json_decref(j);
    } else {
        http_answer a;
        json_t *j = NULL;
        if (kv_put(c, key, op->value, -1, CONSUL_REQUEST_TIMEOUT_MS, &a, &j) != 0)
            set_error(out, HISTORY_FAIL, "out of memory", NULL, 0);
        else
            consul_classify("write", op->value, &a, out);
        json_decref(j);
    }
}

static const char *const consul_operations[] = {"read", "write", "cas", "add",
                                                NULL};

/* See consul.h for what each means. */
static const target_error consul_errors[] = {
    {TARGET_ERROR_UNBOUND, true},
    {"no connection", true},
    {"precondition failed", true},
    {"no leader", true},
    {"rejected", true},
    {"out of memory", true},
    {"timeout", false},
    {"connection lost", false},
    {"consul error", false},
    {"not consul's answer", false},
    {"answer too large", false},
    {0},
};

const target_vtable consul_target = {
    .name = "consul",
    /* Go's panics, hclog's error of a failed agent */
    .crash_patterns = (const char *const[]){"panic:", "fatal error:",
                                            "[ERROR] agent: Error starting agent",
                                            NULL},
    .options = consul_options,
    .resolve_options = consul_resolve_options,
    .operations = consul_operations,
    .errors = consul_errors,
    .create = consul_create,
    .destroy = consul_destroy,
    .install = consul_install,
    .start = consul_start,
    .kill = consul_kill,
    .pause = consul_pause,
    .resume = consul_resume,
    .wipe = consul_wipe,
    .await_ready = consul_await_ready,
    .collect_logs = consul_collect_logs,
    .leader = consul_leader,
    .rest_cmd = consul_rest_cmd,
    .client_open = consul_client_open,
    .client_invoke = consul_client_invoke,
    .client_close = consul_client_close,
};
