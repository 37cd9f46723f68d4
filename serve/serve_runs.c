/*
 * serve_runs.c — the run list (which runs, in what order, what each says)
 * and the HTML pages the server sends: the list and directory listings.
 * Everything a run's JSON does not say is shown as a dash, never guessed.
 */
#include "serve/serve.h"
#include "base/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- One run's description ------------------------------------------------------ */

static serve_verdict verdict_of(const json_t *results)
{
    if (results == NULL)
        return SERVE_NOT_CHECKED;
    const json_t *v = json_object_get(results, "valid");
    if (json_is_true(v))
        return SERVE_VALID;
    return json_is_false(v) ? SERVE_INVALID : SERVE_UNKNOWN;
}

/* A copy of o[key] if it is a string, else NULL; *oom on failure. */
static char *string_field(const json_t *o, const char *key, bool *oom)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL)
        return NULL;
    char *c = fl_strdup(s);
    *oom |= c == NULL;
    return c;
}

static long long max_checker_ops(const json_t *results)
{
    long long ops = -1;
    const char *name;
    json_t *res;
    json_object_foreach(json_object_get(results, "checkers"), name, res) {
        json_t *o = json_object_get(res, "ops");
        if (json_is_integer(o) && json_integer_value(o) > ops)
            ops = json_integer_value(o);
    }
    return ops;
}

int serve_run_describe(serve_run *r, const json_t *test, const json_t *results,
                       fl_error *err)
{
    bool oom = false;
    r->verdict = verdict_of(results);
    r->target = string_field(test, "target", &oom);
    r->workload = string_field(results, "workload", &oom);
    if (r->workload == NULL)
        r->workload = string_field(test, "workload", &oom);
    r->nemesis = string_field(test, "nemesis", &oom);
    r->ended = string_field(results, "ended", &oom);
    if (r->ended == NULL)
        r->ended = string_field(test, "ended", &oom);
    json_t *tl = json_object_get(test, "time_limit");
    r->duration_s = json_is_number(tl) ? json_number_value(tl) : -1;
    json_t *ev = json_object_get(results, "events");
    r->events = json_is_integer(ev) ? json_integer_value(ev) : -1;
    r->ops = max_checker_ops(results);
    if (oom)
        return fl_error_set(err, FL_ENOMEM, "out of memory describing a run");
    return FL_OK;
}

static int run_order(const void *pa, const void *pb)
{
    const serve_run *a = pa, *b = pb;
    int c = strcmp(b->time, a->time);
    return c ? c : strcmp(a->test, b->test);
}

void serve_runs_sort(serve_runs *runs)
{
    if (runs->n > 1)
        qsort(runs->run, runs->n, sizeof *runs->run, run_order);
}

static void run_free(serve_run *r)
{
    fl_free(r->test);
    fl_free(r->time);
    fl_free(r->target);
    fl_free(r->workload);
    fl_free(r->nemesis);
    fl_free(r->ended);
}

void serve_runs_free(serve_runs *runs)
{
    if (runs == NULL)
        return;
    for (size_t i = 0; i < runs->n; i++)
        run_free(&runs->run[i]);
    fl_free(runs->run);
    fl_free(runs);
}

/* ---- Scanning the directory ------------------------------------------------------ */

/* A subdirectory, not a symlink to one (results/latest), not a dotfile. */
static bool is_dir_entry(const char *parent, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    if (name[0] == '.' ||
        (size_t)snprintf(p, sizeof p, "%s/%s", parent, name) >= sizeof p)
        return false;
    return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static unsigned files_of(const char *dir)
{
    static const struct {
        const char *name;
        unsigned bit;
    } files[] = {
        {"report.html", SERVE_HAS_REPORT}, {"history.jsonl", SERVE_HAS_HISTORY},
        {"results.json", SERVE_HAS_RESULTS}, {"test.json", SERVE_HAS_TEST},
        {"junit.xml", SERVE_HAS_JUNIT}, {"summary.md", SERVE_HAS_SUMMARY},
        {"nodes", SERVE_HAS_NODES},
    };
    unsigned has = 0;
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, files[i].name) <
                sizeof p && access(p, R_OK) == 0)
            has |= files[i].bit;
    return has;
}

