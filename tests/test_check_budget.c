/*
 * The checker's memory limit is hard (base/alloc.h's accounting): a hard
 * generated history checked by `faultline check` under a small limit ends
 * "unknown" for the memory limit with the child's peak RSS (ru_maxrss)
 * within the limit plus the slack; in this process too it ends "unknown";
 * real histories still check as before under the default limit. Memory is
 * measured, never time.
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
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fl_error.h"
#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "history/history.h"
#include "workloads/histgen.h"

#define LIMIT_MB 64
/* What the process holds beyond the counted bytes: the program and its
 * libraries, thread stacks, libc's buffers, allocator rounding. */
#define SLACK_MB 24
#define FAULTLINE "build/faultline" /* release: ASan's quarantine and shadow
                                     * would be measured too */

/* One key, 50 processes, 15% info: the search space explodes. (Its values
 * are unique, which checkers/unique_register decides at once: these tests
 * are of the search's budget, so they turn that off.) */
static history *hard_history(void)
{
    histgen_options g = {.ops = 1000, .keys = 1, .processes = 50,
                         .info_rate = 0.15, .seed = 7};
    history *h = NULL;
    fl_error err = {0};
    if (histgen_generate(&g, &h, &err) != FL_OK)
        fail_msg("%s", err.msg);
    return h;
}

/* Run FAULTLINE with args; its exit status, stdout (into out) and peak
 * RSS in KB (getrusage of exactly that child). */
