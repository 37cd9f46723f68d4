/*
 * Tests of serve/serve.h: a request path's refusal (`..`, `%2e%2e` in
 * either case, `//etc/passwd`, dotfiles, a decoded NUL, bad escapes), its
 * resolution inside the root (a symlink leading out, a sibling directory
 * whose name has the root's as a prefix), Content-Types, a run's
 * description from its JSON, the run list's order and verdict classes from
 * hand-made run directories in a temp dir, its HTML, directory listings,
 * and the server itself over loopback with libcurl (the run list, a file,
 * a refused path). tests/cli/serve.sh drives `faultline serve` the same
 * way with curl, and stops it with SIGINT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/serve.h"

/* ---- helpers ------------------------------------------------------------------ */

static int remove_entry(const char *p, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* dir/sub made (with parents); its path in out. */
static void make_dir(const char *dir, const char *sub, char *out, size_t cap)
{
    char cmd[PATH_MAX + 32];
    snprintf(out, cap, "%s/%s", dir, sub);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", out);
    assert_int_equal(system(cmd), 0);
}

/* dir/name -> target. */
static void link_in(const char *dir, const char *name, const char *target)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (symlink(target, p) != 0)
        fail_msg("symlink %s -> %s failed", p, target);
}

typedef struct tmp {
    char base[64];      /* the temp dir */
    char root[PATH_MAX]; /* base/results, realpath'd */
} tmp;

static int tmp_setup(void **state)
{
    tmp *t = calloc(1, sizeof *t);
    strcpy(t->base, "/tmp/fl-test-serve.XXXXXX");
    assert_non_null(mkdtemp(t->base));
    char r[PATH_MAX];
    make_dir(t->base, "results", r, sizeof r);
    assert_non_null(realpath(r, t->root));
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    tmp *t = *state;
    rm_rf(t->base);
    free(t);
    return 0;
}

