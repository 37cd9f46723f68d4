/*
 * Tests of the registries: checkers by name (checkers/checker.h) and
 * workloads with the checkers that judge them (workloads/workload.h).
 * Unknown names give an error naming the known ones; a checker run
 * through the registry says exactly what the checker says when called
 * directly; every workload's checkers are in the checker registry; and a
 * stored run is judged by its workload's checkers (harness/run_store.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkers/checker.h"
#include "checkers/linearizable.h"
#include "checkers/set.h"
#include "harness/run_store.h"
#include "workloads/workload.h"

/* ---- helpers ------------------------------------------------------------------ */

static history *parse(const char *jsonl)
{
    FILE *in = fmemopen((void *)jsonl, strlen(jsonl), "r");
    history *h = NULL;
    fl_error err = {0};
    assert_non_null(in);
    if (history_read_jsonl(in, "test", &h, &err) != FL_OK)
        fail_msg("parse: %s", err.msg);
    fclose(in);
    return h;
}

/* A stale read of key 1 (not linearizable), and a valid write-read. */
static const char *const stale =
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":1,\"value\":1}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":1,\"value\":1}\n"
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":1,\"value\":2}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":1,\"value\":2}\n"
    "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":1,\"value\":null}\n"
    "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":1,\"value\":1}\n"
    "{\"process\":2,\"type\":\"invoke\",\"f\":\"write\",\"key\":2,\"value\":5}\n"
    "{\"process\":2,\"type\":\"ok\",\"f\":\"write\",\"key\":2,\"value\":5}\n";

/* A set of key 0 that lost the acknowledged add of 1. */
static const char *const lost =
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"add\",\"key\":0,\"value\":1}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"add\",\"key\":0,\"value\":1}\n"
    "{\"process\":1,\"type\":\"invoke\",\"f\":\"add\",\"key\":0,\"value\":2}\n"
    "{\"process\":1,\"type\":\"ok\",\"f\":\"add\",\"key\":0,\"value\":2}\n"
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":0,\"value\":null}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"key\":0,\"value\":[2]}\n";

static const checker *find(const char *name)
{
    const checker *c = NULL;
    fl_error err = {0};
    if (checker_find(name, &c, &err) != FL_OK)
        fail_msg("checker_find(%s): %s", name, err.msg);
    assert_string_equal(c->name, name);
    return c;
}

/* What a writer function puts on a stream, as a string (caller frees). */
typedef struct text {
    char *s;
    size_t n;
    FILE *f;
} text;

static FILE *text_open(text *t)
{
    memset(t, 0, sizeof *t);
    t->f = open_memstream(&t->s, &t->n);
    assert_non_null(t->f);
    return t->f;
}

static char *text_close(text *t)
{
    fclose(t->f);
    return t->s;
}

/* elapsed_ms is the one field two runs of the same check may differ in. */
static json_t *timeless(json_t *j)
{
    json_t *c = json_deep_copy(j);
    json_object_del(c, "elapsed_ms");
    return c;
}

/* ---- the checker registry ------------------------------------------------------ */

static void test_checkers_are_found_by_name(void **state)
{
    (void)state;
    const char *const *names = checker_names();
    assert_string_equal(names[0], "linearizable");
    assert_string_equal(names[1], "set");
    assert_string_equal(names[2], "sequential");
    assert_string_equal(names[3], "elle");
    assert_null(names[4]);
    for (const char *const *n = names; *n; n++) {
        const checker *c = find(*n);
        assert_non_null(c->check);
        assert_true(strlen(c->about) > 0);
    }
}

static void test_unknown_checker_is_a_clear_error(void **state)
{
    (void)state;
    const checker *c = (const checker *)1;
    fl_error err = {0};
    assert_int_equal(checker_find("causal", &c, &err), FL_EUSAGE);
    assert_null(c);
    assert_string_equal(err.msg, "unknown checker \"causal\" (checkers: "
                                 "linearizable, set, sequential, elle)");
    assert_int_equal(checker_find("", &c, NULL), FL_EUSAGE);
}

