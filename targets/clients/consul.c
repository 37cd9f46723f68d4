/*
 * Consul target: a Consul server per node over SSH; the client speaks
 * Consul's KV HTTP API. See consul.h for the options, the outcome table
 * and what was verified how.
 */
#include "targets/clients/consul.h"
#include "base/base64.h"
#include "base/clock.h"
#include "targets/clients/daemon.h"
#include "targets/clients/http_kv.h"
#include "targets/clients/rmw.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BINARY "/usr/bin/consul"
#define KEY_PREFIX "faultline/"

/* ---- command lines (pure) ---------------------------------------------------------- */

/* Node i's agent command line. raft_multiplier 1: Consul's timing for
 * fast failure detection, not its production default of 5. */
static char *command_line(const char *binary, size_t n,
                          const char *const *names, const char *const *addrs,
                          size_t i)
{
    daemon_text t;
    FILE *f = daemon_text_open(&t);
    if (!f)
        return NULL;
    fprintf(f, "%s agent -server -node %s -data-dir $d/consul-data "
               "-bind %s -client %s -http-port %d -dns-port -1 "
               "-bootstrap-expect %zu -log-file $d/consul.log "
               "-hcl 'performance { raft_multiplier = 1 }'",
            binary, names[i], addrs[i], addrs[i], CONSUL_HTTP_PORT, n);
    for (size_t j = 0; j < n; j++)
        if (j != i)
            fprintf(f, " -retry-join %s", addrs[j]);
    return daemon_text_close(&t);
}

/* How consul's process is found (by -node and the data dir, first in the
 * command line above, in this order), wiped and its logs collected. */
static const daemon_spec consul_daemon = {
    .what = "consul",
    .cmdline_re = "^[^ ]*consul agent -server -node [^ ]+ -data-dir $d/consul-data ",
    .pid_file = "consul.pid",
    .wipe = (const char *const[]){"consul-data", "consul.log", "stdout.log", "consul.pid", NULL},
    .logs = (const char *const[]){"consul.log", "stdout.log", NULL},
    .install_hint = "install Consul there, or give --binary PATH",
};

char *consul_start_cmd(const char *binary, const char *node_dir, size_t n,
                       const char *const *names, const char *const *addrs,
                       size_t i)
{
    return daemon_start_cmd(&consul_daemon, node_dir, names[i],
                            (daemon_start){.command = command_line(
                                binary, n, names, addrs, i)});
}

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
        http_kv_unanswered(is_read, a, out);
        return;
    }
    if (is_read) {
        long long index;
        if (consul_read_answer(a, &out->value, &index) == 0)
            out->type = HISTORY_OK;
        else
            http_kv_error(out, HISTORY_FAIL, a->status >= 400 ? "consul error"
                                                          : "not consul's answer",
                      a->text, a->status);
        return;
    }
    if (a->status == 200 && json_is_true(a->body)) {
        out->type = HISTORY_OK;
        out->value = json_deep_copy(written);
    } else if (a->status == 200 && json_is_false(a->body) &&
               strcmp(f, "cas") == 0) {
        http_kv_error(out, HISTORY_FAIL, "precondition failed", NULL, 0);
        out->refused = true;
    } else if (a->status == 500 &&
               strncmp(a->text, "No cluster leader", 17) == 0) {
        http_kv_error(out, HISTORY_FAIL, "no leader", NULL, a->status);
    } else if (refused_status(a->status)) {
        http_kv_error(out, HISTORY_FAIL, "rejected", a->text, a->status);
    } else {
        /* A plain PUT answers true; anything else is not in the contract:
         * assume the worst for a write. */
        http_kv_error(out, HISTORY_INFO, a->status >= 500 ? "consul error"
                                                      : "not consul's answer",
                  a->text, a->status);
    }
}

/* ---- state and options ------------------------------------------------------------------- */

typedef struct consul_state {
    daemon_db db;            /* first: the daemon default's calls use it */
    const char *read_mode;   /* static: one of read_modes */
} consul_state;

static const char *const read_modes[] = {"consistent", "default", "stale",
                                         NULL};

/* The options, as target_options_parse leaves them. */
typedef struct consul_options {
    const char *binary;
    int read_mode;           /* an index of read_modes */
} consul_options;

static const target_option consul_option_table[] = {
    {.name = "binary", .arg = "PATH", .chars = "/._-+",
     .help = "consul's path on the nodes", .default_value = DEFAULT_BINARY,
     .offset = offsetof(consul_options, binary)},
    {.name = "read-mode", .type = TARGET_OPT_CHOICE, .arg = "MODE",
     .choices = read_modes,
     .help = "consistent (?consistent), default (no parameter) or stale "
             "(?stale)", .default_value = "consistent",
     .offset = offsetof(consul_options, read_mode)},
    {0},
};

static bool known_read_mode(const char *m)
{
    for (size_t i = 0; m && read_modes[i]; i++)
        if (strcmp(read_modes[i], m) == 0)
            return true;
    return false;
}

static void consul_destroy(void *st)
{
    consul_state *s = st;
    if (!s)
        return;
    daemon_db_clear(&s->db);
    free(s);
    curl_global_cleanup();
}

static int consul_start_parts(const void *st, size_t node, daemon_start *out)
{
    const consul_state *s = st;
    const remote *r = s->db.remote;
    out->command = command_line(s->db.binary, remote_count(r),
                                remote_names(r), remote_addresses(r), node);
    return out->command ? FL_OK : FL_ENOMEM;
}

