/*
 * Tests of etcd's transactions (targets/clients/etcd.h, "Transactions"):
 * the snapshot Txn's body, and the plan made from its answer — reads
 * filled in from the snapshot and the transaction's own earlier writes,
 * the commit comparing every key's mod revision and putting the new
 * values, no commit for a read-only transaction.
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

static char *b64(const char *s)
{
    char *out = malloc(fl_base64_encoded_size(strlen(s)));
    return fl_base64_encode(s, strlen(s), true, out);
}

static void test_snapshot_reads_each_key_once(void **state)
{
    (void)state;
    json_t *txn = json_loads("[[\"r\",1,null],[\"append\",1,3],[\"w\",\"x\",4]]",
                             0, NULL);
    char *s = etcd_txn_snapshot_body(txn, false);
    char *k1 = b64("1"), *kx = b64("x");
    char want[256];
    snprintf(want, sizeof want, "{\"success\":[{\"request_range\":{\"key\":\"%s\"}},"
             "{\"request_range\":{\"key\":\"%s\"}}]}", k1, kx);
    assert_string_equal(s, want);
    free(s);
    s = etcd_txn_snapshot_body(txn, true);
    assert_non_null(strstr(s, "\"serializable\":true"));
    free(s);
    json_t *bad = json_loads("[[\"incr\",1,1]]", 0, NULL);
    assert_null(etcd_txn_snapshot_body(bad, false));
    json_decref(bad);
    free(k1);
    free(kx);
    json_decref(txn);
}

static void test_plan_fills_reads_and_compares_revisions(void **state)
{
    (void)state;
    json_t *txn = json_loads("[[\"r\",1,null],[\"append\",1,3],[\"r\",1,null],"
                             "[\"r\",2,null]]", 0, NULL);
    char *v = b64("[1,2]");
    char ans[512];
    /* key 1 holds [1,2] at mod revision 7; key 2 is absent */
    snprintf(ans, sizeof ans, "{\"header\":{},\"succeeded\":true,\"responses\":["
             "{\"response_range\":{\"header\":{},\"kvs\":[{\"key\":\"MQ==\","
             "\"value\":\"%s\",\"mod_revision\":\"7\"}],\"count\":\"1\"}},"
             "{\"response_range\":{\"header\":{}}}]}", v);
    json_t *snap = json_loads(ans, 0, NULL);
    json_t *done;
    char *commit;
    assert_int_equal(etcd_txn_plan(txn, snap, &done, &commit), 0);
    char *d = json_dumps(done, JSON_COMPACT);
    assert_string_equal(d, "[[\"r\",1,[1,2]],[\"append\",1,3],[\"r\",1,[1,2,3]],"
                           "[\"r\",2,null]]");
    json_t *c = json_loads(commit, 0, NULL);
    json_t *cmp = json_object_get(c, "compare");
    assert_int_equal(json_array_size(cmp), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cmp, 0),
                                                          "mod_revision")), "7");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cmp, 1),
                                                          "mod_revision")), "0");
    json_t *puts = json_object_get(c, "success");
    assert_int_equal(json_array_size(puts), 1); /* key 2 was only read */
    char *want = b64("[1,2,3]");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_array_get(puts, 0), "request_put"), "value")),
                        want);
    free(want);
    free(d);
    free(commit);
    json_decref(c);
    json_decref(done);
    /* read only: no commit */
    json_t *ro = json_loads("[[\"r\",1,null],[\"r\",2,null]]", 0, NULL);
    assert_int_equal(etcd_txn_plan(ro, snap, &done, &commit), 0);
    assert_null(commit);
    json_decref(done);
    /* not the snapshot's answer */
    json_t *other = json_loads("{\"header\":{}}", 0, NULL);
    assert_int_equal(etcd_txn_plan(txn, other, &done, &commit), -1);
    assert_null(done);
    json_decref(other);
    json_decref(ro);
    json_decref(snap);
    json_decref(txn);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_reads_each_key_once),
        cmocka_unit_test(test_plan_fills_reads_and_compares_revisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