static json_t *load_json(const char *dir, const char *name)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, name) >= sizeof p)
        return NULL;
    json_t *j = json_load_file(p, 0, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int push_run(serve_runs *runs, size_t *cap, const char *test,
                    const char *time, const char *dir, fl_error *err)
{
    unsigned has = files_of(dir);
    if (!(has & (SERVE_HAS_TEST | SERVE_HAS_RESULTS)))
        return FL_OK;
    if (runs->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        serve_run *nr = fl_realloc(runs->run, nc * sizeof *nr);
        if (nr == NULL)
            return fl_error_set(err, FL_ENOMEM, "out of memory listing runs");
        runs->run = nr;
        *cap = nc;
    }
    serve_run *r = &runs->run[runs->n++];
    memset(r, 0, sizeof *r);
    r->test = fl_strdup(test);
    r->time = fl_strdup(time);
    r->files = has;
    json_t *t = load_json(dir, "test.json"), *res = load_json(dir, "results.json");
    int rc = serve_run_describe(r, t, res, err);
    json_decref(t);
    json_decref(res);
    if (rc == FL_OK && (r->test == NULL || r->time == NULL))
        rc = fl_error_set(err, FL_ENOMEM, "out of memory listing runs");
    return rc;
}

/* Every run directory in root/test. */
static int scan_test(serve_runs *runs, size_t *cap, const char *root,
                     const char *test, fl_error *err)
{
    char tdir[PATH_MAX], rdir[PATH_MAX];
    if ((size_t)snprintf(tdir, sizeof tdir, "%s/%s", root, test) >= sizeof tdir)
        return FL_OK;
    DIR *d = opendir(tdir);
    if (d == NULL)
        return FL_OK; /* gone or unreadable since the root was read */
    int rc = FL_OK;
    for (struct dirent *e; rc == FL_OK && (e = readdir(d)) != NULL;) {
        if (!is_dir_entry(tdir, e->d_name))
            continue;
        if ((size_t)snprintf(rdir, sizeof rdir, "%s/%s", tdir, e->d_name) <
            sizeof rdir)
            rc = push_run(runs, cap, test, e->d_name, rdir, err);
    }
    closedir(d);
    return rc;
}

int serve_runs_scan(const char *root, serve_runs **out, fl_error *err)
{
    DIR *d = opendir(root);
    if (d == NULL)
        return fl_error_set(err, FL_ENOINPUT, "cannot read %s: %s", root,
                            strerror(errno));
    serve_runs *runs = fl_calloc(1, sizeof *runs);
    int rc = runs ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    size_t cap = 0;
    for (struct dirent *e; rc == FL_OK && (e = readdir(d)) != NULL;)
        if (is_dir_entry(root, e->d_name))
            rc = scan_test(runs, &cap, root, e->d_name, err);
    closedir(d);
    if (rc != FL_OK) {
        serve_runs_free(runs);
        return rc;
    }
    serve_runs_sort(runs);
    *out = runs;
    return FL_OK;
}

/* ---- HTML ------------------------------------------------------------------------ */

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
}

/* A path segment inside an href: everything but unreserved bytes escaped,
 * so a name with '?', '#', '"' or spaces still links to itself. */
static void url_segment(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~", *p))
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
}

static void html_or_dash(FILE *out, const char *s)
{
    if (s)
        html_text(out, s);
    else
        fputs("&mdash;", out);
}

static const char *verdict_class(serve_verdict v)
{
    static const char *const names[] = {"valid", "invalid", "unknown",
                                        "not-checked"};
    return names[v];
}

static const char *verdict_words(serve_verdict v)
{
    static const char *const words[] = {"valid", "INVALID", "unknown",
                                        "not checked"};
    return words[v];
}

