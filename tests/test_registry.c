/*
 * Tests of the registries: checkers by name (checkers/checker.h) and
 * workloads with the checkers that judge them (workloads/workload.h).
 * Unknown names give an error naming the known ones; a checker run
 * through the registry says exactly what the checker says when called
 * directly; every workload's checkers are in the checker registry; a
 * stored run is judged by its workload's checkers (harness/run_store.h).
 * Composition (checkers/compose.h): Jepsen's validity lattice over every
 * pair of verdicts and over checkers with fixed verdicts; a checker that
 * needs another's result gets the composition's own run of it (whatever
 * the order) when it asks the same question, a private run otherwise, and
 * reads its per-key verdicts through the typed interface; sequential
 * composed beside linearizable gives the verdicts it gives alone; a
 * composition refuses a checker twice and names one that cannot run.
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

#include "checkers/lin_model.h"
#include "checkers/checker.h"
#include "checkers/compose.h"
#include "checkers/linearizable.h"
#include "checkers/sequential.h"
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
    assert_string_equal(names[3], "crash");
    assert_string_equal(names[4], "elle");
    assert_null(names[5]);
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
                                 "linearizable, set, sequential, crash, elle)");
    assert_int_equal(checker_find("", &c, NULL), FL_EUSAGE);
}

/* Through the registry, linearizable says what lin_check says. */
static void test_linearizable_through_the_registry(void **state)
{
    (void)state;
    history *h = parse(stale);
    checker_options opt;
    checker_options_init(&opt);
    opt.model = lin_model_find("cas-register");
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
    opt.model = lin_model_find("btree"); /* none: the CLI refuses it */
    checker_result *r = (checker_result *)1;
    fl_error err = {0};
    assert_int_equal(checker_check(find("linearizable"), h, &opt, &r, &err),
                     FL_EUSAGE);
    assert_null(r);
    assert_non_null(strstr(err.msg, "no model given"));
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
    assert_ptr_equal(wc[0].options.model, lin_model_find("cas-register"));
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
    /* the workload's two, and the crash checker every run has */
    assert_int_equal(json_object_size(checkers), 3);
    json_t *crash = json_object_get(checkers, "crash");
    assert_true(json_is_true(json_object_get(crash, "valid")));
    assert_int_equal(json_array_size(json_object_get(crash, "crashes")), 0);
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
    assert_int_equal(json_object_size(checkers), 2);   /* set, crash */
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(checkers, "set"), "lost_count")), 1);
    assert_string_equal(json_string_value(json_object_get(res, "ended")),
                        "completed");
    json_decref(res);
}

/* ---- composition (checkers/compose.h) ------------------------------------------ */

static void test_lattice_false_beats_unknown_beats_true(void **state)
{
    (void)state;
    const checker_verdict T = CHECKER_VALID, F = CHECKER_INVALID,
                          U = CHECKER_UNKNOWN;
    const checker_verdict want[3][3] = {
        /*        T  F  U */
        /* T */ {T, F, U},
        /* F */ {F, F, F},
        /* U */ {U, F, U},
    };
    const checker_verdict all[3] = {T, F, U};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            assert_int_equal(checker_verdict_combine(all[i], all[j]),
                             want[i][j]);
            /* commutative and idempotent */
            assert_int_equal(checker_verdict_combine(all[j], all[i]),
                             want[i][j]);
        }
}

/* Checkers with fixed verdicts, to compose. */
static int fixed(checker_verdict v, checker_report *out)
{
    out->verdict = v;
    out->json = json_pack("{so}", "valid", checker_verdict_json(v));
    fprintf(out->summary, "fixed: %s\n", checker_verdict_word(v));
    return FL_OK;
}

static int check_true(const history *h, const checker_options *opt,
                      const checker_result *needed, checker_report *out,
                      fl_error *err)
{
    (void)h, (void)opt, (void)needed, (void)err;
    return fixed(CHECKER_VALID, out);
}

static int check_false(const history *h, const checker_options *opt,
                       const checker_result *needed, checker_report *out,
                       fl_error *err)
{
    (void)h, (void)opt, (void)needed, (void)err;
    return fixed(CHECKER_INVALID, out);
}

static int check_unknown(const history *h, const checker_options *opt,
                         const checker_result *needed, checker_report *out,
                         fl_error *err)
{
    (void)h, (void)opt, (void)needed, (void)err;
    return fixed(CHECKER_UNKNOWN, out);
}

static const checker always_true = {.name = "t", .about = "t", .check = check_true};
static const checker always_false = {.name = "f", .about = "f", .check = check_false};
static const checker always_unknown = {.name = "u", .about = "u",
                                       .check = check_unknown};

static composition *run(const history *h, const checker *const *cs, size_t n);

