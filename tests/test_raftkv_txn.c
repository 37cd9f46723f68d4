/*
 * Tests of raftkv's transactions: the state machine's TXN command
 * (targets/raftkv/kvsm.h: micro-ops run in order as one step, reads filled
 * in) and the client's outcome for a txn (targets/clients/raftkv.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "targets/clients/raftkv.h"
#include "targets/raftkv/kvsm.h"

static char *run_txn(kvsm *sm, const char *txn, int *rc)
{
    kvsm_cmd cmd = {.op = KVSM_TXN, .req_id = 9, .key = "txn", .key_len = 3,
                    .value = txn, .value_len = strlen(txn)};
    uint8_t *buf;
    size_t len;
    fl_error err = {0};
    assert_int_equal(kvsm_cmd_encode(&cmd, &buf, &len, &err), FL_OK);
    kvsm_result res;
    *rc = kvsm_apply(sm, buf, len, &res, &err);
    free(buf);
    return res.current;
}

static void test_txn_runs_in_order_with_reads(void **state)
{
    (void)state;
    kvsm *sm = kvsm_new();
    int rc;
    char *out = run_txn(sm, "[[\"r\",1,null],[\"append\",1,5],[\"append\",1,6],"
                            "[\"r\",1,null],[\"w\",\"x\",3],[\"r\",\"x\",null]]",
                        &rc);
    assert_int_equal(rc, FL_OK);
    assert_string_equal(out, "[[\"r\",1,null],[\"append\",1,5],[\"append\",1,6],"
                             "[\"r\",1,[5,6]],[\"w\",\"x\",3],[\"r\",\"x\",3]]");
    free(out);
    assert_string_equal(kvsm_get(sm, "1", 1), "[5,6]");
    out = run_txn(sm, "[[\"append\",1,7],[\"r\",1,null]]", &rc);
    assert_string_equal(out, "[[\"append\",1,7],[\"r\",1,[5,6,7]]]");
    free(out);
    /* a snapshot keeps the lists */
    uint8_t *snap;
    size_t n;
    fl_error err = {0};
    assert_int_equal(kvsm_snapshot(sm, &snap, &n, &err), FL_OK);
    kvsm *b = kvsm_new();
    assert_int_equal(kvsm_restore(b, snap, n, &err), FL_OK);
    assert_string_equal(kvsm_get(b, "1", 1), "[5,6,7]");
    free(snap);
    kvsm_free(b);
    /* malformed: nothing applied, the same on every node */
    const char *bad[] = {"[]", "[[\"incr\",1,1]]", "[[\"r\",[1],null]]", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        out = run_txn(sm, bad[i], &rc);
        assert_int_equal(rc, FL_EDATA);
        assert_null(out);
    }
    assert_string_equal(kvsm_get(sm, "1", 1), "[5,6,7]");
    kvsm_free(sm);
}

static void test_txn_outcomes(void **state)
{
    (void)state;
    json_t *txn = json_loads("[[\"append\",1,1],[\"r\",2,null]]", 0, NULL);
    raftkv_answer a = {.answered = true, .sent = true, .status = 200};
    json_t *body = json_loads("{\"ok\":true,\"value\":[[\"append\",1,1],"
                              "[\"r\",2,[4]]]}", 0, NULL);
    a.body = body;
    target_result r;
    raftkv_classify("txn", txn, &a, &r);
    assert_int_equal(r.type, HISTORY_OK);
    char *s = json_dumps(r.value, JSON_COMPACT);
    assert_string_equal(s, "[[\"append\",1,1],[\"r\",2,[4]]]");
    free(s);
    target_result_clear(&r);
    json_decref(body);
    /* a 200 without the reads is not raftkv's answer: info */
    a.body = body = json_loads("{\"ok\":true}", 0, NULL);
    raftkv_classify("txn", txn, &a, &r);
    assert_int_equal(r.type, HISTORY_INFO);
    target_result_clear(&r);
    json_decref(body);
    /* sent, no answer: may have committed */
    raftkv_answer lost = {.sent = true, .timed_out = true};
    raftkv_classify("txn", txn, &lost, &r);
    assert_int_equal(r.type, HISTORY_INFO);
    target_result_clear(&r);
    json_decref(txn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txn_runs_in_order_with_reads),
        cmocka_unit_test(test_txn_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
