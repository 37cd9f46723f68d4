/*
 * Crash detection's pure parts and the shell it runs on the nodes:
 * the crash watcher's long poll (run here through /bin/sh against a real
 * exit file), the words for an exit status, the crash checker (history
 * in, verdict and words out; --allow-crashes), the log scan, and the
 * phase's grouping of what it waits for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkers/checker.h"
#include "checkers/crash.h"
#include "harness/crash_logs.h"
#include "run/crashwatch.h"
#include "run/phase.h"

/* Run cmd through /bin/sh; its stdout into out. */
static void sh(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    pclose(p);
}

static void test_watch_cmd_sees_the_exit_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/fl-crashwatch.XXXXXX", file[64], out[256];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/db.exit", dir);
    /* No file: the poll waiting for an exit returns "running" after its
     * round; the one waiting for the file to go returns at once. */
    char *wait_exit = crashwatch_cmd(file, false);
    char *wait_gone = crashwatch_cmd(file, true);
    assert_non_null(wait_exit);
    assert_non_null(wait_gone);
    sh(wait_gone, out, sizeof out);
    assert_string_equal(out, "running\n");
    /* The wrapper wrote 137 (killed by signal 9): seen, with the status. */
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("137\n", f);
    fclose(f);
    sh(wait_exit, out, sizeof out);
    assert_string_equal(out, "exited 137\n");
    unlink(file);
    rmdir(dir);
    free(wait_exit);
    free(wait_gone);
}

static void test_watch_words_for_a_status(void **state)
{
    (void)state;
    char how[96];
    crashwatch_how("137", how, sizeof how);
    assert_string_equal(how, "killed by signal 9 (KILL)");
    crashwatch_how("139", how, sizeof how);
    assert_string_equal(how, "killed by signal 11 (SEGV)");
    crashwatch_how("134", how, sizeof how);
    assert_string_equal(how, "killed by signal 6 (ABRT)");
    crashwatch_how("1", how, sizeof how);
    assert_string_equal(how, "exited with code 1");
    crashwatch_how("0", how, sizeof how);
    assert_string_equal(how, "exited with code 0");
    crashwatch_how("", how, sizeof how);
    assert_string_equal(how, "exited");
    crashwatch_how("garbage", how, sizeof how);
    assert_string_equal(how, "exited");
}

/* A history with a client op and, when crashed, the runner's event. */
static history *history_with(bool crashed)
{
    history *h = history_new();
    fl_error err = {0};
    json_t *k = json_integer(1), *v = json_integer(5);
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = 1, .process = 0,
                        .type = HISTORY_INVOKE, .f = "write", .key = k,
                        .value = v};
    assert_int_equal(history_append(h, &in, &err), FL_OK);
    in.type = HISTORY_OK;
    in.time = 2;
    assert_int_equal(history_append(h, &in, &err), FL_OK);
    if (crashed) {
        json_t *c = json_pack("{s:s,s:s,s:f}", "node", "n3", "how",
                              "killed by signal 9 (KILL)", "at_s", 13.24);
        history_input ce = {.index = HISTORY_AUTO_INDEX, .time = 3,
                            .process = HISTORY_NEMESIS, .type = HISTORY_INFO,
                            .f = "crashed", .value = c};
        assert_int_equal(history_append(h, &ce, &err), FL_OK);
        json_decref(c);
    }
    json_decref(k);
    json_decref(v);
    return h;
}

static char *explained(const json_t *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(crash_explain_json(res, f), FL_OK);
    fclose(f);
    return buf;
}

static void test_checker_crash_is_invalid(void **state)
{
    (void)state;
    history *h = history_with(true);
    json_t *crashes = crash_events(h);
    assert_int_equal(json_array_size(crashes), 1);
    checker_verdict v;
    json_t *res = crash_result(crashes, NULL, "raftkv", false, &v);
    assert_int_equal(v, CHECKER_INVALID);
    assert_true(json_is_false(json_object_get(res, "valid")));
    char *words = explained(res);
    assert_string_equal(words, "database crashed: n3's raftkv killed by "
                        "signal 9 (KILL) at 13.2 s, not by the nemesis\n");
    free(words);
    json_decref(res);
    /* --allow-crashes: valid, with a warning that says why. */
    res = crash_result(crashes, NULL, "raftkv", true, &v);
    assert_int_equal(v, CHECKER_VALID);
    assert_non_null(json_object_get(res, "warning"));
    json_decref(res);
    json_decref(crashes);
    /* Through the registry, on the history alone. */
    const checker *c;
    checker_result *r;
    checker_options opt;
    fl_error err = {0};
    checker_options_init(&opt);
    assert_int_equal(checker_find("crash", &c, &err), FL_OK);
    assert_int_equal(checker_check(c, h, &opt, &r, &err), FL_OK);
    assert_int_equal(checker_result_verdict(r), CHECKER_INVALID);
    checker_result_free(r);
    history_free(h);
}

