/*
 * Tests of report/report.h: junit.xml and summary.md from hand-made
 * results.json objects of each checker's shape — valid, an invalid
 * linearizable key with its counterexample, a set with a lost add, a
 * sequential checker's stale read, an unknown verdict — and XML escaping of
 * names and words with <, &, quotes, control characters and non-ASCII.
 * tests/cli/check.sh parses the files with a real XML parser.
 * report.html (report/html.h): the report of a known-invalid corpus
 * history names the operations of its counterexample, and keys, values
 * and words with <, & and quotes are escaped in text, attributes and the
 * embedded data. tests/cli/report_html.sh opens reports in Chromium.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "report/html.h"
#include "report/report.h"

typedef int (*writer)(const json_t *, const json_t *, FILE *, fl_error *);

/* What w writes for results (JSON text) and test (JSON text or NULL);
 * free() it. */
static char *render(writer w, const char *results, const char *test)
{
    json_error_t je;
    json_t *r = json_loads(results, 0, &je);
    if (r == NULL)
        fail_msg("results: %s", je.text);
    json_t *t = test ? json_loads(test, 0, &je) : NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fl_error err = {0};
    assert_int_equal(w(r, t, f, &err), FL_OK);
    fclose(f);
    json_decref(r);
    json_decref(t);
    return buf;
}

static void has(const char *text, const char *want)
{
    if (strstr(text, want) == NULL)
        fail_msg("missing %s in:\n%s", want, text);
}

static void lacks(const char *text, const char *unwanted)
{
    if (strstr(text, unwanted) != NULL)
        fail_msg("unexpected %s in:\n%s", unwanted, text);
}

static void starts(const char *text, const char *want)
{
    if (strncmp(text, want, strlen(want)) != 0)
        fail_msg("want it to begin %s:\n%s", want, text);
}

#define TEST_JSON "{\"name\": \"raftkv-register\", \"target\": \"raftkv\"}"

static const char valid_run[] =
    "{\"valid\": true, \"workload\": \"register\", \"ended\": \"completed\","
    " \"events\": 4, \"checkers\": {\"linearizable\": {\"valid\": true,"
    " \"elapsed_ms\": 1500, \"per_key\": {\"1\": {\"valid\": true}}}}}";

static void test_valid(void **state)
{
    (void)state;
    char *x = render(report_junit, valid_run, TEST_JSON);
    has(x, "<testsuite name=\"raftkv-register\" tests=\"1\" failures=\"0\" "
           "errors=\"0\"");
    has(x, "<testcase classname=\"raftkv-register\" name=\"linearizable\" "
           "time=\"1.500\"/>");
    lacks(x, "<failure");
    free(x);
    char *s = render(report_summary, valid_run, TEST_JSON);
    starts(s, "# faultline: valid — raftkv-register\n\nregister workload on "
              "raftkv; run ended: completed; 4 events.\n");
    has(s, "| linearizable | valid |  |");
    lacks(s, "First anomaly");
    free(s);
}

/* A stale read on key 1, as the linearizable checker stores it. */
static const char lin_invalid[] =
    "{\"valid\": false, \"workload\": \"register\", \"ended\": \"completed\","
    " \"events\": 4, \"checkers\": {\"linearizable\": {\"valid\": false,"
    " \"per_key\": {\"1\": {\"valid\": false, \"ops\": 2},"
    " \"2\": {\"valid\": true, \"ops\": 9}},"
    " \"counterexample\": {\"key\": 1, \"prefix_length\": 1,"
    "  \"prefix\": [{\"process\": 0, \"f\": \"write\", \"value\": 1,"
    "   \"type\": \"ok\", \"invoke_index\": 0, \"complete_index\": 1,"
    "   \"state\": 1}],"
    "  \"op\": {\"process\": 1, \"f\": \"read\", \"value\": null,"
    "   \"output\": null, \"type\": \"ok\", \"invoke_index\": 2,"
    "   \"complete_index\": 3},"
    "  \"concurrent\": [], \"states\": [1]}}}}";

