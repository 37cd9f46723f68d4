/*
 * html.c — report.html (report/html.h): the header and verdicts in words,
 * the quantile table, the links, and the operations as number columns for
 * the page's script. Each checker draws its own verdict and figures
 * (checker.html_verdict, html_panel); this file names none of them.
 */
#include "report/html.h"
#include "base/alloc.h"
#include "checkers/checker.h"
#include "report/html_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* report/report.css and report/report.js, NUL-terminated (html_assets.c). */
extern const char report_asset_css[];
extern const char report_asset_js[];

/* ---- Verdicts in words ------------------------------------------------------------ */

static char *explanation(const char *name, const json_t *res);

#define OWN_WORDS_MAX 240 /* a sentence, not the whole explanation */

/* A checker without a panel of its own: the start of its explanation,
 * its lines run together. */
static void own_words(FILE *out, const char *name, const json_t *res,
                      const char *v)
{
    char *words = explanation(name, res);
    panel_text(out, v);
    if (words && *words) {
        size_t n = 0;
        for (char *p = words; *p; p++) {
            if (*p == '\n' || *p == ' ') {
                if (n > 0 && words[n - 1] != ' ')
                    words[n++] = ' ';
            } else {
                words[n++] = *p;
            }
        }
        while (n > 0 && words[n - 1] == ' ')
            n--;
        bool cut = n > OWN_WORDS_MAX;
        words[cut ? OWN_WORDS_MAX : n] = '\0';
        fputs(": ", out);
        panel_text(out, words);
        if (cut)
            fputs("\xe2\x80\xa6", out); /* … */
    }
    free(words);
}

/* checker.explain_json's words for res; NULL if it has none (free()). */
static char *explanation(const char *name, const json_t *res)
{
    const checker *c;
    if (checker_find(name, &c, NULL) != FL_OK || c->explain_json == NULL)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    c->explain_json(res, f);
    fclose(f);
    if (buf && *buf == '\0') {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* ---- Header ------------------------------------------------------------------------- */

static void row(FILE *out, const char *name, const char *value)
{
    fprintf(out, "<tr><th>%s</th><td>", name);
    panel_text(out, value ? value : "-");
    fputs("</td></tr>\n", out);
}

static void facts(FILE *out, const report_html_input *in, const html_run *r)
{
    const json_t *t = in->test, *res = in->results;
    char buf[256];
    fputs("<table class=\"facts\">\n", out);
    row(out, "target", json_string_value(json_object_get(t, "target")));
    row(out, "workload", json_string_value(json_object_get(res, "workload"))
                             ?: json_string_value(json_object_get(t, "workload")));
    row(out, "nemesis", json_string_value(json_object_get(t, "nemesis")));
    if (r->h && r->timed)
        snprintf(buf, sizeof buf, "%.2f s recorded", (double)r->span / 1e6);
    else
        snprintf(buf, sizeof buf, "%lld events (no times recorded)",
                 (long long)(r->h ? history_len(r->h) : 0));
    if (json_is_number(json_object_get(t, "time_limit")))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
                 " (time limit %.0f s)",
                 json_number_value(json_object_get(t, "time_limit")));
    row(out, "duration", buf);
    row(out, "run ended", json_string_value(json_object_get(res, "ended"))
                              ?: json_string_value(json_object_get(t, "ended")));
    const json_t *seed = json_object_get(t, "seed");
    if (json_is_integer(seed)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(seed));
        row(out, "seed", buf);
    }
    fputs("</table>\n", out);
}

/* Operations by f and how they ended. */
static void ops_by_type(FILE *out, const html_run *r)
{
    if (r->h == NULL)
        return;
    size_t nf = history_name_count(r->h);
    size_t (*count)[3] = fl_calloc(nf + 1, sizeof *count);
    if (count == NULL)
        return;
    size_t total[3] = {0};
    for (size_t i = 0; i < r->n; i++) {
        count[r->ops[i].f][r->ops[i].type]++;
        total[r->ops[i].type]++;
    }
    fputs("<table class=\"ops\"><tr><th>operation</th><th>ok</th>"
          "<th>fail</th><th>info</th></tr>\n", out);
    for (uint32_t f = 0; f < nf; f++) {
        if (count[f][0] + count[f][1] + count[f][2] == 0)
            continue;
        fputs("<tr><td>", out);
        panel_text(out, history_name(r->h, f));
        fprintf(out, "</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n",
                count[f][0], count[f][1], count[f][2]);
    }
    fprintf(out, "<tr class=\"total\"><td>all %zu</td><td>%zu</td><td>%zu"
            "</td><td>%zu</td></tr></table>\n", r->n, total[0], total[1],
            total[2]);
    fl_free(count);
}

static int64_t tick_of_index(const void *page, int64_t idx)
{
    return html_tick_of_index(page, idx);
}