static int run_cli(char *const argv[], char *out, size_t outsz, long *peak_kb)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv(FAULTLINE, argv);
        _exit(127);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < outsz && (n = read(fd[0], out + got, outsz - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    *peak_kb = ru.ru_maxrss;
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_cli_peak_rss_within_limit(void **state)
{
    (void)state;
    char path[] = "/tmp/fl-budget-XXXXXX.jsonl";
    int fd = mkstemps(path, 6);
    assert_true(fd >= 0);
    close(fd);
    history *h = hard_history();
    fl_error err = {0};
    assert_int_equal(history_write_file(h, path, HISTORY_FORMAT_JSONL, &err),
                     FL_OK);
    history_free(h);
    char limit[16], out[8192];
    snprintf(limit, sizeof limit, "%d", LIMIT_MB);
    char *argv[] = {"faultline", "check", "--memory-limit", limit,
                    "--no-shrink", "--no-fast-path", path, NULL};
    long peak_kb = 0;
    int rc = run_cli(argv, out, sizeof out, &peak_kb);
    unlink(path);
    print_message("faultline check --memory-limit %d: peak RSS %ld MB\n",
                  LIMIT_MB, peak_kb >> 10);
    assert_int_equal(rc, 2); /* unknown */
    assert_non_null(strstr(out, "\"unknown\""));
    assert_non_null(strstr(out, "memory limit"));
    assert_true(peak_kb > 0);
    assert_true(peak_kb <= (LIMIT_MB + SLACK_MB) * 1024L);
}

/* The same in this process, under ASan: every allocation that fails for
 * the limit inside the search ends in "unknown", with no leak. */
static void test_hard_history_unknown(void **state)
{
    (void)state;
    history *h = hard_history();
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.memory_limit_mb = 16;
    opt.no_fast_path = true;
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
    assert_int_equal(lin_result_verdict(r), CHECKER_UNKNOWN);
    json_t *res = lin_result_to_json(r, h);
    json_t *keys = json_object_get(res, "per_key"), *k;
    const char *name;
    bool memory = false;
    json_object_foreach(keys, name, k) {
        const char *why = json_string_value(json_object_get(k, "reason"));
        memory |= why != NULL && strstr(why, "memory limit") != NULL;
    }
    assert_true(memory);
    const char *top = json_string_value(json_object_get(res, "reason"));
    assert_non_null(top);
    assert_non_null(strstr(top, "key 0: memory limit"));
    json_decref(res);
    lin_result_free(r);
    history_free(h);
    assert_int_equal(fl_alloc_limit(), 0); /* the check put it back */
}

/* The default limit changes no verdict that fits in memory. */
static void test_default_limit_keeps_verdicts(void **state)
{
    (void)state;
    static const struct { const char *path; checker_verdict want; } runs[] = {
        {"tests/data/runs/stale-read-1.jsonl", CHECKER_INVALID},
        {"tests/data/runs/early-ack-1.jsonl", CHECKER_INVALID},
    };
    histgen_options g = {.ops = 2000, .keys = 10, .processes = 5,
                         .info_rate = 0.15, .seed = 3};
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.memory_limit_mb = fl_alloc_default_limit() >> 20;
    opt.shrink = false;
    fl_error err = {0};
    lin_result *r = NULL;
    history *h = NULL;
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        if (history_read_file(runs[i].path, HISTORY_FORMAT_UNKNOWN, &h,
                              &err) != FL_OK)
            fail_msg("%s", err.msg);
        assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
        assert_int_equal(lin_result_verdict(r), runs[i].want);
        lin_result_free(r);
        history_free(h);
    }
    assert_int_equal(histgen_generate(&g, &h, &err), FL_OK);
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
    assert_int_equal(lin_result_verdict(r), CHECKER_VALID);
    lin_result_free(r);
    history_free(h);
    assert_int_equal(fl_alloc_limit(), 0);

    /* and `faultline check` with its default limit */
    char out[1 << 16];
    long peak_kb = 0;
    char *argv[] = {"faultline", "check", "--no-shrink",
                    "tests/data/runs/stale-read-1.jsonl", NULL};
    assert_int_equal(run_cli(argv, out, sizeof out, &peak_kb), 1); /* invalid */
}

/* The accounting itself: a block past the limit fails, freeing gives its
 * bytes back. */
static void test_limit_refuses_and_returns(void **state)
{
    (void)state;
    size_t outer = fl_alloc_set_limit(0);
    size_t base = fl_alloc_in_use();
    void *a = fl_malloc(1 << 20);
    assert_non_null(a);
    assert_true(fl_alloc_in_use() >= base + (1 << 20));
    fl_alloc_set_limit(fl_alloc_in_use() + (1 << 19));
    assert_null(fl_malloc(1 << 20));
    assert_null(fl_calloc(1 << 10, 1 << 10));
    void *b = fl_realloc(a, 2 << 20);
    assert_null(b);               /* a stays valid */
    fl_free(a);
    assert_non_null(a = fl_malloc(1 << 20)); /* the freed bytes came back */
    fl_free(a);
    assert_true(fl_alloc_in_use() <= base + 4096);
    fl_alloc_set_limit(outer);
    assert_true(fl_alloc_default_limit() > 0);
}

/* A scope narrows the limit to what it was given, never widens a tighter
 * outer one, and puts the outer one back. */
static void test_scope_nests_within_outer(void **state)
{
    (void)state;
    size_t outer = fl_alloc_set_limit(0);
    fl_alloc_scope none = fl_alloc_scope_begin(0);
    assert_false(none.active);
    assert_int_equal(fl_alloc_limit(), 0);
    fl_alloc_scope wide = fl_alloc_scope_begin((size_t)64 << 20);
    size_t wide_limit = fl_alloc_limit();
    assert_true(wide_limit >= fl_alloc_in_use() + ((size_t)63 << 20));
    fl_alloc_scope narrow = fl_alloc_scope_begin((size_t)1 << 20);
    assert_true(fl_alloc_limit() < wide_limit);
    assert_null(fl_malloc((size_t)2 << 20));
    fl_alloc_scope inner = fl_alloc_scope_begin((size_t)1 << 30);
    assert_true(fl_alloc_limit() <= fl_alloc_in_use() + ((size_t)1 << 20));
    fl_alloc_scope_end(inner);
    fl_alloc_scope_end(narrow);
    assert_int_equal(fl_alloc_limit(), wide_limit);
    void *p = fl_malloc((size_t)2 << 20);
    assert_non_null(p);
    fl_free(p);
    fl_alloc_scope_end(wide);
    fl_alloc_scope_end(none);
    assert_int_equal(fl_alloc_limit(), 0);
    fl_alloc_set_limit(outer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_refuses_and_returns),
        cmocka_unit_test(test_scope_nests_within_outer),
        cmocka_unit_test(test_hard_history_unknown),
        cmocka_unit_test(test_cli_peak_rss_within_limit),
        cmocka_unit_test(test_default_limit_keeps_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