/* Through the registry, linearizable says what lin_check says. */
static void test_linearizable_through_the_registry(void **state)
{
    (void)state;
    history *h = parse(stale);
    checker_options opt;
    checker_options_init(&opt);
    opt.model = "cas-register";
    opt.shrink = true;
    opt.threads = 1;
    checker_result *r = NULL;
    lin_result *direct = NULL;
    fl_error err = {0};
    assert_int_equal(checker_check(find("linearizable"), h, &opt, &r, &err),
                     FL_OK);
    assert_int_equal(lin_check(h, &opt, &direct, &err), FL_OK);
    assert_string_equal(checker_result_name(r), "linearizable");
    assert_int_equal(checker_result_verdict(r), CHECKER_INVALID);
    assert_int_equal(lin_result_verdict(direct), CHECKER_INVALID);

    json_t *want_json = lin_result_to_json(direct, h);
    json_t *a = timeless(checker_result_json(r)), *b = timeless(want_json);
    assert_true(json_equal(a, b));
    assert_non_null(json_object_get(json_object_get(a, "counterexample"),
                                    "shrunk"));
    text t;
    lin_result_explain(direct, h, text_open(&t));
    char *want = text_close(&t);
    checker_result_explain(r, text_open(&t));
    char *got = text_close(&t);
    assert_string_equal(got, want);
    assert_non_null(strstr(got, "NOT linearizable"));
    free(got);
    checker_result_summary(r, text_open(&t));
    got = text_close(&t);
    assert_string_equal(got, "linearizable (cas-register): invalid\n");

    free(got);
    free(want);
    json_decref(a);
    json_decref(b);
    json_decref(want_json);
    lin_result_free(direct);
    checker_result_free(r);
    history_free(h);
}

/* Through the registry, set says what set_check says. */
static void test_set_through_the_registry(void **state)
{
    (void)state;
    history *h = parse(lost);
    checker_options opt;
    checker_options_init(&opt);
    checker_result *r = NULL;
    set_result *direct = NULL;
    fl_error err = {0};
    assert_int_equal(checker_check(find("set"), h, &opt, &r, &err), FL_OK);
    assert_int_equal(set_check(h, &direct, &err), FL_OK);
    assert_int_equal(checker_result_verdict(r), CHECKER_INVALID);
    json_t *want_json = set_result_to_json(direct);
    assert_true(json_equal(checker_result_json(r), want_json));
    text t;
    set_result_explain(direct, text_open(&t));
    char *want = text_close(&t);
    checker_result_explain(r, text_open(&t));
    char *got = text_close(&t);
    assert_string_equal(got, want);
    assert_non_null(strstr(got, "lost"));
    free(got);
    free(want);
    set_result_summary(direct, text_open(&t));
    want = text_close(&t);
    checker_result_summary(r, text_open(&t));
    got = text_close(&t);
    assert_string_equal(got, want);
    free(got);
    free(want);
    json_decref(want_json);
    set_result_free(direct);
    checker_result_free(r);
    history_free(h);
}

/* A checker that cannot run says why, and hands back no result. */
static void test_checker_errors_pass_through(void **state)
{
    (void)state;
    history *h = parse(stale);
    checker_options opt;
    checker_options_init(&opt);
    opt.model = "btree";
    checker_result *r = (checker_result *)1;
    fl_error err = {0};
    assert_int_equal(checker_check(find("linearizable"), h, &opt, &r, &err),
                     FL_EUSAGE);
    assert_null(r);
    assert_non_null(strstr(err.msg, "unknown model \"btree\""));
    history_free(h);

    h = parse("{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":0}\n"
              "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"key\":0,"
              "\"value\":\"x\"}\n");
    assert_int_equal(checker_check(find("set"), h, &opt, &r, &err), FL_EDATA);
    assert_null(r);
    history_free(h);
}

/* ---- the workload registry -------------------------------------------------------- */