/* The checker that wrote a result, by its name in results.json; NULL for
 * one this build does not have (then only what every result says). */
static const checker *checker_named(const char *name)
{
    const checker *c = NULL;
    return checker_find(name, &c, NULL) == FL_OK ? c : NULL;
}

/* One checker's verdict: its own panel's badges and words, or a badge
 * and the start of its explanation. */
static void verdict_line(FILE *out, const char *name, const json_t *res,
                         const checker_panel_env *env)
{
    const checker *c = checker_named(name);
    if (c != NULL && c->html_verdict != NULL) {
        c->html_verdict(out, name, res, env);
        return;
    }
    const char *v = panel_verdict_of(json_object_get(res, "valid"));
    panel_badge(out, name, v);
    own_words(out, name, res, v);
}

static void verdicts(FILE *out, const html_run *r, const json_t *results)
{
    const char *name;
    const json_t *res;
    fputs("<section id=\"verdicts\"><h2>Verdicts</h2>\n<ul class=\"verdicts\">\n",
          out);
    checker_panel_env env = {results, tick_of_index, r};
    json_object_foreach((json_t *)json_object_get(results, "checkers"), name,
                        res) {
        const char *v = panel_verdict_of(json_object_get(res, "valid"));
        fprintf(out, "<li class=\"%s\">", v);
        verdict_line(out, name, res, &env);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
    json_object_foreach((json_t *)json_object_get(results, "checkers"), name,
                        res) {
        const checker *c = checker_named(name);
        if (c != NULL && c->html_panel != NULL)
            c->html_panel(out, name, res, &env);
        char *words = explanation(name, res);
        if (words) {
            fputs("<details><summary>", out);
            panel_text(out, name);
            fputs(": the explanation in full</summary><pre>", out);
            panel_text(out, words);
            fputs("</pre></details>\n", out);
        }
        free(words);
    }
    fputs("</section>\n", out);
}

/* ---- Latency quantiles ------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void fmt_latency(char *buf, size_t size, const html_run *r, int64_t t)
{
    if (r->timed)
        snprintf(buf, size, "%.3f ms", (double)t / 1000.0);
    else
        snprintf(buf, size, "%lld ev", (long long)t);
}

/* Of the ok operations, per f: the completed ones' latencies sorted. */
static void quantiles(FILE *out, const html_run *r)
{
    if (r->h == NULL || r->n == 0)
        return;
    static const double q[] = {0.5, 0.9, 0.99, 0.999, 1.0};
    size_t nf = history_name_count(r->h);
    int64_t *lat = fl_malloc(r->n * sizeof *lat);
    if (lat == NULL)
        return;
    fprintf(out, "<table class=\"quantiles\" id=\"quantiles\"><tr><th>"
            "operation (ok)</th><th>count</th><th>p50</th><th>p90</th>"
            "<th>p99</th><th>p99.9</th><th>max</th></tr>\n");
    for (uint32_t f = 0; f < nf; f++) {
        size_t m = 0;
        for (size_t i = 0; i < r->n; i++)
            if (r->ops[i].f == f && r->ops[i].type == HTML_OK)
                lat[m++] = r->ops[i].end - r->ops[i].start;
        if (m == 0)
            continue;
        qsort(lat, m, sizeof *lat, cmp_i64);
        fputs("<tr><td>", out);
        panel_text(out, history_name(r->h, f));
        fprintf(out, "</td><td>%zu</td>", m);
        for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
            char buf[64];
            size_t at = (size_t)(q[k] * (double)(m - 1) + 0.5);
            fmt_latency(buf, sizeof buf, r, lat[at]);
            fprintf(out, "<td>%s</td>", buf);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    fl_free(lat);
}

/* ---- The data for the script ---------------------------------------------------------------- */

/* Decimal digits, without printf's per-call cost (a million ops write
 * six million numbers). */
static void put_int(FILE *out, int64_t v)
{
    char buf[24], *p = buf + sizeof buf;
    bool neg = v < 0;
    uint64_t u = neg ? (uint64_t)-v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        *--p = '-';
    fwrite(p, 1, (size_t)(buf + sizeof buf - p), out);
}

typedef int64_t (*column_fn)(const html_run *r, size_t i);

static int64_t col_start(const html_run *r, size_t i)
{
    return r->ops[i].start - (i ? r->ops[i - 1].start : 0);
}
static int64_t col_lat(const html_run *r, size_t i)
{
    return r->ops[i].end < 0 ? -1 : r->ops[i].end - r->ops[i].start;
}
static int64_t col_lane(const html_run *r, size_t i) { return r->ops[i].lane; }
static int64_t col_type(const html_run *r, size_t i) { return r->ops[i].type; }
static int64_t col_f(const html_run *r, size_t i) { return r->ops[i].f; }
static void column(FILE *out, const char *name, const html_run *r,
                   column_fn fn)
{
    fprintf(out, ",\"%s\":[", name);
    for (size_t i = 0; i < r->n; i++) {
        if (i)
            fputc(',', out);
        put_int(out, fn(r, i));
    }
    fputc(']', out);
}

/* The ops of every counterexample, for the timeline's "jump to anomaly":
 * the invoke_index of each "op" found in results, as op indices. */
static void anomaly_ops(FILE *out, const html_run *r, const json_t *v,
                        bool *first, int depth)
{
    if (depth > 6)
        return;
    const char *k;
    const json_t *x;
    size_t i;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) anomaly_ops(out, r, x, first, depth + 1);
        return;
    }
    json_object_foreach((json_t *)v, k, x) {
        const json_t *inv = json_object_get(x, "invoke_index");
        bool op = strcmp(k, "op") == 0 || strcmp(k, "read") == 0 ||
                  strcmp(k, "newer_write") == 0;
        if (op && json_is_integer(inv)) {
            size_t pos = html_pos_of_index(r, json_integer_value(inv));
            if (pos != SIZE_MAX && r->op_at[pos] != UINT32_MAX) {
                fputs(*first ? "" : ",", out);
                put_int(out, r->op_at[pos]);
                *first = false;
            }
        } else if (json_is_object(x) || json_is_array(x)) {
            anomaly_ops(out, r, x, first, depth + 1);
        }
    }
}

