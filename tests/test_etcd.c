/*
 * The etcd target's pure parts: its command line, the gateway request
 * bodies (decoded back, as etcd would), reading values out of answers,
 * and every row of the outcome table in etcd.h. The real cluster is
 * exercised by tests/cli/etcd.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "targets/clients/etcd.h"

static void test_start_cmd(void **state)
{
    (void)state;
    const char *names[] = {"n1", "n2", "n3"};
    const char *addrs[] = {"10.231.0.11", "10.231.0.12", "10.231.0.13"};
    char *cmd = etcd_start_cmd("/usr/bin/etcd", "/x", 3, names, addrs, 1);
    assert_non_null(cmd);
    /* Found again by its name and data dir right after the binary. */
    assert_non_null(strstr(cmd, "setsid nohup sh -c '/usr/bin/etcd --name n2 "
                                "--data-dir $d/etcd-data "));
    assert_non_null(strstr(cmd, "d=/x/n2;"));
    assert_non_null(strstr(cmd, "--listen-client-urls http://10.231.0.12:2379 "));
    assert_non_null(strstr(cmd, "--listen-peer-urls http://10.231.0.12:2380 "));
    assert_non_null(strstr(cmd, "--initial-cluster n1=http://10.231.0.11:2380,"
                                "n2=http://10.231.0.12:2380,"
                                "n3=http://10.231.0.13:2380 "));
    assert_non_null(strstr(cmd, "echo $! > etcd.pid"));
    free(cmd);
}

/* The decoded text of a base64 field. */
static char *field(const json_t *o, const char *name)
{
    char *out;
    size_t n;
    assert_int_equal(fl_base64_decode(json_string_value(json_object_get(o, name)),
                                      &out, &n), 0);
    return out;
}

