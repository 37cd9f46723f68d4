/*
 * The allocation hook (base/alloc.h) and every cleanup path it reaches:
 * fail the Nth allocation, for every N from 1 until a run needs no more,
 * while reading a JSONL and an EDN history and while checking (and
 * shrinking) an invalid history. Each run must end in FL_ENOMEM with a
 * message, or succeed; ASan and LSan watch for crashes and leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fl_error.h"
#include "checkers/linearizable.h"
#include "history/history.h"

#define MAX_N 200000

/* A history where process 1 reads a value after it was overwritten, on two
 * keys, with a crashed and a failed operation: enough to reach most of the
 * readers' and the checker's paths. */
static const char JSONL[] =
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1,\"key\":\"a\"}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1,\"key\":\"a\"}\n"
    "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"value\":2,\"key\":\"a\"}\n"
    "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"value\":2,\"key\":\"a\"}\n"
    "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"key\":\"a\"}\n"
    "{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"value\":1,\"key\":\"a\"}\n"
    "{\"process\":3,\"type\":\"invoke\",\"f\":\"cas\",\"value\":[1,3],\"key\":\"b\"}\n"
    "{\"process\":3,\"type\":\"fail\",\"f\":\"cas\",\"value\":[1,3],\"key\":\"b\"}\n"
    "{\"process\":4,\"type\":\"invoke\",\"f\":\"write\",\"value\":5,\"key\":\"b\"}\n"
    "{\"process\":4,\"type\":\"info\",\"f\":\"write\",\"value\":5,\"key\":\"b\"}\n"
    "{\"process\":5,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"key\":\"b\"}\n"
    "{\"process\":5,\"type\":\"ok\",\"f\":\"read\",\"value\":5,\"key\":\"b\"}\n";

static const char EDN[] =
    "[{:type :invoke, :f :write, :value [:a 1], :process 0, :time 1}\n"
    " {:type :ok, :f :write, :value [:a 1], :process 0, :time 2}\n"
    " {:type :invoke, :f :read, :value [:a nil], :process 1}\n"
    " {:type :ok, :f :read, :value [:a 1], :process 1}\n"
    " {:type :invoke, :f :cas, :value [\"b\" [1 2]], :process 2}\n"
    " {:type :fail, :f :cas, :value [\"b\" [1 2]], :process 2, "
    ":error \"no\"}\n"
    " {:type :info, :f :kill, :value nil, :process :nemesis}\n"
    " #jepsen.history.Op{:type :invoke, :f :write, :value [7 {:x [1 2.5]}], "
    ":process 3}]\n";

static char g_dir[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    json_set_alloc_funcs(fl_malloc, fl_free);
    snprintf(g_dir, sizeof g_dir, "/tmp/test_alloc_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/h.jsonl", g_dir);
    write_file(p, JSONL);
    snprintf(p, sizeof p, "%s/h.edn", g_dir);
    write_file(p, EDN);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/h.jsonl", g_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/h.edn", g_dir);
    unlink(p);
    rmdir(g_dir);
    return 0;
}

/* One run of the code under test; frees whatever it made. */
typedef int (*run_fn)(fl_error *err);

/* Fail allocation n, then n+1, ... until a run completes without meeting
 * the failure; returns how many runs failed. Every failed run must say
 * FL_ENOMEM with a message, and the hook must end off. */
static int fail_each(run_fn run, const char *what)
{
    int failed_runs = 0;
    uint64_t n;
    for (n = 1; n <= MAX_N; n++) {
        fl_error err = {0};
        fl_alloc_fail_after(n);
        int rc = run(&err);
        bool hit = fl_alloc_failed();
        fl_alloc_fail_after(0);
        if (!hit) {
            if (rc != FL_OK)
                fail_msg("%s: no allocation failed, yet rc %d: %s", what, rc,
                         err.msg);
            break;
        }
        if (rc == FL_OK)
            continue; /* the failure was survived */
        failed_runs++;
        if (rc != FL_ENOMEM || !err.msg[0])
            fail_msg("%s: allocation %llu failed, and the run said rc %d "
                     "\"%s\", not FL_ENOMEM with a message",
                     what, (unsigned long long)n, rc, err.msg);
    }
    if (n > MAX_N)
        fail_msg("%s: still allocating after %d runs", what, MAX_N);
    assert_false(fl_alloc_failed());
    print_message("%s: %llu allocations, %d runs ended in FL_ENOMEM\n", what,
                  (unsigned long long)n - 1, failed_runs);
    return failed_runs;
}

static int read_path(const char *name, size_t want_events, fl_error *err)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    history *h = NULL;
    int rc = history_read_file(p, HISTORY_FORMAT_UNKNOWN, &h, err);
    if (rc == FL_OK) {
        assert_int_equal(history_len(h), want_events);
        history_free(h);
    } else {
        assert_null(h);
    }
    return rc;
}

static int read_jsonl(fl_error *err) { return read_path("h.jsonl", 12, err); }
static int read_edn(fl_error *err) { return read_path("h.edn", 8, err); }

static history *g_invalid; /* read before the hook is armed */

static int check_invalid(fl_error *err)
{
    lin_options opt;
    lin_options_init(&opt);
    opt.threads = 1;
    opt.shrink = true;
    lin_result *r = NULL;
    int rc = lin_check(g_invalid, &opt, &r, err);
    if (rc == FL_OK) {
        /* Out of memory may leave the verdict unknown, never "valid". */
        assert_int_not_equal(lin_result_verdict(r), CHECKER_VALID);
        lin_result_free(r);
    } else {
        assert_null(r);
    }
    return rc;
}

static void test_hook_counts(void **state)
{
    (void)state;
    void *a = fl_malloc(8);
    assert_non_null(a);
    fl_alloc_fail_after(3);
    char *b = fl_strdup("x");
    void *c = fl_calloc(2, 4);
    assert_non_null(b);
    assert_non_null(c);
    assert_false(fl_alloc_failed());
    assert_null(fl_realloc(a, 64)); /* the third: a is still valid */
    assert_true(fl_alloc_failed());
    assert_null(fl_malloc(1));      /* and every one after it */
    fl_alloc_fail_after(0);
    assert_false(fl_alloc_failed());
    void *d = fl_realloc(a, 64);
    assert_non_null(d);
    fl_free(d);
    fl_free(b);
    fl_free(c);
    fl_free(NULL);
}

static void test_read_jsonl_out_of_memory(void **state)
{
    (void)state;
    assert_true(fail_each(read_jsonl, "read JSONL") > 0);
}

static void test_read_edn_out_of_memory(void **state)
{
    (void)state;
    assert_true(fail_each(read_edn, "read EDN") > 0);
}

static void test_lin_check_out_of_memory(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/h.jsonl", g_dir);
    fl_error err = {0};
    assert_int_equal(history_read_file(p, HISTORY_FORMAT_UNKNOWN, &g_invalid,
                                       &err), FL_OK);
    fail_each(check_invalid, "lin_check with shrinking");
    history_free(g_invalid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_counts),
        cmocka_unit_test(test_read_jsonl_out_of_memory),
        cmocka_unit_test(test_read_edn_out_of_memory),
        cmocka_unit_test(test_lin_check_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
