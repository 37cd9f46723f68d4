/*
 * jsonl_client: a client process speaking JSON lines. See jsonl_client.h.
 */
#include "targets/clients/jsonl_client.h"
#include "base/clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct jsonl_client {
    char *command, *cwd, *who, *bind_address, *preload;
    json_t *hello;          /* the whole handshake line's object */
    int timeout_ms;
    pid_t pid;              /* 0: no process (start it before the next op) */
    int fd;                 /* our end of the socket pair */
    char *buf;              /* what it wrote and we have not consumed */
    size_t len, cap;
    long lineno;            /* lines read from this process */
    long long next_id;
};

/* ---- pure parts ------------------------------------------------------------------- */

char *jsonl_request(long long id, const target_op *op)
{
    json_t *o = json_pack("{s:I,s:s,s:O,s:O}", "id", (json_int_t)id, "f",
                          op->f, "key", op->key ? op->key : json_null(),
                          "value", op->value ? op->value : json_null());
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(o);
    char *line = NULL;
    if (s && asprintf(&line, "%s\n", s) < 0)
        line = NULL;
    free(s);
    return line;
}

static bool is_read(const target_op *op)
{
    return strcmp(op->f, "read") == 0;
}

/* An outcome faultline decided for the client: reads fail, others info. */
static void broken(const target_op *op, const char *error, const char *detail,
                   target_result *out)
{
    memset(out, 0, sizeof *out);
    out->type = is_read(op) ? HISTORY_FAIL : HISTORY_INFO;
    out->error = json_pack("{s:s,s:s}", "error", error, "detail", detail);
}

static void protocol_error(const target_op *op, const char *who, long lineno,
                           const char *why, const char *line, size_t n,
                           target_result *out)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s, line %ld: %s: %.*s", who, lineno,
             why, (int)(n > 200 ? 200 : n), line);
    broken(op, "client protocol", detail, out);
}

bool jsonl_decode(const char *line, size_t n, long long id,
                  const target_op *op, const char *who, long lineno,
                  target_result *out)
{
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    const char *type = json_string_value(json_object_get(o, "type"));
    const json_t *jid = json_object_get(o, "id");
    const char *why = !o ? "not a JSON object"
                    : !json_is_integer(jid) ? "no integer \"id\""
                    : json_integer_value(jid) != id ? "not the id of the "
                                                      "operation sent"
                    : !type ? "no \"type\""
                    : strcmp(type, "ok") && strcmp(type, "fail") &&
                              strcmp(type, "info")
                        ? "\"type\" is not ok, fail or info"
                    : !strcmp(type, "ok") && is_read(op) &&
                              !json_object_get(o, "value")
                        ? "a read's ok without a \"value\""
                        : NULL;
    if (why) {
        json_decref(o);
        protocol_error(op, who, lineno, why, line, n, out);
        return false;
    }
    memset(out, 0, sizeof *out);
    if (strcmp(type, "ok") == 0) {
        out->type = HISTORY_OK;
        out->value = is_read(op) ? json_incref(json_object_get(o, "value"))
                                 : json_deep_copy(op->value);
    } else {
        const json_t *e = json_object_get(o, "error");
        out->type = strcmp(type, "fail") == 0 ? HISTORY_FAIL : HISTORY_INFO;
        out->error = json_pack("{s:o}", "error",
                               e ? json_incref((json_t *)e) : json_string(type));
        /* A cas whose expectation did not hold is the database's answer,
         * not an outage: the runner need not pause. */
        out->refused = out->type == HISTORY_FAIL && strcmp(op->f, "cas") == 0;
    }
    json_decref(o);
    return true;
}

/* ---- the process ----------------------------------------------------------------- */

/* environ with LD_PRELOAD and FAULTLINE_BIND_ADDRESS set as spec says
 * (and a stale FAULTLINE_BIND_ADDRESS dropped). The strings it adds are
 * in *owned (free both). NULL on ENOMEM. */