static char *render_runs(const serve_runs *runs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fl_error err = {0};
    assert_int_equal(serve_runs_html(runs, "results", f, &err), FL_OK);
    fclose(f);
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

/* ---- serve_url_path --------------------------------------------------------------- */

static void url_is(const char *url, int want, const char *want_rel)
{
    char rel[PATH_MAX] = "untouched";
    int got = serve_url_path(url, rel, sizeof rel);
    if (got != want)
        fail_msg("%s: status %d, wanted %d", url, got, want);
    if (want_rel && strcmp(rel, want_rel) != 0)
        fail_msg("%s: path \"%s\", wanted \"%s\"", url, rel, want_rel);
}

static void test_url_plain_paths(void **state)
{
    (void)state;
    url_is("/", 200, "");
    url_is("/raftkv-register/20261201T122153/results.json", 200,
           "raftkv-register/20261201T122153/results.json");
    url_is("/t/20261201T122153/nodes/", 200, "t/20261201T122153/nodes");
    url_is("/a%20b/c%2fd", 200, "a b/c/d"); /* decoded once, then checked */
    url_is("/a%252e%252e", 200, "a%2e%2e"); /* never decoded twice */
    url_is("/dots.in.names..ok", 200, "dots.in.names..ok");
}

static void test_url_refuses_climbing(void **state)
{
    (void)state;
    url_is("/..", 403, NULL);
    url_is("/../etc/passwd", 403, NULL);
    url_is("/t/../../etc/passwd", 403, NULL);
    url_is("/t/..", 403, NULL);
    url_is("/%2e%2e/etc/passwd", 403, NULL);
    url_is("/%2E%2e/%2e%2E/etc/passwd", 403, NULL);
    url_is("/t/%2e%2e%2f%2e%2e%2fetc", 403, NULL); /* ../../etc after decoding */
    url_is("/.%2e/etc/passwd", 403, NULL);
    url_is("//etc/passwd", 403, NULL);
    url_is("/%2fetc/passwd", 403, NULL);
    url_is("/t//x", 403, NULL);
    url_is("//", 403, NULL);
    url_is("/./t", 403, NULL);
    url_is("/t/20261201T122153/.recording", 403, NULL);
    url_is("/t/a%00b", 403, NULL);
    url_is("/t/..\\..\\etc", 403, NULL);
}

static void test_url_bad_requests(void **state)
{
    (void)state;
    url_is("etc/passwd", 400, NULL);
    url_is("", 400, NULL);
    url_is("/%zz", 400, NULL);
    url_is("/%2", 400, NULL);
    url_is("/abc%", 400, NULL);
    char rel[8];
    assert_int_equal(serve_url_path("/0123456789", rel, sizeof rel), 414);
}

/* ---- serve_resolve ---------------------------------------------------------------- */

static void resolve_is(const tmp *t, const char *rel, int want,
                       const char *want_suffix)
{
    char out[PATH_MAX] = "";
    int got = serve_resolve(t->root, rel, out, sizeof out);
    if (got != want)
        fail_msg("%s: status %d, wanted %d (%s)", rel, got, want, out);
    if (want_suffix) {
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s%s", t->root, want_suffix);
        assert_string_equal(out, full);
    }
}

static void test_resolve_inside_and_out(void **state)
{
    tmp *t = *state;
    char run[PATH_MAX], sibling[PATH_MAX];
    make_dir(t->root, "t/20261201T120000", run, sizeof run);
    write_file(run, "test.json", "{}");
    make_dir(t->base, "results2", sibling, sizeof sibling);
    write_file(sibling, "secret", "no");
    link_in(run, "out", "/etc");
    link_in(t->root, "sib", "../results2");
    link_in(t->root, "up", "..");
    link_in(t->root, "latest", "t/20261201T120000");

    resolve_is(t, "", 200, "");
    resolve_is(t, "t/20261201T120000/test.json", 200,
               "/t/20261201T120000/test.json");
    resolve_is(t, "latest/test.json", 200, "/t/20261201T120000/test.json");
    resolve_is(t, "t/20261201T120000/missing.json", 404, NULL);
    resolve_is(t, "t/20261201T120000/out/passwd", 403, NULL);
    resolve_is(t, "t/20261201T120000/out", 403, NULL);
    resolve_is(t, "sib/secret", 403, NULL); /* "results2" begins "results" */
    resolve_is(t, "up", 403, NULL);
    resolve_is(t, "up/results2/secret", 403, NULL);
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(serve_content_type("/r/report.html"),
                        "text/html; charset=utf-8");
    assert_string_equal(serve_content_type("REPORT.HTML"),
                        "text/html; charset=utf-8");
    assert_string_equal(serve_content_type("results.json"), "application/json");
    assert_string_equal(serve_content_type("history.jsonl"),
                        "text/plain; charset=utf-8");
    assert_string_equal(serve_content_type("history.edn"),
                        "text/plain; charset=utf-8");
    assert_string_equal(serve_content_type("junit.xml"), "application/xml");
    assert_string_equal(serve_content_type("summary.md"),
                        "text/markdown; charset=utf-8");
    assert_string_equal(serve_content_type("nodes/n1/raftkv.log"),
                        "text/plain; charset=utf-8");
    assert_string_equal(serve_content_type("a.dir/noext"),
                        "application/octet-stream");
    assert_string_equal(serve_content_type("core"), "application/octet-stream");
}

/* ---- the run list ------------------------------------------------------------------ */

static void describe(serve_run *r, const char *test, const char *results)
{
    json_t *t = test ? json_loads(test, 0, NULL) : NULL;
    json_t *res = results ? json_loads(results, 0, NULL) : NULL;
    memset(r, 0, sizeof *r);
    fl_error err = {0};
    assert_int_equal(serve_run_describe(r, t, res, &err), FL_OK);
    json_decref(t);
    json_decref(res);
}

static void run_clear(serve_run *r)
{
    free(r->target);
    free(r->workload);
    free(r->nemesis);
    free(r->ended);
}

static void test_describe_verdicts_and_fields(void **state)
{
    (void)state;
    serve_run r;
    describe(&r, "{\"target\":\"etcd\",\"workload\":\"set\",\"nemesis\":"
                 "\"partition,kill\",\"time_limit\":30,\"ended\":\"completed\"}",
             "{\"valid\":true,\"events\":812,\"workload\":\"register\","
             "\"ended\":\"interrupted (SIGINT at 3.1 s of 30)\",\"checkers\":"
             "{\"linearizable\":{\"ops\":400},\"sequential\":{\"ops\":406}}}");
    assert_int_equal(r.verdict, SERVE_VALID);
    assert_string_equal(r.target, "etcd");
    assert_string_equal(r.workload, "register"); /* results.json's first */
    assert_string_equal(r.nemesis, "partition,kill");
    assert_string_equal(r.ended, "interrupted (SIGINT at 3.1 s of 30)");
    assert_true(r.duration_s == 30);
    assert_int_equal(r.ops, 406);
    assert_int_equal(r.events, 812);
    run_clear(&r);

    describe(&r, NULL, "{\"valid\":false}");
    assert_int_equal(r.verdict, SERVE_INVALID);
    assert_null(r.target);
    assert_int_equal(r.ops, -1);
    assert_true(r.duration_s < 0);
    run_clear(&r);

    describe(&r, NULL, "{\"valid\":\"unknown\"}");
    assert_int_equal(r.verdict, SERVE_UNKNOWN);
    run_clear(&r);

    describe(&r, "{\"workload\":\"set\",\"ended\":\"could not start: x\"}", NULL);
    assert_int_equal(r.verdict, SERVE_NOT_CHECKED);
    assert_string_equal(r.workload, "set");
    assert_string_equal(r.ended, "could not start: x");
    run_clear(&r);
}

/* A run directory under root: test/time with the files given (NULL: no
 * such file). */
static void make_run(const tmp *t, const char *test, const char *time,
                     const char *test_json, const char *results_json)
{
    char sub[PATH_MAX], dir[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%s", test, time);
    make_dir(t->root, sub, dir, sizeof dir);
    if (test_json)
        write_file(dir, "test.json", test_json);
    if (results_json)
        write_file(dir, "results.json", results_json);
}

static void test_scan_orders_newest_first(void **state)
{
    tmp *t = *state;
    make_run(t, "raftkv-register", "20261201T100000", "{\"target\":\"raftkv\"}",
             "{\"valid\":true}");
    make_run(t, "raftkv-register", "20261201T120000", "{\"target\":\"raftkv\"}",
             "{\"valid\":false}");
    make_run(t, "etcd-set", "20261201T110000", "{\"target\":\"etcd\"}",
             "{\"valid\":\"unknown\"}");
    make_run(t, "etcd-set", "20261201T130000", "{\"target\":\"etcd\"}", NULL);
    make_run(t, "zk", "20261201T120000", NULL, "not json at all");
    make_run(t, "zk", "20261130T235959", NULL, "{\"valid\":true}");
    make_run(t, "empty", "20261201T140000", NULL, NULL); /* not a run */
    char p[PATH_MAX], run[PATH_MAX];
    link_in(t->root, "latest", "raftkv-register/20261201T120000");
    make_dir(t->root, "raftkv-register/20261201T120000", run, sizeof run);
    write_file(run, "report.html", "<html></html>");
    make_dir(run, "nodes/n1", p, sizeof p);

    serve_runs *runs;
    fl_error err = {0};
    assert_int_equal(serve_runs_scan(t->root, &runs, &err), FL_OK);
    static const struct {
        const char *test, *time;
        serve_verdict v;
    } want[] = {
        {"etcd-set", "20261201T130000", SERVE_NOT_CHECKED},
        {"raftkv-register", "20261201T120000", SERVE_INVALID},
        {"zk", "20261201T120000", SERVE_NOT_CHECKED}, /* results.json unreadable */
        {"etcd-set", "20261201T110000", SERVE_UNKNOWN},
        {"raftkv-register", "20261201T100000", SERVE_VALID},
        {"zk", "20261130T235959", SERVE_VALID},
    };
    assert_int_equal(runs->n, sizeof want / sizeof *want);
    for (size_t i = 0; i < runs->n; i++) {
        assert_string_equal(runs->run[i].test, want[i].test);
        assert_string_equal(runs->run[i].time, want[i].time);
        assert_int_equal(runs->run[i].verdict, want[i].v);
    }
    assert_int_equal(runs->run[1].files, SERVE_HAS_REPORT | SERVE_HAS_TEST |
                                             SERVE_HAS_RESULTS | SERVE_HAS_NODES);
    assert_int_equal(runs->run[4].files, SERVE_HAS_TEST | SERVE_HAS_RESULTS);

    char *html = render_runs(runs);
    const char *classes[] = {"run not-checked", "run invalid", "run not-checked",
                             "run unknown", "run valid", "run valid"};
    const char *at = html;
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) {
        char want_row[64];
        snprintf(want_row, sizeof want_row, "<tr class=\"%s\">", classes[i]);
        const char *next = strstr(at, want_row);
        if (next == NULL)
            fail_msg("row %zu (%s) not after row %zu in:\n%s", i, classes[i],
                     i - 1, html);
        at = next + 1;
    }
    has(html, "<a href=\"/raftkv-register/20261201T120000/report.html\">");
    has(html, "<a href=\"/raftkv-register/20261201T120000/nodes/\">");
    lacks(html, "/raftkv-register/20261201T100000/report.html");
    lacks(html, "latest");
    lacks(html, "empty");
    free(html);
    serve_runs_free(runs);
}

static void test_html_escapes_names(void **state)
{
    (void)state;
    serve_run r = {.test = "a<b>&\"c", .time = "t 1?#", .verdict = SERVE_VALID,
                   .target = "<script>", .duration_s = -1, .ops = 7,
                   .files = SERVE_HAS_TEST};
    serve_runs runs = {.run = &r, .n = 1};
    char *html = render_runs(&runs);
    has(html, "<td>a&lt;b&gt;&amp;&quot;c</td>");
    has(html, "href=\"/a%3Cb%3E%26%22c/t%201%3F%23/test.json\"");
    has(html, "&lt;script&gt;");
    lacks(html, "<script>");
    has(html, "<td class=\"num\">7</td>");
    free(html);

    serve_runs none = {0};
    html = render_runs(&none);
    has(html, "No runs yet");
    free(html);
}

static void test_listing(void **state)
{
    tmp *t = *state;
    char run[PATH_MAX], p[PATH_MAX];
    make_dir(t->root, "t/20261201T120000", run, sizeof run);
    write_file(run, "test.json", "{}");
    write_file(run, "history.jsonl", "12345");
    write_file(run, ".recording", "");
    make_dir(run, "nodes/n1", p, sizeof p);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fl_error err = {0};
    assert_int_equal(serve_listing_html(run, "/t/20261201T120000/", f, &err),
                     FL_OK);
    fclose(f);
    const char *h = strstr(buf, "href=\"history.jsonl\"");
    const char *n = strstr(buf, "href=\"nodes/\">nodes/</a>");
    const char *tj = strstr(buf, "href=\"test.json\"");
    assert_true(h && n && tj && h < n && n < tj);
    has(buf, "<td class=\"num\">5</td>");
    lacks(buf, ".recording");
    free(buf);

    f = open_memstream(&buf, &len);
    assert_int_equal(serve_listing_html("/nonexistent/x", "/x/", f, &err),
                     FL_ENOINPUT);
    fclose(f);
    free(buf);
}

/* ---- the server over loopback ---------------------------------------------------- */

typedef struct fetched {
    long status;
    char type[128];
    char *body;
    size_t len;
} fetched;

static size_t collect(char *p, size_t size, size_t n, void *cls)
{
    fetched *f = cls;
    char *nb = realloc(f->body, f->len + size * n + 1);
    assert_non_null(nb);
    memcpy(nb + f->len, p, size * n);
    f->body = nb;
    f->len += size * n;
    f->body[f->len] = '\0';
    return size * n;
}

static fetched get(unsigned port, const char *path)
{
    fetched f = {0};
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send `..` as written */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("GET %s: %s", url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f.status);
    char *type = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    snprintf(f.type, sizeof f.type, "%s", type ? type : "");
    curl_easy_cleanup(c);
    return f;
}

static void test_server_over_loopback(void **state)
{
    tmp *t = *state;
    make_run(t, "raftkv-register", "20261201T120000",
             "{\"target\":\"raftkv\",\"workload\":\"register\"}",
             "{\"valid\":false,\"workload\":\"register\"}");
    write_file(t->base, "secret.txt", "do not serve");

    serve_server *s;
    fl_error err = {0};
    serve_config cfg = {.results = t->root, .port = 0};
    assert_int_equal(serve_start(&cfg, &s, &err), FL_OK);
    unsigned port = serve_port(s);
    assert_true(port > 0);

    fetched f = get(port, "/");
    assert_int_equal(f.status, 200);
    assert_string_equal(f.type, "text/html; charset=utf-8");
    has(f.body, "<tr class=\"run invalid\">");
    free(f.body);

    f = get(port, "/raftkv-register/20261201T120000/results.json");
    assert_int_equal(f.status, 200);
    assert_string_equal(f.type, "application/json");
    assert_string_equal(f.body, "{\"valid\":false,\"workload\":\"register\"}");
    free(f.body);

    const char *refused[] = {"/../secret.txt", "/%2e%2e/secret.txt",
                             "/raftkv-register/..%2f..%2fsecret.txt"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        f = get(port, refused[i]);
        if (f.status != 403)
            fail_msg("%s: %ld, wanted 403", refused[i], f.status);
        lacks(f.body ? f.body : "", "do not serve");
        free(f.body);
    }
    serve_stop(s);
}

static void test_server_start_errors(void **state)
{
    tmp *t = *state;
    serve_server *s = NULL;
    fl_error err = {0};
    serve_config bad_bind = {.results = t->root, .bind = "localhost"};
    assert_int_equal(serve_start(&bad_bind, &s, &err), FL_EUSAGE);
    has(err.msg, "localhost");
    serve_config missing = {.results = "/nonexistent/results"};
    assert_int_equal(serve_start(&missing, &s, &err), FL_ENOINPUT);
    has(err.msg, "/nonexistent/results");
    assert_null(s);
    serve_stop(NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_plain_paths),
        cmocka_unit_test(test_url_refuses_climbing),
        cmocka_unit_test(test_url_bad_requests),
        cmocka_unit_test_setup_teardown(test_resolve_inside_and_out, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_describe_verdicts_and_fields),
        cmocka_unit_test_setup_teardown(test_scan_orders_newest_first,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test(test_html_escapes_names),
        cmocka_unit_test_setup_teardown(test_listing, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_server_over_loopback, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_server_start_errors, tmp_setup,
                                        tmp_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
