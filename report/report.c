/*
 * report.c — junit.xml and summary.md from a run's results.json. The words
 * are the checkers' own (checker.explain_json), so a CI page says exactly
 * what `faultline check --explain` says.
 */
#include "report/report.h"
#include "base/alloc.h"
#include "checkers/checker.h"
#include "report/html.h"

#include <dirent.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUMMARY_LINES 12 /* of the first anomaly's explanation */

/* ---- Reading results.json ------------------------------------------------------ */

static const char *verdict_word(const json_t *valid)
{
    if (json_is_true(valid))
        return "valid";
    return json_is_false(valid) ? "invalid" : "unknown";
}

static const char *suite_name(const json_t *test)
{
    const char *n = json_string_value(json_object_get(test, "name"));
    return n ? n : "faultline";
}

/* The checker's explanation of res in words; "" when it has none. Caller
 * frees with free() (open_memstream's buffer); NULL when out of memory. */
static char *explain(const char *checker_name, const json_t *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    const checker *c;
    if (checker_find(checker_name, &c, NULL) == FL_OK && c->explain_json)
        c->explain_json(res, f);
    fclose(f);
    return buf;
}

/* The first line of text, in a new buffer (free()). */
static char *first_line(const char *text)
{
    return strndup(text, strcspn(text, "\n"));
}

/* The lines about one key: the one beginning "key NAME:" and the indented
 * ones after it, as the checkers write them. NULL if none (free()). */
static char *key_block(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1
                                                        : p + strlen(p)) {
        if (strncmp(p, "key ", 4) != 0 || strncmp(p + 4, key, kl) != 0 ||
            p[4 + kl] != ':')
            continue;
        const char *e = strchr(p, '\n');
        while (e && e[1] == ' ')
            e = strchr(e + 1, '\n');
        return strndup(p, e ? (size_t)(e - p) : strlen(p));
    }
    return NULL;
}

/* ---- junit.xml ------------------------------------------------------------------- */

/* XML 1.0 text or attribute value: the five specials escaped, control
 * characters XML forbids dropped, and in attributes the line breaks kept
 * as references (a parser would fold them into spaces). UTF-8 passes. */
static void xml_escape(FILE *out, const char *s, bool attr)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs(attr ? "&quot;" : "\"", out); break;
        case '\'': fputs(attr ? "&apos;" : "'", out); break;
        case '\n': fputs(attr ? "&#10;" : "\n", out); break;
        case '\t': fputs(attr ? "&#9;" : "\t", out); break;
        case '\r': fputs("&#13;", out); break;
        default:
            if (ch >= 0x20 && ch != 0x7f)
                fputc(ch, out);
        }
    }
}

typedef struct junit_counts {
    int tests, failures, errors;
} junit_counts;

/* One <testcase>; verdict "invalid" adds a <failure>, "unknown" an
 * <error>, each with message and text (text may be NULL). */
static void junit_case(FILE *out, junit_counts *n, const char *suite,
                       const char *name, double time_s, const char *verdict,
                       const char *message, const char *text)
{
    n->tests++;
    fputs("    <testcase classname=\"", out);
    xml_escape(out, suite, true);
    fputs("\" name=\"", out);
    xml_escape(out, name, true);
    fprintf(out, "\" time=\"%.3f\"", time_s);
    bool failed = strcmp(verdict, "invalid") == 0;
    if (!failed && strcmp(verdict, "unknown") != 0) {
        fputs("/>\n", out);
        return;
    }
    const char *tag = failed ? "failure" : "error";
    failed ? n->failures++ : n->errors++;
    fprintf(out, ">\n      <%s message=\"", tag);
    xml_escape(out, message, true);
    fprintf(out, "\" type=\"%s\">", verdict);
    xml_escape(out, text ? text : message, false);
    fprintf(out, "</%s>\n    </testcase>\n", tag);
}