static void test_linearizable_invalid(void **state)
{
    (void)state;
    char *x = render(report_junit, lin_invalid, TEST_JSON);
    has(x, "tests=\"2\" failures=\"2\" errors=\"0\"");
    has(x, "name=\"linearizable\" time=\"0.000\">\n      <failure message=\""
           "key 1: NOT linearizable (2 operations)\" type=\"invalid\">");
    has(x, "name=\"linearizable key 1\"");
    lacks(x, "key 2");
    has(x, "p1 read null  (ok, events 2..3)"); /* lin_explain's words */
    free(x);
    char *s = render(report_summary, lin_invalid, NULL);
    starts(s, "# faultline: INVALID — faultline\n");
    has(s, "| linearizable | invalid |");
    has(s, "## First anomaly: linearizable\n\n```\nkey 1: NOT linearizable "
           "(2 operations)\nCounterexample for key 1:\n");
    free(s);
}

static const char set_lost[] =
    "{\"valid\": false, \"workload\": \"set\", \"events\": 6, \"checkers\":"
    " {\"set\": {\"valid\": false, \"per_key\": {\"0\": {\"valid\": false,"
    " \"attempt_count\": 2, \"lost_count\": 1, \"lost\": [1],"
    " \"unexpected_count\": 0, \"failed_count\": 0,"
    " \"final_read_index\": 5}}}}}";

static void test_set_lost(void **state)
{
    (void)state;
    char *x = render(report_junit, set_lost, TEST_JSON);
    has(x, "tests=\"2\" failures=\"2\"");
    has(x, "name=\"set key 0\" time=\"0.000\">\n      <failure message=\"key 0:"
           " the final read (event index 5) disagrees with the adds:\"");
    has(x, "  1 acknowledged adds lost (ok before the read began, missing "
           "from it): 1\n</failure>");
    free(x);
    char *s = render(report_summary, set_lost, TEST_JSON);
    starts(s, "# faultline: INVALID — raftkv-register\n\nset workload on");
    has(s, "## First anomaly: set\n");
    free(s);
}

/* Linearizability broken but sequential consistency kept: the sequential
 * checker passes, and the summary still shows the stale read first. */
static const char sc_stale[] =
    "{\"valid\": true, \"workload\": \"register\", \"events\": 4, \"checkers\":"
    " {\"sequential\": {\"valid\": true, \"consistency\": \"sequential\","
    " \"anomaly\": \"real-time\", \"anomaly_kind\": \"stale-read\","
    " \"linearizable\": {\"valid\": false}, \"sequential\": {\"valid\": true},"
    " \"stale_read\": {\"read\": {\"process\": 1, \"f\": \"read\","
    "  \"value\": null, \"output\": null, \"type\": \"ok\","
    "  \"invoke_index\": 2, \"complete_index\": 3},"
    " \"newer_write\": {\"process\": 0, \"f\": \"write\", \"value\": 1,"
    "  \"output\": 1, \"type\": \"ok\", \"invoke_index\": 0,"
    "  \"complete_index\": 1}}}}}";

static void test_sc_stale_read(void **state)
{
    (void)state;
    char *x = render(report_junit, sc_stale, TEST_JSON);
    has(x, "tests=\"1\" failures=\"0\" errors=\"0\"");
    has(x, "name=\"sequential\" time=\"0.000\"/>");
    free(x);
    char *s = render(report_summary, sc_stale, TEST_JSON);
    starts(s, "# faultline: valid — raftkv-register\n");
    has(s, "| sequential | valid | anomaly: real-time (stale-read) |");
    has(s, "## First anomaly: sequential\n\n```\n");
    free(s);
}

static const char unknown_run[] =
    "{\"valid\": \"unknown\", \"workload\": \"register\", \"checkers\":"
    " {\"linearizable\": {\"valid\": \"unknown\", \"per_key\": {\"k\":"
    " {\"valid\": \"unknown\", \"reason\": \"time limit (300 s) reached\"}}}}}";

static void test_unknown_is_an_error(void **state)
{
    (void)state;
    char *x = render(report_junit, unknown_run, TEST_JSON);
    has(x, "tests=\"2\" failures=\"0\" errors=\"2\"");
    has(x, "<error message=\"key k: unknown: time limit (300 s) reached\" "
           "type=\"unknown\">");
    lacks(x, "<failure");
    free(x);
    char *s = render(report_summary, unknown_run, NULL);
    starts(s, "# faultline: unknown — faultline\n");
    free(s);
}

/* Names and words go into attributes and text: every special escaped,
 * control characters XML 1.0 forbids dropped, UTF-8 kept. */
static const char odd_names[] =
    "{\"valid\": false, \"workload\": \"set\", \"checkers\":"
    " {\"set\": {\"valid\": false, \"per_key\": {\"a<b&\\\"c'\\u00e9\\u0001\":"
    " {\"valid\": false, \"attempt_count\": 3}}}}}";

