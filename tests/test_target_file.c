/*
 * A target described by a file (targets/clients/file.h) and its client
 * protocol (targets/clients/jsonl_client.h), without a cluster: the
 * file's checks and the line/field each error names, placeholders, the
 * protocol's decisions on completion lines, and real client processes
 * (small sh and bash scripts) that answer, hang, write garbage, die — and
 * connect through faultline-bind.so, whose bind this test observes from
 * the accepting end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "targets/clients/file.h"
#include "targets/clients/jsonl_client.h"

/* ---- the file ------------------------------------------------------------------ */

static const char *write_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/fl-target-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Load text as a target file: its error message ("" when it loads). */
static void load(const char *text, char *msg, size_t size)
{
    const char *path = write_file(text);
    target_vtable *vt = NULL;
    fl_error err = {0};
    int rc = file_target_load(path, &vt, &err);
    snprintf(msg, size, "%s", rc == FL_OK ? "" : err.msg);
    if (rc != FL_OK)
        assert_int_equal(rc, FL_EUSAGE);
    file_target_free(vt);
    unlink(path);
}

#define GOOD_DB "\"db\": {\"start\": \"srv --id {id} --peers {peers}\"},\n"
#define GOOD_CLIENT "\"client\": {\"command\": \"python3 c.py {addr}\"}\n"

static void test_file_loads(void **state)
{
    (void)state;
    const char *path = write_file(
        "{\"name\": \"mykv\", \"client_port\": 8000,\n"
        "\"operations\": [\"read\", \"write\"],\n"
        "\"options\": {\"extra\": {\"help\": \"more\", \"default\": \"-v\"}},\n"
        GOOD_DB GOOD_CLIENT
        ", \"crash_patterns\": [\"panic:\"]}\n");
    target_vtable *vt = NULL;
    fl_error err = {0};
    assert_int_equal(file_target_load(path, &vt, &err), FL_OK);
    assert_string_equal(vt->name, "mykv");
    const char *missing;
    assert_true(target_supports_workload(vt, "register", &missing) ==
                false);   /* no cas */
    assert_string_equal(missing, "cas");
    /* Its options: the file (by default this one) and the file's own. */
    const target_option *f = target_option_find(vt, "file");
    assert_non_null(f);
    assert_non_null(strstr(f->default_value, "/fl-target-"));
    assert_string_equal(target_option_find(vt, "extra")->default_value, "-v");
    assert_null(target_option_find(vt, "nope"));
    file_target_free(vt);
    unlink(path);
}