/* The per-key cases of one checker: each key of per_key not valid. */
static void junit_keys(FILE *out, junit_counts *n, const char *suite,
                       const char *checker_name, const json_t *res,
                       const char *words)
{
    const char *key;
    const json_t *k;
    json_object_foreach((json_t *)json_object_get(res, "per_key"), key, k) {
        const char *v = verdict_word(json_object_get(k, "valid"));
        if (strcmp(v, "valid") == 0)
            continue;
        char name[512], fallback[512];
        snprintf(name, sizeof name, "%s key %s", checker_name, key);
        const char *reason = json_string_value(json_object_get(k, "reason"));
        snprintf(fallback, sizeof fallback, "key %s: %s%s%s", key, v,
                 reason ? ": " : "", reason ? reason : "");
        char *block = key_block(words, key);
        char *msg = block ? first_line(block) : NULL;
        junit_case(out, n, suite, name, 0.0, v, msg ? msg : fallback,
                   block ? block : fallback);
        free(msg);
        free(block);
    }
}

int report_junit(const json_t *results, const json_t *test, FILE *out,
                 fl_error *err)
{
    const char *suite = suite_name(test), *name;
    const json_t *res;
    junit_counts n = {0};
    char *body = NULL;
    size_t len = 0;
    FILE *b = open_memstream(&body, &len);
    if (b == NULL)
        return fl_error_set(err, FL_ENOMEM, "junit.xml: out of memory");
    json_object_foreach((json_t *)json_object_get(results, "checkers"), name,
                        res) {
        const char *v = verdict_word(json_object_get(res, "valid"));
        char *words = explain(name, res);
        char *line = words && *words ? first_line(words) : NULL;
        double ms = json_number_value(json_object_get(res, "elapsed_ms"));
        junit_case(b, &n, suite, name, ms / 1000.0, v, line ? line : v,
                   words && *words ? words : NULL);
        junit_keys(b, &n, suite, name, res, words ? words : "");
        free(line);
        free(words);
    }
    fclose(b);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<testsuites name=\"faultline\" tests=\"%d\" failures=\"%d\""
            " errors=\"%d\">\n  <testsuite name=\"", n.tests, n.failures,
            n.errors);
    xml_escape(out, suite, true);
    fprintf(out, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
            "skipped=\"0\">\n", n.tests, n.failures, n.errors);
    fputs(body ? body : "", out);
    fputs("  </testsuite>\n</testsuites>\n", out);
    free(body);
    return ferror(out) ? fl_error_set(err, FL_EIO, "junit.xml: write failed")
                       : FL_OK;
}

/* ---- summary.md ------------------------------------------------------------------- */

/* A table cell: '|' escaped, line breaks as spaces. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
    }
}

/* What a checker found beyond its verdict, from the fields any result may
 * carry (checkers/checker.h): its named anomaly, or why a budget ran out. */
static void md_detail(FILE *out, const json_t *res)
{
    const char *anomaly = json_string_value(json_object_get(res, "anomaly"));
    const char *kind = json_string_value(json_object_get(res, "anomaly_kind"));
    const char *reason = json_string_value(json_object_get(res, "reason"));
    if (anomaly && strcmp(anomaly, "none") != 0) {
        fputs("anomaly: ", out);
        md_cell(out, anomaly);
        if (kind) {
            fputs(" (", out);
            md_cell(out, kind);
            fputc(')', out);
        }
    } else if (reason) {
        md_cell(out, reason);
    }
}

/* Does res show something wrong: not valid, or an anomaly under a valid
 * verdict (one a weaker guarantee allows)? */
static bool md_anomalous(const json_t *res)
{
    const char *anomaly = json_string_value(json_object_get(res, "anomaly"));
    return !json_is_true(json_object_get(res, "valid")) ||
           (anomaly && strcmp(anomaly, "none") != 0);
}

/* The first SUMMARY_LINES lines of text in a fence longer than any run of
 * backticks inside it. */