static const char PAGE_CSS[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse}td,th{padding:.3em .7em;text-align:left;"
    "border-bottom:1px solid #ddd;vertical-align:top}th{background:#f4f4f4}"
    "tr.valid td.verdict{background:#d8f3dc;color:#1b5e20}"
    "tr.invalid td.verdict{background:#ffd6d6;color:#b71c1c;font-weight:bold}"
    "tr.unknown td.verdict{background:#fff3cd;color:#8a6d00}"
    "tr.not-checked td.verdict{background:#eee;color:#666}"
    "td.num{text-align:right}a{color:#0b5394}code{font-size:13px}";

static void page_head(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>", out);
    html_text(out, title);
    fprintf(out, "</title><style>%s</style></head><body>\n<h1>", PAGE_CSS);
    html_text(out, title);
    fputs("</h1>\n", out);
}

static void file_link(FILE *out, const serve_run *r, unsigned bit,
                      const char *name)
{
    if (!(r->files & bit))
        return;
    fputs(" <a href=\"/", out);
    url_segment(out, r->test);
    fputc('/', out);
    url_segment(out, r->time);
    fprintf(out, "/%s\">%s</a>", name, name);
}

static void run_row(FILE *out, const serve_run *r)
{
    fprintf(out, "<tr class=\"run %s\"><td class=\"verdict\">%s</td><td>",
            verdict_class(r->verdict), verdict_words(r->verdict));
    html_text(out, r->test);
    fputs("</td><td><a href=\"/", out);
    url_segment(out, r->test);
    fputc('/', out);
    url_segment(out, r->time);
    fputs("/\">", out);
    html_text(out, r->time);
    fputs("</a></td><td>", out);
    html_or_dash(out, r->target);
    fputs("</td><td>", out);
    html_or_dash(out, r->workload);
    fputs("</td><td>", out);
    html_or_dash(out, r->nemesis);
    if (r->duration_s >= 0)
        fprintf(out, "</td><td class=\"num\">%g s", r->duration_s);
    else
        fputs("</td><td class=\"num\">&mdash;", out);
    if (r->ops >= 0)
        fprintf(out, "</td><td class=\"num\">%lld", r->ops);
    else
        fputs("</td><td class=\"num\">&mdash;", out);
    fputs("</td><td>", out);
    html_or_dash(out, r->ended);
    fputs("</td><td>", out);
    file_link(out, r, SERVE_HAS_REPORT, "report.html");
    file_link(out, r, SERVE_HAS_SUMMARY, "summary.md");
    file_link(out, r, SERVE_HAS_JUNIT, "junit.xml");
    file_link(out, r, SERVE_HAS_RESULTS, "results.json");
    file_link(out, r, SERVE_HAS_TEST, "test.json");
    file_link(out, r, SERVE_HAS_HISTORY, "history.jsonl");
    file_link(out, r, SERVE_HAS_NODES, "nodes/");
    fputs("</td></tr>\n", out);
}

int serve_runs_html(const serve_runs *runs, const char *title, FILE *out,
                    fl_error *err)
{
    page_head(out, title);
    if (runs->n == 0)
        fputs("<p>No runs yet: <code>faultline test</code> stores them "
              "here.</p>\n", out);
    fprintf(out, "<p>%zu runs, newest first.</p>\n<table>\n<tr><th>verdict"
                 "</th><th>test</th><th>run</th><th>target</th><th>workload"
                 "</th><th>nemesis</th><th>duration</th><th>ops</th><th>ended"
                 "</th><th>files</th></tr>\n", runs->n);
    for (size_t i = 0; i < runs->n; i++)
        run_row(out, &runs->run[i]);
    fputs("</table>\n</body></html>\n", out);
    if (ferror(out))
        return fl_error_set(err, FL_EIO, "cannot write the run list");
    return FL_OK;
}

/* ---- Directory listings ---------------------------------------------------------- */

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir's entries, dotfiles left out, sorted; *out and each name the
 * caller's (fl_free). */
static int read_names(const char *dir, char ***out, size_t *n, fl_error *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return fl_error_set(err, FL_ENOINPUT, "cannot read %s: %s", dir,
                            strerror(errno));
    char **names = NULL;
    size_t len = 0, cap = 0;
    int rc = FL_OK;
    for (struct dirent *e; rc == FL_OK && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        if (len == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = fl_realloc(names, cap * sizeof *nn);
            if (nn == NULL) {
                rc = fl_error_set(err, FL_ENOMEM, "out of memory");
                break;
            }
            names = nn;
        }
        if ((names[len] = fl_strdup(e->d_name)) == NULL)
            rc = fl_error_set(err, FL_ENOMEM, "out of memory");
        else
            len++;
    }
    closedir(d);
    if (len > 1)
        qsort(names, len, sizeof *names, name_order);
    *out = names;
    *n = len;
    return rc;
}

static void listing_row(FILE *out, const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    bool ok = (size_t)snprintf(p, sizeof p, "%s/%s", dir, name) < sizeof p &&
              stat(p, &st) == 0;
    bool is_dir = ok && S_ISDIR(st.st_mode);
    fputs("<tr><td><a href=\"", out);
    url_segment(out, name);
    fputs(is_dir ? "/\">" : "\">", out);
    html_text(out, name);
    fputs(is_dir ? "/</a></td><td class=\"num\">" : "</a></td><td class=\"num\">",
          out);
    if (ok && !is_dir)
        fprintf(out, "%lld", (long long)st.st_size);
    fputs("</td></tr>\n", out);
}

int serve_listing_html(const char *dir, const char *url_path, FILE *out,
                       fl_error *err)
{
    char **names = NULL;
    size_t n = 0;
    int rc = read_names(dir, &names, &n, err);
    if (rc == FL_OK) {
        page_head(out, url_path);
        fputs("<p><a href=\"/\">all runs</a> &middot; <a href=\"../\">up</a>"
              "</p>\n<table>\n<tr><th>name</th><th>bytes</th></tr>\n", out);
        for (size_t i = 0; i < n; i++)
            listing_row(out, dir, names[i]);
        fputs("</table>\n</body></html>\n", out);
        if (ferror(out))
            rc = fl_error_set(err, FL_EIO, "cannot write a listing");
    }
    for (size_t i = 0; i < n; i++)
        fl_free(names[i]);
    fl_free(names);
    return rc;
}
