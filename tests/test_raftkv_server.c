/*
 * Tests of the raftkv server modules: the kvsm command format, state machine
 * and snapshots; command-line parsing and its errors; the TCP transport
 * between two endpoints on loopback; and a single-node server driven over
 * HTTP with libcurl (start, put, CAS, read, status, stop; leak-checked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "targets/raftkv/kvsm.h"
#include "targets/raftkv/server.h"
#include "targets/raftkv/transport.h"

/* ---- kvsm ---------------------------------------------------------------------- */

static uint8_t *enc(uint8_t op, const char *key, const char *value,
                    const char *prev, size_t *len)
{
    kvsm_cmd c = {.op = op, .req_id = 42, .key = key, .key_len = strlen(key),
                  .value = value, .value_len = value ? strlen(value) : 0,
                  .prev = prev, .prev_len = prev ? strlen(prev) : 0};
    uint8_t *buf = NULL;
    fl_error err;
    assert_int_equal(kvsm_cmd_encode(&c, &buf, len, &err), FL_OK);
    return buf;
}

static void apply(kvsm *sm, uint8_t op, const char *key, const char *value,
                  const char *prev, kvsm_result *res)
{
    size_t len;
    uint8_t *buf = enc(op, key, value, prev, &len);
    fl_error err;
    assert_int_equal(kvsm_apply(sm, buf, len, res, &err), FL_OK);
    free(buf);
}

static void test_cmd_roundtrip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = enc(KVSM_CAS, "k", "{\"a\":1}", "2", &len);
    kvsm_cmd c;
    fl_error err;
    assert_int_equal(kvsm_cmd_decode(buf, len, &c, &err), FL_OK);
    assert_int_equal(c.op, KVSM_CAS);
    assert_int_equal(c.req_id, 42);
    assert_memory_equal(c.key, "k", 1);
    assert_int_equal(c.value_len, 7);
    assert_memory_equal(c.prev, "2", 1);
    /* Every truncation and an extra byte are rejected. */
    for (size_t n = 0; n < len; n++)
        assert_int_equal(kvsm_cmd_decode(buf, n, &c, &err), FL_EDATA);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(kvsm_cmd_decode(longer, len + 1, &c, &err), FL_EDATA);
    free(longer);
    free(buf);
    buf = enc(KVSM_CREATE, "k", "[1]", NULL, &len);
    assert_int_equal(kvsm_cmd_decode(buf, len, &c, &err), FL_OK);
    assert_int_equal(c.op, KVSM_CREATE);
    assert_int_equal(c.value_len, 3);
    /* Ops outside 1..TXN (0, the next one, 255) are malformed. */
    const uint8_t bad_ops[] = {0, KVSM_TXN + 1, 255};
    for (size_t i = 0; i < sizeof bad_ops; i++) {
        buf[1] = bad_ops[i];
        assert_int_equal(kvsm_cmd_decode(buf, len, &c, &err), FL_EDATA);
    }
    free(buf);
    /* DELETE carries no value; PUT carries no prev. */
    buf = enc(KVSM_DELETE, "k", "ignored", "ignored", &len);
    assert_int_equal(kvsm_cmd_decode(buf, len, &c, &err), FL_OK);
    assert_int_equal(c.value_len + c.prev_len, 0);
    free(buf);
}

static void test_cmd_encode_errors(void **state)
{
    (void)state;
    kvsm_cmd c = {.op = KVSM_PUT, .key = "", .key_len = 0, .value = "1",
                  .value_len = 1};
    uint8_t *buf = NULL;
    size_t len;
    fl_error err;
    assert_int_equal(kvsm_cmd_encode(&c, &buf, &len, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "key"));
    c.key = "k";
    c.key_len = 1;
    c.op = 9;
    assert_int_equal(kvsm_cmd_encode(&c, &buf, &len, &err), FL_EUSAGE);
    assert_null(buf);
}