static void fnames_json(FILE *out, const html_run *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < history_name_count(r->h); i++)
        json_array_append_new(a, json_string(history_name(r->h, (uint32_t)i)));
    fputs(",\"fnames\":", out);
    html_json_script(out, a);
    json_decref(a);
}

/* The key column as indices into a "keys" list of the keys used: the
 * history's value ids would make the list as long as its values. */
static void keys_json(FILE *out, const html_run *r)
{
    size_t nv = history_value_count(r->h);
    uint32_t *dense = fl_malloc((nv + 1) * sizeof *dense);
    json_t *keys = json_array();
    fputs(",\"key\":[", out);
    if (dense)
        memset(dense, 0xff, (nv + 1) * sizeof *dense);
    for (size_t i = 0; dense && i < r->n; i++) {
        uint32_t k = r->ops[i].key;
        if (i)
            fputc(',', out);
        if (k == HISTORY_NONE) {
            fputs("-1", out);
            continue;
        }
        if (dense[k] == UINT32_MAX) {
            dense[k] = (uint32_t)json_array_size(keys);
            json_array_append(keys, (json_t *)history_value(r->h, k));
        }
        put_int(out, dense[k]);
    }
    fputs("],\"keys\":", out);
    html_json_script(out, keys);
    json_decref(keys);
    fl_free(dense);
}

static void data(FILE *out, const html_run *r, const json_t *results)
{
    fputs("<script type=\"application/json\" id=\"fl-data\">", out);
    fprintf(out, "{\"timed\":%s,\"span\":", r->timed ? "true" : "false");
    put_int(out, r->span);
    fprintf(out, ",\"n\":%zu", r->n);
    if (r->h) {
        column(out, "start", r, col_start);
        column(out, "lat", r, col_lat);
        column(out, "lane", r, col_lane);
        column(out, "type", r, col_type);
        column(out, "f", r, col_f);
        keys_json(out, r);
        fnames_json(out, r);
    }
    fputs(",\"lanes\":[", out);
    for (size_t i = 0; i < r->nlanes; i++)
        fprintf(out, "%s[%lld,%u]", i ? "," : "", (long long)r->lane_proc[i],
                r->lane_procs[i]);
    fputs("],\"nemesis\":[", out);
    for (size_t i = 0; i < r->nperiods; i++) {
        json_t *l = json_string(r->periods[i].label);
        fprintf(out, "%s[%lld,%lld,", i ? "," : "",
                (long long)r->periods[i].start, (long long)r->periods[i].end);
        html_json_script(out, l);
        fprintf(out, ",%u]", r->periods[i].row);
        json_decref(l);
    }
    fputs("],\"anomaly\":[", out);
    bool first = true;
    if (r->h)
        anomaly_ops(out, r, json_object_get(results, "checkers"), &first, 0);
    fputs("]}</script>\n", out);
}

/* ---- The page -------------------------------------------------------------------------------- */

static void file_link(FILE *out, const char *href)
{
    fputs("<li><a href=\"", out);
    /* Relative paths from the run's own folder; each segment as is but
     * for the characters that would end the attribute or start a query. */
    for (const char *p = href; *p; p++) {
        if (*p == '?' || *p == '#' || *p == '%' || *p == ' ')
            fprintf(out, "%%%02X", (unsigned char)*p);
        else if (*p == '"' || *p == '&' || *p == '<' || *p == '>' || *p == '\'')
            fprintf(out, "&#%d;", *p);
        else
            fputc(*p, out);
    }
    fputs("\">", out);
    panel_text(out, href);
    fputs("</a></li>\n", out);
}

