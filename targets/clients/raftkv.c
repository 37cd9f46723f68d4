/*
 * raftkv target: the db side runs shell commands on the nodes over SSH
 * (harness/remote.h); the client side speaks raftkv's HTTP API with
 * libcurl. See raftkv.h for the layout on a node and the outcomes.
 */
#include "targets/clients/raftkv.h"
#include "base/build_path.h"
#include "base/clock.h"
#include "harness/netbind.h"
#include "targets/clients/daemon.h"
#include "targets/clients/http.h"
#include "targets/clients/http_kv.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- command lines (pure) ----------------------------------------------------- */

/* raftkv's process on a node: the binary's path ends in raftkv and its
 * data directory is this node's. */
static const daemon_spec raftkv_daemon = {
    .what = "raftkv",
    .cmdline_re = "^[^ ]*raftkv --id .* --data-dir $d/data ",
    .pid_file = "raftkv.pid",
    .wipe = (const char *const[]){"data", "raftkv.log", "stdout.log",
                                  "raftkv.pid", NULL},
    .logs = (const char *const[]){"raftkv.log", "stdout.log", NULL},
    .install_hint = "",
};

/* Node i's raftkv command line (run from its directory $d). */
static char *command_line(size_t n, const char *const *addrs, size_t i,
                          const char *bug, const char *env)
{
    daemon_text t;
    FILE *f = daemon_text_open(&t);
    if (!f)
        return NULL;
    fprintf(f, "%s%s./raftkv --id %zu --listen %s:%d --peers ",
            env ? "env " : "", env ? env : "", i + 1, addrs[i],
            RAFTKV_PEER_PORT);
    for (size_t j = 0; j < n; j++)
        fprintf(f, "%s%zu=%s:%d", j ? "," : "", j + 1, addrs[j],
                RAFTKV_PEER_PORT);
    fprintf(f, " --data-dir $d/data --client-port %d --log $d/raftkv.log",
            RAFTKV_CLIENT_PORT);
    if (bug)
        fprintf(f, " --bug %s", bug);
    return daemon_text_close(&t);
}

char *raftkv_start_cmd(const char *node_dir, size_t n,
                       const char *const *names, const char *const *addrs,
                       size_t i, const char *bug, const char *env)
{
    return daemon_start_cmd(&raftkv_daemon, node_dir, names[i],
                            (daemon_start){.prepare = strdup("mkdir -p data"),
                                           .command = command_line(n, addrs,
                                                                   i, bug,
                                                                   env)});
}

char *raftkv_signal_cmd(const char *node_dir, const char *name,
                        const char *sig)
{
    daemon_match m = daemon_match_of(&raftkv_daemon, node_dir, name);
    return daemon_signal_cmd(&m, sig);
}

char *raftkv_rest_cmd(const char *node_dir, const char *name)
{
    daemon_match m = daemon_match_of(&raftkv_daemon, node_dir, name);
    return daemon_rest_cmd(&m);
}

/* ---- outcomes (pure) ------------------------------------------------------------- */

static void set_error(target_result *out, history_type type, const char *msg,
                      long status)
{
    out->type = type;
    out->error = status ? json_pack("{s:s,s:i}", "error", msg, "status",
                                    (int)status)
                        : json_pack("{s:s}", "error", msg);
}

/* Whether body is raftkv's error answer: an object whose "error" is a
 * string (equal to msg, unless msg is NULL). */
static bool raftkv_error(const json_t *body, const char *msg)
{
    const char *e = json_is_object(body)
                        ? json_string_value(json_object_get(body, "error"))
                        : NULL;
    return e && (!msg || strcmp(e, msg) == 0);
}

/* Whether the answer is recognisably raftkv's for this status. */
static bool recognised(bool is_read, bool is_txn, const raftkv_answer *a)
{
    const json_t *b = a->body;
    switch (a->status) {
    case 200:
        return is_read ? json_is_object(b) && json_object_get(b, "value")
                       : json_is_object(b) &&
                             json_is_true(json_object_get(b, "ok")) &&
                             (!is_txn || json_is_array(json_object_get(b,
                                                                  "value")));
    case 404:
        /* Exactly raftkv's body: another server's 404 page is not a
         * missing key. */
        return is_read && json_is_object(b) && json_object_size(b) == 1 &&
               raftkv_error(b, "not found");
    case 412: return raftkv_error(b, "precondition failed");
    case 421: return raftkv_error(b, "not leader");
    case 504: return true;   /* decided the same either way */
    default: return raftkv_error(b, NULL);
    }
}