static void test_checker_no_crash_is_valid(void **state)
{
    (void)state;
    history *h = history_with(false);
    json_t *crashes = crash_events(h);
    json_t *lines = json_array();
    checker_verdict v;
    json_t *res = crash_result(crashes, lines, "raftkv", false, &v);
    assert_int_equal(v, CHECKER_VALID);
    assert_null(json_object_get(res, "warning"));
    json_decref(res);
    /* A log line alone makes it invalid. */
    json_array_append_new(lines, json_pack("{s:s,s:s,s:i,s:s,s:s}", "node",
                          "n2", "file", "raftkv.log", "line", 7, "text",
                          "fatal: disk full", "pattern", "fatal:"));
    res = crash_result(crashes, lines, "raftkv", false, &v);
    assert_int_equal(v, CHECKER_INVALID);
    char *words = explained(res);
    assert_string_equal(words, "log lines matching a crash pattern:\n"
                        "  n2 raftkv.log:7: fatal: disk full\n");
    free(words);
    json_decref(res);
    json_decref(lines);
    json_decref(crashes);
    history_free(h);
}

static void test_log_scan_finds_patterns(void **state)
{
    (void)state;
    const char text[] = "started\nleader elected\npanic: runtime error: index "
                        "out of range\nbye\nAssertion `x' failed\n";
    FILE *in = fmemopen((void *)text, sizeof text - 1, "r");
    assert_non_null(in);
    json_t *pats = json_pack("[s,s]", "panic:", "Assertion");
    json_t *lines = json_array();
    fl_error err = {0};
    assert_int_equal(crash_logs_scan_file(in, "n4", "etcd.log", pats, lines,
                                          &err), FL_OK);
    fclose(in);
    assert_int_equal(json_array_size(lines), 2);
    const json_t *l0 = json_array_get(lines, 0), *l1 = json_array_get(lines, 1);
    assert_int_equal(json_integer_value(json_object_get(l0, "line")), 3);
    assert_string_equal(json_string_value(json_object_get(l0, "pattern")),
                        "panic:");
    assert_int_equal(json_integer_value(json_object_get(l1, "line")), 5);
    assert_string_equal(json_string_value(json_object_get(l1, "node")), "n4");
    json_decref(lines);
    json_decref(pats);
}

static void no_log(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

static void test_phase_groups_waits_by_what(void **state)
{
    (void)state;
    static const char *const names[] = {"n1", "n2", "n3"};
    phase *p;
    fl_error err = {0};
    char buf[256];
    assert_int_equal(phase_begin("set-up", 0, 3, names, no_log, NULL, &p,
                                 &err), FL_OK);
    phase_awaited(p, buf, sizeof buf);
    assert_string_equal(buf, "");
    phase_wait(p, 0, "raftkv to serve");
    phase_wait(p, 2, "raftkv to serve");
    phase_wait(p, 1, "raftkv to be started");
    phase_wait(p, PHASE_ALL, "a leader");
    phase_awaited(p, buf, sizeof buf);
    assert_string_equal(buf, "raftkv to serve on n1, n3; raftkv to be "
                        "started on n2; a leader");
    /* Done waiting: the last wait is still what an error names. */
    for (size_t i = 0; i < 3; i++)
        phase_wait(p, i, NULL);
    phase_wait(p, PHASE_ALL, NULL);
    phase_awaited(p, buf, sizeof buf);
    assert_string_equal(buf, "raftkv to serve on n1, n3; raftkv to be "
                        "started on n2; a leader");
    assert_false(phase_overdue(p));
    phase_end(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_cmd_sees_the_exit_file),
        cmocka_unit_test(test_watch_words_for_a_status),
        cmocka_unit_test(test_checker_crash_is_invalid),
        cmocka_unit_test(test_checker_no_crash_is_valid),
        cmocka_unit_test(test_log_scan_finds_patterns),
        cmocka_unit_test(test_phase_groups_waits_by_what),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