static void test_xml_escaping(void **state)
{
    (void)state;
    char *x = render(report_junit, odd_names,
                     "{\"name\": \"t<&>\\\"\\u00e9|\"}");
    has(x, "<testsuite name=\"t&lt;&amp;&gt;&quot;é|\"");
    has(x, "name=\"set key a&lt;b&amp;&quot;c&apos;é\"");
    has(x, "message=\"key a&lt;b&amp;&quot;c&apos;é: 3 adds but no read "
           "succeeded: cannot judge\"");
    has(x, ">key a&lt;b&amp;\"c'é: 3 adds"); /* text: quotes may stay */
    lacks(x, "\x01");
    lacks(x, "a<b");
    free(x);
    char *s = render(report_summary, odd_names, "{\"name\": \"t|x\"}");
    has(s, "| set | invalid |");
    free(s);
}

static void test_write_dir_needs_results(void **state)
{
    (void)state;
    fl_error err = {0};
    assert_int_equal(report_write_dir("/nonexistent-run", &err), FL_ENOINPUT);
    has(err.msg, "faultline analyze /nonexistent-run");
}


/* ---- report.html ---------------------------------------------------------------- */

/* The page for h checked by the checkers named (NULL-terminated), as the
 * register workload checks a run; free() it. */
/* The sequential checker decides sc_mode: SEQUENTIAL in a stored run,
 * BOTH in `faultline report HISTORY`. */
static char *html_of_mode(const history *h, const char *const *names,
                          checker_consistency sc_mode)
{
    json_t *checkers = json_object();
    checker_verdict v = CHECKER_VALID;
    for (const char *const *n = names; *n; n++) {
        const checker *c;
        checker_result *r;
        checker_options opt;
        checker_options_init(&opt);
        opt.shrink = true;
        if (strcmp(*n, "sequential") == 0)
            opt.consistency = sc_mode;
        assert_int_equal(checker_find(*n, &c, NULL), FL_OK);
        assert_int_equal(checker_check(c, h, &opt, &r, NULL), FL_OK);
        v = checker_verdict_combine(v, checker_result_verdict(r));
        json_object_set(checkers, *n, checker_result_json(r));
        checker_result_free(r);
    }
    json_t *results = json_pack("{s:o,s:o}", "valid", checker_verdict_json(v),
                                "checkers", checkers);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_html_input in = {.title = "t", .h = h, .results = results,
                            .history_href = "h.jsonl"};
    fl_error err = {0};
    assert_int_equal(report_html(&in, f, &err), FL_OK);
    fclose(f);
    json_decref(results);
    return buf;
}

static char *html_of(const history *h, const char *const *names)
{
    return html_of_mode(h, names, CHECKER_CONSISTENCY_SEQUENTIAL);
}

static const char *const both[] = {"linearizable", "sequential", NULL};

/* The nemesis periods shaded in report.html pair a run's events by the
 * fault kinds its test.json lists (written from nemesis/fault.c's table),
 * not by names the report knows: with the list, kill..start and a kind
 * the report never heard of are periods; without it, only start-X/stop-X
 * pairs are. */
static void test_html_nemesis_periods_from_test_json(void **state)
{
    (void)state;
    history *h = history_new();
    static const char *const fs[][2] = {
        {"kill", "info"}, {"kill", "info"}, {"read", "invoke"},
        {"read", "ok"}, {"start", "info"}, {"start", "info"},
        {"skew-clocks", "info"}, {"reset-clocks", "info"},
        {"start-partition", "info"}, {"stop-partition", "info"},
    };
    for (size_t i = 0; i < sizeof fs / sizeof *fs; i++) {
        bool client = strcmp(fs[i][0], "read") == 0;
        history_type t;
        assert_int_equal(history_type_parse(fs[i][1], &t), FL_OK);
        json_t *v = json_integer(1);
        history_input in = {.index = HISTORY_AUTO_INDEX,
                            .time = 1000 * (int64_t)(i + 1),
                            .process = client ? 0 : HISTORY_NEMESIS,
                            .type = t, .f = fs[i][0],
                            .value = client && t == HISTORY_OK ? v : NULL};
        assert_int_equal(history_append(h, &in, NULL), FL_OK);
        json_decref(v);
    }
    json_t *results = json_pack("{s:b,s:{}}", "valid", 1, "checkers");
    json_t *test = json_pack("{s:[{s:s,s:s},{s:s,s:s}]}", "fault_kinds",
                             "begin_f", "kill", "end_f", "start",
                             "begin_f", "skew-clocks", "end_f", "reset-clocks");
    for (int with = 1; with >= 0; with--) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        report_html_input in = {.title = "t", .h = h, .results = results,
                                .test = with ? test : NULL};
        assert_int_equal(report_html(&in, f, NULL), FL_OK);
        fclose(f);
        if (with) {
            has(buf, "\"nemesis\":[[0,5,\"kill null\",0],[6,7,\"skew-clocks "
                     "null\",1],[8,9,\"start-partition null\",2]]");
        } else {
            has(buf, "\"nemesis\":[[8,9,\"start-partition null\",0]]");
        }
        free(buf);
    }
    json_decref(test);
    json_decref(results);
    history_free(h);
}