static void md_fenced(FILE *out, const char *text)
{
    int run = 0, longest = 0;
    for (const char *p = text; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    int fence = longest >= 3 ? longest + 1 : 3;
    fprintf(out, "%.*s\n", fence, "``````````````````````````````````");
    const char *p = text;
    for (int i = 0; *p && i < SUMMARY_LINES; i++) {
        size_t l = strcspn(p, "\n");
        fprintf(out, "%.*s\n", (int)l, p);
        p += l + (p[l] == '\n');
    }
    if (*p)
        fputs("...\n", out);
    fprintf(out, "%.*s\n", fence, "``````````````````````````````````");
}

int report_summary(const json_t *results, const json_t *test, FILE *out,
                   fl_error *err)
{
    const char *v = verdict_word(json_object_get(results, "valid"));
    const char *workload = json_string_value(json_object_get(results,
                                                             "workload"));
    const char *target = json_string_value(json_object_get(test, "target"));
    const char *ended = json_string_value(json_object_get(results, "ended"));
    fprintf(out, "# faultline: %s — %s\n\n",
            strcmp(v, "valid") == 0 ? "valid" : strcmp(v, "invalid") == 0
                                                    ? "INVALID" : "unknown",
            suite_name(test));
    fprintf(out, "%s workload on %s; run ended: %s; %lld events.\n\n",
            workload ? workload : "register", target ? target : "-",
            ended ? ended : "not recorded",
            (long long)json_integer_value(json_object_get(results, "events")));
    fputs("| checker | verdict | detail |\n|---|---|---|\n", out);
    const char *name, *first = NULL;
    const json_t *res, *first_res = NULL;
    json_object_foreach((json_t *)json_object_get(results, "checkers"), name,
                        res) {
        fputs("| ", out);
        md_cell(out, name);
        fprintf(out, " | %s | ", verdict_word(json_object_get(res, "valid")));
        md_detail(out, res);
        fputs(" |\n", out);
        if (first == NULL && md_anomalous(res)) {
            first = name;
            first_res = res;
        }
    }
    if (first != NULL) {
        char *words = explain(first, first_res);
        fprintf(out, "\n## First anomaly: %s\n\n", first);
        md_fenced(out, words && *words ? words : "(no explanation)");
        free(words);
    }
    return ferror(out) ? fl_error_set(err, FL_EIO, "summary.md: write failed")
                       : FL_OK;
}

/* ---- The files --------------------------------------------------------------------- */

typedef int (*report_writer)(const json_t *, const json_t *, FILE *,
                             fl_error *);

/* Write dir/file whole: aside first, then renamed over it. */
static int write_file(const char *dir, const char *file, report_writer w,
                      const json_t *results, const json_t *test,
                      fl_error *err)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return fl_error_set(err, FL_EIO, "%s: %s", tmp, strerror(errno));
    int rc = w(results, test, f, err);
    if (fclose(f) != 0 && rc == FL_OK)
        rc = fl_error_set(err, FL_EIO, "%s: %s", tmp, strerror(errno));
    if (rc == FL_OK && rename(tmp, path) != 0)
        rc = fl_error_set(err, FL_EIO, "%s: %s", path, strerror(errno));
    if (rc != FL_OK)
        remove(tmp);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run's files to link from report.html, relative to dir: those of
 * run_store.h that exist, then nodes/NODE/FILE, sorted. NULL-terminated;
 * free with free_files(). NULL when out of memory. */
static char **run_files(const char *dir)
{
    static const char *const known[] = {"history.edn", "results.json",
                                        "junit.xml", "summary.md",
                                        "faultline.log", NULL};
    size_t n = 0, cap = 16;
    char **files = fl_calloc(cap, sizeof *files), path[4096];
    for (const char *const *k = known; files && *k; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, *k);
        if (access(path, F_OK) == 0)
            files[n++] = fl_strdup(*k);
    }
    size_t nodes_from = n;
    snprintf(path, sizeof path, "%s/nodes", dir);
    DIR *d = files ? opendir(path) : NULL;
    struct dirent *node;
    while (d && (node = readdir(d)) != NULL) {
        if (node->d_name[0] == '.')
            continue;
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/nodes/%s", dir, node->d_name);
        DIR *nd = opendir(sub);
        struct dirent *f;
        while (nd && (f = readdir(nd)) != NULL) {
            if (f->d_name[0] == '.')
                continue;
            if (n + 2 > cap) {
                char **more = fl_realloc(files, 2 * cap * sizeof *files);
                if (more == NULL)
                    break;
                files = more;
                cap *= 2;
            }
            char rel[600];
            snprintf(rel, sizeof rel, "nodes/%s/%s", node->d_name, f->d_name);
            files[n++] = fl_strdup(rel);
        }
        if (nd)
            closedir(nd);
    }
    if (d)
        closedir(d);
    if (files) {
        files[n] = NULL;
        qsort(files + nodes_from, n - nodes_from, sizeof *files, cmp_str);
    }
    return files;
}

