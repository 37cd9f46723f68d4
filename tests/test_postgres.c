/*
 * Tests of the postgres target's pure parts (targets/clients/postgres.h):
 * a transaction's SQL, and its outcome from what the server answered —
 * reads filled in from jsonb text, aborted transactions definite fails, a
 * connection lost after sending a writing transaction info.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "targets/clients/postgres.h"

static void test_sql(void **state)
{
    (void)state;
    json_t *t = json_loads("[[\"r\",1,null],[\"append\",1,3],[\"w\",2,4]]", 0, NULL);
    char *sql = postgres_txn_sql(t, "REPEATABLE READ");
    assert_string_equal(sql,
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT v FROM txn WHERE k = 1; "
        "INSERT INTO txn (k, v) VALUES (1, '[3]') ON CONFLICT (k) DO UPDATE "
        "SET v = txn.v || excluded.v; INSERT INTO txn (k, v) VALUES (2, '4') "
        "ON CONFLICT (k) DO UPDATE SET v = excluded.v; COMMIT");
    free(sql);
    json_decref(t);
    const char *bad[] = {"[]", "[[\"r\",\"x\",null]]", "[[\"append\",1,\"a\"]]",
                         "[[\"incr\",1,1]]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        t = json_loads(bad[i], 0, NULL);
        assert_null(postgres_txn_sql(t, "SERIALIZABLE"));
        json_decref(t);
    }
}

static pgw_stmt st(const char *tag, const char *value)
{
    return (pgw_stmt){.tag = (char *)tag, .value = (char *)value,
                      .has_row = value != NULL};
}

static void test_outcomes(void **state)
{
    (void)state;
    json_t *t = json_loads("[[\"r\",1,null],[\"append\",1,3],[\"r\",2,null]]",
                           0, NULL);
    pgw_stmt ok[] = {st("BEGIN", NULL), st("SELECT 1", "[1, 2]"),
                     st("INSERT 0 1", NULL), st("SELECT 0", NULL),
                     st("COMMIT", NULL)};
    pgw_result res = {.stmts = ok, .n = 5, .sent = true};
    target_result out;
    postgres_classify(t, &res, &out);
    assert_int_equal(out.type, HISTORY_OK);
    char *s = json_dumps(out.value, JSON_COMPACT);
    assert_string_equal(s, "[[\"r\",1,[1,2]],[\"append\",1,3],[\"r\",2,null]]");
    free(s);
    target_result_clear(&out);
    /* a serialization failure: definite, the database's own answer */
    pgw_result ser = {.stmts = ok, .n = 2, .error = true, .sent = true,
                      .sqlstate = "40001", .message = (char *)"could not "
                      "serialize access"};
    postgres_classify(t, &ser, &out);
    assert_int_equal(out.type, HISTORY_FAIL);
    assert_true(out.refused);
    assert_string_equal(json_string_value(json_object_get(out.error, "error")),
                        "serialization failure");
    target_result_clear(&out);
    /* lost after sending: a writing txn may have committed; a reading one
     * changed nothing */
    pgw_result lost = {.sent = true, .broken = true};
    postgres_classify(t, &lost, &out);
    assert_int_equal(out.type, HISTORY_INFO);
    target_result_clear(&out);
    json_t *ro = json_loads("[[\"r\",1,null]]", 0, NULL);
    postgres_classify(ro, &lost, &out);
    assert_int_equal(out.type, HISTORY_FAIL);
    target_result_clear(&out);
    pgw_result unsent = {.broken = true};
    postgres_classify(t, &unsent, &out);
    assert_int_equal(out.type, HISTORY_FAIL);
    target_result_clear(&out);
    json_decref(ro);
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql),
        cmocka_unit_test(test_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
