/*
 * remote: per-node SSH connections with a lock each and one transparent
 * reconnection after a broken connection. See remote.h.
 */
#include "harness/remote.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct remote_conn {
    pthread_mutex_t lock;
    fl_ssh *ssh;                /* NULL when not connected */
    char *name, *address;
} remote_conn;

struct remote {
    size_t n;
    remote_conn *conns;
    const char **names, **addresses;
    char *user, *key, *known_hosts, *bind_address;
    bool insecure;
    int port;
};

static int conn_connect(remote *r, remote_conn *c, fl_error *err)
{
    fl_ssh_options o = {
        .host = c->address, .port = r->port, .user = r->user,
        .private_key = r->key, .known_hosts = r->known_hosts,
        .insecure_ignore_host_key = r->insecure,
        .bind_address = r->bind_address,
    };
    int rc = fl_ssh_connect(&o, &c->ssh, err);
    if (rc != FL_OK)
        fl_error_wrap(err, "node %s (%s)", c->name, c->address);
    return rc;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int connect_node(void *ctx, size_t node, fl_error *err)
{
    remote *r = ctx;
    return conn_connect(r, &r->conns[node], err);
}

int remote_open(const fl_nodes *nodes, const remote_auth *auth, remote **out,
                fl_error *err)
{
    *out = NULL;
    remote *r = calloc(1, sizeof *r);
    if (!r)
        return fl_error_set(err, FL_ENOMEM, "remote: out of memory");
    r->n = nodes->count;
    r->conns = calloc(r->n, sizeof *r->conns);
    r->names = calloc(r->n, sizeof *r->names);
    r->addresses = calloc(r->n, sizeof *r->addresses);
    r->user = dup_or_null(auth->user);
    r->key = dup_or_null(auth->private_key);
    r->known_hosts = dup_or_null(auth->known_hosts);
    r->bind_address = dup_or_null(auth->bind_address);
    r->insecure = auth->insecure_accept_any_host_key;
    r->port = auth->port;
    bool ok = r->conns && r->names && r->addresses && r->key &&
              (!auth->user || r->user) &&
              (!auth->known_hosts || r->known_hosts) &&
              (!auth->bind_address || r->bind_address);
    for (size_t i = 0; ok && i < r->n; i++) {
        pthread_mutex_init(&r->conns[i].lock, NULL);
        r->conns[i].name = strdup(nodes->nodes[i].name);
        r->conns[i].address = strdup(nodes->nodes[i].address);
        ok = r->conns[i].name && r->conns[i].address;
        r->names[i] = r->conns[i].name;
        r->addresses[i] = r->conns[i].address;
    }
    if (!ok) {
        remote_close(r);
        return fl_error_set(err, FL_ENOMEM, "remote: out of memory");
    }
    int rc = remote_each(r, connect_node, r, err);
    if (rc != FL_OK) {
        remote_close(r);
        return rc;
    }
    *out = r;
    return FL_OK;
}

void remote_close(remote *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->conns && i < r->n; i++) {
        fl_ssh_close(r->conns[i].ssh);
        free(r->conns[i].name);
        free(r->conns[i].address);
        pthread_mutex_destroy(&r->conns[i].lock);
    }
    free(r->conns);
    free(r->names);
    free(r->addresses);
    free(r->user);
    free(r->key);
    free(r->known_hosts);
    free(r->bind_address);
    free(r);
}

size_t remote_count(const remote *r) { return r->n; }
const char *remote_name(const remote *r, size_t i) { return r->names[i]; }
const char *remote_address(const remote *r, size_t i) { return r->addresses[i]; }
const char *const *remote_names(const remote *r) { return r->names; }
const char *const *remote_addresses(const remote *r) { return r->addresses; }
const char *remote_bind_address(const remote *r) { return r->bind_address; }

/* The operations remote_call can run on a locked connection. */
typedef enum remote_verb { REMOTE_EXEC, REMOTE_UPLOAD, REMOTE_DOWNLOAD } remote_verb;

typedef struct remote_req {
    remote_verb verb;
    const char *a, *b;    /* command | local, remote | remote, local */
    int mode, timeout_ms;
    fl_ssh_result *res;
} remote_req;

static int call_once(remote_conn *c, const remote_req *q, fl_error *err)
{
    switch (q->verb) {
    case REMOTE_EXEC: return fl_ssh_exec(c->ssh, q->a, q->timeout_ms, q->res, err);
    case REMOTE_UPLOAD:
        return fl_ssh_upload(c->ssh, q->a, q->b, q->mode, q->timeout_ms, err);
    default: return fl_ssh_download(c->ssh, q->a, q->b, q->timeout_ms, err);
    }
}