static int consul_create(const target_config *cfg, void **out, fl_error *err)
{
    const consul_options *o = cfg->options;
    if (!o || o->read_mode < 0)
        return fl_error_set(err, FL_EUSAGE, "consul: options not parsed");
    consul_state *s = calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "consul: out of memory");
    int rc = daemon_db_init(&s->db, cfg, &consul_daemon, o->binary,
                            consul_start_parts, err);
    if (rc == FL_OK && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        daemon_db_clear(&s->db);
        rc = fl_error_set(err, FL_ENOMEM, "consul: libcurl set-up failed");
    }
    if (rc != FL_OK) {
        free(s);
        return rc;
    }
    s->read_mode = read_modes[o->read_mode];
    *out = s;
    return FL_OK;
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
    const remote *r = ((consul_state *)st)->db.remote;
    CURL *h = curl_easy_init();
    if (!h)
        return fl_error_set(err, FL_ENOMEM, "consul: out of memory");
    bool ready = false;
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    while (!ready && fl_clock_mono_s() < until) {
        http_answer a;
        json_t *body = NULL;
        get(h, remote_bind_address(r), remote_address(r, node),
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
                            "its consul.log)", remote_name(r, node),
                            remote_address(r, node), CONSUL_HTTP_PORT,
                            timeout_ms);
    return FL_OK;
}

/* /v1/status/leader names the leader's RPC address, "ADDR:8300". */
static long consul_leader(void *st)
{
    const remote *r = ((consul_state *)st)->db.remote;
    CURL *h = curl_easy_init();
    long leader = -1;
    for (size_t i = 0; h && leader < 0 && i < remote_count(r); i++) {
        http_answer a;
        json_t *body = NULL;
        get(h, remote_bind_address(r), remote_address(r, i),
            CONSUL_HTTP_PORT, "/v1/status/leader", 500, &a, &body);
        const char *l = json_string_value(body);
        for (size_t j = 0; l && j < remote_count(r); j++) {
            size_t n = strlen(remote_address(r, j));
            if (strncmp(l, remote_address(r, j), n) == 0 && l[n] == ':')
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
    return client_new(remote_address(s->db.remote, node), CONSUL_HTTP_PORT,
                      s->read_mode, remote_bind_address(s->db.remote), out, err);
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
        http_kv_error(out, HISTORY_FAIL, "precondition failed", NULL, 0);
        out->refused = true;
        return;
    }
    json_decref(current);
    http_answer a;
    json_t *j = NULL;
    if (kv_put(c, key, json_array_get(v, 1), index, CONSUL_REQUEST_TIMEOUT_MS,
               &a, &j) != 0) {
        http_kv_error(out, HISTORY_FAIL, "out of memory", NULL, 0);
        return;
    }
    consul_classify("cas", v, &a, out);
    json_decref(j);
}

/* An add's state between its steps. */
typedef struct add_ctx {
    consul_client *c;
    const char *key;
    long long index;         /* the last read's ModifyIndex */
} add_ctx;

/* One step of the set add: the read, or the ?cas= PUT. */
static void add_step(void *ctx, rmw_add *st, json_t *next, int timeout_ms)
{
    add_ctx *x = ctx;
    http_answer a;
    json_t *j = NULL;
    target_result r;
    if (!next) {
        kv_get(x->c, x->key, "?consistent", timeout_ms, &a, &j);
        consul_classify("read", NULL, &a, &r);
        json_t *seen = NULL;
        if (r.type == HISTORY_OK &&
            consul_read_answer(&a, &seen, &x->index) == 0)
            json_decref(seen);   /* r holds the value; only the index here */
        rmw_add_read_answer(st, &r);
    } else if (kv_put(x->c, x->key, next, st->current ? x->index : 0,
                      timeout_ms, &a, &j) != 0) {
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

static void consul_client_invoke(void *cl, const target_op *op,
                                 target_result *out)
{
    consul_client *c = cl;
    char key[64];
    http_kv_key(op->key, key, sizeof key);
    memset(out, 0, sizeof *out);
    if (strcmp(op->f, "add") == 0) {
        add_ctx x = {.c = c, .key = key};
        http_kv_add(op->value, CONSUL_ADD_ATTEMPTS, CONSUL_REQUEST_TIMEOUT_MS,
                    add_step, &x, out);
    } else if (strcmp(op->f, "cas") == 0) {
        if (json_array_size(op->value) == 2)
            consul_cas(c, key, op->value, out);
        else
            http_kv_error(out, HISTORY_FAIL, "rejected", "a cas value is [old, new]",
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
            http_kv_error(out, HISTORY_FAIL, "out of memory", NULL, 0);
        else
            consul_classify("write", op->value, &a, out);
        json_decref(j);
    }
}

static const char *const consul_operations[] = {"read", "write", "cas", "add",
                                                NULL};

const target_vtable consul_target = {
    .name = "consul",
    /* Go's panics, hclog's error of a failed agent */
    .crash_patterns = (const char *const[]){"panic:", "fatal error:",
                                            "[ERROR] agent: Error starting agent",
                                            NULL},
    .options = consul_option_table,
    .options_size = sizeof(consul_options),
    .operations = consul_operations,
    .create = consul_create,
    .destroy = consul_destroy,
    DAEMON_DB_CALLS,
    .await_ready = consul_await_ready,
    .leader = consul_leader,
    .client_open = consul_client_open,
    .client_invoke = consul_client_invoke,
    .client_close = consul_client_close,
};