static void test_file_errors_name_line_and_field(void **state)
{
    (void)state;
    char m[512];
    load("{\"name\": \"x\",\n\"client_port\": 1,\n\"bogus\": 2}", m, sizeof m);
    assert_non_null(strstr(m, ":3: bogus: unknown field"));
    load("{\"name\": \"x\", \"client_port\": 1,\n\"operations\": [\"read\"],\n"
         "\"db\": {\n  \"start\": \"srv {nodee}\"},\n" GOOD_CLIENT "}", m,
         sizeof m);
    assert_non_null(strstr(m, ":4: db.start: unknown placeholder {nodee}"));
    load("{\"name\": \"x\", \"client_port\": 1,\n\"operations\": [\"read\"],\n"
         "\"db\": {\"install\": \"i\"},\n" GOOD_CLIENT "}", m, sizeof m);
    assert_non_null(strstr(m, ":3: db.start: missing"));
    load("{\"name\": \"x\", \"client_port\": 70000,\n\"operations\": "
         "[\"read\"],\n" GOOD_DB GOOD_CLIENT "}", m, sizeof m);
    assert_non_null(strstr(m, ":1: client_port: must be a port"));
    load("{\"name\": \"x\", \"client_port\": 1,\n\"operations\": "
         "[\"read\", \"scan\"],\n" GOOD_DB GOOD_CLIENT "}", m, sizeof m);
    assert_non_null(strstr(m, ":2: operations: not one of read, write, cas, "
                              "add: scan"));
    load("{\"name\": \"x\", \"client_port\": 1, \"operations\": [\"read\"],\n"
         GOOD_DB "\"client\": {\"command\": \"c\",\n \"timeout_ms\": 5}}", m,
         sizeof m);
    assert_non_null(strstr(m, ":4: client.timeout_ms: must be an integer"));
    load("{\"name\": \"x\", \"client_port\": 1, \"operations\": [\"read\"],\n"
         "\"db\": {\"start\": \"s\",\n \"ready\": {\"http\": \"health\"}},\n"
         GOOD_CLIENT "}", m, sizeof m);
    assert_non_null(strstr(m, ":3: ready.http: must be a path"));
    load("{\"name\": \"x\", \"client_port\": 1, \"operations\": [\"read\"],\n"
         GOOD_DB GOOD_CLIENT ",\"crash_patterns\": [\"\"]}", m, sizeof m);
    assert_non_null(strstr(m, ":4: crash_patterns: an empty pattern"));
    load("{\"name\": \"x\",\n \"client_port\": 1, \"operations\": [\"read\"],\n"
         GOOD_DB GOOD_CLIENT ",\"name\": \"y\"}", m, sizeof m);
    assert_non_null(strstr(m, "not JSON: duplicate object key"));
    load("{\"name\": \"x\", \"client_port\": 1,\n \"operations\": [\"read\"]"
         ",\n" GOOD_DB, m, sizeof m);
    assert_non_null(strstr(m, ":4:"));
    assert_non_null(strstr(m, "not JSON"));
    /* An option is a placeholder; an undeclared one is not. */
    load("{\"name\": \"x\", \"client_port\": 1, \"operations\": [\"read\"],\n"
         "\"options\": {\"v\": {\"help\": \"h\"}},\n"
         "\"db\": {\"start\": \"s {v} {w}\"},\n" GOOD_CLIENT "}", m, sizeof m);
    assert_non_null(strstr(m, ":3: db.start: unknown placeholder {w}"));
}

static void test_expand(void **state)
{
    (void)state;
    const char *vars[] = {"node", "n2", "addr", "10.0.0.2", NULL};
    char bad[32];
    char *s = file_expand("x --name {node} --at {addr}:7 {", vars, bad,
                          sizeof bad);
    assert_string_equal(s, "x --name n2 --at 10.0.0.2:7 {");
    free(s);
    assert_null(file_expand("{node} {nod}", vars, bad, sizeof bad));
    assert_string_equal(bad, "{nod}");
}

/* ---- the protocol's decisions (pure) ------------------------------------------- */

static history_type decode(const char *line, const char *f, target_result *r,
                           bool *kept)
{
    json_t *value = json_integer(5);
    target_op op = {.f = f, .key = value, .value = value};
    *kept = jsonl_decode(line, strlen(line), 3, &op, "client for n1", 9, r);
    json_decref(value);
    return r->type;
}

static void test_decode(void **state)
{
    (void)state;
    target_result r;
    bool kept;
    assert_int_equal(decode("{\"id\":3,\"type\":\"ok\",\"value\":null}", "read",
                            &r, &kept), HISTORY_OK);
    assert_true(kept && json_is_null(r.value));
    target_result_clear(&r);
    /* A write's ok records the operation's own value, whatever it says. */
    assert_int_equal(decode("{\"id\":3,\"type\":\"ok\",\"value\":9}", "write",
                            &r, &kept), HISTORY_OK);
    assert_int_equal(json_integer_value(r.value), 5);
    target_result_clear(&r);
    assert_int_equal(decode("{\"id\":3,\"type\":\"fail\",\"error\":\"nope\"}",
                            "cas", &r, &kept), HISTORY_FAIL);
    assert_true(kept && r.refused);
    assert_string_equal(json_string_value(json_object_get(r.error, "error")),
                        "nope");
    target_result_clear(&r);
    assert_int_equal(decode("{\"id\":3,\"type\":\"info\"}", "write", &r,
                            &kept), HISTORY_INFO);
    target_result_clear(&r);
    /* Never an ok from a line that breaks the protocol; the error names
     * the client and the line. */
    const char *bad[] = {"garbage", "{\"id\":4,\"type\":\"ok\",\"value\":1}",
                         "{\"type\":\"ok\",\"value\":1}",
                         "{\"id\":3,\"type\":\"done\"}", "[3]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(decode(bad[i], "write", &r, &kept), HISTORY_INFO);
        assert_false(kept);
        const char *d = json_string_value(json_object_get(r.error, "detail"));
        assert_non_null(strstr(d, "client for n1, line 9: "));
        assert_string_equal(json_string_value(json_object_get(r.error,
                                                              "error")),
                            "client protocol");
        target_result_clear(&r);
        /* A read: fail (reads change nothing). */
        assert_int_equal(decode(bad[i], "read", &r, &kept), HISTORY_FAIL);
        target_result_clear(&r);
    }
    /* A read's ok must say what it read. */
    assert_int_equal(decode("{\"id\":3,\"type\":\"ok\"}", "read", &r, &kept),
                     HISTORY_FAIL);
    assert_false(kept);
    target_result_clear(&r);
}