/* Faults that overlap (the scheduler composes kinds): a partition begins,
 * a clock skew begins while it is in force, the partition ends, the skew
 * ends, a final sweep heals the partition again. Each period ends at its
 * own end's completion, whatever began in between; the sweep moves
 * nothing; each kind keeps its row. */
static void test_html_overlapping_periods(void **state)
{
    (void)state;
    history *h = history_new();
    static const char *const fs[] = {
        "start-partition", "start-partition", "start-clock-skew",
        "start-clock-skew", "stop-partition", "stop-partition",
        "start-partition", "start-partition", "stop-clock-skew",
        "stop-clock-skew", "stop-partition", "stop-partition",
        "stop-partition", "stop-partition",
    };
    for (size_t i = 0; i < sizeof fs / sizeof *fs; i++) {
        history_input in = {.index = HISTORY_AUTO_INDEX,
                            .time = 1000 * (int64_t)(i + 1),
                            .process = HISTORY_NEMESIS,
                            .type = HISTORY_INFO, .f = fs[i]};
        assert_int_equal(history_append(h, &in, NULL), FL_OK);
    }
    json_t *results = json_pack("{s:b,s:{}}", "valid", 1, "checkers");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_html_input in = {.title = "t", .h = h, .results = results};
    assert_int_equal(report_html(&in, f, NULL), FL_OK);
    fclose(f);
    has(buf, "\"nemesis\":[[0,5,\"start-partition null\",0],[2,9,"
             "\"start-clock-skew null\",1],[6,11,\"start-partition null\",0]]");
    free(buf);
    json_decref(results);
    history_free(h);
}

/* etcd_000: Porcupine's tests say not linearizable. Its counterexample
 * (faultline check --explain): p11's read of 2 cannot take effect; p6's
 * cas, p14's and p2's writes were open; the register could only hold 1. */
static void test_html_corpus_invalid(void **state)
{
    (void)state;
    const char *shared = getenv("SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/corpus/etcd/etcd_000.jsonl",
             shared ? shared : "../shared");
    history *h = NULL;
    assert_int_equal(history_read_file(path, HISTORY_FORMAT_JSONL, &h, NULL),
                     FL_OK);
    char *x = html_of(h, both);
    has(x, "<span class=\"badge invalid\">INVALID</span>");
    has(x, "not linearizable: p11 read \xe2\x86\x92 2 cannot take effect "
           "anywhere before it completed (the object could only hold [1] "
           "then)");
    has(x, "not linearizable, but sequentially consistent");
    has(x, "<svg class=\"counterexample\" id=\"ce-linearizable\"");
    /* the bars' titles: the stuck op, highlighted, and the open ones */
    has(x, "<g class=\"op stuck\"><title>p11 read \xe2\x86\x92 2 (ok, events "
           "84..85)</title>");
    has(x, "<title>p6 cas [1,1] (info, events 71..78)</title>");
    has(x, "<title>p14 write 4 (info, events 80..89)</title>");
    has(x, "<title>p2 write 0 (ok, events 83..86)</title>");
    has(x, "when it had to take effect: [1]</text>");
    /* the shrunk history: p0's write 2 and cas, p19's write 4, p10's read */
    has(x, "id=\"shrunk-linearizable\"");
    has(x, "<title>p10 read \xe2\x86\x92 1 (ok, events 168..169)</title>");
    has(x, "<title>p19 write 4 (ok, events 152..155)</title>");
    /* the timeline's jump goes to p11's read: op 42 (its invocation is
     * event 84 of the ops' invocations in order) */
    lacks(x, "\"anomaly\":[]");
    has(x, "<canvas id=\"timeline\"");
    has(x, "<table class=\"quantiles\"");
    has(x, "<a href=\"h.jsonl\">h.jsonl</a>");
    /* self-contained: no URL of anything to fetch */
    lacks(x, "http://www.w3.org/1999");
    lacks(x, "src=\"");
    lacks(x, "https://");
    free(x);
    history_free(h);
}