void raftkv_classify(const char *f, const json_t *written,
                     const raftkv_answer *a, target_result *out)
{
    bool is_read = strcmp(f, "read") == 0, is_txn = strcmp(f, "txn") == 0;
    memset(out, 0, sizeof *out);
    if (a->unbound) {
        /* The bind failed before connect: certainly not sent. */
        set_error(out, HISTORY_FAIL, RAFTKV_ERROR_UNBOUND, 0);
        return;
    }
    if (!a->answered) {
        /* Reads change nothing, and a request never sent changes nothing:
         * both certainly did not happen. */
        if (is_read || !a->sent)
            set_error(out, HISTORY_FAIL, a->timed_out ? "timeout" :
                      a->too_large ? "answer too large" : "no connection", 0);
        else
            set_error(out, HISTORY_INFO, a->timed_out ? "timeout" :
                      a->too_large ? "answer too large" : "connection lost", 0);
        return;
    }
    if (!recognised(is_read, is_txn, a)) {
        /* Someone answered, but not raftkv as we know it: a read learnt
         * nothing; a write may still have reached raftkv. */
        set_error(out, is_read ? HISTORY_FAIL : HISTORY_INFO,
                  "not raftkv's answer", a->status);
        return;
    }
    switch (a->status) {
    case 200:
        out->type = HISTORY_OK;
        out->value = is_read || is_txn
                         ? json_incref(json_object_get(a->body, "value"))
                         : json_deep_copy(written);
        return;
    case 404:   /* a read (recognised() refuses writes): never written */
        out->type = HISTORY_OK;
        out->value = json_null();
        return;
    case 412:
        set_error(out, HISTORY_FAIL, "precondition failed", a->status);
        out->refused = true;
        return;
    case 421: set_error(out, HISTORY_FAIL, "not leader", a->status); return;
    case 503: set_error(out, HISTORY_FAIL, "no leader", a->status); return;
    case 504:
        set_error(out, is_read ? HISTORY_FAIL : HISTORY_INFO, "timeout",
                  a->status);
        return;
    default:
        /* 4xx: the server refused the request outright. Any other answer
         * is not in the contract: assume the worst for a write. */
        set_error(out, a->status >= 400 && a->status < 500 ? HISTORY_FAIL :
                  is_read ? HISTORY_FAIL : HISTORY_INFO, "unexpected status",
                  a->status);
    }
}

/* ---- state ---------------------------------------------------------------------------- */

typedef struct raftkv_state {
    daemon_db db;            /* first: the daemon default's calls use it */
    char *binary;            /* the local build uploaded by install */
    const char *bug;         /* static (bugs); NULL: none */
    char *db_env;            /* target_config.db_env, or NULL */
} raftkv_state;

static void rk_destroy(void *st)
{
    raftkv_state *s = st;
    if (!s)
        return;
    daemon_db_clear(&s->db);
    free(s->binary);
    free(s->db_env);
    free(s);
    curl_global_cleanup();
}

/* ---- options --------------------------------------------------------------------------- */

/* The options, as target_options_parse leaves them. */
typedef struct rk_options {
    const char *binary;      /* found by rk_resolve_options if not given */
    int bug;                 /* an index of bugs; -1: none */
} rk_options;

/* The server's seeded bugs (targets/raftkv/server_args.c takes them). */
static const char *const bugs[] = {"stale-read", "early-ack", "volatile-vote",
                                   "txn-split", "lease-read", "no-fsync",
                                   NULL};

static const target_option rk_option_table[] = {
    {.name = "binary", .arg = "PATH",
     .help = "the raftkv build to install (default: raftkv next to this "
             "faultline binary, or one level up)",
     .offset = offsetof(rk_options, binary)},
    {.name = "raftkv", .arg = "PATH", .help = "the raftkv build",
     .alias_of = "binary"},
    {.name = "bug", .type = TARGET_OPT_CHOICE, .arg = "X", .choices = bugs,
     .help = "a deliberate bug", .offset = offsetof(rk_options, bug)},
    {0},
};