static bool broken(int rc)
{
    return rc == FL_SSH_EUNAVAILABLE || rc == FL_SSH_ETIMEOUT;
}

/* Run q on node i, reconnecting first if the connection is gone, and once
 * more if it broke during the call (a command that timed out is not
 * retried: it may have had effects). */
static int remote_call(remote *r, size_t i, const remote_req *given,
                       fl_error *err)
{
    remote_conn *c = &r->conns[i];
    int rc = FL_OK;
    /* Nothing here waits forever: no limit given is the default one. */
    remote_req bounded = *given;
    if (bounded.timeout_ms <= 0)
        bounded.timeout_ms = REMOTE_DEFAULT_TIMEOUT_MS;
    const remote_req *q = &bounded;
    pthread_mutex_lock(&c->lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!c->ssh && (rc = conn_connect(r, c, err)) != FL_OK) {
            /* The (re)connect's error says nothing of what was to run. */
            if (q->verb == REMOTE_EXEC)
                fl_error_wrap(err, "cannot run `%.160s`", q->a);
            else
                fl_error_wrap(err, "cannot %s %s", q->verb == REMOTE_UPLOAD
                              ? "upload to" : "download", q->verb ==
                              REMOTE_UPLOAD ? q->b : q->a);
            break;
        }
        rc = call_once(c, q, err);
        if (rc != FL_OK)
            fl_error_wrap(err, "node %s", c->name);
        if (!broken(rc))
            break;
        fl_ssh_close(c->ssh);
        c->ssh = NULL;
        if (rc == FL_SSH_ETIMEOUT)
            break;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int remote_exec(remote *r, size_t node, const char *cmd, int timeout_ms,
                fl_ssh_result *res, fl_error *err)
{
    remote_req q = {.verb = REMOTE_EXEC, .a = cmd, .timeout_ms = timeout_ms,
                    .res = res};
    return remote_call(r, node, &q, err);
}

int remote_run(remote *r, size_t node, const char *cmd, int timeout_ms,
               fl_error *err)
{
    fl_ssh_result res;
    int rc = remote_exec(r, node, cmd, timeout_ms, &res, err);
    if (rc != FL_OK)
        return rc;
    if (res.exit_status != 0) {
        size_t len = strcspn(res.err, "\n");
        rc = fl_error_set(err, FL_EIO, "node %s: `%.200s` exited with %d%s%s: "
                          "%.*s", r->names[node], cmd, res.exit_status,
                          res.exit_signal[0] ? " signal " : "",
                          res.exit_signal, (int)(len > 300 ? 300 : len),
                          res.err);
    }
    fl_ssh_result_free(&res);
    return rc;
}

int remote_upload(remote *r, size_t node, const char *local,
                  const char *remote_path, int mode, int timeout_ms,
                  fl_error *err)
{
    remote_req q = {.verb = REMOTE_UPLOAD, .a = local, .b = remote_path,
                    .mode = mode, .timeout_ms = timeout_ms};
    return remote_call(r, node, &q, err);
}

int remote_download(remote *r, size_t node, const char *remote_path,
                    const char *local, int timeout_ms, fl_error *err)
{
    remote_req q = {.verb = REMOTE_DOWNLOAD, .a = remote_path, .b = local,
                    .timeout_ms = timeout_ms};
    return remote_call(r, node, &q, err);
}

typedef struct each_job {
    remote_node_fn fn;
    void *ctx;
    size_t node;
    int rc;
    fl_error err;
    pthread_t thread;
    bool started;
} each_job;

static void *each_main(void *arg)
{
    each_job *j = arg;
    j->rc = j->fn(j->ctx, j->node, &j->err);
    return NULL;
}

int remote_each(remote *r, remote_node_fn fn, void *ctx, fl_error *err)
{
    each_job *jobs = calloc(r->n, sizeof *jobs);
    if (!jobs)
        return fl_error_set(err, FL_ENOMEM, "remote: out of memory");
    for (size_t i = 0; i < r->n; i++) {
        jobs[i] = (each_job){.fn = fn, .ctx = ctx, .node = i};
        jobs[i].started = pthread_create(&jobs[i].thread, NULL, each_main,
                                         &jobs[i]) == 0;
        if (!jobs[i].started)
            each_main(&jobs[i]);
    }
    int first = FL_OK;
    for (size_t i = 0; i < r->n; i++) {
        if (jobs[i].started)
            pthread_join(jobs[i].thread, NULL);
        if (jobs[i].rc != FL_OK && first == FL_OK) {
            first = jobs[i].rc;
            *err = jobs[i].err;
        }
    }
    free(jobs);
    return first;
}