static json_t *parse(char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

static void test_bodies(void **state)
{
    (void)state;
    json_t *r = parse(etcd_range_body("7", false));
    char *k = field(r, "key");
    assert_string_equal(k, "7");
    free(k);
    assert_null(json_object_get(r, "serializable"));
    json_decref(r);
    r = parse(etcd_range_body("7", true));
    assert_true(json_is_true(json_object_get(r, "serializable")));
    json_decref(r);

    json_t *v = json_pack("[i,i]", 1, 2);
    json_t *p = parse(etcd_put_body("7", v));
    char *val = field(p, "value");
    assert_string_equal(val, "[1,2]");
    free(val);
    json_decref(p);

    /* CAS on a value: compare VALUE, put, and read on a false compare. */
    json_t *old = json_integer(3), *next = json_integer(4);
    json_t *t = parse(etcd_txn_body("7", old, next));
    json_t *cmp = json_array_get(json_object_get(t, "compare"), 0);
    assert_string_equal(json_string_value(json_object_get(cmp, "target")), "VALUE");
    val = field(cmp, "value");
    assert_string_equal(val, "3");
    free(val);
    json_t *put = json_object_get(json_array_get(json_object_get(t, "success"), 0),
                                  "request_put");
    val = field(put, "value");
    assert_string_equal(val, "4");
    free(val);
    assert_non_null(json_object_get(json_array_get(json_object_get(t, "failure"),
                                                   0), "request_range"));
    json_decref(t);
    /* Creating: the key's create revision must still be 0. */
    t = parse(etcd_txn_body("7", NULL, next));
    cmp = json_array_get(json_object_get(t, "compare"), 0);
    assert_string_equal(json_string_value(json_object_get(cmp, "target")), "CREATE");
    assert_string_equal(json_string_value(json_object_get(cmp, "create_revision")),
                        "0");
    json_decref(t);
    json_decref(v);
    json_decref(old);
    json_decref(next);
}

static void test_range_value(void **state)
{
    (void)state;
    json_t *v;
    json_t *a = json_loads("{\"header\":{},\"kvs\":[{\"key\":\"Nw==\","
                           "\"value\":\"WzEsMl0=\"}],\"count\":\"1\"}", 0, NULL);
    assert_int_equal(etcd_range_value(a, &v), 0);
    assert_int_equal(json_array_size(v), 2);
    json_decref(v);
    json_decref(a);
    a = json_loads("{\"header\":{}}", 0, NULL);        /* absent */
    assert_int_equal(etcd_range_value(a, &v), 0);
    assert_true(json_is_null(v));
    json_decref(a);
    a = json_loads("{\"kvs\":[{\"value\":\"!!\"}]}", 0, NULL);
    assert_int_equal(etcd_range_value(a, &v), -1);
    json_decref(a);
    a = json_loads("{\"kvs\":[{\"value\":\"eHh4\"}]}", 0, NULL);   /* "xxx" */
    assert_int_equal(etcd_range_value(a, &v), -1);
    json_decref(a);
}

/* The outcome of f given an answer: status 0 means none came. */
static history_type outcome(const char *f, long status, const char *body,
                            bool sent, bool timed_out, char *error, size_t n)
{
    json_t *b = body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    http_answer a = {.answered = status != 0, .status = status, .body = b,
                     .sent = sent, .timed_out = timed_out};
    json_t *w = json_integer(5);
    target_result r;
    etcd_classify(f, w, &a, &r);
    history_type t = r.type;
    const char *e = r.error ? json_string_value(json_object_get(r.error, "error"))
                            : "";
    snprintf(error, n, "%s", e);
    if (t == HISTORY_OK && strcmp(f, "write") == 0)
        assert_int_equal(json_integer_value(r.value), 5);
    target_result_clear(&r);
    json_decref(w);
    json_decref(b);
    return t;
}

static void test_outcome_table(void **state)
{
    (void)state;
    char e[64];
    const char *header = "{\"header\":{\"revision\":\"3\"}}";
    assert_int_equal(outcome("write", 200, header, true, false, e, sizeof e),
                     HISTORY_OK);
    assert_int_equal(outcome("cas", 200, "{\"header\":{},\"succeeded\":true}",
                             true, false, e, sizeof e), HISTORY_OK);
    /* The gateway leaves out a false "succeeded". */
    assert_int_equal(outcome("cas", 200, header, true, false, e, sizeof e),
                     HISTORY_FAIL);
    assert_string_equal(e, "precondition failed");
    /* Refused before proposal: definite. */
    assert_int_equal(outcome("write", 400, "{\"error\":\"illegal base64\","
                             "\"code\":3}", true, false, e, sizeof e),
                     HISTORY_FAIL);
    assert_string_equal(e, "rejected");
    assert_int_equal(outcome("write", 503, "{\"error\":\"etcdserver: too many "
                             "requests\",\"code\":14}", true, false, e, sizeof e),
                     HISTORY_FAIL);
    /* After a proposal: unknown. */
    const char *after[] = {"etcdserver: request timed out",
                           "etcdserver: leader changed",
                           "etcdserver: server stopped"};
    for (size_t i = 0; i < 3; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"error\":\"%s\",\"code\":14}", after[i]);
        assert_int_equal(outcome("write", 503, body, true, false, e, sizeof e),
                         HISTORY_INFO);
        assert_string_equal(e, "etcd error");
        assert_int_equal(outcome("cas", 503, body, true, false, e, sizeof e),
                         HISTORY_INFO);
        assert_int_equal(outcome("read", 503, body, true, false, e, sizeof e),
                         HISTORY_FAIL);
    }
    /* Not etcd: a proxy's page. */
    assert_int_equal(outcome("write", 502, "<html>", true, false, e, sizeof e),
                     HISTORY_INFO);
    assert_string_equal(e, "not etcd's answer");
    assert_int_equal(outcome("write", 200, "{\"ok\":true}", true, false, e,
                             sizeof e), HISTORY_INFO);
    /* No answer. */
    assert_int_equal(outcome("write", 0, NULL, false, false, e, sizeof e),
                     HISTORY_FAIL);
    assert_string_equal(e, "no connection");
    assert_int_equal(outcome("write", 0, NULL, true, true, e, sizeof e),
                     HISTORY_INFO);
    assert_string_equal(e, "timeout");
    assert_int_equal(outcome("write", 0, NULL, true, false, e, sizeof e),
                     HISTORY_INFO);
    assert_string_equal(e, "connection lost");
    assert_int_equal(outcome("read", 0, NULL, true, true, e, sizeof e),
                     HISTORY_FAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_cmd),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_range_value),
        cmocka_unit_test(test_outcome_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