static checker_verdict composed(const checker *const *cs, size_t n)
{
    history *h = parse(stale);
    composition *c = run(h, cs, n);
    assert_int_equal(compose_count(c), n);
    checker_verdict v = compose_verdict(c);
    json_t *j = compose_json(c);
    json_t *want = checker_verdict_json(v);
    assert_true(json_equal(json_object_get(j, "valid"), want));
    json_decref(want);
    assert_int_equal(json_object_size(json_object_get(j, "checkers")), n);
    for (size_t i = 0; i < n; i++)
        assert_non_null(json_object_get(json_object_get(j, "checkers"),
                                        cs[i]->name));
    json_decref(j);
    compose_free(c);
    history_free(h);
    return v;
}

static void test_a_composition_combines_in_the_lattice(void **state)
{
    (void)state;
    const checker *t = &always_true, *f = &always_false, *u = &always_unknown;
    assert_int_equal(composed(NULL, 0), CHECKER_VALID);
    assert_int_equal(composed((const checker *[]){t}, 1), CHECKER_VALID);
    assert_int_equal(composed((const checker *[]){t, u}, 2), CHECKER_UNKNOWN);
    assert_int_equal(composed((const checker *[]){u, t, f}, 3), CHECKER_INVALID);
    assert_int_equal(composed((const checker *[]){f, u}, 2), CHECKER_INVALID);
    assert_int_equal(composed((const checker *[]){t, f}, 2), CHECKER_INVALID);
}

/* ---- a checker that needs another's result -------------------------------------- */

/* What the probe was handed, for the test to look at. */
static struct {
    const checker_result *needed;
    checker_verdict key1, key2, key3;
    int calls;
} seen;

static int check_probe(const history *h, const checker_options *opt,
                       const checker_result *needed, checker_report *out,
                       fl_error *err)
{
    (void)opt, (void)err;
    seen.calls++;
    seen.needed = needed;
    /* the typed per-key verdicts, by the history's key value ids */
    uint32_t k1 = HISTORY_NONE, k2 = HISTORY_NONE;
    for (size_t i = 0; i < history_len(h); i++) {
        const json_t *k = history_value(h, history_events(h)[i].key);
        if (json_integer_value(k) == 1)
            k1 = history_events(h)[i].key;
        if (json_integer_value(k) == 2)
            k2 = history_events(h)[i].key;
    }
    seen.key1 = checker_result_key_verdict(needed, k1);
    seen.key2 = checker_result_key_verdict(needed, k2);
    seen.key3 = checker_result_key_verdict(needed, 12345); /* no such key */
    return fixed(checker_result_verdict(needed), out);
}

/* The probe asks linearizability its own question: a different model. */
static void other_model(const checker_options *mine, checker_options *theirs)
{
    (void)mine;
    theirs->model = lin_model_find("register");
}

static const checker probe = {.name = "probe", .about = "needs linearizable",
                              .check = check_probe,
                              .needs = &checker_linearizable};
static const checker probe_other = {.name = "probe", .about = "other model",
                                    .check = check_probe,
                                    .needs = &checker_linearizable,
                                    .needs_options = other_model};

static composition *run(const history *h, const checker *const *cs, size_t n)
{
    compose_item items[4];
    for (size_t i = 0; i < n; i++) {
        items[i].checker = cs[i];
        checker_options_init(&items[i].options);
        items[i].options.threads = 1;
    }
    composition *c = NULL;
    fl_error err = {0};
    if (compose_run(h, items, n, &c, &err) != FL_OK)
        fail_msg("compose_run: %s", err.msg);
    return c;
}

static void test_a_needed_result_is_reused_whatever_the_order(void **state)
{
    (void)state;
    history *h = parse(stale);
    const checker *lin = &checker_linearizable;
    composition *c = run(h, (const checker *[]){lin, &probe}, 2);
    assert_ptr_equal(seen.needed, compose_result(c, 0));
    assert_int_equal(seen.key1, CHECKER_INVALID);
    assert_int_equal(seen.key2, CHECKER_VALID);
    assert_int_equal(seen.key3, CHECKER_UNKNOWN);
    assert_int_equal(checker_result_verdict(compose_result(c, 1)),
                     CHECKER_INVALID);
    compose_free(c);

    /* the one it needs comes later: it is run first, and once */
    c = run(h, (const checker *[]){&probe, lin}, 2);
    assert_ptr_equal(seen.needed, compose_result(c, 1));
    assert_int_equal(seen.key1, CHECKER_INVALID);
    compose_free(c);
    history_free(h);
}