static void links(FILE *out, const report_html_input *in)
{
    fputs("<section id=\"files\"><h2>Files</h2><ul class=\"files\">\n", out);
    if (in->history_href)
        file_link(out, in->history_href);
    if (in->test_href)
        file_link(out, in->test_href);
    for (const char *const *f = in->files; f && *f; f++)
        file_link(out, *f);
    fputs("</ul></section>\n", out);
}

static void head(FILE *out, const report_html_input *in)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
          "img-src data:\">\n<title>faultline: ", out);
    panel_text(out, in->title ? in->title : "report");
    fputs("</title>\n<style>\n", out);
    fputs(report_asset_css, out);
    fputs("</style></head>\n<body>\n", out);
}

int report_html(const report_html_input *in, FILE *out, fl_error *err)
{
    if (!json_is_object(in->results))
        return fl_error_set(err, FL_EUSAGE, "report.html: no results object");
    html_run r;
    if (html_run_build(in->h, json_object_get(in->test, "fault_kinds"),
                       &r) != 0)
        return fl_error_set(err, FL_ENOMEM, "report.html: out of memory");
    const char *v = panel_verdict_of(json_object_get(in->results, "valid"));
    head(out, in);
    fprintf(out, "<header class=\"%s\"><h1><span class=\"badge %s\">%s</span> ",
            v, v, strcmp(v, "valid") == 0 ? "valid" : strcmp(v, "invalid") == 0
                                                        ? "INVALID" : "unknown");
    panel_text(out, in->title ? in->title : "faultline report");
    fputs("</h1>\n", out);
    facts(out, in, &r);
    ops_by_type(out, &r);
    fputs("</header>\n", out);
    verdicts(out, &r, in->results);
    if (r.h) {
        fputs("<section id=\"timeline-section\"><h2>Timeline</h2>\n"
              "<div class=\"controls\"><button id=\"zoom-in\">zoom in</button>"
              "<button id=\"zoom-out\">zoom out</button><button id=\"zoom-all"
              "\">all</button><button id=\"jump-anomaly\">jump to anomaly"
              "</button><span id=\"view-label\"></span></div>\n"
              "<canvas id=\"timeline\" width=\"1200\" height=\"200\"></canvas>"
              "<div id=\"tip\"></div>\n</section>\n"
              "<section id=\"plots\"><h2>Latency</h2><canvas id=\"latency\" "
              "width=\"1200\" height=\"260\"></canvas>\n<h2>Throughput</h2>"
              "<canvas id=\"throughput\" width=\"1200\" height=\"200\"></canvas>"
              "\n<h2>Latency quantiles</h2>\n", out);
        quantiles(out, &r);
        fputs("</section>\n", out);
    }
    links(out, in);
    data(out, &r, in->results);
    fputs("<script>\n", out);
    fputs(report_asset_js, out);
    fputs("</script>\n</body></html>\n", out);
    html_run_free(&r);
    return ferror(out) ? fl_error_set(err, FL_EIO, "report.html: write failed")
                       : FL_OK;
}

/* ---- A bare history's report ----------------------------------------------------------------- */

/* path relative to the folder of from (both as given: relative to the
 * same place, or both absolute); the basename when they share a folder. */
static char *relative_to(const char *from, const char *path)
{
    const char *slash = strrchr(from, '/');
    size_t dl = slash ? (size_t)(slash - from + 1) : 0;
    if (strncmp(path, from, dl) == 0 && !strchr(path + dl, '/'))
        return fl_strdup(path + dl);
    if (path[0] == '/' || dl == 0)
        return fl_strdup(path);
    return NULL; /* different folders, relative: no honest relative link */
}

int report_html_write(const char *out_path, const char *history_path,
                      const history *h, const json_t *results, fl_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return fl_error_set(err, FL_EIO, "%s: %s", tmp, strerror(errno));
    char *href = history_path ? relative_to(out_path, history_path) : NULL;
    const char *title = history_path ? strrchr(history_path, '/') : NULL;
    report_html_input in = {
        .title = title ? title + 1 : history_path, .h = h, .results = results,
        .history_href = href};
    int rc = report_html(&in, f, err);
    fl_free(href);
    if (fclose(f) != 0 && rc == FL_OK)
        rc = fl_error_set(err, FL_EIO, "%s: %s", tmp, strerror(errno));
    if (rc == FL_OK && rename(tmp, out_path) != 0)
        rc = fl_error_set(err, FL_EIO, "%s: %s", out_path, strerror(errno));
    if (rc != FL_OK)
        remove(tmp);
    return rc;
}