static void test_request(void **state)
{
    (void)state;
    json_t *k = json_integer(4), *v = json_pack("[i,i]", 1, 2);
    target_op op = {.f = "cas", .key = k, .value = v};
    char *line = jsonl_request(12, &op);
    assert_string_equal(line, "{\"id\":12,\"f\":\"cas\",\"key\":4,\"value\":[1,2]}\n");
    free(line);
    json_decref(k);
    json_decref(v);
}

/* ---- client processes ---------------------------------------------------------------------- */

/* A client in sh: ready, then BODY for each line ($id is the op's id). */
#define SH_CLIENT(body) \
    "read hello; echo '{\"type\":\"ready\"}'; " \
    "while read -r l; do id=$(echo \"$l\" | sed 's/.*\"id\":\\([0-9]*\\).*/\\1/'); " \
    body "; done"

static jsonl_client *start(const char *cmd, int timeout_ms)
{
    json_t *hello = json_pack("{s:s}", "node", "n1");
    jsonl_client_spec spec = {.command = cmd, .who = "client for n1",
                              .hello = hello, .timeout_ms = timeout_ms};
    jsonl_client *c = NULL;
    fl_error err = {0};
    assert_int_equal(jsonl_client_start(&spec, &c, &err), FL_OK);
    json_decref(hello);
    return c;
}

static history_type invoke(jsonl_client *c, const char *f, target_result *r)
{
    json_t *k = json_integer(1), *v = json_integer(2);
    target_op op = {.f = f, .key = k, .value = strcmp(f, "read") ? v : NULL};
    jsonl_client_invoke(c, &op, r);
    json_decref(k);
    json_decref(v);
    return r->type;
}

static const char *error_of(const target_result *r)
{
    return json_string_value(json_object_get(r->error, "error"));
}

static void test_client_round_trip(void **state)
{
    (void)state;
    jsonl_client *c = start(SH_CLIENT("echo \"{\\\"id\\\":$id,\\\"type\\\":"
                                      "\\\"ok\\\",\\\"value\\\":7}\""), 5000);
    target_result r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(invoke(c, "read", &r), HISTORY_OK);
        assert_int_equal(json_integer_value(r.value), 7);
        target_result_clear(&r);
    }
    assert_true(jsonl_client_alive(c));   /* may serve the next user */
    jsonl_client_free(c);
}