static void test_apply_put_cas_delete(void **state)
{
    (void)state;
    kvsm *sm = kvsm_new();
    kvsm_result res;
    apply(sm, KVSM_PUT, "a", "1", NULL, &res);
    assert_int_equal(res.outcome, KVSM_APPLIED);
    assert_int_equal(res.req_id, 42);
    assert_string_equal(kvsm_get(sm, "a", 1), "1");
    apply(sm, KVSM_CAS, "a", "2", "1", &res);
    assert_int_equal(res.outcome, KVSM_APPLIED);
    assert_string_equal(kvsm_get(sm, "a", 1), "2");
    apply(sm, KVSM_CAS, "a", "3", "1", &res);
    assert_int_equal(res.outcome, KVSM_PRECONDITION_FAILED);
    assert_string_equal(res.current, "2");
    free(res.current);
    assert_string_equal(kvsm_get(sm, "a", 1), "2");
    /* A missing key never equals any prev, not even null. */
    apply(sm, KVSM_CAS, "b", "1", "null", &res);
    assert_int_equal(res.outcome, KVSM_PRECONDITION_FAILED);
    assert_null(res.current);
    assert_null(kvsm_get(sm, "b", 1));
    apply(sm, KVSM_DELETE, "a", NULL, NULL, &res);
    assert_null(kvsm_get(sm, "a", 1));
    apply(sm, KVSM_DELETE, "a", NULL, NULL, NULL); /* idempotent */
    assert_int_equal(kvsm_count(sm), 0);
    /* CREATE writes only a missing key; otherwise it reports the value. */
    apply(sm, KVSM_CREATE, "c", "[1]", NULL, &res);
    assert_int_equal(res.outcome, KVSM_APPLIED);
    assert_string_equal(kvsm_get(sm, "c", 1), "[1]");
    apply(sm, KVSM_CREATE, "c", "[2]", NULL, &res);
    assert_int_equal(res.outcome, KVSM_PRECONDITION_FAILED);
    assert_string_equal(res.current, "[1]");
    free(res.current);
    assert_string_equal(kvsm_get(sm, "c", 1), "[1]");
    apply(sm, KVSM_CREATE, "c", "[3]", NULL, NULL);   /* refused, unasked */
    assert_string_equal(kvsm_get(sm, "c", 1), "[1]");
    apply(sm, KVSM_DELETE, "c", NULL, NULL, NULL);
    /* Garbage changes nothing. */
    fl_error err;
    assert_int_equal(kvsm_apply(sm, (const uint8_t *)"xx", 2, &res, &err),
                     FL_EDATA);
    kvsm_free(sm);
}

static void test_snapshot_roundtrip(void **state)
{
    (void)state;
    kvsm *sm = kvsm_new(), *copy = kvsm_new();
    char key[16], val[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "key%d", i);
        snprintf(val, sizeof val, "[%d]", i);
        apply(sm, KVSM_PUT, key, val, NULL, NULL);
    }
    uint8_t *snap;
    size_t len;
    fl_error err;
    assert_int_equal(kvsm_snapshot(sm, &snap, &len, &err), FL_OK);
    apply(copy, KVSM_PUT, "old", "1", NULL, NULL);
    /* A damaged snapshot is refused and leaves the map as it was. */
    for (size_t n = 0; n < len; n += 7)
        assert_int_equal(kvsm_restore(copy, snap, n, &err), FL_EDATA);
    assert_string_equal(kvsm_get(copy, "old", 3), "1");
    assert_int_equal(kvsm_restore(copy, snap, len, &err), FL_OK);
    assert_null(kvsm_get(copy, "old", 3));
    assert_int_equal(kvsm_count(copy), 100);
    assert_string_equal(kvsm_get(copy, "key57", 5), "[57]");
    free(snap);
    kvsm_free(sm);
    kvsm_free(copy);
}

/* ---- flags -------------------------------------------------------------------------- */

#define PEERS "1=127.0.0.11:7000,2=127.0.0.12:7000,3=127.0.0.13:7000"

static int parse(server_config *cfg, fl_error *err, int n, ...)
{
    char *argv[32] = {"raftkv"};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    fl_error_clear(err);
    return server_parse_args(n + 1, argv, cfg, err);
}

static void test_args_ok(void **state)
{
    (void)state;
    server_config cfg;
    fl_error err;
    assert_int_equal(parse(&cfg, &err, 10, "--id", "2", "--listen",
                           "127.0.0.12:7000", "--peers", PEERS, "--data-dir",
                           "/tmp/x", "--bug", "early-ack"), FL_OK);
    assert_int_equal(cfg.id, 2);
    assert_int_equal(cfg.n_nodes, 3);
    assert_string_equal(cfg.peers[3].host, "127.0.0.13");
    assert_string_equal(cfg.client.host, "127.0.0.12");
    assert_int_equal(cfg.client.port, 8000);
    assert_int_equal(cfg.bugs, SERVER_BUG_EARLY_ACK);
    assert_int_equal(cfg.request_timeout_ms, 2000);
    assert_int_equal(parse(&cfg, &err, 14, "--id", "1", "--listen",
                           "127.0.0.11:7000", "--peers", PEERS, "--data-dir",
                           "/tmp/x", "--client-port", "9001", "--client-addr",
                           "127.0.0.1", "--bug", "stale-read"), FL_OK);
    assert_int_equal(cfg.client.port, 9001);
    assert_string_equal(cfg.client.host, "127.0.0.1");
    assert_int_equal(parse(&cfg, &err, 1, "--help"), FL_OK);
    assert_true(cfg.help);
}

