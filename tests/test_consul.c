/*
 * The Consul target's client against a fake Consul agent on loopback
 * (libmicrohttpd) that answers as Consul's KV HTTP API documents:
 *   GET /v1/kv/K[?consistent|?stale]  200 [{"Key","Value": base64,
 *        "ModifyIndex", "CreateIndex", "LockIndex", "Flags"}], or 404 with
 *        an empty body; X-Consul-Index on both;
 *   PUT /v1/kv/K[?cas=N]  200 true / false (cas=0: only if absent;
 *        otherwise only if N is the key's ModifyIndex);
 *   errors: 500 "No cluster leader" (plain text), 403 "Permission denied",
 *        413 "Value exceeds 524288 byte limit", 429 rate limited,
 *        500 "leadership lost while committing log".
 * No Consul binary can be installed here: this fake is what the client is
 * verified against (said so in the README). Each documented outcome must
 * map as consul.h's table says, through the real client; a register
 * sequence and set adds must behave as on a real store. Also the db side's
 * command lines, as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base64.h"
#include "targets/clients/consul.h"

typedef enum fake_mode {
    NORMAL,
    NO_LEADER,        /* 500 "No cluster leader": nothing applied */
    FORBIDDEN,        /* 403: nothing applied */
    TOO_LARGE,        /* 413: nothing applied */
    RATE_LIMITED,     /* 429: nothing applied */
    LOST_LEADERSHIP,  /* a PUT is applied, then 500 "leadership lost..." */
    SLOW,             /* a PUT is applied, the answer comes too late */
    NOT_CONSUL,       /* an HTML 404 page from something else */
} fake_mode;

#define MAX_KEYS 16

typedef struct fake_consul {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    fake_mode mode;
    long long index;                 /* Raft index: grows on every write */
    char keys[MAX_KEYS][64];
    char values[MAX_KEYS][1024];
    long long modify[MAX_KEYS];
    size_t n;
    char last_query[32];             /* the last GET's query string */
} fake_consul;

typedef struct upload {
    char buf[1024];
    size_t len;
} upload;

static long find(fake_consul *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->keys[i], key) == 0)
            return (long)i;
    return -1;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status,
                               const char *body, long long index)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    char idx[32];
    snprintf(idx, sizeof idx, "%lld", index);
    MHD_add_response_header(r, "X-Consul-Index", idx);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Whether the query has the argument, with or without a value. */
static bool has_arg(struct MHD_Connection *c, const char *name)
{
    const char *v;
    size_t n;
    return MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, name,
                                         strlen(name), &v, &n) == MHD_YES;
}

static enum MHD_Result get(fake_consul *f, struct MHD_Connection *c,
                           const char *key)
{
    const char *q = has_arg(c, "consistent") ? "consistent"
                  : has_arg(c, "stale") ? "stale" : "default";
    snprintf(f->last_query, sizeof f->last_query, "%s", q);
    long i = find(f, key);
    if (i < 0)
        return respond(c, 404, "", f->index);
    char v64[1400], body[1800];
    fl_base64_encode(f->values[i], strlen(f->values[i]), true, v64);
    snprintf(body, sizeof body, "[{\"LockIndex\":0,\"Key\":\"%s\",\"Flags\":0,"
             "\"Value\":\"%s\",\"CreateIndex\":%lld,\"ModifyIndex\":%lld}]",
             key, v64, f->modify[i], f->modify[i]);
    return respond(c, 200, body, f->index);
}

/* Apply a PUT as Consul would; returns whether it was applied. */
static bool put(fake_consul *f, struct MHD_Connection *c, const char *key,
                const char *value)
{
    const char *cas = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
                                                  "cas");
    long i = find(f, key);
    if (cas) {
        long long want = atoll(cas);
        if (want == 0 ? i >= 0 : (i < 0 || f->modify[i] != want))
            return false;
    }
    if (i < 0) {
        i = (long)f->n++;
        snprintf(f->keys[i], sizeof f->keys[i], "%s", key);
    }
    snprintf(f->values[i], sizeof f->values[i], "%s", value);
    f->modify[i] = ++f->index;
    return true;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *size, void **ctx)
{
    (void)version;
    fake_consul *f = cls;
    if (*ctx == NULL) {
        *ctx = calloc(1, sizeof(upload));
        return *ctx ? MHD_YES : MHD_NO;
    }
    upload *up = *ctx;
    if (*size) {
        size_t n = *size < sizeof up->buf - 1 - up->len ? *size
                                                        : sizeof up->buf - 1 - up->len;
        memcpy(up->buf + up->len, data, n);
        up->len += n;
        *size = 0;
        return MHD_YES;
    }
    const char *prefix = "/v1/kv/";
    const char *key = strncmp(url, prefix, strlen(prefix)) == 0
                          ? url + strlen(prefix) : NULL;
    pthread_mutex_lock(&f->mu);
    fake_mode mode = f->mode;
    enum MHD_Result rc;
    bool is_put = strcmp(method, "PUT") == 0;
    if (!key || mode == NOT_CONSUL)
        rc = respond(c, 404, "<html><body>404 Not Found</body></html>", 0);
    else if (mode == NO_LEADER)
        rc = respond(c, 500, "No cluster leader", 0);
    else if (mode == FORBIDDEN)
        rc = respond(c, 403, "Permission denied", 0);
    else if (mode == TOO_LARGE && is_put)
        rc = respond(c, 413, "Value exceeds 524288 byte limit", 0);
    else if (mode == RATE_LIMITED)
        rc = respond(c, 429, "rate limit exceeded", 0);
    else if (!is_put)
        rc = get(f, c, key);
    else {
        bool applied = put(f, c, key, up->buf);
        if (mode == LOST_LEADERSHIP)
            rc = respond(c, 500, "leadership lost while committing log", 0);
        else {
            if (mode == SLOW) {
                pthread_mutex_unlock(&f->mu);
                sleep(CONSUL_REQUEST_TIMEOUT_MS / 1000 + 1);
                pthread_mutex_lock(&f->mu);
            }
            rc = respond(c, 200, applied ? "true" : "false", f->index);
        }
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **ctx,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*ctx);
    *ctx = NULL;
}