/* One result that decided both guarantees gets a badge for each, never
 * "sequential: invalid" beside "but sequentially consistent". */
static void test_html_both_in_one_result(void **state)
{
    (void)state;
    const char *shared = getenv("SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/corpus/etcd/etcd_000.jsonl",
             shared ? shared : "../shared");
    history *h = NULL;
    assert_int_equal(history_read_file(path, HISTORY_FORMAT_JSONL, &h, NULL),
                     FL_OK);
    static const char *const sc_only[] = {"sequential", NULL};
    char *x = html_of_mode(h, sc_only, CHECKER_CONSISTENCY_BOTH);
    has(x, "<b>linearizable</b> <span class=\"badge invalid\">invalid</span> "
           "<b>sequential</b> <span class=\"badge valid\">valid</span> "
           "not linearizable, but sequentially consistent");
    lacks(x, "<b>sequential</b> <span class=\"badge invalid\">");
    free(x);
    history_free(h);
}

static void append(history *h, int64_t p, history_type t, const char *f,
                   json_t *key, json_t *value, json_t *error)
{
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                        .process = p, .type = t, .f = f, .key = key,
                        .value = value, .error = error};
    fl_error err = {0};
    if (history_append(h, &in, &err) != FL_OK)
        fail_msg("%s", err.msg);
    json_decref(key);
    json_decref(value);
    json_decref(error);
}

/* A stale read on a key named like markup, values of markup, an error of
 * markup: nothing of it may reach the page unescaped. */
static void test_html_escaping(void **state)
{
    (void)state;
    history *h = history_new();
    const char *key = "k<&\"'>";
    append(h, 0, HISTORY_INVOKE, "write", json_string(key),
           json_string("</script><i>"), NULL);
    append(h, 0, HISTORY_OK, "write", json_string(key),
           json_string("</script><i>"), NULL);
    append(h, 0, HISTORY_INVOKE, "write", json_string(key),
           json_string("&amp'\""), NULL);
    append(h, 0, HISTORY_OK, "write", json_string(key),
           json_string("&amp'\""), NULL);
    append(h, 1, HISTORY_INVOKE, "read", json_string(key), NULL, NULL);
    append(h, 1, HISTORY_OK, "read", json_string(key),
           json_string("</script><i>"), NULL);
    append(h, 2, HISTORY_INVOKE, "write", json_string(key), json_string("x"),
           NULL);
    append(h, 2, HISTORY_FAIL, "write", json_string(key), json_string("x"),
           json_string("<err & \"quote\">"));
    char *x = html_of(h, both);
    has(x, "not linearizable, but sequentially consistent: a read on key "
           "&quot;k&lt;&amp;\\&quot;&#39;&gt;&quot; returned &quot;&lt;/script"
           "&gt;&lt;i&gt;&quot; after the write of &quot;&amp;amp&#39;\\&quot;"
           "&quot; (p0) had completed");
    lacks(x, "<i>");
    lacks(x, "k<&");
    lacks(x, "<err");
    /* one </script> per script element (the data's and the code's) */
    const char *p = x;
    int closes = 0;
    while ((p = strstr(p, "</script>")) != NULL) {
        closes++;
        p++;
    }
    assert_int_equal(closes, 2);
    /* the data carries the key as JSON with the markup as \\u escapes */
    has(x, "\"keys\":[\"k\\u003c\\u0026\\\"'\\u003e\"]");
    free(x);
    history_free(h);
}

/* Not even sequentially consistent: each process reads the other's write
 * after its own, so no order keeps both program orders. The sequential
 * figure shows the chains: p1's read of 1 cannot be placed. */