static void expect_usage(const char *needle, int rc, const fl_error *err)
{
    assert_int_equal(rc, FL_EUSAGE);
    if (!strstr(err->msg, needle))
        fail_msg("\"%s\" not in \"%s\"", needle, err->msg);
}

static void test_args_errors(void **state)
{
    (void)state;
    server_config c;
    fl_error e;
    expect_usage("required", parse(&c, &e, 2, "--id", "1"), &e);
    expect_usage("--id", parse(&c, &e, 2, "--id", "x"), &e);
    expect_usage("--id", parse(&c, &e, 2, "--id", "0"), &e);
    expect_usage("none missing", parse(&c, &e, 8, "--id", "1", "--listen",
        "127.0.0.11:7000", "--peers", "1=127.0.0.11:7000,3=127.0.0.13:7000",
        "--data-dir", "d"), &e);
    expect_usage("twice", parse(&c, &e, 2, "--peers",
        "1=127.0.0.1:1,1=127.0.0.1:2"), &e);
    expect_usage("IPv4", parse(&c, &e, 2, "--peers", "1=localhost:1"), &e);
    expect_usage("port", parse(&c, &e, 2, "--peers", "1=127.0.0.1:99999"), &e);
    expect_usage("differs", parse(&c, &e, 8, "--id", "1", "--listen",
        "127.0.0.12:7000", "--peers", PEERS, "--data-dir", "d"), &e);
    expect_usage("not in --peers", parse(&c, &e, 8, "--id", "4", "--listen",
        "127.0.0.12:7000", "--peers", PEERS, "--data-dir", "d"), &e);
    expect_usage("unknown bug", parse(&c, &e, 2, "--bug", "nosuch"), &e);
    expect_usage("unknown option", parse(&c, &e, 1, "--frob"), &e);
    expect_usage("needs a value", parse(&c, &e, 1, "--id"), &e);
    expect_usage("unexpected", parse(&c, &e, 1, "stray"), &e);
}

/* ---- transport ------------------------------------------------------------------------ */

static void test_transport_exchange(void **state)
{
    (void)state;
    int port = 20000 + (int)(getpid() % 20000);
    transport_config cfg = {.n_nodes = 2};
    char a[64];
    fl_error err;
    for (int i = 1; i <= 2; i++) {
        snprintf(a, sizeof a, "127.0.0.2%d:%d", i, port);
        assert_int_equal(transport_parse_addr(a, &cfg.addrs[i], &err), FL_OK);
    }
    int fd1 = eventfd(0, EFD_NONBLOCK), fd2 = eventfd(0, EFD_NONBLOCK);
    transport *t1, *t2;
    cfg.self = 1;
    cfg.notify_fd = fd1;
    assert_int_equal(transport_start(&cfg, &t1, &err), FL_OK);
    cfg.self = 2;
    cfg.notify_fd = fd2;
    assert_int_equal(transport_start(&cfg, &t2, &err), FL_OK);

    raft_msg m = {.type = RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 7,
                  .log_index = 3, .log_term = 2};
    uint8_t *frame;
    size_t len;
    assert_int_equal(raft_msg_encode(&m, &frame, &len, &err), FL_OK);
    assert_int_equal(transport_send(t1, 2, frame, len), 0);
    uint8_t *junk = malloc(4);
    assert_int_equal(transport_send(t1, 9, junk, 4), -1); /* unknown peer */

    transport_frame *f = NULL;
    for (int i = 0; i < 100 && !f; i++) { /* up to 10 s */
        struct pollfd p = {.fd = fd2, .events = POLLIN};
        poll(&p, 1, 100);
        f = transport_recv(t2);
    }
    assert_non_null(f);
    raft_msg got;
    assert_int_equal(raft_msg_decode(f->data, f->len, &got, &err), FL_OK);
    assert_int_equal(got.type, RAFT_MSG_VOTE);
    assert_int_equal(got.term, 7);
    assert_int_equal(got.from, 1);
    raft_msg_free(&got);
    while (f) {
        transport_frame *n = f->next;
        free(f);
        f = n;
    }
    transport_stop(t1);
    transport_stop(t2);
    close(fd1);
    close(fd2);
}

/* ---- a single-node server over HTTP ------------------------------------------------------- */

typedef struct buf {
    char data[4096];
    size_t len;
} buf;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    buf *b = ud;
    size_t k = sz * n;
    if (b->len + k >= sizeof b->data)
        return 0;
    memcpy(b->data + b->len, p, k);
    b->len += k;
    b->data[b->len] = '\0';
    return k;
}