static void test_a_needed_result_is_run_privately_when_absent(void **state)
{
    (void)state;
    history *h = parse(stale);
    composition *c = run(h, (const checker *[]){&probe}, 1);
    assert_int_equal(compose_count(c), 1);
    assert_non_null(seen.needed);
    assert_ptr_not_equal(seen.needed, compose_result(c, 0));
    assert_int_equal(seen.key1, CHECKER_INVALID);
    assert_int_equal(seen.key2, CHECKER_VALID);
    compose_free(c);

    /* another question (another model) is not answered by ours */
    const checker *lin = &checker_linearizable;
    c = run(h, (const checker *[]){lin, &probe_other}, 2);
    assert_ptr_not_equal(seen.needed, compose_result(c, 0));
    /* a register without cas reads the same stale read as invalid */
    assert_int_equal(seen.key1, CHECKER_INVALID);
    compose_free(c);

    /* and checker_check alone runs what is needed too */
    checker_options opt;
    checker_options_init(&opt);
    checker_result *r = NULL;
    fl_error err = {0};
    seen.calls = 0;
    assert_int_equal(checker_check(&probe, h, &opt, &r, &err), FL_OK);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.key1, CHECKER_INVALID);
    checker_result_free(r);
    history_free(h);
}

/* sequential composed beside linearizable: the verdicts it gives alone. */
static void test_sequential_reuses_linearizable(void **state)
{
    (void)state;
    history *h = parse(stale);
    compose_item items[2];
    items[0].checker = &checker_linearizable;
    items[1].checker = &checker_sequential;
    checker_options_init(&items[0].options);
    checker_options_init(&items[1].options);
    items[1].options.consistency = CHECKER_CONSISTENCY_SEQUENTIAL;
    composition *c = NULL;
    fl_error err = {0};
    assert_int_equal(compose_run(h, items, 2, &c, &err), FL_OK);
    checker_result *alone = NULL;
    assert_int_equal(checker_check(&checker_sequential, h, &items[1].options,
                                   &alone, &err), FL_OK);
    const json_t *a = checker_result_json(compose_result(c, 1));
    const json_t *b = checker_result_json(alone);
    assert_int_equal(checker_result_verdict(compose_result(c, 1)),
                     CHECKER_VALID); /* SC's verdict */
    assert_int_equal(checker_result_verdict(alone), CHECKER_VALID);
    assert_int_equal(compose_verdict(c), CHECKER_INVALID); /* linearizable's */
    assert_string_equal(json_string_value(json_object_get(a, "anomaly")),
                        "real-time");
    assert_true(json_equal(json_object_get(a, "anomaly"),
                           json_object_get(b, "anomaly")));
    assert_true(json_equal(json_object_get(a, "anomaly_kind"),
                           json_object_get(b, "anomaly_kind")));
    assert_true(json_equal(json_object_get(json_object_get(a, "linearizable"),
                                           "valid"),
                           json_object_get(json_object_get(b, "linearizable"),
                                           "valid")));
    checker_result_free(alone);
    compose_free(c);
    history_free(h);
}

static const checker needs_itself = {.name = "loop", .about = "loop",
                                     .check = check_true,
                                     .needs = &needs_itself};

static void test_a_composition_refuses_and_names(void **state)
{
    (void)state;
    history *h = parse(stale);
    compose_item items[2];
    items[0].checker = items[1].checker = &always_true;
    checker_options_init(&items[0].options);
    items[1].options = items[0].options;
    composition *c = (composition *)1;
    fl_error err = {0};
    assert_int_equal(compose_run(h, items, 2, &c, &err), FL_EUSAGE);
    assert_null(c);
    assert_non_null(strstr(err.msg, "\"t\" given twice"));

    /* a checker needing itself: a cycle, refused, not a stack overflow */
    items[0].checker = &needs_itself;
    assert_int_equal(compose_run(h, items, 1, &c, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "cycle"));
    checker_result *r = (checker_result *)1;
    assert_int_equal(checker_check(&needs_itself, h, &items[0].options, &r,
                                   &err), FL_EUSAGE);
    assert_null(r);

    items[0].checker = &checker_linearizable;
    items[0].options.model = NULL;
    assert_int_equal(compose_run(h, items, 1, &c, &err), FL_EUSAGE);
    assert_null(c);
    assert_non_null(strstr(err.msg, "checker linearizable"));
    history_free(h);
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
        cmocka_unit_test(test_lattice_false_beats_unknown_beats_true),
        cmocka_unit_test(test_a_composition_combines_in_the_lattice),
        cmocka_unit_test(test_a_needed_result_is_reused_whatever_the_order),
        cmocka_unit_test(test_a_needed_result_is_run_privately_when_absent),
        cmocka_unit_test(test_sequential_reuses_linearizable),
        cmocka_unit_test(test_a_composition_refuses_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