static void test_html_non_sequential(void **state)
{
    (void)state;
    history *h = history_new();
    append(h, 0, HISTORY_INVOKE, "write", json_string("x"), json_integer(1), NULL);
    append(h, 0, HISTORY_OK, "write", json_string("x"), json_integer(1), NULL);
    append(h, 1, HISTORY_INVOKE, "write", json_string("x"), json_integer(2), NULL);
    append(h, 1, HISTORY_OK, "write", json_string("x"), json_integer(2), NULL);
    append(h, 0, HISTORY_INVOKE, "read", json_string("x"), NULL, NULL);
    append(h, 0, HISTORY_OK, "read", json_string("x"), json_integer(2), NULL);
    append(h, 1, HISTORY_INVOKE, "read", json_string("x"), NULL, NULL);
    append(h, 1, HISTORY_OK, "read", json_string("x"), json_integer(1), NULL);
    char *x = html_of(h, both);
    has(x, "not sequentially consistent (so not linearizable either)");
    has(x, "<svg class=\"counterexample\" id=\"ce-sequential\"");
    const char *seq = strstr(x, "id=\"ce-sequential\"");
    if (seq == NULL || strstr(seq, "<g class=\"op stuck\"><title>p1 read key "
                              "&quot;x&quot; \xe2\x86\x92 1 (ok, events "
                              "6..7)</title>") == NULL)
        fail_msg("the sequential figure does not mark p1's read:\n%s", x);
    /* values are unique: checkers/sc_graph's cycle, in words */
    has(x, "no order of the writes satisfies all of these");
    has(x, "must come before the next, the last before the first");
    free(x);
    history_free(h);
}

/* The page names no checker: a result whose checker this build lacks
 * still gets its badge and verdict, and no figure. */
static void test_html_any_checker(void **state)
{
    (void)state;
    json_t *results = json_loads(
        "{\"valid\": false, \"checkers\": {\"bank\": {\"valid\": false, "
        "\"counterexample\": {\"op\": {\"process\": 1}}}}}", 0, NULL);
    assert_non_null(results);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_html_input in = {.title = "t", .results = results};
    fl_error err = {0};
    assert_int_equal(report_html(&in, f, &err), FL_OK);
    fclose(f);
    has(buf, "<li class=\"invalid\"><b>bank</b> <span class=\"badge invalid\">"
             "invalid</span> invalid</li>");
    lacks(buf, "<svg class=\"counterexample\"");
    free(buf);
    json_decref(results);
}

/* elle's panel: its verdict words, and each cycle drawn from the stored
 * txns and edges with its steps escaped; a string slipped into the edges
 * draws nothing. */
static void test_html_elle(void **state)
{
    (void)state;
    history *h;
    fl_error err = {0};
    assert_int_equal(history_read_file("tests/data/elle/write-skew.edn",
                                       HISTORY_FORMAT_EDN, &h, &err), FL_OK);
    static const char *const elle[] = {"elle", NULL};
    char *buf = html_of(h, elle);
    has(buf, "weakest anomaly G2-item; rules out strict-serializable, "
             "serializable, repeatable-read");
    has(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"elle-cycle\"");
    has(buf, ">rw</text>");
    has(buf, "T0 read k1 = [], missing 1, which T1 appended next (rw);");
    free(buf);
    history_free(h);
    json_t *results = json_loads(
        "{\"valid\": false, \"checkers\": {\"elle\": {\"valid\": false, "
        "\"not\": [\"serializable\"], \"weakest_anomaly\": \"G0\", "
        "\"anomalies\": {\"G0\": [{\"txns\": [1, 2], \"edges\": "
        "[\"ww\", \"<script>\"], \"explanation\": \"<b>x</b>\"}]}}}}",
        0, NULL);
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_html_input in = {.title = "t", .results = results};
    assert_int_equal(report_html(&in, f, &err), FL_OK);
    fclose(f);
    lacks(buf, "<script>\"");
    lacks(buf, "<b>x</b>");
    has(buf, "&lt;b&gt;x&lt;/b&gt;");
    has(buf, ">ww</text>");
    free(buf);
    json_decref(results);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_elle),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_linearizable_invalid),
        cmocka_unit_test(test_set_lost),
        cmocka_unit_test(test_sc_stale_read),
        cmocka_unit_test(test_unknown_is_an_error),
        cmocka_unit_test(test_xml_escaping),
        cmocka_unit_test(test_write_dir_needs_results),
        cmocka_unit_test(test_html_nemesis_periods_from_test_json),
        cmocka_unit_test(test_html_overlapping_periods),
        cmocka_unit_test(test_html_corpus_invalid),
        cmocka_unit_test(test_html_both_in_one_result),
        cmocka_unit_test(test_html_escaping),
        cmocka_unit_test(test_html_non_sequential),
        cmocka_unit_test(test_html_any_checker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