static void test_client_timeout_garbage_death(void **state)
{
    (void)state;
    /* A fresh process answers the first op, hangs on the second, writes
     * garbage on the third: counted per process by a file. */
    char dir[] = "/tmp/fl-client-XXXXXX", cmd[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, SH_CLIENT(
        "echo x >> %s/n; case $(wc -l < %s/n) in "
        "1|4) echo \"{\\\"id\\\":$id,\\\"type\\\":\\\"ok\\\",\\\"value\\\":1}\";; "
        "2) sleep 30;; 3) echo garbage;; *) exit 0;; esac"), dir, dir);
    jsonl_client *c = start(cmd, 300);
    target_result r;
    assert_int_equal(invoke(c, "read", &r), HISTORY_OK);
    target_result_clear(&r);
    assert_int_equal(invoke(c, "write", &r), HISTORY_INFO);
    assert_string_equal(error_of(&r), "client timeout");
    target_result_clear(&r);
    /* Restarted: a new process, whose garbage is the third op overall. */
    assert_int_equal(invoke(c, "read", &r), HISTORY_FAIL);
    assert_string_equal(error_of(&r), "client protocol");
    assert_non_null(strstr(json_string_value(json_object_get(r.error,
                                                             "detail")),
                           "line 2: not a JSON object: garbage"));
    target_result_clear(&r);
    assert_int_equal(invoke(c, "write", &r), HISTORY_OK);
    target_result_clear(&r);
    /* It exits without answering: never an ok. */
    assert_int_equal(invoke(c, "write", &r), HISTORY_INFO);
    assert_string_equal(error_of(&r), "client died");
    target_result_clear(&r);
    assert_false(jsonl_client_alive(c));
    jsonl_client_free(c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_client_that_never_gets_ready(void **state)
{
    (void)state;
    json_t *hello = json_object();
    jsonl_client_spec spec = {.command = "read x; echo hello; exit 3",
                              .who = "client for n2", .hello = hello,
                              .timeout_ms = 2000};
    jsonl_client *c = NULL;
    fl_error err = {0};
    assert_int_equal(jsonl_client_start(&spec, &c, &err), FL_EIO);
    assert_non_null(strstr(err.msg, "client for n2 (read x; echo hello; "
                                    "exit 3), line 1: expected"));
    assert_null(c);
    spec.command = "exit 2";
    assert_int_equal(jsonl_client_start(&spec, &c, &err), FL_EIO);
    assert_non_null(strstr(err.msg, "exited before"));
    json_decref(hello);
}

/* ---- the client's connections stay on the test network --------------------------------- */

/* Start a client (bash: /dev/tcp calls the C library's connect) that
 * connects to a listener here with faultline-bind.so preloaded and
 * bind_address as FAULTLINE_BIND_ADDRESS, and answers ok (connected) or
 * fail. The peer address the listener saw goes into peer ("" if none). */
static history_type connect_through(const char *bind_address, char *peer,
                                    size_t size)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
    char cmd[512], so[256];
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    snprintf(so, sizeof so, "%s/faultline-bind.so", build);
    assert_int_equal(access(so, R_OK), 0);
    snprintf(cmd, sizeof cmd, SH_CLIENT(
        "if bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d' 2>/dev/null; then t=ok; "
        "else t=fail; fi; echo \"{\\\"id\\\":$id,\\\"type\\\":\\\"$t\\\","
        "\\\"value\\\":null}\""), ntohs(sa.sin_port));
    json_t *hello = json_object();
    jsonl_client_spec spec = {.command = cmd, .who = "client", .hello = hello,
                              .timeout_ms = 5000,
                              .bind_address = bind_address, .preload = so};
    jsonl_client *c = NULL;
    fl_error err = {0};
    assert_int_equal(jsonl_client_start(&spec, &c, &err), FL_OK);
    target_result r;
    history_type t = invoke(c, "read", &r);
    target_result_clear(&r);
    peer[0] = '\0';
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    if (t == HISTORY_OK) {
        int a = accept(l, (struct sockaddr *)&from, &fl);
        assert_true(a >= 0);
        inet_ntop(AF_INET, &from.sin_addr, peer, (socklen_t)size);
        close(a);
    }
    close(l);
    jsonl_client_free(c);
    json_decref(hello);
    return t;
}

static void test_client_connections_are_bound(void **state)
{
    (void)state;
    char peer[64];
    assert_int_equal(connect_through("127.0.0.9", peer, sizeof peer),
                     HISTORY_OK);
    assert_string_equal(peer, "127.0.0.9");
    /* An address this machine does not have (a bridge gone): the connect
     * fails before any packet, and the client says so. */
    assert_int_equal(connect_through("192.0.2.77", peer, sizeof peer),
                     HISTORY_FAIL);
    /* No binding asked (remote nodes): the machine's own routing. */
    assert_int_equal(connect_through(NULL, peer, sizeof peer), HISTORY_OK);
    assert_string_equal(peer, "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_loads),
        cmocka_unit_test(test_file_errors_name_line_and_field),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_client_round_trip),
        cmocka_unit_test(test_client_timeout_garbage_death),
        cmocka_unit_test(test_client_that_never_gets_ready),
        cmocka_unit_test(test_client_connections_are_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