static long http(const char *method, const char *url, const char *body,
                 buf *out)
{
    CURL *c = curl_easy_init();
    long code = 0;
    out->len = 0;
    out->data[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

static void test_single_node_server(void **state)
{
    (void)state;
    char dir[] = "/tmp/raftkv_srv_XXXXXX", peers[128], listen[64], cmd[128];
    char base[64], url[256];
    assert_non_null(mkdtemp(dir));
    int port = 20000 + (int)((getpid() + 7) % 20000);
    snprintf(listen, sizeof listen, "127.0.0.31:%d", port);
    snprintf(peers, sizeof peers, "1=%s", listen);
    server_config cfg;
    fl_error err;
    assert_int_equal(parse(&cfg, &err, 10, "--id", "1", "--listen", listen,
                           "--peers", peers, "--data-dir", dir,
                           "--snapshot-every", "3"), FL_OK);
    server *s;
    assert_int_equal(server_start(&cfg, &s, &err), FL_OK);
    snprintf(base, sizeof base, "http://127.0.0.31:%d", port + 1000);
    buf b;
    snprintf(url, sizeof url, "%s/kv/x", base);
    long code = 0;
    for (int i = 0; i < 100; i++) { /* elects itself; up to 10 s */
        if ((code = http("PUT", url, "{\"value\":[1,2]}", &b)) == 200)
            break;
        usleep(100000);
    }
    assert_int_equal(code, 200);
    assert_int_equal(http("GET", url, NULL, &b), 200);
    assert_string_equal(b.data, "{\"value\":[1,2]}");
    assert_int_equal(http("PUT", url, "{\"value\":3,\"prev\":[1]}", &b), 412);
    assert_string_equal(b.data, "{\"error\":\"precondition failed\",\"value\":[1,2]}");
    assert_int_equal(http("PUT", url, "{\"value\":3,\"prev\":[1,2]}", &b), 200);
    assert_int_equal(http("PUT", url, "[]", &b), 400);
    assert_int_equal(http("DELETE", url, NULL, &b), 200);
    assert_int_equal(http("GET", url, NULL, &b), 404);
    /* create: only while the key is absent; never together with prev. */
    assert_int_equal(http("PUT", url, "{\"value\":[5],\"create\":true}", &b), 200);
    assert_int_equal(http("PUT", url, "{\"value\":[6],\"create\":true}", &b), 412);
    assert_string_equal(b.data, "{\"error\":\"precondition failed\",\"value\":[5]}");
    assert_int_equal(http("PUT", url, "{\"value\":1,\"create\":true,\"prev\":[5]}", &b), 400);
    assert_int_equal(http("PUT", url, "{\"value\":1,\"create\":1}", &b), 400);
    /* "create": false is a plain write. */
    snprintf(url, sizeof url, "%s/kv/plain", base);
    assert_int_equal(http("PUT", url, "{\"value\":1,\"create\":false}", &b), 200);
    assert_int_equal(http("PUT", url, "{\"value\":2,\"create\":false}", &b), 200);
    assert_int_equal(http("GET", url, NULL, &b), 200);
    assert_string_equal(b.data, "{\"value\":2}");
    assert_int_equal(http("DELETE", url, NULL, &b), 200);
    snprintf(url, sizeof url, "%s/kv/x", base);
    assert_int_equal(http("GET", url, NULL, &b), 200);
    assert_string_equal(b.data, "{\"value\":[5]}");
    assert_int_equal(http("DELETE", url, NULL, &b), 200);
    snprintf(url, sizeof url, "%s/status", base);
    assert_int_equal(http("GET", url, NULL, &b), 200);
    assert_non_null(strstr(b.data, "\"role\":\"leader\""));
    snprintf(url, sizeof url, "%s/nowhere", base);
    assert_int_equal(http("GET", url, NULL, &b), 404);
    server_stop(s);

    /* Restart from the same directory: the data (and snapshot) survive. */
    assert_int_equal(server_start(&cfg, &s, &err), FL_OK);
    snprintf(url, sizeof url, "%s/kv/y", base);
    for (int i = 0; i < 100; i++) {
        if ((code = http("PUT", url, "{\"value\":1}", &b)) == 200)
            break;
        usleep(100000);
    }
    assert_int_equal(code, 200);
    snprintf(url, sizeof url, "%s/kv/x", base);
    assert_int_equal(http("GET", url, NULL, &b), 404);
    server_stop(s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_roundtrip),
        cmocka_unit_test(test_cmd_encode_errors),
        cmocka_unit_test(test_apply_put_cas_delete),
        cmocka_unit_test(test_snapshot_roundtrip),
        cmocka_unit_test(test_args_ok),
        cmocka_unit_test(test_args_errors),
        cmocka_unit_test(test_transport_exchange),
        cmocka_unit_test(test_single_node_server),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