static void free_files(char **files)
{
    for (char **f = files; f && *f; f++)
        fl_free(*f);
    fl_free(files);
}

/* dir/report.html from results and test, with h (or dir/history.jsonl,
 * when h is NULL and it can be read: a report without it still gives
 * the verdicts and counterexamples). */
static int write_html(const char *dir, const history *h, const json_t *results,
                      const json_t *test, fl_error *err)
{
    char path[4096], tmp[4200];
    history *own = NULL;
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    bool have_history = access(path, F_OK) == 0;
    if (h == NULL && have_history) {
        fl_error ignored = {0};
        if (history_read_file(path, HISTORY_FORMAT_JSONL, &own, &ignored)
            == FL_OK)
            h = own;
    }
    snprintf(path, sizeof path, "%s/test.json", dir);
    char **files = run_files(dir);
    const char *slash = strrchr(dir, '/');
    report_html_input in = {
        .title = json_string_value(json_object_get(test, "name")), .h = h,
        .results = results, .test = test,
        .history_href = have_history ? "history.jsonl" : NULL,
        .test_href = access(path, F_OK) == 0 ? "test.json" : NULL,
        .files = (const char *const *)files};
    char title[4200];
    if (in.title) {
        snprintf(title, sizeof title, "%s %s", in.title,
                 slash ? slash + 1 : dir);
        in.title = title;
    }
    snprintf(path, sizeof path, "%s/report.html", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = FL_OK;
    FILE *f = files ? fopen(tmp, "w") : NULL;
    if (files == NULL)
        rc = fl_error_set(err, FL_ENOMEM, "report.html: out of memory");
    else if (f == NULL)
        rc = fl_error_set(err, FL_EIO, "%s: %s", tmp, strerror(errno));
    if (f != NULL) {
        rc = report_html(&in, f, err);
        if (fclose(f) != 0 && rc == FL_OK)
            rc = fl_error_set(err, FL_EIO, "%s: %s", tmp, strerror(errno));
        if (rc == FL_OK && rename(tmp, path) != 0)
            rc = fl_error_set(err, FL_EIO, "%s: %s", path, strerror(errno));
        if (rc != FL_OK)
            remove(tmp);
    }
    free_files(files);
    history_free(own);
    return rc;
}

int report_write_dir(const char *dir, fl_error *err)
{
    return report_write_run(dir, NULL, err);
}

int report_write_run(const char *dir, const history *h, fl_error *err)

{
    char path[4096];
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_error_t je;
    bool absent = access(path, F_OK) != 0;
    json_t *results = absent ? NULL : json_load_file(path, 0, &je);
    if (absent)
        return fl_error_set(err, FL_ENOINPUT, "%s: no such file (check the "
                            "run first: faultline analyze %s)", path, dir);
    if (results == NULL)
        return fl_error_set(err, FL_EDATA,
                            "%s: %s (check the run first: faultline analyze "
                            "%s)", path, je.text, dir);
    if (!json_is_object(json_object_get(results, "checkers"))) {
        json_decref(results);
        return fl_error_set(err, FL_EDATA, "%s: field \"checkers\": not an "
                            "object; not a run's results", path);
    }
    snprintf(path, sizeof path, "%s/test.json", dir);
    json_t *test = json_load_file(path, 0, &je); /* optional */
    int rc = write_file(dir, "junit.xml", report_junit, results, test, err);
    if (rc == FL_OK)
        rc = write_file(dir, "summary.md", report_summary, results, test,
                        err);
    if (rc == FL_OK)
        rc = write_html(dir, h, results, test, err);
    json_decref(test);
    json_decref(results);
    return rc;
}