static char **child_env(const jsonl_client *c, char **owned)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    const char *old_preload = "";
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "LD_PRELOAD=", 11) == 0)
            old_preload = environ[i] + 11;
        else if (strncmp(environ[i], "FAULTLINE_BIND_ADDRESS=", 23) != 0)
            env[k++] = environ[i];
    }
    owned[0] = owned[1] = NULL;
    if (c->bind_address) {
        if (asprintf(&owned[0], "LD_PRELOAD=%s%s%s", c->preload,
                     *old_preload ? ":" : "", old_preload) < 0 ||
            asprintf(&owned[1], "FAULTLINE_BIND_ADDRESS=%s",
                     c->bind_address) < 0) {
            free(env);
            return NULL;
        }
        env[k++] = owned[0];
        env[k++] = owned[1];
    } else if (*old_preload && asprintf(&owned[0], "LD_PRELOAD=%s",
                                        old_preload) >= 0) {
        env[k++] = owned[0];
    }
    return env;
}

static void stop_process(jsonl_client *c)
{
    if (c->pid > 0) {
        /* Its own process group (setsid): a shell's children go too. */
        kill(-c->pid, SIGKILL);
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    if (c->fd >= 0)
        close(c->fd);
    c->pid = 0;
    c->fd = -1;
    c->len = 0;
}

static int spawn(jsonl_client *c, fl_error *err)
{
    int sv[2];
    char *owned[2] = {NULL, NULL};
    char **env = child_env(c, owned);
    char *const argv[] = {"sh", "-c", c->command, NULL};
    if (!env)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", c->who);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        free(env), free(owned[0]), free(owned[1]);
        return fl_error_set(err, FL_EIO, "%s: socketpair: %s", c->who,
                            strerror(errno));
    }
    long max_fd = sysconf(_SC_OPEN_MAX);
    if (max_fd < 0 || max_fd > 65536)
        max_fd = 65536;
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. The harness's own
         * descriptors (SSH sessions, the history) are not the client's. */
        setsid();
        if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0 ||
            (c->cwd && chdir(c->cwd) != 0))
            _exit(127);
        for (int fd = 3; fd < max_fd; fd++)
            close(fd);
        execve("/bin/sh", argv, env);
        _exit(127);
    }
    int e = errno;
    close(sv[1]);
    free(env), free(owned[0]), free(owned[1]);
    if (pid < 0) {
        close(sv[0]);
        return fl_error_set(err, FL_EIO, "%s: fork: %s", c->who, strerror(e));
    }
    c->pid = pid;
    c->fd = sv[0];
    c->len = 0;
    c->lineno = 0;
    return FL_OK;
}

/* Everything of s to the client. false: it is gone. */
static bool send_all(jsonl_client *c, const char *s)
{
    for (size_t n = strlen(s), off = 0; off < n;) {
        ssize_t w = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    return true;
}

/* The next line (*line, *n: without its newline, valid until the next
 * call) within timeout_ms. 1: a line; 0: none in time; -1: the client
 * closed its end (exited); -2: a line too long. */
static int read_line(jsonl_client *c, int timeout_ms, char **line, size_t *n)
{
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    size_t scanned = 0;
    for (;;) {
        char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n',
                                             c->len - scanned) : NULL;
        if (nl) {
            *line = c->buf;
            *n = (size_t)(nl - c->buf);
            c->lineno++;
            return 1;
        }
        scanned = c->len;
        if (c->len >= JSONL_MAX_LINE)
            return -2;
        int left = (int)((until - fl_clock_mono_s()) * 1000);
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? 0 : -1;
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 131072;
            char *b = realloc(c->buf, cap);
            if (!b)
                return -1;
            c->buf = b;
            c->cap = cap;
        }
        ssize_t got = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        c->len += (size_t)got;
    }
}

/* Drop the line read_line returned. */
static void consume(jsonl_client *c, size_t n)
{
    memmove(c->buf, c->buf + n + 1, c->len - n - 1);
    c->len -= n + 1;
}