static int rk_resolve_options(json_t *opts, fl_error *err)
{
    const char *given = json_string_value(json_object_get(opts, "binary"));
    char path[PATH_MAX];
    int found = given ? access(given, X_OK)
                      : fl_build_path("raftkv", path, sizeof path);
    if (found != 0)
        return fl_error_set(err, FL_EIO, "no raftkv build at %s (run `make`, "
                            "or give --raftkv PATH)",
                            given ? given : "build/raftkv");
    if (!given &&
        json_object_set_new(opts, "binary", json_string(path)) != 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

static int rk_start_parts(const void *st, size_t node, daemon_start *out)
{
    const raftkv_state *s = st;
    out->prepare = strdup("mkdir -p data");
    out->command = command_line(remote_count(s->db.remote),
                                remote_addresses(s->db.remote), node, s->bug,
                                s->db_env);
    return out->prepare && out->command ? FL_OK : FL_ENOMEM;
}

static int rk_create(const target_config *cfg, void **out, fl_error *err)
{
    const rk_options *o = cfg->options;
    if (!o || !o->binary)
        return fl_error_set(err, FL_EUSAGE, "raftkv: no build to install "
                            "(options not parsed)");
    raftkv_state *s = calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "raftkv: out of memory");
    int rc = daemon_db_init(&s->db, cfg, &raftkv_daemon, NULL, rk_start_parts,
                            err);
    if (rc != FL_OK) {
        free(s);
        return rc;
    }
    /* curl_global_init is not thread safe: done here, before any client. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        daemon_db_clear(&s->db);
        free(s);
        return fl_error_set(err, FL_ENOMEM, "raftkv: libcurl set-up failed");
    }
    s->binary = strdup(o->binary);
    s->bug = o->bug >= 0 ? bugs[o->bug] : NULL;
    /* The clock faults' preload (a trailing space ends it). */
    if (cfg->db_env && asprintf(&s->db_env, "%s ", cfg->db_env) < 0)
        s->db_env = NULL;
    if (!s->binary || (cfg->db_env && !s->db_env)) {
        rk_destroy(s);
        return fl_error_set(err, FL_ENOMEM, "raftkv: out of memory");
    }
    *out = s;
    return FL_OK;
}

/* ---- db: the daemon default, but install uploads the local build -------------------- */

static int rk_install(void *st, size_t node, fl_error *err)
{
    raftkv_state *s = st;
    int rc = daemon_db_install(st, node, err);
    if (rc != FL_OK)
        return rc;
    /* Upload beside, then rename: a binary still running (a leftover
     * process) cannot be overwritten ("text file busy"), but replaced. */
    char *cmd = NULL, path[4096];
    const char *name = remote_name(s->db.remote, node);
    snprintf(path, sizeof path, "%s/%s/raftkv.new", s->db.node_dir, name);
    rc = remote_upload(s->db.remote, node, s->binary, path, 0755, 30000, err);
    if (rc != FL_OK)
        return fl_error_wrap(err, "installing %s", s->binary);
    if (asprintf(&cmd, "mv -f %s %s/%s/raftkv", path, s->db.node_dir,
                 name) < 0)
        cmd = NULL;
    return daemon_run(s->db.remote, node, cmd, 10000, "raftkv", err);
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

/* A client speaks to one node; a 421's leader hint may redirect it to
 * any of `addrs`. Everything is borrowed from the remote (or, for
 * raftkv_client_open_at, from the caller). */
typedef struct rk_client {
    CURL *h;
    size_t node, n;
    const char *const *addrs;
    const char *one_addr[1];
    const char *bind;
    int port;
} rk_client;

static int client_new(size_t node, size_t n, const char *const *addrs,
                      const char *bind, int port, rk_client **out,
                      fl_error *err)
{
    rk_client *c = calloc(1, sizeof *c);
    if (!c || !(c->h = curl_easy_init())) {
        free(c);
        return fl_error_set(err, FL_ENOMEM, "raftkv client: out of memory");
    }
    *c = (rk_client){.h = c->h, .node = node, .n = n, .addrs = addrs,
                     .bind = bind, .port = port};
    *out = c;
    return FL_OK;
}

static int rk_client_open(void *st, size_t node, void **out, fl_error *err)
{
    raftkv_state *s = st;
    rk_client *c = NULL;
    int rc = client_new(node, remote_count(s->db.remote),
                        remote_addresses(s->db.remote),
                        remote_bind_address(s->db.remote), RAFTKV_CLIENT_PORT,
                        &c, err);
    *out = c;
    return rc;
}

int raftkv_client_open_at(const char *address, int port,
                          const char *bind_address, void **out, fl_error *err)
{
    rk_client *c = NULL;
    int rc = client_new(0, 1, NULL, bind_address, port, &c, err);
    if (rc == FL_OK) {
        c->one_addr[0] = address;
        c->addrs = c->one_addr;
    }
    *out = c;
    return rc;
}

static void rk_client_close(void *cl)
{
    rk_client *c = cl;
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c);
}

/* The "leader" hint of a 421, if it names one of our nodes' client ports. */
static bool leader_hint(const rk_client *c, const json_t *body, char *hostport,
                        size_t size)
{
    const char *hint = body ? json_string_value(json_object_get(body, "leader"))
                            : NULL;
    if (!hint)
        return false;
    for (size_t i = 0; i < c->n; i++) {
        char want[300];
        snprintf(want, sizeof want, "%s:%d", c->addrs[i], c->port);
        if (i != c->node && strcmp(hint, want) == 0) {
            snprintf(hostport, size, "%s", want);
            return true;
        }
    }
    return false;
}

static char *payload_for(const target_op *op)
{
    json_t *o = NULL;
    if (strcmp(op->f, "write") == 0)
        o = json_pack("{s:O}", "value", op->value);
    else if (strcmp(op->f, "cas") == 0)
        o = json_pack("{s:O,s:O}", "value", json_array_get(op->value, 1),
                      "prev", json_array_get(op->value, 0));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* One request to the client's node (path: "/kv/KEY" or "/txn"),
 * following a follower's 421 leader hint once. *body is the parsed answer
 * (caller frees). */
static void request(rk_client *c, const char *method, const char *path,
                    const char *payload, int timeout_ms, raftkv_answer *a,
                    json_t **body)
{
    char url[512], hostport[300];
    snprintf(hostport, sizeof hostport, "%s:%d", c->addrs[c->node], c->port);
    *body = NULL;
    for (int hop = 0; hop < 2; hop++) {
        json_decref(*body);
        snprintf(url, sizeof url, "http://%s%s", hostport, path);
        http_call call = {.method = method, .url = url, .bind = c->bind,
                          .payload = payload,
                          .content_type = "application/json",
                          .may_change_state = strcmp(method, "GET") != 0,
                          .connect_timeout_ms = RAFTKV_CONNECT_TIMEOUT_MS,
                          .timeout_ms = timeout_ms};
        http_request(c->h, &call, a, body);
        if (!(a->answered && a->status == 421 && hop == 0 &&
              leader_hint(c, *body, hostport, sizeof hostport)))
            break;
    }
}

/* ---- add: raftkv's side of the read-modify-write (pure) ---------------------------- */

char *raftkv_add_payload(const json_t *current, const json_t *next)
{
    json_t *o = current ? json_pack("{s:O,s:O}", "value", next, "prev", current)
                        : json_pack("{s:O,s:b}", "value", next, "create", 1);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

raftkv_add_action raftkv_add_next(rmw_add *st, char **payload)
{
    json_t *next = NULL;
    *payload = NULL;
    switch (rmw_add_next(st, &next)) {
    case RMW_READ:
        return RAFTKV_ADD_GET;
    case RMW_CAS:
        *payload = raftkv_add_payload(st->current, next);
        json_decref(next);
        if (*payload)
            return RAFTKV_ADD_PUT;
        rmw_add_abandon(st, "out of memory");
        return RAFTKV_ADD_DONE;
    default:
        return RAFTKV_ADD_DONE;
    }
}

void raftkv_add_answer(rmw_add *st, raftkv_add_action sent,
                       const raftkv_answer *a)
{
    target_result r;
    if (sent == RAFTKV_ADD_GET) {
        raftkv_classify("read", NULL, a, &r);
        rmw_add_read_answer(st, &r);
    } else if (sent == RAFTKV_ADD_PUT) {
        if (a->answered && a->status == 412 &&
            raftkv_error(a->body, "precondition failed")) {
            /* The 412 carries the set as it is now (no "value": absent). */
            rmw_add_cas_refused(st, true, a->body ? json_object_get(a->body,
                                                                    "value")
                                                  : NULL);
            return;
        }
        raftkv_classify("add", NULL, a, &r);
        rmw_add_cas_answer(st, &r);
    }
}

/* ---- add: the loop (targets/clients/http_kv.h) ------------------------------------ */

typedef struct add_ctx {
    rk_client *c;
    const char *key;
} add_ctx;

/* One step: GET the set, or PUT it with the element added on condition. */
static void add_step(void *ctx, rmw_add *st, json_t *next, int timeout_ms)
{
    add_ctx *x = ctx;
    char *payload = next ? raftkv_add_payload(st->current, next) : NULL;
    if (next && !payload) {
        rmw_add_abandon(st, "out of memory");
        return;
    }
    raftkv_answer a;
    json_t *body;
    char path[80];
    snprintf(path, sizeof path, "/kv/%s", x->key);
    request(x->c, next ? "PUT" : "GET", path, payload, timeout_ms, &a,
            &body);
    raftkv_add_answer(st, next ? RAFTKV_ADD_PUT : RAFTKV_ADD_GET, &a);
    json_decref(body);
    free(payload);
}

/* A transaction: POST /txn, one log entry on the server. Like a write,
 * unanswered after sending it is info. */
static void rk_txn(rk_client *c, const json_t *txn, target_result *out)
{
    json_t *o = json_pack("{s:O}", "value", txn);
    char *payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (payload == NULL) {
        set_error(out, HISTORY_FAIL, "out of memory", 0);
        return;
    }
    json_t *body = NULL;
    raftkv_answer a;
    request(c, "POST", "/txn", payload, RAFTKV_REQUEST_TIMEOUT_MS, &a, &body);
    raftkv_classify("txn", txn, &a, out);
    json_decref(body);
    free(payload);
}

static void rk_client_invoke(void *cl, const target_op *op, target_result *out)
{
    rk_client *c = cl;
    if (strcmp(op->f, "txn") == 0) {
        rk_txn(c, op->value, out);
        return;
    }
    char key[64], path[80];
    http_kv_key(op->key, key, sizeof key);
    snprintf(path, sizeof path, "/kv/%s", key);
    if (strcmp(op->f, "add") == 0) {
        add_ctx x = {.c = c, .key = key};
        http_kv_add(op->value, RAFTKV_ADD_ATTEMPTS, RAFTKV_REQUEST_TIMEOUT_MS,
                    add_step, &x, out);
        return;
    }
    bool is_read = strcmp(op->f, "read") == 0;
    char *payload = is_read ? NULL : payload_for(op);
    json_t *body = NULL;
    raftkv_answer a;
    if (!is_read && !payload) {
        set_error(out, HISTORY_FAIL, "out of memory", 0);
        return;
    }
    request(c, is_read ? "GET" : "PUT", path, payload,
            RAFTKV_REQUEST_TIMEOUT_MS, &a, &body);
    raftkv_classify(op->f, op->value, &a, out);
    json_decref(body);
    free(payload);
}

/* ---- readiness and leader ----------------------------------------------------------------- */

/* 0: the node answered /status (body in *body); -2: the connection could
 * not be bound to the test network; -1: any other failure. */
static int status_of(raftkv_state *s, size_t node, CURL *h, int timeout_ms,
                     json_t **body)
{
    char url[300];
    raftkv_answer a;
    snprintf(url, sizeof url, "http://%s:%d/status",
             remote_address(s->db.remote, node), RAFTKV_CLIENT_PORT);
    http_call call = {.method = "GET", .url = url,
                      .bind = remote_bind_address(s->db.remote),
                      .connect_timeout_ms = RAFTKV_CONNECT_TIMEOUT_MS,
                      .timeout_ms = timeout_ms};
    http_request(h, &call, &a, body);
    if (a.unbound)
        return -2;
    return a.answered && a.status == 200 && *body ? 0 : -1;
}

static int rk_await_ready(void *st, size_t node, int timeout_ms, fl_error *err)
{
    raftkv_state *s = st;
    CURL *h = curl_easy_init();
    if (!h)
        return fl_error_set(err, FL_ENOMEM, "raftkv: out of memory");
    int rc = -1;
    /* By the clock, not by counting sleeps: a node that accepts and never
     * answers (paused) costs 500 ms a try, and the wait must still end
     * on time. */
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    do {
        json_t *body = NULL;
        rc = status_of(s, node, h, 500, &body);
        json_decref(body);
        if (rc == -1)
            fl_sleep_s(0.1);
    } while (rc == -1 && fl_clock_mono_s() < until);
    curl_easy_cleanup(h);
    if (rc == -2)   /* waiting longer would not bring the network back */
        return fl_error_set(err, FL_EIO, "node %s: " RAFTKV_ERROR_UNBOUND
                            ": source address %s is not on this machine (is "
                            "the local cluster's bridge gone?)",
                            remote_name(s->db.remote, node),
                            remote_bind_address(s->db.remote));
    if (rc != 0)
        return fl_error_set(err, FL_EIO, "node %s: raftkv did not answer GET "
                            "/status on %s:%d within %d ms (see its "
                            "stdout.log and raftkv.log)",
                            remote_name(s->db.remote, node),
                            remote_address(s->db.remote, node),
                            RAFTKV_CLIENT_PORT, timeout_ms);
    return FL_OK;
}

/* The node that says it is leader in the highest term. */
static long rk_leader(void *st)
{
    raftkv_state *s = st;
    CURL *h = curl_easy_init();
    long best = -1;
    json_int_t best_term = -1;
    for (size_t i = 0; h && i < remote_count(s->db.remote); i++) {
        json_t *body = NULL;
        if (status_of(s, i, h, 500, &body) == 0) {
            const char *role = json_string_value(json_object_get(body, "role"));
            json_int_t term = json_integer_value(json_object_get(body, "term"));
            if (role && strcmp(role, "leader") == 0 && term > best_term) {
                best = (long)i;
                best_term = term;
            }
        }
        json_decref(body);
    }
    curl_easy_cleanup(h);
    return best;
}

/* The node's /status (its term and role) and the managed start's pid
 * file. */
static int rk_election(void *st, size_t node, target_election *out,
                       fl_error *err)
{
    raftkv_state *s = st;
    const char *dir = s->db.node_dir;
    snprintf(out->status, sizeof out->status, "%s:%d",
             remote_address(s->db.remote, node), RAFTKV_CLIENT_PORT);
    snprintf(out->path, sizeof out->path, "/status");
    snprintf(out->peer, sizeof out->peer, "%s:%d",
             remote_address(s->db.remote, node), RAFTKV_PEER_PORT);
    if (snprintf(out->pid_file, sizeof out->pid_file, "%s/%s/%s", dir,
                 remote_name(s->db.remote, node), raftkv_daemon.pid_file) >=
        (int)sizeof out->pid_file)
        return fl_error_set(err, FL_EUSAGE, "raftkv: node directory %s is "
                            "too long", dir);
    return FL_OK;
}

static const char *const rk_operations[] = {"read", "write", "cas", "add",
                                            "txn", NULL};

const target_vtable raftkv_target = {
    .name = "raftkv",
    /* its own "fatal:" line, the sanitizers' and libc's words */
    .crash_patterns = (const char *const[]){"fatal:", "Assertion", "AddressSanitizer",
                                            "runtime error:", "Segmentation fault",
                                            NULL},
    .options = rk_option_table,
    .options_size = sizeof(rk_options),
    .resolve_options = rk_resolve_options,
    .takes_db_env = true,
    .operations = rk_operations,
    .create = rk_create,
    .destroy = rk_destroy,
    .install = rk_install,
    DAEMON_DB_CALLS_BUT_INSTALL,
    .data_dir = "data",
    /* raft_storage.h: the record log and the snapshot. */
    .data_files = (const char *const[]){"log", "snapshot", NULL},
    .await_ready = rk_await_ready,
    .leader = rk_leader,
    .election = rk_election,
    .client_open = rk_client_open,
    .client_invoke = rk_client_invoke,
    .client_close = rk_client_close,
};