static void test_workloads_name_their_checkers(void **state)
{
    (void)state;
    const workload_checker *wc;
    size_t n;
    fl_error err = {0};
    assert_int_equal(workload_checkers("register", &wc, &n, &err), FL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(wc[0].checker, "linearizable");
    assert_string_equal(wc[0].options.model, "cas-register");
    assert_string_equal(wc[1].checker, "sequential");
    assert_int_equal(wc[1].options.consistency, CHECKER_CONSISTENCY_SEQUENTIAL);
    assert_int_equal(workload_checkers("set", &wc, &n, &err), FL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(wc[0].checker, "set");
    /* every workload is judged, by checkers the registry has */
    for (const char *const *w = workload_names(); *w; w++) {
        assert_true(workload_known(*w));
        assert_int_equal(workload_checkers(*w, &wc, &n, &err), FL_OK);
        assert_true(n >= 1);
        for (size_t i = 0; i < n; i++)
            find(wc[i].checker);
    }
}

static void test_unknown_workload_is_a_clear_error(void **state)
{
    (void)state;
    const workload_checker *wc = (const workload_checker *)1;
    size_t n = 7;
    fl_error err = {0};
    assert_false(workload_known("bank"));
    assert_int_equal(workload_checkers("bank", &wc, &n, &err), FL_EUSAGE);
    assert_null(wc);
    assert_int_equal(n, 0);
    assert_string_equal(err.msg,
                        "unknown workload \"bank\" (known: register, set, "
                        "list-append, rw-register)");
    workload *w = (workload *)1;
    workload_options wo = {.seed = 1, .concurrency = 2};
    memset(&err, 0, sizeof err);
    assert_int_equal(workload_new("bank", &wo, &w, &err), FL_EUSAGE);
    assert_null(w);
    assert_string_equal(err.msg,
                        "unknown workload \"bank\" (known: register, set, "
                        "list-append, rw-register)");
}

/* The registry's constructors drive the right generator. */
static void test_workload_generators(void **state)
{
    (void)state;
    static const char *const fs[][4] = {{"register", "read", "write", "cas"},
                                        {"set", "add", "add", "add"}};
    for (size_t k = 0; k < 2; k++) {
        workload *w = NULL;
        workload_options wo = {.seed = 7, .concurrency = 3};
        fl_error err = {0};
        assert_int_equal(workload_new(fs[k][0], &wo, &w, &err), FL_OK);
        assert_string_equal(workload_name(w), fs[k][0]);
        for (int i = 0; i < 50; i++) {
            workload_op op;
            assert_int_equal(workload_next(w, &op, &err), FL_OK);
            assert_true(strcmp(op.f, fs[k][1]) == 0 ||
                        strcmp(op.f, fs[k][2]) == 0 ||
                        strcmp(op.f, fs[k][3]) == 0);
            assert_true(json_is_integer(op.key));
            assert_true(json_integer_value(op.key) < workload_keys_used(w));
            workload_op_clear(&op);
        }
        workload_free(w);
    }
}

/* ---- a stored run is judged by its workload's checkers ------------------------------ */

static void write_file(const char *dir, const char *name, const char *contents)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(contents, f);
    fclose(f);
}

static json_t *analyze(const char *workload_json, const char *history_text,
                       checker_verdict *v)
{
    char dir[] = "/tmp/fl-registry-XXXXXX", path[4096];
    assert_non_null(mkdtemp(dir));
    write_file(dir, "history.jsonl", history_text);
    if (workload_json)
        write_file(dir, "test.json", workload_json);
    fl_error err = {0};
    if (run_store_analyze(dir, 10, false, NULL, v, &err) != FL_OK)
        fail_msg("analyze: %s", err.msg);
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_t *res = json_load_file(path, 0, NULL);
    assert_non_null(res);
    const char *files[] = {"history.jsonl", "history.edn", "test.json",
                           "results.json"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return res;
}

static void test_stored_runs_use_the_workloads_checkers(void **state)
{
    (void)state;
    checker_verdict v;
    json_t *res = analyze(NULL, stale, &v); /* no test.json: register */
    assert_int_equal(v, CHECKER_INVALID);
    assert_string_equal(json_string_value(json_object_get(res, "workload")),
                        "register");
    json_t *checkers = json_object_get(res, "checkers");
    assert_int_equal(json_object_size(checkers), 2);
    /* both verdicts and the anomaly */
    json_t *sc = json_object_get(checkers, "sequential");
    assert_true(json_is_false(json_object_get(json_object_get(sc, "linearizable"),
                                              "valid")));
    assert_non_null(json_object_get(json_object_get(sc, "sequential"), "valid"));
    assert_non_null(json_object_get(sc, "anomaly"));
    json_t *lin = json_object_get(checkers, "linearizable");
    assert_string_equal(json_string_value(json_object_get(lin, "model")),
                        "cas-register");
    assert_non_null(json_object_get(json_object_get(lin, "counterexample"),
                                    "shrunk"));
    assert_true(json_is_false(json_object_get(res, "valid")));
    assert_int_equal(json_integer_value(json_object_get(res, "events")), 8);
    json_decref(res);

    res = analyze("{\"workload\": \"set\", \"ended\": \"completed\"}", lost, &v);
    assert_int_equal(v, CHECKER_INVALID);
    checkers = json_object_get(res, "checkers");
    assert_int_equal(json_object_size(checkers), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(checkers, "set"), "lost_count")), 1);
    assert_string_equal(json_string_value(json_object_get(res, "ended")),
                        "completed");
    json_decref(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkers_are_found_by_name),
        cmocka_unit_test(test_unknown_checker_is_a_clear_error),
        cmocka_unit_test(test_linearizable_through_the_registry),
        cmocka_unit_test(test_set_through_the_registry),
        cmocka_unit_test(test_checker_errors_pass_through),
        cmocka_unit_test(test_workloads_name_their_checkers),
        cmocka_unit_test(test_unknown_workload_is_a_clear_error),
        cmocka_unit_test(test_workload_generators),
        cmocka_unit_test(test_stored_runs_use_the_workloads_checkers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