/* Start the process and wait for its ready line. */
static int start(jsonl_client *c, fl_error *err)
{
    int rc = spawn(c, err);
    char *hello = rc == FL_OK ? json_dumps(c->hello, JSON_COMPACT) : NULL;
    if (rc == FL_OK && (!hello || !send_all(c, hello) || !send_all(c, "\n")))
        rc = hello ? fl_error_set(err, FL_EIO, "%s (%s): exited before "
                                  "reading its handshake", c->who, c->command)
                   : fl_error_set(err, FL_ENOMEM, "%s: out of memory", c->who);
    free(hello);
    char *line = NULL;
    size_t n = 0;
    int got = rc == FL_OK ? read_line(c, c->timeout_ms, &line, &n) : 1;
    if (rc == FL_OK && got != 1)
        rc = fl_error_set(err, FL_EIO, "%s (%s): %s", c->who, c->command,
                          got == 0 ? "no ready line within the operation "
                                     "time-out"
                          : got == -2 ? "its first line is too long"
                                      : "exited before its ready line");
    if (rc == FL_OK) {
        json_t *o = json_loadb(line, n, 0, NULL);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type || strcmp(type, "ready") != 0)
            rc = fl_error_set(err, FL_EIO, "%s (%s), line 1: expected "
                              "{\"type\": \"ready\"}, got: %.*s", c->who,
                              c->command, (int)(n > 200 ? 200 : n), line);
        json_decref(o);
        consume(c, n);
    }
    if (rc != FL_OK)
        stop_process(c);
    return rc;
}

static char *dup_or_null(const char *s, bool *bad)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *bad = true;
    return d;
}

int jsonl_client_start(const jsonl_client_spec *spec, jsonl_client **out,
                       fl_error *err)
{
    *out = NULL;
    jsonl_client *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "client: out of memory");
    bool bad = false;
    c->fd = -1;
    c->command = dup_or_null(spec->command, &bad);
    c->cwd = dup_or_null(spec->cwd, &bad);
    c->who = dup_or_null(spec->who ? spec->who : "client", &bad);
    c->bind_address = dup_or_null(spec->bind_address, &bad);
    c->preload = dup_or_null(spec->preload, &bad);
    c->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : 5000;
    c->hello = json_deep_copy(spec->hello);
    if (bad || !c->hello ||
        json_object_set_new(c->hello, "faultline", json_string("client")) ||
        json_object_set_new(c->hello, "protocol",
                            json_integer(JSONL_PROTOCOL_VERSION))) {
        jsonl_client_free(c);
        return fl_error_set(err, FL_ENOMEM, "client: out of memory");
    }
    int rc = start(c, err);
    if (rc != FL_OK) {
        jsonl_client_free(c);
        return rc;
    }
    *out = c;
    return FL_OK;
}

void jsonl_client_invoke(jsonl_client *c, const target_op *op,
                         target_result *out)
{
    fl_error e = {0};
    memset(out, 0, sizeof *out);
    if (c->pid == 0 && start(c, &e) != FL_OK) {
        out->type = HISTORY_FAIL;
        out->error = json_pack("{s:s,s:s}", "error", "client could not start",
                               "detail", e.msg);
        return;
    }
    long long id = c->next_id++;
    char *req = jsonl_request(id, op);
    if (!req || !send_all(c, req)) {
        /* It never saw the operation. */
        out->type = HISTORY_FAIL;
        out->error = json_pack("{s:s,s:s}", "error", req ? "client died"
                                                         : "out of memory",
                               "detail", c->who);
        free(req);
        stop_process(c);
        return;
    }
    free(req);
    char *line;
    size_t n;
    int got = read_line(c, c->timeout_ms, &line, &n);
    if (got == 1) {
        bool kept = jsonl_decode(line, n, id, op, c->who, c->lineno, out);
        consume(c, n);
        if (!kept)
            stop_process(c);
        return;
    }
    char detail[256];
    snprintf(detail, sizeof detail, "%s: %s", c->who,
             got == 0 ? "no completion within the operation time-out"
             : got == -2 ? "a line too long"
                         : "exited or closed its stdout");
    broken(op, got == 0 ? "client timeout"
               : got == -2 ? "client protocol" : "client died", detail, out);
    stop_process(c);
}

bool jsonl_client_alive(jsonl_client *c)
{
    if (c->pid > 0 && waitpid(c->pid, NULL, WNOHANG) == c->pid) {
        /* Reaped here: its pid may be reused, never signal it again. */
        c->pid = 0;
        stop_process(c);
    }
    return c->pid > 0;
}

void jsonl_client_free(jsonl_client *c)
{
    if (!c)
        return;
    stop_process(c);
    free(c->command);
    free(c->cwd);
    free(c->who);
    free(c->bind_address);
    free(c->preload);
    free(c->buf);
    json_decref(c->hello);
    free(c);
}