static fake_consul *fake_start(void)
{
    fake_consul *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->index = 10;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    f->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_INTERNAL_POLLING_THREAD,
                            0, NULL, NULL, answer, f, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                            MHD_OPTION_END);
    assert_non_null(f->d);
    f->port = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return f;
}

static void fake_stop(fake_consul *f)
{
    MHD_stop_daemon(f->d);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void set_mode(fake_consul *f, fake_mode m)
{
    pthread_mutex_lock(&f->mu);
    f->mode = m;
    pthread_mutex_unlock(&f->mu);
}

/* One operation through the real client: type, error string, value. */
static history_type op(void *client, const char *f, json_t *value, char *e,
                       size_t n, json_t **out)
{
    json_t *key = json_integer(1);
    target_op o = {.f = f, .key = key, .value = value};
    target_result r;
    consul_target.client_invoke(client, &o, &r);
    const char *msg = r.error ? json_string_value(json_object_get(r.error,
                                                                  "error"))
                              : "";
    snprintf(e, n, "%s", msg);
    if (out)
        *out = r.value ? json_incref(r.value) : NULL;
    history_type t = r.type;
    target_result_clear(&r);
    json_decref(key);
    json_decref(value);
    return t;
}

static void *client_for(const fake_consul *f, const char *mode)
{
    void *c = NULL;
    fl_error err = {0};
    assert_int_equal(consul_client_open_at("127.0.0.1", f->port, mode, NULL, &c,
                                           &err), FL_OK);
    return c;
}

static void test_register_sequence(void **state)
{
    (void)state;
    fake_consul *f = fake_start();
    void *c = client_for(f, "consistent");
    char e[64];
    json_t *v;
    assert_int_equal(op(c, "read", json_null(), e, sizeof e, &v), HISTORY_OK);
    assert_true(json_is_null(v));   /* 404, empty body: absent */
    json_decref(v);
    assert_string_equal(f->last_query, "consistent");
    assert_int_equal(op(c, "write", json_integer(3), e, sizeof e, NULL),
                     HISTORY_OK);
    assert_int_equal(op(c, "read", json_null(), e, sizeof e, &v), HISTORY_OK);
    assert_int_equal(json_integer_value(v), 3);
    json_decref(v);
    assert_int_equal(op(c, "cas", json_pack("[i,i]", 3, 4), e, sizeof e, NULL),
                     HISTORY_OK);
    /* The expectation fails: definite, and nothing is written. */
    long long before = f->index;
    assert_int_equal(op(c, "cas", json_pack("[i,i]", 3, 5), e, sizeof e, NULL),
                     HISTORY_FAIL);
    assert_string_equal(e, "precondition failed");
    assert_int_equal(f->index, before);
    assert_int_equal(op(c, "read", json_null(), e, sizeof e, &v), HISTORY_OK);
    assert_int_equal(json_integer_value(v), 4);
    json_decref(v);
    consul_target.client_close(c);
    fake_stop(f);
}

static void test_read_modes_reach_consul(void **state)
{
    (void)state;
    fake_consul *f = fake_start();
    const char *modes[] = {"consistent", "default", "stale"};
    char e[64];
    for (size_t i = 0; i < 3; i++) {
        void *c = client_for(f, modes[i]);
        json_t *v;
        assert_int_equal(op(c, "read", json_null(), e, sizeof e, &v), HISTORY_OK);
        json_decref(v);
        assert_string_equal(f->last_query, modes[i]);
        consul_target.client_close(c);
    }
    fake_stop(f);
}

static void test_set_adds(void **state)
{
    (void)state;
    fake_consul *f = fake_start();
    void *c = client_for(f, "consistent");
    char e[64];
    for (int x = 1; x <= 3; x++)
        assert_int_equal(op(c, "add", json_integer(x), e, sizeof e, NULL),
                         HISTORY_OK);
    /* Adding again finds it there: ok, and the set is unchanged. */
    assert_int_equal(op(c, "add", json_integer(2), e, sizeof e, NULL), HISTORY_OK);
    json_t *v;
    assert_int_equal(op(c, "read", json_null(), e, sizeof e, &v), HISTORY_OK);
    char *text = json_dumps(v, JSON_COMPACT);
    assert_string_equal(text, "[1,2,3]");
    free(text);
    json_decref(v);
    /* A concurrent writer in between: the ?cas= PUT says false, the add
     * reads again and succeeds on the new set. */
    pthread_mutex_lock(&f->mu);
    snprintf(f->values[0], sizeof f->values[0], "[1,2,3,9]");
    f->modify[0] = ++f->index;
    pthread_mutex_unlock(&f->mu);
    assert_int_equal(op(c, "add", json_integer(4), e, sizeof e, NULL), HISTORY_OK);
    assert_string_equal(f->values[0], "[1,2,3,9,4]");
    consul_target.client_close(c);
    fake_stop(f);
}

/* Each documented error answer, for a write and for a read. */
static void test_outcome_table(void **state)
{
    (void)state;
    fake_consul *f = fake_start();
    void *c = client_for(f, "consistent");
    char e[64];
    static const struct {
        fake_mode mode;
        history_type write;
        const char *error;
    } rows[] = {
        {NO_LEADER, HISTORY_FAIL, "no leader"},
        {FORBIDDEN, HISTORY_FAIL, "rejected"},
        {TOO_LARGE, HISTORY_FAIL, "rejected"},
        {RATE_LIMITED, HISTORY_FAIL, "rejected"},
        {LOST_LEADERSHIP, HISTORY_INFO, "consul error"},
        {SLOW, HISTORY_INFO, "timeout"},
        {NOT_CONSUL, HISTORY_INFO, "not consul's answer"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        set_mode(f, rows[i].mode);
        long long before = f->index;
        assert_int_equal(op(c, "write", json_integer(7), e, sizeof e, NULL),
                         rows[i].write);
        assert_string_equal(e, rows[i].error);
        /* A definite fail wrote nothing; where info, the fake applied it. */
        assert_true(rows[i].write == HISTORY_FAIL ? f->index == before
                                                  : true);
        /* Modes that touch only PUTs leave reads answered. */
        bool puts_only = rows[i].mode == TOO_LARGE ||
                         rows[i].mode == LOST_LEADERSHIP ||
                         rows[i].mode == SLOW;
        assert_int_equal(op(c, "read", json_null(), e, sizeof e, NULL),
                         puts_only ? HISTORY_OK : HISTORY_FAIL);
    }
    set_mode(f, NORMAL);
    consul_target.client_close(c);
    fake_stop(f);
    /* Nobody there: the write certainly did not happen. */
    void *gone = NULL;
    fl_error err = {0};
    assert_int_equal(consul_client_open_at("127.0.0.1", 1, "consistent", NULL,
                                           &gone, &err), FL_OK);
    assert_int_equal(op(gone, "write", json_integer(7), e, sizeof e, NULL),
                     HISTORY_FAIL);
    assert_string_equal(e, "no connection");
    consul_target.client_close(gone);
}

static void test_command_lines(void **state)
{
    (void)state;
    const char *names[] = {"n1", "n2", "n3"};
    const char *addrs[] = {"10.231.0.11", "10.231.0.12", "10.231.0.13"};
    char *cmd = consul_start_cmd("/usr/bin/consul", "/x", 3, names, addrs, 0);
    assert_non_null(strstr(cmd, "/usr/bin/consul agent -server -node n1 "
                                "-data-dir $d/consul-data "));
    assert_non_null(strstr(cmd, "-bind 10.231.0.11 -client 10.231.0.11 "));
    assert_non_null(strstr(cmd, "-bootstrap-expect 3 "));
    assert_non_null(strstr(cmd, " -retry-join 10.231.0.12 -retry-join "
                                "10.231.0.13 & echo $! > consul.pid; wait $!; "
                                "echo $? > \"$d/db.exit\"' "));
    assert_null(strstr(cmd, "-retry-join 10.231.0.11"));
    free(cmd);
}

static int curl_setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int curl_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_sequence),
        cmocka_unit_test(test_read_modes_reach_consul),
        cmocka_unit_test(test_set_adds),
        cmocka_unit_test(test_outcome_table),
        cmocka_unit_test(test_command_lines),
    };
    return cmocka_run_group_tests(tests, curl_setup, curl_teardown);
}
